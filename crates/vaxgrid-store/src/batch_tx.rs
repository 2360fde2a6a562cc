//! The dose writer's transaction on either connection kind: sqlx's (both
//! backends) or, on SQLite, the writer's direct connection
//! (`direct_sqlite`), where rows are bound natively instead of travelling
//! as JSON text. Statements are written once, with `$n` parameters, which
//! both drivers number alike.

use sqlx::{Any, Transaction};

use crate::cells::{bind_all, FromCells, Param};
use crate::direct_sqlite::WriteTx;
use crate::error::StoreError;

pub(crate) enum BatchTx<'c> {
    Sqlx(Transaction<'static, Any>),
    Sqlite(WriteTx<'c>),
}

impl BatchTx<'_> {
    /// The rows of `sql` with text parameters `binds`, as `T`.
    pub(crate) async fn rows<T: FromCells>(
        &mut self,
        sql: &str,
        binds: &[String],
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(sql, binds, true).await
    }

    /// [`BatchTx::rows`] as an unprepared statement on sqlx's connection:
    /// planned for its parameters at each execution, whatever the
    /// transaction's `plan_cache_mode` (see `Store::begin_batch`).
    pub(crate) async fn rows_planned_each_time<T: FromCells>(
        &mut self,
        sql: &str,
        binds: &[String],
    ) -> Result<Vec<T>, StoreError> {
        self.fetch(sql, binds, false).await
    }

    /// The rows of `sql`, prepared and kept on sqlx's connection when
    /// `persistent` (the direct SQLite connection keeps its own cache).
    async fn fetch<T: FromCells>(
        &mut self,
        sql: &str,
        binds: &[String],
        persistent: bool,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            BatchTx::Sqlx(tx) => bind_all(sqlx::query(sql), binds.iter().map(Param::from))
                .persistent(persistent)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(T::from_cells)
                .collect(),
            BatchTx::Sqlite(tx) => {
                let mut stmt = tx.conn().prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(binds))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(T::from_cells(row)?);
                }
                Ok(out)
            }
        }
    }

    /// Runs `sql` with text parameters `binds`.
    pub(crate) async fn execute(&mut self, sql: &str, binds: &[String]) -> Result<(), StoreError> {
        match self {
            BatchTx::Sqlx(tx) => {
                bind_all(sqlx::query(sql), binds.iter().map(Param::from))
                    .execute(&mut **tx)
                    .await?;
            }
            BatchTx::Sqlite(tx) => {
                tx.conn()
                    .prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(binds))?;
            }
        }
        Ok(())
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            BatchTx::Sqlx(tx) => tx.commit().await?,
            BatchTx::Sqlite(tx) => tx.commit()?,
        }
        Ok(())
    }
}
