//! wijksim as a library (README, "Using wijksim as a library"): `pipeline::run_into` writes what
//! `wijksim run --out` writes, and the numbers read from its report are those of the tables.

use wijksim::aggregate::Account;
use wijksim::model::scope::{REGION, ScopeKind};
use wijksim::output::plot::Plots;
use wijksim::run::{RunOptions, run_into};

/// The value of `column` in the row of a CSV table whose first columns are `key`.
fn cell(table: &str, key: &[&str], column: &str) -> f64 {
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    let row: Vec<&str> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[..key.len()] == *key)
        .unwrap_or_else(|| panic!("no row {key:?}"));
    row[at].parse().unwrap()
}

#[test]
fn run_into_writes_what_the_command_writes_and_reads_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (cli, lib) = (dir.path().join("cli"), dir.path().join("lib"));
    crate::wijksim()
        .args([
            "run", "--runs", "20", "--seed", "5", "--plots", "none", "--quiet",
        ])
        .arg("--out")
        .arg(&cli)
        .assert()
        .success();
    let scenario = wijksim::scenario::default_scenario();
    let opts = RunOptions {
        runs: Some(20),
        seed: Some(5),
        plots: Plots::None,
        ..RunOptions::default()
    };
    let report = run_into(&scenario, &opts, &lib, false).unwrap();
    assert_eq!(report.folder, lib);
    // The same tables, byte for byte.
    let mut tables = 0;
    for e in std::fs::read_dir(&cli).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".csv") || name == "scenario.toml" {
            assert_eq!(
                std::fs::read(cli.join(&name)).unwrap(),
                std::fs::read(lib.join(&name)).unwrap(),
                "{name}"
            );
            tables += 1;
        }
    }
    assert!(tables >= 10, "{tables} tables");
    for f in ["results.xlsx", "report.html", "manifest.json"] {
        assert!(lib.join(f).is_file(), "{f}");
    }
    // A second call into the same folder refuses without force and replaces it with force.
    assert!(run_into(&scenario, &opts, &lib, false).is_err());
    run_into(&scenario, &opts, &lib, true).unwrap();

    // The numbers read from the report are those of accounts.csv and differences.csv.
    let accounts = std::fs::read_to_string(lib.join("accounts.csv")).unwrap();
    let baseline = report.summary("baseline").unwrap();
    let spend = baseline
        .account(REGION, 2023, Account::MunicipalSpend)
        .unwrap();
    let row = ["baseline", "region", "regio", "2023", "municipal_spend"];
    for (got, column) in [
        (spend.mean, "mean"),
        (spend.q[0], "p05"),
        (spend.q[2], "p50"),
        (spend.q[4], "p95"),
    ] {
        let want = cell(&accounts, &row, column);
        assert!((got - want).abs() <= 0.005, "{column}: {got} vs {want}");
    }
    let total = baseline
        .account_total(REGION, Account::MunicipalSpend)
        .unwrap();
    let years: f64 = (2021..=2025)
        .map(|y| {
            let y = y.to_string();
            cell(
                &accounts,
                &["baseline", "region", "regio", &y, "municipal_spend"],
                "mean",
            )
        })
        .sum();
    assert!(
        (total.mean - years).abs() <= 0.03,
        "{} vs {years}",
        total.mean
    );
    assert!(baseline.account(REGION, 2031, Account::CareCost).is_none());
    assert!(baseline.account(999, 2023, Account::CareCost).is_none());

    let differences = std::fs::read_to_string(lib.join("differences.csv")).unwrap();
    let arm = "dorpsbudget_noord_beveland";
    let d = report
        .difference(arm, ScopeKind::PilotAreas, Account::CareCost)
        .unwrap();
    let row = [arm, "pilot_areas", "pilotgebieden", "care_cost", "all"];
    assert!((d.mean - cell(&differences, &row, "mean")).abs() <= 0.005);
    assert!((d.p_lower - cell(&differences, &row, "p_lower")).abs() <= 0.00005);
    assert!(report.summary("no_such_arm").is_none());
    assert!(
        report
            .difference("baseline", ScopeKind::Region, Account::CareCost)
            .is_none()
    );
}
