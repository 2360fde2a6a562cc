//! VALUESETS: the coded fields of a DCC against the EU value sets, checked
//! apart from the schema, as the member states' business rules do (the
//! schema only says a code is a string).
//!
//! The files in `valuesets/` beside this one are unchanged copies from
//! `ehn-dcc-development/eu-dcc-valuesets` (commit 60ea3d8643b0; provenance
//! in `valuesets/README.md`), licensed under the Apache License, Version
//! 2.0 (`valuesets/LICENSE`): disease or agent targeted (`tg`), vaccine or
//! prophylaxis (`vp`), medicinal product (`mp`), marketing authorisation
//! holder or manufacturer (`ma` of a vaccination), test type (`tt`), test
//! result (`tr`), test device (`ma` of a test) and country (`co`).
//!
//! The test device value set (`covid-19-lab-test-manufacturer-and-name`)
//! is published upstream **only as an example**, `test-manf-example.json`
//! (88 devices, dated 2021-07-01): the current list is managed on the EU
//! DGC Gateway, which only member states can read. It is the only
//! published file, so it is what a test's device is checked against; a
//! device added to the JRC list after 2021-07-01 is refused until the file
//! is replaced by the Gateway's.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::{DccError, Layer};

/// (name, its value set) for each value set: a field's name, or
/// `entry/field` where the same field name means another value set in
/// another entry type (a vaccination's `ma` is its manufacturer, a test's
/// `ma` its device).
const SETS: [(&str, &str); 8] = [
    ("tg", include_str!("valuesets/disease-agent-targeted.json")),
    ("vp", include_str!("valuesets/vaccine-prophylaxis.json")),
    (
        "mp",
        include_str!("valuesets/vaccine-medicinal-product.json"),
    ),
    ("v/ma", include_str!("valuesets/vaccine-mah-manf.json")),
    ("t/ma", include_str!("valuesets/test-manf-example.json")),
    ("tt", include_str!("valuesets/test-type.json")),
    ("tr", include_str!("valuesets/test-result.json")),
    ("co", include_str!("valuesets/country-2-codes.json")),
];

struct ValueSet {
    id: String,
    codes: HashSet<String>,
}

