//! Which figures a run draws and where they go: `--plots` ([`Plots`]), the list of a run's figures
//! with their file names in `plots/` (per arm, per pilot arm, per KPI, the pilot areas), and
//! [`write_all`], which draws them as SVG and PNG. The figures themselves are drawn in the files of
//! their group (`caseload.rs`, `costs.rs`, ...), on the shared style of `mod.rs`.

use super::{
    ARMS_DRAWN, AreaFans, AreaStacked, BudgetUse, CaseloadDifference, CostDifference, CostPerYear,
    DifferenceHistogram, DrawResult, Fan, FanArms, Figure, KpiChart, SIZE, Stacked, budgeted,
    caseload_differences, overlaid, png_bytes, stacked_top, svg,
};
use crate::aggregate::paired::Difference;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::model::scope::REGION;
use crate::output::Staged;
use crate::output::lang::Lang;
use crate::output::tables::ArmTables;
use plotters::prelude::*;

/// Which figures a run draws. The tables always hold every arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Plots {
    /// Every figure when the scenario has at most [`ARMS_DRAWN`] arms; with more, the figures of the
    /// baseline and the first pilot arms up to that number.
    #[default]
    Auto,
    /// Every figure of every arm (time and disk grow with the arms: some 16 figures a pilot arm).
    All,
    /// No figures: no `plots/` folder, and a report of tables only.
    None,
}

impl Plots {
    /// How many of `arms` arms (in scenario order, the baseline first) get figures.
    pub fn arms(self, arms: usize) -> usize {
        match self {
            Plots::Auto => arms.min(ARMS_DRAWN),
            Plots::All => arms,
            Plots::None => 0,
        }
    }
}

