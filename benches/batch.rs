//! The speed goal of a whole batch: the default scenario, 10,000 runs of both arms with its parameter
//! uncertainty, on two threads (goal: under 3 s).
//!
//! `cargo bench --bench batch` (about two minutes: criterion's fewest samples, ten, of a few seconds
//! each). Two measures:
//! - `simulate`: the simulation alone, each run's model with its draws and every arm simulated (the
//!   areas two arms simulate alike once), nothing reduced or kept;
//! - `run_scenario`: what `wijksim run` spends before it writes: the simulation, each run reduced to its
//!   reported numbers and stored, and the statistics of every number over the runs.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use wijksim::run::batch::{Options, run_scenario, simulate_only};
use wijksim::scenario::default_scenario;

const RUNS: u32 = 10_000;
const THREADS: usize = 2;

fn batch(c: &mut Criterion) {
    let scenario = default_scenario();
    let seed = scenario.model.seed;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("a thread pool");
    let mut group = c.benchmark_group(format!("default_scenario_{RUNS}_runs_{THREADS}_threads"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(40));
    group.bench_function("simulate", |b| {
        b.iter(|| {
            pool.install(|| {
                simulate_only(&scenario, true, seed, RUNS).expect("the default simulates")
            })
        })
    });
    let opts = Options {
        runs: RUNS,
        seed,
        threads: THREADS,
    };
    group.bench_function("run_scenario", |b| {
        b.iter(|| {
            black_box(run_scenario(&scenario, true, &opts, &|_| {}).expect("the default runs"))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = batch
}
criterion_main!(benches);
