//! Every EU DCC test vector in shared/data/dcc (common and country files),
//! and any other folder of vectors named by `VAXGRID_DCC_VECTORS`:
//! each step named in EXPECTEDRESULTS that this crate implements must give
//! the expected result. PICTUREDECODE needs a PNG the data does not include
//! and is left out, explicitly, below. A disagreement on a step that
//! upstream's known_issues.csv marks as wrong for that vector is reported,
//! not failed; a vector the data's README describes outright (NL_006 fails
//! SCHEMAVALIDATION on its 1815 `dob`) is asserted regardless. A vector
//! that cannot be read, or whose signer certificate is not one, is a
//! recorded failure of that vector (its VERIFY step fails), never a panic
//! of the whole test.

use base64::Engine;
use vaxgrid_interop::dcc::{check, DccError, Layer, SignerCertificate, TrustList};

fn data_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/dcc");
    assert!(
        dir.is_dir(),
        "the DCC test vectors are required at {}",
        dir.display()
    );
    dir
}

fn clock(text: &str) -> Option<i64> {
    // Clocks come with or without a zone and with microseconds.
    let tail = text.get(10..).unwrap_or("");
    let with_zone = if text.ends_with('Z') || tail.contains('+') || tail.contains('-') {
        text.to_string()
    } else {
        format!("{text}Z")
    };
    time::OffsetDateTime::parse(&with_zone, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

const STEPS: [(&str, Layer); 9] = [
    ("EXPECTEDUNPREFIX", Layer::Unprefix),
    ("EXPECTEDB45DECODE", Layer::B45Decode),
    ("EXPECTEDCOMPRESSION", Layer::Compression),
    ("EXPECTEDDECODE", Layer::Decode),
    ("EXPECTEDVERIFY", Layer::Verify),
    ("EXPECTEDEXPIRATIONCHECK", Layer::ExpirationCheck),
    ("EXPECTEDKEYUSAGE", Layer::KeyUsage),
    ("EXPECTEDVALIDJSON", Layer::ValidJson),
    ("EXPECTEDSCHEMAVALIDATION", Layer::SchemaValidation),
];
const NOT_ASSERTED: [&str; 2] = ["EXPECTEDPICTUREDECODE", "EXPECTEDVALIDOBJECT"];

/// Upstream's test name in known_issues.csv → the step it checks.
const KNOWN_ISSUE_STEPS: [(&str, &str); 4] = [
    ("test_cose_schema", "EXPECTEDSCHEMAVALIDATION"),
    ("test_verification_check", "EXPECTEDVERIFY"),
    ("test_expiration_check", "EXPECTEDEXPIRATIONCHECK"),
    ("test_expected_key_usage", "EXPECTEDKEYUSAGE"),
];

/// (step, country, test set; empty for every set of the country) that
/// upstream marks as wrong.
fn known_issues(dir: &std::path::Path) -> Vec<(&'static str, String, String)> {
    let text = std::fs::read_to_string(dir.join("known_issues.csv")).expect("known_issues.csv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let (test, country, set) = (cols.next()?, cols.next()?, cols.next()?);
            let (_, step) = KNOWN_ISSUE_STEPS.iter().find(|(t, _)| *t == test)?;
            Some((*step, country.to_string(), set.to_string()))
        })
        .collect()
}

/// Whether upstream marks `step` of the vector file `name` as wrong; country
/// files are named `COUNTRY_SET.json`, common ones have no country.
fn is_known_issue(issues: &[(&str, String, String)], name: &str, step: &str) -> bool {
    let stem = name.trim_end_matches(".json");
    let Some((country, set)) = stem.split_once('_') else {
        return false;
    };
    issues
        .iter()
        .any(|(s, c, t)| *s == step && c == country && (t.is_empty() || t == set))
}

/// The score of a folder of vectors.
#[derive(Debug, Default)]
struct Score {
    vectors: usize,
    asserted: usize,
    schema_asserted: usize,
    nl_006_checked: bool,
    /// Steps that gave another result than expected, and unreadable vectors.
    mismatches: Vec<String>,
    /// Mismatches upstream's known_issues.csv marks as wrong.
    tolerated: Vec<String>,
    /// JSON files in the folder that are no vectors (no PREFIX, nothing
    /// expected).
    not_vectors: usize,
}

fn vector_files(dirs: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = dirs
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("vector folder {}: {e}", dir.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// The signer certificate of a vector, as a trust list; a certificate that
/// is not one is the vector's VERIFY failure.
fn trust_of(v: &serde_json::Value) -> (TrustList, Option<DccError>) {
    let mut trust = TrustList::default();
    let Some(cert) = v["TESTCTX"]["CERTIFICATE"].as_str() else {
        return (trust, None);
    };
    let der = match base64::engine::general_purpose::STANDARD.decode(cert.trim()) {
        Ok(der) => der,
        Err(e) => {
            let reason = format!("signer certificate is not base64: {e}");
            return (
                trust,
                Some(DccError {
                    layer: Layer::Verify,
                    reason,
                }),
            );
        }
    };
    match SignerCertificate::from_der(&der) {
        Ok(c) => {
            trust.add(c);
            (trust, None)
        }
        Err(e) => (trust, Some(e)),
    }
}

fn score(files: &[std::path::PathBuf], issues: &[(&str, String, String)]) -> Score {
    let mut score = Score::default();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        score.vectors += 1;
        let v: serde_json::Value = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                score
                    .mismatches
                    .push(format!("{name}: unreadable vector: {e}"));
                continue;
            }
        };
        // Whatever a vector holds, a panic while checking it is that
        // vector's recorded failure, and the rest of the folder is scored.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut one = Score::default();
            score_vector(&name, &v, issues, &mut one);
            one
        }));
        match outcome {
            Ok(one) => {
                score.asserted += one.asserted;
                score.schema_asserted += one.schema_asserted;
                score.nl_006_checked |= one.nl_006_checked;
                score.mismatches.extend(one.mismatches);
                score.tolerated.extend(one.tolerated);
                score.not_vectors += one.not_vectors;
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                score
                    .mismatches
                    .push(format!("{name}: checking the vector panicked: {what}"));
            }
        }
    }
    score
}

