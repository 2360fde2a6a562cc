//! The dose writer's transaction on either connection kind: sqlx's (both
//! backends) or, on SQLite, the writer's direct connection
//! (`direct_sqlite`), where rows are bound natively instead of travelling
//! as JSON text. Statements are written once, with `$n` parameters, which
//! both drivers number alike.

use sqlx::{Any, Transaction};

use crate::cells::FromCells;
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
        match self {
            BatchTx::Sqlx(tx) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(b);
                }
                q.fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(T::from_cells)
                    .collect()
            }
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
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(b);
                }
                q.execute(&mut **tx).await?;
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

/// A JSON scalar as an SQLite value (the counters' rows are built as JSON
/// arrays for PostgreSQL's `jsonb_array_elements`).
pub(crate) fn sqlite_value(v: &serde_json::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .unwrap_or_else(|| Value::Real(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}
