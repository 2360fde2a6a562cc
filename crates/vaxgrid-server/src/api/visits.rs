//! /api/v1/visits: the vaccination table, step by step. Each event is a JSON
//! body with a `kind`; it is checked by the visit state machine of
//! `vaxgrid_core::visit` against the events before it (replayed from the
//! store), so a step skipped or out of order is refused naming the step
//! expected. The dose step records the dose through the dose writer, with
//! the same rules as `POST /api/v1/doses`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;
use vaxgrid_core::access::{permits, Permission};
use vaxgrid_core::visit::{Causality, Visit};
use vaxgrid_core::visit_body::{questions_from, questions_json, FieldError};
use vaxgrid_store::visits::{record_event, DoseBy, EventBy, VisitRow};

use crate::api::visit_types as types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson};
use crate::AppState;

/// The visit named by the path missing (or outside the caller's scope) is
/// a 404; anything else the event's (a lot the dose names, …) is its own.
pub fn visit_lookup(e: vaxgrid_store::StoreError) -> ApiError {
    match e {
        vaxgrid_store::StoreError::NotFound {
            entity: "visit", ..
        } => ApiError::lookup(e),
        other => ApiError::Store(other),
    }
}

fn invalid(e: FieldError) -> ApiError {
    ApiError::invalid(e.field, e.message)
}

/// The visit as the state machine sees it, from its stored events.
async fn replayed(app: &AppState, row: &VisitRow) -> Result<Visit, ApiError> {
    Ok(app.store.replay_visit(row).await?.0)
}

/// A stored visit as the API shows it, replaying its events.
async fn view(app: &AppState, row: VisitRow) -> Result<types::Visit, ApiError> {
    let visit = replayed(app, &row).await?;
    view_of(app, row, &visit).await
}

/// A visit as the API shows it, given what its events make of it.
async fn view_of(app: &AppState, row: VisitRow, visit: &Visit) -> Result<types::Visit, ApiError> {
    let investigations = app.store.investigations_of(&row.id).await?;
    Ok(types::Visit::new(row, visit, investigations))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    id: Option<String>,
    person_id: String,
    site_code: String,
    product_code: String,
    appointment_id: Option<String>,
}

/// Opens a visit: the person arrives at the site.
#[utoipa::path(
    post,
    path = "/api/v1/visits",
    summary = "Open a visit at the vaccination table: {id?, person_id, site_code, product_code, appointment_id?}",
    request_body = OpenBody,
    responses(
        (status = 201, description = "the visit, waiting for check-in", body = types::Visit),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn open(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<OpenBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::Visit).await?;
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let person = uuid_field("person_id", &b.person_id)?;
    let appointment = b
        .appointment_id
        .as_deref()
        .map(|a| uuid_field("appointment_id", a))
        .transpose()?;
    let row = app
        .store
        .open_visit(
            &id,
            &person,
            &b.site_code,
            &b.product_code,
            appointment.as_deref(),
            &actor,
        )
        .await?;
    let location = format!("/api/v1/visits/{id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view(&app, row).await?),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/visits/{id}",
    summary = "A visit: its events, outcome, next step, when the person may leave observation, investigations of serious adverse events",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = types::Visit),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::Visit>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let row = app
        .store
        .visit_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(view(&app, row).await?))
}

/// Records the next event of a visit.
#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/events",
    summary = "The next event of a visit, by kind: check_in {temperature_c} (fever >= 37.5 °C defers), identity_check {document}, screening {questionnaire_version, answers[{question_id, yes}]}, consent {by, consent_text_version, for_person_id}, dose {lot_number, station} (needs RecordDose; recorded through the dose rules), observation_end, adverse_event {onset, symptoms[], severity, serious, causality?} (serious opens an investigation), end {ending: deferred|contraindicated|refused|no_show, reason, until}. `at` (RFC 3339) defaults to now. A step skipped or out of order answers 422 naming the step expected. An event may carry a client_id (1 to 64 printable characters): one already recorded on the visit writes nothing and answers the visit as it is, so a form or request sent twice records once.",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 200, description = "the visit after the event", body = types::Visit),
        (status = 400, response = crate::error::Problem),
        (status = 403, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn event(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<types::Visit>, ApiError> {
    let id = uuid_field("id", &id)?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "body",
            "an event is a JSON object with a kind",
        ));
    }
    let by = event_by(&app, &caller).await?;
    let recorded = record_event(&app.store, &app.writer, &id, body, &by)
        .await
        .map_err(visit_lookup)?;
    // The visit after the event is known: no need to replay it again.
    Ok(Json(view_of(&app, recorded.row, &recorded.visit).await?))
}

