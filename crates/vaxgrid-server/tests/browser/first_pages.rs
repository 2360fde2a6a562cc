//! End-to-end: the pages in a real headless Chromium, driven through
//! WebDriver (Debian's chromedriver) as a person uses them: clicking links
//! and buttons, typing into fields. Every page visited is checked with
//! axe-core (no serious or critical accessibility violation) and
//! photographed at phone and desktop widths under
//! `$CARGO_TARGET_DIR/e2e-screenshots/` (or `target/e2e-screenshots/`).

use crate::common;
use crate::harness;

use std::time::Duration;

use common::{dose_body, new_id, TestApp};
use fantoccini::Locator;
use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_in_three_languages_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let person = app.person(1, "Đặng Thị Hoa").await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let browser = Browser::start().await;
    // The browser asks for English first.
    browser.goto(&format!("{}/", app.base)).await;
    assert_eq!(browser.text("h1").await, "Vaccination coverage");
    assert_eq!(browser.text("#area-22").await, "Quảng Ninh");
    let body = browser.body().await;
    assert!(
        body.contains("1 resident · 1 with ≥1 dose (100.0%) · 0 completed (0.0%)"),
        "{body}"
    );
    let daily = browser.text("svg[aria-label='Doses per day'] title").await;
    assert!(daily.is_empty() || daily.contains("dose"), "{daily}");
    let html = browser.client.source().await.unwrap();
    assert!(html.contains("<title>1 Jul 2021: 1 dose</title>"), "{html}");
    assert!(html.contains("Hạ Long") && html.contains("Móng Cái"));
    browser.check("home-en").await;
    // The switch: Vietnamese, kept in a cookie for the next pages.
    browser.click_link("Tiếng Việt").await;
    assert_eq!(browser.text("h1").await, "Độ bao phủ tiêm chủng");
    let body = browser.body().await;
    assert!(
        body.contains("1 người dân · 1 người đã tiêm ≥1 mũi (100,0%)"),
        "{body}"
    );
    let html = browser.client.source().await.unwrap();
    assert!(html.contains("<title>01/07/2021: 1 mũi</title>"), "{html}");
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    browser.check("home-vi").await;
    browser.click_link("Kiểm tra chứng nhận").await;
    assert_eq!(browser.text("h1").await, "Kiểm tra chứng nhận");
    browser.check("verify-vi").await;
    // Chinese, back on the same page.
    browser.click_link("中文").await;
    assert!(
        browser.url().await.ends_with("/verify"),
        "{}",
        browser.url().await
    );
    assert_eq!(browser.text("h1").await, "核验证书");
    browser.check("verify-zh").await;
    browser.click_link("接种覆盖率").await;
    let body = browser.body().await;
    assert!(
        body.contains("居民 1 人 · 至少接种一剂 1 人（100.0%）"),
        "{body}"
    );
    browser.check("home-zh").await;
    browser.close().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out_by_typing_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    TestApp::make_user(&app.store, "planner22", &["planner:22"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    assert_eq!(browser.text("h1").await, "Đăng nhập");
    browser.check("login-vi").await;
    browser.type_into("#username", "planner22").await;
    browser.type_into("#password", "wrong").await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(
        browser.text("#login-error").await,
        "Tên đăng nhập không tồn tại hoặc mật khẩu sai."
    );
    // What was typed stays; the password does not.
    let kept = browser
        .client
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("planner22"));
    browser.check("login-error-vi").await;
    browser.type_into("#password", "pw-planner22").await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(browser.text(".who .user").await, "planner22");
    assert_eq!(browser.text("h1").await, "Độ bao phủ tiêm chủng");
    browser.check("home-signed-in-vi").await;
    browser.click(".who button").await;
    assert!(browser.url().await.ends_with("/login"));
    assert_eq!(browser.text(".who a").await, "Đăng nhập");
    browser.close().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_page_by_typing_a_certificate_in_chromium() {
    let app = TestApp::start_with_keys("sqlite").await;
    app.seed().await;
    // A hostile name shows as text, never as markup.
    let person = app
        .person(
            2,
            "<script>alert(1)</script> \"><img src=x onerror=alert(1)>",
        )
        .await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, cert) = app
        .post(
            &format!("/api/v1/persons/{person}/certificate"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 201, "{cert}");
    let hc1: String = cert["hc1"].as_str().unwrap().into();
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=zh&back=/verify", app.base))
        .await;
    browser.type_into("#hc1", &hc1).await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(browser.text("#verdict h2").await, "有效的疫苗接种证书");
    let holder = browser.text("#verdict b").await;
    assert!(holder.contains("<script>alert(1)</script>"), "{holder}");
    assert!(holder.contains("<img src=x onerror=alert(1)>"), "{holder}");
    let images = browser
        .client
        .find_all(Locator::Css("#verdict img, main script"))
        .await
        .unwrap();
    assert!(images.is_empty(), "the name became markup");
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "a script from the name ran"
    );
    let dose = browser.text("#verdict p:last-child").await;
    assert!(dose.contains("第 1/2 剂，接种日期 2021年7月1日"), "{dose}");
    browser.check("verify-valid-zh").await;
    // A tampered text: not valid, with the failing layer.
    browser.type_into("#hc1", &hc1[..hc1.len() - 8]).await;
    browser.click("form.stack button[type=submit]").await;
    assert_eq!(browser.text("#verdict h2").await, "无效");
    browser.check("verify-invalid-zh").await;
    browser.close().await;
    app.cleanup().await;
}

