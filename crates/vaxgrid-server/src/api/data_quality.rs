//! /api/v1/reports/data-quality: persons of an area per data-quality check
//! (likely duplicates, missing phone, missing ID, implausible dates, no
//! home village), for the area and each child (JSON or CSV), and the
//! persons behind each count (`/persons`, paged JSON or the whole list as
//! CSV), so a commune statistician can fix their list before a wave.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::data_quality::Check;
use vaxgrid_core::spreadsheet::safe_cell;
use vaxgrid_store::data_quality::{QualityPerson, QualityRow};

use super::aefi::{csv_failed, csv_response, paged_csv, wants_csv};
use super::lists::{listing, page_request};
use super::report_types;
use super::types::Page;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

/// The most persons one CSV answer holds (a large commune's list).
pub const PERSONS_CSV_MAX: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityQuery {
    area: Option<String>,
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityPersonsQuery {
    area: Option<String>,
    check: Option<String>,
    format: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

fn area_of(area: Option<&str>) -> Result<&str, ApiError> {
    area.filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("area", "area (an area code) is required"))
}

pub const REPORT_CSV_HEADER: [&str; 8] = [
    "area_code",
    "area_name",
    "persons",
    "likely_duplicate",
    "missing_phone",
    "missing_id",
    "implausible_dates",
    "no_home_village",
];

fn report_row(r: &QualityRow) -> [String; 8] {
    let mut row = [
        r.area_code.clone(),
        safe_cell(&r.area_name).into_owned(),
        r.persons.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    for (i, c) in Check::ALL.iter().enumerate() {
        row[3 + i] = r.count(*c).to_string();
    }
    row
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/data-quality",
    summary = "Data quality of an area's register: persons (merged records aside) with a likely duplicate (same folded name, birth date and commune, or a pair proposed and not decided), missing phone, missing ID (registered without a document), implausible dates (born in the future or over 120 years ago, a dose before birth or in the future) or no home village (home area above the lowest level), for the area and each child; the persons behind each count: GET /api/v1/reports/data-quality/persons. JSON, or format=csv: area_code,area_name,persons,likely_duplicate,missing_phone,missing_id,implausible_dates,no_home_village (the area first)",
    params(
        ("area" = String, Query, description = "area code, in the caller's areas"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "{as_of, area{area_code, area_name, persons, likely_duplicate, missing_phone, missing_id, implausible_dates, no_home_village}, children[] (the same)}; or text/csv", content((report_types::DataQuality = "application/json"), (String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn report(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<QualityQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    let area = area_of(q.area.as_deref())?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let report = app
        .store
        .data_quality(area, &actor.scope)
        .await
        .map_err(listing)?;
    if !csv {
        return Ok(Json(report_types::DataQuality::from(report)).into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(REPORT_CSV_HEADER).map_err(csv_failed)?;
    for r in std::iter::once(&report.area).chain(&report.children) {
        out.write_record(report_row(r)).map_err(csv_failed)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| csv_failed(e.into_error().into()))?;
    Ok(csv_response(body, "data-quality.csv"))
}

fn check_of(raw: Option<&str>) -> Result<Option<Check>, ApiError> {
    match raw {
        None | Some("any") => Ok(None),
        Some(s) => Check::parse(s).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "check",
                format!("check is any or one of {}, not '{s}'", Check::names()),
            )
        }),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/data-quality/persons",
    summary = "The persons behind a count of the data-quality report, by id, each with every check they fail (problems[]). JSON pages ({items, next_cursor}), or format=csv: the whole list (at most 100,000 persons). The read is audited.",
    params(
        ("area" = String, Query, description = "area code, in the caller's areas"),
        ("check" = Option<String>, Query, description = "likely_duplicate, missing_phone, missing_id, implausible_dates, no_home_village, or any (default)"),
        ("format" = Option<String>, Query, description = "json (default, paged) or csv (the whole list)"),
        ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque); JSON only"),
        ("limit" = Option<i64>, Query, description = "rows per page, 1–500; JSON only"),
    ),
    responses(
        (status = 200, description = "{items[{person_id, full_name, birth_date, sex, id_type, id_number, phone, home_area, problems[]}], next_cursor}; or text/csv with those columns (problems joined by ';')", content((Page<report_types::QualityFinding> = "application/json"), (String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn persons(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<QualityPersonsQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    if csv && (q.after.is_some() || q.limit.is_some()) {
        let field = if q.after.is_some() { "after" } else { "limit" };
        return Err(ApiError::bad_request(
            field,
            "format=csv is the whole list; pages are JSON",
        ));
    }
    let page = page_request(q.after.clone(), q.limit)?;
    let area = area_of(q.area.as_deref())?;
    let check = check_of(q.check.as_deref())?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    if !csv {
        let page = app
            .store
            .data_quality_persons(area, check, &page, &actor)
            .await
            .map_err(listing)?;
        return Ok(Json(Page::<report_types::QualityFinding>::from(page)).into_response());
    }
    let (store, actor) = (&app.store, &actor);
    paged_csv(
        &PERSONS_CSV_HEADER,
        PERSONS_CSV_MAX,
        format!("the list has more than {PERSONS_CSV_MAX} persons: ask for a smaller area or one check, or page through format=json"),
        "data-quality-persons.csv",
        |request| async move {
            store
                .data_quality_persons(area, check, &request, actor)
                .await
                .map_err(listing)
        },
        person_row,
    )
    .await
}

pub const PERSONS_CSV_HEADER: [&str; 9] = [
    "person_id",
    "full_name",
    "birth_date",
    "sex",
    "id_type",
    "id_number",
    "phone",
    "home_area",
    "problems",
];

fn person_row(p: &QualityPerson) -> [String; 9] {
    let cell = |s: &str| safe_cell(s).into_owned();
    [
        p.person_id.clone(),
        cell(&p.full_name),
        p.birth_date.clone(),
        p.sex.clone(),
        p.id_type.clone(),
        cell(&p.id_number),
        cell(p.phone.as_deref().unwrap_or("")),
        p.home_area.clone(),
        p.problems.join(";"),
    ]
}
