//! The scenario file as written (TOML), before any checks.
//!
//! These types mirror the file one to one and carry source spans ([`Spanned`]) on every value a check
//! can reject, so that errors can name the line. Nothing here is trusted: [`super::compile`] turns it
//! into a checked [`crate::model::Model`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A spanned parameter: a number, or a distribution table.
pub type Num = Spanned<Param>;

/// A real-valued parameter: a plain number, or a distribution (`{ dist = "gamma", mean = 66, sd = 4 }`)
/// drawn once per run in probabilistic sensitivity analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A number.
    Value(f64),
    /// A distribution table.
    Dist(crate::scenario::dist::Spec),
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Param, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Param;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a distribution table like { dist = \"gamma\", mean = 66.0, sd = 4.0 }")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Param, E> {
                Ok(Param::Value(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Param, E> {
                Ok(Param::Value(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Param, E> {
                Ok(Param::Value(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Param, A::Error> {
                crate::scenario::dist::Spec::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )
                .map(Param::Dist)
            }
        }
        d.deserialize_any(V)
    }
}
/// The time in state of the starting clients of one state: `[min, max]` cycles (uniform), or a table
/// of band weights `{ "0-2" = 120, "3-11" = 80, "12" = 10 }` (each band uniform within).
#[derive(Debug, Clone, PartialEq)]
pub enum TimeSpread {
    /// `[min, max]`.
    Range(Vec<i64>),
    /// Band (`"min-max"` or `"k"`) to weight.
    Bands(BTreeMap<String, f64>),
}

impl<'de> Deserialize<'de> for TimeSpread {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TimeSpread, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TimeSpread;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("[min, max] cycles, or a table of band weights like { \"0-2\" = 120, \"3-11\" = 80 }")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<TimeSpread, A::Error> {
                Vec::<i64>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(TimeSpread::Range)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<TimeSpread, A::Error> {
                BTreeMap::<String, f64>::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))
                .map(TimeSpread::Bands)
            }
        }
        d.deserialize_any(V)
    }
}

/// A table of spanned numbers keyed by state code (or year).
pub type NumMap = Spanned<BTreeMap<String, Num>>;

/// The whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name and description.
    pub scenario: Spanned<Meta>,
    /// Calendar start, cycle length, horizon.
    pub time: Spanned<Time>,
    /// Runs and seed.
    pub run: Spanned<Run>,
    /// The states (intensities), in order.
    #[serde(default)]
    pub state: Vec<Spanned<State>>,
    /// Areas: municipalities and their wijken/dorpen.
    #[serde(default)]
    pub area: Vec<Spanned<Area>>,
    /// Spread of time in state of the starting caseload, per state: `[min, max]` cycles, uniform, or
    /// band weights.
    #[serde(default)]
    pub initial_time_in_state: BTreeMap<String, Spanned<TimeSpread>>,
    /// New clients.
    pub inflow: Option<Spanned<Inflow>>,
    /// Transition rows.
    #[serde(default)]
    pub transition: Vec<Spanned<Transition>>,
    /// Cost items.
    #[serde(default)]
    pub cost: Vec<Spanned<Cost>>,
    /// Price indexation.
    pub indexation: Option<Spanned<Indexation>>,
    /// Own contribution (eigen bijdrage) policies.
    #[serde(default)]
    pub own_contribution: Vec<Spanned<OwnContribution>>,
    /// Budget regimes (wijkbudget / dorpsbudget); the provider regime is implicit.
    #[serde(default)]
    pub regime: Vec<Spanned<Regime>>,
    /// Arms: the baseline and the pilot designs compared with it.
    #[serde(default)]
    pub arm: Vec<Spanned<Arm>>,
    /// KPIs with targets per contract year.
    #[serde(default)]
    pub kpi: Vec<Spanned<Kpi>>,
    /// Outcomes besides cost: per-state weights per cycle.
    #[serde(default)]
    pub outcome: Vec<Spanned<Outcome>>,
    /// Discounting of costs and outcomes in `summary.csv`.
    pub discounting: Option<Spanned<Discounting>>,
    /// Capacity limits (staff): what the care in an area can carry per cycle.
    #[serde(default)]
    pub capacity: Vec<Spanned<Capacity>>,
}

/// `[[capacity]]`: a limit on the clients (or hours) of some states an area can carry per cycle.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Name, for messages and the report.
    pub name: Spanned<String>,
    /// The states the limit covers.
    pub states: Spanned<Vec<String>>,
    /// At most this many clients in those states, per area ...
    pub clients: Option<Num>,
    /// ... or per 1,000 inhabitants of the area.
    pub clients_per_1000_inhabitants: Option<Num>,
    /// Or at most this many hours per cycle, per area ...
    pub hours: Option<Num>,
    /// ... with these hours per client per cycle by state.
    pub hours_per_client: Option<NumMap>,
    /// The areas of this municipality (default: every area) ...
    pub municipality: Option<Spanned<String>>,
    /// ... or these areas.
    pub areas: Option<Spanned<Vec<String>>>,
    /// The arms it applies in (default: every arm).
    pub arms: Option<Spanned<Vec<String>>>,
    /// First month it applies, `YYYY-MM` (default: the start).
    pub from: Option<Spanned<String>>,
    /// Last month it applies, `YYYY-MM` (default: the horizon).
    pub until: Option<Spanned<String>>,
}

