//! End-to-end: a planner at work in a real headless Chromium, signing in
//! by typing, drilling down from the province to a village on the
//! dashboard and opening the list behind a figure; in Vietnamese and in
//! Chinese, every page checked with axe-core and photographed at 360 and
//! 1280 px.

mod common;
#[path = "e2e/harness.rs"]
mod harness;

use common::{dose_body, new_id, TestApp};
use harness::*;
use serde_json::json;

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

/// Province 22 with a campaign over it, a wave running and the target
/// split to the districts; residents in village 0665801, one vaccinated.
async fn world(app: &TestApp) {
    app.seed().await;
    let done = app.person(1, "Đặng Thị Hoa").await;
    app.person(2, "Lê Văn Chờ").await;
    app.person(3, "Phạm Thị <b>Ngọc</b>").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &done, &day(0)))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, c) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Tiêm chủng COVID-19 năm 2026", "disease": "COVID-19", "area_code": "22", "products": ["AZ"],
                    "priority_groups": ["frontline"], "target_percent": 80.0, "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let campaign = c["id"].as_str().unwrap();
    let (s, w) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/waves"),
            &json!({"name": "Đợt 1", "starts_on": day(-1), "ends_on": day(30), "eligible_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let (s, t) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/targets"),
            &json!({"area": "22"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
}

async fn sign_in(browser: &Browser, base: &str, user: &str) {
    browser.goto(&format!("{base}/login")).await;
    browser.type_into("#username", user).await;
    browser.type_into("#password", &format!("pw-{user}")).await;
    browser.click("form.stack button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_drills_down_from_province_to_village_in_chromium() {
    let app = TestApp::start("sqlite").await;
    world(&app).await;
    TestApp::make_user(&app.store, "planner22", &["planner:22"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    sign_in(&browser, &app.base, "planner22").await;
    // The menu leads to the dashboard; one area: straight to the province.
    browser.click_link("Bảng theo dõi").await;
    assert!(browser.url().await.ends_with("/planner/areas/22"));
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Quảng Ninh");
    assert_eq!(browser.text("#by-area").await, "Quận, huyện");
    let body = browser.body().await;
    assert!(body.contains("Chỉ tiêu ngày"), "{body}");
    browser.check("planner-province-vi").await;
    browser.click_link("Hạ Long").await;
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Hạ Long");
    assert_eq!(browser.text("#by-area").await, "Xã, phường, thị trấn");
    browser.check("planner-district-vi").await;
    browser.click_link("Hồng Gai").await;
    assert_eq!(browser.text("#by-area").await, "Thôn, khu phố");
    let row = browser.text("#area-0665801").await;
    assert!(row.starts_with("Khu 1 3 1"), "{row}");
    assert!(row.contains("33,3%"), "{row}");
    browser.check("planner-commune-vi").await;
    // The trail goes back up.
    browser.click(".crumbs a[href='/planner/areas/193']").await;
    assert_eq!(browser.text("h1").await, "Độ bao phủ: Hạ Long");
    browser.click_link("Hồng Gai").await;
    // The "not yet" figure of the village opens the printable list of
    // those not yet vaccinated there.
    browser.click("#area-0665801 td:nth-of-type(4) a").await;
    assert!(browser.url().await.contains("status=not_yet"));
    let list = browser.body().await;
    assert!(list.contains("Lê Văn Chờ"), "{list}");
    assert!(list.contains("Phạm Thị <b>Ngọc</b>"), "{list}");
    assert!(!list.contains("Đặng Thị Hoa"), "{list}");
    browser.check("planner-survey-not-yet-vi").await;
    // In Chinese.
    browser
        .goto(&format!("{}/planner/areas/06658", app.base))
        .await;
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "接种覆盖率：Hồng Gai");
    assert_eq!(browser.text("#by-area").await, "村（社区）");
    browser.check("planner-commune-zh").await;
    browser.click(".crumbs a[href='/planner/areas/22']").await;
    browser.check("planner-province-zh").await;
    // An area outside the planner's: the 404 page.
    browser
        .goto(&format!("{}/planner/areas/99", app.base))
        .await;
    let body = browser.body().await;
    assert!(
        body.contains("404") || !body.contains("Quảng Ninh"),
        "{body}"
    );
    browser.close().await;
    app.cleanup().await;
}
