//! Reading an episodes file: one row per client per uninterrupted stay in one state (the format of
//! `histories.csv`), checked row by row. Every problem names the file, line and column, and the fix;
//! no client identifier is ever repeated in a message.

use crate::error::{InputErrors, Opt, Problems, says};
use crate::model::{Model, YearMonth};
use std::collections::HashMap;

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
    let col = |name: &str| names.iter().position(|n| n == name);
    for need in REQUIRED {
        if col(need).is_none() {
            p.add_line(
Some(1),
in_column(need),
format!("the column `{need}` is missing (found: {})", names.join(", ")),
"name the columns client, state, start, end (and optionally area, end_reason, next_state)",
);
        }
    }
    for (i, n) in names.iter().enumerate() {
        if !REQUIRED.contains(&n.as_str()) && !OPTIONAL.contains(&n.as_str()) {
            p.add_line(
Some(1),
in_column(n),
format!("unknown column `{n}` (column {})", i + 1),
"remove it; the columns are client, state, start, end, area, end_reason, next_state, arm, run",
);
        }
    }
    p.finish()?;
    let mut rows: Vec<(usize, csv::StringRecord)> = Vec::new();
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
"give every row the header's columns, separated by commas (quote a value that holds a comma)",
);
                }
            }
        }
    }
    if rows.is_empty() && p.is_empty() {
        p.add_line(
            None,
            "",
            "the file has a header but no episodes",
            "export at least one episode",
        );
    }
    p.finish()?;
    // A column of citizen service numbers is refused before anything else is read.
    for (c, n) in names.iter().enumerate() {
        let values: Vec<&str> = rows
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
format!("the column `{n}` looks like citizen service numbers (BSN): {passing} of its {} values are 9-digit numbers that pass the 11-test", values.len()),
"pseudonymise the clients before the export (e.g. a random number per client); wijksim needs no identifying data",
));
        }
    }
    let get = |r: &csv::StringRecord, name: &str| -> String {
        col(name)
            .and_then(|c| r.get(c))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    // The arm: `--arm`, or the first arm in the file.
    let arm = if col("arm").is_some() {
        let arm = opts.arm.clone().unwrap_or_else(|| get(&rows[0].1, "arm"));
        if !rows.iter().any(|(_, r)| get(r, "arm") == arm) {
            return Err(p.give_up_line(
                None,
                in_column("arm"),
                format!("no row has arm `{arm}`"),
                says!("name an arm of the file with ", Opt::Arm),
            ));
        }
        Some(arm)
    } else {
        None
    };
    let states: Vec<&str> = model.states.iter().map(|s| s.code.as_str()).collect();
    let area_names: Vec<&str> = model.areas.iter().map(|a| a.name.as_str()).collect();
    let state_of = |p: &mut Problems,
                    line: usize,
                    column: &str,
                    v: &str,
                    allow_absorbing: bool|
     -> Option<usize> {
        match model.state_index(v) {
            Some(s) if model.states[s].absorbing && !allow_absorbing => {
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
                    format!("use the scenario's state codes: {}", states.join(", ")),
                );
                None
            }
        }
    };
    let mut runs: HashMap<String, ()> = HashMap::new();
    let mut ids: HashMap<(String, String, String), usize> = HashMap::new();
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
    let mut raw: Vec<Raw> = Vec::new();
    let mut latest = i64::MIN;
    for (line, r) in &rows {
        let line = *line;
        if let Some(a) = &arm
            && &get(r, "arm") != a
        {
            continue;
        }
        let run = get(r, "run");
        runs.insert(run.clone(), ());
        let client = get(r, "client");
        if client.is_empty() {
            p.add_line(
                Some(line),
                in_column("client"),
                "the client is empty",
                "give every episode its (pseudonymous) client",
            );
            continue;
        }
        // A client is known within its population and area (wijksim's ids are unique per run and
        // area; a client who moves is two clients here).
        let n = ids.len();
        let client = *ids.entry((run, get(r, "area"), client)).or_insert(n);
        let Some(state) = state_of(&mut p, line, "state", &get(r, "state"), false) else {
            continue;
        };
        let area = if col("area").is_some() {
            let a = get(r, "area");
            match area_names.iter().position(|&x| x == a) {
                Some(i) => i,
                None => {
                    p.add_line(
                        Some(line),
                        in_column("area"),
                        format!("unknown area `{a}`"),
                        format!("use the scenario's area names: {}", area_names.join(", ")),
                    );
                    continue;
                }
            }
        } else if model.areas.len() == 1 {
            0
        } else {
            return Err(p.give_up_line(
                None,
                in_column("area"),
                format!(
                    "there is no area column, and the scenario has {} areas",
                    model.areas.len()
                ),
                "add an area column with the scenario's area names",
            ));
        };
        let start_text = get(r, "start");
        let Some(start) = month_of(&start_text) else {
            p.add_line(
                Some(line),
                in_column("start"),
                format!("`{start_text}` is not a date"),
                DATE_FIX,
            );
            continue;
        };
        let end_text = get(r, "end");
        let reason = get(r, "end_reason");
        let end = if end_text.is_empty() {
            None
        } else {
            match month_of(&end_text) {
                Some(e) => Some(e),
                None => {
                    p.add_line(
                        Some(line),
                        in_column("end"),
                        format!("`{end_text}` is not a date"),
                        format!("{DATE_FIX}; leave it empty for an episode that is still open"),
                    );
                    continue;
                }
            }
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
            continue;
        }
        let censored = match reason.as_str() {
            "censored" => true,
            "" | "transition" | "renewal" | "outflow" => end.is_none(),
            other => {
                p.add_line(
                    Some(line),
                    in_column("end_reason"),
                    format!("unknown end_reason `{other}`"),
                    "use transition, renewal, outflow or censored, or leave it empty",
                );
                continue;
            }
        };
        let next_text = get(r, "next_state");
        let next = if next_text.is_empty() || censored {
            None
        } else {
            match state_of(&mut p, line, "next_state", &next_text, true) {
                Some(s) => Some(s),
                None => continue,
            }
        };
        if reason == "renewal" && next.is_some_and(|n| n != state) {
            p.add_line(
                Some(line),
                in_column("next_state"),
                "a renewal continues in the same state",
                "give a renewal next_state equal to its state, or end_reason = transition",
            );
            continue;
        }
        latest = latest.max(start).max(end.unwrap_or(start));
        raw.push(Raw {
            client,
            area,
            state,
            start,
            end,
            censored,
            next: next.or((reason == "renewal").then_some(state)),
            line,
        });
    }
    p.finish()?;
    let until = opts.until.map_or(latest, YearMonth::index);
    raw.sort_by_key(|e| (e.client, e.start, e.line));
    let absorbing: Vec<usize> = (0..model.n_states())
        .filter(|&s| model.states[s].absorbing)
        .collect();
    let mut list = Vec::with_capacity(raw.len());
    for (i, e) in raw.iter().enumerate() {
        let after = raw.get(i + 1).filter(|x| x.client == e.client);
        if let Some(x) = after {
            let overlaps = match e.end {
                Some(end) => x.start <= end,
                None => true,
            };
            if overlaps {
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
        }
        let follows = i > 0
            && raw[i - 1].client == e.client
            && raw[i - 1].end.is_some_and(|end| end + 1 == e.start);
        let end = e.end.unwrap_or(until).min(until);
        let censored = e.censored
            || e.end
                .is_none_or(|end| end >= until && e.next.is_none() && after.is_none());
        let outcome = if censored || e.end.is_some_and(|x| x > until) {
            Outcome::Censored
        } else if let Some(n) = e.next {
            Outcome::To(n)
        } else if let Some(x) = after.filter(|x| e.end.is_some_and(|end| end + 1 == x.start)) {
            Outcome::To(x.state)
        } else if let [only] = absorbing[..] {
            Outcome::To(only)
        } else {
            p.add_line(
                Some(e.line),
                in_column("next_state"),
                "the episode ends, but where the client went is not given",
                format!(
                    "give next_state (one of the outflow states: {})",
                    absorbing
                        .iter()
                        .map(|&s| states[s])
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
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
            end,
            outcome,
            follows,
            line: e.line,
        });
    }
    p.finish()?;
    Ok(Episodes {
        file: file.into(),
        list,
        clients: ids.len(),
        populations: runs.len().max(1),
        until,
    })
}
