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
use super::message::{Message, Repetition, Segment};

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

/// Parses and validates a VXU^V04, with today's (UTC) date as the limit
/// for dates of birth and of administration (see [`parse_vxu_on`]).
pub fn parse_vxu(text: &str) -> Result<Vxu, Vec<Hl7Error>> {
    parse_vxu_on(text, time::OffsetDateTime::now_utc().date())
}

/// Parses and validates a VXU^V04 received on `today`.
///
/// Every rule is applied to every message: the structure, each field's
/// type and table, a date of birth (required), no date of birth or of
/// administration after `today` (one day of tolerance: the sender's local
/// date may be ahead of UTC) and no administration before birth.
///
/// `Err` is returned when at least one problem of severity E was found; the
/// vector then holds every problem found (errors and warnings, in message
/// order), so an ACK can report them all. Never panics.
pub fn parse_vxu_on(text: &str, today: Date) -> Result<Vxu, Vec<Hl7Error>> {
    let message = Message::parse(text).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    let header = read_header(&message, &mut problems);
    let latest = today.next_day().unwrap_or(today);
    let body = read_body(&message, latest, &mut problems);
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
    let (message_code, trigger_event) = read_message_type(msh, problems);
    let control_id = msh.value(10, 1).trim().to_string();
    if control_id.is_empty() {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            10,
            ErrorCode::RequiredFieldMissing,
            "message control id is required",
        ));
    }
    let version = read_version(msh, problems);
    let processing_id = read_processing_id(msh, problems);
    let timestamp = read_message_time(msh, problems);
    let accept_ack_type = read_ack_type(msh, 15, problems);
    let application_ack_type = read_ack_type(msh, 16, problems);

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
        processing_id,
        version,
        accept_ack_type,
        application_ack_type,
        profile: non_empty(msh.value(21, 1)),
    })
}

/// MSH-9: the message code and trigger event, which must be VXU^V04.
fn read_message_type(msh: &Segment, problems: &mut Vec<Hl7Error>) -> (String, String) {
    let message_code = msh.value(9, 1).trim().to_string();
    let trigger_event = msh.value(9, 2).trim().to_string();
    if message_code.is_empty() {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            9,
            ErrorCode::RequiredFieldMissing,
            "message type is required (VXU^V04)",
        ));
    } else if message_code != "VXU" || trigger_event != "V04" {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            9,
            ErrorCode::UnsupportedMessageType,
            format!(
                "unsupported message type {}^{}: only VXU^V04 is accepted",
                quote(&message_code),
                quote(&trigger_event)
            ),
        ));
    }
    (message_code, trigger_event)
}

/// MSH-12: the version id, 2.5.1 (or 2.5).
fn read_version(msh: &Segment, problems: &mut Vec<Hl7Error>) -> String {
    let version = msh.value(12, 1).trim().to_string();
    if version.is_empty() {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            12,
            ErrorCode::RequiredFieldMissing,
            "version id is required (2.5.1)",
        ));
    } else if version != "2.5.1" && version != "2.5" {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            12,
            ErrorCode::UnsupportedVersionId,
            format!("unsupported version {}: expected 2.5.1", quote(&version)),
        ));
    }
    version
}

/// MSH-11: the processing id, P (production) when missing; a value outside
/// P, T, D is kept with a warning.
fn read_processing_id(msh: &Segment, problems: &mut Vec<Hl7Error>) -> String {
    let processing_id = msh.value(11, 1).trim().to_string();
    if processing_id.is_empty() {
        problems.push(Hl7Error::warning(
            "MSH",
            1,
            11,
            ErrorCode::RequiredFieldMissing,
            "processing id is missing; P (production) assumed",
        ));
        return "P".to_string();
    }
    if !matches!(processing_id.as_str(), "P" | "T" | "D") {
        problems.push(Hl7Error::warning(
            "MSH",
            1,
            11,
            ErrorCode::TableValueNotFound,
            format!("processing id {} is not P, T or D", quote(&processing_id)),
        ));
    }
    processing_id
}

