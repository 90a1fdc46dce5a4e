//! One command's work, as a library call: simulate a scenario and write its output folder.
//!
//! The binary only turns arguments into [`RunOptions`], shows progress and prints the [`RunReport`].

pub mod batch;
pub mod histories;

use crate::aggregate::Summary;
use crate::error::{Error, InputError, InputErrors, Result};
use crate::output::{Staged, csv, manifest};
use crate::scenario::Scenario;
use batch::Progress;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use crate::engine::Engine;

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
    pub lang: crate::output::lang::Lang,
    /// Which figures to draw.
    pub plots: crate::output::plot::Plots,
    /// Write `histories.csv`: the client histories of the first this many runs of every arm (Monte
    /// Carlo engine only; at most the runs).
    pub histories: Option<u32>,
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
    pub differences: Vec<crate::aggregate::paired::Difference>,
    /// The manifest written.
    pub manifest: manifest::Manifest,
    /// Warnings about the results (e.g. approximations of the cohort engine).
    pub warnings: Vec<String>,
    /// Budget sizing at the scenario's accepted chance of overspending.
    pub sizing: Vec<crate::aggregate::sizing::Sizing>,
}

impl RunReport {
    /// The summary of the arm named `arm`.
    pub fn summary(&self, arm: &str) -> Option<&crate::aggregate::Summary> {
        self.summaries.iter().find(|s| s.arm == arm)
    }

    /// The paired difference of pilot arm `arm` with the baseline over the whole horizon, of
    /// account `k` (e.g. [`crate::aggregate::Account::CareCost`]), in the first scope of kind
    /// `scope` (the region, or the pilot areas together): the row of `differences.csv` with period
    /// `all`.
    pub fn difference(
        &self,
        arm: &str,
        scope: crate::model::scope::ScopeKind,
        k: crate::aggregate::Account,
    ) -> Option<&crate::aggregate::paired::Difference> {
        crate::aggregate::paired::find(
            &self.differences,
            arm,
            scope,
            k.into(),
            crate::aggregate::paired::Period::All,
            "",
        )
    }
}

