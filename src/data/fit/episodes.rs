//! Reading an episodes file: one row per client per uninterrupted stay in one state (the format of
//! `histories.csv`), checked row by row. Every problem names the file, line and column, and the fix;
//! no client identifier is ever repeated in a message.

use crate::error::{InputErrors, Opt, Problems, says};
use crate::model::{Model, YearMonth};
use std::collections::{HashMap, HashSet};

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still open at the end of the observation.
    Censored,
    /// Moved on to this state (the same state: a renewal).
    To(usize),
}

/// One episode, dates as month indices ([`YearMonth::index`]).
#[derive(Debug, Clone)]
pub struct Episode {
    /// The client (an index; the file's identifiers are not kept).
    pub client: usize,
    /// Area index in the model.
    pub area: usize,
    /// State index.
    pub state: usize,
    /// First month in the state.
    pub start: i64,
    /// Last month in the state (inclusive); for a censored episode the last month observed.
    pub end: i64,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether it follows directly on another episode of the same client (else the client is new).
    pub follows: bool,
    /// Its line in the file.
    pub line: usize,
}

/// The episodes of a file, sorted by client and start.
#[derive(Debug, Clone)]
pub struct Episodes {
    /// The file, as the user named it.
    pub file: String,
    /// Episodes.
    pub list: Vec<Episode>,
    /// Distinct clients.
    pub clients: usize,
    /// Independent populations in the file (the `run` column of wijksim's histories; 1 otherwise):
    /// stocks and rates are per population.
    pub populations: usize,
    /// The last month observed (`--observed-until`, or the latest date in the file).
    pub until: i64,
}

/// Options for reading.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The arm whose rows are read, when the file has an `arm` column (default: the first arm in it).
    pub arm: Option<String>,
    /// The last month observed; default the latest date in the file.
    pub until: Option<YearMonth>,
}

const REQUIRED: [&str; 4] = ["client", "state", "start", "end"];
const OPTIONAL: [&str; 5] = ["area", "end_reason", "next_state", "arm", "run"];
/// At most this many problems are listed.
const MAX_PROBLEMS: usize = 20;

/// The key of a problem in `name`'s column (none for a problem of a whole row).
fn in_column(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!("column {name}")
    }
}

/// Whether a 9-digit string passes the Dutch citizen service number's 11-test.
pub fn passes_eleven_test(s: &str) -> bool {
    let d: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 9 || s.len() != 9 {
        return false;
    }
    let sum: i64 = (0..8)
        .map(|i| i64::from(d[i]) * (9 - i as i64))
        .sum::<i64>()
        - i64::from(d[8]);
    sum != 0 && sum % 11 == 0
}

/// A date `YYYY-MM-DD` or `YYYY-MM` as a month index.
fn month_of(s: &str) -> Option<i64> {
    let s = s.trim();
    let ym = match s.len() {
        7 => s,
        10 => {
            let day: u32 = s.get(8..)?.parse().ok()?;
            if s.as_bytes()[7] != b'-' || !(1..=31).contains(&day) {
                return None;
            }
            &s[..7]
        }
        _ => return None,
    };
    YearMonth::parse(ym).map(YearMonth::index)
}

const DATE_FIX: &str = "write dates as YYYY-MM-DD (e.g. 2021-03-01) or YYYY-MM";

/// Reads and checks an episodes file against the model's states and areas.
pub fn read(
    file: &str,
    text: &str,
    model: &Model,
    opts: &ReadOptions,
) -> Result<Episodes, InputErrors> {
    let mut p = Problems::new(file, text).at_most(MAX_PROBLEMS);
    // The rule of every CSV wijksim reads: a byte order mark skipped, UTF-8, commas.
    let text = crate::data::csv::decode(file, text.as_bytes(), "client,state,start,end")?;
    let table = Table::read(&mut p, text)?;
    refuse_citizen_numbers(&mut p, &table)?;
    let arm = chosen_arm(&mut p, &table, opts)?;
    let mut rows = RowReader::new(model, &table);
    let raw = rows.read_all(&mut p, arm.as_deref())?;
    p.finish()?;
    let until = opts.until.map_or(rows.latest, YearMonth::index);
    let list = linked(&mut p, model, &raw, until);
    p.finish()?;
    Ok(Episodes {
        file: file.into(),
        list,
        clients: rows.ids.len(),
        populations: rows.runs.len().max(1),
        until,
    })
}

