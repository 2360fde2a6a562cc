//! The supply of the demo province for `vaxgrid bench pages`: a store at
//! the province, each district, each commune (the commune health station's
//! own stock) and each village (its health post), each with receipts of
//! two vaccines and a week's doses given and wastage; a refrigerator at
//! one commune with a week of logger readings every 10 minutes and an
//! excursion in the middle (which quarantines the lots there).

use anyhow::{Context, Result};
use uuid::Uuid;
use vaxgrid_core::supply::cold_chain::{Range, Reading};
use vaxgrid_core::supply::ledger::{Movement, MovementKind, ReceiptSource, WastageReason};
use vaxgrid_store::cold_chain::ReadingSource;
use vaxgrid_store::model::Actor;
use vaxgrid_store::supply::{EquipmentKind, NewEquipment, NewMovement, NewStore};
use vaxgrid_store::Store;

/// What the pages of the supply are asked about.
pub struct SupplySeed {
    pub stores: usize,
    /// A commune store in district `district` with the fridge.
    pub commune_store: String,
    pub equipment: String,
    /// The current AZ lot.
    pub lot: (String, String),
}

async fn movement(
    store: &Store,
    at: &str,
    lot: (&str, &str),
    kind: MovementKind,
    q: u64,
) -> Result<()> {
    store
        .record_movement(
            &NewMovement {
                store_code: at.to_string(),
                product_code: lot.0.to_string(),
                lot_number: lot.1.to_string(),
                movement: Movement {
                    id: Uuid::now_v7(),
                    kind,
                    quantity: q,
                },
            },
            &Actor::system("bench"),
        )
        .await?;
    Ok(())
}

pub async fn seed(
    store: &Store,
    seeded: &crate::demo::Seeded,
    district: &str,
) -> Result<SupplySeed> {
    let az = seeded
        .current_lots
        .get("AZ")
        .context("no current AZ lot")?
        .clone();
    let pf = seeded
        .current_lots
        .get("PFIZER")
        .context("no current PFIZER lot")?
        .clone();
    let (count, commune_store) = seed_tree(store, seeded, district, (&az, &pf)).await?;
    let commune_store = commune_store.context("no commune store in the district")?;
    let equipment = seed_fridge(store, &commune_store).await?;
    Ok(SupplySeed {
        stores: count,
        commune_store,
        equipment,
        lot: ("AZ".into(), az),
    })
}

/// A store per area, parents first (the synthetic list is in that order),
/// each stocked; how many, and the first commune store of `district`.
async fn seed_tree(
    store: &Store,
    seeded: &crate::demo::Seeded,
    district: &str,
    (az, pf): (&str, &str),
) -> Result<(usize, Option<String>)> {
    let system = Actor::system("bench");
    let areas = vaxgrid_synthetic::quang_ninh_areas();
    let sites: std::collections::HashSet<&str> = seeded.sites.iter().map(String::as_str).collect();
    let mut commune_store = None;
    let mut count = 0usize;
    for (i, a) in areas.iter().enumerate() {
        let code = format!("K{}", a.code);
        let site = format!("S{}", a.code);
        store
            .create_store(
                &NewStore {
                    code: code.clone(),
                    name: format!("Kho {}", a.name),
                    area_code: a.code.clone(),
                    parent_code: a.parent.as_ref().map(|p| format!("K{p}")),
                    site_code: sites.contains(site.as_str()).then_some(site),
                },
                &system,
            )
            .await?;
        count += 1;
        stock(store, &code, i, az, pf).await?;
        if commune_store.is_none()
            && matches!(a.level, vaxgrid_synthetic::AreaLevelSeed::Commune)
            && a.parent.as_deref() == Some(district)
        {
            commune_store = Some(code);
        }
    }
    Ok((count, commune_store))
}

/// The `i`-th store's movements: receipts of both vaccines, a week's AZ
/// doses given, and wastage at every third store.
async fn stock(store: &Store, code: &str, i: usize, az: &str, pf: &str) -> Result<()> {
    let receipt = MovementKind::Receipt {
        source: ReceiptSource::Covax,
        document: format!("COVAX-VN-{i}"),
    };
    movement(store, code, ("AZ", az), receipt.clone(), 2_000).await?;
    movement(store, code, ("PFIZER", pf), receipt, 1_000).await?;
    movement(
        store,
        code,
        ("AZ", az),
        MovementKind::DoseGiven,
        20 + (i as u64 % 90),
    )
    .await?;
    if i.is_multiple_of(3) {
        let reason = WastageReason::OpenVialUnused;
        movement(
            store,
            code,
            ("AZ", az),
            MovementKind::Wastage { reason },
            1 + (i as u64 % 9),
        )
        .await?;
    }
    Ok(())
}

/// A refrigerator (2–8 °C) at `commune_store` with a week of logger
/// readings; its id.
async fn seed_fridge(store: &Store, commune_store: &str) -> Result<String> {
    let system = Actor::system("bench");
    let equipment = Uuid::now_v7().to_string();
    store
        .create_equipment(
            &NewEquipment {
                id: equipment.clone(),
                store_code: commune_store.to_string(),
                kind: EquipmentKind::Refrigerator,
                range: Range::new(20, 80).map_err(|e| anyhow::anyhow!("{e}"))?,
                capacity_doses: Some(20_000),
                working: true,
            },
            &system,
        )
        .await?;
    let readings = week_of_readings(time::OffsetDateTime::now_utc());
    store
        .record_readings(&equipment, &readings, ReadingSource::Logger, &system)
        .await?;
    Ok(equipment)
}

/// The week before `now` every 10 minutes: 4.5 to 5.6 °C with a sway,
/// and 3 hours at 9–12 °C in the middle.
fn week_of_readings(now: time::OffsetDateTime) -> Vec<Reading> {
    let start = now - time::Duration::days(7);
    (0..1008)
        .map(|k: i64| {
            let at = start + time::Duration::minutes(10 * k);
            let tenths = if (500..518).contains(&k) {
                90 + i32::try_from(k - 500).unwrap_or(0) * 2
            } else {
                45 + i32::try_from(k % 12).unwrap_or(0)
            };
            Reading { at, tenths }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_has_one_three_hour_excursion_above_the_range() {
        let now = time::macros::datetime!(2030-01-08 00:00 UTC);
        let readings = week_of_readings(now);
        assert_eq!(readings.len(), 7 * 24 * 6);
        assert_eq!(readings[0].at, now - time::Duration::days(7));
        let warm: Vec<i64> = (0..readings.len() as i64)
            .filter(|&k| readings[k as usize].tenths > 80)
            .collect();
        assert_eq!(warm, (500..518).collect::<Vec<_>>());
        assert!(readings.iter().all(|r| r.tenths >= 20));
    }
}
