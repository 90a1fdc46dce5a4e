//! Scenario sweeps: many full scenario runs over a design of parameter values.
//!
//! A sweep file names a base scenario and the numbers to vary by their key path ([`keypath`]), and a
//! design: a full grid, a Latin hypercube of N points (seeded), or a one-way analysis (each parameter to
//! its low and its high value, the others at their base). Every point is a full run of every arm with
//! common random numbers between arms, and with the same master seed at every point, so that the
//! differences between points are the effect of the parameters, not of chance.
//!
//! ```toml
//! [sweep]
//! name = "dorpsbudget_gevoeligheid"  # output folder name (default: the file's name)
//! scenario = "oosterschelde.toml"    # relative to this file; without it, the built-in default
//! design = "one_way"                 # "grid", "latin_hypercube" or "one_way"
//! runs = 200                         # runs per point (default: the scenario's)
//! metric = "dorpsbudget_noord_beveland.care_cost_difference"   # ranks the tornado plot
//!
//! [[parameter]]
//! key = "regime[dorpsbudget].prevention"
//! name = "preventie"                 # column name (default: the key)
//! low = 0.0
//! high = 0.2
//! ```

pub mod keypath;
pub mod metrics;
pub mod runner;
pub mod slurm;

use crate::error::{InputError, InputErrors, Problems, line_of};
use crate::rng::{Key, Purpose};
use crate::scenario::Scenario;
use keypath::KeyPath;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A number in a sweep file (integer or float).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sweep: Spanned<RawHead>,
    #[serde(default)]
    parameter: Vec<Spanned<RawParam>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    name: Option<Spanned<String>>,
    scenario: Option<Spanned<String>>,
    design: Spanned<String>,
    runs: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
    psa: Option<bool>,
    points: Option<Spanned<i64>>,
    design_seed: Option<Spanned<i64>>,
    metric: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    key: Spanned<String>,
    name: Option<Spanned<String>>,
    low: Option<Spanned<Number>>,
    high: Option<Spanned<Number>>,
    base: Option<Spanned<Number>>,
    values: Option<Spanned<Vec<Number>>>,
    steps: Option<Spanned<i64>>,
}

/// The kinds of design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// Every combination of every parameter's values.
    Grid,
    /// A Latin hypercube: `points` points, each parameter's range cut into `points` strata, one point
    /// in each stratum of every parameter.
    LatinHypercube,
    /// The base point, then each parameter at its low and at its high value, the others at base.
    OneWay,
}

impl Design {
    /// The name in a sweep file.
    pub fn name(self) -> &'static str {
        match self {
            Design::Grid => "grid",
            Design::LatinHypercube => "latin_hypercube",
            Design::OneWay => "one_way",
        }
    }
}

/// A swept parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Column name in `sweep.csv`.
    pub name: String,
    /// Where it is in the scenario.
    pub key: KeyPath,
    /// Whether the scenario takes a whole number there (values are rounded).
    pub integer: bool,
    /// Low and high value (Latin hypercube, one-way; grid from `steps`).
    pub low: f64,
    /// High value.
    pub high: f64,
    /// Base value (one-way): as given, or the scenario's.
    pub base: f64,
    /// Grid values.
    pub values: Vec<f64>,
}

/// A checked sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name (output folder).
    pub name: String,
    /// The sweep file as the user named it.
    pub file: String,
    /// The sweep file's text.
    pub text: String,
    /// SHA-256 of the sweep file.
    pub sha256: String,
    /// The base scenario.
    pub scenario: Scenario,
    /// The design.
    pub design: Design,
    /// Runs per point.
    pub runs: u32,
    /// Master seed, the same for every point.
    pub seed: u64,
    /// Whether uncertain parameters (not swept) are drawn per run.
    pub psa: bool,
    /// The parameters.
    pub parameters: Vec<Parameter>,
    /// The points: one value per parameter.
    pub points: Vec<Vec<f64>>,
    /// The metric that ranks the tornado plot.
    pub metric: String,
    /// The metric names of every point (the columns after the parameters).
    pub metric_names: Vec<String>,
    /// Where `[sweep]` starts in the text (the line that errors about points name).
    head_at: usize,
}

