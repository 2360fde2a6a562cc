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

/// A browser's cookies for one visitor: kept from every answer, sent with
/// every request (the resident portal's forms need them).
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps the answer's cookies; (status, location, body).
    async fn keep(&mut self, r: reqwest::Response) -> Result<(u16, String, String)> {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str()?;
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').context("a cookie without '='")?;
            if attrs.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_string(), value.to_string());
            }
        }
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((status, location, r.text().await?))
    }

    async fn get(&mut self, client: &reqwest::Client, url: &str) -> Result<(u16, String, String)> {
        let r = client
            .get(url)
            .header("cookie", self.header())
            .send()
            .await?;
        self.keep(r).await
    }

    async fn post(
        &mut self,
        client: &reqwest::Client,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<(u16, String, String)> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = client
            .post(url)
            .header("cookie", self.header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        self.keep(r).await
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The form's CSRF token, as the page carries it.
fn csrf_field(page: &str) -> Result<String> {
    let field = "name=\"csrf_token\" value=\"";
    let at = page.find(field).context("a page without a CSRF field")?;
    let rest = &page[at + field.len()..];
    Ok(rest[..rest.find('"').context("an unterminated CSRF field")?].to_string())
}

/// The portal's find form sent with `person`'s details: the visitor then
/// waits at the code form.
async fn portal_find(
    jar: &mut Jar,
    client: &reqwest::Client,
    base: &str,
    person: &vaxgrid_store::model::Person,
) -> Result<()> {
    let (_, _, page) = jar.get(client, &format!("{base}/portal")).await?;
    let csrf = csrf_field(&page)?;
    let (status, location, _) = jar
        .post(
            client,
            &format!("{base}/portal/find"),
            &[
                ("id_number", &person.id_number),
                ("birth_date", &person.birth_date),
                ("csrf_token", &csrf),
            ],
        )
        .await?;
    anyhow::ensure!(
        status == 303 && location == "/portal/code",
        "portal find: {status} {location}"
    );
    Ok(())
}

/// A resident of the site's commune with a dose and a phone, signed in to
/// the portal (as residents are: the details, then the code from the
/// outbox), holding a place in tomorrow's session at the site. Returns
/// (a visitor waiting at the code form, the signed-in visitor, the hold).
async fn resident_visitors(
    store: &Store,
    client: &reqwest::Client,
    base: &str,
    site: &str,
) -> Result<(Jar, Jar, String, (String, String))> {
    let (person, dose) = resident_with_dose(store, site).await?;
    let mut waiting = Jar::default();
    portal_find(&mut waiting, client, base, &person).await?;
    let mut signed = Jar::default();
    portal_find(&mut signed, client, base, &person).await?;
    let code = code_from_outbox(store).await?;
    let (_, _, page) = signed.get(client, &format!("{base}/portal/code")).await?;
    let csrf = csrf_field(&page)?;
    let (status, location, _) = signed
        .post(
            client,
            &format!("{base}/portal/code"),
            &[("code", &code), ("csrf_token", &csrf)],
        )
        .await?;
    anyhow::ensure!(
        status == 303 && location == "/portal/me",
        "portal code: {status} {location}"
    );
    let hold = hold_tomorrow(store, &mut signed, client, base, site).await?;
    Ok((waiting, signed, hold, (person.id, dose)))
}

/// A resident of the site's area with a phone and a dose (the person and
/// the dose's record id).
async fn resident_with_dose(
    store: &Store,
    site: &str,
) -> Result<(vaxgrid_store::model::Person, String)> {
    let area = store.site(site).await?.area_code;
    let query = vaxgrid_store::persons::PersonQuery {
        id_number: None,
        phone: None,
        name: None,
        area: Some(area),
        scope: vaxgrid_store::scope::Scope::All,
        ..Default::default()
    };
    for p in store.search_persons(&query, None, 200).await?.items {
        if p.phone.is_none() {
            continue;
        }
        if let Some(dose) = store
            .history(&p.id)
            .await?
            .records
            .iter()
            .find(|r| r.kind.is_dose())
        {
            let dose = dose.id.clone();
            return Ok((p, dose));
        }
    }
    anyhow::bail!("no resident with a dose and a phone at the site")
}

/// The code of the latest portal sign-in, read from the outbox.
async fn code_from_outbox(store: &Store) -> Result<String> {
    let pending = store.pending_reminders(i64::MAX, 10_000).await?;
    let m = pending
        .iter()
        .rfind(|m| m.kind == "portal_code")
        .context("no code in the outbox")?;
    m.message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
        .context("a code message without its code")
}

/// Opens a session at the site tomorrow and has the signed-in visitor hold
/// its first slot; the hold's id.
async fn hold_tomorrow(
    store: &Store,
    signed: &mut Jar,
    client: &reqwest::Client,
    base: &str,
    site: &str,
) -> Result<String> {
    let tomorrow = vaxgrid_store::today() + time::Duration::days(1);
    let hm = |h| time::Time::from_hms(h, 0, 0).expect("valid time");
    let (session, slots) = store
        .open_session(
            &vaxgrid_store::scheduling::NewSession {
                id: uuid::Uuid::now_v7().to_string(),
                site_code: site.to_string(),
                plan: vaxgrid_core::schedule::SessionPlan {
                    day: tomorrow,
                    opens: hm(8),
                    closes: hm(11),
                    stations: 2,
                    per_station_per_hour: 12,
                    slot_minutes: 30,
                },
                village_code: None,
            },
            &vaxgrid_store::model::Actor::system("bench"),
        )
        .await?;
    let at = slots
        .first()
        .context("a session without slots")?
        .starts_at
        .clone();
    let (_, _, page) = signed.get(client, &format!("{base}/portal/me")).await?;
    let csrf = csrf_field(&page)?;
    let (status, location, _) = signed
        .post(
            client,
            &format!("{base}/portal/hold"),
            &[
                ("session_id", &session.id),
                ("starts_at", &at),
                ("csrf_token", &csrf),
            ],
        )
        .await?;
    location
        .split("hold=")
        .nth(1)
        .map(str::to_string)
        .with_context(|| format!("portal hold: {status} {location}"))
}

/// Signs `username` in (password `demo-<username>`) and returns the
/// session cookie.
pub(super) async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
) -> Result<String> {
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
/// split to the districts. (campaign id, wave id).
pub(super) async fn plan_campaign(store: &Store) -> Result<(String, String)> {
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
                target_people: None,
                target_basis: vaxgrid_store::campaigns::TargetBasis::Population,
                target_date: day(time::Month::December, 31),
                min_age_years: 18,
                history_reason: Some("the 2021 campaign, loaded for the benchmark".into()),
            },
            &system,
        )
        .await?;
    let wave = uuid::Uuid::now_v7().to_string();
    store
        .add_wave(
            &campaign.id,
            &NewWave {
                id: wave.clone(),
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
    Ok((campaign.id, wave))
}

pub async fn run(residents: usize, requests: usize) -> Result<()> {
    let scratch = Scratch::sqlite();
    let store = Store::open(&scratch.url).await?;
    let seeded = seed_province(&store, residents).await?;
    let server = start_server(&store).await?;
    let fixtures = prepare(&store, &seeded, &server).await?;
    println!("{requests} requests per page, one at a time, after 3 to warm up");
    println!("{:<26} {:>10} {:>10}", "page", "p50 ms", "p95 ms");
    for (name, path, cookie) in pages(&fixtures) {
        let times = time_page(&server, &path, cookie, requests).await?;
        println!(
            "{name:<26} {:>10.2} {:>10.2}",
            percentile(&times, 0.50).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0
        );
    }
    server.task.abort();
    store.close().await;
    scratch.cleanup().await;
    let _ = std::fs::remove_dir_all(&server.keys);
    Ok(())
}

/// The demo province with `residents` residents, its demo users and an
/// administrator (for the dashboard of everything, `/planner`).
async fn seed_province(store: &Store, residents: usize) -> Result<crate::demo::Seeded> {
    let started = Instant::now();
    let seeded = crate::demo::seed_reference(store).await?;
    crate::demo::seed_people(store, &seeded, residents).await?;
    crate::accounts::seed_demo_users(store, &seeded.sites[0], "193", "22").await?;
    store
        .create_user(
            "admin",
            "admin",
            &crate::accounts::hash("demo-admin")?,
            &[vaxgrid_core::access::Grant::parse("admin")?],
            "bench",
        )
        .await?;
    println!(
        "demo province with {residents} residents seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(seeded)
}

/// The server over loopback, with its DCC keys, and a client that does
/// not follow redirects.
struct Server {
    keys: std::path::PathBuf,
    base: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    client: reqwest::Client,
}

async fn start_server(store: &Store) -> Result<Server> {
    let keys = std::env::temp_dir().join(format!("vaxgrid-bench-keys-{}", uuid::Uuid::now_v7()));
    vaxgrid_server::dcc_keys::init_key_dir(&keys, "VN")
        .map_err(|e| anyhow::anyhow!("DCC keys: {e}"))?;
    let state = vaxgrid_server::AppState::new(store.clone(), WriterConfig::default())?
        .with_dcc_keys(&keys, "VN", "Ministry of Health of Viet Nam")
        .map_err(|e| anyhow::anyhow!("DCC keys: {e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(vaxgrid_server::serve(state, listener));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok(Server {
        keys,
        base,
        task,
        client,
    })
}

/// What the pages are asked about, and the session cookie of each role
/// that asks.
struct Fixtures {
    campaign: String,
    wave: String,
    village: String,
    commune: String,
    district: String,
    site: String,
    /// A resident named Nguyen with a visit open at the site.
    nguyen_id_number: String,
    visit: String,
    /// The portal's visitors: one waiting at the code form, one signed
    /// in holding a place (the resident, with a dose).
    waiting: String,
    resident: String,
    hold: String,
    resident_id: String,
    resident_id_number: String,
    resident_surname: String,
    dose: String,
    supply: super::supply_seed::SupplySeed,
    outbreak: super::outbreak_seed::OutbreakSeed,
    class: String,
    admin: String,
    planner: String,
    statistics: String,
    vaccinator: String,
    registrar: String,
    coldchain: String,
    responder: String,
    trainer: String,
}

/// Everything the pages show beyond the demo province, made in order: a
/// campaign, a visit at the table, the portal's visitors, the supply,
/// an outbreak and a training class; each role signed in.
async fn prepare(store: &Store, seeded: &crate::demo::Seeded, server: &Server) -> Result<Fixtures> {
    let (client, base) = (&server.client, server.base.as_str());
    // A campaign over the province, entered after the fact, with its wave
    // and the target split to the districts: the dashboard draws its
    // daily target and links to its lists.
    let (campaign, wave) = plan_campaign(store).await?;
    let village = seeded.villages.first().context("no village")?.clone();
    let (commune, district) = commune_and_district(store, &village).await?;
    let admin = sign_in(client, base, "admin").await?;
    let planner = sign_in(client, base, "planner").await?;
    let statistics = sign_in(client, base, "statistics").await?;
    let vaccinator = sign_in(client, base, "vaccinator").await?;
    let registrar = sign_in(client, base, "registrar").await?;
    let site = seeded.sites[0].clone();
    let (nguyen_id_number, visit) = open_table_visit(store, &site).await?;
    let (waiting, resident, hold, (resident_id, dose)) =
        resident_visitors(store, client, base, &site).await?;
    let someone = store.person(&resident_id).await?;
    let resident_surname = someone
        .full_name
        .split_whitespace()
        .next()
        .unwrap_or("Nguyen")
        .to_string();
    let supply = seed_supply(store, seeded).await?;
    let coldchain = sign_in(client, base, "coldchain").await?;
    let outbreak = seed_outbreak(store).await?;
    let responder = sign_in(client, base, "responder").await?;
    let trainer = sign_in(client, base, "trainer").await?;
    let class = open_class(store).await?;
    Ok(Fixtures {
        campaign,
        wave,
        village,
        commune,
        district,
        site,
        nguyen_id_number,
        visit,
        waiting: waiting.header(),
        resident: resident.header(),
        hold,
        resident_id,
        resident_id_number: someone.id_number,
        resident_surname,
        dose,
        supply,
        outbreak,
        class,
        admin,
        planner,
        statistics,
        vaccinator,
        registrar,
        coldchain,
        responder,
        trainer,
    })
}

/// The commune and the district above a village.
async fn commune_and_district(store: &Store, village: &str) -> Result<(String, String)> {
    let commune = store
        .area(village)
        .await?
        .parent_code
        .context("a village has a commune")?;
    let district = store
        .area(&commune)
        .await?
        .parent_code
        .context("a commune has a district")?;
    Ok((commune, district))
}

/// A visit open at the site for a resident found by name, as the table's
/// search finds them: its page and the adverse-event form. (their ID
/// number, the visit id).
async fn open_table_visit(store: &Store, site: &str) -> Result<(String, String)> {
    let query = vaxgrid_store::persons::PersonQuery {
        id_number: None,
        phone: None,
        name: Some("nguyen".into()),
        area: None,
        scope: vaxgrid_store::scope::Scope::All,
        ..Default::default()
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
    Ok((person.id_number, visit))
}

async fn seed_supply(
    store: &Store,
    seeded: &crate::demo::Seeded,
) -> Result<super::supply_seed::SupplySeed> {
    let started = Instant::now();
    let supply = super::supply_seed::seed(store, seeded, "193").await?;
    println!(
        "supply: {} stores with their stock, a fridge with a week of readings, seeded in {:.1} s",
        supply.stores,
        started.elapsed().as_secs_f64()
    );
    Ok(supply)
}

async fn seed_outbreak(store: &Store) -> Result<super::outbreak_seed::OutbreakSeed> {
    let started = Instant::now();
    let outbreak = super::outbreak_seed::seed(store, 5_000, 2_000).await?;
    println!(
        "outbreak: {} persons, {} links, {} in home isolation, a laboratory with 60 pools waiting, seeded in {:.1} s",
        outbreak.persons,
        outbreak.links,
        outbreak.home,
        started.elapsed().as_secs_f64()
    );
    Ok(outbreak)
}

/// A vaccination class of today, given by the demo trainer; its id.
async fn open_class(store: &Store) -> Result<String> {
    let class = uuid::Uuid::now_v7().to_string();
    store
        .create_class(
            &vaxgrid_store::training::NewClass {
                id: class.clone(),
                topic: vaxgrid_core::training::VACCINATION_TOPIC.to_string(),
                starts_on: vaxgrid_store::today(),
                ends_on: vaxgrid_store::today(),
                trainer: "trainer".into(),
            },
            &vaxgrid_store::model::Actor::system("bench"),
        )
        .await?;
    Ok(class)
}

/// A page asked for: (name, path, cookie).
type Page<'a> = (&'static str, String, Option<&'a str>);

/// Every page of the web app, as its users ask for it.
fn pages(f: &Fixtures) -> Vec<Page<'_>> {
    let mut pages = planner_pages(f);
    pages.extend(registry_and_table_pages(f));
    pages.extend(portal_and_admin_pages(f));
    pages.extend(supply_and_outbreak_pages(f));
    pages
}

/// The baseline, the coverage, the dashboards, the survey lists, the
/// campaigns and the sites.
fn planner_pages(f: &Fixtures) -> Vec<Page<'_>> {
    let (campaign, wave) = (&f.campaign, &f.wave);
    let survey = |area: &str| {
        format!("/api/v1/campaigns/{campaign}/waves/{wave}/survey?area={area}&format=html&status=not_yet")
    };
    let (village, commune, district, site) = (&f.village, &f.commune, &f.district, &f.site);
    let (admin, planner, statistics) = (
        Some(f.admin.as_str()),
        Some(f.planner.as_str()),
        Some(f.statistics.as_str()),
    );
    vec![
        ("healthz (baseline)", "/healthz".into(), None),
        ("home (coverage)", "/".into(), planner),
        ("planner, all areas", "/planner".into(), admin),
        (
            "dashboard province",
            format!("/planner/areas/22?campaign={campaign}"),
            statistics,
        ),
        (
            "dashboard district",
            format!("/planner/areas/{district}"),
            planner,
        ),
        (
            "dashboard commune",
            format!("/planner/areas/{commune}"),
            planner,
        ),
        (
            "dashboard village",
            format!("/planner/areas/{village}"),
            planner,
        ),
        ("survey list village", survey(village), planner),
        ("survey list commune", survey(commune), planner),
        ("survey district (communes)", survey(district), planner),
        ("survey province (communes)", survey("22"), admin),
        ("campaigns", "/planner/campaigns".into(), statistics),
        (
            "campaign (province)",
            format!("/planner/campaigns/{campaign}"),
            statistics,
        ),
        ("sites", "/planner/sites".into(), statistics),
        ("site", format!("/planner/sites/{site}"), statistics),
    ]
}

/// The registry's search, record and correction; the vaccination
/// table's queue, board, searches, forms and visit.
fn registry_and_table_pages(f: &Fixtures) -> Vec<Page<'_>> {
    let (site, visit, resident_id, dose) = (&f.site, &f.visit, &f.resident_id, &f.dose);
    let (vaccinator, registrar) = (Some(f.vaccinator.as_str()), Some(f.registrar.as_str()));
    vec![
        (
            "registry search name",
            format!("/registry?name={}", form_encode(&f.resident_surname)),
            vaccinator,
        ),
        (
            "registry search ID",
            format!("/registry?id_number={}", f.resident_id_number),
            vaccinator,
        ),
        (
            "registry record",
            format!("/registry/persons/{resident_id}"),
            vaccinator,
        ),
        (
            "registry correction",
            format!("/registry/persons/{resident_id}/doses/{dose}/correct"),
            vaccinator,
        ),
        ("table queue", format!("/sites/{site}/table"), vaccinator),
        ("site board", format!("/sites/{site}/board"), vaccinator),
        (
            "table find by name",
            format!("/sites/{site}/table/find?name=nguyen"),
            vaccinator,
        ),
        (
            "table find by ID",
            format!("/sites/{site}/table/find?id_number={}", f.nguyen_id_number),
            vaccinator,
        ),
        (
            "table walk-in form",
            format!("/sites/{site}/table/walk-in"),
            registrar,
        ),
        (
            "table visit",
            format!("/sites/{site}/table/visits/{visit}"),
            vaccinator,
        ),
        (
            "table adverse event",
            format!("/sites/{site}/table/visits/{visit}/adverse-event"),
            vaccinator,
        ),
    ]
}

/// The resident portal, the registry's duplicates, administration and
/// training.
fn portal_and_admin_pages(f: &Fixtures) -> Vec<Page<'_>> {
    let (site, class) = (&f.site, &f.class);
    let (waiting, resident) = (Some(f.waiting.as_str()), Some(f.resident.as_str()));
    let (admin, trainer) = (Some(f.admin.as_str()), Some(f.trainer.as_str()));
    vec![
        ("portal find", "/portal".into(), None),
        ("portal code", "/portal/code".into(), waiting),
        ("portal me", "/portal/me".into(), resident),
        (
            "portal confirm",
            format!("/portal/confirm?hold={}", f.hold),
            resident,
        ),
        ("portal certificate", "/portal/certificate".into(), resident),
        (
            "portal certificate png",
            "/portal/certificate.png".into(),
            resident,
        ),
        (
            "portal certificate print",
            "/portal/certificate/print".into(),
            resident,
        ),
        ("registry duplicates", "/registry/duplicates".into(), admin),
        ("admin users", "/admin/users".into(), admin),
        ("admin user", "/admin/users/vaccinator".into(), admin),
        ("admin tokens", "/admin/tokens".into(), admin),
        ("admin lockouts", "/admin/lockouts".into(), admin),
        ("admin audit log", "/admin/audit".into(), admin),
        ("training classes", "/training".into(), trainer),
        (
            "training class",
            format!("/training/classes/{class}"),
            trainer,
        ),
        ("training sites", "/training/sites".into(), trainer),
        ("training site", format!("/training/sites/{site}"), trainer),
    ]
}

