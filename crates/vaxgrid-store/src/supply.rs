//! Vaccine supply: stores following the area tree and the append-only
//! stock ledger per store × lot, with its on-hand counters kept in the same
//! transaction as each movement. The rules are `vaxgrid_core::supply`'s;
//! this module reads the stock, asks them, and writes the movement, the
//! counter and the audit row in one transaction.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;
use vaxgrid_core::area::province_of_path;
use vaxgrid_core::supply::ledger::{self, Movement, MovementKind, ShipmentStatus};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::{Backend, Store};

/// A store to create: a vaccine store at an area (national, province,
/// district warehouse) or a site's own stock.
#[derive(Debug, Clone)]
pub struct NewStore {
    pub code: String,
    pub name: String,
    pub area_code: String,
    /// The store that supplies this one; its area contains this one's.
    pub parent_code: Option<String>,
    /// The vaccination site whose stock this is, if any.
    pub site_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockStore {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub area_path: String,
    pub parent_code: Option<String>,
    pub site_code: Option<String>,
    pub province_code: String,
}

/// A movement to record at a store, for one lot.
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    pub movement: Movement,
}

/// A shipment to dispatch from one store to another.
#[derive(Debug, Clone)]
pub struct NewShipment {
    /// The client's id: the shipment and its dispatch movement.
    pub id: Uuid,
    pub from_store: String,
    pub to_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub quantity: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub id: String,
    pub from_store: String,
    pub to_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub dispatched: u64,
    pub received: Option<u64>,
    pub status: ShipmentStatus,
    pub discrepancy_reason: Option<String>,
}

/// Doses on hand at a site's own store, by (product code, lot number).
pub type SiteStock = BTreeMap<(String, String), u64>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnHand {
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    pub on_hand: u64,
}

fn not_found(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, StoreError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_string())
}

const STORE_COLUMNS: &str =
    "s.code, s.name, s.area_code, a.path, s.parent_code, s.site_code, s.province_code";

fn store_from_row(r: &sqlx::any::AnyRow) -> Result<StockStore, StoreError> {
    Ok(StockStore {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        area_code: r.try_get("area_code")?,
        area_path: r.try_get("path")?,
        parent_code: r.try_get("parent_code")?,
        site_code: r.try_get("site_code")?,
        province_code: r.try_get("province_code")?,
    })
}