/// `[[outcome]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Short name.
    pub name: Spanned<String>,
    /// Dutch label.
    #[serde(default)]
    pub nl: String,
    /// English label.
    #[serde(default)]
    pub en: String,
    /// Weight per client per cycle in each state (states not listed weigh 0).
    pub weights: NumMap,
}

/// `[discounting]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discounting {
    /// Yearly discount rate of costs.
    pub costs: Num,
    /// Yearly discount rate of outcomes.
    pub outcomes: Num,
    /// When per-cycle rewards count: `start`, `end` or `half_cycle`.
    pub timing: Option<Spanned<String>>,
}

/// `[scenario]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short name, used in output folder names.
    pub name: Spanned<String>,
    /// Title for reports.
    #[serde(default)]
    pub title: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// What figures and the report call the people simulated, per language (default: `cliënten` /
    /// `clients` when some state holds an indication, else `personen` / `people`).
    pub population: Option<Spanned<Population>>,
    /// The currency of every amount, an ISO 4217 code (`GBP`; default `EUR`).
    pub currency: Option<Spanned<String>>,
}

/// `[time]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Time {
    /// Calendar start, `YYYY-MM`.
    pub start: Spanned<String>,
    /// Months per cycle (default 1).
    pub cycle_months: Option<Spanned<i64>>,
    /// Number of cycles simulated.
    pub cycles: Spanned<i64>,
}

/// `[run]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Number of independent runs.
    pub runs: Spanned<i64>,
    /// Master seed.
    pub seed: Spanned<i64>,
    /// The accepted chance of overspending a budget, for budget sizing (default 0.10).
    pub overspend_risk: Option<Num>,
    /// Runs of the baseline forecast behind `budget_percentile_of_baseline` (default 1000).
    pub forecast_runs: Option<Spanned<i64>>,
    /// Areas reported on their own besides the pilot areas (every table, scope `area`).
    pub report_areas: Option<Spanned<Vec<String>>>,
}

/// `[[state]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Short code, e.g. `BT`.
    pub code: Spanned<String>,
    /// Dutch label.
    #[serde(default)]
    pub nl: String,
    /// English label.
    #[serde(default)]
    pub en: String,
    /// Absorbing: clients who enter never leave (and leave the active population).
    #[serde(default)]
    pub absorbing: bool,
    /// Holds a Wmo indication (counts towards the indicated caseload).
    #[serde(default)]
    pub indicated: bool,
    /// An indication in this state lasts at most this many cycles; then it ends or is renewed.
    pub max_cycles: Option<Spanned<i64>>,
    /// The waiting status: clients wait here for a place under a capacity limit (no transition rows).
    #[serde(default)]
    pub waiting: bool,
}

/// `[[area]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Municipality (gemeente).
    pub municipality: Spanned<String>,
    /// Wijk or dorp; defaults to the municipality (the whole municipality as one area).
    pub name: Option<Spanned<String>>,
    /// Inhabitants.
    pub inhabitants: Option<Spanned<i64>>,
    /// Clients at the start, by state.
    #[serde(default)]
    pub caseload: BTreeMap<String, Spanned<i64>>,
    /// Overrides the scenario's initial time-in-state spread for some states of this area.
    #[serde(default)]
    pub initial_time_in_state: BTreeMap<String, Spanned<TimeSpread>>,
    /// Overrides the scenario's inflow rate for this area.
    pub inflow_per_1000_per_year: Option<Num>,
    /// Overrides the scenario's inflow rate for this area per calendar year (`{ 2021 = 3.1 }`); other
    /// years follow the nearest listed year with the scenario's trend.
    pub inflow_per_1000_by_year: Option<NumMap>,
}

