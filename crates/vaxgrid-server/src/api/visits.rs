//! /api/v1/visits: the vaccination table, step by step. Each event is a JSON
//! body with a `kind`; it is checked by the visit state machine of
//! `vaxgrid_core::visit` against the events before it (replayed from the
//! store), so a step skipped or out of order is refused naming the step
//! expected. The dose step records the dose through the dose writer, with
//! the same rules as `POST /api/v1/doses`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use vaxgrid_core::access::{permits, Permission};
use vaxgrid_core::visit::{
    apply, needs_investigation, observation_ends_at, AefiReport, Causality, Ending, Outcome,
    ScreeningAnswer, ScreeningEffect, ScreeningQuestion, Severity, StepError, Visit, VisitEvent,
    DEFAULT_OBSERVATION_MINUTES,
};
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::visits::{VisitRow, VisitState};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{uuid_field, ApiJson};
use crate::AppState;

/// Events may not be dated later than this ahead of the server's clock.
const CLOCK_SKEW_MINUTES: i64 = 10;

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

fn questions_json(questions: &[ScreeningQuestion]) -> Value {
    Value::Array(
        questions
            .iter()
            .map(|q| json!({"id": q.id, "text": q.text, "yes_means": effect_json(q.yes_means)}))
            .collect(),
    )
}

fn questions_from(v: &Value) -> Result<Vec<ScreeningQuestion>, ApiError> {
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::invalid("questions", "questions must be a list"))?;
    if list.is_empty() || list.len() > 50 {
        return Err(ApiError::invalid(
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
                    ApiError::invalid(
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
                    return Err(ApiError::invalid(
                        format!("questions[{i}].yes_means"),
                        "defer_days must be 0 to 365",
                    ))
                }
            },
            _ => {
                return Err(ApiError::invalid(
                    format!("questions[{i}].yes_means"),
                    "yes_means is \"nothing\", \"contraindicate\" or {\"defer_days\": N}",
                ))
            }
        };
        let id = text("id")?;
        if out.iter().any(|o: &ScreeningQuestion| o.id == id) {
            return Err(ApiError::invalid(
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

/// The questionnaire of a product: its own, or the default.
async fn questionnaire_of(
    app: &AppState,
    product: &str,
) -> Result<(String, Vec<ScreeningQuestion>), ApiError> {
    match app.store.questionnaire(product).await? {
        Some((version, questions)) => Ok((version, questions_from(&questions)?)),
        None => Ok(default_questionnaire()),
    }
}

fn instant(field: &str, v: &Value) -> Result<OffsetDateTime, ApiError> {
    let now = OffsetDateTime::now_utc();
    let at = match v {
        Value::Null => return Ok(now),
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            ApiError::invalid(
                field,
                format!("'{s}' is not a date-time (RFC 3339, with offset)"),
            )
        })?,
        _ => {
            return Err(ApiError::invalid(
                field,
                "a date-time (RFC 3339) is expected",
            ))
        }
    };
    if at > now + time::Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(ApiError::invalid(field, "the time is in the future"));
    }
    Ok(at)
}

fn text(body: &Value, field: &str) -> Result<String, ApiError> {
    body[field]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 500)
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::invalid(field, format!("{field} is required (1 to 500 characters)"))
        })
}

