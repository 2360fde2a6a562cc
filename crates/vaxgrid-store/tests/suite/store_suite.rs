//! The store suite: every test body runs on SQLite and on PostgreSQL.

use crate::common;

use common::{fixture, on_both_backends, person};
use time::macros::date;
use time::Duration;
use vaxgrid_core::dose::DoseRuleError;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{CorrectionRequest, DoseRequest, MergeRequest};
use vaxgrid_store::persons::PersonQuery;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::StoreError;

on_both_backends!(
    dose_rules_idempotency_and_references,
    corrections_and_merges_keep_counters_exact,
    random_workload_counters_equal_recount,
    dose_counters_follow_random_doses_and_corrections,
    registry_conflicts_duplicates_and_search,
    group_commit_batches_concurrent_doses,
    writers_decide_a_persons_doses_one_batch_at_a_time,
    bulk_writer_applies_batches_with_the_writers_rules,
    audit_chain_detects_tampering,
    coverage_report_rolls_up_the_subtree,
    bulk_import_is_all_or_nothing_and_restores_indexes,
    sessions_expire_and_tokens_narrow_to_held_grants,
    scopes_follow_areas_and_sites_created_later,
    migrations_keep_and_verify_checksums,
    survey_list_pages_village_by_village,
    due_doses_are_found_by_their_number,
);

use common::dose_request as dose;

fn system() -> vaxgrid_store::model::Actor {
    vaxgrid_store::model::Actor::system("test")
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn dose_rules_idempotency_and_references(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(f.store.clone(), WriterConfig::default())
        .expect("the dose writer starts");
    let p = f
        .store
        .create_person(person(1, "Nguyễn Văn An", "0665801", &[]), &system())
        .await
        .unwrap()
        .person;
    let d1 = dose(&new_id(), &p.id, "AZ", "AZ-1", date!(2021 - 07 - 01));
    let first = writer.submit(WriteCommand::Dose(d1.clone())).await.unwrap();
    let WriteOutcome::Created(rec) = first else {
        panic!("expected created, got {first:?}")
    };
    assert_eq!(rec.dose_number, 1);
    assert_eq!(
        writer
            .stats
            .direct_sqlite
            .load(std::sync::atomic::Ordering::Relaxed),
        backend == "sqlite",
        "on SQLite the writer runs on its direct connection"
    );
    // Same id, same body: the stored record again.
    match writer.submit(WriteCommand::Dose(d1.clone())).await.unwrap() {
        WriteOutcome::Existing(again) => assert_eq!(again.id, rec.id),
        other => panic!("expected existing, got {other:?}"),
    }
    // Same id, different body: conflict.
    let mut changed = d1.clone();
    changed.lot_number = "PF-1".into();
    changed.product_code = "PFIZER".into();
    assert!(matches!(
        writer.submit(WriteCommand::Dose(changed)).await,
        Err(StoreError::Conflict { field: "id", .. })
    ));
    // Too early for dose 2, with the earliest valid date.
    let early = dose(&new_id(), &p.id, "AZ", "AZ-1", date!(2021 - 07 - 10));
    match writer.submit(WriteCommand::Dose(early.clone())).await {
        Err(StoreError::DoseRule(DoseRuleError::IntervalTooShort { earliest, .. })) => {
            assert_eq!(earliest, date!(2021 - 07 - 29))
        }
        other => panic!("expected interval error, got {other:?}"),
    }
    // The same with a stated reason is accepted, and the reason is kept.
    let mut overridden = early;
    overridden.override_reason = Some("outbreak response".into());
    let WriteOutcome::Created(rec2) = writer.submit(WriteCommand::Dose(overridden)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(rec2.dose_number, 2);
    assert_eq!(rec2.override_reason.as_deref(), Some("outbreak response"));
    // Unknown references name their field; lot rules are refused.
    let q = f
        .store
        .create_person(person(2, "Trần Thị Bình", "0665801", &[]), &system())
        .await
        .unwrap()
        .person;
    let cases: Vec<(DoseRequest, &str)> = vec![
        (
            dose(&new_id(), &new_id(), "AZ", "AZ-1", date!(2021 - 07 - 01)),
            "person_id",
        ),
        (
            dose(&new_id(), &q.id, "NOPE", "AZ-1", date!(2021 - 07 - 01)),
            "product_code",
        ),
        (
            dose(&new_id(), &q.id, "AZ", "NOPE", date!(2021 - 07 - 01)),
            "lot_number",
        ),
        (
            DoseRequest {
                site_code: "NOPE".into(),
                ..dose(&new_id(), &q.id, "AZ", "AZ-1", date!(2021 - 07 - 01))
            },
            "site_code",
        ),
    ];
    for (req, field) in cases {
        match writer.submit(WriteCommand::Dose(req)).await {
            Err(StoreError::NotFound { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected not found on {field}, got {other:?}"),
        }
    }
    // A recalled lot is refused by the lot's hold, naming the lot and why.
    let r = writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &q.id,
            "AZ",
            "AZ-RECALLED",
            date!(2021 - 07 - 01),
        )))
        .await;
    match r {
        Err(StoreError::Invalid { field, message }) => {
            assert_eq!(field, "lot");
            assert!(
                message.contains("AZ-RECALLED") && message.contains("recalled"),
                "{message}"
            );
        }
        other => panic!("lot AZ-RECALLED: {other:?}"),
    }
    // An expired lot is refused at the field `lot`, naming it and why.
    let r = writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &q.id,
            "AZ",
            "AZ-OLD",
            date!(2021 - 07 - 01),
        )))
        .await;
    match r {
        Err(StoreError::Invalid { field, message }) => {
            assert_eq!(field, "lot");
            assert!(
                message.contains("AZ-OLD") && message.contains("expired"),
                "{message}"
            );
        }
        other => panic!("lot AZ-OLD: {other:?}"),
    }
    // A lot of another product breaks the dose rules.
    let r = writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &q.id,
            "AZ",
            "PF-1",
            date!(2021 - 07 - 01),
        )))
        .await;
    assert!(matches!(r, Err(StoreError::DoseRule(_))), "lot PF-1: {r:?}");
    let future = vaxgrid_store::today() + Duration::days(3);
    assert!(matches!(
        writer
            .submit(WriteCommand::Dose(dose(
                &new_id(),
                &q.id,
                "AZ",
                "AZ-1",
                future
            )))
            .await,
        Err(StoreError::DoseRule(DoseRuleError::DateInFuture { .. }))
    ));
    // Nothing was written by the refused commands.
    assert_eq!(f.store.history(&q.id).await.unwrap().records.len(), 0);
    assert_eq!(f.store.count_doses().await.unwrap(), 2);
    assert!(f.store.check_counters().await.unwrap().is_empty());
    f.cleanup().await;
}

