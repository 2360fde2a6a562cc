//! Shared plumbing of the resource codecs: typed reads out of a JSON object
//! that *remove* what they read, and the writes of the export.
//!
//! Import works on a copy of the resource: each element vaxgrid maps is
//! taken out of it, so what is left — the residual — is exactly what vaxgrid
//! does not understand, and it becomes the `extra` of the data. Export writes
//! the mapped values back into a copy of `extra`. Removing (rather than
//! copying) mapped values matters: were they also kept in `extra`, a value
//! the server cleared (a phone number removed) would come back on export.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::datetime::clip;
use super::outcome::{IssueCode, Issues};

pub(crate) type Object = Map<String, Value>;

/// Longest string accepted anywhere in a resource, in characters. Names,
/// codes and identifiers are far shorter; the limit bounds what one field of
/// a request can make the server store.
pub const MAX_STRING_CHARS: usize = 4096;

/// Limit for the two elements that legitimately carry bulk content: the
/// XHTML narrative (`text.div`) and base64 attachments (`photo.data`).
pub const MAX_BULK_CHARS: usize = 1 << 20;

/// Deepest nesting accepted. Real resources stay under 15 levels; the limit
/// keeps the recursive checks far from the stack's end on any input.
pub(crate) const MAX_DEPTH: usize = 64;

/// Longest element name: FHIR names are short camelCase words.
const MAX_KEY_CHARS: usize = 128;

/// Describes a JSON value's type for diagnostics.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks `v`, located at expression `path`, against the string, name and
/// depth limits. Unmapped elements are kept verbatim, so this is the only
/// check they get. Callers stop when it fails: the other steps recurse too,
/// and rely on the depth bound.
pub(crate) fn check_limits(v: &Value, path: &mut String, issues: &mut Issues) {
    walk_limits(v, path, 0, false, issues);
}

