//! Pilot arms: common random numbers, paired differences, budget feedback.

use super::{default_text, wijksim};
use std::fs;
use wijksim::engine::simulate;
use wijksim::run::batch::{self, Options};
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
    // Scopes: the region, 7 municipalities, the pilot areas, Noord-Beveland's 6 villages and Goes.
    assert_eq!(base.len(), 16 * 60 * 7);
    assert_eq!(base, neutral, "a neutral regime changed the caseload");
    // Every scope table is identical between the arms.
    for file in [
        "flows.csv",
        "costs.csv",
        "accounts.csv",
        "kpis.csv",
        "evaluations.csv",
    ] {
        let text = fs::read_to_string(out.join(file)).unwrap();
        let rows = |arm: &str| -> Vec<&str> {
            text.lines()
                .filter_map(|l| l.strip_prefix(&format!("{arm},")))
                .collect()
        };
        assert!(rows("baseline").len() > 10, "{file}");
        assert_eq!(rows("baseline"), rows("neutral"), "{file}");
    }
    // Every paired difference is exactly zero: care cost, community cost, municipal spend (and its
    // parts), caseload, KPIs and overspend.
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    let rows: Vec<&str> = diffs
        .lines()
        .filter(|l| l.starts_with("neutral,"))
        .collect();
    for measure in [
        "care_cost",
        "community_cost",
        "municipal_spend",
        "caseload",
        "overspend",
    ] {
        for scope in ["region", "municipality", "pilot_areas", "area"] {
            assert!(
                rows.iter().any(|l| {
                    let f: Vec<&str> = l.split(',').collect();
                    f[1] == scope && f[3] == measure
                }),
                "{measure} is compared in scope {scope}"
            );
        }
    }
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        for x in &f[7..12] {
            assert_eq!(x.parse::<f64>().unwrap(), 0.0, "{row}");
        }
        assert_eq!(f[12].parse::<f64>().unwrap(), 0.0, "p_lower: {row}");
    }
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
        // scope,scope_name,year,line,kind,statistics
        let f: Vec<&str> = b.split(',').collect();
        assert_eq!(f[..5], p.split(',').collect::<Vec<_>>()[..5]);
        let (scope, name, year, line) = (f[0], f[1], f[2], f[3]);
        // Every scope but the other municipalities holds Noord-Beveland's areas (the reported areas
        // are its villages).
        let holds = !(scope == "municipality" && name != "Noord-Beveland");
        let replaced = line == "begeleiding_bt" && holds && (year == "2022" || year == "2023");
        if replaced {
            assert_ne!(b, p, "the replaced item did not change: {b}");
            changed += 1;
        } else {
            assert_eq!(b, p, "a cell the regime does not price changed");
        }
    }
    // Two years in the region, Noord-Beveland, the pilot areas together and each of its six villages.
    assert_eq!(changed, 2 * (3 + 6));
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
                    .map(|y| {
                        s[arm]
                            .columns
                            .value(lay.account(0, y, wijksim::aggregate::Account::CareCost), r)
                    })
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
    let d = wijksim::aggregate::paired::differences(&m, &s);
    let row = wijksim::aggregate::paired::region_total(
        &d,
        "dorpsbudget_noord_beveland",
        wijksim::aggregate::Account::CareCost,
    )
    .unwrap();
    assert!((row.sd - sp).abs() < 1e-6 * sp, "{} vs {sp}", row.sd);
}

/// A budget that covers the villages' starting caseload but not its growth, from the start, with
/// `extra` regime keys (e.g. a pool or a bandbreedte).
fn tight(extra: &str) -> wijksim::model::Model {
    budgeted(extra, 75.0, "2021-01")
}

