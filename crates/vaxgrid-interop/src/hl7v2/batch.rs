//! HL7 v2 batch files (FHS, BHS, messages, BTS, FTS), the form in which
//! state registries and the CDC exchange VXUs in bulk: split into messages,
//! each answered on its own, and the answers wrapped in an ACK batch.
//!
//! ```text
//! [FHS] [BHS] { MSH … } [BTS] [FTS]
//! ```

use super::error::{ErrorCode, Hl7Error};
use super::message::{escape, Delimiters};

/// A batch split into its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The FHS segment as received, when the batch is a file.
    pub file_header: Option<String>,
    /// The BHS segment as received.
    pub batch_header: Option<String>,
    /// Each message's text (from its MSH), segments separated by CR.
    pub messages: Vec<String>,
    /// Problems of the envelope (text outside any message, a BTS count that
    /// does not match); the messages are answered regardless.
    pub problems: Vec<Hl7Error>,
}

/// Whether `text` is a batch: its first segment is FHS or BHS.
pub fn is_batch(text: &str) -> bool {
    let first = segments(text).next().unwrap_or("");
    first.starts_with("FHS") || first.starts_with("BHS")
}

fn segments(text: &str) -> impl Iterator<Item = &str> {
    text.trim_start_matches(['\u{0b}', '\u{feff}'])
        .split(['\r', '\n'])
        .map(|s| s.trim_end_matches('\u{1c}'))
        .filter(|s| !s.trim().is_empty())
}

/// Field `n` of a header segment (FHS-n, BHS-n, BTS-n…), counted as HL7
/// does (for FHS and BHS, field 1 is the separator itself).
fn field(segment: &str, n: usize) -> &str {
    let Some(separator) = segment.chars().nth(3) else {
        return "";
    };
    let header = segment.starts_with("FHS") || segment.starts_with("BHS");
    let index = if header { n.saturating_sub(1) } else { n };
    segment.split(separator).nth(index).unwrap_or("")
}

/// Splits a batch into its messages. Never panics; a batch without any
/// message is returned with no messages and a problem saying so.
pub fn split_batch(text: &str) -> Batch {
    let mut batch = Batch {
        file_header: None,
        batch_header: None,
        messages: Vec::new(),
        problems: Vec::new(),
    };
    let mut current: Option<Vec<&str>> = None;
    let mut declared: Option<(usize, String)> = None;
    let mut outside = 0u32;
    for segment in segments(text) {
        let id = segment.get(..3).unwrap_or(segment);
        match id {
            "MSH" => {
                if let Some(done) = current.replace(vec![segment]) {
                    batch.messages.push(done.join("\r"));
                }
            }
            "FHS" | "BHS" | "BTS" | "FTS" => {
                if let Some(done) = current.take() {
                    batch.messages.push(done.join("\r"));
                }
                match id {
                    "FHS" if batch.file_header.is_none() => {
                        batch.file_header = Some(segment.to_string())
                    }
                    "BHS" if batch.batch_header.is_none() => {
                        batch.batch_header = Some(segment.to_string())
                    }
                    "BTS" => declared = Some((0, field(segment, 1).trim().to_string())),
                    _ => {}
                }
                if let Some(d) = declared.as_mut() {
                    if d.0 == 0 {
                        d.0 = batch.messages.len();
                    }
                }
            }
            _ => match current.as_mut() {
                Some(message) => message.push(segment),
                None => {
                    outside += 1;
                    batch.problems.push(Hl7Error::warning(
                        &printable(id),
                        outside,
                        0,
                        ErrorCode::SegmentSequenceError,
                        "a segment outside any message (before its MSH); ignored",
                    ));
                }
            },
        }
    }
    if let Some(done) = current.take() {
        batch.messages.push(done.join("\r"));
    }
    if let Some((count, text)) = declared {
        if !text.is_empty() && text.parse::<usize>().ok() != Some(count) {
            batch.problems.push(Hl7Error::warning(
                "BTS",
                1,
                1,
                ErrorCode::DataTypeError,
                format!("the batch declares {text} messages but holds {count}; each was answered"),
            ));
        }
    }
    if batch.messages.is_empty() {
        batch.problems.push(Hl7Error::error(
            "MSH",
            1,
            0,
            ErrorCode::RequiredFieldMissing,
            "the batch holds no message (no MSH segment)",
        ));
    }
    batch
}

fn printable(id: &str) -> String {
    let id: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    if id.is_empty() {
        "???".into()
    } else {
        id
    }
}

