//! Calibration to published aggregate counts (`wijksim calibrate`).
//!
//! A targets file ([`read_targets`]) gives counts per period, scope and state: the mean caseload
//! (`stock`), the distinct clients (`clients`), the new clients (`inflow`) or the clients leaving for an
//! absorbing state (`outflow`), each with a standard error. [`measure`] computes the same numbers from
//! an area's per-cycle counts and moves, expected ([`crate::engine::cohort`]) or simulated
//! ([`crate::engine::AreaTrace`]): one function for both.
//!
//! The numbers to fit are named by the key paths of sweeps ([`crate::sweep::keypath`]), each within a
//! box `LOW..HIGH` ([`Vary`]). [`fit`] minimises the weighted sum of squares
//! `sum ((model - value) / se)^2` with the expected-value engine, using the Nelder–Mead simplex of the
//! `argmin` crate on a logistic transform of the box (so every point it tries lies inside the box),
//! from the scenario's values, with fixed restarts: deterministic. [`posterior`] draws a posterior
//! sample by sampling-importance resampling (uniform prior on the box, Gaussian likelihood with the
//! targets' standard errors). [`write()`] writes the output folder.

use crate::aggregate::AreaView;
use crate::engine::cohort::{ExpectedArea, expected_arm_area};
use crate::error::{Error, Fault, InputError, InputErrors, Message, Opt, says};
use crate::model::scope::ScopeKind;
use crate::model::{Model, YearMonth};
use crate::output::Staged;
use crate::rng::{Key, Purpose};
use crate::scenario::Scenario;
use crate::sweep::keypath::{self, KeyPath};
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use toml_edit::DocumentMut;

/// The most targets a file may hold.
pub const MAX_TARGETS: usize = 100_000;
/// The most numbers one calibration may vary.
pub const MAX_VARY: usize = 20;
/// The largest posterior sample (`--posterior`).
pub const MAX_POSTERIOR: usize = 100_000;

/// What a target counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Mean caseload over the period's cycles (a month: the point stock).
    Stock,
    /// Distinct clients in the state during the period: those in it in the first cycle plus those who
    /// enter it later in the period (renewals not counted).
    Clients,
    /// New clients entering the state from outside.
    Inflow,
    /// Clients leaving the state into an absorbing state (for an absorbing state: everyone entering it).
    Outflow,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 4] = [
        Measure::Stock,
        Measure::Clients,
        Measure::Inflow,
        Measure::Outflow,
    ];

    /// The name in a targets file.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Stock => "stock",
            Measure::Clients => "clients",
            Measure::Inflow => "inflow",
            Measure::Outflow => "outflow",
        }
    }
}

/// One published count.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Line in the targets file (1-based; the header is line 1).
    pub line: usize,
    /// The period as written (`2022-06`, `2022-H1`, `2022`).
    pub period: String,
    /// The cycles that start in the period.
    pub cycles: Range<usize>,
    /// The scope's index in [`Model::scopes`].
    pub scope: usize,
    /// The state's index.
    pub state: usize,
    /// What is counted.
    pub measure: Measure,
    /// The published value.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

/// A period: its first month and number of months. `YYYY-MM` is a month, `YYYY-H1`/`YYYY-H2` a
/// half-year, `YYYY` a calendar year. Anything else is `None`.
pub fn parse_period(s: &str) -> Option<(YearMonth, u32)> {
    let b = s.as_bytes();
    let year = |t: &str| -> Option<i32> {
        (t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    match b.len() {
        4 => Some((
            YearMonth {
                year: year(s)?,
                month: 1,
            },
            12,
        )),
        7 if &s[4..6] == "-H" => {
            let y = year(&s[..4])?;
            match &s[6..] {
                "1" => Some((YearMonth { year: y, month: 1 }, 6)),
                "2" => Some((YearMonth { year: y, month: 7 }, 6)),
                _ => None,
            }
        }
        7 if b[4] == b'-' && b[5].is_ascii_digit() && b[6].is_ascii_digit() => {
            year(&s[..4])?;
            YearMonth::parse(s).map(|m| (m, 1))
        }
        _ => None,
    }
}

/// The cycles of `model` that start in the period, when the whole period lies within the horizon.
pub fn period_cycles(model: &Model, first: YearMonth, months: u32) -> Option<Range<usize>> {
    let cm = i64::from(model.cycle_months.max(1));
    let d0 = first.index() - model.start.index();
    let d1 = d0 + i64::from(months);
    if d0 < 0 || d1 > i64::from(model.cycles) * cm {
        return None;
    }
    let lo = (d0 + cm - 1) / cm;
    let hi = (d1 + cm - 1) / cm;
    (lo < hi).then_some(lo as usize..hi as usize)
}

/// The value of `target` from per-area counts and moves (as [`crate::engine::AreaTrace`], simulated,
/// or [`ExpectedArea`], expected), summed over the target's scope. `areas` is indexed by area; only the
/// scope's areas are read. Moves count in the cycle they lead into, as in `flows.csv`.
pub fn measure<T: Copy + Into<f64>>(
    model: &Model,
    areas: &[AreaView<'_, T>],
    target: &Target,
) -> f64 {
    let n = model.n_states();
    let n1 = n + 1;
    let s = target.state;
    let absorbing = model.states[s].absorbing;
    let mv = |v: &AreaView<'_, T>, c: usize, from: usize, to: usize| -> f64 {
        v.moves[(c * n1 + from) * n1 + to].into()
    };
    // Entries into s at the start of cycle c: from every other state and from outside, no renewals.
    let entries = |v: &AreaView<'_, T>, c: usize| -> f64 {
        (0..=n).filter(|&f| f != s).map(|f| mv(v, c, f, s)).sum()
    };
    let mut total = 0.0;
    for &a in &model.scopes[target.scope].areas {
        let v = &areas[a];
        let cs = target.cycles.clone();
        total += match target.measure {
            Measure::Stock => {
                cs.clone().map(|c| v.counts[c * n + s].into()).sum::<f64>() / cs.len() as f64
            }
            Measure::Clients => {
                let first: f64 = v.counts[cs.start * n + s].into();
                first + (cs.start + 1..cs.end).map(|c| entries(v, c)).sum::<f64>()
            }
            Measure::Inflow => cs.map(|c| mv(v, c, n, s)).sum(),
            Measure::Outflow if absorbing => cs
                .map(|c| {
                    (0..n)
                        .filter(|&f| f != s)
                        .map(|f| mv(v, c, f, s))
                        .sum::<f64>()
                })
                .sum(),
            Measure::Outflow => cs
                .map(|c| {
                    (0..n)
                        .filter(|&t| t != s && model.states[t].absorbing)
                        .map(|t| mv(v, c, s, t))
                        .sum::<f64>()
                })
                .sum(),
        };
    }
    total
}

/// The expected value of every target in arm `arm` of `model` (the cohort engine, only the areas the
/// targets need).
pub fn expected_values(model: &Model, arm: usize, targets: &[Target]) -> Vec<f64> {
    let mut need = vec![false; model.areas.len()];
    for t in targets {
        for &a in &model.scopes[t.scope].areas {
            need[a] = true;
        }
    }
    let empty = ExpectedArea {
        counts: Vec::new(),
        moves: Vec::new(),
        final_counts: Vec::new(),
    };
    let expected: Vec<ExpectedArea> = (0..model.areas.len())
        .map(|a| {
            if need[a] {
                expected_arm_area(model, arm, a)
            } else {
                empty.clone()
            }
        })
        .collect();
    let views: Vec<AreaView<'_, f64>> = expected.iter().map(ExpectedArea::view).collect();
    targets.iter().map(|t| measure(model, &views, t)).collect()
}

const COLUMNS: [&str; 7] = [
    "period",
    "scope",
    "scope_name",
    "state",
    "measure",
    "value",
    "se",
];
const REQUIRED: usize = 6;
const TARGETS_FIX: &str = "the targets file is CSV with the header period,scope,scope_name,state,measure,value,se (se may be empty); see the README, `Calibrating to published counts`, and scenarios/targets_example.csv";

fn terr(file: &str, line: Option<usize>, key: &str, problem: String, fix: &str) -> InputErrors {
    InputErrors::from(InputError::new(
        file.to_string(),
        line,
        key.to_string(),
        problem,
        fix.to_string(),
    ))
}

/// Reads a targets file (CSV, see the README) against `model`: every row's period within the horizon,
/// scope and state of the model, measure, value and standard error. Every problem names the file, the
/// line, the column and the fix.
pub fn read_targets(file: &str, bytes: &[u8], model: &Model) -> Result<Vec<Target>, InputErrors> {
    // The rule of every CSV wijksim reads: a byte order mark skipped, UTF-8, commas.
    let text = crate::data::csv::decode(file, bytes, &COLUMNS.join(","))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| terr(file, Some(1), "", format!("CSV: {e}"), TARGETS_FIX))?
        .iter()
        .map(str::to_string)
        .collect();
    let col = target_columns(file, &header)?;
    let mut out: Vec<Target> = Vec::new();
    let mut seen: std::collections::HashMap<(String, usize, usize, Measure), usize> =
        Default::default();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            terr(file, line, "", format!("CSV: {e}"), TARGETS_FIX)
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        check_fields(file, line, rec.len(), header.len(), out.len())?;
        let row = TargetRow {
            file,
            model,
            col: &col,
            line,
            rec: &rec,
        };
        let target = row.target()?;
        let key = (
            target.period.clone(),
            target.scope,
            target.state,
            target.measure,
        );
        if let Some(prev) = seen.insert(key, line) {
            return Err(row.repeats(prev));
        }
        out.push(target);
    }
    if out.is_empty() {
        return Err(terr(
            file,
            Some(1),
            "",
            "the file has a header but no targets".into(),
            TARGETS_FIX,
        ));
    }
    Ok(out)
}

