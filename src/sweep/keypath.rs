//! Key paths into a scenario file, and setting the number at one, keeping the rest of the text as written.
//!
//! A key path names one number of a scenario: keys separated by dots, and an element of a list of tables
//! by its position (`[0]`, as in error messages) or by its name: the value of its `name`, `code` or
//! `line`, its `from`, or `FROM->TO` for transitions and modifiers. Examples:
//! `regime[dorpsbudget].prevention`, `regime[dorpsbudget].modifier[BT->WV].hazard_ratio`,
//! `cost[begeleiding_bt].tariff_per_hour`, `indexation.later`, `indexation.rates.2024`.

use toml_edit::{DocumentMut, Item, Table, Value};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Select(String),
}

/// A parsed key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    text: String,
    steps: Vec<Step>,
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl KeyPath {
    /// The path without its last key (`None` when it ends in a `[...]` selection or has one step).
    pub fn parent(&self) -> Option<KeyPath> {
        match self.steps.last() {
            Some(Step::Key(k)) if self.steps.len() > 1 => {
                let text = self.text[..self.text.len() - k.len()]
                    .trim_end_matches('.')
                    .to_string();
                Some(KeyPath {
                    text,
                    steps: self.steps[..self.steps.len() - 1].to_vec(),
                })
            }
            _ => None,
        }
    }

    /// The last key, when the path ends in a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.steps.last() {
            Some(Step::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// This path with one more key.
    pub fn child(&self, key: &str) -> KeyPath {
        let mut steps = self.steps.clone();
        steps.push(Step::Key(key.to_string()));
        KeyPath {
            text: format!("{}.{key}", self.text),
            steps,
        }
    }

    /// Parses `a.b[sel].c`.
    pub fn parse(text: &str) -> Result<KeyPath, String> {
        let mut steps = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() {
                return Err(format!("`{text}` has an empty key"));
            }
            steps.push(Step::Key(key.to_string()));
            while !rest.is_empty() {
                let Some(end) = rest.find(']') else {
                    return Err(format!("`{text}` has a `[` without `]`"));
                };
                if !rest.starts_with('[') || end == 1 {
                    return Err(format!("`{text}` has an empty or misplaced `[...]`"));
                }
                steps.push(Step::Select(rest[1..end].to_string()));
                rest = &rest[end + 1..];
            }
        }
        Ok(KeyPath {
            text: text.to_string(),
            steps,
        })
    }
}

enum Cur<'a> {
    Item(&'a mut Item),
    Table(&'a mut Table),
    Value(&'a mut Value),
}

/// The fields an element can be selected by, as text (`from->to` included).
fn names(get: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut v: Vec<String> = ["name", "code", "line", "from"]
        .iter()
        .filter_map(|k| get(k))
        .collect();
    if let (Some(f), Some(t)) = (get("from"), get("to")) {
        v.push(format!("{f}->{t}"));
    }
    v
}

fn table_names(t: &Table) -> Vec<String> {
    names(&|k| t.get(k).and_then(|i| i.as_str()).map(str::to_string))
}

fn value_names(v: &Value) -> Vec<String> {
    match v.as_inline_table() {
        Some(t) => names(&|k| t.get(k).and_then(|i| i.as_str()).map(str::to_string)),
        None => Vec::new(),
    }
}

/// The index of the element `sel` among elements with the given selectable names.
fn pick(sel: &str, all: &[Vec<String>], at: &str) -> Result<usize, String> {
    if let Ok(i) = sel.parse::<usize>() {
        return if i < all.len() {
            Ok(i)
        } else {
            Err(format!(
                "`{at}` has {} elements: [{sel}] is out of range (they count from 0)",
                all.len()
            ))
        };
    }
    let hits: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].iter().any(|n| n == sel))
        .collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => {
            let mut known: Vec<String> = all.iter().filter_map(|n| n.first().cloned()).collect();
            known.dedup();
            Err(format!(
                "`{at}` has no element `{sel}`; by name: {}; or by position: [0] to [{}]",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
                all.len().saturating_sub(1)
            ))
        }
        many => Err(format!(
            "`{at}[{sel}]` matches {} elements; use a position, e.g. [{}]",
            many.len(),
            many[0]
        )),
    }
}

