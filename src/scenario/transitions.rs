//! Checks and compiles transition rows (`[[transition]]`, the entry mix) into lookup tables.

use super::check::{Ctx, MAX_TIME_IN_STATE, ROW_TOLERANCE, number, optional_period};
use super::raw::{NumMap, ScenarioFile};
use crate::error::line_of;
use crate::model::{RENEW, Row, State, Transitions, YearMonth};
use std::ops::Range;

/// Where the file's transition rows come from and what the compiler knows of the scenario.
pub(super) struct Frame<'a> {
    pub codes: &'a [String],
    pub states: &'a [State],
    pub start: YearMonth,
    pub cycle_months: u32,
    pub cycles: u32,
    pub max_cycles: &'a [Option<u32>],
}

/// The uncertainty of a whole probability row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Spread {
    /// Fixed probabilities.
    None,
    /// A Dirichlet with this concentration around the given probabilities.
    Concentration(f64),
    /// The table holds observed counts: probabilities are their proportions, uncertainty a Dirichlet
    /// with the counts as parameters.
    Counts,
}

const ROW_FIX: &str = "a probability in a row cannot have its own distribution: give the whole row one, with concentration = <number> (a Dirichlet around these probabilities) or counts = true";

/// Checks a probability table (keys = state codes; `renew` allowed when `from` is given) and turns it into
/// a row: the from-state first, then the other states in file order, then `renew`. With a spread, a run
/// that draws parameters draws the row from its Dirichlet.
pub(super) fn prob_row(
    cx: &mut Ctx,
    map: &NumMap,
    key: &str,
    codes: &[String],
    states: &[State],
    from: Option<usize>,
    spread: Spread,
) -> Option<Row> {
    let t = Table {
        map,
        key,
        codes,
        states,
        from,
        spread,
    };
    let (probs, renew) = t.probabilities(cx)?;
    t.check_sum(cx, probs.iter().sum::<f64>() + renew)?;
    Some(t.row(cx, &probs, renew))
}

/// A probability table being checked: where it is, the states, and its from-state and spread.
struct Table<'a> {
    map: &'a NumMap,
    key: &'a str,
    codes: &'a [String],
    states: &'a [State],
    from: Option<usize>,
    spread: Spread,
}

