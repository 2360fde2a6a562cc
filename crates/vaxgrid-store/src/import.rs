//! Bulk import of persons: one transaction fed chunk by chunk, so reading
//! and checking the next chunk (on another thread) overlaps with writing
//! this one. All rows or none, unless the caller keeps the good rows. On
//! SQLite the rows go through a direct connection (`direct_sqlite`).

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use vaxgrid_core::identity::IdType;

use crate::audit::{self, AuditEntry};
use crate::db::{in_json, Backend};
use crate::direct_sqlite::BlockingTx;
use crate::error::StoreError;
use crate::persons::{
    insert_people_json, insert_person_sqlite, insert_person_sqlite_sql, people_json, PlacedPerson,
    PopulationDelta, RowError,
};
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
    sink: Sink,
    seen: HashMap<(IdType, String), usize>,
    imported: usize,
    /// What the imported persons add to the population counters.
    population: PopulationDelta,
    dropped_indexes: bool,
    /// Whether the rows bring their own ids (an exported file), which may
    /// already be taken; generated ids never are.
    given_ids: bool,
}

/// Where the rows go.
enum Sink {
    /// SQLite: each row bound natively on a connection of the import's own.
    Sqlite(BlockingTx),
    /// PostgreSQL: a chunk of rows as one JSON parameter (see `json_rows`).
    Postgres(Transaction<'static, Any>),
}

impl Store {
    /// Starts an import expected to bring about `expected_rows` persons.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_person_import(
        &self,
        expected_rows: usize,
    ) -> Result<PersonImport, StoreError> {
        let existing = self.count_persons().await?;
        let large = expected_rows >= 50_000;
        let drop = self.backend == Backend::Sqlite && large && expected_rows as i64 >= existing;
        let sink = match self.backend {
            Backend::Sqlite => {
                let mut bulk = BlockingTx::begin(&self.url).await?;
                bulk.run(move |conn| {
                    if large {
                        // A large page cache for this connection (closed at the
                        // end): random inserts into the unique index stop
                        // evicting each other.
                        conn.execute_batch("PRAGMA cache_size = -524288")?;
                    }
                    if drop {
                        for (name, _) in PERSON_SECONDARY_INDEXES {
                            conn.execute_batch(&format!("DROP INDEX {name}"))?;
                        }
                    }
                    Ok(())
                })
                .await?;
                Sink::Sqlite(bulk)
            }
            Backend::Postgres => Sink::Postgres(self.begin_write().await?),
        };
        Ok(PersonImport {
            sink,
            seen: HashMap::new(),
            imported: 0,
            population: PopulationDelta::default(),
            dropped_indexes: drop,
            given_ids: false,
        })
    }
}

impl PersonImport {
    /// Checks a chunk against the registry and the rows before it, writes
    /// the good rows (unless `write` is false, once errors make the import
    /// moot) and returns the errors of the chunk.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add(
        &mut self,
        rows: Vec<(usize, PlacedPerson)>,
        write: bool,
    ) -> Result<Vec<RowError>, StoreError> {
        let mut errors = Vec::new();
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
        // Once the import is doomed (or the chunk repeats numbers), only
        // find the rows already registered, for the report.
        let write = write && !repeated;
        let (rows, refused) = match &mut self.sink {
            Sink::Sqlite(bulk) => {
                let given_ids = self.given_ids;
                bulk.run(move |conn| {
                    let refused = if write {
                        insert_sqlite(conn, &rows, given_ids)?
                    } else {
                        registered_sqlite(conn, &rows, given_ids)?
                    };
                    Ok((rows, refused))
                })
                .await?
            }
            Sink::Postgres(tx) => {
                let refused = if write {
                    insert_postgres(tx, &rows, self.given_ids).await?
                } else {
                    registered_postgres(tx, &rows, self.given_ids).await?
                };
                (rows, refused)
            }
        };
        errors.extend(refused.iter().map(|&(i, id_taken)| {
            let (row, p) = &rows[i];
            if id_taken {
                RowError::id_taken(*row, &p.new.id)
            } else {
                RowError::registered(*row, p.new.id_type, &p.new.id_number)
            }
        }));
        if write {
            let mut refused = refused.iter().map(|&(i, _)| i).peekable();
            for (i, (_, p)) in rows.iter().enumerate() {
                if refused.next_if_eq(&i).is_some() {
                    continue;
                }
                self.imported += 1;
                self.population.add(
                    &p.province_code,
                    &p.new.home_area,
                    &p.area_path,
                    &p.new.priority_groups,
                    1,
                );
            }
        }
        Ok(errors)
    }

    /// The rows carry ids of their own (see `given_ids`).
    pub fn with_given_ids(mut self) -> PersonImport {
        self.given_ids = true;
        self
    }

    pub fn imported(&self) -> usize {
        self.imported
    }

    /// Rebuilds dropped indexes, adds the population counts and commits.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn commit(self, actor: &str) -> Result<usize, StoreError> {
        let n = self.imported;
        let entry = AuditEntry::new(
            actor,
            "import",
            "person",
            "*",
            serde_json::json!({"count": n}),
        );
        match self.sink {
            Sink::Sqlite(mut bulk) => {
                let rebuild = self.dropped_indexes;
                let population = self.population.writes(Backend::Sqlite);
                bulk.run(move |conn| {
                    if rebuild {
                        for (_, ddl) in PERSON_SECONDARY_INDEXES {
                            conn.execute_batch(ddl)?;
                        }
                    }
                    for (sql, rows) in population {
                        conn.execute(&sql, [rows])?;
                    }
                    audit::append_sqlite(conn, &[entry])?;
                    Ok(())
                })
                .await?;
                bulk.commit().await?;
            }
            Sink::Postgres(mut tx) => {
                for (sql, rows) in self.population.writes(Backend::Postgres) {
                    sqlx::query(&sql).bind(rows).execute(&mut *tx).await?;
                }
                audit::append(&mut tx, Backend::Postgres, &[entry]).await?;
                // The planner's figures for the grown registry, now rather
                // than at autovacuum's next turn: the dose writer keeps
                // generic plans for its reads of persons
                // (`Store::begin_batch`), made again once these change.
                sqlx::query("ANALYZE persons").execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        Ok(n)
    }

    /// Abandons the import; nothing of it stays (dropped indexes included).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.sink {
            Sink::Sqlite(bulk) => bulk.rollback().await,
            Sink::Postgres(tx) => Ok(tx.rollback().await?),
        }
    }
}

