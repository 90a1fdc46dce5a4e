//! KPIs: indicators per contract year with targets, defined as data in the scenario.
//!
//! Four kinds cover the KPIs of segment 2a and the factsheet (README, section KPIs, says how each is
//! approximated):
//! * `share`: clients in the numerator states over clients in the denominator states, summed over the
//!   cycles of the contract year (a share of client-months); a state may count with a weight in 0..1
//!   (e.g. the assumed share of sociale-basis clients who have a Waakvlam contact there);
//! * `flow_share`: moves matching the numerator patterns over moves matching the denominator patterns
//!   in the contract year (e.g. Waakvlam indications handed over to the sociale basis);
//! * `evaluations`: yearly evaluations due (clients in the states at the start of the contract year plus
//!   those who enter them during it) and their cost; the KPI value is the share planned, an assumption;
//! * `count`: a number of clients in the states (e.g. the factsheet's 165 Waakvlam clients in 2023),
//!   counted as [`CountMode`] says.

/// How a `count` KPI counts the clients in its states in a contract year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMode {
    /// Clients in the states during the year: those in them in its first cycle plus entries into them
    /// from outside them (new clients included) in its later cycles, as evaluations due are counted.
    /// A client who leaves and re-enters within the year counts twice.
    During,
    /// The mean stock over the year's cycles.
    Average,
    /// The stock in the year's last cycle (within the horizon).
    End,
}

/// What a KPI measures.
#[derive(Debug, Clone, PartialEq)]
pub enum KpiKind {
    /// Share of client-months: numerator and denominator weights by state (1 counts a state's
    /// clients in full, 0 not at all, a weight in between that share of them).
    Share {
        /// Numerator weights.
        num: Vec<f64>,
        /// Denominator weights.
        den: Vec<f64>,
    },
    /// Share of moves: masks over a cycle's move matrix (`from * (n + 1) + to`).
    FlowShare {
        /// Numerator cells.
        num: Vec<bool>,
        /// Denominator cells.
        den: Vec<bool>,
    },
    /// Yearly evaluations of clients in `states`.
    Evaluations {
        /// States whose clients are evaluated.
        states: Vec<bool>,
        /// Nominal cost of an evaluation, by cycle.
        cost: Vec<f64>,
        /// Share of due evaluations held (an assumption: the model does not simulate it).
        planned: f64,
        /// The cost line the evaluations held are booked on (`None`: reported, not booked).
        line: Option<usize>,
        /// The cells of a cycle's moves that enter `states` from outside them ([`entry_cells`]).
        entries: Vec<usize>,
    },
    /// Number of clients in `states`, counted as `mode` says.
    Count {
        /// States whose clients are counted.
        states: Vec<bool>,
        /// How they are counted.
        mode: CountMode,
    },
}

/// A compiled KPI.
#[derive(Debug, Clone)]
pub struct Kpi {
    /// Short name.
    pub name: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
    /// What it measures.
    pub kind: KpiKind,
    /// Target per contract year (`None`: no target that year).
    pub targets: Vec<Option<f64>>,
    /// Whether a value at or above the target meets it (else at or below).
    pub higher_is_better: bool,
    /// Contract year of every cycle (`None` before the contract starts).
    pub contract_year: Vec<Option<usize>>,
    /// The scopes it is evaluated over (indices into [`crate::model::Model::scopes`]).
    pub scopes: Vec<usize>,
}

impl Kpi {
    /// Number of contract years within the horizon.
    pub fn years(&self) -> usize {
        self.contract_year
            .iter()
            .flatten()
            .max()
            .map_or(0, |y| y + 1)
    }

    /// Cells per contract year: the value, and for evaluations also the numbers due and held.
    pub fn cells_per_year(&self) -> usize {
        if matches!(self.kind, KpiKind::Evaluations { .. }) {
            3
        } else {
            1
        }
    }

    /// Whether it counts evaluations: its cells per contract year are the share held (the
    /// assumption), the evaluations due and those held, reported in `evaluations.csv`, not as a KPI;
    /// their cost is booked on a cost line ([`Kpi::evaluation_cost`]).
    pub fn is_evaluations(&self) -> bool {
        matches!(self.kind, KpiKind::Evaluations { .. })
    }

