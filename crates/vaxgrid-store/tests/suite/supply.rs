//! Vaccine supply on both backends: stores along the area tree, the stock
//! ledger and its on-hand counters.

use crate::common;

use common::{fixture, on_both_backends};
use uuid::Uuid;
use vaxgrid_core::supply::ledger::{
    self, Direction, Movement, MovementKind, ReceiptSource, WastageReason,
};
use vaxgrid_store::model::Actor;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::supply::{NewMovement, NewShipment, NewStore};
use vaxgrid_store::{Store, StoreError};

on_both_backends!(
    random_movements_keep_on_hand_equal_to_the_ledger,
    stores_follow_the_area_tree_and_movements_are_refused_by_field,
    shipments_move_stock_down_the_tree_with_discrepancies_explained,
    a_quarantined_lot_refuses_doses_and_a_recall_lists_the_persons_dosed,
    random_movements_and_doses_keep_on_hand_equal_to_the_ledger,
    doses_and_movements_racing_on_one_lot_never_overdraw_it,
    the_day_line_moves_off_the_on_hand_row_when_a_day_ends,
);

fn system() -> Actor {
    Actor::system("test")
}

/// A dose of `lot` to `person_id` at site S06658 (whose store is
/// KS06658), given on `day`.
fn dose_at_s06658(
    person_id: &str,
    lot: (&str, &str),
    day: time::Date,
) -> vaxgrid_store::model::DoseRequest {
    common::dose_request(&Uuid::now_v7().to_string(), person_id, lot.0, lot.1, day)
}

fn new_store(code: &str, area: &str, parent: Option<&str>, site: Option<&str>) -> NewStore {
    NewStore {
        code: code.into(),
        name: format!("Kho {code}"),
        area_code: area.into(),
        parent_code: parent.map(Into::into),
        site_code: site.map(Into::into),
    }
}

async fn tree(store: &Store) {
    store
        .create_store(&new_store("K22", "22", None, None), &system())
        .await
        .unwrap();
    store
        .create_store(&new_store("K193", "193", Some("K22"), None), &system())
        .await
        .unwrap();
    store
        .create_store(&new_store("K194", "194", Some("K22"), None), &system())
        .await
        .unwrap();
    store
        .create_store(
            &new_store("KS06658", "06658", Some("K193"), Some("S06658")),
            &system(),
        )
        .await
        .unwrap();
}

fn mv(kind: MovementKind, quantity: u64) -> Movement {
    Movement {
        id: Uuid::now_v7(),
        kind,
        quantity,
    }
}