/// The rows of an episodes file: its column names (trimmed, in lower case) and its records, each
/// with its line.
struct Table {
    names: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    /// Reads the header and the rows of `text`, checking the columns and that every row has the
    /// header's fields.
    fn read(p: &mut Problems, text: &str) -> Result<Table, InputErrors> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let names: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
            Err(e) => {
                return Err(p.give_up_line(
                    Some(1),
                    "",
                    format!("the header row cannot be read: {e}"),
                    "save the file as UTF-8 CSV",
                ));
            }
        };
        check_columns(p, &names);
        p.finish()?;
        let rows = records(p, &mut reader);
        if rows.is_empty() && p.is_empty() {
            p.add_line(
                None,
                "",
                "the file has a header but no episodes",
                "export at least one episode",
            );
        }
        p.finish()?;
        Ok(Table { names, rows })
    }

    /// The position of column `name`.
    fn col(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The value of column `name` in row `r`, trimmed (empty when there is no such column).
    fn get(&self, r: &csv::StringRecord, name: &str) -> String {
        self.col(name)
            .and_then(|c| r.get(c))
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

const COLUMNS_FIX: &str =
    "name the columns client, state, start, end (and optionally area, end_reason, next_state)";
const UNKNOWN_COLUMN_FIX: &str =
    "remove it; the columns are client, state, start, end, area, end_reason, next_state, arm, run";
const FIELDS_FIX: &str =
    "give every row the header's columns, separated by commas (quote a value that holds a comma)";

/// Every required column is there, and no column is unknown.
fn check_columns(p: &mut Problems, names: &[String]) {
    for need in REQUIRED {
        if !names.iter().any(|n| n == need) {
            p.add_line(
                Some(1),
                in_column(need),
                format!(
                    "the column `{need}` is missing (found: {})",
                    names.join(", ")
                ),
                COLUMNS_FIX,
            );
        }
    }
    for (i, n) in names.iter().enumerate() {
        if !REQUIRED.contains(&n.as_str()) && !OPTIONAL.contains(&n.as_str()) {
            p.add_line(
                Some(1),
                in_column(n),
                format!("unknown column `{n}` (column {})", i + 1),
                UNKNOWN_COLUMN_FIX,
            );
        }
    }
}

/// The rows after the header, each with its line; a row that is not UTF-8 or has another number of
/// fields than the header is a problem.
fn records(p: &mut Problems, reader: &mut csv::Reader<&[u8]>) -> Vec<(usize, csv::StringRecord)> {
    let mut rows = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |pos| pos.line() as usize);
                rows.push((line, r));
            }
            Err(e) => {
                let line = e.position().map(|pos| pos.line() as usize);
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    p.add_line(
                        line,
                        "",
                        "the row is not valid UTF-8",
                        "save the file as UTF-8 CSV",
                    );
                } else {
                    p.add_line(
                        line,
                        "",
                        "the row has a different number of fields than the header",
                        FIELDS_FIX,
                    );
                }
            }
        }
    }
    rows
}

const BSN_FIX: &str = "pseudonymise the clients before the export (e.g. a random number per client); wijksim needs no identifying data";

