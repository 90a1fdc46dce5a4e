//! Transition rows and their arithmetic: a row's targets and 32-bit thresholds ([`Row`]), its
//! branchless form for the engine ([`Pick8`]), the tables by cycle, state and time in state
//! ([`Transitions`]), and how a regime changes a row (hazard ratios, relative risks, reassessment).
//!
//! A leaf: it depends on nothing else in the model, so the model and its regimes both build on it.

/// Sentinel target: the indication is renewed (same state, time in state restarts, entry fee again).
pub const RENEW: u8 = u8::MAX;

/// One probability row: targets in sampling order and their cumulative thresholds on a 32-bit uniform.
/// The thresholds are always those of the probabilities ([`thresholds`]): the fields are private, and
/// [`Row::new`] is the only way to a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Target state indices (or [`RENEW`]); the from-state itself first when possible.
    targets: Vec<u8>,
    /// Cumulative thresholds in `[0, 2^32]`; the last is `2^32`.
    cum: Vec<u64>,
    /// Probabilities, in the order of `targets`.
    probs: Vec<f64>,
}

impl Row {
    /// The row that picks `targets[k]` with probability `probs[k]` (in proportion, when they do not
    /// add up to 1).
    ///
    /// # Panics
    /// When `targets` and `probs` differ in length (a bug of the caller).
    pub fn new(targets: Vec<u8>, probs: Vec<f64>) -> Row {
        assert_eq!(
            targets.len(),
            probs.len(),
            "a row has one probability per target"
        );
        let cum = thresholds(&probs);
        Row {
            targets,
            cum,
            probs,
        }
    }

    /// The target states (or [`RENEW`]), in sampling order.
    #[inline]
    pub fn targets(&self) -> &[u8] {
        &self.targets
    }

    /// The cumulative thresholds on a 32-bit uniform, in the order of [`Row::targets`]; the last is
    /// `2^32`.
    #[inline]
    pub fn cum(&self) -> &[u64] {
        &self.cum
    }

    /// The probabilities, in the order of [`Row::targets`].
    #[inline]
    pub fn probs(&self) -> &[f64] {
        &self.probs
    }

    /// The target for a uniform `u` in `[0, 2^32)`.
    #[inline]
    pub fn pick(&self, u: u64) -> u8 {
        let k = self.cum.iter().take_while(|&&c| u >= c).count();
        self.targets[k]
    }
}

/// Turns probabilities into cumulative 32-bit thresholds (the last exactly `2^32`).
pub fn thresholds(probs: &[f64]) -> Vec<u64> {
    let total: f64 = probs.iter().sum();
    let mut acc = 0.0;
    let mut out = Vec::with_capacity(probs.len());
    for (i, p) in probs.iter().enumerate() {
        acc += p;
        let t = if i + 1 == probs.len() {
            1u64 << 32
        } else {
            ((acc / total) * 4_294_967_296.0).round() as u64
        };
        out.push(t.min(1 << 32));
    }
    out
}

/// A row laid out for a branchless pick: up to 8 targets, thresholds on a 32-bit uniform, padded with
/// `u32::MAX` and the last target, so the pick is the number of thresholds at or below `u`: as the
/// thresholds never decrease, the place of the first one above `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct Pick8 {
    /// Cumulative thresholds (clamped to `u32::MAX`), each with its top bit flipped
    /// ([`Pick8::FLIP`]): compared as signed numbers, they are in the order of the thresholds, which
    /// lets a processor without unsigned vector comparisons compare them four at a time.
    thr: [u32; 8],
    /// Targets (the last one repeated as padding).
    tgt: [u8; 8],
}

impl Pick8 {
    /// What is flipped in a stored threshold (see [`Pick8::thr`]).
    const FLIP: u32 = 1 << 31;

    /// The fast form of a row with at most 8 targets. It picks what [`Row::pick`] picks for every
    /// `u`: targets after the first whose threshold is `2^32` (they have probability 0) are never
    /// picked, also not for `u = u32::MAX`, where that threshold counts as reached.
    pub fn new(row: &Row) -> Option<Pick8> {
        let n = row.targets.len();
        if n > 8 {
            return None;
        }
        let last = row.cum.iter().position(|&c| c >= 1 << 32).unwrap_or(n - 1);
        let mut thr = [u32::MAX ^ Self::FLIP; 8];
        let mut tgt = [row.targets[last]; 8];
        for k in 0..last {
            tgt[k] = row.targets[k];
            thr[k] = row.cum[k].min(u64::from(u32::MAX)) as u32 ^ Self::FLIP;
        }
        Some(Pick8 { thr, tgt })
    }

