//! Issued certificates and their revocation.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::Store;

/// SHA-256 of a UVCI, hex: the form the revocation list publishes.
pub fn uvci_hash(uvci: &str) -> String {
    hex::encode(Sha256::digest(uvci.as_bytes()))
}

impl Store {
    /// Records an issued certificate.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_certificate(
        &self,
        uvci: &str,
        person_id: &str,
        dose_id: &str,
        province_code: &str,
        kid: &str,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<(), StoreError> {
        let actor: crate::model::Actor = actor.into();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO certificates (province_code, uvci, uvci_sha256, person_id, dose_id, kid, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uvci, province_code) DO NOTHING",
        )
        .bind(province_code)
        .bind(uvci)
        .bind(uvci_hash(uvci))
        .bind(person_id)
        .bind(dose_id)
        .bind(kid)
        .bind(crate::now_micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                &actor,
                "issue",
                "certificate",
                uvci,
                serde_json::json!({"dose_id": dose_id}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hashes of the certificates whose dose was entered in error.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoked_certificate_hashes(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT c.uvci_sha256 AS h FROM certificates c JOIN doses d ON d.corrects_id = c.dose_id \
             ORDER BY c.uvci_sha256",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("h")?))
            .collect()
    }

    /// Whether the certificate with this UVCI is revoked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn certificate_revoked(&self, uvci: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM certificates c JOIN doses d ON d.corrects_id = c.dose_id WHERE c.uvci_sha256 = $1",
        )
        .bind(uvci_hash(uvci))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