fn at(store: &str, lot: (&str, &str), movement: Movement) -> NewMovement {
    NewMovement {
        store_code: store.into(),
        product_code: lot.0.into(),
        lot_number: lot.1.into(),
        movement,
    }
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

async fn random_movements_keep_on_hand_equal_to_the_ledger(backend: &str) {
    let f = fixture(backend).await;
    tree(&f.store).await;
    let stores = ["K22", "K193", "KS06658"];
    let lots = [("AZ", "AZ-1"), ("PFIZER", "PF-1")];
    let mut model = std::collections::BTreeMap::new();
    let mut rng = Rng(0x5eed_2021_0815);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..160 {
        let store = stores[rng.next(3) as usize];
        let lot = lots[rng.next(2) as usize];
        let q = rng.next(60);
        let kind = match rng.next(7) {
            0 | 1 => MovementKind::Receipt {
                source: ReceiptSource::Covax,
                document: "COVAX-VN-2021-08".into(),
            },
            2 => MovementKind::DoseGiven,
            3 => MovementKind::Wastage {
                reason: WastageReason::Broken,
            },
            4 => MovementKind::Discard {
                reason: if rng.next(4) == 0 {
                    " ".into()
                } else {
                    "label unreadable".into()
                },
            },
            5 => MovementKind::VialOpened {
                session_id: None,
                doses_per_vial: 10,
            },
            _ => MovementKind::Adjustment {
                direction: if rng.next(2) == 0 {
                    Direction::Up
                } else {
                    Direction::Down
                },
                reason: "physical count".into(),
                corrects: None,
            },
        };
        let movement = mv(kind, q);
        let before: u64 = *model.get(&(store, lot)).unwrap_or(&0);
        let expected = ledger::apply(before, &movement);
        let got = f
            .store
            .record_movement(&at(store, lot, movement), &system())
            .await;
        match (expected, got) {
            (Ok(want), Ok(on_hand)) => {
                assert_eq!(on_hand, want);
                model.insert((store, lot), want);
                accepted += 1;
            }
            (Err(want), Err(StoreError::Invalid { field, .. })) => {
                assert_eq!(field, want.field());
                refused += 1;
            }
            (want, got) => panic!("ledger says {want:?}, store says {got:?}"),
        }
    }
    assert!(
        accepted > 60 && refused > 10,
        "{accepted} accepted, {refused} refused"
    );
    for store in stores {
        for row in f.store.stock_on_hand(store, &Scope::All).await.unwrap() {
            let lot = lots
                .iter()
                .find(|l| l.1 == row.lot_number)
                .copied()
                .unwrap();
            assert_eq!(row.on_hand, *model.get(&(store, lot)).unwrap_or(&0));
        }
    }
    assert_eq!(f.store.check_stock().await.unwrap(), Vec::<String>::new());
    f.cleanup().await;
}

async fn stores_follow_the_area_tree_and_movements_are_refused_by_field(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    tree(s).await;
    // A store under a parent whose area does not contain it.
    let err = s
        .create_store(&new_store("K06700", "06700", Some("K193"), None), &system())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { ref field, .. } if field == "parent_code"),
        "{err:?}"
    );
    // A site in another area.
    let err = s
        .create_store(
            &new_store("K06700", "06700", Some("K194"), Some("S06658")),
            &system(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { ref field, .. } if field == "site_code"),
        "{err:?}"
    );
    let err = s
        .create_store(&new_store("K22", "22", None, None), &system())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "code", .. }),
        "{err:?}"
    );

    let receipt = |q| {
        mv(
            MovementKind::Receipt {
                source: ReceiptSource::Purchase,
                document: "HĐ 15/2021".into(),
            },
            q,
        )
    };
    let audited = s.verify_audit().await.unwrap().0;
    assert_eq!(
        s.record_movement(&at("K193", ("AZ", "AZ-1"), receipt(500)), &system())
            .await
            .unwrap(),
        500
    );
    assert_eq!(
        s.verify_audit().await.unwrap().0,
        audited + 1,
        "every movement is audited"
    );
    // Zero, more than on hand, unknown lot, a lot of another product.
    let field_of = |r: Result<u64, StoreError>| match r.unwrap_err() {
        StoreError::Invalid { field, .. } => field,
        StoreError::NotFound { field, .. } => field.to_string(),
        e => panic!("{e:?}"),
    };
    assert_eq!(
        field_of(
            s.record_movement(&at("K193", ("AZ", "AZ-1"), receipt(0)), &system())
                .await
        ),
        "quantity"
    );
    assert_eq!(
        field_of(
            s.record_movement(
                &at("K193", ("AZ", "AZ-1"), mv(MovementKind::DoseGiven, 501)),
                &system()
            )
            .await
        ),
        "quantity"
    );
    assert_eq!(
        field_of(
            s.record_movement(&at("K193", ("AZ", "NOPE"), receipt(5)), &system())
                .await
        ),
        "lot_number"
    );
    assert_eq!(
        field_of(
            s.record_movement(&at("K193", ("PFIZER", "AZ-1"), receipt(5)), &system())
                .await
        ),
        "lot_number"
    );
    assert_eq!(
        field_of(
            s.record_movement(&at("K999", ("AZ", "AZ-1"), receipt(5)), &system())
                .await
        ),
        "store_code"
    );
    // The same movement id twice records once.
    let once = at("K193", ("AZ", "AZ-1"), mv(MovementKind::DoseGiven, 3));
    assert_eq!(s.record_movement(&once, &system()).await.unwrap(), 497);
    assert!(matches!(
        s.record_movement(&once, &system()).await,
        Err(StoreError::Conflict { field: "id", .. })
    ));
    // Stock is seen and moved only by roles on its area: Móng Cái's staff
    // see no Hạ Long store.
    let mong_cai = s.area("194").await.unwrap().path;
    let local = Actor {
        name: "kho-mong-cai".into(),
        address: None,
        scope: Scope::Limited {
            paths: vec![mong_cai],
            sites: Vec::new(),
            persons: Vec::new(),
        },
    };
    assert_eq!(
        field_of(
            s.record_movement(
                &at("K193", ("AZ", "AZ-1"), mv(MovementKind::DoseGiven, 1)),
                &local
            )
            .await
        ),
        "store_code"
    );
    assert!(s.stock_on_hand("K193", &local.scope).await.is_err());
    assert_eq!(
        s.record_movement(&at("K194", ("AZ", "AZ-1"), receipt(20)), &local)
            .await
            .unwrap(),
        20
    );
    assert_eq!(
        s.stock_on_hand("K193", &Scope::All).await.unwrap()[0].on_hand,
        497
    );
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());
    f.cleanup().await;
}