/// A column of citizen service numbers is refused before anything else is read: most of its values
/// are 9-digit numbers that pass the 11-test.
fn refuse_citizen_numbers(p: &mut Problems, table: &Table) -> Result<(), InputErrors> {
    for (c, n) in table.names.iter().enumerate() {
        let values: Vec<&str> = table
            .rows
            .iter()
            .map(|(_, r)| r.get(c).unwrap_or("").trim())
            .filter(|v| !v.is_empty())
            .collect();
        let nine = values
            .iter()
            .filter(|v| v.len() == 9 && v.bytes().all(|b| b.is_ascii_digit()))
            .count();
        let passing = values.iter().filter(|v| passes_eleven_test(v)).count();
        if !values.is_empty() && nine == values.len() && passing * 2 > values.len() {
            return Err(p.give_up_line(
                Some(1),
                in_column(n),
                format!(
                    "the column `{n}` looks like citizen service numbers (BSN): {passing} of its {} values are 9-digit numbers that pass the 11-test",
                    values.len()
                ),
                BSN_FIX,
            ));
        }
    }
    Ok(())
}

/// The arm whose rows are read, when the file has an `arm` column: `opts.arm`, or the first arm in
/// the file.
fn chosen_arm(
    p: &mut Problems,
    table: &Table,
    opts: &ReadOptions,
) -> Result<Option<String>, InputErrors> {
    if table.col("arm").is_none() {
        return Ok(None);
    }
    let arm = opts
        .arm
        .clone()
        .unwrap_or_else(|| table.get(&table.rows[0].1, "arm"));
    if !table.rows.iter().any(|(_, r)| table.get(r, "arm") == arm) {
        return Err(p.give_up_line(
            None,
            in_column("arm"),
            format!("no row has arm `{arm}`"),
            says!("name an arm of the file with ", Opt::Arm),
        ));
    }
    Ok(Some(arm))
}

/// An episode as its row gives it, checked on its own but not yet against the client's other
/// episodes.
struct Raw {
    client: usize,
    area: usize,
    state: usize,
    start: i64,
    end: Option<i64>,
    censored: bool,
    next: Option<usize>,
    line: usize,
}

/// Reads the rows of a table one by one against the model: the clients, populations and latest date
/// seen so far.
struct RowReader<'a> {
    model: &'a Model,
    table: &'a Table,
    states: Vec<&'a str>,
    areas: Vec<&'a str>,
    /// The populations seen (the `run` column's values).
    runs: HashSet<String>,
    /// The clients seen, by population, area and identifier: their index.
    ids: HashMap<(String, String, String), usize>,
    /// The latest date seen.
    latest: i64,
}

