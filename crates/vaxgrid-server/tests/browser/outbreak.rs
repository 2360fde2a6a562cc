//! End-to-end: the outbreak pages in a real headless Chromium, by the
//! keyboard. In Vietnamese, a commune's rapid-response team goes from the
//! menu to today's check list, has a temperature typed as words refused
//! next to the field, then records a check with fever and low SpO2 from
//! the person's row — which then shows as checked, with its alerts on top
//! and on the alert list. In Chinese, the case's page with its contact
//! graph (F0–F3 coloured) and its table; then a province's responder
//! records a pool positive in a laboratory's queue (its re-tests queue up)
//! and plans the 10,000-case scenario, an edit refused at the field. Every
//! page checked with axe-core and photographed at 360 and 1280 px.

use crate::common;
use crate::harness;

use common::outbreak::{a_hub_and_its_contacts, days_ago, lab_with_samples};
use common::{dose_body, new_id, TestApp};
use fantoccini::key::Key;
use harness::*;
use serde_json::json;

async fn count(browser: &Browser, css: &str) -> i64 {
    browser
        .client
        .execute(
            "return document.querySelectorAll(arguments[0]).length",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

async fn resident(app: &TestApp, serial: u32, name: &str) -> String {
    common::outbreak::resident(app, serial, name, "0665801").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_checks_by_keyboard_and_a_case_graph_is_read_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let a = resident(&app, 1, "Nguyễn Văn An").await;
    let b = resident(&app, 2, "Trần Thị Bình").await;
    let c = resident(&app, 3, "Phạm Thị Cúc").await;
    let d = resident(&app, 4, "Lê Văn Dũng").await;
    let e = resident(&app, 5, "Đỗ Thị Em").await;
    let (s, r) = app
        .post(
            "/api/v1/outbreak/cases",
            &json!({"person_id": a, "confirmed_on": days_ago(4), "test_kind": "pcr", "severity": "moderate",
                    "treated_at": "Bệnh viện số 2"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    for (source, person, setting) in [
        (&a, &b, "household"),
        (&b, &c, "work"),
        (&b, &d, "household"),
        (&c, &e, "transport"),
    ] {
        let (s, r) = app
            .post(
                "/api/v1/outbreak/contacts",
                &json!({"source_person_id": source, "contact_person_id": person,
                        "exposure_date": days_ago(5), "setting": setting}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let (s, r) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &c, "2021-08-01"))
        .await;
    assert_eq!(s, 201, "{r}");
    for p in [&c, &d] {
        let (s, r) = app
            .post(
                "/api/v1/outbreak/isolations",
                &json!({"person_id": p, "start_on": days_ago(2), "home_possible": true}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    for n in [2, 1] {
        let (s, r) = app
            .post(
                "/api/v1/outbreak/checks",
                &json!({"person_id": c, "day": days_ago(n), "present": true, "temperature_c": 36.9, "spo2": 98}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    TestApp::make_user(&app.store, "doi-hong-gai", &["epidemic_responder:06658"]).await;
    TestApp::make_user(&app.store, "cdc-tinh", &["epidemic_responder:22"]).await;

    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "doi-hong-gai").await;
    // From the menu to the cases, then to today's checks.
    browser.click_link("Dịch bệnh").await;
    assert_eq!(
        browser.text("h1").await,
        "Dịch bệnh: ca bệnh và người tiếp xúc"
    );
    assert!(browser.text("#cases").await.contains("Nguyễn Văn An"));
    browser.check("outbreak-list-vi").await;
    browser.click_link("Theo dõi hằng ngày").await;
    assert_eq!(browser.text("h1").await, "Theo dõi hằng ngày");
    let alerts = browser.text("#alert-list").await;
    assert!(
        alerts.contains("Lê Văn Dũng") && alerts.contains("bỏ lỡ kiểm tra"),
        "{alerts}"
    );
    assert!(!alerts.contains("Phạm Thị Cúc"), "{alerts}");
    browser.check("outbreak-team-vi").await;

    // Cúc's row, by the keyboard: the temperature typed as words first.
    browser.focus(&format!("[id='{c}-present']")).await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.focused_id().await, format!("{c}-temperature_c"));
    browser.keys("ba tám").await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.focused_id().await, format!("{c}-spo2"));
    browser.keys("94").await;
    browser.enter().await;
    assert_eq!(
        browser.text(&format!("[id='err-{c}-temperature_c']")).await,
        "Nhiệt độ từ 30 đến 45 °C, ví dụ 37,2."
    );
    browser.check("outbreak-team-error-vi").await;
    browser
        .screenshots_of("outbreak-team-error-row-vi", &format!("[id='p-{c}']"))
        .await;
    // Corrected: 38,6 °C, SpO2 94 (kept), a cough ticked with the space
    // bar, then Tab to the button.
    browser.focus(&format!("[id='{c}-temperature_c']")).await;
    browser
        .keys(&(Key::End.to_string() + &Key::Backspace.to_string().repeat(6) + "38,6"))
        .await;
    browser.keys(&Key::Tab.to_string()).await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.focused_id().await, format!("{c}-s-cough"));
    browser.keys(" ").await;
    for _ in 0..10 {
        if browser.focused_id().await == format!("{c}-record") {
            break;
        }
        browser.keys(&Key::Tab.to_string()).await;
    }
    assert_eq!(browser.focused_id().await, format!("{c}-record"));
    browser.enter().await;
    assert!(browser.url().await.ends_with(&format!("#p-{c}")));
    let row = browser.text(&format!("[id='p-{c}']")).await;
    assert!(
        row.contains("đã kiểm tra hôm nay")
            && row.contains("sốt")
            && row.contains("SpO2 dưới 96 %"),
        "{row}"
    );
    let alerts = browser.text("#alert-list").await;
    assert!(alerts.contains("Phạm Thị Cúc"), "{alerts}");
    let (_, list) = app.get("/api/v1/outbreak/team-list").await;
    let entry = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["person_id"] == c.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["alerts"], json!(["fever", "low_spo2"]), "{entry}");
    browser.check("outbreak-team-checked-vi").await;
    // Dũng's row is still open on this tablet when another member of the
    // team records his check: sending it from here is refused at the row,
    // the first check kept.
    let (s, r) = app
        .post(
            "/api/v1/outbreak/checks",
            &json!({"person_id": d, "present": true, "temperature_c": 36.7, "spo2": 98}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    browser.focus(&format!("[id='{d}-record']")).await;
    browser.enter().await;
    assert_eq!(
        browser.text(&format!("[id='err-{d}-again']")).await,
        "Người này đã được kiểm tra hôm nay: giữ kết quả lần đầu, lần này không được ghi."
    );
    browser.check("outbreak-team-again-vi").await;
    browser
        .screenshots_of("outbreak-team-again-row-vi", &format!("[id='p-{d}']"))
        .await;
    browser.click_link("Cảnh báo").await;
    assert!(browser.text("#alert-list").await.contains("Phạm Thị Cúc"));
    browser.check("outbreak-alerts-vi").await;

    // In Chinese: the case and its contact graph.
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "警报");
    browser.click_link("疫情：病例与接触者").await;
    browser.click_link("Nguyễn Văn An").await;
    assert_eq!(browser.text("h1").await, "病例：Nguyễn Văn An");
    assert_eq!(count(&browser, "#contact-graph svg g.node").await, 5);
    for class in ["f0", "f1", "f2", "f3"] {
        assert!(count(&browser, &format!("#contact-graph svg g.node.{class}")).await >= 1);
    }
    assert_eq!(count(&browser, "#contact-graph svg line.link").await, 4);
    let table = browser.text("#graph-people").await;
    assert!(
        table.contains("Phạm Thị Cúc") && table.contains("1 剂") && table.contains("交通工具"),
        "{table}"
    );
    assert!(browser.text("#case-facts").await.contains("中症"));
    browser.check("outbreak-case-zh").await;
    browser
        .screenshots_of("outbreak-graph-zh", "#graph-h")
        .await;
    browser
        .screenshots_of("outbreak-graph-table-zh", "#people-h")
        .await;
    // The table's links lead to each person.
    browser.click_link("Trần Thị Bình").await;
    assert!(browser
        .url()
        .await
        .ends_with(&format!("/registry/persons/{b}")));

    // A province's responder: a laboratory's queue, a pool found positive.
    let ids = lab_with_samples(&app, 10, &[&b, &c, &d, &e]).await;
    let (s, pool) = app
        .post(
            "/api/v1/outbreak/laboratories/CDC22/tests",
            &json!({"samples": ids[..3]}),
        )
        .await;
    assert_eq!(s, 201, "{pool}");
    let pool = pool["id"].as_str().unwrap().to_string();
    browser.sign_in(&app.base, "cdc-tinh").await;
    browser.click_link("疫情").await;
    browser.click_link("实验室").await;
    browser.check("outbreak-labs-zh").await;
    browser.click_link("CDC Quảng Ninh").await;
    assert_eq!(browser.text("h1").await, "实验室：CDC Quảng Ninh");
    assert!(browser.text("#queue").await.contains("3 份混样"));
    browser.check("outbreak-lab-zh").await;
    browser.focus(&format!("[id='neg-{pool}']")).await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.focused_id().await, format!("pos-{pool}"));
    browser.enter().await;
    assert_eq!(count(&browser, "#queue > li").await, 3);
    assert!(browser.text("#queue").await.contains("复检"));
    browser.check("outbreak-lab-retests-zh").await;

    // The surge planner: the 10,000-case plan, then an edit refused.
    browser.click_link("扩容规划").await;
    assert_eq!(browser.text("h1").await, "扩容规划");
    browser.check("outbreak-surge-zh").await;
    browser.focus("#scenario").await;
    browser
        .keys(&(Key::Down.to_string() + &Key::Down.to_string()))
        .await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(browser.focused_id().await, "show");
    browser.enter().await;
    assert!(browser
        .text("main")
        .await
        .contains("Quảng Ninh, 10,000 cases"));
    assert_eq!(count(&browser, "svg.surge-chart").await, 6);
    browser.check("outbreak-surge-10000-zh").await;
    browser
        .screenshots_of("outbreak-surge-charts-zh", "#beds-h")
        .await;
    browser.focus("#s-severity-mild").await;
    browser
        .keys(&(Key::End.to_string() + &Key::Backspace.to_string().repeat(4) + "70"))
        .await;
    browser.enter().await;
    assert_eq!(
        browser.text("#err-severity").await,
        "各比例之和为 90.0%，不是 100%。"
    );
    browser.check("outbreak-surge-error-zh").await;
    browser
        .screenshots_of("outbreak-surge-error-form-zh", "#edit-h")
        .await;
    browser.close().await;
    app.cleanup().await;
}

/// A province's list of 130 at home, read a page at a time: the first
/// page's pager reached by Tab and followed with Enter, in Chinese and in
/// Vietnamese, each page checked (axe, 360 px) and photographed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_team_list_pages_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let (_, _, at_home) = a_hub_and_its_contacts(&app, 130).await;
    let today = vaxgrid_store::today();
    let actor = vaxgrid_store::model::Actor::system("test");
    let rows: Vec<(String, time::Date, Vec<time::Date>)> = at_home
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let checked = if i % 4 == 0 {
                vec![]
            } else {
                vec![today - time::Duration::days(1)]
            };
            (p.clone(), today - time::Duration::days(1), checked)
        })
        .collect();
    let policy = vaxgrid_core::outbreak::isolation::Policy::default();
    app.store
        .load_isolations(&rows, &policy, &actor)
        .await
        .unwrap();
    TestApp::make_user(&app.store, "cdc-tinh", &["epidemic_responder:22"]).await;
    let browser = Browser::start().await;
    for (lang, next, people) in [
        ("zh", "下一页", "130 人居家隔离"),
        ("vi", "Trang sau", "130 người cách ly tại nhà"),
    ] {
        browser
            .goto(&format!("{}/lang?set={lang}&back=/login", app.base))
            .await;
        browser.sign_in(&app.base, "cdc-tinh").await;
        browser.goto(&format!("{}/outbreak/team", app.base)).await;
        assert!(browser.text("main").await.contains(people));
        assert_eq!(count(&browser, "#team-list > li").await, 100);
        browser.check(&format!("outbreak-team-page1-{lang}")).await;
        // From the last row's button, Tab leads to the pager.
        browser.focus("#team-list > li:last-child button").await;
        for _ in 0..5 {
            if browser.focused().await.ends_with(next) {
                break;
            }
            browser.keys(&Key::Tab.to_string()).await;
        }
        assert!(
            browser.focused().await.ends_with(next),
            "{}",
            browser.focused().await
        );
        browser.enter().await;
        assert!(browser.url().await.contains("/outbreak/team?after="));
        assert_eq!(count(&browser, "#team-list > li").await, 30);
        browser.check(&format!("outbreak-team-page2-{lang}")).await;
        browser
            .screenshots_of(&format!("outbreak-team-pager-{lang}"), "nav.pager")
            .await;
    }
    browser.close().await;
    app.cleanup().await;
}
