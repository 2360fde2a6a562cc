//! The vaccination table over real HTTP on both backends: a full visit
//! through every step, every skipped or reordered step refused, and the
//! ways a visit ends early.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

on_both_backends!(
    a_visit_goes_through_every_step,
    skipped_or_reordered_steps_are_refused,
    visits_end_early_for_good_reasons,
);

/// A moment `minutes` after a base three hours ago (events may not be in
/// the future).
fn at(minutes: i64) -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(3) + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

const NO: &[(&str, bool)] = &[
    ("anaphylaxis", false),
    ("acute_illness", false),
    ("recent_vaccine", false),
    ("recent_covid", false),
];

fn screening(minutes: i64, answers: &[(&str, bool)]) -> Value {
    json!({"kind": "screening", "at": at(minutes), "questionnaire_version": "default-1",
           "answers": answers.iter().map(|(q, yes)| json!({"question_id": q, "yes": yes})).collect::<Vec<_>>()})
}

/// Every event kind of the table, with the time `minutes`.
fn event(kind: &str, minutes: i64, person: &str) -> Value {
    match kind {
        "check_in" => json!({"kind": kind, "at": at(minutes), "temperature_c": 36.7}),
        "identity_check" => json!({"kind": kind, "at": at(minutes), "document": "cccd"}),
        "screening" => screening(minutes, NO),
        "consent" => {
            json!({"kind": kind, "at": at(minutes), "by": "self", "consent_text_version": "2021-07", "for_person_id": person})
        }
        "dose" => json!({"kind": kind, "at": at(minutes), "lot_number": "AZ-1", "station": "B1"}),
        "observation_end" => json!({"kind": kind, "at": at(minutes)}),
        other => panic!("{other}"),
    }
}

const STEPS: [&str; 6] = [
    "check_in",
    "identity_check",
    "screening",
    "consent",
    "dose",
    "observation_end",
];

async fn open(app: &TestApp, person: &str) -> String {
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["next_step"], "check_in");
    v["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, visit: &str, body: &Value) -> (u16, Value) {
    app.post(&format!("/api/v1/visits/{visit}/events"), body)
        .await
}

async fn a_visit_goes_through_every_step(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(901, "Hà Văn Một").await;
    let visit = open(&app, &person).await;
    for (i, kind) in STEPS[..5].iter().enumerate() {
        let (s, v) = send(&app, &visit, &event(kind, i as i64, &person)).await;
        assert_eq!(s, 200, "{kind}: {v}");
    }
    // The dose went through the dose rules and is in the history.
    let (_, h) = app.get(&format!("/api/v1/persons/{person}/doses")).await;
    assert_eq!(h["valid_doses"], 1, "{h}");
    assert_eq!(h["records"][0]["site_code"], "S1");
    // In observation: on the site's list, not free to leave before 30 minutes.
    let (_, list) = app.get("/api/v1/sites/S1/observation").await;
    assert_eq!(
        list["in_observation"][0]["visit_id"],
        visit.as_str(),
        "{list}"
    );
    let (s, p) = send(&app, &visit, &event("observation_end", 10, &person)).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("at")),
        "{p}"
    );
    // A reaction during observation; a serious one opens an investigation.
    let mild = json!({"kind": "adverse_event", "onset": at(12), "symptoms": ["pain at the injection site"], "severity": "mild", "serious": false});
    let (s, v) = send(&app, &visit, &mild).await;
    assert_eq!(s, 200, "{v}");
    let serious = json!({"kind": "adverse_event", "onset": at(15), "symptoms": ["anaphylaxis"], "severity": "severe", "serious": true});
    let (s, v) = send(&app, &visit, &serious).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["investigations"][0]["status"], "open", "{v}");
    let investigation = v["investigations"][0]["id"].as_str().unwrap().to_string();
    let assess = format!("/api/v1/investigations/{investigation}/causality");
    let (s, p) = app.post(&assess, &json!({"causality": "Z9"})).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("causality")),
        "{p}"
    );
    let (s, a) = app.post(&assess, &json!({"causality": "A1"})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("assessed")), "{a}");
    let (_, v) = app.get(&format!("/api/v1/visits/{visit}")).await;
    assert_eq!(v["investigations"][0]["causality"], "A1", "{v}");
    let (s, v) = send(&app, &visit, &event("observation_end", 40, &person)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "done", "{v}");
    let (_, today) = app.get("/api/v1/sites/S1/today").await;
    assert_eq!(today["serious_adverse_events"], 1, "{today}");
    assert_eq!(today["checked_in"], 1, "{today}");
    // Only a certified vaccinator gives the dose.
    let second = app.person(905, "Hà Văn Năm").await;
    let visit2 = open(&app, &second).await;
    for (i, kind) in STEPS[..4].iter().enumerate() {
        let (s, v) = send(&app, &visit2, &event(kind, i as i64, &second)).await;
        assert_eq!(s, 200, "{kind}: {v}");
    }
    let vaccinator = app.as_user("vac-s1", &["vaccinator:S1"]).await;
    let (s, p) = send(&vaccinator, &visit2, &event("dose", 5, &second)).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("vaccinator")),
        "{p}"
    );
    let screener = app.as_user("scr-s1", &["screener:S1"]).await;
    let (s, p) = send(&screener, &visit2, &event("dose", 5, &second)).await;
    assert_eq!(s, 403, "a screener gives no dose: {p}");
    // A report before the dose's time is refused; after the visit, accepted.
    let early = json!({"kind": "adverse_event", "onset": at(1), "symptoms": ["fever"], "severity": "mild", "serious": false});
    let (s, p) = send(&app, &visit, &early).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("onset")),
        "{p}"
    );
    app.cleanup().await;
}

