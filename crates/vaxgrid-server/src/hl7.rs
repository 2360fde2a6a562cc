//! HL7 v2.5.1 VXU^V04 in: `POST /hl7/v2` and the MLLP listener. A message
//! names one person (PID) and their vaccinations (RXA); every rule is
//! checked first, then the person, the doses and the vaccinations kept as
//! history are written in one transaction, or nothing. The answer is an
//! ACK: AA (with W segments for what the sender should fix), AE with an
//! ERR per refused field, or AR when the message cannot be read at all.
//! QBP^Q11 queries (history, forecast) are answered with RSP^K11 (see
//! `query`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vaxgrid_interop::hl7v2::{
    ack, ack_batch, ack_context, is_batch, is_covid_cvx, is_query, known_vaccine, mllp, parse_vxu,
    split_batch, AckCode, CompletionStatus, ErrorCode, Hl7Error, MllpDecoder, Severity,
    Vaccination, Vxu,
};
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::exchange::{ExchangePart, ExchangeWrite, OtherVaccinationInput, Registration};
use vaxgrid_store::model::{CorrectionRequest, DoseRequest};

use vaxgrid_core::access::Permission;
use vaxgrid_store::model::Actor;

use crate::api::doses::DoseBody;
use crate::exchange::{
    dose_id_for, plan_person, product_for_cvx, ExternalId, ExternalPerson, PersonPlan, Refusal,
};
use crate::extract::ApiQuery;
use crate::AppState;
use vaxgrid_core::dose::{check_new_dose, check_reported_dose, LotFacts, NewDose, ValidDose};
use vaxgrid_store::StoreError;

mod query;

/// The media type of ER7-encoded HL7 v2 over HTTP.
pub const ER7: &str = "x-application/hl7-v2+er7";
/// The largest message taken, over HTTP or MLLP.
pub const MESSAGE_LIMIT: usize = 1024 * 1024;

/// Where a vaxgrid field lives in a VXU, for ERR segments.
fn pid_field(field: &str) -> u32 {
    match field {
        "full_name" => 5,
        "birth_date" => 7,
        "sex" => 8,
        "home_area" => 11,
        "phone" => 13,
        _ => 3,
    }
}

fn rxa_field(field: &str) -> u32 {
    match field {
        "administered_on" => 3,
        "product_code" => 5,
        "site_code" => 11,
        "lot_number" | "lot" => 15,
        "dose_number" => 2,
        "id" => 21,
        _ => 0,
    }
}

pub(crate) fn now_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}+0000",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Answers one message with its ACK.
pub async fn handle_message(
    app: &AppState,
    text: &str,
    default_site: Option<&str>,
    by: &Actor,
) -> (AckCode, String) {
    let report = answer_message(app, text, default_site, by).await;
    (report.code, report.ack)
}

/// What became of one message: its ACK, and the same for a report.
#[derive(Debug, Clone)]
pub struct MessageReport {
    /// MSH-10 of the message (empty when unreadable).
    pub control_id: String,
    pub code: AckCode,
    /// Each problem as `SEG-n: text`, with its severity.
    pub problems: Vec<(Severity, String)>,
    pub ack: String,
}

/// Answers one message: its ACK and a report.
pub async fn answer_message(
    app: &AppState,
    text: &str,
    default_site: Option<&str>,
    by: &Actor,
) -> MessageReport {
    if nul_problem(text).is_none() && is_query(text) {
        return query::answer_query(app, text, by).await;
    }
    let context = ack_context(text);
    let (code, problems) = match nul_problem(text) {
        Some(problem) => (AckCode::Reject, vec![problem]),
        None => {
            let problems = match parse_vxu(text) {
                Err(problems) => problems,
                Ok(vxu) => apply(app, &vxu, default_site, by).await,
            };
            (AckCode::for_errors(&problems), problems)
        }
    };
    let id = uuid::Uuid::now_v7().simple().to_string();
    MessageReport {
        ack: ack(&context, code, &problems, &id[..20], &now_stamp()),
        control_id: context.control_id,
        code,
        problems: problems
            .iter()
            .map(|p| (p.severity, p.to_string()))
            .collect(),
    }
}

