//! The API fuzzer: schemathesis, generated from the server's own OpenAPI
//! document (`/api/v1/openapi.json`), runs every operation against a live
//! server on both backends, as an administrator and as a site role. It
//! must find no response ≥ 500 and no response that does not match the
//! document (status code, content type, headers, body schema).
//!
//! Ignored by a plain `cargo test`: it needs schemathesis (from PyPI),
//! which `.ci/run` installs and then runs this with `--ignored`, naming the
//! executable in `VAXGRID_SCHEMATHESIS`. `VAXGRID_FUZZ_SECONDS` bounds each
//! of the four runs (default 40). Everything stays on 127.0.0.1.
mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestApp;
use serde_json::Value;

/// The response checks: the server's side of the contract.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

struct Outcome {
    operations: u64,
    requests: u64,
    failures: Vec<String>,
}

fn schemathesis() -> String {
    std::env::var("VAXGRID_SCHEMATHESIS").unwrap_or_else(|_| {
        panic!(
            "VAXGRID_SCHEMATHESIS must name the schemathesis executable (.ci/run installs it \
             into a virtual environment)"
        )
    })
}

/// A little of everything the operations read: areas, a site, a lot,
/// people with doses, a campaign.
async fn seed(app: &TestApp) {
    app.seed().await;
    for (i, name) in ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
        .iter()
        .enumerate()
    {
        let person = app.person(i as u32 + 1, name).await;
        let (s, b) = app
            .post(
                "/api/v1/doses",
                &common::dose_body(&uuid::Uuid::now_v7().to_string(), &person, "2026-03-02"),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
}

/// The credential a run authenticates with: its user and its token.
struct Caller<'a> {
    username: &'a str,
    token: &'a str,
}

/// Runs schemathesis once as `caller`, returning its counts and failures.
async fn run(app: &TestApp, label: &str, caller: &Caller<'_>) -> Outcome {
    let seconds = std::env::var("VAXGRID_FUZZ_SECONDS").unwrap_or_else(|_| "40".into());
    let dir = PathBuf::from(
        std::env::var("CARGO_TARGET_DIR")
            .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .join("fuzz")
    .join(label);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.ndjson");
    let binary = schemathesis();
    let base = app.base.clone();
    let token = caller.token.to_string();
    // The hooks keep the run from revoking its own token (see hooks.py):
    // every later answer would be a 401 that says nothing of the operation
    // asked.
    let token_id = app
        .store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.username == caller.username)
        .expect("the caller's token is stored")
        .id;
    let args = vec![
        "run".to_string(),
        format!("{base}/api/v1/openapi.json"),
        "--url".into(),
        base.clone(),
        "--header".into(),
        format!("Authorization: Bearer {token}"),
        "--checks".into(),
        CHECKS.into(),
        "--max-time".into(),
        seconds,
        "--workers".into(),
        "2".into(),
        "--seed".into(),
        "20261206".into(),
        "--max-redirects".into(),
        "0".into(),
        "--request-timeout".into(),
        "20".into(),
        "--continue-on-failure".into(),
        // Hypothesis gives up on an operation whose generated bodies its
        // filters mostly drop (a form of many optional fields): that is the
        // generator's limit, not the server's answer, so it must not fail
        // the run; every answer given is still checked.
        "--suppress-health-check".into(),
        "filter_too_much".into(),
        "--report".into(),
        "ndjson".into(),
        "--report-ndjson-path".into(),
        report.display().to_string(),
        "--output-truncate".into(),
        "true".into(),
    ];
    let cwd = dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .args(&args)
            // Its cache (.schemathesis/) goes beside the report.
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .env(
                "SCHEMATHESIS_HOOKS",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/hooks.py"),
            )
            .env("VAXGRID_FUZZ_TOKEN_ID", token_id)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    std::fs::write(dir.join("stdout.txt"), &stdout).unwrap();
    println!("== schemathesis {label}\n{stdout}\n{stderr}");
    let events = std::fs::read_to_string(&report).unwrap_or_default();
    let mut outcome = read_report(&events);
    if !out.status.success() {
        outcome
            .failures
            .push(format!("schemathesis exited with {}", out.status));
    }
    outcome
}

/// Counts from schemathesis's NDJSON events: operations that got at least
/// one request, requests, and every failed check, error, or answer ≥ 500.
fn read_report(events: &str) -> Outcome {
    let mut operations = std::collections::BTreeSet::new();
    let mut total = None;
    let mut outcome = Outcome {
        operations: 0,
        requests: 0,
        failures: Vec::new(),
    };
    for line in events.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            outcome
                .failures
                .push(format!("unreadable report line: {line:.200}"));
            continue;
        };
        if let Some(n) = event.pointer("/LoadingFinished/statistic/operations/total") {
            total = n.as_u64();
        }
        let Some(scenario) = event.get("ScenarioFinished") else {
            continue;
        };
        let label = scenario["recorder"]["label"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        if scenario["status"] == "error" {
            outcome.failures.push(format!("{label}: error in the run"));
        }
        let interactions = scenario["recorder"]["interactions"].as_object();
        for (id, interaction) in interactions.into_iter().flatten() {
            outcome.requests += 1;
            // Stateful scenarios ("Stateful tests") chain several operations.
            if label.starts_with(|c: char| c.is_ascii_uppercase()) && label.contains(" /") {
                operations.insert(label.clone());
            }
            let status = interaction["response"]["status_code"].as_u64().unwrap_or(0);
            if status >= 500 {
                outcome
                    .failures
                    .push(format!("{label}: {status} (case {id})"));
            }
        }
        let checks = scenario["recorder"]["checks"].as_object();
        for (id, checks) in checks.into_iter().flatten() {
            for check in checks.as_array().into_iter().flatten() {
                if check["status"] != "success" && check["status"] != "skip" {
                    outcome.failures.push(format!(
                        "{label}: {} {} (case {id})",
                        check["name"], check["status"]
                    ));
                }
            }
        }
    }
    outcome.operations = operations.len() as u64;
    match total {
        Some(total) if total == outcome.operations => {}
        total => outcome.failures.push(format!(
            "{} of {total:?} operations were called",
            outcome.operations
        )),
    }
    outcome
}

async fn fuzz(backend: &str) {
    // With certificate keys, as a deployment issuing certificates runs.
    let app = TestApp::start_with_keys(backend).await;
    seed(&app).await;
    let admin = TestApp::make_user(&app.store, "fuzz-admin", &["admin"]).await;
    let site = TestApp::make_user(&app.store, "fuzz-vaccinator", &["vaccinator:S1"]).await;
    let mut failures = Vec::new();
    // The site role first: the administrator's run may take its grants.
    for (role, username, token) in [
        ("vaccinator", "fuzz-vaccinator", &site),
        ("admin", "fuzz-admin", &admin),
    ] {
        let label = format!("{backend}-{role}");
        let o = run(&app, &label, &Caller { username, token }).await;
        println!(
            "fuzz {label}: {} operations, {} requests, {} failures",
            o.operations,
            o.requests,
            o.failures.len()
        );
        failures.extend(o.failures.into_iter().map(|f| format!("{label}: {f}")));
    }
    app.cleanup().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis: .ci/run installs it and runs this"]
async fn the_fuzzer_finds_nothing_sqlite() {
    fuzz("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis: .ci/run installs it and runs this"]
async fn the_fuzzer_finds_nothing_postgres() {
    fuzz("postgres").await;
}
