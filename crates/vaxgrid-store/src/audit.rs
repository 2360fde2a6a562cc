//! Append-only audit log with a hash chain: each row's hash covers its
//! content and the previous row's hash, so altering or removing a row breaks
//! every link after it.

use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::cells::{bind_all, Param};
use crate::db::{json_rows, Backend, Col};
use crate::error::StoreError;
use crate::Store;

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub details: String,
}

impl AuditEntry {
    pub fn new(
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at: crate::now_micros(),
            actor: actor.to_string(),
            address: None,
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            details: details.to_string(),
        }
    }
}

impl AuditEntry {
    /// An entry for what `actor` did, with the address they called from.
    pub fn by(
        actor: &crate::model::Actor,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> AuditEntry {
        let mut e = AuditEntry::new(&actor.name, action, entity, entity_id, details);
        e.address = actor.address.clone();
        e
    }
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn link_hash(seq: i64, e: &AuditEntry, prev: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        seq.to_string().as_str(),
        &e.at.to_string(),
        &e.actor,
        e.address.as_deref().unwrap_or(""),
        &e.action,
        &e.entity,
        &e.entity_id,
        &e.details,
        prev,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// The last link of the chain: its sequence number and hash.
const CHAIN_HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

const INSERT_ONE: &str = "INSERT INTO audit_log (seq, at, actor, address, action, entity, entity_id, details, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// An entry's row: the columns of [`INSERT_ONE`], in order.
fn audit_params<'a>(seq: i64, e: &'a AuditEntry, prev: &'a str, hash: &'a str) -> [Param<'a>; 10] {
    [
        seq.into(),
        e.at.into(),
        (&e.actor).into(),
        (&e.address).into(),
        (&e.action).into(),
        (&e.entity).into(),
        (&e.entity_id).into(),
        (&e.details).into(),
        prev.into(),
        hash.into(),
    ]
}

/// Appends entries on a direct SQLite connection (imports, the dose
/// writer), inside its transaction, which holds the write lock, so the head
/// cannot move meanwhile.
pub(crate) fn append_sqlite(
    conn: &rusqlite::Connection,
    entries: &[AuditEntry],
) -> rusqlite::Result<()> {
    use rusqlite::OptionalExtension;
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev) = conn
        .prepare_cached(CHAIN_HEAD)?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let mut insert = conn.prepare_cached(INSERT_ONE)?;
    for e in entries {
        seq += 1;
        let hash = link_hash(seq, e, &prev);
        insert.execute(rusqlite::params_from_iter(audit_params(
            seq, e, &prev, &hash,
        )))?;
        prev = hash;
    }
    Ok(())
}

/// Appends entries inside the caller's transaction.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres {
        // Serialise appenders so that two transactions never extend the same
        // chain head; SQLite writers are already serialised by BEGIN IMMEDIATE.
        sqlx::query("SELECT pg_advisory_xact_lock(734502)")
            .execute(&mut **tx)
            .await?;
    }
    let head = sqlx::query(CHAIN_HEAD).fetch_optional(&mut **tx).await?;
    let (mut seq, mut prev) = match head {
        Some(row) => (
            row.try_get::<i64, _>("seq")?,
            row.try_get::<String, _>("hash")?,
        ),
        None => (0, GENESIS.to_string()),
    };
    if let [e] = entries {
        // The common case (the dose writer's entry for a batch): bound
        // directly. As a JSON row its details (a listing of every dose of
        // the batch) would be escaped into the row's text and read back
        // out of it once per column.
        seq += 1;
        let hash = link_hash(seq, e, &prev);
        bind_all(sqlx::query(INSERT_ONE), audit_params(seq, e, &prev, &hash))
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    // Several rows as one JSON parameter: one fixed statement text whatever
    // the number of entries, so it stays prepared.
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let hash = link_hash(seq, e, &prev);
        rows.push(
            serde_json::to_value(audit_params(seq, e, &prev, &hash))
                .expect("text and numbers serialise"),
        );
        prev = hash;
    }
    let sql = format!(
        "INSERT INTO audit_log (seq, at, actor, address, action, entity, entity_id, details, prev_hash, hash) {}",
        json_rows(backend, 1, &AUDIT_TYPES)
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const AUDIT_TYPES: [Col; 10] = [
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
];

/// The first row whose content or link does not match the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

impl Store {
    /// Walks the whole chain; `Ok(None)` means intact. Returns also the
    /// number of rows checked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit(&self) -> Result<(u64, Option<BrokenLink>), StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, address, action, entity, entity_id, details, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_string();
        for (expected_seq, row) in (1i64..).zip(rows.iter()) {
            let seq: i64 = row.try_get("seq")?;
            let e = AuditEntry {
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                address: row.try_get("address")?,
                action: row.try_get("action")?,
                entity: row.try_get("entity")?,
                entity_id: row.try_get("entity_id")?,
                details: row.try_get("details")?,
            };
            let stored_prev: String = row.try_get("prev_hash")?;
            let stored_hash: String = row.try_get("hash")?;
            let broken = |reason: String| Ok((rows.len() as u64, Some(BrokenLink { seq, reason })));
            if seq != expected_seq {
                return broken(format!("row {expected_seq} is missing (next row is {seq})"));
            }
            if stored_prev != prev {
                return broken("prev_hash does not match the previous row".into());
            }
            if link_hash(seq, &e, &prev) != stored_hash {
                return broken("content does not match its hash (altered)".into());
            }
            prev = stored_hash;
        }
        Ok((rows.len() as u64, None))
    }
}
