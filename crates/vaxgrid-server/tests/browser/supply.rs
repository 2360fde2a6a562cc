//! End-to-end: a district's cold-chain officer at work in a real headless
//! Chromium, by the keyboard: from the menu to their district's supply and
//! down to a commune health station's store; receiving a shipment with
//! fewer doses than sent (the reason asked for at the field, in
//! Vietnamese); then, in Chinese, the excursion that a data logger's
//! readings reveal, on the fridge's temperature chart, and the lot it
//! quarantined released with the VVM stage read (refused at the field
//! without it). Every page checked with axe-core and photographed at 360
//! and 1280 px.

use crate::common;
use crate::harness;

use common::{new_id, TestApp};
use fantoccini::key::Key;
use harness::*;
use serde_json::json;

/// The id of the element holding the focus.
async fn focused_id(browser: &Browser) -> String {
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

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_chain_officer_receives_a_shipment_and_releases_a_lot_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh Quảng Ninh", "area_code": "22"}),
        json!({"code": "K193", "name": "Kho Hạ Long", "area_code": "193", "parent_code": "K22"}),
        json!({"code": "KS1", "name": "Tủ lạnh trạm Hồng Gai", "area_code": "06658", "parent_code": "K193", "site_code": "S1"}),
    ] {
        let (s, b) = app.post("/api/v1/stores", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = app
        .post(
            "/api/v1/stores/K193/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 1000,
                    "source": "covax", "document": "COVAX-VN-2021-118"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let fridge = new_id();
    let (s, b) = app
        .post(
            "/api/v1/stores/KS1/equipment",
            &json!({"id": fridge, "kind": "refrigerator", "min_c": 2.0, "max_c": 8.0}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let shipment = new_id();
    let (s, b) = app
        .post(
            "/api/v1/shipments",
            &json!({"id": shipment, "from_store": "K193", "to_store": "KS1", "product_code": "AZ",
                    "lot_number": "AZ-1", "quantity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    TestApp::make_user(&app.store, "kholanh", &["cold_chain_officer:193"]).await;

    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "kholanh").await;
    // From the menu to the district, to the commune, to the station's store.
    browser.click_link("Vắc xin").await;
    assert_eq!(browser.text("h1").await, "Cung ứng: Hạ Long");
    browser.check("supply-district-vi").await;
    browser.click_link("Hồng Gai").await;
    browser.click_link("Tủ lạnh trạm Hồng Gai").await;
    assert_eq!(browser.text("h1").await, "Kho: Tủ lạnh trạm Hồng Gai");
    browser.check("supply-store-vi").await;

    // Receive the shipment by the keyboard: 95 doses came, 100 were sent.
    let received = format!("#receive-{shipment}-received");
    browser.focus(&received).await;
    browser
        .keys(&(Key::End.to_string() + &Key::Backspace + &Key::Backspace + &Key::Backspace + "95"))
        .await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(
        focused_id(&browser).await,
        format!("receive-{shipment}-discrepancy_reason")
    );
    browser.enter().await;
    let error = browser
        .text(&format!("#err-receive-{shipment}-discrepancy_reason"))
        .await;
    assert_eq!(error, "Số liều nhận khác số đã gửi: ghi lý do.");
    browser.check("supply-receive-error-vi").await;
    photograph_from(&browser, "#incoming-h", "supply-receive-error-form-vi").await;
    photograph_from(&browser, "#waste-h", "supply-store-forms-vi").await;
    browser
        .focus(&format!("#receive-{shipment}-discrepancy_reason"))
        .await;
    browser.keys("5 liều vỡ khi vận chuyển").await;
    browser.enter().await;
    assert!(
        browser.text("#lots").await.contains("95"),
        "{}",
        browser.body().await
    );
    let (_, stock) = app.get("/api/v1/stores/KS1/stock").await;
    assert_eq!(stock["lots"][0]["on_hand"], 95, "{stock}");

    // The fridge's logger: 40 minutes too warm; the lot is quarantined.
    let now = time::OffsetDateTime::now_utc();
    let ago = |m: i64| rfc3339(now - time::Duration::minutes(m));
    let (s, b) = app
        .post(
            &format!("/api/v1/equipment/{fridge}/readings"),
            &json!({"readings": [
                {"at": ago(300), "temperature_c": 4.5},
                {"at": ago(240), "temperature_c": 5.1},
                {"at": ago(180), "temperature_c": 9.6},
                {"at": ago(160), "temperature_c": 12.3},
                {"at": ago(140), "temperature_c": 7.2},
                {"at": ago(60), "temperature_c": 5.0},
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // In Chinese: the store shows the lot held; the fridge's chart shows
    // the excursion; the lot is released with the VVM stage.
    browser.click_link("中文").await;
    assert_eq!(browser.text("h1").await, "仓库：Tủ lạnh trạm Hồng Gai");
    assert!(browser.text("#lots").await.contains("已隔离"));
    browser.click_link(&fridge).await;
    assert_eq!(browser.text("h1").await, format!("设备 {fridge}"));
    let excursions: i64 = browser
        .client
        .execute(
            "return document.querySelectorAll('#temperature-chart svg rect.excursion').length",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(excursions, 1);
    let list = browser.text("#equipment-excursions").await;
    assert!(list.contains("过热：9.6 至 12.3 °C"), "{list}");
    browser.check("supply-fridge-zh").await;
    photograph_from(&browser, "#chart-h", "supply-fridge-chart-zh").await;
    browser.click_link("AZ/AZ-1").await;
    assert_eq!(browser.text("#lot-status").await, "已隔离");
    browser.check("supply-lot-zh").await;
    // Release by the keyboard, first without reading the VVM.
    browser.focus("#hold-status").await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(focused_id(&browser).await, "hold-reason");
    browser.keys("冰箱已恢复正常，VVM 1").await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(focused_id(&browser).await, "hold-vvm_stage");
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(focused_id(&browser).await, "set-status");
    browser.enter().await;
    assert!(browser
        .text("#err-hold-vvm_stage")
        .await
        .starts_with("放行需要读取的 VVM 阶段"));
    browser.check("supply-lot-error-zh").await;
    photograph_from(&browser, "#hold-h", "supply-lot-error-form-zh").await;
    browser.focus("#hold-vvm_stage").await;
    browser.keys(&Key::Down.to_string()).await;
    browser.keys(&Key::Tab.to_string()).await;
    assert_eq!(focused_id(&browser).await, "set-status");
    browser.enter().await;
    assert_eq!(browser.text("#lot-status").await, "可用");
    let lot = app.store.lot_hold("AZ", "AZ-1").await.unwrap();
    assert_eq!(lot.status, "released", "{lot:?}");
    browser.close().await;
    app.cleanup().await;
}
