//! Sessions, their slots, and appointments. Bookings go through the
//! [`BookingWriter`], which commits many in one transaction; each booking
//! takes its place with a conditional update (`booked < capacity`), so a
//! slot is never booked over capacity whatever the concurrency, on either
//! backend and across server processes.

use std::time::Duration;

use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, oneshot};
use vaxgrid_core::schedule::{overlaps, plan_slots, SessionPlan};

use crate::audit::{self, AuditEntry};
use crate::db::{json_rows, Col};
use crate::error::StoreError;
use crate::model::Actor;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub site_code: String,
    pub day: String,
    pub opens: String,
    pub closes: String,
    pub stations: i64,
    pub per_station_per_hour: i64,
    pub slot_minutes: i64,
    pub village_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub session_id: String,
    /// `YYYY-MM-DDTHH:MM`, local time of the site.
    pub starts_at: String,
    pub capacity: i64,
    pub booked: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub id: String,
    pub person_id: String,
    pub session_id: String,
    pub starts_at: String,
    /// booked, cancelled, no_show
    pub status: String,
    pub booked_by: String,
}

/// A session to open at a site (at a village, for a mobile team).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub site_code: String,
    pub plan: SessionPlan,
    pub village_code: Option<String>,
}

fn hhmm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

pub(crate) fn session_from_row(r: &sqlx::any::AnyRow) -> Result<Session, StoreError> {
    Ok(Session {
        id: r.try_get("id")?,
        site_code: r.try_get("site_code")?,
        day: r.try_get("day")?,
        opens: r.try_get("opens")?,
        closes: r.try_get("closes")?,
        stations: r.try_get("stations")?,
        per_station_per_hour: r.try_get("per_station_per_hour")?,
        slot_minutes: r.try_get("slot_minutes")?,
        village_code: r.try_get("village_code")?,
    })
}

fn slot_from_row(r: &sqlx::any::AnyRow) -> Result<Slot, StoreError> {
    Ok(Slot {
        session_id: r.try_get("session_id")?,
        starts_at: r.try_get("starts_at")?,
        capacity: r.try_get("capacity")?,
        booked: r.try_get("booked")?,
    })
}

pub(crate) fn appointment_from_row(r: &sqlx::any::AnyRow) -> Result<Appointment, StoreError> {
    Ok(Appointment {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        session_id: r.try_get("session_id")?,
        starts_at: r.try_get("starts_at")?,
        status: r.try_get("status")?,
        booked_by: r.try_get("booked_by")?,
    })
}

pub(crate) const SESSION_COLUMNS: &str =
    "id, site_code, day, opens, closes, stations, per_station_per_hour, slot_minutes, village_code";
const APPOINTMENT_COLUMNS: &str = "id, person_id, session_id, starts_at, status, booked_by";

