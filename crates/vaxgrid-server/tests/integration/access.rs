//! Who may do what, over real HTTP: the authorization matrix read from the
//! router's own route table, area and site scoping, tokens, sessions,
//! CSRF and the sign-in lockout.

use crate::access_bodies::{
    domain_answer, is_api_write, outside_writes, stock_and_outbreak_fixtures, write_call, Answer,
};
use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{dose_body, new_id, on_both_backends, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    every_route_answers_every_role_as_declared,
    every_write_runs_its_handler_for_the_roles_allowed,
    writes_outside_the_callers_areas_are_refused_and_write_nothing,
    a_district_sees_only_its_district,
    a_vaccinator_records_only_at_their_site,
);

/// Who may call each route: the test's own statement of the policy, kept
/// apart from the route table so that a wrong policy there fails here. A
/// route missing from this list fails the test.
fn expected() -> HashMap<(&'static str, &'static str), &'static [&'static str]> {
    const PUBLIC: &[&str] = &["*"];
    const SIGNED_IN: &[&str] = &[
        "admin",
        "planner",
        "statistics_officer",
        "registrar",
        "screener",
        "vaccinator",
        "observer",
        "trainer",
        "epidemic_responder",
        "verifier",
        "resident",
        "cold_chain_officer",
    ];
    const REFERENCE: &[&str] = &[
        "admin",
        "planner",
        "statistics_officer",
        "registrar",
        "screener",
        "vaccinator",
        "observer",
        "trainer",
        "epidemic_responder",
        "verifier",
        "cold_chain_officer",
    ];
    const ADMIN: &[&str] = &["admin"];
    const READ_REGISTRY: &[&str] = &[
        "admin",
        "planner",
        "statistics_officer",
        "registrar",
        "screener",
        "vaccinator",
        "observer",
        "epidemic_responder",
        "resident",
    ];
    const WRITE_REGISTRY: &[&str] = &["admin", "planner", "registrar"];
    const MANAGE_REGISTRY: &[&str] = &["admin", "planner"];
    const RECORD: &[&str] = &["admin", "vaccinator"];
    const REPORTS: &[&str] = &[
        "admin",
        "planner",
        "statistics_officer",
        "epidemic_responder",
    ];
    const CERTIFICATE: &[&str] = &["admin", "planner", "registrar", "vaccinator", "resident"];
    const EXCHANGE: &[&str] = &["admin", "registrar", "vaccinator"];
    const SESSIONS: &[&str] = &["admin", "planner"];
    const BOOK: &[&str] = &["admin", "registrar", "resident"];
    const TRAINING: &[&str] = &["admin", "trainer"];
    const VISIT: &[&str] = &["admin", "registrar", "screener", "vaccinator", "observer"];
    const READ_STOCK: &[&str] = &[
        "admin",
        "planner",
        "statistics_officer",
        "cold_chain_officer",
    ];
    const MANAGE_STOCK: &[&str] = &["admin", "planner", "cold_chain_officer"];
    const HOLD_LOTS: &[&str] = &["admin", "cold_chain_officer"];
    const OUTBREAK: &[&str] = &["admin", "epidemic_responder"];
    const SURGE: &[&str] = &["admin", "planner", "epidemic_responder"];
    HashMap::from([
        (("GET", "/"), PUBLIC),
        (("GET", "/login"), PUBLIC),
        (("POST", "/login"), PUBLIC),
        (("POST", "/logout"), PUBLIC),
        (("GET", "/verify"), PUBLIC),
        (("GET", "/lang"), PUBLIC),
        (("GET", "/static/{file}"), PUBLIC),
        // The resident portal checks its own resident session.
        (("GET", "/portal"), PUBLIC),
        (("POST", "/portal/find"), PUBLIC),
        (("GET", "/portal/code"), PUBLIC),
        (("POST", "/portal/code"), PUBLIC),
        (("GET", "/portal/me"), PUBLIC),
        (("POST", "/portal/logout"), PUBLIC),
        (("GET", "/portal/certificate"), PUBLIC),
        (("POST", "/portal/hold"), PUBLIC),
        (("GET", "/portal/confirm"), PUBLIC),
        (("POST", "/portal/confirm"), PUBLIC),
        (("POST", "/portal/appointments/{id}/cancel"), PUBLIC),
        (("GET", "/portal/certificate.png"), PUBLIC),
        (("GET", "/portal/certificate/print"), PUBLIC),
        (("GET", "/healthz"), PUBLIC),
        (("GET", "/readyz"), PUBLIC),
        (("GET", "/metrics"), ADMIN),
        (("GET", "/api/v1/openapi.json"), PUBLIC),
        (("GET", "/api/v1/me"), SIGNED_IN),
        (("GET", "/api/v1/areas"), REFERENCE),
        (("POST", "/api/v1/areas"), ADMIN),
        (("POST", "/api/v1/areas/import"), ADMIN),
        (("GET", "/api/v1/areas/{code}"), REFERENCE),
        (("GET", "/api/v1/persons"), READ_REGISTRY),
        (("POST", "/api/v1/persons"), WRITE_REGISTRY),
        (("POST", "/api/v1/persons/import"), MANAGE_REGISTRY),
        (("GET", "/api/v1/persons/{id}"), READ_REGISTRY),
        (("GET", "/api/v1/persons/{id}/doses"), READ_REGISTRY),
        (("GET", "/api/v1/persons/{id}/reminders"), READ_REGISTRY),
        (("POST", "/api/v1/persons/{id}/identifiers"), WRITE_REGISTRY),
        (("POST", "/api/v1/persons/{id}/merge"), MANAGE_REGISTRY),
        (("POST", "/api/v1/persons/{id}/certificate"), CERTIFICATE),
        (("GET", "/api/v1/products"), REFERENCE),
        (("POST", "/api/v1/products"), ADMIN),
        (("GET", "/api/v1/products/{code}"), REFERENCE),
        (("GET", "/api/v1/lots"), REFERENCE),
        (("POST", "/api/v1/lots"), ADMIN),
        (
            ("GET", "/api/v1/lots/{product_code}/{lot_number}"),
            REFERENCE,
        ),
        (("GET", "/api/v1/sites"), REFERENCE),
        (("POST", "/api/v1/sites"), ADMIN),
        (("POST", "/api/v1/sites/import"), ADMIN),
        (("GET", "/api/v1/sites/{code}/catchment"), REFERENCE),
        (("PUT", "/api/v1/sites/{code}/catchment"), ADMIN),
        (("GET", "/api/v1/sites/{code}"), REFERENCE),
        (("POST", "/api/v1/doses"), RECORD),
        (("POST", "/api/v1/doses/import"), MANAGE_REGISTRY),
        (("GET", "/api/v1/doses/{id}"), READ_REGISTRY),
        (("POST", "/api/v1/doses/{id}/entered-in-error"), RECORD),
        (("GET", "/api/v1/reports/coverage"), REPORTS),
        (("GET", "/api/v1/reports/coverage/area-groups"), REPORTS),
        (("GET", "/api/v1/reports/aefi"), REPORTS),
        (("GET", "/api/v1/reports/aefi/events"), REPORTS),
        (("GET", "/api/v1/reports/data-quality"), REPORTS),
        (("GET", "/api/v1/reports/data-quality/persons"), REPORTS),
        (("GET", "/api/v1/reports/training"), REPORTS),
        (("GET", "/reports/training"), REPORTS),
        (("GET", "/reports/aefi"), REPORTS),
        (("GET", "/reports/data-quality"), REPORTS),
        (("GET", "/api/v1/dcc/trust-list"), PUBLIC),
        (("POST", "/api/v1/dcc/verify"), PUBLIC),
        (("POST", "/api/v1/dcc/verify-image"), PUBLIC),
        (("GET", "/api/v1/dcc/revocation-list"), PUBLIC),
        (("POST", "/api/v1/dcc/revocations"), HOLD_LOTS),
        (("GET", "/fhir/metadata"), PUBLIC),
        (("POST", "/fhir"), EXCHANGE),
        (("GET", "/fhir/Patient"), READ_REGISTRY),
        (("POST", "/fhir/Patient"), EXCHANGE),
        (("GET", "/fhir/Patient/{id}"), READ_REGISTRY),
        (("GET", "/fhir/Immunization"), READ_REGISTRY),
        (("GET", "/fhir/Immunization/{id}"), READ_REGISTRY),
        (("POST", "/fhir/Immunization"), EXCHANGE),
        (("GET", "/fhir/$export"), READ_REGISTRY),
        (("POST", "/hl7/v2"), EXCHANGE),
        (("POST", "/api/v1/sessions"), SESSIONS),
        (("POST", "/api/v1/sessions/import"), SESSIONS),
        (("GET", "/api/v1/sessions/{id}"), SIGNED_IN),
        (("POST", "/api/v1/appointments"), BOOK),
        (("GET", "/api/v1/appointments/{id}"), READ_REGISTRY),
        (("POST", "/api/v1/appointments/{id}/cancel"), BOOK),
        (("POST", "/api/v1/appointments/{id}/no-show"), BOOK),
        (("POST", "/api/v1/appointments/{id}/reschedule"), BOOK),
        (("GET", "/api/v1/persons/{id}/next-dose"), READ_REGISTRY),
        (("GET", "/api/v1/sites/{code}/zones"), REFERENCE),
        (
            ("POST", "/api/v1/investigations/{id}/causality"),
            &["admin", "epidemic_responder"],
        ),
        (("PUT", "/api/v1/sites/{code}/zones"), SESSIONS),
        (("POST", "/api/v1/campaigns"), SESSIONS),
        (("GET", "/api/v1/campaigns/{id}"), REFERENCE),
        (("POST", "/api/v1/campaigns/{id}/waves"), SESSIONS),
        (("POST", "/api/v1/campaigns/{id}/targets"), SESSIONS),
        (("GET", "/api/v1/campaigns/{id}/targets"), REPORTS),
        (("POST", "/api/v1/campaigns/{id}/daily-targets"), SESSIONS),
        (
            ("GET", "/api/v1/campaigns/{id}/waves/{wave}/progress"),
            REPORTS,
        ),
        (
            ("GET", "/api/v1/campaigns/{id}/waves/{wave}/survey"),
            READ_REGISTRY,
        ),
        (("POST", "/api/v1/training/classes"), TRAINING),
        (
            ("POST", "/api/v1/training/classes/{id}/attendees"),
            TRAINING,
        ),
        (("POST", "/api/v1/training/classes/{id}/exams"), TRAINING),
        (("GET", "/api/v1/staff/{username}/certificates"), SIGNED_IN),
        (("POST", "/api/v1/visits"), VISIT),
        (("GET", "/api/v1/visits/{id}"), READ_REGISTRY),
        (("POST", "/api/v1/visits/{id}/events"), VISIT),
        (("GET", "/api/v1/products/{code}/screening"), REFERENCE),
        (("PUT", "/api/v1/products/{code}/screening"), ADMIN),
        (("GET", "/api/v1/sites/{code}/observation"), VISIT),
        (("GET", "/api/v1/sites/{code}/today"), REFERENCE),
        (("GET", "/sites/{code}/board"), VISIT),
        (("GET", "/planner"), REPORTS),
        (("GET", "/planner/areas/{code}"), REPORTS),
        (("GET", "/sites/{code}/table"), VISIT),
        (("GET", "/sites/{code}/table/find"), VISIT),
        (("GET", "/sites/{code}/table/walk-in"), WRITE_REGISTRY),
        (("POST", "/sites/{code}/table/walk-in"), WRITE_REGISTRY),
        (("POST", "/sites/{code}/table/visits"), VISIT),
        (("GET", "/sites/{code}/table/visits/{id}"), VISIT),
        (("POST", "/sites/{code}/table/visits/{id}/events"), VISIT),
        (
            ("GET", "/sites/{code}/table/visits/{id}/adverse-event"),
            VISIT,
        ),
        (("GET", "/registry"), READ_REGISTRY),
        (("GET", "/registry/persons/{id}"), READ_REGISTRY),
        (
            ("GET", "/registry/persons/{id}/doses/{dose}/correct"),
            RECORD,
        ),
        (
            ("POST", "/registry/persons/{id}/doses/{dose}/correct"),
            RECORD,
        ),
        (("GET", "/registry/duplicates"), MANAGE_REGISTRY),
        (("POST", "/registry/duplicates/find"), MANAGE_REGISTRY),
        (
            ("GET", "/registry/duplicates/{survivor}/{duplicate}"),
            MANAGE_REGISTRY,
        ),
        (
            ("POST", "/registry/duplicates/{survivor}/{duplicate}/merge"),
            MANAGE_REGISTRY,
        ),
        (
            (
                "POST",
                "/registry/duplicates/{survivor}/{duplicate}/dismiss",
            ),
            MANAGE_REGISTRY,
        ),
        (("GET", "/planner/campaigns"), REPORTS),
        (("POST", "/planner/campaigns"), SESSIONS),
        (("GET", "/planner/campaigns/{id}"), REPORTS),
        (("POST", "/planner/campaigns/{id}/waves"), SESSIONS),
        (("POST", "/planner/campaigns/{id}/targets"), SESSIONS),
        (("GET", "/planner/sites"), REPORTS),
        (("GET", "/planner/sites/{code}"), REPORTS),
        (("POST", "/planner/sites/{code}/zones"), SESSIONS),
        (("POST", "/planner/sites/{code}/sessions"), SESSIONS),
        (("GET", "/api/v1/campaigns"), REFERENCE),
        (("GET", "/api/v1/campaigns/{id}/waves"), REFERENCE),
        (("GET", "/api/v1/sessions"), REFERENCE),
        (("GET", "/api/v1/appointments"), READ_REGISTRY),
        (("GET", "/api/v1/training/classes"), TRAINING),
        (("GET", "/api/v1/training/classes/{id}"), TRAINING),
        (("GET", "/api/v1/investigations"), REPORTS),
        (("GET", "/api/v1/sites/export"), REFERENCE),
        (("GET", "/api/v1/users"), ADMIN),
        (("POST", "/api/v1/users"), ADMIN),
        (("POST", "/api/v1/users/import"), ADMIN),
        (("GET", "/api/v1/users/{username}"), ADMIN),
        (("POST", "/api/v1/users/{username}/grants"), ADMIN),
        (("DELETE", "/api/v1/users/{username}/grants/{grant}"), ADMIN),
        (("POST", "/api/v1/users/{username}/disable"), ADMIN),
        (("POST", "/api/v1/users/{username}/enable"), ADMIN),
        (("POST", "/api/v1/users/{username}/invitation"), ADMIN),
        (("GET", "/api/v1/tokens"), ADMIN),
        (("POST", "/api/v1/tokens"), ADMIN),
        (("DELETE", "/api/v1/tokens/{id}"), ADMIN),
        (("GET", "/api/v1/admin/lockouts"), ADMIN),
        (("POST", "/api/v1/admin/lockouts/clear"), ADMIN),
        (("GET", "/admin/users"), ADMIN),
        (("POST", "/admin/users"), ADMIN),
        (("GET", "/admin/users/{username}"), ADMIN),
        (("POST", "/admin/users/{username}/grants"), ADMIN),
        (("POST", "/admin/users/{username}/grants/revoke"), ADMIN),
        (("POST", "/admin/users/{username}/disable"), ADMIN),
        (("POST", "/admin/users/{username}/enable"), ADMIN),
        (("POST", "/admin/users/{username}/invitation"), ADMIN),
        (("GET", "/admin/tokens"), ADMIN),
        (("POST", "/admin/tokens"), ADMIN),
        (("POST", "/admin/tokens/{id}/revoke"), ADMIN),
        (("GET", "/admin/lockouts"), ADMIN),
        (("POST", "/admin/lockouts/clear"), ADMIN),
        (("GET", "/admin/audit"), ADMIN),
        (("POST", "/admin/audit/verify"), ADMIN),
        (("GET", "/training"), TRAINING),
        (("POST", "/training/classes"), TRAINING),
        (("GET", "/training/classes/{id}"), TRAINING),
        (("POST", "/training/classes/{id}/attendees"), TRAINING),
        (("POST", "/training/classes/{id}/exams"), TRAINING),
        (("GET", "/training/sites"), TRAINING),
        (("GET", "/training/sites/{code}"), TRAINING),
        (("GET", "/supply"), READ_STOCK),
        (("GET", "/supply/areas/{code}"), READ_STOCK),
        (("GET", "/supply/stores/{code}"), READ_STOCK),
        (("POST", "/supply/stores/{code}/movements"), MANAGE_STOCK),
        (("POST", "/supply/stores/{code}/shipments"), MANAGE_STOCK),
        (("POST", "/supply/shipments/{id}/receive"), MANAGE_STOCK),
        (("POST", "/supply/equipment/{id}/working"), MANAGE_STOCK),
        (("GET", "/supply/equipment/{id}"), READ_STOCK),
        (
            ("GET", "/supply/lots/{product_code}/{lot_number}"),
            READ_STOCK,
        ),
        (
            ("POST", "/supply/lots/{product_code}/{lot_number}/status"),
            HOLD_LOTS,
        ),
        (("POST", "/api/v1/invitations/redeem"), PUBLIC),
        (("GET", "/api/v1/reports/staff"), REPORTS),
        (("GET", "/api/v1/stores"), READ_STOCK),
        (("POST", "/api/v1/stores"), MANAGE_STOCK),
        (("GET", "/api/v1/stores/{code}"), READ_STOCK),
        (("POST", "/api/v1/stores/{code}/equipment"), MANAGE_STOCK),
        (("POST", "/api/v1/equipment/{id}/working"), MANAGE_STOCK),
        (("GET", "/api/v1/stores/{code}/stock"), READ_STOCK),
        (("GET", "/api/v1/stores/{code}/movements"), READ_STOCK),
        (("POST", "/api/v1/stores/{code}/movements"), MANAGE_STOCK),
        (("POST", "/api/v1/shipments"), MANAGE_STOCK),
        (("GET", "/api/v1/shipments/{id}"), READ_STOCK),
        (("POST", "/api/v1/equipment/{id}/readings"), MANAGE_STOCK),
        (
            ("POST", "/api/v1/equipment/{id}/readings/import"),
            MANAGE_STOCK,
        ),
        (("GET", "/api/v1/equipment/{id}/readings"), READ_STOCK),
        (("GET", "/api/v1/excursions"), READ_STOCK),
        (("POST", "/api/v1/shipments/{id}/receive"), MANAGE_STOCK),
        (("POST", "/api/v1/allocations/proposal"), MANAGE_STOCK),
        (("POST", "/api/v1/allocations"), MANAGE_STOCK),
        (("GET", "/allocation"), MANAGE_STOCK),
        (("POST", "/allocation"), MANAGE_STOCK),
        (("GET", "/api/v1/stores/{code}/open-vials"), READ_STOCK),
        (("GET", "/api/v1/sites/{code}/open-vials"), RECORD),
        (("GET", "/api/v1/supply-items"), READ_STOCK),
        (("POST", "/api/v1/supply-items"), ADMIN),
        (("GET", "/api/v1/products/{code}/ratios"), READ_STOCK),
        (("POST", "/api/v1/products/{code}/ratios"), ADMIN),
        (("GET", "/api/v1/stores/{code}/items"), READ_STOCK),
        (("POST", "/api/v1/stores/{code}/items"), MANAGE_STOCK),
        (("GET", "/api/v1/areas/{code}/border"), REFERENCE),
        (("POST", "/api/v1/areas/{code}/border"), ADMIN),
        (("GET", "/api/v1/area-levels"), REFERENCE),
        (("PUT", "/api/v1/area-levels"), ADMIN),
        (("GET", "/api/v1/areas/reorganisations"), REFERENCE),
        (("POST", "/api/v1/areas/reorganisations"), ADMIN),
        (
            ("POST", "/api/v1/lots/{product_code}/{lot_number}/status"),
            HOLD_LOTS,
        ),
        (
            ("GET", "/api/v1/lots/{product_code}/{lot_number}/persons"),
            READ_REGISTRY,
        ),
        (("GET", "/api/v1/outbreak/cases"), OUTBREAK),
        (("POST", "/api/v1/outbreak/cases"), OUTBREAK),
        (("GET", "/api/v1/outbreak/cases/{id}"), OUTBREAK),
        (("POST", "/api/v1/outbreak/cases/{id}/reverse"), OUTBREAK),
        (("POST", "/api/v1/outbreak/cases/{id}/outcome"), OUTBREAK),
        (("GET", "/api/v1/outbreak/contacts"), OUTBREAK),
        (("POST", "/api/v1/outbreak/contacts"), OUTBREAK),
        (("POST", "/api/v1/outbreak/contacts/import"), OUTBREAK),
        (("POST", "/api/v1/outbreak/isolations"), OUTBREAK),
        (
            ("GET", "/api/v1/outbreak/persons/{id}/isolations"),
            OUTBREAK,
        ),
        (("POST", "/api/v1/outbreak/checks"), OUTBREAK),
        (("GET", "/api/v1/outbreak/team-list"), OUTBREAK),
        (("GET", "/api/v1/outbreak/alerts"), OUTBREAK),
        (("GET", "/api/v1/outbreak/laboratories"), OUTBREAK),
        (("POST", "/api/v1/outbreak/laboratories"), OUTBREAK),
        (
            ("POST", "/api/v1/outbreak/laboratories/{code}/samples"),
            OUTBREAK,
        ),
        (
            ("POST", "/api/v1/outbreak/laboratories/{code}/tests"),
            OUTBREAK,
        ),
        (
            ("GET", "/api/v1/outbreak/laboratories/{code}/queue"),
            OUTBREAK,
        ),
        (("POST", "/api/v1/outbreak/tests/{id}/result"), OUTBREAK),
        (("GET", "/api/v1/outbreak/ring"), OUTBREAK),
        (("GET", "/api/v1/outbreak/scenarios"), SURGE),
        (("POST", "/api/v1/outbreak/surge"), SURGE),
        (("GET", "/api/v1/outbreak/facilities"), OUTBREAK),
        (("POST", "/api/v1/outbreak/facilities"), OUTBREAK),
        (("GET", "/api/v1/outbreak/facilities/{code}"), OUTBREAK),
        (
            ("POST", "/api/v1/outbreak/facilities/{code}/activate"),
            OUTBREAK,
        ),
        (("POST", "/api/v1/outbreak/admissions"), OUTBREAK),
        (
            ("POST", "/api/v1/outbreak/admissions/{id}/discharge"),
            OUTBREAK,
        ),
        (("GET", "/api/v1/outbreak/occupancy"), OUTBREAK),
        (("GET", "/api/v1/outbreak/activation"), OUTBREAK),
        (("GET", "/api/v1/outbreak/teams"), OUTBREAK),
        (("POST", "/api/v1/outbreak/teams"), OUTBREAK),
        (("GET", "/api/v1/outbreak/teams/{code}"), OUTBREAK),
        (
            ("POST", "/api/v1/outbreak/teams/{code}/assignments"),
            OUTBREAK,
        ),
        (("GET", "/api/v1/outbreak/isolation-policy"), OUTBREAK),
        (("PUT", "/api/v1/outbreak/isolation-policy"), OUTBREAK),
        (("GET", "/outbreak"), OUTBREAK),
        (("GET", "/outbreak/team"), OUTBREAK),
        (("POST", "/outbreak/team/checks"), OUTBREAK),
        (("GET", "/outbreak/alerts"), OUTBREAK),
        (("GET", "/outbreak/cases/{id}"), OUTBREAK),
        (("GET", "/outbreak/labs"), OUTBREAK),
        (("GET", "/outbreak/labs/{code}"), OUTBREAK),
        (("POST", "/outbreak/labs/{code}/results"), OUTBREAK),
        (("GET", "/outbreak/surge"), SURGE),
        (("GET", "/outbreak/facilities"), OUTBREAK),
    ])
}

