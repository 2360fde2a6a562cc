//! End-to-end: the vaccination table's pages in real Chromium, reached
//! from the menu by staff who sign in by typing; a whole visit from
//! check-in to the end of observation with an adverse event, done by
//! keyboard (typing, Tab, arrows, Space and Enter) as a person does; axe-core
//! clean, screenshots at 360 and 1280 px in Vietnamese and Chinese; a
//! hostile name shows as text.

use crate::common;
use crate::harness;

use common::TestApp;
use fantoccini::key::Key;
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

/// Sends keys to an element (focusing it, as a Tab would) without leaving the page.
async fn keys(browser: &Browser, css: &str, text: &str) {
    browser
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
}

/// Presses Enter on an element (a field submits its form, a button or a
/// link acts) and waits for the next page.
async fn enter(browser: &Browser, css: &str) {
    browser.mark_page().await;
    keys(browser, css, &Key::Enter).await;
    browser.wait_new_page().await;
}

/// Keys to whatever has the focus.
async fn keys_here(browser: &Browser, text: &str) {
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn focused_id(browser: &Browser) -> String {
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .attr("id")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// What the pages say, in each language.
struct Words {
    lang: &'static str,
    state_checked_in: &'static str,
    temperature_error: &'static str,
    observation: &'static str,
    report: &'static str,
    end: &'static str,
    done: &'static str,
    serious: &'static str,
    serious_figure: &'static str,
}

const VI: Words = Words {
    lang: "vi",
    state_checked_in: "Đã đo nhiệt độ, đón tiếp",
    temperature_error: "Hãy nhập nhiệt độ (°C), từ 30 đến 45.",
    observation: "Theo dõi sau tiêm",
    report: "Phản ứng sau tiêm",
    end: "Kết thúc theo dõi",
    done: "Lượt tiêm đã hoàn thành.",
    serious: "nghiêm trọng, đang điều tra",
    serious_figure: "Phản ứng nặng sau tiêm",
};

const ZH: Words = Words {
    lang: "zh",
    state_checked_in: "已签到测温",
    temperature_error: "请填写体温（°C），30 到 45 之间。",
    observation: "留观",
    report: "不良反应",
    end: "结束留观",
    done: "本次接种已完成。",
    serious: "严重，调查中",
    serious_figure: "严重不良反应",
};

/// One whole visit at the table by keyboard: the person found by a name
/// typed without diacritics, the visit opened, check-in (a mistyped
/// temperature first), identity, screening, consent, the dose, the
/// observation board, an adverse event in two key presses from the
/// board (one more for a serious one), half an hour later the end of
/// observation.
#[allow(
    clippy::too_many_arguments,
    reason = "one visit's facts, each language's own"
)]
async fn whole_visit(
    app: &TestApp,
    browser: &Browser,
    w: &Words,
    name: &str,
    typed: &str,
    symptom: &str,
    symptom_words: &str,
    serious: bool,
) {
    let l = w.lang;
    browser.goto(&format!("{}/sites/S1/table", app.base)).await;
    browser.check(&format!("table-visit-queue-{l}")).await;
    // Find the person: type the name, Enter.
    keys(browser, "#find-name", typed).await;
    enter(browser, "#find-name").await;
    assert!(browser.url().await.contains("/sites/S1/table/find?"));
    let found = browser.text("#found").await;
    assert!(found.contains(name), "{found}");
    browser.check(&format!("table-visit-find-{l}")).await;
    // Tab from the vaccine to the button, Enter: the visit opens.
    keys(browser, "#product-1", &Key::Tab).await;
    browser.mark_page().await;
    keys_here(browser, &Key::Enter).await;
    browser.wait_new_page().await;
    assert!(browser.url().await.contains("/sites/S1/table/visits/"));
    let visit = browser.url().await.rsplit('/').next().unwrap().to_string();
    assert_eq!(browser.text("h1").await, name);
    // Check-in: a temperature a thermometer cannot read is refused next to
    // the field, in the page's language, what was typed kept.
    keys(browser, "#temperature_c", "63").await;
    enter(browser, "#temperature_c").await;
    assert_eq!(
        browser.text("#temperature_c-error").await,
        w.temperature_error
    );
    let kept = browser
        .client
        .find(Locator::Css("#temperature_c"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("63"));
    browser
        .check(&format!("table-visit-check-in-error-{l}"))
        .await;
    browser
        .type_into("#temperature_c", if l == "vi" { "36,6" } else { "36.6" })
        .await;
    enter(browser, "#temperature_c").await;
    assert_eq!(browser.text("#visit-state").await, w.state_checked_in);
    // Identity: the document seen is filled in; Enter.
    enter(browser, "#document").await;
    // Screening: Space on the first "no", then Tab to each next question
    // and the arrow to its "no"; Tab to the button, Enter.
    browser.check(&format!("table-visit-screening-{l}")).await;
    keys(browser, "#q-anaphylaxis-no", &Key::Space).await;
    for q in ["acute_illness", "recent_vaccine", "recent_covid"] {
        keys_here(browser, &Key::Tab).await;
        assert_eq!(focused_id(browser).await, format!("q-{q}-yes"));
        keys_here(browser, &Key::Right).await;
        assert_eq!(focused_id(browser).await, format!("q-{q}-no"));
    }
    keys_here(browser, &Key::Tab).await;
    browser.mark_page().await;
    keys_here(browser, &Key::Enter).await;
    browser.wait_new_page().await;
    // Consent, given by the person (their name filled in).
    browser.check(&format!("table-visit-consent-{l}")).await;
    enter(browser, "#consent-yes").await;
    // The dose: the lot usable today is chosen; Enter in the station.
    browser.check(&format!("table-visit-dose-{l}")).await;
    enter(browser, "#station").await;
    assert!(browser.text("#steps").await.contains(w.observation));
    let countdown = browser.text("#countdown").await;
    assert!(
        countdown.starts_with("29:") || countdown.starts_with("30:"),
        "{countdown}"
    );
    browser.check(&format!("table-visit-observation-{l}")).await;
    // The board: two key presses report an adverse event from the row.
    browser.goto(&format!("{}/sites/S1/board", app.base)).await;
    let board = browser.text("#board").await;
    assert!(board.contains(name), "{board}");
    browser.check(&format!("table-visit-board-{l}")).await;
    let report = format!("#board a[href^='/sites/S1/table/visits/{visit}/adverse-event']");
    assert_eq!(browser.text(&report).await, w.report);
    enter(browser, &report).await;
    assert!(browser
        .client
        .find(Locator::Css("#severity-mild"))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap());
    if serious {
        // The serious path: one key more, Space on "serious".
        keys(browser, "#serious-yes", &Key::Space).await;
    }
    browser.check(&format!("table-visit-report-{l}")).await;
    enter(browser, &format!("#symptom-{symptom}")).await;
    let url = browser.url().await;
    assert!(
        url.ends_with("/sites/S1/board"),
        "{url}: {}",
        browser.body().await
    );
    let today = browser.text("#today").await;
    let serious_today = if serious { 1 } else { 0 };
    assert!(
        today.contains(&format!("{}\n{serious_today}", w.serious_figure)),
        "{today}"
    );
    // Half an hour later (the visit's times aged in the database) the
    // board lets the person go.
    app.age_visit(&visit, 31).await;
    browser.goto(&format!("{}/sites/S1/board", app.base)).await;
    assert!(browser.text("#board").await.contains(w.end));
    browser.check(&format!("table-visit-board-end-{l}")).await;
    enter(browser, "#board form button").await;
    assert!(browser.url().await.ends_with("/sites/S1/board"));
    browser.text("#board-empty").await;
    // The visit: done, the reaction reported as serious.
    browser
        .goto(&format!("{}/sites/S1/table/visits/{visit}", app.base))
        .await;
    assert_eq!(browser.text("#outcome").await, w.done);
    let reports = browser.text("#reports").await;
    assert!(reports.contains(symptom_words), "{reports}");
    assert_eq!(reports.contains(w.serious), serious, "{reports}");
    browser.check(&format!("table-visit-done-{l}")).await;
    assert!(browser
        .client
        .find_all(Locator::Css("main script, main img"))
        .await
        .unwrap()
        .is_empty());
    assert!(browser.client.get_alert_text().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_visit_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let hostile = "<script>alert(1)</script> Lò Văn Tiêm";
    app.person(21, hostile).await;
    app.person(22, "李秀英").await;
    TestApp::make_user(&app.store, "nurse1", &["vaccinator:S1"]).await;
    app.certify("nurse1").await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    keys(&browser, "#username", "nurse1").await;
    keys(&browser, "#password", "pw-nurse1").await;
    enter(&browser, "#password").await;
    browser.click_link("Bàn tiêm").await;
    whole_visit(
        &app,
        &browser,
        &VI,
        hostile,
        "lo van tiem",
        "syncope",
        "Ngất",
        false,
    )
    .await;
    browser.click_link("中文").await;
    whole_visit(
        &app,
        &browser,
        &ZH,
        "李秀英",
        "李秀英",
        "anaphylaxis",
        "过敏性休克",
        true,
    )
    .await;
    browser.close().await;
    app.cleanup().await;
}
