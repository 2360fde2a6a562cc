//! The outbreak's stored graph, isolation and laboratories on both
//! backends: classes always equal the distance in the graph from the
//! nearest confirmed case (checked against the core's from-scratch count
//! after every step of seeded random sequences of links, confirmations and
//! reversals); a pooled test flow never loses a sample; bad input is
//! refused naming its field, with nothing written.

use crate::common;

use std::collections::HashMap;

use common::{fixture, on_both_backends, person};
use time::macros::date;
use uuid::Uuid;
use vaxgrid_core::outbreak::beds::BedFigures;
use vaxgrid_core::outbreak::graph::{Class, Contact, ContactGraph, Setting};
use vaxgrid_core::outbreak::isolation::{Check, Policy};
use vaxgrid_core::outbreak::pooling::Outcome;
use vaxgrid_core::outbreak::surge::Tier;
use vaxgrid_store::model::Actor;
use vaxgrid_store::outbreak::{
    ContactPerson, Laboratory, NewCase, NewCheck, NewContact, NewIsolation, Severity, TestKind,
};
use vaxgrid_store::outbreak_facilities::{DischargeReason, NewAdmission, NewFacility};
use vaxgrid_store::scope::Scope;
use vaxgrid_store::{Store, StoreError};

on_both_backends!(
    classes_equal_graph_distance_after_random_changes,
    a_pooled_test_flow_never_loses_a_sample,
    bad_input_is_refused_by_field_and_nothing_is_written,
    isolation_checks_and_the_teams_list,
    the_teams_list_read_by_pages_follows_the_rules,
    facility_occupancy_by_day_equals_the_stays,
    facility_refusals_write_nothing,
);

fn system() -> Actor {
    Actor::system("test")
}

/// A small xorshift generator: the same sequence on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn people(store: &Store, n: u32, first_serial: u32) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let home = if i % 2 == 0 { "0665801" } else { "0670001" };
        let created = store
            .create_person(
                person(first_serial + i, &format!("Người {i}"), home, &[]),
                &system(),
            )
            .await
            .expect("person");
        ids.push(created.person.id);
    }
    ids
}

fn case(person_id: &str, on: time::Date) -> NewCase {
    NewCase {
        person_id: person_id.into(),
        onset_on: None,
        confirmed_on: on,
        test_kind: TestKind::Pcr,
        severity: Severity::Mild,
        treated_at: None,
    }
}

fn link(source: &str, contact: &str, on: time::Date) -> NewContact {
    NewContact {
        id: Uuid::now_v7().to_string(),
        source_person_id: source.into(),
        contact: ContactPerson::Existing(contact.into()),
        exposure_on: on,
        setting: Setting::Household,
    }
}

