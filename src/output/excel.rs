//! `results.xlsx`: one workbook with a sheet per table, for budget planners.
//!
//! The sheets are built from the CSV tables themselves (so the workbook and the CSV files can never
//! disagree): numbers become numbers with a number format by column and sheet (euros with two decimals
//! and thousands separators, counts with one decimal, shares as percentages, years plain), headers are
//! bold and frozen, and columns are sized to their contents.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// What the numbers of a sheet are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Numbers of clients.
    Clients,
    /// Euros.
    Euros,
    /// KPI shares (rows named `...:due` and `...:cost` hold counts and euros).
    Kpi,
}

/// Builds the workbook from `(sheet name, CSV bytes, unit)`, dated `created` (RFC 3339, UTC: the
/// run's start), so the same tables always give the same bytes.
pub fn workbook(sheets: &[(&str, &[u8], Unit)], created: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str(created)?;
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&date));
    let bold = Format::new().set_bold();
    let plain = Format::new().set_num_format("0");
    let clients = Format::new().set_num_format("#,##0.0");
    let euros = Format::new().set_num_format("#,##0.00");
    let share = Format::new().set_num_format("0.0%");
    for &(name, csv_bytes, unit) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv_bytes);
        let mut header: Vec<String> = Vec::new();
        for (r, record) in reader.records().enumerate() {
            let Ok(record) = record else { continue };
            if r == 0 {
                header = record.iter().map(str::to_string).collect();
                for (c, h) in record.iter().enumerate() {
                    ws.write_string_with_format(0, c as u16, h, &bold)?;
                }
                continue;
            }
            let counts_row =
                unit == Unit::Kpi && record.get(2).is_some_and(|k| k.ends_with(":due"));
            let euro_row = unit == Unit::Kpi && record.get(2).is_some_and(|k| k.ends_with(":cost"));
            for (c, field) in record.iter().enumerate() {
                let (row, col) = (r as u32, c as u16);
                let Ok(x) = field.parse::<f64>() else {
                    ws.write_string(row, col, field)?;
                    continue;
                };
                let column = header.get(c).map_or("", String::as_str);
                let format = if matches!(column, "cycle" | "year" | "contract_year") {
                    &plain
                } else if unit == Unit::Euros || euro_row {
                    &euros
                } else if unit == Unit::Kpi && !counts_row {
                    &share
                } else {
                    &clients
                };
                ws.write_number_with_format(row, col, x, format)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
    }
    wb.save_to_buffer()
}
