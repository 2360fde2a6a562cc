//! A provincial plan's sites and sessions by CSV: all rows or none, each
//! bad row named with its field, the caller's areas respected, and a
//! plan of thousands of rows taken quickly. The areas a site serves (its
//! catchment) and its daily capacity rolled up into them.

use crate::common;

use common::{new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    sites_import_all_or_nothing,
    sessions_import_all_or_nothing,
    a_planner_imports_sessions_only_in_their_areas,
    five_thousand_sites_and_their_sessions_import_quickly,
    a_catchment_is_set_read_and_refused_by_field,
    site_capacity_rolls_up_into_the_areas_served,
    a_merge_carries_a_catchment_to_the_survivor,
);

const SITES: &str = "code,name,kind,area_code,stations,daily_capacity\n";
const SESSIONS: &str =
    "id,site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes,village_code\n";

fn day_in(days: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(days))
}

async fn import(app: &TestApp, path: &str, body: String) -> (u16, Value) {
    app.post_raw(path, "text/csv", body.into_bytes()).await
}

/// The (row, field) pairs of a 422 answer.
fn rows(p: &Value) -> Vec<(u64, String)> {
    p["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("rows[] in {p}"))
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(u64, &str)]) -> Vec<(u64, String)> {
    expected.iter().map(|(r, f)| (*r, f.to_string())).collect()
}

async fn sites_import_all_or_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let bad = format!(
        "{SITES}H1,Trạm Y tế Hà Khẩu,commune_health_station,06658,3,300\n\
         H2,Điểm tiêm Khu 1,temporary_site,99999,2,100\n\
         H3,Bệnh viện,clinic,06658,2,100\n\
         H1,Again,hospital,06658,2,100\n\
         S1,Already there,hospital,06658,2,100\n\
         H4,Trạm,hospital,06700,zero,100\n\
         H5,,hospital,06700,2,100\n\
         H/6,Trạm,hospital,06700,2,100\n\
         H7,Trạm,hospital,06700,2,-5\n\
         H8,Trạm,hospital\n"
    );
    let (s, p) = import(&app, "/api/v1/sites/import", bad).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(
        rows(&p),
        pairs(&[
            (2, "area_code"),
            (3, "kind"),
            (4, "code"),
            (5, "code"),
            (6, "stations"),
            (7, "name"),
            (8, "code"),
            (9, "daily_capacity"),
            (10, "row"),
        ]),
        "{p}"
    );
    assert!(
        p["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no area 99999 in your areas"),
        "{p}"
    );
    assert!(
        p["rows"][2]["message"].as_str().unwrap().contains("row 1"),
        "a code repeated names its first row: {p}"
    );
    assert!(
        p["rows"][3]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{p}"
    );
    let (s, _) = app.get("/api/v1/sites/H1").await;
    assert_eq!(s, 404, "nothing written");
    // A header without a column: refused as row 0, naming it.
    let (s, p) = import(
        &app,
        "/api/v1/sites/import",
        "code,name,kind,area,stations,daily_capacity\nH1,Trạm,hospital,06658,1,1\n".into(),
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(rows(&p), pairs(&[(0, "area_code"), (0, "area")]), "{p}");
    // A good file, as the export writes it (a name marked as text).
    let good = format!(
        "{SITES}H1,Trạm Y tế Hà Khẩu,commune_health_station,06658,3,300\n\
         H2,'=Điểm tiêm Khu 1,temporary_site,0665801,2,100\n\
         M1,Đội lưu động Móng Cái,mobile_team,194,1,80\n"
    );
    let (s, p) = import(&app, "/api/v1/sites/import", good.clone()).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["imported"], 3, "{p}");
    let (s, h2) = app.get("/api/v1/sites/H2").await;
    assert_eq!(s, 200);
    assert_eq!(h2["name"], "=Điểm tiêm Khu 1");
    assert_eq!(h2["daily_capacity"], 100);
    assert_eq!(h2["area_code"], "0665801");
    // The same file again: every code is taken.
    let (s, p) = import(&app, "/api/v1/sites/import", good).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(
        rows(&p),
        pairs(&[(1, "code"), (2, "code"), (3, "code")]),
        "{p}"
    );
    // The export reads back as an import of the same sites.
    let r = app
        .client
        .get(format!("{}/api/v1/sites/export?area=22", app.base))
        .send()
        .await
        .unwrap();
    let exported = r.text().await.unwrap();
    assert!(exported.starts_with(SITES), "{exported}");
    let renamed = exported.replace("\nH", "\nX").replace("\nM1", "\nY1");
    let renamed = renamed.replace("\nS1,", "\nZ1,");
    let (s, p) = import(&app, "/api/v1/sites/import", renamed).await;
    assert_eq!((s, &p["imported"]), (201, &Value::from(4)), "{p}");
    // Not CSV; not an administrator.
    let (s, _) = app
        .post_raw("/api/v1/sites/import", "application/json", b"{}".to_vec())
        .await;
    assert_eq!(s, 415);
    let planner = app.as_user("lan", &["planner:193"]).await;
    let (s, _) = import(
        &planner,
        "/api/v1/sites/import",
        format!("{SITES}P1,Trạm,hospital,06658,1,10\n"),
    )
    .await;
    assert_eq!(s, 403, "sites are reference data, as POST /api/v1/sites");
    app.cleanup().await;
}

