//! Bundles: the transaction a client POSTs to `/fhir` (Patients and their
//! Immunizations, created or updated together), its transaction-response,
//! and the searchset returned by searches.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::datetime::clip;
use super::immunization::{immunization_to_fhir, read_immunization, ImmunizationData};
use super::json::{check_limits, describe, is_fhir_id, is_uuid, type_name, Object};
use super::outcome::{Issue, IssueCode, Issues};
use super::patient::{patient_to_fhir, read_patient, registration_issues, PatientData};

/// `Bundle.entry.request.method` values vaxgrid executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Create; the server assigns the id.
    Post,
    /// Create or update the resource named by the url (`Patient/<id>`).
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// A resource vaxgrid accepts in a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Patient(PatientData),
    Immunization(ImmunizationData),
}

impl Resource {
    pub fn resource_type(&self) -> &'static str {
        match self {
            Resource::Patient(_) => "Patient",
            Resource::Immunization(_) => "Immunization",
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Resource::Patient(p) => p.id.as_deref(),
            Resource::Immunization(i) => i.id.as_deref(),
        }
    }

    pub fn to_fhir(&self) -> Value {
        match self {
            Resource::Patient(p) => patient_to_fhir(p),
            Resource::Immunization(i) => immunization_to_fhir(i),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransactionEntry {
    /// `urn:uuid:…` (or an absolute URL) by which other entries refer to
    /// this one; the server rewrites those references to the ids it assigns.
    pub full_url: Option<String>,
    pub method: Method,
    /// `Patient` / `Immunization` for POST, `Patient/<id>` for PUT.
    pub url: String,
    pub resource: Resource,
}

/// A checked transaction, entries in Bundle order. (FHIR processes POSTs
/// before PUTs whatever their order, and answers in Bundle order; both
/// kinds here only create or replace, so the order rarely matters.)
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub entries: Vec<TransactionEntry>,
}

/// Bundle.type codes of R4, to tell a misspelt type from one vaxgrid does
/// not process.
const BUNDLE_TYPES: &[&str] = &[
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
];

/// Conditional requests: ignoring them would create duplicates the client
/// asked to avoid, so they are refused.
const CONDITIONAL: &[&str] = &["ifNoneExist", "ifMatch", "ifNoneMatch", "ifModifiedSince"];

/// Reads a transaction Bundle. Issues of an entry carry its
/// `Bundle.entry[i].` prefix (`Bundle.entry[1].resource.status`). Nothing is
/// executed: on `Ok` the whole transaction is acceptable as far as the
/// content goes, and the server applies it atomically.
pub fn parse_transaction(v: &Value) -> Result<Transaction, Vec<Issue>> {
    let mut issues = Issues::new("Bundle");
    let tx = read_transaction(v, &mut issues);
    issues.finish(tx)
}

fn read_transaction(v: &Value, issues: &mut Issues) -> Option<Transaction> {
    let Value::Object(bundle) = v else {
        issues.error(
            IssueCode::Structure,
            "Bundle",
            format!("a Bundle must be a JSON object, not {}", type_name(v)),
        );
        return None;
    };
    match bundle.get("resourceType") {
        Some(Value::String(t)) if t == "Bundle" => {}
        None => {
            issues.error(
                IssueCode::Required,
                "Bundle.resourceType",
                "resourceType is missing; expected 'Bundle'",
            );
            return None;
        }
        Some(other) => {
            issues.error(
                IssueCode::Invalid,
                "Bundle.resourceType",
                format!("expected resourceType 'Bundle', found {}", describe(other)),
            );
            return None;
        }
    }
    if !check_type(bundle, issues) {
        return None;
    }
    check_limits(v, &mut "Bundle".to_owned(), issues);
    if issues.has_errors() {
        return None;
    }
    let items = match bundle.get("entry") {
        None => {
            return Some(Transaction {
                entries: Vec::new(),
            })
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            issues.error(
                IssueCode::Structure,
                "Bundle.entry",
                format!("expected an array, found {}", type_name(other)),
            );
            return None;
        }
    };
    let patients = patient_full_urls(items);
    let mut entries = Vec::with_capacity(items.len());
    let mut full_urls = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("Bundle.entry[{i}]");
        if let Some(entry) = read_entry(item, &path, issues) {
            check_bundle_reference(&entry, &patients, &path, issues);
            if let Some(url) = &entry.full_url {
                if !full_urls.insert(url.clone()) {
                    issues.error(
                        IssueCode::Invalid,
                        format!("{path}.fullUrl"),
                        format!("fullUrl '{}' is used by an earlier entry", clip(url)),
                    );
                }
            }
            entries.push(entry);
        }
    }
    Some(Transaction { entries })
}

