//! Campaign planning pages: campaigns and their waves, and the target
//! handed down the area tree as an editable tree (parts fixed by hand, the
//! rest re-split in proportion to the eligible population, sums shown).
//!
//! Forms post `application/x-www-form-urlencoded` with the session's CSRF
//! token (checked by `auth::enforce`) and, when they create something, a
//! client id: a second submit of the same form finds the record made by
//! the first and records nothing. The checks are the API's own
//! (`api::campaigns::new_campaign`, `new_wave`, and the store's rules);
//! a refused form comes back with what was typed and the error next to
//! the field, in the reader's language.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::campaigns::{Campaign, TargetReport};
use vaxgrid_store::lists::CampaignFilter;
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::StoreError;

use super::super::{error_page, render_status, PageCtx};
use crate::api::campaigns::{history_allowed, new_campaign, new_wave, CampaignBody, WaveBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::web::see_other;
use crate::web::urlencode as urlencoding;
use crate::AppState;

/// The pairs of a form body (a field may repeat: checkboxes).
pub(crate) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    crate::edge::check_pairs(body, "body")?;
    Ok(form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

pub(crate) fn one(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// A comma- or space-separated list as typed.
fn list(text: &str) -> Vec<String> {
    text.split([',', ' ', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The field a refusal names, when it names one.
pub(crate) fn field_of(e: &ApiError) -> Option<String> {
    match e {
        ApiError::BadRequest { field, .. } => Some(field.clone()),
        ApiError::Invalid(errors) => errors.first().map(|f| f.field.clone()),
        ApiError::Store(StoreError::Invalid { field, .. }) => Some(field.clone()),
        ApiError::Store(StoreError::NotFound { field, .. })
        | ApiError::Store(StoreError::Conflict { field, .. })
        | ApiError::Store(StoreError::Forbidden { field, .. }) => Some(field.to_string()),
        ApiError::Store(StoreError::DoseRule(_)) => None,
        _ => None,
    }
}

/// Whether a refusal says that the record of this client id exists: the
/// form was sent twice, and the first one was recorded.
pub(crate) fn already_recorded(e: &ApiError) -> bool {
    matches!(e, ApiError::Store(StoreError::Conflict { field: "id", .. }))
}

/// The message shown next to `field` of a `form`, in the reader's
/// language: the rule the field must keep (the files name each field).
pub(crate) fn field_message(lang: Lang, form: &str, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let key = format!("planner-err-{form}-{base}");
    let text = lang.t(&key);
    if text == key {
        lang.t("planner-err-other")
    } else {
        text
    }
}

/// A refusal as the errors of a form: the field (or `form` for a refusal
/// naming none) and its message.
fn form_errors(lang: Lang, form: &str, e: &ApiError) -> HashMap<String, String> {
    let field = field_of(e).unwrap_or_else(|| "form".into());
    let base = field.split(['[', '.']).next().unwrap_or(&field).to_string();
    HashMap::from([(base, field_message(lang, form, &field))])
}

// ------------------------------------------------------- campaigns list

/// What the campaign form holds, as typed.
#[derive(Default, Clone)]
pub struct CampaignDraft {
    id: String,
    name: String,
    disease: String,
    area_code: String,
    products: Vec<String>,
    priority_groups: String,
    target_percent: String,
    /// A number of people instead of the percentage.
    target_people: String,
    /// "", priority_groups or population.
    target_basis: String,
    target_date: String,
    min_age_years: String,
}

struct CampaignLine {
    href: String,
    name: String,
    disease: String,
    area: String,
    target: String,
    waves: String,
}

struct ProductChoice {
    code: String,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "planner/campaigns.html")]
struct CampaignsPage {
    ctx: PageCtx,
    campaigns: Vec<CampaignLine>,
    can_plan: bool,
    draft: CampaignDraft,
    products: Vec<ProductChoice>,
    errors: HashMap<String, String>,
    groups_hint: String,
}

impl CampaignsPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

pub(crate) fn may_plan(ctx: &PageCtx) -> bool {
    ctx.roles
        .iter()
        .any(|r| vaxgrid_core::access::permits(*r, Permission::ManageSessions))
}

async fn campaigns_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    draft: CampaignDraft,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let listed = async {
        let actor = caller.actor(app, Permission::ReadReports).await?;
        let page = app
            .store
            .list_campaigns(
                &CampaignFilter::default(),
                &PageRequest {
                    after: None,
                    limit: 200,
                },
                &actor.scope,
            )
            .await?;
        let products = app.store.products().await?;
        Ok::<_, ApiError>((page.items, products))
    };
    let (campaigns, products) = match listed.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let lines = campaigns
        .iter()
        .rev()
        .map(|c| CampaignLine {
            href: format!("/planner/campaigns/{}", c.id),
            name: c.name.clone(),
            disease: c.disease.clone(),
            area: c.area_code.clone(),
            target: target_text(lang, c),
            waves: lang.t1("planner-campaign-waves", "count", c.waves.len() as i64),
        })
        .collect();
    let products = products
        .into_iter()
        .map(|p| ProductChoice {
            checked: draft.products.contains(&p.code),
            code: p.code,
            name: p.name,
        })
        .collect();
    let groups_hint = lang.t1(
        "planner-groups-hint",
        "codes",
        vaxgrid_synthetic_groups().join(", "),
    );
    render_status(
        status,
        &CampaignsPage {
            can_plan: may_plan(&ctx),
            ctx,
            campaigns: lines,
            draft,
            products,
            errors,
            groups_hint,
        },
    )
}

/// The priority group codes the files name.
fn vaxgrid_synthetic_groups() -> Vec<&'static str> {
    vec![
        "health_worker",
        "frontline",
        "essential_service",
        "border_resident",
        "elderly_65",
        "chronic_disease",
        "teacher",
        "general",
    ]
}

/// A new draft: a fresh client id, the caller's first area, 80% of the
/// eligible by the end of the year, adults.
async fn fresh_draft(app: &AppState, caller: &Caller) -> CampaignDraft {
    let area = match caller.actor(app, Permission::ReadReports).await {
        Ok(actor) => app
            .store
            .scope_roots(&actor.scope)
            .await
            .ok()
            .and_then(|r| r.first().map(|a| a.code.clone()))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let today = app.store.today();
    let end =
        time::Date::from_calendar_date(today.year(), time::Month::December, 31).unwrap_or(today);
    CampaignDraft {
        id: uuid::Uuid::now_v7().to_string(),
        area_code: area,
        target_percent: "80".into(),
        target_date: vaxgrid_store::format_date(end),
        min_age_years: "18".into(),
        ..CampaignDraft::default()
    }
}

/// `GET /planner/campaigns`: the campaigns over the caller's areas, and
/// the form to plan a new one.
#[utoipa::path(
    get,
    path = "/planner/campaigns",
    summary = "Campaign planning (HTML): the campaigns over the caller's areas, newest first, and the form to create one",
    responses((status = 200, description = "OK", content_type = "text/html"))
)]
pub async fn campaigns(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let draft = fresh_draft(&app, &caller).await;
    campaigns_page(&app, &caller, ctx, draft, HashMap::new(), StatusCode::OK).await
}

/// `POST /planner/campaigns`: creates a campaign from the form (the API's
/// checks); 303 to its page, or the form again with the error by field.
#[utoipa::path(
    post,
    path = "/planner/campaigns",
    summary = "Create a campaign from the planning form (csrf_token, id: the form's client id, name, disease, area_code, products (repeated), priority_groups (comma-separated, in order), target_percent or target_people (a whole number of people, thousands may be separated), target_basis (empty, priority_groups or population), target_date, min_age_years): 303 to the campaign's page; the form again with the error next to the field (422) otherwise; a second submit of the same form records nothing more",
    responses(
        (status = 303, description = "created (or already created by this form)"),
        (status = 400, description = "the form again, with the error", content_type = "text/html"),
        (status = 422, description = "the form again, with the error", content_type = "text/html"),
    )
)]
pub async fn create_campaign(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let draft = CampaignDraft {
        id: one(&pairs, "id"),
        name: one(&pairs, "name"),
        disease: one(&pairs, "disease"),
        area_code: one(&pairs, "area_code").trim().to_string(),
        products: all(&pairs, "products"),
        priority_groups: one(&pairs, "priority_groups"),
        target_percent: one(&pairs, "target_percent"),
        target_people: one(&pairs, "target_people"),
        target_basis: one(&pairs, "target_basis"),
        target_date: one(&pairs, "target_date"),
        min_age_years: one(&pairs, "min_age_years"),
    };
    let lang = ctx.lang;
    let made = async {
        let actor = caller.actor(&app, Permission::ManageSessions).await?;
        let (target_percent, target_people) = draft_target(&draft)?;
        let min_age_years = match draft.min_age_years.trim() {
            "" => None,
            n => Some(
                n.parse::<u32>()
                    .map_err(|_| ApiError::invalid("min_age_years", "not a whole number"))?,
            ),
        };
        let body = CampaignBody {
            id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
            name: draft.name.clone(),
            disease: draft.disease.clone(),
            area_code: draft.area_code.clone(),
            products: draft.products.clone(),
            priority_groups: list(&draft.priority_groups),
            target_percent,
            target_people,
            target_basis: Some(draft.target_basis.trim().to_string()).filter(|b| !b.is_empty()),
            target_date: draft.target_date.trim().to_string(),
            min_age_years,
            history_reason: None,
        };
        history_allowed(&caller, &body.history_reason)?;
        let new = new_campaign(body)?;
        let id = new.id.clone();
        match app.store.create_campaign(&new, &actor).await {
            Ok(c) => Ok(c.id),
            Err(e) => {
                let e = ApiError::Store(e);
                if already_recorded(&e) {
                    Ok(id)
                } else {
                    Err(e)
                }
            }
        }
    };
    match made.await {
        Ok(id) => see_other(format!("/planner/campaigns/{id}")),
        Err(e) => {
            let status = match &e {
                ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(lang, "campaign", &e);
            campaigns_page(&app, &caller, ctx, draft, errors, status).await
        }
    }
}

// --------------------------------------------------------- one campaign

#[derive(Default, Clone)]
pub struct WaveDraft {
    id: String,
    name: String,
    starts_on: String,
    ends_on: String,
    eligible_groups: String,
}

struct WaveLine {
    ordinal: i64,
    name: String,
    dates: String,
    groups: String,
    /// Serious adverse events and deaths after the wave's doses in the
    /// area shown, linking the AEFI report narrowed to them.
    serious: String,
    deaths: String,
    safety_href: String,
}

/// A child of the area whose target is shown.
struct PartLine {
    code: String,
    name: String,
    eligible: String,
    part: String,
    /// What the input holds: the fixed part, or what was typed.
    typed: String,
    fixed: bool,
    reached: String,
    /// Its own split, one level further down.
    href: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "planner/campaign.html")]
