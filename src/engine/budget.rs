//! The budget book of one pool (the areas of an arm that share a budget), and how a year is settled.
//!
//! A budget never refuses needed care: the municipality keeps its duty of care (zorgplicht). The book
//! only records: the budget granted per calendar year of the pilot period (pro rata for a part year), the
//! spend on the covered lines and the regime's fixed costs, and at the year's last cycle (or the pilot
//! period's) the settlement between the municipality and the budget holder:
//!
//! * `overspend` = spend beyond the budget and the carried-in reserve. Without risk sharing the
//!   municipality tops it up in full; under a [`RiskSharing`] band the holder carries it within
//!   `band × budget` and the municipality tops up `share` of the rest (the holder carries the remainder).
//! * a surplus beyond the band is refunded for `share` (under risk sharing); what is left is returned,
//!   carried over (a reserve: a balance, not a cost), or reinvested in prevention in the next pilot
//!   year. At the end of the pilot period what is left is returned (the reserve is settled).
//!
//! Reinvestment is the one feedback of a budget on care: a fund `F` for the next year buys `F / cost`
//! prevented indications, spread over the pool's expected new clients of that year as an extra
//! probability of being diverted to the prevention state. The fund is spent in that year as community
//! support on the regime's reinvestment line, whether or not as many clients arrive as expected.

use crate::model::regime::{BudgetRule, Plan, Pool, RiskSharing, Surplus};
use crate::model::{CostItem, Model, Tally};

/// What the budget holder of area `a` under `plan` spends in cycle `c`: the items of `costs` and the
/// evaluations ([`Model::evaluation_costs`]) on the lines the regime covers, for the area's
/// municipality, plus the regime's fixed costs. With the
/// provider's `costs` and a baseline's counts it is what the holder would spend under the provider
/// model (for budget sizing).
pub fn holder_spend<T: Tally>(
    model: &Model,
    plan: &Plan,
    a: usize,
    c: usize,
    costs: &[CostItem],
    counts: &[T],
    moves: &[T],
) -> f64 {
    let regime = &model.regimes[plan.regime];
    let area = &model.areas[a];
    let m = area.municipality;
    let mut spend: f64 = regime.fixed.iter().map(|f| f.at(c, area.inhabitants)).sum();
    for item in costs {
        if regime.covers[item.line] && item.municipalities[m] && item.amount[c] != 0.0 {
            spend += item.units(counts, moves) * item.amount[c];
        }
    }
    model.evaluation_costs(c, counts, moves, |line, value| {
        if regime.covers[line] {
            spend += value;
        }
    });
    spend
}

/// One calendar year (or the part of it in the pilot period) of a pool's budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetYear {
    /// Index into the model's years.
    pub year: usize,
    /// Budget granted for the year (for cycles under the regime).
    pub budget: f64,
    /// Reserve carried in from the year before.
    pub carry_in: f64,
    /// Spent on the covered lines and fixed costs.
    pub spent: f64,
    /// Spent beyond budget and carry-in.
    pub overspend: f64,
    /// The part of the overspend the municipality tops up.
    pub top_up: f64,
    /// Surplus refunded to the municipality (returned, and the refunded share under risk sharing).
    pub refund: f64,
    /// Surplus carried over to the next year.
    pub carry_out: f64,
    /// Surplus reinvested in prevention in the next year.
    pub reinvested: f64,
    /// Extra probability with which the year's new clients are diverted (bought by the previous
    /// year's reinvested surplus).
    pub extra_prevention: f64,
}

impl BudgetYear {
    /// The budget minus what the holder spent: the holder's result before settlement.
    pub fn holder_result(&self) -> f64 {
        self.budget - self.spent
    }

    /// The part of the overspend the holder carries itself (under risk sharing).
    pub fn holder_carries(&self) -> f64 {
        self.overspend - self.top_up
    }
}

