//! The resident portal over HTTP, on both backends: finding one's record
//! with a one-time code read from the outbox (as the SMS gateway would),
//! wrong, expired and spent codes, the limits per record and per address,
//! the same answer for a record that does not exist, CSRF on every form,
//! and the resident session.

use crate::common;

use std::collections::HashMap;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    a_resident_signs_in_with_the_code_from_the_outbox,
    wrong_and_expired_codes_are_refused,
    codes_and_searches_are_limited,
    an_unknown_record_gets_the_same_answer,
    forms_without_their_csrf_token_are_refused,
    the_certificate_as_a_qr_code_a_png_and_a_printable_page,
);

/// A browser's part: cookies kept between requests, no redirects followed.
struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Answer {
    status: u16,
    location: String,
    retry_after: Option<String>,
    text: String,
}

impl Visitor {
    fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: TestApp::client_with(None),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, method: &str, r: reqwest::Response) -> Answer {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            assert!(
                v.contains("HttpOnly") && v.contains("SameSite="),
                "cookie {v}"
            );
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = r.status().as_u16();
        assert_ne!(status, 500);
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = header("location").unwrap_or_default();
        let retry_after = header("retry-after");
        let ct = header("content-type").unwrap_or_default();
        let url = r.url().to_string();
        let text = r.text().await.unwrap();
        common::openapi::assert_conforms(method, &url, status, &ct, text.as_bytes());
        Answer {
            status,
            location,
            retry_after,
            text,
        }
    }

    async fn get_bytes(&mut self, path: &str) -> (u16, String, String, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (ct, cd) = (header("content-type"), header("content-disposition"));
        let url = r.url().to_string();
        let bytes = r.bytes().await.unwrap().to_vec();
        common::openapi::assert_conforms("GET", &url, status, &ct, &bytes);
        (status, ct, cd, bytes)
    }

    async fn get(&mut self, path: &str) -> Answer {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        self.keep("GET", r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(form).unwrap();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "en")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep("POST", r).await
    }

    /// The form's CSRF token, as the page carries it.
    fn csrf(page: &str) -> String {
        let field = "name=\"csrf_token\" value=\"";
        let at = page.find(field).expect("a CSRF field");
        let rest = &page[at + field.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// Opens the find form and sends the details.
    async fn find(&mut self, id_number: &str, birth_date: &str) -> Answer {
        let page = self.get("/portal").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = Visitor::csrf(&page.text);
        self.post(
            "/portal/find",
            &[
                ("id_number", id_number),
                ("birth_date", birth_date),
                ("csrf_token", &csrf),
            ],
        )
        .await
    }

    async fn send_code(&mut self, code: &str) -> Answer {
        let page = self.get("/portal/code").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = Visitor::csrf(&page.text);
        self.post("/portal/code", &[("code", code), ("csrf_token", &csrf)])
            .await
    }
}

/// The newest one-time code waiting in the outbox, read as the SMS gateway
/// reads its messages: (phone, code).
async fn code_in_outbox(app: &TestApp) -> Option<(String, String)> {
    let pending = app.store.pending_reminders(i64::MAX, 1000).await.unwrap();
    let m = pending.iter().rfind(|m| m.kind == "portal_code")?;
    let digits: String = m
        .message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)?
        .to_string();
    Some((m.phone.clone().unwrap_or_default(), digits))
}

async fn codes_in_outbox(app: &TestApp) -> usize {
    let pending = app.store.pending_reminders(i64::MAX, 1000).await.unwrap();
    pending.iter().filter(|m| m.kind == "portal_code").count()
}

/// A resident with a phone and one dose: (person id, ID number).
async fn resident(app: &TestApp, serial: u32, name: &str) -> (String, String) {
    let id_number = format!("022185{serial:06}");
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": id_number, "full_name": name,
                    "birth_date": "1985-03-09", "sex": "female", "phone": format!("09120{serial:05}"),
                    "home_area": "0665801", "priority_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    (b["person"]["id"].as_str().unwrap().to_string(), id_number)
}

async fn sql(app: &TestApp, statement: &str) {
    sqlx::query(statement)
        .execute(app.store.pool())
        .await
        .unwrap();
}

