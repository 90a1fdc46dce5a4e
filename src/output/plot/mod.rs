//! Plots (PNG and SVG) drawn from finished summaries: fan charts of the caseload, stacked caseload, and
//! cost per year with P10-P90 bands.
//!
//! Text is rendered with DejaVu Sans, embedded in the binary (`assets/fonts`, free licence), so a PNG
//! looks the same on every machine whatever fonts it has (see [`crate::output::plot::raster`]). An SVG does
//! not carry the font: it names DejaVu Sans first, then Bitstream Vera Sans (the same letters) and the
//! generic sans-serif, so a viewer without DejaVu Sans shows its own sans-serif.

pub mod raster;
pub mod tornado;

use crate::aggregate::paired::{Difference, Period};
use crate::aggregate::{Account, KpiCell};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::model::scope::REGION;
use crate::output::Staged;
use crate::output::lang::{Lang, arm_label, by_state, people, people_title, scope_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

/// The embedded font.
pub(crate) static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The font family as an SVG names it: DejaVu Sans first, with fallbacks.
pub(crate) const FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, sans-serif";
const SIZE: (u32, u32) = (960, 540);
const BLUE: RGBColor = RGBColor(31, 94, 168);
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 94, 168),
    RGBColor(230, 126, 34),
    RGBColor(46, 139, 87),
    RGBColor(192, 57, 43),
    RGBColor(142, 68, 173),
    RGBColor(127, 140, 141),
    RGBColor(241, 196, 15),
    RGBColor(22, 160, 133),
];

pub(crate) fn register_font() {
    static DONE: Once = Once::new();
    DONE.call_once(|| {
        // The font is a fixed, valid file: registration cannot fail at run time.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Largest magnitude an axis shows (non-finite results are refused before anything is drawn).
const AXIS_MAX: f64 = 1e100;

/// An axis range plotters can draw: a non-finite or enormous end becomes a finite one, and a range too
/// narrow for its magnitude (where adding a tick step no longer changes a number, so the tick search
/// never ends) is widened around its middle. Ranges of ordinary results come back unchanged.
pub fn axis(r: std::ops::Range<f64>) -> std::ops::Range<f64> {
    let fix = |x: f64| {
        if x.is_nan() {
            0.0
        } else {
            x.clamp(-AXIS_MAX, AXIS_MAX)
        }
    };
    let (lo, hi) = (fix(r.start), fix(r.end));
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let min_width = (lo.abs().max(hi.abs()) * 1e-9).max(1e-9);
    if hi - lo >= min_width {
        return lo..hi;
    }
    let mid = lo / 2.0 + hi / 2.0;
    mid - min_width..mid + min_width
}

/// The time axis of a figure over months (cycle indices): a label at every January, a light line at
/// every quarter; on a horizon with fewer than two Januaries, a label every quarter (or every month).
struct Months {
    range: std::ops::Range<f64>,
    keys: Vec<f64>,
    light: Vec<f64>,
}

impl Months {
    fn new(m: &Model, cycles: usize) -> Months {
        let at = |every: u32| -> Vec<f64> {
            (0..cycles)
                .filter(|&c| (m.date(c as u32).month - 1).is_multiple_of(every))
                .map(|c| c as f64)
                .collect()
        };
        let (years, quarters) = (at(12), at(3));
        let keys = if years.len() > 12 {
            // A long horizon (a yearly model): every 2nd, 5th, 10th ... January, at most 12 labels.
            let every = [2, 5, 10, 20, 25, 50, 100]
                .into_iter()
                .find(|&k| years.len().div_ceil(k) <= 12)
                .unwrap_or(years.len());
            years.iter().copied().step_by(every).collect()
        } else if years.len() >= 2 {
            years
        } else if quarters.len() >= 2 {
            quarters.clone()
        } else {
            at(1)
        };
        Months {
            range: axis(0f64..(cycles - 1).max(1) as f64),
            keys,
            light: quarters,
        }
    }
}

impl plotters::coord::ranged1d::Ranged for Months {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (self.range.start, self.range.end);
        let share = (value - lo) / (hi - lo);
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// The label of a time axis tick at cycle `c`: `jan 2022`, or the year alone when every cycle is a
/// whole number of years (a yearly model).
fn month_tick(lang: Lang, m: &Model, c: f64) -> String {
    let date = m.date(c.round().max(0.0) as u32);
    if m.cycle_months.is_multiple_of(12) {
        date.year.to_string()
    } else {
        lang.month(date)
    }
}

/// How many labels an axis of counts (clients) gets over a range of `width`: at most plotters'
/// default of 11, and no more than one per whole count, so that a small area's axis does not label
/// 0.25 and 0.5 as "0" and "1".
fn count_labels(width: f64) -> usize {
    if width.is_finite() {
        (width.max(0.0).floor() as usize + 1).clamp(2, 11)
    } else {
        11
    }
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// What a legend entry shows beside its name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A horizontal line of this colour and width.
    Line(RGBAColor, u32),
    /// A filled block (a band, a bar, a stacked area).
    Block(RGBAColor),
    /// A band with a line through it: the band's fill, the line's colour and width.
    Band(RGBAColor, RGBAColor, u32),
    /// A vertical line of this colour and width (an interval, a pilot start).
    Interval(RGBAColor, u32),
    /// A filled dot of this radius.
    Dot(RGBAColor, u32),
    /// An open circle of this radius.
    Ring(RGBAColor, u32),
}

/// A legend entry: its name and its swatch.
pub(crate) type Entry = (String, Swatch);

/// The frame of every legend; a figure draws nothing else in this colour, so that a test can find the
/// legend in an SVG.
pub const LEGEND_FRAME: RGBColor = RGBColor(150, 150, 150);

/// Draws a swatch in the 20-unit cell whose left middle is `(x, y)`.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    (x, y): (i32, i32),
    swatch: Swatch,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    match swatch {
        Swatch::Line(c, w) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                c.stroke_width(w),
            ))?;
        }
        Swatch::Block(c) => {
            area.draw(&Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.filled()))?;
        }
        Swatch::Band(fill, line, w) => {
            area.draw(&Rectangle::new(
                [(x, y - 6), (x + 20, y + 6)],
                fill.filled(),
            ))?;
            area.draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                line.stroke_width(w),
            ))?;
        }
        Swatch::Interval(c, w) => {
            area.draw(&PathElement::new(
                vec![(x + 10, y - 8), (x + 10, y + 8)],
                c.stroke_width(w),
            ))?;
        }
        Swatch::Dot(c, r) => {
            area.draw(&Circle::new((x + 10, y), r, c.filled()))?;
        }
        Swatch::Ring(c, r) => {
            area.draw(&Circle::new((x + 10, y), r, c.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// Draws a legend of `entries` in `size`-point text at the foot of `area`, under everything a chart
/// draws, in as many centred rows as the width needs, and returns the area above it (the whole
/// area when there are no entries).
pub(crate) fn legend_below<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
    size: u32,
) -> std::result::Result<DrawingArea<DB, plotters::coord::Shift>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (w, h) = area.dim_in_pixel();
    let style = (FAMILY, size).into_font().into_text_style(area);
    let (pad, gap, cell) = (8i32, 24i32, 26i32);
    let room = w as i32 - 2 * pad - 24;
    // Entries flow into rows: (entry, x within the row) and each row's width.
    let mut rows: Vec<(Vec<(usize, i32)>, i32)> = vec![(Vec::new(), 0)];
    for (i, (name, _)) in entries.iter().enumerate() {
        let width = cell + area.estimate_text_size(name, &style)?.0 as i32;
        let row = rows.last_mut().expect("one row at least");
        if !row.0.is_empty() && row.1 + gap + width > room {
            rows.push((vec![(i, 0)], width));
        } else {
            let x = if row.0.is_empty() { 0 } else { row.1 + gap };
            row.0.push((i, x));
            row.1 = x + width;
        }
    }
    let row_h = (f64::from(size) * 1.55).ceil() as i32;
    let box_w = rows.iter().map(|r| r.1).max().unwrap_or(0) + 2 * pad;
    let box_h = rows.len() as i32 * row_h + pad;
    let height = (box_h + 14).min(h as i32 / 2).max(0) as u32;
    let (above, foot) = area.split_vertically(h - height);
    let x0 = (w as i32 - box_w) / 2;
    let y0 = 6;
    foot.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        LEGEND_FRAME.stroke_width(1),
    ))?;
    for (r, (row, row_w)) in rows.iter().enumerate() {
        let left = (w as i32 - row_w) / 2;
        let y = y0 + pad / 2 + r as i32 * row_h + row_h / 2;
        for &(i, x) in row {
            let (name, swatch) = &entries[i];
            draw_swatch(&foot, (left + x, y), *swatch)?;
            foot.draw(&Text::new(
                name.clone(),
                (left + x + cell, y),
                style.clone().pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            ))?;
        }
    }
    Ok(above)
}

/// The legend of the arms' bands: per arm its colour, the band filled at `mix`, the baseline's line
/// `baseline_width` wide and the others' 2.
fn arm_bands(
    lang: Lang,
    m: &Model,
    summaries: &[ArmTables],
    mix: f64,
    baseline_width: u32,
) -> Vec<Entry> {
    summaries
        .iter()
        .enumerate()
        .map(|(a, sm)| {
            let color = PALETTE[a % PALETTE.len()];
            let width = if a == 0 { baseline_width } else { 2 };
            (
                arm_label(lang, m, &sm.arm),
                Swatch::Band(color.mix(mix), color.to_rgba(), width),
            )
        })
        .collect()
}

