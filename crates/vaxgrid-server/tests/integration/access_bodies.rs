//! A valid request for every write route of the API, FHIR and HL7 v2,
//! for the access matrix (`access.rs`): each call makes its own fresh
//! records through the administrator first (a person, a dose, a session
//! and its appointment, a case, a shipment, ...), so that every caller's
//! call can succeed on its own and none collides with another's.

use crate::access::World;
use crate::common;

use common::outbreak::{confirm_body, contact_body, days_ago};
use common::{dose_body, new_id, TestApp};
use serde_json::{json, Value};

/// One request: where, in which format, and what an allowed caller's
/// answer must hold besides a 2xx status.
pub struct Call {
    pub url: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// What the success answer must also hold, for routes whose 2xx
    /// answer may report a refusal (an import's rows, an HL7 ACK).
    pub holds: Option<Holds>,
}

pub enum Holds {
    /// A JSON pointer into the answer and the value it must have.
    Value(&'static str, Value),
    /// A piece of the answer's text.
    Text(&'static str),
}

impl Call {
    fn json(url: impl Into<String>, body: Value) -> Call {
        Call {
            url: url.into(),
            content_type: "application/json",
            body: body.to_string().into_bytes(),
            holds: None,
        }
    }

    fn csv(url: impl Into<String>, text: String) -> Call {
        Call::raw(url, "text/csv", text.into_bytes())
    }

    fn raw(url: impl Into<String>, content_type: &'static str, body: Vec<u8>) -> Call {
        Call {
            url: url.into(),
            content_type,
            body,
            holds: None,
        }
    }

    fn holding(mut self, pointer: &'static str, value: Value) -> Call {
        self.holds = Some(Holds::Value(pointer, value));
        self
    }

    fn containing(mut self, text: &'static str) -> Call {
        self.holds = Some(Holds::Text(text));
        self
    }

    /// Whether a success answer holds what it must.
    pub fn holds_in(&self, answer: &str) -> bool {
        match &self.holds {
            None => true,
            Some(Holds::Value(pointer, value)) => serde_json::from_str::<Value>(answer)
                .is_ok_and(|answer| answer.pointer(pointer) == Some(value)),
            Some(Holds::Text(text)) => answer.contains(text),
        }
    }

    /// Sends the call as `client`: the status and the answer's text.
    pub async fn send(&self, client: &reqwest::Client, base: &str, method: &str) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method.clone(), format!("{base}{}", self.url));
        if method != reqwest::Method::DELETE {
            request = request
                .header("content-type", self.content_type)
                .body(self.body.clone());
        }
        let r = request.send().await.expect("send");
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let url = r.url().to_string();
        let text = r.text().await.expect("body");
        common::openapi::assert_conforms(
            method.as_str(),
            &url,
            status,
            &content_type,
            text.as_bytes(),
        );
        (status, text)
    }
}

/// The routes this table covers: the API's, FHIR's and HL7 v2's writes.
/// The HTML form routes (pages under /admin, /registry, /supply, ...)
/// take form-encoded bodies with the page's CSRF token and stay in the
/// matrix of `access.rs` without a body.
pub fn is_api_write(method: &str, path: &str) -> bool {
    method != "GET"
        && (path.starts_with("/api/v1/")
            || path == "/fhir"
            || path.starts_with("/fhir/")
            || path == "/hl7/v2")
}

/// The answer a role gets instead of a 2xx by the route's own rule (not
/// by the access policy, nor by a malformed body).
pub fn domain_answer(method: &str, path: &str, role: &str) -> Option<u16> {
    match (method, path, role) {
        // Only a caller whose areas cover the whole province sets its
        // isolation rule; the responder holds district 193 only.
        ("PUT", "/api/v1/outbreak/isolation-policy", "epidemic_responder") => Some(403),
        _ => None,
    }
}

fn today() -> String {
    days_ago(0)
}

fn days_ahead(n: u32) -> String {
    days_ago(-i64::from(n))
}

