//! Temperature readings of cold-chain equipment and the excursions they
//! reveal, detected as the readings arrive: the first reading out of range
//! opens an excursion and, in the same transaction, quarantines the lots on
//! hand at the equipment's store, so the dose writer refuses them from its
//! next batch. The rules are `vaxgrid_core::supply::cold_chain`'s.

use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;
use vaxgrid_core::supply::cold_chain::{
    check_batch, Detector, Event, Excursion, ExcursionKind, Range, Reading, ReadingError,
};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::{Backend, Store};

/// Where readings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadingSource {
    Api,
    Logger,
}

impl ReadingSource {
    fn as_str(self) -> &'static str {
        match self {
            ReadingSource::Api => "api",
            ReadingSource::Logger => "logger",
        }
    }
}

/// An excursion as stored, with the lots it quarantined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredExcursion {
    pub id: String,
    pub equipment_id: String,
    pub store_code: String,
    pub excursion: Excursion,
    pub duration_minutes: i64,
    /// `product_code/lot_number` of each lot quarantined when it opened.
    pub lots: Vec<String>,
    pub description: String,
}

/// What a batch of readings did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingsOutcome {
    pub equipment_id: String,
    pub accepted: usize,
    /// The excursions opened, continued or closed by these readings.
    pub excursions: Vec<StoredExcursion>,
    /// Lots quarantined by these readings (`product_code/lot_number`).
    pub quarantined: Vec<String>,
}

/// A stored reading, for the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReading {
    pub at: OffsetDateTime,
    pub tenths: i32,
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn instant(us: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn kind_str(k: ExcursionKind) -> &'static str {
    match k {
        ExcursionKind::Heat => "heat",
        ExcursionKind::Freeze => "freeze",
        ExcursionKind::Both => "both",
    }
}

fn parse_kind(s: &str) -> ExcursionKind {
    match s {
        "freeze" => ExcursionKind::Freeze,
        "both" => ExcursionKind::Both,
        _ => ExcursionKind::Heat,
    }
}

const EXCURSION_COLUMNS: &str = "id, equipment_id, store_code, kind, started_at, ended_at, \
     last_out_at, min_tenths, max_tenths, readings, lots";

fn excursion_from_row(r: &sqlx::any::AnyRow) -> Result<StoredExcursion, StoreError> {
    let lots: String = r.try_get("lots")?;
    let excursion = Excursion {
        kind: parse_kind(&r.try_get::<String, _>("kind")?),
        started_at: instant(r.try_get("started_at")?),
        ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(instant),
        last_out_at: instant(r.try_get("last_out_at")?),
        min_tenths: i32::try_from(r.try_get::<i64, _>("min_tenths")?).unwrap_or(0),
        max_tenths: i32::try_from(r.try_get::<i64, _>("max_tenths")?).unwrap_or(0),
        readings: u32::try_from(r.try_get::<i64, _>("readings")?).unwrap_or(0),
    };
    let id: String = r.try_get("id")?;
    let equipment_id: String = r.try_get("equipment_id")?;
    Ok(StoredExcursion {
        duration_minutes: excursion.duration().whole_minutes(),
        description: reason_of(&id, &equipment_id, &excursion),
        id,
        equipment_id,
        store_code: r.try_get("store_code")?,
        lots: serde_json::from_str(&lots).unwrap_or_default(),
        excursion,
    })
}

/// The quarantine reason a lot carries: it names the excursion (its id
/// first, so a later reading can bring the description up to date).
/// Inside a write transaction: when the equipment's latest reading was
/// taken.
async fn last_reading_at(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    store: &crate::supply::StockStore,
    equipment_id: &str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let last: Option<i64> = sqlx::query(
        "SELECT MAX(at) AS last FROM temperature_readings WHERE province_code = $1 AND equipment_id = $2",
    )
    .bind(&store.province_code)
    .bind(equipment_id)
    .fetch_one(&mut **tx)
    .await?
    .try_get("last")?;
    Ok(last.map(instant))
}

