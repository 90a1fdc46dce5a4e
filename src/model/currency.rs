//! The currency a scenario's money is in (`[scenario] currency`, an ISO 4217 code; euros by default):
//! its symbol in figures, the report and the workbook's number formats, and its name on an axis. The
//! numbers are the scenario's own; wijksim never converts between currencies.

/// A currency wijksim can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    /// ISO 4217 code: `EUR`, `GBP`.
    pub code: &'static str,
    /// What stands before an amount: `€`, `£`, or the code where a symbol would be ambiguous (`CHF`).
    pub symbol: &'static str,
    /// Its name on an axis in Dutch: `euro`, `pond`.
    pub nl: &'static str,
    /// Its name on an axis in English: `euros`, `pounds`.
    pub en: &'static str,
}

impl Currency {
    /// Euros: the default.
    pub const EUR: Currency = Currency {
        code: "EUR",
        symbol: "€",
        nl: "euro",
        en: "euros",
    };

    /// The Excel number format of an amount with `decimals` decimals: `€ #,##0.00`; a symbol of
    /// letters quoted (`"CHF" #,##0.00`), as Excel reads letters as codes.
    pub fn excel_format(self, decimals: usize) -> String {
        let symbol = if self.symbol.chars().any(char::is_alphabetic) {
            format!("\"{}\"", self.symbol)
        } else {
            self.symbol.to_string()
        };
        format!("{symbol} #,##0.{}", "0".repeat(decimals))
    }

    /// The currency of an ISO 4217 code (`GBP`, or `gbp`), if wijksim knows it.
    pub fn from_code(code: &str) -> Option<Currency> {
        ALL.iter()
            .copied()
            .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
    }

    /// The codes wijksim knows, for an error's fix: `EUR, GBP, ...`.
    pub fn codes() -> String {
        ALL.iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency::EUR
    }
}

/// Every currency wijksim can name: euros first, then those health-economic models are published in
/// most. A symbol several currencies share (`kr`, `$` for the Canadian and Australian dollars) gives
/// way to the code.
const ALL: [Currency; 10] = [
    Currency::EUR,
    Currency {
        code: "GBP",
        symbol: "£",
        nl: "pond",
        en: "pounds",
    },
    Currency {
        code: "USD",
        symbol: "$",
        nl: "dollar",
        en: "dollars",
    },
    Currency {
        code: "CHF",
        symbol: "CHF",
        nl: "Zwitserse frank",
        en: "Swiss francs",
    },
    Currency {
        code: "DKK",
        symbol: "DKK",
        nl: "Deense kroon",
        en: "Danish kroner",
    },
    Currency {
        code: "NOK",
        symbol: "NOK",
        nl: "Noorse kroon",
        en: "Norwegian kroner",
    },
    Currency {
        code: "SEK",
        symbol: "SEK",
        nl: "Zweedse kroon",
        en: "Swedish kronor",
    },
    Currency {
        code: "CAD",
        symbol: "CAD",
        nl: "Canadese dollar",
        en: "Canadian dollars",
    },
    Currency {
        code: "AUD",
        symbol: "AUD",
        nl: "Australische dollar",
        en: "Australian dollars",
    },
    Currency {
        code: "JPY",
        symbol: "¥",
        nl: "yen",
        en: "yen",
    },
];

/// The code of a currency written as its symbol (`£` → `GBP`), for an error's fix; `None` for a
/// symbol several currencies share (`$`, `kr`).
pub fn code_of_symbol(symbol: &str) -> Option<&'static str> {
    match symbol {
        "€" => Some("EUR"),
        "£" => Some("GBP"),
        "¥" => Some("JPY"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Currency;

    #[test]
    fn codes_name_their_symbols_and_excel_formats() {
        let gbp = Currency::from_code("GBP").unwrap();
        assert_eq!(gbp.symbol, "£");
        assert_eq!(gbp.excel_format(2), "£ #,##0.00");
        assert_eq!(Currency::EUR.excel_format(3), "€ #,##0.000");
        assert_eq!(
            Currency::from_code("CHF").unwrap().excel_format(2),
            "\"CHF\" #,##0.00"
        );
        assert_eq!(Currency::from_code("gbp"), Some(gbp));
        assert_eq!(Currency::from_code("£"), None, "a code, not a symbol");
        assert_eq!(Currency::default(), Currency::EUR);
        assert!(Currency::codes().starts_with("EUR, GBP, USD"));
    }
}
