//! KPIs: indicators per contract year with targets, defined as data in the scenario.
//!
//! Three kinds cover the KPIs of segment 2a and the factsheet (README, section KPIs, says how each is
//! approximated):
//! * `share`: clients in the numerator states over clients in the denominator states, summed over the
//!   cycles of the contract year (a share of client-months);
//! * `flow_share`: moves matching the numerator patterns over moves matching the denominator patterns
//!   in the contract year (e.g. Waakvlam indications handed over to the sociale basis);
//! * `evaluations`: yearly evaluations due (clients in the states at the start of the contract year plus
//!   those who enter them during it) and their cost; the KPI value is the share planned, an assumption.

/// What a KPI measures.
#[derive(Debug, Clone, PartialEq)]
pub enum KpiKind {
    /// Share of client-months: numerator and denominator state masks.
    Share {
        /// Numerator states.
        num: Vec<bool>,
        /// Denominator states.
        den: Vec<bool>,
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
        /// Share of due evaluations planned (assumption).
        planned: f64,
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

    /// Cells per contract year: the value, and for evaluations also the number due and the cost.
    pub fn cells_per_year(&self) -> usize {
        if matches!(self.kind, KpiKind::Evaluations { .. }) {
            3
        } else {
            1
        }
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

    /// The KPI's cells of one run, from region totals: `counts[c * n + s]` and
    /// `moves[c * (n+1)^2 + cell]`. Writes `years() * cells_per_year()` values.
    pub fn evaluate(&self, n: usize, counts: &[f64], moves: &[f64], out: &mut [f64]) {
        let n1 = n + 1;
        let years = self.years();
        let per = self.cells_per_year();
        let mut num = vec![0.0; years];
        let mut den = vec![0.0; years];
        let mut first_cycle: Vec<Option<usize>> = vec![None; years];
        for (c, y) in self.contract_year.iter().enumerate() {
            let Some(y) = *y else { continue };
            let cnt = &counts[c * n..(c + 1) * n];
            let mv = &moves[c * n1 * n1..(c + 1) * n1 * n1];
            match &self.kind {
                KpiKind::Share { num: a, den: b } => {
                    num[y] += (0..n).filter(|&s| a[s]).map(|s| cnt[s]).sum::<f64>();
                    den[y] += (0..n).filter(|&s| b[s]).map(|s| cnt[s]).sum::<f64>();
                }
                KpiKind::FlowShare { num: a, den: b } => {
                    num[y] += mv
                        .iter()
                        .zip(a)
                        .filter(|(_, m)| **m)
                        .map(|(v, _)| v)
                        .sum::<f64>();
                    den[y] += mv
                        .iter()
                        .zip(b)
                        .filter(|(_, m)| **m)
                        .map(|(v, _)| v)
                        .sum::<f64>();
                }
                KpiKind::Evaluations { states, cost, .. } => {
                    let due = if first_cycle[y].is_none() {
                        first_cycle[y] = Some(c);
                        (0..n).filter(|&s| states[s]).map(|s| cnt[s]).sum::<f64>()
                    } else {
                        // Entries into the states from outside them (including new clients).
                        (0..n1)
                            .filter(|&f| f == n || !states[f])
                            .flat_map(|f| (0..n).filter(|&t| states[t]).map(move |t| f * n1 + t))
                            .map(|i| mv[i])
                            .sum::<f64>()
                    };
                    num[y] += due;
                    den[y] += due * cost[c];
                }
            }
        }
        for y in 0..years {
            match &self.kind {
                KpiKind::Evaluations { planned, .. } => {
                    out[y * per] = *planned;
                    out[y * per + 1] = num[y];
                    out[y * per + 2] = den[y];
                }
                _ => out[y * per] = if den[y] > 0.0 { num[y] / den[y] } else { 0.0 },
            }
        }
    }
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
                num: vec![false, true],
                den: vec![true, true],
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
        let mut out3 = [0.0; 3];
        let ev = KpiKind::Evaluations {
            states: vec![true, false],
            cost: vec![100.0; 3],
            planned: 0.9,
        };
        kpi(ev, years).evaluate(n, &counts, &moves, &mut out3);
        // Due: 3 in A at the start of the year + 5 new clients into A (the renewal is not an entry).
        assert_eq!(out3, [0.9, 8.0, 800.0]);
    }

    #[test]
    fn targets_are_met_in_the_right_direction() {
        let mut k = kpi(
            KpiKind::Share {
                num: vec![true],
                den: vec![true],
            },
            vec![Some(0)],
        );
        assert_eq!(k.met(0, 0.5), Some(true));
        assert_eq!(k.met(0, 0.49), Some(false));
        assert_eq!(k.met(1, 0.9), None);
        k.higher_is_better = false;
        assert_eq!(k.met(0, 0.49), Some(true));
    }
}
