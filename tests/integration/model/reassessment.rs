//! Reassessment under a regime: long-staying clients are reviewed at a rate, and a successful review
//! moves them to a lighter state (`p' = q e_to + (1 - q) p` from `after_cycles` on).

use super::{default_text, wijksim};
use crate::cli::check::{line_of, rejects};
use std::fs;
use wijksim::aggregate::expected;
use wijksim::model::row::{modify_row, reassess_row};
use wijksim::model::{Model, Row, Transitions};
use wijksim::run::batch::{self, Options};
use wijksim::scenario;

/// Heavy (H) and light (L) support and outflow (D). The provider's H rows change at 6 cycles in state;
/// the regime reviews H from 9 cycles in state (a finer table), and from 12 in 2022 also ends some
/// indications (D, absorbing), phased in over 4 cycles, from 2021-04 to 2023-06.
const FIXTURE: &str = r#"
[scenario]
name = "review"
[time]
start = "2021-01"
cycles = 36
[run]
runs = 2000
seed = 9
[[state]]
code = "H"
[[state]]
code = "L"
[[state]]
code = "D"
absorbing = true
[[area]]
municipality = "m"
inhabitants = 10000
caseload = { H = 400, L = 100 }
[initial_time_in_state]
H = [0, 20]
[inflow]
per_1000_per_year = 12.0
entry = { H = 1.0 }
[[transition]]
from = "H"
cycles_in_state = "1-5"
to = { H = 0.96, L = 0.01, D = 0.03 }
[[transition]]
from = "H"
cycles_in_state = "6+"
to = { H = 0.97, D = 0.03 }
[[transition]]
from = "L"
to = { L = 0.95, H = 0.03, D = 0.02 }
[[regime]]
name = "review"
phase_in_cycles = 4
modifier = [{ from = "L", to = "H", hazard_ratio = 0.5 }]
reassessment = [
  { from = "H", to = "L", after_cycles = 9, reviews_per_year = 2.0, success = 0.3 },
  { from = "H", to = "D", after_cycles = 12, reviews_per_year = 1.0, success = 0.2, period = "2022-01..2022-12" },
]
[[arm]]
name = "baseline"
[[arm]]
name = "review"
assign = [{ municipality = "m", regime = "review", from = "2021-04", until = "2023-06" }]
"#;

fn fixture() -> Model {
    scenario::from_text("review.toml", FIXTURE).unwrap().model
}

/// The row of `t` in cycle `c` for state `s` at `m` cycles in state (counting the cycle just ended).
fn row_at(t: &Transitions, n: usize, c: usize, s: usize, m: usize) -> &Row {
    let cap = usize::from(t.cap());
    &t.rows()[t.row_of()[c * t.cycle_stride(n) + s * (cap + 1) + m.min(cap)] as usize]
}

#[test]
fn the_table_mixes_the_rows_from_after_cycles_on_and_leaves_the_others() {
    let m = fixture();
    let n = m.n_states();
    let (p, t) = (&m.transitions, &m.regime_tables[0]);
    assert_eq!(p.cap(), 6);
    assert_eq!(
        t.cap(),
        12,
        "the table tells apart every time in state up to after_cycles"
    );
    let r = &m.regimes[0];
    let (q1, q2) = (r.reassessments[0].q, r.reassessments[1].q);
    assert!(
        (q1 - 0.3 * (1.0 - (-2.0f64 / 12.0).exp())).abs() < 1e-15,
        "{q1}"
    );
    assert!(
        (q2 - 0.2 * (1.0 - (-1.0f64 / 12.0).exp())).abs() < 1e-15,
        "{q2}"
    );
    let (start, end) = (3, 30);
    let (mut mixed, mut kept) = (0, 0);
    for c in 0..36 {
        let under = (start..end).contains(&c);
        let ramp = if under {
            (f64::from(c as u32 - start as u32 + 1) / 4.0).min(1.0)
        } else {
            0.0
        };
        for ms in 1..=14 {
            let base = row_at(p, n, c, 0, ms);
            let got = row_at(t, n, c, 0, ms);
            let mut want = base.clone();
            if under && ms >= 9 {
                want = reassess_row(&want, 0, 1, ramp * q1);
                if ms >= 12 && (12..24).contains(&c) {
                    want = reassess_row(&want, 0, 2, ramp * q2);
                }
            }
            assert_eq!(*got, want, "H, cycle {c}, {ms} cycles in state");
            if *got == *base {
                kept += 1;
            } else {
                mixed += 1;
                // The mixture, written out: q e_to + (1 - q) p.
                if !(12..24).contains(&c) {
                    let q = ramp * q1;
                    let p_of = |row: &Row, s: u8| {
                        row.targets()
                            .iter()
                            .zip(row.probs())
                            .filter(|(t, _)| **t == s)
                            .map(|(_, p)| *p)
                            .sum::<f64>()
                    };
                    assert_eq!(p_of(got, 0), (1.0 - q) * p_of(base, 0));
                    assert_eq!(p_of(got, 1), (1.0 - q) * p_of(base, 1) + q);
                    assert_eq!(p_of(got, 2), (1.0 - q) * p_of(base, 2));
                }
            }
            assert!((got.probs().iter().sum::<f64>() - 1.0).abs() < 1e-12);
            // L: only the hazard ratio (phased in) acts on it.
            let base_l = row_at(p, n, c, 1, ms);
            let want_l = if under {
                modify_row(base_l, 1, &[(0, 1.0 + ramp * (0.5 - 1.0))])
            } else {
                base_l.clone()
            };
            assert_eq!(*row_at(t, n, c, 1, ms), want_l, "L, cycle {c}");
        }
    }
    assert_eq!(
        mixed,
        27 * 6,
        "cycles under the regime x times in state 9..=14"
    );
    assert_eq!(kept, 36 * 14 - mixed);
}