/// `[inflow]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inflow {
    /// New clients per 1,000 inhabitants per year.
    pub per_1000_per_year: Num,
    /// Yearly growth of the rate (0.02 = +2% a year, compounding).
    pub trend_per_year: Option<Num>,
    /// Entry-state mix (probabilities summing to 1).
    pub entry: NumMap,
}

/// `[[transition]]`: one probability row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// From-state code.
    pub from: Spanned<String>,
    /// Cycles in state, counting the cycle just ended: `"1-11"`, `"12"`, `"12+"`. Default: all.
    pub cycles_in_state: Option<Spanned<String>>,
    /// Calendar period the row applies to: `"2021-01..2022-12"`, `"2023-01.."`, `"..2022-12"`.
    pub period: Option<Spanned<String>>,
    /// Probabilities by to-state code; `renew` = same state, new indication. With `counts = true`:
    /// observed counts instead (any sum).
    pub to: NumMap,
    /// Uncertainty of the whole row: a Dirichlet with this concentration around the mean row.
    pub concentration: Option<Num>,
    /// `to` holds observed counts: the row is their proportions, and its uncertainty a Dirichlet with
    /// the counts as parameters.
    pub counts: Option<bool>,
}

/// `[[cost]]`: one cost item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Cost line name (how it is reported).
    pub line: Spanned<String>,
    /// For per-cycle and entry costs: the state.
    pub state: Option<Spanned<String>>,
    /// Hours of support per month (with `tariff_per_hour`).
    pub hours_per_month: Option<Num>,
    /// Hourly tariff.
    pub tariff_per_hour: Option<Num>,
    /// Flat amount per client per month in the state.
    pub per_month: Option<Num>,
    /// Flat amount per client per year in the state (charged pro rata per cycle).
    pub per_year: Option<Num>,
    /// One-off fee on entering the state and on each renewal of its indication.
    pub per_entry: Option<Num>,
    /// Amount per transition (`from` → `to`).
    pub per_transition: Option<Num>,
    /// For transition costs: from-states (`inflow` = new clients); default all.
    pub from: Option<Spanned<Vec<String>>>,
    /// For transition costs: to-states.
    pub to: Option<Spanned<Vec<String>>>,
    /// Price level of the amounts (calendar year).
    pub price_year: Spanned<i64>,
    /// Municipalities this item applies to (default all).
    pub municipalities: Option<Spanned<Vec<String>>>,
    /// Calendar period the item applies to, as for transitions.
    pub period: Option<Spanned<String>>,
    /// `care` (default: support at a tariff, what a provider bills) or `community` (sociale basis,
    /// volunteer support: paid to the community, not care).
    pub kind: Option<Spanned<String>>,
}

/// `[indexation]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indexation {
    /// Yearly price change by calendar year (`2023 = 0.0643`: prices of 2023 are 6.43% above 2022).
    pub rates: NumMap,
    /// Rate for years after the table.
    pub later: Num,
}

/// `[[own_contribution]]`: eigen bijdrage / abonnementstarief as income.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnContribution {
    /// Cost line name (default `eigen_bijdrage`).
    pub line: Option<Spanned<String>>,
    /// Municipalities (default all).
    pub municipalities: Option<Spanned<Vec<String>>>,
    /// States whose clients pay.
    pub states: Spanned<Vec<String>>,
    /// Share of clients in these states who pay (0..1).
    pub share_paying: Num,
    /// Amount per month per paying client, by calendar year; later years keep the last amount.
    pub per_month_by_year: NumMap,
    /// First month it applies, `YYYY-MM` (default: from the start).
    pub from: Option<Spanned<String>>,
    /// Last month it applies, `YYYY-MM`, inclusive (default: to the horizon).
    pub until: Option<Spanned<String>>,
}

/// A regime's `bonus_malus` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusMalus {
    /// The KPI (by name).
    pub kpi: Spanned<String>,
    /// Paid to each budget pool of the regime in a contract year whose target is met.
    pub bonus: Option<Num>,
    /// Paid back by each pool in a contract year whose target is missed.
    pub malus: Option<Num>,
}

/// A regime's `bandbreedte` (risk sharing).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bandbreedte {
    /// Within ± this share of the budget the holder carries the difference.
    pub band: Num,
    /// Beyond it, this share of the difference is topped up or refunded.
    pub share: Num,
}

