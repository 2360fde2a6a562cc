//! A store's page for the cold-chain officer: on hand by lot with status,
//! VVM stage and expiry, days of supply by product, the store's equipment
//! with its working/broken switch, shipments on their way in (each with
//! its receive form) and out, the latest movements, and the forms to
//! record a receipt, a wastage or discard, a physical count, and to
//! dispatch a shipment. Every form goes through the API's own function
//! and comes back, when refused, with the error next to its field.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::supply::{Shipment, StockStore};

use super::super::{error_page, render_status, see_other, PageCtx};
use super::{
    already_recorded, doses, field_of, form_errors, form_pairs, holds, one, refusal_status, seg,
    status_text, ProductLine,
};
use crate::api::supply::{self as api, MovementBody, ReceiveBody, ShipmentBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

/// Movements shown on the page, newest first.
const MOVEMENTS_SHOWN: usize = 30;

pub struct LotLine {
    pub product: String,
    pub lot: String,
    pub href: String,
    pub on_hand: String,
    pub expiry: String,
    pub expired: bool,
    pub status: String,
    pub held: bool,
    pub reason: String,
    pub vvm: String,
}

pub struct EquipmentLine {
    pub id: String,
    pub href: String,
    pub kind: String,
    pub range: String,
    pub working: bool,
    pub action: String,
}

pub struct ShipmentLine {
    pub id: String,
    pub other: String,
    pub other_href: String,
    pub product: String,
    pub lot: String,
    pub dispatched: String,
    pub dispatched_value: String,
    pub received: String,
    pub status: String,
    pub reason: String,
    /// The keys of the receive form's fields (drafts and errors).
    pub received_key: String,
    pub reason_key: String,
}

pub struct MovementLine {
    pub when: String,
    pub kind: String,
    pub lot: String,
    pub delta: String,
    pub by: String,
    pub note: String,
}

/// A choice of a select: value, text, chosen.
pub struct Choice {
    pub value: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "supply/store.html")]
