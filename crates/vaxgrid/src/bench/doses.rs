//! `vaxgrid bench doses`: starts the real server as a child process on a
//! scratch database, sends the doses once with a date the handler refuses
//! (the HTTP floor), records them over HTTP from many concurrent clients,
//! then inserts the same number of rows directly, in batches of the size the
//! dose writer formed, as the baseline, and finally records a second set
//! through the dose writer in-process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use vaxgrid_store::Store;

use super::{cpu_seconds, percentile};

/// Starts `vaxgrid serve` on a free port and returns the child and its base URL.
pub async fn spawn_server(database_url: &str) -> Result<(tokio::process::Child, String)> {
    let (child, mut lines) = super::setup::spawn_serve(database_url, &[]).await?;
    let line = super::setup::start_line(&mut lines).await?;
    let Some(url) = line.strip_prefix("vaxgrid listening on ") else {
        bail!("unexpected first line from the server: {line}");
    };
    Ok((child, url.trim_end_matches('/').to_string()))
}

pub async fn run(
    postgres: bool,
    clients: usize,
    count: usize,
    as_vaccinator: bool,
    no_stock: bool,
) -> Result<()> {
    let super::setup::SeededScratch {
        scratch,
        backend,
        store,
        seeded,
    } = super::setup::seeded_scratch(postgres).await?;
    // Every site keeps its own stock, as in the demo: the dose writer
    // decrements it in each batch. Enough for every dose of the run, even
    // when all of them are given at one site. With `--no-stock`, no store:
    // the writer then decrements nothing.
    if !no_stock {
        crate::demo::seed_stores(&store, &seeded, 2 * count as u64).await?;
    }
    // Twice the persons: the second half gets its doses through the dose
    // writer in-process (no HTTP) as the second baseline.
    let placed = super::setup::register_adults(&store, &seeded, 3 * count, 2 * count).await?;
    // The clients sign in as a vaccinator-like machine: an administrator's token.
    super::setup::create_bench_admin(&store).await?;
    // Or as the demo's vaccinator: a site grant, so every request works out
    // its scope, and a training certificate checked on every dose; all
    // doses are then given at that one site.
    let (caller, sites) = if as_vaccinator {
        crate::accounts::seed_demo_users(&store, &seeded.sites[0], "193", "22").await?;
        ("vaccinator", seeded.sites[..1].to_vec())
    } else {
        ("bench", seeded.sites.clone())
    };
    let (_, token) = crate::accounts::create_token(&store, caller, "bench", &[]).await?;
    // The writer's figures come from /metrics, which needs an administrator.
    let (_, metrics_token) =
        crate::accounts::create_token(&store, "bench", "bench metrics", &[]).await?;
    store.close().await;
    let (placed, spare) = placed.split_at(count);
    println!("seeded {count} persons on {backend}; starting the server");

    let (mut child, base) = spawn_server(&scratch.url).await?;
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let lot = seeded.current_lots["AZ"].clone();
    let bodies: Arc<Vec<String>> = Arc::new(
        placed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                serde_json::json!({
                    "id": uuid::Uuid::now_v7().to_string(),
                    "person_id": p.new.id,
                    "product_code": "AZ",
                    "lot_number": lot,
                    "site_code": sites[i % sites.len()],
                    "administered_on": today,
                    "vaccinator": caller,
                })
                .to_string()
            })
            .collect(),
    );
    // The HTTP floor: the same requests, signed in the same way, with a
    // date the handler refuses (422 naming the field) before anything
    // reaches the dose writer. Its rate is what HTTP, authentication and
    // the body's parsing allow on this machine with the clients beside the
    // server, whatever storage costs.
    let refused: Arc<Vec<String>> = Arc::new(
        bodies
            .iter()
            .map(|b| b.replace(&format!("\"{today}\""), "\"not a date\""))
            .collect(),
    );
    let progress = crate::files::bar(count as u64, "requests refused before storage");
    let server_pid = child.id().unwrap_or(0);
    let floor_cpu_before = server_and_clients_cpu(server_pid);
    let floor_started = Instant::now();
    let bearer = format!("Bearer {token}");
    let (floor_latencies, floor_failures) =
        drive(&base, &bearer, refused, clients, 422, &progress).await?;
    let floor_rate = floor_latencies.len() as f64 / floor_started.elapsed().as_secs_f64();
    let floor_cpu = floor_cpu_before
        .zip(server_and_clients_cpu(server_pid))
        .map(|((s0, c0), (s1, c1))| (s1 - s0 + c1 - c0) / floor_latencies.len().max(1) as f64);
    progress.finish_and_clear();

    let progress = crate::files::bar(count as u64, "doses");
    let cpu_before = server_and_clients_cpu(server_pid);
    let started = Instant::now();
    let (mut latencies, failures) = drive(&base, &bearer, bodies, clients, 201, &progress).await?;
    let http_secs = started.elapsed().as_secs_f64();
    let cpu_after = server_and_clients_cpu(server_pid);
    progress.finish_and_clear();
    let metrics = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(&metrics_token)
        .send()
        .await?
        .text()
        .await?;
    let metric = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0.0)
    };
    let batches = metric("vaxgrid_dose_batches_total ");
    let commands = metric("vaxgrid_dose_commands_total ");
    let busy = metric("vaxgrid_dose_writer_busy_seconds_total ");
    child.kill().await.ok();
    latencies.sort_by(f64::total_cmp);
    let acked = latencies.len();
    let http_rate = acked as f64 / http_secs;
    let mean_batch = if batches > 0.0 {
        commands / batches
    } else {
        1.0
    };

    // Baseline: the same rows (new ids) inserted directly with the writer's
    // own insert (on SQLite its direct connection, rows bound natively), in
    // batches of the mean size the writer formed, one durable transaction
    // per batch.
    let store = Store::open(&scratch.url).await?;
    let stored_after_http = store.count_doses().await?;
    let batch = (mean_batch.round() as usize).max(1);
    let rows: Vec<_> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vaxgrid_store::doses::raw_dose(
                uuid::Uuid::now_v7().to_string(),
                p.new.id.clone(),
                p.province_code.clone(),
                p.new.home_area.clone(),
                "AZ",
                &lot,
                &sites[i % sites.len()],
                2,
                vaxgrid_store::today(),
            )
        })
        .collect();
    let raw_cpu_before = cpu_seconds(std::process::id());
    let raw_started = Instant::now();
    let rows = store.insert_doses_raw(rows, batch).await?;
    let raw_secs = raw_started.elapsed().as_secs_f64();
    // On SQLite the database works in this process, so this is the
    // insert's whole CPU; PostgreSQL's own processes are not counted.
    let raw_cpu = raw_cpu_before
        .zip(cpu_seconds(std::process::id()))
        .map(|(a, b)| (b - a) / rows.len() as f64);
    let raw_rate = rows.len() as f64 / raw_secs;

    // Baseline (b): the same doses through the dose writer, in-process,
    // from as many concurrent tasks as there were HTTP clients.
    let writer = vaxgrid_store::writer::DoseWriter::spawn(
        store.clone(),
        vaxgrid_store::writer::WriterConfig::default(),
    );
    let requests: Vec<vaxgrid_store::model::DoseRequest> = spare
        .iter()
        .enumerate()
        .map(|(i, p)| vaxgrid_store::model::DoseRequest {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: p.new.id.clone(),
            product_code: "AZ".into(),
            lot_number: lot.clone(),
            site_code: sites[i % sites.len()].clone(),
            administered_on: vaxgrid_store::today(),
            dose_number: None,
            vaccinator: Some("bench".into()),
            override_reason: None,
            historical: false,
            requires_certificate: None,
            by: vaxgrid_store::model::Actor::system("bench"),
        })
        .collect();
    let requests = Arc::new(requests);
    let direct_started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let (writer, requests) = (writer.clone(), requests.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for r in requests.iter().skip(k).step_by(clients) {
                if writer
                    .submit(vaxgrid_store::doses::WriteCommand::Dose(r.clone()))
                    .await
                    .is_ok()
                {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut direct_ok = 0;
    for t in tasks {
        direct_ok += t.await?;
    }
    let direct_rate = direct_ok as f64 / direct_started.elapsed().as_secs_f64();
    drop(writer);
    store.close().await;
    scratch.cleanup().await;

    let who = if as_vaccinator {
        format!("as the vaccinator of site {}", sites[0])
    } else {
        "as an administrator".to_string()
    };
    let stock = if no_stock {
        "no stock kept"
    } else {
        "stock decremented"
    };
    println!("bench doses ({backend}, {clients} clients, {count} doses, durable commits, {who}, {stock})");
    println!("  acknowledged (201)     {acked}  (stored: {stored_after_http})");
    println!("  failed requests        {}", failures.len());
    anyhow::ensure!(
        direct_ok == count,
        "the in-process baseline recorded {direct_ok} of {count} doses"
    );
    for f in failures.iter().take(3) {
        println!("    e.g. {f}");
    }
    println!("  HTTP doses/s           {http_rate:.0}");
    println!(
        "  latency p50 / p99      {:.1} ms / {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0)
    );
    println!("  writer batches         {batches:.0} (mean {mean_batch:.1} doses per commit)");
    println!(
        "  writer busy            {:.0}% of the run ({:.2} ms per commit)",
        100.0 * busy / http_secs,
        1000.0 * busy / batches.max(1.0)
    );
    // A request waits for the batch being committed and then for its own:
    // the slow batches are where the latency's tail comes from, or else
    // the time between the handler and the writer, or the clients.
    println!(
        "  batches taking         {}",
        shares(&metrics, "vaxgrid_dose_batch_seconds")
    );
    println!(
        "  requests (server side) {}",
        shares(&metrics, "vaxgrid_dose_request_seconds")
    );
    // Where the machine's CPU went during the HTTP run: the server process
    // (HTTP, rules, SQLite's work; PostgreSQL's own processes are not in
    // it) and the clients (this process). Their sum bounds the rate.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if let (Some((s0, c0)), Some((s1, c1))) = (cpu_before, cpu_after) {
        let per_dose = |seconds: f64| 1e6 * seconds / acked.max(1) as f64;
        let (server, clients) = (per_dose(s1 - s0), per_dose(c1 - c0));
        println!(
            "  CPU per dose           server {server:.0} µs, clients {clients:.0} µs: {cores} cores allow at most {:.0} doses/s at this cost",
            cores * 1e6 / (server + clients)
        );
    }
    println!(
        "  HTTP floor requests/s  {floor_rate:.0}  (the same requests refused with 422 before storage; {} not refused so)",
        floor_failures.len()
    );
    println!("  ratio HTTP / floor     {:.2}", http_rate / floor_rate);
    println!("  baseline raw insert/s  {raw_rate:.0}  (batches of {batch}, one commit each)");
    println!("  ratio HTTP / raw       {:.2}", http_rate / raw_rate);
    // A dose over HTTP costs at least a refused request plus the bare
    // insert of its row: at those two costs the cores bound the ratio.
    if let (Some(floor_cpu), Some(raw_cpu)) = (floor_cpu, raw_cpu) {
        let bound = cores / (floor_cpu + raw_cpu);
        println!(
            "  CPU floor              refused request {:.0} µs + raw insert {:.0} µs per row{}: {cores} cores allow at most {bound:.0} doses/s, a ratio of at most {:.2}",
            1e6 * floor_cpu,
            1e6 * raw_cpu,
            if postgres { " (PostgreSQL's own CPU not counted)" } else { "" },
            bound / raw_rate
        );
    }
    println!("  baseline dose writer/s {direct_rate:.0}  (same rules and counters, in-process, no HTTP; {direct_ok} doses)");
    println!("  ratio HTTP / writer    {:.2}", http_rate / direct_rate);
    anyhow::ensure!(
        stored_after_http as usize == acked,
        "stored {stored_after_http} doses but {acked} were acknowledged"
    );
    anyhow::ensure!(
        floor_failures.is_empty(),
        "the floor's requests were not all refused with 422: {:?}",
        &floor_failures[..floor_failures.len().min(3)]
    );
    Ok(())
}

/// CPU seconds used so far by the server process and by this one (the
/// clients), where /proc tells.
fn server_and_clients_cpu(server_pid: u32) -> Option<(f64, f64)> {
    cpu_seconds(server_pid).zip(cpu_seconds(std::process::id()))
}

/// The shares of a /metrics histogram's observations at or under each
/// bound from 5 ms up, until all are counted: "≤5 ms 3.8%, ≤10 ms 74.5%, …".
fn shares(metrics: &str, name: &str) -> String {
    let buckets: Vec<(f64, f64)> = metrics
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix("_bucket{le=\"")?;
            let (bound, n) = rest.split_once("\"} ")?;
            Some((
                bound.parse::<f64>().unwrap_or(f64::INFINITY),
                n.trim().parse().ok()?,
            ))
        })
        .collect();
    let total = buckets.last().map_or(0.0, |b| b.1).max(1.0);
    let mut out = Vec::new();
    for (bound, n) in buckets.into_iter().filter(|(bound, _)| *bound >= 0.005) {
        let share = 100.0 * n / total;
        out.push(format!("≤{:.0} ms {share:.1}%", bound * 1000.0));
        if share >= 100.0 {
            break;
        }
    }
    out.join(", ")
}

