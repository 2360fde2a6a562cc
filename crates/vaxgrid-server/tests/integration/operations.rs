//! Campaign operations over real HTTP, on SQLite and PostgreSQL: the
//! answers about paths and scope, the lists, the staff administration.

use crate::common;

use common::{new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    wrong_method_is_405_and_scope_reads_as_scope,
    every_list_filters_and_pages,
    users_are_administered_and_rosters_imported,
    printable_survey_list_prints_everyone,
    an_administrator_enters_a_campaign_already_run,
);

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

/// Walks a list page by page with `limit`, returning every item and the
/// number of pages read.
async fn walk(app: &TestApp, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &after {
            Some(c) => format!("{path}{sep}limit={limit}&after={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (s, page) = app.get(&url).await;
        assert_eq!(s, 200, "{url}: {page}");
        pages += 1;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit, "{url}");
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 100, "{url} never ends");
    }
    (items, pages)
}

async fn wrong_method_is_405_and_scope_reads_as_scope(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // A path with only POST, asked with GET: 405, the body says 405, and
    // Allow names the method the path has.
    for (method, path, allow) in [
        (reqwest::Method::GET, "/api/v1/doses", "POST"),
        (reqwest::Method::DELETE, "/api/v1/areas", "GET,HEAD,POST"),
        (reqwest::Method::PUT, "/api/v1/visits", "POST"),
    ] {
        let r = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        let allowed = r.headers()["allow"].to_str().unwrap().to_string();
        let mut got: Vec<&str> = allowed.split(',').map(str::trim).collect();
        got.sort();
        assert_eq!(got.join(","), allow, "{method} {path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], 405, "{body}");
        assert_eq!(body["errors"][0]["field"], "method", "{body}");
    }
    // A district planner asking for the province, and for an area that
    // does not exist: the same 404, worded as their areas.
    let planner = app.as_user("lan", &["planner:193"]).await;
    let (s, b) = planner.get("/api/v1/reports/coverage?area=22").await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["detail"], "no area 22 in your areas", "{b}");
    let (s, b2) = planner.get("/api/v1/reports/coverage?area=999").await;
    assert_eq!(s, 404, "{b2}");
    assert_eq!(b2["detail"], "no area 999 in your areas", "{b2}");
    let (s, b) = planner.get("/api/v1/reports/coverage?area=193").await;
    assert_eq!(s, 200, "{b}");
    // Reference data everyone sees keeps its wording.
    let (s, b) = app.get("/api/v1/products/NOPE").await;
    assert_eq!(s, 404, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("does not exist"),
        "{b}"
    );
    app.cleanup().await;
}

