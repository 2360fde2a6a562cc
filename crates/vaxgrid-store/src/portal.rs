//! The resident portal's records: one-time codes sent through the outbox,
//! the counters that limit attempts, and residents' sessions. A resident
//! holds no account: they find their record with an ID number and a birth
//! date and prove it is theirs with a code sent to the phone on the record.
//!
//! Nothing here tells whether a record exists: a challenge is made for
//! every search (without a person when the details name none), and the
//! limits count by the details searched, not by the record found.

use sqlx::Row;

use crate::error::StoreError;
use crate::model::Person;
use crate::Store;

/// A one-time code is valid this long.
pub const CODE_TTL_MICROS: i64 = 10 * 60 * 1_000_000;
/// Wrong codes a challenge takes before it is spent.
pub const CODE_ATTEMPTS: i64 = 5;

/// A challenge to record, with the message carrying its code when the
/// details named a record with a phone.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    pub id: String,
    pub person_id: Option<String>,
    pub record_key: String,
    pub code_sha256: String,
    /// vi, zh, en: the language the resident reads the portal in.
    pub language: String,
    pub expires_at: i64,
    /// (phone, message) for the outbox.
    pub message: Option<(String, String)>,
}

/// What became of a code tried against a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the challenge is spent and the person signed in.
    Accepted { person_id: String },
    /// Wrong; this many tries remain.
    Wrong { left: i64 },
    /// The code's time is over (or it was used): ask for a new one.
    Expired,
    /// Too many wrong tries: ask for a new one.
    Spent,
}

impl Store {
    /// The record of a resident with this ID number and birth date (the
    /// surviving record when it was merged), if exactly one matches.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_resident(
        &self,
        id_number: &str,
        birth_date: &str,
    ) -> Result<Option<Person>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, merged_into FROM persons WHERE id_number = $1 AND birth_date = $2 ORDER BY id",
        )
        .bind(id_number)
        .bind(birth_date)
        .fetch_all(&self.pool)
        .await?;
        let mut ids: Vec<String> = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let merged: Option<String> = r.try_get("merged_into")?;
            let root = merged.unwrap_or(id);
            if !ids.contains(&root) {
                ids.push(root);
            }
        }
        let [only] = ids.as_slice() else {
            return Ok(None);
        };
        let mut person = self.person(only).await?;
        // A survivor merged again later: follow the chain a few steps.
        for _ in 0..4 {
            match person.merged_into.clone() {
                Some(next) => person = self.person(&next).await?,
                None => return Ok(Some(person)),
            }
        }
        Ok(None)
    }

    /// Counts one hit on `key` in a fixed window of `window_micros`; returns
    /// the hits of the current window (this one included) and when the
    /// window ends.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn portal_hit(
        &self,
        key: &str,
        window_micros: i64,
        now: i64,
    ) -> Result<(i64, i64), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO portal_limits (key, hits, window_start) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN portal_limits.window_start <= $3 THEN 1 ELSE portal_limits.hits + 1 END, \
               window_start = CASE WHEN portal_limits.window_start <= $3 THEN $2 ELSE portal_limits.window_start END",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_micros)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT hits, window_start FROM portal_limits WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let hits: i64 = row.try_get("hits")?;
        let start: i64 = row.try_get("window_start")?;
        Ok((hits, start + window_micros))
    }

    /// Records a challenge and, in the same transaction, its message in the
    /// outbox (kind `portal_code`, subject the challenge).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_portal_challenge(&self, new: &NewChallenge) -> Result<(), StoreError> {
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        // Spent and expired challenges are of no use to anyone.
        sqlx::query("DELETE FROM portal_challenges WHERE expires_at < $1")
            .bind(now - CODE_TTL_MICROS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portal_challenges (id, person_id, record_key, code_sha256, language, expires_at, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
        )
        .bind(&new.id)
        .bind(&new.person_id)
        .bind(&new.record_key)
        .bind(&new.code_sha256)
        .bind(&new.language)
        .bind(new.expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let (Some(person), Some((phone, message))) = (&new.person_id, &new.message) {
            crate::reminders::enqueue(
                &mut tx,
                &crate::reminders::OutboxMessage {
                    person_id: person,
                    kind: crate::reminders::PORTAL_CODE,
                    subject: &new.id,
                    language: &new.language,
                    phone: Some(phone),
                    message,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The record key of a challenge (for the per-record limits), if it exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn portal_challenge_key(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT record_key FROM portal_challenges WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("record_key")?),
            None => None,
        })
    }

    /// Tries a code, given as the hash it would be stored as. Each try
    /// counts, concurrent ones included (a conditional update); a right
    /// code is accepted once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_portal_code(
        &self,
        id: &str,
        code_sha256: &str,
        now: i64,
    ) -> Result<CodeCheck, StoreError> {
        let counted = sqlx::query(
            "UPDATE portal_challenges SET attempts = attempts + 1 \
             WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3",
        )
        .bind(id)
        .bind(now)
        .bind(CODE_ATTEMPTS)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT person_id, code_sha256, expires_at, attempts, used_at FROM portal_challenges WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(CodeCheck::Expired);
        };
        let attempts: i64 = row.try_get("attempts")?;
        if counted.rows_affected() == 0 {
            let used: Option<i64> = row.try_get("used_at")?;
            let expires: i64 = row.try_get("expires_at")?;
            return Ok(if used.is_some() || expires <= now {
                CodeCheck::Expired
            } else {
                CodeCheck::Spent
            });
        }
        let stored: String = row.try_get("code_sha256")?;
        let person: Option<String> = row.try_get("person_id")?;
        let right = constant_time_eq(stored.as_bytes(), code_sha256.as_bytes());
        match person {
            Some(person_id) if right => {
                let taken = sqlx::query(
                    "UPDATE portal_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(if taken.rows_affected() == 1 {
                    CodeCheck::Accepted { person_id }
                } else {
                    CodeCheck::Expired
                })
            }
            _ if attempts >= CODE_ATTEMPTS => Ok(CodeCheck::Spent),
            _ => Ok(CodeCheck::Wrong {
                left: CODE_ATTEMPTS - attempts,
            }),
        }
    }

    /// Starts a resident's session (only the SHA-256 of its id is kept).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_resident_session(
        &self,
        id_sha256: &str,
        person_id: &str,
        csrf: &str,
    ) -> Result<(), StoreError> {
        let now = self.now_micros();
        sqlx::query(
            "INSERT INTO resident_sessions (id_sha256, person_id, csrf, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id_sha256)
        .bind(person_id)
        .bind(csrf)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The person and CSRF token of a live resident session; an idle or
    /// old one ends here.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resident_session(
        &self,
        id_sha256: &str,
        idle_micros: i64,
        absolute_micros: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT person_id, csrf, created_at, last_seen FROM resident_sessions WHERE id_sha256 = $1",
        )
        .bind(id_sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = self.now_micros();
        let created: i64 = row.try_get("created_at")?;
        let last_seen: i64 = row.try_get("last_seen")?;
        if now - last_seen > idle_micros || now - created > absolute_micros {
            self.end_resident_session(id_sha256).await?;
            return Ok(None);
        }
        if now - last_seen > 30_000_000 {
            sqlx::query("UPDATE resident_sessions SET last_seen = $2 WHERE id_sha256 = $1")
                .bind(id_sha256)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some((row.try_get("person_id")?, row.try_get("csrf")?)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_resident_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resident_sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Compares two hashes in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
