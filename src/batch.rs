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

/// Runs a batch and summarises it. `progress` is called from a worker thread after each chunk.
pub fn run(model: &Model, opts: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Summary> {
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
    let layout = Layout::new(model);
    let runs = opts.runs as usize;
    let mut columns = Columns::new(layout.len(), runs);
    let chunk = (opts.threads * 16).max(32);
    let mut client_cycles = 0u64;
    pool.install(|| {
        for lo in (0..runs).step_by(chunk) {
            let hi = (lo + chunk).min(runs);
            let done: Vec<(Vec<f64>, u64)> = (lo..hi)
                .into_par_iter()
                .map(|r| {
                    let trace = engine::simulate(model, opts.seed, r as u32);
                    (reduce(model, &layout, &trace), trace.client_cycles)
                })
                .collect();
            for (i, (cells, cc)) in done.iter().enumerate() {
                columns.put(lo + i, cells);
                client_cycles += cc;
            }
            progress(Progress {
                done: hi as u64,
                total: runs as u64,
            });
        }
    });
    let stats = columns.stats();
    Ok(Summary {
        arm: "baseline".into(),
        layout,
        runs,
        columns,
        stats,
        client_cycles,
    })
}
