//! `vaxgrid bench booking`: many more booking attempts than places, from
//! many concurrent clients against the real server process; prints
//! bookings/s and the overbooking count (which must be 0). Baseline in the
//! same run: the same attempts through the booking writer in-process.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use vaxgrid_core::schedule::SessionPlan;
use vaxgrid_store::model::Actor;
use vaxgrid_store::scheduling::{BookOutcome, BookRequest, BookingWriter, NewSession};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

use super::doses::spawn_server;

/// A session of 10 half-hour slots holding `places` in all.
fn plan(places: usize) -> SessionPlan {
    SessionPlan {
        day: vaxgrid_store::today() + time::Duration::days(1),
        opens: time::macros::time!(07:00),
        closes: time::macros::time!(12:00),
        // 10 slots of 30 minutes: places / 5 per hour, spread over stations.
        stations: (places / 5).div_ceil(500).max(1) as u32,
        per_station_per_hour: ((places / 5) / (places / 5).div_ceil(500).max(1)).max(2) as u32,
        slot_minutes: 30,
    }
}

/// Places booked beyond capacity, over all slots of the sessions.
async fn overbooked(store: &Store, sessions: &[String]) -> Result<i64> {
    let mut over = 0;
    for s in sessions {
        for slot in store.slots_of(s).await? {
            over += (slot.booked - slot.capacity).max(0);
        }
    }
    Ok(over)
}

pub async fn run(attempts: usize, places: usize, clients: usize) -> Result<()> {
    let scratch = Scratch::sqlite();
    let store = Store::open(&scratch.url).await?;
    let seeded = crate::demo::seed_reference(&store).await?;
    let people = crate::demo::residents(2 * attempts, &seeded.villages, 7);
    let placed = super::setup::register(&store, people).await?;
    super::setup::create_bench_admin(&store).await?;
    let (_, token) = crate::accounts::create_token(&store, "bench", "bench", &[]).await?;
    let sessions = open_sessions(&store, &seeded.sites[0], places).await?;
    let capacity: i64 = store
        .slots_of(&sessions[0])
        .await?
        .iter()
        .map(|s| s.capacity)
        .sum();
    store.close().await;
    println!(
        "seeded {} persons; {capacity} places per session; starting the server",
        2 * attempts
    );

    let (mut child, base) = spawn_server(&scratch.url).await?;
    let starts = slot_starts(&scratch.url, &sessions[0]).await?;
    let bodies = Arc::new(booking_bodies(&placed[..attempts], &sessions[0], &starts));
    let ((booked, full, other), http_seconds) =
        book_over_http(&base, &token, bodies, clients).await?;
    child.kill().await.ok();

    // Baseline: the same attempts through the booking writer, in-process.
    let store = Store::open(&scratch.url).await?;
    let (direct_booked, direct_seconds) =
        book_in_process(&store, &placed[attempts..], &sessions[1]).await?;
    let over = overbooked(&store, &sessions).await?;
    store.close().await;
    scratch.cleanup().await;

    println!(
        "bench booking (SQLite, {clients} clients, {attempts} attempts for {capacity} places)"
    );
    println!("  booked (201)           {booked}");
    println!("  full (409)             {full}");
    println!("  other answers          {other}");
    // Every attempt is a booking transaction (a place taken, or a full slot
    // found under the same lock): attempts answered per second is the rate.
    println!(
        "  bookings/s             {:.0}  (attempts answered per second, booked or full)",
        attempts as f64 / http_seconds
    );
    println!("  overbooked places      {over}  (must be 0)");
    println!(
        "  baseline in-process    {:.0} attempts/s ({direct_booked} booked, no HTTP)",
        attempts as f64 / direct_seconds
    );
    println!(
        "  target                 >= 2,000 bookings/s and 0 overbooked: {}",
        if over == 0 && attempts as f64 / http_seconds >= 2000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    anyhow::ensure!(over == 0, "a slot was overbooked");
    Ok(())
}

/// Two sessions of `places` each at `site` tomorrow: the morning's for
/// the HTTP run, the afternoon's for the baseline (the two must not
/// overlap). Their ids.
async fn open_sessions(store: &Store, site: &str, places: usize) -> Result<Vec<String>> {
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let id = uuid::Uuid::now_v7().to_string();
        let mut p = plan(places);
        if !sessions.is_empty() {
            p.opens = time::macros::time!(13:00);
            p.closes = time::macros::time!(18:00);
        }
        store
            .open_session(
                &NewSession {
                    id: id.clone(),
                    site_code: site.to_string(),
                    plan: p,
                    village_code: None,
                },
                &Actor::system("bench"),
            )
            .await?;
        sessions.push(id);
    }
    Ok(sessions)
}

