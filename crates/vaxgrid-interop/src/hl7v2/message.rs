//! Generic HL7 v2 "pipe and hat" (ER7) parsing: segments, fields,
//! repetitions, components and subcomponents, with escape sequences decoded.
//!
//! The parser is deliberately tolerant of the transport around the message
//! (MLLP framing bytes, CR / LF / CR LF segment ends, blank lines) and strict
//! about the one thing everything else depends on: the message must start
//! with an MSH segment whose MSH-1/MSH-2 define usable delimiters.

use super::error::{quote, ErrorCode, Hl7Error};

/// The delimiters of one message, read from MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Delimiters {
    /// `|^~\&`, the only set the CDC guide allows.
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Delimiters {
    /// MSH-2 as it is written in a message, e.g. `^~\&`.
    pub fn encoding_characters(&self) -> String {
        [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
        ]
        .iter()
        .collect()
    }
}

/// A parsed message: its delimiters and its segments in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    delimiters: Delimiters,
    segments: Vec<Segment>,
}

/// One segment. Fields are numbered from 1 as in the standard; for MSH,
/// field 1 is the field separator and field 2 the encoding characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    id: String,
    sequence: u32,
    fields: Vec<Field>,
}

/// A field: one or more repetitions (an empty field has one empty repetition).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field {
    repetitions: Vec<Repetition>,
}

/// One repetition of a field: its components.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repetition {
    components: Vec<Component>,
}

/// One component: its subcomponents, escape sequences already decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component {
    subcomponents: Vec<String>,
}

impl Message {
    /// Parses a message. Fails only when there is no usable MSH segment at
    /// the start, since without it nothing can be tokenised; anything else
    /// (odd segment ids included) is left for the caller to judge.
    pub fn parse(text: &str) -> Result<Message, Hl7Error> {
        let mut lines = segment_lines(text);
        let Some(first) = lines.next() else {
            return Err(Hl7Error::error(
                "MSH",
                1,
                0,
                ErrorCode::SegmentSequenceError,
                "empty message: an MSH segment is required",
            ));
        };
        let delimiters = read_delimiters(first)?;
        let mut segments = vec![parse_msh(first, &delimiters)];
        let mut counts: Vec<(String, u32)> = vec![("MSH".to_string(), 1)];
        for line in lines {
            let mut segment = parse_segment(line, &delimiters);
            segment.sequence = next_occurrence(&mut counts, &segment.id);
            segments.push(segment);
        }
        Ok(Message {
            delimiters,
            segments,
        })
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    /// All segments in message order (the first is always MSH).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segments with the given id, in message order.
    pub fn segments_named<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.id == id)
    }

    /// The first segment with the given id.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }
}

impl Segment {
    /// The segment id as written (may be invalid; see [`Segment::has_valid_id`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// 1-based occurrence of this segment id in the message.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Whether the id looks like a segment id: an upper-case letter then two
    /// upper-case letters or digits (`PID`, `ZV1`).
    pub fn has_valid_id(&self) -> bool {
        let bytes = self.id.as_bytes();
        bytes.len() == 3
            && bytes.first().is_some_and(u8::is_ascii_uppercase)
            && bytes
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }

    /// Field `n` (1-based), if present in the segment.
    pub fn field(&self, n: usize) -> Option<&Field> {
        n.checked_sub(1).and_then(|i| self.fields.get(i))
    }

    /// Number of fields present (the highest field position written).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// First subcomponent of component `component` of the first repetition of
    /// field `field`; `""` when any part is absent. The common accessor for
    /// simple values.
    pub fn value(&self, field: usize, component: usize) -> &str {
        self.field(field)
            .and_then(Field::first)
            .map_or("", |r| r.component(component))
    }

    /// The first repetition of field `field`, if the field is present.
    pub fn first(&self, field: usize) -> Option<&Repetition> {
        self.field(field).and_then(Field::first)
    }
}

impl Field {
    pub fn repetitions(&self) -> &[Repetition] {
        &self.repetitions
    }

    pub fn first(&self) -> Option<&Repetition> {
        self.repetitions.first()
    }

    /// True when no repetition carries any text.
    pub fn is_empty(&self) -> bool {
        self.repetitions.iter().all(Repetition::is_empty)
    }
}

impl Repetition {
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// First subcomponent of component `n` (1-based), `""` when absent.
    pub fn component(&self, n: usize) -> &str {
        self.subcomponent(n, 1)
    }

    /// Subcomponent `sub` of component `n` (both 1-based), `""` when absent.
    pub fn subcomponent(&self, n: usize, sub: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.components.get(i))
            .and_then(|c| sub.checked_sub(1).and_then(|j| c.subcomponents.get(j)))
            .map_or("", String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.components.iter().all(Component::is_empty)
    }
}

