//! Configured area levels (issue 16): trees of three and five levels on
//! both backends, persons registered at the leaves, coverage rolled up.

use crate::common;

use common::{on_both_backends, person};
use time::macros::date;
use vaxgrid_core::area::{AreaLevel, AreaLevels, LevelDef};
use vaxgrid_core::dose::LotStatus;
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::model::{Actor, DoseRequest, Lot, NewArea, Site, SiteKind};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::{Store, StoreError};

on_both_backends!(
    five_levels_register_at_the_leaves_and_roll_up,
    three_levels_register_at_the_leaves_and_roll_up,
    levels_are_checked_and_areas_must_fit,
);

fn system() -> Actor {
    Actor::system("test")
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

/// An empty store with `levels`, products, a lot and a site at `site_area`
/// once `areas` are made.
async fn store_with(
    backend: &str,
    levels: AreaLevels,
    areas: Vec<NewArea>,
    site_area: &str,
) -> (Store, Scratch) {
    let scratch = Scratch::of(backend).await.unwrap_or_else(|e| {
        panic!("{backend} is required for this test and is not reachable: {e}")
    });
    let store = Store::open(&scratch.url).await.expect("open");
    store.set_area_levels(levels, "test").await.expect("levels");
    store.create_areas(areas, "test").await.expect("areas");
    store.seed_standard_products().await.expect("products");
    store
        .create_lot(
            &Lot {
                product_code: "BIBP".into(),
                lot_number: "VN-1".into(),
                expiry: "2030-12-31".into(),
                status: LotStatus::Released,
                doses: 1000,
            },
            "test",
        )
        .await
        .expect("lot");
    store
        .create_site(
            &Site {
                code: "S1".into(),
                name: "Trạm".into(),
                kind: SiteKind::CommuneHealthStation,
                area_code: site_area.into(),
                stations: 2,
                daily_capacity: 200,
            },
            "test",
        )
        .await
        .expect("site");
    (store, scratch)
}

/// Registers `n` persons at each home, doses every other one, and checks
/// the counters against a recount. Answers each person's (home, commune).
async fn register_and_dose(store: &Store, homes: &[(&str, u32)]) -> Vec<(String, String)> {
    let mut placed = Vec::new();
    let writer =
        DoseWriter::spawn(store.clone(), WriterConfig::default()).expect("the dose writer starts");
    let mut serial = 500;
    for (home, n) in homes {
        for k in 0..*n {
            serial += 1;
            let p = store
                .create_person(person(serial, "Lưu Văn An", home, &[]), &system())
                .await
                .unwrap_or_else(|e| panic!("register at {home}: {e}"))
                .person;
            placed.push((p.home_area.clone(), p.commune_code.clone()));
            if k % 2 == 0 {
                writer
                    .submit(WriteCommand::Dose(DoseRequest {
                        site_code: "S1".into(),
                        ..common::dose_request(
                            &uuid::Uuid::now_v7().to_string(),
                            &p.id,
                            "BIBP",
                            "VN-1",
                            date!(2021 - 06 - 01),
                        )
                    }))
                    .await
                    .unwrap();
            }
        }
    }
    assert_eq!(
        store.stored_counters().await.unwrap(),
        store.recount().await.unwrap()
    );
    placed
}

async fn five_levels_register_at_the_leaves_and_roll_up(backend: &str) {
    let (store, scratch) = store_with(
        backend,
        AreaLevels::china(),
        vec![
            area("44", None, "province"),
            area("4401", Some("44"), "prefecture"),
            area("440106", Some("4401"), "county"),
            area("440106001", Some("440106"), "township"),
            area("440106001001", Some("440106001"), "village"),
            area("440106001002", Some("440106001"), "village"),
            area("440106002", Some("440106"), "township"),
            area("440106002001", Some("440106002"), "village"),
        ],
        "440106001",
    )
    .await;
    let county = store.area("440106").await.unwrap();
    assert_eq!(county.level.as_str(), "county");
    assert_eq!(county.depth(), 2);
    // A county is above the township: nobody lives there directly.
    let refused = store
        .create_person(person(1, "Lưu Văn An", "440106", &[]), &system())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid { field, .. } if field == "home_area"),
        "{refused:?}"
    );
    // A village under a county is refused, naming the parent.
    let refused = store
        .create_area(area("4401069", Some("440106"), "village"), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid { field, .. } if field == "parent_code"),
        "{refused:?}"
    );
    let placed = register_and_dose(
        &store,
        &[
            ("440106001001", 3),
            ("440106001002", 2),
            ("440106002001", 4),
            ("440106002", 1),
        ],
    )
    .await;
    // The commune is the township: the village's parent, or the township
    // itself.
    for (home, commune) in &placed {
        let expected = if home.len() == 12 {
            &home[..9]
        } else {
            home.as_str()
        };
        assert_eq!(commune, expected);
    }
    let county = store.coverage("440106").await.unwrap();
    assert_eq!(county.area.total.population, 10);
    assert_eq!(county.area.total.at_least_one, 2 + 1 + 2 + 1);
    let townships: Vec<(String, i64)> = county
        .children
        .iter()
        .map(|c| (c.area_code.clone(), c.total.population))
        .collect();
    assert_eq!(
        townships,
        vec![("440106001".into(), 5), ("440106002".into(), 5)]
    );
    let province = store.coverage("44").await.unwrap();
    assert_eq!(province.area.total.population, 10);
    assert_eq!(province.children[0].total.population, 10);
    store.close().await;
    scratch.cleanup().await;
}

