//! /api/v1/reports/aefi: adverse events following immunization of an area
//! counted by product, lot, child area, wave, severity, seriousness and
//! outcome with rates per 100,000 doses (JSON or CSV), and the events
//! behind each figure (`/events`, paged JSON or the whole list as CSV).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::aefi::AefiOutcome;
use vaxgrid_core::spreadsheet::safe_cell;
use vaxgrid_core::visit::Severity;
use vaxgrid_store::aefi::{AefiEventRow, AefiFigure, AefiFilter, AefiReportOf};
use vaxgrid_store::model::Page;
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::StoreError;

use super::lists::{listing, page_request};
use crate::api::aefi_types::{AefiEvent, AefiReport};
use crate::api::types::Page as ApiPage;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{date_field, uuid_field, ApiQuery};
use crate::AppState;

/// The most events one CSV answer holds: beyond, a smaller area or fewer
/// days is asked for (a province's whole history is an export's job).
pub const EVENTS_CSV_MAX: usize = 100_000;
const CSV_PAGE: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AefiQuery {
    area: Option<String>,
    campaign: Option<String>,
    wave: Option<String>,
    product: Option<String>,
    lot: Option<String>,
    from: Option<String>,
    to: Option<String>,
    severity: Option<String>,
    serious: Option<String>,
    outcome: Option<String>,
    format: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// Whether CSV is asked for (`format=csv`); JSON otherwise.
pub(crate) fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "format",
            format!("format must be json or csv, not '{other}'"),
        )),
    }
}

fn day(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| date_field(field, &v).map(vaxgrid_store::format_date))
        .transpose()
        .map_err(|e| {
            let (f, m) = e.field_and_message();
            ApiError::bad_request(f, m)
        })
}

/// The filter a query asks for, each value checked (400 naming it).
fn filter_of(q: &AefiQuery) -> Result<AefiFilter, ApiError> {
    let area = q
        .area
        .clone()
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("area", "area (an area code) is required"))?;
    let severity = q
        .severity
        .as_deref()
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    "severity",
                    format!("severity is mild, moderate or severe, not '{s}'"),
                )
            })
        })
        .transpose()?;
    let serious = match q.serious.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(s) => {
            return Err(ApiError::bad_request(
                "serious",
                format!("serious is true or false, not '{s}'"),
            ))
        }
    };
    let outcome = q
        .outcome
        .as_deref()
        .map(|s| {
            AefiOutcome::parse(s).ok_or_else(|| {
                let e = vaxgrid_core::aefi::AefiError::Outcome(s.to_string());
                ApiError::bad_request("outcome", e.to_string())
            })
        })
        .transpose()?;
    let campaign = q
        .campaign
        .as_deref()
        .map(|c| uuid_field("campaign", c))
        .transpose()?;
    let wave = q
        .wave
        .clone()
        .map(|w| uuid::Uuid::parse_str(&w).map_or(w, |u| u.hyphenated().to_string()));
    Ok(AefiFilter {
        area,
        campaign,
        wave,
        product: q.product.clone(),
        lot: q.lot.clone(),
        from: day("from", q.from.clone())?,
        to: day("to", q.to.clone())?,
        severity,
        serious,
        outcome,
    })
}

