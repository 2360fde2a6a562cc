//! A registry for everyone, not only holders of a national ID: persons
//! registered with any identifiers or none, found by any identifier, and
//! followed up when they have no document; on SQLite and PostgreSQL.

use crate::common;

use common::{on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    persons_without_a_national_id_are_registered_and_found,
    bad_or_taken_identifiers_are_refused_and_write_nothing,
    partner_messages_about_one_mrn_make_one_person,
    concurrent_first_messages_about_one_mrn_make_one_person,
    fhir_patients_with_any_identifiers_are_registered,
    fhir_patient_create_search_and_if_none_exist,
    a_document_brought_later_is_added_and_closes_the_follow_up,
);

fn person(name: &str, born: &str, identifiers: Value) -> Value {
    json!({
        "full_name": name,
        "birth_date": born,
        "sex": "female",
        "home_area": "0665801",
        "identifiers": identifiers,
    })
}

async fn persons_without_a_national_id_are_registered_and_found(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    // A partner's patient: a medical record number and an insurance card.
    let (s, adult) = app
        .post(
            "/api/v1/persons",
            &person(
                "Lê Thị Hoa",
                "1975-03-02",
                json!([
                    {"id_type": "mrn", "authority": "BV-QN", "value": "000123"},
                    {"id_type": "insurance", "value": "HS4220123456789"},
                ]),
            ),
        )
        .await;
    assert_eq!(s, 201, "{adult}");
    assert_eq!(adult["person"]["id_type"], "none");
    assert_eq!(adult["person"]["id_number"], "");
    assert_eq!(
        adult["identifiers"],
        json!([
            {"id_type": "insurance", "value": "HS4220123456789"},
            {"id_type": "mrn", "authority": "BV-QN", "value": "000123"},
        ])
    );
    // An insurance card is a document: no follow-up.
    assert!(adult.get("identity_follow_up").is_none(), "{adult}");
    let adult_id = adult["person"]["id"].as_str().unwrap().to_string();

    // A child with nothing but a guardian: registered and followed up.
    let mut child = person("Phạm Minh Khang", "2021-09-09", json!([]));
    child["guardian"] =
        json!({"name": "Phạm Thị  Lan", "phone": "0912345678", "relationship": "mother"});
    let (s, kid) = app.post("/api/v1/persons", &child).await;
    assert_eq!(s, 201, "{kid}");
    assert_eq!(kid["identifiers"], json!([]));
    assert_eq!(kid["identity_follow_up"]["reason"], "no_document");
    assert_eq!(
        kid["identity_follow_up"]["guardian"]["name"],
        "Phạm Thị Lan"
    );
    let kid_id = kid["person"]["id"].as_str().unwrap().to_string();
    let (s, view) = app.get(&format!("/api/v1/persons/{kid_id}")).await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(
        view["identity_follow_up"]["guardian"]["phone"],
        "0912345678"
    );

    // A national ID given among the identifiers goes on the record.
    let (s, citizen) = app
        .post(
            "/api/v1/persons",
            &json!({
                "full_name": "Vũ Văn Nam", "birth_date": "1980-05-17", "sex": "male",
                "home_area": "0665801",
                "identifiers": [
                    {"id_type": "cccd", "value": "022080000777"},
                    {"id_type": "passport", "authority": "vnm", "value": "c7654321"},
                ],
            }),
        )
        .await;
    assert_eq!(s, 201, "{citizen}");
    assert_eq!(citizen["person"]["id_type"], "cccd");
    assert_eq!(citizen["person"]["id_number"], "022080000777");
    assert_eq!(
        citizen["identifiers"][1],
        json!({"id_type": "passport", "authority": "VNM", "value": "C7654321"})
    );
    let citizen_id = citizen["person"]["id"].as_str().unwrap().to_string();

    // Found by any identifier, narrowed by type and authority.
    let found = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    for (query, expect) in [
        ("identifier=000123", vec![adult_id.clone()]),
        (
            "identifier=000123&identifier_type=mrn&authority=BV-QN",
            vec![adult_id.clone()],
        ),
        ("identifier=000123&authority=OTHER", vec![]),
        ("identifier=000123&identifier_type=insurance", vec![]),
        ("identifier=C7654321", vec![citizen_id.clone()]),
        ("identifier=022080000777", vec![citizen_id.clone()]),
        (
            "identifier=022080000777&identifier_type=cccd",
            vec![citizen_id.clone()],
        ),
        ("id_number=022080000777", vec![citizen_id.clone()]),
        ("follow_up=true", vec![kid_id.clone()]),
    ] {
        let (s, page) = app.get(&format!("/api/v1/persons?{query}")).await;
        assert_eq!(s, 200, "{query}: {page}");
        assert_eq!(found(&page), expect, "{query}");
    }
    let (s, p) = app.get("/api/v1/persons?authority=BV-QN").await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("identifier"))
    );
    let (s, p) = app
        .get("/api/v1/persons?identifier=1&identifier_type=ssn")
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].clone()),
        (400, json!("identifier_type"))
    );
    // The same record number from another hospital is another person's.
    let (s, other) = app
        .post(
            "/api/v1/persons",
            &person(
                "Đỗ Thị Mai",
                "1990-01-01",
                json!([{"id_type": "mrn", "authority": "BV-HN", "value": "000123"}]),
            ),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    // Known only by a record number: followed up.
    assert_eq!(other["identity_follow_up"]["reason"], "no_document");
    app.cleanup().await;
}

