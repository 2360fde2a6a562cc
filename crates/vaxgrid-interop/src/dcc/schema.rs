//! SCHEMAVALIDATION: the DCC payload (`hcert[1]` as JSON) against the EU
//! DCC JSON schema (draft 2020-12), in the release its `ver` names.
//!
//! `schemas/` beside this file holds every published release of the EU DCC
//! combined schema, 1.0.0 to 1.3.3, unchanged, from
//! `ehn-dcc-development/eu-dcc-schema` (tag and commit of each in
//! `schemas/README.md`), licensed under the Apache License, Version 2.0
//! (`schemas/LICENSE`). They are embedded so that the library needs no file
//! or network access: each compiler below is given a loader that loads
//! nothing, and no release has an external `$ref`.
//!
//! The upstream convention, followed here:
//! - the payload is validated against the release named in `ver` (a 1.0.0
//!   certificate issued in May 2021 is judged by the 1.0.0 rules, e.g. its
//!   `dob` must be a full date and its issuer at most 50 characters);
//! - `format` is an annotation only, as draft 2020-12 defines it and as the
//!   validators upstream's test data was checked with (Python
//!   `jsonschema`, ajv) apply it: the releases' `pattern`s are what
//!   constrain dates;
//! - value sets are not the schema's business (`valuesets.rs`).
//!
//! A `ver` that names no shipped release is refused, naming `/ver`, rather
//! than validated against the newest release of its major version: the
//! schema project is frozen (archived on 2023-07-01 at 1.3.3), so every
//! genuine `ver` is shipped here, and validating a `1.4.0` against 1.3.3
//! would claim a conformity that no published schema defines. A payload
//! without a `ver`, or whose `ver` is not a string, is validated against
//! the newest release, which names the fault at `/ver` itself.

use std::sync::OnceLock;

use super::{DccError, Layer};

/// Every published release, oldest first: (`ver`, the combined schema).
const RELEASES: [(&str, &str); 9] = [
    (
        "1.0.0",
        include_str!("schemas/1.0.0/DGC.combined-schema.json"),
    ),
    (
        "1.0.1",
        include_str!("schemas/1.0.1/DGC.combined-schema.json"),
    ),
    (
        "1.1.0",
        include_str!("schemas/1.1.0/DGC.combined-schema.json"),
    ),
    (
        "1.2.0",
        include_str!("schemas/1.2.0/DGC.combined-schema.json"),
    ),
    (
        "1.2.1",
        include_str!("schemas/1.2.1/DCC.combined-schema.json"),
    ),
    (
        "1.3.0",
        include_str!("schemas/1.3.0/DCC.combined-schema.json"),
    ),
    (
        "1.3.1",
        include_str!("schemas/1.3.1/DCC.combined-schema.json"),
    ),
    (
        "1.3.2",
        include_str!("schemas/1.3.2/DCC.combined-schema.json"),
    ),
    (
        "1.3.3",
        include_str!("schemas/1.3.3/DCC.combined-schema.json"),
    ),
];
/// How many violations a failure reason lists.
const REPORTED: usize = 3;

/// The `ver` of every shipped schema release, oldest first.
pub fn releases() -> impl Iterator<Item = &'static str> {
    RELEASES.iter().map(|(ver, _)| *ver)
}

