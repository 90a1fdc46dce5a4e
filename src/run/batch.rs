//! Many runs in parallel.
//!
//! Runs are the unit of parallel work. They are simulated in chunks on a rayon pool of the requested
//! size; each run is reduced to its reported cells as soon as it finishes, and cells are stored by run
//! index, so the result is the same for any number of threads. Progress goes out through a callback.

use crate::aggregate::{Columns, Layout, Summary, reduce_arms_into};
use crate::engine;
use crate::error::{Error, Fault, Opt, Result, says};
use crate::model::Model;
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Progress of a batch, passed to the callback after each run, with `done` growing from call to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Runs finished.
    pub done: u64,
    /// Runs in all.
    pub total: u64,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of runs.
    pub runs: u32,
    /// Master seed.
    pub seed: u64,
    /// Worker threads (at least 1).
    pub threads: usize,
}

/// Runs a batch of every arm of a fixed model and summarises each (baseline first).
pub fn run(
    model: &Model,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Summary>> {
    run_with(model, &|_| Ok(Cow::Borrowed(model)), opts, progress)
}

/// Runs a scenario: with `psa` and uncertain parameters, every run first draws its parameters
/// (probabilistic sensitivity analysis); otherwise every parameter is at its mean.
pub fn run_scenario(
    scenario: &Scenario,
    psa: bool,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Summary>> {
    let base = &scenario.model;
    if !psa || !base.uncertain {
        return run(base, opts, progress);
    }
    run_with(
        base,
        &|r| run_model(scenario, psa, opts.seed, r),
        opts,
        progress,
    )
}

/// The model run `run` of [`run_scenario`] simulates: with `psa`, the scenario compiled with the run's
/// draws of its uncertain parameters; otherwise (or without uncertain parameters) the scenario's model.
/// Whatever else simulates a run of a batch (client histories) takes its model from here.
pub fn run_model(scenario: &Scenario, psa: bool, seed: u64, run: u32) -> Result<Cow<'_, Model>> {
    if psa {
        Ok(scenario.model_for_run(seed, run)?)
    } else {
        Ok(Cow::Borrowed(&scenario.model))
    }
}

/// The simulation of a batch alone, on the current rayon pool: each run's model (as [`run_model`]
/// gives it) and every arm simulated, the areas arms simulate alike once; nothing reduced or kept. The
/// client-cycles of every arm, summed. What the batch's speed goal times as its simulation
/// (`cargo bench --bench batch`, `profile_engine simulate`).
pub fn simulate_only(scenario: &Scenario, psa: bool, seed: u64, runs: u32) -> Result<u64> {
    let rooms = Rooms::default();
    (0..runs)
        .into_par_iter()
        .map_init(
            || rooms.lend(),
            |loan, r| {
                let model = run_model(scenario, psa, seed, r)?;
                let prep = engine::Prepared::new(&model);
                let traces = engine::simulate_into(&prep, seed, r, &mut loan.room);
                Ok(traces.iter().map(|t| t.client_cycles).sum::<u64>())
            },
        )
        .try_reduce(|| 0, |a, b| Ok(a + b))
}

/// The engine's rooms ([`engine::Room`]) that a batch's workers reuse from run to run: each stretch
/// of runs a worker takes borrows one, and gives it back when done. Which room a run gets changes
/// nothing in its results.
#[derive(Default)]
struct Rooms(Mutex<Vec<engine::Room>>);

impl Rooms {
    /// A room to use until the loan is dropped.
    fn lend(&self) -> Loan<'_> {
        let room = self
            .0
            .lock()
            .expect("no panics while holding the lock")
            .pop()
            .unwrap_or_default();
        Loan { room, home: self }
    }
}

/// A room lent from [`Rooms`], given back when dropped.
struct Loan<'a> {
    room: engine::Room,
    home: &'a Rooms,
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        // A poisoned lock (a panic elsewhere) only loses the room.
        if let Ok(mut rooms) = self.home.0.lock() {
            rooms.push(std::mem::take(&mut self.room));
        }
    }
}

/// A run's model: the base model, or the model with its parameters drawn for the run.
type ModelOf<'a> = dyn Fn(u32) -> Result<Cow<'a, Model>> + Sync + 'a;

