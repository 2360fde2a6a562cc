//! The files of a provincial plan: sites (the layout of
//! `GET /api/v1/sites/export`, read by `POST /api/v1/sites/import` and
//! `vaxgrid import sites`) and sessions (`POST /api/v1/sessions/import`,
//! `vaxgrid import sessions`).
//!
//! Both are read by [`read_table`]: a header naming known columns only,
//! each cell read by its column's name, whatever the order of the columns.

use super::{error_field, error_message, header_error, RowError, Table};

/// The columns of a sites file, as `GET /api/v1/sites/export` writes them.
pub const SITE_COLUMNS: [&str; 6] = [
    "code",
    "name",
    "kind",
    "area_code",
    "stations",
    "daily_capacity",
];

/// The columns of a sessions file: those of `POST /api/v1/sessions`
/// (`id` and `village_code` may be left out or empty).
pub const SESSION_COLUMNS: [&str; 9] = [
    "id",
    "site_code",
    "day",
    "opens",
    "closes",
    "stations",
    "per_station_per_hour",
    "slot_minutes",
    "village_code",
];

/// The columns of a sessions file that may be left out.
pub const SESSION_OPTIONAL: [&str; 2] = ["id", "village_code"];

/// Reads a CSV with a header naming `columns` (those in `optional` may be
/// absent; no other column is accepted) and turns each row into a `T`
/// with `parse`, which reads cells by column name (a missing column reads
/// as empty; a spreadsheet's text mark is dropped) and answers a bad cell
/// with its column and reason. A bad header is the only error, row 0.
pub fn read_table<T>(
    bytes: &[u8],
    columns: &[&str],
    optional: &[&str],
    parse: impl Fn(&dyn Fn(&str) -> String) -> Result<T, (String, String)>,
) -> Table<T> {
    let mut read = Table {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut reader = super::reader(bytes);
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            read.errors.push(header_error("header", error_message(&e)));
            return read;
        }
    };
    read.errors = header_errors(&header, columns, optional);
    if !read.errors.is_empty() {
        return read;
    }
    let index: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_string(), i))
        .collect();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                read.errors.push(RowError {
                    row,
                    field: error_field(&e, &header),
                    message: error_message(&e),
                });
                continue;
            }
        };
        let cell = |name: &str| -> String {
            index
                .iter()
                .find(|(h, _)| h == name)
                .and_then(|(_, i)| record.get(*i))
                .map(|c| vaxgrid_core::spreadsheet::read_cell(c).to_string())
                .unwrap_or_default()
        };
        match parse(&cell) {
            Ok(v) => read.rows.push((row, v)),
            Err((field, message)) => read.errors.push(RowError {
                row,
                field,
                message,
            }),
        }
    }
    read
}

/// What is wrong with a header (row 0): a column without a name (then
/// nothing else is said), else the missing required columns and the first
/// unknown one.
fn header_errors(
    header: &::csv::StringRecord,
    columns: &[&str],
    optional: &[&str],
) -> Vec<RowError> {
    if let Some(blank) = header.iter().position(str::is_empty) {
        return vec![header_error(
            "header",
            format!("column {} of the header has no name", blank + 1),
        )];
    }
    let mut errors = Vec::new();
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| !optional.contains(c) && !header.iter().any(|h| h == **c))
        .copied()
        .collect();
    if let Some(first) = missing.first() {
        errors.push(header_error(
            first,
            format!(
                "the header lacks the column(s) {}; the columns are {}",
                missing.join(", "),
                columns.join(",")
            ),
        ));
    }
    if let Some(other) = header.iter().find(|h| !columns.contains(h)) {
        errors.push(header_error(
            other,
            format!(
                "'{other}' is not a column; the columns are {}",
                columns.join(",")
            ),
        ));
    }
    errors
}

/// A cell holding a whole number.
pub fn whole(field: &str, text: &str) -> Result<i64, (String, String)> {
    text.parse::<i64>()
        .map_err(|_| (field.to_string(), format!("'{text}' is not a whole number")))
}

/// One session of a sessions file, its numbers read; the rest is checked
/// as `POST /api/v1/sessions` checks its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Absent when the column is or the cell is empty.
    pub id: Option<String>,
    pub site_code: String,
    pub day: String,
    pub opens: String,
    pub closes: String,
    pub stations: i64,
    pub per_station_per_hour: i64,
    pub slot_minutes: i64,
    /// Absent when the column is or the cell is empty.
    pub village_code: Option<String>,
}