struct Compiled {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

/// A release compiled on first use (most deployments only ever see one or
/// two `ver`s).
fn compiled(release: usize) -> &'static Compiled {
    static COMPILED: [OnceLock<Compiled>; RELEASES.len()] =
        [const { OnceLock::new() }; RELEASES.len()];
    COMPILED[release].get_or_init(|| {
        let (ver, text) = RELEASES[release];
        let doc: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the embedded DCC schema {ver} is not JSON: {e}"));
        // DGC.combined-schema.json up to 1.2.0, DCC.… after: each release
        // is compiled under its own `$id`.
        let id = doc["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("the embedded DCC schema {ver} has no $id"))
            .to_string();
        let mut compiler = boon::Compiler::new();
        // No `file:` (or any other) loading: everything is embedded.
        compiler.use_loader(Box::new(boon::SchemeUrlLoader::new()));
        // `format` stays an annotation (draft 2020-12's default): no
        // `enable_format_assertions`.
        compiler
            .add_resource(&id, doc)
            .unwrap_or_else(|e| panic!("the embedded DCC schema {ver} has a bad $id: {e}"));
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(&id, &mut schemas)
            .unwrap_or_else(|e| panic!("the embedded DCC schema {ver} does not compile: {e}"));
        Compiled { schemas, index }
    })
}

/// Validates a DCC payload against the schema release its `ver` names. The
/// error's reason names the JSON pointer of each violation and the rule it
/// broke, e.g. `/dob: '1815-12-10' does not match pattern '^((19|20)…'`, at
/// most three of them; a `ver` with no shipped release is refused as
/// `/ver: '1.4.0' names no DCC schema release (1.0.0, …, 1.3.3)`.
pub fn validate(dcc: &serde_json::Value) -> Result<(), DccError> {
    let release = match dcc.get("ver").and_then(|v| v.as_str()) {
        Some(ver) => match RELEASES.iter().position(|(v, _)| *v == ver) {
            Some(release) => release,
            None => {
                return Err(DccError::new(
                    Layer::SchemaValidation,
                    format!(
                        "/ver: '{ver}' names no DCC schema release ({})",
                        releases().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        },
        None => RELEASES.len() - 1,
    };
    let compiled = compiled(release);
    let Err(error) = compiled.schemas.validate(dcc, compiled.index) else {
        return one_certificate_type(dcc, release);
    };
    let mut leaves = Vec::new();
    collect_leaves(&error, &mut leaves);
    let mut reason = leaves
        .iter()
        .take(REPORTED)
        .map(|e| {
            let path = e.instance_location.to_string();
            let path = if path.is_empty() { "(root)" } else { &path };
            format!("{path}: {}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ");
    if leaves.len() > REPORTED {
        reason.push_str(&format!(" (and {} more)", leaves.len() - REPORTED));
    }
    Err(DccError::new(Layer::SchemaValidation, reason))
}

/// The first release whose schema itself says that a DCC holds exactly
/// one of `v`, `t`, `r` (its root `oneOf`).
const ONE_TYPE_IN_SCHEMA: &str = "1.3.0";

/// A DCC holds one certificate type. Releases before 1.3.0 left that to
/// the specification text and 1.3.0 wrote it into the schema; the EU test
/// vectors hold every release to it (DGC2, `ver` 1.2.1: "adheres to schema
/// but contains multiple certificates", SCHEMAVALIDATION expected to fail),
/// so it is checked here for the earlier releases too.
fn one_certificate_type(dcc: &serde_json::Value, release: usize) -> Result<(), DccError> {
    if RELEASES[release].0 >= ONE_TYPE_IN_SCHEMA {
        return Ok(());
    }
    let present: Vec<&str> = ["v", "t", "r"]
        .into_iter()
        .filter(|k| dcc.get(*k).is_some())
        .collect();
    if present.len() == 1 {
        return Ok(());
    }
    Err(DccError::new(
        Layer::SchemaValidation,
        format!(
            "(root): a DCC holds exactly one of v, t, r; this one holds {}",
            if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            }
        ),
    ))
}

/// The violations themselves: the errors that have no nested causes (the
/// others only group them, as `$ref` or `properties` do).
fn collect_leaves<'e, 's, 'v>(
    error: &'e boon::ValidationError<'s, 'v>,
    out: &mut Vec<&'e boon::ValidationError<'s, 'v>>,
) {
    if error.causes.is_empty() {
        out.push(error);
    } else {
        for cause in &error.causes {
            collect_leaves(cause, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload vaxgrid issues (vaxgrid-server `api/certificates.rs`).
    fn issued() -> serde_json::Value {
        serde_json::json!({
            "ver": "1.3.0",
            "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn Đức", "gnt": "VAN<DUC"},
            "dob": "1980-05-17",
            "v": [{
                "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529",
                "ma": "ORG-100001699", "dn": 2, "sd": 2, "dt": "2021-08-26",
                "co": "VN", "is": "Ministry of Health of Viet Nam",
                "ci": super::super::uvci("VN", "22A1B2C3D4E5")
            }]
        })
    }

    fn reason(dcc: &serde_json::Value) -> String {
        let err = validate(dcc).expect_err("the payload must fail the schema");
        assert_eq!(err.layer, Layer::SchemaValidation);
        err.reason
    }

    #[test]
    fn the_payload_vaxgrid_issues_passes() {
        assert_eq!(validate(&issued()), Ok(()));
        // A one-word name leaves the given name empty; the schema allows it.
        let mut one_word = issued();
        one_word["nam"]["gn"] = "".into();
        one_word["nam"]["gnt"] = "".into();
        assert_eq!(validate(&one_word), Ok(()));
    }

    #[test]
    fn a_dose_number_of_zero_fails_with_its_path() {
        let mut dcc = issued();
        dcc["v"][0]["dn"] = 0.into();
        assert_eq!(reason(&dcc), "/v/0/dn: must be >=1, but got 0");
    }

    #[test]
    fn a_missing_certificate_id_fails_with_its_path() {
        let mut dcc = issued();
        dcc["v"][0].as_object_mut().unwrap().remove("ci");
        assert_eq!(reason(&dcc), "/v/0: missing properties 'ci'");
    }

    #[test]
    fn a_lowercase_or_numbered_transliteration_fails_the_pattern() {
        let mut dcc = issued();
        dcc["nam"]["fnt"] = "nguyen".into();
        let r = reason(&dcc);
        assert!(
            r.starts_with("/nam/fnt: 'nguyen' does not match pattern"),
            "{r}"
        );
        // Digits are no part of an ICAO 9303 transliteration either.
        let mut dcc = issued();
        dcc["nam"]["gnt"] = "VAN<1".into();
        assert!(reason(&dcc).starts_with("/nam/gnt: "));
    }

    #[test]
    fn patterns_and_types_are_checked_and_at_most_three_violations_listed() {
        let mut dcc = issued();
        dcc["dob"] = "1815-12-10".into();
        dcc["v"][0]["dn"] = 0.into();
        dcc["v"][0]["sd"] = "2".into();
        dcc["v"][0]["is"] = "x".repeat(81).into();
        let r = reason(&dcc);
        assert!(
            r.contains("/dob: '1815-12-10' does not match pattern"),
            "{r}"
        );
        assert!(r.ends_with("(and 1 more)"), "{r}");
        assert_eq!(r.matches("; ").count(), 2, "{r}");
    }

    #[test]
    fn format_is_an_annotation_only() {
        // `dt` is `"format": "date"` with no pattern in every release: the
        // schema does not refuse it (draft 2020-12, upstream's validators).
        let mut dcc = issued();
        dcc["v"][0]["dt"] = "26/08/2021".into();
        assert_eq!(validate(&dcc), Ok(()));
    }

    /// Every release compiles and is the one its folder names.
    #[test]
    fn every_release_is_shipped_and_compiles() {
        assert_eq!(
            releases().collect::<Vec<_>>(),
            ["1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.3.2", "1.3.3"]
        );
        for (i, (ver, text)) in RELEASES.iter().enumerate() {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                doc["$comment"],
                format!("Schema version {ver}"),
                "the file shipped as {ver}"
            );
            compiled(i);
        }
    }

    /// A payload as it was issued under `ver`: the payload vaxgrid issues,
    /// with `ver` set.
    fn issued_as(ver: &str) -> serde_json::Value {
        let mut dcc = issued();
        dcc["ver"] = ver.into();
        dcc
    }

    /// The rules that changed between releases, and the first release under
    /// which the changed payload passes.
    type Change = fn(&mut serde_json::Value);
    const CHANGES: [(&str, Change, &str); 4] = [
        // 1.1.0 allowed a birth year (or year and month) only.
        ("a birth year only", |d| d["dob"] = "1950".into(), "1.1.0"),
        // 1.3.0 raised free texts from 50 to 80 characters ...
        (
            "an issuer of 60 characters",
            |d| d["v"][0]["is"] = "x".repeat(60).into(),
            "1.3.0",
        ),
        // ... and dropped the dose number's maximum of 9.
        (
            "a tenth dose",
            |d| {
                d["v"][0]["dn"] = 10.into();
                d["v"][0]["sd"] = 10.into();
            },
            "1.3.0",
        ),
        // 1.3.2 made the family name optional when there is a given name.
        (
            "a given name only",
            |d| {
                let nam = d["nam"].as_object_mut().unwrap();
                nam.remove("fn");
                nam.remove("fnt");
            },
            "1.3.2",
        ),
    ];

    /// Each release judges a payload by its own rules: one assertion per
    /// release and changed rule.
    fn check_release(ver: &str) {
        assert_eq!(validate(&issued_as(ver)), Ok(()), "issued under {ver}");
        for (what, change, from) in CHANGES {
            let mut dcc = issued_as(ver);
            change(&mut dcc);
            let result = validate(&dcc);
            // Release numbers here are single digits: text order is release order.
            assert_eq!(
                result.is_ok(),
                ver >= from,
                "{what} under {ver}: {result:?}"
            );
        }
    }

    #[test]
    fn release_1_0_0() {
        check_release("1.0.0");
        // 1.0.0's `dob` pattern was unanchored: a year alone fails, and the
        // failure names the field.
        let mut dcc = issued_as("1.0.0");
        dcc["dob"] = "1950".into();
        assert!(reason(&dcc).starts_with("/dob: "), "{}", reason(&dcc));
    }

    #[test]
    fn release_1_0_1() {
        check_release("1.0.1");
    }

    #[test]
    fn release_1_1_0() {
        check_release("1.1.0");
    }

    #[test]
    fn release_1_2_0() {
        check_release("1.2.0");
    }

    #[test]
    fn release_1_2_1() {
        check_release("1.2.1");
        // One certificate type, as the EU vector DGC2 (1.2.1) requires,
        // although this release's schema does not say it.
        let mut dcc = issued_as("1.2.1");
        dcc["r"] = serde_json::json!([{"tg": "840539006", "fr": "2021-02-20", "co": "AT",
            "is": "Ministry of Health, Austria", "df": "2021-04-04", "du": "2021-10-04",
            "ci": "URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K"}]);
        assert_eq!(
            reason(&dcc),
            "(root): a DCC holds exactly one of v, t, r; this one holds v, r"
        );
        dcc.as_object_mut().unwrap().remove("v");
        assert_eq!(validate(&dcc), Ok(()));
        dcc.as_object_mut().unwrap().remove("r");
        assert!(reason(&dcc).ends_with("this one holds none"));
        let mut dcc = issued_as("1.2.1");
        dcc["v"][0]["dn"] = 10.into();
        assert!(
            reason(&dcc).starts_with("/v/0/dn: must be <=9"),
            "{}",
            reason(&dcc)
        );
    }

    #[test]
    fn release_1_3_0() {
        check_release("1.3.0");
    }

    #[test]
    fn release_1_3_1() {
        check_release("1.3.1");
    }

    #[test]
    fn release_1_3_2() {
        check_release("1.3.2");
    }

    #[test]
    fn release_1_3_3() {
        check_release("1.3.3");
    }

    #[test]
    fn a_ver_with_no_release_is_refused_naming_ver() {
        for ver in ["1.4.0", "2.0.0", "1.3.4", "1.3", "0.1.0"] {
            let r = reason(&issued_as(ver));
            assert_eq!(
                r,
                format!(
                    "/ver: '{ver}' names no DCC schema release (1.0.0, 1.0.1, 1.1.0, \
                     1.2.0, 1.2.1, 1.3.0, 1.3.1, 1.3.2, 1.3.3)"
                )
            );
        }
        // No `ver`, or not a string: the newest release names the fault.
        let mut dcc = issued();
        dcc.as_object_mut().unwrap().remove("ver");
        let r = reason(&dcc);
        assert!(r.starts_with("(root): missing properties 'ver'"), "{r}");
        let mut dcc = issued();
        dcc["ver"] = 1.3.into();
        assert!(reason(&dcc).starts_with("/ver: "), "{}", reason(&dcc));
    }

    #[test]
    fn two_certificate_types_or_none_fail_at_the_root() {
        let mut dcc = issued();
        dcc["r"] = dcc["v"].clone();
        let r = reason(&dcc);
        assert!(r.contains("(root): oneOf failed"), "{r}");
        let mut dcc = issued();
        dcc.as_object_mut().unwrap().remove("v");
        assert!(reason(&dcc).starts_with("(root): "));
    }
}
