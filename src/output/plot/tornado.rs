//! The tornado plot of a one-way sensitivity analysis: the effect of each parameter, from its low to its
//! high value with the others at their base, on one metric; the largest effect on top.

use crate::output::lang::Lang;
use crate::output::plot::{Entry, Figure, PlainChart, Swatch, legend_below};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

use crate::output::plot::FAMILY;
const LOW: RGBColor = RGBColor(31, 94, 168);
const HIGH: RGBColor = RGBColor(230, 126, 34);

/// One parameter of a one-way sensitivity analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoBar {
    /// Parameter label (its name or key path).
    pub label: String,
    /// The parameter's low value.
    pub low: f64,
    /// The parameter's high value.
    pub high: f64,
    /// The metric with the parameter at its low value (others at base).
    pub at_low: f64,
    /// The metric with the parameter at its high value (others at base).
    pub at_high: f64,
}

impl TornadoBar {
    /// The swing of the metric from low to high.
    pub fn swing(&self) -> f64 {
        (self.at_high - self.at_low).abs()
    }
}

/// How the metric's numbers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money (in [`Tornado::currency`]), with the language's thousands separator.
    Euros,
    /// A plain number.
    Number,
    /// A share, in percent.
    Share,
}

/// A tornado plot.
#[derive(Debug, Clone)]
pub struct Tornado {
    /// Title.
    pub title: String,
    /// Axis label of the metric.
    pub metric: String,
    /// How the metric is shown.
    pub unit: Unit,
    /// The metric with every parameter at its base value.
    pub base: f64,
    /// Bars in any order; they are drawn ranked.
    pub bars: Vec<TornadoBar>,
    /// Language of the labels and numbers.
    pub lang: Lang,
    /// The currency of a metric in money.
    pub currency: crate::model::currency::Currency,
}

/// Bars ranked by effect, largest swing first; ties by label (deterministic).
pub fn ranked(bars: &[TornadoBar]) -> Vec<TornadoBar> {
    let mut v = bars.to_vec();
    v.sort_by(|a, b| {
        b.swing()
            .total_cmp(&a.swing())
            .then_with(|| a.label.cmp(&b.label))
    });
    v
}

impl Tornado {
    /// Whether the metric is a difference (pilot − baseline): its numbers then carry a sign.
    fn signed(&self) -> bool {
        self.metric.contains("difference")
    }

    /// A value of the metric in the language's number format: `€ 19.994`, `12,5%`, `1.234`; a
    /// difference with its sign (`+€ 19.994`, `−€ 5.000`).
    fn number(&self, x: f64) -> String {
        let (lang, signed) = (self.lang, self.signed());
        match self.unit {
            Unit::Euros if signed => lang.signed_money(self.currency, x),
            Unit::Euros => lang.money(self.currency, x),
            Unit::Share if signed => format!("{}%", lang.signed(100.0 * x, 1)),
            Unit::Share => format!("{}%", lang.decimal(100.0 * x, 1)),
            Unit::Number if x.abs() >= 1000.0 && signed => lang.signed(x, 0),
            Unit::Number if x.abs() >= 1000.0 => lang.decimal(x, 0),
            Unit::Number if signed && x > 0.0 => format!("+{}", lang.short(x)),
            Unit::Number => lang.short(x),
        }
    }
}

