//! The events of a visit as they are sent and stored: a JSON object with a
//! `kind` and its fields by key. The API's `POST /api/v1/visits/{id}/events`
//! and the vaccination table's forms both build such a body; these are the
//! rules that read it into a [`VisitEvent`], fill in what the server
//! decides (the time when none was given, the dose's record id and
//! vaccinator), recognise a form sent twice, and read a product's screening
//! questionnaire. The state machine itself is [`crate::visit`].

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::visit::{
    AefiReport, Causality, Ending, ScreeningAnswer, ScreeningEffect, ScreeningQuestion, Severity,
    VisitEvent,
};

/// Events may not be dated later than this ahead of the server's clock.
pub const CLOCK_SKEW_MINUTES: i64 = 10;

/// The longest client id a form or a client may send with an event.
pub const MAX_CLIENT_ID: usize = 64;

/// A field of an event body that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The questionnaire used for a product without one of its own (Ministry
/// of Health screening for COVID-19 vaccination, in substance).
pub fn default_questionnaire() -> (String, Vec<ScreeningQuestion>) {
    let q = |id: &str, text: &str, yes_means| ScreeningQuestion {
        id: id.into(),
        text: text.into(),
        yes_means,
    };
    (
        "default-1".into(),
        vec![
            q("anaphylaxis", "Severe allergic reaction (anaphylaxis) to a previous dose or a component of this vaccine?", ScreeningEffect::Contraindicate),
            q("acute_illness", "Acutely ill, or a fever in the last 3 days?", ScreeningEffect::Defer { days: 7 }),
            q("recent_vaccine", "Another vaccine in the last 14 days?", ScreeningEffect::Defer { days: 14 }),
            q("recent_covid", "COVID-19 in the last 90 days?", ScreeningEffect::Defer { days: 90 }),
        ],
    )
}

fn effect_json(e: ScreeningEffect) -> Value {
    match e {
        ScreeningEffect::Nothing => json!("nothing"),
        ScreeningEffect::Contraindicate => json!("contraindicate"),
        ScreeningEffect::Defer { days } => json!({ "defer_days": days }),
    }
}

/// A questionnaire's questions as stored and shown by the API.
pub fn questions_json(questions: &[ScreeningQuestion]) -> Value {
    Value::Array(
        questions
            .iter()
            .map(|q| json!({"id": q.id, "text": q.text, "yes_means": effect_json(q.yes_means)}))
            .collect(),
    )
}

/// Reads a questionnaire's questions: 1 to 50, ids unique, texts 1 to 500
/// characters, `yes_means` one of the effects.
pub fn questions_from(v: &Value) -> Result<Vec<ScreeningQuestion>, FieldError> {
    let list = v
        .as_array()
        .ok_or_else(|| FieldError::new("questions", "questions must be a list"))?;
    if list.is_empty() || list.len() > 50 {
        return Err(FieldError::new(
            "questions",
            "a questionnaire has 1 to 50 questions",
        ));
    }
    let mut out = Vec::new();
    for (i, q) in list.iter().enumerate() {
        let text = |k: &str| {
            q[k].as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.len() <= 500)
                .map(str::to_string)
                .ok_or_else(|| {
                    FieldError::new(
                        format!("questions[{i}].{k}"),
                        format!("{k} must be 1 to 500 characters"),
                    )
                })
        };
        let yes_means = match &q["yes_means"] {
            Value::String(s) if s == "nothing" => ScreeningEffect::Nothing,
            Value::String(s) if s == "contraindicate" => ScreeningEffect::Contraindicate,
            Value::Object(o) => match o.get("defer_days").and_then(Value::as_u64) {
                Some(days @ 0..=365) => ScreeningEffect::Defer { days: days as u32 },
                _ => {
                    return Err(FieldError::new(
                        format!("questions[{i}].yes_means"),
                        "defer_days must be 0 to 365",
                    ))
                }
            },
            _ => {
                return Err(FieldError::new(
                    format!("questions[{i}].yes_means"),
                    "yes_means is \"nothing\", \"contraindicate\" or {\"defer_days\": N}",
                ))
            }
        };
        let id = text("id")?;
        if out.iter().any(|o: &ScreeningQuestion| o.id == id) {
            return Err(FieldError::new(
                format!("questions[{i}].id"),
                format!("question id {id} is repeated"),
            ));
        }
        out.push(ScreeningQuestion {
            id,
            text: text("text")?,
            yes_means,
        });
    }
    Ok(out)
}

