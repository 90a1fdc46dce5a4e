//! The Monte Carlo engine: one run of the individual-level model.
//!
//! Each area is simulated on its own, cycles outer and clients inner: the clients of an area live in one
//! vector of packed words (`id << 24 | state << 16 | time in state`), so a cycle is one pass over
//! contiguous memory with one load and at most one store per client. Clients who are absorbed (outflow)
//! are dropped from the vector in the same pass, keeping the survivors in order.
//!
//! Order of events in cycle `c` (documented in the README):
//! 1. for `c > 0`, every client present in cycle `c - 1` draws its transition, with the row that applies
//!    to cycle `c - 1` and its cycles in state (counting cycle `c - 1`);
//! 2. new clients of cycle `c` arrive in their entry state;
//! 3. the caseload of cycle `c` is counted (absorbing states count everyone ever absorbed).
//!
//! Random numbers (see [`crate::rng`]): a client's transition at the end of cycle `c` is number `id` of the
//! stream `(seed, run, area, c, Transition)`; so a client draws the same number in every arm where it
//! exists, whatever the other clients do.

use crate::model::{Model, RENEW};
use crate::rng::{Key, Purpose, poisson};

/// Largest number of new clients per area and cycle (ids are packed into 20 bits).
const MAX_PER_CYCLE: u32 = (1 << 20) - 1;
const TIME_MAX: u64 = 0xFFFE;

/// What happened in one area in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaTrace {
    /// `counts[c * n + s]`: clients in state `s` during cycle `c` (absorbing: cumulative).
    pub counts: Vec<u32>,
    /// `moves[(c * (n + 1) + from) * (n + 1) + to]`: clients who entered their state at the start of
    /// cycle `c`: `from == n` is inflow, `to == n` a renewal of the `from` indication.
    pub moves: Vec<u32>,
}

/// What happened in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTrace {
    /// Per area, in model order.
    pub areas: Vec<AreaTrace>,
    /// Client-cycles simulated (clients present in non-absorbing states, summed over cycles).
    pub client_cycles: u64,
}

#[inline(always)]
fn pack(id: u64, state: usize, time: u64) -> u64 {
    (id << 24) | ((state as u64) << 16) | time
}

/// Simulates run `run` of `model` with master seed `seed`.
pub fn simulate(model: &Model, seed: u64, run: u32) -> RunTrace {
    let key = Model::run_key(seed, run);
    let mut clients = Vec::new();
    let mut client_cycles = 0;
    let areas = (0..model.areas.len())
        .map(|a| {
            let (trace, cc) = simulate_area(model, key.child(a as u64), a, &mut clients);
            client_cycles += cc;
            trace
        })
        .collect();
    RunTrace {
        areas,
        client_cycles,
    }
}

fn initial_clients(model: &Model, key: Key, a: usize, clients: &mut Vec<u64>, count: &mut [u32]) {
    let init = key.purpose(Purpose::InitialTime);
    let mut j = 0u64;
    for (s, &k) in model.areas[a].initial.iter().enumerate() {
        let (lo, hi) = model.areas[a].initial_time[s];
        for _ in 0..k {
            let t = if lo == hi {
                lo
            } else {
                init.child(j).stream().int_in(lo, hi)
            };
            clients.push(pack(j, s, u64::from(t).min(TIME_MAX)));
            j += 1;
        }
        count[s] += k;
    }
}

fn simulate_area(model: &Model, key: Key, a: usize, clients: &mut Vec<u64>) -> (AreaTrace, u64) {
    let n = model.n_states();
    let n1 = n + 1;
    let cycles = model.cycles as usize;
    let tr = &model.transitions;
    let cap = usize::from(tr.cap);
    let stride = tr.cycle_stride(n);
    let absorbing: Vec<bool> = model.states.iter().map(|s| s.absorbing).collect();
    let mut trace = AreaTrace {
        counts: vec![0; cycles * n],
        moves: vec![0; cycles * n1 * n1],
    };
    let mut count = vec![0u32; n];
    clients.clear();
    initial_clients(model, key, a, clients, &mut count);
    let mut client_cycles = 0u64;
    for c in 0..cycles {
        let moves = &mut trace.moves[c * n1 * n1..(c + 1) * n1 * n1];
        if c > 0 {
            let tkey = key.child(c as u64 - 1).purpose(Purpose::Transition);
            let stay = &tr.stay_below[(c - 1) * stride..c * stride];
            let row_of = &tr.row_of[(c - 1) * stride..c * stride];
            let mut kept = 0;
            for i in 0..clients.len() {
                let w = clients[i];
                let t = (w & 0xFFFF) as usize;
                let s = ((w >> 16) & 0xFF) as usize;
                let cell = s * (cap + 1) + (t + 1).min(cap);
                let u32 = tkey.u32_at(w >> 24);
                if u64::from(u32) < stay[cell] {
                    clients[kept] = w + u64::from((t as u64) < TIME_MAX);
                    kept += 1;
                    continue;
                }
                let to = tr.pick(row_of[cell] as usize, u32);
                let id = w >> 24;
                if to == RENEW {
                    moves[s * n1 + n] += 1;
                    clients[kept] = pack(id, s, 0);
                    kept += 1;
                    continue;
                }
                let to = usize::from(to);
                moves[s * n1 + to] += 1;
                count[s] -= 1;
                count[to] += 1;
                if !absorbing[to] {
                    clients[kept] = pack(id, to, 0);
                    kept += 1;
                }
            }
            clients.truncate(kept);
        }
        let ckey = key.child(c as u64);
        let k = poisson(
            &mut ckey.purpose(Purpose::InflowCount).stream(),
            model.areas[a].inflow_mean[c],
        )
        .min(MAX_PER_CYCLE);
        let ekey = ckey.purpose(Purpose::EntryState);
        let base = (c as u64 + 1) << 20;
        for j in 0..k {
            let s = usize::from(model.entry.pick(u64::from(ekey.u32_at(u64::from(j)))));
            clients.push(pack(base | u64::from(j), s, 0));
            moves[n * n1 + s] += 1;
            count[s] += 1;
        }
        trace.counts[c * n..(c + 1) * n].copy_from_slice(&count);
        client_cycles += clients.len() as u64;
    }
    (trace, client_cycles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;

    #[test]
    fn conservation_every_cycle() {
        // initial + inflow = in states (absorbing counted cumulatively), every cycle, area and run.
        let m = default_scenario().model;
        let n = m.n_states();
        for run in 0..5 {
            let t = simulate(&m, 7, run);
            for (a, at) in t.areas.iter().enumerate() {
                let mut expected: u64 = m.areas[a].initial.iter().map(|&x| u64::from(x)).sum();
                for c in 0..m.cycles as usize {
                    expected += (0..n)
                        .map(|s| u64::from(at.moves[(c * (n + 1) + n) * (n + 1) + s]))
                        .sum::<u64>();
                    let total: u64 = at.counts[c * n..(c + 1) * n]
                        .iter()
                        .map(|&x| u64::from(x))
                        .sum();
                    assert_eq!(total, expected, "run {run} area {a} cycle {c}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_trace_other_seed_differs() {
        let m = default_scenario().model;
        assert_eq!(simulate(&m, 1, 3), simulate(&m, 1, 3));
        assert_ne!(simulate(&m, 1, 3), simulate(&m, 2, 3));
        assert_ne!(simulate(&m, 1, 3), simulate(&m, 1, 4));
    }
}
