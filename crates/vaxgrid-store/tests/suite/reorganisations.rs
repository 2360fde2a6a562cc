//! Reorganisations of the area tree (issue 16): merges, splits and moves
//! re-key persons, doses, counters and the rest; counters stay equal to a
//! recount, every person and dose stays reachable, bad changes write
//! nothing. Both backends.

use crate::common;

use std::collections::{BTreeMap, HashMap};

use common::{fixture, on_both_backends, person};
use time::macros::date;
use vaxgrid_core::area::{ancestor_at, province_of_path, AreaLevel};
use vaxgrid_core::area_reorg::{Change, SplitPart};
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::model::{Actor, NewArea};
use vaxgrid_store::reorganise::NewReorganisation;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::{Store, StoreError};

on_both_backends!(
    merges_splits_and_moves_follow_persons_doses_and_counters,
    orphans_cycles_and_bad_dates_are_refused_with_nothing_written,
    random_reorganisations_keep_counters_equal_to_a_recount,
    a_commune_of_ten_thousand_moves_in_one_transaction,
    targets_and_daily_targets_add_up_in_a_merge,
);

fn system() -> Actor {
    Actor::system("test")
}

fn on(change: Change) -> NewReorganisation {
    NewReorganisation {
        effective_on: date!(2025 - 07 - 01),
        reason: "Nghị quyết 202/2025/QH15".into(),
        change,
    }
}

fn mv(area: &str, parent: &str) -> Change {
    Change::Move {
        area: area.into(),
        parent_code: parent.into(),
    }
}

fn merge(sources: &[&str], into: &str) -> Change {
    Change::Merge {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        into: into.into(),
    }
}

fn area(code: &str, parent: Option<&str>, level: &str) -> NewArea {
    NewArea {
        code: code.into(),
        parent_code: parent.map(Into::into),
        level: AreaLevel::from(level),
        name: format!("Area {code}"),
        name_en: format!("Area {code}"),
    }
}

fn dose(person: &str, product: &str, lot: &str, on: time::Date) -> WriteCommand {
    WriteCommand::Dose(common::dose_request(
        &uuid::Uuid::now_v7().to_string(),
        person,
        product,
        lot,
        on,
    ))
}

/// Counters equal a recount; every person lives in an area that exists,
/// with its province and commune; every dose names a person and an area
/// that exist, in the area's province; each province's coverage counts
/// its persons.
async fn assert_whole(store: &Store, persons: usize, doses: usize) {
    assert_eq!(
        store.stored_counters().await.unwrap(),
        store.recount().await.unwrap(),
        "counters differ from a recount"
    );
    let areas = store.area_map().await.unwrap();
    let local = areas.levels.local_depth();
    let all = store.persons_after(None, 1_000_000).await.unwrap();
    assert_eq!(all.len(), persons, "persons lost or made");
    let mut by_province: BTreeMap<String, i64> = BTreeMap::new();
    for p in &all {
        let home = areas
            .get(&p.home_area)
            .unwrap_or_else(|| panic!("person {} lives in {}, which is gone", p.id, p.home_area));
        assert_eq!(p.province_code, province_of_path(&home.path), "{p:?}");
        assert_eq!(
            Some(p.commune_code.as_str()),
            ancestor_at(&home.path, local)
        );
        if p.merged_into.is_none() {
            *by_province.entry(p.province_code.clone()).or_default() += 1;
        }
    }
    let all_doses = store.doses_after(None, 1_000_000).await.unwrap();
    assert_eq!(all_doses.len(), doses, "doses lost or made");
    for d in &all_doses {
        let p = store.person(&d.person_id).await.expect("the dose's person");
        let a = areas
            .get(&d.area_code)
            .unwrap_or_else(|| panic!("dose {} names {}, which is gone", d.id, d.area_code));
        assert_eq!(d.province_code, province_of_path(&a.path));
        assert_eq!(d.province_code, p.province_code);
    }
    for (province, n) in by_province {
        let report = store.coverage(&province).await.unwrap();
        assert_eq!(report.area.total.population, n, "province {province}");
    }
}

