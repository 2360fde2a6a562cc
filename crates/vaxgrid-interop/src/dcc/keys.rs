//! Key material on disk: a folder with the country signing CA, the document
//! signers (one file per kid, so old ones stay trusted after a rotation) and
//! the private key of the current signer (mode 0600).

use std::path::{Path, PathBuf};

use super::issue::{generate_keys, Signer};
use super::trust::{kid_of, SignerCertificate, TrustList};
use super::{DccError, Layer};

fn io(path: &Path, e: std::io::Error) -> DccError {
    DccError::new(Layer::Verify, format!("{}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the folder's keys if it has none; returns the current kid.
pub fn init_key_dir(dir: &Path, country: &str) -> Result<(Vec<u8>, bool), DccError> {
    let current = dir.join("dsc-current.key.pk8");
    if current.exists() {
        let der = std::fs::read(dir.join("dsc-current.der")).map_err(|e| io(dir, e))?;
        return Ok((kid_of(&der), false));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let keys = generate_keys(country, 10, 365)?;
    let kid = kid_of(&keys.dsc_cert_der);
    let write =
        |name: PathBuf, bytes: &[u8]| std::fs::write(&name, bytes).map_err(|e| io(&name, e));
    write(dir.join("csca.der"), &keys.csca_cert_der)?;
    write(
        dir.join(format!("dsc-{}.der", hex(&kid))),
        &keys.dsc_cert_der,
    )?;
    write(dir.join("dsc-current.der"), &keys.dsc_cert_der)?;
    write(current.clone(), &keys.dsc_key_pkcs8_der)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&current, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io(&current, e))?;
    }
    Ok((kid, true))
}

/// The current signer and every signer certificate of the folder.
pub fn load_key_dir(dir: &Path) -> Result<(Signer, TrustList), DccError> {
    let der = std::fs::read(dir.join("dsc-current.der")).map_err(|e| io(dir, e))?;
    let key_path = dir.join("dsc-current.key.pk8");
    let key = std::fs::read(&key_path).map_err(|e| io(&key_path, e))?;
    let signer = Signer::new(&der, &key)?;
    let mut trust = TrustList::default();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("dsc-") && name.ends_with(".der") && name != "dsc-current.der" {
            let der = std::fs::read(&path).map_err(|e| io(&path, e))?;
            trust.add(SignerCertificate::from_der(&der)?);
        }
    }
    trust.add(SignerCertificate::from_der(&der)?);
    Ok((signer, trust))
}
