//! Staff training over real HTTP on both backends: classes, attendees and
//! exams, refused by field when wrong; a passed exam issues a certificate;
//! and a vaccinator records a dose only on a day their vaccination
//! certificate is current.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    classes_exams_and_certificates,
    bad_input_is_refused_by_field,
    only_certified_vaccinators_record_doses,
);

fn class_body(topic: &str, starts_on: &str, ends_on: &str, trainer: &str) -> Value {
    json!({"topic": topic, "starts_on": starts_on, "ends_on": ends_on, "trainer": trainer})
}

async fn new_class(app: &TestApp, topic: &str, starts_on: &str, ends_on: &str) -> String {
    let (s, c) = app
        .post(
            "/api/v1/training/classes",
            &class_body(topic, starts_on, ends_on, "u-trainer"),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_str().unwrap().to_string()
}

async fn attend(app: &TestApp, class: &str, username: &str) {
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{class}/attendees"),
            &json!({ "username": username }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

async fn exam(app: &TestApp, class: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/training/classes/{class}/exams"), &body)
        .await
}

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

async fn classes_exams_and_certificates(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let trainer = app.as_user("u-trainer", &["trainer"]).await;
    let nurse = app.as_user("u-nurse", &["vaccinator:S1"]).await;
    let clerk = app.as_user("u-clerk", &["registrar:S1"]).await;
    let (audited_before, _) = app.store.verify_audit().await.unwrap();
    // A trainer runs the whole flow.
    let (s, c) = trainer
        .post(
            "/api/v1/training/classes",
            &class_body(" Vaccination ", "2021-01-04", "2021-01-08", "u-trainer"),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        c["topic"], "Vaccination",
        "topics are stored trimmed, their case kept"
    );
    assert_eq!(
        (c["starts_on"].as_str(), c["ends_on"].as_str()),
        (Some("2021-01-04"), Some("2021-01-08"))
    );
    let class = c["id"].as_str().unwrap().to_string();
    let attendees = format!("/api/v1/training/classes/{class}/attendees");
    let (s, a) = trainer
        .post(&attendees, &json!({"username": "u-nurse"}))
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["attendees"], json!(["u-nurse"]));
    // Adding again changes nothing.
    let (s, a) = trainer
        .post(&attendees, &json!({"username": "u-nurse"}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["attendees"], json!(["u-nurse"]));
    // A fail issues nothing; a pass (at the mark exactly) a year's certificate.
    let (s, failed) = exam(
        &trainer,
        &class,
        json!({"username": "u-nurse", "score": 79, "pass_mark": 80, "taken_on": "2021-01-08"}),
    )
    .await;
    assert_eq!(s, 201, "{failed}");
    assert_eq!(failed["exam"]["passed"], false);
    assert!(failed["certificate"].is_null(), "{failed}");
    let exam_id = new_id();
    let (s, passed) = exam(
        &trainer,
        &class,
        json!({"id": exam_id, "username": "u-nurse", "score": 80, "pass_mark": 80, "taken_on": "2021-01-09"}),
    )
    .await;
    assert_eq!(s, 201, "{passed}");
    assert_eq!(passed["exam"]["id"], exam_id.as_str());
    assert_eq!(passed["exam"]["passed"], true);
    assert_eq!(passed["exam"]["score"], 80);
    let cert = &passed["certificate"];
    assert_eq!(cert["username"], "u-nurse");
    assert_eq!(cert["topic"], "Vaccination");
    assert_eq!(cert["issued_on"], "2021-01-09");
    assert_eq!(cert["expires_on"], "2022-01-08");
    assert_eq!(cert["exam_id"], exam_id.as_str());
    assert_eq!(cert["revoked"], false);
    // The same exam id twice is a conflict.
    let (s, p) = exam(
        &trainer,
        &class,
        json!({"id": exam_id, "username": "u-nurse", "score": 90, "pass_mark": 80, "taken_on": "2021-01-09"}),
    )
    .await;
    assert_eq!((s, field(&p)), (409, Some("id")), "{p}");
    // A recent pass, valid for the default year: current today.
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let recent = new_class(&trainer, "Cold Chain", "2021-01-01", &today).await;
    attend(&trainer, &recent, "u-nurse").await;
    let (s, b) = exam(
        &trainer,
        &recent,
        json!({"username": "u-nurse", "score": 100, "pass_mark": 50, "taken_on": today}),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    // Certificates: one's own, and anyone's for trainers and administrators.
    let path = "/api/v1/staff/u-nurse/certificates";
    for reader in [&nurse, &trainer, &app] {
        let (s, list) = reader.get(path).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(list["username"], "u-nurse");
        let certs = list["certificates"].as_array().unwrap();
        assert_eq!(certs.len(), 2, "{list}");
        assert_eq!(certs[0]["topic"], "Cold Chain", "newest first: {list}");
        assert_eq!(certs[0]["current"], true);
        assert_eq!(certs[1]["topic"], "Vaccination");
        assert_eq!(certs[1]["current"], false, "expired in 2022: {list}");
    }
    // Others see nothing, not even whether the user exists.
    let (s, _) = clerk.get(path).await;
    assert_eq!(s, 404);
    let (s, own) = clerk.get("/api/v1/staff/u-clerk/certificates").await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["certificates"], json!([]));
    let (s, _) = app.get("/api/v1/staff/nobody/certificates").await;
    assert_eq!(s, 404);
    // Only trainers and administrators manage training.
    let (s, _) = nurse
        .post(
            "/api/v1/training/classes",
            &class_body("vaccination", "2021-01-04", "2021-01-08", "u-nurse"),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = nurse
        .post(&attendees, &json!({"username": "u-nurse"}))
        .await;
    assert_eq!(s, 403);
    // Every training write is in the audit log, whose chain holds: 2
    // classes, 2 attendees, 3 exams, 2 certificates (a repeated attendee
    // and a refused exam write nothing).
    let (n, broken) = app.store.verify_audit().await.unwrap();
    assert!(broken.is_none(), "{broken:?}");
    assert_eq!(n - audited_before, 9);
    app.cleanup().await;
}

async fn bad_input_is_refused_by_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let _ = app.as_user("u-trainer", &["trainer"]).await;
    let _ = app.as_user("u-nurse", &["vaccinator:S1"]).await;
    let _ = app.as_user("u-other", &["vaccinator:S1"]).await;
    let classes = "/api/v1/training/classes";
    for (body, status, expected) in [
        (
            class_body("vaccination", "2021-01-08", "2021-01-04", "u-trainer"),
            422,
            "ends_on",
        ),
        (
            class_body("vaccination", "2021-02-30", "2021-03-04", "u-trainer"),
            422,
            "starts_on",
        ),
        (
            class_body("vaccination", "2021-01-04", "soon", "u-trainer"),
            422,
            "ends_on",
        ),
        (
            class_body("vaccination", "2021-01-04", "2021-01-08", "nobody"),
            422,
            "trainer",
        ),
        (
            class_body("vaccination", "2021-01-04", "2021-01-08", ""),
            422,
            "trainer",
        ),
        (
            class_body("   ", "2021-01-04", "2021-01-08", "u-trainer"),
            422,
            "topic",
        ),
        (
            class_body(&"ữ".repeat(201), "2021-01-04", "2021-01-08", "u-trainer"),
            422,
            "topic",
        ),
        (
            json!({"topic": "vaccination", "starts_on": "2021-01-04", "ends_on": "2021-01-08"}),
            422,
            "trainer",
        ),
        (
            json!({"id": "x", "topic": "vaccination", "starts_on": "2021-01-04", "ends_on": "2021-01-08", "trainer": "u-trainer"}),
            400,
            "id",
        ),
    ] {
        let (s, p) = app.post(classes, &body).await;
        assert_eq!((s, field(&p)), (status, Some(expected)), "{body}: {p}");
    }
    let id = new_id();
    let mut body = class_body("vaccination", "2021-01-04", "2021-01-08", "u-trainer");
    body["id"] = json!(id);
    let (s, c) = app.post(classes, &body).await;
    assert_eq!(s, 201, "{c}");
    let (s, p) = app.post(classes, &body).await;
    assert_eq!((s, field(&p)), (409, Some("id")), "{p}");
    // The longest topic, 200 characters, is kept whole and as written.
    let longest = format!("Tập Huấn {}", "ữ".repeat(191));
    assert_eq!(longest.chars().count(), 200);
    let (s, c) = app
        .post(
            classes,
            &class_body(&longest, "2021-01-04", "2021-01-08", "u-trainer"),
        )
        .await;
    assert_eq!(
        (s, c["topic"].as_str()),
        (201, Some(longest.as_str())),
        "{c}"
    );
    let class = id;
    // Attendees: an existing user; the class in the path must exist.
    let (s, p) = app
        .post(
            &format!("{classes}/{class}/attendees"),
            &json!({"username": "nobody"}),
        )
        .await;
    assert_eq!((s, field(&p)), (422, Some("username")), "{p}");
    let (s, _) = app
        .post(
            &format!("{classes}/{}/attendees", new_id()),
            &json!({"username": "u-nurse"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post(
            &format!("{classes}/not-a-uuid/attendees"),
            &json!({"username": "u-nurse"}),
        )
        .await;
    assert_eq!(s, 400);
    attend(&app, &class, "u-nurse").await;
    // Exams.
    let ok = json!({"username": "u-nurse", "score": 90, "pass_mark": 80, "taken_on": "2021-01-08"});
    let with = |key: &str, value: Value| {
        let mut b = ok.clone();
        b[key] = value;
        b
    };
    let tomorrow = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
    for (body, expected) in [
        (with("score", json!(-1)), "score"),
        (with("score", json!(101)), "score"),
        (with("score", json!("ninety")), "score"),
        (with("pass_mark", json!(0)), "pass_mark"),
        (with("pass_mark", json!(101)), "pass_mark"),
        (with("valid_days", json!(0)), "valid_days"),
        (with("valid_days", json!(-30)), "valid_days"),
        (with("valid_days", json!(100_000)), "valid_days"),
        (with("taken_on", json!("2021-13-01")), "taken_on"),
        (with("taken_on", json!("2021-01-03")), "taken_on"),
        (with("taken_on", json!(tomorrow)), "taken_on"),
        (with("username", json!("u-other")), "username"),
        (with("username", json!("nobody")), "username"),
        (with("unexpected", json!(1)), "unexpected"),
    ] {
        let (s, p) = exam(&app, &class, body.clone()).await;
        assert_eq!((s, field(&p)), (422, Some(expected)), "{body}: {p}");
    }
    let (s, _) = exam(&app, &new_id(), ok.clone()).await;
    assert_eq!(s, 404);
    // Nothing refused was stored: no exam, no certificate.
    let (s, list) = app.get("/api/v1/staff/u-nurse/certificates").await;
    assert_eq!((s, list["certificates"].clone()), (200, json!([])));
    let (s, b) = exam(&app, &class, ok).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["certificate"]["expires_on"], "2022-01-07");
    app.cleanup().await;
}

async fn only_certified_vaccinators_record_doses(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let _ = app.as_user("u-trainer", &["trainer"]).await;
    let nurse = app.as_user("u-nurse", &["vaccinator:S1"]).await;
    let person = app.person(501, "Phạm Văn Năm").await;
    let refused = |s: u16, p: &Value, day: &str| {
        assert_eq!((s, field(p)), (422, Some("vaccinator")), "{p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "u-nurse holds no current vaccination certificate on {day}"
            )),
            "{message}"
        );
    };
    let (s, p) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-08-15"),
        )
        .await;
    refused(s, &p, "2021-08-15");
    // A certificate of another topic does not count.
    let other = new_class(&app, "cold chain", "2021-01-01", "2021-01-01").await;
    attend(&app, &other, "u-nurse").await;
    let (s, b) = exam(
        &app,
        &other,
        json!({"username": "u-nurse", "score": 95, "pass_mark": 80, "taken_on": "2021-01-01"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, p) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-08-15"),
        )
        .await;
    refused(s, &p, "2021-08-15");
    // Vaccination (capitalised, still the topic that certifies), 2021-03-01
    // for 30 days: the last day is 2021-03-30.
    let class = new_class(&app, "Vaccination", "2021-02-20", "2021-02-28").await;
    attend(&app, &class, "u-nurse").await;
    let (s, b) = exam(
        &app,
        &class,
        json!({"username": "u-nurse", "score": 95, "pass_mark": 80, "taken_on": "2021-03-01", "valid_days": 30}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["certificate"]["expires_on"], "2021-03-30");
    let certificate = b["certificate"]["id"].as_str().unwrap().to_string();
    let (s, p) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-02-28"),
        )
        .await;
    refused(s, &p, "2021-02-28");
    let (s, p) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-03-31"),
        )
        .await;
    refused(s, &p, "2021-03-31");
    let (s, d) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-03-30"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["vaccinator"], "u-nurse", "the dose names its vaccinator");
    let stored = app.store.dose(d["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(stored.vaccinator.as_deref(), Some("u-nurse"));
    // Naming themselves is the same; naming someone else is refused.
    let third = app.person(503, "Phạm Văn Bảy").await;
    let mut named = dose_body(&new_id(), &third, "2021-03-30");
    named["vaccinator"] = json!("u-nurse");
    let (s, d) = nurse.post("/api/v1/doses", &named).await;
    assert_eq!((s, d["vaccinator"].as_str()), (201, Some("u-nurse")), "{d}");
    named["id"] = json!(new_id());
    named["vaccinator"] = json!("u-other");
    let (s, p) = nurse.post("/api/v1/doses", &named).await;
    assert_eq!((s, field(&p)), (422, Some("vaccinator")), "{p}");
    // A historical dose from a card, entered by the nurse: no certificate
    // of hers at that date is asked, and it keeps the card's vaccinator.
    let fourth = app.person(504, "Phạm Thị Tám").await;
    let historical = json!({"id": new_id(), "person_id": fourth, "product_code": "AZ",
        "administered_on": "2019-05-02", "historical": true, "vaccinator": "Trạm y tế Bãi Cháy"});
    let (s, d) = nurse.post("/api/v1/doses", &historical).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["vaccinator"], "Trạm y tế Bãi Cháy");
    // A bad date is still the date's problem, not the certificate's.
    let (s, p) = nurse
        .post("/api/v1/doses", &dose_body(&new_id(), &person, "someday"))
        .await;
    assert_eq!((s, field(&p)), (422, Some("administered_on")), "{p}");
    // A revoked certificate stops counting at once.
    app.store
        .revoke_staff_certificate(&certificate, &vaxgrid_store::model::Actor::system("test"))
        .await
        .unwrap();
    let (s, p) = nurse
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-08-15"),
        )
        .await;
    refused(s, &p, "2021-08-15");
    let (_, list) = nurse.get("/api/v1/staff/u-nurse/certificates").await;
    let revoked: Vec<&Value> = list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["revoked"] == true)
        .collect();
    assert_eq!(revoked.len(), 1, "{list}");
    assert_eq!(revoked[0]["current"], false);
    // Administrators are not checked.
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-10-15"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    // Someone who is also an administrator acts as one.
    let both = app.as_user("u-lead", &["vaccinator:S1", "admin"]).await;
    let other_person = app.person(502, "Phạm Thị Sáu").await;
    let (s, d) = both
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &other_person, "2021-08-15"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    app.cleanup().await;
}
