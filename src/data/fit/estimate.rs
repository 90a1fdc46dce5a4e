//! Estimates from episodes: the transition rows as counts of moves per client-month at risk (right
//! censoring and left truncation handled by counting only the months observed), the starting caseload
//! and its time in state, the inflow per area and year, and the entry mix.

use super::episodes::{Episode, Episodes, Outcome};
use crate::model::{Model, YearMonth};

/// One `[[transition]]` row of the template: the states, times in state and months it applies to.
#[derive(Debug, Clone)]
pub struct RowSpec {
    /// Its position among the template's `[[transition]]` tables.
    pub index: usize,
    /// From-state.
    pub from: usize,
    /// Cycles in state (counting the month just ended), inclusive; `u32::MAX` = open.
    pub band: (u32, u32),
    /// Months (indices) it applies to, inclusive; `None`: all.
    pub period: Option<(i64, i64)>,
}

impl RowSpec {
    /// Whether the row applies to a client in state `s` for `k` cycles (counting the one just
    /// ended) in month `m`.
    pub fn applies(&self, s: usize, k: u32, m: i64) -> bool {
        self.from == s
            && self.band.0 <= k
            && k <= self.band.1
            && self.period.is_none_or(|(a, b)| a <= m && m <= b)
    }
}

/// A fitted row: what was observed in the months at risk.
#[derive(Debug, Clone)]
pub struct RowFit {
    /// The template's row.
    pub spec: RowSpec,
    /// Client-months at risk (draws observed).
    pub at_risk: u64,
    /// Per state: the observed draws that went there (the from-state: stays).
    pub to: Vec<u64>,
    /// Renewals.
    pub renew: u64,
}

impl Estimates {
    /// Clients at the start in state `s` by cycles already spent, over all areas.
    pub fn time_in_state_pooled(&self, s: usize) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        for hist in self.time_in_state.iter().map(|a| &a[s]) {
            if out.len() < hist.len() {
                out.resize(hist.len(), 0);
            }
            for (o, k) in out.iter_mut().zip(hist) {
                *o += k;
            }
        }
        out
    }
}

impl RowFit {
    /// Moves out (every draw but a stay).
    pub fn moves(&self) -> u64 {
        self.at_risk - self.to[self.spec.from]
    }
}

/// Everything estimated.
#[derive(Debug, Clone)]
pub struct Estimates {
    /// Per template row.
    pub rows: Vec<RowFit>,
    /// Per area and state: clients in the state in the start month (per population, rounded).
    pub caseload: Vec<Vec<u32>>,
    /// Per area and state: clients at the start by cycles already spent (all populations).
    pub time_in_state: Vec<Vec<Vec<u64>>>,
    /// Per area: `(year, new clients per population, months observed)`.
    pub inflow: Vec<Vec<(i32, f64, u32)>>,
    /// New clients by entry state (all populations).
    pub entry: Vec<u64>,
    /// Per state and months in it (`k - 1`): the observed draws and how many ended the stay (a move
    /// or a renewal), the same draws the rows count.
    pub survival: Vec<Vec<(u64, u64)>>,
    /// First and last month observed.
    pub window: (i64, i64),
}

/// The template's transition rows, from its text.
pub fn row_specs(template: &toml_edit::DocumentMut, model: &Model) -> Vec<RowSpec> {
    let Some(rows) = template
        .get("transition")
        .and_then(|t| t.as_array_of_tables())
    else {
        return Vec::new();
    };
    rows.iter()
        .enumerate()
        .filter_map(|(index, t)| {
            let from = model.state_index(t.get("from")?.as_str()?)?;
            let band = match t.get("cycles_in_state").and_then(|v| v.as_str()) {
                Some(b) => crate::scenario::parse_band(b)?,
                None => (1, u32::MAX),
            };
            let period = match t.get("period").and_then(|v| v.as_str()) {
                Some(p) => Some(parse_months(p)?),
                None => None,
            };
            Some(RowSpec {
                index,
                from,
                band,
                period,
            })
        })
        .collect()
}

