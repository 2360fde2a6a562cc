//! Adverse events following immunization over real HTTP on both backends:
//! outcome and treatment reported at the vaccination table and refused by
//! field when wrong; the AEFI report of an area (counts, serious events,
//! deaths and rates per 100,000 doses by product, lot, area, wave,
//! severity, seriousness and outcome, JSON and CSV), the events behind each
//! figure in pages, a district seeing only its own, and wave progress with
//! its serious events and deaths.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

on_both_backends!(
    outcomes_are_reported_and_checked,
    the_report_counts_and_lists_by_area,
    bad_report_queries_are_refused_by_field,
);

/// A moment `minutes` after a base three hours ago.
fn at(minutes: i64) -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(3) + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

/// A person of the commune Hồng Gai (district 193) or Ka Long (194).
async fn resident(app: &TestApp, serial: u32, name: &str, home: &str) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": format!("022080{serial:06}"), "full_name": name,
                    "birth_date": "1980-05-17", "sex": "male", "home_area": home, "priority_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

/// A visit of `person` at S1 up to the dose (given three hours ago).
async fn vaccinated(app: &TestApp, person: &str) -> String {
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let visit = v["id"].as_str().unwrap().to_string();
    let answers: Vec<Value> = [
        "anaphylaxis",
        "acute_illness",
        "recent_vaccine",
        "recent_covid",
    ]
    .iter()
    .map(|q| json!({"question_id": q, "yes": false}))
    .collect();
    for body in [
        json!({"kind": "check_in", "at": at(0), "temperature_c": 36.7}),
        json!({"kind": "identity_check", "at": at(1), "document": "cccd"}),
        json!({"kind": "screening", "at": at(2), "questionnaire_version": "default-1", "answers": answers}),
        json!({"kind": "consent", "at": at(3), "by": "self", "consent_text_version": "2021-07", "for_person_id": person}),
        json!({"kind": "dose", "at": at(4), "lot_number": "AZ-1", "station": "B1"}),
    ] {
        let (s, b) = event(app, &visit, &body).await;
        assert_eq!(s, 200, "{body}: {b}");
    }
    visit
}

async fn event(app: &TestApp, visit: &str, body: &Value) -> (u16, Value) {
    app.post(&format!("/api/v1/visits/{visit}/events"), body)
        .await
}

fn adverse(severity: &str, serious: bool, outcome: &str) -> Value {
    json!({"kind": "adverse_event", "onset": at(20), "symptoms": ["fever"], "severity": severity,
           "serious": serious, "outcome": outcome, "treatment": "paracetamol 500 mg"})
}

