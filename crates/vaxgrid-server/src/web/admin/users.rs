//! Users: the list (search by the start of the user name, by role, by
//! the area or site a role holds on, enabled or disabled; 50 a page, seek
//! paging by user name as the API), the form to create one with a first
//! role, and a user's page with their roles on areas and sites (grant,
//! take back), disable/enable and a new invitation. Every change goes
//! through the API's function (`api::staff::create_user`, `grant_role`,
//! `revoke_role`, `set_disabled`, `invite_again`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::{Grant, Role, ScopeKind};
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::staff::{UserFilter, UserView};

use super::super::{error_page, render_status, urlencode, PageCtx};
use super::{
    client_id, form_errors, form_pairs, given, href, one, query_fields, refusal_status, see_other,
};
use crate::api::staff::{self as api, UserBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Users a page.
const PAGE_SIZE: usize = 50;

/// A role's name in the reader's language.
pub(crate) fn role_name(lang: Lang, role: &str) -> String {
    let key = format!("admin-role-{role}");
    let text = lang.t(&key);
    if text == key {
        role.to_string()
    } else {
        text
    }
}

/// A grant (`role` or `role:scope`) as the pages show it.
pub(crate) fn grant_text(lang: Lang, grant: &str) -> String {
    match grant.split_once(':') {
        Some((role, scope)) => format!("{} · {scope}", role_name(lang, role)),
        None => role_name(lang, grant),
    }
}

pub struct RoleChoice {
    pub code: &'static str,
    pub name: String,
    pub selected: bool,
    /// What its scope names: area, site, person or nothing.
    pub scope: &'static str,
}

fn role_choices(lang: Lang, selected: &str) -> Vec<RoleChoice> {
    Role::ALL
        .iter()
        .map(|r| RoleChoice {
            code: r.as_str(),
            name: role_name(lang, r.as_str()),
            selected: r.as_str() == selected,
            scope: match r.scope_kind() {
                ScopeKind::Global => "none",
                ScopeKind::Area => "area",
                ScopeKind::Site => "site",
                ScopeKind::Person => "person",
            },
        })
        .collect()
}

/// The grant a role picked and a scope typed make (`role` or `role:scope`).
fn grant_of(role: &str, scope: &str) -> String {
    let scope = scope.trim();
    if scope.is_empty() {
        role.trim().to_string()
    } else {
        format!("{}:{scope}", role.trim())
    }
}

// ------------------------------------------------------------- the list

pub struct UserLine {
    pub href: String,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub status: String,
    pub disabled: bool,
}

fn status_text(lang: Lang, u: &UserView) -> String {
    if u.disabled {
        lang.t("admin-status-disabled")
    } else if u.invited {
        lang.t("admin-status-invited")
    } else {
        lang.t("admin-status-active")
    }
}

/// What the new-user form holds, as typed.
#[derive(Default, Clone)]
pub struct UserDraft {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    prefix: String,
    scope: String,
    status: String,
    filter_roles: Vec<RoleChoice>,
    rows: Vec<UserLine>,
    next: Option<String>,
    first: Option<String>,
    search_error: Option<(String, String)>,
    draft: UserDraft,
    draft_roles: Vec<RoleChoice>,
    errors: HashMap<String, String>,
}

impl UsersPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn search_err(&self, field: &str) -> Option<&String> {
        self.search_error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m)
    }
}

