//! `vaxgrid bench certs`: EU DCC certificates signed and verified per
//! second on both cores, against bare ECDSA P-256 sign/verify of a message
//! of the same size on one core as the baseline (what the layers around the
//! signature cost, and what the second core adds).

use std::time::Instant;

use anyhow::Result;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::DecodePrivateKey;
use vaxgrid_interop::dcc::{generate_keys, uvci, verify, Signer, SignerCertificate, TrustList};

pub fn run(count: usize) -> Result<()> {
    let keys = generate_keys("VN", 10, 365)?;
    let signer = Signer::new(&keys.dsc_cert_der, &keys.dsc_key_pkcs8_der)?;
    let mut trust = TrustList::default();
    trust.add(SignerCertificate::from_der(&keys.dsc_cert_der)?);
    let (iat, exp) = (1_700_000_000, 1_731_536_000);
    let payloads = payloads(count);
    // Both cores, as a server would use them: each thread signs and then
    // verifies its half.
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(2);
    let per_thread = count.div_ceil(threads);
    let started = Instant::now();
    let issued = sign_all(&signer, &payloads, per_thread, (iat, exp));
    let sign_rate = count as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let ok = verify_all(&issued, &trust, per_thread, iat + 60);
    let verify_rate = count as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        ok == count,
        "{} of {count} certificates did not verify",
        count - ok
    );
    let (raw_sign, raw_verify) = bare_ecdsa(&keys.dsc_key_pkcs8_der, count)?;
    println!(
        "bench certs (EU DCC, ES256, {threads} threads, {count} certificates, ~{} characters each)",
        issued[0].len()
    );
    println!("  signed/s               {sign_rate:.0}   (bare ECDSA on one core {raw_sign:.0}/s)");
    println!(
        "  verified/s             {verify_rate:.0}   (bare ECDSA on one core {raw_verify:.0}/s)"
    );
    println!(
        "  target                 >= 5,000 signed/s and >= 5,000 verified/s: {}",
        if sign_rate >= 5000.0 && verify_rate >= 5000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

/// `count` vaccination certificates' payloads, each a person of its own.
fn payloads(count: usize) -> Vec<serde_json::Value> {
    (0..count)
        .map(|i| {
            serde_json::json!({
                "ver": "1.3.0",
                "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": format!("Văn {i}"), "gnt": format!("VAN<{}", letters(i))},
                "dob": "1980-05-17",
                "v": [{"tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529", "ma": "ORG-100001699",
                       "dn": 2, "sd": 2, "dt": "2021-08-26", "co": "VN", "is": "Ministry of Health of Viet Nam",
                       "ci": uvci("VN", &format!("22{i:010}"))}]
            })
        })
        .collect()
}

/// Signs every payload, `per_thread` to a thread; the `HC1:` strings in
/// the payloads' order.
fn sign_all(
    signer: &Signer,
    payloads: &[serde_json::Value],
    per_thread: usize,
    (iat, exp): (i64, i64),
) -> Vec<String> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = payloads
            .chunks(per_thread)
            .map(|chunk| {
                let signer = signer.clone();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|p| signer.sign("VN", p, iat, exp))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signing thread").expect("signing"))
            .collect()
    })
}

/// Verifies every certificate at `now_unix`, `per_thread` to a thread;
/// how many passed.
fn verify_all(issued: &[String], trust: &TrustList, per_thread: usize, now_unix: i64) -> usize {
    std::thread::scope(|scope| {
        let handles: Vec<_> = issued
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter(|hc1| verify(hc1, trust, now_unix).is_ok())
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("verifying thread"))
            .sum()
    })
}

/// The baseline: bare ECDSA signatures, then verifications, of a message
/// of a certificate's length on one core (each a rate per second).
fn bare_ecdsa(key_pkcs8_der: &[u8], count: usize) -> Result<(f64, f64)> {
    let key = p256::ecdsa::SigningKey::from_pkcs8_der(key_pkcs8_der)?;
    let message = vec![0x5a_u8; 300];
    let started = Instant::now();
    let mut sig: p256::ecdsa::Signature = key.sign(&message);
    for _ in 1..count {
        sig = key.sign(&message);
    }
    let raw_sign = count as f64 / started.elapsed().as_secs_f64();
    let vk = *key.verifying_key();
    let started = Instant::now();
    for _ in 0..count {
        vk.verify(&message, &sig)?;
    }
    let raw_verify = count as f64 / started.elapsed().as_secs_f64();
    Ok((raw_sign, raw_verify))
}

/// `i` written in capital letters (A, B, …, Z, BA, …): the DCC schema allows
/// only A–Z and '<' in transliterated names.
fn letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
