//! `manifest.json`: what produced an output folder, so that a result can be traced and reproduced.
//!
//! Every folder wijksim writes (a run, a sweep, a calibration) has one. They share their
//! [`Provenance`] (which wijksim, which scenario, when, and the command that reproduces the folder),
//! written first, and are written by one writer, [`to_json`]; the rest is the command's own.

use serde::{Deserialize, Serialize};

/// What every manifest says first: which wijksim and which scenario produced the folder, when, and
/// the command that reproduces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// wijksim version.
    pub wijksim_version: String,
    /// Scenario name (empty in sweep folders written before it was recorded).
    #[serde(default)]
    pub scenario_name: String,
    /// Scenario path as given (or the built-in name).
    pub scenario_path: String,
    /// SHA-256 of the scenario file.
    pub scenario_sha256: String,
    /// Start, UTC, RFC 3339 (of a sweep: its first invocation).
    pub started_utc: String,
    /// Wall time in seconds (of a sweep: its invocations so far).
    pub wall_time_seconds: f64,
    /// The command that reproduces the folder (of a sweep: runs or resumes it).
    pub reproduce: String,
}

impl Provenance {
    /// Sets the wall time to `seconds`, rounded to milliseconds.
    pub fn set_wall_time(&mut self, seconds: f64) {
        self.wall_time_seconds = (seconds * 1000.0).round() / 1000.0;
    }
}

/// The manifest of a run's output folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Which wijksim and scenario, when, and how to reproduce.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// `monte_carlo` or `cohort` (expected values).
    pub engine: crate::engine::Engine,
    /// Whether uncertain parameters were drawn per run (probabilistic sensitivity analysis).
    pub psa: bool,
    /// Language of the run's `report.html` and `plots/` (`nl` or `en`; `nl` in folders written before
    /// it was recorded). `wijksim report` in another language writes `report.<lang>.html` and
    /// `plots.<lang>/` beside them.
    #[serde(default = "dutch")]
    pub lang: String,
    /// Master seed.
    pub seed: u64,
    /// Runs (0 for the cohort engine).
    pub runs: u32,
    /// Worker threads.
    pub threads: usize,
    /// Client-cycles simulated.
    pub client_cycles: u64,
    /// Files in the folder.
    pub files: Vec<String>,
    /// Warnings about the results.
    pub warnings: Vec<String>,
}

fn dutch() -> String {
    "nl".into()
}

/// The bytes of `manifest.json`: pretty JSON and a final newline. The one writer of every manifest.
pub fn to_json<M: Serialize>(manifest: &M) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    v.push(b'\n');
    v
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's manifest as wijksim wrote it before the provenance came first.
    const EARLIER: &str = r#"{
  "wijksim_version": "0.1.0",
  "scenario_name": "oosterschelde",
  "scenario_path": "scenarios/oosterschelde.toml",
  "scenario_sha256": "e53b",
  "engine": "cohort",
  "psa": false,
  "seed": 7,
  "runs": 0,
  "threads": 2,
  "started_utc": "2026-11-24T01:02:03Z",
  "wall_time_seconds": 0.25,
  "client_cycles": 0,
  "reproduce": "wijksim run scenarios/oosterschelde.toml --engine cohort",
  "files": ["caseload.csv"],
  "warnings": []
}"#;

    #[test]
    fn a_run_manifest_writes_its_provenance_first_and_reads_earlier_ones() {
        let m: Manifest = serde_json::from_str(EARLIER).unwrap();
        assert_eq!(m.engine, crate::engine::Engine::Cohort);
        assert_eq!(
            m.lang, "nl",
            "a folder from before `lang` was recorded is Dutch"
        );
        assert_eq!(m.provenance.scenario_sha256, "e53b");
        assert_eq!(m.provenance.wall_time_seconds, 0.25);
        let text = String::from_utf8(to_json(&m)).unwrap();
        assert!(text.ends_with("}\n"));
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \""))
            .map(|l| l[3..].split('"').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "wijksim_version",
                "scenario_name",
                "scenario_path",
                "scenario_sha256",
                "started_utc",
                "wall_time_seconds",
                "reproduce",
                "engine",
                "psa",
                "lang",
                "seed",
                "runs",
                "threads",
                "client_cycles",
                "files",
                "warnings"
            ]
        );
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back.provenance, m.provenance);
        assert_eq!(to_json(&back), to_json(&m));
    }

    #[test]
    fn wall_time_is_kept_to_the_millisecond() {
        let mut p: Provenance = serde_json::from_str::<Manifest>(EARLIER)
            .unwrap()
            .provenance;
        p.set_wall_time(1.234_56);
        assert_eq!(p.wall_time_seconds, 1.235);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc(1_795_482_123), "2026-11-24T01:02:03Z");
    }
}
