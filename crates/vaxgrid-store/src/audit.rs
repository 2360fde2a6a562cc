//! Append-only audit log with a hash chain: each row's hash covers its
//! content and the previous row's hash, so altering or removing a row breaks
//! every link after it.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::cells::{bind_all, row_layout};
use crate::db::{json_rows, params, Backend};
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

    /// [`AuditEntry::new`] with its details already written as JSON text.
    pub(crate) fn with_details(
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: String,
    ) -> AuditEntry {
        AuditEntry {
            at: crate::now_micros(),
            actor: actor.to_string(),
            address: None,
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            details,
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

/// An entry as a link of the chain: its place, the hash of the link
/// before it, and its own hash.
struct Link<'a> {
    seq: i64,
    entry: &'a AuditEntry,
    prev: &'a str,
    hash: &'a str,
}

row_layout!(AuditRow for Link<'_>, |l| {
    seq: Int = l.seq,
    at: Int = l.entry.at,
    actor: Text = &l.entry.actor,
    address: Text = &l.entry.address,
    action: Text = &l.entry.action,
    entity: Text = &l.entry.entity,
    entity_id: Text = &l.entry.entity_id,
    details: Text = &l.entry.details,
    prev_hash: Text = l.prev,
    hash: Text = l.hash,
});

/// Inserts one link, its values bound one by one.
static INSERT_ONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO audit_log ({}) VALUES ({})",
        AuditRow::COLUMNS,
        params(1, AuditRow::N)
    )
});

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
    let mut insert = conn.prepare_cached(&INSERT_ONE)?;
    for e in entries {
        seq += 1;
        let hash = link_hash(seq, e, &prev);
        insert.execute(rusqlite::params_from_iter(AuditRow::values(&Link {
            seq,
            entry: e,
            prev: &prev,
            hash: &hash,
        })))?;
        prev = hash;
    }
    Ok(())
}

/// On PostgreSQL, the call that serialises the chain's appenders until
/// the transaction ends, as an expression of a statement (the dose writer
/// takes it at the end of its batch's write, saving a round trip).
pub(crate) const CHAIN_LOCK: &str = "pg_advisory_xact_lock(734502)";

/// Appends entries inside the caller's transaction.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    append_locked(tx, backend, entries, false).await
}

/// [`append`] in a transaction that holds the chain's lock already when
/// `locked` (taken by a statement of its own before, see [`CHAIN_LOCK`]):
/// the head is then read by a later statement, so it sees every entry
/// committed before the lock was granted.
pub(crate) async fn append_locked(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    entries: &[AuditEntry],
    locked: bool,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres && !locked {
        // Serialise appenders so that two transactions never extend the same
        // chain head; SQLite writers are already serialised by BEGIN IMMEDIATE.
        sqlx::query(&format!("SELECT {CHAIN_LOCK}"))
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
        bind_all(
            sqlx::query(&INSERT_ONE),
            AuditRow::values(&Link {
                seq,
                entry: e,
                prev: &prev,
                hash: &hash,
            }),
        )
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
            serde_json::to_value(AuditRow::values(&Link {
                seq,
                entry: e,
                prev: &prev,
                hash: &hash,
            }))
            .expect("text and numbers serialise"),
        );
        prev = hash;
    }
    let sql = format!(
        "INSERT INTO audit_log ({}) {}",
        AuditRow::COLUMNS,
        json_rows(backend, 1, &AuditRow::TYPES)
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The first row whose content or link does not match the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// A claim kept outside the table (a signed checkpoint): the chain had
/// entry `seq` with hash `hash` when `label` was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    /// How the operator recognises the claim (the checkpoint's time).
    pub label: String,
}

/// What [`Store::verify_audit_anchored`] found. Intact when `broken`,
/// `anchor` and `unaudited_doses` are all empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerdict {
    /// Rows walked.
    pub entries: u64,
    /// The last row's sequence number and hash (0 and the genesis hash for
    /// an empty table).
    pub head: (i64, String),
    /// The first row whose content or link does not match.
    pub broken: Option<BrokenLink>,
    /// The first anchor the table contradicts, and how.
    pub anchor: Option<String>,
    /// Doses that no audit entry names (the first few, in id order) ...
    pub unaudited_doses: Vec<String>,
    /// ... and how many there are.
    pub unaudited_dose_count: i64,
}

