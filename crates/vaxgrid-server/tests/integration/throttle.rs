//! Sign-in throttling over HTTP (vaxgrid_core::throttle), on both backends:
//! clients come from different loopback addresses (127.0.0.2, .3, …) and
//! the server tells them apart by the connection's source address.
use crate::common;

use std::net::IpAddr;
use std::time::Duration;

use common::TestApp;
use serde_json::Value;

/// A browser at `source` holding a sign-in CSRF token of its own.
struct Browser {
    base: String,
    client: reqwest::Client,
    csrf: String,
}

impl Browser {
    async fn at(app: &TestApp, source: &str) -> Browser {
        let client = reqwest::Client::builder()
            .local_address(source.parse::<IpAddr>().unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = client
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap();
        let csrf = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
        Browser {
            base: app.base.clone(),
            client,
            csrf: csrf.to_string(),
        }
    }

    /// Signs in; the status and the Retry-After seconds if any.
    async fn sign_in(&self, username: &str, password: &str) -> (u16, Option<u64>) {
        let r = self
            .client
            .post(format!("{}/login", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("vaxgrid_login_csrf={}", self.csrf))
            .body(format!(
                "username={username}&password={password}&csrf_token={}",
                self.csrf
            ))
            .send()
            .await
            .unwrap();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        (r.status().as_u16(), retry)
    }

    async fn statuses(&self, username: &str, password: &str, times: usize) -> Vec<u16> {
        let mut out = Vec::new();
        for _ in 0..times {
            out.push(self.sign_in(username, password).await.0);
        }
        out
    }
}

async fn user(app: &TestApp, username: &str, grants: &[&str]) {
    TestApp::make_user(&app.store, username, grants).await;
}

async fn lockouts(client: &reqwest::Client, app: &TestApp) -> (u16, Value) {
    let r = client
        .get(format!("{}/api/v1/admin/lockouts", app.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Someone guessing the administrator's password, from one address or
/// several, cannot keep the administrator out of an address they signed in
/// from before; the lockouts are listed for user managers only.
async fn an_attacker_cannot_lock_the_admin_out(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    user(&app, "chief", &["admin"]).await;
    let office = Browser::at(&app, "127.0.0.3").await;
    assert_eq!(office.sign_in("chief", "pw-chief").await.0, 303);

    // One address guesses: five failures are free, then it waits.
    let attacker = Browser::at(&app, "127.0.0.2").await;
    let seen = attacker.statuses("chief", "guess", 30).await;
    // (The first wait is 1 s: on a slow machine one more guess may be
    // checked within the thirty; the next wait is 2 s.)
    assert_eq!(seen[..5], [401, 401, 401, 401, 429], "{seen:?}");
    assert!(seen.iter().all(|s| *s == 401 || *s == 429), "{seen:?}");
    assert!(seen.iter().filter(|s| **s == 401).count() <= 6, "{seen:?}");
    // The administrator's known address is not held back.
    assert_eq!(office.sign_in("chief", "pw-chief").await.0, 303);

    // Several addresses guess: the name-wide limit holds back every address
    // that never signed in as the name, the right password included …
    for source in ["127.0.0.4", "127.0.0.5", "127.0.0.6"] {
        let b = Browser::at(&app, source).await;
        b.statuses("chief", "guess", 5).await;
    }
    let new_place = Browser::at(&app, "127.0.0.7").await;
    let (status, retry) = new_place.sign_in("chief", "pw-chief").await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|s| (1..=900).contains(&s)), "{retry:?}");

    // … and it is listed, with each address that waits, to user managers.
    let (status, list) = lockouts(&app.client, &app).await;
    assert_eq!(status, 200, "{list}");
    let items = list.as_array().unwrap();
    let of = |address: Option<&str>| {
        items
            .iter()
            .find(|l| l["username"] == "chief" && l["address"].as_str() == address)
    };
    let name_wide = of(None).unwrap_or_else(|| panic!("{list}"));
    assert_eq!(name_wide["active"], true, "{list}");
    assert!(name_wide["failures"].as_i64().unwrap() >= 10, "{list}");
    assert!(of(Some("127.0.0.2")).is_some(), "{list}");
    assert!(of(Some("127.0.0.3")).is_none(), "{list}");
    let clerk = app.as_user("clerk", &["registrar:S1"]).await;
    assert_eq!(lockouts(&clerk.client, &app).await.0, 403);

    // But the office still gets in, and its success clears the name's
    // counter: the new place may try again.
    assert_eq!(office.sign_in("chief", "pw-chief").await.0, 303);
    assert_eq!(new_place.sign_in("chief", "pw-chief").await.0, 303);
    app.cleanup().await;
}

/// Guessing from one address stays throttled, each failure doubling the
/// wait; a success clears the address's counter.
async fn the_wait_grows_and_a_success_resets_it(backend: &str) {
    let app = TestApp::start(backend).await;
    app.seed().await;
    user(&app, "nurse", &["registrar:S1"]).await;
    let b = Browser::at(&app, "127.0.0.2").await;
    assert_eq!(b.statuses("nurse", "guess", 4).await, [401; 4]);
    // The fifth failure starts a wait of 1 s; attempts during it are not
    // checked and do not lengthen it.
    assert_eq!(b.sign_in("nurse", "guess").await, (429, Some(1)));
    assert_eq!(b.sign_in("nurse", "guess").await, (429, Some(1)));
    let mut waits = vec![1];
    for _ in 0..2 {
        app.store
            .clock()
            .advance(Duration::from_millis(waits.last().unwrap() * 1000 + 100));
        let (status, retry) = b.sign_in("nurse", "guess").await;
        assert_eq!(status, 429);
        waits.push(retry.unwrap());
    }
    assert_eq!(waits, [1, 2, 4]);
    // The right password waits like a guess from this address …
    assert_eq!(b.sign_in("nurse", "pw-nurse").await.0, 429);
    // … and once the wait is over it signs in, which clears the counter.
    app.store.clock().advance(Duration::from_millis(4100));
    assert_eq!(b.sign_in("nurse", "pw-nurse").await.0, 303);
    assert_eq!(b.statuses("nurse", "guess", 4).await, [401; 4]);
    app.cleanup().await;
}

/// Behind a trusted reverse proxy, clients are told apart by the address
/// the proxy appends to X-Forwarded-For; a client's own entries are ignored.
async fn behind_a_trusted_proxy_clients_are_told_apart(backend: &str) {
    let scratch = vaxgrid_store::scratch::Scratch::of(backend).await.unwrap();
    let store = vaxgrid_store::Store::open(&scratch.url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = vaxgrid_server::AppState::new(store.clone(), Default::default())
        .expect("the dose writer starts")
        .with_trusted_proxies(vec!["127.0.0.9".parse().unwrap()]);
    tokio::spawn(async move {
        let _ = vaxgrid_server::serve(state, listener).await;
    });
    TestApp::make_user(&store, "chief", &["admin"]).await;
    let proxy = reqwest::Client::builder()
        .local_address("127.0.0.9".parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = |client: &str, password: &str| {
        let form = format!("username=chief&password={password}&csrf_token=t");
        proxy
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "vaxgrid_login_csrf=t")
            .header("x-forwarded-for", client)
            .body(form)
            .send()
    };
    let status = |r: reqwest::Result<reqwest::Response>| r.unwrap().status().as_u16();
    assert_eq!(status(sign_in("198.51.100.1", "pw-chief").await), 303);
    // The attacker claims the administrator's address in front of its own.
    for _ in 0..10 {
        sign_in("198.51.100.1, 203.0.113.66", "guess")
            .await
            .unwrap();
    }
    assert_eq!(status(sign_in("203.0.113.66", "guess").await), 429);
    assert_eq!(status(sign_in("198.51.100.1", "pw-chief").await), 303);
    // A client connecting directly cannot claim an address.
    let direct = Browser {
        base: base.clone(),
        client: reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<IpAddr>().unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        csrf: "t".into(),
    };
    assert_eq!(
        direct.statuses("chief", "guess", 5).await,
        [401, 401, 401, 401, 429]
    );
    let lockouts = store.lockouts().await.unwrap();
    let mut addresses: Vec<_> = lockouts.iter().filter_map(|l| l.address.clone()).collect();
    addresses.sort();
    assert_eq!(addresses, ["127.0.0.2", "203.0.113.66"]);
    store.close().await;
    scratch.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_clients_are_told_apart_sqlite() {
    behind_a_trusted_proxy_clients_are_told_apart("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_clients_are_told_apart_postgres() {
    behind_a_trusted_proxy_clients_are_told_apart("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_the_admin_out_sqlite() {
    an_attacker_cannot_lock_the_admin_out("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_the_admin_out_postgres() {
    an_attacker_cannot_lock_the_admin_out("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_grows_and_a_success_resets_it_sqlite() {
    the_wait_grows_and_a_success_resets_it("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_grows_and_a_success_resets_it_postgres() {
    the_wait_grows_and_a_success_resets_it("postgres").await;
}
