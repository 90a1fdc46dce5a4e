//! `wijksim calibrate`: recovery of known values from the model's own counts, the measures against
//! Monte Carlo and a hand-computed case, the calibrated scenario, and bad targets files.

use super::wijksim;
use std::path::Path;
use wijksim::aggregate::AreaView;
use wijksim::data::calibrate::{
    Measure, Problem, Target, Vary, expected_values, measure, read_targets,
};
use wijksim::sweep::keypath::KeyPath;

/// A small monthly scenario: inflow into A and B, A -> B -> D, comments on the varied lines.
const SMALL: &str = r#"# A small test scenario (comments must survive calibration).
[scenario]
name = "small"

[time]
start = "2022-01"
cycles = 24

[run]
runs = 100
seed = 7

[[state]]
code = "A"

[[state]]
code = "B"

[[state]]
code = "D"
absorbing = true

[[area]]
municipality = "M"
name = "Noord"
inhabitants = 20000
caseload = { A = 300, B = 100 }

[[area]]
municipality = "M"
name = "Zuid"
inhabitants = 10000
caseload = { A = 100, B = 50 }

[inflow]
per_1000_per_year = 6.0   # ASSUMPTION: new clients
entry = { A = 0.8, B = 0.2 }

# ASSUMPTION: monthly moves out of A
[[transition]]
from = "A"
to = { A = 0.92, B = 0.06, D = 0.02 }   # keep this comment

[[transition]]
from = "B"
to = { B = 0.95, A = 0.01, D = 0.04 }

[[cost]]
line = "care"
state = "B"
per_month = 100.0
price_year = 2022
"#;

fn small() -> String {
    SMALL.to_string()
}

fn vary(k: &str, low: f64, high: f64) -> Vary {
    Vary {
        key: KeyPath::parse(k).unwrap(),
        low,
        high,
    }
}

/// Targets over a year of half-years and the region and municipality.
fn template() -> String {
    let mut rows = vec!["period,scope,scope_name,state,measure,value,se".to_string()];
    for p in ["2022-H1", "2022-H2", "2023-H1", "2023-06"] {
        for (s, m) in [
            ("A", "stock"),
            ("B", "stock"),
            ("A", "clients"),
            ("B", "clients"),
            ("A", "inflow"),
            ("B", "outflow"),
            ("A", "outflow"),
            ("D", "outflow"),
        ] {
            rows.push(format!("{p},region,regio,{s},{m},0,"));
        }
    }
    rows.push("2023,municipality,M,B,stock,0,".into());
    rows.join("\n")
}

