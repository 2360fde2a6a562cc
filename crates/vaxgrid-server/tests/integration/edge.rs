//! What every request meets at the edge, on SQLite and PostgreSQL: text a
//! database cannot store (NUL) refused with 400 naming the field on every
//! channel, JSON with text after the value refused, a database that cannot
//! be written answered 503 and reported not ready.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    nul_in_path_or_query_is_a_400_on_every_route,
    nul_in_bodies_is_a_400_naming_the_field,
    json_with_text_after_the_value_is_refused,
    an_unwritable_database_is_503_and_not_ready,
    every_answer_carries_the_security_headers,
    names_are_nfc_and_never_invisible_or_reordered,
    a_user_manager_cannot_take_back_their_own_power,
);

/// The route's path with `{name}` → `nul_in`'s value as `a%00b`, others `x`.
fn fill(template: &str, nul_in: Option<&str>) -> String {
    template
        .split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(name) if Some(name.trim_end_matches('}')) == nul_in => "a%00b".to_string(),
            Some(_) => "x".to_string(),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

async fn send(app: &TestApp, method: &axum::http::Method, path: &str) -> (u16, Value) {
    let url = format!("{}{path}", app.base);
    let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method");
    let request = match method.as_str() {
        "GET" | "HEAD" | "DELETE" => app.client.request(method, url),
        _ => app.client.request(method, url).json(&json!({})),
    };
    let r = request.send().await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Every route of the table, as an administrator: a NUL (or bytes that are
/// not UTF-8) in each path parameter and in a query parameter is a 400
/// naming that parameter; never a 500.
async fn nul_in_path_or_query_is_a_400_on_every_route(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let mut checked = 0;
    for route in vaxgrid_server::routes() {
        for name in params(route.path) {
            let path = fill(route.path, Some(name));
            let (s, p) = send(&app, &route.method, &path).await;
            assert_eq!(s, 400, "{} {path}: {p}", route.method);
            assert_eq!(
                p["errors"][0]["field"], name,
                "{} {path}: {p}",
                route.method
            );
            checked += 1;
        }
        let base = fill(route.path, None);
        for (query, field) in [
            ("probe=a%00b", "probe"),
            ("probe=%FF%FE", "probe"),
            ("a%00=1", "query"),
        ] {
            let path = format!("{base}?{query}");
            let (s, p) = send(&app, &route.method, &path).await;
            assert_eq!(s, 400, "{} {path}: {p}", route.method);
            assert_eq!(
                p["errors"][0]["field"], field,
                "{} {path}: {p}",
                route.method
            );
        }
        checked += 1;
    }
    assert!(checked > 80, "only {checked} routes and parameters checked");
    // The queries a handler reads, named as such.
    let (s, p) = app.get("/api/v1/persons?q=ad%00min").await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("q")),
        "{p}"
    );
    let (s, p) = app.get("/api/v1/persons?id_number=0%00").await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("id_number")),
        "{p}"
    );
    app.cleanup().await;
}

