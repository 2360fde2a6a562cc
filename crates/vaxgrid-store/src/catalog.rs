//! Reference data: vaccine products, lots and vaccination sites.

use sqlx::any::AnyRow;
use sqlx::Row;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::product::Product;

use crate::audit::{self, AuditEntry};
use crate::cells::{Cells, FromCells};
use crate::error::StoreError;
use crate::model::{Lot, Page, Site, SiteKind};
use crate::Store;

pub(crate) const PRODUCT_COLUMNS: &str =
    "code, name, manufacturer, platform, dcc_mp, dcc_ma, dcc_vp, cvx, \
    doses_in_series, min_interval_days, recommended_interval_days, doses_per_vial, storage_min_c, \
    storage_max_c, open_vial_discard_hours, min_age_years";

pub(crate) fn product_from_row(row: &AnyRow) -> Result<Product, StoreError> {
    let n = |c: &str| -> Result<i64, StoreError> { Ok(row.try_get::<i64, _>(c)?) };
    Ok(Product {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        manufacturer: row.try_get("manufacturer")?,
        platform: row.try_get("platform")?,
        dcc_mp: row.try_get("dcc_mp")?,
        dcc_ma: row.try_get("dcc_ma")?,
        dcc_vp: row.try_get("dcc_vp")?,
        cvx: row.try_get("cvx")?,
        doses_in_series: n("doses_in_series")? as u32,
        min_interval_days: n("min_interval_days")? as u32,
        recommended_interval_days: n("recommended_interval_days")? as u32,
        doses_per_vial: n("doses_per_vial")? as u32,
        storage_min_c: n("storage_min_c")? as i32,
        storage_max_c: n("storage_max_c")? as i32,
        open_vial_discard_hours: n("open_vial_discard_hours")? as u32,
        min_age_years: n("min_age_years")? as u32,
    })
}

impl FromCells for Lot {
    fn from_cells<R: Cells>(row: &R) -> Result<Lot, StoreError> {
        lot_from_row(row)
    }
}

pub(crate) fn lot_from_row<R: Cells>(row: &R) -> Result<Lot, StoreError> {
    let status: String = row.cell("status")?;
    Ok(Lot {
        product_code: row.cell("product_code")?,
        lot_number: row.cell("lot_number")?,
        expiry: row.cell("expiry")?,
        status: LotStatus::parse(&status).ok_or_else(|| {
            StoreError::invalid("status", format!("stored lot status '{status}' is unknown"))
        })?,
        doses: row.cell("doses")?,
    })
}

pub(crate) fn site_from_row(row: &AnyRow) -> Result<Site, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Site {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: SiteKind::parse(&kind).ok_or_else(|| {
            StoreError::invalid("kind", format!("stored site kind '{kind}' is unknown"))
        })?,
        area_code: row.try_get("area_code")?,
        stations: row.try_get("stations")?,
        daily_capacity: row.try_get("daily_capacity")?,
    })
}

