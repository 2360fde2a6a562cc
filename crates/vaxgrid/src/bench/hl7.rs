//! `vaxgrid bench hl7`: VXU messages per second over MLLP, every rule
//! applied. Starts the real server as a child process (`serve --mllp`) on a
//! scratch database seeded like the demo, then sends each message over one
//! of `connections` TCP connections and waits for its ACK, as an MLLP
//! sender does (one message in flight per connection).
//!
//! Baseline, in the same run over the same connections: the same messages
//! with MSH-12 naming HL7 v2.3, which the server refuses (AR) after parsing
//! and before any rule or storage. Its rate is the floor of framing, TCP,
//! parsing and the ACK on this machine; the difference is what the rules
//! and the one-transaction write of each message cost.
//!
//! The accepted run must be all AA and leave exactly one new person and one
//! new dose per message (varied persons: each message is a new person with
//! a medical record number of the bench's own assigning authority, a name,
//! a birth date, a home village, and a first dose of AZ at a demo site).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vaxgrid_interop::hl7v2::mllp::{frame, MllpDecoder};
use vaxgrid_store::Store;

use super::{cpu_seconds, percentile};

pub async fn run(postgres: bool, count: usize, connections: usize) -> Result<()> {
    let connections = connections.clamp(1, count.max(1));
    let (scratch, backend, store, seeded) = super::setup::seeded_scratch(postgres).await?;
    let Prepared {
        people,
        floor,
        lot_number,
        persons_before,
        doses_before,
    } = prepare(&store, &seeded, count).await?;
    store.close().await;
    println!(
        "seeded {} sites and lot {lot_number} on {backend}; starting the server",
        seeded.sites.len()
    );
    let (mut child, mllp) = spawn_server(&scratch.url).await?;
    let server_pid = child.id().unwrap_or(0);
    let sender = Sender {
        mllp: &mllp,
        connections,
        server_pid,
        count,
    };
    let mut floor = sender.send(floor, "refused").await?;
    let mut accepted = sender.send(people, "VXU").await?;
    child.kill().await.ok();

    let store = Store::open(&scratch.url).await?;
    let persons = store.count_persons().await? - persons_before;
    let doses = store.count_doses().await? - doses_before;
    store.close().await;
    scratch.cleanup().await;

    floor.latencies.sort_by(f64::total_cmp);
    accepted.latencies.sort_by(f64::total_cmp);
    println!(
        "bench hl7 ({backend}, {count} VXU^V04 over MLLP, {connections} connections, one message in flight each)"
    );
    println!("  accepted (AA)     {}", accepted.figures(count));
    println!(
        "  baseline: refused before any rule (AR, MSH-12 2.3) {}",
        floor.figures(count)
    );
    println!("  stored: {persons} new persons, {doses} new doses");
    let floor_wrong = floor.codes.iter().filter(|c| *c != "AR").count();
    if floor_wrong > 0 {
        bail!("{floor_wrong} baseline messages were not answered AR");
    }
    let not_accepted: Vec<&String> = accepted.codes.iter().filter(|c| *c != "AA").collect();
    if !not_accepted.is_empty() {
        bail!(
            "{} of {count} messages were not accepted (first answers: {:?})",
            not_accepted.len(),
            &not_accepted[..not_accepted.len().min(3)]
        );
    }
    if persons != count as i64 || doses != count as i64 {
        bail!("expected {count} new persons and doses, got {persons} and {doses}");
    }
    Ok(())
}

/// The messages of both runs and the registry's counts before them.
struct Prepared {
    people: Arc<Vec<String>>,
    /// The same messages naming HL7 v2.3, refused before any rule.
    floor: Arc<Vec<String>>,
    lot_number: String,
    persons_before: i64,
    doses_before: i64,
}

