//! The Monte Carlo engine: one run of the individual-level model.
//!
//! Each area is simulated on its own, cycles outer and clients inner: the clients of an area live in one
//! vector of packed words (`id << 24 | state << 16 | time in state`), so a cycle is one pass over
//! contiguous memory with one load and at most one store per client. Clients who are absorbed (outflow)
//! are dropped from the vector in the same pass, keeping the survivors in order.
//!
//! Order of events in cycle `c` (documented in the README):
//! 1. budget areas: the budget year opens (in its first cycle) and the year's spend is projected;
//! 2. for `c > 0`: waiting clients are admitted in order of waiting while the budget has room
//!    (`waitlist`), all of them in the first cycle after the pilot period; then every other client present in cycle `c - 1` draws its transition, with the row
//!    that applies to cycle `c - 1` and its cycles in state (counting cycle `c - 1`); under `waitlist`
//!    a move the budget cannot carry puts the client on the waiting list instead (it stays in its state);
//! 3. new clients of cycle `c` arrive in their entry state (in a budget area a share goes to the sociale
//!    basis: prevention; under `waitlist` a new indication without room waits in the sociale basis);
//! 4. `step_down`: while the projected spend exceeds the budget, clients longest in BT move to Waakvlam;
//! 5. the caseload of cycle `c` is counted (absorbing states count everyone ever absorbed) and the
//!    cycle's spend is booked; the budget year closes in its last cycle.
//!
//! Random numbers (see [`crate::rng`]): a client's transition at the end of cycle `c` is number `id` of the
//! stream `(seed, run, area, c, Transition)`; so a client draws the same number in every arm where it
//! exists, whatever the other clients do.

use crate::budget::{Book, BudgetYear};
use crate::model::{Model, RENEW, Transitions};
use crate::regime::Exhaustion;
use crate::rng::{Key, Purpose, poisson};

/// Largest number of new clients per area and cycle (ids are packed into 20 bits).
const MAX_PER_CYCLE: u32 = (1 << 20) - 1;
const TIME_MAX: u64 = 0xFFFE;

/// What happened in one area in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaTrace {
    /// `counts[c * n + s]`: clients in state `s` during cycle `c` (absorbing: cumulative).
    pub counts: Vec<u32>,
    /// `moves[(c * (n + 1) + from) * (n + 1) + to]`: clients who entered their state at the start of
    /// cycle `c`: `from == n` is inflow, `to == n` a renewal of the `from` indication.
    pub moves: Vec<u32>,
    /// Budget years (empty for an area under the provider model).
    pub budget: Vec<BudgetYear>,
    /// Clients in each state after a transition at the end of the last cycle (for rewards counted at
    /// the end of a cycle; no new clients, no budget feedback).
    pub final_counts: Vec<u32>,
}

/// What happened in one run of one arm.
#[derive(Debug, Clone, PartialEq)]
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

#[inline(always)]
fn state_of(w: u64) -> usize {
    ((w >> 16) & 0xFF) as usize
}

/// A client on the waiting list: its word (current state and id), the state it waits for (`n` = a
/// renewal) and the cycle it started waiting.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    word: u64,
    to: usize,
    since: u32,
}

