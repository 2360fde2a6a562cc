//! Ancillary supplies: syringes and safety boxes kept per store beside the
//! vaccine, with their own append-only ledger (`item_movements`) and
//! on-hand counter (`item_on_hand`, `CHECK (on_hand >= 0)`), linked to a
//! product by a ratio (`item_ratios`, `supply::ancillary`). A shipment of
//! vaccine carries the pieces its doses need, as far as the sending store
//! has them; the receiving store takes them in when it receives the
//! vaccine. A store is warned of the pieces it lacks for its vaccine.

use std::collections::BTreeMap;

use sqlx::Row;
use uuid::Uuid;
use vaxgrid_core::supply::ancillary::{self, ItemKind, Ratio, Shortfall, Unit};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::supply::{NewShipment, StockStore};
use crate::{Backend, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplyItem {
    pub code: String,
    pub name: String,
    pub kind: ItemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOnHand {
    pub item_code: String,
    pub on_hand: u64,
}

/// Why pieces move at a store (shipments move them with the vaccine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemMove {
    Receipt,
    /// Used or thrown away (filled safety boxes, broken syringes).
    Issue,
    AdjustUp,
    AdjustDown,
}

impl ItemMove {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemMove::Receipt => "receipt",
            ItemMove::Issue => "issue",
            ItemMove::AdjustUp => "adjustment_up",
            ItemMove::AdjustDown => "adjustment_down",
        }
    }

    fn sign(self) -> i64 {
        match self {
            ItemMove::Receipt | ItemMove::AdjustUp => 1,
            ItemMove::Issue | ItemMove::AdjustDown => -1,
        }
    }
}

