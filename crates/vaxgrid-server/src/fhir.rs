//! FHIR R4 over HTTP: `GET /fhir/metadata`, `GET /fhir/Patient/{id}`,
//! `GET /fhir/Patient?identifier=…`, `POST /fhir/Patient` (conditional
//! with `If-None-Exist`),
//! `GET /fhir/Immunization/{id}`, `GET /fhir/Immunization?patient=…`,
//! `POST /fhir/Immunization` (one), `GET /fhir/$export?area=…` (NDJSON) and
//! `POST /fhir` with a transaction Bundle of Patients and Immunizations.
//! Errors are OperationOutcomes naming the element (FHIR clients read those,
//! not problem+json). Elements vaxgrid does not map are kept and given back,
//! so what a client sends it reads again.
//!
//! A transaction is checked as a whole first (shapes, references, national
//! IDs, vaccines, sites, lots); then its persons, doses and history
//! records are written in one transaction through the dose writer (the
//! dose rules applied again): all of it or, if a rule still refuses a dose
//! (a history changed meanwhile), nothing. Ids are derived from the
//! Bundle, so a Bundle sent twice records nothing twice.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use vaxgrid_core::names::split_vietnamese_name;
use vaxgrid_interop::fhir::{
    capability_statement, immunization_to_fhir, operation_outcome, parse_transaction,
    patient_to_fhir, search_bundle, transaction_response, AddressData, Coding, EntryOutcome,
    Gender, Identifier, ImmunizationData, ImmunizationStatus, Issue, IssueCode, Occurrence,
    PatientData, Resource, Severity, Transaction, TransactionEntry,
};
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::exchange::OtherVaccination;
use vaxgrid_store::model::{CorrectionRequest, DoseKind, DoseRecord, Person};

use crate::api::doses::DoseBody;
use crate::exchange::{
    dose_id_for, plan_person, ExternalId, ExternalPerson, PersonPlan, Refusal, VN_CITIZEN_ID_SYSTEM,
};
use crate::extract::ApiQuery;
use crate::AppState;
use vaxgrid_store::exchange::{ExchangePart, ExchangeWrite, OtherVaccinationInput, Registration};

mod immunizations;
mod patients;
pub use immunizations::{
    __path_create_immunization, __path_export, create_immunization, export, FHIR_NDJSON,
};
pub use patients::{
    __path_create_patient, __path_search_patients, create_patient, search_patients,
};

pub const FHIR_JSON: &str = "application/fhir+json";
/// The largest Bundle taken.
pub const BUNDLE_LIMIT: usize = 4 * 1024 * 1024;
const CVX_SYSTEM: &str = "http://hl7.org/fhir/sid/cvx";
/// The EU product codes (`mp` of the DCC) as a coding system.
const EU_PRODUCT_SYSTEM: &str = "https://ec.europa.eu/health/documents/community-register/html/";

fn fhir(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        body.to_string(),
    )
        .into_response()
}

fn outcome(status: StatusCode, issues: &[Issue]) -> Response {
    fhir(status, operation_outcome(issues))
}

