//! The vaccination table as a state machine: check-in, identity check,
//! screening, consent, dose, observation, done.
//!
//! Each table records what it did as an event; [`apply`] accepts an event
//! only in its place, so a dose can never be recorded without screening and
//! consent before it, nor a person let go before the observation time. A
//! visit may end early (deferred, contraindicated, refused, no-show), and
//! adverse events may be reported once a dose was given, even after the visit
//! is done: reactions often start after the person has gone home.
//!
//! The visit is a value: `apply` returns the next one and leaves the old one
//! as it was, so a refused event changes nothing, and [`Visit::replay`]
//! rebuilds a visit from its stored events.

use std::collections::BTreeMap;
use std::fmt;

use time::{Date, Duration, OffsetDateTime};

/// How long a person stays under observation after the dose unless the
/// product or the site says otherwise (15 minutes is common; 30 after a
/// history of allergy).
pub const DEFAULT_OBSERVATION_MINUTES: u32 = 30;
/// A temperature at check-in from which the dose is deferred.
pub const FEVER_FROM_C: f32 = 37.5;
/// Readings outside this range are a mistyped or broken thermometer, not a
/// person: they are refused rather than taken as a fever or its absence.
pub const TEMPERATURE_MIN_C: f32 = 30.0;
pub const TEMPERATURE_MAX_C: f32 = 45.0;

/// The steps of a visit, in the order they must happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    CheckIn,
    IdentityCheck,
    Screening,
    Consent,
    Dose,
    Observation,
    Done,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::CheckIn,
        Step::IdentityCheck,
        Step::Screening,
        Step::Consent,
        Step::Dose,
        Step::Observation,
        Step::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::CheckIn => "check_in",
            Step::IdentityCheck => "identity_check",
            Step::Screening => "screening",
            Step::Consent => "consent",
            Step::Dose => "dose",
            Step::Observation => "observation",
            Step::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == s)
    }

    /// The words for the step in messages to the person at the table.
    pub fn label(self) -> &'static str {
        match self {
            Step::CheckIn => "check-in",
            Step::IdentityCheck => "identity check",
            Step::Screening => "screening",
            Step::Consent => "consent",
            Step::Dose => "dose",
            Step::Observation => "observation",
            Step::Done => "done",
        }
    }

    /// The step after this one.
    pub fn next(self) -> Option<Step> {
        Step::ALL.into_iter().find(|s| *s > self)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a "yes" to a screening question means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreeningEffect {
    Nothing,
    /// Come back after this many days (0: later the same day, as a new visit).
    Defer {
        days: u32,
    },
    /// This person must not receive this product.
    Contraindicate,
}

/// One question of a product's screening questionnaire. Ids are unique
/// within a questionnaire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningQuestion {
    pub id: String,
    pub text: String,
    pub yes_means: ScreeningEffect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningAnswer {
    pub question_id: String,
    pub yes: bool,
}

/// How strong a reaction is. Not the same as seriousness: a severe headache
/// is not serious, a mild reaction that needs a hospital stay is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Mild, Severity::Moderate, Severity::Severe];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The kinds of reaction with a consistent causal association to
/// immunization (WHO category A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CausalReaction {
    /// A1: vaccine product-related reaction.
    VaccineProduct,
    /// A2: vaccine quality defect-related reaction.
    QualityDefect,
    /// A3: immunization error-related reaction.
    ImmunizationError,
    /// A4: immunization anxiety-related reaction (2018), named immunization
    /// stress-related response (ISRR) in the 2019 update.
    ImmunizationStress,
}

/// The two trends of an indeterminate assessment (WHO category B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndeterminateKind {
    /// B1: the temporal relationship is consistent but there is not enough
    /// evidence that the vaccine caused the event (a possible new signal).
    ConsistentTiming,
    /// B2: the reviewed factors point both towards and against causality.
    ConflictingTrends,
}

/// The final classification of a WHO AEFI causality assessment (user manual
/// for the revised WHO classification, 2nd edition, 2018, updated 2019).
/// Assessments are done afterwards by a committee, so a report starts without
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Causality {
    /// A: consistent causal association to immunization.
    ConsistentCausal(CausalReaction),
    /// B: indeterminate.
    Indeterminate(IndeterminateKind),
    /// C: inconsistent causal association to immunization (coincidental).
    InconsistentCoincidental,
    /// D: unclassifiable (more information is needed).
    Unclassifiable,
}

impl Causality {
    pub const ALL: [Causality; 8] = [
        Causality::ConsistentCausal(CausalReaction::VaccineProduct),
        Causality::ConsistentCausal(CausalReaction::QualityDefect),
        Causality::ConsistentCausal(CausalReaction::ImmunizationError),
        Causality::ConsistentCausal(CausalReaction::ImmunizationStress),
        Causality::Indeterminate(IndeterminateKind::ConsistentTiming),
        Causality::Indeterminate(IndeterminateKind::ConflictingTrends),
        Causality::InconsistentCoincidental,
        Causality::Unclassifiable,
    ];

