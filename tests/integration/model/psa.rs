//! Parameter uncertainty (probabilistic sensitivity analysis): distributions in scenario files.

use super::{default_text, wijksim};
use std::fs;
use wijksim::scenario;

const BT_TARIFF: &str = "tariff_per_hour = 66.00 ";
const BT_ROW: &str =
    "to = { BT = 0.965, BTS = 0.004, WV = 0.009, SB = 0.006, VW = 0.002, UIT = 0.014 }\n";

/// The default with an uncertain BT tariff (gamma, mean 66) and an uncertain BT row (Dirichlet).
fn uncertain() -> String {
    let t = default_text();
    assert!(t.contains(BT_TARIFF) && t.contains(BT_ROW));
    t.replace(
        BT_TARIFF,
        "tariff_per_hour = { dist = \"gamma\", mean = 66.0, sd = 5.0 } ",
    )
    .replace(BT_ROW, &format!("{BT_ROW}concentration = 2000\n"))
}

#[test]
fn draws_are_keyed_by_parameter_so_adding_one_leaves_the_others() {
    let one = scenario::from_text("a.toml", &uncertain()).unwrap();
    assert!(one.model.uncertain);
    let two_text = uncertain().replace(
        "tariff_per_hour = 73.80 ",
        "tariff_per_hour = { dist = \"uniform\", min = 70.0, max = 78.0 } ",
    );
    let two = scenario::from_text("b.toml", &two_text).unwrap();
    // cost[1] is the BT line, cost[0] BTS.
    let bt = |s: &scenario::Scenario, run| s.model_for_run(5, run).unwrap().costs[1].amount[0];
    let bts = |s: &scenario::Scenario, run| s.model_for_run(5, run).unwrap().costs[0].amount[0];
    for run in 0..5 {
        assert_eq!(
            bt(&one, run),
            bt(&two, run),
            "run {run}: the BT draw moved when BTS got a distribution"
        );
    }
    assert_ne!(bt(&one, 0), bt(&one, 1), "runs draw anew");
    assert_eq!(bts(&one, 0), bts(&one, 1), "a fixed parameter stays fixed");
    assert_ne!(bts(&two, 0), bts(&two, 1));
    // The mean model has every parameter at its mean: 9 hours x 66.00, indexed.
    assert_eq!(
        one.model.costs[1].amount,
        scenario::default_scenario().model.costs[1].amount
    );
}

#[test]
fn no_psa_gives_the_deterministic_results_and_psa_widens_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.toml");
    fs::write(&file, uncertain()).unwrap();
    let run = |args: &[&str], out: &str| {
        let o = dir.path().join(out);
        wijksim()
            .args(["run", "--runs", "200", "--quiet", "--out"])
            .arg(&o)
            .args(args)
            .assert()
            .success();
        o
    };
    let fixed = run(&["--no-psa"], "fixed");
    let no_psa = run(&[file.to_str().unwrap(), "--no-psa"], "no_psa");
    let psa = run(&[file.to_str().unwrap(), "--threads", "1"], "psa");
    let psa2 = run(&[file.to_str().unwrap(), "--threads", "2"], "psa2");
    for f in ["caseload.csv", "costs.csv"] {
        assert!(
            fs::read(fixed.join(f)).unwrap() == fs::read(no_psa.join(f)).unwrap(),
            "{f}: --no-psa differs from the scenario at its means"
        );
        assert!(
            fs::read(psa.join(f)).unwrap() == fs::read(psa2.join(f)).unwrap(),
            "{f}: PSA depends on the thread count"
        );
    }
    let sd = |o: &std::path::Path| -> f64 {
        let costs = fs::read_to_string(o.join("costs.csv")).unwrap();
        let row = costs
            .lines()
            .find(|l| l.starts_with("baseline,region,regio,2025,begeleiding_bt,"))
            .unwrap();
        row.split(',').nth(7).unwrap().parse().unwrap()
    };
    assert!(
        sd(&psa) > 2.0 * sd(&no_psa),
        "PSA sd {} vs fixed {}",
        sd(&psa),
        sd(&no_psa)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(psa.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["psa"], true);
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(no_psa.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["psa"], false);
}

#[test]
fn bad_distributions_are_clear_errors() {
    let cases = [
        (
            default_text().replace(
                "BT = 0.965, BTS",
                "BT = { dist = \"beta\", mean = 0.965, sd = 0.01 }, BTS",
            ),
            "transition[1].to.BT",
            "concentration",
        ),
        (
            default_text().replace(
                BT_TARIFF,
                "tariff_per_hour = { dist = \"gama\", mean = 66.0, sd = 5.0 } ",
            ),
            "cost[1].tariff_per_hour",
            "unknown distribution `gama`",
        ),
        (
            default_text().replace(
                BT_TARIFF,
                "tariff_per_hour = { dist = \"normal\", mean = 66.0, sd = 5.0 } ",
            ),
            "cost[1].tariff_per_hour",
            "truncate",
        ),
        (
            default_text().replace(
                BT_TARIFF,
                "tariff_per_hour = { dist = \"gamma\", mean = 66.0 } ",
            ),
            "cost[1].tariff_per_hour",
            "needs `sd`",
        ),
        (
            default_text().replace(
                "prevention = { dist = \"beta\", mean = 0.10, sd = 0.04 }",
                "prevention = { dist = \"normal\", mean = 0.1, sd = 0.05, min = 0.0 }",
            ),
            "regime[0].prevention",
            "outside 0..1",
        ),
        (
            default_text().replace(BT_ROW, &format!("{BT_ROW}concentration = -5\n")),
            "transition[1].concentration",
            "above 0",
        ),
    ];
    for (text, key, want) in cases {
        let err = scenario::from_text("bad.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("`{key}`")) && err.contains(want) && err.contains("fix:"),
            "{key}: {err}"
        );
        assert!(err.contains("bad.toml:"), "{err}");
    }
}

#[test]
fn a_row_from_counts_is_their_proportions() {
    let text = default_text().replace(
        BT_ROW,
        "to = { BT = 965, BTS = 4, WV = 9, SB = 6, VW = 2, UIT = 14 }\ncounts = true\n",
    );
    let m = scenario::from_text("c.toml", &text).unwrap().model;
    assert!(m.uncertain);
    let base = scenario::default_scenario().model;
    let (r, b) = (&m.transitions.rows(), &base.transitions.rows());
    let row = r.iter().find(|row| row.targets()[0] == 1).unwrap();
    let brow = b.iter().find(|row| row.targets()[0] == 1).unwrap();
    for (x, y) in row.probs().iter().zip(brow.probs()) {
        assert!((x - y).abs() < 1e-12);
    }
}
