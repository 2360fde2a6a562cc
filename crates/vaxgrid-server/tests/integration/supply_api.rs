//! The supply API over real HTTP, on SQLite and PostgreSQL: stores down the
//! area tree, movements refused by field with nothing written, shipments
//! with their discrepancies, stock seen and moved only by roles on the
//! store's area, every movement audited, lot holds and the persons dosed
//! from a lot.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    stores_and_movements_keep_the_ledger,
    stock_is_seen_and_moved_only_on_its_area,
    a_held_lot_refuses_doses_and_lists_its_persons,
    an_excursion_quarantines_the_lots_at_its_store,
    each_refused_dose_names_the_lot_and_why,
    concurrent_doses_take_exactly_the_stock_at_the_site,
    certificates_are_revoked_by_lot_or_by_site_and_day,
);

/// K22 (province) > K193 (district) > KS1 (site S1's own stock), and K194
/// (district 194, outside district 193).
async fn stores(app: &TestApp) {
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh Quảng Ninh", "area_code": "22"}),
        json!({"code": "K193", "name": "Kho Hạ Long", "area_code": "193", "parent_code": "K22"}),
        json!({"code": "KS1", "name": "Tủ lạnh trạm Hồng Gai", "area_code": "06658", "parent_code": "K193", "site_code": "S1"}),
        json!({"code": "K194", "name": "Kho Móng Cái", "area_code": "194", "parent_code": "K22"}),
    ] {
        let (s, b) = app.post("/api/v1/stores", &body).await;
        assert_eq!(s, 201, "{b}");
    }
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

async fn movement_count(app: &TestApp, store: &str) -> usize {
    let (s, b) = app
        .get(&format!("/api/v1/stores/{store}/movements?limit=500"))
        .await;
    assert_eq!(s, 200, "{b}");
    b["movements"].as_array().unwrap().len()
}

fn field(b: &Value) -> &str {
    b["errors"][0]["field"].as_str().unwrap_or("")
}

