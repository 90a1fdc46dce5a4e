//! The language of figures and the report, and every number and word they format: one home per
//! formatter, for the figures, the report, the console (in English) and `wijksim fit`.
//!
//! A leaf of `output/`: it builds on the model alone (currencies, scopes, arm labels), never on the
//! figures or the report, which both build on it.

use crate::model::Model;
use crate::model::currency::Currency;
use crate::model::scope::{Scope, ScopeKind};

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Dutch: the readers are Dutch policy teams.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Nl, Lang::En];

    /// The language's code: `nl` or `en` (as in `--lang`, the manifest and the file names).
    pub fn code(self) -> &'static str {
        self.t("nl", "en")
    }

    /// The language of `code` (`nl` or `en`).
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The names of the report and the figures' folder in this language, in a folder whose run wrote
    /// them in `run`'s: the run's own language has `report.html` and `plots`; another language
    /// (written by `wijksim report --lang`) `report.<code>.html` and `plots.<code>`, so that the
    /// run's report and figures are kept beside them.
    pub fn file_names(self, run: Lang) -> (String, String) {
        if self == run {
            ("report.html".into(), "plots".into())
        } else {
            (
                format!("report.{}.html", self.code()),
                format!("plots.{}", self.code()),
            )
        }
    }

    /// The text in this language.
    pub fn t<'a>(self, nl: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }

    /// Euros without decimals: `€ 1.234.567` (nl) or `€ 1,234,567` (en).
    pub fn euros(self, x: f64) -> String {
        self.money(Currency::EUR, x)
    }

    /// Euros with a sign: `+€ 19.994`, `−€ 421.721` (nl) or `+€ 19,994` (en).
    pub fn signed_euros(self, x: f64) -> String {
        self.signed_money(Currency::EUR, x)
    }

    /// An amount in `cur` without decimals: `€ 1.234.567` (nl) or `£ 1,234,567` (en).
    pub fn money(self, cur: Currency, x: f64) -> String {
        format!("{} {}", cur.symbol, self.int(x))
    }

    /// An amount in `cur` with a sign: `+€ 19.994`, `−£ 421.721`.
    pub fn signed_money(self, cur: Currency, x: f64) -> String {
        let s = self.money(cur, x.abs());
        let zero = self.money(cur, 0.0);
        if x > 0.0 && s != zero {
            format!("+{s}")
        } else if x < 0.0 && s != zero {
            format!("−{s}")
        } else {
            s
        }
    }

    /// A currency as an axis names it: `euro (nominaal)`, `pounds (nominal)`.
    pub fn money_axis(self, cur: Currency) -> String {
        match self {
            Lang::Nl => format!("{} (nominaal)", cur.nl),
            Lang::En => format!("{} (nominal)", cur.en),
        }
    }

    /// A number with thousands separators, `d` decimals and a sign: `+1.234`, `−2,5`, `0` (a minus
    /// sign, not a hyphen).
    pub fn signed(self, x: f64, d: usize) -> String {
        let s = self.decimal(x.abs(), d);
        if s.chars().all(|c| !('1'..='9').contains(&c)) {
            s
        } else if x > 0.0 {
            format!("+{s}")
        } else {
            format!("−{s}")
        }
    }

    /// A whole number with thousands separators: `1.234` (nl) or `1,234` (en), a negative one with a
    /// hyphen (`-1,234`). The English form is also the console's and the fitted scenario's comments'.
    pub fn int(self, x: f64) -> String {
        let digits = format!("{:.0}", x.abs());
        let sep = self.t(".", ",");
        let mut s = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                s.push_str(sep);
            }
            s.push(ch);
        }
        if x < -0.5 { format!("-{s}") } else { s }
    }

    /// A month: `jan 2021` (nl) or `Jan 2021` (en).
    pub fn month(self, ym: crate::model::YearMonth) -> String {
        const NL: [&str; 12] = [
            "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
        ];
        const EN: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let names = if self == Lang::Nl { NL } else { EN };
        format!("{} {}", names[(ym.month - 1) as usize], ym.year)
    }

    /// A number with `d` decimals: `2,5` (nl) or `2.5` (en).
    pub fn number(self, x: f64, d: usize) -> String {
        let s = format!("{x:.d$}");
        match self {
            Lang::Nl => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A number with thousands separators and `d` decimals: `1.234,5` (nl) or `1,234.5` (en).
    pub fn decimal(self, x: f64, d: usize) -> String {
        let s = format!("{:.d$}", x.abs());
        let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
        let whole = self.int(whole.parse().unwrap_or(0.0));
        let sign = if x < 0.0 && s.chars().any(|c| ('1'..='9').contains(&c)) {
            "-"
        } else {
            ""
        };
        match (frac, self) {
            ("", _) => format!("{sign}{whole}"),
            (f, Lang::Nl) => format!("{sign}{whole},{f}"),
            (f, Lang::En) => format!("{sign}{whole}.{f}"),
        }
    }

    /// A number as short as it can be: up to 4 decimals, trailing zeros dropped, with thousands
    /// separators and a minus sign (`0,9`, `1.250`, `−0,25`; `0.9` in English), as a parameter's
    /// value is shown.
    pub fn short(self, x: f64) -> String {
        let s = format!("{:.4}", x.abs());
        let decimals = s
            .split_once('.')
            .map_or(0, |(_, f)| f.trim_end_matches('0').len());
        let v = self.decimal(x.abs(), decimals);
        if x < 0.0 && v.chars().any(|c| ('1'..='9').contains(&c)) {
            format!("−{v}")
        } else {
            v
        }
    }

    /// A percentage without decimals.
    pub fn pct(self, x: f64) -> String {
        format!("{:.0}%", 100.0 * x)
    }

    /// An interval over runs as figures name it: `P5–P95 (90%-interval)`.
    pub fn interval(self, lo: u32) -> String {
        let hi = 100 - lo;
        match self {
            Lang::Nl => format!("P{lo}–P{hi} ({}%-interval)", hi - lo),
            Lang::En => format!("P{lo}–P{hi} ({}% interval)", hi - lo),
        }
    }
}

/// An arm as figures, the report and the console name it: its `label` in the language, else in the
/// other language, else its name with spaces for underscores.
pub fn arm_label(lang: Lang, m: &Model, arm: &str) -> String {
    let Some(a) = m.arms.iter().find(|a| a.name == arm) else {
        return arm.replace('_', " ");
    };
    let (first, other) = match lang {
        Lang::Nl => (&a.nl, &a.en),
        Lang::En => (&a.en, &a.nl),
    };
    if !first.is_empty() {
        first.clone()
    } else if !other.is_empty() {
        other.clone()
    } else {
        arm.replace('_', " ")
    }
}

/// The people simulated, as the scenario calls them (`cliënten`, `patiënten`).
pub fn people(lang: Lang, m: &Model) -> &str {
    lang.t(&m.population.0, &m.population.1)
}

/// The same with a capital (`Cliënten`).
pub fn people_title(lang: Lang, m: &Model) -> String {
    let p = people(lang, m);
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The caseload by state as a title names it: `Cliënten per intensiteit` in a Wmo model, else
/// `Patiënten per toestand` (the scenario's word for the people).
pub fn by_state(lang: Lang, m: &Model) -> String {
    match (lang, m.is_wmo()) {
        (Lang::Nl, true) => format!("{} per intensiteit", people_title(lang, m)),
        (Lang::Nl, false) => format!("{} per toestand", people_title(lang, m)),
        (Lang::En, true) => "Caseload by state".into(),
        (Lang::En, false) => format!("{} by state", people_title(lang, m)),
    }
}

/// A scope as figures and the report name it: the region and the pilot areas in words, a
/// municipality or an area by its name (with what it is).
pub fn scope_label(lang: Lang, m: &Model, scope: &Scope) -> String {
    use ScopeKind as K;
    match scope.kind {
        K::Region if m.is_wmo() => lang
            .t("Regio (alle gemeenten)", "Region (all municipalities)")
            .into(),
        K::Region => format!("{} {}", lang.t("Alle", "All"), people(lang, m)),
        K::PilotAreas => pilot_areas_label(lang, m).into(),
        K::Municipality if !m.is_wmo() => scope.name.clone(),
        K::Municipality => format!("{} {}", lang.t("Gemeente", "Municipality"), scope.name),
        K::Area => format!("{} {}", lang.t("Gebied", "Area"), scope.name),
    }
}

/// The pilot areas together as a title names it: `Pilotgebieden samen` in a Wmo model. Outside the
/// Wmo there is no pilot: `Alle gebieden samen` when every area is under a regime (a cohort model's
/// one area), else `Gebieden met een regime samen`.
pub fn pilot_areas_label(lang: Lang, m: &Model) -> &'static str {
    if m.is_wmo() {
        lang.t("Pilotgebieden samen", "Pilot areas together")
    } else if every_area_under_a_regime(m) {
        lang.t("Alle gebieden samen", "All areas together")
    } else {
        lang.t(
            "Gebieden met een regime samen",
            "Areas under a regime together",
        )
    }
}

/// The same within a sentence: `de pilotgebieden samen`, `alle gebieden samen`.
pub fn pilot_areas_phrase(lang: Lang, m: &Model) -> &'static str {
    if m.is_wmo() {
        lang.t("de pilotgebieden samen", "the pilot areas together")
    } else if every_area_under_a_regime(m) {
        lang.t("alle gebieden samen", "all areas together")
    } else {
        lang.t(
            "de gebieden met een regime samen",
            "the areas under a regime together",
        )
    }
}