struct StorePage {
    ctx: PageCtx,
    title: String,
    code: String,
    area: String,
    area_href: String,
    parent: Option<(String, String)>,
    site: Option<String>,
    products: Vec<ProductLine>,
    lots: Vec<LotLine>,
    equipment: Vec<EquipmentLine>,
    incoming: Vec<ShipmentLine>,
    outgoing: Vec<ShipmentLine>,
    movements: Vec<MovementLine>,
    manage: bool,
    lot_choices: Vec<Choice>,
    product_choices: Vec<Choice>,
    destinations: Vec<Choice>,
    sources: Vec<Choice>,
    wastage_reasons: Vec<Choice>,
    draft: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl StorePage {
    fn err(&self, key: &str) -> Option<&String> {
        self.errors.get(key)
    }

    fn draft(&self, key: &str) -> &str {
        self.draft.get(key).map_or("", String::as_str)
    }

    fn chosen(&self, key: &str, value: &str) -> bool {
        self.draft(key) == value
    }
}

/// The client ids of the page's forms (a new one for each form shown).
fn fresh_ids(draft: &mut HashMap<String, String>) {
    for form in ["receipt", "waste", "count", "dispatch"] {
        draft
            .entry(format!("{form}-id"))
            .or_insert_with(super::super::admin::client_id);
    }
}

const WASTAGE_REASONS: [&str; 6] = [
    "expired",
    "broken",
    "temperature",
    "open_vial_unused",
    "vvm",
    "recalled",
];

fn kind_text(lang: crate::i18n::Lang, kind: &str) -> String {
    let key = format!("supply-kind-{kind}");
    let t = lang.t(&key);
    if t == key {
        kind.to_string()
    } else {
        t
    }
}

/// What a movement's facts say, shortly: its reason, document, source,
/// the other store of a shipment.
fn movement_note(lang: crate::i18n::Lang, d: &serde_json::Value) -> String {
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut parts = Vec::new();
    // A day's line of doses given names its day (its time is the last
    // dose's).
    if let Some(day) = s("day") {
        parts.push(lang.date_text(&day));
    }
    if let Some(src) = s("source") {
        parts.push(kind_text(lang, &format!("source-{src}")));
    }
    for k in ["document", "to_store", "discrepancy_reason", "direction"] {
        if let Some(v) = s(k) {
            parts.push(v);
        }
    }
    if let Some(r) = s("reason") {
        if WASTAGE_REASONS.contains(&r.as_str()) {
            parts.push(lang.t(&format!("supply-waste-{r}")));
        } else {
            parts.push(r);
        }
    }
    parts.join(" · ")
}

/// What a store's page shows, read within the caller's areas.
struct StoreRead {
    store: StockStore,
    figures: std::collections::BTreeMap<String, vaxgrid_store::supply_reports::StockFigures>,
    lots: Vec<vaxgrid_store::supply_reports::StoreLot>,
    equipment: Vec<vaxgrid_store::supply::Equipment>,
    shipments: Vec<Shipment>,
    movements: Vec<vaxgrid_store::supply::MovementRecord>,
    area: vaxgrid_store::model::Area,
    parent: Option<StockStore>,
    /// The stores it supplies (code, name).
    children: Vec<(String, String)>,
    products: Vec<vaxgrid_core::product::Product>,
}

impl StoreRead {
    async fn load(app: &AppState, caller: &Caller, code: &str) -> Result<StoreRead, ApiError> {
        let actor = caller.actor(app, Permission::ReadStock).await?;
        let scope = &actor.scope;
        let store = app
            .store
            .stock_store(code, scope)
            .await
            .map_err(ApiError::lookup)?;
        let figures = app.store.store_stock_figures(code, scope).await?;
        let lots = app.store.store_lots(code, scope).await?;
        let equipment = app.store.equipment_of(code, scope).await?;
        let shipments = app.store.shipments_of(code, scope, 50).await?;
        let movements = app.store.movements_of(code, scope, MOVEMENTS_SHOWN).await?;
        let area = app.store.area(&store.area_code).await?;
        let parent = match &store.parent_code {
            Some(p) => Some(
                app.store
                    .stock_store(p, &vaxgrid_store::scope::Scope::All)
                    .await?,
            ),
            None => None,
        };
        let children = app.store.child_stores(code).await?;
        let products = app.store.products().await?;
        Ok(StoreRead {
            store,
            figures,
            lots,
            equipment,
            shipments,
            movements,
            area,
            parent,
            children,
            products,
        })
    }
}

async fn store_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    code: &str,
    mut draft: HashMap<String, String>,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let read = match StoreRead::load(app, caller, code).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let (store, area, parent) = (&read.store, &read.area, read.parent.as_ref());
    fresh_ids(&mut draft);
    let line = |s: &Shipment, incoming: bool| shipment_line(lang, s, incoming);
    let page = StorePage {
        title: lang.t1("supply-store-title", "name", store.name.clone()),
        code: store.code.clone(),
        area: area.name.clone(),
        area_href: format!("/supply/areas/{}", seg(&area.code)),
        parent: parent.map(|p| (p.name.clone(), format!("/supply/stores/{}", seg(&p.code)))),
        site: store.site_code.clone(),
        products: read
            .figures
            .iter()
            .map(|(p, f)| ProductLine::of(lang, p, f))
            .collect(),
        lots: lot_lines(lang, &read.lots),
        equipment: read
            .equipment
            .iter()
            .map(|e| equipment_line(lang, e))
            .collect(),
        incoming: read
            .shipments
            .iter()
            .filter(|s| s.to_store == store.code)
            .map(|s| line(s, true))
            .collect(),
        outgoing: read
            .shipments
            .iter()
            .filter(|s| s.from_store == store.code)
            .map(|s| line(s, false))
            .collect(),
        movements: read
            .movements
            .iter()
            .map(|m| movement_line(lang, m))
            .collect(),
        manage: holds(&ctx, Permission::ManageStock),
        lot_choices: lot_choices(lang, &read.lots),
        product_choices: read
            .products
            .iter()
            .map(|p| Choice {
                value: p.code.clone(),
                text: format!("{} · {}", p.code, p.name),
            })
            .collect(),
        destinations: destinations(&read.children, parent),
        sources: ["purchase", "donation", "covax", "transfer_in"]
            .iter()
            .map(|s| Choice {
                value: (*s).to_string(),
                text: kind_text(lang, &format!("source-{s}")),
            })
            .collect(),
        wastage_reasons: wastage_choices(lang),
        draft,
        errors,
        ctx,
    };
    render_status(status, &page)
}