/// The budget book of one pool.
#[derive(Debug, Clone)]
pub struct Book {
    plan: Plan,
    surplus: Surplus,
    risk: Option<RiskSharing>,
    unlimited: bool,
    /// By cycle: the year index, and whether the cycle closes a budget year.
    year_of: Vec<usize>,
    last_of_year: Vec<bool>,
    /// By year index: the budget, and the pool's expected new clients in its pilot cycles (before
    /// prevention).
    year_budget: Vec<f64>,
    year_inflow: Vec<f64>,
    /// The reinvestment's cost per prevented indication, by cycle (indexed).
    prevent_cost: Vec<f64>,
    /// Open and closed years, in order.
    pub years: Vec<BudgetYear>,
}

impl Book {
    /// Opens the book of pool `p` of arm `arm` (its areas share regime and period). A budget that is a
    /// share of the expected provider spend uses [`Model::regime_expected`]; one from the baseline
    /// forecast [`Model::forecast_budgets`]. Budget years run from the plan's start to its end.
    pub fn new(model: &Model, arm: usize, p: usize) -> Book {
        let pool: &Pool = &model.arms[arm].pools[p];
        let plan: &Plan = model.arms[arm].plans[pool.areas[0]]
            .as_ref()
            .expect("a pool's areas have a plan");
        let expected = &model.regime_expected[plan.regime];
        let regime = &model.regimes[plan.regime];
        let cycles = model.cycles as usize;
        let end = plan.end as usize;
        let year_of: Vec<usize> = (0..model.cycles).map(|c| model.year_index(c)).collect();
        let last_of_year: Vec<bool> = (0..cycles)
            .map(|c| c + 1 == cycles || c + 1 == end || year_of[c + 1] != year_of[c])
            .collect();
        let years = model.years().len();
        let mut year_budget = vec![0.0; years];
        let mut year_inflow = vec![0.0; years];
        let per_cycle = f64::from(model.cycle_months) / 12.0;
        for c in plan.cycles() {
            let y = year_of[c];
            for &a in &pool.areas {
                let area = &model.areas[a];
                year_budget[y] += match regime.budget {
                    BudgetRule::PerInhabitant(x) => {
                        x * area.inhabitants as f64 * regime.budget_index[c] * per_cycle
                    }
                    BudgetRule::PerArea(x) => x * regime.budget_index[c] * per_cycle,
                    BudgetRule::ShareOfProvider(q) => q * expected[a][c],
                    BudgetRule::BaselinePercentile(_) => 0.0,
                    BudgetRule::Unlimited => f64::INFINITY,
                };
                year_inflow[y] += area.inflow_mean[c];
            }
        }
        if let BudgetRule::BaselinePercentile(_) = regime.budget {
            let forecast = &model.forecast_budgets[arm][p];
            for y in model.plan_years(plan) {
                year_budget[y] = forecast[y];
            }
        }
        let prevent_cost = match regime.surplus {
            Surplus::Reinvested(cost) => regime.budget_index.iter().map(|x| cost * x).collect(),
            _ => Vec::new(),
        };
        Book {
            plan: plan.clone(),
            surplus: regime.surplus,
            risk: regime.risk_sharing,
            unlimited: regime.budget == BudgetRule::Unlimited,
            year_of,
            last_of_year,
            year_budget,
            year_inflow,
            prevent_cost,
            years: Vec::new(),
        }
    }

    /// Whether cycle `c` is under the regime (in the pilot period).
    pub fn active(&self, c: usize) -> bool {
        self.plan.active(c)
    }

    /// The open year of cycle `c`, opened (with the reserve and the reinvested fund of the year
    /// before) in the first cycle of a year.
    fn open(&mut self, c: usize) -> &mut BudgetYear {
        let y = self.year_of[c];
        if self.years.last().is_none_or(|last| last.year != y) {
            let (carry_in, fund) = self
                .years
                .last()
                .map_or((0.0, 0.0), |last| (last.carry_out, last.reinvested));
            let extra_prevention = if fund > 0.0 && self.year_inflow[y] > 0.0 {
                (fund / (self.prevent_cost[c] * self.year_inflow[y])).min(1.0)
            } else {
                0.0
            };
            self.years.push(BudgetYear {
                year: y,
                budget: self.year_budget[y],
                carry_in,
                extra_prevention,
                ..Default::default()
            });
        }
        self.years.last_mut().expect("a year was just opened")
    }