fn issue(code: IssueCode, expression: impl Into<String>, diagnostics: impl Into<String>) -> Issue {
    Issue {
        severity: Severity::Error,
        code,
        expression: expression.into(),
        diagnostics: diagnostics.into(),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    let mut r = outcome(
        StatusCode::SERVICE_UNAVAILABLE,
        &[issue(
            IssueCode::Transient,
            "",
            format!("the registry cannot answer now ({e}); retry"),
        )],
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn not_found(what: &str) -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        &[issue(
            IssueCode::NotFound,
            what,
            format!("{what} does not exist"),
        )],
    )
}

/// Mapped elements vaxgrid keeps in its own terms (one full name, a home
/// area, a date): the sender's original form of each is kept beside the
/// unmapped rest and given back as sent.
const PATIENT_AS_SENT: &[&str] = &["identifier", "name", "telecom", "address"];
const IMMUNIZATION_AS_SENT: &[&str] = &[
    "vaccineCode",
    "occurrenceDateTime",
    "occurrenceString",
    "site",
    "expirationDate",
    "manufacturer",
    "location",
    "performer",
    "protocolApplied",
];
const AS_SENT_KEY: &str = "_vaxgridAsSent";

/// The unmapped rest of a resource plus the original form of `keys`.
fn with_as_sent(extra: &Value, sent: &Value, keys: &[&str]) -> Value {
    let mut kept = extra.as_object().cloned().unwrap_or_default();
    let originals: serde_json::Map<String, Value> = keys
        .iter()
        .filter_map(|k| sent.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    if !originals.is_empty() {
        kept.insert(AS_SENT_KEY.into(), Value::Object(originals));
    }
    Value::Object(kept)
}

/// Splits what was kept into the unmapped rest and the originals.
fn split_as_sent(mut kept: Value) -> (Value, Option<Value>) {
    let originals = kept.as_object_mut().and_then(|o| o.remove(AS_SENT_KEY));
    (kept, originals)
}

/// Puts the originals back over vaxgrid's rendering.
fn restore_as_sent(mut resource: Value, originals: Option<Value>) -> Value {
    if let (Some(out), Some(Value::Object(originals))) = (resource.as_object_mut(), originals) {
        for (k, v) in originals {
            if k.starts_with("occurrence") {
                out.remove("occurrenceDateTime");
                out.remove("occurrenceString");
            }
            out.insert(k, v);
        }
    }
    resource
}

/// The base URL clients reach this endpoint at.
fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/fhir")
}

#[utoipa::path(
    get,
    path = "/fhir/metadata",
    summary = "FHIR R4 CapabilityStatement",
    responses(
        (status = 200, description = "CapabilityStatement", content_type = "application/fhir+json"),
    )
)]
pub async fn metadata(headers: axum::http::HeaderMap) -> Response {
    fhir(
        StatusCode::OK,
        capability_statement(&base_url(&headers), env!("CARGO_PKG_VERSION")),
    )
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// One of a person's identifiers as a FHIR identifier: a national document
/// under the citizen-ID system (CCCD) or vaxgrid's own, a passport's or an
/// MRN's authority as the system, the v2-0203 type code.
fn fhir_identifier(i: &vaxgrid_core::identity::Identifier) -> Identifier {
    use vaxgrid_core::identity::IdentifierType as T;
    let own = || format!("urn:vaxgrid:id-type:{}", i.id_type.as_str());
    let authority = Some(i.authority.clone()).filter(|a| !a.is_empty());
    let (system, code) = match i.id_type {
        T::Cccd => (VN_CITIZEN_ID_SYSTEM.to_string(), Some("NI")),
        T::Cmnd | T::CnResident => (own(), Some("NI")),
        T::Passport => (authority.unwrap_or_else(own), Some("PPN")),
        T::Mrn => (authority.unwrap_or_else(own), Some("MR")),
        T::Insurance => (authority.unwrap_or_else(own), Some("SN")),
        T::BirthCertificate => (authority.unwrap_or_else(own), Some("BCT")),
        T::Other => (authority.unwrap_or_else(own), None),
    };
    Identifier {
        system: Some(system),
        value: i.value.clone(),
        type_code: code.map(str::to_string),
    }
}

/// The person as a FHIR Patient, as `GET /fhir/Patient/{id}` answers:
/// every identifier, and what their own FHIR record carried.
async fn patient_resource(
    app: &AppState,
    person: &Person,
) -> Result<Value, vaxgrid_store::StoreError> {
    let areas = app.store.area_map().await?;
    let extra = app.store.fhir_extra("Patient", &person.id).await?;
    let identifiers = app.store.identifiers_of(person).await?;
    let (extra, as_sent) = split_as_sent(extra);
    Ok(restore_as_sent(
        patient_of(person, &identifiers, &areas, extra),
        as_sent,
    ))
}

/// A person as a FHIR Patient, with what their own FHIR record carried.
fn patient_of(
    p: &Person,
    identifiers: &[vaxgrid_core::identity::Identifier],
    areas: &vaxgrid_store::persons::AreaMap,
    extra: Value,
) -> Value {
    let (family, given) = split_vietnamese_name(&p.full_name);
    // The home area and everything above it, most specific first.
    let chain: Vec<&vaxgrid_store::model::Area> = areas
        .get(&p.home_area)
        .map(|home| {
            home.path
                .split('/')
                .filter(|c| !c.is_empty())
                .rev()
                .filter_map(|c| areas.get(c))
                .collect()
        })
        .unwrap_or_default();
    // The address's state is the top of the tree, its city the commune
    // (township) level, its district the level just above that if it is
    // not the top (a three-level tree has none).
    let local = areas.levels.local_depth();
    let name_at = |depth: Option<usize>| {
        depth.and_then(|d| {
            chain
                .iter()
                .find(|a| a.depth() == d)
                .map(|a| a.name.clone())
        })
    };
    let data = PatientData {
        id: Some(p.id.clone()),
        identifiers: identifiers.iter().map(fhir_identifier).collect(),
        family,
        given: given.split_whitespace().map(str::to_string).collect(),
        full_name: p.full_name.clone(),
        birth_date: vaxgrid_store::parse_date(&p.birth_date),
        sex: Gender::parse(p.sex.as_str()).unwrap_or(Gender::Unknown),
        phone: p.phone.clone(),
        address: Some(AddressData {
            text: Some(
                chain
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|t| !t.is_empty()),
            line: Vec::new(),
            city: name_at(Some(local)),
            district: name_at(local.checked_sub(1).filter(|d| *d > 0)),
            state: name_at(Some(0)),
            postal_code: None,
            country: Some("VN".into()),
        }),
        extra,
    };
    patient_to_fhir(&data)
}

/// The caller as a reader of the registry, or the answer that ends the request.
async fn reader(
    app: &AppState,
    caller: &crate::auth::Caller,
) -> Result<vaxgrid_store::model::Actor, Box<Response>> {
    caller
        .actor(app, vaxgrid_core::access::Permission::ReadRegistry)
        .await
        .map_err(|e| Box::new(e.into_response()))
}

#[utoipa::path(
    get,
    path = "/fhir/Patient/{id}",
    summary = "FHIR R4 Patient",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Patient", content_type = "application/fhir+json"),
        (status = 404, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn read_patient(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
) -> Response {
    let actor = match reader(&app, &caller).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !is_uuid(&id) {
        return not_found(&format!("Patient/{id}"));
    }
    let person = match app.store.read_person(&id, &actor).await {
        Ok(p) => p,
        Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return not_found(&format!("Patient/{id}"))
        }
        Err(e) => return unavailable(e),
    };
    match patient_resource(&app, &person).await {
        Ok(v) => fhir(StatusCode::OK, v),
        Err(e) => unavailable(e),
    }
}

/// A dose record as a FHIR Immunization.
async fn immunization_of(
    app: &AppState,
    d: &DoseRecord,
    voided: bool,
) -> Result<Value, vaxgrid_store::StoreError> {
    let product = app.store.product(&d.product_code).await?;
    let kept = app.store.fhir_extra("Immunization", &d.id).await?;
    Ok(dose_to_fhir(&product, d, voided, kept))
}

/// A dose record of `product` as a FHIR Immunization, with what its sender
/// sent beyond vaxgrid's fields (`kept`, an empty object when none).
fn dose_to_fhir(
    product: &vaxgrid_core::product::Product,
    d: &DoseRecord,
    voided: bool,
    kept: Value,
) -> Value {
    let (extra, as_sent) = split_as_sent(kept);
    let mut vaccine = Vec::new();
    if let Some(cvx) = &product.cvx {
        vaccine.push(Coding {
            system: Some(CVX_SYSTEM.into()),
            code: Some(cvx.clone()),
            display: Some(product.name.clone()),
        });
    }
    vaccine.push(Coding {
        system: Some(EU_PRODUCT_SYSTEM.into()),
        code: Some(product.dcc_mp.clone()),
        display: Some(product.name.clone()),
    });
    let data = ImmunizationData {
        id: Some(d.id.clone()),
        status: if voided {
            ImmunizationStatus::EnteredInError
        } else {
            ImmunizationStatus::Completed
        },
        status_reason: None,
        vaccine,
        patient_reference: format!("Patient/{}", d.person_id),
        occurrence: Occurrence::on(
            vaxgrid_store::parse_date(&d.administered_on).unwrap_or(time::Date::MIN),
        ),
        primary_source: Some(d.kind == DoseKind::Administered),
        lot_number: Some(d.lot_number.clone()).filter(|l| !l.is_empty()),
        expiration_date: None,
        manufacturer_display: Some(product.manufacturer.clone()),
        site: None,
        location_reference: Some(format!("Location/{}", d.site_code))
            .filter(|_| !d.site_code.is_empty()),
        location_display: None,
        dose_number: u32::try_from(d.dose_number).ok(),
        series_doses: Some(product.doses_in_series),
        performer_display: d.vaccinator.clone(),
        extra,
    };
    restore_as_sent(immunization_to_fhir(&data), as_sent)
}

/// A vaccination outside the catalogue (kept as history) as a FHIR
/// Immunization: its CVX code and date, reported by another system
/// (`primarySource` false).
fn other_to_fhir(o: &OtherVaccination, kept: Value) -> Value {
    let (extra, as_sent) = split_as_sent(kept);
    let data = ImmunizationData {
        id: Some(o.id.clone()),
        status: ImmunizationStatus::Completed,
        status_reason: None,
        vaccine: vec![Coding {
            system: Some(CVX_SYSTEM.into()),
            code: Some(o.cvx.clone()),
            display: vaxgrid_interop::hl7v2::known_vaccine(&o.cvx).map(str::to_string),
        }],
        patient_reference: format!("Patient/{}", o.person_id),
        occurrence: Occurrence::on(
            vaxgrid_store::parse_date(&o.administered_on).unwrap_or(time::Date::MIN),
        ),
        primary_source: Some(false),
        lot_number: o.lot_number.clone(),
        expiration_date: None,
        manufacturer_display: None,
        site: None,
        location_reference: None,
        location_display: None,
        dose_number: None,
        series_doses: None,
        performer_display: None,
        extra,
    };
    restore_as_sent(immunization_to_fhir(&data), as_sent)
}

#[utoipa::path(
    get,
    path = "/fhir/Immunization/{id}",
    summary = "FHIR R4 Immunization",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Immunization", content_type = "application/fhir+json"),
        (status = 404, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn read_immunization(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
) -> Response {
    let actor = match reader(&app, &caller).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    read_immunization_by(&app, &actor, &id).await
}

/// The Immunization `id` (a dose, or a vaccination kept as history) as
/// `actor` may read it.
async fn read_immunization_by(
    app: &AppState,
    actor: &vaxgrid_store::model::Actor,
    id: &str,
) -> Response {
    if !is_uuid(id) {
        return not_found(&format!("Immunization/{id}"));
    }
    let dose = match app.store.dose_in(id, &actor.scope).await {
        Ok(d) if d.kind.is_dose() => d,
        Ok(_) => return not_found(&format!("Immunization/{id}")),
        Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return read_other(app, actor, id).await;
        }
        Err(e) => return unavailable(e),
    };
    let voided = match app.store.history(&dose.person_id).await {
        Ok(h) => h
            .records
            .iter()
            .any(|r| r.corrects_id.as_deref() == Some(dose.id.as_str())),
        Err(e) => return unavailable(e),
    };
    match immunization_of(app, &dose, voided).await {
        Ok(v) => fhir(StatusCode::OK, v),
        Err(e) => unavailable(e),
    }
}

/// A vaccination kept as history, as an Immunization, when the caller may
/// read its person.
async fn read_other(app: &AppState, actor: &vaxgrid_store::model::Actor, id: &str) -> Response {
    let other = match app.store.other_vaccination(id).await {
        Ok(o) if o.kind == "given" => o,
        Ok(_) | Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return not_found(&format!("Immunization/{id}"))
        }
        Err(e) => return unavailable(e),
    };
    match app.store.read_person(&other.person_id, actor).await {
        Ok(_) => {}
        Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return not_found(&format!("Immunization/{id}"))
        }
        Err(e) => return unavailable(e),
    }
    match app.store.fhir_extra("Immunization", id).await {
        Ok(kept) => fhir(StatusCode::OK, other_to_fhir(&other, kept)),
        Err(e) => unavailable(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImmunizationSearch {
    patient: Option<String>,
}

#[utoipa::path(
    get,
    path = "/fhir/Immunization",
    summary = "FHIR R4 Immunization search by patient (searchset Bundle)",
    params(("patient" = String, Query, description = "Patient/<id> or <id>")),
    responses(
        (status = 200, description = "searchset Bundle", content_type = "application/fhir+json"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 404, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn search_immunizations(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<ImmunizationSearch>,
) -> Response {
    let actor = match reader(&app, &caller).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(patient) = q.patient else {
        return outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Required,
                "patient",
                "search Immunization by patient: ?patient=<id>",
            )],
        );
    };
    let id = patient.rsplit('/').next().unwrap_or("").to_string();
    if !is_uuid(&id) {
        return outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Value,
                "patient",
                format!("'{patient}' is not a Patient id"),
            )],
        );
    }
    let history = match app.store.read_history(&id, &actor).await {
        Ok(h) => h,
        Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return not_found(&format!("Patient/{id}"))
        }
        Err(e) => return unavailable(e),
    };
    let mut resources = Vec::new();
    for d in history.records.iter().filter(|r| r.kind.is_dose()) {
        let voided = history
            .records
            .iter()
            .any(|r| r.corrects_id.as_deref() == Some(d.id.as_str()));
        match immunization_of(&app, d, voided).await {
            Ok(v) => resources.push(v),
            Err(e) => return unavailable(e),
        }
    }
    // Then the vaccinations kept as history (outside the catalogue).
    let others = match app.store.other_vaccinations_of(&history.person_id).await {
        Ok(o) => o,
        Err(e) => return unavailable(e),
    };
    for o in &others {
        match app.store.fhir_extra("Immunization", &o.id).await {
            Ok(kept) => resources.push(other_to_fhir(o, kept)),
            Err(e) => return unavailable(e),
        }
    }
    fhir(
        StatusCode::OK,
        search_bundle(&base_url(&headers), resources),
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionQuery {
    /// Site of Immunizations that name no `location` (the sender's own site).
    site: Option<String>,
}

/// An Immunization of the Bundle, checked and ready to record.
struct PlannedDose {
    entry: usize,
    id: String,
    patient: PatientRef,
    product_code: String,
    /// A known vaccine outside the catalogue (its CVX code): kept as
    /// history, counted nowhere.
    other_cvx: Option<String>,
    site_code: Option<String>,
    data: ImmunizationData,
}

enum PatientRef {
    /// Index of a Patient entry of the Bundle.
    Entry(usize),
    /// A person already registered.
    Stored(String),
}

fn entry_path(i: usize) -> String {
    format!("Bundle.entry[{i}].resource")
}

fn person_of(p: &PatientData) -> ExternalPerson {
    let address = p.address.clone().unwrap_or_default();
    ExternalPerson {
        ids: p
            .identifiers
            .iter()
            .map(|i| ExternalId {
                value: i.value.clone(),
                type_code: i.type_code.clone(),
                authority: i.system.clone(),
            })
            .collect(),
        default_authority: None,
        full_name: p.full_name.clone(),
        birth_date: p.birth_date,
        sex: Some(p.sex.as_str().to_string()),
        phone: p.phone.clone(),
        area_codes: address.postal_code.iter().cloned().collect(),
        place_names: address
            .line
            .iter()
            .cloned()
            .chain(address.city.clone())
            .chain(address.district.clone())
            .chain(address.state.clone())
            .chain(address.text.iter().flat_map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            }))
            .collect(),
    }
}