/// Sends every body once from `clients` concurrent tasks, each on its own
/// HTTP/1.1 connection; returns the latencies (ms) of the answers with
/// status `expect` and a line for each other answer. A bare hyper
/// connection rather than reqwest: the load generator shares the machine's
/// two cores with the server, so the less it costs per request the more of
/// the machine the figures describe.
pub(super) async fn drive(
    base: &str,
    authorization: &str,
    bodies: Arc<Vec<String>>,
    clients: usize,
    expect: u16,
    progress: &indicatif::ProgressBar,
) -> Result<(Vec<f64>, Vec<String>)> {
    let host = base
        .strip_prefix("http://")
        .context("the server's URL is not http://")?
        .to_string();
    let authorization = hyper::header::HeaderValue::from_str(authorization)?;
    let mut tasks = Vec::new();
    for k in 0..clients {
        let (bodies, progress) = (bodies.clone(), progress.clone());
        let (host, authorization) = (host.clone(), authorization.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            let mut connection = None;
            for body in bodies.iter().skip(k).step_by(clients) {
                let t = Instant::now();
                match post(&mut connection, &host, &authorization, body).await {
                    Ok((status, _)) if status == expect => {
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0)
                    }
                    Ok((status, text)) => failures.push(format!("{status} {text}")),
                    Err(e) => {
                        connection = None;
                        failures.push(e.to_string())
                    }
                }
                progress.inc(1);
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut failures = Vec::new();
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failures.extend(f);
    }
    Ok((latencies, failures))
}

type Connection = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

/// POSTs one dose body to /api/v1/doses on `connection` (opened first if
/// there is none); returns the status and the answer's text.
async fn post(
    connection: &mut Option<Connection>,
    host: &str,
    authorization: &hyper::header::HeaderValue,
    body: &str,
) -> Result<(u16, String)> {
    use http_body_util::BodyExt;
    if connection.is_none() {
        let stream = tokio::net::TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        let (sender, driver) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(driver);
        *connection = Some(sender);
    }
    let sender = connection.as_mut().context("connection")?;
    sender.ready().await?;
    let request = hyper::Request::post("/api/v1/doses")
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::AUTHORIZATION, authorization.clone())
        .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
            body.as_bytes(),
        )))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