fn check_type(bundle: &Object, issues: &mut Issues) -> bool {
    match bundle.get("type") {
        Some(Value::String(t)) if t == "transaction" => true,
        Some(Value::String(t)) if BUNDLE_TYPES.contains(&t.as_str()) => {
            issues.error(
                IssueCode::NotSupported,
                "Bundle.type",
                format!("Bundle type '{t}' is not processed here; send a 'transaction'"),
            );
            false
        }
        None => {
            issues.error(
                IssueCode::Required,
                "Bundle.type",
                "Bundle.type is required and must be 'transaction'",
            );
            false
        }
        Some(other) => {
            issues.error(
                IssueCode::CodeInvalid,
                "Bundle.type",
                format!(
                    "{} is not a Bundle type; expected 'transaction'",
                    describe(other)
                ),
            );
            false
        }
    }
}

fn read_entry(item: &Value, path: &str, issues: &mut Issues) -> Option<TransactionEntry> {
    let Value::Object(entry) = item else {
        issues.error(
            IssueCode::Structure,
            path,
            format!("an entry must be an object, not {}", type_name(item)),
        );
        return None;
    };
    let full_url = read_full_url(entry, path, issues);
    let request = read_request(entry, path, issues);
    let resource = read_resource(entry, path, issues);
    let (method, url) = request?;
    let resource = resource?;
    check_url(method, &url, &resource, path, issues);
    Some(TransactionEntry {
        full_url,
        method,
        url,
        resource,
    })
}

fn entry_str<'a>(obj: &'a Object, key: &str, path: &str, issues: &mut Issues) -> Option<&'a str> {
    match obj.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected a non-empty string, found {}", describe(other)),
            );
            None
        }
    }
}

fn read_full_url(entry: &Object, path: &str, issues: &mut Issues) -> Option<String> {
    let url = entry_str(entry, "fullUrl", path, issues)?;
    let ok = match url.strip_prefix("urn:uuid:") {
        Some(uuid) => is_uuid(uuid),
        None => {
            url.starts_with("urn:oid:") || url.starts_with("http://") || url.starts_with("https://")
        }
    };
    if !ok {
        issues.error(
            IssueCode::Value,
            format!("{path}.fullUrl"),
            format!("'{}' is not urn:uuid:<uuid> nor an absolute URL", clip(url)),
        );
        return None;
    }
    Some(url.to_owned())
}

fn read_request(entry: &Object, path: &str, issues: &mut Issues) -> Option<(Method, String)> {
    let here = format!("{path}.request");
    let request = match entry.get("request") {
        Some(Value::Object(r)) => r,
        None => {
            issues.error(
                IssueCode::Required,
                here,
                "a transaction entry needs a request (method and url)",
            );
            return None;
        }
        Some(other) => {
            issues.error(
                IssueCode::Structure,
                here,
                format!("expected an object, found {}", type_name(other)),
            );
            return None;
        }
    };
    for key in CONDITIONAL {
        if request.contains_key(*key) {
            issues.error(
                IssueCode::NotSupported,
                format!("{here}.{key}"),
                "conditional requests are not supported",
            );
        }
    }
    let method = match entry_str(request, "method", &here, issues) {
        Some("POST") => Some(Method::Post),
        Some("PUT") => Some(Method::Put),
        Some(m @ ("GET" | "HEAD" | "DELETE" | "PATCH")) => {
            issues.error(
                IssueCode::NotSupported,
                format!("{here}.method"),
                format!("{m} is not supported in a transaction here; use POST or PUT"),
            );
            None
        }
        Some(m) => {
            issues.error(
                IssueCode::CodeInvalid,
                format!("{here}.method"),
                format!("'{}' is not an HTTP verb of FHIR; use POST or PUT", clip(m)),
            );
            None
        }
        None => {
            if !request.contains_key("method") {
                issues.error(
                    IssueCode::Required,
                    format!("{here}.method"),
                    "method is required",
                );
            }
            None
        }
    };
    let url = entry_str(request, "url", &here, issues);
    if url.is_none() && !request.contains_key("url") {
        issues.error(
            IssueCode::Required,
            format!("{here}.url"),
            "url is required",
        );
    }
    Some((method?, url?.to_owned()))
}