async fn classes_equal_graph_distance_after_random_changes(backend: &str) {
    let f = fixture(backend).await;
    let today = vaxgrid_store::today();
    let exposure = date!(2021 - 08 - 01);
    for (round, seed) in [0x0f0_2021u64, 0x5eed_0819, 0xc0ff_ee21]
        .into_iter()
        .enumerate()
    {
        // Each round on persons of its own: the store keeps the earlier
        // rounds' graphs, which must not disturb this one.
        let ids = people(&f.store, 20, 100 + 100 * round as u32).await;
        let mut rng = Rng(seed);
        let mut g = ContactGraph::new();
        for id in &ids {
            g.add_person(Uuid::parse_str(id).unwrap(), Some(date!(1980 - 05 - 17)));
        }
        let (mut accepted, mut refused) = (0, 0);
        for step in 0..80 {
            let a = &ids[rng.next(ids.len() as u64) as usize];
            let b = &ids[rng.next(ids.len() as u64) as usize];
            let (ua, ub) = (Uuid::parse_str(a).unwrap(), Uuid::parse_str(b).unwrap());
            let (stored_ok, core_ok) = match rng.next(10) {
                0..=4 => {
                    let s = f
                        .store
                        .add_contacts(&[link(a, b, exposure)], &system())
                        .await
                        .expect("store");
                    let c = g.add_contact(
                        Contact {
                            source: ua,
                            contact: ub,
                            exposure,
                            setting: Setting::Household,
                        },
                        today,
                    );
                    (s.is_ok(), c.is_ok())
                }
                5..=7 => {
                    let s = f
                        .store
                        .confirm_case(&case(a, date!(2021 - 08 - 05)), &system())
                        .await;
                    if let Err(e) = &s {
                        assert!(
                            matches!(
                                e,
                                StoreError::Conflict {
                                    field: "person_id",
                                    ..
                                }
                            ),
                            "{e}"
                        );
                    }
                    let c = g.confirm(ua, date!(2021 - 08 - 05));
                    (s.is_ok(), c.is_ok())
                }
                _ => {
                    let s = f.store.reverse_case(a, "false positive", &system()).await;
                    let c = g.reverse(ua);
                    (s.is_ok(), c.is_ok())
                }
            };
            assert_eq!(
                stored_ok, core_ok,
                "step {step}: store and core disagree on refusing"
            );
            if stored_ok {
                accepted += 1;
            } else {
                refused += 1;
            }
            let mine: std::collections::HashSet<&String> = ids.iter().collect();
            let stored: HashMap<String, Class> = f
                .store
                .all_classes()
                .await
                .unwrap()
                .into_iter()
                .filter(|(id, _)| mine.contains(id))
                .collect();
            let expected: HashMap<String, Class> = g
                .classify_all()
                .into_iter()
                .filter_map(|(id, c)| c.map(|c| (id.to_string(), c)))
                .collect();
            assert_eq!(stored, expected, "step {step} (seed {seed:x})");
        }
        assert!(
            accepted > 30 && refused > 0,
            "{accepted} accepted, {refused} refused"
        );
    }
    f.cleanup().await;
}

async fn a_pooled_test_flow_never_loses_a_sample(backend: &str) {
    let f = fixture(backend).await;
    let ids = people(&f.store, 8, 200).await;
    let lab = Laboratory {
        code: "CDC22".into(),
        name: "CDC Quảng Ninh".into(),
        area_code: "22".into(),
        single_per_day: 3,
        confirmatory_per_day: 2,
        max_pool: 10,
    };
    f.store.create_laboratory(&lab, &system()).await.unwrap();
    let today = vaxgrid_store::today();
    let mut rng = Rng(0x9001_2021);
    let mut all = Vec::new();
    for round in 0..4 {
        let batch: Vec<(String, String)> = (0..10)
            .map(|i| {
                (
                    Uuid::now_v7().to_string(),
                    ids[(round * 10 + i) % ids.len()].clone(),
                )
            })
            .collect();
        f.store
            .collect_samples("CDC22", &batch, today, &system())
            .await
            .unwrap();
        all.extend(batch.into_iter().map(|b| b.0));
    }
    let mut positives = 0;
    for step in 0..200 {
        let samples = f.store.samples_of("CDC22").await.unwrap();
        let waiting: Vec<String> = samples
            .iter()
            .filter(|s| s.state == "collected")
            .map(|s| s.id.clone())
            .collect();
        let pending: Vec<String> = f
            .store
            .lab_queue("CDC22", today, &vaxgrid_store::scope::Scope::All)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.test_id)
            .collect();
        if waiting.is_empty() && pending.is_empty() {
            break;
        }
        if !waiting.is_empty() && (pending.is_empty() || rng.next(2) == 0) {
            let n = 1 + rng.next(waiting.len().min(10) as u64) as usize;
            f.store
                .make_test("CDC22", &waiting[..n], today, &system())
                .await
                .unwrap();
        } else {
            let t = &pending[rng.next(pending.len() as u64) as usize];
            let outcome = if rng.next(4) == 0 {
                positives += 1;
                Outcome::Positive
            } else {
                Outcome::Negative
            };
            f.store
                .record_result(t, outcome, today, &system())
                .await
                .unwrap();
        }
        assert_eq!(
            f.store.check_samples("CDC22").await.unwrap(),
            None,
            "step {step}"
        );
    }
    let samples = f.store.samples_of("CDC22").await.unwrap();
    assert_eq!(samples.len(), all.len());
    assert!(
        samples.iter().all(|s| s.state == "resulted"),
        "every sample resulted"
    );
    assert!(positives > 0);
    // A positive single result confirmed its person.
    let classes = f.store.all_classes().await.unwrap();
    for s in samples
        .iter()
        .filter(|s| s.outcome.as_deref() == Some("positive"))
    {
        assert_eq!(
            classes.get(&s.person_id),
            Some(&Class::F0),
            "{}",
            s.person_id
        );
    }
    f.cleanup().await;
}