impl Store {
    /// Creates a store at an area in the actor's scope, under a parent store
    /// whose area contains it (the supply chain follows the area tree).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_store(
        &self,
        new: &NewStore,
        actor: &Actor,
    ) -> Result<StockStore, StoreError> {
        let code = text("code", &new.code, 32)?;
        let name = text("name", &new.name, 200)?;
        let area = self
            .area(&new.area_code)
            .await
            .map_err(|_| not_found("area", "area_code", &new.area_code))?;
        if !actor.scope.covers_path(&area.path) {
            return Err(not_found("area", "area_code", &new.area_code));
        }
        if let Some(parent) = &new.parent_code {
            let p = self
                .stock_store(parent, &Scope::All)
                .await
                .map_err(|_| not_found("store", "parent_code", parent))?;
            if !area.path.starts_with(&p.area_path) {
                return Err(StoreError::invalid(
                    "parent_code",
                    format!(
                        "store {parent} is at area {}, which does not contain area {}",
                        p.area_code, area.code
                    ),
                ));
            }
        }
        if let Some(site) = &new.site_code {
            let s = self
                .site(site)
                .await
                .map_err(|_| not_found("site", "site_code", site))?;
            if s.area_code != area.code {
                return Err(StoreError::invalid(
                    "site_code",
                    format!("site {site} is in area {}, not {}", s.area_code, area.code),
                ));
            }
        }
        let province = province_of_path(&area.path).to_string();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO stores (code, name, area_code, parent_code, site_code, province_code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&code)
        .bind(&name)
        .bind(&area.code)
        .bind(new.parent_code.as_deref())
        .bind(new.site_code.as_deref())
        .bind(&province)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("store {code} already exists"),
                existing: Some(format!("/api/v1/stores/{code}")),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "store",
                &code,
                serde_json::json!({"area_code": area.code, "parent_code": new.parent_code,
                    "site_code": new.site_code}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.stock_store(&code, &Scope::All).await
    }

    /// The store, if its area is in `scope` (else NotFound).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stock_store(&self, code: &str, scope: &Scope) -> Result<StockStore, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s JOIN areas a ON a.code = s.area_code WHERE s.code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("store", "store_code", code))?;
        let store = store_from_row(&row)?;
        if !scope.covers_path(&store.area_path) {
            return Err(not_found("store", "store_code", code));
        }
        Ok(store)
    }

    /// Records one movement at a store: checks it against the ledger's
    /// rules and the stock on hand, then writes the movement, the on-hand
    /// counter and the audit row in one transaction. Returns the on-hand
    /// after it. Shipments go through `dispatch_shipment` and
    /// `receive_shipment`, which know both ends.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_movement(
        &self,
        new: &NewMovement,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        if matches!(
            new.movement.kind,
            MovementKind::ShipmentDispatched { .. } | MovementKind::ShipmentReceived { .. }
        ) {
            return Err(StoreError::invalid(
                "kind",
                "shipments are dispatched and received as shipments, which record both stores' movements",
            ));
        }
        let store = self.stock_store(&new.store_code, &actor.scope).await?;
        self.lot(&new.product_code, &new.lot_number)
            .await
            .map_err(|_| {
                not_found(
                    "lot",
                    "lot_number",
                    &format!("{}/{}", new.product_code, new.lot_number),
                )
            })?;
        let mut tx = self.begin_write().await?;
        let on_hand = self
            .apply_movement(
                &mut tx,
                &store,
                &new.product_code,
                &new.lot_number,
                &new.movement,
                actor,
            )
            .await?;
        if let MovementKind::VialOpened { doses_per_vial, .. } = &new.movement.kind {
            self.open_vial_in_tx(&mut tx, &store, new, *doses_per_vial)
                .await?;
        }
        tx.commit().await?;
        Ok(on_hand)
    }

    /// Records many movements in one transaction (seeding a demo or a
    /// benchmark's stores), each checked as `record_movement` checks it;
    /// the first refusal writes nothing.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_movements(
        &self,
        new: &[NewMovement],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut stores: std::collections::HashMap<String, StockStore> = Default::default();
        let mut lots: std::collections::HashSet<(String, String)> = Default::default();
        for n in new {
            if matches!(
                n.movement.kind,
                MovementKind::ShipmentDispatched { .. } | MovementKind::ShipmentReceived { .. }
            ) {
                return Err(StoreError::invalid(
                    "kind",
                    "shipments are dispatched and received as shipments",
                ));
            }
            if !stores.contains_key(&n.store_code) {
                let store = self.stock_store(&n.store_code, &actor.scope).await?;
                stores.insert(n.store_code.clone(), store);
            }
            if lots.insert((n.product_code.clone(), n.lot_number.clone())) {
                self.lot(&n.product_code, &n.lot_number)
                    .await
                    .map_err(|_| {
                        not_found(
                            "lot",
                            "lot_number",
                            &format!("{}/{}", n.product_code, n.lot_number),
                        )
                    })?;
            }
        }
        let mut tx = self.begin_write().await?;
        for n in new {
            self.apply_movement(
                &mut tx,
                &stores[&n.store_code],
                &n.product_code,
                &n.lot_number,
                &n.movement,
                actor,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Inside a write transaction: locks the store × lot counter, applies
    /// the rules, writes movement, counter and audit.
    pub(crate) async fn apply_movement(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        store: &StockStore,
        product_code: &str,
        lot_number: &str,
        movement: &Movement,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let now = self.now_micros();
        // Doses given draw from the open vials first: the open vial pools
        // are locked before the counter row, the order the dose writer's
        // batch and the open-vial limit's closing lock them in (the other
        // order can deadlock with them on PostgreSQL). A movement refused
        // below rolls this back with the rest.
        if movement.kind == MovementKind::DoseGiven {
            self.take_from_open_vials_in_tx(
                tx,
                store,
                product_code,
                lot_number,
                movement.quantity,
                now,
            )
            .await?;
        }
        let key = StockKey {
            store,
            product_code,
            lot_number,
        };
        let current = self.lock_on_hand(tx, &key, now).await?;
        let after = ledger::apply(current, movement)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let details = serde_json::to_value(&movement.kind)
            .map_err(|e| StoreError::invalid("kind", e.to_string()))?;
        let id = insert_movement(tx, &key, movement, &details, actor, now).await?;
        set_on_hand(tx, &key, after, now).await?;
        count_consumption(
            tx,
            &store.province_code,
            &store.code,
            product_code,
            &movement.kind,
            movement.quantity,
            now,
        )
        .await?;
        audit::append(
            tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                movement.kind.as_str(),
                "stock_movement",
                &id,
                serde_json::json!({"store_code": store.code, "product_code": product_code,
                    "lot_number": lot_number, "quantity": movement.quantity, "details": details,
                    "on_hand": after}),
            )],
        )
        .await?;
        Ok(after)
    }

    /// The store × lot counter, made at 0 when missing and locked until
    /// the commit: its current on-hand.
    async fn lock_on_hand(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        key: &StockKey<'_>,
        now: i64,
    ) -> Result<u64, StoreError> {
        sqlx::query(
            "INSERT INTO stock_on_hand (province_code, store_code, product_code, lot_number, on_hand, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (province_code, store_code, product_code, lot_number) DO NOTHING",
        )
        .bind(&key.store.province_code)
        .bind(&key.store.code)
        .bind(key.product_code)
        .bind(key.lot_number)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        // SQLite's write transaction is already exclusive (BEGIN IMMEDIATE);
        // PostgreSQL locks the counter row until the commit.
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let current: i64 = sqlx::query(&format!(
            "SELECT on_hand FROM stock_on_hand WHERE province_code = $1 AND store_code = $2 \
             AND product_code = $3 AND lot_number = $4{lock}"
        ))
        .bind(&key.store.province_code)
        .bind(&key.store.code)
        .bind(key.product_code)
        .bind(key.lot_number)
        .fetch_one(&mut **tx)
        .await?
        .try_get("on_hand")?;
        Ok(u64::try_from(current).unwrap_or(0))
    }

    /// The stock on hand at a store in `scope`, by lot (lots at 0 included
    /// once they have moved).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stock_on_hand(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<OnHand>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let rows = sqlx::query(
            "SELECT store_code, product_code, lot_number, on_hand FROM stock_on_hand \
             WHERE province_code = $1 AND store_code = $2 ORDER BY product_code, lot_number",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OnHand {
                    store_code: r.try_get("store_code")?,
                    product_code: r.try_get("product_code")?,
                    lot_number: r.try_get("lot_number")?,
                    on_hand: u64::try_from(r.try_get::<i64, _>("on_hand")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Differences between the on-hand counters and the sum of the ledger's
    /// movements, store × lot; empty when they agree.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_stock(&self) -> Result<Vec<String>, StoreError> {
        type Key = (String, String, String, String);
        let key = |r: &sqlx::any::AnyRow| -> Result<Key, StoreError> {
            Ok((
                r.try_get("province_code")?,
                r.try_get("store_code")?,
                r.try_get("product_code")?,
                r.try_get("lot_number")?,
            ))
        };
        let mut stored: BTreeMap<Key, i64> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT province_code, store_code, product_code, lot_number, on_hand FROM stock_on_hand",
        )
        .fetch_all(&self.pool)
        .await?
        {
            stored.insert(key(&r)?, r.try_get("on_hand")?);
        }
        let mut fresh: BTreeMap<Key, i64> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT province_code, store_code, product_code, lot_number, CAST(SUM(delta) AS BIGINT) AS total \
             FROM stock_movements GROUP BY province_code, store_code, product_code, lot_number",
        )
        .fetch_all(&self.pool)
        .await?
        {
            fresh.insert(key(&r)?, r.try_get("total")?);
        }
        // The doses the dose writer took from a store are the ledger's
        // lines for them (no movement row each: see `doses::SiteStock`).
        let given = self.doses_given_by_day().await?;
        for ((province, store, product, lot, _day), n) in &given {
            *fresh
                .entry((
                    province.clone(),
                    store.clone(),
                    product.clone(),
                    lot.clone(),
                ))
                .or_default() -= n;
        }
        let mut out = Vec::new();
        for (k, v) in &stored {
            let f = fresh.get(k).copied().unwrap_or(0);
            if *v != f {
                out.push(format!("stock_on_hand {k:?}: stored {v}, recount {f}"));
            }
            if *v < 0 {
                out.push(format!("stock_on_hand {k:?}: negative ({v})"));
            }
        }
        for (k, f) in &fresh {
            if !stored.contains_key(k) {
                out.push(format!("stock_on_hand {k:?}: stored nothing, recount {f}"));
            }
        }
        out.extend(self.check_stock_daily().await?);
        out.extend(self.check_stock_given_by_day(&given).await?);
        Ok(out)
    }

    /// Differences between `stock_daily` and the consuming movements of
    /// the ledger (doses given, wastage) summed by store × UTC day ×
    /// product (the dose writer's doses are counted in `stock_given_by_day`).
    async fn check_stock_daily(&self) -> Result<Vec<String>, StoreError> {
        type Key = (String, String, String, String);
        let mut stored: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT province_code, store_code, day, product_code, given, wasted FROM stock_daily",
        )
        .fetch_all(&self.pool)
        .await?
        {
            stored.insert(
                (
                    r.try_get("province_code")?,
                    r.try_get("store_code")?,
                    r.try_get("day")?,
                    r.try_get("product_code")?,
                ),
                (r.try_get("given")?, r.try_get("wasted")?),
            );
        }
        let mut fresh: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT province_code, store_code, product_code, kind, quantity, recorded_at \
             FROM stock_movements WHERE kind IN ('dose_given', 'wastage')",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let day = crate::format_date(day_of(r.try_get("recorded_at")?));
            let e = fresh
                .entry((
                    r.try_get("province_code")?,
                    r.try_get("store_code")?,
                    day,
                    r.try_get("product_code")?,
                ))
                .or_default();
            let q: i64 = r.try_get("quantity")?;
            if r.try_get::<String, _>("kind")? == "dose_given" {
                e.0 += q;
            } else {
                e.1 += q;
            }
        }
        let mut out = Vec::new();
        for (k, v) in &stored {
            let f = fresh.get(k).copied().unwrap_or((0, 0));
            if *v != f {
                out.push(format!(
                    "stock_daily {k:?}: stored (given, wasted) {v:?}, recount {f:?}"
                ));
            }
        }
        for (k, f) in &fresh {
            if !stored.contains_key(k) {
                out.push(format!("stock_daily {k:?}: stored nothing, recount {f:?}"));
            }
        }
        Ok(out)
    }
}