async fn shipments_move_stock_down_the_tree_with_discrepancies_explained(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    tree(s).await;
    let ship = |from: &str, to: &str, quantity| NewShipment {
        id: Uuid::now_v7(),
        from_store: from.into(),
        to_store: to.into(),
        product_code: "AZ".into(),
        lot_number: "AZ-1".into(),
        quantity,
    };
    let field_of = |e: StoreError| match e {
        StoreError::Invalid { field, .. } => field,
        StoreError::NotFound { field, .. } | StoreError::Conflict { field, .. } => {
            field.to_string()
        }
        e => panic!("{e:?}"),
    };
    // Shipping from an empty store.
    let err = s
        .dispatch_shipment(&ship("K22", "K193", 100), &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "quantity");
    let receipt = mv(
        MovementKind::Receipt {
            source: ReceiptSource::Donation,
            document: "COVAX lô 2021-08".into(),
        },
        1_000,
    );
    s.record_movement(&at("K22", ("AZ", "AZ-1"), receipt), &system())
        .await
        .unwrap();
    assert_eq!(
        field_of(
            s.dispatch_shipment(&ship("K22", "K22", 10), &system())
                .await
                .unwrap_err()
        ),
        "to_store"
    );
    assert_eq!(
        field_of(
            s.dispatch_shipment(&ship("K22", "K999", 10), &system())
                .await
                .unwrap_err()
        ),
        "to_store"
    );
    assert_eq!(
        field_of(
            s.dispatch_shipment(&ship("K22", "K193", 0), &system())
                .await
                .unwrap_err()
        ),
        "quantity"
    );
    let sent = s
        .dispatch_shipment(&ship("K22", "K193", 400), &system())
        .await
        .unwrap();
    assert_eq!(sent.dispatched, 400);
    let on_hand = |code: &'static str| async move {
        s.stock_on_hand(code, &Scope::All)
            .await
            .unwrap()
            .first()
            .map_or(0, |r| r.on_hand)
    };
    assert_eq!(on_hand("K22").await, 600);
    assert_eq!(on_hand("K193").await, 0, "in transit: at neither store");
    // More than dispatched without a reason: refused, nothing written.
    let err = s
        .receive_shipment(&sent.id, 410, None, &system())
        .await
        .unwrap_err();
    assert_eq!(field_of(err), "discrepancy_reason");
    assert_eq!(on_hand("K193").await, 0);
    // Only the receiving store's staff receive it.
    let mong_cai = Actor {
        name: "kho-mong-cai".into(),
        address: None,
        scope: Scope::Limited {
            paths: vec![s.area("194").await.unwrap().path],
            sites: Vec::new(),
            persons: Vec::new(),
        },
    };
    assert_eq!(
        field_of(
            s.receive_shipment(&sent.id, 400, None, &mong_cai)
                .await
                .unwrap_err()
        ),
        "id"
    );
    let got = s
        .receive_shipment(
            &sent.id,
            390,
            Some("one box of 10 broken in transit"),
            &system(),
        )
        .await
        .unwrap();
    assert_eq!(
        (got.received, got.status),
        (
            Some(390),
            vaxgrid_core::supply::ledger::ShipmentStatus::Received
        )
    );
    assert_eq!(on_hand("K193").await, 390);
    // Received once.
    assert_eq!(
        field_of(
            s.receive_shipment(&sent.id, 390, Some("again"), &system())
                .await
                .unwrap_err()
        ),
        "status"
    );
    assert_eq!(on_hand("K193").await, 390);
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());
    f.cleanup().await;
}

