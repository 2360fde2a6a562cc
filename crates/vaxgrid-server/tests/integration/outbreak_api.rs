//! The outbreak API over HTTP on both backends: tracing (JSON and CSV, with
//! de-duplication against the registry), confirmation and reversal with
//! the classes they move, isolation and the team's daily checks with their
//! alerts, laboratories with pooled tests, the ring-vaccination list, the
//! surge planner; access by area (a commune's responder sees only its
//! commune) with case reads audited; and the bad-input list of issue 19,
//! each refused naming its field with nothing written.

use crate::common;

use common::outbreak::{
    confirm_body as confirm, contact_body, days_ago, lab_with_samples, resident,
};
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
    facilities_beds_and_teams,
    facility_bad_input_and_access,
    a_province_sets_its_isolation_rule,
    confirmatory_capacity_and_negative_results,
    another_communes_responder_gets_the_out_of_area_answer,
);

/// A household contact of `source` exposed on `on`.
fn contact(source: &str, person: &str, on: &str) -> Value {
    contact_body(source, person, on, "household")
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
    let people: Vec<&str> = people.iter().map(String::as_str).collect();
    let ids = lab_with_samples(&app, 3, &people).await;
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
    let (s, p) = responder.get(&format!("/api/v1/outbreak/cases/{b}")).await;
    assert_eq!(
        (s, p["detail"].as_str()),
        (404, Some(format!("no case {b} in your areas").as_str())),
        "{p}"
    );
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
    assert_eq!(audit_count(&app, "check").await, 0, "no check written");
    // Negative capacity; then pool size 0 and above the maximum.
    let lab = |single: i64| {
        json!({"code": "L1", "name": "L1", "area_code": "193", "single_per_day": single,
               "confirmatory_per_day": 10, "max_pool": 10})
    };
    let (s, p) = app.post("/api/v1/outbreak/laboratories", &lab(-5)).await;
    assert_eq!((s, field(&p)), (422, "single_per_day".into()), "{p}");
    let mut negative = lab(500);
    negative["confirmatory_per_day"] = json!(-1);
    let (s, p) = app.post("/api/v1/outbreak/laboratories", &negative).await;
    assert_eq!((s, field(&p)), (422, "confirmatory_per_day".into()), "{p}");
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
    // Beside it, the commune's coverage from the counters: three residents,
    // one with a first dose, none completed (two doses of AZ).
    let cov = &ring["coverage"];
    assert_eq!(
        (
            cov["population"].as_i64(),
            cov["at_least_one"].as_i64(),
            cov["completed"].as_i64()
        ),
        (Some(3), Some(1), Some(0)),
        "{cov}"
    );
    assert_eq!(cov["unvaccinated"], 2);
    assert_eq!(cov["at_least_one_pct"], 33.3);
    assert_eq!(cov["children"][0]["area_code"], "0665801", "{cov}");
    assert_eq!(cov["children"][0]["population"], 3, "{cov}");
    let responder = app
        .as_user("u-responder", &["epidemic_responder:194"])
        .await;
    let (s, _) = responder.get("/api/v1/outbreak/ring?area=06658").await;
    assert_eq!(s, 404);
    app.cleanup().await;
}

