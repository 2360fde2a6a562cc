//! Bulk lists on the command line: `import persons`, `export doses`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use vaxgrid_interop::csv::doses::{ExportedDose, DOSE_HEADER};
use vaxgrid_interop::csv::persons::{ExportedPerson, EXPORT_HEADER};
use vaxgrid_store::persons::{place_person, PlacedPerson, RowError};
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
    /// Seconds spent reading, checking and writing rows (overlapped), and
    /// finishing (index rebuild, counters, commit).
    pub phases: [f64; 2],
}

/// Parses, checks and inserts a persons CSV in one transaction. A thread
/// reads and checks chunks of rows while the previous chunk is written.
/// Unless `skip_invalid`, any bad row means nothing is written.
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
    let progress_bar = bar(size, "importing");
    if !progress {
        progress_bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let counted = ProgressReader {
        inner: std::io::BufReader::with_capacity(1 << 20, input),
        bar: progress_bar.clone(),
        read: 0,
    };
    let areas = store.area_map().await?;
    let today = vaxgrid_store::today();
    let (sender, mut chunks) = tokio::sync::mpsc::channel::<CheckedChunk>(4);
    let reader = std::thread::spawn(move || read_and_check(counted, &areas, today, &sender));
    let mut import = store.begin_person_import((size / 90) as usize).await?;
    if has_id_column(file)? {
        import = import.with_given_ids();
    }
    let mut errors: Vec<RowError> = Vec::new();
    while let Some((good, bad)) = chunks.recv().await {
        errors.extend(bad);
        let write = skip_invalid || errors.is_empty();
        if !good.is_empty() {
            errors.extend(import.add(good, write).await?);
        }
    }
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the CSV reader thread failed"))?;
    progress_bar.finish_and_clear();
    errors.sort_by_key(|e| e.row);
    let checked_at = started.elapsed().as_secs_f64();
    if !errors.is_empty() && !skip_invalid {
        import.rollback().await?;
        return Ok(ImportReport {
            imported: 0,
            errors,
            seconds: checked_at,
            phases: [checked_at, 0.0],
        });
    }
    let imported = import.commit("cli").await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(ImportReport {
        imported,
        errors,
        seconds,
        phases: [checked_at, seconds - checked_at],
    })
}

/// Rows checked by the reader thread: the placed persons (with their row)
/// and the refused rows.
type CheckedChunk = (Vec<(usize, PlacedPerson)>, Vec<RowError>);

/// Rows per chunk sent to the writer.
const CHECKED_CHUNK: usize = 5000;

/// Reads the persons CSV and checks each row against `areas`, sending
/// chunks of [`CHECKED_CHUNK`] placed persons (with the refusals since the
/// last chunk) as they fill, then the rest. Runs on its own thread, so the
/// next chunk is read while the last is written; stops when the writer
/// hangs up.
fn read_and_check(
    input: impl std::io::Read,
    areas: &vaxgrid_store::persons::AreaMap,
    today: time::Date,
    sender: &tokio::sync::mpsc::Sender<CheckedChunk>,
) {
    let rows = match vaxgrid_server::import::PersonCsv::new(input) {
        Ok(rows) => rows,
        Err(e) => {
            let _ = sender.blocking_send((Vec::new(), vec![e]));
            return;
        }
    };
    let mut good = Vec::with_capacity(CHECKED_CHUNK);
    let mut bad = Vec::new();
    for (row, person) in rows {
        match person.and_then(|p| {
            place_person(p, areas, today).map_err(|(field, message)| RowError {
                row,
                field,
                message,
            })
        }) {
            Ok(p) => good.push((row, p)),
            Err(e) => bad.push(e),
        }
        if good.len() == CHECKED_CHUNK {
            let full = std::mem::replace(&mut good, Vec::with_capacity(CHECKED_CHUNK));
            if sender
                .blocking_send((full, std::mem::take(&mut bad)))
                .is_err()
            {
                return;
            }
        }
    }
    let _ = sender.blocking_send((good, bad));
}

