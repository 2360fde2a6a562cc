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

/// An answer whose problem document repeats its status.
fn answer(status: StatusCode, slug: &str, title: &str, detail: String) -> (StatusCode, Problem) {
    (status, problem(status, slug, title, detail))
}

impl Problem {
    /// The problem with one more wrong field named.
    fn naming(mut self, field: impl Into<String>, message: impl Into<String>) -> Problem {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }
}

/// The detail of several invalid fields: each `field: message`, joined.
fn fields_detail(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A bulk request refused: how many rows are wrong and the first in the
/// detail, every one listed.
fn invalid_rows(count: usize, errors: Vec<RowProblem>) -> (StatusCode, Problem) {
    let detail = format!(
        "{} of {count} rows are invalid; nothing was written. First: row {} {}: {}",
        errors.len(),
        errors.first().map_or(0, |e| e.row),
        errors.first().map_or("", |e| e.field.as_str()),
        errors.first().map_or("", |e| e.message.as_str()),
    );
    let (status, mut p) = answer(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-rows",
        "Invalid rows",
        detail,
    );
    p.rows = errors;
    (status, p)
}

/// A method the path does not have (the `Allow` header names those it has).
fn method_not_allowed() -> (StatusCode, Problem) {
    let p = problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this method is not allowed on this path; the Allow header names those that are".into(),
    )
    .naming("method", "this method is not allowed on this path");
    (StatusCode::METHOD_NOT_ALLOWED, p)
}

/// A slot with no place left, and the next free slots offered instead.
fn slot_full(starts_at: String, alternatives: serde_json::Value) -> (StatusCode, Problem) {
    let mut p = problem(
        StatusCode::CONFLICT,
        "slot-full",
        "The slot is full",
        format!(
            "the slot at {starts_at} has no place left; \
             see alternatives for the next free slots of the site"
        ),
    )
    .naming("starts_at", format!("the slot at {starts_at} is full"));
    p.alternatives = Some(alternatives);
    (StatusCode::CONFLICT, p)
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
                let detail = format!("{field}: {message}");
                let p = problem(
                    StatusCode::BAD_REQUEST,
                    "malformed-request",
                    "Malformed request",
                    detail,
                );
                (StatusCode::BAD_REQUEST, p.naming(field, message))
            }
            ApiError::Invalid(errors) => {
                let (status, mut p) = answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-field",
                    "Invalid field",
                    fields_detail(&errors),
                );
                p.errors = errors;
                (status, p)
            }
            ApiError::Rows { count, errors } => invalid_rows(count, errors),
            ApiError::NotFound { what } => answer(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!("{what} does not exist"),
            ),
            ApiError::Absent { entity, key } => answer(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                absent(entity, &key),
            ),
            ApiError::MethodNotAllowed => method_not_allowed(),
            ApiError::UnsupportedMediaType { expected } => answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                format!("send the body as {expected}"),
            ),
            ApiError::PayloadTooLarge { limit } => answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                format!("the body is larger than {limit} bytes"),
            ),
            ApiError::Unauthorized { message } => answer(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Not signed in",
                message,
            ),
            ApiError::Forbidden { message } => {
                answer(StatusCode::FORBIDDEN, "forbidden", "Not allowed", message)
            }
            ApiError::TooManyRequests { message } => answer(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                message,
            ),
            ApiError::SlotFull {
                starts_at,
                alternatives,
            } => slot_full(starts_at, alternatives),
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

/// A dose the rules refuse: the rule's field, whether a clinician may
/// override it, and for a dose too early the first valid day.
fn dose_rule_problem(rule: DoseRuleError) -> (StatusCode, Problem) {
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
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        p.naming(rule.field(), message),
    )
}

/// A 503 the client is asked to retry.
fn unavailable(detail: String) -> (StatusCode, Problem) {
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Temporarily unavailable",
        detail,
    )
}

