//! The compiled, checked model.
//!
//! A [`Model`] can only be built by [`crate::scenario::compile`], which checks everything; the engine
//! and the reports take `&Model` and never check again. Everything the engine needs per cycle is laid out
//! as flat tables indexed by small integers (state index, cycle, capped time in state).

pub mod cost;
pub mod currency;
pub mod kpi;
pub mod regime;
pub mod row;
pub mod scope;
pub mod tally;

pub use cost::{CostBasis, CostItem, LineKind};
pub use row::{Pick8, RENEW, Row, Transitions, thresholds};
pub use tally::Tally;

use crate::model::regime::{Arm, Regime};
use crate::rng::Key;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    /// Calendar year.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
}

impl YearMonth {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<YearMonth> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month: u32 = m.parse().ok()?;
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// Months since year 0.
    pub fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    /// The month with index `i` ([`YearMonth::index`]).
    pub fn from_index(i: i64) -> YearMonth {
        YearMonth {
            year: i.div_euclid(12) as i32,
            month: i.rem_euclid(12) as u32 + 1,
        }
    }

    /// The month `n` months later.
    pub fn plus(self, n: i64) -> YearMonth {
        YearMonth::from_index(self.index() + n)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A state (support intensity).
#[derive(Debug, Clone)]
pub struct State {
    /// Code, e.g. `BT`.
    pub code: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
    /// Absorbing (outflow).
    pub absorbing: bool,
    /// Holds an indication.
    pub indicated: bool,
    /// The waiting status (see [`Capacity`]).
    pub waiting: bool,
}

/// An area: a wijk, dorp or whole municipality.
#[derive(Debug, Clone)]
pub struct Area {
    /// Index into [`Model::municipalities`].
    pub municipality: usize,
    /// Name of the wijk/dorp (or the municipality).
    pub name: String,
    /// Inhabitants.
    pub inhabitants: u64,
    /// Clients at the start, by state index.
    pub initial: Vec<u32>,
    /// Time already spent in the state by the starting clients, per state, in cycles.
    pub initial_time: Vec<TimeSpread>,
    /// Expected new clients per cycle, by cycle.
    pub inflow_mean: Vec<f64>,
}

/// The time (cycles) the clients present at the start have already spent in their state: bands, each
/// drawn with its share and uniform within it. One band is the scenario's `[min, max]`; several come
/// from a table of band weights (`{ "0-2" = 120, "3-11" = 80 }`, e.g. fitted by `wijksim fit`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSpread {
    /// `(min, max, share)`, ascending and without overlap; the shares sum to 1.
    bands: Vec<(u32, u32, f64)>,
}

impl TimeSpread {
    /// Uniform over `min..=max`.
    pub fn uniform(min: u32, max: u32) -> TimeSpread {
        TimeSpread {
            bands: vec![(min, max, 1.0)],
        }
    }

    /// From bands `(min, max, weight)` with non-negative weights of positive sum (normalised here);
    /// `None` when there is no band or the weights do not sum to a positive finite number.
    pub fn bands(mut bands: Vec<(u32, u32, f64)>) -> Option<TimeSpread> {
        let total: f64 = bands.iter().map(|b| b.2).sum();
        if bands.is_empty()
            || !(total.is_finite() && total > 0.0)
            || bands.iter().any(|b| b.2 < 0.0)
        {
            return None;
        }
        bands.retain(|b| b.2 > 0.0);
        bands.sort_by_key(|b| b.0);
        for b in &mut bands {
            b.2 /= total;
        }
        Some(TimeSpread { bands })
    }

    /// The bands `(min, max, share)`.
    pub fn parts(&self) -> &[(u32, u32, f64)] {
        &self.bands
    }

    /// The longest time.
    pub fn max(&self) -> u32 {
        self.bands.iter().map(|b| b.1).max().unwrap_or(0)
    }

