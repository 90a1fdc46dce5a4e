//! Command-line parsing, progress display and printing; everything else is the library's.

mod progress;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use wijksim::aggregate::paired::{Period, cell_quantiles};
use wijksim::aggregate::{Account, Summary};
use wijksim::error::Error;
use wijksim::model::scope::{REGION, ScopeKind};
use wijksim::output::Staged;
use wijksim::output::plot::Plots;
use wijksim::run::{self, Engine, RunOptions, RunReport};
use wijksim::scenario::{self, Scenario};

/// wijksim: Monte Carlo forecasts of Wmo caseload and costs (BTS, BT, Waakvlam, sociale basis,
/// vrijwilligerswerk), for neighbourhood and village budget pilots against the provider model.
#[derive(Parser, Debug)]
#[command(name = "wijksim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a scenario (default: the built-in Oosterschelde scenario) and write its output folder.
    Run(RunArgs),
    /// Check scenario files and report every problem with file, line and key.
    Check {
        /// Scenario files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a sweep: a grid, Latin hypercube or one-way design of parameter values over a scenario.
    Sweep(SweepArgs),
    /// Estimate a scenario from client episodes (per pseudonymous client the state, start and end):
    /// the transition rows, the starting caseload and its time in state, the inflow per area and year.
    Fit(FitArgs),
    /// Calibrate numbers of a scenario to published counts (targets CSV) with the expected-value
    /// engine, and write the calibrated scenario.
    Calibrate(CalibrateArgs),
    /// Merge the complete shard folders of a sweep into one folder (the same sweep.csv as unsharded).
    Merge {
        /// The merged folder.
        #[arg(long)]
        out: PathBuf,
        /// Replace the merged folder if it already holds results.
        #[arg(long)]
        force: bool,
        /// Language of the tornado plot: nl (default) or en.
        #[arg(long, value_enum, default_value_t = LangArg::Nl)]
        lang: LangArg,
        /// The shard folders (written by `wijksim sweep --shard I/N`).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
    },
    /// Redraw the figures, report.html and results.xlsx of an earlier run's output folder from its
    /// tables, without simulating again (e.g. in the other language).
    Report {
        /// The output folder of `wijksim run`.
        dir: PathBuf,
        /// Language of the report and the figures: nl (default) or en.
        #[arg(long, value_enum, default_value_t = LangArg::Nl)]
        lang: LangArg,
        /// Which figures to draw (as for `run`).
        #[arg(long, value_enum, default_value_t = PlotsArg::Auto)]
        plots: PlotsArg,
    },
}

#[derive(clap::Args, Debug, Default)]
struct RunArgs {
    /// Scenario file (TOML); without it, the built-in default scenario.
    scenario: Option<PathBuf>,
    /// Number of runs (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_runs)]
    runs: Option<u32>,
    /// Master seed (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    threads: Option<usize>,
    /// Output folder (default: output/<scenario name>, or a fresh -2, -3, ... beside earlier results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output folder if it already holds results.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// `monte-carlo` (individual clients, spread over runs) or `cohort` (exact expected values, no
    /// spread; capacity limits and reinvested surpluses are ignored, with a warning).
    #[arg(long, value_enum, default_value_t = EngineArg::MonteCarlo)]
    engine: EngineArg,
    /// Fix every parameter that has a distribution at its mean (no probabilistic sensitivity analysis).
    #[arg(long)]
    no_psa: bool,
    /// Language of report.html: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    lang: LangArg,
    /// The accepted chance of overspending a budget, for budget sizing (default: the scenario's
    /// `run.overspend_risk`, else 0.10).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_risk)]
    overspend_risk: Option<f64>,
    /// Which figures to draw: `auto` (every arm up to 8 arms, else the baseline and the first 7
    /// pilots), `all`, or `none` (tables only; faster). The tables always hold every arm.
    #[arg(long, value_enum, default_value_t = PlotsArg::Auto)]
    plots: PlotsArg,
    /// Write histories.csv: every client's episodes (state, start, end, why it ended) in the first N
    /// runs of every arm (at most the runs; Monte Carlo engine only).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_histories)]
    histories: Option<u32>,
}

#[derive(clap::Args, Debug)]
struct CalibrateArgs {
    /// Scenario file (TOML); without it, the built-in default scenario.
    scenario: Option<PathBuf>,
    /// The published counts: CSV with period,scope,scope_name,state,measure,value,se.
    #[arg(long)]
    targets: PathBuf,
    /// A number to fit and its range, KEYPATH=LOW..HIGH (key paths as in sweeps); repeat for more.
    #[arg(long = "vary", required = true, value_parser = parse_vary)]
    vary: Vec<wijksim::data::calibrate::Vary>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// The arm to fit (default: the first, the baseline).
    #[arg(long)]
    arm: Option<String>,
    /// Draw a posterior sample of this size (sampling-importance resampling) and write the varied
    /// numbers as distributions.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_posterior)]
    posterior: Option<usize>,
    /// Seed of the posterior draws (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Replace the output folder if it holds an earlier wijksim result.
    #[arg(long)]
    force: bool,
    /// Language of the calibration figure: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    lang: LangArg,
}

