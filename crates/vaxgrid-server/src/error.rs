//! One error type for every handler, rendered as RFC 9457
//! `application/problem+json`. Every store error is mapped in one exhaustive
//! match; the cause of a 500 is logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vaxgrid_core::dose::DoseRuleError;
use vaxgrid_store::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// The request could not be read: malformed JSON or CSV, bad query, bad path.
    BadRequest {
        field: String,
        message: String,
    },
    /// Well-formed but invalid; one or more fields named.
    Invalid(Vec<FieldError>),
    /// Several rows of a bulk request failed; nothing was written.
    Rows {
        count: usize,
        errors: Vec<RowProblem>,
    },
    NotFound {
        what: String,
    },
    /// A record named in the path that is absent or outside the caller's
    /// areas (404, worded by [`absent`]).
    Absent {
        entity: &'static str,
        key: String,
    },
    /// The path exists but not with this method; `Allow` names the others.
    MethodNotAllowed,
    UnsupportedMediaType {
        expected: &'static str,
    },
    PayloadTooLarge {
        limit: usize,
    },
    /// No caller, or credentials that are not valid.
    Unauthorized {
        message: String,
    },
    /// A known caller without the right to do this.
    Forbidden {
        message: String,
    },
    /// Too many attempts (sign-in lockout).
    TooManyRequests {
        message: String,
    },
    /// A slot with no place left; the next free slots nearby are offered.
    SlotFull {
        starts_at: String,
        alternatives: serde_json::Value,
    },
    Store(StoreError),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// A row of a file that could not be read (`vaxgrid_interop::csv`).
impl From<vaxgrid_interop::csv::RowError> for RowProblem {
    fn from(e: vaxgrid_interop::csv::RowError) -> Self {
        RowProblem {
            row: e.row,
            field: e.field,
            message: e.message,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// For lookups by path: a missing record is a 404, not a 422.
    pub fn lookup(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { entity, key, .. } => ApiError::Absent { entity, key },
            other => ApiError::Store(other),
        }
    }
}

/// Records a caller sees only within their areas: one outside them is
/// answered as absent, so the sentence says where it was looked for.
const SCOPED: &[&str] = &[
    "area",
    "person",
    "site",
    "campaign",
    "wave",
    "dose",
    "visit",
    "appointment",
    "session",
    "investigation",
    "store",
    "equipment",
    "shipment",
    // Outbreak response: a case and an admission by the patient's area; a
    // facility, a team and a laboratory within their area's subtree; a
    // test by its laboratory's.
    "case",
    "admission",
    "facility",
    "team",
    "laboratory",
    "test",
];

/// "no area 22 in your areas" for a record kept within areas (absent, or
/// outside the caller's: the same answer, which does not read as a data
/// error); "product 'X' does not exist" for reference data everyone sees.
pub fn absent(entity: &str, key: &str) -> String {
    if SCOPED.contains(&entity) {
        format!("no {entity} {key} in your areas")
    } else {
        format!("{entity} '{key}' does not exist")
    }
}

/// RFC 9457 problem details: the body of every error answer, as
/// `application/problem+json`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The request, `urn:request:<id>`, as its log lines name it. Added
    /// to every problem by `observe` (so never set here).
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    /// A path naming the kind of problem, e.g. `/problems/invalid`.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// What went wrong, for a person.
    detail: String,
    /// The fields that are wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    /// The rows of a bulk request that are wrong (nothing was written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rows: Vec<RowProblem>,
    /// The record that already holds a key that must be unique.
    #[serde(skip_serializing_if = "Option::is_none")]
    existing: Option<String>,
    /// A dose too early: the first day it would be valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest_valid_date: Option<String>,
    /// A full slot: the next free slots nearby.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    alternatives: Option<serde_json::Value>,
}

