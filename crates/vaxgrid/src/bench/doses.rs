//! `vaxgrid bench doses`: starts the real server as a child process on a
//! scratch database, sends the doses once with a date the handler refuses
//! (the HTTP floor), records them over HTTP from many concurrent clients,
//! then inserts the same number of rows directly, in batches of the size the
//! dose writer formed, as the baseline, and finally records a second set
//! through the dose writer in-process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use vaxgrid_store::scratch::Scratch;
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

/// What a run of `bench doses` was asked for.
struct Options {
    postgres: bool,
    clients: usize,
    count: usize,
    as_vaccinator: bool,
    no_stock: bool,
}

pub async fn run(
    postgres: bool,
    clients: usize,
    count: usize,
    as_vaccinator: bool,
    no_stock: bool,
) -> Result<()> {
    let o = Options {
        postgres,
        clients,
        count,
        as_vaccinator,
        no_stock,
    };
    let p = prepare(&o).await?;
    let (placed, spare) = p.placed.split_at(count);
    println!(
        "seeded {count} persons on {}; starting the server",
        p.backend
    );

    let (mut child, base) = spawn_server(&p.scratch.url).await?;
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    let lot = p.seeded.current_lots["AZ"].clone();
    let bodies = Arc::new(dose_bodies(placed, &p.sites, &lot, &today, p.caller));
    let server = Driven {
        base: &base,
        bearer: format!("Bearer {}", p.token),
        pid: child.id().unwrap_or(0),
        clients,
        count,
    };
    let floor = server.floor(refused_bodies(&bodies, &today)).await?;
    let http = server.doses(bodies).await?;
    let metrics = WriterMetrics::read(&base, &p.metrics_token).await?;
    child.kill().await.ok();

    let store = Store::open(&p.scratch.url).await?;
    let stored_after_http = store.count_doses().await?;
    let raw = raw_baseline(&store, placed, &lot, &p.sites, metrics.mean_batch()).await?;
    let direct = writer_baseline(&store, spare, &lot, &p.sites, clients).await?;
    store.close().await;
    p.scratch.cleanup().await;

    report_http(&o, &p, stored_after_http, &http, &metrics, direct.ok)?;
    report_baselines(&o, &http, &floor, &raw, &direct);
    anyhow::ensure!(
        stored_after_http as usize == http.acked(),
        "stored {stored_after_http} doses but {} were acknowledged",
        http.acked()
    );
    anyhow::ensure!(
        floor.failures.is_empty(),
        "the floor's requests were not all refused with 422: {:?}",
        &floor.failures[..floor.failures.len().min(3)]
    );
    Ok(())
}

/// The scratch database of a run, seeded, and who records the doses.
struct Prepared {
    scratch: Scratch,
    backend: &'static str,
    seeded: crate::demo::Seeded,
    /// Twice the persons: the second half gets its doses through the dose
    /// writer in-process (no HTTP) as the second baseline.
    placed: Vec<vaxgrid_store::persons::PlacedPerson>,
    /// The user named on every dose (`vaccinator` in the bodies).
    caller: &'static str,
    /// The sites the doses are given at, in turn.
    sites: Vec<String>,
    token: String,
    metrics_token: String,
}

