//! The one way lists are paged: seek (keyset) pagination on a unique sort
//! key, with an opaque cursor naming the last row of a page. A page holds
//! at most [`MAX_LIMIT`] rows; the answer carries `next_cursor` (absent on
//! the last page), which is passed back as `after`.
//!
//! Seek pagination reads the same number of rows for the thousandth page
//! as for the first, and a row added meanwhile never shifts the pages the
//! way an offset would.

use crate::error::StoreError;
use crate::scope::Scope;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// The cursor of a row whose sort key is `parts` (opaque to clients: the
/// parts joined by a unit separator, in hex).
pub fn cursor(parts: &[&str]) -> String {
    hex::encode(parts.join("\u{1f}"))
}

/// The sort key a cursor names; `parts` is how many the list sorts by.
pub fn decode_cursor(cursor: &str, parts: usize) -> Result<Vec<String>, StoreError> {
    let bad = || {
        StoreError::invalid(
            "after",
            "not a cursor of this list (pass next_cursor as is)",
        )
    };
    let bytes = hex::decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let key: Vec<String> = text.split('\u{1f}').map(str::to_string).collect();
    if key.len() != parts {
        return Err(bad());
    }
    Ok(key)
}

/// A page to read: after which row (the cursor as given), how many.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: usize,
}

impl PageRequest {
    /// Checks `limit` (1..=MAX_LIMIT, default DEFAULT_LIMIT).
    pub fn new(after: Option<String>, limit: Option<u32>) -> Result<PageRequest, StoreError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as u32).contains(&n) => n as usize,
            Some(n) => {
                return Err(StoreError::invalid(
                    "limit",
                    format!("limit must be between 1 and {MAX_LIMIT}, not {n}"),
                ))
            }
        };
        Ok(PageRequest { after, limit })
    }

    /// A first page of `limit` rows (for callers that page through all).
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

/// A `WHERE` clause built condition by condition, every value bound.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub binds: Vec<String>,
}

impl Filter {
    fn next(&self) -> usize {
        self.binds.len() + 1
    }

    /// `column op value`, e.g. `("s.day", ">=", "2026-12-01")`.
    pub fn cmp(&mut self, column: &str, op: &str, value: impl Into<String>) -> &mut Self {
        self.clauses.push(format!("{column} {op} ${}", self.next()));
        self.binds.push(value.into());
        self
    }

    pub fn eq_opt(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.cmp(column, "=", v);
        }
        self
    }

    /// Rows within the subtree of the area path `path`.
    pub fn subtree(&mut self, path_column: &str, path: &str) -> &mut Self {
        self.cmp(path_column, ">=", path);
        self.cmp(
            path_column,
            "<",
            vaxgrid_core::area::subtree_upper_bound(path),
        )
    }

    /// Rows the scope covers (see [`Scope::sql`]).
    pub fn scope(&mut self, scope: &Scope, path_column: &str, id_column: &str) -> &mut Self {
        if let Some((sql, binds)) = scope.sql(path_column, id_column, self.next()) {
            self.clauses.push(sql);
            self.binds.extend(binds);
        }
        self
    }

    /// Rows after the cursor, for a list sorted ascending by `columns`.
    pub fn after(
        &mut self,
        columns: &[&str],
        cursor: Option<&str>,
    ) -> Result<&mut Self, StoreError> {
        let Some(cursor) = cursor else {
            return Ok(self);
        };
        let key = decode_cursor(cursor, columns.len())?;
        // (a > $1) OR (a = $2 AND b > $3) OR …
        let mut alternatives = Vec::new();
        for i in 0..columns.len() {
            let mut parts = Vec::new();
            for (j, column) in columns.iter().enumerate().take(i) {
                parts.push(format!("{column} = ${}", self.next()));
                self.binds.push(key[j].clone());
            }
            parts.push(format!("{} > ${}", columns[i], self.next()));
            self.binds.push(key[i].clone());
            alternatives.push(format!("({})", parts.join(" AND ")));
        }
        self.clauses
            .push(format!("({})", alternatives.join(" OR ")));
        Ok(self)
    }

    pub fn raw(&mut self, clause: &str) -> &mut Self {
        self.clauses.push(clause.to_string());
        self
    }

    /// `WHERE …` (or nothing).
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub fn query<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for b in &self.binds {
            q = q.bind(b.as_str());
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let c = cursor(&["2026-12-01", "a b"]);
        assert_eq!(decode_cursor(&c, 2).unwrap(), vec!["2026-12-01", "a b"]);
        assert!(decode_cursor(&c, 1).is_err());
        assert!(decode_cursor("zz", 1).is_err());
        assert!(decode_cursor(&hex::encode([0xff, 0xfe]), 1).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageRequest::new(None, Some(500)).unwrap().limit, 500);
        assert!(PageRequest::new(None, Some(0)).is_err());
        assert!(PageRequest::new(None, Some(501)).is_err());
    }

    #[test]
    fn seek_condition_numbers_its_parameters() {
        let mut f = Filter::default();
        f.cmp("x", "=", "1");
        f.after(&["a", "b"], Some(&cursor(&["p", "q"]))).unwrap();
        assert_eq!(
            f.sql(),
            "WHERE x = $1 AND ((a > $2) OR (a = $3 AND b > $4))"
        );
        assert_eq!(f.binds, vec!["1", "p", "p", "q"]);
    }
}
