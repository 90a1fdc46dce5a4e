//! Checks a raw scenario and compiles it into a [`Model`].
//!
//! Every check reports the file, line and key and says how to fix the problem; checks go on after a
//! problem where they can, so a user sees all problems of a file at once.

use super::check::{Ctx, MAX_CYCLES, MAX_INFLOW_MEAN, number};
use super::costs::{costs, indexation};
use super::raw::ScenarioFile;
use super::time_areas::{AreaRate, area_rate, areas, inflow, initial_time, states, time};
use super::transitions::{flows, max_cycles, transitions};
use crate::error::{InputError, InputErrors, Problems, line_of};
use crate::model::kpi::Kpi;
use crate::model::regime::{Arm, Regime};
use crate::model::scope::Scope;
use crate::model::{
    Area, Capacity, CostItem, Discount, LineKind, Model, Outcome, Row, State, Transitions,
    YearMonth,
};
use toml::Spanned;

/// Parses and checks scenario text; `file` is how errors name it.
pub fn compile(file: &str, text: &str) -> Result<Model, InputErrors> {
    compile_raw(file, text, &parse(file, text)?, None)
}

/// Parses scenario text into the raw file model (syntax and types only).
pub fn parse(file: &str, text: &str) -> Result<ScenarioFile, InputErrors> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let msg = e.message().trim().to_string();
        let fix = if msg.contains("unknown field") {
            "check the spelling of the key against the example scenario (scenarios/oosterschelde.toml)"
        } else if msg.contains("missing field") {
            "add the key; see the example scenario (scenarios/oosterschelde.toml)"
        } else if msg.contains("invalid type") {
            "give the value the type shown in the example scenario (a number without quotes, a \"text\", a [list])"
        } else {
            "fix the TOML syntax at this place (see https://toml.io)"
        };
        InputError::new(file, line, "", format!("TOML: {msg}"), fix).into()
    })
}

/// Checks and compiles a parsed scenario. With `draw = Some((seed, run))` every parameter with a
/// distribution takes its draw for that run (probabilistic sensitivity analysis); otherwise its mean.
pub fn compile_raw(
    file: &str,
    text: &str,
    raw: &ScenarioFile,
    draw: Option<(u64, u32)>,
) -> Result<Model, InputErrors> {
    let mut cx = Ctx {
        problems: Problems::new(file, text),
        draw,
        uncertain: false,
    };
    let built = build(&mut cx, raw);
    let uncertain = cx.uncertain;
    match (built, cx.problems.finish()) {
        (Some(mut model), Ok(())) => {
            model.uncertain = uncertain;
            Ok(model)
        }
        (_, Err(e)) => Err(match draw {
            Some((seed, run)) => e.each_after(&format!(
                "with the parameters drawn for run {run} (seed {seed}): "
            )),
            None => e,
        }),
        // Every path that gives up reports why; this is a guard, not an expected outcome.
        (None, Ok(())) => Err(InputError::new(
            file,
            None,
            "",
            "the scenario could not be compiled",
            "please report this with the scenario file attached",
        )
        .into()),
    }
}

fn build(cx: &mut Ctx, raw: &ScenarioFile) -> Option<Model> {
    let name = scenario_name(cx, raw);
    let time = time(cx, raw.time.get_ref());
    let run = raw.run.get_ref();
    check_run(cx, run);
    if *raw.time.get_ref().cycles.get_ref() > MAX_CYCLES {
        // Every per-cycle table depends on the horizon: checking them at the longest horizon would take
        // long and say little (a horizon below 1 is checked further at 1 cycle).
        return None;
    }
    let mut base = base(cx, raw, time);
    let s = sections(cx, raw, &mut base)?;
    let first = flows(&s.transitions, &s.entry, base.states.len());
    let p = &s.policies;
    let flows = all_flows(
        &base.states,
        first,
        &p.regime_tables,
        (&p.regimes, &p.capacities),
        &s.entry,
    );
    let overspend_risk = overspend_risk(cx, run);
    let (population, population_one) = population(cx, raw, &base.states);
    let currency = currency(cx, raw);
    let p = s.policies;
    let waiting_state = base.states.iter().position(|s| s.waiting);
    let mut model = Model {
        name,
        title: raw.scenario.get_ref().title.clone(),
        population,
        population_one,
        currency,
        states: base.states,
        start: base.start,
        cycle_months: base.cycle_months,
        cycles: base.cycles,
        runs: *run.runs.get_ref() as u32,
        seed: *run.seed.get_ref() as u64,
        overspend_risk,
        municipalities: base.municipalities,
        areas: base.areas,
        entry: s.entry,
        transitions: s.transitions,
        lines: s.lines,
        line_kinds: p.line_kinds,
        costs: s.costs,
        flows,
        regimes: p.regimes,
        arms: p.arms,
        regime_tables: p.regime_tables,
        regime_costs: p.regime_costs,
        regime_expected: Vec::new(),
        forecast_budgets: Vec::new(),
        forecast_runs: 1000,
        capacities: p.capacities,
        waiting_state,
        uncertain: false,
        kpis: p.kpis,
        scopes: p.scopes,
        outcomes: p.outcomes,
        discount: p.discount,
    };
    cell_text(cx, &model);
    if !cx.problems.is_empty() {
        return None;
    }
    check_size(cx, raw, &model)?;
    model.forecast_runs = forecast_runs(cx, run)?;
    Some(model)
}

