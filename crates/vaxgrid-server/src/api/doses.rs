//! /api/v1/doses — the hot path: handlers check shape only and hand the
//! record to the dose writer, which applies the rules and commits in batches.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{CorrectionRequest, DoseRequest};

use super::types::{Dose, DosesImported};

use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::model::Actor;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson};
use crate::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseBody {
    pub id: String,
    pub person_id: String,
    pub product_code: String,
    /// Required unless `historical`.
    #[serde(default)]
    pub lot_number: Option<String>,
    /// Required unless `historical`.
    #[serde(default)]
    pub site_code: Option<String>,
    pub administered_on: String,
    pub dose_number: Option<u32>,
    pub vaccinator: Option<String>,
    pub override_reason: Option<String>,
    /// A dose given elsewhere and reported here (from a card or another
    /// registry): lot and site may be left out and are not checked.
    #[serde(default)]
    pub historical: bool,
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(())
}

fn outcome_response(outcome: WriteOutcome) -> Response {
    match outcome {
        WriteOutcome::Created(rec) => {
            let location = format!("/api/v1/doses/{}", rec.id);
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(Dose::from(rec)),
            )
                .into_response()
        }
        WriteOutcome::Existing(rec) => (StatusCode::OK, Json(Dose::from(rec))).into_response(),
        WriteOutcome::Merged { .. } => {
            tracing::error!("dose command answered with a merge outcome");
            ApiError::bad_request("body", "unexpected outcome").into_response()
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/doses",
    summary = "Record a dose. 201 new; 200 the same id and body again; 409 same id, different body; 422 a rule (with earliest_valid_date for intervals); 503 + Retry-After when the writer queue is full. Acknowledged means committed and synced. A vaccinator's dose names them (vaccinator left out or theirs) and needs their vaccination certificate current on the day; a historical dose keeps the vaccinator it names and needs none.",
    request_body = DoseBody,
    responses(
        (status = 201, description = "Created", body = Dose),
        (status = 200, description = "The same dose, recorded before (a retry)", body = Dose),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn record(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<DoseBody>,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let by = caller.actor(&app, Permission::RecordDose).await?;
    let mut request = dose_request(b, by)?;
    // A vaccinator's dose names them; the writer checks the certificate
    // for the whole batch in one read.
    crate::api::training::sign_dose(&mut request, &caller)?;
    let outcome = app.writer.submit(WriteCommand::Dose(request)).await;
    app.dose_latency.record(started.elapsed().as_secs_f64());
    Ok(outcome_response(outcome?))
}

/// Checks the shape of a dose (the rules that need the history are the
/// writer's); shared by the JSON API and the CSV import.
pub fn dose_request(b: DoseBody, by: Actor) -> Result<DoseRequest, ApiError> {
    let id = uuid_field("id", &b.id)?;
    let person_id = uuid_field("person_id", &b.person_id)?;
    bounded("product_code", &b.product_code, 32)?;
    let known_or_reported = |field: &str, value: Option<String>, max: usize| match value {
        Some(v) if !(b.historical && v.is_empty()) => bounded(field, &v, max).map(|_| v),
        _ if b.historical => Ok(String::new()),
        _ => Err(ApiError::invalid(
            field,
            format!("{field} is required (it may be left out only for a historical dose)"),
        )),
    };
    let lot_number = known_or_reported("lot_number", b.lot_number.clone(), 64)?;
    let site_code = known_or_reported(
        "site_code",
        b.site_code.clone(),
        vaxgrid_core::site::MAX_SITE_CODE,
    )?;
    if let Some(v) = &b.vaccinator {
        bounded("vaccinator", v, 200)?;
    }
    if let Some(r) = &b.override_reason {
        bounded("override_reason", r, 500)?;
    }
    if matches!(b.dose_number, Some(0) | Some(11..)) {
        return Err(ApiError::invalid(
            "dose_number",
            "dose_number must be between 1 and 10",
        ));
    }
    let administered_on = crate::extract::date_field("administered_on", &b.administered_on)?;
    Ok(DoseRequest {
        id,
        person_id,
        product_code: b.product_code,
        lot_number,
        site_code,
        administered_on,
        dose_number: b.dose_number,
        vaccinator: b.vaccinator,
        override_reason: b.override_reason,
        historical: b.historical,
        requires_certificate: None,
        by,
    })
}

/// Checks the shape of an entered-in-error record of dose `target`.
pub fn correction_request(
    target: &str,
    b: CorrectionBody,
    by: Actor,
) -> Result<CorrectionRequest, ApiError> {
    let target_id = uuid_field("dose_id", target)?;
    let id = uuid_field("id", &b.id)?;
    bounded("reason", &b.reason, 500)?;
    bounded("author", &b.author, 200)?;
    Ok(CorrectionRequest {
        id,
        target_id,
        reason: b.reason.trim().to_string(),
        author: b.author.trim().to_string(),
        by,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/doses/{id}",
    summary = "One dose record",
    params(("id" = String, Path, description = "dose UUID")),
    responses(
        (status = 200, description = "OK", body = Dose),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Dose>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    Ok(Json(
        app.store
            .dose_in(&id, &actor.scope)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// Id of the new entered-in-error record (client-chosen, for retries).
    pub id: String,
    pub reason: String,
    pub author: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/doses/{id}/entered-in-error",
    summary = "Mark a dose entered in error (a new record; the dose is never changed)",
    params(("id" = String, Path, description = "dose UUID")),
    request_body = CorrectionBody,
    responses(
        (status = 201, description = "OK", body = Dose),
        (status = 200, description = "The same correction, recorded before (a retry)", body = Dose),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn entered_in_error(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(target): Path<String>,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> Result<Response, ApiError> {
    let by = caller.actor(&app, Permission::CorrectDose).await?;
    let correction = correction_request(&target, b, by)?;
    app.store
        .dose_in(&correction.target_id, &correction.by.scope)
        .await
        .map_err(ApiError::lookup)?;
    let outcome = app
        .writer
        .submit(WriteCommand::EnteredInError(correction))
        .await?;
    Ok(outcome_response(outcome))
}

/// A doses CSV (the layout of `vaxgrid export doses`): every row is recorded
/// or refused on its own, through the same rules as `POST /api/v1/doses`;
/// the answer counts them and lists each refused row with its column.
#[utoipa::path(
    post,
    path = "/api/v1/doses/import",
    summary = "Import a doses CSV (columns of `vaxgrid export doses`: id, person_id, kind, corrects_id, product_code, lot_number, site_code, dose_number, administered_on, vaccinator, override_reason, reason, author; area_code and recorded_at ignored). Each row is recorded or refused on its own by the dose rules; importing the same file again changes nothing.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "{created, existing, refused, errors: [{row, field, message}]}", body = DosesImported),
        (status = 400, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn import(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    crate::extract::CsvBody(bytes): crate::extract::CsvBody,
) -> Result<Json<DosesImported>, ApiError> {
    let by = caller.actor(&app, Permission::ManageRegistry).await?;
    let mut bulk = vaxgrid_store::writer::BulkWriter::new(app.store.clone());
    let report = crate::dose_csv::import_doses(&mut bulk, bytes.as_ref(), &by, |_| {}).await?;
    if let Some(header) = report.errors.iter().find(|e| e.row == 0) {
        return Err(ApiError::bad_request(
            header.field.clone(),
            header.message.clone(),
        ));
    }
    Ok(Json(DosesImported {
        created: report.created,
        existing: report.existing,
        refused: report.errors.len(),
        errors: report
            .errors
            .into_iter()
            .map(|e| crate::error::RowProblem {
                row: e.row,
                field: e.field,
                message: e.message,
            })
            .collect(),
    }))
}
