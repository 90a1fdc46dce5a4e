//! Scopes (issue 12): every count and cost per area sums to its municipality and the municipalities to
//! the region; evaluations are reported as what they are and booked on their cost line.

use wijksim::aggregate::{Account, Econ, KpiCell, Summary};
use wijksim::model::scope::ScopeKind;
use wijksim::run::batch::{self, Options};

/// The golden pilot with every area reported (Dorp and Stad are pilot areas; Zuid is asked for).
fn golden_all_areas() -> wijksim::model::Model {
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.replacen("[run]\n", "[run]\nreport_areas = [\"Zuid\"]\n", 1);
    wijksim::scenario::from_text("pilot.toml", &text)
        .unwrap()
        .model
}

/// Every cell that is a count or a cost of scope `sc`: caseload, flows, cost lines, accounts and the
/// discounted totals.
fn cells(sm: &Summary, sc: usize) -> Vec<usize> {
    let l = &sm.layout;
    let years = l.years.len();
    let mut v = Vec::new();
    for c in 0..l.cycles {
        v.extend((0..l.n_states).map(|s| l.caseload(sc, c, s)));
    }
    for y in 0..years {
        v.extend((0..l.flows.len()).map(|f| l.flow(sc, y, f)));
        v.extend((0..l.lines).map(|line| l.cost(sc, y, line)));
        v.extend(Account::ALL.map(|k| l.account(sc, y, k)));
    }
    v.extend([Econ::DiscountedCost, Econ::Clients].map(|e| l.econ(sc, e)));
    v
}

