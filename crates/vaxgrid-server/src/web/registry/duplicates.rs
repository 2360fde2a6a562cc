//! Duplicate review: the likely duplicates of the caller's areas, two
//! records side by side with a preview of the dose history a merge would
//! give, then merge (through the API's `merge_records`, the dose writer's
//! merge) or "not the same person" (kept, never proposed again).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::doses::History;
use vaxgrid_store::duplicates::{DuplicatePair, DuplicateReason};
use vaxgrid_store::model::Person;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::AppState;

use super::super::{error_page, render, render_status, see_other, PageCtx};
use super::{dose_rows, id_type_label, person_id, query_fields, sex_label, AreaNames, DoseRow};

/// Pairs per page of the list.
const PAIRS_PER_PAGE: usize = 20;

fn reason_label(lang: Lang, reason: DuplicateReason) -> String {
    lang.t(match reason {
        DuplicateReason::IdNumber => tkey("registry-dup-same-id"),
        DuplicateReason::NameBirthArea => tkey("registry-dup-same-name"),
    })
}

/// One record of a pair, as the list shows it.
struct PairPerson {
    name: String,
    id_number: String,
    birth: String,
    area: String,
}

struct PairRow {
    href: String,
    reason: String,
    a: PairPerson,
    b: PairPerson,
}

#[derive(Template)]
#[template(path = "registry/duplicates.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<PairRow>,
    next: Option<String>,
    previous: Option<String>,
    notice: Option<String>,
}

async fn pair_person(lang: Lang, areas: &mut AreaNames<'_>, p: &Person) -> PairPerson {
    PairPerson {
        name: p.full_name.clone(),
        id_number: p.id_number.clone(),
        birth: lang.date_text(&p.birth_date),
        area: areas.name(&p.home_area).await,
    }
}

/// `GET /registry/duplicates`: the undecided pairs of the caller's areas.
#[utoipa::path(
    get,
    path = "/registry/duplicates",
    summary = "Duplicate review (HTML): likely duplicate records of the caller's areas (same ID number under another type or province; same folded name, birth date and commune), a page at a time",
    params(
        ("page" = Option<u32>, Query, description = "page number, from 1"),
        ("found" = Option<u64>, Query, description = "pairs just found by the finder (shown as a notice)"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn list_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let fields = query_fields(raw.as_deref());
    let page: usize = fields
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1 && *p <= 10_000)
        .unwrap_or(1);
    let notice = fields
        .get("found")
        .and_then(|f| f.parse::<i64>().ok())
        .map(|n| ctx.lang.t1("registry-dup-found", "count", n));
    match list_rows(&app, &caller, &ctx, page).await {
        Ok((rows, more)) => render(&ListPage {
            rows,
            next: more.then(|| format!("/registry/duplicates?page={}", page + 1)),
            previous: (page > 1).then(|| format!("/registry/duplicates?page={}", page - 1)),
            notice,
            ctx,
        }),
        Err(e) => error_page(&ctx, e),
    }
}

async fn list_rows(
    app: &AppState,
    caller: &Caller,
    ctx: &PageCtx,
    page: usize,
) -> Result<(Vec<PairRow>, bool), ApiError> {
    let actor = caller.actor(app, Permission::ManageRegistry).await?;
    let (pairs, more) = app
        .store
        .open_duplicates(&actor.scope, (page - 1) * PAIRS_PER_PAGE, PAIRS_PER_PAGE)
        .await?;
    let mut areas = AreaNames::new(app);
    let mut rows = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let a = app.store.person(&pair.person_a).await?;
        let b = app.store.person(&pair.person_b).await?;
        rows.push(PairRow {
            href: format!("/registry/duplicates/{}/{}", a.id, b.id),
            reason: reason_label(ctx.lang, pair.reason),
            a: pair_person(ctx.lang, &mut areas, &a).await,
            b: pair_person(ctx.lang, &mut areas, &b).await,
        });
    }
    Ok((rows, more))
}

/// `POST /registry/duplicates/find`: runs the finder over the caller's
/// areas, then back to the list saying how many new pairs it found.
#[utoipa::path(
    post,
    path = "/registry/duplicates/find",
    summary = "Look for new likely duplicates in the caller's areas (form: csrf_token); 303 to the list with the count found",
    responses(
        (status = 303, description = "to the list"),
    )
)]
pub async fn find_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let found = async {
        let actor = caller.actor(&app, Permission::ManageRegistry).await?;
        Ok::<_, ApiError>(app.store.find_duplicates(&actor.scope).await?)
    }
    .await;
    match found {
        Ok(n) => see_other(format!("/registry/duplicates?found={n}")),
        Err(e) => error_page(&ctx, e),
    }
}