fn parse_vary(s: &str) -> Result<wijksim::data::calibrate::Vary, String> {
    wijksim::data::calibrate::parse_vary(s)
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// Sweep file (TOML).
    file: PathBuf,
    /// Output folder (default: output/<sweep name>, for a shard output/<name>-shard-I-of-N).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the sweep in the output folder: skip the points it holds, run the rest.
    #[arg(long)]
    resume: bool,
    /// Start over if the output folder already holds results.
    #[arg(long)]
    force: bool,
    /// Run only shard I of N (points k with k mod N = I-1), e.g. 2/8; combine with `wijksim merge`.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    threads: Option<usize>,
    /// Stop after this many points; continue later with --resume.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_max_points)]
    max_points: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Language of the tornado plot: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    lang: LangArg,
    /// Write Slurm scripts (a job array over --shards shards and a dependent merge job) into
    /// <out>/slurm/ instead of running.
    #[arg(long)]
    emit_slurm: bool,
    /// Shards (array tasks) for --emit-slurm.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = parse_shards)]
    shards: usize,
    /// Time limit per shard for --emit-slurm (Slurm format).
    #[arg(long, default_value = "02:00:00")]
    slurm_time: String,
    /// CPUs per shard for --emit-slurm.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true, value_parser = parse_slurm_cpus)]
    slurm_cpus: usize,
    /// Memory per shard for --emit-slurm.
    #[arg(long, default_value = "4G")]
    slurm_mem: String,
    /// Partition for --emit-slurm (default: the cluster's).
    #[arg(long)]
    slurm_partition: Option<String>,
    /// Account for --emit-slurm (default: yours).
    #[arg(long)]
    slurm_account: Option<String>,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not I/N with 1 <= I <= N (e.g. 2/8)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LangArg {
    #[default]
    Nl,
    En,
}

/// `wijksim fit`.
#[derive(clap::Args, Debug)]
struct FitArgs {
    /// The episodes (CSV: client,state,start,end and optionally area,end_reason,next_state; the
    /// format of histories.csv).
    episodes: PathBuf,
    /// The template scenario: its states, areas, transition rows (their bands and periods), costs
    /// and pilots.
    #[arg(long)]
    scenario: PathBuf,
    /// The fitted scenario to write (TOML); the fit report goes beside it as .html.
    #[arg(long)]
    out: PathBuf,
    /// With an `arm` column (histories.csv): the arm to read (default: the first in the file).
    #[arg(long)]
    arm: Option<String>,
    /// The last month observed, YYYY-MM (default: the latest date in the file); open episodes are
    /// censored there.
    #[arg(long)]
    observed_until: Option<String>,
    /// Split every transition row by calendar period and fit each part to its own months: `year`
    /// (a new period each January), or the months new periods begin, e.g. 2023-01,2024-07. The last
    /// part carries the forecast. Default: the template's own rows.
    #[arg(long, value_parser = wijksim::data::fit::Periods::parse)]
    periods: Option<wijksim::data::fit::Periods>,
    /// Replace an earlier fit's files.
    #[arg(long)]
    force: bool,
    /// Language of the fit report: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    lang: LangArg,
}

/// The first line of every file `wijksim fit` writes: what marks it as ours to replace.
const FIT_MARK: &str = "# Fitted by wijksim fit";

/// Writes `bytes` to `path` whole or not at all; an existing file is replaced only with `force` and
/// only if `wijksim fit` wrote it (`mark` in it).
fn write_fit_file(path: &Path, bytes: &[u8], force: bool, mark: &str) -> anyhow::Result<()> {
    if path.exists() {
        let ours = std::fs::read_to_string(path).is_ok_and(|t| t.contains(mark));
        if !force || !ours {
            return Err(Error::OutputExists(format!(
                "'{}' already exists{}",
                path.display(),
                if ours {
                    "; add --force to replace this earlier fit"
                } else {
                    "; wijksim fit did not write it and will not replace it: choose another --out"
                }
            ))
            .into());
        }
    }
    Ok(wijksim::output::write_atomic(path, bytes)?)
}

fn fit(args: FitArgs) -> anyhow::Result<()> {
    let template = scenario::load(&args.scenario)?;
    let file = args.episodes.display().to_string();
    let text = std::fs::read(&args.episodes).map_err(|e| {
        Error::Options(format!(
            "cannot read the episodes '{file}': {e}; check the path"
        ))
    })?;
    let text =
        wijksim::data::csv::decode(&file, &text, "client,state,start,end").map_err(Error::Input)?;
    let until = match &args.observed_until {
        Some(s) => Some(wijksim::model::YearMonth::parse(s).ok_or_else(|| {
            Error::Options(format!(
                "--observed-until {s} is not a month; write it as YYYY-MM, e.g. 2025-12"
            ))
        })?),
        None => None,
    };
    let opts = wijksim::data::fit::episodes::ReadOptions {
        arm: args.arm.clone(),
        until,
    };
    let fitted = wijksim::data::fit::fit(
        &template.source.path,
        &template.source.text,
        &template.model,
        &file,
        text,
        &opts,
        &args.periods.clone().unwrap_or_default(),
    )?;
    let out_name = args.out.display().to_string();
    let fitted_model = scenario::from_text(&out_name, &fitted.text)
        .map_err(|e| {
            anyhow::anyhow!("the fitted scenario does not compile (a bug in wijksim fit):\n{e}")
        })?
        .model;
    let html =
        wijksim::data::fit::report::html(&fitted, &template.model, &fitted_model, args.lang.into());
    let report = args.out.with_extension("html");
    let html = format!("<!-- {FIT_MARK} -->\n{html}");
    write_fit_file(&args.out, fitted.text.as_bytes(), args.force, FIT_MARK)?;
    write_fit_file(&report, html.as_bytes(), args.force, FIT_MARK)?;
    let est = &fitted.estimates;
    let fitted_rows = est.rows.iter().filter(|r| r.at_risk > 0).count();
    let ep = &fitted.episodes;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Read {} of {}{} from {file}.",
        counted(ep.list.len(), "episode", "episodes"),
        counted(ep.clients, "client", "clients"),
        if ep.populations > 1 {
            format!(" in {} populations (runs)", ep.populations)
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "Fitted {} of {}, the starting caseload of {} and the inflow per area and year.",
        fitted_rows,
        count(est.rows.len(), "row", "rows"),
        count(template.model.areas.len(), "area", "areas")
    )?;
    writeln!(out, "Wrote:")?;
    writeln!(
        out,
        "  {}  the fitted scenario (wijksim run {})",
        args.out.display(),
        args.out.display()
    )?;
    writeln!(
        out,
        "  {}  observed against fitted (open in a browser)",
        report.display()
    )?;
    Ok(())
}

/// `--runs`: a whole number of runs, at least 1 (the upper limit is checked with the memory).
fn parse_runs(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => u32::try_from(n).map_err(|_| {
            format!("{n} runs is more than any machine can hold; give at most 10000000")
        }),
        Ok(n) => Err(format!(
            "{n} runs: the number of runs is a whole number of at least 1, e.g. --runs 1000"
        )),
        Err(_) => Err(format!(
            "`{}` is not a number of runs; give a whole number of at least 1, e.g. --runs 1000",
            wijksim::error::short(s)
        )),
    }
}