/// The lots with doses on hand, to choose from in the forms.
fn lot_choices(
    lang: crate::i18n::Lang,
    lots: &[vaxgrid_store::supply_reports::StoreLot],
) -> Vec<Choice> {
    lots.iter()
        .filter(|l| l.on_hand > 0)
        .map(|l| Choice {
            value: format!("{}/{}", l.product_code, l.lot_number),
            text: lang.ta(
                "supply-lot-choice",
                vec![
                    ("product", l.product_code.clone().into()),
                    ("lot", l.lot_number.clone().into()),
                    ("doses", l.on_hand.into()),
                ],
            ),
        })
        .collect()
}

/// The store's lots: on hand, expiry, status and VVM stage.
fn lot_lines(
    lang: crate::i18n::Lang,
    lots: &[vaxgrid_store::supply_reports::StoreLot],
) -> Vec<LotLine> {
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    lots.iter()
        .map(|l| LotLine {
            product: l.product_code.clone(),
            lot: l.lot_number.clone(),
            href: format!(
                "/supply/lots/{}/{}",
                seg(&l.product_code),
                seg(&l.lot_number)
            ),
            on_hand: doses(lang, l.on_hand),
            expiry: lang.date_text(&l.expiry),
            expired: l.expiry < today,
            held: l.status != "released",
            status: status_text(lang, &l.status),
            reason: l.status_reason.clone().unwrap_or_default(),
            vvm: l.vvm_stage.map_or_else(|| "—".to_string(), |v| lang.int(v)),
        })
        .collect()
}

/// A piece of cold-chain equipment: its range and whether it works.
fn equipment_line(lang: crate::i18n::Lang, e: &vaxgrid_store::supply::Equipment) -> EquipmentLine {
    EquipmentLine {
        id: e.id.clone(),
        href: format!("/supply/equipment/{}", seg(&e.id)),
        kind: lang.t(&format!("supply-equipment-{}", e.kind.as_str())),
        range: lang.ta(
            "supply-range",
            vec![
                (
                    "min",
                    lang.decimal(f64::from(e.min_tenths) / 10.0, 1).into(),
                ),
                (
                    "max",
                    lang.decimal(f64::from(e.max_tenths) / 10.0, 1).into(),
                ),
            ],
        ),
        working: e.working,
        action: format!("/supply/equipment/{}/working", seg(&e.id)),
    }
}

/// A shipment into the store (`incoming`) or out of it.
fn shipment_line(lang: crate::i18n::Lang, s: &Shipment, incoming: bool) -> ShipmentLine {
    let other = if incoming { &s.from_store } else { &s.to_store };
    ShipmentLine {
        id: s.id.clone(),
        other: other.clone(),
        other_href: format!("/supply/stores/{}", seg(other)),
        product: s.product_code.clone(),
        lot: s.lot_number.clone(),
        dispatched: doses(lang, s.dispatched as i64),
        dispatched_value: s.dispatched.to_string(),
        received: s
            .received
            .map_or_else(String::new, |r| doses(lang, r as i64)),
        status: lang.t(&format!(
            "supply-shipment-{}",
            match s.status {
                vaxgrid_core::supply::ledger::ShipmentStatus::Received => "received",
                vaxgrid_core::supply::ledger::ShipmentStatus::InTransit => "in_transit",
                vaxgrid_core::supply::ledger::ShipmentStatus::Dispatched => "dispatched",
            }
        )),
        reason: s.discrepancy_reason.clone().unwrap_or_default(),
        received_key: format!("receive-{}-received", s.id),
        reason_key: format!("receive-{}-discrepancy_reason", s.id),
    }
}

