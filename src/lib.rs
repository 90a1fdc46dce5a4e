//! # wijksim
//!
//! A Monte Carlo simulator and planning tool for Dutch municipal social support (Wmo): client
//! populations move month by month through support intensities (BTS, BT, Waakvlam, sociale basis,
//! vrijwilligerswerk, outflow), and wijksim forecasts caseload, flows and costs with their uncertainty.
//!
//! Pipeline: scenario file → [`scenario::compile`] → [`model::Model`] → [`engine::simulate`] per run →
//! [`summary`] (streaming statistics) → [`output`] (CSV files and manifest).
//!
//! The library never prints and never reads the command line; progress goes out through a callback
//! ([`batch::Progress`]).
#![deny(missing_docs)]

pub mod batch;
pub mod budget;
pub mod calibrate;
pub mod cohort;
pub mod compare;
pub mod csv_input;
pub mod engine;
pub mod error;
pub mod fit;
pub mod histories;
pub mod kpi;
pub mod limits;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod regime;
pub mod rng;
pub mod scenario;
pub mod scope;
pub mod sizing;
pub mod summary;
pub mod sweep;
pub mod uncertainty;

/// The version of wijksim, as written into every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
