//! The one home of the statistics over runs: mean, standard deviation, quantiles (R type 7) and the
//! Monte Carlo standard error. Console, report, CSVs, workbook and sweeps all take them from here.

/// Statistics of one reported number over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub sd: f64,
    /// Quantiles 5, 25, 50, 75 and 95% (R type 7: linear interpolation).
    pub q: [f64; 5],
}

impl Stats {
    /// Monte Carlo standard error of the mean.
    pub fn mcse(&self, runs: usize) -> f64 {
        self.sd / (runs as f64).sqrt()
    }
}

/// The quantile levels reported.
pub const LEVELS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Type-7 quantile of sorted values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    type7(sorted.len(), p, |i| sorted[i])
}

/// Quantiles `levels` (type 7) of values in any order.
pub fn quantiles(values: &[f64], levels: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    levels.iter().map(|&p| quantile(&v, p)).collect()
}

/// Type-7 quantile at level `p` of `n` values, `at(i)` the `i`-th smallest.
#[inline]
fn type7(n: usize, p: f64, at: impl Fn(usize) -> f64) -> f64 {
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    at(lo) + (h - lo as f64) * (at(hi) - at(lo))
}

/// Statistics of values given in run order (`values` may be reordered).
///
/// The quantiles are exactly [`quantile`] of the sorted values, without sorting them all: values that
/// are all whole numbers in a narrow range (counts of clients, say) are counted by value, others have
/// only the order statistics the levels need put in place by selection.
pub fn stats(values: &mut [f64]) -> Stats {
    let mut out = Vec::with_capacity(1);
    stats_of_cells(&[values], &mut Scratch::default(), &mut out);
    out[0]
}

/// Reusable room for [`stats_of_cells`]: a copy of the values to select in, and the counts by value.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    copy: Vec<f64>,
    count: Vec<u32>,
}

/// How many cells have their sums added up side by side (see [`stats_of_cells`]).
pub(crate) const GROUP: usize = 8;

/// What the first look at a cell's values finds.
#[derive(Clone, Copy)]
enum Kind {
    /// Whole numbers from `lo` to `hi` whose run-order sum is exact: the mean is known.
    Whole { mean: f64, lo: i64, hi: i64 },
    /// Other values: the mean needs the sum in run order.
    Other,
}

/// [`stats`] of each of `cells` (values in run order, every cell as many), appended to `out` in
/// order, bit for bit, leaving the values as they are.
///
/// Every cell's numbers are added up as [`Iterator::sum`] adds them, in run order, but cells are
/// independent: the sums of up to [`GROUP`] cells are added side by side in one loop over the runs, so
/// that their additions overlap instead of each waiting on the one before. Whole numbers whose every
/// partial sum is exact (below 2^53) are summed as integers instead (the same number), and counted
/// by value for their quantiles; other values are copied into `scratch` to be selected in. The result
/// does not depend on how cells are grouped, here or by the caller.
pub(crate) fn stats_of_cells(cells: &[&[f64]], scratch: &mut Scratch, out: &mut Vec<Stats>) {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::rng::has_avx512() {
            // SAFETY: the processor has the features the function is compiled for.
            return unsafe { cells_avx512(cells, scratch, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { cells_avx2(cells, scratch, out) };
        }
    }
    cells_plain(cells, scratch, out);
}

/// [`stats_of_cells`] with AVX-512 (the same operations on each value, so the same numbers).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn cells_avx512(cells: &[&[f64]], scratch: &mut Scratch, out: &mut Vec<Stats>) {
    cells_plain(cells, scratch, out);
}

/// [`stats_of_cells`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn cells_avx2(cells: &[&[f64]], scratch: &mut Scratch, out: &mut Vec<Stats>) {
    cells_plain(cells, scratch, out);
}

/// [`stats_of_cells`] as plain code, vectorised for the instruction set it is inlined into.
#[inline(always)]
fn cells_plain(cells: &[&[f64]], scratch: &mut Scratch, out: &mut Vec<Stats>) {
    let base = out.len();
    out.resize(
        base + cells.len(),
        Stats {
            mean: f64::NAN,
            sd: 0.0,
            q: [f64::NAN; 5],
        },
    );
    let out = &mut out[base..];
    // Cells that need adding up, GROUP at a time (their values still in cache when added).
    let mut pending: Vec<(usize, Kind)> = Vec::with_capacity(GROUP);
    for (i, &values) in cells.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let kind = match whole(values) {
            Some((_, lo, hi)) if lo == hi => {
                out[i] = one_value(values[0], values.len());
                continue;
            }
            Some((sum, lo, hi)) => {
                let mean = sum as f64 / values.len() as f64;
                Kind::Whole { mean, lo, hi }
            }
            None => match repeated(values) {
                Some(s) => {
                    out[i] = s;
                    continue;
                }
                None => Kind::Other,
            },
        };
        pending.push((i, kind));
        if pending.len() == GROUP {
            finish(cells, &pending, scratch, out);
            pending.clear();
        }
    }
    finish(cells, &pending, scratch, out);
}

