//! The expected-value (cohort) engine: exact against matrix powers, and the reference the Monte Carlo
//! engine is tested against (every mean within 4 standard errors; fixed seeds).

use super::{default_text, wijksim};
use wijksim::aggregate::expected;
use wijksim::aggregate::{Account, Summary};
use wijksim::model::Model;
use wijksim::run::batch::{self, Options};
use wijksim::scenario;

fn fixture(name: &str) -> Model {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    scenario::load(std::path::Path::new(&path)).unwrap().model
}

#[test]
fn cohort_matches_hand_computed_matrix_powers() {
    let m = fixture("three_state.toml");
    let p = [[0.85, 0.10, 0.05], [0.25, 0.55, 0.20], [0.0, 0.0, 1.0]];
    let (sums, warnings) = expected::summarise(&m);
    assert!(warnings.is_empty());
    let sm = &sums[0];
    let mut v = [800.0, 200.0, 0.0];
    let mut cost = [0.0; 10];
    for (c, cost) in cost.iter_mut().enumerate() {
        for (s, &want) in v.iter().enumerate() {
            let got = sm.stats[sm.layout.caseload(0, c, s)].mean;
            assert!(
                (got - want).abs() < 1e-9,
                "cycle {c} state {s}: {got} vs {want}"
            );
        }
        // Yearly cycles: 12 months of care in S.
        *cost = v[1] * 100.0 * 12.0;
        v = std::array::from_fn(|j| (0..3).map(|i| v[i] * p[i][j]).sum());
    }
    for (y, &expected) in cost.iter().enumerate() {
        let got = sm.stats[sm.layout.cost(0, y, 0)].mean;
        assert!(
            (got - expected).abs() < 1e-6,
            "year {y}: {got} vs {expected}"
        );
    }
}

/// Asserts every caseload cell and every yearly total cost of every arm lies within 4 standard errors
/// of the cohort value.
fn monte_carlo_agrees(m: &Model, runs: u32, seed: u64) {
    let (exact, _) = expected::summarise(m);
    let mc: Vec<Summary> = batch::run(
        m,
        &Options {
            runs,
            seed,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let mut cells = 0;
    for (e, s) in exact.iter().zip(&mc) {
        let lay = &s.layout;
        let mut check = |cell: usize, what: String| {
            let (x, want) = (s.stats[cell], e.stats[cell].mean);
            let se = x.mcse(s.runs);
            assert!(
                (x.mean - want).abs() <= 4.0 * se + 1e-9,
                "{}: {what}: Monte Carlo {} vs cohort {want} (se {se})",
                s.arm,
                x.mean
            );
            cells += 1;
        };
        for c in 0..lay.cycles {
            for st in 0..lay.n_states {
                check(
                    lay.caseload(0, c, st),
                    format!("caseload cycle {c} state {st}"),
                );
            }
        }
        for y in 0..lay.years.len() {
            for l in 0..lay.lines {
                check(lay.cost(0, y, l), format!("cost line {l} year {y}"));
            }
            // The pilot's effect is read from care_cost: linear in the caseload and the moves, so
            // both engines must agree (municipal spend holds max(0, spent - budget) and need not).
            for k in [Account::CareCost, Account::CommunityCost] {
                check(lay.account(0, y, k), format!("{} year {y}", k.name()));
            }
        }
    }
    assert!(cells >= 10, "{cells} cells checked");
}

#[test]
fn monte_carlo_means_agree_with_the_cohort_on_fixtures() {
    monte_carlo_agrees(&fixture("three_state.toml"), 2000, 3);
    monte_carlo_agrees(&fixture("bands.toml"), 2000, 5);
}

#[test]
fn monte_carlo_means_agree_with_the_cohort_on_the_default_scenario() {
    // The baseline, and a pilot without feedback (modifiers, prevention, phase-in), so without the
    // capacity limit. A surplus is returned: a carried-over reserve is max(0, budget - spent), whose
    // mean is not the value at the mean spend.
    let text = super::without_capacity(&default_text())
        .replace("on_surplus = \"carried_over\"", "on_surplus = \"returned\"");
    let m = scenario::from_text("default.toml", &text).unwrap().model;
    assert!(wijksim::engine::cohort::feedback_regimes(&m, 1).is_empty());
    monte_carlo_agrees(&m, 1000, 17);
}

#[test]
fn cohort_engine_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let assert = wijksim()
        .args(["run", "--engine", "cohort", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    // The default has a capacity limit: the cohort engine says it ignores that.
    assert!(
        stderr.contains("warning: arm `dorpsbudget_noord_beveland`")
            && stderr.contains("ignores capacity `begeleiders_noord_beveland`"),
        "{stderr}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["engine"], "cohort");
    // Both arms have the capacity; the parameters are taken at their means.
    assert_eq!(m["warnings"].as_array().unwrap().len(), 3);
    let caseload = std::fs::read_to_string(out.join("caseload.csv")).unwrap();
    // Scopes: the region, 7 municipalities, the pilot areas and their 6 villages.
    assert_eq!(caseload.lines().count(), 1 + 2 * 15 * 60 * 7);
}

#[test]
fn regime_rows_with_their_own_time_in_state_bands_replace_only_their_cells() {
    // The provider has one row (no bands); the regime replaces the row at 2-3 cycles in state, so its
    // table distinguishes times in state up to 4+ (where the provider's row applies again).
    let text = r#"
[scenario]
name = "bands"
[time]
start = "2020-01"
cycle_months = 12
cycles = 7
[run]
runs = 400
seed = 3
[[state]]
code = "A"
[[state]]
code = "D"
absorbing = true
[[area]]
municipality = "m"
inhabitants = 1000
caseload = { A = 1000 }
[[transition]]
from = "A"
to = { A = 0.9, D = 0.1 }
[[regime]]
name = "r"
[[regime.transition]]
from = "A"
cycles_in_state = "2-3"
to = { A = 0.5, D = 0.5 }
[[arm]]
name = "base"
[[arm]]
name = "r"
assign = [{ municipality = "m", regime = "r", from = "2020-01" }]
"#;
    let m = scenario::from_text("bands.toml", text).unwrap().model;
    let (sums, _) = expected::summarise(&m);
    let mc = batch::run(
        &m,
        &Options {
            runs: 400,
            seed: 3,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    // Alive: cycle 0 at 0 cycles in state; the move at the end of cycle c uses c + 1 cycles in state.
    let survive = [1.0, 0.9, 0.5, 0.5, 0.9, 0.9, 0.9];
    let mut alive = 1000.0;
    for (c, p) in survive.into_iter().enumerate() {
        alive *= p;
        let base = 1000.0 * 0.9f64.powi(c as i32);
        for (arm, want) in [(0, base), (1, alive)] {
            let sm = &sums[arm];
            let got = sm.stats[sm.layout.caseload(0, c, 0)].mean;
            assert!(
                (got - want).abs() < 1e-9,
                "arm {arm} cycle {c}: {got} vs {want}"
            );
            let s = &mc[arm].stats[mc[arm].layout.caseload(0, c, 0)];
            assert!(
                (s.mean - want).abs() <= 4.0 * s.sd / 20.0 + 1e-9,
                "Monte Carlo arm {arm} cycle {c}: {} vs {want}",
                s.mean
            );
        }
    }
}