/// An event time `minutes` from now (events may not be in the future).
fn minutes_from_now(minutes: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Takes a person through the table up to the dose: they are then in
/// observation for 30 minutes from a minute ago.
async fn vaccinate_now(app: &TestApp, person: &str) {
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &serde_json::json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let visit = v["id"].as_str().unwrap().to_string();
    let no = [
        "anaphylaxis",
        "acute_illness",
        "recent_vaccine",
        "recent_covid",
    ]
    .map(|q| serde_json::json!({"question_id": q, "yes": false}));
    for event in [
        serde_json::json!({"kind": "check_in", "at": minutes_from_now(-5), "temperature_c": 36.7}),
        serde_json::json!({"kind": "identity_check", "at": minutes_from_now(-4), "document": "cccd"}),
        serde_json::json!({"kind": "screening", "at": minutes_from_now(-3), "questionnaire_version": "default-1", "answers": no}),
        serde_json::json!({"kind": "consent", "at": minutes_from_now(-2), "by": "self", "consent_text_version": "2021-07", "for_person_id": person}),
        serde_json::json!({"kind": "dose", "at": minutes_from_now(-1), "lot_number": "AZ-1", "station": "B1"}),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/visits/{visit}/events"), &event)
            .await;
        assert_eq!(s, 200, "{event}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_board_counts_down_the_observation_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &serde_json::json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let hostile = "\"><img src=x onerror=alert(1)> <script>alert(2)</script>";
    let first = app.person(11, hostile).await;
    let second = app.person(12, "Nguyễn Thị Lan").await;
    vaccinate_now(&app, &first).await;
    vaccinate_now(&app, &second).await;
    TestApp::make_user(&app.store, "nurse1", &["vaccinator:S1"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.type_into("#username", "nurse1").await;
    browser.type_into("#password", "pw-nurse1").await;
    browser.click("form.stack button[type=submit]").await;
    // The menu of site staff leads to their site's board.
    browser.click_link("Điểm tiêm hôm nay").await;
    assert!(browser.url().await.ends_with("/sites/S1/board"));
    assert_eq!(browser.text("h1").await, "Trạm Y tế Hồng Gai");
    let today = browser.text("#today").await;
    assert!(today.contains("Đã tiêm\n2"), "{today}");
    assert!(today.contains("Đang theo dõi\n2"), "{today}");
    let board = browser.text("#board").await;
    assert!(board.contains(hostile), "{board}");
    assert!(board.contains("Nguyễn Thị Lan"), "{board}");
    assert!(browser
        .client
        .find_all(Locator::Css("#board img, main script"))
        .await
        .unwrap()
        .is_empty());
    assert!(browser.client.get_alert_text().await.is_err());
    // The script counts down each second: 29:xx or 28:xx, changing.
    let countdown = || async {
        browser
            .client
            .find(Locator::Css("#board .countdown"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = countdown().await;
    assert!(
        before.starts_with("29:") || before.starts_with("28:"),
        "{before}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = countdown().await;
    assert_ne!(before, after, "the countdown does not tick");
    browser.check("site-board-vi").await;
    browser.click_link("中文").await;
    assert!(browser.text("#today").await.contains("已接种\n2"));
    browser.check("site-board-zh").await;
    // Another site's board is absent for this nurse.
    browser.goto(&format!("{}/sites/S2/board", app.base)).await;
    assert_eq!(browser.text("h1").await, "未找到");
    browser.close().await;
    app.cleanup().await;
}
