//! From run traces to reported statistics, streaming.
//!
//! Each run is reduced at once to the few numbers that are reported ([`Layout`]: caseload per cycle and
//! state, flows per year, costs per year, municipality and line); the trace is then dropped. Memory thus
//! grows with what is reported times the number of runs (the data quantiles need), never with clients.
//! Statistics are computed in run order, so they do not depend on which thread ran which run.

pub mod paired;
pub mod sizing;

use crate::engine::{AreaTrace, RunTrace};
use crate::model::scope::Scope;
use crate::model::{LineKind, Model, RENEW};

/// Where each reported number lives in a run's vector of cells.
///
/// Every number is kept per scope ([`crate::model::scope`]): the region first, then each municipality, the
/// pilot areas together and each reported area.
#[derive(Debug, Clone)]
pub struct Layout {
    /// States.
    pub n_states: usize,
    /// Cycles.
    pub cycles: usize,
    /// Calendar years.
    pub years: Vec<i32>,
    /// Flows `(from, to)` as in [`Model::flows`].
    pub flows: Vec<(usize, u8)>,
    /// Cost lines.
    pub lines: usize,
    /// The scopes (as [`Model::scopes`]).
    pub scopes: Vec<Scope>,
    /// For each area, the scopes that contain it, ascending.
    area_scopes: Vec<Vec<usize>>,
    /// The budget pools of this arm (the budget cells follow the common cells).
    pub pools: Vec<crate::model::regime::Pool>,
    flow_at: usize,
    cost_at: usize,
    /// Offset of each KPI's cells.
    kpi_at: Vec<usize>,
    /// Offset of the economic totals: discounted cost, clients, discounted outcomes.
    econ_at: usize,
    econ_len: usize,
    account_at: usize,
    /// Areas some arm assigns to a regime (see [`Model::pilot_areas`]).
    pub pilot_areas: Vec<usize>,
    /// Their plans (of the first arm that assigns each).
    pilot_plans: Vec<crate::model::regime::Plan>,
    holder_at: usize,
    budget_at: usize,
    /// For each `(from, to)` cell of a cycle's moves: the flow index, or `u32::MAX`.
    move_flow: Vec<u32>,
}

