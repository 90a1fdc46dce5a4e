//! A run's model re-derived from the sections its draws touch, instead of the whole scenario compiled
//! anew for every run of a probabilistic sensitivity analysis.
//!
//! [`Parts`] holds every section of a scenario compiled at the parameters' means (the states and areas,
//! the entry mix, the provider's transition table, the costs, the regimes, the arms' tables, the KPIs
//! ...) and whether compiling it consulted a distribution. A run compiles anew only the sections that
//! did, and those whose inputs came out different; it takes the others as they are. A section that
//! consults no distribution is a function of the file and its inputs alone, so with the same inputs it
//! gives what the full compile gives, to the bit (tested against the full compile on every scenario
//! with uncertainty). A run whose sections report any problem is compiled in full instead
//! ([`super::compile::compile_raw`]), so that its messages are exactly the full compile's.

use super::check::{Ctx, MAX_CYCLES};
use super::compile::{self, Base};
use super::costs::Index;
use super::raw::ScenarioFile;
use super::regimes::{Context, RegimeRows};
use super::time_areas::AreaRate;
use crate::error::Problems;
use crate::model::kpi::Kpi;
use crate::model::regime::{Arm, Regime};
use crate::model::scope::Scope;
use crate::model::{
    Area, Capacity, CostItem, Discount, LineKind, Model, Outcome, Row, Transitions,
};
use std::borrow::Cow;

/// A section's output, compiled in this pass (owned) or taken from the means (borrowed), and whether
/// compiling it consulted a distribution.
struct Part<'a, T: Clone> {
    value: Cow<'a, T>,
    drew: bool,
}

impl<T: Clone> Part<'_, T> {
    /// Whether this pass compiled the section.
    fn fresh(&self) -> bool {
        matches!(self.value, Cow::Owned(_))
    }
}

/// The section of the means (`prev`) when it consulted no distribution and its inputs are as they were
/// (`stale` false); else the section compiled by `f`, noting whether it consulted a distribution.
fn part<'a, T: Clone>(
    cx: &mut Ctx,
    prev: Option<&'a Part<'_, T>>,
    stale: bool,
    f: impl FnOnce(&mut Ctx) -> T,
) -> Part<'a, T> {
    if let Some(p) = prev
        && !p.drew
        && !stale
    {
        return Part {
            value: Cow::Borrowed(&*p.value),
            drew: false,
        };
    }
    let before = std::mem::replace(&mut cx.uncertain, false);
    let value = f(cx);
    let drew = cx.uncertain;
    cx.uncertain |= before;
    Part {
        value: Cow::Owned(value),
        drew,
    }
}

/// The cost lines (those of the [[cost]] items, and after the regimes' own), the regimes and the kinds
/// of the lines.
type Regimes = (Vec<Regime>, Vec<String>, Vec<LineKind>);
/// The arms and the transition table of every (regime, start, end) they use.
type Arms = (Vec<Arm>, Vec<Transitions>);

/// What is reported, and what limits care: the sections after the arms.
#[derive(Clone)]
struct Rest {
    capacities: Vec<Capacity>,
    scopes: Vec<Scope>,
    kpis: Vec<Kpi>,
    outcomes: Vec<Outcome>,
    discount: Discount,
}

/// The name, the people's words, the currency, `run.overspend_risk` and `run.forecast_runs`.
#[derive(Clone)]
struct Misc {
    name: String,
    population: ((String, String), String),
    currency: crate::model::currency::Currency,
    overspend_risk: f64,
    forecast_runs: Option<u32>,
}

/// Every section of a scenario, at the means ([`Parts::new`]) or for a run ([`Parts::model_for_run`]).
pub(super) struct Parts<'a> {
    /// The sections before the policies.
    early: Sections<'a>,
    regime_rows: Part<'a, Vec<RegimeRows>>,
    regimes: Part<'a, Regimes>,
    arms: Part<'a, Arms>,
    /// The cost items of every (regime, start, end) the arms use.
    cost_sets: Part<'a, Vec<Option<Vec<CostItem>>>>,
    rest: Part<'a, Rest>,
    flows: Part<'a, Vec<(usize, u8)>>,
}

impl std::fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

