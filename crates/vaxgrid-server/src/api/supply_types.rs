//! The JSON the stock and cold-chain routes answer with (`api::supply`),
//! apart from the store's records as `api::types` is for the registry's:
//! each built `From` a record, with the record's field names, so the bodies
//! are what they were. A ledger movement is core's `Movement` as it
//! serialises (its kind's facts flattened beside id and quantity).

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;
use vaxgrid_core::supply::cold_chain::ExcursionKind as CoreExcursionKind;
use vaxgrid_core::supply::ledger::{Movement, ShipmentStatus as CoreShipmentStatus};
use vaxgrid_store::cold_chain::{ReadingsOutcome, StoredExcursion, StoredReading};
use vaxgrid_store::supply as store;

/// RFC 3339, as the API writes instants.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// A vaccine store.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockStore {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub area_path: String,
    /// The store that supplies this one.
    pub parent_code: Option<String>,
    /// The vaccination site whose own stock this is.
    pub site_code: Option<String>,
    pub province_code: String,
}

impl From<store::StockStore> for StockStore {
    fn from(s: store::StockStore) -> StockStore {
        StockStore {
            code: s.code,
            name: s.name,
            area_code: s.area_code,
            area_path: s.area_path,
            parent_code: s.parent_code,
            site_code: s.site_code,
            province_code: s.province_code,
        }
    }
}

/// The stores in the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockStores {
    pub stores: Vec<StockStore>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    Refrigerator,
    Freezer,
    ColdBox,
    VaccineCarrier,
}

impl From<store::EquipmentKind> for EquipmentKind {
    fn from(k: store::EquipmentKind) -> EquipmentKind {
        match k {
            store::EquipmentKind::Refrigerator => EquipmentKind::Refrigerator,
            store::EquipmentKind::Freezer => EquipmentKind::Freezer,
            store::EquipmentKind::ColdBox => EquipmentKind::ColdBox,
            store::EquipmentKind::VaccineCarrier => EquipmentKind::VaccineCarrier,
        }
    }
}

/// A piece of cold-chain equipment of a store.
#[derive(Debug, Serialize, ToSchema)]
pub struct Equipment {
    pub id: String,
    pub store_code: String,
    pub kind: EquipmentKind,
    /// The allowed range in tenths of °C.
    pub min_tenths: i32,
    pub max_tenths: i32,
    pub capacity_doses: Option<u64>,
    pub working: bool,
}

impl From<store::Equipment> for Equipment {
    fn from(e: store::Equipment) -> Equipment {
        Equipment {
            id: e.id,
            store_code: e.store_code,
            kind: e.kind.into(),
            min_tenths: e.min_tenths,
            max_tenths: e.max_tenths,
            capacity_doses: e.capacity_doses,
            working: e.working,
        }
    }
}

/// A store with its equipment.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreWithEquipment {
    pub store: StockStore,
    pub equipment: Vec<Equipment>,
}

/// A lot's state for the cold chain: its status, why, and its last vaccine
/// vial monitor stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct LotHold {
    pub product_code: String,
    pub lot_number: String,
    /// YYYY-MM-DD
    pub expiry: String,
    /// released, quarantined or recalled
    pub status: String,
    pub status_reason: Option<String>,
    pub vvm_stage: Option<u8>,
}

impl From<store::LotHold> for LotHold {
    fn from(h: store::LotHold) -> LotHold {
        LotHold {
            product_code: h.product_code,
            lot_number: h.lot_number,
            expiry: h.expiry,
            status: h.status,
            status_reason: h.status_reason,
            vvm_stage: h.vvm_stage,
        }
    }
}

/// A lot on hand at a store, with its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockLot {
    /// Doses on hand.
    pub on_hand: u64,
    #[serde(flatten)]
    pub lot: LotHold,
}

/// The stock on hand of a store, by lot.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreStock {
    pub store_code: String,
    pub lots: Vec<StockLot>,
}

/// One line of a store's ledger, as read back. The doses given at the
/// store's site are one `dose_given` line per product, lot and UTC day
/// (the day's doses so far; each dose's record is its own line).
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementRecord {
    /// The movement's UUID, or `doses-given:<day>:<product>:<lot>` for a
    /// day's line of doses given.
    pub id: String,
    pub store_code: String,
    pub product_code: String,
    pub lot_number: String,
    pub kind: String,
    pub quantity: u64,
    /// The signed change to the on-hand.
    pub delta: i64,
    /// The kind's facts.
    pub details: serde_json::Value,
    pub actor: String,
    /// Microseconds since the epoch.
    pub recorded_at: i64,
}

impl From<store::MovementRecord> for MovementRecord {
    fn from(m: store::MovementRecord) -> MovementRecord {
        MovementRecord {
            id: m.id,
            store_code: m.store_code,
            product_code: m.product_code,
            lot_number: m.lot_number,
            kind: m.kind,
            quantity: m.quantity,
            delta: m.delta,
            details: m.details,
            actor: m.actor,
            recorded_at: m.recorded_at,
        }
    }
}

/// A store's ledger, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Movements {
    pub movements: Vec<MovementRecord>,
}

/// A movement recorded (null for a count that agrees) and the on-hand after.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementMade {
    /// {id, kind, quantity, and the kind's facts}
    #[schema(value_type = Option<Object>)]
    pub movement: Option<Movement>,
    pub on_hand: u64,
}

/// Where a shipment between two stores stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    Dispatched,
    InTransit,
    Received,
}

