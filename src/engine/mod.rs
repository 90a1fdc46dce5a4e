//! The Monte Carlo engine: one run of the individual-level model.
//!
//! Each area is simulated on its own, cycles outer and clients inner: the clients of an area live in one
//! vector of packed words (`id << 24 | cell`, the cell of its state and time in state in the
//! area's transition table, the time kept up to where the rows stop changing), so a cycle is one pass over contiguous memory with one load and at most one store
//! per client. The random numbers of a cycle's clients are drawn first, many at a time
//! ([`crate::rng::Key::u32s_at`]). Clients who are absorbed (outflow) are dropped from the vector in the
//! same pass, keeping the survivors in order.
//!
//! Order of events in cycle `c` (documented in the README):
//! 1. for `c > 0`: under a capacity limit, waiting clients are admitted in order of waiting while the
//!    limit has room (all of them once no limit applies); then every other client present in cycle
//!    `c - 1` draws its transition, with the row that applies to cycle `c - 1` and its cycles in state
//!    (counting cycle `c - 1`). A move into a limited state that the limit cannot carry is not made: a
//!    client who already receives limited care stays where it is, any other client waits in the
//!    waiting status for the state it needs;
//! 2. new clients of cycle `c` arrive in their entry state (in a budget area a share goes to the
//!    prevention state; a new client the limit cannot carry waits);
//! 3. the caseload of cycle `c` is counted (absorbing states count everyone ever absorbed) and, in a
//!    budget area, the holder's spend of the cycle is booked in its pool's book.
//!
//! Areas are simulated one calendar year at a time, in model order: budget pools settle their year when
//! all their areas have booked it, and a surplus reinvested in prevention changes the next year's
//! inflow (the one feedback of a budget; needed care is never refused for want of money).
//!
//! Random numbers (see [`crate::rng`]): a client's transition at the end of cycle `c` is number `id` of the
//! stream `(seed, run, area, c, Transition)`; so a client draws the same number in every arm where it
//! exists, whatever the other clients do.
//!
//! What happens to each client can be followed with a [`Recorder`] ([`simulate_recorded`]): the engine
//! is generic over it, and [`simulate`] uses [`NoRecord`], whose calls compile away.

pub mod budget;
pub mod cohort;
mod stays;

use crate::engine::budget::{Book, BudgetYear, holder_spend};
use crate::model::{Capacity, Model, RENEW, Transitions};
use crate::rng::{Key, Purpose, poisson};

/// The engine that computes a run's results, as `manifest.json` records it (`engine`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Individual clients, many runs: spread and probabilities (`monte_carlo`).
    #[default]
    MonteCarlo,
    /// Expected values (probability mass, [`cohort`]): exact means without budget feedback, no
    /// spread (`cohort`).
    Cohort,
}

impl Engine {
    /// Its name in the manifest and the report: `monte_carlo` or `cohort`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::MonteCarlo => "monte_carlo",
            Engine::Cohort => "cohort",
        }
    }
}

/// Largest number of new clients per area and cycle (ids are packed into 20 bits).
const MAX_PER_CYCLE: u32 = (1 << 20) - 1;

/// The time in state a client's word keeps: at most `cap - 1` of its area's table (at least 1), where
/// one more cycle reaches the table's last cell (`cap` or more), so rows no longer change. The cell of
/// a client is then `state * (cap + 1) + time + 1` without a bound check, and is the cell of its true
/// time.
#[inline(always)]
fn top(tr: &Transitions) -> u64 {
    debug_assert!(
        tr.cap() >= 1,
        "a compiled table's time-in-state cap is at least 1"
    );
    u64::from(tr.cap().max(1)) - 1
}

/// What happened in one area in one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AreaTrace {
    /// `counts[c * n + s]`: clients in state `s` during cycle `c` (absorbing: cumulative).
    pub counts: Vec<u32>,
    /// `moves[(c * (n + 1) + from) * (n + 1) + to]`: clients who entered their state at the start of
    /// cycle `c`: `from == n` is inflow, `to == n` a renewal of the `from` indication.
    pub moves: Vec<u32>,
    /// Clients in each state after a transition at the end of the last cycle (for rewards counted at
    /// the end of a cycle; no new clients, no admissions).
    pub final_counts: Vec<u32>,
    /// In a budget area: `spend[c]`, what the budget holder spends in cycle `c` as booked in its
    /// pool's book ([`holder_spend`]; 0 outside the pilot period). Empty elsewhere.
    pub spend: Vec<f64>,
}

impl AreaTrace {
    /// Becomes a copy of `other`, in the room it has (no allocation once it is large enough).
    fn copy_from(&mut self, other: &AreaTrace) {
        self.counts.clone_from(&other.counts);
        self.moves.clone_from(&other.moves);
        self.final_counts.clone_from(&other.final_counts);
        self.spend.clone_from(&other.spend);
    }

    /// Its counts and moves, as the reduction reads them.
    pub fn view(&self) -> AreaView<'_, u32> {
        AreaView {
            counts: &self.counts,
            moves: &self.moves,
            final_counts: &self.final_counts,
            spend: (!self.spend.is_empty()).then_some(self.spend.as_slice()),
        }
    }
}

/// What happened in one run of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTrace {
    /// Per area, in model order.
    pub areas: Vec<AreaTrace>,
    /// Per budget pool of the arm ([`crate::model::regime::Arm::pools`]): its budget years.
    pub pools: Vec<Vec<BudgetYear>>,
    /// Client-cycles simulated (clients present in non-absorbing states, summed over cycles).
    pub client_cycles: u64,
}

/// A client's word: its id and its cell of a cycle's transition table (below `2^24`: at most 255
/// states of at most 65,536 cells each).
#[inline(always)]
fn pack(id: u64, cell: u64) -> u64 {
    (id << 24) | cell
}

