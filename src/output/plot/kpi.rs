//! The KPI figures: one KPI per contract year against its targets, for every arm.

use super::{
    DrawResult, Entry, FAMILY, Figure, PALETTE, Swatch, axis, legend_below, side_by_side, titled,
};
use crate::aggregate::KpiCell;
use crate::model::Model;
use crate::output::lang::{Lang, arm_label, people, scope_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;

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

impl KpiChart<'_> {
    /// The top of the axis: the largest target and P95 of every arm and year in scope `i`, with 5%
    /// headroom (at least 1 for a count, 1% for a share).
    fn top(&self, i: usize) -> f64 {
        let (m, kpi) = (self.model, &self.model.kpis[self.kpi]);
        let mut top: f64 = kpi.targets.iter().flatten().copied().fold(0.0, f64::max);
        for sm in self.summaries {
            for y in 0..kpi.years() {
                top = top.max(sm.kpi(m, self.kpi, i, y, KpiCell::Value).q[4]);
            }
        }
        (top * 1.05).max(if kpi.is_count() { 1.0 } else { 0.01 })
    }

    /// The title (the KPI and its label) and the line under it (scope `i`).
    fn titles(&self, i: usize) -> (String, String) {
        let (m, lang) = (self.model, self.lang);
        let kpi = &m.kpis[self.kpi];
        let label = match lang.t(&kpi.nl, &kpi.en) {
            "" => kpi.name.clone(),
            l => l.to_string(),
        };
        let scope = match kpi.scopes.get(i) {
            Some(&sc) => scope_label(lang, m, &self.summaries[0].layout.scopes[sc]),
            None => String::new(),
        };
        (format!("KPI {}: {label}", kpi.name), scope)
    }

    /// The legend: each arm's colour with its chance of meeting the target in the last contract year
    /// with one (in scope `i`), then what the dot, the line and the target show.
    fn entries(&self, i: usize) -> Vec<Entry> {
        let (m, lang) = (self.model, self.lang);
        let kpi = &m.kpis[self.kpi];
        let last = kpi.last_target_year();
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
        entries
    }
}

impl Figure for KpiChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let kpi = &m.kpis[self.kpi];
        let years = kpi.years();
        let i = kpi_scope(m, self.kpi, &self.summaries[0].layout);
        root.fill(&WHITE)?;
        let (count, top) = (kpi.is_count(), self.top(i));
        let (title, scope) = self.titles(i);
        let area = titled(root, &[(&title, 18), (&scope, 15)])?;
        let area = legend_below(&area, &self.entries(i), 13)?;
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
        // The arms side by side within ±0.35 of the year, whatever their number.
        let series: Vec<Vec<[f64; 4]>> = self
            .summaries
            .iter()
            .map(|sm| {
                (0..years)
                    .map(|y| {
                        let st = sm.kpi(m, self.kpi, i, y, KpiCell::Value);
                        [y as f64 + 1.0, st.q[0], st.mean, st.q[4]]
                    })
                    .collect()
            })
            .collect();
        side_by_side(&mut chart, &series, 0.7, 5)?;
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