/// Answers a batch (FHS/BHS … BTS/FTS): each message on its own, in order,
/// as if sent alone (one refused message changes nothing and does not stop
/// the others). Returns the ACK batch and a report per message.
pub async fn handle_batch(
    app: &AppState,
    text: &str,
    default_site: Option<&str>,
    by: &Actor,
) -> (String, Vec<MessageReport>) {
    let batch = split_batch(text);
    let mut reports = Vec::with_capacity(batch.messages.len());
    for message in &batch.messages {
        reports.push(answer_message(app, message, default_site, by).await);
    }
    for p in &batch.problems {
        tracing::info!(problem = %p, "HL7 batch envelope");
    }
    let acks: Vec<String> = reports.iter().map(|r| r.ack.clone()).collect();
    let id = uuid::Uuid::now_v7().simple().to_string();
    (ack_batch(&batch, &acks, &id[..20], &now_stamp()), reports)
}

/// One message or a batch, answered: the overall code (for a batch, AR
/// when it holds no message, else AA: each message has its own MSA) and
/// the ACK or ACK batch.
pub async fn answer(
    app: &AppState,
    text: &str,
    default_site: Option<&str>,
    by: &Actor,
) -> (AckCode, String) {
    if !is_batch(text) {
        return handle_message(app, text, default_site, by).await;
    }
    let (reply, reports) = handle_batch(app, text, default_site, by).await;
    if reports.is_empty() {
        let batch = split_batch(text);
        let id = uuid::Uuid::now_v7().simple().to_string();
        let code = AckCode::Reject;
        return (
            code,
            ack(
                &ack_context(""),
                code,
                &batch.problems,
                &id[..20],
                &now_stamp(),
            ),
        );
    }
    (AckCode::Accept, reply)
}

/// The field holding the first NUL character, which no database text can
/// store: the whole message is rejected (AR) naming that field.
fn nul_problem(text: &str) -> Option<Hl7Error> {
    let at = text.find('\0')?;
    let start = text[..at].rfind(['\r', '\n']).map_or(0, |i| i + 1);
    let segment: String = text[start..at].chars().take(3).collect();
    let segment = if segment.len() == 3 {
        segment
    } else {
        "MSH".to_string()
    };
    let sequence = text[..start]
        .split(['\r', '\n'])
        .filter(|s| s.starts_with(segment.as_str()))
        .count() as u32
        + 1;
    let bars = text[start..at].matches('|').count() as u32;
    // MSH-1 is the field separator itself, so MSH fields count one more.
    let field = if segment == "MSH" { bars + 1 } else { bars };
    Some(Hl7Error::error(
        &segment,
        sequence,
        field,
        ErrorCode::DataTypeError,
        crate::edge::NUL_MESSAGE,
    ))
}

/// Registers the person and records each vaccination; returns every
/// problem (warnings included) for the ACK.
async fn apply(app: &AppState, vxu: &Vxu, default_site: Option<&str>, by: &Actor) -> Vec<Hl7Error> {
    let mut problems = vxu.warnings.clone();
    let to_record = kept_vaccinations(app, vxu, &mut problems).await;
    // All or nothing: a message with any error changes nothing, so every
    // rule is checked before the first write.
    if to_record.is_empty() || problems.iter().any(Hl7Error::is_error) {
        return problems;
    }
    let site_origin = site_origin(vxu, default_site);
    let Some(plan) = place_person(
        app,
        vxu,
        default_site,
        &to_record,
        site_origin,
        &mut problems,
    )
    .await
    else {
        return problems;
    };
    let planned = plan_writes(app, vxu, default_site, &to_record, &plan, by, &mut problems).await;
    if problems.iter().any(Hl7Error::is_error) {
        return problems;
    }
    submit(app, planned, plan, site_origin, &mut problems).await;
    problems
}