impl From<CoreShipmentStatus> for ShipmentStatus {
    fn from(s: CoreShipmentStatus) -> ShipmentStatus {
        match s {
            CoreShipmentStatus::Dispatched => ShipmentStatus::Dispatched,
            CoreShipmentStatus::InTransit => ShipmentStatus::InTransit,
            CoreShipmentStatus::Received => ShipmentStatus::Received,
        }
    }
}

/// A shipment of one lot from a store to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shipment {
    pub id: String,
    pub from_store: String,
    pub to_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub dispatched: u64,
    pub received: Option<u64>,
    pub status: ShipmentStatus,
    pub discrepancy_reason: Option<String>,
}

impl From<store::Shipment> for Shipment {
    fn from(s: store::Shipment) -> Shipment {
        Shipment {
            id: s.id,
            from_store: s.from_store,
            to_store: s.to_store,
            product_code: s.product_code,
            lot_number: s.lot_number,
            dispatched: s.dispatched,
            received: s.received,
            status: s.status.into(),
            discrepancy_reason: s.discrepancy_reason,
        }
    }
}

/// Shipments as the API lists them.
pub fn shipments(list: Vec<store::Shipment>) -> Vec<Shipment> {
    list.into_iter().map(Shipment::from).collect()
}

/// A dose given from a lot: who got it, where and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct DosedFromLot {
    pub person_id: String,
    pub full_name: String,
    pub dose_id: String,
    pub dose_number: i64,
    pub site_code: String,
    /// YYYY-MM-DD
    pub administered_on: String,
}

impl From<store::DosedFromLot> for DosedFromLot {
    fn from(d: store::DosedFromLot) -> DosedFromLot {
        DosedFromLot {
            person_id: d.person_id,
            full_name: d.full_name,
            dose_id: d.dose_id,
            dose_number: d.dose_number,
            site_code: d.site_code,
            administered_on: d.administered_on,
        }
    }
}

/// The persons dosed from a lot (for a recall).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonsDosed {
    pub product_code: String,
    pub lot_number: String,
    pub persons: Vec<DosedFromLot>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExcursionKind {
    /// Above the range.
    Heat,
    /// Below the range.
    Freeze,
    /// Both during one excursion.
    Both,
}

impl From<CoreExcursionKind> for ExcursionKind {
    fn from(k: CoreExcursionKind) -> ExcursionKind {
        match k {
            CoreExcursionKind::Heat => ExcursionKind::Heat,
            CoreExcursionKind::Freeze => ExcursionKind::Freeze,
            CoreExcursionKind::Both => ExcursionKind::Both,
        }
    }
}

/// A temperature excursion of a piece of equipment, with the lots it
/// quarantined (instants RFC 3339).
#[derive(Debug, Serialize, ToSchema)]
pub struct Excursion {
    pub id: String,
    pub equipment_id: String,
    pub store_code: String,
    pub kind: ExcursionKind,
    pub started_at: String,
    /// The first reading back in range; null while it lasts.
    pub ended_at: Option<String>,
    /// The last reading seen out of range.
    pub last_out_at: String,
    pub min_tenths: i32,
    pub max_tenths: i32,
    pub readings: u32,
    pub duration_minutes: i64,
    /// `product_code/lot_number` of each lot quarantined when it opened.
    pub lots: Vec<String>,
    pub description: String,
}

impl From<StoredExcursion> for Excursion {
    fn from(e: StoredExcursion) -> Excursion {
        Excursion {
            id: e.id,
            equipment_id: e.equipment_id,
            store_code: e.store_code,
            kind: e.excursion.kind.into(),
            started_at: rfc3339(e.excursion.started_at),
            ended_at: e.excursion.ended_at.map(rfc3339),
            last_out_at: rfc3339(e.excursion.last_out_at),
            min_tenths: e.excursion.min_tenths,
            max_tenths: e.excursion.max_tenths,
            readings: e.excursion.readings,
            duration_minutes: e.duration_minutes,
            lots: e.lots,
            description: e.description,
        }
    }
}

/// Excursions as the API lists them.
pub fn excursions(list: Vec<StoredExcursion>) -> Vec<Excursion> {
    list.into_iter().map(Excursion::from).collect()
}

/// The excursions still open.
#[derive(Debug, Serialize, ToSchema)]
pub struct Excursions {
    pub excursions: Vec<Excursion>,
}

/// What a batch of readings did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingsRecorded {
    pub equipment_id: String,
    pub accepted: usize,
    /// The excursions opened, continued or closed by these readings.
    pub excursions: Vec<Excursion>,
    /// Lots quarantined by these readings (`product_code/lot_number`).
    pub quarantined: Vec<String>,
}

impl From<ReadingsOutcome> for ReadingsRecorded {
    fn from(o: ReadingsOutcome) -> ReadingsRecorded {
        ReadingsRecorded {
            equipment_id: o.equipment_id,
            accepted: o.accepted,
            excursions: excursions(o.excursions),
            quarantined: o.quarantined,
        }
    }
}

/// A temperature reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reading {
    /// RFC 3339
    pub at: String,
    /// Tenths of °C.
    pub tenths: i32,
}

impl From<StoredReading> for Reading {
    fn from(r: StoredReading) -> Reading {
        Reading {
            at: rfc3339(r.at),
            tenths: r.tenths,
        }
    }
}

/// A piece of equipment's readings and excursions over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct EquipmentReadings {
    pub equipment: Equipment,
    pub readings: Vec<Reading>,
    pub excursions: Vec<Excursion>,
}
