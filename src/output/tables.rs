//! The tables of an output folder read back, so figures, report and workbook are drawn from the files.
//!
//! A run writes its CSV files first and then draws every figure, the report and the workbook from those
//! files as written (numbers rounded as printed), through [`arms`] and [`differences`]. `wijksim
//! report OUTPUT_DIR` takes the same path from the files on disk, so it redraws them byte for byte
//! without simulating again.
//!
//! Spread and probabilities need per-run values: `runs.csv` holds them for the numbers the figures and
//! the report use (total cost per year, the discounted totals, KPI values), one row per arm and run.
//! Every other number comes with its statistics from its own table (`caseload.csv`, `costs.csv`, ...).
//! What is read back is an [`ArmTables`] per arm, which says which numbers the tables hold: it is not a
//! [`Summary`], which holds every number of every run.

use crate::aggregate::paired::Difference;
use crate::aggregate::{
    Account, BudgetMeasure, Columns, Econ, KpiCell, Layout, Stats, Summary, stats,
};
use crate::error::Result;
use crate::model::Model;
use std::collections::HashMap;

/// A per-run column of `runs.csv`.
#[derive(Debug, Clone)]
pub struct RunColumn {
    /// Column name.
    pub name: String,
    /// Its cell in each scope (`None`: not reported there, an empty field). The cells are common
    /// cells, the same for every arm.
    pub cells: Vec<Option<usize>>,
    /// Decimals printed (`None`: as many as the value needs to be read back exactly).
    pub decimals: Option<usize>,
}

/// The accounts `runs.csv` holds per run, year and scope.
pub const RUN_ACCOUNTS: [Account; 5] = [
    Account::CareCost,
    Account::CommunityCost,
    Account::MunicipalSpend,
    Account::TopUps,
    Account::Overspend,
];

/// The columns of `runs.csv` after `arm,run,scope,scope_name`: per year `care_cost_<year>`,
/// `community_cost_<year>`, `municipal_spend_<year>`, `top_ups_<year>` and `overspend_<year>` (nominal;
/// see [`crate::aggregate::Account`]), then `discounted_cost`, `clients`, `discounted_<outcome>` and
/// `<kpi>_cy<contract year>` (empty in a scope the KPI is not evaluated over).
pub fn run_columns(model: &Model, layout: &Layout) -> Vec<RunColumn> {
    let scopes = 0..layout.scopes.len();
    let mut v: Vec<RunColumn> = Vec::new();
    for k in RUN_ACCOUNTS {
        let stem = k.name().trim_start_matches("municipal_spend.");
        for (y, year) in layout.years.iter().enumerate() {
            v.push(RunColumn {
                name: format!("{stem}_{year}"),
                cells: scopes
                    .clone()
                    .map(|sc| Some(layout.account(sc, y, k)))
                    .collect(),
                decimals: Some(2),
            });
        }
    }
    for e in Econ::all(model.outcomes.len()) {
        let (name, decimals) = match e {
            Econ::DiscountedCost => ("discounted_cost".to_string(), 2),
            Econ::Clients => ("clients".to_string(), 3),
            Econ::Outcome(k) => (format!("discounted_{}", model.outcomes[k].name), 6),
        };
        v.push(RunColumn {
            name,
            cells: scopes.clone().map(|sc| Some(layout.econ(sc, e))).collect(),
            decimals: Some(decimals),
        });
    }
    for (k, kpi) in model.kpis.iter().enumerate() {
        if kpi.is_evaluations() {
            continue;
        }
        for y in 0..kpi.years() {
            v.push(RunColumn {
                name: format!("{}_cy{}", kpi.name, y + 1),
                cells: scopes
                    .clone()
                    .map(|sc| {
                        let i = kpi.scopes.iter().position(|&x| x == sc)?;
                        Some(layout.kpi(model, k, i, y, KpiCell::Value))
                    })
                    .collect(),
                decimals: None,
            });
        }
    }
    v
}

