//! What every section of a scenario is checked with: the error collector ([`Ctx`]: file, line, key,
//! problem and fix for every problem, and the checks of a number, share, month or state), periods, a
//! choice among named options, and the limits shared by the sections. The section compilers
//! (time_areas, transitions, costs, regimes, capacity, kpis) build on `raw` and this module.

use super::dist::Dist;
use super::raw::{Num, Param};
use crate::error::{Message, Problems};
use crate::model::YearMonth;
use std::ops::Range;
use toml::Spanned;

/// Largest initial caseload per state and area, and largest inflow per area and cycle (client ids are
/// packed into 20 + 20 bits).
pub(super) const MAX_CLIENTS: i64 = (1 << 20) - 1;

pub(super) const MAX_CYCLES: i64 = (1 << 20) - 2;

/// Largest expected number of new clients per area and cycle: a Poisson count with this mean stays below
/// [`MAX_CLIENTS`] (the ids of one cycle's arrivals) with certainty for all practical purposes.
pub(super) const MAX_INFLOW_MEAN: f64 = 500_000.0;
/// Tolerance on probability rows and mixes.
pub const ROW_TOLERANCE: f64 = 1e-9;

pub(super) const MAX_TIME_IN_STATE: i64 = 60_000;

pub(super) struct Ctx<'a> {
    /// The file's problems found so far.
    pub(super) problems: Problems<'a>,
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
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) {
        self.problems.add(span.start, key, problem, fix);
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
                                d.sample(&mut crate::scenario::dist::stream(seed, run, key))
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

/// A number for messages: at most 9 decimals, without trailing zeros (0.97, not 0.9700000000000001).
/// Written as the scenario file writes it (a decimal point, no thousands separators), so that a
/// message's number can be typed back into the file: not [`crate::output::lang::Lang`]'s numbers.
pub(super) fn number(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// An optional `period` key (`None`: every cycle), reported under `key` when it is not a period; `None`
/// then (the caller skips the item).
pub(super) fn optional_period(
    cx: &mut Ctx,
    p: &Option<toml::Spanned<String>>,
    key: String,
    start: YearMonth,
    cycle_months: u32,
) -> Option<(i64, i64)> {
    let Some(p) = p else {
        return Some((i64::MIN, i64::MAX));
    };
    let r = parse_period(p.get_ref(), start, cycle_months);
    if r.is_none() {
        cx.err(
            p.span(),
            key,
            format!("`{}` is not a period", p.get_ref()),
            PERIOD_FIX,
        );
    }
    r
}

/// Parses `"2021-01..2022-12"`, `"2023-01.."`, `"..2022-12"` into an inclusive cycle range.
pub(super) fn parse_period(s: &str, start: YearMonth, cycle_months: u32) -> Option<(i64, i64)> {
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

pub(super) const PERIOD_FIX: &str =
    "write the period as \"YYYY-MM..YYYY-MM\" (inclusive), \"YYYY-MM..\" or \"..YYYY-MM\"";

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
