//! Visits to the vaccination table, stored as their events (JSON, in the
//! API's own shape); the server replays them through the state machine of
//! `vaxgrid_core::visit`. Also the screening questionnaires per product,
//! the investigations serious adverse events open, and a site's figures
//! for today.

use sqlx::Row;
use time::OffsetDateTime;
use vaxgrid_core::visit::{
    apply, needs_investigation, observation_ends_at, Outcome, ScreeningQuestion, StepError, Visit,
    VisitEvent, DEFAULT_OBSERVATION_MINUTES,
};
use vaxgrid_core::visit_body;

use crate::audit::{self, AuditEntry};
use crate::doses::{WriteCommand, WriteOutcome};
use crate::error::StoreError;
use crate::model::{Actor, DoseRequest};
use crate::writer::DoseWriter;
use crate::Store;

/// An early ending of a visit: (outcome, reason, deferred until).
pub type Ending = (String, Option<String>, Option<String>);

#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    pub id: String,
    pub person_id: String,
    pub site_code: String,
    pub product_code: String,
    pub appointment_id: Option<String>,
    pub day: String,
    pub outcome: String,
    pub next_step: Option<String>,
    /// When the person may leave observation (Unix micros), once dosed.
    pub observation_ends_micros: Option<i64>,
    pub events: Vec<serde_json::Value>,
    pub version: i64,
}

/// What a visit became after an event.
#[derive(Debug, Clone)]
pub struct VisitState {
    pub outcome: String,
    pub next_step: Option<String>,
    pub observation_ends_micros: Option<i64>,
    /// Why it ended early (deferred, refused, contraindicated).
    pub ended_reason: Option<String>,
    /// Until when a deferral holds (YYYY-MM-DD).
    pub deferred_until: Option<String>,
}

/// A site's day at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteDay {
    pub site_code: String,
    pub day: String,
    pub booked: i64,
    pub checked_in: i64,
    pub vaccinated: i64,
    pub in_observation: i64,
    /// Serious adverse events (each opened an investigation).
    pub serious_adverse_events: i64,
    pub deferred_or_refused: i64,
}

const VISIT_COLUMNS: &str = "id, person_id, site_code, product_code, appointment_id, day, outcome, next_step, observation_ends_at, events, version";

fn visit_from_row(r: &sqlx::any::AnyRow) -> Result<VisitRow, StoreError> {
    let events: String = r.try_get("events")?;
    Ok(VisitRow {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        site_code: r.try_get("site_code")?,
        product_code: r.try_get("product_code")?,
        appointment_id: r.try_get("appointment_id")?,
        day: r.try_get("day")?,
        outcome: r.try_get("outcome")?,
        next_step: r.try_get("next_step")?,
        observation_ends_micros: r.try_get("observation_ends_at")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        version: r.try_get("version")?,
    })
}

/// A visit is opened and recorded at the caller's own sites only, as the
/// doses it leads to are.
fn check_site_of_visit(actor: &Actor, site_code: &str) -> Result<(), StoreError> {
    if actor.scope.covers_site(site_code) {
        return Ok(());
    }
    Err(StoreError::Forbidden {
        field: "site_code",
        message: format!(
            "{} may record visits only at their own site(s), not at {site_code}",
            actor.name
        ),
    })
}

