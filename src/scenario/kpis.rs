//! Checks and compiles what is measured besides caseload and cost: KPIs (`[[kpi]]`), outcomes
//! (`[[outcome]]`) and discounting (`[discounting]`).

use super::check::Ctx;
use super::check::choice;
use super::raw::{self, ScenarioFile};
use super::regimes::{Context, factors};
use crate::model::YearMonth;
use crate::model::kpi::{CountMode, Kpi, KpiKind};
use crate::model::scope::{Scope, ScopeKind};
use toml::Spanned;

/// Parses a move pattern `FROM>TO` into the cells of a cycle's move matrix it matches.
fn pattern(p: &str, codes: &[String]) -> Option<Vec<usize>> {
    let n = codes.len();
    let (f, t) = p.split_once('>')?;
    let from: Vec<usize> = match f.trim() {
        "*" => (0..=n).collect(),
        "inflow" => vec![n],
        c => vec![codes.iter().position(|x| x == c)?],
    };
    let to: Vec<usize> = match t.trim() {
        "*" => (0..n).collect(),
        "renew" => vec![n],
        c => vec![codes.iter().position(|x| x == c)?],
    };
    Some(
        from.iter()
            .flat_map(|&a| {
                to.iter()
                    .filter(move |&&b| a != b || b == n)
                    .map(move |&b| a * (n + 1) + b)
            })
            .filter(|&cell| !(cell / (n + 1) == n && cell % (n + 1) == n))
            .collect(),
    )
}

/// The scopes of the model: the pilot areas (`pilot_areas`, ascending) are reported each, and so are the
/// areas named in `run.report_areas` and in a KPI's `scopes`.
pub(super) fn scopes(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    pilot_areas: &[usize],
) -> Vec<Scope> {
    let mut reported = pilot_areas.to_vec();
    if let Some(list) = &raw.run.get_ref().report_areas {
        for name in list.get_ref() {
            match k.areas.iter().position(|a| a.name == *name) {
                Some(a) => reported.push(a),
                None => {
                    let names: Vec<&str> = k.areas.iter().map(|a| a.name.as_str()).collect();
                    cx.err(
                        list.span(),
                        "run.report_areas",
                        format!("unknown area `{name}`"),
                        format!("use area names: {}", names.join(", ")),
                    );
                }
            }
        }
    }
    for r in &raw.kpi {
        for name in r.get_ref().scopes.iter().flat_map(|s| s.get_ref()) {
            // A municipality's name means the municipality, even where an area has it too.
            if ScopeKind::parse(name).is_none() && !k.munis.contains(name) {
                reported.extend(k.areas.iter().position(|a| a.name == *name));
            }
        }
    }
    let munis: Vec<usize> = k.areas.iter().map(|a| a.municipality).collect();
    let names: Vec<String> = k.areas.iter().map(|a| a.name.clone()).collect();
    crate::model::scope::scopes(k.munis, &munis, &names, pilot_areas, &reported)
}

