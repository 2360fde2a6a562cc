//! EU DCC certificates: the published trust list, verification of `HC1:`
//! strings, and issuing a person's vaccination certificate from the dose
//! history.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use vaxgrid_core::names::{icao_transliteration, split_vietnamese_name};
use vaxgrid_core::product::Product;
use vaxgrid_interop::dcc::{check, uvci, DccType};
use vaxgrid_interop::qr;
use vaxgrid_store::model::{DoseKind, DoseRecord, Person};

use super::certificate_types as types;
use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson, ApiQuery};
use crate::AppState;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn dcc_of(app: &AppState) -> Result<&crate::Dcc, ApiError> {
    app.dcc.as_deref().ok_or_else(|| {
        ApiError::Store(vaxgrid_store::StoreError::Unavailable(
            "certificates are not configured: start the server with --dcc-keys (see vaxgrid keys init)".into(),
        ))
    })
}

/// The signer certificates verifiers need (kid and DER, base64).
#[utoipa::path(
    get,
    path = "/api/v1/dcc/trust-list",
    summary = "Signer certificates (kid and DER, base64) verifiers need",
    responses(
        (status = 200, description = "OK", body = types::TrustList),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn trust_list(State(app): State<AppState>) -> Result<Json<types::TrustList>, ApiError> {
    let dcc = dcc_of(&app)?;
    let mut certificates: Vec<types::SignerCertificate> = dcc
        .trust
        .certificates()
        .map(|c| types::SignerCertificate {
            kid: b64(&c.kid),
            certificate: b64(&c.der),
        })
        .collect();
    certificates.sort_by(|a, b| a.kid.cmp(&b.kid));
    Ok(Json(types::TrustList {
        country: dcc.country.clone(),
        certificates,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    hc1: String,
}

/// Valid or invalid, with the layer and reason of the first failure.
#[utoipa::path(
    post,
    path = "/api/v1/dcc/verify",
    summary = "Verify an HC1 string: valid with its content, or invalid with the failing layer (UNPREFIX, B45DECODE, COMPRESSION, DECODE, VERIFY, EXPIRATIONCHECK, KEYUSAGE, VALIDJSON, REVOCATION) and reason",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "{valid, ...}", body = types::Verification),
        (status = 400, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn verify(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<VerifyBody>,
) -> Result<Json<types::Verification>, ApiError> {
    Ok(Json(verify_text(&app, &b.hc1).await?))
}

/// The same answer for a PNG picture of the QR code (body `image/png`).
#[utoipa::path(
    post,
    path = "/api/v1/dcc/verify-image",
    summary = "Verify the QR code in a PNG picture (body image/png, at most 4 MiB): same answer as /api/v1/dcc/verify",
    request_body(content = String, content_type = "image/png"),
    responses(
        (status = 200, description = "{valid, …} as for verify", body = types::Verification),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn verify_image(
    State(app): State<AppState>,
    req: axum::extract::Request,
) -> Result<Json<types::Verification>, ApiError> {
    let is_png = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("image/png"));
    if !is_png {
        return Err(ApiError::UnsupportedMediaType {
            expected: "image/png",
        });
    }
    let bytes = crate::extract::read_body(req, &(), IMAGE_LIMIT).await?;
    let text = vaxgrid_interop::qr::read_png(&bytes)
        .map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok(Json(verify_text(&app, &text).await?))
}

/// The largest QR picture accepted for verification.
pub const IMAGE_LIMIT: usize = 4 * 1024 * 1024;

/// Verifies an `HC1:` string against the trust list, the clock and the
/// revocation list.
pub async fn verify_text(app: &AppState, hc1: &str) -> Result<types::Verification, ApiError> {
    let dcc = dcc_of(app)?;
    if hc1.len() > 8192 {
        return Err(ApiError::invalid(
            "hc1",
            "a certificate is at most 8192 characters",
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (verified, failures) = check(hc1.trim(), &dcc.trust, now);
    if let Some(v) = &verified {
        for uvci in certificate_ids(&v.dcc) {
            if let Some(why) = app.store.certificate_revocation(uvci).await? {
                return Ok(types::Verification::invalid(
                    "REVOCATION",
                    format!("certificate {uvci} is revoked: {why}"),
                ));
            }
        }
    }
    Ok(match (verified, failures.first()) {
        (Some(v), _) => types::Verification {
            valid: true,
            kind: Some(
                match v.kind {
                    DccType::Vaccination => "vaccination",
                    DccType::Test => "test",
                    DccType::Recovery => "recovery",
                }
                .to_string(),
            ),
            issuer: Some(v.issuer),
            issued_at: Some(vaxgrid_store::format_instant(v.issued_at * 1_000_000)),
            expires_at: Some(vaxgrid_store::format_instant(v.expires_at * 1_000_000)),
            dcc: Some(v.dcc),
            layer: None,
            reason: None,
        },
        (None, Some(f)) => types::Verification::invalid(f.layer.as_str(), f.reason.clone()),
        (None, None) => {
            types::Verification::invalid("VALIDJSON", "no certificate entry".to_string())
        }
    })
}

/// The certificate identifiers (`ci`) of every entry of a DCC payload.
fn certificate_ids(dcc: &serde_json::Value) -> impl Iterator<Item = &str> {
    ["v", "t", "r"]
        .into_iter()
        .filter_map(|k| dcc.get(k).and_then(|e| e.as_array()))
        .flatten()
        .filter_map(|e| e.get("ci").and_then(|c| c.as_str()))
}

/// SHA-256 (hex) of every revoked certificate identifier: verifiers check a
/// certificate's `ci` against it offline.
#[utoipa::path(
    get,
    path = "/api/v1/dcc/revocation-list",
    summary = "SHA-256 (hex) of the identifiers (UVCI) of revoked certificates: a certificate is revoked when its dose is entered in error, or when it is revoked by lot or by site and day",
    responses(
        (status = 200, description = "{hash_type, encoding, hashes[]}", body = types::RevocationList),
    )
)]
pub async fn revocation_list(
    State(app): State<AppState>,
) -> Result<Json<types::RevocationList>, ApiError> {
    let hashes = app.store.revoked_certificate_hashes().await?;
    Ok(Json(types::RevocationList {
        hash_type: "SHA256(UCI)".to_string(),
        encoding: "hex".to_string(),
        hashes,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// With `lot_number`: revoke the certificates of the lot's doses.
    product_code: Option<String>,
    lot_number: Option<String>,
    /// With `day` (YYYY-MM-DD): revoke the certificates of the doses given
    /// at the site that day.
    site_code: Option<String>,
    day: Option<String>,
    reason: String,
}

/// Revokes certificates in bulk, by lot or by site and day.
#[utoipa::path(
    post,
    path = "/api/v1/dcc/revocations",
    summary = "Revoke, with a reason, the certificates of every valid dose from a lot (product_code + lot_number: a recall) or given at a site on a day (site_code + day), of the persons in the caller's areas (audited; final). The revocation list grows by their hashes. Answers {revoked: [uvci], already_revoked: [uvci]}.",
    request_body = RevokeBody,
    responses(
        (status = 200, description = "{revoked[], already_revoked[]}", body = types::Revoked),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn revoke(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(b): ApiJson<RevokeBody>,
) -> Result<Json<types::Revoked>, ApiError> {
    use vaxgrid_store::certificates::RevocationBasis;
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::HoldLots)
        .await?;
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let basis = match (
        given(&b.product_code),
        given(&b.lot_number),
        given(&b.site_code),
        given(&b.day),
    ) {
        (Some(product), Some(lot), None, None) => RevocationBasis::Lot {
            product_code: product.to_string(),
            lot_number: lot.to_string(),
        },
        (None, None, Some(site), Some(day)) => {
            let day = vaxgrid_store::parse_date(day)
                .ok_or_else(|| ApiError::invalid("day", format!("'{day}' is not a date (YYYY-MM-DD)")))?;
            RevocationBasis::SiteDay {
                site_code: site.to_string(),
                day: vaxgrid_store::format_date(day),
            }
        }
        (Some(_), None, None, None) => {
            return Err(ApiError::invalid("lot_number", "give the lot with its product_code"))
        }
        (None, Some(_), None, None) => {
            return Err(ApiError::invalid("product_code", "give the lot's product_code"))
        }
        (None, None, Some(_), None) => {
            return Err(ApiError::invalid("day", "give the day of the doses at the site"))
        }
        (None, None, None, Some(_)) => {
            return Err(ApiError::invalid("site_code", "give the site of the day's doses"))
        }
        (None, None, None, None) => {
            return Err(ApiError::invalid(
                "lot_number",
                "say which certificates: product_code and lot_number, or site_code and day",
            ))
        }
        _ => {
            return Err(ApiError::invalid(
                "site_code",
                "revoke by lot (product_code, lot_number) or by site and day (site_code, day), not both",
            ))
        }
    };
    let out = app
        .store
        .revoke_certificates(&basis, &b.reason, &actor)
        .await?;
    Ok(Json(types::Revoked::from(out)))
}

/// How the issued certificate is answered.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertificateFormat {
    /// `{hc1, uvci, kid, dose_id, dcc}`.
    #[default]
    Json,
    /// The QR code as a PNG picture (header `X-UVCI` names it).
    Png,
    /// The QR code as an SVG document.
    Svg,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IssueQuery {
    /// json (default): the HC1 text and payload; png or svg: the QR code
    /// picture (header X-UVCI names the certificate).
    #[serde(default)]
    #[param(inline)]
    format: CertificateFormat,
}

/// A certificate just issued: the signed `HC1:` text and what it names.
pub struct Issued {
    pub hc1: String,
    pub uvci: String,
    /// The signer's key id, base64.
    pub kid: String,
    pub dose_id: String,
    /// The DCC payload signed.
    pub payload: serde_json::Value,
    /// The product's name, for a page showing the certificate.
    pub product_name: String,
}

/// A person's valid doses in the order they were given: doses (not
/// corrections) that no entered-in-error record voids, by the day given,
/// then by when they were recorded. The last is the one a certificate
/// names; the count is its number in the series.
pub(crate) fn valid_doses(records: &[DoseRecord]) -> Vec<&DoseRecord> {
    let voided: HashSet<&str> = records
        .iter()
        .filter(|r| r.kind == DoseKind::EnteredInError)
        .filter_map(|r| r.corrects_id.as_deref())
        .collect();
    let mut valid: Vec<_> = records
        .iter()
        .filter(|r| r.kind.is_dose() && !voided.contains(r.id.as_str()))
        .collect();
    valid.sort_by(|a, b| {
        (a.administered_on.as_str(), a.recorded_at.as_str())
            .cmp(&(b.administered_on.as_str(), b.recorded_at.as_str()))
    });
    valid
}

/// The dose a certificate names: the latest valid dose, when it was given
/// here (one reported from elsewhere is certified by whoever gave it).
fn dose_to_certify<'a>(valid: &[&'a DoseRecord]) -> Result<&'a DoseRecord, ApiError> {
    let Some(last) = valid.last() else {
        return Err(ApiError::invalid(
            "id",
            "the person has no valid dose to certify",
        ));
    };
    if last.kind == DoseKind::Historical {
        return Err(ApiError::invalid(
            "id",
            "the latest dose was given elsewhere and only reported here; \
             its certificate comes from whoever gave it",
        ));
    }
    Ok(last)
}

/// What a certificate says: whose it is, the vaccine, and which dose of
/// the series.
struct Vaccination<'a> {
    person: &'a Person,
    product: &'a Product,
    dose: &'a DoseRecord,
    /// The dose's number among the person's valid doses.
    dose_number: u32,
}

impl Vaccination<'_> {
    /// The DCC payload (version 1.3.0) of the vaccination, issued as
    /// `certificate_id`.
    fn dcc_payload(&self, dcc: &crate::Dcc, certificate_id: &str) -> serde_json::Value {
        let (family, given) = split_vietnamese_name(&self.person.full_name);
        let (product, dose_number) = (self.product, self.dose_number);
        serde_json::json!({
            "ver": "1.3.0",
            "nam": {"fn": family, "fnt": icao_transliteration(&family), "gn": given, "gnt": icao_transliteration(&given)},
            "dob": self.person.birth_date,
            "v": [{
                // SNOMED CT 840539006: COVID-19 (the EU value set "disease-agent-targeted").
                "tg": "840539006",
                "vp": product.dcc_vp,
                "mp": product.dcc_mp,
                "ma": product.dcc_ma,
                "dn": dose_number,
                "sd": product.doses_in_series.max(dose_number),
                "dt": self.dose.administered_on,
                "co": dcc.country,
                "is": dcc.issuer_name,
                "ci": certificate_id,
            }]
        })
    }
}

/// The payload signed as an `HC1:` text, issued now and valid a year.
fn sign(dcc: &crate::Dcc, payload: &serde_json::Value) -> Result<String, ApiError> {
    let iat = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = iat + 365 * 86_400;
    dcc.signer
        .sign(&dcc.country, payload, iat, exp)
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string())))
}