impl Store {
    /// Opens a visit of a person (in the actor's scope) at a site.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_visit(
        &self,
        id: &str,
        person_id: &str,
        site_code: &str,
        product_code: &str,
        appointment_id: Option<&str>,
        actor: &Actor,
    ) -> Result<VisitRow, StoreError> {
        self.person_in(person_id, &actor.scope).await?;
        self.site(site_code).await?;
        check_site_of_visit(actor, site_code)?;
        self.product(product_code).await?;
        if let Some(a) = appointment_id {
            let appointment = self.appointment(a).await?;
            if appointment.person_id != person_id {
                return Err(StoreError::invalid(
                    "appointment_id",
                    format!("appointment {a} is another person's"),
                ));
            }
        }
        let mut tx = self.begin_write().await?;
        let now = self.now_micros();
        let inserted = sqlx::query(
            "INSERT INTO visits (id, person_id, site_code, product_code, appointment_id, day, outcome, next_step, observation_ends_at, events, version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'in_progress', 'check_in', NULL, '[]', 1, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(person_id)
        .bind(site_code)
        .bind(product_code)
        .bind(appointment_id)
        .bind(crate::format_date(self.today()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("visit {id} already exists"),
                existing: Some(format!("/api/v1/visits/{id}")),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "open",
                "visit",
                id,
                serde_json::json!({"person_id": person_id, "site_code": site_code}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.visit(id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn visit(&self, id: &str) -> Result<VisitRow, StoreError> {
        let row = sqlx::query(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "visit",
                field: "id",
                key: id.to_string(),
            })?;
        visit_from_row(&row)
    }

    /// A visit whose person the scope covers (else NotFound).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn visit_in(
        &self,
        id: &str,
        scope: &crate::scope::Scope,
    ) -> Result<VisitRow, StoreError> {
        let v = self.visit(id).await?;
        self.person_in(&v.person_id, scope)
            .await
            .map_err(|_| StoreError::NotFound {
                entity: "visit",
                field: "id",
                key: id.to_string(),
            })?;
        Ok(v)
    }

    /// Appends an event to a visit if nobody changed it since `version`
    /// was read; a serious adverse event opens an investigation.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn append_visit_event(
        &self,
        visit: &VisitRow,
        event: serde_json::Value,
        state: &VisitState,
        investigation: Option<&str>,
        aefi: Option<(&crate::aefi::NewAefiEvent, &crate::model::DoseRecord)>,
        actor: &Actor,
    ) -> Result<VisitRow, StoreError> {
        let mut events = visit.events.clone();
        events.push(event.clone());
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE visits SET events = $2, outcome = $3, next_step = $4, observation_ends_at = $5, \
             ended_reason = $7, deferred_until = $8, version = version + 1 WHERE id = $1 AND version = $6",
        )
        .bind(&visit.id)
        .bind(serde_json::Value::Array(events).to_string())
        .bind(&state.outcome)
        .bind(&state.next_step)
                .bind(state.observation_ends_micros)
        .bind(visit.version)
        .bind(&state.ended_reason)
        .bind(&state.deferred_until)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!(
                    "visit {} changed meanwhile: read it again and resend",
                    visit.id
                ),
                existing: Some(format!("/api/v1/visits/{}", visit.id)),
            });
        }
        if let Some(id) = investigation {
            sqlx::query(
                "INSERT INTO aefi_investigations (id, visit_id, person_id, opened_at, status, causality, report) \
                 VALUES ($1, $2, $3, $4, 'open', NULL, $5)",
            )
            .bind(id)
            .bind(&visit.id)
            .bind(&visit.person_id)
            .bind(self.now_micros())
            .bind(event.to_string())
            .execute(&mut *tx)
            .await?;
        }
        if let Some((new, dose)) = aefi {
            self.insert_aefi_event(&mut tx, new, dose).await?;
        }
        let kind = event
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("event")
            .to_string();
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(actor, &kind, "visit", &visit.id, event)],
        )
        .await?;
        tx.commit().await?;
        self.visit(&visit.id).await
    }

    /// The investigations opened for a visit: (id, status, causality).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn investigations_of(
        &self,
        visit_id: &str,
    ) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, status, causality FROM aefi_investigations WHERE visit_id = $1 ORDER BY id",
        )
        .bind(visit_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("status")?,
                    r.try_get("causality")?,
                ))
            })
            .collect()
    }

    /// Records the causality assessment of an investigation (WHO category,
    /// e.g. "A1"); the investigation is then closed. Its person must be in
    /// the actor's scope.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assess_investigation(
        &self,
        id: &str,
        causality: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT person_id, status FROM aefi_investigations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let absent = || StoreError::NotFound {
            entity: "investigation",
            field: "id",
            key: id.to_string(),
        };
        let row = row.ok_or_else(absent)?;
        let person: String = row.try_get("person_id")?;
        self.person_in(&person, &actor.scope)
            .await
            .map_err(|_| absent())?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE aefi_investigations SET causality = $2, status = 'assessed' WHERE id = $1",
        )
        .bind(id)
        .bind(causality)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "assess",
                "aefi_investigation",
                id,
                serde_json::json!({"causality": causality}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A product's questionnaire (version and questions), if one was set.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn questionnaire(
        &self,
        product_code: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        let row = sqlx::query(
            "SELECT version, questions FROM screening_questionnaires WHERE product_code = $1",
        )
        .bind(product_code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let questions: String = r.try_get("questions")?;
            Ok((
                r.try_get("version")?,
                serde_json::from_str(&questions).unwrap_or_default(),
            ))
        })
        .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_questionnaire(
        &self,
        product_code: &str,
        version: &str,
        questions: &serde_json::Value,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        self.product(product_code).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO screening_questionnaires (product_code, version, questions) VALUES ($1, $2, $3) \
             ON CONFLICT (product_code) DO UPDATE SET version = excluded.version, questions = excluded.questions",
        )
        .bind(product_code)
        .bind(version)
        .bind(questions.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set_questionnaire",
                "product",
                product_code,
                serde_json::json!({"version": version}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest early ending of each of these persons' visits:
    /// person → (outcome, reason, deferred until).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn latest_endings(
        &self,
        person_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Ending>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT person_id, outcome, ended_reason, deferred_until, created_at FROM visits \
             WHERE outcome IN ('deferred', 'refused', 'contraindicated') AND {} ORDER BY created_at",
            crate::db::in_json(self.backend, "person_id", 1)
        ))
        .bind(serde_json::to_string(person_ids).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        let mut latest = std::collections::HashMap::new();
        for r in &rows {
            latest.insert(
                r.try_get::<String, _>("person_id")?,
                (
                    r.try_get("outcome")?,
                    r.try_get("ended_reason")?,
                    r.try_get("deferred_until")?,
                ),
            );
        }
        Ok(latest)
    }

    /// Who is in observation at a site now, and when each may leave.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn in_observation(&self, site_code: &str) -> Result<Vec<VisitRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE site_code = $1 AND next_step = 'observation' ORDER BY observation_ends_at"
        ))
        .bind(site_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(visit_from_row).collect()
    }

    /// A site's figures for a day: booked, checked in, vaccinated, in
    /// observation, adverse events, deferred or refused.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site_day(&self, site_code: &str, day: time::Date) -> Result<SiteDay, StoreError> {
        self.site(site_code).await?;
        let day_text = crate::format_date(day);
        let count = |sql: &'static str| {
            let pool = self.pool.clone();
            let (site, day) = (site_code.to_string(), day_text.clone());
            async move {
                let row = sqlx::query(sql)
                    .bind(site)
                    .bind(day)
                    .fetch_one(&pool)
                    .await?;
                Ok::<i64, StoreError>(row.try_get::<i64, _>("n")?)
            }
        };
        Ok(SiteDay {
            site_code: site_code.to_string(),
            day: day_text.clone(),
            booked: count(
                "SELECT COUNT(*) AS n FROM appointments a JOIN vaccination_sessions s ON s.id = a.session_id \
                 WHERE s.site_code = $1 AND s.day = $2 AND a.status = 'booked'",
            )
            .await?,
            checked_in: count(
                "SELECT COUNT(*) AS n FROM visits WHERE site_code = $1 AND day = $2 AND (next_step IS NULL OR next_step <> 'check_in')",
            )
            .await?,
            vaccinated: count(
                "SELECT COUNT(*) AS n FROM doses WHERE site_code = $1 AND administered_on = $2 AND kind = 'administered'",
            )
            .await?,
            in_observation: count(
                "SELECT COUNT(*) AS n FROM visits WHERE site_code = $1 AND day = $2 AND next_step = 'observation'",
            )
            .await?,
            serious_adverse_events: count(
                "SELECT COUNT(*) AS n FROM aefi_investigations i JOIN visits v ON v.id = i.visit_id WHERE v.site_code = $1 AND v.day = $2",
            )
            .await?,
            deferred_or_refused: count(
                "SELECT COUNT(*) AS n FROM visits WHERE site_code = $1 AND day = $2 AND outcome IN ('deferred', 'contraindicated', 'refused')",
            )
            .await?,
        })
    }
}

