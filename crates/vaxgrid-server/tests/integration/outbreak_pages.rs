//! The outbreak pages over real HTTP on both backends: the commune team's
//! daily check list with a check recorded from a row (a decimal comma,
//! the alerts it raises, errors next to the field, a second submit
//! recording nothing more, CSRF) and the district's alert list; a case's
//! page with its contact graph drawn as SVG and as a table, audited as
//! the API's read; a laboratory's queue with results recorded once; the
//! surge planner's shipped scenarios and an edited one refused at the
//! field. Names show as text; another area's case, person or laboratory
//! is the 404 page.

use crate::common;

use common::outbreak::{
    a_hub_and_its_contacts, confirm_body, contact_body, days_ago, lab_with_samples, resident,
};
use common::pages::{FormPages, Session};
use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    a_team_checks_its_list_and_the_district_sees_the_alerts,
    a_long_team_list_reads_a_page_at_a_time,
    a_case_page_draws_the_graph_and_is_audited,
    a_laboratory_queue_records_each_result_once,
    the_surge_planner_projects_and_refuses_at_the_field,
);

async fn confirm(app: &TestApp, person: &str, on: &str) {
    let (s, r) = app
        .post("/api/v1/outbreak/cases", &confirm_body(person, on))
        .await;
    assert_eq!(s, 201, "{r}");
}

async fn link(app: &TestApp, source: &str, person: &str, on: &str, setting: &str) {
    let (s, r) = app
        .post(
            "/api/v1/outbreak/contacts",
            &contact_body(source, person, on, setting),
        )
        .await;
    assert_eq!(s, 201, "{r}");
}

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

const SCRIPT: &str = "<script>alert(1)</script> Lê";