impl Tornado {
    /// A figure without bars: the title, and that there are no parameters.
    fn draw_empty<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.draw(&Text::new(
            self.title.clone(),
            (20, 20),
            (FAMILY, 22).into_font(),
        ))?;
        root.draw(&Text::new(
            self.lang.t("geen parameters", "no parameters").to_string(),
            (20, 70),
            (FAMILY, 16).into_font(),
        ))?;
        Ok(())
    }

    /// The metric's axis: every bar's ends and the base, padded by 8%.
    fn range(&self, bars: &[TornadoBar]) -> std::ops::Range<f64> {
        let all = bars
            .iter()
            .flat_map(|b| [b.at_low, b.at_high])
            .chain([self.base]);
        let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(x), h.max(x)));
        let pad = ((hi - lo) * 0.08).max(self.base.abs() * 0.01).max(1e-9);
        let pad = if hi - lo == 0.0 { pad.max(1.0) } else { pad };
        (lo - pad)..(hi + pad)
    }

    /// The legend: the low and the high value's colours, and the base.
    fn entries(&self) -> Vec<Entry> {
        vec![
            (
                self.lang.t("lage waarde", "low value").into(),
                Swatch::Block(LOW.mix(0.85)),
            ),
            (
                self.lang.t("hoge waarde", "high value").into(),
                Swatch::Block(HIGH.mix(0.85)),
            ),
            (
                format!(
                    "{}: {}",
                    self.lang.t("basis", "base"),
                    self.number(self.base)
                ),
                Swatch::Interval(BLACK.to_rgba(), 2),
            ),
        ]
    }

    /// Each bar's label, `name (low → high)`, the size of their text and the width of their area.
    fn labels(&self, bars: &[TornadoBar]) -> (Vec<String>, u32, u32) {
        let labels: Vec<String> = bars
            .iter()
            .map(|b| {
                format!(
                    "{} ({} → {})",
                    b.label,
                    self.lang.short(b.low),
                    self.lang.short(b.high)
                )
            })
            .collect();
        let n = bars.len();
        let label_size = if n > 16 {
            11
        } else if n > 10 {
            13
        } else {
            15
        };
        let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let label_area =
            ((longest as f64 * f64::from(label_size) * 0.56) as u32 + 16).clamp(80, 460);
        (labels, label_size, label_area)
    }

    /// The bars, bar `i` from the top from `n - i - 1` to `n - i`: from the base to the metric at
    /// the low value and at the high value; and the base as a line.
    fn draw_bars<DB: DrawingBackend>(
        &self,
        chart: &mut PlainChart<'_, DB>,
        bars: &[TornadoBar],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = bars.len();
        let half = 0.32;
        let bar = |i: usize, end: f64, color: RGBColor| {
            let y = y_of(n, i);
            Rectangle::new(
                [(self.base, y - half), (end, y + half)],
                color.mix(0.85).filled(),
            )
        };
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| bar(i, b.at_low, LOW)))?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, b)| bar(i, b.at_high, HIGH)),
        )?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(self.base, 0.0), (self.base, n as f64)],
            BLACK.stroke_width(2),
        )))?;
        Ok(())
    }
}

/// The middle of bar `i` from the top of `n`.
fn y_of(n: usize, i: usize) -> f64 {
    (n - i) as f64 - 0.5
}