/// The position of each of [`COLUMNS`] in the header (`usize::MAX`: absent): each column at most
/// once, none unknown (but `note`), every required one there.
fn target_columns(file: &str, header: &[String]) -> Result<[usize; 7], InputErrors> {
    let mut col = [usize::MAX; 7];
    for (i, h) in header.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == h) {
            Some(k) if col[k] != usize::MAX => {
                return Err(terr(
                    file,
                    Some(1),
                    h,
                    format!("column {} repeats `{h}`", i + 1),
                    "give each column once",
                ));
            }
            Some(k) => col[k] = i,
            None if h == "note" => {}
            None => {
                return Err(terr(
                    file,
                    Some(1),
                    h,
                    format!("column {} `{h}` is unknown", i + 1),
                    &format!(
                        "use the columns {} (and optionally `note` for your own remarks)",
                        COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    let missing: Vec<&str> = (0..REQUIRED)
        .filter(|&k| col[k] == usize::MAX)
        .map(|k| COLUMNS[k])
        .collect();
    if !missing.is_empty() {
        return Err(terr(
            file,
            Some(1),
            "",
            format!("the header lacks the column(s) {}", missing.join(", ")),
            TARGETS_FIX,
        ));
    }
    Ok(col)
}

/// A row of `fields` fields on `line` has the header's `columns`, and `so_far` targets are fewer than
/// [`MAX_TARGETS`].
fn check_fields(
    file: &str,
    line: usize,
    fields: usize,
    columns: usize,
    so_far: usize,
) -> Result<(), InputErrors> {
    if fields != columns {
        let hint = if fields > columns {
            " (a decimal comma? write 12.5, not 12,5)"
        } else {
            ""
        };
        return Err(terr(
            file,
            Some(line),
            "",
            format!("the line has {fields} fields, the header {columns}{hint}"),
            "give every line one field per column, separated by commas; decimals with a point",
        ));
    }
    if so_far >= MAX_TARGETS {
        return Err(terr(
            file,
            Some(line),
            "",
            format!("more than {MAX_TARGETS} targets"),
            "calibrate to fewer targets (aggregate them, e.g. per year)",
        ));
    }
    Ok(())
}

/// One row of a targets file, read against the model: each of its fields checked, every problem
/// naming the file, the line, the column and the fix.
struct TargetRow<'a> {
    file: &'a str,
    model: &'a Model,
    /// The position of each of [`COLUMNS`] (`usize::MAX`: absent).
    col: &'a [usize; 7],
    line: usize,
    rec: &'a csv::StringRecord,
}

impl TargetRow<'_> {
    /// The target the row gives.
    fn target(&self) -> Result<Target, InputErrors> {
        let cycles = self.cycles()?;
        let scope = self.scope()?;
        let state = self.state()?;
        let measure = self.measure(state)?;
        let (value, se) = self.value_and_se()?;
        Ok(Target {
            line: self.line,
            period: self.field(0).to_string(),
            cycles,
            scope,
            state,
            measure,
            value,
            se,
        })
    }

    /// The text of column `k` of [`COLUMNS`] (empty when the file has no such column).
    fn field(&self, k: usize) -> &str {
        self.rec.get(self.col[k]).unwrap_or("")
    }

    /// The problem `problem` in column `k` of [`COLUMNS`], with its fix.
    fn bad(&self, k: usize, problem: String, fix: &str) -> InputErrors {
        let at = format!("column {} (`{}`)", self.col[k] + 1, COLUMNS[k]);
        terr(
            self.file,
            Some(self.line),
            COLUMNS[k],
            format!("{at}: {problem}"),
            fix,
        )
    }

    /// The cycles of the period, which lies within the horizon.
    fn cycles(&self) -> Result<Range<usize>, InputErrors> {
        let (model, ptext) = (self.model, self.field(0));
        let Some((first, months)) = parse_period(ptext) else {
            return Err(self.bad(
                0,
                format!("`{}` is not a period", quoted(ptext)),
                "write a month as 2022-06, a half-year as 2022-H1 or 2022-H2, a year as 2022",
            ));
        };
        period_cycles(model, first, months).ok_or_else(|| {
            let horizon_end = model
                .start
                .plus(i64::from(model.cycles) * i64::from(model.cycle_months) - 1);
            let no_cycle = if model.cycle_months > 1 {
                format!(", or no cycle ({} months) starts in it", model.cycle_months)
            } else {
                String::new()
            };
            self.bad(
                0,
                format!(
                    "period {ptext} is not within the scenario's horizon {} to {horizon_end}{no_cycle}",
                    model.start,
                ),
                "use periods within the horizon, or lengthen the scenario's `time.cycles`",
            )
        })
    }

    /// The scope: its kind and a name of that kind.
    fn scope(&self) -> Result<usize, InputErrors> {
        let scopes = &self.model.scopes;
        let (ktext, ntext) = (self.field(1), self.field(2));
        let Some(kind) = ScopeKind::parse(ktext) else {
            return Err(self.bad(
                1,
                format!("unknown scope `{}`", quoted(ktext)),
                &format!(
                    "use one of: {}",
                    ScopeKind::ALL.map(|k| k.name()).join(", ")
                ),
            ));
        };
        crate::model::scope::find(scopes, kind, ntext).ok_or_else(|| {
            let names: Vec<&str> = scopes
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.name.as_str())
                .collect();
            let fix = if names.is_empty() {
                let all: Vec<String> = scopes
                    .iter()
                    .map(|s| format!("{},{}", s.kind.name(), s.name))
                    .collect();
                format!(
                    "the scenario has no `{}` scope (an area is a scope when it is a pilot area or in `run.report_areas`); use one of: {}",
                    kind.name(),
                    all.join("; ")
                )
            } else {
                format!("use one of: {}", names.join(", "))
            };
            self.bad(
                2,
                format!("no {} scope named `{}`", kind.name(), quoted(ntext)),
                &fix,
            )
        })
    }

    /// The state, by its code.
    fn state(&self) -> Result<usize, InputErrors> {
        let stext = self.field(3);
        self.model
            .states
            .iter()
            .position(|s| s.code == stext)
            .ok_or_else(|| {
                let codes: Vec<&str> = self.model.states.iter().map(|s| s.code.as_str()).collect();
                self.bad(
                    3,
                    format!("unknown state `{}`", quoted(stext)),
                    &format!("use one of: {}", codes.join(", ")),
                )
            })
    }

    /// The measure, one that state `state` can have.
    fn measure(&self, state: usize) -> Result<Measure, InputErrors> {
        let mtext = self.field(4);
        let Some(measure) = Measure::ALL.into_iter().find(|m| m.name() == mtext) else {
            return Err(self.bad(
                4,
                format!("unknown measure `{}`", quoted(mtext)),
                "use stock, clients, inflow or outflow",
            ));
        };
        if measure == Measure::Inflow && self.model.states[state].absorbing {
            return Err(self.bad(
                4,
                format!(
                    "new clients never enter absorbing state `{}`: its inflow is always 0",
                    self.field(3)
                ),
                "use `outflow` for the clients who leave into it",
            ));
        }
        Ok(measure)
    }

    /// The value, 0 or more, and its standard error (given and positive, or the Poisson default).
    fn value_and_se(&self) -> Result<(f64, f64), InputErrors> {
        let number = |k: usize| -> Result<f64, InputErrors> {
            crate::data::csv::number(self.field(k))
                .map_err(|(problem, fix)| self.bad(k, problem, &fix))
        };
        let value = number(5)?;
        if value < 0.0 {
            return Err(self.bad(5, format!("{value} is negative"), "a count is 0 or more"));
        }
        let se = match self.col[6] {
            usize::MAX => None,
            _ if self.field(6).is_empty() => None,
            _ => Some(number(6)?),
        };
        match se {
            None => Ok((value, value.max(1.0).sqrt())),
            Some(x) if x > 0.0 => Ok((value, x)),
            Some(x) => Err(self.bad(
                6,
                format!("standard error {x} is not positive"),
                "give a standard error above 0, or leave it empty for the Poisson default sqrt(max(value, 1))",
            )),
        }
    }

    /// The row gives the same target as line `prev`.
    fn repeats(&self, prev: usize) -> InputErrors {
        let f = |k: usize| self.field(k);
        terr(
            self.file,
            Some(self.line),
            "",
            format!(
                "the same target as line {prev} ({}, {} {}, {}, {})",
                f(0),
                f(1),
                f(2),
                f(3),
                f(4)
            ),
            "give each target once",
        )
    }
}

/// A value of a targets file as a message quotes it (a long one cut).
fn quoted(s: &str) -> String {
    crate::error::short(s).into_owned()
}

/// One number to fit: a key path and its box.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// Where it is in the scenario.
    pub key: KeyPath,
    /// Lower end of the box.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Parses `KEYPATH=LOW..HIGH` (the key path as in sweeps).
pub fn parse_vary(s: &str) -> Result<Vary, String> {
    let fix = "write KEYPATH=LOW..HIGH, e.g. 'transition[3].to.UIT=0.005..0.05'";
    let (k, range) = s
        .split_once('=')
        .ok_or_else(|| format!("`{}` has no `=`; {fix}", crate::error::short(s)))?;
    let key = KeyPath::parse(k.trim()).map_err(|e| format!("{e}; {fix}"))?;
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| format!("`{}` has no `LOW..HIGH`; {fix}", crate::error::short(range)))?;
    let num = |t: &str| -> Result<f64, String> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                format!(
                    "`{}` in `{}` is not a number; {fix}",
                    crate::error::short(t),
                    crate::error::short(s)
                )
            })
    };
    let (low, high) = (num(lo)?, num(hi)?);
    if low >= high {
        return Err(format!(
            "`{}`: LOW {low} must be below HIGH {high}",
            crate::error::short(s)
        ));
    }
    Ok(Vary { key, low, high })
}

