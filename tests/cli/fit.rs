//! `wijksim fit` (issue 13): episodes in, a fitted scenario out; bad data refused with file, line,
//! column and the fix, and no client identifier ever echoed.

use std::fs;
use std::path::Path;

fn default_scenario(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("template.toml");
    fs::write(&p, super::default_text()).unwrap();
    p
}

/// Runs `wijksim fit` on `episodes` (text) and returns (exit code, stdout, stderr).
fn fit(dir: &Path, episodes: &[u8], extra: &[&str]) -> (i32, String, String) {
    let ep = dir.join("episodes.csv");
    fs::write(&ep, episodes).unwrap();
    let template = default_scenario(dir);
    let out = super::wijksim()
        .arg("fit")
        .arg(&ep)
        .arg("--scenario")
        .arg(&template)
        .arg("--out")
        .arg(dir.join("fitted.toml"))
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = "client,area,state,start,end,end_reason,next_state
p-001,Goes,BT,2019-05-01,2021-06-30,transition,WV
p-001,Goes,WV,2021-07-01,2022-06-30,renewal,WV
p-001,Goes,WV,2022-07-01,,,
p-002,Kats,BTS,2021-03-01,2021-09-30,,
p-003,Goes,BT,2021-02-01,2023-12-31,censored,
";

#[test]
fn bad_episodes_are_refused_with_file_line_column_and_fix_and_never_echo_a_client() {
    let cases: Vec<(String, &str, &str)> = vec![
        (String::new(), "the file is empty", "header row"),
        (GOOD.replace(',', ";"), "separated by semicolons", "comma"),
        (
            GOOD.replace("2021-09-30,,", "2021-01-31,,"),
            "episodes.csv:5: `column end`: the episode ends before it starts",
            "order",
        ),
        (
            GOOD.replace("2022-07-01,,,", "2022-06-01,,,"),
            "episodes.csv:4: `column start`: the client's episode starts while its episode on line 3 is still running",
            "one state at a time",
        ),
        (
            GOOD.replace("Kats,BTS", "Kats,Huishoudelijke hulp"),
            "episodes.csv:5: `column state`: unknown state `Huishoudelijke hulp`",
            "BTS, BT, WV",
        ),
        (
            GOOD.replace("Kats,", "Atlantis,"),
            "episodes.csv:5: `column area`: unknown area `Atlantis`",
            "Kamperland",
        ),
        (
            GOOD.replace("2021-03-01", "01-03-2021"),
            "episodes.csv:5: `column start`: `01-03-2021` is not a date",
            "YYYY-MM-DD",
        ),
        (GOOD.replace("p-00", "x"), "", ""),
        (
            GOOD.replace("client,", "klant,"),
            "the column `client` is missing",
            "name the columns",
        ),
        (
            GOOD.replace("censored,", "stopped,"),
            "unknown end_reason `stopped`",
            "transition, renewal, outflow or censored",
        ),
        (
            GOOD.replace(",Goes,BT,2021-02-01", ",Goes,UIT,2021-02-01"),
            "`UIT` is an absorbing state",
            "next_state",
        ),
    ];
    for (text, says, fix) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, err) = fit(dir.path(), text.as_bytes(), &[]);
        if says.is_empty() {
            assert_eq!(code, 0, "{err}");
            continue;
        }
        assert_eq!(code, 2, "{says}: {err}");
        assert!(err.contains(says), "want `{says}` in:\n{err}");
        assert!(
            err.contains("fix:") && err.contains(fix),
            "want fix `{fix}` in:\n{err}"
        );
        assert!(
            !err.contains("p-00"),
            "a client identifier is echoed:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            !dir.path().join("fitted.toml").exists(),
            "no output on bad input"
        );
    }
}

#[test]
fn a_column_of_citizen_service_numbers_is_refused_without_showing_them() {
    // 9-digit numbers that pass the 11-test (BSN), e.g. 111222333 and 123456782.
    assert!(wijksim::fit::episodes::passes_eleven_test("111222333"));
    assert!(wijksim::fit::episodes::passes_eleven_test("123456782"));
    assert!(!wijksim::fit::episodes::passes_eleven_test("123456789"));
    let text = GOOD
        .replace("p-001", "111222333")
        .replace("p-002", "123456782")
        .replace("p-003", "999999990");
    assert!(wijksim::fit::episodes::passes_eleven_test("999999990"));
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = fit(dir.path(), text.as_bytes(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("column client") && err.contains("citizen service numbers (BSN)"),
        "{err}"
    );
    assert!(err.contains("pseudonymise"), "{err}");
    for id in ["111222333", "123456782", "999999990"] {
        assert!(!err.contains(id), "the number is shown:\n{err}");
    }
    // Pseudonymised 9-digit numbers (most fail the test) are fine.
    let text = GOOD
        .replace("p-001", "123456789")
        .replace("p-002", "987654321")
        .replace("p-003", "555555555");
    let (code, _, err) = fit(dir.path(), text.as_bytes(), &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_byte_order_mark_is_skipped_and_the_fitted_file_keeps_the_templates_comments() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"\xef\xbb\xbf".to_vec();
    text.extend_from_slice(GOOD.as_bytes());
    let (code, out, err) = fit(dir.path(), &text, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("fitted.toml") && out.contains("fitted.html"),
        "{out}"
    );
    assert!(!out.contains("p-00"), "no client identifier in the console");
    let fitted = fs::read_to_string(dir.path().join("fitted.toml")).unwrap();
    assert!(
        fitted.starts_with("# Fitted by wijksim fit from episodes.csv: 5 episodes of 3 clients")
    );
    // Every comment line of the template is still there.
    for line in super::default_text()
        .lines()
        .filter(|l| l.trim_start().starts_with('#'))
    {
        assert!(fitted.contains(line), "lost comment: {line}");
    }
    assert!(
        fitted.contains("counts = true")
            && fitted.contains("# fitted: episodes.csv, 40 client-months at risk")
    );
    let report = fs::read_to_string(dir.path().join("fitted.html")).unwrap();
    assert!(
        !report.contains("p-00"),
        "no client identifier in the report"
    );
    // It runs, and an earlier fit is replaced only with --force; another file never.
    wijksim::scenario::load(&dir.path().join("fitted.toml")).unwrap();
    let (code, _, err) = fit(dir.path(), &text, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    let (code, _, err) = fit(dir.path(), &text, &["--force"]);
    assert_eq!(code, 0, "{err}");
    fs::write(dir.path().join("fitted.toml"), "my own notes\n").unwrap();
    let (code, _, err) = fit(dir.path(), &text, &["--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("did not write it"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("fitted.toml")).unwrap(),
        "my own notes\n"
    );
}
