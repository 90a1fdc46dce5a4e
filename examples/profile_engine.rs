//! Runs the engine on the default scenario for profiling: `cargo run --release --example profile_engine`.
fn main() {
    let model = wijksim::scenario::default_scenario().model;
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let t = std::time::Instant::now();
    let mut cc = 0;
    for r in 0..runs {
        cc += wijksim::engine::simulate(&model, 0, 1, r).client_cycles;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{runs} runs, {cc} client-months, {:.1} M/s",
        cc as f64 / s / 1e6
    );
}