/// A varied number as the calibration handles it.
#[derive(Debug, Clone)]
pub struct Varied {
    /// Key and box.
    pub vary: Vary,
    /// The scenario's value (the mean of a distribution).
    pub current: f64,
    /// For a move in a transition row: the row's stay probability, which takes up the difference.
    pub stay: Option<KeyPath>,
}

impl Varied {
    /// For a move in a transition row: the row (`transition[A]` of `transition[A].to.B`).
    fn row(&self) -> Option<KeyPath> {
        self.stay.as_ref()?.parent()?.parent()
    }
}

/// A calibration problem: the scenario, the numbers to vary, the arm and the targets.
#[derive(Debug)]
pub struct Problem {
    /// The base scenario.
    pub scenario: Scenario,
    /// Its document, as written.
    pub doc: DocumentMut,
    /// The numbers to vary.
    pub varied: Vec<Varied>,
    /// The arm evaluated.
    pub arm: usize,
    /// The targets.
    pub targets: Vec<Target>,
}

/// One `vary`, checked against the scenario's document (of file `path`) and the numbers varied before
/// it: a number that is not a whole number, with a mean, varied once.
fn varied_one(
    doc: &mut DocumentMut,
    path: &str,
    model: &Model,
    v: Vary,
    varied: &[Varied],
) -> Result<Varied, Error> {
    let vary = || says!(Opt::Vary, format!(" {}", v.key));
    let (integer, current) = match keypath::inspect(doc, &v.key) {
        Ok(found) => found,
        Err(e) => {
            let fix = numbers_fix(doc, model);
            return Err(opt_err(Fault::new(
                vary().then(format!(": {e} (in {})", path)),
                fix,
            )));
        }
    };
    if integer {
        return Err(opt_err(Fault::new(
            vary().then(": a whole-number setting cannot be calibrated"),
            "calibrate a rate, probability or amount",
        )));
    }
    let Some(current) = current else {
        return Err(opt_err(Fault::new(
            vary().then(": the scenario's value is a distribution without a mean"),
            numbers_fix(doc, model),
        )));
    };
    if varied.iter().any(|w| w.vary.key == v.key) {
        return Err(opt_err(Fault::new(
            vary().then(" is given twice"),
            "vary each number once",
        )));
    }
    let stay = stay_of(doc, path, model, &v.key)?;
    Ok(Varied {
        vary: v,
        current,
        stay,
    })
}

/// The fix for a `--vary` that names no number of the scenario: numbers it has, as in sweeps (a move
/// of its first transition row that has a stay probability, its inflow rate, a regime's prevention).
fn numbers_fix(doc: &mut DocumentMut, model: &Model) -> String {
    let mut examples: Vec<String> = example_move(doc, model).into_iter().collect();
    for k in ["inflow.per_1000_per_year", "regime[dorpsbudget].prevention"] {
        let has = KeyPath::parse(k).is_ok_and(|p| keypath::inspect(doc, &p).is_ok());
        if has {
            examples.push(k.to_string());
        }
    }
    let examples = match examples.as_slice() {
        [] => "e.g. a rate, probability or amount".to_string(),
        [one] => format!("e.g. {one}"),
        [first @ .., last] => format!("e.g. {} or {last}", first.join(", ")),
    };
    format!("name a number of the scenario as in sweeps, {examples}")
}

/// The moves of the transition row whose `to` table is at `to` and that starts in `from`: its keys
/// that are states of `model` other than `from` (the stay), the moves out of care (into an absorbing
/// state, such as `UIT`) first, else in the file's order.
fn moves_of(doc: &mut DocumentMut, model: &Model, to: &KeyPath, from: &str) -> Vec<String> {
    let mut moves: Vec<(bool, String)> = keypath::keys_at(doc, to)
        .into_iter()
        .filter(|k| k != from)
        .filter_map(|k| {
            let s = model.states.iter().find(|s| s.code == k)?;
            Some((!s.absorbing, k))
        })
        .collect();
    moves.sort_by_key(|m| m.0);
    moves.into_iter().map(|m| m.1).collect()
}

/// A move of the scenario that `--vary` can name, as a key path: the first move of the first
/// transition row with a stay probability, the row named by its state where that is unambiguous
/// (`transition[S1].to.H`), else by its position.
fn example_move(doc: &mut DocumentMut, model: &Model) -> Option<String> {
    for i in 0.. {
        let row = KeyPath::parse(&format!("transition[{i}]")).ok()?;
        let from = keypath::text_at(doc, &row.child("from"))?;
        let to = row.child("to");
        if keypath::is_true(doc, &row.child("counts"))
            || keypath::inspect(doc, &to.child(&from)).is_err()
        {
            continue;
        }
        let Some(code) = moves_of(doc, model, &to, &from).into_iter().next() else {
            continue;
        };
        let by_name = format!("transition[{from}].to.{code}");
        let named = KeyPath::parse(&by_name).is_ok_and(|p| keypath::inspect(doc, &p).is_ok());
        return Some(if named {
            by_name
        } else {
            format!("transition[{i}].to.{code}")
        });
    }
    None
}

fn opt_err(f: impl Into<Fault>) -> Error {
    Error::Options(f.into())
}