impl Layout {
    /// The layout of the reported numbers of arm `arm`. The common cells (caseload, flows, costs,
    /// KPIs, totals, accounts) are laid out alike for every arm, so arms can be compared cell by cell;
    /// budget cells follow them.
    pub fn new(model: &Model, arm: usize) -> Layout {
        let n_states = model.n_states();
        let cycles = model.cycles as usize;
        let years = model.years();
        let scopes = model.scopes.clone();
        let ns = scopes.len();
        let flow_at = ns * cycles * n_states;
        let cost_at = flow_at + ns * years.len() * model.flows.len();
        let mut at = cost_at + ns * years.len() * model.lines.len();
        let kpi_at = model
            .kpis
            .iter()
            .map(|k| {
                let here = at;
                at += k.scopes.len() * k.years() * k.cells_per_year();
                here
            })
            .collect();
        let econ_at = at;
        let econ_len = 2 + model.outcomes.len();
        at += ns * econ_len;
        let account_at = at;
        at += ns * years.len() * Account::ALL.len();
        let (pilot_areas, pilot_plans): (Vec<usize>, Vec<crate::model::regime::Plan>) = model
            .pilot_areas()
            .into_iter()
            .map(|(a, p)| (a, p.clone()))
            .unzip();
        let holder_at = at;
        at += pilot_areas.len() * years.len();
        let budget_at = at;
        let pools = model.arms[arm].pools.clone();
        let n1 = n_states + 1;
        let move_flow = (0..n1 * n1)
            .map(|i| {
                let (from, to) = (i / n1, i % n1);
                let to = if to == n_states { RENEW } else { to as u8 };
                model
                    .flows
                    .binary_search(&(from, to))
                    .map_or(u32::MAX, |f| f as u32)
            })
            .collect();
        Layout {
            n_states,
            cycles,
            years,
            flows: model.flows.clone(),
            lines: model.lines.len(),
            area_scopes: crate::model::scope::of_areas(&scopes, model.areas.len()),
            scopes,
            pools,
            flow_at,
            cost_at,
            kpi_at,
            econ_at,
            econ_len,
            account_at,
            pilot_areas,
            pilot_plans,
            holder_at,
            budget_at,
            move_flow,
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.budget_at + self.pools.len() * self.years.len() * BudgetMeasure::ALL.len()
    }

    /// What cell `i` reports, for messages: e.g. `the costs in 2024 (region regio)`.
    pub fn describe(&self, i: usize) -> String {
        let year = |y: usize| self.years.get(y).copied().unwrap_or_default();
        let scope = |per_scope: usize, from: usize| {
            let s = &self.scopes[((i - from) / per_scope.max(1)).min(self.scopes.len() - 1)];
            format!(" ({} {})", s.kind.name(), s.name)
        };
        let ys = self.years.len().max(1);
        if i < self.flow_at {
            let per = self.cycles * self.n_states;
            format!(
                "the caseload in cycle {}{}",
                (i % per.max(1)) / self.n_states.max(1),
                scope(per, 0)
            )
        } else if i < self.cost_at {
            let per = ys * self.flows.len();
            format!(
                "the flows in {}{}",
                year(((i - self.flow_at) % per.max(1)) / self.flows.len().max(1)),
                scope(per, self.flow_at)
            )
        } else if i < self.kpi_at.first().copied().unwrap_or(self.econ_at) {
            let per = ys * self.lines;
            format!(
                "the costs in {}{}",
                year(((i - self.cost_at) % per.max(1)) / self.lines.max(1)),
                scope(per, self.cost_at)
            )
        } else if i < self.econ_at {
            "a KPI".into()
        } else if i < self.account_at {
            format!(
                "the discounted totals (cost or outcomes){}",
                scope(self.econ_len, self.econ_at)
            )
        } else if i >= self.holder_at && i < self.budget_at {
            "a pilot area's spend on its budget's lines".into()
        } else if i < self.budget_at {
            let per = ys * Account::ALL.len();
            format!(
                "care cost, community cost or municipal spend in {}{}",
                year(((i - self.account_at) % per) / Account::ALL.len()),
                scope(per, self.account_at)
            )
        } else {
            "the budget".into()
        }
    }

    /// Number of cells every arm has, in the same order.
    pub fn common_len(&self) -> usize {
        self.budget_at
    }

    /// Cell `j` of KPI `k` over its `i`-th scope (`kpis[k].scopes[i]`) in contract year `y` (`j`: 0
    /// value; evaluations also 1 due, 2 cost).
    pub fn kpi(&self, model: &Model, k: usize, i: usize, y: usize, j: usize) -> usize {
        let kpi = &model.kpis[k];
        self.kpi_at[k] + (i * kpi.years() + y) * kpi.cells_per_year() + j
    }

    /// Cell of scope `sc`'s discounted total cost (`j = 0`), number of clients (`j = 1`, initial plus
    /// new) and discounted total of outcome `k` (`j = 2 + k`).
    pub fn econ(&self, sc: usize, j: usize) -> usize {
        self.econ_at + sc * self.econ_len + j
    }

    /// Cell of account `k` of scope `sc` in year index `y`.
    pub fn account(&self, sc: usize, y: usize, k: Account) -> usize {
        self.account_at + (sc * self.years.len() + y) * Account::ALL.len() + k as usize
    }

    /// Cell of what the budget holder of the `i`-th pilot area ([`Layout::pilot_areas`]) would spend in
    /// year index `y` in this arm: care on the lines its regime covers, at the tariffs charged, and the
    /// regime's fixed costs, in the pilot period (0 outside it). In the baseline this is the pilot
    /// area's spend under the provider model, from which budgets are sized.
    pub fn holder_spend(&self, i: usize, y: usize) -> usize {
        self.holder_at + i * self.years.len() + y
    }

    /// Cell of budget measure `k` of the `i`-th budget pool in year index `y`.
    pub fn budget(&self, i: usize, y: usize, k: BudgetMeasure) -> usize {
        self.budget_at + (i * self.years.len() + y) * BudgetMeasure::ALL.len() + k as usize
    }

    /// The plan of the `i`-th budget pool's areas, in arm `arm`.
    pub fn pool_plan<'m>(
        &self,
        model: &'m Model,
        arm: usize,
        i: usize,
    ) -> &'m crate::model::regime::Plan {
        model.arms[arm].plans[self.pools[i].areas[0]]
            .as_ref()
            .expect("a pool's areas have a plan")
    }

    /// Whether there are no cells (never, for a valid model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell of scope `sc`'s caseload in cycle `c`, state `s`.
    pub fn caseload(&self, sc: usize, c: usize, s: usize) -> usize {
        (sc * self.cycles + c) * self.n_states + s
    }

    /// Cell of scope `sc`'s flow `f` in year index `y`.
    pub fn flow(&self, sc: usize, y: usize, f: usize) -> usize {
        self.flow_at + (sc * self.years.len() + y) * self.flows.len() + f
    }

    /// Cell of scope `sc`'s cost on line `l` in year index `y`.
    pub fn cost(&self, sc: usize, y: usize, l: usize) -> usize {
        self.cost_at + (sc * self.years.len() + y) * self.lines + l
    }

    /// The pilot areas' scope, if some arm assigns an area to a regime.
    pub fn pilot_scope(&self) -> Option<usize> {
        self.scopes
            .iter()
            .position(|s| s.kind == crate::model::scope::ScopeKind::PilotAreas)
    }

    /// The scopes of the pilot areas one by one, in area order; empty when there are fewer than two
    /// (one pilot area is the pilot areas' scope itself).
    pub fn pilot_area_scopes(&self) -> Vec<usize> {
        let Some(pilot) = self.pilot_scope() else {
            return Vec::new();
        };
        let areas = &self.scopes[pilot].areas;
        if areas.len() < 2 {
            return Vec::new();
        }
        areas
            .iter()
            .filter_map(|&a| {
                self.scopes.iter().position(|s| {
                    s.kind == crate::model::scope::ScopeKind::Area && s.areas.as_slice() == [a]
                })
            })
            .collect()
    }
}