impl From<vaxgrid_core::visit_body::FieldError> for StoreError {
    fn from(e: vaxgrid_core::visit_body::FieldError) -> StoreError {
        StoreError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

fn step_error(e: StepError) -> StoreError {
    StoreError::invalid(e.field(), e.to_string())
}

impl VisitState {
    /// What the store keeps beside the events: the visit's state after them.
    pub fn after(next: &Visit) -> VisitState {
        VisitState {
            outcome: next.outcome.as_str().to_string(),
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
                Outcome::Deferred { until, .. } => Some(crate::format_date(*until)),
                _ => None,
            },
        }
    }
}

/// A stable record id for a dose known to another system (or a visit) by
/// `key`, so a message, a bundle or a dose step sent twice records the dose
/// once.
pub fn dose_id_for(source: &str, key: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("vaxgrid:{source}:{key}").as_bytes(),
    )
    .to_string()
}

/// The caller as a giver of doses, when they hold a role that gives them.
#[derive(Debug, Clone)]
pub struct DoseBy {
    /// The caller with the scope of their dose-giving roles.
    pub actor: Actor,
    /// The user whose current vaccination certificate the dose needs (a
    /// caller who gives doses only as a vaccinator).
    pub requires_certificate: Option<String>,
}

/// Who records an event of a visit.
#[derive(Debug, Clone)]
pub struct EventBy {
    /// The caller with the scope of their table roles (the visit's person
    /// must be in it).
    pub actor: Actor,
    /// `None` when the caller may not give doses: a dose step is refused.
    pub dose: Option<DoseBy>,
}