impl Problem {
    /// Checks the key paths and boxes against the scenario: each names a number that is not a whole
    /// number, each box gives a valid scenario at its corners (at every corner for up to 8 numbers,
    /// else at each number's ends with the others at the start).
    pub fn new(
        scenario: Scenario,
        varies: Vec<Vary>,
        arm: Option<&str>,
        targets: Vec<Target>,
    ) -> Result<Problem, Error> {
        if varies.is_empty() {
            return Err(opt_err(Fault::new(
                "nothing to calibrate",
                says!(
                    "name at least one number with ",
                    Opt::Vary,
                    " KEYPATH=LOW..HIGH"
                ),
            )));
        }
        if varies.len() > MAX_VARY {
            return Err(opt_err(Fault::new(
                says!(
                    format!("{} numbers to vary (", varies.len()),
                    Opt::Vary,
                    format!("), more than {MAX_VARY}")
                ),
                "calibrate fewer numbers at once",
            )));
        }
        let model = &scenario.model;
        let arm = match arm {
            None => 0,
            Some(a) => model.arms.iter().position(|x| x.name == a).ok_or_else(|| {
                let arms: Vec<&str> = model.arms.iter().map(|x| x.name.as_str()).collect();
                opt_err(Fault::new(
                    format!("the scenario has no arm `{a}`"),
                    says!(
                        "name one of its arms with ",
                        Opt::Arm,
                        format!(": {}", arms.join(", "))
                    ),
                ))
            })?,
        };
        let mut doc: DocumentMut = scenario
            .source
            .text
            .parse()
            .map_err(|e| opt_err(format!("{}: TOML: {e}", scenario.source.path)))?;
        let mut varied: Vec<Varied> = Vec::new();
        for v in varies {
            let w = varied_one(&mut doc, &scenario.source.path, model, v, &varied)?;
            varied.push(w);
        }
        if let Some(w) = varied.iter().find(|w| {
            varied
                .iter()
                .any(|o| o.stay.as_ref().is_some_and(|s| *s == w.vary.key))
        }) {
            return Err(opt_err(Fault::new(
                says!(
                    Opt::Vary,
                    format!(
                        " {}: this is the stay probability of a row whose move is varied too; it takes up their difference",
                        w.vary.key
                    )
                ),
                "vary the moves of a row, not its stay probability",
            )));
        }
        let p = Problem {
            scenario,
            doc,
            varied,
            arm,
            targets,
        };
        p.check_box()?;
        Ok(p)
    }

    /// The start: the scenario's values, clamped into the box (1% of its width away from the ends).
    pub fn start(&self) -> Vec<f64> {
        self.varied
            .iter()
            .map(|w| {
                let (lo, hi) = (w.vary.low, w.vary.high);
                let e = 0.01 * (hi - lo);
                w.current.clamp(lo + e, hi - e)
            })
            .collect()
    }

    fn check_box(&self) -> Result<(), Error> {
        let k = self.varied.len();
        let start = self.start();
        let mut points: Vec<Vec<f64>> = Vec::new();
        if k <= 8 {
            for mask in 0..(1u32 << k) {
                points.push(
                    (0..k)
                        .map(|i| {
                            let w = &self.varied[i].vary;
                            if mask >> i & 1 == 1 { w.high } else { w.low }
                        })
                        .collect(),
                );
            }
        } else {
            for i in 0..k {
                for end in [self.varied[i].vary.low, self.varied[i].vary.high] {
                    let mut p = start.clone();
                    p[i] = end;
                    points.push(p);
                }
            }
        }
        for p in &points {
            if let Err(e) = self.scenario_at(p) {
                let at: Vec<String> = self
                    .varied
                    .iter()
                    .zip(p)
                    .map(|(w, x)| format!("{} = {x}", w.vary.key))
                    .collect();
                return Err(opt_err(Fault::new(
                    says!(
                        "the box of ",
                        Opt::Vary,
                        format!(
                            " reaches values the scenario refuses: at {} {}",
                            at.join(", "),
                            e.replace('\n', " ")
                        )
                    ),
                    "narrow LOW..HIGH to values the scenario accepts (a probability lies in 0..1, a move at most its row's stay probability allows)",
                )));
            }
        }
        Ok(())
    }

    /// The scenario text with the varied numbers at `x` (a move's row rebalanced by its stay
    /// probability).
    pub fn text_at(&self, x: &[f64]) -> Result<String, String> {
        let mut doc = self.doc.clone();
        self.set_all(&mut doc, x)?;
        Ok(doc.to_string())
    }

    fn set_all(&self, doc: &mut DocumentMut, x: &[f64]) -> Result<(), String> {
        for (w, &v) in self.varied.iter().zip(x) {
            set_balanced(doc, w, v)?;
        }
        Ok(())
    }

    /// The scenario with the varied numbers at `x`.
    pub fn scenario_at(&self, x: &[f64]) -> Result<Scenario, String> {
        let text = self.text_at(x)?;
        crate::scenario::from_text(&self.scenario.source.path, &text).map_err(|e| e.to_string())
    }

    /// The targets' expected values with the varied numbers at `x`.
    pub fn values_at(&self, x: &[f64]) -> Result<Vec<f64>, String> {
        let sc = self.scenario_at(x)?;
        Ok(expected_values(&sc.model, self.arm, &self.targets))
    }

    /// Chi-square of model values against the targets.
    pub fn chi2(&self, values: &[f64]) -> f64 {
        self.targets
            .iter()
            .zip(values)
            .map(|(t, m)| ((m - t.value) / t.se).powi(2))
            .sum()
    }
}

/// For a move in a transition row (`...to.CODE`, not the stay and not a row of counts): the path of
/// the row's stay probability, which takes up the change so that the row keeps summing to 1. A key
/// that names the stay probability itself, or a move of a row without one, is an error in the
/// scenario file `path` at that key.
fn stay_of(
    doc: &mut DocumentMut,
    path: &str,
    model: &Model,
    key: &KeyPath,
) -> Result<Option<KeyPath>, Error> {
    let Some(to) = key.parent() else {
        return Ok(None);
    };
    if to.last_key() != Some("to") {
        return Ok(None);
    }
    let Some(row) = to.parent().or_else(|| {
        // `to` directly under a selection: transition[3].to
        let t = to.to_string();
        t.strip_suffix(".to").and_then(|r| KeyPath::parse(r).ok())
    }) else {
        return Ok(None);
    };
    let Some(from) = keypath::text_at(doc, &row.child("from")) else {
        return Ok(None);
    };
    if keypath::is_true(doc, &row.child("counts")) {
        return Ok(None);
    }
    let code = key.last_key().unwrap_or_default();
    let refused = |problem: Message, fix: String| {
        Error::Input(InputError::new(path, None, key.to_string(), problem, fix).into())
    };
    if code == from {
        return Err(refused(
            says!(
                Opt::Vary,
                format!(" names the stay probability of the row from `{from}`")
            ),
            match moves_of(doc, model, &to, &from).first() {
                Some(code) => format!(
                    "vary its moves (e.g. {to}.{code}); the stay probability takes up their change"
                ),
                None => format!(
                    "the row from `{from}` has no move to vary; vary a move of another row, or use a modifier's hazard_ratio"
                ),
            },
        ));
    }
    let stay = to.child(&from);
    if keypath::inspect(doc, &stay).is_err() {
        return Err(refused(
            says!(
                Opt::Vary,
                format!(
                    " names a move of the row from `{from}`, which has no stay probability `{stay}` to take up the change, so the row would no longer sum to 1"
                )
            ),
            "vary a row that has a stay probability, or use a modifier's hazard_ratio".into(),
        ));
    }
    Ok(Some(stay))
}

/// Sets a varied number; a move's stay probability takes up the difference.
fn set_balanced(doc: &mut DocumentMut, w: &Varied, x: f64) -> Result<(), String> {
    if let Some(stay) = &w.stay {
        let now = keypath::inspect(doc, &w.vary.key)?.1.unwrap_or(0.0);
        let s = keypath::inspect(doc, stay)?.1.unwrap_or(0.0);
        let new = s + now - x;
        if new < -1e-12 {
            return Err(format!(
                "at {} = {x} the stay probability `{stay}` would be {new:.6}, below 0 (the row allows at most {})",
                w.vary.key,
                s + now
            ));
        }
        keypath::set(doc, stay, round_to(new.max(0.0), 12))?;
    }
    keypath::set(doc, &w.vary.key, x)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// `x` to 6 significant digits (how fitted values are written).
pub fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let d = 5 - x.abs().log10().floor() as i32;
    round_to(x, d.clamp(-300, 300))
}

