//! Extraction of a VXU^V04 (unsolicited vaccination record update) following
//! the CDC HL7 2.5.1 Implementation Guide for Immunization Messaging,
//! Release 1.5.
//!
//! Message structure handled (other segments — SFT, PD1, NK1, PV1, IN1,
//! TQ1, NTE, Z-segments … — are tolerated and ignored):
//!
//! ```text
//! MSH PID [PD1] [{NK1}] … { [ORC] RXA [RXR] [{OBX [{NTE}]}] }
//! ```
//!
//! All problems are collected rather than stopping at the first, so one ACK
//! can tell the sender everything that is wrong.

use time::Date;

use super::datetime::{parse_date, parse_datetime, Hl7DateTime};
use super::error::{quote, ErrorCode, Hl7Error};
use super::message::{Field, Message, Repetition, Segment};

/// MSH content needed to process and acknowledge the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader {
    /// MSH-3 (HD namespace id, else universal id).
    pub sending_application: String,
    /// MSH-4.
    pub sending_facility: String,
    /// MSH-5.
    pub receiving_application: String,
    /// MSH-6.
    pub receiving_facility: String,
    /// MSH-7; `None` when absent or unreadable (a warning is reported).
    pub timestamp: Option<Hl7DateTime>,
    /// MSH-9.1, always `VXU` in a parsed message.
    pub message_code: String,
    /// MSH-9.2, always `V04` in a parsed message.
    pub trigger_event: String,
    /// MSH-9.3, e.g. `VXU_V04`, when given.
    pub message_structure: Option<String>,
    /// MSH-10.
    pub control_id: String,
    /// MSH-11.1: `P` production, `T` training, `D` debugging.
    pub processing_id: String,
    /// MSH-12.1: `2.5.1` or `2.5`.
    pub version: String,
    /// MSH-15 accept acknowledgment type (AL, NE, ER, SU).
    pub accept_ack_type: Option<String>,
    /// MSH-16 application acknowledgment type (AL, NE, ER, SU).
    pub application_ack_type: Option<String>,
    /// MSH-21.1 message profile, e.g. `Z22`.
    pub profile: Option<String>,
}

/// One patient identifier (PID-3 repetition, CX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentifier {
    /// CX-1.
    pub id: String,
    /// CX-4 first component (HD namespace id), e.g. `VNM`, `MYEHR`.
    pub assigning_authority: Option<String>,
    /// CX-5 (HL7 table 0203), e.g. `MR`, `NI`, `PPN`, `SS`.
    pub identifier_type: Option<String>,
}

/// Patient address (PID-11, first non-empty repetition).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// XAD-1.1 street or mailing address.
    pub street: Option<String>,
    /// XAD-2 other designation (apartment, building).
    pub other_designation: Option<String>,
    /// XAD-3.
    pub city: Option<String>,
    /// XAD-4.
    pub state_or_province: Option<String>,
    /// XAD-5.
    pub postal_code: Option<String>,
    /// XAD-6 (ISO 3166 alpha-3 in the CDC guide).
    pub country: Option<String>,
}

/// The patient of the message (PID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hl7Patient {
    /// PID-3 repetitions with a non-empty id, in message order.
    pub identifiers: Vec<PatientIdentifier>,
    /// XPN-1 of the legal name (PID-5 repetition with type L, else the first).
    pub family_name: String,
    /// XPN-2 and XPN-3 joined by a space.
    pub given_names: String,
    /// PID-7.
    pub birth_date: Option<Date>,
    /// PID-8 (HL7 table 0001: M, F, U, …).
    pub sex: Option<String>,
    /// PID-13: XTN-1 as given, else `+` country code, area and local number.
    pub phone: Option<String>,
    /// PID-11.
    pub address: Option<Address>,
}

/// A coded element (CE/CWE triplet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coded {
    pub code: String,
    pub text: String,
    /// Coding system, e.g. `CVX`, `MVX`, `NCIT`, `LN`.
    pub system: String,
}

/// RXA-20 completion status (HL7 table 0322).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompletionStatus {
    /// CP (also assumed when RXA-20 is empty).
    Complete,
    /// PA.
    PartiallyAdministered,
    /// NA, e.g. deferred because of a contraindication.
    NotAdministered,
    /// RE, refused by the patient or guardian (reason in RXA-18).
    Refused,
}

impl CompletionStatus {
    /// The table 0322 code.
    pub fn code(&self) -> &'static str {
        match self {
            CompletionStatus::Complete => "CP",
            CompletionStatus::PartiallyAdministered => "PA",
            CompletionStatus::NotAdministered => "NA",
            CompletionStatus::Refused => "RE",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "" | "CP" => Some(CompletionStatus::Complete),
            "PA" => Some(CompletionStatus::PartiallyAdministered),
            "NA" => Some(CompletionStatus::NotAdministered),
            "RE" => Some(CompletionStatus::Refused),
            _ => None,
        }
    }
}

/// One OBX attached to a vaccination (funding, VIS, contraindication …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// OBX-2 value type, e.g. `CE`, `TS`, `NM`, `ST`.
    pub value_type: String,
    /// OBX-3, e.g. `30945-0` (contraindication), LOINC.
    pub code: Coded,
    /// OBX-4 sub-id, which groups related observations (e.g. one VIS).
    pub sub_id: Option<String>,
    /// OBX-5 as text: its first component (the code, for coded types).
    pub value: String,
    /// OBX-5 as a coded element, for CE / CWE / CNE values.
    pub value_coded: Option<Coded>,
}

/// One vaccination (an ORC/RXA group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vaccination {
    /// ORC-3.1 filler order number, when an ORC precedes the RXA.
    pub order_id: Option<String>,
    /// RXA-3 (date of administration, with whatever precision was sent).
    pub administered_at: Hl7DateTime,
    /// RXA-5 first triplet.
    pub vaccine_code: Coded,
    /// RXA-5 alternate triplet (e.g. NDC, or CVX when the first is NDC).
    pub vaccine_alternate_code: Option<Coded>,
    /// RXA-6; `None` when empty or `999` (unknown amount, used for
    /// historical records).
    pub amount: Option<String>,
    /// RXA-7.1, e.g. `mL`.
    pub units: Option<String>,
    /// RXA-9.1: `00` new record (false); `01`–`08` historical (true).
    pub historical: bool,
    /// RXA-11.4 (facility HD) or, when empty, RXA-11.1 (point of care).
    pub facility: Option<String>,
    /// RXA-15.
    pub lot_number: Option<String>,
    /// RXA-16.
    pub lot_expiry: Option<Date>,
    /// RXA-17 (MVX).
    pub manufacturer: Option<Coded>,
    /// RXA-18 substance/treatment refusal reason.
    pub refusal_reason: Option<Coded>,
    /// RXA-20.
    pub completion_status: CompletionStatus,
    /// RXA-21: `A` add, `D` delete, `U` update (`A` when empty).
    pub action: String,
    /// RXR-1.
    pub route: Option<Coded>,
    /// RXR-2.
    pub site: Option<Coded>,
    /// OBX segments following the RXA.
    pub observations: Vec<Observation>,
}

