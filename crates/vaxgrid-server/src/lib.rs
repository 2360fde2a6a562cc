//! The vaxgrid HTTP server: JSON API under /api/v1, problem+json errors,
//! OpenAPI document, and the pages people open in a browser.

pub mod api;
pub mod dose_csv;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod fhir;
pub mod hl7;
pub mod import;
pub mod web;

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::Store;

use crate::error::ApiError;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub writer: DoseWriter,
    /// Certificate signing and verification, when keys are configured.
    pub dcc: Option<std::sync::Arc<Dcc>>,
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
    /// Starts the dose writer for `store` and the background checkpointer.
    pub fn new(store: Store, config: WriterConfig) -> AppState {
        let writer = DoseWriter::spawn(store.clone(), config);
        let checkpointed = store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every.tick().await;
                if let Err(e) = checkpointed.checkpoint().await {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        });
        AppState {
            store,
            writer,
            dcc: None,
        }
    }

    /// Loads the signer and trust list from a key folder (`vaxgrid keys init`).
    pub fn with_dcc_keys(
        mut self,
        dir: &std::path::Path,
        country: &str,
        issuer_name: &str,
    ) -> Result<AppState, String> {
        let (signer, trust) = vaxgrid_interop::dcc::load_key_dir(dir).map_err(|e| e.to_string())?;
        self.dcc = Some(std::sync::Arc::new(Dcc {
            signer,
            trust,
            country: country.to_string(),
            issuer_name: issuer_name.to_string(),
        }));
        Ok(self)
    }
}

/// One row of the route table: the router and the OpenAPI test both read it.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> RouteDef {
    RouteDef {
        method,
        path,
        handler,
    }
}

/// Every route of the application.
pub fn routes() -> Vec<RouteDef> {
    use api::*;
    vec![
        r(Method::GET, "/", get(web::home)),
        r(Method::GET, "/healthz", get(healthz)),
        r(Method::GET, "/metrics", get(metrics)),
        r(Method::GET, "/api/v1/openapi.json", get(openapi)),
        r(Method::GET, "/api/v1/areas", get(areas::list)),
        r(Method::POST, "/api/v1/areas", post(areas::create)),
        r(
            Method::POST,
            "/api/v1/areas/import",
            post(areas::import).layer(DefaultBodyLimit::max(extract::CSV_LIMIT)),
        ),
        r(Method::GET, "/api/v1/areas/{code}", get(areas::get)),
        r(Method::GET, "/api/v1/persons", get(persons::search)),
        r(Method::POST, "/api/v1/persons", post(persons::create)),
        r(
            Method::POST,
            "/api/v1/persons/import",
            post(persons::import).layer(DefaultBodyLimit::max(extract::CSV_LIMIT)),
        ),
        r(Method::GET, "/api/v1/persons/{id}", get(persons::get)),
        r(
            Method::GET,
            "/api/v1/persons/{id}/doses",
            get(persons::history),
        ),
        r(
            Method::POST,
            "/api/v1/persons/{id}/merge",
            post(persons::merge),
        ),
        r(Method::GET, "/api/v1/products", get(catalog::products)),
        r(
            Method::POST,
            "/api/v1/products",
            post(catalog::create_product),
        ),
        r(
            Method::GET,
            "/api/v1/products/{code}",
            get(catalog::product),
        ),
        r(Method::GET, "/api/v1/lots", get(catalog::lots)),
        r(Method::POST, "/api/v1/lots", post(catalog::create_lot)),
        r(
            Method::GET,
            "/api/v1/lots/{product_code}/{lot_number}",
            get(catalog::lot),
        ),
        r(Method::GET, "/api/v1/sites", get(catalog::sites)),
        r(Method::POST, "/api/v1/sites", post(catalog::create_site)),
        r(Method::GET, "/api/v1/sites/{code}", get(catalog::site)),
        r(Method::POST, "/api/v1/doses", post(doses::record)),
        r(
            Method::POST,
            "/api/v1/doses/import",
            post(doses::import).layer(DefaultBodyLimit::max(extract::CSV_LIMIT)),
        ),
        r(Method::GET, "/api/v1/doses/{id}", get(doses::get)),
        r(
            Method::POST,
            "/api/v1/doses/{id}/entered-in-error",
            post(doses::entered_in_error),
        ),
        r(
            Method::GET,
            "/api/v1/reports/coverage",
            get(reports::coverage),
        ),
        r(
            Method::POST,
            "/api/v1/persons/{id}/certificate",
            post(certificates::issue),
        ),
        r(
            Method::GET,
            "/api/v1/dcc/trust-list",
            get(certificates::trust_list),
        ),
        r(
            Method::POST,
            "/api/v1/dcc/verify",
            post(certificates::verify),
        ),
        r(
            Method::POST,
            "/api/v1/dcc/verify-image",
            post(certificates::verify_image)
                .layer(DefaultBodyLimit::max(certificates::IMAGE_LIMIT)),
        ),
        r(Method::GET, "/verify", get(web::verify_page)),
        r(Method::GET, "/fhir/metadata", get(fhir::metadata)),
        r(
            Method::POST,
            "/fhir",
            post(fhir::transaction).layer(DefaultBodyLimit::max(fhir::BUNDLE_LIMIT)),
        ),
        r(Method::GET, "/fhir/Patient/{id}", get(fhir::read_patient)),
        r(
            Method::GET,
            "/fhir/Immunization",
            get(fhir::search_immunizations),
        ),
        r(
            Method::GET,
            "/fhir/Immunization/{id}",
            get(fhir::read_immunization),
        ),
        r(
            Method::POST,
            "/hl7/v2",
            post(hl7::post_message).layer(DefaultBodyLimit::max(hl7::MESSAGE_LIMIT)),
        ),
        r(
            Method::GET,
            "/api/v1/dcc/revocation-list",
            get(certificates::revocation_list),
        ),
    ]
}

/// The application router.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for def in routes() {
        router = router.route(def.path, def.handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        what: "this path".into(),
    }
}

async fn method_not_allowed() -> Response {
    let mut r =
        ApiError::bad_request("method", "this method is not allowed on this path").into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}

async fn healthz(State(app): State<AppState>) -> Response {
    match app.store.count_persons().await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(e) => ApiError::Store(e).into_response(),
    }
}

/// The API description, written by hand next to the handlers and checked
/// against the route table by a test.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn metrics(State(app): State<AppState>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &app.writer.stats;
    let body = format!(
        "# TYPE vaxgrid_dose_batches_total counter\nvaxgrid_dose_batches_total {}\n\
         # TYPE vaxgrid_dose_commands_total counter\nvaxgrid_dose_commands_total {}\n\
         # TYPE vaxgrid_dose_largest_batch gauge\nvaxgrid_dose_largest_batch {}\n\
         # TYPE vaxgrid_dose_failed_batches_total counter\nvaxgrid_dose_failed_batches_total {}\n\
         # TYPE vaxgrid_dose_batch_retries_total counter\nvaxgrid_dose_batch_retries_total {}\n\
         # TYPE vaxgrid_dose_writer_busy_seconds_total counter\nvaxgrid_dose_writer_busy_seconds_total {:.6}\n",
        s.batches.load(Relaxed),
        s.commands.load(Relaxed),
        s.largest_batch.load(Relaxed),
        s.failed_batches.load(Relaxed),
        s.retries.load(Relaxed),
        s.busy_micros.load(Relaxed) as f64 / 1e6,
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
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
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
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
}
