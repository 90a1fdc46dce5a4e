//! From one run's trace to its reported numbers: caseload, flows, accounts, budget books, KPIs and
//! economic totals, laid out as [`Layout`] says.

use super::layout::{Account, BudgetMeasure, Econ, KpiCell, Layout};
use crate::engine::{AreaTrace, AreaView, RunTrace};
use crate::model::{LineKind, Model};

/// Reduces one run's trace of arm `arm` to its reported cells.
pub fn reduce(model: &Model, arm: usize, layout: &Layout, trace: &RunTrace) -> Vec<f64> {
    let views: Vec<AreaView<u32>> = trace.areas.iter().map(AreaTrace::view).collect();
    reduce_views(model, arm, layout, &views, &trace.pools)
}

/// Reduces one run's areas (or their expected values) and its pools' budget years to the reported
/// cells. Every area's numbers are added to each scope that holds it, in area order, so a scope's
/// numbers are sums over its areas whatever the thread count.
pub fn reduce_views<T: Copy + Into<f64>>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
) -> Vec<f64> {
    let n = layout.n_states;
    let n1 = n + 1;
    let mut out = vec![0.0; layout.len()];
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
            let counts = &at.counts[c * n..(c + 1) * n];
            let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
            let spend =
                crate::engine::budget::holder_spend(model, plan, a, c, costs, counts, moves);
            out[layout.holder_spend(i, y)] += spend;
        }
    }
    // One area's flows, costs and accounts per year, added to each of its scopes when it is done.
    let (ys, nf, nl) = (layout.years.len(), layout.flows.len(), layout.lines);
    const ACCOUNTS: [Account; 3] = [
        Account::CareCost,
        Account::CommunityCost,
        Account::PaidDirectly,
    ];
    let mut flows = vec![0.0; ys * nf];
    let mut lines = vec![0.0; ys * nl];
    let mut accounts = vec![0.0; ys * ACCOUNTS.len()];
    for (a, at) in areas.iter().enumerate() {
        let m = model.areas[a].municipality;
        let scopes = &layout.area_scopes[a];
        flows.fill(0.0);
        lines.fill(0.0);
        accounts.fill(0.0);
        // Lines paid from a (limited) budget, in the cycles of the pilot period.
        let budgeted = model.arms[arm].plans[a].as_ref().and_then(|p| {
            let regime = &model.regimes[p.regime];
            (regime.budget != crate::model::regime::BudgetRule::Unlimited)
                .then_some((p, &regime.covers))
        });
        let costs = model.costs_of(arm, a);
        for c in 0..layout.cycles {
            let y = model.year_index(c as u32);
            let counts = &at.counts[c * n..(c + 1) * n];
            let moves = &at.moves[c * n1 * n1..(c + 1) * n1 * n1];
            for &sc in scopes {
                let cells = layout.caseload(sc, c, 0);
                for (o, &k) in out[cells..cells + n].iter_mut().zip(counts) {
                    *o += k.into();
                }
            }
            for (&k, &f) in moves.iter().zip(&layout.move_flow) {
                let k: f64 = k.into();
                if k != 0.0 && f != u32::MAX {
                    flows[y * nf + f as usize] += k;
                }
            }
            // A value on a line: its account by the line's kind, and paid directly unless a budget
            // covers the line in this cycle.
            let mut book = |line: usize, value: f64| {
                lines[y * nl + line] += value;
                let acc = &mut accounts[y * ACCOUNTS.len()..(y + 1) * ACCOUNTS.len()];
                match model.line_kinds[line] {
                    LineKind::Care => acc[0] += value,
                    LineKind::Community => acc[1] += value,
                    LineKind::OwnContribution => {}
                }
                if !budgeted.is_some_and(|(p, covers)| p.active(c) && covers[line]) {
                    acc[2] += value;
                }
            };
            for item in costs {
                if item.municipalities[m] && item.amount[c] != 0.0 {
                    book(item.line, item.units(counts, moves) * item.amount[c]);
                }
            }
            model.evaluation_costs(c, counts, moves, &mut book);
        }
        for &sc in scopes {
            let at = layout.flow(sc, 0, 0);
            for (o, v) in out[at..at + ys * nf].iter_mut().zip(&flows) {
                *o += v;
            }
            let at = layout.cost(sc, 0, 0);
            for (o, v) in out[at..at + ys * nl].iter_mut().zip(&lines) {
                *o += v;
            }
            for y in 0..ys {
                for (j, &k) in ACCOUNTS.iter().enumerate() {
                    out[layout.account(sc, y, k)] += accounts[y * ACCOUNTS.len() + j];
                }
            }
        }
    }
    kpis(model, layout, areas, &mut out);
    economics(model, arm, layout, areas, pools, &mut out);
    for (i, pool) in layout.pools.iter().enumerate() {
        let plan = layout.pool_plan(model, arm, i);
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
        let Some(years) = pools.get(i) else { continue };
        // The pool's accounts are split over its areas by their share of the pool's inhabitants.
        let shares = pool_shares(model, pool);
        for (j, b) in years.iter().enumerate() {
            if limited {
                for (k, amount) in [
                    (Account::BudgetsPaid, b.budget),
                    (Account::TopUps, b.top_up),
                    (Account::Refunds, b.refund),
                    (Account::Overspend, b.overspend),
                ] {
                    split(&mut out, layout, &shares, amount, |sc| {
                        layout.account(sc, b.year, k)
                    });
                }
            }
            // A reinvested surplus is spent on prevention in the next pilot year.
            if let (Some(line), Some(next)) = (regime.reinvest_line, years.get(j + 1))
                && b.reinvested > 0.0
            {
                split(&mut out, layout, &shares, b.reinvested, |sc| {
                    layout.cost(sc, next.year, line)
                });
                split(&mut out, layout, &shares, b.reinvested, |sc| {
                    layout.account(sc, next.year, Account::CommunityCost)
                });
            }
        }
        for b in years {
            for k in BudgetMeasure::ALL {
                out[layout.budget(i, b.year, k)] = k.of(b);
            }
        }
        // Bonus or malus on KPI targets over the pool's own areas, for each contract year with a
        // target that overlaps the pilot period, booked in the calendar year the contract year ends.
        for bm in &regime.bonus_malus {
            let kpi = &model.kpis[bm.kpi];
            let (counts, moves) = sums(layout, areas, &pool.areas);
            let mut cells = vec![0.0; kpi.years() * kpi.cells_per_year()];
            kpi.evaluate(n, &counts, &moves, &mut cells);
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
                split(&mut out, layout, &shares, amount, |sc| {
                    layout.account(sc, cy, Account::BonusMalus)
                });
            }
        }
    }
    // Municipal spend from its parts.
    for sc in 0..layout.scopes.len() {
        for y in 0..layout.years.len() {
            let part = |k| out[layout.account(sc, y, k)];
            out[layout.account(sc, y, Account::MunicipalSpend)] =
                part(Account::PaidDirectly) + part(Account::BudgetsPaid) + part(Account::TopUps)
                    - part(Account::Refunds)
                    + part(Account::BonusMalus);
        }
    }
    out
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
fn sums<T: Copy + Into<f64>>(
    layout: &Layout,
    areas: &[AreaView<T>],
    which: &[usize],
) -> (Vec<f64>, Vec<f64>) {
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
/// once per scope).
fn kpis<T: Copy + Into<f64>>(
    model: &Model,
    layout: &Layout,
    areas: &[AreaView<T>],
    out: &mut [f64],
) {
    let n1 = layout.n_states + 1;
    let mut moves: Vec<Option<Vec<f64>>> = vec![None; layout.scopes.len()];
    for (k, kpi) in model.kpis.iter().enumerate() {
        for (i, &sc) in kpi.scopes.iter().enumerate() {
            let mv = moves[sc].get_or_insert_with(|| {
                let mut v = vec![0.0; layout.cycles * n1 * n1];
                for &a in &layout.scopes[sc].areas {
                    for (x, &m) in v.iter_mut().zip(areas[a].moves) {
                        *x += m.into();
                    }
                }
                v
            });
            let from = layout.caseload(sc, 0, 0);
            let counts = out[from..from + layout.cycles * layout.n_states].to_vec();
            let at = layout.kpi(model, k, i, 0, KpiCell::Value);
            kpi.evaluate(
                layout.n_states,
                &counts,
                mv,
                &mut out[at..at + kpi.years() * kpi.cells_per_year()],
            );
        }
    }
}

/// Discounted totals for `summary.csv`: per-cycle costs and outcomes on the occupancy at the cycle
/// boundaries with the scenario's timing convention; one-off costs (fees, transition costs) and fixed
/// costs at the start of the cycle they fall in. The budget reserve is a transfer, not a cost, and is
/// left out.
fn economics<T: Copy + Into<f64>>(
    model: &Model,
    arm: usize,
    layout: &Layout,
    areas: &[AreaView<T>],
    pools: &[Vec<crate::engine::budget::BudgetYear>],
    out: &mut [f64],
) {
    let n = layout.n_states;
    let n1 = n + 1;
    let cycles = layout.cycles;
    let d = &model.discount;
    let outcomes = model.outcomes.len();
    // Per area: discounted cost, clients, discounted outcomes.
    let mut per_area = Vec::with_capacity(areas.len());
    for (a, at) in areas.iter().enumerate() {
        let area = &model.areas[a];
        let m = area.municipality;
        let costs = model.costs_of(arm, a);
        let (mut cost, mut clients) = (0.0, 0.0);
        let mut outcome = vec![0.0; outcomes];
        clients += area.initial.iter().map(|&k| f64::from(k)).sum::<f64>();
        for t in 0..=cycles {
            let occ = if t < cycles {
                &at.counts[t * n..(t + 1) * n]
            } else {
                at.final_counts
            };
            let w = d.timing.weight(t, cycles);
            let c = d.timing.cycle_at(t, cycles);
            if w > 0.0 {
                for item in costs.iter().filter(|i| i.municipalities[m]) {
                    if let crate::model::CostBasis::PerCycle(s) = item.basis {
                        cost += occ[s].into() * item.amount[c] * w * d.cost[t];
                    }
                }
                for (k, o) in model.outcomes.iter().enumerate() {
                    outcome[k] += (0..n).map(|s| occ[s].into() * o.weights[s]).sum::<f64>()
                        * w
                        * d.outcome[t];
                }
            }
            if t == cycles {
                continue;
            }
            let moves = &at.moves[t * n1 * n1..(t + 1) * n1 * n1];
            clients += (0..n).map(|s| moves[n * n1 + s].into()).sum::<f64>();
            for item in costs
                .iter()
                .filter(|i| i.municipalities[m] && !i.cells.is_empty())
            {
                cost +=
                    item.units(&at.counts[t * n..(t + 1) * n], moves) * item.amount[t] * d.cost[t];
            }
            model.evaluation_costs(t, &at.counts[t * n..(t + 1) * n], moves, |_, value| {
                cost += value * d.cost[t]
            });
        }
        if let Some(plan) = &model.arms[arm].plans[a] {
            for f in &model.regimes[plan.regime].fixed {
                for c in plan.cycles() {
                    cost += f.at(c, area.inhabitants) * d.cost[c];
                }
            }
        }
        per_area.push((cost, clients, outcome));
    }
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
                    per_area[a].0 += w * pair[0].reinvested * d.cost[first];
                }
            }
        }
    }
    for (a, (cost, clients, outcome)) in per_area.iter().enumerate() {
        for &sc in &layout.area_scopes[a] {
            out[layout.econ(sc, Econ::DiscountedCost)] += cost;
            out[layout.econ(sc, Econ::Clients)] += clients;
            for (k, v) in outcome.iter().enumerate() {
                out[layout.econ(sc, Econ::Outcome(k))] += v;
            }
        }
    }
}
