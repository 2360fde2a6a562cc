//! The dose writer: group commit.
//!
//! Handlers send commands over a bounded channel with a reply slot. One task
//! takes whatever is waiting (up to `max_batch`), applies it in one
//! transaction and commits once (one fsync for the whole batch), then answers
//! every waiting request. Only then does a client get its 2xx: throughput
//! comes from batching, not from weakening durability. While one batch
//! commits, the next one gathers, so batches grow with load by themselves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::doses::{apply_batch, Catalog, WriteCommand, WriteOutcome};
use crate::error::StoreError;
use crate::exchange::{apply_exchange, ExchangeOutcome, ExchangeWrite};
use crate::Store;

#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most commands committed in one transaction.
    pub max_batch: usize,
    /// Commands that may wait; past that, submit answers `Busy`.
    pub queue: usize,
    /// Batches applied at once on PostgreSQL, each by a writer of its own
    /// on its own connection (None: [`POSTGRES_WRITERS`]). SQLite has one:
    /// one writer at a time is all it allows.
    pub writers: Option<usize>,
}

/// Dose writers on PostgreSQL by default: one. While one writer's batch
/// holds its row locks through the write and the commit, another could
/// read and decide its own batch; but every batch increments the same
/// counter rows (the province's coverage, the day's doses) and takes
/// from the same stores, so the second waits for the first's commit, WAL
/// flush included, and on two cores two writers took fewer doses a second
/// than one (8,500 against 9,100 over HTTP, see docs/benchmarks.md,
/// 2026-12-07). More may pay where the disk's flush is slower than the
/// statements. A person's batches are decided one at a time whatever the
/// number: each batch locks the persons it decides on first (see
/// `doses::lock_people`), as the importer's and other servers' writers
/// decide batches beside this one.
pub const POSTGRES_WRITERS: usize = 1;

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: 512,
            queue: 8192,
            writers: None,
        }
    }
}

impl WriterConfig {
    /// How many writers run on `backend`.
    pub fn writers_on(&self, backend: crate::db::Backend) -> usize {
        match backend {
            crate::db::Backend::Sqlite => 1,
            crate::db::Backend::Postgres => self.writers.unwrap_or(POSTGRES_WRITERS).max(1),
        }
    }
}

/// Counters for /metrics and the benchmark.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub batches: AtomicU64,
    pub commands: AtomicU64,
    pub largest_batch: AtomicU64,
    pub failed_batches: AtomicU64,
    pub retries: AtomicU64,
    /// Time spent applying and committing batches, in microseconds.
    pub busy_micros: AtomicU64,
    /// Batches by how long they took (a request waits for the batch
    /// being committed and then for its own).
    pub batch_time: crate::histogram::Histogram,
    /// Whether batches run on the writer's direct SQLite connection (set
    /// once it is open; false on PostgreSQL or if it could not be opened).
    pub direct_sqlite: std::sync::atomic::AtomicBool,
}

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;
type ExchangeReply = oneshot::Sender<Result<ExchangeOutcome, StoreError>>;

/// What waits in the writer's queue: a command, batched with the others,
/// or an exchange message, written whole in a transaction of its own.
/// A command is kept inline: it is the hot path, and boxing it would cost
/// an allocation per dose (the queue held such tuples before).
#[expect(clippy::large_enum_variant)]
enum Job {
    Command(WriteCommand, Reply),
    Exchange(Box<ExchangeWrite>, ExchangeReply),
}

#[derive(Clone)]
pub struct DoseWriter {
    tx: mpsc::Sender<Job>,
    pub stats: Arc<WriterStats>,
}

