//! Checks a raw scenario and compiles it into a [`Model`].
//!
//! Every check reports the file, line and key and says how to fix the problem; checks go on after a
//! problem where they can, so a user sees all problems of a file at once.

use super::costs::{costs, indexation};
use super::raw::{self, Num, Param, ScenarioFile};
use super::transitions::{flows, max_cycles, prob_row, transitions};
use crate::error::{InputError, InputErrors, line_of};
use crate::model::{Area, LineKind, Model, Row, State, YearMonth};
use crate::uncertainty::Dist;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Tolerance on probability rows and mixes.
pub const ROW_TOLERANCE: f64 = 1e-9;
/// Largest initial caseload per state and area, and largest inflow per area and cycle (client ids are
/// packed into 20 + 20 bits).
pub const MAX_CLIENTS: i64 = (1 << 20) - 1;
const MAX_CYCLES: i64 = (1 << 20) - 2;
/// Largest expected number of new clients per area and cycle: a Poisson count with this mean stays below
/// [`MAX_CLIENTS`] (the ids of one cycle's arrivals) with certainty for all practical purposes.
const MAX_INFLOW_MEAN: f64 = 500_000.0;
pub(super) const MAX_TIME_IN_STATE: i64 = 60_000;

pub(super) struct Ctx<'a> {
    file: &'a str,
    pub(super) text: &'a str,
    errors: Vec<InputError>,
    /// `Some((seed, run))`: parameters with a distribution are drawn for this run; `None`: their mean.
    pub(super) draw: Option<(u64, u32)>,
    /// Whether any parameter has a distribution.
    pub(super) uncertain: bool,
}

