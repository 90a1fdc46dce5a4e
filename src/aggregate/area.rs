//! One area's part of a run's reported numbers, apart from its caseload: its flows and costs per year,
//! the accounts booked from them and its discounted totals, in one pass over its cycles.
//!
//! The counts of a Monte Carlo trace are whole numbers: their sums are exact in `f64` (below 2^53) and
//! are therefore added up as integers and converted once, which gives the same number as adding them
//! one by one in `f64` ([`Tally`]). Expected counts (`f64`) are added one by one, in the same order as
//! before.

use super::layout::{Account, Layout};
use crate::engine::AreaView;
use crate::model::{CostBasis, CostItem, LineKind, Model, Tally};

/// The accounts an area books from its cost lines, in the order of [`AreaPart::accounts`].
pub(super) const ACCOUNTS: [Account; 3] = [
    Account::CareCost,
    Account::CommunityCost,
    Account::PaidDirectly,
];

/// What one area contributes to each scope that holds it, apart from its caseload: its flows and costs
/// per year, the accounts booked from them, and its economic totals (before a pool's reinvestment).
/// It depends on the area's trace, costs and plan only, so an area two arms simulate alike has one.
#[derive(Debug, Clone)]
pub(super) struct AreaPart {
    /// `flows[y * flows + f]`.
    pub(super) flows: Vec<f64>,
    /// `lines[y * lines + l]`.
    pub(super) lines: Vec<f64>,
    /// `accounts[y * 3 + j]`, `j` as in [`ACCOUNTS`].
    pub(super) accounts: Vec<f64>,
    /// Discounted cost, clients, discounted outcomes (as the cells of [`Layout::econ`]).
    pub(super) econ: Vec<f64>,
}

/// How a value on a line is booked in an area: into its account by the line's kind, and paid directly
/// unless a (limited) budget covers the line in the cycle.
struct Booking<'m> {
    kinds: &'m [LineKind],
    /// The lines the budget covers (none without a limited budget).
    covers: &'m [bool],
    /// The cycles in which the covered lines are paid from the budget (the pilot period).
    budget_cycles: std::ops::Range<usize>,
}

impl<'m> Booking<'m> {
    fn new(model: &'m Model, arm: usize, a: usize) -> Booking<'m> {
        let budgeted = model.arms[arm].plans[a].as_ref().and_then(|p| {
            let regime = &model.regimes[p.regime];
            (regime.budget != crate::model::regime::BudgetRule::Unlimited)
                .then_some((p.cycles(), regime.covers.as_slice()))
        });
        let (budget_cycles, covers) = budgeted.unwrap_or((0..0, &[]));
        Booking {
            kinds: &model.line_kinds,
            covers,
            budget_cycles,
        }
    }

    /// Books `value` on `line` in cycle `c`: the line's cost and the year's accounts.
    #[inline]
    fn book(&self, c: usize, line: usize, value: f64, lines: &mut [f64], accounts: &mut [f64]) {
        lines[line] += value;
        match self.kinds[line] {
            LineKind::Care => accounts[0] += value,
            LineKind::Community => accounts[1] += value,
            LineKind::OwnContribution => {}
        }
        if !(self.budget_cycles.contains(&c) && self.covers[line]) {
            accounts[2] += value;
        }
    }
}

/// Area `a`'s part in arm `arm`: its flows and costs per year, the accounts booked from them, and its
/// discounted totals ([`Totals`]), in one pass over its cycles.
pub(super) fn area_part<T: Tally>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    a: usize,
    at: &AreaView<T>,
) -> AreaPart {
    let n = layout.n_states;
    let n1 = n + 1;
    let (ys, nf, nl, na) = (
        layout.years.len(),
        layout.flows.len(),
        layout.lines,
        ACCOUNTS.len(),
    );
    let mut flows = vec![0.0; ys * nf];
    let mut lines = vec![0.0; ys * nl];
    let mut accounts = vec![0.0; ys * na];
    for (y, cycles) in layout.year_cycles.iter().enumerate() {
        let moves = &at.moves[cycles.start * n1 * n1..cycles.end * n1 * n1];
        T::add_blocks(moves, n1 * n1, &layout.flow_cells, &mut flows[y * nf..]);
    }
    let m = model.areas[a].municipality;
    let costs = model.costs_of(arm, a);
    let booking = Booking::new(model, arm, a);
    let mut totals = Totals::new(model, arm, a);
    let d = &model.discount;
    for c in 0..layout.cycles {
        let y = layout.cycle_year[c];
        let counts = &at.counts[c * n..(c + 1) * n];
        let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
        totals.boundary(model, c, counts);
        totals.clients += T::sum_at(moves, &layout.inflow_cells);
        let lines = &mut lines[y * nl..(y + 1) * nl];
        let accounts = &mut accounts[y * na..(y + 1) * na];
        for item in costs {
            if item.municipalities[m] && item.amount[c] != 0.0 {
                let value = item.units(counts, moves) * item.amount[c];
                booking.book(c, item.line, value, lines, accounts);
                // One-off costs (fees, transition costs) at the start of the cycle they fall in. (An
                // item with a zero amount would add a zero to a cost that is never -0: nothing.)
                if !item.cells.is_empty() {
                    totals.cost += value * d.cost[c];
                }
            }
        }
        model.evaluation_costs(c, counts, moves, |line, value| {
            booking.book(c, line, value, lines, accounts);
            totals.cost += value * d.cost[c];
        });
    }
    totals.boundary(model, layout.cycles, at.final_counts);
    AreaPart {
        flows,
        lines,
        accounts,
        econ: totals.cells(model, arm, a),
    }
}

