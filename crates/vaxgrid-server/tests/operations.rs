//! Campaign operations over real HTTP, on SQLite and PostgreSQL: the
//! answers about paths and scope, the lists, the staff administration.

mod common;

use common::{on_both_backends, TestApp};

on_both_backends!(wrong_method_is_405_and_scope_reads_as_scope,);

async fn wrong_method_is_405_and_scope_reads_as_scope(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // A path with only POST, asked with GET: 405, the body says 405, and
    // Allow names the method the path has.
    for (method, path, allow) in [
        (reqwest::Method::GET, "/api/v1/doses", "POST"),
        (reqwest::Method::DELETE, "/api/v1/areas", "GET,HEAD,POST"),
        (reqwest::Method::PUT, "/api/v1/campaigns", "POST"),
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
    assert!(b["detail"].as_str().unwrap().contains("does not exist"), "{b}");
    app.cleanup().await;
}