async fn sessions_import_all_or_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (day, next) = (day_in(3), day_in(4));
    let existing = serde_json::json!({"site_code": "S1", "day": day, "opens": "13:00", "closes": "17:00",
        "stations": 2, "per_station_per_hour": 12, "slot_minutes": 30});
    let (s, b) = app.post("/api/v1/sessions", &existing).await;
    assert_eq!(s, 201, "{b}");
    let taken = b["session"]["id"].as_str().unwrap().to_string();
    let repeated = new_id();
    let bad = format!(
        "{SESSIONS},S1,{day},07:30,11:30,2,12,30,\n\
         ,S9,{day},07:30,11:30,2,12,30,\n\
         ,S1,2026-02-30,07:30,11:30,2,12,30,\n\
         ,S1,{day},10:00,12:00,2,12,30,\n\
         ,S1,{day},12:00,14:00,2,12,30,\n\
         {repeated},S1,{next},07:00,08:00,1,10,30,\n\
         {repeated},S1,{next},09:00,10:00,1,10,30,\n\
         {taken},S1,{next},11:00,12:00,1,10,30,\n\
         ,S1,{next},7h30,11:30,2,12,30,\n\
         ,S1,{next},15:00,14:00,2,12,30,\n\
         ,S1,{next},16:00,17:00,2,12,30,nowhere\n\
         ,S1,{next},18:00,19:00,2,12,30,06658\n\
         ,S1,2020-01-01,07:30,11:30,2,12,30,\n\
         ,S1,{next},20:00,21:00,0,12,30,\n\
         not-a-uuid,S1,{next},21:00,22:00,1,12,30,\n"
    );
    let (s, p) = import(&app, "/api/v1/sessions/import", bad).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(
        rows(&p),
        pairs(&[
            (2, "site_code"),
            (3, "day"),
            (4, "opens"),
            (5, "opens"),
            (7, "id"),
            (8, "id"),
            (9, "opens"),
            (10, "closes"),
            (11, "village_code"),
            (12, "village_code"),
            (13, "day"),
            (14, "stations"),
            (15, "id"),
        ]),
        "{p}"
    );
    let message = |i: usize| p["rows"][i]["message"].as_str().unwrap().to_string();
    assert!(
        message(2).contains("row 1"),
        "overlaps the file's row 1: {p}"
    );
    assert!(
        message(3).contains(&taken),
        "overlaps the stored session: {p}"
    );
    assert!(message(4).contains("row 6"), "{p}");
    assert!(message(5).contains("already exists"), "{p}");
    let (_, list) = app
        .get(&format!("/api/v1/sessions?site=S1&from={day}"))
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    // A good file: two sites, a mobile team's village, the ids kept.
    let id = new_id();
    let good = format!(
        "{SESSIONS}{id},S1,{day},07:30,11:30,2,12,30,\n\
         ,S1,{next},07:30,09:00,1,10,60,0665801\n"
    );
    let (s, p) = import(&app, "/api/v1/sessions/import", good).await;
    assert_eq!(s, 201, "{p}");
    // 4 hours of 30-minute slots, and 90 minutes of 60-minute ones.
    assert_eq!(
        (&p["imported"], &p["slots"]),
        (&2.into(), &10.into()),
        "{p}"
    );
    let (s, b) = app.get(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["session"]["opens"], "07:30");
    assert_eq!(b["slots"].as_array().unwrap().len(), 8);
    assert_eq!(b["slots"][0]["capacity"], 12);
    // Without the optional columns.
    let (s, p) = import(
        &app,
        "/api/v1/sessions/import",
        format!("site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes\nS1,{},08:00,09:00,1,6,30\n", day_in(5)),
    )
    .await;
    assert_eq!((s, &p["imported"]), (201, &1.into()), "{p}");
    app.cleanup().await;
}