/// Inserts `rows`; returns those refused (index in `rows`, and whether
/// for their id rather than their ID number), in order.
fn insert_sqlite(
    conn: &rusqlite::Connection,
    rows: &[(usize, PlacedPerson)],
    given_ids: bool,
) -> Result<Vec<(usize, bool)>, StoreError> {
    let now = crate::now_micros();
    let mut insert = conn.prepare_cached(&insert_person_sqlite_sql())?;
    let mut refused = Vec::new();
    for (i, (_, p)) in rows.iter().enumerate() {
        if !insert_person_sqlite(&mut insert, p, now)? {
            refused.push((i, false));
        }
    }
    if given_ids && !refused.is_empty() {
        let mut by_id = conn.prepare_cached("SELECT 1 FROM persons WHERE id = ?1")?;
        for (i, id_taken) in &mut refused {
            *id_taken = by_id.exists([&rows[*i].1.new.id])?;
        }
    }
    Ok(refused)
}

/// The rows whose ID number is already registered, or (given ids) whose id
/// is taken; nothing is written.
fn registered_sqlite(
    conn: &rusqlite::Connection,
    rows: &[(usize, PlacedPerson)],
    given_ids: bool,
) -> Result<Vec<(usize, bool)>, StoreError> {
    let mut by_id = conn.prepare_cached("SELECT 1 FROM persons WHERE id = ?1")?;
    let mut by_number =
        conn.prepare_cached("SELECT 1 FROM persons WHERE id_number = ?1 AND id_type = ?2")?;
    let mut found = Vec::new();
    for (i, (_, p)) in rows.iter().enumerate() {
        if given_ids && by_id.exists([&p.new.id])? {
            found.push((i, true));
        } else if by_number.exists([&p.new.id_number, p.new.id_type.as_str()])? {
            found.push((i, false));
        }
    }
    Ok(found)
}

/// As [`insert_sqlite`], with the rows as one JSON parameter.
async fn insert_postgres(
    tx: &mut Transaction<'static, Any>,
    rows: &[(usize, PlacedPerson)],
    given_ids: bool,
) -> Result<Vec<(usize, bool)>, StoreError> {
    let backend = Backend::Postgres;
    let mut refused = Vec::new();
    if given_ids {
        let ids: Vec<&str> = rows.iter().map(|(_, p)| p.new.id.as_str()).collect();
        let taken = taken_person_ids(tx, backend, &ids).await?;
        refused.extend(
            rows.iter()
                .enumerate()
                .filter(|(_, (_, p))| taken.contains(&p.new.id))
                .map(|(i, _)| (i, true)),
        );
    }
    let candidates: Vec<usize> = (0..rows.len())
        .filter(|i| refused.binary_search(&(*i, true)).is_err())
        .collect();
    let json = people_json(candidates.iter().map(|&i| &rows[i].1));
    let inserted = insert_people_json(tx, backend, json).await?;
    if inserted as usize != candidates.len() {
        // Our new ids are the rows that went in; the others collided.
        let ids: Vec<&str> = candidates
            .iter()
            .map(|&i| rows[i].1.new.id.as_str())
            .collect();
        let kept = taken_person_ids(tx, backend, &ids).await?;
        refused.extend(
            candidates
                .iter()
                .filter(|&&i| !kept.contains(&rows[i].1.new.id))
                .map(|&i| (i, false)),
        );
        refused.sort_unstable();
    }
    Ok(refused)
}

/// As [`registered_sqlite`].
async fn registered_postgres(
    tx: &mut Transaction<'static, Any>,
    rows: &[(usize, PlacedPerson)],
    given_ids: bool,
) -> Result<Vec<(usize, bool)>, StoreError> {
    let taken = if given_ids {
        let ids: Vec<&str> = rows.iter().map(|(_, p)| p.new.id.as_str()).collect();
        taken_person_ids(tx, Backend::Postgres, &ids).await?
    } else {
        HashSet::new()
    };
    let numbers: Vec<&str> = rows.iter().map(|(_, p)| p.new.id_number.as_str()).collect();
    let sql = format!(
        "SELECT id_type, id_number FROM persons WHERE {}",
        in_json(Backend::Postgres, "id_number", 1)
    );
    let mut found: HashSet<(String, String)> = HashSet::new();
    for row in sqlx::query(&sql)
        .bind(serde_json::to_string(&numbers).expect("strings serialise"))
        .fetch_all(&mut **tx)
        .await?
    {
        found.insert((row.try_get("id_type")?, row.try_get("id_number")?));
    }
    Ok(rows
        .iter()
        .enumerate()
        .filter_map(|(i, (_, p))| {
            if taken.contains(&p.new.id) {
                Some((i, true))
            } else {
                found
                    .contains(&(p.new.id_type.as_str().to_string(), p.new.id_number.clone()))
                    .then_some((i, false))
            }
        })
        .collect())
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
