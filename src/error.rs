//! Errors a user can act on.
//!
//! A bad scenario file is the most common failure, and the user must be able to fix it without reading
//! our code: every [`InputError`] names the file, the line (where there is one), the key, what is wrong
//! and how to fix it. Validation collects all the problems it can find in one pass ([`Problems`] gives
//! [`InputErrors`]).
//!
//! The library does not know the command line. Where a message tells the user to change an option of
//! the call (the number of runs, the output folder, `force`), it names it as an [`Opt`] inside a
//! [`Message`]: the library's own text ([`std::fmt::Display`]) calls it by its field, `` `force` ``, and
//! the `wijksim` command renders the same message with its flag, `--force` ([`Error::render`]).

use std::fmt;

/// An option of a call into the library that a message may ask the user to change. The library names
/// it by its field or argument ([`Opt::field`]); a front end by its own name for it (the command line:
/// its flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opt {
    /// The number of runs (`RunOptions::runs`).
    Runs,
    /// The number of worker threads.
    Threads,
    /// The output folder.
    Out,
    /// Replace earlier results (`force`).
    Force,
    /// Continue a sweep folder (`SweepOptions::resume`).
    Resume,
    /// The shard `I/N` of a sweep (`SweepOptions::shard`).
    Shard,
    /// The number of shards of a Slurm job (`SlurmOptions::shards`).
    Shards,
    /// The arm to fit or calibrate.
    Arm,
    /// A number to calibrate with its box, `KEYPATH=LOW..HIGH`.
    Vary,
    /// The size of the posterior sample of a calibration.
    Posterior,
    /// The number of runs whose client histories to write (`RunOptions::histories`).
    Histories,
    /// The engine (`RunOptions::engine`).
    Engine,
}

impl Opt {
    /// Every option.
    pub const ALL: [Opt; 12] = [
        Opt::Runs,
        Opt::Threads,
        Opt::Out,
        Opt::Force,
        Opt::Resume,
        Opt::Shard,
        Opt::Shards,
        Opt::Arm,
        Opt::Vary,
        Opt::Posterior,
        Opt::Histories,
        Opt::Engine,
    ];

    /// How the library's messages name it: its field or argument, in backquotes (`` `force` ``).
    pub fn field(self) -> &'static str {
        match self {
            Opt::Runs => "`runs`",
            Opt::Threads => "`threads`",
            Opt::Out => "`out`",
            Opt::Force => "`force`",
            Opt::Resume => "`resume`",
            Opt::Shard => "`shard`",
            Opt::Shards => "`shards`",
            Opt::Arm => "`arm`",
            Opt::Vary => "`vary`",
            Opt::Posterior => "`posterior`",
            Opt::Histories => "`histories`",
            Opt::Engine => "`engine`",
        }
    }
}

/// How a front end names the options in a message (the library's own: [`Opt::field`]).
pub type Names = fn(Opt) -> &'static str;

/// One piece of a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Words(String),
    Opt(Opt),
}

/// The text of a message: words, and the options of the call it names ([`Opt`]), which each front end
/// renders in its own words ([`Message::render`]). Made from text (`"…".into()`) or, with options,
/// piece by piece ([`Message::then`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message(Vec<Piece>);

impl Message {
    /// Appends text, an option or another message.
    pub fn then(mut self, more: impl Into<Message>) -> Message {
        for p in more.into().0 {
            match (self.0.last_mut(), p) {
                (Some(Piece::Words(a)), Piece::Words(b)) => a.push_str(&b),
                (_, Piece::Words(b)) if b.is_empty() => {}
                (_, p) => self.0.push(p),
            }
        }
        self
    }

    /// `before` followed by this message.
    pub fn after(self, before: impl Into<Message>) -> Message {
        before.into().then(self)
    }

