//! `wijksim fit`: a municipality's own episodes (per pseudonymous client the state, start and end)
//! turned into a scenario. From a template scenario (states, areas, costs, pilots) it estimates:
//!
//! - every transition row of the template, as Dirichlet counts (`counts = true`): per row the draws
//!   observed in its states, times in state and months, so that PSA carries the estimation
//!   uncertainty. Only months observed count: an episode still open at the end adds its months at
//!   risk but no move (right censoring), and an episode begun before the start adds only the months
//!   from the start (left truncation);
//! - the starting caseload per area and the time its clients had spent in their state (band weights);
//! - the inflow per area and calendar year, and the entry mix.
//!
//! The fitted scenario keeps the template's text and comments; each fitted value is marked with its
//! source file and the number of episodes or months it rests on.

pub mod episodes;
pub mod estimate;
pub mod report;

use crate::error::{Error, InputError, InputErrors, Result};
use crate::model::Model;
use crate::model::YearMonth;
use episodes::{Episodes, ReadOptions};
use estimate::Estimates;
use toml_edit::{DocumentMut, InlineTable, Item, Value};

/// What `fit` made.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The fitted scenario's text.
    pub text: String,
    /// The estimates.
    pub estimates: Estimates,
    /// The episodes read.
    pub episodes: Episodes,
}

fn options_error(file: &str, problem: String, fix: &str) -> Error {
    Error::Input(InputErrors::from(InputError::new(
        file, None, "", problem, fix,
    )))
}

/// How the fit splits the template's transition rows by calendar period (`--periods`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Periods {
    /// The template's own rows and periods.
    #[default]
    Template,
    /// A new period begins in each of these months: every row is split there (within its own
    /// period), so each part is fitted to its own months. The last part stays open-ended and so
    /// carries the forecast.
    Starts(Vec<YearMonth>),
    /// A new period each January after the model's start, up to the last month observed.
    Yearly,
}

impl Periods {
    /// Reads `--periods`: `year`, or the months new periods begin, `2023-01,2024-07`.
    pub fn parse(s: &str) -> std::result::Result<Periods, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("year") || s.eq_ignore_ascii_case("jaar") {
            return Ok(Periods::Yearly);
        }
        let mut starts = Vec::new();
        for part in s.split(',') {
            let m = YearMonth::parse(part).ok_or_else(|| {
                format!("`{}` is not a month: write `year` or the months new periods begin, as YYYY-MM,YYYY-MM (e.g. 2023-01,2024-07)", part.trim())
            })?;
            starts.push(m);
        }
        starts.sort_by_key(|m| m.index());
        starts.dedup();
        Ok(Periods::Starts(starts))
    }

    /// The first months of the new periods, as month indices, checked against the model's start and
    /// the last month observed.
    fn boundaries(&self, file: &str, model: &Model, until: i64) -> Result<Vec<i64>> {
        let first = model.start.index();
        match self {
            Periods::Template => Ok(Vec::new()),
            Periods::Yearly => Ok((first + 1..=until)
                .filter(|m| m.rem_euclid(12) == 0)
                .collect()),
            Periods::Starts(starts) => {
                for m in starts {
                    if m.index() <= first || m.index() > until {
                        return Err(options_error(
                            file,
                            format!(
                                "a new period beginning {m} lies outside the months fitted ({} to {}): its rows would rest on no observation",
                                YearMonth::from_index(first + 1),
                                YearMonth::from_index(until)
                            ),
                            "give months after the template's start ([time] start) and within the episodes",
                        ));
                    }
                }
                Ok(starts.iter().map(|m| m.index()).collect())
            }
        }
    }
}

