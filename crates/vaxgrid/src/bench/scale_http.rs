//! The HTTP half of `bench scale`'s probe: the real server as a child
//! process on the bench's database, doses over HTTP as `bench doses` sends
//! them (durable when answered), the pages planners and survey teams open,
//! and the server's memory while it serves.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use vaxgrid_store::Store;

use super::scale::{adults, import, Times};
use crate::demo::{Residents, Seeded};

/// Concurrent HTTP clients sending doses (as `bench doses` defaults to).
const CLIENTS: usize = 128;
/// Requests per page timed.
const PAGE_REQUESTS: usize = 50;

/// What the probe reads over HTTP: an administrator's token and sign-in, a
/// campaign with a wave over the province, the commune whose list is
/// printed.
pub(super) struct HttpContext {
    token: String,
    campaign: String,
    wave: String,
    commune: String,
}

pub(super) struct HttpFigures {
    pub dose_rate: f64,
    pub dose_p99: f64,
    pub survey: Times,
    pub dashboard: Times,
    /// Resident memory of the server after the probe (VmRSS), and its peak.
    pub rss_mb: Option<(f64, f64)>,
}

impl HttpContext {
    pub(super) async fn new(store: &Store, commune: &str) -> Result<HttpContext> {
        let admin = vaxgrid_core::access::Grant::parse("admin")?;
        store
            .create_user(
                "admin",
                "admin",
                &crate::accounts::hash("demo-admin")?,
                &[admin],
                "bench",
            )
            .await?;
        let (_, token) = crate::accounts::create_token(store, "admin", "bench scale", &[]).await?;
        let (campaign, wave) = super::pages::plan_campaign(store).await?;
        Ok(HttpContext {
            token,
            campaign,
            wave,
            commune: commune.to_string(),
        })
    }
}

/// Registers `n` new adults, records a dose for each over HTTP against a
/// server started on `url`, then times the survey list of one commune and
/// the province's dashboard and reads the server's memory.
pub(super) async fn probe(
    url: &str,
    store: &Store,
    seeded: &Seeded,
    ctx: &HttpContext,
    residents: &mut Residents,
    n: usize,
) -> Result<HttpFigures> {
    let ids = import(store, adults(residents, seeded, n), "bench-probe-http").await?;
    let (mut child, base) = super::doses::spawn_server(url).await?;
    let pid = child.id().unwrap_or(0);
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let lot = &seeded.current_lots["AZ"];
    let bodies: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::json!({
                "id": uuid::Uuid::now_v7().to_string(),
                "person_id": id,
                "product_code": "AZ",
                "lot_number": lot,
                "site_code": seeded.sites[i % seeded.sites.len()],
                "administered_on": today,
                "vaccinator": "admin",
            })
            .to_string()
        })
        .collect();
    let bar = crate::files::bar(n as u64, "doses over HTTP");
    let started = Instant::now();
    let bearer = format!("Bearer {}", ctx.token);
    let (mut latencies, failures) =
        super::doses::drive(&base, &bearer, Arc::new(bodies), CLIENTS, 201, &bar).await?;
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    anyhow::ensure!(
        failures.is_empty(),
        "{} doses refused over HTTP, first: {}",
        failures.len(),
        failures[0]
    );
    latencies.sort_by(f64::total_cmp);
    // Redirects are answers to read, not to follow (the sign-in's 303).
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = super::pages::sign_in(&client, &base, "admin").await?;
    let survey = format!(
        "/api/v1/campaigns/{}/waves/{}/survey?format=html&status=not_yet&area={}",
        ctx.campaign, ctx.wave, ctx.commune
    );
    let survey = time_page(&client, &base, &cookie, &survey).await?;
    let dashboard = time_page(&client, &base, &cookie, "/planner/areas/22").await?;
    let rss_mb = memory_mb(pid);
    child.kill().await.ok();
    Ok(HttpFigures {
        dose_rate: latencies.len() as f64 / secs,
        dose_p99: super::percentile(&latencies, 99.0),
        survey,
        dashboard,
        rss_mb,
    })
}

/// `PAGE_REQUESTS` GETs of a page one after another, each answered 200.
async fn time_page(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
) -> Result<Times> {
    let mut ms = Vec::with_capacity(PAGE_REQUESTS);
    for _ in 0..PAGE_REQUESTS {
        let started = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .send()
            .await?;
        let status = r.status();
        r.bytes().await?;
        anyhow::ensure!(status == 200, "{path}: {status}");
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Times::of(ms))
}

/// A process's resident memory now and at its peak (VmRSS, VmHWM), in MB.
fn memory_mb(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
}
