//! The JSON API over real HTTP, on SQLite and PostgreSQL.

use crate::common;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::json;
use vaxgrid_store::writer::WriterConfig;

on_both_backends!(
    dose_lifecycle_over_http,
    bad_input_is_a_precise_4xx_and_writes_nothing,
    csv_import_is_all_or_nothing,
    registry_search_and_conflicts,
    full_queue_answers_503_with_retry_after,
    areas_paginate_and_report_coverage,
    certificates_issue_verify_and_refuse,
    doses_csv_rows_are_each_all_or_nothing,
    every_answer_carries_a_request_id,
);

/// The check every answer above goes through refuses what the document
/// does not say: a status it does not list, a content type it does not
/// list, a body that breaks the schema (a missing required field, a wrong
/// enum value, a wrong type) — and accepts the answers it does describe.
#[test]
fn answers_are_checked_against_the_openapi_document() {
    use common::openapi::check;
    let area = br#"{"code":"22","parent_code":null,"level":"province","name":"Q","name_en":"Q","path":"/22/"}"#;
    let url = "http://127.0.0.1:1/api/v1/areas/22";
    check("GET", url, 200, "application/json", area).expect("a valid area");
    let err = check("GET", url, 418, "application/json", area).unwrap_err();
    assert!(err.contains("status 418"), "{err}");
    let err = check("GET", url, 200, "text/html", area).unwrap_err();
    assert!(err.contains("content type"), "{err}");
    for bad in [
        r#"{"parent_code":null,"level":"province","name":"Q","name_en":"Q","path":"/22/"}"#,
        r#"{"code":"22","parent_code":null,"level":7,"name":"Q","name_en":"Q","path":"/22/"}"#,
        r#"{"code":22,"parent_code":null,"level":"province","name":"Q","name_en":"Q","path":"/22/"}"#,
    ] {
        let err = check("GET", url, 200, "application/json", bad.as_bytes()).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
    }
    let problem =
        br#"{"type":"/problems/not-found","title":"Not Found","status":404,"detail":"no"}"#;
    check("GET", url, 404, "application/problem+json", problem).expect("a problem");
    let err = check("GET", url, 404, "application/problem+json", b"{}").unwrap_err();
    assert!(err.contains("does not match"), "{err}");
    // A path the document does not describe is not checked (the fallback 404).
    check("GET", "http://127.0.0.1:1/nowhere", 404, "text/plain", b"").expect("unchecked");
}