    /// Whether it says nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The options it names, in order.
    pub fn options(&self) -> impl Iterator<Item = Opt> + '_ {
        self.0.iter().filter_map(|p| match p {
            Piece::Opt(o) => Some(*o),
            Piece::Words(_) => None,
        })
    }

    /// The text, each option named by `names`.
    pub fn render(&self, names: Names) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Words(w) => w.as_str(),
                Piece::Opt(o) => names(*o),
            })
            .collect()
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Opt::field))
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Message {
        Message::default().then(s.to_string())
    }
}

impl From<&String> for Message {
    fn from(s: &String) -> Message {
        Message::from(s.as_str())
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        if s.is_empty() {
            Message::default()
        } else {
            Message(vec![Piece::Words(s)])
        }
    }
}

impl From<Opt> for Message {
    fn from(o: Opt) -> Message {
        Message(vec![Piece::Opt(o)])
    }
}

/// A [`Message`] of pieces: text (`&str`, `String`), [`Opt`]s and messages, in order.
/// `says!("choose another folder with ", Opt::Out)`.
macro_rules! says {
    ($($piece:expr),+ $(,)?) => {
        $crate::error::Message::default()$(.then($piece))+
    };
}
pub(crate) use says;

/// What is wrong, and how to fix it (empty when the problem says it all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    what: Message,
    fix: Message,
}

impl Fault {
    /// A problem and its fix.
    pub fn new(what: impl Into<Message>, fix: impl Into<Message>) -> Fault {
        Fault {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// What is wrong.
    pub fn what(&self) -> &Message {
        &self.what
    }

    /// How to fix it.
    pub fn fix(&self) -> &Message {
        &self.fix
    }

    /// The message, options named by `names`: the problem, then `fix: ` and the fix on a line of its
    /// own.
    pub fn render(&self, names: Names) -> String {
        let mut s = short(&self.what.render(names)).into_owned();
        if !self.fix.is_empty() {
            s.push_str("\n  fix: ");
            s.push_str(&short(&self.fix.render(names)));
        }
        s
    }
}

impl From<Message> for Fault {
    fn from(what: Message) -> Fault {
        Fault::new(what, Message::default())
    }
}

impl From<String> for Fault {
    fn from(what: String) -> Fault {
        Fault::new(what, Message::default())
    }
}

impl From<&str> for Fault {
    fn from(what: &str) -> Fault {
        Fault::new(what, Message::default())
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Opt::field))
    }
}

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    file: String,
    line: Option<usize>,
    key: String,
    problem: Message,
    fix: Message,
}

impl InputError {
    /// A problem in `file` at `line` (1-based, where the problem has a place in the file) and `key`
    /// (the key path, e.g. `transition[3].to.BT`, or empty), with its fix (or none).
    pub fn new(
        file: impl Into<String>,
        line: Option<usize>,
        key: impl Into<String>,
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) -> InputError {
        InputError {
            file: file.into(),
            line,
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// The file, as the user named it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line, where the problem has a place in the file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The key path, e.g. `transition[3].to.BT` (may be empty).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong.
    pub fn problem(&self) -> &Message {
        &self.problem
    }

    /// How to fix it (may be empty).
    pub fn fix(&self) -> &Message {
        &self.fix
    }

    /// `file:line: `key`: problem`, then `fix: ` and the fix on a line of its own; options named by
    /// `names`.
    pub fn render(&self, names: Names) -> String {
        let mut s = match self.line {
            Some(line) => format!("{}:{line}: ", self.file),
            None => format!("{}: ", self.file),
        };
        if !self.key.is_empty() {
            s.push_str(&format!("`{}`: ", short(&self.key)));
        }
        s.push_str(&short(&self.problem.render(names)));
        if !self.fix.is_empty() {
            s.push_str("\n  fix: ");
            s.push_str(&short(&self.fix.render(names)));
        }
        s
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Opt::field))
    }
}

/// All problems found in an input file: at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(Vec<InputError>);