fn budgeted(extra: &str, per_inhabitant: f64, from: &str) -> wijksim::model::Model {
    let regimes = format!(
        r#"
[[regime]]
name = "tight"
budget_per_inhabitant = {per_inhabitant}
price_year = 2021
on_surplus = "returned"
{extra}
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
fn a_budget_never_holds_back_care() {
    // Zorgplicht: however tight the budget, the care delivered is that of the same regime without a
    // budget, client for client; the budget only books what it costs.
    let tight = tight("");
    let zero = budgeted("", 0.0, "2021-01");
    let mut over = 0.0;
    for run in 0..50 {
        let (t, u) = (simulate(&tight, 1, 11, run), simulate(&zero, 1, 11, run));
        assert_eq!(t.areas, u.areas, "run {run}: the budget changed the care");
        for b in t.pools.iter().flatten() {
            assert!((b.overspend - (b.spent - b.budget).max(0.0)).abs() < 1e-6);
            assert_eq!(
                b.top_up, b.overspend,
                "no bandbreedte: the municipality tops up all"
            );
            over += b.overspend;
        }
    }
    assert!(
        over > 0.0,
        "the budget must be overspent for this test to mean something"
    );
}

#[test]
fn pools_share_a_budget_and_the_bandbreedte_shares_the_risk() {
    let per_area = tight("");
    let pooled = tight("pool = \"municipality\"");
    let banded = tight("pool = \"municipality\"\nbandbreedte = { band = 0.05, share = 0.5 }");
    assert_eq!(per_area.arms[1].pools.len(), 6, "six villages, six budgets");
    assert_eq!(
        pooled.arms[1].pools.len(),
        1,
        "one budget for Noord-Beveland"
    );
    assert_eq!(pooled.arms[1].pools[0].name, "Noord-Beveland");
    let (mut carried, mut topped) = (0.0, 0.0);
    for run in 0..100 {
        let (a, p, b) = (
            simulate(&per_area, 1, 5, run),
            simulate(&pooled, 1, 5, run),
            simulate(&banded, 1, 5, run),
        );
        for (y, py) in p.pools[0].iter().enumerate() {
            // The pool's budget and spend are the sums of its villages'.
            let budget: f64 = a.pools.iter().map(|v| v[y].budget).sum();
            let spent: f64 = a.pools.iter().map(|v| v[y].spent).sum();
            assert!((py.budget - budget).abs() < 1e-6 * budget);
            assert!((py.spent - spent).abs() < 1e-6 * spent.max(1.0));
            // Pooled overspend nets the villages' surpluses against their overspends.
            let over: f64 = a.pools.iter().map(|v| v[y].overspend).sum();
            assert!(py.overspend <= over + 1e-6);
            let by = &b.pools[0][y];
            assert_eq!(by.spent, py.spent, "risk sharing does not change the care");
            let band = 0.05 * by.budget;
            let expect = 0.5 * (by.overspend - band).max(0.0);
            assert!((by.top_up - expect).abs() < 1e-6, "top-up beyond the band");
            carried += by.holder_carries();
            topped += by.top_up;
        }
    }
    assert!(
        carried > 0.0 && topped > 0.0,
        "both sides carry part: {carried} {topped}"
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
        stdout.contains("probability that the pilot needs less care")
            && stdout.contains("care delivered 2021-2025: -")
            && stdout.contains("municipal spend 2021-2025: ")
            && stdout.contains("P(overspend): "),
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
        "arm,scope,scope_name,year,measure,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("differences.csv"),
        "arm,scope,scope_name,measure,period,year,item,mean,sd,p05,p50,p95,p_lower"
    );
    // Typed columns: `year` is a whole number, empty only for the whole horizon, so pandas and R read
    // it as a number without coercion.
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    for line in diffs.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        match f[4] {
            "all" => assert_eq!(f[5], "", "{line}"),
            "year" | "contract_year" => assert!(f[5].parse::<i32>().is_ok(), "{line}"),
            other => panic!("period `{other}` in {line}"),
        }
    }
    assert_eq!(
        header("budget_sizing.csv"),
        "scope,scope_name,year,overspend_risk,expected_spend,p50,p90,p95,budget_needed,above_expected,pilot_budget"
    );
    // The console's sizing line is the table's pooled row, rounded.
    let sizing = fs::read_to_string(out.join("budget_sizing.csv")).unwrap();
    let row: Vec<&str> = sizing
        .lines()
        .find(|l| l.starts_with("municipality,Noord-Beveland,2023,"))
        .unwrap()
        .split(',')
        .collect();
    let needed: f64 = row[8].parse().unwrap();
    let shown = format!("{needed:.0}");
    let grouped: String = shown
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let sep = i > 0 && (shown.len() - i) % 3 == 0;
            sep.then_some(',').into_iter().chain([c])
        })
        .collect();
    assert!(
        stdout.contains("Budget sizing") && stdout.contains(&grouped),
        "{grouped}: {stdout}"
    );
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Om de kans op overschrijding in 2022 onder 10% te houden"));
    assert_eq!(
        header("kpis.csv"),
        "arm,scope,scope_name,contract_year,kpi,target,mean,p05,p50,p95,p_met,mcse"
    );
    let kpis = fs::read_to_string(out.join("kpis.csv")).unwrap();
    // KPI 4 of segment 2a has a target in contract year 2 only.
    assert!(
        kpis.contains("baseline,region,regio,2,waakvlam_overgenomen,0.4000,"),
        "{kpis}"
    );
    assert!(
        kpis.lines().any(
            |l| l.starts_with("baseline,region,regio,1,waakvlam_overgenomen,,")
                && l.split(',').nth(10) == Some("")
        ),
        "no target and no p_met in contract year 1"
    );
    // KPI 3: 20%, 40%, then at most 50%.
    for (y, t) in [(1, "0.2000"), (2, "0.4000"), (3, "0.5000"), (4, "0.5000")] {
        assert!(
            kpis.contains(&format!("baseline,region,regio,{y},alleen_waakvlam,{t},")),
            "year {y}"
        );
    }
    let evaluations = fs::read_to_string(out.join("evaluations.csv")).unwrap();
    assert!(
        evaluations
            .contains("dorpsbudget_noord_beveland,pilot_areas,pilotgebieden,1,evaluatie,due,")
    );
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    for prefix in [
        "region,regio,care_cost,all,,,",
        "region,regio,care_cost,year,2023,,",
        "region,regio,cost,all,,begeleiding_bt,",
        "pilot_areas,pilotgebieden,cost,all,,dorpscoordinator,",
        "municipality,Noord-Beveland,municipal_spend,all,,,",
        "area,Kats,municipal_spend.top_ups,year,2023,,",
        "area,Kamperland,caseload,year,2023,BT,",
        "region,regio,overspend,all,,,",
        "pilot_areas,pilotgebieden,kpi,contract_year,2,alleen_waakvlam,",
    ] {
        assert!(
            diffs.contains(&format!("dorpsbudget_noord_beveland,{prefix}")),
            "{prefix} missing"
        );
    }
    let budget = fs::read_to_string(out.join("budget.csv")).unwrap();
    assert!(budget.contains("dorpsbudget_noord_beveland,municipality,Noord-Beveland,2022,budget,"));
    assert!(
        !budget.contains(",2021,"),
        "no budget rows before the pilot starts"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Property: under a capacity limit in clients, the limited states never hold more clients than
    /// the limit (when they start within it), whatever the limit, its start and the seed; without a
    /// limit nobody waits.
    #[test]
    fn the_caseload_never_exceeds_a_capacity(
        limit in 25u32..60,
        start in 0u32..36,
        seed in 0u64..1_000_000,
    ) {
        let from = format!("{}-{:02}", 2021 + start / 12, start % 12 + 1);
        let text = format!(
            "{}\n[[capacity]]\nname = \"team\"\nareas = [\"Kamperland\"]\nstates = [\"BTS\", \"BT\"]\nclients = {limit}\nfrom = \"{from}\"\n",
            super::without_capacity(&default_text()),
        );
        let m = scenario::from_text("cap.toml", &text).unwrap().model;
        let n = m.n_states();
        let a = m.areas.iter().position(|x| x.name == "Kamperland").unwrap();
        let w = m.waiting_state.unwrap();
        for run in 0..4 {
            let t = simulate(&m, 1, seed, run);
            // From the cycle the limit applies, no move raises the limited caseload above it (one
            // over it from before can only fall).
            let limited = |c: usize| t.areas[a].counts[c * n] + t.areas[a].counts[c * n + 1];
            for c in (start as usize).max(1)..m.cycles as usize {
                proptest::prop_assert!(
                    limited(c) <= limit.max(limited(c - 1)),
                    "cycle {c}: {} > {limit} (was {})", limited(c), limited(c - 1)
                );
            }
            for (b, at) in t.areas.iter().enumerate().filter(|&(b, _)| b != a) {
                if m.capacities.iter().all(|cap| !cap.areas[b]) {
                    proptest::prop_assert!(at.counts.chunks(n).all(|k| k[w] == 0), "area {b} has no limit, yet clients wait");
                }
            }
        }
    }
}

