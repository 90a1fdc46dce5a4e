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

/// Statistics of values given in run order (reorders `values`).
///
/// The quantiles are exactly [`quantile`] of the sorted values, without sorting them all: values that
/// are all whole numbers in a narrow range (counts of clients, say) are counted by value, others have
/// only the order statistics the levels need put in place by selection.
pub fn stats(values: &mut [f64]) -> Stats {
    if let Some(s) = repeated(values) {
        return s;
    }
    let (mean, sd, whole) = moments(values);
    let q = match whole.and_then(|range| counted(values, range, &mut Vec::new())) {
        Some(q) => q,
        None => selected(values),
    };
    Stats { mean, sd, q }
}

/// Reusable room for [`stats_of`]: a copy of the values to select in, and the counts by value.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    copy: Vec<f64>,
    count: Vec<u32>,
}

/// [`stats`] of values given in run order, bit for bit, leaving them as they are: whole numbers are
/// counted where they lie; other values are copied into `scratch` to be selected in.
pub(crate) fn stats_of(values: &[f64], scratch: &mut Scratch) -> Stats {
    if let Some(s) = repeated(values) {
        return s;
    }
    let (mean, sd, whole) = moments(values);
    let q = match whole.and_then(|range| counted(values, range, &mut scratch.count)) {
        Some(q) => q,
        None => {
            scratch.copy.clear();
            scratch.copy.extend_from_slice(values);
            selected(&mut scratch.copy)
        }
    };
    Stats { mean, sd, q }
}

/// The statistics of one whole number repeated (many cells are the same in every run, zero most
/// often), without adding anything up: every partial sum `j * k` of the values is exact (below
/// 2^53), so their sum is `n * k`; every deviation is zero; every quantile is `k`. `None` for other
/// values.
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
    Some(Stats {
        mean: first * n as f64 / n as f64,
        sd: 0.0,
        q: [first; 5],
    })
}

/// Mean and sample standard deviation (each sum added up in run order, as `Iterator::sum` does), and
/// the smallest and largest value when all are whole numbers below 2^52 in size (no -0, no NaN).
fn moments(values: &[f64]) -> (f64, f64, Option<(i64, i64)>) {
    const BIG: i64 = 1 << 52;
    let n = values.len();
    // One pass: the sum (whose additions wait on each other) with the checks beside it. A value is
    // whole when it survives the round trip through i64 bit for bit (NaN and -0 do not; the
    // infinities and values from 2^63 on do only as i64::MIN, which is not above -2^52).
    let (mut sum, mut lo, mut hi, mut whole) = (-0.0, i64::MAX, i64::MIN, true);
    for &v in values {
        sum += v;
        let k = v as i64;
        whole &= (k as f64).to_bits() == v.to_bits();
        lo = lo.min(k);
        hi = hi.max(k);
    }
    let whole = whole && -BIG < lo && hi < BIG;
    let mean = sum / n as f64;
    let sd = if n < 2 {
        0.0
    } else {
        let squares = values.iter().fold(-0.0, |s, v| s + (v - mean) * (v - mean));
        (squares / (n - 1) as f64).sqrt()
    };
    (mean, sd, whole.then_some((lo, hi)))
}

/// The position in sorted order that type 7 reads first for each level.
fn lows(n: usize) -> [usize; 5] {
    LEVELS.map(|p| ((n - 1) as f64 * p).floor() as usize)
}

/// The quantiles of whole numbers from `lo` to `hi` (as [`moments`] finds them) spanning at most about
/// four times as many numbers as there are values, from a count of each number (in `count`); `None`
/// for a wider span.
fn counted(values: &[f64], (lo, hi): (i64, i64), count: &mut Vec<u32>) -> Option<[f64; 5]> {
    let n = values.len();
    let span = usize::try_from(hi - lo).ok()?;
    if span > 4 * n + 64 {
        return None;
    }
    count.clear();
    count.resize(span + 1, 0);
    for &v in values {
        count[(v as i64 - lo) as usize] += 1;
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

    #[test]
    fn quantiles_by_selection_are_those_of_the_sorted_values_bit_for_bit() {
        let key = crate::rng::Key::root(3);
        for n in [
            1usize, 2, 3, 4, 5, 7, 10, 19, 20, 21, 100, 101, 999, 1000, 4096,
        ] {
            // Continuous values, many ties, all equal, sorted, reversed, signed zeros and infinities.
            let cont: Vec<f64> = (0..n)
                .map(|i| key.child(n as u64).at(i as u64) as f64)
                .collect();
            let ties: Vec<f64> = (0..n).map(|i| (key.at(i as u64) % 4) as f64).collect();
            let mut sorted = cont.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let reversed: Vec<f64> = sorted.iter().rev().copied().collect();
            let odd: Vec<f64> = (0..n)
                .map(|i| [0.0, -0.0, 1.5, f64::INFINITY, -2.0][i % 5])
                .collect();
            // Whole numbers, counted (narrow) or selected (wide); large and negative ones.
            let counts: Vec<f64> = (0..n)
                .map(|i| (key.at(i as u64) % 300) as f64 + 1500.0)
                .collect();
            let wide: Vec<f64> = (0..n)
                .map(|i| (key.at(i as u64) % 1_000_000) as f64)
                .collect();
            let big: Vec<f64> = (0..n)
                .map(|i| [-3.0, 4.0e15, -4.0e15, 9.0e15, 12.0][i % 5])
                .collect();
            let zeros: Vec<f64> = (0..n).map(|i| [0.0, -0.0, 1.0, -0.0, 2.0][i % 5]).collect();
            // Constant values: whole, not whole (whose mean need not be the value), signed zeros,
            // infinite, NaN.
            let constant = [7.0, 7.25, 0.1, 0.0, -0.0, f64::INFINITY, f64::NAN, 3.0e15];
            let mut scratch = Scratch::default();
            for v in [cont, ties, sorted, reversed, odd, counts, wide, big, zeros]
                .into_iter()
                .chain(constant.map(|x| vec![x; n]))
            {
                let want = bits(&by_sorting(&v));
                assert_eq!(bits(&stats(&mut v.clone())), want, "n {n}: {v:?}");
                // In place, with room reused from the values before: the same, values untouched.
                let before: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
                assert_eq!(bits(&stats_of(&v, &mut scratch)), want, "n {n}: {v:?}");
                assert_eq!(v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), before);
            }
        }
    }
}
