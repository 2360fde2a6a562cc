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
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<CoverageReport>, ApiError> {
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::ReadReports)
        .await?;
    Ok(Json(
        app.store
            .coverage_in(&q.area, &actor.scope)
            .await
            .map_err(ApiError::lookup)?,
    ))
}
