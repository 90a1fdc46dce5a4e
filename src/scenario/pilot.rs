//! Checks and compiles `[[regime]]` and `[[arm]]`: budget designs and which areas get them when.

use super::compile::Ctx;
use super::costs::Index;
use super::raw::{self, ScenarioFile};
use crate::model::{Area, RENEW, Transitions, YearMonth};
use crate::regime::{Arm, BudgetRule, Exhaustion, FixedCost, Plan, Regime, Surplus, modify_row};
use toml::Spanned;

/// What the regime and arm checks need from the rest of the scenario.
pub(super) struct Context<'a> {
    pub codes: &'a [String],
    pub absorbing: &'a [bool],
    pub munis: &'a [String],
    pub areas: &'a [Area],
    pub start: YearMonth,
    pub cycle_months: u32,
    pub cycles: u32,
    /// Calendar year of each cycle.
    pub years: &'a [i32],
    pub index: &'a Option<Index>,
    /// Cost lines of the [[cost]] items (the default coverage).
    pub cost_lines: usize,
}

pub(super) fn factors(
    cx: &mut Ctx,
    k: &Context,
    price_year: i32,
    span: std::ops::Range<usize>,
    key: &str,
) -> Vec<f64> {
    super::costs::price_factors(cx, k.index, k.years, price_year, span, key)
}

pub(super) fn choice<T: Copy>(
    cx: &mut Ctx,
    v: &Option<Spanned<String>>,
    key: &str,
    options: &[(&str, T)],
    default: T,
) -> T {
    let Some(v) = v else { return default };
    match options.iter().find(|(name, _)| *name == v.get_ref()) {
        Some((_, t)) => *t,
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            cx.err(
                v.span(),
                key,
                format!("`{}` is not an option", v.get_ref()),
                format!("use one of: {}", names.join(", ")),
            );
            default
        }
    }
}

