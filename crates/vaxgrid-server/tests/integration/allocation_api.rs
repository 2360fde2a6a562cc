//! Allocation down the store tree, open vials and ancillary supplies over
//! real HTTP, on SQLite and PostgreSQL: a Guangxi-style border-first split
//! of a district's delivery among its communes, the planner's adjusted
//! parts refused by field unless they sum to the delivery, confirmed as
//! shipments in one transaction carrying their syringes and safety boxes;
//! shortfall warnings; open vials whose doses left reach the vaccinator and
//! whose rest becomes wastage at the limit exactly once.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};
use vaxgrid_core::supply::ledger::{Movement, MovementKind};
use vaxgrid_store::model::Actor;
use vaxgrid_store::supply::NewMovement;

on_both_backends!(
    a_delivery_is_split_border_first_and_confirmed_as_shipments,
    open_vials_show_doses_left_and_waste_the_rest_once,
);

fn field(b: &Value) -> &str {
    b["errors"][0]["field"]
        .as_str()
        .or(b["field"].as_str())
        .unwrap_or("")
}

/// Móng Cái district (194) and three of its communes: Ka Long on the
/// border (2 km), Hải Hòa 15 km in, Quảng Nghĩa 45 km in; a store for the
/// district and one per commune below it.
async fn border_district(app: &TestApp) {
    for area in [
        json!({"code": "06701", "parent_code": "194", "level": "commune", "name": "Hải Hòa"}),
        json!({"code": "06702", "parent_code": "194", "level": "commune", "name": "Quảng Nghĩa"}),
    ] {
        let (s, b) = app.post("/api/v1/areas", &area).await;
        assert_eq!(s, 201, "{b}");
    }
    for (area, km) in [("06700", 2), ("06701", 15), ("06702", 45)] {
        let (s, b) = app
            .post(
                &format!("/api/v1/areas/{area}/border"),
                &json!({"border_km": km, "region_group": "Móng Cái border"}),
            )
            .await;
        assert_eq!((s, b["border_km"].as_u64()), (200, Some(km)), "{b}");
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
    // Residents: 4 in Ka Long, 2 in Hải Hòa, 4 in Quảng Nghĩa.
    let mut serial = 0;
    for (area, n) in [("06700", 4), ("06701", 2), ("06702", 4)] {
        for _ in 0..n {
            serial += 1;
            let (s, b) = app
                .post(
                    "/api/v1/persons",
                    &json!({"id_type": "cccd", "id_number": format!("022080{:06}", 500 + serial),
                            "full_name": format!("Người {serial}"), "birth_date": "1980-05-17",
                            "sex": "male", "home_area": area}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
    }
}

async fn on_hand(app: &TestApp, store: &str) -> u64 {
    let (s, b) = app.get(&format!("/api/v1/stores/{store}/stock")).await;
    assert_eq!(s, 200, "{b}");
    b["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["on_hand"].as_u64().unwrap())
        .sum()
}

async fn items(app: &TestApp, store: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v1/stores/{store}/items")).await;
    assert_eq!(s, 200, "{b}");
    b
}

fn pieces(b: &Value, item: &str) -> u64 {
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item_code"] == item)
        .map_or(0, |i| i["on_hand"].as_u64().unwrap())
}

async fn a_delivery_is_split_border_first_and_confirmed_as_shipments(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    border_district(&app).await;
    // Bad border input names the field.
    for (body, f) in [
        (json!({"border_km": -1}), "border_km"),
        (json!({"border_km": 6000}), "border_km"),
        (
            json!({"border_km": 5, "region_group": "x".repeat(65)}),
            "region_group",
        ),
    ] {
        let (s, b) = app.post("/api/v1/areas/06700/border", &body).await;
        assert_eq!((s, field(&b)), (422, f), "{body} → {b}");
    }
    let (s, b) = app.get("/api/v1/areas/06700/border").await;
    assert_eq!(
        (s, b["border_km"].as_u64()),
        (200, Some(2)),
        "nothing written: {b}"
    );

    // The district receives 100 vials of AZ (10 doses each).
    let (s, b) = app
        .post(
            "/api/v1/stores/K194/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt",
                    "quantity": 1000, "source": "covax", "document": "COVAX-VN-2021-201"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // Syringes and safety boxes: 1 AD syringe per dose, 1 box per 100
    // syringes; the district holds 300 syringes and 2 boxes.
    for body in [
        json!({"code": "AD05", "name": "Bơm kim tiêm tự khóa 0,5 ml", "kind": "ad_syringe"}),
        json!({"code": "BOX5", "name": "Hộp an toàn 5 l", "kind": "safety_box"}),
    ] {
        let (s, b) = app.post("/api/v1/supply-items", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    for body in [
        json!({"item_code": "AD05", "quantity": 1, "per": 1, "unit": "dose"}),
        json!({"item_code": "BOX5", "quantity": 1, "per": 100, "unit": "syringe"}),
    ] {
        let (s, b) = app.post("/api/v1/products/AZ/ratios", &body).await;
        assert_eq!(s, 200, "{b}");
    }
    for (body, f) in [
        (
            json!({"item_code": "AD05", "quantity": 0, "per": 1, "unit": "dose"}),
            "quantity",
        ),
        (
            json!({"item_code": "AD05", "quantity": 1, "per": 0, "unit": "dose"}),
            "per",
        ),
        (
            json!({"item_code": "AD05", "quantity": 1, "per": 1, "unit": "box"}),
            "unit",
        ),
        (
            json!({"item_code": "AD05", "quantity": 1, "per": 1, "unit": "syringe"}),
            "unit",
        ),
        (
            json!({"item_code": "NOPE", "quantity": 1, "per": 1, "unit": "dose"}),
            "item_code",
        ),
    ] {
        let (s, b) = app.post("/api/v1/products/AZ/ratios", &body).await;
        assert_eq!((s, field(&b)), (422, f), "{body} → {b}");
    }
    for (item, q) in [("AD05", 300), ("BOX5", 2)] {
        let (s, b) = app
            .post(
                "/api/v1/stores/K194/items",
                &json!({"item_code": item, "kind": "receipt", "quantity": q, "note": "PX-77"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    for (body, f) in [
        (
            json!({"item_code": "AD05", "kind": "receipt", "quantity": 0}),
            "quantity",
        ),
        (
            json!({"item_code": "AD05", "kind": "receipt", "quantity": -3}),
            "quantity",
        ),
        (
            json!({"item_code": "AD05", "kind": "gift", "quantity": 3}),
            "kind",
        ),
        (
            json!({"item_code": "AD05", "kind": "issue", "quantity": 301}),
            "quantity",
        ),
        (
            json!({"item_code": "AD05", "kind": "adjustment_down", "quantity": 1}),
            "note",
        ),
        (
            json!({"item_code": "NOPE", "kind": "receipt", "quantity": 1}),
            "item_code",
        ),
    ] {
        let (s, b) = app.post("/api/v1/stores/K194/items", &body).await;
        assert_eq!((s, field(&b)), (422, f), "{body} → {b}");
    }
    assert_eq!(
        pieces(&items(&app, "K194").await, "AD05"),
        300,
        "nothing written"
    );

    // The proposal: needs 4, 2, 4 people; weights ×1.5, ×1.5, ×1 → 6:3:4
    // of 26 vials = 12, 6, 8. Per head the border communes get 3 vials,
    // the inland one 2.
    let ask =
        json!({"from_store": "K194", "product_code": "AZ", "lot_number": "AZ-1", "vials": 26});
    let (s, p) = app.post("/api/v1/allocations/proposal", &ask).await;
    assert_eq!(s, 200, "{p}");
    let parts = p["parts"].as_array().unwrap();
    let got: Vec<(&str, u64, u64, u64)> = parts
        .iter()
        .map(|x| {
            (
                x["store_code"].as_str().unwrap(),
                x["vials"].as_u64().unwrap(),
                x["need"].as_u64().unwrap(),
                x["factor_permille"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("KC1", 12, 4, 1500),
            ("KC2", 6, 2, 1500),
            ("KC3", 8, 4, 1000)
        ]
    );
    for x in parts {
        let per_head = x["vials"].as_u64().unwrap() / x["population"].as_u64().unwrap();
        let within = x["border_km"].as_u64().unwrap() <= 20;
        assert_eq!(per_head, if within { 3 } else { 2 }, "{x}");
    }
    assert_eq!(
        parts
            .iter()
            .map(|x| x["vials"].as_u64().unwrap())
            .sum::<u64>(),
        26
    );
    // Without the border weights the same delivery follows the heads.
    let mut flat = ask.clone();
    flat["border_weights"] = json!([]);
    let (_, p) = app.post("/api/v1/allocations/proposal", &flat).await;
    let v: Vec<u64> = p["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["vials"].as_u64().unwrap())
        .collect();
    assert_eq!(v, [11, 5, 10], "{p}");

    // Bad proposals name the field.
    let with = |changes: Value| {
        let mut b = ask.clone();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, f) in [
        (with(json!({"vials": 0})), "vials"),
        (with(json!({"vials": -4})), "vials"),
        (with(json!({"vials": 101})), "vials"),
        (with(json!({"lot_number": "NOPE"})), "lot_number"),
        (with(json!({"from_store": "K999"})), "from_store"),
        (with(json!({"from_store": "KC1"})), "vials"),
        (with(json!({"basis": "loudest"})), "basis"),
        (with(json!({"basis": "remaining_target"})), "campaign_id"),
        (
            with(json!({"border_weights": [{"within_km": 20, "factor_permille": 15000}]})),
            "border_weights.factor_permille",
        ),
        (
            with(json!({"border_weights": [{"within_km": -2, "factor_permille": 1500}]})),
            "border_weights[0].within_km",
        ),
    ] {
        let (s, b) = app.post("/api/v1/allocations/proposal", &body).await;
        assert_eq!((s, field(&b)), (422, f), "{body} → {b}");
    }

    // The planner's adjustments: refused by field, nothing written.
    let audited = app.store.verify_audit().await.unwrap().0;
    let confirm = |parts: Value| {
        let mut b = ask.clone();
        b["parts"] = parts;
        b
    };
    for (parts, f) in [
        (
            json!([{"store_code": "KC1", "vials": 13}, {"store_code": "KC2", "vials": 5}, {"store_code": "KC3", "vials": 9}]),
            "parts",
        ),
        (
            json!([{"store_code": "KC1", "vials": 13}, {"store_code": "KC2", "vials": 5}]),
            "parts",
        ),
        (
            json!([{"store_code": "KC1", "vials": 30}, {"store_code": "KC2", "vials": -4}]),
            "parts[1].vials",
        ),
        (
            json!([{"store_code": "KC1", "vials": 13}, {"store_code": "K22", "vials": 13}]),
            "parts[1].store_code",
        ),
        (
            json!([{"store_code": "KC1", "vials": 13}, {"store_code": "KC1", "vials": 13}]),
            "parts[1].store_code",
        ),
        (json!([]), "parts"),
    ] {
        let (s, b) = app
            .post("/api/v1/allocations", &confirm(parts.clone()))
            .await;
        assert_eq!((s, field(&b)), (422, f), "{parts} → {b}");
    }
    assert_eq!(on_hand(&app, "K194").await, 1000, "nothing written");
    assert_eq!(app.store.verify_audit().await.unwrap().0, audited);

    // Confirmed as adjusted: three shipments in one transaction, each
    // carrying its syringes, and the boxes as far as they go.
    let mut body = confirm(json!([
        {"store_code": "KC1", "vials": 13}, {"store_code": "KC2", "vials": 5}, {"store_code": "KC3", "vials": 8}
    ]));
    let id = new_id();
    body["id"] = json!(id);
    let (s, a) = app.post("/api/v1/allocations", &body).await;
    assert_eq!(s, 201, "{a}");
    let shipments = a["shipments"].as_array().unwrap();
    let dispatched: Vec<(&str, u64)> = shipments
        .iter()
        .map(|x| {
            (
                x["to_store"].as_str().unwrap(),
                x["dispatched"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(dispatched, [("KC1", 130), ("KC2", 50), ("KC3", 80)]);
    assert_eq!(on_hand(&app, "K194").await, 740);
    let first = shipments[0]["id"].as_str().unwrap();
    let carried = &a["items"][first];
    assert_eq!(
        carried,
        &json!([{"item_code": "AD05", "on_hand": 130}, {"item_code": "BOX5", "on_hand": 2}]),
        "{a}"
    );
    let left = items(&app, "K194").await;
    assert_eq!((pieces(&left, "AD05"), pieces(&left, "BOX5")), (40, 0));
    // The district is warned: 740 doses need 740 syringes and 8 boxes.
    let short: Vec<(&str, u64)> = left["shortfalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["item_code"].as_str().unwrap(),
                x["short"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(short, [("AD05", 700), ("BOX5", 8)], "{left}");
    // The same allocation twice is a conflict; nothing moves.
    let (s, b) = app.post("/api/v1/allocations", &body).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(on_hand(&app, "K194").await, 740);

    // Received at Ka Long: the vaccine and the pieces that came with it.
    let (s, b) = app
        .post(
            &format!("/api/v1/shipments/{first}/receive"),
            &json!({"received": 130}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let kc1 = items(&app, "KC1").await;
    assert_eq!(
        (pieces(&kc1, "AD05"), pieces(&kc1, "BOX5")),
        (130, 2),
        "{kc1}"
    );
    assert!(kc1["shortfalls"].as_array().unwrap().is_empty(), "{kc1}");
    assert!(app.store.check_stock().await.unwrap().is_empty());
    assert!(app.store.check_items().await.unwrap().is_empty());

    // Access by area: a planner of another district does not see K194;
    // a statistics officer reads but does not allocate.
    let other = app.as_user("planner193", &["planner:193"]).await;
    let (s, b) = other.post("/api/v1/allocations/proposal", &ask).await;
    assert_eq!((s, field(&b)), (422, "from_store"), "{b}");
    let (s, _) = other.get("/api/v1/stores/K194/items").await;
    assert_eq!(s, 404);
    let stats = app.as_user("stats194", &["statistics_officer:194"]).await;
    let (s, _) = stats.post("/api/v1/allocations/proposal", &ask).await;
    assert_eq!(s, 403);
    let (s, _) = stats.get("/api/v1/stores/K194/items").await;
    assert_eq!(s, 200);
    app.cleanup().await;
}

async fn open_vials_show_doses_left_and_waste_the_rest_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh", "area_code": "22"}),
        json!({"code": "K193", "name": "Kho Hạ Long", "area_code": "193", "parent_code": "K22"}),
        json!({"code": "KS1", "name": "Tủ lạnh trạm Hồng Gai", "area_code": "06658", "parent_code": "K193", "site_code": "S1"}),
    ] {
        let (s, b) = app.post("/api/v1/stores", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = app
        .post(
            "/api/v1/stores/KS1/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt",
                    "quantity": 100, "source": "transfer_in", "document": "PX-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/stores/KS1/movements",
            &json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "vial_opened",
                    "quantity": 1, "doses_per_vial": 10}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.get("/api/v1/stores/KS1/open-vials").await;
    assert_eq!(s, 200, "{b}");
    let v = &b["open_vials"][0];
    assert_eq!(
        (v["doses_left"].as_u64(), v["next"].as_bool()),
        (Some(10), Some(true)),
        "{b}"
    );

    // Three doses given at the site (the dose writer's movement).
    app.store
        .record_movement(
            &NewMovement {
                store_code: "KS1".into(),
                product_code: "AZ".into(),
                lot_number: "AZ-1".into(),
                movement: Movement {
                    id: uuid::Uuid::now_v7(),
                    kind: MovementKind::DoseGiven,
                    quantity: 3,
                },
            },
            &Actor::system("dose writer"),
        )
        .await
        .unwrap();
    // Two doses recorded at S1 through the API: the dose writer takes
    // them from the same vial in its batch.
    for serial in [1, 2] {
        let person = app.person(serial, "Nguyễn Văn An").await;
        let today = vaxgrid_store::format_date(vaxgrid_store::today());
        let mut dose = dose_body(&new_id(), &person, &today);
        dose["lot_number"] = json!("AZ-1");
        let (s, b) = app.post("/api/v1/doses", &dose).await;
        assert_eq!(s, 201, "{b}");
    }
    // The vaccinator at S1 sees 5 doses left before opening another.
    let vaccinator = app.as_user("vacc1", &["vaccinator:S1"]).await;
    let (s, b) = vaccinator.get("/api/v1/sites/S1/open-vials").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["store_code"], "KS1");
    assert_eq!(b["open_vials"][0]["doses_left"].as_u64(), Some(5), "{b}");
    let (s, _) = vaccinator.get("/api/v1/sites/S9/open-vials").await;
    assert_eq!(s, 404);
    let (s, _) = vaccinator.get("/api/v1/stores/KS1/open-vials").await;
    assert_eq!(s, 403);

    // Six hours pass: the sweep and a read close the vial at once; its 5
    // doses are wastage exactly once.
    app.store
        .set_vial_limit_for_test("KS1", vaxgrid_store::now_micros() - 1)
        .await
        .unwrap();
    let (swept, read) = tokio::join!(
        app.store.close_due_vials(),
        app.get("/api/v1/stores/KS1/open-vials")
    );
    assert_eq!(read.0, 200, "{}", read.1);
    let swept = swept.unwrap();
    assert!(swept == 5 || swept == 0, "{swept}");
    assert_eq!(app.store.close_due_vials().await.unwrap(), 0, "idempotent");
    let (_, b) = app.get("/api/v1/stores/KS1/open-vials").await;
    let v = &b["open_vials"][0];
    assert_eq!(
        (
            v["closed"].as_bool(),
            v["wasted"].as_u64(),
            v["doses_left"].as_u64()
        ),
        (Some(true), Some(5), Some(0)),
        "{b}"
    );
    let (_, m) = app.get("/api/v1/stores/KS1/movements?limit=50").await;
    let wastage: Vec<&Value> = m["movements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "wastage")
        .collect();
    assert_eq!(wastage.len(), 1, "{m}");
    assert_eq!(wastage[0]["quantity"].as_u64(), Some(5));
    assert_eq!(wastage[0]["details"]["reason"], "open_vial_unused");
    assert_eq!(on_hand(&app, "KS1").await, 90);
    assert!(app.store.check_stock().await.unwrap().is_empty());
    app.cleanup().await;
}
