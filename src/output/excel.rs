//! `results.xlsx`: one workbook with a sheet per table, for budget planners.
//!
//! The sheets are built from the CSV tables themselves (so the workbook and the CSV files can never
//! disagree): numbers become numbers with a number format by column and sheet (euros with two decimals
//! and thousands separators, counts with one decimal, shares as percentages, years plain), headers are
//! bold and frozen with an autofilter, and columns are sized to their contents.
//!
//! Sheets are written row by row with one row in memory (the crate's low-memory mode, rows kept in an
//! unnamed temporary file), so a workbook of a million rows takes some 100 MB, not gigabytes; the zip
//! level is 3, as Excel's own, for a file some 5% larger than level 6 in 30% less time.

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
    wb.set_zip_compression_level(3);
    let date = rust_xlsxwriter::ExcelDateTime::parse_from_str(created)?;
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&date));
    let bold = Format::new().set_bold();
    let plain = Format::new().set_num_format("0");
    let clients = Format::new().set_num_format("#,##0.0");
    let euros = Format::new().set_num_format("#,##0.00");
    let share = Format::new().set_num_format("0.0%");
    for &(name, csv_bytes, unit) in sheets {
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
            let counts_row =
                unit == Unit::Kpi && record.get(2).is_some_and(|k| k.ends_with(":due"));
            let euro_row = unit == Unit::Kpi && record.get(2).is_some_and(|k| k.ends_with(":cost"));
            for (c, field) in record.iter().enumerate() {
                let (row, col) = (r as u32, c as u16);
                let Ok(x) = field.parse::<f64>() else {
                    ws.write_string(row, col, field)?;
                    widen(c, field.chars().count());
                    continue;
                };
                let column = header.get(c).map_or("", String::as_str);
                let format = if matches!(column, "cycle" | "year" | "contract_year") {
                    &plain
                } else if matches!(column, "overspend_risk" | "above_expected") {
                    &share
                } else if unit == Unit::Euros || euro_row {
                    &euros
                } else if unit == Unit::Kpi && !counts_row {
                    &share
                } else {
                    &clients
                };
                ws.write_number_with_format(row, col, x, format)?;
                widen(c, shown_width(x, std::ptr::eq(format, &share)));
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

/// Characters a number takes in the sheet's formats: its integer digits with thousands separators, a
/// sign, and up to two decimals (or a percentage with one decimal).
fn shown_width(x: f64, percent: bool) -> usize {
    let x = if percent { x * 100.0 } else { x };
    let int = x.abs().trunc();
    let digits = if int < 1.0 {
        1
    } else {
        int.log10().floor() as usize + 1
    };
    digits + (digits - 1) / 3 + usize::from(x < 0.0) + 3 + usize::from(percent)
}
