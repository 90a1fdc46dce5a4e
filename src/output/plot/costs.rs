//! The cost figures: the municipal spend per year of every arm, and a pilot's paired difference in
//! care cost per year and over the horizon (its histogram).

use super::{
    DrawResult, Entry, FAMILY, Figure, PALETTE, Swatch, axis, legend_below, side_by_side, titled,
};
use crate::aggregate::Account;
use crate::model::Model;
use crate::model::scope::REGION;
use crate::output::lang::{Lang, arm_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;

/// Municipal spend per year for every arm (see [`crate::aggregate::Account`]): P50 with a P10-P90 band.
pub struct CostPerYear<'a> {
    /// Language of the labels.
    pub lang: Lang,
    /// The model.
    pub model: &'a Model,
    /// The summaries, one per arm.
    pub summaries: &'a [ArmTables],
}

impl CostPerYear<'_> {
    /// Per arm and year, the municipal spend's P10, P50 and P90 over runs.
    fn quantiles(&self) -> Vec<Vec<Vec<f64>>> {
        let years = self.summaries[0].layout.years.len();
        self.summaries
            .iter()
            .map(|sm| {
                (0..years)
                    .map(|y| {
                        crate::aggregate::quantiles(
                            sm.account_per_run(REGION, y, Account::MunicipalSpend),
                            &[0.1, 0.5, 0.9],
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// The title: the municipal spend of all municipalities in a Wmo model, else the cost.
    fn title(&self) -> &'static str {
        if self.model.is_wmo() {
            self.lang.t(
                "Gemeentelijke uitgaven per jaar, alle gemeenten (mediaan en P10–P90)",
                "Municipal spend per year, all municipalities (median and P10–P90)",
            )
        } else {
            self.lang.t(
                "Kosten per jaar (mediaan en P10–P90)",
                "Cost per year (median and P10–P90)",
            )
        }
    }

    /// The legend: each arm's colour, then what the dot and the line show.
    fn entries(&self) -> Vec<Entry> {
        let (m, lang) = (self.model, self.lang);
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
        entries
    }
}

impl Figure for CostPerYear<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let years = &self.summaries[0].layout.years;
        let q = self.quantiles();
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
        let area = titled(root, &[(self.title(), 22)])?;
        let area = legend_below(&area, &self.entries(), 14)?;
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
        let series: Vec<Vec<[f64; 4]>> = q
            .iter()
            .map(|arm| {
                arm.iter()
                    .zip(years)
                    .map(|(v, &y)| [f64::from(y), v[0], v[1], v[2]])
                    .collect()
            })
            .collect();
        side_by_side(&mut chart, &series, 0.7, 5)
    }
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

/// The bins of a histogram of `d` from `lo` to `hi` (30, each at least 1 wide): the width and the
/// count in each.
fn histogram(d: &[f64], lo: f64, hi: f64) -> (f64, Vec<u32>) {
    let bins = 30usize;
    let width = ((hi - lo) / bins as f64).max(1.0);
    let mut counts = vec![0u32; bins];
    for x in d {
        counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
    }
    (width, counts)
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
        let (width, counts) = histogram(&d, lo, hi);
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
