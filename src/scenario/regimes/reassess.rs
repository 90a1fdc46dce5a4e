//! Checks and compiles a regime's `reassessment` list, and mixes its moves into the regime's
//! transition table: long-staying clients are reviewed at a rate, and a successful review moves them to
//! a lighter state.

use super::super::check::optional_period;
use super::super::check::{Ctx, MAX_TIME_IN_STATE};
use super::super::raw;
use super::Context;
use crate::model::Row;
use crate::model::regime::{Reassessment, Regime};
use crate::model::row::reassess_row;

/// Compiles the reassessments of regime `i`.
pub(super) fn compile(cx: &mut Ctx, r: &raw::Regime, i: usize, k: &Context) -> Vec<Reassessment> {
    let mut out = Vec::new();
    for (j, a) in r.reassessment.iter().enumerate() {
        let a = a.get_ref();
        let ak = |x: &str| format!("regime[{i}].reassessment[{j}].{x}");
        let from = cx.state(k.codes, &a.from, &ak("from"));
        let to = cx.state(k.codes, &a.to, &ak("to"));
        if let Some(f) = from
            && k.absorbing[f]
        {
            cx.err(
                a.from.span(),
                ak("from"),
                format!(
                    "`{}` is absorbing: its clients are not reviewed",
                    k.codes[f]
                ),
                "name a state clients stay in, e.g. from = \"BT\"",
            );
        }
        if from.is_some() && from == to {
            cx.err(
                a.to.span(),
                ak("to"),
                "a review moves clients to another state, not to the one they are in",
                "name the lighter state a successful review leads to, e.g. to = \"WV\"",
            );
        }
        let after = *a.after_cycles.get_ref();
        let longest = from.and_then(|f| k.rows.max_cycles[f]);
        if !(0..=MAX_TIME_IN_STATE).contains(&after) {
            cx.err(
                a.after_cycles.span(),
                ak("after_cycles"),
                format!(
                    "after_cycles is {after}; it must be from 0 to {}",
                    MAX_TIME_IN_STATE
                ),
                "give the cycles in state (counting the cycle just ended) from which clients are reviewed, e.g. 24; 0 or 1 reviews every client in the state",
            );
        } else if let Some(max) = longest
            && after > i64::from(max)
        {
            cx.err(
                a.after_cycles.span(),
                ak("after_cycles"),
                format!(
                    "clients never stay in `{}` for {after} cycles: an indication there lasts at most {max} (max_cycles)",
                    a.from.get_ref()
                ),
                format!("give after_cycles = {max} or less"),
            );
        }
        let rate = cx.nonneg(
            &a.reviews_per_year,
            &ak("reviews_per_year"),
            "the review rate",
        );
        let success = cx.share(&a.success, &ak("success"));
        // The chance of at least one review in a cycle: 1 - exp(-rate x cycle length in years).
        let reviewed = -(-rate * f64::from(k.cycle_months) / 12.0).exp_m1();
        let Some(period) = optional_period(cx, &a.period, ak("period"), k.start, k.cycle_months)
        else {
            continue;
        };
        if let (Some(from), Some(to)) = (from, to) {
            out.push(Reassessment {
                from,
                to,
                after: after.clamp(1, MAX_TIME_IN_STATE) as u16,
                q: success * reviewed,
                period,
                source: j,
            });
        }
    }
    out
}

/// Applies the reassessments of `regime` in cycles `start..end`, after the modifiers: every cell of
/// `from` at `after` or more cycles in state gets the row mixed with the move to `to` (the phase-in
/// scales `q`); several reassessments of a state act one after the other, as independent reviews.
pub(super) fn apply(
    regime: &Regime,
    (start, end): (u32, u32),
    rows: &mut Vec<Row>,
    row_of: &mut [u32],
    (n, per_state): (usize, usize),
) {
    for c in start..end {
        let ramp = regime.ramp(c - start);
        let inside = |a: &&Reassessment| a.period.0 <= i64::from(c) && i64::from(c) <= a.period.1;
        for a in regime.reassessments.iter().filter(inside) {
            // Within a cycle every cell with the same row gets the same mixed row.
            let mut done: Vec<(u32, u32)> = Vec::new();
            for m in usize::from(a.after)..per_state {
                let cell = (c as usize * n + a.from) * per_state + m;
                let r = row_of[cell];
                if r == u32::MAX {
                    continue;
                }
                if let Some(&(_, to)) = done.iter().find(|(from, _)| *from == r) {
                    row_of[cell] = to;
                    continue;
                }
                let new = reassess_row(&rows[r as usize], a.from as u8, a.to as u8, ramp * a.q);
                let idx = rows.iter().position(|x| *x == new).unwrap_or_else(|| {
                    rows.push(new);
                    rows.len() - 1
                }) as u32;
                done.push((r, idx));
                row_of[cell] = idx;
            }
        }
    }
}