/// MSH-7: the date/time of the message (a missing or unreadable one is
/// only a warning).
fn read_message_time(msh: &Segment, problems: &mut Vec<Hl7Error>) -> Option<Hl7DateTime> {
    let raw_time = msh.value(7, 1);
    let timestamp = parse_datetime(raw_time);
    if raw_time.trim().is_empty() {
        problems.push(Hl7Error::warning(
            "MSH",
            1,
            7,
            ErrorCode::RequiredFieldMissing,
            "date/time of message is missing",
        ));
    } else if timestamp.is_none() {
        problems.push(Hl7Error::warning(
            "MSH",
            1,
            7,
            ErrorCode::DataTypeError,
            format!("not a valid date/time: {}", quote(raw_time)),
        ));
    }
    timestamp
}

/// MSH-15 or MSH-16: an acknowledgment type, kept with a warning when it is
/// not in table 0155.
fn read_ack_type(msh: &Segment, field: usize, problems: &mut Vec<Hl7Error>) -> Option<String> {
    let value = non_empty(msh.value(field, 1))?;
    if !matches!(value.as_str(), "AL" | "NE" | "ER" | "SU") {
        problems.push(Hl7Error::warning(
            "MSH",
            1,
            field as u32,
            ErrorCode::TableValueNotFound,
            format!(
                "acknowledgment type {} is not AL, NE, ER or SU",
                quote(&value)
            ),
        ));
    }
    Some(value)
}

/// Walks the segments after MSH, grouping ORC/RXA/RXR/OBX into vaccinations.
fn read_body(
    message: &Message,
    latest: Date,
    problems: &mut Vec<Hl7Error>,
) -> Option<(Hl7Patient, Vec<Vaccination>)> {
    let mut body = BodyReader::new(latest);
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
        body.read(segment, problems);
    }
    body.finish(problems)
}

/// What the walk over the body has read so far.
struct BodyReader<'m> {
    latest: Date,
    patient: Option<Hl7Patient>,
    pid_seen: bool,
    birth_date: Option<Date>,
    vaccinations: Vec<Vaccination>,
    rxa_seen: u32,
    /// The ORC waiting for its RXA.
    pending_orc: Option<&'m Segment>,
    /// Whether RXR/OBX segments belong to the last vaccination: false before
    /// the first RXA and after an RXA that could not be read.
    in_group: bool,
}

impl<'m> BodyReader<'m> {
    fn new(latest: Date) -> Self {
        BodyReader {
            latest,
            patient: None,
            pid_seen: false,
            birth_date: None,
            vaccinations: Vec::new(),
            rxa_seen: 0,
            pending_orc: None,
            in_group: false,
        }
    }

    /// Takes one segment (with a valid id) into the walk.
    fn read(&mut self, segment: &'m Segment, problems: &mut Vec<Hl7Error>) {
        match segment.id() {
            "MSH" => problems.push(Hl7Error::error(
                "MSH",
                segment.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                "only one message per request: a second MSH was found",
            )),
            "PID" if self.pid_seen => problems.push(Hl7Error::error(
                "PID",
                segment.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                "a VXU carries one patient: a second PID was found",
            )),
            "PID" => {
                self.pid_seen = true;
                self.patient = read_patient(segment, self.latest, problems);
                self.birth_date = self.patient.as_ref().and_then(|p| p.birth_date);
            }
            "ORC" => {
                if self.pending_orc.is_some() {
                    problems.push(orc_without_rxa(self.rxa_seen.saturating_add(1)));
                }
                self.pending_orc = Some(segment);
                self.in_group = false;
            }
            "RXA" => self.read_rxa(segment, problems),
            "RXR" => self.read_rxr(segment, problems),
            "OBX" => {
                if let (true, Some(v)) = (self.in_group, self.vaccinations.last_mut()) {
                    v.observations.push(read_observation(segment, problems));
                }
                // Otherwise a patient-level observation, outside our scope.
            }
            _ => {}
        }
    }