/// A record of the pair page.
struct Side {
    p: Person,
    href: String,
    id_type: String,
    sex: String,
    birth: String,
    area: String,
    doses: Vec<DoseRow>,
    merged: bool,
}

/// What the two forms hold when they come back with an error.
#[derive(Default)]
struct DecisionForm {
    merge_reason: String,
    dismiss_reason: String,
}

#[derive(Template)]
#[template(path = "registry/duplicate_pair.html")]
struct PairPage {
    ctx: PageCtx,
    survivor: Side,
    duplicate: Side,
    reason: Option<String>,
    dismissed_by: Option<String>,
    swap_href: String,
    action: String,
    preview: Vec<DoseRow>,
    preview_summary: String,
    form: DecisionForm,
    errors: HashMap<String, String>,
}

impl PairPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn decidable(&self) -> bool {
        !self.survivor.merged && !self.duplicate.merged
    }
}

async fn side(
    app: &AppState,
    lang: Lang,
    areas: &mut AreaNames<'_>,
    p: Person,
) -> Result<Side, ApiError> {
    let history = app.store.history(&p.id).await.map_err(ApiError::lookup)?;
    Ok(Side {
        href: format!("/registry/persons/{}", p.id),
        id_type: id_type_label(lang, p.id_type),
        sex: sex_label(lang, p.sex),
        birth: lang.date_text(&p.birth_date),
        area: areas.name(&p.home_area).await,
        doses: dose_rows(lang, &history.records),
        merged: p.merged_into.is_some(),
        p,
    })
}

/// The two records of a pair, their pair if the finder proposed it, and
/// the history a merge would give.
struct PairRead {
    survivor: Person,
    duplicate: Person,
    pair: Option<DuplicatePair>,
    preview: History,
}

/// Reads both records in the caller's areas (ManageRegistry); a record
/// paired with itself is no pair (404).
async fn read_pair(
    app: &AppState,
    caller: &Caller,
    survivor: &str,
    duplicate: &str,
) -> Result<PairRead, ApiError> {
    let survivor = person_id(survivor)?;
    let duplicate = person_id(duplicate)?;
    let actor = caller.actor(app, Permission::ManageRegistry).await?;
    let s = app
        .store
        .person_in(&survivor, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let d = app
        .store
        .person_in(&duplicate, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    if s.id == d.id {
        return Err(ApiError::Absent {
            entity: "duplicate pair",
            key: format!("{survivor}/{duplicate}"),
        });
    }
    let pair = app.store.duplicate_pair(&s.id, &d.id).await?;
    let preview = app
        .store
        .merge_preview(&s.id, &d.id)
        .await
        .map_err(ApiError::lookup)?;
    Ok(PairRead {
        survivor: s,
        duplicate: d,
        pair,
        preview,
    })
}

/// Both records as shown side by side, the survivor first.
async fn sides(
    app: &AppState,
    lang: Lang,
    survivor: Person,
    duplicate: Person,
) -> Result<(Side, Side), ApiError> {
    let mut areas = AreaNames::new(app);
    let survivor = side(app, lang, &mut areas, survivor).await?;
    let duplicate = side(app, lang, &mut areas, duplicate).await?;
    Ok((survivor, duplicate))
}

async fn pair_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    survivor: &str,
    duplicate: &str,
    form: DecisionForm,
    errors: HashMap<String, String>,
) -> Result<PairPage, (PageCtx, ApiError)> {
    let PairRead {
        survivor: s,
        duplicate: d,
        pair,
        preview,
    } = match read_pair(app, caller, survivor, duplicate).await {
        Ok(found) => found,
        Err(e) => return Err((ctx, e)),
    };
    let lang = ctx.lang;
    let (survivor, duplicate) = match sides(app, lang, s, d).await {
        Ok(sides) => sides,
        Err(e) => return Err((ctx, e)),
    };
    Ok(PairPage {
        swap_href: format!("/registry/duplicates/{}/{}", duplicate.p.id, survivor.p.id),
        action: format!("/registry/duplicates/{}/{}", survivor.p.id, duplicate.p.id),
        reason: pair.as_ref().map(|p| reason_label(lang, p.reason)),
        dismissed_by: pair.and_then(|p| p.dismissed_by),
        preview: dose_rows(lang, &preview.records),
        preview_summary: super::dose_summary(lang, &preview),
        survivor,
        duplicate,
        form,
        errors,
        ctx,
    })
}

/// `GET /registry/duplicates/{survivor}/{duplicate}`: the two records side
/// by side and the history a merge would give.
#[utoipa::path(
    get,
    path = "/registry/duplicates/{survivor}/{duplicate}",
    summary = "Two records side by side (HTML) with a preview of the dose history the survivor would have after the merge, and the merge / not-the-same-person forms; 404 page when either record is outside the caller's areas",
    params(
        ("survivor" = String, Path, description = "the record kept (UUID)"),
        ("duplicate" = String, Path, description = "the record merged into it (UUID)"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn pair(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((survivor, duplicate)): Path<(String, String)>,
) -> Response {
    match pair_page(
        &app,
        &caller,
        ctx,
        &survivor,
        &duplicate,
        DecisionForm::default(),
        HashMap::new(),
    )
    .await
    {
        Ok(page) => render(&page),
        Err((ctx, e)) => error_page(&ctx, e),
    }
}

fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The pair page again with `message` next to `field`, keeping what was
/// typed; 422.
#[allow(clippy::too_many_arguments)]
async fn again(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    survivor: &str,
    duplicate: &str,
    form: DecisionForm,
    field: &str,
    message: String,
) -> Response {
    let errors = HashMap::from([(field.to_string(), message)]);
    match pair_page(app, caller, ctx, survivor, duplicate, form, errors).await {
        Ok(page) => render_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page),
        Err((ctx, e)) => error_page(&ctx, e),
    }
}

/// `POST /registry/duplicates/{survivor}/{duplicate}/merge`.
#[utoipa::path(
    post,
    path = "/registry/duplicates/{survivor}/{duplicate}/merge",
    summary = "Merge the duplicate into the survivor (form: csrf_token, reason), through the dose writer as POST /api/v1/persons/{id}/merge; 303 to the survivor's record, or the pair page again with the error next to the field",
    params(
        ("survivor" = String, Path, description = "the record kept (UUID)"),
        ("duplicate" = String, Path, description = "the record merged into it (UUID)"),
    ),
    responses(
        (status = 303, description = "merged: to the survivor's record"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 409, description = "the error page: one of the records was merged already", content_type = "text/html"),
        (status = 422, description = "the pair page again, the error next to the field", content_type = "text/html"),
    )
)]
pub async fn merge_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((survivor, duplicate)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields = form_fields(&body);
    let reason = fields
        .get("reason")
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    let form = DecisionForm {
        merge_reason: reason.clone(),
        ..Default::default()
    };
    if reason.is_empty() {
        let message = ctx.t("registry-dup-merge-reason-needed");
        return again(
            &app,
            &caller,
            ctx,
            &survivor,
            &duplicate,
            form,
            "merge_reason",
            message,
        )
        .await;
    }
    let merged = async {
        let s = person_id(&survivor)?;
        let d = person_id(&duplicate)?;
        let actor = caller.actor(&app, Permission::ManageRegistry).await?;
        app.store
            .person_in(&d, &actor.scope)
            .await
            .map_err(ApiError::lookup)?;
        crate::api::persons::merge_records(&app, &caller, &s, &d, &reason).await?;
        Ok::<_, ApiError>(s)
    }
    .await;
    match merged {
        Ok(s) => see_other(format!("/registry/persons/{s}")),
        Err(e) => error_page(&ctx, e),
    }
}