/// The name of a time axis over cycles: `maand` for monthly cycles, `jaar` for yearly ones.
fn cycle_axis(lang: Lang, m: &Model) -> String {
    match m.cycle_months {
        1 => lang.t("maand", "month").into(),
        12 => lang.t("jaar", "year").into(),
        n => format!(
            "{} ({n} {})",
            lang.t("cyclus", "cycle"),
            lang.t("maanden", "months")
        ),
    }
}

/// A legend entry for a pilot start in a figure of the arms of `summaries`: a vertical line.
fn start_entry(lang: Lang, m: &Model, start: u32, summaries: &[ArmTables]) -> Entry {
    (
        start_label(lang, m, start, summaries),
        Swatch::Interval(BLACK.mix(0.6), 2),
    )
}

/// A drawing, rendered both as SVG text and as a PNG file.
pub trait Figure {
    /// Its size in pixels (SVG units): width, height.
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    /// Draws onto any backend.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Renders a figure as SVG text.
pub fn svg<F: Figure>(fig: &F) -> std::result::Result<String, String> {
    register_font();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

/// Renders a figure as PNG bytes: drawn at [`crate::output::plot::raster::png_scale`] (at least 1,600 pixels
/// wide, text in proportion) into an RGB buffer and encoded with fast deflate and adaptive filters
/// (measured on 1,400 figures: twice the size of the default level, but 1.6 ms a figure faster).
pub fn png_bytes<F: Figure>(fig: &F) -> std::result::Result<Vec<u8>, String> {
    register_font();
    let size = fig.size();
    let k = crate::output::plot::raster::png_scale(size.0);
    let (w, h) = (size.0 * k, size.1 * k);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = crate::output::plot::raster::Png::new(&mut rgb, size, k).into_drawing_area();
        fig.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::FilterType::Sub);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Renders a figure into a PNG file.
pub fn png<F: Figure>(fig: &F, path: &Path) -> std::result::Result<(), String> {
    let bytes = png_bytes(fig)?;
    crate::output::write_atomic(path, &bytes).map_err(|e| match std::error::Error::source(&e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    })
}

/// Fan chart: the caseload of one state over time in one arm, with p05-p95 and p25-p75 bands and the
/// median; the pilot start marked.
pub struct Fan<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arm's summary.
    pub summary: &'a ArmTables,
    /// State index.
    pub state: usize,
    /// The scope ([`crate::aggregate::Layout::scopes`]).
    pub scope: usize,
}

impl Figure for Fan<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, sm, s, lang) = (self.model, self.summary, self.state, self.lang);
        let lay = &sm.layout;
        let st: Vec<_> = (0..lay.cycles)
            .map(|c| *sm.caseload(self.scope, c, s))
            .collect();
        let top = st.iter().map(|x| x.q[4]).fold(1.0, f64::max) * 1.1;
        root.fill(&WHITE)?;
        let title = format!(
            "{} {}: {}",
            people_title(lang, m),
            state_label(lang, &m.states[s]),
            arm_label(lang, m, &sm.arm)
        );
        let area = titled(root, &[(&title, 22)])?;
        let start = pilot_start(m, &sm.arm);
        let mut entries = vec![
            (lang.interval(5), Swatch::Block(BLUE.mix(0.18))),
            (lang.interval(25), Swatch::Block(BLUE.mix(0.35))),
            (
                lang.t("mediaan", "median").to_string(),
                Swatch::Line(BLUE.to_rgba(), 2),
            ),
        ];
        entries.extend(start.map(|x| start_entry(lang, m, x, std::slice::from_ref(sm))));
        let area = legend_below(&area, &entries, 14)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(Months::new(m, lay.cycles), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(cycle_axis(lang, m))
            .y_desc(people(lang, m))
            .x_label_formatter(&|c| month_tick(lang, m, *c))
            .y_labels(count_labels(top))
            .y_label_formatter(&|v| lang.int(*v))
            .label_style((FAMILY, 14))
            .draw()?;
        let band = |lo: usize, hi: usize| -> Vec<(f64, f64)> {
            let up = st.iter().enumerate().map(|(c, x)| (c as f64, x.q[hi]));
            let down = st
                .iter()
                .enumerate()
                .rev()
                .map(|(c, x)| (c as f64, x.q[lo]));
            up.chain(down).collect()
        };
        chart.draw_series(std::iter::once(Polygon::new(band(0, 4), BLUE.mix(0.18))))?;
        chart.draw_series(std::iter::once(Polygon::new(band(1, 3), BLUE.mix(0.35))))?;
        chart.draw_series(LineSeries::new(
            st.iter().enumerate().map(|(c, x)| (c as f64, x.q[2])),
            BLUE.stroke_width(2),
        ))?;
        if let Some(start) = start {
            start_line(&mut chart, start, (0.0, top))?;
        }
        Ok(())
    }
}

/// The first cycle any area of an arm is under a budget regime.
pub fn pilot_start(m: &Model, arm: &str) -> Option<u32> {
    m.arms
        .iter()
        .find(|a| a.name == arm)?
        .plans
        .iter()
        .flatten()
        .map(|p| p.start)
        .min()
}

/// Whether a budget pool has a budget: its regime sets one (a regime without a budget, such as a
/// treatment strategy, has no budget to use, overspend or size).
pub fn budgeted(m: &Model, pool: &crate::model::regime::Pool) -> bool {
    m.regimes[pool.regime].budget != crate::model::regime::BudgetRule::Unlimited
}

/// Draws a title of one or more lines, each `(text, size)` and wrapped at spaces to the width, and
/// returns the area below it.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    lines: &[(&str, u32)],
) -> std::result::Result<DrawingArea<DB, plotters::coord::Shift>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let width = root.dim_in_pixel().0.saturating_sub(40);
    let mut area = root.margin(8, 0, 0, 0);
    for &(text, size) in lines {
        let style = (FAMILY, size).into_text_style(root);
        let mut line = String::new();
        let mut wrapped = Vec::new();
        for word in text.split(' ') {
            let next = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && root.estimate_text_size(&next, &style)?.0 > width {
                wrapped.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = next;
            }
        }
        wrapped.push(line);
        for l in wrapped {
            area = area.titled(&l, style.clone())?;
        }
    }
    Ok(area)
}

/// A state as figures name it: `WV (Waakvlam)`, or the code alone.
fn state_label(lang: Lang, state: &crate::model::State) -> String {
    match lang.t(&state.nl, &state.en) {
        "" => state.code.clone(),
        name => format!("{} ({name})", state.code),
    }
}

/// The arms a figure overlays: the first [`ARMS_DRAWN`] (the baseline first), whose colours differ
/// and whose bands can still be told apart; with `--plots all` the others have figures of their own.
pub fn overlaid(summaries: &[ArmTables]) -> &[ArmTables] {
    &summaries[..summaries.len().min(ARMS_DRAWN)]
}

/// Per arm, the caseload statistics of state `s` in `scope`, cycle by cycle.
fn caseload_stats(
    summaries: &[ArmTables],
    scope: usize,
    s: usize,
) -> Vec<Vec<crate::aggregate::Stats>> {
    summaries
        .iter()
        .map(|sm| {
            (0..sm.layout.cycles)
                .map(|c| *sm.caseload(scope, c, s))
                .collect()
        })
        .collect()
}

/// A tight axis range `(bottom, top)` around P5-P95 bands, padded by 8% (at least `min_pad`): the
/// difference between the arms is the point. The axis starts at 0 when the data come near it.
fn band_range(st: &[Vec<crate::aggregate::Stats>], min_pad: f64) -> (f64, f64) {
    let hi = st.iter().flatten().map(|x| x.q[4]).fold(1.0, f64::max);
    let lo = st
        .iter()
        .flatten()
        .map(|x| x.q[0])
        .fold(f64::MAX, f64::min)
        .min(hi);
    let pad = ((hi - lo) * 0.08).max(min_pad);
    let bottom = if lo - pad < (hi - lo) * 0.5 {
        0.0
    } else {
        lo - pad
    };
    (bottom, hi + pad)
}

/// The boundaries of one arm's stacked mean caseload in `scope`: `cum[k][c]` is the mean caseload of
/// the first `k` of `states` in cycle `c`.
fn stack(sm: &ArmTables, scope: usize, states: &[usize]) -> Vec<Vec<f64>> {
    let lay = &sm.layout;
    let mut cum = vec![vec![0.0; lay.cycles]];
    for &s in states {
        let below = cum.last().expect("starts with the zero line");
        let next = below
            .iter()
            .enumerate()
            .map(|(c, b)| b + sm.caseload(scope, c, s).mean)
            .collect();
        cum.push(next);
    }
    cum
}

/// A pilot start as a legend names it: `pilot start jan 2022`. Outside the Wmo no arm is a pilot: the
/// start of the arms of `summaries` that start then, by label (`start Combinatietherapie jan 1995`,
/// `start of Combination therapy Jan 1995`).
fn start_label(lang: Lang, m: &Model, start: u32, summaries: &[ArmTables]) -> String {
    if m.is_wmo() {
        return format!(
            "{} {}",
            lang.t("pilot start", "pilot starts"),
            lang.month(m.date(start))
        );
    }
    let arms: Vec<String> = summaries
        .iter()
        .filter(|sm| pilot_start(m, &sm.arm) == Some(start))
        .map(|sm| arm_label(lang, m, &sm.arm))
        .collect();
    format!(
        "{} {} {}",
        lang.t("start", "start of"),
        arms.join(", "),
        lang.month(m.date(start))
    )
}

/// The chart of a figure over months.
type MonthChart<'a, DB> = ChartContext<
    'a,
    DB,
    plotters::coord::cartesian::Cartesian2d<Months, plotters::coord::types::RangedCoordf64>,
>;

