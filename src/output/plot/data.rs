//! The figures of the commands that turn a municipality's own data into a scenario (`src/data/`):
//! observed against fitted lines for `wijksim fit`, targets against the model for `wijksim calibrate`.

use super::{
    AREA_SIZE, BLUE, DrawResult, Entry, FAMILY, Figure, Months, PALETTE, Swatch, axis,
    count_labels, legend_below, month_tick, small_multiples, titled,
};
use crate::model::Model;
use crate::output::lang::Lang;
use plotters::prelude::*;

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
                    self.lang.pct(*v)
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

/// The colours of the model before and after the fit.
const BEFORE: RGBColor = PALETTE[1];
const AFTER: RGBColor = PALETTE[0];

impl CalibrationFigure {
    /// The text in the figure's language.
    fn t(&self, nl: &'static str, en: &'static str) -> &'static str {
        self.lang.t(nl, en)
    }

    /// The legend: the line of equality, before, after and the band ±2.
    fn entries(&self) -> Vec<Entry> {
        vec![
            (
                self.t("model = doel", "model = target").into(),
                Swatch::Line(BLACK.mix(0.5), 1),
            ),
            (
                self.t("vóór de kalibratie", "before").into(),
                Swatch::Ring(BEFORE.to_rgba(), 4),
            ),
            (
                self.t("na de kalibratie (±2 se)", "after (±2 se)").into(),
                Swatch::Dot(AFTER.to_rgba(), 4),
            ),
            (
                self.t("±2 (rechts)", "±2 (right)").into(),
                Swatch::Block(BLUE.mix(0.1)),
            ),
        ]
    }

    /// The left panel: each target's published value against the model before and after the fit,
    /// with the line of equality and the value ±2 standard errors at the model after.
    fn draw_fit<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
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
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(axis(0f64..top), axis(0f64..top))?;
        chart
            .configure_mesh()
            .x_desc(self.t("gepubliceerde waarde (doel)", "published value (target)"))
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
                    AFTER.mix(0.5),
                )
            },
        ))?;
        chart.draw_series(
            self.values
                .iter()
                .zip(&self.before)
                .map(|(&v, &m)| Circle::new((v, m), 4, BEFORE.stroke_width(2))),
        )?;
        chart.draw_series(
            self.values
                .iter()
                .zip(&self.after)
                .map(|(&v, &m)| Circle::new((v, m), 4, AFTER.filled())),
        )?;
        Ok(())
    }

    /// The right panel: each target's standardised residual before and after the fit, with the band
    /// ±2.
    fn draw_residuals<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
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
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(axis(0f64..n.max(1) as f64 + 1.0), axis(-zmax..zmax))?;
        chart
            .configure_mesh()
            .x_desc(self.t(
                "doel (regel van calibration.csv)",
                "target (row of calibration.csv)",
            ))
            .y_desc(self.t("(model − doel) / se", "(model − target) / se"))
            .x_labels(count_labels(n as f64))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| self.lang.number(*v, 1))
            .label_style((FAMILY, 14))
            .draw()?;
        let right = n as f64 + 1.0;
        chart.draw_series(std::iter::once(Polygon::new(
            vec![(0.0, -2.0), (right, -2.0), (right, 2.0), (0.0, 2.0)],
            BLUE.mix(0.1),
        )))?;
        chart.draw_series(
            zb.iter()
                .enumerate()
                .map(|(i, &v)| Circle::new((i as f64 + 1.0, v), 4, BEFORE.stroke_width(2))),
        )?;
        chart.draw_series(
            za.iter()
                .enumerate()
                .map(|(i, &v)| Circle::new((i as f64 + 1.0, v), 4, AFTER.filled())),
        )?;
        Ok(())
    }
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
        let root = titled(root, &[(&self.title, 22)])?;
        let root = legend_below(&root, &self.entries(), 14)?;
        let (left, right) = root.split_horizontally(700);
        self.draw_fit(&left)?;
        self.draw_residuals(&right)
    }
}