#[test]
fn one_number_in_the_console_report_tables_and_sweep() {
    // The pilot's two answers (care delivered, municipal spend) and P(overspend) are defined once
    // (summary::Account) and must read the same wherever they are shown.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    fs::write(&scenario, super::default_text()).unwrap();
    let out = dir.path().join("o");
    let stdout = wijksim()
        .args(["run", "--runs", "40", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    let arm = "dorpsbudget_noord_beveland";
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    let diff = |measure: &str| -> f64 {
        let row = diffs
            .lines()
            .find(|l| l.starts_with(&format!("{arm},region,regio,{measure},all,,,")))
            .unwrap_or_else(|| panic!("{measure} missing"));
        row.split(',').nth(7).unwrap().parse().unwrap()
    };
    let (care, spend) = (diff("care_cost"), diff("municipal_spend"));
    assert!(care < 0.0, "the default pilot delivers less care: {care}");
    // runs.csv: the mean over runs of the paired per-run totals.
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut lines = runs.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let total = |arm_name: &str, stem: &str| -> Vec<f64> {
        let cols: Vec<usize> = (0..head.len())
            .filter(|&i| head[i].starts_with(stem) && head[i][stem.len()..].parse::<i32>().is_ok())
            .collect();
        assert_eq!(cols.len(), 5, "{stem} per year");
        rows.iter()
            .filter(|r| r[0] == arm_name && r[2] == "region")
            .map(|r| cols.iter().map(|&c| r[c].parse::<f64>().unwrap()).sum())
            .collect()
    };
    let paired_mean = |stem: &str| -> f64 {
        let (p, b) = (total(arm, stem), total("baseline", stem));
        p.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / p.len() as f64
    };
    assert!(
        (paired_mean("care_cost_") - care).abs() < 0.05,
        "runs.csv care"
    );
    assert!(
        (paired_mean("municipal_spend_") - spend).abs() < 0.05,
        "runs.csv spend"
    );
    let over = total(arm, "overspend_");
    let p_overspend = over.iter().filter(|&&x| x > 0.0).count() as f64 / over.len() as f64;
    // accounts.csv: the yearly means, summed, differ as the paired mean does (means are linear).
    let accounts = fs::read_to_string(out.join("accounts.csv")).unwrap();
    let yearly = |arm_name: &str, account: &str| -> f64 {
        accounts
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[0] == arm_name && f[1] == "region" && f[4] == account
            })
            .map(|l| l.split(',').nth(5).unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert!(
        (yearly(arm, "care_cost") - yearly("baseline", "care_cost") - care).abs() < 0.2,
        "accounts.csv care"
    );
    assert!(
        (yearly(arm, "municipal_spend") - yearly("baseline", "municipal_spend") - spend).abs()
            < 0.2,
        "accounts.csv spend"
    );
    // Console and report: the same numbers, rounded to euros, with their sign (in the report kept on
    // one line).
    let en = |x: f64| {
        let s = format!("{:.0}", x.abs());
        let mut t = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                t.push(',');
            }
            t.push(ch);
        }
        format!("{}{t}", if x < 0.0 { "-" } else { "+" })
    };
    assert!(
        stdout.contains(&format!("care delivered 2021-2025: {} [P5-P95", en(care))),
        "console care {}: {stdout}",
        en(care)
    );
    assert!(
        stdout.contains(&format!("municipal spend 2021-2025: {} [P5-P95", en(spend))),
        "console spend: {stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "P(overspend): {:.0}% of runs",
            100.0 * p_overspend
        )),
        "console P(overspend): {stdout}"
    );
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    let nl = |x: f64| {
        en(x)
            .replace(',', ".")
            .replace('-', "−")
            .replacen(['+', '−'], "", 1)
    };
    let sign = |x: f64| if x < 0.0 { "−" } else { "+" };
    assert!(
        report.contains(&format!(
            "geleverde zorg <span class=\"nw\">{}€ {}</span>",
            sign(care),
            nl(care)
        )),
        "report care"
    );
    assert!(
        report.contains(&format!(
            "gemeentelijke uitgaven <span class=\"nw\">{}€ {}</span>",
            sign(spend),
            nl(spend)
        )),
        "report spend"
    );
    assert!(
        report.contains(&format!(
            "kans op overschrijding {:.0}%",
            100.0 * p_overspend
        )),
        "report P(overspend)"
    );
    // A sweep point at the scenario's own values, same runs and seed: the same metrics.
    let sweep = dir.path().join("sw.toml");
    fs::write(
        &sweep,
        "[sweep]\nscenario = \"s.toml\"\nruns = 40\ndesign = \"grid\"\n\n[[parameter]]\nkey = \"regime[dorpsbudget].budget_share_of_provider\"\nvalues = [1.1]\n",
    )
    .unwrap();
    let sw = dir.path().join("sw");
    wijksim()
        .args(["sweep", "--quiet", "--out"])
        .arg(&sw)
        .arg(&sweep)
        .assert()
        .success();
    let text = fs::read_to_string(sw.join("sweep.csv")).unwrap();
    let mut l = text.lines();
    let h: Vec<&str> = l.next().unwrap().split(',').collect();
    let r: Vec<&str> = l.next().unwrap().split(',').collect();
    let metric = |name: &str| -> f64 {
        r[h.iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("{name}"))]
        .parse()
        .unwrap()
    };
    assert!((metric(&format!("{arm}.care_cost_difference")) - care).abs() < 0.01);
    assert!((metric(&format!("{arm}.municipal_spend_difference")) - spend).abs() < 0.01);
    assert!((metric(&format!("{arm}.p_overspend")) - p_overspend).abs() < 1e-4);
}