/// Draws a pilot start as a vertical line from `bottom` to `top` (named in the legend by
/// [`start_entry`]).
fn start_line<DB: DrawingBackend>(
    chart: &mut MonthChart<'_, DB>,
    start: u32,
    (bottom, top): (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x = f64::from(start);
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x, bottom), (x, top)],
        BLACK.mix(0.6).stroke_width(2),
    )))?;
    Ok(())
}

/// The caseload of one state over time in one scope for several arms overlaid (the baseline and the
/// pilots): each arm's p05-p95 band and median in its own colour, so the pilot's effect shows where the
/// region's numbers hide it; the pilot starts marked.
pub struct FanArms<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arms' summaries, baseline first.
    pub summaries: &'a [ArmTables],
    /// State index.
    pub state: usize,
    /// The scope ([`crate::aggregate::Layout::scopes`]).
    pub scope: usize,
}

impl Figure for FanArms<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, s, lang) = (self.model, self.state, self.lang);
        let lay = &self.summaries[0].layout;
        let st = caseload_stats(self.summaries, self.scope, s);
        let starts = pilot_starts(m, self.summaries);
        let (bottom, top) = band_range(&st, 1.0);
        root.fill(&WHITE)?;
        let title = format!(
            "{} {}: {}",
            people_title(lang, m),
            state_label(lang, &m.states[s]),
            scope_label(lang, m, &lay.scopes[self.scope])
        );
        let area = titled(root, &[(&title, 22)])?;
        let mut entries = arm_bands(lang, m, self.summaries, 0.16, 5);
        entries.push((
            format!(
                "{} {} {} {}",
                lang.t("lijn: mediaan;", "line: median;"),
                lang.t("band:", "band:"),
                lang.interval(5),
                lang.t("over de runs", "over runs")
            ),
            Swatch::Band(BLACK.mix(0.12), BLACK.mix(0.7), 2),
        ));
        entries.extend(
            starts
                .iter()
                .map(|&x| start_entry(lang, m, x, self.summaries)),
        );
        let area = legend_below(&area, &entries, 14)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(Months::new(m, lay.cycles), axis(bottom..top))?;
        chart
            .configure_mesh()
            .x_desc(cycle_axis(lang, m))
            .y_desc(people(lang, m))
            .x_label_formatter(&|c| month_tick(lang, m, *c))
            .y_labels(count_labels(top - bottom))
            .y_label_formatter(&|v| lang.int(*v))
            .label_style((FAMILY, 14))
            .draw()?;
        // The bands first, then the medians on top of every band: the baseline's widest, so that a
        // pilot's median on it (before the pilot starts they are the same) leaves it visible.
        for (a, x) in st.iter().enumerate() {
            let color = PALETTE[a % PALETTE.len()];
            let up = x.iter().enumerate().map(|(c, v)| (c as f64, v.q[4]));
            let down = x.iter().enumerate().rev().map(|(c, v)| (c as f64, v.q[0]));
            chart.draw_series(std::iter::once(Polygon::new(
                up.chain(down).collect::<Vec<_>>(),
                color.mix(0.16),
            )))?;
            for k in [0, 4] {
                chart.draw_series(LineSeries::new(
                    x.iter().enumerate().map(|(c, v)| (c as f64, v.q[k])),
                    color.mix(0.55).stroke_width(1),
                ))?;
            }
        }
        for (a, x) in st.iter().enumerate() {
            let color = PALETTE[a % PALETTE.len()];
            let width = if a == 0 { 5 } else { 2 };
            chart.draw_series(LineSeries::new(
                x.iter().enumerate().map(|(c, v)| (c as f64, v.q[2])),
                color.stroke_width(width),
            ))?;
        }
        for &start in &starts {
            start_line(&mut chart, start, (bottom, top))?;
        }
        Ok(())
    }
}

/// The largest mean caseload of all non-absorbing states together in `scope` over the arms: one
/// scale for the stacked figures of the arms, so that they compare at a glance.
pub fn stacked_top(model: &Model, summaries: &[ArmTables], scope: usize) -> f64 {
    summaries
        .iter()
        .flat_map(|sm| {
            let lay = &sm.layout;
            (0..lay.cycles).map(move |c| {
                (0..model.n_states())
                    .filter(|&s| !model.states[s].absorbing)
                    .map(|s| sm.caseload(scope, c, s).mean)
                    .sum::<f64>()
            })
        })
        .fold(1.0, f64::max)
}

/// The paired differences in caseload of `pilot` against the baseline in one scope, from the
/// `caseload` rows of the differences (the mean over each calendar year's months): per non-absorbing
/// state, one per year of `years` (`None` where the table has no row). Empty when it has none at all.
pub fn caseload_differences<'d>(
    model: &Model,
    differences: &'d [Difference],
    pilot: &str,
    scope: &crate::model::scope::Scope,
    years: &[i32],
) -> Vec<(usize, Vec<Option<&'d Difference>>)> {
    let rows: Vec<&Difference> = differences
        .iter()
        .filter(|d| {
            d.arm == pilot
                && d.scope == scope.kind
                && d.scope_name == scope.name
                && d.measure == crate::aggregate::paired::Measure::Caseload
        })
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    (0..model.n_states())
        .filter(|&s| !model.states[s].absorbing)
        .map(|s| {
            let code = &model.states[s].code;
            let per_year = years
                .iter()
                .map(|&y| {
                    rows.iter()
                        .find(|d| d.item == *code && d.period == Period::Year(y))
                        .copied()
                })
                .collect();
            (s, per_year)
        })
        .collect()
}

/// The paired difference in caseload pilot − baseline by state and calendar year in one scope (mean
/// over the year's months, from `differences.csv`): mean and p05-p95, the states side by side.
pub struct CaseloadDifference<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The baseline.
    pub base: &'a ArmTables,
    /// The pilot arm.
    pub pilot: &'a ArmTables,
    /// The paired differences, as read back.
    pub differences: &'a [Difference],
    /// The scope ([`crate::aggregate::Layout::scopes`]).
    pub scope: usize,
}

impl Figure for CaseloadDifference<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let lay = &self.base.layout;
        let years = &lay.years;
        let scope = &lay.scopes[self.scope];
        let rows = caseload_differences(m, self.differences, &self.pilot.arm, scope, years);
        let all = rows.iter().flat_map(|(_, v)| v.iter().flatten());
        let hi = all.clone().map(|d| d.q[2]).fold(0.0, f64::max);
        let lo = all.map(|d| d.q[0]).fold(0.0, f64::min);
        let pad = ((hi - lo) * 0.08).max(0.5);
        root.fill(&WHITE)?;
        let title = format!(
            "{} {}: {} − {}",
            lang.t("Verschil in", "Difference in"),
            people(lang, m),
            arm_label(lang, m, &self.pilot.arm),
            arm_label(lang, m, &self.base.arm),
        );
        let sub = format!(
            "{}, {}",
            scope_label(lang, m, scope),
            if m.cycle_months < 12 {
                lang.t(
                    "gemiddeld over de maanden van het jaar, gepaard per run",
                    "mean over the year's months, paired by run",
                )
            } else {
                lang.t("per jaar, gepaard per run", "per year, paired by run")
            }
        );
        let area = titled(root, &[(&title, 20), (&sub, 15)])?;
        let mut entries: Vec<Entry> = rows
            .iter()
            .enumerate()
            .map(|(k, (s, _))| {
                let color = PALETTE[k % PALETTE.len()];
                (
                    m.states[*s].code.clone(),
                    Swatch::Interval(color.to_rgba(), 3),
                )
            })
            .collect();
        entries.push((
            lang.t("gemiddelde", "mean").to_string(),
            Swatch::Dot(BLACK.mix(0.7), 4),
        ));
        entries.push((lang.interval(5), Swatch::Interval(BLACK.mix(0.7), 3)));
        let area = legend_below(&area, &entries, 14)?;
        let (x0, x1) = (
            f64::from(years[0]) - 0.5,
            f64::from(years[years.len() - 1]) + 0.5,
        );
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(axis(x0..x1), axis(lo - pad..hi + pad))?;
        chart
            .configure_mesh()
            .x_desc(lang.t("jaar", "year"))
            .y_desc(format!(
                "{} {}",
                lang.t("verschil in", "difference in"),
                people(lang, m)
            ))
            .x_labels(years.len())
            .x_label_formatter(&|y| format!("{:.0}", y))
            .y_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    lang.signed(*v, 0)
                } else {
                    lang.signed(*v, 1)
                }
            })
            .label_style((FAMILY, 14))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.mix(0.6).stroke_width(1),
        )))?;
        let n = rows.len() as f64;
        for (k, (_, per_year)) in rows.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            // Side by side within ±0.38 of the year, whatever the number of states.
            let off = (k as f64 - (n - 1.0) / 2.0) * (0.76 / n).min(0.12);
            let at = |y: usize| f64::from(years[y]) + off;
            chart.draw_series(per_year.iter().enumerate().filter_map(|(y, d)| {
                d.map(|d| {
                    PathElement::new(
                        vec![(at(y), d.q[0]), (at(y), d.q[2])],
                        color.stroke_width(3),
                    )
                })
            }))?;
            chart.draw_series(
                per_year.iter().enumerate().filter_map(|(y, d)| {
                    d.map(|d| Circle::new((at(y), d.mean), 4, color.filled()))
                }),
            )?;
        }
        Ok(())
    }
}

/// Stacked mean caseload by (non-absorbing) state over time, one arm.
pub struct Stacked<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arm's summary.
    pub summary: &'a ArmTables,
    /// The scope ([`crate::aggregate::Layout::scopes`]); any but the region is named in the title.
    pub scope: usize,
    /// The axis top before headroom, to share one scale among arms ([`stacked_top`]); `None`: this
    /// arm's own.
    pub top: Option<f64>,
}