impl Parts<'static> {
    /// The sections of a scenario at the means; `None` when it has a problem.
    pub(super) fn new(file: &str, text: &str, raw: &ScenarioFile) -> Option<Parts<'static>> {
        let mut cx = Ctx {
            problems: Problems::new(file, text),
            draw: None,
            uncertain: false,
        };
        let parts = pass(&mut cx, raw, None)?;
        cx.problems.is_empty().then_some(parts)
    }
}

impl Parts<'_> {
    /// The model of run `run` of master seed `seed`, from the sections the run's draws touch and the
    /// others of these (the means'); `None` when a section reports a problem (the full compile then
    /// reports it).
    pub(super) fn model_for_run(
        &self,
        (file, text): (&str, &str),
        raw: &ScenarioFile,
        (seed, run): (u64, u32),
    ) -> Option<Model> {
        if self.early.base.drew {
            return None;
        }
        let mut cx = Ctx {
            problems: Problems::new(file, text),
            draw: Some((seed, run)),
            uncertain: false,
        };
        let parts = pass(&mut cx, raw, Some(self))?;
        parts.model(&mut cx, raw, self)
    }
}

/// The sections of a pass: all compiled (`prev` `None`), or those the run's draws touch, the others
/// taken from `prev`. `None` when a section that others need has a problem.
fn pass<'a>(cx: &mut Ctx, raw: &ScenarioFile, prev: Option<&'a Parts>) -> Option<Parts<'a>> {
    let base = part(cx, prev.map(|p| &p.early.base), false, |cx| base(cx, raw));
    let b = base.value.as_ref().as_ref()?;
    let misc = part(cx, prev.map(|p| &p.early.misc), false, |cx| {
        misc(cx, raw, b)
    });
    let frame = frame_of(b);
    let inflow = part(cx, prev.map(|p| &p.early.inflow), false, |cx| {
        super::time_areas::inflow(cx, raw, &b.codes, &b.states)
    });
    let transitions = part(cx, prev.map(|p| &p.early.transitions), false, |cx| {
        super::transitions::transitions(cx, raw, &frame)
    });
    let stale = inflow.fresh() || transitions.fresh();
    let provider_flows = part(cx, prev.map(|p| &p.early.provider_flows), stale, |_| {
        transitions.value.as_ref().as_ref().map_or(Vec::new(), |t| {
            super::transitions::flows(t, &inflow.value.0, b.states.len())
        })
    });
    let index = part(cx, prev.map(|p| &p.early.index), false, |cx| {
        super::costs::indexation(cx, raw)
    });
    let costs = part(cx, prev.map(|p| &p.early.costs), index.fresh(), |cx| {
        super::costs::costs(cx, raw, &cost_frame(b, &index.value))
    });
    let area_rates = part(cx, prev.map(|p| &p.early.area_rates), false, |cx| {
        (raw.area.iter().enumerate())
            .map(|(i, a)| super::time_areas::area_rate(cx, i, a))
            .collect()
    });
    let stale = inflow.fresh() || area_rates.fresh();
    let areas = part(cx, prev.map(|p| &p.early.areas), stale, |cx| {
        let mut areas = b.areas.clone();
        if let Some(rates) = inflow.value.1 {
            let time = (b.start, b.cycle_months, b.cycles);
            compile::set_inflow(cx, raw, (&mut areas, time), &area_rates.value, rates);
        }
        areas
    });
    let sections = Sections {
        base,
        misc,
        inflow,
        transitions,
        provider_flows,
        index,
        costs,
        area_rates,
        areas,
    };
    policies(cx, raw, prev, sections)
}

/// The sections before the policies, as [`pass`] compiles them.
struct Sections<'a> {
    base: Part<'a, Option<Base>>,
    misc: Part<'a, Misc>,
    inflow: Part<'a, (Row, Option<(f64, f64)>)>,
    transitions: Part<'a, Option<Transitions>>,
    /// The moves of the provider's table and the entry mix.
    provider_flows: Part<'a, Vec<(usize, u8)>>,
    index: Part<'a, Option<Index>>,
    costs: Part<'a, (Vec<String>, Vec<CostItem>)>,
    area_rates: Part<'a, Vec<Option<AreaRate>>>,
    /// The areas with their mean inflow.
    areas: Part<'a, Vec<Area>>,
}