    /// The WHO code: A1 to A4, B1, B2, C, D.
    pub fn as_str(self) -> &'static str {
        use CausalReaction::*;
        use IndeterminateKind::*;
        match self {
            Causality::ConsistentCausal(VaccineProduct) => "A1",
            Causality::ConsistentCausal(QualityDefect) => "A2",
            Causality::ConsistentCausal(ImmunizationError) => "A3",
            Causality::ConsistentCausal(ImmunizationStress) => "A4",
            Causality::Indeterminate(ConsistentTiming) => "B1",
            Causality::Indeterminate(ConflictingTrends) => "B2",
            Causality::InconsistentCoincidental => "C",
            Causality::Unclassifiable => "D",
        }
    }

    pub fn parse(s: &str) -> Option<Causality> {
        Causality::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The WHO category letter, for counts by category.
    pub fn category(self) -> char {
        match self {
            Causality::ConsistentCausal(_) => 'A',
            Causality::Indeterminate(_) => 'B',
            Causality::InconsistentCoincidental => 'C',
            Causality::Unclassifiable => 'D',
        }
    }
}

/// An adverse event following immunization, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AefiReport {
    pub onset: OffsetDateTime,
    pub symptoms: Vec<String>,
    pub severity: Severity,
    /// Death, life-threatening, hospitalization, disability, a congenital
    /// anomaly, or a cluster: the regulatory meaning, not the intensity.
    pub serious: bool,
    pub causality: Option<Causality>,
    /// How it ended, as far as known (death and hospitalisation are
    /// serious: `aefi::check_outcome`).
    pub outcome: crate::aefi::AefiOutcome,
    /// The treatment given, if any.
    pub treatment: Option<String>,
}

/// Whether the report must open an investigation: serious events are
/// investigated whatever their severity, and severe non-serious ones are not.
pub fn needs_investigation(report: &AefiReport) -> bool {
    report.serious
}

/// How a visit ends before the dose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Come back on `until` (e.g. after an acute illness).
    Deferred { until: Date, reason: String },
    /// Must not receive this product.
    Contraindicated { reason: String },
    /// The person (or guardian) declines.
    Refused { reason: String },
    /// The person did not come.
    NoShow,
}

/// What a vaccination table records.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitEvent {
    CheckedIn {
        at: OffsetDateTime,
        temperature_c: f32,
    },
    IdentityChecked {
        at: OffsetDateTime,
        /// The identity document seen, e.g. "cccd:022...".
        document: String,
    },
    Screened {
        at: OffsetDateTime,
        questionnaire_version: String,
        answers: Vec<ScreeningAnswer>,
    },
    Consented {
        at: OffsetDateTime,
        /// Who consented: the person, or a guardian.
        by: String,
        consent_text_version: String,
        for_person_id: String,
    },
    DoseGiven {
        at: OffsetDateTime,
        dose_record_id: String,
        vaccinator: String,
        station: String,
        lot_number: String,
    },
    ObservationEnded {
        at: OffsetDateTime,
    },
    AdverseEvent(AefiReport),
    Ended {
        at: OffsetDateTime,
        ending: Ending,
    },
}

impl VisitEvent {
    /// The step this event performs; `None` for reports and early endings,
    /// which are not steps.
    pub fn step(&self) -> Option<Step> {
        match self {
            VisitEvent::CheckedIn { .. } => Some(Step::CheckIn),
            VisitEvent::IdentityChecked { .. } => Some(Step::IdentityCheck),
            VisitEvent::Screened { .. } => Some(Step::Screening),
            VisitEvent::Consented { .. } => Some(Step::Consent),
            VisitEvent::DoseGiven { .. } => Some(Step::Dose),
            VisitEvent::ObservationEnded { .. } => Some(Step::Observation),
            VisitEvent::AdverseEvent(_) | VisitEvent::Ended { .. } => None,
        }
    }

    /// When the event happened (for a report: the onset).
    pub fn at(&self) -> OffsetDateTime {
        match self {
            VisitEvent::CheckedIn { at, .. }
            | VisitEvent::IdentityChecked { at, .. }
            | VisitEvent::Screened { at, .. }
            | VisitEvent::Consented { at, .. }
            | VisitEvent::DoseGiven { at, .. }
            | VisitEvent::ObservationEnded { at }
            | VisitEvent::Ended { at, .. } => *at,
            VisitEvent::AdverseEvent(report) => report.onset,
        }
    }
}

/// Where a visit stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting for this step.
    InProgress(Step),
    Done,
    Deferred {
        until: Date,
        reason: String,
    },
    Contraindicated {
        reason: String,
    },
    Refused {
        reason: String,
    },
    NoShow,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::InProgress(_) => "in_progress",
            Outcome::Done => "done",
            Outcome::Deferred { .. } => "deferred",
            Outcome::Contraindicated { .. } => "contraindicated",
            Outcome::Refused { .. } => "refused",
            Outcome::NoShow => "no_show",
        }
    }

    pub fn is_finished(&self) -> bool {
        !matches!(self, Outcome::InProgress(_))
    }
}

impl From<Ending> for Outcome {
    fn from(ending: Ending) -> Outcome {
        match ending {
            Ending::Deferred { until, reason } => Outcome::Deferred { until, reason },
            Ending::Contraindicated { reason } => Outcome::Contraindicated { reason },
            Ending::Refused { reason } => Outcome::Refused { reason },
            Ending::NoShow => Outcome::NoShow,
        }
    }
}

/// One person's visit to a vaccination table.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub outcome: Outcome,
    pub events: Vec<VisitEvent>,
    /// The observation time in force when the dose was given: changing the
    /// setting later must not move the time a person already waiting may leave.
    observation_minutes: u32,
}

impl Default for Visit {
    fn default() -> Visit {
        Visit::new()
    }
}