/// Doses the dose writer took from a store, by (province, store, product,
/// lot, UTC day of recording).
type GivenByDay = BTreeMap<(String, String, String, String, String), i64>;

impl Store {
    /// The doses the dose writer took from stores, counted from the dose
    /// rows by the UTC day they were recorded on.
    async fn doses_given_by_day(&self) -> Result<GivenByDay, StoreError> {
        let mut out = GivenByDay::new();
        for r in sqlx::query(
            "SELECT province_code, stock_store, product_code, lot_number, \
             CAST(recorded_at / 86400000000 AS BIGINT) AS day, CAST(COUNT(*) AS BIGINT) AS given \
             FROM doses WHERE stock_store IS NOT NULL \
             GROUP BY province_code, stock_store, product_code, lot_number, recorded_at / 86400000000",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let day: i64 = r.try_get("day")?;
            let day = crate::format_date(day_of(day.saturating_mul(86_400_000_000)));
            *out.entry((
                r.try_get("province_code")?,
                r.try_get("stock_store")?,
                r.try_get("product_code")?,
                r.try_get("lot_number")?,
                day,
            ))
            .or_default() += r.try_get::<i64, _>("given")?;
        }
        Ok(out)
    }

    /// Differences between the ledger's daily lines of doses given (the
    /// view `stock_given_by_day`: finished days in `stock_given_daily`,
    /// the current one on the on-hand rows) and the dose rows.
    async fn check_stock_given_by_day(
        &self,
        fresh: &GivenByDay,
    ) -> Result<Vec<String>, StoreError> {
        let mut stored = GivenByDay::new();
        for r in sqlx::query(
            "SELECT province_code, store_code, product_code, lot_number, day, \
             CAST(SUM(given) AS BIGINT) AS given FROM stock_given_by_day \
             GROUP BY province_code, store_code, product_code, lot_number, day",
        )
        .fetch_all(&self.pool)
        .await?
        {
            stored.insert(
                (
                    r.try_get("province_code")?,
                    r.try_get("store_code")?,
                    r.try_get("product_code")?,
                    r.try_get("lot_number")?,
                    r.try_get("day")?,
                ),
                r.try_get("given")?,
            );
        }
        let mut out = Vec::new();
        crate::reports::diff_maps("stock_given_by_day", &stored, fresh, &mut out);
        Ok(out)
    }
}

