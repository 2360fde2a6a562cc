//! The CSV files vaxgrid reads and writes, as pure codecs: each file's
//! columns, and its rows read into plain rows (checked cell by cell, every
//! bad row reported with its row number, column and reason) or written from
//! them. What a row then does to the database (a person registered, a dose
//! recorded) is the server's and the store's business, not the file's.
//!
//! Row numbers are 1-based data rows; row 0 is the header.

pub mod doses;
pub mod persons;
pub mod plans;
pub mod staff;

/// A row (or the header, row 0) that could not be read, with the column to
/// correct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based data row (the header is row 0).
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// A whole file read: the good rows (1-based row, value) and the bad rows,
/// each in the order of the file.
#[derive(Debug)]
pub struct Table<T> {
    pub rows: Vec<(usize, T)>,
    pub errors: Vec<RowError>,
}

/// The column a CSV error is about, when it says (a column missing or
/// unknown by its name; a cell that does not read, such as a number, by
/// its 0-based position, as the csv crate gives it); else `row`.
pub fn error_field(e: &::csv::Error) -> String {
    let text = e.to_string();
    text.split("field ")
        .nth(1)
        .and_then(|rest| rest.split(['`', ':', ' ']).find(|s| !s.is_empty()))
        .map_or_else(|| "row".to_string(), |s| s.trim_matches('`').to_string())
}

/// What a CSV error means, in words for the person who wrote the file.
pub fn error_message(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} columns; the header has {expected_len}")
        }
        ::csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => e.to_string(),
    }
}

/// A reader of a file with a header row, cells trimmed, as every vaxgrid
/// import reads them.
pub fn reader<R: std::io::Read>(input: R) -> ::csv::Reader<R> {
    ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(input)
}

/// An error of the header row.
fn header_error(field: &str, message: String) -> RowError {
    RowError {
        row: 0,
        field: field.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "read only to make the reader check the cells")]
    struct Two {
        a: String,
        b: u32,
    }

    fn first_error(text: &str) -> ::csv::Error {
        reader(text.as_bytes())
            .deserialize::<Two>()
            .find_map(Result::err)
            .expect("an error")
    }

    #[test]
    fn a_bad_cell_is_named_by_the_position_the_reader_gives() {
        // The csv crate names a cell by its 0-based position, not by its
        // header; what the imports have always answered.
        let e = first_error("a,b\nx,many\n");
        assert_eq!(error_field(&e), "1");
        assert_eq!(error_message(&e), "field 1: invalid digit found in string");
    }

    #[test]
    fn a_short_row_is_counted_against_the_header() {
        let e = first_error("a,b\nx\n");
        assert_eq!(error_field(&e), "row");
        assert_eq!(error_message(&e), "the row has 1 columns; the header has 2");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_said_so() {
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend([0xff, b',', b'1', b'\n']);
        let e = reader(bytes.as_slice())
            .deserialize::<Two>()
            .find_map(Result::err)
            .expect("an error");
        assert_eq!(error_message(&e), "the row is not valid UTF-8");
    }
}
