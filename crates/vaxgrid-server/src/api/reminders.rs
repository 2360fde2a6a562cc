//! /api/v1/persons/{id}/reminders: the messages sent or to send to a person.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use vaxgrid_core::access::Permission;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::uuid_field;
use crate::AppState;

/// The person's outbox, oldest first; 404 outside the caller's areas.
pub async fn of_person(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    app.store
        .person_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let items = app.store.outbox(&id).await.map_err(ApiError::lookup)?;
    Ok(Json(serde_json::json!({ "person_id": id, "items": items })))
}