/// `--histories`: a whole number of runs (0 and more than the runs are refused with the run's count).
fn parse_histories(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 0 => u32::try_from(n).map_err(|_| {
            format!("--histories {n} is more runs than wijksim simulates; give at most the number of runs (--runs)")
        }),
        _ => Err(format!(
            "`{}` is not a number of runs; give how many runs' client histories to write, at least 1, e.g. --histories 1",
            wijksim::error::short(s)
        )),
    }
}

/// `--seed`: a whole number from 0 to 2^64 - 1.
fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| {
        format!(
            "`{}` is not a seed; give a whole number from 0 to 18446744073709551615, e.g. --seed 20210101",
            wijksim::error::short(s)
        )
    })
}

/// `--threads`: at least 1.
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(format!(
            "`{}` is not a number of threads; give a whole number of at least 1, e.g. --threads 2",
            wijksim::error::short(s)
        )),
    }
}

/// `--overspend-risk`: a chance strictly between 0 and 1.
fn parse_risk(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!(
            "`{}` is not a chance between 0 and 1 (exclusive); e.g. --overspend-risk 0.10 for 10%",
            wijksim::error::short(s)
        )),
    }
}

/// A whole number of at least 1 for the option `flag` (`what` it counts, an `example` value): negative
/// numbers get this message too, not clap's tip to pass them after `--`.
fn whole(s: &str, flag: &str, what: &str, example: usize) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| format!("{flag} {n} is too large")),
        _ => Err(format!(
            "`{}`: {flag} is a whole number of {what}, at least 1, e.g. {flag} {example}",
            wijksim::error::short(s)
        )),
    }
}

fn parse_max_points(s: &str) -> Result<usize, String> {
    whole(s, "--max-points", "points", 10)
}

fn parse_shards(s: &str) -> Result<usize, String> {
    whole(s, "--shards", "shards", 20)
}

fn parse_slurm_cpus(s: &str) -> Result<usize, String> {
    whole(s, "--slurm-cpus", "CPUs", 4)
}