async fn every_list_filters_and_pages(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station",
                    "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // Campaigns: one over the province, one in each district.
    let mut campaigns = Vec::new();
    for (area, disease) in [("22", "COVID-19"), ("193", "COVID-19"), ("194", "Measles")] {
        let (s, c) = app
            .post(
                "/api/v1/campaigns",
                &json!({"name": format!("Campaign {area}"), "disease": disease, "area_code": area,
                        "products": ["AZ"], "priority_groups": ["frontline"],
                        "target_percent": 80.0, "target_date": day(60)}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        campaigns.push(c["id"].as_str().unwrap().to_string());
    }
    for (n, (from, to)) in [(0, 10), (11, 20), (21, 30)].into_iter().enumerate() {
        let (s, w) = app
            .post(
                &format!("/api/v1/campaigns/{}/waves", campaigns[0]),
                &json!({"name": format!("Wave {n}"), "starts_on": day(from), "ends_on": day(to)}),
            )
            .await;
        assert_eq!(s, 201, "{w}");
    }
    let (all, pages) = walk(&app, "/api/v1/campaigns", 2).await;
    assert_eq!((all.len(), pages), (3, 2));
    let mut ids: Vec<&str> = all.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "no campaign twice across pages");
    let first = all
        .iter()
        .find(|c| c["id"] == campaigns[0].as_str())
        .unwrap();
    assert_eq!(first["waves"].as_array().unwrap().len(), 3);
    let (s, p) = app.get("/api/v1/campaigns?disease=Measles").await;
    assert_eq!(s, 200);
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert_eq!(p["items"][0]["area_code"], "194");
    let (_, p) = app
        .get(&format!("/api/v1/campaigns?running_on={}", day(15)))
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    // A district planner sees the province's campaign and their own.
    let planner = app.as_user("lan", &["planner:193"]).await;
    let (seen, _) = walk(&planner, "/api/v1/campaigns", 1).await;
    let mut areas: Vec<&str> = seen
        .iter()
        .map(|c| c["area_code"].as_str().unwrap())
        .collect();
    areas.sort();
    assert_eq!(areas, ["193", "22"]);
    let (s, p) = planner.get("/api/v1/campaigns?area=194").await;
    assert_eq!(s, 404, "{p}");
    // Waves of a campaign, in order, filtered by day.
    let base = format!("/api/v1/campaigns/{}/waves", campaigns[0]);
    let (waves, pages) = walk(&app, &base, 2).await;
    assert_eq!(pages, 2);
    let ordinals: Vec<i64> = waves
        .iter()
        .map(|w| w["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(ordinals, [1, 2, 3]);
    let (_, p) = app.get(&format!("{base}?running_on={}", day(12))).await;
    assert_eq!(p["items"][0]["name"], "Wave 1");
    let (s, _) = app
        .get(&format!("/api/v1/campaigns/{}/waves", new_id()))
        .await;
    assert_eq!(s, 404);

    // Sessions at two sites over three days; appointments at one.
    let mut sessions = Vec::new();
    for (site, offset) in [("S1", 1), ("S1", 2), ("S2", 1), ("S1", 3)] {
        let (s, opened) = app
            .post(
                "/api/v1/sessions",
                &json!({"site_code": site, "day": day(offset), "opens": "07:00", "closes": "09:00",
                        "stations": 1, "per_station_per_hour": 10, "slot_minutes": 30}),
            )
            .await;
        assert_eq!(s, 201, "{opened}");
        sessions.push(opened);
    }
    let (all, _) = walk(&app, "/api/v1/sessions", 3).await;
    let days: Vec<&str> = all.iter().map(|s| s["day"].as_str().unwrap()).collect();
    assert_eq!(all.len(), 4);
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "by day: {days:?}");
    let (s1, _) = walk(&app, "/api/v1/sessions?site=S1", 1).await;
    assert_eq!(s1.len(), 3);
    let (_, p) = app
        .get(&format!(
            "/api/v1/sessions?area=194&from={}&to={}",
            day(1),
            day(1)
        ))
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert_eq!(p["items"][0]["site_code"], "S2");
    let mut people = Vec::new();
    for n in 0..3 {
        let person = app.person(100 + n, &format!("Người {n}")).await;
        let slot = &sessions[0]["slots"][n as usize % 2];
        let (s, a) = app
            .post(
                "/api/v1/appointments",
                &json!({"id": new_id(), "person_id": person, "session_id": sessions[0]["session"]["id"],
                        "starts_at": slot["starts_at"]}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        people.push(person);
    }
    let (booked, pages) = walk(
        &app,
        &format!("/api/v1/appointments?site=S1&day={}", day(1)),
        2,
    )
    .await;
    assert_eq!((booked.len(), pages), (3, 2));
    let starts: Vec<&str> = booked
        .iter()
        .map(|a| a["starts_at"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    let (_, p) = app
        .get(&format!("/api/v1/appointments?person={}", people[1]))
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert_eq!(p["items"][0]["person_id"], people[1].as_str());
    let (_, p) = app
        .get(&format!("/api/v1/appointments?site=S1&day={}", day(2)))
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 0);
    // Site staff of S2 (province 22) see them; a planner of 194 does not.
    let other = app.as_user("minh", &["planner:194"]).await;
    let (_, p) = other.get("/api/v1/appointments?site=S1").await;
    assert_eq!(p["items"].as_array().unwrap().len(), 0);

    // Training classes with attendees and exams.
    let _ = app.as_user("u-trainer", &["trainer"]).await;
    let _ = app.as_user("u-nurse", &["vaccinator:S1"]).await;
    let mut classes = Vec::new();
    for (topic, from) in [
        ("Tiêm chủng an toàn", "2021-01-04"),
        ("AEFI", "2021-02-01"),
        ("Tiêm chủng an toàn", "2021-03-01"),
    ] {
        let (s, c) = app
            .post(
                "/api/v1/training/classes",
                &json!({"topic": topic, "starts_on": from, "ends_on": from, "trainer": "u-trainer"}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        classes.push(c["id"].as_str().unwrap().to_string());
    }
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{}/attendees", classes[0]),
            &json!({"username": "u-nurse"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{}/exams", classes[0]),
            &json!({"username": "u-nurse", "score": 90, "pass_mark": 80, "taken_on": "2021-01-04"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (all, pages) = walk(&app, "/api/v1/training/classes", 2).await;
    assert_eq!((all.len(), pages), (3, 2));
    assert_eq!(all[0]["starts_on"], "2021-01-04");
    let (_, p) = app.get("/api/v1/training/classes?from=2021-02-01").await;
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    let (s, c) = app
        .get(&format!("/api/v1/training/classes/{}", classes[0]))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["attendees"], json!(["u-nurse"]));
    assert_eq!(c["exams"][0]["score"], 90);
    assert_eq!(c["exams"][0]["passed"], true);
    let (s, _) = app
        .get(&format!("/api/v1/training/classes/{}", new_id()))
        .await;
    assert_eq!(s, 404);

    // Investigations: none yet, and the filters are checked.
    let (s, p) = app.get("/api/v1/investigations?status=open").await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["items"], json!([]));

    // Sites: 1,203 more, paged through and exported whole as CSV.
    let rows: Vec<Value> = (0..1203)
        .map(|i| json!({"code": format!("X{i:05}"), "name": format!("Điểm {i}"), "kind": "mobile_team",
                        "area_code": if i % 2 == 0 { "06658" } else { "06700" }, "stations": 1, "daily_capacity": 50}))
        .collect();
    for r in &rows {
        let (s, b) = app.post("/api/v1/sites", r).await;
        assert_eq!(s, 201, "{b}");
    }
    let r = app
        .client
        .get(format!("{}/api/v1/sites/export", app.base))
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
    assert_eq!(lines[0], "code,name,kind,area_code,stations,daily_capacity");
    assert_eq!(lines.len(), 1 + 1205, "every site, no cap");
    let codes: std::collections::BTreeSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 1205);
    let r = app
        .client
        .get(format!("{}/api/v1/sites/export?area=194", app.base))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 601 + 1);
    let (s, _) = app.get("/api/v1/sites/export?area=999").await;
    assert_eq!(s, 404);

    // Bad paging and filters: 400 naming the parameter.
    for (path, field) in [
        ("/api/v1/campaigns?limit=0", "limit"),
        ("/api/v1/campaigns?limit=501", "limit"),
        ("/api/v1/campaigns?after=zz", "after"),
        ("/api/v1/sessions?after=abcd", "after"),
        ("/api/v1/sessions?from=2021-02-30", "from"),
        ("/api/v1/appointments?status=maybe", "status"),
        ("/api/v1/appointments?person=nope", "person"),
        ("/api/v1/investigations?status=closed", "status"),
        ("/api/v1/training/classes?colour=red", "colour"),
    ] {
        let (s, p) = app.get(path).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (400, Some(field)),
            "{path}: {p}"
        );
    }
    app.cleanup().await;
}

async fn users_are_administered_and_rosters_imported(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // One user through the API: roles checked, an invitation shown once.
    let (s, p) = app
        .post(
            "/api/v1/users",
            &json!({"username": "lan", "display_name": "Nguyễn Thị Lan", "grants": ["planner:999"]}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("grants")),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/users",
            &json!({"username": "lan", "display_name": "Nguyễn Thị Lan", "grants": ["nurse:S1"]}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("grants")),
        "{p}"
    );
    let (s, created) = app
        .post(
            "/api/v1/users",
            &json!({"username": "lan", "display_name": "Nguyễn Thị Lan", "grants": ["planner:193"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["user"]["grants"], json!(["planner:193"]));
    assert_eq!(created["user"]["invited"], true);
    let invitation = created["invitation"].as_str().unwrap().to_string();
    let (s, p) = app
        .post(
            "/api/v1/users",
            &json!({"username": "lan", "display_name": "Lan", "grants": ["planner:193"]}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (409, Some("username")),
        "{p}"
    );
    // Until redeemed no password opens lan's account; then lan's does.
    let opens = |password: &'static str| {
        let store = app.store.clone();
        async move {
            let user = store.user_by_name("lan").await.unwrap().unwrap();
            !user.disabled
                && vaxgrid_server::auth::verify_password(Some(&user.password_hash), password)
        }
    };
    assert!(!opens("").await);
    let (s, p) = app
        .post(
            "/api/v1/invitations/redeem",
            &json!({"token": invitation, "password": "short"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("password")),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/invitations/redeem",
            &json!({"token": "vxi_nope", "password": "a long enough one"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("token")),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/invitations/redeem",
            &json!({"token": invitation, "password": "a long enough one"}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["username"], "lan");
    assert!(opens("a long enough one").await);
    let (s, _) = app
        .post(
            "/api/v1/invitations/redeem",
            &json!({"token": invitation, "password": "another long one"}),
        )
        .await;
    assert_eq!(s, 422, "an invitation is used once");
    // Grant, revoke, disable, enable.
    let (s, u) = app
        .post(
            "/api/v1/users/lan/grants",
            &json!({"grant": "statistics_officer:22"}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["grants"], json!(["planner:193", "statistics_officer:22"]));
    let (s, p) = app
        .post("/api/v1/users/lan/grants", &json!({"grant": "planner"}))
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("grant")),
        "{p}"
    );
    let r = app
        .client
        .delete(format!("{}/api/v1/users/lan/grants/planner:193", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["grants"], json!(["statistics_officer:22"]));
    let r = app
        .client
        .delete(format!("{}/api/v1/users/lan/grants/planner:193", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a grant not held");
    let (s, u) = app.post("/api/v1/users/lan/disable", &json!({})).await;
    assert_eq!((s, &u["disabled"]), (200, &json!(true)), "{u}");
    assert!(!opens("a long enough one").await);
    let (s, u) = app.post("/api/v1/users/lan/enable", &json!({})).await;
    assert_eq!((s, &u["disabled"]), (200, &json!(false)), "{u}");
    let (s, p) = app.post("/api/v1/users/admin/disable", &json!({})).await;
    assert_eq!(s, 422, "not oneself: {p}");
    let (s, _) = app.post("/api/v1/users/nobody/disable", &json!({})).await;
    assert_eq!(s, 404);

    // A roster: one bad row refuses all, naming row and field.
    let _ = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station",
                    "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    let mut roster = String::from("username,display_name,roles,site,area\n");
    for i in 0..120 {
        let site = if i % 3 == 0 { "S2" } else { "S1" };
        let roles = if i % 4 == 0 {
            "vaccinator;registrar"
        } else {
            "vaccinator"
        };
        roster.push_str(&format!("nv{i:04},Nhân viên {i},{roles},{site},\n"));
    }
    roster.push_str("tk22,Thống kê,statistics_officer,,22\n");
    let bad = format!(
        "{roster}nv0001,Again,vaccinator,S1,\nnv9999,Somebody,vaccinator,S9,\nnv9998,Somebody,nurse,S1,\nnv9997,,vaccinator,S1,\nnv9996,Somebody,planner,,\n"
    );
    let (s, p) = app
        .post_raw("/api/v1/users/import", "text/csv", bad.clone().into_bytes())
        .await;
    assert_eq!(s, 422, "{p}");
    let rows: Vec<(u64, &str)> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (122, "username"),
            (123, "site"),
            (124, "roles"),
            (125, "display_name"),
            (126, "area")
        ],
        "{p}"
    );
    let (_, list) = app.get("/api/v1/users?prefix=nv").await;
    assert_eq!(list["items"], json!([]), "nothing written");
    // With skip_invalid the good rows go in and the others are listed.
    let (s, p) = app
        .post_raw(
            "/api/v1/users/import?skip_invalid=true",
            "text/csv",
            bad.into_bytes(),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["imported"], 121);
    assert_eq!(p["skipped"].as_array().unwrap().len(), 5);
    assert_eq!(p["invitations"].as_array().unwrap().len(), 121);
    assert!(p["invitations"][0]["invitation"]
        .as_str()
        .unwrap()
        .starts_with("vxi_"));
    // The same roster again: every row's user name is taken.
    let (s, p) = app
        .post_raw("/api/v1/users/import", "text/csv", roster.into_bytes())
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["rows"].as_array().unwrap().len(), 121);
    // Lists: by prefix, role and scope, paged.
    let (all, pages) = walk(&app, "/api/v1/users?prefix=nv", 50).await;
    assert_eq!((all.len(), pages), (120, 3));
    assert_eq!(all[0]["username"], "nv0000");
    assert_eq!(all[0]["grants"], json!(["registrar:S2", "vaccinator:S2"]));
    let (at_s2, _) = walk(&app, "/api/v1/users?role=vaccinator&scope=S2", 500).await;
    assert_eq!(at_s2.len(), 40);
    let (s, p) = app.get("/api/v1/users?role=nurse").await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (400, Some("role")),
        "{p}"
    );
    let (s, u) = app.get("/api/v1/users/tk22").await;
    assert_eq!(s, 200);
    assert_eq!(u["grants"], json!(["statistics_officer:22"]));
    let (tokens, _) = walk(&app, "/api/v1/tokens", 1).await;
    assert!(tokens.iter().any(|t| t["username"] == "admin"));
    assert!(tokens.iter().all(|t| t.get("token_sha256").is_none()));
    // Headcount per site by role: S1 has 80 vaccinators (20 also
    // registrars), S2 40 (10 also registrars).
    let (s, h) = app.get("/api/v1/reports/staff?area=22").await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h[0]["site_code"], "S1");
    assert_eq!(h[0]["roles"]["vaccinator"], 80);
    assert_eq!(h[0]["roles"]["registrar"], 20);
    assert_eq!(h[0]["vaccination_staff"], 80);
    assert_eq!(h[0]["support_staff"], 20);
    assert_eq!(h[0]["people"], 80);
    assert_eq!(h[1]["site_code"], "S2");
    assert_eq!(h[1]["people"], 40);
    let planner = app.as_user("minh", &["planner:194"]).await;
    let (_, h) = planner.get("/api/v1/reports/staff").await;
    assert_eq!(h.as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h[0]["site_code"], "S2");
    let (s, _) = planner.get("/api/v1/reports/staff?area=193").await;
    assert_eq!(s, 404);
    // Every change was audited and the chain holds.
    let (_, broken) = app.store.verify_audit().await.unwrap();
    assert!(broken.is_none());
    app.cleanup().await;
}

async fn printable_survey_list_prints_everyone(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let mut csv = String::from(
        "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n",
    );
    for i in 0..770 {
        csv.push_str(&format!(
            "cccd,022080{:06},Người Số {i},1980-01-02,male,,0665801,,frontline\n",
            1000 + i
        ));
    }
    let (s, p) = app
        .post_raw("/api/v1/persons/import", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 201, "{p}");
    let (s, c) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Survey", "disease": "COVID-19", "area_code": "22",
                    "products": ["AZ"], "priority_groups": ["frontline"],
                    "target_percent": 80.0, "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    let (s, w) = app
        .post(
            &format!("/api/v1/campaigns/{id}/waves"),
            &json!({"name": "Wave 1", "starts_on": day(0), "ends_on": day(30)}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    // A district's list runs to tens of thousands: it prints in parts, each
    // saying which persons it holds and linking the next, never a silent
    // first page.
    let read = |path: String| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let first = read(format!(
        "/api/v1/campaigns/{id}/waves/{}/survey?area=06658&format=html",
        w["id"].as_str().unwrap()
    ))
    .await;
    assert!(first.contains("Người thứ 1–500 của danh sách"), "{first}");
    assert_eq!(first.matches("<tr><td>").count(), 500, "a part of 500");
    assert!(
        !first.contains("Hết danh sách"),
        "the first part does not end the list"
    );
    let next = first
        .split("<p class=\"continues\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the next part")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let second = read(next).await;
    assert!(
        second.contains("Người thứ 501–770 của danh sách"),
        "{second}"
    );
    assert_eq!(second.matches("<tr><td>").count(), 270, "the rest");
    assert!(second.contains("<td>770</td>"), "numbered to the last");
    assert!(second.contains("Hết danh sách."), "the last part says so");
    let mut names: Vec<&str> = [first.as_str(), second.as_str()]
        .iter()
        .flat_map(|p| p.split("<tr><td>").skip(1))
        .filter_map(|row| row.split("</td><td>").nth(1))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 770, "every person printed once");
    // Above the commune, the list is printed commune by commune: a
    // district's or the province's page names its communes, each linking
    // its own list (the status kept).
    let wave_id = w["id"].as_str().unwrap();
    for area in ["193", "22"] {
        let index = read(format!(
            "/api/v1/campaigns/{id}/waves/{wave_id}/survey?area={area}&format=html&status=not_yet"
        ))
        .await;
        assert!(index.contains("Danh sách được in theo từng xã"), "{index}");
        assert!(index.contains("<h2>Hạ Long</h2>"), "{index}");
        assert!(
            index.contains(&format!(
                "/api/v1/campaigns/{id}/waves/{wave_id}/survey?format=html&amp;area=06658&amp;status=not_yet\">Hồng Gai</a>"
            )) || index.contains(&format!(
                "/api/v1/campaigns/{id}/waves/{wave_id}/survey?format=html&#38;area=06658&#38;status=not_yet\">Hồng Gai</a>"
            )),
            "{index}"
        );
        assert!(!index.contains("<tr><td>"), "no names on the index");
    }
    app.cleanup().await;
}

async fn an_administrator_enters_a_campaign_already_run(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let past = json!({"name": "COVID-19 2021", "disease": "COVID-19", "area_code": "22",
        "products": ["AZ"], "priority_groups": ["frontline"],
        "target_percent": 70.0, "target_date": "2021-12-31"});
    let field = |p: &Value| p["errors"][0]["field"].as_str().map(str::to_string);
    // Without a reason a past target date is refused, for everyone.
    let (s, p) = app.post("/api/v1/campaigns", &past).await;
    assert_eq!((s, field(&p).as_deref()), (422, Some("target_date")), "{p}");
    // A planner may not enter history at all.
    let planner = app.as_user("lan", &["planner:22"]).await;
    let mut with_reason = past.clone();
    with_reason["history_reason"] = json!("loading the 2021 campaign from the paper registers");
    let (s, p) = planner.post("/api/v1/campaigns", &with_reason).await;
    assert_eq!(
        (s, field(&p).as_deref()),
        (403, Some("history_reason")),
        "{p}"
    );
    let mut short = past.clone();
    short["history_reason"] = json!("old");
    let (s, p) = app.post("/api/v1/campaigns", &short).await;
    assert_eq!(
        (s, field(&p).as_deref()),
        (422, Some("history_reason")),
        "{p}"
    );
    let (s, c) = app.post("/api/v1/campaigns", &with_reason).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["target_date"], "2021-12-31");
    let id = c["id"].as_str().unwrap();
    // Its waves ran long before it was entered: the same rule and reason.
    let wave = json!({"name": "Đợt 1", "starts_on": "2021-07-01", "ends_on": "2021-09-30"});
    let (s, p) = app
        .post(&format!("/api/v1/campaigns/{id}/waves"), &wave)
        .await;
    assert_eq!((s, field(&p).as_deref()), (422, Some("starts_on")), "{p}");
    let mut wave_reason = wave.clone();
    wave_reason["history_reason"] = json!("the first wave as the district reported it");
    let (s, p) = planner
        .post(&format!("/api/v1/campaigns/{id}/waves"), &wave_reason)
        .await;
    assert_eq!(
        (s, field(&p).as_deref()),
        (403, Some("history_reason")),
        "{p}"
    );
    let (s, w) = app
        .post(&format!("/api/v1/campaigns/{id}/waves"), &wave_reason)
        .await;
    assert_eq!(s, 201, "{w}");
    assert_eq!(w["starts_on"], "2021-07-01");
    // Nothing refused was written; the audit chain holds.
    let (_, list) = app.get("/api/v1/campaigns").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["waves"].as_array().unwrap().len(), 1);
    let (_, broken) = app.store.verify_audit().await.unwrap();
    assert!(broken.is_none());
    app.cleanup().await;
}
