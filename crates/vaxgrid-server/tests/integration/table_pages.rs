//! The vaccination table's pages over HTTP, on both backends: today's
//! queue from appointments and walk-ins with where each person stands;
//! finding a person and registering a walk-in; every step's form of a
//! visit, with bad input (the form again with the field's message in the
//! reader's language, nothing written) and double submits (recorded once);
//! the observation board's adverse-event report and end of observation;
//! names shown as text, and a site outside the caller's sites as a 404
//! page.

use crate::common;

use common::pages::Session;
use common::{new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    the_queue_shows_appointments_and_walk_ins_of_today,
    finding_a_person_and_registering_a_walk_in,
    a_visit_from_check_in_to_the_end_of_observation,
);

impl Session {
    /// Status and text of a page (always HTML).
    async fn get(&self, path: &str) -> (u16, String) {
        let p = self.page(path, &self.lang).await;
        assert!(
            p.content_type.starts_with("text/html"),
            "{path}: {}",
            p.content_type
        );
        (p.status, p.text)
    }

    /// Posts a form with the session's CSRF token: status, Location, text.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        self.post_with(path, fields, true).await
    }

    async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> (u16, String, String) {
        let p = self.form(path, &self.lang, fields, csrf).await;
        (p.status, p.location, p.text)
    }
}