async fn prepare(o: &Options) -> Result<Prepared> {
    let (scratch, backend, store, seeded) = super::setup::seeded_scratch(o.postgres).await?;
    // Every site keeps its own stock, as in the demo: the dose writer
    // decrements it in each batch. Enough for every dose of the run, even
    // when all of them are given at one site. With `--no-stock`, no store:
    // the writer then decrements nothing.
    if !o.no_stock {
        crate::demo::seed_stores(&store, &seeded, 2 * o.count as u64).await?;
    }
    let placed = super::setup::register_adults(&store, &seeded, 3 * o.count, 2 * o.count).await?;
    // The clients sign in as a vaccinator-like machine: an administrator's token.
    super::setup::create_bench_admin(&store).await?;
    // Or as the demo's vaccinator: a site grant, so every request works out
    // its scope, and a training certificate checked on every dose; all
    // doses are then given at that one site.
    let (caller, sites) = if o.as_vaccinator {
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
    Ok(Prepared {
        scratch,
        backend,
        seeded,
        placed,
        caller,
        sites,
        token,
        metrics_token,
    })
}

/// The JSON body of `POST /api/v1/doses` for a first dose of AZ to each
/// person, given `today` at the sites in turn.
fn dose_bodies(
    placed: &[vaxgrid_store::persons::PlacedPerson],
    sites: &[String],
    lot: &str,
    today: &str,
    caller: &str,
) -> Vec<String> {
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
        .collect()
}

/// The HTTP floor: the same requests, signed in the same way, with a
/// date the handler refuses (422 naming the field) before anything
/// reaches the dose writer. Its rate is what HTTP, authentication and
/// the body's parsing allow on this machine with the clients beside the
/// server, whatever storage costs.
fn refused_bodies(bodies: &[String], today: &str) -> Arc<Vec<String>> {
    Arc::new(
        bodies
            .iter()
            .map(|b| b.replace(&format!("\"{today}\""), "\"not a date\""))
            .collect(),
    )
}

/// The server the clients drive, and how.
struct Driven<'a> {
    base: &'a str,
    bearer: String,
    pid: u32,
    clients: usize,
    count: usize,
}

/// The floor's figures: requests refused per second, the CPU (server and
/// clients) per request, and the answers that were not a 422.
struct Floor {
    rate: f64,
    cpu: Option<f64>,
    failures: Vec<String>,
}

/// The HTTP run's figures: the latencies (ms, sorted) of the doses
/// acknowledged, the other answers, its length, and the CPU (server,
/// clients) used before and after.
struct Http {
    latencies: Vec<f64>,
    failures: Vec<String>,
    secs: f64,
    cpu_before: Option<(f64, f64)>,
    cpu_after: Option<(f64, f64)>,
}

impl Http {
    fn acked(&self) -> usize {
        self.latencies.len()
    }

    fn rate(&self) -> f64 {
        self.acked() as f64 / self.secs
    }
}

impl Driven<'_> {
    async fn floor(&self, refused: Arc<Vec<String>>) -> Result<Floor> {
        let progress = crate::files::bar(self.count as u64, "requests refused before storage");
        let cpu_before = server_and_clients_cpu(self.pid);
        let started = Instant::now();
        let (latencies, failures) = drive(
            self.base,
            &self.bearer,
            refused,
            self.clients,
            422,
            &progress,
        )
        .await?;
        let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
        let cpu = cpu_before
            .zip(server_and_clients_cpu(self.pid))
            .map(|((s0, c0), (s1, c1))| (s1 - s0 + c1 - c0) / latencies.len().max(1) as f64);
        progress.finish_and_clear();
        Ok(Floor {
            rate,
            cpu,
            failures,
        })
    }

    async fn doses(&self, bodies: Arc<Vec<String>>) -> Result<Http> {
        let progress = crate::files::bar(self.count as u64, "doses");
        let cpu_before = server_and_clients_cpu(self.pid);
        let started = Instant::now();
        let (mut latencies, failures) = drive(
            self.base,
            &self.bearer,
            bodies,
            self.clients,
            201,
            &progress,
        )
        .await?;
        let secs = started.elapsed().as_secs_f64();
        let cpu_after = server_and_clients_cpu(self.pid);
        progress.finish_and_clear();
        latencies.sort_by(f64::total_cmp);
        Ok(Http {
            latencies,
            failures,
            secs,
            cpu_before,
            cpu_after,
        })
    }
}

/// The dose writer's own figures, from the server's /metrics.
struct WriterMetrics {
    text: String,
    batches: f64,
    commands: f64,
    busy: f64,
}

