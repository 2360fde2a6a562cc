//! `vaxgrid bench writer`: the dose writer's batch alone, in-process, in
//! batches of a fixed size (no queue, no HTTP, no concurrency), so that two
//! runs do the same work and an instruction count (callgrind) is
//! repeatable. With `--no-stock` the sites keep no store: the batches then
//! decrement nothing, and the difference between the two runs is what the
//! stock decrement costs in the writer's transaction. With `--wal-pages`
//! (SQLite) it also prints what the batches' commits wrote to the WAL, per
//! commit, by table and index (see `wal_pages`).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::model::{Actor, DoseRequest};
use vaxgrid_store::writer::BulkWriter;

use super::wal_pages;

pub async fn run(
    postgres: bool,
    doses: usize,
    batch: usize,
    sites: usize,
    no_stock: bool,
    wal_pages: bool,
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
    // The log as it is before the loop: the loop's frames are the ones
    // after its last commit.
    let wal_before = if wal_pages {
        let wal = wal_file(&store)?;
        Some((read_wal(&wal)?, wal))
    } else {
        None
    };
    let started = Instant::now();
    let mut created = 0usize;
    for chunk in commands.chunks(batch) {
        let results = bulk.apply(chunk).await?;
        created += results.iter().filter(|r| r.is_ok()).count();
    }
    let secs = started.elapsed().as_secs_f64();
    // Read before the checks below, so that only the loop has written.
    let wal_report = match wal_before {
        Some((before, wal)) => Some(wal_report(&store, &before, &read_wal(&wal)?).await?),
        None => None,
    };
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
    for line in wal_report.into_iter().flatten() {
        println!("{line}");
    }
    anyhow::ensure!(created == doses, "created {created} of {doses} doses");
    anyhow::ensure!(stock.is_empty(), "stock differs from a recount: {stock:?}");
    anyhow::ensure!(
        counters.is_empty(),
        "counters differ from a recount: {counters:?}"
    );
    Ok(())
}

/// The store's write-ahead log (the database file's path with `-wal`).
fn wal_file(store: &vaxgrid_store::Store) -> Result<std::path::PathBuf> {
    let mut wal = store.sqlite_file()?.into_os_string();
    wal.push("-wal");
    Ok(wal.into())
}

/// The log's frames; no log yet is an empty one.
fn read_wal(path: &Path) -> Result<wal_pages::Wal> {
    let wal = match std::fs::File::open(path) {
        Ok(file) => wal_pages::read(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => wal_pages::read(std::io::empty()),
        Err(e) => Err(e),
    };
    wal.with_context(|| format!("reading {}", path.display()))
}

/// The lines `--wal-pages` prints: frames per commit by b-tree, top 15.
async fn wal_report(
    store: &vaxgrid_store::Store,
    before: &wal_pages::Wal,
    after: &wal_pages::Wal,
) -> Result<Vec<String>> {
    let Ok(commits) = wal_pages::commits_since(before, after) else {
        return Ok(vec![
            "  WAL: the log restarted during the loop (a checkpoint ran); no figures".into(),
        ]);
    };
    let owners = store.btree_pages().await?;
    let mut lines =
        vec!["  WAL written by the loop's commits (pages' b-trees as of the log's end):".into()];
    lines.extend(wal_pages::table(
        &wal_pages::attribute(&commits, &owners),
        15,
        after.page_size,
    ));
    Ok(lines)
}