/// The statistics of the cells `pending` of `cells` into `out`: the sums of those that need them,
/// the sums of squared deviations, side by side; then each cell's quantiles.
#[inline(always)]
fn finish(cells: &[&[f64]], pending: &[(usize, Kind)], scratch: &mut Scratch, out: &mut [Stats]) {
    let Some(&(first, _)) = pending.first() else {
        return;
    };
    let n = cells[first].len();
    let others: Vec<&[f64]> = pending
        .iter()
        .filter(|(_, k)| matches!(k, Kind::Other))
        .map(|&(i, _)| cells[i])
        .collect();
    let mut sums = [0.0; GROUP];
    side_by_side(&others, &[0.0; GROUP], false, &mut sums);
    let mut other = sums.iter();
    let mut mean = [0.0; GROUP];
    for (m, (_, kind)) in mean.iter_mut().zip(pending) {
        *m = match *kind {
            Kind::Whole { mean, .. } => mean,
            Kind::Other => other.next().expect("a sum per cell") / n as f64,
        };
    }
    let mut squares = [0.0; GROUP];
    if n > 1 {
        let columns: Vec<&[f64]> = pending.iter().map(|&(i, _)| cells[i]).collect();
        side_by_side(&columns, &mean, true, &mut squares);
    }
    for (j, &(i, kind)) in pending.iter().enumerate() {
        let values = cells[i];
        let sd = if n < 2 {
            0.0
        } else {
            (squares[j] / (n - 1) as f64).sqrt()
        };
        let counts = match kind {
            Kind::Whole { lo, hi, .. } => counted(values, (lo, hi), &mut scratch.count),
            Kind::Other => None,
        };
        let q = counts.unwrap_or_else(|| {
            scratch.copy.clear();
            scratch.copy.extend_from_slice(values);
            selected(&mut scratch.copy)
        });
        out[i] = Stats {
            mean: mean[j],
            sd,
            q,
        };
    }
}

/// For each of `columns` (at most [`GROUP`], of one length) the sum in run order from -0 (as
/// [`Iterator::sum`] adds) of its values or, with `squares`, of the squared deviations of its values
/// from its `mean`; all columns in one loop.
#[inline(always)]
fn side_by_side(columns: &[&[f64]], mean: &[f64; GROUP], squares: bool, out: &mut [f64; GROUP]) {
    macro_rules! by_count {
        ($($g:literal)*) => {
            match columns.len() {
                0 => {}
                $($g => {
                    let c: [&[f64]; $g] = std::array::from_fn(|i| columns[i]);
                    let m: [f64; $g] = std::array::from_fn(|i| mean[i]);
                    let s = if squares { sums::<$g, true>(c, m) } else { sums::<$g, false>(c, m) };
                    out[..$g].copy_from_slice(&s);
                })*
                _ => unreachable!("at most GROUP columns"),
            }
        };
    }
    by_count!(1 2 3 4 5 6 7 8);
}

/// The run-order sums of `G` columns (of values or, with `SQUARES`, of squared deviations from `mean`),
/// each column its own sum, added one run at a time for all of them.
// Indexed by run and column: one run of every column, then the next run.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn sums<const G: usize, const SQUARES: bool>(columns: [&[f64]; G], mean: [f64; G]) -> [f64; G] {
    let n = columns[0].len();
    let columns = columns.map(|c| &c[..n]);
    let mut s = [-0.0; G];
    for j in 0..n {
        for c in 0..G {
            let v = columns[c][j];
            s[c] += if SQUARES {
                (v - mean[c]) * (v - mean[c])
            } else {
                v
            };
        }
    }
    s
}

/// The statistics of `n` times the whole number `k` whose multiples up to `n * k` are below 2^53:
/// every partial sum `j * k` is exact, so the sum is `n * k`; every deviation is zero; every quantile
/// is `k`.
fn one_value(k: f64, n: usize) -> Stats {
    Stats {
        mean: k * n as f64 / n as f64,
        sd: 0.0,
        q: [k; 5],
    }
}

