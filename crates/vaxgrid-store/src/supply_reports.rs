//! Reports of the supply: stock on hand by store and by area (rolled up the
//! area tree), days of supply, lots expiring soon, the wastage rate by
//! product and store, and the open excursions — for an area and the areas
//! directly under it, with **one fixed set of statements per page** whatever
//! the number of stores (a province has thousands).
//!
//! Everything is read from counters kept in the movements' transactions:
//! `stock_on_hand` (store × lot) and `stock_daily` (store × UTC day ×
//! product: doses given and wastage), never from the ledger. Each statement
//! joins the page's areas (the *buckets*, `areas c`) to the areas of their
//! subtree by the path range, their stores by area, and the counters by
//! their key's store prefix, as the coverage dashboard does.
//!
//! - **Days of supply** of a product = on hand / mean daily consumption
//!   (doses given + wastage) over the last [`USE_DAYS`] UTC days, today
//!   included; none when nothing was consumed.
//! - **Wastage rate** = wastage / (doses given + wastage) over the last
//!   [`WASTAGE_DAYS`] days; none when nothing was consumed.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;

use crate::cold_chain::StoredExcursion;
use crate::error::StoreError;
use crate::model::Area;
use crate::scope::Scope;
use crate::Store;

/// The days over which the mean daily consumption is taken.
pub const USE_DAYS: i64 = 7;
/// The days over which the wastage rate is taken.
pub const WASTAGE_DAYS: i64 = 30;
/// At most this many stores of an area itself are listed on its page.
const STORES_LISTED: usize = 200;
/// The stores with the highest wastage rate shown for an area's subtree.
const WASTEFUL_LISTED: usize = 10;

/// SQL for the exclusive upper bound of the path of `areas c`.
const UPPER: &str = "substr(c.path, 1, length(c.path) - 1) || '0'";

/// The stock figures of one product (at a store or over an area).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockFigures {
    /// Doses on hand now.
    pub on_hand: i64,
    /// Doses given and wasted over the last [`USE_DAYS`] days.
    pub given_recent: i64,
    pub wasted_recent: i64,
    /// Doses given and wasted over the last [`WASTAGE_DAYS`] days.
    pub given_month: i64,
    pub wasted_month: i64,
}

impl StockFigures {
    /// Mean doses consumed (given + wasted) per day over [`USE_DAYS`].
    pub fn daily_use(&self) -> f64 {
        (self.given_recent + self.wasted_recent) as f64 / USE_DAYS as f64
    }

    /// On hand / mean daily use; none without consumption.
    pub fn days_of_supply(&self) -> Option<f64> {
        let used = self.daily_use();
        (used > 0.0).then(|| self.on_hand as f64 / used)
    }

    /// Wastage / (given + wastage) over [`WASTAGE_DAYS`]; none without
    /// consumption.
    pub fn wastage_rate(&self) -> Option<f64> {
        let all = self.given_month + self.wasted_month;
        (all > 0).then(|| self.wasted_month as f64 / all as f64)
    }

    fn add(&mut self, o: &StockFigures) {
        self.on_hand += o.on_hand;
        self.given_recent += o.given_recent;
        self.wasted_recent += o.wasted_recent;
        self.given_month += o.given_month;
        self.wasted_month += o.wasted_month;
    }
}

/// An area of a supply page: its stores' figures by product, its whole
/// subtree's.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaStock {
    pub code: String,
    pub name: String,
    pub level: String,
    pub path: String,
    /// Stores in the subtree.
    pub stores: i64,
    pub by_product: BTreeMap<String, StockFigures>,
}

impl AreaStock {
    fn of(a: &Area) -> AreaStock {
        AreaStock {
            code: a.code.clone(),
            name: a.name.clone(),
            level: a.level.as_str().to_string(),
            path: a.path.clone(),
            stores: 0,
            by_product: BTreeMap::new(),
        }
    }

    fn add(&mut self, o: &AreaStock) {
        self.stores += o.stores;
        for (p, f) in &o.by_product {
            self.by_product.entry(p.clone()).or_default().add(f);
        }
    }
}

