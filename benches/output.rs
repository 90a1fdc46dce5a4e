//! Output speed in the number of arms: a whole run (simulation, tables, workbook, figures, report) of
//! the default scenario with 8, 64 and 128 arms (the pilot arm copied), 5 runs, on all cores; with the
//! default figures (the baseline and the first 7 pilots) and with `--plots all`.
//!
//! `cargo bench --bench output`. Criterion reports the throughput as "elem/s" = arms/s; a path that is
//! linear in the arms shows the same arms/s at every size.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wijksim::output::Staged;
use wijksim::output::plot::Plots;
use wijksim::run::{RunOptions, run};

/// The default scenario with the baseline and `arms - 1` copies of its pilot arm.
fn with_arms(arms: usize) -> wijksim::scenario::Scenario {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/oosterschelde.toml"
    ))
    .expect("the default scenario");
    let cut = text.find("[[arm]]").expect("the default has arms");
    let mut t = format!("{}[[arm]]\nname = \"baseline\"\n", &text[..cut]);
    for i in 1..arms {
        t.push_str(&format!(
            "\n[[arm]]\nname = \"pilot_{i:03}\"\nassign = [{{ municipality = \"Noord-Beveland\", regime = \"dorpsbudget\", from = \"2022-01\" }}]\n"
        ));
    }
    wijksim::scenario::from_text("many_arms.toml", &t).expect("a valid scenario")
}

fn output(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut group = c.benchmark_group("run_5_runs_by_arms");
    group.sample_size(10);
    for (arms, plots, tag) in [
        (8, Plots::Auto, "default_figures"),
        (64, Plots::Auto, "default_figures"),
        (128, Plots::Auto, "default_figures"),
        (8, Plots::All, "all_figures"),
        (32, Plots::All, "all_figures"),
    ] {
        let scenario = with_arms(arms);
        let opts = RunOptions {
            runs: Some(5),
            plots,
            ..Default::default()
        };
        let out = dir.path().join(format!("{arms}-{tag}"));
        group.throughput(Throughput::Elements(arms as u64));
        group.bench_function(format!("{arms}_arms_{tag}"), |b| {
            b.iter(|| {
                let staged = Staged::create(&out, true).expect("the output folder");
                run(&scenario, &opts, staged, &|_| {}).expect("the run")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Medians only: criterion's charts need system fonts a build machine may lack.
    config = Criterion::default().without_plots();
    targets = output
}
criterion_main!(benches);