    /// The cost of the evaluations held in cycle `c` from one area's (or scope's) counts and moves of
    /// that cycle, with the line it is booked on; `None` for other kinds, outside the contract, or
    /// without a line.
    pub fn evaluation_cost<T: Copy + Into<f64>>(
        &self,
        n: usize,
        c: usize,
        cnt: &[T],
        mv: &[T],
    ) -> Option<(usize, f64)> {
        let KpiKind::Evaluations {
            states,
            cost,
            planned,
            line: Some(line),
            entries,
        } = &self.kind
        else {
            return None;
        };
        self.contract_year[c]?;
        let due = if self.first_of_year(c) {
            stock(n, states, cnt)
        } else {
            entries.iter().map(|&i| mv[i].into()).sum()
        };
        Some((*line, due * planned * cost[c]))
    }

    /// Whether cycle `c` is the first of its contract year.
    fn first_of_year(&self, c: usize) -> bool {
        self.contract_year[c].is_some()
            && (c == 0 || self.contract_year[c - 1] != self.contract_year[c])
    }

    /// Whether the KPI's value is a number of clients (a `count`), not a share from 0 to 1.
    pub fn is_count(&self) -> bool {
        matches!(self.kind, KpiKind::Count { .. })
    }

    /// P(met): the share of `values` (one per run) that meet the target of contract year `y`.
    pub fn p_met(&self, y: usize, values: &[f64]) -> f64 {
        values
            .iter()
            .filter(|&&v| self.met(y, v) == Some(true))
            .count() as f64
            / values.len() as f64
    }

    /// The last contract year with a target.
    pub fn last_target_year(&self) -> Option<usize> {
        (0..self.years()).rev().find(|&y| self.targets[y].is_some())
    }

    /// Where the summary tables (console, report) show it over scope `sc`: its index among the KPI's
    /// scopes and its last contract year with a target; `None` for evaluations, other scopes, or no
    /// target.
    pub fn shown_in(&self, sc: usize) -> Option<(usize, usize)> {
        if self.is_evaluations() {
            return None;
        }
        let i = self.scopes.iter().position(|&x| x == sc)?;
        Some((i, self.last_target_year()?))
    }

    /// Whether `value` meets the target of contract year `y`.
    pub fn met(&self, y: usize, value: f64) -> Option<bool> {
        let t = self.targets.get(y).copied().flatten()?;
        Some(if self.higher_is_better {
            value >= t - 1e-12
        } else {
            value <= t + 1e-12
        })
    }

    /// The cells of a cycle's moves [`Kpi::evaluate`] adds up, ascending: a flow share's numerator
    /// and denominator cells; the entries into the states of an evaluations or count KPI
    /// ([`entry_cells`]) and none; none for a share.
    fn move_cells(&self, n: usize) -> [Vec<usize>; 2] {
        let on = |mask: &[bool]| -> Vec<usize> {
            (0..mask.len().min((n + 1) * (n + 1)))
                .filter(|&i| mask[i])
                .collect()
        };
        match &self.kind {
            KpiKind::FlowShare { num, den } => [on(num), on(den)],
            KpiKind::Evaluations { states, .. } | KpiKind::Count { states, .. } => {
                [entry_cells(n, states), Vec::new()]
            }
            KpiKind::Share { .. } => [Vec::new(), Vec::new()],
        }
    }

