//! Open multi-dose vials at a store: each `vial_opened` movement opens a
//! pool of doses (vials × doses per vial) usable until the product's
//! open-vial time limit. The doses given at the store empty the pools in
//! the order `supply::vial::take_from_pools` gives, counted on the pool's
//! row (`taken`) in the transaction that records them: the dose writer's
//! batch, or a `dose_given` movement of the ledger. At the limit the doses
//! left become `open_vial_unused` wastage.
//!
//! Closing is idempotent and done twice over: lazily whenever a store's
//! open vials are read, and by the sweep `vaxgrid serve` runs. Each pool
//! is closed in one write transaction that re-reads it (locked on
//! PostgreSQL; SQLite's write transaction is exclusive) and skips it when
//! already closed; the wastage movement's id is derived from the pool's,
//! so it cannot be written twice either.

use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;
use vaxgrid_core::supply::ledger::{Movement, MovementKind, WastageReason};
use vaxgrid_core::supply::vial::{next_pool, take_from_pools, OpenVial, Pool};

use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::supply::{NewMovement, StockStore};
use crate::{Backend, Store};

/// Vials opened together at a store, as the vaccinator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVialRow {
    pub id: String,
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    /// Doses the vials held when opened.
    pub doses: u64,
    /// Doses still in them now (0 once closed).
    pub doses_left: u64,
    pub opened_at: OffsetDateTime,
    /// Doses must be taken before this instant.
    pub discard_at: OffsetDateTime,
    /// Closed at the limit (then `wasted` doses were recorded as wastage).
    pub closed: bool,
    pub wasted: Option<u64>,
    /// The vial to take the next dose of this lot from.
    pub next: bool,
}

