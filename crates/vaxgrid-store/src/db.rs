//! Connecting, choosing the backend from the URL scheme, and migrations.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::StoreError;

/// The two supported backends. Both are driven through sqlx's `Any` driver
/// with one portable SQL text (`$n` parameters, `ON CONFLICT`, `RETURNING`);
/// where the dialects differ the two variants stand side by side in a `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Migrations in order. Never edit a released one: add the next number.
/// Where both backends take the same text it lives once, in `common/`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "certificates",
        sqlite: include_str!("../migrations/sqlite/0002_certificates.sql"),
        postgres: include_str!("../migrations/postgres/0002_certificates.sql"),
    },
    Migration {
        version: 3,
        name: "fhir_extras",
        sqlite: include_str!("../migrations/common/0003_fhir_extras.sql"),
        postgres: include_str!("../migrations/common/0003_fhir_extras.sql"),
    },
    Migration {
        version: 4,
        name: "accounts",
        sqlite: include_str!("../migrations/common/0004_accounts.sql"),
        postgres: include_str!("../migrations/common/0004_accounts.sql"),
    },
    Migration {
        version: 5,
        name: "scheduling",
        sqlite: include_str!("../migrations/common/0005_scheduling.sql"),
        postgres: include_str!("../migrations/common/0005_scheduling.sql"),
    },
    Migration {
        version: 6,
        name: "training",
        sqlite: include_str!("../migrations/common/0006_training.sql"),
        postgres: include_str!("../migrations/common/0006_training.sql"),
    },
    Migration {
        version: 7,
        name: "campaigns",
        sqlite: include_str!("../migrations/common/0007_campaigns.sql"),
        postgres: include_str!("../migrations/common/0007_campaigns.sql"),
    },
    Migration {
        version: 8,
        name: "visits",
        sqlite: include_str!("../migrations/common/0008_visits.sql"),
        postgres: include_str!("../migrations/common/0008_visits.sql"),
    },
    Migration {
        version: 9,
        name: "reminders",
        sqlite: include_str!("../migrations/sqlite/0009_reminders.sql"),
        postgres: include_str!("../migrations/postgres/0009_reminders.sql"),
    },
    Migration {
        version: 10,
        name: "heartbeat",
        sqlite: include_str!("../migrations/common/0010_heartbeat.sql"),
        postgres: include_str!("../migrations/common/0010_heartbeat.sql"),
    },
    Migration {
        version: 11,
        name: "dose_counters",
        sqlite: include_str!("../migrations/sqlite/0011_dose_counters.sql"),
        postgres: include_str!("../migrations/postgres/0011_dose_counters.sql"),
    },
    Migration {
        version: 12,
        name: "daily_counters_by_province",
        sqlite: include_str!("../migrations/common/0012_daily_counters_by_province.sql"),
        postgres: include_str!("../migrations/common/0012_daily_counters_by_province.sql"),
    },
    Migration {
        version: 15,
        name: "login_throttle",
        sqlite: include_str!("../migrations/common/0015_login_throttle.sql"),
        postgres: include_str!("../migrations/common/0015_login_throttle.sql"),
    },
    Migration {
        version: 16,
        name: "duplicate_candidates",
        sqlite: include_str!("../migrations/common/0016_duplicate_candidates.sql"),
        postgres: include_str!("../migrations/common/0016_duplicate_candidates.sql"),
    },
    Migration {
        version: 20,
        name: "portal",
        sqlite: include_str!("../migrations/common/0020_portal.sql"),
        postgres: include_str!("../migrations/common/0020_portal.sql"),
    },
    Migration {
        version: 21,
        name: "slot_holds",
        sqlite: include_str!("../migrations/sqlite/0021_slot_holds.sql"),
        postgres: include_str!("../migrations/postgres/0021_slot_holds.sql"),
    },
    Migration {
        version: 30,
        name: "registry",
        sqlite: include_str!("../migrations/common/0030_registry.sql"),
        postgres: include_str!("../migrations/common/0030_registry.sql"),
    },
    Migration {
        version: 31,
        name: "audit_search",
        sqlite: include_str!("../migrations/common/0031_audit_search.sql"),
        postgres: include_str!("../migrations/common/0031_audit_search.sql"),
    },
    Migration {
        version: 32,
        name: "person_identifiers",
        sqlite: include_str!("../migrations/common/0032_person_identifiers.sql"),
        postgres: include_str!("../migrations/common/0032_person_identifiers.sql"),
    },
    Migration {
        version: 33,
        name: "other_vaccinations",
        sqlite: include_str!("../migrations/common/0033_other_vaccinations.sql"),
        postgres: include_str!("../migrations/common/0033_other_vaccinations.sql"),
    },
    Migration {
        version: 40,
        name: "staff",
        sqlite: include_str!("../migrations/common/0040_staff.sql"),
        postgres: include_str!("../migrations/common/0040_staff.sql"),
    },
    Migration {
        version: 41,
        name: "supply",
        sqlite: include_str!("../migrations/common/0041_supply.sql"),
        postgres: include_str!("../migrations/common/0041_supply.sql"),
    },
    Migration {
        version: 42,
        name: "lot_holds",
        sqlite: include_str!("../migrations/common/0042_lot_holds.sql"),
        postgres: include_str!("../migrations/common/0042_lot_holds.sql"),
    },
    Migration {
        version: 43,
        name: "temperatures",
        sqlite: include_str!("../migrations/common/0043_temperatures.sql"),
        postgres: include_str!("../migrations/common/0043_temperatures.sql"),
    },
    Migration {
        version: 44,
        name: "certificate_revocations",
        sqlite: include_str!("../migrations/common/0044_certificate_revocations.sql"),
        postgres: include_str!("../migrations/common/0044_certificate_revocations.sql"),
    },
    Migration {
        version: 50,
        name: "stock_daily",
        sqlite: include_str!("../migrations/sqlite/0050_stock_daily.sql"),
        postgres: include_str!("../migrations/postgres/0050_stock_daily.sql"),
    },
    Migration {
        version: 55,
        name: "allocation_vials_items",
        sqlite: include_str!("../migrations/common/0055_allocation_vials_items.sql"),
        postgres: include_str!("../migrations/common/0055_allocation_vials_items.sql"),
    },
    Migration {
        version: 60,
        name: "outbreak",
        sqlite: include_str!("../migrations/common/0060_outbreak.sql"),
        postgres: include_str!("../migrations/common/0060_outbreak.sql"),
    },
    Migration {
        version: 61,
        name: "outbreak_facilities",
        sqlite: include_str!("../migrations/common/0061_outbreak_facilities.sql"),
        postgres: include_str!("../migrations/common/0061_outbreak_facilities.sql"),
    },
    Migration {
        version: 62,
        name: "isolation_policies",
        sqlite: include_str!("../migrations/common/0062_isolation_policies.sql"),
        postgres: include_str!("../migrations/common/0062_isolation_policies.sql"),
    },
    Migration {
        version: 63,
        name: "lab_confirmatory",
        sqlite: include_str!("../migrations/common/0063_lab_confirmatory.sql"),
        postgres: include_str!("../migrations/common/0063_lab_confirmatory.sql"),
    },
    Migration {
        version: 64,
        name: "stock_movements_unchecked",
        sqlite: include_str!("../migrations/sqlite/0064_stock_movements_unchecked.sql"),
        postgres: include_str!("../migrations/postgres/0064_stock_movements_unchecked.sql"),
    },
    Migration {
        version: 66,
        name: "isolation_check_state",
        sqlite: include_str!("../migrations/common/0066_isolation_check_state.sql"),
        postgres: include_str!("../migrations/common/0066_isolation_check_state.sql"),
    },
    Migration {
        version: 68,
        name: "site_catchments",
        sqlite: include_str!("../migrations/common/0068_site_catchments.sql"),
        postgres: include_str!("../migrations/common/0068_site_catchments.sql"),
    },
    Migration {
        version: 70,
        name: "aefi_events",
        sqlite: include_str!("../migrations/common/0070_aefi_events.sql"),
        postgres: include_str!("../migrations/common/0070_aefi_events.sql"),
    },
    Migration {
        version: 71,
        name: "duplicate_candidates_person_b",
        sqlite: include_str!("../migrations/common/0071_duplicate_candidates_person_b.sql"),
        postgres: include_str!("../migrations/common/0071_duplicate_candidates_person_b.sql"),
    },
    Migration {
        version: 73,
        name: "population_group_sets",
        sqlite: include_str!("../migrations/sqlite/0073_population_group_sets.sql"),
        postgres: include_str!("../migrations/postgres/0073_population_group_sets.sql"),
    },
    Migration {
        version: 74,
        name: "absolute_and_daily_targets",
        sqlite: include_str!("../migrations/common/0074_absolute_and_daily_targets.sql"),
        postgres: include_str!("../migrations/common/0074_absolute_and_daily_targets.sql"),
    },
    Migration {
        version: 76,
        name: "area_levels",
        sqlite: include_str!("../migrations/common/0076_area_levels.sql"),
        postgres: include_str!("../migrations/common/0076_area_levels.sql"),
    },
    Migration {
        version: 77,
        name: "area_reorganisations",
        sqlite: include_str!("../migrations/common/0077_area_reorganisations.sql"),
        postgres: include_str!("../migrations/common/0077_area_reorganisations.sql"),
    },
    Migration {
        version: 78,
        name: "doses_first_by_day",
        sqlite: include_str!("../migrations/common/0078_doses_first_by_day.sql"),
        postgres: include_str!("../migrations/common/0078_doses_first_by_day.sql"),
    },
    Migration {
        version: 79,
        name: "doses_given_on_dose_rows",
        sqlite: include_str!("../migrations/sqlite/0079_doses_given_on_dose_rows.sql"),
        postgres: include_str!("../migrations/postgres/0079_doses_given_on_dose_rows.sql"),
    },
    Migration {
        version: 80,
        name: "writer_indexes",
        sqlite: include_str!("../migrations/common/0080_writer_indexes.sql"),
        postgres: include_str!("../migrations/common/0080_writer_indexes.sql"),
    },
    Migration {
        version: 81,
        name: "given_day_on_hand",
        sqlite: include_str!("../migrations/common/0081_given_day_on_hand.sql"),
        postgres: include_str!("../migrations/common/0081_given_day_on_hand.sql"),
    },
];