impl<'a> RowReader<'a> {
    fn new(model: &'a Model, table: &'a Table) -> RowReader<'a> {
        RowReader {
            model,
            table,
            states: model.states.iter().map(|s| s.code.as_str()).collect(),
            areas: model.areas.iter().map(|a| a.name.as_str()).collect(),
            runs: HashSet::new(),
            ids: HashMap::new(),
            latest: i64::MIN,
        }
    }

    /// Every row of `arm` (every row when the file has no arm column) that passes its checks.
    fn read_all(&mut self, p: &mut Problems, arm: Option<&str>) -> Result<Vec<Raw>, InputErrors> {
        let table = self.table;
        let mut raw = Vec::new();
        for (line, r) in &table.rows {
            if let Some(a) = arm
                && table.get(r, "arm") != a
            {
                continue;
            }
            if let Some(e) = self.row(p, *line, r)? {
                self.latest = self.latest.max(e.start).max(e.end.unwrap_or(e.start));
                raw.push(e);
            }
        }
        Ok(raw)
    }

    /// One row as an episode, or `None` when a problem was found in it.
    fn row(
        &mut self,
        p: &mut Problems,
        line: usize,
        r: &csv::StringRecord,
    ) -> Result<Option<Raw>, InputErrors> {
        let get = |name: &str| self.table.get(r, name);
        let run = get("run");
        self.runs.insert(run.clone());
        let client = get("client");
        if client.is_empty() {
            p.add_line(
                Some(line),
                in_column("client"),
                "the client is empty",
                "give every episode its (pseudonymous) client",
            );
            return Ok(None);
        }
        // A client is known within its population and area (wijksim's ids are unique per run and
        // area; a client who moves is two clients here).
        let n = self.ids.len();
        let client = *self.ids.entry((run, get("area"), client)).or_insert(n);
        let Some(state) = self.state(p, line, "state", &get("state"), false) else {
            return Ok(None);
        };
        let Some(area) = self.area(p, line, r)? else {
            return Ok(None);
        };
        let Some((start, end)) = dates(p, line, &get("start"), &get("end")) else {
            return Ok(None);
        };
        let reason = get("end_reason");
        let Some((censored, next)) = self.ending(p, line, r, state, &reason, end) else {
            return Ok(None);
        };
        Ok(Some(Raw {
            client,
            area,
            state,
            start,
            end,
            censored,
            next: next.or((reason == "renewal").then_some(state)),
            line,
        }))
    }

    /// The state of `column` given as `v`: a state of the model, absorbing only where allowed.
    fn state(
        &self,
        p: &mut Problems,
        line: usize,
        column: &str,
        v: &str,
        allow_absorbing: bool,
    ) -> Option<usize> {
        match self.model.state_index(v) {
            Some(s) if self.model.states[s].absorbing && !allow_absorbing => {
                p.add_line(
                    Some(line),
                    in_column(column),
                    format!(
                        "`{v}` is an absorbing state (outflow): it ends an episode, it is not one"
                    ),
                    "give the episode's end next_state = this state, and no row of its own",
                );
                None
            }
            Some(s) => Some(s),
            None => {
                p.add_line(
                    Some(line),
                    in_column(column),
                    format!("unknown state `{v}`"),
                    format!("use the scenario's state codes: {}", self.states.join(", ")),
                );
                None
            }
        }
    }

    /// The row's area: by name from the `area` column, or the only area of the model. Without an
    /// area column a model of several areas cannot be read at all.
    fn area(
        &self,
        p: &mut Problems,
        line: usize,
        r: &csv::StringRecord,
    ) -> Result<Option<usize>, InputErrors> {
        if self.table.col("area").is_some() {
            let a = self.table.get(r, "area");
            let found = self.areas.iter().position(|&x| x == a);
            if found.is_none() {
                p.add_line(
                    Some(line),
                    in_column("area"),
                    format!("unknown area `{a}`"),
                    format!("use the scenario's area names: {}", self.areas.join(", ")),
                );
            }
            Ok(found)
        } else if self.model.areas.len() == 1 {
            Ok(Some(0))
        } else {
            Err(p.give_up_line(
                None,
                in_column("area"),
                format!(
                    "there is no area column, and the scenario has {} areas",
                    self.model.areas.len()
                ),
                "add an area column with the scenario's area names",
            ))
        }
    }

    /// How the row's episode ended: whether it is censored, and the next state given (checked
    /// against `end_reason`).
    fn ending(
        &self,
        p: &mut Problems,
        line: usize,
        r: &csv::StringRecord,
        state: usize,
        reason: &str,
        end: Option<i64>,
    ) -> Option<(bool, Option<usize>)> {
        let censored = match reason {
            "censored" => true,
            "" | "transition" | "renewal" | "outflow" => end.is_none(),
            other => {
                p.add_line(
                    Some(line),
                    in_column("end_reason"),
                    format!("unknown end_reason `{other}`"),
                    "use transition, renewal, outflow or censored, or leave it empty",
                );
                return None;
            }
        };
        let next_text = self.table.get(r, "next_state");
        let next = if next_text.is_empty() || censored {
            None
        } else {
            Some(self.state(p, line, "next_state", &next_text, true)?)
        };
        if reason == "renewal" && next.is_some_and(|n| n != state) {
            p.add_line(
                Some(line),
                in_column("next_state"),
                "a renewal continues in the same state",
                "give a renewal next_state equal to its state, or end_reason = transition",
            );
            return None;
        }
        Some((censored, next))
    }
}