impl Table<'_> {
    /// The probability (or count) of each state and of `renew`; `None` after any bad entry.
    fn probabilities(&self, cx: &mut Ctx) -> Option<(Vec<f64>, f64)> {
        let mut probs = vec![0.0; self.codes.len()];
        let mut renew = 0.0;
        let mut ok = true;
        for (code, p) in self.map.get_ref() {
            let k = format!("{}.{code}", self.key);
            let v = cx.plain(p, &k, ROW_FIX);
            if self.spread == Spread::Counts && !(v.is_finite() && v >= 0.0) {
                cx.err(
                    p.span(),
                    &k,
                    format!("count {v} is negative"),
                    "give counts of 0 or more",
                );
                ok = false;
                continue;
            }
            if self.spread != Spread::Counts && !(0.0..=1.0).contains(&v) {
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
                match self.from {
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
            match self.state(cx, code, p, &k) {
                Some(s) => probs[s] = v,
                None => ok = false,
            }
        }
        ok.then_some((probs, renew))
    }

    /// The state `code` names, if a row may lead there.
    fn state(&self, cx: &mut Ctx, code: &str, p: &super::raw::Num, k: &str) -> Option<usize> {
        match self.codes.iter().position(|c| c == code) {
            Some(s) if self.states[s].waiting => {
                cx.err(
                    p.span(),
                    k,
                    format!("`{code}` is the waiting status: clients enter it only when a capacity limit is full"),
                    "remove it here; see [[capacity]]",
                );
                None
            }
            Some(s) if self.from.is_none() && self.states[s].absorbing => {
                cx.err(
                    p.span(),
                    k,
                    format!("new clients cannot enter absorbing state `{code}`"),
                    "remove it from the entry mix",
                );
                None
            }
            Some(s) => Some(s),
            None => {
                let extra = if self.from.is_some() {
                    ", or renew"
                } else {
                    ""
                };
                cx.err(
                    p.span(),
                    k,
                    format!("unknown state `{code}`"),
                    format!("use one of: {}{extra}", self.codes.join(", ")),
                );
                None
            }
        }
    }

    /// Probabilities add up to 1; counts are not all 0.
    fn check_sum(&self, cx: &mut Ctx, sum: f64) -> Option<()> {
        if self.spread == Spread::Counts && sum <= 0.0 {
            cx.err(
                self.map.span(),
                self.key,
                "all counts are 0",
                "give the observed numbers of moves",
            );
            return None;
        }
        if self.spread != Spread::Counts && (sum - 1.0).abs() > ROW_TOLERANCE {
            let gap = 1.0 - sum;
            let hint = match self.from {
                Some(f) => format!(
                    "; e.g. {} the stay probability `{}` by {}",
                    if gap > 0.0 { "raise" } else { "lower" },
                    self.codes[f],
                    number(gap.abs())
                ),
                None => String::new(),
            };
            cx.err(
                self.map.span(),
                self.key,
                format!("probabilities sum to {}, not 1", number(sum)),
                format!("make them add up to 1 (within 1e-9){hint}"),
            );
            return None;
        }
        Some(())
    }

    /// The row: the from-state first, then the other states in file order, then `renew`; with a
    /// spread, drawn from its Dirichlet in a run that draws parameters (else its mean).
    fn row(&self, cx: &mut Ctx, probs: &[f64], renew: f64) -> Row {
        let from = self.from;
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
        if self.spread != Spread::None {
            cx.uncertain = true;
            let total: f64 = ps.iter().sum();
            let alpha: Vec<f64> = match self.spread {
                Spread::Concentration(c) => ps.iter().map(|p| c * p / total).collect(),
                _ => ps.clone(),
            };
            ps = match cx.draw {
                Some((seed, run)) => crate::scenario::dist::dirichlet(
                    &alpha,
                    &mut crate::scenario::dist::stream(seed, run, self.key),
                ),
                None => ps.iter().map(|p| p / total).collect(),
            };
        }
        Row::new(targets, ps)
    }
}

pub(super) fn max_cycles(cx: &mut Ctx, raw: &ScenarioFile) -> Vec<Option<u32>> {
    raw.state
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let m = s.get_ref().max_cycles.as_ref()?;
            if !(1..=MAX_TIME_IN_STATE).contains(m.get_ref()) {
                cx.err(
                    m.span(),
                    format!("state[{i}].max_cycles"),
                    format!(
                        "max_cycles is {}; it must be from 1 to {MAX_TIME_IN_STATE}",
                        m.get_ref()
                    ),
                    "give the longest indication in cycles, e.g. 12",
                );
                return None;
            }
            Some(*m.get_ref() as u32)
        })
        .collect()
}