async fn bad_or_taken_identifiers_are_refused_and_write_nothing(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let (s, first) = app
        .post(
            "/api/v1/persons",
            &person(
                "Lê Thị Hoa",
                "1975-03-02",
                json!([{"id_type": "mrn", "authority": "BV-QN", "value": "000123"}]),
            ),
        )
        .await;
    assert_eq!(s, 201, "{first}");
    let before = app.store.count_persons().await.unwrap();
    let cn_zero_area = vaxgrid_core::identity::make_cn_resident_id(
        "000000",
        time::macros::date!(1975 - 03 - 02),
        2,
    );
    for (body, status, field) in [
        // The same MRN of the same authority is the person already registered.
        (
            person(
                "Lê Thị Hoa",
                "1975-03-02",
                json!([{"id_type": "mrn", "authority": "BV-QN", "value": "000123"}]),
            ),
            409,
            "identifiers",
        ),
        (
            person(
                "Trần Thị B",
                "1975-03-02",
                json!([{"id_type": "mrn", "value": "9"}]),
            ),
            422,
            "identifiers[0].authority",
        ),
        (
            person(
                "Trần Thị B",
                "1975-03-02",
                json!([
                    {"id_type": "insurance", "value": "HS1"},
                    {"id_type": "cn_resident", "value": cn_zero_area},
                ]),
            ),
            422,
            "identifiers[1].value",
        ),
        (
            person(
                "Trần Thị B",
                "1975-03-02",
                json!([{"id_type": "passport", "authority": "France", "value": "AB123456"}]),
            ),
            422,
            "identifiers[0].authority",
        ),
        // A child with no identifier at all needs a guardian.
        (person("Bé Na", "2022-02-02", json!([])), 422, "guardian"),
        (
            {
                let mut b = person("Bé Na", "2022-02-02", json!([]));
                b["guardian"] = json!({"name": " ", "phone": "0912345678"});
                b
            },
            422,
            "guardian.name",
        ),
        (
            {
                let mut b = person("Trần Thị B", "1975-03-02", json!([]));
                b["id_type"] = json!("cccd");
                b
            },
            422,
            "id_number",
        ),
        (
            {
                let mut b = person("Trần Thị B", "1975-03-02", json!([]));
                b["identifiers"] =
                    json!([{"id_type": "mrn", "authority": "A", "value": "1", "use": "usual"}]);
                b
            },
            422,
            "identifiers[0].use",
        ),
    ] {
        let (s, p) = app.post("/api/v1/persons", &body).await;
        assert_eq!(s, status, "{body}: {p}");
        let named = p["errors"][0]["field"].as_str().unwrap_or("");
        assert!(named.starts_with(field), "{body}: {p}");
    }
    assert_eq!(app.store.count_persons().await.unwrap(), before);
    let (_, page) = app.get("/api/v1/persons?identifier=AB123456").await;
    assert_eq!(page["items"], json!([]));
    app.cleanup().await;
}

