//! Decoding and verifying an `HC1:` string layer by layer.

use std::io::Read;

use ciborium::Value;
use p256::ecdsa::signature::Verifier;
use sha2::Sha256;

use super::cose::{CoseSign1, ALG_ES256, ALG_PS256};
use super::trust::{PublicKey, SignerCertificate, TrustList};
use super::{DccError, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DccType {
    Vaccination,
    Test,
    Recovery,
}

/// Everything read from an `HC1:` string, before any trust decision.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub(crate) cose: CoseSign1,
}

/// A certificate that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub issuer: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub kind: DccType,
    /// The DCC payload (`hcert[1]`) as JSON.
    pub dcc: serde_json::Value,
}

/// Unprefix, base45, zlib and COSE layers.
pub fn decode(hc1: &str) -> Result<Decoded, DccError> {
    let body = hc1
        .strip_prefix("HC1:")
        .ok_or_else(|| DccError::new(Layer::Unprefix, "the text does not start with HC1:"))?;
    let compressed = base45::decode(body)
        .map_err(|e| DccError::new(Layer::B45Decode, format!("not base45: {e}")))?;
    // The payload must be zlib-compressed (spec §2.2); uncompressed COSE is refused.
    let mut cose_bytes = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(1 << 20)
        .read_to_end(&mut cose_bytes)
        .map_err(|e| DccError::new(Layer::Compression, format!("not zlib data: {e}")))?;
    Ok(Decoded {
        cose: CoseSign1::parse(&cose_bytes)?,
    })
}

fn cbor_to_json(v: &Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => serde_json::Value::from(i128::from(*i) as i64),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(cbor_to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let Value::Text(k) = k else {
                    return Err("a map key is not text".into());
                };
                out.insert(k.clone(), cbor_to_json(v)?);
            }
            serde_json::Value::Object(out)
        }
        Value::Tag(_, inner) => cbor_to_json(inner)?,
        Value::Bytes(_) => return Err("byte strings have no JSON form".into()),
        _ => return Err("unsupported CBOR value".into()),
    })
}

struct Claims {
    issuer: Option<String>,
    iat: i64,
    exp: i64,
    hcert: Value,
}

/// A CWT NumericDate (RFC 8392 §2: seconds since the epoch, an integer
/// or a floating-point number, without tag 1), to whole seconds (a
/// fraction is dropped).
fn numeric_date(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        // i64::MAX is not exact as an f64: stay strictly below 2^63.
        Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f.floor() as i64),
        _ => None,
    }
}

fn claims(payload: &[u8]) -> Result<Claims, DccError> {
    let bad = |m: &str| DccError::new(Layer::Verify, format!("CWT: {m}"));
    let Value::Map(map) =
        ciborium::from_reader::<Value, _>(payload).map_err(|_| bad("payload is not CBOR"))?
    else {
        return Err(bad("payload is not a claims map"));
    };
    let get = |label: i64| super::cose::header(&map, label);
    let time = |label: i64, name: &str| -> Result<i64, DccError> {
        get(label)
            .and_then(numeric_date)
            .ok_or_else(|| bad(&format!("claim {name} is missing or not a number")))
    };
    let hcert = get(-260).ok_or_else(|| bad("claim hcert (-260) is missing"))?;
    let Value::Map(hcert) = hcert else {
        return Err(bad("hcert must be a map"));
    };
    let dcc = super::cose::header(hcert, 1)
        .ok_or_else(|| bad("hcert has no DCC (key 1)"))?
        .clone();
    if !matches!(dcc, Value::Map(_)) {
        // The DCC itself must be a CBOR map (spec §3.3.2); anything else is
        // a payload that does not decode, whatever its signature.
        return Err(DccError::new(
            Layer::Decode,
            "the DCC inside hcert is not a CBOR map",
        ));
    }
    Ok(Claims {
        issuer: get(1).and_then(|v| v.as_text()).map(str::to_string),
        iat: time(6, "iat")?,
        exp: time(4, "exp")?,
        hcert: dcc,
    })
}