    /// An RXA opens a vaccination, with the ORC before it if any.
    fn read_rxa(&mut self, rxa: &Segment, problems: &mut Vec<Hl7Error>) {
        self.rxa_seen = self.rxa_seen.saturating_add(1);
        let orc = self.pending_orc.take();
        let dates = DateLimits {
            birth: self.birth_date,
            latest: self.latest,
        };
        match read_vaccination(orc, rxa, dates, problems) {
            Some(v) => {
                self.vaccinations.push(v);
                self.in_group = true;
            }
            None => self.in_group = false,
        }
    }

    /// An RXR gives the route and site of the vaccination it follows.
    fn read_rxr(&mut self, rxr: &Segment, problems: &mut Vec<Hl7Error>) {
        match self.vaccinations.last_mut() {
            Some(v) if self.in_group && v.route.is_none() && v.site.is_none() => {
                v.route = coded_field(rxr, 1);
                v.site = coded_field(rxr, 2);
            }
            _ if self.in_group || self.rxa_seen == 0 => problems.push(Hl7Error::warning(
                "RXR",
                rxr.sequence(),
                0,
                ErrorCode::SegmentSequenceError,
                "RXR does not follow an RXA (or repeats); ignored",
            )),
            // Belongs to an RXA already reported as an error.
            _ => {}
        }
    }

    /// Checks the required segments once the walk is over; the patient
    /// and the vaccinations when the PID could be read.
    fn finish(self, problems: &mut Vec<Hl7Error>) -> Option<(Hl7Patient, Vec<Vaccination>)> {
        if !self.pid_seen {
            problems.push(Hl7Error::error(
                "PID",
                1,
                0,
                ErrorCode::RequiredFieldMissing,
                "required segment PID (patient identification) is missing",
            ));
        }
        if self.rxa_seen == 0 {
            problems.push(Hl7Error::error(
                "RXA",
                1,
                0,
                ErrorCode::RequiredFieldMissing,
                "required segment RXA (pharmacy/treatment administration) is missing",
            ));
        } else if self.pending_orc.is_some() {
            problems.push(orc_without_rxa(self.rxa_seen.saturating_add(1)));
        }
        Some((self.patient?, self.vaccinations))
    }
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

/// What a date of administration must fall between.
#[derive(Clone, Copy)]
struct DateLimits {
    /// The patient's date of birth, when known.
    birth: Option<Date>,
    /// The last acceptable date (today, with a day of tolerance).
    latest: Date,
}

fn read_patient(pid: &Segment, latest: Date, problems: &mut Vec<Hl7Error>) -> Option<Hl7Patient> {
    let seq = pid.sequence();
    let first_new_problem = problems.len();

    let identifiers = read_identifiers(pid, 3);
    if identifiers.is_empty() {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            3,
            ErrorCode::RequiredFieldMissing,
            "patient identifier list is required",
        ));
    }
    let (family_name, given_names) = read_name(legal_name(pid));
    check_name(seq, &family_name, &given_names, problems);
    let birth_date = read_birth_date(pid, latest, problems);
    let sex = read_sex(pid, problems);

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

/// A CX field's repetitions that carry an id (PID-3, QPD-3).
pub(super) fn read_identifiers(segment: &Segment, field: usize) -> Vec<PatientIdentifier> {
    segment
        .field(field)
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
        .collect()
}

/// PID-5: the legal name (XPN-7 = L) when several are given, else the first.
fn legal_name(pid: &Segment) -> Option<&Repetition> {
    let names = pid.field(5).map(|f| f.repetitions()).unwrap_or_default();
    names
        .iter()
        .find(|r| r.component(7) == "L")
        .or_else(|| names.iter().find(|r| !r.is_empty()))
}

/// An XPN's family name and given names (first and middle, joined).
pub(super) fn read_name(name: Option<&Repetition>) -> (String, String) {
    let family_name = name.map_or("", |r| r.subcomponent(1, 1)).trim().to_string();
    let given_names = name
        .map(|r| format!("{} {}", r.component(2).trim(), r.component(3).trim()))
        .unwrap_or_default()
        .trim()
        .to_string();
    (family_name, given_names)
}

/// PID-5: a name is required; an empty family name is only a warning.
fn check_name(seq: u32, family_name: &str, given_names: &str, problems: &mut Vec<Hl7Error>) {
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
}