/// Inside a write transaction: the equipment's excursion still open.
async fn open_excursion_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    equipment_id: &str,
) -> Result<Option<StoredExcursion>, StoreError> {
    let open_row = sqlx::query(&format!(
        "SELECT {EXCURSION_COLUMNS} FROM excursions WHERE equipment_id = $1 AND ended_at IS NULL \
         ORDER BY started_at DESC LIMIT 1"
    ))
    .bind(equipment_id)
    .fetch_optional(&mut **tx)
    .await?;
    open_row.as_ref().map(excursion_from_row).transpose()
}

/// Inside a write transaction: one reading of the equipment.
async fn insert_reading(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    store: &crate::supply::StockStore,
    equipment_id: &str,
    r: &Reading,
    source: ReadingSource,
    recorded_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO temperature_readings (province_code, equipment_id, at, tenths, source, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&store.province_code)
    .bind(equipment_id)
    .bind(micros(r.at))
    .bind(i64::from(r.tenths))
    .bind(source.as_str())
    .bind(recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inside a write transaction: an excursion's latest state; the lots
/// still held for it carry its latest description (duration, extremes,
/// closed or not).
async fn update_excursion(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    e: &StoredExcursion,
) -> Result<(), StoreError> {
    let x = &e.excursion;
    sqlx::query(
        "UPDATE excursions SET kind = $1, ended_at = $2, last_out_at = $3, min_tenths = $4, \
         max_tenths = $5, readings = $6 WHERE id = $7",
    )
    .bind(kind_str(x.kind))
    .bind(x.ended_at.map(micros))
    .bind(micros(x.last_out_at))
    .bind(i64::from(x.min_tenths))
    .bind(i64::from(x.max_tenths))
    .bind(i64::from(x.readings))
    .bind(&e.id)
    .execute(&mut **tx)
    .await?;
    let marker = format!("excursion {} %", e.id);
    for lot in &e.lots {
        let Some((product, number)) = lot.split_once('/') else {
            continue;
        };
        sqlx::query(
            "UPDATE lots SET status_reason = $1 WHERE product_code = $2 AND lot_number = $3 \
             AND status = 'quarantined' AND status_reason LIKE $4",
        )
        .bind(&e.description)
        .bind(product)
        .bind(number)
        .bind(&marker)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn reason_of(id: &str, equipment: &str, e: &Excursion) -> String {
    format!(
        "excursion {id} in equipment {equipment}: {}{}",
        e.describe(),
        if e.ended_at.is_none() {
            " (still open)"
        } else {
            ""
        }
    )
}

impl Store {
    /// The latest reading stored for the equipment, if any.
    pub async fn last_reading_at(
        &self,
        equipment_id: &str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let v: Option<i64> =
            sqlx::query("SELECT MAX(at) AS last FROM temperature_readings WHERE equipment_id = $1")
                .bind(equipment_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("last")?;
        Ok(v.map(instant))
    }

    /// Records readings of one piece of equipment, in time order, and what
    /// they reveal, in one transaction: every reading checked first (a bad
    /// one refuses the batch, nothing written; the caller lists them all
    /// with `check_batch` before), then the excursions opened (quarantining
    /// the lots on hand at the equipment's store), continued or closed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_readings(
        &self,
        equipment_id: &str,
        readings: &[Reading],
        source: ReadingSource,
        actor: &Actor,
    ) -> Result<ReadingsOutcome, StoreError> {
        let equipment = self.equipment(equipment_id, &actor.scope).await?;
        let store = self.stock_store(&equipment.store_code, &Scope::All).await?;
        let range = Range::new(equipment.min_tenths, equipment.max_tenths)
            .map_err(|e| StoreError::invalid("equipment_id", e.to_string()))?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.begin_write().await?;
        // One writer per equipment at a time: its row is the lock on
        // PostgreSQL (SQLite's write transaction is already exclusive).
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM cold_chain_equipment WHERE id = $1 FOR UPDATE")
                .bind(equipment_id)
                .fetch_one(&mut *tx)
                .await?;
        }
        let last = last_reading_at(&mut tx, &store, equipment_id).await?;
        if let Some((row, e)) = check_batch(readings, last, now).into_iter().next() {
            return Err(reading_error(row, &e));
        }
        let mut open = open_excursion_of(&mut tx, equipment_id).await?;
        let mut detector = Detector::new(range, open.as_ref().map(|o| o.excursion.clone()), last);
        let recorded_at = self.now_micros();
        let mut touched: Vec<StoredExcursion> = Vec::new();
        let mut quarantined: Vec<String> = Vec::new();
        let mut audit_entries: Vec<AuditEntry> = Vec::new();
        for (i, r) in readings.iter().enumerate() {
            let event = detector.push(*r, now).map_err(|e| reading_error(i, &e))?;
            insert_reading(&mut tx, &store, equipment_id, r, source, recorded_at).await?;
            match event {
                Event::InRange => {}
                Event::Opened(e) => {
                    let opened = self
                        .open_excursion(&mut tx, &store, equipment_id, e, actor, &mut audit_entries)
                        .await?;
                    quarantined.extend(opened.lots.iter().cloned());
                    open = Some(opened);
                }
                Event::Continues(e) | Event::Closed(e) => {
                    if let Some(o) = open.as_mut() {
                        o.duration_minutes = e.duration().whole_minutes();
                        o.description = reason_of(&o.id, equipment_id, &e);
                        o.excursion = e;
                    }
                }
            }
            // Keep the excursion's latest state for the writes below; a
            // closed one leaves `open`.
            if let Some(o) = &open {
                match touched.iter_mut().find(|t| t.id == o.id) {
                    Some(t) => *t = o.clone(),
                    None => touched.push(o.clone()),
                }
                if o.excursion.ended_at.is_some() {
                    open = None;
                }
            }
        }
        for e in &touched {
            update_excursion(&mut tx, e).await?;
        }
        audit::append(&mut tx, self.backend, &audit_entries).await?;
        tx.commit().await?;
        Ok(ReadingsOutcome {
            equipment_id: equipment_id.to_string(),
            accepted: readings.len(),
            excursions: touched,
            quarantined,
        })
    }

    /// Inside a write transaction: an excursion that opened, stored with
    /// the lots on hand at the equipment's store quarantined for it, and
    /// audited.
    async fn open_excursion(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        store: &crate::supply::StockStore,
        equipment_id: &str,
        e: Excursion,
        actor: &Actor,
        audit_entries: &mut Vec<AuditEntry>,
    ) -> Result<StoredExcursion, StoreError> {
        let id = Uuid::now_v7().to_string();
        let reason = reason_of(&id, equipment_id, &e);
        let lots = self
            .quarantine_store_lots(tx, store, &reason, actor, audit_entries)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO excursions ({EXCURSION_COLUMNS}, province_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&id)
        .bind(equipment_id)
        .bind(&store.code)
        .bind(kind_str(e.kind))
        .bind(micros(e.started_at))
        .bind(e.ended_at.map(micros))
        .bind(micros(e.last_out_at))
        .bind(i64::from(e.min_tenths))
        .bind(i64::from(e.max_tenths))
        .bind(i64::from(e.readings))
        .bind(serde_json::to_string(&lots).unwrap_or_else(|_| "[]".into()))
        .bind(&store.province_code)
        .execute(&mut **tx)
        .await?;
        audit_entries.push(AuditEntry::by(
            actor,
            "excursion",
            "cold_chain_equipment",
            equipment_id,
            serde_json::json!({"excursion_id": id, "store_code": store.code,
                "description": e.describe(), "quarantined": lots}),
        ));
        Ok(StoredExcursion {
            duration_minutes: e.duration().whole_minutes(),
            description: reason,
            id,
            equipment_id: equipment_id.to_string(),
            store_code: store.code.clone(),
            lots,
            excursion: e,
        })
    }

    /// Inside a write transaction: quarantines every released lot on hand
    /// at `store`, with `reason`; returns them as `product/lot`.
    async fn quarantine_store_lots(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        store: &crate::supply::StockStore,
        reason: &str,
        actor: &Actor,
        audit_entries: &mut Vec<AuditEntry>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.product_code, l.lot_number, l.status FROM stock_on_hand h \
             JOIN lots l ON l.product_code = h.product_code AND l.lot_number = h.lot_number \
             WHERE h.province_code = $1 AND h.store_code = $2 AND h.on_hand > 0 \
             ORDER BY l.product_code, l.lot_number",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .fetch_all(&mut **tx)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let status: String = r.try_get("status")?;
            if status != "released" {
                continue;
            }
            let product: String = r.try_get("product_code")?;
            let lot: String = r.try_get("lot_number")?;
            sqlx::query(
                "UPDATE lots SET status = 'quarantined', status_reason = $1 \
                 WHERE product_code = $2 AND lot_number = $3",
            )
            .bind(reason)
            .bind(&product)
            .bind(&lot)
            .execute(&mut **tx)
            .await?;
            audit_entries.push(AuditEntry::by(
                actor,
                "quarantined",
                "lot",
                &format!("{product}/{lot}"),
                serde_json::json!({"from": status, "to": "quarantined", "reason": reason,
                    "store_code": store.code}),
            ));
            out.push(format!("{product}/{lot}"));
        }
        Ok(out)
    }

    /// Readings of one piece of equipment (in `scope`) from `since` to
    /// `until`, in time order, at most `limit`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn readings_of(
        &self,
        equipment_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
        limit: usize,
        scope: &Scope,
    ) -> Result<Vec<StoredReading>, StoreError> {
        let e = self.equipment(equipment_id, scope).await?;
        let store = self.stock_store(&e.store_code, &Scope::All).await?;
        let rows = sqlx::query(
            "SELECT at, tenths FROM temperature_readings WHERE province_code = $1 AND equipment_id = $2 \
             AND at >= $3 AND at <= $4 ORDER BY at LIMIT $5",
        )
        .bind(&store.province_code)
        .bind(equipment_id)
        .bind(micros(since))
        .bind(micros(until))
        .bind(i64::try_from(limit).unwrap_or(10_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredReading {
                    at: instant(r.try_get("at")?),
                    tenths: i32::try_from(r.try_get::<i64, _>("tenths")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// The excursions of one piece of equipment (in `scope`) that overlap
    /// `since`..`until`, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn excursions_of(
        &self,
        equipment_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
        scope: &Scope,
    ) -> Result<Vec<StoredExcursion>, StoreError> {
        self.equipment(equipment_id, scope).await?;
        let rows = sqlx::query(&format!(
            "SELECT {EXCURSION_COLUMNS} FROM excursions WHERE equipment_id = $1 AND started_at <= $2 \
             AND (ended_at IS NULL OR ended_at >= $3) ORDER BY started_at"
        ))
        .bind(equipment_id)
        .bind(micros(until))
        .bind(micros(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(excursion_from_row).collect()
    }

    /// The excursions still open at stores in `scope`, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_excursions(&self, scope: &Scope) -> Result<Vec<StoredExcursion>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.equipment_id, e.store_code, e.kind, e.started_at, e.ended_at, e.last_out_at, \
             e.min_tenths, e.max_tenths, e.readings, e.lots, a.path FROM excursions e \
             JOIN stores s ON s.code = e.store_code JOIN areas a ON a.code = s.area_code \
             WHERE e.ended_at IS NULL ORDER BY e.started_at",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let path: String = r.try_get("path")?;
            if scope.covers_path(&path) {
                out.push(excursion_from_row(r)?);
            }
        }
        Ok(out)
    }
}

/// A bad reading as a refusal naming its row (0-based index in the batch)
/// and field.
pub fn reading_error(row: usize, e: &ReadingError) -> StoreError {
    StoreError::invalid(e.field(), format!("reading {}: {e}", row + 1))
}