fn now_minus_minutes(minutes: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    (time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
}

/// Posts as the administrator and returns the answer, which must be a 2xx.
async fn made(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, &body).await;
    assert!((200..300).contains(&s), "{path} {body}: {s} {b}");
    b
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

fn id_number(n: u32) -> String {
    format!("022080{:06}", 100_000 + n)
}

fn person_body(n: u32, home: &str) -> Value {
    json!({"id_type": "cccd", "id_number": id_number(n), "full_name": format!("Người Thử {n}"),
           "birth_date": "1980-05-17", "sex": "male", "home_area": home,
           "priority_groups": ["frontline"]})
}

/// A person of village 0665801 (district 193, site S1's commune).
pub async fn fresh_person(w: &World, n: u32) -> String {
    fresh_person_in(w, n, "0665801").await
}

pub async fn fresh_person_in(w: &World, n: u32, home: &str) -> String {
    let b = made(&w.app, "/api/v1/persons", person_body(n, home)).await;
    b["person"]["id"].as_str().unwrap().to_string()
}

/// A dose given at `site` today to a fresh person of `home`.
pub async fn fresh_dose(w: &World, n: u32, home: &str, site: &str) -> String {
    let person = fresh_person_in(w, n, home).await;
    let mut body = dose_body(&new_id(), &person, &today());
    body["site_code"] = json!(site);
    id_of(&made(&w.app, "/api/v1/doses", body).await)
}

/// A session at `site` on a day of its own, with slots from 07:00.
pub async fn fresh_session(w: &World, n: u32, site: &str) -> (String, String) {
    let day = days_ahead(10 + n);
    let b = made(
        &w.app,
        "/api/v1/sessions",
        json!({"site_code": site, "day": day, "opens": "07:00", "closes": "09:00",
               "stations": 1, "per_station_per_hour": 4, "slot_minutes": 30}),
    )
    .await;
    (b["session"]["id"].as_str().unwrap().to_string(), day)
}

/// An appointment of `person` at 07:00 in a fresh session at `site`:
/// its id, the session and the day.
pub async fn fresh_appointment(
    w: &World,
    n: u32,
    site: &str,
    person: &str,
) -> (String, String, String) {
    let (session, day) = fresh_session(w, n, site).await;
    let b = made(
        &w.app,
        "/api/v1/appointments",
        json!({"id": new_id(), "person_id": person, "session_id": session, "starts_at": format!("{day}T07:00")}),
    )
    .await;
    (id_of(&b), session, day)
}

/// A campaign over `area` (its frontline workers, 80 % by 60 days).
pub async fn fresh_campaign(w: &World, n: u32, area: &str) -> String {
    id_of(&made(&w.app, "/api/v1/campaigns", campaign_body(n, area)).await)
}

fn campaign_body(n: u32, area: &str) -> Value {
    json!({"name": format!("Chiến dịch {n}"), "disease": "COVID-19", "area_code": area,
           "products": ["AZ"], "priority_groups": ["frontline"], "target_percent": 80.0,
           "target_date": days_ahead(60)})
}

/// A mild case of a fresh person of `home`, confirmed three days ago.
pub async fn fresh_case(w: &World, n: u32, home: &str) -> String {
    let person = fresh_person_in(w, n, home).await;
    made(
        &w.app,
        "/api/v1/outbreak/cases",
        confirm_body(&person, &days_ago(3)),
    )
    .await;
    person
}

/// Province 23 > district 178 > commune 06100 with site S3: outside
/// every caller's areas, site roles' too.
pub async fn another_province(app: &TestApp) {
    for area in [
        json!({"code": "23", "level": "province", "name": "Lạng Sơn"}),
        json!({"code": "178", "parent_code": "23", "level": "district", "name": "Lạng Sơn"}),
        json!({"code": "06100", "parent_code": "178", "level": "commune", "name": "Hoàng Văn Thụ"}),
    ] {
        made(app, "/api/v1/areas", area).await;
    }
    made(
        app,
        "/api/v1/sites",
        json!({"code": "S3", "name": "Trạm Y tế Hoàng Văn Thụ", "kind": "commune_health_station",
               "area_code": "06100", "stations": 1, "daily_capacity": 100}),
    )
    .await;
}

/// A second-degree contact (F2) of a fresh case: isolated at home from
/// three days ago when `isolated`.
pub async fn fresh_f2(w: &World, n: u32, home: &str, isolated: bool) -> String {
    let case = fresh_case(w, n, home).await;
    let f1 = fresh_person_in(w, n + 100_000, home).await;
    let f2 = fresh_person_in(w, n + 200_000, home).await;
    for (source, person) in [(&case, &f1), (&f1, &f2)] {
        made(
            &w.app,
            "/api/v1/outbreak/contacts",
            contact_body(source, person, &days_ago(4), "household"),
        )
        .await;
    }
    if isolated {
        made(
            &w.app,
            "/api/v1/outbreak/isolations",
            json!({"person_id": f2, "start_on": days_ago(3), "home_possible": true}),
        )
        .await;
    }
    f2
}

/// A sample of a fresh person of `home` sent to laboratory `lab`.
pub async fn fresh_sample(w: &World, n: u32, home: &str, lab: &str) -> String {
    let person = fresh_person_in(w, n, home).await;
    let b = made(
        &w.app,
        &format!("/api/v1/outbreak/laboratories/{lab}/samples"),
        json!({"samples": [{"person_id": person}]}),
    )
    .await;
    b["samples"][0]["id"].as_str().unwrap().to_string()
}

pub async fn fresh_test(w: &World, n: u32, home: &str, lab: &str) -> String {
    let sample = fresh_sample(w, n, home, lab).await;
    id_of(
        &made(
            &w.app,
            &format!("/api/v1/outbreak/laboratories/{lab}/tests"),
            json!({ "samples": [sample] }),
        )
        .await,
    )
}

/// A case of `home` admitted yesterday to facility `facility`.
pub async fn fresh_admission(w: &World, n: u32, home: &str, facility: &str) -> String {
    let case = fresh_case(w, n, home).await;
    id_of(
        &made(
            &w.app,
            "/api/v1/outbreak/admissions",
            json!({"facility_code": facility, "person_id": case, "admitted_on": days_ago(1)}),
        )
        .await,
    )
}

/// Cold-chain equipment of store `store`.
pub async fn fresh_equipment(w: &World, store: &str) -> String {
    id_of(
        &made(
            &w.app,
            &format!("/api/v1/stores/{store}/equipment"),
            json!({"kind": "refrigerator", "min_c": 2.0, "max_c": 8.0, "capacity_doses": 5000}),
        )
        .await,
    )
}

/// A shipment of 10 doses of lot AZ-S from `from` to `to`.
pub async fn fresh_shipment(w: &World, from: &str, to: &str) -> String {
    id_of(
        &made(
            &w.app,
            "/api/v1/shipments",
            json!({"from_store": from, "to_store": to, "product_code": "AZ", "lot_number": "AZ-S", "quantity": 10}),
        )
        .await,
    )
}

/// A lot of AZ of its own, 10 doses of it received at `store`.
pub async fn fresh_lot(w: &World, n: u32, store: &str) -> String {
    let lot = format!("AZ-Q{n}");
    made(
        &w.app,
        "/api/v1/lots",
        json!({"product_code": "AZ", "lot_number": lot, "expiry": "2030-12-31", "doses": 100}),
    )
    .await;
    made(
        &w.app,
        &format!("/api/v1/stores/{store}/movements"),
        json!({"product_code": "AZ", "lot_number": lot, "kind": "receipt", "quantity": 10,
               "source": "purchase", "document": format!("HD-{n}")}),
    )
    .await;
    lot
}

/// A serious adverse event at `site` after a dose given there three hours
/// ago, with its investigation open: the investigation's id.
pub async fn fresh_investigation(w: &World, n: u32, home: &str, site: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let at = |minutes: i64| {
        (time::OffsetDateTime::now_utc() - time::Duration::hours(3)
            + time::Duration::minutes(minutes))
        .format(&Rfc3339)
        .unwrap()
    };
    let person = fresh_person_in(w, n, home).await;
    let visit = id_of(
        &made(
            &w.app,
            "/api/v1/visits",
            json!({"person_id": person, "site_code": site, "product_code": "AZ"}),
        )
        .await,
    );
    let events = format!("/api/v1/visits/{visit}/events");
    let no = [
        "anaphylaxis",
        "acute_illness",
        "recent_vaccine",
        "recent_covid",
    ]
    .map(|q| json!({"question_id": q, "yes": false}));
    for event in [
        json!({"kind": "check_in", "at": at(0), "temperature_c": 36.7}),
        json!({"kind": "identity_check", "at": at(1), "document": "cccd"}),
        json!({"kind": "screening", "at": at(2), "questionnaire_version": "default-1", "answers": no}),
        json!({"kind": "consent", "at": at(3), "by": "self", "consent_text_version": "2021-07", "for_person_id": person}),
        json!({"kind": "dose", "at": at(4), "lot_number": "AZ-1", "station": "B1"}),
        json!({"kind": "adverse_event", "onset": at(15), "symptoms": ["anaphylaxis"], "severity": "severe", "serious": true}),
    ] {
        let v = made(&w.app, &events, event).await;
        if let Some(id) = v["investigations"][0]["id"].as_str() {
            return id.to_string();
        }
    }
    panic!("no investigation opened")
}

/// A user of their own holding `grants`.
pub async fn fresh_user(w: &World, n: u32, grants: &[&str]) -> (String, Value) {
    let username = format!("u-new-{n}");
    let b = made(
        &w.app,
        "/api/v1/users",
        json!({"username": username, "display_name": format!("Nhân viên {n}"), "grants": grants}),
    )
    .await;
    (username, b)
}

/// An HL7 v2 VXU of a person the registry does not know yet (living in
/// village 0665801), with a historical dose of AZ.
pub fn vxu(n: u32) -> String {
    [
        format!("MSH|^~\\&|HIS-HALONG|HALONG-CHC|VAXGRID|QN-CDC|20210901080000+0700||VXU^V04^VXU_V04|ACC-{n}|P|2.5.1|||ER|AL||UNICODE UTF-8|||Z22^CDCPHINVS"),
        format!("PID|1||{}^^^VNM^NI||Nguyễn^Văn Thử^^^^^L||19800517|M|||Khu 1^^Hạ Long^^0665801^VNM^H", id_number(n)),
        format!("ORC|RE||ACC-IZ-{n}^HALONG-CHC|||||||||||||||"),
        "RXA|0|1|20210301||210^COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL^CVX|999|||01^Historical information - source unspecified^NIP001|||||||||||CP|A".to_string(),
    ]
    .join("\r")
        + "\r"
}

fn fhir_patient(n: u32) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.704.1.0.1", "value": id_number(n)}],
        "name": [{"family": "Nguyễn", "given": ["Văn", "Thử"], "text": format!("Nguyễn Văn Thử {n}")}],
        "gender": "male",
        "birthDate": "1980-05-17",
        "address": [{"line": ["Khu 1"], "city": "Hạ Long", "postalCode": "0665801", "country": "VN"}],
    })
}

