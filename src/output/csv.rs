//! Tidy long-format CSV tables, as pure functions from a summary to bytes.
//!
//! Column order and row order are fixed (cycle, state in file order, ...); numbers are printed with a
//! fixed number of decimals (counts 3, euros 2), so files are byte-identical for identical results.

use crate::model::{Model, RENEW};
use crate::summary::{Stats, Summary};

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

/// `caseload.csv`: `arm,cycle,date,state,mean,sd,p05,p25,p50,p75,p95`.
pub fn caseload(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let rows = summaries.iter().flat_map(|sm| {
        (0..sm.layout.cycles).flat_map(move |c| {
            model.states.iter().enumerate().map(move |(s, st)| {
                let mut r = vec![
                    sm.arm.clone(),
                    c.to_string(),
                    model.date(c as u32).to_string(),
                    st.code.clone(),
                ];
                r.extend(stat_fields(&sm.stats[sm.layout.caseload(c, s)], 3, sm.runs));
                r
            })
        })
    });
    table(&["arm", "cycle", "date", "state"], rows)
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

/// `flows.csv`: `arm,year,flow,from,to,` statistics; `flow` is inflow, transition, renewal or outflow.
pub fn flows(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let rows = summaries.iter().flat_map(|sm| {
        sm.layout
            .years
            .iter()
            .enumerate()
            .flat_map(move |(y, year)| {
                sm.layout.flows.iter().enumerate().map(move |(f, &fl)| {
                    let (kind, from, to) = flow_names(model, fl);
                    let mut r = vec![sm.arm.clone(), year.to_string(), kind.to_string(), from, to];
                    r.extend(stat_fields(&sm.stats[sm.layout.flow(y, f)], 3, sm.runs));
                    r
                })
            })
    });
    table(&["arm", "year", "flow", "from", "to"], rows)
}

/// `costs.csv`: `arm,year,municipality,line,` statistics, nominal euros; `total` rows for all
/// municipalities and all lines. Own contributions are negative (income).
pub fn costs(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let munis: Vec<&str> = model
        .municipalities
        .iter()
        .map(String::as_str)
        .chain(["total"])
        .collect();
    let lines: Vec<&str> = model
        .lines
        .iter()
        .map(String::as_str)
        .chain(["total"])
        .collect();
    let rows = summaries.iter().flat_map(|sm| {
        let (munis, lines) = (munis.clone(), lines.clone());
        sm.layout
            .years
            .iter()
            .enumerate()
            .flat_map(move |(y, year)| {
                let lines = lines.clone();
                munis
                    .clone()
                    .into_iter()
                    .enumerate()
                    .flat_map(move |(m, muni)| {
                        lines.clone().into_iter().enumerate().map(move |(l, line)| {
                            let mut r = vec![
                                sm.arm.clone(),
                                year.to_string(),
                                muni.to_string(),
                                line.to_string(),
                                model.line_kinds.get(l).map_or("", |k| k.word()).to_string(),
                            ];
                            r.extend(stat_fields(&sm.stats[sm.layout.cost(y, m, l)], 2, sm.runs));
                            r
                        })
                    })
            })
    });
    table(&["arm", "year", "municipality", "line", "kind"], rows)
}

/// `accounts.csv`: care cost, community cost and municipal spend (with its parts) per arm, year and
/// municipality, as defined at [`crate::summary::Account`].
pub fn accounts(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let munis = crate::compare::and_total(&model.municipalities);
    let mut rows = Vec::new();
    for sm in summaries {
        for (y, year) in sm.layout.years.iter().enumerate() {
            for (m, muni) in munis.iter().enumerate() {
                for k in crate::summary::Account::ALL {
                    let mut r = vec![
                        sm.arm.clone(),
                        year.to_string(),
                        muni.clone(),
                        k.name().to_string(),
                    ];
                    r.extend(stat_fields(
                        &sm.stats[sm.layout.account(y, m, k)],
                        2,
                        sm.runs,
                    ));
                    rows.push(r);
                }
            }
        }
    }
    table(
        &["arm", "year", "municipality", "account"],
        rows.into_iter(),
    )
}

/// `budget.csv`: `arm,scope,scope_name,year,measure,` statistics, for every budget pool (scope `area`,
/// `municipality` or `region`: the areas that share the budget) in the years of its pilot period.
/// Measures: see [`crate::summary::BudgetMeasure`].
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
                        crate::summary::BudgetMeasure::ALL.iter().map(move |&k| {
                            let mut r = vec![
                                sm.arm.clone(),
                                pool.unit.name().to_string(),
                                pool.name.clone(),
                                year.to_string(),
                                k.name().to_string(),
                            ];
                            r.extend(stat_fields(
                                &sm.stats[sm.layout.budget(i, y, k)],
                                2,
                                sm.runs,
                            ));
                            r
                        })
                    })
            })
    });
    table(&["arm", "scope", "scope_name", "year", "measure"], rows)
}

