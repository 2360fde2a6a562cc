//! ACK^V04 construction (original acknowledgment mode), as the CDC guide
//! describes it: MSH with sender and receiver swapped, MSA echoing the
//! incoming control id, and one ERR per problem.

use super::error::{ErrorCode, Hl7Error};
use super::message::{escape, Delimiters, Message, Repetition, Segment};

/// MSA-1 acknowledgment code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// AA: accepted (possibly with warnings).
    Accept,
    /// AE: processed, but content errors were found.
    Error,
    /// AR: rejected, the message itself is unusable (header problems).
    Reject,
}

impl AckCode {
    /// `"AA"`, `"AE"` or `"AR"`.
    pub fn code(&self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }

    /// The usual choice for a set of problems: AR when the header makes the
    /// message unusable (missing MSH, unsupported type or version), AE for
    /// any other error, AA when there are only warnings. The server may
    /// decide otherwise.
    pub fn for_errors(errors: &[Hl7Error]) -> AckCode {
        let mut code = AckCode::Accept;
        for e in errors.iter().filter(|e| e.is_error()) {
            let unusable = e.segment == "MSH"
                || matches!(
                    e.code,
                    ErrorCode::UnsupportedMessageType | ErrorCode::UnsupportedVersionId
                );
            if unusable {
                return AckCode::Reject;
            }
            code = AckCode::Error;
        }
        code
    }
}

/// What an ACK needs from the incoming MSH.
///
/// The four HD values are kept in standard ER7 encoding (`^` between
/// components, already escaped) so that namespace id, OID and OID type are
/// echoed back intact; `control_id`, `processing_id` and `version` are plain
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckContext {
    /// MSH-3.
    pub sending_application: String,
    /// MSH-4.
    pub sending_facility: String,
    /// MSH-5.
    pub receiving_application: String,
    /// MSH-6.
    pub receiving_facility: String,
    /// MSH-10 (empty when unreadable).
    pub control_id: String,
    /// MSH-11.1 (`P` when unreadable).
    pub processing_id: String,
    /// MSH-12.1 (`2.5.1` when unreadable).
    pub version: String,
}

impl Default for AckContext {
    fn default() -> Self {
        AckContext {
            sending_application: String::new(),
            sending_facility: String::new(),
            receiving_application: String::new(),
            receiving_facility: String::new(),
            control_id: String::new(),
            processing_id: "P".to_string(),
            version: "2.5.1".to_string(),
        }
    }
}

/// Reads the ACK context from any text, best effort: it works on messages
/// that fail VXU validation, falls back to splitting the first line when the
/// MSH delimiters are unusable, and to defaults when there is no MSH at all.
pub fn ack_context(text: &str) -> AckContext {
    match Message::parse(text) {
        Ok(message) => message
            .segments()
            .first()
            .map(context_from_msh)
            .unwrap_or_default(),
        Err(_) => context_from_raw_first_line(text),
    }
}

fn context_from_msh(msh: &Segment) -> AckContext {
    let encoded = |field: usize| msh.first(field).map(encode_repetition).unwrap_or_default();
    let plain = |field: usize, default: &str| {
        let value = msh.value(field, 1).trim();
        if value.is_empty() {
            default.to_string()
        } else {
            value.to_string()
        }
    };
    AckContext {
        sending_application: encoded(3),
        sending_facility: encoded(4),
        receiving_application: encoded(5),
        receiving_facility: encoded(6),
        control_id: plain(10, ""),
        processing_id: plain(11, "P"),
        version: plain(12, "2.5.1"),
    }
}

/// Re-encodes one repetition with the standard delimiters, dropping trailing
/// empty components so `APP^^` is echoed as `APP`.
fn encode_repetition(rep: &Repetition) -> String {
    let d = Delimiters::default();
    let components: Vec<String> = rep
        .components()
        .iter()
        .map(|c| {
            c.subcomponents()
                .iter()
                .map(|s| escape(s, &d))
                .collect::<Vec<_>>()
                .join("&")
                .trim_end_matches('&')
                .to_string()
        })
        .collect();
    components.join("^").trim_end_matches('^').to_string()
}