async fn dose_lifecycle_over_http(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Nguyễn Văn Đức").await;
    let id = new_id();
    let body = dose_body(&id, &person, "2021-07-01");
    let (s, rec) = app.post("/api/v1/doses", &body).await;
    assert_eq!(s, 201, "{rec}");
    assert_eq!(rec["dose_number"], 1);
    // Retry: same id, same body.
    let (s, again) = app.post("/api/v1/doses", &body).await;
    assert_eq!((s, again["id"].clone()), (200, rec["id"].clone()));
    // Same id, another body.
    let (s, p) = app
        .post("/api/v1/doses", &dose_body(&id, &person, "2021-07-02"))
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["errors"][0]["field"], "id");
    // Too early: 422 with the earliest valid date.
    let (s, p) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-15"),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["earliest_valid_date"], "2021-07-29");
    assert_eq!(p["errors"][0]["field"], "administered_on");
    let mut overridden = dose_body(&new_id(), &person, "2021-07-15");
    overridden["override_reason"] = json!("travel for work");
    let (s, d2) = app.post("/api/v1/doses", &overridden).await;
    assert_eq!(s, 201, "{d2}");
    // Correction.
    let (s, c) = app
        .post(
            &format!(
                "/api/v1/doses/{}/entered-in-error",
                d2["id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "reason": "wrong lot", "author": "nurse"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, h) = app.get(&format!("/api/v1/persons/{person}/doses")).await;
    assert_eq!(s, 200);
    assert_eq!(h["records"].as_array().unwrap().len(), 3);
    assert_eq!(h["valid_doses"], 1);
    assert_eq!(h["next_dose_due"], "2021-08-26");
    let (s, _) = app
        .get(&format!("/api/v1/doses/{}", rec["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);
    // The writer's figures: every batch is in the batch-time histogram.
    let (s, metrics) = app.get("/metrics").await;
    assert_eq!(s, 200);
    let metrics = metrics.as_str().expect("text").to_string();
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from {metrics}"))
    };
    let batches = value("vaxgrid_dose_batches_total ");
    assert!(batches >= 5, "{metrics}");
    assert_eq!(
        value("vaxgrid_dose_batch_seconds_bucket{le=\"+Inf\"} "),
        batches
    );
    assert_eq!(value("vaxgrid_dose_batch_seconds_count "), batches);
    // Every dose request that reached the writer (201, 200, 409, 422, 201).
    assert_eq!(value("vaxgrid_dose_request_seconds_count "), 5);
    app.cleanup().await;
}

async fn bad_input_is_a_precise_4xx_and_writes_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(1, "Trần Thị Bình").await;
    let good = dose_body(&new_id(), &person, "2021-07-01");
    let mut cases: Vec<(&str, serde_json::Value, u16, &str)> = Vec::new();
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("lot_number");
    cases.push(("missing field", missing, 422, "lot_number"));
    let mut wrong_type = good.clone();
    wrong_type["dose_number"] = json!("one");
    cases.push(("wrong type", wrong_type, 422, "dose_number"));
    let mut extra = good.clone();
    extra["colour"] = json!("blue");
    cases.push(("extra field", extra, 422, "colour"));
    let mut bad_uuid = good.clone();
    bad_uuid["id"] = json!("not-a-uuid");
    cases.push(("bad id", bad_uuid, 400, "id"));
    let mut bad_date = good.clone();
    bad_date["administered_on"] = json!("2021-13-01");
    cases.push(("bad date", bad_date, 422, "administered_on"));
    for (field, value) in [
        ("person_id", json!(new_id())),
        ("product_code", json!("NOPE")),
        ("lot_number", json!("NOPE")),
        ("site_code", json!("NOPE")),
    ] {
        let mut unknown = good.clone();
        unknown[field] = value;
        cases.push(("unknown reference", unknown, 422, field));
    }
    for (what, body, status, field) in cases {
        let (s, p) = app.post("/api/v1/doses", &body).await;
        assert_eq!(s, status, "{what}: {p}");
        let named = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field);
        assert!(named, "{what}: the problem must name {field}: {p}");
    }
    // Malformed JSON, invalid UTF-8, NUL, wrong media type, oversized body.
    let (s, p) = app
        .post_raw("/api/v1/doses", "application/json", b"{\"id\": ".to_vec())
        .await;
    assert_eq!(s, 400, "{p}");
    let (s, _) = app
        .post_raw(
            "/api/v1/doses",
            "application/json",
            b"{\"id\": \"\xff\xfe\"}".to_vec(),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .post_raw(
            "/api/v1/persons",
            "application/json",
            br#"{"full_name": "a\u0000b"}"#.to_vec(),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .post_raw(
            "/api/v1/doses",
            "text/plain",
            serde_json::to_vec(&good).unwrap(),
        )
        .await;
    assert_eq!(s, 415);
    let mut huge = good.clone();
    huge["vaccinator"] = json!("x".repeat(70 * 1024));
    let (s, _) = app.post("/api/v1/doses", &huge).await;
    assert_eq!(s, 413);
    // Invalid ID numbers for persons.
    for (id_type, number, field) in [
        ("cccd", "02208000000", "id_number"),
        ("cccd", "099080000001", "id_number"),
        ("cn_resident", "11010519491231002Y", "id_number"),
    ] {
        let (s, p) = app
            .post(
                "/api/v1/persons",
                &json!({"id_type": id_type, "id_number": number, "full_name": "X", "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"}),
            )
            .await;
        assert_eq!(s, 422, "{number}: {p}");
        assert_eq!(p["errors"][0]["field"], field);
    }
    let (s, p) = app.get("/api/v1/persons?limit=9999&name=x").await;
    assert_eq!(s, 400, "{p}");
    assert_eq!(p["errors"][0]["field"], "limit");
    let (s, _) = app.get("/api/v1/persons/not-a-uuid").await;
    assert_eq!(s, 400);
    let (s, _) = app.get(&format!("/api/v1/persons/{}", new_id())).await;
    assert_eq!(s, 404);
    let (s, _) = app.get("/api/v1/nothing-here").await;
    assert_eq!(s, 404);
    // Nothing of all that was written.
    assert_eq!(app.store.count_doses().await.unwrap(), 0);
    assert_eq!(app.store.count_persons().await.unwrap(), 1);
    app.cleanup().await;
}

async fn csv_import_is_all_or_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let header =
        "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n";
    let bad = format!(
        "{header}cccd,022080000101,Lê Văn Một,1980-01-02,male,0912345678,0665801,nông dân,frontline\n\
         cccd,022080000102,Lê Văn Hai,1980-13-02,male,,0665801,,\n\
         cccd,022080000103,Lê Văn Ba,1980-01-02,male,,9999999,,\n"
    );
    let (s, p) = app
        .post_raw("/api/v1/persons/import", "text/csv", bad.into_bytes())
        .await;
    assert_eq!(s, 422, "{p}");
    let rows: Vec<(u64, String)> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(2, "birth_date".to_string()), (3, "home_area".to_string())]
    );
    assert_eq!(
        app.store.count_persons().await.unwrap(),
        0,
        "no partial import"
    );
    let good = format!("{header}cccd,022080000101,Lê Văn Một,1980-01-02,male,0912345678,0665801,nông dân,frontline;health_worker\n");
    let (s, p) = app
        .post_raw("/api/v1/persons/import", "text/csv", good.into_bytes())
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["imported"], 1);
    let (s, _) = app
        .post_raw(
            "/api/v1/persons/import",
            "text/csv",
            b"\xff\xfe,,\n1,2\n".to_vec(),
        )
        .await;
    assert_eq!(s, 422);
    app.cleanup().await;
}

