//! Signed checkpoints of the audit chain's head, kept outside the database.
//!
//! The hash chain in `audit_log` shows a row altered or removed in the
//! middle, but not rows cut from the end, nor a whole table replaced by a
//! chain computed afresh. A checkpoint is one line naming the head (sequence
//! number and hash) at a moment, signed with the operator's key (ECDSA
//! P-256, SHA-256); appended to a file the operator keeps apart from the
//! database, the lines let `vaxgrid audit verify --checkpoint` show both:
//! the table ending before a checkpointed entry, and an entry whose hash is
//! not the one signed. The line:
//!
//! ```text
//! vaxgrid-audit-checkpoint v1 seq=1234 hash=<64 hex> at=2026-12-05T21:40:00Z sig=<128 hex>
//! ```
//!
//! The signature covers the line up to ` sig=`.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use vaxgrid_store::audit::Anchor;
use vaxgrid_store::Store;

const MAGIC: &str = "vaxgrid-audit-checkpoint v1";

/// Creates a key pair: `out` (the private key, PKCS#8 PEM, readable by its
/// owner only) and `out.pub` (the public key, SPKI PEM). Refuses to replace
/// either.
pub fn keygen(out: &Path) -> Result<std::path::PathBuf> {
    let public = public_path(out);
    for p in [out, public.as_path()] {
        if p.exists() {
            bail!("{} exists; refusing to replace a key", p.display());
        }
    }
    let key = SigningKey::random(&mut rand_core::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow!("encoding the key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(out)
        .with_context(|| format!("creating {}", out.display()))?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| anyhow!("encoding the public key: {e}"))?;
    std::fs::write(&public, public_pem).with_context(|| format!("writing {}", public.display()))?;
    Ok(public)
}

fn public_path(key: &Path) -> std::path::PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

pub fn load_key(path: &Path) -> Result<SigningKey> {
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow!(
            "{}: not a P-256 private key (PKCS#8 PEM): {e}",
            path.display()
        )
    })
}

pub fn load_public_key(path: &Path) -> Result<VerifyingKey> {
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    VerifyingKey::from_public_key_pem(&pem)
        .map_err(|e| anyhow!("{}: not a P-256 public key (SPKI PEM): {e}", path.display()))
}

/// The signed line for a head.
pub fn line(key: &SigningKey, seq: i64, hash: &str, at: OffsetDateTime) -> String {
    let at = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default();
    let body = format!("{MAGIC} seq={seq} hash={hash} at={at}");
    let sig: Signature = key.sign(body.as_bytes());
    format!("{body} sig={}", hex(&sig.to_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Reads one line back: the head it names, if its signature verifies.
pub fn parse(line: &str, key: &VerifyingKey) -> Result<Anchor, String> {
    let (body, sig) = line
        .split_once(" sig=")
        .ok_or("not a checkpoint line (no signature)")?;
    let sig = unhex(sig.trim())
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or("the signature is not 64 bytes of hex")?;
    key.verify(body.as_bytes(), &sig)
        .map_err(|_| "the signature does not verify with this public key")?;
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("not a checkpoint line (unknown format)")?;
    let (mut seq, mut hash, mut at) = (None, None, None);
    for field in rest.split_whitespace() {
        match field.split_once('=') {
            Some(("seq", v)) => seq = v.parse::<i64>().ok(),
            Some(("hash", v)) => hash = Some(v.to_string()),
            Some(("at", v)) => at = Some(v.to_string()),
            _ => {}
        }
    }
    match (seq, hash, at) {
        (Some(seq), Some(hash), Some(label)) if seq >= 0 => Ok(Anchor { seq, hash, label }),
        _ => Err("a signed line without seq, hash and at".into()),
    }
}

/// Every checkpoint of a file; any line that is not a checkpoint signed by
/// `key` (blank lines aside) is an error naming it.
pub fn read_file(path: &Path, key: &VerifyingKey) -> Result<Vec<Anchor>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut anchors = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let anchor =
            parse(l, key).map_err(|e| anyhow!("{} line {}: {e}", path.display(), i + 1))?;
        anchors.push(anchor);
    }
    if anchors.is_empty() {
        bail!("{} holds no checkpoint", path.display());
    }
    Ok(anchors)
}

/// Appends `line` to `path` (created if absent) and syncs it.
pub fn append(path: &Path, line: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("appending to {}", path.display()))
}

/// Signs the current head and appends it to `out`; returns the head's
/// sequence number and the line.
pub async fn write(store: &Store, key: &SigningKey, out: &Path) -> Result<(i64, String)> {
    let (seq, hash) = store.audit_head().await?;
    let l = line(key, seq, &hash, OffsetDateTime::now_utc());
    append(out, &l)?;
    Ok((seq, l))
}

/// The server's checkpointer, after the line at start (of entry `written`):
/// one line every `every` when the head has moved. A failure is logged and
/// tried again next time.
pub async fn run(
    store: Store,
    key: SigningKey,
    out: std::path::PathBuf,
    every: std::time::Duration,
    written: i64,
) {
    let mut last = Some(written);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        let head = match store.audit_head().await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "audit checkpoint: cannot read the head");
                continue;
            }
        };
        if last == Some(head.0) {
            continue;
        }
        let l = line(&key, head.0, &head.1, OffsetDateTime::now_utc());
        match append(&out, &l) {
            Ok(()) => {
                tracing::info!(checkpoint = %l, "audit checkpoint written");
                last = Some(head.0);
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "audit checkpoint not written"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_verifies_and_any_change_does_not() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let public = *key.verifying_key();
        let hash = "ab".repeat(32);
        let l = line(&key, 42, &hash, OffsetDateTime::UNIX_EPOCH);
        let a = parse(&l, &public).unwrap();
        assert_eq!((a.seq, a.hash.as_str()), (42, hash.as_str()));
        assert_eq!(a.label, "1970-01-01T00:00:00Z");
        let moved = l.replace("seq=42", "seq=41");
        assert!(parse(&moved, &public)
            .unwrap_err()
            .contains("does not verify"));
        let other = SigningKey::random(&mut rand_core::OsRng);
        assert!(parse(&l, other.verifying_key()).is_err());
        assert!(parse("seq=1 hash=00", &public).is_err());
    }
}
