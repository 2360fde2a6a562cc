//! Storage for vaxgrid on SQLite (embedded default) and PostgreSQL, behind one
//! `Store`. All SQL of the project lives in this crate.

pub mod accounts;
pub mod added_identifiers;
pub mod aefi;
pub mod allocation;
pub mod area_groups;
pub mod areas;
pub mod audit;
mod batch_tx;
pub mod campaigns;
pub mod catalog;
mod cells;
pub mod certificates;
pub mod clock;
pub mod cold_chain;
pub mod dashboard;
pub mod data_quality;
mod db;
mod direct_sqlite;
pub mod doses;
pub mod duplicates;
pub mod error;
pub mod exchange;
pub mod fhir_extras;
pub mod health;
pub mod histogram;
mod hosts;
pub mod identifiers;
pub mod import;
pub mod items;
pub mod lists;
pub mod model;
pub mod outbreak;
pub mod outbreak_facilities;
pub mod outbreak_policy;
pub mod outbreak_team;
pub mod outbreak_views;
pub mod paging;
pub mod persons;
pub mod portal;
pub mod registry;
pub mod reminders;
pub mod reorganise;
pub mod reports;
pub mod scheduling;
pub mod scope;
pub mod scratch;
pub mod site_plans;
pub mod staff;
pub mod supply;
pub mod supply_reports;
pub mod training;
pub mod training_report;
pub mod vials;
pub mod visits;
pub mod writer;

use sqlx::AnyPool;

pub use db::Backend;
pub use error::StoreError;

/// Handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: std::sync::Arc<str>,
    /// Recently checked tokens (see `accounts::TOKEN_CACHE_MICROS`).
    tokens: accounts::TokenCache,
    /// Area paths and site areas read so far (see `scope::PlaceCache`).
    places: scope::PlaceCache,
    /// Where every instant and date the store writes or compares comes
    /// from (see `clock`).
    clock: clock::Clock,
}

impl Store {
    /// Connects to `url` (`sqlite://FILE` or `postgres://…`); the backend is
    /// chosen here, from the scheme, and nowhere else.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let max = if db::backend_of(url)? == Backend::Sqlite {
            8
        } else {
            16
        };
        let (pool, backend) = db::connect(url, max).await?;
        Ok(Store {
            pool,
            backend,
            url: url.into(),
            tokens: accounts::TokenCache::default(),
            places: scope::PlaceCache::default(),
            clock: clock::Clock::default(),
        })
    }

    /// Connects and applies pending migrations.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        db::migrate(&self.pool, self.backend).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clock the store reads (a test moves it forward).
    pub fn clock(&self) -> &clock::Clock {
        &self.clock
    }

    /// Now on the store's clock, in microseconds since the Unix epoch.
    pub fn now_micros(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Today (UTC) on the store's clock.
    pub fn today(&self) -> time::Date {
        self.clock.today()
    }

    /// A second handle on the same database with its own small pool, for a
    /// task that runs on another runtime (the dose writer's thread).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reconnect(&self, max_connections: u32) -> Result<Store, StoreError> {
        let (pool, backend) = db::connect(&self.url, max_connections).await?;
        Ok(Store {
            pool,
            backend,
            url: self.url.clone(),
            tokens: self.tokens.clone(),
            places: self.places.clone(),
            clock: self.clock.clone(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// at once (`BEGIN IMMEDIATE`), so a read-then-write transaction cannot
    /// fail half-way when another writer commits in between.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // Held shared by every writer, exclusively by a reorganisation
            // of the area tree (`reorganise`): no transaction reads a path
            // before one and writes it after. Taken with `BEGIN`, in the
            // same round trip (a simple query may hold several
            // statements): one round trip less on every write, the dose
            // writer's batches included.
            Backend::Postgres => self.begin_with_tree_lock("").await?,
        })
    }

    /// On PostgreSQL: `BEGIN`, then the statements of `settings` (each
    /// ending in `; `), then the area tree's shared lock, as one simple
    /// query (one round trip).
    async fn begin_with_tree_lock(
        &self,
        settings: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(self
            .pool
            .begin_with(format!(
                "BEGIN; {settings}SELECT pg_advisory_xact_lock_shared({})",
                reorganise::TREE_LOCK
            ))
            .await?)
    }

    /// Starts a dose writer's batch: [`Store::begin_write`], and on
    /// PostgreSQL the batch's prepared statements run on their cached
    /// generic plans. Left to choose, PostgreSQL planned them afresh at
    /// every execution (a custom plan each time, parsing the batch's JSON
    /// parameters while planning: 0.75 ms of bind for the write statement
    /// alone, see docs/benchmarks.md, 2026-12-07). The reads of `doses` are
    /// not prepared (see `doses::fetch_any`) and keep a plan of their own
    /// at each execution: a generic plan made while `doses` was nearly
    /// empty (a new campaign's first minutes) scans the whole table for
    /// each batch's ids and persons long after it grew.
    pub(crate) async fn begin_batch(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.begin_write().await?,
            Backend::Postgres => {
                self.begin_with_tree_lock("SET LOCAL plan_cache_mode = force_generic_plan; ")
                    .await?
            }
        })
    }

    /// Copies committed pages from SQLite's write-ahead log into the
    /// database file without blocking readers or the writer (PASSIVE). The
    /// server calls it every second; a no-op on PostgreSQL.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Refreshes the planner statistics (after bulk loads).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// Bytes the store's tables and indexes take (SQLite: the file and its
    /// WAL; PostgreSQL: the relations of the current schema).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT CAST(page_count * page_size AS BIGINT) FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => {
                "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            }
        };
        let (bytes,): (i64,) = sqlx::query_as(sql).fetch_one(&self.pool).await?;
        Ok(bytes)
    }

    /// The SQLite database file (its write-ahead log is this path with
    /// `-wal` appended); an error on PostgreSQL or an in-memory database.
    pub fn sqlite_file(&self) -> Result<std::path::PathBuf, StoreError> {
        match self.backend {
            Backend::Sqlite => direct_sqlite::database_file(&self.url),
            Backend::Postgres => Err(StoreError::UnsupportedUrl(self.url.to_string())),
        }
    }

    /// SQLite: the table or index each page of the database belongs to, by
    /// page number (`dbstat`), as of the last commit; for accounting the
    /// pages a workload writes (`vaxgrid bench writer --wal-pages`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn btree_pages(&self) -> Result<std::collections::HashMap<u32, String>, StoreError> {
        match self.backend {
            Backend::Sqlite => direct_sqlite::btree_pages(&self.url).await,
            Backend::Postgres => Err(StoreError::UnsupportedUrl(self.url.to_string())),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Microseconds since the Unix epoch, the stored form of instants.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Parses a stored or submitted `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Today's date in UTC.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// RFC 3339 form of a stored instant.
pub fn format_instant(micros: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
