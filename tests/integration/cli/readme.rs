//! The README as a user reads it: every command in a command block (```sh, ```bash, ```console) runs
//! as printed and succeeds; the usage synopsis lists exactly the commands and options of `--help`; the
//! Rust shown is the tested example's; the project layout names every source file.
//!
//! Commands run with `bash` in a temporary folder holding a copy of `scenarios/`, in README order (a
//! command may use what an earlier one wrote). `wijksim` and `cargo run --release [--]` stand for the
//! built binary, `cargo run --release --example NAME [--]` for the example (built first), and
//! `cargo test --release --test integration` for this test binary (run in the crate's folder, as cargo runs
//! it). A command that cannot run here is listed in [`NOT_RUN`] with the reason, so a new command is
//! run by default; a count that would make the test slow is lowered by [`SMALLER`], which says how.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The README as it is now (read when the test runs, so an edit needs no rebuild).
fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// Commands not run, exactly as printed (without a trailing comment), with the reason.
const NOT_RUN: &[(&str, &str)] = &[(
    "cargo test --release",
    "the whole test suite, which holds this test",
)];

/// Command blocks not run, by their first line, with the reason.
const BLOCKS_NOT_RUN: &[(&str, &str)] = &[(
    "wijksim run [SCENARIO] [--runs N] [--seed S] [--threads N] [--out DIR] [--force] [--quiet]",
    "the synopsis of every command (options in brackets), not a command: \
     `usage_synopsis_lists_the_commands_and_options_of_help` checks it",
)];

/// Counts lowered so that the test stays quick: (as printed, as run, why).
const SMALLER: &[(&str, &str, &str)] = &[
    (
        "--posterior 500",
        "--posterior 100",
        "1,000 proposals instead of 5,000 (13 s): the same code, a smaller sample",
    ),
    (
        "WIJKSIM_FUZZ_CASES=1000000",
        "WIJKSIM_FUZZ_CASES=300",
        "a few hundred generated scenarios instead of 4 minutes of them",
    ),
    (
        "WIJKSIM_FUZZ_CASES=50000",
        "WIJKSIM_FUZZ_CASES=5",
        "a few damaged folders instead of 40 minutes of them",
    ),
];

/// A fenced block of the README.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The info string: `sh`, `toml`, ... (empty for none).
    lang: String,
    /// The lines inside, without the fence's indentation.
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(lang) = trimmed.strip_prefix("```") {
                    open = Some((
                        indent,
                        Block {
                            line: i + 1,
                            lang: lang.trim().to_string(),
                            lines: Vec::new(),
                        },
                    ));
                }
            }
            Some((ind, mut b)) => {
                if trimmed.starts_with("```") {
                    out.push(b);
                } else {
                    let cut = raw.len() - raw.trim_start().len();
                    b.lines.push(raw[cut.min(ind)..].to_string());
                    open = Some((ind, b));
                }
            }
        }
    }
    assert!(open.is_none(), "README.md: a code block is not closed");
    out
}

fn is_command_block(b: &Block) -> bool {
    matches!(b.lang.as_str(), "sh" | "bash" | "shell" | "console")
}

/// A command of a command block: its line in the README and its text (continuation lines joined).
#[derive(Debug)]
struct Cmd {
    line: usize,
    text: String,
}

/// The commands of a block: in `console` blocks the lines after `$ `, in the others every line that
/// is not empty or a comment; a line ending in `\` goes on on the next.
fn commands(b: &Block) -> Vec<Cmd> {
    let mut out: Vec<Cmd> = Vec::new();
    let mut continued = false;
    for (i, l) in b.lines.iter().enumerate() {
        let line = b.line + 1 + i;
        let text = if continued {
            Some(l.trim())
        } else if b.lang == "console" {
            l.strip_prefix("$ ")
        } else {
            Some(l.trim()).filter(|t| !t.is_empty() && !t.starts_with('#'))
        };
        let Some(text) = text else { continue };
        let (body, more) = match text.strip_suffix('\\') {
            Some(b) => (b.trim_end(), true),
            None => (text, false),
        };
        if continued {
            let last = out.last_mut().unwrap();
            last.text.push(' ');
            last.text.push_str(body);
        } else {
            out.push(Cmd {
                line,
                text: body.to_string(),
            });
        }
        continued = more;
    }
    out
}

