//! /api/v1/outbreak: confirmed cases and their contact links (classes
//! F0–F3 derived by the store, never entered), tracing by JSON or CSV,
//! isolation with the team's daily checks and alerts, laboratories with
//! samples, pools and re-tests, the ring-vaccination list, and the surge
//! planner over article 003's shipped scenarios.
//!
//! Cases, contacts, checks and laboratories are seen by area: an epidemic
//! responder of commune A reads and works only A's (`ReadOutbreak`,
//! `ManageOutbreak`); a record outside the caller's areas is answered as
//! absent. Reading a case is audited. Bad input is refused naming the
//! field, nothing written.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_core::outbreak::graph::{Class, Setting};
use vaxgrid_core::outbreak::isolation::Check;
use vaxgrid_core::outbreak::pooling::Outcome;
use vaxgrid_core::outbreak::surge::{self, Scenario};
use vaxgrid_store::model::NewPerson;
use vaxgrid_store::outbreak::{
    CaseOutcome, ContactPerson, Laboratory, NewCase, NewCheck, NewContact, NewIsolation, Severity,
    TestKind,
};
use vaxgrid_store::outbreak_team::TeamView;
use vaxgrid_store::persons::RowError;

use super::outbreak_types as types;
use crate::auth::Caller;
use crate::error::{ApiError, RowProblem};
use crate::extract::{date_field, id_or_new, page_limit, ApiJson, ApiQuery, CsvBody};
use crate::AppState;

/// Contacts in one CSV import at most.
const MAX_IMPORT_ROWS: usize = 20_000;

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_string())
}

fn person_id(field: &str, value: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(value.trim())
        .map(|u| u.to_string())
        .map_err(|_| ApiError::invalid(field, format!("'{value}' is not a person id (UUID)")))
}

fn parsed<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, ApiError> {
    parse(value.trim())
        .ok_or_else(|| ApiError::invalid(field, format!("'{value}' is not one of {allowed}")))
}

fn rows_error(count: usize, rows: Vec<RowError>) -> ApiError {
    ApiError::Rows {
        count,
        errors: rows
            .into_iter()
            .map(|r| RowProblem {
                row: r.row,
                field: r.field,
                message: r.message,
            })
            .collect(),
    }
}