/// Where a vaxgrid field lives in a FHIR resource, for issues.
fn element(field: &str) -> &'static str {
    if field.starts_with("identifiers") {
        return "identifier";
    }
    if field.starts_with("guardian") {
        return "contact";
    }
    match field {
        "id_number" => "identifier",
        "full_name" => "name",
        "birth_date" => "birthDate",
        "sex" => "gender",
        "phone" => "telecom",
        "home_area" => "address",
        "administered_on" => "occurrenceDateTime",
        "lot_number" | "lot" => "lotNumber",
        "site_code" => "location",
        "product_code" => "vaccineCode",
        "dose_number" => "protocolApplied",
        _ => "",
    }
}

fn refusal_issue(i: usize, refusal: Refusal) -> Result<Issue, vaxgrid_store::StoreError> {
    match refusal {
        Refusal::Field { field, message } => {
            let el = element(&field);
            let expression = if el.is_empty() {
                entry_path(i)
            } else {
                format!("{}.{el}", entry_path(i))
            };
            Ok(issue(
                IssueCode::Processing,
                expression,
                format!("{field}: {message}"),
            ))
        }
        Refusal::Unavailable(e) => Err(e),
    }
}

/// The caller as an exchange partner and the body as JSON, or the answer
/// refusing them: the caller's problem, or an OperationOutcome at
/// `resource` for a body that is not JSON.
async fn exchange_request(
    app: &AppState,
    caller: &crate::auth::Caller,
    body: &[u8],
    resource: &str,
) -> Result<(vaxgrid_store::model::Actor, Value), Response> {
    let by = caller
        .actor(app, vaxgrid_core::access::Permission::Exchange)
        .await
        .map_err(IntoResponse::into_response)?;
    let sent = serde_json::from_slice(body).map_err(|e| {
        outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Structure,
                resource,
                format!("not JSON: {e}"),
            )],
        )
    })?;
    Ok((by, sent))
}

