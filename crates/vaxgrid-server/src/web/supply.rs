//! The supply's pages (`/supply…`): an area's stock on hand, days of
//! supply, lots expiring soon, wastage and open excursions, each linking
//! down (`Store::supply_dashboard`, one fixed set of statements whatever
//! the number of stores); a store's page for the cold-chain officer
//! (`store`); a lot's page with its stores, the persons dosed from it and
//! the quarantine / release / recall form (`lots`); and a fridge's
//! temperature chart (`equipment`).
//!
//! Read by the roles holding `ReadStock` on the area (cold-chain officers,
//! planners, statistics officers, administrators); a store, area, lot or
//! piece of equipment outside the caller's areas is the 404 page, as in
//! the API. Every change goes through the API's own function
//! (`api::supply::movement_at`, `dispatch_shipment`, `receive_shipment`,
//! `equipment_working`, `lot_status`): one set of rules. A refusal comes
//! back as the page with what was typed and the field's rule from
//! `supply-err-<form>-<field>` next to it, in the reader's language.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Extension;
use vaxgrid_core::access::{permits, Permission};
use vaxgrid_store::supply_reports::{ExpiringLot, StockFigures, StoreStock, SupplyDashboard};

use super::{error_page, render_status, see_other, PageCtx};
use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

pub mod equipment;
pub mod lots;
pub mod store;

/// Lots expiring within this many days are listed unless the page says.
pub const EXPIRING_DAYS: i64 = 60;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    let read = Policy::Needs(Permission::ReadStock);
    let manage = Policy::Needs(Permission::ManageStock);
    let hold = Policy::Needs(Permission::HoldLots);
    vec![
        r(M::GET, "/supply", read, get(top)),
        r(M::GET, "/supply/areas/{code}", read, get(area)),
        r(M::GET, "/supply/stores/{code}", read, get(store::page)),
        r(
            M::POST,
            "/supply/stores/{code}/movements",
            manage,
            post(store::record),
        ),
        r(
            M::POST,
            "/supply/stores/{code}/shipments",
            manage,
            post(store::dispatch),
        ),
        r(
            M::POST,
            "/supply/shipments/{id}/receive",
            manage,
            post(store::receive),
        ),
        r(
            M::POST,
            "/supply/equipment/{id}/working",
            manage,
            post(store::working),
        ),
        r(M::GET, "/supply/equipment/{id}", read, get(equipment::page)),
        r(
            M::GET,
            "/supply/lots/{product_code}/{lot_number}",
            read,
            get(lots::page),
        ),
        r(
            M::POST,
            "/supply/lots/{product_code}/{lot_number}/status",
            hold,
            post(lots::set_status),
        ),
    ]
}

/// Whether one of the caller's roles carries `permission`.
pub(crate) fn holds(ctx: &PageCtx, permission: Permission) -> bool {
    ctx.roles.iter().any(|r| permits(*r, permission))
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if holds(ctx, Permission::ReadStock) {
        vec![("/supply".to_string(), tkey("supply-nav"))]
    } else {
        Vec::new()
    }
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    top,
    area,
    store::page,
    store::record,
    store::dispatch,
    store::receive,
    store::working,
    equipment::page,
    lots::page,
    lots::set_status
))]
pub struct Pages;

// ------------------------------------------------------------ shared

pub(crate) use super::planner::planning::{already_recorded, field_of, form_pairs, one};

/// The message shown next to `field` of `form`, in the reader's language
/// (`supply-err-<form>-<field>`, or a general one).
pub(crate) fn field_message(lang: Lang, form: &str, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let key = format!("supply-err-{form}-{base}");
    let text = lang.t(&key);
    if text == key {
        lang.t("supply-err-other")
    } else {
        text
    }
}