async fn users_page(
    app: &AppState,
    ctx: PageCtx,
    raw: Option<&str>,
    draft: UserDraft,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let fields = query_fields(raw);
    let prefix = fields.get("prefix").cloned().unwrap_or_default();
    let role = fields.get("role").cloned().unwrap_or_default();
    let scope = fields.get("scope").cloned().unwrap_or_default();
    let state = fields.get("status").cloned().unwrap_or_default();
    let after = given(&fields, "after");
    let mut search_error = None;
    let mut status = status;
    let role_filter = match given(&fields, "role") {
        None => None,
        Some(r) => match Role::parse(&r) {
            Some(r) => Some(r),
            None => {
                search_error = Some(("role".to_string(), lang.t("admin-err-search-role")));
                None
            }
        },
    };
    let disabled = match state.as_str() {
        "disabled" => Some(true),
        "enabled" => Some(false),
        _ => None,
    };
    let filter = UserFilter {
        role: role_filter,
        scope: given(&fields, "scope"),
        prefix: given(&fields, "prefix"),
        username: None,
        disabled,
    };
    let mut rows = Vec::new();
    let mut next = None;
    if search_error.is_none() {
        let page = PageRequest {
            after: after.clone(),
            limit: PAGE_SIZE,
        };
        match app.store.list_users(&filter, &page).await {
            Ok(p) => {
                rows = p
                    .items
                    .iter()
                    .map(|u| UserLine {
                        href: format!("/admin/users/{}", urlencode(&u.username)),
                        username: u.username.clone(),
                        display_name: u.display_name.clone(),
                        roles: u
                            .grants
                            .iter()
                            .map(|g| grant_text(lang, g))
                            .collect::<Vec<_>>()
                            .join(", "),
                        status: status_text(lang, u),
                        disabled: u.disabled,
                    })
                    .collect();
                next = p.next_cursor.map(|c| {
                    href(
                        "/admin/users",
                        &[
                            ("prefix", &prefix),
                            ("role", &role),
                            ("scope", &scope),
                            ("status", &state),
                            ("after", &c),
                        ],
                    )
                });
            }
            Err(vaxgrid_store::StoreError::Invalid { field, .. }) => {
                let message = if field == "after" {
                    lang.t("admin-err-search-after")
                } else {
                    lang.t("admin-err-other")
                };
                search_error = Some((field, message));
            }
            Err(e) => return error_page(&ctx, ApiError::Store(e)),
        }
    }
    if search_error.is_some() && status == StatusCode::OK {
        status = StatusCode::BAD_REQUEST;
    }
    let first = after.as_ref().map(|_| {
        href(
            "/admin/users",
            &[
                ("prefix", &prefix),
                ("role", &role),
                ("scope", &scope),
                ("status", &state),
            ],
        )
    });
    render_status(
        status,
        &UsersPage {
            filter_roles: role_choices(lang, &role),
            draft_roles: role_choices(lang, &draft.role),
            ctx,
            prefix,
            scope,
            status: state,
            rows,
            next,
            first,
            search_error,
            draft,
            errors,
        },
    )
}