/// `POST /fhir`: a transaction Bundle.
#[utoipa::path(
    post,
    path = "/fhir",
    summary = "FHIR R4 transaction Bundle of Patient and Immunization entries (POST or PUT). Checked as a whole before anything is written; a Patient is found by national ID or registered; an Immunization is recorded through the dose rules (primarySource false: a historical dose). Elements vaxgrid does not map are kept and given back on read.",
    params(("site" = Option<String>, Query, description = "site of Immunizations with no location")),
    request_body(content = String, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "transaction-response Bundle", content_type = "application/fhir+json"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 413, response = crate::error::Problem),
        (status = 422, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 503, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn transaction(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(q): ApiQuery<TransactionQuery>,
    body: Bytes,
) -> Response {
    let (by, parsed) = match exchange_request(&app, &caller, &body, "Bundle").await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    run_transaction(&app, &by, parsed, q.site).await
}

/// A parsed transaction Bundle, checked then written whole (see the
/// module's text); the answer is the transaction-response Bundle or an
/// OperationOutcome.
async fn run_transaction(
    app: &AppState,
    by: &vaxgrid_store::model::Actor,
    parsed: Value,
    site: Option<String>,
) -> Response {
    match transaction_steps(app, by, &parsed, site).await {
        Ok(answer) | Err(answer) => answer,
    }
}

/// The transaction's steps: read the Bundle, check every entry before
/// anything is written, plan the persons and writes, write them whole in
/// one transaction, answer in Bundle order. Each step's refusal is the
/// answer.
async fn transaction_steps(
    app: &AppState,
    by: &vaxgrid_store::model::Actor,
    parsed: &Value,
    site: Option<String>,
) -> Result<Response, Response> {
    if let Some(path) = crate::edge::json_nul_path(parsed) {
        return Err(outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Value,
                format!("Bundle.{path}"),
                crate::edge::NUL_MESSAGE,
            )],
        ));
    }
    let tx =
        parse_transaction(parsed).map_err(|issues| outcome(StatusCode::BAD_REQUEST, &issues))?;
    let planned = check_immunizations(app, by, &tx, site.as_ref()).await?;
    let fallback_site = planned.iter().find_map(|p| p.site_code.clone()).or(site);
    let mut plan = WritePlan::new(by.clone());
    plan.persons(app, &tx, fallback_site.as_deref()).await?;
    plan.items(app, &planned, by).await?;
    let entries = EntryParts {
        registered: std::mem::take(&mut plan.registered_entry),
        commands: std::mem::take(&mut plan.command_entry),
        history: std::mem::take(&mut plan.history_entry),
    };
    let mut written = app
        .writer
        .submit_exchange(plan.write)
        .await
        .map_err(unavailable)?;
    if let Some((part, e)) = written.refused.take() {
        return Err(refused(entries.entry_of(part), Refusal::from(e)));
    }
    let mut answer = Answer {
        outcomes: vec![None; tx.entries.len()],
        person_of_entry: plan.person_of_entry,
        warnings_of_entry: plan.warnings_of_entry,
    };
    answer
        .patients(app, parsed, &tx, &entries.registered, &written.persons)
        .await?;
    answer
        .immunizations(app, parsed, &planned, &plan.is_history, &written)
        .await?;
    Ok(fhir(
        StatusCode::OK,
        transaction_response(&answer.in_bundle_order()),
    ))
}

