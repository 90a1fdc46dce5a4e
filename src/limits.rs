//! Upper limits on what a scenario, a run or a sweep may ask for, and the memory it would take.
//!
//! Every accepted input must finish or fail cleanly, so sizes are checked before anything big is
//! allocated. The budget is fixed (not the machine's memory) so that `wijksim check` gives the same
//! answer everywhere; an input over it gets an error that names the limit, the memory it would take and
//! the key or option to lower.
//!
//! Per-run statistics are kept exactly (every run's reported numbers, so quantiles and paired differences
//! are exact and results are reproducible to the bit); memory thus grows with runs × reported numbers,
//! and the number of runs that fit follows from the budget.

use crate::aggregate::Layout;
use crate::error::{Message, says};
use crate::model::Model;

/// Memory a run may plan to use for its tables, per-run statistics and traces, in bytes (4 GB).
pub const MEMORY_BUDGET: u64 = 4_000_000_000;
/// Most runs of a scenario or a sweep point.
pub const MAX_RUNS: u64 = 10_000_000;
/// Most points of a sweep design (every point is compiled and checked before anything runs, about 2 ms
/// a point for the default scenario).
pub const MAX_POINTS: u64 = 100_000;
/// Most clients of one area at the start, over all states together (client ids have 20 bits per
/// cycle of arrival; the starting caseload shares them with the first cycle's arrivals).
pub const MAX_AREA_CLIENTS: u64 = (1 << 20) - 1;

/// `bytes` as gigabytes for a message, e.g. `67.1 GB`.
pub fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Bytes of the transition tables of `cycles` cycles with `cells_per_cycle` cells each (a row index and
/// a threshold per cell, and while checking the line of each cell).
pub fn table_bytes(cycles: u64, cells_per_cycle: u64) -> u64 {
    cycles.saturating_mul(cells_per_cycle).saturating_mul(20)
}

/// What a run of `model` with `runs` runs on `threads` threads would keep in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The compiled model's per-cycle tables.
    pub tables: u64,
    /// Every run's reported numbers (exact statistics), over all arms.
    pub per_run: u64,
    /// [`Need::per_run`] for one run: 4 bytes a number of clients (caseload, flows), 8 for the others.
    pub per_run_each: u64,
    /// Numbers reported per run, over all arms.
    pub cells: u64,
    /// The runs in progress: their traces (one per thread) and the block of finished runs' numbers
    /// waiting to be stored by cell.
    pub traces: u64,
    /// The per-run table (`runs.csv`) while it is written and read back for the figures: its text, a
    /// copy, and the parsed rows (about 72 bytes a number).
    pub output: u64,
    /// [`Need::output`] per run.
    pub output_per_run: u64,
}

impl Need {
    /// The total.
    pub fn total(&self) -> u64 {
        self.tables
            .saturating_add(self.per_run)
            .saturating_add(self.traces)
            .saturating_add(self.output)
    }
}

/// The memory a run of `model` would need.
pub fn need(model: &Model, runs: u64, threads: u64) -> Need {
    let layouts: Vec<Layout> = (0..model.arms.len())
        .map(|arm| Layout::new(model, arm))
        .collect();
    need_for_layouts(model, &layouts, runs, threads)
}

/// [`need`], given the arms' layouts.
pub fn need_for_layouts(model: &Model, layouts: &[Layout], runs: u64, threads: u64) -> Need {
    let cells: u64 = layouts.iter().map(|l| l.len() as u64).sum();
    // The numbers of clients (caseload and flows) are kept as `u32`, the others as `f64`.
    let clients: u64 = layouts.iter().map(|l| l.client_cells() as u64).sum();
    let bytes_per_run = clients * 4 + (cells - clients) * 8;
    let n = model.n_states() as u64;
    let cycles = u64::from(model.cycles);
    let n1 = n + 1;
    let transitions = |t: &crate::model::Transitions| (t.row_of().len() as u64).saturating_mul(12);
    let tables = transitions(&model.transitions)
        + model.regime_tables.iter().map(transitions).sum::<u64>()
        + (model.costs.len() as u64 + model.areas.len() as u64).saturating_mul(cycles * 8)
        + (model
            .regime_costs
            .iter()
            .flatten()
            .map(Vec::len)
            .sum::<usize>() as u64)
            .saturating_mul(cycles * 8);
    let trace = (model.areas.len() as u64 * cycles * (n + n1 * n1)).saturating_mul(4)
        + (cycles * n1 * n1).saturating_mul(8)
        + cells.saturating_mul(8);
    // The block of finished runs' numbers waiting to be stored by cell.
    let block = block_runs(usize::try_from(cells).unwrap_or(usize::MAX)) as u64;
    let room = block.min(runs).saturating_mul(cells).saturating_mul(8);
    let output_per_run = (model.arms.len() as u64)
        .saturating_mul(run_numbers(model))
        .saturating_mul(OUTPUT_BYTES);
    Need {
        tables,
        per_run: bytes_per_run.saturating_mul(runs),
        per_run_each: bytes_per_run,
        cells,
        traces: trace.saturating_mul(threads.max(1)).saturating_add(room),
        output: output_per_run.saturating_mul(runs),
        output_per_run,
    }
}

