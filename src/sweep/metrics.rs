//! The summary metrics of one sweep point, per arm: the columns of `sweep.csv` after the parameters.
//!
//! Names are `<arm>.<metric>`, with the accounts of [`crate::aggregate::Account`]. Per arm:
//! `care_cost_total` and `municipal_spend_total` (nominal, all years and municipalities; mean with
//! `_p05`, `_p95` and `_mcse`), `care_cost_<year>` and `municipal_spend_<year>` (mean),
//! `community_cost_total`, `discounted_cost` (mean) and each outcome `discounted_<outcome>` (mean); for
//! arms with pilot budgets `overspend` (mean total over areas and years) and `p_overspend` (share of runs
//! with any overspend); every KPI per contract year `<kpi>_cy<n>` (mean) and, where it has a target,
//! `<kpi>_cy<n>_p_met`. Per pilot arm, paired by run with the baseline: `care_cost_difference` and
//! `municipal_spend_difference` (mean, `_p05`, `_p95`), `p_care_cost_lower` and
//! `p_municipal_spend_lower`. The same metrics over the pilot areas together (scope `pilot_areas`,
//! where some arm assigns an area to a regime; KPIs where they are evaluated over it) are
//! `<arm>.pilot_areas.<metric>`, e.g. `dorpsbudget.pilot_areas.care_cost_difference`.

use crate::aggregate::paired::account_per_run;
use crate::aggregate::{Account, Econ, KpiCell, Layout, Summary};
use crate::model::Model;
use crate::model::scope::REGION;

/// What a metric column holds, for its number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Euros, 2 decimals.
    Euros,
    /// A share or probability, 4 decimals.
    Share,
    /// Any other number, 6 decimals.
    Number,
}

/// How a metric is computed from the summaries of a point's arms.
type MetricFn = Box<dyn Fn(&[Summary]) -> f64>;

/// One metric: its column name and how it is computed from an arm's per-run values.
struct Metric {
    name: String,
    kind: Kind,
    value: MetricFn,
}

fn per_run(sm: &Summary, cells: &[usize]) -> Vec<f64> {
    (0..sm.runs)
        .map(|r| cells.iter().map(|&c| sm.columns.value(c, r)).sum())
        .collect()
}

/// The statistics of per-run values (the one definition: [`crate::aggregate::stats`]).
fn over_runs(mut v: Vec<f64>) -> crate::aggregate::Stats {
    crate::aggregate::stats(&mut v)
}

fn metrics(model: &Model) -> Vec<Metric> {
    let mut out = Metrics(Vec::new());
    for (a, arm) in model.arms.iter().enumerate() {
        let l = Layout::new(model, a);
        let scopes: Vec<usize> = std::iter::once(REGION).chain(l.pilot_scope()).collect();
        for sc in scopes {
            // The region's metrics are `<arm>.<metric>`, the pilot areas' `<arm>.pilot_areas.<metric>`.
            let an = if sc == REGION {
                arm.name.clone()
            } else {
                format!("{}.{}", arm.name, l.scopes[sc].kind.name())
            };
            let at = At {
                a,
                sc,
                an: &an,
                l: &l,
            };
            out.accounts(&at);
            out.costs(model, &at);
            if !l.pools.is_empty() && sc == REGION {
                out.overspend(&at);
            }
            out.kpis(model, &at);
            if a > 0 {
                out.differences(&at);
            }
        }
    }
    out.0
}

/// Where metrics are made: arm `a` in scope `sc`, named `an` (`<arm>` or `<arm>.<scope kind>`), with
/// the arm's layout `l`.
struct At<'a> {
    a: usize,
    sc: usize,
    an: &'a str,
    l: &'a Layout,
}

/// The metrics made so far, in column order.
struct Metrics(Vec<Metric>);

impl Metrics {
    fn push(&mut self, name: String, kind: Kind, value: MetricFn) {
        self.0.push(Metric { name, kind, value });
    }