/// The cell of a client's word.
#[inline(always)]
fn cell_of(w: u64) -> usize {
    (w & 0xFF_FFFF) as usize
}

/// A client waiting for a place: its id and the state it waits for.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    id: u64,
    to: usize,
}

/// The capacity limits that bind an area in a cycle, and their loads.
#[derive(Debug, Default)]
struct Limits<'m> {
    /// The binding limits and the area's limit of each.
    caps: Vec<(&'m Capacity, f64)>,
    /// Per limit: the load of the area's caseload.
    loads: Vec<f64>,
    /// Per state: whether some binding limit covers it.
    limited: Vec<bool>,
    /// The waiting status.
    waiting: usize,
}

impl Limits<'_> {
    /// Whether a move `from` → `to` (`n` = outside: inflow or a renewal) fits every limit.
    #[inline]
    fn fits(&self, from: usize, to: usize) -> bool {
        self.caps
            .iter()
            .zip(&self.loads)
            .all(|(&(cap, limit), &load)| {
                let d = cap.load.get(to).copied().unwrap_or(0.0)
                    - cap.load.get(from).copied().unwrap_or(0.0);
                d <= 0.0 || load + d <= limit + 1e-9
            })
    }

    /// Records a move in the loads.
    #[inline]
    fn apply(&mut self, from: usize, to: usize) {
        for ((cap, _), load) in self.caps.iter().zip(&mut self.loads) {
            *load += cap.load.get(to).copied().unwrap_or(0.0)
                - cap.load.get(from).copied().unwrap_or(0.0);
        }
    }
}

/// Follows the clients of one run of one arm as the engine moves them (for client histories).
///
/// Areas are simulated a calendar year at a time, so the calls of different areas interleave; within an
/// area they come in the order of time. Cycle numbers count from the model's start (cycle 0).
pub trait Recorder {
    /// Client `id` of area `a` is in `state` from the start of cycle `start`: a new client (also one
    /// who arrives in the waiting status), or a client present at the model start, who had spent
    /// `-start` cycles in its state by then (`start <= 0`).
    fn enter(&mut self, a: usize, id: u64, state: usize, start: i64);
    /// Client `id` of area `a` leaves `from` after cycle `last`, its last cycle there, for `to` from
    /// cycle `last + 1` on: a state (absorbing or not, the waiting status included), or
    /// `n_states` for a renewal (a new indication of `from`). Moves after the last cycle are not
    /// reported (they lie beyond the horizon).
    fn moved(&mut self, a: usize, id: u64, last: usize, from: usize, to: usize);

    /// Whether the recorder hears anything (one that does hears every move in the clients' order).
    const HEARS: bool = true;
}

/// The recorder that records nothing: its calls compile away.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecord;

impl Recorder for NoRecord {
    const HEARS: bool = false;
    #[inline(always)]
    fn enter(&mut self, _: usize, _: u64, _: usize, _: i64) {}
    #[inline(always)]
    fn moved(&mut self, _: usize, _: u64, _: usize, _: usize, _: usize) {}
}

/// Simulates run `run` of arm `arm` of `model` with master seed `seed`.
pub fn simulate(model: &Model, arm: usize, seed: u64, run: u32) -> RunTrace {
    simulate_recorded(model, arm, seed, run, &mut NoRecord)
}

/// [`simulate`], telling `rec` where every client is (the same run: recording changes nothing).
pub fn simulate_recorded<R: Recorder>(
    model: &Model,
    arm: usize,
    seed: u64,
    run: u32,
    rec: &mut R,
) -> RunTrace {
    let all = vec![true; model.areas.len()];
    let (areas, cycles, pools) = simulate_areas(
        &Prepared::of_arms(model, |j| j == arm),
        (arm, seed, run),
        &all,
        rec,
        &mut Room::default(),
    );
    RunTrace {
        areas: areas
            .into_iter()
            .map(|t| t.expect("every area is simulated"))
            .collect(),
        pools,
        client_cycles: cycles.iter().sum(),
    }
}

/// For every arm and area: the earlier arm whose simulation of the area this arm's repeats exactly
/// (the first such arm), or `None` when the arm must simulate the area itself.
///
/// Two arms simulate an area alike when neither puts it under a regime (so no regime rows, no
/// prevention and no budget book whose other areas could feed back on it) and the same capacity limits
/// apply to it in both (a limit counts the area's own caseload only). Nothing else in an area's
/// simulation depends on the arm: its random numbers are keyed by run, area, cycle, purpose and client
/// (common random numbers), its starting clients and inflow are the model's. Decided from the compiled
/// model, so whatever the names say, areas are shared only when their traces must be equal.
pub fn twins(model: &Model) -> Vec<Vec<Option<usize>>> {
    let alike = |i: usize, j: usize, a: usize| {
        model.arms[i].plans[a].is_none()
            && model.arms[j].plans[a].is_none()
            && model
                .capacities
                .iter()
                .filter(|cap| cap.areas[a])
                .all(|cap| cap.arms[i] == cap.arms[j])
    };
    (0..model.arms.len())
        .map(|j| {
            (0..model.areas.len())
                .map(|a| (0..j).find(|&i| alike(i, j, a)))
                .collect()
        })
        .collect()
}

/// Simulates run `run` of every arm of `model`: the traces [`simulate`] gives arm by arm, but an area
/// an earlier arm simulates alike ([`twins`]) is simulated once and its trace shared. In a pilot
/// scenario that is every area outside the pilot, most of a pilot arm's work.
pub fn simulate_arms(model: &Model, seed: u64, run: u32) -> Vec<RunTrace> {
    simulate_prepared(&Prepared::new(model), seed, run)
}