impl Store {
    /// Opens a session and its slots. The site must be in the caller's
    /// areas; the session may not be in the past nor overlap another of the
    /// same site that day.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_session(
        &self,
        new: &NewSession,
        actor: &Actor,
    ) -> Result<(Session, Vec<Slot>), StoreError> {
        self.check_session_place(new, actor).await?;
        let planned = plan_slots(&new.plan, self.today())
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let day = crate::format_date(new.plan.day);
        let mut tx = self.begin_write().await?;
        let same_day = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM vaccination_sessions WHERE site_code = $1 AND day = $2"
        ))
        .bind(&new.site_code)
        .bind(&day)
        .fetch_all(&mut *tx)
        .await?;
        for other in same_day.iter().map(session_from_row) {
            if let Some(conflict) = overlap_conflict(&new.plan, &other?) {
                return Err(conflict);
            }
        }
        insert_session(&mut tx, new, &day, self.now_micros()).await?;
        let rows: Vec<serde_json::Value> = planned
            .iter()
            .map(|(t, cap)| serde_json::json!([new.id, format!("{day}T{}", hhmm(*t)), cap, 0]))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO slots (session_id, starts_at, capacity, booked) {}",
            json_rows(self.backend, 1, &[Col::Text, Col::Text, Col::Int, Col::Int])
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "session",
                &new.id,
                serde_json::json!({"site_code": new.site_code, "day": day, "slots": planned.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        let session = self.vaccination_session(&new.id).await?;
        let slots = self.slots_of(&new.id).await?;
        Ok((session, slots))
    }

    /// Checks where a new session is: its site within the caller's areas
    /// (absent otherwise), and its village, if named, a village.
    async fn check_session_place(&self, new: &NewSession, actor: &Actor) -> Result<(), StoreError> {
        let site = self.site(&new.site_code).await?;
        let site_area = self.area(&site.area_code).await?;
        if !actor.scope.covers_path(&site_area.path) {
            return Err(StoreError::NotFound {
                entity: "site",
                field: "site_code",
                key: new.site_code.clone(),
            });
        }
        let Some(v) = &new.village_code else {
            return Ok(());
        };
        let village = self.area(v).await.map_err(|_| StoreError::NotFound {
            entity: "area",
            field: "village_code",
            key: v.clone(),
        })?;
        let levels = self.area_levels().await?;
        if village.depth() != levels.leaf_depth() {
            return Err(StoreError::invalid(
                "village_code",
                format!(
                    "{v} is a {}, not one of the {}",
                    village.level.as_str(),
                    levels
                        .at(levels.leaf_depth())
                        .map_or("", |l| l.name_en.as_str())
                ),
            ));
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn vaccination_session(&self, id: &str) -> Result<Session, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM vaccination_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "session",
            field: "session_id",
            key: id.to_string(),
        })?;
        session_from_row(&row)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn slots_of(&self, session_id: &str) -> Result<Vec<Slot>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, starts_at, capacity, booked FROM slots WHERE session_id = $1 ORDER BY starts_at",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    /// Slots of a site with room from `from` on (a day `YYYY-MM-DD` or a
    /// slot's `YYYY-MM-DDTHH:MM`, which sort together): where to book a
    /// next dose, or what to offer when a slot is full.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn free_slots_at_site(
        &self,
        site_code: &str,
        from: &str,
        n: usize,
    ) -> Result<Vec<Slot>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.session_id, s.starts_at, s.capacity, s.booked FROM slots s \
             JOIN vaccination_sessions x ON x.id = s.session_id \
             WHERE x.site_code = $1 AND s.starts_at >= $2 AND s.booked + s.held < s.capacity \
             ORDER BY s.starts_at LIMIT $3",
        )
        .bind(site_code)
        .bind(from)
        .bind(n as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    /// Slots of the same site as `session_id` with room, from `starts_at`
    /// on: what to offer when a slot is full.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn free_slots_near(
        &self,
        session_id: &str,
        starts_at: &str,
        n: usize,
    ) -> Result<Vec<Slot>, StoreError> {
        let site = self.vaccination_session(session_id).await?.site_code;
        self.free_slots_at_site(&site, starts_at, n).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn appointment(&self, id: &str) -> Result<Appointment, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "appointment",
            field: "id",
            key: id.to_string(),
        })?;
        appointment_from_row(&row)
    }

    /// Ends a booked appointment as `cancelled` (its place is freed) or
    /// `no_show` (the place was held and lost).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_appointment(
        &self,
        id: &str,
        status: &str,
        actor: &Actor,
    ) -> Result<Appointment, StoreError> {
        let a = self.appointment(id).await?;
        self.person_in(&a.person_id, &actor.scope)
            .await
            .map_err(|_| StoreError::NotFound {
                entity: "appointment",
                field: "id",
                key: id.to_string(),
            })?;
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE appointments SET status = $2, changed_at = $3 WHERE id = $1 AND status = 'booked'",
        )
        .bind(id)
        .bind(status)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "status",
                message: format!("appointment {id} is {}, not booked", a.status),
                existing: Some(format!("/api/v1/appointments/{id}")),
            });
        }
        if status == "cancelled" {
            sqlx::query(
                "UPDATE slots SET booked = booked - 1 WHERE session_id = $1 AND starts_at = $2",
            )
            .bind(&a.session_id)
            .bind(&a.starts_at)
            .execute(&mut *tx)
            .await?;
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                status,
                "appointment",
                id,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.appointment(id).await
    }
}