/// A valid request to the write route `method path` with records of its
/// own (suffix `n`, unique to the call), or None for a route this table
/// does not know.
pub async fn write_call(w: &World, method: &str, path: &str, n: u32) -> Option<Call> {
    let app = &w.app;
    let call = match (method, path) {
        // Places, catalogue and configuration (administrators).
        ("POST", "/api/v1/areas") => Call::json(
            path,
            json!({"code": format!("V{n}"), "parent_code": "06658", "level": "village", "name": format!("Thôn {n}")}),
        ),
        ("POST", "/api/v1/areas/import") => Call::csv(
            path,
            format!("code,parent_code,level,name,name_en\nV{n},06658,village,Thôn {n},\n"),
        ),
        ("POST", "/api/v1/areas/reorganisations") => {
            let village = format!("V{n}");
            made(
                app,
                "/api/v1/areas",
                json!({"code": village, "parent_code": "06658", "level": "village", "name": format!("Thôn {n}")}),
            )
            .await;
            Call::json(
                path,
                json!({"effective_on": "2025-07-01", "reason": "Nghị quyết 202/2025/QH15",
                       "change": {"kind": "move", "area": village, "parent_code": "06659"}}),
            )
        }
        ("POST", "/api/v1/areas/{code}/border") => Call::json(
            "/api/v1/areas/06700/border",
            json!({"border_km": 2, "region_group": "Móng Cái border"}),
        ),
        ("PUT", "/api/v1/area-levels") => {
            let (s, levels) = app.get("/api/v1/area-levels").await;
            assert_eq!(s, 200, "{levels}");
            Call::json(path, json!({ "levels": levels["levels"] }))
        }
        ("POST", "/api/v1/products") => {
            let (s, mut product) = app.get("/api/v1/products/AZ").await;
            assert_eq!(s, 200, "{product}");
            product["code"] = json!(format!("AZ{n}"));
            product["name"] = json!(format!("AZ {n}"));
            Call::json(path, product)
        }
        ("PUT", "/api/v1/products/{code}/screening") => {
            let (s, current) = app.get("/api/v1/products/PFIZER/screening").await;
            assert_eq!(s, 200, "{current}");
            Call::json(
                "/api/v1/products/PFIZER/screening",
                json!({"version": current["version"], "questions": current["questions"]}),
            )
        }
        ("POST", "/api/v1/products/{code}/ratios") => Call::json(
            "/api/v1/products/PFIZER/ratios",
            json!({"item_code": "AD-T", "quantity": 1, "per": 1, "unit": "dose"}),
        ),
        ("POST", "/api/v1/lots") => Call::json(
            path,
            json!({"product_code": "AZ", "lot_number": format!("AZ-L{n}"), "expiry": "2030-12-31", "doses": 100}),
        ),
        ("POST", "/api/v1/sites") => Call::json(
            path,
            json!({"code": format!("SX{n}"), "name": format!("Điểm tiêm {n}"), "kind": "temporary_site",
                   "area_code": "06658", "stations": 1, "daily_capacity": 100}),
        ),
        ("POST", "/api/v1/sites/import") => Call::csv(
            path,
            format!("code,name,kind,area_code,stations,daily_capacity\nSI{n},Trạm {n},hospital,06658,2,100\n"),
        ),
        ("PUT", "/api/v1/sites/{code}/catchment") => Call::json(
            "/api/v1/sites/S1/catchment",
            json!({"areas": ["0665801"]}),
        ),
        ("POST", "/api/v1/supply-items") => Call::json(
            path,
            json!({"code": format!("IT{n}"), "name": format!("Bơm tiêm {n}"), "kind": "ad_syringe"}),
        ),

        // The registry.
        ("POST", "/api/v1/persons") => Call::json(path, person_body(n, "0665801")),
        ("POST", "/api/v1/persons/import") => Call::csv(
            path,
            format!(
                "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n\
                 cccd,{},Người Nhập {n},1980-05-17,male,0912345678,0665801,nông dân,frontline\n",
                id_number(n)
            ),
        )
        .holding("/imported", json!(1)),
        ("POST", "/api/v1/persons/{id}/identifiers") => {
            let person = fresh_person(w, n).await;
            Call::json(
                format!("/api/v1/persons/{person}/identifiers"),
                json!({"id_type": "mrn", "authority": "BV-QN", "value": format!("MRN-{n}")}),
            )
        }
        ("POST", "/api/v1/persons/{id}/merge") => {
            let survivor = fresh_person(w, n).await;
            let duplicate = fresh_person(w, n + 100_000).await;
            Call::json(
                format!("/api/v1/persons/{survivor}/merge"),
                json!({"duplicate_id": duplicate, "reason": "one person registered twice"}),
            )
        }
        // The resident may ask for their own certificate only: the
        // inside person's, which every caller asks for.
        ("POST", "/api/v1/persons/{id}/certificate") => Call::json(
            format!("/api/v1/persons/{}/certificate", w.inside),
            json!({}),
        ),
        ("POST", "/api/v1/doses") => {
            let person = fresh_person(w, n).await;
            Call::json(path, dose_body(&new_id(), &person, &today()))
        }
        // A historical dose: a planner records doses at no site of their
        // own, and the import holds them to the dose rules like anyone.
        ("POST", "/api/v1/doses/import") => {
            let person = fresh_person(w, n).await;
            Call::csv(
                path,
                format!(
                    "id,person_id,kind,corrects_id,product_code,lot_number,site_code,administered_on,reason,author\n\
                     {},{person},historical,,PFIZER,,,2021-05-01,,\n",
                    new_id()
                ),
            )
            .holding("/created", json!(1))
        }
        ("POST", "/api/v1/doses/{id}/entered-in-error") => {
            let dose = fresh_dose(w, n, "0665801", "S1").await;
            Call::json(
                format!("/api/v1/doses/{dose}/entered-in-error"),
                json!({"id": new_id(), "reason": "wrong person", "author": "nurse"}),
            )
        }

        // Certificates.
        ("POST", "/api/v1/dcc/verify") => Call::json(path, json!({"hc1": w.hc1})),
        ("POST", "/api/v1/dcc/verify-image") => Call::raw(path, "image/png", w.png.clone()),
        ("POST", "/api/v1/dcc/revocations") => Call::json(
            path,
            json!({"product_code": "AZ", "lot_number": "AZ-S", "reason": "manufacturer recall"}),
        ),

        // Exchange with partners.
        ("POST", "/fhir") => Call::raw(
            path,
            "application/fhir+json",
            json!({"resourceType": "Bundle", "type": "transaction", "entry": [{
                "fullUrl": format!("urn:uuid:{}", new_id()),
                "resource": fhir_patient(n),
                "request": {"method": "POST", "url": "Patient"}}]})
            .to_string()
            .into_bytes(),
        ),
        ("POST", "/fhir/Patient") => Call::raw(
            path,
            "application/fhir+json",
            fhir_patient(n).to_string().into_bytes(),
        ),
        ("POST", "/fhir/Immunization") => {
            let person = fresh_person(w, n).await;
            Call::raw(
                path,
                "application/fhir+json",
                json!({"resourceType": "Immunization", "status": "completed",
                       "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
                       "patient": {"reference": format!("Patient/{person}")},
                       "occurrenceDateTime": "1981-06-01", "primarySource": false})
                .to_string()
                .into_bytes(),
            )
        }
        ("POST", "/hl7/v2") => {
            Call::raw(path, "x-application/hl7-v2+er7", vxu(n).into_bytes()).containing("MSA|AA")
        }

        // Sessions, appointments, campaigns.
        ("POST", "/api/v1/sessions") => Call::json(
            path,
            json!({"site_code": "S1", "day": days_ahead(10 + n), "opens": "07:00", "closes": "09:00",
                   "stations": 1, "per_station_per_hour": 4, "slot_minutes": 30}),
        ),
        ("POST", "/api/v1/sessions/import") => Call::csv(
            path,
            format!(
                "id,site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes,village_code\n\
                 ,S1,{},07:00,09:00,1,4,30,\n",
                days_ahead(10 + n)
            ),
        ),
        ("PUT", "/api/v1/sites/{code}/zones") => Call::json(
            "/api/v1/sites/S1/zones",
            json!({"zones": [
                {"kind": "temperature_check", "name": "Đo thân nhiệt", "places": 1},
                {"kind": "vaccination", "name": "Phòng tiêm", "places": 2},
                {"kind": "observation", "name": "Khu theo dõi", "places": 30},
                {"kind": "treatment", "name": "Xử trí phản vệ", "places": 2}]}),
        ),
        // The resident books for themselves: every booking is the inside
        // person's, each in a session of its own.
        ("POST", "/api/v1/appointments") => {
            let (session, day) = fresh_session(w, n, "S1").await;
            Call::json(
                path,
                json!({"id": new_id(), "person_id": w.inside, "session_id": session, "starts_at": format!("{day}T07:00")}),
            )
        }
        ("POST", "/api/v1/appointments/{id}/cancel") => {
            let (id, _, _) = fresh_appointment(w, n, "S1", &w.inside).await;
            Call::json(format!("/api/v1/appointments/{id}/cancel"), json!({}))
        }
        ("POST", "/api/v1/appointments/{id}/no-show") => {
            let (id, _, _) = fresh_appointment(w, n, "S1", &w.inside).await;
            Call::json(format!("/api/v1/appointments/{id}/no-show"), json!({}))
        }
        ("POST", "/api/v1/appointments/{id}/reschedule") => {
            let (id, session, day) = fresh_appointment(w, n, "S1", &w.inside).await;
            Call::json(
                format!("/api/v1/appointments/{id}/reschedule"),
                json!({"id": new_id(), "session_id": session, "starts_at": format!("{day}T07:30")}),
            )
        }
        ("POST", "/api/v1/campaigns") => Call::json(path, campaign_body(n, "193")),
        ("POST", "/api/v1/campaigns/{id}/waves") => {
            let campaign = fresh_campaign(w, n, "193").await;
            Call::json(
                format!("/api/v1/campaigns/{campaign}/waves"),
                json!({"name": format!("Đợt {n}"), "starts_on": today(), "ends_on": days_ahead(30),
                       "eligible_groups": ["frontline"]}),
            )
        }
        ("POST", "/api/v1/campaigns/{id}/targets") => {
            let campaign = fresh_campaign(w, n, "193").await;
            Call::json(
                format!("/api/v1/campaigns/{campaign}/targets"),
                json!({"area": "193"}),
            )
        }
        ("POST", "/api/v1/campaigns/{id}/daily-targets") => {
            let campaign = fresh_campaign(w, n, "193").await;
            Call::json(
                format!("/api/v1/campaigns/{campaign}/daily-targets"),
                json!({"area": "193", "doses_per_day": 1}),
            )
        }

        // Training.
        ("POST", "/api/v1/training/classes") => Call::json(
            path,
            json!({"topic": "vaccination", "starts_on": today(), "ends_on": today(), "trainer": "u-trainer"}),
        ),
        ("POST", "/api/v1/training/classes/{id}/attendees") => {
            let class = fresh_class(w).await;
            Call::json(
                format!("/api/v1/training/classes/{class}/attendees"),
                json!({"username": "u-observer"}),
            )
        }
        ("POST", "/api/v1/training/classes/{id}/exams") => {
            let class = fresh_class(w).await;
            made(
                app,
                &format!("/api/v1/training/classes/{class}/attendees"),
                json!({"username": "u-observer"}),
            )
            .await;
            Call::json(
                format!("/api/v1/training/classes/{class}/exams"),
                json!({"username": "u-observer", "score": 90, "pass_mark": 80, "taken_on": today()}),
            )
        }

        // The vaccination table.
        ("POST", "/api/v1/visits") => {
            let person = fresh_person(w, n).await;
            Call::json(
                path,
                json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
            )
        }
        ("POST", "/api/v1/visits/{id}/events") => {
            let person = fresh_person(w, n).await;
            let visit = id_of(
                &made(
                    app,
                    "/api/v1/visits",
                    json!({"person_id": person, "site_code": "S1", "product_code": "AZ"}),
                )
                .await,
            );
            Call::json(
                format!("/api/v1/visits/{visit}/events"),
                json!({"kind": "check_in", "temperature_c": 36.7}),
            )
        }
        ("POST", "/api/v1/investigations/{id}/causality") => {
            let investigation = fresh_investigation(w, n, "0665801", "S1").await;
            Call::json(
                format!("/api/v1/investigations/{investigation}/causality"),
                json!({"causality": "A1"}),
            )
        }

        // Accounts.
        ("POST", "/api/v1/users") => Call::json(
            path,
            json!({"username": format!("u-new-{n}"), "display_name": format!("Nhân viên {n}"), "grants": ["registrar:S1"]}),
        ),
        ("POST", "/api/v1/users/import") => Call::csv(
            path,
            format!("username,display_name,roles,site,area\nu-imp-{n},Nhân viên {n},registrar,S1,\n"),
        ),
        ("POST", "/api/v1/users/{username}/grants") => {
            let (user, _) = fresh_user(w, n, &["registrar:S1"]).await;
            Call::json(
                format!("/api/v1/users/{user}/grants"),
                json!({"grant": "planner:193"}),
            )
        }
        ("DELETE", "/api/v1/users/{username}/grants/{grant}") => {
            let (user, _) = fresh_user(w, n, &["registrar:S1", "planner:193"]).await;
            Call::json(format!("/api/v1/users/{user}/grants/planner:193"), json!({}))
        }
        ("POST", "/api/v1/users/{username}/disable") => {
            let (user, _) = fresh_user(w, n, &["registrar:S1"]).await;
            Call::json(format!("/api/v1/users/{user}/disable"), json!({}))
        }
        ("POST", "/api/v1/users/{username}/enable") => {
            let (user, _) = fresh_user(w, n, &["registrar:S1"]).await;
            made(app, &format!("/api/v1/users/{user}/disable"), json!({})).await;
            Call::json(format!("/api/v1/users/{user}/enable"), json!({}))
        }
        ("POST", "/api/v1/users/{username}/invitation") => {
            let (user, _) = fresh_user(w, n, &["registrar:S1"]).await;
            Call::json(format!("/api/v1/users/{user}/invitation"), json!({}))
        }
        ("POST", "/api/v1/invitations/redeem") => {
            let (_, created) = fresh_user(w, n, &["registrar:S1"]).await;
            Call::json(
                path,
                json!({"token": created["invitation"], "password": "a long enough password"}),
            )
        }
        ("POST", "/api/v1/tokens") => Call::json(
            path,
            json!({"username": "u-registrar", "name": format!("token {n}")}),
        ),
        ("DELETE", "/api/v1/tokens/{id}") => {
            let token = made(
                app,
                "/api/v1/tokens",
                json!({"username": "u-registrar", "name": format!("token {n}")}),
            )
            .await;
            let id = token["id"]
                .as_str()
                .or(token["token"]["id"].as_str())
                .unwrap_or_else(|| panic!("no token id in {token}"));
            Call::json(format!("/api/v1/tokens/{id}"), json!({}))
        }
        ("POST", "/api/v1/admin/lockouts/clear") => {
            let username = format!("u-locked-{n}");
            app.store
                .login_attempt(&username, "203.0.113.7", &vaxgrid_core::throttle::POLICY)
                .await
                .unwrap();
            Call::json(
                path,
                json!({"username": username, "address": "203.0.113.7"}),
            )
        }

        // Stock: stores K193 (district 193) > KC193 (commune 06658), lot
        // AZ-S held at K193.
        ("POST", "/api/v1/stores") => Call::json(
            path,
            json!({"code": format!("KV{n}"), "name": format!("Kho thôn {n}"), "area_code": "0665801", "parent_code": "KC193"}),
        ),
        ("POST", "/api/v1/stores/{code}/equipment") => Call::json(
            "/api/v1/stores/K193/equipment",
            json!({"kind": "refrigerator", "min_c": 2.0, "max_c": 8.0, "capacity_doses": 5000}),
        ),
        ("POST", "/api/v1/equipment/{id}/working") => {
            let equipment = fresh_equipment(w, "K193").await;
            Call::json(
                format!("/api/v1/equipment/{equipment}/working"),
                json!({"working": true}),
            )
        }
        ("POST", "/api/v1/equipment/{id}/readings") => {
            let equipment = fresh_equipment(w, "K193").await;
            Call::json(
                format!("/api/v1/equipment/{equipment}/readings"),
                json!({"readings": [{"at": now_minus_minutes(5), "temperature_c": 5.0}]}),
            )
        }
        ("POST", "/api/v1/equipment/{id}/readings/import") => {
            let equipment = fresh_equipment(w, "K193").await;
            Call::csv(
                format!("/api/v1/equipment/{equipment}/readings/import"),
                format!("at,temperature_c\n{},5.0\n", now_minus_minutes(5)),
            )
        }
        ("POST", "/api/v1/stores/{code}/movements") => Call::json(
            "/api/v1/stores/K193/movements",
            json!({"product_code": "AZ", "lot_number": "AZ-S", "kind": "receipt", "quantity": 10,
                   "source": "purchase", "document": format!("HD-{n}")}),
        ),
        ("POST", "/api/v1/stores/{code}/items") => Call::json(
            "/api/v1/stores/K193/items",
            json!({"item_code": "AD-T", "kind": "receipt", "quantity": 5, "note": format!("PX-{n}")}),
        ),
        ("POST", "/api/v1/shipments") => Call::json(
            path,
            json!({"from_store": "K193", "to_store": "KC193", "product_code": "AZ", "lot_number": "AZ-S", "quantity": 10}),
        ),
        ("POST", "/api/v1/shipments/{id}/receive") => {
            let shipment = fresh_shipment(w, "K193", "KC193").await;
            Call::json(
                format!("/api/v1/shipments/{shipment}/receive"),
                json!({"received": 10}),
            )
        }
        ("POST", "/api/v1/allocations/proposal") => Call::json(
            path,
            json!({"from_store": "K193", "product_code": "AZ", "lot_number": "AZ-S", "vials": 1}),
        ),
        ("POST", "/api/v1/allocations") => Call::json(
            path,
            json!({"from_store": "K193", "product_code": "AZ", "lot_number": "AZ-S", "vials": 1,
                   "parts": [{"store_code": "KC193", "vials": 1}]}),
        ),
        ("POST", "/api/v1/lots/{product_code}/{lot_number}/status") => {
            let lot = fresh_lot(w, n, "K193").await;
            Call::json(
                format!("/api/v1/lots/AZ/{lot}/status"),
                json!({"status": "quarantined", "reason": "heat to 9.4 °C for 95 min"}),
            )
        }

        // Outbreaks: laboratory LAB193, facility H193 (active), team T193,
        // all of district 193.
        ("POST", "/api/v1/outbreak/cases") => {
            let person = fresh_person(w, n).await;
            Call::json(path, confirm_body(&person, &days_ago(1)))
        }
        ("POST", "/api/v1/outbreak/cases/{id}/outcome") => {
            let case = fresh_case(w, n, "0665801").await;
            Call::json(
                format!("/api/v1/outbreak/cases/{case}/outcome"),
                json!({"outcome": "recovered", "recovered_on": today()}),
            )
        }
        ("POST", "/api/v1/outbreak/cases/{id}/reverse") => {
            let case = fresh_case(w, n, "0665801").await;
            Call::json(
                format!("/api/v1/outbreak/cases/{case}/reverse"),
                json!({"reason": "the test was another person's"}),
            )
        }
        ("POST", "/api/v1/outbreak/contacts") => {
            let case = fresh_case(w, n, "0665801").await;
            let contact = fresh_person(w, n + 100_000).await;
            Call::json(
                path,
                contact_body(&case, &contact, &days_ago(2), "household"),
            )
        }
        ("POST", "/api/v1/outbreak/contacts/import") => {
            let case = fresh_case(w, n, "0665801").await;
            let contact = fresh_person(w, n + 100_000).await;
            Call::csv(
                path,
                format!(
                    "source_person_id,contact_person_id,id_type,id_number,full_name,birth_date,sex,home_area,phone,exposure_date,setting\n\
                     {case},{contact},,,,,,,,{},household\n",
                    days_ago(2)
                ),
            )
        }
        ("POST", "/api/v1/outbreak/isolations") => {
            let f2 = fresh_f2(w, n, "0665801", false).await;
            Call::json(
                path,
                json!({"person_id": f2, "start_on": days_ago(1), "home_possible": true}),
            )
        }
        ("POST", "/api/v1/outbreak/checks") => {
            let f2 = fresh_f2(w, n, "0665801", true).await;
            Call::json(
                path,
                json!({"person_id": f2, "present": true, "temperature_c": 36.8, "spo2": 98}),
            )
        }
        ("POST", "/api/v1/outbreak/laboratories") => Call::json(
            path,
            json!({"code": format!("L{n}"), "name": format!("Phòng xét nghiệm {n}"), "area_code": "193",
                   "single_per_day": 10, "confirmatory_per_day": 2, "max_pool": 5}),
        ),
        ("POST", "/api/v1/outbreak/laboratories/{code}/samples") => {
            let person = fresh_person(w, n).await;
            Call::json(
                "/api/v1/outbreak/laboratories/LAB193/samples",
                json!({"samples": [{"person_id": person}]}),
            )
        }
        ("POST", "/api/v1/outbreak/laboratories/{code}/tests") => {
            let sample = fresh_sample(w, n, "0665801", "LAB193").await;
            Call::json(
                "/api/v1/outbreak/laboratories/LAB193/tests",
                json!({ "samples": [sample] }),
            )
        }
        ("POST", "/api/v1/outbreak/tests/{id}/result") => {
            let test = fresh_test(w, n, "0665801", "LAB193").await;
            Call::json(
                format!("/api/v1/outbreak/tests/{test}/result"),
                json!({"outcome": "negative"}),
            )
        }
        ("POST", "/api/v1/outbreak/surge") => {
            let (s, all) = app.get("/api/v1/outbreak/scenarios").await;
            assert_eq!(s, 200, "{all}");
            Call::json(path, all["scenarios"][0].clone())
        }
        ("POST", "/api/v1/outbreak/facilities") => Call::json(path, facility_body(n, "193", None)),
        ("POST", "/api/v1/outbreak/facilities/{code}/activate") => {
            made(
                app,
                "/api/v1/outbreak/facilities",
                facility_body(n, "193", None),
            )
            .await;
            Call::json(
                format!("/api/v1/outbreak/facilities/F{n}/activate"),
                json!({}),
            )
        }
        ("POST", "/api/v1/outbreak/admissions") => {
            let case = fresh_case(w, n, "0665801").await;
            Call::json(
                path,
                json!({"facility_code": "H193", "person_id": case, "admitted_on": days_ago(1)}),
            )
        }
        ("POST", "/api/v1/outbreak/admissions/{id}/discharge") => {
            let admission = fresh_admission(w, n, "0665801", "H193").await;
            Call::json(
                format!("/api/v1/outbreak/admissions/{admission}/discharge"),
                json!({"reason": "recovered"}),
            )
        }
        ("POST", "/api/v1/outbreak/teams") => Call::json(
            path,
            json!({"code": format!("T{n}"), "name": format!("Đội {n}"), "kind": "rapid_response",
                   "area_code": "06658", "members": 4}),
        ),
        ("POST", "/api/v1/outbreak/teams/{code}/assignments") => Call::json(
            "/api/v1/outbreak/teams/T193/assignments",
            json!({"area_code": "06658"}),
        ),
        ("PUT", "/api/v1/outbreak/isolation-policy") => {
            let (s, p) = app
                .get("/api/v1/outbreak/isolation-policy?province=22")
                .await;
            assert_eq!(s, 200, "{p}");
            Call::json(
                "/api/v1/outbreak/isolation-policy?province=22",
                p["policy"].clone(),
            )
        }
        _ => return None,
    };
    Some(call)
}