fn not_found(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

impl Store {
    /// Adds an ancillary item (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_item(
        &self,
        code: &str,
        name: &str,
        kind: ItemKind,
        actor: &Actor,
    ) -> Result<SupplyItem, StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO supply_items (code, name, kind, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(code)
        .bind(name)
        .bind(kind.as_str())
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("item {code} already exists"),
                existing: Some("/api/v1/supply-items".into()),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "supply_item",
                code,
                serde_json::json!({"name": name, "kind": kind.as_str()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(SupplyItem {
            code: code.into(),
            name: name.into(),
            kind,
        })
    }

    /// Every ancillary item, by code.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn items(&self) -> Result<Vec<SupplyItem>, StoreError> {
        sqlx::query("SELECT code, name, kind FROM supply_items ORDER BY code")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(SupplyItem {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    kind: ItemKind::parse(&r.try_get::<String, _>("kind")?)
                        .unwrap_or(ItemKind::AdSyringe),
                })
            })
            .collect()
    }

    async fn item(&self, code: &str) -> Result<SupplyItem, StoreError> {
        self.items()
            .await?
            .into_iter()
            .find(|i| i.code == code)
            .ok_or_else(|| not_found("item", "item_code", code))
    }

    /// Links an item to a product by a ratio, replacing an earlier one
    /// (audited). A syringe is counted per dose or vial, a safety box per
    /// dose, vial or syringe.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_ratio(
        &self,
        product_code: &str,
        item_code: &str,
        quantity: i64,
        per: i64,
        unit: Unit,
        actor: &Actor,
    ) -> Result<Ratio, StoreError> {
        self.product(product_code)
            .await
            .map_err(|_| not_found("product", "product_code", product_code))?;
        let item = self.item(item_code).await?;
        let ratio = Ratio::new(item_code, item.kind, quantity, per, unit)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM item_ratios WHERE product_code = $1 AND item_code = $2")
            .bind(product_code)
            .bind(item_code)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO item_ratios (product_code, item_code, quantity, per, unit) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(product_code)
        .bind(item_code)
        .bind(i64::from(ratio.quantity))
        .bind(i64::from(ratio.per))
        .bind(unit.as_str())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set_ratio",
                "item_ratio",
                &format!("{product_code}/{item_code}"),
                serde_json::json!({"quantity": ratio.quantity, "per": ratio.per, "unit": unit.as_str()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(ratio)
    }

    /// The ratios of a product's ancillary items.
    pub async fn ratios_of(&self, product_code: &str) -> Result<Vec<Ratio>, StoreError> {
        self.ratios_on(&self.pool, product_code).await
    }

    async fn ratios_on<'c, E>(&self, conn: E, product_code: &str) -> Result<Vec<Ratio>, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        sqlx::query(
            "SELECT r.item_code, i.kind, r.quantity, r.per, r.unit FROM item_ratios r \
             JOIN supply_items i ON i.code = r.item_code WHERE r.product_code = $1 ORDER BY r.item_code",
        )
        .bind(product_code)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Ratio {
                item_code: r.try_get("item_code")?,
                kind: ItemKind::parse(&r.try_get::<String, _>("kind")?)
                    .unwrap_or(ItemKind::AdSyringe),
                quantity: u32::try_from(r.try_get::<i64, _>("quantity")?).unwrap_or(1),
                per: u32::try_from(r.try_get::<i64, _>("per")?).unwrap_or(1),
                unit: Unit::parse(&r.try_get::<String, _>("unit")?).unwrap_or(Unit::Dose),
            })
        })
        .collect()
    }

    /// Inside a write transaction: moves `delta` pieces of an item at a
    /// store, refusing to go below zero, with the movement and audit rows.
    async fn item_move_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        m: &ItemMovement<'_>,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let now = self.now_micros();
        let current = self.lock_item_on_hand(tx, m, now).await?;
        let after = item_on_hand_after(current, m)?;
        let id = Uuid::now_v7().to_string();
        insert_item_movement(tx, m, &id, actor, now).await?;
        sqlx::query(
            "UPDATE item_on_hand SET on_hand = $1, updated_at = $2 WHERE province_code = $3 \
             AND store_code = $4 AND item_code = $5",
        )
        .bind(after)
        .bind(now)
        .bind(&m.store.province_code)
        .bind(&m.store.code)
        .bind(m.item_code)
        .execute(&mut **tx)
        .await?;
        audit::append(
            tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                m.kind,
                "item_movement",
                &id,
                serde_json::json!({"store_code": m.store.code, "item_code": m.item_code,
                    "delta": m.delta, "shipment_id": m.shipment_id, "details": m.details, "on_hand": after}),
            )],
        )
        .await?;
        Ok(u64::try_from(after).unwrap_or(0))
    }

    /// The store × item counter, made at 0 when missing and locked until
    /// the commit: its current on-hand.
    async fn lock_item_on_hand(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        m: &ItemMovement<'_>,
        now: i64,
    ) -> Result<i64, StoreError> {
        sqlx::query(
            "INSERT INTO item_on_hand (province_code, store_code, item_code, on_hand, updated_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT (province_code, store_code, item_code) DO NOTHING",
        )
        .bind(&m.store.province_code)
        .bind(&m.store.code)
        .bind(m.item_code)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        Ok(sqlx::query(&format!(
            "SELECT on_hand FROM item_on_hand WHERE province_code = $1 AND store_code = $2 AND item_code = $3{lock}"
        ))
        .bind(&m.store.province_code)
        .bind(&m.store.code)
        .bind(m.item_code)
        .fetch_one(&mut **tx)
        .await?
        .try_get("on_hand")?)
    }

    /// Records pieces of an item received, issued or adjusted at a store in
    /// the actor's scope. Returns the on-hand after.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_item_movement(
        &self,
        store_code: &str,
        item_code: &str,
        kind: ItemMove,
        quantity: u64,
        note: &str,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let store = self.stock_store(store_code, &actor.scope).await?;
        self.item(item_code).await?;
        let q = i64::try_from(quantity)
            .ok()
            .filter(|q| *q > 0)
            .ok_or_else(|| StoreError::invalid("quantity", "must be above 0"))?;
        let mut tx = self.begin_write().await?;
        let after = self
            .item_move_in_tx(
                &mut tx,
                &ItemMovement {
                    store: &store,
                    item_code,
                    kind: kind.as_str(),
                    delta: q * kind.sign(),
                    shipment_id: None,
                    details: serde_json::json!({"note": note}),
                },
                actor,
            )
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The pieces of each item on hand at a store in `scope`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn item_stock(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<ItemOnHand>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        sqlx::query(
            "SELECT item_code, on_hand FROM item_on_hand WHERE province_code = $1 AND store_code = $2 ORDER BY item_code",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ItemOnHand {
                item_code: r.try_get("item_code")?,
                on_hand: u64::try_from(r.try_get::<i64, _>("on_hand")?).unwrap_or(0),
            })
        })
        .collect()
    }

    /// The items a store in `scope` lacks for the vaccine it holds (all
    /// lots of each product, by the products' ratios).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn item_shortfalls(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<Shortfall>, StoreError> {
        let stock = self.stock_on_hand(store_code, scope).await?;
        let mut doses: BTreeMap<String, u64> = BTreeMap::new();
        for s in &stock {
            *doses.entry(s.product_code.clone()).or_default() += s.on_hand;
        }
        let mut needed = Vec::new();
        for (product, d) in doses {
            let dpv = self.product(&product).await?.doses_per_vial;
            needed.extend(ancillary::needs(d, dpv, &self.ratios_of(&product).await?));
        }
        let have: Vec<(String, u64)> = self
            .item_stock(store_code, scope)
            .await?
            .into_iter()
            .map(|i| (i.item_code, i.on_hand))
            .collect();
        Ok(ancillary::shortfalls(&needed, &have))
    }

    /// Inside a shipment's dispatch: the pieces its doses need leave the
    /// sending store with it, as far as the store has them (what it lacks
    /// is its shortfall, shown to the planner; the vaccine still goes).
    pub(crate) async fn ship_items_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        from: &StockStore,
        shipment: &NewShipment,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let ratios = self.ratios_on(&mut **tx, &shipment.product_code).await?;
        if ratios.is_empty() {
            return Ok(());
        }
        let dpv: i64 = sqlx::query("SELECT doses_per_vial FROM products WHERE code = $1")
            .bind(&shipment.product_code)
            .fetch_one(&mut **tx)
            .await?
            .try_get("doses_per_vial")?;
        let needs = ancillary::needs(shipment.quantity, u32::try_from(dpv).unwrap_or(1), &ratios);
        let sid = shipment.id.to_string();
        for (item, n) in needs {
            let have: i64 = sqlx::query(
                "SELECT on_hand FROM item_on_hand WHERE province_code = $1 AND store_code = $2 AND item_code = $3",
            )
            .bind(&from.province_code)
            .bind(&from.code)
            .bind(&item)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("on_hand"))
            .transpose()?
            .unwrap_or(0);
            let send = i64::try_from(n).unwrap_or(i64::MAX).min(have);
            if send > 0 {
                self.item_move_in_tx(
                    tx,
                    &ItemMovement {
                        store: from,
                        item_code: &item,
                        kind: "shipment_dispatched",
                        delta: -send,
                        shipment_id: Some(&sid),
                        details: serde_json::json!({"needed": n, "to_store": shipment.to_store}),
                    },
                    actor,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Inside a shipment's receipt: the pieces dispatched with it enter the
    /// receiving store.
    pub(crate) async fn receive_items_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        to: &StockStore,
        shipment_id: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT item_code, quantity FROM item_movements WHERE shipment_id = $1 AND kind = 'shipment_dispatched' \
             ORDER BY item_code",
        )
        .bind(shipment_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            let item: String = r.try_get("item_code")?;
            let q: i64 = r.try_get("quantity")?;
            self.item_move_in_tx(
                tx,
                &ItemMovement {
                    store: to,
                    item_code: &item,
                    kind: "shipment_received",
                    delta: q,
                    shipment_id: Some(shipment_id),
                    details: serde_json::json!({}),
                },
                actor,
            )
            .await?;
        }
        Ok(())
    }

    /// The pieces of each item that left with a shipment.
    pub async fn items_of_shipment(
        &self,
        shipment_id: &str,
    ) -> Result<Vec<ItemOnHand>, StoreError> {
        sqlx::query(
            "SELECT item_code, quantity FROM item_movements WHERE shipment_id = $1 AND kind = 'shipment_dispatched' \
             ORDER BY item_code",
        )
        .bind(shipment_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ItemOnHand {
                item_code: r.try_get("item_code")?,
                on_hand: u64::try_from(r.try_get::<i64, _>("quantity")?).unwrap_or(0),
            })
        })
        .collect()
    }

    /// Differences between the item counters and their ledger.
    pub async fn check_items(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(
            "SELECT h.province_code, h.store_code, h.item_code, h.on_hand, \
             (SELECT CAST(COALESCE(SUM(m.delta), 0) AS BIGINT) FROM item_movements m WHERE m.province_code = h.province_code \
              AND m.store_code = h.store_code AND m.item_code = h.item_code) AS total FROM item_on_hand h",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let (on_hand, total): (i64, i64) = (r.try_get("on_hand")?, r.try_get("total")?);
            if on_hand != total {
                out.push(format!(
                    "item_on_hand ({}, {}, {}): stored {on_hand}, recount {total}",
                    r.try_get::<String, _>("province_code")?,
                    r.try_get::<String, _>("store_code")?,
                    r.try_get::<String, _>("item_code")?
                ));
            }
        }
        Ok(out)
    }
}