/// A store with its figures by product.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreStock {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub site_code: Option<String>,
    pub by_product: BTreeMap<String, StockFigures>,
}

/// A lot with doses on hand that expires soon (or has expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringLot {
    pub product_code: String,
    pub lot_number: String,
    pub expiry: String,
    pub status: String,
    pub on_hand: i64,
    /// Stores holding some of it.
    pub stores: i64,
}

/// A store holding some of a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotAtStore {
    pub store_code: String,
    pub store_name: String,
    pub area_code: String,
    pub on_hand: i64,
}

/// The supply page of an area.
#[derive(Debug, Clone)]
pub struct SupplyDashboard {
    /// The area, its figures its whole subtree's.
    pub area: AreaStock,
    /// The areas above it, from the province down.
    pub ancestors: Vec<(String, String)>,
    /// The areas directly under it.
    pub children: Vec<AreaStock>,
    /// The stores at the area itself (not in a child), by code.
    pub stores: Vec<StoreStock>,
    /// The stores of the subtree with the highest wastage rate over
    /// [`WASTAGE_DAYS`], worst first (rates above 0 only).
    pub wasteful: Vec<StoreStock>,
    /// Lots with doses on hand in the subtree expiring by the cut-off,
    /// soonest first.
    pub expiring: Vec<ExpiringLot>,
    /// Excursions still open at stores of the subtree, oldest first.
    pub excursions: Vec<StoredExcursion>,
}

/// The first day of the window of `days` days ending today (UTC).
fn since(today: time::Date, days: i64) -> String {
    crate::format_date(today - time::Duration::days(days - 1))
}

fn figures_from(
    r: &sqlx::any::AnyRow,
    f: &mut StockFigures,
    consumption: bool,
) -> Result<(), StoreError> {
    if consumption {
        f.given_recent += r.try_get::<i64, _>("given_recent")?;
        f.wasted_recent += r.try_get::<i64, _>("wasted_recent")?;
        f.given_month += r.try_get::<i64, _>("given_month")?;
        f.wasted_month += r.try_get::<i64, _>("wasted_month")?;
    } else {
        f.on_hand += r.try_get::<i64, _>("on_hand")?;
    }
    Ok(())
}

/// The consumption columns over `stock_consumed k`: `$recent` and `$month`
/// are the first days of the two windows.
fn consumption_columns(recent: usize) -> String {
    format!(
        "CAST(SUM(CASE WHEN k.day >= ${recent} THEN k.given ELSE 0 END) AS BIGINT) AS given_recent, \
         CAST(SUM(CASE WHEN k.day >= ${recent} THEN k.wasted ELSE 0 END) AS BIGINT) AS wasted_recent, \
         CAST(SUM(k.given) AS BIGINT) AS given_month, CAST(SUM(k.wasted) AS BIGINT) AS wasted_month"
    )
}

