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

/// Every sheet of a workbook: its name and cells.
fn sheets(path: &Path) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            (n, range.rows().map(<[calamine::Data]>::to_vec).collect())
        })
        .collect()
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
    // Every other file is what a run with figures writes, byte for byte (the manifest differs in its
    // list of files and its times, the report in its figures).
    let with = dir.path().join("with");
    run_into(&with, &[]).success();
    let mut compared = 0;
    for e in fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name == "manifest.json" || name == "report.html" {
            continue;
        }
        if name == "results.xlsx" {
            // Dated by the run's start: the same sheets, cell for cell.
            assert_eq!(sheets(&out.join(&name)), sheets(&with.join(&name)));
            compared += 1;
            continue;
        }
        assert!(
            fs::read(out.join(&name)).unwrap() == fs::read(with.join(&name)).unwrap(),
            "{name} differs with and without figures"
        );
        compared += 1;
    }
    assert!(compared >= 12, "the tables, the scenario and the workbook");
    assert!(with.join("plots").is_dir());
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

#[test]
fn every_count_option_refuses_negative_numbers_with_a_proper_message() {
    // Regression: only --runs, --seed and --threads had a message; the others got clap's tip
    // "to pass '-3' as a value, use '-- -3'".
    let sweep = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/sweep_grid.toml");
    let targets = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/targets_example.csv");
    for (args, want) in [
        (
            vec!["sweep", sweep, "--max-points", "-3"],
            "--max-points is a whole number of points, at least 1",
        ),
        (
            vec!["sweep", sweep, "--emit-slurm", "--shards", "-2"],
            "--shards is a whole number of shards, at least 1",
        ),
        (
            vec!["sweep", sweep, "--emit-slurm", "--slurm-cpus", "0"],
            "--slurm-cpus is a whole number of CPUs, at least 1",
        ),
        (
            vec![
                "calibrate",
                "--targets",
                targets,
                "--vary",
                "inflow.per_1000_per_year=1..6",
                "--out",
                "never",
                "--posterior",
                "-1",
            ],
            "--posterior is a whole number of draws, at least 1",
        ),
        (
            vec!["run", "--overspend-risk", "-0.1"],
            "is not a chance between 0 and 1",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let a = wijksim()
            .current_dir(dir.path())
            .args(&args)
            .assert()
            .code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains(want) && !err.contains("tip:"),
            "{args:?}: {err}"
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }
}

/// Every `1 <noun>s` in `text` (a count of one with a plural noun), e.g. `1 areas`.
fn singular_mistakes(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| {
            let n = w[0].trim_start_matches(['(', '[']);
            let noun: String = w[1].chars().take_while(|c| c.is_alphabetic()).collect();
            n == "1" && noun.len() > 2 && noun.ends_with('s') && !noun.ends_with("ss")
        })
        .map(|w| w.join(" "))
        .collect()
}

#[test]
fn counts_of_one_take_the_singular() {
    // Regression: "1 areas", "1 regimes", "1 runs", "1 threads" in the console.
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/two_state.toml");
    let sweep = dir.path().join("one.toml");
    fs::write(
        &sweep,
        format!(
            "[sweep]\nscenario = \"{fixture}\"\ndesign = \"grid\"\nruns = 1\n\n[[parameter]]\nkey = \"transition[A].to.D\"\nvalues = [0.1]\n"
        ),
    )
    .unwrap();
    let hiv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/hiv_combination.toml"
    );
    let mut seen = String::new();
    for args in [
        vec!["check", fixture, hiv],
        vec!["check", sweep.to_str().unwrap()],
        vec![
            "run",
            fixture,
            "--runs",
            "1",
            "--threads",
            "1",
            "--out",
            "r",
        ],
        vec![
            "sweep",
            sweep.to_str().unwrap(),
            "--out",
            "s",
            "--threads",
            "1",
        ],
    ] {
        let a = wijksim()
            .current_dir(dir.path())
            .args(&args)
            .assert()
            .success();
        let out = a.get_output();
        let text = String::from_utf8(out.stdout.clone()).unwrap()
            + &String::from_utf8(out.stderr.clone()).unwrap();
        assert!(
            singular_mistakes(&text).is_empty(),
            "{args:?}: {:?}\n{text}",
            singular_mistakes(&text)
        );
        seen.push_str(&text);
    }
    for want in [
        "1 area,",
        "1 regime,",
        "1 run, seed 1, 1 thread,",
        "1 parameter, 1 point, 1 run per point",
        "1 of 1 point done",
    ] {
        assert!(seen.contains(want), "`{want}` in:\n{seen}");
    }
    assert_eq!(singular_mistakes("1 areas, 2 runs, 1 pass"), ["1 areas,"]);
}

