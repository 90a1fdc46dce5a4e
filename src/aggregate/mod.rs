//! From run traces to reported statistics, streaming.
//!
//! Each run is reduced at once to the few numbers that are reported ([`Layout`]: caseload per cycle and
//! state, flows per year, costs per year, municipality and line); the trace is then dropped. Memory thus
//! grows with what is reported times the number of runs (the data quantiles need), never with clients.
//! Statistics are computed in run order, so they do not depend on which thread ran which run.

mod area;
pub mod expected;
mod layout;
pub mod paired;
mod reduce;
pub mod sizing;
mod stats;

pub use crate::engine::AreaView;
pub use crate::model::Tally;
pub use layout::{Account, BudgetMeasure, Econ, KpiCell, Layout};
pub use reduce::{reduce, reduce_arms, reduce_arms_into, reduce_views};
pub use stats::{LEVELS, Stats, quantile, quantiles, stats};

/// Reported numbers of all runs, stored by cell (the data quantiles need).
///
/// Dense (every cell) as a run keeps them, or sparse (some cells; the others read as one shared
/// column of a fill value) as read back from `runs.csv`, which holds a few cells per run. A Monte Carlo
/// batch keeps its first cells, whole numbers of clients (the caseload and the flows), as `u32`: half
/// the memory of the rest, and the same numbers.
#[derive(Debug, Clone)]
pub struct Columns {
    runs: usize,
    /// How many cells, the first, are whole numbers kept in `counts`.
    whole: usize,
    /// `counts[cell * runs + run]` for the first `whole` cells.
    counts: Vec<u32>,
    /// The other cells (their blocks when sparse), `values[(block - whole) * runs + run]`.
    values: Vec<f64>,
    /// Sparse: the block in `values` of every cell (the last block, the fill, for cells not kept);
    /// empty when dense.
    slot: Vec<u32>,
}

/// A value as a column keeps it: `f64` as it is, a whole number of clients as `u32` (whether it is
/// one, read back bit for bit: `false` for a fraction, a negative number, -0, NaN or one too large).
trait Kept: Copy + Send + Sync {
    fn keep(v: f64) -> (Self, bool);
}

impl Kept for f64 {
    #[inline(always)]
    fn keep(v: f64) -> (f64, bool) {
        (v, true)
    }
}

impl Kept for u32 {
    #[inline(always)]
    fn keep(v: f64) -> (u32, bool) {
        let k = v as u32;
        (k, f64::from(k).to_bits() == v.to_bits())
    }
}

impl Columns {
    /// Room for `runs` runs of `cells` cells.
    pub fn new(cells: usize, runs: usize) -> Columns {
        Columns::counted(cells, 0, runs)
    }

    /// Room for `runs` runs of `cells` cells, the first `whole` of them whole numbers of clients
    /// from 0 to `u32::MAX` (storing another value there is a bug, and panics).
    pub fn counted(cells: usize, whole: usize, runs: usize) -> Columns {
        let whole = whole.min(cells);
        Columns {
            runs,
            whole,
            counts: vec![0; whole * runs],
            values: vec![0.0; (cells - whole) * runs],
            slot: Vec::new(),
        }
    }

    /// Room for `runs` runs of the cells `kept` of `cells` cells, every value `fill`; the other cells
    /// read as `fill` in every run and cannot be set.
    pub fn sparse(cells: usize, kept: &[usize], runs: usize, fill: f64) -> Columns {
        let absent = u32::try_from(kept.len()).expect("fewer kept cells than u32::MAX");
        let mut slot = vec![absent; cells];
        for (k, &c) in kept.iter().enumerate() {
            slot[c] = k as u32;
        }
        Columns {
            runs,
            whole: 0,
            counts: Vec::new(),
            values: vec![fill; (kept.len() + 1) * runs],
            slot,
        }
    }

    /// Where cell `cell` is: `Ok(its block in counts)` or `Err(its block in values)`.
    fn block(&self, cell: usize) -> Result<usize, usize> {
        if !self.slot.is_empty() {
            Err(self.slot[cell] as usize)
        } else if cell < self.whole {
            Ok(cell)
        } else {
            Err(cell - self.whole)
        }
    }

    /// Sets cell `cell` of run `run` (a cell that sparse columns do not keep is a bug, as is a value
    /// other than a whole number of clients in a whole cell).
    pub fn set(&mut self, run: usize, cell: usize, value: f64) {
        let runs = self.runs;
        match self.block(cell) {
            Ok(b) => {
                let (k, whole) = u32::keep(value);
                assert!(whole, "cell {cell} holds whole numbers, not {value}");
                self.counts[b * runs + run] = k;
            }
            Err(b) => {
                assert!(
                    self.slot.is_empty() || b + 1 < self.values.len() / runs.max(1),
                    "cell {cell} is not kept"
                );
                self.values[b * runs + run] = value;
            }
        }
    }