    /// Draws a time from `key`'s stream: with one band exactly as a uniform `[min, max]` always was
    /// (no number drawn when `min == max`), else a band by its share and a time uniform within it.
    pub fn draw(&self, key: crate::rng::Key) -> u32 {
        if let [(lo, hi, _)] = self.bands[..] {
            return if lo == hi {
                lo
            } else {
                key.stream().int_in(lo, hi)
            };
        }
        let mut stream = key.stream();
        let u = stream.uniform();
        let mut acc = 0.0;
        let last = self.bands.len() - 1;
        let (lo, hi, _) = self
            .bands
            .iter()
            .enumerate()
            .find(|&(i, b)| {
                acc += b.2;
                u < acc || i == last
            })
            .map(|(_, b)| *b)
            .expect("at least one band");
        if lo == hi { lo } else { stream.int_in(lo, hi) }
    }
}

/// The compiled model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Short name.
    pub name: String,
    /// Title.
    pub title: String,
    /// What figures and the report call the people simulated: Dutch, English (plural nouns).
    pub population: (String, String),
    /// One of them in English (`client`, `patient`, `person`), as the console counts them: `1
    /// person`, `2 people`.
    pub population_one: String,
    /// The currency of every amount (`[scenario] currency`; euros by default).
    pub currency: crate::model::currency::Currency,
    /// States, in file order.
    pub states: Vec<State>,
    /// Calendar month of cycle 0.
    pub start: YearMonth,
    /// Months per cycle.
    pub cycle_months: u32,
    /// Number of cycles.
    pub cycles: u32,
    /// Default runs.
    pub runs: u32,
    /// Default seed.
    pub seed: u64,
    /// The accepted chance of overspending a budget (α): budgets are sized so that P(overspend) ≤ α.
    pub overspend_risk: f64,
    /// Municipalities in order of first appearance.
    pub municipalities: Vec<String>,
    /// Areas in file order.
    pub areas: Vec<Area>,
    /// Entry mix: state indices and cumulative thresholds.
    pub entry: Row,
    /// Transition rows.
    pub transitions: Transitions,
    /// Cost line names (own contribution among them).
    pub lines: Vec<String>,
    /// What each cost line is.
    pub line_kinds: Vec<LineKind>,
    /// Cost items.
    pub costs: Vec<CostItem>,
    /// Possible flows `(from, to)`: from `n_states` = inflow, to [`RENEW`] = renewal.
    pub flows: Vec<(usize, u8)>,
    /// Budget regimes.
    pub regimes: Vec<Regime>,
    /// Arms; the first is the baseline.
    pub arms: Vec<Arm>,
    /// Transition tables of areas under a regime (see [`crate::model::regime::Plan::table`]).
    pub regime_tables: Vec<Transitions>,
    /// Cost items of areas under a regime, by the same index as [`Model::regime_tables`]: `None` when the
    /// regime has no cost items of its own (the area is charged [`Model::costs`]).
    pub regime_costs: Vec<Option<Vec<CostItem>>>,
    /// `[regime][area][cycle]`: expected provider spend on the regime's covered lines (filled for
    /// regimes whose budget is a share of it; empty otherwise).
    pub regime_expected: Vec<Vec<Vec<f64>>>,
    /// Budgets from the baseline forecast (`budget_percentile_of_baseline`): `[arm][pool][year]`,
    /// empty where no pool needs one.
    pub forecast_budgets: Vec<Vec<Vec<f64>>>,
    /// Runs of the baseline forecast that sets [`Model::forecast_budgets`] (`run.forecast_runs`).
    pub forecast_runs: u32,
    /// Capacity limits ([`Capacity`]), in file order.
    pub capacities: Vec<Capacity>,
    /// The waiting status clients wait in for a place (required when there are capacity limits).
    pub waiting_state: Option<usize>,
    /// Whether some parameter has a distribution (probabilistic sensitivity analysis is possible);
    /// this model has every parameter at its mean unless compiled for a run.
    pub uncertain: bool,
    /// KPIs.
    pub kpis: Vec<crate::model::kpi::Kpi>,
    /// The scopes results are reported for: the region first (see [`crate::model::scope`]).
    pub scopes: Vec<crate::model::scope::Scope>,
    /// Outcomes besides cost.
    pub outcomes: Vec<Outcome>,
    /// Discounting for `summary.csv`.
    pub discount: Discount,
}