#[test]
fn every_count_and_cost_sums_over_areas_to_its_municipality_and_over_municipalities_to_the_region()
{
    let m = golden_all_areas();
    let kinds: Vec<ScopeKind> = m.scopes.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            ScopeKind::Region,
            ScopeKind::Municipality,
            ScopeKind::Municipality,
            ScopeKind::PilotAreas,
            ScopeKind::Area,
            ScopeKind::Area,
            ScopeKind::Area
        ]
    );
    let opts = Options {
        runs: 6,
        seed: 3,
        threads: 2,
    };
    let summaries = batch::run(&m, &opts, &|_| {}).unwrap();
    let scope = |kind: ScopeKind, name: &str| {
        wijksim::model::scope::find(&m.scopes, kind, name).unwrap_or_else(|| panic!("{name}"))
    };
    // (whole, parts): Noord = Dorp + Stad, Zuid = its one area, region = Noord + Zuid, the pilot areas
    // = Dorp + Stad.
    let checks = [
        (
            scope(ScopeKind::Municipality, "Noord"),
            vec![
                scope(ScopeKind::Area, "Dorp"),
                scope(ScopeKind::Area, "Stad"),
            ],
        ),
        (
            scope(ScopeKind::Municipality, "Zuid"),
            vec![scope(ScopeKind::Area, "Zuid")],
        ),
        (
            0,
            vec![
                scope(ScopeKind::Municipality, "Noord"),
                scope(ScopeKind::Municipality, "Zuid"),
            ],
        ),
        (
            scope(ScopeKind::PilotAreas, "pilotgebieden"),
            vec![
                scope(ScopeKind::Area, "Dorp"),
                scope(ScopeKind::Area, "Stad"),
            ],
        ),
    ];
    let mut checked = 0;
    for sm in &summaries {
        for (whole, parts) in &checks {
            let w = cells(sm, *whole);
            let p: Vec<Vec<usize>> = parts.iter().map(|&sc| cells(sm, sc)).collect();
            for (i, &cell) in w.iter().enumerate() {
                for r in 0..sm.runs {
                    let total = sm.columns.value(cell, r);
                    let sum: f64 = p.iter().map(|cs| sm.columns.value(cs[i], r)).sum();
                    assert!(
                        (total - sum).abs() <= 1e-9 * total.abs().max(1.0),
                        "{}: {} run {r}: {total} vs sum {sum}",
                        sm.arm,
                        sm.layout.describe(cell)
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 5_000, "{checked}");
    // Something is there to sum: the pilot spends budgets in Noord only.
    let pilot = &summaries[1];
    let budgets = |sc: usize| pilot.stats[pilot.layout.account(sc, 1, Account::BudgetsPaid)].mean;
    assert!(budgets(scope(ScopeKind::Area, "Dorp")) > 0.0);
    assert_eq!(budgets(scope(ScopeKind::Area, "Zuid")), 0.0);
}

#[test]
fn evaluations_are_counted_as_evaluations_and_their_cost_is_booked_on_their_line() {
    // The golden pilot's evaluations (120 each at 2023 prices, planned share 1) are booked on
    // `toegang`. Expected values (cohort engine): without the evaluations the line costs less by
    // exactly the evaluations held times their price, in every scope; in 2023 (the price year) at 120
    // each.
    let m = golden_all_areas();
    let k = m.kpis.iter().position(|k| k.is_evaluations()).unwrap();
    let kpi = &m.kpis[k];
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replacen("[run]\n", "[run]\nreport_areas = [\"Zuid\"]\n", 1)
        .replace("cost_per_evaluation = 120.0", "cost_per_evaluation = 0.0");
    let without = wijksim::scenario::from_text("pilot.toml", &text)
        .unwrap()
        .model;
    let (with_sums, _) = wijksim::aggregate::expected::summarise(&m);
    let (without_sums, _) = wijksim::aggregate::expected::summarise(&without);
    let toegang = m.lines.iter().position(|l| l == "toegang").unwrap();
    let y2023 = m.years().iter().position(|&y| y == 2023).unwrap();
    // The golden starts in 2022-01, as its contract: 2023 is contract year 2.
    let first = (0..m.cycles).find(|&c| m.date(c).year == 2023).unwrap();
    let cy = kpi.contract_year[first as usize].unwrap();
    assert_eq!(cy, 1);
    for (w, wo) in with_sums.iter().zip(&without_sums) {
        let lay = &w.layout;
        for (i, &sc) in kpi.scopes.iter().enumerate() {
            let held = w.stats[lay.kpi(&m, k, i, cy, KpiCell::Held)].mean;
            let due = w.stats[lay.kpi(&m, k, i, cy, KpiCell::Due)].mean;
            assert!(held > 0.0 && (held - due).abs() < 1e-9, "planned share 1");
            let line = |s: &Summary| s.stats[lay.cost(sc, y2023, toegang)].mean;
            let booked = line(w) - line(wo);
            assert!(
                (booked - 120.0 * held).abs() < 1e-6 * booked,
                "{} scope {sc}: {booked} vs 120 x {held}",
                w.arm
            );
            // The same euros in care cost (toegang is care) and, outside a budget, in municipal spend.
            let acc = |s: &Summary, a| s.stats[lay.account(sc, y2023, a)].mean;
            let care = acc(w, Account::CareCost) - acc(wo, Account::CareCost);
            assert!((care - booked).abs() < 1e-6 * booked, "{care} vs {booked}");
        }
    }
    // Not a KPI row: the console's KPI table and kpis.csv leave it out; evaluations.csv has it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.toml");
    std::fs::write(
        &file,
        std::fs::read_to_string(format!(
            "{}/tests/golden/pilot.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let out = dir.path().join("o");
    super::wijksim()
        .args(["run", "--runs", "20", "--quiet", "--plots", "none", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let kpis = std::fs::read_to_string(out.join("kpis.csv")).unwrap();
    assert!(!kpis.contains("evaluatie"), "{kpis}");
    let ev = std::fs::read_to_string(out.join("evaluations.csv")).unwrap();
    assert!(ev.starts_with(
        "arm,scope,scope_name,contract_year,evaluation,measure,mean,sd,p05,p25,p50,p75,p95,mcse\n"
    ));
    for measure in ["due", "held"] {
        assert!(
            ev.contains(&format!("baseline,region,regio,1,evaluatie,{measure},")),
            "{ev}"
        );
    }
}

#[test]
fn each_pilot_area_gets_its_own_figures_with_the_arms_overlaid_and_an_area_outside_the_pilot_none()
{
    // The golden pilot gives Dorp and Stad a budget; Zuid is only reported. A strategist asks what
    // happens in each village: a figure per pilot area of its caseload per state, both arms overlaid,
    // and one of its stacked caseload per arm, in the report under the area's name.
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/tests/golden/pilot.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap().replacen(
        "[run]\n",
        "[run]\nreport_areas = [\"Zuid\"]\n",
        1,
    );
    let scenario = dir.path().join("pilot.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = dir.path().join("o");
    super::wijksim()
        .args(["run", "--runs", "4", "--quiet", "--lang", "en", "--out"])
        .arg(&out)
        .arg(&scenario)
        .assert()
        .success();
    let plots = out.join("plots");
    for area in ["Dorp", "Stad"] {
        let fans = std::fs::read_to_string(plots.join(format!("fan_area_{area}.svg"))).unwrap();
        for text in [
            format!("Area {area}"),
            "BT".into(),
            "WV".into(),
            "SB".into(),
            "WACHT".into(),
            "baseline".into(),
            "dorpsbudget dorp".into(),
            "pilot starts Jul 2022".into(),
        ] {
            assert!(fans.contains(&text), "fan_area_{area}.svg names {text}");
        }
        assert!(!fans.contains(">UIT<"), "no panel for the absorbing state");
        let stacked =
            std::fs::read_to_string(plots.join(format!("stacked_area_{area}.svg"))).unwrap();
        assert!(stacked.contains("baseline") && stacked.contains("dorpsbudget dorp"));
        assert!(plots.join(format!("fan_area_{area}.png")).is_file());
    }
    assert!(
        !plots.join("fan_area_Zuid.svg").exists() && !plots.join("stacked_area_Zuid.svg").exists(),
        "a reported area outside the pilot has tables only"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let per_area = report.split("<h3>Per pilot area</h3>").nth(1).unwrap();
    assert!(
        per_area.contains("<details><summary>Area Dorp (")
            && per_area.contains("<summary>Area Stad (")
    );
    assert!(!report.contains("<summary>Area Zuid"));
}