/// The key holding an event's time: `onset` for an adverse event, else `at`.
pub fn time_key(body: &Value) -> &'static str {
    if body["kind"] == "adverse_event" {
        "onset"
    } else {
        "at"
    }
}

/// Fills in what the server decides before an event is checked and
/// stored: its time when the sender left it out (so a replay sees the same
/// time), and for a dose the record id (`dose_record_id`, following from
/// the visit, so a retry records the dose once) and the vaccinator (the
/// caller). Whatever the sender put in those two is replaced.
pub fn complete(
    body: &mut Value,
    now: OffsetDateTime,
    dose_record_id: &str,
    vaccinator: &str,
) -> Result<(), FieldError> {
    if !body.is_object() {
        return Err(FieldError::new(
            "body",
            "an event is a JSON object with a kind",
        ));
    }
    let key = time_key(body);
    if body[key].is_null() {
        body[key] = Value::String(now.format(&Rfc3339).unwrap_or_default());
    }
    if body["kind"] == "dose" {
        body["dose_record_id"] = Value::String(dose_record_id.to_string());
        body["vaccinator"] = Value::String(vaccinator.to_string());
    }
    Ok(())
}

/// The client id an event carries (a form's hidden field, or a client's own
/// retry key): absent, or 1 to [`MAX_CLIENT_ID`] printable characters.
pub fn client_id(body: &Value) -> Result<Option<&str>, FieldError> {
    match &body["client_id"] {
        Value::Null => Ok(None),
        Value::String(s)
            if !s.is_empty()
                && s.len() <= MAX_CLIENT_ID
                && s.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(Some(s))
        }
        _ => Err(FieldError::new(
            "client_id",
            format!("client_id is 1 to {MAX_CLIENT_ID} printable ASCII characters"),
        )),
    }
}

/// Whether an event with this client id is already among the stored
/// events: the same form sent twice records once, and the second sending
/// is answered with the visit as it is.
pub fn already_recorded(stored: &[Value], client_id: Option<&str>) -> bool {
    client_id.is_some_and(|id| stored.iter().any(|e| e["client_id"] == id))
}

fn instant(field: &str, v: &Value, now: OffsetDateTime) -> Result<OffsetDateTime, FieldError> {
    let at = match v {
        Value::Null => return Ok(now),
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            FieldError::new(
                field,
                format!("'{s}' is not a date-time (RFC 3339, with offset)"),
            )
        })?,
        _ => return Err(FieldError::new(field, "a date-time (RFC 3339) is expected")),
    };
    if at > now + time::Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(FieldError::new(field, "the time is in the future"));
    }
    Ok(at)
}

fn text(body: &Value, field: &str) -> Result<String, FieldError> {
    body[field]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 500)
        .map(str::to_string)
        .ok_or_else(|| FieldError::new(field, format!("{field} is required (1 to 500 characters)")))
}

