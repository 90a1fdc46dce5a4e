//! From one run's trace to its reported numbers: caseload, flows, accounts, budget books, KPIs and
//! economic totals, laid out as [`Layout`] says.

use super::area::{ACCOUNTS, AreaPart, area_part};
use super::layout::{Account, BudgetMeasure, Econ, KpiCell, Layout};
use crate::engine::{AreaTrace, AreaView, RunTrace};
use crate::model::{Model, Tally};

/// Reduces one run's trace of arm `arm` to its reported cells.
pub fn reduce(model: &Model, arm: usize, layout: &Layout, trace: &RunTrace) -> Vec<f64> {
    let views: Vec<AreaView<u32>> = trace.areas.iter().map(AreaTrace::view).collect();
    reduce_views(model, arm, layout, &views, &trace.pools)
}

/// Reduces one run of every arm (`traces`, in arm order) to each arm's reported cells, as [`reduce`]
/// does arm by arm. An area that an arm simulates alike with an earlier arm (`twins`, as
/// [`crate::engine::twins`]: the same trace, the same costs, no regime) is reduced once: its flows,
/// costs and totals are the earlier arm's, added to the arm's scopes in the same order, so every cell
/// is bit for bit what [`reduce`] gives.
pub fn reduce_arms(
    model: &Model,
    layouts: &[Layout],
    traces: &[RunTrace],
    twins: &[Vec<Option<usize>>],
) -> Vec<Vec<f64>> {
    let mut cells: Vec<Vec<f64>> = layouts.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut outs: Vec<&mut [f64]> = cells.iter_mut().map(Vec::as_mut_slice).collect();
    reduce_arms_into(model, layouts, traces, twins, &mut outs);
    cells
}

/// [`reduce_arms`] into `outs` (one slice of each arm's [`Layout::len`] cells, overwritten): the
/// cells of a batch's runs are reduced into room that is used again for later runs.
pub fn reduce_arms_into(
    model: &Model,
    layouts: &[Layout],
    traces: &[RunTrace],
    twins: &[Vec<Option<usize>>],
    outs: &mut [&mut [f64]],
) {
    let views: Vec<Vec<AreaView<u32>>> = traces
        .iter()
        .map(|t| t.areas.iter().map(AreaTrace::view).collect())
        .collect();
    // Per arm and area: its own part, or `None` where an earlier arm's is the same.
    let own: Vec<Vec<Option<AreaPart>>> = views
        .iter()
        .enumerate()
        .map(|(arm, views)| {
            views
                .iter()
                .enumerate()
                .map(|(a, at)| {
                    let twin = twins.get(arm).and_then(|t| t[a]);
                    debug_assert!(
                        twin.is_none_or(|i| traces[i].areas[a] == traces[arm].areas[a]),
                        "a twin area has its twin's trace"
                    );
                    twin.is_none()
                        .then(|| area_part(model, arm, &layouts[arm], a, at))
                })
                .collect()
        })
        .collect();
    let part = |arm: usize, a: usize| -> &AreaPart {
        let mut j = arm;
        loop {
            match (&own[j][a], twins.get(j).and_then(|t| t[a])) {
                (Some(p), _) => return p,
                (None, Some(i)) if i < j => j = i,
                _ => unreachable!("an area without a twin has its own part"),
            }
        }
    };
    for (arm, out) in outs.iter_mut().enumerate().take(traces.len()) {
        let parts: Vec<&AreaPart> = (0..views[arm].len()).map(|a| part(arm, a)).collect();
        let pools = &traces[arm].pools;
        assemble(model, arm, &layouts[arm], &views[arm], pools, &parts, out);
    }
}

/// Reduces one run's areas (or their expected values) and its pools' budget years to the reported
/// cells. Every area's numbers are added to each scope that holds it, in area order, so a scope's
/// numbers are sums over its areas whatever the thread count.
pub fn reduce_views<T: Tally>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
) -> Vec<f64> {
    let parts: Vec<AreaPart> = areas
        .iter()
        .enumerate()
        .map(|(a, at)| area_part(model, arm, layout, a, at))
        .collect();
    let parts: Vec<&AreaPart> = parts.iter().collect();
    let mut out = vec![0.0; layout.len()];
    assemble(model, arm, layout, areas, pools, &parts, &mut out);
    out
}

