//! Request extractors whose rejections are problem+json naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Bodies above this are refused with 413 (bulk imports have their own limit).
pub const BODY_LIMIT: usize = 64 * 1024;

/// JSON body parsed into `T`, with errors that name the JSON path.
pub struct ApiJson<T>(pub T);

fn media_type_is(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// Reads the whole body, mapping the size limit to 413.
pub async fn read_body<S: Send + Sync>(
    req: Request,
    state: &S,
    limit: usize,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::bad_request("body", rejection.body_text())
        }
    })
}

/// Parses JSON bytes, naming the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request("body", "the body is not valid UTF-8"));
    }
    // PostgreSQL text cannot hold NUL; refuse it here for both backends,
    // naming the member that holds it.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        if let Some(path) = serde_json::from_slice(bytes)
            .ok()
            .and_then(|v| crate::edge::json_nul_path(&v))
        {
            return Err(ApiError::bad_request(path, crate::edge::NUL_MESSAGE));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => {
                ApiError::bad_request("body", format!("malformed JSON: {inner}"))
            }
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                // "missing field `x`" at the root names no path; take the field from the message.
                let field = if path == "." || path.is_empty() {
                    message
                        .split('`')
                        .nth(1)
                        .map_or_else(|| "body".to_string(), str::to_string)
                } else {
                    path
                };
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_string();
                ApiError::Invalid(vec![FieldError { field, message }])
            }
        }
    })?;
    // One JSON value and nothing after it but white space.
    de.end().map_err(|e| {
        ApiError::bad_request("body", format!("unexpected text after the JSON value: {e}"))
    })?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !media_type_is(&req, "application/json") {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let bytes = read_body(req, state, BODY_LIMIT).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A CSV body (text/csv), up to the route's own body limit.
pub struct CsvBody(pub Bytes);

/// Bulk imports may be large; they get this limit instead of [`BODY_LIMIT`].
pub const CSV_LIMIT: usize = 256 * 1024 * 1024;

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !media_type_is(&req, "text/csv") {
            return Err(ApiError::UnsupportedMediaType {
                expected: "text/csv",
            });
        }
        let bytes = read_body(req, state, CSV_LIMIT).await?;
        crate::edge::check_csv(&bytes)?;
        Ok(CsvBody(bytes))
    }
}

/// Query string parsed into `T`, with a 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path == "." || path.is_empty() {
                    message
                        .split('`')
                        .nth(1)
                        .map_or_else(|| "query".to_string(), str::to_string)
                } else {
                    path
                };
                ApiError::bad_request(field, message)
            })
    }
}

/// Checks that a path or body value is a UUID, returning its canonical form.
pub fn uuid_field(field: &str, value: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(value)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::bad_request(field, format!("'{value}' is not a UUID")))
}

/// The client's id for a new record when it gave one (a UUID, so a retry
/// finds the record), else a new one.
pub fn id_or_new(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    match value {
        Some(id) => uuid_field(field, id),
        None => Ok(uuid::Uuid::now_v7().to_string()),
    }
}

/// A `YYYY-MM-DD` date from a body or query value.
pub fn date_field(field: &str, value: &str) -> Result<time::Date, ApiError> {
    vaxgrid_store::parse_date(value)
        .ok_or_else(|| ApiError::invalid(field, format!("'{value}' is not a date YYYY-MM-DD")))
}

/// Page size from the query: 1..=500, default 50.
pub fn page_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=500) => Ok(n as usize),
        Some(n) => Err(ApiError::bad_request(
            "limit",
            format!("limit must be between 1 and 500, not {n}"),
        )),
    }
}
