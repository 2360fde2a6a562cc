//! Staff training: classes, their attendees, exams, and the certificates a
//! passed exam issues. The rules (pass mark, validity) are
//! `vaxgrid_core::training`'s; this module checks references and stores.

use serde::Serialize;
use sqlx::Row;
use vaxgrid_core::training::{self as rules, TrainingError};

use crate::audit::{self, AuditEntry};
use crate::cells::{Cells, FromCells};
use crate::error::StoreError;
use crate::model::Actor;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingClass {
    pub id: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    /// User name of the trainer.
    pub trainer: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exam {
    pub id: String,
    pub class_id: String,
    pub username: String,
    pub score: i64,
    pub pass_mark: i64,
    pub passed: bool,
    pub taken_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCertificate {
    pub id: String,
    pub username: String,
    pub topic: String,
    pub issued_on: String,
    /// The last day it is valid.
    pub expires_on: String,
    pub exam_id: String,
    pub revoked: bool,
}

/// A class to create; `id` is chosen by the client.
#[derive(Debug, Clone)]
pub struct NewClass {
    pub id: String,
    pub topic: String,
    pub starts_on: time::Date,
    pub ends_on: time::Date,
    pub trainer: String,
}

/// An exam to record; a pass issues a certificate valid `valid_days` days
/// from `taken_on` (the day of the exam being the first).
#[derive(Debug, Clone)]
pub struct NewExam {
    pub id: String,
    pub class_id: String,
    pub username: String,
    pub score: i64,
    pub pass_mark: i64,
    pub taken_on: time::Date,
    pub valid_days: i64,
}

fn invalid(e: TrainingError) -> StoreError {
    StoreError::invalid(e.field(), e.to_string())
}

pub(crate) fn class_from_row(r: &sqlx::any::AnyRow) -> Result<TrainingClass, StoreError> {
    Ok(TrainingClass {
        id: r.try_get("id")?,
        topic: r.try_get("topic")?,
        starts_on: r.try_get("starts_on")?,
        ends_on: r.try_get("ends_on")?,
        trainer: r.try_get("trainer")?,
    })
}

pub(crate) fn exam_from_row(r: &sqlx::any::AnyRow) -> Result<Exam, StoreError> {
    Ok(Exam {
        id: r.try_get("id")?,
        class_id: r.try_get("class_id")?,
        username: r.try_get("username")?,
        score: r.try_get("score")?,
        pass_mark: r.try_get("pass_mark")?,
        passed: r.try_get::<i64, _>("passed")? != 0,
        taken_on: r.try_get("taken_on")?,
    })
}

impl StaffCertificate {
    /// Whether it lets its holder work on day `on` (core's rule; a stored
    /// date that does not read as one makes it not current).
    pub fn is_current_on(&self, on: time::Date) -> bool {
        match (
            crate::parse_date(&self.issued_on),
            crate::parse_date(&self.expires_on),
        ) {
            (Some(issued), Some(expires)) => rules::is_current(issued, expires, self.revoked, on),
            _ => false,
        }
    }
}

impl FromCells for StaffCertificate {
    fn from_cells<R: Cells>(row: &R) -> Result<StaffCertificate, StoreError> {
        certificate_from_row(row)
    }
}

pub(crate) fn certificate_from_row<R: Cells>(r: &R) -> Result<StaffCertificate, StoreError> {
    Ok(StaffCertificate {
        id: r.cell("id")?,
        username: r.cell("username")?,
        topic: r.cell("topic")?,
        issued_on: r.cell("issued_on")?,
        expires_on: r.cell("expires_on")?,
        exam_id: r.cell("exam_id")?,
        revoked: r.cell::<i64>("revoked")? != 0,
    })
}

const CLASS_COLUMNS: &str = "id, topic, starts_on, ends_on, trainer";
const EXAM_COLUMNS: &str = "id, class_id, username, score, pass_mark, passed, taken_on";
pub(crate) const CERTIFICATE_COLUMNS: &str =
    "id, username, topic, issued_on, expires_on, exam_id, revoked";

impl Store {
    /// Creates a class. Its trainer must be a user; it may not end before
    /// it starts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_class(
        &self,
        new: &NewClass,
        actor: &Actor,
    ) -> Result<TrainingClass, StoreError> {
        let topic = rules::normalize_topic(&new.topic).map_err(invalid)?;
        rules::check_class_dates(new.starts_on, new.ends_on).map_err(invalid)?;
        self.known_user("trainer", &new.trainer).await?;
        let (starts_on, ends_on) = (
            crate::format_date(new.starts_on),
            crate::format_date(new.ends_on),
        );
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO training_classes (id, topic, starts_on, ends_on, trainer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&topic)
        .bind(&starts_on)
        .bind(&ends_on)
        .bind(&new.trainer)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("training class {} already exists", new.id),
                existing: None,
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "training_class",
                &new.id,
                serde_json::json!({"topic": topic, "starts_on": starts_on, "ends_on": ends_on, "trainer": new.trainer}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.training_class(&new.id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn training_class(&self, id: &str) -> Result<TrainingClass, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CLASS_COLUMNS} FROM training_classes WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "training class",
            field: "class_id",
            key: id.to_string(),
        })?;
        class_from_row(&row)
    }

    /// The user names attending a class, in order.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn attendees_of(&self, class_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT username FROM training_attendees WHERE class_id = $1 ORDER BY username",
        )
        .bind(class_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("username").map_err(StoreError::from))
            .collect()
    }

    /// Adds a user to a class. Returns whether they were added (false: they
    /// attended already).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_attendee(
        &self,
        class_id: &str,
        username: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        self.training_class(class_id).await?;
        self.known_user("username", username).await?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO training_attendees (class_id, username) VALUES ($1, $2) \
             ON CONFLICT (class_id, username) DO NOTHING",
        )
        .bind(class_id)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "add_attendee",
                "training_class",
                class_id,
                serde_json::json!({"username": username}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records an exam of an attendee of the class, taken no earlier than
    /// the class starts and not in the future. A pass issues a certificate
    /// for the class topic.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_exam(
        &self,
        new: &NewExam,
        actor: &Actor,
    ) -> Result<(Exam, Option<StaffCertificate>), StoreError> {
        rules::check_exam(new.score, new.pass_mark).map_err(invalid)?;
        let expires_on = rules::expires_on(new.taken_on, new.valid_days).map_err(invalid)?;
        let class = self.training_class(&new.class_id).await?;
        self.known_user("username", &new.username).await?;
        self.check_attends(new).await?;
        check_exam_day(new.taken_on, &class.starts_on, self.today())?;
        let taken_on = crate::format_date(new.taken_on);
        let passed = rules::passed(new.score, new.pass_mark);
        let mut tx = self.begin_write().await?;
        insert_exam(&mut tx, new, passed, &taken_on, self.now_micros()).await?;
        let mut entries = vec![AuditEntry::by(
            actor,
            "create",
            "training_exam",
            &new.id,
            serde_json::json!({"class_id": new.class_id, "username": new.username,
                               "score": new.score, "pass_mark": new.pass_mark, "passed": passed}),
        )];
        let certificate = if passed {
            let c = StaffCertificate {
                id: uuid::Uuid::now_v7().to_string(),
                username: new.username.clone(),
                topic: class.topic.clone(),
                issued_on: taken_on.clone(),
                expires_on: crate::format_date(expires_on),
                exam_id: new.id.clone(),
                revoked: false,
            };
            insert_certificate(&mut tx, &c).await?;
            entries.push(AuditEntry::by(
                actor,
                "issue",
                "staff_certificate",
                &c.id,
                serde_json::json!({"username": c.username, "topic": c.topic,
                                   "issued_on": c.issued_on, "expires_on": c.expires_on, "exam_id": c.exam_id}),
            ));
            Some(c)
        } else {
            None
        };
        audit::append(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        let row = sqlx::query(&format!(
            "SELECT {EXAM_COLUMNS} FROM training_exams WHERE id = $1"
        ))
        .bind(&new.id)
        .fetch_one(&self.pool)
        .await?;
        Ok((exam_from_row(&row)?, certificate))
    }

    /// Refuses an exam of someone who does not attend the class.
    async fn check_attends(&self, new: &NewExam) -> Result<(), StoreError> {
        let attends = sqlx::query(
            "SELECT username FROM training_attendees WHERE class_id = $1 AND username = $2",
        )
        .bind(&new.class_id)
        .bind(&new.username)
        .fetch_optional(&self.pool)
        .await?;
        if attends.is_none() {
            return Err(StoreError::invalid(
                "username",
                format!(
                    "{} does not attend class {}: add them as an attendee first",
                    new.username, new.class_id
                ),
            ));
        }
        Ok(())
    }

    /// The certificates of a user, newest first (revoked and expired ones
    /// included).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn certificates_of(
        &self,
        username: &str,
    ) -> Result<Vec<StaffCertificate>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM staff_certificates WHERE username = $1 \
             ORDER BY issued_on DESC, id DESC"
        ))
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    /// Revokes a certificate (it stops being current at once).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_staff_certificate(
        &self,
        id: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let changed =
            sqlx::query("UPDATE staff_certificates SET revoked = 1 WHERE id = $1 AND revoked = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "staff certificate",
                field: "id",
                key: id.to_string(),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "revoke",
                "staff_certificate",
                id,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user that must exist, named by request field `field`.
    async fn known_user(&self, field: &'static str, username: &str) -> Result<(), StoreError> {
        match self.user_by_name(username).await? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                entity: "user",
                field,
                key: username.to_string(),
            }),
        }
    }
}