/// Reads one event as stored or sent (the dose's record id and vaccinator
/// are filled in by the server before it is stored).
fn event_from(body: &Value) -> Result<VisitEvent, ApiError> {
    let kind = body["kind"].as_str().unwrap_or("");
    let at = || instant("at", &body["at"]);
    Ok(match kind {
        "check_in" => VisitEvent::CheckedIn {
            at: at()?,
            temperature_c: body["temperature_c"]
                .as_f64()
                .ok_or_else(|| ApiError::invalid("temperature_c", "temperature_c (°C) is required"))? as f32,
        },
        "identity_check" => VisitEvent::IdentityChecked { at: at()?, document: text(body, "document")? },
        "screening" => {
            let answers = body["answers"]
                .as_array()
                .ok_or_else(|| ApiError::invalid("answers", "answers must be a list of {question_id, yes}"))?
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    Ok(ScreeningAnswer {
                        question_id: a["question_id"]
                            .as_str()
                            .ok_or_else(|| ApiError::invalid(format!("answers[{i}].question_id"), "question_id is required"))?
                            .to_string(),
                        yes: a["yes"]
                            .as_bool()
                            .ok_or_else(|| ApiError::invalid(format!("answers[{i}].yes"), "yes must be true or false"))?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            VisitEvent::Screened { at: at()?, questionnaire_version: text(body, "questionnaire_version")?, answers }
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
        "adverse_event" => VisitEvent::AdverseEvent(AefiReport {
            onset: instant("onset", &body["onset"])?,
            symptoms: body["symptoms"]
                .as_array()
                .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            severity: body["severity"]
                .as_str()
                .and_then(Severity::parse)
                .ok_or_else(|| ApiError::invalid("severity", "severity is mild, moderate or severe"))?,
            serious: body["serious"].as_bool().unwrap_or(false),
            causality: match body["causality"].as_str() {
                None => None,
                Some(c) => Some(Causality::parse(c).ok_or_else(|| {
                    ApiError::invalid("causality", "causality is a WHO category: A1, A2, A3, A4, B1, B2, C or D")
                })?),
            },
        }),
        "end" => {
            let reason = || text(body, "reason");
            let ending = match body["ending"].as_str().unwrap_or("") {
                "deferred" => Ending::Deferred {
                    until: body["until"]
                        .as_str()
                        .and_then(vaxgrid_store::parse_date)
                        .ok_or_else(|| ApiError::invalid("until", "until (YYYY-MM-DD) is required to defer"))?,
                    reason: reason()?,
                },
                "contraindicated" => Ending::Contraindicated { reason: reason()? },
                "refused" => Ending::Refused { reason: reason()? },
                "no_show" => Ending::NoShow,
                other => {
                    return Err(ApiError::invalid(
                        "ending",
                        format!("'{other}' is not an ending: deferred, contraindicated, refused or no_show"),
                    ))
                }
            };
            VisitEvent::Ended { at: at()?, ending }
        }
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("'{other}' is not an event: check_in, identity_check, screening, consent, dose, observation_end, adverse_event or end"),
            ))
        }
    })
}

fn step_error(e: StepError) -> ApiError {
    ApiError::invalid(e.field(), e.to_string())
}

/// The visit as the state machine sees it, from its stored events.
async fn replayed(
    app: &AppState,
    row: &VisitRow,
) -> Result<(Visit, Vec<ScreeningQuestion>), ApiError> {
    let (_, questions) = questionnaire_of(app, &row.product_code).await?;
    let events = row
        .events
        .iter()
        .map(event_from)
        .collect::<Result<Vec<_>, _>>()?;
    let visit = Visit::replay(
        events,
        &questions,
        &row.person_id,
        DEFAULT_OBSERVATION_MINUTES,
    )
    .map_err(step_error)?;
    Ok((visit, questions))
}

fn outcome_text(o: &Outcome) -> String {
    o.as_str().to_string()
}

/// A stored visit as the API shows it, replaying its events.
async fn view(app: &AppState, row: VisitRow) -> Result<Value, ApiError> {
    let (visit, _) = replayed(app, &row).await?;
    view_of(app, row, &visit).await
}

/// A visit as the API shows it, given what its events make of it.
async fn view_of(app: &AppState, row: VisitRow, visit: &Visit) -> Result<Value, ApiError> {
    let investigations = app.store.investigations_of(&row.id).await?;
    let mut v = serde_json::to_value(&row).unwrap_or_default();
    v["outcome_detail"] = match &visit.outcome {
        Outcome::Deferred { until, reason } => {
            json!({"until": vaxgrid_store::format_date(*until), "reason": reason})
        }
        Outcome::Contraindicated { reason } | Outcome::Refused { reason } => {
            json!({"reason": reason})
        }
        _ => Value::Null,
    };
    v["may_leave_at"] = observation_ends_at(visit)
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String);
    v["investigations"] = Value::Array(
        investigations
            .into_iter()
            .map(|(id, status, causality)| json!({"id": id, "status": status, "causality": causality}))
            .collect(),
    );
    Ok(v)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    id: Option<String>,
    person_id: String,
    site_code: String,
    product_code: String,
    appointment_id: Option<String>,
}

/// Opens a visit: the person arrives at the site.
#[utoipa::path(
    post,
    path = "/api/v1/visits",
    summary = "Open a visit at the vaccination table: {id?, person_id, site_code, product_code, appointment_id?}",
    request_body = OpenBody,
    responses(
        (status = 201, description = "the visit, waiting for check-in"),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn open(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<OpenBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::Visit).await?;
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let person = uuid_field("person_id", &b.person_id)?;
    let appointment = b
        .appointment_id
        .as_deref()
        .map(|a| uuid_field("appointment_id", a))
        .transpose()?;
    let row = app
        .store
        .open_visit(
            &id,
            &person,
            &b.site_code,
            &b.product_code,
            appointment.as_deref(),
            &actor,
        )
        .await?;
    let location = format!("/api/v1/visits/{id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view(&app, row).await?),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/visits/{id}",
    summary = "A visit: its events, outcome, next step, when the person may leave observation, investigations of serious adverse events",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "OK"),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let row = app
        .store
        .visit_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(view(&app, row).await?))
}

