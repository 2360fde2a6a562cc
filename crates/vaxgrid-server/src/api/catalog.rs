//! /api/v1/products, /api/v1/lots, /api/v1/sites

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::product::Product;
use vaxgrid_store::model::{self, SiteKind};

use super::types::{Lot, Page, Site};

use crate::error::ApiError;
use crate::extract::{page_limit, ApiJson, ApiQuery};
use crate::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/products",
    summary = "Vaccine products",
    responses(
        (status = 200, description = "OK", body = Vec<Product>),
    )
)]
pub async fn products(State(app): State<AppState>) -> Result<Json<Vec<Product>>, ApiError> {
    Ok(Json(app.store.products().await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/products/{code}",
    summary = "One product",
    params(("code" = String, Path, description = "product code")),
    responses(
        (status = 200, description = "OK", body = Product),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn product(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Product>, ApiError> {
    Ok(Json(
        app.store.product(&code).await.map_err(ApiError::lookup)?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/products",
    summary = "Create a product",
    request_body = Product,
    responses(
        (status = 201, description = "OK", body = Product),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_product(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(p): ApiJson<Product>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            app.store
                .create_product(
                    &p,
                    &caller
                        .actor(&app, vaxgrid_core::access::Permission::ManageReference)
                        .await?,
                )
                .await?,
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotQuery {
    product_code: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/lots",
    summary = "Lots",
    params(("product_code" = Option<String>, Query, description = "filter by product")),
    responses(
        (status = 200, description = "OK", body = Vec<Lot>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn lots(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<LotQuery>,
) -> Result<Json<Vec<Lot>>, ApiError> {
    Ok(Json(
        app.store
            .lots(q.product_code.as_deref())
            .await?
            .into_iter()
            .map(Lot::from)
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/lots/{product_code}/{lot_number}",
    summary = "One lot",
    params(("product_code" = String, Path, description = "product"), ("lot_number" = String, Path, description = "lot number")),
    responses(
        (status = 200, description = "OK", body = Lot),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn lot(
    State(app): State<AppState>,
    Path((product, number)): Path<(String, String)>,
) -> Result<Json<Lot>, ApiError> {
    Ok(Json(
        app.store
            .lot(&product, &number)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotBody {
    product_code: String,
    lot_number: String,
    expiry: String,
    #[serde(default = "released")]
    status: LotStatus,
    doses: i64,
}

fn released() -> LotStatus {
    LotStatus::Released
}

#[utoipa::path(
    post,
    path = "/api/v1/lots",
    summary = "Create a lot",
    request_body = LotBody,
    responses(
        (status = 201, description = "OK", body = Lot),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_lot(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(b): ApiJson<LotBody>,
) -> Result<(StatusCode, Json<Lot>), ApiError> {
    let lot = model::Lot {
        product_code: b.product_code,
        lot_number: b.lot_number.trim().to_string(),
        expiry: b.expiry,
        status: b.status,
        doses: b.doses,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            app.store
                .create_lot(
                    &lot,
                    &caller
                        .actor(&app, vaxgrid_core::access::Permission::ManageReference)
                        .await?,
                )
                .await?
                .into(),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteQuery {
    area: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/sites",
    summary = "Sites in an area subtree",
    params(("area" = Option<String>, Query, description = "area code"), ("after" = Option<String>, Query, description = "cursor: next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "page size 1..500 (default 50)")),
    responses(
        (status = 200, description = "OK", body = Page<Site>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn sites(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SiteQuery>,
) -> Result<Json<Page<Site>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let page = app
        .store
        .sites(q.area.as_deref(), q.after.as_deref(), limit)
        .await
        .map_err(|e| match e {
            vaxgrid_store::StoreError::NotFound { key, .. } => {
                ApiError::bad_request("area", crate::error::absent("area", &key))
            }
            other => ApiError::Store(other),
        })?;
    Ok(Json(Page::from(page)))
}

#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}",
    summary = "One site",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "OK", body = Site),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn site(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(
        app.store
            .site(&code)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    code: String,
    name: String,
    #[schema(value_type = super::types::SiteKind)]
    kind: SiteKind,
    area_code: String,
    stations: i64,
    daily_capacity: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/sites",
    summary = "Create a site",
    request_body = SiteBody,
    responses(
        (status = 201, description = "OK", body = Site),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_site(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(b): ApiJson<SiteBody>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let site = model::Site {
        code: b.code,
        name: b.name,
        kind: b.kind,
        area_code: b.area_code,
        stations: b.stations,
        daily_capacity: b.daily_capacity,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            app.store
                .create_site(
                    &site,
                    &caller
                        .actor(&app, vaxgrid_core::access::Permission::ManageReference)
                        .await?,
                )
                .await?
                .into(),
        ),
    ))
}