    /// Stores run `run`'s cells (dense columns).
    pub fn put(&mut self, run: usize, cells: &[f64]) {
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        for (i, &v) in cells.iter().enumerate() {
            self.set(run, i, v);
        }
    }

    /// Stores the cells of runs `lo..lo + n` (dense columns), given run after run in `rows` (`n` runs
    /// of all the cells each). The threads of the current rayon pool (`sequential`: the calling thread
    /// alone) each write a share of the cells: a few rows at a time (held in the processor's cache
    /// while they are read), a cache line of each row at a time, each cell's values in one stretch
    /// along its column.
    pub fn put_runs(&mut self, lo: usize, rows: &[f64], sequential: bool) {
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        let cells = self.cells();
        if cells == 0 {
            return;
        }
        assert_eq!(rows.len() % cells, 0, "rows of {cells} cells");
        let n = rows.len() / cells;
        assert!(
            lo + n <= self.runs,
            "runs {lo}..{} of {}",
            lo + n,
            self.runs
        );
        if n == 0 {
            return;
        }
        let at = (lo, n, cells, sequential);
        put_cells(&mut self.counts, 0, rows, self.runs, at);
        put_cells(&mut self.values, self.whole, rows, self.runs, at);
    }

    /// The value of cell `cell` in run `run`.
    pub fn value(&self, cell: usize, run: usize) -> f64 {
        match self.block(cell) {
            Ok(b) => f64::from(self.counts[b * self.runs + run]),
            Err(b) => self.values[b * self.runs + run],
        }
    }

    /// The values of cell `cell`, in run order (borrowed where they are kept as `f64`).
    pub fn column(&self, cell: usize) -> std::borrow::Cow<'_, [f64]> {
        let runs = self.runs;
        match self.block(cell) {
            Ok(b) => self.counts[b * runs..(b + 1) * runs]
                .iter()
                .map(|&k| f64::from(k))
                .collect(),
            Err(b) => std::borrow::Cow::Borrowed(&self.values[b * runs..(b + 1) * runs]),
        }
    }

    /// The values of cell `cell`, in run order, where they are kept as `f64` (every cell of sparse
    /// columns and of columns without whole cells; a whole cell is a bug).
    pub fn floats(&self, cell: usize) -> &[f64] {
        match self.block(cell) {
            Ok(_) => panic!("cell {cell} is kept as whole numbers"),
            Err(b) => &self.values[b * self.runs..(b + 1) * self.runs],
        }
    }

    fn cells(&self) -> usize {
        if self.slot.is_empty() {
            self.whole + self.values.len().checked_div(self.runs).unwrap_or(0)
        } else {
            self.slot.len()
        }
    }

    /// Statistics of every cell (on the current rayon pool; the result does not depend on it): a
    /// stretch of cells at a time, whose sums are added side by side.
    pub fn stats(&self) -> Vec<Stats> {
        use rayon::prelude::*;
        let cells = self.cells();
        let done: Vec<Vec<Stats>> = (0..cells.div_ceil(STRETCH))
            .into_par_iter()
            .map_init(<(stats::Scratch, Vec<f64>)>::default, |s, k| {
                let stretch = k * STRETCH..((k + 1) * STRETCH).min(cells);
                let mut out = Vec::with_capacity(stretch.len());
                self.stats_into(stretch, s, &mut out);
                out
            })
            .collect();
        done.concat()
    }

    /// Statistics of every cell, on the calling thread.
    pub fn stats_in_order(&self) -> Vec<Stats> {
        let cells = self.cells();
        let mut s = Default::default();
        let mut out = Vec::with_capacity(cells);
        for lo in (0..cells).step_by(STRETCH) {
            self.stats_into(lo..(lo + STRETCH).min(cells), &mut s, &mut out);
        }
        out
    }

    /// Statistics of the cells `cells`, appended to `out`; whole cells are read as `f64` a group of
    /// cells at a time, into `wide`.
    fn stats_into(
        &self,
        cells: std::ops::Range<usize>,
        (scratch, wide): &mut (stats::Scratch, Vec<f64>),
        out: &mut Vec<Stats>,
    ) {
        let runs = self.runs;
        let split = self.whole.clamp(cells.start, cells.end);
        for group in (cells.start..split).step_by(stats::GROUP) {
            let group = group..(group + stats::GROUP).min(split);
            wide.clear();
            wide.extend(
                self.counts[group.start * runs..group.end * runs]
                    .iter()
                    .map(|&k| f64::from(k)),
            );
            let columns: Vec<&[f64]> = (0..group.len())
                .map(|j| &wide[j * runs..(j + 1) * runs])
                .collect();
            stats::stats_of_cells(&columns, scratch, out);
        }
        let columns: Vec<&[f64]> = (split..cells.end).map(|i| self.floats(i)).collect();
        stats::stats_of_cells(&columns, scratch, out);
    }
}