/// Every error answer of the OpenAPI document refers to this response.
impl<'s> utoipa::ToResponse<'s> for Problem {
    fn response() -> (
        &'s str,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    ) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        (
            "Problem",
            ResponseBuilder::new()
                .description("problem details")
                .content("application/problem+json", content)
                .build()
                .into(),
        )
    }
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: String) -> Problem {
    Problem {
        instance: None,
        kind: format!("/problems/{slug}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        rows: Vec::new(),
        existing: None,
        earliest_valid_date: None,
        alternatives: None,
    }
}

impl ApiError {
    /// The status and the human sentence of the problem, for pages.
    pub fn status_and_detail(self) -> (StatusCode, String) {
        let (status, problem, _) = self.problem();
        (status, problem.detail)
    }

    /// The first field the problem names and its message (the detail when
    /// it names none): one line of a bulk import's row report.
    pub fn field_and_message(self) -> (String, String) {
        let (_, mut problem, _) = self.problem();
        if problem.errors.is_empty() {
            ("row".to_string(), problem.detail)
        } else {
            let first = problem.errors.swap_remove(0);
            (first.field, first.message)
        }
    }

    /// The status, the problem document, and whether to ask for a retry.
    fn problem(self) -> (StatusCode, Problem, bool) {
        let mut retry_after = false;
        let (status, body) = match self {
            ApiError::BadRequest { field, message } => {
                let mut p = problem(
                    StatusCode::BAD_REQUEST,
                    "malformed-request",
                    "Malformed request",
                    format!("{field}: {message}"),
                );
                p.errors.push(FieldError { field, message });
                (StatusCode::BAD_REQUEST, p)
            }
            ApiError::Invalid(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut p = problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-field",
                    "Invalid field",
                    detail,
                );
                p.errors = errors;
                (StatusCode::UNPROCESSABLE_ENTITY, p)
            }
            ApiError::Rows { count, errors } => {
                let detail = format!(
                    "{} of {count} rows are invalid; nothing was written. First: row {} {}: {}",
                    errors.len(),
                    errors.first().map_or(0, |e| e.row),
                    errors.first().map_or("", |e| e.field.as_str()),
                    errors.first().map_or("", |e| e.message.as_str()),
                );
                let mut p = problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-rows",
                    "Invalid rows",
                    detail,
                );
                p.rows = errors;
                (StatusCode::UNPROCESSABLE_ENTITY, p)
            }
            ApiError::NotFound { what } => (
                StatusCode::NOT_FOUND,
                problem(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    format!("{what} does not exist"),
                ),
            ),
            ApiError::Absent { entity, key } => (
                StatusCode::NOT_FOUND,
                problem(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    absent(entity, &key),
                ),
            ),
            ApiError::MethodNotAllowed => {
                let mut p = problem(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                    "this method is not allowed on this path; the Allow header names those that are"
                        .into(),
                );
                p.errors.push(FieldError {
                    field: "method".into(),
                    message: "this method is not allowed on this path".into(),
                });
                (StatusCode::METHOD_NOT_ALLOWED, p)
            }
            ApiError::UnsupportedMediaType { expected } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                problem(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    format!("send the body as {expected}"),
                ),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "Payload too large",
                    format!("the body is larger than {limit} bytes"),
                ),
            ),
            ApiError::Unauthorized { message } => (
                StatusCode::UNAUTHORIZED,
                problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Not signed in",
                    message,
                ),
            ),
            ApiError::Forbidden { message } => (
                StatusCode::FORBIDDEN,
                problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", message),
            ),
            ApiError::TooManyRequests { message } => (
                StatusCode::TOO_MANY_REQUESTS,
                problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many requests",
                    message,
                ),
            ),
            ApiError::SlotFull {
                starts_at,
                alternatives,
            } => {
                let mut p = problem(
                    StatusCode::CONFLICT,
                    "slot-full",
                    "The slot is full",
                    format!("the slot at {starts_at} has no place left; see alternatives for the next free slots of the site"),
                );
                p.errors.push(FieldError {
                    field: "starts_at".into(),
                    message: format!("the slot at {starts_at} is full"),
                });
                p.alternatives = Some(alternatives);
                (StatusCode::CONFLICT, p)
            }
            ApiError::Store(e) => store_problem(e, &mut retry_after),
        };
        (status, body, retry_after)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body, retry_after) = self.problem();
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

fn store_problem(e: StoreError, retry_after: &mut bool) -> (StatusCode, Problem) {
    match e {
        StoreError::NotFound { entity, field, key } => {
            let message = absent(entity, &key);
            let mut p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-reference",
                "Unknown reference",
                format!("{field}: {message}"),
            );
            p.errors.push(FieldError {
                field: field.to_string(),
                message,
            });
            (StatusCode::UNPROCESSABLE_ENTITY, p)
        }
        StoreError::Conflict {
            field,
            message,
            existing,
        } => {
            let mut p = problem(
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                message.clone(),
            );
            p.errors.push(FieldError {
                field: field.to_string(),
                message,
            });
            p.existing = existing;
            (StatusCode::CONFLICT, p)
        }
        StoreError::Forbidden { field, message } => {
            let mut p = problem(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                format!("{field}: {message}"),
            );
            p.errors.push(FieldError {
                field: field.to_string(),
                message,
            });
            (StatusCode::FORBIDDEN, p)
        }
        StoreError::Invalid { field, message } => {
            let mut p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
                format!("{field}: {message}"),
            );
            p.errors.push(FieldError { field, message });
            (StatusCode::UNPROCESSABLE_ENTITY, p)
        }
        StoreError::DoseRule(rule) => {
            let mut p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "dose-rule",
                "The dose breaks a vaccination rule",
                rule.to_string(),
            );
            if let DoseRuleError::IntervalTooShort { earliest, .. } = &rule {
                p.earliest_valid_date = Some(vaxgrid_store::format_date(*earliest));
            }
            let mut message = rule.to_string();
            if rule.overridable() {
                message.push_str(" (a clinician may record it with override_reason)");
            }
            p.errors.push(FieldError {
                field: rule.field().to_string(),
                message,
            });
            (StatusCode::UNPROCESSABLE_ENTITY, p)
        }
        StoreError::Busy | StoreError::Unavailable(_) | StoreError::WriterStopped => {
            *retry_after = true;
            let detail = e.to_string();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    detail,
                ),
            )
        }
        StoreError::Database(_) | StoreError::Sqlite(_) if e.is_unavailable() => {
            // The database, not the request: unreachable, read-only, full,
            // locked. Logged with its cause; the client is asked to retry.
            tracing::warn!(error = %e, "storage unavailable");
            *retry_after = true;
            (
                StatusCode::SERVICE_UNAVAILABLE,
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    "the database cannot take this request just now (unreachable, read-only, full or busy); retry later".into(),
                ),
            )
        }
        StoreError::UnsupportedUrl(_)
        | StoreError::MigrationChanged { .. }
        | StoreError::Database(_)
        | StoreError::Sqlite(_) => {
            tracing::error!(error = %e, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the server could not complete the request; it has been logged".into(),
                ),
            )
        }
    }
}
