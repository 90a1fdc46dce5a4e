//! Paired comparison of pilot arms with the baseline.
//!
//! Run `r` of a pilot arm and run `r` of the baseline share their random numbers (common random
//! numbers), so the difference of a reported number is taken run by run and its spread is that of the
//! pilot's *effect*, not of the chance both arms share. Every pilot arm is compared with the first arm.

use crate::model::{LineKind, Model};
use crate::summary::{Account, Summary, quantile};

/// The spread of a paired difference over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Pilot arm.
    pub arm: String,
    /// `care_cost`, `community_cost`, `municipal_spend` (see [`crate::summary::Account`]), `caseload`
    /// (mean over the year's cycles), `kpi` or `overspend`.
    pub measure: &'static str,
    /// The period it covers.
    pub period: Period,
    /// `total`; for `care_cost` and `community_cost` also each cost line of that kind, for
    /// `municipal_spend` also its parts (`paid_directly`, `budgets_paid`, `top_ups`, `refunds`); a state
    /// code for `caseload`, a KPI name for `kpi`.
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

/// The period a difference covers: `differences.csv` writes it as `period` (`all`, `year`,
/// `contract_year`) and a numeric `year` (the calendar year, the contract year's number, or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The whole horizon.
    All,
    /// A calendar year.
    Year(i32),
    /// A contract year (1, 2, ...), for KPIs.
    ContractYear(usize),
}

impl Period {
    /// The `period` column.
    pub fn kind(self) -> &'static str {
        match self {
            Period::All => "all",
            Period::Year(_) => "year",
            Period::ContractYear(_) => "contract_year",
        }
    }

    /// The `year` column: a number, or empty for the whole horizon.
    pub fn number(self) -> String {
        match self {
            Period::All => String::new(),
            Period::Year(y) => y.to_string(),
            Period::ContractYear(n) => n.to_string(),
        }
    }

    /// Reads the two columns back.
    pub fn parse(kind: &str, number: &str) -> Option<Period> {
        match kind {
            "all" if number.is_empty() => Some(Period::All),
            "year" => number.parse().ok().map(Period::Year),
            "contract_year" => number
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .map(Period::ContractYear),
            _ => None,
        }
    }
}

/// Names followed by `total` (the column of all of them in the tables).
pub fn and_total(names: &[String]) -> Vec<String> {
    names.iter().cloned().chain(["total".to_string()]).collect()
}

/// The measures of [`Difference::measure`].
pub const MEASURES: [&str; 6] = [
    "care_cost",
    "community_cost",
    "municipal_spend",
    "caseload",
    "kpi",
    "overspend",
];

/// Per-run values of one measure: `f(summary, run)`.
fn per_run(sm: &Summary, f: &dyn Fn(&Summary, usize) -> f64) -> Vec<f64> {
    (0..sm.runs).map(|r| f(sm, r)).collect()
}

fn spread(
    arm: &str,
    measure: &'static str,
    period: Period,
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
        period,
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

/// Total overspend of an arm's budget pools in year index `y` (every year when `None`), run `r`.
fn overspend(sm: &Summary, y: Option<usize>, r: usize) -> f64 {
    let lay = &sm.layout;
    let years: Vec<usize> = y.map_or((0..lay.years.len()).collect(), |y| vec![y]);
    years
        .iter()
        .map(|&y| at(sm, lay.account(y, lay.munis, Account::Overspend), r))
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
        let mut push =
            |measure, period: Period, item: String, f: &dyn Fn(&Summary, usize) -> f64| {
                out.push(spread(
                    &p.arm,
                    measure,
                    period,
                    item,
                    &per_run(p, f),
                    &per_run(base, f),
                ));
            };
        // The accounts: totals, then their lines (care, community) or parts (municipal spend).
        let mut items: Vec<(&'static str, String, Vec<usize>, Option<usize>)> = Vec::new();
        for (measure, kind, account) in [
            ("care_cost", Some(LineKind::Care), Account::CareCost),
            (
                "community_cost",
                Some(LineKind::Community),
                Account::CommunityCost,
            ),
            ("municipal_spend", None, Account::MunicipalSpend),
        ] {
            items.push((measure, "total".into(), Vec::new(), Some(account as usize)));
            match kind {
                Some(kind) => {
                    for (l, line) in model.lines.iter().enumerate() {
                        if model.line_kinds[l] == kind {
                            items.push((measure, line.clone(), vec![l], None));
                        }
                    }
                }
                None => {
                    for part in [
                        Account::PaidDirectly,
                        Account::BudgetsPaid,
                        Account::TopUps,
                        Account::Refunds,
                        Account::BonusMalus,
                    ] {
                        let name = part.name().trim_start_matches("municipal_spend.");
                        items.push((measure, name.into(), Vec::new(), Some(part as usize)));
                    }
                }
            }
        }
        for (measure, item, lines, account) in &items {
            let value = |sm: &Summary, y: usize, r: usize| -> f64 {
                let lay = &sm.layout;
                match account {
                    Some(k) => at(sm, lay.account(y, lay.munis, Account::ALL[*k]), r),
                    None => lines
                        .iter()
                        .map(|&l| at(sm, lay.cost(y, lay.munis, l), r))
                        .sum(),
                }
            };
            push(measure, Period::All, item.clone(), &|sm, r| {
                (0..years.len()).map(|y| value(sm, y, r)).sum()
            });
            for (y, year) in years.iter().enumerate() {
                push(measure, Period::Year(*year), item.clone(), &|sm, r| {
                    value(sm, y, r)
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
                    Period::Year(*year),
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
                push(
                    "kpi",
                    Period::ContractYear(y + 1),
                    kpi.name.clone(),
                    &|sm, r| at(sm, sm.layout.kpi(model, k, y, 0), r),
                );
            }
        }
        push("overspend", Period::All, "total".into(), &|sm, r| {
            overspend(sm, None, r)
        });
        for (y, year) in years.iter().enumerate() {
            push(
                "overspend",
                Period::Year(*year),
                "total".into(),
                &|sm, r| overspend(sm, Some(y), r),
            );
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

/// Per-run totals of account `k` over every year (all municipalities).
pub fn account_per_run(sm: &Summary, k: Account) -> Vec<f64> {
    let lay = &sm.layout;
    (0..sm.runs)
        .map(|r| {
            (0..lay.years.len())
                .map(|y| at(sm, lay.account(y, lay.munis, k), r))
                .sum()
        })
        .collect()
}

/// P(overspend): the share of runs in which some budget pool of the arm overspends (spends beyond its
/// budget and reserve) in some year.
pub fn p_overspend(sm: &Summary) -> f64 {
    let over = account_per_run(sm, Account::Overspend);
    over.iter().filter(|&&x| x > 0.0).count() as f64 / over.len().max(1) as f64
}
