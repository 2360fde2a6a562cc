//! The EU DCC key folder on disk (the codecs and signing are
//! `vaxgrid_interop::dcc`, which does no I/O). A folder holds the country
//! signing CA (`csca.der`,
//! `csca.key.pk8`), every document signer it ever made (`dsc-<kid>.der`,
//! `dsc-<kid>.key.pk8`: old ones stay so certificates they signed keep
//! verifying after a rotation), and `current`: the hex kid of the signer that
//! signs now. A rotation writes the new signer's files first and then
//! replaces `current` by a rename, so a crash leaves either the old or the
//! new signer in charge, never a half-written one. Private keys are mode 0600.

use std::path::{Path, PathBuf};

use vaxgrid_interop::dcc::{
    generate_keys, issue_signer, kid_of, DccError, Signer, SignerCertificate, TrustList,
};

/// A key folder that could not be read or written, or keys that are not
/// valid.
#[derive(Debug, thiserror::Error)]
pub enum KeyDirError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: not a kid")]
    NotAKid(String),
    #[error(transparent)]
    Keys(#[from] DccError),
}

/// How long a document signer signs before it should be rotated.
const SIGNER_DAYS: u64 = 365;
const CSCA_YEARS: u64 = 10;

fn io(path: &Path, e: std::io::Error) -> KeyDirError {
    KeyDirError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<Vec<u8>, KeyDirError> {
    std::fs::read(path).map_err(|e| io(path, e))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), KeyDirError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(&tmp, e))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(bytes).map_err(|e| io(&tmp, e))?;
    file.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn signer_paths(dir: &Path, kid_hex: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("dsc-{kid_hex}.der")),
        dir.join(format!("dsc-{kid_hex}.key.pk8")),
    )
}

/// Stores a signer's files, then makes it the current one.
fn install_signer(dir: &Path, cert_der: &[u8], key_der: &[u8]) -> Result<Vec<u8>, KeyDirError> {
    let kid = kid_of(cert_der);
    let (cert_path, key_path) = signer_paths(dir, &hex(&kid));
    write_atomic(&key_path, key_der, true)?;
    write_atomic(&cert_path, cert_der, false)?;
    write_atomic(&dir.join("current"), hex(&kid).as_bytes(), false)?;
    Ok(kid)
}

fn current_kid_hex(dir: &Path) -> Result<String, KeyDirError> {
    let path = dir.join("current");
    let text = String::from_utf8(read(&path)?)
        .map_err(|_| KeyDirError::NotAKid(path.display().to_string()))?;
    Ok(text.trim().to_string())
}

/// Creates the folder's keys if it has none; returns the current kid and
/// whether it was created now.
pub fn init_key_dir(dir: &Path, country: &str) -> Result<(Vec<u8>, bool), KeyDirError> {
    if dir.join("current").exists() {
        let (cert_path, _) = signer_paths(dir, &current_kid_hex(dir)?);
        return Ok((kid_of(&read(&cert_path)?), false));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let keys = generate_keys(country, CSCA_YEARS, SIGNER_DAYS)?;
    write_atomic(&dir.join("csca.key.pk8"), &keys.csca_key_pkcs8_der, true)?;
    write_atomic(&dir.join("csca.der"), &keys.csca_cert_der, false)?;
    let kid = install_signer(dir, &keys.dsc_cert_der, &keys.dsc_key_pkcs8_der)?;
    Ok((kid, true))
}

/// Makes a new document signer under the folder's CSCA and puts it in
/// charge; the previous signers stay in the trust list. Returns the new kid.
pub fn rotate_key_dir(dir: &Path, country: &str) -> Result<Vec<u8>, KeyDirError> {
    current_kid_hex(dir)?;
    let csca_key = read(&dir.join("csca.key.pk8"))?;
    let signer = issue_signer(&csca_key, country, SIGNER_DAYS)?;
    install_signer(dir, &signer.dsc_cert_der, &signer.dsc_key_pkcs8_der)
}

/// The current signer and every signer certificate of the folder.
pub fn load_key_dir(dir: &Path) -> Result<(Signer, TrustList), KeyDirError> {
    let (cert_path, key_path) = signer_paths(dir, &current_kid_hex(dir)?);
    let signer = Signer::new(&read(&cert_path)?, &read(&key_path)?)?;
    let mut trust = TrustList::default();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("dsc-") && name.ends_with(".der") {
            trust.add(SignerCertificate::from_der(&read(&path)?)?);
        }
    }
    Ok((signer, trust))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_old_signers_trusted() {
        let dir = std::env::temp_dir().join(format!("vaxgrid-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (first, created) = init_key_dir(&dir, "VN").unwrap();
        assert!(created);
        assert_eq!(init_key_dir(&dir, "VN").unwrap(), (first.clone(), false));
        let (old_signer, _) = load_key_dir(&dir).unwrap();
        // A payload that follows the DCC schema: `check` validates it.
        let payload = serde_json::json!({
            "ver": "1.3.0",
            "nam": {"fn": "Trần", "fnt": "TRAN", "gn": "Bình", "gnt": "BINH"},
            "dob": "1990-01-02",
            "v": [{
                "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529",
                "ma": "ORG-100001699", "dn": 1, "sd": 2, "dt": "2021-08-26",
                "co": "VN", "is": "Ministry of Health of Viet Nam",
                "ci": "URN:UVCI:01:VN:TEST"
            }]
        });
        let old_hc1 = old_signer
            .sign("VN", &payload, 1_600_000_000, 4_000_000_000)
            .unwrap();

        let second = rotate_key_dir(&dir, "VN").unwrap();
        assert_ne!(first, second);
        let (signer, trust) = load_key_dir(&dir).unwrap();
        assert_eq!(signer.kid(), second.as_slice());
        assert_eq!(trust.certificates().count(), 2);
        let new_hc1 = signer
            .sign("VN", &payload, 1_600_000_000, 4_000_000_000)
            .unwrap();
        for hc1 in [old_hc1, new_hc1] {
            let (verified, failures) = vaxgrid_interop::dcc::check(&hc1, &trust, 1_700_000_000);
            assert!(verified.is_some(), "{failures:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_needs_an_initialised_folder() {
        let dir = std::env::temp_dir().join("vaxgrid-keys-absent");
        let e = rotate_key_dir(&dir, "VN").unwrap_err();
        assert!(e.to_string().contains("current"), "{e}");
    }
}
