//! Own contributions over a period (`from`, `until`): income only in those months.

use super::default_text;
use crate::cli::check::{line_of, rejects};
use wijksim::aggregate::expected;
use wijksim::model::{CostBasis, Model};
use wijksim::run::batch::{self, Options};
use wijksim::scenario;

const SIX: &str = r#"["Goes", "Tholen", "Reimerswaal", "Borsele", "Kapelle", "Noord-Beveland"]"#;

/// The default scenario with one more own contribution (Waakvlam in six municipalities) over `period`
/// (the keys `from` and `until`, as TOML lines).
fn with_waakvlam_contribution(period: &str) -> String {
    let text = default_text();
    let marker = "# ---------------------------------------------------------------------------------------------------\n# KPIs";
    assert!(text.contains(marker));
    text.replacen(
        marker,
        &format!(
            "[[own_contribution]]\nmunicipalities = {SIX}\nstates = [\"WV\"]\nshare_paying = 0.6\nper_month_by_year = {{ 2020 = 19.00, 2024 = 20.60, 2025 = 21.00 }}\n{period}\n\n{marker}"
        ),
        1,
    )
}

fn model(text: &str) -> Model {
    scenario::from_text("oc.toml", text).unwrap().model
}

#[test]
fn an_own_contribution_with_a_period_is_income_only_in_its_months() {
    // 2022-04 is cycle 15, 2023-09 cycle 32 (monthly cycles from 2021-01).
    let base = model(&default_text());
    let with = model(&with_waakvlam_contribution(
        "from = \"2022-04\"\nuntil = \"2023-09\"",
    ));
    assert_eq!(with.costs.len(), base.costs.len() + 1);
    for (a, b) in base.costs.iter().zip(&with.costs) {
        assert_eq!(a.amount, b.amount, "the other items are as they were");
    }
    let item = with.costs.last().unwrap();
    let wv = with.state_index("WV").unwrap();
    assert_eq!(item.basis, CostBasis::PerCycle(wv));
    for (c, &x) in item.amount.iter().enumerate() {
        let want = if (15..=32).contains(&c) {
            -0.6 * 19.0
        } else {
            0.0
        };
        assert_eq!(x, want, "cycle {c}");
    }
    // Expected values: the clients are the same; the income changes only for the six municipalities'
    // own contribution in 2022 and 2023, by exactly the months 2022-04 .. 2023-09 of Waakvlam.
    let (eb, _) = expected::summarise(&base);
    let (ew, _) = expected::summarise(&with);
    let line = with
        .lines
        .iter()
        .position(|l| l == "eigen_bijdrage")
        .unwrap();
    let lay = &ew[0].layout;
    for arm in 0..2 {
        let (b, w) = (&eb[arm], &ew[arm]);
        for c in 0..lay.cycles {
            for s in 0..lay.n_states {
                let cell = lay.caseload(0, c, s);
                assert_eq!(b.stats[cell].mean, w.stats[cell].mean);
            }
        }
        for (y, &year) in lay.years.iter().enumerate() {
            for (m, scope) in lay.scopes.iter().enumerate() {
                // Expected Waakvlam months of the scope's areas in this year's period.
                let months: f64 = scope
                    .areas
                    .iter()
                    .copied()
                    .filter(|&a| item.municipalities[with.areas[a].municipality])
                    .map(|a| {
                        let e = wijksim::engine::cohort::expected_arm_area(&with, arm, a);
                        (15..=32)
                            .filter(|&c| with.date(c as u32).year == year)
                            .map(|c| e.counts[c * with.n_states() + wv])
                            .sum::<f64>()
                    })
                    .sum();
                for l in 0..lay.lines {
                    let cell = lay.cost(m, y, l);
                    let d = w.stats[cell].mean - b.stats[cell].mean;
                    if l == line && months > 0.0 {
                        let want = -0.6 * 19.0 * months;
                        assert!(
                            (d - want).abs() < 1e-6 * want.abs(),
                            "arm {arm} {year} municipality {m} line {l}: {d} vs {want}"
                        );
                    } else {
                        assert!(
                            d.abs() < 1e-9,
                            "arm {arm} {year} municipality {m} line {l} changed by {d}"
                        );
                    }
                }
            }
            let income =
                ew[arm].stats[lay.cost(0, y, line)].mean - eb[arm].stats[lay.cost(0, y, line)].mean;
            assert_eq!(
                income < 0.0,
                year == 2022 || year == 2023,
                "{year}: {income}"
            );
        }
    }
    // Monte Carlo, same seed: the same clients (an amount draws no random numbers), the income only in
    // the period's years.
    let opts = Options {
        runs: 20,
        seed: 5,
        threads: 2,
    };
    let mb = batch::run(&base, &opts, &|_| {}).unwrap();
    let mw = batch::run(&with, &opts, &|_| {}).unwrap();
    for (b, w) in mb.iter().zip(&mw) {
        for c in 0..lay.cycles {
            for s in 0..lay.n_states {
                let cell = lay.caseload(0, c, s);
                assert_eq!(b.stats[cell].mean, w.stats[cell].mean);
            }
        }
        for (y, &year) in lay.years.iter().enumerate() {
            let cell = lay.cost(0, y, line);
            let d = w.stats[cell].mean - b.stats[cell].mean;
            if year == 2022 || year == 2023 {
                assert!(d < 0.0, "{year}: {d}");
            } else {
                assert_eq!(d, 0.0, "{year}");
            }
        }
    }
}

