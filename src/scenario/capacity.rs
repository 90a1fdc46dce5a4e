//! Checks and compiles `[[capacity]]`: limits on the care an area can deliver per cycle (staff), and the
//! waiting status clients wait in for a place.

use super::check::{Ctx, number};
use super::raw::{self, ScenarioFile};
use super::regimes::{Context, areas_of};
use crate::model::Capacity;
use toml::Spanned;

/// The capacity limits of the scenario, given its arm names; checks that a waiting status exists when
/// there are limits.
pub(super) fn capacities(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    arm_names: &[String],
) -> Vec<Capacity> {
    let waiting = raw.state.iter().position(|s| s.get_ref().waiting);
    let mut out: Vec<Capacity> = Vec::new();
    for (i, c) in raw.capacity.iter().enumerate() {
        let capacity = capacity(cx, c, i, k, arm_names, waiting, &out);
        out.push(capacity);
    }
    out
}

/// Capacity `i` (after the capacities `before` it, whose names it may not repeat).
fn capacity(
    cx: &mut Ctx,
    c: &Spanned<raw::Capacity>,
    i: usize,
    k: &Context,
    arm_names: &[String],
    waiting: Option<usize>,
    before: &[Capacity],
) -> Capacity {
    let span = c.span();
    let c = c.get_ref();
    let key = |f: &str| format!("capacity[{i}].{f}");
    let name = c.name.get_ref().trim().to_string();
    if name.is_empty() || before.iter().any(|o| o.name == name) {
        cx.err(
            c.name.span(),
            key("name"),
            format!("`{name}` cannot name a capacity (empty or duplicate)"),
            "give every capacity its own name, e.g. \"wijkteam\"",
        );
    }
    let covered = covered(cx, c, i, k, waiting);
    let (load, limit) = load_and_limit(cx, c, i, k, &covered, span.clone());
    let areas_mask = if c.municipality.is_none() && c.areas.is_none() {
        vec![true; k.areas.len()]
    } else {
        let mut mask = vec![false; k.areas.len()];
        for a in areas_of(
            cx,
            (&c.municipality, &c.areas),
            &format!("capacity[{i}]"),
            k,
            span.clone(),
        ) {
            mask[a] = true;
        }
        mask
    };
    let arms = arms(cx, c, i, arm_names);
    let period = period(cx, c, i, k);
    if waiting.is_none() {
        cx.err(
            span.clone(),
            format!("capacity[{i}]"),
            "a capacity limit without a waiting status",
            "add a state for the clients who wait: [[state]] code = \"WACHT\", nl = \"Wachtend op zorg\", en = \"Waiting for care\", waiting = true",
        );
    }
    if let Some(bad) = limit.iter().find(|x| !x.is_finite()) {
        cx.err(
            span,
            format!("capacity[{i}]"),
            format!("limit {}", number(*bad)),
            "give a finite limit",
        );
    }
    Capacity {
        name,
        load,
        limit,
        areas: areas_mask,
        arms,
        period,
    }
}

/// The states whose care capacity `i` limits, as a mask: neither absorbing nor the waiting status.
fn covered(
    cx: &mut Ctx,
    c: &raw::Capacity,
    i: usize,
    k: &Context,
    waiting: Option<usize>,
) -> Vec<bool> {
    let mut covered = vec![false; k.codes.len()];
    for code in c.states.get_ref() {
        match k.codes.iter().position(|x| x == code) {
            Some(s) if k.absorbing[s] || Some(s) == waiting => cx.err(
                c.states.span(),
                format!("capacity[{i}].states"),
                format!("`{code}` is absorbing or the waiting status: nobody needs a place there"),
                "name the states whose care the staff delivers, e.g. [\"BTS\", \"BT\"]",
            ),
            Some(s) => covered[s] = true,
            None => cx.err(
                c.states.span(),
                format!("capacity[{i}].states"),
                format!("unknown state `{code}`"),
                format!("use one of: {}", k.codes.join(", ")),
            ),
        }
    }
    covered
}

