//! Reminders on both backends: a next dose falling due and a missed
//! appointment each give one message in the person's language, however
//! often generation runs; a failed send is retried after its back-off and
//! sent once; a message that keeps failing is given up. The webhook sender
//! against a gateway started here: signed JSON, retried after a refusal.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;
use vaxgrid_server::reminders::{run_once, run_once_at, Reminder, ReminderSender, SendFuture};

on_both_backends!(
    a_due_dose_is_reminded_once_in_the_persons_language,
    a_missed_appointment_is_reminded_once,
    a_failed_send_is_retried_then_given_up,
    a_webhook_gets_each_reminder_signed_and_a_refusal_is_retried,
);

/// Records what it sends; fails the first `fail_first` calls.
#[derive(Default)]
struct Recording {
    fail_first: usize,
    calls: AtomicUsize,
    sent: Mutex<Vec<Reminder>>,
}

impl Recording {
    fn failing(fail_first: usize) -> Recording {
        Recording {
            fail_first,
            ..Recording::default()
        }
    }

    fn sent(&self) -> Vec<Reminder> {
        self.sent.lock().unwrap().clone()
    }
}

impl ReminderSender for Recording {
    fn send<'a>(&'a self, r: &'a Reminder) -> SendFuture<'a> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.fail_first {
                return Err("gateway unavailable".to_string());
            }
            self.sent.lock().unwrap().push(r.clone());
            Ok(())
        })
    }
}

fn day(offset: i64) -> time::Date {
    vaxgrid_store::today() + time::Duration::days(offset)
}

fn vi(d: time::Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

async fn a_due_dose_is_reminded_once_in_the_persons_language(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let az = app.store.product("AZ").await.unwrap();
    assert!(az.doses_in_series >= 2);
    let interval = i64::from(az.recommended_interval_days);
    // Dose 1 given so that dose 2 is due tomorrow.
    let person = app.person(901, "Phạm Thị Nhắc").await;
    let first = vaxgrid_store::format_date(day(1 - interval));
    let (s, d1) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &person, &first))
        .await;
    assert_eq!(s, 201, "{d1}");
    // A passport holder due the day after: written to in English.
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "passport", "id_number": "B1234567", "full_name": "John Smith",
                    "birth_date": "1975-03-02", "sex": "male", "phone": "+84901234567", "home_area": "0665801"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let visitor = b["person"]["id"].as_str().unwrap().to_string();
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &dose_body(
                &new_id(),
                &visitor,
                &vaxgrid_store::format_date(day(2 - interval)),
            ),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    // Given ten days ago: not due for weeks, nothing to say yet.
    let early = app.person(902, "Phạm Văn Sớm").await;
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &early, &vaxgrid_store::format_date(day(-10))),
        )
        .await;
    assert_eq!(s, 201, "{d}");

    let sender = Recording::default();
    assert_eq!(run_once(&app.store, &sender).await.unwrap(), (2, 2, 0));
    assert_eq!(run_once(&app.store, &sender).await.unwrap(), (0, 0, 0));
    assert_eq!(sender.sent().len(), 2);

    let outbox = app.store.outbox(&person).await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let r = &outbox[0];
    assert_eq!(
        (r.kind.as_str(), r.subject.as_str(), r.language.as_str()),
        ("due_dose", d1["id"].as_str().unwrap(), "vi")
    );
    assert_eq!((r.status.as_str(), r.attempts), ("sent", 1));
    assert!(r.sent_at.is_some());
    assert!(
        r.message.contains(&format!(
            "mũi 2 vắc xin {} của bạn đến hạn vào ngày {}",
            az.name,
            vi(day(1))
        )),
        "{}",
        r.message
    );
    let english = app.store.outbox(&visitor).await.unwrap();
    assert_eq!(english.len(), 1, "{english:?}");
    assert_eq!(english[0].language, "en");
    assert_eq!(english[0].phone.as_deref(), Some("+84901234567"));
    assert!(
        english[0].message.starts_with(&format!(
            "Vaccination reminder: dose 2 of {} is due on",
            az.name
        )),
        "{}",
        english[0].message
    );
    assert!(app.store.outbox(&early).await.unwrap().is_empty());

    // Through the API.
    let (s, listed) = app
        .get(&format!("/api/v1/persons/{person}/reminders"))
        .await;
    assert_eq!(s, 200, "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["status"], "sent");
    assert_eq!(listed["items"][0]["kind"], "due_dose");
    let (s, _) = app
        .get(&format!("/api/v1/persons/{}/reminders", new_id()))
        .await;
    assert_eq!(s, 404);

    // Dose 2 given: the series is complete, no new reminder.
    let (s, d2) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, &vaxgrid_store::format_date(day(0))),
        )
        .await;
    assert_eq!(s, 201, "{d2}");
    assert_eq!(run_once(&app.store, &sender).await.unwrap(), (0, 0, 0));
    assert_eq!(app.store.outbox(&person).await.unwrap().len(), 1);
    assert_eq!(sender.sent().len(), 2);
    app.cleanup().await;
}

