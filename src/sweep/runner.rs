//! Running a sweep: points in parallel or runs in parallel, results appended per finished point,
//! resumable, shardable, and merged into the same `sweep.csv` an unsharded run gives.
//!
//! The output folder holds `sweep.csv` (header `point,<parameters>,<metrics>`), `manifest.json`, and
//! copies of the sweep file and the scenario. While a sweep runs, each finished point is appended to
//! `sweep.csv` as one whole line in a single write, so an interrupted sweep loses at most the points in
//! flight; `--resume` drops a torn last line, skips the points already there and runs the rest. When
//! every point of the folder is done, `sweep.csv` is rewritten in point order (to a temporary file that
//! is renamed into place), the one-way tornado plot is drawn, and the manifest says `complete`.

use super::{Design, Sweep, metrics};
use crate::error::{Error, Fault, InputError, Message, Opt, Result, says};
use crate::output::guard;
use crate::output::lang::Lang;
use crate::output::manifest::{Provenance, to_json, utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// `manifest.json` of a sweep folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepManifest {
    /// Which wijksim and base scenario, when the sweep started, its wall time so far, and the
    /// command that runs (or resumes) this folder.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// Sweep name.
    pub name: String,
    /// The sweep file as given.
    pub sweep_file: String,
    /// Its SHA-256.
    pub sweep_sha256: String,
    /// `grid`, `latin_hypercube` or `one_way`.
    pub design: String,
    /// The parameter columns.
    pub parameters: Vec<String>,
    /// The metric that ranks the tornado plot, and its kind (`euros`, `share`, `number`).
    pub metric: String,
    /// Kind of the metric.
    pub metric_kind: String,
    /// The ISO 4217 code of the scenario's currency (`[scenario] currency`); empty for euros, and then
    /// left out of the file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub currency: String,
    /// Points of the whole sweep.
    pub points: usize,
    /// `I/N` for a shard, or empty.
    pub shard: String,
    /// Points of this folder (its shard, or all).
    pub folder_points: usize,
    /// Runs per point.
    pub runs: u32,
    /// Master seed (the same at every point).
    pub seed: u64,
    /// Whether parameters with a distribution (not swept) are drawn per run.
    pub psa: bool,
    /// Worker threads of the last invocation.
    pub threads: usize,
    /// Points done.
    pub points_done: usize,
    /// Whether every point of the folder is done.
    pub complete: bool,
}

impl SweepManifest {
    fn same_sweep(&self, other: &SweepManifest) -> bool {
        self.sweep_sha256 == other.sweep_sha256
            && self.provenance.scenario_sha256 == other.provenance.scenario_sha256
            && self.points == other.points
            && self.runs == other.runs
            && self.seed == other.seed
            && self.psa == other.psa
            && self.parameters == other.parameters
    }
}

/// Options of a sweep invocation.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Continue the sweep in `out`.
    pub resume: bool,
    /// Replace `out` if it holds results.
    pub force: bool,
    /// `(i, n)`: run shard `i` of `n` (1-based): the points `k` with `k % n == i - 1`.
    pub shard: Option<(usize, usize)>,
    /// Worker threads.
    pub threads: usize,
    /// Stop after this many points (the rest stay for `--resume`).
    pub max_points: Option<usize>,
    /// The command that runs this sweep, for the manifest.
    pub reproduce: String,
    /// Language of the tornado plot.
    pub lang: Lang,
}

/// Progress over points, and over the arm-runs of this invocation (for the time left: see
/// the command's time-left estimate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepProgress {
    /// Points of the folder done (including earlier invocations).
    pub done: usize,
    /// Points of the folder.
    pub total: usize,
    /// Arm-runs (one arm of one run) finished by this invocation, within points still running too.
    pub arm_runs_done: u64,
    /// Arm-runs this invocation has to do.
    pub arm_runs_total: u64,
}

