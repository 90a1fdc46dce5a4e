//! Scopes: the sets of areas every result is reported for.
//!
//! The region (every area), each municipality, the pilot areas together (the areas some arm assigns
//! to a regime) and each reported area (every pilot area, and the areas the scenario asks for). A
//! scope's numbers are sums over its areas' traces, made when a run is reduced: no extra simulation.
//! The kinds are separate scopes, not totals among parts: the areas of a municipality sum to it, the
//! municipalities to the region; the pilot areas are a scope of their own.

/// What a scope covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKind {
    /// Every area.
    Region,
    /// The areas of one municipality.
    Municipality,
    /// The areas some arm assigns to a regime, together.
    PilotAreas,
    /// One area (wijk or dorp).
    Area,
}

impl ScopeKind {
    /// Every kind, in the order scopes are listed.
    pub const ALL: [ScopeKind; 4] = [
        ScopeKind::Region,
        ScopeKind::Municipality,
        ScopeKind::PilotAreas,
        ScopeKind::Area,
    ];

    /// The `scope` column in every table.
    pub fn name(self) -> &'static str {
        match self {
            ScopeKind::Region => "region",
            ScopeKind::Municipality => "municipality",
            ScopeKind::PilotAreas => "pilot_areas",
            ScopeKind::Area => "area",
        }
    }

    /// The kind named `s` (the `scope` column, or a KPI's `scopes` entry).
    pub fn parse(s: &str) -> Option<ScopeKind> {
        ScopeKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The `scope_name` of the region.
pub const REGION_NAME: &str = "regio";
/// The `scope_name` of the pilot areas together.
pub const PILOT_AREAS_NAME: &str = "pilotgebieden";

/// One scope: its kind, name and areas (in area order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Kind.
    pub kind: ScopeKind,
    /// Name: `regio`, the municipality, `pilotgebieden` or the area.
    pub name: String,
    /// Its areas, ascending.
    pub areas: Vec<usize>,
}

/// The index of the region scope: always the first.
pub const REGION: usize = 0;

/// The scopes of a model: the region, each municipality (in order), the pilot areas (when some arm
/// assigns an area to a regime) and each area in `reported` (ascending, without duplicates).
pub fn scopes(
    municipalities: &[String],
    area_municipality: &[usize],
    area_names: &[String],
    pilot_areas: &[usize],
    reported: &[usize],
) -> Vec<Scope> {
    let all: Vec<usize> = (0..area_municipality.len()).collect();
    let mut out = vec![Scope {
        kind: ScopeKind::Region,
        name: REGION_NAME.into(),
        areas: all.clone(),
    }];
    for (m, name) in municipalities.iter().enumerate() {
        out.push(Scope {
            kind: ScopeKind::Municipality,
            name: name.clone(),
            areas: all
                .iter()
                .copied()
                .filter(|&a| area_municipality[a] == m)
                .collect(),
        });
    }
    if !pilot_areas.is_empty() {
        out.push(Scope {
            kind: ScopeKind::PilotAreas,
            name: PILOT_AREAS_NAME.into(),
            areas: pilot_areas.to_vec(),
        });
    }
    let mut reported = reported.to_vec();
    reported.sort_unstable();
    reported.dedup();
    for a in reported {
        out.push(Scope {
            kind: ScopeKind::Area,
            name: area_names[a].clone(),
            areas: vec![a],
        });
    }
    out
}

/// For each area, the scopes that contain it, ascending.
pub fn of_areas(scopes: &[Scope], n_areas: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n_areas];
    for (i, s) in scopes.iter().enumerate() {
        for &a in &s.areas {
            out[a].push(i);
        }
    }
    out
}

/// The index of the scope of `kind` named `name`.
pub fn find(scopes: &[Scope], kind: ScopeKind, name: &str) -> Option<usize> {
    scopes.iter().position(|s| s.kind == kind && s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_sum_to_municipalities_and_municipalities_to_the_region() {
        let munis = vec!["A".to_string(), "B".to_string()];
        let names: Vec<String> = ["a1", "b1", "a2"].map(String::from).to_vec();
        let s = scopes(&munis, &[0, 1, 0], &names, &[0, 2], &[2, 0, 2]);
        let kinds: Vec<(ScopeKind, &str, Vec<usize>)> = s
            .iter()
            .map(|s| (s.kind, s.name.as_str(), s.areas.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ScopeKind::Region, REGION_NAME, vec![0, 1, 2]),
                (ScopeKind::Municipality, "A", vec![0, 2]),
                (ScopeKind::Municipality, "B", vec![1]),
                (ScopeKind::PilotAreas, PILOT_AREAS_NAME, vec![0, 2]),
                (ScopeKind::Area, "a1", vec![0]),
                (ScopeKind::Area, "a2", vec![2]),
            ]
        );
        assert_eq!(
            of_areas(&s, 3),
            vec![vec![0, 1, 3, 4], vec![0, 2], vec![0, 1, 3, 5]]
        );
        assert_eq!(find(&s, ScopeKind::Area, "a2"), Some(5));
        assert_eq!(ScopeKind::parse("pilot_areas"), Some(ScopeKind::PilotAreas));
    }
}