/// The two questions' figures per year and municipality, one definition for every output.
///
/// `care_cost` is the care delivered, valued at its tariffs: what the provider model would bill, in every
/// area and arm. `community_cost` is community support: the sociale basis, volunteer support and a
/// regime's fixed costs (the coordinator). `municipal_spend` is what the municipality pays: its parts
/// are `paid_directly` (provider bills, community support and own contributions outside a budget),
/// `budgets_paid` (budgets granted to budget holders), `top_ups` (the part of their overspend the
/// municipality covers), `bonus_malus` (on KPI targets) and, subtracted, `refunds` (surpluses returned).
/// `overspend` is not a part: what pools spent beyond budget and reserve, whoever pays. A budget
/// holder's carried-over reserve is a
/// balance, not spend: it was paid as budget. A budget without limit is a pass-through: its areas are
/// paid directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// Care delivered at tariffs.
    CareCost,
    /// Community support.
    CommunityCost,
    /// What the municipality pays.
    MunicipalSpend,
    /// Paid outside any budget.
    PaidDirectly,
    /// Budgets granted.
    BudgetsPaid,
    /// Overspend covered.
    TopUps,
    /// Surpluses returned.
    Refunds,
    /// Bonuses paid to budget holders on KPI targets met, minus maluses paid back on targets missed.
    BonusMalus,
    /// Spent by budget holders beyond their budget and reserve, whoever pays it (not a part of
    /// municipal spend: the municipality pays its `top_ups`).
    Overspend,
}

impl Account {
    /// Every account, in cell order.
    pub const ALL: [Account; 9] = [
        Account::CareCost,
        Account::CommunityCost,
        Account::MunicipalSpend,
        Account::PaidDirectly,
        Account::BudgetsPaid,
        Account::TopUps,
        Account::Refunds,
        Account::BonusMalus,
        Account::Overspend,
    ];

    /// The name in every output.
    pub fn name(self) -> &'static str {
        match self {
            Account::CareCost => "care_cost",
            Account::CommunityCost => "community_cost",
            Account::MunicipalSpend => "municipal_spend",
            Account::PaidDirectly => "municipal_spend.paid_directly",
            Account::BudgetsPaid => "municipal_spend.budgets_paid",
            Account::TopUps => "municipal_spend.top_ups",
            Account::Refunds => "municipal_spend.refunds",
            Account::BonusMalus => "municipal_spend.bonus_malus",
            Account::Overspend => "overspend",
        }
    }
}

/// The budget measures reported per pool and year (`budget.csv`), one definition for every output (see
/// [`crate::engine::budget`] for the settlement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetMeasure {
    /// Budget granted for the year (the pilot period's part of it).
    Budget,
    /// Spent by the holder: care on the covered lines at the tariffs, and the fixed costs.
    Spent,
    /// Spent beyond the budget and the carried-in reserve.
    Overspend,
    /// The part of the overspend the municipality tops up.
    TopUp,
    /// The part of the overspend the holder carries itself (risk sharing).
    HolderCarries,
    /// Surplus refunded to the municipality.
    Refund,
    /// Surplus carried over to the next year (a reserve).
    CarriedOver,
    /// Surplus reinvested in prevention in the next year.
    Reinvested,
    /// Budget minus spent: the holder's result before settlement.
    HolderResult,
    /// 1 in a run with overspend, 0 otherwise: its mean is P(overspend).
    Overspent,
    /// Bonus paid on KPI targets met, minus malus on targets missed (`bonus_malus` of the regime).
    BonusMalus,
}