/// What every run of a model needs and no run changes, derived once: which areas the arms share
/// ([`twins`]), which states absorb, and every arm's budget books as they open.
#[derive(Debug, Clone)]
pub struct Prepared<'m> {
    model: &'m Model,
    twins: Vec<Vec<Option<usize>>>,
    absorbing: Vec<bool>,
    /// Per arm, per pool: the book before the first cycle.
    books: Vec<Vec<Book>>,
}

impl<'m> Prepared<'m> {
    /// Derives the run-invariant tables of `model`.
    pub fn new(model: &'m Model) -> Prepared<'m> {
        Prepared {
            twins: twins(model),
            ..Prepared::of_arms(model, |_| true)
        }
    }

    /// The tables of the arms `arm` selects only (the others get no books), without [`twins`].
    fn of_arms(model: &'m Model, arm: impl Fn(usize) -> bool) -> Prepared<'m> {
        Prepared {
            model,
            twins: Vec::new(),
            absorbing: model.states.iter().map(|s| s.absorbing).collect(),
            books: (0..model.arms.len())
                .map(|j| {
                    (0..model.arms[j].pools.len())
                        .filter(|_| arm(j))
                        .map(|p| Book::new(model, j, p))
                        .collect()
                })
                .collect(),
        }
    }

    /// The model it was derived from.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Which areas the arms share ([`twins`]): the traces of [`simulate_prepared`] are equal there.
    pub fn twins(&self) -> &[Vec<Option<usize>>] {
        &self.twins
    }
}

/// [`simulate_arms`] with the model's run-invariant tables derived beforehand (once for many runs).
pub fn simulate_prepared(prep: &Prepared, seed: u64, run: u32) -> Vec<RunTrace> {
    let mut room = Room::default();
    simulate_into(prep, seed, run, &mut room);
    room.traces
}

/// Room a worker reuses from run to run ([`simulate_into`]): the traces of its last run, and the
/// scratch of the areas it simulated, so that a run of a batch allocates (and the system clears) no
/// memory of its own once the room is large enough. What the room holds changes no result: a run
/// overwrites all of it.
#[derive(Debug, Default)]
pub struct Room {
    /// The traces of the last run, in arm order.
    traces: Vec<RunTrace>,
    /// Area traces not in use.
    spare: Vec<AreaTrace>,
    /// The scratch of areas not being simulated.
    scratch: Vec<Scratch>,
}

impl Room {
    /// An area trace not in use (its contents stale).
    fn trace(&mut self) -> AreaTrace {
        self.spare.pop().unwrap_or_default()
    }
}

/// [`simulate_prepared`] in `room`: the traces of every arm, in the room until its next run.
pub fn simulate_into<'r>(
    prep: &Prepared,
    seed: u64,
    run: u32,
    room: &'r mut Room,
) -> &'r [RunTrace] {
    let model = prep.model;
    let mut traces = std::mem::take(&mut room.traces);
    for t in traces.drain(..) {
        room.spare.extend(t.areas);
    }
    let mut area_cycles: Vec<Vec<u64>> = Vec::with_capacity(model.arms.len());
    for (arm, twin) in prep.twins.iter().enumerate() {
        let todo: Vec<bool> = twin.iter().map(Option::is_none).collect();
        let (areas, mut cycles, pools) =
            simulate_areas(prep, (arm, seed, run), &todo, &mut NoRecord, room);
        let areas = areas
            .into_iter()
            .zip(twin)
            .enumerate()
            .map(|(a, (trace, twin))| match (trace, twin) {
                (Some(t), _) => t,
                (None, &Some(i)) => {
                    cycles[a] = area_cycles[i][a];
                    let mut t = room.trace();
                    t.copy_from(&traces[i].areas[a]);
                    t
                }
                (None, None) => unreachable!("an area without a twin is simulated"),
            })
            .collect();
        traces.push(RunTrace {
            areas,
            pools,
            client_cycles: cycles.iter().sum(),
        });
        area_cycles.push(cycles);
    }
    room.traces = traces;
    &room.traces
}

/// Per area its trace (`None` when left out) and its client-cycles; per budget pool its years.
type Areas = (Vec<Option<AreaTrace>>, Vec<u64>, Vec<Vec<BudgetYear>>);

/// A run of the areas `todo` of one arm (the others are left out): every pool's areas must be in it.
fn simulate_areas<R: Recorder>(
    prep: &Prepared,
    (arm, seed, run): (usize, u64, u32),
    todo: &[bool],
    rec: &mut R,
    room: &mut Room,
) -> Areas {
    let model = prep.model;
    let key = Model::run_key(seed, run);
    let absorbing = &prep.absorbing;
    let mut sims: Vec<AreaSim> = (0..model.areas.len())
        .filter(|&a| todo[a])
        .map(|a| {
            let parts = (room.scratch.pop().unwrap_or_default(), room.trace());
            AreaSim::new(model, arm, key.child(a as u64), a, rec, parts)
        })
        .collect();
    let mut books: Vec<Book> = prep.books[arm].clone();
    let cycles = model.cycles as usize;
    let mut c0 = 0;
    while c0 < cycles {
        let y = model.year_index(c0 as u32);
        let c1 = (c0..cycles)
            .find(|&c| model.year_index(c as u32) != y)
            .unwrap_or(cycles);
        for sim in &mut sims {
            let mut book = sim.plan.map(|p| &mut books[p.pool]);
            for c in c0..c1 {
                sim.step(c, absorbing, book.as_deref_mut(), rec);
            }
        }
        for book in &mut books {
            for c in c0..c1 {
                book.settle(c);
            }
        }
        c0 = c1;
    }
    let mut areas: Vec<Option<AreaTrace>> = vec![None; model.areas.len()];
    let mut client_cycles = vec![0; model.areas.len()];
    for mut sim in sims {
        sim.finish(absorbing);
        client_cycles[sim.a] = sim.client_cycles;
        areas[sim.a] = Some(sim.trace);
        room.scratch.push(sim.s);
    }
    (
        areas,
        client_cycles,
        books.into_iter().map(|b| b.years).collect(),
    )
}

