//! Paired comparison of pilot arms with the baseline.
//!
//! Run `r` of a pilot arm and run `r` of the baseline share their random numbers (common random
//! numbers), so the difference of a reported number is taken run by run and its spread is that of the
//! pilot's *effect*, not of the chance both arms share. Every pilot arm is compared with the first arm.

use crate::aggregate::{Account, KpiCell, Summary, quantile};
use crate::model::Model;
use crate::model::scope::ScopeKind;

/// The spread of a paired difference over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Pilot arm.
    pub arm: String,
    /// The scope's kind.
    pub scope: ScopeKind,
    /// The scope's name.
    pub scope_name: String,
    /// What it measures: an account, a cost line, a state's caseload or a KPI.
    pub measure: Measure,
    /// The period it covers.
    pub period: Period,
    /// Empty for an account; the line for `cost`, the state code for `caseload`, the KPI's name for
    /// `kpi`. No row is the total of others of the same measure.
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

/// What a paired difference measures, written as `measure` in `differences.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// An account (see [`Account`]); the item is empty. No account is the total of others.
    Account(Account),
    /// The cost on a line; the item is the line.
    Cost,
    /// The mean caseload over a year's cycles; the item is the state's code.
    Caseload,
    /// A KPI's value in a contract year; the item is the KPI's name.
    Kpi,
}

impl Measure {
    /// Every measure, in the order of `differences.csv`: the accounts, then `cost`, `caseload` and
    /// `kpi`.
    pub const ALL: [Measure; 12] = [
        Measure::Account(Account::CareCost),
        Measure::Account(Account::CommunityCost),
        Measure::Account(Account::MunicipalSpend),
        Measure::Account(Account::PaidDirectly),
        Measure::Account(Account::BudgetsPaid),
        Measure::Account(Account::TopUps),
        Measure::Account(Account::Refunds),
        Measure::Account(Account::BonusMalus),
        Measure::Account(Account::Overspend),
        Measure::Cost,
        Measure::Caseload,
        Measure::Kpi,
    ];

    /// The text of the `measure` column: the account's name (`care_cost`, ...), `cost`, `caseload`
    /// or `kpi`.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Account(k) => k.name(),
            Measure::Cost => "cost",
            Measure::Caseload => "caseload",
            Measure::Kpi => "kpi",
        }
    }

    /// The measure a `measure` column names, if any.
    pub fn parse(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl From<Account> for Measure {
    fn from(k: Account) -> Measure {
        Measure::Account(k)
    }
}

/// Per-run values of one measure: `f(summary, run)`.
fn per_run(sm: &Summary, f: &dyn Fn(&Summary, usize) -> f64) -> Vec<f64> {
    (0..sm.runs).map(|r| f(sm, r)).collect()
}

fn spread(
    arm: &str,
    scope: &crate::model::scope::Scope,
    measure: Measure,
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
    sorted.sort_unstable_by(f64::total_cmp);
    Difference {
        arm: arm.to_string(),
        scope: scope.kind,
        scope_name: scope.name.clone(),
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
    sm.columns.value(cell, r)
}

/// Paired differences of every pilot arm against the baseline (the first summary), for every scope.
pub fn differences(model: &Model, summaries: &[Summary]) -> Vec<Difference> {
    let Some((base, pilots)) = summaries.split_first() else {
        return Vec::new();
    };
    let lay = &base.layout;
    let years = &lay.years;
    let mut out = Vec::new();
    for p in pilots {
        for (sc, scope) in lay.scopes.iter().enumerate() {
            let mut push =
                |measure, period: Period, item: String, f: &dyn Fn(&Summary, usize) -> f64| {
                    out.push(spread(
                        &p.arm,
                        scope,
                        measure,
                        period,
                        item,
                        &per_run(p, f),
                        &per_run(base, f),
                    ));
                };
            // Per year, and over every year.
            let mut yearly = |measure, item: String, cell: &dyn Fn(&Summary, usize) -> usize| {
                push(measure, Period::All, item.clone(), &|sm, r| {
                    (0..years.len()).map(|y| at(sm, cell(sm, y), r)).sum()
                });
                for (y, year) in years.iter().enumerate() {
                    push(measure, Period::Year(*year), item.clone(), &|sm, r| {
                        at(sm, cell(sm, y), r)
                    });
                }
            };
            for k in Account::ALL {
                yearly(Measure::Account(k), String::new(), &|sm, y| {
                    sm.layout.account(sc, y, k)
                });
            }
            for (l, line) in model.lines.iter().enumerate() {
                yearly(Measure::Cost, line.clone(), &|sm, y| {
                    sm.layout.cost(sc, y, l)
                });
            }
            for (y, year) in years.iter().enumerate() {
                let cycles: Vec<usize> = (0..lay.cycles)
                    .filter(|&c| model.year_index(c as u32) == y)
                    .collect();
                for (s, st) in model.states.iter().enumerate() {
                    push(
                        Measure::Caseload,
                        Period::Year(*year),
                        st.code.clone(),
                        &|sm, r| {
                            cycles
                                .iter()
                                .map(|&c| at(sm, sm.layout.caseload(sc, c, s), r))
                                .sum::<f64>()
                                / cycles.len() as f64
                        },
                    );
                }
            }
            for (k, kpi) in model.kpis.iter().enumerate() {
                let Some(i) = kpi.scopes.iter().position(|&x| x == sc) else {
                    continue;
                };
                for y in 0..kpi.years() {
                    push(
                        Measure::Kpi,
                        Period::ContractYear(y + 1),
                        kpi.name.clone(),
                        &|sm, r| at(sm, sm.layout.kpi(model, k, i, y, KpiCell::Value), r),
                    );
                }
            }
        }
    }
    out
}

/// The difference of account `k` over the whole horizon in the region, for arm `arm`.
pub fn region_total<'d>(diffs: &'d [Difference], arm: &str, k: Account) -> Option<&'d Difference> {
    find(
        diffs,
        arm,
        ScopeKind::Region,
        Measure::Account(k),
        Period::All,
        "",
    )
}