fn score_vector(
    name: &str,
    v: &serde_json::Value,
    issues: &[(&str, String, String)],
    score: &mut Score,
) {
    let expected = v["EXPECTEDRESULTS"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let Some(prefix) = v["PREFIX"].as_str() else {
        // A vector that expects results but has no QR content to check is
        // malformed: that vector's failure. A JSON file with neither (a
        // schema or value set in the same folder) is no vector.
        if expected.is_empty() {
            score.not_vectors += 1;
        } else {
            score
                .mismatches
                .push(format!("{name}: malformed vector: no PREFIX string"));
        }
        return;
    };
    let (trust, bad_signer) = trust_of(v);
    let now = v["TESTCTX"]["VALIDATIONCLOCK"]
        .as_str()
        .and_then(clock)
        .unwrap_or(1_620_000_000);
    let (verified, mut failures) = check(prefix, &trust, now);
    if let Some(e) = bad_signer {
        failures.retain(|f| f.layer != Layer::Verify);
        failures.push(e);
        failures.sort_by_key(|f| f.layer as u8);
    }
    for f in failures
        .iter()
        .filter(|f| f.layer == Layer::SchemaValidation)
    {
        // The reason names the JSON path of each violation.
        if !(f.reason.starts_with('/') || f.reason.starts_with("(root): ")) {
            score.mismatches.push(format!(
                "{name}: schema reason without a path: {}",
                f.reason
            ));
        }
        if verified.is_some() {
            score
                .mismatches
                .push(format!("{name}: schema-invalid but verified"));
        }
    }
    if name.starts_with("NL_006") {
        match failures.iter().find(|f| f.layer == Layer::SchemaValidation) {
            Some(schema)
                if schema.reason.starts_with("/dob: '1815-")
                    && schema.reason.contains("pattern") =>
            {
                score.nl_006_checked = true;
            }
            other => score.mismatches.push(format!(
                "{name} must fail SCHEMAVALIDATION on its dob: {other:?}"
            )),
        }
    }
    // A failure in a layer that the later checks depend on (prefix,
    // base45, zlib, COSE, CWT structure) fails every later step too.
    let gate = failures
        .iter()
        .filter(|f| f.layer as u8 <= Layer::Decode as u8 || f.reason.starts_with("CWT"))
        .map(|f| f.layer as u8)
        .min();
    for (key, value) in &expected {
        if NOT_ASSERTED.contains(&key.as_str()) {
            continue;
        }
        let Some((_, layer)) = STEPS.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let failed_here = failures.iter().any(|f| f.layer == *layer);
        let gated = gate.is_some_and(|g| g < *layer as u8);
        let passed = !failed_here && !gated;
        score.asserted += 1;
        if *layer == Layer::SchemaValidation {
            score.schema_asserted += 1;
        }
        if Some(passed) != value.as_bool() {
            let line = format!("{name} {key}: expected {value}, got {passed} ({failures:?})");
            if is_known_issue(issues, name, key) && !name.starts_with("NL_006") {
                score.tolerated.push(line);
            } else {
                score.mismatches.push(line);
            }
        }
    }
}

#[test]
fn every_vector_gives_the_expected_result_at_every_implemented_step() {
    let dir = data_dir();
    let files = vector_files(&[dir.join("common"), dir.join("countries")]);
    assert!(
        files.len() >= 45,
        "expected the whole vector set, found {}",
        files.len()
    );
    let issues = known_issues(&dir);
    assert!(
        is_known_issue(&issues, "NL_000-NL-test.json", "EXPECTEDSCHEMAVALIDATION")
            && !is_known_issue(&issues, "BE_5.json", "EXPECTEDSCHEMAVALIDATION"),
        "known_issues.csv is not read as expected: {issues:?}"
    );
    let score = score(&files, &issues);
    if !score.tolerated.is_empty() {
        eprintln!(
            "known upstream issues (known_issues.csv), not failed:\n{}",
            score.tolerated.join("\n")
        );
    }
    assert!(
        score.asserted > 100,
        "too few steps asserted: {}",
        score.asserted
    );
    assert!(
        score.schema_asserted >= 13,
        "too few SCHEMAVALIDATION steps asserted: {}",
        score.schema_asserted
    );
    assert!(score.nl_006_checked, "NL_006 is missing from the vectors");
    assert!(
        score.mismatches.is_empty(),
        "{} mismatches:\n{}",
        score.mismatches.len(),
        score.mismatches.join("\n")
    );
}

/// Any folder of vectors is scored (`VAXGRID_DCC_VECTORS=DIR`, e.g. a newer
/// upstream set): the score is printed, and every mismatch fails.
#[test]
fn a_folder_named_by_the_environment_is_scored() {
    let Some(dir) = std::env::var_os("VAXGRID_DCC_VECTORS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let issues = if dir.join("known_issues.csv").is_file() {
        known_issues(&dir)
    } else {
        known_issues(&data_dir())
    };
    let score = score(&vector_files(&[dir]), &issues);
    eprintln!(
        "{} vectors, {} steps asserted, {} mismatches, {} known issues",
        score.vectors,
        score.asserted,
        score.mismatches.len(),
        score.tolerated.len()
    );
    assert!(
        score.mismatches.is_empty(),
        "{}",
        score.mismatches.join("\n")
    );
}

/// A folder with broken vectors is scored vector by vector: a signer
/// certificate that is not one fails that vector's VERIFY, an unreadable
/// file is recorded, and the good vectors beside them still pass.
#[test]
fn broken_vectors_are_recorded_failures_not_panics() {
    let dir = data_dir();
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("countries/BE_5.json")).unwrap())
            .unwrap();
    let folder = std::env::temp_dir().join(format!("vaxgrid-dcc-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let write = |name: &str, v: &serde_json::Value| {
        std::fs::write(folder.join(name), v.to_string()).unwrap();
    };
    write("A_good.json", &good);
    // Garbage DER and not base64 at all, where VERIFY is expected to pass.
    let mut garbage = good.clone();
    garbage["TESTCTX"]["CERTIFICATE"] = "MIIBAAAA".into();
    write("B_garbage_der.json", &garbage);
    let mut not_base64 = good.clone();
    not_base64["TESTCTX"]["CERTIFICATE"] = "%%%".into();
    write("C_not_base64.json", &not_base64);
    // The same bad signer where the vector expects VERIFY to fail: a pass.
    let mut expected_bad = garbage.clone();
    expected_bad["EXPECTEDRESULTS"] = serde_json::json!({"EXPECTEDVERIFY": false});
    write("D_expected_bad_signer.json", &expected_bad);
    std::fs::write(folder.join("E_not_json.json"), "{ not json").unwrap();
    // JSON, but no vector object, or a vector without its QR content.
    std::fs::write(folder.join("F_array.json"), "[1, 2]").unwrap();
    let mut no_prefix = good.clone();
    no_prefix["PREFIX"] = 42.into();
    write("G_no_prefix.json", &no_prefix);
    // A certificate that is still X.509 but whose P-256 key is no point
    // of the curve (one coordinate byte changed): VERIFY fails.
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(good["TESTCTX"]["CERTIFICATE"].as_str().unwrap())
        .unwrap();
    // The subject public key: BIT STRING of 66 bytes, 0 unused bits, an
    // uncompressed point (04 x y).
    let key = der
        .windows(4)
        .position(|w| w == [0x03, 0x42, 0x00, 0x04])
        .expect("BE_5 is signed with a P-256 key");
    der[key + 10] ^= 0x01;
    let mut tampered = good.clone();
    tampered["TESTCTX"]["CERTIFICATE"] = base64::engine::general_purpose::STANDARD
        .encode(&der)
        .into();
    write("H_tampered_der.json", &tampered);
    // A QR content that is garbage where every step is expected to pass,
    // a validation clock that is not one, and a result that is not a
    // boolean: each that vector's mismatch, no panic.
    let mut garbage_prefix = good.clone();
    garbage_prefix["PREFIX"] = "HC1:!!! not base45 ÿ".into();
    write("I_garbage_prefix.json", &garbage_prefix);
    let mut bad_clock = good.clone();
    bad_clock["TESTCTX"]["VALIDATIONCLOCK"] = "yesterday".into();
    bad_clock["EXPECTEDRESULTS"]["EXPECTEDVERIFY"] = "yes".into();
    write("J_bad_clock_and_result.json", &bad_clock);
    // A value set beside the vectors is no vector, and no failure.
    std::fs::write(
        folder.join("K_value_set.json"),
        r#"{"valueSetId": "x", "valueSetValues": {}}"#,
    )
    .unwrap();

    let score = score(&vector_files(std::slice::from_ref(&folder)), &[]);
    std::fs::remove_dir_all(&folder).unwrap();
    assert_eq!(score.vectors, 11);
    assert_eq!(score.not_vectors, 2, "F_array and K_value_set");
    let mut failed: Vec<&str> = score
        .mismatches
        .iter()
        .map(|m| m.split([' ', ':']).next().unwrap())
        .collect();
    failed.dedup();
    assert_eq!(
        failed,
        [
            "B_garbage_der.json",
            "C_not_base64.json",
            "E_not_json.json",
            "G_no_prefix.json",
            "H_tampered_der.json",
            "I_garbage_prefix.json",
            "J_bad_clock_and_result.json",
        ],
        "{:#?}",
        score.mismatches
    );
    assert!(
        score.mismatches[0].contains("EXPECTEDVERIFY"),
        "{}",
        score.mismatches[0]
    );
}
