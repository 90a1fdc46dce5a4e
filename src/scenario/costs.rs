//! Checks and compiles cost items, price indexation and own contributions.

use super::check::Ctx;
use super::check::optional_period;
use super::raw::{Cost, OwnContribution, ScenarioFile};
use crate::model::{CostBasis, CostItem, YearMonth};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Yearly price rates: table plus the rate for later years.
#[derive(Clone)]
pub(super) struct Index {
    rates: BTreeMap<i32, f64>,
    later: f64,
}

pub(super) fn indexation(cx: &mut Ctx, raw: &ScenarioFile) -> Option<Index> {
    let ix = raw.indexation.as_ref()?;
    let mut rates = BTreeMap::new();
    for (y, r) in ix.get_ref().rates.get_ref() {
        let key = format!("indexation.rates.{y}");
        match y.parse::<i32>() {
            Ok(year) if (1900..=2200).contains(&year) => {
                let v = cx.num_in(r, &key, -0.5, 1.0);
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
    let later = cx.num_in(&ix.get_ref().later, "indexation.later", -0.5, 1.0);
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

/// What a cost item needs to know of the scenario.
pub(super) struct Frame<'a> {
    pub codes: &'a [String],
    pub munis: &'a [String],
    pub start: YearMonth,
    pub cycle_months: u32,
    pub years: &'a [i32],
    pub index: &'a Option<Index>,
}

/// The index of line `name`, added to `lines` if new.
pub(super) fn line_index(lines: &mut Vec<String>, name: &str) -> usize {
    lines.iter().position(|l| l == name).unwrap_or_else(|| {
        lines.push(name.to_string());
        lines.len() - 1
    })
}

/// Checks and compiles one `[[cost]]` table (keys `{prefix}.<field>`): the item and the cycles of its
/// period (inclusive).
pub(super) fn cost_item(
    cx: &mut Ctx,
    c: &Spanned<Cost>,
    prefix: &str,
    f: &Frame,
    lines: &mut Vec<String>,
) -> Option<(CostItem, (i64, i64))> {
    let (codes, munis, start, cycle_months, years, index) =
        (f.codes, f.munis, f.start, f.cycle_months, f.years, f.index);
    let span = c.span();
    let c = c.get_ref();
    let k = |f: &str| format!("{prefix}.{f}");
    let line = c.line.get_ref().trim();
    if line.is_empty() || line == "total" {
        cx.err(
            c.line.span(),
            k("line"),
            format!("`{line}` cannot be a cost line name"),
            "name the line, e.g. \"begeleiding\"",
        );
    }
    let line = line_index(lines, line);
    let py = *c.price_year.get_ref();
    if !(1900..=2200).contains(&py) {
        cx.err(
            c.price_year.span(),
            k("price_year"),
            format!("{py} is not a price year"),
            "give the calendar year of the amounts, e.g. 2023",
        );
        return None;
    }
    let period = optional_period(cx, &c.period, k("period"), start, cycle_months)?;
    let municipalities = list(cx, &c.municipalities, &k("municipalities"), munis, None)?;
    let kinds = [
        c.tariff_per_hour.is_some() || c.hours_per_month.is_some(),
        c.per_month.is_some(),
        c.per_year.is_some(),
        c.per_entry.is_some(),
        c.per_transition.is_some(),
    ];
    if kinds.iter().filter(|&&b| b).count() != 1 {
        cx.err(span, prefix.to_string(), "a cost item needs exactly one of: hours_per_month with tariff_per_hour, per_month, per_year, per_entry, per_transition", "split it into one [[cost]] per kind of cost");
        return None;
    }
    let (basis, base, base_key, base_span) = basis(cx, c, span, prefix, codes)?;
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
    Some((
        CostItem::new(line, basis, amount, municipalities, codes.len()),
        period,
    ))
}

/// What a cost item charges on, its amount per unit at its price year, and the key and place of that
/// amount (for errors about its price factors).
type Basis = (CostBasis, f64, String, Range<usize>);

/// The basis of `[[cost]]` table `c` (keys `{prefix}.<field>`): exactly one kind of cost, with what
/// that kind needs (a state, or the transitions it charges on).
fn basis(
    cx: &mut Ctx,
    c: &Cost,
    span: Range<usize>,
    prefix: &str,
    codes: &[String],
) -> Option<Basis> {
    let k = |f: &str| format!("{prefix}.{f}");
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
    if c.tariff_per_hour.is_some() || c.hours_per_month.is_some() {
        let (Some(h), Some(t)) = (&c.hours_per_month, &c.tariff_per_hour) else {
            cx.err(
                span,
                prefix.to_string(),
                "hours_per_month and tariff_per_hour go together",
                "give both",
            );
            return None;
        };
        let hv = cx.nonneg(h, &k("hours_per_month"), "hours per month");
        let tv = cx.nonneg(t, &k("tariff_per_hour"), "the tariff");
        let s = state(cx)?;
        Some((
            CostBasis::PerCycle(s),
            hv * tv,
            k("tariff_per_hour"),
            t.span(),
        ))
    } else if let Some(v) = &c.per_month {
        let x = cx.nonneg(v, &k("per_month"), "the amount");
        let s = state(cx)?;
        Some((CostBasis::PerCycle(s), x, k("per_month"), v.span()))
    } else if let Some(v) = &c.per_year {
        // Stored per month: per-cycle amounts are per month times the cycle length.
        let x = cx.nonneg(v, &k("per_year"), "the amount") / 12.0;
        let s = state(cx)?;
        Some((CostBasis::PerCycle(s), x, k("per_year"), v.span()))
    } else if let Some(v) = &c.per_entry {
        let x = cx.nonneg(v, &k("per_entry"), "the fee");
        let s = state(cx)?;
        Some((CostBasis::PerEntry(s), x, k("per_entry"), v.span()))
    } else {
        per_transition(cx, c, span, prefix, codes)
    }
}

/// The basis of a `per_transition` cost: the states it charges on leaving (`from`, or inflow) and
/// entering (`to`).
fn per_transition(
    cx: &mut Ctx,
    c: &Cost,
    span: Range<usize>,
    prefix: &str,
    codes: &[String],
) -> Option<Basis> {
    let k = |f: &str| format!("{prefix}.{f}");
    let v = c.per_transition.as_ref().expect("one kind is set");
    let x = cx.nonneg(v, &k("per_transition"), "the amount");
    let from = list(cx, &c.from, &k("from"), codes, Some("inflow"))?;
    if c.to.is_none() {
        cx.err(
            span,
            k("to"),
            "a transition cost needs `to` states",
            "add to = [\"BT\", ...]",
        );
        return None;
    }
    let to = list(cx, &c.to, &k("to"), codes, None)?;
    Some((
        CostBasis::PerTransition { from, to },
        x,
        k("per_transition"),
        v.span(),
    ))
}

pub(super) fn costs(cx: &mut Ctx, raw: &ScenarioFile, f: &Frame) -> (Vec<String>, Vec<CostItem>) {
    let (codes, munis, years) = (f.codes, f.munis, f.years);
    let mut lines: Vec<String> = Vec::new();
    let mut items = Vec::new();
    for (i, c) in raw.cost.iter().enumerate() {
        if let Some((item, _)) = cost_item(cx, c, &format!("cost[{i}]"), f, &mut lines) {
            items.push(item);
        }
    }
    for (i, oc) in raw.own_contribution.iter().enumerate() {
        let oc = oc.get_ref();
        let k = |f: &str| format!("own_contribution[{i}].{f}");
        let line = line_index(
            &mut lines,
            oc.line
                .as_ref()
                .map_or("eigen_bijdrage", |l| l.get_ref().as_str()),
        );
        let share = cx.share(&oc.share_paying, &k("share_paying"));
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
        let months = contribution_months(cx, oc, &k, f);
        let mut amount = Vec::with_capacity(years.len());
        for (&y, &months) in years.iter().zip(&months) {
            if months == 0 {
                // Outside its period: no amount needed for the year.
                amount.push(0.0);
                continue;
            }
            match table.range(..=y).next_back() {
                Some((_, a)) => amount.push(-share * a * f64::from(months)),
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
/// The months of every cycle in which own contribution `oc` applies: all `cycle_months` without `from`
/// and `until`, else those within `from ..= until` (a cycle partly inside pays for its months inside).
fn contribution_months(
    cx: &mut Ctx,
    oc: &OwnContribution,
    k: &dyn Fn(&str) -> String,
    f: &Frame,
) -> Vec<u32> {
    let (from, until) = cx.months((&oc.from, &oc.until), k, "the own contribution");
    // Months since the start of the scenario, inclusive.
    let lo = from.map_or(i64::MIN, |d| d.index() - f.start.index());
    let hi = until.map_or(i64::MAX, |d| d.index() - f.start.index());
    let cm = i64::from(f.cycle_months);
    (0..f.years.len() as i64)
        .map(|c| {
            let (first, last) = (c * cm, c * cm + cm - 1);
            (last.min(hi) - first.max(lo) + 1).clamp(0, cm) as u32
        })
        .collect()
}

/// Price factor of every cycle (`years`: the calendar year of each cycle) from `price_year` prices;
/// a year missing from the index is reported once.
///
/// Linear in cycles: each distinct year is priced once, and years after the price year extend one running
/// product (the same multiplications, in the same order, as [`Index::factor`], so the same bits).
pub(super) fn price_factors(
    cx: &mut Ctx,
    index: &Option<Index>,
    years: &[i32],
    price_year: i32,
    span: Range<usize>,
    key: &str,
) -> Vec<f64> {
    let Some(ix) = index else {
        return vec![1.0; years.len()];
    };
    let mut reported = false;
    // The running product up to `.0`, or the first year without a rate.
    let mut run: Result<(i32, f64), i32> = Ok((price_year, 1.0));
    let mut last: Option<(i32, Result<f64, i32>)> = None;
    let mut out = Vec::with_capacity(years.len());
    for &y in years {
        let f = match last {
            Some((ly, f)) if ly == y => f,
            _ if y < price_year => ix.factor(price_year, y),
            _ => {
                while let Ok((at, f)) = run
                    && at < y
                {
                    run = ix
                        .rate(at + 1)
                        .map(|r| (at + 1, f * (1.0 + r)))
                        .ok_or(at + 1);
                }
                run.map(|(_, f)| f)
            }
        };
        last = Some((y, f));
        out.push(f.unwrap_or_else(|missing| {
            if !reported {
                reported = true;
                cx.err(
                    span.clone(),
                    key,
                    format!(
                        "no price index for {missing}, needed to bring {price_year} prices to {y}"
                    ),
                    format!("add {missing} = <rate> to [indexation] rates"),
                );
            }
            1.0
        }));
    }
    out
}