/// Whether `field` is a plain number as every locale's CSV import reads it with a dot decimal: an
/// optional minus, digits, and optionally a dot and digits (no thousands separators, no exponent).
fn plain_number(field: &str) -> bool {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn every_csv_opens_cleanly_in_a_dutch_locale_spreadsheet() {
    // A village whose name holds a comma, a quote and an accent, to see the quoting.
    let name = "Kats, \"oud\" – Zuid-Beveland é";
    let text = super::default_text().replace(
        "name = \"Kats\"",
        &format!("name = \"{}\"", name.replace('"', "\\\"")),
    );
    assert!(text.contains("Zuid-Beveland é"), "the default names Kats");
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    fs::write(&scenario, text).unwrap();
    let out = dir.path().join("o");
    run_into(
        &out,
        &[
            scenario.to_str().unwrap(),
            "--plots",
            "none",
            "--histories",
            "1",
        ],
    )
    .success();
    let mut files = 0;
    for e in fs::read_dir(&out).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "csv") {
            continue;
        }
        files += 1;
        let name_of = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(&path).unwrap();
        assert!(
            !bytes.starts_with(b"\xEF\xBB\xBF"),
            "{name_of}: no byte order mark"
        );
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert!(
            !text.contains('\r') && text.ends_with('\n'),
            "{name_of}: \\n line ends"
        );
        let header = text.lines().next().unwrap();
        assert!(
            !header.contains([';', '\t', ' ', '"']),
            "{name_of}: a plain comma-separated header: {header}"
        );
        // A comma between fields, the same number on every line; a field that holds a comma or a
        // quote is quoted with the quote doubled, and only such a field.
        let mut rd = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let columns = rd.headers().unwrap().len();
        let mut numbers = 0;
        for rec in rd.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{name_of}: {e}"));
            assert_eq!(rec.len(), columns, "{name_of}");
            for field in &rec {
                assert!(
                    field == name || field.trim() == field,
                    "{name_of}: spaces around `{field}`"
                );
                if field.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                    && field.chars().any(|c| c.is_ascii_digit())
                    && !field.contains(['>', ' '])
                    && !(field.len() >= 7 && field.as_bytes()[4] == b'-')
                {
                    assert!(
                        plain_number(field),
                        "{name_of}: `{field}` is not a plain number with a dot decimal"
                    );
                    numbers += 1;
                }
                assert!(
                    !field.contains(['\n', '\r']),
                    "{name_of}: a line break in a field"
                );
            }
        }
        assert!(
            numbers > 0 || name_of == "histories.csv",
            "{name_of} has numbers"
        );
    }
    assert!(files >= 12, "every table: {files}");
    // The village's name, quoted as RFC 4180 says, wherever it is a field.
    let quoted = "\"Kats, \"\"oud\"\" – Zuid-Beveland é\"";
    for f in ["caseload.csv", "costs.csv", "runs.csv", "histories.csv"] {
        let text = fs::read_to_string(out.join(f)).unwrap();
        assert!(text.contains(&format!(",{quoted},")), "{f} quotes the name");
    }
    assert!(plain_number("-1234.50") && plain_number("7") && !plain_number("1,234.5"));
    assert!(!plain_number("1.2e5") && !plain_number("12,5") && !plain_number("1.234.567"));
}

/// The text between `open` (the end of a start tag's name, e.g. `<c `) and `close` in `xml`, each.
fn elements<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    xml.split(open)
        .skip(1)
        .map(|e| e.split(close).next().unwrap())
        .collect()
}

/// The value of attribute `name` in an element's text.
fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let at = if element.starts_with(&key) {
        key.len()
    } else {
        element.find(&format!(" {key}"))? + key.len() + 1
    };
    element[at..].split('"').next()
}

/// A workbook's sheets as read from its XML: per sheet, its name, its autofilter's range, the width
/// of each column, and per column (by header) the number formats of its numeric cells, each with the
/// row's text fields (by header), for the caller to tell rows apart.
struct Sheet {
    name: String,
    autofilter: String,
    rows: usize,
    widths: Vec<f64>,
    header: Vec<String>,
    /// `(row's fields by column, column, format code)` of every numeric cell.
    cells: Vec<(Vec<String>, usize, String)>,
}

