//! `vaxgrid bench …`: benchmarks that print their figures together with a
//! baseline measured in the same run on the same database.

mod booking;
mod certs;
mod doses;
mod hl7;
mod import;
mod outbreak;
mod outbreak_seed;
mod pages;
mod scale;
mod scale_http;
mod setup;
mod staff;
mod stock;
mod supply_seed;
mod survey;
mod wal_pages;
mod writer;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchWhat {
    /// Durable doses over HTTP against a real server process, and a raw
    /// batched insert of the same rows as the baseline.
    Doses {
        /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 128)]
        clients: usize,
        /// Doses to record.
        #[arg(long, default_value_t = 60_000)]
        doses: usize,
        /// Record as the site's certified vaccinator (scope, site and
        /// certificate checked on every dose) instead of as an administrator.
        #[arg(long)]
        as_vaccinator: bool,
        /// Seed no stores: the sites track no stock and the dose writer
        /// decrements nothing (the rate before the writer's stock
        /// decrement, on the same build).
        #[arg(long)]
        no_stock: bool,
    },
    /// The dose writer's batch alone, in-process, in batches of a fixed
    /// size: repeatable work for an instruction count (callgrind).
    Writer(writer::Options),
    /// Booking attempts (many more than places) over HTTP: bookings/s and overbooked places.
    Booking {
        #[arg(long, default_value_t = 20_000)]
        attempts: usize,
        #[arg(long, default_value_t = 2_000)]
        places: usize,
        #[arg(long, default_value_t = 128)]
        clients: usize,
    },
    /// EU DCC certificates signed and verified per second.
    Certs {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
    },
    /// HL7 v2 VXU messages per second over MLLP against a real server
    /// process, every rule applied (each message a new person and a dose),
    /// with p50/p99 ACK latency; the same messages refused before any rule
    /// (AR) as the baseline.
    Hl7 {
        /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        /// Messages to send.
        #[arg(long, default_value_t = 5_000)]
        messages: usize,
        /// MLLP connections, each with one message in flight.
        #[arg(long, default_value_t = 8)]
        connections: usize,
    },
    /// The product on a filled registry against an empty one, in the same
    /// run: persons through the bulk import, doses through the dose writer
    /// (counters stay equal to a recount), then doses/s, reports, searches
    /// and a person's record timed on both.
    Scale {
        /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        /// Persons to fill the registry with.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// Doses to record for them (first doses, then second doses).
        #[arg(long, default_value_t = 1_500_000)]
        doses: usize,
    },
    /// p50 and p95 time of each browser page on the demo province.
    Pages {
        #[arg(long, default_value_t = 100_000)]
        residents: usize,
        /// Requests per page.
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// A staff roster (65,000 staff with roles at sites and districts) into
    /// SQLite through `vaxgrid import staff`'s path.
    StaffImport {
        #[arg(long, default_value_t = 65_000)]
        rows: usize,
    },
    /// A synthetic outbreak's contact graph re-classified after one
    /// confirmation (incremental against from scratch), and the team's
    /// daily list of people in home isolation (in memory).
    Outbreak {
        #[arg(long, default_value_t = 100_000)]
        persons: usize,
        #[arg(long, default_value_t = 10_000)]
        home: usize,
        /// Also on the stored tables of these backends (comma-separated:
        /// sqlite, postgres; none for the in-memory figures only).
        #[arg(long, default_value = "sqlite,postgres")]
        stored: String,
    },
    /// Stock movements per second (each its own transaction, concurrent)
    /// against the same movements batched, and temperature readings checked
    /// for excursions per second through the store against the detector
    /// alone in memory.
    Stock {
        /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        #[arg(long, default_value_t = 10_000)]
        movements: usize,
        /// Concurrent tasks recording movements.
        #[arg(long, default_value_t = 16)]
        tasks: usize,
        #[arg(long, default_value_t = 100_000)]
        readings: usize,
    },
    /// The printable survey list of one commune of `--persons` residents,
    /// printed whole part by part, and the same list as CSV.
    Survey {
        /// Run on PostgreSQL (VAXGRID_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
        #[arg(long)]
        postgres: bool,
        #[arg(long, default_value_t = 10_000)]
        persons: usize,
        /// Times the whole list is printed.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Persons from CSV into SQLite, with a progress bar.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
    },
}

pub async fn run(what: BenchWhat) -> Result<()> {
    match what {
        BenchWhat::Doses {
            postgres,
            clients,
            doses,
            as_vaccinator,
            no_stock,
        } => doses::run(postgres, clients, doses, as_vaccinator, no_stock).await,
        BenchWhat::Import { rows } => import::run(rows).await,
        BenchWhat::Scale {
            postgres,
            persons,
            doses,
        } => scale::run(postgres, persons, doses).await,
        BenchWhat::Writer(options) => writer::run(options).await,
        BenchWhat::StaffImport { rows } => staff::run(rows).await,
        BenchWhat::Booking {
            attempts,
            places,
            clients,
        } => booking::run(attempts, places, clients).await,
        BenchWhat::Certs { count } => certs::run(count),
        BenchWhat::Hl7 {
            postgres,
            messages,
            connections,
        } => hl7::run(postgres, messages, connections).await,
        BenchWhat::Stock {
            postgres,
            movements,
            tasks,
            readings,
        } => stock::run(postgres, movements, tasks.max(1), readings).await,
        BenchWhat::Outbreak {
            persons,
            home,
            stored,
        } => {
            outbreak::run(persons, home)?;
            // "none" (as the help says) or an empty list: in memory only.
            let backends = stored
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty() && *b != "none");
            for backend in backends {
                outbreak::stored(backend, persons, home).await?;
            }
            Ok(())
        }
        BenchWhat::Survey {
            postgres,
            persons,
            rounds,
        } => survey::run(postgres, persons, rounds).await,
        BenchWhat::Pages {
            residents,
            requests,
        } => pages::run(residents, requests).await,
    }
}

/// CPU time (user + system, all threads) a process has used so far, in
/// seconds, from /proc; `None` where there is no /proc. /proc counts in
/// USER_HZ ticks, which Linux fixes at 100 per second for user space.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it do not.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_of_this_process_grows_with_work() {
        let Some(before) = cpu_seconds(std::process::id()) else {
            // Not Linux: nothing to read.
            assert!(!std::path::Path::new("/proc/self/stat").exists());
            return;
        };
        // Spin until the kernel has counted a tenth of a second of this
        // process's CPU: on a loaded machine that takes longer than 0.1 s of
        // wall time, so the bound is on wall time, generously.
        let started = std::time::Instant::now();
        let mut x = 0u64;
        let mut after = before;
        while after - before < 0.1 && started.elapsed() < std::time::Duration::from_secs(30) {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            after = cpu_seconds(std::process::id()).unwrap();
        }
        assert!(after - before >= 0.1, "{before} → {after}");
        assert_eq!(cpu_seconds(u32::MAX), None);
    }
}
