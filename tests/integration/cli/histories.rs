//! `wijksim run --histories N`: every client's episodes in the first N runs of every arm.

use super::wijksim;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use wijksim::model::{Model, YearMonth};
use wijksim::scenario;

const HEADER: &str = "arm,run,area,client,state,start,end,end_reason,next_state";

/// Quarterly cycles, two areas, inflow, renewals and a spread of time in state at the start.
const QUARTERLY: &str = r#"
[scenario]
name = "quarterly"

[time]
start = "2023-01"
cycle_months = 3
cycles = 12

[run]
runs = 20
seed = 9

[[state]]
code = "A"
max_cycles = 4

[[state]]
code = "B"

[[state]]
code = "X"
absorbing = true

[[area]]
municipality = "M"
name = "Noord"
inhabitants = 20000
caseload = { A = 60, B = 40 }

[[area]]
municipality = "M"
name = "Zuid"
inhabitants = 10000
caseload = { A = 20, B = 30 }

[initial_time_in_state]
A = [0, 3]
B = [0, 10]

[inflow]
per_1000_per_year = 4.0
entry = { A = 0.6, B = 0.4 }

[[transition]]
from = "A"
cycles_in_state = "1-3"
to = { A = 0.7, B = 0.2, X = 0.1 }

[[transition]]
from = "A"
cycles_in_state = "4+"
to = { renew = 0.4, B = 0.4, X = 0.2 }

[[transition]]
from = "B"
to = { B = 0.8, A = 0.1, X = 0.1 }

[[cost]]
line = "care"
state = "A"
per_month = 100.0
price_year = 2023
"#;

/// One row of `histories.csv`.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    arm: String,
    run: u32,
    area: String,
    client: u64,
    state: String,
    start: String,
    end: String,
    end_reason: String,
    next_state: String,
}

fn rows(dir: &Path) -> Vec<Row> {
    let text = fs::read_to_string(dir.join("histories.csv")).unwrap();
    assert!(
        text.starts_with(&format!("{HEADER}\n")),
        "header: {text:.80}"
    );
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), 9, "{rec:?}");
            Row {
                arm: rec[0].to_string(),
                run: rec[1].parse().unwrap(),
                area: rec[2].to_string(),
                client: rec[3].parse().unwrap(),
                state: rec[4].to_string(),
                start: rec[5].to_string(),
                end: rec[6].to_string(),
                end_reason: rec[7].to_string(),
                next_state: rec[8].to_string(),
            }
        })
        .collect()
}