/// 1.5 * 2^52: adding it rounds a value below 2^51 in size to a whole number (a value in [2^52,
/// 2^53), whose last place is 1), whose bits less those of `MAGIC` are that number.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// The sum, smallest and largest of values that are all whole numbers below 2^50 in size (no -0,
/// NaN or infinity) whose every partial sum is exact: below 2^53 in size, as `n` times the largest
/// size bounds them. `None` for other values. One pass without branches (but between stretches).
#[inline(always)]
fn whole(values: &[f64]) -> Option<(i64, i64, i64)> {
    const LIMIT: f64 = (1u64 << 50) as f64;
    let (mut sum, mut lo, mut hi) = (0i64, i64::MAX, i64::MIN);
    for (s, stretch) in values.chunks(512).enumerate() {
        // The values two stretches on asked for from memory now (what follows the cell, the next
        // cell of columns, at its end), so that they are there when wanted.
        let ahead = values.as_ptr().wrapping_add((s + 2) * 512);
        for line in 0..64 {
            prefetch(ahead.wrapping_add(line * 8));
        }
        let mut ok = true;
        for &v in stretch {
            let r = v + MAGIC;
            let k = (r.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
            // Whole: back to the value bit for bit (not so for -0, which comes back as +0; NaN and
            // the infinities fail the size).
            ok &= (v.abs() < LIMIT) & ((r - MAGIC).to_bits() == v.to_bits());
            sum = sum.wrapping_add(k);
            lo = lo.min(k);
            hi = hi.max(k);
        }
        if !ok {
            return None;
        }
    }
    let size = lo.unsigned_abs().max(hi.unsigned_abs());
    (u128::from(size) * (values.len() as u128) < 1 << 53).then_some((sum, lo, hi))
}

/// Asks for the cache line of `at` to be loaded (any address: a prefetch never faults).
#[inline(always)]
fn prefetch(at: *const f64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault, whatever the address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// The statistics of one whole number repeated (many cells are the same in every run, zero most
/// often), without adding anything up (see [`one_value`]). `None` for other values.
fn repeated(values: &[f64]) -> Option<Stats> {
    let first = *values.first()?;
    let (n, k) = (values.len(), first as i64);
    let whole = (k as f64).to_bits() == first.to_bits();
    if !whole || u128::from(k.unsigned_abs()) * n as u128 >= 1 << 53 {
        return None;
    }
    // A stretch at a time, every value compared (no early exit within a stretch, which vectorises).
    let bits = first.to_bits();
    let same = |stretch: &[f64]| stretch.iter().fold(true, |s, v| s & (v.to_bits() == bits));
    if !values.chunks(256).all(same) {
        return None;
    }
    Some(one_value(first, n))
}

/// The position in sorted order that type 7 reads first for each level.
fn lows(n: usize) -> [usize; 5] {
    LEVELS.map(|p| ((n - 1) as f64 * p).floor() as usize)
}

/// The quantiles of whole numbers from `lo` to `hi` (as [`whole`] finds them) spanning at most about
/// four times as many numbers as there are values, from a count of each number (in `count`); `None`
/// for a wider span.
#[inline(always)]
fn counted(values: &[f64], (lo, hi): (i64, i64), count: &mut Vec<u32>) -> Option<[f64; 5]> {
    let n = values.len();
    let span = usize::try_from(hi - lo).ok()?;
    if span > 4 * n + 64 {
        return None;
    }
    let width = span + 1;
    // The place of a number in the counts, as [`whole`] reads it (no conversion that saturates).
    let from = (MAGIC.to_bits() as i64).wrapping_add(lo) as u64;
    let at = |v: f64| (v + MAGIC).to_bits().wrapping_sub(from) as usize;
    count.clear();
    if 4 * width <= n {
        // A narrow span, where the same number comes often: four counts, the values taking them in
        // turn, so that counting a number does not wait for the count of the same number just before.
        count.resize(4 * width, 0);
        let (a, rest) = count.split_at_mut(width);
        let (b, rest) = rest.split_at_mut(width);
        let (c, d) = rest.split_at_mut(width);
        let mut fours = values.chunks_exact(4);
        for f in &mut fours {
            a[at(f[0])] += 1;
            b[at(f[1])] += 1;
            c[at(f[2])] += 1;
            d[at(f[3])] += 1;
        }
        for &v in fours.remainder() {
            a[at(v)] += 1;
        }
        for (((a, b), c), d) in a.iter_mut().zip(&*b).zip(&*c).zip(&*d) {
            *a += b + c + d;
        }
        count.truncate(width);
    } else {
        count.resize(width, 0);
        for &v in values {
            count[at(v)] += 1;
        }
    }
    // The i-th smallest value, for the positions the levels read (ascending).
    let mut at = [0usize; 10];
    for (j, i) in lows(n).into_iter().enumerate() {
        at[2 * j] = i;
        at[2 * j + 1] = (i + 1).min(n - 1);
    }
    at.sort_unstable();
    let mut value = [0.0; 10];
    let (mut below, mut k) = (0usize, 0usize);
    for (j, &i) in at.iter().enumerate() {
        while below + count[k] as usize <= i {
            below += count[k] as usize;
            k += 1;
        }
        value[j] = (lo + k as i64) as f64;
    }
    let of = |i: usize| value[at.partition_point(|&x| x < i)];
    Some(LEVELS.map(|p| type7(n, p, of)))
}

/// The quantiles of any values, from the order statistics they need: each level's first position by
/// selection, the one after it as the smallest value beyond it.
fn selected(values: &mut [f64]) -> [f64; 5] {
    let n = values.len();
    let mut at = lows(n).to_vec();
    at.dedup();
    select_all(values, &at, 0);
    // The value after each selected position: the smallest between it and the next selected one
    // (which is no smaller than any of them), or the next selected one itself.
    let next: Vec<f64> = at
        .iter()
        .enumerate()
        .map(|(j, &i)| {
            let end = at.get(j + 1).copied().unwrap_or(n);
            if i + 1 >= n {
                values[i]
            } else if i + 1 == end {
                values[end]
            } else {
                values[i + 1..end]
                    .iter()
                    .copied()
                    .min_by(f64::total_cmp)
                    .expect("a value between")
            }
        })
        .collect();
    let of = |i: usize| match at.binary_search(&i) {
        Ok(j) => values[at[j]],
        Err(j) => next[j - 1],
    };
    LEVELS.map(|p| type7(n, p, of))
}

/// Puts the values that belong at positions `at` (ascending, relative to the whole slice; `values`
/// starts at position `from`) where sorting would put them, by repeated selection around the middle
/// one: what is left of it is no greater, what is right of it no smaller.
fn select_all(values: &mut [f64], at: &[usize], from: usize) {
    if at.is_empty() || values.len() < 2 {
        return;
    }
    let mid = at.len() / 2;
    let k = at[mid] - from;
    let (left, _, right) = values.select_nth_unstable_by(k, f64::total_cmp);
    select_all(left, &at[..mid], from);
    select_all(right, &at[mid + 1..], from + k + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statistics as they were defined: the quantiles read from the fully sorted values.
    fn by_sorting(values: &[f64]) -> Stats {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let mut v = values.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        let q = LEVELS.map(|p| quantile(&v, p));
        Stats { mean, sd, q }
    }

    fn bits(s: &Stats) -> (u64, u64, [u64; 5]) {
        (s.mean.to_bits(), s.sd.to_bits(), s.q.map(f64::to_bits))
    }

    /// Cells of `n` values of every kind the statistics tell apart, named.
    fn cells_of_every_kind(n: usize) -> Vec<(&'static str, Vec<f64>)> {
        let key = crate::rng::Key::root(3);
        let of = |f: &dyn Fn(usize) -> f64| (0..n).map(f).collect::<Vec<f64>>();
        // Continuous values, many ties, all equal, sorted, reversed, signed zeros and infinities.
        let cont = of(&|i| key.child(n as u64).at(i as u64) as f64);
        let mut sorted = cont.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let reversed: Vec<f64> = sorted.iter().rev().copied().collect();
        let mut cells = vec![
            ("continuous", cont.clone()),
            ("fractions", of(&|i| cont[i] / 1024.0 + 0.5)),
            ("ties", of(&|i| (key.at(i as u64) % 4) as f64)),
            ("sorted", sorted),
            ("reversed", reversed),
            ("odd", of(&|i| [0.0, -0.0, 1.5, f64::INFINITY, -2.0][i % 5])),
            // Whole numbers, counted (narrow: in four counts or one) or selected (wide); large and
            // negative ones.
            ("counts", of(&|i| (key.at(i as u64) % 300) as f64 + 1500.0)),
            ("few counts", of(&|i| (key.at(i as u64) % 3) as f64 - 1.0)),
            ("wide", of(&|i| (key.at(i as u64) % 1_000_000) as f64)),
            ("big", of(&|i| [-3.0, 4.0e15, -4.0e15, 9.0e15, 12.0][i % 5])),
            ("zeros", of(&|i| [0.0, -0.0, 1.0, -0.0, 2.0][i % 5])),
            (
                "first -0",
                of(&|i| if i == 0 { -0.0 } else { (i % 7) as f64 }),
            ),
            ("cancelling", of(&|i| if i % 2 == 0 { -3.0 } else { 3.0 })),
            // Whole numbers with one NaN or infinity among them.
            (
                "a NaN",
                of(&|i| if i == n / 2 { f64::NAN } else { (i % 5) as f64 }),
            ),
            (
                "an infinity",
                of(&|i| {
                    if i == n - 1 {
                        f64::INFINITY
                    } else {
                        (i % 5) as f64
                    }
                }),
            ),
            (
                "a -infinity",
                of(&|i| {
                    if i == n / 3 {
                        -f64::INFINITY
                    } else {
                        (i % 5) as f64
                    }
                }),
            ),
        ];
        cells.extend(edges(n));
        cells
    }

    /// Cells of `n` whole numbers at the edge of an exact sum: just below, and beyond it (whose sum
    /// in run order rounds for n of 8 and more), and at 2^50 in size; and constant values: whole,
    /// not whole (whose mean need not be the value), signed zeros, infinite, NaN, large.
    fn edges(n: usize) -> Vec<(&'static str, Vec<f64>)> {
        let of = |f: &dyn Fn(usize) -> f64| (0..n).map(f).collect::<Vec<f64>>();
        // The largest size whose every partial sum is exact for n values, below 2^50.
        let edge = ((1u64 << 53) - 1).div_euclid(n as u64).min((1 << 50) - 1) as f64;
        let big = (1u64 << 50) as f64;
        let mut cells = vec![
            ("edge", of(&|i| [edge, edge - 1.0, -edge, edge][i % 4])),
            ("beyond", of(&|i| [big - 1.0, big - 3.0][i % 2])),
            ("2^50", of(&|i| [big, -big, 5.0][i % 3])),
        ];
        for x in [
            7.0,
            7.25,
            0.1,
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NAN,
            3.0e15,
            edge,
        ] {
            cells.push(("constant", vec![x; n]));
        }
        cells
    }

    /// The sizes of cells tried: one and two runs, odd counts, and more than a stretch of the sums.
    const SIZES: [usize; 16] = [
        1, 2, 3, 4, 5, 7, 8, 10, 19, 20, 21, 100, 101, 999, 1000, 4096,
    ];

    #[test]
    fn quantiles_by_selection_are_those_of_the_sorted_values_bit_for_bit() {
        let mut scratch = Scratch::default();
        for n in SIZES {
            for (kind, v) in cells_of_every_kind(n) {
                let want = bits(&by_sorting(&v));
                assert_eq!(bits(&stats(&mut v.clone())), want, "n {n}, {kind}: {v:?}");
                // In place, with room reused from the values before: the same, values untouched.
                let before: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
                let mut out = Vec::new();
                stats_of_cells(&[&v], &mut scratch, &mut out);
                assert_eq!(bits(&out[0]), want, "n {n}, {kind}: {v:?}");
                assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), before);
            }
        }
        // The sum beyond the edge does round in run order: the whole-number sum would differ.
        let beyond = &cells_of_every_kind(4096)[17];
        assert_eq!(beyond.0, "beyond");
        let exact: i64 = beyond.1.iter().map(|&v| v as i64).sum();
        assert_ne!(beyond.1.iter().sum::<f64>(), exact as f64);
    }

    #[test]
    fn cells_of_every_kind_side_by_side_in_any_grouping_are_each_as_alone_bit_for_bit() {
        let mut scratch = Scratch::default();
        for n in SIZES {
            let cells = cells_of_every_kind(n);
            let want: Vec<_> = cells.iter().map(|(_, v)| bits(&by_sorting(v))).collect();
            // Kinds in turn and some repeated, so that every group holds several kinds, and an odd
            // number of cells; given all at once and in stretches that do not divide it.
            let order: Vec<usize> = (0..3 * cells.len() + 1)
                .map(|i| (i * 5) % cells.len())
                .collect();
            assert!((0..cells.len()).all(|i| order.contains(&i)), "every kind");
            let columns: Vec<&[f64]> = order.iter().map(|&i| cells[i].1.as_slice()).collect();
            for stretch in [columns.len(), 1, 3, 7, 9, 64] {
                let mut out = vec![by_sorting(&[1.0, 2.0])];
                for part in columns.chunks(stretch) {
                    stats_of_cells(part, &mut scratch, &mut out);
                }
                assert_eq!(
                    out.len(),
                    columns.len() + 1,
                    "appended after what was there"
                );
                for (j, &i) in order.iter().enumerate() {
                    assert_eq!(
                        bits(&out[j + 1]),
                        want[i],
                        "n {n}, stretch {stretch}, cell {j}: {}",
                        cells[i].0
                    );
                }
            }
        }
    }
}
