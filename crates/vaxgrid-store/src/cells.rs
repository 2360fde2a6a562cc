//! Column values on either connection kind: sqlx's or the direct SQLite
//! one (`direct_sqlite`). Reading: row mappers written against [`Cells`]
//! serve `AnyRow` and `rusqlite::Row` alike. Writing: a row's values listed
//! once as [`Param`]s bind to either driver or serialise as a JSON row (the
//! `json_rows` form), so a table's column list is not repeated per driver.

use std::borrow::Cow;

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

/// One value to bind.
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Param<'a> {
        Param::Text(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(s: &'a String) -> Param<'a> {
        Param::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Param<'_> {
    fn from(s: String) -> Self {
        Param::Text(Cow::Owned(s))
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(s: &'a Option<String>) -> Param<'a> {
        s.as_deref().map_or(Param::Null, Param::from)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl serde::Serialize for Param<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Text(t) => s.serialize_str(t),
            Param::Int(n) => s.serialize_i64(*n),
            Param::Null => s.serialize_none(),
        }
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Param::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Param::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// Rows of params (`[Param; N]` each) as the JSON parameter of
/// `db::json_rows`.
pub(crate) fn rows_json<R: serde::Serialize>(rows: &[R]) -> String {
    serde_json::to_string(rows).expect("text and numbers serialise")
}

/// One declaration of a table's row as the store writes it: each column's
/// name, its bound type (`Text` or `Int`, see `db::Col`) and the value a
/// record gives it, in the table's order. From it come the column list
/// (`COLUMNS`), their number (`N`), their types for rows sent as one JSON
/// parameter (`TYPES`) and a record's values (`values`), which were four
/// lists kept in step by hand; `values` may take arguments besides the
/// record (a row's instant). Rows are read back by column name
/// ([`FromCells`]), so the order matters only here.
macro_rules! row_layout {
    ($vis:vis $layout:ident for $rec:ty, |$r:ident $(, $arg:ident: $arg_type:ty)*| {
        $first:ident: $first_type:ident = $first_value:expr
        $(, $column:ident: $type:ident = $value:expr)* $(,)?
    }) => {
        $vis struct $layout;

        impl $layout {
            pub(crate) const COLUMNS: &'static str =
                concat!(stringify!($first) $(, ", ", stringify!($column))*);
            pub(crate) const N: usize = 1 $(+ { let _ = stringify!($column); 1 })*;
            pub(crate) const TYPES: [crate::db::Col; Self::N] =
                [crate::db::Col::$first_type $(, crate::db::Col::$type)*];

            /// The record's values, in [`Self::COLUMNS`]' order.
            pub(crate) fn values<'r>(
                $r: &'r $rec
                $(, $arg: $arg_type)*
            ) -> [crate::cells::Param<'r>; Self::N] {
                [($first_value).into() $(, ($value).into())*]
            }
        }
    };
}
pub(crate) use row_layout;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `params` in order to an sqlx query.
pub(crate) fn bind_all<'q>(
    mut q: AnyQuery<'q>,
    params: impl IntoIterator<Item = Param<'q>>,
) -> AnyQuery<'q> {
    for p in params {
        q = match p {
            Param::Text(Cow::Borrowed(t)) => q.bind(t),
            Param::Text(Cow::Owned(t)) => q.bind(t),
            Param::Int(n) => q.bind(n),
            Param::Null => q.bind(None::<String>),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(owned: &Option<String>) -> [Param<'_>; 4] {
        ["a".into(), 7.into(), owned.into(), String::from("é").into()]
    }

    #[test]
    fn a_row_of_params_is_a_json_array_in_column_order() {
        let json = serde_json::to_string(&row(&None)).unwrap();
        assert_eq!(json, r#"["a",7,null,"é"]"#);
        let json = serde_json::to_string(&row(&Some("x".into()))).unwrap();
        assert_eq!(json, r#"["a",7,"x","é"]"#);
    }

    #[test]
    fn a_row_of_params_binds_to_sqlite_and_reads_back_through_cells() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a TEXT, b BIGINT, c TEXT, d TEXT)")
            .unwrap();
        conn.execute(
            "INSERT INTO t VALUES ($1, $2, $3, $4)",
            rusqlite::params_from_iter(row(&None)),
        )
        .unwrap();
        let read = conn
            .query_row("SELECT a, b, c, d FROM t", [], |r| {
                Ok((
                    r.cell::<String>("a").unwrap(),
                    r.cell::<i64>("b").unwrap(),
                    r.cell::<Option<String>>("c").unwrap(),
                    r.cell::<String>("d").unwrap(),
                ))
            })
            .unwrap();
        assert_eq!(read, ("a".into(), 7, None, "é".into()));
    }
}