impl DoseWriter {
    /// Starts the writers (see [`WriterConfig::writers`]), each on a thread
    /// of its own with its own runtime and connections: on the shared
    /// runtime a writer would wait behind every queued HTTP task after each
    /// statement, and the batch would take longer. They take their batches
    /// from one queue. On SQLite the writer's batches run on a direct
    /// connection of its own (see `batch_tx`); failing to open it is an
    /// error here, at start-up, not a slower writer later.
    pub fn spawn(store: Store, config: WriterConfig) -> Result<DoseWriter, StoreError> {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let stats = Arc::new(WriterStats::default());
        for n in 0..config.writers_on(store.backend()) {
            spawn_one(store.clone(), n, rx.clone(), config, stats.clone())?;
        }
        Ok(DoseWriter { tx, stats })
    }

    /// Queues a command and waits until its batch is committed (or refused).
    pub async fn submit(&self, cmd: WriteCommand) -> Result<WriteOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job::Command(cmd, reply))
            .map_err(queue_error)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Queues one exchange message (persons, doses, history) and waits
    /// until it is committed whole, or refused with nothing written.
    pub async fn submit_exchange(&self, w: ExchangeWrite) -> Result<ExchangeOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job::Exchange(Box::new(w), reply))
            .map_err(queue_error)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

fn queue_error<T>(e: mpsc::error::TrySendError<T>) -> StoreError {
    match e {
        mpsc::error::TrySendError::Full(_) => StoreError::Busy,
        mpsc::error::TrySendError::Closed(_) => StoreError::WriterStopped,
    }
}

/// The receiving end of the writers' queue, shared by the writers: the one
/// holding it gathers the next batch.
type SharedQueue = Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>;

/// Starts writer number `n` on a thread of its own.
fn spawn_one(
    store: Store,
    n: usize,
    rx: SharedQueue,
    config: WriterConfig,
    stats: Arc<WriterStats>,
) -> Result<(), StoreError> {
    let direct = direct_connection(&store, &stats)?;
    let max_batch = config.max_batch.max(1);
    std::thread::Builder::new()
        .name(format!("dose-writer-{n}"))
        .spawn(move || writer_thread(store, direct, rx, max_batch, stats))
        .map_err(|e| {
            StoreError::Unavailable(format!("the dose writer cannot start its thread: {e}"))
        })?;
    Ok(())
}

/// A writer's thread: its own runtime and connections, then [`run`].
fn writer_thread(
    store: Store,
    direct: Option<rusqlite::Connection>,
    rx: SharedQueue,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the dose writer cannot start its runtime");
            return;
        }
    };
    runtime.block_on(async move {
        let own = match store.reconnect(2).await {
            Ok(own) => own,
            Err(e) => {
                tracing::error!(error = %e, "the dose writer cannot connect; using the shared pool");
                store
            }
        };
        run(own.clone(), direct, rx, max_batch, stats).await;
        own.close().await;
    });
}

async fn run(
    store: Store,
    mut direct: Option<rusqlite::Connection>,
    rx: SharedQueue,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let mut jobs: Vec<(WriteCommand, Reply)> = Vec::with_capacity(max_batch);
    let mut catalog = Catalog::default();
    // An exchange message taken from the queue while gathering a batch
    // waits until that batch is committed: a client's order is kept.
    let mut pending: Option<(Box<ExchangeWrite>, ExchangeReply)> = None;
    loop {
        let next = match pending.take() {
            Some((w, reply)) => Next::Exchange(w, reply),
            None => gather(&rx, &mut jobs, &mut pending, max_batch).await,
        };
        match next {
            Next::Closed => break,
            Next::Exchange(w, reply) => {
                let started = std::time::Instant::now();
                let outcome = exchange_with_retry(&store, &mut catalog, &w, &stats).await;
                record_batch(&stats, started, 1);
                if outcome.is_err() {
                    stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                }
                let _ = reply.send(outcome);
                continue;
            }
            Next::Batch => {}
        }
        let cmds: Vec<WriteCommand> = jobs.iter().map(|(c, _)| c.clone()).collect();
        let started = std::time::Instant::now();
        let outcome = apply_with_retry(&store, &mut catalog, direct.as_mut(), &cmds, &stats).await;
        record_batch(&stats, started, jobs.len());
        match outcome {
            Ok(results) => {
                for ((_, reply), result) in jobs.drain(..).zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                // Nothing of the batch was written; every client may retry
                // with the same ids.
                stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, batch = jobs.len(), "dose batch failed");
                for (_, reply) in jobs.drain(..) {
                    let _ = reply.send(Err(StoreError::Unavailable(
                        "the database did not accept the batch; nothing was recorded, retry with the same id".into(),
                    )));
                }
            }
        }
    }
}