/// A capacity limit: what the care in an area can carry in a cycle (staff), in clients or hours of the
/// states it covers. A client whose move would exceed it waits (see [`crate::engine`]); needed care is
/// delayed, never refused for want of money.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Name, for messages and the report.
    pub name: String,
    /// Load of one client in each state (1 for a limit in clients, hours for a limit in hours; 0 for
    /// states the limit does not cover).
    pub load: Vec<f64>,
    /// By area: the most load it can carry in a cycle.
    pub limit: Vec<f64>,
    /// By area: whether the limit applies there.
    pub areas: Vec<bool>,
    /// By arm: whether the limit applies in the arm.
    pub arms: Vec<bool>,
    /// Cycles it applies in: `start..end`.
    pub period: (u32, u32),
}

impl Capacity {
    /// Whether the limit binds area `a` of arm `arm` in cycle `c`.
    pub fn applies(&self, arm: usize, a: usize, c: usize) -> bool {
        self.arms[arm]
            && self.areas[a]
            && (self.period.0 as usize..self.period.1 as usize).contains(&c)
    }
}

/// An outcome: a weight per client per cycle in each state (e.g. 1 while alive: life-cycles).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Short name.
    pub name: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
    /// Weight by state.
    pub weights: Vec<f64>,
}

/// When the per-cycle costs and outcomes of a cycle count, with the occupancy `m_t` at the cycle
/// boundaries `t = 0..=T` (`m_t` for `t < T` is the caseload of cycle `t`, `m_T` the occupancy after the
/// last transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// `sum_{t=0}^{T-1} m_t w d(t)`: at the start of each cycle.
    Start,
    /// `sum_{t=1}^{T} m_t w d(t)`: at the end of each cycle.
    End,
    /// `sum_{t=0}^{T} m_t w d(t) h_t` with `h_0 = h_T = 1/2`, else 1 (half-cycle correction).
    HalfCycle,
    /// `sum_{t=0}^{T} m_t w d(t) s_t` with Simpson's 1/3 rule as the DARTH tutorials compute it
    /// (`gen_wcc`): `s_0 = s_T = 1/3`, else `4/3` at even and `2/3` at odd `t`.
    Simpson,
}

impl Timing {
    /// The weight of boundary `t` of `cycles`.
    pub fn weight(self, t: usize, cycles: usize) -> f64 {
        match self {
            Timing::Start => f64::from(u8::from(t < cycles)),
            Timing::End => f64::from(u8::from(t > 0)),
            Timing::HalfCycle => {
                if t == 0 || t == cycles {
                    0.5
                } else {
                    1.0
                }
            }
            Timing::Simpson => {
                if t == 0 || t == cycles {
                    1.0 / 3.0
                } else if t.is_multiple_of(2) {
                    4.0 / 3.0
                } else {
                    2.0 / 3.0
                }
            }
        }
    }

    /// The cycle whose per-cycle amounts (prices, weights that change with the period) count at
    /// boundary `t`: the cycle that ends there with `End`, else the cycle that starts there (the last
    /// cycle at the horizon).
    pub fn cycle_at(self, t: usize, cycles: usize) -> usize {
        match self {
            Timing::End => t.saturating_sub(1),
            _ => t.min(cycles - 1),
        }
    }
}

/// Discount factors by cycle boundary `t = 0..=T`: `(1 + r)^-(t x cycle length in years)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    /// Factors for costs.
    pub cost: Vec<f64>,
    /// Factors for outcomes.
    pub outcome: Vec<f64>,
    /// Timing convention of per-cycle rewards.
    pub timing: Timing,
}

impl Model {
    /// Whether this is a Wmo model (some state holds an indication): figures and the report then speak
    /// of municipalities and clients.
    pub fn is_wmo(&self) -> bool {
        self.states.iter().any(|s| s.indicated)
    }

    /// The transition table of area `a` in arm `arm`.
    pub fn table(&self, arm: usize, a: usize) -> &Transitions {
        match &self.arms[arm].plans[a] {
            Some(p) => &self.regime_tables[p.table],
            None => &self.transitions,
        }
    }