/// One figure of a run.
enum Drawing<'a> {
    Fan(Fan<'a>),
    FanArms(FanArms<'a>),
    CaseloadDifference(CaseloadDifference<'a>),
    Stacked(Stacked<'a>),
    CostPerYear(CostPerYear<'a>),
    CostDifference(CostDifference<'a>),
    Histogram(DifferenceHistogram<'a>),
    Budget(BudgetUse<'a>),
    Kpi(KpiChart<'a>),
    AreaFans(AreaFans<'a>),
    AreaStacked(AreaStacked<'a>),
}

impl Figure for Drawing<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Drawing::AreaFans(f) => f.size(),
            Drawing::AreaStacked(f) => f.size(),
            _ => SIZE,
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Drawing::Fan(f) => f.draw(root),
            Drawing::FanArms(f) => f.draw(root),
            Drawing::CaseloadDifference(f) => f.draw(root),
            Drawing::Stacked(f) => f.draw(root),
            Drawing::CostPerYear(f) => f.draw(root),
            Drawing::CostDifference(f) => f.draw(root),
            Drawing::Histogram(f) => f.draw(root),
            Drawing::Budget(f) => f.draw(root),
            Drawing::Kpi(f) => f.draw(root),
            Drawing::AreaFans(f) => f.draw(root),
            Drawing::AreaStacked(f) => f.draw(root),
        }
    }
}

/// A figure of a run with its file name (without extension).
type Named<'a> = (String, Drawing<'a>);

/// The figures of a run with their file names (without extension), in the order they are written.
fn drawings<'a>(
    model: &'a Model,
    summaries: &'a [ArmTables],
    differences: &'a [Difference],
    lang: Lang,
) -> Vec<Named<'a>> {
    let mut out = Vec::new();
    for sm in summaries {
        arm_drawings(model, sm, lang, &mut out);
    }
    let Some((base, pilots)) = summaries.split_first() else {
        return out;
    };
    out.push((
        "municipal_spend_per_year".into(),
        Drawing::CostPerYear(CostPerYear {
            model,
            summaries,
            lang,
        }),
    ));
    for p in pilots {
        pilot_drawings(model, base, p, lang, &mut out);
    }
    // Evaluations are counts and a cost, not a KPI value: evaluations.csv and the report's table.
    for k in (0..model.kpis.len()).filter(|&k| !model.kpis[k].is_evaluations()) {
        out.push((
            format!("kpi_{}", slug(&model.kpis[k].name)),
            Drawing::Kpi(KpiChart {
                model,
                summaries,
                kpi: k,
                lang,
            }),
        ));
    }
    // The pilot areas together, the arms overlaid or on one scale: last, so that the file names of
    // the figures above stay as they were whatever the arms are called.
    if let Some(sc) = base.layout.pilot_scope() {
        pilot_area_drawings(model, summaries, differences, sc, lang, &mut out);
        area_drawings(model, summaries, lang, &mut out);
    }
    out
}

/// One arm's figures of the region: a fan chart per non-absorbing state, and the stacked caseload.
fn arm_drawings<'a>(model: &'a Model, sm: &'a ArmTables, lang: Lang, out: &mut Vec<Named<'a>>) {
    for s in (0..model.n_states()).filter(|&s| !model.states[s].absorbing) {
        out.push((
            format!("fan_{}_{}", slug(&sm.arm), slug(&model.states[s].code)),
            Drawing::Fan(Fan {
                model,
                summary: sm,
                state: s,
                scope: REGION,
                lang,
            }),
        ));
    }
    out.push((
        format!("stacked_{}", slug(&sm.arm)),
        Drawing::Stacked(Stacked {
            model,
            summary: sm,
            scope: REGION,
            top: None,
            lang,
        }),
    ));
}

/// A pilot arm's figures against the baseline: the paired care cost difference per year and its
/// histogram, and the use of each budget pool that has a budget.
fn pilot_drawings<'a>(
    model: &'a Model,
    base: &'a ArmTables,
    p: &'a ArmTables,
    lang: Lang,
    out: &mut Vec<Named<'a>>,
) {
    out.push((
        format!("care_cost_difference_{}", slug(&p.arm)),
        Drawing::CostDifference(CostDifference {
            model,
            base,
            pilot: p,
            lang,
        }),
    ));
    out.push((
        format!("care_cost_difference_histogram_{}", slug(&p.arm)),
        Drawing::Histogram(DifferenceHistogram {
            model,
            base,
            pilot: p,
            lang,
        }),
    ));
    for (i, pool) in p.layout.pools.iter().enumerate() {
        if !budgeted(model, pool) {
            continue;
        }
        out.push((
            format!("budget_{}_{}", slug(&p.arm), slug(&pool.name)),
            Drawing::Budget(BudgetUse {
                model,
                summary: p,
                pool: i,
                lang,
            }),
        ));
    }
}

/// The figures of the pilot areas together (scope `sc`): a fan chart per state with the arms
/// overlaid, the stacked caseload per arm on one scale, and per pilot arm the paired caseload
/// difference (where the differences have one).
fn pilot_area_drawings<'a>(
    model: &'a Model,
    summaries: &'a [ArmTables],
    differences: &'a [Difference],
    sc: usize,
    lang: Lang,
    out: &mut Vec<Named<'a>>,
) {
    for s in (0..model.n_states()).filter(|&s| !model.states[s].absorbing) {
        out.push((
            format!("fan_pilot_areas_{}", slug(&model.states[s].code)),
            Drawing::FanArms(FanArms {
                model,
                summaries: overlaid(summaries),
                state: s,
                scope: sc,
                lang,
            }),
        ));
    }
    let top = stacked_top(model, summaries, sc);
    for sm in summaries {
        out.push((
            format!("stacked_pilot_areas_{}", slug(&sm.arm)),
            Drawing::Stacked(Stacked {
                model,
                summary: sm,
                scope: sc,
                top: Some(top),
                lang,
            }),
        ));
    }
    let (base, pilots) = (&summaries[0], &summaries[1..]);
    let scope = &base.layout.scopes[sc];
    for p in pilots {
        if caseload_differences(model, differences, &p.arm, scope, &base.layout.years).is_empty() {
            continue;
        }
        out.push((
            format!("caseload_difference_pilot_areas_{}", slug(&p.arm)),
            Drawing::CaseloadDifference(CaseloadDifference {
                model,
                base,
                pilot: p,
                differences,
                scope: sc,
                lang,
            }),
        ));
    }
}

/// Each pilot area on its own, when there are several: its caseload fans and its stacked caseload.
fn area_drawings<'a>(
    model: &'a Model,
    summaries: &'a [ArmTables],
    lang: Lang,
    out: &mut Vec<Named<'a>>,
) {
    let lay = &summaries[0].layout;
    for a in lay.pilot_area_scopes() {
        let name = slug(&lay.scopes[a].name);
        out.push((
            format!("fan_area_{name}"),
            Drawing::AreaFans(AreaFans {
                model,
                summaries: overlaid(summaries),
                scope: a,
                lang,
            }),
        ));
        out.push((
            format!("stacked_area_{name}"),
            Drawing::AreaStacked(AreaStacked {
                model,
                summaries: overlaid(summaries),
                scope: a,
                lang,
            }),
        ));
    }
}