/// Stocks every site, adds a user, and writes `count` messages of a first
/// AZ dose given yesterday (inside the lot's validity, not in the future).
async fn prepare(store: &Store, seeded: &crate::demo::Seeded, count: usize) -> Result<Prepared> {
    // Stock at every site for every dose, as the dose writer decrements it.
    crate::demo::seed_stores(store, seeded, 2 * count as u64).await?;
    let product = store.product("AZ").await?;
    let cvx = product.cvx.clone().context("AZ has no CVX code")?;
    let lot_number = seeded.current_lots["AZ"].clone();
    let lot = store.lot("AZ", &lot_number).await?;
    // A user, so the server does not create (and print) a first administrator.
    super::setup::create_bench_admin(store).await?;
    let persons_before = store.count_persons().await?;
    let doses_before = store.count_doses().await?;
    let given = vaxgrid_store::today() - time::Duration::days(1);
    let people = Arc::new(messages(
        count,
        &seeded.sites,
        &seeded.villages,
        &cvx,
        &lot_number,
        &lot.expiry,
        given,
    ));
    let floor = Arc::new(
        people
            .iter()
            .map(|m| m.replacen("|P|2.5.1|", "|P|2.3|", 1))
            .collect(),
    );
    Ok(Prepared {
        people,
        floor,
        lot_number,
        persons_before,
        doses_before,
    })
}

/// Where and how the messages are sent.
struct Sender<'a> {
    mllp: &'a str,
    connections: usize,
    server_pid: u32,
    /// Messages per run.
    count: usize,
}

/// One run of the messages: each ACK's latency (s) and code, the run's
/// time, and the server's CPU time over it.
struct Sent {
    latencies: Vec<f64>,
    codes: Vec<String>,
    secs: f64,
    cpu: Option<f64>,
}

impl Sender<'_> {
    /// Sends every message and waits for its ACK, with a progress bar
    /// named `what`.
    async fn send(&self, messages: Arc<Vec<String>>, what: &str) -> Result<Sent> {
        let progress = crate::files::bar(self.count as u64, what);
        let cpu0 = cpu_seconds(self.server_pid);
        let started = Instant::now();
        let (latencies, codes) = drive(self.mllp, messages, self.connections, &progress).await?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu0.zip(cpu_seconds(self.server_pid)).map(|(a, b)| b - a);
        progress.finish_and_clear();
        Ok(Sent {
            latencies,
            codes,
            secs,
            cpu,
        })
    }
}

impl Sent {
    /// Rate, ACK latency percentiles (of sorted latencies) and server CPU
    /// per message, as one line's figures.
    fn figures(&self, count: usize) -> String {
        let ms = |p: f64| percentile(&self.latencies, p) * 1000.0;
        let per_message = self.cpu.map_or("n/a".to_string(), |c| {
            format!("{:.2} ms", c * 1000.0 / count as f64)
        });
        format!(
            "{:>8.0} msg/s   ack p50 {:.2} ms   p99 {:.2} ms   server CPU {}/msg",
            count as f64 / self.secs,
            ms(50.0),
            ms(99.0),
            per_message
        )
    }
}

/// Starts `vaxgrid serve --mllp 127.0.0.1:0` and returns the child and the
/// MLLP address it printed.
async fn spawn_server(database_url: &str) -> Result<(tokio::process::Child, String)> {
    let (child, mut lines) =
        super::setup::spawn_serve(database_url, &["--mllp", "127.0.0.1:0"]).await?;
    let mut mllp = None;
    loop {
        let line = super::setup::start_line(&mut lines).await?;
        if let Some(addr) = line.strip_prefix("HL7 v2 over MLLP on ") {
            mllp = Some(addr.trim().to_string());
        }
        if line.starts_with("vaxgrid listening on ") {
            break;
        }
    }
    // Keep reading (and dropping) the server's output so it never blocks.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mllp = mllp.context("the server printed no MLLP address")?;
    Ok((child, mllp))
}

