//! The doses file: the layout `vaxgrid export doses` writes, read back by
//! `vaxgrid import doses` and `POST /api/v1/doses/import`.
//!
//! A row is a dose given (`kind` `administered`, the default, or
//! `historical`) or the correction of a record entered in error
//! (`entered_in_error`). Reading a row checks its cells and that the
//! columns its kind needs are filled; the rules of a dose are checked by
//! whoever records it.

use serde::Deserialize;

use super::{checked_row, error_message, header_error, RowError};

/// Columns written by the export. Of these, the import needs `id`,
/// `person_id`, and per kind: `product_code`, `lot_number`, `site_code`,
/// `administered_on` (administered) or `corrects_id`, `reason`, `author`
/// (entered in error). `area_code` and `recorded_at` are derived and ignored.
pub const DOSE_HEADER: [&str; 15] = [
    "id",
    "person_id",
    "kind",
    "corrects_id",
    "product_code",
    "lot_number",
    "site_code",
    "dose_number",
    "administered_on",
    "vaccinator",
    "override_reason",
    "reason",
    "author",
    "area_code",
    "recorded_at",
];

/// A recorded dose as `vaxgrid export doses` writes it: one value per
/// column of [`DOSE_HEADER`], named, so the order of the columns is kept
/// here only.
#[derive(Debug, Clone, Copy)]
pub struct ExportedDose<'a> {
    pub id: &'a str,
    pub person_id: &'a str,
    /// `administered`, `historical` or `entered_in_error`.
    pub kind: &'a str,
    pub corrects_id: Option<&'a str>,
    pub product_code: &'a str,
    pub lot_number: &'a str,
    pub site_code: &'a str,
    pub dose_number: i64,
    pub administered_on: &'a str,
    pub vaccinator: Option<&'a str>,
    pub override_reason: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub author: Option<&'a str>,
    pub area_code: &'a str,
    pub recorded_at: &'a str,
}

impl ExportedDose<'_> {
    /// The row's cells in the order of [`DOSE_HEADER`], each marked as
    /// text where a spreadsheet would run it (`core::spreadsheet`).
    pub fn cells(&self) -> [String; 15] {
        let dose_number = self.dose_number.to_string();
        [
            self.id,
            self.person_id,
            self.kind,
            self.corrects_id.unwrap_or(""),
            self.product_code,
            self.lot_number,
            self.site_code,
            &dose_number,
            self.administered_on,
            self.vaccinator.unwrap_or(""),
            self.override_reason.unwrap_or(""),
            self.reason.unwrap_or(""),
            self.author.unwrap_or(""),
            self.area_code,
            self.recorded_at,
        ]
        .map(|cell| vaxgrid_core::spreadsheet::safe_cell(cell).into_owned())
    }
}

/// A row's cells as they are in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DoseCells {
    id: String,
    person_id: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    corrects_id: Option<String>,
    #[serde(default)]
    product_code: Option<String>,
    #[serde(default)]
    lot_number: Option<String>,
    #[serde(default)]
    site_code: Option<String>,
    #[serde(default)]
    dose_number: Option<u32>,
    #[serde(default)]
    administered_on: Option<String>,
    #[serde(default)]
    vaccinator: Option<String>,
    #[serde(default)]
    override_reason: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "derived, written by the export, not read back")]
    area_code: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "derived, written by the export, not read back")]
    recorded_at: Option<String>,
}

/// One row of the file: what it asks to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoseRow {
    Administered(AdministeredRow),
    EnteredInError(CorrectionRow),
}

/// A dose given (`kind` empty, `administered` or `historical`). The cells
/// are as read (trimmed); the optional ones are `None` when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdministeredRow {
    pub id: String,
    pub person_id: String,
    pub product_code: String,
    pub lot_number: Option<String>,
    pub site_code: Option<String>,
    pub administered_on: String,
    pub dose_number: Option<u32>,
    pub vaccinator: Option<String>,
    pub override_reason: Option<String>,
    /// `kind` is `historical`: a dose given before, elsewhere.
    pub historical: bool,
}

/// The correction of the record `corrects_id`, entered in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    pub id: String,
    pub person_id: String,
    pub corrects_id: String,
    pub reason: String,
    pub author: String,
}

/// A cell's value: empty is absent, and a spreadsheet's text mark (a
/// leading apostrophe, as exports write it) is dropped.
fn filled(v: Option<String>) -> Option<String> {
    v.map(|s| vaxgrid_core::spreadsheet::read_cell(&s).to_string())
        .filter(|s| !s.is_empty())
}

