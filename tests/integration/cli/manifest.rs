//! `manifest.json`: every folder wijksim writes (a run, a sweep, a calibration) says first, and in the
//! same words, which wijksim and scenario produced it, when, and the command that reproduces it.

use super::wijksim;
use std::fs;
use std::path::Path;

/// The shared provenance, in the order every manifest writes it first.
const PROVENANCE: [&str; 7] = [
    "wijksim_version",
    "scenario_name",
    "scenario_path",
    "scenario_sha256",
    "started_utc",
    "wall_time_seconds",
    "reproduce",
];

fn scenario() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/oosterschelde.toml").to_string()
}

/// The top-level keys of a manifest in the order written, and the manifest.
fn keys(dir: &Path) -> (Vec<String>, serde_json::Value) {
    let text = fs::read_to_string(dir.join("manifest.json")).unwrap();
    let keys = text
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l[3..].split('"').next().unwrap().to_string())
        .collect();
    (keys, serde_json::from_str(&text).unwrap())
}

#[test]
fn run_sweep_and_calibration_manifests_share_their_provenance_and_an_older_sweep_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (run, sweep, cal) = (
        dir.path().join("run"),
        dir.path().join("sweep"),
        dir.path().join("cal"),
    );
    wijksim()
        .args([
            "run",
            &scenario(),
            "--runs",
            "2",
            "--plots",
            "none",
            "--quiet",
        ])
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let file = dir.path().join("s.toml");
    fs::write(
        &file,
        format!(
            "[sweep]\nname = \"s\"\nscenario = \"{}\"\nruns = 2\ndesign = \"one_way\"\n\n\
             [[parameter]]\nkey = \"regime[dorpsbudget].prevention\"\nlow = 0.0\nhigh = 0.2\n",
            scenario()
        ),
    )
    .unwrap();
    // A sweep stopped after one point by a wijksim that did not yet record the scenario's name
    // resumes: the name is added, nothing else is asked of the older manifest.
    wijksim()
        .arg("sweep")
        .arg(&file)
        .args(["--max-points", "1", "--quiet", "--out"])
        .arg(&sweep)
        .assert()
        .success();
    let path = sweep.join("manifest.json");
    let text = fs::read_to_string(&path).unwrap();
    let older: String = text
        .lines()
        .filter(|l| !l.starts_with("  \"scenario_name\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(older, text);
    fs::write(&path, older).unwrap();
    wijksim()
        .arg("sweep")
        .arg(&file)
        .args(["--resume", "--quiet", "--out"])
        .arg(&sweep)
        .assert()
        .success();
    assert_eq!(keys(&sweep).1["complete"], true);
    wijksim()
        .args(["calibrate", &scenario(), "--targets"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/targets_example.csv"
        ))
        .args(["--vary", "inflow.per_1000_per_year=1..6", "--out"])
        .arg(&cal)
        .assert()
        .success();
    let sha = wijksim::scenario::sha256_hex(&fs::read(scenario()).unwrap());
    for (folder, own) in [
        (&run, "engine"),
        (&sweep, "sweep_sha256"),
        (&cal, "targets_sha256"),
    ] {
        let (keys, m) = keys(folder);
        assert_eq!(keys[..7], PROVENANCE, "{}", folder.display());
        assert!(
            keys.iter().any(|k| k == own),
            "{}: {keys:?}",
            folder.display()
        );
        assert_eq!(m["wijksim_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(m["scenario_name"], "oosterschelde");
        assert_eq!(m["scenario_path"], scenario());
        assert_eq!(m["scenario_sha256"], sha.as_str());
        let started = m["started_utc"].as_str().unwrap();
        assert!(
            started.len() == 20 && started.ends_with('Z') && &started[10..11] == "T",
            "{started}"
        );
        assert!(m["wall_time_seconds"].as_f64().unwrap() >= 0.0);
        assert!(
            m["reproduce"].as_str().unwrap().starts_with("wijksim "),
            "{}",
            m["reproduce"]
        );
    }
    assert_eq!(keys(&run).1["engine"], "monte_carlo");
}