/// A command without its trailing `# comment` (outside quotes).
fn without_comment(cmd: &str) -> &str {
    let mut quote = None;
    let bytes = cmd.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        match (quote, c) {
            (None, b'\'' | b'"') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'#') if i > 0 && bytes[i - 1].is_ascii_whitespace() => {
                return cmd[..i].trim_end();
            }
            _ => {}
        }
    }
    cmd.trim_end()
}

/// Stand-ins for `wijksim` and `cargo`, as bash functions.
const PRELUDE: &str = r#"
wijksim() { "$WIJKSIM_BIN" "$@"; }
cargo() {
  if [ "$1 $2" = "run --release" ]; then
    shift 2
    if [ "$1" = "--example" ]; then
      local name=$2; shift 2
      if [ "$1" = "--" ]; then shift; fi
      "$WIJKSIM_EXAMPLES/$name" "$@"; return
    fi
    if [ "$#" -gt 0 ]; then
      if [ "$1" != "--" ]; then echo "README test: cargo run --release $*: arguments go after --" >&2; return 127; fi
      shift
    fi
    "$WIJKSIM_BIN" "$@"; return
  fi
  if [ "$1 $2 $3 $4" = "test --release --test integration" ]; then
    shift 4; (cd "$WIJKSIM_REPO" && "$WIJKSIM_TEST_BIN" "$@"); return
  fi
  echo "README test: no stand-in for: cargo $*" >&2; return 127
}
"#;

/// The folder of the built examples, beside the binary (`target/<profile>/examples`), with every
/// example in `names` built (cargo builds nothing when it is up to date).
fn examples(bin: &Path, names: &[String]) -> PathBuf {
    let profile_dir = bin.parent().unwrap();
    for name in names {
        let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--example", name]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            c.arg("--release");
        }
        let st = c.status().expect("cargo runs");
        assert!(st.success(), "cargo build --example {name} failed");
    }
    profile_dir.join("examples")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