async fn a_quarantined_lot_refuses_doses_and_a_recall_lists_the_persons_dosed(backend: &str) {
    use time::macros::date;
    use vaxgrid_core::dose::LotStatus;
    use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
    use vaxgrid_store::writer::{DoseWriter, WriterConfig};

    let f = fixture(backend).await;
    let s = &f.store;
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let p = s
        .create_person(
            common::person(1, "Nguyễn Văn An", "0665801", &[]),
            &system(),
        )
        .await
        .unwrap()
        .person;
    let dose = |day| dose_at_s06658(&p.id, ("AZ", "AZ-1"), day);
    let first = writer
        .submit(WriteCommand::Dose(dose(date!(2021 - 07 - 01))))
        .await
        .unwrap();
    let WriteOutcome::Created(given) = first else {
        panic!("{first:?}")
    };
    assert!(matches!(
        s.set_lot_status("AZ", "AZ-1", LotStatus::Quarantined, " ", &system()).await,
        Err(StoreError::Invalid { ref field, .. }) if field == "reason"
    ));
    s.set_lot_status(
        "AZ",
        "AZ-1",
        LotStatus::Quarantined,
        "heat to 9.4 °C for 95 min in FR-01",
        &system(),
    )
    .await
    .unwrap();
    let refused = writer
        .submit(WriteCommand::Dose(dose(date!(2021 - 08 - 26))))
        .await;
    assert!(
        matches!(
            &refused,
            Err(StoreError::Invalid { field, message })
                if field == "lot" && message.contains("AZ-1") && message.contains("9.4 °C")
        ),
        "the refusal names the lot and why: {refused:?}"
    );
    s.set_lot_status(
        "AZ",
        "AZ-1",
        LotStatus::Released,
        "VVM stage 1; excursion within the stability budget",
        &system(),
    )
    .await
    .unwrap();
    s.set_lot_status(
        "AZ",
        "AZ-1",
        LotStatus::Recalled,
        "manufacturer recall 2021-09",
        &system(),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.set_lot_status("AZ", "AZ-1", LotStatus::Released, "mistake", &system())
            .await,
        Err(StoreError::Conflict {
            field: "status",
            ..
        })
    ));
    let dosed = s
        .persons_dosed_from_lot("AZ", "AZ-1", &Scope::All)
        .await
        .unwrap();
    assert_eq!(dosed.len(), 1);
    assert_eq!(
        (dosed[0].person_id.as_str(), dosed[0].dose_id.as_str()),
        (p.id.as_str(), given.id.as_str())
    );
    let elsewhere = Scope::Limited {
        paths: vec![s.area("194").await.unwrap().path],
        sites: Vec::new(),
        persons: Vec::new(),
    };
    assert!(s
        .persons_dosed_from_lot("AZ", "AZ-1", &elsewhere)
        .await
        .unwrap()
        .is_empty());
    drop(writer);
    f.cleanup().await;
}