/// Parses `"1-11"`, `"12"`, `"12+"` into an inclusive range (`u32::MAX` = open).
pub fn parse_band(s: &str) -> Option<(u32, u32)> {
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

/// A checked row of a `[[transition]]` table.
#[derive(Clone)]
pub(super) struct Parsed {
    pub from: usize,
    pub band: (u32, u32),
    pub period: (i64, i64),
    pub row: usize,
    pub line: usize,
    pub span: Range<usize>,
}

/// Checks the rows `list` (keys `{prefix}[i]`), adding their distinct rows to `rows`; states with a
/// rejected row are marked in `broken`.
pub(super) fn parse_rows(
    cx: &mut Ctx,
    list: &[toml::Spanned<super::raw::Transition>],
    prefix: &str,
    f: &Frame,
    rows: &mut Vec<Row>,
    broken: &mut [bool],
) -> Vec<Parsed> {
    let (codes, states) = (f.codes, f.states);
    let mut parsed = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let span = t.span();
        let line = line_of(cx.problems.text(), span.start);
        let t = t.get_ref();
        let Some(from) = cx.state(codes, &t.from, &format!("{prefix}[{i}].from")) else {
            continue;
        };
        if !leaves(cx, &t.from, &format!("{prefix}[{i}].from"), from, f) {
            continue;
        }
        let Some(band) = band_of(cx, t, &format!("{prefix}[{i}]")) else {
            broken[from] = true;
            continue;
        };
        let Some(period) = optional_period(
            cx,
            &t.period,
            format!("{prefix}[{i}].period"),
            f.start,
            f.cycle_months,
        ) else {
            broken[from] = true;
            continue;
        };
        let Some(spread) = spread_of(cx, t, &format!("{prefix}[{i}]"), span.clone()) else {
            broken[from] = true;
            continue;
        };
        let Some(row) = prob_row(
            cx,
            &t.to,
            &format!("{prefix}[{i}].to"),
            codes,
            states,
            Some(from),
            spread,
        ) else {
            broken[from] = true;
            continue;
        };
        if let Some(max) = f.max_cycles[from] {
            check_longest_stay(
                cx,
                t,
                &format!("{prefix}[{i}]"),
                (from, codes),
                &row,
                (band, max),
            );
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
    parsed
}

/// Whether clients can leave state `from` by a row (named by `v` at `key`): not from an absorbing
/// state, nor from the waiting status.
fn leaves(cx: &mut Ctx, v: &toml::Spanned<String>, key: &str, from: usize, f: &Frame) -> bool {
    let codes = f.codes;
    if f.states[from].absorbing {
        cx.err(
            v.span(),
            key,
            format!("`{}` is absorbing: clients never leave it", codes[from]),
            "remove this row, or make the state non-absorbing",
        );
        return false;
    }
    if f.states[from].waiting {
        cx.err(
            v.span(),
            key,
            format!(
                "`{}` is the waiting status: waiting clients leave it only when admitted",
                codes[from]
            ),
            "remove this row",
        );
        return false;
    }
    true
}

/// The times in state transition row `t` (keys `{at}.<field>`) applies to: `cycles_in_state`, or
/// all; `None` after an error.
fn band_of(cx: &mut Ctx, t: &super::raw::Transition, at: &str) -> Option<(u32, u32)> {
    let Some(b) = &t.cycles_in_state else {
        return Some((1, u32::MAX));
    };
    let band = parse_band(b.get_ref());
    if band.is_none() {
        cx.err(b.span(), format!("{at}.cycles_in_state"), format!("`{}` is not a range of cycles in state", b.get_ref()), "write e.g. \"1-11\", \"12\" or \"12+\" (cycles in the state, counting the cycle just ended, from 1)");
    }
    band
}

/// The uncertainty of transition row `t` (keys `{at}.<field>`): a concentration, counts, or none;
/// `None` after an error.
fn spread_of(
    cx: &mut Ctx,
    t: &super::raw::Transition,
    at: &str,
    span: Range<usize>,
) -> Option<Spread> {
    match (&t.concentration, t.counts) {
        (Some(_), Some(true)) => {
            cx.err(
                span,
                at.to_string(),
                "a row has either a concentration or counts, not both",
                "remove one",
            );
            None
        }
        (Some(c), _) => {
            let v = cx.plain(
                c,
                &format!("{at}.concentration"),
                "give the concentration as a number",
            );
            if !(v.is_finite() && v > 0.0) {
                cx.err(c.span(), format!("{at}.concentration"), format!("concentration {v}"), "give a concentration above 0: the higher, the less uncertain (like a number of observed moves)");
                return None;
            }
            Some(Spread::Concentration(v))
        }
        (None, Some(true)) => Some(Spread::Counts),
        _ => Some(Spread::None),
    }
}

/// A row of state `from` whose `band` reaches the state's longest indication (`max` cycles) may not
/// let clients stay.
fn check_longest_stay(
    cx: &mut Ctx,
    t: &super::raw::Transition,
    at: &str,
    (from, codes): (usize, &[String]),
    row: &Row,
    (band, max): ((u32, u32), u32),
) {
    let stays = row.targets().first() == Some(&(from as u8));
    if stays && band.1 >= max {
        let fix = format!(
            "an indication in `{}` lasts at most {max} cycles: for {max}+ cycles in state, move the stay probability to `renew` (a new indication) or to other states",
            codes[from]
        );
        cx.err(
            t.to.span(),
            format!("{at}.to.{}", codes[from]),
            "clients could stay beyond the longest indication",
            fix,
        );
    }
}

/// The largest time in state at which rows still change: `cap` of the table (at least 1).
pub(super) fn cap_of(parsed: &[Parsed]) -> u16 {
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
    cap.min(MAX_TIME_IN_STATE as u32) as u16
}

/// Lays the rows out by cycle, state and time in state (cycles from `from_cycle` on); rows of one state
/// that apply to the same cell are an error (`what` names the tables in it). Cells no row covers are
/// `u32::MAX`; `reported[s]` marks states with an overlap.
pub(super) fn lay_out(
    cx: &mut Ctx,
    parsed: &[Parsed],
    f: &Frame,
    cap: u16,
    from_cycle: u32,
    what: &str,
    reported: &mut [bool],
) -> Vec<u32> {
    let n = f.codes.len();
    let stride = n * (usize::from(cap) + 1);
    let mut row_of = vec![u32::MAX; f.cycles as usize * stride];
    let mut first_line = vec![0usize; f.cycles as usize * stride];
    for p in parsed {
        let (lo_c, hi_c) = (
            p.period.0.max(i64::from(from_cycle)),
            p.period.1.min(i64::from(f.cycles) - 1),
        );
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
                    cx.err(p.span.clone(), format!("{what} (from {})", f.codes[p.from]), format!("rows at lines {} and {} both apply to `{}` at {m} cycles in state in {}", first_line[cell], p.line, f.codes[p.from], f.start.plus(c * i64::from(f.cycle_months))), "make the cycles_in_state ranges or periods of the rows of one state not overlap");
                }
                row_of[cell] = p.row as u32;
                first_line[cell] = p.line;
            }
        }
    }
    row_of
}

