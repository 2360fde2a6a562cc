//! The training report over real HTTP on both backends: staff per area
//! (by their site's or area's grant, once whatever their roles), class
//! attendance, exams and pass rate, vaccinators and those certified,
//! certificates ending within N days; CSV; a district seeing only its own;
//! bad queries refused by field.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(staff_training_by_area, bad_queries_are_refused_by_field);

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

async fn staff_training_by_area(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    for (user, grants) in [
        ("nurse1", &["vaccinator:S1", "registrar:S1"][..]),
        ("nurse2", &["vaccinator:S1"][..]),
        ("nurse3", &["vaccinator:S2"][..]),
        ("clerk", &["registrar:S1"][..]),
        ("planner-hl", &["planner:193"][..]),
    ] {
        TestApp::make_user(&app.store, user, grants).await;
    }
    app.certify("nurse1").await;
    // nurse2 attends and fails.
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let (s, c) = app
        .post(
            "/api/v1/training/classes",
            &json!({"topic": "Vaccination", "starts_on": today, "ends_on": today, "trainer": "admin"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let class = c["id"].as_str().unwrap();
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{class}/attendees"),
            &json!({"username": "nurse2"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{class}/exams"),
            &json!({"username": "nurse2", "score": 50, "pass_mark": 80, "taken_on": today}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, r) = app.get("/api/v1/reports/training?area=22").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (&r["classes"], &r["expiring_within_days"]),
        (&json!(2), &json!(30)),
        "{r}"
    );
    assert_eq!(
        r["area"],
        json!({"area_code": "22", "area_name": "Quảng Ninh", "staff": 5, "attendees": 2, "exams": 2,
               "exams_passed": 1, "pass_rate": 50.0, "vaccinators": 3, "certified_vaccinators": 1,
               "expiring": 0}),
        "{r}"
    );
    let hl = &r["children"][0];
    assert_eq!(hl["area_code"], "193");
    assert_eq!(
        (
            &hl["staff"],
            &hl["vaccinators"],
            &hl["certified_vaccinators"]
        ),
        (&json!(4), &json!(2), &json!(1))
    );
    let mc = &r["children"][1];
    assert_eq!(
        (
            &mc["staff"],
            &mc["vaccinators"],
            &mc["certified_vaccinators"]
        ),
        (&json!(1), &json!(1), &json!(0))
    );
    assert_eq!(mc["pass_rate"], Value::Null, "no exam, no rate: {r}");
    // Within ten years, nurse1's certificate ends.
    let (_, r) = app
        .get("/api/v1/reports/training?area=22&expiring_within_days=3650")
        .await;
    assert_eq!(r["area"]["expiring"], 1, "{r}");
    let (s, csv) = app.get("/api/v1/reports/training?area=22&format=csv").await;
    assert_eq!(s, 200);
    assert_eq!(
        csv.as_str().unwrap().lines().take(2).collect::<Vec<_>>(),
        [
            "area_code,area_name,staff,attendees,exams,exams_passed,pass_rate,vaccinators,certified_vaccinators,expiring,expiring_within_days",
            "22,Quảng Ninh,5,2,2,1,50,3,1,0,30"
        ]
    );
    // A district's officer: their own district (themselves counted).
    let officer = app.as_user("u-stat-mc", &["statistics_officer:194"]).await;
    let (s, r) = officer.get("/api/v1/reports/training?area=194").await;
    assert_eq!((s, &r["area"]["staff"]), (200, &json!(2)), "{r}");
    for url in [
        "/api/v1/reports/training?area=193",
        "/api/v1/reports/training?area=22",
    ] {
        let (s, p) = officer.get(url).await;
        assert_eq!(s, 404, "{url}: {p}");
    }
    let nurse = app.as_user("u-nurse-x", &["vaccinator:S1"]).await;
    let (s, _) = nurse.get("/api/v1/reports/training?area=193").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn bad_queries_are_refused_by_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for (query, name) in [
        ("", "area"),
        ("area=22&expiring_within_days=-1", "expiring_within_days"),
        ("area=22&expiring_within_days=3651", "expiring_within_days"),
        ("area=22&expiring_within_days=soon", "expiring_within_days"),
        ("area=22&format=xlsx", "format"),
        ("area=22&site=S1", "site"),
    ] {
        let (s, p) = app.get(&format!("/api/v1/reports/training?{query}")).await;
        assert_eq!((s, field(&p)), (400, Some(name)), "{query}: {p}");
    }
    let (s, p) = app.get("/api/v1/reports/training?area=404").await;
    assert_eq!(s, 404, "{p}");
    app.cleanup().await;
}