struct CampaignPage {
    ctx: PageCtx,
    id: String,
    title: String,
    facts: Vec<(String, String)>,
    waves: Vec<WaveLine>,
    can_plan: bool,
    wave: WaveDraft,
    wave_errors: HashMap<String, String>,
    /// The tree's trail from the campaign's area to the area shown.
    trail: Vec<(String, Option<String>)>,
    area_code: String,
    area_name: String,
    area_target: String,
    area_eligible: String,
    parts: Vec<PartLine>,
    parts_sum: String,
    sums_agree: bool,
    split_error: Option<String>,
    dashboard: String,
}

impl CampaignPage {
    fn wave_err(&self, field: &str) -> Option<&String> {
        self.wave_errors.get(field)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeQuery {
    /// The area whose split is shown (default: the campaign's).
    area: Option<String>,
}

/// What a refused form brings back to the campaign page.
#[derive(Default)]
struct Refused {
    wave: Option<(WaveDraft, HashMap<String, String>)>,
    /// Typed parts by child and the error (field, message).
    split: Option<(HashMap<String, String>, String, String)>,
}

/// What a campaign's page shows, read within the caller's areas.
struct CampaignRead {
    campaign: Campaign,
    /// The targets of the area shown and of its children.
    report: TargetReport,
    /// The area shown, and the campaign's own.
    shown: vaxgrid_store::model::Area,
    root: vaxgrid_store::model::Area,
    /// Serious adverse events and deaths in the area shown, by wave.
    safety: Vec<(i64, i64)>,
    /// The children's parts link down (they have areas under them).
    deeper: bool,
}

impl CampaignRead {
    async fn load(
        app: &AppState,
        caller: &Caller,
        id: &str,
        area: Option<&str>,
    ) -> Result<CampaignRead, ApiError> {
        let actor = caller.actor(app, Permission::ReadReports).await?;
        let id = crate::extract::uuid_field("id", id).map_err(|_| ApiError::Absent {
            entity: "campaign",
            key: id.to_string(),
        })?;
        let campaign = app
            .store
            .campaign(&id, &actor.scope)
            .await
            .map_err(ApiError::lookup)?;
        let area = match area {
            Some(a) => a.to_string(),
            None => start_area(app, &actor.scope, &campaign).await?,
        };
        let report = app
            .store
            .targets_planned(&id, Some(&area), &actor.scope)
            .await
            .map_err(ApiError::lookup)?;
        let shown = app.store.area(&area).await.map_err(ApiError::lookup)?;
        let root = app.store.area(&campaign.area_code).await?;
        let mut safety = Vec::new();
        for w in &campaign.waves {
            safety.push(
                app.store
                    .aefi_serious_in(&shown, &w.starts_on, &w.ends_on, &campaign.products)
                    .await?,
            );
        }
        // The children's parts link down only if they have areas under
        // them in their turn.
        let deeper = shown.depth() + 2 < app.store.area_levels().await?.len();
        Ok(CampaignRead {
            campaign,
            report,
            shown,
            root,
            safety,
            deeper,
        })
    }
}

/// The area a campaign's page starts at: the campaign's, or below it,
/// the first of a planner's areas (a planner of a district starts at it).
async fn start_area(
    app: &AppState,
    scope: &vaxgrid_store::scope::Scope,
    campaign: &Campaign,
) -> Result<String, ApiError> {
    let root = app
        .store
        .area(&campaign.area_code)
        .await
        .map_err(ApiError::lookup)?;
    if scope.covers_path(&root.path) {
        return Ok(root.code);
    }
    Ok(app
        .store
        .scope_roots(scope)
        .await?
        .into_iter()
        .find(|r| r.path.starts_with(&root.path))
        .map(|r| r.code)
        .unwrap_or(root.code))
}

async fn campaign_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    id: &str,
    area: Option<&str>,
    refused: Refused,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let read = match CampaignRead::load(app, caller, id, area).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let (campaign, report, shown) = (&read.campaign, &read.report, &read.shown);
    let (wave, wave_errors) = refused.wave.unwrap_or_else(|| {
        (
            WaveDraft {
                id: uuid::Uuid::now_v7().to_string(),
                ..WaveDraft::default()
            },
            HashMap::new(),
        )
    });
    let (typed, split_field, split_message) = match refused.split {
        Some((t, f, m)) => (t, Some(f), Some(m)),
        None => (HashMap::new(), None, None),
    };
    let parts = part_lines(
        lang,
        campaign,
        report,
        read.deeper,
        &typed,
        split_field.as_deref(),
        &split_message,
    );
    let split_error = match split_field.as_deref() {
        Some(f) if f.starts_with("fixed[") => None,
        _ => split_message,
    };
    let area_target = report
        .area
        .target
        .map_or_else(|| lang.t("planner-no-part"), |t| lang.int(t));
    render_status(
        status,
        &CampaignPage {
            id: campaign.id.clone(),
            title: campaign.name.clone(),
            facts: campaign_facts(lang, campaign),
            waves: wave_lines(lang, campaign, &read.safety, shown),
            can_plan: may_plan(&ctx),
            wave,
            wave_errors,
            trail: trail(campaign, &read.root, shown, report),
            area_code: shown.code.clone(),
            area_name: shown.name.clone(),
            area_target,
            area_eligible: lang.int(report.area.eligible),
            parts_sum: lang.int(report.children_target),
            sums_agree: report.area.target == Some(report.children_target),
            parts,
            split_error,
            dashboard: format!(
                "/planner/areas/{}?campaign={}",
                urlencoding(&shown.code),
                campaign.id
            ),
            ctx,
        },
    )
}

/// The campaign's waves: dates, groups, and their serious adverse events
/// in the area shown, linking to the report of them.
fn wave_lines(
    lang: Lang,
    campaign: &Campaign,
    safety: &[(i64, i64)],
    shown: &vaxgrid_store::model::Area,
) -> Vec<WaveLine> {
    campaign
        .waves
        .iter()
        .zip(safety)
        .map(|(w, (serious, deaths))| WaveLine {
            serious: lang.int(*serious),
            deaths: lang.int(*deaths),
            safety_href: super::super::admin::href(
                "/reports/aefi",
                &[
                    ("area", &shown.code),
                    ("campaign", &campaign.id),
                    ("wave", &w.id),
                    ("serious", "true"),
                ],
            ),
            ordinal: w.ordinal,
            name: w.name.clone(),
            dates: format!(
                "{} – {}",
                lang.date_text(&w.starts_on),
                lang.date_text(&w.ends_on)
            ),
            groups: if w.eligible_groups.is_empty() {
                lang.t("planner-everyone")
            } else {
                w.eligible_groups
                    .iter()
                    .map(|g| super::group_name(lang, g))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
        .collect()
}

fn campaign_facts(lang: Lang, c: &Campaign) -> Vec<(String, String)> {
    vec![
        (lang.t("planner-f-disease"), c.disease.clone()),
        (lang.t("planner-f-area"), c.area_code.clone()),
        (lang.t("planner-f-products"), c.products.join(", ")),
        (
            lang.t("planner-f-groups"),
            if c.priority_groups.is_empty() {
                lang.t("planner-everyone")
            } else {
                c.priority_groups
                    .iter()
                    .map(|g| super::group_name(lang, g))
                    .collect::<Vec<_>>()
                    .join(" › ")
            },
        ),
        (lang.t("planner-f-target"), target_text(lang, c)),
        (
            lang.t("planner-f-target-basis"),
            lang.t(if c.target_basis == "population" {
                "planner-basis-population"
            } else {
                "planner-basis-priority-groups"
            }),
        ),
        (
            lang.t("planner-f-min-age"),
            lang.t1("planner-years", "count", i64::from(c.min_age_years)),
        ),
    ]
}

fn trail(
    campaign: &Campaign,
    root: &vaxgrid_store::model::Area,
    shown: &vaxgrid_store::model::Area,
    _report: &TargetReport,
) -> Vec<(String, Option<String>)> {
    // The codes from the campaign's area down to the one shown.
    let below: Vec<&str> = shown
        .path
        .strip_prefix(root.path.as_str())
        .unwrap_or("")
        .split('/')
        .filter(|c| !c.is_empty())
        .collect();
    let mut out = vec![(
        root.code.clone(),
        Some(format!(
            "/planner/campaigns/{}?area={}",
            campaign.id,
            urlencoding(&root.code)
        )),
    )];
    for code in below {
        out.push((
            code.to_string(),
            Some(format!(
                "/planner/campaigns/{}?area={}",
                campaign.id,
                urlencoding(code)
            )),
        ));
    }
    if let Some(last) = out.last_mut() {
        last.1 = None;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn part_lines(
    lang: Lang,
    campaign: &Campaign,
    report: &TargetReport,
    deeper: bool,
    typed: &HashMap<String, String>,
    split_field: Option<&str>,
    split_message: &Option<String>,
) -> Vec<PartLine> {
    // The field names the index of the fixed parts sent, in the order of
    // the children that carried a value.
    let sent: Vec<&String> = report
        .children
        .iter()
        .map(|c| &c.area_code)
        .filter(|c| typed.get(*c).is_some_and(|v| !v.trim().is_empty()))
        .collect();
    let error_at = split_field
        .and_then(|f| f.strip_prefix("fixed["))
        .and_then(|f| f.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| sent.get(i).map(|c| c.to_string()));
    report
        .children
        .iter()
        .map(|c| PartLine {
            code: c.area_code.clone(),
            name: c.name.clone(),
            eligible: lang.int(c.eligible),
            part: c.target.map_or_else(|| "–".to_string(), |t| lang.int(t)),
            typed: match typed.get(&c.area_code) {
                Some(t) => t.clone(),
                None if c.fixed => c.target.map(|t| t.to_string()).unwrap_or_default(),
                None => String::new(),
            },
            fixed: c.fixed,
            reached: lang.percent(c.reached, c.target.unwrap_or(0)),
            href: (deeper && c.target.is_some()).then(|| {
                format!(
                    "/planner/campaigns/{}?area={}",
                    campaign.id,
                    urlencoding(&c.area_code)
                )
            }),
            error: (error_at.as_deref() == Some(c.area_code.as_str()))
                .then(|| split_message.clone())
                .flatten(),
        })
        .collect()
}

/// `GET /planner/campaigns/{id}`: a campaign, its waves, the form to add
/// one, and the target tree at `area` (its children's parts, editable).
#[utoipa::path(
    get,
    path = "/planner/campaigns/{id}",
    summary = "A campaign's planning page (HTML): its facts and waves, the form to add a wave, and the target tree at an area: the area's target, each child's part (fixed by hand or proportional to the eligible population), their sum, and a form to fix parts and re-split the rest; 404 for a campaign or area outside the caller's areas",
    params(
        ("id" = String, Path, description = "campaign id"),
        ("area" = Option<String>, Query, description = "the area whose split is shown (default: the campaign's)"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page", content_type = "text/html"),
        (status = 404, description = "the error page: no such campaign or area, or not the caller's", content_type = "text/html"),
        (status = 422, description = "the error page: an area outside the campaign's", content_type = "text/html"),
    )
)]
pub async fn campaign(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    query: Result<crate::extract::ApiQuery<TreeQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(crate::extract::ApiQuery(q)) => q,
        Err(e) => return error_page(&ctx, e),
    };
    campaign_page(
        &app,
        &caller,
        ctx,
        &id,
        q.area.as_deref(),
        Refused::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /planner/campaigns/{id}/waves`: adds a wave (the API's checks).
#[utoipa::path(
    post,
    path = "/planner/campaigns/{id}/waves",
    summary = "Add a wave from the campaign page's form (csrf_token, id: the form's client id, name, starts_on, ends_on, eligible_groups comma-separated): 303 back to the campaign; the page again with the error next to the field otherwise",
    params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 303, description = "added (or already added by this form)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 403, description = "the page again: a campaign beyond the caller's areas", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn add_wave(
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
    let draft = WaveDraft {
        id: one(&pairs, "id"),
        name: one(&pairs, "name"),
        starts_on: one(&pairs, "starts_on"),
        ends_on: one(&pairs, "ends_on"),
        eligible_groups: one(&pairs, "eligible_groups"),
    };
    let lang = ctx.lang;
    let done = async {
        let campaign_id = crate::extract::uuid_field("id", &id).map_err(|_| ApiError::Absent {
            entity: "campaign",
            key: id.clone(),
        })?;
        let actor = caller.actor(&app, Permission::ManageSessions).await?;
        let new = new_wave(WaveBody {
            id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
            name: draft.name.clone(),
            starts_on: draft.starts_on.trim().to_string(),
            ends_on: draft.ends_on.trim().to_string(),
            eligible_groups: list(&draft.eligible_groups),
            history_reason: None,
        })?;
        match app.store.add_wave(&campaign_id, &new, &actor).await {
            Ok(_) => Ok(campaign_id),
            Err(e) => {
                let e = crate::api::campaigns::in_path(e);
                if already_recorded(&e) {
                    Ok(campaign_id)
                } else {
                    Err(e)
                }
            }
        }
    };
    match done.await {
        Ok(campaign_id) => see_other(format!("/planner/campaigns/{campaign_id}")),
        Err(e @ ApiError::Absent { .. }) => error_page(&ctx, e),
        Err(e) if field_of(&e).is_some() => {
            let status = match &e {
                ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
                ApiError::Store(StoreError::Forbidden { .. }) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let errors = form_errors(lang, "wave", &e);
            let refused = Refused {
                wave: Some((draft, errors)),
                split: None,
            };
            campaign_page(&app, &caller, ctx, &id, None, refused, status).await
        }
        Err(e) => error_page(&ctx, e),
    }
}

/// `POST /planner/campaigns/{id}/targets`: fixes the parts typed and
/// re-splits the rest of the area's target (the API's split).
#[utoipa::path(
    post,
    path = "/planner/campaigns/{id}/targets",
    summary = "Split an area's target from the target tree's form (csrf_token, area, part.<child code> = people fixed by hand, empty for a proportional part): 303 back to the tree at that area; the page again with the error next to the part otherwise",
    params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 303, description = "split"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn split_targets(
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
    let area = one(&pairs, "area");
    let typed: HashMap<String, String> = pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("part.").map(|c| (c.to_string(), v.clone())))
        .collect();
    let lang = ctx.lang;
    let done = async {
        let campaign_id = crate::extract::uuid_field("id", &id).map_err(|_| ApiError::Absent {
            entity: "campaign",
            key: id.clone(),
        })?;
        let actor = caller.actor(&app, Permission::ManageSessions).await?;
        // In the order of the form, so that fixed[i] names the i-th part sent.
        let mut fixed = Vec::new();
        for (k, v) in &pairs {
            let Some(code) = k.strip_prefix("part.") else {
                continue;
            };
            let v = v.trim().replace(['.', ',', ' '], "");
            if v.is_empty() {
                continue;
            }
            let people: u64 = v.parse().map_err(|_| {
                ApiError::invalid(
                    format!("fixed[{}].people", fixed.len()),
                    "not a whole number",
                )
            })?;
            fixed.push((code.to_string(), people));
        }
        app.store
            .decompose_targets(&campaign_id, &area, fixed, &actor)
            .await
            .map_err(crate::api::campaigns::in_path)?;
        Ok::<_, ApiError>(campaign_id)
    };
    match done.await {
        Ok(campaign_id) => see_other(format!(
            "/planner/campaigns/{campaign_id}?area={}",
            urlencoding(&area)
        )),
        Err(e @ ApiError::Absent { .. }) => error_page(&ctx, e),
        Err(e) if field_of(&e).is_some() && !area.is_empty() => {
            let field = field_of(&e).unwrap_or_default();
            if field == "area" {
                // An area outside the caller's is answered as absent.
                let e = match e {
                    ApiError::Store(se @ StoreError::NotFound { .. }) => ApiError::lookup(se),
                    other => other,
                };
                return error_page(&ctx, e);
            }
            let status = match &e {
                ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let message = field_message(lang, "split", &field);
            // Keep only the parts that were typed (empty ones stay empty).
            let refused = Refused {
                wave: None,
                split: Some((typed, field, message)),
            };
            campaign_page(&app, &caller, ctx, &id, Some(&area), refused, status).await
        }
        Err(e) => error_page(&ctx, e),
    }
}

/// A campaign's target as written: its percentage of the eligible, or its
/// number of people, by its date.
fn target_text(lang: Lang, c: &vaxgrid_store::campaigns::Campaign) -> String {
    let date = lang.date_text(&c.target_date);
    match (c.target_percent, c.target_people) {
        (None, Some(n)) => lang.t2(
            "planner-campaign-target-people",
            "people",
            lang.int(n),
            "date",
            date,
        ),
        (p, _) => lang.t2(
            "planner-campaign-target",
            "pct",
            lang.decimal(p.unwrap_or(0.0), 1),
            "date",
            date,
        ),
    }
}

/// The form's target: a percentage, or a number of people; both or none
/// typed go to the API's checks, which name the field.
fn draft_target(draft: &CampaignDraft) -> Result<(Option<f64>, Option<u64>), ApiError> {
    let percent = match draft.target_percent.trim() {
        "" => None,
        p => Some(
            p.replace(',', ".")
                .parse::<f64>()
                .map_err(|_| ApiError::invalid("target_percent", "not a number"))?,
        ),
    };
    let people =
        match draft.target_people.trim() {
            "" => None,
            n => Some(whole_number(n).ok_or_else(|| {
                ApiError::invalid("target_people", "not a whole number of people")
            })?),
        };
    Ok((percent, people))
}

/// A whole number as typed: digits, with thousands separated by '.', ','
/// or spaces as each language writes them (12.000, 12,000, 12 000); a
/// separator anywhere else ("1.5") is not a number of people.
fn whole_number(typed: &str) -> Option<u64> {
    let groups: Vec<&str> = typed
        .split(|c: char| matches!(c, '.' | ',') || c.is_whitespace())
        .collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let (first, rest) = groups.split_first()?;
    if !digits(first) || (!rest.is_empty() && first.len() > 3) {
        return None;
    }
    if rest.iter().any(|g| !digits(g) || g.len() != 3) {
        return None;
    }
    groups.concat().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::whole_number;

    #[test]
    fn people_are_typed_whole_with_thousands_separated() {
        for (typed, n) in [("12000", 12_000), ("12.000", 12_000), ("12,000", 12_000)] {
            assert_eq!(whole_number(typed), Some(n), "{typed}");
        }
        assert_eq!(whole_number("1 234 567"), Some(1_234_567));
        for bad in ["1.5", "12.00", "1234.000", "-3", "x", "1..000", "12,000.5"] {
            assert_eq!(whole_number(bad), None, "{bad}");
        }
    }
}