/// Whether some arm puts every area of the model under a regime: the pilot areas are then the whole
/// model, and are named so.
pub fn every_area_under_a_regime(m: &Model) -> bool {
    m.pilot_areas().len() == m.areas.len()
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn decimals_have_thousands_separators_in_either_language() {
        assert_eq!(Lang::Nl.decimal(171.25, 1), "171,2");
        assert_eq!(Lang::Nl.decimal(1650.34, 1), "1.650,3");
        assert_eq!(Lang::En.decimal(1650.34, 1), "1,650.3");
        assert_eq!(Lang::En.decimal(-1650.0, 0), "-1,650");
        assert_eq!(Lang::Nl.decimal(-0.01, 1), "0,0");
    }

    /// Whole numbers and money group thousands in the language's way; a negative amount keeps its
    /// hyphen, a signed one gets a minus sign, and what rounds to zero gets no sign at all.
    #[test]
    fn whole_numbers_and_money_in_either_language() {
        let eur = crate::model::currency::Currency::EUR;
        assert_eq!(Lang::Nl.int(1_234_567.4), "1.234.567");
        assert_eq!(Lang::En.int(1_234_567.6), "1,234,568");
        assert_eq!(Lang::En.int(999.0), "999");
        assert_eq!(Lang::En.int(-12_345.0), "-12,345");
        assert_eq!(Lang::En.int(-0.4), "0");
        assert_eq!(Lang::Nl.money(eur, 19_994.0), "€ 19.994");
        assert_eq!(Lang::Nl.signed_money(eur, -421_721.0), "−€ 421.721");
        assert_eq!(Lang::En.signed_money(eur, 19_994.0), "+€ 19,994");
        assert_eq!(Lang::En.signed_money(eur, -0.3), "€ 0");
        assert_eq!(Lang::Nl.signed(-2.5, 1), "−2,5");
        assert_eq!(Lang::En.signed(0.04, 1), "0.0");
    }

    #[test]
    fn short_numbers_drop_trailing_zeros_and_keep_separators() {
        assert_eq!(Lang::Nl.short(0.9), "0,9");
        assert_eq!(Lang::En.short(0.9), "0.9");
        assert_eq!(Lang::Nl.short(1250.0), "1.250");
        assert_eq!(Lang::Nl.short(-0.25), "−0,25");
        assert_eq!(Lang::En.short(0.123456), "0.1235");
        assert_eq!(Lang::En.short(-0.00001), "0");
    }
}