impl WriterMetrics {
    async fn read(base: &str, token: &str) -> Result<WriterMetrics> {
        let text = reqwest::Client::new()
            .get(format!("{base}/metrics"))
            .bearer_auth(token)
            .send()
            .await?
            .text()
            .await?;
        let metric = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
                .unwrap_or(0.0)
        };
        let batches = metric("vaxgrid_dose_batches_total ");
        let commands = metric("vaxgrid_dose_commands_total ");
        let busy = metric("vaxgrid_dose_writer_busy_seconds_total ");
        Ok(WriterMetrics {
            text,
            batches,
            commands,
            busy,
        })
    }

    /// Doses per commit.
    fn mean_batch(&self) -> f64 {
        if self.batches > 0.0 {
            self.commands / self.batches
        } else {
            1.0
        }
    }
}

/// The raw insert's figures: its batch size, rows per second and CPU per
/// row (this process's).
struct Raw {
    batch: usize,
    rate: f64,
    cpu: Option<f64>,
}

/// Baseline: the same rows (new ids) inserted directly with the writer's
/// own insert (on SQLite its direct connection, rows bound natively), in
/// batches of the mean size the writer formed, one durable transaction
/// per batch.
async fn raw_baseline(
    store: &Store,
    placed: &[vaxgrid_store::persons::PlacedPerson],
    lot: &str,
    sites: &[String],
    mean_batch: f64,
) -> Result<Raw> {
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
                lot,
                &sites[i % sites.len()],
                2,
                vaxgrid_store::today(),
            )
        })
        .collect();
    let cpu_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let rows = store.insert_doses_raw(rows, batch).await?;
    let secs = started.elapsed().as_secs_f64();
    // On SQLite the database works in this process, so this is the
    // insert's whole CPU; PostgreSQL's own processes are not counted.
    let cpu = cpu_before
        .zip(cpu_seconds(std::process::id()))
        .map(|(a, b)| (b - a) / rows.len() as f64);
    Ok(Raw {
        batch,
        rate: rows.len() as f64 / secs,
        cpu,
    })
}

/// The in-process dose writer's figures: doses recorded, and per second.
struct Direct {
    ok: usize,
    rate: f64,
}