async fn registry_search_and_conflicts(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let first = app.person(5, "Nguyễn Văn Đức").await;
    let (s, p) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022080000005", "full_name": "Other", "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(p["existing"], format!("/api/v1/persons/{first}"));
    let (s, twin) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022080000006", "full_name": "nguyen van duc", "birth_date": "1980-05-17", "sex": "male", "home_area": "0665801"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(twin["possible_duplicates"], json!([first]));
    let (s, page) = app.get("/api/v1/persons?name=nguyen%20van%20duc").await;
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (s, page) = app.get("/api/v1/persons?id_number=022080000005").await;
    assert_eq!((s, page["items"][0]["id"].clone()), (200, json!(first)));
    // Merge the twin into the first record.
    let twin_id = twin["person"]["id"].as_str().unwrap();
    let (s, m) = app
        .post(
            &format!("/api/v1/persons/{first}/merge"),
            &json!({"duplicate_id": twin_id, "reason": "same CCCD card"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let (_, view) = app.get(&format!("/api/v1/persons/{twin_id}")).await;
    assert_eq!(view["merged_into"], json!(first));
    app.cleanup().await;
}

async fn full_queue_answers_503_with_retry_after(backend: &str) {
    let app = TestApp::start_with(
        backend,
        WriterConfig {
            max_batch: 1,
            queue: 1,
            ..WriterConfig::default()
        },
    )
    .await;
    app.seed().await;
    let person = app.person(9, "Phạm Văn Chín").await;
    // Many concurrent first doses for one person: one succeeds; the rest are
    // either refused by the rules (422) or by the full queue (503).
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/doses", app.base);
        let body = dose_body(&new_id(), &person, "2021-07-01");
        tasks.push(tokio::spawn(async move {
            let r = client.post(url).json(&body).send().await.unwrap();
            (
                r.status().as_u16(),
                r.headers().get("retry-after").is_some(),
            )
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        let (s, retry) = t.await.unwrap();
        if s == 503 {
            assert!(retry, "503 must carry Retry-After");
        }
        *statuses.entry(s).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&201), Some(&1), "{statuses:?}");
    assert!(
        statuses.contains_key(&503),
        "a queue of one must overflow: {statuses:?}"
    );
    assert!(
        statuses.keys().all(|s| [201, 422, 503].contains(s)),
        "{statuses:?}"
    );
    app.cleanup().await;
}

async fn areas_paginate_and_report_coverage(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, page) = app.get("/api/v1/areas?parent=22&limit=1").await;
    assert_eq!(s, 200);
    assert_eq!(page["items"][0]["code"], "193");
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, page2) = app
        .get(&format!("/api/v1/areas?parent=22&limit=1&after={cursor}"))
        .await;
    assert_eq!(page2["items"][0]["code"], "194");
    assert!(page2["next_cursor"].is_null());
    let person = app.person(3, "Hoàng Văn Ba").await;
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, r) = app.get("/api/v1/reports/coverage?area=22").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["area"]["total"]["population"], 1);
    assert_eq!(r["area"]["total"]["at_least_one"], 1);
    assert_eq!(r["area"]["by_group"]["frontline"]["at_least_one"], 1);
    assert_eq!(r["children"][0]["area_code"], "193");
    assert_eq!(r["children"][0]["total"]["at_least_one"], 1);
    assert_eq!(r["children"][1]["total"]["at_least_one"], 0);
    let (s, _) = app.get("/api/v1/reports/coverage?area=nope").await;
    assert_eq!(s, 404);
    let (s, _) = app.get("/api/v1/reports/coverage").await;
    assert_eq!(s, 400);
    let home = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("<svg") && home.contains("Quảng Ninh"),
        "{home}"
    );
    app.cleanup().await;
}