/// What a writer takes from the queue next.
enum Next {
    /// Commands, gathered into the writer's batch.
    Batch,
    /// An exchange message, written alone.
    Exchange(Box<ExchangeWrite>, ExchangeReply),
    /// The queue is closed and empty.
    Closed,
}

/// Takes the next batch from the queue: waits for a first job, then takes
/// whatever else is waiting, up to `max_batch` commands, while holding the
/// queue (another writer gathers after). A first job that is an exchange
/// message is returned, to be written alone; one met while gathering waits
/// in `pending` for the next turn.
async fn gather(
    rx: &SharedQueue,
    jobs: &mut Vec<(WriteCommand, Reply)>,
    pending: &mut Option<(Box<ExchangeWrite>, ExchangeReply)>,
    max_batch: usize,
) -> Next {
    let mut rx = rx.lock().await;
    match rx.recv().await {
        None => return Next::Closed,
        Some(Job::Exchange(w, reply)) => return Next::Exchange(w, reply),
        Some(Job::Command(cmd, reply)) => jobs.push((cmd, reply)),
    }
    while jobs.len() < max_batch {
        match rx.try_recv() {
            Ok(Job::Command(cmd, reply)) => jobs.push((cmd, reply)),
            Ok(Job::Exchange(w, reply)) => {
                *pending = Some((w, reply));
                break;
            }
            Err(_) => break,
        }
    }
    Next::Batch
}

fn record_batch(stats: &WriterStats, started: std::time::Instant, commands: usize) {
    let took = started.elapsed();
    stats
        .busy_micros
        .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    stats.batch_time.record(took.as_secs_f64());
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.commands.fetch_add(commands as u64, Ordering::Relaxed);
    stats
        .largest_batch
        .fetch_max(commands as u64, Ordering::Relaxed);
}

/// An exchange message, retried a few times when the database was only
/// busy (nothing of a failed attempt was written).
async fn exchange_with_retry(
    store: &Store,
    catalog: &mut Catalog,
    w: &ExchangeWrite,
    stats: &WriterStats,
) -> Result<ExchangeOutcome, StoreError> {
    let mut attempt = 0u32;
    loop {
        match apply_exchange(store, catalog, w).await {
            Err(e) if e.is_transient() && attempt < 5 => {
                attempt += 1;
                stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "exchange message failed");
                break Err(StoreError::Unavailable(
                    "the database did not accept the message; nothing was recorded, send it again"
                        .into(),
                ));
            }
            other => break other,
        }
    }
}

/// On SQLite, the direct connection a writer's batches run on (see
/// `batch_tx`); None on PostgreSQL. `stats` records which.
fn direct_connection(
    store: &Store,
    stats: &WriterStats,
) -> Result<Option<rusqlite::Connection>, StoreError> {
    let direct = match store.backend() {
        crate::db::Backend::Sqlite => Some(crate::direct_sqlite::open(&store.url)?),
        crate::db::Backend::Postgres => None,
    };
    stats
        .direct_sqlite
        .store(direct.is_some(), Ordering::Relaxed);
    Ok(direct)
}

type BatchResult = Result<Vec<Result<WriteOutcome, StoreError>>, StoreError>;

/// How long the writer keeps retrying a batch whose connection was lost
/// (a PostgreSQL failover: the primary died, a standby is being promoted).
const RECONNECT_FOR: Duration = Duration::from_secs(60);