fn run_with<'a>(
    model: &'a Model,
    model_of: &ModelOf<'a>,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Summary>> {
    let arms = model.arms.len();
    let layouts: Vec<Layout> = (0..arms).map(|arm| Layout::new(model, arm)).collect();
    check_options(model, &layouts, opts)?;
    // One thread: no pool, the runs in order on the calling thread. Inside a rayon pool of the
    // requested size (a sweep's): that pool. Otherwise a pool of our own for this batch.
    let sequential = opts.threads == 1;
    let own_pool = own_pool(opts)?;
    let runs = opts.runs as usize;
    let mut columns: Vec<Columns> = layouts
        .iter()
        .map(|l| Columns::counted(l.len(), l.client_cells(), runs))
        .collect();
    // Finished runs are stored by cell a block of runs at a time: a cell's values of many runs in one
    // write along its column (few pages touched per value). The runs of a block reduce their cells
    // into the block's room (the same room for every block), in parallel; then all threads store the
    // block into the columns, each a share of the cells.
    let lens: Vec<usize> = layouts.iter().map(Layout::len).collect();
    let block = crate::limits::block_runs(lens.iter().sum());
    // The run-invariant tables of the base model, derived once; a run with its own draws derives its own.
    let base = engine::Prepared::new(model);
    let done = Mutex::new(Done {
        runs: 0,
        client_cycles: vec![0; arms],
    });
    let failed = Failed::new();
    let source = (model, model_of, &base);
    let one_run = |room: &mut engine::Room, outs: Vec<&mut [f64]>, r: usize| {
        // Past a run that failed, runs are left undone: the error is the first failed run's.
        if failed.before(r) {
            return;
        }
        match run_cells(source, room, &layouts, (opts.seed, r), outs) {
            Ok(cc) => {
                // Reported while holding the count, so that `done` grows from call to call.
                let mut d = done.lock().expect("no panics while holding the lock");
                progress(Progress {
                    done: d.add(cc),
                    total: runs as u64,
                });
            }
            Err(e) => failed.at(r, e),
        }
    };
    let mut store = || {
        store_blocks(
            (&mut columns, &lens, runs),
            block,
            sequential,
            &failed,
            &one_run,
        )
    };
    match &own_pool {
        Some(pool) => pool.install(store),
        None => store(),
    }
    let client_cycles = done
        .into_inner()
        .expect("no panics while holding the lock")
        .client_cycles;
    failed.result()?;
    let stats = stats_of(&columns, own_pool.as_ref(), sequential);
    Ok(summaries(
        model,
        layouts,
        (columns, stats),
        &client_cycles,
        runs,
    ))
}

/// The statistics of every arm's columns: on the batch's own pool, on the calling thread in order
/// (`sequential`), or on the rayon pool it runs in.
fn stats_of(
    columns: &[Columns],
    own_pool: Option<&rayon::ThreadPool>,
    sequential: bool,
) -> Vec<Vec<crate::aggregate::Stats>> {
    match own_pool {
        Some(pool) => pool.install(|| columns.iter().map(Columns::stats).collect()),
        None if sequential => columns.iter().map(Columns::stats_in_order).collect(),
        None => columns.iter().map(Columns::stats).collect(),
    }
}

/// Runs run `r` in a worker's room, reducing it into its room in each arm's block.
type OneRun<'a> = dyn Fn(&mut engine::Room, Vec<&mut [f64]>, usize) + Sync + 'a;

/// Runs the batch's `runs` runs a block of `block` runs at a time, `one_run` reducing each into its
/// room in each arm's block (`lens` cells), then stores the block into the arms' `columns`. Stops
/// after a block in which a run failed.
fn store_blocks(
    (columns, lens, runs): (&mut [Columns], &[usize], usize),
    block: usize,
    sequential: bool,
    failed: &Failed,
    one_run: &OneRun<'_>,
) {
    let rooms = Rooms::default();
    let mut room: Vec<Vec<f64>> = lens
        .iter()
        .map(|&l| vec![0.0; block.min(runs) * l])
        .collect();
    for lo in (0..runs).step_by(block) {
        let hi = (lo + block).min(runs);
        let slots = run_slots(&mut room, lens, 0..hi - lo);
        if sequential {
            let mut loan = rooms.lend();
            slots
                .into_iter()
                .zip(lo..hi)
                .for_each(|(outs, r)| one_run(&mut loan.room, outs, r));
        } else {
            slots.into_par_iter().zip(lo..hi).for_each_init(
                || rooms.lend(),
                |loan, (outs, r)| one_run(&mut loan.room, outs, r),
            );
        }
        if failed.any() {
            break;
        }
        for ((column, room), &len) in columns.iter_mut().zip(&room).zip(lens) {
            column.put_runs(lo, &room[..(hi - lo) * len], sequential);
        }
    }
}

/// Runs done so far, and their client-cycles per arm.
struct Done {
    runs: u64,
    client_cycles: Vec<u64>,
}

impl Done {
    /// Counts a run done with client-cycles `cc` per arm; the runs done now.
    fn add(&mut self, cc: Vec<u64>) -> u64 {
        self.runs += 1;
        for (total, cc) in self.client_cycles.iter_mut().zip(cc) {
            *total += cc;
        }
        self.runs
    }
}