impl Vaccination {
    /// The CVX code of the vaccine, from whichever RXA-5 triplet is coded in
    /// CVX (the CDC guide allows CVX first and NDC alternate, or the reverse).
    pub fn cvx(&self) -> Option<&str> {
        std::iter::once(&self.vaccine_code)
            .chain(self.vaccine_alternate_code.as_ref())
            .find(|c| c.system.eq_ignore_ascii_case("CVX") && !c.code.is_empty())
            .map(|c| c.code.as_str())
    }
}

/// A VXU^V04 that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vxu {
    pub header: MessageHeader,
    pub patient: Hl7Patient,
    pub vaccinations: Vec<Vaccination>,
    /// Problems of severity W (or I): the message was still usable.
    pub warnings: Vec<Hl7Error>,
}

/// Parses and validates a VXU^V04.
///
/// `Err` is returned when at least one problem of severity E was found; the
/// vector then holds every problem found (errors and warnings, in message
/// order), so an ACK can report them all. Never panics.
pub fn parse_vxu(text: &str) -> Result<Vxu, Vec<Hl7Error>> {
    let message = Message::parse(text).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    let header = read_header(&message, &mut problems);
    let body = read_body(&message, &mut problems);
    let usable = !problems.iter().any(Hl7Error::is_error);
    match (header, body) {
        (Some(header), Some((patient, vaccinations))) if usable => Ok(Vxu {
            header,
            patient,
            vaccinations,
            warnings: problems,
        }),
        _ => {
            if !problems.iter().any(Hl7Error::is_error) {
                // Defensive: a part failed without saying why.
                problems.push(Hl7Error::error(
                    "MSH",
                    1,
                    0,
                    ErrorCode::ApplicationInternalError,
                    "message could not be read",
                ));
            }
            Err(problems)
        }
    }
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// HD: namespace id, else universal id, so senders identified only by OID
/// are still named.
fn hd_name(segment: &Segment, field: usize) -> String {
    segment.first(field).map_or_else(String::new, |r| {
        let namespace = r.component(1).trim();
        if namespace.is_empty() {
            r.component(2).trim().to_string()
        } else {
            namespace.to_string()
        }
    })
}

fn coded(rep: &Repetition, first: usize) -> Coded {
    Coded {
        code: rep.component(first).trim().to_string(),
        text: rep.component(first + 1).trim().to_string(),
        system: rep.component(first + 2).trim().to_string(),
    }
}

/// A coded field's first triplet, `None` when it has neither code nor text.
fn coded_field(segment: &Segment, field: usize) -> Option<Coded> {
    coded_repetition(segment.first(field)?)
}

fn coded_repetition(rep: &Repetition) -> Option<Coded> {
    let c = coded(rep, 1);
    (!c.code.is_empty() || !c.text.is_empty()).then_some(c)
}

fn read_header(message: &Message, problems: &mut Vec<Hl7Error>) -> Option<MessageHeader> {
    let msh = message.segments().first()?;
    let err = |field, code, text: String| Hl7Error::error("MSH", 1, field, code, text);
    let warn = |field, code, text: String| Hl7Error::warning("MSH", 1, field, code, text);

    let message_code = msh.value(9, 1).trim().to_string();
    let trigger_event = msh.value(9, 2).trim().to_string();
    if message_code.is_empty() {
        problems.push(err(
            9,
            ErrorCode::RequiredFieldMissing,
            "message type is required (VXU^V04)".into(),
        ));
    } else if message_code != "VXU" || trigger_event != "V04" {
        problems.push(err(
            9,
            ErrorCode::UnsupportedMessageType,
            format!(
                "unsupported message type {}^{}: only VXU^V04 is accepted",
                quote(&message_code),
                quote(&trigger_event)
            ),
        ));
    }

    let control_id = msh.value(10, 1).trim().to_string();
    if control_id.is_empty() {
        problems.push(err(
            10,
            ErrorCode::RequiredFieldMissing,
            "message control id is required".into(),
        ));
    }

    let version = msh.value(12, 1).trim().to_string();
    if version.is_empty() {
        problems.push(err(
            12,
            ErrorCode::RequiredFieldMissing,
            "version id is required (2.5.1)".into(),
        ));
    } else if version != "2.5.1" && version != "2.5" {
        problems.push(err(
            12,
            ErrorCode::UnsupportedVersionId,
            format!("unsupported version {}: expected 2.5.1", quote(&version)),
        ));
    }

    let processing_id = msh.value(11, 1).trim().to_string();
    if processing_id.is_empty() {
        problems.push(warn(
            11,
            ErrorCode::RequiredFieldMissing,
            "processing id is missing; P (production) assumed".into(),
        ));
    } else if !matches!(processing_id.as_str(), "P" | "T" | "D") {
        problems.push(warn(
            11,
            ErrorCode::TableValueNotFound,
            format!("processing id {} is not P, T or D", quote(&processing_id)),
        ));
    }

    let raw_time = msh.value(7, 1);
    let timestamp = parse_datetime(raw_time);
    if raw_time.trim().is_empty() {
        problems.push(warn(
            7,
            ErrorCode::RequiredFieldMissing,
            "date/time of message is missing".into(),
        ));
    } else if timestamp.is_none() {
        problems.push(warn(
            7,
            ErrorCode::DataTypeError,
            format!("not a valid date/time: {}", quote(raw_time)),
        ));
    }

    let mut ack_type = |field: usize| {
        let value = non_empty(msh.value(field, 1))?;
        if !matches!(value.as_str(), "AL" | "NE" | "ER" | "SU") {
            problems.push(warn(
                field as u32,
                ErrorCode::TableValueNotFound,
                format!(
                    "acknowledgment type {} is not AL, NE, ER or SU",
                    quote(&value)
                ),
            ));
        }
        Some(value)
    };
    let accept_ack_type = ack_type(15);
    let application_ack_type = ack_type(16);

    Some(MessageHeader {
        sending_application: hd_name(msh, 3),
        sending_facility: hd_name(msh, 4),
        receiving_application: hd_name(msh, 5),
        receiving_facility: hd_name(msh, 6),
        timestamp,
        message_structure: non_empty(msh.value(9, 3)),
        message_code,
        trigger_event,
        control_id,
        processing_id: if processing_id.is_empty() {
            "P".to_string()
        } else {
            processing_id
        },
        version,
        accept_ack_type,
        application_ack_type,
        profile: non_empty(msh.value(21, 1)),
    })
}

/// Walks the segments after MSH, grouping ORC/RXA/RXR/OBX into vaccinations.
fn read_body(
    message: &Message,
    problems: &mut Vec<Hl7Error>,
) -> Option<(Hl7Patient, Vec<Vaccination>)> {
    let mut patient = None;
    let mut pid_seen = false;
    let mut vaccinations: Vec<Vaccination> = Vec::new();
    let mut rxa_seen: u32 = 0;
    // The ORC waiting for its RXA.
    let mut pending_orc: Option<&Segment> = None;
    // Whether RXR/OBX segments belong to the last vaccination: false before
    // the first RXA and after an RXA that could not be read.
    let mut in_group = false;

    for segment in message.segments().iter().skip(1) {
        if !segment.has_valid_id() {
            problems.push(Hl7Error::error(
                &printable_id(segment.id()),
                segment.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                format!("not a segment id: \"{}\"", quote(segment.id())),
            ));
            continue;
        }
        match segment.id() {
            "MSH" => problems.push(Hl7Error::error(
                "MSH",
                segment.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                "only one message per request: a second MSH was found",
            )),
            "PID" if pid_seen => problems.push(Hl7Error::error(
                "PID",
                segment.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                "a VXU carries one patient: a second PID was found",
            )),
            "PID" => {
                pid_seen = true;
                patient = read_patient(segment, problems);
            }
            "ORC" => {
                if pending_orc.is_some() {
                    problems.push(orc_without_rxa(rxa_seen.saturating_add(1)));
                }
                pending_orc = Some(segment);
                in_group = false;
            }
            "RXA" => {
                rxa_seen = rxa_seen.saturating_add(1);
                let orc = pending_orc.take();
                match read_vaccination(orc, segment, problems) {
                    Some(v) => {
                        vaccinations.push(v);
                        in_group = true;
                    }
                    None => in_group = false,
                }
            }
            "RXR" => match vaccinations.last_mut() {
                Some(v) if in_group && v.route.is_none() && v.site.is_none() => {
                    v.route = coded_field(segment, 1);
                    v.site = coded_field(segment, 2);
                }
                _ if in_group || rxa_seen == 0 => problems.push(Hl7Error::warning(
                    "RXR",
                    segment.sequence(),
                    0,
                    ErrorCode::SegmentSequenceError,
                    "RXR does not follow an RXA (or repeats); ignored",
                )),
                // Belongs to an RXA already reported as an error.
                _ => {}
            },
            "OBX" => {
                if let (true, Some(v)) = (in_group, vaccinations.last_mut()) {
                    v.observations.push(read_observation(segment, problems));
                }
                // Otherwise a patient-level observation, outside our scope.
            }
            _ => {}
        }
    }

    if !pid_seen {
        problems.push(Hl7Error::error(
            "PID",
            1,
            0,
            ErrorCode::RequiredFieldMissing,
            "required segment PID (patient identification) is missing",
        ));
    }
    if rxa_seen == 0 {
        problems.push(Hl7Error::error(
            "RXA",
            1,
            0,
            ErrorCode::RequiredFieldMissing,
            "required segment RXA (pharmacy/treatment administration) is missing",
        ));
    } else if pending_orc.is_some() {
        problems.push(orc_without_rxa(rxa_seen.saturating_add(1)));
    }
    Some((patient?, vaccinations))
}

/// Whether an error was added from index `start` on. Only the new entries
/// are scanned, so a message with thousands of RXA stays linear.
fn has_error_since(problems: &[Hl7Error], start: usize) -> bool {
    problems
        .get(start..)
        .is_some_and(|new| new.iter().any(Hl7Error::is_error))
}

fn orc_without_rxa(rxa_sequence: u32) -> Hl7Error {
    Hl7Error::error(
        "RXA",
        rxa_sequence,
        0,
        ErrorCode::RequiredFieldMissing,
        "an ORC is not followed by its RXA",
    )
}

/// A segment name usable in an ERR location even when the id is garbage.
fn printable_id(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    if cleaned.is_empty() {
        "???".to_string()
    } else {
        cleaned
    }
}

fn read_patient(pid: &Segment, problems: &mut Vec<Hl7Error>) -> Option<Hl7Patient> {
    let seq = pid.sequence();
    let first_new_problem = problems.len();

    let identifiers: Vec<PatientIdentifier> = pid
        .field(3)
        .map(|f| f.repetitions())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(PatientIdentifier {
                id: non_empty(r.component(1))?,
                assigning_authority: non_empty(r.subcomponent(4, 1)),
                identifier_type: non_empty(r.component(5)),
            })
        })
        .collect();
    if identifiers.is_empty() {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            3,
            ErrorCode::RequiredFieldMissing,
            "patient identifier list is required",
        ));
    }

    // The legal name (XPN-7 = L) when several are given, else the first.
    let names = pid.field(5).map(|f| f.repetitions()).unwrap_or_default();
    let name = names
        .iter()
        .find(|r| r.component(7) == "L")
        .or_else(|| names.iter().find(|r| !r.is_empty()));
    let family_name = name.map_or("", |r| r.subcomponent(1, 1)).trim().to_string();
    let given_names = name
        .map(|r| format!("{} {}", r.component(2).trim(), r.component(3).trim()))
        .unwrap_or_default()
        .trim()
        .to_string();
    if family_name.is_empty() && given_names.is_empty() {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            5,
            ErrorCode::RequiredFieldMissing,
            "patient name is required",
        ));
    } else if family_name.is_empty() {
        // Some people have no family name; keep the record but say so.
        problems.push(
            Hl7Error::warning(
                "PID",
                seq,
                5,
                ErrorCode::RequiredFieldMissing,
                "family name is empty",
            )
            .with_component(1),
        );
    }

    let raw_birth = pid.value(7, 1);
    let birth_date = parse_date(raw_birth);
    if raw_birth.trim().is_empty() {
        problems.push(Hl7Error::warning(
            "PID",
            seq,
            7,
            ErrorCode::RequiredFieldMissing,
            "date of birth is missing",
        ));
    } else if birth_date.is_none() {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            7,
            ErrorCode::DataTypeError,
            format!("not a valid date: {}", quote(raw_birth)),
        ));
    }

    let sex = non_empty(pid.value(8, 1));
    if let Some(s) = &sex {
        if !matches!(s.as_str(), "M" | "F" | "U" | "O" | "A" | "N") {
            problems.push(Hl7Error::warning(
                "PID",
                seq,
                8,
                ErrorCode::TableValueNotFound,
                format!("administrative sex {} is not in table 0001", quote(s)),
            ));
        }
    }

    let patient = Hl7Patient {
        identifiers,
        family_name,
        given_names,
        birth_date,
        sex,
        phone: read_phone(pid),
        address: read_address(pid),
    };
    (!has_error_since(problems, first_new_problem)).then_some(patient)
}

