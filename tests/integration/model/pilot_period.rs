//! Pilot periods: `until` (the last month under a regime) and `after` on an assignment.

use super::{default_text, wijksim};
use crate::cli::check::{line_of, rejects};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use wijksim::engine::cohort::expected_arm_area;
use wijksim::scenario;

/// The default scenario with its arms replaced by `arms` and `regimes` added.
fn with_arms(regimes: &str, arms: &str) -> String {
    let text = default_text();
    let cut = text.find("[[arm]]").expect("the default has arms");
    format!("{}{regimes}\n{arms}\n", &text[..cut])
}

/// A regime that changes everything a pilot period must gate: a yearly budget per inhabitant, strong
/// hazard ratios with a phase-in, prevention, a fixed cost and a price of its own.
const STRONG: &str = r#"
[[regime]]
name = "strong"
budget_per_inhabitant = 400.0
price_year = 2021
phase_in_cycles = 6
prevention = 0.20
on_surplus = "returned"
fixed_cost = [{ line = "coordinator", per_year = 20000.0, price_year = 2021 }]
modifier = [{ from = "BT", to = "WV", hazard_ratio = 3.0 }, { from = "SB", to = "BT", hazard_ratio = 0.5 }]

[[regime.cost]]
line = "trajectprijs"
state = "BT"
per_month = 50.0
price_year = 2021
"#;

/// The pilot arm `pilot` (Noord-Beveland from 2022-01 under `regime`, `extra` added to its assignment)
/// after the baseline.
fn pilot_arms(regime: &str, extra: &str) -> String {
    format!(
        r#"
[[arm]]
name = "baseline"

[[arm]]
name = "pilot"
assign = [{{ municipality = "Noord-Beveland", regime = "{regime}", from = "2022-01"{extra} }}]
"#
    )
}

/// Runs `text` with `args` and returns the output folder's CSV files by name.
fn run_csvs(dir: &Path, name: &str, text: &str, args: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let file = dir.join(format!("{name}.toml"));
    fs::write(&file, text).unwrap();
    let out = dir.join(name);
    wijksim()
        .args(["run", "--quiet", "--force", "--plots", "none"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The `mean` column of the rows of `csv` starting with `prefix`, keyed by the rest of the key columns.
fn means(csv: &[u8], prefix: &str, keys: usize) -> BTreeMap<String, f64> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[..keys].join(","), f[keys].parse::<f64>().unwrap())
        })
        .collect()
}