impl AuditVerdict {
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.anchor.is_none() && self.unaudited_dose_count == 0
    }
}

/// How many unaudited doses a verdict names.
const NAMED_DOSES: i64 = 20;

/// Every dose row that no audit entry names: a dose is named by the
/// `doses[].id` of an entry about doses (the dose writer's one entry per
/// batch, a seeding's) or by the `correction_id` of an `entered_in_error`
/// entry. With the first [`NAMED_DOSES`] ids, the count on each row.
fn unaudited_doses_sql(backend: Backend) -> String {
    let covered = match backend {
        Backend::Sqlite => {
            "SELECT json_extract(j.value, '$.id') AS id FROM audit_log a, json_each(a.details, '$.doses') j \
             WHERE a.entity = 'dose' AND json_type(a.details, '$.doses') = 'array' \
             UNION ALL SELECT json_extract(a.details, '$.correction_id') FROM audit_log a \
             WHERE a.entity = 'dose' AND a.action = 'entered_in_error'"
        }
        Backend::Postgres => {
            "SELECT j.value ->> 'id' AS id FROM audit_log a, \
             jsonb_array_elements(CASE WHEN jsonb_typeof(a.details::jsonb -> 'doses') = 'array' \
             THEN a.details::jsonb -> 'doses' ELSE '[]'::jsonb END) j \
             WHERE a.entity = 'dose' \
             UNION ALL SELECT a.details::jsonb ->> 'correction_id' FROM audit_log a \
             WHERE a.entity = 'dose' AND a.action = 'entered_in_error'"
        }
    };
    // Both forms read the entries once: SQLite builds a transient index of
    // an uncorrelated IN list (a correlated EXISTS would parse every entry
    // again for each dose); PostgreSQL plans NOT EXISTS as a hash anti-join.
    let missing = match backend {
        Backend::Sqlite => "d.id NOT IN (SELECT id FROM covered WHERE id IS NOT NULL)",
        Backend::Postgres => "NOT EXISTS (SELECT 1 FROM covered c WHERE c.id = d.id)",
    };
    format!(
        "WITH covered(id) AS ({covered}) \
         SELECT d.id, COUNT(*) OVER () AS n FROM doses d WHERE {missing} \
         ORDER BY d.id LIMIT {NAMED_DOSES}"
    )
}

/// Rows read per query while walking the chain.
const PAGE: i64 = 10_000;

