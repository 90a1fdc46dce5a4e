//! Paired comparison of pilot arms with the baseline.
//!
//! Run `r` of a pilot arm and run `r` of the baseline share their random numbers (common random
//! numbers), so the difference of a reported number is taken run by run and its spread is that of the
//! pilot's *effect*, not of the chance both arms share. Every pilot arm is compared with the first arm.

use crate::model::Model;
use crate::summary::{Summary, quantile};

/// The spread of a paired difference over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Pilot arm.
    pub arm: String,
    /// `cost`, `caseload` (mean over the year's cycles), `kpi` or `overspend`.
    pub measure: &'static str,
    /// Calendar year, `all` for the whole horizon, or `cy1`, `cy2`, ... (contract years, KPIs).
    pub year: String,
    /// Cost line, state code or `total`.
    pub item: String,
    /// Mean difference (pilot − baseline).
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Quantiles 5, 50 and 95%.
    pub q: [f64; 3],
    /// Share of runs in which the pilot is lower than the baseline.
    pub p_lower: f64,
}

/// Names followed by `total` (the column of all of them in the tables).
pub fn and_total(names: &[String]) -> Vec<String> {
    names.iter().cloned().chain(["total".to_string()]).collect()
}

/// The measures of [`Difference::measure`].
pub const MEASURES: [&str; 4] = ["cost", "caseload", "kpi", "overspend"];

/// Per-run values of one measure: `f(summary, run)`.
fn per_run(sm: &Summary, f: &dyn Fn(&Summary, usize) -> f64) -> Vec<f64> {
    (0..sm.runs).map(|r| f(sm, r)).collect()
}

fn spread(
    arm: &str,
    measure: &'static str,
    year: String,
    item: String,
    pilot: &[f64],
    base: &[f64],
) -> Difference {
    let d: Vec<f64> = pilot.iter().zip(base).map(|(p, b)| p - b).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = if d.len() > 1 {
        (d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let p_lower = d.iter().filter(|&&x| x < 0.0).count() as f64 / n;
    let mut sorted = d;
    sorted.sort_by(f64::total_cmp);
    Difference {
        arm: arm.to_string(),
        measure,
        year,
        item,
        mean,
        sd,
        q: [0.05, 0.5, 0.95].map(|p| quantile(&sorted, p)),
        p_lower,
    }
}

/// A cell's value in run `r`.
fn at(sm: &Summary, cell: usize, r: usize) -> f64 {
    sm.columns.cell(cell)[r]
}

/// Total overspend of an arm's budget areas in year index `y` (every year when `None`), run `r`.
fn overspend(sm: &Summary, y: Option<usize>, r: usize) -> f64 {
    let lay = &sm.layout;
    let years: Vec<usize> = y.map_or((0..lay.years.len()).collect(), |y| vec![y]);
    (0..lay.budget_areas.len())
        .flat_map(|i| years.iter().map(move |&y| (i, y)))
        .map(|(i, y)| at(sm, lay.budget(i, y, 2), r))
        .sum()
}

/// Paired differences of every pilot arm against the baseline (the first summary).
pub fn differences(model: &Model, summaries: &[Summary]) -> Vec<Difference> {
    let Some((base, pilots)) = summaries.split_first() else {
        return Vec::new();
    };
    let lay = &base.layout;
    let years = &lay.years;
    let mut out = Vec::new();
    for p in pilots {
        let mut push = |measure, year: String, item: String, f: &dyn Fn(&Summary, usize) -> f64| {
            out.push(spread(
                &p.arm,
                measure,
                year,
                item,
                &per_run(p, f),
                &per_run(base, f),
            ));
        };
        let lines = and_total(&model.lines);
        for (l, line) in lines.iter().enumerate() {
            push("cost", "all".into(), line.clone(), &|sm, r| {
                (0..years.len())
                    .map(|y| at(sm, sm.layout.cost(y, sm.layout.munis, l), r))
                    .sum()
            });
            for (y, year) in years.iter().enumerate() {
                push("cost", year.to_string(), line.clone(), &|sm, r| {
                    at(sm, sm.layout.cost(y, sm.layout.munis, l), r)
                });
            }
        }
        for (y, year) in years.iter().enumerate() {
            let cycles: Vec<usize> = (0..lay.cycles)
                .filter(|&c| model.year_index(c as u32) == y)
                .collect();
            for (s, st) in model.states.iter().enumerate() {
                let cyc = cycles.clone();
                push(
                    "caseload",
                    year.to_string(),
                    st.code.clone(),
                    &move |sm, r| {
                        cyc.iter()
                            .map(|&c| at(sm, sm.layout.caseload(c, s), r))
                            .sum::<f64>()
                            / cyc.len() as f64
                    },
                );
            }
        }
        for (k, kpi) in model.kpis.iter().enumerate() {
            for y in 0..kpi.years() {
                push("kpi", format!("cy{}", y + 1), kpi.name.clone(), &|sm, r| {
                    at(sm, sm.layout.kpi(model, k, y, 0), r)
                });
            }
        }
        push("overspend", "all".into(), "total".into(), &|sm, r| {
            overspend(sm, None, r)
        });
        for (y, year) in years.iter().enumerate() {
            push("overspend", year.to_string(), "total".into(), &|sm, r| {
                overspend(sm, Some(y), r)
            });
        }
    }
    out
}

/// Quantiles of the per-run values of one cell.
pub fn cell_quantiles(sm: &Summary, cell: usize, levels: &[f64]) -> Vec<f64> {
    let mut v = sm.columns.cell(cell).to_vec();
    v.sort_by(f64::total_cmp);
    levels.iter().map(|&p| quantile(&v, p)).collect()
}