impl Figure for Stacked<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, sm, lang) = (self.model, self.summary, self.lang);
        let lay = &sm.layout;
        let states: Vec<usize> = (0..m.n_states())
            .filter(|&s| !m.states[s].absorbing)
            .collect();
        let cum = stack(sm, self.scope, &states);
        let top = self
            .top
            .unwrap_or_else(|| cum[states.len()].iter().copied().fold(1.0, f64::max))
            * 1.1;
        root.fill(&WHITE)?;
        let title = format!(
            "{} ({}): {}",
            by_state(lang, m),
            lang.t("gemiddelde over runs", "mean over runs"),
            arm_label(lang, m, &sm.arm)
        );
        // Any scope but the region is named below the title.
        let area = if self.scope == REGION {
            titled(root, &[(&title, 22)])?
        } else {
            let scope = scope_label(lang, m, &lay.scopes[self.scope]);
            titled(root, &[(&title, 22), (&scope, 16)])?
        };
        let entries: Vec<Entry> = states
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let color = PALETTE[k % PALETTE.len()];
                (m.states[s].code.clone(), Swatch::Block(color.mix(0.75)))
            })
            .collect();
        let area = legend_below(&area, &entries, 14)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(Months::new(m, lay.cycles), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(cycle_axis(lang, m))
            .y_desc(people(lang, m))
            .x_label_formatter(&|c| month_tick(lang, m, *c))
            .y_labels(count_labels(top))
            .y_label_formatter(&|v| lang.int(*v))
            .label_style((FAMILY, 14))
            .draw()?;
        for k in 0..states.len() {
            let color = PALETTE[k % PALETTE.len()];
            let up = (0..lay.cycles).map(|c| (c as f64, cum[k + 1][c]));
            let down = (0..lay.cycles).rev().map(|c| (c as f64, cum[k][c]));
            chart.draw_series(std::iter::once(Polygon::new(
                up.chain(down).collect::<Vec<_>>(),
                color.mix(0.75),
            )))?;
        }
        Ok(())
    }
}

/// Municipal spend per year for every arm (see [`crate::aggregate::Account`]): P50 with a P10-P90 band.
pub struct CostPerYear<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The summaries, one per arm.
    pub summaries: &'a [ArmTables],
}

impl Figure for CostPerYear<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let lay = &self.summaries[0].layout;
        let years = &lay.years;
        let q: Vec<Vec<Vec<f64>>> = self
            .summaries
            .iter()
            .map(|sm| {
                (0..years.len())
                    .map(|y| {
                        crate::aggregate::quantiles(
                            sm.account_per_run(REGION, y, Account::MunicipalSpend),
                            &[0.1, 0.5, 0.9],
                        )
                    })
                    .collect()
            })
            .collect();
        // A tight range: the differences between arms and years are the point, not the distance to 0.
        let hi = q.iter().flatten().map(|v| v[2]).fold(f64::MIN, f64::max);
        let lo = q.iter().flatten().map(|v| v[0]).fold(f64::MAX, f64::min);
        let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.01).max(1.0);
        let (bottom, top) = ((lo - pad).max(0.0).min(lo), hi + pad);
        let (x0, x1) = (
            f64::from(years[0]) - 0.45,
            f64::from(years[years.len() - 1]) + 0.45,
        );
        root.fill(&WHITE)?;
        let title = if m.is_wmo() {
            lang.t(
                "Gemeentelijke uitgaven per jaar, alle gemeenten (mediaan en P10–P90)",
                "Municipal spend per year, all municipalities (median and P10–P90)",
            )
        } else {
            lang.t(
                "Kosten per jaar (mediaan en P10–P90)",
                "Cost per year (median and P10–P90)",
            )
        };
        let area = titled(root, &[(title, 22)])?;
        let mut entries: Vec<Entry> = self
            .summaries
            .iter()
            .enumerate()
            .map(|(a, sm)| {
                let color = PALETTE[a % PALETTE.len()];
                (
                    arm_label(lang, m, &sm.arm),
                    Swatch::Interval(color.to_rgba(), 3),
                )
            })
            .collect();
        entries.push((
            lang.t("mediaan (P50)", "median (P50)").to_string(),
            Swatch::Dot(BLACK.mix(0.7), 5),
        ));
        entries.push((lang.interval(10), Swatch::Interval(BLACK.mix(0.7), 3)));
        let area = legend_below(&area, &entries, 14)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(124)
            .build_cartesian_2d(axis(x0..x1), axis(bottom..top))?;
        chart
            .configure_mesh()
            .x_desc(lang.t("jaar", "year"))
            .y_desc(lang.money_axis(m.currency))
            .x_labels(years.len())
            .x_label_formatter(&|y| format!("{:.0}", y))
            .y_label_formatter(&|v| lang.money(m.currency, *v))
            .label_style((FAMILY, 14))
            .draw()?;
        let n = self.summaries.len() as f64;
        for (a, _) in self.summaries.iter().enumerate() {
            let color = PALETTE[a % PALETTE.len()];
            // Side by side within ±0.35 of the year, whatever the number of arms.
            let off = (a as f64 - (n - 1.0) / 2.0) * (0.7 / n).min(0.12);
            chart.draw_series(q[a].iter().zip(years).map(|(v, &y)| {
                let x = f64::from(y) + off;
                PathElement::new(vec![(x, v[0]), (x, v[2])], color.stroke_width(3))
            }))?;
            chart.draw_series(
                q[a].iter()
                    .zip(years)
                    .map(|(v, &y)| Circle::new((f64::from(y) + off, v[1]), 5, color.filled())),
            )?;
        }
        Ok(())
    }
}

