//! Allocation of a delivery among the stores one level down, and the
//! areas' border distance it weighs by. The split is
//! `vaxgrid_core::supply::allocation`'s; this module reads each store's
//! need (remaining eligible population from the coverage counters, or
//! remaining campaign target from the targets) and, once the planner
//! confirms the parts, dispatches every shipment in one transaction.

use sqlx::Row;
use uuid::Uuid;
use vaxgrid_core::supply::allocation::{Basis, Part};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::supply::{NewShipment, Shipment, StockStore};
use crate::Store;

/// An area's distance from the national border and its region group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaBorder {
    pub area_code: String,
    pub border_km: Option<u32>,
    pub region_group: Option<String>,
}

/// A store one level down, with what it still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub store_code: String,
    pub store_name: String,
    pub area_code: String,
    pub area_name: String,
    pub border_km: Option<u32>,
    pub region_group: Option<String>,
    /// The population of the area (everyone counted by the registry).
    pub population: u64,
    /// Remaining eligible population or remaining target (per the basis).
    pub need: u64,
}

/// A confirmed allocation: the planner's parts, dispatched.
#[derive(Debug, Clone)]
pub struct NewAllocation {
    pub id: Uuid,
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: u64,
    pub doses_per_vial: u32,
    pub basis: Basis,
    /// What was proposed (kept beside what was confirmed).
    pub proposal: Vec<Part>,
    /// The confirmed parts in whole vials, checked by `check_parts`, 0s dropped.
    pub parts: Vec<(String, u64)>,
}

#[derive(Debug, Clone)]
pub struct Allocation {
    pub id: String,
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: u64,
    pub doses: u64,
    pub shipments: Vec<Shipment>,
}

fn not_found(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

impl Store {
    /// An area's border distance and region group.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn area_border(&self, code: &str) -> Result<AreaBorder, StoreError> {
        let r = sqlx::query("SELECT code, border_km, region_group FROM areas WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("area", "code", code))?;
        Ok(AreaBorder {
            area_code: r.try_get("code")?,
            border_km: r
                .try_get::<Option<i64>, _>("border_km")?
                .and_then(|v| u32::try_from(v).ok()),
            region_group: r.try_get("region_group")?,
        })
    }

    /// Sets an area's border distance (km, 0–5000; None clears it) and
    /// region group (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_area_border(
        &self,
        code: &str,
        border_km: Option<u32>,
        region_group: Option<&str>,
        actor: &Actor,
    ) -> Result<AreaBorder, StoreError> {
        let before = self.area_border(code).await?;
        let area = self.area(code).await?;
        if !actor.scope.covers_path(&area.path) {
            return Err(not_found("area", "code", code));
        }
        if border_km.is_some_and(|k| k > 5000) {
            return Err(StoreError::invalid(
                "border_km",
                "a distance from the border is 0 to 5000 km",
            ));
        }
        let group = region_group.map(str::trim).filter(|g| !g.is_empty());
        if group.is_some_and(|g| g.chars().count() > 64) {
            return Err(StoreError::invalid(
                "region_group",
                "a region group is at most 64 characters",
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE areas SET border_km = $1, region_group = $2 WHERE code = $3")
            .bind(border_km.map(i64::from))
            .bind(group)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set_border",
                "area",
                code,
                serde_json::json!({"from": {"border_km": before.border_km, "region_group": before.region_group},
                    "to": {"border_km": border_km, "region_group": group}}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.area_border(code).await
    }

    /// The stores one level down from `from` (those it supplies), each
    /// with its area's border distance and its need by `basis`; a
    /// remaining target needs the campaign.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn allocation_candidates(
        &self,
        from: &StockStore,
        basis: Basis,
        campaign_id: Option<&str>,
        scope: &Scope,
    ) -> Result<Vec<Candidate>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.code, s.name, s.area_code, a.name AS area_name, a.border_km, a.region_group \
             FROM stores s JOIN areas a ON a.code = s.area_code WHERE s.parent_code = $1 ORDER BY s.code",
        )
        .bind(&from.code)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let area_code: String = r.try_get("area_code")?;
            let coverage = self.coverage(&area_code).await?.area.total;
            let population = u64::try_from(coverage.population).unwrap_or(0);
            let need = match basis {
                Basis::RemainingEligible => {
                    u64::try_from(coverage.population - coverage.completed).unwrap_or(0)
                }
                Basis::RemainingTarget => {
                    let campaign = campaign_id.ok_or_else(|| {
                        StoreError::invalid(
                            "campaign_id",
                            "a remaining target is read from a campaign: give campaign_id",
                        )
                    })?;
                    let t = self
                        .targets_planned(campaign, Some(&area_code), scope)
                        .await?
                        .area;
                    u64::try_from(t.target.unwrap_or(0) - t.reached).unwrap_or(0)
                }
            };
            out.push(Candidate {
                store_code: r.try_get("code")?,
                store_name: r.try_get("name")?,
                area_code,
                area_name: r.try_get("area_name")?,
                border_km: r
                    .try_get::<Option<i64>, _>("border_km")?
                    .and_then(|v| u32::try_from(v).ok()),
                region_group: r.try_get("region_group")?,
                population,
                need,
            });
        }
        Ok(out)
    }

    /// Dispatches the planner's confirmed parts, one shipment per store
    /// (its id derived from the allocation's), all in one transaction with
    /// the allocation's row and audit: either every shipment leaves or
    /// none does. The sending store must be in the actor's scope and hold
    /// the doses.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_allocation(
        &self,
        new: &NewAllocation,
        actor: &Actor,
    ) -> Result<Allocation, StoreError> {
        let from = self.stock_store(&new.from_store, &actor.scope).await?;
        let targets = self.allocation_targets(new, &from).await?;
        let details = serde_json::json!({
            "proposal": new.proposal,
            "confirmed": new.parts.iter().map(|(s, v)| serde_json::json!({"store_code": s, "vials": v})).collect::<Vec<_>>(),
        });
        let basis = basis_name(new.basis);
        let mut tx = self.begin_write().await?;
        insert_allocation(&mut tx, new, &from.code, &details, actor, self.now_micros()).await?;
        for (to, shipment) in &targets {
            self.dispatch_in_tx(&mut tx, &from, to, shipment, actor)
                .await
                .map_err(|e| name_the_part(e, &shipment.to_store))?;
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "allocate",
                "allocation",
                &new.id.to_string(),
                serde_json::json!({"from_store": from.code, "product_code": new.product_code,
                    "lot_number": new.lot_number, "vials": new.vials, "basis": basis, "details": details}),
            )],
        )
        .await?;
        tx.commit().await?;
        let mut shipments = Vec::with_capacity(targets.len());
        for (_, s) in &targets {
            shipments.push(self.shipment(&s.id.to_string()).await?);
        }
        Ok(Allocation {
            id: new.id.to_string(),
            from_store: from.code,
            product_code: new.product_code.clone(),
            lot_number: new.lot_number.clone(),
            vials: new.vials,
            doses: new.vials * u64::from(new.doses_per_vial),
            shipments,
        })
    }

    /// The confirmed parts as shipments from `from`, each to a store it
    /// supplies (its id derived from the allocation's and the store's).
    async fn allocation_targets(
        &self,
        new: &NewAllocation,
        from: &StockStore,
    ) -> Result<Vec<(StockStore, NewShipment)>, StoreError> {
        let dpv = u64::from(new.doses_per_vial);
        let mut targets = Vec::with_capacity(new.parts.len());
        for (store, vials) in &new.parts {
            let to = self
                .stock_store(store, &Scope::All)
                .await
                .map_err(|_| not_found("store", "store_code", store))?;
            if to.parent_code.as_deref() != Some(from.code.as_str()) {
                return Err(StoreError::invalid(
                    "store_code",
                    format!("store {store} is not supplied by store {}", from.code),
                ));
            }
            let quantity = vials
                .checked_mul(dpv)
                .ok_or_else(|| StoreError::invalid("vials", "too many vials"))?;
            targets.push((
                to,
                NewShipment {
                    id: Uuid::new_v5(&new.id, store.as_bytes()),
                    from_store: from.code.clone(),
                    to_store: store.clone(),
                    product_code: new.product_code.clone(),
                    lot_number: new.lot_number.clone(),
                    quantity,
                },
            ));
        }
        Ok(targets)
    }
}