fn read_resource(entry: &Object, path: &str, issues: &mut Issues) -> Option<Resource> {
    let root = format!("{path}.resource");
    let Some(resource) = entry.get("resource") else {
        issues.error(
            IssueCode::Required,
            root,
            "a transaction entry for POST or PUT needs a resource",
        );
        return None;
    };
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Patient") => {
            let patient = read_patient(resource, &root, issues)?;
            // A transaction registers people: apply vaxgrid's rules too.
            registration_issues(&patient, &root, issues);
            Some(Resource::Patient(patient))
        }
        Some("Immunization") => {
            read_immunization(resource, &root, issues).map(Resource::Immunization)
        }
        Some(other) => {
            issues.error(
                IssueCode::NotSupported,
                format!("{root}.resourceType"),
                format!(
                    "'{}' is not accepted here; a transaction may hold Patient and Immunization",
                    clip(other)
                ),
            );
            None
        }
        // Not an object, or no usable resourceType: let the Patient reader
        // word the issue, it is the same for every type.
        None => {
            let Value::Object(obj) = resource else {
                issues.error(
                    IssueCode::Structure,
                    root,
                    format!(
                        "a resource must be a JSON object, not {}",
                        type_name(resource)
                    ),
                );
                return None;
            };
            let expr = format!("{root}.resourceType");
            match obj.get("resourceType") {
                None => issues.error(IssueCode::Required, expr, "resourceType is missing"),
                Some(other) => issues.error(
                    IssueCode::Structure,
                    expr,
                    format!("expected a string, found {}", type_name(other)),
                ),
            }
            None
        }
    }
}

/// The request url must name the resource's type (and id, for PUT): a
/// Patient POSTed to `Immunization` is a client bug worth reporting.
fn check_url(method: Method, url: &str, resource: &Resource, path: &str, issues: &mut Issues) {
    let ty = resource.resource_type();
    let expr = format!("{path}.request.url");
    match method {
        Method::Post => {
            if url != ty {
                issues.error(
                    IssueCode::Value,
                    expr,
                    format!("POST url '{}' must be '{ty}'", clip(url)),
                );
            }
        }
        Method::Put => {
            let id = url
                .strip_prefix(ty)
                .and_then(|rest| rest.strip_prefix('/'))
                .filter(|id| is_fhir_id(id));
            match (id, resource.id()) {
                (None, _) => issues.error(
                    IssueCode::Value,
                    expr,
                    format!("PUT url '{}' must be '{ty}/<id>'", clip(url)),
                ),
                (Some(id), Some(rid)) if id == rid => {}
                (Some(id), rid) => issues.error(
                    IssueCode::Invalid,
                    format!("{path}.resource.id"),
                    format!(
                        "a PUT to '{ty}/{id}' needs resource.id '{id}', found {}",
                        rid.map_or("none".to_owned(), |r| format!("'{r}'"))
                    ),
                ),
            }
        }
    }
}

/// The fullUrls of the Patient entries, read from the raw JSON so that a
/// Patient entry refused for another reason does not also make every
/// Immunization pointing at it look dangling.
fn patient_full_urls(items: &[Value]) -> HashSet<&str> {
    items
        .iter()
        .filter(|e| {
            e.get("resource")
                .and_then(|r| r.get("resourceType"))
                .and_then(Value::as_str)
                == Some("Patient")
        })
        .filter_map(|e| e.get("fullUrl").and_then(Value::as_str))
        .collect()
}