/// The start of each slot of `session`, read on a connection of its own.
async fn slot_starts(url: &str, session: &str) -> Result<Vec<String>> {
    let store = Store::open(url).await?;
    let starts = store
        .slots_of(session)
        .await?
        .into_iter()
        .map(|s| s.starts_at)
        .collect();
    store.close().await;
    Ok(starts)
}

/// The body of `POST /api/v1/appointments` for each person, in the
/// session's slots in turn.
fn booking_bodies(
    placed: &[vaxgrid_store::persons::PlacedPerson],
    session: &str,
    starts: &[String],
) -> Vec<String> {
    placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            serde_json::json!({"id": uuid::Uuid::now_v7().to_string(), "person_id": p.new.id,
                "session_id": session, "starts_at": starts[i % starts.len()]})
            .to_string()
        })
        .collect()
}

/// Sends every booking once from `clients` concurrent clients, each
/// taking the next body; (booked, full, other answers) and the seconds
/// the sending took.
async fn book_over_http(
    base: &str,
    token: &str,
    bodies: Arc<Vec<String>>,
    clients: usize,
) -> Result<((usize, usize, usize), f64)> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .default_headers(headers)
        .build()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, base, bodies, next) = (
            client.clone(),
            base.to_string(),
            bodies.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut booked, mut full, mut other) = (0usize, 0usize, 0usize);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let status = client
                    .post(format!("{base}/api/v1/appointments"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                match status {
                    201 => booked += 1,
                    409 => full += 1,
                    _ => other += 1,
                }
            }
            (booked, full, other)
        }));
    }
    let (mut booked, mut full, mut other) = (0, 0, 0);
    for t in tasks {
        let (b, f, o) = t.await?;
        booked += b;
        full += f;
        other += o;
    }
    Ok(((booked, full, other), started.elapsed().as_secs_f64()))
}

/// Books each person a place in `session` through the booking writer,
/// in-process; how many were booked, and the seconds it took.
async fn book_in_process(
    store: &Store,
    placed: &[vaxgrid_store::persons::PlacedPerson],
    session: &str,
) -> Result<(usize, f64)> {
    let writer = BookingWriter::spawn(store.clone());
    let afternoon: Vec<String> = store
        .slots_of(session)
        .await?
        .into_iter()
        .map(|s| s.starts_at)
        .collect();
    let started = Instant::now();
    let mut handles = Vec::new();
    let mut direct_booked = 0;
    for (i, p) in placed.iter().enumerate() {
        let writer = writer.clone();
        let req = BookRequest {
            id: uuid::Uuid::now_v7().to_string(),
            person_id: p.new.id.clone(),
            session_id: session.to_string(),
            starts_at: afternoon[i % afternoon.len()].clone(),
            by: Actor::system("bench"),
            replaces: None,
            hold: None,
        };
        handles.push(tokio::spawn(async move { writer.submit(req).await }));
        if handles.len() >= 4096 {
            for h in handles.drain(..) {
                if let Ok(BookOutcome::Booked(_)) = h.await? {
                    direct_booked += 1;
                }
            }
        }
    }
    for h in handles {
        if let Ok(BookOutcome::Booked(_)) = h.await? {
            direct_booked += 1;
        }
    }
    Ok((direct_booked, started.elapsed().as_secs_f64()))
}
