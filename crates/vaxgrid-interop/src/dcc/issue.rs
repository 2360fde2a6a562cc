//! Issuing certificates: keys, the signer certificate, and `HC1:` strings.

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use ciborium::Value;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

use super::cose::{sig_structure, ALG_ES256, LABEL_ALG, LABEL_KID};
use super::trust::kid_of;
use super::{DccError, Layer};

/// The vaccination DCC extended-key-usage OID (eHN spec §5.1.1).
const EKU_VACCINATION: &str = "1.3.6.1.4.1.1847.2021.1.2";

/// A country signing CA and a document signer under it, as DER.
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    pub csca_cert_der: Vec<u8>,
    /// PKCS#8 DER of the CSCA's private key: needed to rotate the signer.
    pub csca_key_pkcs8_der: Vec<u8>,
    pub dsc_cert_der: Vec<u8>,
    /// PKCS#8 DER of the document signer's private key.
    pub dsc_key_pkcs8_der: Vec<u8>,
}

/// A document signer certificate and its private key, as DER.
#[derive(Debug, Clone)]
pub struct SignerMaterial {
    pub dsc_cert_der: Vec<u8>,
    pub dsc_key_pkcs8_der: Vec<u8>,
}

fn err(m: impl std::fmt::Display) -> DccError {
    DccError::new(Layer::Verify, format!("key generation: {m}"))
}

fn csca_name(country: &str) -> Result<Name, DccError> {
    Name::from_str(&format!("CN=vaxgrid CSCA {country},C={country}")).map_err(err)
}

/// A serial number unique per second and per certificate of that second.
fn serial(offset: u64) -> SerialNumber {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_micros() as u64);
    SerialNumber::from(now + offset)
}

fn spki(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned, DccError> {
    SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(err)
}

/// Generates a CSCA (self-signed, `csca_years`) and a DSC signed by it that
/// may sign vaccination certificates (`dsc_days`).
pub fn generate_keys(
    country: &str,
    csca_years: u64,
    dsc_days: u64,
) -> Result<KeyMaterial, DccError> {
    let csca_key = SigningKey::random(&mut rand_core::OsRng);
    let csca = CertificateBuilder::new(
        Profile::Root,
        serial(0),
        Validity::from_now(Duration::from_secs(csca_years * 365 * 86_400)).map_err(err)?,
        csca_name(country)?,
        spki(&csca_key)?,
        &csca_key,
    )
    .map_err(err)?
    .build::<DerSignature>()
    .map_err(err)?;
    let csca_key_pkcs8_der = csca_key.to_pkcs8_der().map_err(err)?.as_bytes().to_vec();
    let signer = issue_signer(&csca_key_pkcs8_der, country, dsc_days)?;
    Ok(KeyMaterial {
        csca_cert_der: csca.to_der().map_err(err)?,
        csca_key_pkcs8_der,
        dsc_cert_der: signer.dsc_cert_der,
        dsc_key_pkcs8_der: signer.dsc_key_pkcs8_der,
    })
}

/// A new document signer (`dsc_days`) under the CSCA whose key is given:
/// what a key rotation makes.
pub fn issue_signer(
    csca_key_pkcs8_der: &[u8],
    country: &str,
    dsc_days: u64,
) -> Result<SignerMaterial, DccError> {
    let csca_key = SigningKey::from_pkcs8_der(csca_key_pkcs8_der).map_err(err)?;
    let dsc_key = SigningKey::random(&mut rand_core::OsRng);
    let dsc_name = Name::from_str(&format!("CN=vaxgrid DSC {country},C={country}")).map_err(err)?;
    let mut dsc_builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: csca_name(country)?,
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        serial(1),
        Validity::from_now(Duration::from_secs(dsc_days * 86_400)).map_err(err)?,
        dsc_name,
        spki(&dsc_key)?,
        &csca_key,
    )
    .map_err(err)?;
    let eku = ExtendedKeyUsage(vec![EKU_VACCINATION.parse().map_err(err)?]);
    dsc_builder.add_extension(&eku).map_err(err)?;
    let dsc = dsc_builder.build::<DerSignature>().map_err(err)?;
    Ok(SignerMaterial {
        dsc_cert_der: dsc.to_der().map_err(err)?,
        dsc_key_pkcs8_der: dsc_key.to_pkcs8_der().map_err(err)?.as_bytes().to_vec(),
    })
}

