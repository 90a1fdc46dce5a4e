//! Scenario files: reading, checking, and the built-in default.
//!
//! A scenario is a TOML file (format in the README, example in `scenarios/oosterschelde.toml`). It is
//! parsed into the raw file model ([`raw`]) and compiled once into a checked [`Model`]
//! ([`compile::compile`]).

mod capacity;
mod check;
pub mod compile;
mod costs;
pub mod dist;
mod kpis;
pub mod raw;
mod rederive;
mod regimes;
mod time_areas;
mod transitions;
pub use transitions::parse_band;

use crate::error::{InputError, InputErrors};
use crate::model::Model;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The default scenario (Oosterschelderegio), built into the binary.
pub const DEFAULT_TEXT: &str = include_str!("../../scenarios/oosterschelde.toml");
/// How the built-in default is named in messages and manifests.
pub const DEFAULT_NAME: &str = "scenarios/oosterschelde.toml (built in)";

/// Where a scenario came from, for the manifest.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it, or [`DEFAULT_NAME`].
    pub path: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// The text.
    pub text: String,
}

/// A checked scenario and its source.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The compiled model, every parameter at its mean.
    pub model: Model,
    /// Its source.
    pub source: Source,
    /// The parsed file, to compile again with parameters drawn for a run.
    pub raw: std::sync::Arc<raw::ScenarioFile>,
    /// With uncertain parameters: the sections of `raw` at the means, and which of them a run's draws
    /// touch ([`rederive`]).
    parts: Option<std::sync::Arc<rederive::Parts<'static>>>,
}

impl Scenario {
    /// Checks that the scenario's own number of runs (`run.runs`) fits the memory budget
    /// ([`crate::limits`]); a run given its own number of runs is checked on that number instead.
    pub fn check_runs(&self) -> Result<(), InputErrors> {
        let runs = u64::from(self.model.runs);
        let need = crate::limits::need(&self.model, runs, 1);
        match crate::limits::over_budget(&need, runs, "run.runs") {
            None => Ok(()),
            Some((problem, fix)) => Err(InputError::new(
                &self.source.path,
                Some(crate::error::line_of(
                    &self.source.text,
                    self.raw.run.get_ref().runs.span().start,
                )),
                "run.runs",
                problem,
                fix,
            )
            .into()),
        }
    }

    /// The model with every uncertain parameter drawn for run `run` of master seed `seed` (the model
    /// itself when no parameter is uncertain): the scenario compiled with the run's draws. Only the
    /// sections the draws touch are compiled anew (`scenario::rederive`); a run with a problem is
    /// compiled in full, which reports it.
    pub fn model_for_run(
        &self,
        seed: u64,
        run: u32,
    ) -> Result<std::borrow::Cow<'_, Model>, InputErrors> {
        if !self.model.uncertain {
            return Ok(std::borrow::Cow::Borrowed(&self.model));
        }
        let (path, text) = (self.source.path.as_str(), self.source.text.as_str());
        let fast = (self.parts.as_ref())
            .and_then(|p| p.model_for_run((path, text), &self.raw, (seed, run)));
        let model = match fast {
            Some(model) => self.with_budgets(model),
            None => self.full_model_for_run(seed, run)?,
        };
        Ok(std::borrow::Cow::Owned(model))
    }

    /// A run's model with the budgets of the planning model: budgets are set before the pilot, not
    /// from the run's draws.
    fn with_budgets(&self, mut model: Model) -> Model {
        model.regime_expected = self.model.regime_expected.clone();
        model.forecast_budgets = self.model.forecast_budgets.clone();
        model
    }
}

impl Scenario {
    /// [`Scenario::model_for_run`] of a scenario with uncertain parameters, by compiling the whole
    /// scenario with the run's draws: the same model, at a higher cost.
    pub fn full_model_for_run(&self, seed: u64, run: u32) -> Result<Model, InputErrors> {
        let model = compile::compile_raw(
            &self.source.path,
            &self.source.text,
            &self.raw,
            Some((seed, run)),
        )?;
        Ok(self.with_budgets(model))
    }

    /// The provenance of this scenario run by this wijksim, started at `started_utc` (see
    /// [`crate::output::manifest::utc`]), reproduced by `reproduce`; the wall time is set when the work
    /// is done.
    pub fn provenance(
        &self,
        started_utc: String,
        reproduce: &str,
    ) -> crate::output::manifest::Provenance {
        crate::output::manifest::Provenance {
            wijksim_version: crate::VERSION.into(),
            scenario_name: self.model.name.clone(),
            scenario_path: self.source.path.clone(),
            scenario_sha256: self.source.sha256.clone(),
            started_utc,
            wall_time_seconds: 0.0,
            reproduce: reproduce.into(),
        }
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compiles scenario text named `name`.
pub fn from_text(name: &str, text: &str) -> Result<Scenario, InputErrors> {
    let raw = compile::parse(name, text)?;
    let mut model = compile::compile_raw(name, text, &raw, None)?;
    crate::plan::set_budgets(&mut model);
    let parts = model
        .uncertain
        .then(|| rederive::Parts::new(name, text, &raw))
        .flatten()
        .map(std::sync::Arc::new);
    Ok(Scenario {
        model,
        parts,
        raw: std::sync::Arc::new(raw),
        source: Source {
            path: name.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            text: text.to_string(),
        },
    })
}

/// Reads and compiles a scenario file.
pub fn load(path: &Path) -> Result<Scenario, InputErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let fix = if e.kind() == std::io::ErrorKind::NotFound {
            "check the path; run `wijksim run` without a file for the built-in default, or copy scenarios/oosterschelde.toml"
        } else {
            "check that the file is readable UTF-8 text"
        };
        InputErrors::from(InputError::new(&name, None, "", format!("cannot read the scenario: {e}"), fix))
    })?;
    from_text(&name, &text)
}

/// The built-in default scenario.
pub fn default_scenario() -> Scenario {
    from_text(DEFAULT_NAME, DEFAULT_TEXT).expect("the built-in scenario is valid (tested)")
}