impl Store {
    /// Walks the whole chain; `Ok(None)` means intact. Returns also the
    /// number of rows checked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit(&self) -> Result<(u64, Option<BrokenLink>), StoreError> {
        let (entries, _, broken) = self
            .walk_audit(&HashSet::new(), &mut HashMap::new())
            .await?;
        Ok((entries, broken))
    }

    /// The chain's head: the last entry's sequence number and hash (0 and
    /// the genesis hash when the log is empty) — what a checkpoint signs.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query(CHAIN_HEAD).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(row) => (row.try_get("seq")?, row.try_get("hash")?),
            None => (0, GENESIS.to_string()),
        })
    }

    /// The full check: the chain ([`Store::verify_audit`]), the table
    /// against `anchors` kept outside it (the head is behind an anchor: the
    /// tail was cut or everything deleted; the entry at an anchor's
    /// sequence has another hash: the chain was rewritten), and every dose
    /// named by some entry (a dose whose entry is gone is named).
    pub async fn verify_audit_anchored(
        &self,
        anchors: &[Anchor],
    ) -> Result<AuditVerdict, StoreError> {
        let expected: HashSet<i64> = anchors.iter().map(|a| a.seq).collect();
        let mut found = HashMap::new();
        let (entries, head, broken) = self.walk_audit(&expected, &mut found).await?;
        let mut anchor = anchors
            .iter()
            .filter(|a| a.seq > head.0)
            .max_by_key(|a| a.seq)
            .map(|a| {
                format!(
                    "the log ends at entry {} but the checkpoint of {} names entry {}: \
                     entries were removed from the end",
                    head.0, a.label, a.seq
                )
            });
        if anchor.is_none() {
            anchor = anchors
                .iter()
                .filter(|a| a.seq == 0 && a.hash != GENESIS)
                .map(|a| {
                    format!(
                        "the checkpoint of {} names entry 0 with a hash that is not the genesis",
                        a.label
                    )
                })
                .next();
        }
        if anchor.is_none() {
            anchor = anchors
                .iter()
                .filter(|a| a.seq > 0 && a.seq <= head.0 && found.get(&a.seq) != Some(&a.hash))
                .min_by_key(|a| a.seq)
                .map(|a| {
                    format!(
                        "entry {} does not match the checkpoint of {}: the log was rewritten",
                        a.seq, a.label
                    )
                });
        }
        let rows = sqlx::query(&unaudited_doses_sql(self.backend))
            .fetch_all(&self.pool)
            .await?;
        let mut unaudited_doses = Vec::with_capacity(rows.len());
        let mut unaudited_dose_count = 0;
        for row in &rows {
            unaudited_doses.push(row.try_get::<String, _>("id")?);
            unaudited_dose_count = row.try_get::<i64, _>("n")?;
        }
        Ok(AuditVerdict {
            entries,
            head,
            broken,
            anchor,
            unaudited_doses,
            unaudited_dose_count,
        })
    }

    /// Walks the chain page by page; `found` gets the stored hash of each
    /// sequence number of `expected` that has a row.
    async fn walk_audit(
        &self,
        expected: &HashSet<i64>,
        found: &mut HashMap<i64, String>,
    ) -> Result<(u64, (i64, String), Option<BrokenLink>), StoreError> {
        let mut prev = GENESIS.to_string();
        let mut last = 0i64;
        let mut entries = 0u64;
        let mut broken = None;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, address, action, entity, entity_id, details, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(last)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
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
                entries += 1;
                if expected.contains(&seq) {
                    found.insert(seq, stored_hash.clone());
                }
                if broken.is_none() {
                    let expected_seq = last + 1;
                    let reason = if seq != expected_seq {
                        Some(format!("row {expected_seq} is missing (next row is {seq})"))
                    } else if stored_prev != prev {
                        Some("prev_hash does not match the previous row".to_string())
                    } else if link_hash(seq, &e, &prev) != stored_hash {
                        Some("content does not match its hash (altered)".to_string())
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        broken = Some(BrokenLink { seq, reason });
                    }
                }
                prev = stored_hash;
                last = seq;
            }
        }
        Ok((entries, (last, prev), broken))
    }
}

/// Which entries of the log to list: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this actor (a user name, or `system:…`).
    pub actor: Option<String>,
    /// Entries about this kind of record (`person`, `dose`, `user`, …).
    pub entity: Option<String>,
    /// Entries about the record with this id.
    pub entity_id: Option<String>,
    /// Written at or after this instant (Unix micros).
    pub from: Option<i64>,
    /// Written before this instant (Unix micros).
    pub until: Option<i64>,
}

/// One entry as the log lists it (the hashes stay in the table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// Unix micros.
    pub at: i64,
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The start of the entry's details (JSON text), at most
    /// [`DETAILS_LISTED`] characters: a dose batch's entry names every
    /// dose, and a page of the log must not read them all.
    pub details: String,
    /// Whether the details go on past what is listed.
    pub details_cut: bool,
}

/// How much of an entry's details [`Store::audit_entries`] reads.
pub const DETAILS_LISTED: usize = 240;

/// A page of the log, newest first; `next` is the sequence number to pass
/// as `before` for the page after, absent on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next: Option<i64>,
}

/// The entry a verification of the chain leaves in the log itself.
pub const VERIFY_ACTION: &str = "verify_chain";
pub const VERIFY_ENTITY: &str = "audit_log";
pub const VERIFY_ID: &str = "chain";

/// A verification of the chain as recorded: when, by whom, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    /// Entries walked.
    pub entries: u64,
    /// The first entry that does not match, and why; `None`: intact.
    pub broken: Option<BrokenLink>,
}

fn record_from_row(r: &sqlx::any::AnyRow) -> Result<AuditRecord, StoreError> {
    let mut details: String = r.try_get("details")?;
    let details_cut = details.chars().count() > DETAILS_LISTED;
    if details_cut {
        details = details.chars().take(DETAILS_LISTED).collect();
    }
    Ok(AuditRecord {
        details,
        details_cut,
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        address: r.try_get("address")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
    })
}

