//! Plots (PNG and SVG) drawn from finished summaries. This file holds what every figure shares: the
//! palette, the font, the sizes, titles and legends, the time axis and the frame of small multiples.
//! Which figures a run draws, their file names and the writing of them ([`Plots`], [`write_all`]) are
//! in `figures.rs`. Each group of figures has a file of its own: the caseload (`caseload.rs`), costs
//! (`costs.rs`), budgets (`budget.rs`), KPIs (`kpi.rs`), one pilot area (`areas.rs`), the data
//! commands' figures (`data.rs`) and a sweep's tornado plot (`tornado.rs`).
//!
//! Text is rendered with DejaVu Sans, embedded in the binary (`assets/fonts`, free licence), so a PNG
//! looks the same on every machine whatever fonts it has (see [`crate::output::plot::raster`]). An SVG does
//! not carry the font: it names DejaVu Sans first, then Bitstream Vera Sans (the same letters) and the
//! generic sans-serif, so a viewer without DejaVu Sans shows its own sans-serif.

mod areas;
mod budget;
mod caseload;
mod costs;
mod data;
mod figures;
mod kpi;
pub mod raster;
pub mod tornado;

pub use areas::{AreaFans, AreaStacked};
pub use budget::BudgetUse;
pub use caseload::{CaseloadDifference, Fan, FanArms, Stacked, caseload_differences, stacked_top};
pub use costs::{CostDifference, CostPerYear, DifferenceHistogram};
pub use data::{CalibrationFigure, Curve, LinePanels, PanelAxis};
pub use figures::{Plots, write_all};
pub use kpi::{KpiChart, kpi_scope};

use crate::model::Model;
use crate::output::lang::{Lang, arm_label};
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

/// The chart of a figure over plain numbers (calendar years, contract years) on both axes.
type PlainChart<'a, DB> = ChartContext<
    'a,
    DB,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Draws series side by side around their x: series `k` in palette colour `k`, at each point
/// `[x, lo, mid, hi]` a vertical line from `lo` to `hi` and a dot of `radius` at `mid`; the series
/// shifted from `x` so that they fit within ±`spread`/2 (at most 0.12 apart), whatever their number.
fn side_by_side<DB: DrawingBackend>(
    chart: &mut PlainChart<'_, DB>,
    series: &[Vec<[f64; 4]>],
    spread: f64,
    radius: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = series.len() as f64;
    for (k, points) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let off = (k as f64 - (n - 1.0) / 2.0) * (spread / n).min(0.12);
        chart.draw_series(points.iter().map(|&[x, lo, _, hi]| {
            PathElement::new(vec![(x + off, lo), (x + off, hi)], color.stroke_width(3))
        }))?;
        chart.draw_series(
            points
                .iter()
                .map(|&[x, _, mid, _]| Circle::new((x + off, mid), radius, color.filled())),
        )?;
    }
    Ok(())
}

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

/// Most arms drawn by [`Plots::Auto`]: as many as the palette has colours, so that every arm of a
/// figure with all arms has a colour of its own.
pub const ARMS_DRAWN: usize = PALETTE.len();

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
