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

/// What a run of `bench writer` is asked for: its command line.
#[derive(clap::Args)]
pub struct Options {
    /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
    #[arg(long)]
    pub postgres: bool,
    #[arg(long, default_value_t = 20_000)]
    pub doses: usize,
    /// Doses per batch (the dose writer's mean under `bench doses` is about 70).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Spread the doses over the first N sites (0: all, as `bench doses`).
    #[arg(long, default_value_t = 0)]
    pub sites: usize,
    /// Seed no stores: the batches decrement no stock.
    #[arg(long)]
    pub no_stock: bool,
    /// Also print the pages the batches' commits wrote to the WAL, per
    /// commit, by table and index (SQLite only).
    #[arg(long, conflicts_with = "postgres")]
    pub wal_pages: bool,
}

pub async fn run(o: Options) -> Result<()> {
    let m = measure(&o).await?;
    let Options {
        doses, no_stock, ..
    } = o;
    println!(
        "bench writer ({}, {doses} doses in batches of {}, {} sites, stock {})",
        m.backend,
        m.batch,
        m.sites,
        if no_stock { "not kept" } else { "kept" }
    );
    println!("  created                {}", m.created);
    println!("  dose writer/s          {:.0}", m.created as f64 / m.secs);
    println!(
        "  per batch              {:.2} ms",
        1000.0 * m.secs / doses.div_ceil(m.batch) as f64
    );
    match &m.wal {
        Some(Ok((attribution, page_size))) => {
            println!("  WAL written by the loop's commits (pages' b-trees as of the log's end):");
            for line in wal_pages::table(attribution, 15, *page_size) {
                println!("{line}");
            }
        }
        Some(Err(wal_pages::Restarted)) => {
            println!("  WAL: the log restarted during the loop (a checkpoint ran); no figures")
        }
        None => {}
    }
    anyhow::ensure!(m.created == doses, "created {} of {doses} doses", m.created);
    anyhow::ensure!(
        m.stock.is_empty(),
        "stock differs from a recount: {:?}",
        m.stock
    );
    anyhow::ensure!(
        m.counters.is_empty(),
        "counters differ from a recount: {:?}",
        m.counters
    );
    Ok(())
}

/// What one run of the benchmark measured.
struct Measured {
    backend: String,
    batch: usize,
    sites: usize,
    created: usize,
    secs: f64,
    /// The loop's WAL frames by b-tree and the page size, when asked for.
    wal: Option<Result<(wal_pages::Attribution, u32), wal_pages::Restarted>>,
    stock: Vec<String>,
    counters: Vec<String>,
}

async fn measure(o: &Options) -> Result<Measured> {
    let &Options {
        postgres,
        doses,
        batch,
        sites,
        no_stock,
        wal_pages,
    } = o;
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
    let wal = match wal_before {
        Some((before, wal)) => Some(wal_attribution(&store, &before, &read_wal(&wal)?).await?),
        None => None,
    };
    let stock = store.check_stock().await?;
    let counters = store.check_counters().await?;
    store.close().await;
    scratch.cleanup().await;
    Ok(Measured {
        backend: backend.to_string(),
        batch,
        sites: sites.len(),
        created,
        secs,
        wal,
        stock,
        counters,
    })
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

/// The loop's frames by the b-tree that owns each page at the log's end,
/// and the page size; `Restarted` when a checkpoint ran meanwhile.
async fn wal_attribution(
    store: &vaxgrid_store::Store,
    before: &wal_pages::Wal,
    after: &wal_pages::Wal,
) -> Result<Result<(wal_pages::Attribution, u32), wal_pages::Restarted>> {
    let Ok(commits) = wal_pages::commits_since(before, after) else {
        return Ok(Err(wal_pages::Restarted));
    };
    let owners = store.btree_pages().await?;
    Ok(Ok((
        wal_pages::attribute(&commits, &owners),
        after.page_size,
    )))
}

#[cfg(test)]
mod tests {
    use super::{measure, Options};

    /// Frames per commit of a run of 10 batches of 64 doses at 64
    /// different sites, and its b-trees.
    async fn frames(no_stock: bool) -> (f64, Vec<String>) {
        let m = measure(&Options {
            postgres: false,
            doses: 640,
            batch: 64,
            sites: 0,
            no_stock,
            wal_pages: true,
        })
        .await
        .unwrap();
        assert_eq!(m.created, 640);
        assert!(m.stock.is_empty() && m.counters.is_empty());
        let (a, _) = m
            .wal
            .expect("asked for")
            .expect("no checkpoint in the loop");
        let names = a.by_btree.iter().map(|(n, _)| n.clone()).collect();
        (a.frames as f64 / a.commits as f64, names)
    }

    /// The pages a SQLite commit writes are what the dose writer's rate
    /// rests on (docs/benchmarks.md, "WAL pages by b-tree"): counted, not
    /// timed, so the same on any machine. Keeping the stock once cost 72
    /// pages per commit of 64 doses over 63 stores, a `dose_given`
    /// movement per store each landing on its own leaf of the movements'
    /// index; it costs about 8 now. A table written per store by the
    /// writer, or indexed by store, brings that back and fails here.
    #[tokio::test(flavor = "multi_thread")]
    async fn keeping_the_stock_costs_the_writer_few_wal_pages() {
        let (with, names) = frames(false).await;
        let (without, _) = frames(true).await;
        assert!(
            with - without < 12.0,
            "the stock adds {:.1} WAL pages per commit ({with:.1} against {without:.1}); b-trees: {names:?}",
            with - without
        );
        assert!(
            !names.iter().any(|n| n.starts_with("stock_movements")),
            "the writer wrote stock movements: {names:?}"
        );
    }
}