pub(crate) fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// Settings of every SQLite connection (the pool's, and the bulk import's
/// own in `direct_sqlite`); see `connect` for why each. The page cache is
/// set apart: [`pool_cache_kib`] for the pool's, [`DIRECT_CACHE`] for the
/// direct ones.
pub(crate) const SQLITE_SETTINGS: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
     PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
     PRAGMA temp_store=MEMORY; \
     PRAGMA threads=2; PRAGMA wal_autocheckpoint=0;";

/// The page cache of a direct connection (the dose writer's; a bulk
/// import enlarges its own): 64 MiB, as every connection had before the
/// pool's were cut, so the writer's batches find the indexes they touch
/// in memory.
pub(crate) const DIRECT_CACHE: &str = "PRAGMA cache_size=-65536;";

/// The page cache of each pooled SQLite connection, MiB, unless
/// `VAXGRID_SQLITE_CACHE_MB` says otherwise.
pub(crate) const POOL_CACHE_MB: i64 = 16;

/// The page cache of each pooled SQLite connection, KiB (what `PRAGMA
/// cache_size` takes, negated). Every connection fills its cache up to
/// this as it reads, and a server's resident memory holds them all: 8
/// pooled connections, the writer's 2 and its direct one at 64 MiB
/// (docs/operations.md, "Memory"). A value that is not 1–4096 MiB is a
/// start-up error naming the variable.
pub(crate) fn pool_cache_kib() -> Result<i64, StoreError> {
    match std::env::var("VAXGRID_SQLITE_CACHE_MB") {
        Err(_) => Ok(POOL_CACHE_MB * 1024),
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|mb| (1..=4096).contains(mb))
            .map(|mb| mb * 1024)
            .ok_or_else(|| {
                StoreError::invalid(
                    "VAXGRID_SQLITE_CACHE_MB",
                    format!("the page cache of each pooled SQLite connection is 1 to 4096 (MiB), not '{v}'"),
                )
            }),
    }
}