/// Whether the CSV's header has an `id` column (a file exported by vaxgrid).
fn has_id_column(file: &Path) -> Result<bool> {
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    Ok(reader
        .headers()
        .map(|h| h.iter().any(|c| c == "id"))
        .unwrap_or(false))
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

/// `vaxgrid import staff`: a roster through the same path as
/// `POST /api/v1/users/import`; the invitations go to `invitations` (or
/// standard output), the bad rows to standard error.
pub async fn import_staff(
    file: &Path,
    database_url: &str,
    skip_invalid: bool,
    invitations: Option<&Path>,
) -> Result<ExitCode> {
    let store = Store::open(database_url).await?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let started = std::time::Instant::now();
    let (answer, _) = import_staff_bytes(&store, &bytes, skip_invalid).await?;
    let answer = match answer {
        Ok(a) => a,
        Err(rows) => {
            for e in rows.iter().take(50) {
                eprintln!("row {}: {}: {}", e.row, e.field, e.message);
            }
            if rows.len() > 50 {
                eprintln!("… and {} more bad rows", rows.len() - 50);
            }
            eprintln!(
                "{} bad rows; nothing was imported (use --skip-invalid to import the good rows)",
                rows.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = csv_sink(invitations)?;
    out.write_record(["username", "invitation"])?;
    for i in &answer.invitations {
        out.write_record([&i.username, &i.invitation])?;
    }
    out.flush()?;
    for e in answer.skipped.iter().take(50) {
        eprintln!("row {}: {}: {}", e.row, e.field, e.message);
    }
    eprintln!(
        "imported {} staff in {:.1} s{}",
        answer.imported,
        started.elapsed().as_secs_f64(),
        if answer.skipped.is_empty() {
            String::new()
        } else {
            format!("; skipped {} bad rows", answer.skipped.len())
        }
    );
    Ok(if answer.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads and imports a roster; the answer, or the bad rows when nothing
/// was written; and the seconds spent reading the CSV (with the
/// invitations made).
pub async fn import_staff_bytes(
    store: &Store,
    bytes: &[u8],
    skip_invalid: bool,
) -> Result<(
    Result<vaxgrid_server::api::staff::ImportAnswer, Vec<vaxgrid_server::error::RowProblem>>,
    f64,
)> {
    let started = std::time::Instant::now();
    let roster = vaxgrid_server::api::staff::read_roster(bytes);
    let read_secs = started.elapsed().as_secs_f64();
    let actor = vaxgrid_store::model::Actor::system("cli");
    match vaxgrid_server::api::staff::import_roster(store, roster, skip_invalid, &actor).await {
        Ok(a) => Ok((Ok(a), read_secs)),
        Err(vaxgrid_server::error::ApiError::Rows { errors, .. }) => Ok((Err(errors), read_secs)),
        Err(e) => {
            let (_, detail) = e.status_and_detail();
            anyhow::bail!("{detail}")
        }
    }
}

/// Which part of a plan a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Sites,
    Sessions,
}

/// `vaxgrid import sites|sessions FILE`: all rows or none, as
/// `POST /api/v1/sites/import` and `POST /api/v1/sessions/import` do.
pub async fn import_plan(file: &Path, database_url: &str, plan: Plan) -> Result<ExitCode> {
    let store = Store::open(database_url).await?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let started = Instant::now();
    let actor = vaxgrid_store::model::Actor::system("cli");
    let bytes = bytes::Bytes::from(bytes);
    let done = match plan {
        Plan::Sites => {
            vaxgrid_server::api::site_plans::import_sites_csv(&store, bytes, &actor).await
        }
        Plan::Sessions => {
            vaxgrid_server::api::site_plans::import_sessions_csv(&store, bytes, &actor).await
        }
    };
    match done {
        Ok(done) => {
            let what = match plan {
                Plan::Sites => "sites".to_string(),
                Plan::Sessions => format!("sessions ({} slots)", done.slots.unwrap_or(0)),
            };
            println!(
                "imported {} {what} in {:.1} s",
                done.imported,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(vaxgrid_server::error::ApiError::Rows { errors, .. }) => {
            for e in errors.iter().take(50) {
                eprintln!("row {}: {}: {}", e.row, e.field, e.message);
            }
            if errors.len() > 50 {
                eprintln!("… and {} more bad rows", errors.len() - 50);
            }
            eprintln!("{} bad rows; nothing was imported", errors.len());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            let (_, detail) = e.status_and_detail();
            anyhow::bail!("{detail}")
        }
    }
}

fn csv_sink(output: Option<&Path>) -> Result<csv::Writer<Box<dyn std::io::Write>>> {
    let sink: Box<dyn std::io::Write> = match output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    Ok(csv::Writer::from_writer(sink))
}

/// Every dose record, corrections included: person by person, each
/// person's records in the order they were recorded, the order
/// `import doses` replays them in.
pub async fn export_doses(database_url: &str, output: Option<&Path>) -> Result<()> {
    let store = Store::open(database_url).await?;
    let total = store.count_doses().await?;
    let mut w = csv_sink(output)?;
    w.write_record(DOSE_HEADER)?;
    let progress = bar(total as u64, "exporting");
    if output.is_none() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut after: Option<String> = None;
    loop {
        let (page, last) = store.doses_by_person_after(after.as_deref(), 2000).await?;
        if last.is_none() {
            break;
        }
        for d in &page {
            let dose = ExportedDose {
                id: &d.id,
                person_id: &d.person_id,
                kind: d.kind.as_str(),
                corrects_id: d.corrects_id.as_deref(),
                product_code: &d.product_code,
                lot_number: &d.lot_number,
                site_code: &d.site_code,
                dose_number: d.dose_number,
                administered_on: &d.administered_on,
                vaccinator: d.vaccinator.as_deref(),
                override_reason: d.override_reason.as_deref(),
                reason: d.reason.as_deref(),
                author: d.author.as_deref(),
                area_code: &d.area_code,
                recorded_at: &d.recorded_at,
            };
            w.write_record(dose.cells())?;
        }
        progress.inc(page.len() as u64);
        after = last;
    }
    w.flush()?;
    progress.finish_and_clear();
    Ok(())
}

/// Every person in the import layout with its id first, so the file can be
/// imported elsewhere with the same ids (and their doses after it).
pub async fn export_persons(database_url: &str, output: Option<&Path>) -> Result<()> {
    let store = Store::open(database_url).await?;
    let total = store.count_persons().await?;
    let mut w = csv_sink(output)?;
    w.write_record(EXPORT_HEADER)?;
    let progress = bar(total as u64, "exporting");
    if output.is_none() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut after: Option<String> = None;
    loop {
        let page = store.persons_after(after.as_deref(), 5000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for p in &page {
            let person = ExportedPerson {
                id: &p.id,
                id_type: p.id_type,
                id_number: &p.id_number,
                full_name: &p.full_name,
                birth_date: &p.birth_date,
                sex: p.sex,
                phone: p.phone.as_deref(),
                home_area: &p.home_area,
                occupation: p.occupation.as_deref(),
                priority_groups: &p.priority_groups,
            };
            w.write_record(person.cells())?;
        }
        progress.inc(page.len() as u64);
    }
    w.flush()?;
    progress.finish_and_clear();
    Ok(())
}

/// Applies a doses CSV row by row (each row all or nothing) and prints the
/// rows it refused. Fails when any row was refused.
pub async fn import_doses(file: &Path, database_url: &str) -> Result<ExitCode> {
    let store = Store::open(database_url).await?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let progress = bar(size, "importing");
    let counted = ProgressReader {
        inner: std::io::BufReader::with_capacity(1 << 20, input),
        bar: progress.clone(),
        read: 0,
    };
    let started = Instant::now();
    let mut bulk = vaxgrid_store::writer::BulkWriter::new(store);
    let report = vaxgrid_server::dose_csv::import_doses(
        &mut bulk,
        counted,
        &vaxgrid_store::model::Actor::system("cli"),
        |_| {},
    )
    .await?;
    progress.finish_and_clear();
    for e in report.errors.iter().take(50) {
        eprintln!("row {}: {}: {}", e.row, e.field, e.message);
    }
    if report.errors.len() > 50 {
        eprintln!("… and {} more refused rows", report.errors.len() - 50);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "recorded {} doses, {} already present, {} refused, in {seconds:.1} s ({:.0} rows/s)",
        report.created,
        report.existing,
        report.errors.len(),
        (report.created + report.existing + report.errors.len()) as f64 / seconds.max(1e-9),
    );
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `vaxgrid import hl7 FILE`: one message or a batch, each message answered
/// on its own as `POST /hl7/v2` would (the same rules, all or nothing per
/// message), with a line per message.
pub async fn import_hl7(file: &Path, database_url: &str, acks: Option<&Path>) -> Result<ExitCode> {
    use vaxgrid_interop::hl7v2::AckCode;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let store = Store::open(database_url).await?;
    let app = vaxgrid_server::AppState::new(store, vaxgrid_store::writer::WriterConfig::default())?;
    let by = vaxgrid_store::model::Actor::system("cli");
    let started = Instant::now();
    let (reply, reports) = if vaxgrid_interop::hl7v2::is_batch(&text) {
        vaxgrid_server::hl7::handle_batch(&app, &text, None, &by).await
    } else {
        let report = vaxgrid_server::hl7::answer_message(&app, &text, None, &by).await;
        (report.ack.clone(), vec![report])
    };
    let mut refused = 0;
    for (i, r) in reports.iter().enumerate() {
        let id = if r.control_id.is_empty() {
            "-"
        } else {
            &r.control_id
        };
        println!("message {} ({id}): {}", i + 1, r.code.code());
        for (severity, problem) in &r.problems {
            println!("  {} {problem}", severity.code());
        }
        if r.code != AckCode::Accept {
            refused += 1;
        }
    }
    if let Some(path) = acks {
        std::fs::write(path, reply.replace('\r', "\r\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "{} messages: {} accepted, {refused} refused, in {:.1} s",
        reports.len(),
        reports.len() - refused,
        started.elapsed().as_secs_f64()
    );
    Ok(if refused == 0 && !reports.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
