//! The example textbook models in `scenarios/` against an independent computation from their source
//! parameters: the cohort engine to 1e-9 (relative), the Monte Carlo engine within 4 standard errors.

use wijksim::batch::{self, Options};
use wijksim::cohort;
use wijksim::summary::Summary;

fn load(name: &str) -> wijksim::model::Model {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    wijksim::scenario::load(std::path::Path::new(&path))
        .unwrap()
        .model
}

/// Expected per-client cost and outcomes of a closed cohort: `trace[t]` is the occupancy at cycle
/// boundary `t = 0..=T`, `weight(t)` the timing weight, `cost(t, s)` the cost per cycle.
struct Exact {
    cost: f64,
    outcomes: Vec<f64>,
}

/// Per-client values of a summary: discounted cost and outcomes.
fn per_client(sm: &Summary, j: usize) -> Vec<f64> {
    let (v, n) = (
        sm.columns.cell(sm.layout.econ(j)),
        sm.columns.cell(sm.layout.econ(1)),
    );
    v.iter().zip(n).map(|(a, b)| a / b).collect()
}

fn agree(model: &wijksim::model::Model, exact: &Exact, runs: u32) {
    let (c, _) = cohort::summarise(model);
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "{what}: cohort {got} vs exact {want}"
        )
    };
    close(per_client(&c[0], 0)[0], exact.cost, "cost");
    for (k, &o) in exact.outcomes.iter().enumerate() {
        close(per_client(&c[0], 2 + k)[0], o, &format!("outcome {k}"));
    }
    let mc = batch::run(
        model,
        &Options {
            runs,
            seed: model.seed,
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    let within = |values: Vec<f64>, want: f64, what: &str| {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let se = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        assert!(
            (mean - want).abs() < 4.0 * se,
            "{what}: Monte Carlo {mean} vs exact {want} (se {se})"
        );
    };
    within(per_client(&mc[0], 0), exact.cost, "cost");
    for (k, &o) in exact.outcomes.iter().enumerate() {
        within(per_client(&mc[0], 2 + k), o, &format!("outcome {k}"));
    }
}

fn step(m: &[f64], p: &[Vec<f64>]) -> Vec<f64> {
    (0..m.len())
        .map(|j| (0..m.len()).map(|i| m[i] * p[i][j]).sum())
        .collect()
}

#[test]
fn hiv_combination_therapy_model() {
    // Chancellor et al. (1997): monotherapy matrix; combination = relative risk 0.509 on progression.
    let mono = vec![
        vec![0.721, 0.202, 0.067, 0.010],
        vec![0.0, 0.581, 0.407, 0.012],
        vec![0.0, 0.0, 0.750, 0.250],
        vec![0.0, 0.0, 0.0, 1.0],
    ];
    let combo: Vec<Vec<f64>> = mono
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r: Vec<f64> = r
                .iter()
                .enumerate()
                .map(|(j, &p)| if i == j || i == 3 { p } else { p * 0.509 })
                .collect();
            if i < 3 {
                r[i] = 1.0
                    - r.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, p)| p)
                        .sum::<f64>();
            }
            r
        })
        .collect();
    let state_cost = [
        1701.0 + 1055.0 + 2278.0,
        1774.0 + 1278.0 + 2278.0,
        6948.0 + 2059.0 + 2278.0,
        0.0,
    ];
    let mut m = vec![1.0, 0.0, 0.0, 0.0];
    let (mut cost, mut ly) = (0.0, 0.0);
    // Rewards at the start of each of the 20 cycles; costs discounted at 6%, life years not.
    for t in 0..20 {
        let lamivudine = if t < 2 { 2086.0 } else { 0.0 };
        cost += (0..3)
            .map(|s| m[s] * (state_cost[s] + lamivudine))
            .sum::<f64>()
            * 1.06f64.powi(-t);
        ly += m[..3].iter().sum::<f64>();
        m = step(&m, if t < 2 { &combo } else { &mono });
    }
    agree(
        &load("hiv_combination.toml"),
        &Exact {
            cost,
            outcomes: vec![ly],
        },
        2000,
    );
}

#[test]
fn sick_sicker_model() {
    let (p_hs1, p_s1h, p_s1s2, p_hd) = (0.15, 0.5, 0.105, 0.002);
    let r_hd = -(1.0f64 - p_hd).ln();
    let (p_s1d, p_s2d) = (1.0 - (-3.0 * r_hd).exp(), 1.0 - (-10.0 * r_hd).exp());
    let p = vec![
        vec![
            (1.0 - p_hd) * (1.0 - p_hs1),
            (1.0 - p_hd) * p_hs1,
            0.0,
            p_hd,
        ],
        vec![
            (1.0 - p_s1d) * p_s1h,
            (1.0 - p_s1d) * (1.0 - p_s1h - p_s1s2),
            (1.0 - p_s1d) * p_s1s2,
            p_s1d,
        ],
        vec![0.0, 0.0, 1.0 - p_s2d, p_s2d],
        vec![0.0, 0.0, 0.0, 1.0],
    ];
    let (c, u) = ([2000.0, 4000.0, 15000.0, 0.0], [1.0, 0.75, 0.5, 0.0]);
    let mut m = vec![1.0, 0.0, 0.0, 0.0];
    let (mut cost, mut ly, mut qaly) = (0.0, 0.0, 0.0);
    // Half-cycle correction over boundaries 0..=75, 3% discounting of both.
    for t in 0..=75 {
        let w = if t == 0 || t == 75 { 0.5 } else { 1.0 } * 1.03f64.powi(-t);
        cost += (0..4).map(|s| m[s] * c[s]).sum::<f64>() * w;
        ly += m[..3].iter().sum::<f64>() * w;
        qaly += (0..4).map(|s| m[s] * u[s]).sum::<f64>() * w;
        m = step(&m, &p);
    }
    agree(
        &load("sick_sicker.toml"),
        &Exact {
            cost,
            outcomes: vec![ly, qaly],
        },
        2000,
    );
}