    /// Care cost and municipal spend: the total's mean, P5, P95 and Monte Carlo standard error, and
    /// each year's mean.
    fn accounts(&mut self, at: &At) {
        let (a, sc, an) = (at.a, at.sc, at.an);
        for k in [Account::CareCost, Account::MunicipalSpend] {
            let stem = k.name();
            self.push(
                format!("{an}.{stem}_total"),
                Kind::Euros,
                Box::new(move |s| over_runs(account_per_run(&s[a], sc, k)).mean),
            );
            self.push(
                format!("{an}.{stem}_total_p05"),
                Kind::Euros,
                Box::new(move |s| over_runs(account_per_run(&s[a], sc, k)).q[0]),
            );
            self.push(
                format!("{an}.{stem}_total_p95"),
                Kind::Euros,
                Box::new(move |s| over_runs(account_per_run(&s[a], sc, k)).q[4]),
            );
            self.push(
                format!("{an}.{stem}_total_mcse"),
                Kind::Euros,
                Box::new(move |s| {
                    let v = account_per_run(&s[a], sc, k);
                    let n = v.len();
                    over_runs(v).mcse(n)
                }),
            );
            for (y, year) in at.l.years.iter().enumerate() {
                let c = at.l.account(sc, y, k);
                self.push(
                    format!("{an}.{stem}_{year}"),
                    Kind::Euros,
                    Box::new(move |s| s[a].stats[c].mean),
                );
            }
        }
    }

    /// The community cost's total, the discounted cost and each discounted outcome (means).
    fn costs(&mut self, model: &Model, at: &At) {
        let (a, sc, an) = (at.a, at.sc, at.an);
        self.push(
            format!("{an}.community_cost_total"),
            Kind::Euros,
            Box::new(move |s| over_runs(account_per_run(&s[a], sc, Account::CommunityCost)).mean),
        );
        let c = at.l.econ(sc, Econ::DiscountedCost);
        self.push(
            format!("{an}.discounted_cost"),
            Kind::Euros,
            Box::new(move |s| s[a].stats[c].mean),
        );
        for (k, o) in model.outcomes.iter().enumerate() {
            let c = at.l.econ(sc, Econ::Outcome(k));
            self.push(
                format!("{an}.discounted_{}", o.name),
                Kind::Number,
                Box::new(move |s| s[a].stats[c].mean),
            );
        }
    }

    /// The mean overspend over the budget pools and years, and the share of runs with any.
    fn overspend(&mut self, at: &At) {
        let (a, an, l) = (at.a, at.an, at.l);
        let cells: Vec<usize> = (0..l.pools.len())
            .flat_map(|i| (0..l.years.len()).map(move |y| (i, y)))
            .map(|(i, y)| l.budget(i, y, crate::aggregate::BudgetMeasure::Overspend))
            .collect();
        self.push(
            format!("{an}.overspend"),
            Kind::Euros,
            Box::new(move |s| over_runs(per_run(&s[a], &cells)).mean),
        );
        self.push(
            format!("{an}.p_overspend"),
            Kind::Share,
            Box::new(move |s| crate::aggregate::paired::p_overspend(&s[a])),
        );
    }

    /// Every KPI evaluated over the scope, per contract year: its mean, and the chance its target is
    /// met where it has one.
    fn kpis(&mut self, model: &Model, at: &At) {
        let (a, sc, an) = (at.a, at.sc, at.an);
        for (k, kpi) in model.kpis.iter().enumerate() {
            let Some(i) = kpi.scopes.iter().position(|&x| x == sc) else {
                continue;
            };
            if kpi.is_evaluations() {
                continue;
            }
            for y in 0..kpi.years() {
                let c = at.l.kpi(model, k, i, y, KpiCell::Value);
                // A count is a number of clients; every other kind a share.
                self.push(
                    format!("{an}.{}_cy{}", kpi.name, y + 1),
                    if kpi.is_count() {
                        Kind::Number
                    } else {
                        Kind::Share
                    },
                    Box::new(move |s| s[a].stats[c].mean),
                );
                if kpi.targets.get(y).copied().flatten().is_some() {
                    let kp = kpi.clone();
                    self.push(
                        format!("{an}.{}_cy{}_p_met", kpi.name, y + 1),
                        Kind::Share,
                        Box::new(move |s| kp.p_met(y, &s[a].columns.column(c))),
                    );
                }
            }
        }
    }

