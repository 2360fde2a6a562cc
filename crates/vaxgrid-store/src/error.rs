//! Errors of the store. The server maps each variant to an HTTP status in one
//! exhaustive match, so a new variant forces a decision there.

use vaxgrid_core::dose::DoseRuleError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} '{key}' does not exist")]
    NotFound {
        entity: &'static str,
        /// The request field that named the missing record.
        field: &'static str,
        key: String,
    },
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
        /// API path of the record the request collides with.
        existing: Option<String>,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The caller may see the record but not do this with it.
    #[error("{field}: {message}")]
    Forbidden {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    DoseRule(#[from] DoseRuleError),
    #[error("the dose writer queue is full; retry shortly")]
    Busy,
    #[error("{0}")]
    Unavailable(String),
    #[error("the dose writer has stopped")]
    WriterStopped,
    #[error("unsupported database URL '{0}': use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A migration already applied to this database has another text now
    /// (edited after release): the start-up stops rather than run a schema
    /// nobody can reproduce.
    #[error(
        "migration {migration} was edited after it was applied to this database \
         (stored SHA-256 {stored}, now {now}): restore its released text and add \
         the change as a new migration"
    )]
    MigrationChanged {
        migration: String,
        stored: String,
        now: String,
    },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// From the direct SQLite connection of bulk imports (`direct_sqlite`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<sqlx::Error> for StoreError {
    /// Text the database cannot store (PostgreSQL 22021: a NUL character)
    /// is the caller's fault, not the server's. The server refuses such text
    /// at its edge naming the field; this is the net under it.
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.code().as_deref() == Some("22021") {
                return StoreError::invalid(
                    "text",
                    "text must not contain NUL characters (U+0000)",
                );
            }
        }
        StoreError::Database(e)
    }
}

impl From<vaxgrid_core::campaign::Refusal> for StoreError {
    fn from(r: vaxgrid_core::campaign::Refusal) -> StoreError {
        StoreError::invalid(r.field, r.message)
    }
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// No `entity` whose `field` is `key` (or none the caller may see).
    pub fn not_found(entity: &'static str, field: &'static str, key: &str) -> StoreError {
        StoreError::NotFound {
            entity,
            field,
            key: key.to_string(),
        }
    }

    /// Whether the database could not do the work for reasons of its own —
    /// unreachable, read-only, full, locked, shutting down, out of
    /// connections — rather than because of the request: the server answers
    /// 503 with Retry-After.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Busy | StoreError::Unavailable(_) | StoreError::WriterStopped => true,
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                        // The primary code is the low byte of an extended one:
                        // 5 BUSY, 6 LOCKED, 8 READONLY, 10 IOERR, 13 FULL,
                        // 14 CANTOPEN.
                        code.parse::<i32>()
                            .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
                    } else {
                        // PostgreSQL: 08 connection, 53 insufficient resources
                        // (disk full, memory, connections), 57 operator
                        // intervention (shutdown, cancel), 58 system (I/O);
                        // 25006 read-only transaction (a standby, or
                        // default_transaction_read_only), 55P03 lock timeout,
                        // 40001/40P01 serialization failure and deadlock.
                        ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                            || matches!(code.as_ref(), "25006" | "55P03" | "40001" | "40P01")
                    }
                }
                _ => false,
            },
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::CannotOpen
            ),
            _ => false,
        }
    }

    /// Whether retrying the same work may succeed (lock contention, a
    /// serialization failure, a dropped connection).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // SQLite: 5 BUSY, 6 LOCKED, 517 BUSY_SNAPSHOT; PostgreSQL:
                    // 40001 serialization failure, 40P01 deadlock, 23505 unique
                    // violation (a concurrent insert of the same key: the retry
                    // then finds the row and answers idempotently).
                    matches!(
                        code.as_ref(),
                        "5" | "6" | "517" | "40001" | "40P01" | "23505"
                    )
                }
                _ => false,
            },
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            StoreError::Busy => true,
            _ => false,
        }
    }
}