    /// The target for a uniform `u`.
    #[inline(always)]
    pub fn pick(&self, u: u32) -> u8 {
        self.tgt[self.place(u)]
    }

    /// The number of the first seven thresholds at or below `u` (below 8): the place of the first
    /// threshold above `u`, or 7. With SSE2 (every x86-64 processor), eight comparisons at once.
    #[inline(always)]
    fn place(&self, u: u32) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // SAFETY: SSE2 is part of x86-64; the two loads read the 16-byte-aligned thresholds.
            let above = unsafe {
                let u = _mm_set1_epi32((u ^ Self::FLIP) as i32);
                let lo = _mm_load_si128(self.thr.as_ptr().cast());
                let hi = _mm_load_si128(self.thr.as_ptr().add(4).cast());
                let lo = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(lo, u)));
                let hi = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(hi, u)));
                (lo | hi << 4) as u32
            };
            (above | 0x80).trailing_zeros() as usize
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.thr[..7]
                .iter()
                .map(|&t| usize::from(u >= t ^ Self::FLIP))
                .sum()
        }
    }
}

/// Transition rows by cycle, state and (capped) time in state. Every table is derived from the rows,
/// the cap and the row of every cell by [`Transitions::new`], the only way to one, so they always agree;
/// they never change after, so a copy shares them (a run's model takes the provider's table by copy).
#[derive(Debug, Clone)]
pub struct Transitions(std::sync::Arc<Tables>);

/// The tables of a [`Transitions`].
#[derive(Debug)]
struct Tables {
    /// Distinct rows.
    rows: Vec<Row>,
    /// Time in state is capped at this many cycles: rows do not change beyond it.
    cap: u16,
    /// `row_of[(cycle * n_states + state) * (cap + 1) + m]`, `m` = cycles in state incl. the one just
    /// ended, capped; `u32::MAX` for absorbing states.
    row_of: Vec<u32>,
    /// Same layout: `2 × below + next`, where `below` is the threshold under which the client stays
    /// (0 if staying is impossible, at most `2^32`: every entry is below `2^34`) and `next` is 1 when
    /// a stay moves the client on to the next cell (one cycle longer in its state), 0 in the state's
    /// last cell, whose row holds from then on. A client with number `u` stays when
    /// `2u + 1 < stay_step` (the same as `u < below`): the engine's common case is one load and one
    /// compare.
    stay_step: Vec<u64>,
    /// The state of each cell of a cycle (`stride` cells, see [`Transitions::cycle_stride`]).
    cell_state: Vec<u8>,
    /// The rows in fast form, when every row has at most 8 targets.
    fast: Option<Vec<Pick8>>,
}

impl Transitions {
    /// Builds the lookup tables from rows and the row of every cell.
    pub fn new(rows: Vec<Row>, cap: u16, row_of: Vec<u32>, n_states: usize) -> Transitions {
        let per_state = usize::from(cap) + 1;
        let cell_state: Vec<u8> = (0..n_states)
            .flat_map(|s| std::iter::repeat_n(s as u8, per_state))
            .collect();
        // Staying is possible when a row's first target is the cell's own state (rows list the stay
        // first); the rows' stay thresholds, then each cell's entry.
        let below: Vec<[u64; 2]> = rows
            .iter()
            .map(|row| [u64::from(row.targets[0]), row.cum[0]])
            .collect();
        // A cycle's cells in order: each one's state and whether a stay moves it on.
        let pattern: Vec<(u64, u64)> = (0..n_states as u64)
            .flat_map(|s| (0..per_state).map(move |m| (s, u64::from(m < usize::from(cap)))))
            .collect();
        let mut stay_step = vec![0; row_of.len()];
        for (out, cells) in stay_step
            .chunks_mut(pattern.len().max(1))
            .zip(row_of.chunks(pattern.len().max(1)))
        {
            for ((e, &r), &(s, next)) in out.iter_mut().zip(cells).zip(&pattern) {
                let b = match below.get(r as usize) {
                    Some(&[t, b]) if t == s => b,
                    _ => 0,
                };
                *e = 2 * b + next;
            }
        }
        let fast = rows.iter().map(Pick8::new).collect();
        Transitions(std::sync::Arc::new(Tables {
            rows,
            cap,
            row_of,
            stay_step,
            cell_state,
            fast,
        }))
    }