pub(crate) async fn connect(
    url: &str,
    max_connections: u32,
) -> Result<(AnyPool, Backend), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url)?;
    let url = match backend {
        Backend::Sqlite => sqlite_url(url),
        Backend::Postgres => url.to_string(),
    };
    // Several hosts (primary and standbys): connect to the primary and
    // follow it across a failover (see `hosts`).
    let hosts = match backend {
        Backend::Postgres => crate::hosts::split(&url)?,
        Backend::Sqlite => None,
    };
    let first = match &hosts {
        Some(urls) => crate::hosts::initial(urls).await,
        None => 0,
    };
    let options: AnyConnectOptions = match &hosts {
        Some(urls) => crate::hosts::options(&urls[first])?,
        None => crate::hosts::options(&url)?,
    };
    let settings = ConnectionSettings {
        backend,
        multi_host: hosts.is_some(),
        cache_kib: match backend {
            Backend::Sqlite => pool_cache_kib()?,
            Backend::Postgres => 0,
        },
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // A ping before each use guards against a server that dropped the
        // connection; an SQLite connection is a file in this process and
        // cannot be dropped, so there the ping is only a round trip to the
        // connection's worker thread on every acquire.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| Box::pin(settings.apply(conn)))
        .connect_with(options)
        .await?;
    if let Some(urls) = hosts {
        crate::hosts::watch(pool.clone(), urls, first);
    }
    Ok((pool, backend))
}

