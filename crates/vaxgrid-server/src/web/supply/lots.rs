//! A lot's page: its expiry, status (with the reason: the excursion, the
//! recall) and VVM stage; the stores in the caller's areas holding it; for
//! those reading the registry, the persons dosed from it (a page of them,
//! and the whole list as CSV from the API); for those holding lots, the
//! quarantine / release / recall form (`api::supply::lot_status`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::model::Actor;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::supply::{DosedFromLot, LotHold};
use vaxgrid_store::supply_reports::LotAtStore;

use super::super::{error_page, render_status, see_other, PageCtx};
use super::{
    doses, field_of, form_errors, form_pairs, holds, one, refusal_status, seg, status_text,
};
use crate::api::supply::{self as api, LotStatusBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Persons listed on the page; the CSV has them all.
const PERSONS_SHOWN: usize = 200;

pub struct HolderLine {
    pub name: String,
    pub code: String,
    pub href: String,
    pub on_hand: String,
}

pub struct PersonLine {
    pub name: String,
    pub href: String,
    pub dose: String,
    pub site: String,
    pub day: String,
}

#[derive(Template)]
#[template(path = "supply/lot.html")]
struct LotPage {
    ctx: PageCtx,
    title: String,
    product: String,
    lot: String,
    action: String,
    expiry: String,
    status: String,
    status_code: String,
    reason: String,
    vvm: String,
    holders: Vec<HolderLine>,
    persons: Option<Vec<PersonLine>>,
    persons_total: String,
    more_persons: bool,
    csv: String,
    may_hold: bool,
    may_recall: bool,
    draft: HashMap<String, String>,
    errors: HashMap<String, String>,
}

impl LotPage {
    fn err(&self, key: &str) -> Option<&String> {
        self.errors.get(key)
    }

    fn draft(&self, key: &str) -> &str {
        self.draft.get(key).map_or("", String::as_str)
    }
}

/// What the page shows, read in the caller's scope.
struct LotRead {
    actor: Actor,
    hold: LotHold,
    holders: Vec<LotAtStore>,
    /// The persons dosed from the lot, for those reading the registry.
    persons: Option<Vec<DosedFromLot>>,
}

/// Reads the lot's status, the stores holding it and, for those reading
/// the registry, the persons dosed from it. A lot never stocked in the
/// caller's areas is not theirs to see (404).
async fn read_lot(
    app: &AppState,
    caller: &Caller,
    ctx: &PageCtx,
    (product, lot): (&str, &str),
) -> Result<LotRead, ApiError> {
    let actor = caller.actor(app, Permission::ReadStock).await?;
    let hold = app
        .store
        .lot_hold(product, lot)
        .await
        .map_err(ApiError::lookup)?;
    if actor.scope != Scope::All && !app.store.lot_stocked_in(product, lot, &actor.scope).await? {
        return Err(ApiError::Absent {
            entity: "lot",
            key: format!("{product}/{lot}"),
        });
    }
    let holders = app.store.lot_stores(product, lot, &actor.scope).await?;
    let persons = if holds(ctx, Permission::ReadRegistry) {
        let registry = caller.actor(app, Permission::ReadRegistry).await?;
        Some(
            app.store
                .persons_dosed_from_lot(product, lot, &registry.scope)
                .await?,
        )
    } else {
        None
    };
    Ok(LotRead {
        actor,
        hold,
        holders,
        persons,
    })
}

/// The stores holding the lot, each linking its page.
fn holder_lines(lang: Lang, holders: &[LotAtStore]) -> Vec<HolderLine> {
    holders
        .iter()
        .map(|h| HolderLine {
            name: h.store_name.clone(),
            code: h.store_code.clone(),
            href: format!("/supply/stores/{}", seg(&h.store_code)),
            on_hand: doses(lang, h.on_hand),
        })
        .collect()
}

/// The first [`PERSONS_SHOWN`] persons dosed from the lot.
fn person_lines(lang: Lang, persons: &[DosedFromLot]) -> Vec<PersonLine> {
    persons
        .iter()
        .take(PERSONS_SHOWN)
        .map(|p| PersonLine {
            name: p.full_name.clone(),
            href: format!("/registry/persons/{}", seg(&p.person_id)),
            dose: lang.int(p.dose_number),
            site: p.site_code.clone(),
            day: lang.date_text(&p.administered_on),
        })
        .collect()
}

async fn lot_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    (product, lot): (&str, &str),
    draft: HashMap<String, String>,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let LotRead {
        actor,
        hold,
        holders,
        persons,
    } = match read_lot(app, caller, &ctx, (product, lot)).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let total = persons.as_ref().map_or(0, Vec::len);
    let page = LotPage {
        title: lang.ta(
            "supply-lot-title",
            vec![
                ("product", product.to_string().into()),
                ("lot", lot.to_string().into()),
            ],
        ),
        product: product.to_string(),
        lot: lot.to_string(),
        action: format!("/supply/lots/{}/{}/status", seg(product), seg(lot)),
        expiry: lang.date_text(&hold.expiry),
        status: status_text(lang, &hold.status),
        status_code: hold.status.clone(),
        reason: hold.status_reason.clone().unwrap_or_default(),
        vvm: hold
            .vvm_stage
            .map_or_else(|| "—".to_string(), |v| lang.int(i64::from(v))),
        holders: holder_lines(lang, &holders),
        persons: persons.map(|list| person_lines(lang, &list)),
        persons_total: lang.int(total as i64),
        more_persons: total > PERSONS_SHOWN,
        csv: format!(
            "/api/v1/lots/{}/{}/persons?format=csv",
            seg(product),
            seg(lot)
        ),
        may_hold: holds(&ctx, Permission::HoldLots) && hold.status != "recalled",
        may_recall: actor.scope == Scope::All,
        draft,
        errors,
        ctx,
    };
    render_status(status, &page)
}