/// The result of a fit.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// The start (the scenario's values clamped into the box).
    pub start: Vec<f64>,
    /// The best values found.
    pub best: Vec<f64>,
    /// Model values at the start, per target.
    pub before: Vec<f64>,
    /// Model values at the best values, per target.
    pub after: Vec<f64>,
    /// Chi-square at the start.
    pub chi2_before: f64,
    /// Chi-square at the best values.
    pub chi2: f64,
    /// Degrees of freedom: targets minus varied numbers.
    pub dof: i64,
    /// Root mean square of the residuals (model - value), in counts.
    pub rmse: f64,
    /// Model evaluations.
    pub evaluations: usize,
    /// Whether the simplex converged (else it stopped at its iteration limit).
    pub converged: bool,
    /// What stopped it.
    pub termination: String,
    /// Wall time of the fit in seconds.
    pub seconds: f64,
}

impl Fit {
    /// Evaluations per second.
    pub fn evaluations_per_second(&self) -> f64 {
        self.evaluations as f64 / self.seconds.max(1e-9)
    }
}

struct Objective<'a> {
    problem: &'a Problem,
    evals: &'a AtomicUsize,
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn to_box(p: &Problem, z: &[f64]) -> Vec<f64> {
    p.varied
        .iter()
        .zip(z)
        .map(|(w, &z)| w.vary.low + (w.vary.high - w.vary.low) * logistic(z))
        .collect()
}

fn from_box(p: &Problem, x: &[f64]) -> Vec<f64> {
    p.varied
        .iter()
        .zip(x)
        .map(|(w, &x)| {
            let u = ((x - w.vary.low) / (w.vary.high - w.vary.low)).clamp(1e-9, 1.0 - 1e-9);
            (u / (1.0 - u)).ln()
        })
        .collect()
}

/// The cost of a point the scenario refuses (inside a checked box this should not happen).
const REFUSED: f64 = 1e30;

impl argmin::core::CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, z: &Self::Param) -> Result<f64, argmin::core::Error> {
        self.evals.fetch_add(1, Ordering::Relaxed);
        let x = to_box(self.problem, z);
        Ok(match self.problem.values_at(&x) {
            Ok(v) => {
                let c = self.problem.chi2(&v);
                if c.is_finite() { c } else { REFUSED }
            }
            Err(_) => REFUSED,
        })
    }
}

