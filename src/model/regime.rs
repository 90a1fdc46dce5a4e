//! Regimes and arms: the provider model and wijkbudget / dorpsbudget designs, and which areas are under
//! which regime from when.
//!
//! A budget regime changes the transition rows of its areas: it may replace rows outright, scale
//! probabilities by relative risks ([`relative_risk_row`](super::row::relative_risk_row)) and hazards by hazard ratios ([`modify_row`](super::row::modify_row)).
//! It may replace or add cost items over a period (a pilot tariff, a trajectprijs), diverts a share of new
//! clients to the sociale basis (prevention), adds fixed costs of community infrastructure, and pays the
//! cost lines it covers from a yearly budget. Effects phase in linearly.

use crate::model::CostItem;

/// What happens to a surplus at year end (after any refund under [`RiskSharing`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Surplus {
    /// Returned to the municipality.
    Returned,
    /// Carried over to the next year (a reserve: a balance of the holder, not a cost); returned at the
    /// end of the pilot period.
    CarriedOver,
    /// Spent on prevention in the next pilot year: every euro buys `1 / cost` prevented indications, so
    /// the next year's new clients of the pool are diverted to the prevention state with an extra
    /// probability (see [`crate::engine::budget`]). The value is the cost per prevented indication at the
    /// regime's price year. A surplus of the pilot's last year is returned.
    Reinvested(f64),
}

/// Risk sharing between the municipality and the budget holder ("bandbreedte"): within `band` × the
/// budget the holder carries an overspend or keeps a surplus; beyond it the municipality tops up `share`
/// of the overspend, and the holder refunds `share` of the surplus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskSharing {
    /// The band as a share of the year's budget (0.05 = ±5%).
    pub band: f64,
    /// The share of the difference beyond the band that is topped up or refunded.
    pub share: f64,
}

/// A bonus paid to each budget pool of a regime in a contract year whose KPI target is met, or a
/// malus it pays back when the target is missed (nominal euros per contract year).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BonusMalus {
    /// Index into the model's KPIs.
    pub kpi: usize,
    /// Bonus when met.
    pub bonus: f64,
    /// Malus when missed.
    pub malus: f64,
}

/// Which areas of an arm under one regime share a budget (the budget holder's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolUnit {
    /// Every area its own budget.
    Area,
    /// The areas of one municipality together.
    Municipality,
    /// All areas of the region together.
    Region,
}

impl PoolUnit {
    /// The scope's name in every output: `area`, `municipality` or `region`.
    pub fn name(self) -> &'static str {
        match self {
            PoolUnit::Area => "area",
            PoolUnit::Municipality => "municipality",
            PoolUnit::Region => "region",
        }
    }
}

/// A budget pool of an arm: areas under the same regime and pilot period that share one budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// What it is called in every output: the area's name, the municipality's, or `regio`.
    pub name: String,
    /// Its unit.
    pub unit: PoolUnit,
    /// Index into the model's regimes.
    pub regime: usize,
    /// Its areas, in model order.
    pub areas: Vec<usize>,
}

/// How the yearly budget of an area is set (amounts at the regime's price year).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BudgetRule {
    /// Per inhabitant per year.
    PerInhabitant(f64),
    /// Per area per year.
    PerArea(f64),
    /// A share of the area's expected provider spend on the covered lines.
    ShareOfProvider(f64),
    /// Per pool and year, this quantile (0.8 = P80) of what the pool's budget holder would spend under
    /// the provider model, from a forecast of the baseline made before the pilot (see
    /// [`crate::plan::forecast_budgets`]).
    BaselinePercentile(f64),
    /// No limit (a regime without a budget).
    Unlimited,
}

/// A fixed cost of community infrastructure, per area.
#[derive(Debug, Clone)]
pub struct FixedCost {
    /// Index into the model's cost lines.
    pub line: usize,
    /// Nominal amount per area per cycle, by cycle (indexed).
    pub per_area: Vec<f64>,
    /// Nominal amount per inhabitant per cycle, by cycle (indexed).
    pub per_inhabitant: Vec<f64>,
}

impl FixedCost {
    /// The amount in cycle `c` for an area of `inhabitants`.
    pub fn at(&self, c: usize, inhabitants: u64) -> f64 {
        self.per_area[c] + self.per_inhabitant[c] * inhabitants as f64
    }
}