/// Compiles the regimes; adds fixed-cost lines (and `budget_reserve` when a surplus can be carried over)
/// to `lines`.
pub(super) fn regimes(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    lines: &mut Vec<String>,
) -> Vec<Regime> {
    let mut out: Vec<Regime> = Vec::new();
    for (i, r) in raw.regime.iter().enumerate() {
        let span = r.span();
        let r = r.get_ref();
        let key = |f: &str| format!("regime[{i}].{f}");
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() || name == "provider" || out.iter().any(|o| o.name == name) {
            cx.err(
                r.name.span(),
                key("name"),
                format!("`{name}` cannot name a regime (empty, duplicate or `provider`)"),
                "give every regime its own name, e.g. \"dorpsbudget\"",
            );
        }
        let given = [
            r.budget_per_inhabitant.is_some(),
            r.budget_per_area.is_some(),
            r.budget_share_of_provider.is_some(),
        ];
        if given.iter().filter(|&&b| b).count() > 1 {
            cx.err(span.clone(), format!("regime[{i}]"), "more than one budget is given", "give one of budget_per_inhabitant, budget_per_area, budget_share_of_provider (none = unlimited)");
        }
        let budget = if let Some(v) = &r.budget_per_inhabitant {
            BudgetRule::PerInhabitant(cx.nonneg(v, &key("budget_per_inhabitant"), "the budget"))
        } else if let Some(v) = &r.budget_per_area {
            BudgetRule::PerArea(cx.nonneg(v, &key("budget_per_area"), "the budget"))
        } else if let Some(v) = &r.budget_share_of_provider {
            BudgetRule::ShareOfProvider(cx.nonneg(v, &key("budget_share_of_provider"), "the share"))
        } else {
            BudgetRule::Unlimited
        };
        let py = r
            .price_year
            .as_ref()
            .map_or(i64::from(k.start.year), |p| *p.get_ref());
        let budget_index = factors(cx, k, py as i32, span.clone(), &key("price_year"));
        let mut covers = vec![false; lines.len()];
        match &r.covers {
            None => covers.iter_mut().take(k.cost_lines).for_each(|c| *c = true),
            Some(list) => {
                for l in list.get_ref() {
                    match lines[..k.cost_lines].iter().position(|x| x == l) {
                        Some(j) => covers[j] = true,
                        None => cx.err(
                            list.span(),
                            key("covers"),
                            format!("unknown cost line `{l}`"),
                            format!(
                                "use lines of the [[cost]] items: {}",
                                lines[..k.cost_lines].join(", ")
                            ),
                        ),
                    }
                }
            }
        }
        let phase_in = r.phase_in_cycles.as_ref().map_or(0, |p| *p.get_ref());
        if !(0..=1200).contains(&phase_in) {
            cx.err(
                r.phase_in_cycles.as_ref().map_or(0..0, |p| p.span()),
                key("phase_in_cycles"),
                format!("phase-in of {phase_in} cycles"),
                "give 0 (at once) or a number of cycles, e.g. 12",
            );
        }
        let prevention = r
            .prevention
            .as_ref()
            .map_or(0.0, |p| cx.share(p, &key("prevention")));
        let exhaustion = choice(
            cx,
            &r.on_exhaustion,
            &key("on_exhaustion"),
            &[
                ("overspend", Exhaustion::Overspend),
                ("waitlist", Exhaustion::Waitlist),
                ("step_down", Exhaustion::StepDown),
            ],
            Exhaustion::Overspend,
        );
        let prevention_state = match &r.prevention_state {
            Some(s) => cx.state(k.codes, s, &key("prevention_state")).unwrap_or(0),
            None => match k.codes.iter().position(|c| c == "SB") {
                Some(s) => s,
                None if prevention > 0.0 || exhaustion == Exhaustion::Waitlist => {
                    cx.err(
                        span.clone(),
                        key("prevention_state"),
                        "there is no state `SB` for prevented clients",
                        "name the state with prevention_state = \"<code>\"",
                    );
                    0
                }
                None => 0,
            },
        };
        if k.absorbing.get(prevention_state) == Some(&true)
            && (prevention > 0.0 || exhaustion == Exhaustion::Waitlist)
        {
            cx.err(
                span.clone(),
                key("prevention_state"),
                "prevented clients cannot enter an absorbing state",
                "name a non-absorbing state",
            );
        }
        let mut code = |v: &Option<Spanned<String>>, default: &str, what: &str| -> usize {
            match v {
                Some(s) => cx.state(k.codes, s, &key(what)).unwrap_or(0),
                None => match k.codes.iter().position(|c| c == default) {
                    Some(i) => i,
                    None => {
                        if exhaustion == Exhaustion::StepDown {
                            cx.err(
                                span.clone(),
                                key(what),
                                format!("there is no state `{default}` for step_down"),
                                format!("name the state with {what} = \"<code>\""),
                            );
                        }
                        0
                    }
                },
            }
        };
        let step_down = (
            code(&r.step_down_from, "BT", "step_down_from"),
            code(&r.step_down_to, "WV", "step_down_to"),
        );
        let surplus = choice(
            cx,
            &r.on_surplus,
            &key("on_surplus"),
            &[
                ("returned", Surplus::Returned),
                ("carried_over", Surplus::CarriedOver),
            ],
            Surplus::Returned,
        );
        let mut fixed = Vec::new();
        for (j, f) in r.fixed_cost.iter().enumerate() {
            let fspan = f.span();
            let f = f.get_ref();
            let fk = |x: &str| format!("regime[{i}].fixed_cost[{j}].{x}");
            let line_name = f.line.get_ref().trim();
            if line_name.is_empty()
                || line_name == "total"
                || lines[..k.cost_lines].iter().any(|l| l == line_name)
            {
                cx.err(f.line.span(), fk("line"), format!("`{line_name}` cannot name a fixed-cost line (empty, `total`, or a line of a [[cost]] item)"), "give the infrastructure its own line, e.g. \"coordinator\"");
            }
            let line = lines
                .iter()
                .position(|l| l == line_name)
                .unwrap_or_else(|| {
                    lines.push(line_name.to_string());
                    lines.len() - 1
                });
            covers.resize(lines.len(), false);
            covers[line] = true;
            let per_year = f
                .per_year
                .as_ref()
                .map_or(0.0, |v| cx.nonneg(v, &fk("per_year"), "the fixed cost"));
            let per_inh = f.per_inhabitant_per_year.as_ref().map_or(0.0, |v| {
                cx.nonneg(v, &fk("per_inhabitant_per_year"), "the fixed cost")
            });
            if f.per_year.is_none() && f.per_inhabitant_per_year.is_none() {
                cx.err(
                    fspan.clone(),
                    format!("regime[{i}].fixed_cost[{j}]"),
                    "no amount",
                    "give per_year (per area) or per_inhabitant_per_year",
                );
            }
            let ix = factors(
                cx,
                k,
                *f.price_year.get_ref() as i32,
                f.price_year.span(),
                &fk("price_year"),
            );
            let per_cycle = f64::from(k.cycle_months) / 12.0;
            fixed.push(FixedCost {
                line,
                per_area: ix.iter().map(|x| per_year * x * per_cycle).collect(),
                per_inhabitant: ix.iter().map(|x| per_inh * x * per_cycle).collect(),
            });
        }
        let mut modifiers = Vec::new();
        for (j, m) in r.modifier.iter().enumerate() {
            let m = m.get_ref();
            let mk = |x: &str| format!("regime[{i}].modifier[{j}].{x}");
            let from = cx.state(k.codes, &m.from, &mk("from"));
            let to = if m.to.get_ref() == "renew" {
                Some(RENEW)
            } else {
                cx.state(k.codes, &m.to, &mk("to")).map(|t| t as u8)
            };
            let hr = cx.num_in(&m.hazard_ratio, &mk("hazard_ratio"), 0.0, f64::INFINITY);
            if !hr.is_finite() || hr < 0.0 {
                cx.err(
                    m.hazard_ratio.span(),
                    mk("hazard_ratio"),
                    format!("hazard ratio {hr}"),
                    "give a ratio of 0 or more (1 = no effect, 1.5 = 50% more often)",
                );
            }
            if let (Some(f), Some(t)) = (from, to) {
                if usize::from(t) == f {
                    cx.err(
                        m.to.span(),
                        mk("to"),
                        "a modifier acts on leaving transitions, not on staying",
                        "name another to-state (or renew)",
                    );
                }
                modifiers.push((f, t, hr));
            }
        }
        out.push(Regime {
            name,
            budget,
            budget_index,
            covers,
            phase_in: phase_in.clamp(0, 1200) as u32,
            prevention,
            prevention_state,
            exhaustion,
            surplus,
            fixed,
            step_down,
            modifiers,
        });
    }
    for r in &mut out {
        r.covers.resize(lines.len(), false);
    }
    out
}

