//! /api/v1/sessions and /api/v1/appointments: opening a site's day in time
//! slots, and booking people into them without ever passing a slot's
//! capacity.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::schedule::SessionPlan;
use vaxgrid_store::scheduling::{BookOutcome, BookRequest, NewSession};

use crate::api::scheduling_types as types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson};
use crate::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    pub(crate) id: Option<String>,
    pub(crate) site_code: String,
    pub(crate) day: String,
    pub(crate) opens: String,
    pub(crate) closes: String,
    pub(crate) stations: i64,
    pub(crate) per_station_per_hour: i64,
    pub(crate) slot_minutes: i64,
    pub(crate) village_code: Option<String>,
}

fn clock(field: &str, value: &str) -> Result<time::Time, ApiError> {
    time::Time::parse(value, time::macros::format_description!("[hour]:[minute]"))
        .map_err(|_| ApiError::invalid(field, format!("'{value}' is not a time HH:MM")))
}

fn count(field: &str, value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .map_err(|_| ApiError::invalid(field, format!("{field} must not be negative")))
}

/// A session to open from a body: the checks of shape (the API's and the
/// site planning page's form alike); the store checks the rest.
pub(crate) fn new_session(b: SessionBody) -> Result<NewSession, ApiError> {
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let day = crate::extract::date_field("day", &b.day)?;
    let plan = SessionPlan {
        day,
        opens: clock("opens", &b.opens)?,
        closes: clock("closes", &b.closes)?,
        stations: count("stations", b.stations)?,
        per_station_per_hour: count("per_station_per_hour", b.per_station_per_hour)?,
        slot_minutes: count("slot_minutes", b.slot_minutes)?,
    };
    Ok(NewSession {
        id,
        site_code: b.site_code,
        plan,
        village_code: b.village_code,
    })
}

/// A site's zones from a body (the API's and the page's form alike).
pub(crate) fn zones_from(b: ZonesBody) -> Result<Vec<vaxgrid_core::site::Zone>, ApiError> {
    b.zones
        .into_iter()
        .enumerate()
        .map(|(i, z)| {
            let kind = vaxgrid_core::site::ZoneKind::parse(&z.kind).ok_or_else(|| {
                ApiError::invalid(
                    format!("zones[{i}].kind"),
                    format!("'{}' is not a zone: temperature_check, registration, screening, vaccination, observation or treatment", z.kind),
                )
            })?;
            let places = u32::try_from(z.places)
                .map_err(|_| ApiError::invalid(format!("zones[{i}].places"), "places must be 1 to 10000"))?;
            Ok(vaxgrid_core::site::Zone { kind, name: z.name, places })
        })
        .collect()
}