/// PID-7: the date of birth, required, a date, and not after `latest`.
fn read_birth_date(pid: &Segment, latest: Date, problems: &mut Vec<Hl7Error>) -> Option<Date> {
    let seq = pid.sequence();
    let raw_birth = pid.value(7, 1);
    let birth_date = parse_date(raw_birth);
    if raw_birth.trim().is_empty() {
        // A dose registry places each dose by the person's age.
        problems.push(Hl7Error::error(
            "PID",
            seq,
            7,
            ErrorCode::RequiredFieldMissing,
            "date of birth is required",
        ));
    } else if birth_date.is_none() {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            7,
            ErrorCode::DataTypeError,
            format!("not a valid date: {}", quote(raw_birth)),
        ));
    } else if birth_date.is_some_and(|d| d > latest) {
        problems.push(Hl7Error::error(
            "PID",
            seq,
            7,
            ErrorCode::DataTypeError,
            format!("date of birth {} is in the future", quote(raw_birth)),
        ));
    }
    birth_date
}

/// PID-8: the administrative sex, kept with a warning when it is not in
/// table 0001.
fn read_sex(pid: &Segment, problems: &mut Vec<Hl7Error>) -> Option<String> {
    let sex = non_empty(pid.value(8, 1));
    if let Some(s) = &sex {
        if !matches!(s.as_str(), "M" | "F" | "U" | "O" | "A" | "N") {
            problems.push(Hl7Error::warning(
                "PID",
                pid.sequence(),
                8,
                ErrorCode::TableValueNotFound,
                format!("administrative sex {} is not in table 0001", quote(s)),
            ));
        }
    }
    sex
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

/// Reads an RXA laid out as the CDC guide says (RXA-11 administering
/// location, RXA-15 lot, RXA-16 expiry, RXA-17 manufacturer, RXA-20
/// completion status, RXA-21 action).
fn read_vaccination(
    orc: Option<&Segment>,
    rxa: &Segment,
    dates: DateLimits,
    problems: &mut Vec<Hl7Error>,
) -> Option<Vaccination> {
    let first_new_problem = problems.len();
    let administered_at = read_administered_at(rxa, dates, problems);
    let (vaccine_code, vaccine_alternate_code) = read_vaccine_codes(rxa, problems);
    let amount = read_amount(rxa, problems);
    let completion_status = read_completion_status(rxa, problems);
    // The guide requires the source only for doses given (CP/PA), not for
    // deferrals.
    let dose_given = matches!(
        completion_status,
        Some(CompletionStatus::Complete | CompletionStatus::PartiallyAdministered)
    );
    let historical = read_historical(rxa, dose_given, problems);
    let facility = rxa
        .first(11)
        .and_then(|r| non_empty(r.subcomponent(4, 1)).or_else(|| non_empty(r.component(1))));
    let lot_expiry = read_lot_expiry(rxa, problems);
    let action = read_action(rxa, problems);
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
        manufacturer: coded_field(rxa, 17),
        refusal_reason: coded_field(rxa, 18),
        completion_status: completion_status?,
        action,
        route: None,
        site: None,
        observations: Vec::new(),
    })
}

fn rxa_error(rxa: &Segment, field: u32, code: ErrorCode, text: String) -> Hl7Error {
    Hl7Error::error("RXA", rxa.sequence(), field, code, text)
}

fn rxa_warning(rxa: &Segment, field: u32, code: ErrorCode, text: String) -> Hl7Error {
    Hl7Error::warning("RXA", rxa.sequence(), field, code, text)
}

