//! /api/v1/stores, /api/v1/equipment, /api/v1/shipments and the lots' cold
//! chain: vaccine stores following the area tree, their equipment, the
//! append-only stock ledger (receipts, discards, wastage, counts,
//! adjustments, vials opened), shipments between stores, stock on hand,
//! quarantine / release / recall of a lot, and the persons dosed from a lot.
//!
//! A store is seen and moved only by roles on its area (`ReadStock`,
//! `ManageStock`); one outside the caller's areas is answered as absent.
//! The rules are `vaxgrid_core::supply::ledger`'s, applied by the store in
//! the movement's transaction, which also writes the audit row.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use uuid::Uuid;
use vaxgrid_core::access::Permission;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::supply::cold_chain::{check_batch, Range, Reading};
use vaxgrid_core::supply::ledger::{
    self, Direction, Movement, MovementKind, ReceiptSource, WastageReason,
};
use vaxgrid_store::cold_chain::ReadingSource;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::supply::{
    EquipmentKind, NewCount, NewEquipment, NewMovement, NewShipment, NewStore,
};

use crate::api::supply_types as types;
use crate::auth::Caller;
use crate::error::{ApiError, RowProblem};
use crate::extract::{id_or_new, page_limit, ApiJson, ApiQuery, CsvBody};
use crate::AppState;

fn code(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_string())
}

fn uuid_of(field: &str, value: Option<&str>) -> Result<Uuid, ApiError> {
    let id = id_or_new(field, value)?;
    Uuid::parse_str(&id).map_err(|_| ApiError::bad_request(field, "not a UUID"))
}

/// A temperature in °C with at most one decimal, as tenths.
pub fn tenths(field: &str, celsius: f64) -> Result<i32, ApiError> {
    let t = (celsius * 10.0).round();
    if !t.is_finite() || (celsius * 10.0 - t).abs() > 1e-6 || t.abs() > 100_000.0 {
        return Err(ApiError::invalid(
            field,
            format!("{celsius} is not a temperature in °C with at most one decimal"),
        ));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(t as i32)
}

/// A quantity from a body: zero and negative are refused, naming `field`.
fn quantity(field: &str, given: Option<i64>) -> Result<u64, ApiError> {
    let given = given.ok_or_else(|| ApiError::invalid(field, format!("{field} is required")))?;
    ledger::quantity(given).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, ApiError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::invalid(field, format!("{field} is required"))),
    }
}

fn enum_of<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: Option<&str>,
    allowed: &str,
) -> Result<T, ApiError> {
    let v = required(field, value)?;
    serde_json::from_value(serde_json::Value::String(v.to_string()))
        .map_err(|_| ApiError::invalid(field, format!("'{v}' is not one of {allowed}")))
}

