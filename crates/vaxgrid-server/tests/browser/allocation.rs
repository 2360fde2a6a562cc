//! End-to-end: a district planner allocates a delivery to the communes of
//! a border district in a real headless Chromium, by keyboard — the
//! proposal weighted toward the border, a part changed so the sum no
//! longer matches (refused at the sum, nothing sent), corrected and
//! confirmed as shipments. In Vietnamese and in Chinese; every page
//! checked with axe-core and photographed at 360 and 1280 px.

use crate::common;
use crate::harness;

use common::TestApp;
use fantoccini::key::Key;
use harness::*;
use serde_json::json;

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

async fn value(browser: &Browser, id: &str) -> String {
    browser
        .client
        .execute(
            "return document.getElementById(arguments[0]).value",
            vec![json!(id)],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Replaces what the focused field holds.
async fn retype(browser: &Browser, css: &str, text: &str) {
    browser.focus(css).await;
    browser
        .client
        .execute(
            "document.querySelector(arguments[0]).select()",
            vec![json!(css)],
        )
        .await
        .unwrap();
    keys(browser, &(Key::Backspace.to_string() + text)).await;
}

async fn submit_with_enter(browser: &Browser) {
    browser.mark_page().await;
    keys(browser, &Key::Enter.to_string()).await;
    browser.wait_new_page().await;
}

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

/// Móng Cái (194) with Ka Long on the border, Hải Hòa 15 km in and Quảng
/// Nghĩa 45 km in; 4, 2 and 4 residents; 100 vials at the district store.
async fn border_district(app: &TestApp) {
    for area in [
        json!({"code": "06701", "parent_code": "194", "level": "commune", "name": "Hải Hòa"}),
        json!({"code": "06702", "parent_code": "194", "level": "commune", "name": "Quảng Nghĩa"}),
    ] {
        assert_eq!(app.post("/api/v1/areas", &area).await.0, 201);
    }
    for (area, km) in [("06700", 2), ("06701", 15), ("06702", 45)] {
        let (s, b) = app
            .post(
                &format!("/api/v1/areas/{area}/border"),
                &json!({"border_km": km}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh", "area_code": "22"}),
        json!({"code": "K194", "name": "Kho Móng Cái", "area_code": "194", "parent_code": "K22"}),
        json!({"code": "KC1", "name": "Ka Long", "area_code": "06700", "parent_code": "K194"}),
        json!({"code": "KC2", "name": "Hải Hòa", "area_code": "06701", "parent_code": "K194"}),
        json!({"code": "KC3", "name": "Quảng Nghĩa", "area_code": "06702", "parent_code": "K194"}),
    ] {
        let (s, b) = app.post("/api/v1/stores", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    let mut serial = 0;
    for (area, n) in [("06700", 4), ("06701", 2), ("06702", 4)] {
        for _ in 0..n {
            serial += 1;
            let (s, b) = app
                .post(
                    "/api/v1/persons",
                    &json!({"id_type": "cccd", "id_number": format!("022080{:06}", 700 + serial),
                            "full_name": format!("Người {serial}"), "birth_date": "1980-05-17",
                            "sex": "male", "home_area": area}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
    }
    let (s, b) = app
        .post(
            "/api/v1/stores/K194/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt",
                    "quantity": 1000, "source": "covax", "document": "COVAX-VN-2021-201"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // Syringes (1 per dose) and safety boxes (1 per 100 syringes); the
    // district holds 100 syringes and no box.
    for (path, body) in [
        (
            "/api/v1/supply-items",
            json!({"code": "AD05", "name": "AD 0,5 ml", "kind": "ad_syringe"}),
        ),
        (
            "/api/v1/supply-items",
            json!({"code": "BOX5", "name": "Hộp an toàn", "kind": "safety_box"}),
        ),
        (
            "/api/v1/stores/K194/items",
            json!({"item_code": "AD05", "kind": "receipt", "quantity": 100}),
        ),
    ] {
        let (s, b) = app.post(path, &body).await;
        assert_eq!(s, 201, "{b}");
    }
    for body in [
        json!({"item_code": "AD05", "quantity": 1, "per": 1, "unit": "dose"}),
        json!({"item_code": "BOX5", "quantity": 1, "per": 100, "unit": "syringe"}),
    ] {
        let (s, b) = app.post("/api/v1/products/AZ/ratios", &body).await;
        assert_eq!(s, 200, "{b}");
    }
}

async fn on_hand(app: &TestApp, store: &str) -> u64 {
    let (_, b) = app.get(&format!("/api/v1/stores/{store}/stock")).await;
    b["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["on_hand"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_allocates_a_delivery_border_first_by_keyboard_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    border_district(&app).await;
    TestApp::make_user(&app.store, "kehoach", &["planner:194"]).await;
    let browser = Browser::start().await;

    // ---- Vietnamese
    browser
        .goto(&format!("{}/lang?set=vi&back=/login", app.base))
        .await;
    browser.sign_in(&app.base, "kehoach").await;
    browser.click_link("Phân bổ").await;
    assert_eq!(browser.text("h1").await, "Phân bổ lô vắc xin");
    browser.check("allocation-form-vi").await;
    browser.focus("#a-from").await;
    keys(&browser, "K194").await;
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "a-product");
    keys(&browser, "AZ").await;
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "a-lot");
    keys(&browser, "AZ-1").await;
    keys(&browser, &Key::Tab.to_string()).await;
    assert_eq!(focused(&browser).await, "a-vials");
    keys(&browser, "26").await;
    submit_with_enter(&browser).await;
    // Border communes first: 12, 6 and 8 vials (×1.5 within 20 km).
    let got = [
        value(&browser, "part-0").await,
        value(&browser, "part-1").await,
        value(&browser, "part-2").await,
    ];
    assert_eq!(got, ["12", "6", "8"], "{}", browser.body().await);
    assert_eq!(browser.text("#sum").await, "26 / 26 lọ");
    let table = browser.text("#parts").await;
    assert!(table.contains("×1,5") && table.contains("2 km"), "{table}");
    let with = browser.text("#supplies-with").await;
    assert!(
        with.contains("260 × AD05") && with.contains("3 × BOX5"),
        "{with}"
    );
    let short = browser.text("#shortfalls").await;
    assert!(
        short.contains("AD05: thiếu 900") && short.contains("BOX5: thiếu 10"),
        "{short}"
    );
    browser.check("allocation-proposal-vi").await;
    photograph_from(&browser, "#parts-h", "allocation-proposal-table-vi").await;
    // One vial more to Ka Long: the sum no longer matches; refused at the
    // sum, the typed parts kept, nothing sent.
    retype(&browser, "#part-0", "13").await;
    submit_with_enter(&browser).await;
    let err = browser.text("#err-parts").await;
    assert!(
        err.starts_with("Tổng các phần là 27 lọ nhưng lô hàng có 26 lọ"),
        "{err}"
    );
    assert_eq!(value(&browser, "part-0").await, "13");
    assert_eq!(browser.text("#sum").await, "27 / 26 lọ");
    assert_eq!(on_hand(&app, "K194").await, 1000, "nothing sent");
    browser.check("allocation-error-vi").await;
    photograph_from(&browser, "#parts-h", "allocation-error-table-vi").await;
    // One vial less to Hải Hòa, by keyboard, and confirmed.
    retype(&browser, "#part-1", "5").await;
    submit_with_enter(&browser).await;
    let done = browser.text("#allocation-done").await;
    assert!(
        done.contains("Đã xuất kho") && done.contains("KC1") && done.contains("130"),
        "{done}"
    );
    assert_eq!(on_hand(&app, "K194").await, 740);
    browser.check("allocation-done-vi").await;

    // ---- Chinese: a bad delivery first, refused at its field.
    browser
        .goto(&format!("{}/lang?set=zh&back=/allocation", app.base))
        .await;
    assert_eq!(browser.text("h1").await, "分配一批疫苗");
    browser.focus("#a-from").await;
    keys(&browser, "K194").await;
    browser.type_into("#a-product", "AZ").await;
    browser.type_into("#a-lot", "AZ-1").await;
    browser.type_into("#a-vials", "0").await;
    browser.focus("#a-vials").await;
    submit_with_enter(&browser).await;
    assert_eq!(
        browser.text("#err-vials").await,
        "请填写大于 0 的整支数，且不超过库存。"
    );
    browser.check("allocation-error-zh").await;
    retype(&browser, "#a-vials", "13").await;
    submit_with_enter(&browser).await;
    assert_eq!(browser.text("#sum").await, "13 / 13 支");
    browser.check("allocation-proposal-zh").await;
    browser.focus("#part-2").await;
    submit_with_enter(&browser).await;
    assert!(browser.text("#allocation-done").await.contains("已发货"));
    assert_eq!(on_hand(&app, "K194").await, 610);
    browser.check("allocation-done-zh").await;
    browser.close().await;
    app.cleanup().await;
}
