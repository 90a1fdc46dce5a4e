//! Issue 10, "every accepted input finishes, in bounded memory": sizes are checked before anything big is
//! allocated, errors name the limit, the memory and what to lower, bad values are quoted short, and every
//! input that `check` accepts finishes or fails cleanly.

use super::{default_text, wijksim};
use std::fs;
use std::path::Path;

/// The default scenario with `from` replaced by `to` (which must change the text).
fn edited(from: &str, to: &str) -> String {
    let text = default_text();
    assert!(text.contains(from), "the default scenario has no `{from}`");
    text.replacen(from, to, 1)
}

/// Writes `text` into `dir` and runs `check` on it; returns (exit code, stderr).
fn check(dir: &Path, text: &str) -> (i32, String) {
    let file = dir.join("s.toml");
    fs::write(&file, text).unwrap();
    let out = wijksim().arg("check").arg(&file).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asserts that `check` rejects `text` with exit 2 and a message holding every one of `needles`.
fn rejected(text: &str, needles: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = check(dir.path(), text);
    assert_eq!(code, 2, "{err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in\n{err}");
    }
    assert!(err.contains("fix:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn ten_million_runs_get_a_memory_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let run = wijksim()
        .args(["run", "--quiet", "--runs", "10000000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("GB") && err.contains("limit of 4.0 GB"),
        "names the memory and the limit: {err}"
    );
    assert!(
        err.contains("lower --runs to at most"),
        "says what to lower: {err}"
    );
    assert!(!out.exists(), "no output folder");
}

#[test]
fn runs_in_the_scenario_over_the_memory_budget_are_refused_by_check() {
    let t = edited("runs = 1000 ", "runs = 10000000 ");
    rejected(&t, &["run.runs", "GB", "lower run.runs to at most"]);
}

#[test]
fn too_many_runs_name_the_upper_limit() {
    let t = edited("runs = 1000 ", "runs = 20000000 ");
    let err = rejected(&t, &["run.runs", "from 1 to 10000000"]);
    assert!(!err.contains("at least 1"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let run = wijksim()
        .args(["run", "--quiet", "--runs", "4000000000", "--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("from 1 to 10000000"), "{err}");
}

#[test]
fn a_horizon_of_a_billion_cycles_with_indexation_is_refused_at_once() {
    // Before the fix `check` spent minutes pricing every cycle (quadratic in years).
    let t = edited("cycles = 60 ", "cycles = 1000000000 ");
    assert!(t.contains("[indexation]"));
    let err = rejected(&t, &["time.cycles", "from 1 to 1048574"]);
    assert!(!err.contains("at least 1"), "{err}");
}

#[test]
fn a_long_horizon_over_the_memory_budget_names_the_memory() {
    // No inflow trend, so the horizon itself is what does not fit (3,000 months fit a sheet: 3,000 ×
    // 7 states × 2 arms × 15 scopes rows).
    let t = edited("cycles = 60 ", "cycles = 3000 ").replace("trend_per_year = 0.02", "");
    rejected(
        &t,
        &["run.runs", "GB", "limit of 4.0 GB", "per-cycle tables"],
    );
}

#[test]
fn more_than_2_to_the_20_clients_in_one_area_are_refused() {
    // Each state is under the per-state limit; together they are over what client ids can tell apart.
    let t = edited(
        "caseload = { BTS = 76, BT = 305, WV = 7 }",
        "caseload = { BTS = 600000, BT = 600000, WV = 7 }",
    );
    rejected(&t, &["area[0].caseload", "1200007 clients", "1048575"]);
}

#[test]
fn an_inflow_beyond_what_client_ids_hold_is_refused() {
    // With a 2% yearly trend, 2,000 years of months make the inflow astronomical.
    let t = edited("cycles = 60 ", "cycles = 24000 ");
    rejected(&t, &["inflow.per_1000_per_year", "at most 500000"]);
}

#[test]
fn a_huge_bad_value_is_quoted_short() {
    let big = "x".repeat(1_000_000);
    let t = edited("code = \"BTS\"", &format!("code = \"BTS{big}!\""));
    let err = rejected(&t, &["state[0].code", "more characters"]);
    assert!(err.len() < 20_000, "the message is {} bytes", err.len());
    for line in err.lines() {
        assert!(line.len() < 2_500, "a line of {} bytes", line.len());
    }
}

#[test]
fn an_infinite_amount_is_not_called_negative() {
    let t = edited("per_1000_per_year = ", "per_1000_per_year = inf #");
    let err = rejected(&t, &["inflow.per_1000_per_year", "finite"]);
    assert!(!err.contains("cannot be negative"), "{err}");
}

#[test]
fn an_amount_of_1e304_fails_cleanly_instead_of_hanging_in_the_plots() {
    // The costs overflow to infinity; the cost plot's axis search never ended.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(
        &file,
        edited("tariff_per_hour = 73.80 ", "tariff_per_hour = 1e304 "),
    )
    .unwrap();
    let out = dir.path().join("o");
    let run = wijksim()
        .args(["run", "--quiet", "--runs", "2", "--out"])
        .arg(&out)
        .arg(&file)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not finite") && err.contains("costs in 2021") && err.contains("fix:"),
        "{err}"
    );
    assert!(!out.exists(), "no output folder");
}

#[test]
fn a_large_finite_amount_still_runs_and_draws_every_plot() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(
        &file,
        edited("tariff_per_hour = 73.80 ", "tariff_per_hour = 1e120 "),
    )
    .unwrap();
    let out = dir.path().join("o");
    wijksim()
        .args(["run", "--quiet", "--runs", "2", "--out"])
        .arg(&out)
        .arg(&file)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let csv = fs::read_to_string(out.join("costs.csv")).unwrap();
    assert!(!csv.contains("inf") && !csv.contains("NaN"));
    assert!(out.join("plots").read_dir().unwrap().count() > 10);
}

#[test]
fn non_finite_outcome_weights_are_refused() {
    for bad in ["nan", "inf", "-inf"] {
        let t = edited(
            "weights = { BTS = 0.2,",
            &format!("weights = {{ BTS = {bad},"),
        );
        rejected(&t, &["outcome[0].weights.BTS", "not a finite number"]);
    }
}

#[test]
fn a_name_longer_than_an_excel_cell_is_found_by_check() {
    let long = "G".repeat(40_000);
    let t = edited(
        "municipality = \"Goes\"",
        &format!("municipality = \"{long}\""),
    );
    let err = rejected(&t, &["area.municipality", "32767", "results.xlsx"]);
    assert!(err.len() < 5_000, "{}", err.len());
}

/// Runs the Latin hypercube sweep example with `from` replaced by `to`; returns (exit code, stderr).
fn sweep_edited(from: &str, to: &str) -> (i32, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/");
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(format!("{root}sweep_latin_hypercube.toml")).unwrap();
    assert!(text.contains(from));
    fs::write(dir.path().join("s.toml"), text.replacen(from, to, 1)).unwrap();
    fs::copy(
        format!("{root}oosterschelde.toml"),
        dir.path().join("oosterschelde.toml"),
    )
    .unwrap();
    let out = wijksim()
        .args(["sweep", "--max-points", "1", "--out"])
        .arg(dir.path().join("o"))
        .arg(dir.path().join("s.toml"))
        .output()
        .unwrap();
    assert!(!dir.path().join("o").exists(), "no output folder");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn sweep_runs_and_points_have_upper_limits() {
    let (code, err) = sweep_edited("runs = 100\n", "runs = 20000000\n");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sweep.runs") && err.contains("from 1 to 10000000"),
        "{err}"
    );
    let (code, err) = sweep_edited("runs = 100\n", "runs = 1000000\n");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sweep.runs") && err.contains("GB") && err.contains("at most"),
        "{err}"
    );
    let (code, err) = sweep_edited("points = 200\n", "points = 100001\n");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sweep.points") && err.contains("more than 100000"),
        "{err}"
    );
}

#[test]
fn runs_of_the_scenario_over_the_budget_are_refused_by_run_too_but_runs_option_may_lower_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, edited("runs = 1000 ", "runs = 10000000 ")).unwrap();
    let run = wijksim()
        .args(["run", "--quiet", "--out"])
        .arg(dir.path().join("o"))
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("run.runs") && err.contains("GB"), "{err}");
    wijksim()
        .args(["run", "--quiet", "--runs", "3", "--out"])
        .arg(dir.path().join("o2"))
        .arg(&file)
        .assert()
        .success();
}

#[test]
fn a_horizon_whose_caseload_table_overflows_an_excel_sheet_is_found_by_check() {
    // 100,000 months × 7 states × 2 arms × 15 scopes: results.xlsx failed after minutes of simulation.
    let t = edited("cycles = 60 ", "cycles = 100000 ")
        .replace("trend_per_year = 0.02", "")
        .replace("runs = 1000 ", "runs = 2 ");
    rejected(&t, &["time.cycles", "21000001 rows", "1048576"]);
}
