//! The planner's pages over real HTTP on both backends: the dashboard's
//! drill-down and the lists behind its figures, an area outside the
//! caller's areas as the 404 page, names shown as text; the campaign
//! planning forms (CSRF, client id, errors by field in the reader's
//! language, double submit recorded once).

mod common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(dashboard_drills_down_and_links_to_lists);

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

/// GET a page: status and body text.
async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept-language", "en")
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    assert_ne!(status, 500, "{path}");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = r.text().await.expect("body");
    (status, location.unwrap_or(text))
}

/// Province 22 with a campaign over it and a wave running today; two
/// residents of village 0665801, one vaccinated.
pub async fn planned_world(app: &TestApp) -> (String, String, String) {
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/areas",
            &json!({"code": "0665802", "parent_code": "06658", "level": "village", "name": "Khu <img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let done = app.person(1, "Đặng Thị Hoa").await;
    let waiting = app.person(2, "<script>alert(1)</script> Lê Văn Chờ").await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &done, &day(0)))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, c) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "COVID-19 Quảng Ninh", "disease": "COVID-19", "area_code": "22", "products": ["AZ"],
                    "priority_groups": ["frontline"], "target_percent": 80.0, "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let campaign = c["id"].as_str().unwrap().to_string();
    let (s, w) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/waves"),
            &json!({"name": "Đợt 1", "starts_on": day(-1), "ends_on": day(30), "eligible_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let (s, t) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/targets"),
            &json!({"area": "22"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    (campaign, done, waiting)
}

async fn dashboard_drills_down_and_links_to_lists(backend: &str) {
    let app = TestApp::start(backend).await;
    let (campaign, _done, _waiting) = planned_world(&app).await;
    // An administrator starts at the provinces.
    let (s, top) = page(&app, "/planner").await;
    assert_eq!(s, 200, "{top}");
    assert!(top.contains(r#"href="/planner/areas/22""#), "{top}");
    let (s, p) = page(&app, "/planner/areas/22").await;
    assert_eq!(s, 200, "{p}");
    assert!(p.contains("<h1>Coverage: Quảng Ninh</h1>"), "{p}");
    assert!(p.contains(r#"id="area-193""#) && p.contains(r#"id="area-194""#));
    assert!(p.contains(r#"href="/planner/areas/193""#), "{p}");
    assert!(p.contains("COVID-19 Quảng Ninh"), "{p}");
    // Doses per day against the daily target (80% of 2 people over 61 days).
    assert!(p.contains("<title>Daily target</title>"), "{p}");
    // District, commune, then the villages (no link further down).
    let (s, d) = page(&app, "/planner/areas/193").await;
    assert_eq!(s, 200);
    assert!(d.contains(r#"href="/planner/areas/06658""#), "{d}");
    let (s, c) = page(&app, "/planner/areas/06658").await;
    assert_eq!(s, 200);
    assert!(c.contains("<h2 id=\"by-area\">Villages</h2>"), "{c}");
    assert!(!c.contains(r#"href="/planner/areas/0665801""#), "{c}");
    // A village's name is text, not markup.
    assert!(!c.contains("<img src=x"), "{c}");
    assert!(
        c.contains("Khu &#60;img") || c.contains("Khu &lt;img"),
        "{c}"
    );
    // The village row: 2 residents, 1 with a dose, 1 not yet, whose
    // figure links to the printable list of those not yet vaccinated.
    let row = c
        .split(r#"id="area-0665801""#)
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the village's row");
    assert!(row.contains("50.0%"), "{row}");
    let wave = app.get(&format!("/api/v1/campaigns/{campaign}")).await.1["waves"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = format!(
        "/api/v1/campaigns/{campaign}/waves/{wave}/survey?area=0665801&#38;format=html&#38;status=not_yet"
    );
    assert!(row.contains(&list), "{row}");
    let (s, printed) = page(&app, &list.replace("&#38;", "&")).await;
    assert_eq!(s, 200, "{printed}");
    assert!(printed.contains("Lê Văn Chờ"), "{printed}");
    assert!(!printed.contains("<script>alert"), "{printed}");
    assert!(!printed.contains("Đặng Thị Hoa"), "{printed}");
    // A bad status is refused by field; a JSON page is not filtered.
    let (s, b) = app
        .get(&format!(
            "/api/v1/campaigns/{campaign}/waves/{wave}/survey?area=0665801&format=html&status=gone"
        ))
        .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (400, Some("status")));
    let (s, _) = app
        .get(&format!(
            "/api/v1/campaigns/{campaign}/waves/{wave}/survey?status=not_yet"
        ))
        .await;
    assert_eq!(s, 400);
    // A district's planner goes straight to their district, and sees
    // neither the province nor the other district.
    let district = app.as_user("planner193", &["planner:193"]).await;
    let (s, to) = page(&district, "/planner").await;
    assert_eq!((s, to.as_str()), (303, "/planner/areas/193"));
    for outside in [
        "/planner/areas/22",
        "/planner/areas/194",
        "/planner/areas/nowhere",
    ] {
        let (s, body) = page(&district, outside).await;
        assert_eq!(s, 404, "{outside}");
        assert!(body.contains("<html"), "an error page: {body}");
    }
    let (s, body) = page(&district, "/planner/areas/193?campaign=x").await;
    assert_eq!(s, 404, "{body}");
    let (s, body) = page(&district, "/planner/areas/193?other=1").await;
    assert_eq!(s, 400, "{body}");
    app.cleanup().await;
}
