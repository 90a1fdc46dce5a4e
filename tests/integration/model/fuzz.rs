//! Fuzzing (issue 10): generated scenario text through parsing and compilation, and damaged tables
//! through `wijksim report`, in-process. Bad input must give an error, never a panic, an abort or a
//! hang.
//!
//! Inputs are the project's own files, mutated and recombined: the scenarios in `scenarios/`, the
//! fixtures in `tests/fixtures/` and `tests/golden/` (lines deleted, duplicated, swapped, taken from
//! another file, numbers replaced by extreme values, junk inserted, the text truncated), and the
//! tables of a small finished run (rows truncated or dropped, fields replaced by bad or huge numbers,
//! columns and files removed).
//!
//! `cargo test --release` runs a few cases of each. Longer runs: `WIJKSIM_FUZZ_CASES=100000 cargo
//! test --release --test integration fuzz::` (`.ci/run` runs a bounded number). A case that takes longer than
//! `WIJKSIM_FUZZ_HANG_SECS` (default 60) is reported as a hang: its input is printed and the test
//! process exits. A failing case is shrunk by proptest and saved under `tests/proptest-regressions/`.

use proptest::prelude::*;
use proptest::sample::Index;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Cases per target: `WIJKSIM_FUZZ_CASES`, or `default` (a few seconds' worth).
fn cases(default: u32) -> u32 {
    std::env::var("WIJKSIM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The generator's seed: fixed in the README's test command (so that it is deterministic), and
/// `WIJKSIM_FUZZ_SEED=random` (as `.ci/run` does) or a number for new inputs.
fn seed() -> proptest::test_runner::RngSeed {
    use proptest::test_runner::RngSeed;
    match std::env::var("WIJKSIM_FUZZ_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(n) => RngSeed::Fixed(
            n.parse()
                .expect("WIJKSIM_FUZZ_SEED is a number or `random`"),
        ),
        None => RngSeed::Fixed(20_261_130),
    }
}

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        rng_seed: seed(),
        // Shrinking a failure can take long on big inputs; the failure is reported either way.
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    }
}

/// The input being tried, and since when, for the hang watchdog.
static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);

/// Runs `f` on `input` while a watchdog thread checks that no case takes longer than the hang bound
/// (a hang cannot return, so the watchdog reports it and ends the test process).
fn guarded<T>(input: &str, f: impl FnOnce() -> T) -> T {
    static WATCHDOG: OnceLock<()> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let limit = Duration::from_secs(
            std::env::var("WIJKSIM_FUZZ_HANG_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60),
        );
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let now = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((since, input)) = now.as_ref()
                    && since.elapsed() > limit
                {
                    // Written past the test harness's capture, which would swallow it on exit; and
                    // kept in a file to reproduce.
                    let report = format!(
                        "\nHANG: a fuzz case has run for more than {limit:?}; its input is in {}:\n{input}\n",
                        hang_file().display()
                    );
                    let _ = fs::write(hang_file(), input);
                    use std::io::Write;
                    let _ = std::io::stderr().write_all(report.as_bytes());
                    std::process::exit(101);
                }
            }
        });
    });
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), input.to_string()));
    let out = f();
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    out
}

/// Where the input of a hanging case is kept.
fn hang_file() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-hang.txt")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The seed corpus: every scenario in `scenarios/`, `tests/fixtures/` and `tests/golden/`.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files: Vec<PathBuf> = ["scenarios", "tests/fixtures", "tests/golden"]
            .iter()
            .flat_map(|d| fs::read_dir(root().join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        // Sweep files are not scenarios.
        let texts: Vec<String> = files
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .filter(|t| !t.contains("[sweep]"))
            .collect();
        assert!(
            texts.len() >= 6,
            "the corpus is seeded from the project's scenarios"
        );
        texts
    })
}

/// Extreme and awkward replacements for a number.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1",
    "2",
    "0.5",
    "1.0000000001",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "99999999999999999999999999",
    "\"7\"",
    "[]",
    "{}",
];

