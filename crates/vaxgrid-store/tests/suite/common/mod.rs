//! Fixture shared by the store tests: a small area tree, products, lots,
//! sites and persons, on a scratch database of either backend.
#![allow(dead_code)]

use time::macros::date;
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::model::{Lot, NewArea, NewPerson, Site, SiteKind};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

pub struct Fixture {
    pub store: Store,
    pub scratch: Scratch,
}

impl Fixture {
    pub async fn cleanup(self) {
        self.store.close().await;
        self.scratch.cleanup().await;
    }
}

fn area(code: &str, parent: Option<&str>, level: AreaLevel, name: &str) -> NewArea {
    NewArea {
        code: code.into(),
        parent_code: parent.map(Into::into),
        level,
        name: name.into(),
        name_en: name.into(),
    }
}

/// Province 22 > districts 193 (communes 06658 with villages 0665801/0665802,
/// and 06661) and 194 (commune 06700 with village 0670001).
pub async fn fixture(backend: &str) -> Fixture {
    let scratch = Scratch::of(backend).await.unwrap_or_else(|e| {
        panic!("{backend} is required for this test and is not reachable: {e}")
    });
    let store = Store::open(&scratch.url)
        .await
        .expect("open scratch database");
    store
        .create_areas(
            vec![
                area("22", None, AreaLevel::from("province"), "Quảng Ninh"),
                area("193", Some("22"), AreaLevel::from("district"), "Hạ Long"),
                area("06658", Some("193"), AreaLevel::from("commune"), "Hồng Gai"),
                area(
                    "0665801",
                    Some("06658"),
                    AreaLevel::from("village"),
                    "Khu 1",
                ),
                area(
                    "0665802",
                    Some("06658"),
                    AreaLevel::from("village"),
                    "Khu 2",
                ),
                area(
                    "06661",
                    Some("193"),
                    AreaLevel::from("commune"),
                    "Bạch Đằng",
                ),
                area("194", Some("22"), AreaLevel::from("district"), "Móng Cái"),
                area("06700", Some("194"), AreaLevel::from("commune"), "Ka Long"),
                area(
                    "0670001",
                    Some("06700"),
                    AreaLevel::from("village"),
                    "Thôn 1",
                ),
            ],
            "test",
        )
        .await
        .expect("areas");
    store.seed_standard_products().await.expect("products");
    for (product, number, expiry, status) in [
        ("AZ", "AZ-1", "2030-12-31", LotStatus::Released),
        ("AZ", "AZ-OLD", "2021-01-31", LotStatus::Released),
        ("AZ", "AZ-RECALLED", "2030-12-31", LotStatus::Recalled),
        ("PFIZER", "PF-1", "2030-12-31", LotStatus::Released),
        ("BIBP", "VN-1", "2030-12-31", LotStatus::Released),
    ] {
        store
            .create_lot(
                &Lot {
                    product_code: product.into(),
                    lot_number: number.into(),
                    expiry: expiry.into(),
                    status,
                    doses: 1000,
                },
                "test",
            )
            .await
            .expect("lot");
    }
    for (code, area) in [("S06658", "06658"), ("S06700", "06700")] {
        store
            .create_site(
                &Site {
                    code: code.into(),
                    name: format!("Trạm Y tế {area}"),
                    kind: SiteKind::CommuneHealthStation,
                    area_code: area.into(),
                    stations: 2,
                    daily_capacity: 200,
                },
                "test",
            )
            .await
            .expect("site");
    }
    Fixture { store, scratch }
}

/// A dose of `product` `lot` to `person` at site S06658, given on `on`
/// by vac-1 and recorded by the system; `id` is its idempotency id.
pub fn dose_request(
    id: &str,
    person: &str,
    product: &str,
    lot: &str,
    on: time::Date,
) -> vaxgrid_store::model::DoseRequest {
    vaxgrid_store::model::DoseRequest {
        id: id.into(),
        person_id: person.into(),
        product_code: product.into(),
        lot_number: lot.into(),
        site_code: "S06658".into(),
        administered_on: on,
        dose_number: None,
        vaccinator: Some("vac-1".into()),
        override_reason: None,
        historical: false,
        requires_certificate: None,
        by: vaxgrid_store::model::Actor::system("test"),
    }
}

/// A valid CCCD for a man born in 1980 with the given serial.
pub fn cccd(serial: u32) -> String {
    format!("022080{serial:06}")
}

pub fn person(serial: u32, name: &str, home: &str, groups: &[&str]) -> NewPerson {
    NewPerson {
        id: uuid::Uuid::now_v7().to_string(),
        id_type: IdType::Cccd,
        id_number: cccd(serial),
        full_name: name.into(),
        birth_date: date!(1980 - 05 - 17),
        sex: Sex::Male,
        phone: Some(format!("09{serial:08}")),
        home_area: home.into(),
        occupation: None,
        priority_groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name("sqlite").await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name("postgres").await
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;