/// The first run that failed and its error: the same whatever the threads, since every run before it
/// is done (only runs after a failed run are skipped).
struct Failed {
    /// The first failed run so far (`usize::MAX`: none).
    first: AtomicUsize,
    error: Mutex<Option<(usize, Error)>>,
}

impl Failed {
    fn new() -> Failed {
        Failed {
            first: AtomicUsize::new(usize::MAX),
            error: Mutex::new(None),
        }
    }

    /// Whether a run before `run` failed.
    fn before(&self, run: usize) -> bool {
        self.first.load(Ordering::Relaxed) < run
    }

    /// Whether a run failed.
    fn any(&self) -> bool {
        self.first.load(Ordering::Relaxed) < usize::MAX
    }

    /// Run `run` failed with `e`.
    fn at(&self, run: usize, e: Error) {
        let mut slot = self.error.lock().expect("no panics while holding the lock");
        if slot.as_ref().is_none_or(|(r, _)| run < *r) {
            *slot = Some((run, e));
            self.first.store(run, Ordering::Relaxed);
        }
    }

    /// The first failed run's error, if a run failed.
    fn result(self) -> Result<()> {
        match self
            .error
            .into_inner()
            .expect("no panics while holding the lock")
        {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// For each run `runs` of a block (indices into it), its room in each arm's `room`: `lens[arm]` cells.
fn run_slots<'r>(
    room: &'r mut [Vec<f64>],
    lens: &[usize],
    runs: std::ops::Range<usize>,
) -> Vec<Vec<&'r mut [f64]>> {
    let mut slots: Vec<Vec<&mut [f64]>> = runs.clone().map(|_| Vec::new()).collect();
    for (room, &len) in room.iter_mut().zip(lens) {
        let cells = room[runs.start * len..runs.end * len].chunks_mut(len.max(1));
        for (slot, cells) in slots.iter_mut().zip(cells) {
            slot.push(cells);
        }
    }
    slots
}

/// One run of every arm, reduced into each arm's room in `outs`; its client-cycles per arm. The arms
/// share the run's random numbers, and the areas they simulate alike are simulated once
/// (engine::simulate_arms). The layouts are the base model's: drawn parameters change numbers, not
/// structure.
fn run_cells<'a>(
    (model, model_of, base): (&'a Model, &ModelOf<'a>, &engine::Prepared),
    room: &mut engine::Room,
    layouts: &[Layout],
    (seed, r): (u64, usize),
    mut outs: Vec<&mut [f64]>,
) -> Result<Vec<u64>> {
    let m = model_of(r as u32)?;
    let own;
    let prep = match &m {
        Cow::Borrowed(m) if std::ptr::eq(*m, model) => base,
        _ => {
            own = engine::Prepared::new(&m);
            &own
        }
    };
    let traces = engine::simulate_into(prep, seed, r as u32, room);
    reduce_arms_into(&m, layouts, traces, prep.twins(), &mut outs);
    Ok(traces.iter().map(|t| t.client_cycles).collect())
}

/// The runs, threads and memory a batch needs are within the limits.
fn check_options(model: &Model, layouts: &[Layout], opts: &Options) -> Result<()> {
    if opts.runs == 0 || u64::from(opts.runs) > crate::limits::MAX_RUNS {
        return Err(Error::Options(
            says!(
                format!(
                    "the number of runs is {}; it must be from 1 to {} (",
                    opts.runs,
                    crate::limits::MAX_RUNS
                ),
                Opt::Runs,
                ")"
            )
            .into(),
        ));
    }
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
    let need =
        crate::limits::need_for_layouts(model, layouts, u64::from(opts.runs), opts.threads as u64);
    if let Some((problem, fix)) = crate::limits::over_budget(&need, u64::from(opts.runs), Opt::Runs)
    {
        return Err(Error::Options(Fault::new(
            format!("{problem} (with {} threads)", opts.threads),
            says!(fix, ", or use fewer ", Opt::Threads),
        )));
    }
    Ok(())
}