/// An SQLite URL that creates the file if it is missing (the demo relies
/// on it), unless it names a mode itself.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

/// What each new pooled connection is set up with.
#[derive(Debug, Clone, Copy)]
struct ConnectionSettings {
    backend: Backend,
    /// Several hosts were given: only the primary will do.
    multi_host: bool,
    /// SQLite's page cache per connection, KiB.
    cache_kib: i64,
}

impl ConnectionSettings {
    /// Sets up a new connection of the pool.
    async fn apply(self, conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            // Plan every execution of a prepared statement for its
            // own parameters: a generic plan made while a table was
            // small would keep scanning it whole as it grows. (The
            // dose writer's batches set otherwise for their own
            // transaction, see `Store::begin_batch`.)
            conn.execute("SET plan_cache_mode = force_custom_plan")
                .await?;
            // Notices such as "relation already exists, skipping"
            // (idempotent migrations) are not worth a log line.
            conn.execute("SET client_min_messages = warning").await?;
            // Of several hosts only the primary will do: a
            // connection that landed on a standby is refused, and
            // the pool retries (by then pointed at the primary).
            if self.multi_host && !crate::hosts::is_primary(conn).await? {
                return Err(sqlx::Error::Protocol(
                    "connected to a standby; looking for the primary".into(),
                ));
            }
        }
        if self.backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; synchronous=FULL
            // makes every commit durable (fsync of the WAL), which is
            // what an acknowledged dose promises. `threads` lets the
            // sorter of CREATE INDEX (bulk imports) use both cores.
            // Checkpoints do not run inside commits (a large WAL would
            // stall the committing writer): `Store::checkpoint` runs
            // them in the background, and closing the last
            // connection checkpoints what is left.
            conn.execute(SQLITE_SETTINGS).await?;
            conn.execute(format!("PRAGMA cache_size=-{}", self.cache_kib).as_str())
                .await?;
        }
        Ok(())
    }
}

/// The text a backend runs for `m`.
fn text_of(m: &Migration, backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => m.sqlite,
        Backend::Postgres => m.postgres,
    }
}

/// SHA-256 (hex) of a migration's text, line endings folded to `\n` so a
/// checkout with CRLF endings is not taken for an edit.
pub(crate) fn checksum(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(text.replace("\r\n", "\n").as_bytes());
    hex::encode(h)
}

