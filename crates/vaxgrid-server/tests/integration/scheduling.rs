//! Sessions, slots and appointments over real HTTP on both backends: bad
//! plans are refused by field, and ten thousand simultaneous booking
//! attempts for a thousand places book exactly a thousand.

use crate::common;

use std::sync::Arc;

use common::{new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(sessions_refuse_bad_plans, bookings_never_pass_capacity,);

fn tomorrow() -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1))
}

fn session_body(day: &str, opens: &str, closes: &str) -> serde_json::Value {
    json!({"site_code": "S1", "day": day, "opens": opens, "closes": closes,
           "stations": 10, "per_station_per_hour": 20, "slot_minutes": 30})
}

async fn sessions_refuse_bad_plans(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let day = tomorrow();
    let (s, opened) = app
        .post("/api/v1/sessions", &session_body(&day, "07:00", "12:00"))
        .await;
    assert_eq!(s, 201, "{opened}");
    let slots = opened["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 10);
    assert_eq!(slots[0]["starts_at"], format!("{day}T07:00"));
    assert_eq!(slots[0]["capacity"], 100);
    let yesterday = vaxgrid_store::format_date(vaxgrid_store::today() - time::Duration::days(1));
    let mut negative = session_body(&day, "13:00", "15:00");
    negative["stations"] = json!(-2);
    let mut mobile_at_commune = session_body(&day, "16:00", "17:00");
    mobile_at_commune["village_code"] = json!("06658");
    for (body, status, field) in [
        (session_body(&yesterday, "07:00", "09:00"), 422, "day"),
        (session_body(&day, "11:00", "10:00"), 422, "closes"),
        (negative, 422, "stations"),
        (session_body(&day, "11:30", "13:00"), 409, "opens"),
        (mobile_at_commune, 422, "village_code"),
        (session_body(&day, "25:00", "26:00"), 422, "opens"),
    ] {
        let (s, p) = app.post("/api/v1/sessions", &body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{body}: {p}"
        );
    }
    let (s, _) = app
        .post("/api/v1/sessions", &json!({"site_code": "S1"}))
        .await;
    assert_eq!(s, 422);
    app.cleanup().await;
}

async fn bookings_never_pass_capacity(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // 10,000 residents, by the CSV import.
    let mut csv = String::from(
        "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n",
    );
    for serial in 1..=10_000u32 {
        csv.push_str(&format!(
            "cccd,022080{serial:06},Người Thứ {serial},1980-05-17,male,,0665801,,\n"
        ));
    }
    let (s, b) = app
        .post_raw("/api/v1/persons/import", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 201, "{b}");
    let people = app.store.person_ids(None, 20_000).await.unwrap();
    assert_eq!(people.len(), 10_000);
    // One session of 10 slots of 100 places: 1,000 places.
    let day = tomorrow();
    let (s, opened) = app
        .post("/api/v1/sessions", &session_body(&day, "07:00", "12:00"))
        .await;
    assert_eq!(s, 201, "{opened}");
    let session = opened["session"]["id"].as_str().unwrap().to_string();
    let starts: Vec<String> = opened["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_string())
        .collect();
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = Vec::new();
    for (i, person) in people.into_iter().enumerate() {
        let (client, base, gate) = (app.client.clone(), app.base.clone(), gate.clone());
        let body = json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": starts[i % starts.len()]});
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let r = client
                .post(format!("{base}/api/v1/appointments"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let answer: serde_json::Value = r.json().await.unwrap_or_default();
            (status, answer)
        }));
    }
    let mut booked = 0;
    let mut full = 0;
    for t in tasks {
        let (status, answer) = t.await.unwrap();
        match status {
            201 => booked += 1,
            409 => {
                assert_eq!(answer["type"], "/problems/slot-full", "{answer}");
                assert!(answer["alternatives"].is_array(), "{answer}");
                full += 1;
            }
            other => panic!("booking answered {other}: {answer}"),
        }
    }
    assert_eq!((booked, full), (1_000, 9_000));
    let (_, after) = app.get(&format!("/api/v1/sessions/{session}")).await;
    for slot in after["slots"].as_array().unwrap() {
        assert_eq!(slot["booked"], slot["capacity"], "{slot}");
    }
    // A cancellation frees a place, which the next booking takes.
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_lifecycle_and_alternatives() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let person = app.person(801, "Đỗ Văn Tám").await;
    let other = app.person(802, "Đỗ Văn Chín").await;
    let day = tomorrow();
    let mut small = session_body(&day, "07:00", "08:00");
    small["stations"] = json!(1);
    small["per_station_per_hour"] = json!(2);
    let (s, opened) = app.post("/api/v1/sessions", &small).await;
    assert_eq!(s, 201, "{opened}");
    let session = opened["session"]["id"].as_str().unwrap().to_string();
    let first = format!("{day}T07:00");
    let booking =
        json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": first});
    let (s, a) = app.post("/api/v1/appointments", &booking).await;
    assert_eq!(s, 201, "{a}");
    let (s, again) = app.post("/api/v1/appointments", &booking).await;
    assert_eq!((s, &again["id"]), (200, &a["id"]), "a retry books once");
    let (s, p) = app
        .post("/api/v1/appointments", &json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": format!("{day}T07:30")}))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("person_id")),
        "{p}"
    );
    // The 07:00 slot holds one: the other person is offered 07:30.
    let (s, p) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": other, "session_id": session, "starts_at": first}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(
        p["alternatives"][0]["starts_at"],
        format!("{day}T07:30"),
        "{p}"
    );
    // Cancelled: the place is free again.
    let (s, c) = app
        .post(
            &format!("/api/v1/appointments/{}/cancel", a["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    let (s, c) = app
        .post(
            &format!("/api/v1/appointments/{}/cancel", a["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(s, 409, "{c}");
    let (s, b) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": other, "session_id": session, "starts_at": first}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, n) = app
        .post(
            &format!("/api/v1/appointments/{}/no-show", b["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!((s, n["status"].as_str()), (200, Some("no_show")), "{n}");
    // Rescheduled: the new place is taken, the old one freed.
    let (s, c) = app
        .post(
            &format!(
                "/api/v1/appointments/{}/reschedule",
                a["id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "session_id": session, "starts_at": format!("{day}T07:30")}),
        )
        .await;
    assert_eq!(s, 409, "a cancelled appointment is not moved: {c}");
    let booking = json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": format!("{day}T07:30")});
    let (s, moving) = app.post("/api/v1/appointments", &booking).await;
    assert_eq!(s, 201, "{moving}");
    let (s, full) = app
        .post(
            &format!(
                "/api/v1/appointments/{}/reschedule",
                moving["id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "session_id": session, "starts_at": first}),
        )
        .await;
    assert_eq!(s, 409, "07:00 is full (no-show keeps its place): {full}");
    let (s, _) = app
        .get(&format!(
            "/api/v1/appointments/{}",
            moving["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    let later = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(2));
    let mut next_day = small.clone();
    next_day["day"] = json!(later);
    let (s, opened) = app.post("/api/v1/sessions", &next_day).await;
    assert_eq!(s, 201, "{opened}");
    let later_session = opened["session"]["id"].as_str().unwrap().to_string();
    let (s, moved) = app
        .post(
            &format!(
                "/api/v1/appointments/{}/reschedule",
                moving["id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "session_id": later_session, "starts_at": format!("{later}T07:00")}),
        )
        .await;
    assert_eq!(s, 201, "{moved}");
    let (_, old) = app
        .get(&format!(
            "/api/v1/appointments/{}",
            moving["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(old["status"], "rescheduled", "{old}");
    let (_, after) = app.get(&format!("/api/v1/sessions/{session}")).await;
    assert_eq!(
        after["slots"][1]["booked"], 0,
        "the old place is free: {after}"
    );
    // After a first dose, the next one is proposed at the same site.
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &common::dose_body(
                &new_id(),
                &person,
                &vaxgrid_store::format_date(vaxgrid_store::today()),
            ),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, next) = app
        .get(&format!("/api/v1/persons/{person}/next-dose"))
        .await;
    assert_eq!(s, 200, "{next}");
    assert_eq!(next["site_code"], "S1", "{next}");
    assert!(next["due"].as_str().unwrap() > day.as_str(), "{next}");
    // Unknown slot, unknown person.
    let (s, p) = app
        .post("/api/v1/appointments", &json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": format!("{day}T09:00")}))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("starts_at")),
        "{p}"
    );
    let (s, p) = app
        .post("/api/v1/appointments", &json!({"id": new_id(), "person_id": new_id(), "session_id": session, "starts_at": first}))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("person_id")),
        "{p}"
    );
    app.cleanup().await;
}
