//! Every answer the HTTP tests receive through `TestApp` is checked against
//! the OpenAPI document: its status must be listed for the operation, its
//! content type among that response's, and a JSON body must validate
//! against the response's schema (JSON Schema 2020-12, OpenAPI 3.1's
//! dialect). Requests to paths the document does not describe (the 404 of
//! an unknown path) are not checked.
//!
//! With `VAXGRID_OPENAPI_REPORT=<file>` a mismatch is appended to the file
//! instead of failing the test, to see all of them in one run.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

const DOC_URL: &str = "http://vaxgrid.invalid/openapi.json";

struct Checker {
    doc: Value,
    schemas: boon::Schemas,
    /// The compiled schema of each response body, by its location.
    indexes: HashMap<String, boon::SchemaIndex>,
}

/// Every JSON response schema of the document, compiled once.
fn checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let doc: Value =
            serde_json::from_str(vaxgrid_server::openapi::document()).expect("document is JSON");
        let mut compiler = boon::Compiler::new();
        compiler.use_loader(Box::new(boon::SchemeUrlLoader::new()));
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler
            .add_resource(DOC_URL, doc.clone())
            .expect("the document is a resource");
        let mut schemas = boon::Schemas::new();
        let mut indexes = HashMap::new();
        let mut responses: Vec<(String, &Value)> = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    responses.push((
                        format!(
                            "#/paths/{}/{method}/responses/{status}",
                            pointer_escape(path)
                        ),
                        response,
                    ));
                }
            }
        }
        for (name, response) in doc["components"]["responses"]
            .as_object()
            .into_iter()
            .flatten()
        {
            responses.push((
                format!("#/components/responses/{}", pointer_escape(name)),
                response,
            ));
        }
        for (pointer, response) in responses {
            for (ct, media) in response["content"].as_object().into_iter().flatten() {
                if !ct.ends_with("json") || media.get("schema").is_none() {
                    continue;
                }
                let location = format!("{DOC_URL}{pointer}/content/{}/schema", pointer_escape(ct));
                let index = compiler
                    .compile(&location, &mut schemas)
                    .unwrap_or_else(|e| panic!("schema at {location} does not compile: {e:#}"));
                indexes.insert(location, index);
            }
        }
        Checker {
            doc,
            schemas,
            indexes,
        }
    })
}

/// The path template of the document that `path` is an instance of, the
/// one with the most literal segments when several match.
fn template<'d>(doc: &'d Value, method: &str, path: &str) -> Option<&'d str> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .filter(|(_, item)| item.get(method).is_some())
        .filter_map(|(t, _)| {
            let parts: Vec<&str> = t.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (p, s) in parts.iter().zip(&segments) {
                if p.starts_with('{') {
                    if s.is_empty() {
                        return None;
                    }
                } else if p == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, t.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t)
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Checks one answer; `Err` says what does not match.
pub fn check(
    method: &str,
    url: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let c = checker();
    let method = method.to_ascii_lowercase();
    let path = url
        .split_once("://")
        .map(|(_, rest)| rest.find('/').map(|i| &rest[i..]).unwrap_or("/"))
        .unwrap_or(url);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let Some(template) = template(&c.doc, &method, path) else {
        return Ok(());
    };
    let op = &c.doc["paths"][template][&method];
    let status_key = status.to_string();
    let (mut response, mut pointer) = match op["responses"].get(&status_key) {
        Some(r) => (
            r,
            format!(
                "#/paths/{}/{method}/responses/{status_key}",
                pointer_escape(template)
            ),
        ),
        None => match op["responses"].get("default") {
            Some(r) => (
                r,
                format!(
                    "#/paths/{}/{method}/responses/default",
                    pointer_escape(template)
                ),
            ),
            None => {
                return Err(format!(
                    "{} {template}: status {status} is not in the document",
                    method.to_uppercase()
                ))
            }
        },
    };
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        response = &c.doc["components"]["responses"][name];
        pointer = format!("#/components/responses/{}", pointer_escape(name));
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Ok(());
    };
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let Some(media) = content.get(ct) else {
        return Err(format!(
            "{} {template} {status}: content type '{ct}' is not in the document ({:?})",
            method.to_uppercase(),
            content.keys().collect::<Vec<_>>()
        ));
    };
    if !ct.ends_with("json") || media.get("schema").is_none() {
        return Ok(());
    }
    let instance: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "{} {template} {status}: the body is not JSON: {e}",
            method.to_uppercase()
        )
    })?;
    let location = format!("{DOC_URL}{pointer}/content/{}/schema", pointer_escape(ct));
    let index = *c
        .indexes
        .get(&location)
        .ok_or_else(|| format!("no compiled schema at {location}"))?;
    c.schemas.validate(&instance, index).map_err(|e| {
        format!(
            "{} {path} ({template}) {status}: the body does not match the document: {e:#}\nbody: {}",
            method.to_uppercase(),
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        )
    })
}

/// Checks one answer, failing the test (or reporting, see the module).
pub fn assert_conforms(method: &str, url: &str, status: u16, content_type: &str, body: &[u8]) {
    if let Err(mismatch) = check(method, url, status, content_type, body) {
        match std::env::var("VAXGRID_OPENAPI_REPORT") {
            Ok(file) if !file.is_empty() => {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)
                    .expect("report file");
                writeln!(f, "{mismatch}").expect("write report");
            }
            _ => panic!("the answer does not match the OpenAPI document: {mismatch}"),
        }
    }
}