impl Store {
    /// Replaces a site's functional zones (checked by
    /// `vaxgrid_core::site::validate_zones`); the site must be in scope.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_site_zones(
        &self,
        site_code: &str,
        zones: &[vaxgrid_core::site::Zone],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let site = self.site(site_code).await?;
        let area = self.area(&site.area_code).await?;
        if !actor.scope.covers_path(&area.path) {
            return Err(StoreError::NotFound {
                entity: "site",
                field: "code",
                key: site_code.to_string(),
            });
        }
        vaxgrid_core::site::validate_zones(zones)
            .map_err(|e| StoreError::invalid("zones", e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM site_zones WHERE site_code = $1")
            .bind(site_code)
            .execute(&mut *tx)
            .await?;
        let rows: Vec<serde_json::Value> = zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                serde_json::json!([
                    site_code,
                    i as i64,
                    z.kind.as_str(),
                    z.name.trim(),
                    z.places
                ])
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO site_zones (site_code, ordinal, kind, name, places) {}",
            json_rows(
                self.backend,
                1,
                &[Col::Text, Col::Int, Col::Text, Col::Text, Col::Int]
            )
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set_zones",
                "site",
                site_code,
                serde_json::json!({"zones": zones.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A site's zones in order: (kind, name, places).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site_zones(
        &self,
        site_code: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.site(site_code).await?;
        let rows = sqlx::query(
            "SELECT kind, name, places FROM site_zones WHERE site_code = $1 ORDER BY ordinal",
        )
        .bind(site_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("name")?, r.try_get("places")?)))
            .collect()
    }
}

/// A booking to make; `id` is chosen by the client, so a retry is a no-op.
#[derive(Debug, Clone)]
pub struct BookRequest {
    pub id: String,
    pub person_id: String,
    pub session_id: String,
    pub starts_at: String,
    pub by: Actor,
    /// A booked appointment of the same person this one replaces (a
    /// reschedule): released in the same transaction once the new place is
    /// taken, and kept if it is not.
    pub replaces: Option<String>,
    /// A live hold of the same person on the same slot (see
    /// [`Store::hold_place`]): the booking takes the held place. An expired
    /// or unknown hold books like no hold at all, if a place is free.
    pub hold: Option<String>,
}

#[derive(Debug, Clone)]
pub enum BookOutcome {
    Booked(Appointment),
    /// The same booking was made before (same id, person and slot).
    Existing(Appointment),
    /// The slot has no place left.
    Full,
}

type Reply = oneshot::Sender<Result<BookOutcome, StoreError>>;

/// Commits bookings in batches: whatever is waiting goes in one transaction.
#[derive(Clone)]
pub struct BookingWriter {
    tx: mpsc::Sender<(BookRequest, Reply)>,
}

impl BookingWriter {
    pub fn spawn(store: Store) -> BookingWriter {
        let (tx, mut rx) = mpsc::channel::<(BookRequest, Reply)>(8192);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(256);
            while let Some(first) = rx.recv().await {
                jobs.push(first);
                while jobs.len() < 256 {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let reqs: Vec<BookRequest> = jobs.iter().map(|(r, _)| r.clone()).collect();
                let mut attempt = 0u32;
                let outcome = loop {
                    match apply_bookings(&store, &reqs).await {
                        Err(e) if e.is_transient() && attempt < 5 => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                        }
                        other => break other,
                    }
                };
                match outcome {
                    Ok(results) => {
                        for ((_, reply), r) in jobs.drain(..).zip(results) {
                            let _ = reply.send(r);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "booking batch failed");
                        for (_, reply) in jobs.drain(..) {
                            let _ = reply.send(Err(StoreError::Unavailable(
                                "the database did not accept the bookings; nothing was booked, retry with the same id".into(),
                            )));
                        }
                    }
                }
            }
        });
        BookingWriter { tx }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn submit(&self, req: BookRequest) -> Result<BookOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send((req, reply))
            .map_err(|_| StoreError::Busy)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// One transaction for a batch of bookings; a refused booking changes
/// nothing and does not stop the others.
async fn apply_bookings(
    store: &Store,
    reqs: &[BookRequest],
) -> Result<Vec<Result<BookOutcome, StoreError>>, StoreError> {
    let now = store.now_micros();
    let today = crate::format_date(store.today());
    let mut tx = store.begin_write().await?;
    let mut results = Vec::with_capacity(reqs.len());
    let mut booked = Vec::new();
    for r in reqs {
        let result = book_one(&mut tx, r, (&today, now)).await?;
        if let Ok(BookOutcome::Booked(a)) = &result {
            booked.push(
                serde_json::json!({"id": a.id, "by": r.by.name, "address": r.by.address,
                "person_id": a.person_id, "session_id": a.session_id, "starts_at": a.starts_at}),
            );
        }
        results.push(result);
    }
    if let Some(first) = booked
        .first()
        .and_then(|b| b["id"].as_str())
        .map(str::to_string)
    {
        audit::append(
            &mut tx,
            store.backend,
            &[AuditEntry::new(
                "booking writer",
                "book",
                "appointment",
                &first,
                serde_json::json!({ "appointments": booked }),
            )],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// One booking inside the batch. The outer error is the database's; the
/// inner one the booking's.
async fn book_one(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
    (today, now): (&str, i64),
) -> Result<Result<BookOutcome, StoreError>, StoreError> {
    if let Some(resent) = resent_booking(tx, r).await? {
        return Ok(resent);
    }
    let replaced = match check_booking(tx, r, today).await? {
        Ok(replaced) => replaced,
        Err(e) => return Ok(Err(e)),
    };
    if !take_booked_place(tx, r, now).await? {
        return Ok(Ok(BookOutcome::Full));
    }
    sqlx::query(
        "INSERT INTO appointments (id, person_id, session_id, starts_at, status, booked_by, created_at, changed_at) \
         VALUES ($1, $2, $3, $4, 'booked', $5, $6, $6)",
    )
    .bind(&r.id)
    .bind(&r.person_id)
    .bind(&r.session_id)
    .bind(&r.starts_at)
        .bind(&r.by.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if let Some(old) = replaced {
        sqlx::query(
            "UPDATE appointments SET status = 'rescheduled', changed_at = $2 WHERE id = $1",
        )
        .bind(&old.id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE slots SET booked = booked - 1 WHERE session_id = $1 AND starts_at = $2",
        )
        .bind(&old.session_id)
        .bind(&old.starts_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Ok(BookOutcome::Booked(Appointment {
        id: r.id.clone(),
        person_id: r.person_id.clone(),
        session_id: r.session_id.clone(),
        starts_at: r.starts_at.clone(),
        status: "booked".into(),
        booked_by: r.by.name.clone(),
    })))
}

/// A booking whose id is stored already: the stored appointment when it
/// is the same booking sent again, else a conflict. None for a new id.
async fn resent_booking(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
) -> Result<Option<Result<BookOutcome, StoreError>>, StoreError> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = $1"
    ))
    .bind(&r.id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let a = appointment_from_row(&row)?;
    // A booking sent again by a caller who may not see its person is
    // answered as a new booking of that person would be: absent.
    if !booker_sees(tx, r, &a.person_id).await? {
        return Ok(Some(Err(StoreError::not_found(
            "person",
            "person_id",
            &r.person_id,
        ))));
    }
    Ok(Some(
        if a.person_id == r.person_id && a.session_id == r.session_id && a.starts_at == r.starts_at
        {
            Ok(BookOutcome::Existing(a))
        } else {
            Err(StoreError::Conflict {
                field: "id",
                message: format!(
                    "appointment id {} was already used for another booking",
                    r.id
                ),
                existing: Some(format!("/api/v1/appointments/{}", r.id)),
            })
        },
    ))
}

/// Whether the booker's areas cover the person `person_id` (merged or
/// not): an appointment of someone else stays unseen.
async fn booker_sees(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
    person_id: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT area_path FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(row) => {
            r.by.scope
                .covers_person(person_id, &row.try_get::<String, _>("area_path")?)
        }
        None => false,
    })
}

/// The booking's rules, in order: a person in the booker's areas, a slot
/// that exists and has not passed, the appointment it replaces (booked,
/// of the same person), and no other booked appointment of the person in
/// the session. Ok: the appointment replaced, if any.
async fn check_booking(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
    today: &str,
) -> Result<Result<Option<Appointment>, StoreError>, StoreError> {
    let person = sqlx::query("SELECT area_path FROM persons WHERE id = $1 AND merged_into IS NULL")
        .bind(&r.person_id)
        .fetch_optional(&mut **tx)
        .await?;
    let covered = match &person {
        Some(row) => {
            r.by.scope
                .covers_person(&r.person_id, &row.try_get::<String, _>("area_path")?)
        }
        None => false,
    };
    if !covered {
        return Ok(Err(StoreError::NotFound {
            entity: "person",
            field: "person_id",
            key: r.person_id.clone(),
        }));
    }
    let slot = sqlx::query("SELECT capacity FROM slots WHERE session_id = $1 AND starts_at = $2")
        .bind(&r.session_id)
        .bind(&r.starts_at)
        .fetch_optional(&mut **tx)
        .await?;
    if slot.is_none() {
        return Ok(Err(StoreError::NotFound {
            entity: "slot",
            field: "starts_at",
            key: format!("{} {}", r.session_id, r.starts_at),
        }));
    }
    if r.starts_at.get(..10).is_some_and(|day| day < today) {
        return Ok(Err(StoreError::invalid(
            "starts_at",
            format!("the slot {} has passed", r.starts_at),
        )));
    }
    let replaced = match replaced_appointment(tx, r).await? {
        Ok(replaced) => replaced,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(other) = sqlx::query(
        "SELECT id FROM appointments WHERE person_id = $1 AND session_id = $2 AND status = 'booked'",
    )
    .bind(&r.person_id)
    .bind(&r.session_id)
    .fetch_optional(&mut **tx)
    .await?
    .filter(|row| {
        let id: String = row.try_get("id").unwrap_or_default();
        replaced.as_ref().is_none_or(|a| a.id != id)
    })
    {
        let other: String = other.try_get("id")?;
        return Ok(Err(StoreError::Conflict {
            field: "person_id",
            message: format!("the person already has appointment {other} in this session"),
            existing: Some(format!("/api/v1/appointments/{other}")),
        }));
    }
    Ok(Ok(replaced))
}

/// The appointment a rescheduling replaces: a booked appointment of the
/// same person, else a conflict. None when the booking replaces nothing.
async fn replaced_appointment(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
) -> Result<Result<Option<Appointment>, StoreError>, StoreError> {
    let Some(old) = &r.replaces else {
        return Ok(Ok(None));
    };
    let row = sqlx::query(&format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE id = $1"
    ))
    .bind(old)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row.map(|r| appointment_from_row(&r)).transpose()? {
        Some(a) if a.person_id == r.person_id && a.status == "booked" => Ok(Some(a)),
        _ => Err(StoreError::Conflict {
            field: "id",
            message: format!("appointment {old} is not a booked appointment of this person"),
            existing: Some(format!("/api/v1/appointments/{old}")),
        }),
    })
}

/// The booking's place: the person's hold on the slot when they have one
/// (it becomes the booking: it was counted already), else a free place.
/// False when the slot is full.
async fn take_booked_place(
    tx: &mut Transaction<'static, Any>,
    r: &BookRequest,
    now: i64,
) -> Result<bool, StoreError> {
    let held = match &r.hold {
        None => false,
        Some(hold) => {
            sqlx::query(
                "DELETE FROM slot_holds WHERE id = $1 AND person_id = $2 AND session_id = $3 \
                 AND starts_at = $4 AND expires_at > $5",
            )
            .bind(hold)
            .bind(&r.person_id)
            .bind(&r.session_id)
            .bind(&r.starts_at)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1
        }
    };
    if held {
        sqlx::query(
            "UPDATE slots SET held = held - 1, booked = booked + 1 WHERE session_id = $1 AND starts_at = $2",
        )
        .bind(&r.session_id)
        .bind(&r.starts_at)
        .execute(&mut **tx)
        .await?;
        return Ok(true);
    }
    take_place(tx, &r.session_id, &r.starts_at, "booked", now).await
}

/// Takes one place of a slot for `column` (`booked` or `held`) if one is
/// free, holds counted: one conditional update, so concurrent takers (on
/// any server) never pass capacity. When the slot looks full, its expired
/// holds give their places back and the update is tried once more.
async fn take_place(
    tx: &mut Transaction<'static, Any>,
    session_id: &str,
    starts_at: &str,
    column: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let update = match column {
        "held" => "UPDATE slots SET held = held + 1 WHERE session_id = $1 AND starts_at = $2 AND booked + held < capacity",
        _ => "UPDATE slots SET booked = booked + 1 WHERE session_id = $1 AND starts_at = $2 AND booked + held < capacity",
    };
    for attempt in 0..2 {
        let taken = sqlx::query(update)
            .bind(session_id)
            .bind(starts_at)
            .execute(&mut **tx)
            .await?;
        if taken.rows_affected() == 1 {
            return Ok(true);
        }
        if attempt == 0 && release_expired(tx, session_id, starts_at, now).await? == 0 {
            return Ok(false);
        }
    }
    Ok(false)
}

/// Gives the places of a slot's expired holds back; returns how many.
async fn release_expired(
    tx: &mut Transaction<'static, Any>,
    session_id: &str,
    starts_at: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let gone = sqlx::query(
        "DELETE FROM slot_holds WHERE session_id = $1 AND starts_at = $2 AND expires_at <= $3",
    )
    .bind(session_id)
    .bind(starts_at)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected() as i64;
    if gone > 0 {
        sqlx::query("UPDATE slots SET held = held - $3 WHERE session_id = $1 AND starts_at = $2")
            .bind(session_id)
            .bind(starts_at)
            .bind(gone)
            .execute(&mut **tx)
            .await?;
    }
    Ok(gone)
}

/// A place held for a person while they confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: String,
    pub person_id: String,
    pub session_id: String,
    pub starts_at: String,
    pub expires_at_micros: i64,
}

