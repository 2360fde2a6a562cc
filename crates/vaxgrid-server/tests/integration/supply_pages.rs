//! The supply's pages over real HTTP on both backends: an area's stock and
//! days of supply, a store's page and its forms (a receipt, wastage, a
//! discard, a count, a shipment dispatched and received with its
//! discrepancy, equipment marked broken) through the API's own rules with
//! errors next to the field, a fridge's temperature chart with its
//! excursion, a lot's page with the quarantine released. Forms: CSRF,
//! client ids (a second submit records nothing more), names shown as
//! text. Access: a store's stock is seen and moved only by roles on its
//! area; another area's store, equipment or lot is the 404 page.

use crate::common;

use common::pages::{FormPages, Session};
use common::{new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    an_officer_runs_a_store_from_its_pages,
    the_pages_follow_the_callers_areas,
);

/// The value of the hidden client id of the form that has `marker`.
fn client_id(page: &str, marker: &str) -> String {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker}: {page}"));
    page[at..]
        .split(r#"name="id" value=""#)
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_else(|| panic!("the client id: {page}"))
        .to_string()
}

/// K22 (province) > K193 (district) > KS1 (site S1's own stock), and K194
/// (district 194, outside district 193).
async fn stores(app: &TestApp) {
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh Quảng Ninh", "area_code": "22"}),
        json!({"code": "K193", "name": "Kho Hạ Long <b>", "area_code": "193", "parent_code": "K22"}),
        json!({"code": "KS1", "name": "Tủ lạnh trạm Hồng Gai", "area_code": "06658", "parent_code": "K193", "site_code": "S1"}),
        json!({"code": "K194", "name": "Kho Móng Cái", "area_code": "194", "parent_code": "K22"}),
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
}