/// The policies' sections (regimes, arms, what is reported) and the moves of every table, after `s`.
fn policies<'a>(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    prev: Option<&'a Parts>,
    s: Sections<'a>,
) -> Option<Parts<'a>> {
    let b = s.base.value.as_ref().as_ref()?;
    let (frame, cost_frame) = (frame_of(b), cost_frame(b, &s.index.value));
    let absorbing: Vec<bool> = b.states.iter().map(|s| s.absorbing).collect();
    let cost_lines = &s.costs.value.0;
    let k = context(b, (&frame, &cost_frame), &absorbing, cost_lines.len());
    let regime_rows = part(cx, prev.map(|p| &p.regime_rows), false, |cx| {
        super::regimes::all_regime_rows(cx, raw, &k)
    });
    // Without `prev` everything is compiled anyway.
    let lines_differ = prev.is_none_or(|p| *p.early.costs.value.0 != **cost_lines);
    let regimes = part(
        cx,
        prev.map(|p| &p.regimes),
        s.index.fresh() || lines_differ,
        |cx| regimes(cx, raw, &k, cost_lines.clone()),
    );
    let stale = [s.index.fresh(), s.transitions.fresh(), lines_differ]
        .into_iter()
        .chain([regime_rows.fresh(), regimes.fresh()])
        .any(|x| x);
    let arms = part(cx, prev.map(|p| &p.arms), stale, |cx| {
        let (r, rows) = (&regimes.value.0, &regime_rows.value);
        let p = s.transitions.value.as_ref().as_ref();
        // The arms' cost items are the next section's.
        let (arms, tables, _) = super::regimes::arms(cx, raw, &k, (r, rows), p, &[]);
        (arms, tables)
    });
    let stale = arms.fresh() || s.costs.fresh() || regimes.fresh();
    let cost_sets = part(cx, prev.map(|p| &p.cost_sets), stale, |_| {
        super::regimes::cost_sets(&arms.value.0, &s.costs.value.1, &regimes.value.0)
    });
    let stale = s.index.fresh()
        || lines_differ
        || prev.is_none_or(|p| p.regimes.value.1 != regimes.value.1)
        || (arms.fresh()
            && prev.is_none_or(|p| arm_keys(&p.arms.value.0) != arm_keys(&arms.value.0)));
    let rest = part(cx, prev.map(|p| &p.rest), stale, |cx| {
        rest(cx, raw, &k, &arms.value.0, &regimes.value.1)
    });
    // The moves follow from which row each cell of a table has and the rows' targets, and from which
    // regimes send new clients to prevention: a draw that changes only probabilities or shares
    // leaves them as they were.
    let n = b.states.len();
    let stale = s.provider_flows.fresh()
        || rest.fresh()
        || (regimes.fresh()
            && prev.is_none_or(|p| {
                compile::prevention_flows(n, &p.regimes.value.0)
                    != compile::prevention_flows(n, &regimes.value.0)
            }))
        || (arms.fresh()
            && prev.is_none_or(|p| {
                let (was, now) = (&p.arms.value.1, &arms.value.1);
                was.len() != now.len()
                    || !was
                        .iter()
                        .zip(now)
                        .all(|(a, b)| super::transitions::same_flows(a, b))
            }));
    let flows = part(cx, prev.map(|p| &p.flows), stale, |_| {
        let first = s.provider_flows.value.to_vec();
        let p = (&regimes.value.0[..], &rest.value.capacities[..]);
        compile::all_flows(&b.states, first, &arms.value.1, p, &s.inflow.value.0)
    });
    Some(Parts {
        regime_rows,
        regimes,
        arms,
        cost_sets,
        rest,
        flows,
        early: s,
    })
}

/// The horizon, the states and the areas (without their inflow); `None` beyond the longest horizon.
fn base(cx: &mut Ctx, raw: &ScenarioFile) -> Option<Base> {
    let time = super::time_areas::time(cx, raw.time.get_ref());
    if *raw.time.get_ref().cycles.get_ref() > MAX_CYCLES {
        return None;
    }
    Some(compile::base(cx, raw, time))
}