/// Adds up one run's reported cells from its areas' counts and parts, its pools' budget years, the
/// budget holders' spend, the KPIs and the totals (in this order: cells that several steps add to get
/// their additions in the same order every run).
fn assemble<T: Tally>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
    parts: &[&AreaPart],
    out: &mut [f64],
) {
    // The caseload cells (the first) are written whole by `area_totals`; the others are added to.
    out[layout.caseload(layout.scopes.len(), 0, 0)..].fill(0.0);
    holder_spends(model, arm, layout, areas, out);
    area_totals(layout, areas, parts, out);
    kpis(model, layout, areas, out);
    economics(model, arm, layout, pools, parts, out);
    for (i, pool) in layout.pools.iter().enumerate() {
        let plan = layout.pool_plan(model, arm, i);
        pool_fixed_costs(model, layout, plan, pool, out);
        let Some(years) = pools.get(i) else { continue };
        // The pool's accounts are split over its areas by their share of the pool's inhabitants.
        let shares = pool_shares(model, pool);
        pool_accounts(model, layout, (plan, i), years, &shares, out);
        bonus_malus(model, layout, (plan, i, pool), areas, &shares, out);
    }
    municipal_spend(layout, out);
}

/// The budget holders' spend per pilot area and year.
fn holder_spends<T: Tally>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    out: &mut [f64],
) {
    let n = layout.n_states;
    let n1 = n + 1;
    for (i, (&a, plan)) in layout
        .pilot_areas
        .iter()
        .zip(&layout.pilot_plans)
        .enumerate()
    {
        let at = &areas[a];
        let costs = model.costs_of(arm, a);
        for c in plan.start as usize..(plan.end as usize).min(layout.cycles) {
            let y = model.year_index(c as u32);
            // As the engine booked it, where it did; the same function of the same counts.
            let spend = match at.spend {
                Some(spend) => spend[c],
                None => {
                    let counts = &at.counts[c * n..(c + 1) * n];
                    let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
                    crate::engine::budget::holder_spend(model, plan, a, c, costs, counts, moves)
                }
            };
            out[layout.holder_spend(i, y)] += spend;
        }
    }
}

/// Each area's caseload, flows, costs and accounts, added to each of its scopes in area order.
fn area_totals<T: Tally>(
    layout: &Layout,
    areas: &[AreaView<T>],
    parts: &[&AreaPart],
    out: &mut [f64],
) {
    let n = layout.n_states;
    let (ys, nf, nl) = (layout.years.len(), layout.flows.len(), layout.lines);
    // The caseload: each scope's areas in area order, written over what the cells held.
    for (sc, scope) in layout.scopes.iter().enumerate() {
        let cells = layout.caseload(sc, 0, 0);
        T::put_parts(
            scope
                .areas
                .iter()
                .map(|&a| &areas[a].counts[..layout.cycles * n]),
            &mut out[cells..cells + layout.cycles * n],
        );
    }
    for (a, part) in parts.iter().enumerate() {
        let scopes = &layout.area_scopes[a];
        for &sc in scopes {
            let at = layout.flow(sc, 0, 0);
            for (o, v) in out[at..at + ys * nf].iter_mut().zip(&part.flows) {
                *o += v;
            }
            let at = layout.cost(sc, 0, 0);
            for (o, v) in out[at..at + ys * nl].iter_mut().zip(&part.lines) {
                *o += v;
            }
            for y in 0..ys {
                for (j, &k) in ACCOUNTS.iter().enumerate() {
                    out[layout.account(sc, y, k)] += part.accounts[y * ACCOUNTS.len() + j];
                }
            }
        }
    }
}