#[test]
fn recovers_known_values_from_the_models_own_counts() {
    let sc = wijksim::scenario::from_text("small.toml", &small()).unwrap();
    let targets = read_targets("t.csv", template().as_bytes(), &sc.model).unwrap();
    let truth = [0.045, 0.03];
    let p = Problem::new(
        sc,
        vec![
            vary("transition[A].to.B", 0.0, 0.2),
            vary("transition[B].to.D", 0.0, 0.2),
        ],
        None,
        targets,
    )
    .unwrap();
    let values = expected_values(&p.scenario_at(&truth).unwrap().model, 0, &p.targets);
    let mut csv = String::from("period,scope,scope_name,state,measure,value,se\n");
    for (line, v) in template().lines().skip(1).zip(&values) {
        let row = line.strip_suffix(",0,").unwrap();
        csv.push_str(&format!("{row},{v:.12},\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("small.toml"), small()).unwrap();
    std::fs::write(dir.path().join("targets.csv"), &csv).unwrap();
    let out = dir.path().join("cal");
    let a = wijksim()
        .current_dir(dir.path())
        .args([
            "calibrate",
            "small.toml",
            "--targets",
            "targets.csv",
            "--vary",
            "transition[A].to.B=0..0.2",
            "--vary",
            "transition[B].to.D=0..0.2",
            "--out",
            "cal",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(stdout.contains("converged"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("calibration.json")).unwrap()).unwrap();
    let chi2 = json["chi2"].as_f64().unwrap();
    let before = json["chi2_before"].as_f64().unwrap();
    assert!(before > 10.0, "chi-square at the start {before}");
    assert!(chi2 < 1e-4, "chi-square at the optimum {chi2}");
    assert_eq!(json["dof"].as_i64(), Some(33 - 2));
    for (i, want) in truth.iter().enumerate() {
        let got = json["parameters"][i]["fitted"].as_f64().unwrap();
        assert!(
            (got - want).abs() / want < 1e-3,
            "parameter {i}: fitted {got}, true {want}"
        );
    }
    // 3. calibrated.toml keeps every comment and parses back with the fitted values.
    let text = std::fs::read_to_string(out.join("calibrated.toml")).unwrap();
    for line in small().lines().filter(|l| l.contains('#')) {
        let comment = &line[line.find('#').unwrap()..];
        assert!(text.contains(comment), "lost `{comment}`:\n{text}");
    }
    assert!(
        text.contains("# calibrated to targets.csv (33 targets), was 0.06;"),
        "{text}"
    );
    assert!(text.contains("was 0.04;"), "{text}");
    let back = wijksim::scenario::from_text("calibrated.toml", &text).unwrap();
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    for (i, k) in ["transition[A].to.B", "transition[B].to.D"]
        .iter()
        .enumerate()
    {
        let (_, v) =
            wijksim::sweep::keypath::inspect(&mut doc, &KeyPath::parse(k).unwrap()).unwrap();
        let fitted = json["parameters"][i]["fitted"].as_f64().unwrap();
        assert_eq!(v, Some(fitted), "{k}");
    }
    // The stay probabilities took up the change; the model at its values reproduces the targets.
    let again = expected_values(&back.model, 0, &p.targets);
    for ((t, v), want) in p.targets.iter().zip(&again).zip(&values) {
        assert!(
            (v - want).abs() < 1e-3 * want.max(1.0),
            "line {}: {v} vs {want}",
            t.line
        );
    }
    for f in [
        "calibration.csv",
        "manifest.json",
        "plots/calibration.png",
        "plots/calibration.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // A second run refuses to overwrite, --force replaces its own folder.
    wijksim()
        .current_dir(dir.path())
        .args([
            "calibrate",
            "small.toml",
            "--targets",
            "targets.csv",
            "--vary",
            "transition[A].to.B=0..0.2",
            "--out",
            "cal",
        ])
        .assert()
        .code(2);
    wijksim()
        .current_dir(dir.path())
        .args([
            "calibrate",
            "small.toml",
            "--targets",
            "targets.csv",
            "--vary",
            "transition[A].to.B=0..0.2",
            "--out",
            "cal",
            "--force",
        ])
        .assert()
        .success();
}

/// Writes `small.toml` and targets made by the model at `key = truth` (rounded to whole clients, no
/// se) into `dir`, and returns a function that calibrates `key` in `range` with a posterior of 200
/// draws (seed 5) into the folder it is given and returns that folder's posterior.csv.
fn posterior_setup<'a>(
    dir: &'a Path,
    key: &'a str,
    (low, high): (f64, f64),
    truth: f64,
) -> impl Fn(&str) -> String + 'a {
    let sc = wijksim::scenario::from_text("small.toml", &small()).unwrap();
    let targets = read_targets("t.csv", template().as_bytes(), &sc.model).unwrap();
    let p = Problem::new(sc, vec![vary(key, low, high)], None, targets).unwrap();
    let values = expected_values(&p.scenario_at(&[truth]).unwrap().model, 0, &p.targets);
    let mut csv = String::from("period,scope,scope_name,state,measure,value\n");
    for (line, v) in template().lines().skip(1).zip(&values) {
        let row = line.strip_suffix(",0,").unwrap();
        csv.push_str(&format!("{row},{:.0}\n", v));
    }
    std::fs::write(dir.join("small.toml"), small()).unwrap();
    std::fs::write(dir.join("targets.csv"), &csv).unwrap();
    move |out: &str| {
        wijksim()
            .current_dir(dir)
            .args([
                "calibrate",
                "small.toml",
                "--targets",
                "targets.csv",
                "--vary",
            ])
            .arg(format!("{key}={low}..{high}"))
            .args(["--posterior", "200", "--seed", "5", "--out", out])
            .assert()
            .success();
        std::fs::read_to_string(dir.join(out).join("posterior.csv")).unwrap()
    }
}

#[test]
fn posterior_is_reproducible_and_written_as_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let run = posterior_setup(dir.path(), "inflow.per_1000_per_year", (1.0, 12.0), 8.0);
    let (a, b) = (run("p1"), run("p2"));
    assert_eq!(a, b, "the same seed gives the same sample");
    assert_eq!(a.lines().count(), 201);
    let text = std::fs::read_to_string(dir.path().join("p1/calibrated.toml")).unwrap();
    assert!(
        text.contains("per_1000_per_year = { dist = \"gamma\", mean = "),
        "{text}"
    );
    let back = wijksim::scenario::from_text("c.toml", &text).unwrap();
    assert!(back.model.uncertain);
    let m = back.model.areas[0].inflow_mean[0] * 12.0 / 20.0;
    assert!((m - 8.0).abs() < 0.5, "posterior mean inflow {m}");
}

/// The cohort's measures lie within 4 standard errors of the Monte Carlo means over runs.
#[test]
fn measures_agree_with_monte_carlo() {
    let sc = wijksim::scenario::from_text("small.toml", &small()).unwrap();
    let m = &sc.model;
    let targets = read_targets("t.csv", template().as_bytes(), m).unwrap();
    let exact = expected_values(m, 0, &targets);
    let runs = 2000u32;
    let mut sum = vec![0.0; targets.len()];
    let mut sq = vec![0.0; targets.len()];
    for r in 0..runs {
        let tr = wijksim::engine::simulate(m, 0, 11, r);
        let views: Vec<AreaView<'_, u32>> = tr.areas.iter().map(|a| a.view()).collect();
        for (i, t) in targets.iter().enumerate() {
            let v = measure(m, &views, t);
            sum[i] += v;
            sq[i] += v * v;
        }
    }
    let n = f64::from(runs);
    for (i, t) in targets.iter().enumerate() {
        let mean = sum[i] / n;
        let sd = ((sq[i] / n - mean * mean) * n / (n - 1.0)).max(0.0).sqrt();
        let se = sd / n.sqrt();
        assert!(
            (mean - exact[i]).abs() <= 4.0 * se + 1e-9,
            "{} {:?} state {}: Monte Carlo {mean} vs cohort {} (se {se})",
            t.period,
            t.measure,
            t.state,
            exact[i]
        );
    }
}

/// A closed cohort of 1,000 in A, 10% leaving to D a month: over the first two months the stock of A is
/// (1000 + 900) / 2, its clients 1,000, its outflow 100, D's 100; nobody flows in.
#[test]
fn measures_match_a_hand_computed_case() {
    let text = small()
        .replace("caseload = { A = 300, B = 100 }", "caseload = { A = 1000 }")
        .replace("caseload = { A = 100, B = 50 }", "caseload = {}")
        .replace("per_1000_per_year = 6.0", "per_1000_per_year = 0.0")
        .replace(
            "to = { A = 0.92, B = 0.06, D = 0.02 }",
            "to = { A = 0.9, D = 0.1 }",
        );
    let m = wijksim::scenario::from_text("h.toml", &text).unwrap().model;
    let csv = "period,scope,scope_name,state,measure,value\n\
               2022-01,region,regio,A,stock,1\n\
               2022-02,region,regio,A,stock,1\n\
               2022-03,region,regio,A,clients,1\n\
               2022-03,region,regio,A,outflow,1\n\
               2022-03,region,regio,D,outflow,1\n\
               2022-03,region,regio,A,inflow,1\n";
    // Two months as one target: the periods of a file are months, half-years or years.
    let t = read_targets("h.csv", csv.as_bytes(), &m).unwrap();
    let two_months = |x: &Target| Target {
        cycles: 0..2,
        ..x.clone()
    };
    let targets: Vec<Target> = t.iter().map(two_months).collect();
    let v = expected_values(&m, 0, &targets);
    let want = [950.0, 950.0, 1000.0, 100.0, 100.0, 0.0];
    for ((t, v), w) in targets.iter().zip(&v).zip(want) {
        assert!((v - w).abs() < 1e-9, "{:?}: {v} vs {w}", t.measure);
    }
    assert_eq!(targets[2].measure, Measure::Clients);
}

fn bad(csv: &[u8]) -> String {
    let sc = wijksim::scenario::from_text("small.toml", &small()).unwrap();
    read_targets("targets.csv", csv, &sc.model)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_targets_files_give_clear_errors() {
    let head = "period,scope,scope_name,state,measure,value,se\n";
    let row = |r: &str| format!("{head}2022-H1,region,regio,A,stock,{r}\n");
    let e = bad(b"");
    assert!(e.contains("targets.csv") && e.contains("empty"), "{e}");
    // A byte order mark (Excel's "CSV UTF-8" writes one) is skipped: the same targets as without.
    let sc = wijksim::scenario::from_text("small.toml", &small()).unwrap();
    let plain = row("12,");
    let with_bom = format!("\u{feff}{plain}");
    let (a, b) = (
        read_targets("t.csv", plain.as_bytes(), &sc.model).unwrap(),
        read_targets("t.csv", with_bom.as_bytes(), &sc.model).unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(a.len(), 1);
    // Semicolons (Excel's "CSV" in a Dutch locale) or tabs: refused with the line and the fix.
    let e = bad(format!("\u{feff}{}", row("12,").replace(',', ";")).as_bytes());
    assert!(
        e.contains("targets.csv:1")
            && e.contains("separated by semicolons")
            && e.contains("CSV UTF-8 (comma delimited)"),
        "{e}"
    );
    let e = bad(row("12,").replace(',', "\t").as_bytes());
    assert!(
        e.contains("targets.csv:1") && e.contains("separated by tabs"),
        "{e}"
    );
    let mut latin1 = format!("{head}2022-H1,region,regio,A,stock,").into_bytes();
    latin1.extend_from_slice(b"\xE9\n");
    let e = bad(&latin1);
    assert!(
        e.contains("targets.csv:2") && e.contains("not UTF-8"),
        "{e}"
    );
    let e = bad(b"period,scope,state,measure,value\n2022,region,A,stock,1\n");
    assert!(e.contains("lacks the column(s) scope_name"), "{e}");
    let e = bad(format!("{head}2022-H1,region,regio,A,stock,\"12,5\",\n").as_bytes());
    assert!(
        e.contains("targets.csv:2") && e.contains("column 6 (`value`)") && e.contains("12.5"),
        "{e}"
    );
    let e = bad(format!("{head}2022-H1,region,regio,A,stock,12,5,\n").as_bytes());
    assert!(
        e.contains("targets.csv:2") && e.contains("decimal comma"),
        "{e}"
    );
    let e = bad(row("12,-1").as_bytes());
    assert!(
        e.contains("column 7 (`se`)") && e.contains("not positive"),
        "{e}"
    );
    let e = bad(row("lots,").as_bytes());
    assert!(e.contains("`lots` is not a number"), "{e}");
    let e = bad(format!("{head}2022-13,region,regio,A,stock,1,\n").as_bytes());
    assert!(
        e.contains("column 1 (`period`)") && e.contains("2022-H1"),
        "{e}"
    );
    let e = bad(format!("{head}2030,region,regio,A,stock,1,\n").as_bytes());
    assert!(e.contains("horizon 2022-01 to 2023-12"), "{e}");
    let e = bad(format!("{head}2022,wijk,Noord,A,stock,1,\n").as_bytes());
    assert!(
        e.contains("unknown scope `wijk`") && e.contains("region, municipality, pilot_areas, area"),
        "{e}"
    );
    let e = bad(format!("{head}2022,municipality,Goes,A,stock,1,\n").as_bytes());
    assert!(
        e.contains("no municipality scope named `Goes`") && e.contains("use one of: M"),
        "{e}"
    );
    let e = bad(format!("{head}2022,region,regio,X,stock,1,\n").as_bytes());
    assert!(
        e.contains("unknown state `X`") && e.contains("A, B, D"),
        "{e}"
    );
    let e = bad(format!("{head}2022,region,regio,A,flow,1,\n").as_bytes());
    assert!(e.contains("stock, clients, inflow or outflow"), "{e}");
    let e = bad(b"period;scope;scope_name;state;measure;value\n2022;region;regio;A;stock;1\n");
    assert!(e.contains("semicolons"), "{e}");
    // Through the binary: exit code 2 and the file named; a box outside a probability's range.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("small.toml"), small()).unwrap();
    std::fs::write(dir.path().join("t.csv"), row("x,")).unwrap();
    // Calibrates small.toml to t.csv varying `vary`: it fails with exit code 2; its message.
    let refused = |vary: &str| {
        let a = wijksim()
            .current_dir(dir.path())
            .args([
                "calibrate",
                "small.toml",
                "--targets",
                "t.csv",
                "--vary",
                vary,
                "--out",
                "o",
            ])
            .assert()
            .code(2);
        String::from_utf8_lossy(&a.get_output().stderr).into_owned()
    };
    let err = refused("transition[A].to.B=0..0.2");
    assert!(
        err.contains("t.csv:2") && err.contains("`x` is not a number"),
        "{err}"
    );
    std::fs::write(dir.path().join("t.csv"), row("10,")).unwrap();
    let err = refused("transition[A].to.B=0..0.99");
    assert!(
        err.contains("stay probability") && err.contains("narrow"),
        "{err}"
    );
    let err = refused("transition[A].to.B=0.3..0.1");
    assert!(err.contains("must be below HIGH"), "{err}");
    // The stay probability cannot be varied: the scenario file and its key, the flag by its name,
    // and the fix on a line of its own, as every input error.
    let err = refused("transition[A].to.A=0.5..0.99");
    assert!(
        err.contains(
            "error: small.toml: `transition[A].to.A`: --vary names the stay probability of the row from `A`\n  fix: vary its moves"
        ),
        "{err}"
    );
    assert!(!dir.path().join("o").exists());
}

/// A number that cannot be calibrated is refused with a structured error: the file and key it is
/// in, or the option that asks for it, and the fix in its own field (never inside the problem's text).
#[test]
fn numbers_that_cannot_be_calibrated_are_refused_with_their_key_and_fix() {
    use wijksim::error::{Error, Opt};
    let sc = || wijksim::scenario::from_text("small.toml", &small()).unwrap();
    let new = |varies: Vec<Vary>, arm: Option<&str>| Problem::new(sc(), varies, arm, Vec::new());
    // The stay probability of a row, and a move of a row without one (whose clients who stay renew).
    let Err(Error::Input(e)) = new(vec![vary("transition[A].to.A", 0.5, 0.99)], None) else {
        panic!("the stay probability is an input error");
    };
    let e = e.first();
    assert_eq!(
        (e.file(), e.line(), e.key()),
        ("small.toml", None, "transition[A].to.A")
    );
    assert!(e.problem().options().eq([Opt::Vary]), "{e}");
    assert!(!e.problem().to_string().contains("fix"), "{e}");
    assert!(e.fix().to_string().starts_with("vary its moves"), "{e}");
    let renewing = small().replace(
        "to = { B = 0.95, A = 0.01, D = 0.04 }",
        "to = { renew = 0.95, A = 0.01, D = 0.04 }",
    );
    let renewing = wijksim::scenario::from_text("small.toml", &renewing).unwrap();
    let Err(Error::Input(e)) = Problem::new(
        renewing,
        vec![vary("transition[B].to.D", 0.01, 0.05)],
        None,
        Vec::new(),
    ) else {
        panic!("a move of a row without a stay probability is an input error");
    };
    let e = e.first();
    assert_eq!(e.key(), "transition[B].to.D");
    assert!(
        e.problem().to_string().contains("no stay probability"),
        "{e}"
    );
    assert!(e.fix().to_string().contains("hazard_ratio"), "{e}");
    // An arm the scenario does not have, and too many numbers: the option named, the fix apart.
    let Err(Error::Options(f)) = new(vec![vary("transition[A].to.B", 0.01, 0.1)], Some("x")) else {
        panic!("an unknown arm is an options error");
    };
    assert_eq!(f.what().to_string(), "the scenario has no arm `x`");
    assert_eq!(
        f.fix().to_string(),
        "name one of its arms with `arm`: baseline"
    );
    let many = (0..21)
        .map(|i| vary(&format!("transition[A].to.B{i}"), 0.0, 1.0))
        .collect();
    let Err(Error::Options(f)) = new(many, None) else {
        panic!("too many numbers is an options error");
    };
    assert!(f.what().options().eq([Opt::Vary]), "{f}");
    assert_eq!(f.fix().to_string(), "calibrate fewer numbers at once");
}

/// The fixes of a refused `--vary` give examples the scenario at hand has: in Sick-Sicker (states H,
/// S1, S2, D; no inflow, no dorpsbudget) varying a stay probability suggests a move of that very row,
/// never the Wmo's `UIT`, and a key the scenario lacks is answered with keys it has. Every example key
/// in a fix names a number of the scenario.
#[test]
fn a_refused_vary_suggests_keys_the_scenario_has() {
    use wijksim::error::Error;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let load = |name: &str| wijksim::scenario::load(&root.join("scenarios").join(name)).unwrap();
    let refused = |name: &str, key: &str| -> (String, String) {
        match Problem::new(load(name), vec![vary(key, 0.01, 0.02)], None, Vec::new()) {
            Err(Error::Input(e)) => (e.first().problem().to_string(), e.first().fix().to_string()),
            Err(Error::Options(f)) => (f.what().to_string(), f.fix().to_string()),
            other => panic!("{key} in {name} is refused: {other:?}"),
        }
    };
    // The example key paths of a fix (`transition[...].to.X`, `inflow...`, `regime[...]...`), each
    // a number of the scenario.
    let examples_resolve = |name: &str, fix: &str| {
        let text = std::fs::read_to_string(root.join("scenarios").join(name)).unwrap();
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        let keys: Vec<&str> = fix
            .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == ';')
            .filter(|w| {
                ["transition[", "inflow.", "regime["]
                    .iter()
                    .any(|p| w.starts_with(p))
            })
            .collect();
        assert!(!keys.is_empty(), "the fix gives an example: {fix}");
        for k in keys {
            let path = KeyPath::parse(k).unwrap();
            assert!(
                wijksim::sweep::keypath::inspect(&mut doc, &path).is_ok_and(|(_, x)| x.is_some()),
                "`{k}` of the fix is no number of {name}: {fix}"
            );
        }
    };
    let model = load("sick_sicker.toml").model;
    let codes: Vec<&str> = model.states.iter().map(|s| s.code.as_str()).collect();
    // The stay probability of S1: a move of the S1 row (to H, S2 or D), not UIT.
    let (problem, fix) = refused("sick_sicker.toml", "transition[S1].to.S1");
    assert!(problem.contains("stay probability"), "{problem}");
    assert!(!fix.contains("UIT"), "Sick-Sicker has no state UIT: {fix}");
    let moved = fix
        .split("transition[S1].to.")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("the fix names a move of the row from S1: {fix}"));
    assert!(
        codes.contains(&moved) && moved != "S1",
        "`{moved}` is a state of Sick-Sicker the row from S1 moves to: {fix}"
    );
    examples_resolve("sick_sicker.toml", &fix);
    // A key the scenario does not have: examples of its own, not the Wmo's.
    let (_, fix) = refused("sick_sicker.toml", "inflow.per_1000_per_year");
    for wmo in ["UIT", "inflow", "dorpsbudget"] {
        assert!(!fix.contains(wmo), "Sick-Sicker has no `{wmo}`: {fix}");
    }
    examples_resolve("sick_sicker.toml", &fix);
    // The default Wmo scenario still gets its inflow and the dorpsbudget as examples.
    let (_, fix) = refused("oosterschelde.toml", "transition[BT].to.NOPE");
    assert!(
        fix.contains("inflow.per_1000_per_year") && fix.contains("regime[dorpsbudget].prevention"),
        "{fix}"
    );
    examples_resolve("oosterschelde.toml", &fix);
}

/// A calibrated move in a transition row carries its posterior through the row's Dirichlet: the
/// written concentration gives the move the posterior's sd, and PSA draws the row from it.
#[test]
fn a_posterior_for_a_move_is_carried_by_its_rows_concentration() {
    let dir = tempfile::tempdir().unwrap();
    let run = posterior_setup(dir.path(), "transition[A].to.B", (0.0, 0.2), 0.045);
    let post = run("cal");
    let text = std::fs::read_to_string(dir.path().join("cal/calibrated.toml")).unwrap();
    assert!(
        text.contains("carried by the row's concentration"),
        "{text}"
    );
    let back = wijksim::scenario::from_text("c.toml", &text).unwrap();
    assert!(back.model.uncertain, "PSA draws the calibrated row");
    // The posterior sample's mean and sd of the move, against the row's Beta marginal.
    let header: Vec<&str> = post.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| h.contains("transition[A].to.B"))
        .expect("a column for the move");
    let xs: Vec<f64> = post
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let row = doc["transition"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["from"].as_str() == Some("A"))
        .unwrap();
    let c = row["concentration"].as_float().unwrap();
    let m = row["to"]["B"].as_float().unwrap();
    assert!(
        (m - mean).abs() < 1e-3 * mean.max(1e-9) + 1e-6,
        "{m} vs {mean}"
    );
    let implied = (m * (1.0 - m) / (c + 1.0)).sqrt();
    assert!(
        (implied - sd).abs() < 0.02 * sd,
        "the row's Beta sd {implied} vs the posterior's {sd}"
    );
}

/// The calibration figure speaks the language asked for: Dutch by default, English with --lang en.
#[test]
fn the_calibration_figure_is_in_dutch_or_english() {
    let dir = tempfile::tempdir().unwrap();
    let run = posterior_setup(dir.path(), "inflow.per_1000_per_year", (1.0, 12.0), 8.0);
    run("nl");
    let svg = std::fs::read_to_string(dir.path().join("nl/plots/calibration.svg")).unwrap();
    assert!(
        svg.contains("gepubliceerde waarde (doel)") && svg.contains("doelen, chi²"),
        "Dutch labels"
    );
    assert!(
        !svg.contains("published value"),
        "no English in the Dutch figure"
    );
    wijksim()
        .current_dir(dir.path())
        .args([
            "calibrate",
            "small.toml",
            "--targets",
            "targets.csv",
            "--vary",
            "inflow.per_1000_per_year=1..12",
            "--out",
            "en",
            "--lang",
            "en",
        ])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.path().join("en/plots/calibration.svg")).unwrap();
    assert!(
        svg.contains("published value (target)") && svg.contains("targets, chi²"),
        "English labels"
    );
    let manifest = std::fs::read_to_string(dir.path().join("en/manifest.json")).unwrap();
    assert!(
        manifest.contains("--lang en"),
        "the reproduce command keeps the language"
    );
}
