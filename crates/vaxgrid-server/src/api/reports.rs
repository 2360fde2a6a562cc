//! /api/v1/reports

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::types::CoverageReport;

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    area: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/coverage",
    summary = "Coverage of an area and each child: population, ≥1 dose, completed series, by product and priority group",
    params(("area" = String, Query, description = "area code")),
    responses(
        (status = 200, description = "OK", body = CoverageReport),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
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
            .map_err(ApiError::lookup)?
            .into(),
    ))
}
