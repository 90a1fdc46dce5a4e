//! The library does not know the command line: its messages name the options of a call by their
//! fields (`` `force` ``), and the `wijksim` command renders the same messages with its flags
//! (`--force`).

use std::collections::BTreeSet;
use wijksim::error::{Error, Opt};

/// Every long flag of every `wijksim` command, from the commands' help.
fn flags() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for cmd in [
        "run",
        "check",
        "report",
        "sweep",
        "merge",
        "calibrate",
        "fit",
    ] {
        let help = super::wijksim().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        out.extend(long_flags(&help));
    }
    assert!(
        out.len() > 20 && out.contains("--force") && out.contains("--histories"),
        "{out:?}"
    );
    out
}

/// The `--name` words of `text`.
fn long_flags(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = text[i..].find("--").map(|a| a + i) {
        let before = at.checked_sub(1).map(|k| b[k]);
        let mut end = at + 2;
        while end < b.len() && (b[end].is_ascii_lowercase() || b[end] == b'-') {
            end += 1;
        }
        if end > at + 2
            && b[at + 2].is_ascii_lowercase()
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            out.push(text[at..end].trim_end_matches('-').to_string());
        }
        i = end.max(at + 2);
    }
    out
}

/// The string literals of Rust source, each with its line: comments (and doc comments), char
/// literals and lifetimes skipped; raw strings included.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let count = |from: usize, to: usize| c[from..to].iter().filter(|&&x| x == '\n').count();
    while i < c.len() {
        match c[i] {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let end = (i + 2..c.len() - 1)
                    .find(|&k| c[k] == '*' && c[k + 1] == '/')
                    .map_or(c.len(), |k| k + 2);
                line += count(i, end);
                i = end;
            }
            '\'' => {
                // A char literal ('x', '\n', '"') or a lifetime ('a).
                if c.get(i + 1) == Some(&'\\') {
                    let end = (i + 2..c.len()).find(|&k| c[k] == '\'').unwrap_or(c.len());
                    i = end + 1;
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' if (c.get(i + 1) == Some(&'"') || c.get(i + 1) == Some(&'#'))
                && !(i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')) =>
            {
                let hashes = c[i + 1..].iter().take_while(|&&x| x == '#').count();
                let open = i + 1 + hashes;
                if c.get(open) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let body: String = c[open + 1..].iter().collect();
                let len = body
                    .find(&close)
                    .map_or(body.len(), |e| body[..e].chars().count());
                let end = open + 1 + len;
                out.push((line, c[open + 1..end].iter().collect()));
                line += count(i, end);
                i = end + 1 + hashes;
            }
            '"' => {
                let mut k = i + 1;
                while k < c.len() && c[k] != '"' {
                    k += if c[k] == '\\' { 2 } else { 1 };
                }
                out.push((line, c[i + 1..k.min(c.len())].iter().collect()));
                line += count(i, k.min(c.len()));
                i = k + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Literals of the library that may name flags, because their text is about the command line itself:
/// (file, a mark the literal holds, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "src/sweep/slurm.rs",
        "#SBATCH",
        "the Slurm scripts run wijksim and sbatch with their flags",
    ),
    (
        "src/output/report.rs",
        "<code>--",
        "the report shows the command that made the folder or draws its figures",
    ),
];

#[test]
fn library_string_literals_name_no_command_line_flag() {
    let flags = flags();
    let mut found = Vec::new();
    let mut allowed_used = BTreeSet::new();
    for (rel, f) in &crate::code::src_files() {
        if rel.starts_with("src/cli/") || rel == "src/main.rs" {
            continue;
        }
        let src = std::fs::read_to_string(f).unwrap();
        // Unit tests are not messages of the library (they may play a front end).
        let src = src.split("\n#[cfg(test)]\nmod tests").next().unwrap_or("");
        for (line, lit) in string_literals(src) {
            let named: Vec<String> = long_flags(&lit)
                .into_iter()
                .filter(|w| flags.contains(w))
                .collect();
            if named.is_empty() {
                continue;
            }
            if let Some(a) = ALLOWED
                .iter()
                .find(|(file, mark, _)| *file == rel && lit.contains(mark))
            {
                allowed_used.insert(a.1);
                continue;
            }
            found.push(format!("{rel}:{line}: {} in {lit:?}", named.join(", ")));
        }
    }
    assert!(
        found.is_empty(),
        "the library names command-line flags; name the option as an `Opt` in a `Message` \
         (`says!(\"... with \", Opt::Out)`), which the command line renders as its flag:\n{}",
        found.join("\n")
    );
    // Every exception is still needed (none hides a literal that no longer exists).
    for (_, mark, why) in ALLOWED {
        assert!(
            allowed_used.contains(mark),
            "unused exception {mark}: {why}"
        );
    }
}

#[test]
fn the_scanner_finds_flags_in_literals_and_not_in_comments() {
    let src = "// --force in a comment\n/// --out in a doc comment\nfn f() { let c = '\"'; \
               let a = \"pass --force\"; let b = r#\"with \"--out\" here\"#; g::<'static>(\"-- \") }\n";
    let lits = string_literals(src);
    assert_eq!(
        lits,
        vec![
            (3, "pass --force".to_string()),
            (3, "with \"--out\" here".to_string()),
            (3, "-- ".to_string())
        ]
    );
    assert_eq!(
        long_flags("a --force, --out DIR and x--y or -- z"),
        ["--force", "--out"]
    );
}

#[test]
fn the_library_names_the_option_and_the_command_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let scenario = wijksim::scenario::default_scenario();
    let opts = wijksim::run::RunOptions {
        runs: Some(2),
        plots: wijksim::output::plot::Plots::None,
        ..Default::default()
    };
    wijksim::run::run_into(&scenario, &opts, &out, false).unwrap();
    // The library: earlier results are not replaced without `force`, and it says so in its words.
    let e = wijksim::run::run_into(&scenario, &opts, &out, false).unwrap_err();
    assert!(matches!(e, Error::OutputExists(_)), "{e:?}");
    assert_eq!(e.options(), [Opt::Out, Opt::Force]);
    let said = e.to_string();
    assert!(
        said.contains("already holds results")
            && said.contains("choose another folder with `out`, or pass `force` to replace it")
            && !said.contains("--"),
        "{said}"
    );
    // The command: the same message with its flags.
    let cli = super::wijksim()
        .args(["run", "--runs", "2", "--plots", "none", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(2));
    let err = String::from_utf8(cli.stderr).unwrap();
    assert!(
        err.contains("fix: choose another folder with --out, or pass --force to replace it"),
        "{err}"
    );
    // Bad options of a call, in the library's words and the command's.
    let zero = wijksim::run::RunOptions {
        runs: Some(2),
        threads: Some(0),
        ..opts.clone()
    };
    let e = wijksim::run::run_into(&scenario, &zero, &dir.path().join("zero"), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the number of threads must be at least 1 (`threads`)"
    );
}
