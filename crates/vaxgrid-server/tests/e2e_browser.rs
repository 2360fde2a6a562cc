//! End-to-end: the pages in a real headless Chromium. The browser loads the
//! home page from the real server and we read the DOM it built.

mod common;

use std::process::Command;

use common::{dose_body, new_id, TestApp};

fn chromium() -> String {
    let candidates = [
        std::env::var("VAXGRID_CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
    ];
    candidates
        .into_iter()
        .find(|c| !c.is_empty() && std::path::Path::new(c).exists())
        .expect("Chromium is required for the browser tests: `apt-get install chromium`, or run `bash .ci/run` which installs it")
}

/// Loads `url` in headless Chromium and returns the serialized DOM.
fn browse(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("vaxgrid-chromium-{}", new_id()));
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("DOM is UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_shows_coverage_chart_in_chromium() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let person = app.person(1, "Đặng Thị Hoa").await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let url = format!("{}/", app.base);
    let dom = tokio::task::spawn_blocking(move || browse(&url))
        .await
        .unwrap();
    assert!(dom.contains("<h2>Quảng Ninh</h2>"), "{dom}");
    assert!(
        dom.contains("1 residents · 1 with ≥1 dose (100.0%)"),
        "{dom}"
    );
    assert!(
        dom.contains("<svg") && dom.contains("Hạ Long") && dom.contains("Móng Cái"),
        "{dom}"
    );
    // The doses-per-day chart has the day's one dose as a bar.
    assert!(dom.contains("aria-label=\"doses per day\""), "{dom}");
    assert!(dom.contains("<title>2021-07-01: 1 dose</title>"), "{dom}");
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_page_shows_the_verdict_in_chromium() {
    let app = TestApp::start_with_keys("sqlite").await;
    app.seed().await;
    let person = app.person(2, "Lý Văn Phúc").await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, cert) = app
        .post(
            &format!("/api/v1/persons/{person}/certificate"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 201, "{cert}");
    let hc1: String = cert["hc1"].as_str().unwrap().into();
    let query: String = form_urlencoded::byte_serialize(hc1.as_bytes()).collect();
    let valid_url = format!("{}/verify?hc1={query}", app.base);
    let tampered_url = format!("{}/verify?hc1={}", app.base, &query[..query.len() - 8]);
    let (valid, tampered) =
        tokio::task::spawn_blocking(move || (browse(&valid_url), browse(&tampered_url)))
            .await
            .unwrap();
    assert!(valid.contains("Valid vaccination certificate"), "{valid}");
    assert!(valid.contains("<b>Lý, Văn Phúc</b>"), "{valid}");
    assert!(valid.contains("Dose 1 of 2 on 2021-07-01"), "{valid}");
    assert!(tampered.contains("Not valid"), "{tampered}");
    app.cleanup().await;
}
