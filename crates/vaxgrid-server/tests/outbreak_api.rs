//! The outbreak API over HTTP on both backends: tracing (JSON and CSV, with
//! de-duplication against the registry), confirmation and reversal with
//! the classes they move, isolation and the team's daily checks with their
//! alerts, laboratories with pooled tests, the ring-vaccination list, the
//! surge planner; access by area (a commune's responder sees only its
//! commune) with case reads audited; and the bad-input list of issue 19,
//! each refused naming its field with nothing written.

mod common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    tracing_confirming_and_reversing,
    a_csv_import_names_every_bad_row_and_writes_nothing,
    isolation_checks_and_alerts_reach_the_team_and_the_district,
    pooled_tests_against_a_laboratory,
    a_commune_responder_sees_only_the_commune,
    bad_input_is_refused_naming_the_field,
    the_surge_planner_and_the_ring_list,
);

fn days_ago(n: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() - time::Duration::days(n))
}

/// A person living in `village` (0665801 in commune 06658, or 06700).
async fn resident(app: &TestApp, serial: u32, name: &str, home: &str) -> String {
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

fn confirm(person: &str, on: &str) -> Value {
    json!({"person_id": person, "confirmed_on": on, "test_kind": "pcr", "severity": "mild"})
}

fn contact(source: &str, person: &str, on: &str) -> Value {
    json!({"source_person_id": source, "contact_person_id": person, "exposure_date": on, "setting": "household"})
}

fn classes(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["person_id"].as_str().unwrap().to_string(),
                p["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn audited_reads(app: &TestApp, person: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = 'read' \
         AND entity = 'outbreak_case' AND entity_id = $1",
    )
    .bind(person)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .try_get("n")
    .unwrap()
}

async fn tracing_confirming_and_reversing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 501, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 502, "Trần Thị Bình", "0665801").await;
    let known = resident(&app, 503, "Lê Văn Cường", "0665801").await;
    let (s, r) = app
        .post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(2)))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["reclassified"][0]["after"], "F0", "{r}");
    let (s, r) = app
        .post("/api/v1/outbreak/contacts", &contact(&a, &b, &days_ago(3)))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["reclassified"][0]["after"], "F1", "{r}");
    // Registered on the spot: a new person, and one whose ID number is
    // already in the registry (linked, not copied).
    let (s, r) = app
        .post(
            "/api/v1/outbreak/contacts",
            &json!({"source_person_id": b, "exposure_date": days_ago(3), "setting": "work",
                    "person": {"id_type": "cccd", "id_number": "022080000504", "full_name": "Phạm Văn Dũng",
                               "birth_date": "1980-01-02", "sex": "male", "home_area": "0665801"}}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["contact"]["linked"], false);
    let new_one = r["contact"]["contact_person_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, r) = app
        .post(
            "/api/v1/outbreak/contacts",
            &json!({"source_person_id": new_one, "exposure_date": days_ago(3), "setting": "school",
                    "person": {"id_type": "cccd", "id_number": "022080000503", "full_name": "Lê Văn Cường",
                               "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"}}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["contact"]["linked"], true);
    assert_eq!(r["contact"]["contact_person_id"], known.as_str());
    let (s, list) = app.get("/api/v1/outbreak/contacts").await;
    assert_eq!(s, 200, "{list}");
    let mut want = vec![
        (a.clone(), "F0".to_string()),
        (b.clone(), "F1".into()),
        (new_one.clone(), "F2".into()),
        (known.clone(), "F3".into()),
    ];
    want.sort();
    assert_eq!(classes(&list), want);
    // Confirming the F1 moves everyone below one class up at once.
    let (s, r) = app
        .post("/api/v1/outbreak/cases", &confirm(&b, &days_ago(1)))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["reclassified"].as_array().unwrap().len(), 3, "{r}");
    let (_, list) = app.get("/api/v1/outbreak/contacts?class=F2").await;
    assert_eq!(classes(&list), [(known.clone(), "F2".to_string())]);
    // Confirming it twice is a conflict.
    let (s, p) = app
        .post("/api/v1/outbreak/cases", &confirm(&b, &days_ago(1)))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("person_id")),
        "{p}"
    );
    // Reversed: back as they were.
    let (s, r) = app
        .post(
            &format!("/api/v1/outbreak/cases/{b}/reverse"),
            &json!({"reason": "confirmatory test negative"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["case"]["status"], "reversed");
    let (_, list) = app.get("/api/v1/outbreak/contacts").await;
    assert_eq!(classes(&list), want);
    // Reading a case is audited; it shows the links and doses.
    let (s, d) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &b, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(audited_reads(&app, &a).await, 0);
    let (s, c) = app.get(&format!("/api/v1/outbreak/cases/{a}")).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["class"], "F0");
    assert_eq!(c["contacts"][0]["person_id"], b.as_str(), "{c}");
    assert_eq!(c["contacts"][0]["valid_doses"], 1, "{c}");
    assert_eq!(audited_reads(&app, &a).await, 1);
    let (s, cases) = app.get("/api/v1/outbreak/cases").await;
    assert_eq!(s, 200);
    assert_eq!(cases["cases"].as_array().unwrap().len(), 2, "{cases}");
    app.cleanup().await;
}