/// Stores the cells `first..` of the rows of runs `lo..lo + n` (of `cells` cells each) into
/// `store`, the columns of these cells (`runs` values each) kept as `T`: see [`Columns::put_runs`].
fn put_cells<T: Kept>(
    store: &mut [T],
    first: usize,
    rows: &[f64],
    runs: usize,
    (lo, n, cells, sequential): (usize, usize, usize, bool),
) {
    use rayon::prelude::*;
    /// Cells written together: a cache line of a row.
    const CELLS: usize = 8;
    /// Cells a task writes: far more work than handing it out.
    const SHARE: usize = 64 * CELLS;
    /// Rows read at a time: a task's share of them (256 KiB) stays in the cache.
    const ROWS: usize = 64;
    if store.is_empty() {
        return;
    }
    let put = |(k, columns): (usize, &mut [T])| {
        let first = first + k * SHARE;
        let mut columns: Vec<&mut [T]> = columns
            .chunks_exact_mut(runs)
            .map(|column| &mut column[lo..lo + n])
            .collect();
        let mut kept = true;
        for r0 in (0..n).step_by(ROWS) {
            let tile = &rows[r0 * cells..(r0 + ROWS).min(n) * cells];
            for (g, group) in columns.chunks_mut(CELLS).enumerate() {
                let at = first + g * CELLS;
                for (r, row) in tile.chunks_exact(cells).enumerate() {
                    for (column, &v) in group.iter_mut().zip(&row[at..]) {
                        let (k, ok) = T::keep(v);
                        column[r0 + r] = k;
                        kept &= ok;
                    }
                }
            }
        }
        assert!(
            kept,
            "cells {first}.. of runs {lo}..{}: a whole number of clients expected",
            lo + n
        );
    };
    if sequential {
        store.chunks_mut(runs * SHARE).enumerate().for_each(put);
    } else {
        store.par_chunks_mut(runs * SHARE).enumerate().for_each(put);
    }
}

/// How many cells a thread takes at a time for their statistics.
const STRETCH: usize = 64;

/// The summary of a batch of runs of one arm.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Arm name.
    pub arm: String,
    /// Layout of the cells.
    pub layout: Layout,
    /// Runs.
    pub runs: usize,
    /// Per-run values by cell.
    pub columns: Columns,
    /// Statistics by cell.
    pub stats: Vec<Stats>,
    /// Client-cycles simulated over all runs.
    pub client_cycles: u64,
}

impl Summary {
    /// Statistics over runs of account `k` (e.g. [`Account::MunicipalSpend`]) of scope `scope` in
    /// calendar year `year`: the numbers of a row of `accounts.csv`. `scope` indexes
    /// [`Layout::scopes`]: [`crate::model::scope::REGION`] is the region, [`Layout::pilot_scope`] the pilot
    /// areas together. `None` for a year outside the horizon or a scope that does not exist.
    pub fn account(&self, scope: usize, year: i32, k: Account) -> Option<&Stats> {
        let y = self.layout.years.iter().position(|&x| x == year)?;
        (scope < self.layout.scopes.len()).then(|| &self.stats[self.layout.account(scope, y, k)])
    }

