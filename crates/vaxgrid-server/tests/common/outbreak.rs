//! Fixtures of the outbreak tests (API, pages, browser): residents of the
//! seeded tree, case and contact bodies, a laboratory with samples, and
//! a case whose hub contact links many persons, loaded in bulk.

use serde_json::{json, Value};

use super::TestApp;

pub fn days_ago(n: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() - time::Duration::days(n))
}

/// A person living in `home` (village 0665801 of commune 06658, or
/// commune 06700 of district 194), born 1980-05-17.
pub async fn resident(app: &TestApp, serial: u32, name: &str, home: &str) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": format!("022080{serial:06}"), "full_name": name,
                    "birth_date": "1980-05-17", "sex": "male", "home_area": home}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

/// A mild case confirmed by PCR on `on`.
pub fn confirm_body(person: &str, on: &str) -> Value {
    json!({"person_id": person, "confirmed_on": on, "test_kind": "pcr", "severity": "mild"})
}

/// A contact of `source` exposed on `on` in `setting`.
pub fn contact_body(source: &str, person: &str, on: &str, setting: &str) -> Value {
    json!({"source_person_id": source, "contact_person_id": person, "exposure_date": on, "setting": setting})
}

/// Laboratory CDC22 of province 22 (2 runs a day, 1 confirmatory test,
/// pools of up to `max_pool`) with a sample of each of `people`
/// collected today: the samples' ids, in the order of `people`.
pub async fn lab_with_samples(app: &TestApp, max_pool: i64, people: &[&str]) -> Vec<String> {
    let (s, lab) = app
        .post(
            "/api/v1/outbreak/laboratories",
            &json!({"code": "CDC22", "name": "CDC Quảng Ninh", "area_code": "22", "single_per_day": 2,
                    "confirmatory_per_day": 1, "max_pool": max_pool}),
        )
        .await;
    assert_eq!(s, 201, "{lab}");
    let samples: Vec<Value> = people.iter().map(|p| json!({"person_id": p})).collect();
    let (s, r) = app
        .post(
            "/api/v1/outbreak/laboratories/CDC22/samples",
            &json!({"samples": samples}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// A case in village 0665801 confirmed three days ago, its household
/// contact (the hub) and `n` of the hub's work contacts exposed four days
/// ago, linked and classed in bulk (`Store::load_outbreak`): the case,
/// the hub and the contacts (F2), named "Người 000", "Người 001", ….
pub async fn a_hub_and_its_contacts(app: &TestApp, n: u32) -> (String, String, Vec<String>) {
    use vaxgrid_core::outbreak::graph::{Contact, Setting};
    let case = resident(app, 900, "Ca Bệnh", "0665801").await;
    let hub = resident(app, 901, "Tiếp Xúc", "0665801").await;
    let mut contacts = Vec::new();
    for i in 0..n {
        contacts.push(resident(app, 1000 + i, &format!("Người {i:03}"), "0665801").await);
    }
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let today = vaxgrid_store::today();
    let exposed = today - time::Duration::days(4);
    let mut links = vec![Contact {
        source: uuid(&case),
        contact: uuid(&hub),
        exposure: exposed,
        setting: Setting::Household,
    }];
    links.extend(contacts.iter().map(|p| Contact {
        source: uuid(&hub),
        contact: uuid(p),
        exposure: exposed,
        setting: Setting::Work,
    }));
    app.store
        .load_outbreak(
            &links,
            &[(uuid(&case), today - time::Duration::days(3))],
            &vaxgrid_store::model::Actor::system("test"),
        )
        .await
        .unwrap();
    (case, hub, contacts)
}