/// An optional text field of an adverse event: absent (or null), or a string.
fn aefi_field<'a>(v: &'a Value, field: &str) -> Result<Option<&'a str>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(FieldError::new(field, format!("{field} must be text"))),
    }
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Reads one event as stored or sent. Times may not be later than `now`
/// (give or take [`CLOCK_SKEW_MINUTES`]); a time left out is `now`.
pub fn event_from(body: &Value, now: OffsetDateTime) -> Result<VisitEvent, FieldError> {
    let kind = body["kind"].as_str().unwrap_or("");
    let at = || instant("at", &body["at"], now);
    Ok(match kind {
        "check_in" => VisitEvent::CheckedIn {
            at: at()?,
            temperature_c: body["temperature_c"]
                .as_f64()
                .ok_or_else(|| FieldError::new("temperature_c", "temperature_c (°C) is required"))?
                as f32,
        },
        "identity_check" => VisitEvent::IdentityChecked {
            at: at()?,
            document: text(body, "document")?,
        },
        "screening" => {
            let answers = screening_answers(body)?;
            VisitEvent::Screened {
                at: at()?,
                questionnaire_version: text(body, "questionnaire_version")?,
                answers,
            }
        }
        "consent" => VisitEvent::Consented {
            at: at()?,
            by: text(body, "by")?,
            consent_text_version: text(body, "consent_text_version")?,
            for_person_id: text(body, "for_person_id")?,
        },
        "dose" => VisitEvent::DoseGiven {
            at: at()?,
            dose_record_id: body["dose_record_id"].as_str().unwrap_or("").to_string(),
            vaccinator: body["vaccinator"].as_str().unwrap_or("").to_string(),
            station: text(body, "station")?,
            lot_number: text(body, "lot_number")?,
        },
        "observation_end" => VisitEvent::ObservationEnded { at: at()? },
        "adverse_event" => VisitEvent::AdverseEvent(aefi_report(body, now)?),
        "end" => {
            let ending = ending(body)?;
            VisitEvent::Ended { at: at()?, ending }
        }
        other => {
            return Err(FieldError::new(
                "kind",
                format!(
                    "'{other}' is not an event: check_in, identity_check, screening, consent, \
                     dose, observation_end, adverse_event or end"
                ),
            ))
        }
    })
}

/// The answers of a screening event: a list of {question_id, yes}.
fn screening_answers(body: &Value) -> Result<Vec<ScreeningAnswer>, FieldError> {
    body["answers"]
        .as_array()
        .ok_or_else(|| FieldError::new("answers", "answers must be a list of {question_id, yes}"))?
        .iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(ScreeningAnswer {
                question_id: a["question_id"]
                    .as_str()
                    .ok_or_else(|| {
                        FieldError::new(
                            format!("answers[{i}].question_id"),
                            "question_id is required",
                        )
                    })?
                    .to_string(),
                yes: a["yes"].as_bool().ok_or_else(|| {
                    FieldError::new(format!("answers[{i}].yes"), "yes must be true or false")
                })?,
            })
        })
        .collect()
}

