//! The budget book of one area under a budget regime, and the feedback rules that use it.
//!
//! The book knows, at every moment of a cycle, the area's *projected* spend for the calendar year: what
//! was spent in earlier cycles of the year, plus what the current clients will cost until the year ends
//! if they stay where they are (per-cycle costs of their states and the fixed costs), plus the one-off
//! fees already incurred this cycle. Moves change the projection by an exact, precomputed amount.
//!
//! * `overspend`: nothing is held back; spend beyond the budget is tracked as overspend.
//! * `waitlist`: a move that would raise the projection (a new indication, a fee) goes ahead only if the
//!   projection stays within the year's available budget *and* the yearly cost of the caseload at next
//!   year's prices stays within next year's budget; otherwise the client waits (see the engine).
//!   Hence a year that opens with its caseload within budget never overspends; a year that opens over
//!   budget (the pilot's starting caseload costs more than its budget) can only hold back new costs.
//! * `step_down`: when the projection exceeds the available budget, clients longest in the step-down
//!   state (BT) move to the step-down target (Waakvlam) while that lowers the projection.
//!
//! A year closes at its last cycle (or at the horizon, or at the pilot period's last cycle): overspend = spent beyond available, surplus =
//! available beyond spent, returned or carried over.

use crate::model::{CostBasis, Model};
use crate::regime::{BudgetRule, Exhaustion, Plan, Surplus};

/// Tolerance on euro comparisons (rounding of sums).
const EPS: f64 = 1e-6;

/// One calendar year of an area's budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetYear {
    /// Index into the model's years.
    pub year: usize,
    /// Budget granted for the year (for cycles under the regime).
    pub budget: f64,
    /// Carried in from the year before.
    pub carry_in: f64,
    /// Spent on the covered lines and fixed costs.
    pub spent: f64,
    /// Spent beyond budget and carry-in.
    pub overspend: f64,
    /// Surplus carried to the next year.
    pub carry_out: f64,
    /// Surplus returned to the municipality.
    pub returned: f64,
    /// Clients waiting at the end of the year.
    pub waiting_end: u32,
    /// Clients who started waiting during the year.
    pub waits_started: u32,
    /// Clients admitted from the waiting list during the year.
    pub admitted: u32,
    /// Cycles waited by the clients admitted during the year.
    pub waited_cycles: u64,
    /// Clients stepped down by the budget during the year.
    pub stepped_down: u32,
    /// Projected spend of the year when it opened (the caseload's cost if nobody moved).
    pub opening: f64,
}

/// The budget book of one area.
#[derive(Debug, Clone)]
pub struct Book {
    /// Exhaustion policy.
    pub policy: Exhaustion,
    surplus: Surplus,
    n: usize,
    plan: Plan,
    year_of: Vec<usize>,
    last_of_year: Vec<bool>,
    /// `rate[c * n + s]`: covered per-cycle cost of a client in `s` in cycle `c`.
    rate: Vec<f64>,
    /// `rem[c * n + s]`: the same summed from `c` to the end of `c`'s year.
    rem: Vec<f64>,
    fixed: Vec<f64>,
    fixed_rem: Vec<f64>,
    /// `fee[c * (n+1)^2 + cell]`: covered one-off amount of a move in cycle `c`.
    fee: Vec<f64>,
    /// Budget by year index (cycles under the regime only), `INFINITY` when unlimited.
    year_budget: Vec<f64>,
    /// `year_rate[y * n + s]`: covered cost of a client in `s` during all of year `y`.
    year_rate: Vec<f64>,
    year_fixed: Vec<f64>,
    unlimited: bool,
    covers: Vec<bool>,
    municipality: usize,
    /// Closed and open years.
    pub years: Vec<BudgetYear>,
    available: f64,
    projected: f64,
    next: f64,
}

