//! Cost items: what a cost line charges ([`CostItem`]), on what ([`CostBasis`]), and which account
//! it counts in ([`LineKind`]).

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

    /// Units charged in one cycle, from the cycle's counts by state and its move matrix.
    #[inline]
    pub fn units<T: Copy + Into<f64>>(&self, counts: &[T], moves: &[T]) -> f64 {
        match &self.basis {
            CostBasis::PerCycle(s) => counts[*s].into(),
            _ => self.cells.iter().map(|&i| moves[i].into()).sum(),
        }
    }
}