/// Writes the figures of a run into `plots/` of the output folder, each as SVG and PNG: a fan chart per
/// non-absorbing state and arm, the stacked caseload per arm, the cost per year of all arms; per pilot
/// arm the paired cost difference per year, its histogram over the horizon, and the budget use of every
/// pilot area; every KPI against its targets; and for the pilot areas together a fan chart per state
/// with the arms overlaid, the stacked caseload per arm on one scale and per pilot arm the paired
/// caseload difference by state and year (from `differences`). `plots` says for which arms. The figures
/// are drawn on `threads` threads; their bytes do not depend on it, and the first failure in file order
/// is reported.
pub fn write_all(
    model: &Model,
    summaries: &[ArmTables],
    differences: &[Difference],
    staged: &mut Staged,
    lang: Lang,
    plots: Plots,
    threads: usize,
) -> Result<()> {
    let drawn = &summaries[..plots.arms(summaries.len())];
    let jobs = drawings(model, drawn, differences, lang);
    // File names are given out in order, so that two arms with the same file-safe name are numbered the
    // same way at every thread count.
    let mut files = Vec::with_capacity(jobs.len());
    for (stem, _) in &jobs {
        let name = staged.free_stem("plots/", stem, &[".svg", ".png"]);
        let svg_name = format!("plots/{name}.svg");
        let png_name = format!("plots/{name}.png");
        let svg_path = staged.file_path(&svg_name)?;
        let png_path = staged.file_path(&png_name)?;
        files.push([(svg_name, svg_path), (png_name, png_path)]);
    }
    let target = staged.target().to_path_buf();
    let draw = |i: usize| -> Result<()> {
        let fig = &jobs[i].1;
        let [(svg_name, svg_path), (png_name, png_path)] = &files[i];
        let fail = |name: &str, e: std::io::Error| Error::Write {
            path: target.join(name).display().to_string(),
            source: e,
        };
        let text = svg(fig).map_err(|e| fail(svg_name, std::io::Error::other(e)))?;
        std::fs::write(svg_path, text).map_err(|e| fail(svg_name, e))?;
        let bytes = png_bytes(fig).map_err(|e| fail(png_name, std::io::Error::other(e)))?;
        std::fs::write(png_path, bytes).map_err(|e| fail(png_name, e))
    };
    let results: Vec<Result<()>> = if threads <= 1 || jobs.len() < 2 {
        (0..jobs.len()).map(draw).collect()
    } else {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Write {
                path: target.join("plots").display().to_string(),
                source: std::io::Error::other(e),
            })?;
        pool.install(|| (0..jobs.len()).into_par_iter().map(draw).collect())
    };
    results.into_iter().collect()
}

/// A file name part from an arm, area, state or KPI name: letters, digits, `-` and `_` (others become
/// `_`), at most 60 characters, so that no name can reach outside `plots/` or exceed a file system's
/// limit. Two names that give the same file name are numbered (`-2`) by [`Staged::free_stem`].
fn slug(s: &str) -> String {
    s.chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
