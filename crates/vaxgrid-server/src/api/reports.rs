//! /api/v1/reports

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use vaxgrid_store::reports::CoverageReport;

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    area: String,
}

pub async fn coverage(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<CoverageReport>, ApiError> {
    Ok(Json(
        app.store
            .coverage(&q.area)
            .await
            .map_err(ApiError::lookup)?,
    ))
}