/// A treatment facility F{n} of `area` (centre region, a thousand beds of
/// each tier), active from `activated_on` when given.
pub fn facility_body(n: u32, area: &str, activated_on: Option<&str>) -> Value {
    json!({"code": format!("F{n}"), "name": format!("Cơ sở {n}"), "area_code": area, "region": "centre",
           "mild_moderate_beds": 1000, "severe_critical_beds": 100, "icu_beds": 10,
           "activate_at_cases": 0, "activated_on": activated_on})
}

async fn fresh_class(w: &World) -> String {
    id_of(
        &made(
            &w.app,
            "/api/v1/training/classes",
            json!({"topic": "vaccination", "starts_on": today(), "ends_on": today(), "trainer": "u-trainer"}),
        )
        .await,
    )
}

/// What the write routes' calls need beside the world's persons: commune
/// 06659 of district 193, stores (K22 > K193 > KC193, K22 > K194) with lot
/// AZ-S held at K193, the item AD-T, laboratory LAB193, active facility
/// H193 and team T193.
pub async fn stock_and_outbreak_fixtures(app: &TestApp) {
    made(
        app,
        "/api/v1/areas",
        json!({"code": "06659", "parent_code": "193", "level": "commune", "name": "Bạch Đằng"}),
    )
    .await;
    made(
        app,
        "/api/v1/lots",
        json!({"product_code": "AZ", "lot_number": "AZ-S", "expiry": "2030-12-31", "doses": 100000}),
    )
    .await;
    for body in [
        json!({"code": "K22", "name": "Kho tỉnh Quảng Ninh", "area_code": "22"}),
        json!({"code": "K193", "name": "Kho Hạ Long", "area_code": "193", "parent_code": "K22"}),
        json!({"code": "KC193", "name": "Kho Hồng Gai", "area_code": "06658", "parent_code": "K193"}),
        json!({"code": "K194", "name": "Kho Móng Cái", "area_code": "194", "parent_code": "K22"}),
    ] {
        made(app, "/api/v1/stores", body).await;
    }
    for store in ["K193", "K194"] {
        made(
            app,
            &format!("/api/v1/stores/{store}/movements"),
            json!({"product_code": "AZ", "lot_number": "AZ-S", "kind": "receipt", "quantity": 50000,
                   "source": "covax", "document": format!("COVAX-{store}")}),
        )
        .await;
    }
    made(
        app,
        "/api/v1/supply-items",
        json!({"code": "AD-T", "name": "Bơm kim tiêm tự khóa", "kind": "ad_syringe"}),
    )
    .await;
    made(
        app,
        "/api/v1/outbreak/laboratories",
        json!({"code": "LAB193", "name": "Phòng xét nghiệm Hạ Long", "area_code": "193",
               "single_per_day": 1000, "confirmatory_per_day": 100, "max_pool": 5}),
    )
    .await;
    let mut facility = facility_body(0, "193", Some(&days_ago(10)));
    facility["code"] = json!("H193");
    made(app, "/api/v1/outbreak/facilities", facility).await;
    made(
        app,
        "/api/v1/outbreak/teams",
        json!({"code": "T193", "name": "Đội Hạ Long", "kind": "rapid_response", "area_code": "193", "members": 5}),
    )
    .await;
}