/// Every check of one `HC1:` string: the failures, in layer order.
pub fn check(hc1: &str, trust: &TrustList, now_unix: i64) -> (Option<Verified>, Vec<DccError>) {
    let decoded = match decode(hc1) {
        Ok(d) => d,
        Err(e) => return (None, vec![e]),
    };
    let cose = &decoded.cose;
    let mut failures = Vec::new();
    let signer = cose.kid().and_then(|kid| trust.get(&kid));
    match signer {
        None => failures.push(DccError::new(Layer::Verify, "unknown or missing kid")),
        Some(cert) if !signature_matches(cose, cert) => failures.push(DccError::new(
            Layer::Verify,
            "bad signature (or algorithm and key do not match)",
        )),
        Some(_) => {}
    }
    let claims = match claims(&cose.payload) {
        Ok(c) => c,
        Err(e) => {
            failures.push(e);
            return (None, failures);
        }
    };
    failures.extend(validity_failures(now_unix, claims.iat, claims.exp));
    let dcc = match cbor_to_json(&claims.hcert) {
        Ok(j) => j,
        Err(e) => {
            failures.push(DccError::new(Layer::ValidJson, e));
            return (None, failures);
        }
    };
    check_payload_rules(&dcc, &mut failures);
    let kind = dcc_type(&dcc);
    match (kind, signer) {
        (Some(kind), Some(cert)) if !cert.may_sign(kind) => {
            failures.push(DccError::new(
                Layer::KeyUsage,
                "the signer certificate may not sign this certificate type",
            ));
        }
        (None, _) => failures.push(DccError::new(
            Layer::ValidJson,
            "the DCC has no v, t or r entry",
        )),
        _ => {}
    }
    failures.sort_by_key(|f| f.layer as u8);
    let verified = if failures.is_empty() {
        kind.map(|kind| Verified {
            issuer: claims.issuer,
            issued_at: claims.iat,
            expires_at: claims.exp,
            kind,
            dcc,
        })
    } else {
        None
    };
    (verified, failures)
}

/// Whether the COSE signature verifies with the signer's key, under the
/// algorithm the message names (which must be the key's).
fn signature_matches(cose: &CoseSign1, cert: &SignerCertificate) -> bool {
    let message = cose.to_be_signed();
    match (&cert.key, cose.alg()) {
        (PublicKey::Es256(key), Some(ALG_ES256)) => {
            p256::ecdsa::Signature::from_slice(&cose.signature)
                .is_ok_and(|sig| key.verify(&message, &sig).is_ok())
        }
        (PublicKey::Ps256(key), Some(ALG_PS256)) => {
            let verifier = rsa::pss::VerifyingKey::<Sha256>::new(key.clone());
            rsa::pss::Signature::try_from(cose.signature.as_slice())
                .is_ok_and(|sig| verifier.verify(&message, &sig).is_ok())
        }
        _ => false,
    }
}

/// The validity window: `now_unix` must lie between iat and exp
/// (both included).
fn validity_failures(now_unix: i64, iat: i64, exp: i64) -> Vec<DccError> {
    let mut failures = Vec::new();
    if now_unix < iat {
        failures.push(DccError::new(
            Layer::ExpirationCheck,
            "the certificate is not valid yet (before iat)",
        ));
    }
    if now_unix > exp {
        failures.push(DccError::new(
            Layer::ExpirationCheck,
            "the certificate has expired (after exp)",
        ));
    }
    failures
}

/// The payload's own rules, each failure added: the JSON schema, the value
/// sets and the dates.
fn check_payload_rules(dcc: &serde_json::Value, failures: &mut Vec<DccError>) {
    // The EU verifier apps refuse a payload that does not follow the
    // schema, whatever its signature: such a certificate is not valid.
    if let Err(e) = super::schema::validate(dcc) {
        failures.push(e);
    }
    // Value sets apart from the schema, as the verifiers' business rules:
    // a manufacturer or product in no value set is not a valid certificate.
    if let Err(e) = super::valuesets::check_value_sets(dcc) {
        failures.push(e);
    }
    // Dates apart from the schema too, whose `format` is an annotation.
    if let Err(e) = super::dates::check_dates(dcc) {
        failures.push(e);
    }
}

