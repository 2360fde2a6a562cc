//! `POST /fhir/Immunization` (one Immunization, beside the transaction
//! Bundle) and `GET /fhir/$export` (an area's Patients and Immunizations
//! as NDJSON, as public-health partners pull data).

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use vaxgrid_interop::fhir::{Issue, IssueCode};
use vaxgrid_store::exchange::ExportPage;
use vaxgrid_store::model::Area;

use super::{
    dose_to_fhir, exchange_request, fhir, issue, other_to_fhir, outcome, patient_of,
    read_immunization_by, reader, run_transaction, unavailable, BUNDLE_LIMIT,
};
use crate::extract::ApiQuery;
use crate::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImmunizationQuery {
    /// Site of an Immunization with no location (the sender's own site).
    site: Option<String>,
}

/// An answer about the single resource of a one-entry transaction: the
/// issue locations say `Immunization.…`, not `Bundle.entry[0].resource.…`.
fn as_single(mut body: Value) -> Value {
    if let Some(issues) = body["issue"].as_array_mut() {
        for i in issues {
            if let Some(list) = i["expression"].as_array_mut() {
                for e in list {
                    if let Some(text) = e.as_str() {
                        let single = text
                            .replacen("Bundle.entry[0].resource", "Immunization", 1)
                            .replacen("Bundle.entry[0]", "Immunization", 1);
                        *e = Value::String(single);
                    }
                }
            }
        }
    }
    body
}