async fn outcomes_are_reported_and_checked(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(701, "Lý Văn Một").await;
    let visit = vaccinated(&app, &person).await;
    let refusals = [
        (adverse("mild", false, "dead"), "outcome"),
        (adverse("severe", false, "death"), "serious"),
        (adverse("severe", false, "hospitalised"), "serious"),
        (
            json!({"kind": "adverse_event", "onset": at(20), "symptoms": ["fever"], "severity": "mild", "treatment": "x".repeat(501)}),
            "treatment",
        ),
        (
            json!({"kind": "adverse_event", "onset": at(20), "symptoms": ["fever"], "severity": "mild", "outcome": 1}),
            "outcome",
        ),
        (
            json!({"kind": "adverse_event", "onset": at(60 * 5), "symptoms": ["fever"], "severity": "mild"}),
            "onset",
        ),
    ];
    for (body, name) in refusals {
        let (s, p) = event(&app, &visit, &body).await;
        assert_eq!((s, field(&p)), (422, Some(name)), "{body}: {p}");
    }
    let (_, report) = app.get("/api/v1/reports/aefi?area=22").await;
    assert_eq!(
        report["total"]["events"], 0,
        "nothing refused is counted: {report}"
    );
    // Accepted: kept on the visit as sent, and a row of the reports.
    let (s, v) = event(&app, &visit, &adverse("severe", true, "hospitalised")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = event(&app, &visit, &json!({"kind": "adverse_event", "onset": at(25), "symptoms": ["pain"], "severity": "mild"})).await;
    assert_eq!(s, 200, "{v}");
    let (s, list) = app.get("/api/v1/reports/aefi/events?area=22").await;
    assert_eq!(s, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(
        items[0]["outcome"], "unknown",
        "newest first, unknown by default: {list}"
    );
    assert_eq!(items[0]["treatment"], Value::Null);
    assert_eq!(items[1]["outcome"], "hospitalised");
    assert_eq!(items[1]["treatment"], "paracetamol 500 mg");
    assert_eq!(items[1]["serious"], true);
    assert_eq!(items[1]["full_name"], "Lý Văn Một");
    assert_eq!(items[1]["lot_number"], "AZ-1");
    assert_eq!(items[1]["area_code"], "0665801");
    assert!(items[1]["investigation_id"].is_string(), "{list}");
    app.cleanup().await;
}

async fn the_report_counts_and_lists_by_area(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, c) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Đợt tiêm", "disease": "COVID-19", "area_code": "22", "products": ["AZ"],
                    "priority_groups": ["frontline"], "target_percent": 90.0, "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let campaign = c["id"].as_str().unwrap().to_string();
    let (s, w) = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/waves"),
            &json!({"name": "Đợt 1", "starts_on": day(-1), "ends_on": day(30), "eligible_groups": []}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let wave = w["id"].as_str().unwrap().to_string();
    // Hạ Long: two vaccinated with reactions, one without; Móng Cái: one death.
    let a = resident(&app, 711, "Trần Văn A", "0665801").await;
    let b = resident(&app, 712, "Trần Văn B", "06658").await;
    let c = resident(&app, 713, "Trần Văn C", "0665801").await;
    let d = resident(&app, 714, "Trần Văn D", "06700").await;
    let (va, vb, vd) = (
        vaccinated(&app, &a).await,
        vaccinated(&app, &b).await,
        vaccinated(&app, &d).await,
    );
    let (s, r) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &c, &day(0)))
        .await;
    assert_eq!(s, 201, "{r}");
    for (visit, body) in [
        (&va, adverse("mild", false, "recovered")),
        (&vb, adverse("severe", true, "hospitalised")),
        (&vd, adverse("severe", true, "death")),
    ] {
        let (s, r) = event(&app, visit, &body).await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, r) = app.get("/api/v1/reports/aefi?area=22").await;
    assert_eq!(s, 200, "{r}");
    let t = &r["total"];
    assert_eq!(
        (&t["events"], &t["serious"], &t["deaths"], &t["doses"]),
        (&json!(3), &json!(2), &json!(1), &json!(4)),
        "{r}"
    );
    assert_eq!(t["rate_per_100k"], 75000.0, "3 events over 4 doses: {r}");
    let figure = |part: &str, key: &str| -> Value {
        r[part]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{part} {key}: {r}"))
    };
    let hl = figure("by_area", "193");
    assert_eq!(
        (&hl["events"], &hl["doses"], &hl["deaths"]),
        (&json!(2), &json!(3), &json!(0))
    );
    assert_eq!(hl["filter"]["area"], "193");
    let mc = figure("by_area", "194");
    assert_eq!(
        (&mc["events"], &mc["deaths"], &mc["rate_per_100k"]),
        (&json!(1), &json!(1), &json!(100000.0))
    );
    assert_eq!(figure("by_product", "AZ")["events"], 3);
    assert_eq!(figure("by_lot", "AZ/AZ-1")["doses"], 4);
    assert_eq!(figure("by_outcome", "death")["events"], 1);
    assert_eq!(figure("by_outcome", "recovered")["events"], 1);
    assert_eq!(figure("by_outcome", "unknown")["events"], 0);
    assert_eq!(figure("by_severity", "severe")["events"], 2);
    assert_eq!(figure("by_seriousness", "serious")["events"], 2);
    assert_eq!(figure("by_seriousness", "not_serious")["events"], 1);
    assert_eq!(r["by_wave"], json!([]), "waves only with a campaign");
    // With the campaign: a figure per wave.
    let (_, r) = app
        .get(&format!("/api/v1/reports/aefi?area=22&campaign={campaign}"))
        .await;
    assert_eq!(r["by_wave"][0]["key"], wave.as_str(), "{r}");
    assert_eq!(
        (&r["by_wave"][0]["events"], &r["by_wave"][0]["deaths"]),
        (&json!(3), &json!(1))
    );
    // Wave progress shows the serious events and deaths.
    let (s, p) = app
        .get(&format!(
            "/api/v1/campaigns/{campaign}/waves/{wave}/progress"
        ))
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["safety"],
        json!({"serious_events": 2, "deaths": 1}),
        "{p}"
    );
    let (_, p) = app
        .get(&format!(
            "/api/v1/campaigns/{campaign}/waves/{wave}/progress?area=193"
        ))
        .await;
    assert_eq!(
        p["safety"],
        json!({"serious_events": 1, "deaths": 0}),
        "{p}"
    );
    // The planner's campaign page shows them per wave, linking the report
    // page narrowed to the wave's serious events.
    let (s, page) = app.get(&format!("/planner/campaigns/{campaign}")).await;
    assert_eq!(s, 200);
    let page = page.as_str().unwrap();
    let link =
        format!("/reports/aefi?area=22&#38;campaign={campaign}&#38;wave={wave}&#38;serious=true");
    assert!(
        page.contains(&format!(
            "<a href=\"{link}\">2</a></td><td class=\"num\">1</td>"
        )),
        "{page}"
    );
    let (s, page) = app.get(&link.replace("&#38;", "&")).await;
    assert_eq!(s, 200);
    let page = page.as_str().unwrap();
    assert!(
        page.contains("Trần Văn D") && page.contains("Trần Văn B"),
        "{page}"
    );
    assert!(!page.contains("Trần Văn A"), "not serious: {page}");
    assert!(page.contains("id=\"by-wave\""), "{page}");
    // The list behind a figure: its filter, paged.
    let (s, l) = app
        .get("/api/v1/reports/aefi/events?area=22&serious=true&limit=1")
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");
    let cursor = l["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, l2) = app
        .get(&format!(
            "/api/v1/reports/aefi/events?area=22&serious=true&limit=1&after={cursor}"
        ))
        .await;
    assert_eq!(l2["items"].as_array().unwrap().len(), 1, "{l2}");
    assert!(l2.get("next_cursor").is_none_or(Value::is_null), "{l2}");
    let names: Vec<&str> = [&l, &l2]
        .iter()
        .map(|p| p["items"][0]["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Trần Văn D", "Trần Văn B"]);
    let (_, deaths) = app
        .get("/api/v1/reports/aefi/events?area=22&outcome=death")
        .await;
    assert_eq!(deaths["items"][0]["person_id"], d.as_str(), "{deaths}");
    assert_eq!(deaths["items"].as_array().unwrap().len(), 1);
    // CSV of both.
    let (s, csv) = app.get("/api/v1/reports/aefi?area=22&format=csv").await;
    assert_eq!(s, 200);
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("dimension,key,label,events,serious,deaths,doses,rate_per_100k\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\ntotal,22,Quảng Ninh,3,2,1,4,75000\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\noutcome,death,death,1,1,1,4,25000\n"),
        "{csv}"
    );
    let (s, csv) = app
        .get("/api/v1/reports/aefi/events?area=193&format=csv")
        .await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 3, "a header and Hạ Long's two: {lines:?}");
    assert!(
        lines[0].starts_with("id,visit_id,person_id,full_name,"),
        "{lines:?}"
    );
    // A district sees its own, and another's as it would a missing area.
    let planner = app.as_user("u-hl", &["planner:193"]).await;
    let (s, r) = planner.get("/api/v1/reports/aefi?area=193").await;
    assert_eq!((s, &r["total"]["events"]), (200, &json!(2)), "{r}");
    for url in [
        "/api/v1/reports/aefi?area=194",
        "/api/v1/reports/aefi?area=22",
        "/api/v1/reports/aefi/events?area=194",
        "/api/v1/reports/aefi?area=99999",
    ] {
        let (s, p) = planner.get(url).await;
        assert_eq!(s, 404, "{url}: {p}");
    }
    let vaccinator = app.as_user("u-vac", &["vaccinator:S1"]).await;
    let (s, _) = vaccinator.get("/api/v1/reports/aefi?area=193").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn bad_report_queries_are_refused_by_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    for (query, name) in [
        ("", "area"),
        ("area=", "area"),
        ("area=22&severity=fatal", "severity"),
        ("area=22&serious=yes", "serious"),
        ("area=22&outcome=dead", "outcome"),
        ("area=22&from=2021-13-01", "from"),
        ("area=22&to=tomorrow", "to"),
        ("area=22&format=xml", "format"),
        ("area=22&campaign=nope", "campaign"),
        ("area=22&wave=w1", "campaign"),
        ("area=22&limit=5", "limit"),
        ("area=22&colour=red", "colour"),
    ] {
        let (s, p) = app.get(&format!("/api/v1/reports/aefi?{query}")).await;
        assert_eq!((s, field(&p)), (400, Some(name)), "{query}: {p}");
    }
    for (query, name) in [
        ("area=22&limit=0", "limit"),
        ("area=22&limit=501", "limit"),
        ("area=22&after=garbage", "after"),
        ("area=22&format=csv&limit=10", "limit"),
        ("area=22&serious=1", "serious"),
    ] {
        let (s, p) = app
            .get(&format!("/api/v1/reports/aefi/events?{query}"))
            .await;
        assert_eq!((s, field(&p)), (400, Some(name)), "{query}: {p}");
    }
    let unknown = new_id();
    let (s, p) = app
        .get(&format!("/api/v1/reports/aefi?area=22&campaign={unknown}"))
        .await;
    assert_eq!(s, 404, "{p}");
    app.cleanup().await;
}