/// The supply's areas, store, fridge and lot; the outbreak's cases,
/// checks, alerts, graph, laboratories and surge planner; sign-in and
/// verification.
fn supply_and_outbreak_pages(f: &Fixtures) -> Vec<Page<'_>> {
    let (supply, outbreak) = (&f.supply, &f.outbreak);
    let (admin, coldchain) = (Some(f.admin.as_str()), Some(f.coldchain.as_str()));
    let (responder, planner) = (Some(f.responder.as_str()), Some(f.planner.as_str()));
    vec![
        ("supply province", "/supply/areas/22".into(), admin),
        ("supply district", "/supply/areas/193".into(), coldchain),
        (
            "supply store",
            format!("/supply/stores/{}", supply.commune_store),
            coldchain,
        ),
        (
            "supply fridge chart",
            format!("/supply/equipment/{}", supply.equipment),
            coldchain,
        ),
        (
            "supply lot",
            format!("/supply/lots/{}/{}", supply.lot.0, supply.lot.1),
            admin,
        ),
        ("outbreak cases", "/outbreak".into(), responder),
        ("outbreak team's checks", "/outbreak/team".into(), responder),
        ("outbreak alerts", "/outbreak/alerts".into(), responder),
        (
            "outbreak case graph",
            format!("/outbreak/cases/{}", outbreak.case),
            responder,
        ),
        ("outbreak laboratories", "/outbreak/labs".into(), responder),
        (
            "outbreak lab queue",
            format!("/outbreak/labs/{}", outbreak.lab),
            responder,
        ),
        ("surge planner 1,000", "/outbreak/surge".into(), planner),
        (
            "surge planner 10,000",
            "/outbreak/surge?scenario=10000".into(),
            planner,
        ),
        ("login", "/login".into(), None),
        ("verify", "/verify".into(), None),
    ]
}

/// The time of each of `requests` answers to `path` (each a 200), after
/// three to warm up; sorted.
async fn time_page(
    server: &Server,
    path: &str,
    cookie: Option<&str>,
    requests: usize,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests + 3 {
        let mut request = server.client.get(format!("{}{path}", server.base));
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
    Ok(times)
}