fn instant(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

struct Raw {
    id: String,
    opened_at: i64,
    discard_at: i64,
    doses: u64,
    taken: u64,
    closed_at: Option<i64>,
    wasted: Option<u64>,
}

impl Raw {
    fn pool(&self) -> Pool {
        Pool {
            opened_at: self.opened_at,
            discard_at: self.discard_at,
            doses: self.doses,
            taken: self.taken,
        }
    }
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The movement id of a pool's wastage: the same pool always gives the
/// same id, so a second close cannot record it again.
fn wastage_id(pool_id: &str) -> Uuid {
    let base = Uuid::parse_str(pool_id).unwrap_or(Uuid::nil());
    Uuid::new_v5(&base, b"open_vial_unused")
}

impl Store {
    /// Inside the `vial_opened` movement's transaction: the pool it opens,
    /// with the product's open-vial limit.
    pub(crate) async fn open_vial_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        store: &StockStore,
        new: &NewMovement,
        doses_per_vial: u32,
    ) -> Result<(), StoreError> {
        let hours: i64 =
            sqlx::query("SELECT open_vial_discard_hours FROM products WHERE code = $1")
                .bind(&new.product_code)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get("open_vial_discard_hours"))
                .transpose()?
                .unwrap_or(0);
        let now = self.now_micros();
        let vial = OpenVial::open(
            &new.lot_number,
            doses_per_vial,
            u32::try_from(hours).unwrap_or(0),
            instant(now),
        )
        .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let discard_at = now + (vial.discard_at - vial.opened_at).whole_microseconds() as i64;
        let doses = new
            .movement
            .quantity
            .checked_mul(u64::from(doses_per_vial))
            .and_then(|d| i64::try_from(d).ok())
            .ok_or_else(|| StoreError::invalid("quantity", "too many vials"))?;
        sqlx::query(
            "INSERT INTO open_vials (id, province_code, store_code, product_code, lot_number, doses, opened_at, discard_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.movement.id.to_string())
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(&new.product_code)
        .bind(&new.lot_number)
        .bind(doses)
        .bind(now)
        .bind(discard_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The pools of a store × lot still open or closed since
    /// `closed_since`, in opening order.
    async fn pools_of(
        &self,
        conn: &mut sqlx::AnyConnection,
        store: &StockStore,
        product_code: &str,
        lot_number: &str,
        closed_since: i64,
    ) -> Result<Vec<Raw>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, opened_at, discard_at, doses, taken, closed_at, wasted FROM open_vials \
             WHERE province_code = $1 AND store_code = $2 AND product_code = $3 AND lot_number = $4 \
             AND (closed_at IS NULL OR closed_at >= $5) ORDER BY opened_at, id",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(product_code)
        .bind(lot_number)
        .bind(closed_since)
        .fetch_all(&mut *conn)
        .await?;
        let mut raws = Vec::with_capacity(rows.len());
        for r in &rows {
            raws.push(Raw {
                id: r.try_get("id")?,
                opened_at: r.try_get("opened_at")?,
                discard_at: r.try_get("discard_at")?,
                doses: count(r.try_get("doses")?),
                taken: count(r.try_get("taken")?),
                closed_at: r.try_get("closed_at")?,
                wasted: r.try_get::<Option<i64>, _>("wasted")?.map(count),
            });
        }
        Ok(raws)
    }

    /// Inside a `dose_given` movement's transaction: takes its doses from
    /// the store × lot's open vials at `now`, as the dose writer does for
    /// the doses it records.
    pub(crate) async fn take_from_open_vials_in_tx(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        store: &StockStore,
        product_code: &str,
        lot_number: &str,
        doses: u64,
        now: i64,
    ) -> Result<(), StoreError> {
        let raws: Vec<Raw> = self
            .pools_of(tx, store, product_code, lot_number, i64::MAX)
            .await?;
        let mut pools: Vec<Pool> = raws.iter().map(Raw::pool).collect();
        for (i, n) in take_from_pools(&mut pools, now, doses) {
            sqlx::query(crate::doses::VIAL_TAKE)
                .bind(i64::try_from(n).unwrap_or(i64::MAX))
                .bind(&raws[i].id)
                .bind(&store.province_code)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Closes the pools of a store × lot past their limit at `now`: the
    /// doses left at the limit become `open_vial_unused` wastage (as many
    /// as are still on hand). Returns the doses recorded as wastage.
    async fn close_due_of(
        &self,
        store: &StockStore,
        product_code: &str,
        lot_number: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let actor = Actor::system("open-vial limit");
        let mut tx = self.begin_write().await?;
        let raws = self
            .pools_of(&mut tx, store, product_code, lot_number, i64::MAX)
            .await?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let mut wasted_total = 0u64;
        for raw in &raws {
            if raw.closed_at.is_some() || raw.discard_at > now {
                continue;
            }
            // Re-read under the lock: the dose writer may have taken doses
            // from it since.
            let still_open: Option<i64> = sqlx::query(&format!(
                "SELECT taken FROM open_vials WHERE id = $1 AND province_code = $2 AND closed_at IS NULL{lock}"
            ))
            .bind(&raw.id)
            .bind(&store.province_code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("taken"))
            .transpose()?;
            let Some(taken) = still_open else {
                continue;
            };
            let left = raw.doses.saturating_sub(count(taken));
            let on_hand: i64 = sqlx::query(&format!(
                "SELECT on_hand FROM stock_on_hand WHERE province_code = $1 AND store_code = $2 \
                 AND product_code = $3 AND lot_number = $4{lock}"
            ))
            .bind(&store.province_code)
            .bind(&store.code)
            .bind(product_code)
            .bind(lot_number)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("on_hand"))
            .transpose()?
            .unwrap_or(0);
            let wasted = left.min(u64::try_from(on_hand).unwrap_or(0));
            if wasted > 0 {
                let movement = Movement {
                    id: wastage_id(&raw.id),
                    kind: MovementKind::Wastage {
                        reason: WastageReason::OpenVialUnused,
                    },
                    quantity: wasted,
                };
                self.apply_movement(&mut tx, store, product_code, lot_number, &movement, &actor)
                    .await?;
            }
            sqlx::query(
                "UPDATE open_vials SET closed_at = $1, wasted = $2 WHERE id = $3 AND province_code = $4 \
                 AND closed_at IS NULL",
            )
            .bind(now)
            .bind(i64::try_from(wasted).unwrap_or(0))
            .bind(&raw.id)
            .bind(&store.province_code)
            .execute(&mut *tx)
            .await?;
            wasted_total += wasted;
        }
        tx.commit().await?;
        Ok(wasted_total)
    }

    /// The open vials of a store in `scope`, still open or closed within
    /// the last day, each with its doses left now; the ones past their
    /// limit are closed first (their rest recorded as wastage).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_vials(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<OpenVialRow>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let now = self.now_micros();
        let due = sqlx::query(
            "SELECT DISTINCT product_code, lot_number FROM open_vials WHERE province_code = $1 \
             AND store_code = $2 AND closed_at IS NULL AND discard_at <= $3",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        for r in &due {
            let (p, l): (String, String) = (r.try_get("product_code")?, r.try_get("lot_number")?);
            self.close_due_of(&store, &p, &l, now).await?;
        }
        let day = 86_400_000_000i64;
        let lots = sqlx::query(
            "SELECT DISTINCT product_code, lot_number FROM open_vials WHERE province_code = $1 \
             AND store_code = $2 AND (closed_at IS NULL OR closed_at > $3) ORDER BY product_code, lot_number",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .bind(now - day)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for r in &lots {
            let (p, l): (String, String) = (r.try_get("product_code")?, r.try_get("lot_number")?);
            let raws = self.pools_of(&mut conn, &store, &p, &l, now - day).await?;
            let open: Vec<Pool> = raws
                .iter()
                .map(|r| Pool {
                    // A closed pool is never the next.
                    doses: if r.closed_at.is_some() { 0 } else { r.doses },
                    ..r.pool()
                })
                .collect();
            let next = next_pool(&open, now);
            for (i, raw) in raws.iter().enumerate() {
                let closed = raw.closed_at.is_some();
                out.push(OpenVialRow {
                    id: raw.id.clone(),
                    store_code: store.code.clone(),
                    product_code: p.clone(),
                    lot_number: l.clone(),
                    doses: raw.doses,
                    doses_left: open[i].left(),
                    opened_at: instant(raw.opened_at),
                    discard_at: instant(raw.discard_at),
                    closed,
                    wasted: raw.wasted,
                    next: next == Some(i),
                });
            }
        }
        Ok(out)
    }

    /// The sweep `vaxgrid serve` runs: closes every pool past its limit at
    /// `now`, recording its rest as wastage. Returns the doses recorded.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close_due_vials(&self) -> Result<u64, StoreError> {
        let now = self.now_micros();
        let due = sqlx::query(
            "SELECT DISTINCT store_code, product_code, lot_number FROM open_vials \
             WHERE closed_at IS NULL AND discard_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0;
        for r in &due {
            let store = self
                .stock_store(&r.try_get::<String, _>("store_code")?, &Scope::All)
                .await?;
            total += self
                .close_due_of(
                    &store,
                    &r.try_get::<String, _>("product_code")?,
                    &r.try_get::<String, _>("lot_number")?,
                    now,
                )
                .await?;
        }
        Ok(total)
    }

    /// Test hook: moves a store's open vials' limit to `discard_at`
    /// (microseconds), as if the hours had passed.
    #[doc(hidden)]
    pub async fn set_vial_limit_for_test(
        &self,
        store_code: &str,
        discard_at: i64,
    ) -> Result<(), StoreError> {
        let store = self.stock_store(store_code, &Scope::All).await?;
        sqlx::query(
            "UPDATE open_vials SET discard_at = $1 WHERE province_code = $2 AND store_code = $3 AND closed_at IS NULL",
        )
        .bind(discard_at)
        .bind(&store.province_code)
        .bind(&store.code)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