/// The OperationOutcome refusing the Bundle for `refusal` at `entry`.
fn refused(entry: usize, refusal: Refusal) -> Response {
    match refusal_issue(entry, refusal) {
        Ok(issue) => outcome(StatusCode::UNPROCESSABLE_ENTITY, &[issue]),
        Err(e) => unavailable(e),
    }
}

/// Every Immunization of the Bundle checked before anything is written:
/// its patient, vaccine, site and lot. The doses to write, or the
/// OperationOutcome listing every problem found.
async fn check_immunizations(
    app: &AppState,
    by: &vaxgrid_store::model::Actor,
    tx: &Transaction,
    site: Option<&String>,
) -> Result<Vec<PlannedDose>, Response> {
    let products = app.store.products().await.map_err(unavailable)?;
    // Any identifiers, or none: a person without a national ID is
    // registered (and followed up when they have no document).
    let patient_entries: HashMap<String, usize> = tx
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match (&e.resource, &e.full_url) {
            (Resource::Patient(_), Some(url)) => Some((url.clone(), i)),
            _ => None,
        })
        .collect();
    let mut issues = Vec::new();
    let mut planned = Vec::new();
    for (i, e) in tx.entries.iter().enumerate() {
        let Resource::Immunization(d) = &e.resource else {
            continue;
        };
        let Some(patient) =
            patient_of_immunization(app, by, &patient_entries, i, d, &mut issues).await?
        else {
            continue;
        };
        if d.status == ImmunizationStatus::NotDone {
            // Nothing was given; the registry keeps given doses only.
            continue;
        }
        let checked = Checked {
            app,
            i,
            e,
            d,
            patient,
        };
        let found = if let Some(product) = catalogue_product(&products, d) {
            checked.catalogue_dose(product, site, &mut issues).await?
        } else {
            checked.other_vaccination(&mut issues)
        };
        planned.extend(found);
    }
    if issues.is_empty() {
        Ok(planned)
    } else {
        Err(outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues))
    }
}

/// The catalogue's product an Immunization names (by CVX or EU product
/// code), if any.
fn catalogue_product<'a>(
    products: &'a [vaxgrid_core::product::Product],
    d: &ImmunizationData,
) -> Option<&'a vaxgrid_core::product::Product> {
    d.vaccine.iter().find_map(|c| {
        let code = c.code.as_deref()?;
        match c.system.as_deref() {
            Some(CVX_SYSTEM) => crate::exchange::catalogue_product_for_cvx(products, code),
            Some(EU_PRODUCT_SYSTEM) => products.iter().find(|p| p.dcc_mp == code),
            _ => None,
        }
    })
}