fn parse_posterior(s: &str) -> Result<usize, String> {
    whole(s, "--posterior", "draws", 500)
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum PlotsArg {
    #[default]
    Auto,
    All,
    None,
}

impl From<PlotsArg> for Plots {
    fn from(p: PlotsArg) -> Self {
        match p {
            PlotsArg::Auto => Plots::Auto,
            PlotsArg::All => Plots::All,
            PlotsArg::None => Plots::None,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum EngineArg {
    #[default]
    MonteCarlo,
    Cohort,
}

/// Runs the command line; returns the exit code (0 ok, 1 failure, 2 bad input or usage).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(args),
        Command::Check { files } => check(&files),
        Command::Report { dir, lang, plots } => report(&dir, lang, plots),
        Command::Sweep(args) => sweep(args),
        Command::Fit(args) => fit(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Merge {
            out,
            force,
            lang,
            shards,
        } => merge(&out, force, lang, &shards),
    };
    print_notes();
    match result {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<Error>() {
                Some(
                    Error::Input(_)
                    | Error::OutputExists(_)
                    | Error::OutputRefused(_)
                    | Error::OutputBusy(_)
                    | Error::Options(_),
                ) => 2,
                _ => 1,
            }
        }
    }
}

/// Says what the library cleared before writing (staging left by stopped processes).
pub(crate) fn print_notes() {
    for n in wijksim::output::guard::take_notes() {
        eprintln!("note: {n}");
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load(path: Option<&Path>) -> Result<Scenario, Error> {
    match path {
        Some(p) => Ok(scenario::load(p)?),
        None => Ok(scenario::default_scenario()),
    }
}

fn check(files: &[PathBuf]) -> anyhow::Result<()> {
    let mut bad = 0;
    for f in files {
        let result = if is_sweep_file(f) {
            // A sweep file: its scenario, its key paths and every point, as `sweep` checks them.
            wijksim::sweep::load(f).map(|sw| {
                format!(
                    "ok (sweep over {}: {} design, {}, {}, {} per point)",
                    sw.scenario.source.path,
                    sw.design.name(),
                    count(sw.parameters.len(), "parameter", "parameters"),
                    count(sw.points.len(), "point", "points"),
                    count(sw.runs as usize, "run", "runs")
                )
            })
        } else {
            scenario::load(f)
                .and_then(|s| s.check_runs().map(|()| s))
                .map(|s| {
                    let m = &s.model;
                    format!(
                        "ok ({}, {}, {} from {}, {}, {}, {})",
                        count(m.n_states(), "state", "states"),
                        count(m.areas.len(), "area", "areas"),
                        count(m.cycles as usize, "cycle", "cycles"),
                        m.start,
                        count(m.arms.len(), "arm", "arms"),
                        count(m.regimes.len(), "regime", "regimes"),
                        count(m.kpis.len(), "KPI", "KPIs")
                    )
                })
        };
        match result {
            Ok(summary) => println!("{}: {summary}", f.display()),
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    if bad > 0 {
        anyhow::bail!(Error::Options(if files.len() == 1 {
            "the file has problems".to_string()
        } else {
            format!(
                "{bad} of {} {} problems",
                count(files.len(), "file", "files"),
                if bad == 1 { "has" } else { "have" }
            )
        }));
    }
    Ok(())
}

/// `1 area`, `2 areas`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// As [`count`], the number grouped by thousands (`1,646 clients`).
fn counted(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        wijksim::output::plot::thousands(n as f64),
        if n == 1 { one } else { many }
    )
}

/// Whether `path` is a sweep file: TOML with a `[sweep]` table (anything else is checked as a
/// scenario, whose errors then say what is wrong).
fn is_sweep_file(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("sweep"))
}

fn calibrate(args: CalibrateArgs) -> anyhow::Result<()> {
    use wijksim::data::calibrate;
    let started = std::time::SystemTime::now();
    let scenario = load(args.scenario.as_deref())?;
    let opts = calibrate::Options {
        arm: args.arm.clone(),
        posterior: args.posterior,
        seed: args.seed,
    };
    let sh = |p: &Path| {
        let s = p.display().to_string();
        if s.contains([' ', '\'', '"', '[', ']', '*', '?', '$']) {
            format!("'{}'", s.replace('\'', "'\\''"))
        } else {
            s
        }
    };
    let mut reproduce = String::from("wijksim calibrate");
    if let Some(p) = &args.scenario {
        reproduce.push_str(&format!(" {}", sh(p)));
    }
    reproduce.push_str(&format!(" --targets {}", sh(&args.targets)));
    for v in &args.vary {
        reproduce.push_str(&format!(" --vary '{}={}..{}'", v.key, v.low, v.high));
    }
    if let Some(a) = &args.arm {
        reproduce.push_str(&format!(" --arm {}", sh(Path::new(a))));
    }
    let c = calibrate::calibrate(scenario, &args.targets, args.vary.clone(), &opts)?;
    if let Some(n) = args.posterior {
        let seed = c.posterior.as_ref().map_or(0, |p| p.seed);
        reproduce.push_str(&format!(" --posterior {n} --seed {seed}"));
    }
    reproduce.push_str(&format!(" --out {}", sh(&args.out)));
    if args.lang != LangArg::Nl {
        reproduce.push_str(" --lang en");
    }
    let dir = calibrate::write(
        &c,
        &args.out,
        args.force,
        &reproduce,
        started,
        args.lang.into(),
    )?;
    let s = &c.summary;
    let f = &c.fit;
    println!(
        "wijksim {}: calibrating {} (arm {}) to {} in {}",
        wijksim::VERSION,
        c.problem.scenario.source.path,
        s.arm,
        count(s.targets, "target", "targets"),
        s.targets_path
    );
    println!("{:<44} {:>12} {:>12} {:>12}", "key", "was", "fitted", "box");
    for (i, p) in s.parameters.iter().enumerate() {
        let post = match (p.posterior_mean, p.posterior_sd) {
            (Some(m), Some(sd)) => format!(
                "  posterior {} (sd {})",
                calibrate::significant(m),
                calibrate::significant(sd)
            ),
            _ => String::new(),
        };
        println!(
            "{:<44} {:>12} {:>12} {:>12}{post}",
            p.key,
            calibrate::significant(p.was),
            calibrate::significant(f.best[i]),
            format!("{}..{}", p.low, p.high)
        );
    }
    println!(
        "chi-square {:.3} -> {:.3} on {} {} of freedom; RMSE {:.3} clients; {} in {:.2} s ({:.0}/s); {}",
        s.chi2_before,
        s.chi2,
        s.dof,
        if s.dof == 1 { "degree" } else { "degrees" },
        s.rmse,
        count(s.evaluations, "evaluation", "evaluations"),
        f.seconds,
        s.evaluations_per_second,
        if s.converged {
            "converged".to_string()
        } else {
            format!("not converged: {}", s.termination)
        }
    );
    if let Some(p) = &s.posterior {
        println!(
            "posterior: {} resampled from {} (effective sample {:.0}), seed {}",
            count(p.draws, "draw", "draws"),
            count(p.proposals, "proposal", "proposals"),
            p.ess,
            p.seed
        );
    }
    for n in &c.notes {
        eprintln!("warning: {n}");
    }
    let _ = std::io::stderr().flush();
    println!("Wrote {}/:", dir.display());
    println!(
        "  calibrated.toml      the scenario with the fitted values, every change marked by a comment"
    );
    println!("  calibration.csv      per target: value, se, model before and after, residual, z");
    println!("  calibration.json     fit statistics (also in manifest.json)");
    if c.posterior.is_some() {
        println!("  posterior.csv        the posterior sample");
    }
    println!("  plots/calibration.*  targets against the model, before and after");
    Ok(())
}

fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    use wijksim::sweep::{runner, slurm};
    let sw = wijksim::sweep::load(&args.file).map_err(Error::from)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let base = Path::new("output");
        match args.shard {
            Some((i, n)) => base.join(format!("{}-shard-{i}-of-{n}", sw.name)),
            None => base.join(&sw.name),
        }
    });
    if args.emit_slurm {
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let (out, file) = (abs(&out), abs(&args.file));
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wijksim"));
        let o = slurm::SlurmOptions {
            shards: args.shards,
            time: args.slurm_time.clone(),
            cpus: args.slurm_cpus.max(1),
            mem: args.slurm_mem.clone(),
            partition: args.slurm_partition.clone(),
            account: args.slurm_account.clone(),
        };
        let dir = slurm::write(&sw.name, &exe, &file, &out, &o)?;
        println!(
            "Wrote Slurm scripts for {} in {} to {}/:\n  shards.sbatch  job array: one shard per task, {}, {} memory, {} each\n  merge.sbatch   merges the shards into {}/merged when all succeeded\n  submit.sh      submits both\nSubmit with: bash {}",
            count(sw.points.len(), "point", "points"),
            count(args.shards, "shard", "shards"),
            dir.display(),
            count(o.cpus, "CPU", "CPUs"),
            o.mem,
            o.time,
            out.display(),
            dir.join("submit.sh").display()
        );
        return Ok(());
    }
    let threads = args.threads.unwrap_or_else(run::default_threads);
    let opts = runner::SweepOptions {
        out: out.clone(),
        resume: args.resume,
        force: args.force,
        shard: args.shard,
        threads,
        max_points: args.max_points,
        reproduce: format!(
            "wijksim sweep {}{} --out {} --resume",
            args.file.display(),
            args.shard
                .map_or(String::new(), |(i, n)| format!(" --shard {i}/{n}")),
            out.display()
        ),
        lang: args.lang.into(),
    };
    let bar = Bar::new(args.quiet, "sweeping");
    let r = runner::run(&sw, &opts, &|p| {
        bar.bar.suspend(print_notes);
        bar.show(
            p.arm_runs_done,
            p.arm_runs_total,
            &format!("{}/{} points", p.done, p.total),
        );
    })?;
    bar.bar.finish_and_clear();
    let rate = if r.seconds > 0.0 {
        r.ran as f64 / r.seconds
    } else {
        0.0
    };
    println!(
        "Sweep {} ({} design, {}, {} per point): {} of {} done{}; {} run now in {:.1} s ({:.2} points/s, {}).",
        sw.name,
        sw.design.name(),
        count(sw.parameters.len(), "parameter", "parameters"),
        count(sw.runs as usize, "run", "runs"),
        r.resumed + r.ran,
        count(r.total, "point", "points"),
        if r.resumed > 0 {
            format!(" ({} from before)", r.resumed)
        } else {
            String::new()
        },
        r.ran,
        r.seconds,
        rate,
        if r.points_in_parallel {
            "points in parallel"
        } else {
            "runs in parallel within each point"
        }
    );
    if r.complete {
        println!("Wrote {}/: {}", r.folder.display(), r.files.join(", "));
    } else {
        println!("Not complete: continue with `{}`.", opts.reproduce);
    }
    Ok(())
}

fn merge(out: &Path, force: bool, lang: LangArg, shards: &[PathBuf]) -> anyhow::Result<()> {
    let r = wijksim::sweep::runner::merge(out, shards, force, lang.into())?;
    println!(
        "Merged {} ({}) into {}/: {}",
        count(r.shards, "shard", "shards"),
        count(r.points, "point", "points"),
        r.folder.display(),
        r.files.join(", ")
    );
    Ok(())
}

fn report(dir: &Path, lang: LangArg, plots: PlotsArg) -> anyhow::Result<()> {
    let r = run::rerender(dir, lang.into(), plots.into())?;
    println!(
        "Redrew {} in {} from its tables (no new simulation).",
        r.replaced.join(", "),
        r.folder.display()
    );
    println!("The report: {} (open in a browser).", r.report.display());
    Ok(())
}

impl From<LangArg> for wijksim::output::report::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Nl => wijksim::output::report::Lang::Nl,
            LangArg::En => wijksim::output::report::Lang::En,
        }
    }
}