/// `differences.csv`: `arm,measure,period,year,item,mean,sd,p05,p50,p95,p_lower`: every pilot arm
/// against the baseline, paired by run; `period` is `all`, `year` or `contract_year` and `year` a
/// number (empty for `all`: see [`crate::compare::Period`]); `p_lower` is the share of runs in which
/// the pilot is lower.
pub fn differences(diffs: &[crate::compare::Difference]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "arm", "measure", "period", "year", "item", "mean", "sd", "p05", "p50", "p95", "p_lower",
    ])
    .expect("writing to memory");
    for d in diffs {
        let dec = match d.measure {
            "caseload" => 3,
            "kpi" => 4,
            _ => 2,
        };
        let f = |x: f64| format!("{:.*}", dec, x);
        w.write_record([
            d.arm.clone(),
            d.measure.to_string(),
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

/// `kpis.csv`: `arm,contract_year,kpi,target,mean,p05,p50,p95,p_met,mcse`; `p_met` is the share of runs
/// meeting the target. Evaluation KPIs add rows `<name>:due` (evaluations due) and `<name>:cost`.
pub fn kpis(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "arm",
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
            for y in 0..kpi.years() {
                for j in 0..kpi.cells_per_year() {
                    let cell = sm.layout.kpi(model, k, y, j);
                    let st = &sm.stats[cell];
                    let (name, target, p_met) = match j {
                        0 => {
                            let met = sm
                                .columns
                                .cell(cell)
                                .iter()
                                .filter(|&&v| kpi.met(y, v) == Some(true))
                                .count();
                            let t = kpi.targets.get(y).copied().flatten();
                            (
                                kpi.name.clone(),
                                t.map_or(String::new(), |t| format!("{t:.4}")),
                                t.map_or(String::new(), |_| {
                                    format!("{:.4}", met as f64 / sm.runs as f64)
                                }),
                            )
                        }
                        1 => (format!("{}:due", kpi.name), String::new(), String::new()),
                        _ => (format!("{}:cost", kpi.name), String::new(), String::new()),
                    };
                    let dec = if j == 0 { 4 } else { 2 };
                    let f = |x: f64| format!("{:.*}", dec, x);
                    w.write_record([
                        sm.arm.clone(),
                        (y + 1).to_string(),
                        name,
                        target,
                        f(st.mean),
                        f(st.q[0]),
                        f(st.q[2]),
                        f(st.q[4]),
                        p_met,
                        format!("{:.*}", dec + 1, st.mcse(sm.runs)),
                    ])
                    .expect("writing to memory");
                }
            }
        }
    }
    w.into_inner().expect("writing to memory")
}

/// `summary.csv`: `arm,measure,outcome,mean,mcse,p05,p50,p95`. Per arm: `clients` (initial plus new),
/// `cost_per_client` (discounted) and `outcome_per_client` for each outcome; per pilot arm, paired by
/// run with the baseline: `incremental_cost`, `incremental_outcome` and `icer` (mean incremental cost
/// over mean incremental outcome; mean only). `mcse` is the Monte Carlo standard error of the mean.
pub fn summary(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "arm", "measure", "outcome", "mean", "mcse", "p05", "p50", "p95",
    ])
    .expect("writing to memory");
    let per_client = |sm: &Summary, j: usize| -> Vec<f64> {
        let (v, clients) = (
            sm.columns.cell(sm.layout.econ(j)),
            sm.columns.cell(sm.layout.econ(1)),
        );
        v.iter()
            .zip(clients)
            .map(|(x, n)| if *n > 0.0 { x / n } else { 0.0 })
            .collect()
    };
    let mut row = |arm: &str, measure: &str, outcome: &str, values: &[f64]| {
        let n = values.len();
        let mut sorted = values.to_vec();
        let st = crate::summary::stats(&mut sorted);
        let f = |x: f64| format!("{x:.6}");
        w.write_record([
            arm.to_string(),
            measure.into(),
            outcome.into(),
            f(st.mean),
            f(st.mcse(n)),
            f(st.q[0]),
            f(st.q[2]),
            f(st.q[4]),
        ])
        .expect("writing to memory");
    };
    for sm in summaries {
        row(&sm.arm, "clients", "", sm.columns.cell(sm.layout.econ(1)));
        row(&sm.arm, "cost_per_client", "", &per_client(sm, 0));
        for (k, o) in model.outcomes.iter().enumerate() {
            row(
                &sm.arm,
                "outcome_per_client",
                &o.name,
                &per_client(sm, 2 + k),
            );
        }
    }
    let mut icers = Vec::new();
    if let Some((base, pilots)) = summaries.split_first() {
        for p in pilots {
            let diff = |j: usize| -> Vec<f64> {
                per_client(p, j)
                    .iter()
                    .zip(per_client(base, j))
                    .map(|(a, b)| a - b)
                    .collect()
            };
            let dc = diff(0);
            row(&p.arm, "incremental_cost", "", &dc);
            for (k, o) in model.outcomes.iter().enumerate() {
                let dout = diff(2 + k);
                row(&p.arm, "incremental_outcome", &o.name, &dout);
                let (mc, mo) = (dc.iter().sum::<f64>(), dout.iter().sum::<f64>());
                icers.push((
                    p.arm.clone(),
                    o.name.clone(),
                    if mo != 0.0 {
                        format!("{:.6}", mc / mo)
                    } else {
                        String::new()
                    },
                ));
            }
        }
    }
    for (arm, outcome, ratio) in icers {
        w.write_record([
            arm,
            "icer".into(),
            outcome,
            ratio,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
