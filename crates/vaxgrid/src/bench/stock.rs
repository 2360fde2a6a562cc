//! `vaxgrid bench stock`: stock movements per second (each its own durable
//! transaction, from concurrent tasks, as the API records them) against the
//! same movements committed in batches (the ledger's rules, counters and
//! audit without a commit each: what the commits cost); then temperature
//! readings checked for excursions per second through the store (a data
//! logger's batches, each one transaction that quarantines the lots at
//! the store when an excursion opens) against the pure detector over the
//! same readings in memory. Ends with `check_stock` (counters = recount).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use time::{Duration, OffsetDateTime};
use vaxgrid_core::supply::cold_chain::{Detector, Event, Range, Reading};
use vaxgrid_core::supply::ledger::{Movement, MovementKind, ReceiptSource, WastageReason};
use vaxgrid_store::cold_chain::ReadingSource;
use vaxgrid_store::model::Actor;
use vaxgrid_store::supply::{EquipmentKind, NewEquipment, NewMovement};
use vaxgrid_store::Store;

/// Readings per stored batch: a logger's file of a few days.
const READINGS_PER_BATCH: usize = 1_000;

pub async fn run(postgres: bool, movements: usize, tasks: usize, readings: usize) -> Result<()> {
    let (scratch, backend, store, seeded) = super::setup::seeded_scratch(postgres).await?;
    crate::demo::seed_stores(&store, &seeded, 1_000).await?;
    let actor = Actor::system("bench");
    let mut lots: Vec<(String, String)> = seeded
        .current_lots
        .iter()
        .map(|(p, l)| (p.clone(), l.clone()))
        .collect();
    lots.sort();
    let stores: Vec<String> = seeded.sites.iter().map(|s| format!("K{s}")).collect();
    let movement = |i: usize| movement_of(i, &lots, &stores);
    println!(
        "seeded {} site stores on {backend}; recording {movements} movements",
        stores.len()
    );

    let all: Arc<Vec<NewMovement>> = Arc::new((0..movements).map(movement).collect());
    let (recorded, one_each) = record_one_each(&store, all, tasks, &actor).await?;

    // Baseline: the same movements (new ids), 500 to a transaction.
    let again: Vec<NewMovement> = (0..movements).map(movement).collect();
    let started = Instant::now();
    for chunk in again.chunks(500) {
        store.record_movements(chunk, &actor).await?;
    }
    let batched = again.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let stock_diffs = store.check_stock().await?;
    let check_secs = started.elapsed().as_secs_f64();

    let equipment = fridge(&store, &stores[0], &actor).await?;
    let now = OffsetDateTime::now_utc();
    let series = reading_series(readings, now);
    let (opened_in_memory, in_memory) = detect_in_memory(&series, now)?;
    let stored = record_stored(&store, &equipment.id, &series, &actor).await?;
    store.close().await;
    scratch.cleanup().await;

    println!("bench stock ({backend})");
    println!(
        "  movements/s             {one_each:.0}  ({recorded} movements, each its own durable transaction, {tasks} concurrent tasks)"
    );
    println!(
        "  baseline batched/s      {batched:.0}  (the same movements 500 to a transaction; ratio {:.2})",
        one_each / batched
    );
    println!(
        "  check_stock             {:.1} ms, {} differences",
        check_secs * 1000.0,
        stock_diffs.len()
    );
    println!(
        "  excursion checks/s      {:.0}  ({readings} readings stored in batches of {READINGS_PER_BATCH}; {} excursions opened, {} lot quarantines)",
        stored.rate, stored.opened, stored.quarantined
    );
    println!(
        "  baseline in memory/s    {in_memory:.0}  (the detector alone over the same readings, {opened_in_memory} excursions; ratio {:.3})",
        stored.rate / in_memory
    );
    anyhow::ensure!(
        stock_diffs.is_empty(),
        "stock counters differ from a recount: {:?}",
        &stock_diffs[..stock_diffs.len().min(3)]
    );
    Ok(())
}