/// Creates `schema_migrations` on a new database and gives a table made
/// before checksums were kept its `checksum` column (NULL on the rows it
/// holds; `migrate` fills them in).
async fn prepare_table(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL, checksum TEXT)",
    )
    .await?;
    match backend {
        Backend::Postgres => {
            pool.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum TEXT")
                .await?;
        }
        Backend::Sqlite => {
            // SQLite has no `ADD COLUMN IF NOT EXISTS`. The look and the
            // change run in one write transaction on one connection: another
            // connection's cached schema may be older than the table, and
            // another process may be starting at the same moment.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let (has,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pragma_table_info('schema_migrations') WHERE name = 'checksum'",
            )
            .fetch_one(&mut *tx)
            .await?;
            if has == 0 {
                tx.execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
                    .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Applies the migrations not yet applied, each in its own transaction, and
/// returns the names of those it applied. Every migration already applied
/// must still have the text it was applied with (its stored SHA-256): one
/// edited after release stops the start-up, named. Rows applied before
/// checksums were kept take the checksum of the text as it is now.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<Vec<String>, StoreError> {
    migrate_list(pool, backend, MIGRATIONS).await
}

async fn migrate_list(
    pool: &AnyPool,
    backend: Backend,
    migrations: &[Migration],
) -> Result<Vec<String>, StoreError> {
    prepare_table(pool, backend).await?;
    let mut applied = Vec::new();
    for m in migrations {
        let mut tx = match backend {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = pool.begin().await?;
                // Two servers starting at once must not both migrate.
                tx.execute("SELECT pg_advisory_xact_lock(734501)").await?;
                tx
            }
        };
        let sql = text_of(m, backend);
        let sum = checksum(sql);
        let done: Option<(Option<String>,)> =
            sqlx::query_as("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        match done {
            Some((Some(stored),)) if stored == sum => {
                tx.rollback().await?;
                continue;
            }
            Some((Some(stored),)) => {
                return Err(StoreError::MigrationChanged {
                    migration: format!("{:04}_{}", m.version, m.name),
                    stored,
                    now: sum,
                });
            }
            Some((None,)) => {
                sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = $2")
                    .bind(&sum)
                    .bind(m.version)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                continue;
            }
            None => {}
        }
        tx.execute(sql).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(crate::now_micros())
        .bind(&sum)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(migration = %format!("{:04}_{}", m.version, m.name), "applied migration");
        applied.push(format!("{:04}_{}", m.version, m.name));
    }
    Ok(applied)
}

/// Column types for rows passed as one JSON parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Text,
    Int,
}

/// `SELECT <columns> FROM <rows of $n>` where `$n` is a JSON array of rows,
/// each row a JSON array of the column values in order. One statement text
/// serves every batch size, so it stays prepared in the statement cache and
/// a batch is one round trip instead of one per row or per chunk. The two
/// dialects differ only here.
pub(crate) fn json_rows(backend: Backend, param: usize, cols: &[Col]) -> String {
    match backend {
        Backend::Sqlite => {
            let list: Vec<String> = (0..cols.len())
                .map(|i| format!("json_extract(value, '$[{i}]')"))
                .collect();
            format!(
                "SELECT {} FROM json_each(${param}) WHERE true",
                list.join(", ")
            )
        }
        Backend::Postgres => {
            let list: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| match c {
                    Col::Text => format!("(r->>{i})"),
                    Col::Int => format!("(r->>{i})::bigint"),
                })
                .collect();
            // jsonb: the array is parsed once; `->>` on a `json` row would
            // lex the row's text again for every column (PostgreSQL spent
            // most of a dose batch's time there).
            format!(
                "SELECT {} FROM jsonb_array_elements(${param}::jsonb) AS r",
                list.join(", ")
            )
        }
    }
}

