//! `wijksim report OUTPUT_DIR`: figures, report and workbook redrawn from the tables, without simulating.

use super::wijksim;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run(out: &Path, args: &[&str]) {
    wijksim()
        .arg("run")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

/// Deletes what `report` draws, redraws it and checks that the folder is byte for byte as `run` left it.
fn redraws_identically(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&out, args);
    let before = files(&out);
    assert!(before.contains_key("runs.csv") && before.contains_key("scenario.toml"));
    fs::remove_dir_all(out.join("plots")).unwrap();
    fs::remove_file(out.join("report.html")).unwrap();
    fs::remove_file(out.join("results.xlsx")).unwrap();
    wijksim()
        .arg("report")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("no new simulation"));
    let after = files(&out);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same files, and no staging left behind"
    );
    for (name, bytes) in &before {
        assert!(
            after[name] == *bytes,
            "{name} differs after `report` ({args:?})"
        );
    }
}

#[test]
fn report_redraws_the_default_pilot_byte_for_byte() {
    // Two arms, budget feedback, KPIs, paired differences, histogram.
    redraws_identically(&["--runs", "60"]);
}

#[test]
fn report_redraws_other_engines_and_models_byte_for_byte() {
    let hiv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/hiv_combination.toml"
    );
    redraws_identically(&[hiv, "--runs", "50"]);
    redraws_identically(&["--engine", "cohort"]);
}

#[test]
fn report_in_another_language_keeps_the_runs_report_and_figures() {
    // Regression: `report --lang en` overwrote the Dutch report.html and plots/.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&out, &["--runs", "30"]);
    let before = files(&out);
    let a = wijksim()
        .args(["report", "--lang", "en"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("report.en.html"),
        "names the file: {stdout}"
    );
    let after = files(&out);
    let html = String::from_utf8(after["report.en.html"].clone()).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("care delivered"));
    let svg = String::from_utf8(after["plots.en/municipal_spend_per_year.svg"].clone()).unwrap();
    assert!(svg.contains("year"), "figure labels follow --lang");
    for (name, bytes) in &before {
        assert!(
            after[name] == *bytes,
            "{name} must not change (the Dutch report and figures are kept)"
        );
    }
    let en_figures = after.keys().filter(|n| n.starts_with("plots.en/")).count();
    let nl_figures = before.keys().filter(|n| n.starts_with("plots/")).count();
    assert_eq!(en_figures, nl_figures, "every figure in English too");
    // Redrawn in Dutch: the run's files again, byte for byte, and the English ones kept.
    wijksim().arg("report").arg(&out).assert().success();
    assert_eq!(files(&out), after, "both languages kept after running both");
    // A folder with both languages is still wijksim's: --force replaces it.
    run(&out, &["--runs", "30", "--force"]);
    assert!(!out.join("report.en.html").exists() && out.join("report.html").is_file());
    // An English run: report.html is English, and `report --lang nl` adds report.nl.html.
    run(&out, &["--runs", "30", "--force", "--lang", "en"]);
    wijksim()
        .args(["report", "--lang", "nl"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicates::str::contains("report.nl.html"));
    let both = files(&out);
    assert!(
        String::from_utf8(both["report.html"].clone())
            .unwrap()
            .contains("<html lang=\"en\">")
    );
    assert!(
        String::from_utf8(both["report.nl.html"].clone())
            .unwrap()
            .contains("<html lang=\"nl\">")
    );
    assert!(
        both.contains_key("plots/fan_baseline_WV.svg")
            && both.contains_key("plots.nl/fan_baseline_WV.svg")
    );
}

#[test]
fn report_refuses_edited_or_incomplete_folders_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run(&out, &["--runs", "20"]);
    let original = files(&out);
    let check = |what: &str, expect: &[&str]| {
        let a = wijksim().arg("report").arg(&out).assert().code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        for e in expect {
            assert!(err.contains(e), "{what}: `{e}` missing from:\n{err}");
        }
        assert!(!err.contains("panicked"), "{what}: {err}");
    };
    // A number edited into text: file, line and column are named.
    let costs = fs::read_to_string(out.join("costs.csv")).unwrap();
    let mut lines: Vec<String> = costs.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[6] = "veel";
    lines[2] = fields.join(",");
    fs::write(out.join("costs.csv"), lines.join("\n") + "\n").unwrap();
    check(
        "bad number",
        &["costs.csv:3", "`mean`", "`veel` is not a number", "fix:"],
    );
    fs::write(out.join("costs.csv"), &costs).unwrap();
    // Rows of another scenario.
    let caseload = fs::read_to_string(out.join("caseload.csv")).unwrap();
    fs::write(
        out.join("caseload.csv"),
        caseload.replacen(",BTS,", ",XYZ,", 1),
    )
    .unwrap();
    check("unknown state", &["caseload.csv:2", "`state`", "`XYZ`"]);
    fs::write(out.join("caseload.csv"), &caseload).unwrap();
    // A missing row: nothing is drawn from a table that lacks a number (issue 15: the tables read
    // back say what they hold).
    let mut cut: Vec<&str> = caseload.lines().collect();
    let gone = cut.remove(5);
    fs::write(out.join("caseload.csv"), cut.join("\n") + "\n").unwrap();
    let arm = gone.split(',').next().unwrap();
    check(
        "missing caseload row",
        &[
            "caseload.csv",
            "no row for the caseload in cycle",
            &format!("of arm `{arm}`"),
            "fix:",
        ],
    );
    fs::write(out.join("caseload.csv"), &caseload).unwrap();
    let kpis = fs::read_to_string(out.join("kpis.csv")).unwrap();
    let cut: Vec<&str> = kpis.lines().take(kpis.lines().count() - 1).collect();
    fs::write(out.join("kpis.csv"), cut.join("\n") + "\n").unwrap();
    check("missing KPI row", &["kpis.csv", "no row for a KPI", "fix:"]);
    fs::remove_file(out.join("kpis.csv")).unwrap();
    check("no KPI table", &["kpis.csv", "missing from the folder"]);
    fs::write(out.join("kpis.csv"), &kpis).unwrap();
    // A missing per-run row.
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    let cut: Vec<&str> = runs
        .lines()
        .filter(|l| !l.starts_with("baseline,7,"))
        .collect();
    fs::write(out.join("runs.csv"), cut.join("\n") + "\n").unwrap();
    check("missing run", &["runs.csv", "no row for run 7"]);
    fs::write(out.join("runs.csv"), &runs).unwrap();
    // An edited scenario copy.
    let scenario = fs::read_to_string(out.join("scenario.toml")).unwrap();
    fs::write(out.join("scenario.toml"), scenario.clone() + "\n# edited\n").unwrap();
    check("edited scenario", &["scenario.toml", "SHA-256", "fix:"]);
    fs::remove_file(out.join("scenario.toml")).unwrap();
    check("no scenario", &["scenario.toml", "no copy of its scenario"]);
    fs::write(out.join("scenario.toml"), &scenario).unwrap();
    // Not an output folder at all.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let a = wijksim().arg("report").arg(&empty).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("manifest.json"));
    // Nothing the failed attempts touched changed, and no staging folder is left.
    assert_eq!(files(&out), original);
}