fn workbook_xml(path: &Path) -> Vec<Sheet> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut part = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    };
    let styles = part("xl/styles.xml");
    let formats: Vec<(String, String)> = elements(&styles, "<numFmt ", "/>")
        .iter()
        .map(|e| {
            (
                attribute(e, "numFmtId").unwrap().to_string(),
                unescape(attribute(e, "formatCode").unwrap()),
            )
        })
        .collect();
    let xfs = styles.split("<cellXfs").nth(1).unwrap();
    let style_format: Vec<String> = elements(xfs.split("</cellXfs>").next().unwrap(), "<xf ", ">")
        .iter()
        .map(|e| {
            let id = attribute(e, "numFmtId").unwrap();
            formats
                .iter()
                .find(|(i, _)| i == id)
                .map_or(format!("builtin {id}"), |(_, f)| f.clone())
        })
        .collect();
    let shared: Vec<String> = elements(&part("xl/sharedStrings.xml"), "<si>", "</si>")
        .iter()
        .map(|si| unescape(si.split('>').nth(1).unwrap().split("</t").next().unwrap()))
        .collect();
    let book = part("xl/workbook.xml");
    let names: Vec<String> = elements(&book, "<sheet ", "/>")
        .iter()
        .map(|e| attribute(e, "name").unwrap().to_string())
        .collect();
    let column = |r: &str| {
        r.chars()
            .take_while(char::is_ascii_alphabetic)
            .fold(0usize, |n, c| n * 26 + (c as usize - 'A' as usize + 1))
            - 1
    };
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let xml = part(&format!("xl/worksheets/sheet{}.xml", i + 1));
            let autofilter = elements(&xml, "<autoFilter ", "/>")
                .first()
                .and_then(|e| attribute(e, "ref"))
                .unwrap_or("")
                .to_string();
            let mut widths = Vec::new();
            for c in elements(&xml, "<col ", "/>") {
                let (lo, hi): (usize, usize) = (
                    attribute(c, "min").unwrap().parse().unwrap(),
                    attribute(c, "max").unwrap().parse().unwrap(),
                );
                let w: f64 = attribute(c, "width").unwrap().parse().unwrap();
                widths.resize(hi, 0.0);
                widths[lo - 1..hi].fill(w);
            }
            let mut header = Vec::new();
            let mut cells = Vec::new();
            let rows = elements(&xml, "<row ", "</row>");
            for (r, row) in rows.iter().enumerate() {
                let mut text = Vec::new();
                let mut numbers = Vec::new();
                for c in elements(row, "<c ", "</c>") {
                    let at = column(attribute(c, "r").unwrap());
                    let value = c
                        .split("<v>")
                        .nth(1)
                        .map(|v| v.split("</v>").next().unwrap());
                    if text.len() <= at {
                        text.resize(at + 1, String::new());
                    }
                    if attribute(c, "t") == Some("s") {
                        text[at] = shared[value.unwrap().parse::<usize>().unwrap()].clone();
                    } else if value.is_some() {
                        let s: usize = attribute(c, "s").map_or(0, |s| s.parse().unwrap());
                        numbers.push((at, style_format[s].clone()));
                    }
                }
                if r == 0 {
                    header = text;
                } else {
                    for (at, f) in numbers {
                        cells.push((text.clone(), at, f));
                    }
                }
            }
            Sheet {
                name,
                autofilter,
                rows: rows.len(),
                widths,
                header,
                cells,
            }
        })
        .collect()
}

/// Picks rows by their fields (a field's text by its column's name).
type Pick = dyn Fn(&dyn Fn(&str) -> String) -> bool;