#[utoipa::path(
    post,
    path = "/fhir/Immunization",
    summary = "FHIR R4 create one Immunization of a registered Patient (patient: Patient/<id>), with the rules of a transaction: a dose of the catalogue's vaccines through the dose rules (primarySource false: a historical dose), a known vaccine outside the catalogue (CVX) kept as history and counted nowhere. 201 with the Immunization and its Location; the same Immunization again 200; status not-done records nothing (200, OperationOutcome).",
    params(("site" = Option<String>, Query, description = "site of an Immunization with no location")),
    request_body(content = String, content_type = "application/fhir+json"),
    responses(
        (status = 200, description = "Immunization (already recorded), or an OperationOutcome for not-done", content_type = "application/fhir+json"),
        (status = 201, description = "Immunization (recorded)", content_type = "application/fhir+json"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 413, response = crate::error::Problem),
        (status = 422, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 503, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn create_immunization(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(q): ApiQuery<ImmunizationQuery>,
    body: Bytes,
) -> Response {
    let (by, sent) = match exchange_request(&app, &caller, &body, "Immunization").await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    if sent["resourceType"] != "Immunization" {
        return outcome(
            StatusCode::BAD_REQUEST,
            &[issue(
                IssueCode::Structure,
                "Immunization.resourceType",
                "this endpoint takes one Immunization; send Patients to /fhir/Patient and Bundles to /fhir",
            )],
        );
    }
    // One Immunization is a transaction of one entry: the same checks, the
    // same single write.
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": sent, "request": {"method": "POST", "url": "Immunization"}}],
    });
    let answer = run_transaction(&app, &by, bundle, q.site).await;
    let status = answer.status();
    let retry = answer.headers().get(header::RETRY_AFTER).cloned();
    let body = match axum::body::to_bytes(answer.into_body(), BUNDLE_LIMIT).await {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    let answered: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status != StatusCode::OK {
        let mut r = fhir(status, as_single(answered));
        if let Some(v) = retry {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let entry = &answered["entry"][0]["response"];
    let Some(location) = entry["location"].as_str() else {
        // not-done: nothing was recorded; the entry's outcome says so.
        return fhir(StatusCode::OK, entry["outcome"].clone());
    };
    let created = entry["status"].as_str() == Some("201 Created");
    let id = location
        .strip_prefix("Immunization/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
        .to_string();
    let mut r = read_immunization_by(&app, &by, &id).await;
    if r.status() == StatusCode::OK {
        if created {
            *r.status_mut() = StatusCode::CREATED;
        }
        if let Ok(v) = HeaderValue::from_str(location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
    }
    r
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Resource types, comma separated: Patient, Immunization (both when
    /// absent).
    #[serde(rename = "_type")]
    types: Option<String>,
    /// The area whose residents are exported (a province, district,
    /// commune or village code).
    area: String,
    /// The output format; only NDJSON.
    #[serde(rename = "_outputFormat")]
    output_format: Option<String>,
}

/// Persons read per page of an export.
const EXPORT_PAGE: usize = 500;

/// The media type of FHIR bulk data.
pub const FHIR_NDJSON: &str = "application/fhir+ndjson";

/// The resource types an export writes (Patients, Immunizations; both when
/// none is named). A format other than NDJSON or another type is refused.
fn export_types(q: &ExportQuery) -> Result<(bool, bool), Issue> {
    if let Some(f) = q.output_format.as_deref() {
        if !matches!(
            f,
            "application/fhir+ndjson" | "application/ndjson" | "ndjson"
        ) {
            return Err(issue(
                IssueCode::NotSupported,
                "_outputFormat",
                "only application/fhir+ndjson is exported",
            ));
        }
    }
    let (mut patients, mut immunizations) = (q.types.is_none(), q.types.is_none());
    for t in q.types.as_deref().unwrap_or("").split(',').map(str::trim) {
        match t {
            "" => {}
            "Patient" => patients = true,
            "Immunization" => immunizations = true,
            other => {
                return Err(issue(
                    IssueCode::NotSupported,
                    "_type",
                    format!("'{other}' is not exported: Patient and Immunization are"),
                ))
            }
        }
    }
    Ok((patients, immunizations))
}

/// The area to export: only one wholly inside the caller's own; any other
/// is answered as absent.
async fn export_area(
    app: &AppState,
    actor: &vaxgrid_store::model::Actor,
    code: &str,
) -> Result<Area, Box<Response>> {
    let not_found = || {
        outcome(
            StatusCode::NOT_FOUND,
            &[issue(
                IssueCode::NotFound,
                "area",
                format!("area '{code}' does not exist"),
            )],
        )
    };
    let area = match app.store.area(code).await {
        Ok(a) => a,
        Err(vaxgrid_store::StoreError::NotFound { .. }) => return Err(Box::new(not_found())),
        Err(e) => return Err(Box::new(unavailable(e))),
    };
    if !actor.scope.covers_path(&area.path) {
        return Err(Box::new(not_found()));
    }
    Ok(area)
}

#[utoipa::path(
    get,
    path = "/fhir/$export",
    summary = "FHIR bulk export of an area's residents, synchronous: one NDJSON stream (application/fhir+ndjson), one resource per line, each Patient followed by its Immunizations (doses of the campaign, corrections as entered-in-error, and vaccinations kept as history). Not the asynchronous kick-off of the Bulk Data Access guide: the answer is the data itself, streamed page by page as it is read.",
    params(
        ("area" = String, Query, description = "the area whose residents are exported"),
        ("_type" = Option<String>, Query, description = "Patient, Immunization or both (comma separated; both when absent)"),
        ("_outputFormat" = Option<String>, Query, description = "application/fhir+ndjson (the only format)"),
    ),
    responses(
        (status = 200, description = "NDJSON: one FHIR resource per line", content_type = "application/fhir+ndjson"),
        (status = 400, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 404, description = "OperationOutcome", content_type = "application/fhir+json"),
        (status = 503, description = "OperationOutcome", content_type = "application/fhir+json"),
    )
)]
pub async fn export(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Response {
    let actor = match reader(&app, &caller).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let (patients, immunizations) = match export_types(&q) {
        Ok(types) => types,
        Err(refused) => return outcome(StatusCode::BAD_REQUEST, &[refused]),
    };
    let area = match export_area(&app, &actor, &q.area).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let (areas, products) = match (app.store.area_map().await, app.store.product_map().await) {
        (Ok(a), Ok(p)) => (a, p),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let first = match app.store.export_page(&area.path, None, EXPORT_PAGE).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let what = Export {
        patients,
        immunizations,
        areas,
        products,
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_NDJSON))],
        Body::from_stream(what.stream(app.store.clone(), area.path, first)),
    )
        .into_response()
}

/// What an export writes, and what it reads once for every page.
struct Export {
    patients: bool,
    immunizations: bool,
    areas: vaxgrid_store::persons::AreaMap,
    products: HashMap<String, vaxgrid_core::product::Product>,
}

impl Export {
    /// The export's lines page by page, each page read when the one before
    /// is sent; a failure ends the stream with an error (logged).
    fn stream(
        self,
        store: vaxgrid_store::Store,
        path: String,
        first: ExportPage,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::unfold((Some(first), self), move |(page, what)| {
            let store = store.clone();
            let path = path.clone();
            async move {
                let page = page?;
                match what.page_and_next(&store, &path, &page).await {
                    Ok((chunk, next)) => Some((Ok(Bytes::from(chunk)), (next, what))),
                    Err(e) => {
                        tracing::error!(error = %e, "FHIR export stopped");
                        Some((Err(std::io::Error::other(e.to_string())), (None, what)))
                    }
                }
            }
        })
    }

    /// A page's lines and the page after it, if there is one.
    async fn page_and_next(
        &self,
        store: &vaxgrid_store::Store,
        path: &str,
        page: &ExportPage,
    ) -> Result<(Vec<u8>, Option<ExportPage>), vaxgrid_store::StoreError> {
        let chunk = self.lines(store, page).await?;
        let next = match &page.next {
            None => None,
            Some(after) => Some(store.export_page(path, Some(after), EXPORT_PAGE).await?),
        };
        Ok((chunk, next))
    }

    /// A page's lines: each Patient, then its Immunizations.
    async fn lines(
        &self,
        store: &vaxgrid_store::Store,
        page: &ExportPage,
    ) -> Result<Vec<u8>, vaxgrid_store::StoreError> {
        let mut out = Vec::new();
        let root = |id: &str| page.survivor.get(id).map_or(id, String::as_str).to_string();
        let mut doses: HashMap<String, Vec<&vaxgrid_store::model::DoseRecord>> = HashMap::new();
        for d in &page.doses {
            doses.entry(root(&d.person_id)).or_default().push(d);
        }
        let mut others: HashMap<String, Vec<&vaxgrid_store::exchange::OtherVaccination>> =
            HashMap::new();
        for o in &page.others {
            others.entry(root(&o.person_id)).or_default().push(o);
        }
        for p in &page.persons {
            if self.patients {
                let kept = store.fhir_extra("Patient", &p.id).await?;
                let identifiers = store.identifiers_of(p).await?;
                let (extra, as_sent) = super::split_as_sent(kept);
                let resource = super::restore_as_sent(
                    patient_of(p, &identifiers, &self.areas, extra),
                    as_sent,
                );
                push_line(&mut out, &resource);
            }
            if !self.immunizations {
                continue;
            }
            let records = doses.remove(&p.id).unwrap_or_default();
            for d in records.iter().filter(|d| d.kind.is_dose()) {
                let Some(product) = self.products.get(&d.product_code) else {
                    continue;
                };
                let voided = records
                    .iter()
                    .any(|r| r.corrects_id.as_deref() == Some(d.id.as_str()));
                let kept = store.fhir_extra("Immunization", &d.id).await?;
                let mut resource = dose_to_fhir(product, d, voided, kept);
                // A record of a merged-away person names its survivor.
                resource["patient"] = json!({"reference": format!("Patient/{}", p.id)});
                push_line(&mut out, &resource);
            }
            for o in others.remove(&p.id).unwrap_or_default() {
                let kept = store.fhir_extra("Immunization", &o.id).await?;
                let mut resource = other_to_fhir(o, kept);
                resource["patient"] = json!({"reference": format!("Patient/{}", p.id)});
                push_line(&mut out, &resource);
            }
        }
        Ok(out)
    }
}

fn push_line(out: &mut Vec<u8>, resource: &Value) {
    out.extend_from_slice(resource.to_string().as_bytes());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(types: Option<&str>, format: Option<&str>) -> ExportQuery {
        ExportQuery {
            types: types.map(str::to_string),
            area: "22".into(),
            output_format: format.map(str::to_string),
        }
    }

    #[test]
    fn an_export_writes_both_types_unless_told() {
        assert_eq!(export_types(&query(None, None)), Ok((true, true)));
        assert_eq!(
            export_types(&query(Some("Patient"), Some("ndjson"))),
            Ok((true, false))
        );
        assert_eq!(
            export_types(&query(Some(" Immunization ,"), None)),
            Ok((false, true))
        );
        assert_eq!(export_types(&query(Some(""), None)), Ok((false, false)));
    }

    #[test]
    fn another_format_or_type_is_refused_naming_the_parameter() {
        let refused = export_types(&query(None, Some("text/csv"))).unwrap_err();
        assert_eq!(refused.expression, "_outputFormat");
        assert_eq!(refused.code, IssueCode::NotSupported);
        let refused = export_types(&query(Some("Patient,Observation"), None)).unwrap_err();
        assert_eq!(refused.expression, "_type");
        assert_eq!(
            refused.diagnostics,
            "'Observation' is not exported: Patient and Immunization are"
        );
    }
}
