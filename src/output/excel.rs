//! `results.xlsx`: one workbook with a sheet per table, for budget planners.
//!
//! The sheets are built from the CSV tables themselves (so the workbook and the CSV files can never
//! disagree): numbers become numbers with a number format by what they measure ([`Quantity`]), from
//! the sheet, the column and the row's measure: money as `€ #,##0.00` (in the scenario's currency:
//! `£ #,##0.00`), clients with one decimal,
//! probabilities and shares as percentages with one decimal (a KPI difference with two, so that its
//! points show), outcomes with the six decimals of the CSV, years plain. An `mcse` keeps the digits its
//! CSV column has (one more than its mean's). Headers are bold and frozen with an autofilter on every
//! sheet, and columns are sized to their contents as shown.
//!
//! Sheets are written row by row with one row in memory (the crate's low-memory mode, rows kept in an
//! unnamed temporary file), so a workbook of a million rows takes some 100 MB, not gigabytes; the zip
//! level is 3, as Excel's own, for a file some 5% larger than level 6 in 30% less time.

use crate::aggregate::BudgetMeasure;
use crate::aggregate::paired::Measure;
use crate::model::currency::Currency;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// What a number measures: it sets the number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A year, cycle or contract year.
    Whole,
    /// Numbers of clients (or evaluations).
    Clients,
    /// Money, in the scenario's currency.
    Euros,
    /// A probability or share, as a percentage.
    Share,
    /// A difference of two shares (a KPI's pilot minus baseline), as a percentage with its points.
    ShareDifference,
    /// An outcome (e.g. life years per client).
    Outcome,
}

impl Quantity {
    /// The Excel number format of a value, or of its Monte Carlo standard error (`mcse`: the digits
    /// of its CSV column, one decimal more than the value's); money in `cur`.
    pub fn number_format(self, mcse: bool, cur: Currency) -> String {
        let fixed = match (self, mcse) {
            (Quantity::Euros, false) => return cur.excel_format(2),
            (Quantity::Euros, true) => return cur.excel_format(3),
            (Quantity::Whole, _) => "0",
            (Quantity::Clients, false) => "#,##0.0",
            (Quantity::Clients, true) => "#,##0.0000",
            (Quantity::Share, false) => "0.0%",
            (Quantity::Share, true) | (Quantity::ShareDifference, true) => "0.000%",
            (Quantity::ShareDifference, false) => "0.00%",
            (Quantity::Outcome, false) => "#,##0.000000",
            (Quantity::Outcome, true) => "#,##0.0000000",
        };
        fixed.to_string()
    }

    /// Characters `x` takes in [`Quantity::number_format`]: sign, integer digits with separators,
    /// decimals, and the currency's symbol and space (`€ `) or `%`.
    fn shown_width(self, x: f64, mcse: bool, cur: Currency) -> usize {
        let format = self.number_format(mcse, cur);
        let percent = format.ends_with('%');
        let decimals = format
            .split_once('.')
            .map_or(0, |(_, d)| d.chars().filter(|&c| c == '0').count());
        let x = if percent { x * 100.0 } else { x };
        let int = x.abs().trunc();
        let digits = if int < 1.0 {
            1
        } else {
            int.log10().floor() as usize + 1
        };
        let grouped = if format.contains(',') {
            digits + (digits - 1) / 3
        } else {
            digits
        };
        grouped
            + usize::from(x < 0.0)
            + if decimals > 0 { decimals + 1 } else { 0 }
            + usize::from(percent)
            + if self == Quantity::Euros {
                cur.symbol.chars().count() + 1
            } else {
                0
            }
    }
}