fn initial_clients<R: Recorder>(
    model: &Model,
    (arm, a): (usize, usize),
    key: Key,
    clients: &mut Vec<u64>,
    count: &mut [u32],
    rec: &mut R,
) {
    let init = key.purpose(Purpose::InitialTime);
    let tr = model.table(arm, a);
    let top = top(tr);
    let mut j = 0u64;
    for (s, &k) in model.areas[a].initial.iter().enumerate() {
        let spread = &model.areas[a].initial_time[s];
        for _ in 0..k {
            let t = spread.draw(init.child(j));
            clients.push(pack(j, tr.cell(s, u64::from(t).min(top) + 1)));
            rec.enter(a, j, s, -i64::from(t));
            j += 1;
        }
        count[s] += k;
    }
}

/// Moves a client's counts and records the move (`to == n`: renewal).
#[inline]
pub(super) fn record(count: &mut [u32], moves: &mut [u32], n: usize, from: usize, to: usize) {
    moves[from * (n + 1) + to] += 1;
    if to != n {
        if from < n {
            count[from] -= 1;
        }
        count[to] += 1;
    }
}

/// The working room of one area's simulation, reused from run to run ([`Room`]).
#[derive(Debug, Default)]
struct Scratch {
    clients: Vec<u64>,
    queue: Vec<Waiting>,
    admitted: Vec<Waiting>,
    /// The clients' transition numbers of a cycle.
    draws: Vec<u32>,
    /// The scratch of a cycle's pass when the clients' order matters to nothing.
    aside: stays::Aside,
    count: Vec<u32>,
    /// The moves of the transition after the last cycle (beyond the horizon: not kept).
    beyond: Vec<u32>,
}

/// One area of one run, simulated a cycle at a time.
struct AreaSim<'m> {
    model: &'m Model,
    arm: usize,
    a: usize,
    key: Key,
    tr: &'m Transitions,
    plan: Option<&'m crate::model::regime::Plan>,
    /// The capacity limits of the area in this arm (binding or not).
    caps: Vec<&'m Capacity>,
    /// The room of the limits binding in a cycle (reused from cycle to cycle).
    binding: Limits<'m>,
    /// The clients, the waiting queue, the counts by state and the scratch of a cycle.
    s: Scratch,
    trace: AreaTrace,
    client_cycles: u64,
}

impl<'m> AreaSim<'m> {
    /// Area `a` of arm `arm` at the model's start, in the room `(s, trace)` (their contents stale).
    fn new<R: Recorder>(
        model: &'m Model,
        arm: usize,
        key: Key,
        a: usize,
        rec: &mut R,
        (mut s, mut trace): (Scratch, AreaTrace),
    ) -> Self {
        let n = model.n_states();
        let n1 = n + 1;
        let cycles = model.cycles as usize;
        s.clients.clear();
        s.queue.clear();
        s.admitted.clear();
        s.count.clear();
        s.count.resize(n, 0);
        initial_clients(model, (arm, a), key, &mut s.clients, &mut s.count, rec);
        // Counts are written every cycle, and a cycle's moves are zeroed when it starts (in cache,
        // just before they are added to): what the room held before is never read.
        trace.counts.resize(cycles * n, 0);
        trace.moves.resize(cycles * n1 * n1, 0);
        trace.final_counts.clear();
        let plan = model.arms[arm].plans[a].as_ref();
        trace.spend.clear();
        if plan.is_some() {
            trace.spend.resize(cycles, 0.0);
        }
        AreaSim {
            model,
            arm,
            a,
            key,
            tr: model.table(arm, a),
            plan,
            caps: model
                .capacities
                .iter()
                .filter(|cap| cap.arms[arm] && cap.areas[a])
                .collect(),
            binding: Limits::default(),
            s,
            trace,
            client_cycles: 0,
        }
    }

    /// The limits binding in cycle `c`, with the loads of the caseload at its start, in `l` (its
    /// room reused from cycle to cycle): whether any binds. Which limits bind changes only where a
    /// limit's period starts or ends, so the binding limits and the states they cover are rebuilt only
    /// then; the loads are summed every cycle.
    fn limits(&self, c: usize, l: &mut Limits<'m>) -> bool {
        if self.caps.is_empty() {
            return false;
        }
        let (arm, a) = (self.arm, self.a);
        let binding = self.caps.iter().filter(|cap| cap.applies(arm, a, c));
        let as_before = binding
            .clone()
            .map(|&cap| std::ptr::from_ref(cap))
            .eq(l.caps.iter().map(|&(cap, _)| std::ptr::from_ref(cap)));
        if !as_before {
            l.caps.clear();
            l.caps.extend(binding.map(|&cap| (cap, cap.limit[a])));
            let n = self.s.count.len();
            l.limited.clear();
            l.limited
                .extend((0..n).map(|s| l.caps.iter().any(|(cap, _)| cap.load[s] > 0.0)));
            l.waiting = self
                .model
                .waiting_state
                .expect("a scenario with capacity limits has a waiting status");
        }
        if l.caps.is_empty() {
            return false;
        }
        let count = &self.s.count;
        l.loads.clear();
        l.loads.extend(l.caps.iter().map(|(cap, _)| {
            // Summed in the order of the states, a fixed order.
            count
                .iter()
                .zip(&cap.load)
                .map(|(&k, &load)| f64::from(k) * load)
                .sum::<f64>()
        }));
        true
    }

