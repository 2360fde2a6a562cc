//! `vaxgrid serve`.

use anyhow::{Context, Result};
use vaxgrid_server::AppState;
use vaxgrid_store::writer::WriterConfig;
use vaxgrid_store::Store;

/// How `vaxgrid serve` (and the demo) serves a database.
pub struct Serving<'a> {
    /// Address to listen on for HTTP.
    pub listen: &'a str,
    pub dcc: &'a crate::DccArgs,
    /// Address to take HL7 v2 over MLLP on, if any.
    pub mllp: Option<&'a str>,
    pub trusted_proxies: &'a [std::net::IpAddr],
    pub reminders: std::sync::Arc<dyn vaxgrid_server::reminders::ReminderSender>,
    pub writer: WriterConfig,
}

/// Opens the database (migrating it), binds, prints the URL and serves.
pub async fn serve(
    database_url: &str,
    checkpoint: &crate::CheckpointArgs,
    serving: Serving<'_>,
) -> Result<()> {
    let store = Store::open(database_url)
        .await
        .with_context(|| format!("opening {database_url}"))?;
    if let (Some(out), Some(key)) = (&checkpoint.audit_checkpoint, &checkpoint.audit_key) {
        let key = crate::checkpoint::load_key(key)?;
        // Written once now, so a file that cannot be written stops the start.
        let (written, line) = crate::checkpoint::write(&store, &key, out).await?;
        tracing::info!(checkpoint = %line, "audit checkpoint written");
        tokio::spawn(crate::checkpoint::run(
            store.clone(),
            key,
            out.clone(),
            std::time::Duration::from_secs(checkpoint.audit_checkpoint_every),
            written,
        ));
    }
    serve_store(store, serving).await
}

pub async fn serve_store(store: Store, serving: Serving<'_>) -> Result<()> {
    let Serving {
        listen,
        dcc,
        mllp,
        trusted_proxies,
        reminders,
        writer,
    } = serving;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    crate::accounts::ensure_first_admin(&store).await?;
    start_background(&store, reminders);
    let mut state = AppState::new(store, writer)?.with_trusted_proxies(trusted_proxies.to_vec());
    if let Some(dir) = &dcc.dcc_keys {
        state = state
            .with_dcc_keys(dir, &dcc.country, &dcc.issuer)
            .map_err(|e| anyhow::anyhow!("loading certificate keys from {}: {e}", dir.display()))?;
    }
    if let Some(mllp) = mllp {
        let mllp_listener = tokio::net::TcpListener::bind(mllp)
            .await
            .with_context(|| format!("listening for MLLP on {mllp}"))?;
        println!("HL7 v2 over MLLP on {}", mllp_listener.local_addr()?);
        tokio::spawn(vaxgrid_server::hl7::serve_mllp(
            state.clone(),
            mllp_listener,
        ));
    }
    // Tests and benchmarks read this line to learn the port.
    println!("vaxgrid listening on http://{addr}/");
    vaxgrid_server::serve(state, listener).await?;
    Ok(())
}

/// What runs beside the requests: a passive SQLite checkpoint every second
/// (automatic checkpoints are off so no commit stalls copying the WAL; a
/// no-op on PostgreSQL), the sweep that gives back the places of expired
/// booking holds (a slot nobody books again would keep them otherwise), the
/// sweep that closes open vials past their limit (every 60 s), and the
/// reminders loop (to the configured sender).
fn start_background(
    store: &Store,
    reminders: std::sync::Arc<dyn vaxgrid_server::reminders::ReminderSender>,
) {
    let checkpointed = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            every.tick().await;
            if let Err(e) = checkpointed.checkpoint().await {
                tracing::warn!(error = %e, "checkpoint failed");
            }
        }
    });
    let swept = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            every.tick().await;
            match swept
                .release_expired_holds(vaxgrid_store::now_micros())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(places = n, "expired booking holds released"),
                Err(e) => tracing::warn!(error = %e, "releasing expired holds failed"),
            }
        }
    });
    // Open vials past their time limit: the doses left become
    // open_vial_unused wastage (idempotent; reads of a store's open vials
    // do the same for that store).
    let vials = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            match vials.close_due_vials().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(doses = n, "open vials past their limit closed as wastage"),
                Err(e) => tracing::warn!(error = %e, "closing open vials failed"),
            }
        }
    });
    vaxgrid_server::reminders::spawn_loop(store.clone(), reminders);
}