/// The row's start and end (none: still open), as month indices, the end not before the start.
fn dates(
    p: &mut Problems,
    line: usize,
    start_text: &str,
    end_text: &str,
) -> Option<(i64, Option<i64>)> {
    let Some(start) = month_of(start_text) else {
        p.add_line(
            Some(line),
            in_column("start"),
            format!("`{start_text}` is not a date"),
            DATE_FIX,
        );
        return None;
    };
    let end = if end_text.is_empty() {
        None
    } else {
        let Some(e) = month_of(end_text) else {
            p.add_line(
                Some(line),
                in_column("end"),
                format!("`{end_text}` is not a date"),
                format!("{DATE_FIX}; leave it empty for an episode that is still open"),
            );
            return None;
        };
        Some(e)
    };
    if let Some(e) = end
        && e < start
    {
        p.add_line(
            Some(line),
            in_column("end"),
            "the episode ends before it starts",
            "check the order of start and end",
        );
        return None;
    }
    Some((start, end))
}

/// The episodes of the rows `raw`, each checked against the client's next one (no overlap) and
/// given its outcome, observed until month `until`.
fn linked(p: &mut Problems, model: &Model, raw: &[Raw], until: i64) -> Vec<Episode> {
    let mut raw: Vec<&Raw> = raw.iter().collect();
    raw.sort_by_key(|e| (e.client, e.start, e.line));
    let absorbing: Vec<usize> = (0..model.n_states())
        .filter(|&s| model.states[s].absorbing)
        .collect();
    let mut list = Vec::with_capacity(raw.len());
    for (i, e) in raw.iter().enumerate() {
        let after = raw.get(i + 1).copied().filter(|x| x.client == e.client);
        if let Some(x) = after
            && e.end.is_none_or(|end| x.start <= end)
        {
            p.add_line(
                Some(x.line),
                in_column("start"),
                format!(
                    "the client's episode starts while its episode on line {} is still running",
                    e.line
                ),
                "give a client one state at a time: end an episode before the next starts",
            );
            continue;
        }
        let follows = i > 0
            && raw[i - 1].client == e.client
            && raw[i - 1].end.is_some_and(|end| end + 1 == e.start);
        let Some(outcome) = outcome(p, model, &absorbing, e, after, until) else {
            continue;
        };
        if e.start > until {
            continue;
        }
        list.push(Episode {
            client: e.client,
            area: e.area,
            state: e.state,
            start: e.start,
            end: e.end.unwrap_or(until).min(until),
            outcome,
            follows,
            line: e.line,
        });
    }
    list
}

/// How episode `e`, followed by `after` (the client's next episode, if any), ended when observed
/// until month `until` (`absorbing`: the model's absorbing states); `None` when it ended but where the
/// client went is not known.
fn outcome(
    p: &mut Problems,
    model: &Model,
    absorbing: &[usize],
    e: &Raw,
    after: Option<&Raw>,
    until: i64,
) -> Option<Outcome> {
    let censored = e.censored
        || e.end
            .is_none_or(|end| end >= until && e.next.is_none() && after.is_none());
    if censored || e.end.is_some_and(|x| x > until) {
        Some(Outcome::Censored)
    } else if let Some(n) = e.next {
        Some(Outcome::To(n))
    } else if let Some(x) = after.filter(|x| e.end.is_some_and(|end| end + 1 == x.start)) {
        Some(Outcome::To(x.state))
    } else if let [only] = absorbing {
        Some(Outcome::To(*only))
    } else {
        let names: Vec<&str> = absorbing
            .iter()
            .map(|&s| model.states[s].code.as_str())
            .collect();
        p.add_line(
            Some(e.line),
            in_column("next_state"),
            "the episode ends, but where the client went is not given",
            format!(
                "give next_state (one of the outflow states: {})",
                names.join(", ")
            ),
        );
        None
    }
}