pub(super) fn transitions(cx: &mut Ctx, raw: &ScenarioFile, f: &Frame) -> Option<Transitions> {
    let (codes, states, cycles) = (f.codes, f.states, f.cycles);
    let mut rows: Vec<Row> = Vec::new();
    // States with a rejected row: their coverage is not checked (the row's own error says enough).
    let mut broken = vec![false; codes.len()];
    let parsed = parse_rows(cx, &raw.transition, "transition", f, &mut rows, &mut broken);
    // Rows stop changing beyond the largest band boundary.
    let cap = cap_of(&parsed);
    let n = codes.len();
    let stride = n * (usize::from(cap) + 1);
    let bytes = crate::limits::table_bytes(u64::from(cycles), stride as u64);
    if bytes > crate::limits::MEMORY_BUDGET {
        cx.err(
            raw.time.get_ref().cycles.span(),
            "time.cycles",
            format!(
                "the transition table ({cycles} cycles × {n} states × {} cycles_in_state cells) would take {} of memory, over the limit of {}",
                usize::from(cap) + 1,
                crate::limits::gb(bytes),
                crate::limits::gb(crate::limits::MEMORY_BUDGET)
            ),
            "shorten time.cycles, or end the highest cycles_in_state band earlier (e.g. \"24+\")",
        );
        return None;
    }
    let mut reported = vec![false; n];
    let row_of = lay_out(cx, &parsed, f, cap, 0, "transition", &mut reported);
    for s in 0..n {
        if states[s].absorbing || states[s].waiting || reported[s] || broken[s] {
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
                    let date = f.start.plus(c as i64 * i64::from(f.cycle_months));
                    cx.err(raw.state[s].span(), format!("transition (from {})", codes[s]), format!("no transition row for `{}` at {when} cycles in state in {date}", codes[s]), format!("add a [[transition]] with from = \"{}\" covering it (rows of a state must cover every cycles_in_state and every period)", codes[s]));
                    break 'outer;
                }
            }
        }
    }
    Some(Transitions::new(rows, cap, row_of, n))
}

pub(super) fn flows(t: &Transitions, entry: &Row, n: usize) -> Vec<(usize, u8)> {
    // Which (from, to) pairs occur, as a table; each (row, from) pair is visited once, not once per
    // cell (a model has many cells and few rows: this runs for every PSA draw).
    let mut seen = vec![false; (n + 1) * 256];
    for &s in entry.targets() {
        seen[n * 256 + usize::from(s)] = true;
    }
    let per_state = usize::from(t.cap()) + 1;
    let mut visited = vec![false; t.rows().len() * n];
    // Cycle by cycle, state by state: the cells of one from-state are a run of `per_state`.
    for (i, cells) in t.row_of().chunks(per_state).enumerate() {
        let from = i % n;
        for &r in cells {
            if r == u32::MAX {
                continue;
            }
            let v = &mut visited[r as usize * n + from];
            if *v {
                continue;
            }
            *v = true;
            for &to in t.rows()[r as usize].targets() {
                if to as usize != from {
                    seen[from * 256 + usize::from(to)] = true;
                }
            }
        }
    }
    // In (from, to) order.
    seen.iter()
        .enumerate()
        .filter(|&(_, &b)| b)
        .map(|(i, _)| (i / 256, (i % 256) as u8))
        .collect()
}