/// The difference of `measure` and `item` in the first scope of `kind`, over `period`.
pub fn find<'d>(
    diffs: &'d [Difference],
    arm: &str,
    kind: ScopeKind,
    measure: Measure,
    period: Period,
    item: &str,
) -> Option<&'d Difference> {
    let name = diffs
        .iter()
        .find(|d| d.scope == kind)
        .map(|d| &d.scope_name)?;
    diffs.iter().find(|d| {
        d.arm == arm
            && d.scope == kind
            && d.scope_name == *name
            && d.measure == measure
            && d.period == period
            && d.item == item
    })
}

/// Quantiles of the per-run values of one cell.
pub fn cell_quantiles(sm: &Summary, cell: usize, levels: &[f64]) -> Vec<f64> {
    crate::aggregate::quantiles(&sm.columns.column(cell), levels)
}

/// Per-run totals of account `k` of scope `sc` over every year.
pub fn account_per_run(sm: &Summary, sc: usize, k: Account) -> Vec<f64> {
    let lay = &sm.layout;
    (0..sm.runs)
        .map(|r| {
            (0..lay.years.len())
                .map(|y| at(sm, lay.account(sc, y, k), r))
                .sum()
        })
        .collect()
}

/// P(overspend): the share of runs in which some budget pool of the arm overspends (spends beyond its
/// budget and reserve) in some year.
pub fn p_overspend(sm: &Summary) -> f64 {
    let over = account_per_run(sm, crate::model::scope::REGION, Account::Overspend);
    over.iter().filter(|&&x| x > 0.0).count() as f64 / over.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measure_reads_back_from_the_text_written_in_differences_csv() {
        for m in Measure::ALL {
            assert_eq!(Measure::parse(m.name()), Some(m), "{m:?}");
        }
        let names: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "two measures share a name: {names:?}"
        );
        // Every account is a measure, under the account's own name.
        for k in Account::ALL {
            assert_eq!(Measure::parse(k.name()), Some(Measure::Account(k)));
        }
        assert_eq!(Measure::parse("care_cost"), Some(Account::CareCost.into()));
        assert_eq!(Measure::parse("total"), None);
        assert_eq!(Measure::parse(""), None);
    }
}