fn check_row(r: DoseCells) -> Result<DoseRow, (String, String)> {
    let need = |field: &str, v: Option<String>| {
        filled(v).ok_or_else(|| (field.to_string(), format!("{field} is required")))
    };
    match r.kind.as_deref().unwrap_or("") {
        kind @ ("" | "administered" | "historical") => Ok(DoseRow::Administered(AdministeredRow {
            id: r.id,
            person_id: r.person_id,
            product_code: need("product_code", r.product_code)?,
            lot_number: filled(r.lot_number),
            site_code: filled(r.site_code),
            administered_on: need("administered_on", r.administered_on)?,
            dose_number: r.dose_number,
            vaccinator: filled(r.vaccinator),
            override_reason: filled(r.override_reason),
            historical: kind == "historical",
        })),
        "entered_in_error" => Ok(DoseRow::EnteredInError(CorrectionRow {
            id: r.id,
            person_id: r.person_id,
            corrects_id: need("corrects_id", r.corrects_id)?,
            reason: need("reason", r.reason)?,
            author: need("author", r.author)?,
        })),
        other => Err((
            "kind".to_string(),
            format!(
                "'{other}' is not a dose kind; use administered, historical or entered_in_error"
            ),
        )),
    }
}

/// Reads a doses file row by row, after checking its header.
pub struct DoseCsv<R: std::io::Read> {
    rows: std::iter::Enumerate<::csv::DeserializeRecordsIntoIter<R, DoseCells>>,
    /// The header, to name a cell that does not read by its column.
    header: ::csv::StringRecord,
}

impl<R: std::io::Read> DoseCsv<R> {
    /// Checks the header: known columns only, `id` and `person_id` present.
    pub fn new(input: R) -> Result<DoseCsv<R>, RowError> {
        let mut reader = super::reader(input);
        let header = reader
            .headers()
            .map_err(|e| header_error("header", error_message(&e)))?
            .clone();
        if let Some(blank) = header.iter().position(str::is_empty) {
            return Err(header_error(
                "header",
                format!("column {} of the header has no name", blank + 1),
            ));
        }
        if let Some(unknown) = header.iter().find(|c| !DOSE_HEADER.contains(c)) {
            return Err(header_error(
                unknown,
                format!(
                    "'{unknown}' is not a doses column; the columns are {}",
                    DOSE_HEADER.join(",")
                ),
            ));
        }
        if let Some(missing) = ["id", "person_id"]
            .into_iter()
            .find(|c| !header.iter().any(|h| h == *c))
        {
            return Err(header_error(
                missing,
                format!("the header lacks the column {missing}"),
            ));
        }
        Ok(DoseCsv {
            rows: reader.into_deserialize::<DoseCells>().enumerate(),
            header,
        })
    }
}