async fn stores_and_movements_keep_the_ledger(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let audited = app.store.verify_audit().await.unwrap().0;
    let (s, b) = app
        .post(
            "/api/v1/stores/K22/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 1000,
                    "source": "covax", "document": "COVAX-VN-2021-118"}),
        )
        .await;
    assert_eq!((s, b["on_hand"].as_u64()), (201, Some(1000)), "{b}");
    assert_eq!(
        app.store.verify_audit().await.unwrap().0,
        audited + 1,
        "every movement is audited"
    );

    // Bad input: 4xx naming the field, nothing written.
    let base = json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt",
                      "quantity": 5, "source": "purchase", "document": "HD-1"});
    let with = |changes: Value| {
        let mut b = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, status, expected) in [
        (with(json!({"quantity": 0})), 422, "quantity"),
        (with(json!({"quantity": -5})), 422, "quantity"),
        (with(json!({"quantity": null})), 422, "quantity"),
        (with(json!({"lot_number": "NOPE"})), 422, "lot_number"),
        (with(json!({"product_code": "PFIZER"})), 422, "lot_number"),
        (with(json!({"document": "  "})), 422, "document"),
        (with(json!({"source": "gift"})), 422, "source"),
        (with(json!({"kind": "teleport"})), 422, "kind"),
        (with(json!({"kind": "dose_given"})), 422, "kind"),
        (
            with(json!({"kind": "discard", "quantity": 5000, "reason": "broken fridge"})),
            422,
            "quantity",
        ),
        (
            with(json!({"kind": "discard", "reason": ""})),
            422,
            "reason",
        ),
        (
            with(json!({"kind": "wastage", "reason": "lost"})),
            422,
            "reason",
        ),
        (
            with(json!({"kind": "adjustment", "direction": "sideways", "reason": "x"})),
            422,
            "direction",
        ),
        (
            with(json!({"kind": "vial_opened", "doses_per_vial": 0})),
            422,
            "doses_per_vial",
        ),
        (
            with(json!({"kind": "count", "counted": -1, "quantity": null})),
            422,
            "counted",
        ),
        (
            with(json!({"kind": "count", "counted": 990, "reason": " ", "quantity": null})),
            422,
            "reason",
        ),
        (with(json!({"quantity": "five"})), 422, "quantity"),
        (with(json!({"id": "not-a-uuid"})), 400, "id"),
    ] {
        let (s, b) = app.post("/api/v1/stores/K22/movements", &body).await;
        assert_eq!((s, field(&b)), (status, expected), "{body} → {b}");
    }
    assert_eq!(on_hand(&app, "K22").await, 1000);
    assert_eq!(movement_count(&app, "K22").await, 1, "nothing written");
    let (s, _) = app.post("/api/v1/stores/K999/movements", &base).await;
    assert_eq!(s, 404);

    // Shipments: an empty store ships nothing; the receipt needs a reason
    // for any difference; received once.
    let shipment = |from: &str, to: &str, quantity: i64| json!({"from_store": from, "to_store": to, "product_code": "AZ", "lot_number": "AZ-1", "quantity": quantity});
    let (s, b) = app
        .post("/api/v1/shipments", &shipment("K193", "KS1", 10))
        .await;
    assert_eq!((s, field(&b)), (422, "quantity"), "{b}");
    let (s, b) = app
        .post("/api/v1/shipments", &shipment("K22", "K193", 0))
        .await;
    assert_eq!((s, field(&b)), (422, "quantity"), "{b}");
    let (s, b) = app
        .post("/api/v1/shipments", &shipment("K22", "K22", 10))
        .await;
    assert_eq!((s, field(&b)), (422, "to_store"), "{b}");
    let (s, b) = app
        .post("/api/v1/shipments", &shipment("K22", "K404", 10))
        .await;
    assert_eq!((s, field(&b)), (422, "to_store"), "{b}");
    assert_eq!(on_hand(&app, "K22").await, 1000, "nothing written");
    let (s, sh) = app
        .post("/api/v1/shipments", &shipment("K22", "K193", 300))
        .await;
    assert_eq!(
        (s, sh["status"].as_str()),
        (201, Some("dispatched")),
        "{sh}"
    );
    let id = sh["id"].as_str().unwrap().to_string();
    assert_eq!(on_hand(&app, "K22").await, 700);
    assert_eq!(
        on_hand(&app, "K193").await,
        0,
        "in transit: at neither store"
    );
    let receive = format!("/api/v1/shipments/{id}/receive");
    let (s, b) = app.post(&receive, &json!({"received": 310})).await;
    assert_eq!((s, field(&b)), (422, "discrepancy_reason"), "{b}");
    let (s, b) = app.post(&receive, &json!({"received": 0})).await;
    assert_eq!((s, field(&b)), (422, "received"), "{b}");
    assert_eq!(on_hand(&app, "K193").await, 0, "nothing written");
    let (s, b) = app
        .post(
            &receive,
            &json!({"received": 290, "discrepancy_reason": "10 vials broken in transit"}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str(), b["received"].as_u64()),
        (200, Some("received"), Some(290)),
        "{b}"
    );
    let (s, b) = app.post(&receive, &json!({"received": 290})).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(on_hand(&app, "K193").await, 290);
    let (s, b) = app.get(&format!("/api/v1/shipments/{id}")).await;
    assert_eq!(
        (s, b["discrepancy_reason"].as_str()),
        (200, Some("10 vials broken in transit"))
    );

    // Discards, wastage, vials opened, counts and adjustments.
    let at = |kind: Value| {
        let mut b = json!({"product_code": "AZ", "lot_number": "AZ-1"});
        for (k, v) in kind.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, after) in [
        (
            at(json!({"kind": "discard", "quantity": 10, "reason": "label unreadable"})),
            280,
        ),
        (
            at(json!({"kind": "wastage", "quantity": 10, "reason": "broken"})),
            270,
        ),
        (
            at(json!({"kind": "vial_opened", "quantity": 2, "doses_per_vial": 10})),
            270,
        ),
        (
            at(
                json!({"kind": "adjustment", "quantity": 5, "direction": "up", "reason": "found in the cold box"}),
            ),
            275,
        ),
        (
            at(json!({"kind": "count", "counted": 260, "reason": "monthly count"})),
            260,
        ),
    ] {
        let (s, b) = app.post("/api/v1/stores/K193/movements", &body).await;
        assert_eq!(
            (s, b["on_hand"].as_u64()),
            (201, Some(after)),
            "{body} → {b}"
        );
    }
    let (s, b) = app
        .post(
            "/api/v1/stores/K193/movements",
            &at(json!({"kind": "count", "counted": 260})),
        )
        .await;
    assert_eq!((s, &b["movement"]), (200, &Value::Null), "{b}");
    let mid = new_id();
    let body = at(json!({"id": mid, "kind": "discard", "quantity": 1, "reason": "x"}));
    let (s, _) = app.post("/api/v1/stores/K193/movements", &body).await;
    assert_eq!(s, 201);
    let (s, b) = app.post("/api/v1/stores/K193/movements", &body).await;
    assert_eq!(s, 409, "the same movement twice: {b}");
    assert_eq!(on_hand(&app, "K193").await, 259);
    let (s, b) = app.get("/api/v1/stores/K193/movements").await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = b["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "discard",
            "adjustment",
            "adjustment",
            "vial_opened",
            "wastage",
            "discard",
            "shipment_received"
        ],
        "{b}"
    );

    // Equipment.
    let (s, e) = app
        .post(
            "/api/v1/stores/KS1/equipment",
            &json!({"kind": "refrigerator", "min_c": 2.0, "max_c": 8.0, "capacity_doses": 5000}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    for (body, expected) in [
        (
            json!({"kind": "fridge", "min_c": 2.0, "max_c": 8.0}),
            "kind",
        ),
        (
            json!({"kind": "freezer", "min_c": 8.0, "max_c": 2.0}),
            "min_c",
        ),
        (
            json!({"kind": "freezer", "min_c": -200.0, "max_c": 2.0}),
            "min_c",
        ),
        (
            json!({"kind": "freezer", "min_c": 2.05, "max_c": 8.0}),
            "min_c",
        ),
        (
            json!({"kind": "freezer", "min_c": 2.0, "max_c": 8.0, "capacity_doses": 0}),
            "capacity_doses",
        ),
    ] {
        let (s, b) = app.post("/api/v1/stores/KS1/equipment", &body).await;
        assert_eq!((s, field(&b)), (422, expected), "{body} → {b}");
    }
    let (s, b) = app
        .post(
            &format!("/api/v1/equipment/{}/working", e["id"].as_str().unwrap()),
            &json!({"working": false}),
        )
        .await;
    assert_eq!((s, b["working"].as_bool()), (200, Some(false)), "{b}");
    let (s, b) = app.get("/api/v1/stores/KS1").await;
    assert_eq!(
        (s, b["equipment"][0]["min_tenths"].as_i64()),
        (200, Some(20)),
        "{b}"
    );
    assert_eq!(app.store.check_stock().await.unwrap(), Vec::<String>::new());
    app.cleanup().await;
}

async fn stock_is_seen_and_moved_only_on_its_area(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let (s, b) = app
        .post(
            "/api/v1/stores/K22/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 100,
                    "source": "purchase", "document": "HD-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let officer = app.as_user("u-cold", &["cold_chain_officer:193"]).await;
    let other = app.as_user("u-cold-194", &["cold_chain_officer:194"]).await;
    let statistics = app.as_user("u-stat", &["statistics_officer:193"]).await;
    let vaccinator = app.as_user("u-vacc", &["vaccinator:S1"]).await;
    let (s, b) = officer.get("/api/v1/stores").await;
    assert_eq!(s, 200);
    let codes: Vec<&str> = b["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["K193", "KS1"], "{b}");
    for path in [
        "/api/v1/stores/K22",
        "/api/v1/stores/K22/stock",
        "/api/v1/stores/K194/movements",
    ] {
        let (s, b) = officer.get(path).await;
        assert_eq!(s, 404, "{path}: {b}");
    }
    let receipt = json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 10,
                         "source": "purchase", "document": "HD-2"});
    let (s, _) = officer
        .post("/api/v1/stores/K194/movements", &receipt)
        .await;
    assert_eq!(s, 404);
    let (s, b) = officer
        .post("/api/v1/stores/K193/movements", &receipt)
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = statistics.get("/api/v1/stores/K193/stock").await;
    assert_eq!(s, 200);
    let (s, _) = statistics
        .post("/api/v1/stores/K193/movements", &receipt)
        .await;
    assert_eq!(s, 403);
    let (s, _) = vaccinator.get("/api/v1/stores/KS1/stock").await;
    assert_eq!(s, 403, "site roles do not hold stock");
    // Shipping from a store outside one's area, and receiving one sent to
    // another area, are refused; nothing moves.
    let ship = json!({"from_store": "K22", "to_store": "K193", "product_code": "AZ", "lot_number": "AZ-1", "quantity": 10});
    let (s, b) = officer.post("/api/v1/shipments", &ship).await;
    assert_eq!((s, field(&b)), (422, "from_store"), "{b}");
    let ship = json!({"from_store": "K22", "to_store": "K194", "product_code": "AZ", "lot_number": "AZ-1", "quantity": 10});
    let (s, sh) = app.post("/api/v1/shipments", &ship).await;
    assert_eq!(s, 201, "{sh}");
    let id = sh["id"].as_str().unwrap();
    let (s, _) = officer.get(&format!("/api/v1/shipments/{id}")).await;
    assert_eq!(s, 404, "neither end in 193");
    let (s, _) = officer
        .post(
            &format!("/api/v1/shipments/{id}/receive"),
            &json!({"received": 10}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, b) = other
        .post(
            &format!("/api/v1/shipments/{id}/receive"),
            &json!({"received": 10}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(on_hand(&app, "K22").await, 90);
    assert_eq!(on_hand(&app, "K194").await, 10);
    assert_eq!(on_hand(&app, "K193").await, 10);
    // An officer may not create a store above their area.
    let (s, b) = officer
        .post(
            "/api/v1/stores",
            &json!({"code": "K22B", "name": "x", "area_code": "22"}),
        )
        .await;
    assert_eq!((s, field(&b)), (422, "area_code"), "{b}");
    assert_eq!(app.store.check_stock().await.unwrap(), Vec::<String>::new());
    app.cleanup().await;
}

async fn a_held_lot_refuses_doses_and_lists_its_persons(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let (s, b) = app
        .post(
            "/api/v1/stores/KS1/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 100,
                    "source": "purchase", "document": "HD-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let person = app.person(1, "Nguyễn Văn An").await;
    let (s, d) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let officer = app.as_user("u-cold", &["cold_chain_officer:193"]).await;
    let other = app.as_user("u-cold-194", &["cold_chain_officer:194"]).await;
    let status = "/api/v1/lots/AZ/AZ-1/status";
    let (s, _) = other
        .post(status, &json!({"status": "quarantined", "reason": "x"}))
        .await;
    assert_eq!(s, 404, "the lot is not stocked in 194");
    let (s, b) = officer
        .post(status, &json!({"status": "quarantined", "reason": " "}))
        .await;
    assert_eq!((s, field(&b)), (422, "reason"), "{b}");
    let (s, b) = officer
        .post(
            status,
            &json!({"status": "quarantined", "reason": "heat to 9.4 °C for 95 min in FR-01"}),
        )
        .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("quarantined")), "{b}");
    let (s, b) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-08-26"),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(b.to_string().contains("lot"), "{b}");
    for (body, expected) in [
        (
            json!({"status": "released", "reason": "VVM fine"}),
            "vvm_stage",
        ),
        (
            json!({"status": "released", "reason": "VVM", "vvm_stage": 3}),
            "vvm_stage",
        ),
        (
            json!({"status": "released", "reason": "VVM", "vvm_stage": 7}),
            "vvm_stage",
        ),
        (json!({"status": "gone", "reason": "x"}), "status"),
    ] {
        let (s, b) = officer.post(status, &body).await;
        assert_eq!((s, field(&b)), (422, expected), "{body} → {b}");
    }
    let (s, b) = officer
        .post(
            status,
            &json!({"status": "released", "reason": "within the stability budget", "vvm_stage": 1}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str(), b["vvm_stage"].as_u64()),
        (200, Some("released"), Some(1)),
        "{b}"
    );
    let (s, _) = officer
        .post(status, &json!({"status": "recalled", "reason": "maker"}))
        .await;
    assert_eq!(s, 403, "a recall is national");
    let (s, b) = app
        .post(
            status,
            &json!({"status": "recalled", "reason": "manufacturer recall 2021-09"}),
        )
        .await;
    assert_eq!(
        (s, b["status_reason"].as_str()),
        (200, Some("manufacturer recall 2021-09")),
        "{b}"
    );

    let (s, b) = app.get("/api/v1/lots/AZ/AZ-1/persons").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["persons"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["persons"][0]["person_id"], person.as_str());
    let r = app
        .client
        .get(format!(
            "{}/api/v1/lots/AZ/AZ-1/persons?format=csv",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("person_id,full_name"), "{text}");
    assert!(
        lines[1].contains(&person) && lines[1].contains("Nguyễn Văn An"),
        "{text}"
    );
    let (s, _) = app.get("/api/v1/lots/AZ/NOPE/persons").await;
    assert_eq!(s, 404);
    let (s, b) = app.get("/api/v1/lots/AZ/AZ-1/persons?format=xml").await;
    assert_eq!((s, field(&b)), (400, "format"));
    let outsider = app.as_user("u-plan-194", &["planner:194"]).await;
    let (s, b) = outsider.get("/api/v1/lots/AZ/AZ-1/persons").await;
    assert_eq!(
        (s, b["persons"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{b}"
    );
    app.cleanup().await;
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn an_excursion_quarantines_the_lots_at_its_store(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    let (s, b) = app
        .post(
            "/api/v1/stores/KS1/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 100,
                    "source": "purchase", "document": "HD-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, e) = app
        .post(
            "/api/v1/stores/KS1/equipment",
            &json!({"id": new_id(), "kind": "refrigerator", "min_c": 2.0, "max_c": 8.0}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let fridge = e["id"].as_str().unwrap().to_string();
    let readings = format!("/api/v1/equipment/{fridge}/readings");
    let now = time::OffsetDateTime::now_utc();
    let ago = |m: i64| rfc3339(now - time::Duration::minutes(m));

    // Every bad row named, nothing written.
    let (s, b) = app
        .post(
            &readings,
            &json!({"readings": [
                {"at": ago(60), "temperature_c": 5.0},
                {"at": "yesterday", "temperature_c": 5.0},
                {"at": ago(55), "temperature_c": 99.0},
                {"at": rfc3339(now + time::Duration::days(1)), "temperature_c": 5.0},
                {"at": ago(70), "temperature_c": 5.0},
                {"at": ago(45), "temperature_c": 4.55},
            ]}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let rows: Vec<(u64, &str)> = b["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (2, "at"),
            (3, "temperature_c"),
            (4, "at"),
            (5, "at"),
            (6, "temperature_c")
        ],
        "{b}"
    );
    let csv = format!(
        "at,temperature_c\n{},5.0\n{},warm\n{},-95.0\n",
        ago(60),
        ago(50),
        ago(40)
    );
    let (s, b) = app
        .post_raw(&format!("{readings}/import"), "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 422, "{b}");
    let rows: Vec<(u64, &str)> = b["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "temperature_c"), (3, "temperature_c")], "{b}");
    let (s, b) = app
        .post_raw(
            &format!("{readings}/import"),
            "text/csv",
            b"when,temp\n".to_vec(),
        )
        .await;
    assert_eq!((s, field(&b)), (400, "header"), "{b}");
    let (s, b) = app.get(&readings).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["readings"].as_array().unwrap().len(),
        0,
        "nothing written"
    );

    // The first reading out of range quarantines the lot at once.
    let (s, b) = app
        .post(
            &readings,
            &json!({"readings": [
                {"at": ago(60), "temperature_c": 5.0},
                {"at": ago(50), "temperature_c": 9.4},
                {"at": ago(40), "temperature_c": 9.0},
            ]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["quarantined"], json!(["AZ/AZ-1"]), "{b}");
    assert_eq!(b["excursions"][0]["kind"], "heat", "{b}");
    let (s, b) = app.get("/api/v1/excursions").await;
    assert_eq!(
        (s, b["excursions"].as_array().unwrap().len()),
        (200, 1),
        "{b}"
    );
    let person = app.person(1, "Nguyễn Văn An").await;
    let (s, b) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!((s, field(&b)), (422, "lot"), "{b}");
    let detail = b["errors"][0]["message"].as_str().unwrap();
    assert!(
        detail.contains("AZ-1") && detail.contains("excursion") && detail.contains("9.4"),
        "the refusal names the lot and the excursion: {detail}"
    );
    // Back in range (from a logger's CSV): the excursion closes, the lot
    // stays quarantined until a supervisor releases it.
    let csv = format!("at,temperature_c\n{},5.2\n", ago(30));
    let (s, b) = app
        .post_raw(&format!("{readings}/import"), "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.get("/api/v1/excursions").await;
    assert_eq!(
        (s, b["excursions"].as_array().unwrap().len()),
        (200, 0),
        "{b}"
    );
    let (s, b) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!((s, field(&b)), (422, "lot"), "{b}");
    let (s, b) = app.get(&readings).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["readings"].as_array().unwrap().len(), 4, "{b}");
    assert_eq!(b["excursions"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["excursions"][0]["max_tenths"], 94, "{b}");
    assert!(b["excursions"][0]["ended_at"].is_string(), "{b}");
    // Impossible order: a reading not after the last stored.
    let (s, b) = app
        .post(
            &readings,
            &json!({"readings": [{"at": ago(35), "temperature_c": 5.0}]}),
        )
        .await;
    assert_eq!(
        (s, b["rows"][0]["field"].as_str()),
        (422, Some("at")),
        "{b}"
    );
    let (s, b) = app
        .post(
            "/api/v1/lots/AZ/AZ-1/status",
            &json!({"status": "released", "reason": "within the stability budget", "vvm_stage": 1}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // A lot at VVM stage 3 refuses doses too.
    let (s, b) = app
        .post(
            "/api/v1/lots/AZ/AZ-1/status",
            &json!({"status": "quarantined", "reason": "VVM read at use", "vvm_stage": 3}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let other = app.person(2, "Trần Thị Bình").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &other, "2021-07-01"))
        .await;
    assert_eq!((s, field(&b)), (422, "lot"), "{b}");
    app.cleanup().await;
}

/// Today (UTC), the day the doses below are given: a store's ledger
/// starts on the day it is created, so doses dated before it decrement
/// nothing.
fn today() -> String {
    vaxgrid_store::format_date(vaxgrid_store::today())
}

/// A dose's refusal: 422 on field `lot`, its message.
fn refusal(s: u16, b: &Value) -> String {
    assert_eq!((s, field(b)), (422, "lot"), "{b}");
    b["errors"][0]["message"].as_str().unwrap().to_string()
}

async fn receive(app: &TestApp, store: &str, lot: &str, quantity: u64) {
    let (s, b) = app
        .post(
            &format!("/api/v1/stores/{store}/movements"),
            &json!({"product_code": "AZ", "lot_number": lot, "kind": "receipt", "quantity": quantity,
                    "source": "purchase", "document": "HD-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// Quarantined, recalled, expired, VVM 3–4 and not in stock at the site:
/// each a 422 on field `lot` naming the lot and why, nothing written; a
/// site without a store does not track its stock.
async fn each_refused_dose_names_the_lot_and_why(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for lot in [
        json!({"product_code": "AZ", "lot_number": "AZ-OLD", "expiry": "2021-06-30", "doses": 100}),
        json!({"product_code": "AZ", "lot_number": "AZ-2", "expiry": "2030-12-31", "doses": 100}),
    ] {
        let (s, b) = app.post("/api/v1/lots", &lot).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Điểm tiêm Ka Long", "kind": "temporary_site", "area_code": "06700", "stations": 2, "daily_capacity": 200}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // Before S1 has a store, its stock is not tracked: the dose is taken.
    let person = app.person(1, "Nguyễn Văn An").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &person, &today()))
        .await;
    assert_eq!(s, 201, "{b}");
    stores(&app).await;
    receive(&app, "KS1", "AZ-1", 5).await;
    receive(&app, "KS1", "AZ-OLD", 5).await;
    receive(&app, "K193", "AZ-2", 50).await;
    let dose = |person: &str, lot: &str| {
        let mut b = dose_body(&new_id(), person, &today());
        b["lot_number"] = json!(lot);
        b
    };
    let p2 = app.person(2, "Trần Thị Bình").await;

    // Not in stock at this site: AZ-2 is at the district's store only.
    let (s, b) = app.post("/api/v1/doses", &dose(&p2, "AZ-2")).await;
    let why = refusal(s, &b);
    assert!(
        why.contains("AZ-2") && why.contains("not in stock at this site"),
        "{why}"
    );
    // Expired on the day of the dose, even with stock on hand.
    let (s, b) = app.post("/api/v1/doses", &dose(&p2, "AZ-OLD")).await;
    let why = refusal(s, &b);
    assert!(
        why.contains("AZ-OLD") && why.contains("expired") && why.contains("2021-06-30"),
        "{why}"
    );
    // VVM stage 3 and 4.
    let status = "/api/v1/lots/AZ/AZ-1/status";
    for stage in [3, 4] {
        let (s, b) = app
            .post(
                status,
                &json!({"status": "quarantined", "reason": "VVM read at use", "vvm_stage": stage}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = app.post("/api/v1/doses", &dose(&p2, "AZ-1")).await;
        let why = refusal(s, &b);
        assert!(why.contains("AZ-1"), "{why}");
        assert!(
            why.contains("quarantined")
                && why.contains(&format!("vaccine vial monitor stage {stage}")),
            "{why}"
        );
    }
    // Quarantined after an excursion.
    let (s, _) = app
        .post(
            status,
            &json!({"status": "quarantined", "reason": "heat to 9.4 °C for 95 min in FR-01"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = app.post("/api/v1/doses", &dose(&p2, "AZ-1")).await;
    let why = refusal(s, &b);
    assert!(why.contains("AZ-1") && why.contains("9.4 °C"), "{why}");
    // Released at stage 2: usable again, and a stage 3 read alone (the
    // lot released) refuses it on the vial monitor.
    let (s, b) = app
        .post(
            status,
            &json!({"status": "released", "reason": "within budget", "vvm_stage": 2}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(on_hand(&app, "KS1").await, 5);
    let taken = dose(&p2, "AZ-1");
    let (s, b) = app.post("/api/v1/doses", &taken).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        on_hand(&app, "KS1").await,
        4,
        "the dose came out of S1's store"
    );
    // Recalled.
    let (s, _) = app
        .post(
            status,
            &json!({"status": "recalled", "reason": "manufacturer recall 2021-09"}),
        )
        .await;
    assert_eq!(s, 200);
    let p3 = app.person(3, "Lê Văn Cường").await;
    let (s, b) = app.post("/api/v1/doses", &dose(&p3, "AZ-1")).await;
    let why = refusal(s, &b);
    assert!(
        why.contains("AZ-1") && why.contains("recalled") && why.contains("manufacturer recall"),
        "{why}"
    );
    // A site without a store (S2) keeps no stock: doses there decrement
    // nothing and are not refused for stock.
    let mut at_s2 = dose(&p3, "AZ-2");
    at_s2["site_code"] = json!("S2");
    let (s, b) = app.post("/api/v1/doses", &at_s2).await;
    assert_eq!(s, 201, "{b}");
    // Nothing of the refusals was written: the ledger holds the receipts
    // and the day's line of doses given at KS1 (the dose rows are the
    // ledger's lines for them, shown summed per lot and day).
    let (s, b) = app.get("/api/v1/stores/KS1/movements?limit=500").await;
    assert_eq!(s, 200, "{b}");
    let kinds: Vec<&str> = b["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "dose_given").count(),
        1,
        "{b}"
    );
    assert_eq!(kinds.len(), 3, "{b}");
    let given = b["movements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "dose_given")
        .unwrap();
    assert_eq!(
        (
            given["lot_number"].as_str(),
            given["quantity"].as_u64(),
            given["delta"].as_i64()
        ),
        (Some("AZ-1"), Some(1), Some(-1)),
        "{b}"
    );
    // The dose writer's batch audits the dose it recorded.
    let taken_id = taken["id"].as_str().unwrap();
    let filter = vaxgrid_store::audit::AuditFilter {
        actor: Some("dose writer".into()),
        ..Default::default()
    };
    let entries = app.store.audit_entries(&filter, None, 50).await.unwrap();
    assert!(
        entries
            .items
            .iter()
            .any(|e| e.action == "record_doses" && e.details.contains(taken_id)),
        "no record_doses entry names dose {taken_id}: {:?}",
        entries.items
    );
    assert!(app.store.check_stock().await.unwrap().is_empty());
    // Days of supply count it as consumed that day.
    let figures = app
        .store
        .store_stock_figures("KS1", &vaxgrid_store::scope::Scope::All)
        .await
        .unwrap();
    assert_eq!(
        (figures["AZ"].given_recent, figures["AZ"].given_month),
        (1, 1),
        "{figures:?}"
    );
    // A historical dose (entered after the fact) decrements nothing, and a
    // dose entered in error returns nothing to stock (the vaccine was used).
    receive(&app, "KS1", "AZ-2", 3).await;
    let p4 = app.person(4, "Phạm Thị Dung").await;
    let mut historical = dose(&p4, "AZ-2");
    historical["historical"] = json!(true);
    historical["administered_on"] = json!("2021-04-01");
    let (s, b) = app.post("/api/v1/doses", &historical).await;
    assert_eq!(s, 201, "{b}");
    let given = dose(&p4, "AZ-2");
    let given_id = given["id"].as_str().unwrap().to_string();
    let (s, b) = app.post("/api/v1/doses", &given).await;
    assert_eq!(s, 201, "{b}");
    let on_hand_of = |lot: &'static str| {
        let app = &app;
        async move {
            let (_, b) = app.get("/api/v1/stores/KS1/stock").await;
            b["lots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["lot_number"] == lot)
                .map_or(0, |l| l["on_hand"].as_u64().unwrap())
        }
    };
    assert_eq!(
        on_hand_of("AZ-2").await,
        2,
        "only the dose given here counts"
    );
    let (s, b) = app
        .post(
            &format!("/api/v1/doses/{given_id}/entered-in-error"),
            &json!({"id": new_id(), "reason": "wrong person", "author": "vac-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(on_hand_of("AZ-2").await, 2, "nothing returns to stock");
    assert_eq!(app.store.check_stock().await.unwrap(), Vec::<String>::new());
    app.cleanup().await;
}

/// Many clients at once record doses at one site whose store holds fewer
/// doses than they ask for: exactly the stock is given, every other dose
/// is refused naming the lot, on-hand ends at 0 and equals the ledger.
async fn concurrent_doses_take_exactly_the_stock_at_the_site(backend: &str) {
    const STOCK: u64 = 60;
    const ASKED: usize = 90;
    let app = TestApp::start(backend).await;
    app.seed().await;
    stores(&app).await;
    receive(&app, "KS1", "AZ-1", STOCK).await;
    let mut persons = Vec::new();
    for i in 0..ASKED {
        persons.push(app.person(i as u32 + 1, &format!("Người {i}")).await);
    }
    let mut tasks = Vec::new();
    for chunk in persons.chunks(ASKED / 30) {
        let (client, base, chunk) = (app.client.clone(), app.base.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for person in chunk {
                let r = client
                    .post(format!("{base}/api/v1/doses"))
                    .json(&dose_body(&new_id(), &person, &today()))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                answers.push((status, body));
            }
            answers
        }));
    }
    let (mut given, mut refused) = (0u64, 0u64);
    for t in tasks {
        for (status, body) in t.await.unwrap() {
            match status {
                201 => given += 1,
                422 => {
                    let why = refusal(status, &body);
                    assert!(
                        why.contains("AZ-1") && why.contains("not in stock"),
                        "{why}"
                    );
                    refused += 1;
                }
                other => panic!("dose answered {other}: {body}"),
            }
        }
    }
    assert_eq!((given, refused), (STOCK, ASKED as u64 - STOCK));
    assert_eq!(on_hand(&app, "KS1").await, 0);
    assert_eq!(
        app.store.count_doses().await.unwrap(),
        STOCK as i64,
        "every dose given is stored"
    );
    assert_eq!(app.store.check_stock().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        app.store.check_counters().await.unwrap(),
        Vec::<String>::new()
    );
    app.cleanup().await;
}

/// A recall's certificates: revoked by lot, or by site and day, with a
/// reason, only for the persons in the caller's areas; verifiers refuse
/// them (the revocation list grows) and the replacement dose's new
/// certificate holds.
async fn certificates_are_revoked_by_lot_or_by_site_and_day(backend: &str) {
    let app = TestApp::start_with_keys(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/lots",
            &json!({"product_code": "AZ", "lot_number": "AZ-2", "expiry": "2030-12-31", "doses": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    stores(&app).await;
    receive(&app, "KS1", "AZ-1", 10).await;
    receive(&app, "KS1", "AZ-2", 10).await;
    let mut certs = Vec::new();
    for (i, lot) in ["AZ-1", "AZ-1", "AZ-2"].into_iter().enumerate() {
        let person = app.person(i as u32 + 1, &format!("Người {i}")).await;
        let mut dose = dose_body(&new_id(), &person, &today());
        dose["lot_number"] = json!(lot);
        let (s, b) = app.post("/api/v1/doses", &dose).await;
        assert_eq!(s, 201, "{b}");
        let (s, cert) = app
            .post(&format!("/api/v1/persons/{person}/certificate"), &json!({}))
            .await;
        assert_eq!(s, 201, "{cert}");
        certs.push((person, cert));
    }
    let verify = |hc1: String| {
        let app = &app;
        async move {
            let (s, v) = app.post("/api/v1/dcc/verify", &json!({ "hc1": hc1 })).await;
            assert_eq!(s, 200, "{v}");
            v
        }
    };
    let hc1 = |i: usize| certs[i].1["hc1"].as_str().unwrap().to_string();
    let uvci = |i: usize| certs[i].1["uvci"].as_str().unwrap().to_string();
    let revocations = "/api/v1/dcc/revocations";

    // Bad input: named by field, nothing revoked.
    for (body, expected) in [
        (
            json!({"product_code": "AZ", "lot_number": "AZ-1", "reason": " "}),
            "reason",
        ),
        (json!({"product_code": "AZ", "reason": "x"}), "lot_number"),
        (json!({"site_code": "S1", "reason": "x"}), "day"),
        (
            json!({"site_code": "S1", "day": "yesterday", "reason": "x"}),
            "day",
        ),
        (json!({"reason": "x"}), "lot_number"),
        (
            json!({"product_code": "AZ", "lot_number": "AZ-1", "site_code": "S1", "day": today(), "reason": "x"}),
            "site_code",
        ),
    ] {
        let (s, b) = app.post(revocations, &body).await;
        assert_eq!((s, field(&b)), (422, expected), "{body} → {b}");
    }
    let (s, b) = app
        .post(
            revocations,
            &json!({"product_code": "AZ", "lot_number": "NOPE", "reason": "x"}),
        )
        .await;
    assert_eq!((s, field(&b)), (422, "lot_number"), "an unknown lot: {b}");
    let (_, list) = app.get("/api/v1/dcc/revocation-list").await;
    assert_eq!(list["hashes"], json!([]), "nothing revoked yet");

    // Outside the caller's areas nothing is revoked; a registrar may not.
    let other = app.as_user("u-cold-194", &["cold_chain_officer:194"]).await;
    let (s, b) = other
        .post(
            revocations,
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "reason": "recall"}),
        )
        .await;
    assert_eq!(
        (s, b["revoked"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{b}"
    );
    let registrar = app.as_user("u-reg", &["registrar:S1"]).await;
    let (s, _) = registrar
        .post(
            revocations,
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "reason": "recall"}),
        )
        .await;
    assert_eq!(s, 403);

    // By lot: the two AZ-1 certificates.
    let officer = app.as_user("u-cold", &["cold_chain_officer:193"]).await;
    let by_lot = json!({"product_code": "AZ", "lot_number": "AZ-1", "reason": "manufacturer recall 2021-09"});
    let (s, b) = officer.post(revocations, &by_lot).await;
    assert_eq!(s, 200, "{b}");
    let mut revoked: Vec<String> = serde_json::from_value(b["revoked"].clone()).unwrap();
    revoked.sort();
    let mut want = vec![uvci(0), uvci(1)];
    want.sort();
    assert_eq!(revoked, want);
    let (s, b) = officer.post(revocations, &by_lot).await;
    assert_eq!(
        (
            s,
            b["revoked"].as_array().unwrap().len(),
            b["already_revoked"].as_array().unwrap().len()
        ),
        (200, 0, 2),
        "{b}"
    );
    let v = verify(hc1(0)).await;
    assert_eq!(
        (v["valid"].clone(), v["layer"].clone()),
        (json!(false), json!("REVOCATION")),
        "{v}"
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("manufacturer recall 2021-09"),
        "{v}"
    );
    assert_eq!(
        verify(hc1(2)).await["valid"],
        true,
        "another lot's certificate holds"
    );
    let (_, list) = app.get("/api/v1/dcc/revocation-list").await;
    assert_eq!(list["hashes"].as_array().unwrap().len(), 2, "{list}");

    // By site and day: the AZ-2 certificate too.
    let (s, b) = officer
        .post(revocations, &json!({"site_code": "S1", "day": today(), "reason": "session's cold box found at 14 °C"}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["revoked"], json!([uvci(2)]), "{b}");
    assert_eq!(b["already_revoked"].as_array().unwrap().len(), 2, "{b}");
    assert_eq!(verify(hc1(2)).await["layer"], "REVOCATION");
    let (_, list) = app.get("/api/v1/dcc/revocation-list").await;
    let mut hashes: Vec<String> = serde_json::from_value(list["hashes"].clone()).unwrap();
    hashes.sort();
    let mut want: Vec<String> = (0..3)
        .map(|i| vaxgrid_store::certificates::uvci_hash(&uvci(i)))
        .collect();
    want.sort();
    assert_eq!(hashes, want);

    // The recalled dose is entered in error and replaced: the new dose's
    // certificate is valid; one issued again for a revoked dose is not.
    let (person, cert) = &certs[0];
    let (s, b) = app
        .post(
            &format!(
                "/api/v1/doses/{}/entered-in-error",
                cert["dose_id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "reason": "recalled lot", "author": "vac-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let mut replacement = dose_body(&new_id(), person, &today());
    replacement["lot_number"] = json!("AZ-2");
    let (s, b) = app.post("/api/v1/doses", &replacement).await;
    assert_eq!(s, 201, "{b}");
    let (s, fresh) = app
        .post(&format!("/api/v1/persons/{person}/certificate"), &json!({}))
        .await;
    assert_eq!(s, 201, "{fresh}");
    assert_ne!(fresh["uvci"], cert["uvci"]);
    assert_eq!(fresh["dose_id"], replacement["id"]);
    assert_eq!(
        verify(fresh["hc1"].as_str().unwrap().to_string()).await["valid"],
        true
    );
    let (s, again) = app
        .post(
            &format!("/api/v1/persons/{}/certificate", certs[1].0),
            &json!({}),
        )
        .await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(
        verify(again["hc1"].as_str().unwrap().to_string()).await["layer"],
        "REVOCATION",
        "the revocation holds for the dose, not only the certificate"
    );
    app.cleanup().await;
}
