//! Through the library: the model's answers — exact models, statistics, pilots, fitting and calibration.

mod calibrate;
mod cohort;
mod engine;
mod examples;
mod fit;
mod fuzz;
mod library;
mod own_contribution;
mod pilot;
mod pilot_period;
mod psa;
mod reassessment;
mod scopes;

pub use crate::{default_text, wijksim, without_capacity};
