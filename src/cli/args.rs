//! The command line: commands, their options, and the checks of option values (a count, a seed, a
//! share) with messages that say what to give.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use wijksim::error::Opt;
use wijksim::output::plot::Plots;

/// The flag of an option the library's messages name: the library says `` `force` ``, the command
/// line `--force`.
pub(super) fn flag(o: Opt) -> &'static str {
    match o {
        Opt::Runs => "--runs",
        Opt::Threads => "--threads",
        Opt::Out => "--out",
        Opt::Force => "--force",
        Opt::Resume => "--resume",
        Opt::Shard => "--shard",
        Opt::Shards => "--shards",
        Opt::Arm => "--arm",
        Opt::Vary => "--vary",
        Opt::Posterior => "--posterior",
        Opt::Histories => "--histories",
        Opt::Engine => "--engine",
    }
}

/// wijksim: Monte Carlo forecasts of Wmo caseload and costs (BTS, BT, Waakvlam, sociale basis,
/// vrijwilligerswerk), for neighbourhood and village budget pilots against the provider model.
#[derive(Parser, Debug)]
#[command(name = "wijksim", version, about, long_about = None)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
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
pub(super) struct RunArgs {
    /// Scenario file (TOML); without it, the built-in default scenario.
    pub(super) scenario: Option<PathBuf>,
    /// Number of runs (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_runs)]
    pub(super) runs: Option<u32>,
    /// Master seed (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    pub(super) seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub(super) threads: Option<usize>,
    /// Output folder (default: output/<scenario name>, or a fresh -2, -3, ... beside earlier results).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Replace the output folder if it already holds results.
    #[arg(long)]
    pub(super) force: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
    /// `monte-carlo` (individual clients, spread over runs) or `cohort` (exact expected values, no
    /// spread; capacity limits and reinvested surpluses are ignored, with a warning).
    #[arg(long, value_enum, default_value_t = EngineArg::MonteCarlo)]
    pub(super) engine: EngineArg,
    /// Fix every parameter that has a distribution at its mean (no probabilistic sensitivity analysis).
    #[arg(long)]
    pub(super) no_psa: bool,
    /// Language of report.html: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    pub(super) lang: LangArg,
    /// The accepted chance of overspending a budget, for budget sizing (default: the scenario's
    /// `run.overspend_risk`, else 0.10).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_risk)]
    pub(super) overspend_risk: Option<f64>,
    /// Which figures to draw: `auto` (every arm up to 8 arms, else the baseline and the first 7
    /// pilots), `all`, or `none` (tables only; faster). The tables always hold every arm.
    #[arg(long, value_enum, default_value_t = PlotsArg::Auto)]
    pub(super) plots: PlotsArg,
    /// Write histories.csv: every client's episodes (state, start, end, why it ended) in the first N
    /// runs of every arm (at most the runs; Monte Carlo engine only).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_histories)]
    pub(super) histories: Option<u32>,
}

#[derive(clap::Args, Debug)]
pub(super) struct CalibrateArgs {
    /// Scenario file (TOML); without it, the built-in default scenario.
    pub(super) scenario: Option<PathBuf>,
    /// The published counts: CSV with period,scope,scope_name,state,measure,value,se.
    #[arg(long)]
    pub(super) targets: PathBuf,
    /// A number to fit and its range, KEYPATH=LOW..HIGH (key paths as in sweeps); repeat for more.
    #[arg(long = "vary", required = true, value_parser = parse_vary)]
    pub(super) vary: Vec<wijksim::data::calibrate::Vary>,
    /// Output folder.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// The arm to fit (default: the first, the baseline).
    #[arg(long)]
    pub(super) arm: Option<String>,
    /// Draw a posterior sample of this size (sampling-importance resampling) and write the varied
    /// numbers as distributions.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_posterior)]
    pub(super) posterior: Option<usize>,
    /// Seed of the posterior draws (default: the scenario's).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    pub(super) seed: Option<u64>,
    /// Replace the output folder if it holds an earlier wijksim result.
    #[arg(long)]
    pub(super) force: bool,
    /// Language of the calibration figure: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    pub(super) lang: LangArg,
}

pub(super) fn parse_vary(s: &str) -> Result<wijksim::data::calibrate::Vary, String> {
    wijksim::data::calibrate::parse_vary(s)
}

