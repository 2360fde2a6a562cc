//! The planner's allocation review (`/allocation`, `ManageStock`): choose a
//! delivery (a lot at a store, in whole vials), see it split among the
//! stores one level down by need and border weight, adjust the parts and
//! confirm, which dispatches the shipments. The rules and the writing are
//! the API's (`api::allocation::propose`, `confirm_parts`); a refusal comes
//! back as the form with what was typed and the rule next to the field
//! (`allocation-err-<field>` in the reader's language). The sum of the
//! parts is shown beside the delivery, and a sum that differs is named at
//! the sum. No script: the page works by keyboard and at 360 px.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Extension;
use vaxgrid_core::access::{permits, Permission};
use vaxgrid_store::model::Actor;

use super::admin::{client_id, given, query_fields};
use super::planner::planning::{field_of, form_pairs, one};
use super::{error_page, render_status, PageCtx};
use crate::api::allocation::{
    confirm_parts, propose, BandBody, ConfirmBody, PartBody, Proposal, ProposalBody,
};
use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    let manage = Policy::Needs(Permission::ManageStock);
    vec![
        r(M::GET, "/allocation", manage, get(review)),
        r(M::POST, "/allocation", manage, post(confirm)),
    ]
}

/// The menu entry, for those who move stock.
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if ctx
        .roles
        .iter()
        .any(|r| permits(*r, Permission::ManageStock))
    {
        vec![("/allocation".to_string(), tkey("allocation-nav"))]
    } else {
        Vec::new()
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(review, confirm))]
pub struct Pages;

/// The delivery as typed in the form.
#[derive(Default, Clone)]
pub struct Delivery {
    pub from_store: String,
    pub product_code: String,
    pub lot_number: String,
    pub vials: String,
    pub basis: String,
    pub campaign_id: String,
    pub within_km: String,
    pub factor: String,
}

impl Delivery {
    fn of(fields: &dyn Fn(&str) -> String) -> Delivery {
        Delivery {
            from_store: fields("from_store").trim().to_string(),
            product_code: fields("product_code").trim().to_string(),
            lot_number: fields("lot_number").trim().to_string(),
            vials: fields("vials").trim().to_string(),
            basis: fields("basis").trim().to_string(),
            campaign_id: fields("campaign_id").trim().to_string(),
            within_km: fields("within_km").trim().to_string(),
            factor: fields("factor").trim().to_string(),
        }
    }

    fn complete(&self) -> bool {
        !self.from_store.is_empty()
            && !self.product_code.is_empty()
            && !self.lot_number.is_empty()
            && !self.vials.is_empty()
    }

    /// The API's body, or the field that cannot be read.
    fn body(&self) -> Result<ProposalBody, ApiError> {
        let vials = self
            .vials
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("vials", "not a whole number"))?;
        let bands = if self.factor.is_empty() {
            Some(Vec::new())
        } else {
            let factor = self
                .factor
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && *f > 0.0 && *f <= 10.0)
                .ok_or_else(|| ApiError::invalid("factor", "not a weight"))?;
            let within = if self.within_km.is_empty() {
                20
            } else {
                self.within_km
                    .parse::<i64>()
                    .map_err(|_| ApiError::invalid("within_km", "not a distance"))?
            };
            #[allow(clippy::cast_possible_truncation)]
            let permille = (factor * 1000.0).round() as i64;
            Some(vec![BandBody {
                within_km: within,
                factor_permille: permille,
            }])
        };
        Ok(ProposalBody {
            from_store: self.from_store.clone(),
            product_code: self.product_code.clone(),
            lot_number: self.lot_number.clone(),
            vials,
            basis: Some(self.basis.clone()).filter(|b| !b.is_empty()),
            campaign_id: Some(self.campaign_id.clone()).filter(|c| !c.is_empty()),
            border_weights: bands,
        })
    }
}

/// One store's row of the review.
pub struct Row {
    pub index: usize,
    pub store_code: String,
    pub store_name: String,
    pub area_name: String,
    pub border: String,
    pub population: String,
    pub need: String,
    pub weight: String,
    pub proposed: String,
    /// What the planner typed (the proposal at first).
    pub vials: String,
    pub per_head: String,
    pub error: Option<String>,
}

pub struct Done {
    pub shipments: Vec<(String, String)>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "allocation/review.html")]
struct ReviewPage {
    ctx: PageCtx,
    d: Delivery,
    id: String,
    rows: Vec<Row>,
    has_proposal: bool,
    delivery_vials: String,
    doses_per_vial: String,
    on_hand: String,
    sum: String,
    sum_ok: bool,
    errors: HashMap<String, String>,
    done: Option<Done>,
    /// What goes with the delivery (syringes, safety boxes by ratio), and
    /// what the sending store lacks for the vaccine it holds.
    supplies: Supplies,
}