/// `runs.csv`: `arm,run,scope,scope_name,` then [`run_columns`]: the per-run values behind the spread
/// and the probabilities, one row per arm, run and scope, paired by run between arms (common random
/// numbers).
pub fn runs_csv(model: &Model, summaries: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let Some(first) = summaries.first() else {
        return Vec::new();
    };
    let cols = run_columns(model, &first.layout);
    let mut head = ["arm", "run", "scope", "scope_name"]
        .map(String::from)
        .to_vec();
    head.extend(cols.iter().map(|c| c.name.clone()));
    w.write_record(&head).expect("writing to memory");
    for sm in summaries {
        for r in 0..sm.runs {
            for (sc, scope) in sm.layout.scopes.iter().enumerate() {
                let mut row = vec![
                    sm.arm.clone(),
                    r.to_string(),
                    scope.kind.name().to_string(),
                    scope.name.clone(),
                ];
                row.extend(cols.iter().map(|c| {
                    let Some(cell) = c.cells[sc] else {
                        return String::new();
                    };
                    let x = sm.columns.value(cell, r);
                    match c.decimals {
                        Some(d) => format!("{x:.d$}"),
                        None => format!("{x}"),
                    }
                }));
                w.write_record(&row).expect("writing to memory");
            }
        }
    }
    w.into_inner().expect("writing to memory")
}

/// One arm's numbers as the tables of an output folder hold them, read back for the figures, the report
/// and the workbook (see [`arms`]).
///
/// What it knows:
/// - the statistics of every row of `caseload.csv`, `flows.csv`, `costs.csv`, `accounts.csv`,
///   `budget.csv`, `kpis.csv` and `evaluations.csv`, as printed (a statistic a table does not print,
///   such as the `sd` of `kpis.csv`, is NaN). Reading fails when a row is missing, so the typed
///   accessors ([`ArmTables::caseload`], [`ArmTables::kpi`], [`ArmTables::budget`]) always have a
///   number;
/// - the per-run values of the columns of `runs.csv` ([`run_columns`]), and the statistics over runs
///   of those cells, computed from them;
///
/// and nothing else: the other cells of the [`Layout`] (e.g. a pilot area's spend on its budget's
/// lines) are `None` in [`ArmTables::stats`], and there are no per-run values but those of `runs.csv`
/// ([`ArmTables::per_run`]).
#[derive(Debug, Clone)]
pub struct ArmTables {
    /// Arm name.
    pub arm: String,
    /// Where each number lives (the run's layout).
    pub layout: Layout,
    /// Runs, as the manifest says (1 for the cohort engine).
    pub runs: usize,
    /// Statistics by cell: `None` for a cell no table holds.
    stats: Vec<Option<Stats>>,
    /// The per-run values of the cells of `runs.csv`.
    per_run: Columns,
    /// Whether `per_run` holds a cell.
    kept: Vec<bool>,
}

impl ArmTables {
    /// The statistics of cell `cell`, or `None` when no table holds it.
    pub fn stats(&self, cell: usize) -> Option<&Stats> {
        self.stats.get(cell)?.as_ref()
    }

    /// The per-run values of cell `cell` in run order, or `None` when it is not a cell of `runs.csv`.
    pub fn per_run(&self, cell: usize) -> Option<&[f64]> {
        self.kept
            .get(cell)
            .copied()
            .unwrap_or(false)
            .then(|| self.per_run.floats(cell))
    }

    /// The per-run values of account `k` (one of [`RUN_ACCOUNTS`]) of scope `sc` in year index `y`
    /// (`runs.csv`).
    pub fn account_per_run(&self, sc: usize, y: usize, k: Account) -> &[f64] {
        assert!(RUN_ACCOUNTS.contains(&k), "runs.csv has no {}", k.name());
        self.per_run(self.layout.account(sc, y, k))
            .expect("runs.csv holds its accounts in every scope and year")
    }

