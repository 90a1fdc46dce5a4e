//! What `wijksim run` prints when it is done: the run, the caseload, the spend per arm, the paired
//! differences, the KPIs, the budget sizing and the files written. A pure function of the run's
//! report ([`summary`]), so a test can compare it with a snapshot.

use super::{count, counted};
use std::io::Write;
use wijksim::aggregate::paired::{Period, cell_quantiles};
use wijksim::aggregate::{Account, Summary};
use wijksim::model::scope::{REGION, ScopeKind};
use wijksim::output::lang::{self, Lang};
use wijksim::run::RunReport;
use wijksim::scenario::Scenario;

/// The summary `wijksim run` prints for `r`, a run of `scenario`.
pub(super) fn summary(scenario: &Scenario, r: &RunReport) -> String {
    let mut out = Vec::new();
    write_summary(&mut out, scenario, r).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the summary is UTF-8")
}

fn write_summary(out: &mut Vec<u8>, scenario: &Scenario, r: &RunReport) -> std::io::Result<()> {
    let m = &scenario.model;
    run_line(out, scenario, r)?;
    caseload(out, m, r)?;
    let all = r.summaries.len();
    let shown = &r.summaries[..all.min(wijksim::output::plot::ARMS_DRAWN)];
    cost_table(out, m, shown)?;
    differences(out, m, r, shown)?;
    kpi_table(out, m, shown)?;
    // The budget planner's question, where a pilot arm has a budget to size.
    if shown.iter().any(|sm| budgeted(m, sm)) {
        sizing_table(out, &r.sizing)?;
    }
    if shown.len() < all {
        writeln!(
            out,
            "The baseline and the first {} of {} pilot arms are shown here; every arm is in the tables, and `--plots all` draws the figures of every arm.",
            shown.len() - 1,
            all - 1
        )?;
        writeln!(out)?;
    }
    files_written(out, m, r)
}

/// What ran: the version and scenario, whether parameters are drawn, runs, seed, threads and time.
fn run_line(out: &mut Vec<u8>, scenario: &Scenario, r: &RunReport) -> std::io::Result<()> {
    let m = &scenario.model;
    let man = &r.manifest;
    writeln!(
        out,
        "wijksim {}: {} ({})",
        man.provenance.wijksim_version, m.title, scenario.source.path
    )?;
    if man.psa {
        writeln!(
            out,
            "Parameter uncertainty (PSA): every run draws the parameters that have a distribution"
        )?;
    }
    if man.engine == wijksim::engine::Engine::Cohort {
        writeln!(
            out,
            "Expected values (cohort engine: no run-to-run spread), {:.3} s",
            man.provenance.wall_time_seconds
        )?;
    } else {
        writeln!(
            out,
            "{}, seed {}, {}, {:.2} s ({:.0} million client-cycles/s)",
            count(man.runs as usize, "run", "runs"),
            man.seed,
            count(man.threads, "thread", "threads"),
            man.provenance.wall_time_seconds,
            man.client_cycles as f64 / man.provenance.wall_time_seconds.max(1e-9) / 1e6
        )?;
    }
    Ok(())
}

