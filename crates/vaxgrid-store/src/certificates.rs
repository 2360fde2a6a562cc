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
        .bind(self.now_micros())
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

    /// Hashes of the revoked certificates: those whose dose was entered in
    /// error, and those revoked by lot or by site and day.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoked_certificate_hashes(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.uvci_sha256 AS h FROM certificates c JOIN doses d ON d.corrects_id = c.dose_id \
             UNION SELECT c.uvci_sha256 AS h FROM certificates c JOIN certificate_revocations r \
             ON r.dose_id = c.dose_id AND r.province_code = c.province_code ORDER BY h",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("h")?))
            .collect()
    }

    /// Why the certificate with this UVCI is revoked, if it is: its dose
    /// was entered in error, or it was revoked with a reason.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn certificate_revocation(&self, uvci: &str) -> Result<Option<String>, StoreError> {
        let hash = uvci_hash(uvci);
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM certificates c JOIN doses d ON d.corrects_id = c.dose_id WHERE c.uvci_sha256 = $1",
        )
        .bind(&hash)
        .fetch_one(&self.pool)
        .await?;
        if row.try_get::<i64, _>("n")? > 0 {
            return Ok(Some("its dose was entered in error".into()));
        }
        // A revocation holds for its dose: a certificate issued again for
        // the same dose is revoked too.
        let row = sqlx::query(
            "SELECT r.reason FROM certificates c JOIN certificate_revocations r \
             ON r.dose_id = c.dose_id AND r.province_code = c.province_code \
             WHERE c.uvci_sha256 = $1 ORDER BY r.revoked_at LIMIT 1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get::<String, _>("reason"))
            .transpose()
            .map_err(Into::into)
    }

    /// Whether the certificate with this UVCI is revoked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn certificate_revoked(&self, uvci: &str) -> Result<bool, StoreError> {
        Ok(self.certificate_revocation(uvci).await?.is_some())
    }

    /// Revokes, with a reason, every certificate issued for a valid dose
    /// from a lot or given at a site on a day (and any certificate issued
    /// for those doses later: the revocation holds for the dose; the
    /// replacement dose's certificate is a new one), of the persons in the
    /// actor's scope (the rest are left alone: answered as absent). One
    /// transaction and one audit entry listing them; certificates already
    /// revoked are counted, not revoked twice. A scan of the doses by lot,
    /// or by site and day: rare, kept off the dose writer's indexes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_certificates(
        &self,
        basis: &RevocationBasis,
        reason: &str,
        actor: &crate::model::Actor,
    ) -> Result<Revoked, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(StoreError::invalid("reason", "must be 1 to 500 characters"));
        }
        let (condition, a, b) = self.revocation_condition(basis).await?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT c.province_code, c.uvci, c.uvci_sha256, c.dose_id, c.person_id, p.area_path, \
             (SELECT COUNT(*) FROM certificate_revocations r WHERE r.dose_id = c.dose_id \
              AND r.province_code = c.province_code) AS already \
             FROM certificates c JOIN doses d ON d.id = c.dose_id AND d.province_code = c.province_code \
             JOIN persons p ON p.id = c.person_id AND p.province_code = c.province_code \
             WHERE {condition} AND d.kind = 'administered' ORDER BY c.uvci"
        ))
        .bind(a)
        .bind(b)
        .fetch_all(&mut *tx)
        .await?;
        let revocation = Revocation {
            basis_json: serde_json::to_string(basis).expect("a basis serialises"),
            reason,
            actor,
            now: self.now_micros(),
        };
        let mut out = Revoked::default();
        for r in &rows {
            let person: String = r.try_get("person_id")?;
            let path: String = r.try_get("area_path")?;
            if !actor.scope.covers_person(&person, &path) {
                continue;
            }
            let uvci: String = r.try_get("uvci")?;
            if r.try_get::<i64, _>("already")? > 0 {
                out.already_revoked.push(uvci);
                continue;
            }
            insert_revocation(&mut tx, r, &uvci, &revocation).await?;
            out.revoked.push(uvci);
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "revoke",
                "certificate",
                &basis.key(),
                serde_json::json!({"basis": basis, "reason": reason,
                    "revoked": out.revoked, "already_revoked": out.already_revoked.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The doses a revocation reaches, as a condition on `doses d` and its
    /// two parameters; the lot or site must exist.
    async fn revocation_condition<'b>(
        &self,
        basis: &'b RevocationBasis,
    ) -> Result<(&'static str, &'b str, &'b str), StoreError> {
        Ok(match basis {
            RevocationBasis::Lot {
                product_code,
                lot_number,
            } => {
                self.lot(product_code, lot_number)
                    .await
                    .map_err(|_| StoreError::NotFound {
                        entity: "lot",
                        field: "lot_number",
                        key: format!("{product_code}/{lot_number}"),
                    })?;
                (
                    "d.product_code = $1 AND d.lot_number = $2",
                    product_code,
                    lot_number,
                )
            }
            RevocationBasis::SiteDay { site_code, day } => {
                self.site(site_code)
                    .await
                    .map_err(|_| StoreError::NotFound {
                        entity: "site",
                        field: "site_code",
                        key: site_code.clone(),
                    })?;
                (
                    "d.site_code = $1 AND d.administered_on = $2",
                    site_code,
                    day,
                )
            }
        })
    }
}

/// Which certificates a bulk revocation reaches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RevocationBasis {
    /// Every valid dose from the lot (a recall).
    Lot {
        product_code: String,
        lot_number: String,
    },
    /// Every valid dose given at the site on the day (`YYYY-MM-DD`).
    SiteDay { site_code: String, day: String },
}

impl RevocationBasis {
    fn key(&self) -> String {
        match self {
            RevocationBasis::Lot {
                product_code,
                lot_number,
            } => format!("lot {product_code}/{lot_number}"),
            RevocationBasis::SiteDay { site_code, day } => format!("site {site_code} on {day}"),
        }
    }
}

/// What a bulk revocation did: UVCIs revoked now, and those already revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    pub revoked: Vec<String>,
    pub already_revoked: Vec<String>,
}

/// What every revocation of a bulk revocation records.
struct Revocation<'a> {
    basis_json: String,
    reason: &'a str,
    actor: &'a crate::model::Actor,
    now: i64,
}

/// Revokes the certificate of row `r` (its province, hash and dose).
async fn insert_revocation(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    r: &sqlx::any::AnyRow,
    uvci: &str,
    revocation: &Revocation<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certificate_revocations (province_code, uvci, uvci_sha256, dose_id, basis, reason, actor, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.try_get::<String, _>("province_code")?)
    .bind(uvci)
    .bind(r.try_get::<String, _>("uvci_sha256")?)
    .bind(r.try_get::<String, _>("dose_id")?)
    .bind(&revocation.basis_json)
    .bind(revocation.reason)
    .bind(&revocation.actor.name)
    .bind(revocation.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