impl Ctx<'_> {
    pub(super) fn err(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.errors.push(InputError {
            file: self.file.to_string(),
            line: Some(line_of(self.text, span.start)),
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    /// A parameter's value: the number, or its distribution's mean (a draw when drawing for a run).
    pub(super) fn num(&mut self, v: &Num, key: &str) -> f64 {
        self.num_in(v, key, f64::NEG_INFINITY, f64::INFINITY)
    }

    /// As [`Ctx::num`]; a distribution must stay within `[lo, hi]` (checked on its support).
    pub(super) fn num_in(&mut self, v: &Num, key: &str, lo: f64, hi: f64) -> f64 {
        match v.get_ref() {
            Param::Value(x) => *x,
            Param::Dist(spec) => {
                self.uncertain = true;
                match Dist::from_spec(spec) {
                    Err((what, fix)) => {
                        self.err(v.span(), key, what, fix);
                        0.0
                    }
                    Ok(d) => {
                        let (a, b) = d.support();
                        if a < lo || b > hi {
                            self.err(v.span(), key, format!("the distribution can give values outside {lo}..{hi}"), "truncate it (normal: min and max), or choose one that stays in range (beta for shares, gamma or lognormal for amounts)");
                            return d.mean().clamp(lo, hi);
                        }
                        match self.draw {
                            Some((seed, run)) => {
                                d.sample(&mut crate::uncertainty::stream(seed, run, key))
                            }
                            None => d.mean(),
                        }
                    }
                }
            }
        }
    }

    /// A share: a parameter from 0 to 1.
    pub(super) fn share(&mut self, v: &Num, key: &str) -> f64 {
        let x = self.num_in(v, key, 0.0, 1.0);
        if !(0.0..=1.0).contains(&x) {
            self.err(
                v.span(),
                key,
                format!("share {x} is outside 0..1"),
                "give a share from 0 to 1, e.g. 0.1 for 10%",
            );
            return x.clamp(0.0, 1.0);
        }
        x
    }

    /// A number that cannot have a distribution (`why` says what to use instead).
    pub(super) fn plain(&mut self, v: &Num, key: &str, why: &str) -> f64 {
        match v.get_ref() {
            Param::Value(x) => *x,
            Param::Dist(_) => {
                self.err(v.span(), key, "this number cannot have a distribution", why);
                0.0
            }
        }
    }

    /// Optional `from` and `until` months (both inclusive), each reported under `key(..)` when it is not
    /// a month, and `until` when it lies before `from` (`what` names the item: "the limit").
    pub(super) fn months(
        &mut self,
        (from, until): (&Option<Spanned<String>>, &Option<Spanned<String>>),
        key: &dyn Fn(&str) -> String,
        what: &str,
    ) -> (Option<YearMonth>, Option<YearMonth>) {
        let mut month = |v: &Option<Spanned<String>>, name: &str, which: &str| {
            let v = v.as_ref()?;
            let d = YearMonth::parse(v.get_ref());
            if d.is_none() {
                self.err(
                    v.span(),
                    key(name),
                    format!("`{}` is not a month", v.get_ref()),
                    format!("write the {which} month it applies as \"YYYY-MM\", e.g. {name} = \"2024-01\""),
                );
            }
            d
        };
        let (a, b) = (month(from, "from", "first"), month(until, "until", "last"));
        if let (Some(a), Some(b), Some(u)) = (a, b, until)
            && b < a
        {
            self.err(
                u.span(),
                key("until"),
                format!("{what} ends ({b}) before it starts ({a})"),
                "give the last month it applies, on or after `from` (both inclusive), e.g. from = \"2024-01\", until = \"2025-12\"",
            );
        }
        (a, b)
    }

    pub(super) fn nonneg(&mut self, v: &Num, key: &str, what: &str) -> f64 {
        let x = self.num_in(v, key, 0.0, f64::INFINITY);
        if !x.is_finite() || x < 0.0 {
            self.err(
                v.span(),
                key,
                if x.is_finite() {
                    format!("{what} is {x}; it cannot be negative")
                } else {
                    format!("{what} is {x}; it must be a finite number")
                },
                format!("give `{key}` a finite value of 0 or more"),
            );
            return 0.0;
        }
        x
    }

    pub(super) fn state(
        &mut self,
        codes: &[String],
        s: &Spanned<String>,
        key: &str,
    ) -> Option<usize> {
        let i = codes.iter().position(|c| c == s.get_ref());
        if i.is_none() {
            self.err(
                s.span(),
                key,
                format!("unknown state `{}`", s.get_ref()),
                format!(
                    "use one of the states of this scenario: {}",
                    codes.join(", ")
                ),
            );
        }
        i
    }
}

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
        InputErrors(vec![InputError { file: file.into(), line, key: String::new(), problem: format!("TOML: {msg}"), fix: fix.into() }])
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
        file,
        text,
        errors: Vec::new(),
        draw,
        uncertain: false,
    };
    match build(&mut cx, raw) {
        Some(mut model) if cx.errors.is_empty() => {
            model.uncertain = cx.uncertain;
            Ok(model)
        }
        _ if !cx.errors.is_empty() => {
            if let Some((seed, run)) = draw {
                for e in &mut cx.errors {
                    e.problem = format!(
                        "with the parameters drawn for run {run} (seed {seed}): {}",
                        e.problem
                    );
                }
            }
            Err(InputErrors(cx.errors))
        }
        // Every path that gives up reports why; this is a guard, not an expected outcome.
        _ => Err(InputErrors(vec![InputError {
            file: file.into(),
            line: None,
            key: String::new(),
            problem: "the scenario could not be compiled".into(),
            fix: "please report this with the scenario file attached".into(),
        }])),
    }
}

