//! Every case of shared/data/ids/national-ids.json.

use time::{Date, Month};
use vaxgrid_core::identity::{validate_cccd, validate_id, IdType, Sex};

fn load() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/ids/national-ids.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("test data {path} is required: {e}"));
    serde_json::from_str(&text).expect("national-ids.json is JSON")
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn sex(v: &serde_json::Value) -> Sex {
    v.as_str().and_then(Sex::parse).unwrap_or(Sex::Other)
}

#[test]
fn vietnamese_cccd_cases() {
    let data = load();
    for case in data["vn_cccd"]["valid"].as_array().unwrap() {
        let number = case["number"].as_str().unwrap();
        let year = case["birth_year"].as_i64().unwrap() as i32;
        assert!(
            validate_cccd(number, year, sex(&case["sex"])).is_ok(),
            "{case}"
        );
    }
    for case in data["vn_cccd"]["invalid"].as_array().unwrap() {
        let number = case["number"].as_str().unwrap();
        let year = case["birth_year"].as_i64().unwrap_or(1980) as i32;
        let err = validate_cccd(number, year, sex(&case["sex"]));
        assert!(err.is_err(), "must be refused: {case}");
    }
}

#[test]
fn chinese_resident_id_cases() {
    let data = load();
    for number in data["cn_resident_id"]["valid"].as_array().unwrap() {
        let n = number.as_str().unwrap();
        let birth = Date::from_calendar_date(
            n[6..10].parse().unwrap(),
            Month::try_from(n[10..12].parse::<u8>().unwrap()).unwrap(),
            n[12..14].parse().unwrap(),
        )
        .unwrap();
        assert!(
            validate_id(IdType::CnResident, n, birth, Sex::Other, today()).is_ok(),
            "{n}"
        );
    }
    for case in data["cn_resident_id"]["invalid"].as_array().unwrap() {
        let n = case["number"].as_str().unwrap();
        // A plausible recorded birth date; the number must be refused on its own.
        let birth = Date::from_calendar_date(1980, Month::January, 1).unwrap();
        let err = validate_id(IdType::CnResident, n, birth, Sex::Other, today())
            .expect_err(n)
            .to_string();
        let reason = case["reason"].as_str().unwrap();
        let expected_word =
            if reason.contains("check character is correct") || reason.contains("month 13") {
                "is not a date"
            } else if reason.contains("characters") || reason.contains("not a check character") {
                "must be 18 characters"
            } else {
                "check character"
            };
        assert!(err.contains(expected_word), "{n}: {reason}: got '{err}'");
    }
}
