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
use vaxgrid_core::outbreak::isolation::{self, Policy};

pub fn run(persons: usize, home: usize) -> Result<()> {
    let mut rng = fastrand::Rng::with_seed(3);
    let today = date!(2026 - 12 - 01);
    let exposure = date!(2026 - 11 - 25);
    let ids: Vec<Uuid> = (1..=persons as u128).map(Uuid::from_u128).collect();
    let started = Instant::now();
    let mut g = ContactGraph::new();
    for &id in &ids {
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
    // Households of 2 to 6, everyone linked to everyone at home.
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
    // One or two contacts outside the household each.
    let settings = [Setting::Work, Setting::School, Setting::Transport];
    for a in 0..persons {
        for _ in 0..rng.usize(1..=2) {
            link(&mut g, a, rng.usize(0..persons), settings[rng.usize(0..3)]);
        }
    }
    // 0.2 % already confirmed.
    for _ in 0..persons / 500 {
        let _ = g.confirm(ids[rng.usize(0..persons)], today);
    }
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
    // Confirm an F1: the incremental update, then the full recount.
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
    // The team's list: `home` contacts in home isolation, started over the
    // last 14 days, checks recorded for most past days.
    let policy = Policy::default();
    let mut plans = Vec::with_capacity(home);
    for i in 0..home {
        let start = today - Duration::days(rng.i64(0..14));
        let plan = isolation::plan(&policy, Some(Class::F2), false, true, start)?;
        let checked: Vec<_> = (0..14)
            .map(|d| start + Duration::days(d))
            .filter(|d| *d < today && rng.u8(0..20) != 0)
            .collect();
        plans.push((ids[i % persons], plan, checked));
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
    use vaxgrid_store::model::Actor;
    use vaxgrid_store::outbreak::{NewCase, Severity, TestKind};
    use vaxgrid_store::outbreak_team::TeamView;
    use vaxgrid_store::scope::Scope;
    use vaxgrid_store::scratch::Scratch;
    use vaxgrid_store::Store;

    let scratch = match backend {
        "sqlite" => Scratch::sqlite(),
        "postgres" => Scratch::of("postgres").await?,
        other => anyhow::bail!("unknown backend '{other}': sqlite or postgres"),
    };
    let store = Store::open(&scratch.url).await?;
    let seeded = crate::demo::seed_reference(&store).await?;
    let mut residents = crate::demo::Residents::new(2021);
    let started = Instant::now();
    let people = super::scale::adults(&mut residents, &seeded, persons);
    let ids: Vec<Uuid> = super::scale::import(&store, people, "bench-outbreak")
        .await?
        .iter()
        .map(|id| Uuid::parse_str(id))
        .collect::<Result<_, _>>()?;
    let registered = started.elapsed();
    let today = vaxgrid_store::today();
    let exposure = today - Duration::days(6);
    let mut rng = fastrand::Rng::with_seed(3);
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
    let contacts: Vec<Contact> = links
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
    let actor = Actor::system("bench-outbreak");
    let t = Instant::now();
    store.load_outbreak(&contacts, &cases, &actor).await?;
    store.analyze().await?;
    let loaded = t.elapsed();
    // The same graph in memory: the reference for the stored classes.
    let mut g = ContactGraph::new();
    for &id in &ids {
        g.add_person(id, None);
    }
    for c in &contacts {
        g.add_contact(c.clone(), today)?;
    }
    for (p, d) in &cases {
        let _ = g.confirm(*p, *d);
    }
    let f1 = store
        .classed_persons(&Scope::All, Some(Class::F1), 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no F1 in the stored outbreak"))?;
    let t = Instant::now();
    let (_, re) = store
        .confirm_case(
            &NewCase {
                person_id: f1.person_id.clone(),
                onset_on: None,
                confirmed_on: today,
                test_kind: TestKind::Pcr,
                severity: Severity::Mild,
                treated_at: None,
            },
            &actor,
        )
        .await?;
    let confirm = t.elapsed();
    g.confirm(Uuid::parse_str(&f1.person_id)?, today)?;
    let same = |stored: std::collections::HashMap<String, Class>, g: &ContactGraph| {
        let expected: std::collections::HashMap<String, Class> =
            g.classes().map(|(id, c)| (id.to_string(), c)).collect();
        stored == expected
    };
    let agree = same(store.all_classes().await?, &g);
    let t = Instant::now();
    let (_, back) = store
        .reverse_case(&f1.person_id, "bench: reversed", &actor)
        .await?;
    let reverse = t.elapsed();
    g.reverse(Uuid::parse_str(&f1.person_id)?)?;
    let agree_back = same(store.all_classes().await?, &g);
    println!(
        "stored outbreak on {backend}: {persons} persons registered in {:.1} s; {} links, {} cases and their classes loaded in {:.1} s",
        registered.as_secs_f64(),
        contacts.len(),
        cases.len(),
        loaded.as_secs_f64()
    );
    println!(
        "  one confirmation: {} persons re-classified (region {}) in {:.1} ms; classes equal the graph's from scratch: {agree}",
        re.changes.len(),
        re.region,
        confirm.as_secs_f64() * 1e3
    );
    println!(
        "  its reversal: {} persons re-classified (region {}) in {:.1} ms; classes equal: {agree_back}",
        back.changes.len(),
        back.region,
        reverse.as_secs_f64() * 1e3
    );
    anyhow::ensure!(
        agree && agree_back,
        "stored classes differ from the graph's"
    );
    // Home isolations of F2 and F3 contacts, started over the last 14
    // days, checked on most past days.
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
    let t = Instant::now();
    let written = store
        .load_isolations(&rows, &Policy::default(), &actor)
        .await?;
    store.analyze().await?;
    let load_secs = t.elapsed().as_secs_f64();
    // The whole list, every page (what an export or the API paged through
    // reads), then what the team's page reads: the day's counts and the
    // first page of 100 (those still to check first), province-scoped.
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let mut times = Vec::new();
    let mut list = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        list = store.team_list(&Scope::All, today).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let whole = median(times);
    let province = Scope::Limited {
        paths: vec!["/22/".into()],
        sites: vec![],
        persons: vec![],
    };
    // What the team's page reads: the day's counts, the first 50 alerts
    // and the first 100 of the list (those still to check first).
    let first = |n| vaxgrid_store::paging::PageRequest::first(n);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        store.team_counts(&province, today, false).await?;
        store
            .team_page(&province, today, TeamView::Alerts, &first(50))
            .await?;
        store
            .team_page(&province, today, TeamView::List, &first(100))
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let team_page = median(times);
    // What the alert list's page reads: the counts with the alerts, and
    // the first 200 alerts.
    let mut times = Vec::new();
    let mut counts = None;
    for _ in 0..5 {
        let t = Instant::now();
        counts = Some(store.team_counts(&province, today, true).await?);
        store
            .team_page(&province, today, TeamView::Alerts, &first(200))
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let alerts_page = median(times);
    let counts = counts.expect("read five times");
    let missed = list.iter().filter(|e| !e.missed.is_empty()).count();
    let due = list.iter().filter(|e| e.sample_due).count();
    println!(
        "  team's daily list: {written} home isolations (loaded in {load_secs:.1} s), {} on today's list, {due} samples due, {missed} with a missed check",
        list.len(),
    );
    println!(
        "  the team's daily list at {} persons in home isolation (medians of 5, province-scoped): the team's page (counts, first 50 alerts, first 100 to check) {team_page:.1} ms; the alert list's page (counts with {} alerts, first 200) {alerts_page:.1} ms; the whole list in one read {whole:.0} ms",
        counts.people,
        counts.alerts.unwrap_or_default()
    );
    store.close().await;
    scratch.cleanup().await;
    Ok(())
}
