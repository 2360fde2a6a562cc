//! /api/v1/allocations, the open vials and the ancillary supplies.
//!
//! - A delivery at a store is split among the stores it supplies (one
//!   level down) by remaining eligible population or remaining target,
//!   weighted by border distance (`supply::allocation`); the planner
//!   reviews the proposal, adjusts it (the parts must still sum to the
//!   delivery in whole vials) and confirms it, which dispatches every
//!   shipment in one transaction.
//! - A store's open vials with the doses left in each (the vaccinator's
//!   view, also at `/api/v1/sites/{code}/open-vials`); those past their
//!   limit are closed on read, their rest recorded as wastage.
//! - Syringes and safety boxes: items, their ratio to each product, their
//!   stock per store, the shortfall for the vaccine a store holds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use vaxgrid_core::access::Permission;
use vaxgrid_core::supply::allocation::{
    allocate, check_parts, Basis, BorderWeight, Part, Recipient, Weighting,
};
use vaxgrid_core::supply::ancillary::{ItemKind, Unit};
use vaxgrid_store::allocation::{Candidate, NewAllocation};
use vaxgrid_store::items::ItemMove;
use vaxgrid_store::model::Actor;
use vaxgrid_store::supply::StockStore;

use crate::api::allocation_types as types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{id_or_new, ApiJson};
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

/// A border band: areas within `within_km` of the border weigh
/// `factor_permille` thousandths (1500 = ×1.5).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandBody {
    pub within_km: i64,
    pub factor_permille: i64,
}

/// What to split: a lot at a store, in whole vials.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalBody {
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    /// Whole vials, above 0, no more than the store holds.
    pub vials: i64,
    /// remaining_eligible (the default) or remaining_target
    pub basis: Option<String>,
    /// For remaining_target: the campaign whose targets are read.
    pub campaign_id: Option<String>,
    /// The border bands; left out: ×1.5 within 20 km (Guangxi's
    /// border-first). An empty list weighs every store alike.
    pub border_weights: Option<Vec<BandBody>>,
}

/// One store's line of a proposal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposedPart {
    pub store_code: String,
    pub store_name: String,
    pub area_code: String,
    pub area_name: String,
    pub border_km: Option<u32>,
    pub region_group: Option<String>,
    pub population: u64,
    pub need: u64,
    pub factor_permille: u32,
    pub vials: u64,
    pub doses: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: u64,
    pub doses_per_vial: u32,
    pub doses: u64,
    /// Doses of the lot on hand at the sending store.
    pub on_hand: u64,
    pub basis: Basis,
    pub weighting: Weighting,
    pub parts: Vec<ProposedPart>,
}

fn basis_of(v: Option<&str>) -> Result<Basis, ApiError> {
    match v.map(str::trim) {
        None | Some("" | "remaining_eligible") => Ok(Basis::RemainingEligible),
        Some("remaining_target") => Ok(Basis::RemainingTarget),
        Some(other) => Err(ApiError::invalid(
            "basis",
            format!("'{other}' is not one of remaining_eligible, remaining_target"),
        )),
    }
}

fn weighting_of(bands: Option<&[BandBody]>) -> Result<Weighting, ApiError> {
    let Some(bands) = bands else {
        return Ok(Weighting::border_first());
    };
    let mut out = Vec::with_capacity(bands.len());
    for (i, b) in bands.iter().enumerate() {
        let within_km = u32::try_from(b.within_km)
            .ok()
            .filter(|k| *k <= 5000)
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("border_weights[{i}].within_km"),
                    "a distance is 0 to 5000 km",
                )
            })?;
        let factor_permille = u32::try_from(b.factor_permille).map_err(|_| {
            ApiError::invalid(
                format!("border_weights[{i}].factor_permille"),
                "a weight is 1 to 10000 thousandths",
            )
        })?;
        out.push(BorderWeight {
            within_km,
            factor_permille,
        });
    }
    Ok(Weighting { border: out })
}

/// A proposal's request, read and checked for shape.
struct ProposalRequest<'a> {
    from_code: String,
    product_code: String,
    lot_number: String,
    vials: u64,
    basis: Basis,
    weighting: Weighting,
    /// For remaining_target: the campaign named, blank read as none.
    campaign: Option<&'a str>,
}

