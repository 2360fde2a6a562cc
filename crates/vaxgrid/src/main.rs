//! `vaxgrid`: the command line. Serve the API, run the demo province, migrate,
//! import and export bulk lists, check counters and the audit chain, and run
//! the benchmarks.

mod accounts;
mod bench;
mod checkpoint;
mod demo;
mod files;
mod outbreak;
mod serve;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vaxgrid", version, about = "Mass-vaccination campaign system")]
struct Cli {
    /// Log lines as text for people or JSON (one object a line) for log
    /// collectors; levels and targets come from RUST_LOG (default info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "VAXGRID_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to standard error, filtered by `RUST_LOG` (e.g.
/// `info,vaxgrid_server::observe=debug`; `info` when unset or unreadable).
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Where reminders go.
#[derive(clap::Args, Clone)]
pub struct ReminderArgs {
    /// POST each reminder as signed JSON to this http(s) URL (the
    /// deployment's SMS gateway or a relay to a messaging account); the
    /// shared secret comes from VAXGRID_REMINDERS_SECRET (16 characters or
    /// more). Without it reminders are only written to the log.
    #[arg(long, env = "VAXGRID_REMINDERS_WEBHOOK")]
    pub reminders_webhook: Option<String>,
}

impl ReminderArgs {
    /// The sender these arguments name; an unusable URL or secret stops
    /// the start with the reason.
    pub fn sender(&self) -> Result<std::sync::Arc<dyn vaxgrid_server::reminders::ReminderSender>> {
        let Some(url) = &self.reminders_webhook else {
            return Ok(std::sync::Arc::new(
                vaxgrid_server::reminders::LoggingSender,
            ));
        };
        let secret = std::env::var("VAXGRID_REMINDERS_SECRET").map_err(|_| {
            anyhow::anyhow!(
                "--reminders-webhook needs the shared secret in VAXGRID_REMINDERS_SECRET"
            )
        })?;
        let sender = vaxgrid_server::reminders::WebhookSender::new(url, &secret)
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(std::sync::Arc::new(sender))
    }
}

#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// sqlite://FILE or postgres://USER@HOST:PORT/DB
    #[arg(
        long,
        env = "VAXGRID_DATABASE_URL",
        default_value = "sqlite://vaxgrid.db"
    )]
    pub database_url: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        dcc: DccArgs,
        /// Also take HL7 v2 VXU messages over MLLP (TCP) on this address, e.g. 127.0.0.1:2575.
        #[arg(long)]
        mllp: Option<String>,
        #[command(flatten)]
        checkpoint: CheckpointArgs,
        /// A reverse proxy (IP address) whose X-Forwarded-For names the
        /// client; repeat or separate by commas. Sign-in throttling and the
        /// audit log then see each client's own address.
        #[arg(long, env = "VAXGRID_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxy: Vec<std::net::IpAddr>,
        #[command(flatten)]
        reminders: ReminderArgs,
        /// Dose writers applying batches at once (PostgreSQL only; SQLite
        /// has one). Default 1: on two cores a second one, waiting on the
        /// first's counter rows, took fewer doses a second.
        #[arg(long, env = "VAXGRID_DOSE_WRITERS", value_parser = clap::value_parser!(u16).range(1..=16))]
        dose_writers: Option<u16>,
    },
    /// Outbreak response: the surge planner (article 003's scenarios).
    Outbreak {
        #[command(subcommand)]
        what: OutbreakWhat,
    },
    /// EU DCC signing keys.
    Keys {
        #[command(subcommand)]
        what: KeysWhat,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create and seed vaxgrid-demo.db (a demo province) if absent, then serve it.
    Demo {
        #[arg(long, default_value = "vaxgrid-demo.db")]
        file: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Residents to generate.
        #[arg(long, default_value_t = 100_000)]
        residents: usize,
        /// Seed the database and exit without serving.
        #[arg(long)]
        seed_only: bool,
        /// Also take HL7 v2 VXU messages over MLLP (TCP) on this address, e.g. 127.0.0.1:2575.
        #[arg(long)]
        mllp: Option<String>,
    },
    /// Import a bulk list.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export a bulk list as CSV.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Check that stored counters (coverage, doses, stock on hand) equal a
    /// recount from the records.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Users and their roles.
    User {
        #[command(subcommand)]
        what: accounts::UserWhat,
    },
    /// Machine tokens (bearer) for the API.
    Token {
        #[command(subcommand)]
        what: accounts::TokenWhat,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Reminders to residents (due next doses, missed appointments).
    Reminders {
        #[command(subcommand)]
        what: RemindersWhat,
    },
    /// Benchmarks; each prints its figures and a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        what: bench::BenchWhat,
    },
}