/// A progress bar on stderr (hidden when quiet or not a terminal) whose time left is
/// [`progress::Eta`]'s: from the arm-runs finished, smoothed.
struct Bar {
    bar: ProgressBar,
    eta: std::sync::Mutex<progress::Eta>,
    clock: std::time::Instant,
}

impl Bar {
    fn new(quiet: bool, prefix: &'static str) -> Bar {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:40}] {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            b.set_prefix(prefix);
            b
        };
        Bar {
            bar,
            eta: Default::default(),
            clock: std::time::Instant::now(),
        }
    }

    /// `done` of `total` units of work (arm-runs or runs), and what to say before the time left.
    fn show(&self, done: u64, total: u64, what: &str) {
        if self.bar.is_hidden() {
            return;
        }
        let left = self.eta.lock().map_or(None, |mut e| {
            e.update(self.clock.elapsed().as_secs_f64(), done, total)
        });
        self.bar.set_length(total.max(1));
        self.bar.set_position(done);
        self.bar.set_message(match left {
            Some(s) => format!("{what}, {} left", progress::duration(s)),
            None => what.to_string(),
        });
    }
}

fn reproduce_command(args: &RunArgs, runs: u32, seed: u64) -> String {
    let file = args
        .scenario
        .as_ref()
        .map_or(String::new(), |p| format!(" {}", p.display()));
    match args.engine {
        EngineArg::MonteCarlo => {
            let no_psa = if args.no_psa { " --no-psa" } else { "" };
            let risk = args
                .overspend_risk
                .map_or(String::new(), |x| format!(" --overspend-risk {x}"));
            let histories = args
                .histories
                .map_or(String::new(), |n| format!(" --histories {n}"));
            format!("wijksim run{file} --runs {runs} --seed {seed}{no_psa}{risk}{histories}")
        }
        EngineArg::Cohort => format!("wijksim run{file} --engine cohort"),
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut scenario = load(args.scenario.as_deref())?;
    if let Some(x) = args.overspend_risk {
        scenario.model.overspend_risk = x;
    }
    if args.runs.is_none() && matches!(args.engine, EngineArg::MonteCarlo) {
        scenario.check_runs().map_err(Error::Input)?;
    }
    let model = &scenario.model;
    let staged = match &args.out {
        Some(o) => Staged::create(o, args.force)?,
        None => Staged::create_new(&Path::new("output").join(&model.name))?,
    };
    print_notes();
    let runs = args.runs.unwrap_or(model.runs);
    let seed = args.seed.unwrap_or(model.seed);
    let opts = RunOptions {
        runs: Some(runs),
        seed: Some(seed),
        threads: args.threads,
        reproduce: reproduce_command(&args, runs, seed),
        engine: match args.engine {
            EngineArg::MonteCarlo => Engine::MonteCarlo,
            EngineArg::Cohort => Engine::Cohort,
        },
        no_psa: args.no_psa,
        lang: args.lang.into(),
        plots: args.plots.into(),
        histories: args.histories,
    };
    let bar = Bar::new(args.quiet || args.engine == EngineArg::Cohort, "simulating");
    let report = run::run(&scenario, &opts, staged, &|p| {
        bar.show(p.done, p.total, &format!("{}/{} runs", p.done, p.total))
    })?;
    bar.bar.finish_and_clear();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    print_report(&scenario, &report)?;
    Ok(())
}

fn print_report(scenario: &Scenario, r: &RunReport) -> std::io::Result<()> {
    let m = &scenario.model;
    let mut out = std::io::stdout().lock();
    let man = &r.manifest;
    writeln!(
        out,
        "wijksim {}: {} ({})",
        man.wijksim_version, m.title, scenario.source.path
    )?;
    if man.psa {
        writeln!(
            out,
            "Parameter uncertainty (PSA): every run draws the parameters that have a distribution"
        )?;
    }
    if man.engine == "cohort" {
        writeln!(
            out,
            "Expected values (cohort engine: no run-to-run spread), {:.3} s",
            man.wall_time_seconds
        )?;
    } else {
        writeln!(
            out,
            "{}, seed {}, {}, {:.2} s ({:.0} million client-cycles/s)",
            count(man.runs as usize, "run", "runs"),
            man.seed,
            count(man.threads, "thread", "threads"),
            man.wall_time_seconds,
            man.client_cycles as f64 / man.wall_time_seconds.max(1e-9) / 1e6
        )?;
    }
    let sm = &r.summaries[0];
    let lay = &sm.layout;
    writeln!(out)?;
    writeln!(out, "Caseload, {} (mean [P5-P95] over runs)", sm.arm)?;
    let first = 0;
    let last = lay.cycles - 1;
    write!(out, "{:<6}", "state")?;
    for c in [first, last] {
        write!(out, "{:>24}", m.date(c as u32).to_string())?;
    }
    writeln!(out)?;
    for (s, st) in m.states.iter().enumerate() {
        write!(out, "{:<6}", st.code)?;
        for c in [first, last] {
            let x = &sm.stats[lay.caseload(REGION, c, s)];
            write!(
                out,
                "{:>24}",
                if sm.runs > 1 {
                    format!("{:.0} [{:.0}-{:.0}]", x.mean, x.q[0], x.q[4])
                } else {
                    format!("{:.0}", x.mean)
                }
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    let all = r.summaries.len();
    let shown = &r.summaries[..all.min(wijksim::output::plot::ARMS_DRAWN)];
    cost_table(&mut out, shown)?;
    differences(&mut out, m, r, shown)?;
    kpi_table(&mut out, m, shown)?;
    sizing_table(&mut out, &r.sizing)?;
    if shown.len() < all {
        writeln!(
            out,
            "The baseline and the first {} of {} pilot arms are shown here; every arm is in the tables, and `--plots all` draws the figures of every arm.",
            shown.len() - 1,
            all - 1
        )?;
        writeln!(out)?;
    }
    writeln!(out, "Wrote {}/:", r.folder.display())?;
    for (f, what) in [
        ("caseload.csv", "clients per month, state and scope"),
        (
            "flows.csv",
            "inflow, transitions, renewals and outflow per year and scope",
        ),
        (
            "costs.csv",
            "costs per year, scope and cost line (care or community)",
        ),
        (
            "accounts.csv",
            "care cost, community cost and municipal spend (and its parts) per year and scope",
        ),
        (
            "budget.csv",
            "per budget pool and year: budget, spent, overspend, settlement, P(overspend)",
        ),
        (
            "kpis.csv",
            "KPIs per contract year and scope: target, spread, probability met",
        ),
        (
            "evaluations.csv",
            "evaluations due and held per contract year and scope",
        ),
        ("differences.csv", "pilot minus baseline, paired by run"),
        (
            "summary.csv",
            "discounted cost and outcomes per client; incremental per pilot arm",
        ),
        (
            "runs.csv",
            "per-run totals and KPI values (paired by run), for your own analysis",
        ),
        (
            "histories.csv",
            "client histories (episodes per client and state) of the first runs",
        ),
        ("scenario.toml", "the scenario as run"),
        ("results.xlsx", "the tables above as one Excel workbook"),
        (
            "report.html",
            "the report: question, answer, how sure, figures, assumptions (open in a browser)",
        ),
        (
            "manifest.json",
            "version, scenario hash, seed, runs, time taken",
        ),
    ] {
        if r.files.iter().any(|x| x == f) {
            writeln!(out, "  {f:<16} {what}")?;
        }
    }
    let plots = r
        .files
        .iter()
        .filter(|f| f.starts_with("plots/") && f.ends_with(".png"))
        .count();
    if plots > 0 {
        writeln!(
            out,
            "  {:<16} {} as PNG and SVG (fan charts, costs, budgets, KPIs)",
            "plots/",
            count(plots, "figure", "figures")
        )?;
    }
    Ok(())
}

/// Cost per year and arm: P50 [P10-P90] over runs (the 80% interval).
fn cost_table(out: &mut impl Write, summaries: &[Summary]) -> std::io::Result<()> {
    writeln!(
        out,
        "Municipal spend per year, all municipalities, nominal EUR: {}",
        if summaries[0].runs > 1 {
            "P50 [P10-P90] over runs"
        } else {
            "expected values"
        }
    )?;
    let lay = &summaries[0].layout;
    write!(out, "{:<6}", "year")?;
    for sm in summaries {
        write!(out, "  {:>36}", sm.arm)?;
    }
    writeln!(out)?;
    for (y, year) in lay.years.iter().enumerate() {
        write!(out, "{year:<6}")?;
        for sm in summaries {
            let q = cell_quantiles(
                sm,
                sm.layout.account(REGION, y, Account::MunicipalSpend),
                &[0.1, 0.5, 0.9],
            );
            write!(
                out,
                "  {:>36}",
                if sm.runs > 1 {
                    format!("{} [{} - {}]", euros(q[1]), euros(q[0]), euros(q[2]))
                } else {
                    euros(q[1])
                }
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

/// The paired comparison of each pilot arm of `shown` with the baseline.
fn differences(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    r: &RunReport,
    shown: &[Summary],
) -> std::io::Result<()> {
    let Some(base) = shown.first() else {
        return Ok(());
    };
    for sm in &shown[1..] {
        let how = if base.runs > 1 {
            "paired by run"
        } else {
            "expected values"
        };
        writeln!(out, "{} vs {} ({how})", sm.arm, base.arm)?;
        let span = format!(
            "{}-{}",
            base.layout.years[0],
            base.layout.years[base.layout.years.len() - 1]
        );
        // The pilot areas first (the pilot's own effect), then the region.
        let lay = &base.layout;
        for sc in lay.pilot_scope().into_iter().chain([REGION]) {
            let kind = lay.scopes[sc].kind;
            let find = |measure: &str| {
                wijksim::aggregate::paired::find(
                    &r.differences,
                    &sm.arm,
                    kind,
                    measure,
                    Period::All,
                    "",
                )
            };
            let clients: u64 = lay.scopes[sc]
                .areas
                .iter()
                .flat_map(|&a| &m.areas[a].initial)
                .map(|&k| u64::from(k))
                .sum();
            writeln!(
                out,
                "  {} ({} {} at the start):",
                match kind {
                    ScopeKind::PilotAreas => "in the pilot areas",
                    _ => "in the region",
                },
                // Grouped as the euros are.
                euros(clients as f64),
                if clients == 1 { "client" } else { "clients" }
            )?;
            for (measure, what, why) in [
                ("care_cost", "care delivered", "the effect on care"),
                ("municipal_spend", "municipal spend", "the budget design"),
                (
                    "community_cost",
                    "community cost",
                    "sociale basis, volunteers, coordinator",
                ),
            ] {
                let Some(d) = find(measure) else { continue };
                if base.runs == 1 {
                    writeln!(out, "    {what} {span}: {} ({why})", signed(d.mean))?;
                } else {
                    writeln!(
                        out,
                        "    {what} {span}: {} [P5-P95: {} to {}] ({why})",
                        signed(d.mean),
                        signed(d.q[0]),
                        signed(d.q[2])
                    )?;
                }
            }
            if base.runs > 1
                && let Some(d) = find("care_cost")
            {
                writeln!(
                    out,
                    "    probability that the pilot needs less care (care cost lower): {:.0}%",
                    100.0 * d.p_lower
                )?;
            }
        }
        if base.runs > 1 && !sm.layout.pools.is_empty() {
            let overspend =
                wijksim::aggregate::paired::region_total(&r.differences, &sm.arm, "overspend");
            writeln!(
                out,
                "  P(overspend): {:.0}% of runs, some budget pool overspends in some year (mean overspend {}, P95 {})",
                100.0 * wijksim::aggregate::paired::p_overspend(sm),
                euros(overspend.map_or(0.0, |d| d.mean)),
                euros(overspend.map_or(0.0, |d| d.q[2]))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The budget each municipality's pilot areas need together, per year, to keep P(overspend) at or
/// below the scenario's accepted chance (the areas one by one are in budget_sizing.csv).
fn sizing_table(
    out: &mut impl Write,
    sizing: &[wijksim::aggregate::sizing::Sizing],
) -> std::io::Result<()> {
    let pools: Vec<&wijksim::aggregate::sizing::Sizing> = sizing
        .iter()
        .filter(|s| s.scope == "municipality")
        .collect();
    let Some(first) = pools.first() else {
        return Ok(());
    };
    writeln!(
        out,
        "Budget sizing: the budget that keeps P(overspend) at or below {:.0}%, from the baseline's runs (pilot areas pooled per municipality)",
        100.0 * first.alpha
    )?;
    writeln!(
        out,
        "{:<24} {:>4} {:>14} {:>14} {:>10} {:>14}",
        "municipality", "year", "expected", "needed", "above", "pilot budget"
    )?;
    for s in pools {
        writeln!(
            out,
            "{:<24} {:>4} {:>14} {:>14} {:>9.1}% {:>14}",
            s.name,
            s.year,
            euros(s.expected),
            euros(s.needed),
            100.0 * s.above_expected(),
            s.pilot_budget.map_or("-".to_string(), euros)
        )?;
    }
    writeln!(out)
}

/// Probability of meeting each KPI target, per arm, in each KPI's last contract year with a target.
fn kpi_table(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    summaries: &[Summary],
) -> std::io::Result<()> {
    if m.kpis.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "KPIs: probability that the target is met (last contract year with a target)"
    )?;
    // The name column fits the longest name (at least 24 wide).
    let w = m
        .kpis
        .iter()
        .map(|k| k.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(24);
    write!(
        out,
        "{:<w$} {:<12} {:>4} {:>7}",
        "kpi", "scope", "year", "target"
    )?;
    for sm in summaries {
        write!(out, "  {:>26}", sm.arm)?;
    }
    writeln!(out)?;
    // The pilot areas first, then the region (kpis.csv has every scope).
    let lay = &summaries[0].layout;
    for sc in lay.pilot_scope().into_iter().chain([REGION]) {
        for (k, kpi) in m.kpis.iter().enumerate() {
            let Some((i, y)) = kpi.shown_in(sc) else {
                continue;
            };
            let target = kpi.targets[y].expect("found above");
            // A share in percent, a count (of clients) as a number.
            let (scale, unit) = if kpi.is_count() {
                (1.0, "")
            } else {
                (100.0, "%")
            };
            write!(
                out,
                "{:<w$} {:<12} {:>4} {:>7}",
                kpi.name,
                lay.scopes[sc].kind.name(),
                y + 1,
                format!("{:.0}{unit}", scale * target)
            )?;
            for sm in summaries {
                let cell = sm.layout.kpi(m, k, i, y, 0);
                let met = kpi.p_met(y, sm.columns.cell(cell));
                write!(
                    out,
                    "  {:>26}",
                    format!(
                        "{:.0}% (mean {:.1}{unit})",
                        100.0 * met,
                        scale * sm.stats[cell].mean
                    )
                )?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out)
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", euros(x))
    } else {
        euros(x)
    }
}

/// Euros with thousands separators, no decimals.
fn euros(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut s = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            s.push(',');
        }
        s.push(ch);
    }
    format!("{}{s}", if neg { "-" } else { "" })
}