/// `scenario.name`, which names the output folder.
pub(super) fn scenario_name(cx: &mut Ctx, raw: &ScenarioFile) -> String {
    let name = raw.scenario.get_ref().name.get_ref().trim().to_string();
    if let Err(problem) = crate::output::guard::check_folder_name(&name) {
        cx.err(
            raw.scenario.get_ref().name.span(),
            "scenario.name",
            problem,
            "use e.g. name = \"oosterschelde\"",
        );
    }
    name
}

/// `run.runs` and `run.seed`.
pub(super) fn check_run(cx: &mut Ctx, run: &super::raw::Run) {
    let max_runs = crate::limits::MAX_RUNS as i64;
    if !(1..=max_runs).contains(run.runs.get_ref()) {
        cx.err(
            run.runs.span(),
            "run.runs",
            format!(
                "runs is {}; it must be from 1 to {max_runs}",
                run.runs.get_ref()
            ),
            "set runs to e.g. 1000",
        );
    }
    if *run.seed.get_ref() < 0 {
        cx.err(
            run.seed.span(),
            "run.seed",
            "the seed cannot be negative",
            "use a seed of 0 or more, e.g. 20210101",
        );
    }
}

/// The horizon, the states and the areas: what the later sections are checked against.
#[derive(Clone)]
pub(super) struct Base {
    pub(super) start: YearMonth,
    pub(super) cycle_months: u32,
    pub(super) cycles: u32,
    pub(super) states: Vec<State>,
    pub(super) codes: Vec<String>,
    pub(super) max_cycles: Vec<Option<u32>>,
    pub(super) municipalities: Vec<String>,
    pub(super) areas: Vec<Area>,
    /// Calendar year of each cycle.
    pub(super) years: Vec<i32>,
}

/// The states, their time limits and the areas with their starting clients.
pub(super) fn base(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    (start, cycle_months, cycles): (YearMonth, u32, u32),
) -> Base {
    let states = states(cx, raw);
    let codes: Vec<String> = states.iter().map(|s| s.code.clone()).collect();
    let max_cycles = max_cycles(cx, raw);
    let base = vec![crate::model::TimeSpread::uniform(0, 0); codes.len()];
    let initial_time = initial_time(
        cx,
        &raw.initial_time_in_state,
        "initial_time_in_state",
        &codes,
        &states,
        &max_cycles,
        &base,
    );
    let (municipalities, areas) = areas(cx, raw, &states, &max_cycles, &initial_time);
    let years: Vec<i32> = (0..cycles)
        .map(|c| start.plus(i64::from(c * cycle_months)).year)
        .collect();
    Base {
        start,
        cycle_months,
        cycles,
        states,
        codes,
        max_cycles,
        municipalities,
        areas,
        years,
    }
}

/// The sections checked against the base: inflow, transitions, costs and the policies.
struct Sections {
    entry: Row,
    transitions: Transitions,
    lines: Vec<String>,
    costs: Vec<CostItem>,
    policies: Policies,
}

/// Inflow, transitions, costs and the policies, checked against `base`; then each area's inflow.
/// `None` when any section has a problem.
fn sections(cx: &mut Ctx, raw: &ScenarioFile, base: &mut Base) -> Option<Sections> {
    let (entry, inflow) = inflow(cx, raw, &base.codes, &base.states);
    let frame = super::transitions::Frame {
        codes: &base.codes,
        states: &base.states,
        start: base.start,
        cycle_months: base.cycle_months,
        cycles: base.cycles,
        max_cycles: &base.max_cycles,
    };
    let transitions = transitions(cx, raw, &frame);
    let index = indexation(cx, raw);
    let cost_frame = super::costs::Frame {
        codes: &base.codes,
        munis: &base.municipalities,
        start: base.start,
        cycle_months: base.cycle_months,
        years: &base.years,
        index: &index,
    };
    let (mut lines, costs) = costs(cx, raw, &cost_frame);
    let absorbing: Vec<bool> = base.states.iter().map(|s| s.absorbing).collect();
    let k = super::regimes::Context {
        codes: &base.codes,
        absorbing: &absorbing,
        munis: &base.municipalities,
        areas: &base.areas,
        start: base.start,
        cycle_months: base.cycle_months,
        cycles: base.cycles,
        years: &base.years,
        index: &index,
        cost_lines: lines.len(),
        rows: &frame,
        costs: &cost_frame,
    };
    let policies = policies(cx, raw, &k, &mut lines, transitions.as_ref(), &costs);
    let area_rates: Vec<Option<AreaRate>> = raw
        .area
        .iter()
        .enumerate()
        .map(|(i, a)| area_rate(cx, i, a))
        .collect();
    if !cx.problems.is_empty() {
        return None;
    }
    let time = (base.start, base.cycle_months, base.cycles);
    set_inflow(cx, raw, (&mut base.areas, time), &area_rates, inflow?);
    Some(Sections {
        entry,
        transitions: transitions?,
        lines,
        costs,
        policies,
    })
}