    /// The distinct rows.
    #[inline]
    pub fn rows(&self) -> &[Row] {
        &self.0.rows
    }

    /// The cap on time in state: rows do not change beyond it.
    #[inline]
    pub fn cap(&self) -> u16 {
        self.0.cap
    }

    /// The row of every cell: `row_of()[(cycle * n_states + state) * (cap + 1) + m]`, `u32::MAX` for
    /// absorbing states.
    #[inline]
    pub fn row_of(&self) -> &[u32] {
        &self.0.row_of
    }

    /// The stay entry of every cell, in the layout of [`Transitions::row_of`]: `2 × below + next`,
    /// where a client with number `u` stays when `u < below` (the same as `2u + 1 < entry`), and
    /// `next` is 1 when a stay moves it on to the next cell. Every entry is below `2^34` (`below` is
    /// at most `2^32`), which the engine's vector code relies on.
    #[inline]
    pub fn stay_step(&self) -> &[u64] {
        &self.0.stay_step
    }

    /// The state of each cell of a cycle.
    #[inline]
    pub fn cell_state(&self) -> &[u8] {
        &self.0.cell_state
    }

    /// The rows in fast form, when every row has at most 8 targets.
    #[inline]
    pub fn fast(&self) -> Option<&[Pick8]> {
        self.0.fast.as_deref()
    }

    /// The cell of a client in state `s` for `m` cycles (counting the one just ended; `1..=cap`).
    #[inline(always)]
    pub fn cell(&self, s: usize, m: u64) -> u64 {
        self.cells()(s, m)
    }

    /// [`Transitions::cell`] as a function that has read the table once: for loops over many
    /// clients, where reading it through the shared tables for each would cost a load each.
    #[inline(always)]
    pub fn cells(&self) -> impl Fn(usize, u64) -> u64 + use<> {
        let per_state = usize::from(self.0.cap) + 1;
        move |s, m| (s * per_state) as u64 + m
    }

    /// The target of row `r` for a uniform `u` in `[0, 2^32)`.
    #[inline(always)]
    pub fn pick(&self, r: usize, u: u32) -> u8 {
        match &self.0.fast {
            Some(f) => f[r].pick(u),
            None => self.0.rows[r].pick(u64::from(u)),
        }
    }

    /// Cells per cycle.
    pub fn cycle_stride(&self, n_states: usize) -> usize {
        n_states * (usize::from(self.0.cap) + 1)
    }
}

/// Applies hazard ratios to the leaving transitions of a row with from-state `from`.
///
/// Leaving probabilities `p_j` become competing hazards `h_j = H p_j / P` with `P = 1 - p_stay` and
/// `H = -ln(p_stay)`; each is multiplied by its ratio, and the row is rebuilt as `p_stay' = exp(-H')`,
/// `p_j' = (1 - p_stay') h_j' / H'`. The result is always a valid row. Without a stay probability the
/// leaving probabilities are reweighted in proportion. A row no ratio touches is returned unchanged (bit
/// for bit), so a neutral regime gives exactly the provider's results.
pub fn modify_row(row: &Row, from: u8, ratios: &[(u8, f64)]) -> Row {
    let hr = |t: u8| {
        ratios
            .iter()
            .filter(|(to, _)| *to == t)
            .map(|(_, r)| r)
            .product::<f64>()
    };
    if row.targets.iter().all(|&t| t == from || hr(t) == 1.0) {
        return row.clone();
    }
    let stay = row
        .targets
        .iter()
        .position(|&t| t == from)
        .map_or(0.0, |i| row.probs[i]);
    let leave: f64 = 1.0 - stay;
    let mut probs = row.probs.clone();
    if stay <= 0.0 {
        for (p, &t) in probs.iter_mut().zip(&row.targets) {
            *p *= hr(t);
        }
        let total: f64 = probs.iter().sum();
        if total <= 0.0 {
            return row.clone();
        }
        probs.iter_mut().for_each(|p| *p /= total);
    } else if leave > 0.0 {
        let h = -stay.ln();
        let hazards: Vec<f64> = row
            .targets
            .iter()
            .zip(&row.probs)
            .map(|(&t, &p)| {
                if t == from {
                    0.0
                } else {
                    h * p / leave * hr(t)
                }
            })
            .collect();
        let h2: f64 = hazards.iter().sum();
        let stay2 = (-h2).exp();
        for ((p, &t), hz) in probs.iter_mut().zip(&row.targets).zip(&hazards) {
            *p = if t == from {
                stay2
            } else if h2 > 0.0 {
                (1.0 - stay2) * hz / h2
            } else {
                0.0
            };
        }
    }
    Row::new(row.targets.clone(), probs)
}