/// A write on a record outside the caller's areas: the refusal every
/// area- or site-scoped role allowed the route (or those named) must get,
/// and what the administrator reads back, unchanged after it.
pub struct Outside {
    pub method: &'static str,
    /// The route, as the policy matrix names it.
    pub route: &'static str,
    pub call: Call,
    pub answer: Answer,
    /// The roles that try it, when not every scoped role the route allows.
    pub roles: Option<&'static [&'static str]>,
    pub read_back: String,
    /// Whether the call is recorded in the audit log even when it changes
    /// nothing (a recall order reaching none of the caller's persons).
    pub audited: bool,
}

pub enum Answer {
    /// Refused with this status, naming this field when it names one.
    Refused(u16, Option<&'static str>),
}

fn outside(
    method: &'static str,
    route: &'static str,
    call: Call,
    answer: Answer,
    read_back: impl Into<String>,
) -> Outside {
    Outside {
        method,
        route,
        call,
        answer,
        roles: None,
        read_back: read_back.into(),
        audited: false,
    }
}

impl Outside {
    fn by(mut self, roles: &'static [&'static str]) -> Outside {
        self.roles = Some(roles);
        self
    }

    fn audited(mut self) -> Outside {
        self.audited = true;
        self
    }
}

/// Answered as absent.
const ABSENT: Answer = Answer::Refused(404, None);

