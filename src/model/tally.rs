//! The counts of a trace ([`Tally`]): whole numbers of clients from the Monte Carlo engine, expected
//! numbers from the cohort engine, and how their sums are added up bit for bit alike.
//!
//! The counts of a Monte Carlo trace are whole numbers: their sums are exact in `f64` (below 2^53) and
//! are therefore added up as integers and converted once, which gives the same number as adding them
//! one by one in `f64`. Expected counts (`f64`) are added one by one.

/// A count in a trace: a whole number of clients (`u32`, the Monte Carlo engine's) or an expected
/// number (`f64`, the cohort engine's). Its sums are bit for bit those of adding its values one by one
/// in `f64`.
pub trait Tally: Copy + Into<f64> {
    /// `cells.iter().map(|&i| v[i].into()).sum::<f64>()`, bit for bit.
    fn sum_at(v: &[Self], cells: &[usize]) -> f64;

    /// Adds to `out[f]`, for each `(i, f)` of `cells`, value `i` of each block of `stride` values of
    /// `v` (a year's cycles), block after block, bit for bit as adding them one by one in `f64`.
    fn add_blocks(v: &[Self], stride: usize, cells: &[(usize, usize)], out: &mut [f64]);

    /// Adds to `out` the values of `parts` (each as long as `out`), part after part, value by value,
    /// bit for bit as adding them one by one in `f64`.
    fn add_parts<'a>(parts: impl Iterator<Item = &'a [Self]> + Clone, out: &mut [f64])
    where
        Self: 'a;

    /// Writes into `out` the sums of `parts` (each as long as `out`): bit for bit as
    /// [`Tally::add_parts`] on an `out` of zeros, whatever `out` held.
    fn put_parts<'a>(parts: impl Iterator<Item = &'a [Self]> + Clone, out: &mut [f64])
    where
        Self: 'a,
    {
        out.fill(0.0);
        Self::add_parts(parts, out);
    }
}

impl Tally for u32 {
    #[inline]
    fn sum_at(v: &[u32], cells: &[usize]) -> f64 {
        if cells.is_empty() {
            // The empty sum of `Iterator::sum`.
            return -0.0;
        }
        // Below 2^16 cells of below 2^32 each: the sum and every partial sum are exact in f64.
        cells.iter().map(|&i| u64::from(v[i])).sum::<u64>() as f64
    }

    fn add_blocks(v: &[u32], stride: usize, cells: &[(usize, usize)], out: &mut [f64]) {
        for &(i, f) in cells {
            let total: u64 = v.chunks_exact(stride).map(|b| u64::from(b[i])).sum();
            // `out[f]` holds a whole number too: one exact addition.
            out[f] += total as f64;
        }
    }

    fn add_parts<'a>(parts: impl Iterator<Item = &'a [u32]> + Clone, out: &mut [f64]) {
        whole_sums(parts, out, |o, t| *o += t);
    }

    fn put_parts<'a>(parts: impl Iterator<Item = &'a [u32]> + Clone, out: &mut [f64]) {
        // A sum of whole numbers is never -0: `0.0 + sum` is `sum`, so no zeros need writing first.
        whole_sums(parts, out, |o, t| *o = t);
    }
}

/// The sums of whole-number `parts`, cell by cell, handed to `to` with their cell of `out`: added up
/// as integers a stretch of cells at a time (the totals on the stack), converted once.
#[inline(always)]
fn whole_sums<'a>(
    parts: impl Iterator<Item = &'a [u32]> + Clone,
    out: &mut [f64],
    to: impl Fn(&mut f64, f64),
) {
    const STRETCH: usize = 512;
    for (k, out) in out.chunks_mut(STRETCH).enumerate() {
        let mut total = [0u64; STRETCH];
        for part in parts.clone() {
            let part = part.get(k * STRETCH..).unwrap_or_default();
            for (t, &v) in total[..out.len()].iter_mut().zip(part) {
                *t += u64::from(v);
            }
        }
        for (o, &t) in out.iter_mut().zip(&total) {
            to(o, t as f64);
        }
    }
}

impl Tally for f64 {
    #[inline]
    fn sum_at(v: &[f64], cells: &[usize]) -> f64 {
        cells.iter().map(|&i| v[i]).sum()
    }

    fn add_blocks(v: &[f64], stride: usize, cells: &[(usize, usize)], out: &mut [f64]) {
        for block in v.chunks_exact(stride) {
            for &(i, f) in cells {
                out[f] += block[i];
            }
        }
    }

    fn add_parts<'a>(parts: impl Iterator<Item = &'a [f64]> + Clone, out: &mut [f64]) {
        for part in parts {
            for (o, &v) in out.iter_mut().zip(part) {
                *o += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_counts_add_up_as_one_by_one_in_f64() {
        let key = crate::rng::Key::root(9);
        let v: Vec<u32> = (0..512).map(|i| key.at(i) as u32 >> (i % 32)).collect();
        let as_f64: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        for cells in [
            vec![],
            vec![3],
            vec![0, 7, 7, 511],
            (0..256).collect::<Vec<_>>(),
        ] {
            assert_eq!(
                u32::sum_at(&v, &cells).to_bits(),
                f64::sum_at(&as_f64, &cells).to_bits(),
                "{cells:?}"
            );
        }
        // Blocks of 8: cells 1 and 6 into flows 0 and 2, on top of what the flows hold.
        let cells = [(1, 0), (6, 2), (6, 1)];
        let (mut a, mut b) = (vec![0.0, 0.0, 5.0], vec![0.0, 0.0, 5.0]);
        u32::add_blocks(&v[..64], 8, &cells, &mut a);
        f64::add_blocks(&as_f64[..64], 8, &cells, &mut b);
        assert_eq!(a, b);
        assert!(a.iter().all(|&x| x > 0.0));
        let (mut a, mut b) = (vec![0.5; 100], vec![0.5; 100]);
        u32::add_parts(v.chunks(100).take(4), &mut a);
        f64::add_parts(as_f64.chunks(100).take(4), &mut b);
        assert_eq!(a, b);
        // Put into room that held other numbers (-0 among them): as added to zeros, bit for bit,
        // also with no parts (a scope without areas) and with parts that are all zero.
        for take in [0, 1, 4] {
            let mut zeros = vec![0.0; 100];
            f64::add_parts(as_f64.chunks(100).take(take), &mut zeros);
            let mut zero_parts = vec![0.0; 100];
            f64::add_parts(std::iter::repeat_n(&[0.0; 100][..], take), &mut zero_parts);
            for (parts, want) in [(&v[..], &zeros), (&[0u32; 400][..], &zero_parts)] {
                let mut a = vec![-0.0; 100];
                a[7] = 3.25;
                u32::put_parts(parts.chunks(100).take(take), &mut a);
                let mut b = vec![f64::NAN; 100];
                let as_f64: Vec<f64> = parts.iter().map(|&x| f64::from(x)).collect();
                f64::put_parts(as_f64.chunks(100).take(take), &mut b);
                let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(want), "{take} parts");
                assert_eq!(bits(&b), bits(want), "{take} parts");
            }
        }
    }
}
