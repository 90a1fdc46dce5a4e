//! The budget figures: how a pilot's budget pool was used, year by year, and the chance it was
//! overspent.

use super::{DrawResult, Entry, FAMILY, Figure, PALETTE, Swatch, axis, legend_below, titled};
use crate::aggregate::BudgetMeasure as B;
use crate::aggregate::Stats;
use crate::model::Model;
use crate::output::lang::{Lang, arm_label};
use crate::output::tables::ArmTables;
use plotters::prelude::*;

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

/// The colours of the spend, the overspend and the reserve carried over; the budget is black.
const SPENT: RGBColor = PALETTE[0];
const OVER: RGBColor = PALETTE[3];
const RESERVE: RGBColor = PALETTE[2];

impl BudgetUse<'_> {
    /// The budget years shown: the years of the pool's plan, else every year.
    fn years(&self) -> Vec<usize> {
        let (m, sm) = (self.model, self.summary);
        let lay = &sm.layout;
        m.arms
            .iter()
            .find(|x| x.name == sm.arm)
            .and_then(|x| x.plans[lay.pools[self.pool].areas[0]].as_ref())
            .map_or(0..lay.years.len(), |p| m.plan_years(p))
            .collect()
    }

    /// One measure of the pool in budget year `y`, over runs.
    fn stat(&self, y: usize, k: B) -> Stats {
        *self.summary.budget(self.pool, y, k)
    }

    /// The x of budget year `y`: its calendar year.
    fn x(&self, y: usize) -> f64 {
        f64::from(self.summary.layout.years[y])
    }

    /// The legend: budget, spend, overspend, reserve and the accepted risk α.
    fn entries(&self) -> Vec<Entry> {
        let lang = self.lang;
        vec![
            ("budget".into(), Swatch::Line(BLACK.to_rgba(), 3)),
            (
                format!(
                    "{} ({}, {})",
                    lang.t("besteed", "spent"),
                    lang.t("mediaan", "median"),
                    lang.interval(5)
                ),
                Swatch::Interval(SPENT.to_rgba(), 3),
            ),
            (
                lang.t("overschrijding (gemiddeld)", "overspend (mean)")
                    .into(),
                Swatch::Block(OVER.mix(0.8)),
            ),
            (
                lang.t(
                    "reserve meegenomen (gemiddeld)",
                    "reserve carried over (mean)",
                )
                .into(),
                Swatch::Block(RESERVE.mix(0.8)),
            ),
            (
                format!(
                    "{} α = {}",
                    lang.t("aanvaarde kans", "accepted risk"),
                    lang.pct(self.model.overspend_risk)
                ),
                Swatch::Line(BLACK.to_rgba(), 1),
            ),
        ]
    }

    /// The upper panel, over `x0..x1`: per year of `ys` the budget (a line), the spend (median and
    /// P5-P95), the overspend and the reserve carried over (means, as bars).
    fn draw_use<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        ys: &[usize],
        (x0, x1): (f64, f64),
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, lang) = (self.model, self.lang);
        let stat = |y: usize, k: B| self.stat(y, k);
        let top = ys
            .iter()
            .map(|&y| stat(y, B::Budget).mean.max(stat(y, B::Spent).q[4]))
            .fold(1.0, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(area)
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
        let yr = |y: usize| self.x(y);
        chart.draw_series(ys.iter().map(|&y| {
            let b = stat(y, B::Budget).mean;
            PathElement::new(
                vec![(yr(y) - 0.3, b), (yr(y) + 0.3, b)],
                BLACK.stroke_width(3),
            )
        }))?;
        chart.draw_series(ys.iter().map(|&y| {
            let q = stat(y, B::Spent).q;
            PathElement::new(
                vec![(yr(y) - 0.08, q[0]), (yr(y) - 0.08, q[4])],
                SPENT.stroke_width(3),
            )
        }))?;
        chart
            .draw_series(ys.iter().map(|&y| {
                Circle::new((yr(y) - 0.08, stat(y, B::Spent).q[2]), 5, SPENT.filled())
            }))?;
        let bar = |y: usize, (from, to): (f64, f64), k: B, color: RGBColor| {
            Rectangle::new(
                [(yr(y) + from, 0.0), (yr(y) + to, stat(y, k).mean)],
                color.mix(0.8).filled(),
            )
        };
        chart.draw_series(ys.iter().map(|&y| bar(y, (0.04, 0.16), B::Overspend, OVER)))?;
        chart.draw_series(
            ys.iter()
                .map(|&y| bar(y, (0.18, 0.30), B::CarriedOver, RESERVE)),
        )?;
        Ok(())
    }

    /// The lower panel, over `x0..x1`: per year of `ys` the chance of overspending, against α.
    fn draw_risk<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        ys: &[usize],
        (x0, x1): (f64, f64),
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let lang = self.lang;
        let alpha = self.model.overspend_risk;
        let p = |y: usize| self.stat(y, B::Overspent).mean;
        let ptop = ys.iter().map(|&y| p(y)).fold(alpha, f64::max).max(0.05) * 1.2;
        let mut chart = ChartBuilder::on(area)
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
                [(self.x(y) - 0.2, 0.0), (self.x(y) + 0.2, p(y))],
                OVER.mix(0.8).filled(),
            )
        }))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, alpha), (x1, alpha)],
            BLACK.stroke_width(1),
        )))?;
        Ok(())
    }
}

impl Figure for BudgetUse<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (m, sm, lang) = (self.model, self.summary, self.lang);
        let lay = &sm.layout;
        let ys = self.years();
        root.fill(&WHITE)?;
        let title = format!(
            "{} {}: {}",
            lang.t("Budgetgebruik", "Budget use"),
            lay.pools[self.pool].name,
            arm_label(lang, m, &sm.arm)
        );
        let area = titled(root, &[(&title, 19)])?;
        let area = legend_below(&area, &self.entries(), 13)?;
        let h = area.dim_in_pixel().1;
        let (upper, lower) = area.split_vertically(h * 3 / 5);
        let (first, last) = (
            ys.first().copied().unwrap_or(0),
            ys.last().copied().unwrap_or(0),
        );
        let x0 = lay.years[first] as f64 - 0.5;
        let x1 = lay.years[last] as f64 + 0.5;
        self.draw_use(&upper, &ys, (x0, x1))?;
        self.draw_risk(&lower, &ys, (x0, x1))
    }
}
