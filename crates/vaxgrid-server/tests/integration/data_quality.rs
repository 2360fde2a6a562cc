//! The data-quality report over real HTTP on both backends: persons per
//! check (likely duplicates, missing phone, missing ID, implausible dates,
//! no home village) for an area and each child, the persons behind each
//! count in pages and as CSV, a district seeing only its own, and bad
//! queries refused by field.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    counts_and_the_persons_behind_them,
    bad_queries_are_refused_by_field,
);

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

/// Registers a man born in 1980 with CCCD number `serial`.
async fn register(
    app: &TestApp,
    serial: u32,
    name: &str,
    home: &str,
    phone: Option<&str>,
) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": format!("022080{serial:06}"), "full_name": name,
                    "birth_date": "1980-05-17", "sex": "male", "home_area": home, "phone": phone}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["person_id"].as_str().unwrap().to_string())
        .collect()
}

async fn counts_and_the_persons_behind_them(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let phone = Some("0912345678");
    let clean = register(&app, 801, "Đỗ Văn Sạch", "0665801", phone).await;
    // No phone, and living in a commune rather than one of its villages.
    let vague = register(&app, 802, "Đỗ Văn Thiếu", "06658", None).await;
    // The same name, birth date and commune twice: likely one person.
    let twin_a = register(&app, 803, "Đỗ Thị Trùng", "0665801", phone).await;
    let twin_b = register(&app, 804, "Đỗ Thị Trùng", "0665801", phone).await;
    // A child registered with a guardian only: no identifier at all.
    let (s, kid) = app
        .post(
            "/api/v1/persons",
            &json!({"full_name": "Đỗ Minh Bé", "birth_date": "2021-09-09", "sex": "male",
                    "home_area": "06700", "phone": "0912000000",
                    "guardian": {"name": "Đỗ Thị Mẹ", "phone": "0912000000", "relationship": "mother"}}),
        )
        .await;
    assert_eq!(s, 201, "{kid}");
    let kid = kid["person"]["id"].as_str().unwrap().to_string();
    // Dates loaded from an old register before today's checks existed.
    let old = register(&app, 805, "Đỗ Văn Cũ", "06700", phone).await;
    sqlx::query("UPDATE persons SET birth_date = '1895-01-01' WHERE id = $1")
        .bind(&old)
        .execute(app.store.pool())
        .await
        .unwrap();
    let report_of = |area: &str| format!("/api/v1/reports/data-quality?area={area}");
    let (s, r) = app.get(&report_of("22")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["area"],
        json!({"area_code": "22", "area_name": "Quảng Ninh", "persons": 6, "likely_duplicate": 2,
               "missing_phone": 1, "missing_id": 1, "implausible_dates": 1, "no_home_village": 1}),
        "{r}"
    );
    let children = r["children"].as_array().unwrap();
    assert_eq!(children.len(), 2, "{r}");
    assert_eq!(children[0]["area_code"], "193");
    assert_eq!(
        (&children[0]["persons"], &children[0]["likely_duplicate"]),
        (&json!(4), &json!(2))
    );
    assert_eq!(
        (&children[1]["persons"], &children[1]["missing_id"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(children[1]["implausible_dates"], 1);
    // Deciding the pair is two people takes it off; a merge would too.
    app.store
        .dismiss_duplicate(
            &twin_a,
            &twin_b,
            "twins",
            &vaxgrid_store::model::Actor::system("admin"),
        )
        .await
        .unwrap();
    let (_, r) = app.get(&report_of("22")).await;
    assert_eq!(r["area"]["likely_duplicate"], 0, "{r}");
    // The persons behind each count, each with all their problems.
    let list = |q: &str| format!("/api/v1/reports/data-quality/persons?area=22{q}");
    let (s, l) = app.get(&list("&check=missing_phone")).await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(ids(&l), [vague.as_str()]);
    assert_eq!(
        l["items"][0]["problems"],
        json!(["missing_phone", "no_home_village"])
    );
    let (_, l) = app.get(&list("&check=missing_id")).await;
    assert_eq!(ids(&l), [kid.as_str()]);
    let (_, l) = app.get(&list("&check=implausible_dates")).await;
    assert_eq!(ids(&l), [old.as_str()]);
    assert_eq!(l["items"][0]["birth_date"], "1895-01-01");
    // Any problem, by id in pages of two: everyone but the clean record.
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let (s, page) = app.get(&list(&format!("&limit=2{after}"))).await;
        assert_eq!(s, 200, "{page}");
        assert!(page["items"].as_array().unwrap().len() <= 2);
        all.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => break,
        }
    }
    let mut expected = vec![vague.clone(), kid.clone(), old.clone()];
    expected.sort();
    assert_eq!(all, expected, "not {clean}");
    // CSV of both.
    let (s, csv) = app.get(&format!("{}&format=csv", report_of("22"))).await;
    assert_eq!(s, 200);
    assert_eq!(
        csv.as_str().unwrap().lines().take(2).collect::<Vec<_>>(),
        [
            "area_code,area_name,persons,likely_duplicate,missing_phone,missing_id,implausible_dates,no_home_village",
            "22,Quảng Ninh,6,0,1,1,1,1"
        ]
    );
    let (s, csv) = app.get(&list("&check=missing_phone&format=csv")).await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].starts_with(&format!("{vague},Đỗ Văn Thiếu,1980-05-17,male,cccd,022080000802,,06658,missing_phone;no_home_village")), "{lines:?}");
    // A district sees its own; another's is answered as a missing area.
    let planner = app.as_user("u-ml", &["statistics_officer:194"]).await;
    let (s, r) = planner.get(&report_of("194")).await;
    assert_eq!((s, &r["area"]["persons"]), (200, &json!(2)), "{r}");
    for url in [report_of("193"), report_of("22"), list("")] {
        let (s, p) = planner.get(&url).await;
        assert_eq!(s, 404, "{url}: {p}");
    }
    let registrar = app.as_user("u-reg", &["registrar:S1"]).await;
    let (s, _) = registrar.get(&report_of("193")).await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn bad_queries_are_refused_by_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for (path, name) in [
        ("/api/v1/reports/data-quality", "area"),
        ("/api/v1/reports/data-quality?area=", "area"),
        ("/api/v1/reports/data-quality?area=22&format=pdf", "format"),
        (
            "/api/v1/reports/data-quality?area=22&check=missing_id",
            "check",
        ),
        ("/api/v1/reports/data-quality/persons", "area"),
        (
            "/api/v1/reports/data-quality/persons?area=22&check=no_phone",
            "check",
        ),
        (
            "/api/v1/reports/data-quality/persons?area=22&limit=0",
            "limit",
        ),
        (
            "/api/v1/reports/data-quality/persons?area=22&limit=many",
            "limit",
        ),
        (
            "/api/v1/reports/data-quality/persons?area=22&after=zz",
            "after",
        ),
        (
            "/api/v1/reports/data-quality/persons?area=22&format=csv&after=abc",
            "after",
        ),
    ] {
        let (s, p) = app.get(path).await;
        assert_eq!((s, field(&p)), (400, Some(name)), "{path}: {p}");
    }
    let (s, p) = app.get("/api/v1/reports/data-quality?area=99").await;
    assert_eq!(s, 404, "{p}");
    app.cleanup().await;
}
