//! The reminder outbox: messages to residents about a next dose falling due
//! and about a missed appointment, in their language (the rules and texts
//! are in `vaxgrid_core::reminders`).
//!
//! Generation may run any number of times, on any number of servers: a
//! reminder is keyed by what it is about (`UNIQUE (kind, subject)`), so the
//! second insert of the same one does nothing. Sending claims a message
//! first (a compare-and-set that moves `next_attempt_at` a lease ahead), so
//! two senders never both take it; it is marked `sent` only after the
//! gateway accepted it.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::Row;
use time::{Date, Duration};
use vaxgrid_core::dose::next_dose_due;
use vaxgrid_core::identity::IdType;
use vaxgrid_core::reminders::{About, Language, ReminderKind};

use crate::db::{in_json, json_rows, Col};
use crate::doses::{dose_from_row, valid_doses, valid_records, DOSE_COLUMNS};
use crate::error::StoreError;
use crate::model::DoseRecord;
use crate::Store;

/// A next dose is reminded of from this many days before it is due…
pub const DUE_AHEAD_DAYS: i64 = 3;
/// …until this many days after.
pub const OVERDUE_DAYS: i64 = 14;
/// No-shows older than this many days are not reminded of.
pub const MISSED_WITHIN_DAYS: i64 = 14;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub id: String,
    pub person_id: String,
    /// due_dose, missed_appointment
    pub kind: String,
    /// The dose id (due_dose) or appointment id (missed_appointment).
    pub subject: String,
    /// vi, zh, en
    pub language: String,
    pub phone: Option<String>,
    pub message: String,
    /// pending, sent, failed
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub next_attempt_at_micros: i64,
}

const REMINDER_COLUMNS: &str = "id, person_id, kind, subject, language, phone, message, status, \
    attempts, next_attempt_at, last_error, created_at, sent_at";

fn reminder_from_row(r: &AnyRow) -> Result<Reminder, StoreError> {
    let next: i64 = r.try_get("next_attempt_at")?;
    let created: i64 = r.try_get("created_at")?;
    let sent: Option<i64> = r.try_get("sent_at")?;
    Ok(Reminder {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        language: r.try_get("language")?,
        phone: r.try_get("phone")?,
        message: r.try_get("message")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: crate::format_instant(next),
        last_error: r.try_get("last_error")?,
        created_at: crate::format_instant(created),
        sent_at: sent.map(crate::format_instant),
        next_attempt_at_micros: next,
    })
}

/// Whom a message goes to: the surviving record of a person (merged
/// duplicates write to the survivor), their language and phone.
#[derive(Debug, Clone)]
struct Recipient {
    root: String,
    language: Language,
    phone: Option<String>,
}

/// A reminder to insert.
struct NewReminder {
    person_id: String,
    kind: ReminderKind,
    subject: String,
    language: Language,
    phone: Option<String>,
    message: String,
}

impl NewReminder {
    fn new(
        to: &Recipient,
        subject: &str,
        about: &About<'_>,
        texts: ReminderTexts<'_>,
    ) -> NewReminder {
        NewReminder {
            person_id: to.root.clone(),
            kind: about.kind(),
            subject: subject.to_string(),
            language: to.language,
            phone: to.phone.clone(),
            message: texts(to.language, about),
        }
    }
}

/// The outbox kind of a resident portal's one-time code. Its text holds
/// the code until the gateway has it: once sent it is replaced by
/// [`SENT_CODE_TEXT`], and the person's list of reminders never shows it.
pub const PORTAL_CODE: &str = "portal_code";
/// What a sent one-time code's message reads afterwards.
pub const SENT_CODE_TEXT: &str = "(one-time code, sent)";

/// A message put in the outbox by another part of the app (a one-time code).
pub struct OutboxMessage<'a> {
    pub person_id: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub language: &'a str,
    pub phone: Option<&'a str>,
    pub message: &'a str,
}

/// Puts one message in the outbox inside the caller's transaction; a
/// second message with the same kind and subject does nothing.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    m: &OutboxMessage<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, person_id, kind, subject, language, phone, message, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) ON CONFLICT (kind, subject) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(m.person_id)
    .bind(m.kind)
    .bind(m.subject)
    .bind(m.language)
    .bind(m.phone)
    .bind(m.message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Persons are read in chunks of this many.
const CHUNK: usize = 500;

fn json_list<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> String {
    let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_string()).collect();
    serde_json::to_string(&keys).expect("strings serialise")
}