/// PID-13: the first repetition that yields a telephone number. XTN-1 is
/// the (deprecated but common) formatted number; otherwise the CDC guide's
/// XTN-5/6/7 parts are composed into an E.164-like string.
fn read_phone(pid: &Segment) -> Option<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    pid.field(13)?.repetitions().iter().find_map(|r| {
        if let Some(formatted) = non_empty(r.component(1)) {
            return Some(formatted);
        }
        let local = digits(r.component(7));
        if local.is_empty() {
            return None;
        }
        let country = digits(r.component(5));
        let area = digits(r.component(6));
        let prefix = if country.is_empty() {
            String::new()
        } else {
            format!("+{country}")
        };
        Some(format!("{prefix}{area}{local}"))
    })
}

fn read_address(pid: &Segment) -> Option<Address> {
    pid.field(11)?.repetitions().iter().find_map(|r| {
        let address = Address {
            street: non_empty(r.subcomponent(1, 1)),
            other_designation: non_empty(r.component(2)),
            city: non_empty(r.component(3)),
            state_or_province: non_empty(r.component(4)),
            postal_code: non_empty(r.component(5)),
            country: non_empty(r.component(6)),
        };
        (address != Address::default()).then_some(address)
    })
}

/// How the fields after RXA-9 are laid out in a received RXA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxaLayout {
    /// As the CDC guide says: RXA-n at position n.
    AsSent,
    /// One extra empty field after RXA-9: RXA-n (n ≥ 10) at position n + 1.
    ExtraField,
    /// As [`RxaLayout::ExtraField`], with a second extra empty field before
    /// RXA-20: RXA-10 to RXA-19 at n + 1, RXA-20 and RXA-21 at n + 2.
    ExtraFieldTwice,
    /// One field missing after RXA-9: RXA-10 absent, RXA-n (n ≥ 11) at
    /// position n − 1.
    MissingField,
}

