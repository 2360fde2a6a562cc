//! QBP^Q11 queries and their RSP^K11 answers, as the CDC Implementation
//! Guide for Immunization Messaging lays them out: Z34 "Request
//! Immunization History" (answered with profile Z32: the person and their
//! vaccinations) and Z44 "Request Evaluated History and Forecast"
//! (answered with Z42: the same, then the vaccines due next with their
//! dates). The query names the person by identifiers (QPD-3), name
//! (QPD-4), date of birth (QPD-6) and sex (QPD-7).

use time::Date;

use super::ack::{ack_context, AckContext};
use super::datetime::parse_date;
use super::error::{ErrorCode, Hl7Error};
use super::message::{escape, Delimiters, Message, Segment};
use super::vxu::{read_identifiers, read_name, PatientIdentifier};

/// Which answer the query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryProfile {
    /// Z34: the immunization history.
    History,
    /// Z44: the evaluated history and the forecast.
    Forecast,
}

impl QueryProfile {
    /// The query name (QPD-1 / QAK-3).
    pub fn query_name(&self) -> &'static str {
        match self {
            QueryProfile::History => "Z34^Request Immunization History^CDCPHINVS",
            QueryProfile::Forecast => "Z44^Request Evaluated History and Forecast^CDCPHINVS",
        }
    }

    /// The response profile (MSH-21 of the RSP).
    pub fn response_profile(&self) -> &'static str {
        match self {
            QueryProfile::History => "Z32^CDCPHINVS",
            QueryProfile::Forecast => "Z42^CDCPHINVS",
        }
    }
}

/// A QBP^Q11 query, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub context: AckContext,
    pub profile: QueryProfile,
    /// QPD-2, echoed in QAK-1.
    pub query_tag: String,
    /// The QPD segment as received (re-encoded), echoed in the answer.
    pub qpd: String,
    /// QPD-3 repetitions with an id.
    pub identifiers: Vec<PatientIdentifier>,
    /// QPD-4 family name and given names.
    pub family_name: String,
    pub given_names: String,
    /// QPD-6.
    pub birth_date: Option<Date>,
    /// QPD-7 (M, F, U).
    pub sex: Option<String>,
    /// RCP-2.1: how many persons the sender takes at most.
    pub limit: Option<u32>,
}

/// Whether `text` is a query (MSH-9 QBP), not a record update.
pub fn is_query(text: &str) -> bool {
    match Message::parse(text) {
        Ok(m) => m
            .segments()
            .first()
            .is_some_and(|msh| msh.value(9, 1).trim() == "QBP"),
        Err(_) => false,
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Reads a QBP^Q11 (Z34 or Z44). Every problem is located; a query that
/// names nobody (no identifier, and not a name with a date of birth) is an
/// error at QPD-3.
pub fn parse_query(text: &str) -> Result<Query, Vec<Hl7Error>> {
    let message = Message::parse(text).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    let context = ack_context(text);
    let Some(msh) = message.segments().first() else {
        return Err(vec![Hl7Error::error(
            "MSH",
            1,
            0,
            ErrorCode::SegmentSequenceError,
            "no MSH segment",
        )]);
    };
    check_header(msh, &context, &mut problems);
    let Some(qpd) = message.segment("QPD") else {
        problems.push(Hl7Error::error(
            "QPD",
            1,
            0,
            ErrorCode::SegmentSequenceError,
            "a query needs its QPD segment",
        ));
        return Err(problems);
    };
    let profile = read_profile(qpd, &mut problems);
    let query_tag = qpd.value(2, 1).trim().to_string();
    if query_tag.is_empty() {
        problems.push(Hl7Error::error(
            "QPD",
            1,
            2,
            ErrorCode::RequiredFieldMissing,
            "QPD-2 query tag is required",
        ));
    }
    let identifiers = read_identifiers(qpd, 3);
    let (family_name, given_names) = read_name(qpd.first(4));
    let dob_text = qpd.value(6, 1).trim();
    let birth_date = read_birth_date(dob_text, &mut problems);
    if identifiers.is_empty() && (family_name.is_empty() || dob_text.is_empty()) {
        problems.push(Hl7Error::error(
            "QPD",
            1,
            3,
            ErrorCode::RequiredFieldMissing,
            "name the person: an identifier (QPD-3), or a name (QPD-4) and a date of birth (QPD-6)",
        ));
    }
    let limit = message
        .segment("RCP")
        .and_then(|rcp| rcp.value(2, 1).trim().parse::<u32>().ok());
    if problems.iter().any(Hl7Error::is_error) {
        return Err(problems);
    }
    Ok(Query {
        context,
        profile: profile.unwrap_or(QueryProfile::History),
        query_tag,
        qpd: encode_segment(qpd),
        identifiers,
        family_name,
        given_names,
        birth_date,
        sex: non_empty(qpd.value(7, 1)),
        limit,
    })
}

/// Checks MSH: a QBP^Q11 with a control id, in version 2.5.1 (or 2.5).
fn check_header(msh: &Segment, context: &AckContext, problems: &mut Vec<Hl7Error>) {
    if msh.value(9, 1).trim() != "QBP" || msh.value(9, 2).trim() != "Q11" {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            9,
            ErrorCode::UnsupportedMessageType,
            "only QBP^Q11 queries are answered",
        ));
    }
    if context.control_id.is_empty() {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            10,
            ErrorCode::RequiredFieldMissing,
            "message control id is required",
        ));
    }
    if !matches!(context.version.as_str(), "2.5.1" | "2.5") {
        problems.push(Hl7Error::error(
            "MSH",
            1,
            12,
            ErrorCode::UnsupportedVersionId,
            "version 2.5.1 is expected",
        ));
    }
}