#[derive(Default)]
pub struct Supplies {
    pub with: Vec<String>,
    pub short: Vec<String>,
}

/// The ancillary items the delivery carries and the sending store's
/// shortfalls, as lines in the reader's language (none when unreadable).
async fn supplies(
    app: &AppState,
    p: &Proposal,
    scope: &vaxgrid_store::scope::Scope,
    lang: Lang,
) -> Supplies {
    let ratios = app
        .store
        .ratios_of(&p.product_code)
        .await
        .unwrap_or_default();
    let with = vaxgrid_core::supply::ancillary::needs(p.doses, p.doses_per_vial, &ratios)
        .into_iter()
        .map(|(item, n)| {
            lang.t2(
                "allocation-with-line",
                "item",
                item.as_str(),
                "pieces",
                n as i64,
            )
        })
        .collect();
    let short = app
        .store
        .item_shortfalls(&p.from_store, scope)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            lang.ta(
                "allocation-short-line",
                vec![
                    ("item", s.item_code.as_str().into()),
                    ("short", (s.short as i64).into()),
                    ("needed", (s.needed as i64).into()),
                    ("on_hand", (s.on_hand as i64).into()),
                ],
            )
        })
        .collect();
    Supplies { with, short }
}

impl ReviewPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The form field a refusal is shown at, and its message.
fn refusal(lang: Lang, e: &ApiError) -> (String, String) {
    let field = field_of(e).unwrap_or_else(|| "form".into());
    let at = match field.as_str() {
        f if f.starts_with("parts[") => f.to_string(),
        "border_weights.factor_permille" => "factor".into(),
        f if f.starts_with("border_weights") && f.ends_with("within_km") => "within_km".into(),
        "store_code" | "parts" => "parts".into(),
        f => f.split(['[', '.']).next().unwrap_or(f).to_string(),
    };
    let base = at.rsplit('.').next().unwrap_or(&at);
    let base = if at.starts_with("parts[") {
        format!("part-{base}")
    } else {
        base.to_string()
    };
    let key = format!("allocation-err-{base}");
    let text = lang.t(&key);
    let text = if text == key {
        lang.t("allocation-err-other")
    } else {
        text
    };
    (at, text)
}

fn factor_text(lang: Lang, permille: u32) -> String {
    format!("×{}", lang.decimal(f64::from(permille) / 1000.0, 1))
}