fn keys_of(cur: &Cur) -> Vec<String> {
    match cur {
        Cur::Item(i) => i
            .as_table_like()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default(),
        Cur::Table(t) => t.iter().map(|(k, _)| k.to_string()).collect(),
        Cur::Value(v) => v
            .as_inline_table()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// Walks `path` in `doc` to the value it names.
fn walk<'a>(doc: &'a mut DocumentMut, path: &KeyPath) -> Result<Cur<'a>, String> {
    walk_marking(doc, path, &mut 0)
}

/// [`walk`], also setting `line_key` to the index of the last key step taken in a table written as
/// `[table]` or `[[table]]` (not inline): the key at the start of the line that holds the value.
fn walk_marking<'a>(
    doc: &'a mut DocumentMut,
    path: &KeyPath,
    line_key: &mut usize,
) -> Result<Cur<'a>, String> {
    let mut cur = Cur::Table(doc.as_table_mut());
    let mut at = String::new();
    for (j, step) in path.steps.iter().enumerate() {
        cur = match step {
            Step::Key(k) => {
                if matches!(&cur, Cur::Table(_)) || matches!(&cur, Cur::Item(i) if i.is_table()) {
                    *line_key = j;
                }
                let keys = keys_of(&cur);
                let next = match cur {
                    Cur::Item(i) => i
                        .as_table_like_mut()
                        .and_then(|t| t.get_mut(k))
                        .map(Cur::Item),
                    Cur::Table(t) => t.get_mut(k).map(Cur::Item),
                    Cur::Value(v) => v
                        .as_inline_table_mut()
                        .and_then(|t| t.get_mut(k))
                        .map(Cur::Value),
                };
                let here = if at.is_empty() {
                    "the scenario".to_string()
                } else {
                    format!("`{at}`")
                };
                let next = next.ok_or_else(|| {
                    if keys.is_empty() {
                        format!("{here} is not a table: it has no key `{k}`")
                    } else {
                        format!("{here} has no key `{k}`; it has: {}", keys.join(", "))
                    }
                })?;
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                next
            }
            Step::Select(sel) => {
                let next = match cur {
                    Cur::Item(i) if i.is_array_of_tables() => {
                        let aot = i.as_array_of_tables_mut().expect("checked");
                        let all: Vec<Vec<String>> = aot.iter().map(table_names).collect();
                        let idx = pick(sel, &all, &at)?;
                        Cur::Table(aot.get_mut(idx).expect("in range"))
                    }
                    Cur::Item(Item::Value(Value::Array(a))) | Cur::Value(Value::Array(a)) => {
                        let all: Vec<Vec<String>> = a.iter().map(value_names).collect();
                        let idx = pick(sel, &all, &at)?;
                        Cur::Value(a.get_mut(idx).expect("in range"))
                    }
                    _ => return Err(format!("`{at}` is not a list: it has no element [{sel}]")),
                };
                at.push_str(&format!("[{sel}]"));
                next
            }
        };
    }
    Ok(cur)
}

/// The number at a value: the number itself, or the mean (or fixed value) of a distribution.
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i.value() as f64),
        Value::Float(f) => Some(*f.value()),
        Value::InlineTable(t) if t.contains_key("dist") => {
            ["mean", "value", "mode"].iter().find_map(|k| {
                t.get(k)
                    .and_then(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
            })
        }
        _ => None,
    }
}

fn value_at<'a>(doc: &'a mut DocumentMut, path: &KeyPath) -> Result<&'a mut Value, String> {
    match walk(doc, path)? {
        Cur::Item(Item::Value(v)) | Cur::Value(v) => Ok(v),
        _ => Err(format!("`{path}` is a table, not a number")),
    }
}