fn one_row_error(rows: Vec<RowError>) -> ApiError {
    ApiError::Invalid(
        rows.into_iter()
            .map(|r| crate::error::FieldError {
                field: r.field,
                message: r.message,
            })
            .collect(),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many (1–500, default 50).
    limit: Option<u32>,
}

/// Cases in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/cases",
    summary = "Confirmed (and reversed) cases in the caller's areas, newest confirmation first: {cases[]}",
    params(ListQuery),
    responses((status = 200, description = "{cases[]}", body = types::Cases))
)]
pub async fn list_cases(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let limit = page_limit(q.limit)? as i64;
    let cases = app.store.cases(&actor.scope, limit).await?;
    let cases = cases.into_iter().map(types::Case::from).collect();
    Ok(Json(types::Cases { cases }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    /// The person (from the registry; register them first if new).
    person_id: String,
    onset_on: Option<String>,
    confirmed_on: String,
    /// pcr or rapid_antigen
    test_kind: String,
    /// mild, moderate, severe or critical
    severity: String,
    /// Where the case is treated (a facility's name).
    treated_at: Option<String>,
}

/// Confirms a case and re-classifies everyone within three links.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/cases",
    summary = "Confirm a person as a case (F0): onset, confirmation date and test, severity, where treated. Everyone within three links is re-classified at once; the answer lists whose class changed. A reversed case may be confirmed again. Refused: a person not registered or outside the caller's areas (422 naming person_id, as any record a body names that the caller cannot see), already a confirmed case (409), a confirmation in the future or before birth (422).",
    request_body = CaseBody,
    responses(
        (status = 201, description = "{case, reclassified[], region}", body = types::CaseChanged),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn confirm_case(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<CaseBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let new = NewCase {
        person_id: person_id("person_id", &b.person_id)?,
        onset_on: b
            .onset_on
            .as_deref()
            .map(|d| date_field("onset_on", d))
            .transpose()?,
        confirmed_on: date_field("confirmed_on", &b.confirmed_on)?,
        test_kind: parsed(
            "test_kind",
            &b.test_kind,
            TestKind::parse,
            "pcr, rapid_antigen",
        )?,
        severity: parsed(
            "severity",
            &b.severity,
            Severity::parse,
            "mild, moderate, severe, critical",
        )?,
        treated_at: b
            .treated_at
            .as_deref()
            .map(|t| text("treated_at", t, 200))
            .transpose()?,
    };
    let done = app.store.confirm_case(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::CaseChanged::from(done))).into_response())
}

/// One case, read (and audited).
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/cases/{id}",
    summary = "A case (by person id) with its class, valid doses, contact links, and each linked person's class and doses. The read is audited. A case outside the caller's areas answers 404.",
    params(("id" = String, Path, description = "the case's person id")),
    responses(
        (status = 200, description = "{case, class, valid_doses, links[], contacts[]}", body = types::CaseView),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_case(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let detail = app
        .store
        .read_case(&id, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::CaseView::from(detail)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// Why the test is reversed (e.g. a negative confirmatory test).
    reason: String,
}

/// Reverses a case's test.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/cases/{id}/reverse",
    summary = "Reverse a case's test: the person is no longer a case and everyone within three links is re-classified back. Refused: not a confirmed case (409), no reason (422).",
    params(("id" = String, Path, description = "the case's person id")),
    request_body = ReverseBody,
    responses(
        (status = 200, description = "{case, reclassified[], region}", body = types::CaseChanged),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn reverse_case(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReverseBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let reason = text("reason", &b.reason, 500)?;
    let done = app
        .store
        .reverse_case(&id, &reason, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::CaseChanged::from(done)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// under_treatment, recovered or died
    outcome: String,
    /// The day of recovery (outcome recovered only).
    recovered_on: Option<String>,
    severity: Option<String>,
    treated_at: Option<String>,
}

/// Records a case's outcome.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/cases/{id}/outcome",
    summary = "Record a case's outcome (recovered with its day, died, under treatment), and optionally its severity and where it is treated. After recovery no exposure to the case later than that day is accepted. Refused: a recovery before confirmation or without its day (422), not a confirmed case (409).",
    params(("id" = String, Path, description = "the case's person id")),
    request_body = OutcomeBody,
    responses(
        (status = 200, description = "the case", body = types::Case),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn case_outcome(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OutcomeBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let outcome = parsed(
        "outcome",
        &b.outcome,
        CaseOutcome::parse,
        "under_treatment, recovered, died",
    )?;
    let recovered_on = b
        .recovered_on
        .as_deref()
        .map(|d| date_field("recovered_on", d))
        .transpose()?;
    let severity = b
        .severity
        .as_deref()
        .map(|s| {
            parsed(
                "severity",
                s,
                Severity::parse,
                "mild, moderate, severe, critical",
            )
        })
        .transpose()?;
    let treated_at = b
        .treated_at
        .as_deref()
        .map(|t| text("treated_at", t, 200))
        .transpose()?;
    let case = app
        .store
        .update_case(&id, outcome, recovered_on, severity, treated_at, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Case::from(case)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactsQuery {
    /// F0, F1, F2 or F3 (all of them unless said).
    class: Option<String>,
    limit: Option<u32>,
}

/// Persons with a class in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/contacts",
    summary = "Persons in the caller's areas with a class (distance from the nearest confirmed case: F0 to F3), nearest first: {persons[]}",
    params(ContactsQuery),
    responses(
        (status = 200, description = "{persons[]}", body = types::ClassedContacts),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn list_contacts(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ContactsQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let class = match q.class.as_deref() {
        None => None,
        Some(c) => Some(
            Class::ALL
                .into_iter()
                .find(|k| k.as_str() == c)
                .ok_or_else(|| {
                    ApiError::invalid("class", format!("'{c}' is not F0, F1, F2 or F3"))
                })?,
        ),
    };
    let limit = page_limit(q.limit)? as i64;
    let persons = app
        .store
        .classed_persons(&actor.scope, class, limit)
        .await?;
    let persons = persons
        .into_iter()
        .map(types::ClassedContact::from)
        .collect();
    Ok(Json(types::ClassedContacts { persons }).into_response())
}

/// A person registered on the spot as a contact.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPersonBody {
    /// cccd, cmnd, cn_resident_id or passport
    id_type: String,
    id_number: String,
    full_name: String,
    birth_date: String,
    /// male, female or other
    sex: String,
    home_area: String,
    phone: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// The link's id (a UUID; made when absent). The same id twice is 409.
    id: Option<String>,
    source_person_id: String,
    /// A person in the registry; or give `person` to register them (a
    /// person whose ID number is already registered is linked, not copied).
    contact_person_id: Option<String>,
    person: Option<ContactPersonBody>,
    exposure_date: String,
    /// household, work, school, transport, healthcare or other
    setting: String,
}

fn new_person(p: &ContactPersonBody) -> Result<NewPerson, ApiError> {
    let id_type = IdType::parse(p.id_type.trim()).ok_or_else(|| {
        ApiError::invalid("id_type", format!("'{}' is not a known ID type", p.id_type))
    })?;
    let sex = Sex::parse(p.sex.trim()).ok_or_else(|| {
        ApiError::invalid("sex", format!("'{}' is not male, female or other", p.sex))
    })?;
    Ok(NewPerson {
        id: uuid::Uuid::now_v7().to_string(),
        id_type,
        id_number: text("id_number", &p.id_number, 32)?,
        full_name: text("full_name", &p.full_name, 200)?,
        birth_date: date_field("birth_date", &p.birth_date)?,
        sex,
        phone: p.phone.clone().filter(|s| !s.trim().is_empty()),
        home_area: text("home_area", &p.home_area, 64)?,
        occupation: None,
        priority_groups: Vec::new(),
    })
}

fn new_contact(b: &ContactBody) -> Result<NewContact, ApiError> {
    let contact = match (&b.contact_person_id, &b.person) {
        (Some(id), None) => ContactPerson::Existing(person_id("contact_person_id", id)?),
        (None, Some(p)) => ContactPerson::New(new_person(p)?),
        _ => {
            return Err(ApiError::invalid(
                "contact_person_id",
                "give either contact_person_id or person",
            ))
        }
    };
    Ok(NewContact {
        id: id_or_new("id", b.id.as_deref())?,
        source_person_id: person_id("source_person_id", &b.source_person_id)?,
        contact,
        exposure_on: date_field("exposure_date", &b.exposure_date)?,
        setting: parsed(
            "setting",
            &b.setting,
            Setting::parse,
            "household, work, school, transport, healthcare, other",
        )?,
    })
}

/// Traces one contact from a source person.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/contacts",
    summary = "Trace a contact: link a person (from the registry, or registered here; an ID number already registered is linked, not copied) to the source person they met, with exposure date and setting. Classes within three links are re-derived. Refused naming the field: a contact linked to itself (contact_person_id), an exposure before either's birth, after the source's recovery or in the future (exposure_date), a person outside the caller's areas; nothing is written.",
    request_body = ContactBody,
    responses(
        (status = 201, description = "{contact, reclassified[], region}", body = types::ContactAdded),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn add_contact(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ContactBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let new = new_contact(&b)?;
    match app.store.add_contacts(&[new], &actor).await? {
        Ok(added) => {
            Ok((StatusCode::CREATED, Json(types::ContactAdded::from(added))).into_response())
        }
        Err(rows) => Err(one_row_error(rows)),
    }
}

#[derive(Deserialize)]
struct ContactRow {
    source_person_id: String,
    #[serde(default)]
    contact_person_id: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    home_area: String,
    #[serde(default)]
    phone: String,
    exposure_date: String,
    setting: String,
}

fn contact_row(r: ContactRow) -> Result<NewContact, ApiError> {
    let named = !r.contact_person_id.trim().is_empty();
    let body = ContactBody {
        id: None,
        source_person_id: r.source_person_id,
        contact_person_id: named.then_some(r.contact_person_id),
        person: (!named).then(|| ContactPersonBody {
            id_type: r.id_type,
            id_number: r.id_number,
            full_name: r.full_name,
            birth_date: r.birth_date,
            sex: r.sex,
            home_area: r.home_area,
            phone: (!r.phone.trim().is_empty()).then_some(r.phone),
        }),
        exposure_date: r.exposure_date,
        setting: r.setting,
    };
    new_contact(&body)
}

/// The first field error of an ApiError from a row's checks.
fn row_problem(row: usize, e: ApiError) -> RowProblem {
    let (field, message) = match e {
        ApiError::Invalid(mut errors) if !errors.is_empty() => {
            let f = errors.remove(0);
            (f.field, f.message)
        }
        ApiError::BadRequest { field, message } => (field, message),
        other => ("row".to_string(), format!("{other:?}")),
    };
    RowProblem {
        row,
        field,
        message,
    }
}

/// Imports traced contacts as CSV.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/contacts/import",
    summary = "Import traced contacts as CSV (text/csv). Header: source_person_id,contact_person_id,id_type,id_number,full_name,birth_date,sex,home_area,phone,exposure_date,setting — a row names the contact by contact_person_id, or by the person columns (an ID number already registered links that record; otherwise the person is registered). Every bad row is named with its row number (from 1, after the header) and field; nothing is written unless all rows are good.",
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "{imported, linked, registered, reclassified}", body = types::ContactsImported),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import_contacts(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    CsvBody(body): CsvBody,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::bad_request("header", e.to_string()))?
        .clone();
    for required in ["source_person_id", "exposure_date", "setting"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ApiError::bad_request(
                "header",
                format!("the header must name {required}"),
            ));
        }
    }
    let mut contacts = Vec::new();
    let mut problems = Vec::new();
    let mut count = 0;
    for (i, record) in reader.deserialize::<ContactRow>().enumerate() {
        count += 1;
        if count > MAX_IMPORT_ROWS {
            return Err(ApiError::invalid(
                "body",
                format!("at most {MAX_IMPORT_ROWS} rows in one import"),
            ));
        }
        match record
            .map_err(|e| ApiError::bad_request("row", e.to_string()))
            .and_then(contact_row)
        {
            Ok(c) => contacts.push((i + 1, c)),
            Err(e) => problems.push(row_problem(i + 1, e)),
        }
    }
    if count == 0 {
        return Err(ApiError::invalid("body", "the file has no rows"));
    }
    if !problems.is_empty() {
        return Err(ApiError::Rows {
            count,
            errors: problems,
        });
    }
    let rows: Vec<NewContact> = contacts.iter().map(|(_, c)| c.clone()).collect();
    match app.store.add_contacts(&rows, &actor).await? {
        Ok((records, re)) => {
            let linked = records.iter().filter(|r| r.linked).count();
            Ok((
                StatusCode::CREATED,
                Json(types::ContactsImported {
                    imported: records.len(),
                    linked,
                    registered: records.len() - linked,
                    reclassified: re.changes.len(),
                }),
            )
                .into_response())
        }
        Err(bad) => Err(rows_error(
            count,
            bad.into_iter()
                .map(|mut r| {
                    r.row = contacts.get(r.row - 1).map_or(r.row, |c| c.0);
                    r
                })
                .collect(),
        )),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IsolationBody {
    id: Option<String>,
    person_id: String,
    start_on: String,
    /// The household check's answer: home isolation is possible here.
    home_possible: bool,
    /// The facility, when the isolation starts at one (F1, or no home).
    facility_name: Option<String>,
}

/// Starts a contact's isolation.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/isolations",
    summary = "Start a contact's isolation, planned by their province's isolation rule (GET/PUT /api/v1/outbreak/isolation-policy) for their class (F1 at a facility then home; F2/F3 at home, or at a facility for the whole period when the household check fails) and vaccination status (fully vaccinated: two valid doses): place, start, planned end, tests due. Refused: a person with no class or a case (person_id), a facility isolation without facility_name (422), an isolation overlapping another (409).",
    request_body = IsolationBody,
    responses(
        (status = 201, description = "the isolation", body = types::Isolation),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn start_isolation(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<IsolationBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let new = NewIsolation {
        id: id_or_new("id", b.id.as_deref())?,
        person_id: person_id("person_id", &b.person_id)?,
        start_on: date_field("start_on", &b.start_on)?,
        home_possible: b.home_possible,
        facility_name: b
            .facility_name
            .as_deref()
            .map(|f| text("facility_name", f, 200))
            .transpose()?,
    };
    // The rule of the person's province (the default when it set none).
    let person = app.store.person_in(&new.person_id, &actor.scope).await?;
    let policy = app.store.isolation_policy(&person.province_code).await?;
    let rec = app
        .store
        .start_isolation(&new, &policy.policy, &actor)
        .await?;
    Ok((StatusCode::CREATED, Json(types::Isolation::from(rec))).into_response())
}

/// A person's isolations.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/persons/{id}/isolations",
    summary = "A person's isolations (place, start, planned end, tests due): {isolations[]}. A person outside the caller's areas answers 404.",
    params(("id" = String, Path, description = "person id")),
    responses(
        (status = 200, description = "{isolations[]}", body = types::Isolations),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn isolations_of(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let list = app
        .store
        .isolations_of(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let isolations = list.into_iter().map(types::Isolation::from).collect();
    Ok(Json(types::Isolations { isolations }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    person_id: String,
    /// The day checked (today unless said).
    day: Option<String>,
    present: bool,
    /// Body temperature in °C.
    temperature_c: Option<f64>,
    /// e.g. cough, fever, difficulty_breathing, chest_pain, confusion
    #[serde(default)]
    symptoms: Vec<String>,
    /// Oxygen saturation in %.
    spo2: Option<u8>,
}

/// Records the team's daily check.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/checks",
    summary = "Record the rapid-response team's daily check of an isolated person (present, temperature, symptoms, SpO2). Absence, fever (≥ 38 °C), SpO2 < 96 % and danger symptoms raise alerts, shown on the team's and the district's lists. Refused: a person not in isolation that day (person_id), a temperature outside 30–45 °C, SpO2 outside 50–100 (422), a second check of the same day (409).",
    request_body = CheckBody,
    responses(
        (status = 201, description = "the check with its alerts", body = types::IsolationCheck),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn record_check(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<CheckBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let symptoms = b
        .symptoms
        .iter()
        .map(|s| text("symptoms", s, 64))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewCheck {
        person_id: person_id("person_id", &b.person_id)?,
        day: match b.day.as_deref() {
            Some(d) => date_field("day", d)?,
            None => app.store.today(),
        },
        check: Check {
            present: b.present,
            temperature_c: b.temperature_c,
            symptoms,
            spo2: b.spo2,
        },
    };
    let rec = app.store.record_check(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::IsolationCheck::from(rec))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// The day (today unless said), YYYY-MM-DD.
    day: Option<String>,
    /// The `next_cursor` of the page before (opaque).
    after: Option<String>,
    /// Entries per page, 1–500 (default 50).
    limit: Option<u32>,
}

fn day_of(q: &DayQuery) -> Result<time::Date, ApiError> {
    match q.day.as_deref() {
        Some(d) => date_field("day", d),
        None => Ok(vaxgrid_store::today()),
    }
}

/// A page of the team's list or of the alerts, with the day's counts.
async fn team_answer(
    app: &AppState,
    caller: &Caller,
    q: DayQuery,
    view: TeamView,
) -> Result<Response, ApiError> {
    let actor = caller.actor(app, Permission::ReadOutbreak).await?;
    let day = day_of(&q)?;
    let page = super::lists::page_request(q.after, q.limit)?;
    let list = app
        .store
        .team_page(&actor.scope, day, view, &page)
        .await
        .map_err(super::lists::listing)?;
    let counts = app
        .store
        .team_counts(&actor.scope, day, view == TeamView::Alerts)
        .await?;
    Ok(Json(types::TeamList {
        day: vaxgrid_store::format_date(day),
        counts: counts.into(),
        entries: list
            .entries
            .into_iter()
            .map(types::TeamListEntry::from)
            .collect(),
        next_cursor: list.next_cursor,
    })
    .into_response())
}

/// The team's list for a day.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/team-list",
    summary = "The rapid-response team's list for a day, a page at a time: everyone in the caller's areas at home in isolation that day, those not yet checked that day first (then by area and person), each checked or not, a sample due or not, past days with no check, and alerts; with the day's counts (alerts counted on the alert list only, null here): {day, counts{people, checked, alerts}, entries[], next_cursor}",
    params(DayQuery),
    responses(
        (status = 200, description = "{day, counts, entries[], next_cursor}", body = types::TeamList),
        (status = 400, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn team_list(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Response, ApiError> {
    team_answer(&app, &caller, q, TeamView::List).await
}

/// The alerts of the caller's areas for a day.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/alerts",
    summary = "The alert list for a day, a page at a time: the team-list entries in the caller's areas with an alert — a danger sign in the latest check (absence, fever, low SpO2, a danger symptom) first, then a missed check only. A district's responder sees its communes' alerts: {day, counts, entries[], next_cursor}",
    params(DayQuery),
    responses(
        (status = 200, description = "{day, counts, entries[], next_cursor}", body = types::TeamList),
        (status = 400, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn alerts(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Response, ApiError> {
    team_answer(&app, &caller, q, TeamView::Alerts).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaboratoryBody {
    code: String,
    name: String,
    area_code: String,
    /// PCR runs a day (a pool is one run).
    single_per_day: i64,
    confirmatory_per_day: i64,
    /// The largest pool the laboratory takes (1–100; article 003 pools by 10).
    max_pool: i64,
}

/// Adds a laboratory.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/laboratories",
    summary = "Add a laboratory at an area in the caller's areas with its daily capacity (single PCR runs, confirmatory tests) and largest pool. Refused: a negative capacity, max_pool outside 1–100 (422), a code taken (409).",
    request_body = LaboratoryBody,
    responses(
        (status = 201, description = "the laboratory", body = types::Laboratory),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_laboratory(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<LaboratoryBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let lab = Laboratory {
        code: text("code", &b.code, 32)?,
        name: text("name", &b.name, 200)?,
        area_code: text("area_code", &b.area_code, 64)?,
        single_per_day: b.single_per_day,
        confirmatory_per_day: b.confirmatory_per_day,
        max_pool: b.max_pool,
    };
    let lab = app.store.create_laboratory(&lab, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::Laboratory::from(lab))).into_response())
}

/// Laboratories in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/laboratories",
    summary = "Laboratories in the caller's areas with their daily capacity: {laboratories[]}",
    responses((status = 200, description = "{laboratories[]}", body = types::Laboratories))
)]
pub async fn list_laboratories(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let labs = app.store.laboratories(&actor.scope).await?;
    let laboratories = labs.into_iter().map(types::Laboratory::from).collect();
    Ok(Json(types::Laboratories { laboratories }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleBody {
    /// The sample's id (a UUID; made when absent).
    id: Option<String>,
    person_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplesBody {
    /// Today unless said.
    collected_on: Option<String>,
    samples: Vec<SampleBody>,
}

/// Records samples sent to a laboratory.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/laboratories/{code}/samples",
    summary = "Record samples taken from persons in the caller's areas and sent to a laboratory; they wait for a test. All or nothing.",
    params(("code" = String, Path, description = "laboratory code")),
    request_body = SamplesBody,
    responses(
        (status = 201, description = "{samples[]}", body = types::Samples),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn collect_samples(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<SamplesBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    app.store
        .laboratory(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    if b.samples.is_empty() || b.samples.len() > 10_000 {
        return Err(ApiError::invalid("samples", "1 to 10,000 samples"));
    }
    let samples = b
        .samples
        .iter()
        .map(|s| {
            Ok((
                id_or_new("id", s.id.as_deref())?,
                person_id("person_id", &s.person_id)?,
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let day = match b.collected_on.as_deref() {
        Some(d) => date_field("collected_on", d)?,
        None => app.store.today(),
    };
    let out = app
        .store
        .collect_samples(&code, &samples, day, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(types::Samples {
            samples: out.into_iter().map(types::Sample::from).collect(),
        }),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The waiting samples to test together: one is a single test, more a
    /// pool (at most the laboratory's max_pool).
    samples: Vec<String>,
    /// A single test made to confirm (it waits for the laboratory's
    /// confirmatory capacity, as a positive pool's re-tests do).
    #[serde(default)]
    confirmatory: bool,
}

/// Makes a test (single or pooled) of waiting samples.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/laboratories/{code}/tests",
    summary = "Test waiting samples of a laboratory together: one sample is a single test, more are a pool; confirmatory: true makes a single test a confirmatory one (queued against the confirmatory capacity). Refused: pool size 0 or above the laboratory's maximum (pool_size), a sample not waiting or named twice (samples), a confirmatory pool (confirmatory); nothing is written.",
    params(("code" = String, Path, description = "laboratory code")),
    request_body = TestBody,
    responses(
        (status = 201, description = "the test", body = types::LabTest),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn make_test(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<TestBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    app.store
        .laboratory(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let test = app
        .store
        .make_test_as(&code, &b.samples, b.confirmatory, app.store.today(), &actor)
        .await?;
    Ok((StatusCode::CREATED, Json(types::LabTest::from(test))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    /// negative or positive
    outcome: String,
}

/// Records a test's result.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/tests/{id}/result",
    summary = "Record a test's result: a negative clears its samples; a positive pool makes a single re-test of each member; a positive single test confirms its person as a case (and re-classifies the graph). A final negative clears a contact (cleared[]; the lists show the person's last result) and reverses a case confirmed by a rapid antigen test when the negative is its confirmatory PCR (reversed[], re-classified as a reversal would); a PCR-confirmed case is never undone by a later negative. Refused: a result given twice (409).",
    params(("id" = String, Path, description = "test id")),
    request_body = ResultBody,
    responses(
        (status = 200, description = "{test, retests[], resulted[], confirmed[], cleared[], reversed[], reclassified}", body = types::TestResult),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn record_result(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ResultBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let outcome = match b.outcome.trim() {
        "negative" => Outcome::Negative,
        "positive" => Outcome::Positive,
        other => {
            return Err(ApiError::invalid(
                "outcome",
                format!("'{other}' is not negative or positive"),
            ))
        }
    };
    let out = app
        .store
        .record_result(&id, outcome, app.store.today(), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::TestResult::from(out)).into_response())
}

/// A laboratory's queue.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/laboratories/{code}/queue",
    summary = "A laboratory's pending tests in order, each with the day it will run: screening runs (pools, single tests) at the laboratory's single capacity, confirmatory tests (a positive pool's re-tests, tests made to confirm; confirmatory: true) at its confirmatory capacity, the runs already resulted today taken: {laboratory, queue[]}",
    params(("code" = String, Path, description = "laboratory code")),
    responses(
        (status = 200, description = "{laboratory, queue[]}", body = types::LabQueue),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn lab_queue(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let lab = app
        .store
        .laboratory(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let queue = app
        .store
        .lab_queue(&code, app.store.today(), &actor.scope)
        .await?;
    Ok(Json(types::LabQueue {
        laboratory: lab.into(),
        queue: queue.into_iter().map(types::QueuedTest::from).collect(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RingQuery {
    /// The outbreak area (an area code in the caller's areas).
    area: String,
    /// Eligible from this age (default 18).
    min_age: Option<u32>,
    limit: Option<u32>,
}

/// The ring-vaccination list.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/ring",
    summary = "The ring-vaccination list: unvaccinated (no valid dose) eligible persons (min_age, default 18) living in the outbreak area, and the household contacts of everyone with a class there, ready to book: {area, coverage, persons[]} with reason area or household. Beside it, the outbreak area's vaccination coverage from the registry's counters: population, at_least_one, completed, unvaccinated and the two percentages (null for an empty area), for the area and each area under it (coverage.children).",
    params(RingQuery),
    responses(
        (status = 200, description = "{area, coverage, persons[]}", body = types::Ring),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn ring(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<RingQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let area = app
        .store
        .area(&q.area)
        .await
        .map_err(|_| ApiError::Absent {
            entity: "area",
            key: q.area.clone(),
        })?;
    if !actor.scope.covers_path(&area.path) {
        return Err(ApiError::Absent {
            entity: "area",
            key: q.area.clone(),
        });
    }
    let min_age = q.min_age.unwrap_or(18);
    if min_age > 120 {
        return Err(ApiError::invalid("min_age", "min_age is 0 to 120"));
    }
    let limit = page_limit(q.limit)? as i64;
    let persons = app
        .store
        .ring_list(&area.path, min_age, app.store.today(), &actor.scope, limit)
        .await?;
    // Beside the list, the area's coverage from the registry's counters
    // (never a recount of doses): the whole area and each area under it.
    let report = app.store.coverage(&area.code).await?;
    let coverage = types::RingCoverage {
        area: (&report.area).into(),
        children: report
            .children
            .iter()
            .map(types::AreaCoverage::from)
            .collect(),
    };
    Ok(Json(types::Ring {
        area: area.code,
        coverage,
        persons: persons.into_iter().map(types::RingPerson::from).collect(),
    })
    .into_response())
}

/// The shipped scenarios.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/scenarios",
    summary = "The shipped surge scenarios (article 003's plan for 1,000 / 5,000 / 10,000 cases): {scenarios[]}, each ready to POST to /api/v1/outbreak/surge",
    responses((status = 200, description = "{scenarios[]}"))
)]
pub async fn scenarios(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    caller.actor(&app, Permission::PlanSurge).await?;
    let list: Vec<Scenario> = [1000, 5000, 10000]
        .into_iter()
        .filter_map(surge::shipped)
        .collect();
    Ok(Json(serde_json::json!({ "scenarios": list })).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SurgeQuery {
    /// Plan over this province's stored treatment facilities (their beds,
    /// stages, and which are active today) instead of the scenario's own.
    province: Option<String>,
}

/// Projects a scenario.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/surge",
    summary = "Project a surge scenario day by day: bed need per tier and region against capacity, the day each runs out, which facility to activate next, isolation places, and laboratory load (contacts' and screening samples, pooled, with the re-test cost of positive pools) against single and confirmatory capacity. With ?province=CODE the facilities are the province's stored ones (active ones open from day 0, the others at their stage or when need calls), so the facility to activate next is a real one. Refused naming the field: shares not summing to 100 %, a negative capacity, a pool size of 0, days outside 1–366, a stored facility in a region the scenario lacks (province); a province outside the caller's areas answers 404.",
    params(SurgeQuery),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 200, description = "{days[], tiers[], activations[], lab, peak_isolation_facility, peak_isolation_home}"),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn surge_plan(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<SurgeQuery>,
    ApiJson(s): ApiJson<Scenario>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::PlanSurge).await?;
    let s = match q.province.as_deref() {
        Some(p) => {
            crate::api::outbreak_facilities::with_stored_facilities(&app, s, p, &actor.scope)
                .await?
        }
        None => s,
    };
    let p = surge::project(&s).map_err(|e| ApiError::invalid(e.field, e.reason))?;
    Ok(Json(p).into_response())
}
