//! Sweep speed: points per second for the 200-point Latin hypercube over the default scenario
//! (`scenarios/sweep_latin_hypercube.toml`: 5 parameters of the dorpsbudget pilot, 100 runs per point,
//! both arms), on all cores, writing `sweep.csv` as a real sweep does.
//!
//! `cargo bench --bench sweep`. Criterion reports the throughput as "elem/s" = points/s. A second
//! benchmark runs the same sweep with 10 runs per point (many small points: points in parallel).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;
use wijksim::sweep::runner::{SweepOptions, run};

fn sweep(c: &mut Criterion) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep_latin_hypercube.toml");
    let base = wijksim::sweep::load(&file).expect("the example sweep is valid");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let threads = wijksim::run::default_threads();
    let mut group = c.benchmark_group("sweep_lhs200_default");
    group.sample_size(10);
    group.throughput(Throughput::Elements(base.points.len() as u64));
    for runs in [100u32, 10] {
        let mut sw = base.clone();
        sw.runs = runs;
        let opts = SweepOptions {
            out: dir.path().join(format!("runs{runs}")),
            resume: false,
            force: true,
            shard: None,
            threads,
            max_points: None,
            reproduce: String::new(),
            lang: Default::default(),
        };
        group.bench_function(format!("{runs}_runs_per_point_{threads}_threads"), |b| {
            b.iter(|| run(&sw, &opts, &|_| {}).expect("the sweep runs"))
        });
    }
    group.finish();
}

/// The sweep file of the load benchmarks: the Latin hypercube above with 1,000 points.
fn big_sweep_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::read_to_string(dir.join("sweep_latin_hypercube.toml"))
        .expect("the example sweep")
        .replace("points = 200", "points = 1000")
}

/// Loading a sweep of 1,000 points: every point applied to the scenario and compiled (what `wijksim
/// check` and `--emit-slurm` do), against what a shard of 10 checks before it starts (the file, then
/// its own 100 points, as `runner::run` does).
fn load(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let text = big_sweep_text();
    let mut group = c.benchmark_group("sweep_load_lhs1000_default");
    group.sample_size(10);
    group.bench_function("every_point", |b| {
        b.iter(|| wijksim::sweep::from_text("big.toml", &text, &dir, "big").expect("a valid sweep"))
    });
    group.bench_function("shard_1_of_10", |b| {
        b.iter(|| {
            let sw = wijksim::sweep::from_text_unchecked("big.toml", &text, &dir, "big")
                .expect("a valid sweep");
            let mine = wijksim::sweep::runner::folder_points(sw.points.len(), Some((1, 10)));
            sw.check_points(mine).expect("valid points");
            sw
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = sweep, load
}
criterion_main!(benches);