/// The report of an adverse event: its onset (not later than `now`),
/// symptoms, severity, and the optional causality, outcome and treatment.
fn aefi_report(body: &Value, now: OffsetDateTime) -> Result<AefiReport, FieldError> {
    Ok(AefiReport {
        onset: instant("onset", &body["onset"], now)?,
        symptoms: body["symptoms"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        severity: body["severity"]
            .as_str()
            .and_then(Severity::parse)
            .ok_or_else(|| FieldError::new("severity", "severity is mild, moderate or severe"))?,
        serious: body["serious"].as_bool().unwrap_or(false),
        causality: match body["causality"].as_str() {
            None => None,
            Some(c) => Some(Causality::parse(c).ok_or_else(|| {
                FieldError::new(
                    "causality",
                    "causality is a WHO category: A1, A2, A3, A4, B1, B2, C or D",
                )
            })?),
        },
        outcome: aefi_field(&body["outcome"], "outcome").and_then(|v| {
            crate::aefi::outcome(v).map_err(|e| FieldError::new(e.field(), e.to_string()))
        })?,
        treatment: aefi_field(&body["treatment"], "treatment").and_then(|v| {
            crate::aefi::treatment(v).map_err(|e| FieldError::new(e.field(), e.to_string()))
        })?,
    })
}

/// How an `end` event ends the visit; a deferral needs its date, every
/// ending but a no-show its reason.
fn ending(body: &Value) -> Result<Ending, FieldError> {
    let reason = || text(body, "reason");
    Ok(match body["ending"].as_str().unwrap_or("") {
        "deferred" => Ending::Deferred {
            until: body["until"].as_str().and_then(parse_date).ok_or_else(|| {
                FieldError::new("until", "until (YYYY-MM-DD) is required to defer")
            })?,
            reason: reason()?,
        },
        "contraindicated" => Ending::Contraindicated { reason: reason()? },
        "refused" => Ending::Refused { reason: reason()? },
        "no_show" => Ending::NoShow,
        other => {
            return Err(FieldError::new(
                "ending",
                format!(
                    "'{other}' is not an ending: deferred, contraindicated, refused or no_show"
                ),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2021-07-01 08:00 UTC);

    #[test]
    fn a_time_left_out_is_now_and_the_server_names_the_dose() {
        let mut body = json!({"kind": "dose", "lot_number": "AZ-1", "station": "B1",
                              "dose_record_id": "mine", "vaccinator": "someone else"});
        complete(&mut body, NOW, "d-1", "nurse1").unwrap();
        assert_eq!(body["at"], "2021-07-01T08:00:00Z");
        assert_eq!(body["dose_record_id"], "d-1");
        assert_eq!(body["vaccinator"], "nurse1");
        let event = event_from(&body, NOW).unwrap();
        assert!(
            matches!(event, VisitEvent::DoseGiven { ref vaccinator, .. } if vaccinator == "nurse1")
        );
        // A reaction's time is its onset; a time given is kept.
        let mut aefi = json!({"kind": "adverse_event", "severity": "mild"});
        complete(&mut aefi, NOW, "d-1", "nurse1").unwrap();
        assert_eq!(aefi["onset"], "2021-07-01T08:00:00Z");
        assert!(aefi.get("at").is_none() && aefi.get("vaccinator").is_none());
        let mut given =
            json!({"kind": "check_in", "at": "2021-07-01T07:50:00+07:00", "temperature_c": 36.5});
        complete(&mut given, NOW, "d", "n").unwrap();
        assert_eq!(given["at"], "2021-07-01T07:50:00+07:00");
        assert_eq!(
            complete(&mut json!([1]), NOW, "d", "n").unwrap_err().field,
            "body"
        );
    }

    #[test]
    fn events_are_read_field_by_field() {
        let err = |body: Value| event_from(&body, NOW).unwrap_err();
        assert_eq!(err(json!({"kind": "check_in"})).field, "temperature_c");
        assert_eq!(err(json!({"kind": "nap"})).field, "kind");
        assert_eq!(
            err(json!({"kind": "check_in", "temperature_c": 36.5, "at": "2021-07-01T08:11:00Z"})),
            FieldError::new("at", "the time is in the future")
        );
        assert_eq!(
            err(json!({"kind": "check_in", "temperature_c": 36.5, "at": "yesterday"})).field,
            "at"
        );
        assert_eq!(
            err(json!({"kind": "screening", "questionnaire_version": "v", "answers": [{"question_id": "a", "yes": "no"}]}))
                .field,
            "answers[0].yes"
        );
        assert_eq!(
            err(json!({"kind": "consent", "by": " ", "consent_text_version": "v", "for_person_id": "p"})).field,
            "by"
        );
        assert_eq!(
            err(json!({"kind": "adverse_event", "severity": "awful"})).field,
            "severity"
        );
        assert_eq!(
            err(json!({"kind": "adverse_event", "severity": "mild", "causality": "Z9"})).field,
            "causality"
        );
        assert_eq!(
            err(json!({"kind": "end", "ending": "deferred", "reason": "fever"})).field,
            "until"
        );
        assert_eq!(
            err(json!({"kind": "end", "ending": "gone"})).field,
            "ending"
        );
        // Within the clock skew, a time slightly ahead is accepted.
        let ok = event_from(
            &json!({"kind": "check_in", "temperature_c": 36.6, "at": "2021-07-01T08:09:00Z"}),
            NOW,
        )
        .unwrap();
        assert_eq!(ok.at(), datetime!(2021-07-01 08:09 UTC));
        let serious = event_from(
            &json!({"kind": "adverse_event", "severity": "severe", "serious": true, "symptoms": ["anaphylaxis"]}),
            NOW,
        )
        .unwrap();
        match serious {
            VisitEvent::AdverseEvent(r) => {
                assert!(r.serious && r.severity == Severity::Severe && r.onset == NOW);
                assert_eq!(r.symptoms, ["anaphylaxis"]);
                assert_eq!(r.outcome, crate::aefi::AefiOutcome::Unknown);
                assert_eq!(r.treatment, None);
            }
            other => panic!("{other:?}"),
        }
        // Outcome and treatment are read and checked by field.
        let treated = event_from(
            &json!({"kind": "adverse_event", "severity": "severe", "serious": true, "symptoms": ["anaphylaxis"],
                    "outcome": "hospitalised", "treatment": " adrenaline 0.5 mg IM "}),
            NOW,
        )
        .unwrap();
        match treated {
            VisitEvent::AdverseEvent(r) => {
                assert_eq!(r.outcome, crate::aefi::AefiOutcome::Hospitalised);
                assert_eq!(r.treatment.as_deref(), Some("adrenaline 0.5 mg IM"));
            }
            other => panic!("{other:?}"),
        }
        for (body, field) in [
            (
                json!({"kind": "adverse_event", "severity": "mild", "outcome": "dead"}),
                "outcome",
            ),
            (
                json!({"kind": "adverse_event", "severity": "mild", "outcome": 3}),
                "outcome",
            ),
            (
                json!({"kind": "adverse_event", "severity": "mild", "treatment": "x".repeat(501)}),
                "treatment",
            ),
            (
                json!({"kind": "adverse_event", "severity": "mild", "treatment": ["rest"]}),
                "treatment",
            ),
            (
                json!({"kind": "adverse_event", "severity": "mild", "onset": "2021-07-02T08:00:00Z"}),
                "onset",
            ),
        ] {
            assert_eq!(err(body.clone()).field, field, "{body}");
        }
        let deferred = event_from(
            &json!({"kind": "end", "ending": "deferred", "until": "2021-07-08", "reason": "fever"}),
            NOW,
        )
        .unwrap();
        assert!(matches!(
            deferred,
            VisitEvent::Ended {
                ending: Ending::Deferred { .. },
                ..
            }
        ));
    }

    #[test]
    fn the_same_form_sent_twice_is_recognised_by_its_client_id() {
        let stored = vec![
            json!({"kind": "check_in", "client_id": "c-1"}),
            json!({"kind": "identity_check"}),
        ];
        assert!(already_recorded(&stored, Some("c-1")));
        assert!(!already_recorded(&stored, Some("c-2")));
        assert!(!already_recorded(&stored, None));
        assert_eq!(client_id(&json!({"client_id": "c-1"})), Ok(Some("c-1")));
        assert_eq!(client_id(&json!({})), Ok(None));
        for bad in [json!(""), json!(7), json!("a b"), json!("x".repeat(65))] {
            assert_eq!(
                client_id(&json!({ "client_id": bad })).unwrap_err().field,
                "client_id"
            );
        }
    }

    #[test]
    fn questionnaires_are_read_and_written_alike() {
        let (version, questions) = default_questionnaire();
        assert_eq!(version, "default-1");
        assert_eq!(
            questions_from(&questions_json(&questions)).unwrap(),
            questions
        );
        assert_eq!(questions_from(&json!([])).unwrap_err().field, "questions");
        let repeated = json!([
            {"id": "a", "text": "A?", "yes_means": "nothing"},
            {"id": "a", "text": "B?", "yes_means": {"defer_days": 3}},
        ]);
        assert_eq!(
            questions_from(&repeated).unwrap_err().field,
            "questions[1].id"
        );
        let bad = json!([{"id": "a", "text": "A?", "yes_means": {"defer_days": 400}}]);
        assert_eq!(
            questions_from(&bad).unwrap_err().field,
            "questions[0].yes_means"
        );
    }
}