/// Pieces of an item moving at a store.
struct ItemMovement<'a> {
    store: &'a StockStore,
    item_code: &'a str,
    /// The movement's kind as stored (`received`, `shipment_dispatched`, …).
    kind: &'a str,
    /// Pieces in (positive) or out (negative).
    delta: i64,
    shipment_id: Option<&'a str>,
    details: serde_json::Value,
}

/// The on-hand after the movement; refused when it would go below zero.
fn item_on_hand_after(current: i64, m: &ItemMovement<'_>) -> Result<i64, StoreError> {
    current
        .checked_add(m.delta)
        .filter(|a| *a >= 0)
        .ok_or_else(|| {
            StoreError::invalid(
                "quantity",
                format!(
                    "only {current} pieces of {} are on hand at store {}; {} cannot leave",
                    m.item_code, m.store.code, -m.delta
                ),
            )
        })
}

/// Writes the movement's row.
async fn insert_item_movement(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    m: &ItemMovement<'_>,
    id: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO item_movements (id, province_code, store_code, item_code, kind, quantity, delta, \
         shipment_id, details, actor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(&m.store.province_code)
    .bind(&m.store.code)
    .bind(m.item_code)
    .bind(m.kind)
    .bind(m.delta.abs())
    .bind(m.delta)
    .bind(m.shipment_id)
    .bind(m.details.to_string())
    .bind(&actor.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_may_not_leave_a_store_that_lacks_them() {
        let store = StockStore {
            code: "K-01".into(),
            name: "Kho huyện".into(),
            area_code: "001".into(),
            area_path: "/01/001/".into(),
            parent_code: None,
            site_code: None,
            province_code: "01".into(),
        };
        let out = |delta| ItemMovement {
            store: &store,
            item_code: "AD-05",
            kind: "issued",
            delta,
            shipment_id: None,
            details: serde_json::json!({}),
        };
        assert_eq!(item_on_hand_after(10, &out(-10)).unwrap(), 0);
        assert_eq!(item_on_hand_after(10, &out(5)).unwrap(), 15);
        assert_eq!(
            item_on_hand_after(10, &out(-11)).unwrap_err().to_string(),
            "quantity: only 10 pieces of AD-05 are on hand at store K-01; 11 cannot leave"
        );
    }
}