/// Regimes, arms, capacities and what is reported.
struct Policies {
    regimes: Vec<Regime>,
    line_kinds: Vec<LineKind>,
    arms: Vec<Arm>,
    regime_tables: Vec<Transitions>,
    regime_costs: Vec<Option<Vec<CostItem>>>,
    capacities: Vec<Capacity>,
    scopes: Vec<Scope>,
    kpis: Vec<Kpi>,
    outcomes: Vec<Outcome>,
    discount: Discount,
}

/// Regimes and arms, the kinds of the cost lines, capacities, scopes, KPIs, outcomes and
/// discounting; adds the regimes' own lines to `lines`.
fn policies(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &super::regimes::Context,
    lines: &mut Vec<String>,
    transitions: Option<&Transitions>,
    costs: &[CostItem],
) -> Policies {
    let (mut regimes, regime_rows) = super::regimes::regimes(cx, raw, k, lines);
    let line_kinds = line_kinds(cx, raw, lines);
    cover_care(raw, k.cost_lines, &line_kinds, &mut regimes);
    let (arms, regime_tables, regime_costs) =
        super::regimes::arms(cx, raw, k, (&regimes, &regime_rows), transitions, costs);
    let arm_names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let capacities = super::capacity::capacities(cx, raw, k, &arm_names);
    let pilot_areas: Vec<usize> = (0..k.areas.len())
        .filter(|&a| arms.iter().any(|arm| arm.plans[a].is_some()))
        .collect();
    let scopes = super::kpis::scopes(cx, raw, k, &pilot_areas);
    let kpis = super::kpis::kpis(cx, raw, k, &scopes, lines);
    let outcomes = super::kpis::outcomes(cx, raw, k);
    let discount = super::kpis::discount(cx, raw, k);
    Policies {
        regimes,
        line_kinds,
        arms,
        regime_tables,
        regime_costs,
        capacities,
        scopes,
        kpis,
        outcomes,
        discount,
    }
}

/// Without `covers`, a budget pays for care: the care lines of the [[cost]] items (the first
/// `cost_lines`; not community support, not own contributions), and the regime's own cost items.
pub(super) fn cover_care(
    raw: &ScenarioFile,
    cost_lines: usize,
    line_kinds: &[LineKind],
    regimes: &mut [Regime],
) {
    for (r, raw_r) in regimes.iter_mut().zip(&raw.regime) {
        if raw_r.get_ref().covers.is_none() {
            for (l, c) in r.covers.iter_mut().enumerate().take(cost_lines) {
                *c = line_kinds[l] == LineKind::Care;
            }
        }
    }
}

/// Each area's mean inflow per cycle, from its own rate or the scenario's `(rate, trend)`; a mean
/// above what a cycle's client ids hold is an error (once per rate that causes it).
pub(super) fn set_inflow(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    (areas, time): (&mut [Area], (YearMonth, u32, u32)),
    area_rates: &[Option<AreaRate>],
    inflow: (f64, f64),
) {
    let own_rate = |i: usize| {
        let a = raw.area[i].get_ref();
        a.inflow_per_1000_per_year.is_some() || a.inflow_per_1000_by_year.is_some()
    };
    let key_of = |i: usize| {
        if own_rate(i) {
            format!("area[{i}]")
        } else {
            "inflow".to_string()
        }
    };
    let mut too_many: Vec<String> = Vec::new();
    for (i, (area, rate)) in areas.iter_mut().zip(area_rates).enumerate() {
        area.inflow_mean = inflow_mean(area, rate.as_ref(), inflow, time);
        let most = area.inflow_mean.iter().copied().fold(0.0, f64::max);
        if (most.is_nan() || most > MAX_INFLOW_MEAN) && !too_many.contains(&key_of(i)) {
            too_many.push(key_of(i));
            let own = own_rate(i);
            let (span, key) = match (&raw.inflow, own) {
                (Some(inf), false) => (
                    inf.get_ref().per_1000_per_year.span(),
                    "inflow.per_1000_per_year".to_string(),
                ),
                _ => (
                    raw.area[i].span(),
                    format!("area[{i}].inflow_per_1000_per_year"),
                ),
            };
            cx.err(
                span,
                key,
                format!(
                    "area `{}` would get on average {} new clients in one cycle; at most {MAX_INFLOW_MEAN} are supported (client ids of one cycle's arrivals have 20 bits)",
                    area.name,
                    if most < 1e12 { number(most) } else { format!("{most:.3e}") }
                ),
                "lower the inflow rate, the trend or the inhabitants, or split the area into several [[area]] tables",
            );
        }
    }
}