/// The lot and site the VXU below names.
async fn seed_vxu_catalogue(app: &TestApp) {
    let (s, b) = app
        .post(
            "/api/v1/lots",
            &json!({"product_code": "AZ", "lot_number": "ABV5678", "expiry": "2021-12-31", "doses": 1000}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "HALONG-CHC", "name": "Hạ Long CHC", "kind": "hospital", "area_code": "06658", "stations": 2, "daily_capacity": 300}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// A VXU about one dose, with PID-3 and PID-5 as given.
fn vxu(control: &str, pid3: &str, name: &str, order: &str) -> String {
    [
        format!("MSH|^~\\&|HIS-HALONG|HALONG-CHC|VAXGRID|QN-CDC|20210715101500+0700||VXU^V04^VXU_V04|{control}|P|2.5.1|||ER|AL||UNICODE UTF-8|||Z22^CDCPHINVS"),
        format!("PID|1||{pid3}||{name}||19800101|M|||12 Lê Lợi^^Hạ Long^^22^VNM^H"),
        format!("ORC|RE||{order}^HALONG-CHC"),
        "RXA|0|1|20210715100000||210^COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL^CVX|0.5|mL^milliliters^UCUM||00^New immunization record^NIP001||^^^HALONG-CHC||||ABV5678|20211231|ASZ^AstraZeneca^MVX|||CP|A".to_string(),
    ]
    .join("\r")
}

/// For sequences of partner messages about the same person (the same MRN
/// of the same authority), drawn at random (seeded, so a failure repeats):
/// each message names the person by the MRN alone or with the national ID
/// too, by name with or without diacritics, in any order; exactly one
/// person exists at the end, found by the MRN, and the dose is recorded
/// once.
async fn partner_messages_about_one_mrn_make_one_person(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_vxu_catalogue(&app).await;
    let mut seed: u64 = 0x5eed_0f15;
    let mut draw = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for run in 0..4u32 {
        let before = app.store.count_persons().await.unwrap();
        let mrn = format!("P-{run}42");
        let cccd = format!("02208{:07}", 100 + run);
        let order = format!("QN-IZ-9{run}");
        let messages = 2 + draw(4);
        for m in 0..messages {
            let pid3 = match draw(3) {
                0 => format!("{mrn}^^^BV-HALONG^MR"),
                1 => format!("{mrn}^^^BV-HALONG^MR~{cccd}^^^VNM^NI"),
                _ => format!("{cccd}^^^VNM^NI~{mrn}^^^BV-HALONG^MR"),
            };
            let name = ["Nguyễn^Văn Đức", "NGUYEN^VAN DUC", "Nguyễn^Văn Đức Anh"][draw(3) as usize];
            let control = format!("SEQ-{run}-{m}");
            let (s, _, ack) = app
                .post_text(
                    "/hl7/v2",
                    "x-application/hl7-v2+er7",
                    vxu(&control, &pid3, name, &order),
                )
                .await;
            assert_eq!(s, 200, "run {run} message {m} ({pid3}): {ack}");
            assert!(ack.contains(&format!("MSA|AA|{control}")), "{ack}");
        }
        assert_eq!(
            app.store.count_persons().await.unwrap(),
            before + 1,
            "run {run}: one person for MRN {mrn}"
        );
        let (_, page) = app
            .get(&format!(
                "/api/v1/persons?identifier={mrn}&identifier_type=mrn&authority=BV-HALONG"
            ))
            .await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{page}");
        let id = items[0]["id"].as_str().unwrap();
        let (_, h) = app.get(&format!("/api/v1/persons/{id}/doses")).await;
        assert_eq!(h["records"].as_array().unwrap().len(), 1, "{h}");
    }
    app.cleanup().await;
}

/// Two first messages about the same new person (the same MRN), sent at
/// once: the registry writes each message whole, one after the other, so
/// the second finds the person the first registered and adds what it
/// carries to them; neither fails, nor leaves a second person or half a
/// message.
async fn concurrent_first_messages_about_one_mrn_make_one_person(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    seed_vxu_catalogue(&app).await;
    for run in 0..6u32 {
        let before = app.store.count_persons().await.unwrap();
        let doses_before = app.store.count_doses().await.unwrap();
        let mrn = format!("C-{run}77");
        let pid3 = format!("{mrn}^^^BV-HALONG^MR");
        // The same dose from two systems at once (a hospital's record and
        // its upload service), the second with a measles-mumps-rubella
        // vaccination kept as history beside it.
        let order = format!("CON-{run}-1");
        let first = vxu(&format!("CON-{run}-A"), &pid3, "Trần^Thị Mai", &order);
        let second = format!(
            "{}\rORC|RE||CON-{run}-MMR^HALONG-CHC\rRXA|0|1|19850601||03^MMR^CVX|999|||01^Historical information - source unspecified^NIP001|||||||||||CP|A",
            vxu(&format!("CON-{run}-B"), &pid3, "TRAN^THI MAI", &order)
        );
        let send = |text: String| {
            let app = &app;
            async move {
                app.post_text("/hl7/v2", "x-application/hl7-v2+er7", text)
                    .await
            }
        };
        let ((s1, _, ack1), (s2, _, ack2)) = tokio::join!(send(first), send(second));
        assert_eq!(s1, 200, "run {run}: {ack1}");
        assert_eq!(s2, 200, "run {run}: {ack2}");
        assert_eq!(
            app.store.count_persons().await.unwrap(),
            before + 1,
            "run {run}: one person for MRN {mrn}"
        );
        assert_eq!(app.store.count_doses().await.unwrap(), doses_before + 1);
        let (_, page) = app
            .get(&format!(
                "/api/v1/persons?identifier={mrn}&identifier_type=mrn&authority=BV-HALONG"
            ))
            .await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{page}");
        let id = items[0]["id"].as_str().unwrap();
        let (_, h) = app.get(&format!("/api/v1/persons/{id}/doses")).await;
        assert_eq!(h["records"].as_array().unwrap().len(), 1, "{h}");
        let kept = app.store.other_vaccinations_of(id).await.unwrap();
        assert_eq!(kept.len(), 1, "run {run}");
    }
    app.cleanup().await;
}

/// FHIR Patients as partners send them: a medical record number, an
/// identifier with `use` and `system` but no value, no identifier at all.
async fn fhir_patients_with_any_identifiers_are_registered(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    let post = |bundle: Value| {
        let app = &app;
        async move {
            let (s, _, text) = app
                .post_text(
                    "/fhir",
                    "application/fhir+json",
                    bundle.to_string().into_bytes(),
                )
                .await;
            (
                s,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
            )
        }
    };
    let bundle = |patient: Value| {
        json!({
            "resourceType": "Bundle", "type": "transaction",
            "entry": [{
                "fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
                "resource": patient,
                "request": {"method": "POST", "url": "Patient"},
            }],
        })
    };
    let patient = |identifiers: Value, born: &str| {
        json!({
            "resourceType": "Patient",
            "identifier": identifiers,
            "name": [{"family": "Trần", "given": ["Thị", "Hương"]}],
            "gender": "female",
            "birthDate": born,
            "address": [{"postalCode": "0665801"}],
        })
    };
    let before = app.store.count_persons().await.unwrap();
    for (identifiers, born) in [
        (
            json!([{"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}]),
            "1974-12-25",
        ),
        (
            json!([{"use": "official", "system": "urn:oid:2.16.704.1.0.1"}, {"type": {"coding": [{"code": "PPN"}]}, "system": "FRA", "value": "18AB12345"}]),
            "1985-02-03",
        ),
        (json!([]), "1990-07-07"),
    ] {
        let (s, out) = post(bundle(patient(identifiers.clone(), born))).await;
        assert_eq!(s, 200, "{identifiers}: {out}");
    }
    assert_eq!(app.store.count_persons().await.unwrap(), before + 3);
    let (_, page) = app
        .get("/api/v1/persons?identifier=12345&identifier_type=mrn&authority=urn:oid:1.2.36.146.595.217.0.1")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let (_, page) = app
        .get("/api/v1/persons?identifier=18AB12345&identifier_type=passport&authority=FRA")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    // Sent again: the same persons, nobody new.
    let (s, out) = post(bundle(patient(
        json!([{"type": {"coding": [{"code": "MR"}]}, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}]),
        "1974-12-25",
    )))
    .await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(app.store.count_persons().await.unwrap(), before + 3);
    // A child with no identifier and no guardian is refused, naming it.
    let (s, out) = post(bundle(patient(json!([]), "2022-02-02"))).await;
    assert_eq!(s, 422, "{out}");
    assert!(out.to_string().contains("contact"), "{out}");
    assert_eq!(app.store.count_persons().await.unwrap(), before + 3);
    app.cleanup().await;
}

/// `POST /fhir/Patient` with and without `If-None-Exist`, `GET
/// /fhir/Patient?identifier=…` and `?family=&birthdate=`.
async fn fhir_patient_create_search_and_if_none_exist(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    const SYSTEM: &str = "urn:oid:1.2.36.146.595.217.0.1";
    let send = |method: reqwest::Method,
                path: String,
                body: Option<Value>,
                condition: Option<&str>| {
        let app = &app;
        let condition = condition.map(str::to_string);
        async move {
            let mut r = app
                .client
                .request(method.clone(), format!("{}{path}", app.base));
            if let Some(b) = body {
                r = r
                    .header("content-type", "application/fhir+json")
                    .body(b.to_string());
            }
            if let Some(c) = condition {
                r = r.header("if-none-exist", c);
            }
            let r = r.send().await.expect("send");
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let location = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let url = r.url().to_string();
            let text = r.text().await.expect("body");
            common::openapi::assert_conforms(method.as_str(), &url, status, &ct, text.as_bytes());
            assert_eq!(ct, "application/fhir+json", "{status}: {text}");
            let v: Value = serde_json::from_str(&text).expect("JSON");
            (status, location, v)
        }
    };
    let patient = |mrn: &str, born: Option<&str>| {
        let mut p = json!({
            "resourceType": "Patient",
            "identifier": [{"use": "usual", "type": {"coding": [{"code": "MR"}]}, "system": SYSTEM, "value": mrn}],
            "name": [{"family": "Trần", "given": ["Thị", "Hương"]}],
            "gender": "female",
            "address": [{"postalCode": "0665801"}],
        });
        if let Some(b) = born {
            p["birthDate"] = json!(b);
        }
        p
    };
    let before = app.store.count_persons().await.unwrap();
    let (s, location, created) = send(
        reqwest::Method::POST,
        "/fhir/Patient".into(),
        Some(patient("12345", Some("1974-12-25"))),
        None,
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("Patient/{id}/_history/1"));
    assert_eq!(created["identifier"][0]["value"], "12345");
    // Sent again, with or without a condition: the same person.
    let condition = format!("identifier={SYSTEM}|12345");
    for c in [Some(condition.as_str()), None] {
        let (s, location, again) = send(
            reqwest::Method::POST,
            "/fhir/Patient".into(),
            Some(patient("12345", Some("1974-12-25"))),
            c,
        )
        .await;
        assert_eq!(s, 200, "{c:?}: {again}");
        assert_eq!(location, format!("Patient/{id}/_history/1"));
    }
    assert_eq!(app.store.count_persons().await.unwrap(), before + 1);
    // Searches.
    for query in [
        format!("identifier={SYSTEM}%7C12345"),
        "identifier=12345".to_string(),
        "family=tran&birthdate=1974-12-25".to_string(),
    ] {
        let (s, _, bundle) = send(
            reqwest::Method::GET,
            format!("/fhir/Patient?{query}"),
            None,
            None,
        )
        .await;
        assert_eq!(s, 200, "{query}: {bundle}");
        assert_eq!(bundle["type"], "searchset");
        assert_eq!(
            bundle["entry"].as_array().map_or(0, Vec::len),
            1,
            "{query}: {bundle}"
        );
        assert_eq!(bundle["entry"][0]["resource"]["id"], json!(id));
    }
    let (s, _, bundle) = send(
        reqwest::Method::GET,
        "/fhir/Patient?identifier=other%7C12345".into(),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, bundle["entry"].as_array().map_or(0, Vec::len)),
        (200, 0)
    );
    let (s, _, o) = send(reqwest::Method::GET, "/fhir/Patient".into(), None, None).await;
    assert_eq!(
        (s, o["resourceType"].clone()),
        (400, json!("OperationOutcome"))
    );
    let (s, _, o) = send(
        reqwest::Method::GET,
        "/fhir/Patient?family=tran&birthdate=1974-13-01".into(),
        None,
        None,
    )
    .await;
    assert_eq!(s, 400, "{o}");
    // No birth date: refused, naming it; nothing written.
    let (s, _, o) = send(
        reqwest::Method::POST,
        "/fhir/Patient".into(),
        Some(patient("777", None)),
        None,
    )
    .await;
    assert_eq!(s, 422, "{o}");
    assert!(o.to_string().contains("birthDate"), "{o}");
    // Two persons match a condition: 412, nothing created.
    let (s, _, _) = send(
        reqwest::Method::POST,
        "/fhir/Patient".into(),
        Some(patient("999", Some("1974-12-25"))),
        None,
    )
    .await;
    assert_eq!(s, 201);
    let (s, _, o) = send(
        reqwest::Method::POST,
        "/fhir/Patient".into(),
        Some(patient("555", Some("1974-12-25"))),
        Some("family=tran&birthdate=1974-12-25"),
    )
    .await;
    assert_eq!(s, 412, "{o}");
    let (s, _, o) = send(
        reqwest::Method::POST,
        "/fhir/Patient".into(),
        Some(patient("555", Some("1974-12-25"))),
        Some("gender=female"),
    )
    .await;
    assert_eq!(s, 400, "{o}");
    assert_eq!(app.store.count_persons().await.unwrap(), before + 2);
    // What the CapabilityStatement says is exactly this.
    let (s, meta) = app.get("/fhir/metadata").await;
    assert_eq!(s, 200);
    let patient_caps = &meta["rest"][0]["resource"][0];
    assert_eq!(patient_caps["conditionalCreate"], true);
    app.cleanup().await;
}

async fn a_document_brought_later_is_added_and_closes_the_follow_up(backend: &str) {
    use vaxgrid_core::identity::{make_cccd, Sex};
    use vaxgrid_store::audit::AuditFilter;
    let app = TestApp::start(backend).await;
    app.seed().await;
    // A child registered with nothing but a guardian: followed up.
    let mut child = person("Phạm Minh Khang", "2021-09-09", json!([]));
    child["guardian"] = json!({"name": "Phạm Thị Lan", "phone": "0912345678"});
    let (s, kid) = app.post("/api/v1/persons", &child).await;
    assert_eq!(s, 201, "{kid}");
    let kid_id = kid["person"]["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/persons/{kid_id}/identifiers");

    // A partner's record number is no document: added, still followed up.
    let (s, b) = app
        .post(
            &url,
            &json!({"id_type": "mrn", "authority": "BV-QN", "value": "K-77"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["follow_up_closed"], false);
    assert_eq!(b["identity_follow_up"]["reason"], "no_document");
    assert_eq!(
        b["identifiers"],
        json!([{"id_type": "mrn", "authority": "BV-QN", "value": "K-77"}])
    );

    // Refused, naming the field, and nothing written.
    let audit_of = |id: String| {
        let store = app.store.clone();
        async move {
            let filter = AuditFilter {
                entity_id: Some(id),
                ..AuditFilter::default()
            };
            store.audit_entries(&filter, None, 100).await.unwrap().items
        }
    };
    let entries_before = audit_of(kid_id.clone()).await.len();
    // A citizen ID whose birth year is not the child's, an MRN without
    // its authority, a passport whose country is not a code, a field the
    // body does not have.
    let wrong_year = make_cccd("022", Sex::Female, 1980, 5);
    for (body, status, field) in [
        (
            json!({"id_type": "cccd", "value": wrong_year}),
            422,
            "value",
        ),
        (json!({"id_type": "mrn", "value": "1"}), 422, "authority"),
        (
            json!({"id_type": "passport", "authority": "France", "value": "AB1"}),
            422,
            "authority",
        ),
        (json!({"id_type": "ssn", "value": "1"}), 422, "id_type"),
        (
            json!({"id_type": "mrn", "authority": "A", "value": "1", "use": "usual"}),
            422,
            "use",
        ),
        (json!({"id_type": "insurance", "value": "  "}), 422, "value"),
    ] {
        let (s, p) = app.post(&url, &body).await;
        assert_eq!(s, status, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    // Someone else's passport: 409 naming the identifier.
    let (s, other) = app
        .post(
            "/api/v1/persons",
            &person(
                "Đỗ Thị Mai",
                "1990-01-01",
                json!([{"id_type": "passport", "authority": "VN", "value": "C1234567"}]),
            ),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let (s, p) = app
        .post(
            &url,
            &json!({"id_type": "passport", "authority": "vn", "value": "c1234567"}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["errors"][0]["field"], "value", "{p}");
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("passport C1234567 of VN"),
        "the refusal names the identifier: {p}"
    );
    // Someone else's citizen ID, on their record: 409 as well.
    let theirs = make_cccd("022", Sex::Female, 2021, 9);
    let mut other_child = person("Lê Thị Na", "2021-09-09", json!([]));
    other_child["id_type"] = json!("cccd");
    other_child["id_number"] = json!(theirs);
    let (s, b) = app.post("/api/v1/persons", &other_child).await;
    assert_eq!(s, 201, "{b}");
    let (s, p) = app
        .post(&url, &json!({"id_type": "cccd", "value": theirs}))
        .await;
    assert_eq!(s, 409, "{p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&theirs),
        "{p}"
    );
    // Unknown person: 404; not a UUID: 400.
    let (s, _) = app
        .post(
            "/api/v1/persons/0193a000-0000-7000-8000-0000000000ff/identifiers",
            &json!({"id_type": "mrn", "authority": "A", "value": "1"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post(
            "/api/v1/persons/nobody/identifiers",
            &json!({"id_type": "mrn", "authority": "A", "value": "1"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(audit_of(kid_id.clone()).await.len(), entries_before);

    // Access by area: a registrar of another district does not see the
    // child; one of the child's district does.
    let elsewhere = app.as_user("u-far", &["planner:194"]).await;
    let cccd = make_cccd("022", Sex::Female, 2021, 4242);
    let body = json!({"id_type": "cccd", "value": cccd});
    let (s, _) = elsewhere.post(&url, &body).await;
    assert_eq!(s, 404);
    let reader = app.as_user("u-reader", &["statistics_officer:193"]).await;
    let (s, _) = reader.post(&url, &body).await;
    assert_eq!(s, 403);
    assert_eq!(audit_of(kid_id.clone()).await.len(), entries_before);

    // The citizen ID the child now has: on the record, follow-up closed.
    let near = app.as_user("u-near", &["planner:193"]).await;
    let (s, b) = near.post(&url, &body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["follow_up_closed"], true, "{b}");
    assert!(b.get("identity_follow_up").is_none(), "{b}");
    assert_eq!(b["id_type"], "cccd");
    assert_eq!(b["id_number"], cccd.as_str());
    assert_eq!(
        b["identifiers"][0],
        json!({"id_type": "cccd", "value": cccd})
    );
    let (s, page) = app.get("/api/v1/persons?follow_up=true").await;
    assert_eq!(s, 200);
    assert!(!page.to_string().contains(&kid_id), "{page}");
    let (_, page) = app.get(&format!("/api/v1/persons?id_number={cccd}")).await;
    assert_eq!(page["items"][0]["id"], kid_id.as_str(), "{page}");
    // Audited: who added which type, and that it closed the follow-up.
    let entries = audit_of(kid_id.clone()).await;
    assert_eq!(entries.len(), entries_before + 1);
    assert_eq!(entries[0].action, "add_identifier");
    assert_eq!(entries[0].actor, "u-near");
    assert!(
        entries[0].details.contains("\"follow_up_closed\":true")
            && !entries[0].details.contains(&cccd),
        "{}",
        entries[0].details
    );

    // The same again: 200, nothing written; the document now finds the
    // child, and registering it for someone else is refused.
    let (s, b) = near.post(&url, &body).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(audit_of(kid_id.clone()).await.len(), entries_before + 1);
    let mut twin = person("Phạm Minh Khang", "2021-09-09", json!([]));
    twin["id_type"] = json!("cccd");
    twin["id_number"] = json!(cccd);
    let (s, p) = app.post("/api/v1/persons", &twin).await;
    assert_eq!(s, 409, "{p}");

    // A passport for an adult already holding a citizen ID is kept beside
    // it, with its country.
    let adult = app.person(401, "Nguyễn Văn Hải").await;
    let (s, b) = app
        .post(
            &format!("/api/v1/persons/{adult}/identifiers"),
            &json!({"id_type": "passport", "authority": "vnm", "value": "b7654321"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["follow_up_closed"], false);
    assert_eq!(
        b["identifiers"][1],
        json!({"id_type": "passport", "authority": "VNM", "value": "B7654321"})
    );
    let (_, page) = app.get("/api/v1/persons?identifier=B7654321").await;
    assert_eq!(page["items"][0]["id"], adult.as_str(), "{page}");
    app.cleanup().await;
}
