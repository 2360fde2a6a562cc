//! Every EU DCC test vector in shared/data/dcc (common and country files):
//! each step named in EXPECTEDRESULTS that this crate implements must give
//! the expected result. PICTUREDECODE needs a PNG the data does not include
//! and is left out, explicitly, below. A disagreement on a step that
//! upstream's known_issues.csv marks as wrong for that vector is reported,
//! not failed; a vector the data's README describes outright (NL_006 fails
//! SCHEMAVALIDATION on its 1815 `dob`) is asserted regardless.

use base64::Engine;
use vaxgrid_interop::dcc::{check, Layer, SignerCertificate, TrustList};

fn data_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/dcc");
    assert!(
        dir.is_dir(),
        "the DCC test vectors are required at {}",
        dir.display()
    );
    dir
}

fn clock(text: &str) -> i64 {
    // Clocks come with or without a zone and with microseconds.
    let with_zone =
        if text.ends_with('Z') || text[10..].contains('+') || text[10..].matches('-').count() > 0 {
            text.to_string()
        } else {
            format!("{text}Z")
        };
    time::OffsetDateTime::parse(&with_zone, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("clock {text}: {e}"))
        .unix_timestamp()
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

#[test]
fn every_vector_gives_the_expected_result_at_every_implemented_step() {
    let dir = data_dir();
    let mut files: Vec<_> = ["common", "countries"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(dir.join(sub))
                .expect("vector folder")
                .map(|e| e.unwrap().path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
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
    let mut mismatches = Vec::new();
    let mut tolerated = Vec::new();
    let mut asserted = 0;
    let mut schema_asserted = 0;
    let mut nl_006_checked = false;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let expected = v["EXPECTEDRESULTS"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let Some(prefix) = v["PREFIX"].as_str() else {
            continue;
        };
        let mut trust = TrustList::default();
        if let Some(cert) = v["TESTCTX"]["CERTIFICATE"].as_str() {
            let der = base64::engine::general_purpose::STANDARD
                .decode(cert)
                .expect("certificate is base64");
            trust.add(SignerCertificate::from_der(&der).unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        let now = v["TESTCTX"]["VALIDATIONCLOCK"]
            .as_str()
            .map_or(1_620_000_000, clock);
        let (verified, failures) = check(prefix, &trust, now);
        for f in failures
            .iter()
            .filter(|f| f.layer == Layer::SchemaValidation)
        {
            // The reason names the JSON path of each violation.
            assert!(
                f.reason.starts_with('/') || f.reason.starts_with("(root): "),
                "{name}: {}",
                f.reason
            );
            assert!(verified.is_none(), "{name}: schema-invalid but verified");
        }
        if name.starts_with("NL_006") {
            let schema = failures
                .iter()
                .find(|f| f.layer == Layer::SchemaValidation)
                .unwrap_or_else(|| panic!("{name} must fail SCHEMAVALIDATION: {failures:?}"));
            assert!(
                schema.reason.starts_with("/dob: '1815-") && schema.reason.contains("pattern"),
                "{name}: {}",
                schema.reason
            );
            nl_006_checked = true;
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
            asserted += 1;
            if *layer == Layer::SchemaValidation {
                schema_asserted += 1;
            }
            if Some(passed) != value.as_bool() {
                let line = format!("{name} {key}: expected {value}, got {passed} ({failures:?})");
                if is_known_issue(&issues, &name, key) && !name.starts_with("NL_006") {
                    tolerated.push(line);
                } else {
                    mismatches.push(line);
                }
            }
        }
    }
    if !tolerated.is_empty() {
        eprintln!(
            "known upstream issues (known_issues.csv), not failed:\n{}",
            tolerated.join("\n")
        );
    }
    assert!(asserted > 100, "too few steps asserted: {asserted}");
    assert!(
        schema_asserted >= 13,
        "too few SCHEMAVALIDATION steps asserted: {schema_asserted}"
    );
    assert!(nl_006_checked, "NL_006 is missing from the vectors");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