fn facility_body(code: &str, area: &str, region: &str, mm: i64, sc: i64, stage: i64) -> Value {
    json!({"code": code, "name": format!("Cơ sở {code}"), "area_code": area, "region": region,
           "mild_moderate_beds": mm, "severe_critical_beds": sc, "icu_beds": sc / 2,
           "activate_at_cases": stage})
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

/// Facilities by region and tier, activation by stage, admissions and
/// discharges to occupancy by day, the activation recommendation, the
/// surge planner over the stored facilities, and teams with assignments.
async fn facilities_beds_and_teams(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 551, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 552, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 553, "Lê Văn Cường", "06700").await;
    for p in [&a, &b, &c] {
        let (s, r) = app
            .post("/api/v1/outbreak/cases", &confirm(p, &days_ago(3)))
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let mut body = facility_body("H2", "193", "centre", 2, 1, 0);
    body["activated_on"] = json!(days_ago(5));
    let (s, h2) = app.post("/api/v1/outbreak/facilities", &body).await;
    assert_eq!(s, 201, "{h2}");
    assert_eq!(h2["province_code"], "22");
    let (s, r) = app
        .post(
            "/api/v1/outbreak/facilities",
            &facility_body("MC", "194", "east", 3, 0, 2),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = app
        .post(
            "/api/v1/outbreak/facilities",
            &facility_body("H3", "193", "centre", 5, 0, 100),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, list) = app.get("/api/v1/outbreak/facilities?province=22").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["facilities"].as_array().unwrap().len(), 3);
    // Three cases reach MC's stage (2): activate it; H2's centre
    // mild-moderate beds are not busy yet.
    let (s, adv) = app.get("/api/v1/outbreak/activation?province=22").await;
    assert_eq!(s, 200, "{adv}");
    assert_eq!(adv["cumulative_cases"], 3);
    assert_eq!(
        adv["recommendations"],
        json!([{"facility": "MC", "region": "east", "reason": "stage", "activate_at_cases": 2}]),
        "{adv}"
    );
    // Admit a two days ago (tier by severity: mild), b yesterday.
    let (s, adm_a) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "H2", "person_id": a, "admitted_on": days_ago(2)}),
        )
        .await;
    assert_eq!(s, 201, "{adm_a}");
    assert_eq!(adm_a["tier"], "mild_moderate");
    let (s, adm_b) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "H2", "person_id": b, "admitted_on": days_ago(1), "tier": "mild_moderate"}),
        )
        .await;
    assert_eq!(s, 201, "{adm_b}");
    // The case is treated where it was admitted.
    let (_, case) = app.get(&format!("/api/v1/outbreak/cases/{a}")).await;
    assert_eq!(case["case"]["treated_at"], "Cơ sở H2", "{case}");
    // H2's two mild-moderate beds are full: c is refused naming the tier.
    let (s, p) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "H2", "person_id": c, "tier": "mild_moderate"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("tier")),
        "{p}"
    );
    // Full: H3 (centre, mild-moderate) is the next to activate.
    let (_, adv) = app.get("/api/v1/outbreak/activation?province=22").await;
    let recs: Vec<(&str, &str)> = adv["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["facility"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(recs, [("MC", "stage"), ("H3", "mild_moderate")], "{adv}");
    // a leaves today: the bed is free today.
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/admissions/{}/discharge",
                adm_a["id"].as_str().unwrap()
            ),
            &json!({"reason": "recovered"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["discharged_on"], days_ago(0));
    let (s, occ) = app
        .get(&format!(
            "/api/v1/outbreak/occupancy?from={}&to={}",
            days_ago(3),
            days_ago(0)
        ))
        .await;
    assert_eq!(s, 200, "{occ}");
    let centre_mm: Vec<(i64, i64)> = occ["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let cell = d["cells"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["region"] == "centre" && c["tier"] == "mild_moderate")
                .unwrap();
            (
                cell["beds"].as_i64().unwrap(),
                cell["occupied"].as_i64().unwrap(),
            )
        })
        .collect();
    // H3 is not active: the centre's open mild-moderate beds are H2's 2.
    assert_eq!(centre_mm, [(2, 0), (2, 1), (2, 2), (2, 1)], "{occ}");
    let (s, fac) = app.get("/api/v1/outbreak/facilities/H2").await;
    assert_eq!(s, 200, "{fac}");
    assert_eq!(fac["patients"].as_array().unwrap().len(), 1, "{fac}");
    assert_eq!(fac["patients"][0]["person_id"], b.as_str());
    // Activate H3 and admit c there.
    let (s, r) = app
        .post("/api/v1/outbreak/facilities/H3/activate", &json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["activated_on"], days_ago(0));
    let (s, r) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "H3", "person_id": c}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    // The surge planner over the province's stored facilities.
    let (_, sc) = app.get("/api/v1/outbreak/scenarios").await;
    let mut scenario = sc["scenarios"][2].clone();
    let (s, p) = app
        .post("/api/v1/outbreak/surge?province=22", &scenario)
        .await;
    assert_eq!(s, 200, "{p}");
    let names: Vec<&str> = p["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["facility"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Cơ sở MC"),
        "MC opens in the projection: {names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("Cơ sở ")), "{names:?}");
    // A scenario without the stored facilities' regions names the province.
    scenario = sc["scenarios"][0].clone();
    let (s, p) = app
        .post("/api/v1/outbreak/surge?province=22", &scenario)
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("province")),
        "{p}"
    );
    // Teams and their assignments.
    for (code, kind, area) in [
        ("RR1", "rapid_response", "06658"),
        ("AMB1", "ambulance", "193"),
        ("SP1", "specialist", "22"),
    ] {
        let (s, t) = app
            .post(
                "/api/v1/outbreak/teams",
                &json!({"code": code, "name": format!("Đội {code}"), "kind": kind, "area_code": area, "members": 5}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
    }
    let (s, t) = app.get("/api/v1/outbreak/teams").await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        t["counts"],
        json!({"rapid_response": 1, "ambulance": 1, "specialist": 1})
    );
    for target in [
        json!({"facility_code": "H2"}),
        json!({"area_code": "06658"}),
        json!({"case_person_id": b}),
    ] {
        let (s, r) = app
            .post("/api/v1/outbreak/teams/AMB1/assignments", &target)
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let (s, d) = app.get("/api/v1/outbreak/teams/AMB1").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["assignments"].as_array().unwrap().len(), 3, "{d}");
    assert_eq!(audit_count(&app, "admit").await, 3);
    assert_eq!(audit_count(&app, "discharge").await, 1);
    assert_eq!(audit_count(&app, "assign").await, 3);
    app.cleanup().await;
}