/// An area's mean inflow in every cycle: its rate per 1,000 inhabitants a year (its own, by year or
/// for all years, or the scenario's) with the scenario's trend.
fn inflow_mean(
    area: &Area,
    rate: Option<&AreaRate>,
    (rate_all, trend): (f64, f64),
    (start, cycle_months, cycles): (YearMonth, u32, u32),
) -> Vec<f64> {
    (0..cycles)
        .map(|c| match rate {
            // The rate of the cycle's year if listed; else the nearest listed year's, with the
            // trend from its January.
            Some(AreaRate::ByYear(by_year)) => {
                let date = start.plus(i64::from(c * cycle_months));
                let &(y0, r0) = by_year
                    .iter()
                    .min_by_key(|(y, _)| (y - date.year).abs())
                    .expect("a rate per year has a year");
                let trend = if date.year == y0 {
                    1.0
                } else {
                    let months = (date.year - y0) * 12 + date.month as i32 - 1;
                    (1.0 + trend).powf(f64::from(months) / 12.0)
                };
                r0 * area.inhabitants as f64 / 1000.0 * f64::from(cycle_months) / 12.0 * trend
            }
            _ => {
                let r = match rate {
                    Some(AreaRate::All(r)) => *r,
                    _ => rate_all,
                };
                let years_in = f64::from(c * cycle_months) / 12.0;
                r * area.inhabitants as f64 / 1000.0 * f64::from(cycle_months) / 12.0
                    * (1.0 + trend).powf(years_in)
            }
        })
        .collect()
}

/// Every transition some table can make (from, to), with inflow as from = the number of states:
/// the rows of every table (`first`: those of the provider's table, from [`flows`]), prevention, and
/// waiting for a place.
pub(super) fn all_flows(
    states: &[State],
    first: Vec<(usize, u8)>,
    regime_tables: &[Transitions],
    (regimes, capacities): (&[Regime], &[Capacity]),
    entry: &Row,
) -> Vec<(usize, u8)> {
    let mut flows = first;
    for t in regime_tables {
        flows.extend(super::transitions::flows(t, entry, states.len()));
    }
    flows.extend(prevention_flows(states.len(), regimes));
    // Waiting for a place: from any non-absorbing state or inflow into the waiting status, and from
    // it into the limited states.
    let waiting_state = states.iter().position(|s| s.waiting);
    if let Some(w) = waiting_state.filter(|_| !capacities.is_empty()) {
        for s in
            (0..=states.len()).filter(|&s| s == states.len() || (!states[s].absorbing && s != w))
        {
            flows.push((s, w as u8));
        }
        for s in 0..states.len() {
            if capacities.iter().any(|cap| cap.load[s] > 0.0) {
                flows.push((w, s as u8));
            }
        }
    }
    flows.sort_unstable();
    flows.dedup();
    flows
}

/// The moves from inflow (`n`, the number of states) into prevention of the regimes that send new
/// clients there (a share, or a reinvested surplus).
pub(super) fn prevention_flows(n: usize, regimes: &[Regime]) -> Vec<(usize, u8)> {
    regimes
        .iter()
        .filter(|r| {
            r.prevention > 0.0 || matches!(r.surplus, crate::model::regime::Surplus::Reinvested(_))
        })
        .map(|r| (n, r.prevention_state as u8))
        .collect()
}

/// `run.overspend_risk`: the accepted chance of overspending for budget sizing (default 10%).
pub(super) fn overspend_risk(cx: &mut Ctx, run: &super::raw::Run) -> f64 {
    let Some(v) = &run.overspend_risk else {
        return 0.10;
    };
    let x = cx.share(v, "run.overspend_risk");
    if x <= 0.0 || x >= 1.0 {
        cx.err(
            v.span(),
            "run.overspend_risk",
            format!("{} is not a chance between 0 and 1 (exclusive)", number(x)),
            "give the accepted chance of overspending, e.g. overspend_risk = 0.10 for 10%",
        );
    }
    x
}