async fn certificates_issue_verify_and_refuse(backend: &str) {
    let plain = TestApp::start(backend).await;
    let (s, p) = plain.get("/api/v1/dcc/trust-list").await;
    assert_eq!(s, 503, "no keys configured: {p}");
    plain.cleanup().await;

    let app = TestApp::start_with_keys(backend).await;
    app.seed().await;
    let person = app.person(11, "Trần Thị Bích").await;
    let (s, p) = app
        .post(&format!("/api/v1/persons/{person}/certificate"), &json!({}))
        .await;
    assert_eq!(s, 422, "no dose yet: {p}");
    let (s, _) = app
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &person, "2021-07-01"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, cert) = app
        .post(&format!("/api/v1/persons/{person}/certificate"), &json!({}))
        .await;
    assert_eq!(s, 201, "{cert}");
    let hc1 = cert["hc1"].as_str().unwrap();
    assert!(hc1.starts_with("HC1:"));
    assert!(cert["uvci"]
        .as_str()
        .unwrap()
        .starts_with("URN:UVCI:01:VN:"));
    let (s, v) = app.post("/api/v1/dcc/verify", &json!({ "hc1": hc1 })).await;
    assert_eq!(s, 200);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["type"], "vaccination");
    assert_eq!(v["dcc"]["nam"]["fnt"], "TRAN");
    assert_eq!(v["dcc"]["nam"]["gnt"], "THI<BICH");
    assert_eq!(v["dcc"]["v"][0]["mp"], "EU/1/21/1529");
    assert_eq!(v["dcc"]["v"][0]["dn"], 1);
    assert_eq!(v["dcc"]["v"][0]["sd"], 2);
    assert_eq!(v["dcc"]["v"][0]["dt"], "2021-07-01");
    let (_, trust) = app.get("/api/v1/dcc/trust-list").await;
    assert_eq!(trust["certificates"][0]["kid"], cert["kid"]);
    for (text, layer) in [
        ("nope", "UNPREFIX"),
        ("HC1:%%%", "B45DECODE"),
        ("HC1:6BFOXN*TS0BI$ZD8UH", "COMPRESSION"),
    ] {
        let (s, v) = app
            .post("/api/v1/dcc/verify", &json!({ "hc1": text }))
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            (v["valid"].clone(), v["layer"].clone()),
            (json!(false), json!(layer)),
            "{text}: {v}"
        );
    }
    // The same certificate as a QR picture reads back and verifies.
    let cert_path = format!("/api/v1/persons/{person}/certificate");
    let (s, ct, png) = app
        .post_for_bytes(&format!("{cert_path}?format=png"), &json!({}))
        .await;
    assert_eq!((s, ct.as_str()), (201, "image/png"));
    let (s, v) = app
        .post_raw("/api/v1/dcc/verify-image", "image/png", png.clone())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["dcc"]["v"][0]["ci"], cert["uvci"]);
    let (s, ct, svg) = app
        .post_for_bytes(&format!("{cert_path}?format=svg"), &json!({}))
        .await;
    assert_eq!((s, ct.as_str()), (201, "image/svg+xml"));
    assert!(String::from_utf8(svg).unwrap().starts_with("<?xml"));
    let (s, p) = app
        .post(&format!("{cert_path}?format=gif"), &json!({}))
        .await;
    assert_eq!(s, 400, "{p}");
    let (s, p) = app
        .post_raw("/api/v1/dcc/verify-image", "image/jpeg", png.clone())
        .await;
    assert_eq!(s, 415, "{p}");
    let (s, p) = app
        .post_raw(
            "/api/v1/dcc/verify-image",
            "image/png",
            png[..png.len() / 2].to_vec(),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "body");
    // Entering the dose in error revokes its certificate.
    let (_, list) = app.get("/api/v1/dcc/revocation-list").await;
    assert_eq!(list["hashes"], json!([]));
    let (s, c) = app
        .post(
            &format!(
                "/api/v1/doses/{}/entered-in-error",
                cert["dose_id"].as_str().unwrap()
            ),
            &json!({"id": new_id(), "reason": "wrong person", "author": "nurse"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, v) = app.post("/api/v1/dcc/verify", &json!({ "hc1": hc1 })).await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["valid"].clone(), v["layer"].clone()),
        (json!(false), json!("REVOCATION")),
        "{v}"
    );
    let (_, list) = app.get("/api/v1/dcc/revocation-list").await;
    let uvci_sha256 = vaxgrid_store::certificates::uvci_hash(cert["uvci"].as_str().unwrap());
    assert_eq!(list["hashes"], json!([uvci_sha256]));
    let (s, _) = app
        .post("/api/v1/dcc/verify", &json!({ "hc1": "x".repeat(9000) }))
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .post("/api/v1/dcc/verify", &json!({ "text": "HC1:" }))
        .await;
    assert_eq!(s, 422);
    app.cleanup().await;
}