/// Issue 19's bad input for facilities (negative capacity, discharge before
/// admission, a full tier, a facility not yet activated), each refused
/// naming the field with nothing written; and a commune's responder sees
/// and works only the commune's facilities, patients and teams.
async fn facility_bad_input_and_access(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 561, "Nguyễn Văn An", "0665801").await;
    let far = resident(&app, 562, "Trần Thị Bình", "06700").await;
    for p in [&a, &far] {
        let (s, r) = app
            .post("/api/v1/outbreak/cases", &confirm(p, &days_ago(3)))
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let responder = app
        .as_user("u-responder", &["epidemic_responder:06658"])
        .await;
    let before = audit_count(&app, "create").await;
    for (change, field) in [
        (json!({"mild_moderate_beds": -1}), "mild_moderate_beds"),
        (json!({"severe_critical_beds": -4}), "severe_critical_beds"),
        (json!({"icu_beds": 9}), "icu_beds"),
        (json!({"activate_at_cases": -1}), "activate_at_cases"),
        (json!({"region": "east side"}), "region"),
        (json!({"area_code": "06700"}), "area_code"),
        (json!({"activated_on": days_ago(-2)}), "activated_on"),
    ] {
        let mut body = facility_body("TYT", "06658", "centre", 3, 2, 0);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = responder.post("/api/v1/outbreak/facilities", &body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{p}"
        );
    }
    let (_, list) = app.get("/api/v1/outbreak/facilities").await;
    assert_eq!(list["facilities"], json!([]), "nothing written");
    assert_eq!(audit_count(&app, "create").await, before);
    let (s, r) = responder
        .post(
            "/api/v1/outbreak/facilities",
            &facility_body("TYT", "06658", "centre", 1, 0, 0),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = app
        .post(
            "/api/v1/outbreak/facilities",
            &facility_body("MC", "194", "east", 3, 0, 0),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    // Not activated yet.
    let (s, p) = responder
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "TYT", "person_id": a}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("facility_code")),
        "{p}"
    );
    let (s, r) = responder
        .post(
            "/api/v1/outbreak/facilities/TYT/activate",
            &json!({"activated_on": days_ago(2)}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // The other district's facility and person are not the responder's.
    let (s, p) = responder.get("/api/v1/outbreak/facilities/MC").await;
    assert_eq!(
        (s, p["detail"].as_str()),
        (404, Some("no facility MC in your areas")),
        "{p}"
    );
    let (s, _) = responder
        .post("/api/v1/outbreak/facilities/MC/activate", &json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, p) = responder
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "TYT", "person_id": far}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("person_id")),
        "{p}"
    );
    let (_, list) = responder.get("/api/v1/outbreak/facilities").await;
    let codes: Vec<&str> = list["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TYT"]);
    let (s, adm) = responder
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "TYT", "person_id": a, "admitted_on": days_ago(1)}),
        )
        .await;
    assert_eq!(s, 201, "{adm}");
    let id = adm["id"].as_str().unwrap();
    // A full tier, and a tier the facility has no beds of.
    let (s, r) = app
        .post(
            "/api/v1/outbreak/admissions/x/discharge",
            &json!({"reason": "recovered"}),
        )
        .await;
    assert_eq!(s, 404, "{r}");
    let (s, p) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "TYT", "person_id": far}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("tier")),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/outbreak/admissions",
            &json!({"facility_code": "TYT", "person_id": far, "tier": "severe_critical"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("tier")),
        "{p}"
    );
    let (s, p) = responder
        .post(
            &format!("/api/v1/outbreak/admissions/{id}/discharge"),
            &json!({"reason": "recovered", "discharged_on": days_ago(2)}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("discharged_on")),
        "{p}"
    );
    let (s, p) = responder
        .post(
            &format!("/api/v1/outbreak/admissions/{id}/discharge"),
            &json!({"reason": "bored"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("reason")),
        "{p}"
    );
    let (_, fac) = responder.get("/api/v1/outbreak/facilities/TYT").await;
    assert_eq!(fac["patients"][0]["discharged_on"], Value::Null, "{fac}");
    assert_eq!(audit_count(&app, "discharge").await, 0);
    // The occupancy the responder sees is the commune's facility only.
    let (s, occ) = responder.get("/api/v1/outbreak/occupancy").await;
    assert_eq!(s, 200, "{occ}");
    let regions: Vec<&str> = occ["facilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["centre"], "{occ}");
    let (s, p) = responder
        .get(&format!(
            "/api/v1/outbreak/occupancy?from={}&to={}",
            days_ago(0),
            days_ago(3)
        ))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("from")),
        "{p}"
    );
    let (s, _) = app.get("/api/v1/outbreak/activation?province=193").await;
    assert_eq!(s, 404, "a district is not a province");
    // Teams: bad input and areas.
    for (body, field) in [
        (
            json!({"code": "T1", "name": "Đội", "kind": "cavalry", "area_code": "06658", "members": 3}),
            "kind",
        ),
        (
            json!({"code": "T1", "name": "Đội", "kind": "ambulance", "area_code": "06658", "members": 0}),
            "members",
        ),
        (
            json!({"code": "T1", "name": "Đội", "kind": "ambulance", "area_code": "06700", "members": 3}),
            "area_code",
        ),
    ] {
        let (s, p) = responder.post("/api/v1/outbreak/teams", &body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{p}"
        );
    }
    let (s, r) = responder
        .post(
            "/api/v1/outbreak/teams",
            &json!({"code": "T1", "name": "Đội phản ứng nhanh", "kind": "rapid_response", "area_code": "06658", "members": 4}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    for (body, status, field) in [
        (json!({}), 422, "facility_code"),
        (
            json!({"facility_code": "TYT", "area_code": "06658"}),
            422,
            "facility_code",
        ),
        (json!({"facility_code": "MC"}), 422, "facility_code"),
        (json!({"case_person_id": far}), 422, "case_person_id"),
        (
            json!({"area_code": "06658", "from_on": days_ago(1), "to_on": days_ago(2)}),
            422,
            "to_on",
        ),
    ] {
        let (s, p) = responder
            .post("/api/v1/outbreak/teams/T1/assignments", &body)
            .await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{body}: {p}"
        );
    }
    let (_, d) = responder.get("/api/v1/outbreak/teams/T1").await;
    assert_eq!(d["assignments"], json!([]), "nothing written");
    let other = app.as_user("u-other", &["epidemic_responder:194"]).await;
    let (s, p) = other.get("/api/v1/outbreak/teams/T1").await;
    assert_eq!(
        (s, p["detail"].as_str()),
        (404, Some("no team T1 in your areas")),
        "{p}"
    );
    let (_, t) = other.get("/api/v1/outbreak/teams").await;
    assert_eq!(t["teams"], json!([]));
    app.cleanup().await;
}

