//! Expected values: the model evolved as probability mass instead of individual clients.
//!
//! For every area, the mass of clients by state and (capped) time in state is pushed through the same
//! transition rows the Monte Carlo engine samples from, with the expected inflow. The result has the
//! layout of an [`AreaTrace`] in `f64`: expected counts per cycle and state, and expected moves. It is
//! exact for the provider model (no budget feedback) and is used to size budgets set as a share of the
//! expected provider spend.

use crate::model::{Model, RENEW, Transitions};

/// Expected counts and moves of one area, laid out as in [`crate::engine::AreaTrace`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedArea {
    /// `counts[c * n + s]`.
    pub counts: Vec<f64>,
    /// `moves[(c * (n + 1) + from) * (n + 1) + to]`.
    pub moves: Vec<f64>,
}

/// Expected trajectory of area `a` under transition table `tr` (no prevention, no budget feedback).
pub fn expected_area(model: &Model, tr: &Transitions, a: usize) -> ExpectedArea {
    let n = model.n_states();
    let n1 = n + 1;
    let cycles = model.cycles as usize;
    let cap = usize::from(tr.cap);
    // Mass by state and time in state t, with t = cap - 1 standing for cap - 1 or more.
    let kmax = cap.max(1);
    let area = &model.areas[a];
    let mut mass = vec![0.0f64; n * kmax];
    for s in 0..n {
        let (lo, hi) = area.initial_time[s];
        let share = f64::from(area.initial[s]) / f64::from(hi - lo + 1);
        for t in lo..=hi {
            mass[s * kmax + (t as usize).min(kmax - 1)] += share;
        }
    }
    let mut absorbed = vec![0.0f64; n];
    let mut out = ExpectedArea {
        counts: vec![0.0; cycles * n],
        moves: vec![0.0; cycles * n1 * n1],
    };
    let stride = tr.cycle_stride(n);
    for c in 0..cycles {
        let moves = &mut out.moves[c * n1 * n1..(c + 1) * n1 * n1];
        if c > 0 {
            let mut next = vec![0.0f64; n * kmax];
            for s in 0..n {
                for k in 0..kmax {
                    let m = mass[s * kmax + k];
                    if m == 0.0 {
                        continue;
                    }
                    let r = tr.row_of[(c - 1) * stride + s * (cap + 1) + (k + 1).min(cap)];
                    let row = &tr.rows[r as usize];
                    for (&t, &p) in row.targets.iter().zip(&row.probs) {
                        let f = m * p;
                        if usize::from(t) == s {
                            next[s * kmax + (k + 1).min(kmax - 1)] += f;
                        } else if t == RENEW {
                            next[s * kmax] += f;
                            moves[s * n1 + n] += f;
                        } else {
                            let t = usize::from(t);
                            moves[s * n1 + t] += f;
                            if model.states[t].absorbing {
                                absorbed[t] += f;
                            } else {
                                next[t * kmax] += f;
                            }
                        }
                    }
                }
            }
            mass = next;
        }
        let lambda = area.inflow_mean[c];
        for (&t, &p) in model.entry.targets.iter().zip(&model.entry.probs) {
            let t = usize::from(t);
            mass[t * kmax] += lambda * p;
            moves[n * n1 + t] += lambda * p;
        }
        for s in 0..n {
            out.counts[c * n + s] =
                absorbed[s] + mass[s * kmax..(s + 1) * kmax].iter().sum::<f64>();
        }
    }
    out
}

/// Expected spend per cycle of area `a` on the cost lines in `covers`, under the provider model.
pub fn expected_spend(model: &Model, a: usize, covers: &[bool]) -> Vec<f64> {
    let e = expected_area(model, &model.transitions, a);
    let n = model.n_states();
    let n1 = n + 1;
    let m = model.areas[a].municipality;
    (0..model.cycles as usize)
        .map(|c| {
            let counts = &e.counts[c * n..(c + 1) * n];
            let moves = &e.moves[c * n1 * n1..(c + 1) * n1 * n1];
            model
                .costs
                .iter()
                .filter(|i| covers[i.line] && i.municipalities[m])
                .map(|i| i.units(counts, moves) * i.amount[c])
                .sum()
        })
        .collect()
}
