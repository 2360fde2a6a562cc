//! /api/v1/doses — the hot path: handlers check shape only and hand the
//! record to the dose writer, which applies the rules and commits in batches.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{CorrectionRequest, DoseRecord, DoseRequest};

use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson};
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseBody {
    id: String,
    person_id: String,
    product_code: String,
    lot_number: String,
    site_code: String,
    administered_on: String,
    dose_number: Option<u32>,
    vaccinator: Option<String>,
    override_reason: Option<String>,
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
                Json(rec),
            )
                .into_response()
        }
        WriteOutcome::Existing(rec) => (StatusCode::OK, Json(rec)).into_response(),
        WriteOutcome::Merged { .. } => {
            tracing::error!("dose command answered with a merge outcome");
            ApiError::bad_request("body", "unexpected outcome").into_response()
        }
    }
}

pub async fn record(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<DoseBody>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &b.id)?;
    let person_id = uuid_field("person_id", &b.person_id)?;
    bounded("product_code", &b.product_code, 32)?;
    bounded("lot_number", &b.lot_number, 64)?;
    bounded("site_code", &b.site_code, 16)?;
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
    let administered_on = vaxgrid_store::parse_date(&b.administered_on).ok_or_else(|| {
        ApiError::invalid(
            "administered_on",
            format!("'{}' is not a date YYYY-MM-DD", b.administered_on),
        )
    })?;
    let outcome = app
        .writer
        .submit(WriteCommand::Dose(DoseRequest {
            id,
            person_id,
            product_code: b.product_code,
            lot_number: b.lot_number,
            site_code: b.site_code,
            administered_on,
            dose_number: b.dose_number,
            vaccinator: b.vaccinator,
            override_reason: b.override_reason,
        }))
        .await?;
    Ok(outcome_response(outcome))
}

pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DoseRecord>, ApiError> {
    let id = uuid_field("id", &id)?;
    Ok(Json(app.store.dose(&id).await.map_err(ApiError::lookup)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// Id of the new entered-in-error record (client-chosen, for retries).
    id: String,
    reason: String,
    author: String,
}

pub async fn entered_in_error(
    State(app): State<AppState>,
    Path(target): Path<String>,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> Result<Response, ApiError> {
    let target_id = uuid_field("dose_id", &target)?;
    let id = uuid_field("id", &b.id)?;
    bounded("reason", &b.reason, 500)?;
    bounded("author", &b.author, 200)?;
    app.store.dose(&target_id).await.map_err(ApiError::lookup)?;
    let outcome = app
        .writer
        .submit(WriteCommand::EnteredInError(CorrectionRequest {
            id,
            target_id,
            reason: b.reason.trim().to_string(),
            author: b.author.trim().to_string(),
        }))
        .await?;
    Ok(outcome_response(outcome))
}