/// A file name part from an arm, area, state or KPI name: letters, digits, `-` and `_` (others become
/// `_`), at most 60 characters, so that no name can reach outside `plots/` or exceed a file system's
/// limit. Two names that give the same file name are numbered (`-2`) by [`Staged::free_stem`].
fn slug(s: &str) -> String {
    s.chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Which figures a run draws. The tables always hold every arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Plots {
    /// Every figure when the scenario has at most [`ARMS_DRAWN`] arms; with more, the figures of the
    /// baseline and the first pilot arms up to that number.
    #[default]
    Auto,
    /// Every figure of every arm (time and disk grow with the arms: some 16 figures a pilot arm).
    All,
    /// No figures: no `plots/` folder, and a report of tables only.
    None,
}

/// Most arms drawn by [`Plots::Auto`]: as many as the palette has colours, so that every arm of a
/// figure with all arms has a colour of its own.
pub const ARMS_DRAWN: usize = PALETTE.len();

impl Plots {
    /// How many of `arms` arms (in scenario order, the baseline first) get figures.
    pub fn arms(self, arms: usize) -> usize {
        match self {
            Plots::Auto => arms.min(ARMS_DRAWN),
            Plots::All => arms,
            Plots::None => 0,
        }
    }
}

/// One figure of a run.
enum Drawing<'a> {
    Fan(Fan<'a>),
    FanArms(FanArms<'a>),
    CaseloadDifference(CaseloadDifference<'a>),
    Stacked(Stacked<'a>),
    CostPerYear(CostPerYear<'a>),
    CostDifference(CostDifference<'a>),
    Histogram(DifferenceHistogram<'a>),
    Budget(BudgetUse<'a>),
    Kpi(KpiChart<'a>),
    AreaFans(AreaFans<'a>),
    AreaStacked(AreaStacked<'a>),
}

impl Figure for Drawing<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Drawing::AreaFans(f) => f.size(),
            Drawing::AreaStacked(f) => f.size(),
            _ => SIZE,
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Drawing::Fan(f) => f.draw(root),
            Drawing::FanArms(f) => f.draw(root),
            Drawing::CaseloadDifference(f) => f.draw(root),
            Drawing::Stacked(f) => f.draw(root),
            Drawing::CostPerYear(f) => f.draw(root),
            Drawing::CostDifference(f) => f.draw(root),
            Drawing::Histogram(f) => f.draw(root),
            Drawing::Budget(f) => f.draw(root),
            Drawing::Kpi(f) => f.draw(root),
            Drawing::AreaFans(f) => f.draw(root),
            Drawing::AreaStacked(f) => f.draw(root),
        }
    }
}

/// The figures of a run with their file names (without extension), in the order they are written.
fn drawings<'a>(
    model: &'a Model,
    summaries: &'a [ArmTables],
    differences: &'a [Difference],
    lang: Lang,
) -> Vec<(String, Drawing<'a>)> {
    let mut out = Vec::new();
    for sm in summaries {
        for s in (0..model.n_states()).filter(|&s| !model.states[s].absorbing) {
            out.push((
                format!("fan_{}_{}", slug(&sm.arm), slug(&model.states[s].code)),
                Drawing::Fan(Fan {
                    model,
                    summary: sm,
                    state: s,
                    scope: REGION,
                    lang,
                }),
            ));
        }
        out.push((
            format!("stacked_{}", slug(&sm.arm)),
            Drawing::Stacked(Stacked {
                model,
                summary: sm,
                scope: REGION,
                top: None,
                lang,
            }),
        ));
    }
    if summaries.is_empty() {
        return out;
    }
    out.push((
        "municipal_spend_per_year".into(),
        Drawing::CostPerYear(CostPerYear {
            model,
            summaries,
            lang,
        }),
    ));
    if let Some((base, pilots)) = summaries.split_first() {
        for p in pilots {
            out.push((
                format!("care_cost_difference_{}", slug(&p.arm)),
                Drawing::CostDifference(CostDifference {
                    model,
                    base,
                    pilot: p,
                    lang,
                }),
            ));
            out.push((
                format!("care_cost_difference_histogram_{}", slug(&p.arm)),
                Drawing::Histogram(DifferenceHistogram {
                    model,
                    base,
                    pilot: p,
                    lang,
                }),
            ));
            for (i, pool) in p.layout.pools.iter().enumerate() {
                if !budgeted(model, pool) {
                    continue;
                }
                out.push((
                    format!("budget_{}_{}", slug(&p.arm), slug(&pool.name)),
                    Drawing::Budget(BudgetUse {
                        model,
                        summary: p,
                        pool: i,
                        lang,
                    }),
                ));
            }
        }
    }
    // Evaluations are counts and a cost, not a KPI value: evaluations.csv and the report's table.
    for k in (0..model.kpis.len()).filter(|&k| !model.kpis[k].is_evaluations()) {
        out.push((
            format!("kpi_{}", slug(&model.kpis[k].name)),
            Drawing::Kpi(KpiChart {
                model,
                summaries,
                kpi: k,
                lang,
            }),
        ));
    }
    // The pilot areas together, the arms overlaid or on one scale: last, so that the file names of
    // the figures above stay as they were whatever the arms are called.
    if let Some(sc) = summaries[0].layout.pilot_scope() {
        for s in (0..model.n_states()).filter(|&s| !model.states[s].absorbing) {
            out.push((
                format!("fan_pilot_areas_{}", slug(&model.states[s].code)),
                Drawing::FanArms(FanArms {
                    model,
                    summaries: overlaid(summaries),
                    state: s,
                    scope: sc,
                    lang,
                }),
            ));
        }
        let top = stacked_top(model, summaries, sc);
        for sm in summaries {
            out.push((
                format!("stacked_pilot_areas_{}", slug(&sm.arm)),
                Drawing::Stacked(Stacked {
                    model,
                    summary: sm,
                    scope: sc,
                    top: Some(top),
                    lang,
                }),
            ));
        }
        if let Some((base, pilots)) = summaries.split_first() {
            let scope = &base.layout.scopes[sc];
            for p in pilots {
                if caseload_differences(model, differences, &p.arm, scope, &base.layout.years)
                    .is_empty()
                {
                    continue;
                }
                out.push((
                    format!("caseload_difference_pilot_areas_{}", slug(&p.arm)),
                    Drawing::CaseloadDifference(CaseloadDifference {
                        model,
                        base,
                        pilot: p,
                        differences,
                        scope: sc,
                        lang,
                    }),
                ));
            }
        }
        // Each pilot area on its own, when there are several.
        let lay = &summaries[0].layout;
        for a in lay.pilot_area_scopes() {
            let name = slug(&lay.scopes[a].name);
            out.push((
                format!("fan_area_{name}"),
                Drawing::AreaFans(AreaFans {
                    model,
                    summaries: overlaid(summaries),
                    scope: a,
                    lang,
                }),
            ));
            out.push((
                format!("stacked_area_{name}"),
                Drawing::AreaStacked(AreaStacked {
                    model,
                    summaries: overlaid(summaries),
                    scope: a,
                    lang,
                }),
            ));
        }
    }
    out
}

/// Writes the figures of a run into `plots/` of the output folder, each as SVG and PNG: a fan chart per
/// non-absorbing state and arm, the stacked caseload per arm, the cost per year of all arms; per pilot
/// arm the paired cost difference per year, its histogram over the horizon, and the budget use of every
/// pilot area; every KPI against its targets; and for the pilot areas together a fan chart per state
/// with the arms overlaid, the stacked caseload per arm on one scale and per pilot arm the paired
/// caseload difference by state and year (from `differences`). `plots` says for which arms. The figures
/// are drawn on `threads` threads; their bytes do not depend on it, and the first failure in file order
/// is reported.
pub fn write_all(
    model: &Model,
    summaries: &[ArmTables],
    differences: &[Difference],
    staged: &mut Staged,
    lang: Lang,
    plots: Plots,
    threads: usize,
) -> Result<()> {
    let drawn = &summaries[..plots.arms(summaries.len())];
    let jobs = drawings(model, drawn, differences, lang);
    // File names are given out in order, so that two arms with the same file-safe name are numbered the
    // same way at every thread count.
    let mut files = Vec::with_capacity(jobs.len());
    for (stem, _) in &jobs {
        let name = staged.free_stem("plots/", stem, &[".svg", ".png"]);
        let svg_name = format!("plots/{name}.svg");
        let png_name = format!("plots/{name}.png");
        let svg_path = staged.file_path(&svg_name)?;
        let png_path = staged.file_path(&png_name)?;
        files.push([(svg_name, svg_path), (png_name, png_path)]);
    }
    let target = staged.target().to_path_buf();
    let draw = |i: usize| -> Result<()> {
        let fig = &jobs[i].1;
        let [(svg_name, svg_path), (png_name, png_path)] = &files[i];
        let fail = |name: &str, e: std::io::Error| Error::Write {
            path: target.join(name).display().to_string(),
            source: e,
        };
        let text = svg(fig).map_err(|e| fail(svg_name, std::io::Error::other(e)))?;
        std::fs::write(svg_path, text).map_err(|e| fail(svg_name, e))?;
        let bytes = png_bytes(fig).map_err(|e| fail(png_name, std::io::Error::other(e)))?;
        std::fs::write(png_path, bytes).map_err(|e| fail(png_name, e))
    };
    let results: Vec<Result<()>> = if threads <= 1 || jobs.len() < 2 {
        (0..jobs.len()).map(draw).collect()
    } else {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Write {
                path: target.join("plots").display().to_string(),
                source: std::io::Error::other(e),
            })?;
        pool.install(|| (0..jobs.len()).into_par_iter().map(draw).collect())
    };
    results.into_iter().collect()
}

/// The paired difference in care cost (care delivered, at tariffs: the pilot's effect) pilot - baseline
/// per year: median and p05-p95.
pub struct CostDifference<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The baseline.
    pub base: &'a ArmTables,
    /// The pilot arm.
    pub pilot: &'a ArmTables,
}

impl Figure for CostDifference<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let years = &self.base.layout.years;
        let q: Vec<[f64; 3]> = (0..years.len())
            .map(|y| {
                let mut d: Vec<f64> = self
                    .pilot
                    .account_per_run(REGION, y, Account::CareCost)
                    .iter()
                    .zip(self.base.account_per_run(REGION, y, Account::CareCost))
                    .map(|(p, b)| p - b)
                    .collect();
                d.sort_by(f64::total_cmp);
                [0.05, 0.5, 0.95].map(|p| crate::aggregate::quantile(&d, p))
            })
            .collect();
        let hi = q.iter().map(|v| v[2]).fold(0.0, f64::max);
        let lo = q.iter().map(|v| v[0]).fold(0.0, f64::min);
        let pad = ((hi - lo) * 0.1).max(1.0);
        root.fill(&WHITE)?;
        let title = format!(
            "{} {} − {} {}",
            lang.t("Verschil zorgkosten", "Care cost difference"),
            arm_label(lang, m, &self.pilot.arm),
            arm_label(lang, m, &self.base.arm),
            lang.t("per jaar (gepaard per run)", "per year (paired by run)")
        );
        let area = titled(root, &[(&title, 20)])?;
        let color = PALETTE[1];
        let entries: Vec<Entry> = vec![
            (
                lang.t("mediaan", "median").to_string(),
                Swatch::Dot(color.to_rgba(), 5),
            ),
            (lang.interval(5), Swatch::Interval(color.to_rgba(), 3)),
        ];
        let area = legend_below(&area, &entries, 14)?;
        let (x0, x1) = (
            f64::from(years[0]) - 0.5,
            f64::from(years[years.len() - 1]) + 0.5,
        );
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(120)
            .build_cartesian_2d(axis(x0..x1), axis(lo - pad..hi + pad))?;
        chart
            .configure_mesh()
            .x_desc(lang.t("jaar", "year"))
            .y_desc(lang.money_axis(m.currency))
            .x_labels(years.len())
            .x_label_formatter(&|y| format!("{:.0}", y))
            .y_label_formatter(&|v| lang.signed_money(m.currency, *v))
            .label_style((FAMILY, 14))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.mix(0.5),
        )))?;
        chart.draw_series(q.iter().zip(years).map(|(v, &y)| {
            PathElement::new(
                vec![(f64::from(y), v[0]), (f64::from(y), v[2])],
                color.stroke_width(3),
            )
        }))?;
        chart.draw_series(
            q.iter()
                .zip(years)
                .map(|(v, &y)| Circle::new((f64::from(y), v[1]), 5, color.filled())),
        )?;
        Ok(())
    }
}

/// Histogram of the paired difference in care cost over the horizon, with the probability that the
/// pilot needs less care.
pub struct DifferenceHistogram<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The baseline.
    pub base: &'a ArmTables,
    /// The pilot arm.
    pub pilot: &'a ArmTables,
}

