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

/// The search as typed: the form shows it again and the pages' links
/// carry it.
struct Search {
    prefix: String,
    role: String,
    scope: String,
    /// enabled, disabled, or anything else for both.
    status: String,
}

impl Search {
    fn of(fields: &HashMap<String, String>) -> Search {
        let text = |k: &str| fields.get(k).cloned().unwrap_or_default();
        Search {
            prefix: text("prefix"),
            role: text("role"),
            scope: text("scope"),
            status: text("status"),
        }
    }

    /// The search as a link's query (empty ones are left out of it).
    fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            ("prefix", self.prefix.as_str()),
            ("role", self.role.as_str()),
            ("scope", self.scope.as_str()),
            ("status", self.status.as_str()),
        ]
    }
}

/// The store's filter for the query, or the search's error: a role that
/// is not one.
fn user_filter(
    lang: Lang,
    fields: &HashMap<String, String>,
    status: &str,
) -> Result<UserFilter, (String, String)> {
    let role = match given(fields, "role") {
        None => None,
        Some(r) => match Role::parse(&r) {
            Some(r) => Some(r),
            None => return Err(("role".to_string(), lang.t("admin-err-search-role"))),
        },
    };
    let disabled = match status {
        "disabled" => Some(true),
        "enabled" => Some(false),
        _ => None,
    };
    Ok(UserFilter {
        role,
        scope: given(fields, "scope"),
        prefix: given(fields, "prefix"),
        username: None,
        disabled,
    })
}

/// A user as a line of the list: their grants and their status in words.
fn user_line(lang: Lang, u: &UserView) -> UserLine {
    UserLine {
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
    }
}

/// One page of users as lines, and the link to the next page (the same
/// search, after the page's cursor).
async fn user_lines(
    app: &AppState,
    lang: Lang,
    filter: &UserFilter,
    after: Option<String>,
    search: &Search,
) -> Result<(Vec<UserLine>, Option<String>), vaxgrid_store::StoreError> {
    let page = PageRequest {
        after,
        limit: PAGE_SIZE,
    };
    let p = app.store.list_users(filter, &page).await?;
    let rows = p.items.iter().map(|u| user_line(lang, u)).collect();
    let next = p.next_cursor.map(|c| {
        let mut pairs = search.pairs().to_vec();
        pairs.push(("after", &c));
        href("/admin/users", &pairs)
    });
    Ok((rows, next))
}

/// A search the store refuses, next to its field: a cursor that does not
/// read, or another field.
fn search_refusal(lang: Lang, field: String) -> (String, String) {
    let message = if field == "after" {
        lang.t("admin-err-search-after")
    } else {
        lang.t("admin-err-other")
    };
    (field, message)
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
    let search = Search::of(&fields);
    let after = given(&fields, "after");
    let mut search_error = None;
    let (mut rows, mut next) = (Vec::new(), None);
    match user_filter(lang, &fields, &search.status) {
        Err(refusal) => search_error = Some(refusal),
        Ok(filter) => match user_lines(app, lang, &filter, after.clone(), &search).await {
            Ok(lines) => (rows, next) = lines,
            Err(vaxgrid_store::StoreError::Invalid { field, .. }) => {
                search_error = Some(search_refusal(lang, field));
            }
            Err(e) => return error_page(&ctx, ApiError::Store(e)),
        },
    }
    let status = if search_error.is_some() && status == StatusCode::OK {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let first = after
        .as_ref()
        .map(|_| href("/admin/users", &search.pairs()));
    let Search {
        prefix,
        role,
        scope,
        status: state,
    } = search;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_search_becomes_the_stores_filter() {
        let f = fields(&[("role", " planner "), ("scope", "22"), ("prefix", "")]);
        let filter = user_filter(Lang::En, &f, "disabled").unwrap();
        assert_eq!(filter.role, Some(Role::Planner));
        assert_eq!(filter.scope.as_deref(), Some("22"));
        assert_eq!(filter.prefix, None);
        assert_eq!(filter.disabled, Some(true));
        let filter = user_filter(Lang::En, &f, "enabled").unwrap();
        assert_eq!(filter.disabled, Some(false));
        let filter = user_filter(Lang::En, &f, "").unwrap();
        assert_eq!(filter.disabled, None);
    }

    #[test]
    fn an_unknown_role_is_the_searchs_error() {
        let f = fields(&[("role", "wizard")]);
        let (field, message) = user_filter(Lang::En, &f, "").unwrap_err();
        assert_eq!(field, "role");
        assert_eq!(message, Lang::En.t("admin-err-search-role"));
        let (field, _) = search_refusal(Lang::En, "after".into());
        assert_eq!(field, "after");
    }

    #[test]
    fn the_links_keep_the_search_as_typed() {
        let search = Search::of(&fields(&[("prefix", "an"), ("status", "enabled")]));
        assert_eq!(
            href("/admin/users", &search.pairs()),
            "/admin/users?prefix=an&status=enabled"
        );
    }
}
