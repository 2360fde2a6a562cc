//! The registry and administration pages over HTTP, on both backends:
//! what each page shows to whom, the forms (CSRF token, client id against
//! a double submit, errors next to the field keeping what was typed), and
//! records outside the caller's areas answered as a 404 page.

use crate::common;

use common::pages::Session;
use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;

/// Pages as these tests read them: in the session's language, with the
/// content type and the Location apart.
trait RegistryPages {
    async fn get(&self, path: &str) -> (u16, String, String);
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> (u16, String, String);
}

impl RegistryPages for Session {
    /// Status, content type and text of a page.
    async fn get(&self, path: &str) -> (u16, String, String) {
        let p = self.page(path, &self.lang).await;
        (p.status, p.content_type, p.text)
    }

    /// Posts a form: status, Location, text.
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> (u16, String, String) {
        let p = self.form(path, &self.lang, fields, csrf).await;
        (p.status, p.location, p.text)
    }
}

const HOSTILE_SCRIPT: &str = "<script>alert(1)</script> Lò";
const HOSTILE_IMG: &str = "\"><img src=x onerror=alert(1)> Lò";

async fn person_with(
    app: &TestApp,
    number: &str,
    name: &str,
    area: &str,
    phone: Option<&str>,
) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": number, "full_name": name,
                    "birth_date": "1980-05-17", "sex": "female", "home_area": area, "phone": phone}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

