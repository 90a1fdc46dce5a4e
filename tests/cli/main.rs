//! Integration tests: the real `wijksim` binary, run as a user would, in temporary folders.
//! One test binary, one module per feature.

mod bounds;
mod calibrate;
mod check;
mod cohort;
mod engine;
mod examples;
mod figures;
mod fit;
mod fuzz;
mod golden;
mod histories;
mod library;
mod own_contribution;
mod packaging;
mod pilot;
mod pilot_period;
mod psa;
mod readme;
mod reassessment;
mod report;
mod rerender;
mod run;
mod safety;
mod scopes;
mod slurm;
mod sweep;

use assert_cmd::Command;

/// The `wijksim` binary.
pub fn wijksim() -> Command {
    Command::cargo_bin("wijksim").expect("the binary is built")
}

/// The default scenario's text.
pub fn default_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/oosterschelde.toml"
    ))
    .unwrap()
}

/// A scenario text without its `[[capacity]]` tables (so nobody waits).
pub fn without_capacity(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(at) = out.find("\n[[capacity]]") {
        let end = out[at + 1..].find("\n\n").map_or(out.len(), |e| at + 1 + e);
        out.replace_range(at + 1..end, "");
    }
    out
}
