//! The audit log against what is kept outside it: signed checkpoints of its
//! head, and the doses its entries name. On SQLite and PostgreSQL.

use crate::common;

use common::{fixture, on_both_backends, person};
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::macros::date;
use vaxgrid_store::audit::Anchor;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{Actor, DoseRequest};
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::Store;

on_both_backends!(cut_deleted_and_rewritten_logs_are_found);

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Puts the saved log back in place of whatever the table holds now.
async fn restore(store: &Store) {
    exec(store, "DELETE FROM audit_log").await;
    exec(store, "INSERT INTO audit_log SELECT * FROM audit_saved").await;
}

/// What someone with write access to the database could do: change entry 2
/// and compute the whole chain again, so that every link holds.
async fn rechain_with_a_change(store: &Store) {
    let rows = sqlx::query(
        "SELECT seq, at, actor, address, action, entity, entity_id, details FROM audit_log ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut prev = "0".repeat(64);
    for row in rows {
        let seq: i64 = row.get("seq");
        let actor: String = if seq == 2 {
            "mallory".into()
        } else {
            row.get("actor")
        };
        let address: Option<String> = row.get("address");
        let mut h = Sha256::new();
        for part in [
            seq.to_string(),
            row.get::<i64, _>("at").to_string(),
            actor.clone(),
            address.unwrap_or_default(),
            row.get("action"),
            row.get("entity"),
            row.get("entity_id"),
            row.get("details"),
            prev.clone(),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        let hash = hex::encode(h.finalize());
        sqlx::query("UPDATE audit_log SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(actor)
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(store.pool())
            .await
            .unwrap();
        prev = hash;
    }
}

async fn cut_deleted_and_rewritten_logs_are_found(backend: &str) {
    let f = fixture(backend).await;
    let store = &f.store;
    let writer =
        DoseWriter::spawn(store.clone(), WriterConfig::default()).expect("the dose writer starts");
    let by = Actor::system("test");
    let mut persons = Vec::new();
    for i in 0..3 {
        let p = store
            .create_person(person(70 + i, "Trần Văn Bình", "0665801", &[]), &by)
            .await
            .unwrap()
            .person;
        persons.push(p);
    }
    let mut ids = Vec::new();
    let mut checkpoint = None;
    for (i, p) in persons.iter().enumerate() {
        let id = uuid::Uuid::now_v7().to_string();
        // One at a time: one batch, one audit entry each.
        let out = writer
            .submit(WriteCommand::Dose(DoseRequest {
                id: id.clone(),
                person_id: p.id.clone(),
                product_code: "AZ".into(),
                lot_number: "AZ-1".into(),
                site_code: "S06658".into(),
                administered_on: date!(2021 - 07 - 01),
                dose_number: None,
                vaccinator: Some("vac-1".into()),
                override_reason: None,
                historical: false,
                requires_certificate: None,
                by: by.clone(),
            }))
            .await
            .unwrap();
        assert!(matches!(out, WriteOutcome::Created(_)), "{out:?}");
        ids.push(id);
        if i == 1 {
            // The operator's checkpoint after the second dose.
            let (seq, hash) = store.audit_head().await.unwrap();
            checkpoint = Some(Anchor {
                seq,
                hash,
                label: "after the second dose".into(),
            });
        }
    }
    let anchors = [checkpoint.unwrap()];
    let at = anchors[0].seq;

    // Intact: the chain holds, the head is at or past every checkpoint,
    // every dose is named.
    let v = store.verify_audit_anchored(&anchors).await.unwrap();
    assert!(v.intact(), "{v:?}");
    assert_eq!(v.head.0, at + 1);
    exec(store, "CREATE TABLE audit_saved AS SELECT * FROM audit_log").await;

    // The tail cut (the last two entries: the checkpointed one and the one
    // after). The chain alone cannot tell.
    exec(store, &format!("DELETE FROM audit_log WHERE seq >= {at}")).await;
    let (_, broken) = store.verify_audit().await.unwrap();
    assert!(broken.is_none(), "a cut tail leaves a valid chain");
    let v = store.verify_audit_anchored(&[]).await.unwrap();
    assert!(!v.intact());
    let mut expected = ids[1..].to_vec();
    expected.sort();
    assert_eq!(
        v.unaudited_doses, expected,
        "the doses whose entries are gone"
    );
    assert_eq!(v.unaudited_dose_count, 2);
    let v = store.verify_audit_anchored(&anchors).await.unwrap();
    let why = v.anchor.expect("the checkpoint shows the cut");
    assert!(
        why.contains(&format!("ends at entry {}", at - 1)) && why.contains("removed from the end"),
        "{why}"
    );

    // Everything deleted.
    exec(store, "DELETE FROM audit_log").await;
    assert_eq!(store.verify_audit().await.unwrap(), (0, None));
    let v = store.verify_audit_anchored(&anchors).await.unwrap();
    assert!(v.anchor.expect("found").contains("ends at entry 0"));
    assert_eq!(v.unaudited_dose_count, 3);

    // The whole table replaced by a chain computed afresh around a change:
    // every link holds, the checkpointed hash does not.
    restore(store).await;
    rechain_with_a_change(store).await;
    assert_eq!(store.verify_audit().await.unwrap().1, None);
    let v = store.verify_audit_anchored(&anchors).await.unwrap();
    let why = v.anchor.expect("the rewrite is found");
    assert!(
        why.contains(&format!("entry {at} does not match")) && why.contains("rewritten"),
        "{why}"
    );
    assert_eq!(v.unaudited_dose_count, 0);

    // One dose's entry gone from the middle: the link breaks and the dose
    // is named.
    restore(store).await;
    exec(
        store,
        &format!("DELETE FROM audit_log WHERE seq = {}", at - 1),
    )
    .await;
    let v = store.verify_audit_anchored(&anchors).await.unwrap();
    assert_eq!(v.broken.expect("a gap").seq, at);
    assert_eq!(v.unaudited_doses, vec![ids[0].clone()]);

    // Put back: intact again, and a checkpoint of a later head too.
    restore(store).await;
    let (seq, hash) = store.audit_head().await.unwrap();
    let mut later = anchors.to_vec();
    later.push(Anchor {
        seq,
        hash,
        label: "now".into(),
    });
    assert!(store.verify_audit_anchored(&later).await.unwrap().intact());
    exec(store, "DROP TABLE audit_saved").await;
    drop(writer);
    f.cleanup().await;
}