/// What a sweep invocation did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    /// The folder.
    pub folder: PathBuf,
    /// Points of the folder.
    pub total: usize,
    /// Points done before this invocation (resumed).
    pub resumed: usize,
    /// Points run now.
    pub ran: usize,
    /// Whether every point is done.
    pub complete: bool,
    /// Wall time of this invocation, seconds.
    pub seconds: f64,
    /// Whether points ran in parallel (else runs within each point did).
    pub points_in_parallel: bool,
    /// Files written.
    pub files: Vec<String>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.display().to_string(),
        source: e,
    }
}

fn bad_folder(
    path: &Path,
    line: Option<usize>,
    problem: impl Into<Message>,
    fix: impl Into<Message>,
) -> Error {
    Error::Input(InputError::new(path.display().to_string(), line, "", problem, fix).into())
}

/// The fix for a folder that is not a shard of a sweep.
fn shards_fix() -> Message {
    says!(
        "give the folders of a sweep run in shards (",
        Opt::Shard,
        " I/N)"
    )
}

/// The header of `sweep.csv`.
pub fn header(sweep: &Sweep) -> String {
    let mut h = vec!["point".to_string()];
    h.extend(sweep.parameters.iter().map(|p| p.name.clone()));
    h.extend(sweep.metric_names.iter().cloned());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&h).expect("writing to memory");
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 names")
}

/// The points of a folder: all, or those of shard `i` of `n`.
pub fn folder_points(n_points: usize, shard: Option<(usize, usize)>) -> Vec<usize> {
    match shard {
        None => (0..n_points).collect(),
        Some((i, n)) => (0..n_points).filter(|k| k % n == i - 1).collect(),
    }
}

/// Computes point `k`: its `sweep.csv` line.
/// `progress` gets the runs of the point finished so far.
pub fn point_row(
    sweep: &Sweep,
    k: usize,
    threads: usize,
    progress: &(dyn Fn(crate::run::batch::Progress) + Sync),
) -> Result<String> {
    let sc = sweep.scenario_at(k)?;
    let summaries = crate::run::batch::run_scenario(
        &sc,
        sweep.psa,
        &crate::run::batch::Options {
            runs: sweep.runs,
            seed: sweep.seed,
            threads,
        },
        progress,
    )?;
    let mut row = vec![k.to_string()];
    row.extend(sweep.points[k].iter().map(|v| format!("{v}")));
    row.extend(metrics::values(&sc.model, &summaries));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&row).expect("writing to memory");
    Ok(String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8"))
}

/// Rows of `sweep.csv` by point: `(point, line with its newline)`.
type Rows = Vec<(usize, String)>;

/// The rows of a `sweep.csv` text after its header, by point; a torn last line (no newline) is dropped
/// and its byte offset returned. Lines must be whole rows of this header.
fn read_rows(path: &Path, text: &str, header: &str) -> Result<(Rows, Option<usize>)> {
    let fix = || {
        says!(
            "this is not a sweep.csv of this sweep; run it again with ",
            Opt::Force,
            " to start over"
        )
    };
    let Some(rest) = text.strip_prefix(header) else {
        return Err(bad_folder(
            path,
            Some(1),
            "the header is not this sweep's",
            fix(),
        ));
    };
    let fields = header.trim_end().split(',').count();
    let mut rows = Vec::new();
    let mut torn = None;
    let mut offset = header.len();
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if !line.ends_with('\n') {
            torn = Some(offset);
            break;
        }
        offset += line.len();
        let body = line.trim_end_matches('\n');
        let id = body.split(',').next().and_then(|s| s.parse::<usize>().ok());
        match id {
            Some(id) if body.split(',').count() == fields => rows.push((id, line.to_string())),
            _ => {
                return Err(bad_folder(
                    path,
                    Some(i + 2),
                    "a row that is not a whole sweep row",
                    says!(
                        "delete the line (its point runs again with ",
                        Opt::Resume,
                        ")"
                    ),
                ));
            }
        }
    }
    Ok((rows, torn))
}