/// Records the next event of a visit.
#[utoipa::path(
    post,
    path = "/api/v1/visits/{id}/events",
    summary = "The next event of a visit, by kind: check_in {temperature_c} (fever >= 37.5 °C defers), identity_check {document}, screening {questionnaire_version, answers[{question_id, yes}]}, consent {by, consent_text_version, for_person_id}, dose {lot_number, station} (needs RecordDose; recorded through the dose rules), observation_end, adverse_event {onset, symptoms[], severity, serious, causality?} (serious opens an investigation), end {ending: deferred|contraindicated|refused|no_show, reason, until}. `at` (RFC 3339) defaults to now. A step skipped or out of order answers 422 naming the step expected.",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = 200, description = "the visit after the event"),
        (status = 400, response = crate::error::Problem),
        (status = 403, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn event(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = uuid_field("id", &id)?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "body",
            "an event is a JSON object with a kind",
        ));
    }
    let actor = caller.actor(&app, Permission::Visit).await?;
    let row = app
        .store
        .visit_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let (visit, questions) = replayed(&app, &row).await?;
    // Normalise the times the client left out, so a replay sees the same.
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let time_key = if body["kind"] == "adverse_event" {
        "onset"
    } else {
        "at"
    };
    if body[time_key].is_null() {
        body[time_key] = Value::String(now);
    }
    if body["kind"] == "dose" {
        // The dose's record id follows from the visit (a retry records it
        // once); the vaccinator is the caller.
        body["dose_record_id"] = Value::String(crate::exchange::dose_id_for("visit", &row.id));
        body["vaccinator"] = Value::String(caller.name());
    }
    let event = event_from(&body)?;
    // The order is checked before any dose is recorded.
    let next = apply(
        &visit,
        event.clone(),
        &questions,
        &row.person_id,
        DEFAULT_OBSERVATION_MINUTES,
    )
    .map_err(step_error)?;
    if let VisitEvent::DoseGiven { .. } = &event {
        give_dose(&app, &caller, &row, &event).await?;
    }
    let investigation = match &event {
        VisitEvent::AdverseEvent(report) if needs_investigation(report) => {
            Some(uuid::Uuid::now_v7().to_string())
        }
        _ => None,
    };
    let state = state_after(&next);
    let saved = app
        .store
        .append_visit_event(&row, body, &state, investigation.as_deref(), &actor)
        .await?;
    // The visit after the event is `next`: no need to replay it again.
    Ok(Json(view_of(&app, saved, &next).await?))
}

/// The dose step: the caller must hold a role that gives doses; the dose
/// goes through the dose writer with the rules of `POST /api/v1/doses`.
async fn give_dose(
    app: &AppState,
    caller: &Caller,
    row: &VisitRow,
    event: &VisitEvent,
) -> Result<(), ApiError> {
    let VisitEvent::DoseGiven {
        at,
        lot_number,
        dose_record_id,
        ..
    } = event
    else {
        return Ok(());
    };
    let holds = caller.principal.as_ref().is_some_and(|p| {
        p.grants
            .iter()
            .any(|g| permits(g.role, Permission::RecordDose))
    });
    if !holds {
        return Err(ApiError::Forbidden {
            message: format!("{} may not give doses", caller.name()),
        });
    }
    let by = caller.actor(app, Permission::RecordDose).await?;
    let mut request = crate::api::doses::dose_request(
        crate::api::doses::DoseBody {
            id: dose_record_id.clone(),
            person_id: row.person_id.clone(),
            product_code: row.product_code.clone(),
            lot_number: Some(lot_number.clone()),
            site_code: Some(row.site_code.clone()),
            administered_on: vaxgrid_store::format_date(at.date()),
            dose_number: None,
            vaccinator: Some(by.name.clone()),
            override_reason: None,
            historical: false,
        },
        by,
    )?;
    // The writer refuses the dose (and so this event) unless the
    // vaccinator's certificate is current that day.
    request.requires_certificate = crate::api::training::certificate_needed(caller);
    match app.writer.submit(WriteCommand::Dose(request)).await? {
        WriteOutcome::Created(_) | WriteOutcome::Existing(_) => {}
        WriteOutcome::Merged { .. } => {
            return Err(ApiError::bad_request("body", "unexpected outcome"))
        }
    }
    Ok(())
}

