//! The vaxgrid HTTP server: JSON API under /api/v1, problem+json errors,
//! OpenAPI document, and the pages people open in a browser.

pub mod api;
pub mod auth;
pub mod dcc_keys;
pub mod dose_csv;
pub mod edge;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod fhir;
pub mod hl7;
pub mod i18n;
pub mod import;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod reminders;
pub mod web;

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::Store;

use crate::auth::Policy;
use crate::error::ApiError;

/// What every handler gets: one shared allocation, so the clone that every
/// layer and extractor makes per request is one reference count, not one
/// per part.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of the application state.
#[derive(Clone)]
pub struct AppParts {
    pub store: Store,
    pub writer: DoseWriter,
    /// Commits bookings in batches (see `store::scheduling`).
    pub bookings: vaxgrid_store::scheduling::BookingWriter,
    /// Certificate signing and verification, when keys are configured.
    pub dcc: Option<std::sync::Arc<Dcc>>,
    /// Time from a dose request's handler to its answer (the writer's
    /// queue, the batches and the wake-up), for /metrics.
    pub dose_latency: std::sync::Arc<vaxgrid_store::histogram::Histogram>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see
    /// `auth::client_address`); empty: the connection's peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The EU DCC signer and trust list of this server.
pub struct Dcc {
    pub signer: vaxgrid_interop::dcc::Signer,
    pub trust: vaxgrid_interop::dcc::TrustList,
    /// ISO 3166 code in `co` and `iss`, e.g. "VN".
    pub country: String,
    /// The certificate issuer named in `is`.
    pub issuer_name: String,
}

impl AppState {
    /// Starts the dose writer and the booking writer for `store`. The
    /// background tasks (the SQLite checkpointer, the reminders loop) are
    /// the binary's to start (`vaxgrid serve`), not the state's. Fails
    /// when the dose writer cannot open its connection.
    pub fn new(store: Store, config: WriterConfig) -> Result<AppState, vaxgrid_store::StoreError> {
        let writer = DoseWriter::spawn(store.clone(), config)?;
        let bookings = vaxgrid_store::scheduling::BookingWriter::spawn(store.clone());
        Ok(AppState(std::sync::Arc::new(AppParts {
            store,
            writer,
            bookings,
            dcc: None,
            dose_latency: Default::default(),
            trusted_proxies: Vec::new(),
        })))
    }

    /// Trusts these reverse proxies to name the client in `X-Forwarded-For`.
    pub fn with_trusted_proxies(mut self, proxies: Vec<std::net::IpAddr>) -> AppState {
        std::sync::Arc::make_mut(&mut self.0).trusted_proxies = proxies;
        self
    }

    /// Loads the signer and trust list from a key folder (`vaxgrid keys init`).
    pub fn with_dcc_keys(
        mut self,
        dir: &std::path::Path,
        country: &str,
        issuer_name: &str,
    ) -> Result<AppState, String> {
        let (signer, trust) = dcc_keys::load_key_dir(dir).map_err(|e| e.to_string())?;
        std::sync::Arc::make_mut(&mut self.0).dcc = Some(std::sync::Arc::new(Dcc {
            signer,
            trust,
            country: country.to_string(),
            issuer_name: issuer_name.to_string(),
        }));
        Ok(self)
    }
}

/// One row of the route table: the router, the OpenAPI test and the
/// authorization matrix test all read it. A route cannot be added without
/// saying who may call it.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub policy: Policy,
    pub handler: MethodRouter<AppState>,
}

pub(crate) fn r(
    method: Method,
    path: &'static str,
    policy: Policy,
    handler: MethodRouter<AppState>,
) -> RouteDef {
    RouteDef {
        method,
        path,
        policy,
        handler,
    }
}

