//! Expected values as summaries: the cohort engine's counts reduced as a run's are, so
//! `--engine cohort` writes the same tables (one "run", no spread).

use super::{Columns, Layout, Summary, reduce_views};
use crate::engine::AreaView;
use crate::engine::budget::Book;
use crate::engine::cohort::{ExpectedArea, expected_arm_area, feedback_regimes};
use crate::model::Model;

/// Expected values of every arm, as summaries of a single "run" (sd 0, quantiles equal to the mean),
/// and warnings for arms whose budget feedback is ignored (their results are approximations).
pub fn summarise(model: &Model) -> (Vec<Summary>, Vec<String>) {
    let n = model.n_states();
    let n1 = n + 1;
    let mut warnings = Vec::new();
    let summaries = (0..model.arms.len())
        .map(|arm| {
            let fb = feedback_regimes(model, arm);
            if !fb.is_empty() {
                warnings.push(format!(
                    "arm `{}`: the expected-value engine ignores {} (nobody waits, no surplus is reinvested); its results approximate, and its overspend is that of the expected spend. Use the Monte Carlo engine for this arm.",
                    model.arms[arm].name,
                    fb.join(", ")
                ));
            }
            let expected: Vec<ExpectedArea> = (0..model.areas.len()).map(|a| expected_arm_area(model, arm, a)).collect();
            let pools: Vec<Vec<crate::engine::budget::BudgetYear>> = model.arms[arm]
                .pools
                .iter()
                .enumerate()
                .map(|(p, pool)| {
                    let plan = model.arms[arm].plans[pool.areas[0]].as_ref().expect("a pool's areas have a plan");
                    let mut book = Book::new(model, arm, p);
                    for c in 0..model.cycles as usize {
                        for &a in &pool.areas {
                            let e = &expected[a];
                            book.book(c, crate::engine::budget::holder_spend(model, plan, a, c, model.costs_for(Some(plan)), &e.counts[c * n..(c + 1) * n], &e.moves[c * n1 * n1..(c + 1) * n1 * n1]));
                        }
                        book.settle(c);
                    }
                    book.years
                })
                .collect();
            let views: Vec<AreaView<f64>> = expected.iter().map(ExpectedArea::view).collect();
            let layout = Layout::new(model, arm);
            let cells = reduce_views(model, arm, &layout, &views, &pools);
            let mut columns = Columns::new(cells.len(), 1);
            columns.put(0, &cells);
            let stats = columns.stats();
            Summary { arm: model.arms[arm].name.clone(), layout, runs: 1, columns, stats, client_cycles: 0 }
        })
        .collect();
    (summaries, warnings)
}