/// Writes `results.xlsx` from the tables as written (`get` returns a file's bytes).
fn write_workbook(
    model: &crate::model::Model,
    get: Get,
    created: &str,
    staged: &mut Staged,
) -> Result<()> {
    let mut tables: Vec<(&str, Vec<u8>)> = Vec::new();
    for sheet in [
        "caseload",
        "costs",
        "accounts",
        "budget",
        "budget_sizing",
        "kpis",
        "evaluations",
        "differences",
        "summary",
    ] {
        if let Some(bytes) = get(&format!("{sheet}.csv"))? {
            tables.push((sheet, bytes));
        }
    }
    let sheets: Vec<(&str, &[u8])> = tables.iter().map(|(s, b)| (*s, b.as_slice())).collect();
    let count_kpis: Vec<String> = model
        .kpis
        .iter()
        .filter(|k| k.is_count())
        .map(|k| k.name.clone())
        .collect();
    let bytes = crate::output::excel::workbook(&sheets, created, &count_kpis, model.currency)
        .map_err(|e| crate::error::Error::Write {
            path: "results.xlsx".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    staged.write("results.xlsx", &bytes)
}

/// A file of the output folder by name: its bytes, or `None` when there is no such file.
pub type Get<'a> = &'a dyn Fn(&str) -> Result<Option<Vec<u8>>>;

/// How the figures are drawn: language, which arms, on how many threads.
struct Look {
    lang: crate::output::lang::Lang,
    plots: crate::output::plot::Plots,
    threads: usize,
}

/// Draws the figures and the workbook from the tables as written, and returns every arm's numbers
/// and the differences read back from them (for the report).
fn render_figures(
    model: &crate::model::Model,
    runs: usize,
    get: Get,
    created: &str,
    staged: &mut Staged,
    look: Look,
) -> Result<(
    Vec<crate::output::tables::ArmTables>,
    Vec<crate::aggregate::paired::Difference>,
)> {
    let Look {
        lang,
        plots,
        threads,
    } = look;
    let arms = crate::output::tables::arms(model, runs, get)?;
    let differences = crate::output::tables::differences(get)?;
    crate::output::plot::write_all(model, &arms, &differences, staged, lang, plots, threads)?;
    write_workbook(model, get, created, staged)?;
    Ok((arms, differences))
}

/// Refuses results that are not finite numbers (amounts so large that sums overflow, e.g. a tariff of
/// 1e304): they would be written as `inf` or `NaN` and cannot be drawn.
fn finite(scenario: &Scenario, summaries: &[Summary]) -> Result<()> {
    for sm in summaries {
        let bad = sm.stats.iter().position(|st| {
            !(st.mean.is_finite() && st.sd.is_finite() && st.q.iter().all(|q| q.is_finite()))
        });
        if let Some(i) = bad {
            return Err(crate::error::Error::Input(
                crate::error::InputError::new(
                    &scenario.source.path,
                    None,
                    "",
                    format!(
                        "the results are not finite numbers: {} of arm `{}` has mean {:e} and standard deviation {:e} (a sum overflowed)",
                        sm.layout.describe(i),
                        sm.arm,
                        sm.stats[i].mean,
                        sm.stats[i].sd
                    ),
                    "check the amounts (tariffs, hours, fees, budgets, weights) for values far too large, e.g. 1e304 instead of 104",
                )
                .into(),
            ));
        }
    }
    Ok(())
}

/// Refuses `--histories` that cannot be honoured: with the cohort engine (no clients), 0, or more than
/// the runs.
fn check_histories(opts: &RunOptions, runs: u32) -> Result<()> {
    use crate::error::{Error, Fault, Opt, says};
    let Some(n) = opts.histories else {
        return Ok(());
    };
    if opts.engine == Engine::Cohort {
        return Err(Error::Options(Fault::new(
            says!(
                Opt::Histories,
                " needs the Monte Carlo engine: the cohort engine computes expected values and simulates no clients"
            ),
            says!(
                "leave out ",
                Opt::Engine,
                " cohort, or leave out ",
                Opt::Histories
            ),
        )));
    }
    if n == 0 {
        return Err(Error::Options(Fault::new(
            says!(Opt::Histories, " 0 asks for the histories of no run"),
            says!(
                "give the number of runs whose client histories to write (at least 1, e.g. ",
                Opt::Histories,
                " 1), or leave out ",
                Opt::Histories
            ),
        )));
    }
    if n > runs {
        return Err(Error::Options(Fault::new(
            says!(
                Opt::Histories,
                format!(
                    " {n} asks for the client histories of more runs than the {runs} simulated"
                )
            ),
            says!(
                "give at most ",
                Opt::Histories,
                format!(" {runs}, or raise "),
                Opt::Runs,
                format!(" to {n} or more")
            ),
        )));
    }
    Ok(())
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
    let bopts = batch_options(scenario, opts)?;
    let (summaries, warnings) = summarise(scenario, opts, &bopts, progress)?;
    finite(scenario, &summaries)?;
    let psa = opts.engine == Engine::MonteCarlo && !opts.no_psa && model.uncertain;
    let sizing = crate::aggregate::sizing::sizing(model, &summaries);
    let differences = crate::aggregate::paired::differences(model, &summaries);
    let tables = tables(scenario, &summaries, &sizing, &differences);
    for (name, bytes) in &tables {
        staged.write(name, bytes)?;
    }
    if let Some(n) = opts.histories {
        crate::run::histories::write(scenario, psa, bopts.seed, n, &mut staged)?;
    }
    let get = |name: &str| Ok(tables.iter().find(|(n, _)| *n == name).map(|t| t.1.clone()));
    let look = Look {
        lang: opts.lang,
        plots: opts.plots,
        threads: bopts.threads,
    };
    let started_utc = manifest::utc(started);
    let runs = summaries[0].runs;
    let shown = render_figures(model, runs, &get, &started_utc, &mut staged, look)?;
    let mut files = staged.files().to_vec();
    files.push("report.html".into());
    files.push("manifest.json".into());
    let mut provenance = scenario.provenance(manifest::utc(started), &opts.reproduce);
    provenance.set_wall_time(clock.elapsed().as_secs_f64());
    let manifest = manifest::Manifest {
        provenance,
        engine: opts.engine,
        psa,
        lang: opts.lang.code().into(),
        seed: bopts.seed,
        runs: if opts.engine == Engine::Cohort {
            0
        } else {
            bopts.runs
        },
        threads: bopts.threads,
        client_cycles: summaries.iter().map(|s| s.client_cycles).sum(),
        files: files.clone(),
        warnings: warnings.clone(),
    };
    let input = crate::output::report::ReportInput {
        model,
        scenario_text: &scenario.source.text,
        summaries: &shown.0,
        differences: &shown.1,
        manifest: &manifest,
        plots: opts.plots,
        sizing: &sizing,
    };
    let report = crate::output::report::html(&input, opts.lang);
    staged.write("report.html", report.as_bytes())?;
    staged.write("manifest.json", &manifest::to_json(&manifest))?;
    let folder = staged.commit()?;
    Ok(RunReport {
        folder,
        files,
        summaries,
        differences,
        manifest,
        warnings,
        sizing,
    })
}

/// The runs, seed and threads of a run: as `opts` ask, else the scenario's (and all cores); checked.
fn batch_options(scenario: &Scenario, opts: &RunOptions) -> Result<batch::Options> {
    let model = &scenario.model;
    if opts.runs.is_none() && opts.engine == Engine::MonteCarlo {
        scenario.check_runs()?;
    }
    let bopts = batch::Options {
        runs: opts.runs.unwrap_or(model.runs),
        seed: opts.seed.unwrap_or(model.seed),
        threads: opts.threads.unwrap_or_else(default_threads),
    };
    check_histories(opts, bopts.runs)?;
    Ok(bopts)
}

/// Every arm's summary by the engine `opts` chooses, with warnings about the results.
fn summarise(
    scenario: &Scenario,
    opts: &RunOptions,
    bopts: &batch::Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(Vec<Summary>, Vec<String>)> {
    Ok(match opts.engine {
        Engine::MonteCarlo => (
            batch::run_scenario(scenario, !opts.no_psa, bopts, progress)?,
            Vec::new(),
        ),
        Engine::Cohort => {
            let (s, mut w) = crate::aggregate::expected::summarise(&scenario.model);
            if scenario.model.uncertain {
                w.push("the cohort engine takes every uncertain parameter at its mean (no probabilistic sensitivity analysis)".into());
            }
            (s, w)
        }
    })
}

/// The tables of a run (the CSVs the scenario calls for, and the scenario's copy), by file name, in
/// the order they are written.
fn tables(
    scenario: &Scenario,
    summaries: &[Summary],
    sizing: &[crate::aggregate::sizing::Sizing],
    differences: &[crate::aggregate::paired::Difference],
) -> Vec<(&'static str, Vec<u8>)> {
    let model = &scenario.model;
    let mut tables: Vec<(&str, Vec<u8>)> = vec![
        ("caseload.csv", csv::caseload(model, summaries)),
        ("flows.csv", csv::flows(model, summaries)),
        ("costs.csv", csv::costs(model, summaries)),
        ("accounts.csv", csv::accounts(summaries)),
    ];
    if !model.regimes.is_empty() {
        tables.push(("budget.csv", csv::budget(model, summaries)));
    }
    if !sizing.is_empty() {
        tables.push((
            "budget_sizing.csv",
            crate::aggregate::sizing::to_csv(sizing),
        ));
    }
    if model.kpis.iter().any(|k| !k.is_evaluations()) {
        tables.push(("kpis.csv", csv::kpis(model, summaries)));
    }
    if model.kpis.iter().any(|k| k.is_evaluations()) {
        tables.push(("evaluations.csv", csv::evaluations(model, summaries)));
    }
    tables.push(("summary.csv", csv::summary(model, summaries)));
    if summaries.len() > 1 {
        tables.push(("differences.csv", csv::differences(differences)));
    }
    tables.push((
        "runs.csv",
        crate::output::tables::runs_csv(model, summaries),
    ));
    tables.push(("scenario.toml", scenario.source.text.as_bytes().to_vec()));
    tables
}

/// Runs `scenario` and writes its output folder `out`, in one call: [`run`] without a progress
/// callback, into a folder made as `wijksim run --out OUT` makes it. `out` may be missing or empty;
/// with `force`, earlier wijksim results there are replaced (never a folder holding other files: see
/// [`crate::output::guard`]). The folder is written whole or not at all.
///
/// ```no_run
/// # fn main() -> Result<(), wijksim::error::Error> {
/// use wijksim::run::{RunOptions, run_into};
/// let scenario = wijksim::scenario::load("my.toml".as_ref())?;
/// let opts = RunOptions { runs: Some(500), seed: Some(7), ..RunOptions::default() };
/// let report = run_into(&scenario, &opts, "output/my".as_ref(), true)?;
/// println!("wrote {}", report.folder.display());
/// # Ok(())
/// # }
/// ```
pub fn run_into(
    scenario: &Scenario,
    opts: &RunOptions,
    out: &std::path::Path,
    force: bool,
) -> Result<RunReport> {
    run(scenario, opts, Staged::create(out, force)?, &|_| {})
}

/// What `wijksim report` redrew.
#[derive(Debug)]
pub struct RerenderReport {
    /// The folder.
    pub folder: PathBuf,
    /// Files and folders replaced in it.
    pub replaced: Vec<String>,
    /// The report written: `report.html` in the run's language, else `report.<lang>.html`.
    pub report: PathBuf,
}

/// Redraws the figures (`plots/`), `report.html` and `results.xlsx` of the output folder `dir` from
/// its tables, scenario copy and manifest, without simulating. In a language other than the run's
/// (the manifest's `lang`) the report and figures are `report.<lang>.html` and `plots.<lang>/`, so
/// the run's own are kept (see [`crate::output::lang::Lang::file_names`]); the workbook holds no
/// text of a language. The tables are checked against the scenario; nothing in the folder changes
/// unless every new file is complete.
pub fn rerender(
    dir: &std::path::Path,
    lang: crate::output::lang::Lang,
    plots: crate::output::plot::Plots,
) -> Result<RerenderReport> {
    let folder = Folder(dir);
    if !dir.is_dir() {
        return Err(folder.not_output("", "no such folder".into()));
    }
    // Held from here on: no other wijksim replaces the folder while it is read and redrawn.
    let mut staged = Staged::inside(dir)?;
    let manifest = folder.manifest()?;
    let (scenario, text) = folder.scenario(&manifest)?;
    let (runs, run_lang) = folder.runs_and_lang(&manifest)?;
    let (report_name, plots_name) = lang.file_names(run_lang);
    let read = |name: &str| folder.read(name);
    let (shown_summaries, differences) = render_figures(
        &scenario.model,
        runs,
        &read,
        &manifest.provenance.started_utc,
        &mut staged,
        Look {
            lang,
            plots,
            threads: default_threads(),
        },
    )?;
    staged.rename_folder("plots", &plots_name)?;
    let sizing = match folder.read("budget_sizing.csv")? {
        Some(bytes) => {
            crate::aggregate::sizing::from_csv(&folder.shown("budget_sizing.csv"), &bytes)?
        }
        None => Vec::new(),
    };
    let report = crate::output::report::html(
        &crate::output::report::ReportInput {
            model: &scenario.model,
            scenario_text: &text,
            summaries: &shown_summaries,
            differences: &differences,
            manifest: &manifest,
            plots,
            sizing: &sizing,
        },
        lang,
    );
    staged.write(&report_name, report.as_bytes())?;
    let replaced = staged.replace_in(dir)?;
    Ok(RerenderReport {
        folder: dir.to_path_buf(),
        replaced,
        report: dir.join(report_name),
    })
}

/// An output folder whose figures, report and workbook are redrawn: its files read, each problem
/// naming the file.
struct Folder<'a>(&'a std::path::Path);

impl Folder<'_> {
    /// A file of the folder as messages name it.
    fn shown(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    /// The folder is not one `wijksim run` wrote: `problem` in its file `name`.
    fn not_output(&self, name: &str, problem: String) -> Error {
        self.problem(
            name,
            None,
            problem,
            "give the folder a `wijksim run` wrote (it holds manifest.json, scenario.toml and the CSV tables); folders written before wijksim 0.1 kept no scenario copy: run the scenario again",
        )
    }

    /// `problem` in file `name` of the folder, at `line`, with its fix.
    fn problem(&self, name: &str, line: Option<usize>, problem: String, fix: &str) -> Error {
        Error::Input(InputErrors::from(InputError::new(
            self.shown(name),
            line,
            "",
            problem,
            fix,
        )))
    }

    /// The bytes of file `name`, or `None` when there is no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.0.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.not_output(name, format!("cannot read it: {e}"))),
        }
    }

    /// The run's manifest.
    fn manifest(&self) -> Result<manifest::Manifest> {
        let bytes = self
            .read("manifest.json")?
            .ok_or_else(|| self.not_output("manifest.json", "the folder has no manifest".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.problem(
                "manifest.json",
                Some(e.line()),
                format!("not a wijksim manifest: {e}"),
                "restore the manifest.json that `wijksim run` wrote, or run the scenario again",
            )
        })
    }

    /// The run's scenario, from its copy (the one the manifest names by its SHA-256), and its text.
    fn scenario(&self, manifest: &manifest::Manifest) -> Result<(Scenario, String)> {
        let text = self.read("scenario.toml")?.ok_or_else(|| {
            self.not_output(
                "scenario.toml",
                "the folder has no copy of its scenario".into(),
            )
        })?;
        let text = String::from_utf8(text).map_err(|_| {
            self.not_output(
                "scenario.toml",
                "the scenario copy is not UTF-8 text".into(),
            )
        })?;
        let sha = crate::scenario::sha256_hex(text.as_bytes());
        if sha != manifest.provenance.scenario_sha256 {
            return Err(self.problem(
                "scenario.toml",
                None,
                format!(
                    "the scenario copy is not the scenario of this run (its SHA-256 is {sha}, the manifest's {})",
                    manifest.provenance.scenario_sha256
                ),
                "restore the scenario.toml the run wrote; to see the results of an edited scenario, run it again",
            ));
        }
        let scenario = crate::scenario::from_text(&self.shown("scenario.toml"), &text)?;
        Ok((scenario, text))
    }

    /// The runs the tables summarise (1 for the cohort engine) and the run's language, from the
    /// manifest.
    fn runs_and_lang(
        &self,
        manifest: &manifest::Manifest,
    ) -> Result<(usize, crate::output::lang::Lang)> {
        let runs = if manifest.engine == Engine::Cohort {
            1
        } else {
            manifest.runs as usize
        };
        if runs == 0 {
            return Err(self.not_output("manifest.json", "the manifest says 0 runs".into()));
        }
        let lang = crate::output::lang::Lang::from_code(&manifest.lang).ok_or_else(|| {
            self.not_output(
                "manifest.json",
                format!(
                    "`lang` is `{}`, not nl or en",
                    crate::error::short(&manifest.lang)
                ),
            )
        })?;
        Ok((runs, lang))
    }
}