/// A pool of `opts.threads` threads for this batch, unless it runs on one thread or inside a rayon
/// pool of that size already (a sweep's).
fn own_pool(opts: &Options) -> Result<Option<rayon::ThreadPool>> {
    let in_pool =
        rayon::current_thread_index().is_some() && rayon::current_num_threads() == opts.threads;
    if opts.threads == 1 || in_pool {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map(Some)
        .map_err(|e| {
            Error::Options(format!("could not start {} threads: {e}", opts.threads).into())
        })
}

/// Every arm's summary: its layout, its runs' cells and their statistics, and its client-cycles.
fn summaries(
    model: &Model,
    layouts: Vec<Layout>,
    (columns, stats): (Vec<Columns>, Vec<Vec<crate::aggregate::Stats>>),
    client_cycles: &[u64],
    runs: usize,
) -> Vec<Summary> {
    layouts
        .into_iter()
        .zip(columns)
        .zip(stats)
        .enumerate()
        .map(|(arm, ((layout, columns), stats))| Summary {
            arm: model.arms[arm].name.clone(),
            layout,
            runs,
            columns,
            stats,
            client_cycles: client_cycles[arm],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::reduce_arms;
    use crate::scenario::default_scenario;

    #[test]
    fn the_simulation_alone_simulates_what_the_batch_does() {
        // The speed goal's "simulation" is the batch's: the same runs' models (drawn), the same arms,
        // the same client-cycles, on any pool.
        let scenario = default_scenario();
        let opts = Options {
            runs: 12,
            seed: 8,
            threads: 2,
        };
        let batch: u64 = run_scenario(&scenario, true, &opts, &|_| {})
            .unwrap()
            .iter()
            .map(|s| s.client_cycles)
            .sum();
        let fixed: u64 = run_scenario(&scenario, false, &opts, &|_| {})
            .unwrap()
            .iter()
            .map(|s| s.client_cycles)
            .sum();
        assert_ne!(batch, fixed, "the draws change the runs");
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let alone = pool
                .install(|| simulate_only(&scenario, true, 8, 12))
                .unwrap();
            assert_eq!(alone, batch, "{threads} threads");
            let alone = pool
                .install(|| simulate_only(&scenario, false, 8, 12))
                .unwrap();
            assert_eq!(alone, fixed, "{threads} threads");
        }
    }

    #[test]
    fn every_run_is_stored_at_its_own_index_whatever_the_threads() {
        // 300 runs: several blocks of stored runs, chunks of 32 (1 thread) and 48 (3 threads).
        let m = default_scenario().model;
        let opts = |threads| Options {
            runs: 300,
            seed: 4,
            threads,
        };
        let one = run(&m, &opts(1), &|_| {}).unwrap();
        let three = run(&m, &opts(3), &|_| {}).unwrap();
        let prep = engine::Prepared::new(&m);
        let layouts: Vec<Layout> = (0..m.arms.len()).map(|j| Layout::new(&m, j)).collect();
        for r in [0, 31, 32, 204, 205, 250, 299] {
            let traces = engine::simulate_prepared(&prep, 4, r as u32);
            let want = reduce_arms(&m, &layouts, &traces, prep.twins());
            for (arm, cells) in want.iter().enumerate() {
                for (i, &v) in cells.iter().enumerate() {
                    for sm in [&one[arm], &three[arm]] {
                        assert_eq!(
                            sm.columns.value(i, r).to_bits(),
                            v.to_bits(),
                            "run {r}, arm {arm}, cell {i}"
                        );
                    }
                }
            }
        }
        for (a, b) in one.iter().zip(&three) {
            assert_eq!(a.stats, b.stats);
            assert_eq!(a.client_cycles, b.client_cycles);
        }
    }

    #[test]
    fn the_first_failed_run_is_reported_whatever_the_threads() {
        // Runs 250 and 260 fail (in the second block of 205 runs): the error is run 250's on any
        // number of threads, and progress only grows, up to the runs done.
        let m = default_scenario().model;
        for threads in [1, 3] {
            let opts = Options {
                runs: 300,
                seed: 4,
                threads,
            };
            let model_of = |r: u32| -> Result<Cow<'_, Model>> {
                if r == 250 || r == 260 {
                    Err(Error::Options(format!("run {r} cannot be drawn").into()))
                } else {
                    Ok(Cow::Borrowed(&m))
                }
            };
            let seen = Mutex::new(Vec::new());
            let err = run_with(&m, &model_of, &opts, &|p| {
                assert_eq!(p.total, 300);
                seen.lock().unwrap().push(p.done);
            })
            .unwrap_err();
            assert!(
                err.to_string().contains("run 250 cannot be drawn"),
                "{threads} threads: {err}"
            );
            let seen = seen.into_inner().unwrap();
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
            // Every run before the failed one is done.
            assert!(
                seen.len() >= 250,
                "{threads} threads: {} runs done",
                seen.len()
            );
        }
    }

    #[test]
    fn progress_counts_every_run_once_in_order() {
        let m = default_scenario().model;
        let opts = Options {
            runs: 70,
            seed: 1,
            threads: 3,
        };
        let seen = Mutex::new(Vec::new());
        run(&m, &opts, &|p| seen.lock().unwrap().push(p.done)).unwrap();
        assert_eq!(seen.into_inner().unwrap(), (1..=70).collect::<Vec<u64>>());
    }
}
