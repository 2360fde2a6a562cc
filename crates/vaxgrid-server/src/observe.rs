//! What every request passes through for the operators: a request id
//! (`x-request-id`, taken from the caller when it is a plain token, else
//! made here, and echoed in the answer), a tracing span carrying it — so
//! every log line of the request names it — the id in problem+json
//! (`instance`: `urn:request:<id>`), and a caught panic answered as a 500
//! problem+json while the server carries on.
//!
//! The span is at INFO and holds only the method, the path (no query: it
//! may carry names) and the id; one line per answer is logged at DEBUG
//! (`RUST_LOG=info,vaxgrid_server::observe=debug`), 4xx at INFO, 5xx at
//! ERROR.

use std::any::Any;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the request id, the trace span and the panic guard.
pub fn layers(router: Router) -> Router {
    router
        .layer(CatchPanicLayer::custom(panicked))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", id, method = %req.method(), path = req.uri().path())
                })
                .on_request(())
                .on_response(answered)
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(request_id))
}

/// A caller's id is kept when it is a plain token of at most 64 characters
/// (it goes into logs and a URN), else one is made.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id));
    let id = match given {
        Some(id) => id.to_string(),
        None => uuid::Uuid::now_v7().to_string(),
    };
    let value = HeaderValue::from_str(&id).expect("an acceptable id is a header value");
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(REQUEST_ID, value);
    if is_problem(&res) {
        res = with_instance(res, &id).await;
    }
    res
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json")
}

/// Adds `"instance": "urn:request:<id>"` as the first member of a problem
/// body (only error answers pay for this).
async fn with_instance(res: Response, id: &str) -> Response {
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (parts, Body::empty()).into_response();
    };
    let Some(rest) = bytes.strip_prefix(b"{") else {
        return (parts, Body::from(bytes)).into_response();
    };
    let mut out = Vec::with_capacity(bytes.len() + id.len() + 32);
    out.extend_from_slice(br#"{"instance":"urn:request:"#);
    out.extend_from_slice(id.as_bytes());
    out.push(b'"');
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    parts.headers.remove(CONTENT_LENGTH);
    (parts, Body::from(out)).into_response()
}

fn answered(res: &Response, latency: Duration, _span: &Span) {
    let status = res.status().as_u16();
    let micros = latency.as_micros() as u64;
    if status >= 500 {
        tracing::error!(status, micros, "answered");
    } else if status >= 400 {
        tracing::info!(status, micros, "answered");
    } else {
        tracing::debug!(status, micros, "answered");
    }
}

/// A handler that panicked: logged with its message (inside the request's
/// span), answered as the same 500 problem as any internal error.
fn panicked(err: Box<dyn Any + Send + 'static>) -> Response {
    let message = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "handler panicked");
    let body = serde_json::json!({
        "type": "/problems/internal",
        "title": "Internal error",
        "status": 500,
        "detail": "the server could not complete the request; it has been logged",
    });
    let mut res = (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(acceptable("0193a0c4-0000-7000-8000-000000000001"));
        assert!(acceptable("lb:abc.42_x"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("\"}{"));
        assert!(!acceptable(&"a".repeat(65)));
    }
}