fn build(cx: &mut Ctx, raw: &ScenarioFile) -> Option<Model> {
    let name = raw.scenario.get_ref().name.get_ref().trim().to_string();
    if let Err(problem) = crate::output::guard::check_folder_name(&name) {
        cx.err(
            raw.scenario.get_ref().name.span(),
            "scenario.name",
            problem,
            "use e.g. name = \"oosterschelde\"",
        );
    }
    let (start, cycle_months, cycles) = time(cx, raw.time.get_ref());
    let run = raw.run.get_ref();
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
    if *raw.time.get_ref().cycles.get_ref() > MAX_CYCLES {
        // Every per-cycle table depends on the horizon: checking them at the longest horizon would take
        // long and say little (a horizon below 1 is checked further at 1 cycle).
        return None;
    }
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
    let (municipalities, mut areas) = areas(cx, raw, &states, &max_cycles, &initial_time);
    let (entry, inflow) = inflow(cx, raw, &codes, &states);
    let frame = super::transitions::Frame {
        codes: &codes,
        states: &states,
        start,
        cycle_months,
        cycles,
        max_cycles: &max_cycles,
    };
    let transitions = transitions(cx, raw, &frame);
    let years: Vec<i32> = (0..cycles)
        .map(|c| start.plus(i64::from(c * cycle_months)).year)
        .collect();
    let index = indexation(cx, raw);
    let cost_frame = super::costs::Frame {
        codes: &codes,
        munis: &municipalities,
        start,
        cycle_months,
        years: &years,
        index: &index,
    };
    let (mut lines, costs) = costs(cx, raw, &cost_frame);
    let absorbing: Vec<bool> = states.iter().map(|s| s.absorbing).collect();
    let k = super::pilot::Context {
        codes: &codes,
        absorbing: &absorbing,
        munis: &municipalities,
        areas: &areas,
        start,
        cycle_months,
        cycles,
        years: &years,
        index: &index,
        cost_lines: lines.len(),
        rows: &frame,
        costs: &cost_frame,
    };
    let (mut regimes, regime_rows) = super::pilot::regimes(cx, raw, &k, &mut lines);
    let line_kinds = line_kinds(cx, raw, &lines);
    // Without `covers`, a budget pays for care: the care lines of the [[cost]] items (not community
    // support, not own contributions), and the regime's own cost items.
    for (r, raw_r) in regimes.iter_mut().zip(&raw.regime) {
        if raw_r.get_ref().covers.is_none() {
            for (l, c) in r.covers.iter_mut().enumerate().take(k.cost_lines) {
                *c = line_kinds[l] == LineKind::Care;
            }
        }
    }
    let (arms, regime_tables, regime_costs) = super::pilot::arms(
        cx,
        raw,
        &k,
        (&regimes, &regime_rows),
        transitions.as_ref(),
        &costs,
    );
    let arm_names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let capacities = super::capacity::capacities(cx, raw, &k, &arm_names);
    let waiting_state = states.iter().position(|s| s.waiting);
    let pilot_areas: Vec<usize> = (0..k.areas.len())
        .filter(|&a| arms.iter().any(|arm| arm.plans[a].is_some()))
        .collect();
    let scopes = super::measures::scopes(cx, raw, &k, &pilot_areas);
    let kpis = super::measures::kpis(cx, raw, &k, &scopes, &lines);
    let outcomes = super::measures::outcomes(cx, raw, &k);
    let discount = super::measures::discount(cx, raw, &k);
    let area_rates: Vec<Option<AreaRate>> = raw
        .area
        .iter()
        .enumerate()
        .map(|(i, a)| area_rate(cx, i, a))
        .collect();
    if !cx.errors.is_empty() {
        return None;
    }
    let inflow = inflow?;
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
        area.inflow_mean = (0..cycles)
            .map(|c| match &rate {
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
                        (1.0 + inflow.1).powf(f64::from(months) / 12.0)
                    };
                    r0 * area.inhabitants as f64 / 1000.0 * f64::from(cycle_months) / 12.0 * trend
                }
                _ => {
                    let r = match &rate {
                        Some(AreaRate::All(r)) => *r,
                        _ => inflow.0,
                    };
                    let years_in = f64::from(c * cycle_months) / 12.0;
                    r * area.inhabitants as f64 / 1000.0 * f64::from(cycle_months) / 12.0
                        * (1.0 + inflow.1).powf(years_in)
                }
            })
            .collect();
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
    let transitions = transitions?;
    let mut flows = flows(&transitions, &entry, states.len());
    for t in &regime_tables {
        flows.extend(super::transitions::flows(t, &entry, states.len()));
    }
    for r in regimes.iter().filter(|r| {
        r.prevention > 0.0 || matches!(r.surplus, crate::regime::Surplus::Reinvested(_))
    }) {
        flows.push((states.len(), r.prevention_state as u8));
    }
    // Waiting for a place: from any non-absorbing state or inflow into the waiting status, and from
    // it into the limited states.
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
    let overspend_risk = match &run.overspend_risk {
        None => 0.10,
        Some(v) => {
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
    };
    let population = population(cx, raw, &states);
    let currency = currency(cx, raw);
    let mut model = Model {
        name,
        title: raw.scenario.get_ref().title.clone(),
        population,
        currency,
        states,
        start,
        cycle_months,
        cycles,
        runs: *run.runs.get_ref() as u32,
        seed: *run.seed.get_ref() as u64,
        overspend_risk,
        municipalities,
        areas,
        entry,
        transitions,
        lines,
        line_kinds,
        costs,
        flows,
        regimes,
        arms,
        regime_tables,
        regime_costs,
        regime_expected: Vec::new(),
        forecast_budgets: Vec::new(),
        capacities,
        waiting_state,
        uncertain: false,
        kpis,
        scopes,
        outcomes,
        discount,
    };
    cell_text(cx, &model);
    if !cx.errors.is_empty() {
        return None;
    }
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
    let need = crate::limits::need(&model, 1, 1);
    if let Some((problem, fix)) = crate::limits::over_budget(&need, 1, "run.runs") {
        cx.err(
            raw.time.get_ref().cycles.span(),
            "time.cycles",
            problem,
            fix,
        );
        return None;
    }
    // Budgets are set before the pilot, from the planning model (parameters at their means): a run
    // with drawn parameters takes them from the scenario's own model (`Scenario::model_for_run`).
    if cx.draw.is_none() {
        model.regime_expected = model
            .regimes
            .iter()
            .map(|r| match r.budget {
                crate::regime::BudgetRule::ShareOfProvider(_) => (0..model.areas.len())
                    .map(|a| crate::cohort::expected_spend(&model, a, &r.covers))
                    .collect(),
                _ => vec![Vec::new(); model.areas.len()],
            })
            .collect();
        let forecast_runs = match &run.forecast_runs {
            None => 1000,
            Some(v) => {
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
                n as u32
            }
        };
        model.forecast_budgets = crate::sizing::forecast_budgets(&model, forecast_runs);
    }
    Some(model)
}