#[derive(Debug, Clone)]
pub enum HoldOutcome {
    Held(Hold),
    /// No place left, holds counted.
    Full,
}

impl Store {
    /// Holds a place of a slot for `ttl_micros` while the person confirms:
    /// it counts against capacity like a booking, so nobody else takes it,
    /// and comes back to the slot when it expires. A person holds one place
    /// at a time: an earlier live hold of theirs is given back.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hold_place(
        &self,
        person_id: &str,
        session_id: &str,
        starts_at: &str,
        ttl_micros: i64,
        actor: &Actor,
    ) -> Result<HoldOutcome, StoreError> {
        let person = self.person_in(person_id, &actor.scope).await?;
        let today = crate::format_date(self.today());
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        let slot =
            sqlx::query("SELECT capacity FROM slots WHERE session_id = $1 AND starts_at = $2")
                .bind(session_id)
                .bind(starts_at)
                .fetch_optional(&mut *tx)
                .await?;
        if slot.is_none() {
            return Err(StoreError::NotFound {
                entity: "slot",
                field: "starts_at",
                key: format!("{session_id} {starts_at}"),
            });
        }
        if starts_at.get(..10).is_some_and(|day| day < today.as_str()) {
            return Err(StoreError::invalid(
                "starts_at",
                format!("the slot {starts_at} has passed"),
            ));
        }
        release_holds_of(&mut tx, &person.id).await?;
        if !take_place(&mut tx, session_id, starts_at, "held", now).await? {
            tx.commit().await?;
            return Ok(HoldOutcome::Full);
        }
        let hold = Hold {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: person.id.clone(),
            session_id: session_id.to_string(),
            starts_at: starts_at.to_string(),
            expires_at_micros: now + ttl_micros,
        };
        sqlx::query(
            "INSERT INTO slot_holds (id, person_id, session_id, starts_at, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&hold.id)
        .bind(&hold.person_id)
        .bind(&hold.session_id)
        .bind(&hold.starts_at)
        .bind(hold.expires_at_micros)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(HoldOutcome::Held(hold))
    }

    /// A live hold of the person, if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn live_hold(&self, id: &str, person_id: &str) -> Result<Option<Hold>, StoreError> {
        let row = sqlx::query(
            "SELECT id, person_id, session_id, starts_at, expires_at FROM slot_holds \
             WHERE id = $1 AND person_id = $2 AND expires_at > $3",
        )
        .bind(id)
        .bind(person_id)
        .bind(self.now_micros())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Hold {
                id: r.try_get("id")?,
                person_id: r.try_get("person_id")?,
                session_id: r.try_get("session_id")?,
                starts_at: r.try_get("starts_at")?,
                expires_at_micros: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Gives back the places of every hold expired by `now`; returns how
    /// many. Run by the server now and then; booking and holding a slot
    /// give back its own expired holds as they go.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn release_expired_holds(&self, now: i64) -> Result<i64, StoreError> {
        let slots = sqlx::query(
            "SELECT DISTINCT session_id, starts_at FROM slot_holds WHERE expires_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        if slots.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut released = 0;
        for s in &slots {
            let (session, at): (String, String) =
                (s.try_get("session_id")?, s.try_get("starts_at")?);
            released += release_expired(&mut tx, &session, &at, now).await?;
        }
        tx.commit().await?;
        Ok(released)
    }

    /// The slot's capacity, bookings and live holds: (capacity, booked, held).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn slot_counts(
        &self,
        session_id: &str,
        starts_at: &str,
    ) -> Result<(i64, i64, i64), StoreError> {
        let r = sqlx::query(
            "SELECT capacity, booked, held FROM slots WHERE session_id = $1 AND starts_at = $2",
        )
        .bind(session_id)
        .bind(starts_at)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            r.try_get("capacity")?,
            r.try_get("booked")?,
            r.try_get("held")?,
        ))
    }
}