/// Whom entry `i`'s Immunization is about: a Patient of the Bundle or a
/// registered person in the caller's areas; none (with an issue added)
/// when it names neither (a person outside the caller's areas is answered
/// as absent, as everywhere).
async fn patient_of_immunization(
    app: &AppState,
    by: &vaxgrid_store::model::Actor,
    patient_entries: &HashMap<String, usize>,
    i: usize,
    d: &ImmunizationData,
    issues: &mut Vec<Issue>,
) -> Result<Option<PatientRef>, Response> {
    if let Some(&entry) = patient_entries.get(&d.patient_reference) {
        return Ok(Some(PatientRef::Entry(entry)));
    }
    let id = d.patient_reference.rsplit('/').next().unwrap_or("");
    if is_uuid(id) {
        match app.store.person_in(id, &by.scope).await {
            Ok(p) => return Ok(Some(PatientRef::Stored(p.id))),
            Err(vaxgrid_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(unavailable(e)),
        }
    }
    issues.push(issue(
        IssueCode::NotFound,
        format!("{}.patient", entry_path(i)),
        format!(
            "{} names no Patient of the Bundle or the registry",
            d.patient_reference
        ),
    ));
    Ok(None)
}

/// One Immunization entry being checked.
struct Checked<'a> {
    app: &'a AppState,
    i: usize,
    e: &'a TransactionEntry,
    d: &'a ImmunizationData,
    patient: PatientRef,
}

impl Checked<'_> {
    /// The record id: the Immunization's own when it is a UUID, else one
    /// derived from what identifies it in the Bundle, so a Bundle sent
    /// again writes nothing new.
    fn record_id(&self, what: &str) -> String {
        match self.d.id.as_deref().filter(|id| is_uuid(id)) {
            Some(id) => id.to_string(),
            None => dose_id_for(
                "fhir",
                &format!(
                    "{}|{}|{what}|{}",
                    self.e
                        .full_url
                        .clone()
                        .or_else(|| self.d.id.clone())
                        .unwrap_or_default(),
                    self.d.patient_reference,
                    self.d
                        .occurrence
                        .date()
                        .map(vaxgrid_store::format_date)
                        .unwrap_or_default()
                ),
            ),
        }
    }

    /// A known vaccine outside the catalogue, kept as history (counted
    /// nowhere); any other code is refused.
    fn other_vaccination(self, issues: &mut Vec<Issue>) -> Option<PlannedDose> {
        let Some(cvx) = other_vaccine(self.d) else {
            issues.push(issue(
                IssueCode::CodeInvalid,
                format!("{}.vaccineCode", entry_path(self.i)),
                "no coding names a vaccine of this registry's catalogue (CVX or EU product code) or a known vaccine (CVX)",
            ));
            return None;
        };
        if self.d.occurrence.date().is_none() {
            issues.push(issue(
                IssueCode::Required,
                format!("{}.occurrenceDateTime", entry_path(self.i)),
                "a vaccination kept as history needs its date",
            ));
            return None;
        }
        Some(PlannedDose {
            entry: self.i,
            id: self.record_id(&format!("cvx:{cvx}")),
            patient: self.patient,
            product_code: String::new(),
            other_cvx: Some(cvx),
            site_code: None,
            data: self.d.clone(),
        })
    }

    /// A dose of the catalogue's `product`: its site (the location, else
    /// `?site=`) and lot must exist, and a dose given here (not
    /// historical) needs both.
    async fn catalogue_dose(
        self,
        product: &vaxgrid_core::product::Product,
        site: Option<&String>,
        issues: &mut Vec<Issue>,
    ) -> Result<Option<PlannedDose>, Response> {
        let (d, i) = (self.d, self.i);
        let historical = d.primary_source == Some(false);
        let site_code = d
            .location_reference
            .as_deref()
            .and_then(|r| r.strip_prefix("Location/"))
            .map(str::to_string)
            .or_else(|| site.cloned());
        match &site_code {
            Some(code) => match self.app.store.site(code).await {
                Ok(_) => {}
                Err(vaxgrid_store::StoreError::NotFound { .. }) => issues.push(issue(
                    IssueCode::NotFound,
                    format!("{}.location", entry_path(i)),
                    format!("site '{code}' does not exist"),
                )),
                Err(e) => return Err(unavailable(e)),
            },
            None if !historical => issues.push(issue(
                IssueCode::Required,
                format!("{}.location", entry_path(i)),
                "where was the dose given? name the site as location Location/<site code> (or ?site= on the request)",
            )),
            None => {}
        }
        match (&d.lot_number, historical) {
            (Some(lot), false) => match self.app.store.lot(&product.code, lot).await {
                Ok(_) => {}
                Err(vaxgrid_store::StoreError::NotFound { .. }) => issues.push(issue(
                    IssueCode::NotFound,
                    format!("{}.lotNumber", entry_path(i)),
                    format!("lot '{lot}' of {} does not exist", product.code),
                )),
                Err(e) => return Err(unavailable(e)),
            },
            (None, false) => issues.push(issue(
                IssueCode::Required,
                format!("{}.lotNumber", entry_path(i)),
                "lotNumber is required for a dose given here (primarySource true)",
            )),
            _ => {}
        }
        Ok(Some(PlannedDose {
            entry: i,
            id: self.record_id(&product.code),
            patient: self.patient,
            product_code: product.code.clone(),
            other_cvx: None,
            site_code,
            data: d.clone(),
        }))
    }
}

/// The Bundle entry each part of the write came from, to name the entry a
/// refusal is about.
struct EntryParts {
    registered: Vec<usize>,
    commands: Vec<usize>,
    history: Vec<usize>,
}