/// RXA-3: when the dose was given; required, not in the future and not
/// before the date of birth.
fn read_administered_at(
    rxa: &Segment,
    dates: DateLimits,
    problems: &mut Vec<Hl7Error>,
) -> Option<Hl7DateTime> {
    let raw_time = rxa.value(3, 1);
    let administered_at = parse_datetime(raw_time);
    if raw_time.trim().is_empty() {
        problems.push(rxa_error(
            rxa,
            3,
            ErrorCode::RequiredFieldMissing,
            "date/time of administration is required".into(),
        ));
    } else if administered_at.is_none() {
        problems.push(rxa_error(
            rxa,
            3,
            ErrorCode::DataTypeError,
            format!("not a valid date/time: {}", quote(raw_time)),
        ));
    } else if administered_at.is_some_and(|at| at.date > dates.latest) {
        problems.push(rxa_error(
            rxa,
            3,
            ErrorCode::DataTypeError,
            format!(
                "date of administration {} is in the future",
                quote(raw_time)
            ),
        ));
    } else if let Some(birth) = dates
        .birth
        .filter(|b| administered_at.is_some_and(|at| at.date < *b))
    {
        problems.push(rxa_error(
            rxa,
            3,
            ErrorCode::DataTypeError,
            format!(
                "date of administration {} is before the date of birth ({birth})",
                quote(raw_time)
            ),
        ));
    }
    administered_at
}

/// RXA-5: the vaccine's code (required) and its alternate; a CVX code is
/// one to three digits, anything else names no vaccine.
fn read_vaccine_codes(rxa: &Segment, problems: &mut Vec<Hl7Error>) -> (Coded, Option<Coded>) {
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
        problems.push(rxa_error(
            rxa,
            5,
            ErrorCode::RequiredFieldMissing,
            "administered vaccine code (CVX) is required".into(),
        ));
    }
    for c in std::iter::once(&vaccine_code).chain(vaccine_alternate_code.as_ref()) {
        let digits = (1..=3).contains(&c.code.len()) && c.code.bytes().all(|b| b.is_ascii_digit());
        if c.system.eq_ignore_ascii_case("CVX") && !c.code.is_empty() && !digits {
            problems.push(rxa_error(
                rxa,
                5,
                ErrorCode::TableValueNotFound,
                format!("{} is not a CVX code", quote(&c.code)),
            ));
        }
    }
    (vaccine_code, vaccine_alternate_code)
}

/// RXA-6: the amount given (999: unknown); a warning when not a number.
fn read_amount(rxa: &Segment, problems: &mut Vec<Hl7Error>) -> Option<String> {
    let amount = non_empty(rxa.value(6, 1)).filter(|a| a != "999");
    if let Some(a) = &amount {
        if a.parse::<f64>().map_or(true, |n| !n.is_finite() || n < 0.0) {
            problems.push(rxa_warning(
                rxa,
                6,
                ErrorCode::DataTypeError,
                format!("administered amount is not a number: {}", quote(a)),
            ));
        }
    }
    amount
}

/// RXA-20: CP, PA, NA or RE.
fn read_completion_status(rxa: &Segment, problems: &mut Vec<Hl7Error>) -> Option<CompletionStatus> {
    let raw_status = rxa.value(20, 1).trim();
    let completion_status = CompletionStatus::from_code(raw_status);
    if completion_status.is_none() {
        problems.push(rxa_error(
            rxa,
            20,
            ErrorCode::TableValueNotFound,
            format!(
                "completion status {} is not CP, PA, NA or RE",
                quote(raw_status)
            ),
        ));
    }
    completion_status
}

/// RXA-9, table NIP001: 00 new record; 01–08 historical from various
/// sources. Missing (for a dose given) or unknown: a warning, and a new
/// record assumed.
fn read_historical(rxa: &Segment, dose_given: bool, problems: &mut Vec<Hl7Error>) -> bool {
    match rxa.value(9, 1).trim() {
        "00" => false,
        "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" => true,
        "" => {
            if dose_given {
                problems.push(rxa_warning(
                    rxa,
                    9,
                    ErrorCode::RequiredFieldMissing,
                    "information source is missing; new record assumed".into(),
                ));
            }
            false
        }
        other => {
            problems.push(rxa_warning(
                rxa,
                9,
                ErrorCode::TableValueNotFound,
                format!(
                    "information source {} is not in table NIP001; new record assumed",
                    quote(other)
                ),
            ));
            false
        }
    }
}