/// Who records a visit's events: the caller with their table roles' scope
/// and, when they hold a role that gives doses, as a giver of doses (whose
/// certificate the writer checks when they give doses only as a
/// vaccinator).
pub async fn event_by(app: &AppState, caller: &Caller) -> Result<EventBy, ApiError> {
    let actor = caller.actor(app, Permission::Visit).await?;
    let gives_doses = caller.principal.as_ref().is_some_and(|p| {
        p.grants
            .iter()
            .any(|g| permits(g.role, Permission::RecordDose))
    });
    let dose = if gives_doses {
        Some(DoseBy {
            actor: caller.actor(app, Permission::RecordDose).await?,
            requires_certificate: crate::api::training::certificate_needed(caller),
        })
    } else {
        None
    };
    Ok(EventBy { actor, dose })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireBody {
    version: String,
    questions: Value,
}

/// A product's screening questionnaire (its own or the default).
#[utoipa::path(
    get,
    path = "/api/v1/products/{code}/screening",
    summary = "The product's screening questionnaire (its own, or the default)",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "{product_code, version, questions[{id, text, yes_means}]}", body = types::Questionnaire),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_questionnaire(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<types::Questionnaire>, ApiError> {
    app.store.product(&code).await.map_err(ApiError::lookup)?;
    let (version, questions) = app.store.questionnaire_of(&code).await?;
    Ok(Json(types::Questionnaire {
        product_code: code,
        version,
        questions: questions_json(&questions),
    }))
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{code}/screening",
    summary = "Set the product's screening questionnaire: {version, questions[{id, text, yes_means: nothing|contraindicate|{defer_days}}]}",
    params(("code" = String, Path)),
    request_body = QuestionnaireBody,
    responses(
        (status = 200, description = "OK", body = types::Questionnaire),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_questionnaire(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<QuestionnaireBody>,
) -> Result<Json<types::Questionnaire>, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let questions = questions_from(&b.questions).map_err(invalid)?;
    if b.version.trim().is_empty() || b.version.len() > 64 {
        return Err(ApiError::invalid(
            "version",
            "version must be 1 to 64 characters",
        ));
    }
    app.store
        .set_questionnaire(&code, b.version.trim(), &questions_json(&questions), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Questionnaire {
        product_code: code,
        version: b.version.trim().to_string(),
        questions: questions_json(&questions),
    }))
}

/// Who is in observation at a site, and when each may leave.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/observation",
    summary = "Who is in observation at the site, and when each may leave",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "OK", body = types::ObservationBoard),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn observation(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(code): Path<String>,
) -> Result<Json<types::ObservationBoard>, ApiError> {
    // The board names persons: only staff of this site (or a caller whose
    // scope is everywhere) see it; any other site reads as absent.
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::Visit)
        .await?;
    if !actor.scope.covers_site(&code) {
        return Err(ApiError::NotFound {
            what: format!("site '{code}'"),
        });
    }
    app.store.site(&code).await.map_err(ApiError::lookup)?;
    let now = app.store.now_micros();
    let rows = app.store.in_observation(&code).await?;
    let in_observation = rows
        .into_iter()
        .map(|r| {
            let ends = r.observation_ends_micros.unwrap_or(0);
            types::InObservation {
                visit_id: r.id,
                person_id: r.person_id,
                may_leave_at: vaxgrid_store::format_instant(ends),
                may_leave_now: ends <= now,
            }
        })
        .collect();
    Ok(Json(types::ObservationBoard {
        site_code: code,
        in_observation,
    }))
}

/// Per site today: booked, checked in, vaccinated, in observation, serious
/// adverse events, deferred or refused.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/today",
    summary = "The site today: booked, checked in, vaccinated, in observation, serious adverse events, deferred or refused",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "OK", body = super::types::SiteDay),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn site_today(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<super::types::SiteDay>, ApiError> {
    Ok(Json(
        app.store
            .site_day(&code, app.store.today())
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    /// WHO category: A1, A2, A3, A4, B1, B2, C or D.
    causality: String,
}

/// Records the causality assessment of a serious adverse event's
/// investigation, which closes it.
#[utoipa::path(
    post,
    path = "/api/v1/investigations/{id}/causality",
    summary = "Record the WHO causality assessment of a serious adverse event's investigation {causality: A1|A2|A3|A4|B1|B2|C|D}; the investigation is closed",
    params(("id" = String, Path)),
    request_body = AssessBody,
    responses(
        (status = 200, description = "{id, status, causality}", body = types::InvestigationStatus),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn assess(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssessBody>,
) -> Result<Json<types::InvestigationStatus>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::AssessAefi).await?;
    let causality = Causality::parse(b.causality.trim()).ok_or_else(|| {
        ApiError::invalid(
            "causality",
            "causality is a WHO category: A1, A2, A3, A4, B1, B2, C or D",
        )
    })?;
    app.store
        .assess_investigation(&id, causality.as_str(), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::InvestigationStatus {
        id,
        status: "assessed".to_string(),
        causality: Some(causality.as_str().to_string()),
    }))
}