    /// The KPI's cells of one run, from region totals: `counts[c * n + s]` and
    /// `moves[c * (n+1)^2 + cell]`. Writes `years() * cells_per_year()` values.
    pub fn evaluate(&self, n: usize, counts: &[f64], moves: &[f64], out: &mut [f64]) {
        let n1 = n + 1;
        let years = self.years();
        let per = self.cells_per_year();
        let mut num = vec![0.0; years];
        let mut den = vec![0.0; years];
        let mut first_cycle: Vec<Option<usize>> = vec![None; years];
        let [cells_a, cells_b] = self.move_cells(n);
        let sum = |mv: &[f64], cells: &[usize]| cells.iter().map(|&i| mv[i]).sum::<f64>();
        let stock = |states: &[bool], cnt: &[f64]| stock(n, states, cnt);
        for (c, y) in self.contract_year.iter().enumerate() {
            let Some(y) = *y else { continue };
            let cnt = &counts[c * n..(c + 1) * n];
            let mv = &moves[c * n1 * n1..(c + 1) * n1 * n1];
            match &self.kind {
                KpiKind::Share { num: a, den: b } => {
                    num[y] += cnt.iter().zip(a).map(|(v, w)| v * w).sum::<f64>();
                    den[y] += cnt.iter().zip(b).map(|(v, w)| v * w).sum::<f64>();
                }
                KpiKind::FlowShare { .. } => {
                    num[y] += sum(mv, &cells_a);
                    den[y] += sum(mv, &cells_b);
                }
                KpiKind::Evaluations { states, .. } => {
                    num[y] += if first_cycle[y].is_none() {
                        first_cycle[y] = Some(c);
                        stock(states, cnt)
                    } else {
                        sum(mv, &cells_a)
                    };
                }
                KpiKind::Count { states, mode } => {
                    let first = first_cycle[y].is_none();
                    if first {
                        first_cycle[y] = Some(c);
                    }
                    match mode {
                        CountMode::During if first => num[y] += stock(states, cnt),
                        CountMode::During => num[y] += sum(mv, &cells_a),
                        CountMode::Average => {
                            num[y] += stock(states, cnt);
                            den[y] += 1.0;
                        }
                        // Cycles come in order: the last one written stays.
                        CountMode::End => num[y] = stock(states, cnt),
                    }
                }
            }
        }
        for y in 0..years {
            match &self.kind {
                KpiKind::Evaluations { planned, .. } => {
                    out[y * per] = *planned;
                    out[y * per + 1] = num[y];
                    out[y * per + 2] = num[y] * planned;
                }
                KpiKind::Count {
                    mode: CountMode::During | CountMode::End,
                    ..
                } => out[y * per] = num[y],
                _ => out[y * per] = if den[y] > 0.0 { num[y] / den[y] } else { 0.0 },
            }
        }
    }
}

/// The cells of a cycle's moves (`from * (n + 1) + to`) that enter the masked states from outside
/// them, new clients included.
pub fn entry_cells(n: usize, states: &[bool]) -> Vec<usize> {
    let n1 = n + 1;
    (0..n1)
        .filter(|&f| f == n || !states[f])
        .flat_map(|f| (0..n).filter(|&t| states[t]).map(move |t| f * n1 + t))
        .collect()
}