    /// Areas some arm assigns to a regime, with the plan of the first arm that does (the pilot whose
    /// budget holder the area would have): in area order.
    pub fn pilot_areas(&self) -> Vec<(usize, &crate::model::regime::Plan)> {
        (0..self.areas.len())
            .filter_map(|a| {
                self.arms
                    .iter()
                    .find_map(|arm| arm.plans[a].as_ref())
                    .map(|p| (a, p))
            })
            .collect()
    }

    /// The cost of the evaluations held in cycle `c` of one area, from its counts and moves of that
    /// cycle: `book(line, euros)` for each `evaluations` KPI booked on a cost line (none without one).
    /// One home for the reduction, the budget holder's spend and the expected spend budgets are set
    /// from. Allocates nothing.
    pub fn evaluation_costs<T: Copy + Into<f64>>(
        &self,
        c: usize,
        counts: &[T],
        moves: &[T],
        mut book: impl FnMut(usize, f64),
    ) {
        for k in &self.kpis {
            if let Some((line, value)) = k.evaluation_cost(self.n_states(), c, counts, moves) {
                book(line, value);
            }
        }
    }

    /// The cost items charged to area `a` in arm `arm`.
    pub fn costs_of(&self, arm: usize, a: usize) -> &[CostItem] {
        self.costs_for(self.arms[arm].plans[a].as_ref())
    }

    /// The cost items charged to an area with plan `plan` (`None`: the provider model throughout).
    pub fn costs_for(&self, plan: Option<&crate::model::regime::Plan>) -> &[CostItem] {
        match plan.and_then(|p| self.regime_costs[p.table].as_ref()) {
            Some(items) => items,
            None => &self.costs,
        }
    }

    /// The year indices of a plan's pilot period (its budget years).
    pub fn plan_years(&self, plan: &crate::model::regime::Plan) -> std::ops::Range<usize> {
        if plan.end <= plan.start {
            return 0..0;
        }
        self.year_index(plan.start)..self.year_index(plan.end - 1) + 1
    }

    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.states.len()
    }

    /// Calendar month of a cycle's start.
    pub fn date(&self, cycle: u32) -> YearMonth {
        self.start
            .plus(i64::from(cycle) * i64::from(self.cycle_months))
    }

    /// Calendar years covered, in order.
    pub fn years(&self) -> Vec<i32> {
        let first = self.start.year;
        let last = self.date(self.cycles.saturating_sub(1)).year;
        (first..=last).collect()
    }

    /// Index into [`Model::years`] of a cycle.
    pub fn year_index(&self, cycle: u32) -> usize {
        (self.date(cycle).year - self.start.year) as usize
    }

    /// The root key of a run.
    pub fn run_key(seed: u64, run: u32) -> Key {
        Key::root(seed).child(u64::from(run))
    }

    /// Index of a state code.
    pub fn state_index(&self, code: &str) -> Option<usize> {
        self.states.iter().position(|s| s.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_spread_draws_each_band_by_its_share_and_one_band_as_a_uniform_range() {
        let t = TimeSpread::bands(vec![(0, 2, 30.0), (3, 11, 60.0), (12, 35, 10.0)]).unwrap();
        let n = 40_000u64;
        let mut per_band = [0u64; 3];
        for j in 0..n {
            let v = t.draw(crate::rng::Key::root(5).child(j));
            per_band[usize::from(v >= 3) + usize::from(v >= 12)] += 1;
            assert!(v <= 35);
        }
        for (k, share) in [0.3, 0.6, 0.1].into_iter().enumerate() {
            let se = (share * (1.0 - share) / n as f64).sqrt();
            let got = per_band[k] as f64 / n as f64;
            assert!((got - share).abs() < 4.0 * se, "band {k}: {got} vs {share}");
        }
        // One band draws exactly what a uniform [min, max] always drew (the golden runs depend on it).
        let one = TimeSpread::uniform(0, 35);
        for j in 0..100 {
            let key = crate::rng::Key::root(9).child(j);
            assert_eq!(one.draw(key), key.stream().int_in(0, 35));
        }
        assert_eq!(TimeSpread::uniform(4, 4).draw(crate::rng::Key::root(1)), 4);
        assert!(TimeSpread::bands(vec![(0, 1, 0.0)]).is_none());
    }
}