impl Figure for Tornado {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let bars = ranked(&self.bars);
        let n = bars.len();
        if n == 0 {
            return self.draw_empty(root);
        }
        let range = self.range(&bars);
        let (labels, label_size, label_area) = self.labels(&bars);
        let area = root.titled(&self.title, (FAMILY, 20))?;
        let area = legend_below(&area, &self.entries(), 13)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(16)
            .margin_right(48)
            .x_label_area_size(48)
            .y_label_area_size(label_area)
            .build_cartesian_2d(super::axis(range.clone()), super::axis(0f64..n as f64))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_desc(self.metric.as_str())
            .x_label_formatter(&|v| self.number(*v))
            .label_style((FAMILY, 13))
            .draw()?;
        self.draw_bars(&mut chart, &bars)?;
        // The labels, right-aligned in the label area beside their bars.
        let style = TextStyle::from((FAMILY, label_size).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        // `backend_coord` is in pixels of the whole figure: the labels go on `root`.
        let left = chart.backend_coord(&(range.start, 0.0)).0 - 8;
        for (i, l) in labels.iter().enumerate() {
            let y = chart.backend_coord(&(range.start, y_of(n, i))).1;
            root.draw(&Text::new(l.clone(), (left, y), style.clone()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::plot::{png, svg};

    fn bar(label: &str, at_low: f64, at_high: f64) -> TornadoBar {
        TornadoBar {
            label: label.into(),
            low: 0.5,
            high: 2.0,
            at_low,
            at_high,
        }
    }

    fn fig(lang: Lang, bars: Vec<TornadoBar>) -> Tornado {
        Tornado {
            title: "Sensitivity".into(),
            metric: "cost difference (euros)".into(),
            unit: Unit::Euros,
            base: 100_000.0,
            bars,
            lang,
            currency: crate::model::currency::Currency::EUR,
        }
    }

    #[test]
    fn ranks_by_swing_then_label() {
        let r = ranked(&[
            bar("b", 90_000.0, 110_000.0),
            bar("small", 99_000.0, 101_000.0),
            bar("negative", 150_000.0, 20_000.0),
            bar("a", 110_000.0, 90_000.0),
        ]);
        let names: Vec<&str> = r.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(names, ["negative", "a", "b", "small"]);
    }

    #[test]
    fn draws_labels_legend_and_png_in_both_languages() {
        let bars = vec![
            bar("prevention", 80_000.0, 130_000.0),
            bar("budget_share", 60_000.0, 140_000.0),
        ];
        let nl = svg(&fig(Lang::Nl, bars.clone())).unwrap();
        assert!(nl.contains("prevention (0,5 → 2)") && nl.contains("budget_share"));
        assert!(
            nl.contains("lage waarde") && nl.contains("hoge waarde") && nl.contains("€ 100.000")
        );
        let en = svg(&fig(Lang::En, bars.clone())).unwrap();
        assert!(en.contains("low value") && en.contains("high value") && en.contains("€ 100,000"));
        let path =
            std::env::temp_dir().join(format!("wijksim-tornado-test-{}.png", std::process::id()));
        png(&fig(Lang::En, bars), &path).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 1000);
        let _ = std::fs::remove_file(&path);
    }

    /// Dutch numbers in the labels (`0,9 → 1,1`, `1.250`), and a difference with its sign on the axis
    /// and the base (`+€ 19.994`, `−€ 5.000`).
    #[test]
    fn numbers_follow_the_language_and_differences_carry_a_sign() {
        let mut b = bar("tariff_per_hour", -5_000.0, 19_994.0);
        (b.low, b.high) = (0.9, 1.1);
        let mut c = bar("inhabitants", 2_000.0, 4_000.0);
        (c.low, c.high) = (1250.0, 2500.5);
        let mut t = fig(Lang::Nl, vec![b, c]);
        t.metric = "dorpsbudget.pilot_areas.care_cost_difference".into();
        t.base = 7_500.0;
        let nl = svg(&t).unwrap();
        assert!(nl.contains("tariff_per_hour (0,9 → 1,1)"), "{nl}");
        assert!(nl.contains("inhabitants (1.250 → 2.500,5)"));
        assert!(nl.contains("basis: +€ 7.500"));
        assert!(nl.contains("−€ "), "a negative tick with a minus sign");
        assert!(!nl.contains("€ -") && !nl.contains("-€"));
        t.lang = Lang::En;
        let en = svg(&t).unwrap();
        assert!(en.contains("tariff_per_hour (0.9 → 1.1)") && en.contains("base: +€ 7,500"));
        // A level, not a difference: no sign.
        t.metric = "baseline.care_cost_total".into();
        assert!(svg(&t).unwrap().contains("base: € 7,500"));
        // A scenario in pounds: its symbol, and no euro.
        t.currency = crate::model::currency::Currency::from_code("GBP").unwrap();
        let gbp = svg(&t).unwrap();
        assert!(gbp.contains("base: £ 7,500") && !gbp.contains('€'), "{gbp}");
    }

    #[test]
    fn degenerate_cases_render() {
        assert!(
            svg(&fig(Lang::En, vec![]))
                .unwrap()
                .contains("no parameters")
        );
        let flat = vec![bar("x", 100_000.0, 100_000.0); 30];
        assert!(svg(&fig(Lang::Nl, flat)).is_ok());
    }
}
