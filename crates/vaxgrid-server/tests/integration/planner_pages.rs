//! The planner's pages over real HTTP on both backends: the dashboard's
//! drill-down and the lists behind its figures, an area outside the
//! caller's areas as the 404 page, names shown as text; the campaign
//! planning forms (CSRF, client id, errors by field in the reader's
//! language, double submit recorded once).

use crate::common;

use common::pages::{FormPages, Session};
use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    dashboard_drills_down_and_links_to_lists,
    planning_forms_check_like_the_api_and_record_once,
    site_forms_set_zones_open_sessions_and_show_certification,
);

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
    assert!(
        !p.contains("by-area-group"),
        "no region groups nor distances: no such table"
    );
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

/// The value of the hidden client id of the form posting to `action`.
fn client_id(page: &str, action: &str) -> String {
    let form = page
        .split(&format!(r#"action="{action}""#))
        .nth(1)
        .expect("the form");
    form.split(r#"name="id" value=""#)
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("the client id")
        .to_string()
}

async fn planning_forms_check_like_the_api_and_record_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for (i, area) in ["0665801", "0665801", "06700"].iter().enumerate() {
        let (s, b) = app
            .post(
                "/api/v1/persons",
                &json!({"id_type": "cccd", "id_number": format!("0220800100{i:02}"), "full_name": format!("Người {i}"),
                        "birth_date": "1980-05-17", "sex": "male", "home_area": area, "priority_groups": ["frontline"]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let planner = Session::start(&app, "planner22", &["planner:22"]).await;
    let (s, page) = planner.get("/planner/campaigns", "vi").await;
    assert_eq!(s, 200, "{page}");
    let id = client_id(&page, "/planner/campaigns");
    let mut form = vec![
        ("id", id.as_str()),
        ("name", "Tiêm chủng <b>COVID-19</b>"),
        ("disease", "COVID-19"),
        ("area_code", "22"),
        ("products", "AZ"),
        ("products", "PFIZER"),
        ("priority_groups", "frontline"),
        ("target_percent", "80,5"),
        ("target_date", "2020-01-01"),
        ("min_age_years", "18"),
    ];
    // Without the CSRF token: refused before anything.
    let (s, _) = planner.post("/planner/campaigns", "vi", &form, false).await;
    assert_eq!(s, 403);
    // A past target date: the API's rule, the error next to the field in
    // Vietnamese, what was typed kept.
    let (s, page) = planner.post("/planner/campaigns", "vi", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-target_date""#), "{page}");
    assert!(
        page.contains("Nhập ngày từ hôm nay đến tối đa 5 năm sau."),
        "{page}"
    );
    assert!(
        page.contains(r#"value="Tiêm chủng &#60;b&#62;COVID-19&#60;/b&#62;""#)
            || page.contains(r#"value="Tiêm chủng &lt;b&gt;COVID-19&lt;/b&gt;""#),
        "{page}"
    );
    assert!(page.contains(r#"value="80,5""#), "{page}");
    assert!(
        page.contains(&format!(r#"value="{id}""#)),
        "the same client id: {page}"
    );
    // In Chinese, a percentage above 100.
    let target = day(90);
    form[7] = ("target_percent", "120");
    form[8] = ("target_date", &target);
    let (s, page) = planner.post("/planner/campaigns", "zh", &form, true).await;
    assert_eq!(s, 422);
    assert!(
        page.contains("请填写 0 至 100 的百分比，最多一位小数。"),
        "{page}"
    );
    // An area outside the planner's areas.
    form[7] = ("target_percent", "80,5");
    form[3] = ("area_code", "99");
    let (s, page) = planner.post("/planner/campaigns", "en", &form, true).await;
    assert_eq!(s, 422);
    assert!(page.contains(r#"id="err-area_code""#), "{page}");
    // Right: created; the same form sent twice records once.
    form[3] = ("area_code", "22");
    let (s, to) = planner.post("/planner/campaigns", "vi", &form, true).await;
    assert_eq!(
        (s, to.as_str()),
        (303, format!("/planner/campaigns/{id}").as_str())
    );
    let (s, again) = planner.post("/planner/campaigns", "vi", &form, true).await;
    assert_eq!((s, again), (303, to.clone()));
    let (_, list) = app.get("/api/v1/campaigns").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["target_percent"], 80.5);
    // A wave: ends before it starts, then right, twice.
    let (s, page) = planner.get(&to, "vi").await;
    assert_eq!(s, 200);
    let action = format!("/planner/campaigns/{id}/waves");
    let wave_id = client_id(&page, &action);
    let (start, end, before) = (day(0), day(30), day(-1));
    let mut wave = vec![
        ("id", wave_id.as_str()),
        ("name", "Đợt 1"),
        ("starts_on", start.as_str()),
        ("ends_on", before.as_str()),
        ("eligible_groups", "frontline"),
    ];
    let (s, page) = planner.post(&action, "en", &wave, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="werr-ends_on""#), "{page}");
    assert!(page.contains(r#"value="Đợt 1""#), "{page}");
    wave[3] = ("ends_on", end.as_str());
    for _ in 0..2 {
        let (s, back) = planner.post(&action, "en", &wave, true).await;
        assert_eq!((s, back.as_str()), (303, to.as_str()));
    }
    let (_, c) = app.get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(c["waves"].as_array().unwrap().len(), 1, "{c}");
    // The target tree: the province's target split, one district fixed
    // by hand, the other gets the rest; the sums agree.
    let split = format!("/planner/campaigns/{id}/targets");
    let (s, back) = planner
        .post(
            &split,
            "en",
            &[("area", "22"), ("part.193", ""), ("part.194", "")],
            true,
        )
        .await;
    assert_eq!((s, back.as_str()), (303, format!("{to}?area=22").as_str()));
    let (s, page) = planner.get(&back, "en").await;
    assert_eq!(s, 200);
    assert!(
        page.contains(r#"<strong id="area-target">2</strong>"#),
        "{page}"
    );
    let (s, _) = planner
        .post(
            &split,
            "en",
            &[("area", "22"), ("part.193", "1"), ("part.194", "")],
            true,
        )
        .await;
    assert_eq!(s, 303);
    let (_, t) = app
        .get(&format!("/api/v1/campaigns/{id}/targets?area=22"))
        .await;
    let parts: Vec<(String, i64, bool)> = t["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["area_code"].as_str().unwrap().to_string(),
                c["target"].as_i64().unwrap(),
                c["fixed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        vec![("193".into(), 1, true), ("194".into(), 1, false)]
    );
    // Too much fixed by hand, or not a number: the error by the part, in
    // Vietnamese, the numbers typed kept.
    let (s, page) = planner
        .post(
            &split,
            "vi",
            &[("area", "22"), ("part.193", "1"), ("part.194", "hai")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="part-err-194""#), "{page}");
    assert!(page.contains(r#"value="hai""#), "{page}");
    let (s, page) = planner
        .post(
            &split,
            "vi",
            &[("area", "22"), ("part.193", "5"), ("part.194", "")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="split-error""#), "{page}");
    assert!(page.contains("tổng không vượt quá chỉ tiêu"), "{page}");
    assert!(page.contains(r#"name="part.193" value="5""#), "{page}");
    // A district's planner: the campaign's tree starts at their district,
    // the other district is a 404 page, and they add no wave to the
    // province's campaign (their error shown, nothing recorded).
    let district = Session::start(&app, "planner193", &["planner:193"]).await;
    let (s, page) = district.get(&to, "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(r#"name="area" value="193""#), "{page}");
    let (s, _) = district.get(&format!("{to}?area=194"), "en").await;
    assert_eq!(s, 404);
    let (s, _) = district
        .post(&split, "en", &[("area", "194"), ("part.06700", "")], true)
        .await;
    assert_eq!(s, 404);
    let other = new_id();
    let (s, page) = district
        .post(
            &action,
            "en",
            &[
                ("id", other.as_str()),
                ("name", "Đợt 2"),
                ("starts_on", &start),
                ("ends_on", &end),
                ("eligible_groups", ""),
            ],
            true,
        )
        .await;
    assert_eq!(s, 403, "{page}");
    assert!(page.contains("do not plan for its whole area"), "{page}");
    // A statistics officer reads the plan but has no forms.
    let officer = Session::start(&app, "stats22", &["statistics_officer:22"]).await;
    let (s, page) = officer.get(&to, "en").await;
    assert_eq!(s, 200);
    assert!(page.contains(r#"id="parts-sum""#), "{page}");
    assert!(
        !page.contains("Split the target") && !page.contains("Add the wave"),
        "{page}"
    );
    let (s, _) = officer.post(&split, "en", &[("area", "22")], true).await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn site_forms_set_zones_open_sessions_and_show_certification(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // Staff of S1: one vaccinator certified, one not yet.
    TestApp::make_user(&app.store, "vac-ok", &["vaccinator:S1"]).await;
    TestApp::make_user(&app.store, "vac-new", &["vaccinator:S1"]).await;
    TestApp::make_user(&app.store, "trainer1", &["trainer"]).await;
    let (s, class) = app
        .post(
            "/api/v1/training/classes",
            &json!({"topic": "vaccination", "starts_on": day(-3), "ends_on": day(-3), "trainer": "trainer1"}),
        )
        .await;
    assert_eq!(s, 201, "{class}");
    let class = class["id"].as_str().unwrap();
    for user in ["vac-ok", "vac-new"] {
        let (s, b) = app
            .post(
                &format!("/api/v1/training/classes/{class}/attendees"),
                &json!({"username": user}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    for (user, score) in [("vac-ok", 90), ("vac-new", 40)] {
        let (s, b) = app
            .post(
                &format!("/api/v1/training/classes/{class}/exams"),
                &json!({"username": user, "score": score, "pass_mark": 70, "taken_on": day(-2)}),
            )
            .await;
        assert!(s == 201 || s == 200, "{s} {b}");
    }
    let planner = Session::start(&app, "planner193", &["planner:193"]).await;
    let (s, list) = planner.get("/planner/sites", "en").await;
    assert_eq!(s, 200);
    assert!(list.contains(r#"href="/planner/sites/S1""#), "{list}");
    let (s, page) = planner.get("/planner/sites/S1", "en").await;
    assert_eq!(s, 200, "{page}");
    let ok = page
        .split(r#"id="staff-vac-ok""#)
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(ok.contains("certified until"), "{ok}");
    let new = page
        .split(r#"id="staff-vac-new""#)
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        new.contains("not yet certified") && new.contains("exam failed"),
        "{new}"
    );
    // Zones: one missing required zone, refused, the rows kept.
    let mut zones = vec![
        ("kind.0", "temperature_check"),
        ("name.0", "Đo nhiệt độ"),
        ("places.0", "2"),
        ("kind.1", "vaccination"),
        ("name.1", "Bàn tiêm"),
        ("places.1", "4"),
        ("kind.2", "observation"),
        ("name.2", "Phòng chờ"),
        ("places.2", "30"),
    ];
    let (s, page) = planner
        .post("/planner/sites/S1/zones", "vi", &zones, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="zones-error""#), "{page}");
    assert!(page.contains(r#"value="Phòng chờ""#), "{page}");
    zones.extend([
        ("kind.4", "treatment"),
        ("name.4", "Xử trí phản ứng"),
        ("places.4", "x"),
    ]);
    let (s, page) = planner
        .post("/planner/sites/S1/zones", "vi", &zones, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="zerr-4""#), "{page}");
    zones[11] = ("places.4", "2");
    let (s, to) = planner
        .post("/planner/sites/S1/zones", "vi", &zones, true)
        .await;
    assert_eq!((s, to.as_str()), (303, "/planner/sites/S1?saved=1"));
    let (_, z) = app.get("/api/v1/sites/S1/zones").await;
    assert_eq!(z["zones"].as_array().unwrap().len(), 4, "{z}");
    assert_eq!(z["zones"][3]["kind"], "treatment");
    // A session: closing before opening refused by field; then opened,
    // twice from the same form, once.
    let (_, page) = planner.get("/planner/sites/S1", "en").await;
    let id = client_id(&page, "/planner/sites/S1/sessions");
    let tomorrow = day(1);
    let mut form = vec![
        ("id", id.as_str()),
        ("day", tomorrow.as_str()),
        ("opens", "07:30"),
        ("closes", "07:00"),
        ("stations", "2"),
        ("per_station_per_hour", "10"),
        ("slot_minutes", "30"),
        ("village_code", ""),
    ];
    let (s, page) = planner
        .post("/planner/sites/S1/sessions", "zh", &form, true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="serr-closes""#), "{page}");
    assert!(page.contains("请填写晚于开始时间的结束时间"), "{page}");
    assert!(page.contains(r#"value="07:00""#), "{page}");
    form[3] = ("closes", "09:30");
    let (s, to) = planner
        .post("/planner/sites/S1/sessions", "en", &form, true)
        .await;
    assert_eq!(
        (s, to.clone()),
        (303, format!("/planner/sites/S1?session={id}"))
    );
    let (s, again) = planner
        .post("/planner/sites/S1/sessions", "en", &form, true)
        .await;
    assert_eq!((s, again), (303, to.clone()));
    let (s, page) = planner.get(&to, "en").await;
    assert_eq!(s, 200);
    // 2 stations × 10 an hour, 30-minute slots: 10 places each, 4 slots.
    assert_eq!(
        page.matches("<td class=\"num\">10</td>").count(),
        8,
        "{page}"
    );
    let (_, sessions) = app.get("/api/v1/sessions?site=S1").await;
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1, "{sessions}");
    // A site outside the planner's areas is a 404 page, its forms too.
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = planner.get("/planner/sites/S2", "en").await;
    assert_eq!(s, 404);
    let (s, _) = planner
        .post("/planner/sites/S2/zones", "en", &zones, true)
        .await;
    assert_eq!(s, 404);
    let (s, _) = planner
        .post("/planner/sites/S2/sessions", "en", &form, true)
        .await;
    assert_eq!(s, 404);
    app.cleanup().await;
}