/// Junk lines to insert.
const JUNK: &[&str] = &[
    "[",
    "]]",
    "=",
    "x = ",
    "\"",
    "[[state]]",
    "[[area]]",
    "[[arm]]",
    "[[regime]]",
    "[[transition]]",
    "[[kpi]]",
    "[[cost]]",
    "[scenario]",
    "[time]",
    "code = \"\"",
    "code = \"A\"",
    "name = \"\"",
    "name = \"../x\"",
    "from = \"nope\"",
    "to = {}",
    "to = { A = 1 }",
    "caseload = { X = -1 }",
    "cycles = 0",
    "start = \"2021-13\"",
    "start = \"0000-01\"",
    "period = \"2023-01..2021-01\"",
    "cycles_in_state = \"3-1\"",
    "assign = [{ areas = [], regime = \"x\", from = \"2021-01\" }]",
    "targets = { 0 = 1.0 }",
    "x = { dist = \"beta\", mean = 2.0, sd = -1 }",
    "x = { dist = \"gamma\", shape = 0, scale = 0 }",
    "\u{0}",
    "ü = 1",
    "\t",
];

/// One change to the lines of a scenario text.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index),
    Duplicate(Index, Index),
    Swap(Index, Index),
    /// A line of another corpus file inserted here (recombination).
    Graft(Index, Index, Index),
    Number(Index, Index, Index),
    /// A quoted word replaced by a quoted word of another corpus line (a state, area, line name...).
    Word(Index, Index, Index, Index),
    Junk(Index, Index),
    Bytes(Index, String),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => any::<Index>().prop_map(Edit::Delete),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        1 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(f, a, b)| Edit::Graft(f, a, b)),
        10 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(l, k, v)| Edit::Number(l, k, v)),
        5 => (any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(l, k, f, w)| Edit::Word(l, k, f, w)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, j)| Edit::Junk(a, j)),
        1 => (any::<Index>(), "[ -~]{0,12}").prop_map(|(a, s)| Edit::Bytes(a, s)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// Byte ranges of the numbers in a line (a digit, optionally signed, and what follows of a number).
fn numbers(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphabetic() && b[i - 1] != b'_')
        {
            while i < b.len() && (b[i].is_ascii_digit() || b"._eE".contains(&b[i])) {
                i += 1;
            }
            let s = if start > 0 && b[start - 1] == b'-' {
                start - 1
            } else {
                start
            };
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Byte ranges of the quoted words in a line, quotes included.
fn words(line: &str) -> Vec<(usize, usize)> {
    let quotes: Vec<usize> = line.match_indices('"').map(|(i, _)| i).collect();
    quotes.chunks_exact(2).map(|q| (q[0], q[1] + 1)).collect()
}

/// Applies `edits` to `text`. Numbers of cycles stay small, so that inputs stay cheap to compile
/// (the limits on sizes are tested elsewhere).
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let corpus = corpus();
    for e in edits {
        // Positions of existing lines (when there are any) and of insertions.
        let (n, at) = (lines.len().max(1), lines.len() + 1);
        match e {
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i.index(n));
            }
            Edit::Duplicate(i, j) if !lines.is_empty() => {
                let l = lines[i.index(n)].clone();
                lines.insert(j.index(at), l);
            }
            Edit::Swap(i, j) if !lines.is_empty() => lines.swap(i.index(n), j.index(n)),
            Edit::Graft(f, i, j) => {
                let other: Vec<&str> = corpus[f.index(corpus.len())].lines().collect();
                if !other.is_empty() {
                    lines.insert(j.index(at), other[i.index(other.len())].to_string());
                }
            }
            Edit::Number(i, k, v) if !lines.is_empty() => {
                let line = &mut lines[i.index(n)];
                let spots = numbers(line);
                if spots.is_empty() {
                    continue;
                }
                let (a, b) = spots[k.index(spots.len())];
                let key = line.trim_start();
                let small = key.starts_with("cycles ") || key.starts_with("cycles=");
                let value = if small {
                    ["0", "1", "3"][v.index(3)]
                } else {
                    NUMBERS[v.index(NUMBERS.len())]
                };
                line.replace_range(a..b, value);
            }
            Edit::Word(i, k, f, w) if !lines.is_empty() => {
                let other: Vec<&str> = corpus[f.index(corpus.len())]
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .collect();
                let pool: Vec<&str> = other
                    .iter()
                    .flat_map(|l| words(l).into_iter().map(move |(a, b)| &l[a..b]))
                    .collect();
                let line = &mut lines[i.index(n)];
                let spots = words(line);
                if spots.is_empty() || pool.is_empty() {
                    continue;
                }
                let (a, b) = spots[k.index(spots.len())];
                line.replace_range(a..b, pool[w.index(pool.len())]);
            }
            Edit::Junk(i, j) => lines.insert(i.index(at), JUNK[j.index(JUNK.len())].to_string()),
            Edit::Bytes(i, s) if !lines.is_empty() => {
                let line = &mut lines[i.index(n)];
                let at = line
                    .char_indices()
                    .map(|(p, _)| p)
                    .nth(i.index(line.chars().count() + 1))
                    .unwrap_or(line.len());
                line.insert_str(at, s);
            }
            Edit::Truncate(i) => {
                let keep = i.index(at);
                lines.truncate(keep);
            }
            _ => {}
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// A scenario text: one corpus file with a few edits.
fn scenario_text() -> impl Strategy<Value = String> {
    (any::<Index>(), prop::collection::vec(edit(), 1..4))
        .prop_map(|(f, edits)| mutate(&corpus()[f.index(corpus().len())], &edits))
}

proptest! {
    #![proptest_config(config(200))]

    /// Parsing and compiling any scenario text gives a model or errors that name the file; never a
    /// panic or a hang.
    #[test]
    fn generated_scenarios_compile_or_give_errors_never_panic(text in scenario_text()) {
        let result = guarded(&text, || wijksim::scenario::from_text("fuzz.toml", &text));
        if let Err(errors) = result {
            prop_assert!(!errors.list().is_empty(), "an error lists its problems");
            for e in errors.list() {
                prop_assert_eq!(e.file(), "fuzz.toml");
                prop_assert!(!e.problem().is_empty() && !e.fix().is_empty(), "{:?}", e);
            }
        }
    }
}

/// The tables of a small finished run (the golden fixture, few runs): file name and bytes.
fn finished_run() -> &'static [(String, Vec<u8>)] {
    static RUN: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        super::wijksim()
            .arg("run")
            .arg(root().join("tests/golden/pilot.toml"))
            .args(["--quiet", "--runs", "6", "--out"])
            .arg(&out)
            .assert()
            .success();
        let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, fs::read(&p).unwrap())
            })
            .filter(|(n, _)| n.ends_with(".csv") || n == "manifest.json" || n == "scenario.toml")
            .collect();
        files.sort();
        files
    })
}