/// Fallback for an MSH whose encoding characters are unusable: split the
/// first line on its apparent field separator and keep each value up to the
/// first standard delimiter, so only plain text is ever echoed.
fn context_from_raw_first_line(text: &str) -> AckContext {
    let first = text
        .trim_start_matches(|c: char| c == '\u{0b}' || c == '\u{feff}' || c.is_whitespace())
        .split(['\r', '\n'])
        .next()
        .unwrap_or("");
    let Some(rest) = first.strip_prefix("MSH") else {
        return AckContext::default();
    };
    let separator = rest
        .chars()
        .next()
        .filter(char::is_ascii_punctuation)
        .unwrap_or('|');
    let fields: Vec<&str> = first.split(separator).collect();
    let plain = |n: usize, default: &str| {
        let raw = fields.get(n.saturating_sub(1)).copied().unwrap_or("");
        let cut = raw.split(['^', '~', '\\', '&']).next().unwrap_or("").trim();
        if cut.is_empty() {
            default.to_string()
        } else {
            cut.to_string()
        }
    };
    // HD values are stored encoded; escaping plain text is a valid encoding.
    let encoded = |n: usize| escape(&plain(n, ""), &Delimiters::default());
    AckContext {
        sending_application: encoded(3),
        sending_facility: encoded(4),
        receiving_application: encoded(5),
        receiving_facility: encoded(6),
        control_id: plain(10, ""),
        processing_id: plain(11, "P"),
        version: plain(12, "2.5.1"),
    }
}

/// Builds the ACK^V04 for `incoming`, segments separated by CR:
///
/// ```text
/// MSH|^~\&|<recv app>|<recv fac>|<send app>|<send fac>|<now>||ACK^V04^ACK|<id>|P|2.5.1|||NE|NE
/// MSA|<code>|<incoming control id>
/// ERR||<SEG^seq^field^^component>|<code^text^HL70357>|<E/W/I>||||<message>
/// ```
///
/// `message_control_id` is the new id of the ACK and `now` its time stamp
/// (`YYYYMMDDHHMMSS+ZZZZ`). The processing id and the version echo the
/// incoming ones when they are valid (P/T/D; 2.5 or 2.5.1), as HL7 expects
/// an answer in the sender's terms, and default to `P` and `2.5.1`.
pub fn ack(
    incoming: &AckContext,
    code: AckCode,
    errors: &[Hl7Error],
    message_control_id: &str,
    now: &str,
) -> String {
    let d = Delimiters::default();
    let processing_id = match incoming.processing_id.as_str() {
        p @ ("P" | "T" | "D") => p,
        _ => "P",
    };
    let version = match incoming.version.as_str() {
        "2.5" => "2.5",
        _ => "2.5.1",
    };
    let mut segments = vec![
        format!(
            "MSH|^~\\&|{}|{}|{}|{}|{}||ACK^V04^ACK|{}|{}|{}|||NE|NE",
            sanitize_encoded(&incoming.receiving_application),
            sanitize_encoded(&incoming.receiving_facility),
            sanitize_encoded(&incoming.sending_application),
            sanitize_encoded(&incoming.sending_facility),
            escape(now, &d),
            escape(message_control_id, &d),
            processing_id,
            version,
        ),
        format!("MSA|{}|{}", code.code(), escape(&incoming.control_id, &d)),
    ];
    segments.extend(errors.iter().map(err_segment));
    segments.join("\r")
}

/// One ERR segment (fields 2, 3, 4 and 8 as the CDC guide uses them).
fn err_segment(error: &Hl7Error) -> String {
    let d = Delimiters::default();
    format!(
        "ERR||{}|{}^{}^HL70357|{}||||{}",
        error_location(error),
        error.code.code(),
        escape(error.code.text(), &d),
        error.severity.code(),
        escape(&error.to_string(), &d),
    )
}

/// ERL: segment id ^ sequence ^ field ^ field repetition ^ component, with
/// the trailing parts left out when they do not apply.
fn error_location(error: &Hl7Error) -> String {
    let d = Delimiters::default();
    let mut location = format!("{}^{}", escape(&error.segment, &d), error.sequence);
    if error.field > 0 {
        location.push_str(&format!("^{}", error.field));
        if let Some(component) = error.component {
            location.push_str(&format!("^^{component}"));
        }
    }
    location
}

