//! `vaxgrid bench writer`: the dose writer's batch alone, in-process, in
//! batches of a fixed size (no queue, no HTTP, no concurrency), so that two
//! runs do the same work and an instruction count (callgrind) is
//! repeatable. With `--no-stock` the sites keep no store: the batches then
//! decrement nothing, and the difference between the two runs is what the
//! stock decrement costs in the writer's transaction.

use std::time::Instant;

use anyhow::Result;
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::model::{Actor, DoseRequest};
use vaxgrid_store::writer::BulkWriter;

pub async fn run(
    postgres: bool,
    doses: usize,
    batch: usize,
    sites: usize,
    no_stock: bool,
) -> Result<()> {
    let (scratch, backend, store, seeded) = super::setup::seeded_scratch(postgres).await?;
    if !no_stock {
        crate::demo::seed_stores(&store, &seeded, 2 * doses as u64).await?;
    }
    let placed = super::setup::register_adults(&store, &seeded, 2 * doses, doses).await?;
    let sites = if sites == 0 {
        seeded.sites.clone()
    } else {
        seeded.sites[..sites.min(seeded.sites.len())].to_vec()
    };
    let lot = seeded.current_lots["AZ"].clone();
    let commands: Vec<WriteCommand> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            WriteCommand::Dose(DoseRequest {
                id: uuid::Uuid::now_v7().to_string(),
                person_id: p.new.id.clone(),
                product_code: "AZ".into(),
                lot_number: lot.clone(),
                site_code: sites[i % sites.len()].clone(),
                administered_on: vaxgrid_store::today(),
                dose_number: None,
                vaccinator: Some("bench".into()),
                override_reason: None,
                historical: false,
                requires_certificate: None,
                by: Actor::system("bench"),
            })
        })
        .collect();
    let mut bulk = BulkWriter::new(store.clone());
    let batch = batch.max(1);
    let started = Instant::now();
    let mut created = 0usize;
    for chunk in commands.chunks(batch) {
        let results = bulk.apply(chunk).await?;
        created += results.iter().filter(|r| r.is_ok()).count();
    }
    let secs = started.elapsed().as_secs_f64();
    let stock = store.check_stock().await?;
    let counters = store.check_counters().await?;
    store.close().await;
    scratch.cleanup().await;
    println!(
        "bench writer ({backend}, {doses} doses in batches of {batch}, {} sites, stock {})",
        sites.len(),
        if no_stock { "not kept" } else { "kept" }
    );
    println!("  created                {created}");
    println!("  dose writer/s          {:.0}", created as f64 / secs);
    println!(
        "  per batch              {:.2} ms",
        1000.0 * secs / commands.len().div_ceil(batch) as f64
    );
    anyhow::ensure!(created == doses, "created {created} of {doses} doses");
    anyhow::ensure!(stock.is_empty(), "stock differs from a recount: {stock:?}");
    anyhow::ensure!(
        counters.is_empty(),
        "counters differ from a recount: {counters:?}"
    );
    Ok(())
}