#[cfg(unix)]
fn every_command_block_runs_as_printed() {
    let all = blocks(&readme());
    let mut used_blocks = vec![false; BLOCKS_NOT_RUN.len()];
    let mut cmds = Vec::new();
    for b in all.iter().filter(|b| is_command_block(b)) {
        let first = b.lines.first().map_or("", |l| l.trim());
        if let Some(i) = BLOCKS_NOT_RUN.iter().position(|(f, _)| *f == first) {
            used_blocks[i] = true;
            continue;
        }
        cmds.extend(commands(b));
    }
    for (i, (first, _)) in BLOCKS_NOT_RUN.iter().enumerate() {
        assert!(
            used_blocks[i],
            "BLOCKS_NOT_RUN lists a block the README no longer has: {first}"
        );
    }
    let mut used_not_run = vec![false; NOT_RUN.len()];
    let mut used_smaller = vec![false; SMALLER.len()];
    let mut to_run = Vec::new();
    for c in cmds {
        let printed = without_comment(&c.text);
        if let Some(i) = NOT_RUN.iter().position(|(t, _)| *t == printed) {
            used_not_run[i] = true;
            continue;
        }
        let mut text = printed.to_string();
        for (i, (from, to, _)) in SMALLER.iter().enumerate() {
            if text.contains(from) {
                text = text.replace(from, to);
                used_smaller[i] = true;
            }
        }
        to_run.push((c.line, printed.to_string(), text));
    }
    for (i, (t, _)) in NOT_RUN.iter().enumerate() {
        assert!(
            used_not_run[i],
            "NOT_RUN lists a command the README no longer has: {t}"
        );
    }
    for (i, (from, ..)) in SMALLER.iter().enumerate() {
        assert!(
            used_smaller[i],
            "SMALLER lowers `{from}`, which no README command has any more"
        );
    }
    assert!(
        to_run.len() >= 5,
        "only {} README commands found: is the block parser broken?",
        to_run.len()
    );

    let bin = assert_cmd::cargo::cargo_bin("wijksim");
    let mut names: Vec<String> = to_run
        .iter()
        .filter_map(|(_, _, t)| {
            let mut w = t.split_whitespace();
            w.position(|x| x == "--example")?;
            w.next().map(str::to_string)
        })
        .collect();
    names.dedup();
    let examples = examples(&bin, &names);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &dir.path().join("scenarios"),
    );
    let all_start = Instant::now();
    for (line, printed, text) in &to_run {
        let start = Instant::now();
        let out = Command::new("bash")
            .current_dir(dir.path())
            .arg("-c")
            .arg(format!("{PRELUDE}\n{text}"))
            .env("WIJKSIM_BIN", &bin)
            .env("WIJKSIM_EXAMPLES", &examples)
            .env("WIJKSIM_TEST_BIN", std::env::current_exe().unwrap())
            .env("WIJKSIM_REPO", env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("bash runs");
        let tail = |b: &[u8]| {
            let s = String::from_utf8_lossy(b).into_owned();
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        assert!(
            out.status.success(),
            "README.md:{line}: `{printed}` (run as `{text}`) failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            tail(&out.stdout),
            tail(&out.stderr)
        );
        // A test command ran some test (a filter that matches none passes vacuously).
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("running 0 tests"),
            "README.md:{line}: `{printed}` runs no test: its filter matches none"
        );
        // What it was asked to write is there.
        let words: Vec<&str> = text.split_whitespace().collect();
        for w in words.windows(2).filter(|w| w[0] == "--out") {
            let path = dir.path().join(w[1].trim_matches(['\'', '"']));
            assert!(
                path.exists(),
                "README.md:{line}: `{printed}` succeeded but wrote no {}",
                w[1]
            );
        }
        eprintln!(
            "README.md:{line}: {:.1} s: {text}",
            start.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "{} README commands in {:.1} s",
        to_run.len(),
        all_start.elapsed().as_secs_f64()
    );
}

/// The long options (`--x`) in some text, in order of first appearance.
fn long_options(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(|c: char| c.is_whitespace() || "[]|=,".contains(c)) {
        if let Some(name) = w.strip_prefix("--")
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
        {
            let o = format!("--{name}");
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    out
}

#[test]
fn usage_synopsis_lists_the_commands_and_options_of_help() {
    let synopsis = blocks(&readme())
        .into_iter()
        .find(|b| {
            is_command_block(b) && b.lines.first().map(|l| l.trim()) == Some(BLOCKS_NOT_RUN[0].0)
        })
        .expect("the README's usage synopsis");
    // Each command's lines: `wijksim CMD ...` and the indented lines after it.
    let mut given: Vec<(String, String)> = Vec::new();
    for l in &synopsis.lines {
        if let Some(rest) = l.strip_prefix("wijksim ") {
            let cmd = rest.split_whitespace().next().unwrap().to_string();
            given.push((cmd, rest.to_string()));
        } else {
            given
                .last_mut()
                .expect("the synopsis starts with `wijksim CMD`")
                .1
                .push_str(l);
        }
    }
    let help = |args: &[&str]| {
        let out = crate::wijksim().args(args).output().unwrap();
        assert!(out.status.success(), "wijksim {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    let listed: Vec<String> = top
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    let mut in_synopsis: Vec<String> = given.iter().map(|(c, _)| c.clone()).collect();
    in_synopsis.dedup();
    let mut sorted_listed = listed.clone();
    sorted_listed.sort();
    let mut sorted_synopsis = in_synopsis.clone();
    sorted_synopsis.sort();
    sorted_synopsis.dedup();
    assert_eq!(
        sorted_synopsis, sorted_listed,
        "the README's usage synopsis (README.md:{}) should name every command of `wijksim --help`",
        synopsis.line
    );
    for cmd in &listed {
        let text: String = given
            .iter()
            .filter(|(c, _)| c == cmd)
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut shown = long_options(&text);
        let options = help(&[cmd, "--help"]);
        let mut real: Vec<String> = options
            .split("Options:")
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix('-').map_or(l, |r| {
                    if r.starts_with('-') {
                        l
                    } else {
                        r.split_once(", ").map_or(l, |(_, rest)| rest)
                    }
                });
                l.starts_with("--")
                    .then(|| l.split([' ', '=']).next().unwrap().to_string())
            })
            .filter(|o| o != "--help")
            .collect();
        shown.sort();
        real.sort();
        assert_eq!(
            shown, real,
            "the README's usage synopsis (README.md:{}) of `wijksim {cmd}` should list the options of `wijksim {cmd} --help`",
            synopsis.line
        );
    }
}

/// Every line of the README's Rust code is in an example of `examples/`, which the build compiles and
/// the command blocks run: the README cannot show code that does not build.
#[test]
fn readme_rust_is_the_tested_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut example_lines = std::collections::HashSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        example_lines.extend(text.lines().map(|l| l.trim().to_string()));
    }
    let rust: Vec<Block> = blocks(&readme())
        .into_iter()
        .filter(|b| b.lang == "rust")
        .collect();
    assert!(
        !rust.is_empty(),
        "the README shows how to use wijksim as a library"
    );
    for b in rust {
        for (i, l) in b.lines.iter().enumerate() {
            let l = l.trim();
            if l.is_empty() || l == "// ..." {
                continue;
            }
            assert!(
                example_lines.contains(l),
                "README.md:{}: `{l}` is in no example of examples/",
                b.line + 1 + i
            );
        }
    }
}

/// The `| path | what |` rows of the README's "Project layout" table: the path in backticks, and what.
fn layout_rows() -> Vec<(String, String)> {
    let text = readme();
    let section = text
        .split("\n## Project layout\n")
        .nth(1)
        .expect("the README has a section `## Project layout`");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            assert_eq!(
                cells.len(),
                2,
                "a layout row is `| `path` | what |`, one path a row: {l}"
            );
            let path = cells[0].trim();
            assert!(
                path.len() > 2
                    && path.starts_with('`')
                    && path.ends_with('`')
                    && path.matches('`').count() == 2,
                "a layout row names one path in backticks: {l}"
            );
            (
                path.trim_matches('`').to_string(),
                cells[1].trim().to_string(),
            )
        })
        .collect()
}

