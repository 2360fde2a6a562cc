//! The administration and training pages over real HTTP on both
//! backends: users (search, paging, create with an invitation shown once,
//! roles granted and taken back, disable, enable), machine tokens (the
//! secret shown once and working, revoked), lockouts cleared, the audit
//! log filtered and paged with the chain's verification (intact, then
//! broken at the entry altered), and training (classes, attendees, exams,
//! who is certified per site). Forms: CSRF, client ids (a second submit
//! records nothing more), errors next to the field in the reader's
//! language with what was typed; names shown as text; other roles refused
//! as the API refuses them.

use crate::common;

use common::pages::{FormPages, Session};
use common::{on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    users_are_searched_created_and_changed_through_the_api_rules,
    tokens_lockouts_and_the_audit_log,
    training_classes_exams_and_who_is_certified,
);

/// The value of the hidden client id of the form posting to `action`.
fn client_id(page: &str, action: &str) -> String {
    // The last form posting there (a search form may get the same path).
    let marker = format!(r#"action="{action}""#);
    assert!(
        page.contains(&marker),
        "no form posting to {action}: {page}"
    );
    let form = page.rsplit(&marker).next().expect("the form");
    form.split(r#"name="id" value=""#)
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_else(|| panic!("the client id: {page}"))
        .to_string()
}

/// The value of the read-only field `id` (a secret shown once).
fn shown(page: &str, id: &str) -> String {
    page.split(&format!(r#"id="{id}""#))
        .nth(1)
        .and_then(|r| r.split(r#"value=""#).nth(1))
        .and_then(|v| v.split('"').next())
        .unwrap_or_else(|| panic!("no {id} on the page: {page}"))
        .to_string()
}

/// The HTML-escaped form of a text as askama writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn users_are_searched_created_and_changed_through_the_api_rules(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let root = Session::start(&app, "root", &["admin"]).await;
    let (s, page) = root.get("/admin/users", "vi").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("<h1>Người dùng</h1>"), "{page}");
    assert!(page.contains(r#"href="/admin/users/root""#), "{page}");
    let id = client_id(&page, "/admin/users");
    let hostile = "<script>alert(1)</script> Lan";
    let mut form = vec![
        ("id", id.as_str()),
        ("username", "a"),
        ("display_name", hostile),
        ("role", "vaccinator"),
        ("scope", "S1"),
    ];
    // Without the CSRF token: refused before anything.
    let (s, _) = root.post("/admin/users", "vi", &form, false).await;
    assert_eq!(s, 403);
    // A user name too short: the store's rule, next to the field in
    // Vietnamese, what was typed kept (as text).
    let (s, page) = root.post("/admin/users", "vi", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-username""#), "{page}");
    assert!(
        page.contains("Nhập tên đăng nhập chưa có người dùng"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(
        page.contains(&format!(r#"value="{}""#, escaped(hostile))),
        "{page}"
    );
    assert!(page.contains(&format!(r#"value="{id}""#)), "{page}");
    // A site that does not exist, in Chinese: by the scope field.
    form[1] = ("username", "nurse.lan");
    form[4] = ("scope", "NOPE");
    let (s, page) = root.post("/admin/users", "zh", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-scope""#), "{page}");
    assert!(page.contains("接种点角色请填写已有的接种点代码"), "{page}");
    // No role at all.
    form[3] = ("role", "");
    form[4] = ("scope", "");
    let (s, page) = root.post("/admin/users", "en", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-role""#), "{page}");
    // Right: the user's page with the invitation, shown once.
    form[3] = ("role", "vaccinator");
    form[4] = ("scope", "S1");
    let (s, page) = root.post("/admin/users", "en", &form, true).await;
    assert_eq!(s, 201, "{page}");
    let invitation = shown(&page, "invitation");
    assert!(invitation.starts_with("vxi_"), "{invitation}");
    assert!(page.contains("Vaccinator · S1"), "{page}");
    assert!(!page.contains("<script>alert(1)"), "{page}");
    // Sent again: the same account, no second one, the invitation not shown.
    let (s, to) = root.post("/admin/users", "en", &form, true).await;
    assert_eq!((s, to.as_str()), (303, "/admin/users/nurse.lan"));
    let (s, page) = root.get(&to, "en").await;
    assert_eq!(s, 200);
    assert!(!page.contains("vxi_"), "{page}");
    // A taken name from another form: 409 by the user name.
    let other = [
        ("id", "01890000-0000-7000-8000-000000000001"),
        ("username", "nurse.lan"),
        ("display_name", "Someone"),
        ("role", "registrar"),
        ("scope", "S1"),
    ];
    let (s, page) = root.post("/admin/users", "en", &other, true).await;
    assert_eq!(s, 409, "{page}");
    assert!(page.contains(r#"id="err-username""#), "{page}");
    // The invitation works: its holder chooses a password.
    let (s, b) = app
        .post(
            "/api/v1/invitations/redeem",
            &json!({"token": invitation, "password": "a long enough password"}),
        )
        .await;
    assert_eq!((s, b["username"].as_str()), (200, Some("nurse.lan")), "{b}");
    // Search and paging: 55 more users from a roster.
    let mut csv = String::from("username,display_name,roles,site,area\n");
    for i in 0..55 {
        csv.push_str(&format!("staff{i:02},Nhân viên {i},registrar,S1,\n"));
    }
    let (s, b) = app
        .post_raw("/api/v1/users/import", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, first) = root.get("/admin/users?prefix=staff", "en").await;
    assert_eq!(s, 200);
    assert_eq!(first.matches(r#"href="/admin/users/staff"#).count(), 50);
    let next = first
        .split(r#"id="next-page""#)
        .next()
        .and_then(|h| h.rsplit(r#"href=""#).next())
        .and_then(|h| h.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (s, second) = root.get(&next, "en").await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second.matches(r#"href="/admin/users/staff"#).count(), 5);
    assert!(second.contains("staff54") && !second.contains("staff00"));
    assert!(!second.contains(r#"id="next-page""#));
    let (_, found) = root
        .get("/admin/users?role=vaccinator&scope=S1", "en")
        .await;
    assert!(
        found.contains("nurse.lan") && !found.contains("staff01"),
        "{found}"
    );
    let (s, bad) = root.get("/admin/users?role=king", "vi").await;
    assert_eq!(s, 400);
    assert!(bad.contains(r#"id="serr-role""#), "{bad}");
    let (s, bad) = root.get("/admin/users?after=zz", "en").await;
    assert_eq!(s, 400);
    assert!(bad.contains("start again from the first page"), "{bad}");
    // Roles on the user's page: a district that does not exist, then one that does.
    let user = "/admin/users/nurse.lan";
    let (s, page) = root
        .post(
            &format!("{user}/grants"),
            "en",
            &[("role", "planner"), ("scope", "999")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-scope""#), "{page}");
    assert!(page.contains(r#"value="999""#), "{page}");
    let (s, to) = root
        .post(
            &format!("{user}/grants"),
            "en",
            &[("role", "planner"), ("scope", "193")],
            true,
        )
        .await;
    assert_eq!((s, to.as_str()), (303, user));
    let (_, u) = app.get("/api/v1/users/nurse.lan").await;
    assert!(u["grants"].to_string().contains("planner:193"), "{u}");
    let (s, _) = root
        .post(
            &format!("{user}/grants/revoke"),
            "en",
            &[("grant", "planner:193")],
            true,
        )
        .await;
    assert_eq!(s, 303);
    let (_, u) = app.get("/api/v1/users/nurse.lan").await;
    assert!(!u["grants"].to_string().contains("planner"), "{u}");
    let (s, _) = root
        .post(
            &format!("{user}/grants/revoke"),
            "en",
            &[("grant", "planner:193")],
            true,
        )
        .await;
    assert_eq!(s, 404, "a role no longer held");
    // Disable, enable; a new invitation shown once.
    let (s, _) = root.post(&format!("{user}/disable"), "en", &[], true).await;
    assert_eq!(s, 303);
    assert_eq!(app.get("/api/v1/users/nurse.lan").await.1["disabled"], true);
    let (_, page) = root.get(user, "en").await;
    assert!(page.contains(r#"id="enable""#), "{page}");
    let (s, _) = root.post(&format!("{user}/enable"), "en", &[], true).await;
    assert_eq!(s, 303);
    assert_eq!(
        app.get("/api/v1/users/nurse.lan").await.1["disabled"],
        false
    );
    let (s, page) = root
        .post(&format!("{user}/invitation"), "en", &[], true)
        .await;
    assert_eq!(s, 201);
    assert!(shown(&page, "invitation").starts_with("vxi_"));
    // The API's refusals about oneself, by the form they concern.
    let (s, page) = root
        .post("/admin/users/root/disable", "vi", &[], true)
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(
        page.contains("Bạn không thể vô hiệu hóa tài khoản của chính mình."),
        "{page}"
    );
    let (s, page) = root
        .post(
            "/admin/users/root/grants/revoke",
            "en",
            &[("grant", "admin")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-revoke""#), "{page}");
    // Unknown users: the 404 page.
    let (s, page) = root.get("/admin/users/nobody-here", "en").await;
    assert_eq!(s, 404);
    assert!(page.contains("<html"), "{page}");
    let (s, _) = root
        .post("/admin/users/nobody-here/disable", "en", &[], true)
        .await;
    assert_eq!(s, 404);
    // Other roles are refused, as the API refuses them.
    let planner = Session::start(&app, "planner22", &["planner:22"]).await;
    for path in ["/admin/users", "/admin/users/nurse.lan", "/admin/audit"] {
        let (s, _) = planner.get(path, "en").await;
        assert_eq!(s, 403, "{path}");
    }
    let (s, _) = planner
        .post("/admin/users/nurse.lan/disable", "en", &[], true)
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        app.get("/api/v1/users/nurse.lan").await.1["disabled"],
        false
    );
    app.cleanup().await;
}

async fn tokens_lockouts_and_the_audit_log(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    TestApp::make_user(&app.store, "vacc", &["vaccinator:S1"]).await;
    let root = Session::start(&app, "root", &["admin"]).await;
    // A token made from the page: the secret shown once works.
    let (s, page) = root.get("/admin/tokens", "en").await;
    assert_eq!(s, 200, "{page}");
    let id = client_id(&page, "/admin/tokens");
    let mut form = vec![
        ("id", id.as_str()),
        ("username", "vacc"),
        ("name", "Máy tính bảng <b>bàn 1</b>"),
        ("grants", "planner:22"),
    ];
    let (s, page) = root.post("/admin/tokens", "vi", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-grants""#), "{page}");
    assert!(page.contains(r#"value="planner:22""#), "{page}");
    form[2] = ("name", "  ");
    form[3] = ("grants", "vaccinator:S1");
    let (s, page) = root.post("/admin/tokens", "en", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-name""#), "{page}");
    form[2] = ("name", "Máy tính bảng <b>bàn 1</b>");
    let (s, page) = root.post("/admin/tokens", "en", &form, true).await;
    assert_eq!(s, 201, "{page}");
    let secret = shown(&page, "token-secret");
    assert!(secret.starts_with("vxg_"), "{secret}");
    assert!(!page.contains("<b>bàn 1</b>"), "{page}");
    let me = TestApp::client_with(Some(&secret))
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "vacc");
    // Sent twice: one token.
    let (s, to) = root.post("/admin/tokens", "en", &form, true).await;
    assert_eq!((s, to.as_str()), (303, "/admin/tokens"));
    let (_, list) = app.get("/api/v1/tokens?username=vacc").await;
    let named: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == id.as_str())
        .collect();
    assert_eq!(named.len(), 1, "{list}");
    // Revoked from the page: it stops working.
    let (s, _) = root
        .post(&format!("/admin/tokens/{id}/revoke"), "en", &[], true)
        .await;
    assert_eq!(s, 303);
    let me = TestApp::client_with(Some(&secret))
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);
    let (s, _) = root
        .post(&format!("/admin/tokens/{id}/revoke"), "en", &[], true)
        .await;
    assert_eq!(s, 404);
    // The API makes and revokes tokens the same way.
    let api_id = common::new_id();
    let (s, b) = app
        .post(
            "/api/v1/tokens",
            &json!({"id": api_id, "username": "vacc", "name": "sync", "grants": ["vaccinator:S1"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert!(b["token"].as_str().unwrap().starts_with("vxg_"));
    let (s, b) = app
        .post(
            "/api/v1/tokens",
            &json!({"id": api_id, "username": "vacc", "name": "sync"}),
        )
        .await;
    assert_eq!(
        (s, b["errors"][0]["field"].as_str()),
        (409, Some("id")),
        "{b}"
    );
    let (s, b) = app
        .post(
            "/api/v1/tokens",
            &json!({"username": "nobody", "name": "sync"}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let r = app
        .client
        .delete(format!("{}/api/v1/tokens/{api_id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    // A lockout: listed, then cleared.
    for _ in 0..7 {
        app.store
            .login_attempt("victim", "10.0.0.9", &vaxgrid_core::throttle::POLICY)
            .await
            .unwrap();
    }
    let (s, page) = root.get("/admin/lockouts", "zh").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("victim") && page.contains("10.0.0.9"),
        "{page}"
    );
    let (s, _) = root
        .post(
            "/admin/lockouts/clear",
            "en",
            &[("username", "victim"), ("address", "10.0.0.9")],
            true,
        )
        .await;
    assert_eq!(s, 303);
    let (_, page) = root.get("/admin/lockouts", "en").await;
    assert!(!page.contains("10.0.0.9"), "{page}");
    let (s, _) = root
        .post(
            "/admin/lockouts/clear",
            "en",
            &[("username", "victim"), ("address", "10.0.0.9")],
            true,
        )
        .await;
    assert_eq!(s, 404);
    // The audit log, filtered by actor and by record.
    let (s, page) = root.get("/admin/audit?actor=root", "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("clear_lockout") && page.contains("revoke"),
        "{page}"
    );
    let rows: Vec<&str> = page
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("<tr>")
        .skip(1)
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.contains(r#"href="/admin/audit?actor=root""#)),
        "{page}"
    );
    let (s, page) = root
        .get(&format!("/admin/audit?entity=token&record={id}"), "en")
        .await;
    assert_eq!(s, 200);
    assert_eq!(page.matches("<tr><td class=\"num\">").count(), 2, "{page}");
    // Dates: today has entries, tomorrow none; bad days by their field.
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let tomorrow = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1));
    let (_, page) = root
        .get(
            &format!("/admin/audit?actor=root&from={today}&to={today}"),
            "en",
        )
        .await;
    assert!(page.contains("clear_lockout"), "{page}");
    let (_, page) = root
        .get(&format!("/admin/audit?from={tomorrow}"), "en")
        .await;
    assert!(page.contains(r#"id="no-entries""#), "{page}");
    let (s, page) = root.get("/admin/audit?from=2026-13-01", "vi").await;
    assert_eq!(s, 400);
    assert!(page.contains(r#"id="err-from""#), "{page}");
    assert!(page.contains(r#"value="2026-13-01""#), "{page}");
    let (s, page) = root
        .get(&format!("/admin/audit?from={tomorrow}&to={today}"), "zh")
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("结束日期不能早于开始日期。"), "{page}");
    let (s, _) = root.get("/admin/audit?before=x", "en").await;
    assert_eq!(s, 400);
    // Paging: 50 a page, then the older ones.
    for i in 0..60 {
        app.store
            .audit(vaxgrid_store::audit::AuditEntry::new(
                "seeder",
                "note",
                "test",
                &i.to_string(),
                json!({}),
            ))
            .await
            .unwrap();
    }
    let (_, page) = root.get("/admin/audit", "en").await;
    let seqs = |page: &str| -> Vec<i64> {
        page.split("<tr><td class=\"num\">")
            .skip(1)
            .map(|r| r.split('<').next().unwrap().parse().unwrap())
            .collect()
    };
    let first = seqs(&page);
    assert_eq!(first.len(), 50, "{page}");
    assert!(first.windows(2).all(|w| w[0] > w[1]));
    let next = page
        .split(r#"id="next-page""#)
        .next()
        .and_then(|h| h.rsplit(r#"href=""#).next())
        .and_then(|h| h.split('"').next())
        .expect("a next page")
        .replace("&#38;", "&");
    let (_, older) = root.get(&next, "en").await;
    let second = seqs(&older);
    assert!(!second.is_empty() && second[0] < *first.last().unwrap());
    // The chain: never verified, then intact, then broken where altered.
    assert!(page.contains("has not been verified yet"), "{page}");
    let (s, to) = root
        .post(
            "/admin/audit/verify",
            "en",
            &[("back", "/admin/audit?actor=root")],
            true,
        )
        .await;
    assert_eq!((s, to.as_str()), (303, "/admin/audit?actor=root"));
    let (_, page) = root.get("/admin/audit", "vi").await;
    let result = page
        .split(r#"id="chain-result""#)
        .nth(1)
        .unwrap()
        .split("</p>")
        .next()
        .unwrap();
    assert!(
        result.contains("class=\"valid\"") && result.contains("Nguyên vẹn"),
        "{result}"
    );
    assert!(page.contains("bởi root"), "{page}");
    sqlx::query("UPDATE audit_log SET details = '{}' WHERE seq = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (s, _) = root.post("/admin/audit/verify", "en", &[], true).await;
    assert_eq!(s, 303);
    let (_, page) = root.get("/admin/audit", "en").await;
    assert!(page.contains("Broken at entry 3:"), "{page}");
    // The verification is itself in the log.
    let (_, page) = root.get("/admin/audit?entity=audit_log", "en").await;
    assert_eq!(page.matches("verify_chain").count(), 2, "{page}");
    app.cleanup().await;
}

async fn training_classes_exams_and_who_is_certified(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    TestApp::make_user(&app.store, "vacc", &["vaccinator:S1"]).await;
    let hostile = "<img src=x onerror=alert(1)> Bình";
    let (s, b) = app
        .post(
            "/api/v1/users",
            &json!({"username": "vacc2", "display_name": hostile, "grants": ["vaccinator:S1"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let trainer = Session::start(&app, "coach", &["trainer"]).await;
    let (s, page) = trainer.get("/training", "vi").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("<h1>Tập huấn nhân viên</h1>"), "{page}");
    let id = client_id(&page, "/training/classes");
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let yesterday = vaxgrid_store::format_date(vaxgrid_store::today() - time::Duration::days(1));
    let mut form = vec![
        ("id", id.as_str()),
        ("topic", "vaccination"),
        ("starts_on", today.as_str()),
        ("ends_on", yesterday.as_str()),
        ("trainer", "coach"),
    ];
    let (s, page) = trainer.post("/training/classes", "vi", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-ends_on""#), "{page}");
    assert!(
        page.contains("Nhập ngày kết thúc hợp lệ, không trước ngày bắt đầu."),
        "{page}"
    );
    form[4] = ("trainer", "ghost");
    form[3] = ("ends_on", today.as_str());
    let (s, page) = trainer.post("/training/classes", "zh", &form, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-trainer""#), "{page}");
    assert!(page.contains(r#"value="ghost""#), "{page}");
    form[4] = ("trainer", "coach");
    let class = format!("/training/classes/{id}");
    for _ in 0..2 {
        let (s, to) = trainer.post("/training/classes", "en", &form, true).await;
        assert_eq!((s, to.as_str()), (303, class.as_str()));
    }
    let (_, list) = app.get("/api/v1/training/classes").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Attendees.
    let (s, page) = trainer
        .post(
            &format!("{class}/attendees"),
            "en",
            &[("username", "ghost")],
            true,
        )
        .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-attendee""#), "{page}");
    for name in ["vacc", "vacc2", "vacc"] {
        let (s, to) = trainer
            .post(
                &format!("{class}/attendees"),
                "en",
                &[("username", name)],
                true,
            )
            .await;
        assert_eq!((s, to.as_str()), (303, class.as_str()));
    }
    // Exams: bad scores by their field, then one pass and one fail.
    let (_, page) = trainer.get(&class, "en").await;
    let exam_action = format!("{class}/exams");
    let exam_id = client_id(&page, &exam_action);
    let mut exam = vec![
        ("id", exam_id.as_str()),
        ("username", "vacc"),
        ("score", "150"),
        ("pass_mark", "80"),
        ("taken_on", today.as_str()),
    ];
    let (s, page) = trainer.post(&exam_action, "en", &exam, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-score""#), "{page}");
    assert!(page.contains(r#"value="150""#), "{page}");
    exam[2] = ("score", "abc");
    let (s, page) = trainer.post(&exam_action, "vi", &exam, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("Nhập số nguyên từ 0 đến 100."), "{page}");
    exam[2] = ("score", "90");
    exam[1] = ("username", "coach");
    let (s, page) = trainer.post(&exam_action, "en", &exam, true).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains(r#"id="err-username""#), "{page}");
    exam[1] = ("username", "vacc");
    for _ in 0..2 {
        let (s, to) = trainer.post(&exam_action, "en", &exam, true).await;
        assert_eq!((s, to.as_str()), (303, class.as_str()));
    }
    let failed = common::new_id();
    let (s, _) = trainer
        .post(
            &exam_action,
            "en",
            &[
                ("id", failed.as_str()),
                ("username", "vacc2"),
                ("score", "40"),
                ("pass_mark", "80"),
                ("taken_on", today.as_str()),
            ],
            true,
        )
        .await;
    assert_eq!(s, 303);
    let (_, detail) = app.get(&format!("/api/v1/training/classes/{id}")).await;
    assert_eq!(detail["exams"].as_array().unwrap().len(), 2, "{detail}");
    let (_, page) = trainer.get(&class, "en").await;
    assert!(page.contains("Passed: 90/80"), "{page}");
    assert!(page.contains("Not passed: 40/80"), "{page}");
    // Who is certified at S1, and who not yet (names as text).
    let (s, page) = trainer.get("/training/sites", "en").await;
    assert_eq!(s, 200, "{page}");
    let row = page
        .split(r#"id="site-S1""#)
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the row of S1");
    let cells: Vec<&str> = row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(cells, ["2", "1", ""], "{row}");
    assert!(row.contains("<strong>1</strong>"), "{row}");
    let (s, page) = trainer.get("/training/sites/S1", "zh").await;
    assert_eq!(s, 200, "{page}");
    let not_yet = page.split(r#"id="not-yet""#).nth(1).unwrap();
    let not_yet = not_yet.split("</ul>").next().unwrap();
    assert!(not_yet.contains(&escaped(hostile)), "{not_yet}");
    assert!(not_yet.contains("考试未通过"), "{not_yet}");
    assert!(!page.contains("<img src=x"), "{page}");
    let certified = page.split(r#"id="certified""#).nth(1).unwrap();
    assert!(
        certified.contains("vacc") && certified.contains("有效期至"),
        "{certified}"
    );
    let (s, _) = trainer.get("/training/sites/NOPE", "en").await;
    assert_eq!(s, 404);
    let (s, _) = trainer.get("/training/classes/not-a-class", "en").await;
    assert_eq!(s, 404);
    // Other roles are refused, as the API refuses them.
    let registrar = Session::start(&app, "reg", &["registrar:S1"]).await;
    for path in ["/training", "/training/sites", &class] {
        let (s, _) = registrar.get(path, "en").await;
        assert_eq!(s, 403, "{path}");
    }
    let (s, _) = trainer.get("/admin/users", "en").await;
    assert_eq!(s, 403);
    app.cleanup().await;
}