/// A visit after an event.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub row: VisitRow,
    pub visit: Visit,
    /// The event's client id was already recorded: nothing new was written.
    pub repeated: bool,
    /// The investigation a serious adverse event opened.
    pub investigation: Option<String>,
}

/// The longest lot number a dose may name (as `POST /api/v1/doses`).
const MAX_LOT_NUMBER: usize = 64;

impl Store {
    /// The questionnaire of a product: its own, or the default.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn questionnaire_of(
        &self,
        product_code: &str,
    ) -> Result<(String, Vec<ScreeningQuestion>), StoreError> {
        match self.questionnaire(product_code).await? {
            Some((version, questions)) => Ok((version, visit_body::questions_from(&questions)?)),
            None => Ok(visit_body::default_questionnaire()),
        }
    }

    /// The visit as the state machine sees it, from its stored events, and
    /// the questionnaire of its product.
    pub async fn replay_visit(
        &self,
        row: &VisitRow,
    ) -> Result<(Visit, Vec<ScreeningQuestion>), StoreError> {
        let (_, questions) = self.questionnaire_of(&row.product_code).await?;
        let now = OffsetDateTime::now_utc();
        let events = row
            .events
            .iter()
            .map(|e| visit_body::event_from(e, now))
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

    /// A site's visits of a day, each with its person, in the order they
    /// were opened.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn visits_on(
        &self,
        site_code: &str,
        day: time::Date,
    ) -> Result<Vec<(VisitRow, QueuePerson)>, StoreError> {
        let columns = VISIT_COLUMNS
            .split(", ")
            .map(|c| format!("v.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns}, p.full_name, p.id_type, p.id_number, p.birth_date FROM visits v \
             JOIN persons p ON p.id = v.person_id \
             WHERE v.site_code = $1 AND v.day = $2 ORDER BY v.created_at, v.id"
        ))
        .bind(site_code)
        .bind(crate::format_date(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((visit_from_row(r)?, queue_person(r, "person_id")?)))
            .collect()
    }

    /// A site's appointments of a day (every status), each with its
    /// person, by time.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn appointments_on(
        &self,
        site_code: &str,
        day: time::Date,
    ) -> Result<Vec<(crate::scheduling::Appointment, QueuePerson)>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.person_id, a.session_id, a.starts_at, a.status, a.booked_by, \
             p.full_name, p.id_type, p.id_number, p.birth_date \
             FROM appointments a JOIN vaccination_sessions s ON s.id = a.session_id \
             JOIN persons p ON p.id = a.person_id \
             WHERE s.site_code = $1 AND s.day = $2 ORDER BY a.starts_at, a.id",
        )
        .bind(site_code)
        .bind(crate::format_date(day))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    crate::scheduling::appointment_from_row(r)?,
                    queue_person(r, "person_id")?,
                ))
            })
            .collect()
    }
}

/// Who a row of the table's queue is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePerson {
    pub id: String,
    pub full_name: String,
    pub id_type: String,
    pub id_number: String,
    pub birth_date: String,
}

fn queue_person(r: &sqlx::any::AnyRow, id: &str) -> Result<QueuePerson, StoreError> {
    Ok(QueuePerson {
        id: r.try_get(id)?,
        full_name: r.try_get("full_name")?,
        id_type: r.try_get("id_type")?,
        id_number: r.try_get("id_number")?,
        birth_date: r.try_get("birth_date")?,
    })
}