/// The model fits the outputs: caseload.csv one sheet of results.xlsx, and the horizon with one run
/// the memory budget.
pub(super) fn check_size(cx: &mut Ctx, raw: &ScenarioFile, model: &Model) -> Option<()> {
    // The longest table, caseload.csv, must fit one sheet of results.xlsx.
    let per_cycle = model.n_states() as u64 * model.arms.len() as u64 * model.scopes.len() as u64;
    let rows = u64::from(model.cycles) * per_cycle + 1;
    if rows > EXCEL_ROWS_MAX {
        cx.err(
            raw.time.get_ref().cycles.span(),
            "time.cycles",
            format!("caseload.csv would have {rows} rows (cycles × states × arms × scopes); a sheet of results.xlsx holds at most {EXCEL_ROWS_MAX}"),
            format!("shorten time.cycles to at most {}, or use yearly cycles (cycle_months = 12), or report fewer areas", (EXCEL_ROWS_MAX - 1) / per_cycle),
        );
        return None;
    }
    // The horizon must fit with one run; the scenario's runs are checked by `Scenario::check_runs`,
    // as `--runs` may replace them.
    let need = crate::limits::need(model, 1, 1);
    if let Some((problem, fix)) = crate::limits::over_budget(&need, 1, "run.runs") {
        cx.err(
            raw.time.get_ref().cycles.span(),
            "time.cycles",
            problem,
            fix,
        );
        return None;
    }
    Some(())
}

/// `run.forecast_runs`: runs of the baseline forecast that sets budgets (default 1,000).
pub(super) fn forecast_runs(cx: &mut Ctx, run: &super::raw::Run) -> Option<u32> {
    let Some(v) = &run.forecast_runs else {
        return Some(1000);
    };
    let n = *v.get_ref();
    if !(10..=100_000).contains(&n) {
        cx.err(
            v.span(),
            "run.forecast_runs",
            format!("{n} forecast runs"),
            "give from 10 to 100000 runs for the baseline forecast (default 1000)",
        );
        return None;
    }
    Some(n as u32)
}

/// What each cost line is: the lines of own contributions, of regimes' fixed costs (community), and of
/// cost items by their `kind` (default care). A line given two kinds is an error.
pub(super) fn line_kinds(cx: &mut Ctx, raw: &ScenarioFile, lines: &[String]) -> Vec<LineKind> {
    let mut kinds = Kinds {
        lines,
        kinds: vec![None; lines.len()],
    };
    for (i, oc) in raw.own_contribution.iter().enumerate() {
        let oc = oc.get_ref();
        let name = oc
            .line
            .as_ref()
            .map_or("eigen_bijdrage", |l| l.get_ref().as_str());
        let span = oc.line.as_ref().map_or(0..0, |l| l.span());
        kinds.set(
            cx,
            name,
            LineKind::OwnContribution,
            format!("own_contribution[{i}].line"),
            span,
        );
    }
    for (i, r) in raw.regime.iter().enumerate() {
        for (j, f) in r.get_ref().fixed_cost.iter().enumerate() {
            let f = f.get_ref();
            kinds.set(
                cx,
                f.line.get_ref(),
                LineKind::Community,
                format!("regime[{i}].fixed_cost[{j}].line"),
                f.line.span(),
            );
        }
    }
    for (i, r) in raw.regime.iter().enumerate() {
        if let Some(v) = &r.get_ref().cost_per_prevented_indication {
            kinds.set(
                cx,
                "preventie_herinvestering",
                LineKind::Community,
                format!("regime[{i}].cost_per_prevented_indication"),
                v.span(),
            );
        }
    }
    let items = raw
        .cost
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("cost[{i}]"), c.get_ref()))
        .chain(raw.regime.iter().enumerate().flat_map(|(i, r)| {
            r.get_ref()
                .cost
                .iter()
                .enumerate()
                .map(move |(j, c)| (format!("regime[{i}].cost[{j}]"), c.get_ref()))
        }));
    for (at, c) in items {
        let key = format!("{at}.kind");
        if let Some(kind) = item_kind(cx, c, &key) {
            kinds.set(cx, c.line.get_ref(), kind, key, c.line.span());
        }
    }
    kinds
        .kinds
        .into_iter()
        .map(|k| k.map_or(LineKind::Care, |(k, _)| k))
        .collect()
}

/// The kinds of the cost lines found so far, each with the key that first gave it.
struct Kinds<'a> {
    lines: &'a [String],
    kinds: Vec<Option<(LineKind, String)>>,
}

impl Kinds<'_> {
    /// Line `name` is of `kind` (said at `key`): an error when an earlier key gave it another kind.
    fn set(
        &mut self,
        cx: &mut Ctx,
        name: &str,
        kind: LineKind,
        key: String,
        span: std::ops::Range<usize>,
    ) {
        let Some(l) = self.lines.iter().position(|x| x == name.trim()) else {
            return;
        };
        match &self.kinds[l] {
            Some((k, first)) if *k != kind => cx.err(
                span,
                key,
                format!(
                    "cost line `{name}` is {} here but {} at `{first}`",
                    kind.word(),
                    k.word()
                ),
                "give community support and care lines of their own names",
            ),
            Some(_) => {}
            None => self.kinds[l] = Some((kind, key)),
        }
    }
}