async fn three_levels_register_at_the_leaves_and_roll_up(backend: &str) {
    let (store, scratch) = store_with(
        backend,
        AreaLevels::vietnam_2025(),
        vec![
            area("22", None, "province"),
            area("26734", Some("22"), "commune"),
            area("2673401", Some("26734"), "village"),
            area("2673402", Some("26734"), "village"),
            area("26740", Some("22"), "commune"),
            area("2674001", Some("26740"), "village"),
        ],
        "26734",
    )
    .await;
    // No district level any more: a district is refused naming the level.
    let refused = store
        .create_area(area("193", Some("22"), "district"), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid { field, .. } if field == "level"),
        "{refused:?}"
    );
    let placed = register_and_dose(
        &store,
        &[("2673401", 3), ("2673402", 1), ("26740", 2), ("2674001", 2)],
    )
    .await;
    for (home, commune) in &placed {
        assert_eq!(commune, &home[..5]);
    }
    let province = store.coverage("22").await.unwrap();
    assert_eq!(province.area.total.population, 8);
    let communes: Vec<(String, i64, i64)> = province
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
        communes,
        vec![("26734".into(), 4, 3), ("26740".into(), 4, 2)]
    );
    store.close().await;
    scratch.cleanup().await;
}

async fn levels_are_checked_and_areas_must_fit(backend: &str) {
    let f = common::fixture(backend).await;
    // The default tree: Việt Nam's four levels.
    assert_eq!(f.store.area_levels().await.unwrap(), AreaLevels::default());
    // The fixture's tree is four deep: three levels cannot hold it.
    let refused = f
        .store
        .set_area_levels(AreaLevels::vietnam_2025(), "test")
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid { field, .. } if field == "levels"),
        "{refused:?}"
    );
    assert_eq!(f.store.area_levels().await.unwrap(), AreaLevels::default());
    // Five levels hold it: each area keeps its depth and takes its key.
    f.store
        .set_area_levels(AreaLevels::china(), "test")
        .await
        .unwrap();
    assert_eq!(
        f.store.area("193").await.unwrap().level.as_str(),
        "prefecture"
    );
    assert_eq!(
        f.store.area("06658").await.unwrap().level.as_str(),
        "county"
    );
    // Keys trading depths: renamed back, every area follows.
    let renamed = AreaLevels::new(vec![
        LevelDef::new("province", "Tỉnh", "省", "Provinces"),
        LevelDef::new("county", "Huyện", "县", "Counties"),
        LevelDef::new("prefecture", "Xã", "乡", "Communes"),
        LevelDef::new("village", "Thôn", "村", "Villages"),
    ])
    .unwrap();
    f.store.set_area_levels(renamed, "test").await.unwrap();
    assert_eq!(f.store.area("193").await.unwrap().level.as_str(), "county");
    assert_eq!(
        f.store.area("06658").await.unwrap().level.as_str(),
        "prefecture"
    );
    assert_eq!(
        f.store.area("0665801").await.unwrap().level.as_str(),
        "village"
    );
    f.cleanup().await;
}