    /// Statistics over runs of account `k` of scope `scope` summed over every year of the horizon
    /// (each run's total; `None` for a scope that does not exist).
    pub fn account_total(&self, scope: usize, k: Account) -> Option<Stats> {
        (scope < self.layout.scopes.len()).then(|| {
            stats(&mut crate::aggregate::paired::account_per_run(
                self, scope, k,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_type7() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        let s = stats(&mut v);
        assert_eq!(s.mean, 3.0);
        assert_eq!(s.q, [1.2, 2.0, 3.0, 4.0, 4.8]);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        let one = stats(&mut [7.0]);
        assert_eq!((one.sd, one.q[0], one.q[4]), (0.0, 7.0, 7.0));
    }

    #[test]
    fn statistics_of_columns_are_each_cells_alone_on_any_pool_bit_for_bit() {
        // More cells than a stretch, not a multiple of it: counts, fractions, constants, a NaN; the
        // first cells (past a stretch and not a whole group) kept as whole numbers, up to u32::MAX.
        let (cells, runs, whole) = (2 * STRETCH + 13, 37, STRETCH + 21);
        let mut columns = Columns::counted(cells, whole, runs);
        let mut wide = Columns::new(cells, runs);
        let value = |cell: usize, run: usize| match (cell < whole, cell % 5) {
            (true, 0 | 3) => ((cell * 31 + run * 17) % 11) as f64,
            (true, 1) => f64::from(u32::MAX - (run as u32 % 3)),
            (true, _) => cell as f64,
            (false, 0) => ((cell * 31 + run * 17) % 11) as f64,
            (false, 1) => (cell * run) as f64 / 7.0,
            (false, 2) => cell as f64,
            (false, 3) if run == 5 => f64::NAN,
            _ => -((run * run) as f64),
        };
        for cell in 0..cells {
            for run in 0..runs {
                columns.set(run, cell, value(cell, run));
                wide.set(run, cell, value(cell, run));
                assert_eq!(
                    columns.value(cell, run).to_bits(),
                    value(cell, run).to_bits()
                );
            }
        }
        let bits = |s: &[Stats]| -> Vec<[u64; 7]> {
            let bits = |s: &Stats| {
                let mut b = [s.mean.to_bits(), s.sd.to_bits(), 0, 0, 0, 0, 0];
                for (b, q) in b[2..].iter_mut().zip(s.q) {
                    *b = q.to_bits();
                }
                b
            };
            s.iter().map(bits).collect()
        };
        let alone: Vec<Stats> = (0..cells)
            .map(|c| stats(&mut (0..runs).map(|r| value(c, r)).collect::<Vec<_>>()))
            .collect();
        assert_eq!(bits(&columns.stats_in_order()), bits(&alone));
        assert_eq!(bits(&wide.stats_in_order()), bits(&alone));
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            assert_eq!(bits(&pool.install(|| columns.stats())), bits(&alone));
        }
    }

    #[test]
    fn runs_put_in_blocks_land_at_their_own_index_on_any_pool() {
        // 13 cells (not whole groups of 8), 10 runs stored as blocks of 7 and 3; and more cells than
        // a task's share (two shares and a part), 150 runs in blocks of 70 and 80 (each more than
        // the rows read at a time, not a multiple of them).
        // Cells kept as whole numbers: none, some (not a whole share or group), all.
        for (cells, blocks, whole) in [
            (13, vec![0, 7, 10], 0),
            (13, vec![0, 7, 10], 5),
            (13, vec![0, 7, 10], 13),
            (2 * 512 + 13, vec![0, 70, 150], 0),
            (2 * 512 + 13, vec![0, 70, 150], 600),
        ] {
            let runs = *blocks.last().unwrap();
            let value = |r: usize, c: usize| (r * 10_000 + c) as f64;
            let rows = |lo: usize, hi: usize| -> Vec<f64> {
                (lo..hi)
                    .flat_map(|r| (0..cells).map(move |c| value(r, c)))
                    .collect()
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            for sequential in [true, false] {
                let mut columns = Columns::counted(cells, whole, runs);
                pool.install(|| {
                    for b in blocks.windows(2) {
                        columns.put_runs(b[0], &rows(b[0], b[1]), sequential);
                    }
                });
                for c in 0..cells {
                    let want: Vec<f64> = (0..runs).map(|r| value(r, c)).collect();
                    let at =
                        format!("{cells} cells ({whole} whole): cell {c}, sequential {sequential}");
                    assert_eq!(columns.column(c), want, "{at}");
                    assert_eq!(columns.value(c, runs - 1), want[runs - 1], "{at}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "a whole number of clients expected")]
    fn a_fraction_stored_in_a_whole_cell_is_a_bug_not_a_rounding() {
        let mut columns = Columns::counted(3, 2, 2);
        columns.put_runs(0, &[1.0, 2.0, 0.5, 1.0, 2.5, 0.5], true);
    }

    #[test]
    fn a_whole_cell_keeps_exactly_the_whole_numbers_it_can_give_back() {
        for v in [0.0, 1.0, 4_294_967_295.0] {
            assert_eq!(u32::keep(v), (v as u32, true), "{v}");
        }
        for v in [-0.0, -1.0, 0.5, 4_294_967_296.0, f64::NAN, f64::INFINITY] {
            assert!(!u32::keep(v).1, "{v} is not kept as a whole number");
        }
    }

    #[test]
    #[should_panic(expected = "holds whole numbers")]
    fn a_negative_number_set_in_a_whole_cell_is_a_bug() {
        Columns::counted(3, 2, 2).set(0, 1, -1.0);
    }
}