/// Reads the body: the codes, a whole number of vials above 0, the basis
/// and the border bands.
fn read_proposal(b: &ProposalBody) -> Result<ProposalRequest<'_>, ApiError> {
    Ok(ProposalRequest {
        from_code: code("from_store", &b.from_store, 32)?,
        product_code: code("product_code", &b.product_code, 64)?,
        lot_number: code("lot_number", &b.lot_number, 64)?,
        vials: u64::try_from(b.vials)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| ApiError::invalid("vials", "vials must be a whole number above 0"))?,
        basis: basis_of(b.basis.as_deref())?,
        weighting: weighting_of(b.border_weights.as_deref())?,
        campaign: b
            .campaign_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty()),
    })
}

/// The delivery as the sending store holds it.
struct Delivery {
    from: StockStore,
    doses_per_vial: u32,
    /// Doses of the lot on hand at the sending store.
    on_hand: u64,
}

/// Reads the sending store (in the caller's areas), the product, the lot
/// and the lot's doses on hand there; an unknown one is refused naming
/// its field.
async fn load_delivery(
    app: &AppState,
    actor: &Actor,
    req: &ProposalRequest<'_>,
) -> Result<Delivery, ApiError> {
    let (from_code, product_code, lot_number) =
        (&req.from_code, &req.product_code, &req.lot_number);
    let from = app
        .store
        .stock_store(from_code, &actor.scope)
        .await
        .map_err(|_| {
            ApiError::invalid("from_store", format!("no store {from_code} in your areas"))
        })?;
    let product = app
        .store
        .product(product_code)
        .await
        .map_err(|_| ApiError::invalid("product_code", format!("no product {product_code}")))?;
    let lot = app.store.lot(product_code, lot_number).await.map_err(|_| {
        ApiError::invalid(
            "lot_number",
            format!("no lot {lot_number} of product {product_code}"),
        )
    })?;
    let on_hand = app
        .store
        .lot_on_hand(&from.code, product_code, &lot.lot_number, &actor.scope)
        .await?;
    Ok(Delivery {
        from,
        doses_per_vial: product.doses_per_vial,
        on_hand,
    })
}

/// The doses the vials asked for hold; refused when the sending store
/// holds fewer doses of the lot.
fn doses_asked(
    req: &ProposalRequest<'_>,
    doses_per_vial: u32,
    on_hand: u64,
    store_code: &str,
) -> Result<u64, ApiError> {
    let (vials, lot_number) = (req.vials, &req.lot_number);
    let doses = vials.saturating_mul(u64::from(doses_per_vial));
    if doses > on_hand {
        return Err(ApiError::invalid(
            "vials",
            format!(
                "{vials} vials are {doses} doses, \
                 but store {store_code} holds {on_hand} doses of lot {lot_number}"
            ),
        ));
    }
    Ok(doses)
}

/// The stores one level down with their need; a campaign outside the
/// caller's areas is refused naming `campaign_id`.
async fn candidates_of(
    app: &AppState,
    actor: &Actor,
    from: &StockStore,
    req: &ProposalRequest<'_>,
) -> Result<Vec<Candidate>, ApiError> {
    app.store
        .allocation_candidates(from, req.basis, req.campaign, &actor.scope)
        .await
        .map_err(|e| match e {
            vaxgrid_store::error::StoreError::NotFound { entity, key, .. } => ApiError::invalid(
                "campaign_id",
                format!("{entity} {key} is not in your areas"),
            ),
            other => ApiError::Store(other),
        })
}

/// The request field an allocation error is about: no recipient is the
/// sending store's fault, a bad band is one of `border_weights`.
fn allocation_field(field: &str) -> String {
    match field {
        "recipients" => "from_store".to_string(),
        "factor_permille" | "within_km" => format!("border_weights.{field}"),
        f => f.to_string(),
    }
}

/// Splits the vials among the candidates, in their order.
fn split(
    req: &ProposalRequest<'_>,
    doses_per_vial: u32,
    candidates: &[Candidate],
) -> Result<Vec<Part>, ApiError> {
    let recipients: Vec<Recipient> = candidates
        .iter()
        .map(|c| Recipient {
            store_code: c.store_code.clone(),
            need: c.need,
            border_km: c.border_km,
        })
        .collect();
    allocate(req.vials, doses_per_vial, &recipients, &req.weighting)
        .map_err(|e| ApiError::invalid(allocation_field(e.field()), e.to_string()))
}