impl EntryParts {
    fn entry_of(&self, part: ExchangePart) -> usize {
        match part {
            ExchangePart::Person(k) => self.registered.get(k).copied().unwrap_or(0),
            ExchangePart::Command(k) => self.commands[k],
            ExchangePart::History(k) => self.history[k],
        }
    }
}

/// The write of a checked Bundle (nothing written yet): persons to
/// register, dose commands, history records, and the entry each came from.
struct WritePlan {
    write: ExchangeWrite,
    person_of_entry: HashMap<usize, String>,
    registered_entry: Vec<usize>,
    warnings_of_entry: HashMap<usize, Vec<(String, String)>>,
    command_entry: Vec<usize>,
    history_entry: Vec<usize>,
    /// Per planned dose, in order: kept as history (else a command).
    is_history: Vec<bool>,
}

impl WritePlan {
    fn new(by: vaxgrid_store::model::Actor) -> WritePlan {
        WritePlan {
            write: ExchangeWrite {
                persons: Vec::new(),
                commands: Vec::new(),
                history: Vec::new(),
                by,
            },
            person_of_entry: HashMap::new(),
            registered_entry: Vec::new(),
            warnings_of_entry: HashMap::new(),
            command_entry: Vec::new(),
            history_entry: Vec::new(),
            is_history: Vec::new(),
        }
    }

    /// Each Patient entry found in the registry or planned for
    /// registration.
    async fn persons(
        &mut self,
        app: &AppState,
        tx: &Transaction,
        fallback_site: Option<&str>,
    ) -> Result<(), Response> {
        for (i, e) in tx.entries.iter().enumerate() {
            let Resource::Patient(p) = &e.resource else {
                continue;
            };
            match plan_person(app, &person_of(p), fallback_site).await {
                Ok(PersonPlan::Existing(found)) => {
                    self.person_of_entry.insert(i, found.id);
                }
                Ok(PersonPlan::New {
                    new,
                    identity,
                    warnings,
                }) => {
                    self.person_of_entry.insert(i, new.id.clone());
                    self.write.persons.push(Registration { new, identity });
                    self.registered_entry.push(i);
                    self.warnings_of_entry.insert(i, warnings);
                }
                Err(refusal) => return Err(refused(i, refusal)),
            }
        }
        Ok(())
    }

    /// Each planned dose as a dose command, a correction, or a history
    /// record, through the same rules as the API.
    async fn items(
        &mut self,
        app: &AppState,
        planned: &[PlannedDose],
        by: &vaxgrid_store::model::Actor,
    ) -> Result<(), Response> {
        for plan in planned {
            let person_id = match &plan.patient {
                PatientRef::Entry(entry) => {
                    self.person_of_entry.get(entry).cloned().unwrap_or_default()
                }
                PatientRef::Stored(id) => id.clone(),
            };
            let part = if plan.data.status == ImmunizationStatus::EnteredInError {
                correction(app, &plan.id, &person_id, by).await
            } else {
                planned_item(plan, person_id, by)
            };
            match part {
                Ok(ExchangeItem::Command(c)) => {
                    self.write.commands.push(c);
                    self.command_entry.push(plan.entry);
                    self.is_history.push(false);
                }
                Ok(ExchangeItem::History(h)) => {
                    self.write.history.push(h);
                    self.history_entry.push(plan.entry);
                    self.is_history.push(true);
                }
                Err(refusal) => return Err(refused(plan.entry, refusal)),
            }
        }
        Ok(())
    }
}

/// A given dose as a dose command through the API's dose rules, or a
/// known vaccine outside the catalogue as a history record.
fn planned_item(
    plan: &PlannedDose,
    person_id: String,
    by: &vaxgrid_store::model::Actor,
) -> Result<ExchangeItem, Refusal> {
    let d = &plan.data;
    if let Some(cvx) = &plan.other_cvx {
        return Ok(ExchangeItem::History(OtherVaccinationInput {
            id: plan.id.clone(),
            person_id,
            cvx: cvx.clone(),
            administered_on: d.occurrence.date().unwrap_or(time::Date::MIN),
            lot_number: d.lot_number.clone().filter(|l| !l.is_empty()),
            source: "fhir".into(),
            sender: String::new(),
            corrects_id: None,
        }));
    }
    crate::api::doses::dose_request(
        DoseBody {
            id: plan.id.clone(),
            person_id,
            product_code: plan.product_code.clone(),
            lot_number: d.lot_number.clone(),
            site_code: plan.site_code.clone(),
            administered_on: d
                .occurrence
                .date()
                .map(vaxgrid_store::format_date)
                .unwrap_or_default(),
            dose_number: None,
            vaccinator: d.performer_display.clone(),
            override_reason: None,
            historical: d.primary_source == Some(false),
        },
        by.clone(),
    )
    .map(|r| ExchangeItem::Command(WriteCommand::Dose(r)))
    .map_err(Refusal::from)
}

/// The transaction-response's entries, filled in as the written parts
/// are answered.
struct Answer {
    outcomes: Vec<Option<EntryOutcome>>,
    person_of_entry: HashMap<usize, String>,
    warnings_of_entry: HashMap<usize, Vec<(String, String)>>,
}