/// Scales the probabilities of the moves of a row with from-state `from` by relative risks
/// (`p_j' = rr_j p_j`); the stay probability becomes `1 - sum of the others`, so it absorbs the
/// difference. A row no relative risk touches is returned unchanged (bit for bit).
///
/// # Errors
/// The stay probability the row would get when it is negative (the relative risks push the moves over
/// 1), or `NaN` when the row has no stay probability to absorb a change.
pub fn relative_risk_row(row: &Row, from: u8, risks: &[(u8, f64)]) -> Result<Row, f64> {
    let rr = |t: u8| {
        risks
            .iter()
            .filter(|(to, _)| *to == t)
            .map(|(_, r)| r)
            .product::<f64>()
    };
    if row.targets.iter().all(|&t| t == from || rr(t) == 1.0) {
        return Ok(row.clone());
    }
    let Some(stay) = row.targets.iter().position(|&t| t == from) else {
        return Err(f64::NAN);
    };
    let mut probs: Vec<f64> = row
        .targets
        .iter()
        .zip(&row.probs)
        .map(|(&t, &p)| if t == from { 0.0 } else { p * rr(t) })
        .collect();
    let rest: f64 = probs.iter().sum();
    if rest > 1.0 {
        return Err(1.0 - rest);
    }
    probs[stay] = 1.0 - rest;
    Ok(Row::new(row.targets.clone(), probs))
}

/// Mixes a row of from-state `from` with a move to `to`: `p' = q e_to + (1 − q) p` (a successful
/// review with probability `q`, else the row as it was). The result is a valid row for any `q` in
/// `[0, 1]`; `to` is added where the row lacks it (after the stay probability, in state order, before a
/// renewal). With `q = 0` the row is returned unchanged (bit for bit).
pub fn reassess_row(row: &Row, from: u8, to: u8, q: f64) -> Row {
    if q == 0.0 {
        return row.clone();
    }
    let mut targets = row.targets.clone();
    let mut probs: Vec<f64> = row.probs.iter().map(|p| (1.0 - q) * p).collect();
    match targets.iter().position(|&t| t == to) {
        Some(i) => probs[i] += q,
        None => {
            // The stay probability stays first (the engine reads it there).
            let first = usize::from(targets.first() == Some(&from));
            let at = (first..targets.len())
                .find(|&i| targets[i] > to)
                .unwrap_or(targets.len());
            targets.insert(at, to);
            probs.insert(at, q);
        }
    }
    Row::new(targets, probs)
}

