//! /api/v1/persons/{id}/reminders: the messages sent or to send to a person.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use vaxgrid_core::access::Permission;

use crate::api::types::{PersonReminders, Reminder};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::uuid_field;
use crate::AppState;

/// The person's outbox, oldest first; 404 outside the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/reminders",
    summary = "Reminders of a person (due next doses, missed appointments) in the outbox, with their language, message and delivery status",
    params(("id" = String, Path, description = "person UUID")),
    responses(
        (status = 200, description = "OK: person_id and items (id, kind, subject, language, phone, message, status pending|sent|failed, attempts, next_attempt_at, last_error, created_at, sent_at)", body = PersonReminders),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn of_person(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<PersonReminders>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    app.store
        .person_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let items = app.store.outbox(&id).await.map_err(ApiError::lookup)?;
    Ok(Json(PersonReminders {
        person_id: id,
        items: items.into_iter().map(Reminder::from).collect(),
    }))
}