/// Each candidate's line of the proposal with its part.
fn proposed_parts(candidates: Vec<Candidate>, parts: Vec<Part>) -> Vec<ProposedPart> {
    candidates
        .into_iter()
        .zip(parts)
        .map(|(c, p)| ProposedPart {
            store_code: c.store_code,
            store_name: c.store_name,
            area_code: c.area_code,
            area_name: c.area_name,
            border_km: c.border_km,
            region_group: c.region_group,
            population: c.population,
            need: c.need,
            factor_permille: p.factor_permille,
            vials: p.vials,
            doses: p.doses,
        })
        .collect()
}

/// Reads the delivery's facts and the stores below, and splits it.
pub async fn propose(
    app: &AppState,
    actor: &Actor,
    b: &ProposalBody,
) -> Result<Proposal, ApiError> {
    let req = read_proposal(b)?;
    let delivery = load_delivery(app, actor, &req).await?;
    let dpv = delivery.doses_per_vial;
    let doses = doses_asked(&req, dpv, delivery.on_hand, &delivery.from.code)?;
    let candidates = candidates_of(app, actor, &delivery.from, &req).await?;
    let parts = split(&req, dpv, &candidates)?;
    Ok(Proposal {
        from_store: delivery.from.code,
        product_code: req.product_code,
        lot_number: req.lot_number,
        vials: req.vials,
        doses_per_vial: dpv,
        doses,
        on_hand: delivery.on_hand,
        basis: req.basis,
        weighting: req.weighting,
        parts: proposed_parts(candidates, parts),
    })
}

/// Proposes a split of a delivery among the stores one level down.
#[utoipa::path(
    post,
    path = "/api/v1/allocations/proposal",
    summary = "Propose how a delivery (a lot at a store, in whole vials) is split among the stores it supplies, by remaining eligible population or remaining campaign target, weighted by border distance (default ×1.5 within 20 km). Writes nothing. Refused naming the field: vials 0 or less or more than the store holds, an unknown lot, a bad weight, no store below, no need anywhere.",
    request_body = ProposalBody,
    responses(
        (status = 200, description = "the proposal", body = Proposal),
        (status = 400, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn proposal(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ProposalBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    Ok(Json(propose(&app, &actor, &b).await?).into_response())
}

/// One store's confirmed part.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartBody {
    pub store_code: String,
    pub vials: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The client's id (a UUID): the same id twice is a 409.
    pub id: Option<String>,
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: i64,
    pub basis: Option<String>,
    pub campaign_id: Option<String>,
    pub border_weights: Option<Vec<BandBody>>,
    /// The planner's parts, whole vials summing to `vials`.
    pub parts: Vec<PartBody>,
}

/// Confirms the parts and dispatches the shipments.
pub async fn confirm_parts(
    app: &AppState,
    actor: &Actor,
    b: ConfirmBody,
) -> Result<vaxgrid_store::allocation::Allocation, ApiError> {
    let id = Uuid::parse_str(&id_or_new("id", b.id.as_deref())?)
        .map_err(|_| ApiError::bad_request("id", "not a UUID"))?;
    let p = propose(
        app,
        actor,
        &ProposalBody {
            from_store: b.from_store,
            product_code: b.product_code,
            lot_number: b.lot_number,
            vials: b.vials,
            basis: b.basis,
            campaign_id: b.campaign_id,
            border_weights: b.border_weights,
        },
    )
    .await?;
    let recipients: Vec<String> = p.parts.iter().map(|x| x.store_code.clone()).collect();
    let given: Vec<(String, i64)> = b
        .parts
        .iter()
        .map(|x| (x.store_code.trim().to_string(), x.vials))
        .collect();
    let parts = check_parts(p.vials, &recipients, &given)
        .map_err(|e| ApiError::invalid(e.field(), e.to_string()))?;
    let new = NewAllocation {
        id,
        from_store: p.from_store.clone(),
        product_code: p.product_code.clone(),
        lot_number: p.lot_number.clone(),
        vials: p.vials,
        doses_per_vial: p.doses_per_vial,
        basis: p.basis,
        proposal: p
            .parts
            .iter()
            .map(|x| Part {
                store_code: x.store_code.clone(),
                vials: x.vials,
                doses: x.doses,
                factor_permille: x.factor_permille,
            })
            .collect(),
        parts,
    };
    Ok(app.store.confirm_allocation(&new, actor).await?)
}

/// Confirms an allocation: the planner's parts become shipments.
#[utoipa::path(
    post,
    path = "/api/v1/allocations",
    summary = "Confirm a delivery's split as the planner adjusted it: the parts (whole vials, 0 or more, to stores one level down, each once) must sum to vials exactly; every shipment (with its syringes and safety boxes by the product's ratios) is dispatched in one transaction. Refused naming the field (parts, parts[i].vials, parts[i].store_code, vials), nothing written. 201 {id, shipments[], items}.",
    request_body = ConfirmBody,
    responses(
        (status = 201, description = "{id, from_store, product_code, lot_number, vials, doses, shipments[], items}", body = types::AllocationConfirmed),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    let a = confirm_parts(&app, &actor, b).await?;
    let mut items = std::collections::BTreeMap::new();
    for s in &a.shipments {
        items.insert(s.id.clone(), app.store.items_of_shipment(&s.id).await?);
    }
    Ok((
        StatusCode::CREATED,
        Json(types::AllocationConfirmed::new(a, items)),
    )
        .into_response())
}

/// A store's open vials.
#[utoipa::path(
    get,
    path = "/api/v1/stores/{code}/open-vials",
    summary = "The vials open at a store (and those closed within the day), each with the doses left now, its time limit, and `next` on the one to take the next dose of its lot from; vials past their limit are closed first, their doses left recorded as open_vial_unused wastage: {open_vials[]}",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 200, description = "{open_vials[]}", body = types::OpenVials),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn store_open_vials(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let list = app
        .store
        .open_vials(&code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::OpenVials {
        open_vials: types::open_vials(list),
    })
    .into_response())
}

