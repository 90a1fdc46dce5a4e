//! wijksim inside your own program: load a scenario file, run it with options, read the numbers.
//!
//! `cargo run --release --example embed -- scenarios/oosterschelde.toml output/embed`
//!
//! The library does the work and writes the output folder (the same files as `wijksim run --out`);
//! it prints nothing. What is printed here is this program's choice.
use std::path::Path;
use std::process::ExitCode;
use wijksim::aggregate::Account;
use wijksim::model::scope::{REGION, ScopeKind};
use wijksim::output::plot::Plots;
use wijksim::run::{RunOptions, run_into};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.first().map_or("scenarios/oosterschelde.toml", |s| s);
    let out = args.get(1).map_or("output/embed", |s| s);
    match embed(file, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A bad scenario lists every problem with file, line, key and fix.
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn embed(file: &str, out: &str) -> Result<(), wijksim::error::Error> {
    let scenario = wijksim::scenario::load(Path::new(file))?;
    let opts = RunOptions {
        runs: Some(200),
        seed: Some(1),
        plots: Plots::None, // tables, workbook and report; no figures
        reproduce: format!("cargo run --release --example embed -- {file} {out}"),
        ..RunOptions::default()
    };
    // force: replace the results of an earlier run of this program (never a folder of other files).
    let report = run_into(&scenario, &opts, Path::new(out), true)?;

    println!("municipal spend, whole region, P50 [P5 - P95] over runs");
    for arm in &report.summaries {
        let total = arm.account_total(REGION, Account::MunicipalSpend).unwrap();
        println!(
            "  {:<28} {:>12.0} [{:.0} - {:.0}]",
            arm.arm, total.q[2], total.q[0], total.q[4]
        );
        for &year in &arm.layout.years {
            let s = arm.account(REGION, year, Account::MunicipalSpend).unwrap();
            println!("    {year} {:>12.0}", s.q[2]);
        }
    }
    for pilot in &report.summaries[1..] {
        let care = report
            .difference(&pilot.arm, ScopeKind::PilotAreas, Account::CareCost)
            .expect("a pilot arm has pilot areas");
        println!(
            "{} vs baseline in the pilot areas: care {:+.0} [90%: {:+.0} to {:+.0}], P(less care) {:.0}%",
            pilot.arm,
            care.mean,
            care.q[0],
            care.q[2],
            100.0 * care.p_lower
        );
    }
    // Budget sizing of the pilot areas pooled per municipality (`budget_sizing.csv` also has each area).
    for s in report.sizing.iter().filter(|s| s.scope == "municipality") {
        println!(
            "budget that keeps P(overspend) at {:.0}%, {} {}: {:.0} (expected spend {:.0})",
            100.0 * s.alpha,
            s.name,
            s.year,
            s.needed,
            s.expected
        );
    }
    println!("wrote {}", report.folder.display());
    Ok(())
}
