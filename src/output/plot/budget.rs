//! The budget figures: how a pilot's budget pool was used, year by year, and the chance it was
//! overspent.

use super::{DrawResult, Entry, FAMILY, Figure, PALETTE, Swatch, axis, legend_below, titled};
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