async fn doses_csv_rows_are_each_all_or_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let person = app.person(21, "Phạm Thị Lan").await;
    let (d1, d2, bad, wrong) = (new_id(), new_id(), new_id(), new_id());
    let (correction, hist) = (new_id(), new_id());
    let csv = format!(
        "id,person_id,kind,corrects_id,product_code,lot_number,site_code,administered_on,reason,author\n\
         {d1},{person},administered,,AZ,AZ-1,S1,2021-07-01,,\n\
         {bad},{person},administered,,AZ,AZ-1,S1,2021-07-10,,\n\
         {wrong},{person},administered,,AZ,NO-SUCH-LOT,S1,2021-09-01,,\n\
         {d2},{person},,,AZ,AZ-1,S1,2021-09-01,,\n\
         {correction},{person},entered_in_error,{d2},,,,,duplicate entry,clerk\n\
         {},{person},given,,AZ,AZ-1,S1,2021-09-01,,\n\
         {hist},{person},historical,,PFIZER,,,2021-05-01,,\n",
        new_id()
    );
    let (s, report) = app
        .post_raw("/api/v1/doses/import", "text/csv", csv.clone().into_bytes())
        .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["created"], 4, "{report}");
    assert_eq!(report["refused"], 3, "{report}");
    let fields: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (2, "administered_on".to_string()),
            (3, "lot_number".to_string()),
            (6, "kind".to_string())
        ],
        "{report}"
    );
    let (_, h) = app.get(&format!("/api/v1/persons/{person}/doses")).await;
    // The reported dose of May comes first in the history: the July dose
    // is the second.
    assert_eq!(h["records"].as_array().unwrap().len(), 4, "{h}");
    assert_eq!(h["valid_doses"], 2, "{h}");
    // The same file again records nothing new.
    let (s, again) = app
        .post_raw("/api/v1/doses/import", "text/csv", csv.into_bytes())
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (again["created"].clone(), again["existing"].clone()),
        (json!(0), json!(4)),
        "{again}"
    );
    // A header the import cannot read is refused before any row.
    let (s, p) = app
        .post_raw(
            "/api/v1/doses/import",
            "text/csv",
            b"id,person,when\n".to_vec(),
        )
        .await;
    assert_eq!(s, 400, "{p}");
    assert_eq!(p["errors"][0]["field"], "person");
    app.cleanup().await;
}

