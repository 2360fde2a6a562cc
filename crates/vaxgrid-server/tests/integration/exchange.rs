//! HL7 v2 and FHIR in and out over real HTTP (and MLLP over TCP), with the
//! shared sample files, on SQLite and PostgreSQL.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::json;

on_both_backends!(
    hl7_samples_are_acknowledged_and_recorded_once,
    refused_hl7_messages_change_nothing,
    hl7_batches_are_answered_message_by_message,
    vaccines_outside_the_catalogue_are_kept_as_history,
    fhir_bundles_are_written_whole,
    fhir_single_immunization_and_area_export,
    hl7_queries_answer_history_and_forecast,
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
    // a known vaccine would be kept as history, but these persons live
    // and were vaccinated where no area or site of this registry is:
    // acknowledged with a warning, nothing stored, nobody registered.
    let before = row_counts(&app).await;
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
    let after = row_counts(&app).await;
    assert_eq!((after.0, after.1, after.3), (before.0, before.1, before.3));

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
    // Then a history query about the person the first message registered.
    socket
        .write_all(&vaxgrid_interop::hl7v2::mllp::frame(&query(
            "Z34^Request Immunization History",
            "022080000123^^^VNM^NI",
            "19800101",
        )))
        .await
        .unwrap();
    let mut replies = Vec::new();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while replies.len() < 3 {
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
    assert_eq!(
        segment(&replies[2], "MSA"),
        ["MSA|AA|Q-1"],
        "{}",
        replies[2]
    );
    assert_eq!(segment(&replies[2], "RXA").len(), 1, "{}", replies[2]);
    let duc = person_by_id_number(&app, "022080000123").await;
    assert_eq!(duc["full_name"], "Nguyễn Văn Đức");
    app.cleanup().await;
}

/// A QBP^Q11 query (Z34 history or Z44 forecast) naming the person by
/// `pid3` (may be empty) and date of birth.
fn query(name: &str, pid3: &str, born: &str) -> String {
    format!(
        "MSH|^~\\&|MYEHR|HALONG-CHC|VAXGRID|QN-CDC|20211020101500+0700||QBP^Q11^QBP_Q11|Q-1|P|2.5.1|||ER|AL|||||{}^CDCPHINVS\r\
         QPD|{name}^CDCPHINVS|TAG-1|{pid3}|Nguyễn^Văn Đức^^^^^L||{born}|M\r\
         RCP|I|1^RD&Records&HL70126|R",
        &name[..3]
    )
}

/// QBP^Q11 / RSP^K11: a partner asks for a person's history (Z34) or
/// history and forecast (Z44); the answer carries the doses of the
/// campaign and the vaccinations kept as history, then (Z44) the dose due
/// next. Nobody, or a date of birth that is not the person's, is NF; a
/// query without its tag is AE naming QPD-2; nothing is written.
async fn hl7_queries_answer_history_and_forecast(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let post = |text: String| async {
        app.post_text("/hl7/v2", "x-application/hl7-v2+er7", text)
            .await
    };
    let (s, _, ack) = post(with_other_vaccine(
        &new_person_message("Q-0"),
        "Q-0-MMR",
        "03",
        "19810601",
    ))
    .await;
    assert_eq!(s, 200, "{ack}");
    let before = row_counts(&app).await;

    let (s, _, rsp) = post(query(
        "Z34^Request Immunization History",
        "022080000999^^^VNM^NI",
        "19800101",
    ))
    .await;
    assert_eq!(s, 200, "{rsp}");
    assert!(
        segment(&rsp, "MSH")[0].contains("|RSP^K11^RSP_K11|"),
        "{rsp}"
    );
    assert!(segment(&rsp, "MSH")[0].ends_with("|Z32^CDCPHINVS"), "{rsp}");
    assert_eq!(segment(&rsp, "MSA"), ["MSA|AA|Q-1"], "{rsp}");
    assert_eq!(
        segment(&rsp, "QAK"),
        ["QAK|TAG-1|OK|Z34^Request Immunization History^CDCPHINVS"],
        "{rsp}"
    );
    assert!(
        segment(&rsp, "PID")[0].contains("022080000999^^^VNM^NI"),
        "{rsp}"
    );
    let rxa = segment(&rsp, "RXA");
    assert_eq!(rxa.len(), 2, "{rsp}");
    assert!(rxa[0].contains("|19810601||03^"), "{rsp}");
    assert!(rxa[1].contains("|20210715||210^"), "{rsp}");
    assert!(rxa[1].contains("|^^^HALONG-CHC|"), "{rsp}");

    // Z44: the same, then the dose due next.
    let (s, _, rsp) = post(query(
        "Z44^Request Evaluated History and Forecast",
        "022080000999^^^VNM^NI",
        "19800101",
    ))
    .await;
    assert_eq!(s, 200, "{rsp}");
    assert!(segment(&rsp, "MSH")[0].ends_with("|Z42^CDCPHINVS"), "{rsp}");
    assert!(
        segment(&rsp, "OBX")
            .iter()
            .any(|o| o.contains("30979-9^Vaccines due next^LN") && o.contains("|210^")),
        "{rsp}"
    );
    assert!(
        segment(&rsp, "OBX").iter().any(|o| o.contains("30980-7")),
        "{rsp}"
    );

    // By name and date of birth alone.
    let (s, _, rsp) = post(query("Z34^Request Immunization History", "", "19800101")).await;
    assert_eq!(s, 200, "{rsp}");
    assert!(segment(&rsp, "QAK")[0].contains("|OK|"), "{rsp}");
    // A date of birth that is not theirs, or nobody: NF, and no PID.
    for (pid3, born) in [
        ("022080000999^^^VNM^NI", "19810101"),
        ("022080000555^^^VNM^NI", "19800101"),
        ("NO-SUCH^^^BV-HALONG^MR", ""),
    ] {
        let (s, _, rsp) = post(query("Z34^Request Immunization History", pid3, born)).await;
        assert_eq!(s, 200, "{rsp}");
        assert!(segment(&rsp, "QAK")[0].contains("|NF|"), "{pid3}: {rsp}");
        assert!(segment(&rsp, "PID").is_empty(), "{rsp}");
    }
    // No query tag: AE at QPD-2.
    let (s, _, rsp) =
        post(query("Z34^Request Immunization History", "", "19800101").replace("|TAG-1|", "||"))
            .await;
    assert_eq!(s, 422, "{rsp}");
    assert!(segment(&rsp, "MSA")[0].starts_with("MSA|AE|"), "{rsp}");
    assert!(
        segment(&rsp, "ERR").iter().any(|e| e.contains("|QPD^1^2|")),
        "{rsp}"
    );
    let after = row_counts(&app).await;
    assert_eq!((after.0, after.1, after.3), (before.0, before.1, before.3));
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

/// Rows a message may change: persons, doses, audit entries, history
/// records.
async fn row_counts(app: &TestApp) -> (i64, i64, u64, i64) {
    let store = &app.state.store;
    (
        store.count_persons().await.unwrap(),
        store.count_doses().await.unwrap(),
        store.verify_audit().await.unwrap().0,
        store.count_other_vaccinations().await.unwrap(),
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

/// The same message with an RXA group of another vaccine, given elsewhere
/// long ago (a historical record, RXA-9 01).
fn with_other_vaccine(text: &str, order: &str, cvx: &str, date: &str) -> String {
    format!(
        "{}\rORC|RE||{order}^HALONG-CHC\rRXA|0|1|{date}||{cvx}^Other vaccine^CVX|999|||01^Historical information - source unspecified^NIP001|||||||||||CP|A",
        text.trim_end_matches('\r')
    )
}

/// A partner's full record comes through: a vaccination with a known
/// vaccine outside the campaign is kept as history (its CVX code and
/// date), counted nowhere; sent again it is kept once; RXA-21 D withdraws
/// it. A code that names no vaccine is an error at RXA-5 and changes
/// nothing.
async fn vaccines_outside_the_catalogue_are_kept_as_history(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let post = |text: String| async {
        app.post_text("/hl7/v2", "x-application/hl7-v2+er7", text)
            .await
    };
    let base = new_person_message("H-1");

    // CVX 124 is in no table; 998 and 999 name no vaccine.
    let before = row_counts(&app).await;
    for cvx in ["124", "999", "998"] {
        let (s, _, ack) = post(with_other_vaccine(&base, "H-1-X", cvx, "19810601")).await;
        assert_eq!(s, 422, "{cvx}: {ack}");
        assert!(
            segment(&ack, "ERR")
                .iter()
                .any(|e| e.contains("|RXA^2^5") && e.contains("|E|")),
            "{cvx}: {ack}"
        );
        assert_eq!(row_counts(&app).await, before, "{cvx}: {ack}");
    }

    // MMR (CVX 03) beside the campaign's dose: both kept, the MMR as
    // history with a warning saying so.
    let text = with_other_vaccine(&base, "H-1-MMR", "03", "19810601");
    let (s, _, ack) = post(text.clone()).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(segment(&ack, "MSA"), ["MSA|AA|H-1"], "{ack}");
    assert!(
        segment(&ack, "ERR")
            .iter()
            .any(|e| e.contains("|RXA^2^5") && e.contains("|W|") && e.contains("history")),
        "{ack}"
    );
    let after = row_counts(&app).await;
    assert_eq!(
        (after.0, after.1, after.3),
        (before.0 + 1, before.1 + 1, before.3 + 1),
        "one person, one dose, one history record: {ack}"
    );
    let person = person_by_id_number(&app, "022080000999").await;
    let id = person["id"].as_str().unwrap();
    let kept = app.state.store.other_vaccinations_of(id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].cvx.as_str(), kept[0].administered_on.as_str()),
        ("03", "1981-06-01")
    );
    // Counted nowhere: the person's dose history is the campaign's dose.
    let (_, h) = app.get(&format!("/api/v1/persons/{id}/doses")).await;
    assert_eq!(h["records"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["records"][0]["product_code"], "AZ", "{h}");

    // Sent again: nothing new.
    let (s, _, ack) = post(text.clone()).await;
    assert_eq!(s, 200, "{ack}");
    let again = row_counts(&app).await;
    assert_eq!((again.0, again.1, again.3), (after.0, after.1, after.3));

    // A message about other vaccines only registers the person too (the
    // partner's record comes through), and counts nothing.
    let only = sample("vxu-vn-astrazeneca-dose1.hl7")
        .replace("QN-IZ-0001", "H-2-IZ")
        .replace("QN-0001", "H-2")
        .replace("022080000123", "022080000998")
        .replace(
            "210^COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL^CVX",
            "21^varicella^CVX",
        );
    let (s, _, ack) = post(only).await;
    assert_eq!(s, 200, "{ack}");
    let third = row_counts(&app).await;
    assert_eq!(
        (third.0, third.1, third.3),
        (again.0 + 1, again.1, again.3 + 1),
        "{ack}"
    );

    // RXA-21 D withdraws the history record the sender sent.
    let withdrawn = text.replace("|||||||||||CP|A", "|||||||||||CP|D");
    let (s, _, ack) = post(withdrawn).await;
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        app.state.store.other_vaccinations_of(id).await.unwrap(),
        vec![]
    );
    app.cleanup().await;
}

/// A Bundle is written whole: when the dose writer refuses one of its
/// Immunizations (a rule only the stored and earlier doses can tell), its
/// Patient and other Immunizations are not written either. A known vaccine
/// outside the catalogue is kept as history, counted nowhere.
async fn fhir_bundles_are_written_whole(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let bundle: serde_json::Value =
        serde_json::from_str(&shared("fhir/bundle-transaction.json")).unwrap();
    let post = |b: serde_json::Value| {
        let app = &app;
        async move {
            let (s, _, text) = app
                .post_text(
                    "/fhir?site=HALONG-CHC",
                    "application/fhir+json",
                    b.to_string(),
                )
                .await;
            (s, serde_json::from_str::<serde_json::Value>(&text).unwrap())
        }
    };
    // The same dose twice, under two entries: the second is too soon.
    let mut twice = bundle.clone();
    let mut again = twice["entry"][1].clone();
    again["fullUrl"] = json!("urn:uuid:0b3c8d4e-2f5a-4a5e-8d7c-000000000002");
    twice["entry"].as_array_mut().unwrap().push(again);
    let before = row_counts(&app).await;
    let (s, oo) = post(twice).await;
    assert_eq!(s, 422, "{oo}");
    assert!(
        oo["issue"][0]["expression"][0]
            .as_str()
            .unwrap()
            .starts_with("Bundle.entry[2]"),
        "{oo}"
    );
    assert_eq!(row_counts(&app).await, before, "nothing written: {oo}");

    // A measles-mumps-rubella dose beside it: kept as history.
    let mut with_mmr = bundle.clone();
    let mut mmr = with_mmr["entry"][1].clone();
    mmr["fullUrl"] = json!("urn:uuid:0b3c8d4e-2f5a-4a5e-8d7c-000000000003");
    mmr["resource"]["vaccineCode"] = json!({"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03", "display": "MMR"}]});
    mmr["resource"]["occurrenceDateTime"] = json!("1981-06-01");
    mmr["resource"]["primarySource"] = json!(false);
    with_mmr["entry"].as_array_mut().unwrap().push(mmr);
    let (s, response) = post(with_mmr.clone()).await;
    assert_eq!(s, 200, "{response}");
    assert_eq!(
        response["entry"][2]["response"]["status"], "201 Created",
        "{response}"
    );
    let after = row_counts(&app).await;
    assert_eq!(
        (after.0, after.1, after.3),
        (before.0 + 1, before.1 + 1, before.3 + 1),
        "{response}"
    );
    // Sent again: nothing new.
    let (s, response) = post(with_mmr).await;
    assert_eq!(s, 200, "{response}");
    assert_eq!(
        response["entry"][2]["response"]["status"], "200 OK",
        "{response}"
    );
    let again = row_counts(&app).await;
    assert_eq!((again.0, again.1, again.3), (after.0, after.1, after.3));

    // A code that names no known vaccine is refused.
    let mut unknown = bundle.clone();
    unknown["entry"][1]["resource"]["vaccineCode"] =
        json!({"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "124"}]});
    let (s, oo) = post(unknown).await;
    assert_eq!(s, 422, "{oo}");
    assert_eq!(
        oo["issue"][0]["expression"][0], "Bundle.entry[1].resource.vaccineCode",
        "{oo}"
    );
    app.cleanup().await;
}

/// A GET answered as text: status, content type, body (checked against
/// the OpenAPI document like every answer).
async fn get_text(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    assert_ne!(status, 500);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let url = r.url().to_string();
    let text = r.text().await.expect("body");
    common::openapi::assert_conforms("GET", &url, status, &ct, text.as_bytes());
    (status, ct, text)
}

/// `POST /fhir/Immunization` records one Immunization of a registered
/// Patient with the transaction's rules; `GET /fhir/$export` gives an
/// area's Patients and Immunizations as NDJSON.
async fn fhir_single_immunization_and_area_export(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_sample_catalogue(&app).await;
    let (s, _, ack) = app
        .post_text(
            "/hl7/v2",
            "x-application/hl7-v2+er7",
            sample("vxu-vn-astrazeneca-dose1.hl7"),
        )
        .await;
    assert_eq!(s, 200, "{ack}");
    let person = person_by_id_number(&app, "022080000123").await;
    let id = person["id"].as_str().unwrap().to_string();
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            let (s, ct, text) = app
                .post_text(
                    "/fhir/Immunization",
                    "application/fhir+json",
                    body.to_string(),
                )
                .await;
            assert_eq!(ct, "application/fhir+json", "{text}");
            (s, serde_json::from_str::<serde_json::Value>(&text).unwrap())
        }
    };
    let mmr = json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
        "patient": {"reference": format!("Patient/{id}")},
        "occurrenceDateTime": "1981-06-01",
        "primarySource": false,
        "note": [{"text": "from the school record"}],
    });
    let before = row_counts(&app).await;
    let (s, created) = post(mmr.clone()).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["resourceType"], "Immunization");
    assert_eq!(created["vaccineCode"]["coding"][0]["code"], "03");
    assert_eq!(created["note"][0]["text"], "from the school record");
    let after = row_counts(&app).await;
    assert_eq!((after.1, after.3), (before.1, before.3 + 1));
    let (s, again) = post(mmr.clone()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], created["id"]);
    assert_eq!(row_counts(&app).await.3, after.3);

    // A second AZ dose far too soon: refused, the field named.
    let az = json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "210"}]},
        "patient": {"reference": format!("Patient/{id}")},
        "occurrenceDateTime": "2021-07-16",
        "primarySource": true,
        "lotNumber": "ABV5678",
        "location": {"reference": "Location/HALONG-CHC"},
    });
    let (s, oo) = post(az.clone()).await;
    assert_eq!(s, 422, "{oo}");
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(
        oo["issue"][0]["expression"][0]
            .as_str()
            .unwrap()
            .starts_with("Immunization"),
        "{oo}"
    );
    let mut unknown_lot = az.clone();
    unknown_lot["lotNumber"] = json!("NO-SUCH");
    unknown_lot["occurrenceDateTime"] = json!("2021-10-15");
    let (s, oo) = post(unknown_lot).await;
    assert_eq!(s, 422, "{oo}");
    assert_eq!(
        oo["issue"][0]["expression"][0], "Immunization.lotNumber",
        "{oo}"
    );
    let mut later = az.clone();
    later["occurrenceDateTime"] = json!("2021-10-15");
    let (s, dose) = post(later).await;
    assert_eq!(s, 201, "{dose}");
    let (s, oo) = post(json!({"resourceType": "Patient"})).await;
    assert_eq!(s, 400, "{oo}");
    let (s, oo) = post(
        json!({"resourceType": "Immunization", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
        "patient": {"reference": "Patient/00000000-0000-7000-8000-000000000000"},
        "occurrenceDateTime": "1981-06-01"}),
    )
    .await;
    assert_eq!(s, 422, "{oo}");
    assert_eq!(
        oo["issue"][0]["expression"][0], "Immunization.patient",
        "{oo}"
    );

    // The history record reads back, and the person's search lists it.
    let created_id = created["id"].as_str().unwrap();
    let (s, _, read) = get_text(&app, &format!("/fhir/Immunization/{created_id}")).await;
    assert_eq!(s, 200, "{read}");
    let (s, _, bundle) = get_text(&app, &format!("/fhir/Immunization?patient={id}")).await;
    assert_eq!(s, 200, "{bundle}");
    let bundle: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 3, "{bundle}");

    // The export of the commune: the Patient, then its three Immunizations.
    let (s, ct, ndjson) = get_text(&app, "/fhir/$export?area=06658").await;
    assert_eq!(s, 200, "{ndjson}");
    assert_eq!(ct, "application/fhir+ndjson");
    let lines: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["Patient", "Immunization", "Immunization", "Immunization"],
        "{ndjson}"
    );
    assert_eq!(lines[0]["id"], json!(id));
    for imm in &lines[1..] {
        assert_eq!(imm["patient"]["reference"], json!(format!("Patient/{id}")));
    }
    let (_, _, only) = get_text(&app, "/fhir/$export?area=06658&_type=Patient").await;
    assert_eq!(only.lines().count(), 1, "{only}");
    // The province holds the commune; another commune holds nobody.
    let (_, _, province) = get_text(&app, "/fhir/$export?area=22&_type=Immunization").await;
    assert_eq!(province.lines().count(), 3, "{province}");
    let (s, _, oo) = get_text(&app, "/fhir/$export?area=NOPE").await;
    assert_eq!(s, 404, "{oo}");
    let (s, _, oo) = get_text(&app, "/fhir/$export?area=22&_type=Observation").await;
    assert_eq!(s, 400, "{oo}");
    app.cleanup().await;
}