/// The `kind` of a cost item (at `key`): care (the default) or community; `None` when unknown.
fn item_kind(cx: &mut Ctx, c: &super::raw::Cost, key: &str) -> Option<LineKind> {
    let Some(k) = &c.kind else {
        return Some(LineKind::Care);
    };
    match k.get_ref().as_str() {
        "care" => Some(LineKind::Care),
        "community" => Some(LineKind::Community),
        other => {
            cx.err(
                k.span(),
                key,
                format!("unknown kind `{}`", crate::error::short(other)),
                "use kind = \"care\" (support at a tariff, the default) or kind = \"community\" (sociale basis, volunteer support)",
            );
            None
        }
    }
}

/// Most rows of one sheet of an Excel workbook.
const EXCEL_ROWS_MAX: u64 = 1_048_576;
/// Most characters of one cell of an Excel workbook.
pub const EXCEL_CELL_MAX: usize = 32_767;

/// Reports codes and names longer than an Excel cell holds: they are written into the tables, and so
/// into `results.xlsx`, which would fail only after the simulation.
pub(super) fn cell_text(cx: &mut Ctx, m: &Model) {
    let mut texts: Vec<(String, &str)> = Vec::new();
    for (i, s) in m.states.iter().enumerate() {
        texts.push((format!("state[{i}].code"), &s.code));
    }
    for (i, a) in m.areas.iter().enumerate() {
        texts.push((format!("area[{i}].name"), &a.name));
    }
    texts.extend(
        m.municipalities
            .iter()
            .map(|x| ("area.municipality".into(), x.as_str())),
    );
    texts.extend(m.lines.iter().map(|x| ("cost.line".into(), x.as_str())));
    texts.extend(m.arms.iter().map(|x| ("arm.name".into(), x.name.as_str())));
    for (i, k) in m.kpis.iter().enumerate() {
        texts.push((format!("kpi[{i}].name"), &k.name));
    }
    for (i, o) in m.outcomes.iter().enumerate() {
        texts.push((format!("outcome[{i}].name"), &o.name));
    }
    for (key, text) in texts {
        let n = text.chars().count();
        if n > EXCEL_CELL_MAX {
            let prefix: String = text.chars().take(64).collect();
            let at = cx.problems.text().find(&prefix).unwrap_or(0);
            cx.err(
                at..at,
                key,
                format!("this text has {n} characters; an Excel cell holds at most {EXCEL_CELL_MAX} (it is written into results.xlsx)"),
                "shorten it",
            );
        }
    }
}

/// What the people simulated are called (`[scenario] population`): the label given, a language left out
/// taking the other's; without one, `cliënten` / `clients` when some state holds a Wmo indication, else
/// `personen` / `people`. Then one of them in English: `singular` when given, else the singular of the
/// English plural (or of the Dutch one, the English left out) from [`SINGULARS`].
pub(super) fn population(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    states: &[State],
) -> ((String, String), String) {
    let (nl, en) = if states.iter().any(|s| s.indicated) {
        ("cliënten", "clients")
    } else {
        ("personen", "people")
    };
    let Some(label) = &raw.scenario.get_ref().population else {
        return (
            (nl.into(), en.into()),
            singular(en).unwrap_or_default().into(),
        );
    };
    let one = |cx: &mut Ctx, key: &str, text: &Option<Spanned<String>>, noun: &str| {
        let t = text.as_ref()?;
        let v = t.get_ref().trim();
        if v.is_empty() || v.chars().count() > 40 || v.chars().any(char::is_control) {
            cx.err(
                t.span(),
                format!("scenario.population.{key}"),
                format!("`{v}` cannot name the people simulated (empty, longer than 40 characters or with a control character)"),
                format!("give {noun}, e.g. population = {{ nl = \"patiënten\", en = \"patients\" }}"),
            );
            return None;
        }
        Some(v.to_string())
    };
    let given = label.get_ref();
    let plurals = match (
        one(cx, "nl", &given.nl, "a plural noun"),
        one(cx, "en", &given.en, "a plural noun"),
    ) {
        (Some(n), Some(e)) => (n, e),
        (Some(n), None) => (n.clone(), n),
        (None, Some(e)) => (e.clone(), e),
        (None, None) => {
            if given.nl.is_none() && given.en.is_none() {
                cx.err(
                    label.span(),
                    "scenario.population",
                    "the label names no language",
                    "give nl and/or en, e.g. population = { nl = \"patiënten\", en = \"patients\" }",
                );
            }
            (nl.into(), en.into())
        }
    };
    let person = match one(cx, "singular", &given.singular, "a singular noun") {
        Some(s) => s,
        None if given.singular.is_some() => String::new(),
        None => singular(&plurals.1).map(str::to_string).unwrap_or_else(|| {
            cx.err(
                label.span(),
                "scenario.population.singular",
                format!("wijksim does not know what one of the {} is called, and the console counts them (`1 ...`, `per ...`)", plurals.1),
                format!("give it in English, e.g. population = {{ en = \"{}\", singular = \"...\" }}", plurals.1),
            );
            String::new()
        }),
    };
    (plurals, person)
}

