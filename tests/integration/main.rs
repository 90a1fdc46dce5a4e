//! Integration tests, one test binary: `cli/` drives the real `wijksim` binary as a user would, in
//! temporary folders (commands, files, messages, safety); `model/` drives the library and checks the
//! model's answers (exact models, statistics, pilots, fitting). One module per feature. `code`
//! checks rules the source keeps (no function over 80 lines).

mod cli;
mod code;
mod model;

use assert_cmd::Command;

/// The `wijksim` binary.
pub fn wijksim() -> Command {
    Command::cargo_bin("wijksim").expect("the binary is built")
}

/// The default scenario's text.
pub fn default_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/oosterschelde.toml"
    ))
    .unwrap()
}

/// A scenario text without its `[[capacity]]` tables (so nobody waits).
pub fn without_capacity(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(at) = out.find("\n[[capacity]]") {
        let end = out[at + 1..].find("\n\n").map_or(out.len(), |e| at + 1 + e);
        out.replace_range(at + 1..end, "");
    }
    out
}
