//! Campaigns over real HTTP on both backends: a province's target split to
//! districts and communes (summing exactly, following the eligible
//! population, with parts fixed by hand), progress of a wave, the target
//! survey list in JSON pages and CSV, bad input refused by field, and a
//! district's planner kept to their district.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    campaign_targets_progress_and_survey,
    a_person_in_two_groups_counts_once,
    targets_in_people_on_a_chosen_basis_and_per_day
);

fn day(offset: i64) -> String {
    vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(offset))
}

/// Registers a person with a CCCD number that matches sex and birth year.
async fn register(
    app: &TestApp,
    serial: u32,
    name: &str,
    female: bool,
    birth_date: &str,
    home_area: &str,
    groups: &[&str],
) -> String {
    let year: u32 = birth_date[..4].parse().unwrap();
    let sex_digit = u32::from(female) + if year >= 2000 { 2 } else { 0 };
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": format!("022{sex_digit}{:02}{serial:06}", year % 100),
                    "full_name": name, "birth_date": birth_date, "sex": if female { "female" } else { "male" },
                    "home_area": home_area, "priority_groups": groups}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

async fn dose(app: &TestApp, person: &str, date: &str) {
    let (s, d) = app
        .post("/api/v1/doses", &dose_body(&new_id(), person, date))
        .await;
    assert_eq!(s, 201, "{d}");
}

fn field(p: &Value) -> Option<&str> {
    p["errors"][0]["field"].as_str()
}