async fn corrections_and_merges_keep_counters_exact(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(f.store.clone(), WriterConfig::default())
        .expect("the dose writer starts");
    let a = f
        .store
        .create_person(
            person(1, "Lê Văn Cường", "0665801", &["frontline"]),
            &system(),
        )
        .await
        .unwrap()
        .person;
    let b = f
        .store
        .create_person(person(2, "Lê Văn Cường", "0665802", &[]), &system())
        .await
        .unwrap()
        .person;
    let d1 = new_id();
    writer
        .submit(WriteCommand::Dose(dose(
            &d1,
            &a.id,
            "AZ",
            "AZ-1",
            date!(2021 - 07 - 01),
        )))
        .await
        .unwrap();
    writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &b.id,
            "AZ",
            "AZ-1",
            date!(2021 - 08 - 01),
        )))
        .await
        .unwrap();
    let report = f.store.coverage("22").await.unwrap();
    assert_eq!(report.area.total.at_least_one, 2);
    assert_eq!(report.area.total.completed, 0);
    // Entered in error: a new record; the dose stays, the counts drop.
    let fix = CorrectionRequest {
        id: new_id(),
        target_id: d1.clone(),
        reason: "wrong person".into(),
        author: "nurse-2".into(),
        by: system(),
    };
    let WriteOutcome::Created(c) = writer
        .submit(WriteCommand::EnteredInError(fix.clone()))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(c.corrects_id.as_deref(), Some(d1.as_str()));
    assert!(matches!(
        writer
            .submit(WriteCommand::EnteredInError(fix))
            .await
            .unwrap(),
        WriteOutcome::Existing(_)
    ));
    let again = CorrectionRequest {
        id: new_id(),
        target_id: d1.clone(),
        reason: "again".into(),
        author: "x".into(),
        by: system(),
    };
    assert!(matches!(
        writer.submit(WriteCommand::EnteredInError(again)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        f.store
            .coverage("22")
            .await
            .unwrap()
            .area
            .total
            .at_least_one,
        1
    );
    assert_eq!(
        f.store.dose(&d1).await.unwrap().id,
        d1,
        "the voided dose is still there"
    );
    // Merge b into a: b's dose now counts for a; population drops by one.
    writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &a.id,
            "AZ",
            "AZ-1",
            date!(2021 - 09 - 15),
        )))
        .await
        .unwrap();
    let merge = MergeRequest {
        survivor_id: a.id.clone(),
        duplicate_id: b.id.clone(),
        reason: "same person".into(),
        by: vaxgrid_store::model::Actor::system("clerk"),
    };
    assert!(matches!(
        writer
            .submit(WriteCommand::Merge(merge.clone()))
            .await
            .unwrap(),
        WriteOutcome::Merged { already: false, .. }
    ));
    assert!(matches!(
        writer.submit(WriteCommand::Merge(merge)).await.unwrap(),
        WriteOutcome::Merged { already: true, .. }
    ));
    let h = f.store.history(&a.id).await.unwrap();
    assert_eq!(h.valid_doses, 2, "one own valid dose plus the merged one");
    assert!(h.series_complete);
    let report = f.store.coverage("22").await.unwrap();
    assert_eq!(report.area.total.population, 1);
    assert_eq!(report.area.total.completed, 1);
    // A dose for the merged-away person is refused, pointing at the survivor.
    match writer
        .submit(WriteCommand::Dose(dose(
            &new_id(),
            &b.id,
            "AZ",
            "AZ-1",
            date!(2021 - 12 - 01),
        )))
        .await
    {
        Err(StoreError::Conflict {
            existing: Some(path),
            ..
        }) => assert!(path.ends_with(&a.id)),
        other => panic!("expected conflict, got {other:?}"),
    }
    let diffs = f.store.check_counters().await.unwrap();
    assert!(
        diffs.is_empty(),
        "counters differ from a recount:\n{}",
        diffs.join("\n")
    );
    // The recount reads persons a chunk at a time; one person a chunk
    // still counts b's dose for a, whose chunk b is not in by id.
    let one_by_one = f.store.recount_by(1).await.unwrap();
    let stored = f.store.stored_counters().await.unwrap();
    let diffs = stored.differences(&one_by_one);
    assert!(
        diffs.is_empty(),
        "a recount person by person differs:\n{}",
        diffs.join("\n")
    );
    assert!(f.store.verify_audit().await.unwrap().1.is_none());
    f.cleanup().await;
}

async fn random_workload_counters_equal_recount(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(
        f.store.clone(),
        WriterConfig {
            max_batch: 16,
            queue: 1024,
            // On PostgreSQL, batches decided at once by four writers.
            writers: Some(4),
        },
    )
    .expect("the dose writer starts");
    let homes = ["0665801", "0665802", "06661", "0670001"];
    let groups: [&[&str]; 4] = [
        &[],
        &["frontline"],
        &["elderly_65", "chronic_disease"],
        &["health_worker"],
    ];
    let mut people = Vec::new();
    for i in 0..40u32 {
        let p = person(
            100 + i,
            &format!("Phạm Văn {i}"),
            homes[i as usize % 4],
            groups[i as usize % 4],
        );
        people.push(f.store.create_person(p, &system()).await.unwrap().person.id);
    }
    let mut rng = fastrand::Rng::with_seed(20211);
    let mut recorded: Vec<String> = Vec::new();
    let products = [("AZ", "AZ-1"), ("PFIZER", "PF-1"), ("BIBP", "VN-1")];
    let mut day = date!(2021 - 03 - 01);
    for round in 0..12 {
        let mut batch = Vec::new();
        for _ in 0..25 {
            let cmd = match rng.u8(0..10) {
                0..=6 => {
                    let (product, lot) = products[rng.usize(..products.len())];
                    let mut d = dose(
                        &new_id(),
                        &people[rng.usize(..people.len())],
                        product,
                        lot,
                        day,
                    );
                    // Some too early (refused), some overridden, some
                    // reported from elsewhere, out of date order.
                    if rng.bool() {
                        d.override_reason = Some("catch-up".into());
                    }
                    if rng.u8(0..5) == 0 {
                        d.historical = true;
                        d.lot_number = String::new();
                        d.site_code = String::new();
                        d.administered_on = day - Duration::days(rng.i64(0..200));
                    }
                    WriteCommand::Dose(d)
                }
                7 | 8 if !recorded.is_empty() => WriteCommand::EnteredInError(CorrectionRequest {
                    id: new_id(),
                    target_id: recorded[rng.usize(..recorded.len())].clone(),
                    reason: "typo".into(),
                    author: "qa".into(),
                    by: system(),
                }),
                _ => WriteCommand::Merge(MergeRequest {
                    survivor_id: people[rng.usize(..people.len())].clone(),
                    duplicate_id: people[rng.usize(..people.len())].clone(),
                    reason: "dedupe".into(),
                    by: vaxgrid_store::model::Actor::system("qa"),
                }),
            };
            batch.push(cmd);
        }
        // Submit concurrently so the writer forms mixed batches.
        let outcomes = futures_join(&writer, batch).await;
        for o in outcomes.into_iter().flatten() {
            if let WriteOutcome::Created(rec) = o {
                if rec.kind.is_dose() {
                    recorded.push(rec.id);
                }
            }
        }
        day += Duration::days(10 + round);
    }
    assert!(
        recorded.len() > 50,
        "the workload must record doses, got {}",
        recorded.len()
    );
    let diffs = f.store.check_counters().await.unwrap();
    assert!(
        diffs.is_empty(),
        "counters differ from a recount:\n{}",
        diffs.join("\n")
    );
    f.cleanup().await;
}

