//! Writes `scenarios/episodes_example.csv`: a synthetic export of Wmo indications made by the model
//! itself, NOT real data. One run of the default scenario's baseline with its client histories, shaped
//! as a municipality's export would be: a pseudonymous client code, the area, the product (state),
//! start and end date and the reason for ending, observed until 2023-12-31 (later indications are
//! not in it, and one still open then has no end date). `wijksim fit` reads it (README, "Fitting to
//! your own client episodes").
//!
//! `cargo run --release --example make_episodes > scenarios/episodes_example.csv`
use std::collections::HashMap;
use wijksim::run::{RunOptions, run_into};

/// The last day observed.
const UNTIL: &str = "2023-12-31";

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("run");
    let opts = RunOptions {
        runs: Some(1),
        seed: Some(20240601),
        threads: Some(1),
        no_psa: true,
        histories: Some(1),
        plots: wijksim::output::plot::Plots::None,
        ..RunOptions::default()
    };
    run_into(&wijksim::scenario::default_scenario(), &opts, &out, false).expect("the default runs");
    let text = std::fs::read_to_string(out.join("histories.csv")).expect("histories.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (arm, area, client, state) = (col("arm"), col("area"), col("client"), col("state"));
    let (start, end, reason, next) = (
        col("start"),
        col("end"),
        col("end_reason"),
        col("next_state"),
    );
    println!("client,area,state,start,end,end_reason,next_state");
    // Pseudonymous codes in order of first appearance (never a 9-digit number).
    let mut codes: HashMap<(String, String), usize> = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f[arm] != "baseline" || f[start] > UNTIL {
            continue;
        }
        let n = codes.len();
        let code = *codes
            .entry((f[area].to_string(), f[client].to_string()))
            .or_insert(n + 1);
        // Open at the end of the observation: no end date, no reason, no next state.
        let (e, r, x) = if f[end].is_empty() || f[end] > UNTIL {
            ("", "", "")
        } else {
            (f[end], f[reason], f[next])
        };
        println!(
            "P{code:06},{},{},{},{e},{r},{x}",
            f[area], f[state], f[start]
        );
    }
}