/// `GET /supply/lots/{product_code}/{lot_number}`
#[utoipa::path(
    get,
    path = "/supply/lots/{product_code}/{lot_number}",
    summary = "A lot's page (HTML; ReadStock): expiry, status with its reason, VVM stage; the stores in the caller's areas holding it; for registry readers the persons dosed from it (200 on the page, all in the API's CSV); for HoldLots the quarantine / release / recall form. 404 for a lot never stocked in the caller's areas",
    params(
        ("product_code" = String, Path, description = "product"),
        ("lot_number" = String, Path, description = "lot number")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such lot in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((product, lot)): Path<(String, String)>,
) -> Response {
    lot_page(
        &app,
        &caller,
        ctx,
        (&product, &lot),
        HashMap::new(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /supply/lots/{product_code}/{lot_number}/status`
#[utoipa::path(
    post,
    path = "/supply/lots/{product_code}/{lot_number}/status",
    summary = "Quarantine, release or recall a lot from its page (form: csrf_token, status = quarantined | released | recalled, reason, vvm_stage 1-4: needed to release) through the API's own function (audited): 303 back to the lot; refused: the page again with the error next to the field; 403 for a recall by a role not holding everywhere; 404 for a lot never stocked in the caller's areas",
    params(
        ("product_code" = String, Path, description = "product"),
        ("lot_number" = String, Path, description = "lot number")
    ),
    responses(
        (status = 303, description = "done"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 403, description = "the error page: a recall is national", content_type = "text/html"),
        (status = 404, description = "the error page: no such lot in the caller's areas", content_type = "text/html"),
        (status = 409, description = "the page again, with the error (a recall is final)", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn set_status(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((product, lot)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let draft: HashMap<String, String> = ["status", "reason", "vvm_stage"]
        .iter()
        .map(|f| (format!("hold-{f}"), one(&pairs, f)))
        .collect();
    let vvm = one(&pairs, "vvm_stage");
    let body = LotStatusBody {
        status: one(&pairs, "status"),
        reason: one(&pairs, "reason"),
        vvm_stage: if vvm.trim().is_empty() {
            None
        } else {
            Some(vvm.trim().parse().unwrap_or(0))
        },
    };
    match api::lot_status(&app, &caller, &product, &lot, body).await {
        Ok(_) => see_other(format!("/supply/lots/{}/{}", seg(&product), seg(&lot))),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "hold", &e, &[]);
            let status = refusal_status(&e);
            lot_page(&app, &caller, ctx, (&product, &lot), draft, errors, status).await
        }
    }
}