impl Visit {
    /// A visit waiting for check-in.
    pub fn new() -> Visit {
        Visit {
            outcome: Outcome::InProgress(Step::CheckIn),
            events: Vec::new(),
            observation_minutes: DEFAULT_OBSERVATION_MINUTES,
        }
    }

    /// Rebuilds a visit from its stored events, checking them again.
    pub fn replay(
        events: impl IntoIterator<Item = VisitEvent>,
        questionnaire: &[ScreeningQuestion],
        person_id: &str,
        observation_minutes: u32,
    ) -> Result<Visit, StepError> {
        events.into_iter().try_fold(Visit::new(), |visit, event| {
            apply(&visit, event, questionnaire, person_id, observation_minutes)
        })
    }

    /// The step the visit waits for, if it has not ended.
    pub fn next_step(&self) -> Option<Step> {
        match self.outcome {
            Outcome::InProgress(step) => Some(step),
            _ => None,
        }
    }

    /// When the dose was given, if it was.
    pub fn dose_at(&self) -> Option<OffsetDateTime> {
        self.events.iter().find_map(|e| match e {
            VisitEvent::DoseGiven { at, .. } => Some(*at),
            _ => None,
        })
    }

    pub fn aefi_reports(&self) -> impl Iterator<Item = &AefiReport> {
        self.events.iter().filter_map(|e| match e {
            VisitEvent::AdverseEvent(report) => Some(report),
            _ => None,
        })
    }

    /// The time of the latest step or ending. Reports are left out: their
    /// time is the onset, which may be earlier than events recorded before
    /// the report was made.
    fn last_at(&self) -> Option<OffsetDateTime> {
        self.events
            .iter()
            .rev()
            .find(|e| !matches!(e, VisitEvent::AdverseEvent(_)))
            .map(VisitEvent::at)
    }
}

/// When the person may leave: the dose time plus the observation time.
pub fn observation_ends_at(visit: &Visit) -> Option<OffsetDateTime> {
    Some(visit.dose_at()? + Duration::minutes(i64::from(visit.observation_minutes)))
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    #[error("{}", out_of_order(.expected, .got))]
    OutOfOrder { expected: Step, got: Step },
    #[error("the visit has ended ({outcome}); only adverse event reports may be added")]
    Finished { outcome: &'static str },
    #[error("{}", aefi_before_dose(.expected))]
    AefiBeforeDose { expected: Option<Step> },
    #[error("the dose has been given: the visit ends with the end of the observation")]
    EndAfterDose,
    #[error("the person has checked in, so the visit cannot end as a no-show")]
    NoShowAfterCheckIn,
    #[error("at {at} is before the visit's previous event at {last}")]
    BackInTime {
        at: OffsetDateTime,
        last: OffsetDateTime,
    },
    #[error("temperature_c {temperature_c} is not a body temperature; it must be from {TEMPERATURE_MIN_C} to {TEMPERATURE_MAX_C} °C")]
    TemperatureOutOfRange { temperature_c: f32 },
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error(
        "consent for the wrong person: it is for {for_person_id}, the visit is for {person_id}"
    )]
    WrongPerson {
        for_person_id: String,
        person_id: String,
    },
    #[error("answers to questions not in the questionnaire: {}", .0.join(", "))]
    UnknownQuestions(Vec<String>),
    #[error("questions answered more than once: {}", .0.join(", "))]
    RepeatedAnswers(Vec<String>),
    #[error("questions not answered: {}", .0.join(", "))]
    UnansweredQuestions(Vec<String>),
    #[error("the observation lasts until {earliest}; it cannot end earlier")]
    ObservationNotOver { earliest: OffsetDateTime },
    #[error("the onset {onset} is before the dose at {dose_at}")]
    OnsetBeforeDose {
        onset: OffsetDateTime,
        dose_at: OffsetDateTime,
    },
    #[error("a deferral cannot be to {until}, before the visit on {date}")]
    DeferralInPast { until: Date, date: Date },
    #[error("{0}")]
    Aefi(crate::aefi::AefiError),
}

fn out_of_order(expected: &Step, got: &Step) -> String {
    if got > expected {
        format!("{expected} must come before {got}")
    } else {
        format!("{got} is already done; {expected} comes next")
    }
}

fn aefi_before_dose(expected: &Option<Step>) -> String {
    match expected {
        Some(step) => format!("an adverse event report needs a dose first; {step} comes next"),
        None => "an adverse event report needs a dose, and this visit ended without one".into(),
    }
}

impl StepError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            StepError::OutOfOrder { .. }
            | StepError::Finished { .. }
            | StepError::AefiBeforeDose { .. } => "step",
            StepError::EndAfterDose | StepError::NoShowAfterCheckIn => "ending",
            StepError::BackInTime { .. } | StepError::ObservationNotOver { .. } => "at",
            StepError::TemperatureOutOfRange { .. } => "temperature_c",
            StepError::Empty(field) => field,
            StepError::WrongPerson { .. } => "for_person_id",
            StepError::UnknownQuestions(_)
            | StepError::RepeatedAnswers(_)
            | StepError::UnansweredQuestions(_) => "answers",
            StepError::OnsetBeforeDose { .. } => "onset",
            StepError::DeferralInPast { .. } => "until",
            StepError::Aefi(e) => e.field(),
        }
    }
}