/// The sections of the model's own keys: name, people, currency, `[run]`.
fn misc(cx: &mut Ctx, raw: &ScenarioFile, b: &Base) -> Misc {
    let name = compile::scenario_name(cx, raw);
    let run = raw.run.get_ref();
    compile::check_run(cx, run);
    Misc {
        name,
        overspend_risk: compile::overspend_risk(cx, run),
        population: compile::population(cx, raw, &b.states),
        currency: compile::currency(cx, raw),
        forecast_runs: compile::forecast_runs(cx, run),
    }
}

/// What transition rows are checked against.
fn frame_of(b: &Base) -> super::transitions::Frame<'_> {
    super::transitions::Frame {
        codes: &b.codes,
        states: &b.states,
        start: b.start,
        cycle_months: b.cycle_months,
        cycles: b.cycles,
        max_cycles: &b.max_cycles,
    }
}

/// What cost items are checked against.
fn cost_frame<'a>(b: &'a Base, index: &'a Option<Index>) -> super::costs::Frame<'a> {
    super::costs::Frame {
        codes: &b.codes,
        munis: &b.municipalities,
        start: b.start,
        cycle_months: b.cycle_months,
        years: &b.years,
        index,
    }
}

/// What the regimes, arms and reports are checked against.
fn context<'a>(
    b: &'a Base,
    (rows, costs): (
        &'a super::transitions::Frame<'a>,
        &'a super::costs::Frame<'a>,
    ),
    absorbing: &'a [bool],
    cost_lines: usize,
) -> Context<'a> {
    Context {
        codes: &b.codes,
        absorbing,
        munis: &b.municipalities,
        areas: &b.areas,
        start: b.start,
        cycle_months: b.cycle_months,
        cycles: b.cycles,
        years: &b.years,
        index: costs.index,
        cost_lines,
        rows,
        costs,
    }
}

/// The regimes (without their rows), the cost lines after their own and the kinds of the lines, as
/// the full compile's policies compile them.
fn regimes(cx: &mut Ctx, raw: &ScenarioFile, k: &Context, mut lines: Vec<String>) -> Regimes {
    let mut regimes = super::regimes::regimes_alone(cx, raw, k, &mut lines);
    let kinds = compile::line_kinds(cx, raw, &lines);
    compile::cover_care(raw, k.cost_lines, &kinds, &mut regimes);
    (regimes, lines, kinds)
}

/// What the sections after the arms take from them: the arms' names, and the areas some arm puts
/// under a regime.
fn arm_keys(arms: &[Arm]) -> (Vec<&str>, Vec<usize>) {
    let names = arms.iter().map(|a| a.name.as_str()).collect();
    let areas = arms.first().map_or(0, |a| a.plans.len());
    let pilot = (0..areas)
        .filter(|&a| arms.iter().any(|arm| arm.plans[a].is_some()))
        .collect();
    (names, pilot)
}

/// Capacities, scopes, KPIs, outcomes and discounting, as the full compile's policies compile them.
fn rest(cx: &mut Ctx, raw: &ScenarioFile, k: &Context, arms: &[Arm], lines: &[String]) -> Rest {
    let (names, pilot_areas) = arm_keys(arms);
    let names: Vec<String> = names.into_iter().map(str::to_string).collect();
    let capacities = super::capacity::capacities(cx, raw, k, &names);
    let scopes = super::kpis::scopes(cx, raw, k, &pilot_areas);
    let kpis = super::kpis::kpis(cx, raw, k, &scopes, lines);
    Rest {
        capacities,
        scopes,
        kpis,
        outcomes: super::kpis::outcomes(cx, raw, k),
        discount: super::kpis::discount(cx, raw, k),
    }
}

