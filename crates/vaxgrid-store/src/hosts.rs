//! PostgreSQL URLs that list several hosts, as libpq's do
//! (`postgres://user@primary:5432,standby:5432/vaxgrid?target_session_attrs=read-write`):
//! the store connects to whichever of them is the read-write primary, and
//! follows a failover without a restart.
//!
//! sqlx connects to one host, so the store does the choosing: at connect it
//! asks each host in turn `pg_is_in_recovery()` and points the pool at the
//! first that is not in recovery; every new connection checks the same and
//! is refused (the pool then retries) if it landed on a standby. A watcher
//! task per pool keeps one small connection to the chosen host and asks it
//! every `WATCH_EVERY`; when that fails (the primary died) or the host is
//! in recovery, it looks for the primary again and repoints the pool
//! (`Pool::set_connect_options`). Meanwhile the pool's own connection
//! attempts to the dead host are refused and retried until the watcher has
//! repointed it, so callers wait (within the acquire timeout) instead of
//! failing, and the dose writer retries a batch that failed with the
//! connection (`writer::apply_with_retry`).
//!
//! Only `read-write` (or no `target_session_attrs`) is meaningful here:
//! the store writes.

use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection};

use crate::error::StoreError;

/// How often the watcher asks the chosen host whether it still leads.
const WATCH_EVERY: Duration = Duration::from_millis(200);
/// How long a probe of one host may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One URL per host of a multi-host PostgreSQL URL, in the order listed,
/// with `target_session_attrs` taken out (sqlx does not know it); None for
/// a URL with one host.
pub(crate) fn split(url: &str) -> Result<Option<Vec<String>>, StoreError> {
    let bad = || StoreError::UnsupportedUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), authority),
    };
    let hosts: Vec<&str> = hosts.split(',').collect();
    if hosts.len() < 2 {
        return Ok(None);
    }
    if hosts.iter().any(|h| h.is_empty()) {
        return Err(bad());
    }
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut kept = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("target_session_attrs", "read-write" | "primary")) => {}
            Some(("target_session_attrs", _)) => return Err(bad()),
            _ if pair.is_empty() => {}
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    Ok(Some(
        hosts
            .iter()
            .map(|h| format!("{scheme}://{user}{h}{path}{query}"))
            .collect(),
    ))
}

pub(crate) fn options(url: &str) -> Result<AnyConnectOptions, StoreError> {
    Ok(url
        .parse::<AnyConnectOptions>()
        .map_err(|_| StoreError::UnsupportedUrl(url.to_string()))?
        // Bulk loads run long statements by design; warn only past 10 s.
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(10)))
}

/// Whether the server behind `conn` accepts writes.
pub(crate) async fn is_primary(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    let (recovering,): (bool,) = sqlx::query_as("SELECT pg_is_in_recovery()")
        .fetch_one(conn)
        .await?;
    Ok(!recovering)
}

/// The first host, in the order listed, that answers and is not in
/// recovery: its index and an open connection to it.
async fn find_primary(urls: &[String]) -> Option<(usize, AnyConnection)> {
    for (i, url) in urls.iter().enumerate() {
        let Ok(opts) = options(url) else { continue };
        let probe = async {
            let mut conn = opts.connect().await?;
            if is_primary(&mut conn).await? {
                Ok::<_, sqlx::Error>(Some(conn))
            } else {
                let _ = conn.close().await;
                Ok(None)
            }
        };
        if let Ok(Ok(Some(conn))) = tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            return Some((i, conn));
        }
    }
    None
}

/// The host to connect to first: the primary, or (none answering yet) the
/// first listed, whose connection attempts the pool retries while the
/// watcher keeps looking.
pub(crate) async fn initial(urls: &[String]) -> usize {
    match find_primary(urls).await {
        Some((i, conn)) => {
            let _ = conn.close().await;
            i
        }
        None => 0,
    }
}

/// Follows the primary for `pool` until the pool is closed (see the module
/// comment). Runs on the runtime that made the pool.
pub(crate) fn watch(pool: AnyPool, urls: Vec<String>, mut current: usize) {
    tokio::spawn(async move {
        let mut probe: Option<AnyConnection> = None;
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            if pool.is_closed() {
                break;
            }
            let healthy = match probe.as_mut() {
                Some(conn) => matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, is_primary(conn)).await,
                    Ok(Ok(true))
                ),
                None => false,
            };
            if healthy {
                continue;
            }
            probe = None;
            if let Some((i, conn)) = find_primary(&urls).await {
                if i != current {
                    tracing::warn!(
                        from = host_of(&urls[current]),
                        to = host_of(&urls[i]),
                        "the PostgreSQL primary moved; following it"
                    );
                    if let Ok(opts) = options(&urls[i]) {
                        pool.set_connect_options(opts);
                        current = i;
                    }
                }
                probe = Some(conn);
            }
        }
    });
}

/// `host:port` of a URL, for logs (never the password).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts_and_drops_target_session_attrs() {
        assert_eq!(split("postgres://u@h:5432/db").unwrap(), None);
        assert_eq!(
            split(
                "postgres://u:p@a:5433,b:5434/db?target_session_attrs=read-write&sslmode=disable"
            )
            .unwrap(),
            Some(vec![
                "postgres://u:p@a:5433/db?sslmode=disable".to_string(),
                "postgres://u:p@b:5434/db?sslmode=disable".to_string(),
            ])
        );
        assert_eq!(
            split("postgresql://a,b?target_session_attrs=primary").unwrap(),
            Some(vec![
                "postgresql://a".to_string(),
                "postgresql://b".to_string()
            ])
        );
        assert!(split("postgres://u@a,/db").is_err());
        // A standby may not be chosen for a store that writes.
        assert!(split("postgres://a,b/db?target_session_attrs=read-only").is_err());
        assert_eq!(host_of("postgres://u:secret@a:1/db?x=y"), "a:1");
    }
}
