//! Certificates issued by vaxgrid decode with an independent decoder written
//! here from the specification's layers, and verify against the published
//! signer certificate; tampering, unknown signers and expiry are refused.

use std::io::Read;

use ciborium::Value;
use p256::ecdsa::signature::Verifier;
use vaxgrid_interop::dcc::{
    generate_keys, uvci, verify, DccType, Layer, Signer, SignerCertificate, TrustList,
};
use x509_cert::der::Decode;

fn dcc() -> serde_json::Value {
    serde_json::json!({
        "ver": "1.3.0",
        "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
        "dob": "1980-05-17",
        "v": [{
            "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529", "ma": "ORG-100001699",
            "dn": 2, "sd": 2, "dt": "2021-08-26", "co": "VN",
            "is": "Ministry of Health of Viet Nam", "ci": uvci("VN", "22A1B2C3D4E5")
        }]
    })
}

/// Decodes an HC1 string layer by layer without the crate's decoder and
/// checks the ES256 signature with the signer certificate's public key.
fn independent_decode(hc1: &str, dsc_der: &[u8]) -> Value {
    let b45 = hc1.strip_prefix("HC1:").expect("HC1 prefix");
    let compressed = base45::decode(b45).expect("base45");
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .read_to_end(&mut cose)
        .expect("zlib");
    let Value::Tag(18, inner) = ciborium::from_reader::<Value, _>(cose.as_slice()).expect("CBOR")
    else {
        panic!("COSE_Sign1 tag 18 expected")
    };
    let Value::Array(parts) = *inner else {
        panic!("COSE array")
    };
    let protected = parts[0].as_bytes().expect("protected bstr").clone();
    let payload = parts[2].as_bytes().expect("payload bstr").clone();
    let signature = parts[3].as_bytes().expect("signature bstr").clone();
    let header: Value = ciborium::from_reader(protected.as_slice()).expect("protected map");
    let header = header.as_map().expect("map").clone();
    let alg = header
        .iter()
        .find(|(k, _)| k.as_integer() == Some(1.into()))
        .map(|(_, v)| v.clone());
    assert_eq!(alg, Some(Value::Integer((-7).into())), "ES256");
    let mut tbs = Vec::new();
    ciborium::into_writer(
        &Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected),
            Value::Bytes(vec![]),
            Value::Bytes(payload.clone()),
        ]),
        &mut tbs,
    )
    .unwrap();
    let cert = x509_cert::Certificate::from_der(dsc_der).expect("DSC");
    let point = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).expect("P-256 key");
    let sig = p256::ecdsa::Signature::from_slice(&signature).expect("r||s");
    key.verify(&tbs, &sig)
        .expect("the signature verifies against the published DSC");
    ciborium::from_reader(payload.as_slice()).expect("CWT")
}

#[test]
fn issued_certificates_decode_independently_and_verify() {
    let keys = generate_keys("VN", 10, 365).unwrap();
    let signer = Signer::new(&keys.dsc_cert_der, &keys.dsc_key_pkcs8_der).unwrap();
    let (iat, exp) = (1_700_000_000, 1_731_536_000);
    let hc1 = signer.sign("VN", &dcc(), iat, exp).unwrap();
    assert!(hc1.starts_with("HC1:"));
    // Independent decoder.
    let cwt = independent_decode(&hc1, &keys.dsc_cert_der);
    let claims = cwt.as_map().unwrap();
    let claim = |label: i64| {
        claims
            .iter()
            .find(|(k, _)| k.as_integer() == Some(label.into()))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(claim(1), Some(Value::Text("VN".into())));
    assert_eq!(claim(6), Some(Value::Integer(iat.into())));
    assert_eq!(claim(4), Some(Value::Integer(exp.into())));
    let hcert = claim(-260).unwrap();
    let dcc_value = hcert.as_map().unwrap()[0].1.clone();
    let name = dcc_value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("nam"))
        .unwrap()
        .1
        .clone();
    assert!(format!("{name:?}").contains("Nguyễn"));
    // The crate's verifier, with the DSC in the trust list.
    let mut trust = TrustList::default();
    trust.add(SignerCertificate::from_der(&keys.dsc_cert_der).unwrap());
    let verified = verify(&hc1, &trust, iat + 10).unwrap();
    assert_eq!(verified.kind, DccType::Vaccination);
    assert_eq!(verified.dcc, dcc());
    // Refusals, each at its layer.
    assert_eq!(
        verify(&hc1, &TrustList::default(), iat + 10)
            .unwrap_err()
            .layer,
        Layer::Verify
    );
    assert_eq!(
        verify(&hc1, &trust, exp + 1).unwrap_err().layer,
        Layer::ExpirationCheck
    );
    let mut tampered = hc1.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let err = verify(std::str::from_utf8(&tampered).unwrap(), &trust, iat + 10).unwrap_err();
    assert!(
        matches!(
            err.layer,
            Layer::B45Decode | Layer::Compression | Layer::Decode | Layer::Verify
        ),
        "{err}"
    );
    // A DSC allowed only vaccination may not sign a test certificate.
    let mut test_cert = dcc();
    test_cert.as_object_mut().unwrap().remove("v");
    test_cert["t"] = serde_json::json!([{"tg": "840539006", "tt": "LP6464-4", "sc": "2021-08-26T10:00:00Z",
                                         "tr": "260415000", "tc": "Lab", "co": "VN", "is": "MoH", "ci": uvci("VN", "T1")}]);
    let test_hc1 = signer.sign("VN", &test_cert, iat, exp).unwrap();
    assert_eq!(
        verify(&test_hc1, &trust, iat + 10).unwrap_err().layer,
        Layer::KeyUsage
    );
}

#[test]
fn uvci_has_a_luhn_mod_n_check_character() {
    let id = uvci("VN", "22a1b2c3d4e5");
    assert!(id.starts_with("URN:UVCI:01:VN:22A1B2C3D4E5#"), "{id}");
    // A changed character changes the check character.
    assert_ne!(uvci("VN", "22A1B2C3D4E5"), uvci("VN", "22A1B2C3D4E6"));
}