#[test]
fn an_until_at_the_horizon_or_after_continue_is_byte_identical_to_no_until() {
    // The default's dorpsbudget (pooled, budget a share of the expected provider spend, carried-over
    // surplus) in Noord-Beveland and the strong regime in Goes.
    let regimes = STRONG;
    let arms = |extra: &str| {
        format!(
            r#"
[[arm]]
name = "baseline"

[[arm]]
name = "pilot"
assign = [
  {{ municipality = "Noord-Beveland", regime = "dorpsbudget", from = "2022-01"{extra} }},
  {{ municipality = "Goes", regime = "strong", from = "2021-07"{extra} }},
]
"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    for (engine, runs) in [("monte-carlo", "20"), ("cohort", "1")] {
        let args = ["--engine", engine, "--runs", runs];
        let plain = run_csvs(dir.path(), "plain", &with_arms(regimes, &arms("")), &args);
        assert!(plain.contains_key("budget.csv") && plain.len() >= 8);
        for (name, extra) in [
            ("horizon", r#", until = "2025-12""#),
            (
                "horizon_provider",
                r#", until = "2025-12", after = "provider""#,
            ),
            ("continue", r#", until = "2023-12", after = "continue""#),
            ("beyond", r#", until = "2027-06""#),
        ] {
            let other = run_csvs(dir.path(), name, &with_arms(regimes, &arms(extra)), &args);
            assert_eq!(
                plain.keys().collect::<Vec<_>>(),
                other.keys().collect::<Vec<_>>()
            );
            for (file, bytes) in &plain {
                assert!(bytes == &other[file], "{engine}, {name}: {file} differs");
            }
        }
    }
}

#[test]
fn after_until_the_pilot_areas_follow_the_provider_rows_exactly() {
    let text = with_arms(STRONG, &pilot_arms("strong", r#", until = "2023-12""#));
    let model = scenario::from_text("until.toml", &text).unwrap().model;
    let n = model.n_states();
    let n1 = n + 1;
    let wv = model.state_index("WV").unwrap();
    let nb: Vec<usize> = (0..model.areas.len())
        .filter(|&a| model.arms[1].plans[a].is_some())
        .collect();
    assert!(nb.len() > 1, "the villages of Noord-Beveland");
    let plan = model.arms[1].plans[nb[0]].clone().unwrap();
    assert_eq!(
        (plan.start, plan.end),
        (12, 36),
        "2022-01 up to and including 2023-12"
    );
    let mut largest_during = 0.0f64;
    for &a in &nb {
        let (b, p) = (
            expected_arm_area(&model, 0, a),
            expected_arm_area(&model, 1, a),
        );
        // Before the pilot both arms are the same.
        assert_eq!(b.counts[..12 * n], p.counts[..12 * n]);
        // The caseload is carried over: it differs after the end ...
        assert_ne!(b.counts[36 * n..37 * n], p.counts[36 * n..37 * n]);
        for c in 13..model.cycles as usize {
            // The moves of cycle c happen at the end of cycle `at`, with its rows.
            let at = c - 1;
            // ... but from the pilot's end on, the share of the clients of a state in cycle c - 1 that
            // moves at its end (the transition probability) is the provider's. WV's rows depend on the
            // time in state (whose mix is carried over too); the others do not.
            for s in (0..n)
                .filter(|&s| s != wv && !model.states[s].absorbing && !model.states[s].waiting)
            {
                for t in (0..n1).filter(|&t| t != s) {
                    let rate = |e: &wijksim::engine::cohort::ExpectedArea| {
                        e.moves[(c * n1 + s) * n1 + t] / e.counts[(c - 1) * n + s]
                    };
                    let (rb, rp) = (rate(&b), rate(&p));
                    if at >= 36 {
                        assert!(
                            (rb - rp).abs() <= 1e-12 * rb.abs().max(1e-3),
                            "area {a}, cycle {c}, {s}->{t}: {rp} after the end, provider {rb}"
                        );
                    } else if at >= 12 && rb > 0.0 {
                        largest_during = largest_during.max((rp / rb - 1.0).abs());
                    }
                }
            }
            // New clients: no prevention after the end.
            let inflow = |e: &wijksim::engine::cohort::ExpectedArea| {
                e.moves[(c * n1 + n) * n1..(c * n1 + n + 1) * n1].to_vec()
            };
            if c >= 36 {
                assert_eq!(inflow(&b), inflow(&p), "area {a}, cycle {c}: inflow");
            } else if c >= 12 {
                assert_ne!(inflow(&b), inflow(&p), "area {a}, cycle {c}: prevention");
            }
        }
    }
    assert!(
        largest_during > 0.5,
        "the modifiers act during the pilot: {largest_during}"
    );

    // The accounts: no budget, no fixed cost, no own price after the end.
    let dir = tempfile::tempdir().unwrap();
    let csvs = run_csvs(dir.path(), "o", &text, &["--engine", "cohort"]);
    let budget = String::from_utf8(csvs["budget.csv"].clone()).unwrap();
    let years: std::collections::BTreeSet<&str> = budget
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(years.into_iter().collect::<Vec<_>>(), ["2022", "2023"]);
    // Budget sizing covers the pilot period only.
    let sizing = String::from_utf8(csvs["budget_sizing.csv"].clone()).unwrap();
    let years: std::collections::BTreeSet<&str> = sizing
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(years.into_iter().collect::<Vec<_>>(), ["2022", "2023"]);
    let accounts = means(
        &csvs["accounts.csv"],
        "pilot,municipality,Noord-Beveland,",
        5,
    );
    let costs = means(&csvs["costs.csv"], "pilot,municipality,Noord-Beveland,", 6);
    let nb = "pilot,municipality,Noord-Beveland";
    for year in 2021..=2025 {
        let pilot = (2022..=2023).contains(&year);
        let paid = accounts[&format!("{nb},{year},municipal_spend.budgets_paid")];
        assert_eq!(paid > 0.0, pilot, "{year}: budgets_paid {paid}");
        // After the end every line is paid directly, as in the provider model.
        let direct = accounts[&format!("{nb},{year},municipal_spend.paid_directly")];
        let spend = accounts[&format!("{nb},{year},municipal_spend")];
        // Every line of the year, own contributions (income) included.
        let total: f64 = costs
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{nb},{year},")))
            .map(|(_, v)| v)
            .sum();
        if year >= 2024 {
            assert!(
                // The lines are printed to the cent: their sum is exact within half a cent each.
                (direct - total).abs() <= 0.05 && direct == spend,
                "{year}: {direct} {total}"
            );
        } else if pilot {
            assert!(
                direct < total - 1000.0,
                "{year}: covered lines are paid from the budget"
            );
        }
        for line in ["coordinator", "trajectprijs"] {
            let key = format!("{nb},{year},{line},");
            let v = *costs
                .iter()
                .find(|(k, _)| k.starts_with(&key))
                .unwrap_or_else(|| panic!("no {key}"))
                .1;
            assert_eq!(v > 0.0, pilot, "{year}: {line} {v}");
        }
    }
}

#[test]
fn a_pilot_ending_mid_year_gets_the_pro_rata_budget_of_its_last_year() {
    let arms = r#"
[[arm]]
name = "baseline"

[[arm]]
name = "full"
assign = [{ municipality = "Noord-Beveland", regime = "strong", from = "2022-01", until = "2023-12" }]

[[arm]]
name = "half"
assign = [{ municipality = "Noord-Beveland", regime = "strong", from = "2022-01", until = "2023-06" }]
"#;
    let dir = tempfile::tempdir().unwrap();
    let csvs = run_csvs(
        dir.path(),
        "o",
        &with_arms(STRONG, arms),
        &["--engine", "cohort"],
    );
    let full = means(&csvs["budget.csv"], "full,", 5);
    let half = means(&csvs["budget.csv"], "half,", 5);
    let mut areas = 0;
    for (key, &f) in full.iter().filter(|(k, _)| k.ends_with(",budget")) {
        let h = half[&key.replacen("full,", "half,", 1)];
        if key.contains(",2022,") {
            assert_eq!(h, f, "{key}: a whole year");
        } else {
            // 400 per inhabitant a year, at 2023 prices, for six months; printed to the cent.
            assert!((h - f / 2.0).abs() <= 0.01, "{key}: {h} is not half of {f}");
            areas += 1;
        }
    }
    assert!(areas > 1, "every village of Noord-Beveland in 2023");
    assert!(!half.keys().any(|k| k.contains(",2024,")));
}

#[test]
fn a_price_of_its_own_ends_with_the_pilot_and_draws_are_common_at_any_thread_count() {
    // Only a price: the clients are the baseline's (common random numbers), the costs differ only
    // in the pilot's years, and 1 or 2 threads give the same files.
    let regime = r#"
[[regime]]
name = "price"

[[regime.cost]]
line = "begeleiding_bt"
state = "BT"
per_month = 400.0
price_year = 2023
"#;
    let text = with_arms(regime, &pilot_arms("price", r#", until = "2023-12""#));
    let dir = tempfile::tempdir().unwrap();
    let one = run_csvs(dir.path(), "t1", &text, &["--runs", "20", "--threads", "1"]);
    let two = run_csvs(dir.path(), "t2", &text, &["--runs", "20", "--threads", "2"]);
    assert!(one == two, "1 and 2 threads differ");
    let rows = |file: &str, arm: &str| -> Vec<String> {
        String::from_utf8(one[file].clone())
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{arm},")))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        rows("caseload.csv", "baseline"),
        rows("caseload.csv", "pilot")
    );
    assert_eq!(rows("flows.csv", "baseline"), rows("flows.csv", "pilot"));
    let (b, p) = (rows("costs.csv", "baseline"), rows("costs.csv", "pilot"));
    assert_eq!(b.len(), p.len());
    let mut differ = 0;
    for (rb, rp) in b.iter().zip(&p) {
        // scope,scope_name,year,line,...: every scope but the other municipalities holds
        // Noord-Beveland's villages.
        let f: Vec<&str> = rb.split(',').collect();
        let pilot_year = f[2] == "2022" || f[2] == "2023";
        let holds = !(f[0] == "municipality" && f[1] != "Noord-Beveland");
        if pilot_year && holds && f[3] == "begeleiding_bt" {
            assert_ne!(rb, rp);
            differ += 1;
        } else {
            assert_eq!(
                rb, rp,
                "only the pilot's years and area are priced differently"
            );
        }
    }
    assert_eq!(
        differ,
        2 * (3 + 6),
        "begeleiding_bt in 2022 and 2023 in the region, Noord-Beveland, the pilot areas and each village"
    );
}

#[test]
fn check_rejects_a_bad_pilot_period() {
    let assign = |extra: &str| with_arms(STRONG, &pilot_arms("strong", extra));
    for (extra, key) in [
        (r#", until = "2021-12""#, "arm[1].assign[0].until"),
        (r#", until = "2023-13""#, "arm[1].assign[0].until"),
        (
            r#", until = "2023-12", after = "stop""#,
            "arm[1].assign[0].after",
        ),
        (r#", after = "provider""#, "arm[1].assign[0].after"),
    ] {
        let text = assign(extra);
        let err = rejects(
            &text,
            Some(line_of(&text, r#"regime = "strong", from"#)),
            key,
        );
        if extra.contains("2021-12") {
            assert!(err.contains("before it starts"), "{err}");
        }
        if extra.contains("stop") {
            assert!(err.contains("provider, continue"), "{err}");
        }
    }
}