impl Store {
    /// The supply page of an area the scope covers (else NotFound): the
    /// area and its children with stock on hand, consumption, days of
    /// supply and wastage by product; the stores at the area itself; the
    /// stores of the subtree wasting most; lots on hand expiring within
    /// `expiring_days`; the open excursions.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn supply_dashboard(
        &self,
        area_code: &str,
        expiring_days: i64,
        scope: &Scope,
    ) -> Result<SupplyDashboard, StoreError> {
        let missing = || StoreError::NotFound {
            entity: "area",
            field: "area",
            key: area_code.to_string(),
        };
        let area = self.area(area_code).await.map_err(|_| missing())?;
        if !scope.covers_path(&area.path) {
            return Err(missing());
        }
        let children = self.area_children_all(&area.code).await?;
        let mut by_bucket = self.bucket_stock(&area, &children).await?;
        let mut whole = by_bucket
            .remove(&area.code)
            .unwrap_or_else(|| AreaStock::of(&area));
        let children: Vec<AreaStock> = children
            .iter()
            .map(|c| {
                by_bucket
                    .remove(&c.code)
                    .unwrap_or_else(|| AreaStock::of(c))
            })
            .collect();
        for c in &children {
            whole.add(c);
        }
        let stores = self.stores_at_area(&area.code).await?;
        let wasteful = self.wasteful_stores(&area.path).await?;
        let expiring = self.expiring_lots(&area.path, expiring_days).await?;
        let excursions = self.open_excursions_under(&area.path).await?;
        let ancestors = self.ancestors_of(&area).await?;
        Ok(SupplyDashboard {
            area: whole,
            ancestors,
            children,
            stores,
            wasteful,
            expiring,
            excursions,
        })
    }

    /// Each bucket's figures: a child's over its subtree, the area's own
    /// over the stores at the area itself; the area's whole is their sum
    /// (each counter row read once).
    async fn bucket_stock(
        &self,
        area: &Area,
        children: &[Area],
    ) -> Result<HashMap<String, AreaStock>, StoreError> {
        let mut by_bucket: HashMap<String, AreaStock> = HashMap::new();
        by_bucket.insert(area.code.clone(), AreaStock::of(area));
        for c in children {
            by_bucket.insert(c.code.clone(), AreaStock::of(c));
        }
        for own in [false, true] {
            let buckets = StockBuckets {
                from: bucket_from(own),
                cond: if own {
                    "c.code = $1"
                } else {
                    "c.parent_code = $1"
                },
                area_code: &area.code,
            };
            self.add_store_counts(&buckets, &mut by_bucket).await?;
            self.add_product_stock(&buckets, &mut by_bucket).await?;
        }
        Ok(by_bucket)
    }

    /// Adds each bucket's number of stores.
    async fn add_store_counts(
        &self,
        b: &StockBuckets<'_>,
        by_bucket: &mut HashMap<String, AreaStock>,
    ) -> Result<(), StoreError> {
        let (from, cond) = (&b.from, b.cond);
        let stores = format!(
            "SELECT c.code AS bucket, COUNT(*) AS n {from} JOIN stores s ON s.area_code = a.code \
             WHERE {cond} GROUP BY c.code"
        );
        for r in sqlx::query(&stores)
            .bind(b.area_code)
            .fetch_all(&self.pool)
            .await?
        {
            let b: String = r.try_get("bucket")?;
            if let Some(x) = by_bucket.get_mut(&b) {
                x.stores += r.try_get::<i64, _>("n")?;
            }
        }
        Ok(())
    }

    /// Adds each bucket's on-hand, then its consumption over the two
    /// windows, by product.
    async fn add_product_stock(
        &self,
        b: &StockBuckets<'_>,
        by_bucket: &mut HashMap<String, AreaStock>,
    ) -> Result<(), StoreError> {
        let (from, cond) = (&b.from, b.cond);
        let on_hand = format!(
            "SELECT c.code AS bucket, h.product_code AS product, CAST(SUM(h.on_hand) AS BIGINT) AS on_hand \
             {from} JOIN stores s ON s.area_code = a.code \
             JOIN stock_on_hand h ON h.province_code = s.province_code AND h.store_code = s.code \
             WHERE {cond} GROUP BY c.code, h.product_code"
        );
        let used = format!(
            "SELECT c.code AS bucket, k.product_code AS product, {} \
             {from} JOIN stores s ON s.area_code = a.code \
             JOIN stock_consumed k ON k.province_code = s.province_code AND k.store_code = s.code \
             AND k.day >= $3 WHERE {cond} GROUP BY c.code, k.product_code",
            consumption_columns(2)
        );
        for (sql, consumption) in [(on_hand, false), (used, true)] {
            let mut q = sqlx::query(&sql).bind(b.area_code);
            if consumption {
                q = q
                    .bind(since(self.today(), USE_DAYS))
                    .bind(since(self.today(), WASTAGE_DAYS));
            }
            for r in q.fetch_all(&self.pool).await? {
                let b: String = r.try_get("bucket")?;
                let p: String = r.try_get("product")?;
                if let Some(x) = by_bucket.get_mut(&b) {
                    figures_from(&r, x.by_product.entry(p).or_default(), consumption)?;
                }
            }
        }
        Ok(())
    }

    /// Every child of an area, in path order.
    async fn area_children_all(&self, code: &str) -> Result<Vec<Area>, StoreError> {
        let sql = format!(
            "SELECT {} FROM areas WHERE parent_code = $1 ORDER BY path",
            crate::areas::COLUMNS
        );
        sqlx::query(&sql)
            .bind(code)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(crate::areas::area_from_row)
            .collect()
    }

    /// (code, name) of the areas above `area`, from the province down.
    async fn ancestors_of(&self, area: &Area) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for code in area
            .path
            .trim_matches('/')
            .split('/')
            .filter(|c| !c.is_empty() && *c != area.code)
        {
            let a = self.area(code).await?;
            out.push((a.code, a.name));
        }
        Ok(out)
    }

    /// The stores at an area itself with their figures by product.
    async fn stores_at_area(&self, area_code: &str) -> Result<Vec<StoreStock>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, name, area_code, site_code FROM stores WHERE area_code = $1 ORDER BY code LIMIT $2",
        )
        .bind(area_code)
        .bind(i64::try_from(STORES_LISTED).unwrap_or(200))
        .fetch_all(&self.pool)
        .await?;
        let mut stores: Vec<StoreStock> = Vec::with_capacity(rows.len());
        for r in &rows {
            stores.push(StoreStock {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                area_code: r.try_get("area_code")?,
                site_code: r.try_get("site_code")?,
                by_product: BTreeMap::new(),
            });
        }
        let on_hand = "SELECT s.code AS store, h.product_code AS product, CAST(SUM(h.on_hand) AS BIGINT) AS on_hand \
             FROM stores s JOIN stock_on_hand h ON h.province_code = s.province_code AND h.store_code = s.code \
             WHERE s.area_code = $1 GROUP BY s.code, h.product_code"
            .to_string();
        let used = format!(
            "SELECT s.code AS store, k.product_code AS product, {} \
             FROM stores s JOIN stock_consumed k ON k.province_code = s.province_code AND k.store_code = s.code \
             AND k.day >= $3 WHERE s.area_code = $1 GROUP BY s.code, k.product_code",
            consumption_columns(2)
        );
        let index: HashMap<String, usize> = stores
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.clone(), i))
            .collect();
        for (sql, consumption) in [(on_hand, false), (used, true)] {
            let mut q = sqlx::query(&sql).bind(area_code);
            if consumption {
                q = q
                    .bind(since(self.today(), USE_DAYS))
                    .bind(since(self.today(), WASTAGE_DAYS));
            }
            for r in q.fetch_all(&self.pool).await? {
                let s: String = r.try_get("store")?;
                let p: String = r.try_get("product")?;
                if let Some(i) = index.get(&s) {
                    figures_from(&r, stores[*i].by_product.entry(p).or_default(), consumption)?;
                }
            }
        }
        Ok(stores)
    }

    /// The stores under `path` wasting the most (rate over
    /// [`WASTAGE_DAYS`], by product), worst first.
    async fn wasteful_stores(&self, path: &str) -> Result<Vec<StoreStock>, StoreError> {
        let sql = format!(
            "SELECT s.code AS store, s.name AS name, s.area_code AS area_code, s.site_code AS site_code, \
             k.product_code AS product, {} \
             FROM areas a JOIN stores s ON s.area_code = a.code \
             JOIN stock_consumed k ON k.province_code = s.province_code AND k.store_code = s.code AND k.day >= $4 \
             WHERE a.path >= $1 AND a.path < $2 \
             GROUP BY s.code, s.name, s.area_code, s.site_code, k.product_code HAVING SUM(k.wasted) > 0",
            consumption_columns(3)
        );
        let rows = sqlx::query(&sql)
            .bind(path)
            .bind(subtree_upper_bound(path))
            .bind(since(self.today(), USE_DAYS))
            .bind(since(self.today(), WASTAGE_DAYS))
            .fetch_all(&self.pool)
            .await?;
        let mut lines: Vec<(f64, StoreStock)> = Vec::new();
        for r in &rows {
            let mut f = StockFigures::default();
            figures_from(r, &mut f, true)?;
            let product: String = r.try_get("product")?;
            lines.push((
                f.wastage_rate().unwrap_or(0.0),
                StoreStock {
                    code: r.try_get("store")?,
                    name: r.try_get("name")?,
                    area_code: r.try_get("area_code")?,
                    site_code: r.try_get("site_code")?,
                    by_product: BTreeMap::from([(product, f)]),
                },
            ));
        }
        lines.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.code.cmp(&b.1.code))
                .then_with(|| a.1.by_product.keys().cmp(b.1.by_product.keys()))
        });
        Ok(lines
            .into_iter()
            .take(WASTEFUL_LISTED)
            .map(|(_, s)| s)
            .collect())
    }

    /// Lots with doses on hand at stores under `path` that expire within
    /// `days` days (or have expired), soonest first.
    async fn expiring_lots(&self, path: &str, days: i64) -> Result<Vec<ExpiringLot>, StoreError> {
        let cutoff = crate::format_date(self.today() + time::Duration::days(days.max(0)));
        let rows = sqlx::query(
            "SELECT h.product_code AS product_code, h.lot_number AS lot_number, l.expiry AS expiry, \
             l.status AS status, CAST(SUM(h.on_hand) AS BIGINT) AS on_hand, COUNT(*) AS stores \
             FROM areas a JOIN stores s ON s.area_code = a.code \
             JOIN stock_on_hand h ON h.province_code = s.province_code AND h.store_code = s.code \
             JOIN lots l ON l.product_code = h.product_code AND l.lot_number = h.lot_number \
             WHERE a.path >= $1 AND a.path < $2 AND h.on_hand > 0 AND l.expiry <= $3 \
             GROUP BY h.product_code, h.lot_number, l.expiry, l.status \
             ORDER BY l.expiry, h.product_code, h.lot_number LIMIT 200",
        )
        .bind(path)
        .bind(subtree_upper_bound(path))
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExpiringLot {
                    product_code: r.try_get("product_code")?,
                    lot_number: r.try_get("lot_number")?,
                    expiry: r.try_get("expiry")?,
                    status: r.try_get("status")?,
                    on_hand: r.try_get("on_hand")?,
                    stores: r.try_get("stores")?,
                })
            })
            .collect()
    }

    /// The excursions still open at stores under `path`, oldest first.
    async fn open_excursions_under(&self, path: &str) -> Result<Vec<StoredExcursion>, StoreError> {
        let all = self
            .open_excursions(&Scope::Limited {
                paths: vec![path.to_string()],
                sites: Vec::new(),
                persons: Vec::new(),
            })
            .await?;
        Ok(all)
    }

    /// The figures of one store in `scope` by product (else NotFound).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_stock_figures(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<BTreeMap<String, StockFigures>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let mut out: BTreeMap<String, StockFigures> = BTreeMap::new();
        let on_hand = "SELECT product_code AS product, CAST(SUM(on_hand) AS BIGINT) AS on_hand \
             FROM stock_on_hand WHERE province_code = $1 AND store_code = $2 GROUP BY product_code"
            .to_string();
        let used = format!(
            "SELECT k.product_code AS product, {} FROM stock_consumed k \
             WHERE k.province_code = $1 AND k.store_code = $2 AND k.day >= $4 GROUP BY k.product_code",
            consumption_columns(3)
        );
        for (sql, consumption) in [(on_hand, false), (used, true)] {
            let mut q = sqlx::query(&sql)
                .bind(&store.province_code)
                .bind(&store.code);
            if consumption {
                q = q
                    .bind(since(self.today(), USE_DAYS))
                    .bind(since(self.today(), WASTAGE_DAYS));
            }
            for r in q.fetch_all(&self.pool).await? {
                let p: String = r.try_get("product")?;
                figures_from(&r, out.entry(p).or_default(), consumption)?;
            }
        }
        Ok(out)
    }

    /// The stores in `scope` holding doses of a lot, most first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lot_stores(
        &self,
        product_code: &str,
        lot_number: &str,
        scope: &Scope,
    ) -> Result<Vec<LotAtStore>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.store_code AS store_code, s.name AS name, s.area_code AS area_code, a.path AS path, \
             h.on_hand AS on_hand FROM stock_on_hand h JOIN stores s ON s.code = h.store_code \
             JOIN areas a ON a.code = s.area_code \
             WHERE h.product_code = $1 AND h.lot_number = $2 AND h.on_hand > 0 \
             ORDER BY h.on_hand DESC, h.store_code",
        )
        .bind(product_code)
        .bind(lot_number)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let path: String = r.try_get("path")?;
            if scope.covers_path(&path) {
                out.push(LotAtStore {
                    store_code: r.try_get("store_code")?,
                    store_name: r.try_get("name")?,
                    area_code: r.try_get("area_code")?,
                    on_hand: r.try_get("on_hand")?,
                });
            }
        }
        Ok(out)
    }
}

