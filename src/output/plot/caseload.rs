//! The caseload figures: a fan chart per state and arm, the arms overlaid in one scope, the stacked
//! caseload by state, and a pilot's paired difference in caseload by state and year.

use super::{
    BLUE, DrawResult, Entry, FAMILY, Figure, Months, PALETTE, Swatch, arm_bands, axis,
    count_labels, cycle_axis, legend_below, month_tick, pilot_start, pilot_starts, side_by_side,
    start_entry, start_line, state_label, titled,
};
use crate::aggregate::paired::{Difference, Period};
use crate::model::Model;
use crate::model::scope::REGION;
use crate::output::lang::{Lang, arm_label, by_state, people, people_title, scope_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;

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

/// Per arm, the caseload statistics of state `s` in `scope`, cycle by cycle.
pub(super) fn caseload_stats(
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
pub(super) fn band_range(st: &[Vec<crate::aggregate::Stats>], min_pad: f64) -> (f64, f64) {
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
pub(super) fn stack(sm: &ArmTables, scope: usize, states: &[usize]) -> Vec<Vec<f64>> {
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

impl CaseloadDifference<'_> {
    /// The title (pilot − baseline) and the line under it (the scope, and what a year's number is).
    fn titles(&self, scope: &crate::model::scope::Scope) -> (String, String) {
        let (m, lang) = (self.model, self.lang);
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
        (title, sub)
    }

    /// The legend: each state's colour (of `rows`), then what the dot and the line show.
    fn entries(&self, rows: &[(usize, Vec<Option<&Difference>>)]) -> Vec<Entry> {
        let lang = self.lang;
        let mut entries: Vec<Entry> = rows
            .iter()
            .enumerate()
            .map(|(k, (s, _))| {
                let color = PALETTE[k % PALETTE.len()];
                (
                    self.model.states[*s].code.clone(),
                    Swatch::Interval(color.to_rgba(), 3),
                )
            })
            .collect();
        entries.push((
            lang.t("gemiddelde", "mean").to_string(),
            Swatch::Dot(BLACK.mix(0.7), 4),
        ));
        entries.push((lang.interval(5), Swatch::Interval(BLACK.mix(0.7), 3)));
        entries
    }
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
        let (title, sub) = self.titles(scope);
        let area = titled(root, &[(&title, 20), (&sub, 15)])?;
        let area = legend_below(&area, &self.entries(&rows), 14)?;
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
        // The states side by side within ±0.38 of each year.
        let series: Vec<Vec<[f64; 4]>> = rows
            .iter()
            .map(|(_, per_year)| {
                per_year
                    .iter()
                    .zip(years)
                    .filter_map(|(d, &y)| d.map(|d| [f64::from(y), d.q[0], d.mean, d.q[2]]))
                    .collect()
            })
            .collect();
        side_by_side(&mut chart, &series, 0.76, 4)
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