/// The ACK batch answering `batch`: FHS and BHS (when the batch had them)
/// with sender and receiver swapped and the incoming control ids as
/// reference (FHS-12, BHS-12), each ACK in message order, BTS with the
/// count, FTS with one batch.
pub fn ack_batch(batch: &Batch, acks: &[String], control_id: &str, now: &str) -> String {
    let d = Delimiters::default();
    let clean = |s: &str| escape(&super::unescape(s, &d), &d);
    let header = |kind: &str, incoming: &str| {
        format!(
            "{kind}|^~\\&|{}|{}|{}|{}|{now}||||{control_id}|{}",
            clean(field(incoming, 5)),
            clean(field(incoming, 6)),
            clean(field(incoming, 3)),
            clean(field(incoming, 4)),
            clean(field(incoming, 11)),
        )
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(fhs) = &batch.file_header {
        out.push(header("FHS", fhs));
    }
    let bhs = batch.batch_header.as_deref().unwrap_or("BHS|^~\\&");
    out.push(header("BHS", bhs));
    for ack in acks {
        out.extend(
            ack.split(['\r', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    out.push(format!("BTS|{}", acks.len()));
    if batch.file_header.is_some() {
        out.push("FTS|1".to_string());
    }
    let mut text = out.join("\r");
    text.push('\r');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v2::{ack, ack_context, AckCode, Message};

    const M1: &str = "MSH|^~\\&|A|B|C|D|20210715||VXU^V04|M1|P|2.5.1\rPID|1||X\rRXA|0|1";
    const M2: &str = "MSH|^~\\&|A|B|C|D|20210715||VXU^V04|M2|P|2.5.1\rPID|1||Y";

    fn file(messages: &[&str], count: &str) -> String {
        format!(
            "FHS|^~\\&|EHR|CLINIC|IIS|STATE|20210715||||F-1\r\
             BHS|^~\\&|EHR|CLINIC|IIS|STATE|20210715||||B-1\r\
             {}\rBTS|{count}\rFTS|1\r",
            messages.join("\r")
        )
    }

    #[test]
    fn a_file_is_split_into_its_messages() {
        let text = file(&[M1, M2], "2");
        assert!(is_batch(&text));
        assert!(!is_batch(M1));
        let batch = split_batch(&text);
        assert_eq!(batch.messages, [M1, M2]);
        assert!(batch.problems.is_empty(), "{:?}", batch.problems);
        assert_eq!(field(batch.file_header.as_deref().unwrap(), 11), "F-1");
        assert_eq!(field(batch.batch_header.as_deref().unwrap(), 3), "EHR");
        // CR LF and LF line ends, and a batch without FHS.
        let crlf = text.replace('\r', "\r\n");
        assert_eq!(split_batch(&crlf).messages, [M1, M2]);
        let bare = format!("BHS|^~\\&\n{}\nBTS|2", [M1, M2].join("\n"));
        assert!(is_batch(&bare));
        assert_eq!(split_batch(&bare).messages, [M1, M2]);
    }

    #[test]
    fn envelope_problems_are_reported_and_messages_kept() {
        let batch = split_batch(&file(&[M1, M2], "3"));
        assert_eq!(batch.messages.len(), 2);
        let located: Vec<(&str, u32)> = batch
            .problems
            .iter()
            .map(|p| (p.segment.as_str(), p.field))
            .collect();
        assert_eq!(located, [("BTS", 1)]);
        assert!(!batch.problems[0].is_error());

        let stray = split_batch("BHS|^~\\&\rPID|1||Z\rBTS|0");
        assert!(stray.messages.is_empty());
        assert!(stray.problems.iter().any(|p| p.segment == "PID"));
        assert!(stray.problems.iter().any(|p| p.is_error()));
        for garbage in ["", "FHS", "BHS|", "FTS|1\rBTS|x", "\u{0b}BHS\u{1c}"] {
            let _ = split_batch(garbage);
        }
    }

    #[test]
    fn the_ack_batch_answers_each_message_in_order() {
        let text = file(&[M1, M2], "2");
        let batch = split_batch(&text);
        let acks: Vec<String> = batch
            .messages
            .iter()
            .zip([AckCode::Accept, AckCode::Error])
            .map(|(m, code)| ack(&ack_context(m), code, &[], "X", "20210716"))
            .collect();
        let reply = ack_batch(&batch, &acks, "R-1", "20210716");
        let lines: Vec<&str> = reply.trim_end().split('\r').collect();
        assert_eq!(
            lines[0],
            "FHS|^~\\&|IIS|STATE|EHR|CLINIC|20210716||||R-1|F-1"
        );
        assert_eq!(
            lines[1],
            "BHS|^~\\&|IIS|STATE|EHR|CLINIC|20210716||||R-1|B-1"
        );
        assert_eq!(lines[lines.len() - 2..], ["BTS|2", "FTS|1"]);
        let again = split_batch(&reply);
        assert_eq!(again.messages.len(), 2);
        let codes: Vec<String> = again
            .messages
            .iter()
            .map(|m| {
                let m = Message::parse(m).unwrap();
                m.segment("MSA").unwrap().value(1, 1).to_string()
            })
            .collect();
        assert_eq!(codes, ["AA", "AE"]);
        assert!(again.problems.is_empty(), "{:?}", again.problems);
    }
}
