//! End-to-end: the province's epidemic responder reads the facilities
//! board in a real headless Chromium, in Vietnamese then Chinese: today's
//! beds by region and tier (the centre's mild-moderate beds nearly full),
//! the facility to activate now, and the projection of article 003's plan
//! over the province's facilities; choosing another scenario by the
//! keyboard. Every page checked with axe-core and photographed at 360 and
//! 1280 px (the board's top, and its projection with the charts).

use crate::common;
use crate::harness;

use common::TestApp;
use fantoccini::key::Key;
use harness::*;
use serde_json::json;

fn days_ago(n: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() - time::Duration::days(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_reads_the_facilities_board_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    for (code, name, area, region, mm, sc, icu, stage, active) in [
        ("BV2", "Bệnh viện Phổi", "193", "centre", 3, 94, 30, 0, true),
        (
            "BV3",
            "Bệnh viện Bãi Cháy",
            "193",
            "centre",
            40,
            0,
            0,
            500,
            false,
        ),
        (
            "MC",
            "Trung tâm Y tế Móng Cái",
            "194",
            "east",
            20,
            10,
            4,
            0,
            true,
        ),
        (
            "TY",
            "Trung tâm Y tế Tiên Yên",
            "194",
            "east",
            30,
            0,
            0,
            2,
            false,
        ),
    ] {
        let mut body = json!({"code": code, "name": name, "area_code": area, "region": region,
            "mild_moderate_beds": mm, "severe_critical_beds": sc, "icu_beds": icu,
            "activate_at_cases": stage});
        if active {
            body["activated_on"] = json!(days_ago(10));
        }
        let (s, b) = app.post("/api/v1/outbreak/facilities", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    // Three cases at the centre's hospital: its 3 mild-moderate beds full.
    for i in 0..3 {
        let person = app.person(900 + i, &format!("Bệnh nhân {i}")).await;
        let (s, b) = app
            .post(
                "/api/v1/outbreak/cases",
                &json!({"person_id": person, "confirmed_on": days_ago(3), "test_kind": "pcr", "severity": "mild"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app
            .post(
                "/api/v1/outbreak/admissions",
                &json!({"facility_code": "BV2", "person_id": person, "admitted_on": days_ago(2)}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    TestApp::make_user(&app.store, "phongdich", &["epidemic_responder:22"]).await;

    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "phongdich").await;
    // From the menu to the outbreak pages, then to the board by keyboard.
    browser.click_link("Dịch bệnh").await;
    browser.focus("a[href='/outbreak/facilities']").await;
    browser.enter().await;
    assert_eq!(browser.text("h1").await, "Cơ sở điều trị và giường bệnh");
    let today = browser.text("#beds-today").await;
    assert!(today.contains("Nhẹ và trung bình"), "{today}");
    assert!(
        today.contains("100,0%"),
        "the centre's 3 of 3 beds: {today}"
    );
    // Three cases reached Tiên Yên's stage (2); the centre's full
    // mild-moderate tier calls for Bãi Cháy.
    let advice = browser.text("#advice").await;
    assert!(advice.contains("Trung tâm Y tế Tiên Yên (TY)"), "{advice}");
    assert!(advice.contains("Bệnh viện Bãi Cháy (BV3)"), "{advice}");
    assert!(
        browser
            .text("#plan-basis")
            .await
            .contains("Tính trên các cơ sở đã nhập của tỉnh"),
        "the projection runs over the stored facilities"
    );
    let outlook = browser.text("#outlook").await;
    assert!(outlook.contains("Toàn tỉnh"), "{outlook}");
    browser.check("outbreak-facilities-vi").await;
    browser
        .screenshots_of("outbreak-facilities-projected-vi", "#projected-h")
        .await;
    browser
        .screenshots_of("outbreak-facilities-charts-vi", "#chart-legend")
        .await;

    // Another scenario by the keyboard: the select, one up, Tab, Enter.
    browser.focus("#scenario").await;
    browser.keys(&Key::Up.to_string()).await;
    browser.keys(TAB).await;
    assert!(
        browser.focused().await.starts_with("#facilities-show "),
        "{}",
        browser.focused().await
    );
    browser.enter().await;
    assert!(
        browser.url().await.contains("scenario=5000"),
        "{}",
        browser.url().await
    );
    let chosen = browser
        .client
        .execute("return document.getElementById('scenario').value", vec![])
        .await
        .unwrap();
    assert_eq!(chosen, json!("5000"));
    assert!(
        browser.text("#plan-basis").await.contains("5,000")
            || browser.text("#plan-basis").await.contains("5.000"),
        "{}",
        browser.text("#plan-basis").await
    );
    browser.check("outbreak-facilities-5000-vi").await;

    // In Chinese.
    let here = browser.url().await;
    let back = here.trim_start_matches(&app.base).to_string();
    browser
        .goto(&format!(
            "{}/lang?set=zh&back={}",
            app.base,
            back.replace('&', "%26")
                .replace('?', "%3F")
                .replace('=', "%3D")
        ))
        .await;
    assert_eq!(browser.text("h1").await, "收治机构与床位");
    assert!(browser.text("#beds-today").await.contains("轻型和中型"));
    assert!(browser.text("#advice-h").await.contains("现在需要启用"));
    browser.check("outbreak-facilities-zh").await;
    browser
        .screenshots_of("outbreak-facilities-projected-zh", "#projected-h")
        .await;
    browser.close().await;
    app.cleanup().await;
}
