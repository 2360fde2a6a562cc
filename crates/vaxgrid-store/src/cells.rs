//! Reading a column of a result row by name, whichever connection produced
//! the row: sqlx's (`AnyRow`) or the direct SQLite connection's
//! (`rusqlite::Row`, see `direct_sqlite`). Row mappers written against
//! [`Cells`] serve both.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::StoreError;

/// A value both drivers can decode from a column.
pub(crate) trait Cell:
    for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

impl<T> Cell for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

pub(crate) trait Cells {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, StoreError>;
}

impl Cells for AnyRow {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, StoreError> {
        Ok(self.try_get(column)?)
    }
}

impl Cells for rusqlite::Row<'_> {
    fn cell<T: Cell>(&self, column: &str) -> Result<T, StoreError> {
        Ok(self.get(column)?)
    }
}

/// A record read from a row of either driver.
pub(crate) trait FromCells: Sized {
    fn from_cells<R: Cells>(row: &R) -> Result<Self, StoreError>;
}