/// Which certificate the DCC is, by its `v`, `t` or `r` entry (the first
/// present, in that order).
fn dcc_type(dcc: &serde_json::Value) -> Option<DccType> {
    ["v", "t", "r"]
        .iter()
        .zip([DccType::Vaccination, DccType::Test, DccType::Recovery])
        .find(|(k, _)| dcc.get(**k).is_some())
        .map(|(_, t)| t)
}

/// Verifies an `HC1:` string at `now_unix`; the first failure names its layer.
pub fn verify(hc1: &str, trust: &TrustList, now_unix: i64) -> Result<Verified, DccError> {
    match check(hc1, trust, now_unix) {
        (Some(v), _) => Ok(v),
        (None, mut failures) => Err(failures.remove(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(iat: Value, exp: Value) -> Vec<u8> {
        let dcc = Value::Map(vec![(
            Value::Text("ver".into()),
            Value::Text("1.3.0".into()),
        )]);
        let claims = Value::Map(vec![
            (Value::Integer(1.into()), Value::Text("VN".into())),
            (Value::Integer(6.into()), iat),
            (Value::Integer(4.into()), exp),
            (
                Value::Integer((-260).into()),
                Value::Map(vec![(Value::Integer(1.into()), dcc)]),
            ),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&claims, &mut out).unwrap();
        out
    }

    #[test]
    fn numeric_dates_may_be_cbor_floats() {
        let c = claims(&payload(
            Value::Float(1_620_000_000.0),
            Value::Float(1_651_536_000.75),
        ))
        .unwrap();
        assert_eq!((c.iat, c.exp), (1_620_000_000, 1_651_536_000));
        let c = claims(&payload(
            Value::Integer(1_620_000_000.into()),
            Value::Float(1.7e9),
        ))
        .unwrap();
        assert_eq!((c.iat, c.exp), (1_620_000_000, 1_700_000_000));
    }

    #[test]
    fn numeric_dates_that_are_not_numbers_are_refused() {
        for bad in [
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(1e30),
            Value::Text("1620000000".into()),
            Value::Tag(1, Box::new(Value::Integer(1_620_000_000.into()))),
        ] {
            let e = claims(&payload(bad.clone(), Value::Integer(1.into())))
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(e.layer, Layer::Verify);
            assert!(e.reason.contains("iat"), "{}", e.reason);
        }
    }

    #[test]
    fn the_validity_window_includes_iat_and_exp() {
        assert!(validity_failures(100, 100, 200).is_empty());
        assert!(validity_failures(200, 100, 200).is_empty());
        let early = validity_failures(99, 100, 200);
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].layer, Layer::ExpirationCheck);
        assert!(
            early[0].reason.contains("not valid yet"),
            "{}",
            early[0].reason
        );
        let late = validity_failures(201, 100, 200);
        assert_eq!(late.len(), 1);
        assert!(late[0].reason.contains("expired"), "{}", late[0].reason);
    }

    #[test]
    fn the_certificate_type_is_its_first_entry_of_v_t_r() {
        let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(dcc_type(&json(r#"{"v":[]}"#)), Some(DccType::Vaccination));
        assert_eq!(dcc_type(&json(r#"{"t":[]}"#)), Some(DccType::Test));
        assert_eq!(dcc_type(&json(r#"{"r":[]}"#)), Some(DccType::Recovery));
        assert_eq!(
            dcc_type(&json(r#"{"r":[],"v":[]}"#)),
            Some(DccType::Vaccination)
        );
        assert_eq!(dcc_type(&json(r#"{"ver":"1.3.0"}"#)), None);
    }
}
