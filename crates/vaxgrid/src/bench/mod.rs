//! `vaxgrid bench …`: benchmarks that print their figures together with a
//! baseline measured in the same run on the same database.

mod booking;
mod certs;
mod doses;
mod import;

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
    },
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
        } => doses::run(postgres, clients, doses).await,
        BenchWhat::Import { rows } => import::run(rows).await,
        BenchWhat::Booking {
            attempts,
            places,
            clients,
        } => booking::run(attempts, places, clients).await,
        BenchWhat::Certs { count } => certs::run(count),
    }
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