fn manifest_of(sweep: &Sweep, opts: &SweepOptions, started: String) -> SweepManifest {
    let kinds = metrics::kinds(&sweep.scenario.model);
    let mk = sweep
        .metric_names
        .iter()
        .position(|m| *m == sweep.metric)
        .map_or(metrics::Kind::Number, |i| kinds[i]);
    SweepManifest {
        provenance: sweep.scenario.provenance(started, &opts.reproduce),
        name: sweep.name.clone(),
        sweep_file: sweep.file.clone(),
        sweep_sha256: sweep.sha256.clone(),
        design: sweep.design.name().into(),
        parameters: sweep.parameters.iter().map(|p| p.name.clone()).collect(),
        metric: sweep.metric.clone(),
        metric_kind: match mk {
            metrics::Kind::Euros => "euros",
            metrics::Kind::Share => "share",
            metrics::Kind::Number => "number",
        }
        .into(),
        currency: match sweep.scenario.model.currency {
            c if c == crate::model::currency::Currency::EUR => String::new(),
            c => c.code.into(),
        },
        points: sweep.points.len(),
        shard: opts
            .shard
            .map_or(String::new(), |(i, n)| format!("{i}/{n}")),
        folder_points: folder_points(sweep.points.len(), opts.shard).len(),
        runs: sweep.runs,
        seed: sweep.seed,
        psa: sweep.psa,
        threads: opts.threads,
        points_done: 0,
        complete: false,
    }
}

fn read_manifest(dir: &Path) -> Result<SweepManifest> {
    let path = dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| {
        bad_folder(
            &path,
            None,
            format!("cannot read the sweep manifest: {e}"),
            "give a folder written by `wijksim sweep`",
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        bad_folder(
            &path,
            Some(e.line()),
            format!("not a sweep manifest: {e}"),
            "give a folder written by `wijksim sweep`",
        )
    })
}

/// Runs (or resumes) a sweep into `opts.out`. The points of the folder (all, or the shard's) are
/// checked first ([`Sweep::check_points`]): a bad point stops the sweep before anything runs or is
/// written.
pub fn run(
    sweep: &Sweep,
    opts: &SweepOptions,
    progress: &(dyn Fn(SweepProgress) + Sync),
) -> Result<SweepReport> {
    let clock = Instant::now();
    check_options(opts)?;
    let mine = folder_points(sweep.points.len(), opts.shard);
    sweep.check_points(mine.iter().copied())?;
    let out = Out::open(opts)?;
    let dir = out.dir();
    let csv_path = dir.join("sweep.csv");
    let header = header(sweep);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut manifest = manifest_of(sweep, opts, utc(now));
    let mut done = if out.place == guard::Place::Results && opts.resume {
        resume(dir, &csv_path, &header, &mine, &mut manifest)?
    } else {
        start(sweep, dir, &csv_path, &header, &manifest)?;
        Vec::new()
    };
    done.sort_unstable();
    let total = mine.len();
    let resumed = done.len();
    let mut todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|k| done.binary_search(k).is_err())
        .collect();
    if let Some(m) = opts.max_points {
        todo.truncate(m);
    }
    let (done_now, points_in_parallel) =
        run_points(sweep, opts, &csv_path, &todo, (resumed, total), progress)?;
    let complete = done_now == total;
    let mut files = vec![
        "sweep.csv".to_string(),
        "manifest.json".into(),
        "sweep.toml".into(),
        "scenario.toml".into(),
    ];
    if complete {
        files.extend(finish_table(
            sweep, opts, dir, &csv_path, &header, &manifest,
        )?);
    }
    manifest.points_done = done_now;
    manifest.complete = complete;
    let so_far = manifest.provenance.wall_time_seconds;
    manifest
        .provenance
        .set_wall_time(so_far + clock.elapsed().as_secs_f64());
    crate::output::write_atomic(&dir.join("manifest.json"), &to_json(&manifest))?;
    out.commit()?;
    Ok(SweepReport {
        folder: opts.out.clone(),
        total,
        resumed,
        ran: done_now - resumed,
        complete,
        seconds: clock.elapsed().as_secs_f64(),
        points_in_parallel,
        files,
    })
}

