//! Client histories: the episodes of individual clients (an uninterrupted stay in one state) in the
//! first runs of every arm, written to `histories.csv` a run at a time while they are simulated.
//!
//! An episode covers whole cycles, from the first cycle in the state to the last. The engine tells an
//! [`Episodes`] recorder ([`crate::engine::Recorder`]) of every entry and move; a client who draws a move
//! at the end of cycle `c` ends its episode in cycle `c` and starts the next in cycle `c + 1`. The move
//! after the last cycle lies beyond the horizon: episodes open in the last cycle are censored. A client
//! present at the start began its episode as many cycles before the start as it had spent in its state
//! (left-truncated). Absorbing states (outflow) have no episodes.
//!
//! The runs are the batch's own: each run simulates the model [`crate::run::batch::run_model`] gives it (with
//! parameter uncertainty, the run's own draws), with the same seed, so the histories are those of the
//! runs in `runs.csv`. Rows are ordered by arm, run, area (model order), client id and start, so the file
//! is the same for any number of threads.

use crate::engine::{self, Recorder};
use crate::error::{Error, Result};
use crate::model::{Model, YearMonth};
use crate::output::Staged;
use crate::scenario::Scenario;
use std::io::Write;

/// The file name.
pub const FILE: &str = "histories.csv";

/// The columns of `histories.csv` (also the import format of `wijksim fit`).
pub const HEADER: [&str; 9] = [
    "arm",
    "run",
    "area",
    "client",
    "state",
    "start",
    "end",
    "end_reason",
    "next_state",
];

/// Why an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndReason {
    /// A move to another non-absorbing state (the waiting status included).
    Transition,
    /// A new indication of the same state (time in state starts again).
    Renewal,
    /// A move into an absorbing state.
    Outflow,
    /// Still open at the horizon.
    Censored,
}

impl EndReason {
    /// The name in `histories.csv`.
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Transition => "transition",
            EndReason::Renewal => "renewal",
            EndReason::Outflow => "outflow",
            EndReason::Censored => "censored",
        }
    }
}

/// One client's uninterrupted stay in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// Area index (model order).
    pub area: usize,
    /// The engine's client id (unique within arm, run and area; the same in every arm).
    pub client: u64,
    /// State index.
    pub state: usize,
    /// First cycle in the state; negative for a client present at the start who had been in the state
    /// before it.
    pub start: i64,
    /// Last cycle in the state (the last cycle of the horizon when censored).
    pub last: i64,
    /// Why it ended.
    pub end: EndReason,
    /// The state entered next (for a renewal the same state); `None` when censored.
    pub next: Option<usize>,
}

/// Where the open episode of a client stands: its state and first cycle.
#[derive(Debug, Clone, Copy)]
struct Open {
    state: usize,
    start: i64,
}

/// A [`Recorder`] that collects the episodes of one run of one arm.
#[derive(Debug)]
pub struct Episodes<'m> {
    model: &'m Model,
    /// `open[area][id >> 20][id & 0xFFFFF]`: the open episode of each client (ids are the index of a
    /// client among those present at the start, or `(c + 1) << 20 | j` for the `j`-th new client of cycle
    /// `c`; see [`crate::engine`]), so a client is found without hashing.
    open: Vec<Vec<Vec<Option<Open>>>>,
    done: Vec<Episode>,
}

const ID_BITS: u32 = 20;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

impl<'m> Episodes<'m> {
    /// An empty record of a run of `model`.
    pub fn new(model: &'m Model) -> Self {
        Episodes {
            model,
            open: vec![Vec::new(); model.areas.len()],
            done: Vec::new(),
        }
    }

    fn slot(&mut self, a: usize, id: u64) -> &mut Option<Open> {
        let cohorts = &mut self.open[a];
        let (k, j) = ((id >> ID_BITS) as usize, (id & ID_MASK) as usize);
        if cohorts.len() <= k {
            cohorts.resize_with(k + 1, Vec::new);
        }
        let cohort = &mut cohorts[k];
        if cohort.len() <= j {
            cohort.resize(j + 1, None);
        }
        &mut cohort[j]
    }