async fn skipped_or_reordered_steps_are_refused(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(902, "Hà Văn Hai").await;
    let visit = open(&app, &person).await;
    for (done, expected) in STEPS.iter().enumerate() {
        // Every step other than the expected one is refused, naming it.
        for wrong in STEPS.iter().filter(|k| *k != expected) {
            let (s, p) = send(&app, &visit, &event(wrong, done as i64, &person)).await;
            assert_eq!(s, 422, "{wrong} while {expected} is due: {p}");
            assert_eq!(p["errors"][0]["field"], "step", "{p}");
        }
        let minutes = if *expected == "observation_end" {
            60
        } else {
            done as i64
        };
        let (s, v) = send(&app, &visit, &event(expected, minutes, &person)).await;
        assert_eq!(s, 200, "{expected}: {v}");
    }
    // Finished: no step is taken any more.
    for kind in STEPS {
        let (s, _) = send(&app, &visit, &event(kind, 70, &person)).await;
        assert_eq!(s, 422, "{kind} after the end");
    }
    let (s, p) = send(&app, &visit, &json!({"kind": "jump"})).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("kind")),
        "{p}"
    );
    app.cleanup().await;
}

async fn visits_end_early_for_good_reasons(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(903, "Hà Văn Ba").await;
    // Fever defers.
    let visit = open(&app, &person).await;
    let (s, v) = send(
        &app,
        &visit,
        &json!({"kind": "check_in", "at": at(0), "temperature_c": 38.4}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "deferred", "{v}");
    // A contraindicating answer stops the visit with its reason.
    let visit = open(&app, &person).await;
    for (i, kind) in ["check_in", "identity_check"].iter().enumerate() {
        send(&app, &visit, &event(kind, i as i64, &person)).await;
    }
    let mut answers = NO.to_vec();
    answers[0].1 = true;
    let (s, v) = send(&app, &visit, &screening(3, &answers)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "contraindicated", "{v}");
    // Consent for someone else, unanswered questions, impossible temperature.
    let other = app.person(904, "Hà Văn Bốn").await;
    let visit = open(&app, &person).await;
    let (s, p) = send(
        &app,
        &visit,
        &json!({"kind": "check_in", "at": at(0), "temperature_c": 80}),
    )
    .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("temperature_c")),
        "{p}"
    );
    for (i, kind) in ["check_in", "identity_check"].iter().enumerate() {
        send(&app, &visit, &event(kind, i as i64, &person)).await;
    }
    let (s, p) = send(&app, &visit, &screening(3, &NO[..2])).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("answers")),
        "{p}"
    );
    send(&app, &visit, &screening(3, NO)).await;
    let (s, p) = send(&app, &visit, &event("consent", 4, &other)).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("for_person_id")),
        "{p}"
    );
    // Refused by the person.
    let (s, v) = send(
        &app,
        &visit,
        &json!({"kind": "end", "at": at(5), "ending": "refused", "reason": "changed their mind"}),
    )
    .await;
    assert_eq!((s, v["outcome"].as_str()), (200, Some("refused")), "{v}");
    // A product's own questionnaire.
    let (s, q) = app
        .client
        .put(format!("{}/api/v1/products/AZ/screening", app.base))
        .json(&json!({"version": "qn-2", "questions": [{"id": "pregnant", "text": "Pregnant?", "yes_means": {"defer_days": 30}}]}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(s, 200, "{:?}", q.text().await);
    let (_, q) = app.get("/api/v1/products/AZ/screening").await;
    assert_eq!(q["version"], "qn-2", "{q}");
    let visit = open(&app, &other).await;
    for (i, kind) in ["check_in", "identity_check"].iter().enumerate() {
        send(&app, &visit, &event(kind, i as i64, &other)).await;
    }
    let (s, p) = send(&app, &visit, &screening(3, NO)).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("answers")),
        "unknown questions: {p}"
    );
    let (s, v) = send(&app, &visit, &screening(3, &[("pregnant", true)])).await;
    assert_eq!((s, v["outcome"].as_str()), (200, Some("deferred")), "{v}");
    // The survey list of a campaign shows what the table decided.
    let today = vaxgrid_store::today();
    let d = |n: i64| vaxgrid_store::format_date(today + time::Duration::days(n));
    let (s, campaign) = app
        .post("/api/v1/campaigns", &json!({"name": "COVID-19", "disease": "COVID-19", "area_code": "22",
            "products": ["AZ"], "priority_groups": ["frontline"], "target_percent": 80.0, "target_date": d(60)}))
        .await;
    assert_eq!(s, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap();
    let (s, wave) = app
        .post(&format!("/api/v1/campaigns/{id}/waves"), &json!({"name": "1", "starts_on": d(0), "ends_on": d(30), "eligible_groups": ["frontline"]}))
        .await;
    assert_eq!(s, 201, "{wave}");
    let (s, list) = app
        .get(&format!(
            "/api/v1/campaigns/{id}/waves/{}/survey?area=06658",
            wave["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{list}");
    let status_of = |p: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person_id"] == p)
            .map(|r| r["status"].clone())
    };
    assert_eq!(status_of(&person), Some(json!("refused")), "{list}");
    assert_eq!(status_of(&other), Some(json!("deferred")), "{list}");
    let html = app
        .client
        .get(format!(
            "{}/api/v1/campaigns/{id}/waves/{}/survey?area=06658&format=html",
            app.base,
            wave["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<table>") && html.contains("Hà Văn Bốn"),
        "{html}"
    );
    // A site's zones: vaccination, observation and treatment are required.
    let (client, base) = (app.client.clone(), app.base.clone());
    let zones = |list: Value| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let r = client
                .put(format!("{base}/api/v1/sites/S1/zones"))
                .json(&json!({ "zones": list }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, p) = zones(json!([{"kind": "vaccination", "name": "Phòng tiêm", "places": 2}])).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("zones")),
        "{p}"
    );
    let (s, p) = zones(json!([{"kind": "kitchen", "name": "Bếp", "places": 1}])).await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("zones[0].kind")),
        "{p}"
    );
    let (s, p) = zones(json!([
        {"kind": "temperature_check", "name": "Đo thân nhiệt", "places": 1},
        {"kind": "vaccination", "name": "Phòng tiêm", "places": 2},
        {"kind": "observation", "name": "Khu theo dõi", "places": 30},
        {"kind": "treatment", "name": "Xử trí phản vệ", "places": 2}]))
    .await;
    assert_eq!(s, 200, "{p}");
    let (_, got) = app.get("/api/v1/sites/S1/zones").await;
    assert_eq!(got["zones"][0]["kind"], "temperature_check", "{got}");
    assert_eq!(got["zones"].as_array().unwrap().len(), 4);
    app.cleanup().await;
}
