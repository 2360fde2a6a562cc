//! CSV cells that spreadsheets open safely (OWASP "CSV injection"): a cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a
//! formula by Excel and LibreOffice, so files we write put an apostrophe
//! before it — the spreadsheets' own mark for "this is text", which they
//! hide. A cell that already starts with an apostrophe gets one more, so
//! reading a file back (`read_cell`: one leading apostrophe dropped) gives
//! every value exactly as it was written.

use std::borrow::Cow;

fn needs_mark(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// The cell to write for `text`.
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    if needs_mark(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The value of a cell read from a file that may have been written with
/// `safe_cell` (or saved by a spreadsheet with its text mark).
pub fn read_cell(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_marked_as_text() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+84912345678"), "'+84912345678");
        assert_eq!(safe_cell("-1+1"), "'-1+1");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("\tx"), "'\tx");
        assert_eq!(safe_cell("Nguyễn Văn An"), "Nguyễn Văn An");
        assert_eq!(safe_cell(""), "");
        assert_eq!(read_cell("'=1+1"), "=1+1");
        assert_eq!(read_cell("An"), "An");
    }

    proptest! {
        #[test]
        fn every_value_reads_back_as_written(text in ".{0,12}") {
            let cell = safe_cell(&text);
            prop_assert_eq!(read_cell(&cell), text.as_str());
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
    }
}