impl Parts<'_> {
    /// Whether compiling some section consulted a distribution.
    fn drew(&self) -> bool {
        let e = &self.early;
        [e.base.drew, e.misc.drew, e.inflow.drew, e.transitions.drew]
            .into_iter()
            .chain([e.provider_flows.drew, e.index.drew, e.costs.drew])
            .chain([e.area_rates.drew, e.areas.drew])
            .chain([self.regime_rows.drew, self.regimes.drew, self.arms.drew])
            .chain([self.cost_sets.drew, self.rest.drew, self.flows.drew])
            .any(|d| d)
    }

    /// Whether the names the full compile checks for the workbook's cells (of the states, areas, lines,
    /// arms, KPIs and outcomes) are those of the means (`prev`), which were checked.
    fn same_names(&self, prev: &Parts) -> bool {
        !self.rest.fresh()
            && !self.early.base.fresh()
            && self.regimes.value.1 == prev.regimes.value.1
            && self.arms.value.0 == prev.arms.value.0
    }

    /// Whether the sizes the full compile checks against the outputs and the memory budget
    /// ([`compile::check_size`]: the arms, scopes, KPIs, outcomes, lines, moves, tables and cost
    /// items) are those of the means (`prev`), which were checked.
    fn same_sizes(&self, prev: &Parts) -> bool {
        let cells = |t: &[Transitions]| t.iter().map(|t| t.row_of().len()).collect::<Vec<_>>();
        let items = |c: &[Option<Vec<CostItem>>]| {
            c.iter()
                .map(|c| c.as_ref().map(Vec::len))
                .collect::<Vec<_>>()
        };
        let table = |p: &Parts| {
            p.early
                .transitions
                .value
                .as_ref()
                .as_ref()
                .map(|t| t.row_of().len())
        };
        self.same_names(prev)
            && self.flows.value == prev.flows.value
            && table(self) == table(prev)
            && cells(&self.arms.value.1) == cells(&prev.arms.value.1)
            && self.early.costs.value.1.len() == prev.early.costs.value.1.len()
            && items(&self.cost_sets.value) == items(&prev.cost_sets.value)
    }

    /// The model of these sections, checked as the full compile checks it (what may differ from the
    /// means, `prev`); `None` on a problem.
    fn model(self, cx: &mut Ctx, raw: &ScenarioFile, prev: &Parts) -> Option<Model> {
        let uncertain = self.drew();
        let (same_names, same_sizes) = (self.same_names(prev), self.same_sizes(prev));
        let b = self.early.base.value.as_ref().as_ref()?;
        let misc = self.early.misc.value.into_owned();
        let (regimes, lines, line_kinds) = self.regimes.value.into_owned();
        let (arms, regime_tables) = self.arms.value.into_owned();
        let regime_costs = self.cost_sets.value.into_owned();
        let rest = self.rest.value.into_owned();
        let run = raw.run.get_ref();
        let mut model = Model {
            name: misc.name,
            title: raw.scenario.get_ref().title.clone(),
            population: misc.population.0,
            population_one: misc.population.1,
            currency: misc.currency,
            states: b.states.clone(),
            start: b.start,
            cycle_months: b.cycle_months,
            cycles: b.cycles,
            runs: *run.runs.get_ref() as u32,
            seed: *run.seed.get_ref() as u64,
            overspend_risk: misc.overspend_risk,
            municipalities: b.municipalities.clone(),
            areas: self.early.areas.value.into_owned(),
            entry: self.early.inflow.value.0.clone(),
            transitions: self.early.transitions.value.into_owned()?,
            lines,
            line_kinds,
            costs: self.early.costs.value.1.clone(),
            flows: self.flows.value.into_owned(),
            regimes,
            arms,
            regime_tables,
            regime_costs,
            regime_expected: Vec::new(),
            forecast_budgets: Vec::new(),
            forecast_runs: 1000,
            capacities: rest.capacities,
            waiting_state: b.states.iter().position(|s| s.waiting),
            uncertain,
            kpis: rest.kpis,
            scopes: rest.scopes,
            outcomes: rest.outcomes,
            discount: rest.discount,
        };
        if !same_names {
            compile::cell_text(cx, &model);
        }
        if !cx.problems.is_empty() {
            return None;
        }
        if !same_sizes {
            compile::check_size(cx, raw, &model)?;
        }
        model.forecast_runs = misc.forecast_runs?;
        cx.problems.is_empty().then_some(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{DEFAULT_TEXT, from_text};

    /// The sections a pass compiled anew.
    fn fresh(p: &Parts) -> Vec<&'static str> {
        [
            ("base", p.early.base.fresh()),
            ("misc", p.early.misc.fresh()),
            ("inflow", p.early.inflow.fresh()),
            ("transitions", p.early.transitions.fresh()),
            ("provider_flows", p.early.provider_flows.fresh()),
            ("index", p.early.index.fresh()),
            ("costs", p.early.costs.fresh()),
            ("regime_rows", p.regime_rows.fresh()),
            ("regimes", p.regimes.fresh()),
            ("arms", p.arms.fresh()),
            ("cost_sets", p.cost_sets.fresh()),
            ("rest", p.rest.fresh()),
            ("area_rates", p.early.area_rates.fresh()),
            ("areas", p.early.areas.fresh()),
            ("flows", p.flows.fresh()),
        ]
        .into_iter()
        .filter_map(|(name, f)| f.then_some(name))
        .collect()
    }

    /// A run of the default scenario compiles anew only the regimes (whose prevention and hazard
    /// ratios have distributions), the arms' tables they modify and their cost sets; a run
    /// with an uncertain cost and inflow also those, but not the regimes' cost lines' users.
    #[test]
    fn a_run_compiles_only_the_sections_its_draws_touch() {
        let rerun = |text: &str| {
            let s = from_text("t.toml", text).unwrap();
            let mut cx = Ctx {
                problems: Problems::new("t.toml", text),
                draw: Some((1, 3)),
                uncertain: false,
            };
            let parts = s.parts.as_ref().unwrap();
            let run = pass(&mut cx, &s.raw, Some(parts)).unwrap();
            assert!(cx.problems.is_empty() && cx.uncertain);
            fresh(&run)
        };
        // Its draws change the arms' tables' probabilities, not which moves they allow: the moves
        // are the means'.
        assert_eq!(rerun(DEFAULT_TEXT), ["regimes", "arms", "cost_sets"]);
        assert_eq!(
            rerun(&uncertain(false)),
            [
                "inflow",
                "transitions",
                "provider_flows",
                "costs",
                "regimes",
                "arms",
                "cost_sets",
                "areas",
                "flows"
            ]
        );
        let text = DEFAULT_TEXT
            .replace(
                "prevention = { dist = \"beta\", mean = 0.10, sd = 0.04 }",
                "prevention = 0.1",
            )
            .replace(
                "hazard_ratio = { dist = \"lognormal\", mean = 1.5, sd = 0.3 }",
                "hazard_ratio = 1.5",
            )
            .replace(
                "hazard_ratio = { dist = \"lognormal\", mean = 0.8, sd = 0.15 }",
                "hazard_ratio = 0.8",
            )
            .replace(
                "tariff_per_hour = 66.00 ",
                "tariff_per_hour = { dist = \"gamma\", mean = 66.0, sd = 5.0 } ",
            );
        assert_eq!(rerun(&text), ["costs", "cost_sets"]);
        let every = rerun(&uncertain(true));
        for section in [
            "index",
            "costs",
            "regime_rows",
            "regimes",
            "arms",
            "rest",
            "areas",
        ] {
            assert!(every.contains(&section), "{section}: {every:?}");
        }
    }

    /// A run whose draws break the scenario (a relative risk that pushes a row's moves over 1) is compiled
    /// in full, with the full compile's messages; the other runs are re-derived.
    #[test]
    fn a_run_with_bad_draws_reports_what_the_full_compile_reports() {
        let text = DEFAULT_TEXT.replacen(
            "modifier = [\n",
            "modifier = [\n  { from = \"BT\", to = \"UIT\", relative_risk = { dist = \"lognormal\", mean = 20.0, sd = 40.0 } },\n",
            1,
        );
        let s = from_text("t.toml", &text).unwrap();
        let parts = s.parts.as_ref().unwrap();
        let (mut bad, mut good) = (0, 0);
        for run in 0..40 {
            let fast = parts.model_for_run(("t.toml", &text), &s.raw, (9, run));
            match s.full_model_for_run(9, run) {
                Ok(full) => {
                    good += 1;
                    let fast = s.with_budgets(fast.expect("a run without problems is re-derived"));
                    assert_eq!(format!("{fast:?}"), format!("{full:?}"));
                }
                Err(e) => {
                    bad += 1;
                    assert!(fast.is_none(), "run {run}: re-derived despite {e}");
                    let want = format!("with the parameters drawn for run {run} (seed 9): ");
                    let e = e.to_string();
                    assert!(e.contains(&want) && e.contains("relative_risk"), "{e}");
                    assert_eq!(s.model_for_run(9, run).unwrap_err().to_string(), e);
                }
            }
        }
        assert!(bad > 0 && good > 0, "{bad} bad, {good} good runs");
    }

    /// The default with a distribution on a transition row (Dirichlet), a cost (the BT tariff) and the
    /// inflow rate; with `more`, also on the price index, a capacity, a regime's fixed cost, an outcome
    /// weight, a regime's own cost item and its own transition row: every kind of section.
    fn uncertain(more: bool) -> String {
        let mut text = DEFAULT_TEXT.to_string();
        let mut set = |from: &str, to: &str| {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            text = text.replacen(from, to, 1);
        };
        set(
            "to = { BT = 0.965, BTS = 0.004, WV = 0.009, SB = 0.006, VW = 0.002, UIT = 0.014 }\n",
            "to = { BT = 0.965, BTS = 0.004, WV = 0.009, SB = 0.006, VW = 0.002, UIT = 0.014 }\nconcentration = 2000\n",
        );
        set(
            "tariff_per_hour = 66.00 ",
            "tariff_per_hour = { dist = \"gamma\", mean = 66.0, sd = 5.0 } ",
        );
        set(
            "per_1000_per_year = 3.2",
            "per_1000_per_year = { dist = \"gamma\", mean = 3.2, sd = 0.3 }",
        );
        if more {
            set(
                "later = 0.03 ",
                "later = { dist = \"uniform\", min = 0.01, max = 0.05 } ",
            );
            set(
                "clients_per_1000_inhabitants = 11.0",
                "clients_per_1000_inhabitants = { dist = \"gamma\", mean = 11.0, sd = 1.0 }",
            );
            set(
                "per_inhabitant_per_year = 8.0,",
                "per_inhabitant_per_year = { dist = \"gamma\", mean = 8.0, sd = 1.0 },",
            );
            set(
                "SB = 0.9, VW = 1.0, WACHT = 0.1",
                "SB = { dist = \"beta\", mean = 0.9, sd = 0.03 }, VW = 1.0, WACHT = 0.1",
            );
            set(
                "\n# Arms: the first is the baseline",
                "\n[[regime.cost]]\nline = \"begeleiding_bt\"\nstate = \"BT\"\nper_month = { dist = \"gamma\", mean = 600.0, sd = 50.0 }\nprice_year = 2023\n\n[[regime.transition]]\nfrom = \"WV\"\ncycles_in_state = \"1-6\"\nto = { WV = 0.9, SB = 0.06, UIT = 0.04 }\nconcentration = 500\n\n# Arms: the first is the baseline",
            );
        }
        text
    }

    /// The scenario files with uncertain parameters, and the test scenarios.
    fn scenarios() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .filter(|(name, text)| {
                // The sweep files are not scenarios.
                from_text(name, text).is_ok_and(|s| s.model.uncertain)
            })
            .collect();
        out.sort();
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        for want in ["oosterschelde.toml", "hiv_combination.toml"] {
            assert!(names.iter().any(|n| n.ends_with(want)), "{want}: {names:?}");
        }
        out.push(("row-cost-inflow.toml".into(), uncertain(false)));
        out.push(("every-section.toml".into(), uncertain(true)));
        out
    }

    /// For every scenario with uncertain parameters and 50 runs (two seeds), the re-derived model is the
    /// full compile's, every field and every number to the bit (the `Debug` dump writes each `f64`
    /// exactly), and it was re-derived (not compiled in full).
    #[test]
    fn a_rederived_model_is_the_full_compile_to_the_bit() {
        for (name, text) in scenarios() {
            let s = from_text(&name, &text).unwrap();
            let parts = s.parts.as_ref().expect("uncertain: the sections are kept");
            let mut different = 0;
            for (seed, run) in (0..25)
                .map(|r| (7, r))
                .chain((0..25).map(|r| (20210101, r)))
            {
                let fast = parts
                    .model_for_run((&name, &text), &s.raw, (seed, run))
                    .unwrap_or_else(|| panic!("{name} run {run}: not re-derived"));
                let fast = format!("{:?}", s.with_budgets(fast));
                let full = format!("{:?}", s.full_model_for_run(seed, run).unwrap());
                assert!(
                    fast == full,
                    "{name} seed {seed} run {run}: the models differ"
                );
                assert_eq!(format!("{:?}", s.model_for_run(seed, run).unwrap()), full);
                different += usize::from(full != format!("{:?}", s.model));
            }
            assert_eq!(different, 50, "{name}: every run draws its own parameters");
        }
    }
}