/// A movement of the ledger: when, what, the change and its note.
fn movement_line(
    lang: crate::i18n::Lang,
    m: &vaxgrid_store::supply::MovementRecord,
) -> MovementLine {
    MovementLine {
        when: super::super::admin::instant(lang, m.recorded_at),
        kind: kind_text(lang, &m.kind),
        lot: format!("{} {}", m.product_code, m.lot_number),
        delta: if m.delta > 0 {
            format!("+{}", lang.int(m.delta))
        } else if m.delta < 0 {
            lang.int(m.delta)
        } else {
            format!("({})", lang.int(m.quantity as i64))
        },
        by: m.actor.clone(),
        note: movement_note(lang, &m.details),
    }
}

/// Where the store dispatches to: the stores it supplies, then its own
/// supplier.
fn destinations(children: &[(String, String)], parent: Option<&StockStore>) -> Vec<Choice> {
    let mut destinations: Vec<Choice> = children
        .iter()
        .map(|(code, name)| Choice {
            text: format!("{code} · {name}"),
            value: code.clone(),
        })
        .collect();
    if let Some(p) = parent {
        destinations.push(Choice {
            value: p.code.clone(),
            text: format!("{} · {}", p.code, p.name),
        });
    }
    destinations
}

/// The reasons for wastage, then "other".
fn wastage_choices(lang: crate::i18n::Lang) -> Vec<Choice> {
    WASTAGE_REASONS
        .iter()
        .map(|r| Choice {
            value: (*r).to_string(),
            text: lang.t(&format!("supply-waste-{r}")),
        })
        .chain(std::iter::once(Choice {
            value: "other".into(),
            text: lang.t("supply-waste-other"),
        }))
        .collect()
}

/// `GET /supply/stores/{code}`
#[utoipa::path(
    get,
    path = "/supply/stores/{code}",
    summary = "A store's page (HTML; ReadStock on its area): on hand by lot with status, VVM stage and expiry, days of supply and wastage by product, its equipment (working or broken, each linking to its temperature chart), shipments in and out, the latest movements; for ManageStock the forms to record a receipt, wastage or a discard, a physical count, to dispatch and receive shipments. 404 outside the caller's areas",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such store in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Response {
    store_page(
        &app,
        &caller,
        ctx,
        &code,
        HashMap::new(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// The form's `lot` choice (`product/lot`) as product and lot number.
fn lot_of(value: &str) -> (String, String) {
    match value.split_once('/') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), value.to_string()),
    }
}

/// A whole number typed in a form (spaces, thousands separators of the
/// locale dropped); what is not a number is passed on as none, so that
/// the API's rule names the field.
fn number(text: &str) -> Option<i64> {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != ',')
        .collect();
    t.parse().ok()
}

/// The fields each movement form sends, or none for an unknown form.
fn movement_fields(form: &str) -> Option<&'static [&'static str]> {
    match form {
        "receipt" => Some(&[
            "id",
            "product_code",
            "lot_number",
            "quantity",
            "source",
            "document",
        ]),
        "waste" => Some(&["id", "lot", "quantity", "reason", "reason_text"]),
        "count" => Some(&["id", "lot", "counted", "reason"]),
        _ => None,
    }
}

