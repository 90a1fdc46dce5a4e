//! Checks a raw scenario and compiles it into a [`Model`].
//!
//! Every check reports the file, line and key and says how to fix the problem; checks go on after a
//! problem where they can, so a user sees all problems of a file at once.

use super::raw::{self, Num, NumMap, ScenarioFile};
use crate::error::{InputError, InputErrors, line_of};
use crate::model::{
    Area, CostBasis, CostItem, Model, RENEW, Row, State, Transitions, YearMonth, thresholds,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// Tolerance on probability rows and mixes.
pub const ROW_TOLERANCE: f64 = 1e-9;
/// Largest initial caseload per state and area, and largest inflow per area and cycle (client ids are
/// packed into 20 + 20 bits).
pub const MAX_CLIENTS: i64 = (1 << 20) - 1;
const MAX_CYCLES: i64 = (1 << 20) - 2;
const MAX_TIME_IN_STATE: i64 = 60_000;

pub(super) struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<InputError>,
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

    pub(super) fn nonneg(&mut self, v: &Num, key: &str, what: &str) -> f64 {
        let x = *v.get_ref();
        if !x.is_finite() || x < 0.0 {
            self.err(
                v.span(),
                key,
                format!("{what} is {x}; it cannot be negative"),
                format!("give `{key}` a value of 0 or more"),
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
    let raw: ScenarioFile = toml::from_str(text).map_err(|e| {
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
    })?;
    let mut cx = Ctx {
        file,
        text,
        errors: Vec::new(),
    };
    match build(&mut cx, &raw) {
        Some(model) if cx.errors.is_empty() => Ok(model),
        _ if !cx.errors.is_empty() => Err(InputErrors(cx.errors)),
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
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        cx.err(
            raw.scenario.get_ref().name.span(),
            "scenario.name",
            format!("name `{name}` must be letters, digits, - or _ (it names output folders)"),
            "use e.g. name = \"oosterschelde\"",
        );
    }
    let (start, cycle_months, cycles) = time(cx, raw.time.get_ref());
    let run = raw.run.get_ref();
    if *run.runs.get_ref() < 1 || *run.runs.get_ref() > 10_000_000 {
        cx.err(
            run.runs.span(),
            "run.runs",
            format!("runs is {}; it must be at least 1", run.runs.get_ref()),
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
    let states = states(cx, raw);
    let codes: Vec<String> = states.iter().map(|s| s.code.clone()).collect();
    let max_cycles = max_cycles(cx, raw);
    let base = vec![(0, 0); codes.len()];
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
    let transitions = transitions(
        cx,
        raw,
        &codes,
        &states,
        start,
        cycle_months,
        cycles,
        &max_cycles,
    );
    let years: Vec<i32> = (0..cycles)
        .map(|c| start.plus(i64::from(c * cycle_months)).year)
        .collect();
    let index = indexation(cx, raw);
    let (mut lines, costs) = costs(
        cx,
        raw,
        &codes,
        &municipalities,
        start,
        cycle_months,
        &years,
        &index,
    );
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
    };
    let regimes = super::pilot::regimes(cx, raw, &k, &mut lines);
    let (arms, regime_tables) = super::pilot::arms(cx, raw, &k, &regimes, transitions.as_ref());
    let kpis = super::pilot::kpis(cx, raw, &k);
    let outcomes = super::pilot::outcomes(cx, raw, &k);
    let discount = super::pilot::discount(cx, raw, &k);
    if !cx.errors.is_empty() {
        return None;
    }
    let inflow = inflow?;
    for (area, raw_area) in areas.iter_mut().zip(&raw.area) {
        let rate = raw_area
            .get_ref()
            .inflow_per_1000_per_year
            .as_ref()
            .map_or(inflow.0, |v| *v.get_ref());
        area.inflow_mean = (0..cycles)
            .map(|c| {
                let years_in = f64::from(c * cycle_months) / 12.0;
                rate * area.inhabitants as f64 / 1000.0 * f64::from(cycle_months) / 12.0
                    * (1.0 + inflow.1).powf(years_in)
            })
            .collect();
    }
    let transitions = transitions?;
    let mut flows = flows(&transitions, &entry, states.len());
    for t in &regime_tables {
        flows.extend(self::flows(t, &entry, states.len()));
    }
    for r in regimes.iter().filter(|r| r.prevention > 0.0) {
        flows.push((states.len(), r.prevention_state as u8));
    }
    flows.sort_unstable();
    flows.dedup();
    let mut model = Model {
        name,
        title: raw.scenario.get_ref().title.clone(),
        states,
        start,
        cycle_months,
        cycles,
        runs: *run.runs.get_ref() as u32,
        seed: *run.seed.get_ref() as u64,
        municipalities,
        areas,
        entry,
        transitions,
        lines,
        costs,
        flows,
        regimes,
        arms,
        regime_tables,
        regime_expected: Vec::new(),
        kpis,
        outcomes,
        discount,
    };
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
            format!("the horizon is {cycles} cycles; it must be at least 1"),
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
            code,
            nl: s.nl.clone(),
            en: s.en.clone(),
            absorbing: s.absorbing,
            indicated: s.indicated,
        });
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
    base_time: &[(u32, u32)],
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

/// Parses a `[min, max]` time-in-state table (the scenario's, or an area's override of it).
fn initial_time(
    cx: &mut Ctx,
    table: &BTreeMap<String, Spanned<Vec<i64>>>,
    prefix: &str,
    codes: &[String],
    states: &[State],
    max_cycles: &[Option<u32>],
    base: &[(u32, u32)],
) -> Vec<(u32, u32)> {
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
        match r.get_ref().as_slice() {
            &[lo, hi] if 0 <= lo && lo <= hi && hi <= MAX_TIME_IN_STATE => {
                out[s] = (lo as u32, hi as u32)
            }
            _ => cx.err(
                r.span(),
                &key,
                "expected [min, max] cycles with 0 <= min <= max",
                "write e.g. BT = [0, 35]",
            ),
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
            && out[s].1 >= max
        {
            cx.err(
                r.span(),
                &key,
                format!("clients could start at {} cycles in `{code}`, whose indication lasts at most {max}", out[s].1),
                format!("use a maximum below {max}"),
            );
        }
    }
    out
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
    let trend = inf.trend_per_year.as_ref().map_or(0.0, |t| *t.get_ref());
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
    let row = prob_row(cx, &inf.entry, "inflow.entry", codes, states, None);
    (
        row.unwrap_or(Row {
            targets: vec![0],
            cum: vec![1 << 32],
            probs: vec![1.0],
        }),
        Some((rate, trend)),
    )
}

/// Checks a probability table (keys = state codes; `renew` allowed when `from` is given) and turns it into
/// a row: the from-state first, then the other states in file order, then `renew`.
fn prob_row(
    cx: &mut Ctx,
    map: &NumMap,
    key: &str,
    codes: &[String],
    states: &[State],
    from: Option<usize>,
) -> Option<Row> {
    let mut probs = vec![0.0; codes.len()];
    let mut renew = 0.0;
    let mut ok = true;
    for (code, p) in map.get_ref() {
        let k = format!("{key}.{code}");
        let v = *p.get_ref();
        if !(0.0..=1.0).contains(&v) {
            cx.err(
                p.span(),
                &k,
                format!("probability {v} is outside 0..1"),
                "give a probability from 0 to 1",
            );
            ok = false;
            continue;
        }
        if code == "renew" {
            match from {
                Some(_) => renew = v,
                None => {
                    cx.err(
                        p.span(),
                        &k,
                        "`renew` only applies to transition rows",
                        "remove it",
                    );
                    ok = false;
                }
            }
            continue;
        }
        match codes.iter().position(|c| c == code) {
            Some(s) if from.is_none() && states[s].absorbing => {
                cx.err(
                    p.span(),
                    &k,
                    format!("new clients cannot enter absorbing state `{code}`"),
                    "remove it from the entry mix",
                );
                ok = false;
            }
            Some(s) => probs[s] = v,
            None => {
                let extra = if from.is_some() { ", or renew" } else { "" };
                cx.err(
                    p.span(),
                    &k,
                    format!("unknown state `{code}`"),
                    format!("use one of: {}{extra}", codes.join(", ")),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let sum: f64 = probs.iter().sum::<f64>() + renew;
    if (sum - 1.0).abs() > ROW_TOLERANCE {
        let gap = 1.0 - sum;
        let hint = match from {
            Some(f) => format!(
                "; e.g. {} the stay probability `{}` by {}",
                if gap > 0.0 { "raise" } else { "lower" },
                codes[f],
                number(gap.abs())
            ),
            None => String::new(),
        };
        cx.err(
            map.span(),
            key,
            format!("probabilities sum to {}, not 1", number(sum)),
            format!("make them add up to 1 (within 1e-9){hint}"),
        );
        return None;
    }
    let mut targets = Vec::new();
    let mut ps = Vec::new();
    let mut push = |t: u8, p: f64| {
        if p > 0.0 {
            targets.push(t);
            ps.push(p);
        }
    };
    if let Some(f) = from {
        push(f as u8, probs[f]);
    }
    for (s, &p) in probs.iter().enumerate() {
        if Some(s) != from {
            push(s as u8, p);
        }
    }
    push(RENEW, renew);
    let cum = thresholds(&ps);
    Some(Row {
        targets,
        cum,
        probs: ps,
    })
}

fn max_cycles(cx: &mut Ctx, raw: &ScenarioFile) -> Vec<Option<u32>> {
    raw.state
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = s.get_ref().max_cycles.as_ref()?;
            if !(1..=MAX_TIME_IN_STATE).contains(m.get_ref()) {
                cx.err(
                    m.span(),
                    format!("state[{i}].max_cycles"),
                    "max_cycles must be at least 1",
                    "give the longest indication in cycles, e.g. 12",
                );
                return None;
            }
            Some(*m.get_ref() as u32)
        })
        .collect()
}

/// Parses `"1-11"`, `"12"`, `"12+"` into an inclusive range (`u32::MAX` = open).
fn parse_band(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let (lo, hi) = if let Some(lo) = s.strip_suffix('+') {
        (lo.trim().parse().ok()?, u32::MAX)
    } else if let Some((a, b)) = s.split_once('-') {
        (a.trim().parse().ok()?, b.trim().parse().ok()?)
    } else {
        let v = s.parse().ok()?;
        (v, v)
    };
    (lo >= 1 && lo <= hi && (hi == u32::MAX || hi <= MAX_TIME_IN_STATE as u32)).then_some((lo, hi))
}

/// Parses `"2021-01..2022-12"`, `"2023-01.."`, `"..2022-12"` into an inclusive cycle range.
fn parse_period(s: &str, start: YearMonth, cycle_months: u32) -> Option<(i64, i64)> {
    let (a, b) = s.split_once("..")?;
    let cyc = |t: &str, end: bool| -> Option<i64> {
        if t.trim().is_empty() {
            return Some(if end { i64::MAX } else { i64::MIN });
        }
        let d = YearMonth::parse(t)?.index() - start.index();
        Some(if end {
            d.div_euclid(i64::from(cycle_months))
        } else {
            (d + i64::from(cycle_months) - 1).div_euclid(i64::from(cycle_months))
        })
    };
    let (lo, hi) = (cyc(a, false)?, cyc(b, true)?);
    (lo <= hi || a.trim().is_empty() || b.trim().is_empty()).then_some((lo, hi))
}

const PERIOD_FIX: &str =
    "write the period as \"YYYY-MM..YYYY-MM\" (inclusive), \"YYYY-MM..\" or \"..YYYY-MM\"";

#[allow(clippy::too_many_arguments)]
fn transitions(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    codes: &[String],
    states: &[State],
    start: YearMonth,
    cycle_months: u32,
    cycles: u32,
    max_cycles: &[Option<u32>],
) -> Option<Transitions> {
    struct Parsed {
        from: usize,
        band: (u32, u32),
        period: (i64, i64),
        row: usize,
        line: usize,
        span: Range<usize>,
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut parsed = Vec::new();
    // States with a rejected row: their coverage is not checked (the row's own error says enough).
    let mut broken = vec![false; codes.len()];
    for (i, t) in raw.transition.iter().enumerate() {
        let span = t.span();
        let line = line_of(cx.text, span.start);
        let t = t.get_ref();
        let Some(from) = cx.state(codes, &t.from, &format!("transition[{i}].from")) else {
            continue;
        };
        if states[from].absorbing {
            cx.err(
                t.from.span(),
                format!("transition[{i}].from"),
                format!("`{}` is absorbing: clients never leave it", codes[from]),
                "remove this row, or make the state non-absorbing",
            );
            continue;
        }
        let band = match &t.cycles_in_state {
            None => (1, u32::MAX),
            Some(b) => match parse_band(b.get_ref()) {
                Some(r) => r,
                None => {
                    broken[from] = true;
                    cx.err(b.span(), format!("transition[{i}].cycles_in_state"), format!("`{}` is not a range of cycles in state", b.get_ref()), "write e.g. \"1-11\", \"12\" or \"12+\" (cycles in the state, counting the cycle just ended, from 1)");
                    continue;
                }
            },
        };
        let period = match &t.period {
            None => (i64::MIN, i64::MAX),
            Some(p) => match parse_period(p.get_ref(), start, cycle_months) {
                Some(r) => r,
                None => {
                    broken[from] = true;
                    cx.err(
                        p.span(),
                        format!("transition[{i}].period"),
                        format!("`{}` is not a period", p.get_ref()),
                        PERIOD_FIX,
                    );
                    continue;
                }
            },
        };
        let Some(row) = prob_row(
            cx,
            &t.to,
            &format!("transition[{i}].to"),
            codes,
            states,
            Some(from),
        ) else {
            broken[from] = true;
            continue;
        };
        if let Some(max) = max_cycles[from] {
            let stays = row.targets.first() == Some(&(from as u8));
            if stays && band.1 >= max {
                let fix = format!(
                    "an indication in `{}` lasts at most {max} cycles: for {max}+ cycles in state, move the stay probability to `renew` (a new indication) or to other states",
                    codes[from]
                );
                cx.err(
                    t.to.span(),
                    format!("transition[{i}].to.{}", codes[from]),
                    "clients could stay beyond the longest indication",
                    fix,
                );
            }
        }
        let idx = rows.iter().position(|r| *r == row).unwrap_or_else(|| {
            rows.push(row);
            rows.len() - 1
        });
        parsed.push(Parsed {
            from,
            band,
            period,
            row: idx,
            line,
            span,
        });
    }
    // Rows stop changing beyond the largest band boundary.
    let cap = parsed
        .iter()
        .map(|p| {
            if p.band.1 == u32::MAX {
                p.band.0
            } else {
                p.band.1 + 1
            }
        })
        .max()
        .unwrap_or(1)
        .max(1);
    let cap = cap.min(MAX_TIME_IN_STATE as u32) as u16;
    let n = codes.len();
    let stride = n * (usize::from(cap) + 1);
    let mut row_of = vec![u32::MAX; cycles as usize * stride];
    let mut first_line = vec![0usize; cycles as usize * stride];
    let mut reported = vec![false; n];
    for p in &parsed {
        let (lo_c, hi_c) = (p.period.0.max(0), p.period.1.min(i64::from(cycles) - 1));
        for c in lo_c..=hi_c {
            for m in 1..=u32::from(cap) {
                // The last cell stands for `cap` cycles or more: only open bands reach it.
                let covers = if m == u32::from(cap) {
                    p.band.1 == u32::MAX
                } else {
                    p.band.0 <= m && m <= p.band.1
                };
                if !covers {
                    continue;
                }
                let cell = c as usize * stride + p.from * (usize::from(cap) + 1) + m as usize;
                if row_of[cell] != u32::MAX && !reported[p.from] {
                    reported[p.from] = true;
                    cx.err(p.span.clone(), format!("transition (from {})", codes[p.from]), format!("rows at lines {} and {} both apply to `{}` at {m} cycles in state in {}", first_line[cell], p.line, codes[p.from], start.plus(c * i64::from(cycle_months))), "make the cycles_in_state ranges or periods of the rows of one state not overlap");
                }
                row_of[cell] = p.row as u32;
                first_line[cell] = p.line;
            }
        }
    }
    for s in 0..n {
        if states[s].absorbing || reported[s] || broken[s] {
            continue;
        }
        if !parsed.iter().any(|p| p.from == s) {
            cx.err(
                raw.state[s].span(),
                format!("transition (from {})", codes[s]),
                format!("state `{}` has no [[transition]] row", codes[s]),
                format!("add a [[transition]] with from = \"{}\" and its probabilities in `to` (or make the state absorbing)", codes[s]),
            );
            continue;
        }
        'outer: for c in 0..cycles as usize {
            for m in 1..=usize::from(cap) {
                if row_of[c * stride + s * (usize::from(cap) + 1) + m] == u32::MAX {
                    let when = if m == usize::from(cap) {
                        format!("{m}+")
                    } else {
                        m.to_string()
                    };
                    let date = start.plus(c as i64 * i64::from(cycle_months));
                    cx.err(raw.state[s].span(), format!("transition (from {})", codes[s]), format!("no transition row for `{}` at {when} cycles in state in {date}", codes[s]), format!("add a [[transition]] with from = \"{}\" covering it (rows of a state must cover every cycles_in_state and every period)", codes[s]));
                    break 'outer;
                }
            }
        }
    }
    Some(Transitions::new(rows, cap, row_of, n))
}

/// Yearly price rates: table plus the rate for later years.
pub(super) struct Index {
    rates: BTreeMap<i32, f64>,
    later: f64,
}

fn indexation(cx: &mut Ctx, raw: &ScenarioFile) -> Option<Index> {
    let ix = raw.indexation.as_ref()?;
    let mut rates = BTreeMap::new();
    for (y, r) in ix.get_ref().rates.get_ref() {
        let key = format!("indexation.rates.{y}");
        match y.parse::<i32>() {
            Ok(year) if (1900..=2200).contains(&year) => {
                let v = *r.get_ref();
                if v <= -0.5 || v > 1.0 {
                    cx.err(
                        r.span(),
                        &key,
                        format!("a yearly price change of {v}"),
                        "give the change as a fraction, e.g. 0.0643 for 6.43%",
                    );
                }
                rates.insert(year, v);
            }
            _ => cx.err(
                r.span(),
                &key,
                format!("`{y}` is not a year"),
                "key the rates by year, e.g. 2023 = 0.0643",
            ),
        }
    }
    let later = *ix.get_ref().later.get_ref();
    if later <= -0.5 || later > 1.0 {
        cx.err(
            ix.get_ref().later.span(),
            "indexation.later",
            format!("a yearly price change of {later}"),
            "give the change as a fraction, e.g. 0.03",
        );
    }
    Some(Index { rates, later })
}

impl Index {
    fn rate(&self, year: i32) -> Option<f64> {
        match self.rates.get(&year) {
            Some(r) => Some(*r),
            None if self
                .rates
                .keys()
                .next_back()
                .is_none_or(|&last| year > last) =>
            {
                Some(self.later)
            }
            None => None,
        }
    }

    /// Price factor from `from`-year prices to `to`-year prices, or the first year without a rate.
    pub(super) fn factor(&self, from: i32, to: i32) -> Result<f64, i32> {
        let mut f = 1.0;
        for y in (from.min(to) + 1)..=from.max(to) {
            f *= 1.0 + self.rate(y).ok_or(y)?;
        }
        Ok(if to >= from { f } else { 1.0 / f })
    }
}

fn list(
    cx: &mut Ctx,
    v: &Option<Spanned<Vec<String>>>,
    key: &str,
    names: &[String],
    extra: Option<&str>,
) -> Option<Vec<bool>> {
    let n = names.len() + usize::from(extra.is_some());
    let Some(v) = v else {
        return Some(vec![true; n]);
    };
    let mut mask = vec![false; n];
    for s in v.get_ref() {
        if Some(s.as_str()) == extra {
            mask[names.len()] = true;
        } else if let Some(i) = names.iter().position(|c| c == s) {
            mask[i] = true;
        } else {
            let more = extra.map_or(String::new(), |e| format!(", {e}"));
            cx.err(
                v.span(),
                key,
                format!("unknown name `{s}`"),
                format!("use names of this scenario: {}{more}", names.join(", ")),
            );
            return None;
        }
    }
    Some(mask)
}

#[allow(clippy::too_many_arguments)]
fn costs(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    codes: &[String],
    munis: &[String],
    start: YearMonth,
    cycle_months: u32,
    years: &[i32],
    index: &Option<Index>,
) -> (Vec<String>, Vec<CostItem>) {
    let mut lines: Vec<String> = Vec::new();
    let mut items = Vec::new();
    let mut line_index = |name: &str| {
        lines.iter().position(|l| l == name).unwrap_or_else(|| {
            lines.push(name.to_string());
            lines.len() - 1
        })
    };
    for (i, c) in raw.cost.iter().enumerate() {
        let span = c.span();
        let c = c.get_ref();
        let k = |f: &str| format!("cost[{i}].{f}");
        let line = c.line.get_ref().trim();
        if line.is_empty() || line == "total" {
            cx.err(
                c.line.span(),
                k("line"),
                format!("`{line}` cannot be a cost line name"),
                "name the line, e.g. \"begeleiding\"",
            );
        }
        let line = line_index(line);
        let py = *c.price_year.get_ref();
        if !(1900..=2200).contains(&py) {
            cx.err(
                c.price_year.span(),
                k("price_year"),
                format!("{py} is not a price year"),
                "give the calendar year of the amounts, e.g. 2023",
            );
            continue;
        }
        let period = match &c.period {
            None => (i64::MIN, i64::MAX),
            Some(p) => match parse_period(p.get_ref(), start, cycle_months) {
                Some(r) => r,
                None => {
                    cx.err(
                        p.span(),
                        k("period"),
                        format!("`{}` is not a period", p.get_ref()),
                        PERIOD_FIX,
                    );
                    continue;
                }
            },
        };
        let Some(municipalities) = list(cx, &c.municipalities, &k("municipalities"), munis, None)
        else {
            continue;
        };
        let kinds = [
            c.tariff_per_hour.is_some() || c.hours_per_month.is_some(),
            c.per_month.is_some(),
            c.per_year.is_some(),
            c.per_entry.is_some(),
            c.per_transition.is_some(),
        ];
        if kinds.iter().filter(|&&b| b).count() != 1 {
            cx.err(span, format!("cost[{i}]"), "a cost item needs exactly one of: hours_per_month with tariff_per_hour, per_month, per_year, per_entry, per_transition", "split it into one [[cost]] per kind of cost");
            continue;
        }
        let state = |cx: &mut Ctx| match &c.state {
            Some(s) => cx.state(codes, s, &k("state")),
            None => {
                cx.err(
                    span.clone(),
                    k("state"),
                    "this cost item needs a state",
                    "add state = \"<code>\"",
                );
                None
            }
        };
        let (basis, base, base_key, base_span) = if kinds[0] {
            let (Some(h), Some(t)) = (&c.hours_per_month, &c.tariff_per_hour) else {
                cx.err(
                    span,
                    format!("cost[{i}]"),
                    "hours_per_month and tariff_per_hour go together",
                    "give both",
                );
                continue;
            };
            let hv = cx.nonneg(h, &k("hours_per_month"), "hours per month");
            let tv = cx.nonneg(t, &k("tariff_per_hour"), "the tariff");
            let Some(s) = state(cx) else { continue };
            (
                CostBasis::PerCycle(s),
                hv * tv,
                k("tariff_per_hour"),
                t.span(),
            )
        } else if let Some(v) = &c.per_month {
            let x = cx.nonneg(v, &k("per_month"), "the amount");
            let Some(s) = state(cx) else { continue };
            (CostBasis::PerCycle(s), x, k("per_month"), v.span())
        } else if let Some(v) = &c.per_year {
            // Stored per month: per-cycle amounts are per month times the cycle length.
            let x = cx.nonneg(v, &k("per_year"), "the amount") / 12.0;
            let Some(s) = state(cx) else { continue };
            (CostBasis::PerCycle(s), x, k("per_year"), v.span())
        } else if let Some(v) = &c.per_entry {
            let x = cx.nonneg(v, &k("per_entry"), "the fee");
            let Some(s) = state(cx) else { continue };
            (CostBasis::PerEntry(s), x, k("per_entry"), v.span())
        } else {
            let v = c.per_transition.as_ref().expect("one kind is set");
            let x = cx.nonneg(v, &k("per_transition"), "the amount");
            let Some(from) = list(cx, &c.from, &k("from"), codes, Some("inflow")) else {
                continue;
            };
            if c.to.is_none() {
                cx.err(
                    span,
                    k("to"),
                    "a transition cost needs `to` states",
                    "add to = [\"BT\", ...]",
                );
                continue;
            }
            let Some(to) = list(cx, &c.to, &k("to"), codes, None) else {
                continue;
            };
            (
                CostBasis::PerTransition { from, to },
                x,
                k("per_transition"),
                v.span(),
            )
        };
        let per_month = matches!(basis, CostBasis::PerCycle(_));
        let amount = price_factors(cx, index, years, py as i32, base_span, &base_key)
            .into_iter()
            .enumerate()
            .map(|(c, f)| {
                let inside = (c as i64) >= period.0 && (c as i64) <= period.1;
                if inside {
                    base * f
                        * if per_month {
                            f64::from(cycle_months)
                        } else {
                            1.0
                        }
                } else {
                    0.0
                }
            })
            .collect();
        items.push(CostItem::new(
            line,
            basis,
            amount,
            municipalities,
            codes.len(),
        ));
    }
    for (i, oc) in raw.own_contribution.iter().enumerate() {
        let oc = oc.get_ref();
        let k = |f: &str| format!("own_contribution[{i}].{f}");
        let line = line_index(
            oc.line
                .as_ref()
                .map_or("eigen_bijdrage", |l| l.get_ref().as_str()),
        );
        let share = *oc.share_paying.get_ref();
        if !(0.0..=1.0).contains(&share) {
            cx.err(
                oc.share_paying.span(),
                k("share_paying"),
                format!("share {share} is outside 0..1"),
                "give the share of clients who pay, from 0 to 1",
            );
        }
        let Some(municipalities) = list(cx, &oc.municipalities, &k("municipalities"), munis, None)
        else {
            continue;
        };
        let Some(states) = list(cx, &Some(oc.states.clone()), &k("states"), codes, None) else {
            continue;
        };
        let mut table = BTreeMap::new();
        for (y, v) in oc.per_month_by_year.get_ref() {
            let key = k(&format!("per_month_by_year.{y}"));
            let amount = cx.nonneg(v, &key, "the own contribution");
            match y.parse::<i32>() {
                Ok(year) => {
                    table.insert(year, amount);
                }
                Err(_) => cx.err(
                    v.span(),
                    &key,
                    format!("`{y}` is not a year"),
                    "key the amounts by year, e.g. 2024 = 20.60",
                ),
            }
        }
        let mut amount = Vec::with_capacity(years.len());
        for &y in years {
            match table.range(..=y).next_back() {
                Some((_, a)) => amount.push(-share * a * f64::from(cycle_months)),
                None => {
                    cx.err(
                        oc.per_month_by_year.span(),
                        k("per_month_by_year"),
                        format!("no amount for {y} or earlier"),
                        format!("add {y} = <amount per month>"),
                    );
                    break;
                }
            }
        }
        for (s, _) in states.iter().enumerate().filter(|(_, b)| **b) {
            items.push(CostItem::new(
                line,
                CostBasis::PerCycle(s),
                amount.clone(),
                municipalities.clone(),
                codes.len(),
            ));
        }
    }
    (lines, items)
}

fn flows(t: &Transitions, entry: &Row, n: usize) -> Vec<(usize, u8)> {
    let mut set = BTreeSet::new();
    for &s in &entry.targets {
        set.insert((n, s));
    }
    let stride = n * (usize::from(t.cap) + 1);
    for (cell, &r) in t.row_of.iter().enumerate() {
        if r == u32::MAX {
            continue;
        }
        let from = (cell % stride) / (usize::from(t.cap) + 1);
        for &to in &t.rows[r as usize].targets {
            if to as usize != from {
                set.insert((from, to));
            }
        }
    }
    set.into_iter().collect()
}

/// Price factor of every cycle (`years`: the calendar year of each cycle) from `price_year` prices;
/// a year missing from the index is reported once.
pub(super) fn price_factors(
    cx: &mut Ctx,
    index: &Option<Index>,
    years: &[i32],
    price_year: i32,
    span: Range<usize>,
    key: &str,
) -> Vec<f64> {
    let mut reported = false;
    years
        .iter()
        .map(|&y| match index {
            None => 1.0,
            Some(ix) => ix.factor(price_year, y).unwrap_or_else(|missing| {
                if !reported {
                    reported = true;
                    cx.err(
                        span.clone(),
                        key,
                        format!("no price index for {missing}, needed to bring {price_year} prices to {y}"),
                        format!("add {missing} = <rate> to [indexation] rates"),
                    );
                }
                1.0
            }),
        })
        .collect()
}

/// A number for messages: at most 9 decimals, without trailing zeros (0.97, not 0.9700000000000001).
fn number(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_periods() {
        assert_eq!(parse_band("1-11"), Some((1, 11)));
        assert_eq!(parse_band("12+"), Some((12, u32::MAX)));
        assert_eq!(parse_band("12"), Some((12, 12)));
        assert_eq!(parse_band("0-3"), None);
        assert_eq!(parse_band("5-3"), None);
        let s = YearMonth {
            year: 2021,
            month: 1,
        };
        assert_eq!(parse_period("2021-01..2022-12", s, 1), Some((0, 23)));
        assert_eq!(parse_period("2023-01..", s, 1), Some((24, i64::MAX)));
        assert_eq!(parse_period("..2021-06", s, 1), Some((i64::MIN, 5)));
        assert_eq!(parse_period("2021-13..", s, 1), None);
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
        assert_eq!(m.areas[0].initial_time[bt], (3, 4));
        assert_eq!(
            m.areas[1].initial_time[bt],
            (0, 35),
            "other areas keep the scenario's spread"
        );
        assert_eq!(
            m.areas[0].initial_time[wv],
            (0, 11),
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