/// `[[regime]]`: a wijkbudget / dorpsbudget design.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regime {
    /// Name, referred to by arms.
    pub name: Spanned<String>,
    /// Yearly budget per inhabitant of the area.
    pub budget_per_inhabitant: Option<Num>,
    /// Yearly budget per area.
    pub budget_per_area: Option<Num>,
    /// Yearly budget as a share of the area's expected provider spend on the covered lines.
    pub budget_share_of_provider: Option<Num>,
    /// Yearly budget per pool: this quantile of the baseline forecast of the pool's spend.
    pub budget_percentile_of_baseline: Option<Num>,
    /// Price year of the budget amounts (indexed like costs); default the scenario's start year.
    pub price_year: Option<Spanned<i64>>,
    /// Cost lines paid from the budget.
    #[serde(default)]
    pub covers: Option<Spanned<Vec<String>>>,
    /// Effects (modifiers, prevention) grow linearly to full strength over this many cycles.
    pub phase_in_cycles: Option<Spanned<i64>>,
    /// Share of new clients handled by the sociale basis without an indication.
    pub prevention: Option<Num>,
    /// The state prevented clients go to (default `SB`).
    pub prevention_state: Option<Spanned<String>>,
    /// Removed (a budget never holds back care): read only to refuse it with the fix.
    pub on_exhaustion: Option<Spanned<String>>,
    /// Removed, as `on_exhaustion`.
    pub step_down_from: Option<Spanned<String>>,
    /// Removed, as `on_exhaustion`.
    pub step_down_to: Option<Spanned<String>>,
    /// A surplus at year end: `returned`, `carried_over` or `reinvested`.
    pub on_surplus: Option<Spanned<String>>,
    /// `reinvested`: the cost of one prevented indication, at the regime's price year.
    pub cost_per_prevented_indication: Option<Num>,
    /// The unit that shares a budget: `area` (default), `municipality` or `region`.
    pub pool: Option<Spanned<String>>,
    /// Risk sharing: `{ band = 0.05, share = 0.5 }`.
    pub bandbreedte: Option<Spanned<Bandbreedte>>,
    /// Fixed costs of community infrastructure paid from the budget.
    #[serde(default)]
    pub fixed_cost: Vec<Spanned<FixedCost>>,
    /// Bonus or malus on KPI targets, per contract year.
    #[serde(default)]
    pub bonus_malus: Vec<Spanned<BonusMalus>>,
    /// Transition modifiers (hazard ratios or relative risks).
    #[serde(default)]
    pub modifier: Vec<Spanned<Modifier>>,
    /// Transition rows that replace the provider's rows under the regime (same shape as
    /// `[[transition]]`; cells no row covers keep the provider's row).
    #[serde(default)]
    pub transition: Vec<Spanned<Transition>>,
    /// Cost items under the regime (same shape as `[[cost]]`): each replaces the `[[cost]]` items of
    /// the same line, kind and state in the cycles it applies, or adds a line.
    #[serde(default)]
    pub cost: Vec<Spanned<Cost>>,
    /// Reassessments: long-staying clients are reviewed, and a successful review moves them to a
    /// lighter state.
    #[serde(default)]
    pub reassessment: Vec<Spanned<Reassessment>>,
}

/// `[[regime.fixed_cost]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedCost {
    /// Cost line.
    pub line: Spanned<String>,
    /// Amount per area per year.
    pub per_year: Option<Num>,
    /// Amount per inhabitant per year.
    pub per_inhabitant_per_year: Option<Num>,
    /// Price year.
    pub price_year: Spanned<i64>,
}

/// `[[regime.modifier]]`: multiplies the hazard or the probability of one transition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modifier {
    /// From-state.
    pub from: Spanned<String>,
    /// To-state, or `renew`.
    pub to: Spanned<String>,
    /// Hazard ratio (1 = no effect).
    pub hazard_ratio: Option<Num>,
    /// Relative risk on the probability (1 = no effect); the stay probability absorbs the difference.
    pub relative_risk: Option<Num>,
    /// Calendar period the modifier applies to (while under the regime), as for transitions.
    pub period: Option<Spanned<String>>,
}

/// `[[regime.reassessment]]`: clients in `from` for at least `after_cycles` cycles are reviewed at a
/// rate, and a review succeeds (moves them to `to`) with a probability.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reassessment {
    /// The state reviewed.
    pub from: Spanned<String>,
    /// The state a successful review moves the client to.
    pub to: Spanned<String>,
    /// Reviewed from this many cycles in state on (counting the cycle just ended, as
    /// `cycles_in_state`).
    pub after_cycles: Spanned<i64>,
    /// Reviews per client per year (a Poisson rate).
    pub reviews_per_year: Num,
    /// Probability that a review moves the client.
    pub success: Num,
    /// Calendar period it applies to (while under the regime), as for transitions.
    pub period: Option<Spanned<String>>,
}