/// What a client in each state takes of capacity `i` (`load`), and the limit per area: clients, clients
/// per 1,000 inhabitants, or hours with hours per client.
fn load_and_limit(
    cx: &mut Ctx,
    c: &raw::Capacity,
    i: usize,
    k: &Context,
    covered: &[bool],
    span: std::ops::Range<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let key = |f: &str| format!("capacity[{i}].{f}");
    let n = k.codes.len();
    let ones: Vec<f64> = covered.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
    let per_area = |x: f64| vec![x; k.areas.len()];
    match (
        &c.clients,
        &c.clients_per_1000_inhabitants,
        &c.hours,
        &c.hours_per_client,
    ) {
        (Some(v), None, None, None) => (
            ones,
            per_area(cx.nonneg(v, &key("clients"), "the capacity")),
        ),
        (None, Some(v), None, None) => {
            let x = cx.nonneg(v, &key("clients_per_1000_inhabitants"), "the capacity");
            (
                ones,
                k.areas
                    .iter()
                    .map(|a| x * a.inhabitants as f64 / 1000.0)
                    .collect(),
            )
        }
        (None, None, Some(v), Some(per)) => {
            let limit = cx.nonneg(v, &key("hours"), "the capacity");
            (hours_load(cx, c, i, k, covered, per), per_area(limit))
        }
        _ => {
            cx.err(
                span,
                format!("capacity[{i}]"),
                "the limit is not given once: as clients, clients per 1,000 inhabitants, or hours with hours per client",
                "write clients = 40, clients_per_1000_inhabitants = 11, or hours = 400 with hours_per_client = { BTS = 12, BT = 9 }",
            );
            (vec![0.0; n], per_area(0.0))
        }
    }
}

/// The hours a client in each state takes of a capacity in hours: `hours_per_client` for every state
/// it covers, and for no other.
fn hours_load(
    cx: &mut Ctx,
    c: &raw::Capacity,
    i: usize,
    k: &Context,
    covered: &[bool],
    per: &raw::NumMap,
) -> Vec<f64> {
    let key = format!("capacity[{i}].hours_per_client");
    let mut load = vec![0.0; k.codes.len()];
    for (code, h) in per.get_ref() {
        match k.codes.iter().position(|x| x == code) {
            Some(s) if covered[s] => {
                load[s] = cx.nonneg(h, &key, "the hours");
            }
            _ => cx.err(
                per.span(),
                key.clone(),
                format!("`{code}` is not one of this capacity's states"),
                format!(
                    "give hours for the states in `states`: {}",
                    c.states.get_ref().join(", ")
                ),
            ),
        }
    }
    for (s, &b) in covered.iter().enumerate() {
        if b && load[s] <= 0.0 && !per.get_ref().contains_key(&k.codes[s]) {
            cx.err(
                per.span(),
                key.clone(),
                format!("no hours for `{}`", k.codes[s]),
                "give the hours per client per cycle of every state in `states`",
            );
        }
    }
    load
}

/// The arms capacity `i` holds in, as a mask: as listed, or all.
fn arms(cx: &mut Ctx, c: &raw::Capacity, i: usize, arm_names: &[String]) -> Vec<bool> {
    let Some(list) = &c.arms else {
        return vec![true; arm_names.len()];
    };
    let mut mask = vec![false; arm_names.len()];
    for name in list.get_ref() {
        match arm_names.iter().position(|x| x == name) {
            Some(j) => mask[j] = true,
            None => cx.err(
                list.span(),
                format!("capacity[{i}].arms"),
                format!("unknown arm `{name}`"),
                format!("use arm names: {}", arm_names.join(", ")),
            ),
        }
    }
    mask
}

/// The cycles capacity `i` holds in (from, until; exclusive end): those that start in or after
/// `from` and end by the end of `until`.
fn period(cx: &mut Ctx, c: &raw::Capacity, i: usize, k: &Context) -> (u32, u32) {
    let key = |f: &str| format!("capacity[{i}].{f}");
    let (from, until) = cx.months((&c.from, &c.until), &key, "the limit");
    let cm = i64::from(k.cycle_months);
    let horizon = i64::from(k.cycles);
    let start = from.map_or(0, |f| {
        let m = f.index() - k.start.index();
        if m <= 0 {
            0
        } else {
            ((m + cm - 1) / cm).min(horizon)
        }
    });
    let end = until.map_or(horizon, |u| {
        let m = u.index() - k.start.index() + 1;
        if m <= 0 { 0 } else { (m / cm).min(horizon) }
    });
    (start as u32, end.max(start) as u32)
}