/// Clients in the masked states in one cycle's counts.
fn stock<T: Copy + Into<f64>>(n: usize, states: &[bool], cnt: &[T]) -> f64 {
    (0..n)
        .filter(|&s| states[s])
        .map(|s| cnt[s].into())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpi(kind: KpiKind, contract_year: Vec<Option<usize>>) -> Kpi {
        Kpi {
            name: "k".into(),
            nl: String::new(),
            en: String::new(),
            kind,
            targets: vec![Some(0.5), None],
            higher_is_better: true,
            contract_year,
            scopes: vec![0],
        }
    }

    #[test]
    fn share_flow_share_and_evaluations_by_hand() {
        // Two states (A, B), three cycles: cycle 0 before the contract, cycles 1-2 contract year 1.
        let n = 2;
        let counts = [9.0, 9.0, 3.0, 1.0, 2.0, 2.0];
        let mut moves = vec![0.0; 3 * 9];
        moves[9 + 1] = 4.0; // cycle 1: A -> B
        moves[9 + 2] = 1.0; // cycle 1: A renewed
        moves[18 + 2 * 3] = 5.0; // cycle 2: inflow -> A
        let years = vec![None, Some(0), Some(0)];
        let mut out = [0.0; 1];
        kpi(
            KpiKind::Share {
                num: vec![0.0, 1.0],
                den: vec![1.0, 1.0],
            },
            years.clone(),
        )
        .evaluate(n, &counts, &moves, &mut out);
        assert_eq!(out[0], 3.0 / 8.0);
        let mut cells = vec![false; 9];
        cells[1] = true; // A>B
        kpi(
            KpiKind::FlowShare {
                num: cells,
                den: vec![true; 9],
            },
            years.clone(),
        )
        .evaluate(n, &counts, &moves, &mut out);
        assert_eq!(out[0], 4.0 / 10.0);
        let ev = KpiKind::Evaluations {
            states: vec![true, false],
            cost: vec![100.0; 3],
            planned: 0.9,
            line: Some(2),
            entries: entry_cells(2, &[true, false]),
        };
        let mut out3 = [0.0; 3];
        let ev = kpi(ev, years);
        ev.evaluate(n, &counts, &moves, &mut out3);
        // Due: 3 in A at the start of the year + 5 new clients into A (the renewal is not an entry);
        // 90% of them held, at 100 each.
        assert_eq!(out3, [0.9, 8.0, 8.0 * 0.9]);
        // Booked per cycle: the stock in the year's first cycle, the entries after; none before.
        let cost = |c: usize| ev.evaluation_cost(n, c, &counts[c * n..], &moves[c * 9..]);
        assert_eq!(cost(0), None);
        assert_eq!(cost(1), Some((2, 3.0 * 0.9 * 100.0)));
        assert_eq!(cost(2), Some((2, 5.0 * 0.9 * 100.0)));
    }

    #[test]
    fn targets_are_met_in_the_right_direction() {
        let mut k = kpi(
            KpiKind::Share {
                num: vec![1.0],
                den: vec![1.0],
            },
            vec![Some(0)],
        );
        assert_eq!(k.met(0, 0.5), Some(true));
        assert_eq!(k.met(0, 0.49), Some(false));
        assert_eq!(k.met(1, 0.9), None);
        k.higher_is_better = false;
        assert_eq!(k.met(0, 0.49), Some(true));
    }

    /// Three states (A, B, C) counting A and B; cycle 0 before the contract, cycles 1-2 contract year
    /// 1, cycle 3 contract year 2.
    fn three_states() -> (usize, Vec<f64>, Vec<f64>, Vec<Option<usize>>) {
        let n = 3;
        let counts = vec![
            5.0, 5.0, 5.0, // cycle 0
            2.0, 3.0, 4.0, // cycle 1: A + B = 5
            4.0, 2.0, 3.0, // cycle 2: A + B = 6
            1.0, 1.0, 7.0, // cycle 3: A + B = 2
        ];
        let n1 = n + 1;
        let cell = |c: usize, from: usize, to: usize| c * n1 * n1 + from * n1 + to;
        let mut moves = vec![0.0; 4 * n1 * n1];
        moves[cell(1, 2, 0)] = 2.0; // C -> A in the year's first cycle: in its stock already
        moves[cell(2, 0, 1)] = 1.0; // A -> B: within the states, not an entry
        moves[cell(2, 2, 0)] = 2.0; // C -> A: an entry
        moves[cell(2, 3, 1)] = 1.0; // new client -> B: an entry
        moves[cell(2, 0, 3)] = 1.0; // A renewed: not an entry
        moves[cell(2, 1, 2)] = 1.0; // B -> C: an exit
        moves[cell(3, 2, 1)] = 3.0; // C -> B in year 2's first cycle: in its stock already
        (n, counts, moves, vec![None, Some(0), Some(0), Some(1)])
    }

    #[test]
    fn counts_during_on_average_and_at_the_end_by_hand() {
        let (n, counts, moves, years) = three_states();
        let value = |mode| {
            let mut out = [0.0; 2];
            let kind = KpiKind::Count {
                states: vec![true, true, false],
                mode,
            };
            let k = kpi(kind, years.clone());
            assert_eq!(k.cells_per_year(), 1);
            assert!(k.is_count());
            k.evaluate(n, &counts, &moves, &mut out);
            out
        };
        // During: year 1 = 5 at its start + 2 (C -> A) + 1 (new client) entries; year 2 = its stock.
        assert_eq!(value(CountMode::During), [8.0, 2.0]);
        assert_eq!(value(CountMode::Average), [5.5, 2.0]);
        assert_eq!(value(CountMode::End), [6.0, 2.0]);
    }

    #[test]
    fn a_weighted_share_counts_part_of_a_state() {
        let (n, counts, moves, years) = three_states();
        let mut out = [0.0; 2];
        let k = kpi(
            KpiKind::Share {
                num: vec![1.0, 0.0, 0.5],
                den: vec![1.0, 1.0, 0.5],
            },
            years,
        );
        assert!(!k.is_count());
        k.evaluate(n, &counts, &moves, &mut out);
        // Year 1: (2 + 0.5*4) + (4 + 0.5*3) over (5 + 0.5*4) + (6 + 0.5*3); year 2: 4.5 / 5.5.
        assert_eq!(out, [9.5 / 14.5, 4.5 / 5.5]);
    }

    #[test]
    fn a_count_target_is_met_at_or_above_the_count() {
        let mut k = kpi(
            KpiKind::Count {
                states: vec![true],
                mode: CountMode::End,
            },
            vec![Some(0), Some(1), Some(2)],
        );
        k.targets = vec![None, None, Some(165.0)];
        assert_eq!(k.met(2, 165.0), Some(true));
        assert_eq!(k.met(2, 171.3), Some(true));
        assert_eq!(k.met(2, 164.9), Some(false));
        assert_eq!(k.met(1, 300.0), None);
    }
}