/// Every route of the application. A new route also gets
/// `#[utoipa::path]` on its handler and a line in `paths(...)` of
/// `openapi.rs` (docs/ARCHITECTURE.md, "The OpenAPI document"); the tests
/// fail for a route the document lacks. The pages of each part of the web
/// app (`web::table`, `web::registry`, …) come from that part's own
/// `routes()` and its own `Pages` document.
pub fn routes() -> Vec<RouteDef> {
    use api::*;
    use vaxgrid_core::access::Permission::*;
    use Method as M;
    use Policy::{Needs, Public, SignedIn};
    let csv = |m: MethodRouter<AppState>| m.layer(DefaultBodyLimit::max(extract::CSV_LIMIT));
    let mut all = vec![
        r(M::GET, "/", Public, get(web::planner::home)),
        r(M::GET, "/login", Public, get(web::login_page)),
        r(M::POST, "/login", Public, post(web::login)),
        r(M::POST, "/logout", Public, post(web::logout)),
        r(M::GET, "/verify", Public, get(web::verify_page)),
        r(M::GET, "/lang", Public, get(web::set_language)),
        r(M::GET, "/static/{file}", Public, get(web::asset)),
        r(M::GET, "/healthz", Public, get(healthz)),
        r(M::GET, "/readyz", Public, get(readyz)),
        r(
            M::GET,
            "/metrics",
            Needs(ReadMetrics),
            get(metrics::metrics),
        ),
        r(
            M::GET,
            "/api/v1/openapi.json",
            Public,
            get(openapi_document),
        ),
        r(M::GET, "/api/v1/me", SignedIn, get(me)),
        r(
            M::GET,
            "/api/v1/areas",
            Needs(ReadReference),
            get(areas::list),
        ),
        r(
            M::POST,
            "/api/v1/areas",
            Needs(ManageReference),
            post(areas::create),
        ),
        r(
            M::POST,
            "/api/v1/areas/import",
            Needs(ManageReference),
            csv(post(areas::import)),
        ),
        r(
            M::GET,
            "/api/v1/areas/{code}",
            Needs(ReadReference),
            get(areas::get),
        ),
        r(
            M::GET,
            "/api/v1/persons",
            Needs(ReadRegistry),
            get(persons::search),
        ),
        r(
            M::POST,
            "/api/v1/persons",
            Needs(WriteRegistry),
            post(persons::create),
        ),
        r(
            M::POST,
            "/api/v1/persons/import",
            Needs(ManageRegistry),
            csv(post(persons::import)),
        ),
        r(
            M::GET,
            "/api/v1/persons/{id}",
            Needs(ReadRegistry),
            get(persons::get),
        ),
        r(
            M::GET,
            "/api/v1/persons/{id}/doses",
            Needs(ReadRegistry),
            get(persons::history),
        ),
        r(
            M::GET,
            "/api/v1/persons/{id}/reminders",
            Needs(ReadRegistry),
            get(api::reminders::of_person),
        ),
        r(
            M::POST,
            "/api/v1/persons/{id}/identifiers",
            Needs(WriteRegistry),
            post(persons::add_identifier),
        ),
        r(
            M::POST,
            "/api/v1/persons/{id}/merge",
            Needs(ManageRegistry),
            post(persons::merge),
        ),
        r(
            M::POST,
            "/api/v1/persons/{id}/certificate",
            Needs(IssueCertificate),
            post(certificates::issue),
        ),
        r(
            M::GET,
            "/api/v1/products",
            Needs(ReadReference),
            get(catalog::products),
        ),
        r(
            M::POST,
            "/api/v1/products",
            Needs(ManageReference),
            post(catalog::create_product),
        ),
        r(
            M::GET,
            "/api/v1/products/{code}",
            Needs(ReadReference),
            get(catalog::product),
        ),
        r(
            M::GET,
            "/api/v1/lots",
            Needs(ReadReference),
            get(catalog::lots),
        ),
        r(
            M::POST,
            "/api/v1/lots",
            Needs(ManageReference),
            post(catalog::create_lot),
        ),
        r(
            M::GET,
            "/api/v1/lots/{product_code}/{lot_number}",
            Needs(ReadReference),
            get(catalog::lot),
        ),
        r(
            M::GET,
            "/api/v1/sites",
            Needs(ReadReference),
            get(catalog::sites),
        ),
        r(
            M::POST,
            "/api/v1/sites",
            Needs(ManageReference),
            post(catalog::create_site),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}",
            Needs(ReadReference),
            get(catalog::site),
        ),
        r(
            M::POST,
            "/api/v1/sites/import",
            Needs(ManageReference),
            csv(post(site_plans::import_sites)),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}/catchment",
            Needs(ReadReference),
            get(site_plans::catchment),
        ),
        r(
            M::PUT,
            "/api/v1/sites/{code}/catchment",
            Needs(ManageReference),
            axum::routing::put(site_plans::set_catchment),
        ),
        r(
            M::POST,
            "/api/v1/doses",
            Needs(RecordDose),
            post(doses::record),
        ),
        r(
            M::POST,
            "/api/v1/doses/import",
            Needs(ManageRegistry),
            csv(post(doses::import)),
        ),
        r(
            M::GET,
            "/api/v1/doses/{id}",
            Needs(ReadRegistry),
            get(doses::get),
        ),
        r(
            M::POST,
            "/api/v1/doses/{id}/entered-in-error",
            Needs(CorrectDose),
            post(doses::entered_in_error),
        ),
        r(
            M::GET,
            "/api/v1/reports/coverage",
            Needs(ReadReports),
            get(reports::coverage),
        ),
        r(
            M::GET,
            "/api/v1/reports/coverage/area-groups",
            Needs(ReadReports),
            get(api::area_groups::report),
        ),
        r(
            M::GET,
            "/api/v1/reports/aefi",
            Needs(ReadReports),
            get(api::aefi::report),
        ),
        r(
            M::GET,
            "/api/v1/reports/aefi/events",
            Needs(ReadReports),
            get(api::aefi::events),
        ),
        r(
            M::GET,
            "/api/v1/reports/data-quality",
            Needs(ReadReports),
            get(api::data_quality::report),
        ),
        r(
            M::GET,
            "/api/v1/reports/data-quality/persons",
            Needs(ReadReports),
            get(api::data_quality::persons),
        ),
        r(
            M::GET,
            "/api/v1/reports/training",
            Needs(ReadReports),
            get(api::training_report::report),
        ),
        r(
            M::POST,
            "/api/v1/sessions",
            Needs(ManageSessions),
            post(scheduling::open),
        ),
        r(
            M::POST,
            "/api/v1/sessions/import",
            Needs(ManageSessions),
            csv(post(site_plans::import_sessions)),
        ),
        r(
            M::GET,
            "/api/v1/sessions/{id}",
            SignedIn,
            get(scheduling::get),
        ),
        r(
            M::POST,
            "/api/v1/appointments",
            Needs(Book),
            post(scheduling::book),
        ),
        r(M::POST, "/api/v1/visits", Needs(Visit), post(visits::open)),
        r(
            M::GET,
            "/api/v1/visits/{id}",
            Needs(ReadRegistry),
            get(visits::get),
        ),
        r(
            M::POST,
            "/api/v1/visits/{id}/events",
            Needs(Visit),
            post(visits::event),
        ),
        r(
            M::GET,
            "/api/v1/products/{code}/screening",
            Needs(ReadReference),
            get(visits::get_questionnaire),
        ),
        r(
            M::PUT,
            "/api/v1/products/{code}/screening",
            Needs(ManageReference),
            axum::routing::put(visits::set_questionnaire),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}/observation",
            Needs(Visit),
            get(visits::observation),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}/today",
            Needs(ReadReference),
            get(visits::site_today),
        ),
        r(
            M::GET,
            "/api/v1/appointments/{id}",
            Needs(ReadRegistry),
            get(scheduling::get_appointment),
        ),
        r(
            M::POST,
            "/api/v1/appointments/{id}/cancel",
            Needs(Book),
            post(scheduling::cancel),
        ),
        r(
            M::POST,
            "/api/v1/appointments/{id}/no-show",
            Needs(Book),
            post(scheduling::no_show),
        ),
        r(
            M::POST,
            "/api/v1/appointments/{id}/reschedule",
            Needs(Book),
            post(scheduling::reschedule),
        ),
        r(
            M::POST,
            "/api/v1/investigations/{id}/causality",
            Needs(AssessAefi),
            post(visits::assess),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}/zones",
            Needs(ReadReference),
            get(scheduling::zones),
        ),
        r(
            M::PUT,
            "/api/v1/sites/{code}/zones",
            Needs(ManageSessions),
            axum::routing::put(scheduling::set_zones),
        ),
        r(
            M::GET,
            "/api/v1/persons/{id}/next-dose",
            Needs(ReadRegistry),
            get(scheduling::next_dose),
        ),
        r(
            M::POST,
            "/api/v1/campaigns",
            Needs(ManageSessions),
            post(campaigns::create),
        ),
        r(
            M::GET,
            "/api/v1/campaigns/{id}",
            Needs(ReadReference),
            get(campaigns::get),
        ),
        r(
            M::POST,
            "/api/v1/campaigns/{id}/waves",
            Needs(ManageSessions),
            post(campaigns::add_wave),
        ),
        r(
            M::POST,
            "/api/v1/campaigns/{id}/targets",
            Needs(ManageSessions),
            post(campaigns::split),
        ),
        r(
            M::GET,
            "/api/v1/campaigns/{id}/targets",
            Needs(ReadReports),
            get(campaigns::targets),
        ),
        r(
            M::POST,
            "/api/v1/campaigns/{id}/daily-targets",
            Needs(ManageSessions),
            post(campaigns::daily_target),
        ),
        r(
            M::GET,
            "/api/v1/campaigns/{id}/waves/{wave}/progress",
            Needs(ReadReports),
            get(campaigns::progress),
        ),
        r(
            M::GET,
            "/api/v1/campaigns/{id}/waves/{wave}/survey",
            Needs(ReadRegistry),
            get(campaigns::survey),
        ),
        r(
            M::POST,
            "/api/v1/training/classes",
            Needs(ManageTraining),
            post(training::create_class),
        ),
        r(
            M::POST,
            "/api/v1/training/classes/{id}/attendees",
            Needs(ManageTraining),
            post(training::add_attendee),
        ),
        r(
            M::POST,
            "/api/v1/training/classes/{id}/exams",
            Needs(ManageTraining),
            post(training::record_exam),
        ),
        r(
            M::GET,
            "/api/v1/staff/{username}/certificates",
            SignedIn,
            get(training::certificates),
        ),
        r(
            M::GET,
            "/api/v1/campaigns",
            Needs(ReadReference),
            get(lists::campaigns),
        ),
        r(
            M::GET,
            "/api/v1/campaigns/{id}/waves",
            Needs(ReadReference),
            get(lists::waves),
        ),
        r(
            M::GET,
            "/api/v1/sessions",
            Needs(ReadReference),
            get(lists::sessions),
        ),
        r(
            M::GET,
            "/api/v1/appointments",
            Needs(ReadRegistry),
            get(lists::appointments),
        ),
        r(
            M::GET,
            "/api/v1/training/classes",
            Needs(ManageTraining),
            get(lists::classes),
        ),
        r(
            M::GET,
            "/api/v1/training/classes/{id}",
            Needs(ManageTraining),
            get(lists::class),
        ),
        r(
            M::GET,
            "/api/v1/investigations",
            Needs(ReadReports),
            get(lists::investigations),
        ),
        r(
            M::GET,
            "/api/v1/sites/export",
            Needs(ReadReference),
            get(lists::export_sites),
        ),
        r(
            M::GET,
            "/api/v1/users",
            Needs(ManageUsers),
            get(staff::list),
        ),
        r(
            M::POST,
            "/api/v1/users",
            Needs(ManageUsers),
            post(staff::create),
        ),
        r(
            M::POST,
            "/api/v1/users/import",
            Needs(ManageUsers),
            csv(post(staff::import)),
        ),
        r(
            M::GET,
            "/api/v1/users/{username}",
            Needs(ManageUsers),
            get(staff::get),
        ),
        r(
            M::POST,
            "/api/v1/users/{username}/grants",
            Needs(ManageUsers),
            post(staff::grant),
        ),
        r(
            M::DELETE,
            "/api/v1/users/{username}/grants/{grant}",
            Needs(ManageUsers),
            axum::routing::delete(staff::revoke),
        ),
        r(
            M::POST,
            "/api/v1/users/{username}/disable",
            Needs(ManageUsers),
            post(staff::disable),
        ),
        r(
            M::POST,
            "/api/v1/users/{username}/enable",
            Needs(ManageUsers),
            post(staff::enable),
        ),
        r(
            M::POST,
            "/api/v1/users/{username}/invitation",
            Needs(ManageUsers),
            post(staff::reinvite),
        ),
        r(
            M::GET,
            "/api/v1/tokens",
            Needs(ManageUsers),
            get(staff::tokens),
        ),
        r(
            M::POST,
            "/api/v1/tokens",
            Needs(ManageUsers),
            post(staff::make_token),
        ),
        r(
            M::DELETE,
            "/api/v1/tokens/{id}",
            Needs(ManageUsers),
            axum::routing::delete(staff::revoke_token),
        ),
        r(
            M::GET,
            "/api/v1/admin/lockouts",
            Needs(ManageUsers),
            get(staff::lockouts),
        ),
        r(
            M::POST,
            "/api/v1/admin/lockouts/clear",
            Needs(ManageUsers),
            post(staff::clear_lockout),
        ),
        r(
            M::POST,
            "/api/v1/invitations/redeem",
            Public,
            post(staff::redeem),
        ),
        r(
            M::GET,
            "/api/v1/reports/staff",
            Needs(ReadReports),
            get(staff::headcount),
        ),
        r(
            M::GET,
            "/api/v1/dcc/trust-list",
            Public,
            get(certificates::trust_list),
        ),
        r(
            M::POST,
            "/api/v1/dcc/verify",
            Public,
            post(certificates::verify),
        ),
        r(
            M::POST,
            "/api/v1/dcc/verify-image",
            Public,
            post(certificates::verify_image)
                .layer(DefaultBodyLimit::max(certificates::IMAGE_LIMIT)),
        ),
        r(
            M::GET,
            "/api/v1/dcc/revocation-list",
            Public,
            get(certificates::revocation_list),
        ),
        r(
            M::POST,
            "/api/v1/dcc/revocations",
            Needs(HoldLots),
            post(certificates::revoke),
        ),
        r(M::GET, "/fhir/metadata", Public, get(fhir::metadata)),
        r(
            M::POST,
            "/fhir",
            Needs(Exchange),
            post(fhir::transaction).layer(DefaultBodyLimit::max(fhir::BUNDLE_LIMIT)),
        ),
        r(
            M::GET,
            "/fhir/Patient",
            Needs(ReadRegistry),
            get(fhir::search_patients),
        ),
        r(
            M::POST,
            "/fhir/Patient",
            Needs(Exchange),
            post(fhir::create_patient).layer(DefaultBodyLimit::max(fhir::BUNDLE_LIMIT)),
        ),
        r(
            M::GET,
            "/fhir/Patient/{id}",
            Needs(ReadRegistry),
            get(fhir::read_patient),
        ),
        r(
            M::GET,
            "/fhir/Immunization",
            Needs(ReadRegistry),
            get(fhir::search_immunizations),
        ),
        r(
            M::GET,
            "/fhir/Immunization/{id}",
            Needs(ReadRegistry),
            get(fhir::read_immunization),
        ),
        r(
            M::POST,
            "/fhir/Immunization",
            Needs(Exchange),
            post(fhir::create_immunization).layer(DefaultBodyLimit::max(fhir::BUNDLE_LIMIT)),
        ),
        r(
            M::GET,
            "/fhir/$export",
            Needs(ReadRegistry),
            get(fhir::export),
        ),
        r(
            M::POST,
            "/hl7/v2",
            Needs(Exchange),
            post(hl7::post_message).layer(DefaultBodyLimit::max(hl7::MESSAGE_LIMIT)),
        ),
        r(
            M::GET,
            "/api/v1/stores",
            Needs(ReadStock),
            get(supply::list_stores),
        ),
        r(
            M::POST,
            "/api/v1/stores",
            Needs(ManageStock),
            post(supply::create_store),
        ),
        r(
            M::GET,
            "/api/v1/stores/{code}",
            Needs(ReadStock),
            get(supply::get_store),
        ),
        r(
            M::POST,
            "/api/v1/stores/{code}/equipment",
            Needs(ManageStock),
            post(supply::add_equipment),
        ),
        r(
            M::POST,
            "/api/v1/equipment/{id}/working",
            Needs(ManageStock),
            post(supply::set_working),
        ),
        r(
            M::GET,
            "/api/v1/stores/{code}/stock",
            Needs(ReadStock),
            get(supply::stock),
        ),
        r(
            M::GET,
            "/api/v1/stores/{code}/movements",
            Needs(ReadStock),
            get(supply::movements),
        ),
        r(
            M::POST,
            "/api/v1/stores/{code}/movements",
            Needs(ManageStock),
            post(supply::record_movement),
        ),
        r(
            M::POST,
            "/api/v1/shipments",
            Needs(ManageStock),
            post(supply::dispatch),
        ),
        r(
            M::GET,
            "/api/v1/shipments/{id}",
            Needs(ReadStock),
            get(supply::get_shipment),
        ),
        r(
            M::POST,
            "/api/v1/shipments/{id}/receive",
            Needs(ManageStock),
            post(supply::receive),
        ),
        r(
            M::POST,
            "/api/v1/lots/{product_code}/{lot_number}/status",
            Needs(HoldLots),
            post(supply::set_lot_status),
        ),
        r(
            M::POST,
            "/api/v1/equipment/{id}/readings",
            Needs(ManageStock),
            post(supply::record_readings),
        ),
        r(
            M::POST,
            "/api/v1/equipment/{id}/readings/import",
            Needs(ManageStock),
            post(supply::import_readings).layer(DefaultBodyLimit::max(supply::READINGS_CSV_LIMIT)),
        ),
        r(
            M::GET,
            "/api/v1/equipment/{id}/readings",
            Needs(ReadStock),
            get(supply::readings),
        ),
        r(
            M::GET,
            "/api/v1/excursions",
            Needs(ReadStock),
            get(supply::open_excursions),
        ),
        r(
            M::GET,
            "/api/v1/lots/{product_code}/{lot_number}/persons",
            Needs(ReadRegistry),
            get(supply::persons_dosed),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/cases",
            Needs(ReadOutbreak),
            get(outbreak::list_cases),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/cases",
            Needs(ManageOutbreak),
            post(outbreak::confirm_case),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/cases/{id}",
            Needs(ReadOutbreak),
            get(outbreak::get_case),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/cases/{id}/reverse",
            Needs(ManageOutbreak),
            post(outbreak::reverse_case),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/cases/{id}/outcome",
            Needs(ManageOutbreak),
            post(outbreak::case_outcome),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/contacts",
            Needs(ReadOutbreak),
            get(outbreak::list_contacts),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/contacts",
            Needs(ManageOutbreak),
            post(outbreak::add_contact),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/contacts/import",
            Needs(ManageOutbreak),
            csv(post(outbreak::import_contacts)),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/isolations",
            Needs(ManageOutbreak),
            post(outbreak::start_isolation),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/persons/{id}/isolations",
            Needs(ReadOutbreak),
            get(outbreak::isolations_of),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/checks",
            Needs(ManageOutbreak),
            post(outbreak::record_check),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/team-list",
            Needs(ReadOutbreak),
            get(outbreak::team_list),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/alerts",
            Needs(ReadOutbreak),
            get(outbreak::alerts),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/laboratories",
            Needs(ReadOutbreak),
            get(outbreak::list_laboratories),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/laboratories",
            Needs(ManageOutbreak),
            post(outbreak::create_laboratory),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/laboratories/{code}/samples",
            Needs(ManageOutbreak),
            post(outbreak::collect_samples),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/laboratories/{code}/tests",
            Needs(ManageOutbreak),
            post(outbreak::make_test),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/laboratories/{code}/queue",
            Needs(ReadOutbreak),
            get(outbreak::lab_queue),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/tests/{id}/result",
            Needs(ManageOutbreak),
            post(outbreak::record_result),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/ring",
            Needs(ReadOutbreak),
            get(outbreak::ring),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/scenarios",
            Needs(PlanSurge),
            get(outbreak::scenarios),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/surge",
            Needs(PlanSurge),
            post(outbreak::surge_plan),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/facilities",
            Needs(ReadOutbreak),
            get(outbreak_facilities::list_facilities),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/facilities",
            Needs(ManageOutbreak),
            post(outbreak_facilities::create_facility),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/facilities/{code}",
            Needs(ReadOutbreak),
            get(outbreak_facilities::get_facility),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/facilities/{code}/activate",
            Needs(ManageOutbreak),
            post(outbreak_facilities::activate_facility),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/admissions",
            Needs(ManageOutbreak),
            post(outbreak_facilities::admit),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/admissions/{id}/discharge",
            Needs(ManageOutbreak),
            post(outbreak_facilities::discharge),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/occupancy",
            Needs(ReadOutbreak),
            get(outbreak_facilities::occupancy),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/activation",
            Needs(ReadOutbreak),
            get(outbreak_facilities::activation),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/teams",
            Needs(ReadOutbreak),
            get(outbreak_facilities::list_teams),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/teams",
            Needs(ManageOutbreak),
            post(outbreak_facilities::create_team),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/teams/{code}",
            Needs(ReadOutbreak),
            get(outbreak_facilities::get_team),
        ),
        r(
            M::POST,
            "/api/v1/outbreak/teams/{code}/assignments",
            Needs(ManageOutbreak),
            post(outbreak_facilities::assign_team),
        ),
        r(
            M::GET,
            "/api/v1/outbreak/isolation-policy",
            Needs(ReadOutbreak),
            get(outbreak_policy::get_policy),
        ),
        r(
            M::PUT,
            "/api/v1/outbreak/isolation-policy",
            Needs(ManageOutbreak),
            axum::routing::put(outbreak_policy::set_policy),
        ),
    ];
    all.extend(api::allocation::routes());
    all.extend(api::area_tree::routes());
    all.extend(web::part_routes());
    all
}

