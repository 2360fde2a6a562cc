//! Document signer certificates (DSC) and the trust list keyed by kid.

use std::collections::HashMap;

use p256::ecdsa::VerifyingKey as EcKey;
use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::Certificate;

use super::verify::DccType;
use super::{DccError, Layer};

/// kid = the first 8 bytes of SHA-256 of the DER signing certificate
/// (eHN technical specification v1.0.5, §3.3.1).
pub fn kid_of(der: &[u8]) -> Vec<u8> {
    Sha256::digest(der)[..8].to_vec()
}

#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    Es256(EcKey),
    Ps256(rsa::RsaPublicKey),
}

/// A DSC ready to verify signatures.
#[derive(Debug, Clone)]
pub struct SignerCertificate {
    pub der: Vec<u8>,
    pub kid: Vec<u8>,
    pub(crate) key: PublicKey,
    /// Types this DSC may sign, from its extended key usage; `None` when it
    /// carries none of the DCC OIDs (then it may sign any type).
    pub(crate) allowed: Option<Vec<DccType>>,
}

/// Extended-key-usage OIDs of the DCC (eHN spec §5.1.1), with the variants
/// some member states issued under arc 1.3.6.1.4.1.0.1847.
const EKU: [(&str, DccType); 6] = [
    ("1.3.6.1.4.1.1847.2021.1.1", DccType::Test),
    ("1.3.6.1.4.1.1847.2021.1.2", DccType::Vaccination),
    ("1.3.6.1.4.1.1847.2021.1.3", DccType::Recovery),
    ("1.3.6.1.4.1.0.1847.2021.1.1", DccType::Test),
    ("1.3.6.1.4.1.0.1847.2021.1.2", DccType::Vaccination),
    ("1.3.6.1.4.1.0.1847.2021.1.3", DccType::Recovery),
];

impl SignerCertificate {
    pub fn from_der(der: &[u8]) -> Result<SignerCertificate, DccError> {
        let bad = |m: String| DccError::new(Layer::Verify, m);
        let cert = Certificate::from_der(der)
            .map_err(|e| bad(format!("signer certificate is not X.509 DER: {e}")))?;
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let key = match spki.algorithm.oid.to_string().as_str() {
            "1.2.840.10045.2.1" => {
                let point = spki.subject_public_key.raw_bytes();
                PublicKey::Es256(
                    EcKey::from_sec1_bytes(point)
                        .map_err(|e| bad(format!("bad P-256 key: {e}")))?,
                )
            }
            "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
                let spki_der = spki
                    .to_der()
                    .map_err(|e| bad(format!("bad key info: {e}")))?;
                PublicKey::Ps256(
                    rsa::RsaPublicKey::from_public_key_der(&spki_der)
                        .map_err(|e| bad(format!("bad RSA key: {e}")))?,
                )
            }
            other => return Err(bad(format!("unsupported key algorithm {other}"))),
        };
        let mut eku = None;
        for ext in cert.tbs_certificate.extensions.iter().flatten() {
            if ext.extn_id.to_string() == "2.5.29.37" {
                eku = Some(
                    ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| bad(format!("bad extended key usage: {e}")))?,
                );
            }
        }
        let allowed = allowed_types(eku.as_ref());
        Ok(SignerCertificate {
            der: der.to_vec(),
            kid: kid_of(der),
            key,
            allowed,
        })
    }

    /// Whether this DSC may sign a certificate of `ty`.
    pub fn may_sign(&self, ty: DccType) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|types| types.contains(&ty))
    }
}

/// The certificate types a DSC may sign. The eHealth Network's
/// "Electronic Health Certificate Specification" (hcert-spec v1.0.7,
/// Annex A.4 "Extended Key Usage Identifiers") says, word for word:
///
/// > The document signing certificate MAY contain Extended Key Usage
/// > extension fields; these being: OID 1.3.6.1.4.1.1847.2021.1.1 -- valid
/// > for test, OID 1.3.6.1.4.1.1847.2021.1.2 -- valid for vaccinations,
/// > OID 1.3.6.1.4.1.1847.2021.1.3 -- valid for recovery.
/// > The DSC may contain an extended key usage extension with *zero or
/// > more* key usage policy identifiers that constrain the types of HCERTs
/// > this certificate is allowed to verify. If one or more are present, the
/// > verifiers SHALL verify the key usage against the stored HCERT.
/// > In absence of any key usage extension (i.e. no extensions or zero
/// > extensions), this certificate can be used to validate any type of
/// > HCERT.
///
/// "Key usage policy identifiers" are those three OIDs (and the same under
/// arc 1.3.6.1.4.1.0.1847, which early specification drafts printed and
/// some member states issued, e.g. NL_229's signer), so:
///
/// - no extended key usage extension: every type (`None`);
/// - an extension naming one or more DCC OIDs: those types only ("if one
///   or more are present … SHALL verify"), so a DSC whose OIDs are all for
///   other types does not sign this one;
/// - an extension naming no DCC OID (only other purposes, e.g. serverAuth
///   or documentSigning): "zero" identifiers, the absence case, so every
///   type, as without the extension.
pub(crate) fn allowed_types(eku: Option<&ExtendedKeyUsage>) -> Option<Vec<DccType>> {
    let types: Vec<DccType> = eku?
        .0
        .iter()
        .filter_map(|oid| {
            EKU.iter()
                .find(|(o, _)| *o == oid.to_string())
                .map(|(_, t)| *t)
        })
        .collect();
    (!types.is_empty()).then_some(types)
}