/// The open vials of a site's own store, for the vaccinator.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{code}/open-vials",
    summary = "The vials open at a vaccination site's own store, for the staff recording doses there (RecordDose at the site): as /api/v1/stores/{code}/open-vials. A site without a store answers an empty list.",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "{store_code, open_vials[]}", body = types::SiteOpenVials),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn site_open_vials(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::RecordDose).await?;
    if !actor.scope.covers_site(&code) {
        return Err(ApiError::Absent {
            entity: "site",
            key: code,
        });
    }
    let (store, list) = site_vials(&app, &code).await?;
    Ok(Json(types::SiteOpenVials {
        store_code: store,
        open_vials: types::open_vials(list),
    })
    .into_response())
}

/// The open vials of a site's own store (none when it has no store).
pub async fn site_vials(
    app: &AppState,
    site: &str,
) -> Result<(Option<String>, Vec<vaxgrid_store::vials::OpenVialRow>), ApiError> {
    let Some(store) = app.store.store_of_site(site).await? else {
        return Ok((None, Vec::new()));
    };
    let list = app
        .store
        .open_vials(&store.code, &vaxgrid_store::scope::Scope::All)
        .await?;
    Ok((Some(store.code), list))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub code: String,
    pub name: String,
    /// ad_syringe, reconstitution_syringe or safety_box
    pub kind: String,
}

/// Adds an ancillary item.
#[utoipa::path(
    post,
    path = "/api/v1/supply-items",
    summary = "Add an ancillary item (ad_syringe, reconstitution_syringe, safety_box), counted in pieces. Refused naming the field: a blank code or name, an unknown kind, a code taken (409).",
    request_body = ItemBody,
    responses(
        (status = 201, description = "the item", body = types::SupplyItem),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_item(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ItemBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    let kind = ItemKind::parse(b.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!(
                "'{}' is not one of ad_syringe, reconstitution_syringe, safety_box",
                b.kind
            ),
        )
    })?;
    let item = app
        .store
        .create_item(
            &code("code", &b.code, 32)?,
            &code("name", &b.name, 200)?,
            kind,
            &actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(types::SupplyItem::from(item))).into_response())
}

