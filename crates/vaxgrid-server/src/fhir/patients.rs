//! `GET /fhir/Patient` (search by identifier, family name and birth date)
//! and `POST /fhir/Patient` (one Patient, conditionally with
//! `If-None-Exist`), beside the transaction Bundle.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use vaxgrid_interop::fhir::{patient_from_fhir, search_bundle, IssueCode, Severity};
use vaxgrid_store::persons::PersonQuery;
use vaxgrid_store::scope::Scope;

use super::{
    base_url, exchange_request, fhir, issue, outcome, patient_resource, person_of, unavailable,
    with_as_sent, PATIENT_AS_SENT,
};
use crate::exchange::{find_or_register, Refusal, VN_CITIZEN_ID_SYSTEM};
use crate::extract::ApiQuery;
use crate::AppState;

/// The most Patients a search answers with (a search narrows to a person).
const SEARCH_LIMIT: usize = 50;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PatientSearch {
    identifier: Option<String>,
    family: Option<String>,
    birthdate: Option<String>,
}

/// The registry search a FHIR Patient search asks for, or the parameter
/// at fault. `identifier` is a token, `system|value` or `value`: the
/// citizen-ID system (or vaxgrid's `urn:vaxgrid:id-type:<type>`) finds the
/// national document on the person's record, any other system is the
/// identifier's assigning authority.
fn query_of(s: &PatientSearch, scope: Scope) -> Result<PersonQuery, (&'static str, String)> {
    let mut q = PersonQuery {
        scope,
        ..PersonQuery::default()
    };
    if let Some(token) = s.identifier.as_deref().map(str::trim) {
        let (system, value) = match token.split_once('|') {
            Some((system, value)) => (Some(system.trim()).filter(|s| !s.is_empty()), value.trim()),
            None => (None, token),
        };
        if value.is_empty() {
            return Err(("identifier", "identifier is system|value or value".into()));
        }
        let national = system.and_then(|sys| {
            if sys.eq_ignore_ascii_case(VN_CITIZEN_ID_SYSTEM) {
                return Some(vaxgrid_core::identity::IdType::Cccd);
            }
            sys.strip_prefix("urn:vaxgrid:id-type:")
                .and_then(vaxgrid_core::identity::IdType::parse)
        });
        match (system, national) {
            (_, Some(_)) => q.id_number = Some(value.to_string()),
            (Some(sys), None) => {
                q.identifier = Some(value.to_string());
                q.authority = Some(sys.to_string());
            }
            (None, None) => q.identifier = Some(value.to_string()),
        }
    }
    if let Some(family) = s.family.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        q.name = Some(family.to_string());
    }
    if let Some(born) = s.birthdate.as_deref().map(str::trim) {
        let date = vaxgrid_store::parse_date(born.strip_prefix("eq").unwrap_or(born))
            .ok_or(("birthdate", format!("'{born}' is not a date YYYY-MM-DD")))?;
        q.birth_date = Some(vaxgrid_store::format_date(date));
    }
    if q.id_number.is_none() && q.identifier.is_none() && q.name.is_none() {
        return Err((
            "identifier",
            "search Patient by identifier, or by family (with birthdate)".into(),
        ));
    }
    Ok(q)
}

fn bad_search(param: &str, message: String) -> Response {
    outcome(
        StatusCode::BAD_REQUEST,
        &[issue(IssueCode::Value, param, message)],
    )
}

