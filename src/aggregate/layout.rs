//! Where each reported number lives in a run's vector of cells ([`Layout`]), and the named
//! quantities that are read from it: the accounts ([`Account`]) and the budget book's measures
//! ([`BudgetMeasure`]).

use crate::model::scope::Scope;
use crate::model::{Model, RENEW};

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
    pub(super) area_scopes: Vec<Vec<usize>>,
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
    pub(super) pilot_plans: Vec<crate::model::regime::Plan>,
    holder_at: usize,
    budget_at: usize,
    /// The cells of a cycle's moves that are flows, with their flow (each flow is one cell).
    pub(super) flow_cells: Vec<(usize, usize)>,
    /// The cells of a cycle's moves that are new clients (inflow into each state).
    pub(super) inflow_cells: Vec<usize>,
    /// The year index of each cycle ([`Model::year_index`]).
    pub(super) cycle_year: Vec<usize>,
    /// The cycles of each year index, in order.
    pub(super) year_cycles: Vec<std::ops::Range<usize>>,
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
        // For each `(from, to)` cell of a cycle's moves: the flow index, or `u32::MAX`.
        let move_flow: Vec<u32> = (0..n1 * n1)
            .map(|i| {
                let (from, to) = (i / n1, i % n1);
                let to = if to == n_states { RENEW } else { to as u8 };
                model
                    .flows
                    .binary_search(&(from, to))
                    .map_or(u32::MAX, |f| f as u32)
            })
            .collect();
        let flow_cells = flow_cells(&move_flow);
        let cycle_year: Vec<usize> = (0..cycles).map(|c| model.year_index(c as u32)).collect();
        let year_cycles = (0..years.len())
            .map(|y| {
                let first = cycle_year.partition_point(|&x| x < y);
                first..cycle_year.partition_point(|&x| x <= y)
            })
            .collect();
        Layout {
            inflow_cells: (0..n_states).map(|s| n_states * n1 + s).collect(),
            flow_cells,
            cycle_year,
            year_cycles,
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
        }
    }

    /// How many cells, the first, count clients: the caseload and the flows, whole numbers in a
    /// Monte Carlo run (expected values in a cohort run).
    pub fn client_cells(&self) -> usize {
        self.cost_at
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

    /// Cell `cell` of KPI `k` over its `i`-th scope (`kpis[k].scopes[i]`) in contract year `y`.
    pub fn kpi(&self, model: &Model, k: usize, i: usize, y: usize, cell: KpiCell) -> usize {
        let kpi = &model.kpis[k];
        let j = cell as usize;
        assert!(
            j < kpi.cells_per_year(),
            "KPI `{}` has no {cell:?}",
            kpi.name
        );
        self.kpi_at[k] + (i * kpi.years() + y) * kpi.cells_per_year() + j
    }

    /// Cell of scope `sc`'s total `e` over the horizon (discounted cost, clients or an outcome).
    pub fn econ(&self, sc: usize, e: Econ) -> usize {
        let j = match e {
            Econ::DiscountedCost => 0,
            Econ::Clients => 1,
            Econ::Outcome(k) => {
                assert!(2 + k < self.econ_len, "no outcome {k}");
                2 + k
            }
        };
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

/// The cells of a cycle's moves that are flows (`move_flow` not `u32::MAX`), with their flow.
fn flow_cells(move_flow: &[u32]) -> Vec<(usize, usize)> {
    move_flow
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f != u32::MAX)
        .map(|(i, &f)| (i, f as usize))
        .collect()
}

/// A KPI's numbers per contract year ([`Layout::kpi`]): its value; an evaluations KPI also has the
/// evaluations due and those held (`evaluations.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiCell {
    /// The KPI's value (of an evaluations KPI: the share held, an assumption).
    Value,
    /// Evaluations due: clients in the KPI's states at the start of the contract year plus those
    /// entering them.
    Due,
    /// Evaluations held: those due times the share held.
    Held,
}

impl KpiCell {
    /// What `evaluations.csv` reports of an evaluations KPI, in its order.
    pub const EVALUATION: [KpiCell; 2] = [KpiCell::Due, KpiCell::Held];

    /// The name in `evaluations.csv`'s `measure` column (`value` for the value, in no table).
    pub fn name(self) -> &'static str {
        match self {
            KpiCell::Value => "value",
            KpiCell::Due => "due",
            KpiCell::Held => "held",
        }
    }
}

/// A scope's totals over the whole horizon, for `summary.csv` and the per-run columns of `runs.csv`
/// (`discounted_cost`, `clients`, `discounted_<outcome>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Econ {
    /// The total cost, discounted to the start (`[discount]`).
    DiscountedCost,
    /// The clients: those at the start plus the new ones.
    Clients,
    /// The discounted total of outcome `k` ([`Model::outcomes`]`[k]`).
    Outcome(usize),
}

impl Econ {
    /// Every total of a model with `outcomes` outcomes, in cell order.
    pub fn all(outcomes: usize) -> impl Iterator<Item = Econ> {
        [Econ::DiscountedCost, Econ::Clients]
            .into_iter()
            .chain((0..outcomes).map(Econ::Outcome))
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

    /// The measure `budget.csv`'s `measure` column names, if any.
    pub fn parse(name: &str) -> Option<BudgetMeasure> {
        BudgetMeasure::ALL.into_iter().find(|m| m.name() == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_budget_measure_reads_back_from_its_name_and_the_names_differ() {
        for m in BudgetMeasure::ALL {
            assert_eq!(BudgetMeasure::parse(m.name()), Some(m), "{m:?}");
        }
        let mut names: Vec<&str> = BudgetMeasure::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BudgetMeasure::ALL.len());
        assert_eq!(
            BudgetMeasure::parse("top_ups"),
            None,
            "an account, not a measure"
        );
    }
}