/// The API's movement from a form: a receipt; a wastage, or a discard
/// when its reason is "other" (the typed reason then); or a count (an
/// unreadable count sent as -1, which the API refuses at its field).
fn movement_body(form: &str, pairs: &[(String, String)]) -> MovementBody {
    let id = Some(one(pairs, "id")).filter(|s| !s.is_empty());
    let (product_code, lot_number) = if form == "receipt" {
        (one(pairs, "product_code"), one(pairs, "lot_number"))
    } else {
        lot_of(&one(pairs, "lot"))
    };
    let quantity = number(&one(pairs, "quantity"));
    match form {
        "receipt" => MovementBody {
            id,
            product_code,
            lot_number,
            kind: "receipt".into(),
            quantity,
            source: Some(one(pairs, "source")),
            document: Some(one(pairs, "document")),
            ..MovementBody::default()
        },
        "waste" => {
            let reason = one(pairs, "reason");
            let (kind, reason) = if reason == "other" {
                ("discard", one(pairs, "reason_text"))
            } else {
                ("wastage", reason)
            };
            MovementBody {
                id,
                product_code,
                lot_number,
                kind: kind.into(),
                quantity,
                reason: Some(reason),
                ..MovementBody::default()
            }
        }
        _ => MovementBody {
            id,
            product_code,
            lot_number,
            kind: "count".into(),
            counted: number(&one(pairs, "counted")).or(Some(-1)),
            reason: Some(one(pairs, "reason")),
            ..MovementBody::default()
        },
    }
}

/// Whether a refusal is shown on the error page rather than next to a
/// field of the form: no field, an absent record, or an unknown store.
fn refused_outside_the_form(e: &ApiError) -> bool {
    field_of(e).is_none()
        || matches!(e, ApiError::Absent { .. })
        || matches!(
            e,
            ApiError::Store(vaxgrid_store::StoreError::NotFound {
                field: "store_code",
                ..
            })
        )
}

/// The refusal next to the form's field: the lot choice stands for the
/// product and lot number, and a discard's reason is typed, a wastage's
/// chosen.
fn movement_errors(
    lang: crate::i18n::Lang,
    form: &str,
    pairs: &[(String, String)],
    e: &ApiError,
) -> HashMap<String, String> {
    let rename: &[(&str, &str)] = if form == "receipt" {
        &[]
    } else {
        &[("product_code", "lot"), ("lot_number", "lot")]
    };
    let mut errors = form_errors(lang, form, e, rename);
    if form == "waste" && one(pairs, "reason") == "other" {
        if let Some(m) = errors.remove("waste-reason") {
            errors.insert("waste-reason_text".into(), m);
        }
    }
    errors
}