fn rows_of(lang: Lang, p: &Proposal, typed: Option<&[(String, String)]>) -> Vec<Row> {
    p.parts
        .iter()
        .enumerate()
        .map(|(index, x)| {
            let vials = typed
                .and_then(|t| t.iter().find(|(s, _)| s == &x.store_code))
                .map_or_else(|| x.vials.to_string(), |(_, v)| v.clone());
            let per_head = if x.population > 0 {
                let v = vials.parse::<f64>().unwrap_or(0.0);
                #[allow(clippy::cast_possible_truncation)]
                lang.int(
                    (v * f64::from(p.doses_per_vial) * 100.0 / x.population as f64).round() as i64,
                )
            } else {
                "—".into()
            };
            Row {
                index,
                store_code: x.store_code.clone(),
                store_name: x.store_name.clone(),
                area_name: x.area_name.clone(),
                border: x
                    .border_km
                    .map_or_else(|| "—".into(), |k| format!("{} km", lang.int(i64::from(k)))),
                population: lang.int(x.population as i64),
                need: lang.int(x.need as i64),
                weight: factor_text(lang, x.factor_permille),
                proposed: lang.int(x.vials as i64),
                vials,
                per_head,
                error: None,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn page(
    supplies: Supplies,
    ctx: PageCtx,
    d: Delivery,
    proposal: Option<&Proposal>,
    typed: Option<&[(String, String)]>,
    errors: HashMap<String, String>,
    done: Option<Done>,
    id: String,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let mut rows = proposal.map_or_else(Vec::new, |p| rows_of(lang, p, typed));
    for r in &mut rows {
        r.error = errors
            .get(&format!("parts[{}].vials", r.index))
            .or_else(|| errors.get(&format!("parts[{}].store_code", r.index)))
            .cloned();
    }
    let sum: i64 = rows
        .iter()
        .map(|r| r.vials.parse::<i64>().unwrap_or(0))
        .sum();
    let delivery = proposal.map_or(0, |p| p.vials as i64);
    render_status(
        status,
        &ReviewPage {
            has_proposal: proposal.is_some(),
            delivery_vials: lang.int(delivery),
            doses_per_vial: proposal
                .map_or_else(String::new, |p| lang.int(i64::from(p.doses_per_vial))),
            on_hand: proposal.map_or_else(String::new, |p| lang.int(p.on_hand as i64)),
            sum: lang.int(sum),
            sum_ok: sum == delivery,
            ctx,
            d,
            id,
            rows,
            errors,
            done,
            supplies,
        },
    )
}

/// `GET /allocation`
#[utoipa::path(
    get,
    path = "/allocation",
    summary = "The allocation review (HTML, ManageStock): the delivery's form (from_store, product_code, lot_number, vials, basis, campaign_id, within_km, factor) and, once given, its split among the stores one level down with each part editable and their sum beside the delivery; a refusal shown at its field",
    params(
        ("from_store" = Option<String>, Query, description = "the store holding the delivery"),
        ("product_code" = Option<String>, Query, description = "product"),
        ("lot_number" = Option<String>, Query, description = "lot"),
        ("vials" = Option<String>, Query, description = "whole vials"),
        ("basis" = Option<String>, Query, description = "remaining_eligible or remaining_target"),
        ("campaign_id" = Option<String>, Query, description = "for remaining_target"),
        ("within_km" = Option<String>, Query, description = "border band, km (20)"),
        ("factor" = Option<String>, Query, description = "its weight, e.g. 1.5; empty: none")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 422, description = "the form with the refusal at its field", content_type = "text/html"),
    )
)]
pub async fn review(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let fields = query_fields(raw.as_deref());
    let get = |k: &str| given(&fields, k).unwrap_or_default();
    let mut d = Delivery::of(&get);
    if fields.is_empty() {
        d.within_km = "20".into();
        d.factor = "1.5".into();
    }
    if !d.complete() {
        return page(
            Supplies::default(),
            ctx,
            d,
            None,
            None,
            HashMap::new(),
            None,
            client_id(),
            StatusCode::OK,
        );
    }
    let actor = match caller.actor(&app, Permission::ManageStock).await {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, e),
    };
    let proposed = match d.body() {
        Ok(b) => propose(&app, &actor, &b).await,
        Err(e) => Err(e),
    };
    match proposed {
        Ok(p) => page(
            supplies(&app, &p, &actor.scope, ctx.lang).await,
            ctx,
            d,
            Some(&p),
            None,
            HashMap::new(),
            None,
            client_id(),
            StatusCode::OK,
        ),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let (at, text) = refusal(ctx.lang, &e);
            page(
                Supplies::default(),
                ctx,
                d,
                None,
                None,
                HashMap::from([(at, text)]),
                None,
                client_id(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// The confirmation form as typed: the delivery, the form's client id and
/// the parts (store and vials, in order).
struct ConfirmForm {
    d: Delivery,
    id: String,
    /// Every part_vials field, trimmed (the sum shown in a refusal counts
    /// them all).
    vials: Vec<String>,
    /// The parts as (store_code, vials) pairs.
    typed: Vec<(String, String)>,
}

impl ConfirmForm {
    fn of(pairs: &[(String, String)]) -> ConfirmForm {
        let get = |k: &str| one(pairs, k);
        let stores: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "store_code")
            .map(|(_, v)| v.clone())
            .collect();
        let vials: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "part_vials")
            .map(|(_, v)| v.trim().to_string())
            .collect();
        let typed = stores.iter().cloned().zip(vials.iter().cloned()).collect();
        ConfirmForm {
            d: Delivery::of(&get),
            id: one(pairs, "id"),
            vials,
            typed,
        }
    }
}

/// The typed parts as the API's, or the first whose vials are not a
/// whole number.
fn parts_of(typed: &[(String, String)]) -> Result<Vec<PartBody>, ApiError> {
    let mut parts = Vec::with_capacity(typed.len());
    for (i, (s, v)) in typed.iter().enumerate() {
        let n = v
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(format!("parts[{i}].vials"), "not a whole number"))?;
        parts.push(PartBody {
            store_code: s.clone(),
            vials: n,
        });
    }
    Ok(parts)
}

/// Reads the form's delivery and parts, then confirms them as the API does.
async fn confirm_form(
    app: &AppState,
    actor: &Actor,
    form: &ConfirmForm,
) -> Result<vaxgrid_store::allocation::Allocation, ApiError> {
    let b = form.d.body()?;
    let parts = parts_of(&form.typed)?;
    confirm_parts(
        app,
        actor,
        ConfirmBody {
            id: Some(form.id.clone()).filter(|i| !i.is_empty()),
            from_store: b.from_store,
            product_code: b.product_code,
            lot_number: b.lot_number,
            vials: b.vials,
            basis: b.basis,
            campaign_id: b.campaign_id,
            border_weights: b.border_weights,
            parts,
        },
    )
    .await
}

/// The shipments dispatched, in the reader's language.
fn done_of(lang: Lang, a: &vaxgrid_store::allocation::Allocation) -> Done {
    Done {
        shipments: a
            .shipments
            .iter()
            .map(|s| (s.to_store.clone(), lang.int(s.dispatched as i64)))
            .collect(),
        total: lang.int(a.doses as i64),
    }
}

/// The refusal of a confirmation at its field; parts that do not sum to
/// the delivery are told with both sums (an unreadable number counts 0).
fn confirm_refusal(lang: Lang, e: &ApiError, form: &ConfirmForm) -> (String, String) {
    let (at, text) = refusal(lang, e);
    if at != "parts" {
        return (at, text);
    }
    let sum: i64 = form
        .vials
        .iter()
        .map(|v| v.parse::<i64>().unwrap_or(0))
        .sum();
    let text = lang.t2(
        "allocation-err-sum",
        "given",
        sum,
        "delivery",
        form.d.vials.parse::<i64>().unwrap_or(0),
    );
    (at, text)
}

/// The form again (422) with the typed parts, the refusal at its field and
/// the proposal recomputed when the delivery can still be read.
async fn refused_form(
    app: &AppState,
    actor: &Actor,
    ctx: PageCtx,
    form: ConfirmForm,
    e: &ApiError,
) -> Response {
    let lang = ctx.lang;
    let (at, text) = confirm_refusal(lang, e, &form);
    let proposal = match form.d.body() {
        Ok(b) => propose(app, actor, &b).await.ok(),
        Err(_) => None,
    };
    let sup = match &proposal {
        Some(p) => supplies(app, p, &actor.scope, lang).await,
        None => Supplies::default(),
    };
    page(
        sup,
        ctx,
        form.d,
        proposal.as_ref(),
        Some(&form.typed),
        HashMap::from([(at, text)]),
        None,
        form.id,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// `POST /allocation`
#[utoipa::path(
    post,
    path = "/allocation",
    summary = "Confirm an allocation from the review (form: csrf_token, id: the form's client id, the delivery's fields, then store_code and part_vials per store in order): 201 with the shipments dispatched; the form again with the typed parts and the refusal at its field (the sum, a part) otherwise, nothing written; 303 back to the review when this form was already confirmed",
    responses(
        (status = 201, description = "the shipments dispatched", content_type = "text/html"),
        (status = 303, description = "already confirmed by this form"),
        (status = 400, description = "the error page: a form that cannot be read", content_type = "text/html"),
        (status = 422, description = "the form again, with the refusal", content_type = "text/html"),
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let form = ConfirmForm::of(&pairs);
    let actor = match caller.actor(&app, Permission::ManageStock).await {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, e),
    };
    match confirm_form(&app, &actor, &form).await {
        Ok(a) => {
            let done = done_of(ctx.lang, &a);
            page(
                Supplies::default(),
                ctx,
                form.d,
                None,
                None,
                HashMap::new(),
                Some(done),
                client_id(),
                StatusCode::CREATED,
            )
        }
        Err(e) if super::planner::planning::already_recorded(&e) => super::see_other("/allocation"),
        Err(e) if field_of(&e).is_none() => error_page(&ctx, e),
        Err(e) => refused_form(&app, &actor, ctx, form, &e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(parts: &[(&str, &str)]) -> Vec<(String, String)> {
        parts
            .iter()
            .map(|(s, v)| (s.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_typed_parts_are_read_in_order() {
        let parts = parts_of(&typed(&[("S1", "12"), ("S2", "0")])).unwrap();
        let read: Vec<_> = parts
            .iter()
            .map(|p| (p.store_code.as_str(), p.vials))
            .collect();
        assert_eq!(read, [("S1", 12), ("S2", 0)]);
    }

    #[test]
    fn a_part_that_is_not_a_whole_number_is_refused_at_its_field() {
        let e = parts_of(&typed(&[("S1", "12"), ("S2", "1.5"), ("S3", "x")])).unwrap_err();
        assert_eq!(field_of(&e).as_deref(), Some("parts[1].vials"));
    }

    #[test]
    fn the_form_pairs_each_store_with_its_vials_and_keeps_every_vials_field() {
        let pairs: Vec<(String, String)> = [
            ("id", "abc"),
            ("vials", " 30 "),
            ("store_code", "S1"),
            ("part_vials", " 20 "),
            ("store_code", "S2"),
            ("part_vials", "10"),
            ("part_vials", "5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let form = ConfirmForm::of(&pairs);
        assert_eq!(form.id, "abc");
        assert_eq!(form.d.vials, "30");
        assert_eq!(form.typed, typed(&[("S1", "20"), ("S2", "10")]));
        assert_eq!(form.vials, ["20", "10", "5"]);
    }
}