/// RXA-16: the lot's expiry, when given.
fn read_lot_expiry(rxa: &Segment, problems: &mut Vec<Hl7Error>) -> Option<Date> {
    let raw_expiry = rxa.value(16, 1);
    let lot_expiry = parse_date(raw_expiry);
    if !raw_expiry.trim().is_empty() && lot_expiry.is_none() {
        problems.push(rxa_error(
            rxa,
            16,
            ErrorCode::DataTypeError,
            format!("not a valid date: {}", quote(raw_expiry)),
        ));
    }
    lot_expiry
}

/// RXA-21: A (add, the default), D (delete) or U (update).
fn read_action(rxa: &Segment, problems: &mut Vec<Hl7Error>) -> String {
    let action = non_empty(rxa.value(21, 1)).unwrap_or_else(|| "A".to_string());
    if !matches!(action.as_str(), "A" | "D" | "U") {
        problems.push(rxa_error(
            rxa,
            21,
            ErrorCode::TableValueNotFound,
            format!("action code {} is not A, D or U", quote(&action)),
        ));
    }
    action
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

    /// Like [`rxa`], with `len` positions.
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
            ("PID|1||^^^VNM^NI||Doe^John||19800101", 3, "101"),
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

    /// Every date rule applies to every message, whatever else it holds:
    /// a missing, impossible or future birth date, a future administration
    /// or one before birth are errors located on their field.
    #[test]
    fn date_rules_apply_to_every_message() {
        let today = date!(2021 - 07 - 20);
        let check = |pid: &str, rxa: &str| {
            parse_vxu_on(&msg(&[MSH, pid, rxa]), today)
                .map(|_| Vec::new())
                .unwrap_or_else(|e| {
                    locations(&e)
                        .into_iter()
                        .map(|(s, q, f, c)| (s.to_string(), q, f, c))
                        .collect()
                })
        };
        let at = |s: &str, f: u32, c: &'static str| vec![(s.to_string(), 1, f, c)];
        assert_eq!(check("PID|1||X^^^^MR||Doe^J||", RXA), at("PID", 7, "101"));
        assert_eq!(
            check("PID|1||X^^^^MR||Doe^J||20210230", RXA),
            at("PID", 7, "102")
        );
        assert_eq!(
            check("PID|1||X^^^^MR||Doe^J||20210901", RXA),
            at("PID", 7, "102")
        );
        // Even with a vaccine outside any catalogue, the dates are checked.
        let unknown = rxa(&[(5, "48^HIB^CVX"), (3, "20310101")]);
        assert_eq!(check(PID, &unknown), at("RXA", 3, "102"));
        let before_birth = rxa(&[(3, "19790101")]);
        assert_eq!(check(PID, &before_birth), at("RXA", 3, "102"));
        // The sender's local date may be a day ahead of UTC.
        assert_eq!(check(PID, &rxa(&[(3, "20210721080000+0700")])), []);
        assert_eq!(check(PID, &rxa(&[(3, "20210722")])), at("RXA", 3, "102"));
        assert_eq!(
            check("PID|1||X||Doe^J||20210721", &rxa(&[(3, "20210721")])),
            []
        );
        // Codes in the CVX system are 1 to 3 digits.
        assert_eq!(
            check(PID, &rxa(&[(5, "XXX^Unknown^CVX")])),
            at("RXA", 5, "103")
        );
        assert_eq!(
            check(PID, &rxa(&[(5, "00006-1101-99^X^NDC^XXX^Y^CVX")])),
            at("RXA", 5, "103")
        );
        assert_eq!(check(PID, &rxa(&[(5, "03^MMR^CVX")])), []);
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

    #[test]
    fn values_after_rxa_9_are_read_where_the_guide_puts_them() {
        for rxa in [
            RXA.to_string(),
            rxa(&[(15, "LOT1"), (20, "NA")]),
            rxa_with(22, &[(15, "L"), (21, "A"), (22, "20210715")]),
        ] {
            let vxu = parse_vxu(&msg(&[MSH, PID, &rxa])).unwrap();
            assert!(vxu.warnings.is_empty(), "{rxa}: {:?}", vxu.warnings);
        }
        // One bad value after RXA-9: the error is reported where it is.
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
