//! Many runs in parallel.
//!
//! Runs are the unit of parallel work. They are simulated in chunks on a rayon pool of the requested
//! size; each run is reduced to its reported cells as soon as it finishes, and cells are stored by run
//! index, so the result is the same for any number of threads. Progress goes out through a callback.

use crate::engine;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::summary::{Columns, Layout, Summary, reduce};
use rayon::prelude::*;

/// Progress of a batch, passed to the callback after each chunk of runs.
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

/// Runs a batch of every arm and summarises each (baseline first).
pub fn run(
    model: &Model,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Summary>> {
    if opts.runs == 0 {
        return Err(Error::Options(
            "the number of runs must be at least 1 (--runs)".into(),
        ));
    }
    if opts.threads == 0 {
        return Err(Error::Options(
            "the number of threads must be at least 1 (--threads)".into(),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Options(format!("could not start {} threads: {e}", opts.threads)))?;
    let arms = model.arms.len();
    let layouts: Vec<Layout> = (0..arms).map(|arm| Layout::new(model, arm)).collect();
    let runs = opts.runs as usize;
    let mut columns: Vec<Columns> = layouts
        .iter()
        .map(|l| Columns::new(l.len(), runs))
        .collect();
    let mut client_cycles = vec![0u64; arms];
    let chunk = (opts.threads * 16).max(32);
    pool.install(|| {
        for lo in (0..runs).step_by(chunk) {
            let hi = (lo + chunk).min(runs);
            // Every arm of a run in one task: the arms share the run's random numbers.
            let done: Vec<Vec<(Vec<f64>, u64)>> = (lo..hi)
                .into_par_iter()
                .map(|r| {
                    (0..arms)
                        .map(|arm| {
                            let trace = engine::simulate(model, arm, opts.seed, r as u32);
                            (
                                reduce(model, arm, &layouts[arm], &trace),
                                trace.client_cycles,
                            )
                        })
                        .collect()
                })
                .collect();
            for (i, per_arm) in done.iter().enumerate() {
                for (arm, (cells, cc)) in per_arm.iter().enumerate() {
                    columns[arm].put(lo + i, cells);
                    client_cycles[arm] += cc;
                }
            }
            progress(Progress {
                done: hi as u64,
                total: runs as u64,
            });
        }
    });
    Ok(layouts
        .into_iter()
        .zip(columns)
        .enumerate()
        .map(|(arm, (layout, columns))| {
            let stats = columns.stats();
            Summary {
                arm: model.arms[arm].name.clone(),
                layout,
                runs,
                columns,
                stats,
                client_cycles: client_cycles[arm],
            }
        })
        .collect())
}