/// Bad values for a table field, among them amounts of 1e300 and more, `inf` and `NaN` (which made the
/// plot axes loop forever in plotters' key points before every axis went through `plot::axis`).
const FIELDS: &[&str] = &[
    "inf",
    "-inf",
    "NaN",
    "1e300",
    "1e304",
    "-1e308",
    "",
    "x",
    "-",
    "-1",
    "0",
    "1e15",
    "-1e15",
    "1e200",
    "99999999999999999999",
    "0.1.2",
    "\"1,5\"",
    "baseline",
    "2021",
    "9999",
    "-2147483648",
];

/// One kind of damage to a table.
#[derive(Debug, Clone)]
enum Damage {
    /// Cut the file at a byte.
    Cut(Index),
    DropRow(Index),
    DuplicateRow(Index, Index),
    SwapRows(Index, Index),
    Field(Index, Index, Index),
    DropColumn(Index),
    Remove,
    Junk(String),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        1 => any::<Index>().prop_map(Damage::Cut),
        1 => any::<Index>().prop_map(Damage::DropRow),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::DuplicateRow(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::SwapRows(a, b)),
        4 => (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(r, c, v)| Damage::Field(r, c, v)),
        1 => any::<Index>().prop_map(Damage::DropColumn),
        1 => Just(Damage::Remove),
        1 => "[ -~]{0,20}".prop_map(Damage::Junk),
    ]
}