impl BudgetMeasure {
    /// Every measure, in cell order.
    pub const ALL: [BudgetMeasure; 11] = [
        BudgetMeasure::Budget,
        BudgetMeasure::Spent,
        BudgetMeasure::Overspend,
        BudgetMeasure::TopUp,
        BudgetMeasure::HolderCarries,
        BudgetMeasure::Refund,
        BudgetMeasure::CarriedOver,
        BudgetMeasure::Reinvested,
        BudgetMeasure::HolderResult,
        BudgetMeasure::Overspent,
        BudgetMeasure::BonusMalus,
    ];

    /// The name in every output.
    pub fn name(self) -> &'static str {
        match self {
            BudgetMeasure::Budget => "budget",
            BudgetMeasure::Spent => "spent",
            BudgetMeasure::Overspend => "overspend",
            BudgetMeasure::TopUp => "top_up",
            BudgetMeasure::HolderCarries => "holder_carries",
            BudgetMeasure::Refund => "refund",
            BudgetMeasure::CarriedOver => "carried_over",
            BudgetMeasure::Reinvested => "reinvested",
            BudgetMeasure::HolderResult => "holder_result",
            BudgetMeasure::Overspent => "overspent",
            BudgetMeasure::BonusMalus => "bonus_malus",
        }
    }

    /// Its value in a settled budget year.
    pub fn of(self, b: &crate::engine::budget::BudgetYear) -> f64 {
        match self {
            BudgetMeasure::Budget => b.budget,
            BudgetMeasure::Spent => b.spent,
            BudgetMeasure::Overspend => b.overspend,
            BudgetMeasure::TopUp => b.top_up,
            BudgetMeasure::HolderCarries => b.holder_carries(),
            BudgetMeasure::Refund => b.refund,
            BudgetMeasure::CarriedOver => b.carry_out,
            BudgetMeasure::Reinvested => b.reinvested,
            BudgetMeasure::HolderResult => b.holder_result(),
            BudgetMeasure::Overspent => {
                if b.overspend > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            // From the KPIs, not the book: added by the reduction.
            BudgetMeasure::BonusMalus => 0.0,
        }
    }
}

/// Reduces one run's trace of arm `arm` to its reported cells.
pub fn reduce(model: &Model, arm: usize, layout: &Layout, trace: &RunTrace) -> Vec<f64> {
    let views: Vec<AreaView<u32>> = trace.areas.iter().map(AreaTrace::view).collect();
    reduce_views(model, arm, layout, &views, &trace.pools)
}

/// One area's counts and moves, as simulated (`u32`) or expected (`f64`).
#[derive(Debug, Clone, Copy)]
pub struct AreaView<'a, T> {
    /// As [`crate::engine::AreaTrace::counts`].
    pub counts: &'a [T],
    /// As [`crate::engine::AreaTrace::moves`].
    pub moves: &'a [T],
    /// Occupancy after the last transition.
    pub final_counts: &'a [T],
}

