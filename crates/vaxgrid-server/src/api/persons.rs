//! /api/v1/persons

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use vaxgrid_core::identity::{IdType, IdentifierType, Sex};
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{Guardian, IdentifierInput, MergeRequest, NewIdentity, NewPerson};
use vaxgrid_store::persons::PersonQuery;

use axum::Extension;
use vaxgrid_core::access::Permission;

use crate::auth::Caller;
use crate::error::{ApiError, RowProblem};
use crate::extract::{page_limit, uuid_field, ApiJson, ApiQuery, CsvBody};
use crate::AppState;

use super::types::{History, Imported, Merged, Page, Person, PersonCreated, PersonView};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    pub id: Option<String>,
    /// The national document (with `id_number`); absent for a person
    /// without one, who may be given `identifiers` instead, or nothing.
    #[schema(value_type = Option<vaxgrid_core::identity::IdType>)]
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    /// Other identifiers (a passport with its country, a medical record
    /// number with the system that assigned it, insurance, birth
    /// certificate); each unique in the registry. Without a national
    /// document, the first national one here goes on the record.
    #[serde(default)]
    pub identifiers: Vec<IdentifierBody>,
    /// For a child registered without any identifier (required then).
    pub guardian: Option<GuardianBody>,
    pub full_name: String,
    pub birth_date: String,
    pub sex: Sex,
    pub phone: Option<String>,
    pub home_area: String,
    pub occupation: Option<String>,
    #[serde(default)]
    pub priority_groups: Vec<String>,
}

/// One identifier of a person being registered.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierBody {
    #[schema(value_type = vaxgrid_core::identity::IdentifierType)]
    pub id_type: IdentifierType,
    /// Who assigned it: required for `mrn` and `other`; a passport's
    /// country (2 or 3 letters).
    pub authority: Option<String>,
    pub value: String,
}

/// Who answers for a child registered without a document.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardianBody {
    pub name: String,
    pub phone: Option<String>,
    /// mother, father, grandparent, … (free text, at most 50 characters)
    pub relationship: Option<String>,
}

/// Registers a person for the API and the vaccination table's walk-in
/// form alike: the body's shape (id, birth date), then the store's rules
/// with the caller's scope (`WriteRegistry`).
pub async fn register(
    app: &AppState,
    caller: &Caller,
    b: PersonBody,
) -> Result<vaxgrid_store::model::PersonCreated, ApiError> {
    let actor = caller.actor(app, Permission::WriteRegistry).await?;
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let birth_date = crate::extract::date_field("birth_date", &b.birth_date)?;
    let id_number = b.id_number.filter(|n| !n.trim().is_empty());
    let id_type = match (b.id_type.filter(|t| *t != IdType::None), &id_number) {
        (Some(t), Some(_)) => t,
        (None, None) => IdType::None,
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "id_number",
                "an id_type needs its id_number",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "id_type",
                "an id_number needs its id_type",
            ))
        }
    };
    let identity = NewIdentity {
        identifiers: b
            .identifiers
            .into_iter()
            .map(|i| IdentifierInput {
                id_type: i.id_type,
                authority: i.authority,
                value: i.value,
            })
            .collect(),
        guardian: b.guardian.map(|g| Guardian {
            name: g.name,
            phone: g.phone,
            relationship: g.relationship,
        }),
    };
    let new = NewPerson {
        id,
        id_type,
        id_number: id_number.unwrap_or_default(),
        full_name: b.full_name,
        birth_date,
        sex: b.sex,
        phone: b.phone.filter(|p| !p.trim().is_empty()),
        home_area: b.home_area,
        occupation: b.occupation.filter(|o| !o.trim().is_empty()),
        priority_groups: b.priority_groups,
    };
    Ok(app.store.create_person_with(new, identity, &actor).await?)
}