/// The options a sweep cannot run with: no threads, or a shard outside its split.
fn check_options(opts: &SweepOptions) -> Result<()> {
    if opts.threads == 0 {
        return Err(Error::Options(
            says!(
                "the number of threads must be at least 1 (",
                Opt::Threads,
                ")"
            )
            .into(),
        ));
    }
    if let Some((i, n)) = opts.shard
        && (n == 0 || i == 0 || i > n)
    {
        return Err(Error::Options(
            says!(Opt::Shard, format!(" {i}/{n}: give I/N with 1 <= I <= N")).into(),
        ));
    }
    Ok(())
}

/// The output folder of a sweep invocation, locked while it is written. A forced sweep over earlier
/// results runs in a staging folder; the old results stay until the new folder is swapped in at the
/// end ([`Out::commit`]).
struct Out<'a> {
    target: &'a Path,
    parent: PathBuf,
    name: String,
    place: guard::Place,
    staged: Option<guard::Staging>,
    _lock: guard::Lock,
}

impl<'a> Out<'a> {
    fn open(opts: &'a SweepOptions) -> Result<Out<'a>> {
        let target = &opts.out;
        let (parent, name) = guard::split(target)?;
        let exists_err = || {
            Error::OutputExists(Fault::new(
                format!("output folder '{}' already holds results", target.display()),
                says!(
                    "continue it with ",
                    Opt::Resume,
                    ", choose another folder with ",
                    Opt::Out,
                    ", or pass ",
                    Opt::Force,
                    " to start over (the old results stay until the new sweep is complete)"
                ),
            ))
        };
        let check = || match guard::check_place(target, opts.force || opts.resume) {
            Err(Error::OutputExists(_)) => Err(exists_err()),
            r => r,
        };
        check()?;
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let lock = guard::lock(target)?;
        guard::clear_stale(&parent, Some(&name));
        let place = check()?;
        if place == guard::Place::Results {
            guard::clear_stale(target, None);
        }
        let staged = (place == guard::Place::Results && !opts.resume)
            .then(|| {
                let stage = parent.join(format!(".{name}.partial-{}", std::process::id()));
                guard::Staging::create(stage.clone()).map_err(io(&stage))
            })
            .transpose()?;
        Ok(Out {
            target,
            parent,
            name,
            place,
            staged,
            _lock: lock,
        })
    }

    /// Where this invocation writes: the staging folder, or the target itself.
    fn dir(&self) -> &Path {
        self.staged.as_ref().map_or(self.target, |s| s.path())
    }

    /// Swaps a staging folder into place (the old results are removed); then releases the lock.
    fn commit(self) -> Result<()> {
        if let Some(stage) = self.staged {
            let old = self
                .parent
                .join(format!(".{}.old-{}", self.name, std::process::id()));
            guard::check_place(self.target, true)?;
            stage
                .swap_into(self.target, &old)
                .map_err(io(self.target))?;
        }
        Ok(())
    }
}

/// Takes up the sweep in `dir` again: checks that it is this sweep, drops a torn last line of
/// `sweep.csv`, and returns the points already done. The manifest keeps its start and wall time.
fn resume(
    dir: &Path,
    csv_path: &Path,
    header: &str,
    mine: &[usize],
    manifest: &mut SweepManifest,
) -> Result<Vec<usize>> {
    let old = read_manifest(dir)?;
    if !old.same_sweep(manifest) || old.shard != manifest.shard {
        return Err(bad_folder(
            &dir.join("manifest.json"),
            None,
            "the folder holds another sweep (a different sweep file, scenario, runs, seed or shard)",
            says!(
                "resume with the same sweep file and options, or start over with ",
                Opt::Force
            ),
        ));
    }
    manifest.provenance.started_utc = old.provenance.started_utc.clone();
    manifest.provenance.wall_time_seconds = old.provenance.wall_time_seconds;
    let text = std::fs::read_to_string(csv_path).map_err(|e| {
        bad_folder(
            csv_path,
            None,
            format!("cannot read the results to resume: {e}"),
            says!("start over with ", Opt::Force),
        )
    })?;
    let (rows, torn) = read_rows(csv_path, &text, header)?;
    if let Some(at) = torn {
        // Not through `write_atomic`: `sweep.csv` is a log of finished points, cut back to its last
        // whole line here and appended to in `run_points`, so that a stopped sweep resumes.
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(csv_path)
            .map_err(io(csv_path))?;
        f.set_len(at as u64).map_err(io(csv_path))?;
    }
    let mut done = Vec::new();
    for (id, _) in rows {
        if mine.binary_search(&id).is_err() {
            return Err(bad_folder(
                csv_path,
                None,
                format!("point {id} does not belong to this folder"),
                says!("start over with ", Opt::Force),
            ));
        }
        if !done.contains(&id) {
            done.push(id);
        }
    }
    Ok(done)
}

/// Starts a new sweep folder: copies of the sweep file and the scenario, the manifest, and
/// `sweep.csv` with its header.
fn start(
    sweep: &Sweep,
    dir: &Path,
    csv_path: &Path,
    header: &str,
    manifest: &SweepManifest,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    crate::output::write_atomic(&dir.join("sweep.toml"), sweep.text.as_bytes())?;
    crate::output::write_atomic(
        &dir.join("scenario.toml"),
        sweep.scenario.source.text.as_bytes(),
    )?;
    crate::output::write_atomic(&dir.join("manifest.json"), &to_json(manifest))?;
    crate::output::write_atomic(csv_path, header.as_bytes())
}

/// Runs the points `todo`, appending each finished point's row to `sweep.csv`; `(resumed, total)`
/// are the folder's points done before and all its points, for the progress. Returns the points
/// done now (with those before) and whether points ran in parallel. The first failure stops the
/// points not yet started and is returned.
fn run_points(
    sweep: &Sweep,
    opts: &SweepOptions,
    csv_path: &Path,
    todo: &[usize],
    (resumed, total): (usize, usize),
    progress: &(dyn Fn(SweepProgress) + Sync),
) -> Result<(usize, bool)> {
    let file = Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(csv_path)
            .map_err(io(csv_path))?,
    );
    let count = AtomicUsize::new(resumed);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let stop = AtomicBool::new(false);
    let arms = sweep.scenario.model.arms.len() as u64;
    let arm_runs_total = todo.len() as u64 * u64::from(sweep.runs) * arms;
    let arm_runs = AtomicU64::new(0);
    let report = |done: usize| {
        progress(SweepProgress {
            done,
            total,
            arm_runs_done: arm_runs.load(Ordering::Relaxed),
            arm_runs_total,
        })
    };
    report(resumed);
    let one = |k: usize, threads: usize| {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // The point's runs as they finish (the batch reports its runs done so far).
        let seen = AtomicU64::new(0);
        let runs_done = |p: crate::run::batch::Progress| {
            let before = seen.fetch_max(p.done, Ordering::Relaxed);
            if p.done > before {
                arm_runs.fetch_add((p.done - before) * arms, Ordering::Relaxed);
                report(count.load(Ordering::Relaxed));
            }
        };
        let result = point_row(sweep, k, threads, &runs_done).and_then(|row| {
            let mut f = file.lock().expect("no panics while holding the lock");
            f.write_all(row.as_bytes()).map_err(io(csv_path))
        });
        match result {
            Ok(()) => {
                let d = count.fetch_add(1, Ordering::Relaxed) + 1;
                report(d);
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                let mut slot = failed.lock().expect("no panics while holding the lock");
                if slot.is_none() {
                    *slot = Some(e);
                }
            }
        }
    };
    let points_in_parallel = in_pool(sweep, opts, todo, &one)?;
    drop(file);
    if let Some(e) = failed
        .into_inner()
        .expect("no panics while holding the lock")
    {
        return Err(e);
    }
    Ok((count.load(Ordering::Relaxed), points_in_parallel))
}