/// Plural nouns for people whose singular wijksim knows, in English and Dutch (a scenario that names
/// its people in Dutch only is counted in Dutch): (plural, singular). Not every plural is the
/// singular and an `s`.
const SINGULARS: &[(&str, &str)] = &[
    ("clients", "client"),
    ("patients", "patient"),
    ("people", "person"),
    ("persons", "person"),
    ("residents", "resident"),
    ("inhabitants", "inhabitant"),
    ("citizens", "citizen"),
    ("participants", "participant"),
    ("users", "user"),
    ("members", "member"),
    ("individuals", "individual"),
    ("adults", "adult"),
    ("children", "child"),
    ("young people", "young person"),
    ("families", "family"),
    ("households", "household"),
    ("students", "student"),
    ("pupils", "pupil"),
    ("cases", "case"),
    ("cliënten", "cliënt"),
    ("patiënten", "patiënt"),
    ("personen", "persoon"),
    ("inwoners", "inwoner"),
    ("bewoners", "bewoner"),
    ("deelnemers", "deelnemer"),
    ("gebruikers", "gebruiker"),
    ("volwassenen", "volwassene"),
    ("kinderen", "kind"),
    ("jongeren", "jongere"),
    ("ouderen", "oudere"),
    ("gezinnen", "gezin"),
    ("huishoudens", "huishouden"),
];

/// The singular of a plural noun of [`SINGULARS`] (in any case).
fn singular(plural: &str) -> Option<&'static str> {
    let p = plural.to_lowercase();
    SINGULARS
        .iter()
        .find(|(many, _)| *many == p)
        .map(|&(_, one)| one)
}