fn time(cx: &mut Ctx, t: &raw::Time) -> (YearMonth, u32, u32) {
    let start = YearMonth::parse(t.start.get_ref()).unwrap_or_else(|| {
        cx.err(
            t.start.span(),
            "time.start",
            format!("`{}` is not a month", t.start.get_ref()),
            "write the start month as \"YYYY-MM\", e.g. \"2021-01\"",
        );
        YearMonth {
            year: 2000,
            month: 1,
        }
    });
    let cm = t.cycle_months.as_ref().map_or(1, |v| *v.get_ref());
    if !(1..=120).contains(&cm) {
        let span = t.cycle_months.as_ref().map(|v| v.span()).unwrap_or(0..0);
        cx.err(
            span,
            "time.cycle_months",
            format!("cycle_months is {cm}; it must be 1 to 120"),
            "use 1 for monthly cycles, 12 for yearly",
        );
    }
    let cycles = *t.cycles.get_ref();
    if !(1..=MAX_CYCLES).contains(&cycles) {
        cx.err(
            t.cycles.span(),
            "time.cycles",
            format!("the horizon is {cycles} cycles; it must be from 1 to {MAX_CYCLES}"),
            "set cycles to the number of cycles to simulate, e.g. 60 for five years of months",
        );
    }
    (
        start,
        cm.clamp(1, 120) as u32,
        cycles.clamp(1, MAX_CYCLES) as u32,
    )
}