/// Opens a session: 201 with its slots.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    summary = "Open a vaccination session at a site (a mobile team names its village): opening hours, stations and throughput per station give the slots and their capacity. Refused: a day in the past, closing before opening, negative or zero capacity, a session overlapping another of the site that day.",
    request_body = SessionBody,
    responses(
        (status = 201, description = "{session, slots[]}", body = types::SessionWithSlots),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn open(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<SessionBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    let (session, slots) = app.store.open_session(&new_session(b)?, &actor).await?;
    let location = format!("/api/v1/sessions/{}", session.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(types::SessionWithSlots::from((session, slots))),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    summary = "A session and its slots (capacity, booked)",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "{session, slots[]}", body = types::SessionWithSlots),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<types::SessionWithSlots>, ApiError> {
    let id = uuid_field("id", &id)?;
    let session = app
        .store
        .vaccination_session(&id)
        .await
        .map_err(ApiError::lookup)?;
    let slots = app.store.slots_of(&id).await?;
    Ok(Json(types::SessionWithSlots::from((session, slots))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    /// Client-chosen, so a retry books once.
    id: String,
    person_id: String,
    session_id: String,
    /// `YYYY-MM-DDTHH:MM`, as the session's slots list it.
    starts_at: String,
}

/// Books a slot: 201, 200 for a retry, 409 with the next free slots nearby
/// when the slot is full.
#[utoipa::path(
    post,
    path = "/api/v1/appointments",
    summary = "Book a slot. A slot is never booked over capacity, whatever the concurrency; a full slot answers 409 with `alternatives`, the next free slots of the site. The same id again answers 200 with the booking.",
    request_body = BookBody,
    responses(
        (status = 200, description = "the same booking, made before", body = types::Appointment),
        (status = 201, description = "booked", body = types::Appointment),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn book(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<BookBody>,
) -> Result<Response, ApiError> {
    take_place(app, caller, b, None).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// Id of the new appointment (client-chosen).
    id: String,
    session_id: String,
    starts_at: String,
}

/// Moves a booked appointment to another slot: the new place is taken and
/// the old one freed in one transaction; a full slot keeps the old booking.
#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/reschedule",
    summary = "Move a booked appointment to another slot {id (the new appointment), session_id, starts_at}: the new place is taken and the old one freed in one transaction; a full slot answers 409 with alternatives and keeps the old booking",
    params(("id" = String, Path)),
    request_body = RescheduleBody,
    responses(
        (status = 201, description = "the new appointment", body = types::Appointment),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn reschedule(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(old): Path<String>,
    ApiJson(b): ApiJson<RescheduleBody>,
) -> Result<Response, ApiError> {
    let old = uuid_field("id", &old)?;
    let person_id = app
        .store
        .appointment(&old)
        .await
        .map_err(ApiError::lookup)?
        .person_id;
    let body = BookBody {
        id: b.id,
        person_id,
        session_id: b.session_id,
        starts_at: b.starts_at,
    };
    take_place(app, caller, body, Some(old)).await
}

async fn take_place(
    app: AppState,
    caller: Caller,
    b: BookBody,
    replaces: Option<String>,
) -> Result<Response, ApiError> {
    let by = caller.actor(&app, Permission::Book).await?;
    let request = BookRequest {
        id: uuid_field("id", &b.id)?,
        person_id: uuid_field("person_id", &b.person_id)?,
        session_id: uuid_field("session_id", &b.session_id)?,
        starts_at: b.starts_at.trim().to_string(),
        by,
        replaces,
        hold: None,
    };
    let (session_id, starts_at) = (request.session_id.clone(), request.starts_at.clone());
    match app.bookings.submit(request).await? {
        BookOutcome::Booked(a) => Ok((
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v1/appointments/{}", a.id))],
            Json(types::Appointment::from(a)),
        )
            .into_response()),
        BookOutcome::Existing(a) => {
            Ok((StatusCode::OK, Json(types::Appointment::from(a))).into_response())
        }
        BookOutcome::Full => {
            let alternatives = app
                .store
                .free_slots_near(&session_id, &starts_at, 5)
                .await?;
            Err(ApiError::SlotFull {
                starts_at,
                alternatives: serde_json::to_value(types::slots(alternatives)).unwrap_or_default(),
            })
        }
    }
}

/// The next dose a person is due, proposed at the site of their last dose
/// at the product's recommended interval, with free slots from that day.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/next-dose",
    summary = "The next dose due, proposed at the site of the last dose at the product's recommended interval, with free slots from that day",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "{person_id, due, product_code, site_code, slots[]} or {due: null, reason}", body = types::NextDose),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn next_dose(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::NextDose>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let history = app
        .store
        .read_history(&id, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let last = history
        .records
        .iter()
        .filter(|r| r.kind == vaxgrid_store::model::DoseKind::Administered)
        .max_by(|a, b| {
            (a.administered_on.as_str(), a.recorded_at.as_str())
                .cmp(&(b.administered_on.as_str(), b.recorded_at.as_str()))
        });
    let (Some(due), Some(last)) = (history.next_dose_due.clone(), last) else {
        let reason = if history.series_complete {
            "the primary series is complete"
        } else {
            "no dose given here yet"
        };
        return Ok(Json(types::NextDose {
            person_id: id,
            due: None,
            reason: Some(reason.to_string()),
            product_code: None,
            site_code: None,
            slots: None,
        }));
    };
    let today = app.store.today();
    let day = vaxgrid_store::parse_date(&due).map_or(today, |d| d.max(today));
    let slots = app
        .store
        .free_slots_at_site(&last.site_code, &vaxgrid_store::format_date(day), 5)
        .await?;
    Ok(Json(types::NextDose {
        person_id: id,
        due: Some(due),
        reason: None,
        product_code: Some(last.product_code.clone()),
        site_code: Some(last.site_code.clone()),
        slots: Some(types::slots(slots)),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/appointments/{id}",
    summary = "An appointment",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = types::Appointment),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_appointment(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let a = app.store.appointment(&id).await.map_err(ApiError::lookup)?;
    app.store
        .person_in(&a.person_id, &actor.scope)
        .await
        .map_err(|_| ApiError::NotFound {
            what: format!("appointment '{id}'"),
        })?;
    Ok(Json(types::Appointment::from(a)).into_response())
}

async fn end(
    app: AppState,
    caller: Caller,
    id: String,
    status: &str,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::Book).await?;
    let a = app
        .store
        .end_appointment(&id, status, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Appointment::from(a)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/cancel",
    summary = "Cancel a booked appointment: its place is freed",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = types::Appointment),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    end(app, caller, id, "cancelled").await
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/no-show",
    summary = "Mark a booked appointment as a no-show",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "OK", body = types::Appointment),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
    )
)]
pub async fn no_show(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    end(app, caller, id, "no_show").await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneBody {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) places: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZonesBody {
    pub(crate) zones: Vec<ZoneBody>,
}

/// Sets a site's functional zones, in the order people pass them.
#[utoipa::path(
    put,
    path = "/api/v1/sites/{code}/zones",
    summary = "Set a site's functional zones {zones[{kind: temperature_check|registration|screening|vaccination|observation|treatment, name, places}]}; vaccination, observation and treatment are required",
    params(("code" = String, Path)),
    request_body = ZonesBody,
    responses(
        (status = 200, description = "OK", body = types::SiteZones),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_zones(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ZonesBody>,
) -> Result<Json<types::SiteZones>, ApiError> {
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    let zones = zones_from(b)?;
    app.store
        .set_site_zones(&code, &zones, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let zones = app.store.site_zones(&code).await?;
    Ok(Json(types::SiteZones::new(code, zones)))
}

#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/zones",
    summary = "A site's functional zones, in the order people pass them",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "{site_code, zones[{kind, name, places}]}", body = types::SiteZones),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn zones(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<types::SiteZones>, ApiError> {
    let zones = app
        .store
        .site_zones(&code)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::SiteZones::new(code, zones)))
}