/// QPD-1: which query is asked (None, with the problem noted, when it is
/// missing or not one we answer).
fn read_profile(qpd: &Segment, problems: &mut Vec<Hl7Error>) -> Option<QueryProfile> {
    match qpd.value(1, 1).trim() {
        "Z34" => Some(QueryProfile::History),
        "Z44" => Some(QueryProfile::Forecast),
        "" => {
            problems.push(Hl7Error::error(
                "QPD",
                1,
                1,
                ErrorCode::RequiredFieldMissing,
                "QPD-1 names the query: Z34 (history) or Z44 (forecast)",
            ));
            None
        }
        other => {
            problems.push(Hl7Error::error(
                "QPD",
                1,
                1,
                ErrorCode::TableValueNotFound,
                format!("query {other} is not answered: Z34 (history) or Z44 (forecast)"),
            ));
            None
        }
    }
}

/// QPD-6: the date of birth, when given (a text that is not a date is a
/// problem).
fn read_birth_date(dob_text: &str, problems: &mut Vec<Hl7Error>) -> Option<Date> {
    if dob_text.is_empty() {
        return None;
    }
    let date = parse_date(dob_text);
    if date.is_none() {
        problems.push(Hl7Error::error(
            "QPD",
            1,
            6,
            ErrorCode::DataTypeError,
            format!("'{dob_text}' is not a date (YYYYMMDD)"),
        ));
    }
    date
}

/// A segment re-encoded with the standard delimiters.
fn encode_segment(segment: &Segment) -> String {
    let d = Delimiters::default();
    let mut out = segment.id().to_string();
    for n in 1..=segment.field_count() {
        out.push('|');
        let reps: Vec<String> = segment
            .field(n)
            .map(|f| f.repetitions())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                r.components()
                    .iter()
                    .map(|c| {
                        c.subcomponents()
                            .iter()
                            .map(|s| escape(s, &d))
                            .collect::<Vec<_>>()
                            .join("&")
                    })
                    .collect::<Vec<_>>()
                    .join("^")
                    .trim_end_matches('^')
                    .to_string()
            })
            .collect();
        out.push_str(&reps.join("~"));
    }
    out.trim_end_matches('|').to_string()
}

/// QAK-2: what the query found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// OK: one person, answered.
    Found,
    /// NF: nobody.
    NotFound,
    /// TM: more persons than the query may be answered with.
    TooMany,
    /// AE: the query has errors.
    Error,
    /// AR: the query cannot be read.
    Reject,
}

impl QueryStatus {
    pub fn code(&self) -> &'static str {
        match self {
            QueryStatus::Found => "OK",
            QueryStatus::NotFound => "NF",
            QueryStatus::TooMany => "TM",
            QueryStatus::Error => "AE",
            QueryStatus::Reject => "AR",
        }
    }

    fn msa(&self) -> &'static str {
        match self {
            QueryStatus::Error => "AE",
            QueryStatus::Reject => "AR",
            _ => "AA",
        }
    }
}

