//! `wijksim check` and the validation of scenario files: every bad input gets exit code 2 and a
//! message naming the file, the line and the key, with a fix; never a panic, never an output folder.

use super::{default_text, wijksim};
use std::fs;
use std::path::Path;

/// The default scenario with `from` replaced by `to` (which must change the text).
fn edited(from: &str, to: &str) -> String {
    let text = default_text();
    assert!(text.contains(from), "the default scenario has no `{from}`");
    let out = text.replacen(from, to, 1);
    assert_ne!(out, text);
    out
}

/// 1-based line of the first line containing `marker`.
pub fn line_of(text: &str, marker: &str) -> usize {
    text.lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with `{marker}`"))
        + 1
}

/// Checks `text` with both `check` and `run`; asserts exit 2, `file:line:`, the key and a fix, and that
/// `run` created no output folder. Returns stderr of `check`.
pub fn rejects(text: &str, line: Option<usize>, key: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    fs::write(&file, text).unwrap();
    let out = wijksim()
        .arg("check")
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    let name = file.display().to_string();
    match line {
        Some(l) => assert!(
            err.contains(&format!("{name}:{l}:")),
            "expected {name}:{l}: in\n{err}"
        ),
        None => assert!(err.contains(&name), "expected the file name in\n{err}"),
    }
    assert!(err.contains(key), "expected key `{key}` in\n{err}");
    assert!(err.contains("fix:"), "expected a fix in\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let o = dir.path().join("o");
    let run = wijksim()
        .args(["run", "--runs", "2", "--quiet", "--out"])
        .arg(&o)
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(run).unwrap().contains(key));
    assert!(!o.exists(), "a rejected scenario produced an output folder");
    assert!(
        fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')),
        "staging left behind"
    );
    err
}

const BT_ROW: &str = "to = { BT = 0.965, BTS = 0.004";

#[test]
fn row_not_summing_to_one() {
    let t = edited(BT_ROW, "to = { BT = 0.935, BTS = 0.004");
    let err = rejects(&t, Some(line_of(&t, "BT = 0.935")), "transition[1].to");
    assert!(
        err.contains("sum to 0.97") && err.contains("raise the stay probability `BT` by 0.03"),
        "{err}"
    );
}

#[test]
fn unknown_state_in_to() {
    let t = edited(BT_ROW, "to = { BX = 0.965, BTS = 0.004");
    let err = rejects(&t, Some(line_of(&t, "BX = 0.965")), "transition[1].to.BX");
    assert!(err.contains("unknown state `BX`"), "{err}");
}

#[test]
fn unknown_state_in_from() {
    let t = edited("from = \"SB\"\nto", "from = \"SBB\"\nto");
    rejects(
        &t,
        Some(line_of(&t, "from = \"SBB\"")),
        "transition[4].from",
    );
}

#[test]
fn negative_tariff() {
    let t = edited("tariff_per_hour = 66.00", "tariff_per_hour = -66.00");
    let err = rejects(&t, Some(line_of(&t, "-66.00")), "cost[1].tariff_per_hour");
    assert!(err.contains("cannot be negative"), "{err}");
}

#[test]
fn negative_probability() {
    let t = edited("BTS = 0.004, WV = 0.009", "BTS = -0.004, WV = 0.017");
    let err = rejects(
        &t,
        Some(line_of(&t, "BTS = -0.004")),
        "transition[1].to.BTS",
    );
    assert!(err.contains("outside 0..1"), "{err}");
}

#[test]
fn area_without_inhabitants() {
    let t = edited("inhabitants = 39677\n", "");
    rejects(
        &t,
        Some(line_of(&t, "municipality = \"Goes\"")),
        "area[0].inhabitants",
    );
    let t = edited("inhabitants = 39677", "inhabitants = 0");
    rejects(
        &t,
        Some(line_of(&t, "inhabitants = 0")),
        "area[0].inhabitants",
    );
}

