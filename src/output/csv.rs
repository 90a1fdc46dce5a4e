//! Tidy long-format CSV tables, as pure functions from a summary to bytes.
//!
//! Column order and row order are fixed (cycle, state in file order, ...); numbers are printed with a
//! fixed number of decimals (counts 3, euros 2), so files are byte-identical for identical results.

use crate::model::{Model, RENEW};
use crate::summary::{Stats, Summary};

const STAT_HEADER: [&str; 7] = ["mean", "sd", "p05", "p25", "p50", "p75", "p95"];

fn stat_fields(s: &Stats, decimals: usize) -> Vec<String> {
    let mut v = vec![
        format!("{:.*}", decimals, s.mean),
        format!("{:.*}", decimals, s.sd),
    ];
    v.extend(s.q.iter().map(|x| format!("{:.*}", decimals, x)));
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
                r.extend(stat_fields(&sm.stats[sm.layout.caseload(c, s)], 3));
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
                    r.extend(stat_fields(&sm.stats[sm.layout.flow(y, f)], 3));
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
                            ];
                            r.extend(stat_fields(&sm.stats[sm.layout.cost(y, m, l)], 2));
                            r
                        })
                    })
            })
    });
    table(&["arm", "year", "municipality", "line"], rows)
}