#[test]
fn after_the_pilot_only_needs_amounts_from_its_first_year_and_may_lie_beyond_the_horizon() {
    // The SWVO case: Waakvlam free during the pilot (2022-2023), the regular tariff from 2024 on; the
    // table needs no amount for the years before `from`.
    let text = with_waakvlam_contribution("from = \"2024-01\"").replacen(
        "per_month_by_year = { 2020 = 19.00, 2024 = 20.60, 2025 = 21.00 }\nfrom = \"2024-01\"",
        "per_month_by_year = { 2024 = 20.60, 2025 = 21.00 }\nfrom = \"2024-01\"",
        1,
    );
    assert!(text.contains("per_month_by_year = { 2024 = 20.60, 2025 = 21.00 }\nfrom"));
    let m = model(&text);
    let item = m.costs.last().unwrap();
    assert!(item.amount[..36].iter().all(|&x| x == 0.0));
    assert_eq!(item.amount[36], -0.6 * 20.60);
    assert_eq!(item.amount[59], -0.6 * 21.00);
    // A period outside the horizon is accepted and charges nothing.
    for period in [
        "from = \"2030-01\"",
        "until = \"2019-12\"",
        "from = \"2026-01\"\nuntil = \"2027-12\"",
    ] {
        let m = model(&with_waakvlam_contribution(period));
        assert!(
            m.costs.last().unwrap().amount.iter().all(|&x| x == 0.0),
            "{period}"
        );
    }
}

#[test]
fn a_cycle_partly_in_the_period_pays_for_its_months_inside() {
    let text = r#"
[scenario]
name = "quarters"
[time]
start = "2021-01"
cycle_months = 3
cycles = 4
[run]
runs = 10
seed = 1
[[state]]
code = "A"
[[state]]
code = "D"
absorbing = true
[[area]]
municipality = "m"
inhabitants = 100
caseload = { A = 10 }
[[transition]]
from = "A"
to = { A = 0.9, D = 0.1 }
[[own_contribution]]
states = ["A"]
share_paying = 0.5
per_month_by_year = { 2021 = 20.0 }
from = "2021-02"
until = "2021-07"
"#;
    let m = model(text);
    // Jan-Mar: 2 months inside; Apr-Jun: 3; Jul-Sep: 1; Oct-Dec: none.
    assert_eq!(m.costs[0].amount, vec![-20.0, -30.0, -10.0, 0.0]);
    let whole = model(&text.replace("from = \"2021-02\"\nuntil = \"2021-07\"\n", ""));
    assert_eq!(whole.costs[0].amount, vec![-30.0; 4]);
}

#[test]
fn bad_own_contribution_periods_are_reported() {
    let t = with_waakvlam_contribution("from = \"2024-1\"\nuntil = \"2023-13\"");
    let err = rejects(
        &t,
        Some(line_of(&t, "from = \"2024-1\"")),
        "own_contribution[3].from",
    );
    assert!(
        err.contains("`2024-1` is not a month")
            && err.contains("own_contribution[3].until")
            && err.contains("`2023-13` is not a month")
            && err.contains("(2 problems)"),
        "{err}"
    );
    let t = with_waakvlam_contribution("from = \"2024-01\"\nuntil = \"2023-12\"");
    let err = rejects(
        &t,
        Some(line_of(&t, "until = \"2023-12\"")),
        "own_contribution[3].until",
    );
    assert!(
        err.contains("ends (2023-12) before it starts (2024-01)"),
        "{err}"
    );
}
