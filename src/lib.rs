//! # wijksim
//!
//! A Monte Carlo simulator and planning tool for Dutch municipal social support (Wmo): client
//! populations move month by month through support intensities (BTS, BT, Waakvlam, sociale basis,
//! vrijwilligerswerk, outflow), and wijksim forecasts caseload, flows and costs with their uncertainty.
//!
//! Pipeline: scenario file → [`scenario::compile`] → [`model::Model`] → [`engine::simulate`] per run →
//! [`aggregate`] (streaming statistics) → [`output`] (CSV files and manifest).
//!
//! The library never prints and never reads the command line; progress goes out through a callback
//! ([`run::batch::Progress`]).
//!
//! # Running a scenario from a program
//!
//! [`scenario::load`] reads and checks a scenario file ([`scenario::default_scenario`] is the built-in
//! one); [`run::run_into`] runs it with [`run::RunOptions`] (the options of `wijksim run`)
//! and writes the output folder `wijksim run --out` writes. The [`run::RunReport`] it returns
//! holds the numbers of the tables: per arm a [`aggregate::Summary`] (statistics over runs of every
//! reported number) and the paired differences of each pilot arm with the baseline. Errors are values
//! ([`error::Error`]); a bad scenario gives every problem with file, line, key and fix.
//!
//! ```
//! use wijksim::run::{RunOptions, run_into};
//! use wijksim::model::scope::{REGION, ScopeKind};
//! use wijksim::aggregate::Account;
//!
//! let scenario = wijksim::scenario::default_scenario();
//! let opts = RunOptions {
//!     runs: Some(20),
//!     plots: wijksim::output::plot::Plots::None,
//!     ..RunOptions::default()
//! };
//! let out = std::env::temp_dir().join(format!("wijksim-doc-{}", std::process::id()));
//! let report = run_into(&scenario, &opts, &out, true)?;
//!
//! // What the municipality pays in 2022 in the baseline, over the 20 runs: P5, P50, P95.
//! let baseline = report.summary("baseline").unwrap();
//! let spend = baseline.account(REGION, 2022, Account::MunicipalSpend).unwrap();
//! let [p5, _, p50, _, p95] = spend.q;
//! assert!(p5 <= p50 && p50 <= p95 && p50 > 1e6);
//!
//! // The pilot's effect on the care its villages need, paired run by run with the baseline.
//! let effect = report
//!     .difference("dorpsbudget_noord_beveland", ScopeKind::PilotAreas, Account::CareCost)
//!     .unwrap();
//! assert!((0.0..=1.0).contains(&effect.p_lower));
//! assert!(report.folder.join("accounts.csv").is_file());
//! std::fs::remove_dir_all(&out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Without an output folder, [`run::batch::run_scenario`] gives the summaries alone and
//! [`aggregate::paired::differences`] the paired differences. `examples/embed.rs` is a whole program.
#![deny(missing_docs)]

pub mod aggregate;
pub mod data;
pub mod engine;
pub mod error;
pub mod limits;
pub mod model;
pub mod output;
pub mod plan;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sweep;

/// The version of wijksim, as written into every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
