//! `vaxgrid bench import`: N persons from a CSV file into a fresh SQLite
//! database through the same path as `vaxgrid import persons`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

use crate::files::{bar, import_persons_file};

pub async fn run(rows: usize) -> Result<()> {
    let scratch = Scratch::sqlite();
    let store = Store::open(&scratch.url).await?;
    let seeded = crate::demo::seed_reference(&store).await?;
    let csv_path =
        std::env::temp_dir().join(format!("vaxgrid-bench-import-{}.csv", std::process::id()));
    write_persons_csv(&csv_path, rows, &seeded.villages)?;
    let size = std::fs::metadata(&csv_path)?.len();
    println!(
        "generated {rows} rows ({:.0} MB) at {}",
        size as f64 / 1e6,
        csv_path.display()
    );
    let started = Instant::now();
    let report = import_persons_file(&store, &csv_path, false, true).await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.errors.is_empty(),
        "import refused rows: {:?}",
        &report.errors[..report.errors.len().min(3)]
    );
    let stored = store.count_persons().await?;
    let baseline = baseline(&store, &csv_path).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bench import (SQLite, synchronous=FULL, one transaction)"
    )?;
    writeln!(out, "  rows imported        {}", report.imported)?;
    writeln!(out, "  rows in database     {stored}")?;
    writeln!(
        out,
        "  import time          {secs:.2} s  ({:.0} rows/s)",
        report.imported as f64 / secs
    )?;
    writeln!(
        out,
        "  phases               read+check+write {:.2} s, finish (indexes, counters, commit) {:.2} s",
        report.phases[0], report.phases[1]
    )?;
    let Baseline {
        parse_secs,
        placed,
        check_secs,
    } = baseline;
    writeln!(
        out,
        "  baseline: parse only {parse_secs:.2} s  ({:.0} rows/s) for {} rows",
        rows as f64 / parse_secs,
        rows
    )?;
    writeln!(
        out,
        "  baseline: field checks {check_secs:.2} s for {placed} rows (no database)"
    )?;
    writeln!(
        out,
        "  target               <= 20 s for 1,000,000 rows: {}",
        if rows >= 1_000_000 && secs <= 20.0 {
            "met"
        } else if rows < 1_000_000 {
            "n/a (fewer rows)"
        } else {
            "NOT met"
        }
    )?;
    store.close().await;
    scratch.cleanup().await;
    let _ = std::fs::remove_file(&csv_path);
    Ok(())
}

/// Writes `rows` synthetic residents of `villages` to a persons CSV at
/// `path`, in chunks, with a progress bar.
fn write_persons_csv(path: &Path, rows: usize, villages: &[String]) -> Result<()> {
    let progress = bar(rows as u64, "generating");
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
    w.write_record(vaxgrid_interop::csv::persons::PERSON_HEADER)?;
    let chunk = 50_000;
    let mut done = 0;
    let mut residents = crate::demo::Residents::new(1);
    while done < rows {
        let n = chunk.min(rows - done);
        for p in residents.take(n, villages) {
            w.write_record(vaxgrid_server::import::person_row(&p).cells())?;
        }
        done += n;
        progress.set_position(done as u64);
    }
    w.flush()?;
    progress.finish_and_clear();
    Ok(())
}

/// The baseline's figures.
struct Baseline {
    parse_secs: f64,
    /// Rows that pass the field checks.
    placed: usize,
    check_secs: f64,
}

/// The baseline in the same run: reading and parsing the same file, then
/// the field checks, without writes.
async fn baseline(store: &Store, csv_path: &Path) -> Result<Baseline> {
    let parse_started = Instant::now();
    let (parsed, _) = vaxgrid_server::import::parse_persons_csv(std::io::BufReader::new(
        std::fs::File::open(csv_path)?,
    ));
    let parse_secs = parse_started.elapsed().as_secs_f64();
    let check_started = Instant::now();
    let areas = store.area_map().await?;
    let today = vaxgrid_store::today();
    let placed = parsed
        .into_iter()
        .filter(|(_, p)| vaxgrid_store::persons::place_person(p.clone(), &areas, today).is_ok())
        .count();
    let check_secs = check_started.elapsed().as_secs_f64();
    Ok(Baseline {
        parse_secs,
        placed,
        check_secs,
    })
}
