//! Direct SQLite connections for the write-heavy paths: person imports and
//! the dose writer.
//!
//! Through sqlx's Any driver a chunk of rows travels as one JSON text that
//! SQLite parses back (`json_each`, then `json_extract` for every column),
//! and that parsing and its allocations were a large part of an import's
//! time. Here each row is bound natively to a prepared statement (a
//! million persons: 11.5 s through JSON, 6.2 s bound, measured on the same
//! machine). A connection is opened on the store's file with the pool's
//! settings; SQLite's own locking orders it with the pool's connections.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

use rusqlite::Connection;

use crate::db::{DIRECT_CACHE, SQLITE_SETTINGS};
use crate::error::StoreError;

/// Opens the database of `url` with the pool's settings (read-only when
/// the URL says `mode=ro`, as the pool's connections are).
pub(crate) fn open(url: &str) -> Result<Connection, StoreError> {
    let access = if url.contains("mode=ro") {
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn = Connection::open_with_flags(
        database_file(url)?,
        access | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(SQLITE_SETTINGS)?;
    conn.execute_batch(DIRECT_CACHE)?;
    // The dose writer keeps about twenty statements prepared (reads with
    // one to three key lists, inserts, upserts, the audit chain).
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A write transaction on a connection (`BEGIN IMMEDIATE`, as
/// `Store::begin_write`), rolled back when dropped uncommitted. It holds
/// the connection by `&mut`, so a future holding it stays `Send`.
pub(crate) struct WriteTx<'c> {
    conn: &'c mut Connection,
    open: bool,
}

impl<'c> WriteTx<'c> {
    pub(crate) fn begin(conn: &'c mut Connection) -> Result<WriteTx<'c>, StoreError> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(WriteTx { conn, open: true })
    }

    pub(crate) fn conn(&self) -> &Connection {
        self.conn
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        // On failure `open` stays set, and the drop rolls back whatever
        // COMMIT left.
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed COMMIT may already have ended the transaction; a
            // ROLLBACK then fails harmlessly.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A transaction for async callers (imports): its work runs on tokio's
/// blocking threads, one call at a time, from `begin` to `commit`.
pub(crate) struct BlockingTx {
    /// Taken out while a call runs on a blocking thread.
    conn: Option<Connection>,
}

impl BlockingTx {
    /// Opens the database of `url` and begins a transaction that holds the
    /// write lock from the start (`BEGIN IMMEDIATE`, as `Store::begin_write`).
    pub(crate) async fn begin(url: &str) -> Result<BlockingTx, StoreError> {
        let url = url.to_string();
        let conn = blocking(move || {
            let conn = open(&url)?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
            Ok(conn)
        })
        .await?;
        Ok(BlockingTx { conn: Some(conn) })
    }

    /// Runs `work` on the connection, inside the transaction.
    pub(crate) async fn run<T, F>(&mut self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.take().ok_or_else(lost)?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = work(&conn);
            (conn, result)
        })
        .await
        .map_err(|_| lost())?;
        self.conn = Some(conn);
        result
    }

    /// Commits and closes.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.end("COMMIT").await
    }

    /// Rolls back and closes.
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        self.end("ROLLBACK").await
    }

    async fn end(mut self, statement: &'static str) -> Result<(), StoreError> {
        let conn = self.conn.take().ok_or_else(lost)?;
        // Closing may checkpoint (when it is the last connection): a
        // blocking thread's work too.
        blocking(move || {
            conn.execute_batch(statement)?;
            conn.close().map_err(|(_, e)| e)?;
            Ok(())
        })
        .await
    }
}

/// The table or index (b-tree) each page of the database of `url` belongs
/// to, by page number, from `dbstat`. A read-only connection of its own:
/// it writes nothing to the WAL it may be asked to account for, and reads
/// the database as of the WAL's last commit.
pub(crate) async fn btree_pages(url: &str) -> Result<HashMap<u32, String>, StoreError> {
    let file = database_file(url)?;
    tokio::task::spawn_blocking(move || {
        let conn = Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut pages = conn.prepare("SELECT pageno, name FROM dbstat")?;
        let owners = pages
            .query_map([], |row| {
                Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(owners)
    })
    .await
    .map_err(|_| StoreError::Unavailable("reading dbstat was interrupted".into()))?
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| lost())?
}

fn lost() -> StoreError {
    StoreError::Unavailable("the import's database connection was lost; nothing was written".into())
}

/// The file an `sqlite://` URL names, read as sqlx reads it.
pub(crate) fn database_file(url: &str) -> Result<PathBuf, StoreError> {
    // An in-memory database cannot be opened by a second connection.
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .map_err(|_| StoreError::UnsupportedUrl(url.to_string()))?;
    Ok(options.get_filename().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_of_an_sqlite_url() {
        assert_eq!(
            database_file("sqlite:///tmp/a.db?mode=rwc").unwrap(),
            PathBuf::from("/tmp/a.db")
        );
        assert_eq!(
            database_file("sqlite://vaxgrid-demo.db").unwrap(),
            PathBuf::from("vaxgrid-demo.db")
        );
        assert!(database_file("sqlite::memory:").is_err());
        assert!(database_file("sqlite://a.db?mode=memory").is_err());
    }

    #[tokio::test]
    async fn names_the_b_tree_of_every_page_committed_to_the_wal() {
        let scratch = crate::scratch::Scratch::sqlite();
        let conn = Connection::open(database_file(&scratch.url).unwrap()).unwrap();
        conn.execute_batch(SQLITE_SETTINGS).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (a TEXT); CREATE INDEX t_a ON t (a); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             INSERT INTO t SELECT hex(randomblob(100)) FROM n;",
        )
        .unwrap();
        let owners = btree_pages(&scratch.url).await.unwrap();
        let pages = conn
            .query_row("PRAGMA page_count", [], |r| r.get::<_, u32>(0))
            .unwrap();
        // Committed to the WAL only, and still read: every page has a b-tree.
        assert_eq!(owners.len() as u32, pages);
        assert_eq!(owners[&1], "sqlite_schema");
        let count = |name: &str| owners.values().filter(|n| *n == name).count();
        assert!(count("t") > 1 && count("t_a") > 1, "{owners:?}");
        drop(conn);
        scratch.cleanup().await;
    }
}
