//! The cost of probabilistic sensitivity analysis per run: the default scenario's model with its
//! uncertain parameters drawn for a run (`Scenario::model_for_run`), which every PSA run does before
//! it simulates.
//!
//! `cargo bench --bench psa`. Criterion reports the time per run's model.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wijksim::scenario::default_scenario;

fn psa(c: &mut Criterion) {
    let scenario = default_scenario();
    assert!(
        scenario.model.uncertain,
        "the default has uncertain parameters"
    );
    let mut run = 0u32;
    c.bench_function("default_scenario/model_for_run", |b| {
        b.iter(|| {
            run = run.wrapping_add(1);
            black_box(scenario.model_for_run(1, black_box(run)).unwrap());
        })
    });
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = psa
}
criterion_main!(benches);