/// `[[arm]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    /// Name.
    pub name: Spanned<String>,
    /// How figures and the report name the arm, per language (default: the name).
    pub label: Option<Spanned<Label>>,
    /// Areas put under a regime from a month on; all other areas stay with the provider model.
    #[serde(default)]
    pub assign: Vec<Spanned<Assign>>,
}

/// What the people simulated are called: `{ nl = "patiënten", en = "patients" }`, and one of them
/// in English when wijksim does not know it (`singular = "walrus"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Dutch, plural.
    pub nl: Option<Spanned<String>>,
    /// English, plural.
    pub en: Option<Spanned<String>>,
    /// English, singular.
    pub singular: Option<Spanned<String>>,
}

/// A name for people, per language: `{ nl = "Dorpsbudget Noord-Beveland", en = "Village budget" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Dutch.
    pub nl: Option<Spanned<String>>,
    /// English.
    pub en: Option<Spanned<String>>,
}

/// One assignment of areas to a regime.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// All areas of this municipality.
    pub municipality: Option<Spanned<String>>,
    /// Or these areas (wijk/dorp names).
    pub areas: Option<Spanned<Vec<String>>>,
    /// The regime.
    pub regime: Spanned<String>,
    /// First month under the regime, `YYYY-MM`.
    pub from: Spanned<String>,
    /// Last month under the regime, `YYYY-MM` (default: to the horizon).
    pub until: Option<Spanned<String>>,
    /// What follows `until`: `provider` (the default: back to the provider model) or `continue`.
    pub after: Option<Spanned<String>>,
}

/// `[[kpi]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kpi {
    /// Short name.
    pub name: Spanned<String>,
    /// Dutch label.
    #[serde(default)]
    pub nl: String,
    /// English label.
    #[serde(default)]
    pub en: String,
    /// Where the KPI comes from.
    #[serde(default)]
    pub source: String,
    /// `share`, `flow_share`, `evaluations` or `count`.
    pub kind: Spanned<String>,
    /// `share`: states; `flow_share`: moves `"FROM>TO"` (`*`, `inflow`, `renew` allowed).
    pub numerator: Option<Spanned<Vec<String>>>,
    /// As `numerator`.
    pub denominator: Option<Spanned<Vec<String>>>,
    /// `share`: the share (0..1) of a state's clients counted, in numerator and denominator alike
    /// (states not named count in full).
    pub weights: Option<NumMap>,
    /// `evaluations`: the states whose clients are evaluated yearly; `count`: the states whose clients
    /// are counted.
    pub states: Option<Spanned<Vec<String>>>,
    /// `count`: `during` (default: in the states at the start of the contract year or entering them
    /// during it), `average` (mean stock over its cycles) or `end` (stock in its last cycle).
    pub count: Option<Spanned<String>>,
    /// `evaluations`: cost of one evaluation.
    pub cost_per_evaluation: Option<Num>,
    /// `evaluations`: price year of the cost.
    pub price_year: Option<Spanned<i64>>,
    /// `evaluations`: share of due evaluations planned.
    pub planned_share: Option<Num>,
    /// For evaluations: the cost line the evaluations held are booked on (who pays follows the line:
    /// a budget that covers it, else the municipality).
    pub line: Option<Spanned<String>>,
    /// Targets by contract year (`1 = 0.20`; for `count`, a number of clients: `3 = 165`).
    pub targets: NumMap,
    /// Later contract years keep the last target (default true).
    pub keep_last_target: Option<bool>,
    /// Whether higher values are better (default true).
    pub higher_is_better: Option<bool>,
    /// First month of contract year 1 (default the scenario's start).
    pub contract_start: Option<Spanned<String>>,
    /// The scopes it is evaluated over: `region`, `municipality` (each), `pilot_areas`, `area` (each
    /// reported area), or a municipality's or an area's name (default: the region and the pilot areas).
    pub scopes: Option<Spanned<Vec<String>>>,
    /// Refused (one scope per KPI, before `scopes`): named in the error with the fix.
    pub municipality: Option<Spanned<String>>,
    /// Refused, as `municipality`.
    pub areas: Option<Spanned<Vec<String>>>,
}
