//! `vaxgrid bench outbreak`: the contact graph of a synthetic outbreak
//! (households of about four, plus contacts at work, school and in
//! transport) re-classified after one confirmation, incrementally and from
//! scratch (the baseline), and the rapid-response team's daily list for
//! the people in home isolation: in memory on the core's rules, then on
//! the stored tables of each backend (`--stored`).

use std::time::Instant;

use anyhow::Result;
use time::macros::date;
use time::Duration;
use uuid::Uuid;
use vaxgrid_core::outbreak::graph::{Class, Contact, ContactGraph, Setting};
use vaxgrid_core::outbreak::isolation::{self, Check, Policy};
use vaxgrid_store::model::Actor;
use vaxgrid_store::outbreak::{NewCase, NewCheck, Severity, TestKind};
use vaxgrid_store::outbreak_team::{TeamCounts, TeamView};
use vaxgrid_store::scope::Scope;
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

pub fn run(persons: usize, home: usize) -> Result<()> {
    let mut rng = fastrand::Rng::with_seed(3);
    let today = date!(2026 - 12 - 01);
    let ids: Vec<Uuid> = (1..=persons as u128).map(Uuid::from_u128).collect();
    let started = Instant::now();
    let mut g = synthetic_graph(&ids, today, &mut rng);
    let built = started.elapsed();
    let count = |g: &ContactGraph, c: Class| g.classes().filter(|(_, k)| *k == c).count();
    println!(
        "outbreak graph: {} persons, {} links, F0 {}, F1 {}, F2 {}, F3 {} (built in {:.2} s)",
        g.len(),
        g.contacts().len(),
        count(&g, Class::F0),
        count(&g, Class::F1),
        count(&g, Class::F2),
        count(&g, Class::F3),
        built.as_secs_f64()
    );
    confirm_one(&mut g, today)?;
    team_list(&ids, home, today, &mut rng)
}

/// The in-memory graph of `ids`: households of 2 to 6 (everyone linked to
/// everyone at home), one or two contacts outside the household each, and
/// 0.2 % of the persons already confirmed.
fn synthetic_graph(ids: &[Uuid], today: time::Date, rng: &mut fastrand::Rng) -> ContactGraph {
    let persons = ids.len();
    let exposure = date!(2026 - 11 - 25);
    let mut g = ContactGraph::new();
    for &id in ids {
        g.add_person(id, None);
    }
    let link = |g: &mut ContactGraph, a: usize, b: usize, setting| {
        if a != b {
            g.add_contact(
                Contact {
                    source: ids[a],
                    contact: ids[b],
                    exposure,
                    setting,
                },
                today,
            )
            .expect("synthetic links are valid");
        }
    };
    let mut start = 0;
    while start < persons {
        let size = rng.usize(2..=6).min(persons - start);
        for a in start..start + size {
            for b in a + 1..start + size {
                link(&mut g, a, b, Setting::Household);
            }
        }
        start += size;
    }
    let settings = [Setting::Work, Setting::School, Setting::Transport];
    for a in 0..persons {
        for _ in 0..rng.usize(1..=2) {
            link(&mut g, a, rng.usize(0..persons), settings[rng.usize(0..3)]);
        }
    }
    for _ in 0..persons / 500 {
        let _ = g.confirm(ids[rng.usize(0..persons)], today);
    }
    g
}