/// The UTC day of an instant (microseconds since the epoch).
pub(crate) fn day_of(micros: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
}

/// Inside a movement's transaction: adds a consuming movement (doses
/// given, wastage) to `stock_daily`, the counter that days of supply and
/// the wastage rate read. Every path that writes such a movement to the
/// ledger calls it (`check_stock` recounts it); others pass through.
pub(crate) async fn count_consumption(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    province_code: &str,
    store_code: &str,
    product_code: &str,
    kind: &MovementKind,
    quantity: u64,
    at_micros: i64,
) -> Result<(), StoreError> {
    let (given, wasted) = match kind {
        MovementKind::DoseGiven => (quantity, 0),
        MovementKind::Wastage { .. } => (0, quantity),
        _ => return Ok(()),
    };
    let given = i64::try_from(given).map_err(|_| StoreError::invalid("quantity", "too large"))?;
    let wasted = i64::try_from(wasted).map_err(|_| StoreError::invalid("quantity", "too large"))?;
    sqlx::query(
        "INSERT INTO stock_daily (province_code, store_code, day, product_code, given, wasted) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (province_code, store_code, day, product_code) \
         DO UPDATE SET given = stock_daily.given + excluded.given, \
         wasted = stock_daily.wasted + excluded.wasted",
    )
    .bind(province_code)
    .bind(store_code)
    .bind(crate::format_date(day_of(at_micros)))
    .bind(product_code)
    .bind(given)
    .bind(wasted)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn status_str(s: ShipmentStatus) -> &'static str {
    match s {
        ShipmentStatus::Dispatched => "dispatched",
        ShipmentStatus::InTransit => "in_transit",
        ShipmentStatus::Received => "received",
    }
}

fn parse_status(s: &str) -> ShipmentStatus {
    match s {
        "in_transit" => ShipmentStatus::InTransit,
        "received" => ShipmentStatus::Received,
        _ => ShipmentStatus::Dispatched,
    }
}

fn shipment_from_row(r: &sqlx::any::AnyRow) -> Result<Shipment, StoreError> {
    Ok(Shipment {
        id: r.try_get("id")?,
        from_store: r.try_get("from_store")?,
        to_store: r.try_get("to_store")?,
        product_code: r.try_get("product_code")?,
        lot_number: r.try_get("lot_number")?,
        dispatched: u64::try_from(r.try_get::<i64, _>("dispatched")?).unwrap_or(0),
        received: r
            .try_get::<Option<i64>, _>("received")?
            .map(|v| u64::try_from(v).unwrap_or(0)),
        status: parse_status(&r.try_get::<String, _>("status")?),
        discrepancy_reason: r.try_get("discrepancy_reason")?,
    })
}

const SHIPMENT_COLUMNS: &str = "id, from_store, to_store, product_code, lot_number, dispatched, \
     received, status, discrepancy_reason";

impl Store {
    /// Dispatches a shipment: the sending store's movement, checked against
    /// its stock (an empty store ships nothing), and the shipment row, in
    /// one transaction. The caller must hold the sending store's area.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dispatch_shipment(
        &self,
        new: &NewShipment,
        actor: &Actor,
    ) -> Result<Shipment, StoreError> {
        let from = self.stock_store(&new.from_store, &actor.scope).await?;
        let to = self
            .stock_store(&new.to_store, &Scope::All)
            .await
            .map_err(|_| not_found("store", "to_store", &new.to_store))?;
        self.lot(&new.product_code, &new.lot_number)
            .await
            .map_err(|_| {
                not_found(
                    "lot",
                    "lot_number",
                    &format!("{}/{}", new.product_code, new.lot_number),
                )
            })?;
        let mut tx = self.begin_write().await?;
        self.dispatch_in_tx(&mut tx, &from, &to, new, actor).await?;
        tx.commit().await?;
        self.shipment(&new.id.to_string()).await
    }

    /// Inside a write transaction: the shipment row, the sending store's
    /// movement and the ancillary items the product's ratios send with it
    /// (an allocation dispatches several shipments in one transaction).
    pub(crate) async fn dispatch_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        from: &StockStore,
        to: &StockStore,
        new: &NewShipment,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let movement = Movement {
            id: new.id,
            kind: MovementKind::ShipmentDispatched {
                shipment_id: new.id,
                to_store: to.code.clone(),
            },
            quantity: new.quantity,
        };
        if from.code == to.code {
            return Err(StoreError::invalid(
                "to_store",
                "a store cannot ship to itself",
            ));
        }
        let quantity = i64::try_from(new.quantity)
            .map_err(|_| StoreError::invalid("quantity", "too large"))?;
        let inserted = sqlx::query(
            "INSERT INTO shipments (id, from_store, to_store, product_code, lot_number, dispatched, status, dispatched_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(new.id.to_string())
        .bind(&from.code)
        .bind(&to.code)
        .bind(&new.product_code)
        .bind(&new.lot_number)
        .bind(quantity)
        .bind(status_str(ShipmentStatus::Dispatched))
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("shipment {} already exists", new.id),
                existing: Some(format!("/api/v1/shipments/{}", new.id)),
            });
        }
        self.apply_movement(
            tx,
            from,
            &new.product_code,
            &new.lot_number,
            &movement,
            actor,
        )
        .await?;
        self.ship_items_in_tx(tx, from, new, actor).await?;
        Ok(())
    }

    /// Receives a shipment at its destination: `received` doses enter the
    /// receiving store's ledger; a quantity other than the dispatched one
    /// needs a reason. A shipment is received once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn receive_shipment(
        &self,
        id: &str,
        received: u64,
        discrepancy_reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Shipment, StoreError> {
        let before = self.shipment(id).await?;
        let to = self
            .stock_store(&before.to_store, &actor.scope)
            .await
            .map_err(|_| not_found("shipment", "id", id))?;
        let shipment_id = Uuid::parse_str(id).map_err(|_| not_found("shipment", "id", id))?;
        let reason = discrepancy_reason.map(str::trim).filter(|r| !r.is_empty());
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let row = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let current = shipment_from_row(&row)?;
        ledger::advance(current.status, ShipmentStatus::Received).map_err(|e| {
            StoreError::Conflict {
                field: "status",
                message: format!("shipment {id} is already received: {e}"),
                existing: Some(format!("/api/v1/shipments/{id}")),
            }
        })?;
        let movement = Movement {
            id: Uuid::now_v7(),
            kind: MovementKind::ShipmentReceived {
                shipment_id,
                dispatched: current.dispatched,
                discrepancy_reason: reason.map(str::to_string),
            },
            quantity: received,
        };
        self.apply_movement(
            &mut tx,
            &to,
            &current.product_code,
            &current.lot_number,
            &movement,
            actor,
        )
        .await?;
        let received_i64 =
            i64::try_from(received).map_err(|_| StoreError::invalid("quantity", "too large"))?;
        sqlx::query(
            "UPDATE shipments SET received = $1, status = $2, discrepancy_reason = $3, received_at = $4 WHERE id = $5",
        )
        .bind(received_i64)
        .bind(status_str(ShipmentStatus::Received))
        .bind(reason)
        .bind(self.now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.receive_items_in_tx(&mut tx, &to, id, actor).await?;
        tx.commit().await?;
        self.shipment(id).await
    }

    /// A shipment by id, whoever asks (callers check the stores' scope).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn shipment(&self, id: &str) -> Result<Shipment, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("shipment", "id", id))?;
        shipment_from_row(&row)
    }
}

