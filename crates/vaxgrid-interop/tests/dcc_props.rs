//! Property tests: the HC1 decoder and verifier answer any text with a
//! verdict and, when invalid, the layer and reason; a tampered certificate
//! never verifies.

use std::sync::OnceLock;

use proptest::prelude::*;
use vaxgrid_interop::dcc::{check, generate_keys, uvci, Signer, SignerCertificate, TrustList};

const NOW: i64 = 1_700_000_100;

/// A certificate signed once for all cases, and the trust list that accepts it.
fn issued() -> &'static (String, TrustList) {
    static ISSUED: OnceLock<(String, TrustList)> = OnceLock::new();
    ISSUED.get_or_init(|| {
        let keys = generate_keys("VN", 10, 365).unwrap();
        let signer = Signer::new(&keys.dsc_cert_der, &keys.dsc_key_pkcs8_der).unwrap();
        let dcc = serde_json::json!({
            "ver": "1.3.0",
            "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
            "dob": "1980-01-01",
            "v": [{"tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529", "ma": "ORG-100001699",
                   "dn": 1, "sd": 2, "dt": "2021-07-15", "co": "VN", "is": "Ministry of Health of Viet Nam",
                   "ci": uvci("VN", "0190A5F0000070008000")}]
        });
        let hc1 = signer.sign("VN", &dcc, 1_700_000_000, 1_731_536_000).unwrap();
        let mut trust = TrustList::default();
        trust.add(SignerCertificate::from_der(&keys.dsc_cert_der).unwrap());
        (hc1, trust)
    })
}

fn assert_answered(text: &str, trust: &TrustList) -> Result<bool, TestCaseError> {
    let (verified, failures) = check(text, trust, NOW);
    if verified.is_none() {
        prop_assert!(
            !failures.is_empty(),
            "an invalid certificate names its failure"
        );
        for f in &failures {
            prop_assert!(!f.reason.is_empty() && !f.layer.as_str().is_empty());
        }
    }
    Ok(verified.is_some())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_answered(text in ".{0,300}") {
        assert_answered(&text, &issued().1)?;
        assert_answered(&format!("HC1:{text}"), &issued().1)?;
    }

    #[test]
    fn base45_noise_is_answered(text in "[0-9A-Z $%*+./:-]{0,400}") {
        let valid = assert_answered(&format!("HC1:{text}"), &issued().1)?;
        prop_assert!(!valid, "noise never verifies");
    }

    #[test]
    fn a_tampered_certificate_never_verifies(at in 4usize..1000, replacement in "[0-9A-Z $%*+./:-]", cut in 5usize..2000) {
        let (hc1, trust) = issued();
        prop_assert!(assert_answered(hc1, trust)?, "the untouched certificate verifies");
        let at = at % hc1.len();
        let mut changed: String = hc1.chars().enumerate()
            .map(|(i, c)| if i == at { replacement.chars().next().unwrap_or('0') } else { c })
            .collect();
        if changed != *hc1 {
            prop_assert!(!assert_answered(&changed, trust)?, "a changed character must not verify");
        }
        changed.truncate(cut.min(changed.len()));
        if changed.len() < hc1.len() {
            prop_assert!(!assert_answered(&changed, trust)?, "a cut certificate must not verify");
        }
    }
}