/// Fits the varied numbers: Nelder–Mead (`argmin`) on the logistic transform of the box, from
/// [`Problem::start`], restarted from its best point until a restart no longer improves (at most 4
/// runs of at most 1,000 iterations). Deterministic.
pub fn fit(problem: &Problem) -> Result<Fit, Error> {
    let t0 = std::time::Instant::now();
    let evals = AtomicUsize::new(0);
    let start = problem.start();
    let before = problem
        .values_at(&start)
        .map_err(|e| opt_err(format!("the scenario at the start of the fit: {e}")))?;
    evals.fetch_add(1, Ordering::Relaxed);
    let chi2_before = problem.chi2(&before);
    let (z, converged, termination) =
        minimise(problem, from_box(problem, &start), chi2_before, &evals)?;
    let best_x: Vec<f64> = to_box(problem, &z).into_iter().map(significant).collect();
    let after = problem
        .values_at(&best_x)
        .map_err(|e| opt_err(format!("the scenario at the fitted values: {e}")))?;
    evals.fetch_add(1, Ordering::Relaxed);
    let chi2 = problem.chi2(&after);
    let n = problem.targets.len();
    let rmse = (problem
        .targets
        .iter()
        .zip(&after)
        .map(|(t, m)| (m - t.value).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    Ok(Fit {
        start,
        best: best_x,
        before,
        after,
        chi2_before,
        chi2,
        dof: n as i64 - problem.varied.len() as i64,
        rmse,
        evaluations: evals.load(Ordering::Relaxed),
        converged,
        termination,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Nelder–Mead from `z` (in the logistic transform of the box, chi-square `best` there), restarted
/// from its best point until a restart no longer improves (at most 4 runs); every evaluation counted
/// in `evals`. The best point, whether the last run converged, and what stopped it.
fn minimise(
    problem: &Problem,
    mut z: Vec<f64>,
    mut best: f64,
    evals: &AtomicUsize,
) -> Result<(Vec<f64>, bool, String), Error> {
    use argmin::core::{Executor, State, TerminationReason, TerminationStatus};
    use argmin::solver::neldermead::NelderMead;
    let mut converged = false;
    let mut termination = String::new();
    for restart in 0..4 {
        let step = if restart == 0 { 1.0 } else { 0.5 };
        let mut simplex = vec![z.clone()];
        for i in 0..z.len() {
            let mut v = z.clone();
            // Step towards the middle of the box (z = 0), so a start near an end moves inwards.
            v[i] += if z[i] > 0.0 { -step } else { step };
            simplex.push(v);
        }
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(1e-10)
            .map_err(|e| opt_err(format!("the optimiser: {e}")))?;
        let obj = Objective { problem, evals };
        let res = Executor::new(obj, solver)
            .configure(|s| s.max_iters(1000))
            .run()
            .map_err(|e| opt_err(format!("the optimiser: {e}")))?;
        let state = res.state();
        let cost = state.get_best_cost();
        let improved = cost < best - 1e-9 * (1.0 + best.abs());
        if let Some(p) = state.get_best_param()
            && cost <= best
        {
            z = p.clone();
            best = cost;
        }
        let status = state.get_termination_status();
        converged = matches!(
            status,
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        );
        termination = status.to_string();
        if !improved && restart > 0 {
            break;
        }
    }
    Ok((z, converged, termination))
}

/// A posterior sample (sampling-importance resampling).
#[derive(Debug, Clone, Serialize)]
pub struct Posterior {
    /// The resampled draws: one value per varied number.
    pub draws: Vec<Vec<f64>>,
    /// Chi-square of each resampled draw.
    pub chi2: Vec<f64>,
    /// Index of each resampled draw among the proposals.
    pub proposal_index: Vec<usize>,
    /// Proposals evaluated.
    pub proposals: usize,
    /// The box the proposals were drawn from (within the prior's box).
    pub proposal_box: Vec<(f64, f64)>,
    /// Effective sample size of the importance weights.
    pub ess: f64,
    /// Posterior mean per varied number.
    pub mean: Vec<f64>,
    /// Posterior standard deviation per varied number.
    pub sd: Vec<f64>,
    /// Seed of the draws.
    pub seed: u64,
}

/// The diagonal of `a^-1` for a symmetric positive definite `a` (Cholesky); `None` when it is not.
fn inverse_diag_spd(a: &[Vec<f64>]) -> Option<Vec<f64>> {
    let k = a.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|m| l[i][m] * l[j][m]).sum::<f64>();
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // Diagonal of a^-1: columns of L^-T L^-1.
    let mut diag = vec![0.0; k];
    for (c, d) in diag.iter_mut().enumerate() {
        // Solve L y = e_c and L^T x = y: x is column c of a^-1.
        let mut y = vec![0.0; k];
        for i in 0..k {
            let e = if i == c { 1.0 } else { 0.0 };
            y[i] = (e - (0..i).map(|m| l[i][m] * y[m]).sum::<f64>()) / l[i][i];
        }
        let mut x = vec![0.0; k];
        for i in (0..k).rev() {
            x[i] = (y[i] - (i + 1..k).map(|m| l[m][i] * x[m]).sum::<f64>()) / l[i][i];
        }
        *d = x[c];
    }
    Some(diag)
}

/// Draws a posterior sample of `n` by sampling-importance resampling: a uniform prior on the box and a
/// Gaussian likelihood `exp(-chi2 / 2)` with the targets' standard errors. Proposals (10 n, at least
/// 1,000) are uniform on the box narrowed to 6 standard deviations of the Laplace approximation at the
/// fit (a finite-difference Hessian of chi-square; the whole box where that is not positive definite),
/// so that a sharp posterior still gets many proposals; outside it the likelihood is negligible. The
/// proposals' weights are their likelihoods; `n` draws are resampled systematically. Reproducible from
/// `seed` and the same for any number of threads.
pub fn posterior(problem: &Problem, fit: &Fit, n: usize, seed: u64) -> Result<Posterior, Error> {
    let k = problem.varied.len();
    let proposal_box = proposal_box(problem, &fit.best);
    let m = (10 * n).max(1000);
    let root = Key::root(seed).purpose(Purpose::Calibration);
    let proposals: Vec<Vec<f64>> = (0..m)
        .map(|i| {
            let mut s = root.child(i as u64).stream();
            proposal_box
                .iter()
                .map(|&(lo, hi)| lo + (hi - lo) * s.uniform())
                .collect()
        })
        .collect();
    let chi2: Vec<f64> = proposals
        .par_iter()
        .map(|x| chi2_or_refused(problem, x))
        .collect();
    let min = chi2.iter().copied().fold(f64::INFINITY, f64::min);
    let w: Vec<f64> = chi2.iter().map(|c| (-(c - min) / 2.0).exp()).collect();
    let sw: f64 = w.iter().sum();
    let ess = sw * sw / w.iter().map(|x| x * x).sum::<f64>();
    let picked = resampled(&w, n, root.child(u64::MAX).stream().uniform());
    let draws: Vec<Vec<f64>> = picked.iter().map(|&i| proposals[i].clone()).collect();
    let mean: Vec<f64> = (0..k)
        .map(|i| draws.iter().map(|d| d[i]).sum::<f64>() / n as f64)
        .collect();
    let sd: Vec<f64> = (0..k)
        .map(|i| {
            let v =
                draws.iter().map(|d| (d[i] - mean[i]).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
            v.sqrt()
        })
        .collect();
    Ok(Posterior {
        chi2: picked.iter().map(|&i| chi2[i]).collect(),
        draws,
        proposal_index: picked,
        proposals: m,
        proposal_box,
        ess,
        mean,
        sd,
        seed,
    })
}

/// Chi-square at `x`, or [`REFUSED`] where the scenario refuses it.
fn chi2_or_refused(problem: &Problem, x: &[f64]) -> f64 {
    problem.values_at(x).map_or(REFUSED, |v| problem.chi2(&v))
}

/// The box the posterior's proposals are drawn from: per varied number, 6 standard deviations of the
/// Laplace approximation at `x0` either side of it, within the number's box (the whole box where the
/// approximation fails).
fn proposal_box(problem: &Problem, x0: &[f64]) -> Vec<(f64, f64)> {
    let hess = hessian(problem, x0);
    // Covariance of the Laplace approximation: (H / 2)^-1; its diagonal, the marginal variances.
    let half: Vec<Vec<f64>> = hess
        .iter()
        .map(|r| r.iter().map(|v| v / 2.0).collect())
        .collect();
    let var = inverse_diag_spd(&half);
    problem
        .varied
        .iter()
        .enumerate()
        .map(|(i, w)| match &var {
            Some(v) if v[i].is_finite() && v[i] > 0.0 => {
                let sd = v[i].sqrt();
                let lo = (x0[i] - 6.0 * sd).max(w.vary.low);
                let hi = (x0[i] + 6.0 * sd).min(w.vary.high);
                if hi > lo {
                    (lo, hi)
                } else {
                    (w.vary.low, w.vary.high)
                }
            }
            _ => (w.vary.low, w.vary.high),
        })
        .collect()
}

/// The Hessian of chi-square near `x0` by central differences (steps of 0.1% of each box), stepping
/// inwards at the box's ends.
fn hessian(problem: &Problem, x0: &[f64]) -> Vec<Vec<f64>> {
    let k = problem.varied.len();
    let h: Vec<f64> = problem
        .varied
        .iter()
        .map(|w| 1e-3 * (w.vary.high - w.vary.low))
        .collect();
    let centre: Vec<f64> = problem
        .varied
        .iter()
        .zip(x0)
        .zip(&h)
        .map(|((w, &x), &h)| x.clamp(w.vary.low + 2.0 * h, w.vary.high - 2.0 * h))
        .collect();
    let f0 = chi2_or_refused(problem, &centre);
    let shifted = |d: &[(usize, f64)]| {
        let mut x = centre.clone();
        for &(i, s) in d {
            x[i] += s * h[i];
        }
        chi2_or_refused(problem, &x)
    };
    let mut hess = vec![vec![0.0; k]; k];
    for i in 0..k {
        hess[i][i] = (shifted(&[(i, 1.0)]) - 2.0 * f0 + shifted(&[(i, -1.0)])) / (h[i] * h[i]);
        for j in 0..i {
            let v = (shifted(&[(i, 1.0), (j, 1.0)])
                - shifted(&[(i, 1.0), (j, -1.0)])
                - shifted(&[(i, -1.0), (j, 1.0)])
                + shifted(&[(i, -1.0), (j, -1.0)]))
                / (4.0 * h[i] * h[j]);
            hess[i][j] = v;
            hess[j][i] = v;
        }
    }
    hess
}

/// `n` indices drawn by systematic resampling with weights `w` (not normalised), from the uniform
/// `u0`.
fn resampled(w: &[f64], n: usize, u0: f64) -> Vec<usize> {
    let sw: f64 = w.iter().sum();
    let mut picked = Vec::with_capacity(n);
    let mut cum = 0.0;
    let mut j = 0;
    for (i, wi) in w.iter().enumerate() {
        cum += wi / sw;
        while j < n && (j as f64 + u0) / n as f64 <= cum {
            picked.push(i);
            j += 1;
        }
    }
    while picked.len() < n {
        picked.push(w.len() - 1);
    }
    picked
}

/// A distribution for a varied number with the posterior's mean and sd: a beta when its box lies in
/// 0..1, a gamma when it is non-negative, else a normal truncated to the box.
fn posterior_dist(w: &Vary, mean: f64, sd: f64) -> toml_edit::Value {
    let mut t = toml_edit::InlineTable::new();
    let (m, s) = (significant(mean), significant(sd));
    if w.low >= 0.0 && w.high <= 1.0 && m > 0.0 && m < 1.0 && s * s < m * (1.0 - m) {
        t.insert("dist", "beta".into());
        t.insert("mean", m.into());
        t.insert("sd", s.into());
    } else if w.low >= 0.0 && m > 0.0 {
        t.insert("dist", "gamma".into());
        t.insert("mean", m.into());
        t.insert("sd", s.into());
    } else {
        t.insert("dist", "normal".into());
        t.insert("mean", m.into());
        t.insert("sd", s.into());
        t.insert("min", w.low.into());
        t.insert("max", w.high.into());
    }
    toml_edit::Value::InlineTable(t)
}

/// A fitted value as the calibrated scenario's TOML holds it: 6 significant digits, a decimal point
/// and no thousands separators (file syntax, not a reader's number: not [`crate::output::lang::Lang`]).
fn show(x: f64) -> String {
    format!("{}", significant(x))
}

/// The calibrated scenario text: the original with the fitted values in place (with a posterior: its
/// distributions, where the key can carry one), every comment kept, each changed value marked by a
/// comment line above it. Also returns notes for keys whose posterior could not be written as a
/// distribution.
pub fn calibrated_text(
    problem: &Problem,
    fit: &Fit,
    posterior: Option<&Posterior>,
    targets_name: &str,
) -> Result<(String, Vec<String>), Error> {
    let mut doc = problem.doc.clone();
    let n = problem.targets.len();
    let mut notes = Vec::new();
    let values: Vec<f64> = match posterior {
        Some(p) => p.mean.iter().map(|&m| significant(m)).collect(),
        None => fit.best.clone(),
    };
    problem.set_all(&mut doc, &values).map_err(opt_err)?;
    let carried_rows = match posterior {
        Some(p) => carry_rows(problem, &mut doc, row_concentrations(problem, p))?,
        None => Vec::new(),
    };
    for (i, w) in problem.varied.iter().enumerate() {
        let mut note = format!(
            "calibrated to {targets_name} ({n} {}), was {}",
            if n == 1 { "target" } else { "targets" },
            show(w.current)
        );
        let row_c = w
            .row()
            .and_then(|row| carried_rows.iter().find(|r| r.0 == row).map(|r| r.1));
        if let (Some(p), Some(c)) = (posterior, row_c) {
            note.push_str(&format!(
                "; posterior (SIR, {} draws): mean {}, sd {}, carried by the row's concentration = {} (its other probabilities vary with it); best fit {}",
                p.draws.len(),
                show(p.mean[i]),
                show(p.sd[i]),
                show(c),
                show(fit.best[i])
            ));
        } else if let Some(p) = posterior {
            let carried = carry_distribution(problem, &mut doc, w, p.mean[i], p.sd[i])?;
            note.push_str(&posterior_note(p, i, fit.best[i], w, carried, &mut notes));
        }
        if let Some(stay) = &w.stay {
            note.push_str(&format!(
                "; the stay probability {stay} takes up the change"
            ));
        }
        keypath::annotate(&mut doc, &w.vary.key, &note).map_err(opt_err)?;
    }
    let text = doc.to_string();
    crate::scenario::from_text("calibrated.toml", &text).map_err(Error::Input)?;
    Ok((text, notes))
}

/// A probability in a transition row carries its posterior through the row's Dirichlet: per row with
/// a varied move, the concentration that gives the move its posterior sd (the smallest over the row's
/// varied moves); the row's other probabilities vary with it.
fn row_concentrations(problem: &Problem, p: &Posterior) -> Vec<(KeyPath, f64)> {
    let mut rows: Vec<(KeyPath, f64)> = Vec::new();
    for (i, w) in problem.varied.iter().enumerate() {
        let Some(row) = w.row() else {
            continue;
        };
        let (m, sd) = (p.mean[i], p.sd[i]);
        if !(m > 0.0 && m < 1.0 && sd > 0.0 && sd * sd < m * (1.0 - m)) {
            continue;
        }
        let c = m * (1.0 - m) / (sd * sd) - 1.0;
        match rows.iter_mut().find(|r| r.0 == row) {
            Some(r) => r.1 = r.1.min(c),
            None => rows.push((row, c)),
        }
    }
    rows
}

/// Sets each row's concentration in `doc` (never more certain than the row already was), where the
/// scenario accepts it; the rows carried, with their concentration.
fn carry_rows(
    problem: &Problem,
    doc: &mut DocumentMut,
    rows: Vec<(KeyPath, f64)>,
) -> Result<Vec<(KeyPath, f64)>, Error> {
    let mut carried_rows: Vec<(KeyPath, f64)> = Vec::new();
    for (row, c) in rows {
        let old = keypath::inspect(doc, &row.child("concentration"))
            .ok()
            .and_then(|v| v.1);
        let c = significant(old.map_or(c, |o| o.min(c)).max(1.0));
        let mut trial = doc.clone();
        keypath::set_key(&mut trial, &row, "concentration", toml_edit::Value::from(c))
            .map_err(opt_err)?;
        if crate::scenario::from_text(&problem.scenario.source.path, &trial.to_string()).is_ok() {
            *doc = trial;
            carried_rows.push((row, c));
        }
    }
    Ok(carried_rows)
}

/// Writes the posterior of varied number `w` into `doc` as a distribution with its `mean` and `sd`,
/// where the key can carry one and the scenario accepts it; whether it did.
fn carry_distribution(
    problem: &Problem,
    doc: &mut DocumentMut,
    w: &Varied,
    mean: f64,
    sd: f64,
) -> Result<bool, Error> {
    let dist = posterior_dist(&w.vary, mean, sd);
    let mut trial = doc.clone();
    keypath::set_value(&mut trial, &w.vary.key, dist).map_err(opt_err)?;
    let carried = w.stay.is_none()
        && crate::scenario::from_text(&problem.scenario.source.path, &trial.to_string()).is_ok();
    if carried {
        *doc = trial;
    }
    Ok(carried)
}

/// The note on the posterior of varied number `i` (`w`, fitted at `best`): its distribution when it
/// was `carried`, else its mean, with a note for the user in `notes` on why.
fn posterior_note(
    p: &Posterior,
    i: usize,
    best: f64,
    w: &Varied,
    carried: bool,
    notes: &mut Vec<String>,
) -> String {
    if carried {
        return format!(
            "; posterior (SIR, {} {}): mean {}, sd {}; best fit {}",
            p.draws.len(),
            if p.draws.len() == 1 { "draw" } else { "draws" },
            show(p.mean[i]),
            show(p.sd[i]),
            show(best)
        );
    }
    let why = if w.stay.is_some() {
        "its transition row cannot carry a Dirichlet with this sd"
    } else {
        "this key cannot carry a distribution"
    };
    notes.push(format!(
        "{}: {why}; calibrated.toml holds the posterior mean {} (sd {} in posterior.csv)",
        w.vary.key,
        show(p.mean[i]),
        show(p.sd[i])
    ));
    format!(
        "; posterior mean {} (sd {}; {why}, so the mean is written), best fit {}",
        show(p.mean[i]),
        show(p.sd[i]),
        show(best)
    )
}

/// What `calibrate` reports and writes into `calibration.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// wijksim version.
    pub wijksim_version: String,
    /// The arm fitted.
    pub arm: String,
    /// Targets file as named.
    pub targets_path: String,
    /// SHA-256 of the targets file.
    pub targets_sha256: String,
    /// Number of targets.
    pub targets: usize,
    /// The varied numbers: key, box, start, fitted value.
    pub parameters: Vec<ParamSummary>,
    /// Chi-square at the start.
    pub chi2_before: f64,
    /// Chi-square at the fit.
    pub chi2: f64,
    /// Degrees of freedom.
    pub dof: i64,
    /// Root mean square residual at the fit (counts).
    pub rmse: f64,
    /// Model evaluations of the fit.
    pub evaluations: usize,
    /// Evaluations per second.
    pub evaluations_per_second: f64,
    /// Whether the simplex converged.
    pub converged: bool,
    /// What stopped the optimiser.
    pub termination: String,
    /// The optimiser.
    pub optimiser: String,
    /// The posterior, if drawn: draws, proposals, effective sample size, seed.
    pub posterior: Option<PosteriorSummary>,
}

/// One varied number in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct ParamSummary {
    /// Key path.
    pub key: String,
    /// Box.
    pub low: f64,
    /// Box.
    pub high: f64,
    /// The scenario's value.
    pub was: f64,
    /// The start of the fit.
    pub start: f64,
    /// The fitted value.
    pub fitted: f64,
    /// Posterior mean, if drawn.
    pub posterior_mean: Option<f64>,
    /// Posterior sd, if drawn.
    pub posterior_sd: Option<f64>,
}

/// The posterior in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct PosteriorSummary {
    /// Resampled draws.
    pub draws: usize,
    /// Proposals evaluated.
    pub proposals: usize,
    /// Effective sample size of the importance weights.
    pub ess: f64,
    /// Seed.
    pub seed: u64,
}

/// How a calibration is run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The arm to fit (default: the first, the baseline).
    pub arm: Option<String>,
    /// Posterior sample size, if any.
    pub posterior: Option<usize>,
    /// Seed of the posterior draws (default: the scenario's).
    pub seed: Option<u64>,
}

/// A finished calibration.
#[derive(Debug)]
pub struct Calibration {
    /// The problem.
    pub problem: Problem,
    /// The fit.
    pub fit: Fit,
    /// The posterior, if drawn.
    pub posterior: Option<Posterior>,
    /// The summary (also `calibration.json`).
    pub summary: Summary,
    /// The calibrated scenario text.
    pub calibrated: String,
    /// Notes (e.g. keys whose posterior is written as a mean).
    pub notes: Vec<String>,
}

/// The size of the posterior sample, if asked for, is within its limits.
fn check_posterior(posterior: Option<usize>) -> Result<(), Error> {
    match posterior {
        Some(n) if !(1..=MAX_POSTERIOR).contains(&n) => Err(opt_err(Fault::new(
            says!(
                Opt::Posterior,
                format!(" {n}: the sample size is from 1 to {MAX_POSTERIOR}")
            ),
            says!("e.g. ", Opt::Posterior, " 500"),
        ))),
        _ => Ok(()),
    }
}

/// Reads the targets at `targets_path`, fits, optionally draws the posterior, and makes the calibrated
/// scenario. Nothing is written.
pub fn calibrate(
    scenario: Scenario,
    targets_path: &Path,
    varies: Vec<Vary>,
    opts: &Options,
) -> Result<Calibration, Error> {
    let tfile = targets_path.display().to_string();
    let bytes = std::fs::read(targets_path).map_err(|e| {
        Error::Input(terr(
            &tfile,
            None,
            "",
            format!("cannot read the targets file: {e}"),
            "check the path; an example is scenarios/targets_example.csv",
        ))
    })?;
    let targets = read_targets(&tfile, &bytes, &scenario.model)?;
    check_posterior(opts.posterior)?;
    let seed = opts.seed.unwrap_or(scenario.model.seed);
    let problem = Problem::new(scenario, varies, opts.arm.as_deref(), targets)?;
    let fit = fit(&problem)?;
    let post = match opts.posterior {
        Some(n) => Some(posterior(&problem, &fit, n, seed)?),
        None => None,
    };
    let name = targets_path
        .file_name()
        .map_or(tfile.clone(), |n| n.to_string_lossy().into_owned());
    let (calibrated, mut notes) = calibrated_text(&problem, &fit, post.as_ref(), &name)?;
    notes.extend(warnings(&problem, &fit, post.as_ref()));
    let summary = summary(&problem, &fit, post.as_ref(), tfile, &bytes);
    Ok(Calibration {
        problem,
        fit,
        posterior: post,
        summary,
        calibrated,
        notes,
    })
}

/// What the user should know about how far to trust a calibration: a coarse posterior, an optimiser
/// that did not converge, feedback the expected-value engine leaves out.
fn warnings(problem: &Problem, fit: &Fit, post: Option<&Posterior>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(p) = post
        && p.ess < (p.draws.len() as f64).min(100.0)
    {
        notes.push(format!(
            "the posterior rests on an effective sample of {:.0} proposals: it is coarse; a larger posterior sample draws more",
            p.ess
        ));
    }
    if !fit.converged {
        notes.push(format!(
            "the optimiser did not converge ({}); the values are the best it found",
            fit.termination
        ));
    }
    let fb = crate::engine::cohort::feedback_regimes(&problem.scenario.model, problem.arm);
    if !fb.is_empty() {
        notes.push(format!(
            "the expected-value engine ignores {} in this arm: the fit approximates",
            fb.join(", ")
        ));
    }
    notes
}

/// The summary of a calibration to the targets file `tfile` (its contents `bytes`).
fn summary(
    problem: &Problem,
    fit: &Fit,
    post: Option<&Posterior>,
    tfile: String,
    bytes: &[u8],
) -> Summary {
    Summary {
        wijksim_version: crate::VERSION.to_string(),
        arm: problem.scenario.model.arms[problem.arm].name.clone(),
        targets_path: tfile,
        targets_sha256: crate::scenario::sha256_hex(bytes),
        targets: problem.targets.len(),
        parameters: problem
            .varied
            .iter()
            .enumerate()
            .map(|(i, w)| ParamSummary {
                key: w.vary.key.to_string(),
                low: w.vary.low,
                high: w.vary.high,
                was: w.current,
                start: fit.start[i],
                fitted: fit.best[i],
                posterior_mean: post.map(|p| p.mean[i]),
                posterior_sd: post.map(|p| p.sd[i]),
            })
            .collect(),
        chi2_before: fit.chi2_before,
        chi2: fit.chi2,
        dof: fit.dof,
        rmse: fit.rmse,
        evaluations: fit.evaluations,
        evaluations_per_second: fit.evaluations_per_second(),
        converged: fit.converged,
        termination: fit.termination.clone(),
        optimiser: "Nelder-Mead simplex (argmin) on a logistic transform of the box, restarted from its best point".into(),
        posterior: post.map(|p| PosteriorSummary {
            draws: p.draws.len(),
            proposals: p.proposals,
            ess: p.ess,
            seed: p.seed,
        }),
    }
}

/// The manifest of a calibration folder.
#[derive(Debug, Serialize)]
struct Manifest<'a> {
    #[serde(flatten)]
    provenance: crate::output::manifest::Provenance,
    command: &'a str,
    targets_path: &'a str,
    targets_sha256: &'a str,
    fit: &'a Summary,
    files: Vec<String>,
    warnings: &'a [String],
}