/// Reduces one run's areas (or their expected values) and its pools' budget years to the reported
/// cells. Every area's numbers are added to each scope that holds it, in area order, so a scope's
/// numbers are sums over its areas whatever the thread count.
pub fn reduce_views<T: Copy + Into<f64>>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
) -> Vec<f64> {
    let n = layout.n_states;
    let n1 = n + 1;
    let mut out = vec![0.0; layout.len()];
    for (i, (&a, plan)) in layout
        .pilot_areas
        .iter()
        .zip(&layout.pilot_plans)
        .enumerate()
    {
        let at = &areas[a];
        let costs = model.costs_of(arm, a);
        for c in plan.start as usize..(plan.end as usize).min(layout.cycles) {
            let y = model.year_index(c as u32);
            let counts = &at.counts[c * n..(c + 1) * n];
            let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
            let spend =
                crate::engine::budget::holder_spend(model, plan, a, c, costs, counts, moves);
            out[layout.holder_spend(i, y)] += spend;
        }
    }
    // One area's flows, costs and accounts per year, added to each of its scopes when it is done.
    let (ys, nf, nl) = (layout.years.len(), layout.flows.len(), layout.lines);
    const ACCOUNTS: [Account; 3] = [
        Account::CareCost,
        Account::CommunityCost,
        Account::PaidDirectly,
    ];
    let mut flows = vec![0.0; ys * nf];
    let mut lines = vec![0.0; ys * nl];
    let mut accounts = vec![0.0; ys * ACCOUNTS.len()];
    for (a, at) in areas.iter().enumerate() {
        let m = model.areas[a].municipality;
        let scopes = &layout.area_scopes[a];
        flows.fill(0.0);
        lines.fill(0.0);
        accounts.fill(0.0);
        // Lines paid from a (limited) budget, in the cycles of the pilot period.
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
            for &sc in scopes {
                let cells = layout.caseload(sc, c, 0);
                for (o, &k) in out[cells..cells + n].iter_mut().zip(counts) {
                    *o += k.into();
                }
            }
            for (&k, &f) in moves.iter().zip(&layout.move_flow) {
                let k: f64 = k.into();
                if k != 0.0 && f != u32::MAX {
                    flows[y * nf + f as usize] += k;
                }
            }
            // A value on a line: its account by the line's kind, and paid directly unless a budget
            // covers the line in this cycle.
            let mut book = |line: usize, value: f64| {
                lines[y * nl + line] += value;
                let acc = &mut accounts[y * ACCOUNTS.len()..(y + 1) * ACCOUNTS.len()];
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
                    book(item.line, item.units(counts, moves) * item.amount[c]);
                }
            }
            model.evaluation_costs(c, counts, moves, &mut book);
        }
        for &sc in scopes {
            let at = layout.flow(sc, 0, 0);
            for (o, v) in out[at..at + ys * nf].iter_mut().zip(&flows) {
                *o += v;
            }
            let at = layout.cost(sc, 0, 0);
            for (o, v) in out[at..at + ys * nl].iter_mut().zip(&lines) {
                *o += v;
            }
            for y in 0..ys {
                for (j, &k) in ACCOUNTS.iter().enumerate() {
                    out[layout.account(sc, y, k)] += accounts[y * ACCOUNTS.len() + j];
                }
            }
        }
    }
    kpis(model, layout, areas, &mut out);
    economics(model, arm, layout, areas, pools, &mut out);
    for (i, pool) in layout.pools.iter().enumerate() {
        let plan = layout.pool_plan(model, arm, i);
        let regime = &model.regimes[plan.regime];
        let limited = regime.budget != crate::model::regime::BudgetRule::Unlimited;
        for &a in &pool.areas {
            let area = &model.areas[a];
            for fixed in &regime.fixed {
                for c in plan.cycles() {
                    let y = model.year_index(c as u32);
                    let value = fixed.at(c, area.inhabitants);
                    for &sc in &layout.area_scopes[a] {
                        out[layout.cost(sc, y, fixed.line)] += value;
                        out[layout.account(sc, y, Account::CommunityCost)] += value;
                        if !limited {
                            // A pass-through: what it spends (the fixed costs) is paid directly.
                            out[layout.account(sc, y, Account::PaidDirectly)] += value;
                        }
                    }
                }
            }
        }
        let Some(years) = pools.get(i) else { continue };
        // The pool's accounts are split over its areas by their share of the pool's inhabitants.
        let shares = pool_shares(model, pool);
        for (j, b) in years.iter().enumerate() {
            if limited {
                for (k, amount) in [
                    (Account::BudgetsPaid, b.budget),
                    (Account::TopUps, b.top_up),
                    (Account::Refunds, b.refund),
                    (Account::Overspend, b.overspend),
                ] {
                    split(&mut out, layout, &shares, amount, |sc| {
                        layout.account(sc, b.year, k)
                    });
                }
            }
            // A reinvested surplus is spent on prevention in the next pilot year.
            if let (Some(line), Some(next)) = (regime.reinvest_line, years.get(j + 1))
                && b.reinvested > 0.0
            {
                split(&mut out, layout, &shares, b.reinvested, |sc| {
                    layout.cost(sc, next.year, line)
                });
                split(&mut out, layout, &shares, b.reinvested, |sc| {
                    layout.account(sc, next.year, Account::CommunityCost)
                });
            }
        }
        for b in years {
            for k in BudgetMeasure::ALL {
                out[layout.budget(i, b.year, k)] = k.of(b);
            }
        }
        // Bonus or malus on KPI targets over the pool's own areas, for each contract year with a
        // target that overlaps the pilot period, booked in the calendar year the contract year ends.
        for bm in &regime.bonus_malus {
            let kpi = &model.kpis[bm.kpi];
            let (counts, moves) = sums(layout, areas, &pool.areas);
            let mut cells = vec![0.0; kpi.years() * kpi.cells_per_year()];
            kpi.evaluate(n, &counts, &moves, &mut cells);
            for y in 0..kpi.years() {
                let cycles: Vec<usize> = (0..layout.cycles)
                    .filter(|&c| kpi.contract_year[c] == Some(y))
                    .collect();
                let (Some(&last), true) = (cycles.last(), cycles.iter().any(|&c| plan.active(c)))
                else {
                    continue;
                };
                let Some(met) = kpi.met(y, cells[y * kpi.cells_per_year()]) else {
                    continue;
                };
                let amount = if met { bm.bonus } else { -bm.malus };
                let cy = model.year_index(last as u32);
                out[layout.budget(i, cy, BudgetMeasure::BonusMalus)] += amount;
                split(&mut out, layout, &shares, amount, |sc| {
                    layout.account(sc, cy, Account::BonusMalus)
                });
            }
        }
    }
    // Municipal spend from its parts.
    for sc in 0..layout.scopes.len() {
        for y in 0..layout.years.len() {
            let part = |k| out[layout.account(sc, y, k)];
            out[layout.account(sc, y, Account::MunicipalSpend)] =
                part(Account::PaidDirectly) + part(Account::BudgetsPaid) + part(Account::TopUps)
                    - part(Account::Refunds)
                    + part(Account::BonusMalus);
        }
    }
    out
}