    /// The per-run totals over every year of account `k` (one of [`RUN_ACCOUNTS`]) of scope `sc`,
    /// summed in year order as [`crate::aggregate::paired::account_per_run`] sums a run's.
    pub fn account_total_per_run(&self, sc: usize, k: Account) -> Vec<f64> {
        let years = self.layout.years.len();
        (0..self.runs)
            .map(|r| (0..years).map(|y| self.account_per_run(sc, y, k)[r]).sum())
            .collect()
    }

    /// The per-run values of KPI `k` (not an evaluation) over its `i`-th scope in contract year `y`
    /// (`runs.csv`).
    pub fn kpi_per_run(&self, model: &crate::model::Model, k: usize, i: usize, y: usize) -> &[f64] {
        assert!(
            !model.kpis[k].is_evaluations(),
            "runs.csv has no evaluations"
        );
        self.per_run(self.layout.kpi(model, k, i, y, KpiCell::Value))
            .expect("runs.csv holds every KPI in its scopes")
    }

    /// P(overspend): the share of runs in which some budget pool of the arm overspends in some year.
    pub fn p_overspend(&self) -> f64 {
        let over = self.account_total_per_run(crate::model::scope::REGION, Account::Overspend);
        over.iter().filter(|&&x| x > 0.0).count() as f64 / over.len().max(1) as f64
    }

    /// The caseload of scope `sc` in cycle `c` and state `s` (`caseload.csv`).
    pub fn caseload(&self, sc: usize, c: usize, s: usize) -> &Stats {
        self.known(self.layout.caseload(sc, c, s))
    }

    /// Cell `cell` of KPI `k` over its `i`-th scope in contract year `y`: the value of a KPI
    /// (`kpis.csv`), or what is due and held of an evaluation (`evaluations.csv`). An evaluation's
    /// value (the share held, an assumption) is in no table: asking for it is a bug.
    pub fn kpi(
        &self,
        model: &crate::model::Model,
        k: usize,
        i: usize,
        y: usize,
        cell: KpiCell,
    ) -> &Stats {
        self.known(self.layout.kpi(model, k, i, y, cell))
    }

    /// Measure `k` of the `i`-th budget pool in year index `y` (`budget.csv`; 0 outside the pool's
    /// pilot period, where the table has no row).
    pub fn budget(&self, i: usize, y: usize, k: BudgetMeasure) -> &Stats {
        self.known(self.layout.budget(i, y, k))
    }

    /// A cell every read-back holds (see the type's documentation).
    fn known(&self, cell: usize) -> &Stats {
        self.stats[cell]
            .as_ref()
            .expect("reading the tables checks that they hold every row")
    }
}

/// A table of the folder: its name and bytes.
type Get<'a> = &'a dyn Fn(&str) -> Result<Option<Vec<u8>>>;

pub(crate) use crate::error::bad_table as bad;

/// A row with its line number.
type Row = (usize, csv::StringRecord);

/// A table's rows with their line numbers, by header name.
struct Table {
    file: String,
    head: HashMap<String, usize>,
    rows: Vec<Row>,
}

impl Table {
    fn read(get: Get, file: &str) -> Result<Option<Table>> {
        let Some(bytes) = get(file)? else {
            return Ok(None);
        };
        let mut rd = csv::Reader::from_reader(bytes.as_slice());
        let head = rd
            .headers()
            .map_err(|e| bad(file, Some(1), "", format!("unreadable header: {e}")))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        let mut rows = Vec::new();
        for rec in rd.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line() as usize);
                bad(file, line, "", format!("unreadable row: {e}"))
            })?;
            let line = rec.position().map_or(0, |p| p.line() as usize);
            rows.push((line, rec));
        }
        Ok(Some(Table {
            file: file.to_string(),
            head,
            rows,
        }))
    }

    fn need(get: Get, file: &str) -> Result<Table> {
        Table::read(get, file)?
            .ok_or_else(|| bad(file, None, "", "the file is missing from the folder".into()))
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.head.get(name).copied().ok_or_else(|| {
            bad(
                &self.file,
                Some(1),
                name,
                format!("no column `{name}` in the header"),
            )
        })
    }

    fn text<'r>(&self, row: &'r Row, name: &str) -> Result<&'r str> {
        let i = self.col(name)?;
        row.1
            .get(i)
            .ok_or_else(|| bad(&self.file, Some(row.0), name, "the field is missing".into()))
    }

    fn num(&self, row: &Row, name: &str) -> Result<f64> {
        let s = self.text(row, name)?;
        s.parse::<f64>().map_err(|_| {
            bad(
                &self.file,
                Some(row.0),
                name,
                format!("`{s}` is not a number"),
            )
        })
    }
}

