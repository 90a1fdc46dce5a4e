//! Through the binary, as a user runs it: commands, output files, messages, what wijksim may touch.

mod bounds;
pub mod check;
mod figures;
mod flags;
mod golden;
mod histories;
mod manifest;
mod packaging;
mod readme;
mod report;
mod rerender;
mod run;
mod safety;
mod slurm;
mod sweep;

pub use crate::{default_text, wijksim};