/// A KPI's scopes (indices into `scopes`), from its `scopes` key: default the region and, when there
/// are pilot areas, the pilot areas.
fn kpi_scopes(
    cx: &mut Ctx,
    given: Option<&Spanned<Vec<String>>>,
    key: &str,
    scopes: &[Scope],
    span: std::ops::Range<usize>,
) -> Vec<usize> {
    let of = |kind: ScopeKind| -> Vec<usize> {
        (0..scopes.len())
            .filter(|&i| scopes[i].kind == kind)
            .collect()
    };
    let Some(list) = given else {
        let mut v = of(ScopeKind::Region);
        v.extend(of(ScopeKind::PilotAreas));
        return v;
    };
    let mut out = Vec::new();
    let mut unknown = false;
    for name in list.get_ref() {
        let found = match ScopeKind::parse(name) {
            Some(kind) => of(kind),
            None => [ScopeKind::Municipality, ScopeKind::Area]
                .into_iter()
                .find_map(|kind| crate::model::scope::find(scopes, kind, name))
                .into_iter()
                .collect(),
        };
        if found.is_empty() {
            unknown = true;
            let mut names: Vec<&str> = ScopeKind::ALL.iter().map(|k| k.name()).collect();
            names.extend(
                scopes
                    .iter()
                    .filter(|s| s.kind == ScopeKind::Municipality)
                    .map(|s| s.name.as_str()),
            );
            let problem = if ScopeKind::parse(name) == Some(ScopeKind::PilotAreas) {
                "`pilot_areas`, but no arm assigns an area to a regime".to_string()
            } else {
                format!("unknown scope `{name}`")
            };
            cx.err(
                list.span(),
                key,
                problem,
                format!("use one of: {}, or an area's name", names.join(", ")),
            );
        }
        for i in found {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    if out.is_empty() && !unknown {
        cx.err(
            span,
            key,
            "no scopes",
            "name at least one, e.g. scopes = [\"region\"]",
        );
    }
    out
}

/// Compiles the KPIs.
pub(super) fn kpis(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
    scopes: &[Scope],
    lines: &[String],
) -> Vec<Kpi> {
    let mut out: Vec<Kpi> = Vec::new();
    for (i, r) in raw.kpi.iter().enumerate() {
        let kx = KpiCx {
            i,
            span: r.span(),
            r: r.get_ref(),
            k,
        };
        if let Some(kpi) = kx.kpi(cx, scopes, lines, &out) {
            out.push(kpi);
        }
    }
    out
}

/// One `[[kpi]]` table being compiled, and the scenario it is compiled against.
struct KpiCx<'a> {
    i: usize,
    span: std::ops::Range<usize>,
    r: &'a raw::Kpi,
    k: &'a Context<'a>,
}

impl KpiCx<'_> {
    fn key(&self, f: &str) -> String {
        format!("kpi[{}].{f}", self.i)
    }

    /// The KPI, or `None` when its kind is unknown (after the KPIs `before` it, whose names it may
    /// not repeat).
    fn kpi(&self, cx: &mut Ctx, scopes: &[Scope], lines: &[String], before: &[Kpi]) -> Option<Kpi> {
        let r = self.r;
        for (given, what) in [
            (r.municipality.as_ref().map(|m| m.span()), "municipality"),
            (r.areas.as_ref().map(|a| a.span()), "areas"),
        ] {
            if let Some(at) = given {
                cx.err(
                    at,
                    self.key(what),
                    format!("a KPI has no `{what}`: it is evaluated per scope"),
                    "write scopes = [\"Noord-Beveland\"] (a municipality's or an area's name), or scopes = [\"region\", \"pilot_areas\", \"municipality\", \"area\"]",
                );
            }
        }
        let scopes = kpi_scopes(
            cx,
            r.scopes.as_ref(),
            &self.key("scopes"),
            scopes,
            self.span.clone(),
        );
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() || name.contains([',', ':']) || before.iter().any(|o| o.name == name) {
            cx.err(
                r.name.span(),
                self.key("name"),
                format!("`{name}` cannot name a KPI (empty, duplicate, or with , or :)"),
                "give every KPI its own short name",
            );
        }
        self.keys_of_other_kinds(cx);
        let kind = self.kind(cx, lines)?;
        let is_count = matches!(kind, KpiKind::Count { .. });
        let contract_year = self.contract_years(cx);
        let years = contract_year.iter().flatten().max().map_or(0, |y| y + 1);
        let targets = self.targets(cx, years, is_count);
        Some(Kpi {
            name,
            nl: r.nl.clone(),
            en: r.en.clone(),
            kind,
            targets,
            higher_is_better: r.higher_is_better.unwrap_or(true),
            contract_year,
            scopes,
        })
    }

    /// `weights`, `line` and `count` belong to one kind of KPI each.
    fn keys_of_other_kinds(&self, cx: &mut Ctx) {
        let r = self.r;
        let kind_name = r.kind.get_ref().as_str();
        if let Some(w) = &r.weights
            && kind_name != "share"
        {
            cx.err(
                w.span(),
                self.key("weights"),
                format!("weights apply to `share` KPIs, not to kind `{kind_name}`"),
                "remove `weights`, or use kind = \"share\"",
            );
        }
        if let Some(l) = &r.line
            && kind_name != "evaluations"
        {
            cx.err(
                l.span(),
                self.key("line"),
                format!("`line` books the cost of evaluations, not of a KPI of kind `{kind_name}`"),
                "remove `line`, or use kind = \"evaluations\"",
            );
        }
        if let Some(c) = &r.count
            && kind_name != "count"
        {
            cx.err(
                c.span(),
                self.key("count"),
                format!("`count` says how a `count` KPI counts, not a KPI of kind `{kind_name}`"),
                "remove `count`, or use kind = \"count\"",
            );
        }
    }

    /// What the KPI measures, by its kind; `None` for an unknown kind.
    fn kind(&self, cx: &mut Ctx, lines: &[String]) -> Option<KpiKind> {
        let r = self.r;
        Some(match r.kind.get_ref().as_str() {
            "share" => self.share(cx),
            "flow_share" => KpiKind::FlowShare {
                num: self.moves(cx, &r.numerator, "numerator"),
                den: self.moves(cx, &r.denominator, "denominator"),
            },
            "evaluations" => self.evaluations(cx, lines),
            "count" => KpiKind::Count {
                states: self.states(cx, &r.states, "states"),
                mode: choice(
                    cx,
                    &r.count,
                    &self.key("count"),
                    &[
                        ("during", CountMode::During),
                        ("average", CountMode::Average),
                        ("end", CountMode::End),
                    ],
                    CountMode::During,
                ),
            },
            other => {
                cx.err(
                    r.kind.span(),
                    self.key("kind"),
                    format!("unknown KPI kind `{other}`"),
                    "use share, flow_share, evaluations or count",
                );
                return None;
            }
        })
    }

    /// The states listed under `what`, as a mask over the states.
    fn states(&self, cx: &mut Ctx, v: &Option<Spanned<Vec<String>>>, what: &str) -> Vec<bool> {
        let codes = self.k.codes;
        let mut mask = vec![false; codes.len()];
        match v {
            None => cx.err(
                self.span.clone(),
                self.key(what),
                format!("a KPI of kind `{}` needs `{what}`", self.r.kind.get_ref()),
                format!("add {what} = [\"WV\", ...]"),
            ),
            Some(list) => {
                for code in list.get_ref() {
                    match codes.iter().position(|c| c == code) {
                        Some(s) => mask[s] = true,
                        None => cx.err(
                            list.span(),
                            self.key(what),
                            format!("unknown state `{code}`"),
                            format!("use one of: {}", codes.join(", ")),
                        ),
                    }
                }
            }
        }
        mask
    }

    /// The move patterns listed under `what`, as a mask over a cycle's move matrix.
    fn moves(&self, cx: &mut Ctx, v: &Option<Spanned<Vec<String>>>, what: &str) -> Vec<bool> {
        let n = self.k.codes.len();
        let mut mask = vec![false; (n + 1) * (n + 1)];
        match v {
            None => cx.err(
                self.span.clone(),
                self.key(what),
                format!("a KPI of kind `flow_share` needs `{what}`"),
                format!("add {what} = [\"WV>SB\", ...]"),
            ),
            Some(list) => {
                for p in list.get_ref() {
                    match pattern(p, self.k.codes) {
                        Some(cells) => cells.into_iter().for_each(|c| mask[c] = true),
                        None => cx.err(list.span(), self.key(what), format!("`{p}` is not a move pattern"), format!("write \"FROM>TO\" with state codes of this scenario ({}), * for any, inflow as FROM, renew as TO", self.k.codes.join(", "))),
                    }
                }
            }
        }
        mask
    }

    /// A `share` KPI: numerator and denominator states, each weighted by its `weights` (default 1).
    fn share(&self, cx: &mut Ctx) -> KpiKind {
        let r = self.r;
        let codes = self.k.codes;
        let as_weights =
            |mask: &[bool]| -> Vec<f64> { mask.iter().map(|&m| f64::from(u8::from(m))).collect() };
        let mut num = as_weights(&self.states(cx, &r.numerator, "numerator"));
        let mut den = as_weights(&self.states(cx, &r.denominator, "denominator"));
        for (code, v) in r.weights.iter().flat_map(|w| w.get_ref()) {
            let wkey = self.key(&format!("weights.{code}"));
            let Some(s) = codes.iter().position(|c| c == code) else {
                cx.err(
                    v.span(),
                    &wkey,
                    format!("unknown state `{code}`"),
                    format!("use one of: {}", codes.join(", ")),
                );
                continue;
            };
            let w = cx.num_in(v, &wkey, 0.0, 1.0);
            if !(0.0..=1.0).contains(&w) {
                cx.err(
                    v.span(),
                    &wkey,
                    format!("weight {w} is outside 0..1"),
                    format!("give the share of {code}'s clients the KPI counts, from 0 to 1, e.g. 0.3 for 30%"),
                );
                continue;
            }
            if num[s] == 0.0 && den[s] == 0.0 {
                cx.err(
                    v.span(),
                    &wkey,
                    format!("`{code}` is in neither the numerator nor the denominator"),
                    format!("add {code} to numerator and denominator, or remove its weight"),
                );
            }
            num[s] *= w;
            den[s] *= w;
        }
        KpiKind::Share { num, den }
    }

    /// An `evaluations` KPI: the states evaluated, the planned share, and the cost of an evaluation
    /// on its line.
    fn evaluations(&self, cx: &mut Ctx, lines: &[String]) -> KpiKind {
        let (r, k) = (self.r, self.k);
        let st = self.states(cx, &r.states, "states");
        let amount = r.cost_per_evaluation.as_ref().map_or(0.0, |v| {
            cx.nonneg(v, &self.key("cost_per_evaluation"), "the cost")
        });
        let py = r
            .price_year
            .as_ref()
            .map_or(i64::from(k.start.year), |p| *p.get_ref());
        let ix = factors(cx, k, py as i32, self.span.clone(), &self.key("price_year"));
        let planned = r
            .planned_share
            .as_ref()
            .map_or(1.0, |v| cx.share(v, &self.key("planned_share")));
        if r.line.is_none() && amount > 0.0 {
            cx.err(
                self.span.clone(),
                self.key("line"),
                "evaluations with a cost need the cost line they are booked on",
                format!(
                    "add line = \"...\", one of: {} (a budget that covers the line pays in its areas, else the municipality)",
                    lines.join(", ")
                ),
            );
        }
        let line = r.line.as_ref().and_then(|l| {
            let found = lines.iter().position(|x| x == l.get_ref().trim());
            if found.is_none() {
                cx.err(
                    l.span(),
                    self.key("line"),
                    format!("no cost line `{}`", l.get_ref()),
                    format!(
                        "book the evaluations on a line of a [[cost]] item, e.g. the access point's: {}",
                        lines.join(", ")
                    ),
                );
            }
            found
        });
        KpiKind::Evaluations {
            entries: crate::model::kpi::entry_cells(self.k.codes.len(), &st),
            states: st,
            cost: ix.iter().map(|f| amount * f).collect(),
            planned,
            line,
        }
    }

    /// The contract year of every cycle (from 0), `None` before the contract starts.
    fn contract_years(&self, cx: &mut Ctx) -> Vec<Option<usize>> {
        let k = self.k;
        let contract_start = match &self.r.contract_start {
            None => k.start,
            Some(d) => YearMonth::parse(d.get_ref()).unwrap_or_else(|| {
                cx.err(
                    d.span(),
                    self.key("contract_start"),
                    format!("`{}` is not a month", d.get_ref()),
                    "write \"YYYY-MM\"",
                );
                k.start
            }),
        };
        (0..k.cycles)
            .map(|c| {
                let months =
                    k.start.plus(i64::from(c * k.cycle_months)).index() - contract_start.index();
                (months >= 0).then_some((months / 12) as usize)
            })
            .collect()
    }

    /// The target of each of the `years` contract years: as given, and the last one kept for the
    /// years after it unless `keep_last_target = false`.
    fn targets(&self, cx: &mut Ctx, years: usize, is_count: bool) -> Vec<Option<f64>> {
        let r = self.r;
        let kind_name = r.kind.get_ref().as_str();
        let mut targets: Vec<Option<f64>> = vec![None; years];
        let mut last: Option<(usize, f64)> = None;
        for (y, v) in r.targets.get_ref() {
            let tkey = self.key(&format!("targets.{y}"));
            let t = cx.plain(v, &tkey, "a target is a fixed number");
            if is_count && !(t.is_finite() && t >= 0.0) {
                cx.err(
                    v.span(),
                    &tkey,
                    format!("target {t} is not a number of clients"),
                    "give a count KPI's target as a number of 0 or more, e.g. 3 = 165",
                );
            } else if !is_count && !(0.0..=1.0).contains(&t) {
                cx.err(
                    v.span(),
                    &tkey,
                    format!("target {t} is outside 0..1 for a KPI of kind `{kind_name}`"),
                    "give the target as a share from 0 to 1, e.g. 0.40 for 40%; for a number of clients use kind = \"count\"",
                );
            }
            match y.parse::<usize>() {
                Ok(year) if year >= 1 => {
                    if year <= years {
                        targets[year - 1] = Some(t);
                    }
                    if last.is_none_or(|(ly, _)| year > ly) {
                        last = Some((year, t));
                    }
                }
                _ => cx.err(
                    v.span(),
                    self.key(&format!("targets.{y}")),
                    format!("`{y}` is not a contract year"),
                    "key targets by contract year from 1, e.g. 1 = 0.20",
                ),
            }
        }
        if r.keep_last_target.unwrap_or(true)
            && let Some((ly, lv)) = last
        {
            targets.iter_mut().skip(ly).for_each(|t| *t = Some(lv));
        }
        targets
    }
}