#[utoipa::path(
    post,
    path = "/api/v1/persons",
    summary = "Register a person, with or without a national document and with any other identifiers; 409 if an ID number or identifier is registered",
    request_body = PersonBody,
    responses(
        (status = 201, description = "Created", body = PersonCreated),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<PersonBody>,
) -> Result<Response, ApiError> {
    let created = register(&app, &caller, b).await?;
    let location = format!("/api/v1/persons/{}", created.person.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(PersonCreated::from(created)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}",
    summary = "One person, with possible duplicates",
    params(("id" = String, Path, description = "person UUID")),
    responses(
        (status = 200, description = "OK", body = PersonView),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
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
    let identifiers = app.store.identifiers_of(&person).await?;
    let follow_up = app.store.follow_up_of(&person.id).await?;
    Ok(Json(PersonView {
        person: person.into(),
        possible_duplicates,
        identifiers: identifiers.into_iter().map(Into::into).collect(),
        identity_follow_up: follow_up.map(Into::into),
    }))
}

/// The person after the identifier was added.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct IdentifierAdded {
    #[serde(flatten)]
    pub person: PersonView,
    /// Whether this identifier closed the person's identity follow-up.
    pub follow_up_closed: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/identifiers",
    summary = "Add an identifier to a person (a document brought later closes the identity follow-up); 409 if someone else holds it, 200 if this person already does",
    params(("id" = String, Path, description = "person UUID")),
    request_body = IdentifierBody,
    responses(
        (status = 201, description = "Added", body = IdentifierAdded),
        (status = 200, description = "The person already holds it; nothing written", body = IdentifierAdded),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn add_identifier(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<IdentifierBody>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::WriteRegistry).await?;
    let input = IdentifierInput {
        id_type: b.id_type,
        authority: b.authority,
        value: b.value,
    };
    let done = app
        .store
        .add_identifier(&id, input, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let possible_duplicates = app.store.possible_duplicates(&done.person).await?;
    let status = if done.added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/api/v1/persons/{id}");
    let body = IdentifierAdded {
        person: PersonView {
            person: done.person.into(),
            possible_duplicates,
            identifiers: done.identifiers.into_iter().map(Into::into).collect(),
            identity_follow_up: done.follow_up.map(Into::into),
        },
        follow_up_closed: done.follow_up_closed,
    };
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    id_number: Option<String>,
    identifier: Option<String>,
    identifier_type: Option<String>,
    authority: Option<String>,
    follow_up: Option<bool>,
    phone: Option<String>,
    name: Option<String>,
    area: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/persons",
    summary = "Search persons (at least one criterion); name matches with or without diacritics",
    params(("id_number" = Option<String>, Query, description = "ID number"), ("identifier" = Option<String>, Query, description = "any identifier's value: the national document or one kept beside it"), ("identifier_type" = Option<String>, Query, description = "narrows `identifier`: cccd, cmnd, cn_resident, passport, mrn, insurance, birth_certificate, other"), ("authority" = Option<String>, Query, description = "narrows `identifier` to those of this assigning authority"), ("follow_up" = Option<bool>, Query, description = "true: only persons registered without a document, waiting for identity follow-up"), ("phone" = Option<String>, Query, description = "phone"), ("name" = Option<String>, Query, description = "name or its start, any word"), ("area" = Option<String>, Query, description = "home area subtree"), ("after" = Option<String>, Query, description = "cursor: next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "page size 1..500 (default 50)")),
    responses(
        (status = 200, description = "OK", body = Page<Person>),
        (status = 400, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn search(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Page<Person>>, ApiError> {
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let limit = page_limit(q.limit)?;
    let identifier_type = match q.identifier_type.as_deref() {
        Some(t) => Some(IdentifierType::parse(t.trim()).ok_or_else(|| {
            ApiError::bad_request(
                "identifier_type",
                "identifier_type is one of cccd, cmnd, cn_resident, passport, mrn, insurance, birth_certificate, other",
            )
        })?),
        None => None,
    };
    if q.identifier.is_none() && (identifier_type.is_some() || q.authority.is_some()) {
        return Err(ApiError::bad_request(
            "identifier",
            "identifier_type and authority narrow an identifier: give its value",
        ));
    }
    let query = PersonQuery {
        id_number: q.id_number,
        identifier: q.identifier.filter(|v| !v.trim().is_empty()),
        identifier_type,
        authority: q.authority.filter(|a| !a.trim().is_empty()),
        follow_up: q.follow_up.unwrap_or(false),
        birth_date: None,
        phone: q.phone,
        name: q.name,
        area: q.area,
        scope: actor.scope,
    };
    let page = find(&app, &query, q.after.as_deref(), limit).await?;
    Ok(Json(Page::<Person>::from(page)))
}

/// Searches the registry for the API and the registry page alike: at
/// least one criterion, an area that exists, a name with letters.
pub async fn find(
    app: &AppState,
    query: &PersonQuery,
    after: Option<&str>,
    limit: usize,
) -> Result<vaxgrid_store::model::Page<vaxgrid_store::model::Person>, ApiError> {
    if query.id_number.is_none()
        && query.identifier.is_none()
        && !query.follow_up
        && query.phone.is_none()
        && query.name.is_none()
        && query.area.is_none()
    {
        return Err(ApiError::bad_request(
            "query",
            "give at least one of id_number, identifier, follow_up, phone, name, area",
        ));
    }
    app.store
        .search_persons(query, after, limit)
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
        })
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/doses",
    summary = "Dose history of a person (including corrections and merged records)",
    params(("id" = String, Path, description = "person UUID")),
    responses(
        (status = 200, description = "OK", body = History),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
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
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    duplicate_id: String,
    reason: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/merge",
    summary = "Merge a duplicate record into this person (audited)",
    params(("id" = String, Path, description = "survivor UUID")),
    request_body = MergeBody,
    responses(
        (status = 200, description = "OK", body = Merged),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn merge(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MergeBody>,
) -> Result<Json<Merged>, ApiError> {
    let survivor_id = uuid_field("id", &id)?;
    let duplicate_id = uuid_field("duplicate_id", &b.duplicate_id)?;
    let already = merge_records(&app, &caller, &survivor_id, &duplicate_id, &b.reason).await?;
    Ok(Json(Merged {
        survivor_id,
        duplicate_id,
        already_merged: already,
    }))
}

/// Merges `duplicate_id` into `survivor_id` through the dose writer (the
/// API's merge and the duplicate review's); whether it had been done
/// already.
pub async fn merge_records(
    app: &AppState,
    caller: &Caller,
    survivor_id: &str,
    duplicate_id: &str,
    reason: &str,
) -> Result<bool, ApiError> {
    let actor = caller.actor(app, Permission::ManageRegistry).await?;
    app.store
        .person_in(survivor_id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    if reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "a merge needs a reason"));
    }
    let outcome = app
        .writer
        .submit(WriteCommand::Merge(MergeRequest {
            survivor_id: survivor_id.to_string(),
            duplicate_id: duplicate_id.to_string(),
            reason: reason.trim().to_string(),
            by: actor,
        }))
        .await?;
    match outcome {
        WriteOutcome::Merged { already, .. } => Ok(already),
        other => {
            tracing::error!(?other, "merge answered with a dose outcome");
            Err(ApiError::bad_request("body", "unexpected merge outcome"))
        }
    }
}

/// Imports a persons CSV: every row is checked first; if any row is bad,
/// nothing is written and the answer lists every bad row.
#[utoipa::path(
    post,
    path = "/api/v1/persons/import",
    summary = "Import persons from CSV (id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups, and optionally id: a UUID as `vaxgrid export persons` writes it); every row is checked first, nothing is written if any row is bad",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "OK", body = Imported),
        (status = 400, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(Imported { imported: n })))
}
