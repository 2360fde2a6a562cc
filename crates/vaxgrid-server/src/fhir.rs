//! FHIR R4 over HTTP: `GET /fhir/metadata`, `GET /fhir/Patient/{id}`,
//! `GET /fhir/Patient?identifier=…`, `POST /fhir/Patient` (conditional
//! with `If-None-Exist`),
//! `GET /fhir/Immunization/{id}`, `GET /fhir/Immunization?patient=…` and
//! `POST /fhir` with a transaction Bundle of Patients and Immunizations.
//! Errors are OperationOutcomes naming the element (FHIR clients read those,
//! not problem+json). Elements vaxgrid does not map are kept and given back,
//! so what a client sends it reads again.
//!
//! A transaction is checked as a whole first (shapes, references, national
//! IDs, vaccines, sites, lots); only then is anything written. Persons and
//! doses are then written one by one through the dose rules, with ids
//! derived from the Bundle, so if a rule still refuses a dose (a history
//! changed meanwhile) the Bundle can be corrected and sent again without
//! duplicating what went in.

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
    PatientData, Resource, Severity,
};
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{CorrectionRequest, DoseKind, DoseRecord, Person};

use crate::api::doses::DoseBody;
use crate::exchange::{
    dose_id_for, find_or_register, ExternalId, ExternalPerson, Refusal, VN_CITIZEN_ID_SYSTEM,
};
use crate::extract::ApiQuery;
use crate::AppState;