/// The person a VXU's PID describes, as the exchange finds or registers
/// them.
fn external_person(vxu: &Vxu) -> ExternalPerson {
    let p = &vxu.patient;
    let address = p.address.clone().unwrap_or_default();
    ExternalPerson {
        ids: p
            .identifiers
            .iter()
            .map(|i| ExternalId {
                value: i.id.clone(),
                type_code: i.identifier_type.clone(),
                authority: i.assigning_authority.clone(),
            })
            .collect(),
        // An identifier naming no assigning authority (CX-4) is the
        // sender's own: its facility assigned it.
        default_authority: Some(vxu.header.sending_facility.clone()).filter(|f| !f.is_empty()),
        full_name: format!("{} {}", p.family_name, p.given_names)
            .trim()
            .to_string(),
        birth_date: p.birth_date,
        sex: p.sex.clone(),
        phone: p.phone.clone(),
        area_codes: [&address.state_or_province, &address.postal_code]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        place_names: [
            &address.street,
            &address.other_designation,
            &address.city,
            &address.state_or_province,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect(),
    }
}

/// The site of a vaccination: its RXA-11, else the default site.
fn site_of(v: &Vaccination, default_site: Option<&str>) -> Option<String> {
    v.facility
        .clone()
        .filter(|f| !f.is_empty())
        .or_else(|| default_site.map(str::to_string))
}

/// The site that places a person to register: the first vaccination's
/// site, else the sending facility (MSH-4).
fn registration_site(vxu: &Vxu, default_site: Option<&str>) -> Option<String> {
    vxu.vaccinations
        .iter()
        .find_map(|v| site_of(v, default_site))
        .or_else(|| Some(vxu.header.sending_facility.clone()).filter(|f| !f.is_empty()))
}

/// Where a site named for registration comes from: the first RXA-11 (or
/// the default site), else MSH-4.
fn site_origin(vxu: &Vxu, default_site: Option<&str>) -> (&'static str, u32, u32) {
    vxu.vaccinations
        .iter()
        .position(|v| site_of(v, default_site).is_some())
        .map_or(("MSH", 1, 4), |i| ("RXA", i as u32 + 1, 11))
}

/// One RXA the registry keeps: its sequence, the vaccination and how.
type KeptRxa<'a> = (u32, &'a Vaccination, Kept);

/// Which RXAs this registry keeps: given doses of its catalogue's
/// vaccines, and as history (counted nowhere) those of other known
/// vaccines. A code that names no known vaccine is an error; what was
/// not given is acknowledged with a warning, and a message with nothing
/// to keep registers nobody.
async fn kept_vaccinations<'a>(
    app: &AppState,
    vxu: &'a Vxu,
    problems: &mut Vec<Hl7Error>,
) -> Vec<KeptRxa<'a>> {
    let mut to_record: Vec<KeptRxa<'a>> = Vec::new();
    for (i, v) in vxu.vaccinations.iter().enumerate() {
        let seq = i as u32 + 1;
        if v.action.eq_ignore_ascii_case("D") {
            to_record.push((seq, v, Kept::Withdrawn));
            continue;
        }
        if matches!(
            v.completion_status,
            CompletionStatus::NotAdministered | CompletionStatus::Refused
        ) {
            problems.push(Hl7Error::warning(
                "RXA",
                seq,
                20,
                ErrorCode::MessageAccepted,
                "the vaccine was not given: nothing was recorded",
            ));
            continue;
        }
        let Some(cvx) = v.cvx() else {
            problems.push(Hl7Error::error(
                "RXA",
                seq,
                5,
                ErrorCode::RequiredFieldMissing,
                "RXA-5 has no CVX code",
            ));
            continue;
        };
        if let Some(kept) = kept_by_cvx(app, seq, cvx, problems).await {
            to_record.push((seq, v, kept));
        }
    }
    to_record
}