/// Whether `e` says the connection to the database was lost or could not be
/// had, rather than that the database refused the work.
fn connection_lost(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Database(
            sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::Protocol(_)
                | sqlx::Error::Tls(_)
        )
    )
}

/// Applies a batch, retrying a few times when the database was only busy,
/// and for up to `RECONNECT_FOR` when the connection was lost. A batch
/// whose commit was sent but not acknowledged may or may not have been
/// committed: the retry reads again what is stored, so its commands are
/// then answered as existing records (same ids, same bodies) and nothing is
/// applied twice.
#[tracing::instrument(level = "debug", skip_all, fields(commands = cmds.len()))]
async fn apply_with_retry(
    store: &Store,
    catalog: &mut Catalog,
    mut direct: Option<&mut rusqlite::Connection>,
    cmds: &[WriteCommand],
    stats: &WriterStats,
) -> BatchResult {
    let started = std::time::Instant::now();
    let mut attempt = 0u32;
    loop {
        match apply_batch(store, catalog, direct.as_deref_mut(), cmds).await {
            Err(e)
                if connection_lost(&e)
                    && store.backend() == crate::db::Backend::Postgres
                    && started.elapsed() < RECONNECT_FOR =>
            {
                attempt += 1;
                stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, attempt, "the dose writer lost its connection; retrying the batch");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) if e.is_transient() && attempt < 5 => {
                attempt += 1;
                stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
            }
            other => break other,
        }
    }
}

/// The writer's rules and batch commit for one caller with many commands at
/// hand (CSV imports): no queue, the caller chooses the batch. On SQLite the
/// batches run on a direct connection of its own (as the dose writer's),
/// on tokio's blocking threads so that the caller's runtime keeps serving.
pub struct BulkWriter {
    store: Store,
    /// Moved onto the blocking thread while a batch runs.
    state: Option<BulkState>,
    stats: Arc<WriterStats>,
}

struct BulkState {
    catalog: Catalog,
    direct: Option<rusqlite::Connection>,
}

impl BulkWriter {
    pub fn new(store: Store) -> BulkWriter {
        BulkWriter {
            store,
            state: Some(BulkState {
                catalog: Catalog::default(),
                direct: None,
            }),
            stats: Arc::new(WriterStats::default()),
        }
    }

    /// Applies `cmds` in one transaction. The outer error means nothing was
    /// written; the inner results say what happened to each command, and a
    /// refused command changes nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(commands = cmds.len()))]
    pub async fn apply(&mut self, cmds: &[WriteCommand]) -> BatchResult {
        let lost = || {
            StoreError::Unavailable(
                "the import's writer stopped; nothing of this batch was recorded".into(),
            )
        };
        let mut state = self.state.take().ok_or_else(lost)?;
        if self.store.backend() == crate::db::Backend::Postgres {
            let result =
                apply_with_retry(&self.store, &mut state.catalog, None, cmds, &self.stats).await;
            self.state = Some(state);
            return result;
        }
        let store = self.store.clone();
        let stats = self.stats.clone();
        let cmds = cmds.to_vec();
        let runtime = tokio::runtime::Handle::current();
        let (state, result) = tokio::task::spawn_blocking(move || {
            if state.direct.is_none() {
                match direct_connection(&store, &stats) {
                    Ok(direct) => state.direct = direct,
                    Err(e) => return (state, Err(e)),
                }
            }
            let result = runtime.block_on(apply_with_retry(
                &store,
                &mut state.catalog,
                state.direct.as_mut(),
                &cmds,
                &stats,
            ));
            (state, result)
        })
        .await
        .map_err(|_| lost())?;
        self.state = Some(state);
        result
    }

    /// Whether batches run on a direct SQLite connection (see `WriterStats`).
    pub fn direct_sqlite(&self) -> bool {
        self.stats.direct_sqlite.load(Ordering::Relaxed)
    }
}
