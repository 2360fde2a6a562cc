//! The area tree's levels and reorganisations over real HTTP on both
//! backends: bad levels and bad reorganisations refused naming the field
//! with nothing written, a move and a merge followed by the person's home,
//! the event listed with the figures before, and a planner kept out; the
//! coverage of an area by region group and by distance from the border.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    levels_are_configured_and_checked,
    reorganisations_over_http,
    coverage_by_region_group_and_border_band
);

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

fn level(key: &str) -> Value {
    json!({"key": key, "name_vi": key, "name_zh": key, "name_en": key})
}

async fn levels_are_configured_and_checked(backend: &str) {
    let app = TestApp::start(backend).await;
    let (s, before) = app.get("/api/v1/area-levels").await;
    assert_eq!(s, 200, "{before}");
    assert_eq!(before["levels"].as_array().map(Vec::len), Some(4));
    let keys = |n: usize| (0..n).map(|i| level(&format!("l{i}"))).collect::<Vec<_>>();
    for (body, name) in [
        (json!({"levels": keys(1)}), "levels"),
        (json!({"levels": keys(7)}), "levels"),
        (json!({"levels": [level("a"), level("a")]}), "levels[1].key"),
        (
            json!({"levels": [level("a"), level("B c")]}),
            "levels[1].key",
        ),
    ] {
        let (s, p) = app.put("/api/v1/area-levels", &body).await;
        assert_eq!((s, field(&p)), (422, Some(name)), "{body}: {p}");
    }
    let (s, after) = app.get("/api/v1/area-levels").await;
    assert_eq!((s, &after), (200, &before), "nothing written");
    // China's five levels, then back to two and six.
    for n in [5, 2, 6] {
        let (s, set) = app
            .put("/api/v1/area-levels", &json!({"levels": keys(n)}))
            .await;
        assert_eq!(s, 200, "{set}");
        assert_eq!(set["levels"].as_array().map(Vec::len), Some(n));
    }
    app.cleanup().await;
}

