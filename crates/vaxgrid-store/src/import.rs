//! Bulk import of persons: one transaction fed chunk by chunk, so reading
//! and checking the next chunk (on another thread) overlaps with writing
//! this one. All rows or none, unless the caller keeps the good rows.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use vaxgrid_core::identity::IdType;

use crate::audit::{self, AuditEntry};
use crate::db::{in_json, Backend};
use crate::error::StoreError;
use crate::persons::{bump_population, insert_people_json, PlacedPerson, RowError};
use crate::Store;

/// Secondary indexes of `persons` that a large SQLite import drops and
/// rebuilds: building an index by sorting is several times faster than a
/// million random B-tree inserts. The text is that of migration 0001; the
/// store suite checks that the rebuilt schema is identical.
const PERSON_SECONDARY_INDEXES: [(&str, &str); 3] = [
    (
        "persons_phone",
        "CREATE INDEX persons_phone ON persons(phone)",
    ),
    (
        "persons_duplicate_key",
        "CREATE INDEX persons_duplicate_key ON persons(folded_name, birth_date, commune_code)",
    ),
    (
        "persons_area_path",
        "CREATE INDEX persons_area_path ON persons(area_path, id)",
    ),
];

/// An import in progress.
pub struct PersonImport {
    tx: Transaction<'static, Any>,
    backend: Backend,
    seen: HashMap<(IdType, String), usize>,
    imported: Vec<(String, String, String, Vec<String>)>,
    dropped_indexes: bool,
    /// Whether the rows bring their own ids (an exported file), which may
    /// already be taken; generated ids never are.
    given_ids: bool,
}

