//! End-to-end: the vaccination table's pages in real Chromium, reached
//! from the menu by a registrar who signs in by typing; axe-core clean,
//! screenshots at 360 and 1280 px in Vietnamese and Chinese; a hostile
//! name shows as text.

mod common;
#[path = "e2e/harness.rs"]
mod harness;

use common::TestApp;
use fantoccini::Locator;
use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_of_today_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let hostile = "<script>alert(1)</script> \"><img src=x onerror=alert(1)>";
    let walk_in = app.person(1, hostile).await;
    app.person(2, "Nguyễn Thị Lan").await;
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &serde_json::json!({"person_id": walk_in, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    TestApp::make_user(&app.store, "reg1", &["registrar:S1"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.type_into("#username", "reg1").await;
    browser.type_into("#password", "pw-reg1").await;
    browser.click("form.stack button[type=submit]").await;
    browser.click_link("Bàn tiêm").await;
    assert!(browser.url().await.ends_with("/sites/S1/table"));
    assert_eq!(
        browser.text("h1").await,
        "Bàn tiêm chủng · Trạm Y tế Hồng Gai"
    );
    let queue = browser.text("#queue").await;
    assert!(queue.contains(hostile), "{queue}");
    assert!(
        queue.contains("Đến trực tiếp") && queue.contains("Đã đến"),
        "{queue}"
    );
    assert!(browser
        .client
        .find_all(Locator::Css("#queue img, main script"))
        .await
        .unwrap()
        .is_empty());
    assert!(browser.client.get_alert_text().await.is_err());
    browser.check("table-queue-vi").await;
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "接种台 · Trạm Y tế Hồng Gai");
    assert!(browser.text("#queue").await.contains("现场登记"));
    browser.check("table-queue-zh").await;
    browser.goto(&format!("{}/sites/S9/table", app.base)).await;
    assert_eq!(browser.text("h1").await, "未找到");
    browser.close().await;
    app.cleanup().await;
}
