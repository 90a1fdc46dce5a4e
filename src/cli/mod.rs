//! Command-line parsing, progress display and printing; everything else is the library's.

mod args;
mod console;
mod progress;

use args::*;
use progress::Bar;

use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};
use wijksim::error::{Error, Fault};
use wijksim::output::Staged;
use wijksim::run::{self, Engine, RunOptions};
use wijksim::scenario::{self, Scenario};

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
            eprintln!("error: {}", message(&e));
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

/// The message of an error and its causes (as `{:#}` gives it), the library's errors with the options
/// they name as flags (`--force` where the library says `` `force` ``).
fn message(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| {
            if let Some(w) = c.downcast_ref::<Error>() {
                w.render(flag)
            } else if let Some(w) = c.downcast_ref::<wijksim::error::InputErrors>() {
                w.render(flag)
            } else {
                c.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
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
                eprintln!("error: {}", e.render(flag));
                bad += 1;
            }
        }
    }
    if bad > 0 {
        anyhow::bail!(Error::Options(
            if files.len() == 1 {
                "the file has problems".to_string()
            } else {
                format!(
                    "{bad} of {} {} problems",
                    count(files.len(), "file", "files"),
                    if bad == 1 { "has" } else { "have" }
                )
            }
            .into()
        ));
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
        wijksim::output::lang::Lang::En.int(n as f64),
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
    let c = calibrate::calibrate(scenario, &args.targets, args.vary.clone(), &opts)?;
    let seed = c.posterior.as_ref().map_or(0, |p| p.seed);
    let dir = calibrate::write(
        &c,
        &args.out,
        args.force,
        &calibrate_command(&args, seed),
        started,
        args.lang.into(),
    )?;
    print_calibration(&c);
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

/// A path as one word of a shell command (quoted where it holds a space, a quote or a wildcard).
fn shell_word(p: &Path) -> String {
    let s = p.display().to_string();
    if s.contains([' ', '\'', '"', '[', ']', '*', '?', '$']) {
        format!("'{}'", s.replace('\'', "'\\''"))
    } else {
        s
    }
}

/// The command that calibrates again as `args` did (the posterior with its `seed`).
fn calibrate_command(args: &CalibrateArgs, seed: u64) -> String {
    let mut reproduce = String::from("wijksim calibrate");
    if let Some(p) = &args.scenario {
        reproduce.push_str(&format!(" {}", shell_word(p)));
    }
    reproduce.push_str(&format!(" --targets {}", shell_word(&args.targets)));
    for v in &args.vary {
        reproduce.push_str(&format!(" --vary '{}={}..{}'", v.key, v.low, v.high));
    }
    if let Some(a) = &args.arm {
        reproduce.push_str(&format!(" --arm {}", shell_word(Path::new(a))));
    }
    if let Some(n) = args.posterior {
        reproduce.push_str(&format!(" --posterior {n} --seed {seed}"));
    }
    reproduce.push_str(&format!(" --out {}", shell_word(&args.out)));
    if args.lang != LangArg::Nl {
        reproduce.push_str(" --lang en");
    }
    reproduce
}

/// Prints what a calibration fitted: per varied number its value before and after (and its
/// posterior), the fit's statistics and the posterior sample's.
fn print_calibration(c: &wijksim::data::calibrate::Calibration) {
    use wijksim::data::calibrate::significant;
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
            (Some(m), Some(sd)) => {
                format!("  posterior {} (sd {})", significant(m), significant(sd))
            }
            _ => String::new(),
        };
        println!(
            "{:<44} {:>12} {:>12} {:>12}{post}",
            p.key,
            significant(p.was),
            significant(f.best[i]),
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
}

fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    use wijksim::sweep::runner;
    // The Slurm scripts are written only when every point is valid, so that no error waits for a
    // cluster; a run checks the points of its own folder (all, or its shard's) when it starts.
    let sw = if args.emit_slurm {
        wijksim::sweep::load(&args.file)
    } else {
        wijksim::sweep::read(&args.file)
    }
    .map_err(Error::from)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let base = Path::new("output");
        match args.shard {
            Some((i, n)) => base.join(format!("{}-shard-{i}-of-{n}", sw.name)),
            None => base.join(&sw.name),
        }
    });
    if args.emit_slurm {
        return emit_slurm(&args, &sw, &out);
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
    print_sweep(&sw, &r, &opts.reproduce);
    Ok(())
}

/// What a sweep invocation did, and where it wrote or how to continue it.
fn print_sweep(
    sw: &wijksim::sweep::Sweep,
    r: &wijksim::sweep::runner::SweepReport,
    reproduce: &str,
) {
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
        println!("Not complete: continue with `{reproduce}`.");
    }
}

/// `wijksim sweep --emit-slurm`: the Slurm scripts of a sweep whose every point was checked.
fn emit_slurm(args: &SweepArgs, sw: &wijksim::sweep::Sweep, out: &Path) -> anyhow::Result<()> {
    use wijksim::sweep::slurm;
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (out, file) = (abs(out), abs(&args.file));
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
    Ok(())
}

fn merge(out: &Path, force: bool, lang: LangArg, shards: &[PathBuf]) -> anyhow::Result<()> {
    let reproduce = format!(
        "wijksim merge --out {} {}",
        out.display(),
        shards
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let r = wijksim::sweep::runner::merge(out, shards, force, lang.into(), &reproduce)?;
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

impl From<LangArg> for wijksim::output::lang::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Nl => wijksim::output::lang::Lang::Nl,
            LangArg::En => wijksim::output::lang::Lang::En,
        }
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
    print!("{}", console::summary(&scenario, &report));
    Ok(())
}

/// The first line of every file `wijksim fit` writes: what marks it as ours to replace.
const FIT_MARK: &str = "# Fitted by wijksim fit";

/// Writes `bytes` to `path` whole or not at all; an existing file is replaced only with `force` and
/// only if `wijksim fit` wrote it (`mark` in it).
fn write_fit_file(path: &Path, bytes: &[u8], force: bool, mark: &str) -> anyhow::Result<()> {
    if path.exists() {
        let ours = std::fs::read_to_string(path).is_ok_and(|t| t.contains(mark));
        if !ours {
            return Err(Error::OutputRefused(Fault::new(
                format!(
                    "'{}' already exists, and wijksim fit did not write it; it never replaces it",
                    path.display()
                ),
                "choose another --out",
            ))
            .into());
        }
        if !force {
            return Err(Error::OutputExists(Fault::new(
                format!("'{}' already holds an earlier fit", path.display()),
                "choose another --out, or add --force to replace it",
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
        Error::Options(format!("cannot read the episodes '{file}': {e}; check the path").into())
    })?;
    let text =
        wijksim::data::csv::decode(&file, &text, "client,state,start,end").map_err(Error::Input)?;
    let until = match &args.observed_until {
        Some(s) => Some(wijksim::model::YearMonth::parse(s).ok_or_else(|| {
            Error::Options(
                format!("--observed-until {s} is not a month; write it as YYYY-MM, e.g. 2025-12")
                    .into(),
            )
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