/// Whether the value at `path` is a whole number (its sweep values are then rounded), and the number
/// there (`None` for a distribution without a mean).
pub fn inspect(doc: &mut DocumentMut, path: &KeyPath) -> Result<(bool, Option<f64>), String> {
    let v = value_at(doc, path)?;
    match v {
        Value::Integer(_) | Value::Float(_) => Ok((v.is_integer(), number_of(v))),
        Value::InlineTable(t) if t.contains_key("dist") => Ok((false, number_of(v))),
        _ => Err(format!(
            "`{path}` is {}, not a number",
            match v {
                Value::String(_) => "text",
                Value::Boolean(_) => "true or false",
                Value::Array(_) => "a list",
                Value::InlineTable(_) => "a table",
                _ => "a date",
            }
        )),
    }
}

/// The text at `path`, if it names a string.
pub fn text_at(doc: &mut DocumentMut, path: &KeyPath) -> Option<String> {
    value_at(doc, path).ok()?.as_str().map(str::to_string)
}

/// The keys of the table at `path`, in the file's order (none when `path` names no table).
pub fn keys_at(doc: &mut DocumentMut, path: &KeyPath) -> Vec<String> {
    walk(doc, path).map(|c| keys_of(&c)).unwrap_or_default()
}

/// Whether `path` names `true`.
pub fn is_true(doc: &mut DocumentMut, path: &KeyPath) -> bool {
    value_at(doc, path)
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Replaces the value at `path` by `value` (e.g. a distribution as an inline table), keeping its
/// place and the comments around it.
pub fn set_value(doc: &mut DocumentMut, path: &KeyPath, value: Value) -> Result<(), String> {
    inspect(doc, path)?;
    let v = value_at(doc, path)?;
    let decor = v.decor().clone();
    *v = value;
    *v.decor_mut() = decor;
    Ok(())
}

/// Sets `key` of the table at `path` to `value`, adding the key when it is missing (an existing
/// value keeps its place and comments).
pub fn set_key(
    doc: &mut DocumentMut,
    path: &KeyPath,
    key: &str,
    value: Value,
) -> Result<(), String> {
    let replace = |old: &mut Value, mut value: Value| {
        *value.decor_mut() = old.decor().clone();
        *old = value;
    };
    match walk(doc, path)? {
        Cur::Table(t) | Cur::Item(Item::Table(t)) => {
            match t.get_mut(key).and_then(Item::as_value_mut) {
                Some(old) => replace(old, value),
                None => {
                    t.insert(key, Item::Value(value));
                }
            }
        }
        Cur::Item(Item::Value(Value::InlineTable(t))) | Cur::Value(Value::InlineTable(t)) => {
            match t.get_mut(key) {
                Some(old) => replace(old, value),
                None => {
                    t.insert(key, value);
                }
            }
        }
        _ => return Err(format!("`{path}` is not a table")),
    }
    Ok(())
}

/// Writes `note` as a comment line above the line that holds the value at `path` (for a value inside
/// an inline table, `to = { ... }`, above that whole line: TOML has no comments inside inline tables).
/// Comments already there are kept.
pub fn annotate(doc: &mut DocumentMut, path: &KeyPath, note: &str) -> Result<(), String> {
    let mut j = 0;
    walk_marking(doc, path, &mut j)?;
    let Some(Step::Key(key)) = path.steps.get(j) else {
        return Err(format!("`{path}` has no key to annotate"));
    };
    let container = KeyPath {
        text: String::new(),
        steps: path.steps[..j].to_vec(),
    };
    let table: &mut Table = if j == 0 {
        doc.as_table_mut()
    } else {
        match walk(doc, &container)? {
            Cur::Table(t) => t,
            Cur::Item(Item::Table(t)) => t,
            _ => return Err(format!("`{path}`: the line's table was not found")),
        }
    };
    let Some(mut k) = table.key_mut(key) else {
        return Err(format!("`{path}`: no key `{key}`"));
    };
    let decor = k.leaf_decor_mut();
    let old = decor
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    // Keep the indentation of the line after the comment.
    let (head, indent) = match old.rfind('\n') {
        Some(i) => (&old[..=i], &old[i + 1..]),
        None => ("", old.as_str()),
    };
    let note = note.replace(['\n', '\r'], " ");
    decor.set_prefix(format!("{head}{indent}# {note}\n{indent}"));
    Ok(())
}

/// Sets the number at `path` (replacing a distribution by the number), keeping comments and layout.
/// Whole-number values are written as integers.
pub fn set(doc: &mut DocumentMut, path: &KeyPath, x: f64) -> Result<(), String> {
    inspect(doc, path)?;
    let v = value_at(doc, path)?;
    let decor = v.decor().clone();
    *v = if v.is_integer() {
        Value::from(x.round() as i64)
    } else {
        Value::from(x)
    };
    *v.decor_mut() = decor;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
[indexation]
later = 0.03 # ASSUMPTION
rates = { 2021 = 0.015 }

[[cost]]
line = "a"
tariff = 10.0

[[cost]]
line = "b"
tariff = { dist = "gamma", mean = 20.0, sd = 2.0 }

[[regime]]
name = "r"
cycles = 12
modifier = [{ from = "BT", to = "WV", hazard_ratio = 1.5 }, { from = "WV", to = "SB", hazard_ratio = 2.0 }]
"#;

    fn set_get(path: &str, x: f64) -> Result<String, String> {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        let p = KeyPath::parse(path)?;
        set(&mut doc, &p, x)?;
        Ok(doc.to_string())
    }

    #[test]
    fn sets_numbers_by_name_position_and_transition() {
        let t = set_get("indexation.later", 0.05).unwrap();
        assert!(t.contains("later = 0.05 # ASSUMPTION"), "{t}");
        assert_eq!(
            t.lines().count(),
            TEXT.lines().count(),
            "lines keep their numbers"
        );
        assert!(
            set_get("indexation.rates.2021", 0.02)
                .unwrap()
                .contains("2021 = 0.02")
        );
        assert!(
            set_get("cost[a].tariff", 12.5)
                .unwrap()
                .contains("tariff = 12.5")
        );
        assert!(
            set_get("cost[1].tariff", 25.0)
                .unwrap()
                .contains("tariff = 25.0\n")
        );
        let t = set_get("regime[r].modifier[WV->SB].hazard_ratio", 3.0).unwrap();
        assert!(
            t.contains("hazard_ratio = 1.5") && t.contains("hazard_ratio = 3.0"),
            "{t}"
        );
        assert!(
            set_get("regime[r].cycles", 6.6)
                .unwrap()
                .contains("cycles = 7")
        );
    }

    #[test]
    fn reads_base_values_and_kinds() {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        let p = |s: &str| KeyPath::parse(s).unwrap();
        assert_eq!(
            inspect(&mut doc, &p("cost[b].tariff")),
            Ok((false, Some(20.0)))
        );
        assert_eq!(
            inspect(&mut doc, &p("regime[0].cycles")),
            Ok((true, Some(12.0)))
        );
    }

    #[test]
    fn explains_bad_paths() {
        let e = set_get("cost[c].tariff", 1.0).unwrap_err();
        assert!(e.contains("no element `c`") && e.contains("a, b"), "{e}");
        let e = set_get("cost[a].tarif", 1.0).unwrap_err();
        assert!(e.contains("no key `tarif`") && e.contains("tariff"), "{e}");
        let e = set_get("cost[5].tariff", 1.0).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = set_get("cost[a].line", 1.0).unwrap_err();
        assert!(e.contains("text"), "{e}");
        assert!(KeyPath::parse("a..b").is_err() && KeyPath::parse("a[b").is_err());
    }
}
