//! The planning step between the scenario and the runs: budgets set before the pilot.
//!
//! A regime's budget may be a share of the provider spend the cohort model expects
//! (`budget_share_of_provider`), or a percentile of what its budget holder would spend under the
//! provider model in a forecast of the baseline (`budget_percentile_of_baseline`). Both are fixed once,
//! from the planning model (every parameter at its mean), before any run: a run with drawn parameters
//! keeps them ([`crate::scenario::Scenario::model_for_run`]), as a municipality sets its budgets before
//! it knows how the pilot goes. [`crate::scenario::from_text`] compiles a scenario and then takes this
//! step; the scenario's checks themselves never run the engine.

use crate::aggregate::quantile;
use crate::model::Model;
use crate::model::regime::BudgetRule;

/// Sets the model's budgets from the cohort model and the baseline forecast
/// ([`Model::regime_expected`], [`Model::forecast_budgets`]).
pub fn set_budgets(model: &mut Model) {
    model.regime_expected = model
        .regimes
        .iter()
        .map(|r| match r.budget {
            BudgetRule::ShareOfProvider(_) => (0..model.areas.len())
                .map(|a| crate::engine::cohort::expected_spend(model, a, &r.covers))
                .collect(),
            _ => vec![Vec::new(); model.areas.len()],
        })
        .collect();
    model.forecast_budgets = forecast_budgets(model, model.forecast_runs);
}

/// Salt of the forecast's seed: the forecast's runs are not the runs of the scenario.
const FORECAST_SALT: u64 = 0x666f_7265_6361_7374;

/// The budgets of pools under `budget_percentile_of_baseline`, `[arm][pool][year]` (empty where none):
/// the quantile of what the pool's budget holder would spend under the provider model (the covered
/// care at the provider's tariffs and the regime's fixed costs, in the pilot cycles of each year), over
/// `runs` runs of the baseline. The forecast is made once, before the pilot: its runs use a seed of
/// their own, derived from the scenario file's seed, so they are not the runs of the results, and the
/// budgets do not depend on `--runs`, `--seed`, the thread count or sharding.
pub fn forecast_budgets(model: &Model, runs: u32) -> Vec<Vec<Vec<f64>>> {
    let years = model.years().len();
    let quantile_of = |arm: usize, p: usize| -> Option<f64> {
        let pool = &model.arms[arm].pools[p];
        match model.regimes[pool.regime].budget {
            BudgetRule::BaselinePercentile(q) => Some(q),
            _ => None,
        }
    };
    let wanted: Vec<(usize, usize)> = (0..model.arms.len())
        .flat_map(|arm| (0..model.arms[arm].pools.len()).map(move |p| (arm, p)))
        .filter(|&(arm, p)| quantile_of(arm, p).is_some())
        .collect();
    let mut out: Vec<Vec<Vec<f64>>> = model
        .arms
        .iter()
        .map(|a| vec![Vec::new(); a.pools.len()])
        .collect();
    if wanted.is_empty() || model.arms.is_empty() {
        return out;
    }
    let n = model.n_states();
    let n1 = n + 1;
    // samples[k][y * runs + r]: the spend of wanted pool k in year y, run r.
    let mut samples = vec![vec![0.0; years * runs as usize]; wanted.len()];
    let seed = model.seed ^ FORECAST_SALT;
    for r in 0..runs {
        let trace = crate::engine::simulate(model, 0, seed, r);
        for (k, &(arm, p)) in wanted.iter().enumerate() {
            for &a in &model.arms[arm].pools[p].areas {
                let plan = model.arms[arm].plans[a]
                    .as_ref()
                    .expect("a pool's areas have a plan");
                let at = &trace.areas[a];
                for c in plan.cycles() {
                    let y = model.year_index(c as u32);
                    samples[k][y * runs as usize + r as usize] +=
                        crate::engine::budget::holder_spend(
                            model,
                            plan,
                            a,
                            c,
                            &model.costs,
                            &at.counts[c * n..(c + 1) * n],
                            &at.moves[c * n1 * n1..(c + 1) * n1 * n1],
                        );
                }
            }
        }
    }
    for (k, &(arm, p)) in wanted.iter().enumerate() {
        let q = quantile_of(arm, p).expect("wanted pools have a quantile");
        out[arm][p] = (0..years)
            .map(|y| {
                let mut v = samples[k][y * runs as usize..(y + 1) * runs as usize].to_vec();
                v.sort_by(f64::total_cmp);
                quantile(&v, q)
            })
            .collect();
    }
    out
}