/// A number of `calibration.csv`: as [`show`], empty when not finite (the CSV rule of every table).
fn csv_num(x: f64) -> String {
    if x.is_finite() {
        format!("{}", significant(x))
    } else {
        String::new()
    }
}

/// Writes the calibration folder `out` (staged, atomic; `force` replaces an earlier wijksim folder
/// only): `calibrated.toml`, `calibration.csv`, `calibration.json`, `posterior.csv` (with a
/// posterior), `plots/calibration.png` and `.svg`, `manifest.json`.
pub fn write(
    c: &Calibration,
    out: &Path,
    force: bool,
    reproduce: &str,
    started: std::time::SystemTime,
    lang: crate::output::lang::Lang,
) -> Result<std::path::PathBuf, Error> {
    let mut st = Staged::create(out, force)?;
    st.write("calibrated.toml", c.calibrated.as_bytes())?;
    st.write("calibration.csv", targets_csv(c).as_bytes())?;
    if let Some(p) = &c.posterior {
        st.write("posterior.csv", posterior_csv(&c.problem, p).as_bytes())?;
    }
    let mut json = serde_json::to_vec_pretty(&c.summary).expect("the summary serialises");
    json.push(b'\n');
    st.write("calibration.json", &json)?;
    write_figure(&mut st, c, out, lang)?;
    let mut files = st.files().to_vec();
    files.push("manifest.json".into());
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let mut provenance = c
        .problem
        .scenario
        .provenance(crate::output::manifest::utc(secs(started)), reproduce);
    provenance.set_wall_time(started.elapsed().map_or(0.0, |d| d.as_secs_f64()));
    let m = Manifest {
        provenance,
        command: "calibrate",
        targets_path: &c.summary.targets_path,
        targets_sha256: &c.summary.targets_sha256,
        fit: &c.summary,
        files,
        warnings: &c.notes,
    };
    st.write("manifest.json", &crate::output::manifest::to_json(&m))?;
    st.commit()
}