mod patients;
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
    areas: &HashMap<String, vaxgrid_store::model::Area>,
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
    let name_at = |level: vaxgrid_core::area::AreaLevel| {
        chain
            .iter()
            .find(|a| a.level == level)
            .map(|a| a.name.clone())
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
            city: name_at(vaxgrid_core::area::AreaLevel::Commune),
            district: name_at(vaxgrid_core::area::AreaLevel::District),
            state: name_at(vaxgrid_core::area::AreaLevel::Province),
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
    let (extra, as_sent) = split_as_sent(app.store.fhir_extra("Immunization", &d.id).await?);
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
    Ok(restore_as_sent(immunization_to_fhir(&data), as_sent))
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
    if !is_uuid(&id) {
        return not_found(&format!("Immunization/{id}"));
    }
    let dose = match app.store.dose_in(&id, &actor.scope).await {
        Ok(d) if d.kind.is_dose() => d,
        Ok(_) | Err(vaxgrid_store::StoreError::NotFound { .. }) => {
            return not_found(&format!("Immunization/{id}"))
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
    match immunization_of(&app, &dose, voided).await {
        Ok(v) => fhir(StatusCode::OK, v),
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
    let by = match caller
        .actor(&app, vaxgrid_core::access::Permission::Exchange)
        .await
    {
        Ok(by) => by,
        Err(e) => return e.into_response(),
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return outcome(
                StatusCode::BAD_REQUEST,
                &[issue(
                    IssueCode::Structure,
                    "Bundle",
                    format!("not JSON: {e}"),
                )],
            )
        }
    };
    if let Some(path) = crate::edge::json_nul_path(&parsed) {
        return outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Value,
                format!("Bundle.{path}"),
                crate::edge::NUL_MESSAGE,
            )],
        );
    }
    let tx = match parse_transaction(&parsed) {
        Ok(tx) => tx,
        Err(issues) => return outcome(StatusCode::BAD_REQUEST, &issues),
    };
    // Check everything that can be checked before writing anything.
    let products = match app.store.products().await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let mut issues = Vec::new();
    let mut patient_entries: HashMap<String, usize> = HashMap::new();
    for (i, e) in tx.entries.iter().enumerate() {
        // Any identifiers, or none: a person without a national ID is
        // registered (and followed up when they have no document).
        if let (Resource::Patient(_), Some(url)) = (&e.resource, &e.full_url) {
            patient_entries.insert(url.clone(), i);
        }
    }
    let mut planned = Vec::new();
    for (i, e) in tx.entries.iter().enumerate() {
        let Resource::Immunization(d) = &e.resource else {
            continue;
        };
        let patient = if let Some(&entry) = patient_entries.get(&d.patient_reference) {
            PatientRef::Entry(entry)
        } else {
            let id = d
                .patient_reference
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            let found = if is_uuid(&id) {
                match app.store.person(&id).await {
                    Ok(p) => Some(p.id),
                    Err(vaxgrid_store::StoreError::NotFound { .. }) => None,
                    Err(e) => return unavailable(e),
                }
            } else {
                None
            };
            let Some(found) = found else {
                issues.push(issue(
                    IssueCode::NotFound,
                    format!("{}.patient", entry_path(i)),
                    format!(
                        "{} names no Patient of the Bundle or the registry",
                        d.patient_reference
                    ),
                ));
                continue;
            };
            PatientRef::Stored(found)
        };
        if d.status == ImmunizationStatus::NotDone {
            // Nothing was given; the registry keeps given doses only.
            continue;
        }
        let product = d.vaccine.iter().find_map(|c| {
            let code = c.code.as_deref()?;
            match c.system.as_deref() {
                Some(CVX_SYSTEM) => crate::exchange::catalogue_product_for_cvx(&products, code),
                Some(EU_PRODUCT_SYSTEM) => products.iter().find(|p| p.dcc_mp == code),
                _ => None,
            }
        });
        let Some(product) = product else {
            issues.push(issue(
                IssueCode::CodeInvalid,
                format!("{}.vaccineCode", entry_path(i)),
                "no coding names a vaccine of this registry's catalogue (CVX or EU product code)",
            ));
            continue;
        };
        let historical = d.primary_source == Some(false);
        let site_code = d
            .location_reference
            .as_deref()
            .and_then(|r| r.strip_prefix("Location/"))
            .map(str::to_string)
            .or_else(|| q.site.clone());
        match &site_code {
            Some(code) => {
                if let Err(e) = app.store.site(code).await {
                    if matches!(e, vaxgrid_store::StoreError::NotFound { .. }) {
                        issues.push(issue(IssueCode::NotFound, format!("{}.location", entry_path(i)), format!("site '{code}' does not exist")));
                    } else {
                        return unavailable(e);
                    }
                }
            }
            None if !historical => issues.push(issue(
                IssueCode::Required,
                format!("{}.location", entry_path(i)),
                "where was the dose given? name the site as location Location/<site code> (or ?site= on the request)",
            )),
            None => {}
        }
        match (&d.lot_number, historical) {
            (Some(lot), _) if !historical => match app.store.lot(&product.code, lot).await {
                Ok(_) => {}
                Err(vaxgrid_store::StoreError::NotFound { .. }) => issues.push(issue(
                    IssueCode::NotFound,
                    format!("{}.lotNumber", entry_path(i)),
                    format!("lot '{lot}' of {} does not exist", product.code),
                )),
                Err(e) => return unavailable(e),
            },
            (None, false) => issues.push(issue(
                IssueCode::Required,
                format!("{}.lotNumber", entry_path(i)),
                "lotNumber is required for a dose given here (primarySource true)",
            )),
            _ => {}
        }
        let id = match d.id.as_deref().filter(|id| is_uuid(id)) {
            Some(id) => id.to_string(),
            None => dose_id_for(
                "fhir",
                &format!(
                    "{}|{}|{}|{}",
                    e.full_url
                        .clone()
                        .or_else(|| d.id.clone())
                        .unwrap_or_default(),
                    d.patient_reference,
                    product.code,
                    d.occurrence
                        .date()
                        .map(vaxgrid_store::format_date)
                        .unwrap_or_default()
                ),
            ),
        };
        planned.push(PlannedDose {
            entry: i,
            id,
            patient,
            product_code: product.code.clone(),
            site_code,
            data: d.clone(),
        });
    }
    if !issues.is_empty() {
        return outcome(StatusCode::UNPROCESSABLE_ENTITY, &issues);
    }

    // Write: persons first, then doses, answering in Bundle order.
    let mut outcomes: Vec<Option<EntryOutcome>> = vec![None; tx.entries.len()];
    let mut person_of_entry: HashMap<usize, String> = HashMap::new();
    let fallback_site = planned
        .iter()
        .find_map(|p| p.site_code.clone())
        .or(q.site.clone());
    for (i, e) in tx.entries.iter().enumerate() {
        let Resource::Patient(p) = &e.resource else {
            continue;
        };
        match find_or_register(&app, &person_of(p), fallback_site.as_deref(), &by).await {
            Ok(placed) => {
                if placed.created {
                    let sent = &parsed["entry"][i]["resource"];
                    let kept = with_as_sent(&p.extra, sent, PATIENT_AS_SENT);
                    if let Err(e) = app
                        .store
                        .save_fhir_extra("Patient", &placed.person.id, &kept)
                        .await
                    {
                        return unavailable(e);
                    }
                }
                let location = format!("Patient/{}/_history/1", placed.person.id);
                let mut o = if placed.created {
                    EntryOutcome::created(location)
                } else {
                    EntryOutcome::updated(location)
                };
                if !placed.warnings.is_empty() {
                    let warnings: Vec<Issue> = placed
                        .warnings
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
                outcomes[i] = Some(o);
                person_of_entry.insert(i, placed.person.id);
            }
            Err(refusal) => {
                return match refusal_issue(i, refusal) {
                    Ok(issue) => outcome(StatusCode::UNPROCESSABLE_ENTITY, &[issue]),
                    Err(e) => unavailable(e),
                }
            }
        }
    }
    for plan in planned {
        let person_id = match &plan.patient {
            PatientRef::Entry(entry) => person_of_entry.get(entry).cloned().unwrap_or_default(),
            PatientRef::Stored(id) => id.clone(),
        };
        let d = &plan.data;
        let result = if d.status == ImmunizationStatus::EnteredInError {
            record_correction(&app, &plan.id, &by).await
        } else {
            crate::exchange::record_dose(
                &app,
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
                &by,
            )
            .await
        };
        match result {
            Ok(o) => {
                let sent = &parsed["entry"][plan.entry]["resource"];
                let kept = with_as_sent(&d.extra, sent, IMMUNIZATION_AS_SENT);
                if let Err(e) = app
                    .store
                    .save_fhir_extra("Immunization", &plan.id, &kept)
                    .await
                {
                    return unavailable(e);
                }
                let location = format!("Immunization/{}/_history/1", plan.id);
                outcomes[plan.entry] = Some(match o {
                    WriteOutcome::Created(_) => EntryOutcome::created(location),
                    _ => EntryOutcome::updated(location),
                });
            }
            Err(refusal) => {
                return match refusal_issue(plan.entry, refusal) {
                    Ok(issue) => outcome(StatusCode::UNPROCESSABLE_ENTITY, &[issue]),
                    Err(e) => unavailable(e),
                }
            }
        }
    }
    let answered: Vec<EntryOutcome> = outcomes
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
        .collect();
    fhir(StatusCode::OK, transaction_response(&answered))
}

/// An Immunization sent again with status entered-in-error withdraws it.
async fn record_correction(
    app: &AppState,
    id: &str,
    by: &vaxgrid_store::model::Actor,
) -> Result<WriteOutcome, Refusal> {
    app.store.dose_in(id, &by.scope).await.map_err(|_| {
        Refusal::field(
            "id",
            "entered-in-error names no Immunization of the registry",
        )
    })?;
    Ok(app
        .writer
        .submit(WriteCommand::EnteredInError(CorrectionRequest {
            id: dose_id_for("fhir-entered-in-error", id),
            target_id: id.to_string(),
            reason: "entered in error (FHIR Immunization.status)".into(),
            author: "fhir".into(),
            by: by.clone(),
        }))
        .await
        .map_err(crate::error::ApiError::Store)?)
}