/// Who is calling and what they hold.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    summary = "Who is calling: user name, grants (role:scope), and the session's CSRF token when signed in with a cookie",
    responses(
        (status = 200, description = "{username, display_name, grants, csrf_token}"),
        (status = 401, response = crate::error::Problem),
    )
)]
async fn me(axum::Extension(caller): axum::Extension<auth::Caller>) -> Response {
    let Some(p) = caller.principal else {
        return ApiError::Unauthorized {
            message: "not signed in".into(),
        }
        .into_response();
    };
    axum::Json(serde_json::json!({
        "username": p.user.username,
        "display_name": p.user.display_name,
        "grants": p.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "csrf_token": caller.session_csrf,
    }))
    .into_response()
}

/// The application router.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for def in routes() {
        let guarded = def
            .handler
            .route_layer(axum::middleware::from_fn(edge::refuse_unstorable))
            .route_layer(axum::middleware::from_fn_with_state(
                def.policy,
                auth::enforce,
            ));
        router = router.route(def.path, guarded);
    }
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(axum::middleware::from_fn(edge::security_headers));
    observe::layers(router.with_state(state))
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        what: "this path".into(),
    }
}

/// The router adds the `Allow` header naming the methods the path has.
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Liveness: the process answers. It does not touch the database, so an
/// orchestrator does not restart a server whose database is down.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness: the process answers (the database is not touched)",
    responses(
        (status = 200, description = "ok", content_type = "text/plain"),
    )
)]
async fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// How long the readiness probe waits for its write.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Readiness: the database takes a durable write now (the heartbeat row,
/// committed); 503 problem+json with Retry-After otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    summary = "Readiness: the database takes a durable write now; 503 with Retry-After otherwise",
    responses(
        (status = 200, description = "ready", content_type = "text/plain"),
        (status = 503, response = crate::error::Problem),
    )
)]
async fn readyz(State(app): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, app.store.heartbeat()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) if e.is_unavailable() => ApiError::Store(e).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness write failed");
            ApiError::Store(vaxgrid_store::StoreError::Unavailable(
                "the database cannot be written".into(),
            ))
            .into_response()
        }
        Err(_) => ApiError::Store(vaxgrid_store::StoreError::Unavailable(format!(
            "the database did not take a write within {} s",
            READY_TIMEOUT.as_secs()
        )))
        .into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    summary = "This document",
    responses(
        (status = 200, description = "OK"),
    )
)]
async fn openapi_document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document(),
    )
        .into_response()
}

/// Serves until Ctrl-C / SIGTERM. Prints the address it listens on.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("install SIGTERM handler");
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document describes exactly the routes of the router.
    #[test]
    fn openapi_matches_the_route_table() {
        let doc: serde_json::Value =
            serde_json::from_str(openapi::document()).expect("the document is JSON");
        let mut documented = std::collections::BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            for method in ops.as_object().expect("operations").keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let routed: std::collections::BTreeSet<_> = routes()
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        assert_eq!(documented, routed);
    }

    /// Any change to the document is seen in review: run the tests with
    /// `INSTA_UPDATE=always` (or `cargo insta review`) and commit the new
    /// snapshot with the change that caused it.
    #[test]
    fn openapi_document_snapshot() {
        insta::assert_snapshot!("openapi", openapi::document());
    }
}