/// The status a refused form answers: 400 for what could not be read,
/// 409 for a conflict, 422 for a rule.
pub(crate) fn refusal_status(e: &ApiError) -> StatusCode {
    match e {
        ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        ApiError::Store(vaxgrid_store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The path segment of a code (store codes, lots and equipment ids are
/// free text).
pub(crate) fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A number of doses in the locale.
pub(crate) fn doses(lang: Lang, n: i64) -> String {
    lang.int(n)
}

/// Days of supply in the locale (one decimal), or "no use".
pub(crate) fn days_text(lang: Lang, f: &StockFigures) -> String {
    match f.days_of_supply() {
        Some(d) if d >= 100.0 => lang.int(d.round() as i64),
        Some(d) => lang.decimal(d, 1),
        None => lang.t("supply-no-use"),
    }
}

/// Mean daily use in the locale (one decimal).
pub(crate) fn use_text(lang: Lang, f: &StockFigures) -> String {
    lang.decimal(f.daily_use(), 1)
}

/// The wastage rate in the locale, or "—" without consumption.
pub(crate) fn wastage_text(lang: Lang, f: &StockFigures) -> String {
    if f.wastage_rate().is_some() {
        lang.percent(f.wasted_month, f.given_month + f.wasted_month)
    } else {
        "—".to_string()
    }
}

/// Whether days of supply are short (under 7 days) for the page's badge.
pub(crate) fn short(f: &StockFigures) -> bool {
    f.days_of_supply().is_some_and(|d| d < 7.0)
}

/// A lot status in the reader's language.
pub(crate) fn status_text(lang: Lang, status: &str) -> String {
    let key = format!("supply-status-{status}");
    let text = lang.t(&key);
    if text == key {
        status.to_string()
    } else {
        text
    }
}

/// One product's figures as the pages show them.
pub struct ProductLine {
    pub product: String,
    pub on_hand: String,
    pub daily_use: String,
    pub days: String,
    pub short: bool,
    pub wastage: String,
    /// Doses wasted and consumed (given + wasted) over the wastage period.
    pub wasted: String,
    pub consumed: String,
}

impl ProductLine {
    pub fn of(lang: Lang, product: &str, f: &StockFigures) -> ProductLine {
        ProductLine {
            product: product.to_string(),
            on_hand: doses(lang, f.on_hand),
            daily_use: use_text(lang, f),
            days: days_text(lang, f),
            short: short(f),
            wastage: wastage_text(lang, f),
            wasted: doses(lang, f.wasted_month),
            consumed: doses(lang, f.given_month + f.wasted_month),
        }
    }
}

// ------------------------------------------------------------ dashboard

/// A row of an area page's tables: an area or a store with one product.
pub struct Line {
    pub name: String,
    pub href: Option<String>,
    pub note: String,
    pub first: bool,
    pub span: usize,
    pub figures: ProductLine,
}

pub struct ExpiringLine {
    pub product: String,
    pub lot: String,
    pub href: String,
    pub expiry: String,
    pub expired: bool,
    pub status: String,
    pub on_hand: String,
    pub stores: String,
}

pub struct ExcursionLine {
    pub equipment: String,
    pub href: String,
    pub store: String,
    pub store_href: String,
    pub since: String,
    pub text: String,
    pub lots: String,
}

pub struct Crumb {
    pub name: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "supply/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    title: String,
    crumbs: Vec<Crumb>,
    here: String,
    expiring_days: String,
    totals: Vec<ProductLine>,
    stores_count: String,
    children: Vec<Line>,
    stores: Vec<Line>,
    wasteful: Vec<Line>,
    expiring: Vec<ExpiringLine>,
    excursions: Vec<ExcursionLine>,
}

/// Lines of a table of areas or stores: one per product, the first of each
/// carrying the name (a row header spanning its products); an entry
/// without any product gets one line of zeros.
fn lines<'a>(
    lang: Lang,
    entries: impl Iterator<
        Item = (
            String,
            Option<String>,
            String,
            &'a std::collections::BTreeMap<String, StockFigures>,
        ),
    >,
) -> Vec<Line> {
    let mut out = Vec::new();
    for (name, href, note, by_product) in entries {
        let zero = StockFigures::default();
        let products: Vec<(&str, &StockFigures)> = if by_product.is_empty() {
            vec![("—", &zero)]
        } else {
            by_product.iter().map(|(p, f)| (p.as_str(), f)).collect()
        };
        let span = products.len();
        for (i, (p, f)) in products.into_iter().enumerate() {
            out.push(Line {
                name: name.clone(),
                href: href.clone(),
                note: note.clone(),
                first: i == 0,
                span,
                figures: ProductLine::of(lang, p, f),
            });
        }
    }
    out
}

/// The excursion lines of a page.
pub(crate) fn excursion_lines(
    lang: Lang,
    list: &[vaxgrid_store::cold_chain::StoredExcursion],
) -> Vec<ExcursionLine> {
    list.iter()
        .map(|e| ExcursionLine {
            equipment: e.equipment_id.clone(),
            href: format!("/supply/equipment/{}", seg(&e.equipment_id)),
            store: e.store_code.clone(),
            store_href: format!("/supply/stores/{}", seg(&e.store_code)),
            since: super::admin::instant(
                lang,
                i64::try_from(e.excursion.started_at.unix_timestamp_nanos() / 1000).unwrap_or(0),
            ),
            text: excursion_text(lang, e),
            lots: lang.int(e.lots.len() as i64),
        })
        .collect()
}

/// An excursion in the reader's language: kind, extremes, duration.
pub(crate) fn excursion_text(lang: Lang, e: &vaxgrid_store::cold_chain::StoredExcursion) -> String {
    use vaxgrid_core::supply::cold_chain::ExcursionKind;
    let kind = match e.excursion.kind {
        ExcursionKind::Heat => "heat",
        ExcursionKind::Freeze => "freeze",
        ExcursionKind::Both => "both",
    };
    lang.ta(
        "supply-excursion-text",
        vec![
            ("kind", lang.t(&format!("supply-excursion-{kind}")).into()),
            (
                "min",
                lang.decimal(f64::from(e.excursion.min_tenths) / 10.0, 1)
                    .into(),
            ),
            (
                "max",
                lang.decimal(f64::from(e.excursion.max_tenths) / 10.0, 1)
                    .into(),
            ),
            ("minutes", e.duration_minutes.into()),
        ],
    )
}

/// The materialised path of `code` (`/01/0101/`) within an area's path
/// (`/01/0101/010105/`), empty when `code` is not on it.
fn ancestor_path(area_path: &str, code: &str) -> String {
    area_path
        .find(&format!("/{code}/"))
        .map(|at| area_path[..at + code.len() + 2].to_string())
        .unwrap_or_default()
}

/// The path down to the area: all areas, its ancestors, itself. An area
/// above the caller's own is named, not linked (its page would be the 404
/// page).
fn dashboard_crumbs(
    lang: Lang,
    d: &SupplyDashboard,
    scope: &vaxgrid_store::scope::Scope,
) -> Vec<Crumb> {
    let mut crumbs: Vec<Crumb> = vec![Crumb {
        name: lang.t("supply-all-areas"),
        href: Some("/supply".into()),
    }];
    for (code, name) in &d.ancestors {
        let path = ancestor_path(&d.area.path, code);
        crumbs.push(Crumb {
            name: name.clone(),
            href: scope
                .covers_path(&path)
                .then(|| format!("/supply/areas/{}", seg(code))),
        });
    }
    crumbs.push(Crumb {
        name: d.area.name.clone(),
        href: None,
    });
    crumbs
}

/// The lines of a table of stores, each linking its store.
fn store_lines(lang: Lang, stores: &[StoreStock]) -> Vec<Line> {
    lines(
        lang,
        stores.iter().map(|s| {
            (
                s.name.clone(),
                Some(format!("/supply/stores/{}", seg(&s.code))),
                s.code.clone(),
                &s.by_product,
            )
        }),
    )
}

/// The lots expiring soon, those past `today` (YYYY-MM-DD) marked expired.
fn expiring_lines(lang: Lang, lots: &[ExpiringLot], today: &str) -> Vec<ExpiringLine> {
    lots.iter()
        .map(|l| ExpiringLine {
            product: l.product_code.clone(),
            lot: l.lot_number.clone(),
            href: format!(
                "/supply/lots/{}/{}",
                seg(&l.product_code),
                seg(&l.lot_number)
            ),
            expiry: lang.date_text(&l.expiry),
            expired: l.expiry.as_str() < today,
            status: status_text(lang, &l.status),
            on_hand: doses(lang, l.on_hand),
            stores: lang.int(l.stores),
        })
        .collect()
}

fn dashboard_page(
    ctx: PageCtx,
    d: SupplyDashboard,
    expiring_days: i64,
    scope: &vaxgrid_store::scope::Scope,
) -> Response {
    let lang = ctx.lang;
    let children = lines(
        lang,
        d.children.iter().map(|c| {
            (
                c.name.clone(),
                Some(format!("/supply/areas/{}", seg(&c.code))),
                lang.t1("supply-stores-count", "count", c.stores),
                &c.by_product,
            )
        }),
    );
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    render_status(
        StatusCode::OK,
        &DashboardPage {
            title: lang.t1("supply-title-area", "area", d.area.name.clone()),
            here: format!("/supply/areas/{}", seg(&d.area.code)),
            expiring_days: expiring_days.to_string(),
            stores_count: lang.int(d.area.stores),
            crumbs: dashboard_crumbs(lang, &d, scope),
            totals: d
                .area
                .by_product
                .iter()
                .map(|(p, f)| ProductLine::of(lang, p, f))
                .collect(),
            children,
            stores: store_lines(lang, &d.stores),
            wasteful: store_lines(lang, &d.wasteful),
            expiring: expiring_lines(lang, &d.expiring, &today),
            excursions: excursion_lines(lang, &d.excursions),
            ctx,
        },
    )
}

/// The `expiring` query field: days ahead, 1 to 365.
fn expiring_of(raw: Option<&str>) -> Result<i64, ApiError> {
    let fields = super::admin::query_fields(raw);
    for k in fields.keys() {
        if k != "expiring" {
            return Err(ApiError::bad_request(
                k,
                format!("unknown query field '{k}'"),
            ));
        }
    }
    match super::admin::given(&fields, "expiring") {
        None => Ok(EXPIRING_DAYS),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| ApiError::bad_request("expiring", "expiring is 1 to 365 days")),
    }
}

/// `GET /supply/areas/{code}`
#[utoipa::path(
    get,
    path = "/supply/areas/{code}",
    summary = "The supply of an area (HTML; ReadStock on the area): stock on hand, mean daily use over the last 7 days and days of supply by product, for the area and each area under it (linking down) and each store at the area itself (linking to its page); the stores wasting most over 30 days; lots on hand expiring within `expiring` days (60 unless said); open excursions. 404 outside the caller's areas",
    params(
        ("code" = String, Path, description = "area code"),
        ("expiring" = Option<i64>, Query, description = "days ahead for the expiring lots, 1 to 365")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad query field", content_type = "text/html"),
        (status = 404, description = "the error page: no such area in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn area(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let days = match expiring_of(raw.as_deref()) {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, e),
    };
    let shown = async {
        let actor = caller.actor(&app, Permission::ReadStock).await?;
        let d = app
            .store
            .supply_dashboard(&code, days, &actor.scope)
            .await
            .map_err(ApiError::lookup)?;
        Ok::<_, ApiError>((d, actor.scope))
    };
    match shown.await {
        Ok((d, scope)) => dashboard_page(ctx, d, days, &scope),
        Err(e) => error_page(&ctx, e),
    }
}

pub struct RootLine {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "supply/top.html")]
struct TopPage {
    ctx: PageCtx,
    roots: Vec<RootLine>,
    excursions: Vec<ExcursionLine>,
}

/// `GET /supply`
#[utoipa::path(
    get,
    path = "/supply",
    summary = "The supply's first page (HTML; ReadStock): a caller holding one area goes to its page (303); others see their areas (every province for a national role) and the open excursions in them",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "to the page of the caller's one area"),
    )
)]
pub async fn top(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let found = async {
        let actor = caller.actor(&app, Permission::ReadStock).await?;
        let roots = app.store.scope_roots(&actor.scope).await?;
        let excursions = app.store.open_excursions(&actor.scope).await?;
        Ok::<_, ApiError>((roots, excursions))
    };
    let (roots, excursions) = match found.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    if let [only] = roots.as_slice() {
        return see_other(format!("/supply/areas/{}", seg(&only.code)));
    }
    let lang = ctx.lang;
    render_status(
        StatusCode::OK,
        &TopPage {
            roots: roots
                .iter()
                .map(|a| RootLine {
                    name: a.name.clone(),
                    href: format!("/supply/areas/{}", seg(&a.code)),
                })
                .collect(),
            excursions: excursion_lines(lang, &excursions),
            ctx,
        },
    )
}

/// The errors of a form: the field a refusal names (renamed onto the
/// form's fields where they differ) and its message.
pub(crate) fn form_errors(
    lang: Lang,
    form: &str,
    e: &ApiError,
    rename: &[(&str, &str)],
) -> HashMap<String, String> {
    let field = field_of(e).unwrap_or_else(|| "form".into());
    let base = field.split(['[', '.']).next().unwrap_or(&field).to_string();
    let base = rename
        .iter()
        .find(|(from, _)| *from == base)
        .map_or(base.clone(), |(_, to)| to.to_string());
    HashMap::from([(format!("{form}-{base}"), field_message(lang, form, &base))])
}

#[cfg(test)]
mod tests {
    use super::ancestor_path;

    #[test]
    fn an_ancestors_path_is_cut_from_the_areas_own() {
        assert_eq!(ancestor_path("/01/0101/010105/", "01"), "/01/");
        assert_eq!(ancestor_path("/01/0101/010105/", "0101"), "/01/0101/");
        assert_eq!(ancestor_path("/01/0101/010105/", "02"), "");
    }
}
