//! Machine tokens (list, make one — its secret shown once —, revoke) and
//! sign-in lockouts (list, clear one), through the API's functions
//! (`api::staff::create_token`, `Store::revoke_token`, `Store::lockouts`,
//! `Store::clear_lockout`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::paging::PageRequest;

use super::super::{error_page, render_status, PageCtx};
use super::users::grant_text;
use super::{
    client_id, form_errors, form_pairs, given, href, instant, one, query_fields, refusal_status,
    see_other,
};
use crate::api::staff::{self as api, TokenBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

const PAGE_SIZE: usize = 50;

pub struct TokenLine {
    pub id: String,
    pub username: String,
    pub user_href: String,
    pub name: String,
    pub grants: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Default, Clone)]
pub struct TokenDraft {
    pub id: String,
    pub username: String,
    pub name: String,
    pub grants: String,
}

pub struct Secret {
    pub id: String,
    pub name: String,
    pub token: String,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    of_user: String,
    rows: Vec<TokenLine>,
    next: Option<String>,
    first: Option<String>,
    draft: TokenDraft,
    errors: HashMap<String, String>,
    secret: Option<Secret>,
}

impl TokensPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn tokens_page(
    app: &AppState,
    ctx: PageCtx,
    raw: Option<&str>,
    draft: TokenDraft,
    errors: HashMap<String, String>,
    secret: Option<Secret>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let fields = query_fields(raw);
    let of_user = fields.get("username").cloned().unwrap_or_default();
    let after = given(&fields, "after");
    let page = PageRequest {
        after: after.clone(),
        limit: PAGE_SIZE,
    };
    let listed = match app
        .store
        .list_tokens(given(&fields, "username").as_deref(), &page)
        .await
    {
        Ok(p) => p,
        Err(vaxgrid_store::StoreError::Invalid { field, message }) => {
            return error_page(&ctx, ApiError::bad_request(field, message))
        }
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let rows = listed
        .items
        .iter()
        .map(|t| TokenLine {
            id: t.id.clone(),
            user_href: format!("/admin/users/{}", crate::web::urlencode(&t.username)),
            username: t.username.clone(),
            name: t.name.clone(),
            grants: if t.grants.is_empty() {
                lang.t("admin-token-all-roles")
            } else {
                t.grants
                    .iter()
                    .map(|g| grant_text(lang, g))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            created: lang.date_text(&t.created_at),
            revoked: t.revoked,
        })
        .collect();
    let next = listed.next_cursor.map(|c| {
        href(
            "/admin/tokens",
            &[("username", of_user.as_str()), ("after", &c)],
        )
    });
    let first = after.map(|_| href("/admin/tokens", &[("username", of_user.as_str())]));
    render_status(
        status,
        &TokensPage {
            ctx,
            of_user,
            rows,
            next,
            first,
            draft,
            errors,
            secret,
        },
    )
}

/// `GET /admin/tokens`
#[utoipa::path(
    get,
    path = "/admin/tokens",
    summary = "Machine tokens (HTML, administrators): by id, 50 a page (never their secrets), of one user with username; the form to make one and a button to revoke each",
    params(
        ("username" = Option<String>, Query, description = "of this user"),
        ("after" = Option<String>, Query, description = "the cursor of the page before")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: not a cursor of this list", content_type = "text/html"),
    )
)]
pub async fn list(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let fields = query_fields(raw.as_deref());
    let draft = TokenDraft {
        id: client_id(),
        username: fields.get("username").cloned().unwrap_or_default(),
        ..TokenDraft::default()
    };
    tokens_page(
        &app,
        ctx,
        raw.as_deref(),
        draft,
        HashMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/tokens`: makes a token; its secret is on the answer only.
#[utoipa::path(
    post,
    path = "/admin/tokens",
    summary = "Make a machine token from the tokens page's form (csrf_token, id: the form's client id, username, name, grants: ROLE or ROLE:SCOPE separated by commas, empty for all the user's roles): 201 with the page showing the secret once; the same form sent again: 303 to the list (no second token); the form again with the error next to the field otherwise",
    responses(
        (status = 201, description = "the page with the secret, shown once", content_type = "text/html"),
        (status = 303, description = "already made by this form"),
        (status = 400, description = "the form again, with the error", content_type = "text/html"),
        (status = 422, description = "the form again, with the error", content_type = "text/html"),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let draft = TokenDraft {
        id: one(&pairs, "id"),
        username: one(&pairs, "username").trim().to_string(),
        name: one(&pairs, "name"),
        grants: one(&pairs, "grants"),
    };
    let body = TokenBody {
        id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
        username: draft.username.clone(),
        name: draft.name.clone(),
        grants: draft
            .grants
            .split([',', ';', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    };
    match api::create_token(&app, &caller, body).await {
        Ok(t) => {
            let fresh = TokenDraft {
                id: client_id(),
                ..TokenDraft::default()
            };
            let secret = Secret {
                id: t.id,
                name: t.name,
                token: t.token,
            };
            tokens_page(
                &app,
                ctx,
                None,
                fresh,
                HashMap::new(),
                Some(secret),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) if super::already_recorded(&e) => see_other("/admin/tokens"),
        Err(e) => {
            if super::field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "token", &e, &[]);
            let status = refusal_status(&e);
            tokens_page(&app, ctx, None, draft, errors, None, status).await
        }
    }
}

/// `POST /admin/tokens/{id}/revoke`
#[utoipa::path(
    post,
    path = "/admin/tokens/{id}/revoke",
    summary = "Revoke a machine token from the tokens page (form: csrf_token): it stops working at once; 303 back to the list; 404 for an unknown or already revoked token",
    params(("id" = String, Path, description = "token id")),
    responses(
        (status = 303, description = "revoked"),
        (status = 404, description = "the error page: no such token in use", content_type = "text/html"),
    )
)]
pub async fn revoke(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Response {
    match app.store.revoke_token(&id, &caller.name()).await {
        Ok(()) => see_other("/admin/tokens"),
        Err(e) => error_page(&ctx, ApiError::lookup(e)),
    }
}

// ------------------------------------------------------------- lockouts

pub struct LockoutLine {
    pub username: String,
    pub address: String,
    pub address_value: String,
    pub failures: String,
    pub last_failure: String,
    pub until: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/lockouts.html")]
struct LockoutsPage {
    ctx: PageCtx,
    rows: Vec<LockoutLine>,
}

/// `GET /admin/lockouts`
#[utoipa::path(
    get,
    path = "/admin/lockouts",
    summary = "Sign-in lockouts of the last day (HTML, administrators), the latest first, each with whether its wait still runs and a button to clear it",
    responses((status = 200, description = "OK", content_type = "text/html"))
)]
pub async fn lockouts(State(app): State<AppState>, ctx: PageCtx) -> Response {
    let lang = ctx.lang;
    let now = app.store.now_micros();
    let list = match app.store.lockouts().await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let rows = list
        .into_iter()
        .map(|l| LockoutLine {
            address: l
                .address
                .clone()
                .unwrap_or_else(|| lang.t("admin-lockout-any-address")),
            address_value: l.address.unwrap_or_default(),
            username: l.username,
            failures: lang.int(l.failures),
            last_failure: instant(lang, l.last_failure),
            until: instant(lang, l.blocked_until),
            active: l.blocked_until > now,
        })
        .collect();
    render_status(StatusCode::OK, &LockoutsPage { ctx, rows })
}

/// `POST /admin/lockouts/clear`
#[utoipa::path(
    post,
    path = "/admin/lockouts/clear",
    summary = "Clear a sign-in lockout from the lockouts page (form: csrf_token, username, address: empty for the name-wide counter): 303 back to the list; 404 for a lockout that is no longer there",
    responses(
        (status = 303, description = "cleared"),
        (status = 400, description = "the error page: a form that cannot be read", content_type = "text/html"),
        (status = 404, description = "the error page: no such lockout", content_type = "text/html"),
    )
)]
pub async fn clear_lockout(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let username = one(&pairs, "username");
    let address = one(&pairs, "address");
    let cleared = async {
        let actor = caller.actor(&app, Permission::ManageUsers).await?;
        app.store
            .clear_lockout(
                &username,
                Some(address.as_str()).filter(|a| !a.is_empty()),
                &actor,
            )
            .await
            .map_err(ApiError::lookup)
    };
    match cleared.await {
        Ok(()) => see_other("/admin/lockouts"),
        Err(e) => error_page(&ctx, e),
    }
}
