//! Expected values: the model evolved as probability mass instead of individual clients.
//!
//! For every area, the mass of clients by state and (capped) time in state is pushed through the same
//! transition rows the Monte Carlo engine samples from, with the expected inflow. The result has the
//! layout of an [`AreaTrace`](crate::engine::AreaTrace) in `f64`: expected counts per cycle and
//! state, and expected moves. It is exact for the provider model (no budget feedback) and is used to
//! size budgets set as a share of the expected provider spend.

use super::AreaView;
use crate::model::{Model, RENEW, Transitions};

/// Expected counts and moves of one area, laid out as in [`crate::engine::AreaTrace`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedArea {
    /// `counts[c * n + s]`.
    pub counts: Vec<f64>,
    /// `moves[(c * (n + 1) + from) * (n + 1) + to]`.
    pub moves: Vec<f64>,
    /// Expected occupancy after a transition at the end of the last cycle.
    pub final_counts: Vec<f64>,
}

impl ExpectedArea {
    /// Its counts and moves, as the reduction reads them.
    pub fn view(&self) -> AreaView<'_, f64> {
        AreaView {
            counts: &self.counts,
            moves: &self.moves,
            final_counts: &self.final_counts,
            spend: None,
        }
    }
}

/// Expected trajectory of area `a` under the provider model.
pub fn expected_area(model: &Model, tr: &Transitions, a: usize) -> ExpectedArea {
    expected(model, tr, a, &|_| (0.0, 0))
}

/// Expected trajectory of area `a` in arm `arm`: its regime's transition rows and prevention; capacity
/// limits and reinvested surpluses are not modelled.
pub fn expected_arm_area(model: &Model, arm: usize, a: usize) -> ExpectedArea {
    let plan = model.arms[arm].plans[a].as_ref();
    let prevent = |c: usize| match plan {
        Some(p) if p.active(c) => {
            let r = &model.regimes[p.regime];
            (
                r.prevention * r.ramp(c as u32 - p.start),
                r.prevention_state,
            )
        }
        _ => (0.0, 0),
    };
    expected(model, model.table(arm, a), a, &prevent)
}

/// The expected-value pass; `prevent(c)` is the share of cycle `c`'s new clients diverted and where to.
fn expected(
    model: &Model,
    tr: &Transitions,
    a: usize,
    prevent: &dyn Fn(usize) -> (f64, usize),
) -> ExpectedArea {
    let n = model.n_states();
    let n1 = n + 1;
    let cycles = model.cycles as usize;
    // Mass by state and time in state t, with t = cap - 1 standing for cap - 1 or more.
    let kmax = usize::from(tr.cap()).max(1);
    let area = &model.areas[a];
    let mut mass = initial_mass(area, n, kmax);
    let mut absorbed = vec![0.0f64; n];
    let mut out = ExpectedArea {
        counts: vec![0.0; cycles * n],
        moves: vec![0.0; cycles * n1 * n1],
        final_counts: vec![0.0; n],
    };
    let mut scratch = vec![0.0; n1 * n1];
    // One step past the horizon gives the occupancy after the last transition.
    for c in 0..=cycles {
        let moves = if c < cycles {
            &mut out.moves[c * n1 * n1..(c + 1) * n1 * n1]
        } else {
            &mut scratch[..]
        };
        if c > 0 {
            mass = step(model, tr, c - 1, &mass, moves, &mut absorbed);
        }
        let total = |s: usize, mass: &[f64]| {
            absorbed[s] + mass[s * kmax..(s + 1) * kmax].iter().sum::<f64>()
        };
        if c == cycles {
            out.final_counts = (0..n).map(|s| total(s, &mass)).collect();
            break;
        }
        let (share, ws) = prevent(c);
        let lambda = area.inflow_mean[c];
        for (&t, &p) in model.entry.targets().iter().zip(model.entry.probs()) {
            let t = usize::from(t);
            let kept = lambda * p * (1.0 - share);
            mass[t * kmax] += kept;
            moves[n * n1 + t] += kept;
        }
        if share > 0.0 {
            mass[ws * kmax] += lambda * share;
            moves[n * n1 + ws] += lambda * share;
        }
        for s in 0..n {
            out.counts[c * n + s] = total(s, &mass);
        }
    }
    out
}

/// The area's starting caseload as mass by state (of `n`) and time in state (of `kmax`, the last
/// standing for that or more), each band of its time in state spread evenly over the band's months.
fn initial_mass(area: &crate::model::Area, n: usize, kmax: usize) -> Vec<f64> {
    let mut mass = vec![0.0f64; n * kmax];
    for s in 0..n {
        for &(lo, hi, part) in area.initial_time[s].parts() {
            let share = f64::from(area.initial[s]) * part / f64::from(hi - lo + 1);
            for t in lo..=hi {
                mass[s * kmax + (t as usize).min(kmax - 1)] += share;
            }
        }
    }
    mass
}

/// The transition at the end of cycle `c`: the mass after it, its moves added to `moves` (`from * (n
/// + 1) + to`, renewals to `n`) and the mass that enters an absorbing state to `absorbed`.
fn step(
    model: &Model,
    tr: &Transitions,
    c: usize,
    mass: &[f64],
    moves: &mut [f64],
    absorbed: &mut [f64],
) -> Vec<f64> {
    let n = model.n_states();
    let n1 = n + 1;
    let cap = usize::from(tr.cap());
    let kmax = cap.max(1);
    let stride = tr.cycle_stride(n);
    let mut next = vec![0.0f64; n * kmax];
    for s in 0..n {
        for k in 0..kmax {
            let m = mass[s * kmax + k];
            if m == 0.0 {
                continue;
            }
            let r = tr.row_of()[c * stride + s * (cap + 1) + (k + 1).min(cap)];
            let row = &tr.rows()[r as usize];
            for (&t, &p) in row.targets().iter().zip(row.probs()) {
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
    next
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
            let items: f64 = model
                .costs
                .iter()
                .filter(|i| covers[i.line] && i.municipalities[m])
                .map(|i| i.units(counts, moves) * i.amount[c])
                .sum();
            let mut evaluations = 0.0;
            model.evaluation_costs(c, counts, moves, |line, value| {
                if covers[line] {
                    evaluations += value;
                }
            });
            items + evaluations
        })
        .collect()
}

/// What of an arm the expected-value engine cannot follow: regimes that reinvest a surplus (the fund
/// depends on the run's spend) and capacity limits (waiting depends on the run's caseload). Each entry
/// names the regime or limit.
pub fn feedback_regimes(model: &Model, arm: usize) -> Vec<String> {
    let mut names: Vec<String> = model.arms[arm]
        .plans
        .iter()
        .flatten()
        .map(|p| &model.regimes[p.regime])
        .filter(|r| {
            matches!(r.surplus, crate::model::regime::Surplus::Reinvested(_))
                && r.budget != crate::model::regime::BudgetRule::Unlimited
        })
        .map(|r| format!("regime `{}` (reinvested surplus)", r.name))
        .collect();
    names.extend(
        model
            .capacities
            .iter()
            .filter(|cap| cap.arms[arm] && cap.areas.iter().any(|&x| x))
            .map(|cap| format!("capacity `{}`", cap.name)),
    );
    names.sort();
    names.dedup();
    names
}