    /// Every episode of the run, those still open censored in the last cycle, in order of area, client
    /// and start.
    pub fn finish(mut self) -> Vec<Episode> {
        let last = i64::from(self.model.cycles) - 1;
        for (a, cohorts) in self.open.iter().enumerate() {
            for (k, cohort) in cohorts.iter().enumerate() {
                for (j, o) in cohort.iter().enumerate() {
                    if let Some(o) = o {
                        self.done.push(Episode {
                            area: a,
                            client: ((k as u64) << ID_BITS) | j as u64,
                            state: o.state,
                            start: o.start,
                            last,
                            end: EndReason::Censored,
                            next: None,
                        });
                    }
                }
            }
        }
        self.done
            .sort_unstable_by_key(|e| (e.area, e.client, e.start));
        self.done
    }
}

impl Recorder for Episodes<'_> {
    fn enter(&mut self, a: usize, id: u64, state: usize, start: i64) {
        if !self.model.states[state].absorbing {
            *self.slot(a, id) = Some(Open { state, start });
        }
    }

    fn moved(&mut self, a: usize, id: u64, last: usize, from: usize, to: usize) {
        let model = self.model;
        let n = model.n_states();
        let slot = self.slot(a, id);
        let Some(open) = slot.take() else {
            debug_assert!(
                false,
                "client {id} of area {a} moved without being in a state"
            );
            return;
        };
        debug_assert_eq!(open.state, from, "client {id} of area {a}");
        let (end, next) = if to == n {
            (EndReason::Renewal, from)
        } else if model.states[to].absorbing {
            (EndReason::Outflow, to)
        } else {
            (EndReason::Transition, to)
        };
        let last = last as i64;
        if end != EndReason::Outflow {
            *slot = Some(Open {
                state: next,
                start: last + 1,
            });
        }
        self.done.push(Episode {
            area: a,
            client: id,
            state: open.state,
            start: open.start,
            last,
            end,
            next: Some(next),
        });
    }
}

/// Days in a calendar month.
fn days_in(ym: YearMonth) -> u32 {
    match ym.month {
        2 if ym.year % 4 == 0 && (ym.year % 100 != 0 || ym.year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The first day of cycle `c` (negative: before the model start), `YYYY-MM-DD`.
pub fn first_day(model: &Model, c: i64) -> String {
    format!("{}-01", model.start.plus(c * i64::from(model.cycle_months)))
}

/// The last day of cycle `c`, `YYYY-MM-DD`.
pub fn last_day(model: &Model, c: i64) -> String {
    let cm = i64::from(model.cycle_months);
    let ym = model.start.plus((c + 1) * cm - 1);
    format!("{ym}-{:02}", days_in(ym))
}

/// Simulates run `run` of arm `arm` of `model` (the run's model) and returns its episodes in order.
pub fn episodes(model: &Model, arm: usize, seed: u64, run: u32) -> Vec<Episode> {
    let mut rec = Episodes::new(model);
    engine::simulate_recorded(model, arm, seed, run, &mut rec);
    rec.finish()
}

/// Writes `histories.csv` into `staged`: the episodes of runs `0..runs` of every arm of `scenario`, each
/// run simulated as the batch simulates it ([`crate::run::batch::run_model`] with `psa`, master seed `seed`)
/// and written before the next is simulated.
pub fn write(
    scenario: &Scenario,
    psa: bool,
    seed: u64,
    runs: u32,
    staged: &mut Staged,
) -> Result<()> {
    let shown = staged.target().join(FILE);
    let io_err = |source: std::io::Error| Error::Write {
        path: shown.display().to_string(),
        source,
    };
    let path = staged.file_path(FILE)?;
    let file = std::fs::File::create(&path).map_err(io_err)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 16, file));
    let csv_err = |e: csv::Error| io_err(e.into());
    w.write_record(HEADER).map_err(csv_err)?;
    for arm in 0..scenario.model.arms.len() {
        for run in 0..runs {
            let model = crate::run::batch::run_model(scenario, psa, seed, run)?;
            let m: &Model = &model;
            let arm_name = &m.arms[arm].name;
            let run_text = run.to_string();
            for e in episodes(m, arm, seed, run) {
                let next = e.next.map_or("", |s| m.states[s].code.as_str());
                w.write_record([
                    arm_name.as_str(),
                    &run_text,
                    &m.areas[e.area].name,
                    &e.client.to_string(),
                    &m.states[e.state].code,
                    &first_day(m, e.start),
                    &last_day(m, e.last),
                    e.end.name(),
                    next,
                ])
                .map_err(csv_err)?;
            }
        }
    }
    let mut inner = w.into_inner().map_err(|e| io_err(e.into_error()))?;
    inner.flush().map_err(io_err)?;
    Ok(())
}