/// An Immunization pointing at `urn:uuid:…` must point at a Patient of this
/// Bundle: nothing else can resolve it, and the server would fail later.
fn check_bundle_reference(
    entry: &TransactionEntry,
    patients: &HashSet<&str>,
    path: &str,
    issues: &mut Issues,
) {
    let Resource::Immunization(imm) = &entry.resource else {
        return;
    };
    let reference = imm.patient_reference.as_str();
    if reference.starts_with("urn:uuid:") && !patients.contains(reference) {
        issues.error(
            IssueCode::Invalid,
            format!("{path}.resource.patient.reference"),
            format!(
                "'{}' is not the fullUrl of a Patient entry in this Bundle",
                clip(reference)
            ),
        );
    }
}

/// What the server did with one transaction entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryOutcome {
    /// HTTP status line, e.g. `201 Created`.
    pub status: String,
    /// `Patient/<id>/_history/1`.
    pub location: Option<String>,
    /// `W/"1"`.
    pub etag: Option<String>,
    /// FHIR instant.
    pub last_modified: Option<String>,
    /// An OperationOutcome with warnings about this entry.
    pub outcome: Option<Value>,
}

impl EntryOutcome {
    /// `201 Created` at `location`.
    pub fn created(location: impl Into<String>) -> EntryOutcome {
        EntryOutcome::with_status("201 Created", location)
    }

    /// `200 OK` at `location` (a PUT that replaced a resource).
    pub fn updated(location: impl Into<String>) -> EntryOutcome {
        EntryOutcome::with_status("200 OK", location)
    }

    fn with_status(status: &str, location: impl Into<String>) -> EntryOutcome {
        EntryOutcome {
            status: status.to_owned(),
            location: Some(location.into()),
            etag: None,
            last_modified: None,
            outcome: None,
        }
    }
}

/// The transaction-response Bundle, one entry per request entry, in order.
pub fn transaction_response(entries: &[EntryOutcome]) -> Value {
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut response = Object::new();
            response.insert("status".into(), e.status.clone().into());
            let optional = [
                ("location", &e.location),
                ("etag", &e.etag),
                ("lastModified", &e.last_modified),
            ];
            for (key, value) in optional {
                if let Some(v) = value {
                    response.insert(key.into(), v.clone().into());
                }
            }
            if let Some(outcome) = &e.outcome {
                response.insert("outcome".into(), outcome.clone());
            }
            json!({ "response": response })
        })
        .collect();
    let mut bundle = json!({ "resourceType": "Bundle", "type": "transaction-response" });
    if !list.is_empty() {
        bundle["entry"] = Value::Array(list);
    }
    bundle
}