fn check_from_record(r: &AuditRecord) -> ChainCheck {
    let d: serde_json::Value = serde_json::from_str(&r.details).unwrap_or_default();
    ChainCheck {
        seq: r.seq,
        at: r.at,
        actor: r.actor.clone(),
        entries: d["entries"].as_u64().unwrap_or(0),
        broken: d["broken_at"].as_i64().map(|seq| BrokenLink {
            seq,
            reason: d["reason"].as_str().unwrap_or("").to_string(),
        }),
    }
}

impl Store {
    /// Entries of the log matching `filter`, newest first, `limit` (1–500)
    /// at most, those before sequence number `before` when given. Each
    /// filter has its index (migration 0031): a page reads its own rows.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: usize,
    ) -> Result<AuditPage, StoreError> {
        if !(1..=crate::paging::MAX_LIMIT).contains(&limit) {
            return Err(StoreError::invalid(
                "limit",
                format!("limit must be between 1 and {}", crate::paging::MAX_LIMIT),
            ));
        }
        let mut clauses: Vec<String> = Vec::new();
        let mut texts: Vec<(usize, String)> = Vec::new();
        let mut numbers: Vec<(usize, i64)> = Vec::new();
        let mut n = 0;
        let mut text = |clauses: &mut Vec<String>, column: &str, value: &str| {
            n += 1;
            clauses.push(format!("{column} = ${n}"));
            texts.push((n, value.to_string()));
        };
        if let Some(a) = &filter.actor {
            text(&mut clauses, "actor", a);
        }
        if let Some(e) = &filter.entity {
            text(&mut clauses, "entity", e);
        }
        if let Some(id) = &filter.entity_id {
            text(&mut clauses, "entity_id", id);
        }
        let mut n = texts.len();
        for (column, op, value) in [
            ("at", ">=", filter.from),
            ("at", "<", filter.until),
            ("seq", "<", before),
        ] {
            if let Some(v) = value {
                n += 1;
                clauses.push(format!("{column} {op} ${n}"));
                numbers.push((n, v));
            }
        }
        let sql = format!(
            "SELECT seq, at, actor, address, action, entity, entity_id, \
             substr(details, 1, {}) AS details FROM audit_log {} \
             ORDER BY seq DESC LIMIT {}",
            DETAILS_LISTED + 1,
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            },
            limit + 1
        );
        // Parameters in the order of their numbers: the texts, then the numbers.
        let mut q = sqlx::query(&sql);
        for (_, t) in &texts {
            q = q.bind(t.clone());
        }
        for (_, v) in &numbers {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut items = rows
            .iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|r| r.seq)
        } else {
            None
        };
        Ok(AuditPage { items, next })
    }

    /// Walks the whole chain ([`Store::verify_audit`]) and leaves what it
    /// found in the log itself, as an entry of `actor`: the next
    /// verification checks that entry too, and the log's page shows the
    /// last one without walking the chain again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit_recorded(
        &self,
        actor: &crate::model::Actor,
    ) -> Result<ChainCheck, StoreError> {
        let (entries, broken) = self.verify_audit().await?;
        let details = serde_json::json!({
            "entries": entries,
            "broken_at": broken.as_ref().map(|b| b.seq),
            "reason": broken.as_ref().map(|b| b.reason.clone()),
        });
        self.audit(AuditEntry::by(
            actor,
            VERIFY_ACTION,
            VERIFY_ENTITY,
            VERIFY_ID,
            details,
        ))
        .await?;
        self.last_chain_check()
            .await?
            .ok_or_else(|| StoreError::Unavailable("the verification's entry is not there".into()))
    }

    /// The last verification of the chain left in the log, if any (one
    /// indexed read).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn last_chain_check(&self) -> Result<Option<ChainCheck>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, at, actor, address, action, entity, entity_id, details FROM audit_log \
             WHERE entity = $1 AND entity_id = $2 AND action = $3 ORDER BY seq DESC LIMIT 1",
        )
        .bind(VERIFY_ENTITY)
        .bind(VERIFY_ID)
        .bind(VERIFY_ACTION)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .as_ref()
            .map(record_from_row)
            .transpose()?
            .map(|r| check_from_record(&r)))
    }
}
