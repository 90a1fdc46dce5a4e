//! Pilot arms: common random numbers, paired differences, budget feedback.

use super::{default_text, wijksim};
use std::fs;
use wijksim::batch::{self, Options};
use wijksim::engine::simulate;
use wijksim::scenario;

/// The default scenario with its arms replaced by `arms` and `regimes` added.
fn with_arms(regimes: &str, arms: &str) -> String {
    let text = default_text();
    let cut = text.find("[[arm]]").expect("the default has arms");
    format!("{}{regimes}\n{arms}\n", &text[..cut])
}

const NEUTRAL: &str = r#"
[[regime]]
name = "neutral"
"#;

#[test]
fn a_neutral_budget_regime_gives_the_baselines_caseload() {
    // No modifiers, no prevention, unlimited budget, no fixed costs: nothing may change.
    let text = with_arms(
        NEUTRAL,
        r#"
[[arm]]
name = "baseline"

[[arm]]
name = "neutral"
assign = [
  { municipality = "Noord-Beveland", regime = "neutral", from = "2021-06" },
  { municipality = "Goes", regime = "neutral", from = "2022-01" },
]
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("neutral.toml");
    fs::write(&file, text).unwrap();
    let out = dir.path().join("o");
    wijksim()
        .args(["run", "--runs", "50", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let caseload = fs::read_to_string(out.join("caseload.csv")).unwrap();
    let rows = |arm: &str| -> Vec<String> {
        caseload
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{arm},")))
            .map(str::to_string)
            .collect()
    };
    let (base, neutral) = (rows("baseline"), rows("neutral"));
    assert_eq!(base.len(), 60 * 6);
    assert_eq!(base, neutral, "a neutral regime changed the caseload");
    // Paired differences are exactly zero.
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    let total = diffs
        .lines()
        .find(|l| l.starts_with("neutral,cost,all,total,"))
        .unwrap();
    assert_eq!(
        total,
        "neutral,cost,all,total,0.00,0.00,0.00,0.00,0.00,0.0000"
    );
}

/// Runs `text` (`--engine` as given) and returns the rows of `file` per arm, without the arm's name.
fn arm_rows(text: &str, engine: &str, file: &str) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arms.toml");
    fs::write(&path, text).unwrap();
    let out = dir.path().join("o");
    wijksim()
        .args([
            "run", "--runs", "30", "--quiet", "--plots", "none", "--engine", engine,
        ])
        .arg("--out")
        .arg(&out)
        .arg(&path)
        .assert()
        .success();
    let csv = fs::read_to_string(out.join(file)).unwrap();
    let rows = |arm: &str| -> Vec<String> {
        csv.lines()
            .filter_map(|l| l.strip_prefix(&format!("{arm},")))
            .map(str::to_string)
            .collect()
    };
    (rows("baseline"), rows("pilot"))
}

const PILOT_ARMS: &str = r#"
[[arm]]
name = "baseline"

[[arm]]
name = "pilot"
assign = [{ municipality = "Noord-Beveland", regime = "pilot", from = "2022-01" }]
"#;

#[test]
fn a_relative_risk_of_1_without_replacements_is_byte_identical_to_the_baseline() {
    let text = with_arms(
        r#"
[[regime]]
name = "pilot"
modifier = [{ from = "BT", to = "WV", relative_risk = 1.0 }, { from = "WV", to = "SB", relative_risk = 1.0, period = "2023-01.." }]
"#,
        PILOT_ARMS,
    );
    for engine in ["monte-carlo", "cohort"] {
        for file in ["caseload.csv", "flows.csv", "costs.csv"] {
            let (base, pilot) = arm_rows(&text, engine, file);
            assert!(!base.is_empty());
            assert_eq!(base, pilot, "{engine}: {file} differs");
        }
    }
}

#[test]
fn a_replaced_cost_item_changes_only_its_cost_cells() {
    // A trajectprijs for BT in 2022-2023 replaces the hourly tariff: 700 a month at 2023 prices.
    let text = with_arms(
        r#"
[[regime]]
name = "pilot"

[[regime.cost]]
line = "begeleiding_bt"
state = "BT"
per_month = 700.0
price_year = 2023
period = "2022-01..2023-12"
"#,
        PILOT_ARMS,
    );
    for file in ["caseload.csv", "flows.csv"] {
        let (base, pilot) = arm_rows(&text, "monte-carlo", file);
        assert_eq!(base, pilot, "{file}: a price changed the clients");
    }
    let (base, pilot) = arm_rows(&text, "monte-carlo", "costs.csv");
    assert_eq!(base.len(), pilot.len());
    let mut changed = 0;
    for (b, p) in base.iter().zip(&pilot) {
        let f: Vec<&str> = b.split(',').collect();
        assert_eq!(f[..3], p.split(',').collect::<Vec<_>>()[..3]);
        let (year, muni, line) = (f[0], f[1], f[2]);
        let replaced = line == "begeleiding_bt"
            && muni == "Noord-Beveland"
            && (year == "2022" || year == "2023");
        // Totals over lines or municipalities hold the changed cell.
        let holds = (line == "total" || line == "begeleiding_bt")
            && (muni == "total" || muni == "Noord-Beveland")
            && (year == "2022" || year == "2023");
        if replaced {
            assert_ne!(b, p, "the replaced item did not change: {b}");
            changed += 1;
        } else if !holds {
            assert_eq!(b, p, "a cell the regime does not price changed");
        }
    }
    assert_eq!(changed, 2);
}

#[test]
fn pairing_shrinks_the_spread_of_the_cost_difference_at_least_fivefold() {
    let m = scenario::default_scenario().model;
    let s = batch::run(
        &m,
        &Options {
            runs: 200,
            seed: 4,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let total = |arm: usize| -> Vec<f64> {
        let lay = &s[arm].layout;
        (0..s[arm].runs)
            .map(|r| {
                (0..lay.years.len())
                    .map(|y| s[arm].columns.cell(lay.cost(y, lay.munis, lay.lines))[r])
                    .sum()
            })
            .collect()
    };
    let (base, pilot) = (total(0), total(1));
    let sd = |d: &[f64]| {
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (d.len() - 1) as f64).sqrt()
    };
    let paired: Vec<f64> = pilot.iter().zip(&base).map(|(p, b)| p - b).collect();
    // Unpaired: each pilot run against another run of the baseline.
    let unpaired: Vec<f64> = pilot
        .iter()
        .zip(base.iter().cycle().skip(1))
        .map(|(p, b)| p - b)
        .collect();
    let (sp, su) = (sd(&paired), sd(&unpaired));
    assert!(sp > 0.0, "the pilot changes something");
    eprintln!("pairing: paired sd {sp:.0}, unpaired sd {su:.0}");
    assert!(
        su > 5.0 * sp,
        "paired sd {sp:.0} is not 5x smaller than unpaired sd {su:.0}"
    );
    // The reported differences are the paired ones.
    let d = wijksim::compare::differences(&m, &s);
    let row = d
        .iter()
        .find(|d| d.measure == "cost" && d.year == "all" && d.item == "total")
        .unwrap();
    assert!((row.sd - sp).abs() < 1e-6 * sp, "{} vs {sp}", row.sd);
}

/// A budget that covers the villages' starting caseload but not its growth, from the start.
fn tight(policy: &str) -> wijksim::model::Model {
    budgeted(policy, 95.0, "2021-01")
}

fn budgeted(policy: &str, per_inhabitant: f64, from: &str) -> wijksim::model::Model {
    let regimes = format!(
        r#"
[[regime]]
name = "tight"
budget_per_inhabitant = {per_inhabitant}
price_year = 2021
on_exhaustion = "{policy}"
on_surplus = "returned"
"#
    );
    let arms = format!(
        r#"
[[arm]]
name = "baseline"

[[arm]]
name = "tight"
assign = [{{ municipality = "Noord-Beveland", regime = "tight", from = "{from}" }}]
"#
    );
    scenario::from_text("tight.toml", &with_arms(&regimes, &arms))
        .unwrap()
        .model
}

#[test]
fn under_waitlist_spend_never_exceeds_the_budget() {
    let m = tight("waitlist");
    let mut waited = 0;
    for run in 0..300 {
        let t = simulate(&m, 1, 11, run);
        for (a, at) in t.areas.iter().enumerate() {
            for b in &at.budget {
                assert!(
                    b.spent <= b.budget + b.carry_in + 1e-6,
                    "run {run} area {a} year {}: spent {} > budget {}",
                    b.year,
                    b.spent,
                    b.budget
                );
                assert_eq!(b.overspend, 0.0);
                waited += b.waits_started;
            }
        }
    }
    eprintln!("waitlist: {waited} waits");
    assert!(
        waited > 100,
        "the budget must bind for this test to mean something ({waited} waits)"
    );
}

#[test]
fn overspend_is_tracked_and_step_down_reduces_it() {
    let over = tight("overspend");
    let step = tight("step_down");
    let (mut o, mut s, mut stepped) = (0.0, 0.0, 0u32);
    for run in 0..200 {
        let (to, ts) = (simulate(&over, 1, 3, run), simulate(&step, 1, 3, run));
        for (ao, as_) in to.areas.iter().zip(&ts.areas) {
            for b in &ao.budget {
                assert!((b.overspend - (b.spent - b.budget).max(0.0)).abs() < 1e-6);
                o += b.overspend;
            }
            for b in &as_.budget {
                s += b.overspend;
                stepped += b.stepped_down;
            }
        }
    }
    assert!(
        o > 0.0,
        "the overspend policy lets spend exceed this budget"
    );
    assert!(stepped > 0, "step_down steps clients down");
    assert!(
        s < 0.5 * o,
        "step_down overspend {s:.0} vs overspend policy {o:.0}"
    );
}

#[test]
fn default_run_writes_budget_and_differences() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let stdout = wijksim()
        .args(["run", "--runs", "20", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.contains("probability that the pilot costs less"),
        "{stdout}"
    );
    let header = |f: &str| {
        fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        header("budget.csv"),
        "arm,municipality,area,year,measure,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("differences.csv"),
        "arm,measure,year,item,mean,sd,p05,p50,p95,p_lower"
    );
    assert_eq!(
        header("kpis.csv"),
        "arm,contract_year,kpi,target,mean,p05,p50,p95,p_met,mcse"
    );
    let kpis = fs::read_to_string(out.join("kpis.csv")).unwrap();
    // KPI 4 of segment 2a has a target in contract year 2 only.
    assert!(
        kpis.contains("baseline,2,waakvlam_overgenomen,0.4000,"),
        "{kpis}"
    );
    assert!(
        kpis.lines()
            .any(|l| l.starts_with("baseline,1,waakvlam_overgenomen,,")
                && l.split(',').nth(8) == Some("")),
        "no target and no p_met in contract year 1"
    );
    // KPI 3: 20%, 40%, then at most 50%.
    for (y, t) in [(1, "0.2000"), (2, "0.4000"), (3, "0.5000"), (4, "0.5000")] {
        assert!(
            kpis.contains(&format!("baseline,{y},alleen_waakvlam,{t},")),
            "year {y}"
        );
    }
    assert!(kpis.contains("dorpsbudget_noord_beveland,1,evaluatie:due,"));
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    for prefix in [
        "cost,all,total,",
        "cost,2023,total,",
        "caseload,2023,BT,",
        "overspend,all,total,",
        "kpi,cy2,alleen_waakvlam,",
    ] {
        assert!(
            diffs.contains(&format!("dorpsbudget_noord_beveland,{prefix}")),
            "{prefix} missing"
        );
    }
    let budget = fs::read_to_string(out.join("budget.csv")).unwrap();
    assert!(budget.contains("dorpsbudget_noord_beveland,Noord-Beveland,Kats,2022,budget,"));
    assert!(
        !budget.contains(",2021,"),
        "no budget rows before the pilot starts"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Property: under `waitlist`, a budget year that opens with its caseload within budget never
    /// spends beyond it, whatever the budget size, pilot start and seed.
    #[test]
    fn waitlist_never_overspends_a_year_that_opens_within_budget(
        per_inhabitant in 40.0f64..200.0,
        start in 0u32..36,
        seed in 0u64..1_000_000,
    ) {
        let from = format!("{}-{:02}", 2021 + start / 12, start % 12 + 1);
        let m = budgeted("waitlist", per_inhabitant, &from);
        for run in 0..8 {
            for at in &simulate(&m, 1, seed, run).areas {
                for b in at.budget.iter().filter(|b| b.opening <= b.budget + b.carry_in) {
                    proptest::prop_assert!(b.spent <= b.budget + b.carry_in + 1e-6, "budget {} + {} spent {}", b.budget, b.carry_in, b.spent);
                }
            }
        }
    }
}