fn states(cx: &mut Ctx, raw: &ScenarioFile) -> Vec<State> {
    let mut out: Vec<State> = Vec::new();
    if raw.state.is_empty() {
        cx.err(
            raw.scenario.span(),
            "state",
            "the scenario has no states",
            "add [[state]] tables (code, nl, en, absorbing, indicated)",
        );
    }
    for (i, s) in raw.state.iter().enumerate() {
        let s = s.get_ref();
        let code = s.code.get_ref().trim().to_string();
        let key = format!("state[{i}].code");
        if code.is_empty()
            || code == "renew"
            || code == "inflow"
            || !code.chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            cx.err(s.code.span(), &key, format!("`{code}` cannot be a state code"), "use a short code of letters, digits or _ other than `renew` and `inflow`, e.g. \"BT\"");
        } else if out.iter().any(|o| o.code == code) {
            cx.err(
                s.code.span(),
                &key,
                format!("duplicate state code `{code}`"),
                "give every state its own code",
            );
        }
        out.push(State {
            code: code.clone(),
            nl: s.nl.clone(),
            en: s.en.clone(),
            absorbing: s.absorbing,
            indicated: s.indicated,
            waiting: s.waiting,
        });
        if s.waiting && (s.absorbing || s.indicated || s.max_cycles.is_some()) {
            cx.err(
                raw.state[i].span(),
                format!("state[{i}].waiting"),
                format!(
                    "the waiting status `{code}` is also absorbing, indicated or limited in time"
                ),
                "make the waiting status a state of its own: code, nl, en and waiting = true only",
            );
        }
        if s.waiting && out.iter().filter(|o| o.waiting).count() > 1 {
            cx.err(
                raw.state[i].span(),
                format!("state[{i}].waiting"),
                "a second waiting status",
                "mark one state waiting = true",
            );
        }
    }
    if out.len() > 60 {
        cx.err(
            raw.state[60].span(),
            "state",
            format!("{} states; at most 60 are supported", out.len()),
            "merge states",
        );
    }
    if !raw.state.is_empty() && out.iter().all(|s| s.absorbing) {
        cx.err(
            raw.state[0].span(),
            "state",
            "every state is absorbing",
            "make at least one state non-absorbing",
        );
    }
    out
}

fn areas(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    states: &[State],
    max_cycles: &[Option<u32>],
    base_time: &[crate::model::TimeSpread],
) -> (Vec<String>, Vec<Area>) {
    let codes: Vec<String> = states.iter().map(|s| s.code.clone()).collect();
    let mut munis: Vec<String> = Vec::new();
    let mut out: Vec<Area> = Vec::new();
    if raw.area.is_empty() {
        cx.err(
            raw.scenario.span(),
            "area",
            "the scenario has no areas",
            "add [[area]] tables (municipality, name, inhabitants, caseload)",
        );
    }
    for (i, a) in raw.area.iter().enumerate() {
        let a = a.get_ref();
        let muni = a.municipality.get_ref().trim().to_string();
        if muni.is_empty() {
            cx.err(
                a.municipality.span(),
                format!("area[{i}].municipality"),
                "empty municipality name",
                "name the municipality (gemeente)",
            );
        }
        let name = a
            .name
            .as_ref()
            .map_or(muni.clone(), |n| n.get_ref().trim().to_string());
        let m = munis.iter().position(|x| *x == muni).unwrap_or_else(|| {
            munis.push(muni.clone());
            munis.len() - 1
        });
        if out.iter().any(|o| o.municipality == m && o.name == name) {
            let span = a.name.as_ref().map_or(a.municipality.span(), |n| n.span());
            cx.err(
                span,
                format!("area[{i}].name"),
                format!("duplicate area `{name}` in {muni}"),
                "give every wijk or dorp of a municipality its own name",
            );
        }
        let inhabitants = match &a.inhabitants {
            None => {
                cx.err(
                    a.municipality.span(),
                    format!("area[{i}].inhabitants"),
                    format!("area `{name}` has no inhabitants"),
                    "add `inhabitants = N` (CBS figure) to this [[area]]",
                );
                0
            }
            Some(v) if *v.get_ref() < 1 => {
                cx.err(
                    v.span(),
                    format!("area[{i}].inhabitants"),
                    format!("area `{name}` has {} inhabitants", v.get_ref()),
                    "give the number of inhabitants, at least 1",
                );
                0
            }
            Some(v) => *v.get_ref() as u64,
        };
        let mut initial = vec![0u32; states.len()];
        for (code, n) in &a.caseload {
            let key = format!("area[{i}].caseload.{code}");
            let Some(s) = codes.iter().position(|c| c == code) else {
                cx.err(
                    n.span(),
                    &key,
                    format!("unknown state `{code}`"),
                    format!("use one of: {}", codes.join(", ")),
                );
                continue;
            };
            let v = *n.get_ref();
            if !(0..=MAX_CLIENTS).contains(&v) {
                cx.err(
                    n.span(),
                    &key,
                    format!("caseload is {v}"),
                    format!("give a number of clients from 0 to {MAX_CLIENTS}"),
                );
            } else if states[s].absorbing && v > 0 {
                cx.err(
                    n.span(),
                    &key,
                    format!("clients start in absorbing state `{code}`"),
                    "start clients only in non-absorbing states",
                );
            } else {
                initial[s] = v as u32;
            }
        }
        let total: u64 = initial.iter().map(|&k| u64::from(k)).sum();
        if total > crate::limits::MAX_AREA_CLIENTS {
            cx.err(
                a.municipality.span(),
                format!("area[{i}].caseload"),
                format!(
                    "area `{name}` starts with {total} clients; at most {} per area are supported (over all states together: client ids have 20 bits, and more would make clients share random numbers)",
                    crate::limits::MAX_AREA_CLIENTS
                ),
                "split the area into several [[area]] tables (e.g. its wijken), or model it as a rate per 1,000 inhabitants in smaller areas",
            );
        }
        let prefix = format!("area[{i}].initial_time_in_state");
        let initial_time = initial_time(
            cx,
            &a.initial_time_in_state,
            &prefix,
            &codes,
            states,
            max_cycles,
            base_time,
        );
        out.push(Area {
            municipality: m,
            name,
            inhabitants,
            initial,
            initial_time,
            inflow_mean: Vec::new(),
        });
    }
    (munis, out)
}