async fn a_csv_import_names_every_bad_row_and_writes_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 511, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 512, "Trần Thị Bình", "0665801").await;
    let header = "source_person_id,contact_person_id,id_type,id_number,full_name,birth_date,sex,home_area,phone,exposure_date,setting\n";
    let day = days_ago(2);
    let bad = format!(
        "{header}{a},{b},,,,,,,,{day},household\n{a},{a},,,,,,,,{day},household\n{a},{b},,,,,,,,not-a-day,work\n{a},,cccd,022080000513,Hoàng Văn Em,1980-03-04,male,0665801,,{day},spaceship\n{a},{b},,,,,,,,1970-01-01,work\n"
    );
    let (s, p) = app
        .post_raw(
            "/api/v1/outbreak/contacts/import",
            "text/csv",
            bad.into_bytes(),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let rows: Vec<(u64, &str)> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(3, "exposure_date"), (4, "setting")], "{p}");
    // The rows that parse are checked against the graph next: the
    // self-link and the exposure before birth.
    let second = format!(
        "{header}{a},{b},,,,,,,,{day},household\n{a},{a},,,,,,,,{day},household\n{a},{b},,,,,,,,1970-01-01,work\n"
    );
    let (s, p) = app
        .post_raw(
            "/api/v1/outbreak/contacts/import",
            "text/csv",
            second.into_bytes(),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let rows: Vec<(u64, &str)> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [(2, "contact_person_id"), (3, "exposure_date")],
        "{p}"
    );
    let (_, cases) = app
        .post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(1)))
        .await;
    assert_eq!(
        cases["reclassified"].as_array().unwrap().len(),
        1,
        "nothing was linked: {cases}"
    );
    let good = format!(
        "{header}{a},{b},,,,,,,,{day},household\n{a},,cccd,022080000513,Hoàng Văn Em,1980-03-04,male,0665801,,{day},work\n{a},,cccd,022080000512,Trần Thị Bình,1980-05-17,male,0665801,,{day},work\n"
    );
    let (s, r) = app
        .post_raw(
            "/api/v1/outbreak/contacts/import",
            "text/csv",
            good.into_bytes(),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["linked"].as_u64(),
            r["registered"].as_u64()
        ),
        (Some(3), Some(2), Some(1)),
        "{r}"
    );
    app.cleanup().await;
}