/// A searchset Bundle of `resources`, all matches (no paging: a patient's
/// immunizations are few). `fullUrl` is `<base_url>/<type>/<id>`, left out
/// for a resource without type or id.
pub fn search_bundle(base_url: &str, resources: Vec<Value>) -> Value {
    let base = base_url.trim_end_matches('/');
    let total = resources.len();
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let mut entry = Object::new();
            let ty = resource.get("resourceType").and_then(Value::as_str);
            let id = resource.get("id").and_then(Value::as_str);
            if let (Some(ty), Some(id)) = (ty, id) {
                entry.insert("fullUrl".into(), format!("{base}/{ty}/{id}").into());
            }
            entry.insert("resource".into(), resource);
            entry.insert("search".into(), json!({ "mode": "match" }));
            Value::Object(entry)
        })
        .collect();
    let mut bundle = json!({ "resourceType": "Bundle", "type": "searchset", "total": total });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATIENT_URL: &str = "urn:uuid:6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a11";

    fn bundle() -> Value {
        json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": PATIENT_URL,
                    "resource": {"resourceType": "Patient",
                                 "name": [{"family": "Nguyễn", "given": ["An"]}],
                                 "birthDate": "1990-03-04"},
                    "request": {"method": "POST", "url": "Patient"}
                },
                {
                    "resource": {"resourceType": "Immunization", "status": "completed",
                                 "vaccineCode": {"text": "Vero Cell"},
                                 "patient": {"reference": PATIENT_URL},
                                 "occurrenceDateTime": "2021-08-01"},
                    "request": {"method": "POST", "url": "Immunization"}
                }
            ]
        })
    }

    fn expressions(v: &Value) -> Vec<String> {
        parse_transaction(v)
            .unwrap_err()
            .into_iter()
            .map(|i| i.expression)
            .collect()
    }

    #[test]
    fn accepts_patient_then_immunization() {
        let tx = parse_transaction(&bundle()).unwrap();
        assert_eq!(tx.entries.len(), 2);
        assert_eq!(tx.entries[0].resource.resource_type(), "Patient");
        assert_eq!(tx.entries[1].method, Method::Post);
    }

    #[test]
    fn entry_issues_carry_the_entry_prefix() {
        let mut v = bundle();
        v["entry"][1]["resource"]["status"] = json!("finished");
        v["entry"][0]["resource"]["birthDate"] = json!("1990");
        assert_eq!(
            expressions(&v),
            [
                "Bundle.entry[0].resource.birthDate",
                "Bundle.entry[1].resource.status"
            ]
        );
    }

    #[test]
    fn only_transactions_of_patients_and_immunizations() {
        let mut v = bundle();
        v["type"] = json!("batch");
        let issues = parse_transaction(&v).unwrap_err();
        assert_eq!(issues[0].code, IssueCode::NotSupported);
        let mut v = bundle();
        v["entry"][0]["resource"]["resourceType"] = json!("Observation");
        let issues = parse_transaction(&v).unwrap_err();
        assert_eq!(
            issues[0].expression,
            "Bundle.entry[0].resource.resourceType"
        );
        assert_eq!(issues[0].code, IssueCode::NotSupported);
        // The Immunization's urn:uuid no longer names a Patient entry.
        assert_eq!(
            issues[1].expression,
            "Bundle.entry[1].resource.patient.reference"
        );
    }

    #[test]
    fn request_rules() {
        let mut v = bundle();
        v["entry"][0]["request"] = json!({"method": "DELETE", "url": "Patient/1"});
        v["entry"][1]["request"] = json!({"method": "POST", "url": "Patient",
                                          "ifNoneExist": "identifier=x"});
        assert_eq!(
            expressions(&v),
            [
                "Bundle.entry[0].request.method",
                "Bundle.entry[1].request.ifNoneExist",
                "Bundle.entry[1].request.url"
            ]
        );
        let mut v = bundle();
        v["entry"][0]["request"] = json!({"method": "PUT", "url": "Patient/p9"});
        assert_eq!(expressions(&v), ["Bundle.entry[0].resource.id"]);
        v["entry"][0]["resource"]["id"] = json!("p9");
        assert!(parse_transaction(&v).is_ok());
    }

    #[test]
    fn transaction_patients_must_be_registrable() {
        let mut v = bundle();
        v["entry"][0]["resource"]["birthDate"] = json!("1990");
        let issues = parse_transaction(&v).unwrap_err();
        assert_eq!(issues[0].expression, "Bundle.entry[0].resource.birthDate");
        assert!(issues[0].diagnostics.contains("full date"));
        v["entry"][0]["resource"]
            .as_object_mut()
            .unwrap()
            .remove("name");
        assert_eq!(
            expressions(&v),
            [
                "Bundle.entry[0].resource.name",
                "Bundle.entry[0].resource.birthDate"
            ]
        );
    }

    #[test]
    fn duplicate_full_urls() {
        let mut v = bundle();
        v["entry"][1]["fullUrl"] = json!(PATIENT_URL);
        assert_eq!(expressions(&v), ["Bundle.entry[1].fullUrl"]);
    }

    #[test]
    fn response_and_searchset_shapes() {
        let r = transaction_response(&[EntryOutcome::created("Patient/p1/_history/1")]);
        assert_eq!(r["type"], "transaction-response");
        assert_eq!(r["entry"][0]["response"]["status"], "201 Created");
        assert_eq!(
            r["entry"][0]["response"]["location"],
            "Patient/p1/_history/1"
        );

        let s = search_bundle(
            "https://vaxgrid.example/fhir/",
            vec![json!({"resourceType": "Immunization", "id": "i1"})],
        );
        assert_eq!(s["total"], 1);
        assert_eq!(
            s["entry"][0]["fullUrl"],
            "https://vaxgrid.example/fhir/Immunization/i1"
        );
        assert_eq!(s["entry"][0]["search"]["mode"], "match");
        assert!(search_bundle("x", Vec::new()).get("entry").is_none());
    }
}
