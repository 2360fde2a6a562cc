//! Issues and the OperationOutcome that reports them to a FHIR client.
//!
//! Every refusal of the codec is a list of [`Issue`]s, each naming the
//! offending element with a FHIRPath expression, so a client can point at the
//! field to fix instead of reading a free-text error.

use std::fmt;

use serde_json::{json, Map, Value};

/// At most this many issues are reported for one input: a hostile or broken
/// document (say a Bundle with 10 000 bad entries) must not turn the answer
/// into a bigger document than the request.
pub const MAX_ISSUES: usize = 100;

/// `OperationOutcome.issue.severity` (<http://hl7.org/fhir/issue-severity>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// The `OperationOutcome.issue.code` values (<http://hl7.org/fhir/issue-type>)
/// this codec uses; an enum rather than strings so a typo cannot produce a
/// code that is not in the value set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueCode {
    /// Wrong JSON shape: not an object, a number where a string belongs…
    Structure,
    /// A required element is missing.
    Required,
    /// An element has a value of the right type that is not acceptable.
    Value,
    /// Content that is inconsistent as a whole (wrong resourceType,
    /// mismatched ids, dangling reference).
    Invalid,
    /// A coded value outside its required value set.
    CodeInvalid,
    /// Valid FHIR that vaxgrid does not handle (batch Bundles, DELETE…).
    NotSupported,
    /// A string longer than vaxgrid stores.
    TooLong,
    /// Processing was cut short to protect the server (too many issues).
    TooCostly,
    /// Nothing wrong; used when an outcome must carry at least one issue.
    Informational,
    /// A business rule refused otherwise valid content (a server's answer).
    Processing,
    /// A referenced resource does not exist (a server's answer).
    NotFound,
    /// The server could not answer now; the same request may succeed later.
    Transient,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Invalid => "invalid",
            IssueCode::CodeInvalid => "code-invalid",
            IssueCode::NotSupported => "not-supported",
            IssueCode::TooLong => "too-long",
            IssueCode::TooCostly => "too-costly",
            IssueCode::Informational => "informational",
            IssueCode::Processing => "processing",
            IssueCode::NotFound => "not-found",
            IssueCode::Transient => "transient",
        }
    }
}

/// One problem found in an input resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    /// FHIRPath of the element, rooted at the resource type or at the
    /// Bundle: `Immunization.occurrenceDateTime`,
    /// `Bundle.entry[1].resource.status`.
    pub expression: String,
    /// Human-readable explanation, naming the value found when useful.
    pub diagnostics: String,
}

impl Issue {
    pub fn error(
        code: IssueCode,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Error,
            code,
            expression: expression.into(),
            diagnostics: diagnostics.into(),
        }
    }

    pub fn warning(
        code: IssueCode,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(code, expression, diagnostics)
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at {}: {}",
            self.severity.as_str(),
            self.code.as_str(),
            self.expression,
            self.diagnostics
        )
    }
}

/// An R4 OperationOutcome listing `issues`. The resource requires at least
/// one issue, so an empty list yields a single informational "no issues".
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let list: Vec<Value> = if issues.is_empty() {
        vec![json!({
            "severity": Severity::Information.as_str(),
            "code": IssueCode::Informational.as_str(),
            "diagnostics": "no issues",
        })]
    } else {
        issues.iter().map(issue_json).collect()
    };
    json!({ "resourceType": "OperationOutcome", "issue": list })
}

fn issue_json(issue: &Issue) -> Value {
    let mut m = Map::new();
    m.insert("severity".into(), issue.severity.as_str().into());
    m.insert("code".into(), issue.code.as_str().into());
    // Empty strings are invalid FHIR, so optional parts are left out.
    if !issue.diagnostics.is_empty() {
        m.insert("diagnostics".into(), issue.diagnostics.clone().into());
    }
    if !issue.expression.is_empty() {
        m.insert("expression".into(), json!([issue.expression]));
    }
    Value::Object(m)
}

/// Collects the issues of one parse, capped at [`MAX_ISSUES`], and decides
/// the result: any error refuses the input.
pub(crate) struct Issues {
    root: String,
    list: Vec<Issue>,
    dropped: usize,
}

impl Issues {
    /// `root` is the expression every issue starts with (`Patient`, `Bundle`).
    pub(crate) fn new(root: &str) -> Issues {
        Issues {
            root: root.to_owned(),
            list: Vec::new(),
            dropped: 0,
        }
    }

    pub(crate) fn error(
        &mut self,
        code: IssueCode,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) {
        if self.list.len() < MAX_ISSUES {
            self.list.push(Issue::error(code, expression, diagnostics));
        } else {
            self.dropped += 1;
        }
    }

    /// Issues recorded so far, to tell whether a step added any.
    pub(crate) fn count(&self) -> usize {
        self.list.len() + self.dropped
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.dropped > 0 || self.list.iter().any(|i| i.severity == Severity::Error)
    }

    /// `Ok(value)` when no error was recorded. A reader that returns `None`
    /// has recorded why; the fallback issue only guards against a reader
    /// that forgot, so an `Err` is never empty.
    pub(crate) fn finish<T>(mut self, value: Option<T>) -> Result<T, Vec<Issue>> {
        if self.dropped > 0 {
            let note = format!("{} further issues were not reported", self.dropped);
            self.list
                .push(Issue::error(IssueCode::TooCostly, self.root.clone(), note));
        }
        match value {
            Some(v) if !self.has_errors() => Ok(v),
            _ => {
                if self.list.is_empty() {
                    self.list.push(Issue::error(
                        IssueCode::Structure,
                        self.root.clone(),
                        "the content could not be read",
                    ));
                }
                Err(self.list)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_outcome_still_has_one_issue() {
        let oo = operation_outcome(&[]);
        assert_eq!(oo["issue"][0]["severity"], "information");
        assert_eq!(oo["issue"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn outcome_lists_expression_as_array() {
        let oo = operation_outcome(&[Issue::error(
            IssueCode::CodeInvalid,
            "Immunization.status",
            "bad",
        )]);
        assert_eq!(oo["issue"][0]["code"], "code-invalid");
        assert_eq!(oo["issue"][0]["expression"][0], "Immunization.status");
    }

    #[test]
    fn issues_are_capped() {
        let mut issues = Issues::new("Bundle");
        for i in 0..MAX_ISSUES + 5 {
            issues.error(IssueCode::Value, format!("Bundle.entry[{i}]"), "bad");
        }
        let list = issues.finish(Some(())).unwrap_err();
        assert_eq!(list.len(), MAX_ISSUES + 1);
        assert_eq!(list[MAX_ISSUES].code, IssueCode::TooCostly);
        assert!(list[MAX_ISSUES].diagnostics.starts_with("5 "));
    }

    #[test]
    fn missing_value_without_issue_is_still_an_error() {
        let list = Issues::new("Patient").finish::<()>(None).unwrap_err();
        assert_eq!(list[0].expression, "Patient");
    }
}