/// The baseline's caseload by state at the first and the last cycle.
fn caseload(out: &mut Vec<u8>, m: &wijksim::model::Model, r: &RunReport) -> std::io::Result<()> {
    let sm = &r.summaries[0];
    let lay = &sm.layout;
    writeln!(out)?;
    writeln!(
        out,
        "Caseload, {} (mean [P5-P95] over runs)",
        label(m, &sm.arm)
    )?;
    let first = 0;
    let last = lay.cycles - 1;
    write!(out, "{:<6}", "state")?;
    for c in [first, last] {
        write!(out, "{:>24}", m.date(c as u32).to_string())?;
    }
    writeln!(out)?;
    for (s, st) in m.states.iter().enumerate() {
        write!(out, "{:<6}", st.code)?;
        for c in [first, last] {
            let x = &sm.stats[lay.caseload(REGION, c, s)];
            write!(
                out,
                "{:>24}",
                if sm.runs > 1 {
                    format!("{:.0} [{:.0}-{:.0}]", x.mean, x.q[0], x.q[4])
                } else {
                    format!("{:.0}", x.mean)
                }
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    Ok(())
}

/// What each file of a run's folder holds, in the model's words.
fn file_descriptions(m: &wijksim::model::Model, r: &RunReport) -> Vec<(&'static str, String)> {
    let wmo = m.is_wmo();
    let one = person(m);
    let caseload = format!(
        "{} per {}, state and scope",
        people(m),
        if m.cycle_months == 12 {
            "year"
        } else {
            "month"
        }
    );
    let accounts = if wmo {
        "care cost, community cost and municipal spend (and its parts) per year and scope"
    } else {
        "cost by account per year and scope"
    };
    let differences = if wmo {
        "pilot minus baseline, paired by run".to_string()
    } else {
        format!(
            "each arm minus {}, paired by run",
            label(m, &r.summaries[0].arm)
        )
    };
    let summary = format!(
        "discounted cost and outcomes per {one}; incremental per {}",
        if wmo { "pilot arm" } else { "arm" }
    );
    let histories = format!("{one} histories (episodes per {one} and state) of the first runs");
    [
        ("caseload.csv", caseload.as_str()),
        (
            "flows.csv",
            "inflow, transitions, renewals and outflow per year and scope",
        ),
        ("costs.csv", "costs per year, scope and cost line"),
        ("accounts.csv", accounts),
        (
            "budget.csv",
            "per budget pool and year: budget, spent, overspend, settlement, P(overspend)",
        ),
        (
            "kpis.csv",
            "KPIs per contract year and scope: target, spread, probability met",
        ),
        (
            "evaluations.csv",
            "evaluations due and held per contract year and scope",
        ),
        ("differences.csv", differences.as_str()),
        ("summary.csv", summary.as_str()),
        (
            "runs.csv",
            "per-run totals and KPI values (paired by run), for your own analysis",
        ),
        ("histories.csv", histories.as_str()),
        ("scenario.toml", "the scenario as run"),
        ("results.xlsx", "the tables above as one Excel workbook"),
        (
            "report.html",
            "the report: question, answer, how sure, figures, assumptions (open in a browser)",
        ),
        (
            "manifest.json",
            "version, scenario hash, seed, runs, time taken",
        ),
    ]
    .into_iter()
    .map(|(f, what)| (f, what.to_string()))
    .collect()
}

/// The files written, each with what it holds.
fn files_written(
    out: &mut Vec<u8>,
    m: &wijksim::model::Model,
    r: &RunReport,
) -> std::io::Result<()> {
    writeln!(out, "Wrote {}/:", r.folder.display())?;
    for (f, what) in file_descriptions(m, r) {
        if r.files.iter().any(|x| x == f) {
            writeln!(out, "  {f:<16} {what}")?;
        }
    }
    let plots = r
        .files
        .iter()
        .filter(|f| f.starts_with("plots/") && f.ends_with(".png"))
        .count();
    if plots > 0 {
        writeln!(
            out,
            "  {:<16} {} as PNG and SVG (fan charts, costs, budgets, KPIs)",
            "plots/",
            count(plots, "figure", "figures")
        )?;
    }
    Ok(())
}

/// Cost per year and arm: P50 [P10-P90] over runs (the 80% interval).
fn cost_table(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    summaries: &[Summary],
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {}",
        if m.is_wmo() {
            "Municipal spend per year, all municipalities, nominal EUR".to_string()
        } else {
            format!("Cost per year, all {}, nominal", people(m))
        },
        if summaries[0].runs > 1 {
            "P50 [P10-P90] over runs"
        } else {
            "expected values"
        }
    )?;
    let lay = &summaries[0].layout;
    write!(out, "{:<6}", "year")?;
    for sm in summaries {
        write!(out, "  {:>36}", label(m, &sm.arm))?;
    }
    writeln!(out)?;
    for (y, year) in lay.years.iter().enumerate() {
        write!(out, "{year:<6}")?;
        for sm in summaries {
            let q = cell_quantiles(
                sm,
                sm.layout.account(REGION, y, Account::MunicipalSpend),
                &[0.1, 0.5, 0.9],
            );
            write!(
                out,
                "  {:>36}",
                if sm.runs > 1 {
                    format!("{} [{} - {}]", euros(q[1]), euros(q[0]), euros(q[2]))
                } else {
                    euros(q[1])
                }
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

/// The paired comparison of each pilot arm of `shown` with the baseline.
fn differences(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    r: &RunReport,
    shown: &[Summary],
) -> std::io::Result<()> {
    let Some(base) = shown.first() else {
        return Ok(());
    };
    for sm in &shown[1..] {
        let how = if base.runs > 1 {
            "paired by run"
        } else {
            "expected values"
        };
        writeln!(
            out,
            "{} vs {} ({how})",
            label(m, &sm.arm),
            label(m, &base.arm)
        )?;
        let span = format!(
            "{}-{}",
            base.layout.years[0],
            base.layout.years[base.layout.years.len() - 1]
        );
        let lay = &base.layout;
        // The pilot areas first (unless they are the whole region), then the region.
        let pilot = lay
            .pilot_scope()
            .filter(|&sc| lay.scopes[sc].areas.len() < m.areas.len());
        for sc in pilot.into_iter().chain([REGION]) {
            scope_differences(out, m, r, (sm, base), sc, &span)?;
        }
        if base.runs > 1 && budgeted(m, sm) {
            let overspend = wijksim::aggregate::paired::region_total(
                &r.differences,
                &sm.arm,
                Account::Overspend,
            );
            writeln!(
                out,
                "  P(overspend): {:.0}% of runs, some budget pool overspends in some year (mean overspend {}, P95 {})",
                100.0 * wijksim::aggregate::paired::p_overspend(sm),
                euros(overspend.map_or(0.0, |d| d.mean)),
                euros(overspend.map_or(0.0, |d| d.q[2]))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The paired differences of arm `sm` with `base` in scope `sc`: care, spend and community cost over
/// `span`, and the chance that care costs less.
fn scope_differences(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    r: &RunReport,
    (sm, base): (&Summary, &Summary),
    sc: usize,
    span: &str,
) -> std::io::Result<()> {
    let lay = &base.layout;
    let kind = lay.scopes[sc].kind;
    let find = |k: Account| {
        wijksim::aggregate::paired::find(&r.differences, &sm.arm, kind, k.into(), Period::All, "")
    };
    let clients: u64 = lay.scopes[sc]
        .areas
        .iter()
        .flat_map(|&a| &m.areas[a].initial)
        .map(|&k| u64::from(k))
        .sum();
    writeln!(
        out,
        "  {} ({} at the start):",
        match (kind, m.is_wmo()) {
            (ScopeKind::PilotAreas, true) => "in the pilot areas",
            (ScopeKind::PilotAreas, false) => "in the areas the arm changes",
            (_, true) => "in the region",
            (_, false) => "overall",
        },
        // Grouped as the euros are.
        counted(clients as usize, person(m), people(m))
    )?;
    let measures = measures(m);
    for &(measure, what, why) in measures {
        let Some(d) = find(measure) else { continue };
        if base.runs == 1 {
            writeln!(out, "    {what} {span}: {} ({why})", signed(d.mean))?;
        } else {
            writeln!(
                out,
                "    {what} {span}: {} [P5-P95: {} to {}] ({why})",
                signed(d.mean),
                signed(d.q[0]),
                signed(d.q[2])
            )?;
        }
    }
    if base.runs > 1
        && let Some(d) = find(Account::CareCost)
    {
        if m.is_wmo() {
            writeln!(
                out,
                "    probability that the pilot needs less care (care cost lower): {:.0}%",
                100.0 * d.p_lower
            )?;
        } else {
            writeln!(
                out,
                "    probability that it costs less: {:.0}%",
                100.0 * d.p_lower
            )?;
        }
    }
    Ok(())
}

/// The accounts the console compares, with what each is and why it moves.
fn measures(m: &wijksim::model::Model) -> &'static [(Account, &'static str, &'static str)] {
    if m.is_wmo() {
        &[
            (Account::CareCost, "care delivered", "the effect on care"),
            (
                Account::MunicipalSpend,
                "municipal spend",
                "the budget design",
            ),
            (
                Account::CommunityCost,
                "community cost",
                "sociale basis, volunteers, coordinator",
            ),
        ]
    } else {
        &[(Account::CareCost, "cost", "the effect on cost")]
    }
}

/// The budget each municipality's pilot areas need together, per year, to keep P(overspend) at or
/// below the scenario's accepted chance (the areas one by one are in budget_sizing.csv).
fn sizing_table(
    out: &mut impl Write,
    sizing: &[wijksim::aggregate::sizing::Sizing],
) -> std::io::Result<()> {
    let pools: Vec<&wijksim::aggregate::sizing::Sizing> = sizing
        .iter()
        .filter(|s| s.scope == "municipality")
        .collect();
    let Some(first) = pools.first() else {
        return Ok(());
    };
    writeln!(
        out,
        "Budget sizing: the budget that keeps P(overspend) at or below {:.0}%, from the baseline's runs (pilot areas pooled per municipality)",
        100.0 * first.alpha
    )?;
    writeln!(
        out,
        "{:<24} {:>4} {:>14} {:>14} {:>10} {:>14}",
        "municipality", "year", "expected", "needed", "above", "pilot budget"
    )?;
    for s in pools {
        writeln!(
            out,
            "{:<24} {:>4} {:>14} {:>14} {:>9.1}% {:>14}",
            s.name,
            s.year,
            euros(s.expected),
            euros(s.needed),
            100.0 * s.above_expected(),
            s.pilot_budget.map_or("-".to_string(), euros)
        )?;
    }
    writeln!(out)
}

/// Probability of meeting each KPI target, per arm, in each KPI's last contract year with a target.
fn kpi_table(
    out: &mut impl Write,
    m: &wijksim::model::Model,
    summaries: &[Summary],
) -> std::io::Result<()> {
    if m.kpis.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "KPIs: probability that the target is met (last contract year with a target)"
    )?;
    // The name column fits the longest name (at least 24 wide).
    let w = m
        .kpis
        .iter()
        .map(|k| k.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(24);
    write!(
        out,
        "{:<w$} {:<12} {:>4} {:>7}",
        "kpi", "scope", "year", "target"
    )?;
    for sm in summaries {
        write!(out, "  {:>26}", label(m, &sm.arm))?;
    }
    writeln!(out)?;
    // The pilot areas first, then the region (kpis.csv has every scope).
    let lay = &summaries[0].layout;
    for sc in lay.pilot_scope().into_iter().chain([REGION]) {
        for (k, kpi) in m.kpis.iter().enumerate() {
            let Some((i, y)) = kpi.shown_in(sc) else {
                continue;
            };
            let target = kpi.targets[y].expect("found above");
            // A share in percent, a count (of clients) as a number.
            let (scale, unit) = if kpi.is_count() {
                (1.0, "")
            } else {
                (100.0, "%")
            };
            write!(
                out,
                "{:<w$} {:<12} {:>4} {:>7}",
                kpi.name,
                lay.scopes[sc].kind.name(),
                y + 1,
                format!("{:.0}{unit}", scale * target)
            )?;
            for sm in summaries {
                let cell = sm
                    .layout
                    .kpi(m, k, i, y, wijksim::aggregate::KpiCell::Value);
                let met = kpi.p_met(y, &sm.columns.column(cell));
                write!(
                    out,
                    "  {:>26}",
                    format!(
                        "{:.0}% (mean {:.1}{unit})",
                        100.0 * met,
                        scale * sm.stats[cell].mean
                    )
                )?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out)
}

/// Whether an arm has a budget pool with a limit (not every regime has a budget).
fn budgeted(m: &wijksim::model::Model, sm: &Summary) -> bool {
    use wijksim::model::regime::BudgetRule;
    sm.layout
        .pools
        .iter()
        .any(|p| !matches!(m.regimes[p.regime].budget, BudgetRule::Unlimited))
}

/// An arm as the console names it: its English label.
fn label(m: &wijksim::model::Model, arm: &str) -> String {
    lang::arm_label(Lang::En, m, arm)
}

/// The people simulated, as the scenario calls them in English (`clients`, `patients`).
fn people(m: &wijksim::model::Model) -> &str {
    lang::people(Lang::En, m)
}

/// One of them, as the scenario calls one in English (`client`, `patient`, `person`): a word of its
/// own, not the plural less an `s`.
fn person(m: &wijksim::model::Model) -> &str {
    &m.population_one
}

/// An amount with its sign: `+76,104`, `-54,715`. Not [`Lang::signed_money`] on purpose: the console
/// is plain text for a terminal or a log, with a hyphen for minus and no currency symbol (the
/// headings name the currency), as its snapshots hold.
fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", euros(x))
    } else {
        euros(x)
    }
}

/// An amount with thousands separators, no decimals: the English whole number ([`Lang::int`]).
fn euros(x: f64) -> String {
    Lang::En.int(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wijksim::output::plot::Plots;
    use wijksim::run::{RunOptions, run_into};

    /// The console summary of 40 runs of a scenario, with the machine's time and folder fixed, against
    /// the snapshot in `tests/snapshots/` (`WIJKSIM_UPDATE_GOLDEN=1` writes it).
    fn matches_snapshot(scenario: &Scenario, name: &str) -> String {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let opts = RunOptions {
            runs: Some(40),
            plots: Plots::None,
            ..RunOptions::default()
        };
        let mut r = run_into(scenario, &opts, &dir.path().join("out"), false).expect("it runs");
        r.manifest.provenance.wall_time_seconds = 1.0;
        r.manifest.threads = 2;
        r.folder = std::path::PathBuf::from("output").join(&scenario.model.name);
        let got = summary(scenario, &r);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("console_{name}.txt"));
        if std::env::var_os("WIJKSIM_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).expect("the snapshot exists");
        assert_eq!(
            got,
            want,
            "the console summary changed; see {}",
            path.display()
        );
        got
    }

    #[test]
    fn the_default_summary_names_arms_by_their_labels() {
        let got = matches_snapshot(&wijksim::scenario::default_scenario(), "oosterschelde");
        // Arms by their labels, not their identifiers; the Wmo words kept.
        assert!(!got.contains("dorpsbudget_noord_beveland"), "{got}");
        assert!(got.contains("all municipalities") && got.contains("in the pilot areas"));
    }

    #[test]
    fn a_non_wmo_model_speaks_of_its_own_people() {
        // Unit tests run in the package's folder: the path is as a user types it.
        let path = std::path::Path::new("scenarios/hiv_combination.toml");
        let got = matches_snapshot(&wijksim::scenario::load(path).unwrap(), "hiv");
        for word in ["municipal", "clients", "pilot", "care delivered"] {
            assert!(!got.contains(word), "`{word}` in:\n{got}");
        }
        assert!(got.contains("patients"), "{got}");
    }

    /// One person, many people: the console counts the people simulated with the scenario's own
    /// singular, also where the plural is not the singular and an `s` (it once printed "per people").
    #[test]
    fn one_of_the_people_is_named_by_its_own_word() {
        let text = std::fs::read_to_string("scenarios/sick_sicker.toml").expect("the scenario");
        // One person at the start, so that the console counts one.
        let text = text
            .replacen("inhabitants = 1000", "inhabitants = 1", 1)
            .replacen("caseload = { H = 1000 }", "caseload = { H = 1 }", 1);
        let scenario = wijksim::scenario::from_text("one.toml", &text).expect("it compiles");
        assert_eq!(
            (person(&scenario.model), people(&scenario.model)),
            ("person", "people")
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let opts = RunOptions {
            runs: Some(2),
            plots: Plots::None,
            histories: Some(1),
            ..RunOptions::default()
        };
        let r = run_into(&scenario, &opts, &dir.path().join("out"), false).expect("it runs");
        let got = summary(&scenario, &r);
        for words in [
            "(1 person at the start)",
            "discounted cost and outcomes per person;",
            "person histories (episodes per person and state)",
        ] {
            assert!(got.contains(words), "`{words}` not in:\n{got}");
        }
        assert!(!got.contains("per people"), "{got}");
    }
}
