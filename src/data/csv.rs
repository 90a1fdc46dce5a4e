//! The one rule for every CSV file wijksim reads: the episodes of `wijksim fit` and the targets of
//! `wijksim calibrate`.
//!
//! - UTF-8 text; a UTF-8 byte order mark at the start is skipped silently (Excel's "CSV UTF-8" writes
//!   one, and it carries no meaning in UTF-8).
//! - Fields separated by commas, a header row first. A file separated by semicolons or tabs (what
//!   Excel writes as "CSV" in a Dutch locale, or a copy from a spreadsheet) is refused.
//! - Numbers with a decimal point; a decimal comma (`12,5`) is refused.
//!
//! Every refusal names the file, the line, the column where there is one, and the fix. The tables
//! wijksim writes follow the same rule (without the byte order mark), so a file written by one
//! command reads in the next.

use crate::error::{InputError, InputErrors};

/// How to save a file so that it follows the rule (part of the fixes).
pub const SAVE_AS: &str = "in Excel: File > Save As > \"CSV UTF-8 (comma delimited)\" with a decimal point; or replace the separators by commas";

fn err(file: &str, line: Option<usize>, key: &str, problem: String, fix: String) -> InputErrors {
    InputErrors::from(InputError::new(
        file.to_string(),
        line,
        key.to_string(),
        problem,
        fix,
    ))
}

/// The text of a CSV file's `bytes`, checked against the rule up to its header: without a byte order
/// mark, UTF-8, not empty, and its header (the first line that is not blank) separated by commas.
/// `header` is the header the file should have (for the fix of an empty file).
pub fn decode<'a>(file: &str, bytes: &'a [u8], header: &str) -> Result<&'a str, InputErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = crate::error::line_of(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            usize::MAX,
        );
        err(
            file,
            Some(line),
            "",
            "the file is not UTF-8 text".into(),
            format!("save it as UTF-8 ({SAVE_AS})"),
        )
    })?;
    let Some((at, first)) = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(err(
            file,
            None,
            "",
            "the file is empty".into(),
            format!("write the header row {header}, then one row per line"),
        ));
    };
    if !first.contains(',') && (first.contains(';') || first.contains('\t')) {
        let sep = if first.contains(';') {
            "semicolons"
        } else {
            "tabs"
        };
        return Err(err(
            file,
            Some(at + 1),
            "",
            format!("the columns are separated by {sep}; wijksim reads comma-separated files"),
            format!("separate the columns by commas, with a decimal point in numbers ({SAVE_AS})"),
        ));
    }
    Ok(text)
}

/// A number field: a finite number with a decimal point. `Err((problem, fix))` for a decimal comma
/// (`12,5`) or text that is not a number.
pub fn number(text: &str) -> Result<f64, (String, String)> {
    let shown = crate::error::short(text);
    if text.contains(',') {
        return Err((
            format!("`{shown}` has a decimal comma"),
            format!(
                "write a decimal point: {}",
                crate::error::short(&text.replace(',', "."))
            ),
        ));
    }
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err((
            format!("`{shown}` is not a number"),
            "write a plain number such as 125 or 12.5".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let text = decode("f.csv", b"\xEF\xBB\xBFa,b\n1,2\n", "a,b").unwrap();
        assert_eq!(text, "a,b\n1,2\n");
        assert_eq!(decode("f.csv", b"a,b\n", "a,b").unwrap(), "a,b\n");
    }

    #[test]
    fn semicolons_tabs_and_other_encodings_are_refused_with_the_line() {
        for (bytes, want, line) in [
            (
                &b"\xEF\xBB\xBFa;b\n1;2\n"[..],
                "separated by semicolons",
                Some(1),
            ),
            (&b"\n\na\tb\n"[..], "separated by tabs", Some(3)),
            (&b"a,b\n1,\xE9\n"[..], "not UTF-8", Some(2)),
            (&b"\xEF\xBB\xBF \n"[..], "the file is empty", None),
        ] {
            let e = decode("f.csv", bytes, "a,b").unwrap_err();
            let first = e.first();
            assert!(first.problem().to_string().contains(want), "{e}");
            assert_eq!(first.line(), line, "{e}");
            assert!(!first.fix().is_empty());
        }
    }

    #[test]
    fn numbers_need_a_decimal_point() {
        assert_eq!(number("12.5"), Ok(12.5));
        assert_eq!(number(" 7 "), Ok(7.0));
        let (problem, fix) = number("12,5").unwrap_err();
        assert!(problem.contains("decimal comma") && fix.contains("12.5"));
        assert!(number("inf").is_err() && number("twelve").is_err());
    }
}
