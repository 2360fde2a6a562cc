//! Crash test: the server runs as a child process, concurrent clients record
//! doses, and the server is killed with SIGKILL at random moments. After each
//! restart the clients retry every unacknowledged request with the same id.
//! After 10 rounds every acknowledged dose must be stored exactly once and
//! the counters (coverage, population, doses by day and by area, product
//! and number) must equal a recount, and the site's store must hold its
//! initial stock less exactly the doses stored (the writer decrements it in
//! the doses' transaction). Bounded: 10 rounds, < 1 s of load each.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::model::{Lot, NewArea, NewPerson, Site, SiteKind};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

const ROUNDS: usize = 10;
const CLIENTS: usize = 12;
const PERSONS: usize = 15_000;
/// Doses received at site S1's own store before the rounds.
const INITIAL_STOCK: u64 = 100_000;

async fn start(url: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
        .args(["serve", "--database-url", url, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("server starts within 60 s")
        .unwrap()
        .expect("server prints its address");
    let base = line
        .strip_prefix("vaxgrid listening on ")
        .expect("address line")
        .trim_end_matches('/')
        .to_string();
    (child, base)
}

async fn seed(url: &str) -> Vec<String> {
    let store = Store::open(url).await.unwrap();
    let area = |code: &str, parent: Option<&str>, level| NewArea {
        code: code.into(),
        parent_code: parent.map(Into::into),
        level,
        name: code.into(),
        name_en: code.into(),
    };
    store
        .create_areas(
            vec![
                area("22", None, AreaLevel::from("province")),
                area("193", Some("22"), AreaLevel::from("district")),
                area("06658", Some("193"), AreaLevel::from("commune")),
                area("0665801", Some("06658"), AreaLevel::from("village")),
                area("0665802", Some("06658"), AreaLevel::from("village")),
            ],
            "test",
        )
        .await
        .unwrap();
    store.seed_standard_products().await.unwrap();
    store
        .create_lot(
            &Lot {
                product_code: "AZ".into(),
                lot_number: "AZ-1".into(),
                expiry: "2030-12-31".into(),
                status: LotStatus::Released,
                doses: 100_000,
            },
            "t",
        )
        .await
        .unwrap();
    store
        .create_site(
            &Site {
                code: "S1".into(),
                name: "S1".into(),
                kind: SiteKind::TemporarySite,
                area_code: "06658".into(),
                stations: 4,
                daily_capacity: 1000,
            },
            "t",
        )
        .await
        .unwrap();
    // S1 keeps its own stock: every dose given there comes out of it.
    let system = vaxgrid_store::model::Actor::system("test");
    store
        .create_store(
            &vaxgrid_store::supply::NewStore {
                code: "KS1".into(),
                name: "KS1".into(),
                area_code: "06658".into(),
                parent_code: None,
                site_code: Some("S1".into()),
            },
            &system,
        )
        .await
        .unwrap();
    store
        .record_movement(
            &vaxgrid_store::supply::NewMovement {
                store_code: "KS1".into(),
                product_code: "AZ".into(),
                lot_number: "AZ-1".into(),
                movement: vaxgrid_core::supply::ledger::Movement {
                    id: uuid::Uuid::now_v7(),
                    kind: vaxgrid_core::supply::ledger::MovementKind::Receipt {
                        source: vaxgrid_core::supply::ledger::ReceiptSource::Purchase,
                        document: "HD-1".into(),
                    },
                    quantity: INITIAL_STOCK,
                },
            },
            &system,
        )
        .await
        .unwrap();
    let people: Vec<NewPerson> = (0..PERSONS)
        .map(|i| NewPerson {
            id: uuid::Uuid::now_v7().to_string(),
            id_type: IdType::Cccd,
            id_number: format!("022080{:06}", i + 1),
            full_name: format!("Ngô Văn {i}"),
            birth_date: time::macros::date!(1980 - 01 - 01),
            sex: Sex::Male,
            phone: None,
            home_area: if i % 2 == 0 { "0665801" } else { "0665802" }.into(),
            occupation: None,
            priority_groups: if i % 3 == 0 {
                vec!["frontline".into()]
            } else {
                vec![]
            },
        })
        .collect();
    let (placed, errors) = store.check_people(people).await.unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    store.insert_people(&placed, "t", |_| {}).await.unwrap();
    store.close().await;
    placed.into_iter().map(|p| p.new.id).collect()
}

/// A dose given today: the site's store, created today, tracks it.
fn body(id: &str, person: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "person_id": person, "product_code": "AZ", "lot_number": "AZ-1",
                       "site_code": "S1", "administered_on": vaxgrid_store::format_date(vaxgrid_store::today())})
}