/// The currency of every amount (`[scenario] currency`, an ISO 4217 code): euros without one.
pub(super) fn currency(cx: &mut Ctx, raw: &ScenarioFile) -> crate::model::currency::Currency {
    use crate::model::currency::{Currency, code_of_symbol};
    let Some(given) = &raw.scenario.get_ref().currency else {
        return Currency::EUR;
    };
    let v = given.get_ref().trim();
    if let Some(c) = Currency::from_code(v) {
        return c;
    }
    let fix = match code_of_symbol(v) {
        Some(code) => format!("write the code, not the symbol: currency = \"{code}\""),
        None => format!(
            "give the ISO 4217 code of the currency the amounts are in, one of {} (e.g. currency = \"GBP\"); leave the key out for euros",
            Currency::codes()
        ),
    };
    cx.err(
        given.span(),
        "scenario.currency",
        format!("`{v}` is not a currency wijksim knows"),
        fix,
    );
    Currency::EUR
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The people's singular: the default's, a known plural's (also one that is not the singular and
    /// an `s`), the one given, and an error naming the key when wijksim cannot know it.
    #[test]
    fn one_of_the_people_simulated_has_its_own_word() {
        let with = |population: &str| {
            let text = crate::scenario::DEFAULT_TEXT.replacen(
                "name = \"oosterschelde\"\n",
                &format!("name = \"oosterschelde\"\npopulation = {population}\n"),
                1,
            );
            assert_ne!(text, crate::scenario::DEFAULT_TEXT);
            compile("t.toml", &text)
        };
        let default = compile("t.toml", crate::scenario::DEFAULT_TEXT).unwrap();
        assert_eq!(default.population_one, "client");
        for (population, one) in [
            ("{ en = \"people\" }", "person"),
            ("{ nl = \"personen\", en = \"Children\" }", "child"),
            (
                "{ nl = \"gemeenten\", en = \"municipalities\", singular = \"municipality\" }",
                "municipality",
            ),
            // Dutch only: counted in Dutch.
            ("{ nl = \"kinderen\" }", "kind"),
        ] {
            assert_eq!(
                with(population).unwrap().population_one,
                one,
                "{population}"
            );
        }
        let e = with("{ en = \"walruses\" }").unwrap_err().to_string();
        assert!(
            e.contains("scenario.population.singular")
                && e.contains("walruses")
                && e.contains("singular = "),
            "{e}"
        );
        let e = with("{ en = \"walruses\", singular = \" \" }")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scenario.population.singular") && e.contains("a singular noun"),
            "{e}"
        );
    }

    #[test]
    fn initial_time_in_bands_is_read_and_checked() {
        // Band weights (as `wijksim fit` writes them): normalised shares, each band uniform within.
        let text = crate::scenario::DEFAULT_TEXT.replace(
            "BT = [0, 35]\n",
            "BT = { \"0-2\" = 30, \"3-11\" = 60, \"12-35\" = 10 }\n",
        );
        assert_ne!(text, crate::scenario::DEFAULT_TEXT);
        let m = compile("t.toml", &text).unwrap();
        let bt = m.state_index("BT").unwrap();
        assert_eq!(
            m.areas[0].initial_time[bt].parts(),
            &[(0, 2, 0.3), (3, 11, 0.6), (12, 35, 0.1)]
        );
        for (bad, says) in [
            ("{ \"0-2\" = 30, \"2-11\" = 60 }", "the bands overlap"),
            ("{ \"0-2\" = 0 }", "sum to 0"),
            ("{ \"a-2\" = 1 }", "is not a band of cycles"),
            ("{ \"0-2\" = -1 }", "is not a number of 0 or more"),
        ] {
            let t =
                crate::scenario::DEFAULT_TEXT.replace("BT = [0, 35]\n", &format!("BT = {bad}\n"));
            let e = compile("t.toml", &t).unwrap_err().to_string();
            assert!(
                e.contains("initial_time_in_state.BT") && e.contains(says),
                "{e}"
            );
        }
        let wv = crate::scenario::DEFAULT_TEXT
            .replace("WV = [0, 11]\n", "WV = { \"0-5\" = 1, \"6-12\" = 1 }\n");
        let e = compile("t.toml", &wv).unwrap_err().to_string();
        assert!(e.contains("at most 12"), "{e}");
    }

    #[test]
    fn an_area_can_have_an_inflow_rate_per_year() {
        // Listed years take their rate as given; another year follows the nearest listed one with
        // the scenario's trend (+2% a year) from its January.
        let text = crate::scenario::DEFAULT_TEXT.replace(
            "inhabitants = 39677\n",
            "inhabitants = 39677\ninflow_per_1000_by_year = { 2021 = 3.0, 2023 = 6.0 }\n",
        );
        assert_ne!(text, crate::scenario::DEFAULT_TEXT);
        let m = compile("t.toml", &text).unwrap();
        let per_month = 39677.0 / 1000.0 / 12.0;
        let mean = &m.areas[0].inflow_mean;
        let at = |y: i32, mo: u32| {
            (0..m.cycles)
                .find(|&c| m.date(c).year == y && m.date(c).month == mo)
                .unwrap() as usize
        };
        assert!((mean[at(2021, 1)] - 3.0 * per_month).abs() < 1e-12);
        assert!((mean[at(2021, 12)] - 3.0 * per_month).abs() < 1e-12);
        assert!((mean[at(2023, 7)] - 6.0 * per_month).abs() < 1e-12);
        let later = 6.0 * per_month * 1.02f64.powf(18.0 / 12.0);
        assert!((mean[at(2024, 7)] - later).abs() < 1e-12);
        let between = 3.0 * per_month * 1.02f64.powf(14.0 / 12.0);
        assert!(
            (mean[at(2022, 3)] - between).abs() < 1e-12,
            "2022 follows 2021"
        );
        let both = text.replace(
            "inflow_per_1000_by_year",
            "inflow_per_1000_per_year = 3.0\ninflow_per_1000_by_year",
        );
        let e = compile("t.toml", &both).unwrap_err().to_string();
        assert!(
            e.contains("area[0].inflow_per_1000_by_year") && e.contains("keep one"),
            "{e}"
        );
        let bad = text.replace("2023 = 6.0", "x2023 = 6.0");
        let e = compile("t.toml", &bad).unwrap_err().to_string();
        assert!(e.contains("is not a calendar year"), "{e}");
    }

    #[test]
    fn area_overrides_initial_time_spread() {
        let text = crate::scenario::DEFAULT_TEXT.replace(
            "inhabitants = 39677\n",
            "inhabitants = 39677\ninitial_time_in_state = { BT = [3, 4] }\n",
        );
        assert_ne!(text, crate::scenario::DEFAULT_TEXT);
        let m = compile("t.toml", &text).unwrap();
        let bt = m.state_index("BT").unwrap();
        let wv = m.state_index("WV").unwrap();
        assert_eq!(
            m.areas[0].initial_time[bt],
            crate::model::TimeSpread::uniform(3, 4)
        );
        assert_eq!(
            m.areas[1].initial_time[bt],
            crate::model::TimeSpread::uniform(0, 35),
            "other areas keep the scenario's spread"
        );
        assert_eq!(
            m.areas[0].initial_time[wv],
            crate::model::TimeSpread::uniform(0, 11),
            "other states keep the scenario's spread"
        );
        // An override may not break the Waakvlam limit either.
        let bad = text.replace("BT = [3, 4]", "WV = [0, 12]");
        let e = compile("t.toml", &bad).unwrap_err().to_string();
        assert!(
            e.contains("area[0].initial_time_in_state.WV") && e.contains("at most 12"),
            "{e}"
        );
    }
}
