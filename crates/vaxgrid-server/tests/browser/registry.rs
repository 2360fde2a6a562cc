//! End-to-end, in Chromium: the registry and administration pages used by
//! clicking and typing, every page checked with axe-core, at 360 px and
//! 1280 px, photographed in Vietnamese and Chinese.

use crate::common;
use crate::harness;

use common::{dose_body, new_id, TestApp};
use fantoccini::Locator;
use harness::*;
use serde_json::json;

const HOSTILE: &str = "<script>alert(1)</script> \"><img src=x onerror=alert(1)> Lò";

async fn sign_in(browser: &Browser, app: &TestApp, lang: &str, username: &str) {
    browser
        .goto(&format!("{}/lang?set={lang}&back=/login", app.base))
        .await;
    browser.type_into("#username", username).await;
    browser
        .type_into("#password", &format!("pw-{username}"))
        .await;
    browser.click("form.stack button[type=submit]").await;
}

/// No element a hostile name could have become, no alert from it.
async fn assert_no_markup_from_names(browser: &Browser) {
    assert!(browser
        .client
        .find_all(Locator::Css("main img, main script"))
        .await
        .unwrap()
        .is_empty());
    assert!(browser.client.get_alert_text().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_and_reading_a_record_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let an = app.person(1, "Nguyễn Văn An").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &an, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022180000009", "full_name": HOSTILE,
                    "birth_date": "1980-01-02", "sex": "female", "home_area": "0665801"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    TestApp::make_user(&app.store, "planner193", &["planner:193"]).await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "vi", "planner193").await;
    browser.click_link("Sổ đăng ký").await;
    assert_eq!(browser.text("h1").await, "Sổ đăng ký dân cư");
    browser.check("registry-search-vi").await;
    // A name typed without diacritics.
    browser.type_into("#name", "nguyen van").await;
    browser.click("form.search button[type=submit]").await;
    assert_eq!(browser.text("#results a").await, "Nguyễn Văn An");
    browser.check("registry-results-vi").await;
    browser.click_link("Nguyễn Văn An").await;
    assert_eq!(browser.text("h1").await, "Nguyễn Văn An");
    let doses = browser.text("#doses").await;
    assert!(
        doses.contains("01/07/2021") && doses.contains("AZ-1"),
        "{doses}"
    );
    browser.check("registry-person-vi").await;
    // The hostile name, as text, in the results and on its record.
    browser.click_link("Quay lại tìm kiếm").await;
    browser.type_into("#name", "lo").await;
    browser.click("form.search button[type=submit]").await;
    assert_eq!(browser.text("#results a").await, HOSTILE);
    assert_no_markup_from_names(&browser).await;
    browser.click("#results a").await;
    assert_eq!(browser.text("h1").await, HOSTILE);
    assert_no_markup_from_names(&browser).await;
    browser.check("registry-hostile-vi").await;
    // In Chinese, by ID number.
    browser.click_link("中文").await;
    browser.click_link("返回查询").await;
    browser.type_into("#id_number", "022080000001").await;
    browser.click("form.search button[type=submit]").await;
    browser.check("registry-results-zh").await;
    browser.click_link("Nguyễn Văn An").await;
    let summary = browser.text("#dose-summary").await;
    assert!(summary.contains("有效剂次 1 剂"), "{summary}");
    browser.check("registry-person-zh").await;
    browser.close().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correcting_a_dose_reissues_the_certificate_in_chromium() {
    let app = TestApp::start_with_keys("sqlite").await;
    app.seed().await;
    let an = app.person(3, "Trần Thị Mai").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &an, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, cert) = app
        .post(&format!("/api/v1/persons/{an}/certificate"), &json!({}))
        .await;
    assert_eq!(s, 201, "{cert}");
    let first_uvci = cert["uvci"].as_str().unwrap().to_string();
    let browser = Browser::start().await;
    sign_in(&browser, &app, "vi", "admin").await;
    browser.click_link("Sổ đăng ký").await;
    browser.type_into("#name", "tran thi mai").await;
    browser.click("form.search button[type=submit]").await;
    browser.click_link("Trần Thị Mai").await;
    let certs = browser.text("#certificates").await;
    assert!(
        certs.contains(&first_uvci) && certs.contains("Còn hiệu lực"),
        "{certs}"
    );
    browser.click("a.correct").await;
    assert_eq!(browser.text("h1").await, "Sửa mũi tiêm");
    browser.check("registry-correct-vi").await;
    // No reason: the error next to the field, what was typed kept.
    browser.type_into("#lot_number", "AZ-1").await;
    browser.click("#correct-form button[type=submit]").await;
    assert_eq!(
        browser.text("#reason-error").await,
        "Hãy nhập lý do (1 đến 500 ký tự)."
    );
    let kept = browser
        .client
        .find(Locator::Css("#lot_number"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("AZ-1"));
    browser.check("registry-correct-error-vi").await;
    browser.type_into("#reason", "Nhập nhầm ngày tiêm").await;
    browser.type_into("#administered_on", "07022021").await;
    browser.click("#correct-form button[type=submit]").await;
    assert_eq!(browser.text("h1").await, "Trần Thị Mai");
    let doses = browser.text("#doses").await;
    assert!(doses.contains("Nhập nhầm ngày tiêm"), "{doses}");
    assert!(doses.contains("02/07/2021"), "{doses}");
    let certs = browser.text("#certificates").await;
    assert!(certs.contains("Đã thu hồi"), "{certs}");
    assert_eq!(certs.matches("Còn hiệu lực").count(), 1, "{certs}");
    browser.check("registry-corrected-vi").await;
    browser.click_link("中文").await;
    browser.check("registry-corrected-zh").await;
    browser.close().await;
    app.cleanup().await;
}

/// Person `name` (a man born on 2 March 1970) in commune 0665801.
async fn man_of_1970(app: &TestApp, number: &str, name: &str) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": number, "full_name": name,
                    "birth_date": "1970-03-02", "sex": "male", "home_area": "0665801"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_two_records_of_one_person_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let first = man_of_1970(&app, "022070000011", "Trần Văn Bình").await;
    let second = man_of_1970(&app, "022070000012", "Tran Van Binh").await;
    for (person, date) in [(&first, "2021-07-01"), (&second, "2021-08-05")] {
        let (s, b) = app
            .post("/api/v1/doses", &dose_body(&new_id(), person, date))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    TestApp::make_user(&app.store, "planner193", &["planner:193"]).await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "vi", "planner193").await;
    browser.click_link("Hồ sơ trùng").await;
    assert_eq!(browser.text("h1").await, "Rà soát hồ sơ trùng");
    browser.check("registry-duplicates-vi").await;
    // The pair, opened from the keyboard.
    browser.focus("#pairs a").await;
    browser.enter().await;
    assert_eq!(browser.text("h1").await, "Đối chiếu hai hồ sơ");
    let preview = browser.text("#preview-summary").await;
    assert!(preview.starts_with("2 mũi hợp lệ"), "{preview}");
    browser.check("registry-duplicate-pair-vi").await;
    // Keep the record with diacritics: the swap link when it is second.
    if !browser.text("#survivor-h").await.contains("Trần Văn Bình") {
        browser.focus("#swap").await;
        browser.enter().await;
    }
    // Merge without a reason: Tab from the reason to the button, Enter.
    browser.focus("#merge_reason").await;
    browser.keys(TAB).await;
    assert!(browser.focused().await.starts_with("#merge-submit"));
    browser.enter().await;
    assert_eq!(
        browser.text("#merge_reason-error").await,
        "Hãy ghi lý do vì sao hai hồ sơ là cùng một người."
    );
    browser.check("registry-duplicate-error-vi").await;
    browser.focus("#merge_reason").await;
    browser.keys("Cùng người: CMND cũ và CCCD mới").await;
    browser.keys(TAB).await;
    browser.enter().await;
    assert_eq!(browser.text("h1").await, "Trần Văn Bình");
    let doses = browser.text("#doses").await;
    assert!(
        doses.contains("01/07/2021") && doses.contains("05/08/2021"),
        "{doses}"
    );
    assert_eq!(
        app.store.person(&second).await.unwrap().merged_into,
        Some(first.clone())
    );
    browser.click_link("中文").await;
    browser.click_link("重复档案").await;
    assert!(browser.body().await.contains("没有待审核的档案对"));
    browser.check("registry-duplicates-zh").await;
    browser.close().await;
    app.cleanup().await;
}
