//! The unmapped elements of FHIR resources, kept for the round trip.

use sqlx::Row;

use crate::error::StoreError;
use crate::Store;

impl Store {
    /// Keeps what a FHIR `resource_type/id` carried beyond vaxgrid's
    /// fields (a JSON object); replaces what was kept before.
    pub async fn save_fhir_extra(
        &self,
        resource_type: &str,
        id: &str,
        extra: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let empty = extra.as_object().is_none_or(|o| o.is_empty());
        let mut tx = self.begin_write().await?;
        if empty {
            sqlx::query("DELETE FROM fhir_extras WHERE resource_type = $1 AND id = $2")
                .bind(resource_type)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO fhir_extras (resource_type, id, extra) VALUES ($1, $2, $3) \
                 ON CONFLICT (resource_type, id) DO UPDATE SET extra = excluded.extra",
            )
            .bind(resource_type)
            .bind(id)
            .bind(extra.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What was kept for `resource_type/id`, or an empty object.
    pub async fn fhir_extra(
        &self,
        resource_type: &str,
        id: &str,
    ) -> Result<serde_json::Value, StoreError> {
        let row = sqlx::query("SELECT extra FROM fhir_extras WHERE resource_type = $1 AND id = $2")
            .bind(resource_type)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => serde_json::from_str(&r.try_get::<String, _>("extra")?)
                .unwrap_or_else(|_| serde_json::json!({})),
            None => serde_json::json!({}),
        })
    }
}
