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
            GOOD.replace(',', "\t"),
            "episodes.csv:1: the columns are separated by tabs",
            "CSV UTF-8 (comma delimited)",
        ),
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
    assert!(wijksim::data::fit::episodes::passes_eleven_test(
        "111222333"
    ));
    assert!(wijksim::data::fit::episodes::passes_eleven_test(
        "123456782"
    ));
    assert!(!wijksim::data::fit::episodes::passes_eleven_test(
        "123456789"
    ));
    let text = GOOD
        .replace("p-001", "111222333")
        .replace("p-002", "123456782")
        .replace("p-003", "999999990");
    assert!(wijksim::data::fit::episodes::passes_eleven_test(
        "999999990"
    ));
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
            && fitted.contains("# fitted: episodes.csv, 40 client-months at risk, 1 move out")
    );
    // A move the template allows but the data never shows is left out, and the note says so.
    assert!(
        fitted.contains("never seen, so left out: BTS, SB, VW, UIT (the template allowed them)"),
        "{fitted}"
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
    assert!(
        err.contains("fitted.toml' already holds an earlier fit\n  fix: ")
            && err.contains("--force"),
        "{err}"
    );
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

/// The default scenario without its capacity limit (a blocked move is the limit's doing, not the
/// row's) and with starting clients who have spent at least a month in their state (an episode that
/// begins in the start month is read as a new client): the truth a fit must recover.
fn round_trip_text() -> String {
    let text = super::default_text();
    let cut = text
        .find("\n[[capacity]]")
        .expect("the default has a capacity")
        + 1;
    let end = cut + text[cut..].find("\n\n").expect("a blank line after it");
    let text = format!("{}{}", &text[..cut], &text[end..]);
    text.replace("BTS = [0, 35]", "BTS = [1, 35]")
        .replace("BT = [0, 35]", "BT = [1, 35]")
        .replace("WV = [0, 11]", "WV = [1, 11]")
}

/// Simulates the round-trip scenario (20 runs without PSA) with every run's histories.
fn histories(dir: &Path) -> String {
    histories_of(dir, &round_trip_text())
}

/// Simulates `truth` (20 runs without PSA) with every run's histories.
fn histories_of(dir: &Path, truth: &str) -> String {
    let scenario = dir.join("truth.toml");
    fs::write(&scenario, truth).unwrap();
    let out = dir.join("sim");
    super::wijksim()
        .args([
            "run",
            "--runs",
            "20",
            "--histories",
            "20",
            "--no-psa",
            "--plots",
            "none",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .arg(&scenario)
        .assert()
        .success();
    fs::read_to_string(out.join("histories.csv")).unwrap()
}

/// Every fitted probability of every row against the truth (the rows' `to` in the truth's text): the
/// largest |fitted − truth| / se, with se the binomial standard error at the truth.
fn worst_z(est: &wijksim::data::fit::estimate::Estimates, model: &wijksim::model::Model) -> f64 {
    worst_z_of(est, model, &round_trip_text())
}

/// As [`worst_z`], against the rows of `truth`: for each fitted row the truth's row that applies at
/// the fitted row's first month and band.
fn worst_z_of(
    est: &wijksim::data::fit::estimate::Estimates,
    model: &wijksim::model::Model,
    truth: &str,
) -> f64 {
    let doc: toml_edit::DocumentMut = truth.parse().unwrap();
    let specs = wijksim::data::fit::estimate::row_specs(&doc, model);
    let truth: toml::Value = toml::from_str(truth).unwrap();
    let rows = truth["transition"].as_array().unwrap();
    let mut worst: f64 = 0.0;
    for r in &est.rows {
        assert!(r.at_risk > 1000, "row {} has data", r.spec.index);
        let month = r
            .spec
            .period
            .map_or(model.start.index(), |p| p.0.max(model.start.index()));
        let t = specs
            .iter()
            .find(|t| t.applies(r.spec.from, r.spec.band.0, month))
            .expect("a truth row for every fitted row");
        let to = rows[t.index]["to"].as_table().unwrap();
        let n = model.n_states();
        for s in 0..=n {
            let code = if s == n {
                "renew"
            } else {
                model.states[s].code.as_str()
            };
            let p_true = to.get(code).and_then(|v| v.as_float()).unwrap_or(0.0);
            let got = if s == n { r.renew } else { r.to[s] };
            let p = got as f64 / r.at_risk as f64;
            if p_true == 0.0 {
                assert_eq!(got, 0, "row {} never moves to {code}", r.spec.index);
                continue;
            }
            let se = (p_true * (1.0 - p_true) / r.at_risk as f64).sqrt();
            worst = worst.max((p - p_true).abs() / se);
        }
    }
    worst
}

#[test]
fn a_fit_on_the_models_own_histories_recovers_its_rows_caseload_time_in_state_and_inflow() {
    let dir = tempfile::tempdir().unwrap();
    let text = histories(dir.path());
    let truth = wijksim::scenario::from_text("truth.toml", &round_trip_text())
        .unwrap()
        .model;
    let opts = wijksim::data::fit::episodes::ReadOptions::default();
    let fitted = wijksim::data::fit::fit(
        "truth.toml",
        &round_trip_text(),
        &truth,
        "histories.csv",
        &text,
        &opts,
        &wijksim::data::fit::Periods::Template,
    )
    .unwrap();
    let est = &fitted.estimates;
    assert_eq!(fitted.episodes.populations, 20);
    // Every probability of every row within 3 standard errors.
    let z = worst_z(est, &truth);
    assert!(
        z < 3.0,
        "worst row probability {z:.2} standard errors from the truth"
    );
    // The starting caseload exactly (it is fixed in every run).
    for (a, area) in truth.areas.iter().enumerate() {
        let live: Vec<u32> = area.initial.clone();
        assert_eq!(est.caseload[a], live, "{}", area.name);
    }
    // The time in state at the start: uniform on [1, 35] months for BT, per band within 3 se.
    let bt = truth.state_index("BT").unwrap();
    let hist = &est.time_in_state_pooled(bt);
    let total: u64 = hist.iter().sum();
    for (lo, hi, k) in wijksim::data::fit::estimate::time_bands(hist, None) {
        let share = f64::from(hi.min(35) - lo.max(1) + 1) / 35.0;
        let se = (share * (1.0 - share) / total as f64).sqrt();
        let got = k as f64 / total as f64;
        assert!(
            (got - share).abs() < 3.0 * se,
            "band {lo}-{hi}: {got} vs {share}"
        );
    }
    // The inflow per area and year: the new clients against the Poisson truth, within 3 sd.
    for (a, area) in truth.areas.iter().enumerate() {
        for &(y, k, months) in &est.inflow[a] {
            assert_eq!(months, 12);
            let expected: f64 = (0..truth.cycles)
                .filter(|&c| truth.date(c).year == y)
                .map(|c| area.inflow_mean[c as usize])
                .sum::<f64>()
                * 20.0;
            let got = k * 20.0;
            assert!(
                (got - expected).abs() < 3.0 * expected.sqrt(),
                "{} {y}: {got} vs {expected}",
                area.name
            );
        }
    }
    // The fitted scenario runs.
    let fitted_model = wijksim::scenario::from_text("fitted.toml", &fitted.text)
        .unwrap()
        .model;
    // Each area starts with its own clients' time in state: every starting client counted once, in
    // its area, and the fitted area's spread is that area's own (not the pooled one).
    for (a, area) in fitted_model.areas.iter().enumerate() {
        for s in 0..truth.n_states() {
            let hist = &est.time_in_state[a][s];
            let k: u64 = hist.iter().sum();
            assert_eq!(
                k,
                u64::from(truth.areas[a].initial[s]) * 20,
                "{}",
                area.name
            );
            if k == 0 {
                continue;
            }
            let bands = wijksim::data::fit::estimate::time_bands(hist, None);
            let parts = area.initial_time[s].parts();
            assert_eq!(parts.len(), bands.len(), "{} {}", area.name, s);
            for (p, b) in parts.iter().zip(&bands) {
                assert_eq!((p.0, p.1), (b.0, b.1));
                assert!((p.2 - b.2 as f64 / k as f64).abs() < 1e-12);
            }
        }
    }
    // The report gives the monthly chance to leave with a decimal: BTS 3.8% (truth 1 - 0.962).
    let html = wijksim::data::fit::report::html(
        &fitted,
        &truth,
        &fitted_model,
        wijksim::output::lang::Lang::Nl,
    );
    let bts = html.split("<td>BTS</td>").nth(1).unwrap();
    let bts = &bts[..bts.find("</tr>").unwrap()];
    assert!(bts.contains("<td>3,8% (3,"), "{bts}");
}

#[test]
fn censored_episodes_are_counted_for_their_months_and_dropping_them_would_bias_the_fit() {
    // The histories cut at the end of 2022: every episode still open then is censored. The fit stays
    // within 3 standard errors of the truth; a fit that dropped the censored episodes would keep
    // only the short ones, and overstate every chance to leave.
    let dir = tempfile::tempdir().unwrap();
    let text = histories(dir.path());
    let truth = wijksim::scenario::from_text("truth.toml", &round_trip_text())
        .unwrap()
        .model;
    let opts = wijksim::data::fit::episodes::ReadOptions {
        until: wijksim::model::YearMonth::parse("2022-12"),
        ..Default::default()
    };
    let fitted = wijksim::data::fit::fit(
        "truth.toml",
        &round_trip_text(),
        &truth,
        "histories.csv",
        &text,
        &opts,
        &wijksim::data::fit::Periods::Template,
    )
    .unwrap();
    let z = worst_z(&fitted.estimates, &truth);
    assert!(z < 3.0, "cut at 2022-12: worst {z:.2} standard errors");
    let mut dropped = fitted.episodes.clone();
    dropped
        .list
        .retain(|e| e.outcome != wijksim::data::fit::episodes::Outcome::Censored);
    let doc: toml_edit::DocumentMut = round_trip_text().parse().unwrap();
    let specs = wijksim::data::fit::estimate::row_specs(&doc, &truth);
    let limits: Vec<Option<u32>> = truth
        .states
        .iter()
        .map(|s| (s.code == "WV").then_some(12))
        .collect();
    let biased = wijksim::data::fit::estimate::estimate(&truth, &specs, &dropped, &limits);
    let z = worst_z(&biased, &truth);
    assert!(
        z > 10.0,
        "dropping censored episodes should be far off, is {z:.2} se"
    );
}

#[test]
fn periods_split_the_rows_so_a_change_in_policy_is_fitted_on_each_side() {
    // The truth: from 2023 BTS clients leave faster. Fitted with a new period from 2023-01, each
    // part recovers its own row within 3 standard errors; the template's one row would average the
    // two and be far off.
    let bts_before = "to = { BTS = 0.962, BT = 0.025, WV = 0.002, UIT = 0.011 }";
    let base = round_trip_text();
    assert!(base.contains(bts_before));
    let truth_text = base.replacen(
        &format!("from = \"BTS\"\n{bts_before}"),
        &format!(
            "from = \"BTS\"\nperiod = \"..2022-12\"\n{bts_before}\n\n[[transition]]\nfrom = \"BTS\"\nperiod = \"2023-01..\"\nto = {{ BTS = 0.94, BT = 0.04, WV = 0.005, UIT = 0.015 }}"
        ),
        1,
    );
    assert_ne!(truth_text, base);
    let dir = tempfile::tempdir().unwrap();
    let text = histories_of(dir.path(), &truth_text);
    let model = wijksim::scenario::from_text("truth.toml", &base)
        .unwrap()
        .model;
    let fit_with = |periods: wijksim::data::fit::Periods| {
        wijksim::data::fit::fit(
            "template.toml",
            &base,
            &model,
            "histories.csv",
            &text,
            &wijksim::data::fit::episodes::ReadOptions::default(),
            &periods,
        )
        .unwrap()
    };
    let split = fit_with(wijksim::data::fit::Periods::parse("2023-01").unwrap());
    let pooled = fit_with(wijksim::data::fit::Periods::Template);
    assert_eq!(
        split.estimates.rows.len(),
        2 * pooled.estimates.rows.len(),
        "every row in two parts"
    );
    let z = worst_z_of(&split.estimates, &model, &truth_text);
    assert!(z < 3.0, "split at 2023-01: worst {z:.2} standard errors");
    let z = worst_z_of(&pooled.estimates, &model, &truth_text);
    assert!(
        z > 5.0,
        "one row over both periods should be off, is {z:.2} se"
    );
    // A new period each January: the fitted scenario has a part per year and runs.
    let yearly = fit_with(wijksim::data::fit::Periods::Yearly);
    assert!(yearly.text.contains("period = \"2022-01..2022-12\""));
    wijksim::scenario::from_text("fitted.toml", &yearly.text).unwrap();

    // From the command line: the parts are written, the last one open-ended, and the file runs.
    let episodes = dir.path().join("sim/histories.csv");
    let template = dir.path().join("template.toml");
    fs::write(&template, &base).unwrap();
    let run = |periods: &str| {
        super::wijksim()
            .arg("fit")
            .arg(&episodes)
            .arg("--scenario")
            .arg(&template)
            .arg("--out")
            .arg(dir.path().join("fitted.toml"))
            .args(["--periods", periods, "--force"])
            .output()
            .unwrap()
    };
    let out = run("2023-01");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fitted = fs::read_to_string(dir.path().join("fitted.toml")).unwrap();
    assert!(fitted.contains("period = \"..2022-12\"") && fitted.contains("period = \"2023-01..\""));
    wijksim::scenario::load(&dir.path().join("fitted.toml")).unwrap();
    // A month outside the data, or not a month: a clear error.
    let out = run("2031-01");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("2031-01")
            && err.contains("outside the months fitted"),
        "{err}"
    );
    let out = run("2023");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("YYYY-MM"), "{err}");
}