/// The person an answer is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredPatient {
    /// (id, assigning authority, HL7 table 0203 type) for PID-3.
    pub identifiers: Vec<(String, String, String)>,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: Date,
    /// M, F, U.
    pub sex: String,
}

/// One vaccination of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredVaccination {
    pub cvx: String,
    pub cvx_text: String,
    pub date: Date,
    pub lot_number: Option<String>,
    /// The administering site (RXA-11.4).
    pub facility: Option<String>,
    /// Reported from elsewhere (RXA-9 01) rather than given here (00).
    pub historical: bool,
    /// The record's id, as ORC-3.
    pub id: String,
}

/// One vaccine due next (Z42 forecast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub cvx: String,
    pub cvx_text: String,
    /// Dose number in the series.
    pub dose_number: u32,
    pub due: Date,
    pub earliest: Date,
}

fn hl7_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month() as u8, d.day())
}

/// Builds the RSP^K11 for `query` (or for an unreadable query: `context`
/// only, `query` None). Segments separated by CR.
#[allow(clippy::too_many_arguments)]
pub fn rsp_k11(
    context: &AckContext,
    query: Option<&Query>,
    status: QueryStatus,
    errors: &[Hl7Error],
    patient: Option<&AnsweredPatient>,
    vaccinations: &[AnsweredVaccination],
    forecasts: &[Forecast],
    message_control_id: &str,
    now: &str,
) -> String {
    let d = Delimiters::default();
    let profile = query.map_or(QueryProfile::History, |q| q.profile);
    let mut segments = response_header(context, profile, status, errors, message_control_id, now);
    let tag = query.map_or(String::new(), |q| escape(&q.query_tag, &d));
    segments.push(format!(
        "QAK|{tag}|{}|{}",
        status.code(),
        profile.query_name()
    ));
    if let Some(q) = query {
        segments.push(q.qpd.clone());
    }
    let Some(p) = patient.filter(|_| status == QueryStatus::Found) else {
        return segments.join("\r");
    };
    segments.push(pid_segment(p, &d));
    push_vaccinations(&mut segments, vaccinations, &d);
    if profile == QueryProfile::Forecast && !forecasts.is_empty() {
        push_forecast(&mut segments, forecasts, now, &d);
    }
    segments.join("\r")
}

/// MSH, MSA and ERR of the answer. MSH-3..6 echo the query's, sender and
/// receiver swapped; the ACK builder does the same, so its segments are
/// reused, MSH retyped as an RSP^K11 with the response profile.
fn response_header(
    context: &AckContext,
    profile: QueryProfile,
    status: QueryStatus,
    errors: &[Hl7Error],
    message_control_id: &str,
    now: &str,
) -> Vec<String> {
    let ack = super::ack::ack(
        context,
        match status.msa() {
            "AE" => super::ack::AckCode::Error,
            "AR" => super::ack::AckCode::Reject,
            _ => super::ack::AckCode::Accept,
        },
        errors,
        message_control_id,
        now,
    );
    let mut segments: Vec<String> = ack.split('\r').map(str::to_string).collect();
    if let Some(msh) = segments.first_mut() {
        *msh = msh.replacen("|ACK^V04^ACK|", "|RSP^K11^RSP_K11|", 1);
        msh.push_str("|||||");
        msh.push_str(profile.response_profile());
    }
    segments
}

/// The PID of the person found: identifiers, name, date of birth, sex.
fn pid_segment(p: &AnsweredPatient, d: &Delimiters) -> String {
    let e = |s: &str| escape(s, d);
    let pid3: Vec<String> = p
        .identifiers
        .iter()
        .map(|(id, authority, kind)| format!("{}^^^{}^{}", e(id), e(authority), e(kind)))
        .collect();
    format!(
        "PID|1||{}||{}^{}^^^^^L||{}|{}",
        pid3.join("~"),
        e(&p.family_name),
        e(&p.given_names),
        hl7_date(p.birth_date),
        e(&p.sex),
    )
}