/// Each area of a pool with its share of the pool's inhabitants (equal shares without inhabitants).
fn pool_shares(model: &Model, pool: &crate::model::regime::Pool) -> Vec<(usize, f64)> {
    let inhabitants: f64 = pool
        .areas
        .iter()
        .map(|&a| model.areas[a].inhabitants as f64)
        .sum();
    pool.areas
        .iter()
        .map(|&a| {
            let w = if inhabitants > 0.0 {
                model.areas[a].inhabitants as f64 / inhabitants
            } else {
                1.0 / pool.areas.len() as f64
            };
            (a, w)
        })
        .collect()
}

/// Adds a pool's `amount`, split by `shares` over its areas, to cell `cell(scope)` of each scope of
/// each area.
fn split(
    out: &mut [f64],
    layout: &Layout,
    shares: &[(usize, f64)],
    amount: f64,
    cell: impl Fn(usize) -> usize,
) {
    for &(a, w) in shares {
        for &sc in &layout.area_scopes[a] {
            out[cell(sc)] += w * amount;
        }
    }
}

/// The counts and moves of `which` areas summed, in area order.
fn sums<T: Copy + Into<f64>>(
    layout: &Layout,
    areas: &[AreaView<T>],
    which: &[usize],
) -> (Vec<f64>, Vec<f64>) {
    let n1 = layout.n_states + 1;
    let mut counts = vec![0.0; layout.cycles * layout.n_states];
    let mut moves = vec![0.0; layout.cycles * n1 * n1];
    for &a in which {
        for (x, &v) in counts.iter_mut().zip(areas[a].counts) {
            *x += v.into();
        }
        for (x, &v) in moves.iter_mut().zip(areas[a].moves) {
            *x += v.into();
        }
    }
    (counts, moves)
}

/// Every KPI over each of its scopes (the scope's counts are its caseload cells; its moves are summed
/// once per scope).
fn kpis<T: Copy + Into<f64>>(
    model: &Model,
    layout: &Layout,
    areas: &[AreaView<T>],
    out: &mut [f64],
) {
    let n1 = layout.n_states + 1;
    let mut moves: Vec<Option<Vec<f64>>> = vec![None; layout.scopes.len()];
    for (k, kpi) in model.kpis.iter().enumerate() {
        for (i, &sc) in kpi.scopes.iter().enumerate() {
            let mv = moves[sc].get_or_insert_with(|| {
                let mut v = vec![0.0; layout.cycles * n1 * n1];
                for &a in &layout.scopes[sc].areas {
                    for (x, &m) in v.iter_mut().zip(areas[a].moves) {
                        *x += m.into();
                    }
                }
                v
            });
            let from = layout.caseload(sc, 0, 0);
            let counts = out[from..from + layout.cycles * layout.n_states].to_vec();
            let at = layout.kpi(model, k, i, 0, 0);
            kpi.evaluate(
                layout.n_states,
                &counts,
                mv,
                &mut out[at..at + kpi.years() * kpi.cells_per_year()],
            );
        }
    }
}

/// Statistics of one reported number over runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub sd: f64,
    /// Quantiles 5, 25, 50, 75 and 95% (R type 7: linear interpolation).
    pub q: [f64; 5],
}

impl Stats {
    /// Monte Carlo standard error of the mean.
    pub fn mcse(&self, runs: usize) -> f64 {
        self.sd / (runs as f64).sqrt()
    }
}