/// Statistics as printed: `mean,sd,p05,p25,p50,p75,p95` (missing columns read as NaN).
fn stats_of(t: &Table, row: &Row) -> Result<Stats> {
    let get = |name: &str| -> Result<f64> {
        if t.head.contains_key(name) {
            t.num(row, name)
        } else {
            Ok(f64::NAN)
        }
    };
    Ok(Stats {
        mean: get("mean")?,
        sd: get("sd")?,
        q: [
            get("p05")?,
            get("p25")?,
            get("p50")?,
            get("p75")?,
            get("p95")?,
        ],
    })
}

/// Fills the statistics of the cells of one table: `key` gives a row's arm and cell (or an error).
fn fill(
    t: &Table,
    arms: &HashMap<&str, usize>,
    out: &mut [Vec<Option<Stats>>],
    key: &dyn Fn(&Table, &Row, usize) -> Result<usize>,
) -> Result<()> {
    for row in &t.rows {
        let arm = t.text(row, "arm")?;
        let &a = arms
            .get(arm)
            .ok_or_else(|| bad(&t.file, Some(row.0), "arm", format!("unknown arm `{arm}`")))?;
        let cell = key(t, row, a)?;
        out[a][cell] = Some(stats_of(t, row)?);
    }
    Ok(())
}

fn index_of(t: &Table, row: &Row, name: &str, list: &[String]) -> Result<usize> {
    let s = t.text(row, name)?;
    list.iter().position(|x| x == s).ok_or_else(|| {
        bad(
            &t.file,
            Some(row.0),
            name,
            format!("`{s}` is not one of the scenario's: {}", list.join(", ")),
        )
    })
}

/// The index of a row's year in `years` (consecutive calendar years): constant time per row.
fn year_of(t: &Table, row: &Row, years: &[i32]) -> Result<usize> {
    let s = t.text(row, "year")?;
    let first = years.first().copied().unwrap_or_default();
    s.parse::<i32>()
        .ok()
        .filter(|y| y.to_string() == s)
        .and_then(|y| usize::try_from(i64::from(y) - i64::from(first)).ok())
        .filter(|&i| years.get(i).is_some_and(|&y| y.to_string() == s))
        .ok_or_else(|| {
            bad(
                &t.file,
                Some(row.0),
                "year",
                format!(
                    "`{s}` is not one of the scenario's years, {first} to {}",
                    years.last().copied().unwrap_or_default()
                ),
            )
        })
}

/// The index of a row's scope (columns `scope` and `scope_name`) in `scopes`.
fn scope_of(t: &Table, row: &Row, scopes: &[crate::model::scope::Scope]) -> Result<usize> {
    let (kind, name) = (t.text(row, "scope")?, t.text(row, "scope_name")?);
    crate::model::scope::ScopeKind::parse(kind)
        .and_then(|k| crate::model::scope::find(scopes, k, name))
        .ok_or_else(|| {
            bad(
                &t.file,
                Some(row.0),
                "scope_name",
                format!("no scope {kind} `{name}` in the scenario"),
            )
        })
}

/// Every arm's numbers, read back from the tables of an output folder (`get` returns a file's bytes,
/// or `None` when the folder has no such file). A table that lacks a row of the scenario's is refused
/// with its file and what is missing.
pub fn arms(model: &Model, runs: usize, get: Get) -> Result<Vec<ArmTables>> {
    let mut rd = Reading::new(model);
    rd.caseload(get)?;
    rd.flows(get)?;
    rd.costs(get)?;
    rd.accounts(get)?;
    rd.budget(get)?;
    rd.kpis(get, false)?;
    rd.kpis(get, true)?;
    let cols = run_columns(model, &rd.layouts[0]);
    let per_run = rd.runs(get, &cols, runs)?;
    Ok(rd.finish(&cols, per_run, runs))
}

