//! The JSON the allocation, open-vial and ancillary-item routes answer with
//! (`api::allocation`), apart from the store's records as `api::types` is
//! for the registry's: each built `From` a record, with the record's field
//! names, so the bodies are what they were. Ratios and shortfalls are
//! core's `Ratio` and `Shortfall`, which carry their own schema.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_core::supply::ancillary::{ItemKind, Ratio, Shortfall};
use vaxgrid_store::allocation::Allocation;
use vaxgrid_store::items::{ItemOnHand as StoreItemOnHand, SupplyItem as StoreSupplyItem};
use vaxgrid_store::vials::OpenVialRow;

use super::supply_types::{rfc3339, shipments, Shipment};

/// An opened vial of a lot at a store (instants RFC 3339).
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenVial {
    pub id: String,
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    /// Doses the vials held when opened.
    pub doses: u64,
    /// Doses still in them now (0 once closed).
    pub doses_left: u64,
    pub opened_at: String,
    /// Doses must be taken before this instant.
    pub discard_at: String,
    /// Closed at the limit (then `wasted` doses were recorded as wastage).
    pub closed: bool,
    pub wasted: Option<u64>,
    /// The vial to take the next dose of this lot from.
    pub next: bool,
}

impl From<OpenVialRow> for OpenVial {
    fn from(v: OpenVialRow) -> OpenVial {
        OpenVial {
            id: v.id,
            store_code: v.store_code,
            product_code: v.product_code,
            lot_number: v.lot_number,
            doses: v.doses,
            doses_left: v.doses_left,
            opened_at: rfc3339(v.opened_at),
            discard_at: rfc3339(v.discard_at),
            closed: v.closed,
            wasted: v.wasted,
            next: v.next,
        }
    }
}

/// Open vials as the API lists them.
pub fn open_vials(list: Vec<OpenVialRow>) -> Vec<OpenVial> {
    list.into_iter().map(OpenVial::from).collect()
}

/// A store's open vials.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenVials {
    pub open_vials: Vec<OpenVial>,
}

/// The open vials of a site's own store (none without a store).
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteOpenVials {
    /// Null when the site has no store of its own.
    pub store_code: Option<String>,
    pub open_vials: Vec<OpenVial>,
}

/// An ancillary item (syringes, safety boxes).
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplyItem {
    pub code: String,
    pub name: String,
    pub kind: ItemKind,
}

impl From<StoreSupplyItem> for SupplyItem {
    fn from(i: StoreSupplyItem) -> SupplyItem {
        SupplyItem {
            code: i.code,
            name: i.name,
            kind: i.kind,
        }
    }
}

/// The ancillary items.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplyItems {
    pub items: Vec<SupplyItem>,
}

/// Pieces of an item on hand (at a store, or sent with a shipment).
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOnHand {
    pub item_code: String,
    pub on_hand: u64,
}

impl From<StoreItemOnHand> for ItemOnHand {
    fn from(i: StoreItemOnHand) -> ItemOnHand {
        ItemOnHand {
            item_code: i.item_code,
            on_hand: i.on_hand,
        }
    }
}

fn items_on_hand(list: Vec<StoreItemOnHand>) -> Vec<ItemOnHand> {
    list.into_iter().map(ItemOnHand::from).collect()
}

/// A store's ancillary items and what it lacks for its vaccine.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreItems {
    pub items: Vec<ItemOnHand>,
    pub shortfalls: Vec<Shortfall>,
}

impl StoreItems {
    pub fn new(items: Vec<StoreItemOnHand>, shortfalls: Vec<Shortfall>) -> StoreItems {
        StoreItems {
            items: items_on_hand(items),
            shortfalls,
        }
    }
}

/// A product's ratios of ancillary items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ratios {
    pub ratios: Vec<Ratio>,
}

/// A confirmed allocation: the shipments it dispatched and the ancillary
/// items each carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationConfirmed {
    pub id: String,
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: u64,
    pub doses: u64,
    pub shipments: Vec<Shipment>,
    /// Shipment id → the items sent with it.
    pub items: BTreeMap<String, Vec<ItemOnHand>>,
}

impl AllocationConfirmed {
    /// The allocation, and each shipment's items (by shipment id).
    pub fn new(
        a: Allocation,
        items: BTreeMap<String, Vec<StoreItemOnHand>>,
    ) -> AllocationConfirmed {
        AllocationConfirmed {
            id: a.id,
            from_store: a.from_store,
            product_code: a.product_code,
            lot_number: a.lot_number,
            vials: a.vials,
            doses: a.doses,
            shipments: shipments(a.shipments),
            items: items
                .into_iter()
                .map(|(k, v)| (k, items_on_hand(v)))
                .collect(),
        }
    }
}