async fn a_planner_imports_sessions_only_in_their_areas(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, p) = import(
        &app,
        "/api/v1/sites/import",
        format!("{SITES}S2,Trạm Y tế Ka Long,commune_health_station,06700,1,100\n"),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    let planner = app.as_user("lan", &["planner:193"]).await;
    let day = day_in(2);
    let (s, p) = import(
        &planner,
        "/api/v1/sessions/import",
        format!("{SESSIONS},S1,{day},08:00,10:00,1,10,30,\n,S2,{day},08:00,10:00,1,10,30,\n"),
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(rows(&p), pairs(&[(2, "site_code")]), "{p}");
    assert_eq!(
        p["rows"][0]["message"], "no site S2 in your areas",
        "worded as for a site that does not exist: {p}"
    );
    let (_, list) = app
        .get(&format!("/api/v1/sessions?site=S1&from={day}"))
        .await;
    assert_eq!(list["items"], serde_json::json!([]), "nothing written");
    let (s, p) = import(
        &planner,
        "/api/v1/sessions/import",
        format!("{SESSIONS},S1,{day},08:00,10:00,1,10,30,\n"),
    )
    .await;
    assert_eq!((s, &p["imported"]), (201, &1.into()), "{p}");
    // A statistics officer reads, never plans.
    let officer = app.as_user("binh", &["statistics_officer:193"]).await;
    let (s, _) = import(
        &officer,
        "/api/v1/sessions/import",
        format!("{SESSIONS},S1,{},08:00,10:00,1,10,30,\n", day_in(3)),
    )
    .await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn five_thousand_sites_and_their_sessions_import_quickly(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    const N: usize = 5_000;
    let mut sites = String::from(SITES);
    for i in 0..N {
        let area = ["06658", "0665801", "06700"][i % 3];
        sites.push_str(&format!(
            "T{i:05},Điểm tiêm {i},temporary_site,{area},{},{}\n",
            1 + i % 4,
            100 + i % 300
        ));
    }
    let started = std::time::Instant::now();
    let (s, p) = import(&app, "/api/v1/sites/import", sites).await;
    let site_secs = started.elapsed().as_secs_f64();
    assert_eq!((s, &p["imported"]), (201, &N.into()), "{p}");
    let day = day_in(1);
    let mut sessions = String::from(SESSIONS);
    for i in 0..N {
        sessions.push_str(&format!(
            "{},T{i:05},{day},07:00,11:00,2,12,30,\n",
            new_id()
        ));
    }
    let started = std::time::Instant::now();
    let (s, p) = import(&app, "/api/v1/sessions/import", sessions).await;
    let session_secs = started.elapsed().as_secs_f64();
    assert_eq!((s, &p["imported"]), (201, &N.into()), "{p}");
    assert_eq!(p["slots"], 8 * N, "{p}");
    eprintln!(
        "{backend}: {N} sites imported in {site_secs:.2} s, {N} sessions ({} slots) in {session_secs:.2} s",
        8 * N
    );
    // Generous for a debug build on a shared machine; seconds in practice.
    assert!(site_secs < 30.0, "{site_secs} s for {N} sites");
    assert!(session_secs < 60.0, "{session_secs} s for {N} sessions");
    let (_, page) = app.get("/api/v1/sites?area=194&limit=500").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 500);
    app.cleanup().await;
}

/// The catchment of a site, as area codes.
async fn served(app: &TestApp, site: &str) -> Vec<String> {
    let (s, c) = app.get(&format!("/api/v1/sites/{site}/catchment")).await;
    assert_eq!(s, 200, "{c}");
    c["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_string())
        .collect()
}

/// The seed's tree plus commune 06661 under 193, province 01 with a
/// commune, and site S2 in 06700 (district 194).
async fn world(app: &TestApp) {
    app.seed().await;
    for area in [
        json!({"code": "06661", "parent_code": "193", "level": "commune", "name": "Bạch Đằng"}),
        json!({"code": "01", "level": "province", "name": "Hà Nội"}),
        json!({"code": "001", "parent_code": "01", "level": "district", "name": "Ba Đình"}),
        json!({"code": "00001", "parent_code": "001", "level": "commune", "name": "Phúc Xá"}),
    ] {
        let (s, b) = app.post("/api/v1/areas", &area).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, p) = import(
        app,
        "/api/v1/sites/import",
        format!("{SITES}S2,Trạm Y tế Ka Long,commune_health_station,06700,1,100\n"),
    )
    .await;
    assert_eq!(s, 201, "{p}");
}

async fn a_catchment_is_set_read_and_refused_by_field(backend: &str) {
    let app = TestApp::start(backend).await;
    world(&app).await;
    assert!(served(&app, "S1").await.is_empty(), "none until set");
    let path = "/api/v1/sites/S1/catchment";
    let (s, c) = app
        .put(
            path,
            &json!({"areas": ["06661", "0665801", "06700", "06661"]}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["site_code"], "S1");
    assert_eq!(served(&app, "S1").await, ["0665801", "06661", "06700"]);
    assert_eq!(c["areas"][1]["name"], "Bạch Đằng");
    assert_eq!(c["areas"][1]["level"], "commune");
    // Refused naming the field; the catchment stays as it was.
    for (body, status, field, says) in [
        (
            json!({"areas": ["06661", "00001"]}),
            422,
            "areas[1]",
            "not in the site's province 22",
        ),
        (
            json!({"areas": ["193"]}),
            422,
            "areas[0]",
            "not a whole district",
        ),
        (
            json!({"areas": ["22"]}),
            422,
            "areas[0]",
            "not a whole province",
        ),
        (
            json!({"areas": ["06658", "nowhere"]}),
            422,
            "areas[1]",
            "does not exist",
        ),
        (json!({"areas": "06658"}), 422, "areas", ""),
        (json!({"area": ["06658"]}), 422, "area", ""),
    ] {
        let (s, p) = app.put(path, &body).await;
        assert_eq!(
            (s, p["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{body}: {p}"
        );
        assert!(p["detail"].as_str().unwrap().contains(says), "{body}: {p}");
    }
    assert_eq!(served(&app, "S1").await, ["0665801", "06661", "06700"]);
    let (s, _) = app
        .put("/api/v1/sites/NOPE/catchment", &json!({"areas": []}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.get("/api/v1/sites/NOPE/catchment").await;
    assert_eq!(s, 404);
    // Everyone signed in reads it; only an administrator sets it.
    let planner = app.as_user("lan", &["planner:193"]).await;
    assert_eq!(served(&planner, "S1").await.len(), 3);
    let (s, _) = planner.put(path, &json!({"areas": []})).await;
    assert_eq!(s, 403);
    // The site's page shows what it serves, in the reader's language.
    for (lang, label) in [
        ("vi", "Phục vụ địa bàn"),
        ("zh", "服务范围"),
        ("en", "Serves"),
    ] {
        let r = app
            .client
            .get(format!("{}/planner/sites/S1", app.base))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains(label) && page.contains("Bạch Đằng (06661)"),
            "{lang}: {page}"
        );
    }
    // An empty list clears it.
    let (s, c) = app.put(path, &json!({"areas": []})).await;
    assert_eq!((s, &c["areas"]), (200, &json!([])), "{c}");
    app.cleanup().await;
}

async fn site_capacity_rolls_up_into_the_areas_served(backend: &str) {
    let app = TestApp::start(backend).await;
    world(&app).await;
    // S1 (200 a day, commune 06658 of 193) serves 06661 and 06700's
    // village-less commune; S2 (100 a day, 06700 of 194) has no catchment.
    let (s, c) = app
        .put(
            "/api/v1/sites/S1/catchment",
            &json!({"areas": ["06661", "06700"]}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let target_date = day_in(30);
    let (s, campaign) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Sởi", "disease": "measles", "area_code": "22", "products": ["AZ"],
                "priority_groups": [], "target_percent": 95.0, "target_date": target_date}),
        )
        .await;
    assert_eq!(s, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap();
    let (s, r) = app.get(&format!("/api/v1/campaigns/{id}/targets")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["area"]["site_capacity"], 300,
        "the province: both, once: {r}"
    );
    let child = |code: &str| {
        r["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["area_code"] == code)
            .unwrap_or_else(|| panic!("{code} in {r}"))["site_capacity"]
            .clone()
    };
    // 193 holds S1's catchment commune 06661; 194 holds 06700, served by
    // S1 and by S2 in it.
    assert_eq!(
        (child("193"), child("194")),
        (json!(200), json!(300)),
        "{r}"
    );
    assert!(r["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["site_capacity"] == 300));
    let (_, r) = app
        .get(&format!("/api/v1/campaigns/{id}/targets?area=193"))
        .await;
    let child = |code: &str| {
        r["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["area_code"] == code)
            .unwrap_or_else(|| panic!("{code} in {r}"))["site_capacity"]
            .clone()
    };
    // S1's own commune is not in its catchment: nothing serves it.
    assert_eq!(
        (child("06658"), child("06661")),
        (json!(0), json!(200)),
        "{r}"
    );
    // Without a catchment, S1 serves its own commune again.
    app.put("/api/v1/sites/S1/catchment", &json!({"areas": []}))
        .await;
    let (_, r) = app
        .get(&format!("/api/v1/campaigns/{id}/targets?area=193"))
        .await;
    assert_eq!(r["area"]["site_capacity"], 200, "{r}");
    assert_eq!(r["children"][0]["area_code"], "06658", "{r}");
    assert_eq!(r["children"][0]["site_capacity"], 200, "{r}");
    assert_eq!(r["children"][1]["site_capacity"], 0, "{r}");
    app.cleanup().await;
}

async fn a_merge_carries_a_catchment_to_the_survivor(backend: &str) {
    let app = TestApp::start(backend).await;
    world(&app).await;
    app.put(
        "/api/v1/sites/S1/catchment",
        &json!({"areas": ["06661", "06700"]}),
    )
    .await;
    app.put("/api/v1/sites/S2/catchment", &json!({"areas": ["06700"]}))
        .await;
    let path = "/api/v1/areas/reorganisations";
    let body = |change: Value| json!({"effective_on": "2025-07-01", "reason": "Nghị quyết 202/2025/QH15", "change": change});
    // 06661 merges into 06700: S1 served both and serves the survivor once.
    let (s, r) = app
        .post(
            path,
            &body(json!({"kind": "merge", "sources": ["06661"], "into": "06700"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(served(&app, "S1").await, ["06700"]);
    assert_eq!(served(&app, "S2").await, ["06700"]);
    // 06700 merges into 06658: both sites now serve 06658.
    let (s, r) = app
        .post(
            path,
            &body(json!({"kind": "merge", "sources": ["06700"], "into": "06658"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(served(&app, "S1").await, ["06658"]);
    assert_eq!(served(&app, "S2").await, ["06658"]);
    // A move keeps the codes; the capacity follows the new paths.
    let (s, r) = app
        .post(
            path,
            &body(json!({"kind": "move", "area": "06658", "parent_code": "194"})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(served(&app, "S1").await, ["06658"]);
    let (s, campaign) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Sởi", "disease": "measles", "area_code": "22", "products": ["AZ"],
                "priority_groups": [], "target_percent": 95.0, "target_date": day_in(30)}),
        )
        .await;
    assert_eq!(s, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap();
    let (_, r) = app
        .get(&format!("/api/v1/campaigns/{id}/targets?area=194"))
        .await;
    assert_eq!(r["area"]["site_capacity"], 300, "{r}");
    app.cleanup().await;
}
