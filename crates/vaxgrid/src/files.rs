//! Bulk lists on the command line: `import persons`, `export doses`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use vaxgrid_store::Store;

pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Result of an import, for the command and the benchmark.
pub struct ImportReport {
    pub imported: usize,
    pub errors: Vec<vaxgrid_store::persons::RowError>,
    pub seconds: f64,
}

/// Parses, checks and inserts a persons CSV. Unless `skip_invalid`, any bad
/// row means nothing is written.
pub async fn import_persons_file(
    store: &Store,
    file: &Path,
    skip_invalid: bool,
    progress: bool,
) -> Result<ImportReport> {
    let started = Instant::now();
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let counted = ProgressReader {
        inner: std::io::BufReader::with_capacity(1 << 20, input),
        bar: bar(size, "reading"),
        read: 0,
    };
    if !progress {
        counted
            .bar
            .set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let reading = counted.bar.clone();
    let (people, mut errors) = vaxgrid_server::import::parse_persons_csv(counted, |_| {});
    reading.finish_and_clear();
    let rows: Vec<usize> = people.iter().map(|(r, _)| *r).collect();
    let (placed, check_errors) = store
        .check_people(people.into_iter().map(|(_, p)| p).collect())
        .await?;
    errors.extend(check_errors.into_iter().map(|mut e| {
        e.row = rows.get(e.row - 1).copied().unwrap_or(e.row);
        e
    }));
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() && !skip_invalid {
        return Ok(ImportReport {
            imported: 0,
            errors,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let writing = bar(placed.len() as u64, "writing");
    if !progress {
        writing.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let imported = store
        .insert_people(&placed, "cli", |n| writing.set_position(n as u64))
        .await?;
    writing.finish_and_clear();
    Ok(ImportReport {
        imported,
        errors,
        seconds: started.elapsed().as_secs_f64(),
    })
}

struct ProgressReader<R> {
    inner: R,
    bar: ProgressBar,
    read: u64,
}

impl<R: std::io::Read> std::io::Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read & 0xFFFF < n as u64 {
            self.bar.set_position(self.read);
        }
        Ok(n)
    }
}

pub async fn import_persons(
    file: &Path,
    database_url: &str,
    skip_invalid: bool,
) -> Result<ExitCode> {
    let store = Store::open(database_url).await?;
    let report = import_persons_file(&store, file, skip_invalid, true).await?;
    for e in report.errors.iter().take(50) {
        eprintln!("row {}: {}: {}", e.row, e.field, e.message);
    }
    if report.errors.len() > 50 {
        eprintln!("… and {} more bad rows", report.errors.len() - 50);
    }
    if !report.errors.is_empty() && !skip_invalid {
        eprintln!(
            "{} bad rows; nothing was imported (use --skip-invalid to import the good rows)",
            report.errors.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "imported {} persons in {:.1} s ({:.0}/s){}",
        report.imported,
        report.seconds,
        report.imported as f64 / report.seconds.max(1e-9),
        if report.errors.is_empty() {
            String::new()
        } else {
            format!("; skipped {} bad rows", report.errors.len())
        }
    );
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub const DOSE_HEADER: [&str; 15] = [
    "id",
    "person_id",
    "kind",
    "corrects_id",
    "product_code",
    "lot_number",
    "site_code",
    "dose_number",
    "administered_on",
    "vaccinator",
    "override_reason",
    "reason",
    "author",
    "area_code",
    "recorded_at",
];

pub async fn export_doses(database_url: &str, output: Option<&Path>) -> Result<()> {
    let store = Store::open(database_url).await?;
    let total = store.count_doses().await?;
    let sink: Box<dyn std::io::Write> = match output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(sink);
    w.write_record(DOSE_HEADER)?;
    let progress = bar(total as u64, "exporting");
    if output.is_none() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut after: Option<String> = None;
    loop {
        let page = store.doses_after(after.as_deref(), 5000).await?;
        if page.is_empty() {
            break;
        }
        for d in &page {
            w.write_record([
                d.id.as_str(),
                &d.person_id,
                d.kind.as_str(),
                d.corrects_id.as_deref().unwrap_or(""),
                &d.product_code,
                &d.lot_number,
                &d.site_code,
                &d.dose_number.to_string(),
                &d.administered_on,
                d.vaccinator.as_deref().unwrap_or(""),
                d.override_reason.as_deref().unwrap_or(""),
                d.reason.as_deref().unwrap_or(""),
                d.author.as_deref().unwrap_or(""),
                &d.area_code,
                &d.recorded_at,
            ])?;
        }
        progress.inc(page.len() as u64);
        after = page.last().map(|d| d.id.clone());
    }
    w.flush()?;
    progress.finish_and_clear();
    Ok(())
}