/// Records `event` on `visit` for the person `person_id`, screened with
/// `questionnaire` (the product's), and returns the visit after it.
/// `observation_minutes` is the observation time to keep if the event is the
/// dose.
pub fn apply(
    visit: &Visit,
    event: VisitEvent,
    questionnaire: &[ScreeningQuestion],
    person_id: &str,
    observation_minutes: u32,
) -> Result<Visit, StepError> {
    let mut next = visit.clone();
    if let VisitEvent::AdverseEvent(report) = &event {
        check_report(visit, report)?;
        next.events.push(event);
        return Ok(next);
    }
    let expected = check_sequence(visit, &event)?;
    let at = event.at();
    next.outcome = match &event {
        VisitEvent::CheckedIn { temperature_c, .. } => check_in(at, *temperature_c)?,
        VisitEvent::IdentityChecked { document, .. } => {
            non_empty(document, "document")?;
            Outcome::InProgress(Step::Screening)
        }
        VisitEvent::Screened {
            questionnaire_version,
            answers,
            ..
        } => {
            non_empty(questionnaire_version, "questionnaire_version")?;
            screen(at, questionnaire, answers)?
        }
        VisitEvent::Consented {
            by,
            consent_text_version,
            for_person_id,
            ..
        } => {
            non_empty(by, "by")?;
            non_empty(consent_text_version, "consent_text_version")?;
            same_person(for_person_id, person_id)?;
            Outcome::InProgress(Step::Dose)
        }
        VisitEvent::DoseGiven {
            dose_record_id,
            vaccinator,
            station,
            lot_number,
            ..
        } => {
            non_empty(dose_record_id, "dose_record_id")?;
            non_empty(vaccinator, "vaccinator")?;
            non_empty(station, "station")?;
            non_empty(lot_number, "lot_number")?;
            next.observation_minutes = observation_minutes;
            Outcome::InProgress(Step::Observation)
        }
        VisitEvent::ObservationEnded { .. } => end_observation(visit, at)?,
        VisitEvent::Ended { ending, .. } => end_early(expected, at, ending)?,
        VisitEvent::AdverseEvent(_) => unreachable!("handled above"),
    };
    next.events.push(event);
    Ok(next)
}

/// Whether `event` (a step or an ending) may come now: the visit is in
/// progress, the event is its next step, and it is not dated before the
/// visit's previous event. The step the visit expects.
fn check_sequence(visit: &Visit, event: &VisitEvent) -> Result<Step, StepError> {
    let expected = match &visit.outcome {
        Outcome::InProgress(step) => *step,
        finished => {
            return Err(StepError::Finished {
                outcome: finished.as_str(),
            })
        }
    };
    if let Some(got) = event.step() {
        if got != expected {
            return Err(StepError::OutOfOrder { expected, got });
        }
    }
    let at = event.at();
    if let Some(last) = visit.last_at() {
        if at < last {
            return Err(StepError::BackInTime { at, last });
        }
    }
    Ok(expected)
}

/// Consent must be for the person the visit is for.
fn same_person(for_person_id: &str, person_id: &str) -> Result<(), StepError> {
    if for_person_id != person_id {
        return Err(StepError::WrongPerson {
            for_person_id: for_person_id.to_string(),
            person_id: person_id.to_string(),
        });
    }
    Ok(())
}

/// The observation ends the visit, not before its time is over. Reached
/// only at the observation step, so the dose is there.
fn end_observation(visit: &Visit, at: OffsetDateTime) -> Result<Outcome, StepError> {
    if let Some(earliest) = observation_ends_at(visit) {
        if at < earliest {
            return Err(StepError::ObservationNotOver { earliest });
        }
    }
    Ok(Outcome::Done)
}

fn non_empty(value: &str, field: &'static str) -> Result<(), StepError> {
    if value.trim().is_empty() {
        return Err(StepError::Empty(field));
    }
    Ok(())
}

fn check_in(at: OffsetDateTime, temperature_c: f32) -> Result<Outcome, StepError> {
    // `contains` is false for NaN, which is refused with the other misreadings.
    if !(TEMPERATURE_MIN_C..=TEMPERATURE_MAX_C).contains(&temperature_c) {
        return Err(StepError::TemperatureOutOfRange { temperature_c });
    }
    if temperature_c >= FEVER_FROM_C {
        // An acute febrile illness defers vaccination until it has passed;
        // the next day is the earliest the person can be seen again.
        return Ok(Outcome::Deferred {
            until: at.date().saturating_add(Duration::days(1)),
            reason: format!("fever of {temperature_c:.1} °C at check-in"),
        });
    }
    Ok(Outcome::InProgress(Step::IdentityCheck))
}

