//! A province's isolation rule (migration 0062): days at a facility and at
//! home and the days tests are due, per class and vaccination status
//! (`core::outbreak::isolation::Policy`). A province that set none uses the
//! default; an isolation is planned by its person's province's rule when
//! it starts, and keeps that plan when the rule changes later.

use sqlx::Row;
use vaxgrid_core::outbreak::isolation::Policy;

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::Store;

/// A province's rule, and whether it was set (else the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvincePolicy {
    pub province_code: String,
    pub stored: bool,
    pub policy: Policy,
    pub updated_by: Option<String>,
}

impl Store {
    /// The isolation rule of a province (the default when none was set).
    pub async fn isolation_policy(&self, province: &str) -> Result<ProvincePolicy, StoreError> {
        let row = sqlx::query(
            "SELECT policy, updated_by FROM isolation_policies WHERE province_code = $1",
        )
        .bind(province)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(ProvincePolicy {
                province_code: province.to_string(),
                stored: false,
                policy: Policy::default(),
                updated_by: None,
            });
        };
        let text: String = row.try_get("policy")?;
        let policy = serde_json::from_str(&text)
            .map_err(|e| StoreError::invalid("policy", format!("stored policy unreadable: {e}")))?;
        Ok(ProvincePolicy {
            province_code: province.to_string(),
            stored: true,
            policy,
            updated_by: row.try_get("updated_by")?,
        })
    }

    /// Sets a province's isolation rule (checked field by field first);
    /// the audit entry keeps the rule set.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_isolation_policy(
        &self,
        province: &str,
        policy: &Policy,
        actor: &Actor,
    ) -> Result<ProvincePolicy, StoreError> {
        policy
            .check()
            .map_err(|e| StoreError::invalid(e.field, e.reason))?;
        let text = serde_json::to_string(policy).expect("a policy serialises");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO isolation_policies (province_code, policy, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (province_code) DO UPDATE SET policy = excluded.policy, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(province)
        .bind(&text)
        .bind(&actor.name)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set",
                "isolation_policy",
                province,
                serde_json::to_value(policy).expect("a policy serialises"),
            )],
        )
        .await?;
        tx.commit().await?;
        self.isolation_policy(province).await
    }
}