/// Refused naming `field`, as the route documents for a record it names
/// in the body outside the caller's areas.
const fn named(status: u16, field: &'static str) -> Answer {
    Answer::Refused(status, Some(field))
}

/// Roles held at an area (district 193) or for one person: district 194
/// is outside their areas.
const AREA_ROLES: &[&str] = &[
    "planner",
    "statistics_officer",
    "epidemic_responder",
    "cold_chain_officer",
    "resident",
];

/// Roles held at site S1: they reach the persons of S1's whole province
/// (22), so their outside persons live in province 23; the records of a
/// site (a visit, a dose given) are outside at site S2.
const SITE_ROLES: &[&str] = &["registrar", "screener", "vaccinator", "observer"];

/// The out-of-area writes, with their records in district 194 and at
/// site S2 made first: laboratory LAB194, facilities H194 (active) and
/// F9194 (not yet), team T194, and the person, dose, appointment, visit,
/// case, shipment, equipment and lot each check names.
pub async fn outside_writes(w: &World) -> Vec<Outside> {
    let app = &w.app;
    made(
        app,
        "/api/v1/outbreak/laboratories",
        json!({"code": "LAB194", "name": "Phòng xét nghiệm Móng Cái", "area_code": "194",
               "single_per_day": 1000, "confirmatory_per_day": 100, "max_pool": 5}),
    )
    .await;
    let mut facility = facility_body(0, "194", Some(&days_ago(10)));
    facility["code"] = json!("H194");
    made(app, "/api/v1/outbreak/facilities", facility).await;
    made(
        app,
        "/api/v1/outbreak/facilities",
        facility_body(9194, "194", None),
    )
    .await;
    made(
        app,
        "/api/v1/outbreak/teams",
        json!({"code": "T194", "name": "Đội Móng Cái", "kind": "rapid_response", "area_code": "194", "members": 5}),
    )
    .await;
    let n = 0;
    let person = |p: &str| format!("/api/v1/persons/{p}");
    let outside_person = w.outside.clone();
    let twin = fresh_person_in(w, n + 1, "06700").await;
    let (appointment, session, day) = fresh_appointment(w, n + 2, "S2", &outside_person).await;
    let (other_session, other_day) = fresh_session(w, n + 3, "S2").await;
    let other = fresh_person_in(w, n + 4, "06700").await;
    let campaign = fresh_campaign(w, n + 5, "194").await;
    let visitor = fresh_person_in(w, n + 6, "06700").await;
    let visit = id_of(
        &made(
            app,
            "/api/v1/visits",
            json!({"person_id": visitor, "site_code": "S2", "product_code": "AZ"}),
        )
        .await,
    );
    let investigation = fresh_investigation(w, n + 7, "06700", "S2").await;
    let equipment = fresh_equipment(w, "K194").await;
    made(
        app,
        "/api/v1/stores/K22/movements",
        json!({"product_code": "AZ", "lot_number": "AZ-S", "kind": "receipt", "quantity": 1000,
               "source": "covax", "document": "COVAX-K22"}),
    )
    .await;
    let shipment = fresh_shipment(w, "K22", "K194").await;
    let lot = fresh_lot(w, n + 8, "K194").await;
    let case = fresh_case(w, n + 9, "06700").await;
    let f2 = fresh_f2(w, n + 10, "06700", true).await;
    let uncounted = fresh_person_in(w, n + 11, "06700").await;
    let test = fresh_test(w, n + 12, "06700", "LAB194").await;
    let admission = fresh_admission(w, n + 13, "06700", "H194").await;
    let dose_at_s2 = {
        let mut body = dose_body(&new_id(), &outside_person, &today());
        body["site_code"] = json!("S2");
        body
    };
    made(
        app,
        "/api/v1/lots",
        json!({"product_code": "AZ", "lot_number": "AZ-R", "expiry": "2030-12-31", "doses": 100}),
    )
    .await;
    let certified = fresh_person_in(w, n + 24, "06700").await;
    let mut given = dose_body(&new_id(), &certified, &today());
    given["site_code"] = json!("S2");
    given["lot_number"] = json!("AZ-R");
    made(app, "/api/v1/doses", given).await;
    made(
        app,
        &format!("/api/v1/persons/{certified}/certificate"),
        json!({}),
    )
    .await;
    another_province(app).await;
    let far = fresh_person_in(w, n + 14, "06100").await;
    let far_dose = fresh_dose(w, n + 15, "06100", "S3").await;
    let (far_appointment, far_session, far_day) = fresh_appointment(w, n + 16, "S3", &far).await;
    let (far_other_session, far_other_day) = fresh_session(w, n + 17, "S3").await;
    let far_other = fresh_person_in(w, n + 18, "06100").await;
    // A booking of the outside person at S2, which the resident sends
    // again with its id.
    let booked = json!({"id": new_id(), "person_id": other, "session_id": other_session,
                        "starts_at": format!("{other_day}T07:30")});
    made(app, "/api/v1/appointments", booked.clone()).await;
    vec![
        // The registry: district 194 for area roles, province 23 for
        // site roles.
        outside(
            "POST",
            "/api/v1/persons",
            Call::json("/api/v1/persons", person_body(n + 20, "06700")),
            named(422, "home_area"),
            format!("/api/v1/persons?id_number={}", id_number(n + 20)),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/persons",
            Call::json("/api/v1/persons", person_body(n + 22, "06100")),
            named(422, "home_area"),
            format!("/api/v1/persons?id_number={}", id_number(n + 22)),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/persons/{id}/identifiers",
            Call::json(
                format!("{}/identifiers", person(&outside_person)),
                json!({"id_type": "mrn", "authority": "BV-MC", "value": "MRN-OUT"}),
            ),
            ABSENT,
            person(&outside_person),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/persons/{id}/identifiers",
            Call::json(
                format!("{}/identifiers", person(&far)),
                json!({"id_type": "mrn", "authority": "BV-LS", "value": "MRN-FAR"}),
            ),
            ABSENT,
            person(&far),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/persons/{id}/merge",
            Call::json(
                format!("{}/merge", person(&outside_person)),
                json!({"duplicate_id": twin, "reason": "one person registered twice"}),
            ),
            ABSENT,
            person(&twin),
        ),
        outside(
            "POST",
            "/api/v1/persons/{id}/certificate",
            Call::json(format!("{}/certificate", person(&outside_person)), json!({})),
            ABSENT,
            format!("{}/doses", person(&outside_person)),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/persons/{id}/certificate",
            Call::json(format!("{}/certificate", person(&far)), json!({})),
            ABSENT,
            format!("{}/doses", person(&far)),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/doses",
            Call::json("/api/v1/doses", dose_at_s2),
            named(403, "site_code"),
            format!("{}/doses", person(&outside_person)),
        ),
        // A vaccinator of S1 records no dose at S2, and enters none given
        // there in error.
        outside(
            "POST",
            "/api/v1/doses/{id}/entered-in-error",
            Call::json(
                format!("/api/v1/doses/{}/entered-in-error", w.outside_dose),
                json!({"id": new_id(), "reason": "wrong person", "author": "nurse"}),
            ),
            named(403, "dose_id"),
            format!("{}/doses", person(&outside_person)),
        ),
        outside(
            "POST",
            "/api/v1/doses/{id}/entered-in-error",
            Call::json(
                format!("/api/v1/doses/{far_dose}/entered-in-error"),
                json!({"id": new_id(), "reason": "wrong person", "author": "nurse"}),
            ),
            ABSENT,
            format!("/api/v1/doses/{far_dose}"),
        ),
        // Imports: every row is checked before anything is written.
        outside(
            "POST",
            "/api/v1/persons/import",
            Call::csv(
                "/api/v1/persons/import",
                format!(
                    "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n\
                     cccd,{},Người Ngoài,1980-05-17,male,0912345678,06700,,\n",
                    id_number(n + 23)
                ),
            ),
            Answer::Refused(422, None),
            format!("/api/v1/persons?id_number={}", id_number(n + 23)),
        ),
        // Each row of a doses file is recorded or refused on its own: the
        // file is answered 200, the row refused.
        outside(
            "POST",
            "/api/v1/doses/import",
            Call::csv(
                "/api/v1/doses/import",
                format!(
                    "id,person_id,kind,corrects_id,product_code,lot_number,site_code,administered_on,reason,author\n\
                     {},{outside_person},historical,,PFIZER,,,2021-05-01,,\n",
                    new_id()
                ),
            ),
            Answer::Refused(200, None),
            format!("{}/doses", person(&outside_person)),
        ),
        outside(
            "POST",
            "/api/v1/sessions/import",
            Call::csv(
                "/api/v1/sessions/import",
                format!(
                    "id,site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes,village_code\n\
                     ,S2,{},07:00,09:00,1,4,30,\n",
                    days_ahead(8)
                ),
            ),
            Answer::Refused(422, None),
            "/api/v1/sessions?site=S2",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/contacts/import",
            Call::csv(
                "/api/v1/outbreak/contacts/import",
                format!(
                    "source_person_id,contact_person_id,id_type,id_number,full_name,birth_date,sex,home_area,phone,exposure_date,setting\n\
                     {case},{uncounted},,,,,,,,{},household\n",
                    days_ago(2)
                ),
            ),
            Answer::Refused(422, None),
            "/api/v1/outbreak/contacts",
        ),
        // A recall revokes the certificates of the caller's persons only:
        // the certificate of lot AZ-R, given in district 194, stays valid.
        outside(
            "POST",
            "/api/v1/dcc/revocations",
            Call::json(
                "/api/v1/dcc/revocations",
                json!({"product_code": "AZ", "lot_number": "AZ-R", "reason": "manufacturer recall"}),
            ),
            Answer::Refused(200, None),
            "/api/v1/dcc/revocation-list",
        )
        .audited(),
        // Partners' records of a person of another province.
        outside(
            "POST",
            "/fhir/Immunization",
            Call::raw(
                "/fhir/Immunization",
                "application/fhir+json",
                json!({"resourceType": "Immunization", "status": "completed",
                       "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
                       "patient": {"reference": format!("Patient/{far}")},
                       "occurrenceDateTime": "1981-06-01", "primarySource": false})
                .to_string()
                .into_bytes(),
            ),
            // The patient is answered as absent: no Patient of the registry
            // the caller may see.
            Answer::Refused(422, None),
            format!("{}/doses", person(&far)),
        )
        .by(SITE_ROLES),
        // The same in a transaction: refused whole.
        outside(
            "POST",
            "/fhir",
            Call::raw(
                "/fhir",
                "application/fhir+json",
                json!({"resourceType": "Bundle", "type": "transaction", "entry": [{
                    "resource": {"resourceType": "Immunization", "status": "completed",
                        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
                        "patient": {"reference": format!("Patient/{far}")},
                        "occurrenceDateTime": "1982-06-01", "primarySource": false},
                    "request": {"method": "POST", "url": "Immunization"}}]})
                .to_string()
                .into_bytes(),
            ),
            Answer::Refused(422, None),
            format!("{}/doses", person(&far)),
        )
        .by(SITE_ROLES),
        // A message about a person of another province, found by their
        // national ID number.
        outside(
            "POST",
            "/hl7/v2",
            Call::raw(
                "/hl7/v2",
                "x-application/hl7-v2+er7",
                vxu(n + 14).into_bytes(),
            ),
            // Answered with an ACK AE naming the person, nothing kept.
            Answer::Refused(422, None),
            format!("{}/doses", person(&far)),
        )
        .by(SITE_ROLES),
        // Sessions, appointments, campaigns.
        outside(
            "POST",
            "/api/v1/sessions",
            Call::json(
                "/api/v1/sessions",
                json!({"site_code": "S2", "day": days_ahead(9), "opens": "07:00", "closes": "09:00",
                       "stations": 1, "per_station_per_hour": 4, "slot_minutes": 30}),
            ),
            named(422, "site_code"),
            "/api/v1/sessions?site=S2",
        ),
        outside(
            "PUT",
            "/api/v1/sites/{code}/zones",
            Call::json(
                "/api/v1/sites/S2/zones",
                json!({"zones": [
                    {"kind": "vaccination", "name": "Phòng tiêm", "places": 2},
                    {"kind": "observation", "name": "Khu theo dõi", "places": 30},
                    {"kind": "treatment", "name": "Xử trí phản vệ", "places": 2}]}),
            ),
            ABSENT,
            "/api/v1/sites/S2/zones",
        ),
        outside(
            "POST",
            "/api/v1/appointments",
            Call::json(
                "/api/v1/appointments",
                json!({"id": new_id(), "person_id": other, "session_id": other_session,
                       "starts_at": format!("{other_day}T07:00")}),
            ),
            named(422, "person_id"),
            format!("/api/v1/sessions/{other_session}"),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/appointments",
            Call::json(
                "/api/v1/appointments",
                json!({"id": new_id(), "person_id": far_other, "session_id": far_other_session,
                       "starts_at": format!("{far_other_day}T07:00")}),
            ),
            named(422, "person_id"),
            format!("/api/v1/sessions/{far_other_session}"),
        )
        .by(SITE_ROLES),
        // A booking sent again with its id by someone who may not see its
        // person is answered as a booking of that person: refused.
        outside(
            "POST",
            "/api/v1/appointments",
            Call::json("/api/v1/appointments", booked),
            named(422, "person_id"),
            format!("/api/v1/sessions/{other_session}"),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/cancel",
            Call::json(format!("/api/v1/appointments/{appointment}/cancel"), json!({})),
            ABSENT,
            format!("/api/v1/appointments/{appointment}"),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/cancel",
            Call::json(format!("/api/v1/appointments/{far_appointment}/cancel"), json!({})),
            ABSENT,
            format!("/api/v1/appointments/{far_appointment}"),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/no-show",
            Call::json(format!("/api/v1/appointments/{appointment}/no-show"), json!({})),
            ABSENT,
            format!("/api/v1/appointments/{appointment}"),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/no-show",
            Call::json(format!("/api/v1/appointments/{far_appointment}/no-show"), json!({})),
            ABSENT,
            format!("/api/v1/appointments/{far_appointment}"),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/reschedule",
            Call::json(
                format!("/api/v1/appointments/{appointment}/reschedule"),
                json!({"id": new_id(), "session_id": session, "starts_at": format!("{day}T07:30")}),
            ),
            named(422, "person_id"),
            format!("/api/v1/appointments/{appointment}"),
        )
        .by(AREA_ROLES),
        outside(
            "POST",
            "/api/v1/appointments/{id}/reschedule",
            Call::json(
                format!("/api/v1/appointments/{far_appointment}/reschedule"),
                json!({"id": new_id(), "session_id": far_session, "starts_at": format!("{far_day}T07:30")}),
            ),
            named(422, "person_id"),
            format!("/api/v1/appointments/{far_appointment}"),
        )
        .by(SITE_ROLES),
        outside(
            "POST",
            "/api/v1/campaigns",
            Call::json("/api/v1/campaigns", campaign_body(n + 21, "194")),
            named(422, "area_code"),
            "/api/v1/campaigns",
        ),
        outside(
            "POST",
            "/api/v1/campaigns/{id}/waves",
            Call::json(
                format!("/api/v1/campaigns/{campaign}/waves"),
                json!({"name": "Đợt ngoài", "starts_on": today(), "ends_on": days_ahead(30),
                       "eligible_groups": ["frontline"]}),
            ),
            ABSENT,
            format!("/api/v1/campaigns/{campaign}"),
        ),
        outside(
            "POST",
            "/api/v1/campaigns/{id}/targets",
            Call::json(
                format!("/api/v1/campaigns/{campaign}/targets"),
                json!({"area": "194"}),
            ),
            ABSENT,
            format!("/api/v1/campaigns/{campaign}/targets?area=194"),
        ),
        outside(
            "POST",
            "/api/v1/campaigns/{id}/daily-targets",
            Call::json(
                format!("/api/v1/campaigns/{campaign}/daily-targets"),
                json!({"area": "194", "doses_per_day": 1}),
            ),
            ABSENT,
            format!("/api/v1/campaigns/{campaign}/targets?area=194"),
        ),
        // The vaccination table.
        // The staff of S1 open no visit at S2.
        outside(
            "POST",
            "/api/v1/visits",
            Call::json(
                "/api/v1/visits",
                json!({"person_id": other, "site_code": "S2", "product_code": "AZ"}),
            ),
            named(403, "site_code"),
            "/api/v1/sites/S2/today",
        ),
        // Nor do they record the events of a visit at S2.
        outside(
            "POST",
            "/api/v1/visits/{id}/events",
            Call::json(
                format!("/api/v1/visits/{visit}/events"),
                json!({"kind": "check_in", "temperature_c": 36.7}),
            ),
            named(403, "site_code"),
            format!("/api/v1/visits/{visit}"),
        ),
        outside(
            "POST",
            "/api/v1/investigations/{id}/causality",
            Call::json(
                format!("/api/v1/investigations/{investigation}/causality"),
                json!({"causality": "A1"}),
            ),
            ABSENT,
            "/api/v1/investigations",
        ),
        // Stock.
        outside(
            "POST",
            "/api/v1/stores",
            Call::json(
                "/api/v1/stores",
                json!({"code": "KOUT", "name": "Kho ngoài", "area_code": "06700", "parent_code": "K194"}),
            ),
            named(422, "area_code"),
            "/api/v1/stores",
        ),
        outside(
            "POST",
            "/api/v1/stores/{code}/movements",
            Call::json(
                "/api/v1/stores/K194/movements",
                json!({"product_code": "AZ", "lot_number": "AZ-S", "kind": "receipt", "quantity": 10,
                       "source": "purchase", "document": "HD-OUT"}),
            ),
            ABSENT,
            "/api/v1/stores/K194/movements",
        ),
        outside(
            "POST",
            "/api/v1/stores/{code}/equipment",
            Call::json(
                "/api/v1/stores/K194/equipment",
                json!({"kind": "refrigerator", "min_c": 2.0, "max_c": 8.0}),
            ),
            ABSENT,
            "/api/v1/stores/K194",
        ),
        outside(
            "POST",
            "/api/v1/stores/{code}/items",
            Call::json(
                "/api/v1/stores/K194/items",
                json!({"item_code": "AD-T", "kind": "receipt", "quantity": 5, "note": "PX-OUT"}),
            ),
            ABSENT,
            "/api/v1/stores/K194/items",
        ),
        outside(
            "POST",
            "/api/v1/equipment/{id}/working",
            Call::json(
                format!("/api/v1/equipment/{equipment}/working"),
                json!({"working": false}),
            ),
            ABSENT,
            "/api/v1/stores/K194",
        ),
        outside(
            "POST",
            "/api/v1/equipment/{id}/readings",
            Call::json(
                format!("/api/v1/equipment/{equipment}/readings"),
                json!({"readings": [{"at": now_minus_minutes(5), "temperature_c": 5.0}]}),
            ),
            ABSENT,
            format!("/api/v1/equipment/{equipment}/readings"),
        ),
        outside(
            "POST",
            "/api/v1/equipment/{id}/readings/import",
            Call::csv(
                format!("/api/v1/equipment/{equipment}/readings/import"),
                format!("at,temperature_c\n{},5.0\n", now_minus_minutes(5)),
            ),
            ABSENT,
            format!("/api/v1/equipment/{equipment}/readings"),
        ),
        outside(
            "POST",
            "/api/v1/shipments",
            Call::json(
                "/api/v1/shipments",
                json!({"from_store": "K194", "to_store": "K193", "product_code": "AZ", "lot_number": "AZ-S", "quantity": 10}),
            ),
            named(422, "from_store"),
            "/api/v1/stores/K194/stock",
        ),
        outside(
            "POST",
            "/api/v1/shipments/{id}/receive",
            Call::json(
                format!("/api/v1/shipments/{shipment}/receive"),
                json!({"received": 10}),
            ),
            ABSENT,
            format!("/api/v1/shipments/{shipment}"),
        ),
        outside(
            "POST",
            "/api/v1/allocations",
            Call::json(
                "/api/v1/allocations",
                json!({"from_store": "K22", "product_code": "AZ", "lot_number": "AZ-S", "vials": 1,
                       "parts": [{"store_code": "K194", "vials": 1}]}),
            ),
            named(422, "from_store"),
            "/api/v1/stores/K194/stock",
        ),
        outside(
            "POST",
            "/api/v1/lots/{product_code}/{lot_number}/status",
            Call::json(
                format!("/api/v1/lots/AZ/{lot}/status"),
                json!({"status": "quarantined", "reason": "heat"}),
            ),
            ABSENT,
            format!("/api/v1/lots/AZ/{lot}"),
        ),
        // Outbreaks.
        outside(
            "POST",
            "/api/v1/outbreak/cases",
            Call::json(
                "/api/v1/outbreak/cases",
                confirm_body(&uncounted, &days_ago(1)),
            ),
            // A person a body names and the caller cannot see is answered
            // as one not registered.
            named(422, "person_id"),
            "/api/v1/outbreak/cases",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/cases/{id}/outcome",
            Call::json(
                format!("/api/v1/outbreak/cases/{case}/outcome"),
                json!({"outcome": "recovered", "recovered_on": today()}),
            ),
            ABSENT,
            format!("/api/v1/outbreak/cases/{case}"),
        ),
        outside(
            "POST",
            "/api/v1/outbreak/cases/{id}/reverse",
            Call::json(
                format!("/api/v1/outbreak/cases/{case}/reverse"),
                json!({"reason": "the test was another person's"}),
            ),
            ABSENT,
            format!("/api/v1/outbreak/cases/{case}"),
        ),
        outside(
            "POST",
            "/api/v1/outbreak/contacts",
            Call::json(
                "/api/v1/outbreak/contacts",
                contact_body(&case, &uncounted, &days_ago(2), "household"),
            ),
            named(422, "source_person_id"),
            "/api/v1/outbreak/contacts",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/isolations",
            Call::json(
                "/api/v1/outbreak/isolations",
                json!({"person_id": f2, "start_on": days_ago(0), "home_possible": true}),
            ),
            named(422, "person_id"),
            format!("/api/v1/outbreak/persons/{f2}/isolations"),
        ),
        outside(
            "POST",
            "/api/v1/outbreak/checks",
            Call::json(
                "/api/v1/outbreak/checks",
                json!({"person_id": f2, "present": true, "temperature_c": 36.8, "spo2": 98}),
            ),
            named(422, "person_id"),
            "/api/v1/outbreak/team-list",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/laboratories",
            Call::json(
                "/api/v1/outbreak/laboratories",
                json!({"code": "LOUT", "name": "Ngoài", "area_code": "194", "single_per_day": 10,
                       "confirmatory_per_day": 2, "max_pool": 5}),
            ),
            named(422, "area_code"),
            "/api/v1/outbreak/laboratories",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/laboratories/{code}/samples",
            Call::json(
                "/api/v1/outbreak/laboratories/LAB194/samples",
                json!({"samples": [{"person_id": uncounted}]}),
            ),
            ABSENT,
            "/api/v1/outbreak/laboratories/LAB194/queue",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/laboratories/{code}/tests",
            Call::json(
                "/api/v1/outbreak/laboratories/LAB194/tests",
                json!({"samples": [new_id()]}),
            ),
            ABSENT,
            "/api/v1/outbreak/laboratories/LAB194/queue",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/tests/{id}/result",
            Call::json(
                format!("/api/v1/outbreak/tests/{test}/result"),
                json!({"outcome": "positive"}),
            ),
            ABSENT,
            "/api/v1/outbreak/laboratories/LAB194/queue",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/facilities",
            Call::json(
                "/api/v1/outbreak/facilities",
                facility_body(9195, "194", None),
            ),
            named(422, "area_code"),
            "/api/v1/outbreak/facilities?province=22",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/facilities/{code}/activate",
            Call::json("/api/v1/outbreak/facilities/F9194/activate", json!({})),
            ABSENT,
            "/api/v1/outbreak/facilities/F9194",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/admissions",
            Call::json(
                "/api/v1/outbreak/admissions",
                json!({"facility_code": "H194", "person_id": case}),
            ),
            named(422, "facility_code"),
            "/api/v1/outbreak/facilities/H194",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/admissions/{id}/discharge",
            Call::json(
                format!("/api/v1/outbreak/admissions/{admission}/discharge"),
                json!({"reason": "recovered"}),
            ),
            ABSENT,
            "/api/v1/outbreak/facilities/H194",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/teams",
            Call::json(
                "/api/v1/outbreak/teams",
                json!({"code": "TOUT", "name": "Ngoài", "kind": "ambulance", "area_code": "194", "members": 3}),
            ),
            named(422, "area_code"),
            "/api/v1/outbreak/teams",
        ),
        outside(
            "POST",
            "/api/v1/outbreak/teams/{code}/assignments",
            Call::json(
                "/api/v1/outbreak/teams/T194/assignments",
                json!({"area_code": "06700"}),
            ),
            ABSENT,
            "/api/v1/outbreak/teams/T194",
        ),
    ]
}
