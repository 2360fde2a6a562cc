//! The supply's reports on both backends: stock on hand rolled up the area
//! tree, days of supply at the last 7 days' consumption, the wastage rate
//! by product and store, lots expiring soon, the stores holding a lot, and
//! the consumption counter equal to a recount of the ledger.

use crate::common;

use common::{fixture, on_both_backends};
use uuid::Uuid;
use vaxgrid_core::supply::ledger::{Movement, MovementKind, ReceiptSource, WastageReason};
use vaxgrid_store::model::Actor;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::supply::{NewMovement, NewStore};
use vaxgrid_store::{Store, StoreError};

on_both_backends!(the_supply_page_rolls_up_stock_and_consumption_from_counters,);

fn system() -> Actor {
    Actor::system("test")
}

async fn store_at(store: &Store, code: &str, area: &str, parent: Option<&str>, site: Option<&str>) {
    store
        .create_store(
            &NewStore {
                code: code.into(),
                name: format!("Kho {code}"),
                area_code: area.into(),
                parent_code: parent.map(Into::into),
                site_code: site.map(Into::into),
            },
            &system(),
        )
        .await
        .unwrap();
}

async fn record(store: &Store, at: &str, lot: (&str, &str), kind: MovementKind, quantity: u64) {
    store
        .record_movement(
            &NewMovement {
                store_code: at.into(),
                product_code: lot.0.into(),
                lot_number: lot.1.into(),
                movement: Movement {
                    id: Uuid::now_v7(),
                    kind,
                    quantity,
                },
            },
            &system(),
        )
        .await
        .unwrap();
}

fn receipt() -> MovementKind {
    MovementKind::Receipt {
        source: ReceiptSource::Covax,
        document: "COVAX-VN-2021-08".into(),
    }
}

fn wastage() -> MovementKind {
    MovementKind::Wastage {
        reason: WastageReason::Broken,
    }
}

fn limited(path: &str) -> Scope {
    Scope::Limited {
        paths: vec![path.into()],
        sites: Vec::new(),
        persons: Vec::new(),
    }
}

async fn the_supply_page_rolls_up_stock_and_consumption_from_counters(backend: &str) {
    let f = fixture(backend).await;
    let s = &f.store;
    store_at(s, "K22", "22", None, None).await;
    store_at(s, "K193", "193", Some("K22"), None).await;
    store_at(s, "K194", "194", Some("K22"), None).await;
    store_at(s, "KS06658", "06658", Some("K193"), Some("S06658")).await;
    store_at(s, "K06661", "06661", Some("K193"), None).await;
    const AZ: (&str, &str) = ("AZ", "AZ-1");
    record(s, "K22", AZ, receipt(), 1000).await;
    record(s, "K193", AZ, receipt(), 500).await;
    record(s, "K193", ("PFIZER", "PF-1"), receipt(), 200).await;
    record(s, "KS06658", AZ, receipt(), 100).await;
    record(s, "KS06658", ("AZ", "AZ-OLD"), receipt(), 40).await;
    record(s, "K194", AZ, receipt(), 300).await;
    // The site gives 63 and wastes 7 (10 a day over 7 days); the Móng
    // Cái store gives 80 and wastes 20 (a rate of 20 %).
    record(s, "KS06658", AZ, MovementKind::DoseGiven, 63).await;
    record(s, "KS06658", AZ, wastage(), 7).await;
    record(s, "K194", AZ, MovementKind::DoseGiven, 80).await;
    record(s, "K194", AZ, wastage(), 20).await;
    assert_eq!(s.check_stock().await.unwrap(), Vec::<String>::new());

    let d = s.supply_dashboard("22", 30, &Scope::All).await.unwrap();
    let az = d.area.by_product["AZ"];
    assert_eq!(az.on_hand, 1000 + 500 + 30 + 40 + 200);
    assert_eq!((az.given_recent, az.wasted_recent), (143, 27));
    assert_eq!(d.area.by_product["PFIZER"].on_hand, 200);
    assert_eq!(d.area.stores, 5);
    let codes: Vec<&str> = d.children.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["193", "194"]);
    assert_eq!(d.children[0].by_product["AZ"].on_hand, 500 + 30 + 40);
    assert_eq!(d.children[0].stores, 3);
    assert_eq!(d.children[1].by_product["AZ"].on_hand, 200);
    let stores: Vec<&str> = d.stores.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(stores, ["K22"], "the stores at the province itself");
    assert_eq!(d.stores[0].by_product["AZ"].on_hand, 1000);
    // Wastage by store, worst first.
    let worst: Vec<(&str, Option<f64>)> = d
        .wasteful
        .iter()
        .map(|w| (w.code.as_str(), w.by_product["AZ"].wastage_rate()))
        .collect();
    assert_eq!(worst, [("K194", Some(0.2)), ("KS06658", Some(0.1))]);
    // The expired lot still on hand is listed; the others expire in 2030.
    assert_eq!(d.expiring.len(), 1, "{:?}", d.expiring);
    assert_eq!(
        (
            d.expiring[0].lot_number.as_str(),
            d.expiring[0].on_hand,
            d.expiring[0].stores
        ),
        ("AZ-OLD", 40, 1)
    );
    assert!(d.excursions.is_empty());

    // A commune: its own stores, days of supply at 10 doses a day.
    let c = s.supply_dashboard("06658", 30, &Scope::All).await.unwrap();
    assert_eq!(c.ancestors.len(), 2);
    let site = &c.stores[0].by_product["AZ"];
    assert_eq!(site.on_hand, 70);
    assert_eq!(site.daily_use(), 10.0);
    assert_eq!(site.days_of_supply(), Some(7.0));
    let figures = s
        .store_stock_figures("KS06658", &limited("/22/193/"))
        .await
        .unwrap();
    assert_eq!(figures["AZ"].on_hand, 70);
    assert_eq!(figures["AZ"].days_of_supply(), Some(7.0));
    assert_eq!(figures["AZ"].wastage_rate(), Some(0.1));

    // Scope: another district's officer sees neither the province nor
    // the store.
    let other = limited("/22/194/");
    assert!(matches!(
        s.supply_dashboard("22", 30, &other).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(s.supply_dashboard("194", 30, &other).await.is_ok());
    assert!(matches!(
        s.store_stock_figures("KS06658", &other).await,
        Err(StoreError::NotFound { .. })
    ));
    let held: Vec<String> = s
        .lot_stores("AZ", "AZ-1", &limited("/22/193/"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.store_code)
        .collect();
    assert_eq!(held, ["K193", "KS06658"]);
    f.cleanup().await;
}