/// A province's isolation rule: read (the default until set), set by a
/// responder of the whole province only, refused naming the rule's field
/// with nothing written, audited, and used by the next isolation started.
async fn a_province_sets_its_isolation_rule(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 571, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 572, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 573, "Lê Văn Cường", "0665801").await;
    app.post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(5)))
        .await;
    app.post("/api/v1/outbreak/contacts", &contact(&a, &b, &days_ago(6)))
        .await;
    app.post("/api/v1/outbreak/contacts", &contact(&b, &c, &days_ago(6)))
        .await;
    let commune = app
        .as_user("u-commune", &["epidemic_responder:06658"])
        .await;
    let (s, p) = commune
        .get("/api/v1/outbreak/isolation-policy?province=22")
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["stored"], false);
    assert_eq!(p["policy"]["f2"][0]["home_days"], 14, "the default: {p}");
    let mut rule = p["policy"].clone();
    rule["f2"][0] = json!({"facility_days": 0, "home_days": 10, "test_days": [0, 9]});
    // A commune's responder may read the province's rule, not set it.
    let (s, _) = commune
        .put("/api/v1/outbreak/isolation-policy?province=22", &rule)
        .await;
    assert_eq!(s, 403);
    let mut bad = rule.clone();
    bad["f2"][1]["test_days"] = json!([0, 12]);
    let (s, p) = app
        .put("/api/v1/outbreak/isolation-policy?province=22", &bad)
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("f2[1].test_days")),
        "{p}"
    );
    let mut bad = rule.clone();
    bad["f1"][0]["home_days"] = json!(-1);
    let (s, _) = app
        .put("/api/v1/outbreak/isolation-policy?province=22", &bad)
        .await;
    assert!(s == 400 || s == 422, "{s}");
    let (_, p) = app
        .get("/api/v1/outbreak/isolation-policy?province=22")
        .await;
    assert_eq!(p["stored"], false, "nothing written");
    assert_eq!(audit_count(&app, "set").await, 0);
    let (s, p) = app
        .put("/api/v1/outbreak/isolation-policy?province=22", &rule)
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["stored"], true);
    assert_eq!(audit_count(&app, "set").await, 1);
    // The F2 (unvaccinated) isolates by the province's rule: 10 days at
    // home, tests on days 0 and 9.
    let (s, iso) = commune
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": c, "start_on": days_ago(3), "home_possible": true}),
        )
        .await;
    assert_eq!(s, 201, "{iso}");
    assert_eq!(iso["last_day"], days_ago(-6), "{iso}");
    assert_eq!(
        iso["tests_due"],
        json!([days_ago(3), days_ago(-6)]),
        "{iso}"
    );
    let (s, _) = app
        .get("/api/v1/outbreak/isolation-policy?province=193")
        .await;
    assert_eq!(s, 404);
    let other = app.as_user("u-other", &["epidemic_responder:194"]).await;
    let (s, _) = other
        .put("/api/v1/outbreak/isolation-policy?province=22", &rule)
        .await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Re-tests of a positive pool and tests made to confirm wait for the