fn sets() -> &'static Vec<(&'static str, ValueSet)> {
    static SETS_LOADED: OnceLock<Vec<(&'static str, ValueSet)>> = OnceLock::new();
    SETS_LOADED.get_or_init(|| {
        SETS.iter()
            .map(|(key, text)| {
                let doc: serde_json::Value =
                    serde_json::from_str(text).expect("an embedded value set is JSON");
                let codes = doc["valueSetValues"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                let id = doc["valueSetId"].as_str().unwrap_or(key).to_string();
                (*key, ValueSet { id, codes })
            })
            .collect()
    })
}

fn set(key: &str) -> Option<&'static ValueSet> {
    sets().iter().find(|(k, _)| *k == key).map(|(_, s)| s)
}

/// The fields of each entry type checked against a value set.
const FIELDS: [(&str, &[&str]); 3] = [
    ("v", &["tg", "vp", "mp", "ma", "co"]),
    ("t", &["tg", "tt", "tr", "ma", "co"]),
    ("r", &["tg", "co"]),
];

/// Checks every coded field of `dcc` against its value set; the error names
/// each field at fault by its JSON pointer and the value set, e.g.
/// `/v/0/ma: "ORG-X" is in no value set (vaccines-covid-19-auth-holders)`.
/// Fields the schema already refuses (missing, not a string) are left to it.
pub fn check_value_sets(dcc: &serde_json::Value) -> Result<(), DccError> {
    let mut faults = Vec::new();
    for (entry, fields) in FIELDS {
        let Some(items) = dcc.get(entry).and_then(|e| e.as_array()) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            for field in fields {
                let set = set(&format!("{entry}/{field}")).or_else(|| set(field));
                let (Some(value), Some(set)) = (item.get(*field).and_then(|v| v.as_str()), set)
                else {
                    continue;
                };
                if !set.codes.contains(value) {
                    faults.push(format!(
                        "/{entry}/{i}/{field}: {value:?} is in no value set ({})",
                        set.id
                    ));
                }
            }
        }
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(DccError::new(Layer::ValueSets, faults.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vaccination() -> serde_json::Value {
        serde_json::json!({
            "ver": "1.3.0",
            "v": [{
                "tg": "840539006", "vp": "J07BX03", "mp": "EU/1/21/1529",
                "ma": "ORG-100001699", "co": "VN", "dn": 2, "sd": 2
            }]
        })
    }

    #[test]
    fn the_products_vaxgrid_issues_are_in_the_value_sets() {
        assert_eq!(check_value_sets(&vaccination()), Ok(()));
        for (mp, ma, vp) in [
            ("BBIBP-CorV", "ORG-100020693", "1119305005"),
            ("CoronaVac", "Sinovac-Biotech", "1119305005"),
            ("EU/1/20/1528", "ORG-100030215", "1119349007"),
            ("EU/1/20/1507", "ORG-100031184", "1119349007"),
        ] {
            let mut d = vaccination();
            d["v"][0]["mp"] = mp.into();
            d["v"][0]["ma"] = ma.into();
            d["v"][0]["vp"] = vp.into();
            assert_eq!(check_value_sets(&d), Ok(()), "{mp}");
        }
    }

    #[test]
    fn a_code_in_no_value_set_is_refused_naming_its_field() {
        let mut d = vaccination();
        d["v"][0]["ma"] = "ORG-999".into();
        let e = check_value_sets(&d).unwrap_err();
        assert_eq!(e.layer, Layer::ValueSets);
        assert_eq!(
            e.reason,
            "/v/0/ma: \"ORG-999\" is in no value set (vaccines-covid-19-auth-holders)"
        );
        let mut d = vaccination();
        d["v"][0]["mp"] = "Sputnik-X".into();
        d["v"][0]["co"] = "XX".into();
        let e = check_value_sets(&d).unwrap_err();
        assert!(
            e.reason.starts_with("/v/0/mp: \"Sputnik-X\""),
            "{}",
            e.reason
        );
        assert!(e.reason.contains("; /v/0/co: \"XX\""), "{}", e.reason);
    }

    #[test]
    fn tests_and_recoveries_are_checked_too() {
        let test = serde_json::json!({"t": [{
            "tg": "840539006", "tt": "LP217198-3", "tr": "260415000", "co": "DE",
            "ma": "1232"
        }]});
        assert_eq!(check_value_sets(&test), Ok(()));
        let mut bad = test.clone();
        bad["t"][0]["tt"] = "LP0000-0".into();
        let e = check_value_sets(&bad).unwrap_err();
        assert!(e.reason.starts_with("/t/0/tt:"), "{}", e.reason);
        let recovery = serde_json::json!({"r": [{"tg": "000000000", "co": "DE"}]});
        let e = check_value_sets(&recovery).unwrap_err();
        assert!(e.reason.starts_with("/r/0/tg:"), "{}", e.reason);
    }

    #[test]
    fn a_test_device_in_no_value_set_is_refused_naming_its_field() {
        let test = |ma: &str| {
            serde_json::json!({"t": [{
                "tg": "840539006", "tt": "LP217198-3", "tr": "260415000", "co": "DE",
                "ma": ma
            }]})
        };
        // Devices of the published example (Abbott Panbio, ACON Flowflex).
        assert_eq!(check_value_sets(&test("1232")), Ok(()));
        assert_eq!(check_value_sets(&test("1468")), Ok(()));
        let e = check_value_sets(&test("999999")).unwrap_err();
        assert_eq!(e.layer, Layer::ValueSets);
        assert_eq!(
            e.reason,
            "/t/0/ma: \"999999\" is in no value set (covid-19-lab-test-manufacturer-and-name)"
        );
        // A vaccine manufacturer is no test device, and the other way round:
        // each entry type's `ma` has its own value set.
        let e = check_value_sets(&test("ORG-100001699")).unwrap_err();
        assert!(e.reason.starts_with("/t/0/ma: "), "{}", e.reason);
        let mut vaccination = vaccination();
        vaccination["v"][0]["ma"] = "1232".into();
        let e = check_value_sets(&vaccination).unwrap_err();
        assert!(
            e.reason.ends_with("(vaccines-covid-19-auth-holders)"),
            "{}",
            e.reason
        );
        // A NAAT (PCR) test names no device: nothing to check.
        let mut pcr = test("1232");
        pcr["t"][0].as_object_mut().unwrap().remove("ma");
        pcr["t"][0]["tt"] = "LP6464-4".into();
        assert_eq!(check_value_sets(&pcr), Ok(()));
    }
}
