//! GET /api/v1/reports/training: staff, class attendance, exam pass
//! rates, certified vaccinators and certificates running out within N days
//! for an area and each child (JSON or CSV).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::spreadsheet::safe_cell;
use vaxgrid_store::training_report::TrainingRow;
use vaxgrid_store::StoreError;

use super::aefi::{csv_response, wants_csv};
use super::lists::listing;
use super::report_types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

/// Certificates running out within this many days unless asked.
pub const DEFAULT_EXPIRING_DAYS: i64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingQuery {
    area: Option<String>,
    expiring_within_days: Option<i64>,
    format: Option<String>,
}

pub const CSV_HEADER: [&str; 11] = [
    "area_code",
    "area_name",
    "staff",
    "attendees",
    "exams",
    "exams_passed",
    "pass_rate",
    "vaccinators",
    "certified_vaccinators",
    "expiring",
    "expiring_within_days",
];

fn csv_row(r: &TrainingRow, days: i64) -> [String; 11] {
    [
        r.area_code.clone(),
        safe_cell(&r.area_name).into_owned(),
        r.staff.to_string(),
        r.attendees.to_string(),
        r.exams.to_string(),
        r.exams_passed.to_string(),
        r.pass_rate.map(|v| v.to_string()).unwrap_or_default(),
        r.vaccinators.to_string(),
        r.certified_vaccinators.to_string(),
        r.expiring.to_string(),
        days.to_string(),
    ]
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/training",
    summary = "Training report of an area and each child: staff (users with a role on a site or an area there), those who attended a class, exams taken and passed with the pass rate, vaccinators and those with a current vaccination certificate, staff whose certificate ends within expiring_within_days (default 30), and the classes the area's staff attended. JSON, or format=csv: area_code,area_name,staff,attendees,exams,exams_passed,pass_rate,vaccinators,certified_vaccinators,expiring,expiring_within_days (the area first)",
    params(
        ("area" = String, Query, description = "area code, in the caller's areas"),
        ("expiring_within_days" = Option<i64>, Query, description = "0 to 3650 (default 30)"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "{as_of, expiring_within_days, classes, area{area_code, area_name, staff, attendees, exams, exams_passed, pass_rate, vaccinators, certified_vaccinators, expiring}, children[] (the same)}; or text/csv", content((report_types::Training = "application/json"), (String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn report(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<TrainingQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    let area = q
        .area
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("area", "area (an area code) is required"))?;
    let days = q.expiring_within_days.unwrap_or(DEFAULT_EXPIRING_DAYS);
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let report = app
        .store
        .training_report(area, &actor.scope, days)
        .await
        .map_err(listing)?;
    if !csv {
        return Ok(Json(report_types::Training::from(report)).into_response());
    }
    let failed = |e: csv::Error| ApiError::Store(StoreError::Unavailable(e.to_string()));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER).map_err(failed)?;
    for r in std::iter::once(&report.area).chain(&report.children) {
        out.write_record(csv_row(r, days)).map_err(failed)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| failed(e.into_error().into()))?;
    Ok(csv_response(body, "training.csv"))
}