fn screen(
    at: OffsetDateTime,
    questionnaire: &[ScreeningQuestion],
    answers: &[ScreeningAnswer],
) -> Result<Outcome, StepError> {
    let mut given: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    let mut unknown = Vec::new();
    for a in answers {
        let id = a.question_id.as_str();
        if questionnaire.iter().any(|q| q.id == id) {
            given.entry(id).or_insert((0, a.yes)).0 += 1;
        } else if !unknown.contains(&a.question_id) {
            unknown.push(a.question_id.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(StepError::UnknownQuestions(unknown));
    }
    let repeated: Vec<String> = questionnaire
        .iter()
        .filter(|q| given.get(q.id.as_str()).is_some_and(|(n, _)| *n > 1))
        .map(|q| q.id.clone())
        .collect();
    if !repeated.is_empty() {
        return Err(StepError::RepeatedAnswers(repeated));
    }
    let missing: Vec<String> = questionnaire
        .iter()
        .filter(|q| !given.contains_key(q.id.as_str()))
        .map(|q| q.id.clone())
        .collect();
    if !missing.is_empty() {
        return Err(StepError::UnansweredQuestions(missing));
    }
    // Every "yes" counts: a contraindication outweighs any deferral, and the
    // longest deferral wins. The reasons name every question that applied.
    let yes: Vec<&ScreeningQuestion> = questionnaire
        .iter()
        .filter(|q| given[q.id.as_str()].1)
        .collect();
    let reasons = |keep: fn(&ScreeningEffect) -> bool| {
        yes.iter()
            .filter(|q| keep(&q.yes_means))
            .map(|q| q.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if yes
        .iter()
        .any(|q| q.yes_means == ScreeningEffect::Contraindicate)
    {
        return Ok(Outcome::Contraindicated {
            reason: reasons(|e| *e == ScreeningEffect::Contraindicate),
        });
    }
    let defer_days = yes
        .iter()
        .filter_map(|q| match q.yes_means {
            ScreeningEffect::Defer { days } => Some(days),
            _ => None,
        })
        .max();
    if let Some(days) = defer_days {
        return Ok(Outcome::Deferred {
            until: at.date().saturating_add(Duration::days(i64::from(days))),
            reason: reasons(|e| matches!(e, ScreeningEffect::Defer { .. })),
        });
    }
    Ok(Outcome::InProgress(Step::Consent))
}

fn end_early(expected: Step, at: OffsetDateTime, ending: &Ending) -> Result<Outcome, StepError> {
    if expected >= Step::Observation {
        return Err(StepError::EndAfterDose);
    }
    match ending {
        Ending::NoShow if expected != Step::CheckIn => return Err(StepError::NoShowAfterCheckIn),
        Ending::NoShow => {}
        Ending::Deferred { until, reason } => {
            non_empty(reason, "reason")?;
            if *until < at.date() {
                return Err(StepError::DeferralInPast {
                    until: *until,
                    date: at.date(),
                });
            }
        }
        Ending::Contraindicated { reason } | Ending::Refused { reason } => {
            non_empty(reason, "reason")?;
        }
    }
    Ok(ending.clone().into())
}

fn check_report(visit: &Visit, report: &AefiReport) -> Result<(), StepError> {
    let Some(dose_at) = visit.dose_at() else {
        return Err(StepError::AefiBeforeDose {
            expected: visit.next_step(),
        });
    };
    if report.onset < dose_at {
        return Err(StepError::OnsetBeforeDose {
            onset: report.onset,
            dose_at,
        });
    }
    if report.symptoms.is_empty() || report.symptoms.iter().any(|s| s.trim().is_empty()) {
        return Err(StepError::Empty("symptoms"));
    }
    crate::aefi::check_outcome(report.serious, report.outcome).map_err(StepError::Aefi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const PERSON: &str = "P-1";

    fn questionnaire() -> Vec<ScreeningQuestion> {
        let q = |id: &str, text: &str, yes_means| ScreeningQuestion {
            id: id.into(),
            text: text.into(),
            yes_means,
        };
        vec![
            q(
                "anaphylaxis",
                "Severe allergic reaction to a previous dose?",
                ScreeningEffect::Contraindicate,
            ),
            q(
                "acute_illness",
                "Acute illness in the last 7 days?",
                ScreeningEffect::Defer { days: 14 },
            ),
            q(
                "recent_vaccine",
                "Another vaccine in the last 14 days?",
                ScreeningEffect::Defer { days: 7 },
            ),
            q(
                "anticoagulant",
                "Taking anticoagulants?",
                ScreeningEffect::Nothing,
            ),
        ]
    }

    fn answers(yes: &[&str]) -> Vec<ScreeningAnswer> {
        questionnaire()
            .iter()
            .map(|q| ScreeningAnswer {
                question_id: q.id.clone(),
                yes: yes.contains(&q.id.as_str()),
            })
            .collect()
    }

    fn t(minutes: i64) -> OffsetDateTime {
        datetime!(2021-09-06 08:00 +07:00) + Duration::minutes(minutes)
    }

    /// A valid event performing `step` at minute `m`.
    fn event(step: Step, m: i64) -> VisitEvent {
        match step {
            Step::CheckIn => VisitEvent::CheckedIn {
                at: t(m),
                temperature_c: 36.6,
            },
            Step::IdentityCheck => VisitEvent::IdentityChecked {
                at: t(m),
                document: "cccd:022080000123".into(),
            },
            Step::Screening => VisitEvent::Screened {
                at: t(m),
                questionnaire_version: "covid-2021-08".into(),
                answers: answers(&["anticoagulant"]),
            },
            Step::Consent => VisitEvent::Consented {
                at: t(m),
                by: "Nguyen Van A".into(),
                consent_text_version: "consent-v3".into(),
                for_person_id: PERSON.into(),
            },
            Step::Dose => VisitEvent::DoseGiven {
                at: t(m),
                dose_record_id: "D-1".into(),
                vaccinator: "nurse-7".into(),
                station: "table-2".into(),
                lot_number: "ABV5811".into(),
            },
            Step::Observation | Step::Done => VisitEvent::ObservationEnded { at: t(m) },
        }
    }

    /// The six steps that are events, in order.
    const EVENT_STEPS: [Step; 6] = [
        Step::CheckIn,
        Step::IdentityCheck,
        Step::Screening,
        Step::Consent,
        Step::Dose,
        Step::Observation,
    ];

    fn step(visit: &Visit, e: VisitEvent) -> Result<Visit, StepError> {
        apply(
            visit,
            e,
            &questionnaire(),
            PERSON,
            DEFAULT_OBSERVATION_MINUTES,
        )
    }

    /// A visit that has done the steps before `upto`.
    fn visit_upto(upto: Step) -> Visit {
        EVENT_STEPS
            .iter()
            .filter(|s| **s < upto)
            .enumerate()
            .fold(Visit::new(), |v, (i, s)| {
                // The dose is at minute 4; observation ends 30 minutes later.
                let m = if *s == Step::Observation {
                    40
                } else {
                    i as i64
                };
                step(&v, event(*s, m)).unwrap()
            })
    }

    fn aefi(onset: OffsetDateTime, serious: bool) -> AefiReport {
        AefiReport {
            onset,
            symptoms: vec!["urticaria".into()],
            severity: Severity::Moderate,
            serious,
            causality: None,
            outcome: crate::aefi::AefiOutcome::Unknown,
            treatment: None,
        }
    }

    #[test]
    fn a_full_visit_goes_through_every_step() {
        let mut v = Visit::new();
        assert_eq!(v.next_step(), Some(Step::CheckIn));
        for (i, s) in EVENT_STEPS.iter().enumerate() {
            assert_eq!(v.outcome, Outcome::InProgress(*s));
            let m = if *s == Step::Observation {
                35
            } else {
                i as i64
            };
            v = step(&v, event(*s, m)).unwrap();
        }
        assert_eq!(v.outcome, Outcome::Done);
        assert_eq!(v.next_step(), None);
        assert_eq!(v.events.len(), 6);
        assert_eq!(v.dose_at(), Some(t(4)));
        assert_eq!(observation_ends_at(&v), Some(t(34)));
        // A reaction reported after the person went home.
        let report = aefi(t(120), true);
        let v = step(&v, VisitEvent::AdverseEvent(report.clone())).unwrap();
        assert_eq!(v.outcome, Outcome::Done);
        assert_eq!(v.aefi_reports().collect::<Vec<_>>(), vec![&report]);
        assert!(needs_investigation(&report));
        // Replaying the stored events gives the same visit.
        let replayed = Visit::replay(
            v.events.clone(),
            &questionnaire(),
            PERSON,
            DEFAULT_OBSERVATION_MINUTES,
        )
        .unwrap();
        assert_eq!(replayed, v);
    }

    #[test]
    fn every_skip_or_reorder_is_refused_naming_the_next_step() {
        let mut refused = 0;
        for expected in EVENT_STEPS {
            let v = visit_upto(expected);
            assert_eq!(v.outcome, Outcome::InProgress(expected));
            for got in EVENT_STEPS {
                // Late enough that only the order can be at fault.
                let result = step(&v, event(got, 100));
                if got == expected {
                    assert!(result.is_ok(), "{expected:?}: {result:?}");
                    continue;
                }
                let err = result.unwrap_err();
                assert_eq!(err, StepError::OutOfOrder { expected, got });
                assert_eq!(err.field(), "step");
                assert!(
                    err.to_string().contains(expected.label()),
                    "{err} should name {expected}"
                );
                refused += 1;
            }
            // A report is no step, but it needs the dose.
            if expected <= Step::Dose {
                let err = step(&v, VisitEvent::AdverseEvent(aefi(t(100), false))).unwrap_err();
                assert_eq!(
                    err,
                    StepError::AefiBeforeDose {
                        expected: Some(expected)
                    }
                );
                assert!(err.to_string().contains(expected.label()), "{err}");
                refused += 1;
            }
        }
        assert_eq!(refused, 6 * 5 + 5);
        assert_eq!(
            StepError::OutOfOrder {
                expected: Step::Consent,
                got: Step::Dose
            }
            .to_string(),
            "consent must come before dose"
        );
        assert_eq!(
            StepError::OutOfOrder {
                expected: Step::Consent,
                got: Step::CheckIn
            }
            .to_string(),
            "check-in is already done; consent comes next"
        );
    }

    #[test]
    fn finished_visits_refuse_everything_but_reports_after_a_dose() {
        let done = visit_upto(Step::Done);
        assert_eq!(done.outcome, Outcome::Done);
        let ended = |ending: Ending| {
            step(
                &visit_upto(Step::Consent),
                VisitEvent::Ended { at: t(10), ending },
            )
            .unwrap()
        };
        let finished = [
            done.clone(),
            ended(Ending::Refused {
                reason: "changed their mind".into(),
            }),
            ended(Ending::Contraindicated {
                reason: "pregnancy, first trimester".into(),
            }),
            ended(Ending::Deferred {
                until: date!(2021 - 09 - 20),
                reason: "on antibiotics".into(),
            }),
            step(
                &Visit::new(),
                VisitEvent::Ended {
                    at: t(0),
                    ending: Ending::NoShow,
                },
            )
            .unwrap(),
        ];
        for v in &finished {
            assert!(v.outcome.is_finished());
            let mut events: Vec<VisitEvent> = EVENT_STEPS.iter().map(|s| event(*s, 200)).collect();
            events.push(VisitEvent::Ended {
                at: t(200),
                ending: Ending::NoShow,
            });
            for e in events {
                let err = step(v, e).unwrap_err();
                assert_eq!(
                    err,
                    StepError::Finished {
                        outcome: v.outcome.as_str()
                    }
                );
            }
            let report = step(v, VisitEvent::AdverseEvent(aefi(t(200), false)));
            if v.outcome == Outcome::Done {
                assert!(report.is_ok());
            } else {
                assert_eq!(
                    report.unwrap_err(),
                    StepError::AefiBeforeDose { expected: None }
                );
            }
        }
    }

    fn check_in_at(temperature_c: f32) -> Result<Visit, StepError> {
        step(
            &Visit::new(),
            VisitEvent::CheckedIn {
                at: datetime!(2021-09-06 23:30 +07:00),
                temperature_c,
            },
        )
    }

    #[test]
    fn fever_at_check_in_defers_for_a_day() {
        let v = check_in_at(38.2).unwrap();
        assert_eq!(
            v.outcome,
            Outcome::Deferred {
                until: date!(2021 - 09 - 07),
                reason: "fever of 38.2 °C at check-in".into()
            }
        );
        assert!(matches!(
            check_in_at(FEVER_FROM_C).unwrap().outcome,
            Outcome::Deferred { .. }
        ));
        assert_eq!(
            check_in_at(37.4).unwrap().outcome,
            Outcome::InProgress(Step::IdentityCheck)
        );
        for bad in [29.9, 45.1, f32::NAN, f32::INFINITY, -37.0] {
            let err = check_in_at(bad).unwrap_err();
            assert!(matches!(err, StepError::TemperatureOutOfRange { .. }));
            assert_eq!(err.field(), "temperature_c");
        }
        assert!(check_in_at(30.0).is_ok() && check_in_at(45.0).is_ok());
    }

    fn screen_with(answers: Vec<ScreeningAnswer>) -> Result<Visit, StepError> {
        step(
            &visit_upto(Step::Screening),
            VisitEvent::Screened {
                at: t(10),
                questionnaire_version: "covid-2021-08".into(),
                answers,
            },
        )
    }

    #[test]
    fn screening_answers_decide_the_outcome() {
        let v = screen_with(answers(&["anaphylaxis", "acute_illness"])).unwrap();
        assert_eq!(
            v.outcome,
            Outcome::Contraindicated {
                reason: "Severe allergic reaction to a previous dose?".into()
            }
        );
        assert!(matches!(
            step(&v, event(Step::Consent, 11)),
            Err(StepError::Finished { .. })
        ));
        let v = screen_with(answers(&["recent_vaccine", "acute_illness"])).unwrap();
        assert_eq!(
            v.outcome,
            Outcome::Deferred {
                until: date!(2021 - 09 - 20),
                reason: "Acute illness in the last 7 days?; Another vaccine in the last 14 days?"
                    .into()
            }
        );
        let v = screen_with(answers(&["anticoagulant"])).unwrap();
        assert_eq!(v.outcome, Outcome::InProgress(Step::Consent));
    }

    #[test]
    fn screening_must_answer_each_question_exactly_once() {
        let mut a = answers(&[]);
        a.push(ScreeningAnswer {
            question_id: "pregnant".into(),
            yes: false,
        });
        let err = screen_with(a).unwrap_err();
        assert_eq!(err, StepError::UnknownQuestions(vec!["pregnant".into()]));
        assert_eq!(err.field(), "answers");

        let mut a = answers(&[]);
        a.retain(|x| x.question_id != "anaphylaxis" && x.question_id != "anticoagulant");
        let err = screen_with(a).unwrap_err();
        assert_eq!(
            err,
            StepError::UnansweredQuestions(vec!["anaphylaxis".into(), "anticoagulant".into()])
        );
        assert!(err.to_string().contains("anaphylaxis, anticoagulant"));

        let mut a = answers(&[]);
        a.push(ScreeningAnswer {
            question_id: "acute_illness".into(),
            yes: true,
        });
        assert_eq!(
            screen_with(a).unwrap_err(),
            StepError::RepeatedAnswers(vec!["acute_illness".into()])
        );

        let err = step(
            &visit_upto(Step::Screening),
            VisitEvent::Screened {
                at: t(10),
                questionnaire_version: " ".into(),
                answers: answers(&[]),
            },
        )
        .unwrap_err();
        assert_eq!(err.field(), "questionnaire_version");
    }

    #[test]
    fn consent_must_be_for_this_person() {
        let v = visit_upto(Step::Consent);
        let consent = |by: &str, for_person_id: &str| VisitEvent::Consented {
            at: t(10),
            by: by.into(),
            consent_text_version: "consent-v3".into(),
            for_person_id: for_person_id.into(),
        };
        let err = step(&v, consent("Tran Thi B (mother)", "P-2")).unwrap_err();
        assert_eq!(
            err,
            StepError::WrongPerson {
                for_person_id: "P-2".into(),
                person_id: PERSON.into()
            }
        );
        assert_eq!(err.field(), "for_person_id");
        assert!(err.to_string().starts_with("consent for the wrong person"));
        assert_eq!(
            step(&v, consent("", PERSON)).unwrap_err(),
            StepError::Empty("by")
        );
        // A guardian may consent for the person.
        let v = step(&v, consent("Tran Thi B (mother)", PERSON)).unwrap();
        assert_eq!(v.outcome, Outcome::InProgress(Step::Dose));
    }

    #[test]
    fn adverse_events_need_a_dose_and_an_onset_after_it() {
        let err = step(
            &visit_upto(Step::Dose),
            VisitEvent::AdverseEvent(aefi(t(10), false)),
        )
        .unwrap_err();
        assert_eq!(err.field(), "step");

        let observing = visit_upto(Step::Observation);
        let err = step(&observing, VisitEvent::AdverseEvent(aefi(t(3), false))).unwrap_err();
        assert_eq!(
            err,
            StepError::OnsetBeforeDose {
                onset: t(3),
                dose_at: t(4)
            }
        );
        assert_eq!(err.field(), "onset");

        let mut empty = aefi(t(10), false);
        empty.symptoms.clear();
        assert_eq!(
            step(&observing, VisitEvent::AdverseEvent(empty)).unwrap_err(),
            StepError::Empty("symptoms")
        );

        // During observation; the report does not end the observation, and a
        // late-reported onset does not hold back the events after it.
        let v = step(&observing, VisitEvent::AdverseEvent(aefi(t(4), false))).unwrap();
        assert_eq!(v.outcome, Outcome::InProgress(Step::Observation));
        let v = step(&v, event(Step::Observation, 34)).unwrap();
        let v = step(&v, VisitEvent::AdverseEvent(aefi(t(20), false))).unwrap();
        assert_eq!(v.aefi_reports().count(), 2);
        assert!(!needs_investigation(&aefi(t(20), false)));
        let severe_not_serious = AefiReport {
            severity: Severity::Severe,
            ..aefi(t(20), false)
        };
        assert!(!needs_investigation(&severe_not_serious));
        // A death reported as not serious is refused on `serious`.
        let death = AefiReport {
            outcome: crate::aefi::AefiOutcome::Death,
            ..aefi(t(20), false)
        };
        let err = step(&v, VisitEvent::AdverseEvent(death.clone())).unwrap_err();
        assert_eq!(err.field(), "serious");
        let serious = AefiReport {
            serious: true,
            ..death
        };
        assert!(step(&v, VisitEvent::AdverseEvent(serious)).is_ok());
    }

    #[test]
    fn observation_cannot_end_early() {
        let v = visit_upto(Step::Observation);
        let err = step(&v, event(Step::Observation, 33)).unwrap_err();
        assert_eq!(err, StepError::ObservationNotOver { earliest: t(34) });
        assert_eq!(err.field(), "at");
        assert!(step(&v, event(Step::Observation, 34)).is_ok());

        // A shorter observation set at the dose holds, whatever is passed later.
        let v = visit_upto(Step::Dose);
        let v = apply(&v, event(Step::Dose, 4), &questionnaire(), PERSON, 15).unwrap();
        assert_eq!(observation_ends_at(&v), Some(t(19)));
        let end = event(Step::Observation, 19);
        assert!(apply(&v, end.clone(), &questionnaire(), PERSON, 60).is_ok());
        assert!(observation_ends_at(&Visit::new()).is_none());
    }

    #[test]
    fn events_do_not_go_back_in_time() {
        let v = visit_upto(Step::Consent); // last event at minute 2
        let err = step(&v, event(Step::Consent, 1)).unwrap_err();
        assert_eq!(
            err,
            StepError::BackInTime {
                at: t(1),
                last: t(2)
            }
        );
        assert_eq!(err.field(), "at");
        assert!(step(&v, event(Step::Consent, 2)).is_ok());
        let early_end = VisitEvent::Ended {
            at: t(1),
            ending: Ending::Refused {
                reason: "needle phobia".into(),
            },
        };
        assert!(matches!(
            step(&v, early_end),
            Err(StepError::BackInTime { .. })
        ));
    }

    #[test]
    fn early_endings_have_their_rules() {
        let end = |v: &Visit, ending: Ending| step(v, VisitEvent::Ended { at: t(20), ending });
        let screening = visit_upto(Step::Screening);
        assert_eq!(
            end(&screening, Ending::NoShow).unwrap_err(),
            StepError::NoShowAfterCheckIn
        );
        assert_eq!(
            end(&screening, Ending::Refused { reason: "".into() }).unwrap_err(),
            StepError::Empty("reason")
        );
        let err = end(
            &screening,
            Ending::Deferred {
                until: date!(2021 - 09 - 05),
                reason: "fasting".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err.field(), "until");
        let v = end(
            &screening,
            Ending::Deferred {
                until: date!(2021 - 09 - 06),
                reason: "came back after lunch".into(),
            },
        )
        .unwrap();
        assert_eq!(v.outcome.as_str(), "deferred");
        // After the dose, only the observation ends the visit.
        let observing = visit_upto(Step::Observation);
        let err = end(
            &observing,
            Ending::Refused {
                reason: "wants to leave".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err, StepError::EndAfterDose);
        assert!(err.to_string().contains("observation"));
    }

    #[test]
    fn codes_read_back() {
        for s in Step::ALL {
            assert_eq!(Step::parse(s.as_str()), Some(s));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for c in Causality::ALL {
            assert_eq!(Causality::parse(c.as_str()), Some(c));
            assert!(c.as_str().starts_with(c.category()));
        }
        assert_eq!(
            Causality::parse("A4"),
            Some(Causality::ConsistentCausal(
                CausalReaction::ImmunizationStress
            ))
        );
        assert_eq!(Causality::parse("E"), None);
        assert_eq!(Step::CheckIn.next(), Some(Step::IdentityCheck));
        assert_eq!(Step::Done.next(), None);
    }
}