/// The checks of a site's own fields (the single create's and the bulk
/// import's alike): the field at fault and why.
pub(crate) fn check_site(site: &Site) -> Result<(), (&'static str, String)> {
    vaxgrid_core::site::validate_site_code(&site.code).map_err(|e| ("code", e.to_string()))?;
    if site.name.trim().is_empty() {
        return Err(("name", "name must not be empty".into()));
    }
    if site.name.contains('\0') {
        return Err(("name", "text must not contain NUL characters".into()));
    }
    if site.stations < 1 || site.stations > 1000 {
        return Err(("stations", "stations must be between 1 and 1000".into()));
    }
    if site.daily_capacity < 0 || site.daily_capacity > 1_000_000 {
        return Err((
            "daily_capacity",
            "daily_capacity must be between 0 and 1000000".into(),
        ));
    }
    Ok(())
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn products(&self) -> Result<Vec<Product>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products ORDER BY code"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(product_from_row).collect()
    }

    /// Products by code.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn product_map(
        &self,
    ) -> Result<std::collections::HashMap<String, Product>, StoreError> {
        Ok(self
            .products()
            .await?
            .into_iter()
            .map(|p| (p.code.clone(), p))
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn product(&self, code: &str) -> Result<Product, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "product",
            field: "product_code",
            key: code.to_string(),
        })?;
        product_from_row(&row)
    }

    /// Creates a product; an existing code is a conflict.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_product(
        &self,
        p: &Product,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Product, StoreError> {
        let actor: crate::model::Actor = actor.into();
        p.validate()
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT code FROM products WHERE code = $1")
            .bind(&p.code)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("product {} already exists", p.code),
                existing: Some(format!("/api/v1/products/{}", p.code)),
            });
        }
        sqlx::query(&format!(
            "INSERT INTO products ({PRODUCT_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)"
        ))
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.manufacturer)
        .bind(&p.platform)
        .bind(&p.dcc_mp)
        .bind(&p.dcc_ma)
        .bind(&p.dcc_vp)
        .bind(&p.cvx)
        .bind(i64::from(p.doses_in_series))
        .bind(i64::from(p.min_interval_days))
        .bind(i64::from(p.recommended_interval_days))
        .bind(i64::from(p.doses_per_vial))
        .bind(i64::from(p.storage_min_c))
        .bind(i64::from(p.storage_max_c))
        .bind(i64::from(p.open_vial_discard_hours))
        .bind(i64::from(p.min_age_years))
        .execute(&mut *tx)
        .await?;
        let details = serde_json::to_value(p).unwrap_or_default();
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                &actor, "create", "product", &p.code, details,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(p.clone())
    }

    /// Seeds the standard products that are not there yet.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn seed_standard_products(&self) -> Result<usize, StoreError> {
        let existing: Vec<String> = self.products().await?.into_iter().map(|p| p.code).collect();
        let mut added = 0;
        for p in vaxgrid_core::product::standard_products() {
            if !existing.contains(&p.code) {
                self.create_product(&p, "system").await?;
                added += 1;
            }
        }
        Ok(added)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lot(&self, product_code: &str, lot_number: &str) -> Result<Lot, StoreError> {
        let row = sqlx::query(
            "SELECT product_code, lot_number, expiry, status, doses FROM lots WHERE product_code = $1 AND lot_number = $2",
        )
        .bind(product_code)
        .bind(lot_number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "lot",
            field: "lot_number",
            key: format!("{product_code}/{lot_number}"),
        })?;
        lot_from_row(&row)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lots(&self, product_code: Option<&str>) -> Result<Vec<Lot>, StoreError> {
        let rows = sqlx::query(
            "SELECT product_code, lot_number, expiry, status, doses FROM lots \
             WHERE ($1 IS NULL OR product_code = $1) ORDER BY product_code, lot_number",
        )
        .bind(product_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lot_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_lot(
        &self,
        lot: &Lot,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Lot, StoreError> {
        let actor: crate::model::Actor = actor.into();
        if lot.lot_number.trim().is_empty() || lot.lot_number.len() > 64 {
            return Err(StoreError::invalid(
                "lot_number",
                "lot number must be 1 to 64 characters",
            ));
        }
        if crate::parse_date(&lot.expiry).is_none() {
            return Err(StoreError::invalid(
                "expiry",
                "expiry must be a date YYYY-MM-DD",
            ));
        }
        if lot.doses < 0 {
            return Err(StoreError::invalid("doses", "doses must not be negative"));
        }
        self.product(&lot.product_code).await?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO lots (product_code, lot_number, expiry, status, doses, created_at) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT (product_code, lot_number) DO NOTHING",
        )
        .bind(&lot.product_code)
        .bind(&lot.lot_number)
        .bind(&lot.expiry)
        .bind(lot.status.as_str())
        .bind(lot.doses)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "lot_number",
                message: format!(
                    "lot {} of {} already exists",
                    lot.lot_number, lot.product_code
                ),
                existing: Some(format!(
                    "/api/v1/lots/{}/{}",
                    lot.product_code, lot.lot_number
                )),
            });
        }
        let details = serde_json::to_value(lot).unwrap_or_default();
        let key = format!("{}/{}", lot.product_code, lot.lot_number);
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(&actor, "create", "lot", &key, details)],
        )
        .await?;
        tx.commit().await?;
        Ok(lot.clone())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site(&self, code: &str) -> Result<Site, StoreError> {
        let row = sqlx::query("SELECT code, name, kind, area_code, stations, daily_capacity FROM sites WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "site",
                field: "site_code",
                key: code.to_string(),
            })?;
        site_from_row(&row)
    }

    /// Sites in the subtree of `area` (all when `None`), by code, after `after`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sites(
        &self,
        area: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Site>, StoreError> {
        let (lo, hi) = match area {
            Some(code) => {
                let a = self.area(code).await?;
                let hi = vaxgrid_core::area::subtree_upper_bound(&a.path);
                (a.path, hi)
            }
            None => (String::new(), "~".to_string()),
        };
        let rows = sqlx::query(
            "SELECT s.code, s.name, s.kind, s.area_code, s.stations, s.daily_capacity FROM sites s \
             JOIN areas a ON a.code = s.area_code WHERE a.path >= $1 AND a.path < $2 AND s.code > $3 \
             ORDER BY s.code LIMIT $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let sites = rows
            .iter()
            .map(site_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(sites, limit, |s| s.code.clone()))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_site(
        &self,
        site: &Site,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Site, StoreError> {
        let actor: crate::model::Actor = actor.into();
        check_site(site).map_err(|(field, message)| StoreError::invalid(field, message))?;
        self.area(&site.area_code)
            .await
            .map_err(|_| StoreError::NotFound {
                entity: "area",
                field: "area_code",
                key: site.area_code.clone(),
            })?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO sites (code, name, kind, area_code, stations, daily_capacity) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(&site.code)
        .bind(site.name.trim())
        .bind(site.kind.as_str())
        .bind(&site.area_code)
        .bind(site.stations)
        .bind(site.daily_capacity)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("site {} already exists", site.code),
                existing: Some(format!("/api/v1/sites/{}", site.code)),
            });
        }
        let details = serde_json::to_value(site).unwrap_or_default();
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                &actor, "create", "site", &site.code, details,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(site.clone())
    }
}
