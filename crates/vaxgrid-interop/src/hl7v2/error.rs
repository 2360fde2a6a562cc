//! Errors reported to the sender of an HL7 v2 message.
//!
//! An [`Hl7Error`] carries everything an ACK `ERR` segment needs: the error
//! location (segment, its occurrence, field, component), a code from HL7
//! table 0357 and a severity from table 0516, plus a human-readable message.

use std::fmt;

/// Message error condition codes (HL7 table 0357) used by this codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0 — only meaningful in an ACK that reports success.
    MessageAccepted,
    /// 100 — a segment is missing, misplaced, repeated or unreadable.
    SegmentSequenceError,
    /// 101 — a required field (or segment, when the field is 0) is absent.
    RequiredFieldMissing,
    /// 102 — a value does not fit its data type (e.g. an impossible date).
    DataTypeError,
    /// 103 — a coded value is not in the table the field uses.
    TableValueNotFound,
    /// 200 — MSH-9 is not VXU^V04.
    UnsupportedMessageType,
    /// 203 — MSH-12 is neither 2.5.1 nor 2.5.
    UnsupportedVersionId,
    /// 207 — the receiver failed for reasons of its own.
    ApplicationInternalError,
}

impl ErrorCode {
    /// The table 0357 code, e.g. `"101"`.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorCode::MessageAccepted => "0",
            ErrorCode::SegmentSequenceError => "100",
            ErrorCode::RequiredFieldMissing => "101",
            ErrorCode::DataTypeError => "102",
            ErrorCode::TableValueNotFound => "103",
            ErrorCode::UnsupportedMessageType => "200",
            ErrorCode::UnsupportedVersionId => "203",
            ErrorCode::ApplicationInternalError => "207",
        }
    }

    /// The table 0357 description, e.g. `"Required field missing"`.
    pub fn text(&self) -> &'static str {
        match self {
            ErrorCode::MessageAccepted => "Message accepted",
            ErrorCode::SegmentSequenceError => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataTypeError => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedVersionId => "Unsupported version id",
            ErrorCode::ApplicationInternalError => "Application internal error",
        }
    }
}

/// Error severity (HL7 table 0516).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `E`: the message (or part of it) cannot be used.
    Error,
    /// `W`: the message was used, but something was ignored or doubtful.
    Warning,
    /// `I`: for information only.
    Information,
}

impl Severity {
    /// The table 0516 code: `"E"`, `"W"` or `"I"`.
    pub fn code(&self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
        }
    }
}

/// One problem found in a message, located the way an ACK `ERR-2` (ERL)
/// needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hl7Error {
    /// Segment id, e.g. `"RXA"` (never empty).
    pub segment: String,
    /// 1-based occurrence of that segment id in the message.
    pub sequence: u32,
    /// 1-based field position; 0 when the whole segment is concerned.
    pub field: u32,
    /// 1-based component position, when the problem is inside one component.
    pub component: Option<u32>,
    pub code: ErrorCode,
    pub severity: Severity,
    /// Human-readable explanation, without the location prefix.
    pub message: String,
}

impl Hl7Error {
    /// An error of severity E.
    pub fn error(
        segment: &str,
        sequence: u32,
        field: u32,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self::new(segment, sequence, field, code, Severity::Error, message)
    }

    /// An error of severity W.
    pub fn warning(
        segment: &str,
        sequence: u32,
        field: u32,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self::new(segment, sequence, field, code, Severity::Warning, message)
    }

    fn new(
        segment: &str,
        sequence: u32,
        field: u32,
        code: ErrorCode,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        // The ACK's ERL needs a segment id; callers always pass one, but an
        // empty id would produce an unreadable location.
        let segment = if segment.is_empty() { "???" } else { segment };
        Hl7Error {
            segment: segment.to_string(),
            sequence,
            field,
            component: None,
            code,
            severity,
            message: message.into(),
        }
    }

    /// Narrows the location to one component.
    pub fn with_component(mut self, component: u32) -> Self {
        self.component = Some(component);
        self
    }

    /// Whether this problem makes the message (or one of its records)
    /// unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Hl7Error {
    /// `RXA-3: not a valid date/time: …`; `PID-5.1: …` for a component;
    /// `RXA: …` for a whole segment; the occurrence is shown as `RXA[2]-3`
    /// only when it is not the first, so the common case stays short.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segment)?;
        if self.sequence > 1 {
            write!(f, "[{}]", self.sequence)?;
        }
        if self.field > 0 {
            write!(f, "-{}", self.field)?;
            if let Some(component) = self.component {
                write!(f, ".{component}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Hl7Error {}

/// Quotes an input-derived value for an error message, cut to a sane length
/// so a hostile message cannot make our ACKs arbitrarily large.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out: String = value.chars().take(MAX_CHARS).collect();
    if value.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_segment_field_and_component() {
        let e = Hl7Error::error(
            "RXA",
            1,
            3,
            ErrorCode::DataTypeError,
            "not a valid date/time: 20211345250000",
        );
        assert_eq!(
            e.to_string(),
            "RXA-3: not a valid date/time: 20211345250000"
        );
        let e =
            Hl7Error::warning("PID", 1, 5, ErrorCode::RequiredFieldMissing, "x").with_component(1);
        assert_eq!(e.to_string(), "PID-5.1: x");
        let e = Hl7Error::error("RXA", 2, 0, ErrorCode::RequiredFieldMissing, "missing");
        assert_eq!(e.to_string(), "RXA[2]: missing");
    }

    #[test]
    fn table_0357_codes() {
        assert_eq!(ErrorCode::RequiredFieldMissing.code(), "101");
        assert_eq!(
            ErrorCode::RequiredFieldMissing.text(),
            "Required field missing"
        );
        assert_eq!(ErrorCode::UnsupportedVersionId.code(), "203");
        assert_eq!(Severity::Warning.code(), "W");
    }

    #[test]
    fn empty_segment_name_is_replaced() {
        let e = Hl7Error::error("", 1, 0, ErrorCode::SegmentSequenceError, "bad");
        assert_eq!(e.segment, "???");
    }

    #[test]
    fn quote_truncates_on_char_boundaries() {
        let long = "é".repeat(100);
        let q = quote(&long);
        assert_eq!(q.chars().count(), 61);
        assert!(q.ends_with('…'));
        assert_eq!(quote("abc"), "abc");
    }
}