/// Calls `one(point, threads)` for every point of `todo` in one pool of `opts.threads` threads; says
/// whether points ran in parallel.
///
/// Many points: one thread per point. Few points: all threads on the runs of each point. Either way
/// one pool for the whole invocation, so that threads and memory do not grow with the points. Points
/// in parallel keep one point's per-run statistics per thread: only when they fit the budget.
fn in_pool(
    sweep: &Sweep,
    opts: &SweepOptions,
    todo: &[usize],
    one: &(dyn Fn(usize, usize) + Sync),
) -> Result<bool> {
    let need = crate::limits::need(&sweep.scenario.model, u64::from(sweep.runs), 1).total();
    let points_in_parallel = opts.threads > 1
        && todo.len() >= 2 * opts.threads
        && need.saturating_mul(opts.threads as u64) <= crate::limits::MEMORY_BUDGET;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| {
            Error::Options(format!("could not start {} threads: {e}", opts.threads).into())
        })?;
    if points_in_parallel {
        pool.install(|| todo.par_iter().with_max_len(1).for_each(|&k| one(k, 1)));
    } else {
        pool.install(|| {
            for &k in todo {
                one(k, opts.threads);
            }
        });
    }
    Ok(points_in_parallel)
}

/// A complete folder: `sweep.csv` rewritten in point order, and the tornado plot of an unsharded
/// one-way sweep. Returns the figure files written.
fn finish_table(
    sweep: &Sweep,
    opts: &SweepOptions,
    dir: &Path,
    csv_path: &Path,
    header: &str,
    manifest: &SweepManifest,
) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(csv_path).map_err(io(csv_path))?;
    let (mut rows, _) = read_rows(csv_path, &text, header)?;
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    let sorted = sorted_csv(header, &rows);
    crate::output::write_atomic(csv_path, sorted.as_bytes())?;
    if sweep.design == Design::OneWay && opts.shard.is_none() {
        return write_tornado(dir, manifest, &sorted, opts.lang);
    }
    Ok(Vec::new())
}