async fn bad_input_is_refused_by_field_and_nothing_is_written(backend: &str) {
    let f = fixture(backend).await;
    let ids = people(&f.store, 3, 300).await;
    let field_of = |r: Result<_, Vec<vaxgrid_store::persons::RowError>>| match r {
        Ok(_) => panic!("accepted"),
        Err(rows) => rows[0].field.clone(),
    };
    // A contact linked to itself.
    let r = f
        .store
        .add_contacts(&[link(&ids[0], &ids[0], date!(2021 - 08 - 01))], &system())
        .await
        .unwrap();
    assert_eq!(field_of(r.map(|_| ())), "contact_person_id");
    // An exposure before the contact's birth (1980-05-17).
    let r = f
        .store
        .add_contacts(&[link(&ids[0], &ids[1], date!(1979 - 01 - 01))], &system())
        .await
        .unwrap();
    assert_eq!(field_of(r.map(|_| ())), "exposure_date");
    // An exposure after the source's recovery.
    f.store
        .confirm_case(&case(&ids[0], date!(2021 - 08 - 01)), &system())
        .await
        .unwrap();
    f.store
        .update_case(
            &ids[0],
            vaxgrid_store::outbreak::CaseOutcome::Recovered,
            Some(date!(2021 - 08 - 15)),
            None,
            None,
            &system(),
        )
        .await
        .unwrap();
    let r = f
        .store
        .add_contacts(
            &[
                link(&ids[0], &ids[1], date!(2021 - 08 - 10)),
                link(&ids[0], &ids[2], date!(2021 - 08 - 20)),
            ],
            &system(),
        )
        .await
        .unwrap();
    match r {
        Err(rows) => {
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!((rows[0].row, rows[0].field.as_str()), (2, "exposure_date"));
        }
        Ok(_) => panic!("accepted"),
    }
    // Nothing written: the good first row was refused with the bad one.
    assert_eq!(f.store.all_classes().await.unwrap().len(), 1);
    // A check for someone not isolated.
    let e = f
        .store
        .record_check(
            &NewCheck {
                person_id: ids[1].clone(),
                day: vaxgrid_store::today(),
                check: Check {
                    present: true,
                    temperature_c: Some(36.8),
                    symptoms: vec![],
                    spo2: Some(98),
                },
            },
            &system(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid { ref field, .. } if field == "person_id"),
        "{e}"
    );
    // Negative capacity; pool size 0 or above the maximum.
    let mut lab = Laboratory {
        code: "L1".into(),
        name: "L1".into(),
        area_code: "193".into(),
        single_per_day: -1,
        confirmatory_per_day: 0,
        max_pool: 10,
    };
    let e = f
        .store
        .create_laboratory(&lab, &system())
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid { ref field, .. } if field == "single_per_day"),
        "{e}"
    );
    lab.single_per_day = 100;
    f.store.create_laboratory(&lab, &system()).await.unwrap();
    let today = vaxgrid_store::today();
    let samples: Vec<(String, String)> = (0..11)
        .map(|i| (Uuid::now_v7().to_string(), ids[i % 3].clone()))
        .collect();
    f.store
        .collect_samples("L1", &samples, today, &system())
        .await
        .unwrap();
    let sample_ids: Vec<String> = samples.iter().map(|s| s.0.clone()).collect();
    for n in [0, 11] {
        let e = f
            .store
            .make_test("L1", &sample_ids[..n], today, &system())
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid { ref field, .. } if field == "pool_size"),
            "{e}"
        );
    }
    assert_eq!(f.store.check_samples("L1").await.unwrap(), None);
    assert!(f
        .store
        .samples_of("L1")
        .await
        .unwrap()
        .iter()
        .all(|s| s.state == "collected"));
    f.cleanup().await;
}