async fn a_resident_signs_in_with_the_code_from_the_outbox(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (person, id_number) = resident(&app, 1, "Nguyễn Thị <b>Lan</b>").await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let mut v = Visitor::new(&app);
    // Without a session the record page sends to the find form.
    let a = v.get("/portal/me").await;
    assert_eq!((a.status, a.location.as_str()), (303, "/portal"));
    // Spaces in the ID number are dropped.
    let spaced = format!("{} {}", &id_number[..4], &id_number[4..]);
    let a = v.find(&spaced, "1985-03-09").await;
    assert_eq!((a.status, a.location.as_str()), (303, "/portal/code"));
    let (phone, code) = code_in_outbox(&app).await.expect("a code in the outbox");
    assert_eq!(phone, "0912000001");
    // The code is never on a page.
    let page = v.get("/portal/code").await;
    assert!(!page.text.contains(&code), "{}", page.text);
    assert!(page.text.contains("we have sent a 6-digit code by SMS"));
    let challenge = v.cookies["vaxgrid_portal_challenge"].clone();
    let a = v.send_code(&code).await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (303, "/portal/me"),
        "{}",
        a.text
    );
    assert!(!v.cookies.contains_key("vaxgrid_portal_challenge"));
    assert!(v.cookies.contains_key("vaxgrid_resident"));
    assert!(!v.cookies.contains_key("vaxgrid_session"));
    let me = v.get("/portal/me").await;
    assert_eq!(me.status, 200);
    assert!(
        me.text.contains("Nguyễn Thị &#60;b&#62;Lan&#60;/b&#62;")
            || me.text.contains("&lt;b&gt;Lan"),
        "{}",
        me.text
    );
    assert!(
        me.text.contains("Dose 1") && me.text.contains("1 Jul 2021"),
        "{}",
        me.text
    );
    assert!(me.text.contains("Trạm Y tế Hồng Gai"), "{}", me.text);
    // A used code does not sign in twice.
    let mut other = Visitor::new(&app);
    other
        .cookies
        .insert("vaxgrid_portal_challenge".into(), challenge);
    let a = other.send_code(&code).await;
    assert_eq!(a.status, 401);
    assert!(a.text.contains("The code has expired or was already used"));
    // Once sent, the message no longer holds the code.
    let sent = app.store.pending_reminders(i64::MAX, 10).await.unwrap();
    let m = sent
        .iter()
        .find(|m| m.kind == "portal_code")
        .unwrap()
        .clone();
    assert!(app.store.mark_sent(&m.id).await.unwrap());
    assert!(code_in_outbox(&app).await.is_none());
    // The person's reminders never list codes.
    let (s, list) = app
        .get(&format!("/api/v1/persons/{person}/reminders"))
        .await;
    assert_eq!(s, 200);
    assert!(!list.to_string().contains("portal_code"), "{list}");
    // Signing out ends the session; the form needs the session's token.
    let csrf = Visitor::csrf(&me.text);
    let a = v.post("/portal/logout", &[("csrf_token", "wrong")]).await;
    assert_eq!(a.status, 403);
    let a = v.post("/portal/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/portal"));
    assert!(!v.cookies.contains_key("vaxgrid_resident"));
    let a = v.get("/portal/me").await;
    assert_eq!(a.status, 303);
    app.cleanup().await;
}

async fn wrong_and_expired_codes_are_refused(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (_, id_number) = resident(&app, 2, "Trần Văn Minh").await;
    let mut v = Visitor::new(&app);
    v.find(&id_number, "1985-03-09").await;
    let (_, code) = code_in_outbox(&app).await.unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let a = v.send_code(wrong).await;
    assert_eq!(a.status, 401);
    assert!(
        a.text.contains("Wrong code. You have 4 tries left."),
        "{}",
        a.text
    );
    let a = v.send_code("12ab").await;
    assert_eq!(a.status, 400);
    assert!(
        a.text.contains("The code is exactly 6 digits."),
        "{}",
        a.text
    );
    // Its time passes: the right code is refused as expired.
    app.store.clock().advance(std::time::Duration::from_micros(
        vaxgrid_store::portal::CODE_TTL_MICROS as u64 + 1_000_000,
    ));
    let a = v.send_code(&code).await;
    assert_eq!(a.status, 401);
    assert!(a.text.contains("The code has expired"), "{}", a.text);
    assert!(!v.cookies.contains_key("vaxgrid_resident"));
    // A new code works; the old one never does again.
    v.find(&id_number, "1985-03-09").await;
    let (_, fresh) = code_in_outbox(&app).await.unwrap();
    let a = v.send_code(&fresh).await;
    assert_eq!(a.status, 303, "{}", a.text);
    app.cleanup().await;
}