/// Applies `d` to a CSV table (`None`: the file is removed).
fn damaged(bytes: &[u8], d: &Damage) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let n = rows.len().max(1);
    match d {
        Damage::Cut(i) => return Some(bytes[..i.index(bytes.len() + 1)].to_vec()),
        Damage::Remove => return None,
        Damage::Junk(s) => {
            let mut b = bytes.to_vec();
            b.extend_from_slice(s.as_bytes());
            return Some(b);
        }
        Damage::DropRow(i) if !rows.is_empty() => {
            rows.remove(i.index(n));
        }
        Damage::DuplicateRow(i, j) if !rows.is_empty() => {
            let r = rows[i.index(n)].clone();
            rows.insert(j.index(n + 1), r);
        }
        Damage::SwapRows(i, j) if !rows.is_empty() => rows.swap(i.index(n), j.index(n)),
        Damage::Field(r, c, v) if !rows.is_empty() => {
            let row = &mut rows[r.index(n)];
            if !row.is_empty() {
                let c = c.index(row.len());
                row[c] = FIELDS[v.index(FIELDS.len())].to_string();
            }
        }
        Damage::DropColumn(c) => {
            let width = rows.first().map_or(1, |r| r.len().max(1));
            let c = c.index(width);
            for r in &mut rows {
                if c < r.len() {
                    r.remove(c);
                }
            }
        }
        _ => {}
    }
    let mut out: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    if out.is_empty() {
        out.push('\n');
    }
    Some(out.into_bytes())
}

proptest! {
    #![proptest_config(config(16))]

    /// `wijksim report` on damaged tables redraws the report or refuses with an error, and then
    /// changes nothing in the folder; never a panic or a hang.
    #[test]
    fn report_on_damaged_tables_redraws_or_refuses_never_panics(
        hits in prop::collection::vec((any::<Index>(), damage()), 1..4),
        english in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let files = finished_run();
        let mut what = Vec::new();
        let mut tables: Vec<(String, Option<Vec<u8>>)> =
            files.iter().map(|(n, b)| (n.clone(), Some(b.clone()))).collect();
        let csvs: Vec<usize> = (0..tables.len()).filter(|&i| tables[i].0.ends_with(".csv")).collect();
        for (which, d) in &hits {
            let i = csvs[which.index(csvs.len())];
            let (name, bytes) = &mut tables[i];
            if let Some(b) = bytes.as_ref() {
                *bytes = damaged(b, d);
            }
            what.push(format!("{name}: {d:?}"));
        }
        for (name, bytes) in &tables {
            if let Some(b) = bytes {
                fs::write(dir.path().join(name), b).unwrap();
            }
        }
        let lang = if english {
            wijksim::output::lang::Lang::En
        } else {
            wijksim::output::lang::Lang::Nl
        };
        // On a hang the process exits and the damaged folder stays, to reproduce with `wijksim report`.
        let input = format!("{}\n{}", dir.path().display(), what.join("\n"));
        let result = guarded(&input, || wijksim::run::rerender(dir.path(), lang, Default::default()));
        match result {
            Ok(r) => prop_assert!(r.report.is_file(), "{:?}", r),
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                for left in ["report.html", "results.xlsx", "plots", "report.en.html", "plots.en"] {
                    prop_assert!(!dir.path().join(left).exists(), "a refused report wrote {}", left);
                }
            }
        }
    }
}