/// Opens a session tomorrow at S1, books `person` at 07:00 and marks them
/// absent; returns the appointment id.
async fn no_show(app: &TestApp, person: &str, opens: &str, closes: &str) -> String {
    let tomorrow = vaxgrid_store::format_date(day(1));
    let (s, opened) = app
        .post(
            "/api/v1/sessions",
            &json!({"site_code": "S1", "day": tomorrow, "opens": opens, "closes": closes,
                    "stations": 1, "per_station_per_hour": 4, "slot_minutes": 30}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let session = opened["session"]["id"].as_str().unwrap();
    let (s, a) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": person, "session_id": session,
                    "starts_at": format!("{tomorrow}T{opens}")}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let (s, n) = app
        .post(&format!("/api/v1/appointments/{id}/no-show"), &json!({}))
        .await;
    assert_eq!((s, n["status"].as_str()), (200, Some("no_show")), "{n}");
    id
}

async fn a_missed_appointment_is_reminded_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(911, "Lê Văn Vắng").await;
    let appointment = no_show(&app, &person, "07:00", "08:00").await;
    let sender = Recording::default();
    assert_eq!(run_once(&app.store, &sender).await.unwrap(), (1, 1, 0));
    assert_eq!(run_once(&app.store, &sender).await.unwrap(), (0, 0, 0));
    let outbox = app.store.outbox(&person).await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let r = &outbox[0];
    assert_eq!(
        (r.kind.as_str(), r.subject.as_str(), r.language.as_str()),
        ("missed_appointment", appointment.as_str(), "vi")
    );
    assert_eq!(r.status, "sent");
    assert_eq!(
        r.message,
        format!(
            "Bạn đã lỡ lịch hẹn tiêm chủng lúc 07:00 ngày {} tại Trạm Y tế Hồng Gai. \
             Vui lòng đặt lịch hẹn mới.",
            vi(day(1))
        )
    );
    assert_eq!(sender.sent().len(), 1);
    app.cleanup().await;
}

async fn a_failed_send_is_retried_then_given_up(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(921, "Trần Văn Thử").await;
    no_show(&app, &person, "07:00", "08:00").await;
    let now = vaxgrid_store::now_micros();
    let minute = 60_000_000;
    // The first send fails: still pending, tried once, not before a minute.
    let sender = Recording::failing(1);
    assert_eq!(
        run_once_at(&app.store, &sender, now).await.unwrap(),
        (1, 0, 1)
    );
    let r = &app.store.outbox(&person).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
    assert_eq!(r.last_error.as_deref(), Some("gateway unavailable"));
    assert!(r.sent_at.is_none());
    assert_eq!(
        run_once_at(&app.store, &sender, now + minute / 2)
            .await
            .unwrap(),
        (0, 0, 0)
    );
    // A later pass sends it, once.
    assert_eq!(
        run_once_at(&app.store, &sender, now + 2 * minute)
            .await
            .unwrap(),
        (0, 1, 0)
    );
    assert_eq!(
        run_once_at(&app.store, &sender, now + 600 * minute)
            .await
            .unwrap(),
        (0, 0, 0)
    );
    let r = &app.store.outbox(&person).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("sent", 2));
    assert_eq!(sender.sent().len(), 1);
    assert_eq!(sender.calls.load(Ordering::SeqCst), 2);

    // A gateway that never accepts: five tries, then given up.
    let other = app.person(922, "Trần Văn Hỏng").await;
    no_show(&app, &other, "09:00", "10:00").await;
    let broken = Recording::failing(usize::MAX);
    let mut failed = 0;
    for pass in 0..8 {
        let (_, sent, f) = run_once_at(&app.store, &broken, now + pass * 180 * minute)
            .await
            .unwrap();
        assert_eq!(sent, 0);
        failed += f;
    }
    assert_eq!(failed, 5);
    let r = &app.store.outbox(&other).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("failed", 5));
    assert_eq!(broken.calls.load(Ordering::SeqCst), 5);
    app.cleanup().await;
}

