//! End-to-end: an administrator at work in a real headless Chromium —
//! creating a user and granting a role with the keyboard alone, reading
//! the audit log filtered to what they did and verifying its chain,
//! making a machine token; and a trainer recording a class's exams and
//! seeing who is certified at a site. In Vietnamese and in Chinese, every
//! page checked with axe-core and photographed at 360 and 1280 px; a
//! user named `<script>…` shows as text.

use crate::common;
use crate::harness;

use common::TestApp;
use fantoccini::key::Key;
use fantoccini::Locator;
use harness::*;
use serde_json::json;

const HOSTILE: &str = "<script>alert(1)</script> Trần Thị Lan";

/// Types into whatever holds the focus (keys such as Tab and arrows too).
async fn keys(browser: &Browser, text: &str) {
    browser
        .client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(text)
        .await
        .expect("type");
}

/// The id of the element holding the focus.
async fn focused(browser: &Browser) -> String {
    browser
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Photographs the part of the page from `css` down (the harness's
/// screenshots show the top of a page).
async fn photograph_from(browser: &Browser, css: &str, name: &str) {
    for (width, height) in [(360, 780), (1280, 900)] {
        browser.client.set_window_size(width, height).await.unwrap();
        browser
            .client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![json!(css)],
            )
            .await
            .unwrap();
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(screenshot_dir().join(format!("{name}-{width}.png")), png).unwrap();
    }
    browser.client.set_window_size(1280, 900).await.unwrap();
}

/// Presses a key on the focused element and waits for the page it submits.
async fn submit_with(browser: &Browser, key: Key) {
    browser.mark_page().await;
    keys(browser, &key.to_string()).await;
    browser.wait_new_page().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_a_user_by_keyboard_and_reads_the_audit_log_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    TestApp::make_user(&app.store, "quantri", &["admin"]).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "quantri").await;
    browser.click_link("Người dùng").await;
    assert_eq!(browser.text("h1").await, "Người dùng");
    browser.check("admin-users-vi").await;
    // The new-user form, with the keyboard only: type, Tab, arrows, Enter.
    browser.focus("#u-username").await;
    keys(&browser, "lan.tran").await;
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "u-name");
    keys(&browser, HOSTILE).await;
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "u-role");
    // Down the roles to the vaccinator: administrator, planner, statistics
    // officer, registrar, screener, vaccinator.
    for _ in 0..6 {
        keys(&browser, &Key::Down.to_string()).await;
    }
    let role: String = browser
        .client
        .execute("return document.getElementById('u-role').value", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(role, "vaccinator");
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "u-scope");
    // A site that does not exist first: the error by the field, in Vietnamese.
    keys(&browser, "S9").await;
    submit_with(&browser, Key::Enter).await;
    assert!(
        browser
            .text("#err-scope")
            .await
            .starts_with("Nhập mã địa bàn có thật"),
        "{}",
        browser.body().await
    );
    let typed: String = browser
        .client
        .execute("return document.getElementById('u-name').value", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(typed, HOSTILE, "what was typed is kept");
    browser.check("admin-user-error-vi").await;
    photograph_from(&browser, "#new-h", "admin-user-error-form-vi").await;
    browser.focus("#u-scope").await;
    keys(&browser, &(Key::End.to_string() + &Key::Backspace + "1")).await;
    submit_with(&browser, Key::Enter).await;
    assert_eq!(browser.text("h1").await, "Người dùng: lan.tran");
    assert_eq!(browser.text("#display-name").await, HOSTILE);
    let invitation: String = browser
        .client
        .execute("return document.getElementById('invitation').value", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(invitation.starts_with("vxi_"), "{invitation}");
    assert!(browser
        .text("#grants")
        .await
        .contains("Nhân viên tiêm chủng · S1"));
    browser.check("admin-user-vi").await;
    photograph_from(&browser, "#roles-h", "admin-user-roles-vi").await;
    // A second role, by the keyboard: planner for district 193.
    browser.focus("#g-role").await;
    for _ in 0..2 {
        keys(&browser, &Key::Down.to_string()).await;
    }
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "g-scope");
    keys(&browser, "193").await;
    submit_with(&browser, Key::Enter).await;
    let grants = browser.text("#grants").await;
    assert!(grants.contains("Cán bộ kế hoạch · 193"), "{grants}");
    let (_, u) = app.get("/api/v1/users/lan.tran").await;
    assert_eq!(u["display_name"], HOSTILE);
    assert!(u["grants"].to_string().contains("planner:193"), "{u}");
    // The user list shows the name as text.
    browser.click_link("Tất cả người dùng").await;
    let list = browser.text("#users").await;
    assert!(list.contains(HOSTILE), "{list}");
    // The audit log, filtered to this administrator's changes to lan.tran.
    browser.click_link("Nhật ký kiểm toán").await;
    assert_eq!(
        browser.text("#chain-result").await,
        "Chuỗi nhật ký chưa được kiểm tra lần nào."
    );
    browser.focus("#a-actor").await;
    keys(&browser, "quantri").await;
    browser.type_into("#a-record", "lan.tran").await;
    browser.click("#filter").await;
    let entries = browser.text("#entries").await;
    assert!(
        entries.contains("grant") && entries.contains("quantri"),
        "{entries}"
    );
    assert!(!entries.contains("sign_in"), "{entries}");
    let rows: i64 = serde_json::from_value(
        browser
            .client
            .execute(
                "return document.querySelectorAll('#entries tbody tr').length",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(rows, 1, "{entries}");
    browser.click("#verify-chain").await;
    assert!(browser.url().await.contains("actor=quantri"));
    let result = browser.text("#chain-result").await;
    assert!(result.starts_with("Nguyên vẹn: đã kiểm tra"), "{result}");
    browser.check("admin-audit-vi").await;
    photograph_from(&browser, "#entries-h", "admin-audit-entries-vi").await;
    // In Chinese.
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "审计日志");
    assert!(browser
        .text("#chain-result")
        .await
        .starts_with("完整：已校验"));
    browser.check("admin-audit-zh").await;
    photograph_from(&browser, "#entries-h", "admin-audit-entries-zh").await;
    browser.click_link("用户").await;
    browser.check("admin-users-zh").await;
    photograph_from(&browser, "#users-h", "admin-users-list-zh").await;
    browser.click("a[href='/admin/users/lan.tran']").await;
    assert_eq!(browser.text("#display-name").await, HOSTILE);
    browser.check("admin-user-zh").await;
    // A machine token: its secret shown once.
    browser.click_link("机器令牌").await;
    browser.type_into("#t-username", "lan.tran").await;
    browser.type_into("#t-name", "平板电脑 1").await;
    browser.type_into("#t-grants", "vaccinator:S1").await;
    browser.click("#make-token").await;
    let secret: String = browser
        .client
        .execute(
            "return document.getElementById('token-secret').value",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("vxg_"), "{secret}");
    browser.check("admin-tokens-zh").await;
    photograph_from(&browser, "#list-h", "admin-tokens-list-zh").await;
    browser.click_link("Tiếng Việt").await;
    assert!(!browser.body().await.contains(&secret), "shown once only");
    browser.check("admin-tokens-vi").await;
    for _ in 0..7 {
        app.store
            .login_attempt("lan.tran", "203.0.113.7", &vaxgrid_core::throttle::POLICY)
            .await
            .unwrap();
    }
    browser.click_link("Khóa đăng nhập").await;
    assert!(browser.text("#lockouts").await.contains("203.0.113.7"));
    browser.check("admin-lockouts-vi").await;
    browser.click("#lockouts button[type=submit]").await;
    assert!(browser.body().await.contains("Không có lần khóa nào"));
    browser.close().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_records_exams_and_sees_who_is_certified_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    TestApp::make_user(&app.store, "coach", &["trainer"]).await;
    for (name, display) in [("vacc1", "Đỗ Văn Tiêm"), ("vacc2", HOSTILE)] {
        let (s, b) = app
            .post(
                "/api/v1/users",
                &json!({"username": name, "display_name": display, "grants": ["vaccinator:S1"]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "coach").await;
    browser.click_link("Tập huấn").await;
    assert_eq!(browser.text("h1").await, "Tập huấn nhân viên");
    browser.check("training-vi").await;
    browser.click("#create-class").await;
    assert_eq!(browser.text("h1").await, "Lớp: vaccination");
    for name in ["vacc1", "vacc2"] {
        browser.type_into("#t-attendee", name).await;
        browser.click("#add-attendee").await;
    }
    // A score out of range: the error by the field.
    browser
        .client
        .find(Locator::Css("#e-username option[value=vacc1]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.type_into("#e-score", "120").await;
    browser.click("#record-exam").await;
    assert_eq!(
        browser.text("#err-score").await,
        "Nhập số nguyên từ 0 đến 100."
    );
    browser.check("training-class-error-vi").await;
    browser.type_into("#e-score", "92").await;
    browser.click("#record-exam").await;
    browser
        .client
        .find(Locator::Css("#e-username option[value=vacc2]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.type_into("#e-score", "50").await;
    browser.click("#record-exam").await;
    let attendees = browser.text("#attendees").await;
    assert!(attendees.contains("Đạt: 92/80"), "{attendees}");
    assert!(attendees.contains("Chưa đạt: 50/80"), "{attendees}");
    browser.check("training-class-vi").await;
    photograph_from(&browser, "#exam-h", "training-class-exam-vi").await;
    browser.click_link("Tất cả các lớp").await;
    browser.click("#by-site").await;
    let row = browser.text("#site-S1").await;
    assert!(row.ends_with("2 1 1"), "{row}");
    browser.check("training-sites-vi").await;
    browser.click("a[href='/training/sites/S1']").await;
    let not_yet = browser.text("#not-yet").await;
    assert!(not_yet.contains(HOSTILE), "{not_yet}");
    assert!(browser.text("#certified").await.contains("Đỗ Văn Tiêm"));
    browser.check("training-site-vi").await;
    browser.click_link("中文").await;
    assert!(browser.text("#not-yet").await.contains("考试未通过"));
    browser.check("training-site-zh").await;
    browser.click_link("各接种点持证情况").await;
    browser.check("training-sites-zh").await;
    browser.click_link("全部培训班").await;
    browser.check("training-zh").await;
    browser.close().await;
    app.cleanup().await;
}
