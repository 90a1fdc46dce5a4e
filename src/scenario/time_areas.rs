//! Checks and compiles `[time]`, `[[state]]` and `[[area]]`: the horizon and its cycles, the
//! states, and each area's starting clients, their time in state, and its inflow.

use super::check::{Ctx, MAX_CLIENTS, MAX_CYCLES, MAX_TIME_IN_STATE};
use super::raw::{self, ScenarioFile};
use super::transitions::prob_row;
use crate::model::Row;
use crate::model::{Area, State, YearMonth};
use std::collections::BTreeMap;
use toml::Spanned;

pub(super) fn time(cx: &mut Ctx, t: &raw::Time) -> (YearMonth, u32, u32) {
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

pub(super) fn states(cx: &mut Ctx, raw: &ScenarioFile) -> Vec<State> {
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

pub(super) fn areas(
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
        let inhabitants = inhabitants(cx, a, i, &name);
        let initial = starting_clients(cx, a, i, &name, states, &codes);
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

/// The inhabitants of area `i` (named `name`): at least 1.
fn inhabitants(cx: &mut Ctx, a: &raw::Area, i: usize, name: &str) -> u64 {
    match &a.inhabitants {
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
    }
}

/// The clients area `i` (named `name`) starts with, per state: none in an absorbing state, and at
/// most what the client ids of one area hold.
fn starting_clients(
    cx: &mut Ctx,
    a: &raw::Area,
    i: usize,
    name: &str,
    states: &[State],
    codes: &[String],
) -> Vec<u32> {
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
    initial
}

/// Parses a time-in-state table (the scenario's, or an area's override of it): per state `[min, max]`
/// cycles, or band weights.
pub(super) fn initial_time(
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
                if let Some(t) = band_spread(cx, r.span(), &key, bands) {
                    out[s] = t;
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

/// A time in state given as band weights (at `key`): bands of cycles that do not overlap, with weights
/// of 0 or more that do not all vanish. `None` after an error.
fn band_spread(
    cx: &mut Ctx,
    span: std::ops::Range<usize>,
    key: &str,
    bands: &BTreeMap<String, f64>,
) -> Option<crate::model::TimeSpread> {
    let mut parts = Vec::new();
    for (band, &w) in bands {
        let parsed =
            time_band(band).filter(|&(lo, hi)| lo <= hi && i64::from(hi) <= MAX_TIME_IN_STATE);
        match parsed {
            Some((lo, hi)) if w.is_finite() && w >= 0.0 => parts.push((lo, hi, w)),
            Some(_) => cx.err(
                span.clone(),
                format!("{key}.\"{band}\""),
                format!("the weight {w} is not a number of 0 or more"),
                "give each band a count or share of the starting clients, e.g. \"0-2\" = 120",
            ),
            None => cx.err(
                span.clone(),
                format!("{key}.\"{band}\""),
                format!("`{band}` is not a band of cycles"),
                "write a band as \"min-max\" or a single \"k\" (cycles already spent), e.g. \"0-2\" = 120",
            ),
        }
    }
    parts.sort_by_key(|p| p.0);
    if parts.windows(2).any(|w| w[1].0 <= w[0].1) {
        cx.err(
            span,
            key,
            "the bands overlap",
            "give every cycle count to one band, e.g. \"0-2\", \"3-11\", \"12-35\"",
        );
        return None;
    }
    if parts.len() != bands.len() {
        return None;
    }
    let spread = crate::model::TimeSpread::bands(parts);
    if spread.is_none() {
        cx.err(
            span,
            key,
            "the band weights sum to 0",
            "give at least one band a positive weight",
        );
    }
    spread
}

/// An area's own inflow rate per 1,000 inhabitants per year.
#[derive(Clone)]
pub(super) enum AreaRate {
    /// One rate, with the scenario's trend from the start (`inflow_per_1000_per_year`).
    All(f64),
    /// `(year, rate)` per listed calendar year (`inflow_per_1000_by_year`).
    ByYear(Vec<(i32, f64)>),
}

/// The area's own inflow rate, if it has one.
pub(super) fn area_rate(cx: &mut Ctx, i: usize, a: &Spanned<super::raw::Area>) -> Option<AreaRate> {
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
pub(super) fn time_band(s: &str) -> Option<(u32, u32)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let v = s.trim().parse().ok()?;
            Some((v, v))
        }
    }
}

/// The entry mix and, if there is inflow, (rate per 1,000 per year, trend).
pub(super) fn inflow(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    codes: &[String],
    states: &[State],
) -> (Row, Option<(f64, f64)>) {
    let Some(inf) = &raw.inflow else {
        // A closed population: no new clients.
        return (Row::new(vec![0], vec![1.0]), Some((0.0, 0.0)));
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
        row.unwrap_or_else(|| Row::new(vec![0], vec![1.0])),
        Some((rate, trend)),
    )
}
