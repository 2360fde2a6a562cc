//! The JSON the EU DCC routes answer with (`api::certificates`): the trust
//! and revocation lists, a verification's verdict, a bulk revocation and
//! an issued certificate, with the fields they always had.

use serde::Serialize;
use utoipa::ToSchema;

/// A signer certificate verifiers need.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignerCertificate {
    /// The key identifier, base64.
    pub kid: String,
    /// The certificate, DER in base64.
    pub certificate: String,
}

/// The signer certificates of the country's DCCs.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustList {
    pub country: String,
    pub certificates: Vec<SignerCertificate>,
}

/// A certificate verified: valid with what it holds, or invalid with the
/// layer and reason of the first failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    /// vaccination, test or recovery (valid only).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The issuing country (valid only; null when the certificate names
    /// none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<Option<String>>,
    /// RFC 3339 UTC (valid only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    /// RFC 3339 UTC (valid only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The DCC payload (valid only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dcc: Option<serde_json::Value>,
    /// The layer that failed (invalid only): e.g. PREFIX, BASE45, COSE,
    /// SIGNATURE, EXPIRY, REVOCATION.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Why it failed (invalid only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Verification {
    /// An invalid certificate, failing at `layer`.
    pub fn invalid(layer: &str, reason: String) -> Verification {
        Verification {
            valid: false,
            kind: None,
            issuer: None,
            issued_at: None,
            expires_at: None,
            dcc: None,
            layer: Some(layer.to_string()),
            reason: Some(reason),
        }
    }
}

/// The hashes of every revoked certificate identifier.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationList {
    /// SHA256(UCI)
    pub hash_type: String,
    /// hex
    pub encoding: String,
    pub hashes: Vec<String>,
}

/// What a bulk revocation did: UVCIs revoked now, and those already revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub revoked: Vec<String>,
    pub already_revoked: Vec<String>,
}

impl From<vaxgrid_store::certificates::Revoked> for Revoked {
    fn from(r: vaxgrid_store::certificates::Revoked) -> Revoked {
        Revoked {
            revoked: r.revoked,
            already_revoked: r.already_revoked,
        }
    }
}

/// A certificate issued for a dose.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCertificate {
    /// The QR code's text.
    pub hc1: String,
    pub uvci: String,
    /// The signer's key identifier, base64.
    pub kid: String,
    pub dose_id: String,
    /// The DCC payload.
    pub dcc: serde_json::Value,
}
