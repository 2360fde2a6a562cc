//! /api/v1/area-levels: the levels of the deployment's area tree (2 to 6,
//! top first, each named in vi, zh and en), read by anyone reading the
//! reference data and set by an administrator; /api/v1/areas/reorganisations:
//! merges, splits and moves of areas as dated events, recorded by an
//! administrator and audited (issue 16, "Areas").

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use vaxgrid_core::access::Permission;
use vaxgrid_core::area::{AreaLevels, LevelDef};
use vaxgrid_core::area_reorg::Change;
use vaxgrid_store::reorganise::{NewReorganisation, Reorganisation};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{page_limit, ApiJson, ApiQuery};
use crate::AppState;

/// The levels, top first.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelsBody {
    /// 2 to 6 levels; a key is 1–32 characters of a-z, 0-9 or '_'; each
    /// name (what the pages call the areas of the level) 1–100 characters.
    levels: Vec<LevelDef>,
}

impl From<AreaLevels> for LevelsBody {
    fn from(l: AreaLevels) -> LevelsBody {
        LevelsBody {
            levels: l.all().to_vec(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/area-levels",
    summary = "The levels of the area tree, top first: {levels: [{key, name_vi, name_zh, name_en}]}",
    responses(
        (status = 200, description = "OK", body = LevelsBody),
    )
)]
pub async fn get_levels(State(app): State<AppState>) -> Result<Json<LevelsBody>, ApiError> {
    Ok(Json(app.store.area_levels().await?.into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/area-levels",
    summary = "Configure the levels of the area tree (administrators; audited). Areas already made keep their depth and take the new level of that depth; refused naming the field (levels, levels[i].key, levels[i].name_vi, …) for fewer than 2 or more than 6 levels, a bad or repeated key, an empty name, or a tree with areas deeper than the new levels.",
    request_body = LevelsBody,
    responses(
        (status = 200, description = "OK", body = LevelsBody),
        (status = 400, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_levels(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<LevelsBody>,
) -> Result<Json<LevelsBody>, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let levels = AreaLevels::new(body.levels).map_err(|e| ApiError::invalid(e.field, e.message))?;
    let set = app.store.set_area_levels(levels, &actor).await?;
    Ok(Json(set.into()))
}

/// A reorganisation to record.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorganisationBody {
    /// The day it takes effect (YYYY-MM-DD), today or before.
    #[schema(value_type = String, example = "2025-07-01")]
    effective_on: String,
    /// The decree or decision, 1–500 characters.
    reason: String,
    change: Change,
}

/// A recorded reorganisation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReorganisationView {
    id: String,
    /// merge, split or move.
    kind: String,
    effective_on: String,
    /// Microseconds since the epoch.
    recorded_at: i64,
    actor: String,
    reason: String,
    change: Change,
    /// The affected areas as they were before, each with its figures:
    /// {code: {area, population, at_least_one, completed, doses,
    /// doses_by_day (days before effective_on)}}.
    #[schema(value_type = Object)]
    before: serde_json::Value,
}

impl From<Reorganisation> for ReorganisationView {
    fn from(r: Reorganisation) -> ReorganisationView {
        ReorganisationView {
            id: r.id,
            kind: r.kind,
            effective_on: r.effective_on,
            recorded_at: r.recorded_at,
            actor: r.actor,
            reason: r.reason,
            change: r.change,
            before: r.before,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReorganisationPage {
    items: Vec<ReorganisationView>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    post,
    path = "/api/v1/areas/reorganisations",
    summary = "Record a reorganisation of the area tree (administrators; audited), all or nothing: change {kind: merge, sources, into} | {kind: split, area, parts: [{code, name, name_en, children}]} | {kind: move, area, parent_code}. Persons, doses, counters, sites, stores, campaigns, targets, sessions and grants follow the new tree; the affected areas' figures before are kept in the event. Refused naming the field (change.parent_code, change.sources[i], change.parts[i].children[j], effective_on, reason): an orphan or a cycle, areas of different levels, a move across provinces, a date in the future; 409 when merged provinces hold one ID document twice.",
    request_body = ReorganisationBody,
    responses(
        (status = 201, description = "Created", body = ReorganisationView),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn reorganise(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ReorganisationBody>,
) -> Result<(StatusCode, Json<ReorganisationView>), ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let effective_on = vaxgrid_store::parse_date(&body.effective_on)
        .ok_or_else(|| ApiError::invalid("effective_on", "a date is written YYYY-MM-DD"))?;
    let done = app
        .store
        .reorganise(
            NewReorganisation {
                effective_on,
                reason: body.reason,
                change: body.change,
            },
            &actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(done.into())))
}

#[utoipa::path(
    get,
    path = "/api/v1/areas/reorganisations",
    summary = "Reorganisations of the area tree in the order recorded, each with the affected areas as they were before",
    params(("after" = Option<String>, Query, description = "cursor: next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "page size 1..500 (default 50)")),
    responses(
        (status = 200, description = "OK", body = ReorganisationPage),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn list_reorganisations(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ReorganisationPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let page = app.store.reorganisations(q.after.as_deref(), limit).await?;
    Ok(Json(ReorganisationPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

pub fn routes() -> Vec<crate::RouteDef> {
    use crate::r;
    use crate::Policy::Needs;
    use axum::http::Method as M;
    use axum::routing::{get, post, put};
    use vaxgrid_core::access::Permission::*;
    vec![
        r(
            M::GET,
            "/api/v1/area-levels",
            Needs(ReadReference),
            get(get_levels),
        ),
        r(
            M::PUT,
            "/api/v1/area-levels",
            Needs(ManageReference),
            put(set_levels),
        ),
        r(
            M::GET,
            "/api/v1/areas/reorganisations",
            Needs(ReadReference),
            get(list_reorganisations),
        ),
        r(
            M::POST,
            "/api/v1/areas/reorganisations",
            Needs(ManageReference),
            post(reorganise),
        ),
    ]
}