impl Figure for DifferenceHistogram<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let d: Vec<f64> = self
            .pilot
            .account_total_per_run(REGION, Account::CareCost)
            .iter()
            .zip(self.base.account_total_per_run(REGION, Account::CareCost))
            .map(|(p, b)| p - b)
            .collect();
        let p_lower = d.iter().filter(|&&x| x < 0.0).count() as f64 / d.len().max(1) as f64;
        let (lo, hi) = (
            d.iter().copied().fold(f64::MAX, f64::min).min(0.0),
            d.iter().copied().fold(f64::MIN, f64::max).max(0.0),
        );
        let bins = 30usize;
        let width = ((hi - lo) / bins as f64).max(1.0);
        let mut counts = vec![0u32; bins];
        for x in &d {
            counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
        }
        let top = f64::from(counts.iter().copied().max().unwrap_or(1)) * 1.15;
        root.fill(&WHITE)?;
        let title = format!(
            "{} {} − {}",
            lang.t(
                "Verschil zorgkosten, totaal:",
                "Care cost difference, total:"
            ),
            arm_label(lang, m, &self.pilot.arm),
            arm_label(lang, m, &self.base.arm),
        );
        let sub = format!(
            "{} = {}",
            lang.t("kans op minder zorgkosten", "P(lower care cost)"),
            lang.pct(p_lower)
        );
        let area = titled(root, &[(&title, 19), (&sub, 17)])?;
        let entries: Vec<Entry> = vec![
            (
                lang.t("runs per klasse", "runs per bin").to_string(),
                Swatch::Block(PALETTE[0].mix(0.7)),
            ),
            (
                lang.t("geen verschil", "no difference").to_string(),
                Swatch::Interval(BLACK.to_rgba(), 2),
            ),
        ];
        let area = legend_below(&area, &entries, 14)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .margin_right(48)
            .build_cartesian_2d(axis(lo - width..hi + width), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "{}, {}",
                lang.t(m.currency.nl, m.currency.en),
                lang.t("gepaard per run", "paired by run")
            ))
            .y_desc("runs")
            .y_label_formatter(&|v| lang.int(*v))
            .x_labels(6)
            .x_label_formatter(&|v| lang.signed_money(m.currency, *v))
            .label_style((FAMILY, 14))
            .draw()?;
        let color = PALETTE[0];
        chart.draw_series(counts.iter().enumerate().map(|(i, &k)| {
            let x = lo + i as f64 * width;
            Rectangle::new(
                [(x, 0.0), (x + width * 0.95, f64::from(k))],
                color.mix(0.7).filled(),
            )
        }))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, top)],
            BLACK.stroke_width(2),
        )))?;
        Ok(())
    }
}

/// Which of KPI `k`'s scopes its figure shows (an index into `kpis[k].scopes`): the pilot areas
/// together where it is evaluated over them (the region hides a pilot), else its first scope.
pub fn kpi_scope(model: &Model, k: usize, layout: &crate::aggregate::Layout) -> usize {
    let scopes = &model.kpis[k].scopes;
    layout
        .pilot_scope()
        .and_then(|p| scopes.iter().position(|&x| x == p))
        .unwrap_or(0)
}

/// One KPI per contract year against its target, for every arm: mean with p05-p95; the legend gives the
/// probability of meeting the target in the last contract year with a target. Drawn over the scope of
/// [`kpi_scope`], named in the title; a count on an axis of clients, the others as percentages.
pub struct KpiChart<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The summaries.
    pub summaries: &'a [ArmTables],
    /// KPI index.
    pub kpi: usize,
}

impl Figure for KpiChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let kpi = &m.kpis[self.kpi];
        let years = kpi.years();
        let lay = &self.summaries[0].layout;
        let i = kpi_scope(m, self.kpi, lay);
        root.fill(&WHITE)?;
        let label = match lang.t(&kpi.nl, &kpi.en) {
            "" => kpi.name.clone(),
            l => l.to_string(),
        };
        let mut top: f64 = kpi.targets.iter().flatten().copied().fold(0.0, f64::max);
        for sm in self.summaries {
            for y in 0..years {
                top = top.max(sm.kpi(m, self.kpi, i, y, KpiCell::Value).q[4]);
            }
        }
        let count = kpi.is_count();
        let top = (top * 1.05).max(if count { 1.0 } else { 0.01 });
        let title = format!("KPI {}: {label}", kpi.name);
        let scope = match kpi.scopes.get(i) {
            Some(&sc) => scope_label(lang, m, &lay.scopes[sc]),
            None => String::new(),
        };
        let area = titled(root, &[(&title, 18), (&scope, 15)])?;
        let last = kpi.last_target_year();
        let cells: Vec<Vec<&crate::aggregate::Stats>> = self
            .summaries
            .iter()
            .map(|sm| {
                (0..years)
                    .map(|y| sm.kpi(m, self.kpi, i, y, KpiCell::Value))
                    .collect()
            })
            .collect();
        let mut entries: Vec<Entry> = Vec::new();
        for (a, sm) in self.summaries.iter().enumerate() {
            let color = PALETTE[a % PALETTE.len()];
            let p_met = last.map(|y| kpi.p_met(y, sm.kpi_per_run(m, self.kpi, i, y)));
            let name = match (p_met, last) {
                (Some(p), Some(y)) => format!(
                    "{} ({} {}: {})",
                    arm_label(lang, m, &sm.arm),
                    lang.t("kans gehaald, jaar", "P(met), year"),
                    y + 1,
                    lang.pct(p)
                ),
                _ => arm_label(lang, m, &sm.arm),
            };
            entries.push((name, Swatch::Interval(color.to_rgba(), 3)));
        }
        entries.push((
            lang.t("gemiddelde", "mean").to_string(),
            Swatch::Dot(BLACK.mix(0.7), 5),
        ));
        entries.push((lang.interval(5), Swatch::Interval(BLACK.mix(0.7), 3)));
        entries.push((
            lang.t("doel", "target").to_string(),
            Swatch::Line(BLACK.to_rgba(), 3),
        ));
        let area = legend_below(&area, &entries, 13)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(axis(0.5f64..years as f64 + 0.5), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(lang.t("contractjaar", "contract year"))
            .y_desc(if count {
                people(lang, m)
            } else {
                lang.t("aandeel", "share")
            })
            .x_labels(years)
            .x_label_formatter(&|y| format!("{:.0}", y))
            .y_label_formatter(&|v| {
                if !count {
                    lang.pct(*v)
                } else if (v - v.round()).abs() < 1e-9 {
                    lang.int(*v)
                } else {
                    lang.number(*v, 1)
                }
            })
            .label_style((FAMILY, 14))
            .draw()?;
        let n = self.summaries.len() as f64;
        for a in 0..self.summaries.len() {
            let color = PALETTE[a % PALETTE.len()];
            // Side by side within ±0.35 of the year, whatever the number of arms.
            let off = (a as f64 - (n - 1.0) / 2.0) * (0.7 / n).min(0.12);
            chart.draw_series(cells[a].iter().enumerate().map(|(y, st)| {
                PathElement::new(
                    vec![
                        (y as f64 + 1.0 + off, st.q[0]),
                        (y as f64 + 1.0 + off, st.q[4]),
                    ],
                    color.stroke_width(3),
                )
            }))?;
            chart.draw_series(
                cells[a]
                    .iter()
                    .enumerate()
                    .map(|(y, st)| Circle::new((y as f64 + 1.0 + off, st.mean), 5, color.filled())),
            )?;
        }
        chart.draw_series(kpi.targets.iter().enumerate().filter_map(|(y, t)| {
            t.map(|t| {
                PathElement::new(
                    vec![(y as f64 + 0.7, t), (y as f64 + 1.3, t)],
                    BLACK.stroke_width(3),
                )
            })
        }))?;
        Ok(())
    }
}

/// Budget use of one budget pool: budget, spent (median, p05-p95), overspend and reserve carried over
/// (means) per year above; P(overspend) per year against the accepted risk α below.
pub struct BudgetUse<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The pilot arm.
    pub summary: &'a ArmTables,
    /// Index into the summary's budget pools.
    pub pool: usize,
}