async fn register(store: &Store, serial: u32, home: &str) -> String {
    store
        .create_person(person(serial, "Hoàng Văn Bình", home, &[]), &system())
        .await
        .unwrap_or_else(|e| panic!("register at {home}: {e}"))
        .person
        .id
}

async fn merges_splits_and_moves_follow_persons_doses_and_counters(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    // A second province: 23 > 231 > 23101 > 2310101.
    s.create_areas(
        vec![
            area("23", None, "province"),
            area("231", Some("23"), "district"),
            area("23101", Some("231"), "commune"),
            area("2310101", Some("23101"), "village"),
        ],
        "test",
    )
    .await
    .unwrap();
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let mut serial = 100;
    let mut ids = Vec::new();
    for home in [
        "0665801", "0665802", "06661", "06661", "0670001", "2310101", "23101",
    ] {
        serial += 1;
        ids.push(register(s, serial, home).await);
    }
    for (i, id) in ids.iter().enumerate() {
        let on = date!(2025 - 06 - 01) + time::Duration::days(i as i64 * 10);
        writer.submit(dose(id, "BIBP", "VN-1", on)).await.unwrap();
    }
    assert_whole(s, 7, 7).await;

    // Move commune 06661 (two persons) from district 193 to 194.
    let r = s
        .reorganise(on(mv("06661", "194")), &system())
        .await
        .unwrap();
    assert_eq!(s.area("06661").await.unwrap().path, "/22/194/06661/");
    assert_eq!(s.coverage("193").await.unwrap().area.total.population, 2);
    assert_eq!(s.coverage("194").await.unwrap().area.total.population, 3);
    // The event keeps the figures as they were: 193 held four persons, and
    // the doses of the days before the date.
    assert_eq!(r.before["193"]["population"], 4);
    assert_eq!(r.before["06661"]["population"], 2);
    assert_eq!(r.before["06661"]["doses_by_day"]["2025-06-21"], 1);
    assert_whole(s, 7, 7).await;

    // Merge 06661 into 06700: its persons, doses and counters join 06700.
    s.reorganise(on(merge(&["06661"], "06700")), &system())
        .await
        .unwrap();
    assert!(matches!(
        s.area("06661").await,
        Err(StoreError::NotFound { .. })
    ));
    let moved = s.person(&ids[2]).await.unwrap();
    assert_eq!(moved.home_area, "06700");
    assert_eq!(moved.commune_code, "06700");
    assert_eq!(s.coverage("06700").await.unwrap().area.total.population, 3);
    assert_whole(s, 7, 7).await;

    // Split commune 06658: a new commune 06659 takes village 0665802.
    s.reorganise(
        on(Change::Split {
            area: "06658".into(),
            parts: vec![SplitPart {
                code: "06659".into(),
                name: "Phường Mới".into(),
                name_en: None,
                children: vec!["0665802".into()],
            }],
        }),
        &system(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.area("0665802").await.unwrap().path,
        "/22/193/06659/0665802/"
    );
    assert_eq!(s.person(&ids[1]).await.unwrap().commune_code, "06659");
    assert_eq!(s.coverage("06659").await.unwrap().area.total.population, 1);
    assert_whole(s, 7, 7).await;

    // Provinces merge whole: 23 joins 22, its rows take 22's province.
    s.reorganise(on(merge(&["23"], "22")), &system())
        .await
        .unwrap();
    assert_eq!(s.area("231").await.unwrap().path, "/22/231/");
    let p = s.person(&ids[5]).await.unwrap();
    assert_eq!(p.province_code, "22");
    assert_eq!(s.coverage("22").await.unwrap().area.total.population, 7);
    assert_whole(s, 7, 7).await;

    // New persons and doses land in the new tree.
    let late = register(s, 900, "0665802").await;
    writer
        .submit(dose(&late, "BIBP", "VN-1", date!(2025 - 08 - 01)))
        .await
        .unwrap();
    assert_whole(s, 8, 8).await;
    let list = s.reorganisations(None, 50).await.unwrap();
    let kinds: Vec<&str> = list.items.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["move", "merge", "split", "merge"]);
    f.cleanup().await;
}