/// Bytes a number of `runs.csv` takes while the table is written and read back. Measured on the
/// default scenario at the limit: 219,077 runs peaked at 4.30 GB with 3.42 GB of per-run statistics, and
/// with 64 bytes a number 201,586 runs peaked at 4.05 GB; 72 keeps the peak under the budget.
const OUTPUT_BYTES: u64 = 72;

/// Numbers per arm and run in `runs.csv`: in each scope five accounts of each year, the discounted
/// cost, the clients and each discounted outcome; each KPI (but evaluations) per contract year in
/// each of its scopes.
fn run_numbers(model: &Model) -> u64 {
    let years = model.years().len() as u64;
    let scopes = model.scopes.len() as u64;
    let kpi_years: u64 = model
        .kpis
        .iter()
        .filter(|k| !k.is_evaluations())
        .map(|k| (k.years() * k.scopes.len()) as u64)
        .sum();
    scopes * (5 * years + 2 + model.outcomes.len() as u64) + kpi_years
}

/// Runs of a batch's block for `cells` numbers per run (over all arms): finished runs wait in the
/// block to be stored by cell. Up to 256 runs and about 32 MB of numbers (at least one run).
pub fn block_runs(cells: usize) -> usize {
    ((1usize << 22) / cells.max(1)).clamp(1, 256)
}

/// The most runs that fit the budget besides the tables and traces (0 if none).
pub fn runs_that_fit(need: &Need) -> u64 {
    let per_run = need.per_run_each.saturating_add(need.output_per_run);
    MEMORY_BUDGET
        .saturating_sub(need.tables + need.traces)
        .checked_div(per_run)
        .unwrap_or(0)
}

/// `Some((problem, fix))` when `need` is over the budget; `runs_key` names how to lower the runs
/// (`run.runs` in a scenario, [`Opt::Runs`](crate::error::Opt::Runs) for the runs of a call).
pub fn over_budget(
    need: &Need,
    runs: u64,
    runs_key: impl Into<Message>,
) -> Option<(String, Message)> {
    if need.total() <= MEMORY_BUDGET {
        return None;
    }
    let problem = format!(
        "this would take {} of memory, over the limit of {}: {} for the per-run statistics ({runs} runs × {} numbers), {} for the per-run table runs.csv, {} for the per-cycle tables, {} for the runs in progress",
        gb(need.total()),
        gb(MEMORY_BUDGET),
        gb(need.per_run),
        need.cells,
        gb(need.output),
        gb(need.tables),
        gb(need.traces),
    );
    let fit = runs_that_fit(need);
    let runs_key = runs_key.into();
    let fix = if need.per_run + need.output >= need.tables + need.traces && fit > 0 {
        says!(
            "lower ",
            runs_key,
            format!(" to at most {fit}, or shorten time.cycles")
        )
    } else {
        says!(
            "shorten time.cycles (or use fewer states, areas or cycles_in_state bands); then lower ",
            runs_key,
            " if needed"
        )
    };
    Some((problem, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runs_the_fix_names_fit_the_budget_and_one_more_does_not() {
        // The default scenario: numbers of clients at 4 bytes, the others at 8, and runs.csv. The
        // fix is computed from the need of the runs asked for (`--runs 10000000`, say).
        let model = crate::scenario::default_scenario().model;
        let fit = runs_that_fit(&need(&model, 10_000_000, 2));
        assert!(fit > 1_000, "the default fits many runs: {fit}");
        assert!(
            need(&model, fit, 2).total() <= MEMORY_BUDGET,
            "{fit} runs fit"
        );
        assert!(
            need(&model, fit + 1, 2).total() > MEMORY_BUDGET,
            "{} runs do not",
            fit + 1
        );
        let each = need(&model, 1, 2).per_run_each;
        let layouts: Vec<Layout> = (0..model.arms.len())
            .map(|a| Layout::new(&model, a))
            .collect();
        let clients: usize = layouts.iter().map(Layout::client_cells).sum();
        let cells: usize = layouts.iter().map(Layout::len).sum();
        assert!(clients > 0 && clients < cells);
        assert_eq!(each, (clients * 4 + (cells - clients) * 8) as u64);
    }
}
