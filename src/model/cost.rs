//! Cost items: what a cost line charges ([`CostItem`]), on what ([`CostBasis`]), and which account
//! it counts in ([`LineKind`]).

use super::Tally;

/// What a cost item is charged on.
#[derive(Debug, Clone, PartialEq)]
pub enum CostBasis {
    /// Every cycle a client spends in the state.
    PerCycle(usize),
    /// Every entry into the state (inflow or transition) and every renewal.
    PerEntry(usize),
    /// Every transition from one of the states (index `n_states` = inflow) to one of the to-states.
    PerTransition {
        /// From mask (length `n_states + 1`).
        from: Vec<bool>,
        /// To mask (length `n_states`).
        to: Vec<bool>,
    },
}

/// What a cost line is: which of the accounts (`care_cost`, `community_cost`) it counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Care delivered, valued at its tariff: what a provider would bill.
    Care,
    /// Community support: the sociale basis, volunteer support, a regime's coordinator.
    Community,
    /// Own contributions of clients (negative amounts): revenue, not care.
    OwnContribution,
}

impl LineKind {
    /// The word used in the tables.
    pub fn word(self) -> &'static str {
        match self {
            LineKind::Care => "care",
            LineKind::Community => "community",
            LineKind::OwnContribution => "own_contribution",
        }
    }
}

/// A compiled cost item; income (own contribution) is a negative amount.
#[derive(Debug, Clone)]
pub struct CostItem {
    /// Index into [`Model::lines`](super::Model::lines).
    pub line: usize,
    /// What it is charged on.
    pub basis: CostBasis,
    /// Nominal amount per unit, by cycle (indexed to the cycle's price year; 0 outside its period).
    pub amount: Vec<f64>,
    /// Municipality mask.
    pub municipalities: Vec<bool>,
    /// For entry and transition costs: the cells of a cycle's move matrix (`from * (n + 1) + to`) the
    /// item is charged on.
    pub cells: Vec<usize>,
}

impl CostItem {
    /// Builds an item, deriving the move cells it is charged on.
    pub fn new(
        line: usize,
        basis: CostBasis,
        amount: Vec<f64>,
        municipalities: Vec<bool>,
        n_states: usize,
    ) -> CostItem {
        let n1 = n_states + 1;
        let cells = match &basis {
            CostBasis::PerCycle(_) => Vec::new(),
            // Every entry into `s` (from any state or inflow) and every renewal of `s`.
            CostBasis::PerEntry(s) => (0..n1)
                .map(|f| f * n1 + s)
                .chain([s * n1 + n_states])
                .collect(),
            CostBasis::PerTransition { from, to } => (0..n1)
                .flat_map(|f| (0..n_states).map(move |t| (f, t)))
                .filter(|&(f, t)| from[f] && to[t] && f != t)
                .map(|(f, t)| f * n1 + t)
                .collect(),
        };
        CostItem {
            line,
            basis,
            amount,
            municipalities,
            cells,
        }
    }

    /// What a regime's item replaces: the items with the same line, kind (per cycle, per entry, per
    /// transition) and state (`usize::MAX` for transition costs).
    pub fn slot(&self) -> (usize, u8, usize) {
        match &self.basis {
            CostBasis::PerCycle(s) => (self.line, 0, *s),
            CostBasis::PerEntry(s) => (self.line, 1, *s),
            CostBasis::PerTransition { .. } => (self.line, 2, usize::MAX),
        }
    }

    /// Units charged in one cycle, from the cycle's counts by state and its move matrix: whole counts
    /// (`u32`) or expected ones (`f64`), bit for bit as adding the cells' counts one by one in `f64`
    /// ([`Tally::sum_at`]).
    #[inline]
    pub fn units<T: Tally>(&self, counts: &[T], moves: &[T]) -> f64 {
        match &self.basis {
            CostBasis::PerCycle(s) => counts[*s].into(),
            _ => T::sum_at(moves, &self.cells),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units of a per-cycle, a per-entry and a per-transition item, and of one charged on no move, on
    /// whole counts and on the same counts as `f64`: the counts of the right cells, bit for bit alike,
    /// also where the whole counts add up beyond `u32`.
    #[test]
    fn units_count_the_items_cells_alike_for_whole_and_expected_counts() {
        // Three states; row 3 of the move matrix is inflow, column 3 renewal. No client moves from a
        // state to itself.
        let n = 3;
        let items = [
            CostItem::new(0, CostBasis::PerCycle(1), vec![1.0], vec![true], n),
            CostItem::new(0, CostBasis::PerEntry(2), vec![1.0], vec![true], n),
            CostItem::new(
                0,
                CostBasis::PerTransition {
                    from: vec![true, false, false, true],
                    to: vec![false, true, true],
                },
                vec![1.0],
                vec![true],
                n,
            ),
            CostItem::new(
                0,
                CostBasis::PerTransition {
                    from: vec![false; 4],
                    to: vec![true; 3],
                },
                vec![1.0],
                vec![true],
                n,
            ),
        ];
        let counts: [u32; 3] = [5, 7, 11];
        let small: Vec<u32> = (0..16u32)
            .map(|i| if i % 5 == 0 { 0 } else { 100 * i + i * i })
            .collect();
        let m = |f: usize, t: usize| f64::from(small[f * 4 + t]);
        // Into state 2 from states 0 and 1 and from inflow, and renewals of state 2.
        let entries = m(0, 2) + m(1, 2) + m(3, 2) + m(2, 3);
        // From state 0 or inflow into state 1 or 2.
        let transitions = m(0, 1) + m(0, 2) + m(3, 1) + m(3, 2);
        let big: Vec<u32> = (0..16)
            .map(|i| if i % 5 == 0 { 0 } else { u32::MAX })
            .collect();
        let max = f64::from(u32::MAX);
        for (moves, want) in [
            (small, [7.0, entries, transitions, -0.0]),
            (big, [7.0, 4.0 * max, 4.0 * max, -0.0]),
        ] {
            let (counts_f, moves_f): (Vec<f64>, Vec<f64>) = (
                counts.iter().map(|&x| f64::from(x)).collect(),
                moves.iter().map(|&x| f64::from(x)).collect(),
            );
            for (item, want) in items.iter().zip(want) {
                let whole = item.units(&counts, &moves);
                let expected = item.units(&counts_f, &moves_f);
                assert_eq!(whole.to_bits(), want.to_bits(), "{:?}", item.basis);
                assert_eq!(expected.to_bits(), want.to_bits(), "{:?}", item.basis);
            }
        }
    }
}