#[test]
fn duplicate_state_code() {
    let t = edited("code = \"VW\"", "code = \"SB\"");
    let err = rejects(&t, None, "state[4].code");
    assert!(err.contains("duplicate state code `SB`"), "{err}");
    let nth = t.match_indices("code = \"SB\"").nth(1).unwrap().0;
    let line = t[..nth].lines().count() + 1;
    assert!(err.contains(&format!(":{line}: `state[4].code`")), "{err}");
}

#[test]
fn horizon_of_zero() {
    let t = edited("cycles = 60", "cycles = 0");
    let err = rejects(&t, Some(line_of(&t, "cycles = 0")), "time.cycles");
    assert!(err.contains("horizon is 0 cycles"), "{err}");
}

#[test]
fn toml_syntax_error() {
    let t = edited(
        "[[area]]\nmunicipality = \"Tholen\"",
        "[[area]\nmunicipality = \"Tholen\"",
    );
    let line = t.lines().position(|l| l == "[[area]").unwrap() + 1;
    let err = rejects(&t, Some(line), "TOML");
    assert!(err.contains("TOML"), "{err}");
}

#[test]
fn toml_unclosed_string() {
    let t = edited("name = \"Kats\"", "name = \"Kats");
    rejects(&t, Some(line_of(&t, "name = \"Kats")), "TOML");
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nope.toml");
    let err = wijksim()
        .arg("check")
        .arg(&file)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains(&file.display().to_string())
            && err.contains("cannot read")
            && err.contains("fix:"),
        "{err}"
    );
    let o = dir.path().join("o");
    wijksim()
        .args(["run", "--quiet", "--out"])
        .arg(&o)
        .arg(&file)
        .assert()
        .code(2);
    assert!(!o.exists());
}

#[test]
fn unknown_key() {
    let t = edited("tariff_per_hour = 66.00", "tarif_per_hour = 66.00");
    let err = rejects(&t, Some(line_of(&t, "tarif_per_hour")), "tarif_per_hour");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn missing_row_for_a_state() {
    let t = edited(
        "[[transition]]\nfrom = \"SB\"\nto = { SB = 0.965, BT = 0.008, WV = 0.004, UIT = 0.023 }\n",
        "",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "code = \"SB\"") - 1),
        "transition (from SB)",
    );
    assert!(
        err.contains("state `SB` has no [[transition]] row"),
        "{err}"
    );
}

#[test]
fn overlapping_bands() {
    let t = edited("cycles_in_state = \"12+\"", "cycles_in_state = \"11+\"");
    let err = rejects(
        &t,
        Some(line_of(&t, "cycles_in_state = \"11+\"") - 2),
        "transition (from WV)",
    );
    assert!(
        err.contains("both apply to `WV` at 11 cycles in state"),
        "{err}"
    );
}

#[test]
fn gap_in_bands() {
    let t = edited("cycles_in_state = \"12+\"", "cycles_in_state = \"13+\"");
    // Points at the state's [[state]] table.
    let err = rejects(
        &t,
        Some(line_of(&t, "code = \"WV\"") - 1),
        "transition (from WV)",
    );
    assert!(
        err.contains("no transition row for `WV` at 12 cycles in state"),
        "{err}"
    );
}

#[test]
fn waakvlam_staying_beyond_its_longest_indication() {
    let t = edited("to = { renew = 0.30,", "to = { WV = 0.30,");
    let err = rejects(
        &t,
        Some(line_of(&t, "to = { WV = 0.30,")),
        "transition[3].to.WV",
    );
    assert!(err.contains("renew"), "{err}");
}

#[test]
fn bad_start_month() {
    let t = edited("start = \"2021-01\"", "start = \"2021-13\"");
    rejects(&t, Some(line_of(&t, "2021-13")), "time.start");
}

#[test]
fn entry_mix_not_summing_to_one() {
    let t = edited("entry = { BT = 0.78", "entry = { BT = 0.88");
    let err = rejects(&t, Some(line_of(&t, "entry = { BT = 0.88")), "inflow.entry");
    assert!(err.contains("sum to 1.1"), "{err}");
}