/// The doses counter (area × product × dose number, all days) after random
/// doses and entered-in-error corrections, in mixed batches: equal to a
/// recount after every round, its total equal to the doses accepted minus
/// those corrected (counted here, not by the store), and a changed row is
/// named by the check.
async fn dose_counters_follow_random_doses_and_corrections(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(
        f.store.clone(),
        WriterConfig {
            max_batch: 8,
            queue: 1024,
            writers: Some(4),
        },
    )
    .expect("the dose writer starts");
    let homes = ["0665801", "0665802", "06661", "0670001"];
    let mut people = Vec::new();
    for i in 0..24u32 {
        let p = person(
            300 + i,
            &format!("Trần Thị {i}"),
            homes[i as usize % 4],
            &[],
        );
        people.push(f.store.create_person(p, &system()).await.unwrap().person.id);
    }
    let mut rng = fastrand::Rng::with_seed(170);
    let products = [("AZ", "AZ-1"), ("PFIZER", "PF-1"), ("BIBP", "VN-1")];
    let mut valid: Vec<String> = Vec::new();
    let mut corrected = 0usize;
    let mut day = date!(2021 - 05 - 01);
    for round in 0..10 {
        let mut batch = Vec::new();
        for _ in 0..20 {
            if rng.u8(0..4) == 0 && !valid.is_empty() {
                let target = valid.swap_remove(rng.usize(..valid.len()));
                batch.push(WriteCommand::EnteredInError(CorrectionRequest {
                    id: new_id(),
                    target_id: target,
                    reason: "entered for the wrong person".into(),
                    author: "qa".into(),
                    by: system(),
                }));
            } else {
                let (product, lot) = products[rng.usize(..products.len())];
                let mut d = dose(
                    &new_id(),
                    &people[rng.usize(..people.len())],
                    product,
                    lot,
                    day - Duration::days(rng.i64(0..30)),
                );
                d.override_reason = Some("catch-up".into());
                batch.push(WriteCommand::Dose(d));
            }
        }
        for o in futures_join(&writer, batch).await {
            match o {
                Ok(WriteOutcome::Created(rec)) if rec.kind.is_dose() => valid.push(rec.id),
                Ok(WriteOutcome::Created(_)) => corrected += 1,
                _ => {}
            }
        }
        let stored = f.store.stored_counters().await.unwrap();
        let fresh = f.store.recount().await.unwrap();
        assert_eq!(stored.doses, fresh.doses, "round {round}");
        assert_eq!(
            stored.doses.values().sum::<i64>(),
            valid.len() as i64,
            "round {round}: the counter holds the doses not entered in error"
        );
        day += Duration::days(7);
    }
    assert!(
        corrected > 10 && valid.len() > 50,
        "{corrected} corrections, {} doses",
        valid.len()
    );
    assert!(
        f.store.check_counters().await.unwrap().is_empty(),
        "every counter equals a recount"
    );
    // A counter changed behind the writer's back is named by the check.
    sqlx::query("UPDATE dose_counters SET doses = doses + 1 WHERE area_code = $1")
        .bind("0665801")
        .execute(f.store.pool())
        .await
        .unwrap();
    let diffs = f.store.check_counters().await.unwrap();
    assert!(
        !diffs.is_empty() && diffs.iter().all(|d| d.starts_with("doses ")),
        "{diffs:?}"
    );
    f.cleanup().await;
}

