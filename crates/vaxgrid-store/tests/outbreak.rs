//! The outbreak's stored graph, isolation and laboratories on both
//! backends: classes always equal the distance in the graph from the
//! nearest confirmed case (checked against the core's from-scratch count
//! after every step of seeded random sequences of links, confirmations and
//! reversals); a pooled test flow never loses a sample; bad input is
//! refused naming its field, with nothing written.

mod common;

use std::collections::HashMap;

use common::{fixture, on_both_backends, person};
use time::macros::date;
use uuid::Uuid;
use vaxgrid_core::outbreak::graph::{Class, Contact, ContactGraph, Setting};
use vaxgrid_core::outbreak::isolation::{Check, Policy};
use vaxgrid_core::outbreak::pooling::Outcome;
use vaxgrid_store::model::Actor;
use vaxgrid_store::outbreak::{
    ContactPerson, Laboratory, NewCase, NewCheck, NewContact, NewIsolation, Severity, TestKind,
};
use vaxgrid_store::{Store, StoreError};

on_both_backends!(
    classes_equal_graph_distance_after_random_changes,
    a_pooled_test_flow_never_loses_a_sample,
    bad_input_is_refused_by_field_and_nothing_is_written,
    isolation_checks_and_the_teams_list,
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
