//! Doses from the doses file (`vaxgrid_interop::csv::doses`, the layout
//! `vaxgrid export doses` writes, read back by `vaxgrid import doses` and
//! `POST /api/v1/doses/import`).
//!
//! Each row goes through the same checks and rules as `POST /api/v1/doses`
//! (or, for `kind = entered_in_error`, as a correction) and is all or
//! nothing on its own: good rows are committed in batches, every bad row is
//! reported with its row number, column and reason. Rows carry their record
//! id, so importing the same file again changes nothing.

use vaxgrid_interop::csv::doses::DoseRow;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::Actor;
use vaxgrid_store::persons::RowError;
use vaxgrid_store::writer::BulkWriter;
use vaxgrid_store::StoreError;

use crate::api::doses::{correction_request, dose_request, CorrectionBody, DoseBody};
use crate::error::ApiError;

/// Rows applied in one transaction.
pub const BATCH: usize = 10000;

/// The command a row asks for, checked as `POST /api/v1/doses` (or the
/// correction) checks its body.
fn row_command(row: DoseRow, by: &Actor) -> Result<WriteCommand, ApiError> {
    match row {
        DoseRow::Administered(r) => Ok(WriteCommand::Dose(dose_request(
            DoseBody {
                id: r.id,
                person_id: r.person_id,
                product_code: r.product_code,
                lot_number: r.lot_number,
                site_code: r.site_code,
                administered_on: r.administered_on,
                dose_number: r.dose_number,
                vaccinator: r.vaccinator,
                override_reason: r.override_reason,
                historical: r.historical,
            },
            by.clone(),
        )?)),
        DoseRow::EnteredInError(r) => Ok(WriteCommand::EnteredInError(correction_request(
            &r.corrects_id,
            CorrectionBody {
                id: r.id,
                reason: r.reason,
                author: r.author,
            },
            by.clone(),
        )?)),
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
    rows: vaxgrid_interop::csv::doses::DoseCsv<R>,
    by: Actor,
}

impl<R: std::io::Read> DoseCsv<R> {
    /// Checks the header: known columns only, `id` and `person_id` present.
    pub fn new(input: R, by: Actor) -> Result<DoseCsv<R>, RowError> {
        let rows =
            vaxgrid_interop::csv::doses::DoseCsv::new(input).map_err(crate::import::row_error)?;
        Ok(DoseCsv { rows, by })
    }
}

impl<R: std::io::Read> Iterator for DoseCsv<R> {
    /// The 1-based data row and its command or error.
    type Item = (usize, Result<WriteCommand, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (row, dose) = self.rows.next()?;
        let command = dose
            .map_err(crate::import::row_error)
            .and_then(|r| row_command(r, &self.by).map_err(|e| row_error(row, e)));
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