/// A row's `period` as month indices, inclusive: "2021-01..2022-12", "2023-01.." (open end:
/// `i64::MAX`) or "..2022-12" (open start: `i64::MIN`).
pub fn parse_months(p: &str) -> Option<(i64, i64)> {
    let (a, b) = p.split_once("..")?;
    let side = |x: &str, open: i64| {
        if x.trim().is_empty() {
            Some(open)
        } else {
            YearMonth::parse(x).map(YearMonth::index)
        }
    };
    Some((side(a, i64::MIN)?, side(b, i64::MAX)?))
}

/// Writes months `(a, b)` as a row's `period` (the inverse of [`parse_months`]).
pub fn format_months((a, b): (i64, i64)) -> String {
    let side = |x: i64, open: i64| {
        if x == open {
            String::new()
        } else {
            YearMonth::from_index(x).to_string()
        }
    };
    format!("{}..{}", side(a, i64::MIN), side(b, i64::MAX))
}

/// Counts every observed draw of `episodes` into the template's rows, and the starting caseload,
/// inflow and entry mix, over the months from the model's start to `episodes.until`.
///
/// A state whose indication lasts at most `max_cycles[s]` months: a longer stay in the data is read as
/// renewals every that many months (the model's view), so its rows never hold a stay beyond the limit.
pub fn estimate(
    model: &Model,
    specs: &[RowSpec],
    episodes: &Episodes,
    max_cycles: &[Option<u32>],
) -> Estimates {
    let mut counts = Counts::new(model, specs, episodes.until);
    for e in &episodes.list {
        if Some(e.state) == model.waiting_state {
            continue;
        }
        counts.start_and_entry(e);
        counts.draws(e, max_cycles[e.state].map(i64::from));
    }
    counts.estimates(episodes.populations as f64)
}

/// The counts of [`estimate`] so far, over the months from the model's start (`first`) to `last`.
struct Counts<'a> {
    model: &'a Model,
    specs: &'a [RowSpec],
    first: i64,
    last: i64,
    rows: Vec<RowFit>,
    /// Per area and state: clients at the start (all populations).
    start_counts: Vec<Vec<u64>>,
    time_in_state: Vec<Vec<Vec<u64>>>,
    /// Per area: new clients by calendar year (all populations).
    new_clients: Vec<std::collections::BTreeMap<i32, u64>>,
    entry: Vec<u64>,
    survival: Vec<Vec<(u64, u64)>>,
}