fn parts(split: &Value) -> Vec<(String, i64)> {
    split["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["area_code"].as_str().unwrap().to_string(),
                p["people"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn statuses(items: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = items
        .iter()
        .map(|r| {
            (
                r["person_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn campaign_targets_progress_and_survey(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/areas",
            &json!({"code": "06661", "parent_code": "193", "level": "commune", "name": "Bạch Đằng"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // District 193: four frontline workers in village 0665801, and in
    // commune 06661 a frontline worker and a frontline minor.
    let mut village = Vec::new();
    for (serial, name) in [
        (1, "Nguyễn Văn Một"),
        (2, "Trần Văn Hai"),
        (3, "Lê Văn Ba"),
        (4, "Phạm Văn Bốn"),
    ] {
        village.push(app.person(serial, name).await);
    }
    let worker = register(
        &app,
        5,
        "Hoàng Thị Năm",
        true,
        "1985-03-02",
        "06661",
        &["frontline"],
    )
    .await;
    let minor = register(
        &app,
        6,
        "Vũ Văn Sáu",
        false,
        "2010-06-01",
        "06661",
        &["frontline"],
    )
    .await;
    // District 194: a frontline worker, an elderly woman, someone in no group.
    let far = register(
        &app,
        7,
        "Đặng Văn Bảy",
        false,
        "1975-01-09",
        "06700",
        &["frontline"],
    )
    .await;
    let elderly = register(
        &app,
        8,
        "Bùi Thị Tám",
        true,
        "1950-11-20",
        "06700",
        &["elderly"],
    )
    .await;
    let _nobody = register(&app, 9, "Đỗ Văn Chín", false, "1990-07-07", "06700", &[]).await;

    // Bad campaigns are refused by field.
    let good = json!({"name": "COVID-19 2021–2022", "disease": "COVID-19", "area_code": "22",
        "products": ["AZ", "PFIZER"], "priority_groups": ["frontline", "elderly"],
        "target_percent": 80.0, "target_date": day(60)});
    for (change, status, name) in [
        (json!({"products": ["AZ", "NOPE"]}), 422, "products"),
        (json!({"target_percent": 100.5}), 422, "target_percent"),
        (json!({"target_percent": 80.25}), 422, "target_percent"),
        (json!({"target_date": day(-1)}), 422, "target_date"),
        (json!({"area_code": "99"}), 422, "area_code"),
        (
            json!({"priority_groups": ["Front Line"]}),
            422,
            "priority_groups",
        ),
        (json!({"name": "  "}), 422, "name"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = app.post("/api/v1/campaigns", &body).await;
        assert_eq!((s, field(&p)), (status, Some(name)), "{change}: {p}");
    }
    let (s, campaign) = app.post("/api/v1/campaigns", &good).await;
    assert_eq!(s, 201, "{campaign}");
    assert_eq!(campaign["target_percent"], 80.0);
    assert_eq!(campaign["min_age_years"], 18);
    let id = campaign["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/campaigns/{id}");

    // Waves: bad dates and unknown groups refused by field.
    let wave_body = json!({"name": "Đợt 1: tuyến đầu", "starts_on": day(0), "ends_on": day(30),
        "eligible_groups": ["frontline"]});
    for (change, name) in [
        (json!({"ends_on": day(-1)}), "ends_on"),
        (json!({"ends_on": day(61)}), "ends_on"),
        (json!({"starts_on": day(-90)}), "starts_on"),
        (json!({"eligible_groups": ["teachers"]}), "eligible_groups"),
        (json!({"starts_on": "2021-02-30"}), "starts_on"),
    ] {
        let mut body = wave_body.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = app.post(&format!("{base}/waves"), &body).await;
        assert_eq!((s, field(&p)), (422, Some(name)), "{change}: {p}");
    }
    let (s, wave) = app.post(&format!("{base}/waves"), &wave_body).await;
    assert_eq!(s, 201, "{wave}");
    assert_eq!(wave["ordinal"], 1);
    let wave_id = wave["id"].as_str().unwrap().to_string();
    let (s, got) = app.get(&base).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["waves"][0]["id"], wave_id.as_str());
    let (s, _) = app
        .post(&format!("/api/v1/campaigns/{}/waves", new_id()), &wave_body)
        .await;
    assert_eq!(s, 404);

    // Eligible: the campaign's groups (frontline, elderly), from the
    // counters: 193 has 6 (the minor counts: counters carry no age), 194
    // has 2. 80% of 8 is 6.4 -> 6: 4.5 and 1.5, the tie to the larger.
    let targets = format!("{base}/targets");
    for (body, status, name) in [
        (
            json!({"area": "22", "fixed": [{"area": "194", "people": 100}]}),
            422,
            "fixed",
        ),
        (
            json!({"area": "22", "fixed": [{"area": "06700", "people": 1}]}),
            422,
            "fixed[0].area",
        ),
        (json!({"area": "99"}), 422, "area"),
        (json!({"area": "0665801"}), 422, "area"),
        (
            json!({"area": "22", "fixed": [{"area": "194", "people": -1}]}),
            422,
            "fixed[0].people",
        ),
    ] {
        let (s, p) = app.post(&targets, &body).await;
        assert_eq!((s, field(&p)), (status, Some(name)), "{body}: {p}");
    }
    let (s, split) = app.post(&targets, &json!({"area": "22"})).await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(
        (split["eligible"].as_i64(), split["total"].as_i64()),
        (Some(8), Some(6))
    );
    assert_eq!(
        parts(&split),
        [("193".to_string(), 5), ("194".to_string(), 1)]
    );
    // A district's part split to its communes: 5 by 4:2 -> 3.33, 1.67.
    let (s, split) = app.post(&targets, &json!({"area": "193"})).await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(split["total"], 5);
    assert_eq!(
        parts(&split),
        [("06658".to_string(), 3), ("06661".to_string(), 2)]
    );
    // By hand: 194 gets 3, 193 the rest; the communes' parts no longer add
    // up to 193's and are cleared.
    let (s, split) = app
        .post(
            &targets,
            &json!({"area": "22", "fixed": [{"area": "194", "people": 3}]}),
        )
        .await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(
        parts(&split),
        [("193".to_string(), 3), ("194".to_string(), 3)]
    );
    assert_eq!(split["parts"][1]["fixed"], true);
    assert_eq!(split["cleared_below"], 2);
    let (s, report) = app.get(&format!("{targets}?area=193")).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["area"]["target"], 3);
    assert!(report["children"][0]["target"].is_null(), "{report}");
    // Proportional again, and 193 split again: every level sums exactly.
    let (s, _) = app.post(&targets, &json!({"area": "22"})).await;
    assert_eq!(s, 200);
    let (s, _) = app.post(&targets, &json!({"area": "193"})).await;
    assert_eq!(s, 200);
    for (area, total) in [("22", 6), ("193", 5)] {
        let (s, report) = app.get(&format!("{targets}?area={area}")).await;
        assert_eq!(s, 200, "{report}");
        assert_eq!(report["area"]["target"], total, "{report}");
        assert_eq!(report["children_target"], total, "{report}");
    }

    // Doses: one worker completes (dose 1 sixty days ago, dose 2 today),
    // another and the far worker get dose 1 today; a third is booked.
    dose(&app, &village[0], &day(-60)).await;
    dose(&app, &village[0], &day(0)).await;
    dose(&app, &village[1], &day(0)).await;
    dose(&app, &far, &day(0)).await;
    let (s, opened) = app
        .post(
            "/api/v1/sessions",
            &json!({"site_code": "S1", "day": day(1), "opens": "07:00", "closes": "09:00",
                    "stations": 1, "per_station_per_hour": 10, "slot_minutes": 30}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let capacity: i64 = opened["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["capacity"].as_i64().unwrap())
        .sum();
    let (s, a) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": village[2], "session_id": opened["session"]["id"],
                    "starts_at": opened["slots"][0]["starts_at"]}),
        )
        .await;
    assert_eq!(s, 201, "{a}");

    // Target vs actual vs capacity per day, from the wave's start.
    let (s, report) = app.get(&format!("{targets}?area=22")).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["period_start"], day(0));
    assert_eq!(report["period_end"], day(60));
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 61);
    assert_eq!(
        days.iter()
            .map(|d| d["target"].as_i64().unwrap())
            .sum::<i64>(),
        6
    );
    assert_eq!(
        (days[0]["target"].as_i64(), days[0]["actual"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(days[1]["capacity"].as_i64(), Some(capacity));
    assert_eq!(
        (
            report["area"]["reached"].as_i64(),
            report["area"]["completed"].as_i64()
        ),
        (Some(3), Some(1))
    );

    // Progress of the frontline wave: eligible 7 (6 + 1), at least one
    // dose 3, completed 1; doses in the wave: two first, one second.
    let (s, progress) = app.get(&format!("{base}/waves/{wave_id}/progress")).await;
    assert_eq!(s, 200, "{progress}");
    let area = &progress["area"];
    assert_eq!(
        [
            &area["eligible"],
            &area["wave_target"],
            &area["campaign_target"],
            &area["at_least_one"],
            &area["completed"]
        ],
        [&json!(7), &json!(6), &json!(6), &json!(3), &json!(1)],
        "{progress}"
    );
    assert_eq!(
        progress["in_wave"],
        json!({"dose_1": 2, "dose_2": 1, "later_doses": 0, "total": 3})
    );
    let children: Vec<(&str, i64, i64)> = progress["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["area_code"].as_str().unwrap(),
                c["at_least_one"].as_i64().unwrap(),
                c["completed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(children, [("193", 2, 1), ("194", 1, 0)]);
    let (s, _) = app
        .get(&format!("{base}/waves/{}/progress", new_id()))
        .await;
    assert_eq!(s, 404);

    // The survey list: frontline and adult on the wave's first day; the
    // minor, the elderly woman (not in this wave) and the person in no
    // group are left out.
    let survey = format!("{base}/waves/{wave_id}/survey");
    let (s, first) = app.get(&format!("{survey}?limit=4")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (s, second) = app.get(&format!("{survey}?limit=4&after={cursor}")).await;
    assert_eq!(s, 200, "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let mut items = first["items"].as_array().unwrap().clone();
    items.extend(second["items"].as_array().unwrap().iter().cloned());
    let mut expected = vec![
        (village[0].clone(), "vaccinated".to_string()),
        (village[1].clone(), "vaccinated".to_string()),
        (village[2].clone(), "booked".to_string()),
        (village[3].clone(), "not_yet".to_string()),
        (worker.clone(), "not_yet".to_string()),
        (far.clone(), "vaccinated".to_string()),
    ];
    expected.sort();
    assert_eq!(statuses(&items), expected);
    let done = items
        .iter()
        .find(|r| r["person_id"] == village[0].as_str())
        .unwrap();
    assert_eq!(
        (
            done["valid_doses"].as_i64(),
            done["series_complete"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(done["last_dose_on"], day(0));
    let booked = items
        .iter()
        .find(|r| r["person_id"] == village[2].as_str())
        .unwrap();
    assert_eq!(booked["appointment_at"], opened["slots"][0]["starts_at"]);
    assert!(!items
        .iter()
        .any(|r| r["person_id"] == minor.as_str() || r["person_id"] == elderly.as_str()));
    let (s, _) = app.get(&format!("{survey}?format=xml")).await;
    assert_eq!(s, 400);
    // The cursor names a village and a person; another is refused.
    let (s, p) = app.get(&format!("{survey}?after=zz")).await;
    assert_eq!((s, field(&p)), (400, Some("after")), "{p}");

    // The same list as CSV, for one district.
    let r = app
        .client
        .get(format!("{}{survey}?area=193&format=csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("person_id,full_name,birth_date,sex,id_type,id_number,phone,home_area,priority_groups,status,valid_doses,series_complete,last_dose_on,appointment_at,deferred_until,reason")
    );
    let mut rows: Vec<(String, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), 16, "{l}");
            (cells[0].to_string(), cells[9].to_string())
        })
        .collect();
    rows.sort();
    let in_193: Vec<(String, String)> = expected
        .iter()
        .filter(|(p, _)| *p != far)
        .cloned()
        .collect();
    assert_eq!(rows, in_193);
    assert!(
        text.contains("Nguyễn Văn Một,1980-05-17,male,cccd,022080000001"),
        "{text}"
    );

    // A planner of district 193 sees the campaign and their district only.
    let planner = app.as_user("planner-193", &["planner:193"]).await;
    let (s, _) = planner.get(&base).await;
    assert_eq!(s, 200);
    let (s, p) = planner.get(&format!("{survey}?area=194")).await;
    assert_eq!(s, 404, "{p}");
    let (s, _) = planner.get(&survey).await;
    assert_eq!(s, 404);
    let (s, _) = planner
        .get(&format!("{base}/waves/{wave_id}/progress?area=194"))
        .await;
    assert_eq!(s, 404);
    let (s, mine) = planner.get(&format!("{survey}?area=193")).await;
    assert_eq!(s, 200, "{mine}");
    assert_eq!(statuses(mine["items"].as_array().unwrap()), in_193);
    let (s, p) = planner.post(&targets, &json!({"area": "22"})).await;
    assert_eq!((s, field(&p)), (422, Some("area")), "{p}");
    let (s, split) = planner.post(&targets, &json!({"area": "193"})).await;
    assert_eq!(s, 200, "{split}");
    let (s, p) = planner.post(&format!("{base}/waves"), &wave_body).await;
    assert_eq!(s, 403, "{p}");
    let (_, broken) = app.store.verify_audit().await.unwrap();
    assert!(broken.is_none());
    app.cleanup().await;
}

/// The eligible population counts persons, not memberships: two persons in
/// both of the campaign's groups (listed in either order), one in one
/// group, one in none. The counters per set of groups equal a recount.
async fn a_person_in_two_groups_counts_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let both = ["frontline", "elderly"];
    register(
        &app,
        11,
        "Nguyễn Văn Một",
        false,
        "1960-01-01",
        "06700",
        &both,
    )
    .await;
    register(
        &app,
        12,
        "Trần Thị Hai",
        true,
        "1961-02-02",
        "06700",
        &["elderly", "frontline"],
    )
    .await;
    register(
        &app,
        13,
        "Lê Văn Ba",
        false,
        "1980-03-03",
        "06700",
        &["frontline"],
    )
    .await;
    register(&app, 14, "Phạm Văn Bốn", false, "1980-04-04", "06700", &[]).await;
    let (s, campaign) = app
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Hai nhóm", "disease": "COVID-19", "area_code": "22",
                "products": ["AZ"], "priority_groups": both, "target_percent": 100.0,
                "target_date": day(60)}),
        )
        .await;
    assert_eq!(s, 201, "{campaign}");
    let base = format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap());
    let (s, split) = app
        .post(&format!("{base}/targets"), &json!({"area": "22"}))
        .await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(
        (split["eligible"].as_i64(), split["total"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        parts(&split),
        [("193".to_string(), 0), ("194".to_string(), 3)]
    );
    for (groups, eligible) in [(json!(both), 3), (json!(["elderly"]), 2), (json!([]), 4)] {
        let (s, wave) = app
            .post(
                &format!("{base}/waves"),
                &json!({"name": format!("{groups}"), "starts_on": day(0), "ends_on": day(30),
                    "eligible_groups": groups}),
            )
            .await;
        assert_eq!(s, 201, "{wave}");
        let (s, progress) = app
            .get(&format!(
                "{base}/waves/{}/progress",
                wave["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(s, 200, "{progress}");
        assert_eq!(
            progress["area"]["eligible"], eligible,
            "{groups}: {progress}"
        );
        let c194 = progress["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["area_code"] == "194");
        assert_eq!(c194.unwrap()["eligible"], eligible, "{groups}: {progress}");
    }
    assert_eq!(
        app.store.check_counters().await.unwrap(),
        Vec::<String>::new()
    );
    app.store.rebuild_counters().await.unwrap();
    assert_eq!(
        app.store.check_counters().await.unwrap(),
        Vec::<String>::new()
    );
    app.cleanup().await;
}

/// Targets as plans write them: a number of people (at most the eligible
/// population, else 422 naming the field), the percentage's basis chosen
/// (priority groups or the whole population), and a daily dose target per
/// area shown in wave progress beside the doses given each day.
async fn targets_in_people_on_a_chosen_basis_and_per_day(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let a = register(
        &app,
        21,
        "Nguyễn Văn Một",
        false,
        "1970-01-01",
        "06700",
        &["frontline"],
    )
    .await;
    register(
        &app,
        22,
        "Trần Thị Hai",
        true,
        "1971-02-02",
        "06700",
        &["frontline"],
    )
    .await;
    register(
        &app,
        23,
        "Lê Thị Ba",
        true,
        "1950-03-03",
        "06700",
        &["elderly"],
    )
    .await;
    register(&app, 24, "Phạm Văn Bốn", false, "1980-04-04", "06700", &[]).await;
    let good = json!({"name": "Tuyến đầu", "disease": "COVID-19", "area_code": "22",
        "products": ["AZ"], "priority_groups": ["frontline"], "target_people": 2,
        "target_date": day(60)});
    for (change, name) in [
        (json!({"target_people": 3}), "target_people"),
        (json!({"target_percent": 80.0}), "target_people"),
        (json!({"target_people": null}), "target_percent"),
        (json!({"target_basis": "everyone"}), "target_basis"),
        (
            json!({"priority_groups": [], "target_basis": "priority_groups"}),
            "target_basis",
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, p) = app.post("/api/v1/campaigns", &body).await;
        assert_eq!((s, field(&p)), (422, Some(name)), "{change}: {p}");
    }
    let (s, campaign) = app.post("/api/v1/campaigns", &good).await;
    assert_eq!(s, 201, "{campaign}");
    assert_eq!(
        (
            &campaign["target_people"],
            &campaign["target_percent"],
            &campaign["target_basis"]
        ),
        (&json!(2), &Value::Null, &json!("priority_groups"))
    );
    let base = format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap());
    let (s, split) = app
        .post(&format!("{base}/targets"), &json!({"area": "22"}))
        .await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(
        (split["eligible"].as_i64(), split["total"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        parts(&split),
        [("193".to_string(), 0), ("194".to_string(), 2)]
    );

    // The same groups, the percentage of the whole population: 4 people.
    let mut whole = good.clone();
    whole["target_people"] = Value::Null;
    whole["target_percent"] = json!(50.0);
    whole["target_basis"] = json!("population");
    let (s, c) = app.post("/api/v1/campaigns", &whole).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["target_basis"], "population");
    let (s, split) = app
        .post(
            &format!("/api/v1/campaigns/{}/targets", c["id"].as_str().unwrap()),
            &json!({"area": "22"}),
        )
        .await;
    assert_eq!(s, 200, "{split}");
    assert_eq!(
        (split["eligible"].as_i64(), split["total"].as_i64()),
        (Some(4), Some(2))
    );

    // Daily dose targets: at least one, at most the area's eligible.
    let daily = format!("{base}/daily-targets");
    for (body, status, name) in [
        (
            json!({"area": "194", "doses_per_day": 3}),
            422,
            "doses_per_day",
        ),
        (
            json!({"area": "194", "doses_per_day": 0}),
            422,
            "doses_per_day",
        ),
        (json!({"area": "99", "doses_per_day": 1}), 422, "area"),
        (
            json!({"area": "194", "doses_per_day": -1}),
            422,
            "doses_per_day",
        ),
    ] {
        let (s, p) = app.post(&daily, &body).await;
        assert_eq!((s, field(&p)), (status, Some(name)), "{body}: {p}");
    }
    let (s, set) = app
        .post(&daily, &json!({"area": "194", "doses_per_day": 2}))
        .await;
    assert_eq!(s, 200, "{set}");
    assert_eq!(
        set,
        json!({"campaign_id": campaign["id"], "area_code": "194", "doses_per_day": 2, "eligible": 2})
    );
    let (s, wave) = app
        .post(
            &format!("{base}/waves"),
            &json!({"name": "Đợt 1", "starts_on": day(0), "ends_on": day(2), "eligible_groups": ["frontline"]}),
        )
        .await;
    assert_eq!(s, 201, "{wave}");
    dose(&app, &a, &day(0)).await;
    let progress = format!("{base}/waves/{}/progress", wave["id"].as_str().unwrap());
    let (s, p) = app.get(&progress).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["area"]["daily_target"], Value::Null);
    assert_eq!(p["area"]["wave_target"], 2);
    let c194 = p["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["area_code"] == "194")
        .unwrap();
    assert_eq!(c194["daily_target"], 2);
    let (s, p) = app.get(&format!("{progress}?area=194")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["days"],
        json!([{"day": day(0), "target": 2, "done": 1}, {"day": day(1), "target": 2, "done": 0},
               {"day": day(2), "target": 2, "done": 0}])
    );
    app.cleanup().await;
}