/// Is `t` the renewal target?
pub fn is_renew(t: u8) -> bool {
    t == RENEW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(targets: &[u8], probs: &[f64]) -> Row {
        Row {
            targets: targets.to_vec(),
            cum: thresholds(probs),
            probs: probs.to_vec(),
        }
    }

    #[test]
    fn neutral_ratios_leave_rows_bit_identical() {
        let r = row(&[1, 2, 3], &[0.95, 0.03, 0.02]);
        assert_eq!(modify_row(&r, 1, &[]), r);
        assert_eq!(modify_row(&r, 1, &[(2, 1.0), (3, 1.0)]), r);
    }

    #[test]
    fn ratios_scale_hazards_and_keep_rows_valid() {
        let r = row(&[1, 2, 3], &[0.9, 0.06, 0.04]);
        let m = modify_row(&r, 1, &[(2, 2.0)]);
        let sum: f64 = m.probs.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Hazards: H = -ln 0.9; h2 = 0.6 H -> 1.2 H; h3 = 0.4 H; H' = 1.6 H.
        let h = -(0.9f64).ln();
        let stay = (-1.6 * h).exp();
        assert!((m.probs[0] - stay).abs() < 1e-12);
        assert!(
            (m.probs[1] / m.probs[2] - 3.0).abs() < 1e-9,
            "ratio of leaving probabilities is the ratio of hazards"
        );
        // Extreme ratios stay valid.
        let big = modify_row(&r, 1, &[(2, 1e6), (3, 1e6)]);
        assert!(big.probs.iter().all(|p| (0.0..=1.0).contains(p)));
        let zero = modify_row(&r, 1, &[(2, 0.0), (3, 0.0)]);
        assert_eq!(zero.probs[0], 1.0);
    }

    #[test]
    fn relative_risks_scale_probabilities_and_the_stay_absorbs() {
        let r = row(&[1, 2, 3], &[0.721, 0.202, 0.077]);
        assert_eq!(relative_risk_row(&r, 1, &[(2, 1.0)]), Ok(r.clone()));
        let m = relative_risk_row(&r, 1, &[(2, 0.509), (3, 0.509)]).unwrap();
        assert_eq!(m.probs[1], 0.202 * 0.509);
        assert_eq!(m.probs[2], 0.077 * 0.509);
        assert_eq!(m.probs[0], 1.0 - (0.202 * 0.509 + 0.077 * 0.509));
        // Over 1: the stay probability it would need is reported.
        let over = relative_risk_row(&r, 1, &[(2, 5.0)]).unwrap_err();
        assert!((over - (1.0 - 1.01 - 0.077)).abs() < 1e-12 && over < 0.0);
        // No stay probability to absorb the change.
        let no_stay = row(&[RENEW, 3], &[0.5, 0.5]);
        assert!(
            relative_risk_row(&no_stay, 9, &[(3, 0.5)])
                .unwrap_err()
                .is_nan()
        );
    }

    #[test]
    fn a_reassessment_mixes_the_row_with_its_move() {
        let r = row(&[1, 0, 3], &[0.9, 0.06, 0.04]);
        assert_eq!(
            reassess_row(&r, 1, 2, 0.0),
            r,
            "q = 0 leaves the row bit-identical"
        );
        // A move the row has: p' = q e_to + (1 - q) p.
        let m = reassess_row(&r, 1, 3, 0.25);
        assert_eq!(m.targets, r.targets);
        assert_eq!(m.probs, vec![0.75 * 0.9, 0.75 * 0.06, 0.75 * 0.04 + 0.25]);
        // A move the row lacks is added after the stay, in state order.
        let m = reassess_row(&r, 1, 2, 0.1);
        assert_eq!(m.targets, vec![1, 0, 2, 3]);
        assert_eq!(m.probs, vec![0.9 * 0.9, 0.9 * 0.06, 0.1, 0.9 * 0.04]);
        assert!((m.probs.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(*m.cum.last().unwrap(), 1 << 32);
        // A row without a stay gets it in state order, before a renewal.
        let w = row(&[3, 4, RENEW], &[0.25, 0.25, 0.5]);
        let m = reassess_row(&w, 9, 2, 0.5);
        assert_eq!(m.targets, vec![2, 3, 4, RENEW]);
        let m = reassess_row(&row(&[5, 3, RENEW], &[0.5, 0.25, 0.25]), 5, 4, 1.0);
        assert_eq!(m.targets, vec![5, 3, 4, RENEW]);
        assert_eq!(m.probs, vec![0.0, 0.0, 1.0, 0.0], "q = 1: everyone moves");
    }

    #[test]
    fn rows_without_stay_are_reweighted() {
        let r = row(&[RENEW, 3, 4], &[0.5, 0.25, 0.25]);
        let m = modify_row(&r, 9, &[(3, 3.0)]);
        assert!((m.probs[1] - 0.75 / 1.5).abs() < 1e-12);
        assert!((m.probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_cell_stays_exactly_when_its_row_says_stay_and_moves_on_until_the_cap() {
        // Two states, cap 3, two cycles; state 0 has a stay row (then a different one from 2
        // cycles in state), state 1 a row without its own state first (no stay), cells without a row.
        let rows = vec![
            row(&[0, 1], &[0.75, 0.25]),
            row(&[0, 1], &[0.5, 0.5]),
            row(&[0, 1], &[0.25, 0.75]),
        ];
        let cap = 3u16;
        let x = u32::MAX;
        #[rustfmt::skip]
        let row_of = vec![
            x, 0, 1, 1,   x, 2, 2, x, // cycle 0: state 0, state 1
            x, 1, 1, 1,   x, 2, x, 2, // cycle 1
        ];
        let tr = Transitions::new(rows.clone(), cap, row_of.clone(), 2);
        assert_eq!(tr.cell_state(), [0, 0, 0, 0, 1, 1, 1, 1]);
        for (cell, &r) in row_of.iter().enumerate() {
            let (s, m) = ((cell % 8) / 4, cell % 4);
            let below = match rows.get(r as usize) {
                Some(row) if usize::from(row.targets[0]) == s => row.cum[0],
                _ => 0,
            };
            assert_eq!(tr.stay_step()[cell] >> 1, below, "cell {cell}");
            assert_eq!(tr.stay_step()[cell] & 1, u64::from(m < 3), "cell {cell}");
            // The engine's test `2u + 1 < step` is `u < below` for every number.
            for u in [0u32, 1, (below as u32).wrapping_sub(1), below as u32, x] {
                let stays = (u64::from(u) << 1 | 1) < tr.stay_step()[cell];
                assert_eq!(stays, u64::from(u) < below, "cell {cell}, u {u}");
            }
        }
        assert_eq!(tr.cell(1, 1), 5);
        // A copy (a run's model taking the provider's table) shares the tables, not copies them.
        let copy = tr.clone();
        assert!(std::ptr::eq(copy.stay_step(), tr.stay_step()));
        assert!(std::ptr::eq(copy.rows(), tr.rows()));
    }

    #[test]
    fn the_fast_row_picks_what_the_row_picks() {
        // Rows with 1 to 8 targets, zero probabilities in front, between and behind, thresholds at
        // u32::MAX and 2^32; every threshold, its neighbours, both ends and many uniforms.
        let rows: Vec<Vec<f64>> = vec![
            vec![1.0],
            vec![0.9, 0.1],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![0.5, 0.5, 0.0],
            vec![0.5, 0.0, 0.5],
            vec![0.95, 0.02, 0.01, 0.0, 0.02],
            vec![0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05],
            vec![1.0 - 1e-10, 1e-10, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            vec![0.0; 7].into_iter().chain([1.0]).collect(),
        ];
        for (i, probs) in rows.iter().enumerate() {
            let targets: Vec<u8> = (0..probs.len() as u8).map(|t| 10 + t).collect();
            let row = Row {
                targets,
                cum: thresholds(probs),
                probs: probs.clone(),
            };
            let fast = Pick8::new(&row).expect("at most 8 targets");
            let mut us: Vec<u32> = vec![0, 1, u32::MAX - 1, u32::MAX];
            for &c in &row.cum {
                for d in [-1i64, 0, 1] {
                    us.push((c as i64 + d).clamp(0, i64::from(u32::MAX)) as u32);
                }
            }
            let mut s = crate::rng::Key::root(i as u64).stream();
            us.extend((0..20_000).map(|_| rand::RngCore::next_u32(&mut s)));
            for u in us {
                assert_eq!(fast.pick(u), row.pick(u64::from(u)), "row {probs:?}, u {u}");
            }
            // A target with probability 0 is never picked.
            assert!(
                probs[usize::from(fast.pick(u32::MAX) - 10)] > 0.0,
                "row {probs:?}"
            );
        }
        let nine = Row {
            targets: (0..9).collect(),
            cum: thresholds(&[1.0 / 9.0; 9]),
            probs: vec![1.0 / 9.0; 9],
        };
        assert!(
            Pick8::new(&nine).is_none(),
            "more than 8 targets: the row's own pick"
        );
    }
}
