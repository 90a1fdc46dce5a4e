//! Rules the source code keeps, checked on the files themselves.

use std::path::Path;

/// The longest a function may be, in lines from its `fn` to its closing brace (issue 15: a function
/// does one thing; a longer one is split into functions that each have a name).
const MAX_LINES: usize = 80;

/// Files other work is splitting: each leaves this list when its functions are split (none now).
const FILES_NOT_YET: &[&str] = &[];

/// Flat tables (a long `match` or list of literal rows), which may stay long: (file, function).
const FLAT_TABLES: &[(&str, &str)] = &[];

/// Functions still over the limit, with their length when this list was made: none may grow, and
/// each leaves the list when it is split (the test says when an entry is no longer needed).
const TO_SPLIT: &[(&str, &str, usize)] = &[];

/// A function of a source file: its name, first line (from 1) and length in lines.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// The name of the function a line declares (`pub(crate) const fn name(` and the like), and its
/// indentation.
fn declared(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start();
    let indent = &line[..line.len() - rest.len()];
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix("pub") {
        rest = match r.strip_prefix('(') {
            Some(r) => r.split_once(')')?.1,
            None => r,
        }
        .trim_start();
    }
    for word in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(word).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    (end > 0).then(|| (&name[..end], indent))
}

/// The functions with a body in `text`, each from its `fn` line to the closing brace at its indent
/// (rustfmt's layout); one-line functions are left out.
fn functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some((name, indent)) = declared(l) else {
            continue;
        };
        // The signature ends at the body's `{`, or at a `;` for a declaration without a body.
        let Some(open) = (i..lines.len())
            .find(|&j| lines[j].contains('{') || (lines[j].trim_end().ends_with(';')))
        else {
            continue;
        };
        if !lines[open].contains('{') || lines[open].trim_end().ends_with('}') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = (open + 1..lines.len()).find(|&j| lines[j].trim_end() == close) {
            out.push(Function {
                name: name.to_string(),
                line: i + 1,
                lines: end - i + 1,
            });
        }
    }
    out
}

/// Every Rust file under `src/`, sorted: its path relative to the crate (with `/`) and its full path.
pub(crate) fn src_files() -> Vec<(String, std::path::PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect()
}

#[test]
fn function_lengths_are_counted_from_fn_to_its_closing_brace() {
    let text = "/// doc\npub(crate) fn a(\n    x: u8,\n) -> u8 {\n    x\n}\n\nimpl T {\n    fn b() {}\n    pub const fn c() -> u8 {\n        if true {\n        }\n        1\n    }\n    fn d(&self);\n}\n";
    assert_eq!(
        functions(text),
        [
            Function {
                name: "a".into(),
                line: 2,
                lines: 5
            },
            Function {
                name: "c".into(),
                line: 10,
                lines: 5
            },
        ]
    );
}

#[test]
fn no_function_in_src_is_over_80_lines() {
    let mut problems = Vec::new();
    let mut listed_seen = Vec::new();
    for (rel, path) in &src_files() {
        if FILES_NOT_YET.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for f in functions(&text) {
            let listed = TO_SPLIT
                .iter()
                .find(|(file, name, _)| *file == rel && *name == f.name);
            if let Some((_, _, was)) = listed {
                listed_seen.push((rel.clone(), f.name.clone()));
                if f.lines > *was {
                    problems.push(format!("{rel}:{} `{}` has grown from {was} to {} lines: split it (it is over {MAX_LINES} already)", f.line, f.name, f.lines));
                } else if f.lines <= MAX_LINES {
                    problems.push(format!(
                        "{rel}:{} `{}` is {} lines now: take it off TO_SPLIT",
                        f.line, f.name, f.lines
                    ));
                }
            } else if f.lines > MAX_LINES && !FLAT_TABLES.contains(&(rel.as_str(), f.name.as_str()))
            {
                problems.push(format!(
                    "{rel}:{} `{}` is {} lines, more than {MAX_LINES}: split it into functions that each do one thing",
                    f.line, f.name, f.lines
                ));
            }
        }
    }
    for (file, name, _) in TO_SPLIT {
        if !listed_seen.iter().any(|(f, n)| f == file && n == name) {
            problems.push(format!(
                "{file} has no function `{name}`: take it off TO_SPLIT"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