/// Baseline (b): the same doses through the dose writer, in-process,
/// from as many concurrent tasks as there were HTTP clients.
async fn writer_baseline(
    store: &Store,
    spare: &[vaxgrid_store::persons::PlacedPerson],
    lot: &str,
    sites: &[String],
    clients: usize,
) -> Result<Direct> {
    let writer = vaxgrid_store::writer::DoseWriter::spawn(
        store.clone(),
        vaxgrid_store::writer::WriterConfig::default(),
    )?;
    let requests: Vec<vaxgrid_store::model::DoseRequest> = spare
        .iter()
        .enumerate()
        .map(|(i, p)| vaxgrid_store::model::DoseRequest {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: p.new.id.clone(),
            product_code: "AZ".into(),
            lot_number: lot.to_string(),
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
    let started = Instant::now();
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
    let mut ok = 0;
    for t in tasks {
        ok += t.await?;
    }
    let rate = ok as f64 / started.elapsed().as_secs_f64();
    drop(writer);
    Ok(Direct { ok, rate })
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// Prints the HTTP run's figures; fails when the in-process baseline did
/// not record every dose.
fn report_http(
    o: &Options,
    p: &Prepared,
    stored_after_http: i64,
    http: &Http,
    metrics: &WriterMetrics,
    direct_ok: usize,
) -> Result<()> {
    let (clients, count) = (o.clients, o.count);
    let who = if o.as_vaccinator {
        format!("as the vaccinator of site {}", p.sites[0])
    } else {
        "as an administrator".to_string()
    };
    let stock = if o.no_stock {
        "no stock kept"
    } else {
        "stock decremented"
    };
    let backend = p.backend;
    let acked = http.acked();
    println!("bench doses ({backend}, {clients} clients, {count} doses, durable commits, {who}, {stock})");
    println!("  acknowledged (201)     {acked}  (stored: {stored_after_http})");
    println!("  failed requests        {}", http.failures.len());
    anyhow::ensure!(
        direct_ok == count,
        "the in-process baseline recorded {direct_ok} of {count} doses"
    );
    for f in http.failures.iter().take(3) {
        println!("    e.g. {f}");
    }
    println!("  HTTP doses/s           {:.0}", http.rate());
    println!(
        "  latency p50 / p99      {:.1} ms / {:.1} ms",
        percentile(&http.latencies, 50.0),
        percentile(&http.latencies, 99.0)
    );
    let (batches, busy) = (metrics.batches, metrics.busy);
    println!(
        "  writer batches         {batches:.0} (mean {:.1} doses per commit)",
        metrics.mean_batch()
    );
    println!(
        "  writer busy            {:.0}% of the run ({:.2} ms per commit)",
        100.0 * busy / http.secs,
        1000.0 * busy / batches.max(1.0)
    );
    // A request waits for the batch being committed and then for its own:
    // the slow batches are where the latency's tail comes from, or else
    // the time between the handler and the writer, or the clients.
    println!(
        "  batches taking         {}",
        shares(&metrics.text, "vaxgrid_dose_batch_seconds")
    );
    println!(
        "  requests (server side) {}",
        shares(&metrics.text, "vaxgrid_dose_request_seconds")
    );
    // Where the machine's CPU went during the HTTP run: the server process
    // (HTTP, rules, SQLite's work; PostgreSQL's own processes are not in
    // it) and the clients (this process). Their sum bounds the rate.
    let cores = cores();
    if let (Some((s0, c0)), Some((s1, c1))) = (http.cpu_before, http.cpu_after) {
        let per_dose = |seconds: f64| 1e6 * seconds / acked.max(1) as f64;
        let (server, clients) = (per_dose(s1 - s0), per_dose(c1 - c0));
        println!(
            "  CPU per dose           server {server:.0} µs, clients {clients:.0} µs: {cores} cores allow at most {:.0} doses/s at this cost",
            cores * 1e6 / (server + clients)
        );
    }
    Ok(())
}

/// Prints the HTTP rate against each baseline: the floor, the raw insert
/// and the in-process dose writer.
fn report_baselines(o: &Options, http: &Http, floor: &Floor, raw: &Raw, direct: &Direct) {
    let http_rate = http.rate();
    let (floor_rate, raw_rate, batch) = (floor.rate, raw.rate, raw.batch);
    println!(
        "  HTTP floor requests/s  {floor_rate:.0}  (the same requests refused with 422 before storage; {} not refused so)",
        floor.failures.len()
    );
    println!("  ratio HTTP / floor     {:.2}", http_rate / floor_rate);
    println!("  baseline raw insert/s  {raw_rate:.0}  (batches of {batch}, one commit each)");
    println!("  ratio HTTP / raw       {:.2}", http_rate / raw_rate);
    // A dose over HTTP costs at least a refused request plus the bare
    // insert of its row: at those two costs the cores bound the ratio.
    let cores = cores();
    if let (Some(floor_cpu), Some(raw_cpu)) = (floor.cpu, raw.cpu) {
        let bound = cores / (floor_cpu + raw_cpu);
        println!(
            "  CPU floor              refused request {:.0} µs + raw insert {:.0} µs per row{}: {cores} cores allow at most {bound:.0} doses/s, a ratio of at most {:.2}",
            1e6 * floor_cpu,
            1e6 * raw_cpu,
            if o.postgres { " (PostgreSQL's own CPU not counted)" } else { "" },
            bound / raw_rate
        );
    }
    let (direct_rate, direct_ok) = (direct.rate, direct.ok);
    println!("  baseline dose writer/s {direct_rate:.0}  (same rules and counters, in-process, no HTTP; {direct_ok} doses)");
    println!("  ratio HTTP / writer    {:.2}", http_rate / direct_rate);
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