async fn nul_in_bodies_is_a_400_naming_the_field(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;

    // The sign-in form, without credentials, with the form's CSRF cookie.
    let anonymous = TestApp::client_with(None);
    let page = anonymous
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("vaxgrid_login_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("the sign-in page sets its CSRF cookie")
        .to_string();
    let r = anonymous
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("vaxgrid_login_csrf={csrf}"))
        .body(format!("username=ad%00min&password=x&csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "username", "{p}");

    // JSON members, nested ones by their path.
    let person = json!({"id_type": "cccd", "id_number": "022080000001", "full_name": "ad\u{0}min",
                        "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"});
    let (s, p) = app.post("/api/v1/persons", &person).await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("full_name")),
        "{p}"
    );
    let mut grouped = person.clone();
    grouped["full_name"] = json!("Trần Thị Bích");
    grouped["priority_groups"] = json!(["frontline", "x\u{0}"]);
    let (s, p) = app.post("/api/v1/persons", &grouped).await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("priority_groups[1]")),
        "{p}"
    );
    let (s, p) = app
        .post(
            "/api/v1/areas",
            &json!({"code": "9\u{0}", "level": "province", "name": "X"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("code")),
        "{p}"
    );

    // CSV cells: the column and the row.
    let csv = "id_type,id_number,full_name,birth_date,sex,phone,home_area\n\
               cccd,022080000002,Lê Văn Tám,1980-05-17,male,0912,0665801\n\
               cccd,022080000003,Lê Văn Chín,1980-05-17,male,09\0 12,0665801\n";
    let (s, p) = app
        .post_raw(
            "/api/v1/persons/import",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(s, 400, "{p}");
    assert_eq!(p["errors"][0]["field"], "phone", "{p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("row 2:"),
        "{p}"
    );
    let (s, p) = app
        .post_raw(
            "/api/v1/doses/import",
            "text/csv",
            format!("id,person_id,product_code\n{},x,A\0Z\n", new_id()).into_bytes(),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("product_code")),
        "{p}"
    );
    let (_, none) = app.get("/api/v1/persons?id_number=022080000002").await;
    assert_eq!(none["items"], json!([]), "nothing was written: {none}");

    // HL7 v2: an AR naming segment, occurrence and field (PID-5, the name).
    let message = "MSH|^~\\&|A|B|VAXGRID|C|20210610143000+0800||VXU^V04^VXU_V04|NUL-1|P|2.5.1\r\
                   PID|1||022080000004^^^VNM^NI||Nguy\0n^An||19800517|M\r";
    let (s, ct, ack) = app
        .post_text("/hl7/v2?site=S1", "application/hl7-v2", message)
        .await;
    assert_eq!(s, 400, "{ct} {ack}");
    assert!(ack.contains("MSA|AR|NUL-1"), "{ack}");
    assert!(ack.contains("PID^1^5"), "{ack}");
    assert!(ack.contains("NUL"), "{ack}");

    // FHIR: an OperationOutcome whose expression is the element.
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient",
         "name": [{"family": "Nguy\u{0}n", "given": ["An"]}]},
         "request": {"method": "POST", "url": "Patient"}}]});
    let (s, ct, text) = app
        .post_text("/fhir", "application/fhir+json", bundle.to_string())
        .await;
    assert_eq!(s, 400, "{text}");
    assert_eq!(ct, "application/fhir+json");
    let oo: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        oo["issue"][0]["expression"][0], "Bundle.entry[0].resource.name[0].family",
        "{oo}"
    );

    // A header carrying a NUL never reaches a handler: HTTP refuses it.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    socket
        .write_all(b"GET /api/v1/me HTTP/1.1\r\nhost: x\r\nauthorization: Bearer a\0b\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let n = socket.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    app.cleanup().await;
}

async fn json_with_text_after_the_value_is_refused(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Nguyễn Văn Đức").await;
    let id = new_id();
    let body = format!("{} x", dose_body(&id, &person, "2021-07-01"));
    let (s, p) = app
        .post_raw("/api/v1/doses", "application/json", body.into_bytes())
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("body")),
        "{p}"
    );
    let (s, p) = app
        .post_raw(
            "/api/v1/doses",
            "application/json",
            format!("{}{{}}", dose_body(&id, &person, "2021-07-01")).into_bytes(),
        )
        .await;
    assert_eq!(s, 400, "{p}");
    let (s, _) = app.get(&format!("/api/v1/doses/{id}")).await;
    assert_eq!(s, 404, "no dose was recorded");
    // White space after the value is fine.
    let body = format!("{}\n\t ", dose_body(&id, &person, "2021-07-01"));
    let (s, p) = app
        .post_raw("/api/v1/doses", "application/json", body.into_bytes())
        .await;
    assert_eq!(s, 201, "{p}");
    app.cleanup().await;
}

/// The scratch database's URL opened read-only: SQLite's `mode=ro`, and
/// PostgreSQL's `default_transaction_read_only` (what a standby also does).
fn read_only_url(backend: &str, url: &str) -> String {
    match backend {
        "sqlite" => format!("{url}?mode=ro"),
        _ => {
            assert!(url.contains("options=-csearch_path"), "{url}");
            format!("{url}%20-cdefault_transaction_read_only%3Don")
        }
    }
}