/// Signer certificates by kid. Old DSCs stay in the list after a rotation,
/// so the certificates they signed keep verifying.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    by_kid: HashMap<Vec<u8>, SignerCertificate>,
}

impl TrustList {
    pub fn add(&mut self, cert: SignerCertificate) {
        self.by_kid.insert(cert.kid.clone(), cert);
    }

    pub fn get(&self, kid: &[u8]) -> Option<&SignerCertificate> {
        self.by_kid.get(kid)
    }

    /// Every signer certificate, for publishing.
    pub fn certificates(&self) -> impl Iterator<Item = &SignerCertificate> {
        self.by_kid.values()
    }

    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eku(oids: &[&str]) -> ExtendedKeyUsage {
        ExtendedKeyUsage(oids.iter().map(|o| o.parse().unwrap()).collect())
    }

    fn may_sign(eku: Option<&ExtendedKeyUsage>) -> [bool; 3] {
        let allowed = allowed_types(eku);
        [DccType::Vaccination, DccType::Test, DccType::Recovery]
            .map(|t| allowed.as_ref().is_none_or(|a| a.contains(&t)))
    }

    const V: &str = "1.3.6.1.4.1.1847.2021.1.2";
    const T: &str = "1.3.6.1.4.1.1847.2021.1.1";
    const R: &str = "1.3.6.1.4.1.1847.2021.1.3";

    #[test]
    fn no_extended_key_usage_signs_every_type() {
        assert_eq!(may_sign(None), [true, true, true]);
    }

    #[test]
    fn one_dcc_oid_signs_that_type_only() {
        assert_eq!(may_sign(Some(&eku(&[V]))), [true, false, false]);
        assert_eq!(may_sign(Some(&eku(&[T]))), [false, true, false]);
        assert_eq!(may_sign(Some(&eku(&[R]))), [false, false, true]);
    }

    #[test]
    fn oids_of_other_types_only_do_not_sign_this_type() {
        // NL_229's case: a vaccination-only DSC (issued under the
        // 1.3.6.1.4.1.0.1847 arc) may not sign a test.
        let vaccination_only = eku(&["1.3.6.1.4.1.0.1847.2021.1.2"]);
        assert_eq!(may_sign(Some(&vaccination_only)), [true, false, false]);
        assert_eq!(may_sign(Some(&eku(&[T, R]))), [false, true, true]);
    }

    #[test]
    fn several_dcc_oids_sign_each_of_them() {
        assert_eq!(may_sign(Some(&eku(&[V, T, R]))), [true, true, true]);
        // Other purposes beside DCC OIDs change nothing.
        let mixed = eku(&["1.3.6.1.5.5.7.3.36", V]);
        assert_eq!(may_sign(Some(&mixed)), [true, false, false]);
    }

    #[test]
    fn an_extension_without_dcc_oids_restricts_nothing() {
        // Zero key usage policy identifiers: the spec's absence case.
        let document_signing = eku(&["1.3.6.1.5.5.7.3.36"]);
        assert_eq!(may_sign(Some(&document_signing)), [true, true, true]);
        let server_auth = eku(&["1.3.6.1.5.5.7.3.1"]);
        assert_eq!(may_sign(Some(&server_auth)), [true, true, true]);
        let server_and_client = eku(&["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
        assert_eq!(may_sign(Some(&server_and_client)), [true, true, true]);
        // An empty extension (zero OIDs, which DER allows to be decoded
        // here) is the same case.
        assert_eq!(may_sign(Some(&eku(&[]))), [true, true, true]);
    }

    #[test]
    fn the_older_arc_counts_as_the_specified_one() {
        const OLD_T: &str = "1.3.6.1.4.1.0.1847.2021.1.1";
        const OLD_R: &str = "1.3.6.1.4.1.0.1847.2021.1.3";
        assert_eq!(may_sign(Some(&eku(&[OLD_T]))), [false, true, false]);
        assert_eq!(may_sign(Some(&eku(&[OLD_R]))), [false, false, true]);
        // Mixed arcs add up.
        assert_eq!(may_sign(Some(&eku(&[OLD_T, V]))), [true, true, false]);
    }

    #[test]
    fn issued_signers_sign_vaccinations_only() {
        let keys = crate::dcc::generate_keys("VN", 1, 1).unwrap();
        let dsc = SignerCertificate::from_der(&keys.dsc_cert_der).unwrap();
        assert!(dsc.may_sign(DccType::Vaccination));
        assert!(!dsc.may_sign(DccType::Test));
        assert!(!dsc.may_sign(DccType::Recovery));
    }
}
