//! `wijksim run`: output files, reproducibility, output folder safety.

use super::wijksim;
use std::fs;
use std::path::Path;

const CSVS: [&str; 3] = ["caseload.csv", "flows.csv", "costs.csv"];

fn run_into(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    wijksim()
        .args(["run", "--runs", "30", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

#[test]
fn no_arguments_runs_the_default_and_says_where_it_wrote_what() {
    let dir = tempfile::tempdir().unwrap();
    let out = wijksim()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Wrote output/oosterschelde/"), "{text}");
    for f in CSVS.iter().chain(&["manifest.json"]) {
        assert!(text.contains(f), "{text}");
        assert!(
            dir.path().join("output/oosterschelde").join(f).is_file(),
            "{f} missing"
        );
    }
    // A second run never overwrites the first: it goes into a fresh folder.
    let again = wijksim()
        .current_dir(dir.path())
        .args(["run", "--runs", "5"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(again)
            .unwrap()
            .contains("Wrote output/oosterschelde-2/")
    );
    let m: serde_json::Value = serde_json::from_slice(
        &fs::read(dir.path().join("output/oosterschelde/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["runs"], 1000, "the first run kept its own results");
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    run_into(&a, &["--threads", "1", "--seed", "77"]).success();
    run_into(&b, &["--threads", "2", "--seed", "77"]).success();
    for f in CSVS {
        let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
        assert!(x.len() > 1000, "{f} is nearly empty");
        assert!(x == y, "{f} differs between --threads 1 and --threads 2");
    }
    // The figures are drawn in parallel too: same names, same bytes.
    let figures = |d: &Path| {
        let mut names: Vec<String> = fs::read_dir(d.join("plots"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(figures(&a), figures(&b));
    assert!(figures(&a).len() > 20);
    for f in figures(&a) {
        let (x, y) = (
            fs::read(a.join("plots").join(&f)).unwrap(),
            fs::read(b.join("plots").join(&f)).unwrap(),
        );
        assert!(
            x == y,
            "plots/{f} differs between --threads 1 and --threads 2"
        );
    }
    // And another seed does change the results.
    let c = dir.path().join("t3");
    run_into(&c, &["--threads", "2", "--seed", "78"]).success();
    assert_ne!(
        fs::read(a.join("caseload.csv")).unwrap(),
        fs::read(c.join("caseload.csv")).unwrap()
    );
}

#[test]
fn csv_headers_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--seed", "3", "--threads", "2"]).success();
    let header = |f: &str| {
        fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        header("caseload.csv"),
        "arm,scope,scope_name,cycle,date,state,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("flows.csv"),
        "arm,scope,scope_name,year,flow,from,to,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("costs.csv"),
        "arm,scope,scope_name,year,line,kind,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("accounts.csv"),
        "arm,scope,scope_name,year,account,mean,sd,p05,p25,p50,p75,p95,mcse"
    );
    assert_eq!(
        header("kpis.csv"),
        "arm,scope,scope_name,contract_year,kpi,target,mean,p05,p50,p95,p_met,mcse"
    );
    assert_eq!(
        header("summary.csv"),
        "arm,scope,scope_name,measure,outcome,mean,mcse,p05,p50,p95"
    );
    assert!(
        header("runs.csv").starts_with("arm,run,scope,scope_name,care_cost_2021,"),
        "{}",
        header("runs.csv")
    );
    let caseload = fs::read_to_string(out.join("caseload.csv")).unwrap();
    // 2 arms x 15 scopes (the region, 7 municipalities, the pilot areas and their 6 villages) x 60
    // months x 7 states.
    assert_eq!(caseload.lines().count(), 1 + 2 * 15 * 60 * 7);
    assert!(
        caseload.contains("baseline,region,regio,0,2021-01,WV,")
            && caseload.contains("baseline,area,Kats,0,2021-01,WV,")
            && caseload.contains("baseline,pilot_areas,pilotgebieden,0,2021-01,WV,"),
        "{}",
        &caseload[..300]
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 3);
    assert_eq!(m["runs"], 30);
    assert_eq!(m["threads"], 2);
    assert_eq!(m["wijksim_version"], env!("CARGO_PKG_VERSION"));
    let text = super::default_text();
    assert_eq!(
        m["scenario_sha256"],
        wijksim::scenario::sha256_hex(text.as_bytes())
    );
    assert!(m["wall_time_seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn existing_results_are_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--seed", "1"]).success();
    let before = fs::read(out.join("caseload.csv")).unwrap();
    let err = run_into(&out, &["--seed", "2"])
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("already holds results") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        fs::read(out.join("caseload.csv")).unwrap(),
        before,
        "refused run changed the files"
    );
    run_into(&out, &["--seed", "2", "--force"]).success();
    assert_ne!(fs::read(out.join("caseload.csv")).unwrap(), before);
    // No staging folders are left behind.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unwritable_output_fails_before_simulating_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    fs::write(&blocker, "not a folder").unwrap();
    let out = blocker.join("o");
    let err = wijksim()
        .args(["run", "--runs", "100000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("could not write"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn zero_runs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let err = run_into(&out, &["--runs", "0"])
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(err).unwrap().contains("--runs"));
    assert!(!out.exists(), "no output folder for a failed run");
}

#[test]
fn plots_are_written_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--seed", "2", "--lang", "en"]).success();
    let plots = out.join("plots");
    // 12 fan charts (5 non-absorbing states and the waiting status x 2 arms), 2 stacked, cost per
    // year, paired cost difference and its histogram, the budget of Noord-Beveland's villages
    // (pooled), 7 KPIs (not the evaluations); for the pilot areas together 6 fan charts with both
    // arms, 2 stacked and the paired caseload difference; per village (6) a figure of its fan charts
    // and one of its stacked caseload: 46 figures, 2 formats each.
    assert_eq!(fs::read_dir(&plots).unwrap().count(), 92);
    for name in [
        "fan_baseline_WV",
        "fan_dorpsbudget_noord_beveland_BT",
        "stacked_baseline",
        "municipal_spend_per_year",
        "care_cost_difference_dorpsbudget_noord_beveland",
        "care_cost_difference_histogram_dorpsbudget_noord_beveland",
        "budget_dorpsbudget_noord_beveland_Noord-Beveland",
        "kpi_vrijwilligerswerk",
        "fan_pilot_areas_BTS",
        "fan_pilot_areas_BT",
        "fan_pilot_areas_WV",
        "fan_pilot_areas_SB",
        "fan_pilot_areas_VW",
        "fan_pilot_areas_WACHT",
        "stacked_pilot_areas_baseline",
        "stacked_pilot_areas_dorpsbudget_noord_beveland",
        "caseload_difference_pilot_areas_dorpsbudget_noord_beveland",
        "fan_area_Kamperland",
        "stacked_area_Kats",
    ] {
        let png = fs::read(plots.join(format!("{name}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is a PNG");
        assert!(png.len() > 20_000, "{name}.png has content");
        let svg = fs::read_to_string(plots.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<text"),
            "{name}.svg has text"
        );
    }
    let fan = fs::read_to_string(plots.join("fan_dorpsbudget_noord_beveland_WV.svg")).unwrap();
    assert!(fan.contains("pilot starts Jan 2022") && fan.contains("P5–P95 (90% interval)"));
    // The pilot areas' fan chart overlays both arms, named in its legend, and names its scope.
    let fan = fs::read_to_string(plots.join("fan_pilot_areas_WV.svg")).unwrap();
    assert!(
        fan.contains(">\nProvider model (baseline)\n<")
            && fan.contains(">\nVillage budget Noord-Beveland\n<")
            && fan.contains("line: median; band: P5–P95 (90% interval) over runs")
            && fan.contains("Pilot areas together")
            && fan.contains("pilot starts Jan 2022"),
        "both arms and the scope"
    );
    // Both stacked figures of the pilot areas on one scale: the same y-axis labels.
    let ticks = |name: &str| -> Vec<String> {
        let svg = fs::read_to_string(plots.join(format!("{name}.svg"))).unwrap();
        svg.split("<text")
            .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
            .map(|(t, _)| t.trim().to_string())
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == ','))
            .collect()
    };
    assert_eq!(
        ticks("stacked_pilot_areas_baseline"),
        ticks("stacked_pilot_areas_dorpsbudget_noord_beveland")
    );
    let diff = fs::read_to_string(
        plots.join("caseload_difference_pilot_areas_dorpsbudget_noord_beveland.svg"),
    )
    .unwrap();
    assert!(
        diff.contains(
            "Difference in clients: Village budget Noord-Beveland − Provider model (baseline)"
        ) && diff.contains("WACHT"),
        "the paired caseload difference by state"
    );
    let hist = fs::read_to_string(
        plots.join("care_cost_difference_histogram_dorpsbudget_noord_beveland.svg"),
    )
    .unwrap();
    assert!(
        hist.contains("P(lower care cost) = "),
        "the histogram states the probability"
    );
}

#[test]
fn the_workbook_holds_the_tables_with_numbers() {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--seed", "4"]).success();
    let bytes = fs::read(out.join("results.xlsx")).unwrap();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "caseload",
            "costs",
            "accounts",
            "budget",
            "budget_sizing",
            "kpis",
            "evaluations",
            "differences",
            "summary"
        ]
    );
    let costs = wb.worksheet_range("costs").unwrap();
    let csv = fs::read_to_string(out.join("costs.csv")).unwrap();
    assert_eq!(costs.height(), csv.lines().count(), "one row per CSV line");
    assert_eq!(costs.get((0, 0)), Some(&Data::String("arm".into())));
    // Row 1: baseline, the region, 2021, the first line; year and euros are numbers.
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(costs.get((1, 1)), Some(&Data::String("region".into())));
    assert_eq!(
        costs.get((1, 3)),
        Some(&Data::Float(first[3].parse().unwrap()))
    );
    assert_eq!(costs.get((1, 5)), Some(&Data::String(first[5].into())));
    assert_eq!(
        costs.get((1, 6)),
        Some(&Data::Float(first[6].parse().unwrap()))
    );
    let kpis = wb.worksheet_range("kpis").unwrap();
    assert!(matches!(kpis.get((1, 6)), Some(Data::Float(_))));
}

#[test]
fn plots_follow_the_language() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--seed", "2"]).success();
    let fan = fs::read_to_string(out.join("plots/fan_baseline_WV.svg")).unwrap();
    assert!(
        fan.contains("Cliënten WV (Waakvlam)")
            && fan.contains("mediaan")
            && fan.contains("jan 2021"),
        "Dutch labels, state and month names"
    );
    let cost = fs::read_to_string(out.join("plots/municipal_spend_per_year.svg")).unwrap();
    assert!(
        cost.contains("€ 12.") && cost.contains("Gemeentelijke uitgaven per jaar"),
        "Dutch number format"
    );
}

/// The default scenario with `pilots` copies of its pilot arm (`pilot_01`, `pilot_02`, ...).
fn many_arms(pilots: usize) -> String {
    let text = super::default_text();
    let cut = text.find("[[arm]]").expect("the default has arms");
    let mut out = format!("{}[[arm]]\nname = \"baseline\"\n", &text[..cut]);
    for i in 1..=pilots {
        out.push_str(&format!(
            "\n[[arm]]\nname = \"pilot_{i:02}\"\nassign = [{{ municipality = \"Noord-Beveland\", regime = \"dorpsbudget\", from = \"2022-01\" }}]\n"
        ));
    }
    out
}

fn figures_of(dir: &Path, prefix: &str) -> usize {
    fs::read_dir(dir.join("plots")).map_or(0, |d| {
        d.filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.starts_with(prefix) && name.ends_with(".png")
        })
        .count()
    })
}

#[test]
fn with_many_arms_the_figures_show_the_first_eight_and_the_tables_all() {
    // 1,000 arms took minutes of plotting (some 16 figures an arm, twice); figures of the baseline and
    // the first 7 pilots are drawn by default, the tables keep every arm, and the user is told.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("many.toml");
    fs::write(&scenario, many_arms(30)).unwrap();
    let out = dir.path().join("o");
    let stdout = wijksim()
        .args(["run", "--runs", "3", "--quiet", "--out"])
        .arg(&out)
        .arg(&scenario)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    let per_arm = |out: &Path| {
        figures_of(out, "stacked_")
            - figures_of(out, "stacked_pilot_areas_")
            - figures_of(out, "stacked_area_")
    };
    assert_eq!(per_arm(&out), 8, "baseline and 7 pilots");
    assert_eq!(
        figures_of(&out, "stacked_pilot_areas_"),
        8,
        "the pilot areas: baseline and 7 pilots"
    );
    assert_eq!(figures_of(&out, "caseload_difference_pilot_areas_"), 7);
    assert_eq!(figures_of(&out, "care_cost_difference_histogram_"), 7);
    assert!(out.join("plots/stacked_pilot_07.png").is_file());
    assert!(!out.join("plots/stacked_pilot_08.png").exists());
    assert!(
        stdout.contains("the first 7 of 30 pilot arms are shown here")
            && stdout.contains("--plots all"),
        "{stdout}"
    );
    assert!(!stdout.contains("pilot_08 vs baseline"), "{stdout}");
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.contains("pilot_30"), "every arm is in the tables");
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("Figuren voor 8 van de 31 varianten"),
        "the report says which arms it draws"
    );
    // `report --plots all` redraws the figures of every arm from the tables.
    wijksim()
        .args(["report", "--plots", "all"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(per_arm(&out), 31);
    assert_eq!(figures_of(&out, "stacked_pilot_areas_"), 31);
    // The pilot areas' fan charts overlay the first 8 arms only: more bands cannot be told apart.
    let fan = fs::read_to_string(out.join("plots/fan_pilot_areas_WV.svg")).unwrap();
    assert!(fan.contains(">\npilot 07\n<") && !fan.contains("pilot 08"));
    assert_eq!(
        figures_of(&out, "budget_pilot_30_"),
        1,
        "one pool of six villages"
    );
}

#[test]
fn plots_none_writes_the_tables_and_a_report_without_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--plots", "none"]).success();
    assert!(!out.join("plots").exists(), "no plots/ folder");
    for f in CSVS.iter().chain(&["results.xlsx", "report.html"]) {
        assert!(out.join(f).is_file(), "{f} is written");
    }
    let report = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("--plots none") && !report.contains("<svg"));
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        !m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("plots/")),
        "the manifest lists no figures"
    );
}

#[test]
fn negative_or_zero_counts_get_a_proper_message_not_a_clap_tip() {
    // Regression: `--runs -5` got clap's tip "to pass '-5' as a value, use '-- -5'".
    for (args, want) in [
        (
            ["--runs", "-5"],
            "the number of runs is a whole number of at least 1",
        ),
        (
            ["--runs", "0"],
            "the number of runs is a whole number of at least 1",
        ),
        (
            ["--seed", "-1"],
            "is not a seed; give a whole number from 0",
        ),
        (["--threads", "0"], "is not a number of threads"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let a = wijksim()
            .arg("run")
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains(want) && !err.contains("tip:"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "no output folder");
    }
}