/// A lot at a store: doses on hand with the lot's expiry, status, its
/// reason and its last VVM stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLot {
    pub product_code: String,
    pub lot_number: String,
    pub on_hand: i64,
    pub expiry: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub vvm_stage: Option<i64>,
}

impl Store {
    /// The lots that have moved at a store in `scope` with their state, in
    /// one statement (soonest to expire first; lots at 0 last).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_lots(
        &self,
        store_code: &str,
        scope: &Scope,
    ) -> Result<Vec<StoreLot>, StoreError> {
        let store = self.stock_store(store_code, scope).await?;
        let rows = sqlx::query(
            "SELECT h.product_code AS product_code, h.lot_number AS lot_number, h.on_hand AS on_hand, \
             l.expiry AS expiry, l.status AS status, l.status_reason AS status_reason, l.vvm_stage AS vvm_stage \
             FROM stock_on_hand h JOIN lots l ON l.product_code = h.product_code AND l.lot_number = h.lot_number \
             WHERE h.province_code = $1 AND h.store_code = $2 \
             ORDER BY CASE WHEN h.on_hand > 0 THEN 0 ELSE 1 END, l.expiry, h.product_code, h.lot_number",
        )
        .bind(&store.province_code)
        .bind(&store.code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoreLot {
                    product_code: r.try_get("product_code")?,
                    lot_number: r.try_get("lot_number")?,
                    on_hand: r.try_get("on_hand")?,
                    expiry: r.try_get("expiry")?,
                    status: r.try_get("status")?,
                    status_reason: r.try_get("status_reason")?,
                    vvm_stage: r.try_get("vvm_stage")?,
                })
            })
            .collect()
    }

    /// The stores a store supplies (its children in the supply chain), by
    /// code: where it dispatches to.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn child_stores(
        &self,
        store_code: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query("SELECT code, name FROM stores WHERE parent_code = $1 ORDER BY code LIMIT 500")
            .bind(store_code)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }
}