fn areas_of(
    cx: &mut Ctx,
    a: &raw::Assign,
    key: &str,
    k: &Context,
    span: std::ops::Range<usize>,
) -> Vec<usize> {
    match (&a.municipality, &a.areas) {
        (Some(m), None) => match k.munis.iter().position(|x| x == m.get_ref()) {
            Some(mi) => k
                .areas
                .iter()
                .enumerate()
                .filter(|(_, ar)| ar.municipality == mi)
                .map(|(i, _)| i)
                .collect(),
            None => {
                cx.err(
                    m.span(),
                    format!("{key}.municipality"),
                    format!("unknown municipality `{}`", m.get_ref()),
                    format!("use one of: {}", k.munis.join(", ")),
                );
                Vec::new()
            }
        },
        (None, Some(list)) => list
            .get_ref()
            .iter()
            .filter_map(|name| {
                let found = k.areas.iter().position(|ar| ar.name == *name);
                if found.is_none() {
                    let names: Vec<&str> = k.areas.iter().map(|a| a.name.as_str()).collect();
                    cx.err(
                        list.span(),
                        format!("{key}.areas"),
                        format!("unknown area `{name}`"),
                        format!("use area names: {}", names.join(", ")),
                    );
                }
                found
            })
            .collect(),
        _ => {
            cx.err(
                span,
                key,
                "an assignment needs either `municipality` or `areas`",
                "write municipality = \"Noord-Beveland\" or areas = [\"Kats\", ...]",
            );
            Vec::new()
        }
    }
}