/// The ancillary items.
#[utoipa::path(
    get,
    path = "/api/v1/supply-items",
    summary = "The ancillary items: {items[]} with code, name, kind",
    responses((status = 200, description = "{items[]}", body = types::SupplyItems))
)]
pub async fn list_items(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    caller.actor(&app, Permission::ReadStock).await?;
    let items = app.store.items().await?;
    Ok(Json(types::SupplyItems {
        items: items.into_iter().map(types::SupplyItem::from).collect(),
    })
    .into_response())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioBody {
    pub item_code: String,
    /// Pieces (1–1000) …
    pub quantity: i64,
    /// … per this many units (1–100000) …
    pub per: i64,
    /// … of: dose, vial, or syringe (safety boxes per syringe of the product).
    pub unit: String,
}

/// Links an item to a product by a ratio.
#[utoipa::path(
    post,
    path = "/api/v1/products/{code}/ratios",
    summary = "Link an ancillary item to a product: quantity pieces per `per` units of dose, vial or syringe (1 AD syringe per 1 dose; 1 safety box per 100 syringe), replacing an earlier ratio. Refused naming the field: quantity or per out of range, an unknown unit or item, a syringe per syringe.",
    params(("code" = String, Path, description = "product code")),
    request_body = RatioBody,
    responses(
        (status = 200, description = "{ratios[]}: the product's ratios after", body = types::Ratios),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn set_ratio(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(product): Path<String>,
    ApiJson(b): ApiJson<RatioBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageReference).await?;
    app.store
        .product(&product)
        .await
        .map_err(ApiError::lookup)?;
    let unit = Unit::parse(b.unit.trim()).ok_or_else(|| {
        ApiError::invalid(
            "unit",
            format!("'{}' is not one of dose, vial, syringe", b.unit),
        )
    })?;
    app.store
        .set_ratio(
            &product,
            b.item_code.trim(),
            b.quantity,
            b.per,
            unit,
            &actor,
        )
        .await?;
    let ratios = app.store.ratios_of(&product).await?;
    Ok(Json(types::Ratios { ratios }).into_response())
}

/// A product's ratios.
#[utoipa::path(
    get,
    path = "/api/v1/products/{code}/ratios",
    summary = "The ancillary items a product needs, by ratio: {ratios[]}",
    params(("code" = String, Path, description = "product code")),
    responses(
        (status = 200, description = "{ratios[]}", body = types::Ratios),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn ratios(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(product): Path<String>,
) -> Result<Response, ApiError> {
    caller.actor(&app, Permission::ReadStock).await?;
    app.store
        .product(&product)
        .await
        .map_err(ApiError::lookup)?;
    let ratios = app.store.ratios_of(&product).await?;
    Ok(Json(types::Ratios { ratios }).into_response())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemMoveBody {
    pub item_code: String,
    /// receipt, issue, adjustment_up or adjustment_down
    pub kind: String,
    /// Pieces, above 0.
    pub quantity: i64,
    /// The delivery note, or why.
    pub note: Option<String>,
}

/// Moves ancillary items at a store.
#[utoipa::path(
    post,
    path = "/api/v1/stores/{code}/items",
    summary = "Record pieces of an ancillary item received, issued (used, thrown away) or adjusted at a store in the caller's areas. Refused, nothing written: a quantity of 0 or less, more leaving than on hand, an unknown item or kind, an adjustment without a note. Shipments carry items with the vaccine. 201 {item_code, on_hand}",
    params(("code" = String, Path, description = "store code")),
    request_body = ItemMoveBody,
    responses(
        (status = 201, description = "{item_code, on_hand}", body = types::ItemOnHand),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn move_items(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store): Path<String>,
    ApiJson(b): ApiJson<ItemMoveBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageStock).await?;
    app.store
        .stock_store(&store, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let kind = match b.kind.trim() {
        "receipt" => ItemMove::Receipt,
        "issue" => ItemMove::Issue,
        "adjustment_up" => ItemMove::AdjustUp,
        "adjustment_down" => ItemMove::AdjustDown,
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("'{other}' is not one of receipt, issue, adjustment_up, adjustment_down"),
            ))
        }
    };
    let quantity = u64::try_from(b.quantity)
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| ApiError::invalid("quantity", "quantity must be a whole number above 0"))?;
    let note = b.note.as_deref().map(str::trim).unwrap_or_default();
    if matches!(kind, ItemMove::AdjustUp | ItemMove::AdjustDown) && note.is_empty() {
        return Err(ApiError::invalid(
            "note",
            "an adjustment needs a note saying why",
        ));
    }
    let item_code = code("item_code", &b.item_code, 32)?;
    let on_hand = app
        .store
        .record_item_movement(&store, &item_code, kind, quantity, note, &actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(types::ItemOnHand { item_code, on_hand }),
    )
        .into_response())
}