impl<'a> Counts<'a> {
    fn new(model: &'a Model, specs: &'a [RowSpec], last: i64) -> Counts<'a> {
        let n = model.n_states();
        let areas = model.areas.len();
        Counts {
            model,
            specs,
            first: model.start.index(),
            last,
            rows: specs
                .iter()
                .map(|spec| RowFit {
                    spec: spec.clone(),
                    at_risk: 0,
                    to: vec![0; n],
                    renew: 0,
                })
                .collect(),
            start_counts: vec![vec![0u64; n]; areas],
            time_in_state: vec![vec![Vec::new(); n]; areas],
            new_clients: vec![Default::default(); areas],
            entry: vec![0u64; n],
            survival: vec![Vec::new(); n],
        }
    }

    /// Counts `e` into the starting caseload and its time in state (open in the start month, begun
    /// before it), or as a new client (begun in the months observed, not following on another).
    fn start_and_entry(&mut self, e: &Episode) {
        let first = self.first;
        // An episode that begins in the start month is a new client of that month.
        if e.start < first && e.end >= first {
            self.start_counts[e.area][e.state] += 1;
            let t = (first - e.start) as usize;
            let hist = &mut self.time_in_state[e.area][e.state];
            if hist.len() <= t {
                hist.resize(t + 1, 0);
            }
            hist[t] += 1;
        }
        if !e.follows && e.start >= first && e.start <= self.last {
            *self.new_clients[e.area]
                .entry(e.start.div_euclid(12) as i32)
                .or_default() += 1;
            self.entry[e.state] += 1;
        }
    }

    /// Counts every observed draw of `e` (a stay lasting at most `limit` months, renewed after) into
    /// the survival curve of its state and the row that applies.
    fn draws(&mut self, e: &Episode, limit: Option<i64>) {
        let (n, waiting) = (self.model.n_states(), self.model.waiting_state);
        // The draw at the end of a month is seen only when the next month is observed: none at the
        // end of the last month (there only the leavers would show, and bias the rows).
        for m in e.start.max(self.first)..=e.end.min(self.last - 1) {
            let since = m - e.start;
            let k = u32::try_from(limit.map_or(since, |l| since % l) + 1).unwrap_or(u32::MAX);
            let renewed = limit.is_some_and(|l| i64::from(k) == l);
            let ends = m == e.end;
            let dest = match (ends, e.outcome) {
                (false, _) if renewed => Some(n),
                (false, _) => Some(e.state),
                // The draw at the end of a censored episode's last month is not observed; a move into
                // the waiting status is the capacity's doing, not the row's.
                (true, Outcome::Censored) => None,
                (true, Outcome::To(d)) if Some(d) == waiting => None,
                (true, Outcome::To(d)) => Some(d),
            };
            let Some(d) = dest else {
                continue;
            };
            // For the survival curve: one more at risk at k months, ended unless it stayed.
            let by_k = &mut self.survival[e.state];
            if by_k.len() < k as usize {
                by_k.resize(k as usize, (0, 0));
            }
            by_k[k as usize - 1].0 += 1;
            by_k[k as usize - 1].1 += u64::from(ends || d != e.state);
            let Some(r) = self.specs.iter().position(|r| r.applies(e.state, k, m)) else {
                continue;
            };
            let row = &mut self.rows[r];
            row.at_risk += 1;
            if (ends && d == e.state) || d == n {
                row.renew += 1;
            } else {
                row.to[d] += 1;
            }
        }
    }

    /// The estimates, the caseload and inflow per population (`pops` populations).
    fn estimates(self, pops: f64) -> Estimates {
        let (first, last) = (self.first, self.last);
        // Every calendar year observed, with no new client too (a rate of 0 is an observation).
        let years: Vec<i32> = (first.div_euclid(12) as i32..=last.div_euclid(12) as i32).collect();
        let inflow = self
            .new_clients
            .iter()
            .map(|counts| {
                years
                    .iter()
                    .map(|&y| {
                        let k = counts.get(&y).copied().unwrap_or(0);
                        let lo = first.max(i64::from(y) * 12);
                        let hi = last.min(i64::from(y) * 12 + 11);
                        (y, k as f64 / pops, (hi - lo + 1).max(0) as u32)
                    })
                    .collect()
            })
            .collect();
        Estimates {
            rows: self.rows,
            caseload: self
                .start_counts
                .iter()
                .map(|a| {
                    a.iter()
                        .map(|&k| (k as f64 / pops).round() as u32)
                        .collect()
                })
                .collect(),
            time_in_state: self.time_in_state,
            inflow,
            entry: self.entry,
            survival: self.survival,
            window: (first, last),
        }
    }
}

/// Bands of cycles already spent for a fitted time-in-state table: by quarter in the first year,
/// then by year; the last band ends at the longest time seen (or below `max`, a state's limit).
pub fn time_bands(hist: &[u64], max: Option<u32>) -> Vec<(u32, u32, u64)> {
    let top = hist.len().saturating_sub(1) as u32;
    let top = max.map_or(top, |m| top.min(m.saturating_sub(1)));
    let mut out = Vec::new();
    let mut lo = 0u32;
    while lo <= top {
        let width = if lo < 12 { 3 } else { 12 };
        let hi = (lo + width - 1).min(top);
        let k: u64 = (lo..=hi)
            .map(|t| hist.get(t as usize).copied().unwrap_or(0))
            .sum();
        if k > 0 {
            out.push((lo, hi, k));
        }
        lo = hi + 1;
    }
    out
}