async fn isolation_checks_and_the_teams_list(backend: &str) {
    let f = fixture(backend).await;
    let ids = people(&f.store, 3, 400).await;
    let today = vaxgrid_store::today();
    f.store
        .confirm_case(&case(&ids[0], today - time::Duration::days(3)), &system())
        .await
        .unwrap();
    let added = f
        .store
        .add_contacts(
            &[
                link(&ids[0], &ids[1], today - time::Duration::days(4)),
                link(&ids[1], &ids[2], today - time::Duration::days(4)),
            ],
            &system(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.1.changes.len(), 2);
    // The F2 isolates at home from two days ago.
    let iso = f
        .store
        .start_isolation(
            &NewIsolation {
                id: Uuid::now_v7().to_string(),
                person_id: ids[2].clone(),
                start_on: today - time::Duration::days(2),
                home_possible: true,
                facility_name: None,
            },
            &Policy::default(),
            &system(),
        )
        .await
        .unwrap();
    assert_eq!(iso.class, "F2");
    assert!(iso.home_from.is_some() && iso.facility_from.is_none());
    // Checked yesterday with a fever; not two days ago (missed).
    let c = f
        .store
        .record_check(
            &NewCheck {
                person_id: ids[2].clone(),
                day: today - time::Duration::days(1),
                check: Check {
                    present: true,
                    temperature_c: Some(38.4),
                    symptoms: vec![],
                    spo2: Some(97),
                },
            },
            &system(),
        )
        .await
        .unwrap();
    assert_eq!(
        c.alerts,
        vec![vaxgrid_core::outbreak::isolation::Alert::Fever]
    );
    let list = f
        .store
        .team_list(&vaxgrid_store::scope::Scope::All, today)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let e = &list[0];
    assert_eq!(e.person_id, ids[2]);
    assert!(!e.checked_today);
    assert_eq!(
        e.missed,
        vec![vaxgrid_store::format_date(today - time::Duration::days(2))]
    );
    use vaxgrid_core::outbreak::isolation::Alert;
    assert_eq!(e.alerts, vec![Alert::MissedCheck, Alert::Fever]);
    // A commune elsewhere sees nothing of it.
    let other = vaxgrid_store::scope::Scope::Limited {
        paths: vec!["/22/193/06661/".into()],
        sites: vec![],
        persons: vec![],
    };
    assert!(f.store.team_list(&other, today).await.unwrap().is_empty());
    f.cleanup().await;
}

/// The team's list read a page at a time, as the pages and the API read
/// it: 31 persons at home (F2), started over the last week, each past day
/// checked or not at random, some checked today, some with a fever or an
/// absence in their latest check. Every page joined is everyone once,
/// those not yet checked first then by area and person; every entry's
/// missed days and alerts are the core's rules over what was recorded;
/// the alert list is exactly those with an alert, danger signs first;
/// the counts agree; a cursor that is not this list's is refused.
async fn the_teams_list_read_by_pages_follows_the_rules(backend: &str) {
    use vaxgrid_core::outbreak::isolation::{self, Alert};
    use vaxgrid_store::outbreak_team::TeamView;
    use vaxgrid_store::paging::PageRequest;
    let f = fixture(backend).await;
    let ids = people(&f.store, 33, 700).await;
    let today = vaxgrid_store::today();
    let days = |n: i64| today - time::Duration::days(n);
    f.store
        .confirm_case(&case(&ids[0], days(3)), &system())
        .await
        .unwrap();
    let mut links = vec![link(&ids[0], &ids[1], days(4))];
    links.extend(ids[2..].iter().map(|p| link(&ids[1], p, days(4))));
    f.store
        .add_contacts(&links, &system())
        .await
        .unwrap()
        .unwrap();
    let mut rng = Rng(0x005e_ed19);
    let policy = Policy::default();
    // Person → (start, days checked, the latest check's alerts).
    let mut expected: HashMap<String, (time::Date, Vec<time::Date>, Vec<Alert>)> = HashMap::new();
    let mut rows = Vec::new();
    for p in &ids[2..] {
        let start = days(rng.next(7) as i64);
        let checked: Vec<time::Date> = (0..7)
            .map(|d| start + time::Duration::days(d))
            .filter(|d| *d < today && rng.next(4) != 0)
            .collect();
        expected.insert(p.clone(), (start, checked.clone(), Vec::new()));
        rows.push((p.clone(), start, checked));
    }
    assert_eq!(
        f.store
            .load_isolations(&rows, &policy, &system())
            .await
            .unwrap(),
        31
    );
    // Today: a third checked, some of them with a fever or absent.
    for (i, p) in ids[2..].iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let check = Check {
            present: i % 2 == 0,
            temperature_c: Some(if i % 4 == 0 { 38.6 } else { 36.9 }),
            symptoms: vec![],
            spo2: Some(98),
        };
        let c = f
            .store
            .record_check(
                &NewCheck {
                    person_id: p.clone(),
                    day: today,
                    check,
                },
                &system(),
            )
            .await
            .unwrap();
        let e = expected.get_mut(p).unwrap();
        e.1.push(today);
        e.2 = c.alerts;
    }
    let all = vaxgrid_store::scope::Scope::All;
    let mut seen = Vec::new();
    let mut page = PageRequest::first(4);
    let mut pages = 0;
    loop {
        let p = f
            .store
            .team_page(&all, today, TeamView::List, &page)
            .await
            .unwrap();
        assert!(p.entries.len() <= 4);
        pages += 1;
        seen.extend(p.entries);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (31, 8));
    let order: Vec<(bool, String, String)> = seen
        .iter()
        .map(|e| (e.checked_today, e.area_path.clone(), e.person_id.clone()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "not yet checked first, then area and person");
    for e in &seen {
        let (start, checked, latest) = &expected[&e.person_id];
        let plan = isolation::plan(&policy, Some(Class::F2), false, true, *start).unwrap();
        let missed = isolation::missed_checks(&plan, checked, today);
        let mut alerts = Vec::new();
        if !missed.is_empty() {
            alerts.push(Alert::MissedCheck);
        }
        alerts.extend(latest.iter().copied());
        assert_eq!(e.checked_today, checked.contains(&today), "{e:?}");
        assert_eq!(
            e.missed,
            missed
                .iter()
                .map(|d| vaxgrid_store::format_date(*d))
                .collect::<Vec<_>>(),
            "{e:?}"
        );
        assert_eq!(e.alerts, alerts, "{e:?}");
    }
    let with_alerts: Vec<&String> = seen
        .iter()
        .filter(|e| !e.alerts.is_empty())
        .map(|e| &e.person_id)
        .collect();
    assert!(!with_alerts.is_empty() && with_alerts.len() < 31);
    let mut alerted = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let p = f
            .store
            .team_page(&all, today, TeamView::Alerts, &page)
            .await
            .unwrap();
        alerted.extend(p.entries);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => break,
        }
    }
    let danger =
        |e: &vaxgrid_store::outbreak::TeamEntry| e.alerts.iter().any(|a| *a != Alert::MissedCheck);
    let keys: Vec<(bool, String, String)> = alerted
        .iter()
        .map(|e| (!danger(e), e.area_path.clone(), e.person_id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "danger signs first");
    let mut got: Vec<&String> = alerted.iter().map(|e| &e.person_id).collect();
    got.sort();
    let mut want = with_alerts.clone();
    want.sort();
    assert_eq!(got, want);
    let counts = f.store.team_counts(&all, today, true).await.unwrap();
    assert_eq!(
        (counts.people, counts.checked, counts.alerts),
        (31, 11, Some(with_alerts.len() as i64))
    );
    let counts = f.store.team_counts(&all, today, false).await.unwrap();
    assert_eq!(
        (counts.people, counts.checked, counts.alerts),
        (31, 11, None)
    );
    // Each person's checks, day by day with their alerts (the loaded
    // checks raise none): what the rules read for any day.
    let mut checks: ChecksByPerson = expected
        .iter()
        .map(|(p, (start, days, latest))| {
            let mut all: Vec<(time::Date, Vec<Alert>)> =
                days.iter().map(|d| (*d, Vec::new())).collect();
            if let Some(last) = all.last_mut().filter(|l| l.0 == today) {
                last.1 = latest.clone();
            }
            (p.clone(), (*start, all))
        })
        .collect();
    // Yesterday's list read today: the persons checked today have a check
    // after that day, so their flags come from their checks, the others'
    // from their isolation's row.
    list_follows_the_rules(&f.store, days(1), &checks).await;
    // A missed day checked late (a sign that day): it is no longer
    // missed, and the latest check's alerts stay those of the latest day.
    let late = seen
        .iter()
        .filter(|e| e.checked_today && !e.missed.is_empty())
        .chain(seen.iter().filter(|e| !e.missed.is_empty()))
        .next()
        .expect("someone with a missed day");
    let day = time::Date::parse(
        &late.missed[0],
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let c = f
        .store
        .record_check(
            &NewCheck {
                person_id: late.person_id.clone(),
                day,
                check: Check {
                    present: true,
                    temperature_c: Some(38.9),
                    symptoms: vec![],
                    spo2: Some(97),
                },
            },
            &system(),
        )
        .await
        .unwrap();
    assert_eq!(c.alerts, [Alert::Fever]);
    let mine = &mut checks.get_mut(&late.person_id).unwrap().1;
    mine.push((day, c.alerts));
    mine.sort_by_key(|c| c.0);
    for d in [today, days(1), day] {
        list_follows_the_rules(&f.store, d, &checks).await;
    }
    // A commune sees its own persons only (every other one lives there).
    let commune = vaxgrid_store::scope::Scope::Limited {
        paths: vec!["/22/193/06658/".into()],
        sites: vec![],
        persons: vec![],
    };
    let mine = f.store.team_list(&commune, today).await.unwrap();
    assert!(!mine.is_empty() && mine.len() < 31);
    assert!(mine
        .iter()
        .all(|e| e.area_path.starts_with("/22/193/06658/")));
    assert_eq!(
        f.store
            .team_counts(&commune, today, false)
            .await
            .unwrap()
            .people,
        mine.len() as i64
    );
    let bad = PageRequest {
        after: Some("zz".into()),
        limit: 4,
    };
    let e = f
        .store
        .team_page(&all, today, TeamView::List, &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid { field, .. } if field == "after"),
        "{e:?}"
    );
    f.cleanup().await;
}

