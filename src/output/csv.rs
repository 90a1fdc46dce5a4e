//! Tidy long-format CSV tables, as pure functions from a summary to bytes.
//!
//! Column order and row order are fixed (cycle, state in file order, ...); numbers are printed with a
//! fixed number of decimals by what they measure ([`decimals`]), so files are byte-identical for
//! identical results.
//!
//! Every table is CSV as spreadsheets read it in any locale: UTF-8 without a byte order mark, a comma
//! between fields, a dot before decimals, no thousands separators, `\n` line ends, and a field quoted
//! only when it holds a comma, a quote or a line break (a quote doubled).

use crate::aggregate::paired::Measure;
use crate::aggregate::{Econ, KpiCell, Stats, Summary};
use crate::model::{Model, RENEW};

/// Decimals by what a number measures: the one rule of every table (and `runs.csv`, except its KPI
/// values, written in full: whether a run met its target is recomputed from them). An `mcse` has one
/// decimal more than the column it is the error of.
pub mod decimals {
    /// Euros (costs, spend, budgets, incremental cost, cost per outcome).
    pub const EUROS: usize = 2;
    /// Numbers of clients (caseload, flows, evaluations).
    pub const CLIENTS: usize = 3;
    /// Shares and probabilities (KPI values, `p_met`, `p_lower`, P(overspend), risks).
    pub const SHARES: usize = 4;
    /// Outcomes: an outcome's weights summed over client-cycles (e.g. life years), per client too.
    pub const OUTCOMES: usize = 6;
}

/// Statistics over runs; `mcse` (the Monte Carlo standard error of the mean, `sd / sqrt(runs)`) comes
/// last so that the leading columns keep their order.
const STAT_HEADER: [&str; 8] = ["mean", "sd", "p05", "p25", "p50", "p75", "p95", "mcse"];

fn stat_fields(s: &Stats, decimals: usize, runs: usize) -> Vec<String> {
    let mut v = vec![
        format!("{:.*}", decimals, s.mean),
        format!("{:.*}", decimals, s.sd),
    ];
    v.extend(s.q.iter().map(|x| format!("{:.*}", decimals, x)));
    v.push(format!("{:.*}", decimals + 1, s.mcse(runs)));
    v
}

fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<&str> = header.to_vec();
    head.extend(STAT_HEADER);
    w.write_record(&head).expect("writing to memory");
    for r in rows {
        w.write_record(&r).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// The `arm,scope,scope_name` fields of a row.
fn lead(sm: &Summary, sc: usize) -> Vec<String> {
    let scope = &sm.layout.scopes[sc];
    vec![
        sm.arm.clone(),
        scope.kind.name().to_string(),
        scope.name.clone(),
    ]
}

/// The header fields `arm,scope,scope_name` followed by `rest`.
fn head<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["arm", "scope", "scope_name"];
    v.extend(rest);
    v
}

/// `caseload.csv`: `arm,scope,scope_name,cycle,date,state,` statistics.
pub fn caseload(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut rows = Vec::new();
    for sm in summaries {
        for sc in 0..sm.layout.scopes.len() {
            for c in 0..sm.layout.cycles {
                for (s, st) in model.states.iter().enumerate() {
                    let mut r = lead(sm, sc);
                    r.extend([
                        c.to_string(),
                        model.date(c as u32).to_string(),
                        st.code.clone(),
                    ]);
                    r.extend(stat_fields(
                        &sm.stats[sm.layout.caseload(sc, c, s)],
                        3,
                        sm.runs,
                    ));
                    rows.push(r);
                }
            }
        }
    }
    table(&head(&["cycle", "date", "state"]), rows.into_iter())
}

/// The kind and the from/to codes of a flow.
pub fn flow_names(model: &Model, (from, to): (usize, u8)) -> (&'static str, String, String) {
    let n = model.n_states();
    if from == n {
        return (
            "inflow",
            String::new(),
            model.states[usize::from(to)].code.clone(),
        );
    }
    let f = model.states[from].code.clone();
    if to == RENEW {
        return ("renewal", f.clone(), f);
    }
    let t = &model.states[usize::from(to)];
    (
        if t.absorbing { "outflow" } else { "transition" },
        f,
        t.code.clone(),
    )
}