/// A document signer ready to sign.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    kid: Vec<u8>,
    protected: Vec<u8>,
}

impl Signer {
    pub fn new(dsc_cert_der: &[u8], dsc_key_pkcs8_der: &[u8]) -> Result<Signer, DccError> {
        let cert = x509_cert::Certificate::from_der(dsc_cert_der).map_err(err)?;
        let key = SigningKey::from_pkcs8_der(dsc_key_pkcs8_der).map_err(err)?;
        let certified = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        if certified != key.verifying_key().to_encoded_point(false).as_bytes() {
            return Err(err(
                "the private key does not belong to the signer certificate",
            ));
        }
        let kid = kid_of(dsc_cert_der);
        let header = Value::Map(vec![
            (
                Value::Integer(LABEL_ALG.into()),
                Value::Integer(ALG_ES256.into()),
            ),
            (Value::Integer(LABEL_KID.into()), Value::Bytes(kid.clone())),
        ]);
        let mut protected = Vec::new();
        ciborium::into_writer(&header, &mut protected).map_err(err)?;
        Ok(Signer {
            key,
            kid,
            protected,
        })
    }

    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// Signs a DCC payload (the JSON of `hcert[1]`) valid from `iat` to
    /// `exp` (Unix seconds) and returns the `HC1:` string.
    pub fn sign(
        &self,
        issuer_country: &str,
        dcc: &serde_json::Value,
        iat: i64,
        exp: i64,
    ) -> Result<String, DccError> {
        let claims = Value::Map(vec![
            (Value::Integer(1.into()), Value::Text(issuer_country.into())),
            (Value::Integer(4.into()), Value::Integer(exp.into())),
            (Value::Integer(6.into()), Value::Integer(iat.into())),
            (
                Value::Integer((-260).into()),
                Value::Map(vec![(Value::Integer(1.into()), json_to_cbor(dcc))]),
            ),
        ]);
        let mut payload = Vec::new();
        ciborium::into_writer(&claims, &mut payload).map_err(err)?;
        let signature: Signature = self.key.sign(&sig_structure(&self.protected, &payload));
        let cose = Value::Tag(
            18,
            Box::new(Value::Array(vec![
                Value::Bytes(self.protected.clone()),
                Value::Map(Vec::new()),
                Value::Bytes(payload),
                Value::Bytes(signature.to_bytes().to_vec()),
            ])),
        );
        let mut cose_bytes = Vec::new();
        ciborium::into_writer(&cose, &mut cose_bytes).map_err(err)?;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&cose_bytes).map_err(err)?;
        let compressed = z.finish().map_err(err)?;
        Ok(format!("HC1:{}", base45::encode(&compressed)))
    }
}

fn json_to_cbor(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i.into()),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// A unique vaccination certificate identifier: `URN:UVCI:01:{country}:`,
/// an opaque part, and `#` with a Luhn mod N check character over the
/// identifier after `URN:UVCI:` (eHN UVCI guidelines v1.0, annex 2; alphabet
/// 0-9, A-Z, '/', ':').
pub fn uvci(country: &str, opaque: &str) -> String {
    let body = format!("01:{country}:{}", opaque.to_ascii_uppercase());
    format!("URN:UVCI:{body}#{}", luhn_mod_n(&body))
}

const UVCI_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/:";

fn luhn_mod_n(input: &str) -> char {
    let n = UVCI_ALPHABET.len() as u32;
    let mut factor = 2;
    let mut sum = 0;
    for c in input.bytes().rev() {
        let Some(code) = UVCI_ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        let mut addend = factor * code as u32;
        factor = if factor == 2 { 1 } else { 2 };
        addend = addend / n + addend % n;
        sum += addend;
    }
    let check = (n - sum % n) % n;
    UVCI_ALPHABET[check as usize] as char
}