fn store_problem(e: StoreError, retry_after: &mut bool) -> (StatusCode, Problem) {
    match e {
        StoreError::NotFound { entity, field, key } => {
            let message = absent(entity, &key);
            let p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-reference",
                "Unknown reference",
                format!("{field}: {message}"),
            );
            (StatusCode::UNPROCESSABLE_ENTITY, p.naming(field, message))
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
            )
            .naming(field, message);
            p.existing = existing;
            (StatusCode::CONFLICT, p)
        }
        StoreError::Forbidden { field, message } => {
            let detail = format!("{field}: {message}");
            let p = problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail);
            (StatusCode::FORBIDDEN, p.naming(field, message))
        }
        StoreError::Invalid { field, message } => {
            let p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
                format!("{field}: {message}"),
            );
            (StatusCode::UNPROCESSABLE_ENTITY, p.naming(field, message))
        }
        StoreError::DoseRule(rule) => dose_rule_problem(rule),
        StoreError::Busy | StoreError::Unavailable(_) | StoreError::WriterStopped => {
            *retry_after = true;
            unavailable(e.to_string())
        }
        StoreError::Database(_) | StoreError::Sqlite(_) if e.is_unavailable() => {
            // The database, not the request: unreachable, read-only, full,
            // locked. Logged with its cause; the client is asked to retry.
            tracing::warn!(error = %e, "storage unavailable");
            *retry_after = true;
            unavailable(
                "the database cannot take this request just now \
                 (unreachable, read-only, full or busy); retry later"
                    .into(),
            )
        }
        StoreError::UnsupportedUrl(_)
        | StoreError::MigrationChanged { .. }
        | StoreError::Database(_)
        | StoreError::Sqlite(_) => {
            tracing::error!(error = %e, "internal error");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the server could not complete the request; it has been logged".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The status, the document as sent and whether a retry is asked.
    fn sent(e: ApiError) -> (u16, serde_json::Value, bool) {
        let (status, p, retry) = e.problem();
        (status.as_u16(), serde_json::to_value(p).unwrap(), retry)
    }

    #[test]
    fn a_malformed_request_names_its_field() {
        let (status, body, retry) = sent(ApiError::bad_request("after", "not a cursor"));
        assert_eq!((status, retry), (400, false));
        assert_eq!(
            body,
            json!({
                "type": "/problems/malformed-request",
                "title": "Malformed request",
                "status": 400,
                "detail": "after: not a cursor",
                "errors": [{"field": "after", "message": "not a cursor"}],
            })
        );
    }

    #[test]
    fn invalid_fields_are_joined_in_the_detail() {
        let errors = vec![
            FieldError {
                field: "a".into(),
                message: "x".into(),
            },
            FieldError {
                field: "b".into(),
                message: "y".into(),
            },
        ];
        let (status, body, _) = sent(ApiError::Invalid(errors));
        assert_eq!(status, 422);
        assert_eq!(body["detail"], "a: x; b: y");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn refused_rows_name_the_first() {
        let errors = vec![RowProblem {
            row: 3,
            field: "sex".into(),
            message: "unknown".into(),
        }];
        let (status, body, _) = sent(ApiError::Rows { count: 10, errors });
        assert_eq!(status, 422);
        assert_eq!(
            body["detail"],
            "1 of 10 rows are invalid; nothing was written. First: row 3 sex: unknown"
        );
        assert_eq!(body["rows"][0]["row"], 3);
        assert!(body.get("errors").is_none());
    }

    #[test]
    fn a_full_slot_offers_alternatives() {
        let (status, body, _) = sent(ApiError::SlotFull {
            starts_at: "09:00".into(),
            alternatives: json!([{"starts_at": "09:30"}]),
        });
        assert_eq!(status, 409);
        assert_eq!(
            body["detail"],
            "the slot at 09:00 has no place left; see alternatives for the next free slots of the site"
        );
        assert_eq!(
            body["errors"],
            json!([{"field": "starts_at", "message": "the slot at 09:00 is full"}])
        );
        assert_eq!(body["alternatives"], json!([{"starts_at": "09:30"}]));
    }

    #[test]
    fn a_method_not_allowed_names_the_method() {
        let (status, body, _) = sent(ApiError::MethodNotAllowed);
        assert_eq!(status, 405);
        assert_eq!(body["errors"][0]["field"], "method");
    }

    #[test]
    fn store_refusals_keep_their_status_and_field() {
        let unknown = StoreError::NotFound {
            entity: "product",
            field: "product_code",
            key: "X".into(),
        };
        let (status, body, _) = sent(ApiError::Store(unknown));
        assert_eq!(status, 422);
        assert_eq!(body["type"], "/problems/unknown-reference");
        assert_eq!(body["detail"], "product_code: product 'X' does not exist");
        assert_eq!(body["errors"][0]["field"], "product_code");

        let taken = StoreError::Conflict {
            field: "id_number",
            message: "taken".into(),
            existing: Some("/api/v1/persons/1".into()),
        };
        let (status, body, _) = sent(ApiError::Store(taken));
        assert_eq!(status, 409);
        assert_eq!(body["detail"], "taken");
        assert_eq!(body["existing"], "/api/v1/persons/1");
        assert_eq!(
            body["errors"],
            json!([{"field": "id_number", "message": "taken"}])
        );

        let forbidden = StoreError::Forbidden {
            field: "role",
            message: "not yours".into(),
        };
        let (status, body, _) = sent(ApiError::Store(forbidden));
        assert_eq!(
            (status, body["detail"].as_str()),
            (403, Some("role: not yours"))
        );
    }

    #[test]
    fn a_dose_too_early_says_when_it_would_be_valid() {
        let day = |d: u8| time::Date::from_calendar_date(2024, time::Month::March, d).unwrap();
        let rule = DoseRuleError::IntervalTooShort {
            previous: day(1),
            days: 10,
            min_days: 28,
            product: "AZ".into(),
            earliest: day(29),
        };
        let overridable = rule.overridable();
        let (status, body, retry) = sent(ApiError::Store(StoreError::DoseRule(rule)));
        assert_eq!((status, retry), (422, false));
        assert_eq!(body["earliest_valid_date"], "2024-03-29");
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert_eq!(
            message.ends_with("(a clinician may record it with override_reason)"),
            overridable
        );
    }

    #[test]
    fn an_unavailable_store_asks_for_a_retry() {
        let (status, body, retry) = sent(ApiError::Store(StoreError::Busy));
        assert_eq!((status, retry), (503, true));
        assert_eq!(
            body["detail"],
            "the dose writer queue is full; retry shortly"
        );
        let (status, _, retry) = sent(ApiError::Store(StoreError::UnsupportedUrl("x".into())));
        assert_eq!((status, retry), (500, false));
    }
}