/// Sends every message over `connections` connections, each waiting for
/// the ACK before its next message; returns each message's ACK latency
/// (seconds) and its MSA-1 code.
async fn drive(
    addr: &str,
    messages: Arc<Vec<String>>,
    connections: usize,
    progress: &indicatif::ProgressBar,
) -> Result<(Vec<f64>, Vec<String>)> {
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let messages = messages.clone();
        let progress = progress.clone();
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut socket = tokio::net::TcpStream::connect(&addr).await?;
            socket.set_nodelay(true)?;
            let mut decoder = MllpDecoder::new();
            let mut buf = vec![0u8; 16 * 1024];
            let mut out = Vec::new();
            for message in messages.iter().skip(c).step_by(connections) {
                let sent = Instant::now();
                socket.write_all(&frame(message)).await?;
                let ack = loop {
                    if let Some(reply) = decoder.next_message() {
                        break reply?;
                    }
                    let n = socket.read(&mut buf).await?;
                    if n == 0 {
                        bail!("the server closed the connection");
                    }
                    decoder.push(&buf[..n]);
                };
                let code = ack
                    .split(['\r', '\n'])
                    .find_map(|s| s.strip_prefix("MSA|"))
                    .and_then(|s| s.split('|').next())
                    .unwrap_or("no MSA")
                    .to_string();
                out.push((sent.elapsed().as_secs_f64(), code));
                progress.inc(1);
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut latencies = Vec::with_capacity(messages.len());
    let mut codes = Vec::with_capacity(messages.len());
    for task in tasks {
        for (latency, code) in task.await?? {
            latencies.push(latency);
            codes.push(code);
        }
    }
    Ok((latencies, codes))
}

const FAMILY: [&str; 8] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const GIVEN: [&str; 8] = [
    "Văn Đức",
    "Thị Mai",
    "Minh Anh",
    "Thu Hà",
    "Quốc Bảo",
    "Ngọc Lan",
    "Hữu Phước",
    "Thị Hồng",
];

/// `count` VXU^V04 messages in the CDC layout, each about a new person (an
/// MRN of the bench's authority; a third also carry a national ID) with a
/// first dose at one of `sites`.
fn messages(
    count: usize,
    sites: &[String],
    villages: &[String],
    cvx: &str,
    lot: &str,
    expiry: &str,
    given: time::Date,
) -> Vec<String> {
    let given = format!(
        "{:04}{:02}{:02}",
        given.year(),
        u8::from(given.month()),
        given.day()
    );
    let expiry = expiry.replace('-', "");
    (0..count)
        .map(|i| {
            let site = &sites[i % sites.len()];
            let village = &villages[(i * 7) % villages.len()];
            let family = FAMILY[i % FAMILY.len()];
            let given_name = GIVEN[(i / FAMILY.len()) % GIVEN.len()];
            let sex = if i % 2 == 0 { "M" } else { "F" };
            // Adults born 1950–1999 on any day of the year.
            let year = 1950 + i % 50;
            let born = format!("{year}{:02}{:02}", 1 + (i / 50) % 12, 1 + (i / 600) % 28);
            let mut pid3 = format!("BENCH{i:08}^^^BENCH-HIS^MR");
            if i % 3 == 1 {
                // A citizen ID card number: province 022, sex and century
                // (0 a man, 1 a woman born in the 1900s), year, serial.
                let century_sex = if sex == "M" { 0 } else { 1 };
                pid3.push_str(&format!(
                    "~022{century_sex}{:02}{:06}^^^VNM^NI",
                    year % 100,
                    i % 1_000_000
                ));
            }
            [
                format!("MSH|^~\\&|BENCH-HIS|BENCH-HIS|VAXGRID|QN-CDC|{given}101500+0700||VXU^V04^VXU_V04|B{i:09}|P|2.5.1|||ER|AL||UNICODE UTF-8|||Z22^CDCPHINVS"),
                format!("PID|1||{pid3}||{family}^{given_name}^^^^^L||{born}|{sex}|||{} Lê Lợi^^^22^{village}^VNM^H", 1 + i % 200),
                format!("ORC|RE||B{i:09}-IZ^{site}"),
                format!("RXA|0|1|{given}100000||{cvx}^AZ^CVX|0.5|mL^milliliters^UCUM||00^New immunization record^NIP001||^^^{site}||||{lot}|{expiry}|ASZ^AstraZeneca^MVX|||CP|A"),
                "RXR|C28161^Intramuscular^NCIT|LD^Left Deltoid^HL70163".to_string(),
            ]
            .join("\r")
        })
        .collect()
}