/// What the store keeps beside the events: the visit's state after them.
fn state_after(next: &Visit) -> VisitState {
    VisitState {
        outcome: outcome_text(&next.outcome),
        next_step: next.next_step().map(|s| s.as_str().to_string()),
        observation_ends_micros: observation_ends_at(next)
            .map(|t| (t.unix_timestamp_nanos() / 1000) as i64),
        ended_reason: match &next.outcome {
            Outcome::Deferred { reason, .. }
            | Outcome::Contraindicated { reason }
            | Outcome::Refused { reason } => Some(reason.clone()),
            _ => None,
        },
        deferred_until: match &next.outcome {
            Outcome::Deferred { until, .. } => Some(vaxgrid_store::format_date(*until)),
            _ => None,
        },
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireBody {
    version: String,
    questions: Value,
}

/// A product's screening questionnaire (its own or the default).
#[utoipa::path(
    get,
    path = "/api/v1/products/{code}/screening",
    summary = "The product's screening questionnaire (its own, or the default)",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "{product_code, version, questions[{id, text, yes_means}]}"),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_questionnaire(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.store.product(&code).await.map_err(ApiError::lookup)?;
    let (version, questions) = questionnaire_of(&app, &code).await?;
    Ok(Json(
        json!({"product_code": code, "version": version, "questions": questions_json(&questions)}),
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/products/{code}/screening",
    summary = "Set the product's screening questionnaire: {version, questions[{id, text, yes_means: nothing|contraindicate|{defer_days}}]}",
    params(("code" = String, Path)),
    request_body = QuestionnaireBody,
    responses(
        (status = 200, description = "OK"),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_questionnaire(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<QuestionnaireBody>,
) -> Result<Json<Value>, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let questions = questions_from(&b.questions)?;
    if b.version.trim().is_empty() || b.version.len() > 64 {
        return Err(ApiError::invalid(
            "version",
            "version must be 1 to 64 characters",
        ));
    }
    app.store
        .set_questionnaire(&code, b.version.trim(), &questions_json(&questions), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(
        json!({"product_code": code, "version": b.version.trim(), "questions": questions_json(&questions)}),
    ))
}

/// Who is in observation at a site, and when each may leave.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/observation",
    summary = "Who is in observation at the site, and when each may leave",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "OK"),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn observation(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // The board names persons: only staff of this site (or a caller whose
    // scope is everywhere) see it; any other site reads as absent.
    let actor = caller
        .actor(&app, vaxgrid_core::access::Permission::Visit)
        .await?;
    if !actor.scope.covers_site(&code) {
        return Err(ApiError::NotFound {
            what: format!("site '{code}'"),
        });
    }
    app.store.site(&code).await.map_err(ApiError::lookup)?;
    let now = vaxgrid_store::now_micros();
    let rows = app.store.in_observation(&code).await?;
    let list: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let ends = r.observation_ends_micros.unwrap_or(0);
            json!({
                "visit_id": r.id,
                "person_id": r.person_id,
                "may_leave_at": vaxgrid_store::format_instant(ends),
                "may_leave_now": ends <= now,
            })
        })
        .collect();
    Ok(Json(json!({"site_code": code, "in_observation": list})))
}

/// Per site today: booked, checked in, vaccinated, in observation, serious
/// adverse events, deferred or refused.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/today",
    summary = "The site today: booked, checked in, vaccinated, in observation, serious adverse events, deferred or refused",
    params(("code" = String, Path)),
    responses(
        (status = 200, description = "OK", body = super::types::SiteDay),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn site_today(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<super::types::SiteDay>, ApiError> {
    Ok(Json(
        app.store
            .site_day(&code, vaxgrid_store::today())
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    /// WHO category: A1, A2, A3, A4, B1, B2, C or D.
    causality: String,
}

/// Records the causality assessment of a serious adverse event's
/// investigation, which closes it.
#[utoipa::path(
    post,
    path = "/api/v1/investigations/{id}/causality",
    summary = "Record the WHO causality assessment of a serious adverse event's investigation {causality: A1|A2|A3|A4|B1|B2|C|D}; the investigation is closed",
    params(("id" = String, Path)),
    request_body = AssessBody,
    responses(
        (status = 200, description = "{id, status, causality}"),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn assess(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssessBody>,
) -> Result<Json<Value>, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::AssessAefi).await?;
    let causality = Causality::parse(b.causality.trim()).ok_or_else(|| {
        ApiError::invalid(
            "causality",
            "causality is a WHO category: A1, A2, A3, A4, B1, B2, C or D",
        )
    })?;
    app.store
        .assess_investigation(&id, causality.as_str(), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(
        json!({"id": id, "status": "assessed", "causality": causality.as_str()}),
    ))
}
