//! Throw-away databases for tests and benchmarks: a temporary SQLite file, or
//! a fresh schema in a PostgreSQL database (selected through `search_path`),
//! so runs never see each other's rows and never touch real data.

use sqlx::Executor;

use crate::error::StoreError;

/// PostgreSQL used by tests and benchmarks unless `VAXGRID_TEST_POSTGRES` says otherwise.
pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn test_postgres_url() -> String {
    std::env::var("VAXGRID_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_string())
}

/// A scratch database; dropped schemas and files are removed by `cleanup`.
#[derive(Debug, Clone)]
pub struct Scratch {
    pub url: String,
    schema: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .get(20..)
            .unwrap_or("0")
    )
}

impl Scratch {
    pub fn sqlite() -> Scratch {
        let path = std::env::temp_dir().join(format!("vaxgrid-scratch-{}.db", unique_suffix()));
        Scratch {
            url: format!("sqlite://{}", path.display()),
            schema: None,
            file: Some(path),
        }
    }

    /// A new schema in the PostgreSQL database at `base_url`.
    pub async fn postgres(base_url: &str) -> Result<Scratch, StoreError> {
        sqlx::any::install_default_drivers();
        let schema = format!("scratch_{}", unique_suffix());
        let pool = sqlx::AnyPool::connect(base_url).await?;
        pool.execute(format!("CREATE SCHEMA {schema}").as_str())
            .await?;
        pool.close().await;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        Ok(Scratch {
            url: format!("{base_url}{sep}options=-csearch_path%3D{schema}"),
            schema: Some((base_url.to_string(), schema)),
            file: None,
        })
    }

    /// Either backend by name: "sqlite" or "postgres".
    pub async fn of(backend: &str) -> Result<Scratch, StoreError> {
        match backend {
            "sqlite" => Ok(Scratch::sqlite()),
            "postgres" => Scratch::postgres(&test_postgres_url()).await,
            other => Err(StoreError::UnsupportedUrl(other.to_string())),
        }
    }

    pub async fn cleanup(&self) {
        if let Some((base, schema)) = &self.schema {
            if let Err(e) = drop_schema(base, schema).await {
                eprintln!("scratch schema {schema} left in place: {e}");
            }
        }
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// Drops a scratch schema, trying again for a few seconds if the DROP
/// fails (a schema of a few hundred tables and indexes takes a lock on
/// each: a connection of a killed server not yet closed, or the shared
/// lock table full while several tests drop theirs, refuse it for a
/// moment). Schemas left behind used to go unnoticed; the caller now says
/// which.
async fn drop_schema(base: &str, schema: &str) -> Result<(), sqlx::Error> {
    let pool = sqlx::AnyPool::connect(base).await?;
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        match pool
            .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await
        {
            Ok(_) => break Ok(()),
            Err(e) if attempt >= 10 => break Err(e),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(300 * attempt)).await,
        }
    };
    pool.close().await;
    result
}