/// Issues the vaccination certificate of the person's latest valid dose
/// for `actor` (whose scope must cover the person) and records it: the
/// API's handler and the resident portal share it.
pub async fn issue_certificate(
    app: &AppState,
    id: &str,
    actor: &vaxgrid_store::model::Actor,
) -> Result<Issued, ApiError> {
    let dcc = dcc_of(app)?;
    let person = app
        .store
        .read_person(id, actor)
        .await
        .map_err(ApiError::lookup)?;
    let history = app.store.history(id).await.map_err(ApiError::lookup)?;
    let valid = valid_doses(&history.records);
    let last = dose_to_certify(&valid)?;
    let product = app.store.product(&last.product_code).await?;
    let certificate_id = uvci(&dcc.country, &last.id.replace('-', "")[..24]);
    let vaccination = Vaccination {
        person: &person,
        product: &product,
        dose: last,
        dose_number: valid.len() as u32,
    };
    let payload = vaccination.dcc_payload(dcc, &certificate_id);
    let hc1 = sign(dcc, &payload)?;
    app.store
        .record_certificate(
            &certificate_id,
            id,
            &last.id,
            &person.province_code,
            &b64(dcc.signer.kid()),
            actor,
        )
        .await?;
    Ok(Issued {
        hc1,
        uvci: certificate_id,
        kid: b64(dcc.signer.kid()),
        dose_id: last.id.clone(),
        payload,
        product_name: product.name.clone(),
    })
}