/// A dose given from a lot: who got it, where and when (a recall's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DosedFromLot {
    pub person_id: String,
    pub full_name: String,
    pub dose_id: String,
    pub dose_number: i64,
    pub site_code: String,
    pub administered_on: String,
}

impl Store {
    /// Quarantines, recalls or releases a lot, with a reason (audited). A
    /// quarantined or recalled lot cannot be used for a dose: the dose
    /// writer reads the lots of each batch and refuses it on field `lot`.
    /// A recall is final; releasing a quarantine needs a reason too (the
    /// supervisor's, with the VVM reading).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_lot_status(
        &self,
        product_code: &str,
        lot_number: &str,
        status: vaxgrid_core::dose::LotStatus,
        reason: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        self.hold_lot(product_code, lot_number, status, reason, None, actor)
            .await
    }

    /// `set_lot_status` with the vaccine vial monitor stage read (1–4),
    /// kept with the lot: a stage of 3 or 4 refuses doses, and a release
    /// at such a stage is refused (discard the lot instead).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hold_lot(
        &self,
        product_code: &str,
        lot_number: &str,
        status: vaxgrid_core::dose::LotStatus,
        reason: &str,
        vvm_stage: Option<u8>,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        use vaxgrid_core::dose::LotStatus;
        let reason = text("reason", reason, 500)?;
        if let Some(stage) = vvm_stage {
            if !(1..=4).contains(&stage) {
                return Err(StoreError::invalid(
                    "vvm_stage",
                    format!("a vaccine vial monitor stage is 1 to 4, not {stage}"),
                ));
            }
            if stage >= 3 && status == LotStatus::Released {
                return Err(StoreError::invalid(
                    "vvm_stage",
                    format!(
                        "lot {lot_number} at vaccine vial monitor stage {stage} is past its discard point: it cannot be released; record its wastage instead"
                    ),
                ));
            }
        }
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let row = sqlx::query(&format!(
            "SELECT status FROM lots WHERE product_code = $1 AND lot_number = $2{lock}"
        ))
        .bind(product_code)
        .bind(lot_number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found("lot", "lot_number", &format!("{product_code}/{lot_number}")))?;
        let current: String = row.try_get("status")?;
        if current == LotStatus::Recalled.as_str() && status != LotStatus::Recalled {
            return Err(StoreError::Conflict {
                field: "status",
                message: format!("lot {lot_number} is recalled; a recall is final"),
                existing: None,
            });
        }
        sqlx::query(
            "UPDATE lots SET status = $1, status_reason = $2, vvm_stage = COALESCE($3, vvm_stage) \
             WHERE product_code = $4 AND lot_number = $5",
        )
        .bind(status.as_str())
        .bind(&reason)
        .bind(vvm_stage.map(i64::from))
        .bind(product_code)
        .bind(lot_number)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                status.as_str(),
                "lot",
                &format!("{product_code}/{lot_number}"),
                serde_json::json!({"from": current, "to": status.as_str(), "reason": reason,
                    "vvm_stage": vvm_stage}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The persons in `scope` who got a dose from the lot (not entered in
    /// error, not voided), for a recall. A scan of the doses by lot: rare,
    /// and kept off the dose writer's indexes on purpose.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn persons_dosed_from_lot(
        &self,
        product_code: &str,
        lot_number: &str,
        scope: &Scope,
    ) -> Result<Vec<DosedFromLot>, StoreError> {
        self.lot(product_code, lot_number).await?;
        let rows = sqlx::query(
            "SELECT d.person_id, p.full_name, p.area_path, d.id, d.dose_number, d.site_code, d.administered_on \
             FROM doses d JOIN persons p ON p.id = d.person_id AND p.province_code = d.province_code \
             WHERE d.product_code = $1 AND d.lot_number = $2 AND d.kind = 'administered' \
             AND NOT EXISTS (SELECT 1 FROM doses c WHERE c.corrects_id = d.id AND c.province_code = d.province_code) \
             ORDER BY d.administered_on, d.id",
        )
        .bind(product_code)
        .bind(lot_number)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let path: String = r.try_get("area_path")?;
            let person_id: String = r.try_get("person_id")?;
            if !scope.covers_person(&person_id, &path) {
                continue;
            }
            out.push(DosedFromLot {
                person_id,
                full_name: r.try_get("full_name")?,
                dose_id: r.try_get("id")?,
                dose_number: r.try_get("dose_number")?,
                site_code: r.try_get("site_code")?,
                administered_on: r.try_get("administered_on")?,
            });
        }
        Ok(out)
    }
}