/// The largest number of points a sweep may have (every point is checked before anything runs).
pub const MAX_POINTS: usize = crate::limits::MAX_POINTS as usize;

/// Reads and checks a sweep file; the base scenario is read relative to it. Every point is applied to
/// the scenario and checked before anything runs (what `wijksim check` and the Slurm scripts need).
pub fn load(path: &Path) -> Result<Sweep, InputErrors> {
    let (file, text, dir, stem) = read_file(path)?;
    from_text(&file, &text, &dir, &stem)
}

/// Reads and checks a sweep file as [`load`] does, except its points' scenarios: those are checked by
/// [`Sweep::check_points`], which [`runner::run`] calls for the points of its folder before anything
/// runs. A shard of a large sweep so starts without compiling the other shards' points.
pub fn read(path: &Path) -> Result<Sweep, InputErrors> {
    let (file, text, dir, stem) = read_file(path)?;
    from_text_unchecked(&file, &text, &dir, &stem)
}

/// A sweep file's name as given, its text, its folder and its name without extension.
fn read_file(path: &Path) -> Result<(String, String, PathBuf, String), InputErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputErrors::from(InputError::new(
            &file,
            None,
            "",
            format!("cannot read the sweep file: {e}"),
            "check the path; an example is scenarios/sweep_one_way.toml",
        ))
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    Ok((file, text, dir, stem))
}

/// Checks sweep text named `file`; a relative scenario path is taken from `dir`. Every point is
/// applied to the scenario and checked, as [`load`] does.
pub fn from_text(file: &str, text: &str, dir: &Path, stem: &str) -> Result<Sweep, InputErrors> {
    build(file, text, dir, stem, true)
}

/// Checks sweep text named `file` as [`from_text`] does, but leaves the points' scenarios to
/// [`Sweep::check_points`], as [`read`] does.
pub fn from_text_unchecked(
    file: &str,
    text: &str,
    dir: &Path,
    stem: &str,
) -> Result<Sweep, InputErrors> {
    build(file, text, dir, stem, false)
}

/// The numbers of `[sweep]` besides the design: runs, seed, points and the design's seed.
struct Settings {
    runs: u32,
    seed: u64,
    n_lhs: Option<u64>,
    design_seed: u64,
}

/// The whole check of a sweep text; `check_points` says whether every point is applied and compiled
/// too (before the metric and the name are checked, so a file with several problems reports the same
/// first one either way).
fn build(
    file: &str,
    text: &str,
    dir: &Path,
    stem: &str,
    check_points: bool,
) -> Result<Sweep, InputErrors> {
    let raw = parse(file, text)?;
    let head = raw.sweep.get_ref();
    let scenario = base_scenario(file, text, dir, head)?;
    let design = design_of(file, text, head)?;
    let mut errs = Problems::new(file, text);
    let settings = settings(&raw, design, &scenario, &mut errs);
    if raw.parameter.is_empty() {
        errs.add(raw.sweep.span().end, "parameter", "the sweep varies no parameter", "add [[parameter]] tables with `key` (a key path into the scenario) and `low`/`high` or `values`");
    }
    let mut doc = scenario_doc(&scenario)?;
    let params = parameters(&raw, design, &scenario, &mut doc, &mut errs);
    errs.finish()?;
    let points = design_points(file, text, &raw, design, &settings, &params)?;
    let metric_names = metrics::names(&scenario.model);
    let mut sweep = Sweep {
        name: String::new(),
        file: file.to_string(),
        text: text.to_string(),
        sha256: crate::scenario::sha256_hex(text.as_bytes()),
        scenario,
        design,
        runs: settings.runs,
        seed: settings.seed,
        psa: head.psa.unwrap_or(true),
        parameters: params,
        points,
        metric: String::new(),
        metric_names,
        head_at: raw.sweep.span().start,
    };
    if check_points {
        sweep.check_points(0..sweep.points.len())?;
    }
    sweep.metric = metric(file, text, head, &sweep)?;
    sweep.name = name(file, text, head, stem)?;
    Ok(sweep)
}