/// `POST /supply/stores/{code}/movements`
#[utoipa::path(
    post,
    path = "/supply/stores/{code}/movements",
    summary = "Record a movement from a store's page (form: csrf_token, form = receipt | waste | count, id: the form's client id; receipt: product_code, lot_number, quantity, source, document; waste: lot (product/lot), quantity, reason (a wastage reason, or other with reason_text: a discard); count: lot, counted, reason) through the API's own function: 303 back to the store; the same form sent again: 303 (recorded once); refused: the page again with the error next to the field and what was typed",
    params(("code" = String, Path, description = "store code")),
    responses(
        (status = 303, description = "recorded (or already recorded by this form)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such store in the caller's areas", content_type = "text/html"),
        (status = 409, description = "the page again, with the error", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn record(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let form = one(&pairs, "form");
    let Some(fields) = movement_fields(&form) else {
        return error_page(
            &ctx,
            ApiError::bad_request("form", "form is receipt, waste or count"),
        );
    };
    let mut draft: HashMap<String, String> = fields
        .iter()
        .map(|f| (format!("{form}-{f}"), one(&pairs, f)))
        .collect();
    let body = movement_body(&form, &pairs);
    match api::movement_at(&app, &caller, code.clone(), body).await {
        Ok(_) => see_other(format!("/supply/stores/{}", seg(&code))),
        Err(e) if already_recorded(&e) => see_other(format!("/supply/stores/{}", seg(&code))),
        Err(e) if refused_outside_the_form(&e) => error_page(&ctx, e),
        Err(e) => {
            let errors = movement_errors(ctx.lang, &form, &pairs, &e);
            draft.retain(|k, _| !k.ends_with("-id") || k.starts_with(&format!("{form}-")));
            let status = refusal_status(&e);
            store_page(&app, &caller, ctx, &code, draft, errors, status).await
        }
    }
}

/// `POST /supply/stores/{code}/shipments`
#[utoipa::path(
    post,
    path = "/supply/stores/{code}/shipments",
    summary = "Dispatch a shipment from a store's page (form: csrf_token, id: the form's client id, lot: product/lot, to_store, quantity) through the API's own function: 303 back to the store; the same form sent again: 303 (dispatched once); refused: the page again with the error next to the field",
    params(("code" = String, Path, description = "the sending store's code")),
    responses(
        (status = 303, description = "dispatched (or already dispatched by this form)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such store in the caller's areas", content_type = "text/html"),
        (status = 409, description = "the page again, with the error", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn dispatch(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    // The store must be the caller's: else the 404 page, not a form error.
    let mine = async {
        let actor = caller.actor(&app, Permission::ManageStock).await?;
        app.store
            .stock_store(&code, &actor.scope)
            .await
            .map_err(ApiError::lookup)
    };
    if let Err(e) = mine.await {
        return error_page(&ctx, e);
    }
    let draft: HashMap<String, String> = ["id", "lot", "to_store", "quantity"]
        .iter()
        .map(|f| (format!("dispatch-{f}"), one(&pairs, f)))
        .collect();
    let (product_code, lot_number) = lot_of(&one(&pairs, "lot"));
    let body = ShipmentBody {
        id: Some(one(&pairs, "id")).filter(|s| !s.is_empty()),
        from_store: code.clone(),
        to_store: one(&pairs, "to_store"),
        product_code,
        lot_number,
        quantity: number(&one(&pairs, "quantity")).unwrap_or(0),
    };
    match api::dispatch_shipment(&app, &caller, body).await {
        Ok(_) => see_other(format!("/supply/stores/{}", seg(&code))),
        Err(e) if already_recorded(&e) => see_other(format!("/supply/stores/{}", seg(&code))),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(
                ctx.lang,
                "dispatch",
                &e,
                &[("product_code", "lot"), ("lot_number", "lot")],
            );
            let status = refusal_status(&e);
            store_page(&app, &caller, ctx, &code, draft, errors, status).await
        }
    }
}

/// `POST /supply/shipments/{id}/receive`
#[utoipa::path(
    post,
    path = "/supply/shipments/{id}/receive",
    summary = "Receive a shipment from the receiving store's page (form: csrf_token, received, discrepancy_reason when received differs from what was dispatched) through the API's own function: 303 back to the store; a shipment already received: 303 (received once); refused: the page again with the error next to the field; 404 for a shipment not coming to a store in the caller's areas",
    params(("id" = String, Path, description = "shipment id")),
    responses(
        (status = 303, description = "received (or already received)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such shipment to the caller's areas", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn receive(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let target = async {
        let actor = caller.actor(&app, Permission::ManageStock).await?;
        let absent = || ApiError::Absent {
            entity: "shipment",
            key: id.clone(),
        };
        let s = app.store.shipment(&id).await.map_err(|_| absent())?;
        app.store
            .stock_store(&s.to_store, &actor.scope)
            .await
            .map_err(|_| absent())?;
        Ok::<_, ApiError>(s)
    };
    let shipment = match target.await {
        Ok(s) => s,
        Err(e) => return error_page(&ctx, e),
    };
    let back = format!("/supply/stores/{}", seg(&shipment.to_store));
    let received = one(&pairs, "received");
    let reason = one(&pairs, "discrepancy_reason");
    let draft: HashMap<String, String> = HashMap::from([
        (format!("receive-{id}-received"), received.clone()),
        (format!("receive-{id}-discrepancy_reason"), reason.clone()),
    ]);
    let body = ReceiveBody {
        received: number(&received).unwrap_or(0),
        discrepancy_reason: Some(reason).filter(|r| !r.trim().is_empty()),
    };
    match api::receive_shipment(&app, &caller, &id, body).await {
        Ok(_) => see_other(back),
        Err(ApiError::Store(vaxgrid_store::StoreError::Conflict {
            field: "status", ..
        })) => see_other(back),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "receive", &e, &[("quantity", "received")]);
            let errors = errors
                .into_iter()
                .map(|(k, v)| (k.replacen("receive-", &format!("receive-{id}-"), 1), v))
                .collect();
            let status = refusal_status(&e);
            store_page(
                &app,
                &caller,
                ctx,
                &shipment.to_store,
                draft,
                errors,
                status,
            )
            .await
        }
    }
}

/// `POST /supply/equipment/{id}/working`
#[utoipa::path(
    post,
    path = "/supply/equipment/{id}/working",
    summary = "Mark equipment working or broken from its store's page (form: csrf_token, working = true | false) through the API's own function (audited): 303 back to the store; 404 for equipment outside the caller's areas",
    params(("id" = String, Path, description = "equipment id")),
    responses(
        (status = 303, description = "changed"),
        (status = 400, description = "the error page: working is not true or false", content_type = "text/html"),
        (status = 404, description = "the error page: no such equipment in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn working(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let working = match one(&pairs, "working").as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return error_page(
                &ctx,
                ApiError::bad_request("working", "working is true or false"),
            )
        }
    };
    match api::equipment_working(&app, &caller, &id, working).await {
        Ok(e) => see_other(format!("/supply/stores/{}#equipment", seg(&e.store_code))),
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::{movement_body, movement_errors, movement_note};
    use crate::i18n::Lang;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_wastage_for_another_reason_is_a_discard_with_the_typed_reason() {
        let form = pairs(&[
            ("lot", "MR/L-1"),
            ("quantity", "1 200"),
            ("reason", "other"),
            ("reason_text", "dropped"),
        ]);
        let b = movement_body("waste", &form);
        assert_eq!(
            (
                b.kind.as_str(),
                b.product_code.as_str(),
                b.lot_number.as_str()
            ),
            ("discard", "MR", "L-1")
        );
        assert_eq!(
            (b.quantity, b.reason.as_deref()),
            (Some(1200), Some("dropped"))
        );
        let b = movement_body("waste", &pairs(&[("lot", "MR/L-1"), ("reason", "broken")]));
        assert_eq!(
            (b.kind.as_str(), b.reason.as_deref()),
            ("wastage", Some("broken"))
        );
    }

    #[test]
    fn an_unreadable_count_is_sent_for_the_api_to_refuse() {
        let b = movement_body("count", &pairs(&[("lot", "MR/L-1"), ("counted", "many")]));
        assert_eq!((b.kind.as_str(), b.counted), ("count", Some(-1)));
        let b = movement_body("receipt", &pairs(&[("product_code", "MR"), ("id", "")]));
        assert_eq!(
            (b.kind.as_str(), b.id, b.product_code.as_str()),
            ("receipt", None, "MR")
        );
    }

    #[test]
    fn a_discards_refused_reason_is_shown_at_the_typed_reason() {
        let e = crate::error::ApiError::invalid("reason", "a reason is needed");
        let form = pairs(&[("reason", "other")]);
        let errors = movement_errors(Lang::En, "waste", &form, &e);
        assert!(errors.contains_key("waste-reason_text"), "{errors:?}");
        assert!(!errors.contains_key("waste-reason"));
    }

    #[test]
    fn a_days_line_of_doses_given_names_its_day_in_the_readers_language() {
        let d = serde_json::json!({"kind": "dose_given", "day": "2021-08-15"});
        assert_eq!(
            movement_note(Lang::Vi, &d),
            Lang::Vi.date_text("2021-08-15")
        );
        assert_ne!(movement_note(Lang::Vi, &d), movement_note(Lang::Zh, &d));
        let receipt = serde_json::json!({"kind": "receipt", "document": "PX-1"});
        assert_eq!(movement_note(Lang::En, &receipt), "PX-1");
    }
}