/// Issues the vaccination certificate of the person's latest valid dose.
#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/certificate",
    summary = "Issue the EU Digital COVID Certificate (HC1 string, UVCI) for the person's latest valid dose",
    params(("id" = String, Path, description = "person UUID"), IssueQuery),
    responses(
        (status = 201, description = "Created: {hc1, uvci, kid, dose_id, dcc}, or the QR code", content(
            (types::IssuedCertificate = "application/json"),
            (String = "image/png"),
            (String = "image/svg+xml"),
        )),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
        (status = 503, response = crate::error::Problem),
    )
)]
pub async fn issue(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<IssueQuery>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::IssueCertificate)
        .await?;
    let Issued {
        hc1,
        uvci: certificate_id,
        kid,
        dose_id,
        payload,
        ..
    } = issue_certificate(&app, &id, &actor).await?;
    let qr_failed = |e: vaxgrid_interop::qr::QrError| {
        ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string()))
    };
    let picture = |media: &'static str, bytes: Vec<u8>| {
        (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media)),
                (
                    HeaderName::from_static("x-uvci"),
                    HeaderValue::from_str(&certificate_id).unwrap_or(HeaderValue::from_static("")),
                ),
            ],
            bytes,
        )
            .into_response()
    };
    Ok(match q.format {
        CertificateFormat::Json => (
            StatusCode::CREATED,
            Json(types::IssuedCertificate {
                hc1,
                uvci: certificate_id.clone(),
                kid,
                dose_id,
                dcc: payload,
            }),
        )
            .into_response(),
        CertificateFormat::Png => picture("image/png", qr::to_png(&hc1, 4).map_err(qr_failed)?),
        CertificateFormat::Svg => picture(
            "image/svg+xml",
            qr::to_svg(&hc1, 320).map_err(qr_failed)?.into_bytes(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, kind: DoseKind, on: &str, recorded_at: &str) -> DoseRecord {
        DoseRecord {
            id: id.into(),
            person_id: "p".into(),
            kind,
            corrects_id: None,
            product_code: "AZ".into(),
            lot_number: "L1".into(),
            site_code: "S1".into(),
            dose_number: 1,
            administered_on: on.into(),
            vaccinator: None,
            override_reason: None,
            reason: None,
            author: None,
            area_code: "22".into(),
            recorded_at: recorded_at.into(),
            province_code: "22".into(),
            recorded_at_micros: 0,
            body_hash: String::new(),
            stock_store: None,
        }
    }

    fn ids(valid: &[&DoseRecord]) -> Vec<String> {
        valid.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn valid_doses_leave_out_voided_ones_in_the_order_given() {
        let mut void = record("x", DoseKind::EnteredInError, "2024-03-05", "t9");
        void.corrects_id = Some("b".into());
        let records = vec![
            record("c", DoseKind::Administered, "2024-04-01", "t3"),
            record("b", DoseKind::Administered, "2024-03-01", "t2"),
            void,
            record("a2", DoseKind::Historical, "2024-01-01", "t5"),
            record("a1", DoseKind::Administered, "2024-01-01", "t1"),
        ];
        assert_eq!(ids(&valid_doses(&records)), ["a1", "a2", "c"]);
    }

    #[test]
    fn only_the_latest_dose_given_here_is_certified() {
        let given = record("a", DoseKind::Administered, "2024-01-01", "t1");
        let reported = record("b", DoseKind::Historical, "2024-02-01", "t2");
        assert_eq!(
            dose_to_certify(&[&given]).map(|d| d.id.as_str()).ok(),
            Some("a")
        );
        let refused = |valid: &[&DoseRecord]| match dose_to_certify(valid) {
            Ok(d) => panic!("{} certified", d.id),
            Err(e) => e.field_and_message().1,
        };
        assert_eq!(refused(&[]), "the person has no valid dose to certify");
        assert!(refused(&[&given, &reported]).starts_with("the latest dose was given elsewhere"));
    }
}