#[test]
fn a_budget_without_behavioural_effect_delivers_exactly_the_same_care() {
    // A budget that changes nothing about what clients need (no prevention, no modifiers, overspend
    // paid) delivers the same care: care_cost difference exactly 0. What it changes is who pays:
    // the municipality pays the budget and the top-ups instead of the bills.
    let text = with_arms(
        r#"
[[regime]]
name = "lump_sum"
budget_share_of_provider = 0.95
covers = ["begeleiding_bts", "begeleiding_bt", "waakvlam", "toegang"]
on_surplus = "returned"
"#,
        r#"
[[arm]]
name = "baseline"

[[arm]]
name = "lump_sum"
assign = [{ municipality = "Noord-Beveland", regime = "lump_sum", from = "2022-01" }]
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("lump.toml");
    fs::write(&f, text).unwrap();
    let out = dir.path().join("o");
    wijksim()
        .args(["run", "--runs", "30", "--quiet", "--out"])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
    let row = |prefix: &str| -> Vec<f64> {
        diffs
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} missing"))
            .split(',')
            .skip(7)
            .map(|x| x.parse().unwrap())
            .collect()
    };
    assert_eq!(row("lump_sum,region,regio,care_cost,all,,,"), vec![0.0; 6]);
    assert_eq!(
        row("lump_sum,region,regio,community_cost,all,,,"),
        vec![0.0; 6]
    );
    let budgets = row("lump_sum,region,regio,municipal_spend.budgets_paid,all,,,");
    assert!(budgets[0] > 0.0, "the municipality pays the budget");
    let direct = row("lump_sum,region,regio,municipal_spend.paid_directly,all,,,");
    assert!(direct[0] < 0.0, "instead of the villages' bills");
    let top_ups = row("lump_sum,region,regio,municipal_spend.top_ups,all,,,");
    assert!(
        top_ups[0] > 0.0,
        "a budget under the expected cost is overspent"
    );
    // Every surplus returned and every overspend topped up: the municipality pays what the villages
    // spend, so its spend is the baseline's, in the region and in the pilot areas. (Regression: the
    // evaluations booked on `toegang`, a covered line, were once paid by neither the budget nor the
    // municipality.)
    for scope in ["region,regio", "pilot_areas,pilotgebieden"] {
        // mean, sd, p05, p50, p95 (p_lower counts rounding noise below zero).
        let spend = row(&format!("lump_sum,{scope},municipal_spend,all,,,"));
        assert!(
            spend[..5].iter().all(|x| x.abs() < 0.01),
            "{scope}: municipal spend changed by {spend:?}"
        );
    }
}