/// `column IN (<the strings of the JSON array $n>)`.
pub(crate) fn in_json(backend: Backend, column: &str, param: usize) -> String {
    match backend {
        Backend::Sqlite => format!("{column} IN (SELECT value FROM json_each(${param}))"),
        // `= ANY(ARRAY(…))` makes the list an init-plan array, which the
        // planner answers from the column's index; `IN (SELECT …)` becomes a
        // hash semi-join over a sequential scan of the whole table.
        Backend::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT json_array_elements_text(${param}::json)))")
        }
    }
}

/// Which of `keys` are `column` of some row of `table`, asked `chunk`
/// keys a statement, on a pooled connection or inside a transaction
/// (`&mut **tx`).
pub(crate) async fn existing_keys(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    column: &str,
    keys: &std::collections::HashSet<&str>,
    chunk: usize,
) -> Result<std::collections::HashSet<String>, StoreError> {
    use sqlx::Row;
    let keys: Vec<&str> = keys.iter().copied().collect();
    let mut found = std::collections::HashSet::new();
    for part in keys.chunks(chunk.max(1)) {
        let sql = format!(
            "SELECT {column} AS k FROM {table} WHERE {column} IN ({})",
            params(1, part.len())
        );
        let mut q = sqlx::query(&sql);
        for k in part {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut *conn).await? {
            found.insert(r.try_get::<String, _>("k")?);
        }
    }
    Ok(found)
}

/// `$start, $start+1, …` for `n` parameters.
pub(crate) fn params(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2, $3), ($4, $5, $6), …` for `rows` rows of `cols` columns.
pub(crate) fn value_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", params(r * cols + 1, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_scheme() {
        assert_eq!(backend_of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgres://u@h/db").unwrap(), Backend::Postgres);
        let err = backend_of("mysql://u@h/db").unwrap_err().to_string();
        assert!(err.contains("use sqlite://FILE or postgres://"), "{err}");
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(value_rows(2, 2), "($1, $2), ($3, $4)");
    }

    fn one(text: &'static str) -> [Migration; 1] {
        [Migration {
            version: 1,
            name: "first",
            sqlite: text,
            postgres: text,
        }]
    }

    /// A migration whose text changes after it was applied stops
    /// `migrate`, named; the released text passes again.
    async fn an_edited_migration_is_refused(backend: &str) {
        let scratch = crate::scratch::Scratch::of(backend)
            .await
            .unwrap_or_else(|e| panic!("{backend} is required for this test: {e}"));
        let (pool, be) = connect(&scratch.url, 2).await.unwrap();
        let released = one("CREATE TABLE checked (x BIGINT)");
        let applied = migrate_list(&pool, be, &released).await.unwrap();
        assert_eq!(applied, vec!["0001_first".to_string()]);
        assert!(migrate_list(&pool, be, &released).await.unwrap().is_empty());
        let edited = one("CREATE TABLE checked (x BIGINT, y TEXT)");
        let err = migrate_list(&pool, be, &edited).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::MigrationChanged { migration, .. } if migration == "0001_first"),
            "{err:?}"
        );
        assert!(err.to_string().contains("0001_first"), "{err}");
        // Line endings alone are not an edit.
        let crlf = one("CREATE TABLE checked (x BIGINT)\r\n");
        let lf = one("CREATE TABLE checked (x BIGINT)\n");
        assert_eq!(checksum(crlf[0].sqlite), checksum(lf[0].sqlite));
        assert!(migrate_list(&pool, be, &released).await.unwrap().is_empty());
        pool.close().await;
        scratch.cleanup().await;
    }

    #[tokio::test]
    async fn an_edited_migration_is_refused_on_sqlite() {
        an_edited_migration_is_refused("sqlite").await
    }

    #[tokio::test]
    async fn an_edited_migration_is_refused_on_postgres() {
        an_edited_migration_is_refused("postgres").await
    }

    #[test]
    fn an_sqlite_file_is_created_unless_the_url_names_a_mode() {
        assert_eq!(sqlite_url("sqlite://vax.db"), "sqlite://vax.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://vax.db?cache=shared"),
            "sqlite://vax.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url("sqlite://vax.db?mode=ro"),
            "sqlite://vax.db?mode=ro"
        );
    }
}