/// Sends one dose; Some(status) if an answer came back.
async fn send(client: &reqwest::Client, base: &str, b: &serde_json::Value) -> Option<u16> {
    client
        .post(format!("{base}/api/v1/doses"))
        .json(b)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

async fn crash_rounds(backend: &str) {
    let scratch = Scratch::of(backend)
        .await
        .unwrap_or_else(|e| panic!("{backend} is required: {e}"));
    let people = Arc::new(seed(&scratch.url).await);
    let seed_value = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("crash test on {backend}, random seed {seed_value}");
    let mut rng = fastrand::Rng::with_seed(seed_value);
    // The clients come with a token made on the command line, as an
    // operator would.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
            .args(args)
            .args(["--database-url", &scratch.url])
            .output()
            .expect("run vaxgrid");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["user", "add", "crash-client", "--grant", "admin"]);
    let made = cli(&["token", "create", "crash-client"]);
    let token = made.rsplit(' ').next().unwrap().trim().to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let next_person = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut pending: BTreeMap<String, String> = BTreeMap::new(); // dose id -> person id
    for round in 0..ROUNDS {
        let (mut child, base) = start(&scratch.url).await;
        // Retry what the previous crash left unanswered, with the same ids.
        for (id, person) in std::mem::take(&mut pending) {
            match send(&client, &base, &body(&id, &person)).await {
                Some(201) | Some(200) => {
                    acked.lock().unwrap().insert(id);
                }
                other => panic!("retry of {id} after restart answered {other:?}"),
            }
        }
        let unanswered: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, base, acked, unanswered, stop, people, next) = (
                client.clone(),
                base.clone(),
                acked.clone(),
                unanswered.clone(),
                stop.clone(),
                people.clone(),
                next_person.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(person) = people.get(i) else { break };
                    let id = uuid::Uuid::now_v7().to_string();
                    match send(&client, &base, &body(&id, person)).await {
                        Some(201) | Some(200) => {
                            acked.lock().unwrap().insert(id);
                        }
                        Some(503) | None => {
                            unanswered.lock().unwrap().insert(id, person.clone());
                        }
                        Some(other) => panic!("dose {id} answered {other}"),
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(100..600))).await;
        child.start_kill().expect("SIGKILL the server");
        child.wait().await.unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        pending.extend(std::mem::take(&mut *unanswered.lock().unwrap()));
        println!(
            "round {round}: {} acknowledged so far, {} to retry",
            acked.lock().unwrap().len(),
            pending.len()
        );
    }
    // Last restart: retry the rest, then check.
    let (mut child, base) = start(&scratch.url).await;
    for (id, person) in std::mem::take(&mut pending) {
        assert!(matches!(
            send(&client, &base, &body(&id, &person)).await,
            Some(201) | Some(200)
        ));
        acked.lock().unwrap().insert(id);
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let store = Store::open(&scratch.url).await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the test must record doses; got {}",
        acked.len()
    );
    let mut stored = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.doses_after(after.as_deref(), 5000).await.unwrap();
        if page.is_empty() {
            break;
        }
        for d in &page {
            assert!(stored.insert(d.id.clone()), "dose {} stored twice", d.id);
        }
        after = page.last().map(|d| d.id.clone());
    }
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged doses lost: {missing:?}");
    assert_eq!(
        stored.len(),
        acked.len(),
        "every stored dose was acknowledged (after retries)"
    );
    let diffs = store.check_counters().await.unwrap();
    assert!(
        diffs.is_empty(),
        "counters differ from a recount:\n{}",
        diffs.join("\n")
    );
    // The counters the pages read hold every acknowledged dose once: by
    // day, and by area, product and number.
    let counters = store.stored_counters().await.unwrap();
    assert_eq!(counters.daily.values().sum::<i64>(), acked.len() as i64);
    assert_eq!(counters.doses.values().sum::<i64>(), acked.len() as i64);
    // The site's stock went down by exactly the doses committed, and its
    // counter equals the ledger's recount.
    let on_hand = store
        .lot_on_hand("KS1", "AZ", "AZ-1", &vaxgrid_store::scope::Scope::All)
        .await
        .unwrap();
    assert_eq!(on_hand, INITIAL_STOCK - stored.len() as u64);
    let stock = store.check_stock().await.unwrap();
    assert!(
        stock.is_empty(),
        "stock differs from a recount:\n{}",
        stock.join("\n")
    );
    store.close().await;
    scratch.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_dose_sqlite() {
    crash_rounds("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_dose_postgres() {
    crash_rounds("postgres").await;
}