/// Compiles the outcomes.
pub(super) fn outcomes(
    cx: &mut Ctx,
    raw: &ScenarioFile,
    k: &Context,
) -> Vec<crate::model::Outcome> {
    let mut out: Vec<crate::model::Outcome> = Vec::new();
    for (i, o) in raw.outcome.iter().enumerate() {
        let o = o.get_ref();
        let name = o.name.get_ref().trim().to_string();
        if name.is_empty() || name.contains([',', ':']) || out.iter().any(|x| x.name == name) {
            cx.err(
                o.name.span(),
                format!("outcome[{i}].name"),
                format!("`{name}` cannot name an outcome (empty, duplicate, or with , or :)"),
                "give every outcome its own short name, e.g. \"levensjaren\"",
            );
        }
        let mut weights = vec![0.0; k.codes.len()];
        for (code, w) in o.weights.get_ref() {
            let key = format!("outcome[{i}].weights.{code}");
            match k.codes.iter().position(|c| c == code) {
                Some(s) => {
                    let v = cx.num(w, &key);
                    if !v.is_finite() {
                        cx.err(
                            w.span(),
                            &key,
                            format!("weight {v} is not a finite number"),
                            "give a weight per cycle in the state, e.g. 1.0 for a full month of self-reliance",
                        );
                    }
                    weights[s] = if v.is_finite() { v } else { 0.0 };
                }
                None => cx.err(
                    w.span(),
                    &key,
                    format!("unknown state `{code}`"),
                    format!("use one of: {}", k.codes.join(", ")),
                ),
            }
        }
        out.push(crate::model::Outcome {
            name,
            nl: o.nl.clone(),
            en: o.en.clone(),
            weights,
        });
    }
    out
}