#[utoipa::path(
    get,
    path = "/fhir/Patient",
    summary = "FHIR R4 Patient search (searchset Bundle): identifier=system|value (any identifier: the citizen-ID system finds the national document, another system is the identifier's assigning authority), family, birthdate",
    params(
        ("identifier" = Option<String>, Query, description = "token: system|value or value"),
        ("family" = Option<String>, Query, description = "family name or its start, with or without diacritics"),
        ("birthdate" = Option<String>, Query, description = "YYYY-MM-DD"),
    ),
    responses(
        (status = 200, description = "searchset Bundle", content_type = "application/fhir+json"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 503, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn search_patients(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    headers: HeaderMap,
    ApiQuery(s): ApiQuery<PatientSearch>,
) -> Response {
    let actor = match super::reader(&app, &caller).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let q = match query_of(&s, actor.scope.clone()) {
        Ok(q) => q,
        Err((param, message)) => return bad_search(param, message),
    };
    let page = match app.store.search_persons(&q, None, SEARCH_LIMIT).await {
        Ok(p) => p,
        Err(vaxgrid_store::StoreError::Invalid { field, message }) => {
            return bad_search(
                if field == "name" {
                    "family"
                } else {
                    "identifier"
                },
                message,
            )
        }
        Err(e) => return unavailable(e),
    };
    let mut resources = Vec::with_capacity(page.items.len());
    for p in &page.items {
        match patient_resource(&app, p).await {
            Ok(v) => resources.push(v),
            Err(e) => return unavailable(e),
        }
    }
    fhir(
        StatusCode::OK,
        search_bundle(&base_url(&headers), resources),
    )
}

/// What `If-None-Exist` names, as a search (`identifier=…&birthdate=…`).
fn condition_of(header: &str) -> Result<PatientSearch, String> {
    let mut s = PatientSearch::default();
    for (k, v) in form_urlencoded::parse(header.trim_start_matches('?').as_bytes()) {
        match k.as_ref() {
            "identifier" => s.identifier = Some(v.into_owned()),
            "family" => s.family = Some(v.into_owned()),
            "birthdate" => s.birthdate = Some(v.into_owned()),
            other => {
                return Err(format!(
                    "If-None-Exist: '{other}' is not a Patient search parameter here (identifier, family, birthdate)"
                ))
            }
        }
    }
    Ok(s)
}

fn located(status: StatusCode, id: &str, body: Value) -> Response {
    let mut r = fhir(status, body);
    if let Ok(v) = HeaderValue::from_str(&format!("Patient/{id}/_history/1")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[utoipa::path(
    post,
    path = "/fhir/Patient",
    summary = "FHIR R4 create one Patient. With If-None-Exist (identifier=system|value, family, birthdate) a match answers 200 with it and creates nothing, several matches 412. Without it the person is still found by any identifier they hold (200), else registered (201), with or without a national document.",
    params(("If-None-Exist" = Option<String>, Header, description = "conditional create: a Patient search")),
    request_body(content = String, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "Patient (already registered)", content_type = "application/fhir+json"),
        (status = 201, description = "Patient (registered)", content_type = "application/fhir+json"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 412, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 413, response = crate::error::Problem),
        (status = 422, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 503, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn create_patient(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (by, sent) = match exchange_request(&app, &caller, &body, "Patient").await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let patient = match patient_from_fhir(&sent) {
        Ok(p) => p,
        Err(issues) => return outcome(StatusCode::BAD_REQUEST, &issues),
    };
    // A name and a full birth date (a dose registry needs it), as in a
    // transaction.
    if let Err(issues) = vaxgrid_interop::fhir::check_registration(&patient) {
        return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues);
    }
    if let Some(condition) = headers.get("if-none-exist") {
        let Ok(text) = condition.to_str() else {
            return bad_search("If-None-Exist", "not text".into());
        };
        let q = match condition_of(text).and_then(|s| {
            query_of(&s, Scope::All).map_err(|(p, m)| format!("If-None-Exist: {p}: {m}"))
        }) {
            Ok(q) => q,
            Err(m) => return bad_search("If-None-Exist", m),
        };
        let found = match app.store.search_persons(&q, None, 2).await {
            Ok(f) => f,
            Err(vaxgrid_store::StoreError::Invalid { message, .. }) => {
                return bad_search("If-None-Exist", message)
            }
            Err(e) => return unavailable(e),
        };
        match found.items.as_slice() {
            [] => {}
            [one] => return existing(&app, one, &by).await,
            _ => {
                return outcome(
                    StatusCode::PRECONDITION_FAILED,
                    &[issue(
                        IssueCode::Processing,
                        "If-None-Exist",
                        "several Patients match the condition: none was created",
                    )],
                )
            }
        }
    }
    match find_or_register(&app, &person_of(&patient), None, &by).await {
        Ok(placed) if !placed.created => existing(&app, &placed.person, &by).await,
        Ok(placed) => {
            let kept = with_as_sent(&patient.extra, &sent, PATIENT_AS_SENT);
            if let Err(e) = app
                .store
                .save_fhir_extra("Patient", &placed.person.id, &kept)
                .await
            {
                return unavailable(e);
            }
            match patient_resource(&app, &placed.person).await {
                Ok(v) => located(StatusCode::CREATED, &placed.person.id, v),
                Err(e) => unavailable(e),
            }
        }
        Err(Refusal::Field { field, message }) => outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[issue(
                IssueCode::Invalid,
                format!("Patient.{}", super::element(&field)).trim_end_matches('.'),
                message,
            )],
        ),
        Err(Refusal::Unavailable(e)) => unavailable(e),
    }
}

/// The answer for a Patient already registered: 200 with it when the
/// caller may read them, else 200 with an OperationOutcome naming only
/// its id (the person is outside the caller's areas).
async fn existing(
    app: &AppState,
    person: &vaxgrid_store::model::Person,
    by: &vaxgrid_store::model::Actor,
) -> Response {
    if by
        .scope
        .covers_person(&person.id, &person_path(app, person).await)
    {
        match patient_resource(app, person).await {
            Ok(v) => located(StatusCode::OK, &person.id, v),
            Err(e) => unavailable(e),
        }
    } else {
        let mut o = issue(
            IssueCode::Informational,
            "Patient",
            "this Patient is already registered",
        );
        o.severity = Severity::Information;
        located(
            StatusCode::OK,
            &person.id,
            vaxgrid_interop::fhir::operation_outcome(&[o]),
        )
    }
}

async fn person_path(app: &AppState, person: &vaxgrid_store::model::Person) -> String {
    app.store
        .area(&person.home_area)
        .await
        .map(|a| a.path)
        .unwrap_or_default()
}