/// The stores in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/stores",
    summary = "The vaccine stores in the caller's areas: {stores[]} with code, name, area, parent store, site",
    responses(
        (status = 200, description = "{stores[]}", body = types::StockStores),
    )
)]
pub async fn list_stores(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let stores = app.store.stock_stores(&actor.scope).await?;
    let stores = stores.into_iter().map(types::StockStore::from).collect();
    Ok(Json(types::StockStores { stores }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    code: String,
    name: String,
    area_code: String,
    /// The store that supplies this one; its area contains this one's.
    parent_code: Option<String>,
    /// The vaccination site whose own stock this is (its doses draw on it).
    site_code: Option<String>,
}

/// Creates a store at an area in the caller's areas.
#[utoipa::path(
    post,
    path = "/api/v1/stores",
    summary = "Create a vaccine store at an area in the caller's areas, under a parent store whose area contains it, optionally a site's own stock. Refused: an area outside the caller's, a parent elsewhere in the tree, a site of another area, a code taken.",
    request_body = StoreBody,
    responses(
        (status = 201, description = "the store", body = types::StockStore),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_store(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<StoreBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    let new = NewStore {
        code: code("code", &b.code, 32)?,
        name: code("name", &b.name, 200)?,
        area_code: code("area_code", &b.area_code, 64)?,
        parent_code: b
            .parent_code
            .as_deref()
            .map(|p| code("parent_code", p, 32))
            .transpose()?,
        site_code: b
            .site_code
            .as_deref()
            .map(|s| code("site_code", s, 64))
            .transpose()?,
    };
    let store = app.store.create_store(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::StockStore::from(store))).into_response())
}

/// A store with its equipment.
#[utoipa::path(
    get,
    path = "/api/v1/stores/{code}",
    summary = "One store in the caller's areas with its cold-chain equipment: {store, equipment[]}",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 200, description = "{store, equipment[]}", body = types::StoreWithEquipment),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_store(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let store = app
        .store
        .stock_store(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let equipment = app.store.equipment_of(&code, &actor.scope).await?;
    Ok(Json(types::StoreWithEquipment {
        store: store.into(),
        equipment: equipment.into_iter().map(types::Equipment::from).collect(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquipmentBody {
    id: Option<String>,
    /// refrigerator, freezer, cold_box or vaccine_carrier
    kind: String,
    /// The allowed range in °C, one decimal at most (e.g. 2.0 and 8.0).
    min_c: f64,
    max_c: f64,
    capacity_doses: Option<i64>,
    /// Working (true, the default) or broken.
    working: Option<bool>,
}

/// Adds cold-chain equipment to a store.
#[utoipa::path(
    post,
    path = "/api/v1/stores/{code}/equipment",
    summary = "Add cold-chain equipment to a store: kind (refrigerator, freezer, cold_box, vaccine_carrier), allowed range min_c..max_c in °C, capacity in doses, working. Refused: an impossible or inverted range, a capacity of 0 or less.",
    params(("code" = String, Path, description = "store code")),
    request_body = EquipmentBody,
    responses(
        (status = 201, description = "the equipment", body = types::Equipment),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn add_equipment(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store): Path<String>,
    ApiJson(b): ApiJson<EquipmentBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    app.store
        .stock_store(&store, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let kind = EquipmentKind::parse(b.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!(
                "'{}' is not one of refrigerator, freezer, cold_box, vaccine_carrier",
                b.kind
            ),
        )
    })?;
    let min = tenths("min_c", b.min_c)?;
    let max = tenths("max_c", b.max_c)?;
    let range = Range::new(min, max).map_err(|e| {
        let field = match e {
            vaxgrid_core::supply::cold_chain::ReadingError::Impossible(t) if t == max => "max_c",
            _ => "min_c",
        };
        ApiError::invalid(field, e.to_string())
    })?;
    let capacity_doses = match b.capacity_doses {
        None => None,
        Some(c) => Some(u64::try_from(c).ok().filter(|c| *c > 0).ok_or_else(|| {
            ApiError::invalid("capacity_doses", "a capacity must be above 0 doses")
        })?),
    };
    let new = NewEquipment {
        id: id_or_new("id", b.id.as_deref())?,
        store_code: store,
        kind,
        range,
        capacity_doses,
        working: b.working.unwrap_or(true),
    };
    let e = app.store.create_equipment(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::Equipment::from(e))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingBody {
    pub working: bool,
}

/// Marks equipment working or broken.
#[utoipa::path(
    post,
    path = "/api/v1/equipment/{id}/working",
    summary = "Mark cold-chain equipment working (true) or broken (false); audited",
    params(("id" = String, Path, description = "equipment id")),
    request_body = WorkingBody,
    responses(
        (status = 200, description = "the equipment", body = types::Equipment),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_working(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WorkingBody>,
) -> Result<Response, ApiError> {
    let e = equipment_working(&app, &caller, &id, b.working).await?;
    Ok(Json(types::Equipment::from(e)).into_response())
}

/// Marks equipment working or broken (the route's rules, for the pages too).
pub async fn equipment_working(
    app: &AppState,
    caller: &Caller,
    id: &str,
    working: bool,
) -> Result<vaxgrid_store::supply::Equipment, ApiError> {
    let actor = caller.actor(app, Permission::ManageStock).await?;
    app.store
        .equipment(id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(app.store.set_equipment_working(id, working, &actor).await?)
}

/// The stock on hand of a store, by lot, with each lot's status.
#[utoipa::path(
    get,
    path = "/api/v1/stores/{code}/stock",
    summary = "Stock on hand at a store, by lot (doses), with the lot's expiry, status, its reason and VVM stage: {store_code, lots[]}",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 200, description = "{store_code, lots[]}", body = types::StoreStock),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn stock(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let rows = app
        .store
        .stock_on_hand(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let mut lots = Vec::with_capacity(rows.len());
    for r in rows {
        let hold = app.store.lot_hold(&r.product_code, &r.lot_number).await?;
        lots.push(types::StockLot {
            on_hand: r.on_hand,
            lot: types::LotHold {
                product_code: r.product_code,
                lot_number: r.lot_number,
                ..types::LotHold::from(hold)
            },
        });
    }
    Ok(Json(types::StoreStock {
        store_code: code,
        lots,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// At most this many, 1–500 (50 unless said).
    limit: Option<u32>,
}

/// A store's latest movements.
#[utoipa::path(
    get,
    path = "/api/v1/stores/{code}/movements",
    summary = "A store's ledger, newest first: {movements[]} with kind, lot, quantity, signed delta, the kind's facts, who and when (microseconds)",
    params(("code" = String, Path, description = "store code"), LimitQuery),
    responses(
        (status = 200, description = "{movements[]}", body = types::Movements),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn movements(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Response, ApiError> {
    let limit = page_limit(q.limit)?;
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let list = app
        .store
        .movements_of(&code, &actor.scope, limit)
        .await
        .map_err(ApiError::lookup)?;
    let movements = list.into_iter().map(types::MovementRecord::from).collect();
    Ok(Json(types::Movements { movements }).into_response())
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementBody {
    /// The client's id (a UUID): the same id twice is a 409.
    pub id: Option<String>,
    pub product_code: String,
    pub lot_number: String,
    /// receipt, discard, wastage, adjustment, count or vial_opened
    pub kind: String,
    /// Doses (vials for vial_opened), above 0; not for a count.
    pub quantity: Option<i64>,
    /// receipt: purchase, donation, covax or transfer_in
    pub source: Option<String>,
    /// receipt: the delivery's document (delivery note, invoice)
    pub document: Option<String>,
    /// discard, adjustment, count (when it differs): why. wastage: expired,
    /// broken, temperature, open_vial_unused, vvm or recalled
    pub reason: Option<String>,
    /// adjustment: up or down
    pub direction: Option<String>,
    /// adjustment: the movement it corrects
    pub corrects: Option<String>,
    /// count: the doses physically counted (0 or more)
    pub counted: Option<i64>,
    /// vial_opened: doses per vial (1–50)
    pub doses_per_vial: Option<i64>,
    /// vial_opened: the session
    pub session_id: Option<String>,
}

/// Records a movement at a store.
#[utoipa::path(
    post,
    path = "/api/v1/stores/{code}/movements",
    summary = "Record a movement of one lot at a store: receipt (source, document), discard (reason), wastage (reason: expired, broken, temperature, open_vial_unused, vvm, recalled), adjustment (direction, reason, optionally corrects), count (counted, reason when it differs: the difference becomes an adjustment), vial_opened (vials, doses_per_vial). Refused, nothing written: a quantity of 0 or less, more leaving than on hand, an unknown lot, a blank reason or document. 201 {movement, on_hand}; a count that agrees answers 200 with movement null. Shipments and doses given have their own routes.",
    params(("code" = String, Path, description = "store code")),
    request_body = MovementBody,
    responses(
        (status = 200, description = "{movement: null, on_hand}: a count that agrees with the ledger", body = types::MovementMade),
        (status = 201, description = "{movement, on_hand}", body = types::MovementMade),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn record_movement(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store): Path<String>,
    ApiJson(b): ApiJson<MovementBody>,
) -> Result<Response, ApiError> {
    let (movement, on_hand) = movement_at(&app, &caller, store, b).await?;
    let status = if movement.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(types::MovementMade { movement, on_hand })).into_response())
}

/// What a movement's body asks for: a count, which the store compares with
/// its ledger, or a movement of a kind the route records.
enum MovementAsked {
    Count { counted: i64 },
    Movement(MovementKind),
}

/// Reads the kind of movement and the fields that kind takes.
fn movement_asked(b: &MovementBody) -> Result<MovementAsked, ApiError> {
    let kind = match b.kind.trim() {
        "count" => {
            let counted = b
                .counted
                .ok_or_else(|| ApiError::invalid("counted", "counted is required"))?;
            if b.quantity.is_some() {
                return Err(ApiError::invalid(
                    "quantity",
                    "a count gives counted, not quantity",
                ));
            }
            return Ok(MovementAsked::Count { counted });
        }
        "receipt" => MovementKind::Receipt {
            source: enum_of::<ReceiptSource>(
                "source",
                b.source.as_deref(),
                "purchase, donation, covax, transfer_in",
            )?,
            document: required("document", b.document.as_deref())?.to_string(),
        },
        "discard" => MovementKind::Discard {
            reason: required("reason", b.reason.as_deref())?.to_string(),
        },
        "wastage" => MovementKind::Wastage {
            reason: enum_of::<WastageReason>(
                "reason",
                b.reason.as_deref(),
                "expired, broken, temperature, open_vial_unused, vvm, recalled",
            )?,
        },
        "adjustment" => MovementKind::Adjustment {
            direction: enum_of::<Direction>("direction", b.direction.as_deref(), "up, down")?,
            reason: required("reason", b.reason.as_deref())?.to_string(),
            corrects: b
                .corrects
                .as_deref()
                .map(|c| uuid_of("corrects", Some(c)))
                .transpose()?,
        },
        "vial_opened" => MovementKind::VialOpened {
            session_id: b
                .session_id
                .as_deref()
                .map(|c| uuid_of("session_id", Some(c)))
                .transpose()?,
            doses_per_vial: b
                .doses_per_vial
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| (1..=50).contains(d))
                .ok_or_else(|| {
                    ApiError::invalid("doses_per_vial", "doses_per_vial must be 1 to 50")
                })?,
        },
        other => return Err(kind_refused(other)),
    };
    Ok(MovementAsked::Movement(kind))
}

/// A kind this route does not record: shipments and doses given have
/// their own routes, which the refusal names.
fn kind_refused(kind: &str) -> ApiError {
    match kind {
        "shipment_dispatched" | "shipment_received" => ApiError::invalid(
            "kind",
            "shipments are dispatched at /api/v1/shipments \
             and received at /api/v1/shipments/{id}/receive",
        ),
        "dose_given" => ApiError::invalid(
            "kind",
            "doses given leave the site's stock with the dose record (/api/v1/doses)",
        ),
        other => ApiError::invalid(
            "kind",
            format!(
                "'{other}' is not one of receipt, discard, wastage, adjustment, count, vial_opened"
            ),
        ),
    }
}

/// Records a movement at a store from the route's body (the route's rules,
/// for the pages too): the movement made (none for a count that agrees)
/// and the on-hand after.
pub async fn movement_at(
    app: &AppState,
    caller: &Caller,
    store: String,
    b: MovementBody,
) -> Result<(Option<Movement>, u64), ApiError> {
    let actor = caller.actor(app, Permission::ManageStock).await?;
    app.store
        .stock_store(&store, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let id = uuid_of("id", b.id.as_deref())?;
    let product_code = code("product_code", &b.product_code, 64)?;
    let lot_number = code("lot_number", &b.lot_number, 64)?;
    let kind = match movement_asked(&b)? {
        MovementAsked::Count { counted } => {
            let count = NewCount {
                id,
                store_code: store.clone(),
                product_code,
                lot_number,
                counted,
                reason: b.reason.clone().unwrap_or_default(),
            };
            return Ok(app.store.record_count(&count, &actor).await?);
        }
        MovementAsked::Movement(kind) => kind,
    };
    let movement = Movement {
        id,
        kind,
        quantity: quantity("quantity", b.quantity)?,
    };
    let new = NewMovement {
        store_code: store,
        product_code,
        lot_number,
        movement: movement.clone(),
    };
    let on_hand = app.store.record_movement(&new, &actor).await?;
    Ok((Some(movement), on_hand))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentBody {
    /// The client's id (a UUID): the same id twice is a 409.
    pub id: Option<String>,
    pub from_store: String,
    pub to_store: String,
    pub product_code: String,
    pub lot_number: String,
    /// Doses, above 0 and no more than on hand at from_store.
    pub quantity: i64,
}

/// Dispatches a shipment.
#[utoipa::path(
    post,
    path = "/api/v1/shipments",
    summary = "Dispatch a shipment of one lot from a store in the caller's areas to another store: the doses leave from_store's stock at once (in transit they are at neither store). Refused, nothing written: a quantity of 0 or less, more than on hand (an empty store ships nothing), an unknown lot or store, a store shipping to itself.",
    request_body = ShipmentBody,
    responses(
        (status = 201, description = "the shipment", body = types::Shipment),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn dispatch(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ShipmentBody>,
) -> Result<Response, ApiError> {
    let shipment = dispatch_shipment(&app, &caller, b).await?;
    Ok((StatusCode::CREATED, Json(types::Shipment::from(shipment))).into_response())
}

/// Dispatches a shipment from the route's body (the route's rules, for the
/// pages too).
pub async fn dispatch_shipment(
    app: &AppState,
    caller: &Caller,
    b: ShipmentBody,
) -> Result<vaxgrid_store::supply::Shipment, ApiError> {
    let actor = caller.actor(app, Permission::ManageStock).await?;
    let from_store = code("from_store", &b.from_store, 32)?;
    app.store
        .stock_store(&from_store, &actor.scope)
        .await
        .map_err(|_| {
            ApiError::invalid("from_store", format!("no store {from_store} in your areas"))
        })?;
    let new = NewShipment {
        id: uuid_of("id", b.id.as_deref())?,
        from_store,
        to_store: code("to_store", &b.to_store, 32)?,
        product_code: code("product_code", &b.product_code, 64)?,
        lot_number: code("lot_number", &b.lot_number, 64)?,
        quantity: quantity("quantity", Some(b.quantity))?,
    };
    Ok(app.store.dispatch_shipment(&new, &actor).await?)
}

/// Whether either end of the shipment is in `scope`.
async fn shipment_in_scope(
    app: &AppState,
    id: &str,
    scope: &Scope,
) -> Result<vaxgrid_store::supply::Shipment, ApiError> {
    let absent = || ApiError::Absent {
        entity: "shipment",
        key: id.to_string(),
    };
    let s = app.store.shipment(id).await.map_err(|_| absent())?;
    let from = app.store.stock_store(&s.from_store, scope).await.is_ok();
    let to = app.store.stock_store(&s.to_store, scope).await.is_ok();
    if from || to {
        Ok(s)
    } else {
        Err(absent())
    }
}

/// A shipment seen from either end.
#[utoipa::path(
    get,
    path = "/api/v1/shipments/{id}",
    summary = "A shipment whose sending or receiving store is in the caller's areas",
    params(("id" = String, Path, description = "shipment id")),
    responses(
        (status = 200, description = "the shipment", body = types::Shipment),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_shipment(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let s = shipment_in_scope(&app, &id, &actor.scope).await?;
    Ok(Json(types::Shipment::from(s)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    /// Doses received, above 0 (a shipment lost whole is the sending
    /// store's adjustment).
    pub received: i64,
    /// Needed when received differs from what was dispatched.
    pub discrepancy_reason: Option<String>,
}

/// Receives a shipment at its destination.
#[utoipa::path(
    post,
    path = "/api/v1/shipments/{id}/receive",
    summary = "Receive a shipment at its destination store (in the caller's areas): the doses received enter its stock. Refused, nothing written: a quantity of 0 or less, a quantity other than the dispatched one without a discrepancy_reason, a shipment already received (409).",
    params(("id" = String, Path, description = "shipment id")),
    request_body = ReceiveBody,
    responses(
        (status = 200, description = "the shipment, received", body = types::Shipment),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn receive(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReceiveBody>,
) -> Result<Response, ApiError> {
    let done = receive_shipment(&app, &caller, &id, b).await?;
    Ok(Json(types::Shipment::from(done)).into_response())
}

/// Receives a shipment from the route's body (the route's rules, for the
/// pages too).
pub async fn receive_shipment(
    app: &AppState,
    caller: &Caller,
    id: &str,
    b: ReceiveBody,
) -> Result<vaxgrid_store::supply::Shipment, ApiError> {
    let actor = caller.actor(app, Permission::ManageStock).await?;
    let s = shipment_in_scope(app, id, &actor.scope).await?;
    app.store
        .stock_store(&s.to_store, &actor.scope)
        .await
        .map_err(|_| {
            ApiError::invalid(
                "id",
                format!(
                    "shipment {id} goes to store {}, which is not in your areas: it is received there",
                    s.to_store
                ),
            )
        })?;
    let received = quantity("received", Some(b.received))?;
    Ok(app
        .store
        .receive_shipment(id, received, b.discrepancy_reason.as_deref(), &actor)
        .await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotStatusBody {
    /// quarantined, released or recalled
    pub status: String,
    pub reason: String,
    /// The vaccine vial monitor stage read (1–4); needed to release.
    pub vvm_stage: Option<i64>,
}

/// Quarantines, releases or recalls a lot.
#[utoipa::path(
    post,
    path = "/api/v1/lots/{product_code}/{lot_number}/status",
    summary = "Quarantine, release or recall a lot with a reason (audited). A release needs the VVM stage read (1-2; 3-4 are past the discard point). A recall is national: only callers holding everywhere, and final. An area's cold-chain officer acts on lots stocked in their areas' stores.",
    params(("product_code" = String, Path, description = "product"), ("lot_number" = String, Path, description = "lot number")),
    request_body = LotStatusBody,
    responses(
        (status = 200, description = "{product_code, lot_number, expiry, status, status_reason, vvm_stage}", body = types::LotHold),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_lot_status(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((product, lot)): Path<(String, String)>,
    ApiJson(b): ApiJson<LotStatusBody>,
) -> Result<Response, ApiError> {
    let hold = lot_status(&app, &caller, &product, &lot, b).await?;
    Ok(Json(types::LotHold::from(hold)).into_response())
}

/// Quarantines, releases or recalls a lot from the route's body (the
/// route's rules, for the pages too).
pub async fn lot_status(
    app: &AppState,
    caller: &Caller,
    product: &str,
    lot: &str,
    b: LotStatusBody,
) -> Result<vaxgrid_store::supply::LotHold, ApiError> {
    let actor = caller.actor(app, Permission::HoldLots).await?;
    app.store
        .lot_hold(product, lot)
        .await
        .map_err(ApiError::lookup)?;
    if actor.scope != Scope::All && !app.store.lot_stocked_in(product, lot, &actor.scope).await? {
        return Err(ApiError::Absent {
            entity: "lot",
            key: format!("{product}/{lot}"),
        });
    }
    let status = match b.status.trim() {
        "quarantined" => LotStatus::Quarantined,
        "released" => LotStatus::Released,
        "recalled" => LotStatus::Recalled,
        other => {
            return Err(ApiError::invalid(
                "status",
                format!("'{other}' is not one of quarantined, released, recalled"),
            ))
        }
    };
    let vvm_stage = b
        .vvm_stage
        .map(|v| {
            u8::try_from(v)
                .ok()
                .filter(|v| (1..=4).contains(v))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "vvm_stage",
                        format!("a vaccine vial monitor stage is 1 to 4, not {v}"),
                    )
                })
        })
        .transpose()?;
    if status == LotStatus::Released && vvm_stage.is_none() {
        return Err(ApiError::invalid(
            "vvm_stage",
            "a release needs the vaccine vial monitor stage read on the vials (1 to 4)",
        ));
    }
    if status == LotStatus::Recalled && actor.scope != Scope::All {
        return Err(ApiError::Forbidden {
            message: "a recall is national: it is made by a role holding everywhere".into(),
        });
    }
    app.store
        .hold_lot(product, lot, status, &b.reason, vvm_stage, &actor)
        .await?;
    Ok(app.store.lot_hold(product, lot).await?)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DosedQuery {
    /// json (the default) or csv
    format: Option<String>,
}

/// The persons dosed from a lot, as JSON or CSV.
#[utoipa::path(
    get,
    path = "/api/v1/lots/{product_code}/{lot_number}/persons",
    summary = "The persons in the caller's areas who got a valid dose from the lot (for a recall): {product_code, lot_number, persons[]} or, with format=csv, text/csv person_id,full_name,dose_id,dose_number,site_code,administered_on",
    params(("product_code" = String, Path, description = "product"), ("lot_number" = String, Path, description = "lot number"), DosedQuery),
    responses(
        (status = 200, description = "{product_code, lot_number, persons[]} or text/csv", content((String = "text/csv"), (types::PersonsDosed = "application/json"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn persons_dosed(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((product, lot)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DosedQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "format",
                format!("'{other}' is not json or csv"),
            ))
        }
    };
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let persons = app
        .store
        .persons_dosed_from_lot(&product, &lot, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    if !csv {
        return Ok(Json(types::PersonsDosed {
            product_code: product,
            lot_number: lot,
            persons: persons.into_iter().map(types::DosedFromLot::from).collect(),
        })
        .into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "person_id",
        "full_name",
        "dose_id",
        "dose_number",
        "site_code",
        "administered_on",
    ];
    let write_err = |_| ApiError::Store(vaxgrid_store::StoreError::Unavailable("csv".into()));
    out.write_record(header).map_err(write_err)?;
    for p in &persons {
        out.write_record([
            p.person_id.as_str(),
            &vaxgrid_core::spreadsheet::safe_cell(&p.full_name),
            p.dose_id.as_str(),
            &p.dose_number.to_string(),
            &vaxgrid_core::spreadsheet::safe_cell(&p.site_code),
            p.administered_on.as_str(),
        ])
        .map_err(write_err)?;
    }
    let body = out.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"persons-dosed.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBody {
    /// RFC 3339 instant of the reading.
    at: String,
    /// °C, one decimal at most.
    temperature_c: f64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsBody {
    /// In time order, each after the one before and after the last stored.
    readings: Vec<ReadingBody>,
}

/// At most this many readings in one request (a logger's CSV of a month
/// at one reading a minute fits).
pub const MAX_READINGS: usize = 50_000;
/// The body limit of the logger CSV route.
pub const READINGS_CSV_LIMIT: usize = 4 * 1024 * 1024;

fn parse_reading(at: &str, celsius: f64) -> Result<Reading, (&'static str, String)> {
    let at = time::OffsetDateTime::parse(at.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            (
                "at",
                format!("'{at}' is not an RFC 3339 instant (2021-08-15T08:30:00+07:00)"),
            )
        })?;
    let tenths = tenths("temperature_c", celsius).map_err(|e| {
        let (_, m) = e.field_and_message();
        ("temperature_c", m)
    })?;
    Ok(Reading { at, tenths })
}

/// Checks every reading (each row's own rules, then the order after the
/// last stored one) and lists all bad rows; nothing is written unless all
/// are good. Rows are numbered from 1.
async fn checked_readings(
    app: &AppState,
    equipment_id: &str,
    rows: Vec<Result<Reading, (&'static str, String)>>,
) -> Result<Vec<Reading>, ApiError> {
    let count = rows.len();
    if count == 0 {
        return Err(ApiError::invalid("readings", "give at least one reading"));
    }
    if count > MAX_READINGS {
        return Err(ApiError::invalid(
            "readings",
            format!("at most {MAX_READINGS} readings at once, not {count}"),
        ));
    }
    let mut errors = Vec::new();
    let mut good = Vec::with_capacity(count);
    let mut index = Vec::with_capacity(count);
    for (i, r) in rows.into_iter().enumerate() {
        match r {
            Ok(r) => {
                good.push(r);
                index.push(i);
            }
            Err((field, message)) => errors.push(RowProblem {
                row: i + 1,
                field: field.to_string(),
                message,
            }),
        }
    }
    let last = app.store.last_reading_at(equipment_id).await?;
    for (i, e) in check_batch(&good, last, time::OffsetDateTime::now_utc()) {
        errors.push(RowProblem {
            row: index[i] + 1,
            field: e.field().to_string(),
            message: e.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(good)
    } else {
        errors.sort_by_key(|e| e.row);
        Err(ApiError::Rows { count, errors })
    }
}

/// Records temperature readings of a piece of equipment.
#[utoipa::path(
    post,
    path = "/api/v1/equipment/{id}/readings",
    summary = "Record temperature readings of cold-chain equipment, in time order: {readings: [{at (RFC 3339), temperature_c}]}. Excursions outside the equipment's range are detected as they arrive; the first reading out of range quarantines the lots on hand at its store at once. Refused with every bad row named (row, field), nothing written: an impossible temperature (below -90 or above 60 °C), a time in the future, out of order, or not after the last stored reading.",
    params(("id" = String, Path, description = "equipment id")),
    request_body = ReadingsBody,
    responses(
        (status = 201, description = "{equipment_id, accepted, excursions[], quarantined[]}", body = types::ReadingsRecorded),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn record_readings(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReadingsBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    app.store
        .equipment(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let rows = b
        .readings
        .iter()
        .map(|r| parse_reading(&r.at, r.temperature_c))
        .collect();
    let readings = checked_readings(&app, &id, rows).await?;
    let outcome = app
        .store
        .record_readings(&id, &readings, ReadingSource::Api, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(types::ReadingsRecorded::from(outcome)),
    )
        .into_response())
}

#[derive(Deserialize)]
struct LoggerRow {
    at: String,
    temperature_c: String,
}

/// Records a data logger's CSV of readings.
#[utoipa::path(
    post,
    path = "/api/v1/equipment/{id}/readings/import",
    summary = "Record a data logger's readings as CSV (text/csv, header at,temperature_c; at RFC 3339, temperature in °C), as POST readings does. Every bad row is named with its row number (from 1, after the header) and field; nothing is written unless all rows are good.",
    params(("id" = String, Path, description = "equipment id")),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "{equipment_id, accepted, excursions[], quarantined[]}", body = types::ReadingsRecorded),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import_readings(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    CsvBody(body): CsvBody,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    app.store
        .equipment(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::bad_request("header", e.to_string()))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != ["at", "temperature_c"] {
        return Err(ApiError::bad_request(
            "header",
            "the header must be: at,temperature_c",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.deserialize::<LoggerRow>() {
        rows.push(match record {
            Err(e) => Err(("row", e.to_string())),
            Ok(r) => match r.temperature_c.parse::<f64>() {
                Ok(c) if c.is_finite() => parse_reading(&r.at, c),
                _ => Err((
                    "temperature_c",
                    format!("'{}' is not a temperature in °C", r.temperature_c),
                )),
            },
        });
        if rows.len() > MAX_READINGS {
            break;
        }
    }
    let readings = checked_readings(&app, &id, rows).await?;
    let outcome = app
        .store
        .record_readings(&id, &readings, ReadingSource::Logger, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(types::ReadingsRecorded::from(outcome)),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReadingsQuery {
    /// From this instant (RFC 3339; 7 days before `until` unless said).
    since: Option<String>,
    /// Up to this instant (RFC 3339; now unless said).
    until: Option<String>,
}

/// Parses an optional RFC 3339 query instant.
pub fn instant_param(
    field: &str,
    value: Option<&str>,
) -> Result<Option<time::OffsetDateTime>, ApiError> {
    value
        .map(|v| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map_err(
                |_| ApiError::bad_request(field, format!("'{v}' is not an RFC 3339 instant")),
            )
        })
        .transpose()
}

/// The readings and excursions of a piece of equipment over a period.
#[utoipa::path(
    get,
    path = "/api/v1/equipment/{id}/readings",
    summary = "Readings (at most 10,000) and excursions of cold-chain equipment from since to until (the last 7 days unless said): {equipment, readings[{at, tenths}], excursions[]}",
    params(("id" = String, Path, description = "equipment id"), ReadingsQuery),
    responses(
        (status = 200, description = "{equipment, readings[], excursions[]}", body = types::EquipmentReadings),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn readings(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReadingsQuery>,
) -> Result<Response, ApiError> {
    let until =
        instant_param("until", q.until.as_deref())?.unwrap_or_else(time::OffsetDateTime::now_utc);
    let since =
        instant_param("since", q.since.as_deref())?.unwrap_or(until - time::Duration::days(7));
    if since > until {
        return Err(ApiError::bad_request("since", "since is after until"));
    }
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let equipment = app
        .store
        .equipment(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let list = app
        .store
        .readings_of(&id, since, until, 10_000, &actor.scope)
        .await?;
    let excursions = app
        .store
        .excursions_of(&id, since, until, &actor.scope)
        .await?;
    Ok(Json(types::EquipmentReadings {
        equipment: equipment.into(),
        readings: list.into_iter().map(types::Reading::from).collect(),
        excursions: types::excursions(excursions),
    })
    .into_response())
}

/// The excursions still open at stores in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/excursions",
    summary = "Temperature excursions still open at the stores in the caller's areas, oldest first, each with the lots it quarantined: {excursions[]}",
    responses(
        (status = 200, description = "{excursions[]}", body = types::Excursions),
    )
)]
pub async fn open_excursions(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let list = app.store.open_excursions(&actor.scope).await?;
    Ok(Json(types::Excursions {
        excursions: types::excursions(list),
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(kind: &str) -> MovementBody {
        MovementBody {
            product_code: "AZ".into(),
            lot_number: "L1".into(),
            kind: kind.into(),
            ..MovementBody::default()
        }
    }

    /// The field a refused body names and its message.
    fn refused(b: &MovementBody) -> (String, String) {
        match movement_asked(b) {
            Ok(_) => panic!("{} was taken", b.kind),
            Err(e) => e.field_and_message(),
        }
    }

    #[test]
    fn a_count_gives_counted_and_no_quantity() {
        let mut b = body(" count ");
        assert_eq!(refused(&b).0, "counted");
        b.counted = Some(7);
        assert!(matches!(
            movement_asked(&b),
            Ok(MovementAsked::Count { counted: 7 })
        ));
        b.quantity = Some(7);
        assert_eq!(
            refused(&b),
            (
                "quantity".to_string(),
                "a count gives counted, not quantity".to_string()
            )
        );
    }

    #[test]
    fn each_kind_reads_its_own_fields() {
        let mut b = body("receipt");
        b.source = Some("donation".into());
        assert_eq!(refused(&b).0, "document");
        b.document = Some("DN-1".into());
        assert!(matches!(
            movement_asked(&b),
            Ok(MovementAsked::Movement(MovementKind::Receipt {
                source: ReceiptSource::Donation,
                ..
            }))
        ));
        let mut b = body("wastage");
        b.reason = Some("lost".into());
        assert_eq!(refused(&b).0, "reason");
        let mut b = body("vial_opened");
        b.doses_per_vial = Some(51);
        assert_eq!(refused(&b).0, "doses_per_vial");
        b.doses_per_vial = Some(10);
        assert!(matches!(
            movement_asked(&b),
            Ok(MovementAsked::Movement(MovementKind::VialOpened {
                doses_per_vial: 10,
                session_id: None
            }))
        ));
    }

    #[test]
    fn kinds_with_routes_of_their_own_are_refused_naming_them() {
        assert_eq!(
            refused(&body("shipment_received")).1,
            "shipments are dispatched at /api/v1/shipments and received at /api/v1/shipments/{id}/receive"
        );
        assert_eq!(
            refused(&body("dose_given")).1,
            "doses given leave the site's stock with the dose record (/api/v1/doses)"
        );
        assert_eq!(
            refused(&body("gift")).1,
            "'gift' is not one of receipt, discard, wastage, adjustment, count, vial_opened"
        );
    }
}