/// How the allocation's basis is stored.
fn basis_name(basis: Basis) -> &'static str {
    match basis {
        Basis::RemainingEligible => "remaining_eligible",
        Basis::RemainingTarget => "remaining_target",
    }
}

/// Writes the allocation's row; a conflict when it is already confirmed.
async fn insert_allocation(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewAllocation,
    from_store: &str,
    details: &serde_json::Value,
    actor: &Actor,
    now: i64,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO allocations (id, from_store, product_code, lot_number, vials, doses_per_vial, basis, details, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(new.id.to_string())
    .bind(from_store)
    .bind(&new.product_code)
    .bind(&new.lot_number)
    .bind(i64::try_from(new.vials).map_err(|_| StoreError::invalid("vials", "too large"))?)
    .bind(i64::from(new.doses_per_vial))
    .bind(basis_name(new.basis))
    .bind(details.to_string())
    .bind(&actor.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("allocation {} is already confirmed", new.id),
            existing: None,
        });
    }
    Ok(())
}

/// A shipment's refusal by the stock names the part it carries.
fn name_the_part(e: StoreError, to_store: &str) -> StoreError {
    match e {
        StoreError::Invalid { field, message } if field == "quantity" => {
            StoreError::invalid("vials", format!("store {to_store}'s part: {message}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_the_stock_refuses_is_named_by_its_store() {
        let refused = StoreError::invalid("quantity", "only 40 doses on hand");
        assert_eq!(
            name_the_part(refused, "S-07").to_string(),
            "vials: store S-07's part: only 40 doses on hand"
        );
        let other = StoreError::invalid("lot_number", "expired");
        assert_eq!(
            name_the_part(other, "S-07").to_string(),
            "lot_number: expired"
        );
    }
}