async fn search_and_record(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let an = person_with(
        &app,
        "022180000001",
        "Nguyễn Văn An",
        "0665801",
        Some("0912345678"),
    )
    .await;
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&new_id(), &an, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{b}");
    let far = person_with(&app, "022180000002", "Nguyễn Văn Xa", "06700", None).await;
    person_with(&app, "022180000003", HOSTILE_SCRIPT, "0665801", None).await;
    person_with(&app, "022180000004", HOSTILE_IMG, "0665801", None).await;
    for (i, letter) in ('A'..='W').enumerate() {
        person_with(
            &app,
            &format!("0221800001{i:02}"),
            &format!("Lê Thị {letter}"),
            "0665801",
            None,
        )
        .await;
    }
    TestApp::make_user(&app.store, "reg193", &["planner:193"]).await;
    let reg = Session::sign_in(&app, "reg193", "vi").await;

    // The empty search page, in Vietnamese, every input labelled.
    let (s, ct, page) = reg.get("/registry").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(page.contains("Sổ đăng ký dân cư"), "{page}");
    for id in ["id_number", "phone", "name"] {
        assert!(page.contains(&format!("<label for=\"{id}\">")), "{id}");
    }
    // A name without diacritics finds the name with them; the person of
    // another district (outside the registrar's) is not found.
    let (s, _, page) = reg.get("/registry?name=nguyen+van").await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("href=\"/registry/persons/{an}\"")),
        "{page}"
    );
    assert!(page.contains("Nguyễn Văn An"));
    assert!(!page.contains("Nguyễn Văn Xa"), "{page}");
    // By ID number, by phone.
    let (_, _, page) = reg.get("/registry?id_number=022180000001").await;
    assert!(page.contains("Nguyễn Văn An"), "{page}");
    let (_, _, page) = reg.get("/registry?phone=0912345678").await;
    assert!(page.contains("Nguyễn Văn An"), "{page}");
    let (_, _, page) = reg.get("/registry?id_number=022180000002").await;
    assert!(page.contains("Không có ai trong địa bàn của bạn"), "{page}");
    // A name with no letters (a lone combining accent): the error next to
    // the field, what was typed kept.
    let (s, _, page) = reg.get("/registry?name=%CC%81&phone=").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("id=\"name-error\">Họ tên phải có chữ cái."),
        "{page}"
    );
    assert!(page.contains("value=\"\u{301}\""), "{page}");
    // Paging: 23 people, 20 a page, then the rest.
    let (_, _, page) = reg.get("/registry?name=le+thi").await;
    assert_eq!(page.matches("<li><a href=\"/registry/persons/").count(), 20);
    let next = page
        .split("id=\"next-page\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let (_, _, second) = reg.get(&next).await;
    assert_eq!(
        second.matches("<li><a href=\"/registry/persons/").count(),
        3,
        "{second}"
    );
    assert!(!second.contains("id=\"next-page\""));
    // Hostile names are text.
    let (_, _, page) = reg.get("/registry?name=lo").await;
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62; Lò"),
        "{page}"
    );
    assert!(
        page.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62; Lò"),
        "{page}"
    );
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));

    // The record: details, the dose, no certificate yet.
    let (s, _, page) = reg.get(&format!("/registry/persons/{an}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("<h1>Nguyễn Văn An</h1>"), "{page}");
    assert!(
        page.contains("01/07/2021") && page.contains("AZ-1"),
        "{page}"
    );
    assert!(page.contains("1 mũi hợp lệ; chưa tiêm đủ liều"), "{page}");
    assert!(page.contains("Chưa cấp chứng nhận."), "{page}");
    // Outside the caller's areas, absent, or not an id: the same 404 page.
    for path in [
        format!("/registry/persons/{far}"),
        format!("/registry/persons/{}", new_id()),
        "/registry/persons/not-an-id".to_string(),
    ] {
        let (s, ct, page) = reg.get(&path).await;
        assert_eq!(s, 404, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(page.contains("<html lang=\"vi\">"), "{page}");
    }
    // In Chinese.
    let zh = Session::sign_in(&app, "reg193", "zh").await;
    let (_, _, page) = zh.get(&format!("/registry/persons/{an}")).await;
    assert!(page.contains("有效剂次 1 剂；尚未全程接种"), "{page}");
    assert!(page.contains("2021年7月1日"), "{page}");
    // A role without the registry (a trainer) is refused.
    TestApp::make_user(&app.store, "trainer1", &["trainer"]).await;
    let trainer = Session::sign_in(&app, "trainer1", "en").await;
    let (s, _, _) = trainer.get("/registry").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

async fn correction_form(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let an = person_with(&app, "022180000001", "Nguyễn Văn An", "0665801", None).await;
    let far = person_with(&app, "022180000002", "Nguyễn Văn Xa", "06700", None).await;
    let dose = new_id();
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&dose, &an, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{b}");
    let far_dose = new_id();
    let (s, b) = app
        .post("/api/v1/doses", &dose_body(&far_dose, &far, "2021-07-01"))
        .await;
    assert_eq!(s, 201, "{b}");
    TestApp::make_user(&app.store, "planner193", &["planner:193"]).await;
    // A planner may not correct doses (the API's permission).
    let planner = Session::sign_in(&app, "planner193", "vi").await;
    let path = format!("/registry/persons/{an}/doses/{dose}/correct");
    let (s, _, _) = planner.get(&path).await;
    assert_eq!(s, 403);
    let admin = Session::sign_in(&app, "admin", "vi").await;
    let (s, _, page) = admin.get(&path).await;
    assert_eq!(s, 200);
    assert!(page.contains("name=\"csrf_token\""), "{page}");
    assert!(page.contains("name=\"correction_id\""), "{page}");
    let correction_id = new_id();
    let replacement = new_id();
    let fields = [
        ("correction_id", correction_id.as_str()),
        ("dose_id", replacement.as_str()),
        ("reason", "Nhập nhầm ngày"),
        ("product_code", "AZ"),
        ("lot_number", "AZ-1"),
        ("site_code", "S1"),
        ("administered_on", "2021-07-02"),
    ];
    // Without the CSRF token: refused, nothing recorded.
    let (s, _, _) = admin.post(&path, &fields, false).await;
    assert_eq!(s, 403);
    // A replacement dated in the future: the error next to the date, in
    // Vietnamese, the typed reason kept (sent again with the same ids,
    // the form completes the correction).
    let mut bad = fields;
    bad[6] = ("administered_on", "2029-01-01");
    let (s, _, page) = admin.post(&path, &bad, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"administered_on-error\">"), "{page}");
    assert!(page.contains(">Nhập nhầm ngày</textarea>"), "{page}");
    // Submitted twice: recorded once.
    for _ in 0..2 {
        let (s, location, page) = admin.post(&path, &fields, true).await;
        assert_eq!(s, 303, "{page}");
        assert_eq!(location, format!("/registry/persons/{an}"));
    }
    let history = app.store.history(&an).await.unwrap();
    assert_eq!(history.records.len(), 3, "{:?}", history.records);
    assert_eq!(history.valid_doses, 1);
    // A dose that is not this person's: a 404 page.
    let path = format!("/registry/persons/{an}/doses/{far_dose}/correct");
    let (s, ct, _) = admin.get(&path).await;
    assert_eq!(s, 404);
    assert!(ct.starts_with("text/html"), "{ct}");
    app.cleanup().await;
}

/// Person `name` born on `birth` in `area`, with ID number `number`.
async fn person_born(app: &TestApp, number: &str, name: &str, birth: &str, area: &str) -> String {
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": number, "full_name": name,
                    "birth_date": birth, "sex": "male", "home_area": area}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["person"]["id"].as_str().unwrap().to_string()
}

async fn duplicate_review(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // Two records of one man (the second registered without diacritics),
    // each with a dose; a namesake born on another day; a pair outside
    // the planner's district.
    let first = person_born(
        &app,
        "022070000011",
        "Trần Văn Bình",
        "1970-03-02",
        "0665801",
    )
    .await;
    let second = person_born(
        &app,
        "022070000012",
        "Tran Van Binh",
        "1970-03-02",
        "0665801",
    )
    .await;
    let other = person_born(
        &app,
        "022071000013",
        "Trần Văn Bình",
        "1971-03-02",
        "0665801",
    )
    .await;
    let far_a = person_born(&app, "022060000014", "Lý Văn Xa", "1960-01-01", "06700").await;
    let far_b = person_born(&app, "022060000015", "Ly Van Xa", "1960-01-01", "06700").await;
    let hostile = person_born(
        &app,
        "022090000016",
        HOSTILE_SCRIPT,
        "1990-01-01",
        "0665801",
    )
    .await;
    let hostile_twin = person_born(
        &app,
        "022090000017",
        HOSTILE_SCRIPT,
        "1990-01-01",
        "0665801",
    )
    .await;
    for (person, date) in [(&first, "2021-07-01"), (&second, "2021-08-05")] {
        let (s, b) = app
            .post("/api/v1/doses", &dose_body(&new_id(), person, date))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    TestApp::make_user(&app.store, "planner193", &["planner:193"]).await;
    TestApp::make_user(&app.store, "stats193", &["statistics_officer:193"]).await;
    let planner = Session::sign_in(&app, "planner193", "vi").await;

    // The pairs of the planner's district, found as the records were
    // registered: the two Bình records and the hostile twins; not the
    // namesake, not the pair of another district.
    let (s, _, page) = planner.get("/registry/duplicates").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Rà soát hồ sơ trùng"), "{page}");
    let pair = {
        let (a, b) = if first < second {
            (&first, &second)
        } else {
            (&second, &first)
        };
        format!("/registry/duplicates/{a}/{b}")
    };
    assert!(page.contains(&format!("href=\"{pair}\"")), "{page}");
    assert!(!page.contains(&other), "{page}");
    assert!(!page.contains(&far_a) && !page.contains(&far_b), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62; Lò"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert_eq!(
        page.matches("href=\"/registry/duplicates/").count(),
        2,
        "{page}"
    );
    // The finder finds nothing new.
    let (s, location, _) = planner.post("/registry/duplicates/find", &[], true).await;
    assert_eq!(s, 303);
    assert_eq!(location, "/registry/duplicates?found=0");

    // Side by side, with the history after the merge: both doses.
    let path = format!("/registry/duplicates/{first}/{second}");
    let (s, _, page) = planner.get(&path).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Trần Văn Bình") && page.contains("Tran Van Binh"),
        "{page}"
    );
    assert!(
        page.contains("01/07/2021") && page.contains("05/08/2021"),
        "{page}"
    );
    assert!(page.contains("2 mũi hợp lệ"), "{page}");
    assert!(
        page.contains(&format!("href=\"/registry/duplicates/{second}/{first}\"")),
        "{page}"
    );
    // A merge without a reason: the error next to the field; nothing merged.
    let (s, _, page) = planner
        .post(&format!("{path}/merge"), &[("reason", " ")], true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"merge_reason-error\""), "{page}");
    assert!(app
        .store
        .person(&second)
        .await
        .unwrap()
        .merged_into
        .is_none());
    // Without the CSRF token: refused.
    let (s, _, _) = planner
        .post(&format!("{path}/merge"), &[("reason", "Cùng người")], false)
        .await;
    assert_eq!(s, 403);
    // A pair with a record outside the caller's areas: a 404 page.
    let (s, _, _) = planner
        .get(&format!("/registry/duplicates/{first}/{far_a}"))
        .await;
    assert_eq!(s, 404);
    let (s, _, _) = planner
        .post(
            &format!("/registry/duplicates/{first}/{far_a}/merge"),
            &[("reason", "x")],
            true,
        )
        .await;
    assert_eq!(s, 404);
    assert!(app
        .store
        .person(&far_a)
        .await
        .unwrap()
        .merged_into
        .is_none());
    // Merged, twice (a double submit): the history is the preview's.
    for _ in 0..2 {
        let (s, location, page) = planner
            .post(
                &format!("{path}/merge"),
                &[("reason", "Cùng CCCD cũ và mới")],
                true,
            )
            .await;
        assert_eq!(s, 303, "{page}");
        assert_eq!(location, format!("/registry/persons/{first}"));
    }
    assert_eq!(
        app.store
            .person(&second)
            .await
            .unwrap()
            .merged_into
            .as_deref(),
        Some(first.as_str())
    );
    assert_eq!(app.store.history(&first).await.unwrap().valid_doses, 2);
    // The pair has left the list; the twins remain.
    let (_, _, page) = planner.get("/registry/duplicates").await;
    assert!(!page.contains(&pair), "{page}");
    // The twins are different people: without a reason, the error at the
    // field; with one, the pair leaves the list and the finder does not
    // bring it back.
    let twins = format!("/registry/duplicates/{hostile}/{hostile_twin}");
    let (s, _, page) = planner.post(&format!("{twins}/dismiss"), &[], true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"dismiss_reason-error\""), "{page}");
    let (s, location, _) = planner
        .post(
            &format!("{twins}/dismiss"),
            &[("reason", "Anh em sinh đôi")],
            true,
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(location, "/registry/duplicates");
    let (_, location, _) = planner.post("/registry/duplicates/find", &[], true).await;
    assert_eq!(location, "/registry/duplicates?found=0");
    let (_, _, page) = planner.get("/registry/duplicates").await;
    assert!(page.contains("id=\"no-pairs\""), "{page}");
    // In Chinese.
    let zh = Session::sign_in(&app, "planner193", "zh").await;
    let (_, _, page) = zh.get(&twins).await;
    assert!(page.contains("比对两份档案"), "{page}");
    // A statistics officer reads the registry but may not merge.
    let stats = Session::sign_in(&app, "stats193", "en").await;
    let (s, _, _) = stats.get("/registry/duplicates").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}

on_both_backends!(search_and_record, correction_form, duplicate_review);
