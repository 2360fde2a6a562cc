//! Checks every request meets at the edge, before any handler: text that a
//! database cannot store (a NUL character; PostgreSQL refuses it in `text`)
//! is refused with 400 naming the field, whatever the channel — path
//! segment, query parameter, form field, JSON member, CSV cell, FHIR
//! element, HL7 field — so it never reaches the store.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode;
use serde_json::Value;

use crate::error::ApiError;

/// The sentence every refusal of a NUL says.
pub const NUL_MESSAGE: &str = "text must not contain NUL characters (U+0000)";

/// Route layer: refuses a path segment or query parameter whose decoded
/// text holds a NUL or is not UTF-8, naming the path parameter (from the
/// route's template) or the query parameter.
pub async fn refuse_unstorable(req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    if let Err(e) = check_path(req.uri().path(), template.as_deref()) {
        return e.into_response();
    }
    if let Err(e) = check_pairs(req.uri().query().unwrap_or("").as_bytes(), "query") {
        return e.into_response();
    }
    next.run(req).await
}

/// The problem with one decoded piece of text, if any.
fn unstorable(bytes: &[u8]) -> Option<&'static str> {
    if bytes.contains(&0) {
        Some(NUL_MESSAGE)
    } else if std::str::from_utf8(bytes).is_err() {
        Some("text must be valid UTF-8")
    } else {
        None
    }
}

fn check_path(path: &str, template: Option<&str>) -> Result<(), ApiError> {
    let names: Vec<&str> = template.map_or_else(Vec::new, |t| t.split('/').collect());
    for (i, segment) in path.split('/').enumerate() {
        let decoded: Vec<u8> = percent_decode(segment.as_bytes()).collect();
        if let Some(message) = unstorable(&decoded) {
            let field = names
                .get(i)
                .and_then(|n| n.strip_prefix('{'))
                .and_then(|n| n.strip_suffix('}'))
                .unwrap_or("path");
            return Err(ApiError::bad_request(field, message));
        }
    }
    Ok(())
}

/// Checks `application/x-www-form-urlencoded` pairs (a query string or a
/// form body), naming the parameter; `whole` names the text when the
/// parameter's own name is what cannot be stored.
pub fn check_pairs(text: &[u8], whole: &str) -> Result<(), ApiError> {
    for pair in text.split(|b| *b == b'&') {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let key = decode_form(parts.next().unwrap_or_default());
        let value = decode_form(parts.next().unwrap_or_default());
        if let Some(message) = unstorable(&key) {
            return Err(ApiError::bad_request(whole, message));
        }
        if let Some(message) = unstorable(&value) {
            return Err(ApiError::bad_request(
                String::from_utf8_lossy(&key).into_owned(),
                message,
            ));
        }
    }
    Ok(())
}

fn decode_form(raw: &[u8]) -> Vec<u8> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// The JSON path (`a.b[2].c`, as the body's other errors name fields) of
/// the first string or member name holding a NUL.
pub fn json_nul_path(value: &Value) -> Option<String> {
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(members) => members.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\u0000"));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(value, &mut path).then(|| if path.is_empty() { "body".into() } else { path })
}

/// Refuses a CSV body with a NUL in any cell, naming the column (from the
/// header row) and the data row (1-based; row 0 is the header).
pub fn check_csv(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.contains(&0) {
        return Ok(());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut header: Vec<String> = Vec::new();
    for (row, record) in reader.byte_records().enumerate() {
        let Ok(record) = record else {
            break;
        };
        if row == 0 {
            header = record
                .iter()
                .map(|c| String::from_utf8_lossy(c).replace('\0', ""))
                .collect();
        }
        if let Some(column) = record.iter().position(|cell| cell.contains(&0)) {
            let field = header
                .get(column)
                .filter(|h| !h.is_empty() && row > 0)
                .cloned()
                .unwrap_or_else(|| "header".into());
            return Err(ApiError::bad_request(
                field,
                format!("row {row}: {NUL_MESSAGE}"),
            ));
        }
    }
    Err(ApiError::bad_request("body", NUL_MESSAGE))
}

/// The pages load scripts, styles and pictures from this server only and
/// may not be framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Public documents that carry no personal data and may be cached.
fn public_document(path: &str) -> bool {
    path.starts_with("/static/")
        || matches!(
            path,
            "/api/v1/openapi.json"
                | "/api/v1/dcc/trust-list"
                | "/api/v1/dcc/revocation-list"
                | "/fhir/metadata"
        )
}

/// Layer on every answer: CSP, no framing, no sniffing, no referrer, and
/// `Cache-Control: no-store` on everything but public documents.
pub async fn security_headers(req: Request, next: Next) -> Response {
    use axum::http::{header, HeaderValue};
    let cacheable = public_document(req.uri().path());
    let page = crate::web::is_page_request(req.uri(), req.headers())
        .then(|| (req.uri().clone(), req.headers().clone()));
    let mut response = next.run(req).await;
    if let Some((uri, headers)) = page {
        response = crate::web::refusal_as_page(uri, headers, response);
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> String {
        e.field_and_message().0
    }

    #[test]
    fn path_segments_are_named_from_the_template() {
        assert!(check_path("/api/v1/persons/abc", Some("/api/v1/persons/{id}")).is_ok());
        let e = check_path("/api/v1/persons/a%00b", Some("/api/v1/persons/{id}")).unwrap_err();
        assert_eq!(field(e), "id");
        let e = check_path(
            "/api/v1/lots/AZ/x%FF",
            Some("/api/v1/lots/{product_code}/{lot_number}"),
        )
        .unwrap_err();
        assert_eq!(field(e), "lot_number");
        assert_eq!(field(check_path("/x%00", None).unwrap_err()), "path");
    }

    #[test]
    fn query_and_form_pairs_name_the_parameter() {
        assert!(check_pairs(b"q=Nguy%E1%BB%85n&limit=5", "query").is_ok());
        assert_eq!(
            field(check_pairs(b"username=ad%00min&password=x", "body").unwrap_err()),
            "username"
        );
        assert_eq!(
            field(check_pairs(b"limit=5&q=%C3", "query").unwrap_err()),
            "q"
        );
        assert_eq!(field(check_pairs(b"a%00=1", "query").unwrap_err()), "query");
    }

    #[test]
    fn json_paths_point_at_the_string() {
        let v: Value =
            serde_json::from_str(r#"{"a": {"b": ["x", "y\u0000"]}, "c": "ok"}"#).unwrap();
        assert_eq!(json_nul_path(&v).as_deref(), Some("a.b[1]"));
        let v: Value = serde_json::from_str(r#"{"full_name": "x\u0000"}"#).unwrap();
        assert_eq!(json_nul_path(&v).as_deref(), Some("full_name"));
        let v: Value = serde_json::from_str(r#""\u0000""#).unwrap();
        assert_eq!(json_nul_path(&v).as_deref(), Some("body"));
        assert_eq!(json_nul_path(&serde_json::json!({"a": [1, "b"]})), None);
    }

    #[test]
    fn csv_cells_name_column_and_row() {
        assert!(check_csv(b"a,b\n1,2\n").is_ok());
        let e = check_csv(b"id_number,full_name\n1,ok\n2,\"x\0y\"\n").unwrap_err();
        let (f, m) = e.field_and_message();
        assert_eq!(f, "full_name");
        assert!(m.starts_with("row 2:"), "{m}");
    }
}