impl Book {
    /// Opens the book of area `a` under the regime of `plan` in its cycles (the pilot period);
    /// `expected` is the area's expected provider spend on the covered lines per cycle (used by a budget
    /// that is a share of it). Budget years run from the plan's start to its end: a period that starts
    /// or ends within a year gets that year's budget for its cycles only (pro rata), and the year closes
    /// at the period's last cycle.
    pub fn new(model: &Model, plan: &Plan, a: usize, expected: &[f64]) -> Book {
        let regime = &model.regimes[plan.regime];
        let (start, end) = (plan.start as usize, plan.end as usize);
        let n = model.n_states();
        let n1 = n + 1;
        let cycles = model.cycles as usize;
        let area = &model.areas[a];
        let m = area.municipality;
        let year_of: Vec<usize> = (0..model.cycles).map(|c| model.year_index(c)).collect();
        // The pilot's last cycle closes its (possibly part) year.
        let last_of_year: Vec<bool> = (0..cycles)
            .map(|c| c + 1 == cycles || c + 1 == end || year_of[c + 1] != year_of[c])
            .collect();
        let mut rate = vec![0.0; cycles * n];
        let mut fee = vec![0.0; cycles * n1 * n1];
        for item in model
            .costs_for(Some(plan))
            .iter()
            .filter(|i| regime.covers[i.line] && i.municipalities[m])
        {
            for c in start..end {
                match item.basis {
                    CostBasis::PerCycle(s) => rate[c * n + s] += item.amount[c],
                    _ => item
                        .cells
                        .iter()
                        .for_each(|&cell| fee[c * n1 * n1 + cell] += item.amount[c]),
                }
            }
        }
        let fixed: Vec<f64> = (0..cycles)
            .map(|c| {
                if !plan.active(c) {
                    0.0
                } else {
                    regime.fixed.iter().map(|f| f.at(c, area.inhabitants)).sum()
                }
            })
            .collect();
        let mut rem = rate.clone();
        let mut fixed_rem = fixed.clone();
        for c in (0..cycles.saturating_sub(1)).rev() {
            if !last_of_year[c] {
                for s in 0..n {
                    rem[c * n + s] += rem[(c + 1) * n + s];
                }
                fixed_rem[c] += fixed_rem[c + 1];
            }
        }
        let years = model.years().len();
        let mut year_budget = vec![0.0; years];
        let mut year_rate = vec![0.0; years * n];
        let mut year_fixed = vec![0.0; years];
        let per_cycle = f64::from(model.cycle_months) / 12.0;
        for c in start..end {
            let y = year_of[c];
            year_budget[y] += match regime.budget {
                BudgetRule::PerInhabitant(x) => {
                    x * area.inhabitants as f64 * regime.budget_index[c] * per_cycle
                }
                BudgetRule::PerArea(x) => x * regime.budget_index[c] * per_cycle,
                BudgetRule::ShareOfProvider(q) => q * expected[c],
                BudgetRule::Unlimited => f64::INFINITY,
            };
            for s in 0..n {
                year_rate[y * n + s] += rate[c * n + s];
            }
            year_fixed[y] += fixed[c];
        }
        Book {
            policy: regime.exhaustion,
            surplus: regime.surplus,
            n,
            plan: plan.clone(),
            year_of,
            last_of_year,
            rate,
            rem,
            fixed,
            fixed_rem,
            fee,
            year_budget,
            year_rate,
            year_fixed,
            unlimited: regime.budget == BudgetRule::Unlimited,
            covers: regime.covers.clone(),
            municipality: m,
            years: Vec::new(),
            available: f64::INFINITY,
            projected: 0.0,
            next: 0.0,
        }
    }

    /// Whether cycle `c` is under the regime (in the pilot period).
    pub fn active(&self, c: usize) -> bool {
        self.plan.active(c)
    }

    fn has_next(&self, c: usize) -> bool {
        self.year_of[c] + 1 < self.year_budget.len() && self.year_budget[self.year_of[c] + 1] > 0.0
    }