#[derive(clap::Args, Debug)]
pub(super) struct SweepArgs {
    /// Sweep file (TOML).
    pub(super) file: PathBuf,
    /// Output folder (default: output/<sweep name>, for a shard output/<name>-shard-I-of-N).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Continue the sweep in the output folder: skip the points it holds, run the rest.
    #[arg(long)]
    pub(super) resume: bool,
    /// Start over if the output folder already holds results.
    #[arg(long)]
    pub(super) force: bool,
    /// Run only shard I of N (points k with k mod N = I-1), e.g. 2/8; combine with `wijksim merge`.
    #[arg(long, value_parser = parse_shard)]
    pub(super) shard: Option<(usize, usize)>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub(super) threads: Option<usize>,
    /// Stop after this many points; continue later with --resume.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_max_points)]
    pub(super) max_points: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
    /// Language of the tornado plot: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    pub(super) lang: LangArg,
    /// Write Slurm scripts (a job array over --shards shards and a dependent merge job) into
    /// <out>/slurm/ instead of running.
    #[arg(long)]
    pub(super) emit_slurm: bool,
    /// Shards (array tasks) for --emit-slurm.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = parse_shards)]
    pub(super) shards: usize,
    /// Time limit per shard for --emit-slurm (Slurm format).
    #[arg(long, default_value = "02:00:00")]
    pub(super) slurm_time: String,
    /// CPUs per shard for --emit-slurm.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true, value_parser = parse_slurm_cpus)]
    pub(super) slurm_cpus: usize,
    /// Memory per shard for --emit-slurm.
    #[arg(long, default_value = "4G")]
    pub(super) slurm_mem: String,
    /// Partition for --emit-slurm (default: the cluster's).
    #[arg(long)]
    pub(super) slurm_partition: Option<String>,
    /// Account for --emit-slurm (default: yours).
    #[arg(long)]
    pub(super) slurm_account: Option<String>,
}

pub(super) fn parse_shard(s: &str) -> Result<(usize, usize), String> {
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
pub(super) enum LangArg {
    #[default]
    Nl,
    En,
}

/// `wijksim fit`.
#[derive(clap::Args, Debug)]
pub(super) struct FitArgs {
    /// The episodes (CSV: client,state,start,end and optionally area,end_reason,next_state; the
    /// format of histories.csv).
    pub(super) episodes: PathBuf,
    /// The template scenario: its states, areas, transition rows (their bands and periods), costs
    /// and pilots.
    #[arg(long)]
    pub(super) scenario: PathBuf,
    /// The fitted scenario to write (TOML); the fit report goes beside it as .html.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// With an `arm` column (histories.csv): the arm to read (default: the first in the file).
    #[arg(long)]
    pub(super) arm: Option<String>,
    /// The last month observed, YYYY-MM (default: the latest date in the file); open episodes are
    /// censored there.
    #[arg(long)]
    pub(super) observed_until: Option<String>,
    /// Split every transition row by calendar period and fit each part to its own months: `year`
    /// (a new period each January), or the months new periods begin, e.g. 2023-01,2024-07. The last
    /// part carries the forecast. Default: the template's own rows.
    #[arg(long, value_parser = wijksim::data::fit::Periods::parse)]
    pub(super) periods: Option<wijksim::data::fit::Periods>,
    /// Replace an earlier fit's files.
    #[arg(long)]
    pub(super) force: bool,
    /// Language of the fit report: nl (default) or en.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    pub(super) lang: LangArg,
}

/// `--runs`: a whole number of runs, at least 1 (the upper limit is checked with the memory).
pub(super) fn parse_runs(s: &str) -> Result<u32, String> {
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
pub(super) fn parse_histories(s: &str) -> Result<u32, String> {
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
pub(super) fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse::<u64>().map_err(|_| {
        format!(
            "`{}` is not a seed; give a whole number from 0 to 18446744073709551615, e.g. --seed 20210101",
            wijksim::error::short(s)
        )
    })
}

/// `--threads`: at least 1.
pub(super) fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(format!(
            "`{}` is not a number of threads; give a whole number of at least 1, e.g. --threads 2",
            wijksim::error::short(s)
        )),
    }
}

/// `--overspend-risk`: a chance strictly between 0 and 1.
pub(super) fn parse_risk(s: &str) -> Result<f64, String> {
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
pub(super) fn whole(s: &str, flag: &str, what: &str, example: usize) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| format!("{flag} {n} is too large")),
        _ => Err(format!(
            "`{}`: {flag} is a whole number of {what}, at least 1, e.g. {flag} {example}",
            wijksim::error::short(s)
        )),
    }
}

pub(super) fn parse_max_points(s: &str) -> Result<usize, String> {
    whole(s, "--max-points", "points", 10)
}

pub(super) fn parse_shards(s: &str) -> Result<usize, String> {
    whole(s, "--shards", "shards", 20)
}

pub(super) fn parse_slurm_cpus(s: &str) -> Result<usize, String> {
    whole(s, "--slurm-cpus", "CPUs", 4)
}

pub(super) fn parse_posterior(s: &str) -> Result<usize, String> {
    whole(s, "--posterior", "draws", 500)
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum PlotsArg {
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
pub(super) enum EngineArg {
    #[default]
    MonteCarlo,
    Cohort,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option a library message may name is a flag of some command.
    #[test]
    fn every_option_the_library_names_is_a_flag() {
        let cli = Cli::command();
        let longs: Vec<String> = cli
            .get_subcommands()
            .flat_map(|c| c.get_arguments())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for o in Opt::ALL {
            assert!(longs.iter().any(|l| l == flag(o)), "{o:?}: {}", flag(o));
        }
    }
}