fn walk_limits(v: &Value, path: &mut String, depth: usize, bulk: bool, issues: &mut Issues) {
    match v {
        Value::String(s) => {
            let limit = if bulk {
                MAX_BULK_CHARS
            } else {
                MAX_STRING_CHARS
            };
            // Bytes bound chars from above, so most strings skip the count.
            if s.len() > limit && s.chars().count() > limit {
                issues.error(
                    IssueCode::TooLong,
                    path.clone(),
                    format!("the string is longer than {limit} characters"),
                );
            }
        }
        Value::Array(items) => {
            if deep(depth, path, issues) {
                return;
            }
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                walk_limits(item, path, depth + 1, false, issues);
                path.truncate(len);
            }
        }
        Value::Object(m) => {
            if deep(depth, path, issues) {
                return;
            }
            for (key, item) in m {
                if key.chars().count() > MAX_KEY_CHARS {
                    issues.error(
                        IssueCode::Structure,
                        path.clone(),
                        format!("an element name is longer than {MAX_KEY_CHARS} characters"),
                    );
                    continue;
                }
                let len = path.len();
                path.push('.');
                path.push_str(key);
                let bulk = key == "div" || key == "data";
                walk_limits(item, path, depth + 1, bulk, issues);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn deep(depth: usize, path: &str, issues: &mut Issues) -> bool {
    let too_deep = depth >= MAX_DEPTH;
    if too_deep {
        issues.error(
            IssueCode::Structure,
            path.to_owned(),
            format!("the content is nested deeper than {MAX_DEPTH} levels"),
        );
    }
    too_deep
}

/// Checks that `v` is an object whose `resourceType` is `expected`, and
/// returns a copy without `resourceType` — the start of the residual.
pub(crate) fn resource_object(
    v: &Value,
    expected: &str,
    root: &str,
    issues: &mut Issues,
) -> Option<Object> {
    let Value::Object(obj) = v else {
        issues.error(
            IssueCode::Structure,
            root,
            format!(
                "a {expected} resource must be a JSON object, not {}",
                type_name(v)
            ),
        );
        return None;
    };
    match obj.get("resourceType") {
        None => {
            issues.error(
                IssueCode::Required,
                format!("{root}.resourceType"),
                format!("resourceType is missing; expected '{expected}'"),
            );
            None
        }
        Some(Value::String(t)) if t == expected => {
            let mut copy = obj.clone();
            copy.remove("resourceType");
            Some(copy)
        }
        Some(other) => {
            let found = match other {
                Value::String(s) => format!("'{}'", clip(s)),
                _ => type_name(other).to_owned(),
            };
            issues.error(
                IssueCode::Invalid,
                format!("{root}.resourceType"),
                format!("expected resourceType '{expected}', found {found}"),
            );
            None
        }
    }
}

/// A choice element `name[x]` and the type suffixes R4 allows for it.
pub(crate) struct Choice {
    pub name: &'static str,
    pub types: &'static [&'static str],
}

/// Flags variants of choice elements R4 does not define (`occurrencePeriod`)
/// and more than one variant at once: either would otherwise be kept as an
/// unknown element and make the meaning of the resource ambiguous.
pub(crate) fn check_choices(obj: &Object, path: &str, choices: &[Choice], issues: &mut Issues) {
    for choice in choices {
        let mut seen: Vec<&str> = Vec::new();
        for key in obj.keys() {
            // `_occurrenceDateTime` carries the extensions of that variant.
            let bare = key.strip_prefix('_').unwrap_or(key);
            let Some(suffix) = bare.strip_prefix(choice.name) else {
                continue;
            };
            if !suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            if !choice.types.contains(&suffix) {
                let allowed: Vec<String> = choice
                    .types
                    .iter()
                    .map(|t| format!("{}{t}", choice.name))
                    .collect();
                issues.error(
                    IssueCode::Structure,
                    format!("{path}.{key}"),
                    format!(
                        "{}[x] has no type '{}' in FHIR R4; allowed: {}",
                        choice.name,
                        clip(suffix),
                        allowed.join(", ")
                    ),
                );
            } else if !seen.contains(&suffix) {
                seen.push(suffix);
            }
        }
        if seen.len() > 1 {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{}", choice.name),
                format!(
                    "{}[x] is given more than once, as {}",
                    choice.name,
                    seen.join(" and ")
                ),
            );
        }
    }
}

/// Takes a string element. FHIR forbids empty strings, so `""` is refused.
pub(crate) fn take_str(
    obj: &mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<String> {
    match obj.remove(key)? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::String(_) => {
            issues.error(
                IssueCode::Value,
                format!("{path}.{key}"),
                "empty strings are not allowed in FHIR; leave the element out instead",
            );
            None
        }
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected a string, found {}", type_name(&other)),
            );
            None
        }
    }
}

/// Takes an array of strings (`given`, `line`).
pub(crate) fn take_str_array(
    obj: &mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Vec<String> {
    let items = match obj.remove(key) {
        None => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected an array of strings, found {}", type_name(&other)),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::String(s) if !s.is_empty() => out.push(s),
            other => issues.error(
                IssueCode::Structure,
                format!("{path}.{key}[{i}]"),
                format!("expected a non-empty string, found {}", describe(&other)),
            ),
        }
    }
    out
}

pub(crate) fn take_bool(
    obj: &mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<bool> {
    match obj.remove(key)? {
        Value::Bool(b) => Some(b),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected true or false, found {}", type_name(&other)),
            );
            None
        }
    }
}

/// Largest FHIR `positiveInt` (a signed 32-bit integer).
const MAX_POSITIVE_INT: u64 = i32::MAX as u64;