/// `GET /admin/users`: the users, searched and paged, and the form to
/// create one.
#[utoipa::path(
    get,
    path = "/admin/users",
    summary = "Users (HTML, administrators): search by the start of the user name (prefix), role, the area or site a role holds on (scope), status (enabled or disabled); 50 a page by user name, the next page by after (the cursor of the API's list); and the form to create a user with a first role",
    params(
        ("prefix" = Option<String>, Query, description = "user names starting with this"),
        ("role" = Option<String>, Query, description = "holding this role"),
        ("scope" = Option<String>, Query, description = "holding a role on this area, site or person"),
        ("status" = Option<String>, Query, description = "enabled or disabled"),
        ("after" = Option<String>, Query, description = "the cursor of the page before")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the page with the search's error next to its field", content_type = "text/html"),
    )
)]
pub async fn list(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let draft = UserDraft {
        id: client_id(),
        ..UserDraft::default()
    };
    users_page(
        &app,
        ctx,
        raw.as_deref(),
        draft,
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/users`: creates a user from the form (the API's
/// `create_user`); answers the user's page with the invitation shown once.
#[utoipa::path(
    post,
    path = "/admin/users",
    summary = "Create a user from the users page's form (csrf_token, id: the form's client id, username, display_name, role, scope): 201 with the user's page showing the invitation once; the same form sent again: 303 to the user's page (the invitation is not shown again); the form again with the error next to the field otherwise",
    responses(
        (status = 201, description = "the user's page with the invitation", content_type = "text/html"),
        (status = 303, description = "already created by this form"),
        (status = 400, description = "the form again, with the error", content_type = "text/html"),
        (status = 409, description = "the form again: the user name is taken", content_type = "text/html"),
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
    let draft = UserDraft {
        id: one(&pairs, "id"),
        username: one(&pairs, "username").trim().to_string(),
        display_name: one(&pairs, "display_name"),
        role: one(&pairs, "role"),
        scope: one(&pairs, "scope"),
    };
    let body = UserBody {
        id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
        username: draft.username.clone(),
        display_name: draft.display_name.trim().to_string(),
        grants: if draft.role.trim().is_empty() {
            Vec::new()
        } else {
            vec![grant_of(&draft.role, &draft.scope)]
        },
    };
    match api::create_user(&app, &caller, body).await {
        Ok(created) => {
            user_page(
                &app,
                &caller,
                ctx,
                &created.user.username,
                Some(created.invitation),
                HashMap::new(),
                (String::new(), String::new()),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) if super::already_recorded(&e) => {
            see_other(format!("/admin/users/{}", urlencode(&draft.username)))
        }
        Err(e) => {
            if super::field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            // A grant refused names "grants": on this form, the role and
            // its scope; the scope is the usual culprit once a role is picked.
            let target = if draft.role.trim().is_empty() {
                "role"
            } else {
                "scope"
            };
            let errors = form_errors(ctx.lang, "user", &e, &[("grants", target)]);
            let status = refusal_status(&e);
            users_page(&app, ctx, None, draft, errors, status).await
        }
    }
}

// ------------------------------------------------------- one user's page

pub struct GrantLine {
    pub grant: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    ctx: PageCtx,
    user: UserView,
    base: String,
    status: String,
    created: String,
    grants: Vec<GrantLine>,
    roles: Vec<RoleChoice>,
    grant_scope: String,
    errors: HashMap<String, String>,
    invitation: Option<String>,
    is_self: bool,
    audit_by: String,
    audit_about: String,
}

impl UserPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[allow(clippy::too_many_arguments)]
async fn user_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    username: &str,
    invitation: Option<String>,
    errors: HashMap<String, String>,
    typed: (String, String),
    status: StatusCode,
) -> Response {
    let user = match app.store.user_view(username).await {
        Ok(u) => u,
        Err(e) => return error_page(&ctx, ApiError::lookup(e)),
    };
    let lang = ctx.lang;
    let base = format!("/admin/users/{}", urlencode(&user.username));
    let grants = user
        .grants
        .iter()
        .map(|g| GrantLine {
            grant: g.clone(),
            text: grant_text(lang, g),
        })
        .collect();
    let is_self = caller
        .principal
        .as_ref()
        .is_some_and(|p| p.user.username == user.username);
    render_status(
        status,
        &UserPage {
            status: status_text(lang, &user),
            created: lang.date_text(&user.created_at),
            roles: role_choices(lang, &typed.0),
            audit_by: href("/admin/audit", &[("actor", &user.username)]),
            audit_about: href(
                "/admin/audit",
                &[("entity", "user"), ("record", &user.username)],
            ),
            grant_scope: typed.1,
            base,
            grants,
            user,
            errors,
            invitation,
            is_self,
            ctx,
        },
    )
}

/// `GET /admin/users/{username}`: a user, their roles and what can be
/// done to the account.
#[utoipa::path(
    get,
    path = "/admin/users/{username}",
    summary = "A user's page (HTML, administrators): their roles on areas and sites with a form to give one and a button to take each back, disable or enable, a new invitation, and links to the audit log by and about them; 404 for an unknown user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such user", content_type = "text/html"),
    )
)]
pub async fn user(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
) -> Response {
    user_page(
        &app,
        &caller,
        ctx,
        &username,
        None,
        HashMap::new(),
        (String::new(), String::new()),
        StatusCode::OK,
    )
    .await
}

/// Back to the user's page after a change, or the page with the refusal.
async fn after_change(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    username: &str,
    result: Result<UserView, ApiError>,
    form: &str,
    typed: (String, String),
) -> Response {
    match result {
        Ok(u) => see_other(format!("/admin/users/{}", urlencode(&u.username))),
        Err(e) => {
            if super::field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let target = if typed.0.trim().is_empty() {
                "role"
            } else {
                "scope"
            };
            let errors = form_errors(
                ctx.lang,
                form,
                &e,
                &[("grant", target), ("username", "account")],
            );
            let status = refusal_status(&e);
            user_page(app, caller, ctx, username, None, errors, typed, status).await
        }
    }
}

/// `POST /admin/users/{username}/grants`: gives the user a role.
#[utoipa::path(
    post,
    path = "/admin/users/{username}/grants",
    summary = "Give a user a role from their page's form (csrf_token, role, scope: the area, site or person it holds on; none for admin, trainer, verifier): 303 back to the user's page; the page again with the error next to the field otherwise (a second submit changes nothing more); 404 for an unknown user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 303, description = "given"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such user", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn grant(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let (role, scope) = (one(&pairs, "role"), one(&pairs, "scope"));
    let result = api::grant_role(&app, &caller, &username, &grant_of(&role, &scope)).await;
    after_change(
        &app,
        &caller,
        ctx,
        &username,
        result,
        "grant",
        (role, scope),
    )
    .await
}

/// `POST /admin/users/{username}/grants/revoke`: takes a role back.
#[utoipa::path(
    post,
    path = "/admin/users/{username}/grants/revoke",
    summary = "Take a role back from a user (form: csrf_token, grant: ROLE or ROLE:SCOPE as listed on their page): 303 back to the user's page; the page with the reason otherwise (not one's own role that manages users); 404 for an unknown user or a role they do not hold",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 303, description = "taken back"),
        (status = 400, description = "the error page: not a grant", content_type = "text/html"),
        (status = 404, description = "the error page: no such user or grant", content_type = "text/html"),
        (status = 422, description = "the page again, with the reason", content_type = "text/html"),
    )
)]
pub async fn revoke(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let g = match Grant::parse(&one(&pairs, "grant")) {
        Ok(g) => g,
        Err(e) => return error_page(&ctx, ApiError::bad_request("grant", e.to_string())),
    };
    let result = api::revoke_role(&app, &caller, &username, &g).await;
    if let Err(e @ (ApiError::NotFound { .. } | ApiError::Absent { .. })) = result {
        return error_page(&ctx, e);
    }
    let result = result.map_err(|e| match e {
        // The refusal is about the account's own role: shown by the roles.
        ApiError::Invalid(_) => ApiError::invalid("revoke", "own role"),
        e => e,
    });
    after_change(
        &app,
        &caller,
        ctx,
        &username,
        result,
        "revoke",
        (String::new(), String::new()),
    )
    .await
}

async fn set_disabled(
    app: AppState,
    caller: Caller,
    ctx: PageCtx,
    username: String,
    disabled: bool,
) -> Response {
    let result = api::set_disabled(&app, &caller, &username, disabled).await;
    if let Err(e @ (ApiError::NotFound { .. } | ApiError::Absent { .. })) = result {
        return error_page(&ctx, e);
    }
    after_change(
        &app,
        &caller,
        ctx,
        &username,
        result,
        "account",
        (String::new(), String::new()),
    )
    .await
}

/// `POST /admin/users/{username}/disable`
#[utoipa::path(
    post,
    path = "/admin/users/{username}/disable",
    summary = "Disable a user from their page (form: csrf_token): their sessions and tokens stop working at once; 303 back to the page; the page with the reason for one's own account; 404 for an unknown user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 303, description = "disabled"),
        (status = 404, description = "the error page: no such user", content_type = "text/html"),
        (status = 422, description = "the page again, with the reason", content_type = "text/html"),
    )
)]
pub async fn disable(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
) -> Response {
    set_disabled(app, caller, ctx, username, true).await
}

/// `POST /admin/users/{username}/enable`
#[utoipa::path(
    post,
    path = "/admin/users/{username}/enable",
    summary = "Enable a disabled user from their page (form: csrf_token): 303 back to the page; 404 for an unknown user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 303, description = "enabled"),
        (status = 404, description = "the error page: no such user", content_type = "text/html"),
    )
)]
pub async fn enable(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
) -> Response {
    set_disabled(app, caller, ctx, username, false).await
}

/// `POST /admin/users/{username}/invitation`: a new invitation, shown once.
#[utoipa::path(
    post,
    path = "/admin/users/{username}/invitation",
    summary = "A new invitation for a user from their page (form: csrf_token); earlier ones lapse. Answers the user's page with the invitation shown once (201); 404 for an unknown user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 201, description = "the user's page with the invitation", content_type = "text/html"),
        (status = 404, description = "the error page: no such user", content_type = "text/html"),
    )
)]
pub async fn invite(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(username): Path<String>,
) -> Response {
    match api::invite_again(&app, &caller, &username).await {
        Ok(i) => {
            user_page(
                &app,
                &caller,
                ctx,
                &username,
                Some(i.invitation),
                HashMap::new(),
                (String::new(), String::new()),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => error_page(&ctx, e),
    }
}