/// The conflict of a planned session whose hours overlap `other`'s, the
/// same site's on the same day (a session whose hours do not read is
/// passed over).
fn overlap_conflict(plan: &SessionPlan, other: &Session) -> Option<StoreError> {
    let parse =
        |t: &str| time::Time::parse(t, time::macros::format_description!("[hour]:[minute]")).ok();
    let (o, c) = (parse(&other.opens)?, parse(&other.closes)?);
    overlaps((plan.opens, plan.closes), (o, c)).then(|| StoreError::Conflict {
        field: "opens",
        message: format!(
            "the session overlaps session {} of this site ({}–{})",
            other.id, other.opens, other.closes
        ),
        existing: Some(format!("/api/v1/sessions/{}", other.id)),
    })
}

/// Writes the session's row; a conflict when its id is taken.
async fn insert_session(
    tx: &mut Transaction<'static, Any>,
    new: &NewSession,
    day: &str,
    now: i64,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO vaccination_sessions (id, site_code, day, opens, closes, stations, per_station_per_hour, slot_minutes, village_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&new.id)
    .bind(&new.site_code)
    .bind(day)
    .bind(hhmm(new.plan.opens))
    .bind(hhmm(new.plan.closes))
    .bind(i64::from(new.plan.stations))
    .bind(i64::from(new.plan.per_station_per_hour))
    .bind(i64::from(new.plan.slot_minutes))
    .bind(&new.village_code)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("session {} already exists", new.id),
            existing: Some(format!("/api/v1/sessions/{}", new.id)),
        });
    }
    Ok(())
}