/// The quantile levels reported.
pub const LEVELS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Type-7 quantile of sorted values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Statistics of values given in run order (sorts `values`).
pub fn stats(values: &mut [f64]) -> Stats {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    values.sort_unstable_by(f64::total_cmp);
    Stats {
        mean,
        sd,
        q: LEVELS.map(|p| quantile(values, p)),
    }
}

/// Reported numbers of all runs, stored by cell (the data quantiles need).
///
/// Dense (every cell) as a run keeps them, or sparse (some cells; the others read as one shared
/// column of a fill value) as read back from `runs.csv`, which holds a few cells per run.
#[derive(Debug, Clone)]
pub struct Columns {
    runs: usize,
    values: Vec<f64>,
    /// Sparse: the block in `values` of every cell (the last block, the fill, for cells not kept);
    /// empty when dense.
    slot: Vec<u32>,
}

impl Columns {
    /// Room for `runs` runs of `cells` cells.
    pub fn new(cells: usize, runs: usize) -> Columns {
        Columns {
            runs,
            values: vec![0.0; cells * runs],
            slot: Vec::new(),
        }
    }

    /// Room for `runs` runs of the cells `kept` of `cells` cells, every value `fill`; the other cells
    /// read as `fill` in every run and cannot be set.
    pub fn sparse(cells: usize, kept: &[usize], runs: usize, fill: f64) -> Columns {
        let absent = u32::try_from(kept.len()).expect("fewer kept cells than u32::MAX");
        let mut slot = vec![absent; cells];
        for (k, &c) in kept.iter().enumerate() {
            slot[c] = k as u32;
        }
        Columns {
            runs,
            values: vec![fill; (kept.len() + 1) * runs],
            slot,
        }
    }

    fn block(&self, cell: usize) -> usize {
        if self.slot.is_empty() {
            cell
        } else {
            self.slot[cell] as usize
        }
    }

    /// Sets cell `cell` of run `run` (a cell that sparse columns do not keep is a bug).
    pub fn set(&mut self, run: usize, cell: usize, value: f64) {
        let b = self.block(cell);
        assert!(
            self.slot.is_empty() || b + 1 < self.values.len() / self.runs.max(1),
            "cell {cell} is not kept"
        );
        self.values[b * self.runs + run] = value;
    }

    /// Stores run `run`'s cells (dense columns).
    pub fn put(&mut self, run: usize, cells: &[f64]) {
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        for (i, v) in cells.iter().enumerate() {
            self.values[i * self.runs + run] = *v;
        }
    }

    /// Stores the cells of runs `lo..lo + rows.len()` (dense columns), cell by cell so that the
    /// writes run along each cell's column.
    pub fn put_runs(&mut self, lo: usize, rows: &[&[f64]]) {
        debug_assert!(self.slot.is_empty(), "put on sparse columns");
        let Some(first) = rows.first() else { return };
        for cell in 0..first.len() {
            let column =
                &mut self.values[cell * self.runs + lo..cell * self.runs + lo + rows.len()];
            for (v, row) in column.iter_mut().zip(rows) {
                *v = row[cell];
            }
        }
    }

    /// The values of one cell, in run order.
    pub fn cell(&self, i: usize) -> &[f64] {
        let b = self.block(i);
        &self.values[b * self.runs..(b + 1) * self.runs]
    }

    fn cells(&self) -> usize {
        if self.slot.is_empty() {
            self.values.len().checked_div(self.runs).unwrap_or(0)
        } else {
            self.slot.len()
        }
    }

    /// Statistics of every cell (on the current rayon pool; the result does not depend on it).
    pub fn stats(&self) -> Vec<Stats> {
        use rayon::prelude::*;
        (0..self.cells())
            .into_par_iter()
            .map(|i| stats(&mut self.cell(i).to_vec()))
            .collect()
    }

    /// Statistics of every cell, on the calling thread.
    pub fn stats_in_order(&self) -> Vec<Stats> {
        (0..self.cells())
            .map(|i| stats(&mut self.cell(i).to_vec()))
            .collect()
    }
}

/// The summary of a batch of runs of one arm.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Arm name.
    pub arm: String,
    /// Layout of the cells.
    pub layout: Layout,
    /// Runs.
    pub runs: usize,
    /// Per-run values by cell.
    pub columns: Columns,
    /// Statistics by cell.
    pub stats: Vec<Stats>,
    /// Client-cycles simulated over all runs.
    pub client_cycles: u64,
}