impl Figure for BudgetUse<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        use crate::aggregate::BudgetMeasure as B;
        let (m, sm, i, lang) = (self.model, self.summary, self.pool, self.lang);
        let lay = &sm.layout;
        let pool = &lay.pools[i];
        let ys: Vec<usize> = m
            .arms
            .iter()
            .find(|x| x.name == sm.arm)
            .and_then(|x| x.plans[pool.areas[0]].as_ref())
            .map_or(0..lay.years.len(), |p| m.plan_years(p))
            .collect();
        let stat = |y: usize, k: B| *sm.budget(i, y, k);
        let top = ys
            .iter()
            .map(|&y| stat(y, B::Budget).mean.max(stat(y, B::Spent).q[4]))
            .fold(1.0, f64::max)
            * 1.15;
        root.fill(&WHITE)?;
        let title = format!(
            "{} {}: {}",
            lang.t("Budgetgebruik", "Budget use"),
            pool.name,
            arm_label(lang, m, &sm.arm)
        );
        let area = titled(root, &[(&title, 19)])?;
        let (c_budget, c_spent, c_over, c_reserve) = (BLACK, PALETTE[0], PALETTE[3], PALETTE[2]);
        let alpha = m.overspend_risk;
        let entries: Vec<Entry> = vec![
            ("budget".into(), Swatch::Line(c_budget.to_rgba(), 3)),
            (
                format!(
                    "{} ({}, {})",
                    lang.t("besteed", "spent"),
                    lang.t("mediaan", "median"),
                    lang.interval(5)
                ),
                Swatch::Interval(c_spent.to_rgba(), 3),
            ),
            (
                lang.t("overschrijding (gemiddeld)", "overspend (mean)")
                    .into(),
                Swatch::Block(c_over.mix(0.8)),
            ),
            (
                lang.t(
                    "reserve meegenomen (gemiddeld)",
                    "reserve carried over (mean)",
                )
                .into(),
                Swatch::Block(c_reserve.mix(0.8)),
            ),
            (
                format!(
                    "{} α = {}",
                    lang.t("aanvaarde kans", "accepted risk"),
                    lang.pct(alpha)
                ),
                Swatch::Line(BLACK.to_rgba(), 1),
            ),
        ];
        let area = legend_below(&area, &entries, 13)?;
        let h = area.dim_in_pixel().1;
        let (upper, lower) = area.split_vertically(h * 3 / 5);
        let (first, last) = (
            ys.first().copied().unwrap_or(0),
            ys.last().copied().unwrap_or(0),
        );
        let x0 = lay.years[first] as f64 - 0.5;
        let x1 = lay.years[last] as f64 + 0.5;
        let mut chart = ChartBuilder::on(&upper)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(30)
            .y_label_area_size(100)
            .build_cartesian_2d(axis(x0..x1), axis(0f64..top))?;
        chart
            .configure_mesh()
            .y_desc(lang.money_axis(m.currency))
            .x_labels(ys.len())
            .x_label_formatter(&|y| format!("{:.0}", y))
            .y_label_formatter(&|v| lang.money(m.currency, *v))
            .label_style((FAMILY, 13))
            .draw()?;
        let yr = |y: usize| f64::from(lay.years[y]);
        chart.draw_series(ys.iter().map(|&y| {
            PathElement::new(
                vec![
                    (yr(y) - 0.3, stat(y, B::Budget).mean),
                    (yr(y) + 0.3, stat(y, B::Budget).mean),
                ],
                c_budget.stroke_width(3),
            )
        }))?;
        chart.draw_series(ys.iter().map(|&y| {
            PathElement::new(
                vec![
                    (yr(y) - 0.08, stat(y, B::Spent).q[0]),
                    (yr(y) - 0.08, stat(y, B::Spent).q[4]),
                ],
                c_spent.stroke_width(3),
            )
        }))?;
        chart
            .draw_series(ys.iter().map(|&y| {
                Circle::new((yr(y) - 0.08, stat(y, B::Spent).q[2]), 5, c_spent.filled())
            }))?;
        chart.draw_series(ys.iter().map(|&y| {
            Rectangle::new(
                [
                    (yr(y) + 0.04, 0.0),
                    (yr(y) + 0.16, stat(y, B::Overspend).mean),
                ],
                c_over.mix(0.8).filled(),
            )
        }))?;
        chart.draw_series(ys.iter().map(|&y| {
            Rectangle::new(
                [
                    (yr(y) + 0.18, 0.0),
                    (yr(y) + 0.30, stat(y, B::CarriedOver).mean),
                ],
                c_reserve.mix(0.8).filled(),
            )
        }))?;
        let ptop = ys
            .iter()
            .map(|&y| stat(y, B::Overspent).mean)
            .fold(alpha, f64::max)
            .max(0.05)
            * 1.2;
        let mut chart = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(100)
            .build_cartesian_2d(axis(x0..x1), axis(0f64..ptop.min(1.0)))?;
        chart
            .configure_mesh()
            .x_desc(lang.t("jaar", "year"))
            .y_desc(lang.t("kans op overschrijding", "P(overspend)"))
            .y_label_formatter(&|v| lang.pct(*v))
            .x_labels(ys.len())
            .x_label_formatter(&|y| format!("{:.0}", y))
            .label_style((FAMILY, 13))
            .draw()?;
        chart.draw_series(ys.iter().map(|&y| {
            Rectangle::new(
                [
                    (yr(y) - 0.2, 0.0),
                    (yr(y) + 0.2, stat(y, B::Overspent).mean),
                ],
                c_over.mix(0.8).filled(),
            )
        }))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, alpha), (x1, alpha)],
            BLACK.stroke_width(1),
        )))?;
        Ok(())
    }
}

/// Size of the figures of one area: room for a panel per state.
const AREA_SIZE: (u32, u32) = (1600, 900);

/// Rows and columns of a grid of `n` panels: at most three columns.
fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.max(1).div_ceil(cols), cols)
}

/// The frame of small multiples: a title, `n` panels in a grid of at most three columns, and one
/// legend of `entries` under them all.
fn small_multiples<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    n: usize,
    entries: &[Entry],
) -> std::result::Result<Vec<DrawingArea<DB, plotters::coord::Shift>>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let area = titled(root, &[(title, 28)])?;
    let panels = legend_below(&area, entries, 19)?;
    Ok(panels.split_evenly(grid(n)))
}

/// The first month of each arm's pilot, ascending and without duplicates.
fn pilot_starts(m: &Model, summaries: &[ArmTables]) -> std::collections::BTreeSet<u32> {
    summaries
        .iter()
        .filter_map(|sm| pilot_start(m, &sm.arm))
        .collect()
}

/// A pilot area's caseload: a panel per non-absorbing state, the arms overlaid (each arm's P5-P95
/// band and median in its own colour, as [`FanArms`]), the pilot starts marked; one legend for all.
pub struct AreaFans<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arms' summaries, baseline first ([`overlaid`]).
    pub summaries: &'a [ArmTables],
    /// The area's scope ([`crate::aggregate::Layout::pilot_area_scopes`]).
    pub scope: usize,
}

impl Figure for AreaFans<'_> {
    fn size(&self) -> (u32, u32) {
        AREA_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let m = self.model;
        let lay = &self.summaries[0].layout;
        let states: Vec<usize> = (0..m.n_states())
            .filter(|&s| !m.states[s].absorbing)
            .collect();
        let starts = pilot_starts(m, self.summaries);
        root.fill(&WHITE)?;
        let lang = self.lang;
        let title = format!(
            "{}, {} {} {}: {}",
            by_state(lang, m),
            lang.t("mediaan en", "median and"),
            lang.interval(5),
            lang.t("over de runs", "over runs"),
            area_title(lang, m, &lay.scopes[self.scope])
        );
        let mut entries = arm_bands(lang, m, self.summaries, 0.3, 4);
        entries.extend(
            starts
                .iter()
                .map(|&x| start_entry(lang, m, x, self.summaries)),
        );
        let panels = small_multiples(root, &title, states.len(), &entries)?;
        for (panel, &s) in panels.iter().zip(&states) {
            let st = caseload_stats(self.summaries, self.scope, s);
            let (bottom, high) = band_range(&st, 0.5);
            let mut chart = ChartBuilder::on(panel)
                .caption(state_label(lang, &m.states[s]), (FAMILY, 21))
                .margin(10)
                .margin_right(20)
                .x_label_area_size(34)
                .y_label_area_size(60)
                .build_cartesian_2d(Months::new(m, lay.cycles), axis(bottom..high))?;
            chart
                .configure_mesh()
                .x_label_formatter(&|c| month_tick(lang, m, *c))
                .y_labels(count_labels(high - bottom))
                .y_label_formatter(&|v| lang.int(*v))
                .y_max_light_lines(1)
                .label_style((FAMILY, 17))
                .draw()?;
            for (a, x) in st.iter().enumerate() {
                let color = PALETTE[a % PALETTE.len()];
                let up = x.iter().enumerate().map(|(c, v)| (c as f64, v.q[4]));
                let down = x.iter().enumerate().rev().map(|(c, v)| (c as f64, v.q[0]));
                chart.draw_series(std::iter::once(Polygon::new(
                    up.chain(down).collect::<Vec<_>>(),
                    color.mix(0.16),
                )))?;
            }
            for (a, x) in st.iter().enumerate() {
                let color = PALETTE[a % PALETTE.len()];
                let width = if a == 0 { 4 } else { 2 };
                chart.draw_series(LineSeries::new(
                    x.iter().enumerate().map(|(c, v)| (c as f64, v.q[2])),
                    color.stroke_width(width),
                ))?;
            }
            for &start in &starts {
                start_line(&mut chart, start, (bottom, high))?;
            }
        }
        Ok(())
    }
}

/// A pilot area's stacked mean caseload by state, a panel per arm on one scale; one legend of states.
pub struct AreaStacked<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arms' summaries, baseline first ([`overlaid`]).
    pub summaries: &'a [ArmTables],
    /// The area's scope ([`crate::aggregate::Layout::pilot_area_scopes`]).
    pub scope: usize,
}

impl Figure for AreaStacked<'_> {
    fn size(&self) -> (u32, u32) {
        (AREA_SIZE.0, AREA_SIZE.1 * 2 / 3)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let m = self.model;
        let lay = &self.summaries[0].layout;
        let states: Vec<usize> = (0..m.n_states())
            .filter(|&s| !m.states[s].absorbing)
            .collect();
        let top = stacked_top(m, self.summaries, self.scope) * 1.1;
        root.fill(&WHITE)?;
        let lang = self.lang;
        let title = format!(
            "{} ({}): {}",
            by_state(lang, m),
            lang.t("gemiddelde over runs", "mean over runs"),
            area_title(lang, m, &lay.scopes[self.scope])
        );
        let mut entries: Vec<Entry> = states
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let color = PALETTE[k % PALETTE.len()];
                (
                    state_label(lang, &m.states[s]),
                    Swatch::Block(color.mix(0.75)),
                )
            })
            .collect();
        let starts = pilot_starts(m, self.summaries);
        entries.extend(
            starts
                .iter()
                .map(|&x| start_entry(lang, m, x, self.summaries)),
        );
        let panels = small_multiples(root, &title, self.summaries.len(), &entries)?;
        for (panel, sm) in panels.iter().zip(self.summaries) {
            let cum = stack(sm, self.scope, &states);
            let mut chart = ChartBuilder::on(panel)
                .caption(arm_label(lang, m, &sm.arm), (FAMILY, 21))
                .margin(10)
                .margin_right(20)
                .x_label_area_size(34)
                .y_label_area_size(60)
                .build_cartesian_2d(Months::new(m, lay.cycles), axis(0f64..top))?;
            chart
                .configure_mesh()
                .x_label_formatter(&|c| month_tick(lang, m, *c))
                .y_labels(count_labels(top))
                .y_label_formatter(&|v| lang.int(*v))
                .y_max_light_lines(1)
                .label_style((FAMILY, 17))
                .draw()?;
            for k in 0..states.len() {
                let color = PALETTE[k % PALETTE.len()];
                let up = (0..lay.cycles).map(|c| (c as f64, cum[k + 1][c]));
                let down = (0..lay.cycles).rev().map(|c| (c as f64, cum[k][c]));
                chart.draw_series(std::iter::once(Polygon::new(
                    up.chain(down).collect::<Vec<_>>(),
                    color.mix(0.75),
                )))?;
            }
            if let Some(start) = pilot_start(m, &sm.arm) {
                start_line(&mut chart, start, (0.0, top))?;
            }
        }
        Ok(())
    }
}