/// `POST /registry/duplicates/{survivor}/{duplicate}/dismiss`.
#[utoipa::path(
    post,
    path = "/registry/duplicates/{survivor}/{duplicate}/dismiss",
    summary = "Record that the two are different people (form: csrf_token, reason), audited; the pair is not proposed again; 303 to the list, or the pair page again with the error next to the field",
    params(
        ("survivor" = String, Path, description = "one record (UUID)"),
        ("duplicate" = String, Path, description = "the other record (UUID)"),
    ),
    responses(
        (status = 303, description = "decided: to the list"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 422, description = "the pair page again, the error next to the field", content_type = "text/html"),
    )
)]
pub async fn dismiss_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((survivor, duplicate)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields = form_fields(&body);
    let reason = fields
        .get("reason")
        .map(|r| r.trim().to_string())
        .unwrap_or_default();
    let form = DecisionForm {
        dismiss_reason: reason.clone(),
        ..Default::default()
    };
    if reason.is_empty() {
        let message = ctx.t("registry-dup-dismiss-reason-needed");
        return again(
            &app,
            &caller,
            ctx,
            &survivor,
            &duplicate,
            form,
            "dismiss_reason",
            message,
        )
        .await;
    }
    let decided = async {
        let s = person_id(&survivor)?;
        let d = person_id(&duplicate)?;
        let actor = caller.actor(&app, Permission::ManageRegistry).await?;
        app.store
            .dismiss_duplicate(&s, &d, &reason, &actor)
            .await
            .map_err(ApiError::lookup)?;
        Ok::<_, ApiError>(())
    }
    .await;
    match decided {
        Ok(()) => see_other("/registry/duplicates"),
        Err(e) => error_page(&ctx, e),
    }
}