#[test]
fn transition_from_an_absorbing_state() {
    let t = edited(
        "[[transition]]\nfrom = \"SB\"",
        "[[transition]]\nfrom = \"UIT\"\nto = { UIT = 1.0 }\n\n[[transition]]\nfrom = \"SB\"",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "from = \"UIT\"")),
        "transition[4].from",
    );
    assert!(err.contains("absorbing"), "{err}");
}

#[test]
fn zero_runs_in_the_file() {
    let t = edited("runs = 1000", "runs = 0");
    rejects(&t, Some(line_of(&t, "runs = 0")), "run.runs");
}

#[test]
fn cost_item_of_two_kinds() {
    let t = edited("per_entry = 705.69", "per_entry = 705.69\nper_month = 10.0");
    let err = rejects(&t, Some(line_of(&t, "line = \"waakvlam\"") - 1), "cost[2]");
    assert!(err.contains("exactly one of"), "{err}");
}

#[test]
fn text_where_a_number_belongs() {
    let t = edited("inhabitants = 13011", "inhabitants = \"13011\"");
    let err = rejects(&t, Some(line_of(&t, "\"13011\"")), "TOML");
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn unknown_regime_and_kpi_pattern() {
    let t = edited(
        "regime = \"dorpsbudget\", from",
        "regime = \"dorpbudget\", from",
    );
    rejects(
        &t,
        Some(line_of(&t, "\"dorpbudget\"")),
        "arm[1].assign[0].regime",
    );
    let t = edited(
        "\"WV>SB\", \"WV>VW\", \"WV>UIT\"]",
        "\"WV>SB\", \"WV>VX\", \"WV>UIT\"]",
    );
    rejects(&t, Some(line_of(&t, "WV>VX")), "kpi[0].numerator");
}

#[test]
fn kpi_targets_weights_and_count_modes() {
    // A share's target is a share: 10 for 10% is refused, naming kind count for a number of clients.
    let t = edited("targets = { 3 = 0.10 }", "targets = { 3 = 10 }");
    let err = rejects(&t, Some(line_of(&t, "3 = 10 }")), "kpi[6].targets.3");
    assert!(
        err.contains("outside 0..1") && err.contains("kind = \"count\""),
        "{err}"
    );
    // A count's target is a number of clients (165 passes in the default), never negative.
    let t = edited("targets = { 3 = 165 }", "targets = { 3 = -1 }");
    let err = rejects(&t, Some(line_of(&t, "3 = -1 }")), "kpi[7].targets.3");
    assert!(err.contains("not a number of clients"), "{err}");
    let t = edited("\ncount = \"average\"\n", "\ncount = \"mean\"\n");
    let err = rejects(&t, Some(line_of(&t, "\"mean\"")), "kpi[7].count");
    assert!(err.contains("during, average, end"), "{err}");
    // Weights: shares in 0..1 of states the KPI counts, on share KPIs only.
    let vw = "denominator = [\"BTS\", \"BT\", \"WV\", \"VW\"]\n";
    let t = edited(vw, &format!("{vw}weights = {{ VW = 1.5 }}\n"));
    let err = rejects(&t, Some(line_of(&t, "VW = 1.5")), "kpi[5].weights.VW");
    assert!(err.contains("outside 0..1"), "{err}");
    let t = edited(vw, &format!("{vw}weights = {{ SB = 0.5 }}\n"));
    let err = rejects(&t, Some(line_of(&t, "SB = 0.5")), "kpi[5].weights.SB");
    assert!(
        err.contains("neither the numerator nor the denominator"),
        "{err}"
    );
    let flow = "denominator = [\"WV>*\", \"WV>renew\"]\n";
    let t = edited(flow, &format!("{flow}weights = {{ WV = 0.5 }}\n"));
    let err = rejects(&t, Some(line_of(&t, "WV = 0.5")), "kpi[4].weights");
    assert!(err.contains("`share` KPIs"), "{err}");
    let t = edited(vw, &format!("{vw}count = \"end\"\n"));
    let err = rejects(&t, Some(line_of(&t, "count = \"end\"")), "kpi[5].count");
    assert!(err.contains("kind = \"count\""), "{err}");
}

#[test]
fn all_problems_of_a_file_at_once() {
    let t = edited("tariff_per_hour = 66.00", "tariff_per_hour = -66.00")
        .replacen("inhabitants = 0", "x", 0)
        .replacen("cycles = 60", "cycles = 0", 1);
    let err = rejects(&t, Some(line_of(&t, "-66.00")), "cost[1].tariff_per_hour");
    // Three: the tariff, the horizon, and the pilot that now starts after the horizon.
    assert!(
        err.contains("time.cycles") && err.contains("(3 problems)"),
        "{err}"
    );
}

#[test]
fn the_default_scenario_checks_clean() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/oosterschelde.toml");
    let out = wijksim()
        .arg("check")
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("ok (7 states, 12 areas, 60 cycles from 2021-01, 2 arms")
    );
}