async fn codes_and_searches_are_limited(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (_, id_number) = resident(&app, 3, "Lê Thị Hoa").await;
    let mut v = Visitor::new(&app);
    v.find(&id_number, "1985-03-09").await;
    let (_, code) = code_in_outbox(&app).await.unwrap();
    let wrong = if code == "999999" { "999998" } else { "999999" };
    // Five wrong tries spend the challenge: even the right code is refused.
    for left in (1..=4).rev() {
        let a = v.send_code(wrong).await;
        assert_eq!(a.status, 401);
        let tries = if left == 1 {
            "1 try left".to_string()
        } else {
            format!("{left} tries left")
        };
        assert!(a.text.contains(&tries), "{}", a.text);
    }
    let a = v.send_code(wrong).await;
    assert!(a.text.contains("typed wrong 5 times"), "{}", a.text);
    let a = v.send_code(&code).await;
    assert_eq!(a.status, 401);
    assert!(a.text.contains("typed wrong 5 times"), "{}", a.text);
    // Three codes per record in 15 minutes; the fourth search is refused
    // with Retry-After, and no code is sent for it.
    v.find(&id_number, "1985-03-09").await;
    v.find(&id_number, "1985-03-09").await;
    assert_eq!(codes_in_outbox(&app).await, 3);
    let a = v.find(&id_number, "1985-03-09").await;
    assert_eq!(a.status, 429, "{}", a.text);
    let wait: i64 = a.retry_after.expect("Retry-After").parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert!(a.text.contains("too many times"), "{}", a.text);
    assert_eq!(codes_in_outbox(&app).await, 3);
    // Codes tried per record: ten an hour, across challenges (six so far).
    sql(&app, "DELETE FROM portal_limits WHERE key LIKE 'find:%'").await;
    v.find(&id_number, "1985-03-09").await;
    for _ in 0..4 {
        let a = v.send_code(wrong).await;
        assert_eq!(a.status, 401, "{}", a.text);
    }
    v.find(&id_number, "1985-03-09").await;
    let (_, code) = code_in_outbox(&app).await.unwrap();
    let a = v.send_code(&code).await;
    assert_eq!(a.status, 429, "{}", a.text);
    assert!(a.retry_after.is_some());
    assert!(a.text.contains("Too many codes tried"), "{}", a.text);
    // Per address: another record from the same address, searched too
    // often, is refused as well.
    sql(&app, "DELETE FROM portal_limits").await;
    for i in 0..20 {
        let a = v.find(&format!("0000000{i:05}"), "1990-01-01").await;
        assert_eq!(a.status, 303, "search {i}: {}", a.text);
    }
    let a = v.find("099999999999", "1990-01-01").await;
    assert_eq!(a.status, 429);
    app.cleanup().await;
}

async fn an_unknown_record_gets_the_same_answer(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (_, id_number) = resident(&app, 4, "Phạm Văn Nam").await;
    let mut known = Visitor::new(&app);
    let mut unknown = Visitor::new(&app);
    let mut wrong_birth = Visitor::new(&app);
    let a = known.find(&id_number, "1985-03-09").await;
    let b = unknown.find("079999000000", "1985-03-09").await;
    let c = wrong_birth.find(&id_number, "1985-03-10").await;
    for x in [&a, &b, &c] {
        assert_eq!((x.status, x.location.as_str()), (303, "/portal/code"));
    }
    assert_eq!(codes_in_outbox(&app).await, 1);
    let pa = known.get("/portal/code").await.text;
    let pb = unknown.get("/portal/code").await.text;
    let csrf = |t: &str| Visitor::csrf(t);
    assert_eq!(pa.replace(&csrf(&pa), ""), pb.replace(&csrf(&pb), ""));
    // A code tried against an unknown record is wrong, worded the same.
    let x = known.send_code("000000").await;
    let y = unknown.send_code("000000").await;
    assert_eq!(x.status, y.status);
    assert_eq!(
        x.text.replace(&csrf(&x.text), ""),
        y.text.replace(&csrf(&y.text), "")
    );
    // Field errors are shown next to the field, keeping what was typed.
    let mut v = Visitor::new(&app);
    let a = v.find("12<script>", "2999-01-01").await;
    assert_eq!(a.status, 400);
    assert!(a.text.contains("id=\"id_number-error\""), "{}", a.text);
    assert!(a.text.contains("id=\"birth_date-error\""), "{}", a.text);
    assert!(
        a.text.contains("value=\"12&#60;script&#62;\"")
            || a.text.contains("value=\"12&lt;script&gt;\""),
        "{}",
        a.text
    );
    app.cleanup().await;
}