/// What a gateway started by the test received: (headers, body).
type Received = std::sync::Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

/// A gateway on a free port that answers 503 to its first `refuse`
/// requests, then 202; returns its URL and what it received.
async fn gateway(refuse: usize) -> (String, Received) {
    let received: Received = Default::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let mut seen = seen.lock().unwrap();
                    seen.push((headers, body.to_vec()));
                    if seen.len() <= refuse {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "queue full")
                    } else {
                        (axum::http::StatusCode::ACCEPTED, "queued")
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn a_webhook_gets_each_reminder_signed_and_a_refusal_is_retried(backend: &str) {
    use vaxgrid_server::reminders::{signature, WebhookSender};
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(931, "Lý Thị Gọi").await;
    no_show(&app, &person, "07:00", "08:00").await;
    let secret = "a shared secret of 32 characters";
    let (url, received) = gateway(1).await;
    let sender = WebhookSender::new(&url, secret).unwrap();
    let now = vaxgrid_store::now_micros();
    let minute = 60_000_000;
    // The gateway refuses the first time: the outbox keeps its answer and
    // tries again after the back-off.
    assert_eq!(
        run_once_at(&app.store, &sender, now).await.unwrap(),
        (1, 0, 1)
    );
    let r = &app.store.outbox(&person).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
    let error = r.last_error.clone().unwrap();
    assert!(
        error.contains("503") && error.contains("queue full"),
        "{error}"
    );
    assert_eq!(
        run_once_at(&app.store, &sender, now + 2 * minute)
            .await
            .unwrap(),
        (0, 1, 0)
    );
    let r = &app.store.outbox(&person).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("sent", 2));
    // Both tries carried the same message, signed, under the same key.
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for (headers, body) in &received {
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("idempotency-key"), r.id);
        let timestamp: i64 = header("x-vaxgrid-timestamp").parse().unwrap();
        assert!((timestamp - now / 1_000_000).abs() < 600, "{timestamp}");
        assert_eq!(
            header("x-vaxgrid-signature"),
            signature(secret.as_bytes(), timestamp, body)
        );
        assert_ne!(
            header("x-vaxgrid-signature"),
            signature(b"another secret of 32 characters!", timestamp, body),
            "the signature depends on the secret"
        );
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(json["id"], r.id.as_str());
        assert_eq!(json["person_id"], person.as_str());
        assert_eq!(json["kind"], "missed_appointment");
        assert_eq!(json["language"], "vi");
        assert_eq!(json["message"], r.message.as_str());
        assert!(json["message"].as_str().unwrap().contains("07:00"));
    }
    // A gateway that cannot be reached is a failed send with the reason.
    let other = app.person(932, "Lý Văn Tắt").await;
    no_show(&app, &other, "09:00", "10:00").await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down = WebhookSender::new(&format!("http://{closed}/sms"), secret).unwrap();
    assert_eq!(
        run_once_at(&app.store, &down, now + 3 * minute)
            .await
            .unwrap(),
        (1, 0, 1)
    );
    let r = &app.store.outbox(&other).await.unwrap()[0];
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
    assert!(
        r.last_error
            .as_deref()
            .unwrap()
            .contains("could not be reached"),
        "{:?}",
        r.last_error
    );
    app.cleanup().await;
}