/// Records the next event of a visit: the one function behind the API's
/// `POST /api/v1/visits/{id}/events` and the vaccination table's forms.
///
/// The body is the event by key (`visit_body`); the server fills in its
/// time, and for a dose its record id (from the visit) and vaccinator (the
/// caller). The event is checked by the state machine against the events
/// before it, replayed; a dose step then goes through the dose writer with
/// the rules of `POST /api/v1/doses` (and the caller's certificate) before
/// the event is stored; a serious adverse event opens an investigation. An
/// event whose `client_id` is already recorded writes nothing and answers
/// the visit as it is.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_event(
    store: &Store,
    writer: &DoseWriter,
    visit_id: &str,
    mut body: serde_json::Value,
    by: &EventBy,
) -> Result<Recorded, StoreError> {
    let row = store.visit_in(visit_id, &by.actor.scope).await?;
    check_site_of_visit(&by.actor, &row.site_code)?;
    let (visit, questions) = store.replay_visit(&row).await?;
    if !body.is_object() {
        return Err(StoreError::invalid(
            "body",
            "an event is a JSON object with a kind",
        ));
    }
    if visit_body::already_recorded(&row.events, visit_body::client_id(&body)?) {
        return Ok(Recorded {
            row,
            visit,
            repeated: true,
            investigation: None,
        });
    }
    let now = OffsetDateTime::now_utc();
    let vaccinator = by
        .dose
        .as_ref()
        .map_or(by.actor.name.as_str(), |d| d.actor.name.as_str());
    visit_body::complete(&mut body, now, &dose_id_for("visit", &row.id), vaccinator)?;
    let event = visit_body::event_from(&body, now)?;
    // The order is checked before any dose is recorded.
    let next = apply(
        &visit,
        event.clone(),
        &questions,
        &row.person_id,
        DEFAULT_OBSERVATION_MINUTES,
    )
    .map_err(step_error)?;
    if let Some(request) = visit_dose_request(&row, &event, by)? {
        match writer.submit(WriteCommand::Dose(request)).await? {
            WriteOutcome::Created(_) | WriteOutcome::Existing(_) => {}
            WriteOutcome::Merged { .. } => {
                return Err(StoreError::invalid("body", "unexpected outcome"))
            }
        }
    }
    let investigation = match &event {
        VisitEvent::AdverseEvent(report) if needs_investigation(report) => {
            Some(uuid::Uuid::now_v7().to_string())
        }
        _ => None,
    };
    let aefi = safety_report(store, &row, &event, investigation.as_deref()).await?;
    let state = VisitState::after(&next);
    let saved = store
        .append_visit_event(
            &row,
            body,
            &state,
            investigation.as_deref(),
            aefi.as_ref().map(|(n, d)| (n, d)),
            &by.actor,
        )
        .await?;
    Ok(Recorded {
        row: saved,
        visit: next,
        repeated: false,
        investigation,
    })
}

/// The dose a dose step records, with the rules of `POST /api/v1/doses`:
/// refused when the caller may not give doses or the lot number is too
/// long; `None` for any other step.
fn visit_dose_request(
    row: &VisitRow,
    event: &VisitEvent,
    by: &EventBy,
) -> Result<Option<DoseRequest>, StoreError> {
    let VisitEvent::DoseGiven {
        at,
        lot_number,
        dose_record_id,
        ..
    } = event
    else {
        return Ok(None);
    };
    let Some(dose_by) = &by.dose else {
        return Err(StoreError::Forbidden {
            field: "vaccinator",
            message: format!("{} may not give doses", by.actor.name),
        });
    };
    if lot_number.chars().count() > MAX_LOT_NUMBER {
        return Err(StoreError::invalid(
            "lot_number",
            format!("lot_number must be at most {MAX_LOT_NUMBER} characters"),
        ));
    }
    Ok(Some(DoseRequest {
        id: dose_record_id.clone(),
        person_id: row.person_id.clone(),
        product_code: row.product_code.clone(),
        lot_number: lot_number.clone(),
        site_code: row.site_code.clone(),
        administered_on: at.date(),
        dose_number: None,
        vaccinator: Some(dose_by.actor.name.clone()),
        override_reason: None,
        historical: false,
        // The writer refuses the dose (and so this event) unless the
        // vaccinator's certificate is current that day.
        requires_certificate: dose_by.requires_certificate.clone(),
        by: dose_by.actor.clone(),
    }))
}