async fn on_hand(app: &TestApp, store: &str) -> u64 {
    let (s, b) = app.get(&format!("/api/v1/stores/{store}/stock")).await;
    assert_eq!(s, 200, "{b}");
    b["lots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["lot_number"] == "AZ-1")
        .map(|l| l["on_hand"].as_u64().unwrap())
        .sum()
}

async fn movements(app: &TestApp, store: &str) -> usize {
    let (_, b) = app
        .get(&format!("/api/v1/stores/{store}/movements?limit=500"))
        .await;
    b["movements"].as_array().unwrap().len()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn an_officer_runs_a_store_from_its_pages(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let officer = Session::start(&app, "kho193", &["cold_chain_officer:193"]).await;

    // The menu leads to the officer's one area.
    let (s, to) = officer.get("/supply", "vi").await;
    assert_eq!((s, to.as_str()), (303, "/supply/areas/193"));
    let (s, page) = officer.get("/supply/areas/193", "vi").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(r#"href="/supply""#), "the menu entry: {page}");
    assert!(page.contains("Số ngày đủ dùng"), "{page}");
    assert!(page.contains(r#"href="/supply/stores/K193""#), "{page}");
    assert!(
        page.contains("Kho Hạ Long &#60;b&#62;"),
        "names as text: {page}"
    );
    assert!(page.contains(r#"href="/supply/areas/06658""#), "{page}");

    // The store's page, in Chinese: the lot, the forms.
    let (s, page) = officer.get("/supply/stores/K193", "zh").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("按批次的现有库存"), "{page}");
    assert!(page.contains("1,000"), "{page}");
    let receipt_id = client_id(&page, r#"name="form" value="receipt""#);
    let mut receipt = vec![
        ("form", "receipt"),
        ("id", receipt_id.as_str()),
        ("product_code", "AZ"),
        ("lot_number", "AZ-1"),
        ("quantity", "0"),
        ("source", "donation"),
        ("document", "<script>alert(1)</script>"),
    ];
    // Without the CSRF token: refused before anything.
    let (s, _) = officer
        .post("/supply/stores/K193/movements", "vi", &receipt, false)
        .await;
    assert_eq!(s, 403);
    // A quantity of 0: the API's rule, next to the field, in Vietnamese,
    // what was typed kept (as text); nothing written.
    let before = movements(&app, "K193").await;
    let (s, page) = officer
        .post("/supply/stores/K193/movements", "vi", &receipt, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-receipt-quantity""#), "{page}");
    assert!(
        page.contains("Nhập số liều là số nguyên lớn hơn 0."),
        "{page}"
    );
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert_eq!(movements(&app, "K193").await, before);
    // An unknown lot: on its field.
    receipt[3] = ("lot_number", "NO-SUCH");
    receipt[4] = ("quantity", "200");
    let (s, page) = officer
        .post("/supply/stores/K193/movements", "en", &receipt, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-receipt-lot_number""#), "{page}");
    // Right: recorded; sent again: recorded once.
    receipt[3] = ("lot_number", "AZ-1");
    for _ in 0..2 {
        let (s, to) = officer
            .post("/supply/stores/K193/movements", "en", &receipt, true)
            .await;
        assert_eq!((s, to.as_str()), (303, "/supply/stores/K193"));
    }
    assert_eq!(on_hand(&app, "K193").await, 1200);
    let (_, page) = officer.get("/supply/stores/K193", "en").await;
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "the document shown as text: {page}"
    );

    // Wastage of more than on hand: refused at the field, nothing written.
    let waste_id = client_id(&page, r#"name="form" value="waste""#);
    let mut waste = vec![
        ("form", "waste"),
        ("id", waste_id.as_str()),
        ("lot", "AZ/AZ-1"),
        ("quantity", "5000"),
        ("reason", "broken"),
        ("reason_text", ""),
    ];
    let (s, page) = officer
        .post("/supply/stores/K193/movements", "en", &waste, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-waste-quantity""#), "{page}");
    // A discard ("other") needs its reason typed.
    waste[3] = ("quantity", "10");
    waste[4] = ("reason", "other");
    let (s, page) = officer
        .post("/supply/stores/K193/movements", "en", &waste, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-waste-reason_text""#), "{page}");
    waste[4] = ("reason", "broken");
    let (s, _) = officer
        .post("/supply/stores/K193/movements", "en", &waste, true)
        .await;
    assert_eq!(s, 303);
    assert_eq!(on_hand(&app, "K193").await, 1190);

    // A count that differs needs a reason; with one, the adjustment.
    let (_, page) = officer.get("/supply/stores/K193", "en").await;
    let count_id = client_id(&page, r#"name="form" value="count""#);
    let mut count = vec![
        ("form", "count"),
        ("id", count_id.as_str()),
        ("lot", "AZ/AZ-1"),
        ("counted", "1180"),
        ("reason", ""),
    ];
    let (s, page) = officer
        .post("/supply/stores/K193/movements", "en", &count, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-count-reason""#), "{page}");
    count[4] = ("reason", "two vials missing at the count");
    let (s, _) = officer
        .post("/supply/stores/K193/movements", "en", &count, true)
        .await;
    assert_eq!(s, 303);
    assert_eq!(on_hand(&app, "K193").await, 1180);

    // A shipment to the site's store: to itself refused; then sent.
    let (_, page) = officer.get("/supply/stores/K193", "en").await;
    let dispatch_id = client_id(&page, r#"action="/supply/stores/K193/shipments""#);
    let mut dispatch = vec![
        ("id", dispatch_id.as_str()),
        ("lot", "AZ/AZ-1"),
        ("to_store", "K193"),
        ("quantity", "100"),
    ];
    let (s, page) = officer
        .post("/supply/stores/K193/shipments", "en", &dispatch, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-dispatch-to_store""#), "{page}");
    dispatch[2] = ("to_store", "KS1");
    for _ in 0..2 {
        let (s, to) = officer
            .post("/supply/stores/K193/shipments", "en", &dispatch, true)
            .await;
        assert_eq!((s, to.as_str()), (303, "/supply/stores/K193"));
    }
    assert_eq!(on_hand(&app, "K193").await, 1080, "dispatched once");

    // Received at the site with fewer doses: the reason is needed.
    let (_, page) = officer.get("/supply/stores/KS1", "vi").await;
    let receive = format!("/supply/shipments/{dispatch_id}/receive");
    assert!(page.contains(&receive), "{page}");
    let (s, page) = officer
        .post(
            &receive,
            "vi",
            &[("received", "90"), ("discrepancy_reason", "")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains(&format!(
            r#"id="err-receive-{dispatch_id}-discrepancy_reason""#
        )),
        "{page}"
    );
    assert!(page.contains("Số liều nhận khác số đã gửi"), "{page}");
    assert_eq!(on_hand(&app, "KS1").await, 0, "nothing written");
    let (s, to) = officer
        .post(
            &receive,
            "vi",
            &[("received", "90"), ("discrepancy_reason", "1 hộp vỡ")],
            true,
        )
        .await;
    assert_eq!((s, to.as_str()), (303, "/supply/stores/KS1"));
    assert_eq!(on_hand(&app, "KS1").await, 90);

    // The fridge: broken, then its temperature with an excursion.
    let fridge = new_id();
    let (s, e) = app
        .post(
            "/api/v1/stores/KS1/equipment",
            &json!({"id": fridge, "kind": "refrigerator", "min_c": 2.0, "max_c": 8.0}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, to) = officer
        .post(
            &format!("/supply/equipment/{fridge}/working"),
            "en",
            &[("working", "false")],
            true,
        )
        .await;
    assert_eq!((s, to.as_str()), (303, "/supply/stores/KS1#equipment"));
    let (_, page) = officer.get("/supply/stores/KS1", "en").await;
    assert!(page.contains("Mark working"), "{page}");
    let now = time::OffsetDateTime::now_utc();
    let ago = |m: i64| rfc3339(now - time::Duration::minutes(m));
    let (s, b) = app
        .post(
            &format!("/api/v1/equipment/{fridge}/readings"),
            &json!({"readings": [
                {"at": ago(90), "temperature_c": 5.0},
                {"at": ago(60), "temperature_c": 9.4},
                {"at": ago(40), "temperature_c": 11.2},
                {"at": ago(20), "temperature_c": 6.0},
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, page) = officer
        .get(&format!("/supply/equipment/{fridge}"), "en")
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(r#"<title id="tc-title">"#), "{page}");
    assert!(page.contains(r#"<desc id="tc-desc">4 readings"#), "{page}");
    assert!(page.contains(r#"class="excursion""#), "{page}");
    assert!(page.contains(r#"class="band""#), "{page}");
    assert!(page.contains(r#"<table id="readings">"#), "{page}");
    assert!(page.contains("Too warm: 9.4 to 11.2 °C"), "{page}");
    assert!(page.contains(r#"href="/supply/lots/AZ/AZ-1""#), "{page}");
    // A bad period: the 400 page.
    let (s, _) = officer
        .get(
            &format!("/supply/equipment/{fridge}?from=2026-01-01&to=2026-12-31"),
            "en",
        )
        .await;
    assert_eq!(s, 400);
    // The area's page shows the open excursion? (closed by the last
    // reading: none open) and the quarantined lot on the store's page.
    let (_, page) = officer.get("/supply/stores/KS1", "en").await;
    assert!(page.contains("Quarantined"), "{page}");

    // The lot's page: released with a reason and the VVM stage.
    let (s, page) = officer.get("/supply/lots/AZ/AZ-1", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Quarantined"), "{page}");
    assert!(
        !page.contains(r#"value="recalled""#),
        "a recall is national: {page}"
    );
    let (s, page) = officer
        .post(
            "/supply/lots/AZ/AZ-1/status",
            "zh",
            &[
                ("status", "released"),
                ("reason", "VVM 1, fridge back in range"),
                ("vvm_stage", ""),
            ],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-hold-vvm_stage""#), "{page}");
    assert!(page.contains("放行需要读取的 VVM 阶段"), "{page}");
    let (s, to) = officer
        .post(
            "/supply/lots/AZ/AZ-1/status",
            "en",
            &[
                ("status", "released"),
                ("reason", "VVM 1, fridge back in range"),
                ("vvm_stage", "1"),
            ],
            true,
        )
        .await;
    assert_eq!((s, to.as_str()), (303, "/supply/lots/AZ/AZ-1"));
    let (_, page) = officer.get("/supply/lots/AZ/AZ-1", "en").await;
    assert!(
        page.contains(r#"<span class="badge">Usable</span>"#),
        "{page}"
    );
    assert_eq!(app.store.check_stock().await.unwrap(), Vec::<String>::new());
    app.cleanup().await;
}

async fn the_pages_follow_the_callers_areas(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let freezer = new_id();
    let (s, e) = app
        .post(
            "/api/v1/stores/K193/equipment",
            &json!({"id": freezer, "kind": "freezer", "min_c": -25.0, "max_c": -15.0}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, b) = app
        .post(
            "/api/v1/shipments",
            &json!({"id": new_id(), "from_store": "K193", "to_store": "KS1", "product_code": "AZ",
                    "lot_number": "AZ-1", "quantity": 10}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let shipment = b["id"].as_str().unwrap().to_string();

    // Another district's officer: every page and form of district 193 is
    // the 404 page, nothing written.
    let other = Session::start(&app, "kho194", &["cold_chain_officer:194"]).await;
    let freezer_page = format!("/supply/equipment/{freezer}");
    for path in [
        "/supply/areas/193",
        "/supply/areas/22",
        "/supply/stores/K193",
        freezer_page.as_str(),
        "/supply/lots/AZ/AZ-1",
    ] {
        let (s, page) = other.get(path, "en").await;
        assert_eq!(s, 404, "{path}: {page}");
    }
    let before = movements(&app, "K193").await;
    let (s, _) = other
        .post(
            "/supply/stores/K193/movements",
            "en",
            &[
                ("form", "receipt"),
                ("id", &new_id()),
                ("product_code", "AZ"),
                ("lot_number", "AZ-1"),
                ("quantity", "5"),
                ("source", "purchase"),
                ("document", "HD-9"),
            ],
            true,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            "/supply/stores/K193/shipments",
            "en",
            &[
                ("id", &new_id()),
                ("lot", "AZ/AZ-1"),
                ("to_store", "K194"),
                ("quantity", "5"),
            ],
            true,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            &format!("/supply/shipments/{shipment}/receive"),
            "en",
            &[("received", "10")],
            true,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            &format!("/supply/equipment/{freezer}/working"),
            "en",
            &[("working", "false")],
            true,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            "/supply/lots/AZ/AZ-1/status",
            "en",
            &[("status", "quarantined"), ("reason", "x")],
            true,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(movements(&app, "K193").await, before);
    // Their own area is theirs.
    let (s, page) = other.get("/supply/stores/K194", "en").await;
    assert_eq!(s, 200, "{page}");

    // A statistics officer reads stock but moves none: no forms, and a
    // form sent anyway is refused.
    let stats = Session::start(&app, "stats22", &["statistics_officer:22"]).await;
    let (s, page) = stats.get("/supply/stores/K193", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(!page.contains(r#"name="form" value="receipt""#), "{page}");
    let (s, _) = stats
        .post(
            "/supply/stores/K193/movements",
            "en",
            &[("form", "receipt"), ("quantity", "5")],
            true,
        )
        .await;
    assert_eq!(s, 403);
    // A site's vaccinator holds no stock role: refused, and no menu entry.
    let vaccinator = Session::start(&app, "vac1", &["vaccinator:S1"]).await;
    let (s, _) = vaccinator.get("/supply/stores/KS1", "en").await;
    assert_eq!(s, 403);
    let (_, page) = vaccinator.get("/verify", "en").await;
    assert!(!page.contains(r#"href="/supply""#), "{page}");
    // An unknown query field or a bad number of days: 400.
    let officer = Session::start(&app, "kho22", &["cold_chain_officer:22"]).await;
    let (s, _) = officer.get("/supply/areas/22?expiring=0", "en").await;
    assert_eq!(s, 400);
    let (s, page) = officer.get("/supply/areas/22?expiring=400000", "en").await;
    assert_eq!(s, 400, "{page}");
    let (s, page) = officer.get("/supply/areas/22?expiring=30", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Areas below"), "{page}");
    app.cleanup().await;
}