/// The value of the hidden field `name` of the first form in `html` that has one.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The visit as the API shows it.
async fn visit_json(app: &TestApp, visit: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/visits/{visit}")).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn events_of(v: &Value) -> usize {
    v["events"].as_array().unwrap().len()
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn the_queue_shows_appointments_and_walk_ins_of_today(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let hostile = "\"><img src=x onerror=alert(1)> <script>alert(2)</script>";
    let booked = app.person(1, hostile).await;
    let walk_in = app.person(2, "Nguyễn Thị Lan").await;
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let (s, opened) = app
        .post(
            "/api/v1/sessions",
            &json!({"site_code": "S1", "day": today, "opens": "00:00", "closes": "23:30",
                    "stations": 2, "per_station_per_hour": 20, "slot_minutes": 30}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let session = opened["session"]["id"].as_str().unwrap();
    let last = opened["slots"].as_array().unwrap().last().unwrap()["starts_at"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, a) = app
        .post(
            "/api/v1/appointments",
            &json!({"id": new_id(), "person_id": booked, "session_id": session, "starts_at": last}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    // The walk-in has come and been checked in through the API.
    let (s, v) = app
        .post(
            "/api/v1/visits",
            &json!({"person_id": walk_in, "site_code": "S1", "product_code": "AZ"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let visit = v["id"].as_str().unwrap();
    let (s, v) = app
        .post(
            &format!("/api/v1/visits/{visit}/events"),
            &json!({"kind": "check_in", "temperature_c": 36.6, "client_id": "form-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // The same event sent again with its client id records once.
    let (s, again) = app
        .post(
            &format!("/api/v1/visits/{visit}/events"),
            &json!({"kind": "check_in", "temperature_c": 36.6, "client_id": "form-1"}),
        )
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["events"].as_array().unwrap().len(), 1, "{again}");
    let nurse = app.as_user("reg1", &["registrar:S1"]).await;
    let (s, html) = page(&nurse, "/sites/S1/table").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<html lang=\"vi\">") || html.contains("<html lang=\"en\">"));
    assert!(
        html.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<img src=x") && !html.contains("<script>alert(2)"));
    assert!(html.contains("Nguyễn Thị Lan"), "{html}");
    assert!(html.contains(&last[11..16]), "{html}");
    let queue = &html[html.find("id=\"queue\"").unwrap()..];
    assert!(
        queue.contains("Booked") || queue.contains("Đã đặt lịch"),
        "{queue}"
    );
    assert!(
        queue.contains("Checked in") || queue.contains("Đã đo nhiệt độ"),
        "{queue}"
    );
    assert!(
        html.contains("href=\"/sites/S1/table\""),
        "the menu leads to the table"
    );
    // Another site's table is a 404 page for this registrar.
    let (s, html) = page(&nurse, "/sites/S2/table").await;
    assert_eq!(s, 404, "{html}");
    assert!(!html.contains("Ka Long"), "{html}");
    let (s, _) = page(&nurse, "/sites/NOPE/table").await;
    assert_eq!(s, 404);
    app.cleanup().await;
}

const HOSTILE: &str = "<script>alert(1)</script> Trần Văn Mới";

async fn finding_a_person_and_registering_a_walk_in(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let lan = app.person(2, "Nguyễn Thị Lan").await;
    TestApp::make_user(&app.store, "reg1", &["registrar:S1"]).await;
    let reg = Session::sign_in(&app, "reg1", "vi").await;

    // Found by name without diacritics, and by ID number; each with the
    // form that opens the visit, carrying the CSRF token and a client id.
    let (s, page) = reg.get("/sites/S1/table/find?name=nguyen+thi+lan").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Nguyễn Thị Lan"), "{page}");
    assert!(page.contains("action=\"/sites/S1/table/visits\""), "{page}");
    assert_eq!(hidden(&page, "csrf_token"), reg.csrf);
    assert_eq!(hidden(&page, "person_id"), lan);
    let (_, page) = reg.get("/sites/S1/table/find?id_number=022080000002").await;
    assert!(page.contains("Nguyễn Thị Lan"), "{page}");
    let (_, page) = reg.get("/sites/S1/table/find?name=tran+van+moi").await;
    assert!(page.contains("Không tìm thấy ai"), "{page}");
    // A name without letters (a lone combining accent): the search's own
    // refusal, next to the field.
    let (s, page) = reg.get("/sites/S1/table/find?name=%CC%81").await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("id=\"find-name-error\""), "{page}");
    assert!(page.contains("Họ tên cần có ít nhất một chữ cái"), "{page}");

    // Opening the visit twice with the form's id opens one visit.
    let visit = new_id();
    let open = [
        ("visit_id", visit.as_str()),
        ("person_id", lan.as_str()),
        ("product_code", "AZ"),
    ];
    for _ in 0..2 {
        let (s, location, body) = reg.post("/sites/S1/table/visits", &open).await;
        assert_eq!(s, 303, "{body}");
        assert_eq!(location, format!("/sites/S1/table/visits/{visit}"));
    }
    let (_, page) = reg.get("/sites/S1/table").await;
    assert_eq!(page.matches("Nguyễn Thị Lan").count(), 1, "{page}");
    assert!(page.contains(&format!("href=\"/sites/S1/table/visits/{visit}\"")));
    let (_, page) = reg.get("/sites/S1/table/find?name=lan").await;
    assert!(
        page.contains(&format!("href=\"/sites/S1/table/visits/{visit}\"")),
        "{page}"
    );
    // Without the CSRF token, nothing.
    let (s, _, _) = reg
        .post_with(
            "/sites/S1/table/visits",
            &[
                ("visit_id", &new_id()),
                ("person_id", &lan),
                ("product_code", "AZ"),
            ],
            false,
        )
        .await;
    assert_eq!(s, 403);

    // The walk-in form, in Vietnamese, every input labelled.
    let (s, page) = reg.get("/sites/S1/table/walk-in").await;
    assert_eq!(s, 200, "{page}");
    for id in [
        "id_type",
        "id_number",
        "full_name",
        "birth_date",
        "sex",
        "phone",
        "home_area",
        "product_code",
    ] {
        assert!(
            page.contains(&format!("<label for=\"{id}\">")),
            "{id}: {page}"
        );
    }
    let person_id = hidden(&page, "person_id");
    let visit_id = hidden(&page, "visit_id");
    let walk_in = |number: &'static str, birth: &'static str| {
        vec![
            ("person_id", person_id.clone()),
            ("visit_id", visit_id.clone()),
            ("id_type", "cccd".to_string()),
            ("id_number", number.to_string()),
            ("full_name", HOSTILE.to_string()),
            ("birth_date", birth.to_string()),
            ("sex", "male".to_string()),
            ("phone", "0912345678".to_string()),
            ("home_area", "0665801".to_string()),
            ("product_code", "AZ".to_string()),
        ]
    };
    let fields = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
    let post = |f: Vec<(&'static str, String)>| {
        let reg = &reg;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            reg.post("/sites/S1/table/walk-in", &f).await
        }
    };
    // A number that is not a CCCD: the form again, the message next to the
    // number, what was typed kept (the name as text), nobody registered.
    let (s, _, page) = post(fields(&walk_in("123", "1990-01-02"))).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"id_number-error\""), "{page}");
    assert!(page.contains("Số này không hợp lệ"), "{page}");
    assert!(page.contains("value=\"123\""), "{page}");
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(
        page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"),
        "{page}"
    );
    // A birth date in the future.
    let (s, _, page) = post(fields(&walk_in("022090000123", "2999-01-01"))).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"birth_date-error\""), "{page}");
    let (_, found) = app.get("/api/v1/persons?name=tran+van+moi").await;
    assert_eq!(found["items"], json!([]), "nothing half-written: {found}");
    let (s, _) = app.get(&format!("/api/v1/visits/{visit_id}")).await;
    assert_eq!(s, 404);
    // Registered and the visit opened; the same form again, nothing more.
    for _ in 0..2 {
        let (s, location, page) = post(fields(&walk_in("022090000123", "1990-01-02"))).await;
        assert_eq!(s, 303, "{page}");
        assert_eq!(location, format!("/sites/S1/table/visits/{visit_id}"));
    }
    let (_, found) = app.get("/api/v1/persons?id_number=022090000123").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["id"], person_id.as_str());
    let v = visit_json(&app, &visit_id).await;
    assert_eq!(
        (v["person_id"].as_str(), v["next_step"].as_str()),
        (Some(person_id.as_str()), Some("check_in"))
    );
    let (s, page) = reg.get(&format!("/sites/S1/table/visits/{visit_id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("Trần Văn Mới"), "{page}");
    let (_, page) = reg.get("/sites/S1/table").await;
    assert_eq!(
        page.matches("Trần Văn Mới").count(),
        1,
        "one walk-in: {page}"
    );
    // The same number on a new form: already registered, with the search
    // that finds them.
    let (_, page) = reg.get("/sites/S1/table/walk-in").await;
    let again = vec![
        ("person_id", hidden(&page, "person_id")),
        ("visit_id", hidden(&page, "visit_id")),
        ("id_type", "cccd".to_string()),
        ("id_number", "022090000123".to_string()),
        ("full_name", "Trần Văn Khác".to_string()),
        ("birth_date", "1990-01-02".to_string()),
        ("sex", "male".to_string()),
        ("phone", String::new()),
        ("home_area", "0665801".to_string()),
        ("product_code", "AZ".to_string()),
    ];
    let (s, _, page) = post(again).await;
    assert_eq!(s, 409, "{page}");
    assert!(
        page.contains("Đã có người đăng ký với số giấy tờ này"),
        "{page}"
    );
    assert!(
        page.contains("/sites/S1/table/find?id_number=022090000123"),
        "{page}"
    );
    // Another site's pages are absent for this registrar.
    let (s, _) = reg.get("/sites/S2/table/walk-in").await;
    assert_eq!(s, 404);
    let (s, _) = reg.get("/sites/NOPE/table/find?name=lan").await;
    assert_eq!(s, 404);
    app.cleanup().await;
}

async fn a_visit_from_check_in_to_the_end_of_observation(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let person = app.person(7, HOSTILE).await;
    TestApp::make_user(&app.store, "nurse1", &["vaccinator:S1"]).await;
    app.certify("nurse1").await;
    TestApp::make_user(&app.store, "reg1", &["registrar:S1"]).await;
    let nurse = Session::sign_in(&app, "nurse1", "zh").await;
    let reg = Session::sign_in(&app, "reg1", "vi").await;
    let visit = new_id();
    let (s, _, page) = nurse
        .post(
            "/sites/S1/table/visits",
            &[
                ("visit_id", &visit),
                ("person_id", &person),
                ("product_code", "AZ"),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let path = format!("/sites/S1/table/visits/{visit}");
    let events = format!("{path}/events");
    // Each step: its form on the page, a bad input refused next to its
    // field (in Chinese, what was typed kept, nothing recorded), then the
    // right one, sent twice, recorded once.
    let step = |kind: &'static str,
                bad: Vec<(&'static str, &'static str)>,
                good: Vec<(&'static str, &'static str)>,
                field: &'static str,
                message: &'static str| {
        let (nurse, app, path, events, visit) =
            (&nurse, &app, path.clone(), events.clone(), visit.clone());
        async move {
            let (s, page) = nurse.get(&path).await;
            assert_eq!(s, 200, "{page}");
            assert!(
                page.contains(&format!("name=\"kind\" value=\"{kind}\"")) || kind == "consent",
                "{kind}: {page}"
            );
            assert!(!page.contains("<script>alert(1)"), "{page}");
            let before = events_of(&visit_json(app, &visit).await);
            let client_id = hidden(&page, "client_id");
            let mut sent = vec![("client_id", client_id.as_str()), ("kind", kind)];
            sent.extend(bad.iter().copied());
            let (s, _, page) = nurse.post(&events, &sent).await;
            assert_eq!(s, 422, "{kind}: {page}");
            assert!(
                page.contains(&format!("id=\"{field}-error\"")),
                "{kind}: {page}"
            );
            assert!(page.contains(message), "{kind}: {page}");
            assert_eq!(
                events_of(&visit_json(app, &visit).await),
                before,
                "{kind}: nothing written"
            );
            let mut sent = vec![("client_id", client_id.as_str()), ("kind", kind)];
            sent.extend(good.iter().copied());
            for _ in 0..2 {
                let (s, location, page) = nurse.post(&events, &sent).await;
                assert_eq!(s, 303, "{kind}: {page}");
                assert_eq!(location, path);
            }
            assert_eq!(
                events_of(&visit_json(app, &visit).await),
                before + 1,
                "{kind}: recorded once"
            );
            (client_id, page)
        }
    };
    // The typed temperature comes back as it was.
    let (s, _, page) = nurse
        .post(
            &events,
            &[
                ("client_id", &new_id()),
                ("kind", "check_in"),
                ("temperature_c", "abc"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("value=\"abc\""), "{page}");
    step(
        "check_in",
        vec![("temperature_c", "50")],
        vec![("temperature_c", "36,6")],
        "temperature_c",
        "请填写体温",
    )
    .await;
    step(
        "identity_check",
        vec![("document", " ")],
        vec![("document", "cccd:022080000007")],
        "document",
        "请填写已核验的证件",
    )
    .await;
    let answers = [
        ("q-anaphylaxis", "no"),
        ("q-acute_illness", "no"),
        ("q-recent_vaccine", "no"),
        ("q-recent_covid", "no"),
    ];
    step(
        "screening",
        answers[..2].to_vec(),
        answers.to_vec(),
        "answers",
        "请对每个问题回答",
    )
    .await;
    step(
        "consent",
        vec![("by", "")],
        vec![("by", HOSTILE)],
        "by",
        "请填写同意人",
    )
    .await;
    // A registrar gives no dose: the form again, saying who may.
    let (s, page) = reg.get(&path).await;
    assert_eq!(s, 200);
    assert!(page.contains("Chỉ nhân viên tiêm chủng"), "{page}");
    let (s, _, page) = reg
        .post(
            &events,
            &[
                ("client_id", &new_id()),
                ("kind", "dose"),
                ("lot_number", "AZ-1"),
                ("station", "1"),
            ],
        )
        .await;
    assert_eq!(s, 403, "{page}");
    // A vial of AZ-1 open at the site's own store: the dose step shows its
    // doses left beside the lot picker, before another is opened.
    for (path, body) in [
        (
            "/api/v1/stores",
            json!({"code": "K22", "name": "Kho tỉnh", "area_code": "22"}),
        ),
        (
            "/api/v1/stores",
            json!({"code": "KS1", "name": "Tủ lạnh trạm", "area_code": "06658", "parent_code": "K22", "site_code": "S1"}),
        ),
        (
            "/api/v1/stores/KS1/movements",
            json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "receipt", "quantity": 50, "source": "transfer_in", "document": "PX-9"}),
        ),
        (
            "/api/v1/stores/KS1/movements",
            json!({"product_code": "AZ", "lot_number": "AZ-1", "kind": "vial_opened", "quantity": 1, "doses_per_vial": 10}),
        ),
    ] {
        let (s, b) = app.post(path, &body).await;
        assert_eq!(s, 201, "{b}");
    }
    // The lot is picked from the lots usable today.
    let (_, page) = nurse.get(&path).await;
    assert!(page.contains("<option value=\"AZ-1\" selected>"), "{page}");
    assert!(page.contains("id=\"open-vials\""), "{page}");
    assert!(page.contains("批号 AZ-1：剩余 10 剂"), "{page}");
    // The site keeps its own store (KS1): only the lots in stock there,
    // with the doses on hand; AZ-2 is usable but not at S1.
    assert!(page.contains("库存 50 剂"), "{page}");
    let (s, b) = app
        .post(
            "/api/v1/lots",
            &serde_json::json!({"product_code": "AZ", "lot_number": "AZ-2", "expiry": "2030-06-30", "doses": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, page) = nurse.get(&path).await;
    assert!(
        page.contains("<option value=\"AZ-1\" selected>") && page.contains("库存 50 剂"),
        "{page}"
    );
    assert!(!page.contains("<option value=\"AZ-2\""), "{page}");
    step(
        "dose",
        vec![("lot_number", "NOPE-9"), ("station", "1")],
        vec![("lot_number", "AZ-1"), ("station", "1")],
        "lot_number",
        "请选择今天可用的批次",
    )
    .await;
    let (_, doses) = app.get(&format!("/api/v1/persons/{person}/doses")).await;
    assert_eq!(
        doses["records"].as_array().map(Vec::len),
        Some(1),
        "{doses}"
    );
    // In observation: the end is refused before its time.
    let (s, _, page) = nurse
        .post(
            &events,
            &[("client_id", &new_id()), ("kind", "observation_end")],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("留观时间未满"), "{page}");
    // The board: the person with the time left and the report a tap away.
    let (s, board) = nurse.get("/sites/S1/board").await;
    assert_eq!(s, 200, "{board}");
    assert!(board.contains("class=\"countdown\""), "{board}");
    assert!(!board.contains("<script>alert(1)"), "{board}");
    let report = format!("{path}/adverse-event?back=board");
    assert!(
        board.contains(&report.replace('&', "&amp;")) || board.contains(&report),
        "{board}"
    );
    assert!(
        !board.contains("name=\"kind\" value=\"observation_end\""),
        "not yet: {board}"
    );
    let (s, form) = nurse.get(&report).await;
    assert_eq!(s, 200, "{form}");
    assert!(
        form.contains(
            "id=\"severity-mild\" name=\"severity\" value=\"mild\" class=\"check\" checked"
        ),
        "{form}"
    );
    let client_id = hidden(&form, "client_id");
    let (s, _, page) = nurse
        .post(
            &events,
            &[
                ("client_id", &client_id),
                ("kind", "adverse_event"),
                ("back", "board"),
                ("severity", "awful"),
                ("symptoms", "anaphylaxis"),
                ("serious", "true"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"severity-error\""), "{page}");
    assert!(
        page.contains("id=\"serious-yes\" name=\"serious\" value=\"true\" class=\"check\" checked"),
        "the serious path kept: {page}"
    );
    // Nothing said of what happened: the report is refused at the symptoms.
    let (s, _, page) = nurse
        .post(
            &events,
            &[
                ("client_id", &client_id),
                ("kind", "adverse_event"),
                ("back", "board"),
                ("severity", "severe"),
                ("other_symptom", " "),
                ("symptoms", "other"),
                ("serious", "true"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"symptoms-error\""), "{page}");
    assert!(
        page.contains("过敏性休克"),
        "the symptoms offered again: {page}"
    );
    // A death reported as not serious: refused at `serious`, as typed.
    let (s, _, page) = nurse
        .post(
            &events,
            &[
                ("client_id", &client_id),
                ("kind", "adverse_event"),
                ("back", "board"),
                ("severity", "severe"),
                ("symptoms", "anaphylaxis"),
                ("serious", "false"),
                ("outcome", "death"),
                ("treatment", "adrenaline 0.5 mg IM"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"serious-error\""), "{page}");
    assert!(page.contains("<option value=\"death\" selected>"), "{page}");
    assert!(page.contains("value=\"adrenaline 0.5 mg IM\""), "{page}");
    let v = visit_json(&app, &visit).await;
    assert!(v["investigations"].as_array().unwrap().is_empty(), "{v}");
    for _ in 0..2 {
        let (s, location, page) = nurse
            .post(
                &events,
                &[
                    ("client_id", &client_id),
                    ("kind", "adverse_event"),
                    ("back", "board"),
                    ("severity", "severe"),
                    ("symptoms", "anaphylaxis"),
                    ("serious", "true"),
                    ("outcome", "hospitalised"),
                    ("treatment", "adrenaline 0.5 mg IM"),
                ],
            )
            .await;
        assert_eq!(s, 303, "{page}");
        assert_eq!(location, "/sites/S1/board");
    }
    let v = visit_json(&app, &visit).await;
    assert_eq!(v["investigations"].as_array().unwrap().len(), 1, "{v}");
    let (_, today) = app.get("/api/v1/sites/S1/today").await;
    assert_eq!(today["serious_adverse_events"], 1, "{today}");
    let (_, reported) = app.get("/api/v1/reports/aefi/events?area=22").await;
    assert_eq!(reported["items"].as_array().unwrap().len(), 1, "{reported}");
    assert_eq!(
        reported["items"][0]["outcome"], "hospitalised",
        "{reported}"
    );
    assert_eq!(reported["items"][0]["treatment"], "adrenaline 0.5 mg IM");
    let (_, page) = nurse.get(&path).await;
    assert!(
        page.contains("严重，调查中") && page.contains("过敏性休克"),
        "{page}"
    );
    // Thirty minutes later the board lets the person go.
    app.age_visit(&visit, 31).await;
    let (_, board) = nurse.get("/sites/S1/board").await;
    assert!(
        board.contains("name=\"kind\" value=\"observation_end\""),
        "{board}"
    );
    let end_id = hidden(&board, "client_id");
    for _ in 0..2 {
        let (s, location, page) = nurse
            .post(
                &events,
                &[
                    ("client_id", &end_id),
                    ("kind", "observation_end"),
                    ("back", "board"),
                ],
            )
            .await;
        assert_eq!(s, 303, "{page}");
        assert_eq!(location, "/sites/S1/board");
    }
    let v = visit_json(&app, &visit).await;
    assert_eq!(v["outcome"], "done", "{v}");
    let (_, board) = nurse.get("/sites/S1/board").await;
    assert!(board.contains("id=\"board-empty\""), "{board}");
    let (_, page) = nurse.get(&path).await;
    assert!(page.contains("本次接种已完成"), "{page}");
    // A step of a finished visit: above the form, nothing written.
    let (s, _, page) = nurse
        .post(
            &events,
            &[
                ("client_id", &new_id()),
                ("kind", "check_in"),
                ("temperature_c", "36.6"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("id=\"form-error\""), "{page}");
    // The visit is absent at another site, and for another site's staff.
    let (s, _) = nurse.get(&format!("/sites/S2/table/visits/{visit}")).await;
    assert_eq!(s, 404);
    TestApp::make_user(&app.store, "nurse2", &["vaccinator:S2"]).await;
    let other = Session::sign_in(&app, "nurse2", "en").await;
    let (s, _) = other.get(&path).await;
    assert_eq!(s, 404);
    let (s, _, _) = other
        .post(
            &events,
            &[("client_id", &new_id()), ("kind", "observation_end")],
        )
        .await;
    assert_eq!(s, 404);
    app.cleanup().await;
}