impl Component {
    pub fn subcomponents(&self) -> &[String] {
        &self.subcomponents
    }

    pub fn is_empty(&self) -> bool {
        self.subcomponents.iter().all(String::is_empty)
    }
}

/// Splits text into non-blank segment lines. MLLP framing bytes (0x0B before,
/// 0x1C after) and a UTF-8 byte-order mark are dropped because HTTP clients
/// sometimes post a framed message verbatim; CR, LF and CR LF all end a
/// segment because files and e-mail gateways rewrite line ends.
fn segment_lines(text: &str) -> impl Iterator<Item = &str> {
    text.trim_matches(|c: char| {
        c == '\u{0b}' || c == '\u{1c}' || c == '\u{feff}' || c.is_whitespace()
    })
    .split(['\r', '\n'])
    .filter(|line| !line.trim().is_empty())
}

/// Reads MSH-1 (field separator) and MSH-2 (component, repetition, escape,
/// subcomponent characters) from the first line.
fn read_delimiters(first: &str) -> Result<Delimiters, Hl7Error> {
    let Some(rest) = first.strip_prefix("MSH") else {
        return Err(Hl7Error::error(
            "MSH",
            1,
            0,
            ErrorCode::SegmentSequenceError,
            format!(
                "the message must start with an MSH segment, not \"{}\"",
                quote(first)
            ),
        ));
    };
    let mut chars = rest.chars();
    let field = match chars.next() {
        Some(c) if is_delimiter_candidate(c) => c,
        _ => {
            return Err(Hl7Error::error(
                "MSH",
                1,
                1,
                ErrorCode::DataTypeError,
                "MSH-1 must be a field separator character such as |",
            ))
        }
    };
    let encoding: Vec<char> = chars.take_while(|&c| c != field).collect();
    // HL7 2.5.1 has exactly four encoding characters; v2.7 added a fifth
    // (truncation, usually #) that senders may include and we can ignore.
    let valid = (4..=5).contains(&encoding.len())
        && encoding.iter().all(|&c| is_delimiter_candidate(c))
        && all_distinct(&encoding, field);
    match encoding.as_slice() {
        [component, repetition, escape, subcomponent, ..] if valid => Ok(Delimiters {
            field,
            component: *component,
            repetition: *repetition,
            escape: *escape,
            subcomponent: *subcomponent,
        }),
        _ => Err(Hl7Error::error(
            "MSH",
            1,
            2,
            ErrorCode::DataTypeError,
            format!(
                "MSH-2 must hold four distinct encoding characters such as ^~\\&, not \"{}\"",
                quote(&encoding.iter().collect::<String>())
            ),
        )),
    }
}

/// Delimiters must be visible ASCII punctuation: letters, digits, spaces or
/// control characters would collide with data or with segment terminators.
fn is_delimiter_candidate(c: char) -> bool {
    c.is_ascii_punctuation()
}

fn all_distinct(encoding: &[char], field: char) -> bool {
    let mut seen = vec![field];
    for &c in encoding {
        if seen.contains(&c) {
            return false;
        }
        seen.push(c);
    }
    true
}

/// MSH is special: MSH-1 is the separator itself and MSH-2 is taken
/// literally (it contains the escape character, so it must not be decoded).
fn parse_msh(line: &str, d: &Delimiters) -> Segment {
    let body = line.get(3..).unwrap_or("");
    let body = body.strip_prefix(d.field).unwrap_or(body);
    let mut parts = body.split(d.field);
    let encoding = parts.next().unwrap_or("");
    let mut fields = vec![literal_field(&d.field.to_string()), literal_field(encoding)];
    fields.extend(parts.map(|raw| parse_field(raw, d)));
    Segment {
        id: "MSH".to_string(),
        sequence: 1,
        fields,
    }
}

fn literal_field(value: &str) -> Field {
    Field {
        repetitions: vec![Repetition {
            components: vec![Component {
                subcomponents: vec![value.to_string()],
            }],
        }],
    }
}

fn parse_segment(line: &str, d: &Delimiters) -> Segment {
    let mut parts = line.split(d.field);
    let id = parts.next().unwrap_or("").trim().to_string();
    Segment {
        id,
        sequence: 0,
        fields: parts.map(|raw| parse_field(raw, d)).collect(),
    }
}