/// Reads a sessions file (the fields of `POST /api/v1/sessions`).
pub fn read_sessions(bytes: &[u8]) -> Table<SessionRow> {
    read_table(bytes, &SESSION_COLUMNS, &SESSION_OPTIONAL, |cell| {
        let optional = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
        Ok(SessionRow {
            id: optional("id"),
            site_code: cell("site_code"),
            day: cell("day"),
            opens: cell("opens"),
            closes: cell("closes"),
            stations: whole("stations", &cell("stations"))?,
            per_station_per_hour: whole("per_station_per_hour", &cell("per_station_per_hour"))?,
            slot_minutes: whole("slot_minutes", &cell("slot_minutes"))?,
            village_code: optional("village_code"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(row: usize, field: &str, message: &str) -> RowError {
        RowError {
            row,
            field: field.into(),
            message: message.into(),
        }
    }

    const SESSIONS: &str =
        "site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes\n\
                            S1,2030-01-02,07:30,11:30,2,20,30\n";

    #[test]
    fn a_sessions_file_without_its_optional_columns_reads() {
        let read = read_sessions(SESSIONS.as_bytes());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        assert_eq!(
            read.rows,
            [(
                1,
                SessionRow {
                    id: None,
                    site_code: "S1".into(),
                    day: "2030-01-02".into(),
                    opens: "07:30".into(),
                    closes: "11:30".into(),
                    stations: 2,
                    per_station_per_hour: 20,
                    slot_minutes: 30,
                    village_code: None,
                }
            )]
        );
    }

    #[test]
    fn columns_are_read_by_name_and_cells_unmarked() {
        let text = "village_code,slot_minutes,per_station_per_hour,stations,closes,opens,day,site_code,id\n\
                    '0665801,30,20,2,11:30,07:30,2030-01-02,S1,\n";
        let read = read_sessions(text.as_bytes());
        let (_, session) = &read.rows[0];
        assert_eq!(session.village_code.as_deref(), Some("0665801"));
        assert_eq!(session.site_code, "S1");
        assert_eq!(session.id, None);
    }

    #[test]
    fn a_bad_header_names_the_missing_and_the_unknown_columns() {
        let read = read_sessions(b"site_code,day,shoe_size\n");
        let columns = SESSION_COLUMNS.join(",");
        assert_eq!(
            read.errors,
            [
                err(
                    0,
                    "opens",
                    &format!("the header lacks the column(s) opens, closes, stations, per_station_per_hour, slot_minutes; the columns are {columns}")
                ),
                err(
                    0,
                    "shoe_size",
                    &format!("'shoe_size' is not a column; the columns are {columns}")
                ),
            ]
        );
    }

    #[test]
    fn a_short_row_and_a_bad_number_are_their_rows_errors() {
        let text = format!("{SESSIONS}S1,2030-01-02\nS1,2030-01-02,07:30,11:30,two,20,30\n");
        let read = read_sessions(text.as_bytes());
        assert_eq!(read.rows.len(), 1);
        assert_eq!(
            read.errors,
            [
                err(2, "row", "the row has 2 columns; the header has 7"),
                err(3, "stations", "'two' is not a whole number"),
            ]
        );
    }

    #[test]
    fn a_cell_that_does_not_read_is_named_by_its_header() {
        let mut text = SESSIONS.lines().next().unwrap().as_bytes().to_vec();
        text.extend(b"\nS1,2030-01-02,07:30,11:30,");
        text.push(0xff);
        text.extend(b",20,30\n");
        let read = read_sessions(&text);
        assert_eq!(
            read.errors,
            [err(1, "stations", "the cell is not valid UTF-8")]
        );
    }

    #[test]
    fn a_header_column_without_a_name_is_the_only_header_error() {
        let header = ::csv::StringRecord::from(vec!["site_code", "", "bogus"]);
        assert_eq!(
            header_errors(&header, &SESSION_COLUMNS, &SESSION_OPTIONAL),
            [err(0, "header", "column 2 of the header has no name")]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_rows_or_row_errors(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let read = read_sessions(&bytes);
            for e in &read.errors {
                prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
            }
        }
    }
}