/// HD values in an [`AckContext`] are pre-encoded, but the struct is public:
/// make sure whatever is in there cannot end the field or the segment.
fn sanitize_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '|' {
            out.push_str("\\F\\");
        } else if c.is_ascii_control() {
            out.push_str(&format!("\\X{:02X}\\", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> AckContext {
        ack_context(
            "MSH|^~\\&|HIS^1.2.3^ISO|FAC|VAXGRID|QN-CDC|20210715||VXU^V04|ID\\F\\1|P|2.5.1\rPID|1",
        )
    }

    #[test]
    fn context_from_a_readable_header() {
        let ctx = context();
        assert_eq!(ctx.sending_application, "HIS^1.2.3^ISO");
        assert_eq!(ctx.sending_facility, "FAC");
        assert_eq!(ctx.receiving_application, "VAXGRID");
        assert_eq!(ctx.receiving_facility, "QN-CDC");
        assert_eq!(ctx.control_id, "ID|1");
        assert_eq!(ctx.version, "2.5.1");
    }

    #[test]
    fn context_best_effort() {
        assert_eq!(ack_context(""), AckContext::default());
        assert_eq!(ack_context("PID|1||X"), AckContext::default());
        let ctx = ack_context("MSH|^~|APP^X|FAC|||2021||VXU^V04|C7|T|2.5");
        assert_eq!(ctx.sending_application, "APP");
        assert_eq!(ctx.control_id, "C7");
        assert_eq!(ctx.processing_id, "T");
        assert_eq!(ctx.version, "2.5");
    }

    #[test]
    fn ack_swaps_sender_and_receiver() {
        let text = ack(
            &context(),
            AckCode::Accept,
            &[],
            "ACK-1",
            "20210715101600+0700",
        );
        assert_eq!(
            text,
            "MSH|^~\\&|VAXGRID|QN-CDC|HIS^1.2.3^ISO|FAC|20210715101600+0700||ACK^V04^ACK|ACK-1|P|2.5.1|||NE|NE\r\
MSA|AA|ID\\F\\1"
        );
    }

    #[test]
    fn err_segments() {
        let errors = [
            Hl7Error::error(
                "RXA",
                1,
                3,
                ErrorCode::DataTypeError,
                "not a valid date/time: 2021|13",
            ),
            Hl7Error::warning(
                "PID",
                1,
                5,
                ErrorCode::RequiredFieldMissing,
                "family name is empty",
            )
            .with_component(1),
            Hl7Error::error("RXA", 2, 0, ErrorCode::RequiredFieldMissing, "missing\r^~&"),
        ];
        let text = ack(&context(), AckCode::Error, &errors, "A2", "20210715");
        let lines: Vec<&str> = text.split('\r').collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[1], "MSA|AE|ID\\F\\1");
        assert_eq!(
            lines[2],
            "ERR||RXA^1^3|102^Data type error^HL70357|E||||RXA-3: not a valid date/time: 2021\\F\\13"
        );
        assert_eq!(
            lines[3],
            "ERR||PID^1^5^^1|101^Required field missing^HL70357|W||||PID-5.1: family name is empty"
        );
        assert_eq!(
            lines[4],
            "ERR||RXA^2|101^Required field missing^HL70357|E||||RXA[2]: missing\\X0D\\\\S\\\\R\\\\T\\"
        );
    }

    #[test]
    fn hostile_context_cannot_break_the_header() {
        let ctx = AckContext {
            sending_application: "A|B\rC".into(),
            control_id: "X\r|".into(),
            processing_id: "Q".into(),
            version: "9".into(),
            ..AckContext::default()
        };
        let text = ack(&ctx, AckCode::Reject, &[], "1", "2");
        let lines: Vec<&str> = text.split('\r').collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("|A\\F\\B\\X0D\\C|"));
        assert!(lines[0].contains("|P|2.5.1|"));
        assert_eq!(lines[1], "MSA|AR|X\\X0D\\\\F\\");
    }

    #[test]
    fn ack_code_choice() {
        let warning = Hl7Error::warning("MSH", 1, 7, ErrorCode::DataTypeError, "w");
        let content = Hl7Error::error("RXA", 1, 3, ErrorCode::DataTypeError, "e");
        let header = Hl7Error::error("MSH", 1, 12, ErrorCode::UnsupportedVersionId, "e");
        assert_eq!(AckCode::for_errors(&[]), AckCode::Accept);
        assert_eq!(
            AckCode::for_errors(std::slice::from_ref(&warning)),
            AckCode::Accept
        );
        assert_eq!(
            AckCode::for_errors(&[warning, content.clone()]),
            AckCode::Error
        );
        assert_eq!(AckCode::for_errors(&[content, header]), AckCode::Reject);
    }
}