/// An adverse event is also a row of the safety reports, with the dose
/// it follows (a visit's reports come after its dose: `apply` checked).
async fn safety_report(
    store: &Store,
    row: &VisitRow,
    event: &VisitEvent,
    investigation: Option<&str>,
) -> Result<Option<(crate::aefi::NewAefiEvent, crate::model::DoseRecord)>, StoreError> {
    let VisitEvent::AdverseEvent(report) = event else {
        return Ok(None);
    };
    let dose = store.dose(&dose_id_for("visit", &row.id)).await?;
    Ok(Some((
        crate::aefi::NewAefiEvent {
            id: uuid::Uuid::now_v7().to_string(),
            visit_id: row.id.clone(),
            person_id: row.person_id.clone(),
            investigation_id: investigation.map(str::to_string),
            report: report.clone(),
        },
        dose,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use vaxgrid_core::visit::{Ending, Step};

    #[test]
    fn the_stored_state_follows_the_visit() {
        let questions = visit_body::default_questionnaire().1;
        let at = datetime!(2021-07-01 08:00 UTC);
        let visit = Visit::replay(
            [VisitEvent::CheckedIn {
                at,
                temperature_c: 36.6,
            }],
            &questions,
            "p",
            30,
        )
        .unwrap();
        let state = VisitState::after(&visit);
        assert_eq!(state.outcome, "in_progress");
        assert_eq!(
            state.next_step.as_deref(),
            Some(Step::IdentityCheck.as_str())
        );
        assert_eq!(state.observation_ends_micros, None);
        let deferred = apply(
            &visit,
            VisitEvent::Ended {
                at,
                ending: Ending::Deferred {
                    until: time::macros::date!(2021 - 07 - 08),
                    reason: "fever".into(),
                },
            },
            &questions,
            "p",
            30,
        )
        .unwrap();
        let state = VisitState::after(&deferred);
        assert_eq!(
            (
                state.outcome.as_str(),
                state.next_step,
                state.ended_reason.as_deref(),
                state.deferred_until.as_deref()
            ),
            ("deferred", None, Some("fever"), Some("2021-07-08"))
        );
        assert_eq!(
            dose_id_for("visit", "v-1"),
            dose_id_for("visit", "v-1"),
            "a dose step sent twice names the same dose"
        );
        assert_ne!(dose_id_for("visit", "v-1"), dose_id_for("visit", "v-2"));
    }

    #[test]
    fn a_dose_step_needs_a_dose_giver_and_a_short_lot_number() {
        let row = VisitRow {
            id: "v-1".into(),
            person_id: "p-1".into(),
            site_code: "S1".into(),
            product_code: "PFZ".into(),
            appointment_id: None,
            day: "2021-07-01".into(),
            outcome: "in_progress".into(),
            next_step: Some("dose".into()),
            observation_ends_micros: None,
            events: Vec::new(),
            version: 1,
        };
        let dose = |lot_number: &str| VisitEvent::DoseGiven {
            at: datetime!(2021-07-01 08:30 UTC),
            dose_record_id: dose_id_for("visit", "v-1"),
            vaccinator: "lan".into(),
            station: "1".into(),
            lot_number: lot_number.into(),
        };
        let registrar = EventBy {
            actor: Actor::system("lan"),
            dose: None,
        };
        let err = visit_dose_request(&row, &dose("L1"), &registrar).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Forbidden {
                field: "vaccinator",
                ..
            }
        ));
        let vaccinator = EventBy {
            dose: Some(DoseBy {
                actor: Actor::system("lan"),
                requires_certificate: Some("lan".into()),
            }),
            ..registrar
        };
        let long = "L".repeat(MAX_LOT_NUMBER + 1);
        let err = visit_dose_request(&row, &dose(&long), &vaccinator).unwrap_err();
        assert!(matches!(err, StoreError::Invalid { ref field, .. } if field == "lot_number"));
        let request = visit_dose_request(&row, &dose("L1"), &vaccinator)
            .unwrap()
            .expect("a dose step records a dose");
        assert_eq!(
            (request.person_id.as_str(), request.administered_on),
            ("p-1", time::macros::date!(2021 - 07 - 01))
        );
        assert_eq!(request.requires_certificate.as_deref(), Some("lan"));
        let ended = VisitEvent::ObservationEnded {
            at: datetime!(2021-07-01 09:00 UTC),
        };
        assert!(visit_dose_request(&row, &ended, &vaccinator)
            .unwrap()
            .is_none());
    }
}