/// Drops the person's holds (a person holds one place at a time), giving
/// each held place back to its slot.
async fn release_holds_of(
    tx: &mut Transaction<'static, Any>,
    person_id: &str,
) -> Result<(), StoreError> {
    let mine = sqlx::query("SELECT id, session_id, starts_at FROM slot_holds WHERE person_id = $1")
        .bind(person_id)
        .fetch_all(&mut **tx)
        .await?;
    for h in &mine {
        let (id, s, t): (String, String, String) = (
            h.try_get("id")?,
            h.try_get("session_id")?,
            h.try_get("starts_at")?,
        );
        let gone = sqlx::query("DELETE FROM slot_holds WHERE id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if gone == 1 {
            sqlx::query(
                "UPDATE slots SET held = held - 1 WHERE session_id = $1 AND starts_at = $2",
            )
            .bind(&s)
            .bind(&t)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    #[test]
    fn a_session_may_not_overlap_another_of_its_site() {
        let plan = SessionPlan {
            day: date!(2021 - 07 - 01),
            opens: time!(08:00),
            closes: time!(12:00),
            stations: 2,
            per_station_per_hour: 10,
            slot_minutes: 30,
        };
        let other = |opens: &str, closes: &str| Session {
            id: "s-1".into(),
            site_code: "S1".into(),
            day: "2021-07-01".into(),
            opens: opens.into(),
            closes: closes.into(),
            stations: 1,
            per_station_per_hour: 10,
            slot_minutes: 30,
            village_code: None,
        };
        let conflict = overlap_conflict(&plan, &other("11:30", "14:00")).expect("overlaps");
        assert_eq!(
            conflict.to_string(),
            "the session overlaps session s-1 of this site (11:30–14:00)"
        );
        assert!(overlap_conflict(&plan, &other("12:00", "14:00")).is_none());
        assert!(overlap_conflict(&plan, &other("noon", "14:00")).is_none());
    }
}