async fn futures_join(
    writer: &DoseWriter,
    cmds: Vec<WriteCommand>,
) -> Vec<Result<WriteOutcome, StoreError>> {
    let handles: Vec<_> = cmds
        .into_iter()
        .map(|c| {
            let w = writer.clone();
            tokio::spawn(async move { w.submit(c).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

async fn registry_conflicts_duplicates_and_search(backend: &str) {
    let f = fixture(backend).await;
    let first = f
        .store
        .create_person(person(7, "Nguyễn Văn Đức", "0665801", &[]), &system())
        .await
        .unwrap();
    assert!(first.possible_duplicates.is_empty());
    // Same ID number: 409 pointing at the existing record.
    match f
        .store
        .create_person(person(7, "Someone Else", "0670001", &[]), &system())
        .await
    {
        Err(StoreError::Conflict {
            field: "id_number",
            existing: Some(path),
            ..
        }) => {
            assert_eq!(path, format!("/api/v1/persons/{}", first.person.id))
        }
        other => panic!("expected conflict, got {other:?}"),
    }
    // Same folded name, birth date and commune: accepted and flagged.
    let twin = f
        .store
        .create_person(person(8, "NGUYEN  van duc", "0665802", &[]), &system())
        .await
        .unwrap();
    assert_eq!(twin.possible_duplicates, vec![first.person.id.clone()]);
    // Search with and without diacritics, by word, phone and ID number.
    for q in ["nguyen van duc", "Nguyễn Văn Đức", "duc", "NGUYỄN"] {
        let page = f
            .store
            .search_persons(
                &PersonQuery {
                    name: Some(q.into()),
                    scope: vaxgrid_store::scope::Scope::All,
                    ..Default::default()
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2, "query {q}");
    }
    let by_phone = f
        .store
        .search_persons(
            &PersonQuery {
                phone: Some("0900000007".into()),
                scope: vaxgrid_store::scope::Scope::All,
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(by_phone.items.len(), 1);
    // Cursor pagination walks every match exactly once.
    for i in 0..5 {
        f.store
            .create_person(
                person(20 + i, &format!("Hoàng Văn {i}"), "0670001", &[]),
                &system(),
            )
            .await
            .unwrap();
    }
    let area_q = PersonQuery {
        area: Some("194".into()),
        scope: vaxgrid_store::scope::Scope::All,
        ..Default::default()
    };
    let p1 = f.store.search_persons(&area_q, None, 3).await.unwrap();
    assert_eq!(p1.items.len(), 3);
    let p2 = f
        .store
        .search_persons(&area_q, p1.next_cursor.as_deref(), 3)
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 2);
    assert!(p2.next_cursor.is_none());
    // Bulk check: bad rows are named; nothing is written by a check.
    let mut bad = person(30, "Bad Row", "0665801", &[]);
    bad.id_number = "12345".into();
    let repeated = person(31, "Repeat", "0665801", &[]);
    let (ok, errors) = f
        .store
        .check_people(vec![
            person(7, "Registered", "0665801", &[]),
            bad,
            repeated.clone(),
            repeated,
        ])
        .await
        .unwrap();
    assert_eq!(ok.len(), 1);
    let fields: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(
        fields,
        vec![(1, "id_number"), (2, "id_number"), (4, "id_number")]
    );
    // Home area must be a commune or village.
    let mut district = person(40, "District Home", "193", &[]);
    district.home_area = "193".into();
    assert!(
        matches!(f.store.create_person(district, &system()).await, Err(StoreError::Invalid { field, .. }) if field == "home_area")
    );
    // Scoped: a district's caller finds no one of another district, and a
    // record outside answers as absent.
    use vaxgrid_store::scope::Scope;
    let other_district = Scope::Limited {
        paths: vec!["/22/194/".into()],
        sites: vec![],
        persons: vec![],
    };
    let found = f
        .store
        .search_persons(
            &PersonQuery {
                name: Some("duc".into()),
                scope: other_district.clone(),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert!(found.items.is_empty(), "{found:?}");
    let unscoped = PersonQuery {
        name: Some("duc".into()),
        ..Default::default()
    };
    assert!(
        f.store
            .search_persons(&unscoped, None, 10)
            .await
            .unwrap()
            .items
            .is_empty(),
        "no scope, no one"
    );
    assert!(matches!(
        f.store.person_in(&first.person.id, &other_district).await,
        Err(StoreError::NotFound { .. })
    ));
    let own = Scope::Limited {
        paths: vec!["/22/193/".into()],
        sites: vec![],
        persons: vec![],
    };
    assert_eq!(
        f.store.person_in(&first.person.id, &own).await.unwrap().id,
        first.person.id
    );
    let outsider = vaxgrid_store::model::Actor {
        name: "planner-b".into(),
        address: None,
        scope: other_district,
    };
    assert!(matches!(
        f.store
            .create_person(person(41, "Elsewhere", "0665801", &[]), &outsider)
            .await,
        Err(StoreError::NotFound {
            field: "home_area",
            ..
        })
    ));
    f.cleanup().await;
}

async fn bulk_writer_applies_batches_with_the_writers_rules(backend: &str) {
    let f = fixture(backend).await;
    let p = f
        .store
        .create_person(person(2, "Hoàng Văn Bình", "0665801", &[]), &system())
        .await
        .unwrap()
        .person;
    let mut bulk = vaxgrid_store::writer::BulkWriter::new(f.store.clone());
    let first = dose(&new_id(), &p.id, "AZ", "AZ-1", date!(2021 - 07 - 01));
    let too_soon = dose(&new_id(), &p.id, "AZ", "AZ-1", date!(2021 - 07 - 10));
    let results = bulk
        .apply(&[
            WriteCommand::Dose(first.clone()),
            WriteCommand::Dose(too_soon),
        ])
        .await
        .unwrap();
    assert!(matches!(results[0], Ok(WriteOutcome::Created(_))));
    assert!(
        matches!(results[1], Err(StoreError::DoseRule(_))),
        "the second dose nine days after the first is refused: {:?}",
        results[1]
    );
    assert_eq!(
        bulk.direct_sqlite(),
        backend == "sqlite",
        "on SQLite the bulk writer runs on its direct connection"
    );
    // The next batch sees the first one's record.
    let results = bulk.apply(&[WriteCommand::Dose(first)]).await.unwrap();
    assert!(matches!(results[0], Ok(WriteOutcome::Existing(_))));
    assert_eq!(f.store.count_doses().await.unwrap(), 1);
    let diffs = f.store.check_counters().await.unwrap();
    assert!(diffs.is_empty(), "{diffs:?}");
    f.cleanup().await;
}

/// Many first doses for the same persons on one day, at once, from
/// batches that several writers decide together on PostgreSQL: each
/// person gets exactly one, the others are refused by the rules (not
/// lost, not failed), and the counters equal a recount.
async fn writers_decide_a_persons_doses_one_batch_at_a_time(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(
        f.store.clone(),
        WriterConfig {
            max_batch: 2,
            queue: 1024,
            writers: Some(4),
        },
    )
    .expect("the dose writers start");
    let people: Vec<_> = (0..30u32)
        .map(|i| person(2000 + i, &format!("Đỗ Văn {i}"), "0665802", &[]))
        .collect();
    let (placed, errors) = f.store.check_people(people).await.unwrap();
    assert!(errors.is_empty());
    f.store.insert_people(&placed, "t", |_| {}).await.unwrap();
    // A person's doses side by side in the queue: each writer's next batch
    // holds the same person's as the batch another writer is deciding.
    let mut cmds = Vec::new();
    for p in &placed {
        for _copy in 0..8 {
            cmds.push(WriteCommand::Dose(dose(
                &new_id(),
                &p.new.id,
                "AZ",
                "AZ-1",
                date!(2021 - 07 - 01),
            )));
        }
    }
    let results = futures_join(&writer, cmds).await;
    let created = results
        .iter()
        .filter(|r| matches!(r, Ok(WriteOutcome::Created(_))))
        .count();
    assert_eq!(created, placed.len(), "one first dose per person");
    for r in &results {
        match r {
            Ok(WriteOutcome::Created(_)) | Err(StoreError::DoseRule(_)) => {}
            other => panic!("a dose was neither taken nor refused by a rule: {other:?}"),
        }
    }
    assert_eq!(f.store.count_doses().await.unwrap(), placed.len() as i64);
    let diffs = f.store.check_counters().await.unwrap();
    assert!(diffs.is_empty(), "{diffs:?}");
    f.cleanup().await;
}

async fn group_commit_batches_concurrent_doses(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(f.store.clone(), WriterConfig::default())
        .expect("the dose writer starts");
    let mut people = Vec::new();
    for i in 0..300u32 {
        people.push(person(1000 + i, &format!("Vũ Thị {i}"), "0665801", &[]));
    }
    let (placed, errors) = f.store.check_people(people).await.unwrap();
    assert!(errors.is_empty());
    f.store.insert_people(&placed, "t", |_| {}).await.unwrap();
    let cmds = placed
        .iter()
        .map(|p| {
            WriteCommand::Dose(dose(
                &new_id(),
                &p.new.id,
                "AZ",
                "AZ-1",
                date!(2021 - 07 - 01),
            ))
        })
        .collect();
    let results = futures_join(&writer, cmds).await;
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(WriteOutcome::Created(_)))));
    let batches = writer
        .stats
        .batches
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        batches < 300,
        "300 concurrent doses must share commits, took {batches} batches"
    );
    assert_eq!(f.store.count_doses().await.unwrap(), 300);
    assert!(f.store.check_counters().await.unwrap().is_empty());
    f.cleanup().await;
}

async fn audit_chain_detects_tampering(backend: &str) {
    let f = fixture(backend).await;
    for i in 0..3 {
        f.store
            .create_person(
                person(50 + i, "Đặng Văn Em", "0665801", &[]),
                &vaxgrid_store::model::Actor::system("clerk"),
            )
            .await
            .unwrap();
    }
    let (n, broken) = f.store.verify_audit().await.unwrap();
    assert!(n >= 10 && broken.is_none());
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5")
        .execute(f.store.pool())
        .await
        .unwrap();
    let (_, broken) = f.store.verify_audit().await.unwrap();
    assert_eq!(broken.expect("tampering found").seq, 5);
    f.cleanup().await;
}

async fn coverage_report_rolls_up_the_subtree(backend: &str) {
    let f = fixture(backend).await;
    let writer = DoseWriter::spawn(f.store.clone(), WriterConfig::default())
        .expect("the dose writer starts");
    let homes = [("0665801", 3), ("06661", 2), ("0670001", 4)];
    let mut serial = 200;
    for (home, n) in homes {
        for k in 0..n {
            serial += 1;
            let groups: &[&str] = if k == 0 { &["frontline"] } else { &[] };
            let p = f
                .store
                .create_person(person(serial, "Bùi Văn Phúc", home, groups), &system())
                .await
                .unwrap()
                .person;
            if k % 2 == 0 {
                writer
                    .submit(WriteCommand::Dose(dose(
                        &new_id(),
                        &p.id,
                        "BIBP",
                        "VN-1",
                        date!(2021 - 06 - 01),
                    )))
                    .await
                    .unwrap();
            }
        }
    }
    let district = f.store.coverage("193").await.unwrap();
    assert_eq!(district.area.total.population, 5);
    assert_eq!(district.area.total.at_least_one, 3);
    let children: Vec<(String, i64, i64)> = district
        .children
        .iter()
        .map(|c| {
            (
                c.area_code.clone(),
                c.total.population,
                c.total.at_least_one,
            )
        })
        .collect();
    assert_eq!(
        children,
        vec![("06658".into(), 3, 2), ("06661".into(), 2, 1)]
    );
    assert_eq!(district.area.by_group["frontline"].population, 2);
    assert_eq!(district.area.by_group["frontline"].at_least_one, 2);
    assert_eq!(district.area.by_product["BIBP"].at_least_one, 3);
    let province = f.store.coverage("22").await.unwrap();
    assert_eq!(province.area.total.population, 9);
    let sum: i64 = province.children.iter().map(|c| c.total.population).sum();
    assert_eq!(sum, 9);
    f.cleanup().await;
}

async fn index_schema(store: &vaxgrid_store::Store) -> Vec<String> {
    let sql = match store.backend() {
        vaxgrid_store::Backend::Sqlite => "SELECT sql AS d FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons' AND sql IS NOT NULL ORDER BY name",
        vaxgrid_store::Backend::Postgres => "SELECT indexdef AS d FROM pg_indexes WHERE tablename = 'persons' AND schemaname = current_schema() ORDER BY indexname",
    };
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|r| sqlx::Row::get::<String, _>(r, "d"))
        .collect()
}

async fn bulk_import_is_all_or_nothing_and_restores_indexes(backend: &str) {
    let f = fixture(backend).await;
    let areas = f.store.area_map().await.unwrap();
    let today = vaxgrid_store::today();
    let place = |serial: u32| {
        let p = vaxgrid_store::persons::place_person(
            person(serial, "Lý Thị Nhung", "0665801", &["teacher"]),
            &areas,
            today,
        )
        .unwrap();
        (serial as usize, p)
    };
    f.store
        .create_person(person(5, "Registered Before", "0670001", &[]), &system())
        .await
        .unwrap();
    let before = index_schema(&f.store).await;
    // A chunk with a number already registered (row 5): all or nothing.
    let mut import = f.store.begin_person_import(100_000).await.unwrap();
    let good: Vec<_> = (10..20).map(place).collect();
    assert!(import.add(good.clone(), true).await.unwrap().is_empty());
    let bad: Vec<_> = [4, 5, 6].into_iter().map(place).collect();
    let errors = import.add(bad.clone(), true).await.unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect::<Vec<_>>(),
        vec![(5, "id_number")]
    );
    import.rollback().await.unwrap();
    assert_eq!(
        f.store.count_persons().await.unwrap(),
        1,
        "a rolled-back import leaves nothing"
    );
    assert_eq!(
        index_schema(&f.store).await,
        before,
        "dropped indexes come back with the rollback"
    );
    // The same, keeping the good rows.
    let mut import = f.store.begin_person_import(100_000).await.unwrap();
    assert!(import.add(good.clone(), true).await.unwrap().is_empty());
    let errors = import.add(bad.clone(), true).await.unwrap();
    assert_eq!(errors.len(), 1);
    // A number repeated inside the file.
    let again: Vec<_> = [10].into_iter().map(place).collect();
    let errors = import.add(again.clone(), true).await.unwrap();
    assert_eq!(errors[0].field, "id_number");
    assert!(
        errors[0].message.contains("repeated"),
        "{}",
        errors[0].message
    );
    assert_eq!(import.commit("t").await.unwrap(), 12);
    assert_eq!(f.store.count_persons().await.unwrap(), 13);
    assert_eq!(
        index_schema(&f.store).await,
        before,
        "rebuilt indexes are those of the migration"
    );
    let report = f.store.coverage("22").await.unwrap();
    assert_eq!(report.area.total.population, 13);
    assert_eq!(report.area.by_group["teacher"].population, 12);
    let diffs = f.store.check_counters().await.unwrap();
    assert!(diffs.is_empty(), "{diffs:?}");
    // Rows that bring their own ids (an exported file): a stored id is
    // named on field `id`, whether the chunk is written or, once the
    // import is doomed, only checked.
    let with_id_of = |serial: u32, owner: &(usize, vaxgrid_store::persons::PlacedPerson)| {
        let mut row = place(serial);
        row.1.new.id = owner.1.new.id.clone();
        row
    };
    let fields = |errors: Vec<vaxgrid_store::persons::RowError>| {
        errors
            .into_iter()
            .map(|e| (e.row, e.field))
            .collect::<Vec<_>>()
    };
    let mut import = f
        .store
        .begin_person_import(10)
        .await
        .unwrap()
        .with_given_ids();
    let errors = import
        .add(vec![with_id_of(30, &good[0])], true)
        .await
        .unwrap();
    assert_eq!(fields(errors), vec![(30, "id".to_string())]);
    let errors = import
        .add(vec![with_id_of(31, &good[1]), place(32)], false)
        .await
        .unwrap();
    assert_eq!(fields(errors), vec![(31, "id".to_string())]);
    import.rollback().await.unwrap();
    assert_eq!(f.store.count_persons().await.unwrap(), 13);
    f.cleanup().await;
}

async fn sessions_expire_and_tokens_narrow_to_held_grants(backend: &str) {
    use vaxgrid_core::access::Grant;
    let f = fixture(backend).await;
    let planner = Grant::parse("planner:193").unwrap();
    let stats = Grant::parse("statistics_officer:22").unwrap();
    let user = f
        .store
        .create_user(
            "lan",
            "Lan",
            "$argon2id$stub",
            &[planner.clone(), stats.clone()],
            "t",
        )
        .await
        .unwrap();
    // Idle and absolute expiry.
    f.store
        .create_session(&user.id, "s1", "csrf1")
        .await
        .unwrap();
    let (who, csrf) = f
        .store
        .session("s1", 60_000_000, 3_600_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (who.user.username.as_str(), csrf.as_str()),
        ("lan", "csrf1")
    );
    f.store.clock().advance(std::time::Duration::from_millis(5));
    assert!(
        f.store
            .session("s1", 1_000, 3_600_000_000)
            .await
            .unwrap()
            .is_none(),
        "idle"
    );
    assert!(
        f.store
            .session("s1", 60_000_000, 3_600_000_000)
            .await
            .unwrap()
            .is_none(),
        "ended for good"
    );
    f.store
        .create_session(&user.id, "s2", "csrf2")
        .await
        .unwrap();
    f.store.clock().advance(std::time::Duration::from_millis(5));
    assert!(
        f.store
            .session("s2", 60_000_000, 1_000)
            .await
            .unwrap()
            .is_none(),
        "absolute"
    );
    // A token acts with the grants it was made with, while the user holds them.
    f.store
        .create_token("lan", "his", std::slice::from_ref(&planner), "t1", "t")
        .await
        .unwrap();
    let p = f.store.token_principal("t1").await.unwrap().unwrap();
    assert_eq!(p.grants, vec![planner.clone()]);
    assert!(f
        .store
        .create_token("lan", "more", &[Grant::parse("admin").unwrap()], "t2", "t")
        .await
        .is_err());
    f.store
        .set_grant("lan", &planner, false, "t")
        .await
        .unwrap();
    assert!(f
        .store
        .token_principal("t1")
        .await
        .unwrap()
        .unwrap()
        .grants
        .is_empty());
    // Disabled: no session, no token.
    f.store.create_session(&user.id, "s3", "c").await.unwrap();
    f.store.set_disabled("lan", true, "t").await.unwrap();
    assert!(f.store.token_principal("t1").await.unwrap().is_none());
    assert!(f
        .store
        .session("s3", 60_000_000, 3_600_000_000)
        .await
        .unwrap()
        .is_none());
    // Sign-in throttling (vaxgrid_core::throttle), names known or not: each
    // attempt counts before its password is checked; five per address are
    // free, then the address waits, and the wait is listed as a lockout.
    use vaxgrid_core::throttle::{Policy, Scope, POLICY};
    use vaxgrid_store::accounts::LoginAttempt;
    let policy = Policy {
        base_micros: 60_000_000,
        ..POLICY
    };
    for name in ["lan", "ghost"] {
        for i in 1..=5 {
            let attempt = f
                .store
                .login_attempt(name, "10.0.0.9", &policy)
                .await
                .unwrap();
            let LoginAttempt::Admitted { lockout } = attempt else {
                panic!("{name} attempt {i}: {attempt:?}");
            };
            assert_eq!(lockout.is_some(), i == 5, "{name} attempt {i}");
        }
        let attempt = f
            .store
            .login_attempt(name, "10.0.0.9", &policy)
            .await
            .unwrap();
        assert!(
            matches!(
                attempt,
                LoginAttempt::Wait {
                    scope: Scope::Pair,
                    ..
                }
            ),
            "{attempt:?}"
        );
        // Another address is not held back by this one's failures.
        assert!(matches!(
            f.store
                .login_attempt(name, "10.0.0.10", &policy)
                .await
                .unwrap(),
            LoginAttempt::Admitted { lockout: None }
        ));
    }
    let lockouts = f.store.lockouts().await.unwrap();
    let mut held: Vec<(&str, Option<&str>, i64)> = lockouts
        .iter()
        .map(|l| (l.username.as_str(), l.address.as_deref(), l.failures))
        .collect();
    held.sort();
    assert_eq!(
        held,
        [("ghost", Some("10.0.0.9"), 5), ("lan", Some("10.0.0.9"), 5)]
    );
    // A success clears the name's counters and makes the address known:
    // the name-wide counter no longer holds it back.
    f.store.login_succeeded("ghost", "10.0.0.9").await.unwrap();
    assert!(f
        .store
        .lockouts()
        .await
        .unwrap()
        .iter()
        .all(|l| l.username != "ghost"));
    for i in 0..12 {
        let addr = format!("10.1.0.{i}");
        f.store
            .login_attempt("ghost", &addr, &policy)
            .await
            .unwrap();
    }
    assert!(matches!(
        f.store
            .login_attempt("ghost", "10.2.0.1", &policy)
            .await
            .unwrap(),
        LoginAttempt::Wait {
            scope: Scope::Name,
            ..
        }
    ));
    assert!(matches!(
        f.store
            .login_attempt("ghost", "10.0.0.9", &policy)
            .await
            .unwrap(),
        LoginAttempt::Admitted { lockout: None }
    ));
    assert!(f
        .store
        .lockouts()
        .await
        .unwrap()
        .iter()
        .any(|l| l.username == "ghost" && l.address.is_none()));
    assert!(f.store.verify_audit().await.unwrap().1.is_none());
    f.cleanup().await;
}

async fn scopes_follow_areas_and_sites_created_later(backend: &str) {
    use vaxgrid_core::access::{Grant, Permission};
    use vaxgrid_core::area::AreaLevel;
    use vaxgrid_store::model::{NewArea, Site, SiteKind};
    use vaxgrid_store::scope::Scope;
    let f = fixture(backend).await;
    let store = &f.store;
    let scope = |grants: &'static str, permission| async move {
        let grants = [Grant::parse(grants).unwrap()];
        store.scope_for(&grants, permission).await.unwrap()
    };
    let (planner, vaccinator) = ("planner:195", "vaccinator:S06720");
    // Neither the district nor the site exists yet: the grants cover nothing.
    assert_eq!(scope(planner, Permission::ReadReports).await, Scope::none());
    assert_eq!(
        scope(vaccinator, Permission::RecordDose).await,
        Scope::none()
    );
    f.store
        .create_areas(
            vec![
                NewArea {
                    code: "195".into(),
                    parent_code: Some("22".into()),
                    level: AreaLevel::from("district"),
                    name: "Cẩm Phả".into(),
                    name_en: String::new(),
                },
                NewArea {
                    code: "06720".into(),
                    parent_code: Some("195".into()),
                    level: AreaLevel::from("commune"),
                    name: "Cẩm Thạch".into(),
                    name_en: String::new(),
                },
            ],
            "test",
        )
        .await
        .unwrap();
    f.store
        .create_site(
            &Site {
                code: "S06720".into(),
                name: "Trạm Y tế Cẩm Thạch".into(),
                kind: SiteKind::CommuneHealthStation,
                area_code: "06720".into(),
                stations: 2,
                daily_capacity: 200,
            },
            "test",
        )
        .await
        .unwrap();
    // Created since: found now (a miss was not remembered), and the same
    // answer again from what the store keeps.
    for _ in 0..2 {
        assert_eq!(
            scope(planner, Permission::ReadReports).await,
            Scope::Limited {
                paths: vec!["/22/195/".into()],
                sites: vec![],
                persons: vec![],
            }
        );
        assert_eq!(
            scope(vaccinator, Permission::RecordDose).await,
            Scope::Limited {
                paths: vec!["/22/".into()],
                sites: vec!["S06720".into()],
                persons: vec![],
            }
        );
    }
    f.cleanup().await;
}

/// Every applied migration keeps the SHA-256 of its text; a database made
/// before checksums were kept gets the column and the sums; a stored sum
/// that no longer matches stops `migrate`, naming the migration.
async fn migrations_keep_and_verify_checksums(backend: &str) {
    let f = fixture(backend).await;
    let pool = f.store.pool();
    let (missing,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM schema_migrations WHERE checksum IS NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(missing, 0);
    // A table from before checksums: the column goes, migrate brings it back.
    sqlx::query("ALTER TABLE schema_migrations DROP COLUMN checksum")
        .execute(pool)
        .await
        .unwrap();
    assert!(f.store.migrate().await.unwrap().is_empty());
    let (filled,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM schema_migrations WHERE length(checksum) = 64")
            .fetch_one(pool)
            .await
            .unwrap();
    let (all,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(all >= 9);
    assert_eq!(filled, all);
    // A released migration whose text differs from what was applied.
    sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = 4")
        .bind("0".repeat(64))
        .execute(pool)
        .await
        .unwrap();
    let err = f.store.migrate().await.unwrap_err();
    assert!(
        matches!(&err, StoreError::MigrationChanged { migration, .. } if migration == "0004_accounts"),
        "{err:?}"
    );
    let err = vaxgrid_store::Store::open(&f.scratch.url)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("0004_accounts"), "{err}");
    f.cleanup().await;
}

/// The survey list of a commune pages village by village (area path, then
/// id) through a cursor naming both, everyone once; a page of one status
/// holds as many of that status as asked, skipping the others, also those
/// vaccinated only under a duplicate merged into them; a bad cursor is
/// refused naming `after`.
async fn survey_list_pages_village_by_village(backend: &str) {
    use vaxgrid_store::campaigns::{NewCampaign, NewWave, SurveyStatus, TargetBasis};
    let f = fixture(backend).await;
    let s = &f.store;
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let today = vaxgrid_store::today();
    // Registered alternately in the two villages, so id order is not
    // village order; every third one vaccinated.
    let mut people = Vec::new();
    for i in 0..14u32 {
        let home = if i % 2 == 0 { "0665802" } else { "0665801" };
        let p = s
            .create_person(person(700 + i, &format!("Người {i}"), home, &[]), &system())
            .await
            .unwrap()
            .person;
        if i % 3 == 0 {
            let d = dose(&new_id(), &p.id, "AZ", "AZ-1", today - Duration::days(1));
            writer.submit(WriteCommand::Dose(d)).await.unwrap();
        }
        people.push((home.to_string(), p.id, i % 3 == 0));
    }
    // A duplicate holding the dose, merged into a survivor with none of
    // their own: the survivor is vaccinated.
    let (survivor, duplicate) = (people[1].1.clone(), people[0].1.clone());
    writer
        .submit(WriteCommand::Merge(MergeRequest {
            survivor_id: survivor.clone(),
            duplicate_id: duplicate.clone(),
            reason: "same person".into(),
            by: system(),
        }))
        .await
        .unwrap();
    let campaign = s
        .create_campaign(
            &NewCampaign {
                id: new_id(),
                name: "Toàn dân".into(),
                disease: "COVID-19".into(),
                area_code: "22".into(),
                products: vec!["AZ".into()],
                priority_groups: Vec::new(),
                target_percent_tenths: 800,
                target_people: None,
                target_basis: TargetBasis::Population,
                target_date: today + Duration::days(30),
                min_age_years: 18,
                history_reason: None,
            },
            &system(),
        )
        .await
        .unwrap();
    let wave = s
        .add_wave(
            &campaign.id,
            &NewWave {
                id: new_id(),
                name: "1".into(),
                starts_on: today,
                ends_on: today + Duration::days(20),
                eligible_groups: Vec::new(),
                history_reason: None,
            },
            &system(),
        )
        .await
        .unwrap();
    let list = |status: Option<SurveyStatus>, limit: usize| {
        let (campaign, wave) = (campaign.id.clone(), wave.id.clone());
        async move {
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = s
                    .survey_list_of(
                        &campaign,
                        &wave,
                        Some("06658"),
                        status,
                        after.as_deref(),
                        limit,
                        &system(),
                    )
                    .await
                    .unwrap();
                assert!(page.items.len() <= limit);
                if page.next_cursor.is_some() {
                    assert_eq!(page.items.len(), limit, "only the last page is short");
                }
                seen.extend(page.items);
                match page.next_cursor {
                    Some(c) => after = Some(c),
                    None => return seen,
                }
            }
        }
    };
    // Everyone once (the duplicate is merged away), village by village.
    let mut expected: Vec<(String, String)> = people
        .iter()
        .filter(|(_, id, _)| *id != duplicate)
        .map(|(home, id, _)| (home.clone(), id.clone()))
        .collect();
    expected.sort();
    let all = list(None, 3).await;
    let got: Vec<(String, String)> = all
        .iter()
        .map(|r| (r.home_area.clone(), r.person_id.clone()))
        .collect();
    assert_eq!(got, expected);
    let vaccinated = |id: &str| id == survivor || people.iter().any(|(_, p, v)| p == id && *v);
    for r in &all {
        let want = if vaccinated(&r.person_id) {
            SurveyStatus::Vaccinated
        } else {
            SurveyStatus::NotYet
        };
        assert_eq!(r.status, want, "{}", r.person_id);
    }
    // Not yet: the vaccinated skipped, full pages of the rest in order.
    let not_yet: Vec<String> = list(Some(SurveyStatus::NotYet), 2)
        .await
        .into_iter()
        .map(|r| {
            assert_eq!(r.status, SurveyStatus::NotYet);
            r.person_id
        })
        .collect();
    let expected_not_yet: Vec<String> = expected
        .iter()
        .filter(|(_, id)| !vaccinated(id))
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(not_yet, expected_not_yet);
    assert!(!not_yet.contains(&survivor));
    let done: Vec<String> = list(Some(SurveyStatus::Vaccinated), 2)
        .await
        .into_iter()
        .map(|r| r.person_id)
        .collect();
    let expected_done: Vec<String> = expected
        .iter()
        .filter(|(_, id)| vaccinated(id))
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(done, expected_done);
    assert!(list(Some(SurveyStatus::Booked), 5).await.is_empty());
    // A village's list, and a cursor that does not read.
    let village = s
        .survey_list(&campaign.id, &wave.id, Some("0665801"), None, 50, &system())
        .await
        .unwrap();
    assert!(village.items.iter().all(|r| r.home_area == "0665801"));
    assert_eq!(village.items.len(), 7);
    for bad in ["zz", "6162"] {
        match s
            .survey_list(
                &campaign.id,
                &wave.id,
                Some("06658"),
                Some(bad),
                5,
                &system(),
            )
            .await
        {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "after"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    f.cleanup().await;
}

/// The reminders' scan reads the window of each dose number apart: a first
/// dose due (by `doses_product_number_day`), a second dose of a
/// series of three, and nothing for a series completed inside the window.
async fn due_doses_are_found_by_their_number(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let today = vaxgrid_store::today();
    let mut three = s.product("AZ").await.unwrap();
    three.code = "AZ3".into();
    three.name = "Three doses".into();
    three.doses_in_series = 3;
    three.recommended_interval_days = 28;
    s.create_product(&three, "test").await.unwrap();
    s.create_lot(
        &vaxgrid_store::model::Lot {
            product_code: "AZ3".into(),
            lot_number: "AZ3-1".into(),
            expiry: "2030-12-31".into(),
            status: vaxgrid_core::dose::LotStatus::Released,
            doses: 1000,
        },
        "test",
    )
    .await
    .unwrap();
    let given = |serial: u32, doses: Vec<(&'static str, &'static str, i64)>| {
        let (s, writer) = (s.clone(), &writer);
        async move {
            let p = s
                .create_person(person(serial, "Người Nhắc", "0665801", &[]), &system())
                .await
                .unwrap()
                .person;
            let mut ids = Vec::new();
            for (product, lot, days_ago) in doses {
                let d = dose(
                    &new_id(),
                    &p.id,
                    product,
                    lot,
                    today - Duration::days(days_ago),
                );
                match writer.submit(WriteCommand::Dose(d)).await.unwrap() {
                    WriteOutcome::Created(r) => ids.push(r.id),
                    other => panic!("{other:?}"),
                }
            }
            (p.id, ids)
        }
    };
    // AZ: the second dose 56 days after the first, due tomorrow.
    let (first, first_doses) = given(801, vec![("AZ", "AZ-1", 55)]).await;
    // A series of three: the third 28 days after the second, due tomorrow.
    let (second, second_doses) = given(802, vec![("AZ3", "AZ3-1", 60), ("AZ3", "AZ3-1", 27)]).await;
    // Completed: its second dose lies in AZ's window, and is not due anything.
    let (done, _) = given(803, vec![("AZ", "AZ-1", 120), ("AZ", "AZ-1", 56)]).await;
    let texts = |_: vaxgrid_core::reminders::Language, _: &vaxgrid_core::reminders::About<'_>| {
        "due".to_string()
    };
    assert_eq!(s.generate_reminders(today, &texts).await.unwrap(), 2);
    assert_eq!(s.generate_reminders(today, &texts).await.unwrap(), 0);
    let subjects = |id: String| async move {
        s.outbox(&id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.subject)
            .collect::<Vec<_>>()
    };
    assert_eq!(subjects(first).await, vec![first_doses[0].clone()]);
    assert_eq!(subjects(second).await, vec![second_doses[1].clone()]);
    assert!(subjects(done).await.is_empty());
    f.cleanup().await;
}

/// Each pooled SQLite connection caches 16 MiB of pages (docs/operations.md,
/// "Memory"), not the 64 MiB the dose writer's own connection keeps.
#[tokio::test]
async fn pooled_sqlite_connections_cache_16_mib() {
    let f = fixture("sqlite").await;
    let (kib,): (i64,) = sqlx::query_as("PRAGMA cache_size")
        .fetch_one(f.store.pool())
        .await
        .unwrap();
    assert_eq!(kib, -16 * 1024);
    f.cleanup().await;
}