/// How a given vaccination of code `cvx` is kept: a dose of the
/// catalogue's product, history of another known vaccine, or (None, with
/// the problem) not at all.
async fn kept_by_cvx(
    app: &AppState,
    seq: u32,
    cvx: &str,
    problems: &mut Vec<Hl7Error>,
) -> Option<Kept> {
    match product_for_cvx(app, cvx).await {
        Ok(Some(product)) => return Some(Kept::Dose(product)),
        Ok(None) if is_covid_cvx(cvx) => problems.push(Hl7Error::error(
            "RXA",
            seq,
            5,
            ErrorCode::TableValueNotFound,
            format!("CVX {cvx} is a COVID-19 vaccine this registry's catalogue does not have; add the product, then send again"),
        )),
        Ok(None) => match known_vaccine(cvx) {
            Some(name) => {
                problems.push(Hl7Error::warning(
                    "RXA",
                    seq,
                    5,
                    ErrorCode::MessageAccepted,
                    format!("CVX {cvx} ({name}) is outside this registry's campaigns: kept as history, counted nowhere"),
                ));
                return Some(Kept::History(cvx.trim().to_string()));
            }
            None => problems.push(Hl7Error::error(
                "RXA",
                seq,
                5,
                ErrorCode::TableValueNotFound,
                format!("CVX {cvx} is not a known vaccine code (CDC CVX table)"),
            )),
        },
        Err(e) => problems.push(refusal_error(e.into(), "RXA", seq, rxa_field)),
    }
    None
}