/// Every file and folder under `dir` (relative to the crate, folders with a trailing `/`).
fn tree(root: &Path, dir: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(root.join(dir)).unwrap() {
        let e = e.unwrap();
        let name = format!("{dir}/{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            out.push(format!("{name}/"));
            tree(root, &name, out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn project_layout_names_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rows = layout_rows();
    let named: Vec<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    let mut files = Vec::new();
    for dir in ["src", "examples", "benches"] {
        tree(root, dir, &mut files);
    }
    files.sort();
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !named.contains(&f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's \"Project layout\" table should have a row for each of {missing:?}"
    );
    for (path, what) in &rows {
        assert!(
            root.join(path).exists(),
            "the README's \"Project layout\" table names `{path}`, which does not exist"
        );
        assert!(
            what.len() > 10,
            "the README's \"Project layout\" row of `{path}` should say what it holds"
        );
    }
    let mut seen = std::collections::HashSet::new();
    for p in &named {
        assert!(seen.insert(p), "`{p}` has two rows in the project layout");
    }
}

/// The block and command parsing the tests above rely on.
#[test]
fn commands_are_read_as_a_shell_reads_them() {
    let text = "x\n```sh\n# a comment\nwijksim run a \\\n    --runs 2   # note\n\nwijksim check b\n```\n  ```console\n  $ wijksim report out\n  output line\n  ```\n";
    let bs = blocks(text);
    assert_eq!(bs.len(), 2);
    let c = commands(&bs[0]);
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].line, c[1].line), (4, 7));
    assert_eq!(without_comment(&c[0].text), "wijksim run a --runs 2");
    assert_eq!(c[1].text, "wijksim check b");
    let c = commands(&bs[1]);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].text, "wijksim report out");
    assert_eq!(without_comment("a 'x # y' # z"), "a 'x # y'");
}

/// The "Where things are" table answers a newcomer's questions with files that exist, and covers the
/// four the restructure promised: where a client moves, where budgets feed back, where a KPI is
/// computed and where a plot is drawn.
#[test]
fn where_things_are_names_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = readme();
    let section = text
        .split("\n### Where things are\n")
        .nth(1)
        .expect("the README has a table `### Where things are`");
    // The table: from its first row to the first line that is not a row.
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| question"))
        .collect();
    for q in ["client move", "budgets feed back", "KPI", "plot"] {
        assert!(rows.iter().any(|r| r.contains(q)), "no row answers `{q}`");
    }
    for row in &rows {
        let paths: Vec<&str> = row
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|p| p.starts_with("src/"))
            .collect();
        assert!(!paths.is_empty(), "the row names no file: {row}");
        for p in paths {
            assert!(root.join(p).exists(), "`{p}` does not exist: {row}");
        }
    }
}

/// The stages of the source tree (`src/<stage>/` or `src/<stage>.rs`) depend on each other without a
/// circle: each `crate::<stage>` a stage's code names (tests and comments aside) is a stage it builds
/// on, and following those never leads back. The binary (`cli`) stands outside.
#[test]
fn stages_depend_on_each_other_without_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    tree(Path::new(env!("CARGO_MANIFEST_DIR")), "src", &mut files);
    let mut uses: Uses = Default::default();
    for f in &files {
        let rel = f.strip_prefix("src/").unwrap_or(f);
        let stage = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if ["main", "lib", "cli"].contains(&stage.as_str()) || !f.ends_with(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(src.join(rel)).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for part in line.split("crate::").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != stage {
                    uses.entry(stage.clone()).or_default().insert(name);
                }
            }
        }
    }
    if let Some(circle) = circle(&uses) {
        panic!(
            "the stages depend on each other in a circle: {}",
            circle.join(" -> ")
        );
    }
    assert!(
        uses.contains_key("engine") && uses.contains_key("aggregate"),
        "{uses:?}"
    );
}