/// The sweep file as TOML.
fn parse(file: &str, text: &str) -> Result<RawFile, InputErrors> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let msg = e.message().trim().to_string();
        InputErrors::from(InputError::new(
            file,
            line,
            "",
            format!("TOML: {msg}"),
            "compare with the example sweep files in scenarios/ (sweep_*.toml): a [sweep] table and [[parameter]] tables",
        ))
    })
}

/// The base scenario: `sweep.scenario` relative to `dir`, or the built-in default.
fn base_scenario(
    file: &str,
    text: &str,
    dir: &Path,
    head: &RawHead,
) -> Result<Scenario, InputErrors> {
    let Some(s) = &head.scenario else {
        return Ok(crate::scenario::default_scenario());
    };
    let p = PathBuf::from(s.get_ref());
    let p = if p.is_absolute() { p } else { dir.join(p) };
    crate::scenario::load(&p).map_err(|e| {
        if e.list()
            .iter()
            .any(|x| x.problem().to_string().starts_with("cannot read"))
        {
            return Problems::new(file, text).give_up(
                s.span().start,
                "sweep.scenario",
                format!("cannot read the scenario `{}`", p.display()),
                "give the scenario's path relative to the sweep file, or leave `scenario` out for the built-in default",
            );
        }
        e
    })
}

/// `sweep.design`.
fn design_of(file: &str, text: &str, head: &RawHead) -> Result<Design, InputErrors> {
    match head.design.get_ref().as_str() {
        "grid" => Ok(Design::Grid),
        "latin_hypercube" => Ok(Design::LatinHypercube),
        "one_way" => Ok(Design::OneWay),
        other => Err(Problems::new(file, text).give_up(
            head.design.span().start,
            "sweep.design",
            format!("unknown design `{other}`"),
            "use \"grid\", \"latin_hypercube\" or \"one_way\"",
        )),
    }
}

/// A positive whole number of `[sweep]`, if given.
fn positive(v: &Option<Spanned<i64>>, key: &str, errs: &mut Problems) -> Option<u64> {
    let v = v.as_ref()?;
    if *v.get_ref() < 1 {
        errs.add(
            v.span().start,
            key,
            format!("must be at least 1, not {}", v.get_ref()),
            "give a positive whole number",
        );
        None
    } else {
        Some(*v.get_ref() as u64)
    }
}

/// A whole number from 0 of `[sweep]`, or `default`.
fn nonneg(v: &Option<Spanned<i64>>, key: &str, default: u64, errs: &mut Problems) -> u64 {
    match v {
        Some(s) if *s.get_ref() < 0 => {
            errs.add(
                s.span().start,
                key,
                "must not be negative",
                "give a whole number from 0",
            );
            0
        }
        Some(s) => *s.get_ref() as u64,
        None => default,
    }
}

/// Runs, seed, the number of points and the design seed of `[sweep]`, with their limits.
fn settings(raw: &RawFile, design: Design, scenario: &Scenario, errs: &mut Problems) -> Settings {
    let head = raw.sweep.get_ref();
    let runs = positive(&head.runs, "sweep.runs", errs)
        .map_or(scenario.model.runs, |r| r.min(u64::from(u32::MAX)) as u32);
    if let Some(r) = &head.runs {
        check_runs(r, runs, scenario, errs);
    }
    let seed = nonneg(&head.seed, "sweep.seed", scenario.model.seed, errs);
    let n_lhs = positive(&head.points, "sweep.points", errs);
    let design_seed = nonneg(&head.design_seed, "sweep.design_seed", 1, errs);
    if design == Design::LatinHypercube && n_lhs.is_none() && head.points.is_none() {
        errs.add(
            raw.sweep.span().start,
            "sweep.points",
            "a Latin hypercube needs its number of points",
            "add e.g. `points = 200` to [sweep]",
        );
    }
    if design != Design::LatinHypercube
        && let Some(p) = &head.points
    {
        errs.add(
            p.span().start,
            "sweep.points",
            format!(
                "`points` is for the Latin hypercube, not for design \"{}\"",
                design.name()
            ),
            "remove it; the points of a grid or one-way design follow from the parameters",
        );
    }
    Settings {
        runs,
        seed,
        n_lhs,
        design_seed,
    }
}