/// The person of the message, found or planned for registration; None
/// (with the problem) when they cannot be.
async fn place_person(
    app: &AppState,
    vxu: &Vxu,
    default_site: Option<&str>,
    to_record: &[KeptRxa<'_>],
    site_origin: (&str, u32, u32),
    problems: &mut Vec<Hl7Error>,
) -> Option<PersonPlan> {
    let person = external_person(vxu);
    let site = registration_site(vxu, default_site);
    match plan_person(app, &person, site.as_deref()).await {
        Ok(plan) => Some(plan),
        // Only vaccinations outside the campaign, for someone this registry
        // cannot place (the address and the site name none of its areas):
        // acknowledged, nothing kept, nobody registered.
        Err(Refusal::Field { field, message })
            if matches!(field.as_str(), "home_area" | "site_code")
                && to_record
                    .iter()
                    .all(|(_, _, k)| matches!(k, Kept::History(_))) =>
        {
            problems.push(Hl7Error::warning(
                "PID",
                1,
                11,
                ErrorCode::MessageAccepted,
                format!("{field}: {message}: the vaccinations outside the campaign were not kept"),
            ));
            None
        }
        Err(refusal) => {
            problems.push(person_error(refusal, site_origin));
            None
        }
    }
}

/// The sender's key of each kept RXA: MSH-4 and the order id (ORC-3),
/// else the message's control id and the RXA's sequence.
fn record_keys(vxu: &Vxu, to_record: &[KeptRxa<'_>]) -> Vec<String> {
    to_record
        .iter()
        .map(|(seq, v, _)| {
            format!(
                "{}:{}",
                vxu.header.sending_facility,
                v.order_id
                    .clone()
                    .unwrap_or_else(|| format!("{}#{seq}", vxu.header.control_id))
            )
        })
        .collect()
}

/// A message's writes, and the RXA each came from.
struct PlannedWrite {
    write: ExchangeWrite,
    command_rxa: Vec<u32>,
    history_rxa: Vec<u32>,
}

/// What each RXA writes, checked against the stored history and the
/// message's earlier doses; a refused RXA adds its problem.
async fn plan_writes(
    app: &AppState,
    vxu: &Vxu,
    default_site: Option<&str>,
    to_record: &[KeptRxa<'_>],
    plan: &PersonPlan,
    by: &Actor,
    problems: &mut Vec<Hl7Error>,
) -> PlannedWrite {
    let mut planned = PlannedWrite {
        write: ExchangeWrite {
            persons: Vec::new(),
            commands: Vec::new(),
            history: Vec::new(),
            by: by.clone(),
        },
        command_rxa: Vec::new(),
        history_rxa: Vec::new(),
    };
    let mut doses = DosePlan::for_person(app, plan).await;
    let keys = record_keys(vxu, to_record);
    for ((seq, v, kept), key) in to_record.iter().zip(&keys) {
        let id = dose_id_for("hl7", key);
        let part = match kept {
            Kept::Withdrawn => {
                withdrawal(
                    app,
                    &id,
                    key,
                    v,
                    plan.id(),
                    &vxu.header.sending_facility,
                    by,
                )
                .await
            }
            Kept::Dose(product) => doses
                .check(
                    app,
                    plan.id(),
                    v,
                    product,
                    &id,
                    site_of(v, default_site),
                    by,
                )
                .await
                .map(|request| request.map(|r| Write::Command(WriteCommand::Dose(r)))),
            Kept::History(cvx) => Ok(Some(Write::History(history_record(
                vxu,
                v,
                id,
                plan.id(),
                cvx,
            )))),
        };
        match part {
            Ok(Some(Write::Command(c))) => {
                planned.write.commands.push(c);
                planned.command_rxa.push(*seq);
            }
            Ok(Some(Write::History(h))) => {
                planned.write.history.push(h);
                planned.history_rxa.push(*seq);
            }
            Ok(None) => {}
            Err(e) => problems.push(refusal_error(e, "RXA", *seq, rxa_field)),
        }
    }
    planned
}

/// A vaccination outside the catalogue, kept as history.
fn history_record(
    vxu: &Vxu,
    v: &Vaccination,
    id: String,
    person_id: &str,
    cvx: &str,
) -> OtherVaccinationInput {
    OtherVaccinationInput {
        id,
        person_id: person_id.to_string(),
        cvx: cvx.to_string(),
        administered_on: v.administered_at.date,
        lot_number: v.lot_number.clone().filter(|l| !l.is_empty()),
        source: "hl7".into(),
        sender: vxu.header.sending_facility.clone(),
        corrects_id: None,
    }
}

/// Writes the person, the doses, the history and the audit in one
/// transaction, or nothing; adds the problem of a refused part, else
/// the warnings of the registration.
async fn submit(
    app: &AppState,
    planned: PlannedWrite,
    plan: PersonPlan,
    site_origin: (&str, u32, u32),
    problems: &mut Vec<Hl7Error>,
) {
    let PlannedWrite {
        mut write,
        command_rxa,
        history_rxa,
    } = planned;
    let warnings = match plan {
        PersonPlan::Existing(_) => Vec::new(),
        PersonPlan::New {
            new,
            identity,
            warnings,
        } => {
            write.persons.push(Registration { new, identity });
            warnings
        }
    };
    let outcome = match app.writer.submit_exchange(write).await {
        Ok(outcome) => outcome,
        Err(e) => {
            problems.push(refusal_error(Refusal::from(e), "MSH", 1, |_| 0));
            return;
        }
    };
    if let Some((part, e)) = outcome.refused {
        let refusal = Refusal::from(e);
        problems.push(match part {
            ExchangePart::Person(_) => person_error(refusal, site_origin),
            ExchangePart::Command(i) => refusal_error(refusal, "RXA", command_rxa[i], rxa_field),
            ExchangePart::History(i) => refusal_error(refusal, "RXA", history_rxa[i], rxa_field),
        });
        return;
    }
    for (field, message) in warnings {
        problems.push(Hl7Error::warning(
            "PID",
            1,
            pid_field(&field),
            ErrorCode::DataTypeError,
            message,
        ));
    }
}

/// What an RXA asks the registry to keep.
enum Kept {
    /// A dose of the catalogue's product.
    Dose(String),
    /// A vaccination outside the catalogue (its CVX code), as history.
    History(String),
    /// RXA-21 D: the sender withdraws a record it sent.
    Withdrawn,
}

/// One write of a message.
enum Write {
    Command(WriteCommand),
    History(OtherVaccinationInput),
}

/// RXA-21 D: the record the sender sent under this order is entered in
/// error (a dose) or withdrawn (a history record); nothing when it was
/// withdrawn before.
async fn withdrawal(
    app: &AppState,
    id: &str,
    key: &str,
    v: &Vaccination,
    person_id: &str,
    sender: &str,
    by: &Actor,
) -> Result<Option<Write>, Refusal> {
    match app.store.dose(id).await {
        Ok(_) => {
            return Ok(Some(Write::Command(WriteCommand::EnteredInError(
                CorrectionRequest {
                    id: dose_id_for("hl7-delete", key),
                    target_id: id.to_string(),
                    reason: "deleted by the sending system (RXA-21 D)".into(),
                    author: "hl7".into(),
                    by: by.clone(),
                },
            ))))
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    match app.store.other_vaccination(id).await {
        Ok(kept) => Ok(Some(Write::History(OtherVaccinationInput {
            id: dose_id_for("hl7-delete", key),
            person_id: person_id.to_string(),
            cvx: kept.cvx,
            administered_on: v.administered_at.date,
            lot_number: None,
            source: "hl7".into(),
            sender: sender.to_string(),
            corrects_id: Some(id.to_string()),
        }))),
        Err(StoreError::NotFound { .. }) => Err(Refusal::field(
            "id",
            "RXA-21 D: no record of this order was received",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A refusal of the person: at the PID field at fault, or where the site
/// used to place them was named (`site_origin`).
fn person_error(refusal: Refusal, site_origin: (&str, u32, u32)) -> Hl7Error {
    match refusal {
        Refusal::Field { field, message } if field == "site_code" => {
            let (segment, seq, position) = site_origin;
            Hl7Error::error(
                segment,
                seq,
                position,
                ErrorCode::TableValueNotFound,
                format!("{field}: {message}"),
            )
        }
        other => refusal_error(other, "PID", 1, pid_field),
    }
}

/// The dose rules of a message's vaccinations, checked in order against
/// the person's valid history and the doses before them in the message,
/// before anything is written (the dose writer applies them again).
struct DosePlan {
    birth_date: Option<time::Date>,
    history: Vec<ValidDose>,
    /// The history could not be read: the writer will tell.
    unreadable: Option<Refusal>,
}

impl DosePlan {
    async fn for_person(app: &AppState, plan: &PersonPlan) -> DosePlan {
        let mut dose_plan = DosePlan {
            birth_date: plan.birth_date(),
            history: Vec::new(),
            unreadable: None,
        };
        if let PersonPlan::Existing(p) = plan {
            match app.store.history(&p.id).await {
                Ok(h) => dose_plan.history = vaxgrid_store::doses::valid_doses(&h.records),
                Err(e) => dose_plan.unreadable = Some(e.into()),
            }
        }
        dose_plan
    }

    /// The dose request of a vaccination, when its rules hold (None: the
    /// same record was sent before, and the writer answers with it).
    #[allow(clippy::too_many_arguments)]
    async fn check(
        &mut self,
        app: &AppState,
        person_id: &str,
        v: &Vaccination,
        product: &str,
        id: &str,
        site: Option<String>,
        by: &Actor,
    ) -> Result<Option<DoseRequest>, Refusal> {
        if let Some(e) = self.unreadable.take() {
            return Err(e);
        }
        let body = dose_body(
            person_id.to_string(),
            v,
            product.to_string(),
            id.to_string(),
            site,
        );
        let request = crate::api::doses::dose_request(body, by.clone())?;
        let Some(birth_date) = self.birth_date else {
            // Unreadable stored birth date: the writer decides.
            return Ok(Some(request));
        };
        if app.store.dose(id).await.is_ok() {
            // Sent before: the writer answers with the record it holds.
            return Ok(Some(request));
        }
        let today = app.store.today();
        let rule = |e: vaxgrid_core::dose::DoseRuleError| Refusal::from(StoreError::from(e));
        if request.historical {
            check_reported_dose(&self.history, birth_date, today, request.administered_on)
                .map_err(rule)?;
        } else {
            let site = app.store.site(&request.site_code).await?;
            if !by.scope.covers_site(&site.code) {
                return Err(Refusal::field(
                    "site_code",
                    format!("{} may not record doses at {}", by.name, site.code),
                ));
            }
            let lot = app.store.lot(product, &request.lot_number).await?;
            let expiry = vaxgrid_store::parse_date(&lot.expiry).ok_or_else(|| {
                Refusal::field(
                    "lot_number",
                    format!("lot {} has no valid expiry", lot.lot_number),
                )
            })?;
            let products = app.store.product_map().await?;
            let this = products
                .get(product)
                .ok_or_else(|| Refusal::field("product_code", format!("no product {product}")))?;
            let facts = LotFacts {
                product_code: lot.product_code.clone(),
                expiry,
                status: lot.status,
            };
            let new = NewDose {
                product: this,
                lot: &facts,
                date: request.administered_on,
                dose_number: None,
                override_reason: None,
            };
            check_new_dose(&self.history, birth_date, today, &new, |c| products.get(c))
                .map_err(rule)?;
        }
        let at = self
            .history
            .partition_point(|d| d.date <= request.administered_on);
        self.history.insert(
            at,
            ValidDose {
                product_code: product.to_string(),
                date: request.administered_on,
            },
        );
        Ok(Some(request))
    }
}

/// The dose body of a vaccination, as `POST /api/v1/doses` takes it.
fn dose_body(
    person_id: String,
    v: &Vaccination,
    product: String,
    id: String,
    site: Option<String>,
) -> DoseBody {
    DoseBody {
        id,
        person_id,
        product_code: product,
        lot_number: v.lot_number.clone(),
        site_code: site,
        administered_on: vaxgrid_store::format_date(v.administered_at.date),
        dose_number: None,
        vaccinator: None,
        override_reason: None,
        historical: v.historical,
    }
}

fn refusal_error(refusal: Refusal, segment: &str, seq: u32, position: fn(&str) -> u32) -> Hl7Error {
    match refusal {
        Refusal::Field { field, message } => {
            let code = match field.as_str() {
                "product_code" | "lot_number" | "site_code" => ErrorCode::TableValueNotFound,
                "id_number" | "birth_date" | "sex" => ErrorCode::RequiredFieldMissing,
                _ => ErrorCode::DataTypeError,
            };
            Hl7Error::error(
                segment,
                seq,
                position(&field),
                code,
                format!("{field}: {message}"),
            )
        }
        Refusal::Unavailable(e) => Hl7Error::error(
            segment,
            seq,
            0,
            ErrorCode::ApplicationInternalError,
            format!("the registry could not take the record now ({e}); send it again"),
        ),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hl7Query {
    /// Site of records whose RXA-11 names none (the sender's own site).
    site: Option<String>,
}

/// `POST /hl7/v2`: one ER7 message in, its ACK out (200 for AA, 422 for
/// AE, 400 for AR; the body is the ACK in every case). A batch (FHS/BHS)
/// is answered with an ACK batch, one ACK per message, and 200 (400 when
/// it holds no message).
#[utoipa::path(
    post,
    path = "/hl7/v2",
    summary = "HL7 v2.5.1 (CDC IIS guide), ER7 text. A VXU^V04: every rule is checked, then the person (PID: found by any identifier, or registered), the doses (RXA, through the dose rules) and the vaccinations kept as history (known CVX codes outside the catalogue, counted nowhere) are written in one transaction, or nothing; the answer is the ACK (MSA AA/AE/AR, ERR per problem: segment^sequence^field). A QBP^Q11 (Z34 history, Z44 forecast) is answered with RSP^K11 (QAK OK/NF/TM). A batch (FHS/BHS) is answered message by message. Also over MLLP with `vaxgrid serve --mllp ADDR`. Historical records (RXA-9 01) may lack lot and site.",
    params(("site" = Option<String>, Query, description = "site of records whose RXA-11 names none")),
    request_body(content = String, content_type = "x-application/hl7-v2+er7"),
    responses(
        (status = 200, description = "ACK (or RSP^K11) with MSA|AA", content_type = "x-application/hl7-v2+er7"),
        (status = 400, description = "ACK with MSA|AR: the message cannot be read", content_type = "x-application/hl7-v2+er7"),
        (status = 413, response = crate::error::Problem),
        (status = 422, description = "ACK with MSA|AE and ERR segments naming the refused fields", content_type = "x-application/hl7-v2+er7"),
    )
)]
pub async fn post_message(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(q): ApiQuery<Hl7Query>,
    body: Bytes,
) -> Response {
    let by = match caller.actor(&app, Permission::Exchange).await {
        Ok(by) => by,
        Err(e) => return e.into_response(),
    };
    let (code, ack) = match std::str::from_utf8(&body) {
        Ok(text) => answer(&app, text, q.site.as_deref(), &by).await,
        Err(_) => {
            let problem = Hl7Error::error(
                "MSH",
                1,
                0,
                ErrorCode::DataTypeError,
                "the message is not valid UTF-8",
            );
            let code = AckCode::Reject;
            let id = uuid::Uuid::now_v7().simple().to_string();
            (
                code,
                ack(&ack_context(""), code, &[problem], &id[..20], &now_stamp()),
            )
        }
    };
    let status = match code {
        AckCode::Accept => StatusCode::OK,
        AckCode::Error => StatusCode::UNPROCESSABLE_ENTITY,
        AckCode::Reject => StatusCode::BAD_REQUEST,
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(ER7))],
        ack,
    )
        .into_response()
}

/// Listens for MLLP connections (HL7's framing over TCP) and answers each
/// framed message with its framed ACK. Runs until the task is dropped.
pub async fn serve_mllp(app: AppState, listener: tokio::net::TcpListener) {
    loop {
        let Ok((socket, peer)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = mllp_connection(app, socket, peer).await {
                tracing::info!(%peer, error = %e, "MLLP connection ended");
            }
        });
    }
}

async fn mllp_connection(
    app: AppState,
    mut socket: tokio::net::TcpStream,
    peer: SocketAddr,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut decoder = MllpDecoder::with_max_frame(MESSAGE_LIMIT);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        decoder.push(&buf[..n]);
        while let Some(frame) = decoder.next_message() {
            let reply = match frame {
                Ok(text) => answer(&app, &text, None, &mllp_actor(&peer)).await.1,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "unreadable MLLP frame");
                    let problem =
                        Hl7Error::error("MSH", 1, 0, ErrorCode::DataTypeError, e.to_string());
                    let id = uuid::Uuid::now_v7().simple().to_string();
                    ack(
                        &ack_context(""),
                        AckCode::Reject,
                        &[problem],
                        &id[..20],
                        &now_stamp(),
                    )
                }
            };
            socket.write_all(&mllp::frame(&reply)).await?;
        }
    }
}

/// MLLP carries no credentials: the listener is opened only where the
/// network is trusted (`serve --mllp`), and what it takes is recorded as
/// the listener's, with the sender's address.
fn mllp_actor(peer: &SocketAddr) -> Actor {
    let mut actor = Actor::system("mllp");
    actor.address = Some(peer.ip().to_string());
    actor
}