/// Movement `i`: a receipt then a wastage of the same size, over the site
/// stores and lots in turn, so that every movement is accepted and
/// on-hand stays put.
fn movement_of(i: usize, lots: &[(String, String)], stores: &[String]) -> NewMovement {
    let (product, lot) = &lots[(i / 2) % lots.len()];
    let kind = if i.is_multiple_of(2) {
        MovementKind::Receipt {
            source: ReceiptSource::Donation,
            document: format!("BENCH-{i}"),
        }
    } else {
        MovementKind::Wastage {
            reason: WastageReason::Broken,
        }
    };
    NewMovement {
        store_code: stores[(i / (2 * lots.len())) % stores.len()].clone(),
        product_code: product.clone(),
        lot_number: lot.clone(),
        movement: Movement {
            id: uuid::Uuid::now_v7(),
            kind,
            quantity: 10,
        },
    }
}

/// Each movement its own transaction, from concurrent tasks; the pairs
/// stay together in one task so that a wastage follows its receipt.
/// (movements recorded, per second).
async fn record_one_each(
    store: &Store,
    all: Arc<Vec<NewMovement>>,
    tasks: usize,
    actor: &Actor,
) -> Result<(usize, f64)> {
    let started = Instant::now();
    let mut handles = Vec::new();
    for k in 0..tasks {
        let (store, all, actor) = (store.clone(), all.clone(), actor.clone());
        handles.push(tokio::spawn(async move {
            let mut done = 0usize;
            for pair in all.chunks(2).skip(k).step_by(tasks) {
                for m in pair {
                    store.record_movement(m, &actor).await?;
                    done += 1;
                }
            }
            anyhow::Ok(done)
        }));
    }
    let mut recorded = 0;
    for h in handles {
        recorded += h.await??;
    }
    Ok((recorded, recorded as f64 / started.elapsed().as_secs_f64()))
}

/// A fridge at 2–8 °C at `store_code`.
async fn fridge(
    store: &Store,
    store_code: &str,
    actor: &Actor,
) -> Result<vaxgrid_store::supply::Equipment> {
    Ok(store
        .create_equipment(
            &NewEquipment {
                id: uuid::Uuid::now_v7().to_string(),
                store_code: store_code.to_string(),
                kind: EquipmentKind::Refrigerator,
                range: Range::new(20, 80).map_err(|e| anyhow::anyhow!("{e}"))?,
                capacity_doses: None,
                working: true,
            },
            actor,
        )
        .await?)
}

/// `readings` readings 30 s apart up to a minute before `now`, mostly in
/// range, with an excursion of 20 readings every 500.
fn reading_series(readings: usize, now: OffsetDateTime) -> Vec<Reading> {
    let first = now - Duration::seconds(30 * readings as i64 + 60);
    (0..readings)
        .map(|i| Reading {
            at: first + Duration::seconds(30 * i as i64),
            tenths: if i % 500 >= 480 {
                94 + (i % 7) as i32
            } else {
                45 + (i % 11) as i32
            },
        })
        .collect()
}

/// Baseline: the pure detector over the readings; (excursions opened,
/// readings per second).
fn detect_in_memory(series: &[Reading], now: OffsetDateTime) -> Result<(usize, f64)> {
    let started = Instant::now();
    let mut detector = Detector::new(Range::new(20, 80).expect("valid range"), None, None);
    let mut opened = 0;
    for r in series {
        if let Event::Opened(_) = detector.push(*r, now).map_err(|e| anyhow::anyhow!("{e}"))? {
            opened += 1;
        }
    }
    Ok((
        opened,
        series.len() as f64 / started.elapsed().as_secs_f64(),
    ))
}

/// The readings through the store, in a logger's batches.
struct StoredReadings {
    opened: usize,
    quarantined: usize,
    /// Readings per second.
    rate: f64,
}

async fn record_stored(
    store: &Store,
    equipment_id: &str,
    series: &[Reading],
    actor: &Actor,
) -> Result<StoredReadings> {
    let started = Instant::now();
    let mut opened = 0;
    let mut quarantined = 0;
    for chunk in series.chunks(READINGS_PER_BATCH) {
        let outcome = store
            .record_readings(equipment_id, chunk, ReadingSource::Logger, actor)
            .await?;
        opened += outcome
            .excursions
            .iter()
            .filter(|e| e.excursion.started_at >= chunk[0].at)
            .count();
        quarantined += outcome.quarantined.len();
    }
    Ok(StoredReadings {
        opened,
        quarantined,
        rate: series.len() as f64 / started.elapsed().as_secs_f64(),
    })
}