/// How many of a site's staff hold a current vaccination certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteCertified {
    pub site_code: String,
    pub site_name: String,
    pub area_code: String,
    /// Enabled users holding a role at the site.
    pub staff: i64,
    /// Of them, those whose vaccination certificate is current on the day.
    pub certified: i64,
}

impl Store {
    /// Sites by code with how many of their staff are certified on `day`
    /// (the rule of [`Store::site_certification`], counted): one statement
    /// a page, seek-paged by site code.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn certification_by_site(
        &self,
        day: &str,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::model::Page<SiteCertified>, StoreError> {
        let after = match page.after.as_deref() {
            Some(c) => crate::paging::decode_cursor(c, 1)?.remove(0),
            None => String::new(),
        };
        let rows = sqlx::query(&format!(
            "SELECT s.code AS code, s.name AS name, s.area_code AS area_code, \
             (SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN users u ON u.id = g.user_id \
              WHERE g.scope = s.code AND u.disabled = 0) AS staff, \
             (SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN users u ON u.id = g.user_id \
              WHERE g.scope = s.code AND u.disabled = 0 AND EXISTS (SELECT 1 FROM staff_certificates c \
              WHERE c.username = u.username AND LOWER(c.topic) = $2 AND c.revoked = 0 \
              AND c.issued_on <= $1 AND c.expires_on >= $1)) AS certified \
             FROM sites s WHERE s.code > $3 ORDER BY s.code LIMIT {}",
            page.limit + 1
        ))
        .bind(day)
        .bind(rules::VACCINATION_TOPIC)
        .bind(&after)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(SiteCertified {
                    site_code: r.try_get("code")?,
                    site_name: r.try_get("name")?,
                    area_code: r.try_get("area_code")?,
                    staff: r.try_get("staff")?,
                    certified: r.try_get("certified")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(crate::model::Page::from_rows(items, page.limit, |s| {
            crate::paging::cursor(&[&s.site_code])
        }))
    }
}

/// An exam is taken no earlier than its class starts (`starts_on`, a date
/// `YYYY-MM-DD`) and not after `today`.
fn check_exam_day(
    taken_on: time::Date,
    starts_on: &str,
    today: time::Date,
) -> Result<(), StoreError> {
    let day = crate::format_date(taken_on);
    if day.as_str() < starts_on {
        return Err(StoreError::invalid(
            "taken_on",
            format!("the exam is on {day}, before the class starts ({starts_on})"),
        ));
    }
    if taken_on > today {
        return Err(StoreError::invalid(
            "taken_on",
            format!("the exam is on {day}, in the future"),
        ));
    }
    Ok(())
}

/// Writes the exam; a conflict when its id is already recorded.
async fn insert_exam(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewExam,
    passed: bool,
    taken_on: &str,
    now: i64,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO training_exams (id, class_id, username, score, pass_mark, passed, taken_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&new.id)
    .bind(&new.class_id)
    .bind(&new.username)
    .bind(new.score)
    .bind(new.pass_mark)
    .bind(i64::from(passed))
    .bind(taken_on)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("exam {} already exists", new.id),
            existing: None,
        });
    }
    Ok(())
}

/// Writes the certificate a passed exam issues.
async fn insert_certificate(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    c: &StaffCertificate,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO staff_certificates (id, username, topic, issued_on, expires_on, exam_id, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(&c.id)
    .bind(&c.username)
    .bind(&c.topic)
    .bind(&c.issued_on)
    .bind(&c.expires_on)
    .bind(&c.exam_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_exam_falls_between_the_class_start_and_today() {
        let today = date!(2021 - 07 - 10);
        assert!(check_exam_day(date!(2021 - 07 - 01), "2021-07-01", today).is_ok());
        assert!(check_exam_day(today, "2021-07-01", today).is_ok());
        let early = check_exam_day(date!(2021 - 06 - 30), "2021-07-01", today).unwrap_err();
        assert_eq!(
            early.to_string(),
            "taken_on: the exam is on 2021-06-30, before the class starts (2021-07-01)"
        );
        let late = check_exam_day(date!(2021 - 07 - 11), "2021-07-01", today).unwrap_err();
        assert_eq!(
            late.to_string(),
            "taken_on: the exam is on 2021-07-11, in the future"
        );
    }
}