/// An area as a figure's title names it: `Gebied Kamperland (Noord-Beveland)`.
fn area_title(lang: Lang, m: &Model, scope: &crate::model::scope::Scope) -> String {
    let label = scope_label(lang, m, scope);
    match scope.areas.as_slice() {
        [a] if m.municipalities[m.areas[*a].municipality] != m.areas[*a].name => {
            format!("{label} ({})", m.municipalities[m.areas[*a].municipality])
        }
        _ => label,
    }
}

/// Points `(x, y)` of a line.
pub type Curve = Vec<(f64, f64)>;

/// The x axis of [`LinePanels`].
pub enum PanelAxis<'a> {
    /// Calendar months: x is a cycle index of the model, over `cycles` cycles.
    Months(&'a Model, usize),
    /// Plain numbers, with this axis label.
    Plain(String),
}

/// Small multiples of lines: a panel per item (e.g. per state), series `i` of every panel in palette
/// colour `i`, one legend under all panels. Used by `wijksim fit`'s report (observed against fitted).
pub struct LinePanels<'a> {
    /// Title over the panels.
    pub title: String,
    /// Per panel: its caption and its series of points.
    pub panels: Vec<(String, Vec<Curve>)>,
    /// The x axis.
    pub x: PanelAxis<'a>,
    /// Names of the series, in palette order.
    pub series: Vec<String>,
    /// The y axis shows shares (0..1, as percentages) rather than counts.
    pub shares: bool,
    /// Language of the labels.
    pub lang: Lang,
}

impl Figure for LinePanels<'_> {
    fn size(&self) -> (u32, u32) {
        AREA_SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let entries: Vec<Entry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let c = PALETTE[i % PALETTE.len()];
                let w = if i == 0 { 4 } else { 2 };
                (name.clone(), Swatch::Line(c.to_rgba(), w))
            })
            .collect();
        let panels = small_multiples(root, &self.title, self.panels.len(), &entries)?;
        for (panel, (caption, series)) in panels.iter().zip(&self.panels) {
            let pts = series.iter().flatten();
            let x0 = pts.clone().map(|p| p.0).fold(f64::MAX, f64::min);
            let x1 = pts.clone().map(|p| p.0).fold(f64::MIN, f64::max);
            let top = pts.map(|p| p.1).fold(0.0, f64::max);
            let top = if self.shares { 1.0 } else { top.max(1.0) * 1.1 };
            if x0 > x1 {
                continue;
            }
            let mut builder = ChartBuilder::on(panel);
            builder
                .caption(caption.clone(), (FAMILY, 21))
                .margin(10)
                .x_label_area_size(34)
                .y_label_area_size(60);
            let color = |i: usize| PALETTE[i % PALETTE.len()];
            let y_fmt = |v: &f64| {
                if self.shares {
                    format!("{:.0}%", v * 100.0)
                } else {
                    self.lang.int(*v)
                }
            };
            match &self.x {
                PanelAxis::Months(m, cycles) => {
                    let mut chart =
                        builder.build_cartesian_2d(Months::new(m, *cycles), axis(0f64..top))?;
                    chart
                        .configure_mesh()
                        .x_label_formatter(&|c| month_tick(self.lang, m, *c))
                        .y_labels(if self.shares { 11 } else { count_labels(top) })
                        .y_label_formatter(&y_fmt)
                        .y_max_light_lines(1)
                        .label_style((FAMILY, 17))
                        .draw()?;
                    for (i, s) in series.iter().enumerate() {
                        chart.draw_series(LineSeries::new(
                            s.iter().copied(),
                            color(i).stroke_width(if i == 0 { 4 } else { 2 }),
                        ))?;
                    }
                }
                PanelAxis::Plain(label) => {
                    let mut chart =
                        builder.build_cartesian_2d(axis(x0..x1.max(x0 + 1.0)), axis(0f64..top))?;
                    chart
                        .configure_mesh()
                        .x_desc(label.as_str())
                        .x_label_formatter(&|v| format!("{v:.0}"))
                        .y_label_formatter(&y_fmt)
                        .y_max_light_lines(1)
                        .label_style((FAMILY, 17))
                        .draw()?;
                    for (i, s) in series.iter().enumerate() {
                        chart.draw_series(LineSeries::new(
                            s.iter().copied(),
                            color(i).stroke_width(if i == 0 { 4 } else { 2 }),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The figure of a calibration: each target's published value against the model before and after the
/// fit (left, with the line of equality and ±2 standard errors), and each target's standardised
/// residual `(model - value) / se` before and after (right, with the band ±2).
pub struct CalibrationFigure {
    /// Title.
    pub title: String,
    /// Published values.
    pub values: Vec<f64>,
    /// Their standard errors.
    pub se: Vec<f64>,
    /// Model values before the fit.
    pub before: Vec<f64>,
    /// Model values after the fit.
    pub after: Vec<f64>,
    /// Language of the labels.
    pub lang: Lang,
}

impl Figure for CalibrationFigure {
    fn size(&self) -> (u32, u32) {
        (1400, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let t = |nl: &'static str, en: &'static str| self.lang.t(nl, en);
        let root = titled(root, &[(&self.title, 22)])?;
        let (before_c, after_c) = (PALETTE[1], PALETTE[0]);
        let entries: Vec<Entry> = vec![
            (
                t("model = doel", "model = target").into(),
                Swatch::Line(BLACK.mix(0.5), 1),
            ),
            (
                t("vóór de kalibratie", "before").into(),
                Swatch::Ring(before_c.to_rgba(), 4),
            ),
            (
                t("na de kalibratie (±2 se)", "after (±2 se)").into(),
                Swatch::Dot(after_c.to_rgba(), 4),
            ),
            (
                t("±2 (rechts)", "±2 (right)").into(),
                Swatch::Block(BLUE.mix(0.1)),
            ),
        ];
        let root = legend_below(&root, &entries, 14)?;
        let (left, right) = root.split_horizontally(700);
        let top = self
            .values
            .iter()
            .zip(&self.se)
            .map(|(v, s)| v + 2.0 * s)
            .chain(self.before.iter().copied())
            .chain(self.after.iter().copied())
            .filter(|x| x.is_finite())
            .fold(1.0, f64::max)
            * 1.05;
        let mut chart = ChartBuilder::on(&left)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(axis(0f64..top), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(t("gepubliceerde waarde (doel)", "published value (target)"))
            .y_desc("model")
            .x_label_formatter(&|v| self.lang.decimal(*v, 0))
            .y_label_formatter(&|v| self.lang.decimal(*v, 0))
            .label_style((FAMILY, 14))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (top, top)],
            BLACK.mix(0.5),
        )))?;
        chart.draw_series(self.values.iter().zip(&self.se).zip(&self.after).map(
            |((&v, &s), &m)| {
                PathElement::new(
                    vec![((v - 2.0 * s).max(0.0), m), (v + 2.0 * s, m)],
                    after_c.mix(0.5),
                )
            },
        ))?;
        chart.draw_series(
            self.values
                .iter()
                .zip(&self.before)
                .map(|(&v, &m)| Circle::new((v, m), 4, before_c.stroke_width(2))),
        )?;
        chart.draw_series(
            self.values
                .iter()
                .zip(&self.after)
                .map(|(&v, &m)| Circle::new((v, m), 4, after_c.filled())),
        )?;
        // Standardised residuals per target.
        let n = self.values.len();
        let z = |m: &[f64]| -> Vec<f64> {
            m.iter()
                .zip(&self.values)
                .zip(&self.se)
                .map(|((m, v), s)| (m - v) / s)
                .collect()
        };
        let (zb, za) = (z(&self.before), z(&self.after));
        let zmax = zb
            .iter()
            .chain(&za)
            .filter(|x| x.is_finite())
            .fold(3.0f64, |a, b| a.max(b.abs()))
            * 1.1;
        let mut chart = ChartBuilder::on(&right)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(axis(0f64..n.max(1) as f64 + 1.0), axis(-zmax..zmax))?;
        chart
            .configure_mesh()
            .x_desc(t(
                "doel (regel van calibration.csv)",
                "target (row of calibration.csv)",
            ))
            .y_desc(t("(model − doel) / se", "(model − target) / se"))
            .x_labels(count_labels(n as f64))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| self.lang.number(*v, 1))
            .label_style((FAMILY, 14))
            .draw()?;
        chart.draw_series(std::iter::once(Polygon::new(
            vec![
                (0.0, -2.0),
                (n as f64 + 1.0, -2.0),
                (n as f64 + 1.0, 2.0),
                (0.0, 2.0),
            ],
            BLUE.mix(0.1),
        )))?;
        chart.draw_series(
            zb.iter()
                .enumerate()
                .map(|(i, &v)| Circle::new((i as f64 + 1.0, v), 4, before_c.stroke_width(2))),
        )?;
        chart.draw_series(
            za.iter()
                .enumerate()
                .map(|(i, &v)| Circle::new((i as f64 + 1.0, v), 4, after_c.filled())),
        )?;
        Ok(())
    }
}