#[test]
fn the_workbook_formats_each_number_by_what_it_measures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--plots", "none"]).success();
    let sheets = workbook_xml(&out.join("results.xlsx"));
    assert_eq!(sheets.len(), 9);
    for sh in &sheets {
        // An autofilter over the whole table, and every column at least as wide as its header.
        let last = (b'A' + (sh.header.len() - 1) as u8) as char;
        assert_eq!(
            sh.autofilter,
            format!("A1:{last}{}", sh.rows),
            "{}",
            sh.name
        );
        for (c, h) in sh.header.iter().enumerate() {
            assert!(sh.widths[c] >= h.len() as f64 + 1.0, "{}: {h}", sh.name);
        }
        assert!(!sh.cells.is_empty(), "{} has numbers", sh.name);
    }
    let sheet = |name: &str| sheets.iter().find(|s| s.name == name).unwrap();
    // The formats of column `col` in sheet `name`, over the rows `pick` accepts (by their fields).
    let formats = |name: &str, col: &str, pick: &Pick| {
        let sh = sheet(name);
        let c = sh.header.iter().position(|h| h == col).unwrap();
        let mut set: Vec<String> = sh
            .cells
            .iter()
            .filter(|(text, at, _)| {
                *at == c
                    && pick(&|h: &str| {
                        let i = sh.header.iter().position(|x| x == h).unwrap();
                        text.get(i).cloned().unwrap_or_default()
                    })
            })
            .map(|(_, _, f)| f.clone())
            .collect();
        set.sort();
        set.dedup();
        set
    };
    let all = |_: &dyn Fn(&str) -> String| true;
    let euros = ["€ #,##0.00"];
    for (sheet, col, want) in [
        ("caseload", "cycle", vec!["0"]),
        ("caseload", "mean", vec!["#,##0.0"]),
        ("caseload", "mcse", vec!["#,##0.0000"]),
        ("costs", "year", vec!["0"]),
        ("costs", "p95", euros.to_vec()),
        ("costs", "mcse", vec!["€ #,##0.000"]),
        ("accounts", "mean", euros.to_vec()),
        ("budget_sizing", "budget_needed", euros.to_vec()),
        ("budget_sizing", "overspend_risk", vec!["0.0%"]),
        ("budget_sizing", "above_expected", vec!["0.0%"]),
        ("kpis", "p_met", vec!["0.0%"]),
        ("evaluations", "mean", vec!["#,##0.0"]),
        ("differences", "p_lower", vec!["0.0%"]),
    ] {
        assert_eq!(formats(sheet, col, &all), want, "{sheet}.{col}");
    }
    // By the row's measure: a probability is a percentage, a KPI's difference shows its points.
    let measure = |m: &'static str| move |f: &dyn Fn(&str) -> String| f("measure") == m;
    assert_eq!(formats("budget", "mean", &measure("overspent")), ["0.0%"]);
    assert_eq!(formats("budget", "mean", &measure("top_up")), euros);
    assert_eq!(formats("differences", "mean", &measure("care_cost")), euros);
    assert_eq!(
        formats("differences", "mean", &measure("caseload")),
        ["#,##0.0"]
    );
    let share_kpi =
        |f: &dyn Fn(&str) -> String| f("measure") == "kpi" && f("item") == "alleen_waakvlam";
    assert_eq!(formats("differences", "mean", &share_kpi), ["0.00%"]);
    let count_kpi =
        |f: &dyn Fn(&str) -> String| f("measure") == "kpi" && f("item") == "clienten_waakvlam";
    assert_eq!(formats("differences", "mean", &count_kpi), ["#,##0.0"]);
    // KPIs: a share as a percentage (its mcse with the CSV's digits), a count of clients as a number.
    let kpi = |k: &'static str| move |f: &dyn Fn(&str) -> String| f("kpi") == k;
    assert_eq!(formats("kpis", "mean", &kpi("alleen_waakvlam")), ["0.0%"]);
    assert_eq!(formats("kpis", "target", &kpi("alleen_waakvlam")), ["0.0%"]);
    assert_eq!(formats("kpis", "mcse", &kpi("alleen_waakvlam")), ["0.000%"]);
    assert_eq!(
        formats("kpis", "mean", &kpi("clienten_waakvlam")),
        ["#,##0.0"]
    );
    assert_eq!(
        formats("kpis", "target", &kpi("clienten_waakvlam")),
        ["#,##0.0"]
    );
    // Summary: clients, euros and outcomes each in their own format.
    assert_eq!(formats("summary", "mean", &measure("clients")), ["#,##0.0"]);
    assert_eq!(
        formats("summary", "mean", &measure("cost_per_client")),
        euros
    );
    assert_eq!(
        formats("summary", "mean", &measure("incremental_cost")),
        euros
    );
    assert_eq!(
        formats("summary", "mean", &measure("outcome_per_client")),
        ["#,##0.000000"]
    );
    assert_eq!(
        formats("summary", "mcse", &measure("incremental_outcome")),
        ["#,##0.0000000"]
    );
}