/// The quantity of a number in `sheet` (the table's name, `caseload` for `caseload.csv`), column
/// `column` of a row whose fields are `field(name)`. `count_kpis` are the KPIs whose values are
/// numbers of clients (the others are shares).
pub fn quantity(
    sheet: &str,
    column: &str,
    field: &dyn Fn(&str) -> Option<String>,
    count_kpis: &[String],
) -> Quantity {
    if matches!(column, "cycle" | "year" | "contract_year" | "run") {
        return Quantity::Whole;
    }
    if matches!(
        column,
        "overspend_risk" | "above_expected" | "p_met" | "p_lower"
    ) {
        return Quantity::Share;
    }
    let measure = field("measure").unwrap_or_default();
    let kpi = |name: Option<String>| {
        if name.is_some_and(|n| count_kpis.contains(&n)) {
            Quantity::Clients
        } else {
            Quantity::Share
        }
    };
    match sheet {
        "caseload" | "evaluations" | "flows" => Quantity::Clients,
        "budget" if BudgetMeasure::parse(&measure) == Some(BudgetMeasure::Overspent) => {
            Quantity::Share
        }
        "kpis" => kpi(field("kpi")),
        "differences" => match Measure::parse(&measure) {
            Some(Measure::Caseload) => Quantity::Clients,
            Some(Measure::Kpi) => match kpi(field("item")) {
                Quantity::Share => Quantity::ShareDifference,
                q => q,
            },
            Some(Measure::Account(_) | Measure::Cost) | None => Quantity::Euros,
        },
        "summary" => match measure.as_str() {
            "clients" => Quantity::Clients,
            "outcome_per_client" | "incremental_outcome" => Quantity::Outcome,
            _ => Quantity::Euros,
        },
        _ => Quantity::Euros,
    }
}

/// Builds the workbook from `(sheet name, CSV bytes)`, dated `created` (RFC 3339, UTC: the run's
/// start), so the same tables always give the same bytes. `count_kpis`: see [`quantity`]; money in
/// `currency`.
pub fn workbook(
    sheets: &[(&str, &[u8])],
    created: &str,
    count_kpis: &[String],
    currency: Currency,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_zip_compression_level(3);
    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str(created)?;
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&date));
    let bold = Format::new().set_bold();
    let mut formats: Vec<((Quantity, bool), Format)> = Vec::new();
    for &(name, csv_bytes) in sheets {
        let ws = wb.add_worksheet_with_low_memory()?;
        ws.set_name(name)?;
        // Characters of the widest entry per column, as shown (numbers with their separators).
        let mut widths: Vec<usize> = Vec::new();
        let mut widen = |c: usize, n: usize| {
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(n);
        };
        let mut last_row = 0u32;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv_bytes);
        let mut header: Vec<String> = Vec::new();
        for (r, record) in reader.records().enumerate() {
            let Ok(record) = record else { continue };
            last_row = r as u32;
            if r == 0 {
                header = record.iter().map(str::to_string).collect();
                for (c, h) in record.iter().enumerate() {
                    ws.write_string_with_format(0, c as u16, h, &bold)?;
                    // Room for the autofilter's button.
                    widen(c, h.chars().count() + 3);
                }
                continue;
            }
            let field = |name: &str| {
                let c = header.iter().position(|h| h == name)?;
                record.get(c).map(str::to_string)
            };
            for (c, text) in record.iter().enumerate() {
                let (row, col) = (r as u32, c as u16);
                let Ok(x) = text.parse::<f64>() else {
                    ws.write_string(row, col, text)?;
                    widen(c, text.chars().count());
                    continue;
                };
                let column = header.get(c).map_or("", String::as_str);
                let key = (quantity(name, column, &field, count_kpis), column == "mcse");
                let at = match formats.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        let f = Format::new().set_num_format(key.0.number_format(key.1, currency));
                        formats.push((key, f));
                        formats.len() - 1
                    }
                };
                ws.write_number_with_format(row, col, x, &formats[at].1)?;
                widen(c, key.0.shown_width(x, key.1, currency));
            }
        }
        ws.set_freeze_panes(1, 0)?;
        if !widths.is_empty() {
            ws.autofilter(0, 0, last_row, (widths.len() - 1) as u16)?;
        }
        for (c, &w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (w + 1).min(80) as f64)?;
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::Quantity;
    use crate::model::currency::Currency;

    #[test]
    fn widths_follow_the_formats() {
        let eur = Currency::EUR;
        assert_eq!(Quantity::Euros.shown_width(1234567.891, false, eur), 14); // € 1,234,567.89
        let chf = Currency::from_code("CHF").unwrap();
        assert_eq!(Quantity::Euros.shown_width(1234567.891, false, chf), 16); // CHF 1,234,567.89
        assert_eq!(Quantity::Share.shown_width(0.1234, false, eur), 5); // 12.3%
        assert_eq!(Quantity::Share.shown_width(-0.0004, true, eur), 7); // -0.040%
        assert_eq!(Quantity::Whole.shown_width(2024.0, false, eur), 4);
        assert_eq!(Quantity::Outcome.shown_width(7.991234, false, eur), 8);
    }
}