async fn an_unwritable_database_is_503_and_not_ready(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Nguyễn Văn Đức").await;
    let get = |base: String, path: &'static str| {
        let client = app.client.clone();
        async move { client.get(format!("{base}{path}")).send().await.unwrap() }
    };
    assert_eq!(get(app.base.clone(), "/readyz").await.status(), 200);
    assert_eq!(get(app.base.clone(), "/healthz").await.status(), 200);

    // A second server over the same database, which it cannot write.
    let store = vaxgrid_store::Store::connect(&read_only_url(backend, &app.scratch.url))
        .await
        .expect("connect read-only");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = vaxgrid_server::AppState::new(store.clone(), Default::default())
        .expect("the dose writer starts");
    tokio::spawn(async move {
        let _ = vaxgrid_server::serve(state, listener).await;
    });

    let live = get(base.clone(), "/healthz").await;
    assert_eq!(live.status(), 200, "the process is alive");
    let ready = get(base.clone(), "/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));
    assert_eq!(ready.headers()["content-type"], "application/problem+json");

    let unavailable = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").cloned();
        let ct = r.headers().get("content-type").cloned();
        let text = r.text().await.unwrap();
        assert_eq!(status, 503, "{text}");
        assert!(retry.is_some(), "Retry-After: {text}");
        assert_eq!(ct.unwrap(), "application/problem+json");
        text
    };
    let r = app
        .client
        .post(format!("{base}/api/v1/persons"))
        .json(
            &json!({"id_type": "cccd", "id_number": "022080000777", "full_name": "Lê Văn Tám",
                      "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"}),
        )
        .send()
        .await
        .unwrap();
    let text = unavailable(r).await;
    assert!(!text.contains("database error"), "no internals: {text}");
    let r = app
        .client
        .post(format!("{base}/api/v1/doses"))
        .json(&dose_body(&new_id(), &person, "2021-07-01"))
        .send()
        .await
        .unwrap();
    unavailable(r).await;
    // Reads that write (the audit of a person read) are refused the same way.
    let r = app
        .client
        .get(format!("{base}/api/v1/persons/{person}"))
        .send()
        .await
        .unwrap();
    assert!(
        [200, 503].contains(&r.status().as_u16()),
        "a read answers or asks to retry, never 500: {}",
        r.status()
    );
    store.close().await;
    app.cleanup().await;
}

async fn every_answer_carries_the_security_headers(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Nguyễn Văn Đức").await;
    for (path, cacheable) in [
        ("/login".to_string(), false),
        ("/verify".to_string(), false),
        ("/".to_string(), false),
        (format!("/api/v1/persons/{person}"), false),
        ("/api/v1/persons/not-a-uuid".to_string(), false),
        ("/fhir/Immunization?patient=x".to_string(), false),
        ("/api/v1/openapi.json".to_string(), true),
        ("/fhir/metadata".to_string(), true),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let cache = h
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            cache.as_deref() == Some("no-store"),
            !cacheable,
            "{path}: {cache:?}"
        );
    }
    app.cleanup().await;
}

/// A name is stored in NFC; one that draws nothing, or holds a character
/// that reorders how it displays, is refused naming `full_name`, and no
/// person is written.
async fn names_are_nfc_and_never_invisible_or_reordered(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let body = |serial: u32, name: &str| {
        json!({"id_type": "cccd", "id_number": format!("022080{serial:06}"), "full_name": name,
               "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"})
    };
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &body(1, "Nguye\u{0302}\u{0303}n Va\u{0306}n An"),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["person"]["full_name"], "Nguyễn Văn An");
    for (serial, name, says) in [
        (2, "\u{200B}\u{200C}\u{FEFF}", "no visible character"),
        (3, "\u{3164}", "no visible character"),
        (4, "Nguyễn \u{202E}nA", "U+202E"),
        (5, "\u{2066}An\u{2069}", "U+2066"),
    ] {
        let (s, p) = app.post("/api/v1/persons", &body(serial, name)).await;
        assert_eq!(s, 422, "{name:?}: {p}");
        assert_eq!(p["errors"][0]["field"], "full_name", "{p}");
        let message = p["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{name:?}: {message}");
    }
    assert_eq!(app.store.count_persons().await.unwrap(), 1);
    app.cleanup().await;
}

/// Found by the fuzzer: an administrator could take back their own admin
/// role (and with it every permission, the rest of their session 403).
/// Like disabling oneself, it is refused; another user manager may.
async fn a_user_manager_cannot_take_back_their_own_power(backend: &str) {
    let app = TestApp::start(backend).await;
    let delete =
        |client: &reqwest::Client, path: &str| client.delete(format!("{}{path}", app.base)).send();
    let r = delete(&app.client, "/api/v1/users/admin/grants/admin")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "grant", "{p}");
    let (s, me) = app.get("/api/v1/me").await;
    assert_eq!(s, 200, "{me}");
    let other = app.as_user("second-admin", &["admin"]).await;
    let r = delete(&other.client, "/api/v1/users/admin/grants/admin")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    app.cleanup().await;
}
