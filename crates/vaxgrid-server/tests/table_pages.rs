//! The vaccination table's pages over HTTP, on both backends: today's
//! queue from appointments and walk-ins with where each person stands,
//! names shown as text, and a site outside the caller's sites as a 404
//! page.

mod common;

use common::{new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(the_queue_shows_appointments_and_walk_ins_of_today);

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn the_queue_shows_appointments_and_walk_ins_of_today(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let hostile = "\"><img src=x onerror=alert(1)> <script>alert(2)</script>";
    let booked = app.person(1, hostile).await;
    let walk_in = app.person(2, "Nguyễn Thị Lan").await;
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let (s, opened) = app
        .post(
            "/api/v1/sessions",
            &json!({"site_code": "S1", "day": today, "opens": "00:00", "closes": "23:30",
                    "stations": 2, "per_station_per_hour": 20, "slot_minutes": 30}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let session = opened["session"]["id"].as_str().unwrap();
    let last = opened["slots"].as_array().unwrap().last().unwrap()["starts_at"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, a) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": booked, "session_id": session, "starts_at": last}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    // The walk-in has come and been checked in through the API.
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &json!({"person_id": walk_in, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let visit = v["id"].as_str().unwrap();
    let (s, v) = app
        .post(
            &format!("/api/v1/visits/{visit}/events"),
            &json!({"kind": "check_in", "temperature_c": 36.6, "client_id": "form-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // The same event sent again with its client id records once.
    let (s, again) = app
        .post(
            &format!("/api/v1/visits/{visit}/events"),
            &json!({"kind": "check_in", "temperature_c": 36.6, "client_id": "form-1"}),
        )
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["events"].as_array().unwrap().len(), 1, "{again}");
    let nurse = app.as_user("reg1", &["registrar:S1"]).await;
    let (s, html) = page(&nurse, "/sites/S1/table").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<html lang=\"vi\">") || html.contains("<html lang=\"en\">"));
    assert!(
        html.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<img src=x") && !html.contains("<script>alert(2)"));
    assert!(html.contains("Nguyễn Thị Lan"), "{html}");
    assert!(html.contains(&last[11..16]), "{html}");
    let queue = &html[html.find("id=\"queue\"").unwrap()..];
    assert!(
        queue.contains("Booked") || queue.contains("Đã đặt lịch"),
        "{queue}"
    );
    assert!(
        queue.contains("Checked in") || queue.contains("Đã đo nhiệt độ"),
        "{queue}"
    );
    assert!(
        html.contains("href=\"/sites/S1/table\""),
        "the menu leads to the table"
    );
    // Another site's table is a 404 page for this registrar.
    let (s, html) = page(&nurse, "/sites/S2/table").await;
    assert_eq!(s, 404, "{html}");
    assert!(!html.contains("Ka Long"), "{html}");
    let (s, _) = page(&nurse, "/sites/NOPE/table").await;
    assert_eq!(s, 404);
    app.cleanup().await;
}