/// The kinds of cold-chain equipment a store keeps vaccine in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    Refrigerator,
    Freezer,
    ColdBox,
    VaccineCarrier,
}

impl EquipmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EquipmentKind::Refrigerator => "refrigerator",
            EquipmentKind::Freezer => "freezer",
            EquipmentKind::ColdBox => "cold_box",
            EquipmentKind::VaccineCarrier => "vaccine_carrier",
        }
    }

    pub fn parse(s: &str) -> Option<EquipmentKind> {
        [
            EquipmentKind::Refrigerator,
            EquipmentKind::Freezer,
            EquipmentKind::ColdBox,
            EquipmentKind::VaccineCarrier,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A piece of cold-chain equipment to add to a store.
#[derive(Debug, Clone)]
pub struct NewEquipment {
    pub id: String,
    pub store_code: String,
    pub kind: EquipmentKind,
    /// The allowed range, checked by `cold_chain::Range::new`.
    pub range: vaxgrid_core::supply::cold_chain::Range,
    pub capacity_doses: Option<u64>,
    pub working: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equipment {
    pub id: String,
    pub store_code: String,
    pub kind: EquipmentKind,
    pub min_tenths: i32,
    pub max_tenths: i32,
    pub capacity_doses: Option<u64>,
    pub working: bool,
}

fn equipment_from_row(r: &sqlx::any::AnyRow) -> Result<Equipment, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(Equipment {
        id: r.try_get("id")?,
        store_code: r.try_get("store_code")?,
        kind: EquipmentKind::parse(&kind).unwrap_or(EquipmentKind::Refrigerator),
        min_tenths: i32::try_from(r.try_get::<i64, _>("min_tenths")?).unwrap_or(0),
        max_tenths: i32::try_from(r.try_get::<i64, _>("max_tenths")?).unwrap_or(0),
        capacity_doses: r
            .try_get::<Option<i64>, _>("capacity_doses")?
            .map(|v| u64::try_from(v).unwrap_or(0)),
        working: r.try_get::<i64, _>("working")? != 0,
    })
}

const EQUIPMENT_COLUMNS: &str =
    "id, store_code, kind, min_tenths, max_tenths, capacity_doses, working";

/// One line of a store's ledger, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementRecord {
    pub id: String,
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    pub kind: String,
    pub quantity: u64,
    pub delta: i64,
    pub details: serde_json::Value,
    pub actor: String,
    /// Microseconds since the epoch.
    pub recorded_at: i64,
}

impl Store {
    /// Every store whose area is in `scope`, by code.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stock_stores(&self, scope: &Scope) -> Result<Vec<StockStore>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s JOIN areas a ON a.code = s.area_code ORDER BY s.code"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let s = store_from_row(r)?;
            if scope.covers_path(&s.area_path) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The store that holds a vaccination site's own stock, if it has one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_of_site(&self, site_code: &str) -> Result<Option<StockStore>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s JOIN areas a ON a.code = s.area_code \
             WHERE s.site_code = $1 ORDER BY s.code LIMIT 1"
        ))
        .bind(site_code)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(store_from_row).transpose()
    }

    /// The doses on hand at a site's own store, by (product, lot), or None
    /// when the site has no store (its stock is not tracked: the dose
    /// writer decrements nothing there). What the vaccination table's lot
    /// picker offers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site_stock(&self, site_code: &str) -> Result<Option<SiteStock>, StoreError> {
        let Some(store) = self.store_of_site(site_code).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT product_code, lot_number, on_hand FROM stock_on_hand \
             WHERE province_code = $1 AND store_code = $2",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            out.insert(
                (r.try_get("product_code")?, r.try_get("lot_number")?),
                u64::try_from(r.try_get::<i64, _>("on_hand")?).unwrap_or(0),
            );
        }
        Ok(Some(out))
    }

    /// Adds cold-chain equipment to a store in the actor's scope (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_equipment(
        &self,
        new: &NewEquipment,
        actor: &Actor,
    ) -> Result<Equipment, StoreError> {
        let store = self.stock_store(&new.store_code, &actor.scope).await?;
        let capacity = new
            .capacity_doses
            .map(i64::try_from)
            .transpose()
            .map_err(|_| StoreError::invalid("capacity_doses", "too large"))?;
        if capacity == Some(0) {
            return Err(StoreError::invalid(
                "capacity_doses",
                "a capacity must be above 0 doses (leave it out when unknown)",
            ));
        }
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO cold_chain_equipment (id, store_code, kind, min_tenths, max_tenths, capacity_doses, working, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&store.code)
        .bind(new.kind.as_str())
        .bind(i64::from(new.range.min_tenths))
        .bind(i64::from(new.range.max_tenths))
        .bind(capacity)
        .bind(i64::from(new.working))
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("equipment {} already exists", new.id),
                existing: Some(format!("/api/v1/equipment/{}", new.id)),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "cold_chain_equipment",
                &new.id,
                serde_json::json!({"store_code": store.code, "kind": new.kind.as_str(),
                    "min_tenths": new.range.min_tenths, "max_tenths": new.range.max_tenths,
                    "capacity_doses": new.capacity_doses, "working": new.working}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.equipment(&new.id, &Scope::All).await
    }

    /// One piece of equipment, if its store is in `scope` (else NotFound).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn equipment(&self, id: &str, scope: &Scope) -> Result<Equipment, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {EQUIPMENT_COLUMNS} FROM cold_chain_equipment WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("equipment", "equipment_id", id))?;
        let e = equipment_from_row(&row)?;
        self.stock_store(&e.store_code, scope)
            .await
            .map_err(|_| not_found("equipment", "equipment_id", id))?;
        Ok(e)
    }

    /// The equipment of a store in `scope`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn equipment_of(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<Equipment>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let rows = sqlx::query(&format!(
            "SELECT {EQUIPMENT_COLUMNS} FROM cold_chain_equipment WHERE store_code = $1 ORDER BY id"
        ))
        .bind(&store.code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(equipment_from_row).collect()
    }

    /// Marks equipment working or broken (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_equipment_working(
        &self,
        id: &str,
        working: bool,
        actor: &Actor,
    ) -> Result<Equipment, StoreError> {
        let before = self.equipment(id, &actor.scope).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE cold_chain_equipment SET working = $1 WHERE id = $2")
            .bind(i64::from(working))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                if working { "working" } else { "broken" },
                "cold_chain_equipment",
                id,
                serde_json::json!({"store_code": before.store_code, "from": before.working, "to": working}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.equipment(id, &Scope::All).await
    }

    /// The latest movements of a store in `scope`, newest first, at most
    /// `limit`. The doses the dose writer took from the store appear as one
    /// `dose_given` line per product, lot and UTC day (the day's doses so
    /// far, at the time of the last of them): they are counted on the dose
    /// rows, not written as a movement each.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn movements_of(
        &self,
        store_code: &str,
        scope: &Scope,
        limit: usize,
    ) -> Result<Vec<MovementRecord>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let rows = sqlx::query(
            "SELECT id, store_code, product_code, lot_number, kind, quantity, delta, details, actor, recorded_at \
             FROM stock_movements WHERE province_code = $1 AND store_code = $2 \
             ORDER BY recorded_at DESC, id DESC LIMIT $3",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(i64::try_from(limit).unwrap_or(500))
        .fetch_all(&self.pool)
        .await?;
        let mut movements = rows
            .iter()
            .map(|r| {
                let details: String = r.try_get("details")?;
                Ok(MovementRecord {
                    id: r.try_get("id")?,
                    store_code: r.try_get("store_code")?,
                    product_code: r.try_get("product_code")?,
                    lot_number: r.try_get("lot_number")?,
                    kind: r.try_get("kind")?,
                    quantity: u64::try_from(r.try_get::<i64, _>("quantity")?).unwrap_or(0),
                    delta: r.try_get("delta")?,
                    details: serde_json::from_str(&details).unwrap_or_default(),
                    actor: r.try_get("actor")?,
                    recorded_at: r.try_get("recorded_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let given = sqlx::query(
            "SELECT product_code, lot_number, day, CAST(SUM(given) AS BIGINT) AS given, \
             CAST(MAX(updated_at) AS BIGINT) AS updated_at FROM stock_given_by_day \
             WHERE province_code = $1 AND store_code = $2 GROUP BY product_code, lot_number, day \
             ORDER BY updated_at DESC LIMIT $3",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(i64::try_from(limit).unwrap_or(500))
        .fetch_all(&self.pool)
        .await?;
        for r in &given {
            let (product_code, lot_number, day): (String, String, String) = (
                r.try_get("product_code")?,
                r.try_get("lot_number")?,
                r.try_get("day")?,
            );
            let n: i64 = r.try_get("given")?;
            movements.push(MovementRecord {
                id: format!("doses-given:{day}:{product_code}:{lot_number}"),
                store_code: store.code.clone(),
                product_code,
                lot_number,
                kind: "dose_given".into(),
                quantity: u64::try_from(n).unwrap_or(0),
                delta: -n,
                details: serde_json::json!({"kind": "dose_given", "day": day}),
                actor: "dose writer".into(),
                recorded_at: r.try_get("updated_at")?,
            });
        }
        movements.sort_by(|a, b| (b.recorded_at, &b.id).cmp(&(a.recorded_at, &a.id)));
        movements.truncate(limit);
        Ok(movements)
    }

    /// The stock on hand of one lot at a store in `scope` (0 when it never
    /// moved there).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lot_on_hand(
        &self,
        store_code: &str,
        product_code: &str,
        lot_number: &str,
        scope: &Scope,
    ) -> Result<u64, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let v: Option<i64> = sqlx::query(
            "SELECT on_hand FROM stock_on_hand WHERE province_code = $1 AND store_code = $2 \
             AND product_code = $3 AND lot_number = $4",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(product_code)
        .bind(lot_number)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get("on_hand"))
        .transpose()?;
        Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
    }
}

/// A lot's state for the cold chain: its status, why, and its last
/// vaccine vial monitor stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotHold {
    pub product_code: String,
    pub lot_number: String,
    pub expiry: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub vvm_stage: Option<u8>,
}

/// A physical count of one lot at a store.
#[derive(Debug, Clone)]
pub struct NewCount {
    /// The id of the adjustment it makes, if it makes one.
    pub id: Uuid,
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    /// Doses counted (0 or more).
    pub counted: i64,
    /// Why the count differs from the ledger (needed only when it does).
    pub reason: String,
}

impl Store {
    /// The lot's status, its reason and its VVM stage.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lot_hold(
        &self,
        product_code: &str,
        lot_number: &str,
    ) -> Result<LotHold, StoreError> {
        let r = sqlx::query(
            "SELECT product_code, lot_number, expiry, status, status_reason, vvm_stage FROM lots \
             WHERE product_code = $1 AND lot_number = $2",
        )
        .bind(product_code)
        .bind(lot_number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("lot", "lot_number", &format!("{product_code}/{lot_number}")))?;
        Ok(LotHold {
            product_code: r.try_get("product_code")?,
            lot_number: r.try_get("lot_number")?,
            expiry: r.try_get("expiry")?,
            status: r.try_get("status")?,
            status_reason: r.try_get("status_reason")?,
            vvm_stage: r
                .try_get::<Option<i64>, _>("vvm_stage")?
                .and_then(|v| u8::try_from(v).ok()),
        })
    }

    /// A physical count of one lot at a store: the difference with the
    /// ledger becomes an adjustment (with the count's reason), read and
    /// written in one transaction so no movement slips between. Returns the
    /// adjustment made (`None` when the count agrees) and the on-hand after.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_count(
        &self,
        count: &NewCount,
        actor: &Actor,
    ) -> Result<(Option<Movement>, u64), StoreError> {
        let NewCount {
            id,
            store_code,
            product_code,
            lot_number,
            counted,
            reason,
        } = count;
        let (id, counted) = (*id, *counted);
        let store = self.stock_store(store_code, &actor.scope).await?;
        self.lot(product_code, lot_number)
            .await
            .map_err(|_| not_found("lot", "lot_number", &format!("{product_code}/{lot_number}")))?;
        let mut tx = self.begin_write().await?;
        let now = self.now_micros();
        sqlx::query(
            "INSERT INTO stock_on_hand (province_code, store_code, product_code, lot_number, on_hand, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (province_code, store_code, product_code, lot_number) DO NOTHING",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(product_code)
        .bind(lot_number)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let current: i64 = sqlx::query(&format!(
            "SELECT on_hand FROM stock_on_hand WHERE province_code = $1 AND store_code = $2 \
             AND product_code = $3 AND lot_number = $4{lock}"
        ))
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(product_code)
        .bind(lot_number)
        .fetch_one(&mut *tx)
        .await?
        .try_get("on_hand")?;
        let current = u64::try_from(current).unwrap_or(0);
        let adjustment = ledger::count_adjustment(id, current, counted, reason)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let after = match &adjustment {
            Some(m) => {
                self.apply_movement(&mut tx, &store, product_code, lot_number, m, actor)
                    .await?
            }
            None => {
                audit::append(
                    &mut tx,
                    self.backend,
                    &[AuditEntry::by(
                        actor,
                        "count",
                        "stock_on_hand",
                        &format!("{}/{product_code}/{lot_number}", store.code),
                        serde_json::json!({"counted": counted, "on_hand": current}),
                    )],
                )
                .await?;
                current
            }
        };
        tx.commit().await?;
        Ok((adjustment, after))
    }
}