/// A CSV field, quoted where it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `calibration.csv`: per target its value and the model's before and after the fit, the residual
/// and its z-score.
fn targets_csv(c: &Calibration) -> String {
    let model = &c.problem.scenario.model;
    let mut csv = String::from(
        "line,period,scope,scope_name,state,measure,value,se,model_before,model_after,residual,z\n",
    );
    for (i, t) in c.problem.targets.iter().enumerate() {
        let sc = &model.scopes[t.scope];
        let r = c.fit.after[i] - t.value;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{:.3},{:.3},{:.3},{:.3}\n",
            t.line,
            csv_field(&t.period),
            sc.kind.name(),
            csv_field(&sc.name),
            csv_field(&model.states[t.state].code),
            t.measure.name(),
            csv_num(t.value),
            csv_num(t.se),
            c.fit.before[i],
            c.fit.after[i],
            r,
            r / t.se
        ));
    }
    csv
}

/// `posterior.csv`: per draw its proposal, its values and its chi-square.
fn posterior_csv(problem: &Problem, p: &Posterior) -> String {
    let mut s = String::from("draw,proposal");
    for w in &problem.varied {
        s.push(',');
        s.push_str(&csv_field(&w.vary.key.to_string()));
    }
    s.push_str(",chi2\n");
    for (j, d) in p.draws.iter().enumerate() {
        s.push_str(&format!("{j},{}", p.proposal_index[j]));
        for x in d {
            s.push_str(&format!(",{x:.10}"));
        }
        s.push_str(&format!(",{:.6}\n", p.chi2[j]));
    }
    s
}

/// `plots/calibration.svg` and `.png`: the targets against the model before and after the fit.
fn write_figure(
    st: &mut Staged,
    c: &Calibration,
    out: &Path,
    lang: crate::output::lang::Lang,
) -> Result<(), Error> {
    let n = c.problem.targets.len();
    let fig = crate::output::plot::CalibrationFigure {
        title: format!(
            "{}: {n} {}, chi² {} → {}",
            c.problem.scenario.model.name,
            if n == 1 {
                lang.t("doel", "target")
            } else {
                lang.t("doelen", "targets")
            },
            lang.number(c.fit.chi2_before, 1),
            lang.number(c.fit.chi2, 1)
        ),
        lang,
        values: c.problem.targets.iter().map(|t| t.value).collect(),
        se: c.problem.targets.iter().map(|t| t.se).collect(),
        before: c.fit.before.clone(),
        after: c.fit.after.clone(),
    };
    let failed = |file: &str, e: String| Error::Write {
        path: out.join(file).display().to_string(),
        source: std::io::Error::other(e),
    };
    let svg = crate::output::plot::svg(&fig).map_err(|e| failed("plots/calibration.svg", e))?;
    st.write("plots/calibration.svg", svg.as_bytes())?;
    let png =
        crate::output::plot::png_bytes(&fig).map_err(|e| failed("plots/calibration.png", e))?;
    st.write("plots/calibration.png", &png)
}