/// An RXA read through a layout: field numbers are the logical RXA-n.
#[derive(Clone, Copy)]
struct RxaView<'a> {
    segment: &'a Segment,
    layout: RxaLayout,
}

impl<'a> RxaView<'a> {
    /// The position in the segment holding RXA-`field`, `None` when the
    /// layout says the sender left it out.
    fn position(&self, field: usize) -> Option<usize> {
        match self.layout {
            RxaLayout::ExtraField if field >= 10 => Some(field + 1),
            RxaLayout::ExtraFieldTwice if field >= 20 => Some(field + 2),
            RxaLayout::ExtraFieldTwice if field >= 10 => Some(field + 1),
            RxaLayout::MissingField if field == 10 => None,
            RxaLayout::MissingField if field > 10 => Some(field - 1),
            _ => Some(field),
        }
    }

    /// The positions the layout says were inserted by the sender (and must
    /// therefore be empty).
    fn inserted_positions(&self) -> &'static [usize] {
        match self.layout {
            RxaLayout::ExtraField => &[10],
            RxaLayout::ExtraFieldTwice => &[10, 21],
            RxaLayout::AsSent | RxaLayout::MissingField => &[],
        }
    }

    fn value(&self, field: usize, component: usize) -> &'a str {
        self.position(field)
            .map_or("", |p| self.segment.value(p, component))
    }

    fn first(&self, field: usize) -> Option<&'a Repetition> {
        self.position(field).and_then(|p| self.segment.first(p))
    }

    fn is_empty(&self, field: usize) -> bool {
        self.position(field)
            .and_then(|p| self.segment.field(p))
            .is_none_or(Field::is_empty)
    }

    fn coded(&self, field: usize) -> Option<Coded> {
        coded_repetition(self.first(field)?)
    }
}

/// Reads an RXA. When it fails validation on fields after RXA-9 because the
/// sender shifted them by one position (a known quirk of some immunization
/// systems: an extra empty field after RXA-9, sometimes a second one before
/// RXA-20, or one field missing), and exactly one shifted reading is free of
/// errors after RXA-9 and strictly consistent, that reading is used and a
/// warning (102, on RXA-10, the first misplaced position) tells the sender.
/// Problems before RXA-10 (RXA-3, RXA-5 …) are the same in every reading and
/// are reported as they are.
fn read_vaccination(
    orc: Option<&Segment>,
    rxa: &Segment,
    problems: &mut Vec<Hl7Error>,
) -> Option<Vaccination> {
    let mut found = Vec::new();
    let vaccination = read_rxa(
        orc,
        RxaView {
            segment: rxa,
            layout: RxaLayout::AsSent,
        },
        &mut found,
    );
    if found.iter().any(is_tail_error) {
        if let Some((layout, vaccination, recovered)) = recover_alignment(orc, rxa) {
            problems.extend(recovered);
            problems.push(shift_warning(rxa.sequence(), layout));
            return vaccination;
        }
    }
    problems.extend(found);
    vaccination
}

/// An error on a field after RXA-9, the part a shifted layout misplaces.
fn is_tail_error(problem: &Hl7Error) -> bool {
    problem.is_error() && problem.field >= 10
}

type Recovered = (RxaLayout, Option<Vaccination>, Vec<Hl7Error>);

/// The single shifted reading of `rxa` that is free of errors after RXA-9
/// and strictly consistent; `None` when there is none, or more than one
/// (ambiguous: the sender must fix the message).
fn recover_alignment(orc: Option<&Segment>, rxa: &Segment) -> Option<Recovered> {
    let mut candidates = [
        RxaLayout::ExtraField,
        RxaLayout::ExtraFieldTwice,
        RxaLayout::MissingField,
    ]
    .into_iter()
    .filter_map(|layout| {
        let view = RxaView {
            segment: rxa,
            layout,
        };
        let mut found = Vec::new();
        let vaccination = read_rxa(orc, view, &mut found);
        (!found.iter().any(is_tail_error) && shifted_reading_is_consistent(view)).then_some((
            layout,
            vaccination,
            found,
        ))
    });
    let first = candidates.next()?;
    candidates.next().is_none().then_some(first)
}

/// The strict checks a shifted reading must pass on top of the ordinary
/// validation, so that a misread message is never accepted:
///
/// - the inserted positions (10, and 21 for a second extra field) are empty;
/// - RXA-12 to RXA-14, which immunization messages do not use, are empty;
/// - RXA-15 (lot) is a plain value that does not look like a date, and is
///   present. For a historical record (RXA-9 `01`–`08`) or a dose not given
///   (NA/RE) the CDC guide does not require a lot; it may then be empty, but
///   RXA-20 must be explicit, as positive evidence for the reading;
/// - RXA-16 is empty or a valid date;
/// - RXA-17 is empty or coded in MVX;
/// - RXA-18 (refusal reason) is empty unless RXA-20 is RE;
/// - RXA-20 is empty or in table 0322, RXA-21 empty or A/D/U.
fn shifted_reading_is_consistent(rxa: RxaView) -> bool {
    let inserted_is_empty = rxa
        .inserted_positions()
        .iter()
        .all(|&p| rxa.segment.field(p).is_none_or(Field::is_empty));
    let unused_are_empty = (12..=14).all(|n| rxa.is_empty(n));

    let raw_status = rxa.value(20, 1).trim();
    let Some(status) = CompletionStatus::from_code(raw_status) else {
        return false;
    };
    let historical = matches!(
        rxa.value(9, 1).trim(),
        "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08"
    );
    let dose_not_given = matches!(
        status,
        CompletionStatus::NotAdministered | CompletionStatus::Refused
    );
    let lot = rxa.value(15, 1).trim();
    // One repetition of one component: not a coded value moved here.
    let lot_is_plain = rxa
        .position(15)
        .and_then(|p| rxa.segment.field(p))
        .is_none_or(|f| {
            f.repetitions().len() <= 1 && f.first().is_none_or(|r| r.components().len() <= 1)
        });
    let lot_ok = if lot.is_empty() {
        (historical || dose_not_given) && !raw_status.is_empty()
    } else {
        lot_is_plain && !looks_like_date(lot)
    };

    let raw_expiry = rxa.value(16, 1).trim();
    let expiry_ok = raw_expiry.is_empty() || parse_date(raw_expiry).is_some();
    let manufacturer_ok = rxa
        .coded(17)
        .is_none_or(|c| !c.code.is_empty() && c.system.eq_ignore_ascii_case("MVX"));
    let refusal_ok = status == CompletionStatus::Refused || rxa.is_empty(18);
    let action_ok = matches!(rxa.value(21, 1).trim(), "" | "A" | "D" | "U");

    inserted_is_empty
        && unused_are_empty
        && lot_ok
        && expiry_ok
        && manufacturer_ok
        && refusal_ok
        && action_ok
}