/// Parses a time-in-state table (the scenario's, or an area's override of it): per state `[min, max]`
/// cycles, or band weights.
fn initial_time(
    cx: &mut Ctx,
    table: &BTreeMap<String, Spanned<super::raw::TimeSpread>>,
    prefix: &str,
    codes: &[String],
    states: &[State],
    max_cycles: &[Option<u32>],
    base: &[crate::model::TimeSpread],
) -> Vec<crate::model::TimeSpread> {
    use crate::model::TimeSpread;
    let mut out = base.to_vec();
    for (code, r) in table {
        let key = format!("{prefix}.{code}");
        let Some(s) = codes.iter().position(|c| c == code) else {
            cx.err(
                r.span(),
                &key,
                format!("unknown state `{code}`"),
                format!("use one of: {}", codes.join(", ")),
            );
            continue;
        };
        match r.get_ref() {
            super::raw::TimeSpread::Range(v) => match v.as_slice() {
                &[lo, hi] if 0 <= lo && lo <= hi && hi <= MAX_TIME_IN_STATE => {
                    out[s] = TimeSpread::uniform(lo as u32, hi as u32)
                }
                _ => cx.err(
                    r.span(),
                    &key,
                    "expected [min, max] cycles with 0 <= min <= max",
                    "write e.g. BT = [0, 35]",
                ),
            },
            super::raw::TimeSpread::Bands(bands) => {
                let mut parts = Vec::new();
                for (band, &w) in bands {
                    let parsed = time_band(band)
                        .filter(|&(lo, hi)| lo <= hi && i64::from(hi) <= MAX_TIME_IN_STATE);
                    match parsed {
                        Some((lo, hi)) if w.is_finite() && w >= 0.0 => parts.push((lo, hi, w)),
                        Some(_) => cx.err(
                            r.span(),
                            format!("{key}.\"{band}\""),
                            format!("the weight {w} is not a number of 0 or more"),
                            "give each band a count or share of the starting clients, e.g. \"0-2\" = 120",
                        ),
                        None => cx.err(
                            r.span(),
                            format!("{key}.\"{band}\""),
                            format!("`{band}` is not a band of cycles"),
                            "write a band as \"min-max\" or a single \"k\" (cycles already spent), e.g. \"0-2\" = 120",
                        ),
                    }
                }
                parts.sort_by_key(|p| p.0);
                if parts.windows(2).any(|w| w[1].0 <= w[0].1) {
                    cx.err(
                        r.span(),
                        &key,
                        "the bands overlap",
                        "give every cycle count to one band, e.g. \"0-2\", \"3-11\", \"12-35\"",
                    );
                } else if parts.len() == bands.len() {
                    match TimeSpread::bands(parts) {
                        Some(t) => out[s] = t,
                        None => cx.err(
                            r.span(),
                            &key,
                            "the band weights sum to 0",
                            "give at least one band a positive weight",
                        ),
                    }
                }
            }
        }
        if states[s].absorbing {
            cx.err(
                r.span(),
                &key,
                format!("`{code}` is absorbing; it has no time in state"),
                "remove this entry",
            );
        }
        if let Some(max) = max_cycles[s]
            && out[s].max() >= max
        {
            cx.err(
                r.span(),
                &key,
                format!("clients could start at {} cycles in `{code}`, whose indication lasts at most {max}", out[s].max()),
                format!("use a maximum below {max}"),
            );
        }
    }
    out
}