impl InputErrors {
    /// The problems, in the order found.
    pub fn list(&self) -> &[InputError] {
        &self.0
    }

    /// The first problem.
    pub fn first(&self) -> &InputError {
        &self.0[0]
    }

    /// Every problem with `before` put in front of what is wrong (e.g. in which run it arose).
    pub fn each_after(mut self, before: &str) -> InputErrors {
        for e in &mut self.0 {
            e.problem = std::mem::take(&mut e.problem).after(before);
        }
        self
    }

    /// Every problem, a line (or two, with its fix) each, then their number when there are several;
    /// options named by `names`.
    pub fn render(&self, names: Names) -> String {
        let mut s = self
            .0
            .iter()
            .map(|e| e.render(names))
            .collect::<Vec<_>>()
            .join("\n");
        if self.0.len() > 1 {
            s.push_str(&format!("\n({} problems)", self.0.len()));
        }
        s
    }
}

impl From<InputError> for InputErrors {
    fn from(e: InputError) -> InputErrors {
        InputErrors(vec![e])
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Opt::field))
    }
}

impl std::error::Error for InputErrors {}

/// The problems of one input file (a scenario, a sweep file), collected so that the user sees all of
/// them at once, each with the file, its line (from a byte offset into the file's text), the key, what is
/// wrong and the fix.
#[derive(Debug)]
pub struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    list: Vec<InputError>,
    most: usize,
}

impl<'a> Problems<'a> {
    /// No problems yet in `file`, whose text is `text`.
    pub fn new(file: &'a str, text: &'a str) -> Problems<'a> {
        Problems {
            file,
            text,
            list: Vec::new(),
            most: usize::MAX,
        }
    }

    /// Keeps at most `most` problems (at least one): a file of many bad rows shows its first ones.
    pub fn at_most(mut self, most: usize) -> Problems<'a> {
        self.most = most.max(1);
        self
    }

    /// The file's name, as the user gave it.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// The file's text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Adds a problem at byte offset `at` of the text, under `key`.
    pub fn add(
        &mut self,
        at: usize,
        key: impl Into<String>,
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) {
        self.add_line(Some(line_of(self.text, at)), key, problem, fix);
    }

    /// Adds a problem at a line the caller counted (e.g. a CSV reader), or at none.
    pub fn add_line(
        &mut self,
        line: Option<usize>,
        key: impl Into<String>,
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) {
        if self.list.len() < self.most {
            let e = InputError::new(self.file, line, key, problem, fix);
            self.list.push(e);
        }
    }

    /// Adds a problem after which checking cannot go on, and hands over every problem so far (the
    /// collector is empty after).
    pub fn give_up(
        &mut self,
        at: usize,
        key: impl Into<String>,
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) -> InputErrors {
        self.list.truncate(self.most - 1);
        self.add(at, key, problem, fix);
        InputErrors(std::mem::take(&mut self.list))
    }

    /// As [`Problems::give_up`], at a line the caller counted, or at none.
    pub fn give_up_line(
        &mut self,
        line: Option<usize>,
        key: impl Into<String>,
        problem: impl Into<Message>,
        fix: impl Into<Message>,
    ) -> InputErrors {
        self.list.truncate(self.most - 1);
        self.add_line(line, key, problem, fix);
        InputErrors(std::mem::take(&mut self.list))
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `Ok` when none was found, else every problem (handed over: the collector is empty after).
    pub fn finish(&mut self) -> std::result::Result<(), InputErrors> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(InputErrors(std::mem::take(&mut self.list)))
        }
    }
}

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
    /// The output folder holds earlier results (and the call did not ask to replace them).
    #[error("{0}")]
    OutputExists(Fault),
    /// The output path may not be written: it is not a folder wijksim wrote (a user's folder or file, a
    /// device, a link), or it is not a usable path. The message says why and what to do.
    #[error("{0}")]
    OutputRefused(Fault),
    /// Another writer holds the output folder's lock.
    #[error("{0}")]
    OutputBusy(Fault),
    /// Invalid options (e.g. zero runs).
    #[error("{0}")]
    Options(Fault),
}