impl Store {
    /// The shipments leaving or reaching a store in `scope`, newest first
    /// (at most `limit`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn shipments_of(
        &self,
        store_code: &str,
        scope: &Scope,
        limit: usize,
    ) -> Result<Vec<Shipment>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let rows = sqlx::query(&format!(
            "SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE from_store = $1 OR to_store = $1 \
             ORDER BY dispatched_at DESC, id DESC LIMIT $2"
        ))
        .bind(&store.code)
        .bind(i64::try_from(limit).unwrap_or(500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(shipment_from_row).collect()
    }
}

impl Store {
    /// Whether the lot has moved at a store in `scope` (what an area's
    /// cold-chain officer may quarantine or release).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lot_stocked_in(
        &self,
        product_code: &str,
        lot_number: &str,
        scope: &Scope,
    ) -> Result<bool, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT h.store_code, a.path FROM stock_on_hand h JOIN stores s ON s.code = h.store_code \
             JOIN areas a ON a.code = s.area_code WHERE h.product_code = $1 AND h.lot_number = $2",
        )
        .bind(product_code)
        .bind(lot_number)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let path: String = r.try_get("path")?;
            if scope.covers_path(&path) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// One store × lot counter: the store, the product and the lot.
struct StockKey<'a> {
    store: &'a StockStore,
    product_code: &'a str,
    lot_number: &'a str,
}

