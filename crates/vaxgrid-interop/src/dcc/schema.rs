//! SCHEMAVALIDATION: the DCC payload (`hcert[1]` as JSON) against the EU
//! DCC JSON schema (draft 2020-12).
//!
//! `DCC.combined-schema.json` beside this file is an unchanged copy of the
//! EU DCC combined schema, version 1.3.3, from
//! `ehn-dcc-development/ehn-dcc-schema` (commit 9fe38ededb79). It is
//! licensed under the Apache License, Version 2.0
//! (<http://www.apache.org/licenses/LICENSE-2.0>). It is embedded so that the
//! library needs no file or network access: the compiler below is given a
//! loader that loads nothing, and the schema has no external `$ref`.

use std::sync::OnceLock;

use super::{DccError, Layer};

const SCHEMA_JSON: &str = include_str!("DCC.combined-schema.json");
/// The schema's own `$id`.
const SCHEMA_ID: &str = "https://id.uvci.eu/DCC.combined-schema.json";
/// How many violations a failure reason lists.
const REPORTED: usize = 3;

struct Compiled {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(SCHEMA_JSON).expect("the embedded DCC schema is JSON");
        let mut compiler = boon::Compiler::new();
        // No `file:` (or any other) loading: everything is embedded.
        compiler.use_loader(Box::new(boon::SchemeUrlLoader::new()));
        // Draft 2020-12 treats `format` as an annotation only; the schema
        // means its `date` and `date-time` formats, and the EU verifier
        // apps reject payloads whose dates do not parse, so assert them.
        compiler.enable_format_assertions();
        compiler
            .add_resource(SCHEMA_ID, doc)
            .expect("the embedded DCC schema has a valid $id");
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(SCHEMA_ID, &mut schemas)
            .expect("the embedded DCC schema compiles");
        Compiled { schemas, index }
    })
}

/// Validates a DCC payload against the EU DCC schema (v1.3.3). The error's
/// reason names the JSON pointer of each violation and the rule it broke,
/// e.g. `/dob: "1815-12-10" does not match pattern "^((19|20)…"`, at most
/// three of them.
pub fn validate(dcc: &serde_json::Value) -> Result<(), DccError> {
    let compiled = compiled();
    let Err(error) = compiled.schemas.validate(dcc, compiled.index) else {
        return Ok(());
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
    fn dates_and_types_are_checked_and_at_most_three_violations_listed() {
        let mut dcc = issued();
        dcc["dob"] = "1815-12-10".into();
        dcc["v"][0]["dt"] = "26/08/2021".into();
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
