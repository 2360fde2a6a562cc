//! HL7 v2 and FHIR in and out over real HTTP (and MLLP over TCP), with the
//! shared sample files, on SQLite and PostgreSQL.

mod common;

use common::{on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    hl7_samples_are_acknowledged_and_recorded_once,
    refused_hl7_messages_change_nothing,
    hl7_batches_are_answered_message_by_message,
    mllp_listener_answers_each_frame,
    fhir_transaction_records_and_reads_back_as_sent,
);

fn shared(name: &str) -> String {
    let path = format!("{}/../../../shared/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sample(name: &str) -> String {
    shared(&format!("hl7v2/{name}"))
}

/// Every element of `sent` is in `read` with the same value (objects may
/// have more keys; arrays must match element by element).
fn contains(read: &serde_json::Value, sent: &serde_json::Value, path: &str) {
    match (read, sent) {
        (serde_json::Value::Object(r), serde_json::Value::Object(s)) => {
            for (k, v) in s {
                let got = r
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is missing in {read}"));
                contains(got, v, &format!("{path}.{k}"));
            }
        }
        (serde_json::Value::Array(r), serde_json::Value::Array(s)) => {
            assert_eq!(r.len(), s.len(), "{path}: {read} vs {sent}");
            for (i, (a, b)) in r.iter().zip(s).enumerate() {
                contains(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(read, sent, "{path}"),
    }
}

/// The lots and sites the sample messages name.
async fn seed_sample_catalogue(app: &TestApp) {
    for (product, lot, expiry) in [
        ("AZ", "ABV5678", "2021-12-31"),
        ("BIBP", "202107B15", "2022-06-01"),
        ("SINOVAC", "K202105A", "2022-01-01"),
        ("PFIZER", "FP1234", "2021-12-31"),
    ] {
        let (s, b) = app
            .post(
                "/api/v1/lots",
                &json!({"product_code": product, "lot_number": lot, "expiry": expiry, "doses": 1000}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    for (code, area) in [
        ("HALONG-CHC", "06658"),
        ("CAMPHA-HOSP", "06700"),
        ("SHANGLI-TOWNSHIP-01", "06700"),
    ] {
        let (s, b) = app
            .post(
                "/api/v1/sites",
                &json!({"code": code, "name": code, "kind": "hospital", "area_code": area, "stations": 2, "daily_capacity": 300}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
}

fn segment<'a>(ack: &'a str, id: &str) -> Vec<&'a str> {
    ack.split('\r').filter(|s| s.starts_with(id)).collect()
}

async fn person_by_id_number(app: &TestApp, number: &str) -> serde_json::Value {
    let (s, found) = app
        .get(&format!("/api/v1/persons?id_number={number}"))
        .await;
    assert_eq!(s, 200, "{found}");
    found["items"][0].clone()
}

async fn hl7_samples_are_acknowledged_and_recorded_once(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let post = |text: String| async {
        app.post_text("/hl7/v2", "x-application/hl7-v2+er7", text)
            .await
    };

    // A first dose: the person is registered (at the site's commune: the
    // address names only the city) and the dose recorded.
    let (s, ct, ack) = post(sample("vxu-vn-astrazeneca-dose1.hl7")).await;
    assert_eq!((s, ct.as_str()), (200, "x-application/hl7-v2+er7"), "{ack}");
    assert_eq!(segment(&ack, "MSA"), ["MSA|AA|QN-0001"], "{ack}");
    assert!(
        segment(&ack, "ERR")
            .iter()
            .any(|e| e.contains("PID^1^11") && e.contains("|W|")),
        "{ack}"
    );
    let duc = person_by_id_number(&app, "022080000123").await;
    assert_eq!(duc["full_name"], "Nguyễn Văn Đức");
    assert_eq!(duc["home_area"], "06658");
    let history = |id: String| {
        let app = &app;
        async move { app.get(&format!("/api/v1/persons/{id}/doses")).await.1 }
    };
    let h = history(duc["id"].as_str().unwrap().to_string()).await;
    assert_eq!(h["records"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["records"][0]["lot_number"], "ABV5678");
    assert_eq!(h["records"][0]["site_code"], "HALONG-CHC");
    assert_eq!(h["records"][0]["administered_on"], "2021-07-15");

    // Sent again: acknowledged, nothing recorded twice.
    let (s, _, ack) = post(sample("vxu-vn-astrazeneca-dose1.hl7")).await;
    assert_eq!(s, 200, "{ack}");
    // A dose given earlier elsewhere, reported from a card (no lot).
    let (s, _, ack) = post(sample("vxu-historical-record.hl7")).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(segment(&ack, "MSA"), ["MSA|AA|QN-0003"]);
    let h = history(duc["id"].as_str().unwrap().to_string()).await;
    let records = h["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{h}");
    assert_eq!(h["valid_doses"], 2);
    assert!(
        records.iter().any(|r| r["kind"] == "historical"
            && r["product_code"] == "PFIZER"
            && r["administered_on"] == "2021-03-01"),
        "{h}"
    );

    // Another person and a Chinese resident, each at their site.
    for (file, control, number) in [
        ("vxu-vn-sinopharm-dose2.hl7", "QN-0002", "022185000456"),
        ("vxu-cn-sinovac.hl7", "SL-0001", "11010519491231002X"),
    ] {
        let (s, _, ack) = post(sample(file)).await;
        assert_eq!(s, 200, "{file}: {ack}");
        assert_eq!(segment(&ack, "MSA"), [format!("MSA|AA|{control}").as_str()]);
        let p = person_by_id_number(&app, number).await;
        let h = history(p["id"].as_str().unwrap().to_string()).await;
        assert_eq!(h["valid_doses"], 1, "{file}: {h}");
    }

    // CVX names each formulation: a Pfizer-BioNTech dose sent under the
    // tris-sucrose code 217 (not the catalogue's 208) is that product.
    let pfizer = sample("vxu-vn-astrazeneca-dose1.hl7")
        .replace("QN-IZ-0001", "QN-IZ-0017")
        .replace("QN-0001", "QN-0017")
        .replace("022080000123", "022080000777")
        .replace(
            "210^COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL^CVX",
            "217^COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose, tris-sucrose^CVX",
        )
        .replace("ABV5678", "FP1234")
        .replace("ASZ^AstraZeneca^MVX", "PFR^Pfizer^MVX");
    let (s, _, ack) = post(pfizer).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(segment(&ack, "MSA"), ["MSA|AA|QN-0017"], "{ack}");
    let p = person_by_id_number(&app, "022080000777").await;
    let h = history(p["id"].as_str().unwrap().to_string()).await;
    assert_eq!(h["records"][0]["product_code"], "PFIZER", "{h}");
    assert_eq!(h["records"][0]["lot_number"], "FP1234", "{h}");

    // Published messages outside the campaign (Hib, a deferral, CVX 24):
    // acknowledged with a warning, nothing stored, nobody registered.
    for file in [
        "external/lfh-ri-hib-new.hl7",
        "external/cdc-cvrs-z22-covid-deferral.hl7",
        "external/cdc-cvrs-z22-covid-new-vaccine.hl7",
    ] {
        let (s, _, ack) = post(sample(file)).await;
        assert_eq!(s, 200, "{file}: {ack}");
        assert!(
            segment(&ack, "MSA")[0].starts_with("MSA|AA|"),
            "{file}: {ack}"
        );
        assert!(
            segment(&ack, "ERR").iter().all(|e| e.contains("|W|")),
            "{file}: {ack}"
        );
    }

    // Refused: an impossible date, a message without RXA, not HL7 at all.
    let (s, _, ack) = post(sample("vxu-invalid-date.hl7")).await;
    assert_eq!(s, 422, "{ack}");
    assert_eq!(segment(&ack, "MSA"), ["MSA|AE|QN-BAD2"], "{ack}");
    assert!(
        segment(&ack, "ERR")
            .iter()
            .any(|e| e.contains("RXA^1^3") && e.contains("|E|")),
        "{ack}"
    );
    let (s, _, ack) = post(sample("vxu-invalid-no-rxa.hl7")).await;
    assert_eq!(s, 422, "{ack}");
    assert!(
        segment(&ack, "ERR").iter().any(|e| e.contains("RXA")),
        "{ack}"
    );
    let (s, _, ack) = post("hello".to_string()).await;
    assert_eq!(s, 400, "{ack}");
    assert!(segment(&ack, "MSA")[0].starts_with("MSA|AR|"), "{ack}");
    let (s, _, ack) = app
        .post_text(
            "/hl7/v2",
            "x-application/hl7-v2+er7",
            vec![0xff, 0xfe, 0x00],
        )
        .await;
    assert_eq!(s, 400, "{ack}");
    // A dose the rules refuse names its field: a lot that does not exist.
    let bad_lot = sample("vxu-vn-astrazeneca-dose1.hl7")
        .replace("QN-IZ-0001", "QN-IZ-0009")
        .replace("QN-0001", "QN-0009")
        .replace("ABV5678", "NO-SUCH-LOT")
        .replace("20210715100000", "20210901100000");
    let (s, _, ack) = post(bad_lot).await;
    assert_eq!(s, 422, "{ack}");
    assert!(
        segment(&ack, "ERR").iter().any(|e| e.contains("RXA^1^15")),
        "{ack}"
    );
    app.cleanup().await;
}

async fn mllp_listener_answers_each_frame(backend: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vaxgrid_server::hl7::serve_mllp(app.state.clone(), listener));
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    // One good message split across writes, then a frame that is not UTF-8.
    let frame = vaxgrid_interop::hl7v2::mllp::frame(&sample("vxu-vn-astrazeneca-dose1.hl7"));
    let (a, b) = frame.split_at(frame.len() / 2);
    socket.write_all(a).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    socket.write_all(b).await.unwrap();
    socket
        .write_all(&[0x0b, 0xff, 0xfe, 0x1c, 0x0d])
        .await
        .unwrap();
    let mut replies = Vec::new();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while replies.len() < 2 {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut buf))
            .await
            .expect("an ACK within 10 s")
            .unwrap();
        assert!(n > 0, "the listener closed the connection");
        received.extend_from_slice(&buf[..n]);
        while let Some(end) = received.windows(2).position(|w| w == [0x1c, 0x0d]) {
            let framed: Vec<u8> = received.drain(..end + 2).collect();
            assert_eq!(framed[0], 0x0b);
            replies.push(String::from_utf8(framed[1..framed.len() - 2].to_vec()).unwrap());
        }
    }
    assert_eq!(
        segment(&replies[0], "MSA"),
        ["MSA|AA|QN-0001"],
        "{}",
        replies[0]
    );
    assert!(
        segment(&replies[1], "MSA")[0].starts_with("MSA|AR|"),
        "{}",
        replies[1]
    );
    let duc = person_by_id_number(&app, "022080000123").await;
    assert_eq!(duc["full_name"], "Nguyễn Văn Đức");
    app.cleanup().await;
}

async fn fhir_transaction_records_and_reads_back_as_sent(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let (s, meta) = app.get("/fhir/metadata").await;
    assert_eq!(s, 200);
    assert_eq!(meta["fhirVersion"], "4.0.1");
    let fhir_post = |path: &'static str, body: String| {
        let app = &app;
        async move {
            let (s, ct, text) = app.post_text(path, "application/fhir+json", body).await;
            assert_eq!(ct, "application/fhir+json", "{text}");
            (s, serde_json::from_str::<serde_json::Value>(&text).unwrap())
        }
    };
    let bundle = shared("fhir/bundle-transaction.json");
    let sent: serde_json::Value = serde_json::from_str(&bundle).unwrap();

    // A lot that does not exist: refused before anything is written.
    let (s, oo) = fhir_post(
        "/fhir?site=HALONG-CHC",
        bundle.replace("ABV5678", "NO-SUCH"),
    )
    .await;
    assert_eq!(s, 422, "{oo}");
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(
        oo["issue"][0]["expression"][0], "Bundle.entry[1].resource.lotNumber",
        "{oo}"
    );
    let (_, none) = app.get("/api/v1/persons?id_number=022080000123").await;
    assert_eq!(none["items"], json!([]), "nothing was written");

    let (s, response) = fhir_post("/fhir?site=HALONG-CHC", bundle.clone()).await;
    assert_eq!(s, 200, "{response}");
    assert_eq!(response["type"], "transaction-response");
    assert_eq!(
        response["entry"][0]["response"]["status"], "201 Created",
        "{response}"
    );
    assert_eq!(
        response["entry"][1]["response"]["status"], "201 Created",
        "{response}"
    );
    // The address names only the city: registered at the site's commune, with a warning.
    assert_eq!(
        response["entry"][0]["response"]["outcome"]["issue"][0]["severity"],
        "warning"
    );
    let location = response["entry"][0]["response"]["location"]
        .as_str()
        .unwrap();
    let patient_id = location.split('/').nth(1).unwrap().to_string();

    // Read back: every element sent is there, as sent.
    let (s, patient) = app.get(&format!("/fhir/Patient/{patient_id}")).await;
    assert_eq!(s, 200, "{patient}");
    contains(&patient, &sent["entry"][0]["resource"], "Patient");
    let (s, found) = app
        .get(&format!("/fhir/Immunization?patient=Patient/{patient_id}"))
        .await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    let immunization = &found["entry"][0]["resource"];
    let mut expected = sent["entry"][1]["resource"].clone();
    expected.as_object_mut().unwrap().remove("patient");
    contains(immunization, &expected, "Immunization");
    assert_eq!(
        immunization["patient"]["reference"],
        format!("Patient/{patient_id}")
    );
    let (s, one) = app
        .get(&format!(
            "/fhir/Immunization/{}",
            immunization["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((s, &one["id"]), (200, &immunization["id"]));

    // Sent again: the same records, nothing new.
    let (s, again) = fhir_post("/fhir?site=HALONG-CHC", bundle.clone()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["entry"][1]["response"]["status"], "200 OK", "{again}");
    let (_, h) = app
        .get(&format!("/api/v1/persons/{patient_id}/doses"))
        .await;
    assert_eq!(h["records"].as_array().unwrap().len(), 1, "{h}");

    // The invalid Immunization, in a Bundle: each bad element named.
    let invalid: serde_json::Value =
        serde_json::from_str(&shared("fhir/immunization-invalid.json")).unwrap();
    let wrapped = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": invalid, "request": {"method": "POST", "url": "Immunization"}}]});
    let (s, oo) = fhir_post("/fhir", wrapped.to_string()).await;
    assert_eq!(s, 400, "{oo}");
    let expressions: Vec<String> = oo["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expression"][0].as_str().unwrap_or("").to_string())
        .collect();
    assert!(expressions.iter().any(|e| e.ends_with(".status")), "{oo}");
    assert!(expressions.iter().any(|e| e.contains("occurrence")), "{oo}");
    let (s, oo) = fhir_post("/fhir", "{not json".into()).await;
    assert_eq!(s, 400, "{oo}");
    let (s, oo) = fhir_post("/fhir", shared("fhir/patient-vn.json")).await;
    assert_eq!(s, 400, "a Patient is not a Bundle: {oo}");
    let (s, _, text) = app.post_text("/fhir", "application/fhir+json", "{}").await;
    assert_eq!(s, 400, "{text}");
    for (path, status) in [
        ("/fhir/Patient/nope".to_string(), 404),
        (format!("/fhir/Patient/{}", uuid::Uuid::now_v7()), 404),
        ("/fhir/Immunization".to_string(), 400),
        ("/fhir/Immunization?patient=xyz".to_string(), 400),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}");
    }
    app.cleanup().await;
}

/// Rows a message may change: persons, doses, audit entries.
async fn row_counts(app: &TestApp) -> (i64, i64, u64) {
    let store = &app.state.store;
    (
        store.count_persons().await.unwrap(),
        store.count_doses().await.unwrap(),
        store.verify_audit().await.unwrap().0,
    )
}

/// A partner's first dose for a person the registry does not know yet.
fn new_person_message(control: &str) -> String {
    sample("vxu-vn-astrazeneca-dose1.hl7")
        .replace("QN-IZ-0001", &format!("{control}-IZ"))
        .replace("QN-0001", control)
        .replace("022080000123", "022080000999")
}

/// The same message with a second RXA group (order `order`, on `date`).
fn with_second_dose(text: &str, order: &str, date: &str, lot: &str) -> String {
    let rxa = text
        .split('\r')
        .find(|s| s.starts_with("RXA|"))
        .unwrap()
        .replace("20210715100000", date)
        .replace("ABV5678", lot);
    format!(
        "{}\rORC|RE||{order}^HALONG-CHC\r{rxa}",
        text.trim_end_matches('\r')
    )
}

/// Every message answered AE or AR changes nothing: not the person, not a
/// dose of the same message, not the audit log. Each error names its field.
async fn refused_hl7_messages_change_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let base = new_person_message("P-1");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown lot",
            base.replace("ABV5678", "NO-SUCH-LOT"),
            "RXA^1^15",
        ),
        (
            "no birth date",
            base.replace("||19800101|M|", "|||M|"),
            "PID^1^7",
        ),
        (
            "birth date in the future",
            base.replace("||19800101|M|", "||20990101|M|"),
            "PID^1^7",
        ),
        (
            "administered in the future",
            base.replace("20210715100000", "20990715100000"),
            "RXA^1^3",
        ),
        (
            "administered before birth",
            base.replace("20210715100000", "19790715100000"),
            "RXA^1^3",
        ),
        (
            "not a CVX code",
            base.replace(
                "210^COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL^CVX",
                "XXX^Unknown^CVX",
            ),
            "RXA^1^5",
        ),
        // The site places the person (the address names no commune): the
        // error is where the site was named, not on the patient.
        (
            "unknown site",
            base.replace("|^^^HALONG-CHC|", "|^^^NO-SUCH-SITE|"),
            "RXA^1^11",
        ),
        // The second dose is refused: the first is not recorded either,
        // and the person is not registered.
        (
            "second dose with an unknown lot",
            with_second_dose(&base, "P-1-IZ2", "20210901100000", "NO-SUCH-LOT"),
            "RXA^2^15",
        ),
        (
            "second dose too soon after the first",
            with_second_dose(&base, "P-1-IZ2", "20210720100000", "ABV5678"),
            "RXA^2^",
        ),
    ];
    let before = row_counts(&app).await;
    for (what, text, location) in &cases {
        let (s, _, ack) = app
            .post_text("/hl7/v2", "x-application/hl7-v2+er7", text.clone())
            .await;
        assert_eq!(s, 422, "{what}: {ack}");
        assert_eq!(segment(&ack, "MSA"), ["MSA|AE|P-1"], "{what}: {ack}");
        assert!(
            segment(&ack, "ERR")
                .iter()
                .any(|e| e.contains(&format!("|{location}")) && e.contains("|E|")),
            "{what}: {ack}"
        );
        assert_eq!(row_counts(&app).await, before, "{what}: {ack}");
    }
    let (_, none) = app.get("/api/v1/persons?id_number=022080000999").await;
    assert_eq!(none["items"], json!([]));

    // The same message without its fault is taken whole.
    let good = with_second_dose(&base, "P-1-IZ2", "20210901100000", "ABV5678");
    let (s, _, ack) = app
        .post_text("/hl7/v2", "x-application/hl7-v2+er7", good)
        .await;
    assert_eq!(s, 200, "{ack}");
    let after = row_counts(&app).await;
    assert_eq!((after.0, after.1), (before.0 + 1, before.1 + 2), "{ack}");

    // Property: whatever mix of faults a message has, an AE/AR answer
    // leaves every row count as it was.
    use proptest::strategy::{Strategy, ValueTree};
    let faults: Vec<(&str, &str)> = vec![
        ("ABV5678", "NO-SUCH-LOT"),
        ("||19800101|M|", "|||M|"),
        ("||19800101|M|", "||20990101|M|"),
        ("20210715100000", "20990715100000"),
        ("|^^^HALONG-CHC|", "|^^^NO-SUCH-SITE|"),
        ("^CVX|0.5|", "^XYZ|0.5|"),
        ("|CP|A", "|XX|A"),
        ("Nguyễn^Văn Đức", ""),
        ("|2.5.1|", "|2.3|"),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (
        proptest::collection::vec(0..faults.len(), 1..4),
        any_second_dose(),
    );
    let mut seen_refused = 0;
    for case in 0..24 {
        let (picked, second) = strategy.new_tree(&mut runner).unwrap().current();
        let control = format!("PR-{case}");
        let mut text = sample("vxu-vn-astrazeneca-dose1.hl7")
            .replace("QN-IZ-0001", &format!("{control}-IZ"))
            .replace("QN-0001", &control)
            .replace("022080000123", &format!("0220800{:05}", 100 + case));
        if let Some((date, lot)) = &second {
            text = with_second_dose(&text, &format!("{control}-IZ2"), date, lot);
        }
        for i in &picked {
            let (from, to) = faults[*i];
            text = text.replacen(from, to, 1);
        }
        let before = row_counts(&app).await;
        let (s, _, ack) = app
            .post_text("/hl7/v2", "x-application/hl7-v2+er7", text)
            .await;
        let msa = segment(&ack, "MSA")[0].to_string();
        if msa.starts_with("MSA|AE|") || msa.starts_with("MSA|AR|") {
            seen_refused += 1;
            assert!(s == 422 || s == 400, "{ack}");
            assert_eq!(
                row_counts(&app).await,
                before,
                "{picked:?} {second:?}: {ack}"
            );
        } else {
            assert_eq!(s, 200, "{ack}");
        }
    }
    assert!(
        seen_refused > 12,
        "the faults must be refused: {seen_refused}"
    );
    app.cleanup().await;
}

/// No second dose, or one on a date and lot that may break a rule.
fn any_second_dose() -> impl proptest::strategy::Strategy<Value = Option<(String, String)>> {
    use proptest::prelude::*;
    proptest::option::of((
        prop::sample::select(vec!["20210720100000", "20210901100000", "20991231"]),
        prop::sample::select(vec!["ABV5678", "NO-SUCH-LOT"]),
    ))
    .prop_map(|o| o.map(|(d, l)| (d.to_string(), l.to_string())))
}

/// A state-registry batch file over HTTP: each message is taken or refused
/// on its own, and the answer is an ACK batch with one ACK per message.
async fn hl7_batches_are_answered_message_by_message(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let good = new_person_message("B-1");
    let bad = new_person_message("B-2")
        .replace("022080000999", "022080000998")
        .replace("ABV5678", "NO-SUCH-LOT");
    let other = sample("vxu-vn-sinopharm-dose2.hl7");
    let batch = format!(
        "FHS|^~\\&|HIS-HALONG|HALONG-CHC|VAXGRID|QN-CDC|20210901||||FILE-7\r\n\
         BHS|^~\\&|HIS-HALONG|HALONG-CHC|VAXGRID|QN-CDC|20210901||||BATCH-7\r\n\
         {}\r\n{}\r\n{}\r\nBTS|3\r\nFTS|1\r\n",
        good.trim_end().replace('\r', "\r\n"),
        bad.trim_end().replace('\r', "\r\n"),
        other.trim_end().replace('\r', "\r\n"),
    );
    let before = row_counts(&app).await;
    let (s, ct, reply) = app
        .post_text("/hl7/v2", "x-application/hl7-v2+er7", batch.clone())
        .await;
    assert_eq!(
        (s, ct.as_str()),
        (200, "x-application/hl7-v2+er7"),
        "{reply}"
    );
    let lines: Vec<&str> = reply.split('\r').filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("FHS|^~\\&|VAXGRID|QN-CDC|HIS-HALONG|HALONG-CHC|")
            && lines[0].ends_with("|FILE-7"),
        "{reply}"
    );
    assert!(
        lines[1].starts_with("BHS|") && lines[1].ends_with("|BATCH-7"),
        "{reply}"
    );
    assert_eq!(lines[lines.len() - 2..], ["BTS|3", "FTS|1"], "{reply}");
    assert_eq!(
        segment(&reply, "MSA"),
        ["MSA|AA|B-1", "MSA|AE|B-2", "MSA|AA|QN-0002"],
        "{reply}"
    );
    assert_eq!(segment(&reply, "MSH").len(), 3, "{reply}");
    assert!(
        segment(&reply, "ERR")
            .iter()
            .any(|e| e.contains("|RXA^1^15") && e.contains("|E|")),
        "{reply}"
    );
    // Two persons and their doses; nothing of the refused message.
    let after = row_counts(&app).await;
    assert_eq!((after.0, after.1), (before.0 + 2, before.1 + 2), "{reply}");
    let (_, none) = app.get("/api/v1/persons?id_number=022080000998").await;
    assert_eq!(none["items"], json!([]));

    // The same file again records nothing twice.
    let (s, reply) = {
        let (s, _, r) = app
            .post_text("/hl7/v2", "x-application/hl7-v2+er7", batch)
            .await;
        (s, r)
    };
    assert_eq!(s, 200, "{reply}");
    let again = row_counts(&app).await;
    assert_eq!((again.0, again.1), (after.0, after.1), "{reply}");

    // A batch without a message is refused whole.
    let (s, _, reply) = app
        .post_text(
            "/hl7/v2",
            "x-application/hl7-v2+er7",
            "BHS|^~\\&|A|B\rBTS|0".to_string(),
        )
        .await;
    assert_eq!(s, 400, "{reply}");
    assert!(segment(&reply, "MSA")[0].starts_with("MSA|AR|"), "{reply}");
    app.cleanup().await;
}