pub(crate) fn take_positive_int(
    obj: &mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<u32> {
    let v = obj.remove(key)?;
    match v.as_u64() {
        Some(n @ 1..=MAX_POSITIVE_INT) => u32::try_from(n).ok(),
        _ => {
            issues.error(
                IssueCode::Value,
                format!("{path}.{key}"),
                format!(
                    "expected a positive integer (1 or more), found {}",
                    describe(&v)
                ),
            );
            None
        }
    }
}

/// The object at `key`, left in place so the caller can take parts of it.
/// A non-object is reported.
pub(crate) fn child_object<'a>(
    obj: &'a mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<&'a mut Object> {
    match obj.get_mut(key)? {
        Value::Object(m) => Some(m),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected an object, found {}", type_name(other)),
            );
            None
        }
    }
}

/// The array at `key`, left in place. A non-array is reported.
pub(crate) fn child_array<'a>(
    obj: &'a mut Object,
    key: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<&'a mut Vec<Value>> {
    match obj.get_mut(key)? {
        Value::Array(items) => Some(items),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}.{key}"),
                format!("expected an array, found {}", type_name(other)),
            );
            None
        }
    }
}

/// Element `i` of an array as an object; a non-object is reported.
pub(crate) fn element_object<'a>(
    items: &'a mut [Value],
    i: usize,
    path: &str,
    issues: &mut Issues,
) -> Option<&'a mut Object> {
    match items.get_mut(i)? {
        Value::Object(m) => Some(m),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{path}[{i}]"),
                format!("expected an object, found {}", type_name(other)),
            );
            None
        }
    }
}

/// A value for a diagnostic: short scalars are quoted, containers named.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", clip(s)),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => type_name(other).to_owned(),
    }
}

/// True for a value that holds nothing but empty objects and arrays — what
/// is left of an element once every part of it was mapped.
pub(crate) fn is_hollow(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(is_hollow),
        Value::Array(items) => items.iter().all(is_hollow),
        _ => false,
    }
}

/// Drops what is left empty in the residual of mapped elements, so `extra`
/// holds only what vaxgrid did not map and reads back the same after an
/// export. Array elements stay, even empty, as placeholders: residual `i`
/// belongs to mapped element `i`.
pub(crate) fn drop_hollow(obj: &mut Object, keys: &[&str]) {
    for key in keys {
        if let Some(v) = obj.get_mut(*key) {
            prune_members(v);
            if is_hollow(v) {
                obj.remove(*key);
            }
        }
    }
}

fn prune_members(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(prune_members);
            m.retain(|_, child| !is_hollow(child));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_members),
        _ => {}
    }
}

/// `extra` as an object to export into; anything else (the server built the
/// data itself and left `Value::Null`) starts empty.
pub(crate) fn extra_object(extra: &Value) -> Object {
    match extra {
        Value::Object(m) => m.clone(),
        _ => Object::new(),
    }
}

/// Runs `f` on the object at `key`, creating it (or replacing a non-object).
pub(crate) fn with_object(obj: &mut Object, key: &str, f: impl FnOnce(&mut Object)) {
    let mut child = match obj.remove(key) {
        Some(Value::Object(m)) => m,
        _ => Object::new(),
    };
    f(&mut child);
    obj.insert(key.to_owned(), Value::Object(child));
}

/// Runs `f` on element `i` of `items`, padding with empty objects up to it
/// and replacing a non-object element.
pub(crate) fn with_element(items: &mut Vec<Value>, i: usize, f: impl FnOnce(&mut Object)) {
    while items.len() <= i {
        items.push(Value::Object(Object::new()));
    }
    if let Some(slot) = items.get_mut(i) {
        let mut element = match slot.take() {
            Value::Object(m) => m,
            _ => Object::new(),
        };
        f(&mut element);
        *slot = Value::Object(element);
    }
}

/// Takes the array at `key` out of `obj` for rewriting (a non-array
/// residual is dropped: the mapped data replaces it).
pub(crate) fn take_array(obj: &mut Object, key: &str) -> Vec<Value> {
    match obj.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// Puts an array back unless it is empty (FHIR forbids empty arrays).
pub(crate) fn put_array(obj: &mut Object, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        obj.insert(key.to_owned(), Value::Array(items));
    }
}