/// Decimals of a number as written (`None` for an empty field).
fn decimals_of(field: &str) -> Option<usize> {
    (!field.is_empty()).then(|| field.split_once('.').map_or(0, |(_, d)| d.len()))
}

#[test]
fn the_tables_follow_the_precision_rule_the_readme_states() {
    // The rule, as the README states it; the files below must follow it.
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        readme.contains("euros 2, numbers of clients (caseload, flows, evaluations) 3, shares and probabilities (KPI values, `p_met`, `p_lower`, `overspent`, risks) 4, outcomes")
            && readme.contains("6; an `mcse` has one decimal more than the column it is the error of")
            && readme.contains("except its KPI values, which are written in full"),
        "the README states the rule"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_into(&out, &["--plots", "none"]).success();
    const EUROS: usize = 2;
    const CLIENTS: usize = 3;
    const SHARES: usize = 4;
    const OUTCOMES: usize = 6;
    // Per file: the decimals of each statistic column, by the row (fields by column name).
    type Rule = dyn Fn(&dyn Fn(&str) -> String, &str) -> Option<usize>;
    let stat = |d: usize| {
        move |_: &dyn Fn(&str) -> String, col: &str| Some(if col == "mcse" { d + 1 } else { d })
    };
    let by_measure = |f: &dyn Fn(&str) -> String, col: &str| {
        let d = match f("measure").as_str() {
            "overspent" | "kpi" => SHARES,
            "caseload" | "clients" => CLIENTS,
            "outcome_per_client" | "incremental_outcome" => OUTCOMES,
            _ => EUROS,
        };
        Some(match col {
            "mcse" => d + 1,
            "p_lower" => SHARES,
            _ => d,
        })
    };
    let sizing = |_: &dyn Fn(&str) -> String, col: &str| {
        Some(match col {
            "overspend_risk" | "above_expected" => SHARES,
            _ => EUROS,
        })
    };
    let kpis = |_: &dyn Fn(&str) -> String, col: &str| Some(if col == "mcse" { 5 } else { SHARES });
    let runs = |_: &dyn Fn(&str) -> String, col: &str| {
        if col == "clients" {
            Some(CLIENTS)
        } else if col.starts_with("discounted_") && col != "discounted_cost" {
            Some(OUTCOMES)
        } else if col.contains("_cy") {
            None // KPI values in full
        } else {
            Some(EUROS)
        }
    };
    let files: [(&str, &[&str], &Rule); 11] = [
        ("caseload.csv", &["cycle"], &stat(CLIENTS)),
        ("flows.csv", &["year"], &stat(CLIENTS)),
        ("evaluations.csv", &["contract_year"], &stat(CLIENTS)),
        ("costs.csv", &["year"], &stat(EUROS)),
        ("accounts.csv", &["year"], &stat(EUROS)),
        ("budget.csv", &["year"], &by_measure),
        ("differences.csv", &["year"], &by_measure),
        ("summary.csv", &[], &by_measure),
        ("budget_sizing.csv", &["year"], &sizing),
        ("kpis.csv", &["contract_year"], &kpis),
        ("runs.csv", &["run"], &runs),
    ];
    for (file, whole, rule) in files {
        let text = fs::read_to_string(out.join(file)).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
        let mut checked = 0;
        for rec in rd.records() {
            let rec = rec.unwrap();
            let field = |name: &str| {
                let i = header.iter().position(|h| h == name).unwrap();
                rec[i].to_string()
            };
            for (c, value) in rec.iter().enumerate() {
                let col = header[c].as_str();
                if value.parse::<f64>().is_err() || value.is_empty() {
                    continue;
                }
                if whole.contains(&col) {
                    assert_eq!(decimals_of(value), Some(0), "{file}: {col} `{value}`");
                    continue;
                }
                if matches!(col, "year" | "contract_year") {
                    continue;
                }
                match rule(&field, col) {
                    Some(d) => assert_eq!(
                        decimals_of(value),
                        Some(d),
                        "{file}: {col} `{value}` in {:?}",
                        rec
                    ),
                    // In full: reads back as the same number.
                    None => assert_eq!(value.parse::<f64>().unwrap().to_string(), value),
                }
                checked += 1;
            }
        }
        assert!(checked > 0, "{file}");
    }
}