/// A compiled regime.
#[derive(Debug, Clone)]
pub struct Regime {
    /// Name.
    pub name: String,
    /// Budget rule.
    pub budget: BudgetRule,
    /// Price factor by cycle for budget amounts (1 at the price year).
    pub budget_index: Vec<f64>,
    /// Covered cost lines (mask over the model's lines).
    pub covers: Vec<bool>,
    /// Cycles over which effects phase in (0 = at once).
    pub phase_in: u32,
    /// Share of new clients diverted at full strength.
    pub prevention: f64,
    /// State diverted clients enter.
    pub prevention_state: usize,
    /// Surplus policy.
    pub surplus: Surplus,
    /// Risk sharing (`None`: the municipality tops up every overspend; the holder keeps no loss).
    pub risk_sharing: Option<RiskSharing>,
    /// Which areas share a budget.
    pub pool: PoolUnit,
    /// The cost line on which reinvested surpluses are booked (community support), if any.
    pub reinvest_line: Option<usize>,
    /// Bonus or malus on KPI targets.
    pub bonus_malus: Vec<BonusMalus>,
    /// Fixed costs.
    pub fixed: Vec<FixedCost>,
    /// Modifiers of transition probabilities, in file order.
    pub modifiers: Vec<Modifier>,
    /// Cost items of the regime: each replaces, in the cycles it applies, the model's items of the same
    /// line, kind and state (see [`CostItem::slot`]), or adds a line.
    pub costs: Vec<RegimeCost>,
    /// Reassessments of long-staying clients, in file order.
    pub reassessments: Vec<Reassessment>,
}

/// How a modifier changes a transition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Multiplies the hazard of the move (the row stays valid whatever the ratio).
    HazardRatio(f64),
    /// Multiplies the probability of the move; the stay probability absorbs the difference.
    RelativeRisk(f64),
}

impl Effect {
    /// The value (ratio or relative risk).
    pub fn value(self) -> f64 {
        match self {
            Effect::HazardRatio(v) | Effect::RelativeRisk(v) => v,
        }
    }
}

/// A compiled transition modifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Modifier {
    /// From-state.
    pub from: usize,
    /// To-state or [`RENEW`](super::RENEW).
    pub to: u8,
    /// Hazard ratio or relative risk.
    pub effect: Effect,
    /// Cycles it applies to (inclusive; open ends as `i64::MIN`/`i64::MAX`), besides being under the
    /// regime.
    pub period: (i64, i64),
    /// Its position among the regime's `[[regime.modifier]]` tables in the file.
    pub source: usize,
}

/// A compiled reassessment: a client in `from` with at least `after` cycles in state (counting the
/// cycle just ended) is reviewed and moved to `to` with probability `q` per cycle (at full strength).
#[derive(Debug, Clone, PartialEq)]
pub struct Reassessment {
    /// The state reviewed.
    pub from: usize,
    /// The state a successful review moves the client to (never `from`).
    pub to: usize,
    /// Cycles in state from which clients are reviewed (at least 1).
    pub after: u16,
    /// Probability per cycle that a review takes place and succeeds: `success × (1 − exp(−reviews per
    /// year × cycle length in years))`.
    pub q: f64,
    /// Cycles it applies to (inclusive; open ends as `i64::MIN`/`i64::MAX`), besides being under the
    /// regime.
    pub period: (i64, i64),
    /// Its position among the regime's reassessments in the file.
    pub source: usize,
}

/// A regime's cost item and the cycles it applies to.
#[derive(Debug, Clone)]
pub struct RegimeCost {
    /// The item (amounts are 0 outside its period).
    pub item: CostItem,
    /// By cycle: whether the item applies (inside its period).
    pub applies: Vec<bool>,
}

impl Regime {
    /// Strength of the effects in the `k`-th cycle under the regime (0-based): linear phase-in.
    pub fn ramp(&self, k: u32) -> f64 {
        if self.phase_in == 0 {
            1.0
        } else {
            (f64::from(k + 1) / f64::from(self.phase_in)).min(1.0)
        }
    }
}

/// One area's plan in an arm: a regime over a period of cycles, the provider model before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Index into the model's regimes.
    pub regime: usize,
    /// First cycle under the regime.
    pub start: u32,
    /// First cycle back under the provider model (exclusive end of the pilot period): the horizon when
    /// the regime goes on to the end (no `until`, or `after = "continue"`).
    pub end: u32,
    /// Index into the model's regime transition tables.
    pub table: usize,
    /// Index into the arm's budget pools.
    pub pool: usize,
}

impl Plan {
    /// Whether cycle `c` is under the regime (`start <= c < end`).
    pub fn active(&self, c: usize) -> bool {
        self.start as usize <= c && c < self.end as usize
    }

    /// The cycles under the regime.
    pub fn cycles(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// An arm: the regime plan of every area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    /// Name.
    pub name: String,
    /// Dutch label for figures and the report (empty: none given).
    pub nl: String,
    /// English label (empty: none given).
    pub en: String,
    /// Per area: `None` = provider model throughout.
    pub plans: Vec<Option<Plan>>,
    /// Budget pools, in order of their first area.
    pub pools: Vec<Pool>,
}
