//! Readiness: whether the database takes a durable write now.

use crate::error::StoreError;
use crate::Store;

impl Store {
    /// Rewrites and commits the one `heartbeat` row: fails when the
    /// database cannot be written (read-only, disk full, locked beyond the
    /// busy timeout, unreachable) as any other write would.
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO heartbeat (id, beat_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at",
        )
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