/// Writes the movement's row; its id, or a conflict when that id is
/// already recorded.
async fn insert_movement(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &StockKey<'_>,
    movement: &Movement,
    details: &serde_json::Value,
    actor: &Actor,
    now: i64,
) -> Result<String, StoreError> {
    let id = movement.id.to_string();
    let delta = i64::try_from(movement.delta())
        .map_err(|_| StoreError::invalid("quantity", "too large"))?;
    let quantity = i64::try_from(movement.quantity)
        .map_err(|_| StoreError::invalid("quantity", "too large"))?;
    let inserted = sqlx::query(
        "INSERT INTO stock_movements (id, province_code, store_code, product_code, lot_number, kind, \
         quantity, delta, details, actor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id, province_code) DO NOTHING",
    )
    .bind(&id)
    .bind(&key.store.province_code)
    .bind(&key.store.code)
    .bind(key.product_code)
    .bind(key.lot_number)
    .bind(movement.kind.as_str())
    .bind(quantity)
    .bind(delta)
    .bind(details.to_string())
    .bind(&actor.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("movement {id} is already recorded"),
            existing: Some(format!("/api/v1/stores/{}/movements/{id}", key.store.code)),
        });
    }
    Ok(id)
}

/// Sets the store × lot counter to `after`.
async fn set_on_hand(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &StockKey<'_>,
    after: u64,
    now: i64,
) -> Result<(), StoreError> {
    let after = i64::try_from(after).map_err(|_| StoreError::invalid("quantity", "too large"))?;
    sqlx::query(
        "UPDATE stock_on_hand SET on_hand = $1, updated_at = $2 WHERE province_code = $3 \
         AND store_code = $4 AND product_code = $5 AND lot_number = $6",
    )
    .bind(after)
    .bind(now)
    .bind(&key.store.province_code)
    .bind(&key.store.code)
    .bind(key.product_code)
    .bind(key.lot_number)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
