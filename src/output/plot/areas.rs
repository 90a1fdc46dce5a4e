//! The figures of one pilot area: its caseload fans and its stacked caseload, a panel per state or
//! per arm.

use super::{
    AREA_SIZE, DrawResult, Entry, FAMILY, Figure, Months, PALETTE, Swatch, arm_bands, axis,
    caseload::band_range, caseload::caseload_stats, caseload::stack, caseload::stacked_top,
    count_labels, month_tick, pilot_start, pilot_starts, small_multiples, start_entry, start_line,
    state_label,
};
use crate::model::Model;
use crate::output::lang::{Lang, arm_label, by_state, scope_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;

/// A pilot area's caseload: a panel per non-absorbing state, the arms overlaid (each arm's P5-P95
/// band and median in its own colour, as [`super::FanArms`]), the pilot starts marked; one legend for all.
pub struct AreaFans<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The arms' summaries, baseline first ([`super::overlaid`]).
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
    /// The arms' summaries, baseline first ([`super::overlaid`]).
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
