//! Failover test: the database machine dies, and no acknowledged dose is
//! lost. Two PostgreSQL 15 clusters of the test's own, on free ports (never
//! the machine's shared cluster): a primary and a synchronous standby made
//! with `pg_basebackup -R` (`synchronous_standby_names` on the primary,
//! `synchronous_commit = on`). The server runs as a child process with a
//! URL listing both hosts and `target_session_attrs=read-write`; concurrent
//! clients record doses; the primary's postmaster and its backends are
//! killed with SIGKILL, the standby is promoted, and the clients retry what
//! went unanswered with the same ids. The server is not restarted. Every
//! acknowledged dose must then be on the new primary exactly once, and the
//! counters must equal a recount.
//!
//! Needs the PostgreSQL 15 server binaries (`/usr/lib/postgresql/15/bin`,
//! or the directory in `VAXGRID_PG_BIN`) and, when run as root, the
//! `postgres` OS user (the clusters run as it). Fails, never skips,
//! without them. Bounded: about a minute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::model::{Lot, NewArea, NewPerson, Site, SiteKind};
use vaxgrid_store::Store;

const CLIENTS: usize = 12;
const PERSONS: usize = 6_000;

fn pg_bin() -> PathBuf {
    let dir = PathBuf::from(
        std::env::var("VAXGRID_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    );
    for tool in ["initdb", "pg_ctl", "pg_basebackup", "postgres"] {
        assert!(
            dir.join(tool).exists(),
            "the failover test needs the PostgreSQL 15 server binaries: {} is missing \
             (install postgresql-15, or set VAXGRID_PG_BIN to their directory)",
            dir.join(tool).display()
        );
    }
    dir
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when the test runs as
/// root (PostgreSQL refuses to run as root).
fn pg(bin: &Path, tool: &str, args: &[&str]) {
    let tool = bin.join(tool);
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&tool);
        c
    } else {
        std::process::Command::new(&tool)
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", tool.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}{}",
        tool.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The two clusters; stopped and removed when dropped, whatever happened.
struct Clusters {
    bin: PathBuf,
    dir: PathBuf,
    primary_port: u16,
    standby_port: u16,
}

impl Clusters {
    fn primary(&self) -> PathBuf {
        self.dir.join("primary")
    }

    fn standby(&self) -> PathBuf {
        self.dir.join("standby")
    }

    fn start(bin: PathBuf) -> Clusters {
        let dir = std::env::temp_dir().join(format!("vaxgrid-failover-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let ok = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the test's directory to postgres");
        }
        let clusters = Clusters {
            bin,
            dir,
            primary_port: free_port(),
            standby_port: free_port(),
        };
        let (p, s) = (clusters.primary(), clusters.standby());
        pg(
            &clusters.bin,
            "initdb",
            &[
                "-D",
                p.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
            ],
        );
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             wal_level = replica\nmax_wal_senders = 4\nshared_buffers = 32MB\n\
             synchronous_commit = on\nsynchronous_standby_names = 'standby1'\n\
             fsync = on\nmax_connections = 60\n",
            clusters.primary_port,
            clusters.dir.display()
        );
        append(&p.join("postgresql.conf"), &settings);
        clusters.ctl(&p, "start");
        pg(
            &clusters.bin,
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &clusters.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                s.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
            ],
        );
        // The standby's own settings, after the primary's copied ones: its
        // port, the name the primary waits for, and no synchronous standby
        // of its own once promoted (it would wait for nobody forever).
        append(
            &s.join("postgresql.conf"),
            &format!(
                "\nport = {}\ncluster_name = 'standby1'\nsynchronous_standby_names = ''\n",
                clusters.standby_port
            ),
        );
        clusters.ctl(&s, "start");
        clusters
    }

    fn ctl(&self, data: &Path, action: &str) {
        let log = data.with_extension("log");
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                action,
            ],
        );
    }

    /// SIGKILL the primary's postmaster and every process it started, as
    /// if the machine had died.
    fn kill_primary(&self) {
        let pid_file = std::fs::read_to_string(self.primary().join("postmaster.pid")).unwrap();
        let pid: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
        let mut victims = vec![pid];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid …; comm may hold spaces, so read after ')'.
            let Some(after) = stat.rsplit_once(')').map(|x| x.1) else {
                continue;
            };
            let ppid: Option<u32> = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            if ppid == Some(pid) {
                if let Ok(child) = entry.file_name().to_string_lossy().parse() {
                    victims.push(child);
                }
            }
        }
        let status = std::process::Command::new("kill")
            .arg("-9")
            .args(victims.iter().map(|p| p.to_string()))
            .status()
            .unwrap();
        assert!(status.success(), "kill -9 {victims:?}");
    }

    fn url(&self, ports: &[u16]) -> String {
        let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        format!(
            "postgres://postgres@{}/postgres?target_session_attrs=read-write",
            hosts.join(",")
        )
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for data in [self.primary(), self.standby()] {
            if data.join("postmaster.pid").exists() {
                let tool = self.bin.join("pg_ctl");
                let mut cmd = if is_root() {
                    let mut c = std::process::Command::new("runuser");
                    c.args(["-u", "postgres", "--"]).arg(&tool);
                    c
                } else {
                    std::process::Command::new(&tool)
                };
                let _ = cmd
                    .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "failover test: clusters' logs kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
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

fn body(id: &str, person: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "person_id": person, "product_code": "AZ", "lot_number": "AZ-1",
                       "site_code": "S1", "administered_on": "2021-07-01"})
}

/// Sends one dose; Some(status) if an answer came back.
async fn send(client: &reqwest::Client, base: &str, b: &serde_json::Value) -> Option<u16> {
    client
        .post(format!("{base}/api/v1/doses"))
        .json(b)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_a_synchronous_standby_loses_no_acknowledged_dose() {
    let started = Instant::now();
    let clusters = Clusters::start(pg_bin());
    let url = clusters.url(&[clusters.primary_port, clusters.standby_port]);
    println!(
        "failover test: primary on {}, synchronous standby on {} ({:.1} s)",
        clusters.primary_port,
        clusters.standby_port,
        started.elapsed().as_secs_f64()
    );
    let people = Arc::new(seed(&url).await);
    // The standby is synchronous before any dose is recorded.
    let primary_only = clusters.url(&[clusters.primary_port]);
    {
        let store = Store::connect(&primary_only).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state: Option<(String,)> =
                sqlx::query_as("SELECT sync_state FROM pg_stat_replication")
                    .fetch_optional(store.pool())
                    .await
                    .unwrap();
            if state.as_ref().is_some_and(|(s,)| s == "sync") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the standby is not synchronous: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        store.close().await;
    }

    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
            .args(args)
            .args(["--database-url", &url])
            .output()
            .expect("run vaxgrid");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["user", "add", "failover-client", "--grant", "admin"]);
    let made = cli(&["token", "create", "failover-client"]);
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

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
        .args(["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
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

    let acked: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let acked_after_promotion = Arc::new(AtomicUsize::new(0));
    let promoted = Arc::new(AtomicBool::new(false));
    let unanswered: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let next_person = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, base, acked, unanswered, stop, people, next, promoted, after) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            unanswered.clone(),
            stop.clone(),
            people.clone(),
            next_person.clone(),
            promoted.clone(),
            acked_after_promotion.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(person) = people.get(i) else { break };
                let id = uuid::Uuid::now_v7().to_string();
                let was_promoted = promoted.load(Ordering::Relaxed);
                match send(&client, &base, &body(&id, person)).await {
                    Some(201) | Some(200) => {
                        acked.lock().unwrap().insert(id, person.clone());
                        if was_promoted {
                            after.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    // No answer, or the server could not reach the
                    // database: nothing acknowledged, retried below.
                    Some(500..=599) | None => {
                        unanswered.lock().unwrap().insert(id, person.clone());
                    }
                    Some(other) => panic!("dose {id} answered {other}"),
                }
            }
        }));
    }

    // Kill once the load runs (at least 100 doses acknowledged).
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(
        before_kill >= 100,
        "doses are recorded before the failover: {before_kill}"
    );
    clusters.kill_primary();
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg(
        &clusters.bin,
        "pg_ctl",
        &[
            "-D",
            clusters.standby().to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "promote",
        ],
    );
    promoted.store(true, Ordering::Relaxed);
    println!(
        "killed the primary with {before_kill} doses acknowledged; standby promoted after {:.1} s",
        killed_at.elapsed().as_secs_f64()
    );
    // Load goes on against the new primary, through the same server.
    let deadline = Instant::now() + Duration::from_secs(45);
    while acked_after_promotion.load(Ordering::Relaxed) < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let after = acked_after_promotion.load(Ordering::Relaxed);
    assert!(
        after >= 200,
        "the server records doses on the new primary without a restart: {after} in 45 s"
    );
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server kept running through the failover"
    );

    // The clients retry what went unanswered, with the same ids.
    let pending = std::mem::take(&mut *unanswered.lock().unwrap());
    println!(
        "{} acknowledged ({after} after the promotion), {} to retry, {:.1} s since the kill",
        acked.lock().unwrap().len(),
        pending.len(),
        killed_at.elapsed().as_secs_f64()
    );
    for (id, person) in pending {
        let answer = send(&client, &base, &body(&id, &person)).await;
        assert!(
            matches!(answer, Some(201) | Some(200)),
            "retry of {id} after the failover answered {answer:?}"
        );
        acked.lock().unwrap().insert(id, person);
    }
    // A client that lost the answer to a request the old primary had
    // acknowledged sends it again: the new primary has it, and answers so.
    let resent: Vec<(String, String)> = acked
        .lock()
        .unwrap()
        .iter()
        .take(50)
        .map(|(i, p)| (i.clone(), p.clone()))
        .collect();
    for (id, person) in resent {
        let answer = send(&client, &base, &body(&id, &person)).await;
        assert_eq!(
            answer,
            Some(200),
            "the same dose {id} sent again after the failover"
        );
    }
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    // On the new primary alone: every acknowledged dose exactly once, and
    // the counters equal a recount.
    let store = Store::open(&clusters.url(&[clusters.standby_port]))
        .await
        .unwrap();
    let acked: BTreeSet<String> = acked.lock().unwrap().keys().cloned().collect();
    let mut stored = BTreeSet::new();
    let mut after_id: Option<String> = None;
    loop {
        let page = store.doses_after(after_id.as_deref(), 5000).await.unwrap();
        if page.is_empty() {
            break;
        }
        for d in &page {
            assert!(stored.insert(d.id.clone()), "dose {} stored twice", d.id);
        }
        after_id = page.last().map(|d| d.id.clone());
    }
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "acknowledged doses lost in the failover: {missing:?}"
    );
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
    store.close().await;
    println!(
        "failover test: {} doses, all on the new primary once, counters == recount, {:.1} s in all",
        stored.len(),
        started.elapsed().as_secs_f64()
    );
}