/// Whether tables `a` and `b` give the same [`flows`]: the same cells with the same rows, whose
/// targets are the same (their probabilities may differ).
pub(super) fn same_flows(a: &Transitions, b: &Transitions) -> bool {
    a.cap() == b.cap()
        && a.row_of() == b.row_of()
        && a.rows().len() == b.rows().len()
        && a.rows()
            .iter()
            .zip(b.rows())
            .all(|(x, y)| x.targets() == y.targets())
}

#[cfg(test)]
mod tests {
    use super::super::check::parse_period;
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
}

#[cfg(test)]
mod flow_tests {
    use super::*;

    /// The default scenario's model.
    fn default_model() -> crate::model::Model {
        let text = include_str!("../../scenarios/oosterschelde.toml");
        crate::scenario::from_text("default.toml", text)
            .unwrap()
            .model
    }

    /// Tables whose rows differ only in their probabilities allow the same moves; a row that loses a
    /// target, or a cell given another row, may not.
    #[test]
    fn same_flows_tells_a_change_of_probabilities_from_a_change_of_moves() {
        let model = default_model();
        let (t, n) = (&model.transitions, model.n_states());
        let with_rows =
            |rows: Vec<Row>, row_of: Vec<u32>| Transitions::new(rows, t.cap(), row_of, n);
        let same = with_rows(t.rows().to_vec(), t.row_of().to_vec());
        assert!(same_flows(t, &same));
        // Row 0 with the same targets, other probabilities: the same moves.
        let r0 = &t.rows()[0];
        assert!(r0.targets().len() > 2, "row 0 has moves to leave out");
        let mut probs = r0.probs().to_vec();
        let last = probs.len() - 1;
        (probs[0], probs[last]) = (probs[0] - 1e-3, probs[last] + 1e-3);
        let mut rows = t.rows().to_vec();
        rows[0] = Row::new(r0.targets().to_vec(), probs);
        let reweighted = with_rows(rows.clone(), t.row_of().to_vec());
        assert!(same_flows(t, &reweighted));
        assert_eq!(
            flows(t, &model.entry, n),
            flows(&reweighted, &model.entry, n)
        );
        // Row 0 without its last target: other moves.
        let mut targets = r0.targets().to_vec();
        let mut probs = r0.probs().to_vec();
        let gone = probs.pop().unwrap();
        targets.pop();
        probs[0] += gone;
        rows[0] = Row::new(targets, probs);
        let fewer = with_rows(rows, t.row_of().to_vec());
        assert!(!same_flows(t, &fewer));
        // A cell with another row (the first cell in use given the next row).
        let mut row_of = t.row_of().to_vec();
        let cell = row_of.iter().position(|&r| r != u32::MAX).unwrap();
        row_of[cell] = (row_of[cell] + 1) % t.rows().len() as u32;
        assert!(!same_flows(t, &with_rows(t.rows().to_vec(), row_of)));
    }

    /// `flows` (one visit per row and state) gives exactly the pairs a walk over every cell does, in
    /// (from, to) order, for the default scenario's provider and regime tables.
    #[test]
    fn flows_match_a_walk_over_every_cell() {
        let model = default_model();
        let n = model.n_states();
        let mut tables = vec![&model.transitions];
        tables.extend(&model.regime_tables);
        assert!(tables.len() > 1, "the default has a regime table");
        for t in tables {
            let mut want = std::collections::BTreeSet::new();
            for &s in model.entry.targets() {
                want.insert((n, s));
            }
            let stride = n * (usize::from(t.cap()) + 1);
            for (cell, &r) in t.row_of().iter().enumerate() {
                if r == u32::MAX {
                    continue;
                }
                let from = (cell % stride) / (usize::from(t.cap()) + 1);
                for &to in t.rows()[r as usize].targets() {
                    if usize::from(to) != from {
                        want.insert((from, to));
                    }
                }
            }
            let want: Vec<(usize, u8)> = want.into_iter().collect();
            assert_eq!(flows(t, &model.entry, n), want);
        }
    }
}