/// Each person's isolation start and checks (day, the alerts it raised).
type ChecksByPerson = HashMap<
    String,
    (
        time::Date,
        Vec<(time::Date, Vec<vaxgrid_core::outbreak::isolation::Alert>)>,
    ),
>;

/// The team's list of `day` (whole, and the alert list a page of 3 at a
/// time, and the day's counts) equals the rules on each person's checks
/// up to that day: on the list when at home that day, checked that day or
/// not, the home days before it with no check, a missed-check alert and
/// the latest check's alerts; the alerts with a danger sign first.
async fn list_follows_the_rules(store: &Store, day: time::Date, checks: &ChecksByPerson) {
    use vaxgrid_core::outbreak::isolation::{self, Alert};
    use vaxgrid_store::outbreak_team::TeamView;
    use vaxgrid_store::paging::PageRequest;
    let policy = Policy::default();
    let mut want = HashMap::new();
    for (p, (start, all)) in checks {
        let plan = isolation::plan(&policy, Some(Class::F2), false, true, *start).unwrap();
        if !plan.at_home_on(day) {
            continue;
        }
        let upto: Vec<&(time::Date, Vec<Alert>)> = all.iter().filter(|c| c.0 <= day).collect();
        let days: Vec<time::Date> = upto.iter().map(|c| c.0).collect();
        let missed = isolation::missed_checks(&plan, &days, day);
        let mut alerts = Vec::new();
        if !missed.is_empty() {
            alerts.push(Alert::MissedCheck);
        }
        if let Some(last) = upto.last() {
            alerts.extend(last.1.iter().copied());
        }
        let missed: Vec<String> = missed.into_iter().map(vaxgrid_store::format_date).collect();
        want.insert(p.clone(), (days.contains(&day), missed, alerts));
    }
    let all = Scope::All;
    let got: HashMap<String, (bool, Vec<String>, Vec<Alert>)> = store
        .team_list(&all, day)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.person_id, (e.checked_today, e.missed, e.alerts)))
        .collect();
    assert_eq!(got, want, "the list of {day}");
    let with_alerts = want.values().filter(|w| !w.2.is_empty()).count() as i64;
    let counts = store.team_counts(&all, day, true).await.unwrap();
    assert_eq!(
        (counts.people, counts.checked, counts.alerts),
        (
            want.len() as i64,
            want.values().filter(|w| w.0).count() as i64,
            Some(with_alerts)
        ),
        "the counts of {day}"
    );
    let mut alerted = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let p = store
            .team_page(&all, day, TeamView::Alerts, &page)
            .await
            .unwrap();
        alerted.extend(p.entries);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => break,
        }
    }
    assert_eq!(alerted.len() as i64, with_alerts, "the alerts of {day}");
    let danger: Vec<bool> = alerted
        .iter()
        .map(|e| e.alerts.iter().any(|a| *a != Alert::MissedCheck))
        .collect();
    assert!(
        danger.windows(2).all(|w| w[0] >= w[1]),
        "danger signs first on {day}"
    );
}