fn sorted_csv(header: &str, rows: &[(usize, String)]) -> String {
    let mut s = header.to_string();
    for (_, r) in rows {
        s.push_str(r);
    }
    s
}

/// The tornado plot of a complete one-way `sweep.csv` (`None` when the rows are not a one-way design).
fn tornado_figure(
    m: &SweepManifest,
    csv_text: &str,
    lang: Lang,
) -> Result<Option<crate::output::plot::tornado::Tornado>> {
    use crate::output::plot::tornado::{Tornado, TornadoBar, Unit};
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let head: Vec<String> = rd
        .headers()
        .map_err(|e| Error::Options(e.to_string().into()))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<Vec<f64>> = rd
        .records()
        .map(|r| {
            r.map(|r| {
                r.iter()
                    .map(|x| x.parse::<f64>().unwrap_or(f64::NAN))
                    .collect()
            })
            .map_err(|e| Error::Options(e.to_string().into()))
        })
        .collect::<Result<_>>()?;
    let col = |name: &str| head.iter().position(|h| h == name);
    let Some(mc) = col(&m.metric) else {
        return Ok(None);
    };
    let p = m.parameters.len();
    if m.design != "one_way" || rows.len() != 1 + 2 * p {
        return Ok(None);
    }
    let bars: Vec<TornadoBar> = (0..p)
        .map(|j| TornadoBar {
            label: m.parameters[j].clone(),
            low: rows[1 + 2 * j][1 + j],
            high: rows[2 + 2 * j][1 + j],
            at_low: rows[1 + 2 * j][mc],
            at_high: rows[2 + 2 * j][mc],
        })
        .collect();
    Ok(Some(Tornado {
        title: match lang {
            Lang::Nl => format!("Gevoeligheid van {} (één parameter tegelijk)", m.metric),
            Lang::En => format!("Sensitivity of {} (one parameter at a time)", m.metric),
        },
        metric: m.metric.clone(),
        unit: match m.metric_kind.as_str() {
            "euros" => Unit::Euros,
            "share" => Unit::Share,
            _ => Unit::Number,
        },
        base: rows[0][mc],
        bars,
        lang,
        currency: crate::model::currency::Currency::from_code(&m.currency).unwrap_or_default(),
    }))
}

fn plot_err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Write {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    }
}