    /// Simulates cycle `c`; `book` is the budget book of the area's pool.
    fn step<R: Recorder>(
        &mut self,
        c: usize,
        absorbing: &[bool],
        mut book: Option<&mut Book>,
        rec: &mut R,
    ) {
        let model = self.model;
        let n = model.n_states();
        let n1 = n + 1;
        self.trace.moves[c * n1 * n1..(c + 1) * n1 * n1].fill(0);
        let mut binding = std::mem::take(&mut self.binding);
        let mut limits = self.limits(c, &mut binding).then_some(&mut binding);
        if c > 0 {
            self.transitions(c, absorbing, limits.as_deref_mut(), rec);
        }
        let prevent = prevention(model, self.plan, c, book.as_deref_mut());
        inflow(
            model,
            self.tr,
            self.key,
            self.a,
            c,
            prevent,
            limits,
            &mut self.s.queue,
            &mut self.s.count,
            &mut self.trace.moves[c * n1 * n1..(c + 1) * n1 * n1],
            &mut self.s.clients,
            rec,
        );
        self.binding = binding;
        self.trace.counts[c * n..(c + 1) * n].copy_from_slice(&self.s.count);
        if let (Some(b), Some(p)) = (book, self.plan)
            && p.active(c)
        {
            let spend = holder_spend(
                model,
                p,
                self.a,
                c,
                model.costs_for(Some(p)),
                &self.trace.counts[c * n..(c + 1) * n],
                &self.trace.moves[c * n1 * n1..(c + 1) * n1 * n1],
            );
            b.book(c, spend);
            self.trace.spend[c] = spend;
        }
        self.client_cycles += self.s.clients.len() as u64;
    }

    /// The start of cycle `c > 0`: waiting clients admitted (under `limits`) or released (once no
    /// limit binds), then every other client's transition at the end of cycle `c - 1`.
    fn transitions<R: Recorder>(
        &mut self,
        c: usize,
        absorbing: &[bool],
        mut limits: Option<&mut Limits>,
        rec: &mut R,
    ) {
        let model = self.model;
        let n = model.n_states();
        let n1 = n + 1;
        let moves = &mut self.trace.moves[c * n1 * n1..(c + 1) * n1 * n1];
        match limits.as_deref_mut() {
            Some(l) => admit(
                l,
                n,
                &mut self.s.queue,
                &mut self.s.count,
                moves,
                &mut self.s.admitted,
                (self.a, c, rec),
            ),
            None if !self.s.queue.is_empty() => release(
                &mut self.s.queue,
                &mut self.s.count,
                moves,
                &mut self.s.admitted,
                model,
                (self.a, c, rec),
            ),
            None => {}
        }
        transition_pass(
            self.tr,
            absorbing,
            self.key,
            c,
            limits,
            (&mut self.s.clients, &mut self.s.draws),
            self.caps.is_empty().then_some(&mut self.s.aside),
            &mut self.s.queue,
            &mut self.s.count,
            moves,
            (self.a, rec),
        );
        let tr = self.tr;
        self.s.clients.extend(
            self.s
                .admitted
                .drain(..)
                .map(|wt| pack(wt.id, tr.cell(wt.to, 1))),
        );
    }

    /// The transition at the end of the last cycle (for rewards counted at the end of a cycle). It lies
    /// beyond the horizon: no recorder hears of it.
    fn finish(&mut self, absorbing: &[bool]) {
        let n = self.model.n_states();
        self.s.beyond.clear();
        self.s.beyond.resize((n + 1) * (n + 1), 0);
        transition_pass(
            self.tr,
            absorbing,
            self.key,
            self.model.cycles as usize,
            None,
            (&mut self.s.clients, &mut self.s.draws),
            Some(&mut self.s.aside),
            &mut self.s.queue,
            &mut self.s.count,
            &mut self.s.beyond,
            (self.a, &mut NoRecord),
        );
        self.trace.final_counts.extend_from_slice(&self.s.count);
    }
}

/// The share of cycle `c`'s new clients that go to prevention under `plan`, and its state: the
/// regime's share as it ramps up, plus what a reinvested surplus buys (`book`, the pool's budget
/// book); none outside a pilot.
fn prevention(
    model: &Model,
    plan: Option<&crate::model::regime::Plan>,
    c: usize,
    book: Option<&mut Book>,
) -> (f64, usize) {
    match plan {
        Some(p) if p.active(c) => {
            let r = &model.regimes[p.regime];
            let extra = book.map_or(0.0, |b| b.extra_prevention(c));
            (
                (r.prevention * r.ramp(c as u32 - p.start) + extra).min(1.0),
                r.prevention_state,
            )
        }
        _ => (0.0, 0),
    }
}

