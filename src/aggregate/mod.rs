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
/// column of a fill value) as read back from `runs.csv`, which holds a few cells per run.
#[derive(Debug, Clone)]
pub struct Columns {
    runs: usize,
    values: Vec<f64>,
    /// Sparse: the block in `values` of every cell (the last block, the fill, for cells not kept);
    /// empty when dense.
    slot: Vec<u32>,
}

/// Asks the system to back `values` by huge pages where it can (Linux with transparent huge pages):
/// the store of a large batch (over a GiB for the default scenario's 10,000 runs) then takes a page
/// fault per 2 MiB as it is first written, not per 4 KiB. A hint that changes no value; elsewhere,
/// and for small stores, nothing.
fn huge_pages(values: &[f64]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        const HUGE: usize = 2 << 20;
        let bytes = std::mem::size_of_val(values);
        if bytes < 4 * HUGE {
            return;
        }
        let start = values.as_ptr() as usize;
        let (lo, hi) = (start.next_multiple_of(PAGE), (start + bytes) / PAGE * PAGE);
        // SAFETY: the whole pages in `lo..hi` lie within the allocation of `values`; the advice
        // changes how they are backed, never their contents. Its failure leaves them as they were.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

impl Columns {
    /// Room for `runs` runs of `cells` cells.
    pub fn new(cells: usize, runs: usize) -> Columns {
        // Zeroed memory fresh from the system: untouched until the runs are stored.
        let values = vec![0.0; cells * runs];
        huge_pages(&values);
        Columns {
            runs,
            values,
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
            values: vec![fill; (kept.len() + 1) * runs],
            slot,
        }
    }

    fn block(&self, cell: usize) -> usize {
        if self.slot.is_empty() {
            cell
        } else {
            self.slot[cell] as usize
        }
    }

    /// Sets cell `cell` of run `run` (a cell that sparse columns do not keep is a bug).
    pub fn set(&mut self, run: usize, cell: usize, value: f64) {
        let b = self.block(cell);
        assert!(
            self.slot.is_empty() || b + 1 < self.values.len() / self.runs.max(1),
            "cell {cell} is not kept"
        );
        self.values[b * self.runs + run] = value;
    }

    /// Stores run `run`'s cells (dense columns).
    pub fn put(&mut self, run: usize, cells: &[f64]) {
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        for (i, v) in cells.iter().enumerate() {
            self.values[i * self.runs + run] = *v;
        }
    }

    /// Stores the cells of runs `lo..lo + n` (dense columns), given run after run in `rows` (`n` runs
    /// of all the cells each). The threads of the current rayon pool (`sequential`: the calling thread
    /// alone) each write a share of the cells: a few rows at a time (held in the processor's cache
    /// while they are read), a cache line of each row at a time, each cell's values in one stretch
    /// along its column.
    pub fn put_runs(&mut self, lo: usize, rows: &[f64], sequential: bool) {
        use rayon::prelude::*;
        /// Cells written together: a cache line of a row.
        const CELLS: usize = 8;
        /// Cells a task writes: far more work than handing it out.
        const SHARE: usize = 64 * CELLS;
        /// Rows read at a time: a task's share of them (256 KiB) stays in the cache.
        const ROWS: usize = 64;
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        let (cells, runs) = (self.cells(), self.runs);
        if cells == 0 {
            return;
        }
        assert_eq!(rows.len() % cells, 0, "rows of {cells} cells");
        let n = rows.len() / cells;
        assert!(lo + n <= runs, "runs {lo}..{} of {runs}", lo + n);
        if n == 0 {
            return;
        }
        let put = |(k, columns): (usize, &mut [f64])| {
            let first = k * SHARE;
            let mut columns: Vec<&mut [f64]> = columns
                .chunks_exact_mut(runs)
                .map(|column| &mut column[lo..lo + n])
                .collect();
            for r0 in (0..n).step_by(ROWS) {
                let tile = &rows[r0 * cells..(r0 + ROWS).min(n) * cells];
                for (g, group) in columns.chunks_mut(CELLS).enumerate() {
                    let at = first + g * CELLS;
                    for (r, row) in tile.chunks_exact(cells).enumerate() {
                        for (column, &v) in group.iter_mut().zip(&row[at..]) {
                            column[r0 + r] = v;
                        }
                    }
                }
            }
        };
        if sequential {
            self.values
                .chunks_mut(runs * SHARE)
                .enumerate()
                .for_each(put);
        } else {
            self.values
                .par_chunks_mut(runs * SHARE)
                .enumerate()
                .for_each(put);
        }
    }

    /// The values of one cell, in run order.
    pub fn cell(&self, i: usize) -> &[f64] {
        let b = self.block(i);
        &self.values[b * self.runs..(b + 1) * self.runs]
    }

    fn cells(&self) -> usize {
        if self.slot.is_empty() {
            self.values.len().checked_div(self.runs).unwrap_or(0)
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
            .map_init(stats::Scratch::default, |s, k| {
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
        let mut s = stats::Scratch::default();
        let mut out = Vec::with_capacity(cells);
        for lo in (0..cells).step_by(STRETCH) {
            self.stats_into(lo..(lo + STRETCH).min(cells), &mut s, &mut out);
        }
        out
    }

    /// Statistics of the cells `cells`, appended to `out`.
    fn stats_into(
        &self,
        cells: std::ops::Range<usize>,
        scratch: &mut stats::Scratch,
        out: &mut Vec<Stats>,
    ) {
        let columns: Vec<&[f64]> = cells.map(|i| self.cell(i)).collect();
        stats::stats_of_cells(&columns, scratch, out);
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
        // More cells than a stretch, not a multiple of it: counts, fractions, constants, a NaN.
        let (cells, runs) = (2 * STRETCH + 13, 37);
        let mut columns = Columns::new(cells, runs);
        let value = |cell: usize, run: usize| match cell % 5 {
            0 => ((cell * 31 + run * 17) % 11) as f64,
            1 => (cell * run) as f64 / 7.0,
            2 => cell as f64,
            3 if run == 5 => f64::NAN,
            _ => -((run * run) as f64),
        };
        for cell in 0..cells {
            for run in 0..runs {
                columns.set(run, cell, value(cell, run));
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
            .map(|c| stats(&mut columns.cell(c).to_vec()))
            .collect();
        assert_eq!(bits(&columns.stats_in_order()), bits(&alone));
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
        for (cells, blocks) in [(13, vec![0, 7, 10]), (2 * 512 + 13, vec![0, 70, 150])] {
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
                let mut columns = Columns::new(cells, runs);
                pool.install(|| {
                    for b in blocks.windows(2) {
                        columns.put_runs(b[0], &rows(b[0], b[1]), sequential);
                    }
                });
                for c in 0..cells {
                    let want: Vec<f64> = (0..runs).map(|r| value(r, c)).collect();
                    assert_eq!(
                        columns.cell(c),
                        want,
                        "{cells} cells: cell {c}, sequential {sequential}"
                    );
                }
            }
        }
    }
}