async fn forms_without_their_csrf_token_are_refused(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (_, id_number) = resident(&app, 5, "Hoàng Văn An").await;
    let mut v = Visitor::new(&app);
    v.get("/portal").await;
    let a = v
        .post(
            "/portal/find",
            &[
                ("id_number", id_number.as_str()),
                ("birth_date", "1985-03-09"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(codes_in_outbox(&app).await, 0);
    // Another visitor's token does not do either (it is tied to the cookie).
    let mut other = Visitor::new(&app);
    let page = other.get("/portal").await;
    let theirs = Visitor::csrf(&page.text);
    let mut fresh = Visitor::new(&app);
    let a = fresh
        .post(
            "/portal/find",
            &[
                ("id_number", id_number.as_str()),
                ("birth_date", "1985-03-09"),
                ("csrf_token", theirs.as_str()),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    v.find(&id_number, "1985-03-09").await;
    let (_, code) = code_in_outbox(&app).await.unwrap();
    let a = v
        .post(
            "/portal/code",
            &[("code", code.as_str()), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(a.status, 403);
    let a = v.send_code(&code).await;
    assert_eq!(a.status, 303);
    app.cleanup().await;
}

async fn the_certificate_as_a_qr_code_a_png_and_a_printable_page(backend: &str) {
    let app = TestApp::start_with_keys(backend).await;
    app.seed().await;
    let (person, id_number) = resident(&app, 6, "Vũ Thị Mai").await;
    let mut v = Visitor::new(&app);
    // Not signed in: no certificate.
    let (s, _, _, _) = v.get_bytes("/portal/certificate.png").await;
    assert_eq!(s, 303);
    v.find(&id_number, "1985-03-09").await;
    let (_, code) = code_in_outbox(&app).await.unwrap();
    v.send_code(&code).await;
    // No dose yet: nothing to certify, and no link to it.
    let me = v.get("/portal/me").await;
    assert!(!me.text.contains("/portal/certificate"), "{}", me.text);
    let a = v.get("/portal/certificate").await;
    assert_eq!(a.status, 422);
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let me = v.get("/portal/me").await;
    assert!(
        me.text.contains("href=\"/portal/certificate\""),
        "{}",
        me.text
    );
    let page = v.get("/portal/certificate").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("src=\"data:image/png;base64,"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("Dose 1/2 on 1 Jul 2021"),
        "{}",
        page.text
    );
    let (s, ct, cd, png) = v.get_bytes("/portal/certificate.png").await;
    assert_eq!((s, ct.as_str()), (200, "image/png"));
    assert!(
        cd.starts_with("attachment; filename=\"certificate-"),
        "{cd}"
    );
    let hc1 = vaxgrid_interop::qr::read_png(&png).unwrap();
    let (s, verdict) = app.post("/api/v1/dcc/verify", &json!({ "hc1": hc1 })).await;
    assert_eq!(
        (s, verdict["valid"].clone()),
        (200, json!(true)),
        "{verdict}"
    );
    assert_eq!(verdict["dcc"]["nam"]["gn"], "Thị Mai");
    let print = v.get("/portal/certificate/print").await;
    assert_eq!(print.status, 200);
    assert!(print.text.contains("/static/print.css") && print.text.contains("Vũ"));
    app.cleanup().await;
}

mod holds {
    use super::*;
    use vaxgrid_core::access::{Grant, Permission, Role};
    use vaxgrid_store::model::Actor;
    use vaxgrid_store::scheduling::{BookOutcome, BookRequest, HoldOutcome};

    on_both_backends!(
        holds_and_bookings_never_pass_capacity,
        an_expired_hold_gives_its_place_back,
    );

    /// A session tomorrow at S1 with one slot of `places`: (session, starts_at).
    async fn slot(app: &TestApp, places: i64) -> (String, String) {
        let day = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
        let (s, b) = app
            .post(
                "/api/v1/sessions",
                &json!({"site_code": "S1", "day": day, "opens": "08:00", "closes": "09:00",
                        "stations": 1, "per_station_per_hour": places, "slot_minutes": 60}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        (
            b["session"]["id"].as_str().unwrap().to_string(),
            b["slots"][0]["starts_at"].as_str().unwrap().to_string(),
        )
    }

    async fn as_resident(app: &TestApp, person: &str) -> Actor {
        let grants = [Grant {
            role: Role::Resident,
            scope: person.to_string(),
        }];
        Actor {
            name: format!("resident {person}"),
            address: None,
            scope: app
                .store
                .scope_for(&grants, Permission::Book)
                .await
                .unwrap(),
        }
    }

    fn booking(
        person: &str,
        session: &str,
        at: &str,
        by: Actor,
        hold: Option<String>,
    ) -> BookRequest {
        BookRequest {
            id: new_id(),
            person_id: person.to_string(),
            session_id: session.to_string(),
            starts_at: at.to_string(),
            by,
            replaces: None,
            hold,
        }
    }

    /// 3 places, 8 residents at once, half holding then confirming and
    /// half booking straight away: exactly 3 get a place.
    async fn holds_and_bookings_never_pass_capacity(backend: &str) {
        let app = TestApp::start(backend).await;
        app.seed().await;
        let (session, at) = slot(&app, 3).await;
        let mut people = Vec::new();
        for i in 0..8 {
            people.push(resident(&app, 100 + i, &format!("Người {i}")).await.0);
        }
        let mut tasks = Vec::new();
        for (i, person) in people.iter().enumerate() {
            let store = app.store.clone();
            let bookings = app.state.bookings.clone();
            let actor = as_resident(&app, person).await;
            let (person, session, at) = (person.clone(), session.clone(), at.clone());
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    match store
                        .hold_place(&person, &session, &at, 300_000_000, &actor)
                        .await
                        .unwrap()
                    {
                        HoldOutcome::Full => false,
                        HoldOutcome::Held(h) => {
                            let r = bookings
                                .submit(booking(&person, &session, &at, actor, Some(h.id)))
                                .await
                                .unwrap();
                            assert!(matches!(r, BookOutcome::Booked(_)), "a held place books");
                            true
                        }
                    }
                } else {
                    matches!(
                        bookings
                            .submit(booking(&person, &session, &at, actor, None))
                            .await
                            .unwrap(),
                        BookOutcome::Booked(_)
                    )
                }
            }));
        }
        let mut won = 0;
        for t in tasks {
            if t.await.unwrap() {
                won += 1;
            }
        }
        assert_eq!(won, 3);
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (3, 3, 0)
        );
        // The API's booking sees the slot full, and offers nothing there.
        let (s, b) = app
            .post(
                "/api/v1/appointments",
                &json!({"id": new_id(), "person_id": people[0], "session_id": session, "starts_at": at}),
            )
            .await;
        assert_eq!(s, 409, "{b}");
        app.cleanup().await;
    }

    /// A hold takes a place from everyone else until it expires; then the
    /// place is free again and a late confirmation books only if it is.
    async fn an_expired_hold_gives_its_place_back(backend: &str) {
        let app = TestApp::start(backend).await;
        app.seed().await;
        let (session, at) = slot(&app, 1).await;
        let (a, _) = resident(&app, 201, "Người A").await;
        let (b, _) = resident(&app, 202, "Người B").await;
        let actor_a = as_resident(&app, &a).await;
        let actor_b = as_resident(&app, &b).await;
        let HoldOutcome::Held(hold) = app
            .store
            .hold_place(&a, &session, &at, 300_000_000, &actor_a)
            .await
            .unwrap()
        else {
            panic!("the only place is free")
        };
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (1, 0, 1)
        );
        // Held: B can neither hold nor book it, nor the API's staff.
        assert!(matches!(
            app.store
                .hold_place(&b, &session, &at, 300_000_000, &actor_b)
                .await
                .unwrap(),
            HoldOutcome::Full
        ));
        let r = app
            .state
            .bookings
            .submit(booking(&b, &session, &at, actor_b.clone(), None))
            .await
            .unwrap();
        assert!(matches!(r, BookOutcome::Full));
        let (s, _) = app
            .post(
                "/api/v1/appointments",
                &json!({"id": new_id(), "person_id": b, "session_id": session, "starts_at": at}),
            )
            .await;
        assert_eq!(s, 409);
        // A resident cannot hold for someone else.
        assert!(app
            .store
            .hold_place(&a, &session, &at, 300_000_000, &actor_b)
            .await
            .is_err());
        // The hold expires: B books the place, and A's late confirmation
        // finds the slot full.
        app.store
            .clock()
            .advance(std::time::Duration::from_secs(301));
        assert!(app.store.live_hold(&hold.id, &a).await.unwrap().is_none());
        let r = app
            .state
            .bookings
            .submit(booking(&b, &session, &at, actor_b, None))
            .await
            .unwrap();
        assert!(matches!(r, BookOutcome::Booked(_)), "{r:?}");
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (1, 1, 0)
        );
        let r = app
            .state
            .bookings
            .submit(booking(&a, &session, &at, actor_a, Some(hold.id)))
            .await
            .unwrap();
        assert!(matches!(r, BookOutcome::Full));
        // The sweep gives back what expired elsewhere.
        assert_eq!(
            app.store
                .release_expired_holds(vaxgrid_store::now_micros())
                .await
                .unwrap(),
            0
        );
        app.cleanup().await;
    }
}

mod booking_pages {
    use super::*;

    on_both_backends!(booking_forms_need_the_resident_session_and_its_token);

    async fn booking_forms_need_the_resident_session_and_its_token(backend: &str) {
        let app = TestApp::start(backend).await;
        app.seed().await;
        let (person, id_number) = resident(&app, 301, "Đỗ Văn Hùng").await;
        let (s, _) = app
            .post(
                "/api/v1/doses",
                &dose_body(&new_id(), &person, "2021-07-01"),
            )
            .await;
        assert_eq!(s, 201);
        let day = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
        let (s, b) = app
            .post(
                "/api/v1/sessions",
                &json!({"site_code": "S1", "day": day, "opens": "08:00", "closes": "09:00",
                        "stations": 1, "per_station_per_hour": 1, "slot_minutes": 60}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let session = b["session"]["id"].as_str().unwrap().to_string();
        let at = b["slots"][0]["starts_at"].as_str().unwrap().to_string();
        let mut v = Visitor::new(&app);
        // Without a session: to the find form.
        let a = v
            .post(
                "/portal/hold",
                &[
                    ("session_id", &session),
                    ("starts_at", &at),
                    ("csrf_token", "x"),
                ],
            )
            .await;
        assert_eq!((a.status, a.location.as_str()), (303, "/portal"));
        v.find(&id_number, "1985-03-09").await;
        let (_, code) = code_in_outbox(&app).await.unwrap();
        v.send_code(&code).await;
        let me = v.get("/portal/me").await;
        let csrf = Visitor::csrf(&me.text);
        let a = v
            .post(
                "/portal/hold",
                &[
                    ("session_id", &session),
                    ("starts_at", &at),
                    ("csrf_token", "forged"),
                ],
            )
            .await;
        assert_eq!(a.status, 403);
        let a = v
            .post(
                "/portal/hold",
                &[
                    ("session_id", &session),
                    ("starts_at", &at),
                    ("csrf_token", &csrf),
                ],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text);
        let hold = a.location.split("hold=").nth(1).unwrap().to_string();
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (1, 0, 1)
        );
        let id = new_id();
        let form = [
            ("hold", hold.as_str()),
            ("id", id.as_str()),
            ("session_id", session.as_str()),
            ("starts_at", at.as_str()),
            ("csrf_token", csrf.as_str()),
        ];
        let a = v.post("/portal/confirm", &form).await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (303, "/portal/me"),
            "{}",
            a.text
        );
        // A double submit books once.
        let a = v.post("/portal/confirm", &form).await;
        assert_eq!(a.status, 303, "{}", a.text);
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (1, 1, 0)
        );
        let a = v
            .post(
                &format!("/portal/appointments/{id}/cancel"),
                &[("csrf_token", "forged")],
            )
            .await;
        assert_eq!(a.status, 403);
        let a = v
            .post(
                &format!("/portal/appointments/{id}/cancel"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text);
        assert_eq!(
            app.store.slot_counts(&session, &at).await.unwrap(),
            (1, 0, 0)
        );
        app.cleanup().await;
    }

    on_both_backends!(an_appointment_moves_to_another_time);

    /// Moving: the new place held and confirmed with the old appointment
    /// named; the old one freed in the same step; sent twice, moved once;
    /// an appointment not the resident's cannot be moved.
    async fn an_appointment_moves_to_another_time(backend: &str) {
        let app = TestApp::start(backend).await;
        app.seed().await;
        let (person, id_number) = resident(&app, 302, "Đỗ Thị Hoa").await;
        let (other, _) = resident(&app, 303, "Lâm Văn Tú").await;
        let (s, _) = app
            .post(
                "/api/v1/doses",
                &dose_body(&new_id(), &person, "2021-07-01"),
            )
            .await;
        assert_eq!(s, 201);
        let day = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
        let (s, b) = app
            .post(
                "/api/v1/sessions",
                &json!({"site_code": "S1", "day": day, "opens": "08:00", "closes": "10:00",
                        "stations": 1, "per_station_per_hour": 2, "slot_minutes": 60}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let session = b["session"]["id"].as_str().unwrap().to_string();
        let first = b["slots"][0]["starts_at"].as_str().unwrap().to_string();
        let second = b["slots"][1]["starts_at"].as_str().unwrap().to_string();
        let booked = new_id();
        let (s, b) = app
            .post(
                "/api/v1/appointments",
                &json!({"id": booked, "person_id": person, "session_id": session, "starts_at": first}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let theirs = new_id();
        let (s, b) = app
            .post(
                "/api/v1/appointments",
                &json!({"id": theirs, "person_id": other, "session_id": session, "starts_at": first}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let mut v = Visitor::new(&app);
        v.find(&id_number, "1985-03-09").await;
        let (_, code) = code_in_outbox(&app).await.unwrap();
        v.send_code(&code).await;
        let me = v.get(&format!("/portal/me?move={booked}")).await;
        assert_eq!(me.status, 200);
        assert!(me.text.contains("id=\"moving\""), "{}", me.text);
        assert!(
            me.text
                .contains(&format!("name=\"replaces\" value=\"{booked}\"")),
            "{}",
            me.text
        );
        // Someone else's appointment is not offered for a move.
        let me_other = v.get(&format!("/portal/me?move={theirs}")).await;
        assert!(!me_other.text.contains("id=\"moving\""));
        let csrf = Visitor::csrf(&me.text);
        let a = v
            .post(
                "/portal/hold",
                &[
                    ("session_id", &session),
                    ("starts_at", &second),
                    ("csrf_token", &csrf),
                    ("replaces", &booked),
                ],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text);
        let confirm = v.get(&a.location).await;
        assert!(confirm.text.contains("id=\"replaces\""), "{}", confirm.text);
        let hold = a
            .location
            .split("hold=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string();
        // Naming another's appointment: refused, nothing moved.
        let form_with = |replaces: &str, id: &str| {
            vec![
                ("hold".to_string(), hold.clone()),
                ("id".to_string(), id.to_string()),
                ("session_id".to_string(), session.clone()),
                ("starts_at".to_string(), second.clone()),
                ("csrf_token".to_string(), csrf.clone()),
                ("replaces".to_string(), replaces.to_string()),
            ]
        };
        let forged = form_with(&theirs, &new_id());
        let forged: Vec<(&str, &str)> = forged
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = v.post("/portal/confirm", &forged).await;
        assert_eq!(a.status, 409, "{}", a.text);
        assert_eq!(
            app.store.appointment(&theirs).await.unwrap().status,
            "booked"
        );
        let moved = new_id();
        let form = form_with(&booked, &moved);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for _ in 0..2 {
            let a = v.post("/portal/confirm", &form).await;
            assert_eq!(
                (a.status, a.location.as_str()),
                (303, "/portal/me"),
                "{}",
                a.text
            );
        }
        assert_eq!(
            app.store.appointment(&booked).await.unwrap().status,
            "rescheduled"
        );
        assert_eq!(
            app.store.appointment(&moved).await.unwrap().status,
            "booked"
        );
        assert_eq!(
            app.store.slot_counts(&session, &first).await.unwrap(),
            (2, 1, 0)
        );
        assert_eq!(
            app.store.slot_counts(&session, &second).await.unwrap(),
            (2, 1, 0)
        );
        app.cleanup().await;
    }
}