/// `sweep.runs` within the limits of runs and memory.
fn check_runs(r: &Spanned<i64>, runs: u32, scenario: &Scenario, errs: &mut Problems) {
    let need = crate::limits::need(&scenario.model, u64::from(runs), 1);
    if *r.get_ref() as u64 > crate::limits::MAX_RUNS {
        errs.add(
            r.span().start,
            "sweep.runs",
            format!(
                "runs is {}; it must be from 1 to {}",
                r.get_ref(),
                crate::limits::MAX_RUNS
            ),
            "give the runs per point, e.g. 100",
        );
    } else if let Some((problem, fix)) =
        crate::limits::over_budget(&need, u64::from(runs), "sweep.runs")
    {
        errs.add(r.span().start, "sweep.runs", problem, fix);
    }
}

/// The base scenario's text as an editable document.
fn scenario_doc(scenario: &Scenario) -> Result<toml_edit::DocumentMut, InputErrors> {
    scenario.source.text.parse().map_err(|e| {
        InputErrors::from(InputError::new(
            &scenario.source.path,
            None,
            "",
            format!("TOML: {e}"),
            "fix the scenario",
        ))
    })
}

/// The `[[parameter]]` tables, each checked against the scenario and the design.
fn parameters(
    raw: &RawFile,
    design: Design,
    scenario: &Scenario,
    doc: &mut toml_edit::DocumentMut,
    errs: &mut Problems,
) -> Vec<Parameter> {
    let mut params: Vec<Parameter> = Vec::new();
    for (i, p) in raw.parameter.iter().enumerate() {
        let cx = ParamCx { i, p, design };
        if let Some(param) = cx.parameter(scenario, doc, &params, errs) {
            params.push(param);
        }
    }
    params
}

/// One `[[parameter]]` table being checked: where it is and what the design asks of it.
struct ParamCx<'a> {
    i: usize,
    p: &'a Spanned<RawParam>,
    design: Design,
}