/// Writes a reminder's text in the recipient's language (the server's
/// Fluent texts: the store keeps no wording of its own).
pub type ReminderTexts<'a> = &'a (dyn Fn(Language, &About<'_>) -> String + Sync);

impl Store {
    /// Adds to the outbox the reminders due on `today` that it does not hold
    /// yet, each worded by `texts`; returns how many it added. Safe to run
    /// again and concurrently.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn generate_reminders(
        &self,
        today: Date,
        texts: ReminderTexts<'_>,
    ) -> Result<usize, StoreError> {
        let mut new = self.due_dose_reminders(today, texts).await?;
        new.extend(self.missed_appointment_reminders(today, texts).await?);
        self.insert_reminders(&new).await
    }

    /// A `due_dose` reminder for each valid dose that is the last of an
    /// incomplete series whose next dose is due from `OVERDUE_DAYS` ago to
    /// `DUE_AHEAD_DAYS` ahead. The SQL narrows the doses to the window (per
    /// product, by its recommended interval) and drops those reminded of,
    /// voided, or followed by a later dose of the same record; the person's
    /// whole history (merged records included) then decides.
    async fn due_dose_reminders(
        &self,
        today: Date,
        texts: ReminderTexts<'_>,
    ) -> Result<Vec<NewReminder>, StoreError> {
        let products = self.product_map().await?;
        let candidates = self.due_dose_candidates(today, &products).await?;
        let earliest = today - Duration::days(OVERDUE_DAYS);
        let latest = today + Duration::days(DUE_AHEAD_DAYS);
        let mut out = Vec::new();
        for chunk in candidates.chunks(CHUNK) {
            let recipients = self
                .recipients(chunk.iter().map(|(_, p)| p.as_str()))
                .await?;
            let histories = self
                .histories_of(recipients.values().map(|r| r.root.as_str()))
                .await?;
            for (dose_id, person_id) in chunk {
                let Some(to) = recipients.get(person_id) else {
                    continue;
                };
                let records = histories.get(&to.root).map_or(&[][..], Vec::as_slice);
                let valid = valid_records(records);
                if valid.last().map(|d| d.id.as_str()) != Some(dose_id.as_str()) {
                    continue;
                }
                let Some(due) = next_dose_due(&valid_doses(records), |c| products.get(c)) else {
                    continue;
                };
                if due < earliest || due > latest {
                    continue;
                }
                let last = valid[valid.len() - 1];
                let product = products
                    .get(&last.product_code)
                    .map_or(last.product_code.as_str(), |p| p.name.as_str());
                let about = About::DueDose {
                    product,
                    dose_number: u32::try_from(valid.len() + 1).unwrap_or(u32::MAX),
                    due,
                    today,
                };
                out.push(NewReminder::new(to, dose_id, &about, texts));
            }
        }
        Ok(out)
    }

    /// (dose id, person id) of the doses whose next dose may be due in the
    /// window, by product code then dose id: doses of a series, within
    /// the window by the product's interval, not reminded of, not voided,
    /// and the person's last.
    async fn due_dose_candidates(
        &self,
        today: Date,
        products: &HashMap<String, vaxgrid_core::product::Product>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut candidates: Vec<(String, String)> = Vec::new();
        let mut codes: Vec<&String> = products.keys().collect();
        codes.sort();
        for code in codes {
            let p = &products[code];
            if p.doses_in_series < 2 {
                continue;
            }
            let interval = i64::from(p.recommended_interval_days);
            let from = crate::format_date(today - Duration::days(interval + OVERDUE_DAYS));
            let to = crate::format_date(today - Duration::days(interval - DUE_AHEAD_DAYS));
            // One dose number at a time: each number's window is a range of
            // `doses_product_number_day (product_code, dose_number,
            // administered_on)` (migration 0080), so the window's later
            // doses (most of it, weeks into a campaign) are never read
            // when first doses are due. SQLite: `SEARCH d USING INDEX
            // doses_product_number_day (product_code=? AND dose_number=? AND
            // administered_on>? AND administered_on<?)`.
            let start = candidates.len();
            for number in 1..p.doses_in_series {
                let rows = sqlx::query(&format!(
                    "SELECT d.id, d.person_id FROM doses d \
                     WHERE d.product_code = $1 AND d.dose_number = {number} \
                       AND d.administered_on >= $2 AND d.administered_on <= $3 \
                       AND d.kind IN ('administered', 'historical') \
                       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'due_dose' AND o.subject = d.id) \
                       AND NOT EXISTS (SELECT 1 FROM doses v WHERE v.corrects_id = d.id AND v.kind = 'entered_in_error') \
                       AND NOT EXISTS (SELECT 1 FROM doses l WHERE l.person_id = d.person_id \
                           AND l.administered_on > d.administered_on AND l.kind IN ('administered', 'historical') \
                           AND NOT EXISTS (SELECT 1 FROM doses w WHERE w.corrects_id = l.id AND w.kind = 'entered_in_error')) \
                     ORDER BY d.id"
                ))
                .bind(code)
                .bind(&from)
                .bind(&to)
                .fetch_all(&self.pool)
                .await?;
                for r in &rows {
                    candidates.push((r.try_get("id")?, r.try_get("person_id")?));
                }
            }
            candidates[start..].sort_unstable();
        }
        Ok(candidates)
    }

    /// A `missed_appointment` reminder for each no-show of the last
    /// `MISSED_WITHIN_DAYS` days not reminded of yet.
    async fn missed_appointment_reminders(
        &self,
        today: Date,
        texts: ReminderTexts<'_>,
    ) -> Result<Vec<NewReminder>, StoreError> {
        let midnight = today.midnight().assume_utc().unix_timestamp() * 1_000_000;
        let rows = sqlx::query(
            "SELECT a.id, a.person_id, a.starts_at, s.name AS site_name FROM appointments a \
             JOIN vaccination_sessions x ON x.id = a.session_id \
             JOIN sites s ON s.code = x.site_code \
             WHERE a.status = 'no_show' AND a.changed_at >= $1 \
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'missed_appointment' AND o.subject = a.id) \
             ORDER BY a.id",
        )
        .bind(midnight - MISSED_WITHIN_DAYS * MICROS_PER_DAY)
        .fetch_all(&self.pool)
        .await?;
        let mut missed = Vec::with_capacity(rows.len());
        for r in &rows {
            missed.push((
                r.try_get::<String, _>("id")?,
                r.try_get::<String, _>("person_id")?,
                r.try_get::<String, _>("starts_at")?,
                r.try_get::<String, _>("site_name")?,
            ));
        }
        let mut out = Vec::new();
        for chunk in missed.chunks(CHUNK) {
            let recipients = self
                .recipients(chunk.iter().map(|(_, p, _, _)| p.as_str()))
                .await?;
            for (id, person_id, starts_at, site) in chunk {
                let (Some(to), Some(day)) = (
                    recipients.get(person_id),
                    starts_at.get(..10).and_then(crate::parse_date),
                ) else {
                    continue;
                };
                let about = About::MissedAppointment {
                    site,
                    day,
                    time: starts_at.get(11..16).unwrap_or(""),
                };
                out.push(NewReminder::new(to, id, &about, texts));
            }
        }
        Ok(out)
    }

    /// The recipient of each of `ids` (following merges to the survivor).
    async fn recipients<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, Recipient>, StoreError> {
        struct Row {
            id_type: String,
            phone: Option<String>,
            merged_into: Option<String>,
        }
        let mut rows: HashMap<String, Row> = HashMap::new();
        let mut wanted: HashSet<String> = ids.into_iter().map(str::to_string).collect();
        let requested = wanted.clone();
        // Survivors are read in turn; a few rounds cover any chain of merges.
        for _ in 0..4 {
            if wanted.is_empty() {
                break;
            }
            let found = sqlx::query(&format!(
                "SELECT id, id_type, phone, merged_into FROM persons WHERE {}",
                in_json(self.backend, "id", 1)
            ))
            .bind(json_list(&wanted))
            .fetch_all(&self.pool)
            .await?;
            for r in &found {
                rows.insert(
                    r.try_get("id")?,
                    Row {
                        id_type: r.try_get("id_type")?,
                        phone: r.try_get("phone")?,
                        merged_into: r.try_get("merged_into")?,
                    },
                );
            }
            wanted = rows
                .values()
                .filter_map(|r| r.merged_into.clone())
                .filter(|s| !rows.contains_key(s))
                .collect();
        }
        let mut out = HashMap::new();
        for id in requested {
            let mut root = id.as_str();
            let mut hops = 0;
            while let Some(next) = rows.get(root).and_then(|r| r.merged_into.as_deref()) {
                root = next;
                hops += 1;
                if hops > 4 {
                    break;
                }
            }
            let Some(r) = rows.get(root).filter(|r| r.merged_into.is_none()) else {
                continue;
            };
            let language =
                IdType::parse(&r.id_type).map_or(Language::Vietnamese, Language::of_id_type);
            let recipient = Recipient {
                root: root.to_string(),
                language,
                phone: r.phone.clone(),
            };
            out.insert(id, recipient);
        }
        Ok(out)
    }

    /// The dose records of each of `roots` with those of the persons merged
    /// into it.
    async fn histories_of<'a>(
        &self,
        roots: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, Vec<DoseRecord>>, StoreError> {
        let roots: HashSet<&str> = roots.into_iter().collect();
        let mut root_of: HashMap<String, String> = roots
            .iter()
            .map(|r| (r.to_string(), r.to_string()))
            .collect();
        let merged = sqlx::query(&format!(
            "SELECT id, merged_into FROM persons WHERE {}",
            in_json(self.backend, "merged_into", 1)
        ))
        .bind(json_list(&roots))
        .fetch_all(&self.pool)
        .await?;
        for r in &merged {
            root_of.insert(r.try_get("id")?, r.try_get("merged_into")?);
        }
        let rows = sqlx::query(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE {}",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(json_list(root_of.keys()))
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, Vec<DoseRecord>> = HashMap::new();
        for r in &rows {
            let d = dose_from_row(r)?;
            if let Some(root) = root_of.get(&d.person_id) {
                out.entry(root.clone()).or_default().push(d);
            }
        }
        Ok(out)
    }

    /// Inserts the reminders the outbox does not hold yet; returns how many.
    async fn insert_reminders(&self, new: &[NewReminder]) -> Result<usize, StoreError> {
        if new.is_empty() {
            return Ok(0);
        }
        let now = self.now_micros();
        let mut added = 0;
        let mut tx = self.begin_write().await?;
        for chunk in new.chunks(1000) {
            let rows: Vec<serde_json::Value> = chunk
                .iter()
                .map(|r| {
                    serde_json::json!([
                        uuid::Uuid::now_v7().to_string(),
                        r.person_id,
                        r.kind.as_str(),
                        r.subject,
                        r.language.as_str(),
                        r.phone,
                        r.message,
                        "pending",
                        0,
                        now,
                        now,
                    ])
                })
                .collect();
            let done = sqlx::query(&format!(
                "INSERT INTO outbox (id, person_id, kind, subject, language, phone, message, status, attempts, next_attempt_at, created_at) \
                 {} ON CONFLICT (kind, subject) DO NOTHING",
                json_rows(
                    self.backend,
                    1,
                    &[
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Text,
                        Col::Int,
                        Col::Int,
                        Col::Int,
                    ]
                )
            ))
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut *tx)
            .await?;
            added += done.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Pending messages whose time to be tried has come, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn pending_reminders(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<Reminder>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REMINDER_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reminder_from_row).collect()
    }

    /// Takes `r` for sending until `until` (microseconds): true if this
    /// caller got it, false if another sender took it or it changed since
    /// it was read. A message whose sender stops before marking it becomes
    /// pending again when the lease ends.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn claim_reminder(&self, r: &Reminder, until: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $3 \
             WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2 AND attempts = $4",
        )
        .bind(&r.id)
        .bind(r.next_attempt_at_micros)
        .bind(until)
        .bind(r.attempts)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the message was delivered to the gateway. False if it
    /// was not pending (already sent or given up).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_sent(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, \
             message = CASE WHEN kind = $3 THEN $4 ELSE message END \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(self.now_micros())
        .bind(PORTAL_CODE)
        .bind(SENT_CODE_TEXT)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed try: to be tried again at `next_attempt_at`
    /// (microseconds), or, with `None`, given up (`failed`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let done = match next_attempt_at {
            Some(at) => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
                     WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(error)
            .bind(at)
            .execute(&self.pool)
            .await?,
            None => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, status = 'failed' \
                     WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(error)
            .execute(&self.pool)
            .await?,
        };
        Ok(done.rows_affected() == 1)
    }

    /// The messages of a person (and of the records merged into them),
    /// oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn outbox(&self, person_id: &str) -> Result<Vec<Reminder>, StoreError> {
        let person = self.person(person_id).await?;
        let root = person.merged_into.unwrap_or(person.id);
        let rows = sqlx::query(&format!(
            "SELECT {REMINDER_COLUMNS} FROM outbox WHERE person_id IN \
             (SELECT id FROM persons WHERE id = $1 OR merged_into = $1) AND kind <> $2 ORDER BY created_at, id"
        ))
        .bind(&root)
        .bind(PORTAL_CODE)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reminder_from_row).collect()
    }
}