/// Compiles the arms and the transition tables of every (regime, start) they use. Without `[[arm]]` the
/// scenario has one arm, `baseline`, with every area under the provider model.
pub(super) fn arms(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    regimes: &[Regime],
    provider: Option<&Transitions>,
) -> (Vec<Arm>, Vec<Transitions>) {
    let mut arms = Vec::new();
    let mut keys: Vec<(usize, u32)> = Vec::new();
    if raw.arm.is_empty() {
        arms.push(Arm {
            name: "baseline".into(),
            plans: vec![None; k.areas.len()],
        });
    }
    for (i, arm) in raw.arm.iter().enumerate() {
        let arm = arm.get_ref();
        let name = arm.name.get_ref().trim().to_string();
        if name.is_empty() || name.contains(',') || arms.iter().any(|a: &Arm| a.name == name) {
            cx.err(
                arm.name.span(),
                format!("arm[{i}].name"),
                format!("`{name}` cannot name an arm (empty, duplicate or with a comma)"),
                "give every arm its own name",
            );
        }
        let mut plans: Vec<Option<Plan>> = vec![None; k.areas.len()];
        for (j, a) in arm.assign.iter().enumerate() {
            let span = a.span();
            let a = a.get_ref();
            let key = format!("arm[{i}].assign[{j}]");
            let Some(regime) = regimes.iter().position(|r| r.name == *a.regime.get_ref()) else {
                let names: Vec<&str> = regimes.iter().map(|r| r.name.as_str()).collect();
                cx.err(
                    a.regime.span(),
                    format!("{key}.regime"),
                    format!("unknown regime `{}`", a.regime.get_ref()),
                    format!(
                        "define it with [[regime]] or use one of: {}",
                        names.join(", ")
                    ),
                );
                continue;
            };
            let start = match YearMonth::parse(a.from.get_ref()) {
                Some(d) if d >= k.start => {
                    ((d.index() - k.start.index()) as u32).div_ceil(k.cycle_months)
                }
                _ => {
                    cx.err(
                        a.from.span(),
                        format!("{key}.from"),
                        format!(
                            "`{}` is not a month at or after the start ({})",
                            a.from.get_ref(),
                            k.start
                        ),
                        "write the first month under the regime as \"YYYY-MM\"",
                    );
                    continue;
                }
            };
            if start >= k.cycles {
                cx.err(
                    a.from.span(),
                    format!("{key}.from"),
                    format!("{} is after the horizon", a.from.get_ref()),
                    "start the regime within the simulated period",
                );
            }
            for ar in areas_of(cx, a, &key, k, span.clone()) {
                if plans[ar].is_some() {
                    cx.err(
                        span.clone(),
                        key.clone(),
                        format!("area `{}` is assigned twice in this arm", k.areas[ar].name),
                        "assign every area at most once per arm",
                    );
                }
                let table = keys
                    .iter()
                    .position(|&x| x == (regime, start))
                    .unwrap_or_else(|| {
                        keys.push((regime, start));
                        keys.len() - 1
                    });
                plans[ar] = Some(Plan {
                    regime,
                    start,
                    table,
                });
            }
        }
        arms.push(Arm { name, plans });
    }
    if !raw.arm.is_empty()
        && arms
            .first()
            .is_some_and(|a| a.plans.iter().any(Option::is_some))
    {
        cx.err(
            raw.arm[0].span(),
            "arm[0]",
            "the first arm is the baseline and puts areas under a budget regime",
            "put the baseline (provider model everywhere, no assign) first",
        );
    }
    let tables = match provider {
        Some(p) => keys
            .iter()
            .map(|&(r, start)| regime_table(p, &regimes[r], start, k.codes.len(), k.cycles))
            .collect(),
        None => Vec::new(),
    };
    (arms, tables)
}

/// The transition table of an area under `regime` from cycle `start`: provider rows before, modified
/// rows (with the phase-in) from then on.
fn regime_table(
    p: &Transitions,
    regime: &Regime,
    start: u32,
    n: usize,
    cycles: u32,
) -> Transitions {
    let per_state = usize::from(p.cap) + 1;
    let stride = p.cycle_stride(n);
    let mut rows = p.rows.clone();
    let mut row_of = p.row_of.clone();
    for c in start..cycles {
        let ramp = regime.ramp(c - start);
        for s in 0..n {
            let ratios: Vec<(u8, f64)> = regime
                .modifiers
                .iter()
                .filter(|m| m.0 == s)
                .map(|&(_, t, hr)| (t, 1.0 + ramp * (hr - 1.0)))
                .collect();
            if ratios.is_empty() {
                continue;
            }
            for m in 0..per_state {
                let cell = c as usize * stride + s * per_state + m;
                let r = row_of[cell];
                if r == u32::MAX {
                    continue;
                }
                let new = modify_row(&p.rows[r as usize], s as u8, &ratios);
                let idx = rows.iter().position(|x| *x == new).unwrap_or_else(|| {
                    rows.push(new);
                    rows.len() - 1
                });
                row_of[cell] = idx as u32;
            }
        }
    }
    Transitions::new(rows, p.cap, row_of, n)
}
