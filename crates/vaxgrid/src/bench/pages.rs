//! `vaxgrid bench pages`: the time each browser page takes on the demo
//! province (`--residents`, 100,000 by default), asked one after another
//! by a signed-in client of the right role over loopback; prints p50 and
//! p95 per page. The baseline in the same run is `/healthz`, the cheapest
//! answer the server gives, so the figures show what a page itself costs.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::writer::WriterConfig;
use vaxgrid_store::Store;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Signs `username` in (password `demo-<username>`) and returns the
/// session cookie.
async fn sign_in(client: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let page = client.get(format!("{base}/login")).send().await?;
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("vaxgrid_login_csrf="))
        .and_then(|c| c.split(';').next())
        .context("the sign-in page sets no CSRF cookie")?
        .to_string();
    let r = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("vaxgrid_login_csrf={csrf}"))
        .body(format!(
            "username={username}&password=demo-{username}&csrf_token={csrf}"
        ))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 303, "sign-in of {username}: {}", r.status());
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("vaxgrid_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
        .context("no session cookie")
}

/// The demo campaign of 2021 over province 22: one wave, the target
/// split to the districts. Its id.
async fn plan_campaign(store: &Store) -> Result<String> {
    use vaxgrid_store::campaigns::{NewCampaign, NewWave};
    let day = |m, d| time::Date::from_calendar_date(2021, m, d).expect("valid date");
    let system = vaxgrid_store::model::Actor::from("bench");
    let campaign = store
        .create_campaign(
            &NewCampaign {
                id: uuid::Uuid::now_v7().to_string(),
                name: "COVID-19 2021".into(),
                disease: "COVID-19".into(),
                area_code: "22".into(),
                products: vec![
                    "AZ".into(),
                    "BIBP".into(),
                    "PFIZER".into(),
                    "MODERNA".into(),
                    "SINOVAC".into(),
                ],
                priority_groups: Vec::new(),
                target_percent_tenths: 800,
                target_date: day(time::Month::December, 31),
                min_age_years: 18,
                history_reason: Some("the 2021 campaign, loaded for the benchmark".into()),
            },
            &system,
        )
        .await?;
    store
        .add_wave(
            &campaign.id,
            &NewWave {
                id: uuid::Uuid::now_v7().to_string(),
                name: "Wave 1".into(),
                starts_on: day(time::Month::July, 1),
                ends_on: day(time::Month::December, 31),
                eligible_groups: Vec::new(),
                history_reason: Some("the 2021 campaign, loaded for the benchmark".into()),
            },
            &system,
        )
        .await?;
    store
        .decompose_targets(&campaign.id, "22", Vec::new(), &system)
        .await?;
    Ok(campaign.id)
}

pub async fn run(residents: usize, requests: usize) -> Result<()> {
    let scratch = Scratch::sqlite();
    let store = Store::open(&scratch.url).await?;
    let started = Instant::now();
    let seeded = crate::demo::seed_reference(&store).await?;
    crate::demo::seed_people(&store, &seeded, residents).await?;
    crate::accounts::seed_demo_users(&store, &seeded.sites[0], "193", "22").await?;
    println!(
        "demo province with {residents} residents seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let state = vaxgrid_server::AppState::new(store.clone(), WriterConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(vaxgrid_server::serve(state, listener));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // A campaign over the province, entered after the fact, with its wave
    // and the target split to the districts: the dashboard draws its
    // daily target and links to its lists.
    let campaign = plan_campaign(&store).await?;
    let village = seeded.villages.first().context("no village")?;
    let village_area = store.area(village).await?;
    let commune = village_area
        .parent_code
        .clone()
        .context("a village has a commune")?;
    let district = store
        .area(&commune)
        .await?
        .parent_code
        .context("a commune has a district")?;
    let planner = sign_in(&client, &base, "planner").await?;
    let statistics = sign_in(&client, &base, "statistics").await?;
    let vaccinator = sign_in(&client, &base, "vaccinator").await?;
    let registrar = sign_in(&client, &base, "registrar").await?;
    let site = &seeded.sites[0];
    // A visit open at the site for a resident found by name, as the
    // table's search finds them: its page and the adverse-event form.
    let query = vaxgrid_store::persons::PersonQuery {
        id_number: None,
        phone: None,
        name: Some("nguyen".into()),
        area: None,
        scope: vaxgrid_store::scope::Scope::All,
    };
    let person = store
        .search_persons(&query, None, 1)
        .await?
        .items
        .into_iter()
        .next()
        .context("no resident named Nguyen")?;
    let visit = uuid::Uuid::now_v7().to_string();
    store
        .open_visit(
            &visit,
            &person.id,
            site,
            "AZ",
            None,
            &vaxgrid_store::model::Actor::from("bench"),
        )
        .await?;
    let pages: Vec<(String, String, Option<&str>)> = vec![
        ("healthz (baseline)".into(), "/healthz".into(), None),
        ("home (coverage)".into(), "/".into(), Some(planner.as_str())),
        (
            "dashboard province".into(),
            format!("/planner/areas/22?campaign={campaign}"),
            Some(statistics.as_str()),
        ),
        (
            "dashboard district".into(),
            format!("/planner/areas/{district}"),
            Some(planner.as_str()),
        ),
        (
            "dashboard commune".into(),
            format!("/planner/areas/{commune}"),
            Some(planner.as_str()),
        ),
        (
            "dashboard village".into(),
            format!("/planner/areas/{village}"),
            Some(planner.as_str()),
        ),
        ("login".into(), "/login".into(), None),
        ("verify".into(), "/verify".into(), None),
        (
            "site board".into(),
            format!("/sites/{site}/board"),
            Some(vaccinator.as_str()),
        ),
        (
            "table queue".into(),
            format!("/sites/{site}/table"),
            Some(vaccinator.as_str()),
        ),
        (
            "table find by name".into(),
            format!("/sites/{site}/table/find?name=nguyen"),
            Some(vaccinator.as_str()),
        ),
        (
            "table find by ID".into(),
            format!("/sites/{site}/table/find?id_number={}", person.id_number),
            Some(vaccinator.as_str()),
        ),
        (
            "table walk-in form".into(),
            format!("/sites/{site}/table/walk-in"),
            Some(registrar.as_str()),
        ),
        (
            "table visit".into(),
            format!("/sites/{site}/table/visits/{visit}"),
            Some(vaccinator.as_str()),
        ),
        (
            "table adverse event".into(),
            format!("/sites/{site}/table/visits/{visit}/adverse-event"),
            Some(vaccinator.as_str()),
        ),
    ];
    println!("{requests} requests per page, one at a time, after 3 to warm up");
    println!("{:<22} {:>10} {:>10}", "page", "p50 ms", "p95 ms");
    for (name, path, cookie) in pages {
        let mut times = Vec::with_capacity(requests);
        for i in 0..requests + 3 {
            let mut request = client.get(format!("{base}{path}"));
            if let Some(c) = cookie {
                request = request.header("cookie", c);
            }
            let t = Instant::now();
            let r = request.send().await?;
            let status = r.status();
            r.bytes().await?;
            anyhow::ensure!(status == 200, "{path}: {status}");
            if i >= 3 {
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!(
            "{name:<22} {:>10.2} {:>10.2}",
            percentile(&times, 0.50).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0
        );
    }
    server.abort();
    store.close().await;
    scratch.cleanup().await;
    Ok(())
}