/// A pool's fixed costs in the cycles of its plan, on its areas' scopes.
fn pool_fixed_costs(
    model: &Model,
    layout: &Layout,
    plan: &crate::model::regime::Plan,
    pool: &crate::model::regime::Pool,
    out: &mut [f64],
) {
    let regime = &model.regimes[plan.regime];
    let limited = regime.budget != crate::model::regime::BudgetRule::Unlimited;
    for &a in &pool.areas {
        let area = &model.areas[a];
        for fixed in &regime.fixed {
            for c in plan.cycles() {
                let y = model.year_index(c as u32);
                let value = fixed.at(c, area.inhabitants);
                for &sc in &layout.area_scopes[a] {
                    out[layout.cost(sc, y, fixed.line)] += value;
                    out[layout.account(sc, y, Account::CommunityCost)] += value;
                    if !limited {
                        // A pass-through: what it spends (the fixed costs) is paid directly.
                        out[layout.account(sc, y, Account::PaidDirectly)] += value;
                    }
                }
            }
        }
    }
}

/// Pool `i`'s budget years: its accounts split over its areas' scopes by `shares`, the reinvested
/// surplus spent on prevention the next year, and the pool's budget measures.
fn pool_accounts(
    model: &Model,
    layout: &Layout,
    (plan, i): (&crate::model::regime::Plan, usize),
    years: &[crate::engine::budget::BudgetYear],
    shares: &[(usize, f64)],
    out: &mut [f64],
) {
    let regime = &model.regimes[plan.regime];
    let limited = regime.budget != crate::model::regime::BudgetRule::Unlimited;
    for (j, b) in years.iter().enumerate() {
        if limited {
            for (k, amount) in [
                (Account::BudgetsPaid, b.budget),
                (Account::TopUps, b.top_up),
                (Account::Refunds, b.refund),
                (Account::Overspend, b.overspend),
            ] {
                split(out, layout, shares, amount, |sc| {
                    layout.account(sc, b.year, k)
                });
            }
        }
        // A reinvested surplus is spent on prevention in the next pilot year.
        if let (Some(line), Some(next)) = (regime.reinvest_line, years.get(j + 1))
            && b.reinvested > 0.0
        {
            split(out, layout, shares, b.reinvested, |sc| {
                layout.cost(sc, next.year, line)
            });
            split(out, layout, shares, b.reinvested, |sc| {
                layout.account(sc, next.year, Account::CommunityCost)
            });
        }
    }
    for b in years {
        for k in BudgetMeasure::ALL {
            out[layout.budget(i, b.year, k)] = k.of(b);
        }
    }
}

/// Bonus or malus on KPI targets over pool `i`'s own areas, for each contract year with a target that
/// overlaps the pilot period, booked in the calendar year the contract year ends.
fn bonus_malus<T: Tally>(
    model: &Model,
    layout: &Layout,
    (plan, i, pool): (
        &crate::model::regime::Plan,
        usize,
        &crate::model::regime::Pool,
    ),
    areas: &[AreaView<T>],
    shares: &[(usize, f64)],
    out: &mut [f64],
) {
    for bm in &model.regimes[plan.regime].bonus_malus {
        let kpi = &model.kpis[bm.kpi];
        let (counts, moves) = sums(layout, areas, &pool.areas);
        let mut cells = vec![0.0; kpi.years() * kpi.cells_per_year()];
        kpi.evaluate(layout.n_states, &counts, &moves, &mut cells);
        for y in 0..kpi.years() {
            let cycles: Vec<usize> = (0..layout.cycles)
                .filter(|&c| kpi.contract_year[c] == Some(y))
                .collect();
            let (Some(&last), true) = (cycles.last(), cycles.iter().any(|&c| plan.active(c)))
            else {
                continue;
            };
            let Some(met) = kpi.met(y, cells[y * kpi.cells_per_year()]) else {
                continue;
            };
            let amount = if met { bm.bonus } else { -bm.malus };
            let cy = model.year_index(last as u32);
            out[layout.budget(i, cy, BudgetMeasure::BonusMalus)] += amount;
            split(out, layout, shares, amount, |sc| {
                layout.account(sc, cy, Account::BonusMalus)
            });
        }
    }
}

