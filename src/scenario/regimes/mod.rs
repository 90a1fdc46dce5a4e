//! Checks and compiles `[[regime]]` and `[[arm]]`: budget designs and which areas get them when.

mod reassess;

use super::check::{Ctx, number};
use super::check::{choice, optional_period};
use super::costs::Index;
use super::raw::{self, ScenarioFile};
use super::transitions::{Parsed, cap_of, lay_out, parse_rows};
use crate::model::regime::{
    Arm, BudgetRule, Effect, FixedCost, Modifier, Plan, Pool, PoolUnit, Regime, RegimeCost,
    RiskSharing, Surplus,
};
use crate::model::row::{modify_row, relative_risk_row};
use crate::model::{Area, CostItem, RENEW, Row, Transitions, YearMonth};
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
    /// For `[[regime.transition]]`.
    pub rows: &'a super::transitions::Frame<'a>,
    /// For `[[regime.cost]]`.
    pub costs: &'a super::costs::Frame<'a>,
}

/// The checked `[[regime.transition]]` rows of one regime.
#[derive(Clone)]
pub(super) struct RegimeRows {
    rows: Vec<Row>,
    parsed: Vec<Parsed>,
    cap: u16,
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

/// Compiles the regimes and checks their replacement rows; adds the lines of their own cost items,
/// fixed-cost lines (and `budget_reserve` when a surplus can be carried over) to `lines`.
pub(super) fn regimes(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    lines: &mut Vec<String>,
) -> (Vec<Regime>, Vec<RegimeRows>) {
    let mut out: Vec<Regime> = Vec::new();
    let mut all_rows = Vec::new();
    for (i, r) in raw.regime.iter().enumerate() {
        all_rows.push(regime_rows(cx, r.get_ref(), i, k));
        let regime = regime(cx, raw, r, i, k, lines, &out);
        out.push(regime);
    }
    for r in &mut out {
        r.covers.resize(lines.len(), false);
    }
    (out, all_rows)
}

/// The regimes as [`regimes`] compiles them, without checking their replacement rows (which
/// [`all_regime_rows`] checks): for a run that draws parameters the rows do not depend on.
pub(super) fn regimes_alone(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    lines: &mut Vec<String>,
) -> Vec<Regime> {
    let mut out: Vec<Regime> = Vec::new();
    for (i, r) in raw.regime.iter().enumerate() {
        let regime = regime(cx, raw, r, i, k, lines, &out);
        out.push(regime);
    }
    for r in &mut out {
        r.covers.resize(lines.len(), false);
    }
    out
}

/// The checked `[[regime.transition]]` rows of every regime, as [`regimes`] checks them.
pub(super) fn all_regime_rows(cx: &mut Ctx, raw: &ScenarioFile, k: &Context) -> Vec<RegimeRows> {
    raw.regime
        .iter()
        .enumerate()
        .map(|(i, r)| regime_rows(cx, r.get_ref(), i, k))
        .collect()
}

/// Compiles regime `i` (after the regimes `before` it, whose names it may not repeat).
fn regime(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    r: &Spanned<raw::Regime>,
    i: usize,
    k: &Context,
    lines: &mut Vec<String>,
    before: &[Regime],
) -> Regime {
    let span = r.span();
    let r = r.get_ref();
    let key = |f: &str| format!("regime[{i}].{f}");
    let costs = regime_costs(cx, r, i, k, lines);
    let own: Vec<usize> = costs
        .iter()
        .map(|c| c.item.line)
        .filter(|&l| l >= k.cost_lines)
        .collect();
    let name = r.name.get_ref().trim().to_string();
    if name.is_empty() || name == "provider" || before.iter().any(|o| o.name == name) {
        cx.err(
            r.name.span(),
            key("name"),
            format!("`{name}` cannot name a regime (empty, duplicate or `provider`)"),
            "give every regime its own name, e.g. \"dorpsbudget\"",
        );
    }
    let budget = budget_rule(cx, r, i, span.clone());
    let py = r
        .price_year
        .as_ref()
        .map_or(i64::from(k.start.year), |p| *p.get_ref());
    let budget_index = factors(cx, k, py as i32, span.clone(), &key("price_year"));
    let mut covers = covers(cx, r, i, k, lines, &own);
    let phase_in = phase_in(cx, r, i);
    let prevention = r
        .prevention
        .as_ref()
        .map_or(0.0, |p| cx.share(p, &key("prevention")));
    removed_keys(cx, r, i);
    let prevention_state = prevention_state(cx, r, i, k, prevention, span.clone());
    let (surplus, reinvest_line) = surplus(cx, r, i, span.clone(), lines);
    let (pool, risk_sharing) = pool_and_risk_sharing(cx, r, i);
    let bonus_malus = bonus_malus(cx, raw, r, i);
    if risk_sharing.is_some() && budget == BudgetRule::Unlimited {
        cx.err(
            span.clone(),
            key("bandbreedte"),
            "risk sharing on a regime without a budget",
            "give a budget (budget_per_inhabitant, budget_per_area or budget_share_of_provider), or remove the bandbreedte",
        );
    }
    let fixed = fixed_costs(cx, r, i, k, lines, &mut covers);
    let modifiers = modifiers(cx, r, i, k);
    let reassessments = reassess::compile(cx, r, i, k);
    Regime {
        name,
        budget,
        budget_index,
        covers,
        phase_in,
        prevention,
        prevention_state,
        surplus,
        risk_sharing,
        pool,
        reinvest_line,
        bonus_malus,
        fixed,
        modifiers,
        costs,
        reassessments,
    }
}

/// The budget of regime `i`: at most one of the four ways to give it; none is unlimited.
fn budget_rule(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    span: std::ops::Range<usize>,
) -> BudgetRule {
    let key = |f: &str| format!("regime[{i}].{f}");
    let given = [
        r.budget_per_inhabitant.is_some(),
        r.budget_per_area.is_some(),
        r.budget_share_of_provider.is_some(),
        r.budget_percentile_of_baseline.is_some(),
    ];
    if given.iter().filter(|&&b| b).count() > 1 {
        cx.err(span, format!("regime[{i}]"), "more than one budget is given", "give one of budget_per_inhabitant, budget_per_area, budget_share_of_provider, budget_percentile_of_baseline (none = unlimited)");
    }
    if let Some(v) = &r.budget_per_inhabitant {
        BudgetRule::PerInhabitant(cx.nonneg(v, &key("budget_per_inhabitant"), "the budget"))
    } else if let Some(v) = &r.budget_per_area {
        BudgetRule::PerArea(cx.nonneg(v, &key("budget_per_area"), "the budget"))
    } else if let Some(v) = &r.budget_share_of_provider {
        BudgetRule::ShareOfProvider(cx.nonneg(v, &key("budget_share_of_provider"), "the share"))
    } else if let Some(v) = &r.budget_percentile_of_baseline {
        let q = cx.share(v, &key("budget_percentile_of_baseline"));
        if q <= 0.0 || q >= 1.0 {
            cx.err(
                v.span(),
                key("budget_percentile_of_baseline"),
                format!("{} is not a quantile strictly between 0 and 1", number(q)),
                "give the percentile as a share, e.g. 0.8 for the P80 of the baseline forecast",
            );
        }
        BudgetRule::BaselinePercentile(q)
    } else {
        BudgetRule::Unlimited
    }
}

/// The cost lines regime `i`'s budget covers, by line: as listed, or every line of the [[cost]]
/// items and of the regime's own cost items (`own`).
fn covers(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    k: &Context,
    lines: &[String],
    own: &[usize],
) -> Vec<bool> {
    let mut covers = vec![false; lines.len()];
    let Some(list) = &r.covers else {
        covers.iter_mut().take(k.cost_lines).for_each(|c| *c = true);
        own.iter().for_each(|&l| covers[l] = true);
        return covers;
    };
    for l in list.get_ref() {
        match lines
            .iter()
            .enumerate()
            .position(|(j, x)| x == l && (j < k.cost_lines || own.contains(&j)))
        {
            Some(j) => covers[j] = true,
            None => cx.err(
                list.span(),
                format!("regime[{i}].covers"),
                format!("unknown cost line `{l}`"),
                format!(
                    "use lines of the [[cost]] items or of this regime's own cost items: {}",
                    lines[..k.cost_lines]
                        .iter()
                        .chain(own.iter().map(|&j| &lines[j]))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    covers
}

/// Regime `i`'s phase-in, 0 to 1,200 cycles.
fn phase_in(cx: &mut Ctx, r: &raw::Regime, i: usize) -> u32 {
    let phase_in = r.phase_in_cycles.as_ref().map_or(0, |p| *p.get_ref());
    if !(0..=1200).contains(&phase_in) {
        cx.err(
            r.phase_in_cycles.as_ref().map_or(0..0, |p| p.span()),
            format!("regime[{i}].phase_in_cycles"),
            format!("phase-in of {phase_in} cycles"),
            "give 0 (at once) or a number of cycles, e.g. 12",
        );
    }
    phase_in.clamp(0, 1200) as u32
}

/// Keys a regime no longer has, each refused with what to write instead.
fn removed_keys(cx: &mut Ctx, r: &raw::Regime, i: usize) {
    for (v, what, fix) in [
        (
            &r.on_exhaustion,
            "on_exhaustion",
            "remove it: a budget never refuses needed care (zorgplicht). The municipality tops up an overspend, or the holder carries it within a `bandbreedte`; a limit on the care that can be delivered (staff) is a [[capacity]], with a waiting status",
        ),
        (
            &r.step_down_from,
            "step_down_from",
            "remove it: clients are not stepped down for money; reviews of long stays are a care policy (`reassessment` on the regime)",
        ),
        (
            &r.step_down_to,
            "step_down_to",
            "remove it: clients are not stepped down for money; reviews of long stays are a care policy (`reassessment` on the regime)",
        ),
    ] {
        if let Some(v) = v {
            cx.err(
                v.span(),
                format!("regime[{i}].{what}"),
                format!("`{what}` is no longer a regime key"),
                fix,
            );
        }
    }
}

/// The state prevented clients go to: as named, else `SB`; never an absorbing state.
fn prevention_state(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    k: &Context,
    prevention: f64,
    span: std::ops::Range<usize>,
) -> usize {
    let key = format!("regime[{i}].prevention_state");
    let prevention_state = match &r.prevention_state {
        Some(s) => cx.state(k.codes, s, &key).unwrap_or(0),
        None => match k.codes.iter().position(|c| c == "SB") {
            Some(s) => s,
            None if prevention > 0.0 || r.cost_per_prevented_indication.is_some() => {
                cx.err(
                    span.clone(),
                    key.clone(),
                    "there is no state `SB` for prevented clients",
                    "name the state with prevention_state = \"<code>\"",
                );
                0
            }
            None => 0,
        },
    };
    if k.absorbing.get(prevention_state) == Some(&true) && prevention > 0.0 {
        cx.err(
            span,
            key,
            "prevented clients cannot enter an absorbing state",
            "name a non-absorbing state",
        );
    }
    prevention_state
}

/// Over which areas regime `i`'s budget is pooled, and its risk sharing (`bandbreedte`), if any.
fn pool_and_risk_sharing(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
) -> (PoolUnit, Option<RiskSharing>) {
    let key = |f: &str| format!("regime[{i}].{f}");
    let pool = choice(
        cx,
        &r.pool,
        &key("pool"),
        &[
            ("area", PoolUnit::Area),
            ("municipality", PoolUnit::Municipality),
            ("region", PoolUnit::Region),
        ],
        PoolUnit::Area,
    );
    let risk_sharing = r.bandbreedte.as_ref().map(|b| {
        let b = b.get_ref();
        RiskSharing {
            band: cx.nonneg(&b.band, &key("bandbreedte.band"), "the band"),
            share: cx.share(&b.share, &key("bandbreedte.share")),
        }
    });
    (pool, risk_sharing)
}

/// What happens to regime `i`'s surplus, and the line of a reinvested surplus (added to `lines`).
fn surplus(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    span: std::ops::Range<usize>,
    lines: &mut Vec<String>,
) -> (Surplus, Option<usize>) {
    let key = |f: &str| format!("regime[{i}].{f}");
    #[derive(Clone, Copy, PartialEq)]
    enum SurplusKey {
        Returned,
        CarriedOver,
        Reinvested,
    }
    let surplus_key = choice(
        cx,
        &r.on_surplus,
        &key("on_surplus"),
        &[
            ("returned", SurplusKey::Returned),
            ("carried_over", SurplusKey::CarriedOver),
            ("reinvested", SurplusKey::Reinvested),
        ],
        SurplusKey::Returned,
    );
    match (surplus_key, &r.cost_per_prevented_indication) {
        (SurplusKey::Returned, None) => (Surplus::Returned, None),
        (SurplusKey::CarriedOver, None) => (Surplus::CarriedOver, None),
        (SurplusKey::Reinvested, Some(v)) => {
            let cost = cx.nonneg(v, &key("cost_per_prevented_indication"), "the cost");
            if cost <= 0.0 {
                cx.err(
                    v.span(),
                    key("cost_per_prevented_indication"),
                    "a prevented indication that costs nothing",
                    "give what one prevented indication costs the sociale basis, e.g. 1500.0",
                );
            }
            let name = "preventie_herinvestering";
            let line = lines.iter().position(|l| l == name).unwrap_or_else(|| {
                lines.push(name.to_string());
                lines.len() - 1
            });
            (Surplus::Reinvested(cost.max(f64::MIN_POSITIVE)), Some(line))
        }
        (SurplusKey::Reinvested, None) => {
            cx.err(
                r.on_surplus.as_ref().map_or(span, |v| v.span()),
                key("cost_per_prevented_indication"),
                "a reinvested surplus needs the cost of a prevented indication",
                "add cost_per_prevented_indication = <euros at the price year>",
            );
            (Surplus::Returned, None)
        }
        (_, Some(v)) => {
            cx.err(
                v.span(),
                key("cost_per_prevented_indication"),
                "a cost per prevented indication without a reinvested surplus",
                "write on_surplus = \"reinvested\", or remove the cost",
            );
            (Surplus::Returned, None)
        }
    }
}

/// Regime `i`'s bonuses and maluses, each on a [[kpi]] by name.
fn bonus_malus(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    r: &raw::Regime,
    i: usize,
) -> Vec<crate::model::regime::BonusMalus> {
    let mut bonus_malus = Vec::new();
    for (j, b) in r.bonus_malus.iter().enumerate() {
        let bk = |f: &str| format!("regime[{i}].bonus_malus[{j}].{f}");
        let b = b.get_ref();
        let name = b.kpi.get_ref().trim();
        let Some(kpi) = raw
            .kpi
            .iter()
            .position(|x| x.get_ref().name.get_ref().trim() == name)
        else {
            let names: Vec<&str> = raw
                .kpi
                .iter()
                .map(|x| x.get_ref().name.get_ref().trim())
                .collect();
            cx.err(
                b.kpi.span(),
                bk("kpi"),
                format!("unknown KPI `{name}`"),
                format!("use the name of a [[kpi]]: {}", names.join(", ")),
            );
            continue;
        };
        let bonus = b
            .bonus
            .as_ref()
            .map_or(0.0, |v| cx.nonneg(v, &bk("bonus"), "the bonus"));
        let malus = b
            .malus
            .as_ref()
            .map_or(0.0, |v| cx.nonneg(v, &bk("malus"), "the malus"));
        if b.bonus.is_none() && b.malus.is_none() {
            cx.err(
                b.kpi.span(),
                format!("regime[{i}].bonus_malus[{j}]"),
                "neither a bonus nor a malus",
                "give bonus = <euros> (target met) and/or malus = <euros> (target missed), per contract year",
            );
        }
        bonus_malus.push(crate::model::regime::BonusMalus { kpi, bonus, malus });
    }
    bonus_malus
}

/// Regime `i`'s fixed costs (community infrastructure), each on its own line (added to `lines` and
/// to what the budget `covers`).
fn fixed_costs(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    k: &Context,
    lines: &mut Vec<String>,
    covers: &mut Vec<bool>,
) -> Vec<FixedCost> {
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
    fixed
}

/// Compiles the `[[regime.modifier]]` tables of regime `i`.
fn modifiers(cx: &mut Ctx, r: &raw::Regime, i: usize, k: &Context) -> Vec<Modifier> {
    let mut out = Vec::new();
    for (j, m) in r.modifier.iter().enumerate() {
        let mspan = m.span();
        let m = m.get_ref();
        let mk = |x: &str| format!("regime[{i}].modifier[{j}].{x}");
        let from = cx.state(k.codes, &m.from, &mk("from"));
        let to = if m.to.get_ref() == "renew" {
            Some(RENEW)
        } else {
            cx.state(k.codes, &m.to, &mk("to")).map(|t| t as u8)
        };
        let effect = match (&m.hazard_ratio, &m.relative_risk) {
            (Some(v), None) => {
                let hr = cx.num_in(v, &mk("hazard_ratio"), 0.0, f64::INFINITY);
                if !hr.is_finite() || hr < 0.0 {
                    cx.err(
                        v.span(),
                        mk("hazard_ratio"),
                        format!("hazard ratio {hr}"),
                        "give a ratio of 0 or more (1 = no effect, 1.5 = 50% more often)",
                    );
                }
                Effect::HazardRatio(hr)
            }
            (None, Some(v)) => {
                let rr = cx.num_in(v, &mk("relative_risk"), 0.0, f64::INFINITY);
                if !rr.is_finite() || rr < 0.0 {
                    cx.err(
                        v.span(),
                        mk("relative_risk"),
                        format!("relative risk {rr}"),
                        "give a relative risk of 0 or more (1 = no effect, 0.5 = half as likely)",
                    );
                }
                Effect::RelativeRisk(rr)
            }
            _ => {
                cx.err(
                    mspan,
                    format!("regime[{i}].modifier[{j}]"),
                    "a modifier needs exactly one of hazard_ratio and relative_risk",
                    "give hazard_ratio = <ratio> (scales the hazard; the row stays valid) or relative_risk = <rr> (scales the probability; the stay probability takes up the difference)",
                );
                continue;
            }
        };
        let Some(period) = optional_period(cx, &m.period, mk("period"), k.start, k.cycle_months)
        else {
            continue;
        };
        if let (Some(f), Some(t)) = (from, to) {
            if usize::from(t) == f {
                cx.err(
                    m.to.span(),
                    mk("to"),
                    "a modifier acts on leaving transitions, not on staying",
                    "name another to-state (or renew)",
                );
            }
            out.push(Modifier {
                from: f,
                to: t,
                effect,
                period,
                source: j,
            });
        }
    }
    out
}

/// Checks the `[[regime.transition]]` rows of regime `i` (overlaps included).
fn regime_rows(cx: &mut Ctx, r: &raw::Regime, i: usize, k: &Context) -> RegimeRows {
    let mut rows = Vec::new();
    let mut broken = vec![false; k.codes.len()];
    let prefix = format!("regime[{i}].transition");
    let parsed = parse_rows(cx, &r.transition, &prefix, k.rows, &mut rows, &mut broken);
    let cap = cap_of(&parsed);
    let mut reported = vec![false; k.codes.len()];
    lay_out(cx, &parsed, k.rows, cap, 0, &prefix, &mut reported);
    RegimeRows { rows, parsed, cap }
}

/// Compiles the `[[regime.cost]]` items of regime `i`; new lines are added to `lines`.
fn regime_costs(
    cx: &mut Ctx,
    r: &raw::Regime,
    i: usize,
    k: &Context,
    lines: &mut Vec<String>,
) -> Vec<RegimeCost> {
    let mut out = Vec::new();
    for (j, c) in r.cost.iter().enumerate() {
        let prefix = format!("regime[{i}].cost[{j}]");
        if let Some(m) = &c.get_ref().municipalities {
            cx.err(
                m.span(),
                format!("{prefix}.municipalities"),
                "a regime's cost item applies in the areas its arms put under the regime",
                "remove municipalities here, and choose the areas in the arm's assign",
            );
            continue;
        }
        let Some((item, period)) = super::costs::cost_item(cx, c, &prefix, k.costs, lines) else {
            continue;
        };
        let applies = (0..i64::from(k.cycles))
            .map(|c| c >= period.0 && c <= period.1)
            .collect();
        out.push(RegimeCost { item, applies });
    }
    out
}

pub(super) fn areas_of(
    cx: &mut Ctx,
    (municipality, areas): (&Option<Spanned<String>>, &Option<Spanned<Vec<String>>>),
    key: &str,
    k: &Context,
    span: std::ops::Range<usize>,
) -> Vec<usize> {
    match (municipality, areas) {
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

/// The budget pools of an arm's `plans` (areas under the same regime and pilot period that share the
/// unit the regime pools by), in order of their first area; sets each plan's pool. A name two pools
/// would share gets the regime's name, and then a number, added.
fn pools_of(k: &Context, regimes: &[Regime], plans: &mut [Option<Plan>]) -> Vec<Pool> {
    let mut keys: Vec<(usize, u32, u32, usize)> = Vec::new();
    let mut pools: Vec<Pool> = Vec::new();
    for (a, plan) in plans.iter_mut().enumerate() {
        let Some(plan) = plan else { continue };
        let Some(regime) = regimes.get(plan.regime) else {
            continue;
        };
        let area = &k.areas[a];
        let (unit_key, name) = match regime.pool {
            PoolUnit::Area => (a, area.name.clone()),
            PoolUnit::Municipality => (area.municipality, k.munis[area.municipality].clone()),
            PoolUnit::Region => (0, "regio".to_string()),
        };
        let key = (plan.regime, plan.start, plan.end, unit_key);
        plan.pool = match keys.iter().position(|&x| x == key) {
            Some(i) => {
                pools[i].areas.push(a);
                i
            }
            None => {
                keys.push(key);
                let mut unique = name.clone();
                if pools.iter().any(|p| p.name == unique) {
                    unique = format!("{name} ({})", regime.name);
                }
                let mut n = 2;
                while pools.iter().any(|p| p.name == unique) {
                    unique = format!("{name} ({}, {n})", regime.name);
                    n += 1;
                }
                pools.push(Pool {
                    name: unique,
                    unit: regime.pool,
                    regime: plan.regime,
                    areas: vec![a],
                });
                pools.len() - 1
            }
        };
    }
    pools
}

/// The labels of arm `i` (empty where not given); an empty or over-long label is an error.
fn arm_label(cx: &mut Ctx, i: usize, arm: &raw::Arm) -> (String, String) {
    let Some(label) = &arm.label else {
        return (String::new(), String::new());
    };
    let label = label.get_ref();
    let mut one = |lang: &str, text: &Option<Spanned<String>>| -> String {
        let Some(t) = text else {
            return String::new();
        };
        let v = t.get_ref().trim();
        if v.is_empty() || v.chars().count() > 80 || v.chars().any(char::is_control) {
            cx.err(
                t.span(),
                format!("arm[{i}].label.{lang}"),
                format!("`{v}` cannot label an arm (empty, longer than 80 characters or with a control character)"),
                "give a short name for people, e.g. label = { nl = \"Dorpsbudget Noord-Beveland\", en = \"Village budget Noord-Beveland\" }, or leave the language out",
            );
            return String::new();
        }
        v.to_string()
    };
    (one("nl", &label.nl), one("en", &label.en))
}

/// Compiles the arms and the transition tables of every (regime, start, end) they use. Without `[[arm]]` the
/// scenario has one arm, `baseline`, with every area under the provider model.
#[allow(clippy::type_complexity)]
pub(super) fn arms(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    (regimes, rows): (&[Regime], &[RegimeRows]),
    provider: Option<&Transitions>,
    costs: &[CostItem],
) -> (Vec<Arm>, Vec<Transitions>, Vec<Option<Vec<CostItem>>>) {
    let mut arms = Vec::new();
    // The distinct (regime, start, end) of the plans: one transition table and cost set each.
    let mut keys: Vec<TableKey> = Vec::new();
    if raw.arm.is_empty() {
        arms.push(Arm {
            name: "baseline".into(),
            nl: String::new(),
            en: String::new(),
            plans: vec![None; k.areas.len()],
            pools: Vec::new(),
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
            assign(
                cx,
                a,
                &format!("arm[{i}].assign[{j}]"),
                k,
                regimes,
                (&mut plans, &mut keys),
            );
        }
        let pools = pools_of(k, regimes, &mut plans);
        let (nl, en) = arm_label(cx, i, arm);
        arms.push(Arm {
            name,
            nl,
            en,
            plans,
            pools,
        });
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
        Some(p) if tables_fit(cx, raw, k, p, (regimes, rows), &keys) => {
            regime_tables(cx, raw, k, p, (regimes, rows), &keys)
        }
        _ => Vec::new(),
    };
    let cost_sets = keys
        .iter()
        .map(|&(r, start, end)| regime_cost_set(costs, &regimes[r], start, end))
        .collect();
    (arms, tables, cost_sets)
}

/// The cost items of every (regime, start, end) the arms' plans use, as [`arms`] gives them (the
/// `table` of a plan numbers its (regime, start, end)).
pub(super) fn cost_sets(
    arms: &[Arm],
    costs: &[CostItem],
    regimes: &[Regime],
) -> Vec<Option<Vec<CostItem>>> {
    let mut keys: Vec<Option<TableKey>> = Vec::new();
    for plan in arms.iter().flat_map(|a| a.plans.iter().flatten()) {
        if keys.len() <= plan.table {
            keys.resize(plan.table + 1, None);
        }
        keys[plan.table] = Some((plan.regime, plan.start, plan.end));
    }
    keys.into_iter()
        .map(|key| {
            let (r, start, end) = key.expect("every table is some plan's");
            regime_cost_set(costs, &regimes[r], start, end)
        })
        .collect()
}

/// A regime's transition table for a period: (regime, first cycle, end cycle).
type TableKey = (usize, u32, u32);

/// Factors on the moves to states: (target, factor).
type Factors = Vec<(u8, f64)>;

/// One `assign` of an arm (keys `{key}.<field>`): its areas get a plan under the regime from its
/// start to its end; the plan's (regime, start, end) is added to `keys` if new.
fn assign(
    cx: &mut Ctx,
    a: &Spanned<raw::Assign>,
    key: &str,
    k: &Context,
    regimes: &[Regime],
    (plans, keys): (&mut [Option<Plan>], &mut Vec<TableKey>),
) {
    let span = a.span();
    let a = a.get_ref();
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
        return;
    };
    let Some(start) = assign_start(cx, a, key, k) else {
        return;
    };
    let end = pilot_end(cx, a, key, k, start);
    for ar in areas_of(cx, (&a.municipality, &a.areas), key, k, span.clone()) {
        if plans[ar].is_some() {
            cx.err(
                span.clone(),
                key.to_string(),
                format!("area `{}` is assigned twice in this arm", k.areas[ar].name),
                "assign every area at most once per arm",
            );
        }
        let table = keys
            .iter()
            .position(|&x| x == (regime, start, end))
            .unwrap_or_else(|| {
                keys.push((regime, start, end));
                keys.len() - 1
            });
        plans[ar] = Some(Plan {
            regime,
            start,
            end,
            table,
            pool: 0,
        });
    }
}

/// The first cycle under an assigned regime: its `from` month, at or after the start (`None` when
/// it is not); after the horizon is an error too.
fn assign_start(cx: &mut Ctx, a: &raw::Assign, key: &str, k: &Context) -> Option<u32> {
    let start = match YearMonth::parse(a.from.get_ref()) {
        Some(d) if d >= k.start => ((d.index() - k.start.index()) as u32).div_ceil(k.cycle_months),
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
            return None;
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
    Some(start)
}

/// The transition table of every (regime, start, end) in `keys`, mixed from the provider's table `p`.
fn regime_tables(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    p: &Transitions,
    (regimes, rows): (&[Regime], &[RegimeRows]),
    keys: &[(usize, u32, u32)],
) -> Vec<Transitions> {
    let mut reported: Vec<Vec<bool>> = raw
        .regime
        .iter()
        .map(|r| vec![false; r.get_ref().modifier.len()])
        .collect();
    keys.iter()
        .map(|&(r, start, end)| {
            regime_table(
                cx,
                raw,
                k,
                p,
                (r, &regimes[r], &rows[r]),
                (start, end),
                &mut reported,
            )
        })
        .collect()
}

/// Whether the transition table of every regime the arms use fits the memory budget, as the
/// provider's must (checked before any is built); a regime whose reassessments or own rows need too
/// fine a time-in-state resolution is reported once.
fn tables_fit(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    p: &Transitions,
    (regimes, rows): (&[Regime], &[RegimeRows]),
    keys: &[(usize, u32, u32)],
) -> bool {
    let mut fit = true;
    let mut used: Vec<usize> = keys.iter().map(|&(r, _, _)| r).collect();
    used.sort_unstable();
    used.dedup();
    for r in used {
        let cap = table_cap(p, &regimes[r], &rows[r]);
        let n = k.codes.len();
        let bytes =
            crate::limits::table_bytes(u64::from(k.cycles), (n * (usize::from(cap) + 1)) as u64);
        if bytes <= crate::limits::MEMORY_BUDGET {
            continue;
        }
        fit = false;
        let problem = format!(
            "the transition table of regime `{}` ({} cycles × {n} states × {} cycles_in_state cells) would take {} of memory, over the limit of {}",
            regimes[r].name,
            k.cycles,
            usize::from(cap) + 1,
            crate::limits::gb(bytes),
            crate::limits::gb(crate::limits::MEMORY_BUDGET)
        );
        let raw_r = raw.regime[r].get_ref();
        match regimes[r].reassessments.iter().find(|a| a.after == cap) {
            Some(a) => {
                let v = &raw_r.reassessment[a.source].get_ref().after_cycles;
                cx.err(v.span(), format!("regime[{r}].reassessment[{}].after_cycles", a.source), problem, "lower after_cycles (the table tells apart every time in state up to it), or shorten time.cycles");
            }
            None => cx.err(raw.regime[r].span(), format!("regime[{r}].transition"), problem, "end the highest cycles_in_state band of the regime's rows earlier (e.g. \"24+\"), or shorten time.cycles"),
        }
    }
    fit
}

/// The cost items of an area under `regime` in cycles `start..end`: the model's items, with those the
/// regime replaces set to 0 in the cycles of the pilot period its items apply, followed by the regime's
/// own items (0 outside the pilot period: before `start` and from `end` on, the provider's prices).
/// `None` when the regime has no cost items.
fn regime_cost_set(
    costs: &[CostItem],
    regime: &Regime,
    start: u32,
    end: u32,
) -> Option<Vec<CostItem>> {
    if regime.costs.is_empty() {
        return None;
    }
    let period = start as usize..end as usize;
    let mut out = costs.to_vec();
    for item in &mut out {
        let slot = item.slot();
        for rc in regime.costs.iter().filter(|rc| rc.item.slot() == slot) {
            for (c, a) in item.amount.iter_mut().enumerate() {
                if period.contains(&c) && rc.applies[c] {
                    *a = 0.0;
                }
            }
        }
    }
    for rc in &regime.costs {
        let mut item = rc.item.clone();
        for (c, a) in item.amount.iter_mut().enumerate() {
            if !period.contains(&c) {
                *a = 0.0;
            }
        }
        out.push(item);
    }
    Some(out)
}

/// The first cycle after the pilot period of assignment `a` (starting at cycle `start`): the cycle after
/// the last cycle that ends within `until`, or the horizon (no `until`, `after = "continue"`, or an
/// `until` beyond the horizon: the scenario ends before the pilot does).
fn pilot_end(cx: &mut Ctx, a: &raw::Assign, key: &str, k: &Context, start: u32) -> u32 {
    #[derive(Clone, Copy, PartialEq)]
    enum After {
        Provider,
        Continue,
    }
    let after = choice(
        cx,
        &a.after,
        &format!("{key}.after"),
        &[("provider", After::Provider), ("continue", After::Continue)],
        After::Provider,
    );
    let Some(until) = &a.until else {
        if let Some(v) = &a.after
            && after == After::Provider
        {
            cx.err(
                v.span(),
                format!("{key}.after"),
                "`after = \"provider\"` without `until`: the regime runs to the horizon",
                "give the last month under the regime, e.g. until = \"2023-12\", or leave `after` out",
            );
        }
        return k.cycles;
    };
    let Some(last) = YearMonth::parse(until.get_ref()) else {
        cx.err(
            until.span(),
            format!("{key}.until"),
            format!("`{}` is not a month", until.get_ref()),
            "write the last month under the regime as \"YYYY-MM\", e.g. until = \"2023-12\"",
        );
        return k.cycles;
    };
    if start >= k.cycles {
        // The pilot starts after the horizon: `from` is reported; `until` has nothing to end.
        return k.cycles;
    }
    let from = YearMonth::parse(a.from.get_ref());
    // Months from the scenario's start to the end of `until`; cycles that end by then are in.
    let months = last.index() - k.start.index() + 1;
    let end = if months <= 0 {
        0
    } else {
        (months / i64::from(k.cycle_months)).min(i64::from(k.cycles)) as u32
    };
    if from.is_some_and(|f| last < f) || end <= start {
        cx.err(
            until.span(),
            format!("{key}.until"),
            match from {
                Some(f) if last < f => format!(
                    "the pilot ends ({}) before it starts ({f})",
                    until.get_ref()
                ),
                _ => format!(
                    "no whole cycle lies between `from` = {} and `until` = {}",
                    a.from.get_ref(),
                    until.get_ref()
                ),
            },
            "give the last month under the regime, on or after `from`, e.g. from = \"2022-01\", until = \"2023-12\" for a two-year pilot",
        );
        return k.cycles;
    }
    match after {
        After::Provider => end,
        After::Continue => k.cycles,
    }
}

/// The provider's row cells laid out with the larger time-in-state cap `cap`.
fn widen(p: &Transitions, n: usize, cycles: u32, cap: u16) -> Vec<u32> {
    if cap == p.cap() {
        return p.row_of().to_vec();
    }
    let (old, new) = (usize::from(p.cap()) + 1, usize::from(cap) + 1);
    let from = p.row_of();
    let mut row_of = vec![u32::MAX; cycles as usize * n * new];
    for c in 0..cycles as usize {
        for s in 0..n {
            for m in 0..new {
                row_of[(c * n + s) * new + m] = from[(c * n + s) * old + m.min(old - 1)];
            }
        }
    }
    row_of
}

/// The modifiers' factors last applied to a from-state's rows, and under them the row each row became.
#[derive(Debug, Clone, Default)]
struct Memo {
    risks: Vec<(u8, f64)>,
    ratios: Vec<(u8, f64)>,
    rows: Vec<(u32, u32)>,
}

/// The transition table of an area under regime `r` in cycles `start..end`: provider rows before and
/// from `end` on; in between the regime's own rows where it has them, then its relative risks and hazard
/// ratios (with the phase-in). A relative risk that would push a row's moves over 1 is an error (`reported`, by the
/// modifier's position over all regimes, keeps it to one report).
fn regime_table(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    p: &Transitions,
    (ri, regime, own): (usize, &Regime, &RegimeRows),
    (start, end): (u32, u32),
    reported: &mut [Vec<bool>],
) -> Transitions {
    let n = k.codes.len();
    let cap = table_cap(p, regime, own);
    let per_state = usize::from(cap) + 1;
    let stride = n * per_state;
    let mut rows = p.rows().to_vec();
    let offset = rows.len() as u32;
    rows.extend(own.rows.iter().cloned());
    let mut row_of = widen(p, n, k.cycles, cap);
    own_rows(cx, k, own, (cap, offset), (start, end), &mut row_of);
    // Per from-state: the factors last applied and, under them, the row each row became (a pure
    // function of the row and the factors, so a repeat is looked up instead of rebuilt and searched).
    let mut memo: Vec<Memo> = vec![Memo::default(); n];
    for c in start..end {
        let ramp = regime.ramp(c - start);
        for (s, done) in memo.iter_mut().enumerate() {
            let (active, risks, ratios) = active_factors(regime, s, c, ramp);
            if active.is_empty() {
                continue;
            }
            if done.risks != risks || done.ratios != ratios {
                *done = Memo {
                    risks: risks.clone(),
                    ratios: ratios.clone(),
                    rows: Vec::new(),
                };
            }
            for m in 0..per_state {
                let cell = c as usize * stride + s * per_state + m;
                let r = row_of[cell];
                if r == u32::MAX {
                    continue;
                }
                if let Some(&(_, idx)) = done.rows.iter().find(|&&(from, _)| from == r) {
                    row_of[cell] = idx;
                    continue;
                }
                let mut new = rows[r as usize].clone();
                if !risks.is_empty() {
                    match relative_risk_row(&new, s as u8, &risks) {
                        Ok(row) => new = row,
                        Err(stay) => {
                            let when = (k.start.plus(i64::from(c * k.cycle_months)), m, cap);
                            let at = (ri, &active[..], &risks[..]);
                            risk_error(cx, raw, k, at, &new, stay, when, &mut reported[ri]);
                            continue;
                        }
                    }
                }
                if !ratios.is_empty() {
                    new = modify_row(&new, s as u8, &ratios);
                }
                let idx = rows.iter().position(|x| *x == new).unwrap_or_else(|| {
                    rows.push(new);
                    rows.len() - 1
                });
                row_of[cell] = idx as u32;
                done.rows.push((r, idx as u32));
            }
        }
    }
    reassess::apply(regime, (start, end), &mut rows, &mut row_of, (n, per_state));
    Transitions::new(rows, cap, row_of, n)
}

/// Puts a regime's own rows (numbered from `offset` in its table) into the cells they cover in cycles
/// `start..end`; from `end` on, the provider's rows hold again. Without rows of its own, nothing is
/// replaced.
fn own_rows(
    cx: &mut Ctx,
    k: &Context,
    own: &RegimeRows,
    (cap, offset): (u16, u32),
    (start, end): (u32, u32),
    row_of: &mut [u32],
) {
    if own.parsed.is_empty() {
        return;
    }
    let n = k.codes.len();
    let stride = n * (usize::from(cap) + 1);
    // Overlaps were reported when the regime was checked.
    let mut quiet = vec![true; n];
    let replaced = lay_out(cx, &own.parsed, k.rows, cap, start, "", &mut quiet);
    for (cell, &r) in replaced.iter().enumerate().take(end as usize * stride) {
        if r != u32::MAX {
            row_of[cell] = offset + r;
        }
    }
}

/// The modifiers of `regime` from state `s` that hold in cycle `c`, with their relative risks and
/// hazard ratios scaled by the phase-in `ramp`.
fn active_factors(
    regime: &Regime,
    s: usize,
    c: u32,
    ramp: f64,
) -> (Vec<&Modifier>, Factors, Factors) {
    let inside = |m: &&Modifier| m.period.0 <= i64::from(c) && i64::from(c) <= m.period.1;
    let active: Vec<&Modifier> = regime
        .modifiers
        .iter()
        .filter(|m| m.from == s)
        .filter(inside)
        .collect();
    let scaled = |want: fn(Effect) -> bool| -> Vec<(u8, f64)> {
        active
            .iter()
            .filter(|m| want(m.effect))
            .map(|m| (m.to, 1.0 + ramp * (m.effect.value() - 1.0)))
            .collect()
    };
    let risks = scaled(|e| matches!(e, Effect::RelativeRisk(_)));
    let ratios = scaled(|e| matches!(e, Effect::HazardRatio(_)));
    (active, risks, ratios)
}

/// The time-in-state resolution of a regime's table: the provider's, its own rows', and fine enough
/// that every reassessment's `after_cycles` has cells of its own.
fn table_cap(p: &Transitions, regime: &Regime, own: &RegimeRows) -> u16 {
    let after = regime.reassessments.iter().map(|a| a.after);
    p.cap().max(own.cap).max(after.max().unwrap_or(1))
}

/// Reports a relative risk that pushes a row's moves over 1 (`stay` < 0: the stay probability the row
/// would need), or a row without a stay probability to absorb it (`stay` is NaN), once per modifier.
#[allow(clippy::too_many_arguments)]
fn risk_error(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    (ri, active, risks): (usize, &[&Modifier], &[(u8, f64)]),
    row: &Row,
    stay: f64,
    (date, m, cap): (YearMonth, usize, u16),
    reported: &mut [bool],
) {
    let Some(md) = active
        .iter()
        .filter(|m| matches!(m.effect, Effect::RelativeRisk(_)))
        .find(|m| row.targets().contains(&m.to))
        .or_else(|| {
            active
                .iter()
                .find(|m| matches!(m.effect, Effect::RelativeRisk(_)))
        })
    else {
        return;
    };
    if std::mem::replace(&mut reported[md.source], true) {
        return;
    }
    let raw_m = raw.regime[ri].get_ref().modifier[md.source].get_ref();
    let Some(v) = &raw_m.relative_risk else {
        return;
    };
    let key = format!("regime[{ri}].modifier[{}].relative_risk", md.source);
    let code = &k.codes[md.from];
    let to = if md.to == RENEW {
        "renew".to_string()
    } else {
        k.codes[usize::from(md.to)].clone()
    };
    let when = if m == usize::from(cap) {
        format!("{m}+")
    } else {
        m.to_string()
    };
    if stay.is_nan() {
        cx.err(
            v.span(),
            key,
            format!("the row of `{code}` at {when} cycles in state in {date} has no stay probability to take up the change of `{code}` -> `{to}`"),
            "use hazard_ratio for this move (it rescales the row), or give the row a stay probability",
        );
        return;
    }
    // The largest relative risk of this move that keeps the row valid, the others as they are.
    let p_to: f64 = row
        .targets()
        .iter()
        .zip(row.probs())
        .filter(|(t, _)| **t == md.to)
        .map(|(_, p)| p)
        .sum();
    let rr: f64 = risks
        .iter()
        .filter(|(t, _)| *t == md.to)
        .map(|(_, r)| r)
        .product();
    let most = (1.0 - (1.0 - stay) + rr * p_to) / p_to;
    cx.err(
        v.span(),
        key,
        format!("a relative risk of {}{} on `{code}` -> `{to}` pushes the moves out of `{code}` over 1 at {when} cycles in state in {date}: the stay probability would be {}", number(md.effect.value()), if rr == md.effect.value() { String::new() } else { format!(" ({} at this point of the phase-in)", number(rr)) }, number(stay)),
        format!("give a relative risk of at most {} for this move (with the row's other moves as they are), or use hazard_ratio, which always keeps the row valid", number(most.max(0.0))),
    );
}