/// One area's discounted totals, added up cycle by cycle: per-cycle costs and outcomes on the
/// occupancy at the cycle boundaries with the scenario's timing convention; one-off costs and
/// evaluations at the start of the cycle they fall in ([`area_part`] adds them); fixed costs.
struct Totals<'m> {
    /// The per-cycle cost items charged to the area, with their state.
    per_cycle: Vec<(&'m CostItem, usize)>,
    cost: f64,
    clients: f64,
    outcomes: Vec<f64>,
}

impl<'m> Totals<'m> {
    fn new(model: &'m Model, arm: usize, a: usize) -> Totals<'m> {
        let area = &model.areas[a];
        let m = area.municipality;
        let per_cycle = model
            .costs_of(arm, a)
            .iter()
            .filter(|i| i.municipalities[m])
            .filter_map(|i| match i.basis {
                CostBasis::PerCycle(s) => Some((i, s)),
                _ => None,
            })
            .collect();
        Totals {
            per_cycle,
            cost: 0.0,
            // (Added to zero as it always was: an empty sum is -0, plus zero +0.)
            clients: 0.0 + area.initial.iter().map(|&k| f64::from(k)).sum::<f64>(),
            outcomes: vec![0.0; model.outcomes.len()],
        }
    }

    /// The per-cycle costs and outcomes at boundary `t`, on occupancy `occ`.
    fn boundary<T: Tally>(&mut self, model: &Model, t: usize, occ: &[T]) {
        let d = &model.discount;
        let cycles = model.cycles as usize;
        let w = d.timing.weight(t, cycles);
        if w <= 0.0 {
            return;
        }
        let c = d.timing.cycle_at(t, cycles);
        for &(item, s) in &self.per_cycle {
            self.cost += occ[s].into() * item.amount[c] * w * d.cost[t];
        }
        for (k, o) in model.outcomes.iter().enumerate() {
            self.outcomes[k] += occ
                .iter()
                .zip(&o.weights)
                .map(|(&v, w)| v.into() * w)
                .sum::<f64>()
                * w
                * d.outcome[t];
        }
    }

    /// With the fixed costs of the area's plan: the cells of [`Layout::econ`] (discounted cost,
    /// clients, discounted outcomes).
    fn cells(mut self, model: &Model, arm: usize, a: usize) -> Vec<f64> {
        let d = &model.discount;
        if let Some(plan) = &model.arms[arm].plans[a] {
            for f in &model.regimes[plan.regime].fixed {
                for c in plan.cycles() {
                    self.cost += f.at(c, model.areas[a].inhabitants) * d.cost[c];
                }
            }
        }
        let mut cells = vec![self.cost, self.clients];
        cells.extend(self.outcomes);
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AreaTrace, simulate};

    /// Units of `item` in one cycle as they were computed before: its cells' counts added one by one
    /// in `f64`.
    fn units_as_before<T: Copy + Into<f64>>(item: &CostItem, counts: &[T], moves: &[T]) -> f64 {
        match &item.basis {
            CostBasis::PerCycle(s) => counts[*s].into(),
            _ => item.cells.iter().map(|&i| moves[i].into()).sum(),
        }
    }

    /// The part of an area as it was computed before (item by item, value by value, in `f64`): the
    /// oracle the one-pass part must equal bit for bit.
    fn part_as_before<T: Copy + Into<f64>>(
        model: &Model,
        arm: usize,
        layout: &Layout,
        a: usize,
        at: &AreaView<T>,
    ) -> Vec<Vec<f64>> {
        let (n, n1) = (layout.n_states, layout.n_states + 1);
        let (ys, nf, nl) = (layout.years.len(), layout.flows.len(), layout.lines);
        let mut flows = vec![0.0; ys * nf];
        let mut lines = vec![0.0; ys * nl];
        let mut accounts = vec![0.0; ys * 3];
        let m = model.areas[a].municipality;
        let budgeted = model.arms[arm].plans[a].as_ref().and_then(|p| {
            let regime = &model.regimes[p.regime];
            (regime.budget != crate::model::regime::BudgetRule::Unlimited)
                .then_some((p, &regime.covers))
        });
        let costs = model.costs_of(arm, a);
        for c in 0..layout.cycles {
            let y = model.year_index(c as u32);
            let counts = &at.counts[c * n..(c + 1) * n];
            let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
            for (i, f) in layout.flow_cells.iter().copied() {
                flows[y * nf + f] += moves[i].into();
            }
            let mut book = |line: usize, value: f64| {
                lines[y * nl + line] += value;
                let acc = &mut accounts[y * 3..(y + 1) * 3];
                match model.line_kinds[line] {
                    LineKind::Care => acc[0] += value,
                    LineKind::Community => acc[1] += value,
                    LineKind::OwnContribution => {}
                }
                if !budgeted.is_some_and(|(p, covers)| p.active(c) && covers[line]) {
                    acc[2] += value;
                }
            };
            for item in costs {
                if item.municipalities[m] && item.amount[c] != 0.0 {
                    book(
                        item.line,
                        units_as_before(item, counts, moves) * item.amount[c],
                    );
                }
            }
            model.evaluation_costs(c, counts, moves, &mut book);
        }
        let econ = economics_as_before(model, arm, a, at);
        vec![flows, lines, accounts, econ]
    }

    fn economics_as_before<T: Copy + Into<f64>>(
        model: &Model,
        arm: usize,
        a: usize,
        at: &AreaView<T>,
    ) -> Vec<f64> {
        let (n, n1, cycles) = (
            model.n_states(),
            model.n_states() + 1,
            model.cycles as usize,
        );
        let d = &model.discount;
        let area = &model.areas[a];
        let m = area.municipality;
        let costs = model.costs_of(arm, a);
        let (mut cost, mut clients) = (0.0, 0.0);
        let mut outcome = vec![0.0; model.outcomes.len()];
        clients += area.initial.iter().map(|&k| f64::from(k)).sum::<f64>();
        for t in 0..=cycles {
            let occ = if t < cycles {
                &at.counts[t * n..(t + 1) * n]
            } else {
                at.final_counts
            };
            let (w, c) = (d.timing.weight(t, cycles), d.timing.cycle_at(t, cycles));
            if w > 0.0 {
                for item in costs.iter().filter(|i| i.municipalities[m]) {
                    if let CostBasis::PerCycle(s) = item.basis {
                        cost += occ[s].into() * item.amount[c] * w * d.cost[t];
                    }
                }
                for (k, o) in model.outcomes.iter().enumerate() {
                    outcome[k] += (0..n).map(|s| occ[s].into() * o.weights[s]).sum::<f64>()
                        * w
                        * d.outcome[t];
                }
            }
            if t == cycles {
                continue;
            }
            let counts = &at.counts[t * n..(t + 1) * n];
            let moves = &at.moves[t * n1 * n1..(t + 1) * n1 * n1];
            clients += (0..n).map(|s| moves[n * n1 + s].into()).sum::<f64>();
            for item in costs
                .iter()
                .filter(|i| i.municipalities[m] && !i.cells.is_empty())
            {
                cost += units_as_before(item, counts, moves) * item.amount[t] * d.cost[t];
            }
            model.evaluation_costs(t, counts, moves, |_, value| cost += value * d.cost[t]);
        }
        if let Some(plan) = &model.arms[arm].plans[a] {
            for f in &model.regimes[plan.regime].fixed {
                for c in plan.cycles() {
                    cost += f.at(c, area.inhabitants) * d.cost[c];
                }
            }
        }
        let mut cells = vec![cost, clients];
        cells.extend(outcome);
        cells
    }

    fn bits(part: &AreaPart) -> Vec<Vec<u64>> {
        [&part.flows, &part.lines, &part.accounts, &part.econ]
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .to_vec()
    }

    fn bits_of(cells: &[Vec<f64>]) -> Vec<Vec<u64>> {
        cells
            .iter()
            .map(|v| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    }

    #[test]
    fn each_area_part_is_as_it_was_computed_before_bit_for_bit() {
        // Monte Carlo traces (whole counts, added as integers) with parameters drawn per run, and
        // expected counts (added one by one), of every arm and area of the default and two other
        // shipped scenarios: flows, costs, accounts and totals as the item-by-item reduction gave.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/");
        let load = |f: &str| crate::scenario::load(std::path::Path::new(&format!("{dir}{f}")));
        let scenarios = [
            crate::scenario::default_scenario(),
            load("sick_sicker.toml").unwrap(),
            load("hiv_combination.toml").unwrap(),
        ];
        for s in &scenarios {
            for run in 0..3 {
                let m = s.model_for_run(5, run).unwrap();
                for arm in 0..m.arms.len() {
                    let layout = Layout::new(&m, arm);
                    let trace = simulate(&m, arm, 5, run);
                    for (a, at) in trace.areas.iter().map(AreaTrace::view).enumerate() {
                        let want = bits_of(&part_as_before(&m, arm, &layout, a, &at));
                        assert_eq!(bits(&area_part(&m, arm, &layout, a, &at)), want);
                    }
                    for a in 0..m.areas.len() {
                        let e = crate::engine::cohort::expected_arm_area(&m, arm, a);
                        let at = e.view();
                        let want = bits_of(&part_as_before(&m, arm, &layout, a, &at));
                        assert_eq!(bits(&area_part(&m, arm, &layout, a, &at)), want);
                    }
                }
            }
        }
    }
}