/// Movements through the API's path and doses through the dose writer,
/// in a seeded random order, at site S06658's own store: on-hand always
/// equals the model (a dose takes one, only when there is one; a group of
/// doses sent at once takes exactly what is there), never goes negative,
/// and the counters equal a recount of the ledger. Historical doses and
/// entered-in-error corrections move nothing.
async fn random_movements_and_doses_keep_on_hand_equal_to_the_ledger(backend: &str) {
    use time::macros::date;
    use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
    use vaxgrid_store::model::{CorrectionRequest, DoseRequest};
    use vaxgrid_store::writer::{DoseWriter, WriterConfig};

    let f = fixture(backend).await;
    let s = &f.store;
    tree(s).await;
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let lots = [("AZ", "AZ-1"), ("PFIZER", "PF-1")];
    let mut model: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut rng = Rng(0x0d05_e521_0901);
    let mut serial = 0u32;
    let mut person = || {
        serial += 1;
        common::person(serial, &format!("Người {serial}"), "0665801", &[])
    };
    let dose = |person_id: &str, lot: (&str, &str), historical: bool| DoseRequest {
        historical,
        // Given today (a store's ledger starts on the day it is created).
        ..dose_at_s06658(
            person_id,
            lot,
            if historical {
                date!(2021 - 05 - 01)
            } else {
                vaxgrid_store::today()
            },
        )
    };
    let mut given: Vec<String> = Vec::new();
    let (mut doses_taken, mut doses_refused) = (0u64, 0u64);
    for step in 0..120 {
        let lot = lots[rng.next(2) as usize];
        let before = *model.get(lot.1).unwrap_or(&0);
        match rng.next(6) {
            0 | 1 => {
                let kind = if rng.next(3) == 0 {
                    MovementKind::Wastage {
                        reason: WastageReason::Broken,
                    }
                } else {
                    MovementKind::Receipt {
                        source: ReceiptSource::Covax,
                        document: "COVAX-VN-2021-08".into(),
                    }
                };
                let movement = mv(kind, rng.next(8));
                let expected = ledger::apply(before, &movement);
                let got = s
                    .record_movement(&at("KS06658", lot, movement), &system())
                    .await;
                match (expected, got) {
                    (Ok(want), Ok(on_hand)) => {
                        assert_eq!(on_hand, want, "step {step}");
                        model.insert(lot.1, want);
                    }
                    (Err(want), Err(StoreError::Invalid { field, .. })) => {
                        assert_eq!(field, want.field())
                    }
                    (want, got) => panic!("step {step}: ledger says {want:?}, store says {got:?}"),
                }
            }
            2 | 3 => {
                // A group of doses sent at once, likely one batch.
                let k = 1 + rng.next(6);
                let mut tasks = Vec::new();
                for _ in 0..k {
                    let p = s.create_person(person(), &system()).await.unwrap().person;
                    let w = writer.clone();
                    let cmd = WriteCommand::Dose(dose(&p.id, lot, false));
                    tasks.push(tokio::spawn(async move { w.submit(cmd).await }));
                }
                let mut ok = 0;
                for t in tasks {
                    match t.await.unwrap() {
                        Ok(WriteOutcome::Created(rec)) => {
                            ok += 1;
                            given.push(rec.id);
                        }
                        Err(StoreError::Invalid { field, message }) => {
                            assert_eq!(field, "lot", "{message}");
                            assert!(
                                message.contains(lot.1)
                                    && message.contains("not in stock at this site"),
                                "{message}"
                            );
                            doses_refused += 1;
                        }
                        other => panic!("step {step}: {other:?}"),
                    }
                }
                assert_eq!(
                    ok,
                    k.min(before),
                    "step {step}: {k} doses asked, {before} on hand"
                );
                doses_taken += ok;
                model.insert(lot.1, before - ok);
            }
            4 => {
                // Historical: decrements nothing, whatever the stock.
                let p = s.create_person(person(), &system()).await.unwrap().person;
                let out = writer
                    .submit(WriteCommand::Dose(dose(&p.id, lot, true)))
                    .await;
                assert!(matches!(out, Ok(WriteOutcome::Created(_))), "{out:?}");
            }
            _ => {
                // Entered in error: nothing returns to stock.
                if let Some(target) = given.pop() {
                    let out = writer
                        .submit(WriteCommand::EnteredInError(CorrectionRequest {
                            id: Uuid::now_v7().to_string(),
                            target_id: target,
                            reason: "wrong person".into(),
                            author: "vac-1".into(),
                            by: system(),
                        }))
                        .await;
                    assert!(matches!(out, Ok(WriteOutcome::Created(_))), "{out:?}");
                }
            }
        }
        for lot in lots {
            let on_hand = s
                .lot_on_hand("KS06658", lot.0, lot.1, &Scope::All)
                .await
                .unwrap();
            assert_eq!(
                on_hand,
                *model.get(lot.1).unwrap_or(&0),
                "step {step}, {lot:?}"
            );
        }
    }
    assert!(
        doses_taken > 20 && doses_refused > 3,
        "{doses_taken} doses taken, {doses_refused} refused for stock"
    );
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());
    assert_eq!(s.check_counters().await.unwrap(), Vec::<String>::new());
    drop(writer);
    f.cleanup().await;
}

