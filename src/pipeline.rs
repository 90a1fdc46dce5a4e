//! One command's work, as a library call: simulate a scenario and write its output folder.
//!
//! The binary only turns arguments into [`RunOptions`], shows progress and prints the [`RunReport`].

use crate::batch::{self, Progress};
use crate::error::Result;
use crate::output::{Staged, csv, manifest};
use crate::scenario::Scenario;
use crate::summary::Summary;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Options of a run (the scenario's own values apply where these are `None`).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Runs (default: the scenario's).
    pub runs: Option<u32>,
    /// Master seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// The command that reproduces the run, for the manifest.
    pub reproduce: String,
    /// Which engine computes the results.
    pub engine: Engine,
    /// Fix every uncertain parameter at its mean (no probabilistic sensitivity analysis).
    pub no_psa: bool,
    /// Language of the report.
    pub lang: crate::output::report::Lang,
}

/// The engine that computes a run's results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// Individual clients, many runs: spread and probabilities.
    #[default]
    MonteCarlo,
    /// Expected values (probability mass): exact means without budget feedback, no spread.
    Cohort,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunReport {
    /// The output folder.
    pub folder: PathBuf,
    /// Files written into it.
    pub files: Vec<String>,
    /// The summaries, one per arm.
    pub summaries: Vec<Summary>,
    /// Paired differences of the pilot arms with the baseline.
    pub differences: Vec<crate::compare::Difference>,
    /// The manifest written.
    pub manifest: manifest::Manifest,
    /// Warnings about the results (e.g. approximations of the cohort engine).
    pub warnings: Vec<String>,
}

/// Writes `results.xlsx` from the same tables as the CSV files.
fn write_workbook(
    model: &crate::model::Model,
    summaries: &[Summary],
    differences: &[crate::compare::Difference],
    staged: &mut Staged,
) -> Result<()> {
    use crate::output::excel::{Unit, workbook};
    let caseload = csv::caseload(model, summaries);
    let costs = csv::costs(model, summaries);
    let budget = csv::budget(model, summaries);
    let kpis = csv::kpis(model, summaries);
    let diffs = csv::differences(differences);
    let summary = csv::summary(model, summaries);
    let mut sheets: Vec<(&str, &[u8], Unit)> = vec![
        ("caseload", &caseload, Unit::Clients),
        ("costs", &costs, Unit::Euros),
    ];
    if !model.regimes.is_empty() {
        sheets.push(("budget", &budget, Unit::Euros));
    }
    if !model.kpis.is_empty() {
        sheets.push(("kpis", &kpis, Unit::Kpi));
    }
    if summaries.len() > 1 {
        sheets.push(("differences", &diffs, Unit::Euros));
    }
    sheets.push(("summary", &summary, Unit::Euros));
    let bytes = workbook(&sheets).map_err(|e| crate::error::Error::Write {
        path: "results.xlsx".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    staged.write("results.xlsx", &bytes)
}

/// Default number of worker threads: the machine's available parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `scenario` and writes the output into `staged`, which is committed only when complete.
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    mut staged: Staged,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<RunReport> {
    let model = &scenario.model;
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let clock = Instant::now();
    let bopts = batch::Options {
        runs: opts.runs.unwrap_or(model.runs),
        seed: opts.seed.unwrap_or(model.seed),
        threads: opts.threads.unwrap_or_else(default_threads),
    };
    let (summaries, warnings) = match opts.engine {
        Engine::MonteCarlo => (
            batch::run_scenario(scenario, !opts.no_psa, &bopts, progress)?,
            Vec::new(),
        ),
        Engine::Cohort => {
            let (s, mut w) = crate::cohort::summarise(model);
            if model.uncertain {
                w.push("the cohort engine takes every uncertain parameter at its mean (no probabilistic sensitivity analysis)".into());
            }
            (s, w)
        }
    };
    let psa = opts.engine == Engine::MonteCarlo && !opts.no_psa && model.uncertain;
    staged.write("caseload.csv", &csv::caseload(model, &summaries))?;
    staged.write("flows.csv", &csv::flows(model, &summaries))?;
    staged.write("costs.csv", &csv::costs(model, &summaries))?;
    if !model.regimes.is_empty() {
        staged.write("budget.csv", &csv::budget(model, &summaries))?;
    }
    if !model.kpis.is_empty() {
        staged.write("kpis.csv", &csv::kpis(model, &summaries))?;
    }
    staged.write("summary.csv", &csv::summary(model, &summaries))?;
    crate::output::plot::write_all(model, &summaries, &mut staged, opts.lang)?;
    let differences = crate::compare::differences(model, &summaries);
    if summaries.len() > 1 {
        staged.write("differences.csv", &csv::differences(&differences))?;
    }
    write_workbook(model, &summaries, &differences, &mut staged)?;
    let mut files = staged.files().to_vec();
    files.push("report.html".into());
    files.push("manifest.json".into());
    let manifest = manifest::Manifest {
        wijksim_version: crate::VERSION.into(),
        scenario_name: model.name.clone(),
        scenario_path: scenario.source.path.clone(),
        scenario_sha256: scenario.source.sha256.clone(),
        engine: match opts.engine {
            Engine::MonteCarlo => "monte_carlo".into(),
            Engine::Cohort => "cohort".into(),
        },
        psa,
        seed: bopts.seed,
        runs: if opts.engine == Engine::Cohort {
            0
        } else {
            bopts.runs
        },
        threads: bopts.threads,
        started_utc: manifest::utc(started),
        wall_time_seconds: (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        client_cycles: summaries.iter().map(|s| s.client_cycles).sum(),
        reproduce: opts.reproduce.clone(),
        files: files.clone(),
        warnings: warnings.clone(),
    };
    let report = crate::output::report::html(
        &crate::output::report::ReportInput {
            model,
            scenario_text: &scenario.source.text,
            summaries: &summaries,
            differences: &differences,
            manifest: &manifest,
        },
        opts.lang,
    );
    staged.write("report.html", report.as_bytes())?;
    staged.write("manifest.json", &manifest.to_json())?;
    let folder = staged.commit()?;
    Ok(RunReport {
        folder,
        files,
        summaries,
        differences,
        manifest,
        warnings,
    })
}