async fn reorganisations_over_http(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Vũ Văn Một").await;
    // Only an administrator sets the levels.
    let planner = app.as_user("planner-193", &["planner:193"]).await;
    let (s, _) = planner
        .put(
            "/api/v1/area-levels",
            &json!({"levels": [level("a"), level("b"), level("c")]}),
        )
        .await;
    assert_eq!(s, 403);
    let path = "/api/v1/areas/reorganisations";
    let body = |change: Value| json!({"effective_on": "2025-07-01", "reason": "Nghị quyết 202/2025/QH15", "change": change});
    for (b, status, name) in [
        (
            body(json!({"kind": "move", "area": "193", "parent_code": "06658"})),
            422,
            "change.parent_code",
        ),
        (
            body(json!({"kind": "merge", "sources": ["194"], "into": "06658"})),
            422,
            "change.sources[0]",
        ),
        (
            json!({"effective_on": "2999-01-01", "reason": "x", "change": {"kind": "move", "area": "06658", "parent_code": "194"}}),
            422,
            "effective_on",
        ),
        (
            json!({"effective_on": "1 July", "reason": "x", "change": {"kind": "move", "area": "06658", "parent_code": "194"}}),
            422,
            "effective_on",
        ),
    ] {
        let (s, p) = app.post(path, &b).await;
        assert_eq!((s, field(&p)), (status, Some(name)), "{b}: {p}");
    }
    let (s, p) = app
        .post(path, &body(json!({"kind": "swap", "area": "06658"})))
        .await;
    assert_eq!((s, field(&p)), (422, Some("change.kind")), "{p}");
    let (s, list) = app.get(path).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(0)));

    // Commune 06658 moves to district 194, then merges into 06700.
    let (s, r) = app
        .post(
            path,
            &body(json!({"kind": "move", "area": "06658", "parent_code": "194"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["before"]["06658"]["population"], 1, "{r}");
    let (s, a) = app.get("/api/v1/areas/06658").await;
    assert_eq!((s, a["path"].as_str()), (200, Some("/22/194/06658/")));
    let (s, r) = app
        .post(
            path,
            &body(json!({"kind": "merge", "sources": ["06658"], "into": "06700"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, _) = app.get("/api/v1/areas/06658").await;
    assert_eq!(s, 404);
    let (s, v) = app.get("/api/v1/areas/0665801").await;
    assert_eq!(
        (s, v["path"].as_str()),
        (200, Some("/22/194/06700/0665801/")),
        "the village joins the commune merged into: {v}"
    );
    let moved = app.store.person(&person).await.unwrap();
    assert_eq!(moved.commune_code, "06700", "{moved:?}");
    let (s, list) = app.get(path).await;
    assert_eq!(s, 200, "{list}");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["move", "merge"]);
    let planner = app.as_user("planner-22", &["planner:22"]).await;
    let (s, _) = planner
        .post(
            path,
            &body(json!({"kind": "move", "area": "06700", "parent_code": "193"})),
        )
        .await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

/// Districts 193 (east, 30 km from the border) and 194 (west) with commune
/// 06700 at 5 km: a group's figures are its outermost areas' subtrees, a
/// commune under a district of its group is not counted twice, and the
/// bands split at the bounds asked for.
async fn coverage_by_region_group_and_border_band(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for (area, body) in [
        ("193", json!({"border_km": 30, "region_group": "east"})),
        ("06658", json!({"border_km": null, "region_group": "east"})),
        ("194", json!({"border_km": null, "region_group": "west"})),
        ("06700", json!({"border_km": 5, "region_group": null})),
    ] {
        let (s, b) = app
            .post(&format!("/api/v1/areas/{area}/border"), &body)
            .await;
        assert_eq!(s, 200, "{area}: {b}");
    }
    let mut east = Vec::new();
    for serial in 1..=3 {
        east.push(app.person(serial, &format!("Người {serial}")).await);
    }
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022080000009", "full_name": "Người Tây",
                    "birth_date": "1980-05-17", "sex": "male", "home_area": "06700"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/doses",
            &common::dose_body(&common::new_id(), &east[0], "2026-11-02"),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    let (s, r) = app
        .get("/api/v1/reports/coverage/area-groups?area=22&border_bands=20")
        .await;
    assert_eq!(s, 200, "{r}");
    let figures = |v: &Value| {
        (
            v["population"].as_i64().unwrap(),
            v["at_least_one"].as_i64().unwrap(),
        )
    };
    assert_eq!(figures(&r["total"]), (4, 1), "{r}");
    let groups = r["region_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{r}");
    assert_eq!(groups[0]["group"], "east");
    assert_eq!(groups[0]["areas"], json!(["193"]), "06658 is inside 193");
    assert_eq!(figures(&groups[0]["total"]), (3, 1));
    assert_eq!(groups[1]["group"], "west");
    assert_eq!(figures(&groups[1]["total"]), (1, 0));
    let bands = r["border_bands"].as_array().unwrap();
    assert_eq!(bands.len(), 2, "{r}");
    assert_eq!(
        (&bands[0]["group"], &bands[0]["areas"]),
        (&json!("0-20 km"), &json!(["06700"]))
    );
    assert_eq!(figures(&bands[0]["total"]), (1, 0));
    assert_eq!(
        (&bands[1]["group"], bands[1]["to_km"].is_null()),
        (&json!("20+ km"), true)
    );
    assert_eq!(figures(&bands[1]["total"]), (3, 1));
    assert_eq!(figures(&r["without_distance"]), (0, 0));

    // Within a district: its own group only, and no cut is one band.
    let (s, r) = app
        .get("/api/v1/reports/coverage/area-groups?area=193")
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["region_groups"][0]["areas"], json!(["193"]));
    assert_eq!(r["border_bands"].as_array().map(Vec::len), Some(1));

    // Bad bounds name the field; an unknown area and one outside a
    // planner's areas read alike.
    for bad in ["20,10", "0", "x", "1,2,3,4,5,6,7,8,9,10"] {
        let (s, p) = app
            .get(&format!(
                "/api/v1/reports/coverage/area-groups?area=22&border_bands={bad}"
            ))
            .await;
        assert_eq!((s, field(&p)), (422, Some("border_bands")), "{bad}: {p}");
    }
    let (s, _) = app
        .get("/api/v1/reports/coverage/area-groups?area=999")
        .await;
    assert_eq!(s, 404);
    let planner = app.as_user("planner-194", &["planner:194"]).await;
    let (s, p) = planner
        .get("/api/v1/reports/coverage/area-groups?area=193")
        .await;
    assert_eq!(s, 404, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("in your areas"),
        "{p}"
    );
    let (s, r) = planner
        .get("/api/v1/reports/coverage/area-groups?area=194")
        .await;
    assert_eq!((s, figures(&r["total"])), (200, (1, 0)), "{r}");
    app.cleanup().await;
}