/// The buckets of one pass of the supply page's figures.
struct StockBuckets<'a> {
    /// `FROM areas c JOIN areas a …`: the areas `a` whose stores a bucket
    /// `c` counts.
    from: String,
    /// Which buckets (`$1` the page's area).
    cond: &'static str,
    area_code: &'a str,
}

/// A bucket `c` counts the stores of its own area (`own`) or of its
/// whole subtree.
fn bucket_from(own: bool) -> String {
    if own {
        "FROM areas c JOIN areas a ON a.code = c.code".to_string()
    } else {
        "FROM areas c JOIN areas a ON a.path >= c.path AND a.path < {UPPER}"
            .replace("{UPPER}", UPPER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_supply_and_wastage_rate() {
        let f = StockFigures {
            on_hand: 700,
            given_recent: 63,
            wasted_recent: 7,
            given_month: 270,
            wasted_month: 30,
        };
        assert_eq!(f.daily_use(), 10.0);
        assert_eq!(f.days_of_supply(), Some(70.0));
        assert_eq!(f.wastage_rate(), Some(0.1));
        let idle = StockFigures {
            on_hand: 5,
            ..StockFigures::default()
        };
        assert_eq!(idle.days_of_supply(), None);
        assert_eq!(idle.wastage_rate(), None);
    }
}