pub(crate) fn put_opt(obj: &mut Object, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        obj.insert(key.to_owned(), Value::String(v.clone()));
    }
}

/// FHIR `id`: 1–64 of `A-Z a-z 0-9 - .` (R4 §2.24.0.1).
pub(crate) fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
}

/// Takes `id`, checking the FHIR id syntax.
pub(crate) fn take_id(obj: &mut Object, path: &str, issues: &mut Issues) -> Option<String> {
    let id = take_str(obj, "id", path, issues)?;
    if is_fhir_id(&id) {
        Some(id)
    } else {
        issues.error(
            IssueCode::Value,
            format!("{path}.id"),
            format!("'{}' is not a FHIR id (1-64 of A-Z a-z 0-9 - .)", clip(&id)),
        );
        None
    }
}

/// A UUID in 8-4-4-4-12 hex form (either case: matching is on the exact
/// string, so the case only has to agree within one Bundle).
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hollow_means_nothing_but_empty_containers() {
        assert!(is_hollow(&json!([{}, {"coding": [{}]}])));
        assert!(!is_hollow(&json!([{}, {"use": "home"}])));
        assert!(!is_hollow(&json!([null])));
    }

    #[test]
    fn pruning_keeps_array_placeholders() {
        let mut obj = json!({
            "identifier": [{"type": {"coding": [{}]}, "period": {}}, {"use": "old"}],
            "name": [{"given": []}],
            "text": {}
        });
        let obj = obj.as_object_mut().unwrap();
        drop_hollow(obj, &["identifier", "name"]);
        assert_eq!(
            Value::Object(obj.clone()),
            json!({"identifier": [{}, {"use": "old"}], "text": {}})
        );
    }

    #[test]
    fn ids_and_uuids() {
        assert!(is_fhir_id("vn-022080000123"));
        assert!(is_fhir_id("a.b-C9"));
        assert!(!is_fhir_id(""));
        assert!(!is_fhir_id("a/b"));
        assert!(!is_fhir_id(&"a".repeat(65)));
        assert!(is_uuid("6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a11"));
        assert!(!is_uuid("6f1c1f5e7c1e-4d57-9a0e-7d1b8f3f2a11-"));
        assert!(!is_uuid("6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a1"));
    }

    #[test]
    fn limits_name_the_element() {
        let mut issues = Issues::new("Patient");
        let v = json!({"name": [{"family": "x".repeat(MAX_STRING_CHARS + 1)}],
                       "text": {"div": "y".repeat(MAX_STRING_CHARS + 1)}});
        check_limits(&v, &mut "Patient".to_owned(), &mut issues);
        let list = issues.finish(Some(())).unwrap_err();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].expression, "Patient.name[0].family");
        assert_eq!(list[0].code, IssueCode::TooLong);
    }

    #[test]
    fn depth_is_bounded() {
        let mut v = json!("leaf");
        for _ in 0..MAX_DEPTH + 10 {
            v = json!([v]);
        }
        let mut issues = Issues::new("Patient");
        check_limits(&v, &mut "Patient".to_owned(), &mut issues);
        assert!(issues.has_errors());
    }

    #[test]
    fn choices_reject_unknown_types_and_duplicates() {
        const OCC: &[Choice] = &[Choice {
            name: "occurrence",
            types: &["DateTime", "String"],
        }];
        let mut issues = Issues::new("Immunization");
        let obj = json!({"occurrencePeriod": {}, "occurrences": 1});
        check_choices(obj.as_object().unwrap(), "Immunization", OCC, &mut issues);
        let list = issues.finish(Some(())).unwrap_err();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].expression, "Immunization.occurrencePeriod");

        let mut issues = Issues::new("Immunization");
        let obj = json!({"occurrenceString": "x", "_occurrenceDateTime": {}});
        check_choices(obj.as_object().unwrap(), "Immunization", OCC, &mut issues);
        let list = issues.finish(Some(())).unwrap_err();
        assert_eq!(list[0].expression, "Immunization.occurrence");
    }
}
