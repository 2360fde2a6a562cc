//! /api/v1/outbreak/isolation-policy: a province's isolation rule per
//! class and vaccination status (days at a facility, days at home, the
//! days tests are due), read by anyone working the province's outbreak,
//! set by a responder of the whole province; used when an isolation
//! starts (issue 19, item 2).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::isolation::Policy;

use crate::api::outbreak_facilities::province_in;
use crate::api::outbreak_types::IsolationPolicy;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    /// The province (a province code).
    province: String,
}

/// A province's isolation rule.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/isolation-policy",
    summary = "A province's isolation rule: for F1, F2 and F3, [unvaccinated, fully vaccinated] rules of facility_days, home_days and test_days (days after the start on which a sample is due); stored false when the province set none and the default applies: {province_code, stored, policy{f1, f2, f3}, updated_by}. A province outside the caller's areas answers 404.",
    params(PolicyQuery),
    responses(
        (status = 200, description = "{province_code, stored, policy, updated_by}", body = IsolationPolicy),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_policy(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let province = province_in(&app, &q.province, &actor.scope).await?;
    let p = app.store.isolation_policy(&province).await?;
    Ok(Json(IsolationPolicy::from(p)).into_response())
}

/// Sets a province's isolation rule.
#[utoipa::path(
    put,
    path = "/api/v1/outbreak/isolation-policy",
    summary = "Set a province's isolation rule (the body is the policy: {f1, f2, f3}, each [unvaccinated, fully vaccinated] of {facility_days, home_days, test_days}). Isolations started from then on are planned by it; those already started keep their plan. Only a caller whose areas cover the whole province may (403). Refused naming the field (e.g. f2[1].test_days): a rule of 0 or more than 60 days, a test day after the isolation's end or out of order (422).",
    params(PolicyQuery),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 200, description = "{province_code, stored, policy, updated_by}", body = IsolationPolicy),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_policy(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<PolicyQuery>,
    ApiJson(policy): ApiJson<Policy>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let province = province_in(&app, &q.province, &actor.scope).await?;
    let area = app.store.area(&province).await?;
    if !actor.scope.covers_path(&area.path) {
        return Err(ApiError::Forbidden {
            message: format!(
                "province: the isolation rule of province {province} is set by a responder of the whole province"
            ),
        });
    }
    let p = app
        .store
        .set_isolation_policy(&province, &policy, &actor)
        .await?;
    let p = IsolationPolicy::from(p);
    Ok(Json(p).into_response())
}
