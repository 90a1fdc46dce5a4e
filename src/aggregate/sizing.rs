//! The budget planner's question: how big must a budget be to keep the chance of overspending at or
//! below α (`run.overspend_risk`, default 10%)?
//!
//! For every pilot area (an area some arm assigns to a regime) and year of its pilot period, and
//! for the pilot areas of each municipality together (a pooled budget), the answer is read from the
//! baseline's runs: what the budget holder would spend under the provider model (care on the lines the
//! regime covers, at the tariffs, plus the regime's fixed costs; [`Layout::holder_spend`]), run by
//! run. The budget needed is its (1 − α) quantile: in a fraction α of the runs the spend is higher.
//! Beside it stand the expected spend, P50, P90 and P95, and the pilot's own budget where an arm grants
//! one, so the planner sees how far the budget of the scenario is from the one needed.
//!
//! [`Layout::holder_spend`]: crate::aggregate::Layout::holder_spend

use crate::aggregate::{Summary, quantile};
use crate::error::Result;
use crate::model::Model;

/// One row of `budget_sizing.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// `area`, `municipality` (the pilot areas of the municipality pooled) or `region` (every pilot
    /// area pooled; written where some arm pools by region).
    pub scope: String,
    /// The area's or municipality's name.
    pub name: String,
    /// Calendar year.
    pub year: i32,
    /// The accepted chance of overspending.
    pub alpha: f64,
    /// Mean spend under the provider model.
    pub expected: f64,
    /// Quantiles 50, 90 and 95% of the spend.
    pub q: [f64; 3],
    /// The budget that is overspent in a fraction α of the runs: the (1 − α) quantile.
    pub needed: f64,
    /// The first pilot arm's mean budget for the area or pool and year (`None` when no arm grants a
    /// limited budget there).
    pub pilot_budget: Option<f64>,
}

impl Sizing {
    /// How much the needed budget is above the expected spend, as a share (0.12 = 12%).
    pub fn above_expected(&self) -> f64 {
        if self.expected > 0.0 {
            self.needed / self.expected - 1.0
        } else {
            0.0
        }
    }
}

/// Budget sizing from the baseline (the first summary) and the first pilot arm that grants a budget.
pub fn sizing(model: &Model, summaries: &[Summary]) -> Vec<Sizing> {
    let Some(base) = summaries.first() else {
        return Vec::new();
    };
    let s = Sizer {
        model,
        summaries,
        base,
        pilots: model.pilot_areas(),
    };
    let mut out = Vec::new();
    for (i, &(a, plan)) in s.pilots.iter().enumerate() {
        for y in model.plan_years(plan) {
            let values = base
                .columns
                .column(base.layout.holder_spend(i, y))
                .into_owned();
            out.push(s.row("area", &model.areas[a].name, y, values, &[a]));
        }
    }
    for (m, muni) in model.municipalities.iter().enumerate() {
        let members: Vec<usize> = (0..s.pilots.len())
            .filter(|&i| model.areas[s.pilots[i].0].municipality == m)
            .collect();
        s.pooled("municipality", muni, &members, &mut out);
    }
    // Where some arm pools by region: every pilot area together.
    let region_pool = model.arms.iter().any(|arm| {
        arm.pools
            .iter()
            .any(|p| p.unit == crate::model::regime::PoolUnit::Region)
    });
    if region_pool {
        let all: Vec<usize> = (0..s.pilots.len()).collect();
        s.pooled("region", "regio", &all, &mut out);
    }
    out
}

/// What budget sizing reads: the model, every arm's summary (the baseline's first) and the pilot
/// areas with their plans.
struct Sizer<'a> {
    model: &'a Model,
    summaries: &'a [Summary],
    base: &'a Summary,
    pilots: Vec<(usize, &'a crate::model::regime::Plan)>,
}

