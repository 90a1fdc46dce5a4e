//! Errors a user can act on.
//!
//! A bad scenario file is the most common failure, and the user must be able to fix it without reading
//! our code: every [`InputError`] names the file, the line (where there is one), the key, what is wrong
//! and how to fix it. Validation collects all the problems it can find in one pass ([`InputErrors`]).

use std::fmt;

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line, where the problem has a place in the file.
    pub line: Option<usize>,
    /// The key path, e.g. `transition[3].to.BT`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.file)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", short(&self.key))?;
        }
        write!(f, "{}", short(&self.problem))?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", short(&self.fix))?;
        }
        Ok(())
    }
}

/// All problems found in an input file (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if n > 1 {
            write!(f, "\n({n} problems)")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario (or another input file) is invalid.
    #[error(transparent)]
    Input(#[from] InputErrors),
    /// An output could not be written.
    #[error("could not write '{path}'")]
    Write {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The output folder holds earlier results.
    #[error(
        "output folder '{0}' already holds results\n  fix: choose another folder with --out, or pass --force to replace it"
    )]
    OutputExists(String),
    /// The output path may not be written: it is not a folder wijksim wrote (a user's folder or file, a
    /// device, a link), or it is not a usable path. The message says why and what to do.
    #[error("{0}")]
    OutputRefused(String),
    /// Another writer holds the output folder's lock.
    #[error("{0}")]
    OutputBusy(String),
    /// Invalid options (e.g. zero runs).
    #[error("{}", short(.0))]
    Options(String),
}

/// Most characters of one bad value quoted in a message.
pub const QUOTE_MAX: usize = 200;
/// Most characters of one message part (problem, key or fix).
const MESSAGE_MAX: usize = 2000;

/// `text` for a message: every word (run without white space) longer than [`QUOTE_MAX`] characters
/// is cut to its first [`QUOTE_MAX`], and the whole to about 2,000 characters, each cut saying how many
/// characters it left out. A bad value of megabytes thus gives a message of a few lines.
pub fn short(text: &str) -> std::borrow::Cow<'_, str> {
    let long_word = text
        .split(char::is_whitespace)
        .any(|w| w.len() > QUOTE_MAX && w.chars().count() > QUOTE_MAX);
    if !long_word && text.len() <= MESSAGE_MAX {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut word = 0usize;
    let mut cut = 0usize;
    let flush = |out: &mut String, cut: &mut usize| {
        if *cut > 0 {
            out.push_str(&format!("… ({} more characters)", *cut));
            *cut = 0;
        }
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut out, &mut cut);
            word = 0;
        } else {
            word += 1;
            if word > QUOTE_MAX {
                cut += 1;
                continue;
            }
        }
        out.push(c);
    }
    flush(&mut out, &mut cut);
    if out.chars().count() > MESSAGE_MAX {
        let left = out.chars().count() - MESSAGE_MAX;
        out = out.chars().take(MESSAGE_MAX).collect();
        out.push_str(&format!("… ({left} more characters)"));
    }
    std::borrow::Cow::Owned(out)
}

/// Result with the library's error.
pub type Result<T> = std::result::Result<T, Error>;

/// Turns a byte offset into a 1-based line number.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// An error in a table of an output folder, with the fix: run the scenario again.
pub(crate) fn bad_table(file: &str, line: Option<usize>, key: &str, problem: String) -> Error {
    Error::Input(InputErrors(vec![InputError {
        file: file.to_string(),
        line,
        key: key.to_string(),
        problem,
        fix: "the tables must be as `wijksim run` wrote them for this folder's scenario.toml; run the scenario again".into(),
    }]))
}