impl ParamCx<'_> {
    fn at(&self, k: &str) -> String {
        format!("parameter[{}].{k}", self.i)
    }

    fn err(
        &self,
        errs: &mut Problems,
        at: usize,
        k: &str,
        problem: impl Into<crate::error::Message>,
        fix: &str,
    ) {
        errs.add(at, self.at(k), problem, fix);
    }

    /// The parameter, or `None` when its key path names no number of the scenario.
    fn parameter(
        &self,
        scenario: &Scenario,
        doc: &mut toml_edit::DocumentMut,
        params: &[Parameter],
        errs: &mut Problems,
    ) -> Option<Parameter> {
        let rp = self.p.get_ref();
        let key = match KeyPath::parse(rp.key.get_ref()) {
            Ok(k) => k,
            Err(e) => {
                self.err(errs, rp.key.span().start, "key", e, "write keys separated by dots, elements as [name] or [position], e.g. regime[dorpsbudget].prevention");
                return None;
            }
        };
        let (integer, current) = match keypath::inspect(doc, &key) {
            Ok(x) => x,
            Err(e) => {
                self.err(errs, rp.key.span().start, "key", format!("{e} (in {})", scenario.source.path), "name a number of the scenario; elements of a list by [name] or [position], e.g. regime[dorpsbudget].prevention or cost[1].tariff_per_hour");
                return None;
            }
        };
        let name = rp
            .name
            .as_ref()
            .map_or_else(|| key.to_string(), |n| n.get_ref().clone());
        self.unique(&name, &key, params, errs);
        let num = |v: &Option<Spanned<Number>>| v.as_ref().map(|x| (x.get_ref().0, x.span().start));
        let (low, high, base) = (num(&rp.low), num(&rp.high), num(&rp.base));
        let values = match self.design {
            Design::Grid => self.grid_values(low, high, errs),
            Design::LatinHypercube | Design::OneWay => {
                self.range_only(low, high, errs);
                Vec::new()
            }
        };
        let (l, h) = (
            low.map_or(f64::NAN, |x| x.0),
            high.map_or(f64::NAN, |x| x.0),
        );
        if let (Some(lo), Some(_)) = (low, high)
            && l > h
        {
            self.err(
                errs,
                lo.1,
                "low",
                format!("low {l} is above high {h}"),
                "swap them",
            );
        }
        let base_value = self.base(base, current, &key, errs);
        let round = |x: f64| if integer { x.round() } else { x };
        Some(Parameter {
            name,
            key,
            integer,
            low: round(l),
            high: round(h),
            base: round(base_value),
            values: values.into_iter().map(round).collect(),
        })
    }

    /// Each parameter has its own name and its own key path.
    fn unique(&self, name: &str, key: &KeyPath, params: &[Parameter], errs: &mut Problems) {
        if params.iter().any(|q| q.name == name) {
            self.err(
                errs,
                self.p.span().start,
                "name",
                format!("two parameters are named `{name}`"),
                "give each parameter its own `name` (or key)",
            );
        }
        if params.iter().any(|q| q.key == *key) {
            self.err(
                errs,
                self.p.get_ref().key.span().start,
                "key",
                format!("`{key}` is swept twice"),
                "sweep each number once",
            );
        }
    }

    /// A grid parameter's values: as listed, or `steps` values from `low` to `high`.
    fn grid_values(
        &self,
        low: Option<(f64, usize)>,
        high: Option<(f64, usize)>,
        errs: &mut Problems,
    ) -> Vec<f64> {
        let rp = self.p.get_ref();
        match (&rp.values, low, high, &rp.steps) {
            (Some(v), None, None, None) => {
                let values: Vec<f64> = v.get_ref().iter().map(|n| n.0).collect();
                if values.is_empty() {
                    self.err(
                        errs,
                        v.span().start,
                        "values",
                        "the list is empty",
                        "give at least one value",
                    );
                }
                values
            }
            (None, Some(l), Some(h), Some(s)) => {
                let n = *s.get_ref();
                if n < 2 {
                    self.err(
                        errs,
                        s.span().start,
                        "steps",
                        format!("must be at least 2, not {n}"),
                        "give the number of values from low to high, ends included",
                    );
                    Vec::new()
                } else {
                    (0..n)
                        .map(|k| l.0 + (h.0 - l.0) * k as f64 / (n - 1) as f64)
                        .collect()
                }
            }
            _ => {
                self.err(
                    errs,
                    self.p.span().start,
                    "values",
                    "a grid parameter needs `values = [...]`, or `low`, `high` and `steps`",
                    "e.g. values = [0.0, 0.1, 0.2], or low = 0.0, high = 0.2, steps = 3",
                );
                Vec::new()
            }
        }
    }

    /// A Latin hypercube or one-way parameter: `low` and `high`, no grid values.
    fn range_only(
        &self,
        low: Option<(f64, usize)>,
        high: Option<(f64, usize)>,
        errs: &mut Problems,
    ) {
        let rp = self.p.get_ref();
        if rp.values.is_some() || rp.steps.is_some() {
            self.err(
                errs,
                self.p.span().start,
                "values",
                format!(
                    "`values` and `steps` are for grids, not for design \"{}\"",
                    self.design.name()
                ),
                "give `low` and `high`",
            );
        }
        if low.is_none() || high.is_none() {
            self.err(
                errs,
                self.p.span().start,
                "low",
                "needs `low` and `high`",
                "e.g. low = 0.0, high = 0.2",
            );
        }
    }

    /// The base value: as given (one-way only), or the scenario's.
    fn base(
        &self,
        base: Option<(f64, usize)>,
        current: Option<f64>,
        key: &KeyPath,
        errs: &mut Problems,
    ) -> f64 {
        match (base, current) {
            (Some(b), _) => {
                if self.design != Design::OneWay {
                    self.err(
                        errs,
                        b.1,
                        "base",
                        "`base` is for one-way designs",
                        "remove it",
                    );
                }
                b.0
            }
            (None, Some(c)) => c,
            (None, None) => {
                if self.design == Design::OneWay {
                    self.err(
                        errs,
                        self.p.span().start,
                        "base",
                        format!("the scenario's `{key}` is a distribution without a mean"),
                        "give `base`",
                    );
                }
                f64::NAN
            }
        }
    }
}