impl Answer {
    /// Each Patient entry: created (with what it carried beyond vaxgrid's
    /// fields kept, and its warnings) or found.
    async fn patients(
        &mut self,
        app: &AppState,
        parsed: &Value,
        tx: &Transaction,
        registered_entry: &[usize],
        written_persons: &[(String, bool)],
    ) -> Result<(), Response> {
        let mut created_entry: HashMap<usize, String> = HashMap::new();
        for (k, entry) in registered_entry.iter().enumerate() {
            let (id, created) = &written_persons[k];
            self.person_of_entry.insert(*entry, id.clone());
            if *created {
                created_entry.insert(*entry, id.clone());
            }
        }
        for (i, e) in tx.entries.iter().enumerate() {
            let Resource::Patient(p) = &e.resource else {
                continue;
            };
            let id = self.person_of_entry.get(&i).cloned().unwrap_or_default();
            let created = created_entry.contains_key(&i);
            if created {
                let sent = &parsed["entry"][i]["resource"];
                let kept = with_as_sent(&p.extra, sent, PATIENT_AS_SENT);
                app.store
                    .save_fhir_extra("Patient", &id, &kept)
                    .await
                    .map_err(unavailable)?;
            }
            let location = format!("Patient/{id}/_history/1");
            let mut o = if created {
                EntryOutcome::created(location)
            } else {
                EntryOutcome::updated(location)
            };
            let warnings = self.warnings_of_entry.remove(&i).unwrap_or_default();
            if created && !warnings.is_empty() {
                let warnings: Vec<Issue> = warnings
                    .iter()
                    .map(|(field, message)| Issue {
                        severity: Severity::Warning,
                        code: IssueCode::Processing,
                        expression: format!("{}.{}", entry_path(i), element(field)),
                        diagnostics: message.clone(),
                    })
                    .collect();
                o.outcome = Some(operation_outcome(&warnings));
            }
            self.outcomes[i] = Some(o);
        }
        Ok(())
    }

    /// Each written Immunization: created or already there, with what it
    /// carried beyond vaxgrid's fields kept.
    async fn immunizations(
        &mut self,
        app: &AppState,
        parsed: &Value,
        planned: &[PlannedDose],
        is_history: &[bool],
        written: &vaxgrid_store::exchange::ExchangeOutcome,
    ) -> Result<(), Response> {
        let mut new_command = written
            .results
            .iter()
            .map(|r| matches!(r, WriteOutcome::Created(_)));
        let mut new_history = written.history.iter().copied();
        for (plan, &history) in planned.iter().zip(is_history) {
            let d = &plan.data;
            let created = if history {
                new_history.next().unwrap_or(false)
            } else {
                new_command.next().unwrap_or(false)
            };
            if d.status != ImmunizationStatus::EnteredInError {
                let sent = &parsed["entry"][plan.entry]["resource"];
                let kept = with_as_sent(&d.extra, sent, IMMUNIZATION_AS_SENT);
                app.store
                    .save_fhir_extra("Immunization", &plan.id, &kept)
                    .await
                    .map_err(unavailable)?;
            }
            let location = format!("Immunization/{}/_history/1", plan.id);
            self.outcomes[plan.entry] = Some(if created {
                EntryOutcome::created(location)
            } else {
                EntryOutcome::updated(location)
            });
        }
        Ok(())
    }

    /// The entries in Bundle order; an Immunization not done is answered
    /// with why nothing was recorded.
    fn in_bundle_order(self) -> Vec<EntryOutcome> {
        self.outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| EntryOutcome {
                    status: "200 OK".into(),
                    location: None,
                    etag: None,
                    last_modified: None,
                    outcome: Some(operation_outcome(&[Issue {
                        severity: Severity::Information,
                        code: IssueCode::Informational,
                        expression: "Immunization.status".into(),
                        diagnostics: "not-done: nothing was given, so nothing was recorded".into(),
                    }])),
                })
            })
            .collect()
    }
}

/// One write of a Bundle's Immunization.
enum ExchangeItem {
    Command(WriteCommand),
    History(OtherVaccinationInput),
}

/// The CVX code of a known vaccine outside the campaign (not a COVID-19
/// vaccine: those must be in the catalogue), among the vaccine's codings.
fn other_vaccine(d: &ImmunizationData) -> Option<String> {
    d.vaccine.iter().find_map(|c| {
        let code = c.code.as_deref()?.trim();
        (c.system.as_deref() == Some(CVX_SYSTEM)
            && !vaxgrid_interop::hl7v2::is_covid_cvx(code)
            && vaxgrid_interop::hl7v2::known_vaccine(code).is_some())
        .then(|| code.to_string())
    })
}

/// An Immunization sent again with status entered-in-error withdraws it:
/// a dose is entered in error, a history record withdrawn.
async fn correction(
    app: &AppState,
    id: &str,
    person_id: &str,
    by: &vaxgrid_store::model::Actor,
) -> Result<ExchangeItem, Refusal> {
    match app.store.dose_in(id, &by.scope).await {
        Ok(_) => {
            return Ok(ExchangeItem::Command(WriteCommand::EnteredInError(
                CorrectionRequest {
                    id: dose_id_for("fhir-entered-in-error", id),
                    target_id: id.to_string(),
                    reason: "entered in error (FHIR Immunization.status)".into(),
                    author: "fhir".into(),
                    by: by.clone(),
                },
            )))
        }
        Err(vaxgrid_store::StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    match app.store.other_vaccination(id).await {
        Ok(kept) => Ok(ExchangeItem::History(OtherVaccinationInput {
            id: dose_id_for("fhir-entered-in-error", id),
            person_id: person_id.to_string(),
            cvx: kept.cvx,
            administered_on: vaxgrid_store::parse_date(&kept.administered_on)
                .unwrap_or(time::Date::MIN),
            lot_number: None,
            source: "fhir".into(),
            sender: String::new(),
            corrects_id: Some(id.to_string()),
        })),
        Err(vaxgrid_store::StoreError::NotFound { .. }) => Err(Refusal::field(
            "id",
            "entered-in-error names no Immunization of the registry",
        )),
        Err(e) => Err(e.into()),
    }
}