/// A store's ancillary items and what it lacks.
#[utoipa::path(
    get,
    path = "/api/v1/stores/{code}/items",
    summary = "The ancillary items on hand at a store, and the shortfall warnings: the pieces it lacks for the vaccine it holds, by the products' ratios: {items[], shortfalls[]}",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 200, description = "{items[], shortfalls[]}", body = types::StoreItems),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn store_items(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadStock).await?;
    let items = app
        .store
        .item_stock(&store, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let shortfalls = app.store.item_shortfalls(&store, &actor.scope).await?;
    Ok(Json(types::StoreItems::new(items, shortfalls)).into_response())
}

/// The routes of this module, for `crate::routes()`.
pub fn routes() -> Vec<crate::RouteDef> {
    use crate::r;
    use crate::Policy::Needs;
    use axum::http::Method as M;
    use axum::routing::{get, post};
    use vaxgrid_core::access::Permission::*;
    vec![
        r(
            M::POST,
            "/api/v1/allocations/proposal",
            Needs(ManageStock),
            post(proposal),
        ),
        r(
            M::POST,
            "/api/v1/allocations",
            Needs(ManageStock),
            post(confirm),
        ),
        r(
            M::GET,
            "/api/v1/stores/{code}/open-vials",
            Needs(ReadStock),
            get(store_open_vials),
        ),
        r(
            M::GET,
            "/api/v1/sites/{code}/open-vials",
            Needs(RecordDose),
            get(site_open_vials),
        ),
        r(
            M::GET,
            "/api/v1/supply-items",
            Needs(ReadStock),
            get(list_items),
        ),
        r(
            M::POST,
            "/api/v1/supply-items",
            Needs(ManageReference),
            post(create_item),
        ),
        r(
            M::GET,
            "/api/v1/products/{code}/ratios",
            Needs(ReadStock),
            get(ratios),
        ),
        r(
            M::POST,
            "/api/v1/products/{code}/ratios",
            Needs(ManageReference),
            post(set_ratio),
        ),
        r(
            M::GET,
            "/api/v1/stores/{code}/items",
            Needs(ReadStock),
            get(store_items),
        ),
        r(
            M::POST,
            "/api/v1/stores/{code}/items",
            Needs(ManageStock),
            post(move_items),
        ),
        r(
            M::GET,
            "/api/v1/areas/{code}/border",
            Needs(ReadReference),
            get(super::areas::get_border),
        ),
        r(
            M::POST,
            "/api/v1/areas/{code}/border",
            Needs(ManageReference),
            post(super::areas::set_border),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(vials: i64, campaign: Option<&str>) -> ProposalBody {
        ProposalBody {
            from_store: " S1 ".into(),
            product_code: "AZ".into(),
            lot_number: "L1".into(),
            vials,
            basis: None,
            campaign_id: campaign.map(str::to_string),
            border_weights: None,
        }
    }

    /// The field an error names and its message.
    fn refusal(e: ApiError) -> (String, String) {
        e.field_and_message()
    }

    #[test]
    fn a_proposal_is_read_trimmed_with_the_defaults() {
        let b = body(4, Some("  "));
        let req = read_proposal(&b).unwrap();
        assert_eq!(req.from_code, "S1");
        assert_eq!(req.vials, 4);
        assert_eq!(req.basis, Basis::RemainingEligible);
        assert_eq!(req.campaign, None);
        let b = body(4, Some(" c1 "));
        assert_eq!(read_proposal(&b).unwrap().campaign, Some("c1"));
    }

    #[test]
    fn no_vials_is_refused() {
        for vials in [0, -3] {
            let e = read_proposal(&body(vials, None)).err().unwrap();
            assert_eq!(refusal(e).0, "vials");
        }
    }

    #[test]
    fn more_doses_than_the_store_holds_are_refused() {
        let b = body(3, None);
        let req = read_proposal(&b).unwrap();
        assert_eq!(doses_asked(&req, 10, 30, "S1").unwrap(), 30);
        let e = doses_asked(&req, 10, 29, "S1").err().unwrap();
        assert_eq!(
            refusal(e),
            (
                "vials".to_string(),
                "3 vials are 30 doses, but store S1 holds 29 doses of lot L1".to_string()
            )
        );
    }

    #[test]
    fn allocation_errors_name_the_request_field() {
        assert_eq!(allocation_field("recipients"), "from_store");
        assert_eq!(
            allocation_field("factor_permille"),
            "border_weights.factor_permille"
        );
        assert_eq!(allocation_field("within_km"), "border_weights.within_km");
        assert_eq!(allocation_field("need"), "need");
    }
}