/// An area's own inflow rate per 1,000 inhabitants per year.
enum AreaRate {
    /// One rate, with the scenario's trend from the start (`inflow_per_1000_per_year`).
    All(f64),
    /// `(year, rate)` per listed calendar year (`inflow_per_1000_by_year`).
    ByYear(Vec<(i32, f64)>),
}

/// The area's own inflow rate, if it has one.
fn area_rate(cx: &mut Ctx, i: usize, a: &Spanned<super::raw::Area>) -> Option<AreaRate> {
    let a_ref = a.get_ref();
    match (
        &a_ref.inflow_per_1000_per_year,
        &a_ref.inflow_per_1000_by_year,
    ) {
        (Some(_), Some(by)) => {
            cx.err(
                by.span(),
                format!("area[{i}].inflow_per_1000_by_year"),
                "the area gives both inflow_per_1000_per_year and inflow_per_1000_by_year",
                "keep one: a rate for every year, or a rate per calendar year",
            );
            None
        }
        (Some(v), None) => {
            let key = format!("area[{i}].inflow_per_1000_per_year");
            Some(AreaRate::All(cx.nonneg(v, &key, "the inflow rate")))
        }
        (None, Some(by)) => {
            let mut out = Vec::new();
            for (year, v) in by.get_ref() {
                let key = format!("area[{i}].inflow_per_1000_by_year.{year}");
                let rate = cx.nonneg(v, &key, "the inflow rate");
                match year.trim().parse::<i32>() {
                    Ok(y) if (1900..=2200).contains(&y) => out.push((y, rate)),
                    _ => cx.err(
                        by.span(),
                        &key,
                        format!("`{year}` is not a calendar year"),
                        "key each rate by its year, e.g. { 2021 = 3.1, 2022 = 3.4 }",
                    ),
                }
            }
            if by.get_ref().is_empty() {
                cx.err(
                    by.span(),
                    format!("area[{i}].inflow_per_1000_by_year"),
                    "no year is given",
                    "give a rate per calendar year, e.g. { 2021 = 3.1, 2022 = 3.4 }, or remove the key",
                );
            }
            (!out.is_empty()).then_some(AreaRate::ByYear(out))
        }
        (None, None) => None,
    }
}

/// A band of cycles already spent: `"0-2"` or `"5"`.
fn time_band(s: &str) -> Option<(u32, u32)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let v = s.trim().parse().ok()?;
            Some((v, v))
        }
    }
}

/// The entry mix and, if there is inflow, (rate per 1,000 per year, trend).
fn inflow(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    codes: &[String],
    states: &[State],
) -> (Row, Option<(f64, f64)>) {
    let Some(inf) = &raw.inflow else {
        // A closed population: no new clients.
        return (
            Row {
                targets: vec![0],
                cum: vec![1 << 32],
                probs: vec![1.0],
            },
            Some((0.0, 0.0)),
        );
    };
    let inf = inf.get_ref();
    let rate = cx.nonneg(
        &inf.per_1000_per_year,
        "inflow.per_1000_per_year",
        "the inflow rate",
    );
    let trend = inf
        .trend_per_year
        .as_ref()
        .map_or(0.0, |t| cx.num(t, "inflow.trend_per_year"));
    if trend <= -1.0 || !trend.is_finite() {
        let span = inf
            .trend_per_year
            .as_ref()
            .map(|t| t.span())
            .unwrap_or(0..0);
        cx.err(
            span,
            "inflow.trend_per_year",
            format!("trend {trend} would make inflow negative"),
            "use a yearly growth above -1, e.g. 0.02 for +2% a year",
        );
    }
    let row = prob_row(
        cx,
        &inf.entry,
        "inflow.entry",
        codes,
        states,
        None,
        super::transitions::Spread::None,
    );
    (
        row.unwrap_or(Row {
            targets: vec![0],
            cum: vec![1 << 32],
            probs: vec![1.0],
        }),
        Some((rate, trend)),
    )
}