/// The points of the design, at most [`MAX_POINTS`].
fn design_points(
    file: &str,
    text: &str,
    raw: &RawFile,
    design: Design,
    settings: &Settings,
    params: &[Parameter],
) -> Result<Vec<Vec<f64>>, InputErrors> {
    let too_many = |key: &str, problem: String, fix: &str| {
        Problems::new(file, text).give_up(raw.sweep.span().start, key, problem, fix)
    };
    match design {
        Design::Grid => {
            let n: usize = params
                .iter()
                .map(|p| p.values.len())
                .try_fold(1usize, |a, b| a.checked_mul(b))
                .unwrap_or(usize::MAX);
            if n > MAX_POINTS {
                return Err(too_many(
                    "parameter",
                    format!("the grid has {n} points, more than {MAX_POINTS}"),
                    "use fewer values per parameter, or a Latin hypercube",
                ));
            }
            Ok(grid(params))
        }
        Design::LatinHypercube => {
            let n = settings.n_lhs.unwrap_or(1) as usize;
            if n > MAX_POINTS {
                return Err(too_many(
                    "sweep.points",
                    format!("{n} points is more than {MAX_POINTS}"),
                    "use fewer points (a Latin hypercube of a few hundred points covers most parameter spaces)",
                ));
            }
            Ok(latin_hypercube(params, n, settings.design_seed))
        }
        Design::OneWay => Ok(one_way(params)),
    }
}

/// `sweep.metric`: one of the sweep's metrics, or the scenario's default.
fn metric(file: &str, text: &str, head: &RawHead, sweep: &Sweep) -> Result<String, InputErrors> {
    let Some(m) = &head.metric else {
        return Ok(metrics::default_metric(&sweep.scenario.model));
    };
    if !sweep.metric_names.contains(m.get_ref()) {
        return Err(Problems::new(file, text).give_up(
            m.span().start,
            "sweep.metric",
            format!("no metric `{}`", m.get_ref()),
            format!("choose one of: {}", sweep.metric_names.join(", ")),
        ));
    }
    Ok(m.get_ref().clone())
}

/// `sweep.name`, or a folder name made from the file's name.
fn name(file: &str, text: &str, head: &RawHead, stem: &str) -> Result<String, InputErrors> {
    let Some(n) = &head.name else {
        return Ok(crate::output::guard::folder_name_from(stem));
    };
    crate::output::guard::check_folder_name(n.get_ref()).map_err(|problem| {
        Problems::new(file, text).give_up(
            n.span().start,
            "sweep.name",
            problem,
            "use e.g. name = \"dorpsbudget_gevoeligheid\"",
        )
    })?;
    Ok(n.get_ref().clone())
}