impl Sizer<'_> {
    /// The row of `scope` `name` in year `y` from the budget holder's spend in each run (`values`),
    /// for the pilot areas `areas`.
    fn row(&self, scope: &str, name: &str, y: usize, values: Vec<f64>, areas: &[usize]) -> Sizing {
        let alpha = self.model.overspend_risk;
        let mut v = values;
        let expected = v.iter().sum::<f64>() / v.len().max(1) as f64;
        v.sort_by(f64::total_cmp);
        Sizing {
            scope: scope.into(),
            name: name.into(),
            year: self.base.layout.years[y],
            alpha,
            expected,
            q: [0.5, 0.9, 0.95].map(|p| quantile(&v, p)),
            needed: quantile(&v, 1.0 - alpha),
            pilot_budget: self.pilot_budget(areas, y),
        }
    }

    /// The pilot's mean budget for a set of pilot areas in year y, from the first arm whose pools
    /// cover exactly those areas.
    fn pilot_budget(&self, areas: &[usize], y: usize) -> Option<f64> {
        self.summaries[1..].iter().find_map(|sm| {
            let lay = &sm.layout;
            let mut total = 0.0;
            let mut covered: Vec<usize> = Vec::new();
            for (i, pool) in lay.pools.iter().enumerate() {
                if pool.areas.iter().all(|a| areas.contains(a)) {
                    total +=
                        sm.stats[lay.budget(i, y, crate::aggregate::BudgetMeasure::Budget)].mean;
                    covered.extend(&pool.areas);
                }
            }
            covered.sort_unstable();
            (covered == areas && total.is_finite() && total > 0.0).then_some(total)
        })
    }

    /// The rows of the pilot areas `members` (indices into `pilots`) pooled: their spend summed run by
    /// run, in the years of any member's pilot period.
    fn pooled(&self, scope: &str, name: &str, members: &[usize], out: &mut Vec<Sizing>) {
        let (model, base) = (self.model, self.base);
        let years = |i: &usize| model.plan_years(self.pilots[*i].1);
        let (Some(first), Some(last)) = (
            members.iter().map(|i| years(i).start).min(),
            members.iter().map(|i| years(i).end).max(),
        ) else {
            return;
        };
        let areas: Vec<usize> = members.iter().map(|&i| self.pilots[i].0).collect();
        for y in first..last {
            let values = (0..base.runs)
                .map(|r| {
                    members
                        .iter()
                        .map(|&i| base.columns.value(base.layout.holder_spend(i, y), r))
                        .sum()
                })
                .collect();
            out.push(self.row(scope, name, y, values, &areas));
        }
    }
}

/// The header of `budget_sizing.csv`.
const HEADER: [&str; 11] = [
    "scope",
    "scope_name",
    "year",
    "overspend_risk",
    "expected_spend",
    "p50",
    "p90",
    "p95",
    "budget_needed",
    "above_expected",
    "pilot_budget",
];

/// `budget_sizing.csv`.
pub fn to_csv(rows: &[Sizing]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for s in rows {
        let e = |x: f64| format!("{x:.2}");
        w.write_record([
            s.scope.clone(),
            s.name.clone(),
            s.year.to_string(),
            format!("{:.4}", s.alpha),
            e(s.expected),
            e(s.q[0]),
            e(s.q[1]),
            e(s.q[2]),
            e(s.needed),
            format!("{:.4}", s.above_expected()),
            s.pilot_budget.map_or(String::new(), e),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Reads `budget_sizing.csv` back (for the report drawn from an output folder).
pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Vec<Sizing>> {
    let bad =
        |line: Option<usize>, problem: String| crate::error::bad_table(file, line, "", problem);
    let mut rd = csv::Reader::from_reader(bytes);
    let head: Vec<String> = rd
        .headers()
        .map_err(|e| bad(Some(1), format!("unreadable header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if head != HEADER {
        return Err(bad(
            Some(1),
            format!("the header is not {}", HEADER.join(",")),
        ));
    }
    let mut out = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| bad(None, format!("unreadable row: {e}")))?;
        let line = rec.position().map(|p| p.line() as usize);
        if rec.len() != HEADER.len() {
            return Err(bad(
                line,
                format!("{} fields, not {}", rec.len(), HEADER.len()),
            ));
        }
        let num = |i: usize| -> Result<f64> {
            rec[i].parse::<f64>().map_err(|_| {
                bad(
                    line,
                    format!(
                        "`{}` in `{}` is not a number",
                        crate::error::short(&rec[i]),
                        HEADER[i]
                    ),
                )
            })
        };
        out.push(Sizing {
            scope: rec[0].to_string(),
            name: rec[1].to_string(),
            year: num(2)? as i32,
            alpha: num(3)?,
            expected: num(4)?,
            q: [num(5)?, num(6)?, num(7)?],
            needed: num(8)?,
            pilot_budget: if rec[10].is_empty() {
                None
            } else {
                Some(num(10)?)
            },
        });
    }
    Ok(out)
}
