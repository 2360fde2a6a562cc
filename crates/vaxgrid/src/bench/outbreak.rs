//! `vaxgrid bench outbreak`: the contact graph of a synthetic outbreak
//! (households of about four, plus contacts at work, school and in
//! transport) re-classified after one confirmation, incrementally and from
//! scratch (the baseline), and the rapid-response team's daily list for
//! the people in home isolation. In memory, on the core's rules: the
//! stored tables are not built yet.

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