/// Where the certificate keys are and who issues.
#[derive(clap::Args, Clone)]
pub struct CheckpointArgs {
    /// Append a signed checkpoint of the audit chain's head to this file at
    /// start and then periodically (see docs/operations.md).
    #[arg(long, requires = "audit_key")]
    pub audit_checkpoint: Option<std::path::PathBuf>,
    /// The private key that signs checkpoints (`vaxgrid audit keygen`).
    #[arg(long, requires = "audit_checkpoint")]
    pub audit_key: Option<std::path::PathBuf>,
    /// Seconds between checkpoints (one is written only when the head moved).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_checkpoint_every: u64,
}

#[derive(clap::Args, Clone)]
pub struct DccArgs {
    /// Folder made by `vaxgrid keys init`; without it no certificates are issued.
    #[arg(long, env = "VAXGRID_DCC_KEYS")]
    pub dcc_keys: Option<std::path::PathBuf>,
    /// ISO 3166 country code of the issuer.
    #[arg(long, default_value = "VN")]
    pub country: String,
    /// Issuer named in certificates.
    #[arg(long, default_value = "Ministry of Health of Viet Nam")]
    pub issuer: String,
}

#[derive(Subcommand)]
enum KeysWhat {
    /// Create a country signing CA and a document signer in a folder (kept if present).
    Init {
        dir: std::path::PathBuf,
        #[arg(long, default_value = "VN")]
        country: String,
    },
    /// Put a new document signer in charge; certificates signed by the old ones stay verifiable.
    Rotate {
        dir: std::path::PathBuf,
        #[arg(long, default_value = "VN")]
        country: String,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Persons CSV: id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups
    Persons {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Import the good rows even when some rows are bad (bad rows are reported).
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Staff roster CSV: username,display_name,roles,site,area (roles separated by ';';
    /// a bare role holds at the row's site or area). All rows or none unless
    /// --skip-invalid. Each new account gets an invitation (written once to
    /// --invitations, or standard output) its holder redeems by choosing a password.
    Staff {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        skip_invalid: bool,
        /// Where to write username,invitation (default: standard output).
        #[arg(long)]
        invitations: Option<std::path::PathBuf>,
    },
    /// Sites CSV: code,name,kind,area_code,stations,daily_capacity (as `GET
    /// /api/v1/sites/export` writes it). All rows or none: bad rows are listed
    /// with row, column and reason, and nothing is written.
    Sites {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Sessions CSV: id,site_code,day,opens,closes,stations,per_station_per_hour,
    /// slot_minutes,village_code (id and village_code optional). All rows or none.
    Sessions {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Doses CSV as `export doses` writes it; each row is checked by the dose rules and
    /// recorded or refused on its own (refused rows are listed with row, column and reason).
    Doses {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// HL7 v2 VXU messages: one message or a batch file (FHS/BHS … BTS/FTS). Each message
    /// is taken or refused whole, on its own; a line per message reports its MSA code and
    /// problems.
    Hl7 {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Write the ACK (an ACK batch for a batch) to this file.
        #[arg(long)]
        acks: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    /// All dose records, corrections included, person by person in recording order.
    Doses {
        #[command(flatten)]
        db: DbArgs,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// All persons with their ids, in the import layout.
    Persons {
        #[command(flatten)]
        db: DbArgs,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum OutbreakWhat {
    /// Project beds per tier and region, isolation places and laboratory
    /// load day by day for a scenario, and say when each runs out.
    Plan {
        /// A shipped scenario: 1000, 5000 or 10000 cases (Quảng Ninh, article 003).
        #[arg(long, conflicts_with = "file", value_parser = ["1000", "5000", "10000"])]
        scenario: Option<String>,
        /// A scenario file (JSON, the shipped scenarios' format; see `--print-scenario`).
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Print the scenario itself as JSON (a starting point for a file).
        #[arg(long)]
        print_scenario: bool,
        /// Print the whole projection as JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RemindersWhat {
    /// Generate the reminders due today and send the pending ones once
    /// (to the webhook when one is named, else to the log).
    Run {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        reminders: ReminderArgs,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Walk the hash chain, report the first broken link and any dose no
    /// entry names; with --checkpoint, check the log against signed
    /// checkpoints (a cut tail, a deleted or replaced log).
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// A file of checkpoints (`audit checkpoint`, `serve --audit-checkpoint`).
        #[arg(long, requires = "key_pub")]
        checkpoint: Option<std::path::PathBuf>,
        /// The public key that signed them (`KEY.pub` of `audit keygen`).
        #[arg(long, requires = "checkpoint")]
        key_pub: Option<std::path::PathBuf>,
    },
    /// Sign the chain's current head and append it to a checkpoint file.
    Checkpoint {
        #[command(flatten)]
        db: DbArgs,
        /// The private key (`audit keygen`).
        #[arg(long)]
        key: std::path::PathBuf,
        /// The checkpoint file (created if absent; lines are appended).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Create a checkpoint signing key: FILE (private) and FILE.pub.
    Keygen {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match command {
        Command::Serve {
            db,
            listen,
            dcc,
            mllp,
            checkpoint,
            trusted_proxy,
            reminders,
            dose_writers,
        } => {
            serve::serve(
                &db.database_url,
                &checkpoint,
                serve::Serving {
                    listen: &listen,
                    dcc: &dcc,
                    mllp: mllp.as_deref(),
                    trusted_proxies: &trusted_proxy,
                    reminders: reminders.sender()?,
                    writer: vaxgrid_store::writer::WriterConfig {
                        writers: dose_writers.map(usize::from),
                        ..Default::default()
                    },
                },
            )
            .await?
        }
        Command::Keys { what } => keys(what)?,
        Command::Migrate { db } => migrate(&db.database_url).await?,
        Command::Demo {
            file,
            listen,
            residents,
            seed_only,
            mllp,
        } => demo::demo(&file, &listen, residents, seed_only, mllp.as_deref()).await?,
        Command::Import { what } => return import(what).await,
        Command::Export {
            what: ExportWhat::Doses { db, output },
        } => files::export_doses(&db.database_url, output.as_deref()).await?,
        Command::Export {
            what: ExportWhat::Persons { db, output },
        } => files::export_persons(&db.database_url, output.as_deref()).await?,
        Command::Check { db } => return check(&db.database_url).await,
        Command::User { what } => accounts::user(what).await?,
        Command::Token { what } => accounts::token(what).await?,
        Command::Audit { what } => return audit(what).await,
        Command::Reminders {
            what: RemindersWhat::Run { db, reminders },
        } => {
            let sender = reminders.sender()?;
            let store = vaxgrid_store::Store::open(&db.database_url).await?;
            let (generated, sent, failed) =
                vaxgrid_server::reminders::run_once(&store, sender.as_ref()).await?;
            store.close().await;
            println!("reminders: {generated} generated, {sent} sent, {failed} failed");
        }
        Command::Bench { what } => bench::run(what).await?,
        Command::Outbreak {
            what:
                OutbreakWhat::Plan {
                    scenario,
                    file,
                    print_scenario,
                    json,
                },
        } => outbreak::plan(scenario.as_deref(), file.as_deref(), print_scenario, json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `vaxgrid keys init|rotate`.
fn keys(what: KeysWhat) -> Result<()> {
    let hex = |kid: &[u8]| -> String { kid.iter().map(|b| format!("{b:02x}")).collect() };
    match what {
        KeysWhat::Init { dir, country } => {
            let (kid, created) = vaxgrid_server::dcc_keys::init_key_dir(&dir, &country)?;
            let kid = hex(&kid);
            if created {
                println!(
                    "created signing keys in {} (document signer kid {kid})",
                    dir.display()
                );
            } else {
                println!(
                    "{} already holds keys (document signer kid {kid})",
                    dir.display()
                );
            }
        }
        KeysWhat::Rotate { dir, country } => {
            let kid = hex(&vaxgrid_server::dcc_keys::rotate_key_dir(&dir, &country)?);
            println!(
                "document signer {kid} now signs in {}; restart the server to use it",
                dir.display()
            );
        }
    }
    Ok(())
}

/// `vaxgrid migrate`.
async fn migrate(database_url: &str) -> Result<()> {
    let store = vaxgrid_store::Store::connect(database_url).await?;
    let applied = store.migrate().await?;
    if applied.is_empty() {
        println!("database is up to date");
    }
    for m in applied {
        println!("applied {m}");
    }
    Ok(())
}

/// `vaxgrid import …`: each file kind through `files`.
async fn import(what: ImportWhat) -> Result<std::process::ExitCode> {
    match what {
        ImportWhat::Persons {
            file,
            db,
            skip_invalid,
        } => files::import_persons(&file, &db.database_url, skip_invalid).await,
        ImportWhat::Staff {
            file,
            db,
            skip_invalid,
            invitations,
        } => {
            files::import_staff(
                &file,
                &db.database_url,
                skip_invalid,
                invitations.as_deref(),
            )
            .await
        }
        ImportWhat::Sites { file, db } => {
            files::import_plan(&file, &db.database_url, files::Plan::Sites).await
        }
        ImportWhat::Sessions { file, db } => {
            files::import_plan(&file, &db.database_url, files::Plan::Sessions).await
        }
        ImportWhat::Doses { file, db } => files::import_doses(&file, &db.database_url).await,
        ImportWhat::Hl7 { file, db, acks } => {
            files::import_hl7(&file, &db.database_url, acks.as_deref()).await
        }
    }
}

/// `vaxgrid check`: the counters, stock on hand (the sum of the ledger)
/// and items against a recount; fails listing every difference.
async fn check(database_url: &str) -> Result<std::process::ExitCode> {
    let store = vaxgrid_store::Store::open(database_url).await?;
    let mut diffs = store.check_counters().await?;
    // Stock on hand is a counter too: the sum of the ledger.
    diffs.extend(store.check_stock().await?);
    diffs.extend(store.check_items().await?);
    if diffs.is_empty() {
        println!("counters equal a recount");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    for d in &diffs {
        println!("{d}");
    }
    Ok(std::process::ExitCode::FAILURE)
}

/// `vaxgrid audit verify|checkpoint|keygen`.
async fn audit(what: AuditWhat) -> Result<std::process::ExitCode> {
    match what {
        AuditWhat::Verify {
            db,
            checkpoint,
            key_pub,
        } => return verify_audit(&db.database_url, checkpoint, key_pub).await,
        AuditWhat::Checkpoint { db, key, out } => {
            let key = checkpoint::load_key(&key)?;
            let store = vaxgrid_store::Store::open(&db.database_url).await?;
            let line = checkpoint::write(&store, &key, &out).await;
            store.close().await;
            println!("{}", line?.1);
        }
        AuditWhat::Keygen { out } => {
            let public = checkpoint::keygen(&out)?;
            println!(
                "private key {} (keep it for the signer only), public key {}",
                out.display(),
                public.display()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `vaxgrid audit verify`: the hash chain, the doses no entry names and,
/// with checkpoints, the log against them; fails naming what is wrong.
async fn verify_audit(
    database_url: &str,
    checkpoint: Option<std::path::PathBuf>,
    key_pub: Option<std::path::PathBuf>,
) -> Result<std::process::ExitCode> {
    let anchors = match (&checkpoint, &key_pub) {
        (Some(file), Some(key)) => checkpoint::read_file(file, &checkpoint::load_public_key(key)?)?,
        _ => Vec::new(),
    };
    let store = vaxgrid_store::Store::open(database_url).await?;
    let v = store.verify_audit_anchored(&anchors).await?;
    store.close().await;
    if let Some(broken) = &v.broken {
        println!(
            "audit chain broken at entry {}: {} ({} entries)",
            broken.seq, broken.reason, v.entries
        );
    }
    if let Some(why) = &v.anchor {
        println!("audit log contradicts its checkpoints: {why}");
    }
    if v.unaudited_dose_count > 0 {
        let more = v.unaudited_dose_count - v.unaudited_doses.len() as i64;
        println!(
            "{} doses have no audit entry: {}{}",
            v.unaudited_dose_count,
            v.unaudited_doses.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    if !v.intact() {
        return Ok(std::process::ExitCode::FAILURE);
    }
    print!("audit chain intact: {} entries", v.entries);
    if let Some(latest) = anchors.iter().max_by_key(|a| a.seq) {
        print!(
            ", agrees with {} checkpoints (latest: entry {} at {})",
            anchors.len(),
            latest.seq,
            latest.label
        );
    }
    println!();
    Ok(std::process::ExitCode::SUCCESS)
}