/// Draws the tornado plot of a complete one-way `sweep.csv` into `dir`: `tornado.svg` and `tornado.png`,
/// each written whole (a temporary file renamed into place).
fn write_tornado(dir: &Path, m: &SweepManifest, csv_text: &str, lang: Lang) -> Result<Vec<String>> {
    let Some(fig) = tornado_figure(m, csv_text, lang)? else {
        return Ok(Vec::new());
    };
    let (svg_path, png_path) = (dir.join("tornado.svg"), dir.join("tornado.png"));
    let svg = crate::output::plot::svg(&fig).map_err(plot_err(&svg_path))?;
    crate::output::write_atomic(&svg_path, svg.as_bytes())?;
    let png = crate::output::plot::png_bytes(&fig).map_err(plot_err(&png_path))?;
    crate::output::write_atomic(&png_path, &png)?;
    Ok(vec!["tornado.svg".into(), "tornado.png".into()])
}

/// What a merge produced.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// The merged folder.
    pub folder: PathBuf,
    /// Points.
    pub points: usize,
    /// Shards merged.
    pub shards: usize,
    /// Files written.
    pub files: Vec<String>,
}

/// Merges the complete shard folders of one sweep into `out`: the same `sweep.csv` (byte for byte)
/// and tornado plot as an unsharded run. `out` is written whole or not at all; its manifest records
/// `reproduce`, the command that made it.
pub fn merge(
    out: &Path,
    shards: &[PathBuf],
    force: bool,
    lang: Lang,
    reproduce: &str,
) -> Result<MergeReport> {
    if shards.is_empty() {
        return Err(Error::Options("give the shard folders to merge".into()));
    }
    let mut staged = crate::output::Staged::create(out, force)?;
    let manifests: Vec<SweepManifest> = shards
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_>>()?;
    let first = &manifests[0];
    let n = check_shards(shards, &manifests)?;
    let (header, rows) = shard_rows(shards)?;
    check_every_point_once(&rows, first.points)?;
    let sorted = sorted_csv(&header, &rows);
    staged.write("sweep.csv", sorted.as_bytes())?;
    for f in ["sweep.toml", "scenario.toml"] {
        let p = shards[0].join(f);
        staged.write(f, &std::fs::read(&p).map_err(io(&p))?)?;
    }
    let m = merged_manifest(&manifests, reproduce);
    let mut files = vec![
        "sweep.csv".to_string(),
        "sweep.toml".into(),
        "scenario.toml".into(),
    ];
    staged.write("manifest.json", &to_json(&m))?;
    files.push("manifest.json".into());
    if let Some(fig) = tornado_figure(&m, &sorted, lang)? {
        let svg = crate::output::plot::svg(&fig).map_err(plot_err(Path::new("tornado.svg")))?;
        staged.write("tornado.svg", svg.as_bytes())?;
        let png =
            crate::output::plot::png_bytes(&fig).map_err(plot_err(Path::new("tornado.png")))?;
        staged.write("tornado.png", &png)?;
        files.extend(["tornado.svg".to_string(), "tornado.png".into()]);
    }
    let target = staged.commit()?;
    Ok(MergeReport {
        folder: target,
        points: first.points,
        shards: n,
        files,
    })
}

/// Checks that the shards' manifests are the complete shards of one sweep, each once, none missing;
/// returns the number of shards of the split.
fn check_shards(shards: &[PathBuf], manifests: &[SweepManifest]) -> Result<usize> {
    let n: usize = manifests[0]
        .shard
        .split_once('/')
        .and_then(|(_, n)| n.parse().ok())
        .ok_or_else(|| {
            bad_folder(
                &shards[0].join("manifest.json"),
                None,
                "not a shard of a sweep (no `shard`)",
                shards_fix(),
            )
        })?;
    let mut seen = vec![false; n + 1];
    for (d, m) in shards.iter().zip(manifests) {
        check_shard(
            &d.join("manifest.json"),
            m,
            (&manifests[0], &shards[0]),
            &mut seen,
        )?;
    }
    if let Some(i) = (1..=n).find(|&i| !seen[i]) {
        return Err(Error::Options(Fault::new(
            format!("shard {i}/{n} is missing"),
            format!("give all {n} shard folders"),
        )));
    }
    Ok(n)
}