async fn orphans_cycles_and_bad_dates_are_refused_with_nothing_written(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    register(s, 1, "0665801").await;
    let tree_before = s.all_areas().await.unwrap();
    let counters_before = s.stored_counters().await.unwrap();
    let field = |e: StoreError| match e {
        StoreError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    // A cycle: a district under its own commune.
    let e = s.reorganise(on(mv("193", "06658")), &system()).await;
    assert_eq!(field(e.unwrap_err()), "change.parent_code");
    // An orphan: a split taking a village that is not the commune's.
    let e = s
        .reorganise(
            on(Change::Split {
                area: "06658".into(),
                parts: vec![SplitPart {
                    code: "06659".into(),
                    name: "X".into(),
                    name_en: None,
                    children: vec!["0670001".into()],
                }],
            }),
            &system(),
        )
        .await;
    assert_eq!(field(e.unwrap_err()), "change.parts[0].children[0]");
    // An orphan: a district merged into a commune would leave its communes
    // at the wrong level.
    let e = s.reorganise(on(merge(&["194"], "06658")), &system()).await;
    assert_eq!(field(e.unwrap_err()), "change.sources[0]");
    let e = s.reorganise(on(mv("06658", "nope")), &system()).await;
    assert_eq!(field(e.unwrap_err()), "change.parent_code");
    let mut late = on(mv("06661", "194"));
    late.effective_on = vaxgrid_store::today() + time::Duration::days(1);
    assert_eq!(
        field(s.reorganise(late, &system()).await.unwrap_err()),
        "effective_on"
    );
    let mut unexplained = on(mv("06661", "194"));
    unexplained.reason = " ".into();
    assert_eq!(
        field(s.reorganise(unexplained, &system()).await.unwrap_err()),
        "reason"
    );
    assert_eq!(s.all_areas().await.unwrap(), tree_before);
    assert_eq!(s.stored_counters().await.unwrap(), counters_before);
    assert!(s.reorganisations(None, 10).await.unwrap().items.is_empty());
    f.cleanup().await;
}

/// A random tree of two provinces, persons and doses, then random merges,
/// splits and moves; after each, the store is whole (`assert_whole`).
async fn random_reorganisations_keep_counters_equal_to_a_recount(backend: &str) {
    let seed = std::env::var("REORG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("REORG_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = fixture(backend).await;
    let s = &f.store;
    let mut news = vec![area("23", None, "province")];
    for d in 0..2 {
        let dc = format!("23{d}");
        news.push(area(&dc, Some("23"), "district"));
        for c in 0..2 {
            let cc = format!("{dc}{c}");
            news.push(area(&cc, Some(&dc), "commune"));
            for v in 0..2 {
                news.push(area(&format!("{cc}{v}"), Some(&cc), "village"));
            }
        }
    }
    s.create_areas(news, "test").await.unwrap();
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let (mut persons, mut doses) = (0, 0);
    let mut serial = 1000;
    let mut next_code = 0;
    let homes = |s: &Store| {
        let s = s.clone();
        async move {
            let m = s.area_map().await.unwrap();
            let local = m.levels.local_depth();
            let mut v: Vec<String> = m
                .values()
                .filter(|a| a.depth() >= local)
                .map(|a| a.code.clone())
                .collect();
            v.sort();
            v
        }
    };
    for round in 0..10 {
        // A few persons and doses in random homes.
        let here = homes(s).await;
        for _ in 0..4 {
            serial += 1;
            let home = &here[rng.usize(..here.len())];
            let id = register(s, serial, home).await;
            persons += 1;
            if rng.bool() {
                let on = date!(2025 - 01 - 01) + time::Duration::days(rng.i64(0..200));
                let product = if rng.bool() { "BIBP" } else { "AZ" };
                let lot = if product == "BIBP" { "VN-1" } else { "AZ-1" };
                writer.submit(dose(&id, product, lot, on)).await.unwrap();
                doses += 1;
            }
        }
        // One random reorganisation among those the tree allows.
        let tree = s.area_map().await.unwrap();
        let mut by_depth: HashMap<usize, Vec<&vaxgrid_store::model::Area>> = HashMap::new();
        for a in tree.values() {
            by_depth.entry(a.depth()).or_default().push(a);
        }
        for v in by_depth.values_mut() {
            v.sort_by(|a, b| a.code.cmp(&b.code));
        }
        let depth = rng.usize(1..4);
        let level = &by_depth[&depth];
        let change = match rng.usize(0..3) {
            0 if level.len() > 1 => {
                let into = level[rng.usize(..level.len())];
                let same: Vec<_> = level
                    .iter()
                    .filter(|a| {
                        a.code != into.code
                            && (province_of_path(&a.path) == province_of_path(&into.path))
                    })
                    .collect();
                if same.is_empty() {
                    continue;
                }
                merge(&[same[rng.usize(..same.len())].code.as_str()], &into.code)
            }
            1 => {
                let a = level[rng.usize(..level.len())];
                let children: Vec<String> = tree
                    .values()
                    .filter(|c| c.parent_code.as_deref() == Some(a.code.as_str()))
                    .map(|c| c.code.clone())
                    .filter(|_| rng.bool())
                    .collect();
                next_code += 1;
                Change::Split {
                    area: a.code.clone(),
                    parts: vec![SplitPart {
                        code: format!("N{next_code}"),
                        name: format!("Mới {next_code}"),
                        name_en: None,
                        children,
                    }],
                }
            }
            _ => {
                let a = level[rng.usize(..level.len())];
                let parents: Vec<_> = by_depth[&(depth - 1)]
                    .iter()
                    .filter(|p| {
                        Some(p.code.as_str()) != a.parent_code.as_deref()
                            && province_of_path(&p.path) == province_of_path(&a.path)
                    })
                    .collect();
                if parents.is_empty() {
                    continue;
                }
                mv(&a.code, &parents[rng.usize(..parents.len())].code)
            }
        };
        s.reorganise(on(change.clone()), &system())
            .await
            .unwrap_or_else(|e| panic!("round {round}: {change:?}: {e}"));
        assert_whole(s, persons, doses).await;
    }
    // At last the provinces merge.
    s.reorganise(on(merge(&["23"], "22")), &system())
        .await
        .unwrap();
    assert_whole(s, persons, doses).await;
    f.cleanup().await;
}

/// A commune of 10,000 persons (with their doses' counters) moves to
/// another district: one transaction; the time is printed for the notes.
async fn a_commune_of_ten_thousand_moves_in_one_transaction(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    let rows: Vec<_> = (0..10_000u32)
        .map(|i| {
            let home = if i % 2 == 0 { "0665801" } else { "0665802" };
            person(10_000 + i, "Đỗ Thị Hoa", home, &[])
        })
        .collect();
    let (placed, errors) = s.check_people(rows).await.unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    s.insert_people(&placed, "test", |_| {}).await.unwrap();
    let writer =
        DoseWriter::spawn(s.clone(), WriterConfig::default()).expect("the dose writer starts");
    let mut pending = Vec::new();
    for p in placed.iter().take(2_000) {
        let w = writer.clone();
        let id = p.new.id.clone();
        pending.push(tokio::spawn(async move {
            w.submit(dose(&id, "BIBP", "VN-1", date!(2025 - 06 - 01)))
                .await
        }));
    }
    for p in pending {
        p.await.unwrap().unwrap();
    }
    let started = std::time::Instant::now();
    s.reorganise(on(mv("06658", "194")), &system())
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!(
        "{backend}: moving a commune of 10,000 persons took {:.1} ms",
        took.as_secs_f64() * 1000.0
    );
    assert_eq!(
        s.coverage("194").await.unwrap().area.total.population,
        10_000
    );
    assert_whole(s, 10_000, 2_000).await;
    f.cleanup().await;
}

/// Every column naming an area, a path or a province is one a
/// reorganisation rewrites (`reorganise::handled_columns`): a table added
/// later with such a column fails here until the reorganisation follows it.
#[tokio::test]
async fn every_area_path_and_province_column_is_rewritten() {
    use sqlx::Row;
    let f = fixture("sqlite").await;
    let handled = vaxgrid_store::reorganise::handled_columns();
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(f.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("name"))
    .collect();
    let mut missing = Vec::new();
    for table in &tables {
        let columns: Vec<String> =
            sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(f.store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("name"))
                .collect();
        for c in columns {
            let names_a_place = matches!(
                c.as_str(),
                "area_code"
                    | "area_path"
                    | "province_code"
                    | "home_area"
                    | "commune_code"
                    | "village_code"
            ) || (table == "areas" && (c == "path" || c == "parent_code"));
            if names_a_place && !handled.contains(&(table.as_str(), c.as_str())) {
                missing.push(format!("{table}.{c}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "columns a reorganisation leaves behind: {missing:?}"
    );
    f.cleanup().await;
}

/// A campaign's targets follow a merge: the merged district's part of the
/// target and its daily dose target are added to the survivor's, so the
/// plan still sums to its whole.
async fn targets_and_daily_targets_add_up_in_a_merge(backend: &str) {
    use sqlx::Row;
    use vaxgrid_store::campaigns::{NewCampaign, TargetBasis};
    let f = fixture(backend).await;
    let s = &f.store;
    for (i, home) in ["0665801", "0665802", "0670001", "0670001"]
        .iter()
        .enumerate()
    {
        register(s, 300 + i as u32, home).await;
    }
    let campaign = s
        .create_campaign(
            &NewCampaign {
                id: uuid::Uuid::now_v7().to_string(),
                name: "Toàn dân".into(),
                disease: "COVID-19".into(),
                area_code: "22".into(),
                products: vec!["AZ".into()],
                priority_groups: Vec::new(),
                target_percent_tenths: 0,
                target_people: Some(4),
                target_basis: TargetBasis::Population,
                target_date: vaxgrid_store::today() + time::Duration::days(30),
                min_age_years: 18,
                history_reason: None,
            },
            &system(),
        )
        .await
        .unwrap();
    s.decompose_targets(&campaign.id, "22", Vec::new(), &system())
        .await
        .unwrap();
    for area in ["193", "194"] {
        s.set_daily_target(&campaign.id, area, 2, &system())
            .await
            .unwrap();
    }
    s.reorganise(on(merge(&["193"], "194")), &system())
        .await
        .unwrap();
    let read = |table: &'static str, column: &'static str| {
        let pool = s.pool().clone();
        let id = campaign.id.clone();
        async move {
            let sql = format!(
                "SELECT area_code, {column} AS n FROM {table} WHERE campaign_id = $1 ORDER BY area_code"
            );
            sqlx::query(&sql)
                .bind(id)
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<String, _>("area_code"), r.get::<i64, _>("n")))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        read("area_targets", "people").await,
        [("194".to_string(), 4), ("22".to_string(), 4)]
    );
    assert_eq!(
        read("daily_dose_targets", "doses_per_day").await,
        [("194".to_string(), 4)]
    );
    assert_whole(s, 4, 0).await;
    f.cleanup().await;
}