/// Draws the transition of every client at the end of cycle `c - 1`. Under capacity `limits`, a move
/// the limits cannot carry is not made: the client stays if it is in a limited state, and otherwise
/// waits (it joins `queue` in the waiting status). Absorbed and waiting clients leave `clients`;
/// survivors keep their order. `rec` hears of every move, of the clients of area `a`.
#[allow(clippy::too_many_arguments)]
fn transition_pass<R: Recorder>(
    tr: &Transitions,
    absorbing: &[bool],
    key: Key,
    c: usize,
    limits: Option<&mut Limits>,
    (clients, draws): (&mut Vec<u64>, &mut Vec<u32>),
    order_free: Option<&mut stays::Aside>,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    (a, rec): (usize, &mut R),
) {
    let stride = tr.cycle_stride(absorbing.len());
    let tkey = key.child(c as u64 - 1).purpose(Purpose::Transition);
    let stay = &tr.stay_step()[(c - 1) * stride..c * stride];
    let mut mover = Mover {
        tr,
        cell_state: tr.cell_state(),
        row_of: &tr.row_of()[(c - 1) * stride..c * stride],
        absorbing,
        c,
        limits,
        queue,
        count,
        moves,
        a,
        rec,
    };
    if let Some(aside) = order_free.filter(|_| mover.limits.is_none() && !R::HEARS) {
        // The clients' order matters to nothing (no capacity limit counts them, no recorder hears
        // them): the stays are decided without a branch, then the movers move and the survivors
        // among them join the end. Counts and moves are sums: the same as in order, bit for bit.
        let row_of = mover.row_of;
        aside.pass(
            tkey,
            (tr, row_of, stay, absorbing),
            (clients, draws),
            mover.count,
            mover.moves,
        );
        return;
    }
    // Every client's number first (independent of each other: many per instruction), then the
    // moves, which depend on the order of the clients (capacity limits, waiting). The common case, a
    // stay, is one load and one compare; a move is the mover's (out of line, so the loop keeps its
    // values in registers).
    draws.resize(clients.len(), 0);
    tkey.u32s_at(clients, 24, draws);
    let draws = &draws[..clients.len()];
    let mut kept = 0;
    for i in 0..clients.len() {
        let w = clients[i];
        let u = draws[i];
        let step = stay[cell_of(w)];
        if (u64::from(u) << 1 | 1) < step {
            clients[kept] = w + (step & 1);
            kept += 1;
        } else if let Some(w) = mover.moved(w, u, step) {
            clients[kept] = w;
            kept += 1;
        }
    }
    clients.truncate(kept);
}

/// What the move of a client at the end of cycle `c - 1` needs: the cycle's table, the capacity
/// limits, the waiting queue, the counts and moves of the area `a`, and the recorder.
struct Mover<'t, 'l, 'm, R> {
    tr: &'t Transitions,
    /// `tr`'s state of each cell, taken once a pass.
    cell_state: &'t [u8],
    row_of: &'t [u32],
    absorbing: &'t [bool],
    c: usize,
    limits: Option<&'l mut Limits<'m>>,
    queue: &'t mut Vec<Waiting>,
    count: &'t mut [u32],
    moves: &'t mut [u32],
    a: usize,
    rec: &'t mut R,
}

impl<R: Recorder> Mover<'_, '_, '_, R> {
    /// Moves the client of word `w`, whose number `u` is at or above its stay threshold (`step` its
    /// cell's entry): its new word, or `None` if it leaves the clients (absorbed or waiting).
    #[inline(never)]
    fn moved(&mut self, w: u64, u: u32, step: u64) -> Option<u64> {
        let n = self.absorbing.len();
        let (tr, c, a) = (self.tr, self.c, self.a);
        let cell = cell_of(w);
        let s = usize::from(self.cell_state[cell]);
        let to = tr.pick(self.row_of[cell] as usize, u);
        let to = if to == RENEW { n } else { usize::from(to) };
        let id = w >> 24;
        if let Some(l) = self.limits.as_deref_mut() {
            let dest = if to == n { s } else { to };
            if !l.fits(s, dest) {
                if l.limited[s] {
                    // Already in limited care: stays, and is reviewed again next cycle.
                    return Some(w + (step & 1));
                }
                record(self.count, self.moves, n, s, l.waiting);
                self.rec.moved(a, id, c - 1, s, l.waiting);
                self.queue.push(Waiting { id, to });
                return None;
            }
            l.apply(s, dest);
        }
        record(self.count, self.moves, n, s, to);
        self.rec.moved(a, id, c - 1, s, to);
        if to == n {
            Some(pack(id, tr.cell(s, 1)))
        } else if !self.absorbing[to] {
            Some(pack(id, tr.cell(to, 1)))
        } else {
            None
        }
    }
}

/// Admits waiting clients, in order of waiting, while the limits have room (first fit), at the start
/// of cycle `c` (they wait until the end of cycle `c - 1`).
fn admit<R: Recorder>(
    l: &mut Limits,
    n: usize,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    admitted: &mut Vec<Waiting>,
    (a, c, rec): (usize, usize, &mut R),
) {
    let w = l.waiting;
    queue.retain(|wt| {
        if !l.fits(w, wt.to) {
            return true;
        }
        l.apply(w, wt.to);
        record(count, moves, n, w, wt.to);
        rec.moved(a, wt.id, c - 1, w, wt.to);
        admitted.push(*wt);
        false
    });
}

/// Admits every waiting client, in order of waiting, once no limit binds (at the start of cycle `c`).
fn release<R: Recorder>(
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    admitted: &mut Vec<Waiting>,
    model: &Model,
    (a, c, rec): (usize, usize, &mut R),
) {
    let n = model.n_states();
    let w = model
        .waiting_state
        .expect("clients wait only when there is a waiting status");
    for wt in queue.drain(..) {
        record(count, moves, n, w, wt.to);
        rec.moved(a, wt.id, c - 1, w, wt.to);
        admitted.push(wt);
    }
}

/// New clients of cycle `c`: Poisson count, entry state, prevention (a share `prevent_below` goes to
/// state `ws`) and, under capacity `limits`, waiting (a new client the limits cannot carry waits).
#[allow(clippy::too_many_arguments)]
fn inflow<R: Recorder>(
    model: &Model,
    tr: &Transitions,
    key: Key,
    a: usize,
    c: usize,
    (prevent_below, ws): (f64, usize),
    mut limits: Option<&mut Limits>,
    queue: &mut Vec<Waiting>,
    count: &mut [u32],
    moves: &mut [u32],
    clients: &mut Vec<u64>,
    rec: &mut R,
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
        if let Some(l) = limits.as_deref_mut() {
            if !l.fits(n, s) {
                record(count, moves, n, n, l.waiting);
                rec.enter(a, id, l.waiting, c as i64);
                queue.push(Waiting { id, to: s });
                continue;
            }
            l.apply(n, s);
        }
        record(count, moves, n, n, s);
        rec.enter(a, id, s, c as i64);
        clients.push(pack(id, tr.cell(s, 1)));
    }
}

