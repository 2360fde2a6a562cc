//! End-to-end: a province's statistics officer reads the safety and
//! quality reports in a real headless Chromium, in Vietnamese, then Chinese
//! and English: the AEFI report (a death after a dose in Hạ Long), narrowed
//! to deaths by its link to list the event; the data-quality report, a
//! count followed by the keyboard to the persons behind it; the training
//! report. Every page
//! checked with axe-core and photographed at 360 and 1280 px.

use crate::common;
use crate::harness;

use common::TestApp;
use harness::*;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn at(minutes: i64) -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(3) + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

/// A visit of `person` through the dose, then an adverse event `body`.
async fn reaction(app: &TestApp, person: &str, body: Value) {
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let visit = v["id"].as_str().unwrap().to_string();
    let answers: Vec<Value> = [
        "anaphylaxis",
        "acute_illness",
        "recent_vaccine",
        "recent_covid",
    ]
    .iter()
    .map(|q| json!({"question_id": q, "yes": false}))
    .collect();
    for e in [
        json!({"kind": "check_in", "at": at(0), "temperature_c": 36.7}),
        json!({"kind": "identity_check", "at": at(1), "document": "cccd"}),
        json!({"kind": "screening", "at": at(2), "questionnaire_version": "default-1", "answers": answers}),
        json!({"kind": "consent", "at": at(3), "by": "self", "consent_text_version": "2021-07", "for_person_id": person}),
        json!({"kind": "dose", "at": at(4), "lot_number": "AZ-1", "station": "B1"}),
        body,
    ] {
        let (s, b) = app
            .post(&format!("/api/v1/visits/{visit}/events"), &e)
            .await;
        assert_eq!(s, 200, "{e}: {b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statistics_officer_reads_the_safety_and_quality_reports_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let lan = app.person(601, "Nguyễn Thị Lan").await;
    let minh = app.person(602, "Trần Văn Minh").await;
    reaction(
        &app,
        &lan,
        json!({"kind": "adverse_event", "onset": at(20), "symptoms": ["sốt"], "severity": "mild",
               "serious": false, "outcome": "recovered", "treatment": "paracetamol"}),
    )
    .await;
    reaction(
        &app,
        &minh,
        json!({"kind": "adverse_event", "onset": at(15), "symptoms": ["sốc phản vệ"], "severity": "severe",
               "serious": true, "outcome": "death", "treatment": "adrenaline 0,5 mg"}),
    )
    .await;
    TestApp::make_user(&app.store, "thongke", &["statistics_officer:22"]).await;

    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "thongke").await;
    browser.click_link("Phản ứng sau tiêm").await;
    assert_eq!(browser.text("h1").await, "Sự cố bất lợi sau tiêm chủng");
    let total = browser.text("#total").await;
    assert!(
        total.contains("Tử vong\n1") || total.contains("Tử vong 1"),
        "{total}"
    );
    let by_area = browser.text("#by-area").await;
    assert!(by_area.contains("Hạ Long"), "{by_area}");
    assert!(browser.text("#events").await.contains("Nguyễn Thị Lan"));
    browser.check("reports-aefi-vi").await;
    // The deaths' figure lists its one event.
    browser.focus("#by-outcome a[href*='outcome=death']").await;
    browser.enter().await;
    assert!(
        browser.url().await.contains("outcome=death"),
        "{}",
        browser.url().await
    );
    let events = browser.text("#events").await;
    assert!(events.contains("Trần Văn Minh"), "{events}");
    assert!(!events.contains("Nguyễn Thị Lan"), "{events}");
    assert!(events.contains("Tử vong"), "{events}");
    browser.check("reports-aefi-deaths-vi").await;

    browser.click_link("Chất lượng dữ liệu").await;
    assert_eq!(browser.text("h1").await, "Chất lượng dữ liệu đối tượng");
    let counts = browser.text("#counts").await;
    assert!(counts.contains("Thiếu số điện thoại"), "{counts}");
    assert!(counts.contains("Hạ Long"), "{counts}");
    browser.check("reports-quality-vi").await;
    // Nobody registered here gave a phone: the count lists both.
    browser
        .focus("#area-row a[href*='check=missing_phone']")
        .await;
    browser.enter().await;
    let persons = browser.text("#persons").await;
    assert!(
        persons.contains("Nguyễn Thị Lan") && persons.contains("Trần Văn Minh"),
        "{persons}"
    );
    assert!(persons.contains("Thiếu số điện thoại"), "{persons}");
    browser.check("reports-quality-persons-vi").await;
    browser.click_link("Báo cáo tập huấn").await;
    assert_eq!(browser.text("h1").await, "Tập huấn nhân viên");
    assert!(browser.text("#training").await.contains("Hạ Long"));
    browser.check("reports-training-vi").await;

    browser
        .goto(&format!("{}/lang?set=zh&back=/reports/aefi", app.base))
        .await;
    assert_eq!(browser.text("h1").await, "疑似预防接种异常反应");
    assert!(browser.text("#by-outcome").await.contains("死亡"));
    browser.check("reports-aefi-zh").await;
    browser
        .goto(&format!(
            "{}/lang?set=en&back=/reports/data-quality",
            app.base
        ))
        .await;
    assert_eq!(browser.text("h1").await, "Data quality of the register");
    assert!(browser.text("#counts").await.contains("No phone"));
    browser.check("reports-quality-en").await;
    browser.close().await;
    app.cleanup().await;
}