/// The dose writer reads a batch's stock unlocked and decrements it on
/// condition: wastage recorded through the API at the same moment, on the
/// same store and lot, is never overwritten, and the two together never
/// take more than was on hand.
async fn doses_and_movements_racing_on_one_lot_never_overdraw_it(backend: &str) {
    use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
    use vaxgrid_store::writer::{DoseWriter, WriterConfig};

    let f = fixture(backend).await;
    let s = &f.store;
    tree(s).await;
    let lot = ("AZ", "AZ-1");
    let stock = 40u64;
    s.record_movement(
        &at(
            "KS06658",
            lot,
            mv(
                MovementKind::Receipt {
                    source: ReceiptSource::Covax,
                    document: "COVAX-VN-2021-08".into(),
                },
                stock,
            ),
        ),
        &system(),
    )
    .await
    .unwrap();
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let mut persons = Vec::new();
    for i in 0..36u32 {
        let p = common::person(i + 1, &format!("Người {i}"), "0665801", &[]);
        persons.push(s.create_person(p, &system()).await.unwrap().person.id);
    }
    let mut doses = Vec::new();
    for id in persons {
        let w = writer.clone();
        let cmd = WriteCommand::Dose(dose_at_s06658(&id, lot, vaxgrid_store::today()));
        doses.push(tokio::spawn(async move { w.submit(cmd).await }));
    }
    let mut wastage = Vec::new();
    for _ in 0..12 {
        let s = s.clone();
        wastage.push(tokio::spawn(async move {
            let kind = MovementKind::Wastage {
                reason: WastageReason::Broken,
            };
            s.record_movement(&at("KS06658", lot, mv(kind, 1)), &system())
                .await
        }));
    }
    let (mut given, mut wasted) = (0u64, 0u64);
    for t in doses {
        match t.await.unwrap() {
            Ok(WriteOutcome::Created(_)) => given += 1,
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "lot", "{message}");
                assert!(message.contains("not in stock at this site"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    for t in wastage {
        match t.await.unwrap() {
            Ok(_) => wasted += 1,
            Err(StoreError::Invalid { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    let on_hand = s
        .lot_on_hand("KS06658", lot.0, lot.1, &Scope::All)
        .await
        .unwrap();
    assert!(given + wasted <= stock, "{given} given, {wasted} wasted");
    assert_eq!(
        on_hand,
        stock - given - wasted,
        "{given} given, {wasted} wasted"
    );
    // Refusals only once the lot ran out: 36 + 12 asked for 40 doses.
    assert_eq!(given + wasted, stock, "{given} given, {wasted} wasted");
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());
    assert_eq!(s.check_counters().await.unwrap(), Vec::<String>::new());
    drop(writer);
    f.cleanup().await;
}

/// The on-hand row carries the ledger's line of the day's doses given
/// (migration 0081); the first batch of a later day moves the finished
/// line into `stock_given_daily`. Yesterday is made by moving the first
/// doses, and the row's line, back one day.
async fn the_day_line_moves_off_the_on_hand_row_when_a_day_ends(backend: &str) {
    use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
    use vaxgrid_store::writer::{DoseWriter, WriterConfig};

    let f = fixture(backend).await;
    let s = &f.store;
    tree(s).await;
    s.record_movement(
        &at(
            "KS06658",
            ("AZ", "AZ-1"),
            mv(
                MovementKind::Receipt {
                    source: ReceiptSource::Covax,
                    document: "COVAX-VN-2021-08".into(),
                },
                20,
            ),
        ),
        &system(),
    )
    .await
    .unwrap();
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let mut serial = 0u32;
    let mut give = async |n: usize| {
        for _ in 0..n {
            serial += 1;
            let p = s
                .create_person(
                    common::person(serial, &format!("Người {serial}"), "0665801", &[]),
                    &system(),
                )
                .await
                .unwrap()
                .person;
            let out = writer
                .submit(WriteCommand::Dose(dose_at_s06658(
                    &p.id,
                    ("AZ", "AZ-1"),
                    vaxgrid_store::today(),
                )))
                .await;
            assert!(matches!(out, Ok(WriteOutcome::Created(_))), "{out:?}");
        }
    };
    let today = vaxgrid_store::today();
    let yesterday = vaxgrid_store::format_date(today.previous_day().unwrap());
    let today = vaxgrid_store::format_date(today);
    let lines = async || {
        let mut lines: Vec<(String, u64)> = s
            .movements_of("KS06658", &Scope::All, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == "dose_given")
            .map(|m| (m.details["day"].as_str().unwrap().to_string(), m.quantity))
            .collect();
        lines.sort();
        lines
    };

    give(3).await;
    assert_eq!(lines().await, vec![(today.clone(), 3)]);
    let day = 86_400_000_000i64;
    for sql in [
        format!("UPDATE doses SET recorded_at = recorded_at - {day}"),
        format!(
            "UPDATE stock_on_hand SET given_day = '{yesterday}', given_day_at = given_day_at - {day} \
             WHERE given_day_doses > 0"
        ),
    ] {
        sqlx::query(&sql).execute(s.pool()).await.unwrap();
    }
    assert_eq!(lines().await, vec![(yesterday.clone(), 3)]);
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());

    give(2).await;
    assert_eq!(
        lines().await,
        vec![(yesterday.clone(), 3), (today.clone(), 2)]
    );
    give(1).await;
    assert_eq!(lines().await, vec![(yesterday, 3), (today, 3)]);
    assert_eq!(
        s.lot_on_hand("KS06658", "AZ", "AZ-1", &Scope::All)
            .await
            .unwrap(),
        14
    );
    let finished: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM stock_given_daily")
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert_eq!(finished, 1, "the finished day is moved once");
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());
    drop(writer);
    f.cleanup().await;
}