/// Splits every `[[transition]]` of `doc` at the months `boundaries` (each the first month of a new
/// period), within the row's own period; the parts follow each other in place, the first keeping the
/// row's comments.
fn split_rows(doc: &mut DocumentMut, boundaries: &[i64]) {
    if boundaries.is_empty() {
        return;
    }
    let Some(tables) = doc
        .get_mut("transition")
        .and_then(|t| t.as_array_of_tables_mut())
    else {
        return;
    };
    let mut segments = Vec::with_capacity(boundaries.len() + 1);
    let mut lo = i64::MIN;
    for &b in boundaries {
        segments.push((lo, b - 1));
        lo = b;
    }
    segments.push((lo, i64::MAX));
    let old: Vec<toml_edit::Table> = tables.iter().cloned().collect();
    tables.clear();
    for t in old {
        let own = match t.get("period").and_then(|v| v.as_str()) {
            Some(p) => estimate::parse_months(p),
            None => Some((i64::MIN, i64::MAX)),
        };
        let Some(own) = own else {
            // Not a period the fit can read: the compiler has refused it already; keep the row.
            tables.push(t);
            continue;
        };
        let mut first = true;
        for &(a, b) in &segments {
            let part = (a.max(own.0), b.min(own.1));
            if part.0 > part.1 {
                continue;
            }
            let mut p = t.clone();
            if part != (i64::MIN, i64::MAX) {
                set(&mut p, "period", Value::from(estimate::format_months(part)));
            }
            if !first {
                p.decor_mut().set_prefix("\n");
            }
            first = false;
            tables.push(p);
        }
    }
}

/// Fits the template (`template_text`, named `template_file`, compiled to `model`) to the episodes in
/// `episodes_text` (named `episodes_file`).
pub fn fit(
    template_file: &str,
    template_text: &str,
    model: &Model,
    episodes_file: &str,
    episodes_text: &str,
    opts: &ReadOptions,
    periods: &Periods,
) -> Result<Fitted> {
    if model.cycle_months != 1 {
        return Err(options_error(
            template_file,
            format!(
                "the template has cycles of {} months; wijksim fit estimates monthly rows",
                model.cycle_months
            ),
            "use a template with cycle_months = 1",
        ));
    }
    let episodes = episodes::read(episodes_file, episodes_text, model, opts)?;
    if episodes.until < model.start.index() {
        return Err(options_error(
            episodes_file,
            format!(
                "the episodes end before the template starts ({})",
                model.start
            ),
            "give the template a start date within the episodes' period ([time] start)",
        ));
    }
    let mut doc: DocumentMut = template_text.parse().map_err(|e: toml_edit::TomlError| {
        options_error(
            template_file,
            e.to_string(),
            "fix the template first (wijksim check)",
        )
    })?;
    split_rows(
        &mut doc,
        &periods.boundaries(template_file, model, episodes.until)?,
    );
    let specs = estimate::row_specs(&doc, model);
    let limits: Vec<Option<u32>> = model
        .states
        .iter()
        .map(|st| max_cycles(&doc, &st.code))
        .collect();
    let estimates = estimate::estimate(model, &specs, &episodes, &limits);
    write(&mut doc, model, &estimates, &episodes);
    Ok(Fitted {
        text: doc.to_string(),
        estimates,
        episodes,
    })
}

/// A whole number with thousands separators, in English as the fitted scenario's comments are.
fn int(x: f64) -> String {
    crate::output::lang::Lang::En.int(x)
}

/// Sets `key` of `table` to `value`, keeping the comments before an existing key.
fn set(table: &mut toml_edit::Table, key: &str, value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => *old = value,
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// `1 client`, `2,345 clients`.
fn clients(k: u64) -> String {
    count(k, "client", "clients")
}

/// `1 move`, `0 moves`, `2,345 moves`.
fn count(k: u64, one: &str, many: &str) -> String {
    if k == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", int(k as f64))
    }
}

/// Appends a comment line to an item's prefix (before its header or key).
fn note_before(prefix: Option<&str>, note: &str) -> String {
    let p = prefix.unwrap_or("");
    format!("{p}# {note}\n")
}

/// Writes the estimates into the template document.
fn write(doc: &mut DocumentMut, model: &Model, est: &Estimates, ep: &Episodes) {
    let src = std::path::Path::new(&ep.file)
        .file_name()
        .map_or(ep.file.clone(), |f| f.to_string_lossy().into_owned());
    let (first, last) = est.window;
    let month = |i: i64| {
        crate::model::YearMonth { year: 0, month: 1 }
            .plus(i)
            .to_string()
    };
    let period = format!("{} to {}", month(first), month(last));
    let header = format!(
        "Fitted by wijksim fit from {src}: {} {} of {}{}, observed {period}.\n# Rows are counts of observed moves per client-month at risk (counts = true: PSA draws them from their Dirichlet).\n",
        int(ep.list.len() as f64),
        if ep.list.len() == 1 {
            "episode"
        } else {
            "episodes"
        },
        clients(ep.clients as u64),
        if ep.populations > 1 {
            format!(" in {} populations (runs)", ep.populations)
        } else {
            String::new()
        }
    );
    let decor = doc.decor_mut();
    let old = decor
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    decor.set_prefix(format!("# {header}{old}"));
    write_rows(doc, model, est, &src);
    write_areas(doc, model, est, &src);
    write_time_in_state(doc, model, est, &src);
    write_entry(doc, model, est, &src);
}