/// A valid date, or a value shaped like one (`YYYYMMDD…` with a plausible
/// year), which a lot number is not.
fn looks_like_date(value: &str) -> bool {
    if parse_date(value).is_some() {
        return true;
    }
    value.get(..8).is_some_and(|head| {
        head.bytes().all(|b| b.is_ascii_digit())
            && head
                .get(..4)
                .and_then(|y| y.parse::<u16>().ok())
                .is_some_and(|y| (1900..=2099).contains(&y))
    })
}

fn shift_warning(sequence: u32, layout: RxaLayout) -> Hl7Error {
    let what = match layout {
        RxaLayout::ExtraField => {
            "RXA fields after RXA-9 are shifted by one position (an extra empty field at \
             position 10); positions 11 to 22 were read as RXA-10 to RXA-21"
        }
        RxaLayout::ExtraFieldTwice => {
            "RXA fields after RXA-9 are shifted by one position (an extra empty field at \
             position 10) and RXA-20 and RXA-21 by two (another extra empty field at \
             position 21); positions 11 to 20 were read as RXA-10 to RXA-19 and positions \
             22 and 23 as RXA-20 and RXA-21"
        }
        RxaLayout::MissingField | RxaLayout::AsSent => {
            "RXA fields after RXA-9 are shifted back by one position (a field is missing); \
             positions 10 to 20 were read as RXA-11 to RXA-21"
        }
    };
    Hl7Error::warning(
        "RXA",
        sequence,
        10,
        ErrorCode::DataTypeError,
        format!("{what} - the sending system should fix its RXA layout"),
    )
}

fn read_rxa(
    orc: Option<&Segment>,
    rxa: RxaView,
    problems: &mut Vec<Hl7Error>,
) -> Option<Vaccination> {
    let seq = rxa.segment.sequence();
    let first_new_problem = problems.len();
    let err = |field, code, text: String| Hl7Error::error("RXA", seq, field, code, text);
    let warn = |field, code, text: String| Hl7Error::warning("RXA", seq, field, code, text);

    let raw_time = rxa.value(3, 1);
    let administered_at = parse_datetime(raw_time);
    if raw_time.trim().is_empty() {
        problems.push(err(
            3,
            ErrorCode::RequiredFieldMissing,
            "date/time of administration is required".into(),
        ));
    } else if administered_at.is_none() {
        problems.push(err(
            3,
            ErrorCode::DataTypeError,
            format!("not a valid date/time: {}", quote(raw_time)),
        ));
    }

    let (vaccine_code, vaccine_alternate_code) = match rxa.first(5) {
        Some(r) => {
            let alternate = coded(r, 4);
            let alternate =
                (!alternate.code.is_empty() || !alternate.text.is_empty()).then_some(alternate);
            (coded(r, 1), alternate)
        }
        None => (Coded::default(), None),
    };
    if vaccine_code.code.is_empty() {
        problems.push(err(
            5,
            ErrorCode::RequiredFieldMissing,
            "administered vaccine code (CVX) is required".into(),
        ));
    }

    let amount = non_empty(rxa.value(6, 1)).filter(|a| a != "999");
    if let Some(a) = &amount {
        if a.parse::<f64>().map_or(true, |n| !n.is_finite() || n < 0.0) {
            problems.push(warn(
                6,
                ErrorCode::DataTypeError,
                format!("administered amount is not a number: {}", quote(a)),
            ));
        }
    }

    let raw_status = rxa.value(20, 1).trim();
    let completion_status = CompletionStatus::from_code(raw_status);
    if completion_status.is_none() {
        problems.push(err(
            20,
            ErrorCode::TableValueNotFound,
            format!(
                "completion status {} is not CP, PA, NA or RE",
                quote(raw_status)
            ),
        ));
    }

    // NIP001: 00 new record; 01–08 historical from various sources. The
    // guide requires it only for doses given (CP/PA), not for deferrals.
    let dose_given = matches!(
        completion_status,
        Some(CompletionStatus::Complete | CompletionStatus::PartiallyAdministered)
    );
    let source = rxa.value(9, 1).trim();
    let historical = match source {
        "00" => false,
        "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" => true,
        "" => {
            if dose_given {
                problems.push(warn(
                    9,
                    ErrorCode::RequiredFieldMissing,
                    "information source is missing; new record assumed".into(),
                ));
            }
            false
        }
        other => {
            problems.push(warn(
                9,
                ErrorCode::TableValueNotFound,
                format!(
                    "information source {} is not in table NIP001; new record assumed",
                    quote(other)
                ),
            ));
            false
        }
    };

    let facility = rxa
        .first(11)
        .and_then(|r| non_empty(r.subcomponent(4, 1)).or_else(|| non_empty(r.component(1))));

    let raw_expiry = rxa.value(16, 1);
    let lot_expiry = parse_date(raw_expiry);
    if !raw_expiry.trim().is_empty() && lot_expiry.is_none() {
        problems.push(err(
            16,
            ErrorCode::DataTypeError,
            format!("not a valid date: {}", quote(raw_expiry)),
        ));
    }

    let action = non_empty(rxa.value(21, 1)).unwrap_or_else(|| "A".to_string());
    if !matches!(action.as_str(), "A" | "D" | "U") {
        problems.push(err(
            21,
            ErrorCode::TableValueNotFound,
            format!("action code {} is not A, D or U", quote(&action)),
        ));
    }

    if has_error_since(problems, first_new_problem) {
        return None;
    }
    Some(Vaccination {
        order_id: orc.and_then(|o| non_empty(o.value(3, 1))),
        administered_at: administered_at?,
        vaccine_code,
        vaccine_alternate_code,
        amount,
        units: non_empty(rxa.value(7, 1)),
        historical,
        facility,
        lot_number: non_empty(rxa.value(15, 1)),
        lot_expiry,
        manufacturer: rxa.coded(17),
        refusal_reason: rxa.coded(18),
        completion_status: completion_status?,
        action,
        route: None,
        site: None,
        observations: Vec::new(),
    })
}