async fn isolation_checks_and_alerts_reach_the_team_and_the_district(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 521, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 522, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 523, "Lê Văn Cường", "0665801").await;
    app.post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(5)))
        .await;
    app.post("/api/v1/outbreak/contacts", &contact(&a, &b, &days_ago(6)))
        .await;
    app.post("/api/v1/outbreak/contacts", &contact(&b, &c, &days_ago(6)))
        .await;
    // The F1 at a facility then home; the facility must be named.
    let (s, p) = app
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": b, "start_on": days_ago(3), "home_possible": true}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("facility_name")),
        "{p}"
    );
    let (s, iso) = app
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": b, "start_on": days_ago(3), "home_possible": true, "facility_name": "Bệnh viện số 2"}),
        )
        .await;
    assert_eq!(s, 201, "{iso}");
    assert_eq!(iso["class"], "F1");
    assert!(
        iso["facility_from"].is_string() && iso["home_from"].is_string(),
        "{iso}"
    );
    // The F2 at home from three days ago.
    let (s, iso) = app
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": c, "start_on": days_ago(3), "home_possible": true}),
        )
        .await;
    assert_eq!(s, 201, "{iso}");
    assert_eq!(iso["home_from"], days_ago(3).as_str());
    let (s, p) = app
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": c, "start_on": days_ago(1), "home_possible": true}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("person_id")),
        "{p}"
    );
    // Checks: two days ago fine, yesterday missed, today SpO2 93 %.
    let (s, ch) = app
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "day": days_ago(2), "present": true, "temperature_c": 36.9, "spo2": 98}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    assert_eq!(ch["alerts"], json!([]));
    let (s, ch) = app
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "present": true, "temperature_c": 37.2, "spo2": 93, "symptoms": ["cough"]}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    assert_eq!(ch["alerts"], json!(["low_spo2"]));
    let (s, p) = app
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "present": true}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("day")),
        "{p}"
    );
    let (s, list) = app.get("/api/v1/outbreak/team-list").await;
    assert_eq!(s, 200, "{list}");
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "the F1 is at the facility today: {list}");
    assert_eq!(entries[0]["person_id"], c.as_str());
    assert_eq!(entries[0]["checked_today"], true);
    assert_eq!(
        entries[0]["missed"],
        json!([days_ago(3), days_ago(1)]),
        "{list}"
    );
    assert_eq!(entries[0]["alerts"], json!(["missed_check", "low_spo2"]));
    // The commune's team and the district see the alert; another district not.
    let team = app.as_user("u-team", &["epidemic_responder:06658"]).await;
    let district = app.as_user("u-district", &["epidemic_responder:193"]).await;
    let other = app.as_user("u-other", &["epidemic_responder:194"]).await;
    for (who, n) in [(&team, 1), (&district, 1), (&other, 0)] {
        let (s, al) = who.get("/api/v1/outbreak/alerts").await;
        assert_eq!(s, 200, "{al}");
        assert_eq!(al["entries"].as_array().unwrap().len(), n, "{al}");
    }
    let (s, isos) = team
        .get(&format!("/api/v1/outbreak/persons/{c}/isolations"))
        .await;
    assert_eq!(s, 200, "{isos}");
    let (s, _) = other
        .get(&format!("/api/v1/outbreak/persons/{c}/isolations"))
        .await;
    assert_eq!(s, 404);
    app.cleanup().await;
}

async fn pooled_tests_against_a_laboratory(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let mut people = Vec::new();
    for i in 0..4 {
        people.push(resident(&app, 531 + i, &format!("Người {i}"), "0665801").await);
    }
    let (s, lab) = app
        .post(
            "/api/v1/outbreak/laboratories",
            &json!({"code": "CDC22", "name": "CDC Quảng Ninh", "area_code": "22", "single_per_day": 2,
                    "confirmatory_per_day": 1, "max_pool": 3}),
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
    let ids: Vec<String> = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    // A pool of 3 (the maximum) and a single.
    let (s, pool) = app
        .post(
            "/api/v1/outbreak/laboratories/CDC22/tests",
            &json!({"samples": ids[..3]}),
        )
        .await;
    assert_eq!(s, 201, "{pool}");
    let (s, single) = app
        .post(
            "/api/v1/outbreak/laboratories/CDC22/tests",
            &json!({"samples": [ids[3]]}),
        )
        .await;
    assert_eq!(s, 201, "{single}");
    let (s, q) = app.get("/api/v1/outbreak/laboratories/CDC22/queue").await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["queue"].as_array().unwrap().len(), 2);
    // The positive pool sends each member to a re-test.
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/tests/{}/result",
                pool["id"].as_str().unwrap()
            ),
            &json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["retests"].as_array().unwrap().len(), 3);
    let (_, q) = app.get("/api/v1/outbreak/laboratories/CDC22/queue").await;
    let queue = q["queue"].as_array().unwrap();
    assert_eq!(queue.len(), 4, "{q}");
    // Two runs a day, one already done today: the queue spills over days.
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    assert_eq!(queue[0]["runs_on"], today.as_str(), "{q}");
    assert_ne!(queue[3]["runs_on"], today.as_str(), "{q}");
    // A positive re-test confirms its person.
    let first_retest = r["retests"][0]["id"].as_str().unwrap().to_string();
    let (s, r) = app
        .post(
            &format!("/api/v1/outbreak/tests/{first_retest}/result"),
            &json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["confirmed"], json!([people[0]]), "{r}");
    let (s, p) = app
        .post(
            &format!("/api/v1/outbreak/tests/{first_retest}/result"),
            &json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("test_id")),
        "{p}"
    );
    let (s, c) = app
        .get(&format!("/api/v1/outbreak/cases/{}", people[0]))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["case"]["test_kind"], "pcr");
    app.cleanup().await;
}