/// Compiles `[discounting]` (no section: no discounting, rewards at the start of each cycle).
pub(super) fn discount(cx: &mut Ctx, raw: &ScenarioFile, k: &Context) -> crate::model::Discount {
    use crate::model::{Discount, Timing};
    let (rc, ro, timing) = match &raw.discounting {
        None => (0.0, 0.0, Timing::Start),
        Some(d) => {
            let d = d.get_ref();
            let mut rate = |v: &super::raw::Num, key: &str| {
                let r = cx.num_in(v, key, 0.0, 1.0);
                if !(0.0..1.0).contains(&r) {
                    cx.err(
                        v.span(),
                        key,
                        format!("a yearly discount rate of {r}"),
                        "give the rate as a fraction from 0 to below 1, e.g. 0.04 for 4%",
                    );
                    return 0.0;
                }
                r
            };
            let rc = rate(&d.costs, "discounting.costs");
            let ro = rate(&d.outcomes, "discounting.outcomes");
            let timing = choice(
                cx,
                &d.timing,
                "discounting.timing",
                &[
                    ("start", Timing::Start),
                    ("end", Timing::End),
                    ("half_cycle", Timing::HalfCycle),
                    ("simpson", Timing::Simpson),
                ],
                Timing::Start,
            );
            (rc, ro, timing)
        }
    };
    let years = |t: u32| f64::from(t * k.cycle_months) / 12.0;
    Discount {
        cost: (0..=k.cycles).map(|t| (1.0 + rc).powf(-years(t))).collect(),
        outcome: (0..=k.cycles).map(|t| (1.0 + ro).powf(-years(t))).collect(),
        timing,
    }
}