#[test]
fn a_missing_price_index_year_is_reported_once() {
    // The index table starts in 2021; 2019 prices need the 2020 rate.
    let t = edited(
        "per_entry = 705.69         # one-off per indication, also on renewal (factsheet, 2021 tariff)\nprice_year = 2021",
        "per_entry = 705.69\nprice_year = 2019",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "per_entry = 705.69")),
        "cost[2].per_entry",
    );
    assert!(err.contains("no price index for 2020"), "{err}");
    assert_eq!(err.matches("no price index").count(), 1, "{err}");
}

#[test]
fn share_outside_zero_to_one() {
    let t = edited("share_paying = 0.6 ", "share_paying = 1.6 ");
    let err = rejects(
        &t,
        Some(line_of(&t, "share_paying = 1.6")),
        "own_contribution[0].share_paying",
    );
    assert!(err.contains("share 1.6 is outside 0..1"), "{err}");
}

/// Regression: the error chain printed every input error twice (the error and its source).
#[test]
fn every_problem_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "[scenario]\nname = \"x\"\n").unwrap();
    for cmd in ["run", "check"] {
        let a = super::wijksim().arg(cmd).arg(&f).assert().code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert_eq!(
            err.matches("missing field `time`").count(),
            1,
            "{cmd}:\n{err}"
        );
        assert_eq!(err.matches("fix:").count(), 1, "{cmd}:\n{err}");
    }
    let a = super::wijksim()
        .arg("report")
        .arg(dir.path().join("none"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert_eq!(err.matches("no such folder").count(), 1, "{err}");
}

#[test]
fn relative_risk_pushing_a_row_over_1() {
    // BT -> WV has 0.009; 200 times that leaves the stay probability of BT far below 0.
    let t = edited(
        "  { from = \"SB\", to = \"BT\", hazard_ratio = { dist = \"lognormal\", mean = 0.8, sd = 0.15 } },",
        "  { from = \"SB\", to = \"BT\", hazard_ratio = { dist = \"lognormal\", mean = 0.8, sd = 0.15 } },\n  { from = \"BT\", to = \"WV\", relative_risk = 200.0 },",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "relative_risk = 200.0")),
        "regime[0].modifier[4].relative_risk",
    );
    assert!(
        err.contains("pushes the moves out of `BT` over 1")
            && err.contains("give a relative risk of at most 108.2")
            && err.contains("hazard_ratio"),
        "{err}"
    );
}

#[test]
fn modifier_with_both_or_neither_effect() {
    let t = edited(
        "{ from = \"BT\", to = \"WV\", hazard_ratio = { dist = \"lognormal\", mean = 1.5, sd = 0.3 } }",
        "{ from = \"BT\", to = \"WV\", hazard_ratio = 1.5, relative_risk = 1.2 }",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "relative_risk = 1.2")),
        "regime[0].modifier[0]",
    );
    assert!(
        err.contains("exactly one of hazard_ratio and relative_risk"),
        "{err}"
    );
}

