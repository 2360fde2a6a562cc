//! DATES: the certificate's dates are real dates, checked apart from the
//! schema. The schema releases only annotate them (`"format": "date"` or
//! `"date-time"`, which draft 2020-12 does not assert and which
//! `schema.rs` therefore leaves as annotations), while the member states'
//! business rules compute with them (days since the vaccination, hours
//! since the sample): a vaccination "on 26/08/2021" or "2021-02-30" is not
//! a certificate any verifier can accept.

use super::{DccError, Layer};

/// Each entry type's date fields, and whether each is a date-time.
const FIELDS: [(&str, &[(&str, bool)]); 3] = [
    ("v", &[("dt", false)]),
    // `dr` (result date) was dropped in schema 1.2.0 but older
    // certificates carry it.
    ("t", &[("sc", true), ("dr", true)]),
    ("r", &[("fr", false), ("df", false), ("du", false)]),
];

/// Checks every date of `dcc`; the error names each field at fault by its
/// JSON pointer, e.g. `/v/0/dt: '26/08/2021' is not a date (YYYY-MM-DD)`.
/// Fields that are missing or not strings are left to the schema.
pub fn check_dates(dcc: &serde_json::Value) -> Result<(), DccError> {
    let date = time::macros::format_description!("[year]-[month]-[day]");
    let mut faults = Vec::new();
    for (entry, fields) in FIELDS {
        let Some(items) = dcc.get(entry).and_then(|e| e.as_array()) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            for (field, with_time) in fields {
                let Some(value) = item.get(*field).and_then(|v| v.as_str()) else {
                    continue;
                };
                let ok = if *with_time {
                    time::OffsetDateTime::parse(
                        value,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .is_ok()
                } else {
                    time::Date::parse(value, date).is_ok()
                };
                if !ok {
                    let want = if *with_time {
                        "a date-time (RFC 3339)"
                    } else {
                        "a date (YYYY-MM-DD)"
                    };
                    faults.push(format!("/{entry}/{i}/{field}: '{value}' is not {want}"));
                }
            }
        }
    }
    if faults.is_empty() {
        Ok(())
    } else {
        Err(DccError::new(Layer::Dates, faults.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_dates_pass() {
        let dcc = serde_json::json!({
            "v": [{"dt": "2021-08-26"}],
            "t": [{"sc": "2021-05-30T10:12:22Z", "dr": "2021-05-30T12:12:22+02:00"}],
            "r": [{"fr": "2021-01-10", "df": "2021-05-29", "du": "2021-06-30"}],
        });
        assert_eq!(check_dates(&dcc), Ok(()));
    }

    #[test]
    fn a_date_that_is_none_is_refused_naming_its_field() {
        let dcc = serde_json::json!({"v": [{"dt": "2021-08-26"}, {"dt": "26/08/2021"}]});
        let e = check_dates(&dcc).unwrap_err();
        assert_eq!(e.layer, Layer::Dates);
        assert_eq!(e.reason, "/v/1/dt: '26/08/2021' is not a date (YYYY-MM-DD)");
        let dcc = serde_json::json!({
            "t": [{"sc": "2021-05-30 10:12"}],
            "r": [{"fr": "2021-02-30", "df": "2021-05-29", "du": "2021-06-30"}],
        });
        let e = check_dates(&dcc).unwrap_err();
        assert!(
            e.reason
                .starts_with("/t/0/sc: '2021-05-30 10:12' is not a date-time"),
            "{}",
            e.reason
        );
        assert!(e.reason.contains("; /r/0/fr: '2021-02-30'"), "{}", e.reason);
    }
}