async fn a_commune_responder_sees_only_the_commune(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 541, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 542, "Trần Thị Bình", "06700").await;
    let responder = app
        .as_user("u-responder", &["epidemic_responder:06658"])
        .await;
    let (s, r) = responder
        .post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(1)))
        .await;
    assert_eq!(s, 201, "{r}");
    // The other commune's person is not there for this responder.
    let (s, p) = responder
        .post("/api/v1/outbreak/cases", &confirm(&b, &days_ago(1)))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("person_id")),
        "{p}"
    );
    let (s, r) = app
        .post("/api/v1/outbreak/cases", &confirm(&b, &days_ago(1)))
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, p) = responder
        .post("/api/v1/outbreak/contacts", &contact(&b, &a, &days_ago(2)))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("source_person_id")),
        "{p}"
    );
    let (_, cases) = responder.get("/api/v1/outbreak/cases").await;
    let ids: Vec<&str> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["person_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str()], "{cases}");
    let (s, _) = responder.get(&format!("/api/v1/outbreak/cases/{b}")).await;
    assert_eq!(s, 404);
    let (s, _) = responder
        .post(
            &format!("/api/v1/outbreak/cases/{b}/reverse"),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    let (_, list) = responder.get("/api/v1/outbreak/contacts").await;
    assert_eq!(classes(&list), [(a.clone(), "F0".to_string())]);
    // The refused read was not audited; the allowed one was.
    assert_eq!(audited_reads(&app, &b).await, 0);
    let (s, _) = responder.get(&format!("/api/v1/outbreak/cases/{a}")).await;
    assert_eq!(s, 200);
    assert_eq!(audited_reads(&app, &a).await, 1);
    // Other roles hold no outbreak permission.
    let registrar = app.as_user("u-registrar", &["registrar:S1"]).await;
    let (s, _) = registrar.get("/api/v1/outbreak/cases").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn bad_input_is_refused_naming_the_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 551, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 552, "Trần Thị Bình", "0665801").await;
    let field = |p: &Value| p["errors"][0]["field"].as_str().unwrap_or("").to_string();
    // A contact linked to itself.
    let (s, p) = app
        .post("/api/v1/outbreak/contacts", &contact(&a, &a, &days_ago(2)))
        .await;
    assert_eq!((s, field(&p)), (422, "contact_person_id".into()), "{p}");
    // An exposure before birth (1980-05-17).
    let (s, p) = app
        .post("/api/v1/outbreak/contacts", &contact(&a, &b, "1979-12-31"))
        .await;
    assert_eq!((s, field(&p)), (422, "exposure_date".into()), "{p}");
    // An exposure after the source's recovery.
    app.post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(20)))
        .await;
    let (s, p) = app
        .post(
            &format!("/api/v1/outbreak/cases/{a}/outcome"),
            &json!({"outcome": "recovered", "recovered_on": days_ago(10)}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, p) = app
        .post("/api/v1/outbreak/contacts", &contact(&a, &b, &days_ago(5)))
        .await;
    assert_eq!((s, field(&p)), (422, "exposure_date".into()), "{p}");
    // A check for someone not isolated.
    let (s, p) = app
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": b, "present": true}),
        )
        .await;
    assert_eq!((s, field(&p)), (422, "person_id".into()), "{p}");
    // Negative capacity; then pool size 0 and above the maximum.
    let lab = |single: i64| {
        json!({"code": "L1", "name": "L1", "area_code": "193", "single_per_day": single,
               "confirmatory_per_day": 10, "max_pool": 10})
    };
    let (s, p) = app.post("/api/v1/outbreak/laboratories", &lab(-5)).await;
    assert_eq!((s, field(&p)), (422, "single_per_day".into()), "{p}");
    let (s, labs) = app.get("/api/v1/outbreak/laboratories").await;
    assert_eq!(
        (s, labs["laboratories"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (s, p) = app.post("/api/v1/outbreak/laboratories", &lab(500)).await;
    assert_eq!(s, 201, "{p}");
    let samples: Vec<Value> = (0..11).map(|_| json!({"person_id": b})).collect();
    let (s, r) = app
        .post(
            "/api/v1/outbreak/laboratories/L1/samples",
            &json!({"samples": samples}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let ids: Vec<String> = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    for n in [0, 11] {
        let (s, p) = app
            .post(
                "/api/v1/outbreak/laboratories/L1/tests",
                &json!({"samples": ids[..n]}),
            )
            .await;
        assert_eq!((s, field(&p)), (422, "pool_size".into()), "{p}");
    }
    let (_, q) = app.get("/api/v1/outbreak/laboratories/L1/queue").await;
    assert_eq!(q["queue"], json!([]), "nothing written: {q}");
    // A scenario whose shares do not sum to 100 %.
    let (_, all) = app.get("/api/v1/outbreak/scenarios").await;
    let mut scenario = all["scenarios"][0].clone();
    scenario["severity"]["mild"] = json!(90.0);
    let (s, p) = app.post("/api/v1/outbreak/surge", &scenario).await;
    assert_eq!(s, 422, "{p}");
    assert!(field(&p).starts_with("severity"), "{p}");
    let mut scenario = all["scenarios"][1].clone();
    scenario["regions"][0]["share_pct"] = json!(1.0);
    let (s, p) = app.post("/api/v1/outbreak/surge", &scenario).await;
    assert_eq!(s, 422, "{p}");
    assert!(field(&p).starts_with("regions"), "{p}");
    // Nothing was linked: b has no class.
    let (_, list) = app.get("/api/v1/outbreak/contacts").await;
    assert_eq!(classes(&list), [(a.clone(), "F0".to_string())]);
    app.cleanup().await;
}

async fn the_surge_planner_and_the_ring_list(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let planner = app.as_user("u-planner", &["planner:22"]).await;
    let (s, all) = planner.get("/api/v1/outbreak/scenarios").await;
    assert_eq!(s, 200, "{all}");
    let scenarios = all["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 3);
    let (s, p) = planner.post("/api/v1/outbreak/surge", &scenarios[0]).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["lab"]["laboratories"], 8, "{}", p["lab"]);
    assert_eq!(p["lab"]["single_per_day"], 6186.0);
    assert_eq!(p["lab"]["confirmatory_per_day"], 550.0);
    assert!(!p["tiers"].as_array().unwrap().is_empty());
    // Ring vaccination: the unvaccinated in the commune and the
    // household of a contact.
    let a = resident(&app, 561, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 562, "Trần Thị Bình", "0665801").await;
    let vaccinated = resident(&app, 563, "Lê Văn Cường", "0665801").await;
    let away = resident(&app, 564, "Phạm Văn Dũng", "06700").await;
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &vaccinated, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    app.post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(1)))
        .await;
    app.post(
        "/api/v1/outbreak/contacts",
        &contact(&a, &away, &days_ago(2)),
    )
    .await;
    let (s, ring) = app.get("/api/v1/outbreak/ring?area=06658").await;
    assert_eq!(s, 200, "{ring}");
    let mut got: Vec<(String, String)> = ring["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["person_id"].as_str().unwrap().to_string(),
                p["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (a.clone(), "area".to_string()),
        (b.clone(), "area".into()),
        (away.clone(), "household".into()),
    ];
    want.sort();
    assert_eq!(got, want, "{ring}");
    let responder = app
        .as_user("u-responder", &["epidemic_responder:194"])
        .await;
    let (s, _) = responder.get("/api/v1/outbreak/ring?area=06658").await;
    assert_eq!(s, 404);
    app.cleanup().await;
}