fn parse_field(raw: &str, d: &Delimiters) -> Field {
    Field {
        repetitions: raw
            .split(d.repetition)
            .map(|rep| Repetition {
                components: rep
                    .split(d.component)
                    .map(|comp| Component {
                        subcomponents: comp
                            .split(d.subcomponent)
                            .map(|sub| unescape(sub, d))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn next_occurrence(counts: &mut Vec<(String, u32)>, id: &str) -> u32 {
    if let Some((_, n)) = counts.iter_mut().find(|(seen, _)| seen == id) {
        *n = n.saturating_add(1);
        *n
    } else {
        counts.push((id.to_string(), 1));
        1
    }
}

/// Decodes HL7 escape sequences in one (already split) value:
/// `\F\ \S\ \T\ \R\ \E\` become the delimiters, `\Xhh…\` the UTF-8 text
/// of those bytes, `\.br\` a line break; highlighting (`\H\ \N\`) and
/// character-set switches (`\Cxxyy\ \Mxxyyzz\`) carry no text and are
/// dropped. Anything unrecognised or unterminated is kept literally so no
/// data is silently lost.
pub fn unescape(value: &str, d: &Delimiters) -> String {
    if !value.contains(d.escape) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find(d.escape) {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + d.escape.len_utf8()..).unwrap_or("");
        let Some(end) = after.find(d.escape) else {
            // Unterminated: keep the escape character and the rest as text.
            out.push_str(rest.get(start..).unwrap_or(""));
            return out;
        };
        let content = after.get(..end).unwrap_or("");
        let sequence_end = end + d.escape.len_utf8();
        match decode_escape(content, d) {
            Some(decoded) => out.push_str(&decoded),
            None => {
                out.push(d.escape);
                out.push_str(content);
                out.push(d.escape);
            }
        }
        rest = after.get(sequence_end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn decode_escape(content: &str, d: &Delimiters) -> Option<String> {
    let simple = match content {
        "F" => Some(d.field),
        "S" => Some(d.component),
        "T" => Some(d.subcomponent),
        "R" => Some(d.repetition),
        "E" => Some(d.escape),
        _ => None,
    };
    if let Some(c) = simple {
        return Some(c.to_string());
    }
    match content {
        ".br" => Some("\n".to_string()),
        "H" | "N" => Some(String::new()),
        _ => {
            let (kind, arg) = content.split_at_checked(1)?;
            match kind {
                "X" => decode_hex(arg),
                "C" | "M" if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some(String::new())
                }
                _ => None,
            }
        }
    }
}

fn decode_hex(hex: &str) -> Option<String> {
    // Written without `is_multiple_of` to keep the workspace's 1.85 MSRV.
    let pairs = hex.as_bytes().chunks_exact(2);
    if hex.is_empty() || !pairs.remainder().is_empty() {
        return None;
    }
    let bytes = pairs
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// Escapes text for use as one value in a message built with `d`: the
/// delimiters become `\F\ \S\ \T\ \R\ \E\`, and control characters (CR, LF,
/// MLLP bytes) become `\Xhh\` so they cannot end a segment or a frame.
pub fn escape(value: &str, d: &Delimiters) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let code = if c == d.escape {
            Some('E')
        } else if c == d.field {
            Some('F')
        } else if c == d.component {
            Some('S')
        } else if c == d.subcomponent {
            Some('T')
        } else if c == d.repetition {
            Some('R')
        } else {
            None
        };
        if let Some(code) = code {
            out.push(d.escape);
            out.push(code);
            out.push(d.escape);
        } else if c.is_ascii_control() {
            out.push(d.escape);
            out.push_str(&format!("X{:02X}", c as u32));
            out.push(d.escape);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "MSH|^~\\&|APP|FAC|RCV|RFAC|20210715||VXU^V04^VXU_V04|ID1|P|2.5.1\r\
PID|1||A1^^^AUTH&1.2&ISO^MR~B2^^^X^SS||Doe^John\r\
NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\r";

    #[test]
    fn msh_fields_are_numbered_like_the_standard() {
        let m = Message::parse(SAMPLE).unwrap();
        let msh = &m.segments()[0];
        assert_eq!(msh.value(1, 1), "|");
        assert_eq!(msh.value(2, 1), "^~\\&");
        assert_eq!(msh.value(3, 1), "APP");
        assert_eq!(msh.value(9, 1), "VXU");
        assert_eq!(msh.value(9, 2), "V04");
        assert_eq!(msh.value(10, 1), "ID1");
        assert_eq!(msh.value(12, 1), "2.5.1");
        assert_eq!(msh.value(13, 1), "");
    }

    #[test]
    fn repetitions_components_and_subcomponents() {
        let m = Message::parse(SAMPLE).unwrap();
        let pid = m.segment("PID").unwrap();
        let ids = pid.field(3).unwrap().repetitions();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].component(1), "A1");
        assert_eq!(ids[0].subcomponent(4, 1), "AUTH");
        assert_eq!(ids[0].subcomponent(4, 2), "1.2");
        assert_eq!(ids[0].subcomponent(4, 3), "ISO");
        assert_eq!(ids[0].subcomponent(4, 4), "");
        assert_eq!(ids[1].component(5), "SS");
        assert_eq!(pid.value(5, 2), "John");
        assert_eq!(pid.value(5, 0), "");
        assert_eq!(pid.value(99, 1), "");
        assert!(pid.field(0).is_none());
    }

    #[test]
    fn escape_sequences_are_decoded_after_splitting() {
        let m = Message::parse(SAMPLE).unwrap();
        assert_eq!(m.segment("NTE").unwrap().value(3, 1), "a|b^c&d~e\\f");
    }

    #[test]
    fn unescape_special_sequences() {
        let d = Delimiters::default();
        assert_eq!(unescape("line1\\.br\\line2", &d), "line1\nline2");
        assert_eq!(unescape("\\H\\bold\\N\\", &d), "bold");
        assert_eq!(unescape("\\XC3A9\\t\\X0D\\", &d), "ét\r");
        assert_eq!(unescape("\\Zlocal\\", &d), "\\Zlocal\\");
        assert_eq!(unescape("open \\F", &d), "open \\F");
        assert_eq!(unescape("\\XZZ\\", &d), "\\XZZ\\");
        assert_eq!(unescape("\\C2842\\x", &d), "x");
        assert_eq!(unescape("\\\\", &d), "\\\\");
    }

    #[test]
    fn escape_round_trips() {
        let d = Delimiters::default();
        let text = "a|b^c&d~e\\f\r\ng\u{0b}é";
        let escaped = escape(text, &d);
        assert!(!escaped.contains(['|', '^', '&', '~', '\r', '\n', '\u{0b}']));
        assert_eq!(unescape(&escaped, &d), text);
    }

    #[test]
    fn delimiters_come_from_msh() {
        let m = Message::parse("MSH#*@!%#A#B\rPID#1##X*Y@Z%W!F!").unwrap();
        assert_eq!(m.delimiters().component, '*');
        assert_eq!(m.delimiters().repetition, '@');
        let pid = m.segment("PID").unwrap();
        assert_eq!(pid.value(3, 2), "Y");
        assert_eq!(
            pid.field(3).unwrap().repetitions()[1].subcomponent(1, 2),
            "W#"
        );
    }

    #[test]
    fn segment_separators_and_framing() {
        for text in [
            "MSH|^~\\&|A\rPID|1\rRXA|0",
            "MSH|^~\\&|A\nPID|1\nRXA|0\n",
            "MSH|^~\\&|A\r\nPID|1\r\n\r\nRXA|0\r\n",
            "\u{0b}MSH|^~\\&|A\rPID|1\rRXA|0\r\u{1c}\r",
        ] {
            let m = Message::parse(text).unwrap();
            let ids: Vec<&str> = m.segments().iter().map(Segment::id).collect();
            assert_eq!(ids, ["MSH", "PID", "RXA"], "{text:?}");
        }
    }

    #[test]
    fn occurrences_are_counted_per_segment_id() {
        let m = Message::parse("MSH|^~\\&\rRXA|1\rOBX|1\rRXA|2\rOBX|2\rOBX|3").unwrap();
        let seqs: Vec<(&str, u32)> = m
            .segments()
            .iter()
            .map(|s| (s.id(), s.sequence()))
            .collect();
        assert_eq!(
            seqs,
            [
                ("MSH", 1),
                ("RXA", 1),
                ("OBX", 1),
                ("RXA", 2),
                ("OBX", 2),
                ("OBX", 3)
            ]
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        for (text, field) in [
            ("", 0),
            ("PID|1", 0),
            ("MSH", 1),
            ("MSHa^~\\&", 1),
            ("MSH|^~|", 2),
            ("MSH|^^\\&|", 2),
            ("MSH|^~\\|", 2),
            ("MSH|^~\\&&&|", 2),
        ] {
            let e = Message::parse(text).unwrap_err();
            assert_eq!((e.segment.as_str(), e.field), ("MSH", field), "{text:?}");
        }
        // The optional fifth (truncation) character of v2.7 is tolerated.
        assert!(Message::parse("MSH|^~\\&#|A").is_ok());
    }

    #[test]
    fn segment_id_validity() {
        let m = Message::parse("MSH|^~\\&\rZV1|x\rpid|1\r|x\rPIDX|1").unwrap();
        let valid: Vec<bool> = m.segments().iter().map(Segment::has_valid_id).collect();
        assert_eq!(valid, [true, true, false, false, false]);
    }
}