/// Confirms an F1: the incremental update timed against the full recount
/// (the baseline), then its reversal.
fn confirm_one(g: &mut ContactGraph, today: time::Date) -> Result<()> {
    let f1 = g
        .classes()
        .find(|(_, c)| *c == Class::F1)
        .map(|(id, _)| id)
        .expect("an F1");
    let t = Instant::now();
    let changes = g.confirm(f1, today)?;
    let incremental = t.elapsed();
    let t = Instant::now();
    let scratch = g.classify_all();
    let full = t.elapsed();
    let agree = scratch.iter().all(|(id, c)| g.class(*id) == *c);
    println!(
        "one confirmation: {} persons re-classified in {:.3} ms (from scratch: {:.1} ms; same classes: {agree})",
        changes.len(),
        incremental.as_secs_f64() * 1e3,
        full.as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let back = g.reverse(f1)?;
    println!(
        "its reversal: {} persons re-classified in {:.3} ms",
        back.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// The team's list: `home` contacts in home isolation, started over the
/// last 14 days, checks recorded for most past days; timed is the reading
/// of who is due a check, a sample, or has missed a check.
fn team_list(ids: &[Uuid], home: usize, today: time::Date, rng: &mut fastrand::Rng) -> Result<()> {
    let policy = Policy::default();
    let mut plans = Vec::with_capacity(home);
    for i in 0..home {
        let start = today - Duration::days(rng.i64(0..14));
        let plan = isolation::plan(&policy, Some(Class::F2), false, true, start)?;
        let checked: Vec<_> = (0..14)
            .map(|d| start + Duration::days(d))
            .filter(|d| *d < today && rng.u8(0..20) != 0)
            .collect();
        plans.push((ids[i % ids.len()], plan, checked));
    }
    let t = Instant::now();
    let mut due = 0;
    let mut tests = 0;
    let mut missed = 0;
    for (_, plan, checked) in &plans {
        if plan.at_home_on(today) {
            due += 1;
        }
        if plan.tests_due.contains(&today) {
            tests += 1;
        }
        if !isolation::missed_checks(plan, checked, today).is_empty() {
            missed += 1;
        }
    }
    println!(
        "team's daily list: {home} in home isolation, {due} to check today, {tests} samples due, {missed} with a missed check, in {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// The same outbreak on the stored tables of `backend` (sqlite or
/// postgres): persons through the bulk import, links, cases and classes
/// loaded at once, then one confirmation and its reversal through the
/// store (the API's path: a write transaction that reads the region
/// within three links and writes back the changed classes), checked
/// against the core's classes from scratch; and the team's daily list
/// read from `home` stored home isolations with their past checks.
pub async fn stored(backend: &str, persons: usize, home: usize) -> Result<()> {
    let scratch = match backend {
        "sqlite" => Scratch::sqlite(),
        "postgres" => Scratch::of("postgres").await?,
        other => anyhow::bail!("unknown backend '{other}': sqlite or postgres"),
    };
    let store = Store::open(&scratch.url).await?;
    let today = vaxgrid_store::today();
    let mut rng = fastrand::Rng::with_seed(3);
    let actor = Actor::system("bench-outbreak");
    let mut loaded = load_stored(&store, persons, today, &mut rng, &actor).await?;
    let round = confirm_and_reverse(&store, &mut loaded.graph, today, &actor).await?;
    println!(
        "stored outbreak on {backend}: {persons} persons registered in {:.1} s; {} links, {} cases and their classes loaded in {:.1} s",
        loaded.registered.as_secs_f64(),
        loaded.links,
        loaded.cases,
        loaded.loaded.as_secs_f64()
    );
    round.print();
    anyhow::ensure!(
        round.agree && round.agree_back,
        "stored classes differ from the graph's"
    );
    let rows = home_isolations(&loaded.graph, &mut rng, home, today);
    let t = Instant::now();
    let written = store
        .load_isolations(&rows, &Policy::default(), &actor)
        .await?;
    store.analyze().await?;
    let load_secs = t.elapsed().as_secs_f64();
    let (checked_today, check_ms) = checks_today(&store, &rows, today, &actor).await?;
    let reads = TeamReads::time(&store, today).await?;
    let missed = reads.list.iter().filter(|e| !e.missed.is_empty()).count();
    let due = reads.list.iter().filter(|e| e.sample_due).count();
    println!(
        "  team's daily list: {written} home isolations (loaded in {load_secs:.1} s), {} on today's list, {due} samples due, {missed} with a missed check; {checked_today} checked today through the store, {check_ms:.1} ms a check",
        reads.list.len(),
    );
    reads.print();
    store.close().await;
    scratch.cleanup().await;
    Ok(())
}

/// The stored outbreak's in-memory twin, and what loading took.
struct Loaded {
    graph: ContactGraph,
    links: usize,
    cases: usize,
    registered: std::time::Duration,
    loaded: std::time::Duration,
}

/// Registers `persons` adults, links them (households and contacts
/// outside) and confirms 0.2 % of them, loaded at once; the same graph
/// built in memory is the reference for the stored classes.
async fn load_stored(
    store: &Store,
    persons: usize,
    today: time::Date,
    rng: &mut fastrand::Rng,
    actor: &Actor,
) -> Result<Loaded> {
    let seeded = crate::demo::seed_reference(store).await?;
    let mut residents = crate::demo::Residents::new(2021);
    let started = Instant::now();
    let people = super::scale::adults(&mut residents, &seeded, persons);
    let ids: Vec<Uuid> = super::scale::import(store, people, "bench-outbreak")
        .await?
        .iter()
        .map(|id| Uuid::parse_str(id))
        .collect::<Result<_, _>>()?;
    let registered = started.elapsed();
    let exposure = today - Duration::days(6);
    let contacts: Vec<Contact> = stored_links(rng, persons)
        .iter()
        .map(|&(a, b, setting)| Contact {
            source: ids[a],
            contact: ids[b],
            exposure,
            setting,
        })
        .collect();
    let cases: Vec<(Uuid, time::Date)> = (0..persons / 500)
        .map(|_| (ids[rng.usize(0..persons)], today - Duration::days(2)))
        .collect();
    let t = Instant::now();
    store.load_outbreak(&contacts, &cases, actor).await?;
    store.analyze().await?;
    let loaded = t.elapsed();
    let mut graph = ContactGraph::new();
    for &id in &ids {
        graph.add_person(id, None);
    }
    for c in &contacts {
        graph.add_contact(c.clone(), today)?;
    }
    for (p, d) in &cases {
        let _ = graph.confirm(*p, *d);
    }
    Ok(Loaded {
        graph,
        links: contacts.len(),
        cases: cases.len(),
        registered,
        loaded,
    })
}

/// The links of a stored outbreak (persons by index): households of 2
/// to 6, everyone linked to everyone at home, and one or two contacts
/// outside the household each.
pub(super) fn stored_links(
    rng: &mut fastrand::Rng,
    persons: usize,
) -> Vec<(usize, usize, Setting)> {
    let mut links = Vec::new();
    let mut start = 0;
    while start < persons {
        let size = rng.usize(2..=6).min(persons - start);
        for a in start..start + size {
            for b in a + 1..start + size {
                links.push((a, b, Setting::Household));
            }
        }
        start += size;
    }
    let settings = [Setting::Work, Setting::School, Setting::Transport];
    for a in 0..persons {
        for _ in 0..rng.usize(1..=2) {
            let b = rng.usize(0..persons);
            if a != b {
                links.push((a, b, settings[rng.usize(0..3)]));
            }
        }
    }
    links
}

/// One confirmation through the store and its reversal: what each
/// re-classified, how long it took, and whether the stored classes then
/// equal the graph's.
struct RoundTrip {
    confirmed: vaxgrid_store::outbreak::Reclassified,
    confirm: std::time::Duration,
    agree: bool,
    reversed: vaxgrid_store::outbreak::Reclassified,
    reverse: std::time::Duration,
    agree_back: bool,
}

/// Confirms a stored F1 and reverses the confirmation, through the store
/// and on `g` alike.
async fn confirm_and_reverse(
    store: &Store,
    g: &mut ContactGraph,
    today: time::Date,
    actor: &Actor,
) -> Result<RoundTrip> {
    let f1 = store
        .classed_persons(&Scope::All, Some(Class::F1), 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no F1 in the stored outbreak"))?;
    let t = Instant::now();
    let (_, confirmed) = store
        .confirm_case(
            &NewCase {
                person_id: f1.person_id.clone(),
                onset_on: None,
                confirmed_on: today,
                test_kind: TestKind::Pcr,
                severity: Severity::Mild,
                treated_at: None,
            },
            actor,
        )
        .await?;
    let confirm = t.elapsed();
    g.confirm(Uuid::parse_str(&f1.person_id)?, today)?;
    let same = |stored: std::collections::HashMap<String, Class>, g: &ContactGraph| {
        let expected: std::collections::HashMap<String, Class> =
            g.classes().map(|(id, c)| (id.to_string(), c)).collect();
        stored == expected
    };
    let agree = same(store.all_classes().await?, g);
    let t = Instant::now();
    let (_, reversed) = store
        .reverse_case(&f1.person_id, "bench: reversed", actor)
        .await?;
    let reverse = t.elapsed();
    g.reverse(Uuid::parse_str(&f1.person_id)?)?;
    let agree_back = same(store.all_classes().await?, g);
    Ok(RoundTrip {
        confirmed,
        confirm,
        agree,
        reversed,
        reverse,
        agree_back,
    })
}

impl RoundTrip {
    fn print(&self) {
        println!(
            "  one confirmation: {} persons re-classified (region {}) in {:.1} ms; classes equal the graph's from scratch: {}",
            self.confirmed.changes.len(),
            self.confirmed.region,
            self.confirm.as_secs_f64() * 1e3,
            self.agree
        );
        println!(
            "  its reversal: {} persons re-classified (region {}) in {:.1} ms; classes equal: {}",
            self.reversed.changes.len(),
            self.reversed.region,
            self.reverse.as_secs_f64() * 1e3,
            self.agree_back
        );
    }
}

/// Home isolations of up to `home` F2 and F3 contacts, started over the
/// last 14 days, checked on most past days: (person, start, days checked).
fn home_isolations(
    g: &ContactGraph,
    rng: &mut fastrand::Rng,
    home: usize,
    today: time::Date,
) -> Vec<(String, time::Date, Vec<time::Date>)> {
    let mut rows = Vec::new();
    for (id, class) in g.classes() {
        if rows.len() == home {
            break;
        }
        if matches!(class, Class::F2 | Class::F3) {
            let start = today - Duration::days(rng.i64(0..7));
            let checked: Vec<time::Date> = (0..7)
                .map(|d| start + Duration::days(d))
                .filter(|d| *d < today && rng.u8(0..20) != 0)
                .collect();
            rows.push((id.to_string(), start, checked));
        }
    }
    rows
}

/// Today's checks of one in ten through the store (the API's path: the
/// check, its alerts and its isolation's latest-check state in one
/// transaction); one in five of them with a fever. (checks recorded, ms
/// a check).
async fn checks_today(
    store: &Store,
    rows: &[(String, time::Date, Vec<time::Date>)],
    today: time::Date,
    actor: &Actor,
) -> Result<(u32, f64)> {
    let t = Instant::now();
    let mut checked_today = 0u32;
    for (i, (person, _, _)) in rows.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        let check = NewCheck {
            person_id: person.clone(),
            day: today,
            check: Check {
                present: true,
                temperature_c: Some(if i % 50 == 0 { 38.4 } else { 36.8 }),
                symptoms: vec![],
                spo2: Some(98),
            },
        };
        match store.record_check(&check, actor).await {
            Ok(_) => checked_today += 1,
            // A person whose isolation the load skipped.
            Err(vaxgrid_store::StoreError::Invalid { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let check_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(checked_today.max(1));
    Ok((checked_today, check_ms))
}

/// Times each read of the team's pages: RUNS times, for the median and
/// the 95th percentile.
const RUNS: usize = 21;

/// The team's reads timed: the whole list in one read (what an export
/// reads), then what the team's and the alert list's pages read,
/// province-scoped (all of the home isolations in view: the worst case
/// of a district or a team), then the alert list of one district and of
/// one commune's team.
struct TeamReads {
    list: Vec<vaxgrid_store::outbreak::TeamEntry>,
    whole: Times,
    team_page: Times,
    province: (Times, TeamCounts),
    district: (Times, TeamCounts),
    commune: (Times, TeamCounts),
}

fn within(path: &str) -> Scope {
    Scope::Limited {
        paths: vec![path.to_string()],
        sites: vec![],
        persons: vec![],
    }
}

impl TeamReads {
    async fn time(store: &Store, today: time::Date) -> Result<TeamReads> {
        let mut list = Vec::new();
        let mut whole = Times::default();
        for _ in 0..5 {
            let t = Instant::now();
            list = store.team_list(&Scope::All, today).await?;
            whole.push(t);
        }
        let province = within("/22/");
        // A district and a commune of the first person on the list
        // (paths are /22/district/commune/village/).
        let parts: Vec<&str> = list
            .first()
            .map(|e| e.area_path.split('/').filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        anyhow::ensure!(parts.len() >= 3, "no one at home on the stored list");
        let district = within(&format!("/{}/{}/", parts[0], parts[1]));
        let commune = within(&format!("/{}/{}/{}/", parts[0], parts[1], parts[2]));
        let team_page = team_page_times(store, &province, today).await?;
        let province = alert_list_times(store, &province, today).await?;
        let district = alert_list_times(store, &district, today).await?;
        let commune = alert_list_times(store, &commune, today).await?;
        Ok(TeamReads {
            list,
            whole,
            team_page,
            province,
            district,
            commune,
        })
    }

    fn print(&self) {
        let (alerts_province, counts) = &self.province;
        let (alerts_district, in_district) = &self.district;
        let (alerts_commune, in_commune) = &self.commune;
        println!(
            "  the team's daily list at {} persons in home isolation ({} with an alert), province-scoped, median / p95 of {RUNS}: \
             the team's page (counts, first 50 alerts, first 100 to check) {}; the alert list's page (counts with alerts, first 200 alerts) {}; \
             the whole list in one read {:.0} ms (median of 5)",
            counts.people,
            counts.alerts.unwrap_or_default(),
            self.team_page.show(),
            alerts_province.show(),
            self.whole.median(),
        );
        println!(
            "  the alert list's page of one district ({} at home, {} alerts) {}; of one commune's team ({} at home, {} alerts) {}",
            in_district.people,
            in_district.alerts.unwrap_or_default(),
            alerts_district.show(),
            in_commune.people,
            in_commune.alerts.unwrap_or_default(),
            alerts_commune.show(),
        );
    }
}

/// The team's page: the day's counts, the first 50 alerts and the first
/// 100 of the list (those still to check first).
async fn team_page_times(store: &Store, scope: &Scope, today: time::Date) -> Result<Times> {
    let first = vaxgrid_store::paging::PageRequest::first;
    let mut times = Times::default();
    for _ in 0..RUNS {
        let t = Instant::now();
        store.team_counts(scope, today, false).await?;
        store
            .team_page(scope, today, TeamView::Alerts, &first(50))
            .await?;
        store
            .team_page(scope, today, TeamView::List, &first(100))
            .await?;
        times.push(t);
    }
    Ok(times)
}

/// The alert list's page (the API's and the page's read): the counts
/// with the alerts, and the first 200 alerts; with the last counts.
async fn alert_list_times(
    store: &Store,
    scope: &Scope,
    today: time::Date,
) -> Result<(Times, TeamCounts)> {
    let mut times = Times::default();
    let mut counts = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        counts = Some(store.team_counts(scope, today, true).await?);
        store
            .team_page(
                scope,
                today,
                TeamView::Alerts,
                &vaxgrid_store::paging::PageRequest::first(200),
            )
            .await?;
        times.push(t);
    }
    Ok((times, counts.expect("read RUNS times")))
}

/// Durations of repeated reads, in milliseconds.
#[derive(Default)]
struct Times(Vec<f64>);

impl Times {
    fn push(&mut self, since: Instant) {
        self.0.push(since.elapsed().as_secs_f64() * 1e3);
    }

    /// The value below which `q` (0–1) of the reads fall (nearest rank).
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    fn show(&self) -> String {
        format!("{:.1} / {:.1} ms", self.quantile(0.5), self.quantile(0.95))
    }
}