fn write_rows(doc: &mut DocumentMut, model: &Model, est: &Estimates, src: &str) {
    let Some(tables) = doc
        .get_mut("transition")
        .and_then(|t| t.as_array_of_tables_mut())
    else {
        return;
    };
    for row in &est.rows {
        let Some(t) = tables.get_mut(row.spec.index) else {
            continue;
        };
        let prefix = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_string);
        if row.at_risk == 0 {
            t.decor_mut().set_prefix(note_before(
                prefix.as_deref(),
                &format!("not fitted: {src} has no client-month at risk for this row (the template's row is kept)"),
            ));
            continue;
        }
        // Moves the template allows but the data never shows: left out (a count of 0 is no
        // Dirichlet parameter), so the fitted row makes them impossible; the note says so.
        let unseen: Vec<String> = t
            .get("to")
            .and_then(|v| v.as_inline_table())
            .map(|old| {
                old.iter()
                    .map(|(k, _)| k)
                    .filter(|&k| match model.state_index(k) {
                        Some(s) => row.to[s] == 0,
                        None => k == "renew" && row.renew == 0,
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut to = InlineTable::new();
        for (s, &k) in row.to.iter().enumerate() {
            if k > 0 {
                to.insert(&model.states[s].code, Value::from(k as i64));
            }
        }
        if row.renew > 0 {
            to.insert("renew", Value::from(row.renew as i64));
        }
        set(t, "to", Value::InlineTable(to));
        t.remove("concentration");
        t.insert("counts", toml_edit::value(true));
        let mut note = format!(
            "fitted: {src}, {} at risk, {} out, {}",
            count(row.at_risk, "client-month", "client-months"),
            count(row.moves() - row.renew, "move", "moves"),
            count(row.renew, "renewal", "renewals"),
        );
        if !unseen.is_empty() {
            note += &format!(
                "; never seen, so left out: {} (the template allowed {})",
                unseen.join(", "),
                if unseen.len() == 1 { "it" } else { "them" }
            );
        }
        t.decor_mut()
            .set_prefix(note_before(prefix.as_deref(), &note));
    }
}

fn write_areas(doc: &mut DocumentMut, model: &Model, est: &Estimates, src: &str) {
    let Some(tables) = doc.get_mut("area").and_then(|t| t.as_array_of_tables_mut()) else {
        return;
    };
    for (a, t) in tables.iter_mut().enumerate().take(model.areas.len()) {
        let mut caseload = InlineTable::new();
        for (s, &k) in est.caseload[a].iter().enumerate() {
            if k > 0 {
                caseload.insert(&model.states[s].code, Value::from(i64::from(k)));
            }
        }
        let mut v = Value::InlineTable(caseload);
        v.decor_mut().set_suffix(format!(
            "    # fitted: {src}, clients in their state in {} (begun before it)",
            model.start
        ));
        set(t, "caseload", v);
        let years = &est.inflow[a];
        if years.is_empty() {
            continue;
        }
        let inhabitants = model.areas[a].inhabitants as f64;
        let mut by_year = InlineTable::new();
        let mut counts = Vec::new();
        for &(y, k, months) in years {
            if months == 0 || inhabitants <= 0.0 {
                continue;
            }
            let rate = k / inhabitants * 1000.0 * 12.0 / f64::from(months);
            by_year.insert(y.to_string(), Value::from((rate * 1e4).round() / 1e4));
            counts.push(format!("{y}: {} in {months} months", int(k)));
        }
        t.remove("inflow_per_1000_per_year");
        let mut v = Value::InlineTable(by_year);
        v.decor_mut().set_suffix(format!(
            "    # fitted: {src}, new clients {}",
            counts.join(", ")
        ));
        set(t, "inflow_per_1000_by_year", v);
    }
}

/// The band weights of `hist` as an inline table with a note of the clients they rest on; `None`
/// without clients.
fn band_table(hist: &[u64], max: Option<u32>, src: &str) -> Option<Value> {
    let bands = estimate::time_bands(hist, max);
    if bands.is_empty() {
        return None;
    }
    let mut t = InlineTable::new();
    for &(lo, hi, k) in &bands {
        let key = if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        };
        t.insert(&key, Value::from(k as i64));
    }
    let total: u64 = bands.iter().map(|b| b.2).sum();
    let mut v = Value::InlineTable(t);
    v.decor_mut()
        .set_suffix(format!("    # fitted: {src}, {}", clients(total)));
    Some(v)
}

/// The time the starting clients had spent in their state: per state over all areas in
/// `[initial_time_in_state]` (the fallback), and with several areas per area and state as
/// `initial_time_in_state.<state>` in its `[[area]]`.
fn write_time_in_state(doc: &mut DocumentMut, model: &Model, est: &Estimates, src: &str) {
    let n = model.n_states();
    let limits: Vec<Option<u32>> = (0..n)
        .map(|s| max_cycles(doc, &model.states[s].code))
        .collect();
    let mut table = toml_edit::Table::new();
    for (s, &limit) in limits.iter().enumerate() {
        if let Some(v) = band_table(&est.time_in_state_pooled(s), limit, src) {
            table.insert(&model.states[s].code, Item::Value(v));
        }
    }
    if table.is_empty() {
        return;
    }
    let prefix = doc
        .get("initial_time_in_state")
        .and_then(|t| t.as_table())
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_string);
    let note = if model.areas.len() > 1 {
        "months already spent in the state by the clients at the start (band weights), over all areas (each [[area]] has its own)"
    } else {
        "months already spent in the state by the clients at the start (band weights)"
    };
    table.decor_mut().set_prefix(note_before(
        prefix.as_deref(),
        &format!("fitted: {src}, {note}"),
    ));
    if let Some(areas) = doc.get_mut("area").and_then(|t| t.as_array_of_tables_mut()) {
        for (a, t) in areas.iter_mut().enumerate().take(model.areas.len()) {
            t.remove("initial_time_in_state");
            if model.areas.len() < 2 {
                continue;
            }
            let mut own = toml_edit::Table::new();
            own.set_dotted(true);
            for (s, &limit) in limits.iter().enumerate() {
                if let Some(v) = band_table(&est.time_in_state[a][s], limit, src) {
                    own.insert(&model.states[s].code, Item::Value(v));
                }
            }
            if !own.is_empty() {
                t.insert("initial_time_in_state", Item::Table(own));
            }
        }
    }
    match doc
        .get_mut("initial_time_in_state")
        .and_then(|t| t.as_table_mut())
    {
        Some(old) => {
            for (k, v) in table.iter() {
                if let Some(v) = v.as_value() {
                    set(old, k, v.clone());
                }
            }
            *old.decor_mut() = table.decor().clone();
        }
        None => {
            doc.insert("initial_time_in_state", Item::Table(table));
        }
    }
}

/// A state's `max_cycles` in the template (the longest indication).
fn max_cycles(doc: &DocumentMut, code: &str) -> Option<u32> {
    doc.get("state")?
        .as_array_of_tables()?
        .iter()
        .find(|t| t.get("code").and_then(|c| c.as_str()) == Some(code))?
        .get("max_cycles")?
        .as_integer()
        .and_then(|v| u32::try_from(v).ok())
}

fn write_entry(doc: &mut DocumentMut, model: &Model, est: &Estimates, src: &str) {
    let total: u64 = est.entry.iter().sum();
    if total == 0 {
        return;
    }
    let Some(inflow) = doc.get_mut("inflow").and_then(|t| t.as_table_mut()) else {
        return;
    };
    // Shares to 6 decimals, the largest absorbing the rounding, so that they sum to exactly 1.
    let mut shares: Vec<(usize, f64)> = est
        .entry
        .iter()
        .enumerate()
        .filter(|(_, k)| **k > 0)
        .map(|(s, &k)| (s, (k as f64 / total as f64 * 1e6).round() / 1e6))
        .collect();
    let sum: f64 = shares.iter().map(|x| x.1).sum();
    if let Some(big) = shares.iter_mut().max_by(|a, b| a.1.total_cmp(&b.1)) {
        big.1 = ((big.1 + 1.0 - sum) * 1e6).round() / 1e6;
    }
    let mut t = InlineTable::new();
    for (s, p) in shares {
        t.insert(&model.states[s].code, Value::from(p));
    }
    let mut v = Value::InlineTable(t);
    v.decor_mut()
        .set_suffix(format!("    # fitted: {src}, {} (new)", clients(total)));
    set(inflow, "entry", v);
}
