//! End-to-end: the resident portal in a real headless Chromium, as a
//! resident uses it: typing the ID number and birth date, reading the
//! one-time code from the outbox (as the SMS gateway would) and typing it,
//! then their doses. Every page is checked with axe-core and photographed
//! at 360 and 1280 px, in Vietnamese and in Chinese.

use crate::common;
use crate::harness;

use common::{dose_body, new_id, TestApp};
use harness::*;
use serde_json::json;

/// The newest one-time code waiting in the outbox.
async fn code_in_outbox(app: &TestApp) -> String {
    let pending = app.store.pending_reminders(i64::MAX, 1000).await.unwrap();
    let m = pending
        .iter()
        .rfind(|m| m.kind == "portal_code")
        .expect("a code in the outbox");
    m.message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("six digits")
        .to_string()
}

async fn resident(app: &TestApp) -> (String, String) {
    let id_number = "022185000042".to_string();
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": id_number, "full_name": "Nguyễn Thị Thu Hương",
                    "birth_date": "1985-03-09", "sex": "female", "phone": "0912000042",
                    "home_area": "0665801", "priority_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let person = b["person"]["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    (person, id_number)
}

/// Finds the record and signs in with the code, in the browser's language.
async fn sign_in(browser: &Browser, app: &TestApp, id_number: &str, lang: &str) {
    browser.type_into("#id_number", id_number).await;
    // A date field takes the digits as typed in the browser's locale
    // (en-US: month, day, year).
    browser.type_into("#birth_date", "03091985").await;
    browser.click("form.portal-form button[type=submit]").await;
    assert!(browser.url().await.ends_with("/portal/code"));
    browser.check(&format!("portal-code-{lang}")).await;
    let code = code_in_outbox(app).await;
    let html = browser.client.source().await.unwrap();
    assert!(!html.contains(&code), "the code is never on the page");
    browser.type_into("#code", &code).await;
    browser.click("form.portal-form button[type=submit]").await;
    assert!(
        browser.url().await.ends_with("/portal/me"),
        "{}",
        browser.url().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_finds_their_record_with_a_code_in_chromium() {
    let app = TestApp::start_with_keys("sqlite").await;
    app.seed().await;
    let (_, id_number) = resident(&app).await;
    let day = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
    let (s, b) = app
        .post(
            "/api/v1/sessions",
            &json!({"site_code": "S1", "day": day, "opens": "08:00", "closes": "10:00",
                    "stations": 1, "per_station_per_hour": 2, "slot_minutes": 60}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let browser = Browser::start().await;
    // Vietnamese: from the menu of the home page.
    browser
        .goto(&format!("{}/lang?set=vi&back=/", app.base))
        .await;
    browser.click_link("Hồ sơ tiêm chủng của tôi").await;
    assert_eq!(browser.text("h1").await, "Tra cứu hồ sơ tiêm chủng của tôi");
    browser.check("portal-find-vi").await;
    // A mistyped number is shown next to its field, and what was typed stays.
    browser.type_into("#id_number", "0221-85").await;
    browser.type_into("#birth_date", "03091985").await;
    browser.click("form.portal-form button[type=submit]").await;
    assert_eq!(
        browser.text("#id_number-error").await,
        "Hãy nhập số giấy tờ gồm chữ và số (tối đa 32 ký tự)."
    );
    browser.check("portal-find-error-vi").await;
    sign_in(&browser, &app, &id_number, "vi").await;
    assert_eq!(browser.text("h1").await, "Hồ sơ tiêm chủng của tôi");
    assert_eq!(browser.text("#resident-name").await, "Nguyễn Thị Thu Hương");
    let doses = browser.text("#doses").await;
    assert!(
        doses.contains("Mũi 1") && doses.contains("01/07/2021"),
        "{doses}"
    );
    assert!(doses.contains("Trạm Y tế Hồng Gai"), "{doses}");
    browser.check("portal-me-vi").await;
    // Book: choose a time, the place is held while confirming, then booked.
    browser.click("#free-slots li:first-child button").await;
    assert_eq!(browser.text("h1").await, "Xác nhận lịch hẹn");
    assert!(browser.text("#held-for").await.contains("phút"));
    browser.check("portal-confirm-vi").await;
    browser.click("#confirm-booking").await;
    assert!(browser.url().await.ends_with("/portal/me"));
    let booked = browser.text("#appointments").await;
    assert!(
        booked.contains("08:00") && booked.contains("Trạm Y tế Hồng Gai"),
        "{booked}"
    );
    browser.check("portal-booked-vi").await;
    // Move it to nine o'clock: the new place held, the old one named, then
    // the old appointment replaced by the new one.
    browser.click_link("Đổi sang giờ khác").await;
    assert!(browser.text("#moving").await.contains("08:00"));
    browser.check("portal-move-vi").await;
    browser.click("#free-slots li:last-child button").await;
    assert!(browser.text("#replaces").await.contains("08:00"));
    browser.check("portal-confirm-move-vi").await;
    browser.click("#confirm-booking").await;
    let moved = browser.text("#appointments").await;
    assert!(
        moved.contains("09:00") && !moved.contains("08:00"),
        "{moved}"
    );
    // The certificate: a QR code, a PNG to save, a page to print.
    browser.click("#certificate-link").await;
    assert_eq!(browser.text("h1").await, "Chứng nhận tiêm chủng");
    let dose = browser.text("#certificate-dose").await;
    assert!(dose.contains("Mũi 1/2 ngày 01/07/2021"), "{dose}");
    browser.check("portal-certificate-vi").await;
    // What the download link gives, fetched as the browser would save it.
    let png = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(document.querySelector('#certificate-png').href)
                 .then(r => r.arrayBuffer())
                 .then(b => done(Array.from(new Uint8Array(b))), e => done('failed: ' + e));"#,
            vec![],
        )
        .await
        .unwrap();
    let png: Vec<u8> = serde_json::from_value(png).expect("the PNG's bytes");
    let hc1 = vaxgrid_interop::qr::read_png(&png).expect("a QR code in the PNG");
    let (s, verdict) = app.post("/api/v1/dcc/verify", &json!({ "hc1": hc1 })).await;
    assert_eq!(
        (s, verdict["valid"].clone()),
        (200, json!(true)),
        "{verdict}"
    );
    assert_eq!(verdict["dcc"]["dob"], "1985-03-09");
    browser.click("#certificate-print").await;
    assert_eq!(browser.text("h1").await, "Chứng nhận tiêm chủng");
    assert!(browser.body().await.contains("Nguyễn Thị Thu Hương"));
    browser.check("portal-certificate-print-vi").await;
    browser.click_link("Quay lại chứng nhận").await;
    browser.click_link("Quay lại hồ sơ của tôi").await;
    browser.click("#portal-sign-out").await;
    assert!(browser.url().await.ends_with("/portal"));
    // Chinese.
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "查询我的接种记录");
    browser.check("portal-find-zh").await;
    sign_in(&browser, &app, &id_number, "zh").await;
    assert_eq!(browser.text("h1").await, "我的接种记录");
    let doses = browser.text("#doses").await;
    assert!(
        doses.contains("第 1 剂") && doses.contains("2021年7月1日"),
        "{doses}"
    );
    browser.check("portal-me-zh").await;
    // Cancel the appointment booked before: its place is free again.
    browser.click("#appointments li:first-child button").await;
    assert_eq!(
        browser.text("#appointments-heading + p").await,
        "您还没有预约。"
    );
    browser.click("#certificate-link").await;
    assert_eq!(browser.text("h1").await, "疫苗接种证书");
    browser.check("portal-certificate-zh").await;
    browser.close().await;
    app.cleanup().await;
}
