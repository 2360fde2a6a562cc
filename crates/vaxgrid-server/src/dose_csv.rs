//! The doses CSV: the layout `vaxgrid export doses` writes, read back by
//! `vaxgrid import doses` and `POST /api/v1/doses/import`.
//!
//! Each row goes through the same checks and rules as `POST /api/v1/doses`
//! (or, for `kind = entered_in_error`, as a correction) and is all or
//! nothing on its own: good rows are committed in batches, every bad row is
//! reported with its row number, column and reason. Rows carry their record
//! id, so importing the same file again changes nothing.

use serde::Deserialize;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::Actor;
use vaxgrid_store::persons::RowError;
use vaxgrid_store::writer::BulkWriter;
use vaxgrid_store::StoreError;

use crate::api::doses::{correction_request, dose_request, CorrectionBody, DoseBody};
use crate::error::ApiError;
use crate::import::{csv_field, csv_message};

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

/// Rows applied in one transaction.
pub const BATCH: usize = 10000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseRow {
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
    #[allow(dead_code)]
    area_code: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    recorded_at: Option<String>,
}

/// A cell's value: empty is absent, and a spreadsheet's text mark (a
/// leading apostrophe, as exports write it) is dropped.
fn filled(v: Option<String>) -> Option<String> {
    v.map(|s| vaxgrid_core::spreadsheet::read_cell(&s).to_string())
        .filter(|s| !s.is_empty())
}

fn row_command(r: DoseRow, by: &Actor) -> Result<WriteCommand, ApiError> {
    let need = |field: &str, v: Option<String>| {
        filled(v).ok_or_else(|| ApiError::invalid(field, format!("{field} is required")))
    };
    match r.kind.as_deref().unwrap_or("") {
        kind @ ("" | "administered" | "historical") => Ok(WriteCommand::Dose(dose_request(
            DoseBody {
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
            },
            by.clone(),
        )?)),
        "entered_in_error" => {
            let target = need("corrects_id", r.corrects_id)?;
            Ok(WriteCommand::EnteredInError(correction_request(
                &target,
                CorrectionBody {
                    id: r.id,
                    reason: need("reason", r.reason)?,
                    author: need("author", r.author)?,
                },
                by.clone(),
            )?))
        }
        other => Err(ApiError::invalid(
            "kind",
            format!(
                "'{other}' is not a dose kind; use administered, historical or entered_in_error"
            ),
        )),
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DoseImportReport {
    /// Rows committed now.
    pub created: usize,
    /// Rows whose record was already there (same id, same content).
    pub existing: usize,
    /// Rows refused, each with its reason; nothing of them was written.
    pub errors: Vec<RowError>,
}

fn row_error(row: usize, e: ApiError) -> RowError {
    let (field, message) = e.field_and_message();
    RowError {
        row,
        field,
        message,
    }
}

/// Reads a doses CSV row by row, after checking its header: each row becomes
/// the command it asks for, or the error of that row. No database needed.
pub struct DoseCsv<R: std::io::Read> {
    rows: std::iter::Enumerate<csv::DeserializeRecordsIntoIter<R, DoseRow>>,
    by: Actor,
}

impl<R: std::io::Read> DoseCsv<R> {
    /// Checks the header: known columns only, `id` and `person_id` present.
    pub fn new(input: R, by: Actor) -> Result<DoseCsv<R>, RowError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let header_error = |field: &str, message: String| RowError {
            row: 0,
            field: field.to_string(),
            message,
        };
        let header = reader
            .headers()
            .map_err(|e| header_error("header", csv_message(&e)))?
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
            rows: reader.into_deserialize::<DoseRow>().enumerate(),
            by,
        })
    }
}

impl<R: std::io::Read> Iterator for DoseCsv<R> {
    /// The 1-based data row and its command or error.
    type Item = (usize, Result<WriteCommand, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (i, record) = self.rows.next()?;
        let row = i + 1;
        let command = record
            .map_err(|e| ApiError::invalid(csv_field(&e), csv_message(&e)))
            .and_then(|r| row_command(r, &self.by))
            .map_err(|e| row_error(row, e));
        Some((row, command))
    }
}

/// Reads `input` and applies its rows in batches of [`BATCH`]; calls
/// `progress` with the number of rows done. An `Err` means the database
/// failed: batches before it are committed, the failing one is not.
pub async fn import_doses<R: std::io::Read>(
    bulk: &mut BulkWriter,
    input: R,
    by: &Actor,
    mut progress: impl FnMut(usize),
) -> Result<DoseImportReport, StoreError> {
    let mut report = DoseImportReport::default();
    let mut rows = match DoseCsv::new(input, by.clone()) {
        Ok(rows) => rows,
        Err(e) => {
            report.errors.push(e);
            return Ok(report);
        }
    };
    let mut done = 0;
    loop {
        let mut batch: Vec<(usize, WriteCommand)> = Vec::with_capacity(BATCH);
        for (row, command) in rows.by_ref() {
            match command {
                Ok(cmd) => batch.push((row, cmd)),
                Err(e) => report.errors.push(e),
            }
            done += 1;
            if batch.len() == BATCH {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let cmds: Vec<WriteCommand> = batch.iter().map(|(_, c)| c.clone()).collect();
        for ((row, _), result) in batch.iter().zip(bulk.apply(&cmds).await?) {
            match result {
                Ok(WriteOutcome::Created(_)) => report.created += 1,
                Ok(_) => report.existing += 1,
                Err(e) => report.errors.push(row_error(*row, ApiError::Store(e))),
            }
        }
        progress(done);
    }
    report.errors.sort_by_key(|e| e.row);
    Ok(report)
}