#[test]
fn monte_carlo_and_cohort_agree_with_reassessment() {
    let m = fixture();
    let (exact, _) = expected::summarise(&m);
    let mc = batch::run(
        &m,
        &Options {
            runs: 2000,
            seed: 9,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let mut cells = 0;
    for (e, s) in exact.iter().zip(&mc) {
        let lay = &s.layout;
        for c in 0..lay.cycles {
            for st in 0..lay.n_states {
                let cell = lay.caseload(0, c, st);
                let (x, want) = (s.stats[cell], e.stats[cell].mean);
                let se = x.mcse(s.runs);
                assert!(
                    (x.mean - want).abs() <= 4.0 * se + 1e-9,
                    "{}: cycle {c} state {st}: Monte Carlo {} vs cohort {want} (se {se})",
                    s.arm,
                    x.mean
                );
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 2 * 36 * 3);
    // The reviews matter: by the end of the pilot, clearly more clients in L than in the baseline.
    let l = |arm: usize| exact[arm].stats[exact[arm].layout.caseload(0, 29, 1)].mean;
    assert!(l(1) > 1.5 * l(0), "L: {} under review vs {}", l(1), l(0));
}

/// The default scenario with its arms replaced by a pilot under `regime`.
fn default_with(regime: &str) -> String {
    let text = default_text();
    let cut = text.find("[[arm]]").expect("the default has arms");
    format!(
        "{}{regime}\n[[arm]]\nname = \"baseline\"\n\n[[arm]]\nname = \"pilot\"\nassign = [{{ municipality = \"Noord-Beveland\", regime = \"pilot\", from = \"2022-01\", until = \"2023-12\" }}]\n",
        &text[..cut]
    )
}

#[test]
fn a_review_that_never_succeeds_changes_nothing() {
    // after_cycles = 24 is beyond the provider's resolution (12): the table is finer, the rows the same.
    // (The cohort engine then sums its mass by time in state in finer groups, which can change the last
    // bit of a sum, not the written outputs.)
    let text = default_with(
        r#"
[[regime]]
name = "pilot"
phase_in_cycles = 6
reassessment = [{ from = "BT", to = "WV", after_cycles = 24, reviews_per_year = 1.0, success = 0.0 }]
"#,
    );
    let m = scenario::from_text("q0.toml", &text).unwrap().model;
    assert_eq!(m.regime_tables[0].cap(), 24);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q0.toml");
    fs::write(&path, &text).unwrap();
    for engine in ["monte-carlo", "cohort"] {
        let out = dir.path().join(engine);
        wijksim()
            .args([
                "run", "--runs", "40", "--quiet", "--plots", "none", "--engine", engine,
            ])
            .arg("--out")
            .arg(&out)
            .arg(&path)
            .assert()
            .success();
        for file in ["caseload.csv", "flows.csv", "costs.csv", "accounts.csv"] {
            let csv = fs::read_to_string(out.join(file)).unwrap();
            let rows = |arm: &str| -> Vec<String> {
                csv.lines()
                    .filter_map(|l| l.strip_prefix(&format!("{arm},")))
                    .map(str::to_string)
                    .collect()
            };
            assert!(!rows("baseline").is_empty(), "{file}");
            assert_eq!(rows("baseline"), rows("pilot"), "{engine}: {file} differs");
        }
        let diffs = fs::read_to_string(out.join("differences.csv")).unwrap();
        let rows: Vec<&str> = diffs.lines().filter(|l| l.starts_with("pilot,")).collect();
        assert!(rows.len() > 10, "{engine}: {} rows", rows.len());
        for row in rows {
            let f: Vec<&str> = row.split(',').collect();
            for x in &f[7..12] {
                assert_eq!(x.parse::<f64>().unwrap(), 0.0, "{engine}: {row}");
            }
        }
    }
}

#[test]
fn reviews_move_long_staying_clients_in_the_pilot_only() {
    let text = default_with(
        r#"
[[regime]]
name = "pilot"
reassessment = [{ from = "BT", to = "WV", after_cycles = 24, reviews_per_year = 1.0, success = 0.3 }]
"#,
    );
    let m = scenario::from_text("review.toml", &text).unwrap().model;
    let (sums, _) = expected::summarise(&m);
    let wv = m.state_index("WV").unwrap();
    let bt = m.state_index("BT").unwrap();
    let at =
        |arm: usize, c: usize, s: usize| sums[arm].stats[sums[arm].layout.caseload(0, c, s)].mean;
    // Before the pilot (2022-01 is cycle 12) nothing differs (to rounding: the pilot's table tells
    // apart times in state up to 24, so the cohort sums its mass in finer groups); during it WV grows
    // and BT shrinks.
    for c in 0..=12 {
        assert!((at(0, c, wv) - at(1, c, wv)).abs() < 1e-9, "cycle {c}");
    }
    assert!(
        at(1, 35, wv) > at(0, 35, wv) + 2.0,
        "{} vs {}",
        at(1, 35, wv),
        at(0, 35, wv)
    );
    assert!(at(1, 35, bt) < at(0, 35, bt) - 2.0);
}

#[test]
fn bad_reassessments_are_all_reported() {
    let text = default_text();
    let from = "  { from = \"SB\", to = \"BT\", hazard_ratio = { dist = \"lognormal\", mean = 0.8, sd = 0.15 } },\n]\n";
    assert!(text.contains(from));
    let t = text.replacen(
        from,
        &format!(
            "{from}reassessment = [\n  {}\n  {}\n  {}\n  {}\n]\n",
            "{ from = \"BX\", to = \"WV\", after_cycles = 24, reviews_per_year = 1.0, success = 0.3 },",
            "{ from = \"BT\", to = \"BT\", after_cycles = -3, reviews_per_year = -1.0, success = 1.5 },",
            "{ from = \"WV\", to = \"SB\", after_cycles = 24, reviews_per_year = inf, success = 0.3, period = \"2022-13..\" },",
            "{ from = \"UIT\", to = \"SB\", after_cycles = 1, reviews_per_year = 1.0, success = nan },",
        ),
        1,
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "from = \"BX\"")),
        "regime[0].reassessment[0].from",
    );
    let r = "regime[0].reassessment";
    for (key, says) in [
        (format!("{r}[0].from"), "unknown state `BX`"),
        (format!("{r}[1].to"), "not to the one they are in"),
        (format!("{r}[1].after_cycles"), "after_cycles is -3"),
        (format!("{r}[1].reviews_per_year"), "cannot be negative"),
        (format!("{r}[1].success"), "share 1.5 is outside 0..1"),
        (format!("{r}[2].after_cycles"), "at most 12 (max_cycles)"),
        (format!("{r}[2].reviews_per_year"), "finite"),
        (format!("{r}[2].period"), "`2022-13..` is not a period"),
        (format!("{r}[3].from"), "`UIT` is absorbing"),
        (format!("{r}[3].success"), "outside 0..1"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(&key) && l.contains(says)),
            "expected `{key}`: {says} in\n{err}"
        );
    }
    assert!(err.contains("(10 problems)"), "{err}");
    let line = line_of(&t, "from = \"WV\", to = \"SB\", after_cycles = 24");
    assert!(err.contains(&format!(":{line}: `{r}[2].period`")), "{err}");
}

#[test]
fn a_reassessment_too_fine_for_memory_is_refused_before_building_the_table() {
    let t = default_text()
        .replacen("cycles = 60 ", "cycles = 1000 ", 1)
        .replacen(
            "on_surplus = \"carried_over\"",
            "on_surplus = \"carried_over\"\nreassessment = [{ from = \"BT\", to = \"WV\", after_cycles = 60000, reviews_per_year = 1.0, success = 0.3 }]",
            1,
        );
    let err = rejects(
        &t,
        Some(line_of(&t, "after_cycles = 60000")),
        "regime[0].reassessment[0].after_cycles",
    );
    assert!(
        err.contains("limit of 4.0 GB") && err.contains("lower after_cycles"),
        "{err}"
    );
}