/// What each cost line is: the lines of own contributions, of regimes' fixed costs (community), and of
/// cost items by their `kind` (default care). A line given two kinds is an error.
fn line_kinds(cx: &mut Ctx, raw: &ScenarioFile, lines: &[String]) -> Vec<LineKind> {
    let mut kinds: Vec<Option<(LineKind, String)>> = vec![None; lines.len()];
    let mut set =
        |cx: &mut Ctx, name: &str, kind: LineKind, key: String, span: std::ops::Range<usize>| {
            let Some(l) = lines.iter().position(|x| x == name.trim()) else {
                return;
            };
            match &kinds[l] {
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
                None => kinds[l] = Some((kind, key)),
            }
        };
    for (i, oc) in raw.own_contribution.iter().enumerate() {
        let oc = oc.get_ref();
        let name = oc
            .line
            .as_ref()
            .map_or("eigen_bijdrage", |l| l.get_ref().as_str());
        let span = oc.line.as_ref().map_or(0..0, |l| l.span());
        set(
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
            set(
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
            set(
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
        let kind = match &c.kind {
            None => LineKind::Care,
            Some(k) => match k.get_ref().as_str() {
                "care" => LineKind::Care,
                "community" => LineKind::Community,
                other => {
                    cx.err(
                        k.span(),
                        &key,
                        format!("unknown kind `{}`", crate::error::short(other)),
                        "use kind = \"care\" (support at a tariff, the default) or kind = \"community\" (sociale basis, volunteer support)",
                    );
                    continue;
                }
            },
        };
        set(cx, c.line.get_ref(), kind, key, c.line.span());
    }
    kinds
        .into_iter()
        .map(|k| k.map_or(LineKind::Care, |(k, _)| k))
        .collect()
}

/// Most rows of one sheet of an Excel workbook.
const EXCEL_ROWS_MAX: u64 = 1_048_576;
/// Most characters of one cell of an Excel workbook.
pub const EXCEL_CELL_MAX: usize = 32_767;

/// Reports codes and names longer than an Excel cell holds: they are written into the tables, and so
/// into `results.xlsx`, which would fail only after the simulation.
fn cell_text(cx: &mut Ctx, m: &Model) {
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
            let at = cx.text.find(&prefix).unwrap_or(0);
            cx.err(
                at..at,
                key,
                format!("this text has {n} characters; an Excel cell holds at most {EXCEL_CELL_MAX} (it is written into results.xlsx)"),
                "shorten it",
            );
        }
    }
}

/// A number for messages: at most 9 decimals, without trailing zeros (0.97, not 0.9700000000000001).
pub(super) fn number(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// What the people simulated are called (`[scenario] population`): the label given, a language left out
/// taking the other's; without one, `cliënten` / `clients` when some state holds a Wmo indication, else
/// `personen` / `people`.
fn population(cx: &mut Ctx, raw: &ScenarioFile, states: &[State]) -> (String, String) {
    let (nl, en) = if states.iter().any(|s| s.indicated) {
        ("cliënten", "clients")
    } else {
        ("personen", "people")
    };
    let Some(label) = &raw.scenario.get_ref().population else {
        return (nl.into(), en.into());
    };
    let mut one = |lang: &str, text: &Option<Spanned<String>>| -> Option<String> {
        let t = text.as_ref()?;
        let v = t.get_ref().trim();
        if v.is_empty() || v.chars().count() > 40 || v.chars().any(char::is_control) {
            cx.err(
                t.span(),
                format!("scenario.population.{lang}"),
                format!("`{v}` cannot name the people simulated (empty, longer than 40 characters or with a control character)"),
                "give a plural noun, e.g. population = { nl = \"patiënten\", en = \"patients\" }",
            );
            return None;
        }
        Some(v.to_string())
    };
    let given = label.get_ref();
    match (one("nl", &given.nl), one("en", &given.en)) {
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
    }
}

/// The currency of every amount (`[scenario] currency`, an ISO 4217 code): euros without one.
fn currency(cx: &mut Ctx, raw: &ScenarioFile) -> crate::currency::Currency {
    use crate::currency::{Currency, code_of_symbol};
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
