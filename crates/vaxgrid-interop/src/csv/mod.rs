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

/// The column a CSV error is about, named as the file's `header` names it:
/// a cell that does not read (a `dose_number` of "second", bytes that are
/// not UTF-8) by the header of its column, where the csv crate gives its
/// 0-based position; a column missing or unknown by its name; `row` when
/// the error is about no one cell (a short row).
pub fn error_field(e: &::csv::Error, header: &::csv::StringRecord) -> String {
    let position = match e.kind() {
        ::csv::ErrorKind::Deserialize { err, .. } => {
            err.field().and_then(|i| usize::try_from(i).ok())
        }
        ::csv::ErrorKind::Utf8 { err, .. } => Some(err.field()),
        _ => None,
    };
    if let Some(name) = position
        .and_then(|i| header.get(i))
        .filter(|n| !n.is_empty())
    {
        return name.to_string();
    }
    let text = e.to_string();
    text.split("field ")
        .nth(1)
        .and_then(|rest| rest.split(['`', ':', ' ']).find(|s| !s.is_empty()))
        .map_or_else(|| "row".to_string(), |s| s.trim_matches('`').to_string())
}

/// What a CSV error means, in words for the person who wrote the file (the
/// column is the error's field, so a bad cell's message does not repeat the
/// position the csv crate gives it).
pub fn error_message(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "the cell is not valid UTF-8".to_string(),
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} columns; the header has {expected_len}")
        }
        ::csv::ErrorKind::Deserialize { err, .. } => err.kind().to_string(),
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
/// Data row `row` (1-based) of a file read against `header`: its cells
/// through `check`, or the row's error naming the column at fault.
fn checked_row<C, T>(
    row: usize,
    cells: Result<C, ::csv::Error>,
    header: &::csv::StringRecord,
    check: impl FnOnce(C) -> Result<T, (String, String)>,
) -> Result<T, RowError> {
    cells
        .map_err(|e| (error_field(&e, header), error_message(&e)))
        .and_then(check)
        .map_err(|(field, message)| RowError {
            row,
            field,
            message,
        })
}

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

    /// The first error of `text` and the error's column.
    fn first_error(text: &str) -> (::csv::Error, String) {
        let mut r = reader(text.as_bytes());
        let header = r.headers().expect("a header").clone();
        let e = r
            .deserialize::<Two>()
            .find_map(Result::err)
            .expect("an error");
        let field = error_field(&e, &header);
        (e, field)
    }

    #[test]
    fn a_bad_cell_is_named_by_its_header() {
        // The csv crate gives the cell's 0-based position (1); the file's
        // author knows the column by its header.
        let (e, field) = first_error("a,b\nx,many\n");
        assert_eq!(field, "b");
        assert_eq!(error_message(&e), "invalid digit found in string");
    }

    #[test]
    fn a_missing_column_is_named() {
        let (_, field) = first_error("a\nx\n");
        assert_eq!(field, "b");
    }

    #[test]
    fn a_short_row_is_counted_against_the_header() {
        let (e, field) = first_error("a,b\nx\n");
        assert_eq!(field, "row");
        assert_eq!(error_message(&e), "the row has 1 columns; the header has 2");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_said_so() {
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend([0xff, b',', b'1', b'\n']);
        let mut r = reader(bytes.as_slice());
        let header = r.headers().expect("a header").clone();
        let e = r
            .deserialize::<Two>()
            .find_map(Result::err)
            .expect("an error");
        assert_eq!(error_field(&e, &header), "a");
        assert_eq!(error_message(&e), "the cell is not valid UTF-8");
    }
}
