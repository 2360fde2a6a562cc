//! COSE_Sign1 structure (RFC 8152 §4.2) read with ciborium.

use ciborium::Value;

use super::{DccError, Layer};

/// COSE header labels and algorithm ids (RFC 8152 §3.1, §8.1; RFC 8230 §2).
pub const LABEL_ALG: i64 = 1;
pub const LABEL_KID: i64 = 4;
pub const ALG_ES256: i64 = -7;
pub const ALG_PS256: i64 = -37;

#[derive(Debug, Clone)]
pub struct CoseSign1 {
    pub protected_bytes: Vec<u8>,
    pub protected: Vec<(Value, Value)>,
    pub unprotected: Vec<(Value, Value)>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

fn int_of(v: &Value) -> Option<i64> {
    v.as_integer().and_then(|i| i64::try_from(i).ok())
}

/// Looks up an integer label in a header map.
pub fn header(map: &[(Value, Value)], label: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| int_of(k) == Some(label))
        .map(|(_, v)| v)
}

impl CoseSign1 {
    /// Parses COSE_Sign1: tag 18, untagged, or CWT tag 61 around tag 18.
    pub fn parse(bytes: &[u8]) -> Result<CoseSign1, DccError> {
        let bad = |m: &str| DccError::new(Layer::Decode, m);
        let mut value: Value =
            ciborium::from_reader(bytes).map_err(|e| bad(&format!("not CBOR: {e}")))?;
        loop {
            match value {
                Value::Tag(61, inner) | Value::Tag(18, inner) => value = *inner,
                Value::Tag(t, _) => {
                    return Err(bad(&format!(
                        "unexpected CBOR tag {t}; expected 18 (COSE_Sign1)"
                    )))
                }
                _ => break,
            }
        }
        let Value::Array(items) = value else {
            return Err(bad("COSE_Sign1 must be an array of 4"));
        };
        let [protected, unprotected, payload, signature]: [Value; 4] = items
            .try_into()
            .map_err(|_| bad("COSE_Sign1 must be an array of 4"))?;
        let protected_bytes = protected
            .into_bytes()
            .map_err(|_| bad("protected header must be a byte string"))?;
        let protected = if protected_bytes.is_empty() {
            Vec::new()
        } else {
            match ciborium::from_reader::<Value, _>(protected_bytes.as_slice()) {
                Ok(Value::Map(m)) => m,
                _ => return Err(bad("protected header must encode a map")),
            }
        };
        let Value::Map(unprotected) = unprotected else {
            return Err(bad("unprotected header must be a map"));
        };
        let payload = payload
            .into_bytes()
            .map_err(|_| bad("payload must be a byte string"))?;
        let signature = signature
            .into_bytes()
            .map_err(|_| bad("signature must be a byte string"))?;
        Ok(CoseSign1 {
            protected_bytes,
            protected,
            unprotected,
            payload,
            signature,
        })
    }

    /// A header parameter, protected first.
    pub fn header(&self, label: i64) -> Option<&Value> {
        header(&self.protected, label).or_else(|| header(&self.unprotected, label))
    }

    pub fn alg(&self) -> Option<i64> {
        self.header(LABEL_ALG).and_then(int_of)
    }

    pub fn kid(&self) -> Option<Vec<u8>> {
        self.header(LABEL_KID).and_then(|v| v.as_bytes().cloned())
    }

    /// Sig_structure for COSE_Sign1 (RFC 8152 §4.4), external_aad empty.
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(&self.protected_bytes, &self.payload)
    }
}

pub fn sig_structure(protected_bytes: &[u8], payload: &[u8]) -> Vec<u8> {
    let structure = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected_bytes.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&structure, &mut out).expect("writing to a Vec cannot fail");
    out
}