/// Runs `wijksim run` with `args` into `out` (quiet, no figures).
fn run(scenario: Option<&Path>, out: &Path, args: &[&str]) {
    let mut cmd = wijksim();
    cmd.arg("run");
    if let Some(s) = scenario {
        cmd.arg(s);
    }
    cmd.args(args)
        .args(["--quiet", "--plots", "none", "--out"])
        .arg(out)
        .assert()
        .success();
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` → (month, day).
fn date(s: &str) -> (YearMonth, u32) {
    assert_eq!(s.len(), 10, "{s}");
    (
        YearMonth::parse(&s[..7]).unwrap_or_else(|| panic!("{s}")),
        s[8..].parse().unwrap(),
    )
}

/// The cycles an episode covers: its first and last (first day of a cycle's first month to last day of
/// a cycle's last month, whole cycles).
fn cycles_of(m: &Model, r: &Row) -> (i64, i64) {
    let cm = i64::from(m.cycle_months);
    let (s, d) = date(&r.start);
    assert_eq!(d, 1, "{r:?}: starts on the first of a month");
    let from = s.index() - m.start.index();
    assert_eq!(from.rem_euclid(cm), 0, "{r:?}: starts at a cycle's start");
    let (e, d) = date(&r.end);
    assert_eq!(
        d,
        days_in(e.year, e.month),
        "{r:?}: ends on a month's last day"
    );
    let to = e.index() - m.start.index() + 1;
    assert_eq!(to.rem_euclid(cm), 0, "{r:?}: ends at a cycle's end");
    let (first, last) = (from.div_euclid(cm), to.div_euclid(cm) - 1);
    assert!(first <= last, "{r:?}");
    (first, last)
}

/// Checks that the episodes of `arm` and `run` are the caseload of the engine's run, in every cycle,
/// area and state: the episodes open in a cycle are the clients in their state then (absorbing states:
/// the outflows so far, counted cumulatively as the engine does).
fn reproduce_the_engine(m: &Model, episodes: &[Row], arm: usize, seed: u64, run: u32) {
    let arm_name = &m.arms[arm].name;
    let mine: Vec<&Row> = episodes
        .iter()
        .filter(|r| &r.arm == arm_name && r.run == run)
        .collect();
    assert!(
        mine.len() > 100,
        "arm {arm_name} run {run}: {} episodes",
        mine.len()
    );
    let trace = wijksim::engine::simulate(m, arm, seed, run);
    let n = m.n_states();
    let cycles = m.cycles as usize;
    let area = |name: &str| m.areas.iter().position(|a| a.name == name).unwrap();
    let state = |code: &str| m.state_index(code).unwrap();
    let mut counts = vec![vec![0u32; cycles * n]; m.areas.len()];
    for r in &mine {
        let (a, s) = (area(&r.area), state(&r.state));
        assert!(
            !m.states[s].absorbing,
            "{r:?}: no episode in an absorbing state"
        );
        let (first, last) = cycles_of(m, r);
        for c in first.max(0)..=last {
            counts[a][c as usize * n + s] += 1;
        }
        if r.end_reason == "outflow" {
            // Absorbed from the cycle after the last: counted from then on.
            let x = state(&r.next_state);
            for c in (last + 1) as usize..cycles {
                counts[a][c * n + x] += 1;
            }
        }
    }
    for (a, at) in trace.areas.iter().enumerate() {
        for c in 0..cycles {
            for s in 0..n {
                assert_eq!(
                    counts[a][c * n + s],
                    at.counts[c * n + s],
                    "arm {arm_name}, run {run}, area {}, cycle {c} ({}), state {}",
                    m.areas[a].name,
                    m.date(c as u32),
                    m.states[s].code
                );
            }
        }
    }
}

#[test]
fn the_histories_reproduce_the_caseload_of_each_run_in_every_month_area_and_state() {
    let dir = tempfile::tempdir().unwrap();
    // The default: two arms, capacity limits (waiting), prevention in the pilot, Waakvlam renewals.
    let def = scenario::default_scenario();
    let out = dir.path().join("no-psa");
    run(
        None,
        &out,
        &[
            "--runs",
            "4",
            "--histories",
            "2",
            "--no-psa",
            "--seed",
            "11",
        ],
    );
    let h = rows(&out);
    assert!(h.iter().any(|r| r.state == "WACHT"), "some client waits");
    assert!(h.iter().any(|r| r.end_reason == "renewal"));
    for arm in 0..2 {
        for r in 0..2 {
            reproduce_the_engine(&def.model, &h, arm, 11, r);
        }
    }
    assert!(h.iter().all(|r| r.run < 2), "runs 0 and 1 only");

    // With parameter uncertainty every run simulates its own draws (the pilot's effects are uncertain):
    // the histories are those of the batch's run, not of the mean model.
    let out = dir.path().join("psa");
    run(
        None,
        &out,
        &["--runs", "3", "--histories", "1", "--seed", "11"],
    );
    let psa = rows(&out);
    for arm in 0..2 {
        let m = def.model_for_run(11, 0).unwrap();
        reproduce_the_engine(&m, &psa, arm, 11, 0);
    }
    let pilot = |h: &[Row]| -> Vec<Row> {
        h.iter()
            .filter(|r| r.arm == def.model.arms[1].name && r.run == 0)
            .cloned()
            .collect()
    };
    assert_ne!(
        pilot(&psa),
        pilot(&h),
        "the run's draws change the pilot's clients"
    );

    // And the file agrees with the run's own caseload.csv: with one run, the mean is that run.
    let out = dir.path().join("one");
    run(
        None,
        &out,
        &["--runs", "1", "--histories", "1", "--seed", "5"],
    );
    let one = rows(&out);
    let m = def.model_for_run(5, 0).unwrap();
    let mut region: HashMap<(String, i64, String), u32> = HashMap::new();
    for r in &one {
        let (first, last) = cycles_of(&m, r);
        for c in first.max(0)..=last {
            *region
                .entry((r.arm.clone(), c, r.state.clone()))
                .or_default() += 1;
        }
    }
    let caseload = fs::read_to_string(out.join("caseload.csv")).unwrap();
    let mut checked = 0;
    for line in caseload.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (arm, scope, cycle, state, mean) = (f[0], f[1], f[3], f[5], f[6]);
        if scope != "region" || m.states[m.state_index(state).unwrap()].absorbing {
            continue;
        }
        let got = region
            .get(&(arm.to_string(), cycle.parse().unwrap(), state.to_string()))
            .copied()
            .unwrap_or(0);
        assert_eq!(format!("{got}.000"), mean, "{line}");
        checked += 1;
    }
    assert_eq!(checked, 2 * 60 * 6, "every month, arm and live state");

    // Cycles of three months: an episode covers whole quarters.
    let file = dir.path().join("quarterly.toml");
    fs::write(&file, QUARTERLY).unwrap();
    let q = scenario::from_text("quarterly.toml", QUARTERLY).unwrap();
    let out = dir.path().join("quarterly");
    run(Some(&file), &out, &["--histories", "3"]);
    let h = rows(&out);
    for r in 0..3 {
        reproduce_the_engine(&q.model, &h, 0, 9, r);
    }
}

#[test]
fn histories_are_byte_identical_at_any_thread_count_and_leave_the_other_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let with = |threads: &str| dir.path().join(format!("with-{threads}"));
    for threads in ["1", "2"] {
        run(
            None,
            &with(threads),
            &[
                "--runs",
                "40",
                "--histories",
                "3",
                "--threads",
                threads,
                "--seed",
                "8",
            ],
        );
    }
    let without = dir.path().join("without");
    run(
        None,
        &without,
        &["--runs", "40", "--threads", "2", "--seed", "8"],
    );
    let a = fs::read(with("1").join("histories.csv")).unwrap();
    let b = fs::read(with("2").join("histories.csv")).unwrap();
    assert!(a.len() > 100_000, "{} bytes", a.len());
    assert!(a == b, "histories.csv differs between --threads 1 and 2");
    assert!(!without.join("histories.csv").exists());
    assert!(!a.starts_with(&[0xEF, 0xBB, 0xBF]), "no byte order mark");
    // Every other table is the same with and without --histories.
    let mut names: Vec<String> = fs::read_dir(&without)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".csv") || n == "scenario.toml")
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for n in &names {
        for threads in ["1", "2"] {
            assert!(
                fs::read(with(threads).join(n)).unwrap() == fs::read(without.join(n)).unwrap(),
                "{n} changes with --histories (--threads {threads})"
            );
        }
    }
    // Runs 0-2 of both arms, in order of arm, run, area (model order), client and start.
    let h = rows(&with("1"));
    let m = scenario::default_scenario().model;
    let area = |name: &str| m.areas.iter().position(|a| a.name == name).unwrap();
    let arm = |name: &str| m.arms.iter().position(|a| a.name == name).unwrap();
    let keys: Vec<_> = h
        .iter()
        .map(|r| (arm(&r.arm), r.run, area(&r.area), r.client, date(&r.start)))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "rows in order, no duplicates"
    );
    let runs: std::collections::BTreeSet<_> = keys.iter().map(|k| (k.0, k.1)).collect();
    assert_eq!(runs.len(), 6, "{runs:?}");
    // The manifest lists the file and the command that reproduces it; `report` keeps it.
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(with("1").join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "histories.csv")
    );
    assert!(
        manifest["reproduce"]
            .as_str()
            .unwrap()
            .contains("--histories 3"),
        "{}",
        manifest["reproduce"]
    );
    wijksim().arg("report").arg(with("1")).assert().success();
    assert!(
        fs::read(with("1").join("histories.csv")).unwrap() == a,
        "report keeps it"
    );
    // The console lists it.
    let printed = wijksim()
        .args([
            "run",
            "--runs",
            "5",
            "--histories",
            "1",
            "--plots",
            "none",
            "--out",
        ])
        .arg(dir.path().join("printed"))
        .assert()
        .success();
    let stdout = String::from_utf8(printed.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("  histories.csv "), "{stdout}");
}

#[test]
fn censored_renewed_and_left_truncated_episodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run(
        None,
        &out,
        &["--runs", "2", "--histories", "2", "--no-psa", "--seed", "3"],
    );
    let h = rows(&out);
    let m = scenario::default_scenario().model;
    let start = "2021-01-01";
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &h {
        *reasons.entry(r.end_reason.as_str()).or_default() += 1;
        match r.end_reason.as_str() {
            "censored" => {
                assert_eq!(r.end, "2025-12-31", "{r:?}: open at the horizon");
                assert_eq!(r.next_state, "", "{r:?}");
            }
            "renewal" => assert_eq!(r.next_state, r.state, "{r:?}"),
            "outflow" => assert_eq!(r.next_state, "UIT", "{r:?}"),
            "transition" => {
                assert_ne!(r.next_state, r.state, "{r:?}");
                assert_ne!(r.next_state, "UIT", "{r:?}");
                assert!(m.state_index(&r.next_state).is_some(), "{r:?}");
            }
            other => panic!("end_reason {other}: {r:?}"),
        }
        assert!(r.end.as_str() <= "2025-12-31" && r.start <= r.end, "{r:?}");
    }
    assert!(reasons.len() == 4, "every end reason occurs: {reasons:?}");
    // A client's episodes follow one another without a gap, each in the state the last one named,
    // until an outflow or the horizon.
    let mut by_client: BTreeMap<(&str, u32, &str, u64), Vec<&Row>> = BTreeMap::new();
    for r in &h {
        by_client
            .entry((&r.arm, r.run, &r.area, r.client))
            .or_default()
            .push(r);
    }
    let (mut truncated, mut starting) = (0, 0);
    for ((_, _, _, client), eps) in &by_client {
        for w in eps.windows(2) {
            assert_eq!(w[1].state, w[0].next_state, "{w:?}");
            let (e, d) = date(&w[0].end);
            assert_eq!(d, days_in(e.year, e.month));
            assert_eq!(w[1].start, format!("{}-01", e.plus(1)), "{w:?}");
        }
        let last = eps.last().unwrap();
        assert!(
            matches!(last.end_reason.as_str(), "censored" | "outflow"),
            "{last:?}"
        );
        // Clients present at the start have ids below 2^20; new clients arrive from the start on.
        if *client < 1 << 20 {
            starting += 1;
            assert!(eps[0].start.as_str() <= start, "{:?}", eps[0]);
            truncated += usize::from(eps[0].start.as_str() < start);
        } else {
            assert!(eps[0].start.as_str() >= start, "{:?}", eps[0]);
        }
    }
    // 1,646 clients at the start, in 2 arms and 2 runs; most had been in their state a while.
    assert_eq!(starting, 1646 * 4);
    assert!(
        truncated > starting / 2,
        "{truncated} of {starting} left-truncated"
    );
    // Clients present at the start: the same ids in both arms (common random numbers).
    let ids = |arm: &str| -> Vec<u64> {
        by_client
            .keys()
            .filter(|k| k.0 == arm && k.1 == 0 && k.3 < 1 << 20)
            .map(|k| k.3)
            .collect()
    };
    assert_eq!(ids(&m.arms[0].name), ids(&m.arms[1].name));

    // Yearly cycles: the horizon ends on 31 December of its last year.
    let file = dir.path().join("three.toml");
    fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/three_state.toml"
        ),
        &file,
    )
    .unwrap();
    let out = dir.path().join("three");
    run(Some(&file), &out, &["--runs", "3", "--histories", "1"]);
    let h = rows(&out);
    assert!(
        h.iter()
            .all(|r| r.start.ends_with("-01-01") && r.end.ends_with("-12-31"))
    );
    assert!(
        h.iter()
            .filter(|r| r.end_reason == "censored")
            .all(|r| r.end == "2029-12-31")
    );
}

#[test]
fn histories_beyond_the_runs_zero_or_with_the_cohort_engine_are_refused() {
    for (args, want) in [
        (
            vec!["--runs", "3", "--histories", "5"],
            "--histories 5 asks for the client histories of more runs than the 3 simulated",
        ),
        (vec!["--runs", "3", "--histories", "0"], "--histories 0"),
        (
            vec!["--engine", "cohort", "--histories", "1"],
            "--histories needs the Monte Carlo engine",
        ),
        (
            vec!["--runs", "3", "--histories", "-1"],
            "is not a number of runs",
        ),
        (
            vec!["--runs", "3", "--histories", "many"],
            "is not a number of runs",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let a = wijksim()
            .arg("run")
            .args(&args)
            .args(["--quiet", "--out"])
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: no output folder");
    }
    // The fix names what to give.
    let dir = tempfile::tempdir().unwrap();
    let a = wijksim()
        .args(["run", "--runs", "3", "--histories", "5", "--out"])
        .arg(dir.path().join("o"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("fix: give at most --histories 3"), "{err}");
}
