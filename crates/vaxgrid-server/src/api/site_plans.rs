//! /api/v1/sites/import and /api/v1/sessions/import: a provincial plan's
//! sites and sessions from CSV, all rows or none, each row checked as the
//! single create checks it. The files' layouts are
//! `vaxgrid_interop::csv::plans`; the readers here (a row into a site, a
//! row into a session) are shared with `vaxgrid import sites` and `vaxgrid
//! import sessions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use vaxgrid_core::access::Permission;
use vaxgrid_interop::csv::plans::{read_table, whole, SITE_COLUMNS};
use vaxgrid_store::model::{Actor, Site, SiteKind};
use vaxgrid_store::scheduling::NewSession;
use vaxgrid_store::site_plans::{PlanImported, PlanMode};

use crate::api::scheduling::{new_session, SessionBody};
use crate::api::types::{Catchment, PlanImported as Imported};
use crate::auth::Caller;
use crate::error::{ApiError, RowProblem};
use crate::extract::CsvBody;
use crate::AppState;

/// A file read: the good rows (1-based row, value) and the bad rows.
pub struct Read<T> {
    pub rows: Vec<(usize, T)>,
    pub errors: Vec<RowProblem>,
}

impl<T> Read<T> {
    fn count(&self) -> usize {
        self.rows.len() + self.errors.len()
    }
}

/// Reads a sites file (`code,name,kind,area_code,stations,daily_capacity`).
pub fn read_sites(bytes: &[u8]) -> Read<Site> {
    let table = read_table(bytes, &SITE_COLUMNS, &[], |cell| {
        let kind = cell("kind");
        Ok(Site {
            code: cell("code"),
            name: cell("name"),
            kind: SiteKind::parse(&kind).ok_or_else(|| {
                (
                    "kind".to_string(),
                    format!("'{kind}' is not a site kind; use commune_health_station, hospital, temporary_site or mobile_team"),
                )
            })?,
            area_code: cell("area_code"),
            stations: whole("stations", &cell("stations"))?,
            daily_capacity: whole("daily_capacity", &cell("daily_capacity"))?,
        })
    });
    Read {
        rows: table.rows,
        errors: table.errors.into_iter().map(RowProblem::from).collect(),
    }
}

/// Reads a sessions file (the fields of `POST /api/v1/sessions`): each row
/// checked as that route checks its body.
pub fn read_sessions(bytes: &[u8]) -> Read<NewSession> {
    let table = vaxgrid_interop::csv::plans::read_sessions(bytes);
    let mut read = Read {
        rows: Vec::with_capacity(table.rows.len()),
        errors: table.errors.into_iter().map(RowProblem::from).collect(),
    };
    for (row, r) in table.rows {
        let body = SessionBody {
            id: r.id,
            site_code: r.site_code,
            day: r.day,
            opens: r.opens,
            closes: r.closes,
            stations: r.stations,
            per_station_per_hour: r.per_station_per_hour,
            slot_minutes: r.slot_minutes,
            village_code: r.village_code,
        };
        match new_session(body) {
            Ok(session) => read.rows.push((row, session)),
            Err(e) => {
                let (field, message) = e.field_and_message();
                read.errors.push(RowProblem {
                    row,
                    field,
                    message,
                });
            }
        }
    }
    // One error at most per row: in row order, as the file has them.
    read.errors.sort_by_key(|e| e.row);
    read
}

/// The rows the store refused, after those the reader refused, by row.
fn refused(mut read: Vec<RowProblem>, store: PlanImported, count: usize) -> ApiError {
    read.extend(store.errors.into_iter().map(|e| RowProblem {
        row: e.row,
        field: e.field,
        message: e.message,
    }));
    read.sort_by_key(|p| p.row);
    ApiError::Rows {
        count,
        errors: read,
    }
}

fn mode<T>(read: &Read<T>) -> PlanMode {
    if read.errors.is_empty() {
        PlanMode::AllOrNothing
    } else {
        // Rows already refused: the others are checked, not written, so
        // the answer lists every bad row at once.
        PlanMode::CheckOnly
    }
}

/// Reads a plan file with `reader` off the async threads; a bad header
/// refuses the whole file.
async fn read_plan<T: Send + 'static>(
    bytes: bytes::Bytes,
    reader: fn(&[u8]) -> Read<T>,
) -> Result<Read<T>, ApiError> {
    let read = tokio::task::spawn_blocking(move || reader(&bytes))
        .await
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string())))?;
    if read.errors.iter().any(|e| e.row == 0) {
        return Err(ApiError::Rows {
            count: read.count(),
            errors: read.errors,
        });
    }
    Ok(read)
}