fn facility(code: &str, region: &str, mm: i64, sc: i64, stage: i64) -> NewFacility {
    NewFacility {
        code: code.into(),
        name: format!("Facility {code}"),
        area_code: "22".into(),
        region: region.into(),
        beds: BedFigures {
            mild_moderate_beds: mm,
            severe_critical_beds: sc,
            icu_beds: 0,
            activate_at_cases: stage,
        },
        activated_on: None,
    }
}

fn admission(facility: &str, person: &str, on: time::Date) -> NewAdmission {
    NewAdmission {
        id: Uuid::now_v7().to_string(),
        facility_code: facility.into(),
        person_id: person.into(),
        tier: None,
        admitted_on: on,
    }
}

/// Seeded random admissions and discharges over 20 days: the stored
/// occupancy of every day, region and tier equals a count of the stays by
/// hand, and never passes the beds of the facilities active that day.
async fn facility_occupancy_by_day_equals_the_stays(backend: &str) {
    let f = fixture(backend).await;
    let today = vaxgrid_store::today();
    let start = today - time::Duration::days(19);
    let ids = people(&f.store, 12, 600).await;
    for id in &ids {
        f.store
            .confirm_case(&case(id, start), &system())
            .await
            .unwrap();
    }
    let mut east = facility("E1", "east", 4, 0, 0);
    east.activated_on = Some(start);
    f.store.create_facility(&east, &system()).await.unwrap();
    let mut west = facility("W1", "west", 3, 2, 0);
    west.activated_on = Some(start + time::Duration::days(5));
    f.store.create_facility(&west, &system()).await.unwrap();
    let mut rng = Rng(0x5eed_0bed);
    // (admission id, "facility:tier", admitted, discharged) as accepted.
    let mut stays: Vec<(String, String, time::Date, Option<time::Date>)> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    let (mut full, mut closed) = (0, 0);
    for day in 0..20 {
        let d = start + time::Duration::days(day);
        for (i, id) in ids.iter().enumerate() {
            if let Some(&k) = open.get(id) {
                if rng.next(4) == 0 {
                    f.store
                        .discharge(&stays[k].0, d, DischargeReason::Recovered, &system())
                        .await
                        .unwrap();
                    stays[k].3 = Some(d);
                    open.remove(id);
                }
                continue;
            }
            if rng.next(3) != 0 {
                continue;
            }
            let fac = if i % 2 == 0 { "E1" } else { "W1" };
            let mut new = admission(fac, id, d);
            let tier = if fac == "W1" && rng.next(2) == 0 {
                Tier::SevereCritical
            } else {
                Tier::MildModerate
            };
            new.tier = Some(tier);
            match f.store.admit(&new, &system()).await {
                Ok(rec) => {
                    open.insert(id.clone(), stays.len());
                    stays.push((rec.id, format!("{fac}:{}", tier.as_str()), d, None));
                }
                Err(StoreError::Conflict { field: "tier", .. }) => full += 1,
                Err(StoreError::Invalid { field, .. }) if field == "facility_code" => {
                    assert!(fac == "W1" && day < 5, "W1 is active from day 5");
                    closed += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }
    assert!(
        full > 0 && closed > 0,
        "the run tries full tiers ({full}) and a closed facility ({closed})"
    );
    let occ = f
        .store
        .occupancy(&Scope::All, Some("22"), start, today)
        .await
        .unwrap();
    assert_eq!(occ.days.len(), 20);
    for (i, day) in occ.days.iter().enumerate() {
        let d = start + time::Duration::days(i as i64);
        assert_eq!(day.day, vaxgrid_store::format_date(d));
        for cell in &day.cells {
            let fac = if cell.region == "east" { "E1" } else { "W1" };
            let key = format!("{fac}:{}", cell.tier.as_str());
            let by_hand = stays
                .iter()
                .filter(|s| s.1 == key && s.2 <= d && s.3.is_none_or(|out| d < out))
                .count() as i64;
            assert_eq!(cell.occupied, by_hand, "{key} on {d}");
            let beds = match (fac, cell.tier) {
                ("E1", Tier::MildModerate) => 4,
                ("W1", Tier::MildModerate) if i >= 5 => 3,
                ("W1", Tier::SevereCritical) if i >= 5 => 2,
                _ => 0,
            };
            assert_eq!(cell.beds, beds, "{key} on {d}");
            assert!(cell.occupied <= beds, "{key} on {d}: {cell:?}");
        }
    }
    f.cleanup().await;
}

/// Bad figures, a closed facility, a full tier, a discharge before the
/// admission, a person who is not a case: each refused naming its field,
/// and nothing written (no row, no audit entry).
async fn facility_refusals_write_nothing(backend: &str) {
    use sqlx::Row;
    let f = fixture(backend).await;
    let today = vaxgrid_store::today();
    let ids = people(&f.store, 3, 700).await;
    let count = |table: &'static str| {
        let pool = f.store.pool().clone();
        async move {
            sqlx::query(&format!(
                "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"
            ))
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
        }
    };
    let field_of = |e: StoreError| match e {
        StoreError::Invalid { field, .. } => field,
        StoreError::Conflict { field, .. } => field.to_string(),
        StoreError::NotFound { field, .. } => field.to_string(),
        other => panic!("{other:?}"),
    };
    for (change, field) in [
        (
            (|n: &mut NewFacility| n.beds.mild_moderate_beds = -1) as fn(&mut NewFacility),
            "mild_moderate_beds",
        ),
        (|n| n.beds.severe_critical_beds = -3, "severe_critical_beds"),
        (|n| n.beds.icu_beds = 5, "icu_beds"),
        (|n| n.beds.activate_at_cases = -10, "activate_at_cases"),
        (|n| n.area_code = "99".into(), "area_code"),
    ] {
        let mut n = facility("BAD", "east", 10, 2, 0);
        change(&mut n);
        let e = f.store.create_facility(&n, &system()).await.unwrap_err();
        assert_eq!(field_of(e), field);
    }
    assert_eq!(count("treatment_facilities").await, 0);
    f.store
        .confirm_case(&case(&ids[0], today), &system())
        .await
        .unwrap();
    f.store
        .confirm_case(&case(&ids[1], today), &system())
        .await
        .unwrap();
    let audit_before = count("audit_log").await;
    f.store
        .create_facility(&facility("C1", "centre", 1, 1, 0), &system())
        .await
        .unwrap();
    // Not activated yet.
    let e = f
        .store
        .admit(&admission("C1", &ids[0], today), &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "facility_code");
    f.store
        .activate_facility("C1", today, &system())
        .await
        .unwrap();
    let e = f
        .store
        .activate_facility("C1", today, &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "code");
    // Not a case.
    let e = f
        .store
        .admit(&admission("C1", &ids[2], today), &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "person_id");
    let first = f
        .store
        .admit(&admission("C1", &ids[0], today), &system())
        .await
        .unwrap();
    assert_eq!(first.tier, "mild_moderate");
    // The tier's one bed is taken.
    let e = f
        .store
        .admit(&admission("C1", &ids[1], today), &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "tier");
    // Already in a bed.
    let e = f
        .store
        .admit(&admission("C1", &ids[0], today), &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "person_id");
    let e = f
        .store
        .discharge(
            &first.id,
            today - time::Duration::days(1),
            DischargeReason::Recovered,
            &system(),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "discharged_on");
    assert_eq!(count("facility_admissions").await, 1);
    // Create, activate, admit: three entries; the refusals none.
    assert_eq!(count("audit_log").await, audit_before + 3);
    // Discharged today, the bed is free today.
    f.store
        .discharge(&first.id, today, DischargeReason::Recovered, &system())
        .await
        .unwrap();
    f.store
        .admit(&admission("C1", &ids[1], today), &system())
        .await
        .unwrap();
    let e = f
        .store
        .discharge(&first.id, today, DischargeReason::Recovered, &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(e), "id");
    f.cleanup().await;
}