fn describe(params: &[Parameter], pt: &[f64]) -> String {
    params
        .iter()
        .zip(pt)
        .map(|(p, v)| format!("{} = {v}", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn point_error(sweep: &Sweep, k: usize, e: InputErrors) -> InputErrors {
    let first = e.first().to_string().replace('\n', " ");
    Problems::new(&sweep.file, &sweep.text).give_up(
        sweep.head_at,
        "parameter",
        format!(
            "point {k} ({}) makes the scenario invalid: {first}",
            describe(&sweep.parameters, &sweep.points[k])
        ),
        "narrow the parameter's range to values the scenario accepts",
    )
}

/// Every combination, the first parameter varying slowest.
fn grid(params: &[Parameter]) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = vec![Vec::new()];
    for p in params {
        out = out
            .into_iter()
            .flat_map(|pt| {
                p.values.iter().map(move |v| {
                    let mut q = pt.clone();
                    q.push(*v);
                    q
                })
            })
            .collect();
    }
    out
}

/// A Latin hypercube of `n` points on `[low, high]` per parameter, from the keyed stream of `seed`.
fn latin_hypercube(params: &[Parameter], n: usize, seed: u64) -> Vec<Vec<f64>> {
    let root = Key::root(seed).purpose(Purpose::Design);
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for (j, p) in params.iter().enumerate() {
        let mut s = root.child(j as u64).stream();
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let k = s.int_in(0, i as u32) as usize;
            perm.swap(i, k);
        }
        cols.push(
            perm.iter()
                .map(|&stratum| {
                    let u = (stratum as f64 + s.uniform()) / n as f64;
                    let x = p.low + u * (p.high - p.low);
                    if p.integer { x.round() } else { x }
                })
                .collect(),
        );
    }
    (0..n)
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect()
}

/// The base point, then each parameter low and high with the others at base.
fn one_way(params: &[Parameter]) -> Vec<Vec<f64>> {
    let base: Vec<f64> = params.iter().map(|p| p.base).collect();
    let mut out = vec![base.clone()];
    for (j, p) in params.iter().enumerate() {
        for v in [p.low, p.high] {
            let mut q = base.clone();
            q[j] = v;
            out.push(q);
        }
    }
    out
}

/// The scenario with the parameters at a point's values. `doc` is the base scenario's document; it is
/// left with the point's values (every point sets every swept number).
pub fn apply(
    base: &Scenario,
    params: &[Parameter],
    point: &[f64],
    doc: &mut toml_edit::DocumentMut,
) -> Result<Scenario, InputErrors> {
    for (p, v) in params.iter().zip(point) {
        keypath::set(doc, &p.key, *v)
            .map_err(|e| InputError::new(&base.source.path, None, p.key.to_string(), e, ""))?;
    }
    crate::scenario::from_text(&base.source.path, &doc.to_string())
}

impl Sweep {
    /// The scenario of point `k`.
    pub fn scenario_at(&self, k: usize) -> Result<Scenario, InputErrors> {
        let mut doc = scenario_doc(&self.scenario)?;
        apply(&self.scenario, &self.parameters, &self.points[k], &mut doc)
    }

    /// Checks points `ks` (in that order, up to the first bad one): each must give a valid scenario
    /// that reports the same numbers as the base scenario. An error names the point, its values and
    /// the sweep file's `[sweep]` line.
    pub fn check_points(&self, ks: impl IntoIterator<Item = usize>) -> Result<(), InputErrors> {
        let mut doc = scenario_doc(&self.scenario)?;
        for k in ks {
            let pt = &self.points[k];
            let sc = apply(&self.scenario, &self.parameters, pt, &mut doc)
                .map_err(|e| point_error(self, k, e))?;
            if metrics::names(&sc.model) != self.metric_names {
                return Err(Problems::new(&self.file, &self.text).give_up(
                    self.head_at,
                    "parameter",
                    format!(
                        "point {k} ({}) changes what the scenario reports (its years, arms or KPI contract years)",
                        describe(&self.parameters, pt)
                    ),
                    "sweep numbers that leave the horizon, the arms and the contract years as they are",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(low: f64, high: f64, integer: bool) -> Parameter {
        Parameter {
            name: "x".into(),
            key: KeyPath::parse("a").unwrap(),
            integer,
            low,
            high,
            base: (low + high) / 2.0,
            values: vec![low, high],
        }
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum() {
        let n = 50;
        let pts = latin_hypercube(&[p(0.0, 1.0, false), p(10.0, 20.0, false)], n, 7);
        for (j, (lo, w)) in [(0.0, 1.0), (10.0, 10.0)].into_iter().enumerate() {
            let mut strata: Vec<usize> = pts
                .iter()
                .map(|q| ((q[j] - lo) / w * n as f64) as usize)
                .collect();
            strata.sort();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
        assert_eq!(
            pts,
            latin_hypercube(&[p(0.0, 1.0, false), p(10.0, 20.0, false)], n, 7)
        );
        assert_ne!(
            pts,
            latin_hypercube(&[p(0.0, 1.0, false), p(10.0, 20.0, false)], n, 8)
        );
    }

    #[test]
    fn grid_and_one_way_designs() {
        let g = grid(&[p(0.0, 1.0, false), p(5.0, 6.0, false)]);
        assert_eq!(
            g,
            vec![
                vec![0.0, 5.0],
                vec![0.0, 6.0],
                vec![1.0, 5.0],
                vec![1.0, 6.0]
            ]
        );
        let o = one_way(&[p(0.0, 1.0, false), p(5.0, 6.0, false)]);
        assert_eq!(
            o,
            vec![
                vec![0.5, 5.5],
                vec![0.0, 5.5],
                vec![1.0, 5.5],
                vec![0.5, 5.0],
                vec![0.5, 6.0]
            ]
        );
    }
}