    /// The extra prevention probability of cycle `c` (from the last year's reinvested surplus); opens
    /// the year in its first cycle. 0 outside the pilot period.
    pub fn extra_prevention(&mut self, c: usize) -> f64 {
        if !self.active(c) {
            return 0.0;
        }
        self.open(c).extra_prevention
    }

    /// Books spend `amount` of one of the pool's areas in cycle `c`.
    pub fn book(&mut self, c: usize, amount: f64) {
        if self.active(c) {
            self.open(c).spent += amount;
        }
    }

    /// Settles the year that cycle `c` closes, if it closes one; call after every area of the pool has
    /// booked cycle `c`.
    pub fn settle(&mut self, c: usize) {
        if !self.active(c) || !self.last_of_year[c] {
            return;
        }
        let last_year = c + 1 >= self.plan.end as usize;
        let (surplus, risk, unlimited) = (self.surplus, self.risk, self.unlimited);
        let b = self.open(c);
        if unlimited {
            b.budget = b.spent;
            return;
        }
        let available = b.budget + b.carry_in;
        b.overspend = (b.spent - available).max(0.0);
        let mut left = (available - b.spent).max(0.0);
        match risk {
            None => b.top_up = b.overspend,
            Some(r) => {
                let band = r.band * b.budget;
                b.top_up = r.share * (b.overspend - band).max(0.0);
                let refunded = r.share * (left - band).max(0.0);
                b.refund += refunded;
                left -= refunded;
            }
        }
        match surplus {
            Surplus::CarriedOver if !last_year => b.carry_out = left,
            Surplus::Reinvested(_) if !last_year => b.reinvested = left,
            _ => b.refund += left,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;

    /// A book of the default's first pilot pool with the given policies, and one year's spend.
    fn settle_one(surplus: Surplus, risk: Option<RiskSharing>, spend_share: f64) -> BudgetYear {
        let mut m = default_scenario().model;
        let arm = &m.arms[1];
        let pool = arm.pools[0].clone();
        let plan = arm.plans[pool.areas[0]].clone().expect("a pilot area");
        let r = &mut m.regimes[plan.regime];
        r.surplus = surplus;
        r.risk_sharing = risk;
        r.budget = BudgetRule::PerArea(120_000.0);
        let mut book = Book::new(&m, 1, 0);
        let first = plan.start as usize;
        let y = m.year_index(first as u32);
        let mut c = first;
        while m.year_index(c as u32) == y {
            c += 1;
        }
        let budget = book.year_budget[y];
        for k in first..c {
            book.book(k, spend_share * budget / (c - first) as f64);
            book.settle(k);
        }
        book.years[0].clone()
    }

    #[test]
    fn without_risk_sharing_the_municipality_tops_up_every_overspend() {
        let b = settle_one(Surplus::Returned, None, 1.2);
        assert!((b.overspend - 0.2 * b.budget).abs() < 1e-6 * b.budget);
        assert_eq!(b.top_up, b.overspend);
        assert_eq!(b.holder_carries(), 0.0);
        let b = settle_one(Surplus::Returned, None, 0.9);
        assert_eq!(b.overspend, 0.0);
        assert!((b.refund - 0.1 * b.budget).abs() < 1e-6 * b.budget);
    }

    #[test]
    fn within_the_band_the_holder_carries_and_beyond_it_shares() {
        let band = Some(RiskSharing {
            band: 0.05,
            share: 0.5,
        });
        // 3% over: within the band, the holder carries it all.
        let b = settle_one(Surplus::Returned, band, 1.03);
        assert_eq!(b.top_up, 0.0);
        assert!((b.holder_carries() - 0.03 * b.budget).abs() < 1e-6 * b.budget);
        // 25% over: half of the 20% beyond the band is topped up.
        let b = settle_one(Surplus::Returned, band, 1.25);
        assert!((b.top_up - 0.10 * b.budget).abs() < 1e-6 * b.budget);
        // 25% under, carried over: half of the 20% beyond the band is refunded, the rest carried.
        let b = settle_one(Surplus::CarriedOver, band, 0.75);
        assert!((b.refund - 0.10 * b.budget).abs() < 1e-6 * b.budget);
        assert!((b.carry_out - 0.15 * b.budget).abs() < 1e-6 * b.budget);
    }

    /// The book of the default's first pilot pool over its whole pilot period (two years), with the
    /// given policies and budget; in year `k` the pool spends `shares[k]` of that year's budget, spread
    /// evenly over the year's pilot cycles (an unlimited budget: `shares[k]` per cycle). Spend booked
    /// outside the pilot period is ignored.
    fn run_book(surplus: Surplus, budget: BudgetRule, shares: &[f64]) -> (Model, Vec<BudgetYear>) {
        let mut m = default_scenario().model;
        let pool = m.arms[1].pools[0].clone();
        let plan = m.arms[1].plans[pool.areas[0]]
            .clone()
            .expect("a pilot area");
        let r = &mut m.regimes[plan.regime];
        r.surplus = surplus;
        r.risk_sharing = None;
        r.budget = budget;
        let mut book = Book::new(&m, 1, 0);
        for c in 0..m.cycles as usize {
            let _ = book.extra_prevention(c);
            if book.active(c) {
                let y = m.year_index(c as u32);
                let k = m
                    .plan_years(&plan)
                    .position(|p| p == y)
                    .expect("a pilot year");
                let n = plan
                    .cycles()
                    .filter(|&d| m.year_index(d as u32) == y)
                    .count();
                // An unlimited budget has no size: `shares` are then amounts per cycle.
                let amount = match book.year_budget[y] {
                    b if b.is_finite() => shares[k] * b / n as f64,
                    _ => shares[k],
                };
                book.book(c, amount);
            } else {
                // Outside the pilot period nothing is booked.
                book.book(c, 1e9);
            }
            book.settle(c);
        }
        (m, book.years)
    }

    #[test]
    fn a_reserve_is_carried_into_the_next_year_and_returned_at_the_pilot_end() {
        let (_, years) = run_book(
            Surplus::CarriedOver,
            BudgetRule::PerArea(120_000.0),
            &[0.8, 0.9],
        );
        assert_eq!(years.len(), 2, "one book year per pilot year");
        let (first, last) = (&years[0], &years[1]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * first.budget;
        assert!(close(first.carry_out, 0.2 * first.budget) && first.refund == 0.0);
        assert_eq!(last.carry_in, first.carry_out);
        // The last year: what is left of budget and reserve is returned, nothing carried out.
        assert_eq!(last.carry_out, 0.0);
        assert!(close(last.refund, 0.1 * last.budget + last.carry_in));
        assert_eq!(last.overspend, 0.0);
        // Spend outside the pilot period was not booked.
        assert!(years.iter().all(|y| y.spent < 1e9));
    }

    #[test]
    fn a_reinvested_surplus_buys_prevention_in_the_next_year() {
        let cost = 2_000.0;
        let (m, years) = run_book(
            Surplus::Reinvested(cost),
            BudgetRule::PerArea(120_000.0),
            &[0.9, 1.0],
        );
        let fund = years[0].reinvested;
        assert!((fund - 0.1 * years[0].budget).abs() < 1e-6 * fund && years[0].refund == 0.0);
        // The fund buys fund / (cost × expected new clients) of diversion, at the first cycle's index.
        let book = Book::new(&m, 1, 0);
        let y = years[1].year;
        let first = (0..m.cycles as usize)
            .find(|&c| book.year_of[c] == y && book.active(c))
            .expect("the second year has pilot cycles");
        let want = (fund / (book.prevent_cost[first] * book.year_inflow[y])).min(1.0);
        assert!(want > 0.0 && (years[1].extra_prevention - want).abs() < 1e-12);
        assert_eq!(
            years[1].reinvested, 0.0,
            "the last year returns what is left"
        );
    }

    #[test]
    fn an_unlimited_regime_never_overspends() {
        let (_, years) = run_book(
            Surplus::Returned,
            BudgetRule::Unlimited,
            &[5_000.0, 7_000.0],
        );
        assert_eq!(years.len(), 2);
        for y in &years {
            assert!(y.spent > 0.0);
            // The budget is what was spent: no overspend, no top-up, no refund.
            assert_eq!(y.budget, y.spent);
            assert_eq!((y.overspend, y.top_up, y.refund), (0.0, 0.0, 0.0));
        }
    }
}