/// `x-request-id` is echoed (or made when absent or unfit) and a problem
/// names it as its `instance`; other bodies are left as they are.
async fn every_answer_carries_a_request_id(backend: &str) {
    let app = TestApp::start(backend).await;
    let missing = format!("{}/api/v1/persons/{}", app.base, new_id());
    let ask = |id: Option<&str>| {
        let mut r = app.client.get(&missing);
        if let Some(id) = id {
            r = r.header("x-request-id", id);
        }
        r.send()
    };
    let answer = ask(None).await.unwrap();
    assert_eq!(answer.status(), 404);
    let made = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    let p: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(p["instance"], format!("urn:request:{made}"));
    assert_eq!(p["status"], 404, "the rest of the problem is kept: {p}");
    let answer = ask(Some("lb-7f3a.42")).await.unwrap();
    assert_eq!(answer.headers()["x-request-id"], "lb-7f3a.42");
    let p: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(p["instance"], "urn:request:lb-7f3a.42");
    // An id unfit for logs and URNs is replaced, not echoed.
    let answer = ask(Some("a\"b")).await.unwrap();
    let made = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    // A success: the header, and the body untouched.
    let ok = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(ok.headers().contains_key("x-request-id"));
    assert_eq!(ok.text().await.unwrap(), "ok");
    app.cleanup().await;
}

/// A handler that panics answers 500 problem+json with the request id, and
/// the server keeps answering. The panicking route exists only here, under
/// the application's own layers.
#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_lives() {
    use axum::routing::get;
    async fn boom() -> &'static str {
        panic!("a handler failed under test")
    }
    let router = vaxgrid_server::observe::layers(
        axum::Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer = client
            .get(format!("{base}/boom"))
            .header("x-request-id", "panic-1")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 500);
        assert_eq!(answer.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(p["type"], "/problems/internal", "{p}");
        assert_eq!(p["instance"], "urn:request:panic-1");
        let fine = client.get(format!("{base}/fine")).send().await.unwrap();
        assert_eq!(fine.status(), 200);
        assert_eq!(fine.text().await.unwrap(), "fine");
    }
}