/// Municipal spend of every scope and year, from its parts.
fn municipal_spend(layout: &Layout, out: &mut [f64]) {
    for sc in 0..layout.scopes.len() {
        for y in 0..layout.years.len() {
            let part = |k| out[layout.account(sc, y, k)];
            out[layout.account(sc, y, Account::MunicipalSpend)] =
                part(Account::PaidDirectly) + part(Account::BudgetsPaid) + part(Account::TopUps)
                    - part(Account::Refunds)
                    + part(Account::BonusMalus);
        }
    }
}

/// Each area of a pool with its share of the pool's inhabitants (equal shares without inhabitants).
fn pool_shares(model: &Model, pool: &crate::model::regime::Pool) -> Vec<(usize, f64)> {
    let inhabitants: f64 = pool
        .areas
        .iter()
        .map(|&a| model.areas[a].inhabitants as f64)
        .sum();
    pool.areas
        .iter()
        .map(|&a| {
            let w = if inhabitants > 0.0 {
                model.areas[a].inhabitants as f64 / inhabitants
            } else {
                1.0 / pool.areas.len() as f64
            };
            (a, w)
        })
        .collect()
}

/// Adds a pool's `amount`, split by `shares` over its areas, to cell `cell(scope)` of each scope of
/// each area.
fn split(
    out: &mut [f64],
    layout: &Layout,
    shares: &[(usize, f64)],
    amount: f64,
    cell: impl Fn(usize) -> usize,
) {
    for &(a, w) in shares {
        for &sc in &layout.area_scopes[a] {
            out[cell(sc)] += w * amount;
        }
    }
}

/// The counts and moves of `which` areas summed, in area order.
fn sums<T: Tally>(layout: &Layout, areas: &[AreaView<T>], which: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n1 = layout.n_states + 1;
    let mut counts = vec![0.0; layout.cycles * layout.n_states];
    let mut moves = vec![0.0; layout.cycles * n1 * n1];
    for &a in which {
        for (x, &v) in counts.iter_mut().zip(areas[a].counts) {
            *x += v.into();
        }
        for (x, &v) in moves.iter_mut().zip(areas[a].moves) {
            *x += v.into();
        }
    }
    (counts, moves)
}

/// Every KPI over each of its scopes (the scope's counts are its caseload cells; its moves are summed
/// once per scope, into room used again for the next scope).
fn kpis<T: Tally>(model: &Model, layout: &Layout, areas: &[AreaView<T>], out: &mut [f64]) {
    let n1 = layout.n_states + 1;
    let (mut moves, mut counts) = (Vec::new(), Vec::new());
    for (sc, scope) in layout.scopes.iter().enumerate() {
        // The KPIs over this scope, each with its place among the KPI's scopes.
        let mut over = model.kpis.iter().enumerate().flat_map(|(k, kpi)| {
            let places = kpi
                .scopes
                .iter()
                .enumerate()
                .filter(move |&(_, &s)| s == sc);
            places.map(move |(i, _)| (k, kpi, i))
        });
        let Some(first) = over.next() else { continue };
        moves.resize(layout.cycles * n1 * n1, 0.0);
        T::put_parts(scope.areas.iter().map(|&a| areas[a].moves), &mut moves);
        let from = layout.caseload(sc, 0, 0);
        counts.clear();
        counts.extend_from_slice(&out[from..from + layout.cycles * layout.n_states]);
        for (k, kpi, i) in std::iter::once(first).chain(over) {
            let at = layout.kpi(model, k, i, 0, KpiCell::Value);
            kpi.evaluate(
                layout.n_states,
                &counts,
                &moves,
                &mut out[at..at + kpi.years() * kpi.cells_per_year()],
            );
        }
    }
}