impl<R: std::io::Read> Iterator for DoseCsv<R> {
    /// The 1-based data row and what it asks for, or its error.
    type Item = (usize, Result<DoseRow, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (i, record) = self.rows.next()?;
        let row = i + 1;
        Some((row, checked_row(row, record, &self.header, check_row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "id,person_id,kind,corrects_id,product_code,lot_number,site_code,administered_on,reason,author\n\
        0190a5f0-0000-7000-8000-000000000001,0190a5f0-0000-7000-8000-0000000000aa,administered,,AZ,AZ-1,S1,2021-07-01,,\n\
        0190a5f0-0000-7000-8000-000000000002,0190a5f0-0000-7000-8000-0000000000aa,entered_in_error,0190a5f0-0000-7000-8000-000000000001,,,,,typo,clerk\n";

    type Rows = Vec<(usize, Result<DoseRow, RowError>)>;

    fn read(text: &[u8]) -> Result<Rows, RowError> {
        DoseCsv::new(text).map(Iterator::collect)
    }

    fn err(row: usize, field: &str, message: &str) -> RowError {
        RowError {
            row,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error of the one row of `header` and `row`.
    fn row_error(header: &str, row: &str) -> RowError {
        let rows = read(format!("{header}\n{row}\n").as_bytes()).expect("a good header");
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().unwrap().1.expect_err("a bad row")
    }

    #[test]
    fn the_good_file_reads_whole() {
        let rows = read(GOOD.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        let (row, dose) = &rows[0];
        assert_eq!(*row, 1);
        assert_eq!(
            dose.as_ref().unwrap(),
            &DoseRow::Administered(AdministeredRow {
                id: "0190a5f0-0000-7000-8000-000000000001".into(),
                person_id: "0190a5f0-0000-7000-8000-0000000000aa".into(),
                product_code: "AZ".into(),
                lot_number: Some("AZ-1".into()),
                site_code: Some("S1".into()),
                administered_on: "2021-07-01".into(),
                dose_number: None,
                vaccinator: None,
                override_reason: None,
                historical: false,
            })
        );
        assert_eq!(
            rows[1],
            (
                2,
                Ok(DoseRow::EnteredInError(CorrectionRow {
                    id: "0190a5f0-0000-7000-8000-000000000002".into(),
                    person_id: "0190a5f0-0000-7000-8000-0000000000aa".into(),
                    corrects_id: "0190a5f0-0000-7000-8000-000000000001".into(),
                    reason: "typo".into(),
                    author: "clerk".into(),
                }))
            )
        );
    }

    #[test]
    fn an_exported_file_reads_back() {
        let row = "a,p,historical,,'=AZ,,,1,2021-07-01,'@me,,,,0665801,2021-07-01T08:00:00Z";
        let rows = read(format!("{}\n{row}\n", DOSE_HEADER.join(",")).as_bytes()).unwrap();
        let Ok(DoseRow::Administered(dose)) = &rows[0].1 else {
            panic!("{rows:?}")
        };
        assert!(dose.historical);
        assert_eq!(dose.product_code, "=AZ");
        assert_eq!(dose.vaccinator.as_deref(), Some("@me"));
        assert_eq!(dose.dose_number, Some(1));
        assert_eq!(dose.lot_number, None);
    }

    #[test]
    fn a_bad_header_names_the_column() {
        assert_eq!(
            read(b"id,,person_id\n").unwrap_err(),
            err(0, "header", "column 2 of the header has no name")
        );
        assert_eq!(
            read(b"id,person_id,shoe_size\n").unwrap_err(),
            err(
                0,
                "shoe_size",
                &format!(
                    "'shoe_size' is not a doses column; the columns are {}",
                    DOSE_HEADER.join(",")
                )
            )
        );
        assert_eq!(
            read(b"id,kind\n").unwrap_err(),
            err(0, "person_id", "the header lacks the column person_id")
        );
    }

    #[test]
    fn a_short_row_is_counted_against_the_header() {
        assert_eq!(
            row_error("id,person_id,kind", "a,p"),
            err(1, "row", "the row has 2 columns; the header has 3")
        );
    }

    #[test]
    fn a_bad_cell_names_its_column() {
        // Named by its header, not by the 0-based position the csv crate
        // gives (2 here).
        assert_eq!(
            row_error("id,person_id,dose_number", "a,p,second"),
            err(1, "dose_number", "invalid digit found in string")
        );
        assert_eq!(
            row_error("id,person_id,kind", "a,p,booster"),
            err(
                1,
                "kind",
                "'booster' is not a dose kind; use administered, historical or entered_in_error"
            )
        );
    }

    #[test]
    fn each_kind_names_the_first_cell_it_lacks() {
        let header = "id,person_id,kind,product_code,administered_on,corrects_id,reason,author";
        assert_eq!(
            row_error(header, "a,p,,,2021-07-01,,,"),
            err(1, "product_code", "product_code is required")
        );
        assert_eq!(
            row_error(header, "a,p,administered,AZ,',,,"),
            err(1, "administered_on", "administered_on is required")
        );
        assert_eq!(
            row_error(header, "a,p,entered_in_error,,,,typo,clerk"),
            err(1, "corrects_id", "corrects_id is required")
        );
        assert_eq!(
            row_error(header, "a,p,entered_in_error,,,c,typo,"),
            err(1, "author", "author is required")
        );
    }

    #[test]
    fn an_exported_dose_reads_back_as_it_was_recorded() {
        let dose = ExportedDose {
            id: "0190a5f0-0000-7000-8000-000000000001",
            person_id: "0190a5f0-0000-7000-8000-0000000000aa",
            kind: "administered",
            corrects_id: None,
            product_code: "=AZ",
            lot_number: "AZ-1",
            site_code: "S1",
            dose_number: 2,
            administered_on: "2021-07-01",
            vaccinator: Some("+Lan"),
            override_reason: None,
            reason: None,
            author: None,
            area_code: "0665801",
            recorded_at: "2021-07-01T08:00:00Z",
        };
        let mut file = ::csv::Writer::from_writer(Vec::new());
        file.write_record(DOSE_HEADER).unwrap();
        file.write_record(dose.cells()).unwrap();
        let bytes = file.into_inner().unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains(",'=AZ,AZ-1,S1,2,"));
        let rows = read(&bytes).unwrap();
        assert_eq!(
            rows[0].1.as_ref().unwrap(),
            &DoseRow::Administered(AdministeredRow {
                id: dose.id.into(),
                person_id: dose.person_id.into(),
                product_code: "=AZ".into(),
                lot_number: Some("AZ-1".into()),
                site_code: Some("S1".into()),
                administered_on: "2021-07-01".into(),
                dose_number: Some(2),
                vaccinator: Some("+Lan".into()),
                override_reason: None,
                historical: false,
            })
        );
    }

    fn answered(bytes: &[u8]) -> Result<usize, TestCaseError> {
        match read(bytes) {
            Err(e) => {
                prop_assert!(
                    e.row == 0 && !e.field.is_empty() && !e.message.is_empty(),
                    "{:?}",
                    e
                );
                Ok(0)
            }
            Ok(rows) => {
                for (row, dose) in &rows {
                    if let Err(e) = dose {
                        prop_assert!(
                            e.row == *row && !e.field.is_empty() && !e.message.is_empty(),
                            "{:?}",
                            e
                        );
                    }
                }
                Ok(rows.len())
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_rows_or_row_errors(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            answered(&bytes)?;
        }

        #[test]
        fn a_mutated_good_file_gives_rows_or_row_errors(at in 0usize..GOOD.len(), byte in any::<u8>(), cut in 0usize..GOOD.len()) {
            let mut bytes = GOOD.as_bytes().to_vec();
            bytes[at] = byte;
            bytes.truncate(cut.max(1));
            // A byte may become a line break and split a row in two.
            prop_assert!(answered(&bytes)? <= 3);
        }
    }
}
