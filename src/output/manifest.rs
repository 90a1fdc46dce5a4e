//! `manifest.json`: what produced an output folder, so that a result can be traced and reproduced.

use serde::{Deserialize, Serialize};

/// The manifest of an output folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// wijksim version.
    pub wijksim_version: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Scenario path as given (or the built-in name).
    pub scenario_path: String,
    /// SHA-256 of the scenario file.
    pub scenario_sha256: String,
    /// `monte_carlo` or `cohort` (expected values).
    pub engine: String,
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
    /// Start of the run, UTC, RFC 3339.
    pub started_utc: String,
    /// Wall time in seconds.
    pub wall_time_seconds: f64,
    /// Client-cycles simulated.
    pub client_cycles: u64,
    /// The command to reproduce the output.
    pub reproduce: String,
    /// Files in the folder.
    pub files: Vec<String>,
    /// Warnings about the results.
    pub warnings: Vec<String>,
}

fn dutch() -> String {
    "nl".into()
}

impl Manifest {
    /// Pretty JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        v.push(b'\n');
        v
    }
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
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc(1_795_482_123), "2026-11-24T01:02:03Z");
    }
}