impl Summary {
    /// Statistics over runs of account `k` (e.g. [`Account::MunicipalSpend`]) of scope `scope` in
    /// calendar year `year`: the numbers of a row of `accounts.csv`. `scope` indexes
    /// [`Layout::scopes`]: [`crate::model::scope::REGION`] is the region, [`Layout::pilot_scope`] the pilot
    /// areas together. `None` for a year outside the horizon or a scope that does not exist.
    pub fn account(&self, scope: usize, year: i32, k: Account) -> Option<&Stats> {
        let y = self.layout.years.iter().position(|&x| x == year)?;
        (scope < self.layout.scopes.len()).then(|| &self.stats[self.layout.account(scope, y, k)])
    }

    /// Statistics over runs of account `k` of scope `scope` summed over every year of the horizon
    /// (each run's total; `None` for a scope that does not exist).
    pub fn account_total(&self, scope: usize, k: Account) -> Option<Stats> {
        (scope < self.layout.scopes.len()).then(|| {
            stats(&mut crate::aggregate::paired::account_per_run(
                self, scope, k,
            ))
        })
    }
}

/// Discounted totals for `summary.csv`: per-cycle costs and outcomes on the occupancy at the cycle
/// boundaries with the scenario's timing convention; one-off costs (fees, transition costs) and fixed
/// costs at the start of the cycle they fall in. The budget reserve is a transfer, not a cost, and is
/// left out.
fn economics<T: Copy + Into<f64>>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
    out: &mut [f64],
) {
    let n = layout.n_states;
    let n1 = n + 1;
    let cycles = layout.cycles;
    let d = &model.discount;
    let outcomes = model.outcomes.len();
    // Per area: discounted cost, clients, discounted outcomes (as the cells of `econ`).
    let mut per_area = vec![vec![0.0; 2 + outcomes]; areas.len()];
    for (a, at) in areas.iter().enumerate() {
        let area = &model.areas[a];
        let m = area.municipality;
        let costs = model.costs_of(arm, a);
        let (mut cost, mut clients) = (0.0, 0.0);
        let mut outcome = vec![0.0; outcomes];
        clients += area.initial.iter().map(|&k| f64::from(k)).sum::<f64>();
        for t in 0..=cycles {
            let occ = if t < cycles {
                &at.counts[t * n..(t + 1) * n]
            } else {
                at.final_counts
            };
            let w = d.timing.weight(t, cycles);
            let c = d.timing.cycle_at(t, cycles);
            if w > 0.0 {
                for item in costs.iter().filter(|i| i.municipalities[m]) {
                    if let crate::model::CostBasis::PerCycle(s) = item.basis {
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
            let moves = &at.moves[t * n1 * n1..(t + 1) * n1 * n1];
            clients += (0..n).map(|s| moves[n * n1 + s].into()).sum::<f64>();
            for item in costs
                .iter()
                .filter(|i| i.municipalities[m] && !i.cells.is_empty())
            {
                cost +=
                    item.units(&at.counts[t * n..(t + 1) * n], moves) * item.amount[t] * d.cost[t];
            }
            model.evaluation_costs(t, &at.counts[t * n..(t + 1) * n], moves, |_, value| {
                cost += value * d.cost[t]
            });
        }
        if let Some(plan) = &model.arms[arm].plans[a] {
            for f in &model.regimes[plan.regime].fixed {
                for c in plan.cycles() {
                    cost += f.at(c, area.inhabitants) * d.cost[c];
                }
            }
        }
        per_area[a][0] = cost;
        per_area[a][1] = clients;
        per_area[a][2..].copy_from_slice(&outcome);
    }
    // Reinvested surpluses, spent at the start of the next pilot year, split over the pool's areas.
    for (i, years) in pools.iter().enumerate() {
        let plan = layout.pool_plan(model, arm, i);
        let shares = pool_shares(model, &layout.pools[i]);
        for pair in years.windows(2) {
            if pair[0].reinvested > 0.0 {
                let first = plan
                    .cycles()
                    .find(|&c| model.year_index(c as u32) == pair[1].year)
                    .expect("a budget year has cycles");
                for &(a, w) in &shares {
                    per_area[a][0] += w * pair[0].reinvested * d.cost[first];
                }
            }
        }
    }
    for (a, cells) in per_area.iter().enumerate() {
        for &sc in &layout.area_scopes[a] {
            for (j, v) in cells.iter().enumerate() {
                out[layout.econ(sc, j)] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_type7() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        let s = stats(&mut v);
        assert_eq!(s.mean, 3.0);
        assert_eq!(s.q, [1.2, 2.0, 3.0, 4.0, 4.8]);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        let one = stats(&mut [7.0]);
        assert_eq!((one.sd, one.q[0], one.q[4]), (0.0, 7.0, 7.0));
    }
}
