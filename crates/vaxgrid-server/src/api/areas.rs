//! /api/v1/areas

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use vaxgrid_core::area::AreaLevel;
use vaxgrid_store::model::NewArea;

use super::types::{Area, AreaBorder, Imported, Page};

use crate::error::{ApiError, RowProblem};
use crate::extract::{page_limit, ApiJson, ApiQuery, CsvBody};
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildrenQuery {
    parent: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/areas",
    summary = "Children of an area (provinces when no parent)",
    params(("parent" = Option<String>, Query, description = "parent area code"), ("after" = Option<String>, Query, description = "cursor: next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "page size 1..500 (default 50)")),
    responses(
        (status = 200, description = "OK", body = Page<Area>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ChildrenQuery>,
) -> Result<Json<Page<Area>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let page = app
        .store
        .area_children(q.parent.as_deref(), q.after.as_deref(), limit)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(Page::from(page)))
}

#[utoipa::path(
    get,
    path = "/api/v1/areas/{code}",
    summary = "One area",
    params(("code" = String, Path, description = "area code")),
    responses(
        (status = 200, description = "OK", body = Area),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Area>, ApiError> {
    Ok(Json(
        app.store
            .area(&code)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    code: String,
    parent_code: Option<String>,
    level: AreaLevel,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
}

impl From<AreaBody> for NewArea {
    fn from(b: AreaBody) -> NewArea {
        NewArea {
            name_en: b.name_en.unwrap_or_else(|| b.name.clone()),
            code: b.code,
            parent_code: b.parent_code,
            level: b.level,
            name: b.name,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/areas",
    summary = "Create an area",
    request_body = AreaBody,
    responses(
        (status = 201, description = "Created", body = Area),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(body): ApiJson<AreaBody>,
) -> Result<(StatusCode, Json<Area>), ApiError> {
    let area = app
        .store
        .create_area(
            body.into(),
            &caller
                .actor(&app, vaxgrid_core::access::Permission::ManageReference)
                .await?,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(area.into())))
}

/// CSV columns: code,parent_code,level,name,name_en. All rows or none.
#[utoipa::path(
    post,
    path = "/api/v1/areas/import",
    summary = "Import areas from CSV (code,parent_code,level,name,name_en); all rows or none",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "OK", body = Imported),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes.as_ref());
    // A header that does not read fails its first row too, named `row`.
    let header = reader.headers().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.deserialize::<AreaBody>().enumerate() {
        match record {
            Ok(r) => rows.push(NewArea::from(r)),
            Err(e) => errors.push(RowProblem {
                row: i + 1,
                field: vaxgrid_interop::csv::error_field(&e, &header),
                message: vaxgrid_interop::csv::error_message(&e),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Rows {
            count: errors.len() + rows.len(),
            errors,
        });
    }
    let created = app
        .store
        .create_areas(
            rows,
            &caller
                .actor(&app, vaxgrid_core::access::Permission::ManageReference)
                .await?,
        )
        .await
        .map_err(|e| match e {
            vaxgrid_store::StoreError::Invalid { field, message } => {
                ApiError::invalid(field, message)
            }
            other => ApiError::Store(other),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            imported: created.len(),
        }),
    ))
}

/// An area's distance from the national border (the allocation weighs by
/// it) and its region group.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BorderBody {
    /// km from the border, 0–5000; null clears it.
    border_km: Option<i64>,
    /// e.g. "border-8-counties"; null or blank clears it.
    region_group: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/areas/{code}/border",
    summary = "An area's distance from the national border in km and its region group: {area_code, border_km, region_group}",
    params(("code" = String, Path, description = "area code")),
    responses(
        (status = 200, description = "{area_code, border_km, region_group}", body = AreaBorder),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_border(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let b = app
        .store
        .area_border(&code)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(AreaBorder::from(b)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/areas/{code}/border",
    summary = "Set an area's distance from the national border (km, 0–5000, null clears) and its region group (audited). Refused naming the field: a distance below 0 or above 5000, a group over 64 characters.",
    params(("code" = String, Path, description = "area code")),
    request_body = BorderBody,
    responses(
        (status = 200, description = "{area_code, border_km, region_group}", body = AreaBorder),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_border(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<BorderBody>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::ManageReference)
        .await?;
    app.store.area(&code).await.map_err(ApiError::lookup)?;
    let km = body
        .border_km
        .map(|k| {
            u32::try_from(k).ok().filter(|k| *k <= 5000).ok_or_else(|| {
                ApiError::invalid("border_km", "a distance from the border is 0 to 5000 km")
            })
        })
        .transpose()?;
    let b = app
        .store
        .set_area_border(&code, km, body.region_group.as_deref(), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(AreaBorder::from(b)).into_response())
}