impl Error {
    /// The message (without its cause: see [`std::error::Error::source`]), options named by `names`.
    /// `Display` is `render(Opt::field)`.
    pub fn render(&self, names: Names) -> String {
        match self {
            Error::Input(e) => e.render(names),
            Error::Write { path, .. } => format!("could not write '{path}'"),
            Error::OutputExists(f)
            | Error::OutputRefused(f)
            | Error::OutputBusy(f)
            | Error::Options(f) => f.render(names),
        }
    }

    /// The options of the call the message names.
    pub fn options(&self) -> Vec<Opt> {
        match self {
            Error::Input(e) => e
                .list()
                .iter()
                .flat_map(|e| e.problem().options().chain(e.fix().options()))
                .collect(),
            Error::Write { .. } => Vec::new(),
            Error::OutputExists(f)
            | Error::OutputRefused(f)
            | Error::OutputBusy(f)
            | Error::Options(f) => f.what().options().chain(f.fix().options()).collect(),
        }
    }
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
    Error::Input(
        InputError::new(
            file,
            line,
            key,
            problem,
            "the tables must be as `wijksim run` wrote them for this folder's scenario.toml; run the scenario again",
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(o: Opt) -> &'static str {
        match o {
            Opt::Out => "--out",
            Opt::Force => "--force",
            _ => "--other",
        }
    }

    #[test]
    fn a_message_names_options_in_the_words_of_whoever_renders_it() {
        let m = says!("choose another folder with ", Opt::Out, ", or pass ")
            .then(Opt::Force)
            .then(String::new())
            .then(" to replace it");
        assert_eq!(
            m.to_string(),
            "choose another folder with `out`, or pass `force` to replace it"
        );
        assert_eq!(
            m.render(flag),
            "choose another folder with --out, or pass --force to replace it"
        );
        assert_eq!(m.options().collect::<Vec<_>>(), [Opt::Out, Opt::Force]);
        let e = Error::OutputExists(Fault::new("output folder 'o' already holds results", m));
        assert_eq!(
            e.render(flag),
            "output folder 'o' already holds results\n  fix: choose another folder with --out, or pass --force to replace it"
        );
        assert!(Message::from("").is_empty() && Message::from(String::new()).is_empty());
    }

    #[test]
    fn the_collector_gives_every_problem_with_its_line_once() {
        let text = "a = 1\nb = 2\nc = 3\n";
        let mut p = Problems::new("f.toml", text);
        assert!(p.finish().is_ok());
        p.add(6, "b", "bad b", "fix b");
        p.add(12, "c", "bad c", "");
        let e = p.finish().unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.toml:2: `b`: bad b\n  fix: fix b\nf.toml:3: `c`: bad c\n(2 problems)"
        );
        // Handed over: the collector is empty again.
        assert!(p.is_empty() && p.finish().is_ok());
        // Giving up returns what came before with the last problem.
        p.add(0, "a", "bad a", "");
        let e = p.give_up(12, "c", "cannot go on", "");
        assert_eq!(e.list().len(), 2);
        assert_eq!(e.first().line(), Some(1));
        // A cap keeps the first problems, and the one given up on.
        let mut p = Problems::new("e.csv", "").at_most(2);
        for i in 0..5 {
            p.add_line(Some(i + 2), "", format!("row {i}"), "");
        }
        assert_eq!(p.finish().unwrap_err().list().len(), 2);
        p.add_line(Some(2), "", "row 0", "");
        p.add_line(Some(3), "", "row 1", "");
        let e = p.give_up_line(None, "arm", "no such arm", "");
        let problems: Vec<String> = e.list().iter().map(|x| x.problem().to_string()).collect();
        assert_eq!(problems, ["row 0", "no such arm"]);
    }
}
