//! Checks a raw scenario and compiles it into a [`Model`].
//!
//! Every check reports the file, line and key and says how to fix the problem; checks go on after a
//! problem where they can, so a user sees all problems of a file at once.

use super::check::{Ctx, MAX_CYCLES, MAX_INFLOW_MEAN, number};
use super::costs::{costs, indexation};
use super::raw::ScenarioFile;
use super::time_areas::{AreaRate, area_rate, areas, inflow, initial_time, states, time};
use super::transitions::{flows, max_cycles, transitions};
use crate::error::{InputError, InputErrors, line_of};
use crate::model::{LineKind, Model, State};
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
    let k = super::regimes::Context {
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
    let (mut regimes, regime_rows) = super::regimes::regimes(cx, raw, &k, &mut lines);
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
    let (arms, regime_tables, regime_costs) = super::regimes::arms(
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
    let scopes = super::kpis::scopes(cx, raw, &k, &pilot_areas);
    let kpis = super::kpis::kpis(cx, raw, &k, &scopes, &lines);
    let outcomes = super::kpis::outcomes(cx, raw, &k);
    let discount = super::kpis::discount(cx, raw, &k);
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
        r.prevention > 0.0 || matches!(r.surplus, crate::model::regime::Surplus::Reinvested(_))
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
        forecast_runs: 1000,
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
    model.forecast_runs = match &run.forecast_runs {
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
    Some(model)
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
fn currency(cx: &mut Ctx, raw: &ScenarioFile) -> crate::model::currency::Currency {
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