/// `flows.csv`: `arm,scope,scope_name,year,flow,from,to,` statistics; `flow` is inflow, transition,
/// renewal or outflow.
pub fn flows(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut rows = Vec::new();
    for sm in summaries {
        for sc in 0..sm.layout.scopes.len() {
            for (y, year) in sm.layout.years.iter().enumerate() {
                for (f, &fl) in sm.layout.flows.iter().enumerate() {
                    let (kind, from, to) = flow_names(model, fl);
                    let mut r = lead(sm, sc);
                    r.extend([year.to_string(), kind.to_string(), from, to]);
                    r.extend(stat_fields(&sm.stats[sm.layout.flow(sc, y, f)], 3, sm.runs));
                    rows.push(r);
                }
            }
        }
    }
    table(&head(&["year", "flow", "from", "to"]), rows.into_iter())
}

/// `costs.csv`: `arm,scope,scope_name,year,line,kind,` statistics, nominal euros, one row per cost line
/// (no total rows: the totals of care and community support are `accounts.csv`). Own contributions
/// are negative (income).
pub fn costs(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut rows = Vec::new();
    for sm in summaries {
        for sc in 0..sm.layout.scopes.len() {
            for (y, year) in sm.layout.years.iter().enumerate() {
                for (l, line) in model.lines.iter().enumerate() {
                    let mut r = lead(sm, sc);
                    r.extend([
                        year.to_string(),
                        line.clone(),
                        model.line_kinds[l].word().to_string(),
                    ]);
                    r.extend(stat_fields(&sm.stats[sm.layout.cost(sc, y, l)], 2, sm.runs));
                    rows.push(r);
                }
            }
        }
    }
    table(&head(&["year", "line", "kind"]), rows.into_iter())
}

/// `accounts.csv`: `arm,scope,scope_name,year,account,` statistics: care cost, community cost and
/// municipal spend (with its parts `municipal_spend.*`, which sum to it) and overspend, as defined at
/// [`crate::aggregate::Account`].
pub fn accounts(summaries: &[Summary]) -> Vec<u8> {
    let mut rows = Vec::new();
    for sm in summaries {
        for sc in 0..sm.layout.scopes.len() {
            for (y, year) in sm.layout.years.iter().enumerate() {
                for k in crate::aggregate::Account::ALL {
                    let mut r = lead(sm, sc);
                    r.extend([year.to_string(), k.name().to_string()]);
                    r.extend(stat_fields(
                        &sm.stats[sm.layout.account(sc, y, k)],
                        2,
                        sm.runs,
                    ));
                    rows.push(r);
                }
            }
        }
    }
    table(&head(&["year", "account"]), rows.into_iter())
}

/// `budget.csv`: `arm,scope,scope_name,year,measure,` statistics, for every budget pool (scope `area`,
/// `municipality` or `region`: the areas that share the budget) in the years of its pilot period.
/// Measures: see [`crate::aggregate::BudgetMeasure`].
pub fn budget(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let rows = summaries.iter().flat_map(|sm| {
        let arm = model
            .arms
            .iter()
            .position(|a| a.name == sm.arm)
            .expect("summary of an arm");
        sm.layout
            .pools
            .iter()
            .enumerate()
            .flat_map(move |(i, pool)| {
                let years = model.plan_years(sm.layout.pool_plan(model, arm, i));
                sm.layout
                    .years
                    .iter()
                    .enumerate()
                    .filter(move |(y, _)| years.contains(y))
                    .flat_map(move |(y, year)| {
                        crate::aggregate::BudgetMeasure::ALL.iter().map(move |&k| {
                            let mut r = vec![
                                sm.arm.clone(),
                                pool.unit.name().to_string(),
                                pool.name.clone(),
                                year.to_string(),
                                k.name().to_string(),
                            ];
                            // `overspent` is 0 or 1 per run: its mean is P(overspend).
                            let d = if k == crate::aggregate::BudgetMeasure::Overspent {
                                decimals::SHARES
                            } else {
                                decimals::EUROS
                            };
                            r.extend(stat_fields(
                                &sm.stats[sm.layout.budget(i, y, k)],
                                d,
                                sm.runs,
                            ));
                            r
                        })
                    })
            })
    });
    table(&["arm", "scope", "scope_name", "year", "measure"], rows)
}

