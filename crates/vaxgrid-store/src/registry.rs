//! What the registry pages read besides the person and their doses: the
//! certificates issued to a person and their appointments.

use sqlx::Row;

use crate::error::StoreError;
use crate::scheduling::{appointment_from_row, Appointment};
use crate::Store;

/// A certificate issued to a person, and whether it still holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedCertificate {
    pub uvci: String,
    pub dose_id: String,
    pub issued_at_micros: i64,
    /// Its dose was entered in error since, or it was revoked (by lot,
    /// or by site and day): verifiers refuse it.
    pub revoked: bool,
}

/// An appointment with the site it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonAppointment {
    pub appointment: Appointment,
    pub site_code: String,
    pub site_name: String,
}

/// At most this many appointments are shown on a record (newest first).
pub const RECORD_APPOINTMENTS: i64 = 50;

impl Store {
    /// The certificates issued to the person (and to the records merged
    /// into them), oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn person_certificates(
        &self,
        person_id: &str,
    ) -> Result<Vec<IssuedCertificate>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.uvci, c.dose_id, c.issued_at, \
             (SELECT COUNT(*) FROM doses d WHERE d.corrects_id = c.dose_id) + \
             (SELECT COUNT(*) FROM certificate_revocations r WHERE r.dose_id = c.dose_id \
              AND r.province_code = c.province_code) AS voids \
             FROM certificates c WHERE c.person_id IN \
             (SELECT id FROM persons WHERE id = $1 OR merged_into = $1) \
             ORDER BY c.issued_at, c.uvci",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IssuedCertificate {
                    uvci: r.try_get("uvci")?,
                    dose_id: r.try_get("dose_id")?,
                    issued_at_micros: r.try_get("issued_at")?,
                    revoked: r.try_get::<i64, _>("voids")? > 0,
                })
            })
            .collect()
    }

    /// The person's appointments, newest first (at most
    /// [`RECORD_APPOINTMENTS`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn appointments_of(
        &self,
        person_id: &str,
    ) -> Result<Vec<PersonAppointment>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.person_id, a.session_id, a.starts_at, a.status, a.booked_by, \
             s.site_code, t.name AS site_name \
             FROM appointments a JOIN vaccination_sessions s ON s.id = a.session_id \
             JOIN sites t ON t.code = s.site_code \
             WHERE a.person_id = $1 ORDER BY a.starts_at DESC, a.id LIMIT $2",
        )
        .bind(person_id)
        .bind(RECORD_APPOINTMENTS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PersonAppointment {
                    appointment: appointment_from_row(r)?,
                    site_code: r.try_get("site_code")?,
                    site_name: r.try_get("site_name")?,
                })
            })
            .collect()
    }
}
