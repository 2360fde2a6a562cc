//! /api/v1/persons

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::doses::{History, WriteCommand, WriteOutcome};
use vaxgrid_store::model::{MergeRequest, NewPerson, Page, Person};
use vaxgrid_store::persons::PersonQuery;

use axum::Extension;
use vaxgrid_core::access::Permission;

use crate::auth::Caller;
use crate::error::{ApiError, RowProblem};
use crate::extract::{page_limit, uuid_field, ApiJson, ApiQuery, CsvBody};
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    id: Option<String>,
    id_type: IdType,
    id_number: String,
    full_name: String,
    birth_date: String,
    sex: Sex,
    phone: Option<String>,
    home_area: String,
    occupation: Option<String>,
    #[serde(default)]
    priority_groups: Vec<String>,
}

pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<PersonBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::WriteRegistry).await?;
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let birth_date = crate::extract::date_field("birth_date", &b.birth_date)?;
    let new = NewPerson {
        id,
        id_type: b.id_type,
        id_number: b.id_number,
        full_name: b.full_name,
        birth_date,
        sex: b.sex,
        phone: b.phone.filter(|p| !p.trim().is_empty()),
        home_area: b.home_area,
        occupation: b.occupation.filter(|o| !o.trim().is_empty()),
        priority_groups: b.priority_groups,
    };
    let created = app.store.create_person(new, &actor).await?;
    let location = format!("/api/v1/persons/{}", created.person.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

#[derive(Serialize)]
pub struct PersonView {
    #[serde(flatten)]
    person: Person,
    possible_duplicates: Vec<String>,
}

pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let person = app
        .store
        .read_person(&id, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let possible_duplicates = app.store.possible_duplicates(&person).await?;
    Ok(Json(PersonView {
        person,
        possible_duplicates,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    id_number: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    area: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

pub async fn search(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Page<Person>>, ApiError> {
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let limit = page_limit(q.limit)?;
    if q.id_number.is_none() && q.phone.is_none() && q.name.is_none() && q.area.is_none() {
        return Err(ApiError::bad_request(
            "query",
            "give at least one of id_number, phone, name, area",
        ));
    }
    let query = PersonQuery {
        id_number: q.id_number,
        phone: q.phone,
        name: q.name,
        area: q.area,
        scope: actor.scope,
    };
    let page = app
        .store
        .search_persons(&query, q.after.as_deref(), limit)
        .await
        .map_err(|e| match e {
            vaxgrid_store::StoreError::NotFound {
                entity: "area",
                key,
                ..
            } => ApiError::bad_request("area", crate::error::absent("area", &key)),
            vaxgrid_store::StoreError::Invalid { field, message } => {
                ApiError::bad_request(field, message)
            }
            other => ApiError::Store(other),
        })?;
    Ok(Json(page))
}

pub async fn history(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<History>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    Ok(Json(
        app.store
            .read_history(&id, &actor)
            .await
            .map_err(ApiError::lookup)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    duplicate_id: String,
    reason: String,
}

pub async fn merge(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let survivor_id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ManageRegistry).await?;
    app.store
        .person_in(&survivor_id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let duplicate_id = uuid_field("duplicate_id", &b.duplicate_id)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "a merge needs a reason"));
    }
    let outcome = app
        .writer
        .submit(WriteCommand::Merge(MergeRequest {
            survivor_id,
            duplicate_id,
            reason: b.reason.trim().to_string(),
            by: actor,
        }))
        .await?;
    match outcome {
        WriteOutcome::Merged {
            survivor_id,
            duplicate_id,
            already,
        } => Ok(Json(serde_json::json!({
            "survivor_id": survivor_id,
            "duplicate_id": duplicate_id,
            "already_merged": already,
        }))),
        other => {
            tracing::error!(?other, "merge answered with a dose outcome");
            Err(ApiError::bad_request("body", "unexpected merge outcome"))
        }
    }
}

/// Imports a persons CSV: every row is checked first; if any row is bad,
/// nothing is written and the answer lists every bad row.
pub async fn import(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = caller.actor(&app, Permission::ManageRegistry).await?;
    let (people, mut errors) = crate::import::parse_persons_csv(bytes.as_ref());
    let total = people.len() + errors.len();
    let rows: Vec<usize> = people.iter().map(|(r, _)| *r).collect();
    let (placed, check_errors) = app
        .store
        .check_people(people.into_iter().map(|(_, p)| p).collect())
        .await?;
    // check_people numbers rows by position among the parsed ones.
    errors.extend(check_errors.into_iter().map(|mut e| {
        e.row = rows.get(e.row - 1).copied().unwrap_or(e.row);
        e
    }));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ApiError::Rows {
            count: total,
            errors: errors
                .into_iter()
                .map(|e| RowProblem {
                    row: e.row,
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        });
    }
    if let Some(outside) = placed
        .iter()
        .position(|p| !actor.scope.covers_path(&p.area_path))
    {
        return Err(ApiError::Rows {
            count: total,
            errors: vec![RowProblem {
                row: rows.get(outside).copied().unwrap_or(outside + 1),
                field: "home_area".into(),
                message: crate::error::absent("area", &placed[outside].new.home_area),
            }],
        });
    }
    let n = app.store.insert_people(&placed, &actor, |_| {}).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "imported": n })),
    ))
}
