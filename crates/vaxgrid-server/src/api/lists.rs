//! The lists of campaign operations: every one takes `after` (the
//! `next_cursor` of the page before) and `limit` (1–500, default 50) beside
//! its filters, and answers `{items, next_cursor}`. See
//! `vaxgrid_store::paging` and `vaxgrid_store::lists`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_store::lists::{
    AppointmentFilter, CampaignFilter, ClassFilter, InvestigationFilter, SessionFilter,
};
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::StoreError;

use crate::api::aefi_types::Investigation;
use crate::api::campaign_types::{Campaign, Wave};
use crate::api::scheduling_types::{Appointment, Session};
use crate::api::training_types::{ClassWithExams, TrainingClass};
use crate::api::types::Page;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{date_field, uuid_field, ApiQuery};
use crate::AppState;

/// The page asked for; a bad limit is a 400 naming it.
pub fn page_request(after: Option<String>, limit: Option<u32>) -> Result<PageRequest, ApiError> {
    PageRequest::new(after, limit).map_err(listing)
}

/// A cursor or a filter that cannot be read is a malformed request (400);
/// an area named in a filter that is not among the caller's is a 404.
pub fn listing(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid { field, message } => ApiError::bad_request(field, message),
        StoreError::NotFound { .. } => ApiError::lookup(e),
        other => ApiError::Store(other),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignQuery {
    area: Option<String>,
    disease: Option<String>,
    running_on: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/campaigns: the campaigns over or within the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns",
    summary = "Campaigns over or within the caller's areas, by id",
    params(("area" = Option<String>, Query, description = "over this area or within it"), ("disease" = Option<String>, Query, description = "e.g. COVID-19"), ("running_on" = Option<String>, Query, description = "with a wave running this day"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<Campaign>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn campaigns(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<CampaignQuery>,
) -> Result<Response, ApiError> {
    let page = page_request(q.after, q.limit)?;
    let actor = caller.actor(&app, Permission::ReadReference).await?;
    let filter = CampaignFilter {
        area: q.area,
        disease: q.disease,
        running_on: day("running_on", q.running_on)?,
    };
    let list = app
        .store
        .list_campaigns(&filter, &page, &actor.scope)
        .await
        .map_err(listing)?;
    Ok(Json(Page::<Campaign>::from(list)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveQuery {
    running_on: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/campaigns/{id}/waves
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/waves",
    summary = "The waves of a campaign, in order",
    params(("id" = String, Path, description = "campaign id"), ("running_on" = Option<String>, Query, description = "running this day"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<Wave>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn waves(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaveQuery>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let page = page_request(q.after, q.limit)?;
    let actor = caller.actor(&app, Permission::ReadReference).await?;
    let running_on = day("running_on", q.running_on)?;
    let list = app
        .store
        .list_waves(&id, running_on.as_deref(), &page, &actor.scope)
        .await
        .map_err(listing)?;
    Ok(Json(Page::<Wave>::from(list)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    site: Option<String>,
    area: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/sessions: sessions at sites in the caller's areas, by day.
/// Each session's slots are at /api/v1/sessions/{id}.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    summary = "Vaccination sessions at sites in the caller's areas, by day (slots at /api/v1/sessions/{id})",
    params(("site" = Option<String>, Query, description = "site code"), ("area" = Option<String>, Query, description = "sites within this area"), ("from" = Option<String>, Query, description = "first day"), ("to" = Option<String>, Query, description = "last day"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<Session>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn sessions(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<Response, ApiError> {
    let page = page_request(q.after, q.limit)?;
    let actor = caller.actor(&app, Permission::ReadReference).await?;
    let filter = SessionFilter {
        site: q.site,
        area: q.area,
        from: day("from", q.from)?,
        to: day("to", q.to)?,
    };
    let list = app
        .store
        .list_sessions(&filter, &page, &actor.scope)
        .await
        .map_err(listing)?;
    Ok(Json(Page::<Session>::from(list)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentQuery {
    site: Option<String>,
    day: Option<String>,
    person: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/appointments: per site and day, or per person.
#[utoipa::path(
    get,
    path = "/api/v1/appointments",
    summary = "Appointments per site and day, or per person, by time",
    params(("site" = Option<String>, Query, description = "site code"), ("day" = Option<String>, Query, description = "the session's day"), ("person" = Option<String>, Query, description = "person id"), ("status" = Option<String>, Query, description = "booked, cancelled or no_show"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<Appointment>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn appointments(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<AppointmentQuery>,
) -> Result<Response, ApiError> {
    let page = page_request(q.after, q.limit)?;
    if let Some(s) = q.status.as_deref() {
        if !["booked", "cancelled", "no_show"].contains(&s) {
            return Err(ApiError::bad_request(
                "status",
                format!("status is booked, cancelled or no_show, not '{s}'"),
            ));
        }
    }
    let person = q.person.map(|p| uuid_field("person", &p)).transpose()?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let filter = AppointmentFilter {
        site: q.site,
        day: day("day", q.day)?,
        person,
        status: q.status,
    };
    let list = app
        .store
        .list_appointments(&filter, &page, &actor.scope)
        .await
        .map_err(listing)?;
    Ok(Json(Page::<Appointment>::from(list)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassQuery {
    topic: Option<String>,
    trainer: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/training/classes
#[utoipa::path(
    get,
    path = "/api/v1/training/classes",
    summary = "Training classes by first day",
    params(("topic" = Option<String>, Query, description = "exact topic"), ("trainer" = Option<String>, Query, description = "trainer's user name"), ("from" = Option<String>, Query, description = "running on or after"), ("to" = Option<String>, Query, description = "starting on or before"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<TrainingClass>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn classes(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ClassQuery>,
) -> Result<Response, ApiError> {
    let page = page_request(q.after, q.limit)?;
    let filter = ClassFilter {
        topic: q.topic,
        trainer: q.trainer,
        from: day("from", q.from)?,
        to: day("to", q.to)?,
    };
    let list = app
        .store
        .list_classes(&filter, &page)
        .await
        .map_err(listing)?;
    Ok(Json(Page::<TrainingClass>::from(list)).into_response())
}

/// GET /api/v1/training/classes/{id}: the class, its attendees and exams.
#[utoipa::path(
    get,
    path = "/api/v1/training/classes/{id}",
    summary = "A training class with its attendees and exams",
    params(("id" = String, Path, description = "class id")),
    responses(
        (status = 200, description = "the class, attendees and exams", body = ClassWithExams),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn class(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClassWithExams>, ApiError> {
    Ok(Json(
        app.store
            .class_detail(&id)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvestigationQuery {
    site: Option<String>,
    area: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/investigations: serious adverse events under investigation
/// at sites in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/investigations",
    summary = "Investigations of serious adverse events at sites in the caller's areas",
    params(("site" = Option<String>, Query, description = "site code"), ("area" = Option<String>, Query, description = "sites within this area"), ("status" = Option<String>, Query, description = "open or assessed"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}: next_cursor is absent on the last page", body = Page<Investigation>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn investigations(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<InvestigationQuery>,
) -> Result<Json<Page<Investigation>>, ApiError> {
    let page = page_request(q.after, q.limit)?;
    if let Some(s) = q.status.as_deref() {
        if !["open", "assessed"].contains(&s) {
            return Err(ApiError::bad_request(
                "status",
                format!("status is open or assessed, not '{s}'"),
            ));
        }
    }
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let filter = InvestigationFilter {
        site: q.site,
        area: q.area,
        status: q.status,
    };
    let list = app
        .store
        .list_investigations(&filter, &page, &actor.scope)
        .await
        .map_err(listing)?;
    Ok(Json(Page::from(list)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteExportQuery {
    area: Option<String>,
}

const EXPORT_PAGE: usize = 1_000;

/// GET /api/v1/sites/export: every site (within `area`) as CSV, streamed
/// page by page: no cap, constant memory. A failure after the first bytes
/// ends the body early (the client sees a truncated transfer, never a
/// short file that looks whole: the body is chunked).
#[utoipa::path(
    get,
    path = "/api/v1/sites/export",
    summary = "Every site (within area) as CSV, streamed: code,name,kind,area_code,stations,daily_capacity",
    params(("area" = Option<String>, Query, description = "sites within this area")),
    responses(
        (status = 200, description = "text/csv", content((String = "text/csv"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn export_sites(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SiteExportQuery>,
) -> Result<Response, ApiError> {
    // Check the filter before the answer starts, so a bad area is a 404.
    let first = app
        .store
        .list_sites(q.area.as_deref(), &PageRequest::first(EXPORT_PAGE))
        .await
        .map_err(listing)?;
    let store = app.store.clone();
    let area = q.area.clone();
    let header = format!("{}\n", vaxgrid_interop::csv::plans::SITE_COLUMNS.join(","));
    let state = (Some(header), Some(first));
    let stream = futures_util::stream::unfold(state, move |(header, page)| {
        let store = store.clone();
        let area = area.clone();
        async move {
            if let Some(h) = header {
                return Some((Ok(bytes::Bytes::from(h)), (None, page)));
            }
            let page = page?;
            let mut out = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            for s in &page.items {
                // In the order of the header, `SITE_COLUMNS`.
                let row = [
                    s.code.clone(),
                    vaxgrid_core::spreadsheet::safe_cell(&s.name).into_owned(),
                    s.kind.as_str().to_string(),
                    s.area_code.clone(),
                    s.stations.to_string(),
                    s.daily_capacity.to_string(),
                ];
                if out.write_record(&row).is_err() {
                    return Some((Err(std::io::Error::other("csv")), (None, None)));
                }
            }
            let chunk = out.into_inner().unwrap_or_default();
            let next = match page.next_cursor {
                None => None,
                Some(c) => {
                    let req = PageRequest {
                        after: Some(c),
                        limit: EXPORT_PAGE,
                    };
                    match store.list_sites(area.as_deref(), &req).await {
                        Ok(p) => Some(p),
                        Err(e) => {
                            tracing::error!(error = %e, "site export stopped");
                            return Some((Err(std::io::Error::other(e.to_string())), (None, None)));
                        }
                    }
                }
            };
            Some((Ok(bytes::Bytes::from(chunk)), (None, next)))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sites.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