#[test]
fn a_budget_that_would_hold_back_care_is_refused_with_the_fix() {
    // Zorgplicht: the removed keys that let a budget put clients on a waiting list or step them down
    // are errors naming the key, with what to use instead.
    let t = edited(
        "on_surplus = \"carried_over\"",
        "on_surplus = \"carried_over\"\non_exhaustion = \"waitlist\"\nstep_down_from = \"BT\"",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "on_exhaustion = \"waitlist\"")),
        "regime[0].on_exhaustion",
    );
    assert!(
        err.contains("zorgplicht")
            && err.contains("[[capacity]]")
            && err.contains("regime[0].step_down_from")
            && err.contains("reassessment"),
        "{err}"
    );
}

#[test]
fn check_takes_every_shipped_file_including_sweeps_and_checks_sweeps_fully() {
    // Regression: `check scenarios/*.toml` exited 2 on the sweep files ("unknown field `parameter`").
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<std::path::PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let out = wijksim().arg("check").args(&files).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("sweep_one_way.toml: ok (sweep over")
            && stdout.contains("one_way design, 7 parameters, 15 points")
            && stdout.contains("1 regime, ")
            && !stdout.contains("1 regimes"),
        "{stdout}"
    );
    // A sweep whose key path names nothing in the scenario: file, line, key and fix, exit 2.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    fs::write(&scenario, default_text()).unwrap();
    let sweep = tmp.path().join("bad_sweep.toml");
    fs::write(
        &sweep,
        "[sweep]\nscenario = \"s.toml\"\ndesign = \"one_way\"\n\n[[parameter]]\nkey = \"regime[dorpsbudget].prevension\"\nlow = 0.0\nhigh = 0.2\n",
    )
    .unwrap();
    let out = wijksim().arg("check").arg(&sweep).assert().code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("bad_sweep.toml:6:")
            && err.contains("parameter[0].key")
            && err.contains("fix:")
            && err.contains("the file has problems"),
        "{err}"
    );
}

#[test]
fn kpi_scopes_are_checked_with_the_fix() {
    // The keys of one scope per KPI are gone: they name `scopes` in the fix.
    let t = edited(
        "name = \"alleen_waakvlam\"\n",
        "name = \"alleen_waakvlam\"\nmunicipality = \"Noord-Beveland\"\n",
    );
    let line = line_of(&t, "name = \"alleen_waakvlam\"") + 1;
    let err = rejects(&t, Some(line), "kpi[2].municipality");
    assert!(err.contains("scopes = ["), "{err}");
    // An unknown scope names the kinds and the municipalities.
    let t = edited(
        "name = \"alleen_waakvlam\"\n",
        "name = \"alleen_waakvlam\"\nscopes = [\"Atlantis\"]\n",
    );
    let err = rejects(
        &t,
        Some(line_of(&t, "scopes = [\"Atlantis\"]")),
        "kpi[2].scopes",
    );
    assert!(
        err.contains("unknown scope `Atlantis`")
            && err.contains("pilot_areas")
            && err.contains("Goes"),
        "{err}"
    );
    // An area named in `scopes` is reported, and evaluated.
    let t = edited(
        "name = \"alleen_waakvlam\"\n",
        "name = \"alleen_waakvlam\"\nscopes = [\"Goes\", \"area\"]\n",
    );
    let m = wijksim::scenario::from_text("s.toml", &t).unwrap().model;
    let k = m.kpis.iter().find(|k| k.name == "alleen_waakvlam").unwrap();
    let names: Vec<(&str, &str)> = k
        .scopes
        .iter()
        .map(|&s| (m.scopes[s].kind.name(), m.scopes[s].name.as_str()))
        .collect();
    // `Goes` is the municipality (its one area has its name too); `area` is every reported area:
    // the six villages.
    assert_eq!(names[0], ("municipality", "Goes"));
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names[1..].iter().all(|(kind, _)| *kind == "area"));
}