    /// Starts cycle `c` with the caseload `count` (clients in each state before the cycle's moves).
    pub fn begin_cycle<T: Copy + Into<f64>>(&mut self, c: usize, count: &[T]) {
        if !self.active(c) {
            return;
        }
        let y = self.year_of[c];
        let opens = self.years.last().is_none_or(|last| last.year != y);
        if opens {
            let carry_in = self.years.last().map_or(0.0, |last| last.carry_out);
            self.years.push(BudgetYear {
                year: y,
                budget: self.year_budget[y],
                carry_in,
                ..Default::default()
            });
            self.available = self.year_budget[y] + carry_in;
        }
        let spent = self.years.last().map_or(0.0, |b| b.spent);
        let n = self.n;
        self.projected = spent
            + self.fixed_rem[c]
            + (0..n)
                .map(|s| count[s].into() * self.rem[c * n + s])
                .sum::<f64>();
        if opens {
            let p = self.projected;
            self.year_mut().opening = p;
        }
        self.next = if self.has_next(c) {
            let y1 = y + 1;
            self.year_fixed[y1]
                + (0..n)
                    .map(|s| count[s].into() * self.year_rate[y1 * n + s])
                    .sum::<f64>()
        } else {
            0.0
        };
    }

    /// Change of the projection (this year, next year) if a client moves `from` → `to` at the start of
    /// cycle `c` (`from == n` is a new client, `to == n` a renewal of `from`).
    #[inline]
    pub fn delta(&self, c: usize, from: usize, to: usize) -> (f64, f64) {
        let n = self.n;
        let n1 = n + 1;
        let fee = self.fee[c * n1 * n1 + from * n1 + to];
        if to == n {
            return (fee, 0.0);
        }
        let now = |s: usize| if s < n { self.rem[c * n + s] } else { 0.0 };
        let dp = now(to) - now(from) + fee;
        let dn = if self.has_next(c) {
            let y1 = self.year_of[c] + 1;
            let nx = |s: usize| {
                if s < n {
                    self.year_rate[y1 * n + s]
                } else {
                    0.0
                }
            };
            nx(to) - nx(from)
        } else {
            0.0
        };
        (dp, dn)
    }

    /// Whether a move with projection change `d` fits the budget (always, when it raises nothing).
    #[inline]
    pub fn fits(&self, c: usize, d: (f64, f64)) -> bool {
        let this = d.0 <= 0.0 || self.projected + d.0 <= self.available + EPS;
        let next = d.1 <= 0.0
            || !self.has_next(c)
            || self.next + d.1 <= self.year_budget[self.year_of[c] + 1] + EPS;
        this && next
    }

    /// Records a move's projection change.
    #[inline]
    pub fn apply(&mut self, d: (f64, f64)) {
        self.projected += d.0;
        self.next += d.1;
    }

    /// Whether the projection exceeds the available budget.
    pub fn over(&self) -> bool {
        self.projected > self.available + EPS
    }

    /// The open year's record.
    pub fn year_mut(&mut self) -> &mut BudgetYear {
        self.years
            .last_mut()
            .expect("a year is open while the regime is active")
    }

    /// Ends cycle `c`: books its actual spend (from the cycle's counts and moves) and closes the year
    /// at its last cycle; `waiting` is the length of the waiting list.
    pub fn end_cycle<T: Copy + Into<f64>>(
        &mut self,
        model: &Model,
        c: usize,
        counts: &[T],
        moves: &[T],
        waiting: u32,
    ) {
        if !self.active(c) {
            return;
        }
        let m = self.municipality;
        let spend: f64 = self.fixed[c]
            + model
                .costs_for(Some(&self.plan))
                .iter()
                .filter(|i| self.covers[i.line] && i.municipalities[m])
                .map(|i| i.units(counts, moves) * i.amount[c])
                .sum::<f64>();
        let (surplus, unlimited, available, last) = (
            self.surplus,
            self.unlimited,
            self.available,
            self.last_of_year[c],
        );
        let b = self.year_mut();
        b.spent += spend;
        if last {
            if unlimited {
                b.budget = b.spent;
            } else {
                b.overspend = (b.spent - available).max(0.0);
                let left = (available - b.spent).max(0.0);
                match surplus {
                    Surplus::CarriedOver => b.carry_out = left,
                    Surplus::Returned => b.returned = left,
                }
            }
            b.waiting_end = waiting;
        }
    }

    /// Covered per-cycle cost of a client in `s` in cycle `c`.
    pub fn rate(&self, c: usize, s: usize) -> f64 {
        self.rate[c * self.n + s]
    }
}
