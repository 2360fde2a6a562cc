//! The staff roster: `POST /api/v1/users/import` and `vaxgrid import
//! staff`. Columns `username,display_name,roles,site,area` (`site` and
//! `area` may be left out), roles separated by `;`; a bare role holds at
//! the row's site or area (`vaxgrid_core::staff::roster_grants`).

use serde::Deserialize;
use vaxgrid_core::access::Grant;

use super::{error_field, error_message, RowError, Table};

/// The columns of a roster.
pub const ROSTER_HEADER: [&str; 5] = ["username", "display_name", "roles", "site", "area"];

/// A row's cells as they are in the file.
#[derive(Deserialize)]
struct RosterCells {
    username: String,
    display_name: String,
    roles: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    area: String,
}

/// One member of the staff: the account to open and the roles it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
}

/// Reads a roster: every row, its grants read from its roles, site and
/// area, or its error.
pub fn read_roster(bytes: &[u8]) -> Table<RosterRow> {
    let mut table = Table {
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut reader = super::reader(bytes);
    // A header that does not read fails its first row too, named `row`.
    let header = reader.headers().cloned().unwrap_or_default();
    for (i, record) in reader.deserialize::<RosterCells>().enumerate() {
        let row = i + 1;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                table.errors.push(RowError {
                    row,
                    field: error_field(&e, &header),
                    message: error_message(&e),
                });
                continue;
            }
        };
        match vaxgrid_core::staff::roster_grants(&r.roles, &r.site, &r.area) {
            Ok(grants) => table.rows.push((
                row,
                RosterRow {
                    username: r.username,
                    display_name: r.display_name,
                    grants,
                },
            )),
            Err((field, message)) => table.errors.push(RowError {
                row,
                field: field.to_string(),
                message,
            }),
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_roster_reads_each_row_or_names_its_column() {
        let text = format!(
            "{}\nlan,Nguyễn Thị Lan,vaccinator,S1,\nbinh,Trần Bình,,S1,\nan\n",
            ROSTER_HEADER.join(",")
        );
        let table = read_roster(text.as_bytes());
        assert_eq!(table.rows.len(), 1);
        let (row, lan) = &table.rows[0];
        assert_eq!(*row, 1);
        assert_eq!(lan.username, "lan");
        assert_eq!(lan.grants.len(), 1);
        assert_eq!(lan.grants[0].scope, "S1");
        let errors: Vec<(usize, &str)> = table
            .errors
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect();
        assert_eq!(errors, [(2, "roles"), (3, "row")]);
        assert_eq!(
            table.errors[1].message,
            "the row has 1 columns; the header has 5"
        );
    }

    #[test]
    fn a_cell_that_does_not_read_is_named_by_its_header() {
        let mut text = format!("{}\nlan,Lan", ROSTER_HEADER.join(",")).into_bytes();
        text.push(0xff);
        text.extend(b",vaccinator,S1,\n");
        let table = read_roster(&text);
        let errors: Vec<(usize, &str, &str)> = table
            .errors
            .iter()
            .map(|e| (e.row, e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(errors, [(1, "display_name", "the cell is not valid UTF-8")]);
    }

    #[test]
    fn site_and_area_may_be_left_out() {
        let table = read_roster(b"username,display_name,roles\nroot,Root,admin\n");
        assert!(table.errors.is_empty(), "{:?}", table.errors);
        assert_eq!(table.rows[0].1.grants[0].scope, "");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_rows_or_row_errors(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let table = read_roster(&bytes);
            for e in &table.errors {
                prop_assert!(e.row > 0 && !e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
            }
        }
    }
}