/// laboratory's confirmatory capacity; a final negative clears a contact
/// (the list shows the result, the class stays) and reverses a case
/// confirmed by a rapid antigen test when it is that case's confirmatory
/// PCR, never a PCR-confirmed case.
async fn confirmatory_capacity_and_negative_results(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let x = resident(&app, 581, "Nguyễn Văn An", "0665801").await;
    let y = resident(&app, 582, "Trần Thị Bình", "0665801").await;
    let z = resident(&app, 583, "Lê Văn Cường", "0665801").await;
    let w = resident(&app, 584, "Phạm Văn Dũng", "0665801").await;
    let (s, r) = app
        .post(
            "/api/v1/outbreak/cases",
            &json!({"person_id": x, "confirmed_on": days_ago(1), "test_kind": "rapid_antigen", "severity": "mild"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    app.post("/api/v1/outbreak/contacts", &contact(&x, &y, &days_ago(2)))
        .await;
    let (s, lab) = app
        .post(
            "/api/v1/outbreak/laboratories",
            &json!({"code": "L9", "name": "Phòng xét nghiệm", "area_code": "22", "single_per_day": 5,
                    "confirmatory_per_day": 1, "max_pool": 3}),
        )
        .await;
    assert_eq!(s, 201, "{lab}");
    let people = [&y, &z, &w, &x];
    let body: Vec<Value> = people.iter().map(|p| json!({"person_id": p})).collect();
    let (s, r) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/samples",
            &json!({"samples": body}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let sample: Vec<String> = r["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let (s, p) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/tests",
            &json!({"samples": sample[..2], "confirmatory": true}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("confirmatory")),
        "{p}"
    );
    let (s, pool) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/tests",
            &json!({"samples": sample[..3]}),
        )
        .await;
    assert_eq!(s, 201, "{pool}");
    assert_eq!(pool["confirmatory"], false);
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
    let retests: Vec<Value> = r["retests"].as_array().unwrap().clone();
    assert!(retests.iter().all(|t| t["confirmatory"] == true), "{r}");
    let (s, confirm_x) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/tests",
            &json!({"samples": [sample[3]], "confirmatory": true}),
        )
        .await;
    assert_eq!(s, 201, "{confirm_x}");
    // One confirmatory test a day: the three re-tests, then x's.
    let (_, q) = app.get("/api/v1/outbreak/laboratories/L9/queue").await;
    let days: Vec<(bool, String)> = q["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["confirmatory"].as_bool().unwrap(),
                t["runs_on"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            (true, days_ago(0)),
            (true, days_ago(-1)),
            (true, days_ago(-2)),
            (true, days_ago(-3))
        ],
        "{q}"
    );
    // y's re-test negative: y (an F1) is cleared, and stays F1.
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/tests/{}/result",
                retests[0]["id"].as_str().unwrap()
            ),
            &json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(ids_of(&r["cleared"]), std::slice::from_ref(&y), "{r}");
    assert_eq!(r["reversed"], json!([]));
    let (_, list) = app.get("/api/v1/outbreak/contacts?class=F1").await;
    assert_eq!(list["persons"][0]["person_id"], y.as_str(), "{list}");
    assert_eq!(list["persons"][0]["last_result"], "negative", "{list}");
    assert_eq!(list["persons"][0]["last_result_on"], days_ago(0), "{list}");
    // x's confirmatory PCR negative: the antigen-confirmed case is
    // reversed and y loses its class.
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/tests/{}/result",
                confirm_x["id"].as_str().unwrap()
            ),
            &json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(ids_of(&r["reversed"]), std::slice::from_ref(&x), "{r}");
    assert!(r["reclassified"].as_u64().unwrap() >= 2, "{r}");
    let (_, c) = app.get(&format!("/api/v1/outbreak/cases/{x}")).await;
    assert_eq!(c["case"]["status"], "reversed", "{c}");
    let (_, list) = app.get("/api/v1/outbreak/contacts").await;
    assert_eq!(list["persons"], json!([]), "{list}");
    // z's re-test positive confirms z (PCR); a later negative single test
    // does not undo a PCR-confirmed case.
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/tests/{}/result",
                retests[1]["id"].as_str().unwrap()
            ),
            &json!({"outcome": "positive"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(ids_of(&r["confirmed"]), std::slice::from_ref(&z));
    let (_, r) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/samples",
            &json!({"samples": [{"person_id": z}]}),
        )
        .await;
    let again = r["samples"][0]["id"].as_str().unwrap().to_string();
    let (_, t) = app
        .post(
            "/api/v1/outbreak/laboratories/L9/tests",
            &json!({"samples": [again], "confirmatory": true}),
        )
        .await;
    let (s, r) = app
        .post(
            &format!(
                "/api/v1/outbreak/tests/{}/result",
                t["id"].as_str().unwrap()
            ),
            &json!({"outcome": "negative"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["reversed"].clone(), r["cleared"].clone()),
        (json!([]), json!([])),
        "{r}"
    );
    let (_, c) = app.get(&format!("/api/v1/outbreak/cases/{z}")).await;
    assert_eq!(c["case"]["status"], "confirmed", "{c}");
    assert_eq!(audit_count(&app, "reverse").await, 1);
    app.cleanup().await;
}

/// Commune A (06658) has a case, a contact at home with checks and an
/// alert; commune B's responder (06700) finds none of it — reads and
/// writes answer as for a person outside the caller's areas, and nothing
/// is written — while A's responder sees and checks them.
async fn another_communes_responder_gets_the_out_of_area_answer(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 561, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 562, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 563, "Lê Văn Cường", "0665801").await;
    let mine = resident(&app, 564, "Phạm Thị Dung", "06700").await;
    let team_a = app.as_user("u-team-a", &["epidemic_responder:06658"]).await;
    let team_b = app.as_user("u-team-b", &["epidemic_responder:06700"]).await;
    let (s, r) = team_a
        .post("/api/v1/outbreak/cases", &confirm(&a, &days_ago(4)))
        .await;
    assert_eq!(s, 201, "{r}");
    for (source, person) in [(&a, &b), (&b, &c)] {
        let (s, r) = team_a
            .post(
                "/api/v1/outbreak/contacts",
                &contact(source, person, &days_ago(5)),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let (s, r) = team_a
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": c, "start_on": days_ago(1), "home_possible": true}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    // The F2 at home; A's team checks yesterday (fever: an alert), today
    // is still to do.
    let (s, ch) = team_a
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "day": days_ago(1), "present": true, "temperature_c": 38.5, "spo2": 97}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    assert_eq!(ch["alerts"], json!(["fever"]), "{ch}");
    // B's team: the same person ids, as if absent.
    let field = |p: &Value| p["errors"][0]["field"].as_str().unwrap_or("").to_string();
    let (s, p) = team_b
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "present": true, "temperature_c": 36.8, "spo2": 98}),
        )
        .await;
    assert_eq!((s, field(&p)), (422, "person_id".to_string()), "{p}");
    let (s, p) = team_b
        .post(
            "/api/v1/outbreak/isolations",
            &json!({"person_id": c, "start_on": days_ago(0), "home_possible": true}),
        )
        .await;
    assert_eq!((s, field(&p)), (422, "person_id".to_string()), "{p}");
    let (s, p) = team_b
        .post(
            "/api/v1/outbreak/contacts",
            &contact(&c, &mine, &days_ago(1)),
        )
        .await;
    assert_eq!((s, field(&p)), (422, "source_person_id".to_string()), "{p}");
    let (s, p) = team_b
        .post(
            &format!("/api/v1/outbreak/cases/{a}/outcome"),
            &json!({"outcome": "recovered", "recovered_on": days_ago(0)}),
        )
        .await;
    assert_eq!(s, 404, "{p}");
    let (s, p) = team_b.get(&format!("/api/v1/outbreak/cases/{a}")).await;
    assert_eq!(s, 404, "{p}");
    let (s, p) = team_b
        .get(&format!("/api/v1/outbreak/persons/{c}/isolations"))
        .await;
    assert_eq!(s, 404, "{p}");
    let (_, cases) = team_b.get("/api/v1/outbreak/cases").await;
    assert_eq!(cases["cases"], json!([]), "{cases}");
    let (_, contacts) = team_b.get("/api/v1/outbreak/contacts").await;
    assert_eq!(classes(&contacts), [], "{contacts}");
    for path in ["/api/v1/outbreak/team-list", "/api/v1/outbreak/alerts"] {
        let (s, l) = team_b.get(path).await;
        assert_eq!(s, 200, "{l}");
        assert_eq!(l["entries"], json!([]), "{path}: {l}");
        assert_eq!(l["counts"]["people"], 0, "{path}: {l}");
    }
    // Nothing B tried was written; B's refused case read is not audited.
    assert_eq!(audited_reads(&app, &a).await, 0);
    let (_, list) = team_a.get("/api/v1/outbreak/team-list").await;
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{list}");
    assert_eq!(entries[0]["person_id"], c.as_str());
    assert_eq!(entries[0]["checked_today"], false, "B's check was refused");
    let (_, isos) = team_a
        .get(&format!("/api/v1/outbreak/persons/{c}/isolations"))
        .await;
    assert_eq!(isos["isolations"].as_array().unwrap().len(), 1, "{isos}");
    let (_, contacts) = team_a.get("/api/v1/outbreak/contacts").await;
    assert_eq!(
        classes(&contacts).len(),
        3,
        "no link to B's person: {contacts}"
    );
    // A's team: the case (audited), the alert, today's check.
    let (s, r) = team_a.get(&format!("/api/v1/outbreak/cases/{a}")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(audited_reads(&app, &a).await, 1);
    let (_, al) = team_a.get("/api/v1/outbreak/alerts").await;
    let entries = al["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{al}");
    assert_eq!(entries[0]["alerts"], json!(["fever"]), "{al}");
    let (s, ch) = team_a
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": c, "present": true, "temperature_c": 36.8, "spo2": 98}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    let (_, list) = team_a.get("/api/v1/outbreak/team-list").await;
    assert_eq!(list["counts"]["checked"], 1, "{list}");
    app.cleanup().await;
}