fn read_observation(obx: &Segment, problems: &mut Vec<Hl7Error>) -> Observation {
    let value_type = obx.value(2, 1).trim().to_string();
    let code = coded_field(obx, 3).unwrap_or_default();
    if code.code.is_empty() {
        problems.push(Hl7Error::warning(
            "OBX",
            obx.sequence(),
            3,
            ErrorCode::RequiredFieldMissing,
            "observation identifier is missing",
        ));
    }
    let value_coded = if matches!(value_type.as_str(), "CE" | "CWE" | "CNE") {
        coded_field(obx, 5)
    } else {
        None
    };
    Observation {
        code,
        sub_id: non_empty(obx.value(4, 1)),
        value: obx.value(5, 1).trim().to_string(),
        value_coded,
        value_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v2::Severity;
    use time::macros::date;

    const MSH: &str =
        "MSH|^~\\&|APP|FAC|RCV|RFAC|20210715101500+0700||VXU^V04^VXU_V04|C1|P|2.5.1|||ER|AL";
    const PID: &str = "PID|1||ID1^^^VNM^NI||Doe^John^Q||19800101|M";
    const RXA: &str =
        "RXA|0|1|20210715||210^AZ^CVX|0.5|mL||00||||||LOT1|20211231|ASZ^AstraZeneca^MVX|||CP|A";

    /// An RXA with sensible defaults, `fields` overriding them.
    fn rxa(fields: &[(usize, &str)]) -> String {
        rxa_with(21, fields)
    }

    /// Like [`rxa`], with `len` positions (for misaligned layouts).
    fn rxa_with(len: usize, fields: &[(usize, &str)]) -> String {
        let mut values = vec![""; len];
        for &(i, v) in [
            (1, "0"),
            (2, "1"),
            (3, "20210715"),
            (5, "210^AZ^CVX"),
            (9, "00"),
        ]
        .iter()
        .chain(fields)
        {
            values[i - 1] = v;
        }
        format!("RXA|{}", values.join("|"))
    }

    fn msg(segments: &[&str]) -> String {
        segments.join("\r")
    }

    fn locations(errors: &[Hl7Error]) -> Vec<(&str, u32, u32, &'static str)> {
        errors
            .iter()
            .map(|e| (e.segment.as_str(), e.sequence, e.field, e.code.code()))
            .collect()
    }

    #[test]
    fn minimal_message() {
        let vxu = parse_vxu(&msg(&[MSH, PID, RXA])).unwrap();
        assert!(vxu.warnings.is_empty(), "{:?}", vxu.warnings);
        assert_eq!(vxu.patient.given_names, "John Q");
        let v = &vxu.vaccinations[0];
        assert_eq!(v.order_id, None);
        assert_eq!(v.cvx(), Some("210"));
        assert_eq!(v.lot_expiry, Some(date!(2021 - 12 - 31)));
        assert_eq!(v.completion_status, CompletionStatus::Complete);
        assert_eq!(vxu.header.profile, None);
    }

    #[test]
    fn header_checks() {
        let cases = [
            ("MSH|^~\\&|A|B|C|D|20210715||ADT^A01|C1|P|2.5.1", 9, "200"),
            ("MSH|^~\\&|A|B|C|D|20210715||VXU^V04||P|2.5.1", 10, "101"),
            ("MSH|^~\\&|A|B|C|D|20210715||VXU^V04|C1|P|2.3.1", 12, "203"),
            ("MSH|^~\\&|A|B|C|D|20210715||VXU^V04|C1|P", 12, "101"),
            ("MSH|^~\\&|A|B|C|D|20210715||", 9, "101"),
        ];
        for (msh, field, code) in cases {
            let errors = parse_vxu(&msg(&[msh, PID, RXA])).unwrap_err();
            assert!(
                locations(&errors).contains(&("MSH", 1, field, code)),
                "{msh}: {errors:?}"
            );
        }
        let vxu = parse_vxu(&msg(&[
            "MSH|^~\\&|A|B|C|D|2021|X|VXU^V04|C1||2.5|||XX",
            PID,
            RXA,
        ]))
        .unwrap();
        assert_eq!(
            locations(&vxu.warnings),
            [
                ("MSH", 1, 11, "101"),
                ("MSH", 1, 7, "102"),
                ("MSH", 1, 15, "103")
            ]
        );
        assert_eq!(vxu.header.processing_id, "P");
    }

    #[test]
    fn patient_checks() {
        let cases = [
            ("PID|1||^^^VNM^NI||Doe^John", 3, "101"),
            ("PID|1||X||", 5, "101"),
            ("PID|1||X||Doe||19801301", 7, "102"),
        ];
        for (pid, field, code) in cases {
            let errors = parse_vxu(&msg(&[MSH, pid, RXA])).unwrap_err();
            assert!(
                locations(&errors).contains(&("PID", 1, field, code)),
                "{pid}: {errors:?}"
            );
        }
        let errors = parse_vxu(&msg(&[MSH, RXA])).unwrap_err();
        assert_eq!(locations(&errors), [("PID", 1, 0, "101")]);
        let errors = parse_vxu(&msg(&[MSH, PID, PID, RXA])).unwrap_err();
        assert_eq!(locations(&errors), [("PID", 2, 0, "100")]);
    }

    #[test]
    fn legal_name_phone_and_address() {
        let pid = "PID|1||X^^^A&1.2&ISO^MR||Alias^Al^^^^^A~Legal^Given^Middle^^^^L||19800101|F|||^^City^ST^123^VNM~x||555-1234~^PRN^PH^^84^912^345678";
        let vxu = parse_vxu(&msg(&[MSH, pid, RXA])).unwrap();
        let p = &vxu.patient;
        assert_eq!(p.family_name, "Legal");
        assert_eq!(p.given_names, "Given Middle");
        assert_eq!(p.identifiers[0].assigning_authority.as_deref(), Some("A"));
        assert_eq!(p.phone.as_deref(), Some("555-1234"));
        let a = p.address.as_ref().unwrap();
        assert_eq!(a.street, None);
        assert_eq!(a.city.as_deref(), Some("City"));
        assert_eq!(a.country.as_deref(), Some("VNM"));

        let pid = "PID|1||X||Doe^^^^^^L||19800101|F|||||^NET^Internet^a@b.c~^PRN^PH^^^208^5551212";
        let vxu = parse_vxu(&msg(&[MSH, pid, RXA])).unwrap();
        assert_eq!(vxu.patient.phone.as_deref(), Some("2085551212"));
        assert_eq!(vxu.patient.given_names, "");
    }

    #[test]
    fn rxa_checks() {
        let cases = [
            (rxa(&[(3, "20211345250000")]), 3, "102"),
            (rxa(&[(3, "")]), 3, "101"),
            (rxa(&[(5, "^AZ^CVX")]), 5, "101"),
            (rxa(&[(16, "20213112")]), 16, "102"),
            (rxa(&[(20, "XX")]), 20, "103"),
            (rxa(&[(21, "Z")]), 21, "103"),
        ];
        for (rxa, field, code) in cases {
            let errors = parse_vxu(&msg(&[MSH, PID, &rxa])).unwrap_err();
            assert!(
                locations(&errors).contains(&("RXA", 1, field, code)),
                "{rxa}: {errors:?}"
            );
        }
    }

    #[test]
    fn rxa_defaults_and_warnings() {
        let rxa1 = rxa(&[
            (5, "NDC1^X^NDC^208^Pfizer^CVX"),
            (6, "999"),
            (9, ""),
            (11, "^^^&2.16.840&ISO"),
        ]);
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa1])).unwrap();
        let v = &vxu.vaccinations[0];
        assert_eq!(v.cvx(), Some("208"));
        assert_eq!(v.amount, None);
        assert_eq!(v.action, "A");
        assert_eq!(v.completion_status, CompletionStatus::Complete);
        assert_eq!(v.facility, None);
        assert!(!v.historical);
        assert_eq!(locations(&vxu.warnings), [("RXA", 1, 9, "101")]);

        let rxa2 = rxa(&[(6, "abc"), (9, "99"), (11, "^^^FAC")]);
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa2])).unwrap();
        assert_eq!(
            locations(&vxu.warnings),
            [("RXA", 1, 6, "102"), ("RXA", 1, 9, "103")]
        );
        assert_eq!(vxu.vaccinations[0].facility.as_deref(), Some("FAC"));
    }

    #[test]
    fn grouping_of_orc_rxa_rxr_obx() {
        let vxu = parse_vxu(&msg(&[
            MSH,
            PID,
            "OBX|1|CE|X^patient level^LN||Y",
            "ORC|RE||O1^FAC",
            RXA,
            "RXR|C28161^IM^NCIT|LD^Left Deltoid^HL70163",
            "OBX|1|CE|30956-7^Vaccine type^LN|1|213^COVID^CVX",
            "NTE|1||note",
            "ZXY|custom",
            "ORC|RE||O2",
            &rxa(&[(9, "01^Historical^NIP001")]),
            "OBX|1|ST|48767-8^Annotation^LN||free \\T\\ text",
        ]))
        .unwrap();
        assert_eq!(vxu.vaccinations.len(), 2);
        let first = &vxu.vaccinations[0];
        assert_eq!(first.order_id.as_deref(), Some("O1"));
        assert_eq!(first.route.as_ref().unwrap().code, "C28161");
        assert_eq!(first.site.as_ref().unwrap().text, "Left Deltoid");
        assert_eq!(first.observations.len(), 1);
        assert_eq!(first.observations[0].value, "213");
        assert_eq!(
            first.observations[0].value_coded.as_ref().unwrap().system,
            "CVX"
        );
        let second = &vxu.vaccinations[1];
        assert_eq!(second.order_id.as_deref(), Some("O2"));
        assert!(second.historical);
        assert_eq!(second.observations[0].value, "free & text");
        assert_eq!(second.observations[0].value_coded, None);
    }

    #[test]
    fn structure_errors() {
        let errors = parse_vxu(&msg(&[MSH, PID, "ORC|RE||O1"])).unwrap_err();
        assert_eq!(locations(&errors), [("RXA", 1, 0, "101")]);
        let errors = parse_vxu(&msg(&[MSH, PID, "ORC|RE||O1", "ORC|RE||O2", RXA])).unwrap_err();
        assert_eq!(locations(&errors), [("RXA", 1, 0, "101")]);
        let errors = parse_vxu(&msg(&[MSH, PID, RXA, "ORC|RE||O2"])).unwrap_err();
        assert_eq!(locations(&errors), [("RXA", 2, 0, "101")]);
        let errors = parse_vxu(&msg(&[MSH, PID, RXA, "pid|x"])).unwrap_err();
        assert_eq!(locations(&errors), [("PID", 1, 0, "100")]);
        let errors = parse_vxu(&msg(&[MSH, PID, RXA, "|x"])).unwrap_err();
        assert_eq!(locations(&errors), [("???", 1, 0, "100")]);
        let errors = parse_vxu(&msg(&[MSH, PID, RXA, MSH])).unwrap_err();
        assert_eq!(locations(&errors), [("MSH", 2, 0, "100")]);
        let vxu = parse_vxu(&msg(&[MSH, PID, "RXR|C28161", RXA])).unwrap();
        assert_eq!(locations(&vxu.warnings), [("RXR", 1, 0, "100")]);
    }

    #[test]
    fn broken_rxa_does_not_cascade() {
        // The RXR/OBX of an unreadable RXA are not reported again.
        let errors = parse_vxu(&msg(&[
            MSH,
            PID,
            &rxa(&[(3, "2021")]),
            "RXR|C28161",
            "OBX|1|CE|||x",
        ]))
        .unwrap_err();
        assert_eq!(locations(&errors), [("RXA", 1, 3, "102")]);
    }

    /// The AstraZeneca layout of the project samples: an extra empty field
    /// after RXA-9, so everything from RXA-10 on sits one position late.
    fn rxa_extra_field(overrides: &[(usize, &str)]) -> String {
        let mut fields = vec![
            (12, "^^^HALONG-CHC"),
            (16, "ABV5678"),
            (17, "20211231"),
            (18, "ASZ^AstraZeneca^MVX"),
            (21, "CP"),
            (22, "A"),
        ];
        fields.extend_from_slice(overrides);
        rxa_with(22, &fields)
    }

    /// The historical-record layout: one field too few (status at 19).
    fn rxa_missing_field(overrides: &[(usize, &str)]) -> String {
        let mut fields = vec![(6, "999"), (9, "01"), (19, "CP"), (20, "A")];
        fields.extend_from_slice(overrides);
        rxa_with(20, &fields)
    }

    fn is_shift_warning(e: &Hl7Error) -> bool {
        (e.segment.as_str(), e.field, e.code, e.severity)
            == ("RXA", 10, ErrorCode::DataTypeError, Severity::Warning)
            && e.message.contains("shifted")
    }

    #[test]
    fn extra_field_after_rxa_9_is_recovered_with_a_warning() {
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa_extra_field(&[])])).unwrap();
        assert_eq!(vxu.warnings.len(), 1, "{:?}", vxu.warnings);
        assert!(is_shift_warning(&vxu.warnings[0]), "{:?}", vxu.warnings);
        assert!(vxu.warnings[0].message.contains("extra empty field"));
        let v = &vxu.vaccinations[0];
        assert_eq!(v.facility.as_deref(), Some("HALONG-CHC"));
        assert_eq!(v.lot_number.as_deref(), Some("ABV5678"));
        assert_eq!(v.lot_expiry, Some(date!(2021 - 12 - 31)));
        assert_eq!(v.manufacturer.as_ref().unwrap().code, "ASZ");
        assert_eq!(v.refusal_reason, None);
        assert_eq!(v.completion_status, CompletionStatus::Complete);
        assert_eq!(v.action, "A");
    }

    #[test]
    fn second_extra_field_before_rxa_20_is_recovered_with_a_warning() {
        // The Sinopharm / Sinovac layout: no manufacturer, and the status
        // and action one position later still (22 and 23).
        let rxa = rxa_with(
            23,
            &[
                (12, "^^^CAMPHA-HOSP"),
                (16, "202107B15"),
                (17, "20220601"),
                (22, "PA"),
                (23, "U"),
            ],
        );
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa])).unwrap();
        assert_eq!(locations(&vxu.warnings), [("RXA", 1, 10, "102")]);
        assert!(vxu.warnings[0]
            .message
            .contains("another extra empty field"));
        let v = &vxu.vaccinations[0];
        assert_eq!(v.facility.as_deref(), Some("CAMPHA-HOSP"));
        assert_eq!(v.lot_number.as_deref(), Some("202107B15"));
        assert_eq!(v.lot_expiry, Some(date!(2022 - 06 - 01)));
        assert_eq!(v.manufacturer, None);
        assert_eq!(v.completion_status, CompletionStatus::PartiallyAdministered);
        assert_eq!(v.action, "U");

        // The single-shift layout is never read as the double one (its
        // position 21 holds the status), and vice versa.
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa_extra_field(&[])])).unwrap();
        assert!(!vxu.warnings[0].message.contains("another"));
    }

    #[test]
    fn missing_field_after_rxa_9_is_recovered_with_a_warning() {
        let vxu = parse_vxu(&msg(&[MSH, PID, &rxa_missing_field(&[])])).unwrap();
        assert_eq!(locations(&vxu.warnings), [("RXA", 1, 10, "102")]);
        assert!(vxu.warnings[0].message.contains("missing"));
        let v = &vxu.vaccinations[0];
        assert!(v.historical);
        assert_eq!(v.completion_status, CompletionStatus::Complete);
        assert_eq!(v.action, "A");
        assert_eq!(v.lot_number, None);

        // Shifted back with a lot and a deferral status.
        let vxu = parse_vxu(&msg(&[
            MSH,
            PID,
            &rxa_missing_field(&[(9, "00"), (10, "^^^FAC"), (14, "L1"), (19, "PA")]),
        ]))
        .unwrap();
        let v = &vxu.vaccinations[0];
        assert_eq!(v.facility.as_deref(), Some("FAC"));
        assert_eq!(v.lot_number.as_deref(), Some("L1"));
        assert_eq!(v.completion_status, CompletionStatus::PartiallyAdministered);
        assert!(is_shift_warning(&vxu.warnings[0]));
    }

    #[test]
    fn errors_before_rxa_10_are_kept_after_recovery() {
        let errors = parse_vxu(&msg(&[
            MSH,
            PID,
            &rxa_extra_field(&[(3, "20211345250000")]),
        ]))
        .unwrap_err();
        assert_eq!(
            locations(&errors),
            [("RXA", 1, 3, "102"), ("RXA", 1, 10, "102")]
        );
        assert!(is_shift_warning(&errors[1]));
        assert_eq!(errors.iter().filter(|e| e.is_error()).count(), 1);
    }

    #[test]
    fn ambiguous_shift_stays_refused() {
        // A refusal (no lot required) with RE at positions 19 and 21 and
        // nothing else after RXA-9. Shifted back, RXA-20 is RE (position
        // 19); shifted forward, RXA-20 is RE (position 21) and RXA-18, the
        // refusal reason, is "RE" (position 19). Both readings pass every
        // check, so neither is chosen.
        let ambiguous = rxa_with(21, &[(19, "RE"), (21, "RE")]);
        let parsed = Message::parse(&msg(&[MSH, &ambiguous])).unwrap();
        for layout in [RxaLayout::ExtraField, RxaLayout::MissingField] {
            let view = RxaView {
                segment: &parsed.segments()[1],
                layout,
            };
            assert!(shifted_reading_is_consistent(view), "{layout:?}");
        }
        let errors = parse_vxu(&msg(&[MSH, PID, &ambiguous])).unwrap_err();
        assert_eq!(locations(&errors), [("RXA", 1, 21, "103")]);
        assert!(!errors.iter().any(is_shift_warning));
    }

    #[test]
    fn inconsistent_shifted_readings_stay_refused() {
        let cases = [
            // The inserted position is not empty.
            rxa_extra_field(&[(10, "^Nurse")]),
            // No lot for a new administration.
            rxa_extra_field(&[(16, "")]),
            // A date, or a coded value, where the lot would be.
            rxa_extra_field(&[(16, "20210101")]),
            rxa_extra_field(&[(16, "20213112")]),
            rxa_extra_field(&[(16, "ABV^5678")]),
            // Manufacturer not in MVX.
            rxa_extra_field(&[(18, "ASZ^AstraZeneca^XYZ")]),
            // A value in RXA-12..14 or a refusal reason for a given dose.
            rxa_extra_field(&[(14, "x")]),
            rxa_extra_field(&[(19, "00^Parental decision^NIP002")]),
            // A second inserted field that is not empty.
            rxa_with(23, &[(16, "L1"), (21, "x"), (22, "CP"), (23, "A")]),
            // Expiry or status that is not valid either way.
            rxa_extra_field(&[(17, "2021")]),
            rxa_extra_field(&[(22, "X")]),
            // Shifted back but with no evidence (no lot, status implied).
            rxa_missing_field(&[(19, "")]),
        ];
        for rxa in cases {
            let result = parse_vxu(&msg(&[MSH, PID, &rxa]));
            let errors = result.expect_err(&rxa);
            assert!(!errors.iter().any(is_shift_warning), "{rxa}: {errors:?}");
            assert!(
                errors.iter().any(|e| e.is_error() && e.field >= 10),
                "{rxa}: {errors:?}"
            );
        }
    }

    #[test]
    fn correct_rxa_is_never_recovered() {
        // Valid as sent: no shifted reading is even tried.
        for rxa in [
            RXA.to_string(),
            rxa(&[(15, "LOT1"), (20, "NA")]),
            rxa_with(22, &[(15, "L"), (21, "A"), (22, "20210715")]),
        ] {
            let vxu = parse_vxu(&msg(&[MSH, PID, &rxa])).unwrap();
            assert!(vxu.warnings.is_empty(), "{rxa}: {:?}", vxu.warnings);
        }
        // Correctly laid out but with one bad value after RXA-9: the error
        // stays where it is, it is not "explained" by a shift.
        for (rxa, field, code) in [
            (rxa(&[(15, "LOT1"), (16, "20213112")]), 16, "102"),
            (rxa(&[(15, "LOT1"), (16, "2021-12-31")]), 16, "102"),
            (
                rxa(&[(15, "LOT1"), (17, "ASZ^^MVX"), (20, "XX"), (21, "A")]),
                20,
                "103",
            ),
            (rxa(&[(15, "LOT1"), (20, "CP"), (21, "Z")]), 21, "103"),
        ] {
            let errors = parse_vxu(&msg(&[MSH, PID, &rxa])).unwrap_err();
            assert_eq!(locations(&errors), [("RXA", 1, field, code)], "{rxa}");
        }
    }
}
