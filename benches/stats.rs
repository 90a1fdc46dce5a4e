//! The statistics over runs (mean, sd, quantiles of every reported cell) of a real batch: the
//! default scenario's 2,000 runs of both arms (about 20,400 cells of 2,000 values, most of them whole
//! numbers: caseloads and flows; many the same in every run), on the calling thread
//! (`Columns::stats_in_order`, what `wijksim run` does on each of its threads for its share of cells).
//!
//! `cargo bench --bench stats`. Criterion reports the time for all cells and the throughput as
//! "elem/s" = cells/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wijksim::run::batch::{Options, run_scenario};
use wijksim::scenario::default_scenario;

fn stats(c: &mut Criterion) {
    let scenario = default_scenario();
    let opts = Options {
        runs: 2000,
        seed: scenario.model.seed,
        threads: 2,
    };
    let summaries =
        run_scenario(&scenario, true, &opts, &|_| {}).expect("the default scenario runs");
    let cells: usize = summaries.iter().map(|s| s.stats.len()).sum();
    let mut group = c.benchmark_group("stats_default_2000_runs");
    group.sample_size(10);
    group.throughput(Throughput::Elements(cells as u64));
    group.bench_function("all_cells_in_order", |b| {
        b.iter(|| {
            for s in &summaries {
                black_box(s.columns.stats_in_order());
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = stats
}
criterion_main!(benches);