/// One ORC and RXA per vaccination of the history.
fn push_vaccinations(
    segments: &mut Vec<String>,
    vaccinations: &[AnsweredVaccination],
    d: &Delimiters,
) {
    let e = |s: &str| escape(s, d);
    for v in vaccinations {
        segments.push(format!("ORC|RE||{}", e(&v.id)));
        let source = if v.historical {
            "01^Historical information - source unspecified^NIP001"
        } else {
            "00^New immunization record^NIP001"
        };
        segments.push(format!(
            "RXA|0|1|{}||{}^{}^CVX|999|||{source}||{}||||{}|||||CP|A",
            hl7_date(v.date),
            e(&v.cvx),
            e(&v.cvx_text),
            v.facility
                .as_deref()
                .map_or(String::new(), |f| format!("^^^{}", e(f))),
            v.lot_number.as_deref().map_or(String::new(), e),
        ));
    }
}

/// The forecast group: an RXA that reports no vaccine (998), and per
/// vaccine due its code, dose, due and earliest dates as OBX.
fn push_forecast(segments: &mut Vec<String>, forecasts: &[Forecast], now: &str, d: &Delimiters) {
    let e = |s: &str| escape(s, d);
    segments.push("ORC|RE||9999^CDC".to_string());
    segments.push(format!(
        "RXA|0|1|{}||998^No vaccine administered^CVX|999||||||||||||||NA",
        now.get(..8).unwrap_or("")
    ));
    let mut n = 0;
    for (i, f) in forecasts.iter().enumerate() {
        let group = i + 1;
        let mut obx = |kind: &str, code: &str, value: String| {
            n += 1;
            segments.push(format!("OBX|{n}|{kind}|{code}|{group}|{value}||||||F"));
        };
        obx(
            "CE",
            "30979-9^Vaccines due next^LN",
            format!("{}^{}^CVX", e(&f.cvx), e(&f.cvx_text)),
        );
        obx(
            "NM",
            "30973-2^Dose number in series^LN",
            f.dose_number.to_string(),
        );
        obx("TS", "30980-7^Date vaccine due^LN", hl7_date(f.due));
        obx(
            "TS",
            "30981-5^Earliest date to give^LN",
            hl7_date(f.earliest),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z34: &str = "MSH|^~\\&|MYEHR|HALONG-CHC|VAXGRID|QN-CDC|20211020101500+0700||QBP^Q11^QBP_Q11|Q-1|P|2.5.1|||ER|AL|||||Z34^CDCPHINVS\r\
QPD|Z34^Request Immunization History^CDCPHINVS|TAG-1|P-42^^^BV-HALONG^MR~022080000123^^^VNM^NI|Nguyễn^Văn Đức^^^^^L||19800101|M\r\
RCP|I|5^RD&Records&HL70126|R";

    #[test]
    fn reads_a_history_query() {
        assert!(is_query(Z34));
        let q = parse_query(Z34).unwrap();
        assert_eq!(q.profile, QueryProfile::History);
        assert_eq!(q.query_tag, "TAG-1");
        assert_eq!(q.identifiers.len(), 2);
        assert_eq!(
            q.identifiers[0].assigning_authority.as_deref(),
            Some("BV-HALONG")
        );
        assert_eq!(q.family_name, "Nguyễn");
        assert_eq!(q.given_names, "Văn Đức");
        assert_eq!(q.birth_date, Some(time::macros::date!(1980 - 01 - 01)));
        assert_eq!(q.sex.as_deref(), Some("M"));
        assert_eq!(q.limit, Some(5));
        assert!(q
            .qpd
            .starts_with("QPD|Z34^Request Immunization History^CDCPHINVS|TAG-1|"));
    }

    #[test]
    fn names_the_field_at_fault() {
        let at = |text: &str| -> Vec<String> {
            parse_query(text)
                .unwrap_err()
                .iter()
                .filter(|e| e.is_error())
                .map(|e| format!("{}-{}", e.segment, e.field))
                .collect()
        };
        assert_eq!(
            at(&Z34.replace("|Z34^Request Immunization History^CDCPHINVS|", "|Z99|")),
            ["QPD-1"]
        );
        assert_eq!(at(&Z34.replace("|TAG-1|", "||")), ["QPD-2"]);
        assert_eq!(at(&Z34.replace("19800101", "19801345")), ["QPD-6"]);
        let nobody = Z34.replace("P-42^^^BV-HALONG^MR~022080000123^^^VNM^NI", "");
        assert!(
            parse_query(&nobody).is_ok(),
            "a name and a date of birth name the person"
        );
        assert_eq!(at(&nobody.replace("19800101", "")), ["QPD-3"]);
        assert_eq!(at(&Z34.replace("QBP^Q11^QBP_Q11", "QBP^Q13")), ["MSH-9"]);
        assert_eq!(at(&Z34.replace("\rQPD|", "\rXXX|")), ["QPD-0"]);
    }

    #[test]
    fn answers_with_the_history_and_the_forecast() {
        let mut q = parse_query(&Z34.replace(
            "Z34^Request Immunization History",
            "Z44^Request Evaluated History and Forecast",
        ))
        .unwrap();
        assert_eq!(q.profile, QueryProfile::Forecast);
        let p = AnsweredPatient {
            identifiers: vec![("022080000123".into(), "VNM".into(), "NI".into())],
            family_name: "Nguyễn".into(),
            given_names: "Văn Đức".into(),
            birth_date: time::macros::date!(1980 - 01 - 01),
            sex: "M".into(),
        };
        let v = AnsweredVaccination {
            cvx: "210".into(),
            cvx_text: "AstraZeneca".into(),
            date: time::macros::date!(2021 - 07 - 15),
            lot_number: Some("ABV5678".into()),
            facility: Some("HALONG-CHC".into()),
            historical: false,
            id: "d-1".into(),
        };
        let f = Forecast {
            cvx: "210".into(),
            cvx_text: "AstraZeneca".into(),
            dose_number: 2,
            due: time::macros::date!(2021 - 09 - 09),
            earliest: time::macros::date!(2021 - 08 - 12),
        };
        let rsp = rsp_k11(
            &q.context,
            Some(&q),
            QueryStatus::Found,
            &[],
            Some(&p),
            std::slice::from_ref(&v),
            &[f],
            "R-1",
            "20211020101600+0000",
        );
        let seg: Vec<&str> = rsp.split('\r').collect();
        assert_eq!(
            seg[0],
            "MSH|^~\\&|VAXGRID|QN-CDC|MYEHR|HALONG-CHC|20211020101600+0000||RSP^K11^RSP_K11|R-1|P|2.5.1|||NE|NE|||||Z42^CDCPHINVS"
        );
        assert_eq!(seg[1], "MSA|AA|Q-1");
        assert_eq!(
            seg[2],
            "QAK|TAG-1|OK|Z44^Request Evaluated History and Forecast^CDCPHINVS"
        );
        assert!(seg[3].starts_with("QPD|Z44^"));
        assert_eq!(
            seg[4],
            "PID|1||022080000123^^^VNM^NI||Nguyễn^Văn Đức^^^^^L||19800101|M"
        );
        assert_eq!(seg[5], "ORC|RE||d-1");
        // RXA-11 location, RXA-15 lot, RXA-20 completion, RXA-21 action.
        let rxa: Vec<&str> = seg[6].split('|').collect();
        assert_eq!(
            (rxa[3], rxa[5], rxa[11], rxa[15], rxa[20], rxa[21]),
            (
                "20210715",
                "210^AstraZeneca^CVX",
                "^^^HALONG-CHC",
                "ABV5678",
                "CP",
                "A"
            )
        );
        // The forecast group's RXA reports no vaccine given: NA in RXA-20.
        assert_eq!(seg[7], "ORC|RE||9999^CDC");
        let none: Vec<&str> = seg[8].split('|').collect();
        assert_eq!(
            (none[5], none[6], none.get(20).copied(), none.len()),
            ("998^No vaccine administered^CVX", "999", Some("NA"), 21)
        );
        assert!(rsp.contains("OBX|1|CE|30979-9^Vaccines due next^LN|1|210^AstraZeneca^CVX||||||F"));
        assert!(rsp.contains("OBX|3|TS|30980-7^Date vaccine due^LN|1|20210909||||||F"));
        // Nobody found: no PID, QAK NF.
        q.profile = QueryProfile::History;
        let nf = rsp_k11(
            &q.context,
            Some(&q),
            QueryStatus::NotFound,
            &[],
            Some(&p),
            &[v],
            &[],
            "R-2",
            "20211020101600+0000",
        );
        assert!(nf.contains("QAK|TAG-1|NF|Z34^"));
        assert!(!nf.contains("PID|"));
        assert!(nf.split('\r').next().unwrap().ends_with("|Z32^CDCPHINVS"));
    }
}