/// `differences.csv`: `arm,scope,scope_name,measure,period,year,item,mean,sd,p05,p50,p95,p_lower`:
/// every pilot arm against the baseline, paired by run, in every scope; `period` is `all`, `year` or `contract_year` and `year` a
/// number (empty for `all`: see [`crate::aggregate::paired::Period`]); `p_lower` is the share of runs in which
/// the pilot is lower.
pub fn differences(diffs: &[crate::aggregate::paired::Difference]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "arm",
        "scope",
        "scope_name",
        "measure",
        "period",
        "year",
        "item",
        "mean",
        "sd",
        "p05",
        "p50",
        "p95",
        "p_lower",
    ])
    .expect("writing to memory");
    for d in diffs {
        let dec = match d.measure {
            Measure::Caseload => 3,
            Measure::Kpi => 4,
            Measure::Account(_) | Measure::Cost => 2,
        };
        let f = |x: f64| format!("{:.*}", dec, x);
        w.write_record([
            d.arm.clone(),
            d.scope.name().to_string(),
            d.scope_name.clone(),
            d.measure.name().to_string(),
            d.period.kind().to_string(),
            d.period.number(),
            d.item.clone(),
            f(d.mean),
            f(d.sd),
            f(d.q[0]),
            f(d.q[1]),
            f(d.q[2]),
            format!("{:.4}", d.p_lower),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// `kpis.csv`: `arm,scope,scope_name,contract_year,kpi,target,mean,p05,p50,p95,p_met,mcse`, every KPI
/// (but evaluations: [`evaluations`]) over each of its scopes; `p_met` is the share of runs meeting
/// the target.
pub fn kpis(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "arm",
        "scope",
        "scope_name",
        "contract_year",
        "kpi",
        "target",
        "mean",
        "p05",
        "p50",
        "p95",
        "p_met",
        "mcse",
    ])
    .expect("writing to memory");
    for sm in summaries {
        for (k, kpi) in model.kpis.iter().enumerate() {
            if kpi.is_evaluations() {
                continue;
            }
            for (i, &sc) in kpi.scopes.iter().enumerate() {
                for y in 0..kpi.years() {
                    let cell = sm.layout.kpi(model, k, i, y, KpiCell::Value);
                    let st = &sm.stats[cell];
                    let p_met = kpi.p_met(y, &sm.columns.column(cell));
                    let t = kpi.targets.get(y).copied().flatten();
                    let f = |x: f64| format!("{x:.4}");
                    let mut r = lead(sm, sc);
                    r.extend([
                        (y + 1).to_string(),
                        kpi.name.clone(),
                        t.map_or(String::new(), f),
                        f(st.mean),
                        f(st.q[0]),
                        f(st.q[2]),
                        f(st.q[4]),
                        t.map_or(String::new(), |_| f(p_met)),
                        format!("{:.5}", st.mcse(sm.runs)),
                    ]);
                    w.write_record(&r).expect("writing to memory");
                }
            }
        }
    }
    w.into_inner().expect("writing to memory")
}

/// `evaluations.csv`: `arm,scope,scope_name,contract_year,evaluation,measure,` statistics: for every
/// KPI of kind `evaluations` over each of its scopes, the evaluations `due` (clients in its states
/// at the start of the contract year plus those entering them) and `held` (due times the planned
/// share, an assumption), both numbers of evaluations. Their cost is on the KPI's cost line in
/// `costs.csv`.
pub fn evaluations(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut rows = Vec::new();
    for sm in summaries {
        for (k, kpi) in model.kpis.iter().enumerate() {
            if !kpi.is_evaluations() {
                continue;
            }
            for (i, &sc) in kpi.scopes.iter().enumerate() {
                for y in 0..kpi.years() {
                    for cell in KpiCell::EVALUATION {
                        let mut r = lead(sm, sc);
                        r.extend([(y + 1).to_string(), kpi.name.clone(), cell.name().into()]);
                        r.extend(stat_fields(
                            &sm.stats[sm.layout.kpi(model, k, i, y, cell)],
                            3,
                            sm.runs,
                        ));
                        rows.push(r);
                    }
                }
            }
        }
    }
    table(
        &head(&["contract_year", "evaluation", "measure"]),
        rows.into_iter(),
    )
}

/// `summary.csv`: `arm,scope,scope_name,measure,outcome,mean,mcse,p05,p50,p95`, in every scope. Per arm:
/// `clients` (initial plus new), `cost_per_client` (discounted) and `outcome_per_client` for each
/// outcome; per pilot arm, paired by run with the baseline: `incremental_cost`,
/// `incremental_outcome` and `icer` (mean incremental cost over mean incremental outcome; mean only).
/// `mcse` is the Monte Carlo standard error of the mean.
pub fn summary(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(head(&[
        "measure", "outcome", "mean", "mcse", "p05", "p50", "p95",
    ]))
    .expect("writing to memory");
    let Some(first) = summaries.first() else {
        return w.into_inner().expect("writing to memory");
    };
    for sc in 0..first.layout.scopes.len() {
        for sm in summaries {
            per_client_rows(&mut w, model, sm, sc);
        }
        if let Some((base, pilots)) = summaries.split_first() {
            incremental_rows(&mut w, model, base, pilots, sc);
        }
    }
    w.into_inner().expect("writing to memory")
}

/// Per run, an econ measure `e` of scope `sc` per client (0 in a run without clients).
fn per_client(sm: &Summary, sc: usize, e: Econ) -> Vec<f64> {
    let (v, clients) = (
        sm.columns.column(sm.layout.econ(sc, e)),
        sm.columns.column(sm.layout.econ(sc, Econ::Clients)),
    );
    v.iter()
        .zip(clients.iter())
        .map(|(x, n)| if *n > 0.0 { x / n } else { 0.0 })
        .collect()
}

/// A row of `summary.csv`: the statistics over runs of `values`, a measure of arm `sm` in scope `sc`,
/// with the decimals of its kind.
fn summary_row(
    w: &mut csv::Writer<Vec<u8>>,
    sm: &Summary,
    sc: usize,
    (measure, outcome): (&str, &str),
    values: &[f64],
) {
    let n = values.len();
    let mut sorted = values.to_vec();
    let st = crate::aggregate::stats(&mut sorted);
    let d = match measure {
        "clients" => decimals::CLIENTS,
        "cost_per_client" | "incremental_cost" => decimals::EUROS,
        _ => decimals::OUTCOMES,
    };
    let f = |x: f64| format!("{x:.d$}");
    let mut r = lead(sm, sc);
    r.extend([
        measure.into(),
        outcome.into(),
        f(st.mean),
        format!("{:.*}", d + 1, st.mcse(n)),
        f(st.q[0]),
        f(st.q[2]),
        f(st.q[4]),
    ]);
    w.write_record(&r).expect("writing to memory");
}

/// An arm's rows in scope `sc`: its clients, cost per client and each outcome per client.
fn per_client_rows(w: &mut csv::Writer<Vec<u8>>, model: &Model, sm: &Summary, sc: usize) {
    let clients = sm.columns.column(sm.layout.econ(sc, Econ::Clients));
    summary_row(w, sm, sc, ("clients", ""), &clients);
    let cost = per_client(sm, sc, Econ::DiscountedCost);
    summary_row(w, sm, sc, ("cost_per_client", ""), &cost);
    for (k, o) in model.outcomes.iter().enumerate() {
        let outcome = per_client(sm, sc, Econ::Outcome(k));
        summary_row(w, sm, sc, ("outcome_per_client", &o.name), &outcome);
    }
}

/// Each pilot arm's rows in scope `sc`, paired by run with the baseline: the incremental cost and
/// outcomes per client; then per pilot and outcome the ICER (mean only, empty without an
/// incremental outcome).
fn incremental_rows(
    w: &mut csv::Writer<Vec<u8>>,
    model: &Model,
    base: &Summary,
    pilots: &[Summary],
    sc: usize,
) {
    let mut icers = Vec::new();
    for p in pilots {
        let diff = |e: Econ| -> Vec<f64> {
            per_client(p, sc, e)
                .iter()
                .zip(per_client(base, sc, e))
                .map(|(a, b)| a - b)
                .collect()
        };
        let dc = diff(Econ::DiscountedCost);
        summary_row(w, p, sc, ("incremental_cost", ""), &dc);
        for (k, o) in model.outcomes.iter().enumerate() {
            let dout = diff(Econ::Outcome(k));
            summary_row(w, p, sc, ("incremental_outcome", &o.name), &dout);
            let (mc, mo) = (dc.iter().sum::<f64>(), dout.iter().sum::<f64>());
            icers.push((
                p,
                o.name.clone(),
                if mo != 0.0 {
                    format!("{:.*}", decimals::EUROS, mc / mo)
                } else {
                    String::new()
                },
            ));
        }
    }
    for (p, outcome, ratio) in icers {
        let mut r = lead(p, sc);
        r.extend([
            "icer".into(),
            outcome,
            ratio,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        w.write_record(&r).expect("writing to memory");
    }
}