#[test]
fn a_budget_sized_at_alpha_is_overspent_in_about_alpha_of_fresh_runs() {
    // The budget planner's answer: size the pooled Noord-Beveland budget from 1,000 baseline runs
    // (seed 1), then count how often 1,000 other runs (seed 2) spend more. Tolerance: 4 standard
    // errors of the difference of two independent proportions near alpha (the sizing's own sampling
    // error and the check's): 4 * sqrt(2 * alpha * (1 - alpha) / 1000).
    let m = scenario::default_scenario().model;
    let alpha = m.overspend_risk;
    assert_eq!(alpha, 0.10, "the default accepted chance");
    let runs = |seed| {
        batch::run(
            &m,
            &Options {
                runs: 1000,
                seed,
                threads: 2,
            },
            &|_| {},
        )
        .unwrap()
    };
    let sized = wijksim::aggregate::sizing::sizing(&m, &runs(1));
    let fresh = runs(2);
    let base = &fresh[0];
    let lay = &base.layout;
    let pool: Vec<usize> = (0..lay.pilot_areas.len()).collect();
    let tolerance = 4.0 * (2.0 * alpha * (1.0 - alpha) / 1000.0).sqrt();
    let mut checked = 0;
    for s in sized.iter().filter(|s| s.scope == "municipality") {
        let y = lay.years.iter().position(|&x| x == s.year).unwrap();
        let over = (0..base.runs)
            .filter(|&r| {
                let spend: f64 = pool
                    .iter()
                    .map(|&i| base.columns.value(lay.holder_spend(i, y), r))
                    .sum();
                spend > s.needed
            })
            .count() as f64
            / base.runs as f64;
        assert!(
            (over - alpha).abs() < tolerance,
            "{} {}: overspent in {over} of fresh runs at the budget sized for {alpha}",
            s.name,
            s.year
        );
        assert!(s.needed > s.expected && s.q[2] >= s.needed);
        checked += 1;
    }
    assert_eq!(checked, 2, "Noord-Beveland, 2022-2023: the pilot period");
    // Pooling the six villages needs relatively less headroom than each village alone.
    let pooled = sized
        .iter()
        .find(|s| s.scope == "municipality" && s.year == 2023)
        .unwrap();
    assert!(
        sized
            .iter()
            .filter(|s| s.scope == "area" && s.year == 2023)
            .all(|s| s.above_expected() > pooled.above_expected()),
        "pooling spreads the risk"
    );
}