    /// A pilot arm's care cost and municipal spend less the baseline's, paired by run: mean, P5, P95,
    /// and the chance it is lower.
    fn differences(&mut self, at: &At) {
        let (a, sc, an) = (at.a, at.sc, at.an);
        for k in [Account::CareCost, Account::MunicipalSpend] {
            let stem = k.name();
            let diff = std::rc::Rc::new(move |s: &[Summary]| -> Vec<f64> {
                account_per_run(&s[a], sc, k)
                    .iter()
                    .zip(account_per_run(&s[0], sc, k))
                    .map(|(p, b)| p - b)
                    .collect()
            });
            let d = diff.clone();
            self.push(
                format!("{an}.{stem}_difference"),
                Kind::Euros,
                Box::new(move |s| over_runs(d(s)).mean),
            );
            let d = diff.clone();
            self.push(
                format!("{an}.{stem}_difference_p05"),
                Kind::Euros,
                Box::new(move |s| over_runs(d(s)).q[0]),
            );
            let d = diff.clone();
            self.push(
                format!("{an}.{stem}_difference_p95"),
                Kind::Euros,
                Box::new(move |s| over_runs(d(s)).q[4]),
            );
            self.push(
                format!("{an}.p_{stem}_lower"),
                Kind::Share,
                Box::new(move |s| {
                    let d = diff(s);
                    d.iter().filter(|&&x| x < 0.0).count() as f64 / d.len() as f64
                }),
            );
        }
    }
}

/// The metric names of a model, in column order.
pub fn names(model: &Model) -> Vec<String> {
    metrics(model).into_iter().map(|m| m.name).collect()
}

/// The metric kinds of a model, in column order.
pub fn kinds(model: &Model) -> Vec<Kind> {
    metrics(model).into_iter().map(|m| m.kind).collect()
}

/// The metrics of one point, formatted for `sweep.csv` (fixed decimals, so files are byte-identical
/// for identical results).
pub fn values(model: &Model, summaries: &[Summary]) -> Vec<String> {
    metrics(model)
        .into_iter()
        .map(|m| {
            let x = (m.value)(summaries);
            match m.kind {
                Kind::Euros => format!("{x:.2}"),
                Kind::Share => format!("{x:.4}"),
                Kind::Number => format!("{x:.6}"),
            }
        })
        .collect()
}

/// The default metric of the tornado plot: the first pilot arm's paired difference in care cost (the
/// pilot's effect), or the baseline's total care cost without pilot arms.
pub fn default_metric(model: &Model) -> String {
    match model.arms.get(1) {
        Some(a) => format!("{}.care_cost_difference", a.name),
        None => format!("{}.care_cost_total", model.arms[0].name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_kpi_is_a_number_and_its_probability_a_share() {
        let model = crate::scenario::default_scenario().model;
        let k = model
            .kpis
            .iter()
            .position(|k| k.is_count())
            .expect("the default counts");
        let name = &model.kpis[k].name;
        let (names, kinds) = (names(&model), kinds(&model));
        let kind = |n: &str| kinds[names.iter().position(|x| x == n).expect(n)];
        // The default evaluates it over the region only.
        let stem = format!("dorpsbudget_noord_beveland.{name}_cy3");
        assert_eq!(kind(&stem), Kind::Number, "{stem}");
        assert_eq!(kind(&format!("{stem}_p_met")), Kind::Share);
        assert!(
            !names
                .iter()
                .any(|n| n.contains(&format!("pilot_areas.{name}")))
        );
        assert_eq!(kind("baseline.aandeel_waakvlam_cy3"), Kind::Share);
    }
}