/// One area's counts and moves, as simulated (`u32`) or expected (`f64`).
#[derive(Debug, Clone, Copy)]
pub struct AreaView<'a, T> {
    /// As [`AreaTrace::counts`].
    pub counts: &'a [T],
    /// As [`AreaTrace::moves`].
    pub moves: &'a [T],
    /// Occupancy after the last transition.
    pub final_counts: &'a [T],
    /// As [`AreaTrace::spend`], where the engine booked it (`None`: to be computed from the counts).
    pub spend: Option<&'a [f64]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;

    #[test]
    fn the_engine_is_written_in_the_manifest_by_its_name_and_read_back() {
        for e in [Engine::MonteCarlo, Engine::Cohort] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.name()));
            assert_eq!(serde_json::from_str::<Engine>(&json).unwrap(), e);
        }
        assert_eq!(Engine::MonteCarlo.name(), "monte_carlo");
        assert_eq!(Engine::Cohort.name(), "cohort");
        assert!(serde_json::from_str::<Engine>("\"montecarlo\"").is_err());
    }

    /// A recorder that hears every move: the engine then keeps every area's clients in order.
    #[derive(Default)]
    struct Tally(u64);

    impl Recorder for Tally {
        fn enter(&mut self, _: usize, _: u64, _: usize, _: i64) {}
        fn moved(&mut self, _: usize, _: u64, _: usize, _: usize, _: usize) {
            self.0 += 1;
        }
    }

    #[test]
    fn the_order_free_pass_gives_the_ordered_pass_results_bit_for_bit() {
        // Without a recorder, areas without capacity limits (and every area's last transition)
        // decide stays without a branch and move their movers last; with one, every area keeps
        // its clients in order. Counts, moves and budgets must not see the difference: in the
        // default (limited and unlimited areas, budgets) and in a plain Markov model.
        let sick = crate::scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/sick_sicker.toml"
        )))
        .unwrap()
        .model;
        for model in [default_scenario().model, sick] {
            for arm in 0..model.arms.len() {
                for run in 0..4 {
                    let mut rec = Tally::default();
                    let ordered = simulate_recorded(&model, arm, 7, run, &mut rec);
                    assert!(rec.0 > 0, "the recorder heard moves");
                    assert_eq!(
                        simulate(&model, arm, 7, run),
                        ordered,
                        "arm {arm}, run {run}"
                    );
                }
            }
        }
    }

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

    /// The default scenario with `capacities` (TOML) in place of its capacity limit.
    fn with_capacities(capacities: &str) -> Model {
        let text = crate::scenario::DEFAULT_TEXT;
        let cut = text
            .find("\n[[capacity]]")
            .expect("the default has a capacity")
            + 1;
        let end = cut + text[cut..].find("\n\n").expect("a blank line after it");
        let text = format!("{}{}{}", &text[..cut], capacities, &text[end..]);
        crate::scenario::from_text("capacities.toml", &text)
            .unwrap()
            .model
    }

    /// The clients in the states limit `cap` covers, in cycle `c` of an area's `trace`.
    fn in_limited_care(m: &Model, cap: usize, trace: &AreaTrace, c: usize) -> u32 {
        let n = m.n_states();
        trace.counts[c * n..(c + 1) * n]
            .iter()
            .zip(&m.capacities[cap].load)
            .map(|(&k, &l)| if l > 0.0 { k } else { 0 })
            .sum()
    }

    /// Two limits one after the other on the same states of an area (its starting caseload in them
    /// up to 2022, two more from 2023): each holds in its own period, so the area's binding limit is
    /// the second one once the first ends (its room rebuilt where the periods meet), and the second
    /// lets in clients the first held back.
    #[test]
    fn a_limit_that_follows_another_binds_with_its_own_limit() {
        let default = crate::scenario::default_scenario().model;
        let a = (0..default.areas.len())
            .find(|&a| default.capacities[0].areas[a])
            .unwrap();
        let start: u32 = default.areas[a].initial.iter().take(2).sum();
        let m = with_capacities(&format!(
            r#"[[capacity]]
name = "first"
areas = ["{area}"]
states = ["BTS", "BT"]
clients = {start}
until = "2022-12"

[[capacity]]
name = "then"
areas = ["{area}"]
states = ["BTS", "BT"]
clients = {more}
from = "2023-01"
"#,
            area = default.areas[a].name,
            more = start + 2,
        ));
        let (n, w) = (m.n_states(), m.waiting_state.expect("a waiting status"));
        let absorbing: Vec<bool> = m.states.iter().map(|s| s.absorbing).collect();
        let (mut most, mut waiting) = ([0; 2], [0; 2]);
        for run in 0..5 {
            let key = Model::run_key(3, run).child(a as u64);
            let room = (Scratch::default(), AreaTrace::default());
            let mut sim = AreaSim::new(&m, 0, key, a, &mut NoRecord, room);
            for c in 0..36 {
                sim.step(c, &absorbing, None, &mut NoRecord);
                let limited = in_limited_care(&m, 0, &sim.trace, c);
                let year = usize::from(c >= 24);
                most[year] = most[year].max(limited);
                waiting[year] += sim.trace.counts[c * n + w];
            }
        }
        assert!(
            most[0] <= start,
            "the first limit holds up to 2022: {most:?}"
        );
        assert_eq!(
            most[1],
            start + 2,
            "the second limit, not the first, binds in 2023"
        );
        assert!(
            waiting[0] > 0 && waiting[1] > 0,
            "clients wait under both limits: {waiting:?}"
        );
    }

    #[test]
    fn waiting_clients_are_admitted_when_the_limit_ends() {
        // A tight capacity up to 2022-12: clients wait at the end of 2022; from 2023-01 no limit holds
        // anybody back, so every client counted in a live state is simulated again.
        let m = with_capacities(
            r#"[[capacity]]
name = "tight"
municipality = "Noord-Beveland"
states = ["BTS", "BT"]
clients = 3
until = "2022-12"
"#,
        );
        let n = m.n_states();
        let w = m.waiting_state.expect("a waiting status");
        let a = (0..m.areas.len())
            .find(|&a| m.capacities[0].areas[a])
            .unwrap();
        let absorbing: Vec<bool> = m.states.iter().map(|s| s.absorbing).collect();
        let mut waited = 0;
        for run in 0..5 {
            let key = Model::run_key(3, run).child(a as u64);
            let room = (Scratch::default(), AreaTrace::default());
            let mut sim = AreaSim::new(&m, 0, key, a, &mut NoRecord, room);
            for c in 0..m.cycles as usize {
                sim.step(c, &absorbing, None, &mut NoRecord);
                if c < 24 {
                    let limited = in_limited_care(&m, 0, &sim.trace, c);
                    let start: u32 = m.areas[a].initial.iter().take(2).sum();
                    assert!(
                        limited <= 3.max(start),
                        "run {run} cycle {c}: {limited} in limited care"
                    );
                }
            }
            waited += sim.trace.counts[23 * n + w];
            assert_eq!(sim.trace.counts[24 * n + w], 0, "all admitted in 2023-01");
            sim.finish(&absorbing);
            let live: u64 = (0..n)
                .filter(|&s| !m.states[s].absorbing)
                .map(|s| u64::from(sim.trace.final_counts[s]))
                .sum();
            assert_eq!(sim.s.clients.len() as u64, live, "run {run}");
        }
        assert!(waited > 0, "clients wait at the end of the limit");
    }

    #[test]
    fn areas_outside_the_pilot_are_simulated_once_and_give_each_arm_its_own_trace() {
        let m = default_scenario().model;
        let twins = twins(&m);
        assert!(
            twins[0].iter().all(Option::is_none),
            "the first arm simulates all"
        );
        for (a, twin) in twins[1].iter().enumerate() {
            let pilot = m.arms[1].plans[a].is_some();
            assert_eq!(*twin, if pilot { None } else { Some(0) }, "area {a}");
        }
        assert!(twins[1].iter().filter(|t| t.is_some()).count() >= 6);
        for run in 0..4 {
            let shared = simulate_arms(&m, 5, run);
            let alone: Vec<RunTrace> = (0..m.arms.len())
                .map(|arm| simulate(&m, arm, 5, run))
                .collect();
            assert_eq!(shared, alone, "run {run}");
        }
    }

    #[test]
    fn an_area_under_a_limit_of_one_arm_only_is_not_shared() {
        // Goes is under the provider model in both arms, but a tight limit binds it in the pilot arm
        // only: its traces differ, so it must be simulated in each arm.
        let text = crate::scenario::DEFAULT_TEXT;
        let cut = text
            .find("\n[[capacity]]")
            .expect("the default has a capacity")
            + 1;
        let text = format!(
            "{}{}{}",
            &text[..cut],
            r#"[[capacity]]
name = "krap_goes"
municipality = "Goes"
states = ["BTS", "BT"]
clients = 5
arms = ["dorpsbudget_noord_beveland"]

"#,
            &text[cut..]
        );
        let m = crate::scenario::from_text("goes.toml", &text)
            .unwrap()
            .model;
        let goes = m
            .areas
            .iter()
            .position(|a| m.municipalities[a.municipality] == "Goes")
            .unwrap();
        let twins = twins(&m);
        assert_eq!(twins[1][goes], None);
        assert!(twins[1].iter().filter(|t| t.is_some()).count() >= 5);
        let shared = simulate_arms(&m, 5, 0);
        assert_ne!(
            shared[0].areas[goes], shared[1].areas[goes],
            "the limit binds"
        );
        let alone: Vec<RunTrace> = (0..2).map(|arm| simulate(&m, arm, 5, 0)).collect();
        assert_eq!(shared, alone);
    }

    #[test]
    fn a_room_reused_from_run_to_run_gives_every_run_the_traces_of_a_new_room() {
        // A batch's worker simulates run after run in one room, whose vectors still hold the last
        // run's clients, counts and moves, of other sizes when the model changes (a plain Markov
        // model between two runs of the default). No run may see them.
        let m = default_scenario().model;
        let sick = crate::scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/sick_sicker.toml"
        )))
        .unwrap()
        .model;
        let (prep, prep_sick) = (Prepared::new(&m), Prepared::new(&sick));
        let mut room = Room::default();
        for run in [3, 0, 3, 7] {
            let reused = simulate_into(&prep, 5, run, &mut room).to_vec();
            assert_eq!(reused, simulate_prepared(&prep, 5, run), "run {run}");
            let sick_reused = simulate_into(&prep_sick, 5, run, &mut room).to_vec();
            assert_eq!(sick_reused, simulate_prepared(&prep_sick, 5, run));
        }
        // One scratch per area an arm simulates, kept from run to run, not one per run.
        assert_eq!(room.scratch.len(), m.areas.len().max(sick.areas.len()));
    }

    #[test]
    fn same_seed_same_trace_other_seed_differs() {
        let m = default_scenario().model;
        assert_eq!(simulate(&m, 0, 1, 3), simulate(&m, 0, 1, 3));
        assert_ne!(simulate(&m, 0, 1, 3), simulate(&m, 0, 2, 3));
        assert_ne!(simulate(&m, 0, 1, 3), simulate(&m, 0, 1, 4));
    }
}
