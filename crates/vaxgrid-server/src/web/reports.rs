//! The report pages (`/reports…`, texts in `locales/*/reports.ftl`), for
//! the roles holding `ReadReports`: the AEFI report of an area with the
//! events behind the figure chosen (`aefi`), the data-quality report with
//! the persons behind a count (`quality`) and the training report
//! (`training`). All read the store functions behind the API's routes, so
//! figures, scope (another area is the 404 page) and audit are one; all
//! link the CSV of the API.

use std::collections::HashMap;

use axum::routing::get;
use vaxgrid_core::access::Permission;

use super::PageCtx;
use crate::auth::Policy;
use crate::error::ApiError;
use crate::i18n::tkey;
use crate::{r, AppState, RouteDef};

pub mod aefi;
pub mod quality;
pub mod training;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    let reads = Policy::Needs(Permission::ReadReports);
    vec![
        r(M::GET, "/reports/aefi", reads, get(aefi::page)),
        r(M::GET, "/reports/data-quality", reads, get(quality::page)),
        r(M::GET, "/reports/training", reads, get(training::page)),
    ]
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if super::supply::holds(ctx, Permission::ReadReports) {
        vec![
            ("/reports/aefi".to_string(), tkey("reports-nav-aefi")),
            (
                "/reports/data-quality".to_string(),
                tkey("reports-nav-quality"),
            ),
            (
                "/reports/training".to_string(),
                tkey("reports-nav-training"),
            ),
        ]
    } else {
        Vec::new()
    }
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(aefi::page, quality::page, training::page))]
pub struct Pages;

/// The query's fields, refusing any not in `known` (400 naming it).
pub(crate) fn fields_of(
    raw: Option<&str>,
    known: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    let fields = super::admin::query_fields(raw);
    for k in fields.keys() {
        if !known.contains(&k.as_str()) {
            return Err(ApiError::bad_request(
                k,
                format!("unknown query field '{k}'"),
            ));
        }
    }
    Ok(fields)
}

/// The area asked for, or the caller's first area (the country's first
/// province for a caller over all of them).
pub(crate) async fn area_or_first(
    app: &AppState,
    scope: &vaxgrid_store::scope::Scope,
    asked: Option<String>,
) -> Result<String, ApiError> {
    if let Some(a) = asked {
        return Ok(a);
    }
    let roots = app.store.scope_roots(scope).await?;
    roots
        .into_iter()
        .next()
        .map(|a| a.code)
        .ok_or_else(|| ApiError::bad_request("area", "no area is registered yet"))
}

/// One link of the path from the caller's first area down to the one shown.
pub struct Crumb {
    pub href: String,
    pub name: String,
}

/// The areas from the top of the caller's scope down to `code`, each a
/// link to the same page for that area.
pub(crate) async fn crumbs(
    app: &AppState,
    scope: &vaxgrid_store::scope::Scope,
    code: &str,
    page: &str,
) -> Result<Vec<Crumb>, ApiError> {
    let mut out = Vec::new();
    let mut next = Some(code.to_string());
    while let Some(c) = next {
        let area = app.store.area(&c).await?;
        if !scope.covers_path(&area.path) {
            break;
        }
        out.push(Crumb {
            href: super::admin::href(page, &[("area", &area.code)]),
            name: area.name.clone(),
        });
        next = area.parent_code.clone();
    }
    out.reverse();
    Ok(out)
}