#[test]
fn a_budget_at_the_p80_of_the_baseline_forecast_is_overspent_in_about_20_percent_of_runs() {
    // A regime without effects whose pooled budget is the P80 of the forecast of its spend under the
    // provider model: each year the budget is overspent in about 20% of the runs. The forecast has a
    // seed of its own (1,000 runs), the check 1,000 others: 4 standard errors of the difference of two
    // proportions near 0.2 is 4 * sqrt(2 * 0.2 * 0.8 / 1000) = 0.072.
    let regimes = r#"
[[regime]]
name = "p80"
pool = "municipality"
budget_percentile_of_baseline = 0.8
covers = ["begeleiding_bts", "begeleiding_bt", "waakvlam", "toegang"]
"#;
    let arms = r#"
[[arm]]
name = "baseline"

[[arm]]
name = "p80"
assign = [{ municipality = "Noord-Beveland", regime = "p80", from = "2022-01", until = "2023-12" }]
"#;
    let m = scenario::from_text("p80.toml", &with_arms(regimes, arms))
        .unwrap()
        .model;
    let budgets = &m.forecast_budgets[1][0];
    assert!(budgets[1] > 0.0 && budgets[2] > budgets[1], "{budgets:?}");
    assert_eq!(
        (budgets[0], budgets[3]),
        (0.0, 0.0),
        "no budget outside the pilot"
    );
    let sums = batch::run(
        &m,
        &Options {
            runs: 1000,
            seed: 99,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let lay = &sums[1].layout;
    for y in [1, 2] {
        let cell = lay.budget(0, y, wijksim::aggregate::BudgetMeasure::Overspent);
        let p = sums[1].stats[cell].mean;
        let budget =
            sums[1].stats[lay.budget(0, y, wijksim::aggregate::BudgetMeasure::Budget)].mean;
        assert!(
            (budget - budgets[y]).abs() < 1e-9 * budget,
            "the pool's budget is the forecast's"
        );
        assert!(
            (p - 0.2).abs() < 0.072,
            "year {y}: overspent in {p} of the runs"
        );
    }
    // Bad quantiles are refused with the fix.
    for bad in ["0.0", "1.0", "80"] {
        let text = with_arms(
            &regimes.replace(
                "budget_percentile_of_baseline = 0.8",
                &format!("budget_percentile_of_baseline = {bad}"),
            ),
            arms,
        );
        let err = scenario::from_text("bad.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("regime[1].budget_percentile_of_baseline") && err.contains("fix:"),
            "{err}"
        );
    }
}

#[test]
fn the_accounting_identities_hold_run_by_run() {
    // On the golden pilot (pooled, bandbreedte, reinvested surplus, capacity): in every run and year,
    // municipal spend = paid directly + budgets paid + top-ups - refunds, and a pool's overspend is
    // what the municipality tops up plus what the holder carries. Without a bandbreedte and with the
    // reserve carried over (returned at the pilot's end), the municipality pays over the pilot exactly
    // what the holder spent (bonus and malus aside).
    use wijksim::aggregate::{Account as A, BudgetMeasure as B};
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(path).unwrap();
    let plain = text
        .replace("bandbreedte = { band = 0.05, share = 0.5 }\n", "")
        .replace(
            "on_surplus = \"reinvested\"\ncost_per_prevented_indication = 4000.0\n",
            "on_surplus = \"carried_over\"\n",
        );
    assert_ne!(plain, text);
    for (name, text) in [("golden", &text), ("plain", &plain)] {
        let m = scenario::from_text("g.toml", text).unwrap().model;
        let sums = batch::run(
            &m,
            &Options {
                runs: 60,
                seed: 4,
                threads: 2,
            },
            &|_| {},
        )
        .unwrap();
        let sm = &sums[1];
        let lay = &sm.layout;
        let at = |cell: usize, r: usize| sm.columns.value(cell, r);
        let mut carried = 0.0;
        for r in 0..60 {
            let (mut paid, mut spent) = (0.0, 0.0);
            for y in 0..lay.years.len() {
                for sc in 0..lay.scopes.len() {
                    let acc = |k: A| at(lay.account(sc, y, k), r);
                    let parts = acc(A::PaidDirectly) + acc(A::BudgetsPaid) + acc(A::TopUps)
                        - acc(A::Refunds)
                        + acc(A::BonusMalus);
                    assert!(
                        (acc(A::MunicipalSpend) - parts).abs() < 1e-6,
                        "{name} run {r} year {y}"
                    );
                }
                let b = |k: B| at(lay.budget(0, y, k), r);
                assert!((b(B::Overspend) - b(B::TopUp) - b(B::HolderCarries)).abs() < 1e-6);
                paid += b(B::Budget) + b(B::TopUp) - b(B::Refund);
                spent += b(B::Spent);
                carried += b(B::HolderCarries);
            }
            if name == "plain" {
                assert!(
                    (paid - spent).abs() < 1e-6 * spent,
                    "run {r}: paid {paid}, spent {spent}"
                );
            }
        }
        if name == "plain" {
            assert_eq!(
                carried, 0.0,
                "without a bandbreedte the holder carries nothing"
            );
        }
    }
}

#[test]
fn a_scoped_kpi_counts_its_areas_and_a_bonus_or_malus_follows_its_target() {
    // The golden pilot has a KPI on the municipality Noord only and a regime paying a bonus of 5,000
    // when it meets its target in a contract year, a malus of 2,000 when it misses it.
    use wijksim::aggregate::{Account as A, BudgetMeasure as B, Layout, reduce};
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let m = scenario::load(std::path::Path::new(&path)).unwrap().model;
    let k = m
        .kpis
        .iter()
        .position(|k| k.name == "alleen_waakvlam_noord")
        .unwrap();
    let kpi = &m.kpis[k];
    let n = m.n_states();
    let (bt, wv) = (m.state_index("BT").unwrap(), m.state_index("WV").unwrap());
    let noord: Vec<usize> = (0..m.areas.len())
        .filter(|&a| m.municipalities[m.areas[a].municipality] == "Noord")
        .collect();
    assert_eq!(noord.len(), 2);
    let lay = Layout::new(&m, 1);
    let (mut met, mut missed) = (0, 0);
    for r in 0..40 {
        let t = simulate(&m, 1, 8, r);
        let cells = reduce(&m, 1, &lay, &t);
        for y in 0..kpi.years() {
            let (mut num, mut den) = (0.0, 0.0);
            for c in (0..m.cycles as usize).filter(|&c| kpi.contract_year[c] == Some(y)) {
                for &a in &noord {
                    let cnt = &t.areas[a].counts[c * n..(c + 1) * n];
                    num += f64::from(cnt[wv]);
                    den += f64::from(cnt[bt] + cnt[wv]);
                }
            }
            // The KPI over the municipality Noord (its scope), and the bonus over the pool's areas:
            // the same areas here.
            let i = kpi
                .scopes
                .iter()
                .position(|&sc| m.scopes[sc].name == "Noord")
                .unwrap();
            let value = cells[lay.kpi(&m, k, i, y, wijksim::aggregate::KpiCell::Value)];
            assert!(
                (value - num / den).abs() < 1e-12,
                "run {r} year {y}: {value} vs {}",
                num / den
            );
            // Contract year y is calendar year y here (the contract starts at the scenario's start).
            let ok = kpi.met(y, value).unwrap();
            let want = if ok { 5000.0 } else { -2000.0 };
            if ok {
                met += 1
            } else {
                missed += 1
            }
            assert_eq!(
                cells[lay.budget(0, y, B::BonusMalus)],
                want,
                "run {r} year {y}"
            );
            assert_eq!(cells[lay.account(0, y, A::BonusMalus)], want);
        }
    }
    assert!(
        met > 0 && missed > 0,
        "both outcomes occur: {met} met, {missed} missed"
    );
}

#[test]
fn a_bad_bonus_or_malus_is_refused_with_the_fix() {
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(path).unwrap().replace(
        "bonus_malus = [{ kpi = \"alleen_waakvlam_noord\", bonus = 5000.0, malus = 2000.0 }]",
        "bonus_malus = [{ kpi = \"alleen_waakvlam_zuid\", bonus = 5000.0 }, { kpi = \"overgenomen\" }]",
    );
    let err = scenario::from_text("bm.toml", &text)
        .unwrap_err()
        .to_string();
    for want in [
        "regime[0].bonus_malus[0].kpi",
        "unknown KPI `alleen_waakvlam_zuid`",
        "regime[0].bonus_malus[1]",
        "neither a bonus nor a malus",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn a_region_pool_gets_one_budget_and_its_own_sizing_row() {
    let text = default_text().replace("pool = \"municipality\" ", "pool = \"region\" ");
    assert_ne!(text, default_text());
    let m = scenario::from_text("region.toml", &text).unwrap().model;
    assert_eq!(m.arms[1].pools.len(), 1);
    assert_eq!(m.arms[1].pools[0].name, "regio");
    let sums = batch::run(
        &m,
        &Options {
            runs: 50,
            seed: 1,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let rows = wijksim::aggregate::sizing::sizing(&m, &sums);
    let region: Vec<_> = rows.iter().filter(|r| r.scope == "region").collect();
    let muni: Vec<_> = rows.iter().filter(|r| r.scope == "municipality").collect();
    assert_eq!(region.len(), 2, "2022 and 2023");
    for (r, mu) in region.iter().zip(&muni) {
        // All pilot areas lie in Noord-Beveland: the region pool is the municipality's.
        assert_eq!(r.needed, mu.needed);
        assert!(
            r.pilot_budget.is_some_and(|b| b > 0.0),
            "the pilot's own budget is shown"
        );
    }
}

#[test]
fn the_default_reads_the_waakvlam_ambition_as_a_count_and_waakvlam_through_the_sociale_basis_by_weight()
 {
    use wijksim::model::kpi::KpiKind;
    let text = default_text();
    let m = scenario::from_text("default", &text).unwrap().model;
    let find = |name: &str| m.kpis.iter().find(|k| k.name == name).unwrap();
    let (count, share) = (find("clienten_waakvlam"), find("aandeel_waakvlam"));
    // 165 clients in contract year 3 (2023, from 2021-01) only.
    assert!(count.is_count() && !share.is_count());
    assert_eq!(count.targets, [None, None, Some(165.0), None, None]);
    // The mean Waakvlam caseload of 2023 is the share's numerator: count = share x mean indicated.
    let n = m.n_states();
    let cycles = m.cycles as usize;
    let indicated: Vec<usize> = ["BTS", "BT", "WV"]
        .iter()
        .map(|s| m.state_index(s).unwrap())
        .collect();
    let moves = vec![0.0; cycles * (n + 1) * (n + 1)];
    for r in 0..3 {
        let t = simulate(&m, 0, 8, r);
        let mut counts = vec![0.0; cycles * n];
        for a in &t.areas {
            for (x, &v) in counts.iter_mut().zip(&a.counts) {
                *x += f64::from(v);
            }
        }
        let (mut c, mut s) = (vec![0.0; count.years()], vec![0.0; share.years()]);
        count.evaluate(n, &counts, &moves, &mut c);
        share.evaluate(n, &counts, &moves, &mut s);
        let in_2023 = (0..cycles).filter(|&c| count.contract_year[c] == Some(2));
        let mean_indicated = in_2023
            .map(|c| indicated.iter().map(|&i| counts[c * n + i]).sum::<f64>())
            .sum::<f64>()
            / 12.0;
        assert!(c[2] > 0.0);
        assert!(
            (c[2] - s[2] * mean_indicated).abs() < 1e-9,
            "run {r}: {} vs {}",
            c[2],
            s[2] * mean_indicated
        );
    }
    // KPI 3 with Waakvlam through the sociale basis, as the default's comment shows it: an assumed 30%
    // of SB's clients count in numerator and denominator.
    let commented = "# numerator = [\"WV\", \"SB\"]\n# denominator = [\"BTS\", \"BT\", \"WV\", \"SB\"]\n# weights = { SB = 0.3 }\n";
    assert!(text.contains(commented));
    let weighted = text
        .replacen(
            "numerator = [\"WV\"]\ndenominator = [\"BTS\", \"BT\", \"WV\"]\n",
            "",
            1,
        )
        .replacen(commented, &commented.replace("# ", ""), 1);
    let m = scenario::from_text("weighted", &weighted).unwrap().model;
    let kpi = m.kpis.iter().find(|k| k.name == "alleen_waakvlam").unwrap();
    let w = |code: &str, v: f64| {
        let mut x = vec![0.0; m.n_states()];
        x[m.state_index(code).unwrap()] = v;
        x
    };
    let add = |a: Vec<f64>, b: Vec<f64>| a.iter().zip(&b).map(|(x, y)| x + y).collect::<Vec<_>>();
    let num = add(w("WV", 1.0), w("SB", 0.3));
    let den = add(add(w("BTS", 1.0), w("BT", 1.0)), num.clone());
    assert_eq!(kpi.kind, KpiKind::Share { num, den });
}