impl Store {
    /// Starts an import expected to bring about `expected_rows` persons.
    pub async fn begin_person_import(
        &self,
        expected_rows: usize,
    ) -> Result<PersonImport, StoreError> {
        let existing = self.count_persons().await?;
        let mut tx = self.begin_write().await?;
        let drop = self.backend == Backend::Sqlite
            && expected_rows >= 50_000
            && expected_rows as i64 >= existing;
        if self.backend == Backend::Sqlite && expected_rows >= 50_000 {
            // A large page cache for this connection while it imports: random
            // inserts into the unique index stop evicting each other. Set
            // back when the import ends (commit or rollback).
            sqlx::query("PRAGMA cache_size = -524288")
                .execute(&mut *tx)
                .await?;
        }
        if drop {
            for (name, _) in PERSON_SECONDARY_INDEXES {
                sqlx::query(&format!("DROP INDEX {name}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(PersonImport {
            tx,
            backend: self.backend,
            seen: HashMap::new(),
            imported: Vec::new(),
            dropped_indexes: drop,
            given_ids: false,
        })
    }
}

impl PersonImport {
    /// Checks a chunk against the registry and the rows before it, writes
    /// the good rows (unless `write` is false, once errors make the import
    /// moot) and returns the errors of the chunk. `json` is
    /// `people_json` of the rows, built by the caller's reading thread.
    pub async fn add(
        &mut self,
        mut rows: Vec<(usize, PlacedPerson)>,
        mut json: String,
        write: bool,
    ) -> Result<Vec<RowError>, StoreError> {
        let mut errors = Vec::new();
        if self.given_ids {
            let ids: Vec<&str> = rows.iter().map(|(_, p)| p.new.id.as_str()).collect();
            let taken = taken_person_ids(&mut self.tx, self.backend, &ids).await?;
            if !taken.is_empty() {
                errors.extend(
                    rows.iter()
                        .filter(|(_, p)| taken.contains(&p.new.id))
                        .map(|(row, p)| RowError::id_taken(*row, &p.new.id)),
                );
                rows.retain(|(_, p)| !taken.contains(&p.new.id));
                let people: Vec<PlacedPerson> = rows.iter().map(|(_, p)| p.clone()).collect();
                json = crate::persons::people_json(&people);
            }
        }
        let mut repeated = false;
        for (row, p) in &rows {
            let key = (p.new.id_type, p.new.id_number.clone());
            if let Some(first) = self.seen.get(&key) {
                repeated = true;
                errors.push(RowError::repeated(*row, key.0, &key.1, *first));
            } else {
                self.seen.insert(key, *row);
            }
        }
        if !write || repeated {
            // The import is doomed already (or the chunk repeats numbers):
            // only find the rows already registered, for the report.
            errors.extend(self.registered(&rows).await?);
            return Ok(errors);
        }
        // The unique key finds numbers already registered while inserting;
        // only when rows were skipped do we look up which.
        let inserted = insert_people_json(&mut self.tx, self.backend, json).await?;
        let kept: Option<HashSet<String>> = if inserted as usize == rows.len() {
            None
        } else {
            // Our new ids are the rows that went in; the others collided.
            let ids: Vec<&str> = rows.iter().map(|(_, p)| p.new.id.as_str()).collect();
            let sql = format!(
                "SELECT id FROM persons WHERE {}",
                in_json(self.backend, "id", 1)
            );
            let found = sqlx::query(&sql)
                .bind(serde_json::to_string(&ids).expect("strings serialise"))
                .fetch_all(&mut *self.tx)
                .await?;
            Some(
                found
                    .iter()
                    .map(|r| r.try_get::<String, _>("id"))
                    .collect::<Result<_, _>>()?,
            )
        };
        for (row, p) in rows {
            if kept.as_ref().is_none_or(|k| k.contains(&p.new.id)) {
                self.imported.push((
                    p.province_code,
                    p.new.home_area,
                    p.area_path,
                    p.new.priority_groups,
                ));
            } else {
                errors.push(RowError::registered(row, p.new.id_type, &p.new.id_number));
            }
        }
        Ok(errors)
    }

    /// Rows whose ID number is already registered.
    async fn registered(
        &mut self,
        rows: &[(usize, PlacedPerson)],
    ) -> Result<Vec<RowError>, StoreError> {
        let numbers: Vec<&str> = rows.iter().map(|(_, p)| p.new.id_number.as_str()).collect();
        let sql = format!(
            "SELECT id_type, id_number FROM persons WHERE {}",
            in_json(self.backend, "id_number", 1)
        );
        let mut found: HashSet<(String, String)> = HashSet::new();
        for row in sqlx::query(&sql)
            .bind(serde_json::to_string(&numbers).expect("strings serialise"))
            .fetch_all(&mut *self.tx)
            .await?
        {
            found.insert((row.try_get("id_type")?, row.try_get("id_number")?));
        }
        Ok(rows
            .iter()
            .filter(|(_, p)| {
                found.contains(&(p.new.id_type.as_str().to_string(), p.new.id_number.clone()))
            })
            .map(|(row, p)| RowError::registered(*row, p.new.id_type, &p.new.id_number))
            .collect())
    }

    /// The rows carry ids of their own (see `given_ids`).
    pub fn with_given_ids(mut self) -> PersonImport {
        self.given_ids = true;
        self
    }

    pub fn imported(&self) -> usize {
        self.imported.len()
    }

    /// Rebuilds dropped indexes, adds the population counts and commits.
    pub async fn commit(mut self, actor: &str) -> Result<usize, StoreError> {
        if self.dropped_indexes {
            for (_, ddl) in PERSON_SECONDARY_INDEXES {
                sqlx::query(ddl).execute(&mut *self.tx).await?;
            }
        }

        bump_population(
            &mut self.tx,
            self.backend,
            self.imported
                .iter()
                .map(|(p, a, path, g)| (p.as_str(), a.as_str(), path.as_str(), g.as_slice())),
            1,
        )
        .await?;
        let n = self.imported.len();
        audit::append(
            &mut self.tx,
            self.backend,
            &[AuditEntry::new(
                actor,
                "import",
                "person",
                "*",
                serde_json::json!({"count": n}),
            )],
        )
        .await?;
        let restore = self.backend == Backend::Sqlite;
        let mut tx = self.tx;
        if restore {
            // PRAGMA cache_size is not transactional; set it back on this connection.
            sqlx::query("PRAGMA cache_size = -65536")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Abandons the import; nothing of it stays (dropped indexes included).
    pub async fn rollback(self) -> Result<(), StoreError> {
        let mut tx = self.tx;
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA cache_size = -65536")
                .execute(&mut *tx)
                .await?;
        }
        tx.rollback().await?;
        Ok(())
    }
}

/// Which of `ids` already name a person.
pub(crate) async fn taken_person_ids(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    ids: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let sql = format!("SELECT id FROM persons WHERE {}", in_json(backend, "id", 1));
    let mut taken = HashSet::new();
    for chunk in ids.chunks(5000) {
        for row in sqlx::query(&sql)
            .bind(serde_json::to_string(chunk).expect("strings serialise"))
            .fetch_all(&mut *conn)
            .await?
        {
            taken.insert(row.try_get::<String, _>("id")?);
        }
    }
    Ok(taken)
}