/// Persons inside (district 193) and outside (district 194), one dose each,
/// a second site in 194, one user per role (scoped to 193 or site S1), the
/// stores, laboratory, facility and team of `stock_and_outbreak_fixtures`,
/// and the inside person's certificate (as HC1 text and as a QR picture).
pub struct World {
    pub app: TestApp,
    pub inside: String,
    pub outside: String,
    pub inside_dose: String,
    pub outside_dose: String,
    pub callers: Vec<(&'static str, TestApp)>,
    pub hc1: String,
    pub png: Vec<u8>,
}

async fn world(backend: &str) -> World {
    let app = TestApp::start_with_keys(backend).await;
    app.seed().await;
    stock_and_outbreak_fixtures(&app).await;
    let (s, b) = app
        .post(
            "/api/v1/sites",
            &json!({"code": "S2", "name": "Trạm Y tế Ka Long", "kind": "commune_health_station", "area_code": "06700", "stations": 1, "daily_capacity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let inside = app.person(301, "Nguyễn Văn Trong").await;
    let (s, b) = app
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022080000302", "full_name": "Trần Văn Ngoài",
                    "birth_date": "1980-05-17", "sex": "male", "home_area": "06700"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let outside = b["person"]["id"].as_str().unwrap().to_string();
    let mut doses = Vec::new();
    for (person, site) in [(&inside, "S1"), (&outside, "S2")] {
        let mut body = dose_body(&new_id(), person, "2021-07-01");
        body["site_code"] = json!(site);
        let (s, d) = app.post("/api/v1/doses", &body).await;
        assert_eq!(s, 201, "{d}");
        doses.push(d["id"].as_str().unwrap().to_string());
    }
    let mut callers = Vec::new();
    for (role, grant) in [
        ("admin", "admin".to_string()),
        ("planner", "planner:193".into()),
        ("statistics_officer", "statistics_officer:193".into()),
        ("registrar", "registrar:S1".into()),
        ("screener", "screener:S1".into()),
        ("vaccinator", "vaccinator:S1".into()),
        ("observer", "observer:S1".into()),
        ("trainer", "trainer".into()),
        ("epidemic_responder", "epidemic_responder:193".into()),
        ("verifier", "verifier".into()),
        ("resident", format!("resident:{inside}")),
        ("cold_chain_officer", "cold_chain_officer:193".into()),
    ] {
        callers.push((role, app.as_user(&format!("u-{role}"), &[&grant]).await));
    }
    let certificate = format!("/api/v1/persons/{inside}/certificate");
    let (s, cert) = app.post(&certificate, &json!({})).await;
    assert_eq!(s, 201, "{cert}");
    let (s, _, png) = app
        .post_for_bytes(&format!("{certificate}?format=png"), &json!({}))
        .await;
    assert_eq!(s, 201);
    World {
        app,
        inside,
        outside,
        inside_dose: doses[0].clone(),
        outside_dose: doses[1].clone(),
        callers,
        hc1: cert["hc1"].as_str().unwrap().to_string(),
        png,
    }
}

fn fill(path: &str, person: &str, dose: &str) -> String {
    let filled = path
        .replace("{product_code}", "AZ")
        .replace("{lot_number}", "AZ-1")
        .replace("{grant}", "vaccinator:S1");
    // Account administration is tried on a user that does not exist, so
    // that the callers of this test keep their accounts as they are.
    let filled = if filled.starts_with("/api/v1/users/") || filled.starts_with("/admin/users/") {
        filled.replace("{username}", "u-absent")
    } else {
        filled.replace("{username}", "u-vaccinator")
    };
    let code = if filled.starts_with("/api/v1/products") {
        "AZ"
    } else if filled.starts_with("/api/v1/sites")
        || filled.starts_with("/sites/")
        || filled.starts_with("/training/sites/")
    {
        "S1"
    } else {
        "193"
    };
    let id = if filled.contains("/doses/") || filled.contains("Immunization/") {
        dose
    } else {
        person
    };
    let mut url = filled.replace("{code}", code).replace("{id}", id);
    if url.starts_with("/api/v1/reports/coverage")
        || url.starts_with("/api/v1/reports/aefi")
        || url.starts_with("/api/v1/reports/data-quality")
        || url == "/api/v1/reports/training"
    {
        url.push_str("?area=193");
    }
    url
}

async fn call(client: &reqwest::Client, base: &str, method: &str, url: &str) -> u16 {
    let request = match method {
        "GET" => client.get(format!("{base}{url}")),
        "PUT" => client.put(format!("{base}{url}")).json(&json!({})),
        "DELETE" => client.delete(format!("{base}{url}")),
        _ => client.post(format!("{base}{url}")).json(&json!({})),
    };
    let status = request.send().await.expect("send").status().as_u16();
    assert_ne!(status, 500, "{method} {url}");
    status
}

async fn every_route_answers_every_role_as_declared(backend: &str) {
    let w = world(backend).await;
    let expected = expected();
    let anonymous = TestApp::client_with(None);
    for route in vaxgrid_server::routes() {
        let method = route.method.as_str();
        let allowed = expected.get(&(method, route.path)).unwrap_or_else(|| {
            panic!(
                "{method} {} has no expected policy in this matrix",
                route.path
            )
        });
        // The API's writes are called with real bodies below.
        if is_api_write(method, route.path) {
            continue;
        }
        let url = fill(route.path, &w.inside, &w.inside_dose);
        let public = allowed == &["*"];
        let s = call(&anonymous, &w.app.base, method, &url).await;
        if public {
            assert!(s != 401 && s != 403, "anonymous {method} {url}: {s}");
        } else {
            assert_eq!(s, 401, "anonymous {method} {url}");
        }
        for (role, caller) in &w.callers {
            let s = call(&caller.client, &w.app.base, method, &url).await;
            if public || allowed.contains(role) {
                assert!(s != 401 && s != 403, "{role} {method} {url}: {s} (allowed)");
            } else {
                assert_eq!(s, 403, "{role} {method} {url} (denied)");
            }
        }
        // A record outside the caller's area answers as absent.
        if route.path.contains("{id}") && method == "GET" {
            let outside = fill(route.path, &w.outside, &w.outside_dose);
            for (role, caller) in &w.callers {
                if matches!(
                    *role,
                    "planner"
                        | "statistics_officer"
                        | "epidemic_responder"
                        | "resident"
                        | "cold_chain_officer"
                ) && allowed.contains(role)
                {
                    let s = call(&caller.client, &w.app.base, method, &outside).await;
                    assert_eq!(s, 404, "{role} {method} {outside}");
                }
            }
        }
    }
    w.app.cleanup().await;
}

/// Every write route of the API, FHIR and HL7 v2, called by everyone with
/// a valid body of its own (`access_bodies::write_call`): anonymous callers
/// get 401, the roles the policy leaves out 403, and the roles it lets in
/// reach the handler, which does the work (2xx) unless the route's own
/// rule answers otherwise (`domain_answer`).
async fn every_write_runs_its_handler_for_the_roles_allowed(backend: &str) {
    let w = Arc::new(world(backend).await);
    w.app.certify("u-vaccinator").await;
    let expected = expected();
    let anonymous = TestApp::client_with(None);
    let mut n = 0;
    let mut failures = Vec::new();
    for route in vaxgrid_server::routes() {
        let method = route.method.as_str().to_string();
        if !is_api_write(&method, route.path) {
            continue;
        }
        let allowed = *expected
            .get(&(method.as_str(), route.path))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {} has no expected policy in this matrix",
                    route.path
                )
            });
        let callers = std::iter::once(("anonymous", anonymous.clone())).chain(
            w.callers
                .iter()
                .map(|(role, app)| (*role, app.client.clone())),
        );
        for (role, client) in callers {
            n += 1;
            // Each call on its own task, so that one failing call (or its
            // records failing to be made) is reported beside the others.
            let (world, verb) = (w.clone(), method.clone());
            let checked = tokio::spawn(async move {
                write_as(&world, &verb, route.path, allowed, role, &client, n).await
            })
            .await;
            match checked {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => failures.push(failure),
                Err(panic) => failures.push(format!("{role} {method} {}: {panic}", route.path)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Arc::into_inner(w).unwrap().app.cleanup().await;
}

/// Calls the write route `method path` as `role` with a valid body: the
/// answer must be the policy's (401 anonymous, 403 denied) or, for a role
/// allowed, the handler's success or its `domain_answer`.
async fn write_as(
    w: &World,
    method: &str,
    path: &'static str,
    allowed: &[&str],
    role: &str,
    client: &reqwest::Client,
    n: u32,
) -> Result<(), String> {
    let call = write_call(w, method, path, n)
        .await
        .unwrap_or_else(|| panic!("{method} {path} has no request in access_bodies::write_call"));
    let (s, text) = call.send(client, &w.app.base, method).await;
    let what = format!("{role} {method} {}: {s} {text}", call.url);
    let fine = if allowed == ["*"] || allowed.contains(&role) {
        match domain_answer(method, path, role) {
            Some(want) => s == want,
            None => (200..300).contains(&s) && call.holds_in(&text),
        }
    } else if role == "anonymous" {
        s == 401
    } else {
        s == 403
    };
    if fine {
        Ok(())
    } else {
        Err(what)
    }
}

/// Each write naming a record outside the caller's areas (district 194,
/// site S2), tried by every area- or site-scoped role the route allows:
/// refused as `access_bodies::outside_writes` says, with the record read
/// back unchanged by the administrator and no entry added to the audit log.
async fn writes_outside_the_callers_areas_are_refused_and_write_nothing(backend: &str) {
    let w = world(backend).await;
    w.app.certify("u-vaccinator").await;
    let expected = expected();
    let mut failures = Vec::new();
    for check in outside_writes(&w).await {
        let allowed = expected[&(check.method, check.route)];
        let scoped = w.callers.iter().filter(|(role, _)| {
            *role != "admin"
                && allowed.contains(role)
                && check.roles.is_none_or(|roles| roles.contains(role))
        });
        let mut tried = 0;
        for (role, caller) in scoped {
            tried += 1;
            let (s, before) = w.app.get(&check.read_back).await;
            if s != 200 {
                failures.push(format!("read back {}: {s} {before}", check.read_back));
                break;
            }
            let (entries, _) = w.app.store.verify_audit().await.unwrap();
            let (s, text) = check
                .call
                .send(&caller.client, &w.app.base, check.method)
                .await;
            let what = format!("{role} {} {}: {s} {text}", check.method, check.call.url);
            let Answer::Refused(status, field) = check.answer;
            let named = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|p| p["errors"][0]["field"].as_str().map(str::to_string));
            if s != status || (field.is_some() && named.as_deref() != field) {
                failures.push(format!("want {status} {field:?}: {what}"));
            }
            let (after, _) = w.app.store.verify_audit().await.unwrap();
            let (_, now) = w.app.get(&check.read_back).await;
            if (after != entries && !check.audited) || now != before {
                failures.push(format!("written: {what}"));
            }
        }
        assert!(
            tried > 0,
            "no scoped role may {} {}",
            check.method,
            check.route
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    w.app.cleanup().await;
}

async fn a_district_sees_only_its_district(backend: &str) {
    let w = world(backend).await;
    let planner = &w.callers.iter().find(|(r, _)| *r == "planner").unwrap().1;
    let (s, _) = planner.get(&format!("/api/v1/persons/{}", w.outside)).await;
    assert_eq!(s, 404);
    let (s, p) = planner.get(&format!("/api/v1/persons/{}", w.inside)).await;
    assert_eq!(s, 200, "{p}");
    let (s, found) = planner.get("/api/v1/persons?name=van").await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [w.inside.as_str()], "{found}");
    // The province report would show district 194: refused as absent.
    let (s, _) = planner.get("/api/v1/reports/coverage?area=22").await;
    assert_eq!(s, 404);
    let (s, _) = planner.get("/api/v1/reports/coverage?area=194").await;
    assert_eq!(s, 404);
    let (s, report) = planner.get("/api/v1/reports/coverage?area=193").await;
    assert_eq!(s, 200, "{report}");
    assert!(!report.to_string().contains("\"194\""), "{report}");
    let (s, _) = planner
        .get(&format!("/api/v1/doses/{}", w.outside_dose))
        .await;
    assert_eq!(s, 404);
    // A person registered in another district is refused as if the area did not exist.
    let (s, p) = planner
        .post(
            "/api/v1/persons",
            &json!({"id_type": "cccd", "id_number": "022080000303", "full_name": "Lê Văn Ba",
                    "birth_date": "1980-05-17", "sex": "male", "home_area": "06700"}),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (422, Some("home_area")),
        "{p}"
    );
    // Reads of a person's record are in the audit log with who read it.
    let (s, _) = w.app.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let (_, broken) = w.app.store.verify_audit().await.unwrap();
    assert!(broken.is_none());
    w.app.cleanup().await;
}

async fn a_vaccinator_records_only_at_their_site(backend: &str) {
    let w = world(backend).await;
    let vaccinator = &w
        .callers
        .iter()
        .find(|(r, _)| *r == "vaccinator")
        .unwrap()
        .1;
    // Without a certificate, a vaccinator records nothing.
    let refused = |p: &Value| {
        p["errors"][0]["field"] == "vaccinator"
            && p["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("u-vaccinator holds no current vaccination certificate on 2021-08-15")
    };
    let uncertified = dose_body(&new_id(), &w.inside, "2021-08-15");
    let (s, p) = vaccinator.post("/api/v1/doses", &uncertified).await;
    assert!(s == 422 && refused(&p), "{s} {p}");
    // An expired certificate (2020-06-01 to 2020-06-30) does not do either.
    certify(&w.app, "u-vaccinator", "2020-06-01", 30).await;
    let (s, p) = vaccinator.post("/api/v1/doses", &uncertified).await;
    assert!(s == 422 && refused(&p), "{s} {p}");
    // Certified from 2021-01-01 for a year, through the administrator's API.
    certify(&w.app, "u-vaccinator", "2021-01-01", 365).await;
    let mut at_other_site = dose_body(&new_id(), &w.inside, "2021-08-15");
    at_other_site["site_code"] = json!("S2");
    let (s, p) = vaccinator.post("/api/v1/doses", &at_other_site).await;
    assert_eq!(s, 403, "{p}");
    assert_eq!(p["errors"][0]["field"], "site_code");
    let (s, d) = vaccinator
        .post(
            "/api/v1/doses",
            &dose_body(&new_id(), &w.inside, "2021-08-15"),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    // The observation board names persons: the site's own staff see it,
    // staff of another site get the answer for a site that is not there.
    let (s, p) = vaccinator.get("/api/v1/sites/S1/observation").await;
    assert_eq!(s, 200, "{p}");
    let (s, p) = w.app.get("/api/v1/sites/S2/observation").await;
    assert_eq!(s, 200, "{p}");
    let (s, p) = vaccinator.get("/api/v1/sites/S2/observation").await;
    assert_eq!(s, 404, "{p}");
    // The audit log names the vaccinator.
    let (n, broken) = w.app.store.verify_audit().await.unwrap();
    assert!(n > 0 && broken.is_none());
    w.app.cleanup().await;
}

/// Certifies `username` in vaccination through the API: a one-day class on
/// `day` given by u-trainer, and a passed exam that day valid `valid_days`.
async fn certify(app: &TestApp, username: &str, day: &str, valid_days: i64) {
    let (s, class) = app
        .post(
            "/api/v1/training/classes",
            &json!({"topic": "vaccination", "starts_on": day, "ends_on": day, "trainer": "u-trainer"}),
        )
        .await;
    assert_eq!(s, 201, "{class}");
    let class = class["id"].as_str().unwrap();
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{class}/attendees"),
            &json!({"username": username}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            &format!("/api/v1/training/classes/{class}/exams"),
            &json!({"username": username, "score": 90, "pass_mark": 80, "taken_on": day, "valid_days": valid_days}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["certificate"]["topic"], "vaccination", "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_sessions_csrf_and_lockout() {
    let app = TestApp::start("sqlite").await;
    app.seed().await;
    let token = TestApp::make_user(&app.store, "clerk", &["registrar:S1"]).await;
    let client = TestApp::client_with(Some(&token));
    let me = |client: reqwest::Client| {
        let base = app.base.clone();
        async move {
            client
                .get(format!("{base}/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(client.clone()).await, 200);
    // Revoked: refused at once.
    let tokens = app.store.tokens().await.unwrap();
    let id = &tokens.iter().find(|t| t.username == "clerk").unwrap().id;
    app.store.revoke_token(id, "test").await.unwrap();
    assert_eq!(me(client.clone()).await, 401);
    // Malformed credentials: 401 problem+json, never 500.
    for header in [
        "Basic YWxhZGRpbjpvcGVu",
        "Bearer ",
        "Bearer vxg_nope",
        &format!("Bearer {}", "x".repeat(5000)),
    ] {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{header:.20}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }

    // Sign in with a browser-like client.
    let hash = vaxgrid_server::auth::hash_password("right-password").unwrap();
    let grant = vaxgrid_core::access::Grant::parse("registrar:S1").unwrap();
    app.store
        .create_user("nurse", "Nurse", &hash, &[grant], "test")
        .await
        .unwrap();
    let browser = TestApp::client_with(None);
    let page = browser
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );
    let csrf = csrf_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let sign_in = |username: &str, password: &str, with_csrf: bool| {
        let form = format!(
            "username={username}&password={password}&csrf_token={}",
            if with_csrf { csrf.as_str() } else { "" }
        );
        browser
            .post(format!("{}/login", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("vaxgrid_login_csrf={csrf}"))
            .body(form)
            .send()
    };
    assert_eq!(
        sign_in("nurse", "right-password", false)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let long = "p".repeat(5000);
    assert_eq!(
        sign_in("nurse", &long, true)
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    let ok = sign_in("nurse", "right-password", true).await.unwrap();
    assert_eq!(ok.status().as_u16(), 303);
    let session_cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        session_cookie.starts_with("vaxgrid_session=")
            && session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Strict")
    );
    let session = session_cookie.split(';').next().unwrap().to_string();
    let me_by_session: Value = browser
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me_by_session["username"], "nurse");
    let session_csrf = me_by_session["csrf_token"].as_str().unwrap().to_string();
    // A change made with the session needs its CSRF token.
    let person = json!({"id_type": "cccd", "id_number": "022180000401", "full_name": "Vũ Thị Tư",
                        "birth_date": "1980-05-17", "sex": "female", "home_area": "0665801"});
    let without = browser
        .post(format!("{}/api/v1/persons", app.base))
        .header("cookie", &session)
        .json(&person)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status().as_u16(), 403);
    let with = browser
        .post(format!("{}/api/v1/persons", app.base))
        .header("cookie", &session)
        .header("x-csrf-token", &session_csrf)
        .json(&person)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status().as_u16(), 201);
    // An HTML form carries the token as its field csrf_token instead: a
    // wrong one is refused before the handler, the right one reaches it
    // (which wants JSON here, so 415 shows the form got past the check).
    for (token, status) in [("wrong", 403), (session_csrf.as_str(), 415)] {
        let form = browser
            .post(format!("{}/api/v1/persons", app.base))
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("full_name=x&csrf_token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status().as_u16(), status, "csrf_token={token}");
    }
    // A page's form refused before the page (a forged token), asked by a
    // browser reading Chinese: the error page, in Chinese; the API's
    // refusal to the same browser stays problem+json.
    let page = browser
        .post(format!("{}/registry/duplicates/find", app.base))
        .header("cookie", format!("{session}; vaxgrid_lang=zh"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf_token=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 403);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let text = page.text().await.unwrap();
    assert!(
        text.contains("<html lang=\"zh") && text.contains("无权操作"),
        "{text}"
    );
    let api = browser
        .post(format!("{}/api/v1/persons", app.base))
        .header("cookie", format!("{session}; vaxgrid_lang=zh"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf_token=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 403);
    assert!(api.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
    // Sign out ends the session.
    let out = browser
        .post(format!("{}/logout", app.base))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={session_csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    let after = browser
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);

    // An unknown user and a wrong password get the same answer.
    let unknown = sign_in("nobody", "whatever", true).await.unwrap();
    let wrong = sign_in("nurse", "wrong", true).await.unwrap();
    assert_eq!(
        (unknown.status().as_u16(), wrong.status().as_u16()),
        (401, 401)
    );
    // The form keeps the name typed; all else is the same.
    assert_eq!(
        unknown
            .text()
            .await
            .unwrap()
            .replace("value=\"nobody\"", "value=\"nurse\""),
        wrong.text().await.unwrap()
    );
    // Twenty more wrong passwords from one address: after five that
    // address waits, the wait doubling with each further failure (see
    // tests/integration/throttle.rs), and while it waits even the right password is
    // refused unchecked.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(
            sign_in("nurse", "wrong", true)
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    // With the wrong password above, the fourth here is the fifth failure.
    assert_eq!(statuses[..3], [401; 3], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let locked = sign_in("nurse", "right-password", true).await.unwrap();
    assert_eq!(locked.status().as_u16(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    app.cleanup().await;
}