/// Checks one shard's manifest (at `mpath`) against the first shard's (of folder `first_dir`) and
/// the split in `seen.len() - 1` shards, and marks it seen.
fn check_shard(
    mpath: &Path,
    m: &SweepManifest,
    (first, first_dir): (&SweepManifest, &Path),
    seen: &mut [bool],
) -> Result<()> {
    let n = seen.len() - 1;
    if !m.same_sweep(first) {
        return Err(bad_folder(
            mpath,
            None,
            format!("a shard of another sweep than {}", first_dir.display()),
            "merge the shards of one sweep (same sweep file, scenario, runs and seed)",
        ));
    }
    let (i, ni) = m
        .shard
        .split_once('/')
        .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .ok_or_else(|| bad_folder(mpath, None, "not a shard (no `shard`)", shards_fix()))?;
    if ni != n || i == 0 || i > n {
        return Err(bad_folder(
            mpath,
            None,
            format!("shard {i}/{ni} does not fit a sweep in {n} shards"),
            "merge shards of one split",
        ));
    }
    if seen[i] {
        return Err(bad_folder(
            mpath,
            None,
            format!("shard {i}/{n} is given twice"),
            "give each shard once",
        ));
    }
    seen[i] = true;
    if !m.complete {
        return Err(bad_folder(
            mpath,
            None,
            format!(
                "shard {i}/{n} is not complete ({} of {} points)",
                m.points_done, m.folder_points
            ),
            says!(
                "finish it: run its sweep again with ",
                Opt::Shard,
                format!(" {i}/{n} and "),
                Opt::Resume
            ),
        ));
    }
    Ok(())
}

/// The shards' `sweep.csv` rows in point order, and their common header.
fn shard_rows(shards: &[PathBuf]) -> Result<(String, Rows)> {
    let header_of = |text: &str| text.split_inclusive('\n').next().unwrap_or("").to_string();
    let mut header = String::new();
    let mut rows: Rows = Vec::new();
    for d in shards {
        let path = d.join("sweep.csv");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let h = header_of(&text);
        if header.is_empty() {
            header = h;
        } else if h != header {
            return Err(bad_folder(
                &path,
                Some(1),
                "the header differs from the first shard's",
                "merge shards of one sweep",
            ));
        }
        let (r, torn) = read_rows(&path, &text, &header)?;
        if torn.is_some() {
            return Err(bad_folder(
                &path,
                None,
                "the last line is torn",
                says!("finish the shard with ", Opt::Resume),
            ));
        }
        rows.extend(r);
    }
    rows.sort_by_key(|r| r.0);
    Ok((header, rows))
}

/// Rows sorted by point hold every point of a sweep of `points` points once.
fn check_every_point_once(rows: &Rows, points: usize) -> Result<()> {
    for (k, r) in rows.iter().enumerate() {
        if r.0 != k {
            return Err(Error::Options(Fault::new(
                format!(
                    "point {} is {} in the shards",
                    if r.0 > k { k } else { r.0 },
                    if r.0 > k { "missing" } else { "twice" }
                ),
                "give every shard of the sweep once",
            )));
        }
    }
    if rows.len() != points {
        return Err(Error::Options(
            format!("the shards hold {} of {} points", rows.len(), points).into(),
        ));
    }
    Ok(())
}

/// The manifest of the merged folder: the first shard's, whole and complete, with the shards' wall
/// times added up and `reproduce`, the merge command that made it.
fn merged_manifest(manifests: &[SweepManifest], reproduce: &str) -> SweepManifest {
    let first = &manifests[0];
    let mut m = first.clone();
    m.shard = String::new();
    m.folder_points = first.points;
    m.points_done = first.points;
    m.complete = true;
    m.provenance.set_wall_time(
        manifests
            .iter()
            .map(|m| m.provenance.wall_time_seconds)
            .sum::<f64>(),
    );
    m.provenance.reproduce = reproduce.to_string();
    m
}
