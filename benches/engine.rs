//! Engine speed on the default scenario and on a plain Markov model (Sick-Sicker), in simulated
//! client-cycles per second on one core.
//!
//! `cargo bench --bench engine`. Criterion reports the throughput as "elem/s" = client-cycles/s
//! (clients present in non-absorbing states, summed over cycles). Floor: 250 million per core; goal
//! 500 million on the plain Markov model.
//! `simulate_all_arms` counts the client-cycles of every arm, the shared areas in each arm they are
//! shared with (what a batch gets per run).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wijksim::aggregate::{Layout, reduce};
use wijksim::engine::{simulate, simulate_arms};
use wijksim::scenario::default_scenario;

fn engine(c: &mut Criterion) {
    let model = default_scenario().model;
    let layout = Layout::new(&model, 0);
    // Client-months per run vary a little between runs: use the mean of the runs measured.
    let runs: u32 = 64;
    let per_batch: u64 = (0..runs)
        .map(|r| simulate(&model, 0, 1, r).client_cycles)
        .sum();
    let mut group = c.benchmark_group("default_scenario");
    group.throughput(Throughput::Elements(per_batch));
    group.bench_function(BenchmarkId::new("simulate", format!("{runs}_runs")), |b| {
        b.iter(|| {
            for r in 0..runs {
                black_box(simulate(black_box(&model), 0, 1, r));
            }
        })
    });
    group.bench_function(
        BenchmarkId::new("simulate_and_reduce", format!("{runs}_runs")),
        |b| {
            b.iter(|| {
                for r in 0..runs {
                    let t = simulate(black_box(&model), 0, 1, r);
                    black_box(reduce(&model, 0, &layout, &t));
                }
            })
        },
    );
    if model.arms.len() > 1 {
        // The pilot arm: the pooled budget book, the capacity limit and prevention in the villages.
        group.bench_function(
            BenchmarkId::new("simulate_pilot_arm", format!("{runs}_runs")),
            |b| {
                b.iter(|| {
                    for r in 0..runs {
                        black_box(simulate(black_box(&model), 1, 1, r));
                    }
                })
            },
        );
    }
    if model.arms.len() > 1 {
        // Every arm of a run, as a batch simulates them: the areas outside the pilot once, shared.
        let all: u64 = (0..runs)
            .flat_map(|r| simulate_arms(&model, 1, r))
            .map(|t| t.client_cycles)
            .sum();
        group.throughput(Throughput::Elements(all));
        group.bench_function(
            BenchmarkId::new("simulate_all_arms", format!("{runs}_runs")),
            |b| {
                b.iter(|| {
                    for r in 0..runs {
                        black_box(simulate_arms(black_box(&model), 1, r));
                    }
                })
            },
        );
    }
    group.finish();
    plain_markov(c);
}

/// The plain-Markov workload: the Sick-Sicker model (4 states, 1,000 people, 75 yearly cycles, no
/// capacity limits, no budgets), its first arm, 256 runs.
fn plain_markov(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/sick_sicker.toml");
    let model = wijksim::scenario::load(std::path::Path::new(path))
        .expect("the Sick-Sicker scenario")
        .model;
    let runs: u32 = 256;
    let per_batch: u64 = (0..runs)
        .map(|r| simulate(&model, 0, 1, r).client_cycles)
        .sum();
    let mut group = c.benchmark_group("plain_markov_sick_sicker");
    group.throughput(Throughput::Elements(per_batch));
    group.bench_function(BenchmarkId::new("simulate", format!("{runs}_runs")), |b| {
        b.iter(|| {
            for r in 0..runs {
                black_box(simulate(black_box(&model), 0, 1, r));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = engine
}
criterion_main!(benches);