/// Discounted totals for `summary.csv`: each area's ([`area_economics`]) with the reinvested surpluses
/// of the pools, added to each scope that holds the area. The budget reserve is a transfer, not a cost,
/// and is left out.
fn economics(
    model: &Model,
    arm: usize,
    layout: &Layout,
    pools: &[Vec<crate::engine::budget::BudgetYear>],
    parts: &[&AreaPart],
    out: &mut [f64],
) {
    let d = &model.discount;
    let mut per_area: Vec<std::borrow::Cow<[f64]>> = parts
        .iter()
        .map(|p| std::borrow::Cow::Borrowed(p.econ.as_slice()))
        .collect();
    // Reinvested surpluses, spent at the start of the next pilot year, split over the pool's areas.
    for (i, years) in pools.iter().enumerate() {
        let plan = layout.pool_plan(model, arm, i);
        let shares = pool_shares(model, &layout.pools[i]);
        for pair in years.windows(2) {
            if pair[0].reinvested > 0.0 {
                let first = plan
                    .cycles()
                    .find(|&c| model.year_index(c as u32) == pair[1].year)
                    .expect("a budget year has cycles");
                for &(a, w) in &shares {
                    per_area[a].to_mut()[0] += w * pair[0].reinvested * d.cost[first];
                }
            }
        }
    }
    // An area's totals are laid out as `area_economics` makes them: cost, clients, outcomes.
    let econ = |j: usize| match j {
        0 => Econ::DiscountedCost,
        1 => Econ::Clients,
        k => Econ::Outcome(k - 2),
    };
    for (a, cells) in per_area.iter().enumerate() {
        for &sc in &layout.area_scopes[a] {
            for (j, v) in cells.iter().enumerate() {
                out[layout.econ(sc, econ(j))] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Prepared, simulate, simulate_prepared};
    use crate::scenario::default_scenario;

    #[test]
    fn arms_reduced_together_give_every_cell_of_each_arm_bit_for_bit() {
        // The pilot arm reuses the baseline's reduction of the six municipalities outside the pilot:
        // its cells must be exactly those of the arm reduced alone, with parameters drawn per run.
        let s = default_scenario();
        for run in 0..4 {
            let m = s.model_for_run(11, run).unwrap();
            let prep = Prepared::new(&m);
            assert!(prep.twins()[1].iter().filter(|t| t.is_some()).count() >= 6);
            let layouts: Vec<Layout> = (0..m.arms.len()).map(|j| Layout::new(&m, j)).collect();
            let traces = simulate_prepared(&prep, 11, run);
            let together = reduce_arms(&m, &layouts, &traces, prep.twins());
            for (arm, cells) in together.iter().enumerate() {
                let alone = reduce(&m, arm, &layouts[arm], &simulate(&m, arm, 11, run));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(cells), bits(&alone), "run {run}, arm {arm}");
            }
        }
    }

    #[test]
    fn the_holders_spend_the_engine_booked_is_the_spend_the_counts_give() {
        // The reduction reads the budget holders' spend from the engine's trace instead of
        // computing it again: every cell must be what computing it from the counts gives, with
        // parameters drawn per run (the pilot arm of the default has budget areas).
        let s = default_scenario();
        let mut booked = 0;
        for run in 0..4 {
            let m = s.model_for_run(3, run).unwrap();
            let arm = 1;
            let layout = Layout::new(&m, arm);
            assert!(!layout.pilot_areas.is_empty());
            let trace = simulate(&m, arm, 3, run);
            let views: Vec<AreaView<u32>> = trace.areas.iter().map(AreaTrace::view).collect();
            booked += views.iter().filter(|v| v.spend.is_some()).count();
            let computed: Vec<AreaView<u32>> = views
                .iter()
                .map(|v| AreaView { spend: None, ..*v })
                .collect();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&reduce_views(&m, arm, &layout, &views, &trace.pools)),
                bits(&reduce_views(&m, arm, &layout, &computed, &trace.pools)),
                "run {run}"
            );
        }
        assert!(booked > 0, "the engine booked spends");
    }
}