/// Who names whom: per part, the parts its code names.
type Uses = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// A circle in `uses`, as the parts along it with the first at the end again (depth-first search).
fn circle(uses: &Uses) -> Option<Vec<String>> {
    fn visit(
        s: &str,
        uses: &Uses,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == s) {
            let mut c = path[at..].to_vec();
            c.push(s.to_string());
            return Some(c);
        }
        if done.contains(s) {
            return None;
        }
        path.push(s.to_string());
        for t in uses.get(s).into_iter().flatten() {
            if let Some(c) = visit(t, uses, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(s.to_string());
        None
    }
    let mut done = Default::default();
    uses.keys()
        .find_map(|s| visit(s, uses, &mut Vec::new(), &mut done))
}

/// The parts of `output/` a line of code in the part `own` names: `crate::output::<part>`, a
/// `super::<part>` from a file directly in `output/` (`super` of a file in `plot/` is `plot` itself),
/// and in `output/mod.rs` a path that starts with a part (`guard::Lock`); groups in braces count
/// each of their parts. Anything else `crate::output::` or `super::` names is `output/mod.rs`'s own
/// (`mod`).
fn output_parts_named(line: &str, own: &str, in_plot: bool, parts: &[&str]) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let part_of = |name: String| -> String {
        if parts.contains(&name.as_str()) {
            name
        } else {
            "mod".to_string()
        }
    };
    // What follows each prefix: one name, or a group `{a, b::c, self}`.
    let after = |prefix: &str| -> Vec<String> {
        let mut out = Vec::new();
        for rest in line.split(prefix).skip(1) {
            match rest.strip_prefix('{') {
                Some(group) => {
                    let group = group.split('}').next().unwrap_or("");
                    out.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
                }
                None => out.push(ident(rest)),
            }
        }
        out
    };
    let mut named: Vec<String> = after("crate::output::").into_iter().map(part_of).collect();
    if !in_plot || own == "plot/mod" {
        named.extend(after("super::").into_iter().map(part_of));
    }
    if own == "mod"
        && !line.trim_start().starts_with("pub mod")
        && !line.trim_start().starts_with("mod ")
    {
        for p in parts {
            let starts = line.match_indices(&format!("{p}::")).any(|(i, _)| {
                i == 0
                    || !line[..i]
                        .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            });
            if starts {
                named.push(p.to_string());
            }
        }
    }
    named
}

/// The files of `output/` (the figures' folder `plot/` counted as one) depend on each other without
/// a circle, as the stages do: the language and its formatters (`lang.rs`) are a leaf the figures and
/// the report both build on, and the report may draw with the figures but the figures never use the
/// report (issue 15).
#[test]
fn output_files_depend_on_each_other_without_a_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    tree(root, "src/output", &mut files);
    let parts: Vec<String> = std::fs::read_dir(root.join("src/output"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "mod.rs")
        .map(|n| n.trim_end_matches(".rs").to_string())
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let mut uses: Uses = Default::default();
    for f in files.iter().filter(|f| f.ends_with(".rs")) {
        let rel = f.trim_start_matches("src/output/").trim_end_matches(".rs");
        let in_plot = rel.starts_with("plot/");
        let part = if in_plot { "plot" } else { rel };
        let own = if rel == "plot/mod" { "plot/mod" } else { part };
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let entry = uses.entry(part.to_string()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for name in output_parts_named(line, own, in_plot, &parts) {
                if name != part {
                    entry.insert(name);
                }
            }
        }
    }
    if let Some(circle) = circle(&uses) {
        panic!(
            "the files of output/ depend on each other in a circle: {} ({uses:?})",
            circle.join(" -> ")
        );
    }
    let named = |a: &str, b: &str| uses.get(a).is_some_and(|u| u.contains(b));
    assert!(
        named("report", "plot") && named("report", "lang") && named("plot", "lang"),
        "the report draws with the figures, both speak the language: {uses:?}"
    );
    assert!(
        uses.get("lang").is_some_and(|u| u.is_empty()),
        "lang.rs is a leaf: {uses:?}"
    );
}