/// The tables of a folder as they are read back, one after another: the model, each arm's layout,
/// the arms by name, and the statistics read so far per arm and cell.
struct Reading<'a> {
    model: &'a Model,
    layouts: Vec<Layout>,
    arms: HashMap<&'a str, usize>,
    st: Vec<Vec<Option<Stats>>>,
}

impl<'a> Reading<'a> {
    /// Nothing read yet.
    fn new(model: &'a Model) -> Reading<'a> {
        let layouts: Vec<Layout> = (0..model.arms.len())
            .map(|a| Layout::new(model, a))
            .collect();
        let arms = model
            .arms
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.as_str(), i))
            .collect();
        let st = layouts.iter().map(|l| vec![None; l.len()]).collect();
        Reading {
            model,
            layouts,
            arms,
            st,
        }
    }

    /// `caseload.csv`: per scope, cycle and state.
    fn caseload(&mut self, get: Get) -> Result<()> {
        let Reading {
            model,
            layouts,
            arms,
            st,
        } = self;
        let t = Table::need(get, "caseload.csv")?;
        let states: Vec<String> = model.states.iter().map(|s| s.code.clone()).collect();
        fill(&t, arms, st, &|t, row, a| {
            let c = t.num(row, "cycle")?;
            let lay = &layouts[a];
            if c < 0.0 || c.fract() != 0.0 || c as usize >= lay.cycles {
                return Err(bad(&t.file, Some(row.0), "cycle", format!("no cycle {c}")));
            }
            Ok(lay.caseload(
                scope_of(t, row, &lay.scopes)?,
                c as usize,
                index_of(t, row, "state", &states)?,
            ))
        })?;
        complete(&t.file, model, layouts, st, &|l| {
            let (scopes, cycles, states) = (l.scopes.len(), l.cycles, l.n_states);
            (0..scopes)
                .flat_map(|sc| (0..cycles).flat_map(move |c| (0..states).map(move |s| (sc, c, s))))
                .map(|(sc, c, s)| l.caseload(sc, c, s))
                .collect()
        })
    }

    /// `flows.csv`: per scope, year and flow (kind, from, to).
    fn flows(&mut self, get: Get) -> Result<()> {
        let Reading {
            model,
            layouts,
            arms,
            st,
        } = self;
        let t = Table::need(get, "flows.csv")?;
        let flow_keys: Vec<String> = model
            .flows
            .iter()
            .map(|&f| {
                let (k, from, to) = crate::output::csv::flow_names(model, f);
                format!("{k},{from},{to}")
            })
            .collect();
        fill(&t, arms, st, &|t, row, a| {
            let lay = &layouts[a];
            let y = year_of(t, row, &lay.years)?;
            let key = format!(
                "{},{},{}",
                t.text(row, "flow")?,
                t.text(row, "from")?,
                t.text(row, "to")?
            );
            let f = flow_keys.iter().position(|k| *k == key).ok_or_else(|| {
                bad(
                    &t.file,
                    Some(row.0),
                    "flow",
                    format!("no flow {key} in the scenario"),
                )
            })?;
            Ok(lay.flow(scope_of(t, row, &lay.scopes)?, y, f))
        })?;
        complete(&t.file, model, layouts, st, &|l| {
            per_scope_year(l, l.flows.len(), &|sc, y, f| l.flow(sc, y, f))
        })
    }

    /// `costs.csv`: per scope, year and cost line.
    fn costs(&mut self, get: Get) -> Result<()> {
        let Reading {
            model,
            layouts,
            arms,
            st,
        } = self;
        let t = Table::need(get, "costs.csv")?;
        fill(&t, arms, st, &|t, row, a| {
            let lay = &layouts[a];
            Ok(lay.cost(
                scope_of(t, row, &lay.scopes)?,
                year_of(t, row, &lay.years)?,
                index_of(t, row, "line", &model.lines)?,
            ))
        })?;
        complete(&t.file, model, layouts, st, &|l| {
            per_scope_year(l, l.lines, &|sc, y, line| l.cost(sc, y, line))
        })
    }

    /// `accounts.csv`: per scope, year and account.
    fn accounts(&mut self, get: Get) -> Result<()> {
        let Reading {
            model,
            layouts,
            arms,
            st,
        } = self;
        let t = Table::need(get, "accounts.csv")?;
        let names: Vec<String> = Account::ALL.iter().map(|k| k.name().to_string()).collect();
        fill(&t, arms, st, &|t, row, a| {
            let lay = &layouts[a];
            Ok(lay.account(
                scope_of(t, row, &lay.scopes)?,
                year_of(t, row, &lay.years)?,
                Account::ALL[index_of(t, row, "account", &names)?],
            ))
        })?;
        complete(&t.file, model, layouts, st, &|l| {
            per_scope_year(l, Account::ALL.len(), &|sc, y, k| {
                l.account(sc, y, Account::ALL[k])
            })
        })
    }

    /// `budget.csv`, when the folder has one: per budget pool, year and measure (a pool has no rows
    /// outside its pilot period).
    fn budget(&mut self, get: Get) -> Result<()> {
        let Some(t) = Table::read(get, "budget.csv")? else {
            return Ok(());
        };
        let measures: Vec<String> = BudgetMeasure::ALL
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let layouts = &self.layouts;
        fill(&t, &self.arms, &mut self.st, &|t, row, a| {
            let lay = &layouts[a];
            let names: Vec<String> = lay.pools.iter().map(|p| p.name.clone()).collect();
            let i = index_of(t, row, "scope_name", &names)?;
            let k = index_of(t, row, "measure", &measures)?;
            Ok(lay.budget(i, year_of(t, row, &lay.years)?, BudgetMeasure::ALL[k]))
        })
    }

    /// `kpis.csv` (a KPI's value), or with `evaluations` `evaluations.csv` (what an evaluation's due
    /// and held): per KPI, scope and contract year. Only when the model has such KPIs.
    fn kpis(&mut self, get: Get, evaluations: bool) -> Result<()> {
        let Reading {
            model,
            layouts,
            arms,
            st,
        } = self;
        if !model.kpis.iter().any(|k| k.is_evaluations() == evaluations) {
            return Ok(());
        }
        let t = Table::need(
            get,
            if evaluations {
                "evaluations.csv"
            } else {
                "kpis.csv"
            },
        )?;
        fill(&t, arms, st, &|t, row, a| {
            kpi_cell(model, &layouts[a], t, row, evaluations)
        })?;
        // The KPI cells this table holds: a KPI's value, or what an evaluation's due and held.
        let cells = if evaluations {
            &KpiCell::EVALUATION[..]
        } else {
            &[KpiCell::Value][..]
        };
        complete(&t.file, model, layouts, st, &|l| {
            let mut v = Vec::new();
            for (k, kpi) in model.kpis.iter().enumerate() {
                if kpi.is_evaluations() != evaluations {
                    continue;
                }
                for i in 0..kpi.scopes.len() {
                    for y in 0..kpi.years() {
                        v.extend(cells.iter().map(|&c| l.kpi(model, k, i, y, c)));
                    }
                }
            }
            v
        })
    }

    /// The per-run values of `runs.csv`'s columns `cols`, per arm; refused when a run of an arm
    /// lacks a row in some scope.
    fn runs(&self, get: Get, cols: &[RunColumn], runs: usize) -> Result<Vec<Columns>> {
        let t = Table::need(get, "runs.csv")?;
        let kept: Vec<usize> = cols
            .iter()
            .flat_map(|c| c.cells.iter().flatten().copied())
            .collect();
        let mut columns: Vec<Columns> = self
            .layouts
            .iter()
            .map(|l| Columns::sparse(l.len(), &kept, runs, f64::NAN))
            .collect();
        let n_scopes = self.layouts[0].scopes.len();
        let mut seen = vec![vec![false; runs * n_scopes]; self.layouts.len()];
        for row in &t.rows {
            let arm = t.text(row, "arm")?;
            let &a = self
                .arms
                .get(arm)
                .ok_or_else(|| bad(&t.file, Some(row.0), "arm", format!("unknown arm `{arm}`")))?;
            let r = t.num(row, "run")?;
            if r < 0.0 || r.fract() != 0.0 || r as usize >= runs {
                return Err(bad(
                    &t.file,
                    Some(row.0),
                    "run",
                    format!("no run {r}: the manifest says {runs} runs"),
                ));
            }
            let r = r as usize;
            let sc = scope_of(&t, row, &self.layouts[a].scopes)?;
            seen[a][r * n_scopes + sc] = true;
            for c in cols {
                if let Some(cell) = c.cells[sc] {
                    columns[a].set(r, cell, t.num(row, &c.name)?);
                }
            }
        }
        self.every_run(&t.file, &seen)?;
        Ok(columns)
    }

    /// Refuses `runs.csv` (`file`) when some arm has no row for a run in a scope: `seen[arm]` says per
    /// run and scope (`run * scopes + scope`) whether it has.
    fn every_run(&self, file: &str, seen: &[Vec<bool>]) -> Result<()> {
        let n_scopes = self.layouts[0].scopes.len();
        for (a, s) in seen.iter().enumerate() {
            if let Some(i) = s.iter().position(|x| !x) {
                let scope = &self.layouts[a].scopes[i % n_scopes];
                return Err(bad(
                    file,
                    None,
                    "run",
                    format!(
                        "arm `{}` has no row for run {} in scope {} `{}`",
                        self.model.arms[a].name,
                        i / n_scopes,
                        scope.kind.name(),
                        scope.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every arm's tables: the statistics read, those of `runs.csv`'s columns `cols` computed from
    /// their per-run values, and 0 for a budget cell outside its pool's pilot period.
    fn finish(self, cols: &[RunColumn], per_run: Vec<Columns>, runs: usize) -> Vec<ArmTables> {
        let model = self.model;
        self.layouts
            .into_iter()
            .zip(per_run)
            .zip(self.st)
            .enumerate()
            .map(|(a, ((layout, per_run), mut stats))| {
                let mut kept = vec![false; layout.len()];
                for &cell in cols.iter().flat_map(|c| c.cells.iter().flatten()) {
                    stats[cell] = Some(crate::aggregate::stats(&mut per_run.floats(cell).to_vec()));
                    kept[cell] = true;
                }
                // Budget cells outside a pool's pilot period are not in budget.csv: they are 0.
                for i in 0..layout.pools.len() {
                    for y in 0..layout.years.len() {
                        for k in BudgetMeasure::ALL {
                            let cell = layout.budget(i, y, k);
                            if stats[cell].is_none() {
                                stats[cell] = Some(stats_zero());
                            }
                        }
                    }
                }
                ArmTables {
                    arm: model.arms[a].name.clone(),
                    layout,
                    runs,
                    stats,
                    per_run,
                    kept,
                }
            })
            .collect()
    }
}

/// The cell of a row of `kpis.csv` (or with `evaluations` of `evaluations.csv`) in an arm's layout
/// `lay`: its KPI (column `kpi` or `evaluation`), measure (an evaluation's `due` or `held`), scope and
/// contract year, each checked against the scenario.
fn kpi_cell(model: &Model, lay: &Layout, t: &Table, row: &Row, evaluations: bool) -> Result<usize> {
    let column = if evaluations { "evaluation" } else { "kpi" };
    let base = t.text(row, column)?;
    let cell = if !evaluations {
        KpiCell::Value
    } else {
        let m = t.text(row, "measure")?;
        KpiCell::EVALUATION
            .into_iter()
            .find(|c| c.name() == m)
            .ok_or_else(|| {
                bad(
                    &t.file,
                    Some(row.0),
                    "measure",
                    format!("unknown measure `{m}`"),
                )
            })?
    };
    let k = model
        .kpis
        .iter()
        .position(|k| k.name == base && k.is_evaluations() == evaluations)
        .ok_or_else(|| {
            bad(
                &t.file,
                Some(row.0),
                column,
                format!("no {column} `{base}` in the scenario"),
            )
        })?;
    let y = t.num(row, "contract_year")?;
    if y < 1.0 || y.fract() != 0.0 || y as usize > model.kpis[k].years() {
        return Err(bad(
            &t.file,
            Some(row.0),
            "contract_year",
            format!("no contract year {y}"),
        ));
    }
    let sc = scope_of(t, row, &lay.scopes)?;
    let i = model.kpis[k]
        .scopes
        .iter()
        .position(|&x| x == sc)
        .ok_or_else(|| {
            bad(
                &t.file,
                Some(row.0),
                "scope",
                format!("KPI `{base}` is not evaluated over this scope"),
            )
        })?;
    Ok(lay.kpi(model, k, i, y as usize - 1, cell))
}

/// The cells of a table with `per` rows per scope and year: `cell(scope, year index, row)`.
fn per_scope_year(
    l: &Layout,
    per: usize,
    cell: &dyn Fn(usize, usize, usize) -> usize,
) -> Vec<usize> {
    let mut v = Vec::with_capacity(l.scopes.len() * l.years.len() * per);
    for sc in 0..l.scopes.len() {
        for y in 0..l.years.len() {
            v.extend((0..per).map(|r| cell(sc, y, r)));
        }
    }
    v
}

/// Refuses a table that lacks a row of the scenario's: `cells` are the cells it holds of an arm.
fn complete(
    file: &str,
    model: &Model,
    layouts: &[Layout],
    st: &[Vec<Option<Stats>>],
    cells: &dyn Fn(&Layout) -> Vec<usize>,
) -> Result<()> {
    for (a, l) in layouts.iter().enumerate() {
        if let Some(&cell) = cells(l).iter().find(|&&c| st[a][c].is_none()) {
            return Err(bad(
                file,
                None,
                "",
                format!(
                    "no row for {} of arm `{}`",
                    l.describe(cell),
                    model.arms[a].name
                ),
            ));
        }
    }
    Ok(())
}

fn stats_zero() -> Stats {
    stats(&mut [0.0])
}

/// The paired differences, read back from `differences.csv` (none without the file).
pub fn differences(get: Get) -> Result<Vec<Difference>> {
    let Some(t) = Table::read(get, "differences.csv")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in &t.rows {
        let m = t.text(row, "measure")?;
        let measure = crate::aggregate::paired::Measure::parse(m).ok_or_else(|| {
            bad(
                &t.file,
                Some(row.0),
                "measure",
                format!("unknown measure `{m}`"),
            )
        })?;
        out.push(Difference {
            arm: t.text(row, "arm")?.to_string(),
            scope: {
                let kind = t.text(row, "scope")?;
                crate::model::scope::ScopeKind::parse(kind).ok_or_else(|| {
                    bad(
                        &t.file,
                        Some(row.0),
                        "scope",
                        format!("unknown scope `{kind}`"),
                    )
                })?
            },
            scope_name: t.text(row, "scope_name")?.to_string(),
            measure,
            period: {
                let (kind, number) = (t.text(row, "period")?, t.text(row, "year")?);
                crate::aggregate::paired::Period::parse(kind, number).ok_or_else(|| {
                    bad(
                        &t.file,
                        Some(row.0),
                        "period",
                        format!("`{kind}` with year `{number}` is not a period"),
                    )
                })?
            },
            item: t.text(row, "item")?.to_string(),
            mean: t.num(row, "mean")?,
            sd: t.num(row, "sd")?,
            q: [t.num(row, "p05")?, t.num(row, "p50")?, t.num(row, "p95")?],
            p_lower: t.num(row, "p_lower")?,
        });
    }
    Ok(out)
}
