//! Runs the engine on the default scenario for profiling and timing.
//!
//! `cargo run --release --example profile_engine [RUNS]`: the engine alone on the baseline arm, one
//! core. `cargo run --release --example profile_engine batch [RUNS] [THREADS]`: a whole batch of the
//! default scenario (every arm, its parameter uncertainty, the reduction and the statistics; no output
//! written), the simulation time `wijksim run` spends before it writes its tables.
//! `cargo run --release --example profile_engine simulate [RUNS] [THREADS]`: the simulation of a batch
//! alone (each run's model with its draws, every arm; no reduction, no statistics).
//! `cargo run --release --example profile_engine markov [RUNS]`: the engine alone on the plain-Markov
//! workload of `cargo bench --bench engine` (Sick-Sicker), one core; with `/usr/bin/time` its CPU
//! seconds compare builds on a busy machine better than wall time does.
//! `cargo run --release --example profile_engine psa [RUNS]`: only the runs' models with their drawn
//! parameters (`Scenario::model_for_run`), as a PSA batch derives them (for a profiler or cachegrind).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = wijksim::scenario::default_scenario();
    if args.first().map(String::as_str) == Some("psa") {
        let runs: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
        let t = std::time::Instant::now();
        let mut cycles = 0u64;
        for run in 0..runs {
            let model = scenario.model_for_run(scenario.model.seed, run).unwrap();
            cycles += u64::from(model.cycles);
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "psa: {runs} runs' models in {s:.3} s ({:.1} us a run; {cycles} cycles)",
            s / f64::from(runs) * 1e6
        );
        return;
    }
    if args.first().map(String::as_str) == Some("simulate") {
        let runs: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        let threads = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
        return simulate_only(&scenario, runs, threads);
    }
    if args.first().map(String::as_str) == Some("batch") {
        let runs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
        let threads = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
        let opts = wijksim::run::batch::Options {
            runs,
            seed: scenario.model.seed,
            threads,
        };
        let t = std::time::Instant::now();
        let summaries = wijksim::run::batch::run_scenario(&scenario, true, &opts, &|_| {})
            .expect("the default scenario runs");
        let s = t.elapsed().as_secs_f64();
        let cc: u64 = summaries.iter().map(|s| s.client_cycles).sum();
        println!(
            "batch: {runs} runs x {} arms, {threads} threads, {s:.2} s ({:.0} M client-cycles/s)",
            summaries.len(),
            cc as f64 / s / 1e6
        );
        return;
    }
    if args.first().map(String::as_str) == Some("markov") {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/sick_sicker.toml");
        let model = wijksim::scenario::load(std::path::Path::new(path))
            .expect("the Sick-Sicker scenario")
            .model;
        let runs: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
        return engine_only(&model, runs);
    }
    let runs: u32 = args.first().and_then(|s| s.parse().ok()).unwrap_or(2000);
    engine_only(&scenario.model, runs);
}

/// The simulation of a batch alone: each run's model with its draws and every arm simulated (shared
/// areas once), on `threads` threads; no reduction, no statistics.
fn simulate_only(scenario: &wijksim::scenario::Scenario, runs: u32, threads: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let seed = scenario.model.seed;
    let t = std::time::Instant::now();
    let cc = pool
        .install(|| wijksim::run::batch::simulate_only(scenario, true, seed, runs))
        .expect("the default scenario simulates");
    let s = t.elapsed().as_secs_f64();
    println!(
        "simulate: {runs} runs, every arm, {threads} threads, {s:.2} s ({:.0} M client-cycles/s)",
        cc as f64 / s / 1e6
    );
}

/// `runs` runs of the first arm of `model` on this thread, with their client-cycles per second.
fn engine_only(model: &wijksim::model::Model, runs: u32) {
    let t = std::time::Instant::now();
    let mut cc = 0;
    for r in 0..runs {
        cc += wijksim::engine::simulate(model, 0, 1, r).client_cycles;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{runs} runs, {cc} client-cycles, {:.1} M/s",
        cc as f64 / s / 1e6
    );
}
