//! EU Digital COVID Certificate: the layers of an `HC1:` string, from the
//! outside in (eHealth Network, "Electronic Health Certificates, Technical
//! Specifications", v1.0.5, sections 2–3):
//! `HC1:` prefix → base45 (RFC 9285) → zlib → COSE_Sign1 (RFC 8152, tag 18,
//! optionally inside CWT tag 61) → CWT claims (RFC 8392: 1 iss, 4 exp,
//! 6 iat, -260 hcert → {1: DCC JSON}).

mod cose;
mod dates;
mod issue;
mod schema;
mod trust;
mod valuesets;
mod verify;

pub use dates::check_dates;
pub use issue::{generate_keys, issue_signer, uvci, KeyMaterial, Signer, SignerMaterial};
pub use schema::validate as validate_schema;
pub use trust::{kid_of, SignerCertificate, TrustList};
pub use valuesets::check_value_sets;
pub use verify::{check, decode, verify, DccType, Decoded, Verified};

/// The step of decoding and checking that failed, named as in the EU test
/// vectors' `EXPECTEDRESULTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Unprefix,
    B45Decode,
    Compression,
    Decode,
    Verify,
    ExpirationCheck,
    KeyUsage,
    ValidJson,
    /// The payload against the EU DCC JSON schema release its `ver` names.
    SchemaValidation,
    /// Coded fields against the EU value sets (not a step of the test
    /// vectors: a business rule of the verifiers).
    ValueSets,
    /// The dates the schema only annotates with `format` are real dates
    /// (not a step of the test vectors: a business rule of the verifiers).
    Dates,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Unprefix => "UNPREFIX",
            Layer::B45Decode => "B45DECODE",
            Layer::Compression => "COMPRESSION",
            Layer::Decode => "DECODE",
            Layer::Verify => "VERIFY",
            Layer::ExpirationCheck => "EXPIRATIONCHECK",
            Layer::KeyUsage => "KEYUSAGE",
            Layer::ValidJson => "VALIDJSON",
            Layer::SchemaValidation => "SCHEMAVALIDATION",
            Layer::ValueSets => "VALUESETS",
            Layer::Dates => "DATES",
        }
    }
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} failed: {reason}", layer.as_str())]
pub struct DccError {
    pub layer: Layer,
    pub reason: String,
}

impl DccError {
    pub(crate) fn new(layer: Layer, reason: impl Into<String>) -> DccError {
        DccError {
            layer,
            reason: reason.into(),
        }
    }
}