/// A store refusal of a report: a filter that cannot be read is a 400, an
/// area, campaign or wave outside the caller's is a 404 like a missing one.
fn refused(e: StoreError) -> ApiError {
    listing(e)
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/aefi",
    summary = "Adverse events following immunization in an area and its children: events, serious events and deaths with rates per 100,000 doses (doses by the person's home area, valid doses only), in total and by product, lot, child area, wave (with campaign), severity, seriousness and outcome; each figure carries the filter of the list behind it (GET /api/v1/reports/aefi/events). JSON, or format=csv: dimension,key,label,events,serious,deaths,doses,rate_per_100k",
    params(
        ("area" = String, Query, description = "area code, in the caller's areas"),
        ("campaign" = Option<String>, Query, description = "campaign id: its products, and a figure per wave"),
        ("wave" = Option<String>, Query, description = "wave id (with campaign): doses given in its days"),
        ("product" = Option<String>, Query, description = "product code"),
        ("lot" = Option<String>, Query, description = "lot number (doses from the dose records)"),
        ("from" = Option<String>, Query, description = "doses given on or after (YYYY-MM-DD)"),
        ("to" = Option<String>, Query, description = "doses given on or before (YYYY-MM-DD)"),
        ("severity" = Option<String>, Query, description = "mild, moderate or severe"),
        ("serious" = Option<String>, Query, description = "true or false"),
        ("outcome" = Option<String>, Query, description = "recovered, recovered_with_sequelae, hospitalised, death or unknown"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "{area_code, area_name, total, by_product[], by_lot[], by_area[], by_wave[], by_severity[], by_seriousness[], by_outcome[]}: each figure {key, label, events, serious, deaths, doses, rate_per_100k, filter}; or text/csv", content((AefiReport = "application/json"), (String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn report(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<AefiQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(q.format.as_deref())?;
    if q.after.is_some() || q.limit.is_some() {
        let field = if q.after.is_some() { "after" } else { "limit" };
        return Err(ApiError::bad_request(
            field,
            "the report is one answer; pages are for /api/v1/reports/aefi/events",
        ));
    }
    let filter = filter_of(&q)?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let report = app
        .store
        .aefi_report(&filter, &actor.scope)
        .await
        .map_err(refused)?;
    if !csv {
        return Ok(Json(AefiReport::from(report)).into_response());
    }
    let body = report_csv(&report).map_err(csv_failed)?;
    Ok(csv_response(body, "aefi.csv"))
}

pub(crate) fn csv_failed(e: csv::Error) -> ApiError {
    ApiError::Store(StoreError::Unavailable(e.to_string()))
}

pub(crate) fn csv_response(body: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub const REPORT_CSV_HEADER: [&str; 8] = [
    "dimension",
    "key",
    "label",
    "events",
    "serious",
    "deaths",
    "doses",
    "rate_per_100k",
];

/// The report as rows, one per figure, the total first.
fn report_csv(r: &AefiReportOf) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(REPORT_CSV_HEADER)?;
    let parts: [(&str, &[AefiFigure]); 8] = [
        ("total", std::slice::from_ref(&r.total)),
        ("product", &r.by_product),
        ("lot", &r.by_lot),
        ("area", &r.by_area),
        ("wave", &r.by_wave),
        ("severity", &r.by_severity),
        ("seriousness", &r.by_seriousness),
        ("outcome", &r.by_outcome),
    ];
    for (dimension, figures) in parts {
        for f in figures {
            out.write_record([
                dimension.to_string(),
                safe_cell(&f.key).into_owned(),
                safe_cell(&f.label).into_owned(),
                f.events.to_string(),
                f.serious.to_string(),
                f.deaths.to_string(),
                f.doses.to_string(),
                f.rate_per_100k.map(|v| v.to_string()).unwrap_or_default(),
            ])?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/aefi/events",
    summary = "The adverse events behind a figure of the AEFI report (the same filters), newest first, with the person, the dose's product, lot, site and day, onset, severity, seriousness, outcome, treatment, symptoms and investigation. JSON pages ({items, next_cursor}), or format=csv: the whole list (at most 100,000 events). The read is audited.",
    params(
        ("area" = String, Query, description = "area code, in the caller's areas"),
        ("campaign" = Option<String>, Query, description = "campaign id"),
        ("wave" = Option<String>, Query, description = "wave id (with campaign)"),
        ("product" = Option<String>, Query, description = "product code"),
        ("lot" = Option<String>, Query, description = "lot number"),
        ("from" = Option<String>, Query, description = "doses given on or after (YYYY-MM-DD)"),
        ("to" = Option<String>, Query, description = "doses given on or before (YYYY-MM-DD)"),
        ("severity" = Option<String>, Query, description = "mild, moderate or severe"),
        ("serious" = Option<String>, Query, description = "true or false"),
        ("outcome" = Option<String>, Query, description = "recovered, recovered_with_sequelae, hospitalised, death or unknown"),
        ("format" = Option<String>, Query, description = "json (default, paged) or csv (the whole list)"),
        ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque); JSON only"),
        ("limit" = Option<i64>, Query, description = "rows per page, 1–500; JSON only"),
    ),
    responses(
        (status = 200, description = "{items[{id, visit_id, person_id, full_name, product_code, lot_number, site_code, area_code, dose_on, onset, severity, serious, outcome, treatment, symptoms[], investigation_id}], next_cursor}; or text/csv with those columns", content((ApiPage<AefiEvent> = "application/json"), (String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn events(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<AefiQuery>,
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
    let filter = filter_of(&q)?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    if !csv {
        let page = app
            .store
            .aefi_events(&filter, &page, &actor)
            .await
            .map_err(refused)?;
        return Ok(Json(ApiPage::<AefiEvent>::from(page)).into_response());
    }
    let (store, filter, actor) = (&app.store, &filter, &actor);
    paged_csv(
        &EVENTS_CSV_HEADER,
        EVENTS_CSV_MAX,
        format!("the list has more than {EVENTS_CSV_MAX} events: ask for a smaller area or fewer days, or page through format=json"),
        "aefi-events.csv",
        |request| async move { store.aefi_events(filter, &request, actor).await.map_err(refused) },
        event_row,
    )
    .await
}

/// A list's whole CSV, read through `fetch` a page of CSV_PAGE rows at a
/// time; past `max` rows it is refused on `area` (with `too_many`) rather
/// than held in memory.
pub(crate) async fn paged_csv<T, R, F, Fut>(
    header: &[&str],
    max: usize,
    too_many: String,
    name: &str,
    mut fetch: F,
    row: impl Fn(&T) -> R,
) -> Result<Response, ApiError>
where
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, ApiError>>,
{
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header).map_err(csv_failed)?;
    let mut request = PageRequest::first(CSV_PAGE);
    let mut count = 0;
    loop {
        let page = fetch(request).await?;
        count += page.items.len();
        if count > max {
            return Err(ApiError::invalid("area", too_many));
        }
        for item in &page.items {
            out.write_record(row(item)).map_err(csv_failed)?;
        }
        let Some(after) = page.next_cursor else {
            break;
        };
        request = PageRequest {
            after: Some(after),
            limit: CSV_PAGE,
        };
    }
    let body = out
        .into_inner()
        .map_err(|e| csv_failed(e.into_error().into()))?;
    Ok(csv_response(body, name))
}

pub const EVENTS_CSV_HEADER: [&str; 16] = [
    "id",
    "visit_id",
    "person_id",
    "full_name",
    "product_code",
    "lot_number",
    "site_code",
    "area_code",
    "dose_on",
    "onset",
    "severity",
    "serious",
    "outcome",
    "treatment",
    "symptoms",
    "investigation_id",
];

fn event_row(e: &AefiEventRow) -> [String; 16] {
    let cell = |s: &str| safe_cell(s).into_owned();
    [
        e.id.clone(),
        e.visit_id.clone(),
        e.person_id.clone(),
        cell(&e.full_name),
        cell(&e.product_code),
        cell(&e.lot_number),
        cell(&e.site_code),
        e.area_code.clone(),
        e.dose_on.clone(),
        e.onset.clone(),
        e.severity.clone(),
        e.serious.to_string(),
        e.outcome.clone(),
        cell(e.treatment.as_deref().unwrap_or("")),
        cell(&e.symptoms.join("; ")),
        e.investigation_id.clone().unwrap_or_default(),
    ]
}