/// Simulates run `run` of arm `arm` of `model` with master seed `seed`.
pub fn simulate(model: &Model, arm: usize, seed: u64, run: u32) -> RunTrace {
    let key = Model::run_key(seed, run);
    let mut clients = Vec::new();
    let mut client_cycles = 0;
    let areas = (0..model.areas.len())
        .map(|a| {
            let (trace, cc) = simulate_area(model, arm, key.child(a as u64), a, &mut clients);
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

/// Moves a client's counts and records the move (`to == n`: renewal).
#[inline]
fn record(count: &mut [u32], moves: &mut [u32], n: usize, from: usize, to: usize) {
    moves[from * (n + 1) + to] += 1;
    if to != n {
        if from < n {
            count[from] -= 1;
        }
        count[to] += 1;
    }
}

fn simulate_area(
    model: &Model,
    arm: usize,
    key: Key,
    a: usize,
    clients: &mut Vec<u64>,
) -> (AreaTrace, u64) {
    let n = model.n_states();
    let n1 = n + 1;
    let cycles = model.cycles as usize;
    let tr = model.table(arm, a);
    let absorbing: Vec<bool> = model.states.iter().map(|s| s.absorbing).collect();
    let plan = model.arms[arm].plans[a].as_ref();
    let regime = plan.map(|p| &model.regimes[p.regime]);
    let mut book = plan.map(|p| Book::new(model, p, a, &model.regime_expected[p.regime][a]));
    let policy = book.as_ref().map(|b| b.policy);
    let mut queue: Vec<Waiting> = Vec::new();
    let mut admitted: Vec<u64> = Vec::new();
    let mut trace = AreaTrace {
        counts: vec![0; cycles * n],
        moves: vec![0; cycles * n1 * n1],
        budget: Vec::new(),
        final_counts: Vec::new(),
    };
    let mut count = vec![0u32; n];
    clients.clear();
    initial_clients(model, key, a, clients, &mut count);
    let mut client_cycles = 0u64;
    for c in 0..cycles {
        let moves = &mut trace.moves[c * n1 * n1..(c + 1) * n1 * n1];
        let active = book.as_ref().is_some_and(|b| b.active(c));
        if let Some(b) = book.as_mut() {
            b.begin_cycle(c, &count);
        }
        let waitlist = active && policy == Some(Exhaustion::Waitlist);
        if c > 0 {
            if waitlist {
                let b = book.as_mut().expect("waitlist implies a book");
                admit(b, c, n, &mut queue, &mut count, moves, &mut admitted);
            } else if !active && !queue.is_empty() {
                // The pilot period has ended: the provider model has no waiting list.
                release(n, &mut queue, &mut count, moves, &mut admitted);
            }
            transition_pass(
                tr,
                &absorbing,
                key,
                c,
                book.as_mut().filter(|_| active),
                waitlist,
                clients,
                &mut queue,
                &mut count,
                moves,
            );
            clients.append(&mut admitted);
        }
        let prevent = match (plan, regime) {
            (Some(p), Some(r)) if active => (
                r.prevention * r.ramp(c as u32 - p.start),
                r.prevention_state,
            ),
            _ => (0.0, 0),
        };
        inflow(
            model,
            key,
            a,
            c,
            prevent,
            book.as_mut().filter(|_| active),
            waitlist,
            &mut queue,
            &mut count,
            moves,
            clients,
        );
        if active && policy == Some(Exhaustion::StepDown) {
            let b = book.as_mut().expect("active implies a book");
            if b.over() {
                let r = regime.expect("a book implies a regime");
                step_down(b, c, n, r.step_down, clients, &mut count, moves);
            }
        }
        trace.counts[c * n..(c + 1) * n].copy_from_slice(&count);
        if let Some(b) = book.as_mut() {
            b.end_cycle(
                model,
                c,
                &trace.counts[c * n..(c + 1) * n],
                &trace.moves[c * n1 * n1..(c + 1) * n1 * n1],
                queue.len() as u32,
            );
        }
        client_cycles += clients.len() as u64;
    }
    if let Some(b) = book {
        trace.budget = b.years;
    }
    let mut scratch = vec![0u32; n1 * n1];
    transition_pass(
        tr,
        &absorbing,
        key,
        cycles,
        None,
        false,
        clients,
        &mut queue,
        &mut count,
        &mut scratch,
    );
    trace.final_counts = count;
    (trace, client_cycles)
}

/// Draws the transition of every client at the end of cycle `c - 1`. In a budget area (`book`), each
/// move updates the projected spend; under `waitlist` a client whose move the budget cannot carry
/// joins `queue` and stays in its state. Absorbed clients leave `clients`; survivors keep their order.
#[allow(clippy::too_many_arguments)]
fn transition_pass(
    tr: &Transitions,
    absorbing: &[bool],
    key: Key,
    c: usize,
    mut book: Option<&mut Book>,
    waitlist: bool,
    clients: &mut Vec<u64>,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
) {
    let n = absorbing.len();
    let cap = usize::from(tr.cap);
    let stride = tr.cycle_stride(n);
    let tkey = key.child(c as u64 - 1).purpose(Purpose::Transition);
    let stay = &tr.stay_below[(c - 1) * stride..c * stride];
    let row_of = &tr.row_of[(c - 1) * stride..c * stride];
    let mut kept = 0;
    for i in 0..clients.len() {
        let w = clients[i];
        let t = (w & 0xFFFF) as usize;
        let s = state_of(w);
        let cell = s * (cap + 1) + (t + 1).min(cap);
        let u = tkey.u32_at(w >> 24);
        if u64::from(u) < stay[cell] {
            clients[kept] = w + u64::from((t as u64) < TIME_MAX);
            kept += 1;
            continue;
        }
        let to = tr.pick(row_of[cell] as usize, u);
        let to = if to == RENEW { n } else { usize::from(to) };
        if let Some(b) = book.as_deref_mut() {
            let d = b.delta(c, s, to);
            if waitlist && !b.fits(c, d) {
                queue.push(Waiting {
                    word: w,
                    to,
                    since: c as u32,
                });
                b.year_mut().waits_started += 1;
                continue;
            }
            b.apply(d);
        }
        record(count, moves, n, s, to);
        let id = w >> 24;
        if to == n {
            clients[kept] = pack(id, s, 0);
            kept += 1;
        } else if !absorbing[to] {
            clients[kept] = pack(id, to, 0);
            kept += 1;
        }
    }
    clients.truncate(kept);
}

/// Admits waiting clients, in order of waiting, while the budget has room (first fit).
fn admit(
    b: &mut Book,
    c: usize,
    n: usize,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    admitted: &mut Vec<u64>,
) {
    queue.retain(|wt| {
        let from = state_of(wt.word);
        let d = b.delta(c, from, wt.to);
        if !b.fits(c, d) {
            return true;
        }
        b.apply(d);
        record(count, moves, n, from, wt.to);
        let to = if wt.to == n { from } else { wt.to };
        admitted.push(pack(wt.word >> 24, to, 0));
        let y = b.year_mut();
        y.admitted += 1;
        y.waited_cycles += c as u64 - u64::from(wt.since);
        false
    });
}

/// Admits every waiting client, in order of waiting, when the pilot period ends (the provider model
/// has no waiting list); the book is closed, so nothing is booked.
fn release(
    n: usize,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    admitted: &mut Vec<u64>,
) {
    for wt in queue.drain(..) {
        let from = state_of(wt.word);
        record(count, moves, n, from, wt.to);
        let to = if wt.to == n { from } else { wt.to };
        admitted.push(pack(wt.word >> 24, to, 0));
    }
}

/// New clients of cycle `c`: Poisson count, entry state, prevention (a share `prevent_below` goes to
/// state `ws`) and, under `waitlist`, admission (a new client without room waits in `ws`).
#[allow(clippy::too_many_arguments)]
fn inflow(
    model: &Model,
    key: Key,
    a: usize,
    c: usize,
    (prevent_below, ws): (f64, usize),
    mut book: Option<&mut Book>,
    waitlist: bool,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    clients: &mut Vec<u64>,
) {
    let n = model.n_states();
    let ckey = key.child(c as u64);
    let k = poisson(
        &mut ckey.purpose(Purpose::InflowCount).stream(),
        model.areas[a].inflow_mean[c],
    )
    .min(MAX_PER_CYCLE);
    let ekey = ckey.purpose(Purpose::EntryState);
    let pkey = ckey.purpose(Purpose::Prevention);
    let base = (c as u64 + 1) << 20;
    for j in 0..k {
        let id = base | u64::from(j);
        let mut s = usize::from(model.entry.pick(u64::from(ekey.u32_at(u64::from(j)))));
        if prevent_below > 0.0
            && f64::from(pkey.u32_at(u64::from(j))) < prevent_below * 4_294_967_296.0
        {
            s = ws;
        }
        if let Some(b) = book.as_deref_mut() {
            let d = b.delta(c, n, s);
            if waitlist && s != ws && !b.fits(c, d) {
                let dw = b.delta(c, n, ws);
                b.apply(dw);
                record(count, moves, n, n, ws);
                queue.push(Waiting {
                    word: pack(id, ws, 0),
                    to: s,
                    since: c as u32,
                });
                b.year_mut().waits_started += 1;
                continue;
            }
            b.apply(d);
        }
        record(count, moves, n, n, s);
        clients.push(pack(id, s, 0));
    }
}

/// Steps down clients longest in `from` (ties: lowest id) to `to` while that lowers the projected spend
/// and the projection exceeds the budget.
fn step_down(
    b: &mut Book,
    c: usize,
    n: usize,
    (from, to): (usize, usize),
    clients: &mut [u64],
    count: &mut [u32],
    moves: &mut [u32],
) {
    let d = b.delta(c, from, to);
    if d.0 >= 0.0 {
        return;
    }
    let mut idx: Vec<usize> = (0..clients.len())
        .filter(|&i| state_of(clients[i]) == from)
        .collect();
    idx.sort_by_key(|&i| (std::cmp::Reverse(clients[i] & 0xFFFF), clients[i] >> 24));
    for i in idx {
        if !b.over() {
            break;
        }
        b.apply(d);
        record(count, moves, n, from, to);
        clients[i] = pack(clients[i] >> 24, to, 0);
        b.year_mut().stepped_down += 1;
    }
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
            let t = simulate(&m, 0, 7, run);
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
    fn waiting_clients_are_admitted_when_the_pilot_ends() {
        // A tight waitlist budget up to 2022-12: clients wait at the end of 2022; from 2023-01 the
        // provider model holds nobody back, so every client counted in a state is simulated again.
        let text = crate::scenario::DEFAULT_TEXT;
        let cut = text.find("[[arm]]").expect("the default has arms");
        let text = format!(
            "{}{}",
            &text[..cut],
            r#"
[[regime]]
name = "tight"
budget_per_inhabitant = 60.0
price_year = 2021
on_exhaustion = "waitlist"

[[arm]]
name = "baseline"

[[arm]]
name = "tight"
assign = [{ municipality = "Noord-Beveland", regime = "tight", from = "2021-01", until = "2022-12" }]
"#
        );
        let m = crate::scenario::from_text("tight.toml", &text)
            .unwrap()
            .model;
        let n = m.n_states();
        let a = (0..m.areas.len())
            .find(|&a| m.arms[1].plans[a].is_some())
            .unwrap();
        let live = |counts: &[u32]| -> u64 {
            (0..n)
                .filter(|&s| !m.states[s].absorbing)
                .map(|s| u64::from(counts[s]))
                .sum()
        };
        let mut waited = 0;
        for run in 0..5 {
            let mut clients = Vec::new();
            let key = Model::run_key(3, run).child(a as u64);
            let (t, _) = simulate_area(&m, 1, key, a, &mut clients);
            assert_eq!(t.budget.len(), 2, "2021 and 2022");
            waited += t.budget[1].waiting_end;
            assert_eq!(clients.len() as u64, live(&t.final_counts), "run {run}");
        }
        assert!(waited > 0, "clients wait at the end of the pilot");
    }

    #[test]
    fn same_seed_same_trace_other_seed_differs() {
        let m = default_scenario().model;
        assert_eq!(simulate(&m, 0, 1, 3), simulate(&m, 0, 1, 3));
        assert_ne!(simulate(&m, 0, 1, 3), simulate(&m, 0, 2, 3));
        assert_ne!(simulate(&m, 0, 1, 3), simulate(&m, 0, 1, 4));
    }
}
