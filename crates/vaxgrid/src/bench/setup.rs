//! The set-up the dose benchmarks share (`bench doses`, `writer`, `hl7`):
//! a scratch database seeded like the demo, adult residents registered, an
//! administrator, and the real server started as a child process.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use vaxgrid_store::model::NewPerson;
use vaxgrid_store::persons::PlacedPerson;
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

use crate::demo::Seeded;

/// A scratch database on PostgreSQL (`postgres`) or SQLite, open and
/// seeded like the demo (areas, products, lots, sites): (the scratch
/// database, its backend's name for the report, the store, the seeds).
pub async fn seeded_scratch(postgres: bool) -> Result<(Scratch, &'static str, Store, Seeded)> {
    let scratch = if postgres {
        Scratch::of("postgres").await?
    } else {
        Scratch::sqlite()
    };
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    let store = Store::open(&scratch.url).await?;
    let seeded = crate::demo::seed_reference(&store).await?;
    Ok((scratch, backend, store, seeded))
}

/// Registers `wanted` adults of the demo's villages, picked from
/// `generated` residents, and refreshes the planner's statistics. Adults
/// only, so that every dose is acceptable (the products' minimum age is
/// 18 for AZ, the product the benchmarks give).
pub async fn register_adults(
    store: &Store,
    seeded: &Seeded,
    generated: usize,
    wanted: usize,
) -> Result<Vec<PlacedPerson>> {
    let adult_born_before =
        vaxgrid_core::dose::birthday(vaxgrid_store::today(), 0) - time::Duration::days(19 * 366);
    let people: Vec<_> = crate::demo::residents(generated, &seeded.villages, 99)
        .into_iter()
        .filter(|p| p.birth_date < adult_born_before)
        .take(wanted)
        .collect();
    anyhow::ensure!(
        people.len() == wanted,
        "not enough adult residents generated"
    );
    let placed = register(store, people).await?;
    store.analyze().await?;
    Ok(placed)
}

/// Registers `people`, all of them (a refused one stops the benchmark).
pub async fn register(store: &Store, people: Vec<NewPerson>) -> Result<Vec<PlacedPerson>> {
    let (placed, errors) = store.check_people(people).await?;
    anyhow::ensure!(
        errors.is_empty(),
        "seed persons refused: {:?}",
        &errors[..errors.len().min(3)]
    );
    store.insert_people(&placed, "bench", |_| {}).await?;
    Ok(placed)
}

/// The user `bench` (password `bench`), an administrator.
pub async fn create_bench_admin(store: &Store) -> Result<()> {
    let admin = vaxgrid_core::access::Grant::parse("admin")?;
    let hash = vaxgrid_server::auth::hash_password("bench")
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    store
        .create_user("bench", "bench", &hash, &[admin], "bench")
        .await?;
    Ok(())
}

/// Starts `vaxgrid serve --database-url URL --listen 127.0.0.1:0` with
/// `more` arguments; returns the child and the lines of its output.
pub async fn spawn_serve(
    database_url: &str,
    more: &[&str],
) -> Result<(Child, Lines<BufReader<ChildStdout>>)> {
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .args([
            "serve",
            "--database-url",
            database_url,
            "--listen",
            "127.0.0.1:0",
        ])
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting the server")?;
    let stdout = child.stdout.take().context("server stdout")?;
    Ok((child, BufReader::new(stdout).lines()))
}

/// The server's next line of output while it starts (within 60 s).
pub async fn start_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Result<String> {
    tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .context("the server did not start within 60 s")??
        .context("the server exited before listening")
}