async fn a_team_checks_its_list_and_the_district_sees_the_alerts(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 1, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 2, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 3, "Phạm Văn Cường", "0665801").await;
    let d = resident(&app, 4, SCRIPT, "0665801").await;
    confirm(&app, &a, &days_ago(5)).await;
    link(&app, &a, &b, &days_ago(6), "household").await;
    link(&app, &b, &c, &days_ago(6), "work").await;
    link(&app, &b, &d, &days_ago(6), "school").await;
    for p in [&c, &d] {
        let (s, r) = app
            .post(
                "/api/v1/outbreak/isolations",
                &json!({"person_id": p, "start_on": days_ago(3), "home_possible": true}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    // C was checked every day so far; D never.
    for n in [3, 2, 1] {
        let (s, r) = app
            .post(
                "/api/v1/outbreak/checks",
                &json!({"person_id": c, "day": days_ago(n), "present": true, "temperature_c": 36.8, "spo2": 98}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let team = Session::start(&app, "doi-hong-gai", &["epidemic_responder:06658"]).await;
    let (s, page) = team.get("/outbreak/team", "vi").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Theo dõi hằng ngày"), "{page}");
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62; Lê"));
    assert!(!page.contains("<script>alert(1)"));
    // D's missed days are an alert; C's are not.
    let alerts =
        &page[page.find("id=\"alert-list\"").unwrap()..page.find("id=\"list-h\"").unwrap()];
    assert!(alerts.contains("bỏ lỡ kiểm tra"), "{alerts}");
    assert!(
        alerts.contains("Lê") && !alerts.contains("Phạm Văn Cường"),
        "{alerts}"
    );
    assert!(
        page.contains(&format!("id=\"{c}-temperature_c\"")),
        "{page}"
    );
    // C today: 38,5 °C, SpO2 94, a cough: fever and low SpO2.
    let check = |temperature: &'static str, spo2: &'static str| {
        vec![
            ("person_id", c.as_str()),
            ("present", "1"),
            ("temperature_c", temperature),
            ("spo2", spo2),
            ("symptoms", "cough"),
        ]
    };
    let (s, page) = team
        .post(
            "/outbreak/team/checks",
            "vi",
            &check("ba mươi tám", "94"),
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains(&format!(
            "id=\"err-{c}-temperature_c\">Nhiệt độ từ 30 đến 45 °C"
        )),
        "{page}"
    );
    assert!(
        page.contains("value=\"ba mươi tám\""),
        "what was typed is kept"
    );
    assert!(page.contains(&format!(
        "id=\"{c}-s-cough\" name=\"symptoms\" value=\"cough\" checked"
    )));
    let (s, page) = team
        .post("/outbreak/team/checks", "en", &check("45,5", "94"), true)
        .await;
    assert_eq!(s, 422, "the rules' range: {page}");
    assert!(page.contains(&format!(
        "id=\"err-{c}-temperature_c\">A temperature between 30 and 45"
    )));
    let (s, page) = team
        .post("/outbreak/team/checks", "en", &check("38,5", "140"), true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(&format!("id=\"err-{c}-spo2\"")), "{page}");
    let (s, _) = team
        .post("/outbreak/team/checks", "vi", &check("38,5", "94"), false)
        .await;
    assert_eq!(s, 403, "no CSRF token");
    let checks = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM isolation_checks WHERE person_id = $1";
    assert_eq!(count(&app, checks, &c).await, 3, "nothing recorded yet");
    let (s, to) = team
        .post("/outbreak/team/checks", "vi", &check("38,5", "94"), true)
        .await;
    assert_eq!(
        (s, to.as_str()),
        (303, format!("/outbreak/team#p-{c}").as_str())
    );
    // Sent again (or from a page read before the check): refused at the
    // row, saying the first check stands.
    let (s, page) = team
        .post("/outbreak/team/checks", "vi", &check("37,0", "98"), true)
        .await;
    assert_eq!(s, 409, "{page}");
    assert!(
        page.contains(&format!(
            "id=\"err-{c}-again\" role=\"alert\">Người này đã được kiểm tra hôm nay"
        )),
        "{page}"
    );
    assert_eq!(count(&app, checks, &c).await, 4, "recorded once");
    let (_, list) = app.get("/api/v1/outbreak/team-list").await;
    let entry = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["person_id"] == c.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["checked_today"], true);
    assert_eq!(entry["alerts"], json!(["fever", "low_spo2"]), "{entry}");
    // Someone not in isolation: refused, nothing written.
    let (s, page) = team
        .post(
            "/outbreak/team/checks",
            "en",
            &[("person_id", a.as_str()), ("present", "1")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert_eq!(count(&app, checks, &a).await, 0);
    // The district's alert list shows both; another district's none, and
    // its team cannot check C.
    let district = Session::start(&app, "ha-long", &["epidemic_responder:193"]).await;
    let (s, page) = district.get("/outbreak/alerts", "zh").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Phạm Văn Cường") && page.contains("发热"),
        "{page}"
    );
    assert!(
        page.contains("&#60;script&#62;") && page.contains("漏检"),
        "{page}"
    );
    assert!(page.contains("Khu 1"), "the home area by name: {page}");
    let other = Session::start(&app, "mong-cai", &["epidemic_responder:194"]).await;
    let (s, page) = other.get("/outbreak/alerts", "en").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("No alert today.") && !page.contains("Cường"),
        "{page}"
    );
    let (s, page) = other.get("/outbreak/team", "en").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Nobody in your areas is in home isolation today.")
            && !page.contains("Cường"),
        "another district's team list: {page}"
    );
    let (s, _) = other
        .post("/outbreak/team/checks", "en", &check("37", "97"), true)
        .await;
    assert_eq!(s, 404);
    // A role without the outbreak's permissions.
    let registrar = Session::start(&app, "registrar", &["registrar:S1"]).await;
    let (s, _) = registrar.get("/outbreak/team", "en").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

/// 130 persons at home: the team's page shows the day's counts and the
/// first 100 (not yet checked first), links the next page, which holds
/// the other 30; a check sent from the second page comes back to it; the
/// alert list pages likewise; a cursor that is not the list's is a 400.
async fn a_long_team_list_reads_a_page_at_a_time(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (_, _, at_home) = a_hub_and_its_contacts(&app, 130).await;
    let today = vaxgrid_store::today();
    let actor = vaxgrid_store::model::Actor::system("test");
    // Started two days ago; checked yesterday, not the day before.
    let rows: Vec<(String, time::Date, Vec<time::Date>)> = at_home
        .iter()
        .map(|p| {
            (
                p.clone(),
                today - time::Duration::days(2),
                vec![today - time::Duration::days(1)],
            )
        })
        .collect();
    let policy = vaxgrid_core::outbreak::isolation::Policy::default();
    assert_eq!(
        app.store
            .load_isolations(&rows, &policy, &actor)
            .await
            .unwrap(),
        130
    );
    let team = Session::start(&app, "doi-hong-gai", &["epidemic_responder:06658"]).await;
    let (s, first) = team.get("/outbreak/team", "en").await;
    assert_eq!(s, 200, "{first}");
    assert!(
        first.contains("130 persons at home in isolation"),
        "{first}"
    );
    let rows_of = |page: &str| -> Vec<String> {
        page.split("<li id=\"p-")
            .skip(1)
            .map(|r| r.split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows_of(&first).len(), 100);
    // Everyone missed a day: 50 alerts on top, the whole list linked.
    assert!(
        first.contains("href=\"/outbreak/alerts\">The whole alert list"),
        "{first}"
    );
    let next = first
        .split("rel=\"next\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap()
        .to_string();
    assert!(next.starts_with("/outbreak/team?after="), "{next}");
    let (s, second) = team.get(&next, "vi").await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(rows_of(&second).len(), 30);
    assert!(!second.contains("rel=\"next\""), "the last page");
    let mut everyone = rows_of(&first);
    everyone.extend(rows_of(&second));
    everyone.sort();
    let mut want = at_home.clone();
    want.sort();
    assert_eq!(everyone, want, "each person once over the two pages");
    let after = next.trim_start_matches("/outbreak/team?after=");
    assert!(
        second.contains(&format!("name=\"after\" value=\"{after}\"")),
        "the forms carry their page"
    );
    let last = &at_home[129];
    let (s, to) = team
        .post(
            "/outbreak/team/checks",
            "vi",
            &[
                ("person_id", last.as_str()),
                ("present", "1"),
                ("after", after),
            ],
            true,
        )
        .await;
    assert_eq!((s, to), (303, format!("{next}#p-{last}")));
    let (s, alerts) = team.get("/outbreak/alerts", "zh").await;
    assert_eq!(s, 200, "{alerts}");
    assert_eq!(alerts.matches("<li class=\"missed\"").count(), 130);
    let (s, _) = team.get("/outbreak/team?after=zz", "en").await;
    assert_eq!(s, 400);
    let (s, _) = team.get("/outbreak/team?page=2", "en").await;
    assert_eq!(s, 400);
    app.cleanup().await;
}

async fn reads(app: &TestApp, person: &str) -> i64 {
    count(
        app,
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_log WHERE action = 'read' \
         AND entity = 'outbreak_case' AND entity_id = $1",
        person,
    )
    .await
}

async fn a_case_page_draws_the_graph_and_is_audited(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = resident(&app, 11, "Nguyễn Văn An", "0665801").await;
    let b = resident(&app, 12, "Trần Thị Bình", "0665801").await;
    let c = resident(&app, 13, SCRIPT, "0665801").await;
    let e = resident(&app, 14, "Đỗ Thị Em", "0665801").await;
    let far = resident(&app, 15, "Hoàng Văn Xa", "06700").await;
    confirm(&app, &a, &days_ago(3)).await;
    link(&app, &a, &b, &days_ago(4), "household").await;
    link(&app, &b, &c, &days_ago(4), "work").await;
    link(&app, &c, &e, &days_ago(4), "transport").await;
    link(&app, &a, &far, &days_ago(4), "school").await;
    let (s, r) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &b, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{r}");
    let team = Session::start(&app, "doi-hong-gai", &["epidemic_responder:06658"]).await;
    // The entry page: the case, and the persons by class.
    let (s, page) = team.get("/outbreak", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains(&format!("href=\"/outbreak/cases/{a}\">Nguyễn Văn An")),
        "{page}"
    );
    assert!(page.contains("&#60;script&#62;") && !page.contains("<script>alert"));
    assert!(
        !page.contains("Hoàng Văn Xa"),
        "outside the commune: {page}"
    );
    let (s, page) = team.get("/outbreak?class=F2", "en").await;
    assert_eq!(s, 200);
    let persons = &page[page.find("id=\"persons\"").unwrap()..];
    assert!(
        persons.contains("&#60;script&#62;") && !persons.contains("Trần Thị Bình"),
        "{persons}"
    );
    let (s, _) = team.get("/outbreak?class=F9", "en").await;
    assert_eq!(s, 400);
    // The case page, in Chinese: facts, the graph, the table; audited.
    assert_eq!(reads(&app, &a).await, 0);
    let (s, page) = team.get(&format!("/outbreak/cases/{a}"), "zh").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(reads(&app, &a).await, 1);
    assert!(page.contains("病例：Nguyễn Văn An"), "{page}");
    let svg = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    assert_eq!(svg.matches("<g class=\"node").count(), 4, "{svg}");
    for class in ["f0", "f1", "f2", "f3"] {
        assert_eq!(
            svg.matches(&format!("<g class=\"node {class}\"")).count(),
            1,
            "{svg}"
        );
    }
    assert_eq!(svg.matches("<line class=\"link").count(), 3, "{svg}");
    assert!(
        svg.contains("&#60;script&#62;") && !svg.contains("<script>"),
        "{svg}"
    );
    assert!(svg.contains("<title id=\"cg-title\">Nguyễn Văn An 的接触图</title>"));
    let table = &page[page.find("id=\"graph-people\"").unwrap()..];
    assert!(
        table.contains(&format!("href=\"/registry/persons/{b}\">Trần Thị Bình")),
        "{table}"
    );
    assert!(
        table.contains("1 剂") && table.contains("未接种"),
        "{table}"
    );
    assert!(
        table.contains("交通工具"),
        "the setting of the link: {table}"
    );
    assert!(page.contains("有 1 名接触者不在您的辖区内"), "{page}");
    assert!(!page.contains("Hoàng Văn Xa"));
    // Not a case, not a person, another district: the 404 page; not audited.
    for path in [
        format!("/outbreak/cases/{b}"),
        "/outbreak/cases/nobody".to_string(),
    ] {
        let (s, _) = team.get(&path, "en").await;
        assert_eq!(s, 404, "{path}");
    }
    let other = Session::start(&app, "mong-cai", &["epidemic_responder:194"]).await;
    let (s, _) = other.get(&format!("/outbreak/cases/{a}"), "en").await;
    assert_eq!(s, 404);
    assert_eq!(reads(&app, &a).await, 1);
    app.cleanup().await;
}

async fn result(who: &Session, test: &str, outcome: &str, csrf: bool) -> (u16, String) {
    who.post(
        "/outbreak/labs/CDC22/results",
        "en",
        &[("test_id", test), ("outcome", outcome)],
        csrf,
    )
    .await
}

async fn a_laboratory_queue_records_each_result_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let mut people = Vec::new();
    for (i, name) in ["Người Một", "Người Hai", SCRIPT, "Người Bốn"]
        .iter()
        .enumerate()
    {
        people.push(resident(&app, 21 + i as u32, name, "0665801").await);
    }
    let people: Vec<&str> = people.iter().map(String::as_str).collect();
    let ids = lab_with_samples(&app, 3, &people).await;
    let (s, pool) = app
        .post(
            "/api/v1/outbreak/laboratories/CDC22/tests",
            &json!({"samples": ids[..3]}),
        )
        .await;
    assert_eq!(s, 201, "{pool}");
    let pool = pool["id"].as_str().unwrap().to_string();
    let province = Session::start(&app, "cdc", &["epidemic_responder:22"]).await;
    let (s, page) = province.get("/outbreak/labs", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("href=\"/outbreak/labs/CDC22\">CDC Quảng Ninh"),
        "{page}"
    );
    let (s, page) = province.get("/outbreak/labs/CDC22", "vi").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Mẫu gộp 3"), "{page}");
    assert!(page.contains("&#60;script&#62;") && !page.contains("<script>alert"));
    let today = vaxgrid_store::today();
    assert!(
        page.contains(&format!(
            "chạy {:02}/{:02}/{}",
            today.day(),
            u8::from(today.month()),
            today.year()
        )),
        "{page}"
    );
    let waiting = &page[page.find("id=\"waiting\"").unwrap()..];
    assert!(waiting.contains("Người Bốn"), "{waiting}");
    // A bad outcome is refused at the test; the positive pool is recorded
    // once however often it is sent.
    let (s, page) = result(&province, &pool, "maybe", true).await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains(&format!("id=\"err-{pool}\">Choose negative or positive.")),
        "{page}"
    );
    for _ in 0..2 {
        let (s, to) = result(&province, &pool, "positive", true).await;
        assert_eq!((s, to.as_str()), (303, "/outbreak/labs/CDC22"));
    }
    let (_, q) = app.get("/api/v1/outbreak/laboratories/CDC22/queue").await;
    assert_eq!(
        q["queue"].as_array().unwrap().len(),
        3,
        "three re-tests: {q}"
    );
    let (s, page) = province.get("/outbreak/labs/CDC22", "zh").await;
    assert_eq!(s, 200);
    assert_eq!(
        page.matches("<span class=\"badge warn\">复检</span>")
            .count(),
        3,
        "{page}"
    );
    // No CSRF token; another district; a role without the permission.
    let (s, _) = result(&province, &pool, "negative", false).await;
    assert_eq!(s, 403);
    let other = Session::start(&app, "mong-cai", &["epidemic_responder:194"]).await;
    let (s, _) = other.get("/outbreak/labs/CDC22", "en").await;
    assert_eq!(s, 404);
    let (s, page) = other.get("/outbreak/labs", "en").await;
    assert_eq!(s, 200);
    assert!(page.contains("No laboratory in your areas."), "{page}");
    app.cleanup().await;
}

async fn the_surge_planner_projects_and_refuses_at_the_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let planner = Session::start(&app, "ke-hoach", &["planner:22"]).await;
    let (s, page) = planner.get("/outbreak/surge", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Quảng Ninh, 1,000 cases"), "{page}");
    assert!(
        !page.contains("href=\"/outbreak/team\""),
        "a planner is not sent to the team's pages"
    );
    let (s, page) = planner.get("/outbreak/surge?scenario=10000", "vi").await;
    assert_eq!(s, 200, "{page}");
    // Three regions' mild-moderate beds and the province's severe-critical.
    assert_eq!(
        page.matches("class=\"surge-chart\"").count(),
        4 + 2,
        "{page}"
    );
    assert!(page.contains("Nặng và nguy kịch"), "{page}");
    let tiers = &page[page.find("id=\"tiers\"").unwrap()..page.find("id=\"beds-h\"").unwrap()];
    assert_eq!(
        tiers.matches("<tr><th scope=\"row\">").count(),
        4,
        "{tiers}"
    );
    // The CLI's figures for the same scenario (vaxgrid outbreak plan).
    let projection = vaxgrid_core::outbreak::surge::project(
        &vaxgrid_core::outbreak::surge::shipped(10000).unwrap(),
    )
    .unwrap();
    for t in &projection.tiers {
        let expected = match t.runs_out {
            Some(d) => format!("ngày {d}"),
            None => "không hết".to_string(),
        };
        assert!(tiers.contains(&expected), "{expected}: {tiers}");
    }
    // Edited: severity shares adding to 90 %, then a pool of 0, then text.
    let base = "/outbreak/surge?scenario=5000&edited=1&arrivals=growth&severity.mild=70&severity.moderate=12&severity.severe=5&severity.critical=3";
    let (s, page) = planner.get(base, "en").await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"err-severity\">The shares add up to 90.0 %, not 100 %."),
        "{page}"
    );
    assert!(page.contains("value=\"70\""), "what was typed is kept");
    assert!(
        !page.contains("class=\"surge-chart\""),
        "no projection of a refused scenario"
    );
    let (s, page) = planner
        .get(
            "/outbreak/surge?scenario=5000&edited=1&testing.pool_size=0",
            "zh",
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"err-s-testing-pool_size\">1 至各实验室的最大混样数（10）"),
        "{page}"
    );
    let (s, page) = planner
        .get(
            "/outbreak/surge?scenario=5000&edited=1&regions%5B0%5D.share_pct=abc",
            "en",
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("id=\"err-s-regions-0-share_pct\">Type a number."),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"err-s-regions-0-share_pct\""));
    // An edit that holds: half the beds of the first facility.
    let (s, page) = planner
        .get("/outbreak/surge?scenario=1000&edited=1&arrivals=even&arrivals.even.total=400&arrivals.even.over_days=20&facilities%5B0%5D.mild_moderate_beds=10", "en")
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("value=\"10\""), "{page}");
    let (s, _) = planner.get("/outbreak/surge?scenario=7", "en").await;
    assert_eq!(s, 400);
    let registrar = Session::start(&app, "registrar", &["registrar:S1"]).await;
    let (s, _) = registrar.get("/outbreak/surge", "en").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}
