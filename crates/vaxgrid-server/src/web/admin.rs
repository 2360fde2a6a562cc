//! Administration: users and their roles, machine tokens, lockouts and the
//! audit log (`/admin…`, for administrators: `ManageUsers`), and staff
//! training: classes, attendees, exams and who is certified per site
//! (`/training…`, for trainers and administrators: `ManageTraining`).
//!
//! Every form posts `application/x-www-form-urlencoded` with the session's
//! CSRF token (checked by `auth::enforce`); a form that creates something
//! carries a client id, so that sending it twice records once. The
//! checks are the API's own functions (`api::staff::create_user`,
//! `grant_role`, `create_token`, the store's training rules …); a refusal
//! comes back as the form with what was typed and the rule of the field
//! next to it, from `admin-err-<form>-<field>` in the reader's language.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::routing::{get, post};
use vaxgrid_core::access::{permits, Permission};

use super::PageCtx;
use crate::auth::Policy;
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, RouteDef};

pub mod audit;
pub mod tokens;
pub mod training;
pub mod users;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    let admin = Policy::Needs(Permission::ManageUsers);
    let trains = Policy::Needs(Permission::ManageTraining);
    vec![
        r(M::GET, "/admin/users", admin, get(users::list)),
        r(M::POST, "/admin/users", admin, post(users::create)),
        r(M::GET, "/admin/users/{username}", admin, get(users::user)),
        r(
            M::POST,
            "/admin/users/{username}/grants",
            admin,
            post(users::grant),
        ),
        r(
            M::POST,
            "/admin/users/{username}/grants/revoke",
            admin,
            post(users::revoke),
        ),
        r(
            M::POST,
            "/admin/users/{username}/disable",
            admin,
            post(users::disable),
        ),
        r(
            M::POST,
            "/admin/users/{username}/enable",
            admin,
            post(users::enable),
        ),
        r(
            M::POST,
            "/admin/users/{username}/invitation",
            admin,
            post(users::invite),
        ),
        r(M::GET, "/admin/tokens", admin, get(tokens::list)),
        r(M::POST, "/admin/tokens", admin, post(tokens::create)),
        r(
            M::POST,
            "/admin/tokens/{id}/revoke",
            admin,
            post(tokens::revoke),
        ),
        r(M::GET, "/admin/lockouts", admin, get(tokens::lockouts)),
        r(
            M::POST,
            "/admin/lockouts/clear",
            admin,
            post(tokens::clear_lockout),
        ),
        r(M::GET, "/admin/audit", admin, get(audit::log)),
        r(M::POST, "/admin/audit/verify", admin, post(audit::verify)),
        r(M::GET, "/training", trains, get(training::classes)),
        r(
            M::POST,
            "/training/classes",
            trains,
            post(training::create_class),
        ),
        r(
            M::GET,
            "/training/classes/{id}",
            trains,
            get(training::class),
        ),
        r(
            M::POST,
            "/training/classes/{id}/attendees",
            trains,
            post(training::add_attendee),
        ),
        r(
            M::POST,
            "/training/classes/{id}/exams",
            trains,
            post(training::record_exam),
        ),
        r(M::GET, "/training/sites", trains, get(training::sites)),
        r(
            M::GET,
            "/training/sites/{code}",
            trains,
            get(training::site),
        ),
    ]
}

fn holds(ctx: &PageCtx, permission: Permission) -> bool {
    ctx.roles.iter().any(|r| permits(*r, permission))
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    let mut items = Vec::new();
    if holds(ctx, Permission::ManageUsers) {
        items.push(("/admin/users".to_string(), tkey("admin-nav-users")));
        items.push(("/admin/tokens".to_string(), tkey("admin-nav-tokens")));
        items.push(("/admin/audit".to_string(), tkey("admin-nav-audit")));
    }
    if holds(ctx, Permission::ManageTraining) {
        items.push(("/training".to_string(), tkey("training-nav")));
    }
    items
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    users::list,
    users::create,
    users::user,
    users::grant,
    users::revoke,
    users::disable,
    users::enable,
    users::invite,
    tokens::list,
    tokens::create,
    tokens::revoke,
    tokens::lockouts,
    tokens::clear_lockout,
    audit::log,
    audit::verify,
    training::classes,
    training::create_class,
    training::class,
    training::add_attendee,
    training::record_exam,
    training::sites,
    training::site
))]
pub struct Pages;

// ------------------------------------------------------------ shared

pub(crate) use super::planner::planning::{already_recorded, field_of, form_pairs, one};

/// The message shown next to `field` of `form`, in the reader's language:
/// the rule the field must keep (`admin-err-<form>-<field>`), or a
/// general one when the files name no rule for it.
pub(crate) fn field_message(lang: Lang, form: &str, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let key = format!("admin-err-{form}-{base}");
    let text = lang.t(&key);
    if text == key {
        lang.t("admin-err-other")
    } else {
        text
    }
}

/// A refusal as the errors of a form: the field it names (or `form`) and
/// the field's message. `rename` maps the API's field names onto the
/// form's where they differ.
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
    HashMap::from([(base.clone(), field_message(lang, form, &base))])
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

pub(crate) use super::see_other;

/// The fields of a query string (the first of each name).
pub(crate) fn query_fields(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// A query field with something in it, trimmed.
pub(crate) fn given(fields: &HashMap<String, String>, key: &str) -> Option<String> {
    fields
        .get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A path with a query string made of the given pairs (empty ones left out).
pub(crate) fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("{path}?{}", q.finish())
    } else {
        path.to_string()
    }
}

/// An instant (Unix micros) as the locale's date and the time of day (UTC).
pub(crate) fn instant(lang: Lang, micros: i64) -> String {
    lang.date_text(&vaxgrid_store::format_instant(micros))
}

/// A new client id for a form that creates something.
pub(crate) fn client_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