/// What the store did with a file's good rows, or every bad row of the
/// file (the reader's and the store's).
fn imported<T>(read: Read<T>, done: PlanImported) -> Result<PlanImported, ApiError> {
    if !read.errors.is_empty() || !done.errors.is_empty() {
        let count = read.count();
        return Err(refused(read.errors, done, count));
    }
    Ok(done)
}

/// Imports a sites file: the counts, or every bad row (nothing written).
pub async fn import_sites_csv(
    store: &vaxgrid_store::Store,
    bytes: bytes::Bytes,
    actor: &Actor,
) -> Result<PlanImported, ApiError> {
    let read = read_plan(bytes, read_sites).await?;
    let done = store.import_sites(&read.rows, mode(&read), actor).await?;
    imported(read, done)
}

/// Imports a sessions file: the counts, or every bad row (nothing written).
pub async fn import_sessions_csv(
    store: &vaxgrid_store::Store,
    bytes: bytes::Bytes,
    actor: &Actor,
) -> Result<PlanImported, ApiError> {
    let read = read_plan(bytes, read_sessions).await?;
    let done = store
        .import_sessions(&read.rows, mode(&read), actor)
        .await?;
    imported(read, done)
}

/// POST /api/v1/sites/import (text/csv)
#[utoipa::path(
    post,
    path = "/api/v1/sites/import",
    summary = "Import sites from CSV (code,name,kind,area_code,stations,daily_capacity: the layout of GET /api/v1/sites/export). All rows or none: any bad row (a field as POST /api/v1/sites refuses it, an area that does not exist or lies outside the caller's areas, a code taken or repeated in the file) answers 422 with rows[] naming row and field, and nothing is written.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "{imported}", body = Imported),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import_sites(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let done = import_sites_csv(&app.store, bytes, &actor).await?;
    Ok((StatusCode::CREATED, Json(done.into())))
}

/// POST /api/v1/sessions/import (text/csv)
#[utoipa::path(
    post,
    path = "/api/v1/sessions/import",
    summary = "Import sessions and their slots from CSV (id,site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes,village_code; id and village_code optional). All rows or none: any bad row (as POST /api/v1/sessions refuses it: a site outside the caller's areas, a day in the past, closing before opening, no capacity, a session overlapping another of its site that day, stored or on an earlier row; an id taken or repeated) answers 422 with rows[] naming row and field, and nothing is written.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "{imported, slots}", body = Imported),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import_sessions(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    let done = import_sessions_csv(&app.store, bytes, &actor).await?;
    Ok((StatusCode::CREATED, Json(done.into())))
}

/// The areas a site serves.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatchmentBody {
    /// Area codes at the commune level (or the configured equivalent) or
    /// below, in the site's province; empty: the site serves its own
    /// area's subtree.
    pub areas: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/catchment",
    summary = "The communes or villages a site serves: {site_code, areas[{code, name, level}]} (empty: the subtree of its own area)",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "{site_code, areas[{code, name, level}]}", body = Catchment),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn catchment(
    State(app): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Json<Catchment>, ApiError> {
    // Sites are reference data every signed-in user reads.
    Ok(Json(
        app.store
            .catchment(&code, &vaxgrid_store::scope::Scope::All)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/sites/{code}/catchment",
    summary = "Set the communes or villages a site serves (audited); its daily capacity rolls up into them in the capacity report (GET /api/v1/campaigns/{id}/targets, site_capacity). Refused naming the field areas[i], nothing written: an area that does not exist, one above the commune level (or the configured equivalent), one outside the site's province.",
    params(("code" = String, Path, description = "site code")),
    request_body = CatchmentBody,
    responses(
        (status = 200, description = "{site_code, areas[{code, name, level}]}", body = Catchment),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_catchment(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(code): axum::extract::Path<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<CatchmentBody>,
) -> Result<Json<Catchment>, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let areas: Vec<String> = body.areas.iter().map(|a| a.trim().to_string()).collect();
    let done = app
        .store
        .set_catchment(&code, &areas, &actor)
        .await
        .map_err(|e| match e {
            e @ vaxgrid_store::StoreError::NotFound { .. } => ApiError::lookup(e),
            other => ApiError::Store(other),
        })?;
    Ok(Json(done.into()))
}
