//! Server-rendered pages. Each page is an askama template (checked when the
//! server is compiled, HTML-escaped by default) on one base layout, with
//! its texts from the Fluent files of the chosen language (see `i18n`).
//! Styles and scripts are static files built into the binary and served
//! from `/static/`, so the pages need nothing from elsewhere and keep to a
//! `script-src 'self'; style-src 'self'` policy. The home page shows the
//! coverage of each province and its districts with SVG charts drawn on
//! the server.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use vaxgrid_core::access::Role;
use vaxgrid_store::accounts::{Lockout, LoginAttempt};

use crate::error::ApiError;
use crate::i18n::{tkey, Arg, Lang, LANG_COOKIE};
use crate::{AppState, RouteDef};

pub mod admin;
pub mod allocation;
pub mod chart;
pub mod outbreak;
pub mod planner;
pub mod portal;
pub mod registry;
pub mod reports;
pub mod supply;
pub mod table;

/// The routes of the parts of the app, each part's from its own module
/// (the shared pages — home, sign-in, verify, language, static files — are
/// in the route table of `lib.rs`).
pub fn part_routes() -> Vec<RouteDef> {
    [
        table::routes(),
        registry::routes(),
        planner::routes(),
        portal::routes(),
        admin::routes(),
        allocation::routes(),
        supply::routes(),
        outbreak::routes(),
        reports::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The OpenAPI paths of the parts' routes, merged into the document.
pub fn parts_doc() -> Vec<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    vec![
        table::Pages::openapi(),
        registry::Pages::openapi(),
        planner::Pages::openapi(),
        portal::Pages::openapi(),
        admin::Pages::openapi(),
        allocation::Pages::openapi(),
        supply::Pages::openapi(),
        outbreak::Pages::openapi(),
        reports::Pages::openapi(),
    ]
}

/// A link of the menu: shown to the roles that use its page.
pub struct NavItem {
    pub href: String,
    pub key: &'static str,
    pub current: bool,
}

/// What every page's layout needs: the language, who is signed in (and
/// the session's CSRF token for the sign-out form), and the path, for the
/// menu and the language switch.
pub struct PageCtx {
    pub lang: Lang,
    pub user: Option<String>,
    pub roles: Vec<Role>,
    pub csrf: String,
    pub path: String,
    /// The first site the caller works at, for the site's board.
    pub site: Option<String>,
}

impl PageCtx {
    pub fn from_parts(parts: &Parts) -> PageCtx {
        let caller = parts
            .extensions
            .get::<crate::auth::Caller>()
            .cloned()
            .unwrap_or_default();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        PageCtx {
            lang: Lang::of_request(&parts.headers),
            user: caller.principal.as_ref().map(|p| p.user.username.clone()),
            roles: caller
                .principal
                .as_ref()
                .map(|p| p.grants.iter().map(|g| g.role).collect())
                .unwrap_or_default(),
            site: caller.principal.as_ref().and_then(|p| {
                p.grants
                    .iter()
                    .find(|g| {
                        matches!(
                            g.role,
                            Role::Registrar | Role::Screener | Role::Vaccinator | Role::Observer
                        )
                    })
                    .map(|g| g.scope.clone())
            }),
            csrf: caller.session_csrf.unwrap_or_default(),
            path,
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn t1(&self, key: &str, name: &str, value: impl Into<Arg>) -> String {
        self.lang.t1(key, name, value)
    }

    pub fn langs(&self) -> &'static [Lang] {
        &Lang::ALL
    }

    pub fn is_current(&self, lang: &Lang) -> bool {
        *lang == self.lang
    }

    /// The menu for the caller's roles: pages appear here as they exist.
    pub fn nav(&self) -> Vec<NavItem> {
        let planning = self.roles.iter().any(|r| {
            matches!(
                r,
                Role::Admin | Role::Planner | Role::StatisticsOfficer | Role::EpidemicResponder
            )
        });
        let mut items = Vec::new();
        if planning || self.user.is_none() {
            items.push(("/".to_string(), tkey("nav-home")));
        }
        for part in [
            table::nav,
            registry::nav,
            planner::nav,
            portal::nav,
            supply::nav,
            admin::nav,
            allocation::nav,
            outbreak::nav,
            reports::nav,
        ] {
            items.extend(part(self));
        }
        items.push(("/verify".to_string(), tkey("nav-verify")));
        let here = self.path.split('?').next().unwrap_or("/");
        items
            .into_iter()
            .map(|(href, key)| NavItem {
                current: here == href.as_str(),
                href,
                key,
            })
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageCtx::from_parts(parts))
    }
}

/// Renders a page; a template that fails to render is a logged 500.
pub fn render(page: &impl Template) -> Response {
    render_status(StatusCode::OK, page)
}

/// 303 to `to`: where a form that did its work sends the browser.
pub fn see_other(to: impl Into<String>) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.into())]).into_response()
}

pub fn render_status(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed to render").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a PageCtx,
    title: String,
    detail: String,
}

/// An error as a page in the reader's language: the problem's title and
/// detail come from the Fluent files, by status (the API answers the same
/// error as problem+json).
pub fn error_page(ctx: &PageCtx, error: ApiError) -> Response {
    let response = error.into_response();
    status_page(ctx, response.status(), response.headers())
}

/// The error page for `status`, carrying the `Retry-After` and
/// `WWW-Authenticate` of `carried` (the problem's headers).
pub fn status_page(ctx: &PageCtx, status: StatusCode, carried: &HeaderMap) -> Response {
    let code = match status.as_u16() {
        c @ (400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503) => c,
        c if c < 500 => 400,
        _ => 500,
    };
    let page = ErrorPage {
        ctx,
        title: ctx.t(&format!("problem-{code}")),
        detail: ctx.t(&format!("problem-detail-{code}")),
    };
    let mut r = render_status(status, &page);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = carried.get(&name) {
            r.headers_mut().insert(name, v.clone());
        }
    }
    r
}

/// Whether a request is a person's browser asking for a page (not the
/// API, the exchange formats, the probes or the static files): the
/// refusals made before the page (the request layers' and the access
/// policy's problem+json) are shown to it as the error page, in its
/// language.
pub fn is_page_request(uri: &axum::http::Uri, headers: &HeaderMap) -> bool {
    const NOT_PAGES: [&str; 8] = [
        "/api/", "/fhir", "/hl7", "/metrics", "/healthz", "/readyz", "/static/", "/lang",
    ];
    let path = uri.path();
    !NOT_PAGES.iter().any(|p| path.starts_with(p))
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// A refusal made before a page, as the error page (see
/// [`is_page_request`]); other answers pass as they are. Only the refusals
/// the OpenAPI document describes in both forms are turned
/// (`openapi::refusals_in_both_forms`).
pub fn refusal_as_page(uri: axum::http::Uri, headers: HeaderMap, response: Response) -> Response {
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !problem || !matches!(response.status().as_u16(), 400 | 401 | 403 | 413 | 415) {
        return response;
    }
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.uri = uri;
    parts.headers = headers;
    let ctx = PageCtx::from_parts(&parts);
    status_page(&ctx, response.status(), response.headers())
}

/// The stylesheets and scripts of the pages, built into the binary.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_str!("../../static/print.css"),
    ),
    (
        "verify.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/verify.js"),
    ),
    (
        "planner.css",
        "text/css; charset=utf-8",
        include_str!("../../static/planner.css"),
    ),
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("../../static/portal.css"),
    ),
    (
        "registry.css",
        "text/css; charset=utf-8",
        include_str!("../../static/registry.css"),
    ),
    (
        "table.css",
        "text/css; charset=utf-8",
        include_str!("../../static/table.css"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../../static/admin.css"),
    ),
    (
        "supply.css",
        "text/css; charset=utf-8",
        include_str!("../../static/supply.css"),
    ),
    (
        "outbreak.css",
        "text/css; charset=utf-8",
        include_str!("../../static/outbreak.css"),
    ),
    (
        "board.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/board.js"),
    ),
];

/// `GET /static/{file}`: one of [`ASSETS`], cacheable for an hour.
#[utoipa::path(
    get,
    path = "/static/{file}",
    summary = "Stylesheets and scripts of the pages (built into the server)",
    params(("file" = String, Path)),
    responses(
        (status = 200, description = "OK"),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => ApiError::NotFound {
            what: format!("static file '{file}'"),
        }
        .into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    set: String,
    back: Option<String>,
}

/// A path of this site to go back to: absolute, not to another host.
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 2048
                && !p.chars().any(char::is_control) =>
        {
            p
        }
        _ => "/",
    }
}

/// `GET /lang?set=vi&back=/path`: the language switch keeps the choice in
/// a cookie for a year and goes back to the page.
#[utoipa::path(
    get,
    path = "/lang",
    summary = "Language switch of the pages: keeps vi, zh or en in the vaxgrid_lang cookie and goes back (303) to the local path in back",
    params(("set" = String, Query, description = "vi, zh or en"), ("back" = Option<String>, Query, description = "a local path to go back to")),
    responses(
        (status = 303, description = "See Other"),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn set_language(
    headers: HeaderMap,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<LangQuery>,
) -> Response {
    let Some(lang) = Lang::parse(&q.set) else {
        return ApiError::bad_request("set", "the language is one of vi, zh, en").into_response();
    };
    let back = local_path(q.back.as_deref());
    let secure = if crate::auth::is_secure(&headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
        lang.code()
    );
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    hc1: Option<String>,
}

struct ValidView {
    heading: String,
    family: String,
    given: String,
    born: String,
    dose: String,
}

enum Verdict {
    None,
    Valid(ValidView),
    Invalid(String, String),
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    text: String,
    verdict: Verdict,
}

/// What a verifier sees: valid with the holder and the dose, or the reason.
fn verdict(lang: Lang, v: &crate::api::certificate_types::Verification) -> Verdict {
    let text = |o: Option<&str>| o.unwrap_or("").to_string();
    let s = |p: &str| {
        text(
            v.dcc
                .as_ref()
                .and_then(|d| d.pointer(p))
                .and_then(|x| x.as_str()),
        )
    };
    if v.valid {
        let dose = v.dcc.as_ref().and_then(|d| d.pointer("/v/0"));
        let n = |k: &str| dose.and_then(|d| d[k].as_i64()).unwrap_or(0);
        let country = text(v.issuer.as_ref().and_then(|i| i.as_deref()));
        Verdict::Valid(ValidView {
            heading: lang.t1("verify-valid-heading", "kind", text(v.kind.as_deref())),
            family: s("/nam/fn"),
            given: s("/nam/gn"),
            born: lang.t1("verify-born", "date", lang.date_text(&s("/dob"))),
            dose: lang.ta(
                "verify-dose-line",
                vec![
                    ("dn", n("dn").into()),
                    ("sd", n("sd").into()),
                    ("date", lang.date_text(&s("/v/0/dt")).into()),
                    ("product", s("/v/0/mp").into()),
                    ("issuer", s("/v/0/is").into()),
                    ("country", country.into()),
                    (
                        "expires",
                        lang.date_text(&text(v.expires_at.as_deref())).into(),
                    ),
                ],
            ),
        })
    } else {
        Verdict::Invalid(
            lang.t("verify-invalid-heading"),
            format!(
                "{}: {}",
                text(v.layer.as_deref()),
                text(v.reason.as_deref())
            ),
        )
    }
}

/// Paste an `HC1:` text or pick a QR picture; the answer names the failing layer.
#[utoipa::path(
    get,
    path = "/verify",
    summary = "Verify page (HTML): paste an HC1 text or pick a QR picture",
    params(("hc1" = Option<String>, Query)),
    responses(
        (status = 200, description = "OK"),
    )
)]
pub async fn verify_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<VerifyQuery>,
) -> Response {
    let verdict = match q.hc1.as_deref().map(str::trim) {
        None | Some("") => Verdict::None,
        Some(text) => match crate::api::certificates::verify_text(&app, text).await {
            Ok(v) => verdict(ctx.lang, &v),
            Err(e) => Verdict::Invalid(ctx.t("verify-cannot-heading"), e.status_and_detail().1),
        },
    };
    render(&VerifyPage {
        ctx,
        text: q.hc1.unwrap_or_default(),
        verdict,
    })
}

/// The double-submit cookie that guards the sign-in form before a session exists.
const LOGIN_CSRF_COOKIE: &str = "vaxgrid_login_csrf";

fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "Path=/; HttpOnly; Secure; SameSite=Strict"
    } else {
        "Path=/; HttpOnly; SameSite=Strict"
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    ctx: &'a PageCtx,
    csrf: String,
    username: String,
    message: Option<String>,
}

fn login_form(
    ctx: &PageCtx,
    status: StatusCode,
    csrf: String,
    username: &str,
    message: Option<String>,
) -> Response {
    render_status(
        status,
        &LoginPage {
            ctx,
            csrf,
            username: username.to_string(),
            message,
        },
    )
}

/// The sign-in page; sets the form's CSRF cookie.
#[utoipa::path(
    get,
    path = "/login",
    summary = "Sign-in page (HTML); sets the form's CSRF cookie",
    responses(
        (status = 200, description = "OK"),
    )
)]
pub async fn login_page(ctx: PageCtx, headers: HeaderMap) -> Response {
    fresh_login(&ctx, &headers, StatusCode::OK, None)
}

/// A sign-in form with a new CSRF token in its cookie.
fn fresh_login(
    ctx: &PageCtx,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let csrf = crate::auth::new_secret();
    let mut r = login_form(ctx, status, csrf.clone(), "", message);
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; {}",
        cookie_attributes(crate::auth::is_secure(headers))
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
}

/// Reads the sign-in form: its CSRF token must match the form's cookie and
/// the credentials be within their lengths; else the sign-in page again
/// saying why (text a database cannot store is a 400 problem).
fn read_login_form(
    ctx: &PageCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<LoginForm, Box<Response>> {
    if let Err(e) = crate::edge::check_pairs(body, "body") {
        return Err(Box::new(e.into_response()));
    }
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(body) else {
        let message = Some(ctx.t("login-bad-form"));
        let r = fresh_login(ctx, headers, StatusCode::BAD_REQUEST, message);
        return Err(Box::new(r));
    };
    let expected = crate::auth::cookie(headers, LOGIN_CSRF_COOKIE);
    if expected.is_none() || expected != Some(form.csrf_token.as_str()) {
        let message = Some(ctx.t("login-stale-csrf"));
        let r = fresh_login(ctx, headers, StatusCode::FORBIDDEN, message);
        return Err(Box::new(r));
    }
    if form.username.len() > crate::auth::MAX_USERNAME
        || form.password.len() > crate::auth::MAX_PASSWORD
    {
        let message = Some(ctx.t("login-too-long"));
        let csrf = form.csrf_token.clone();
        let r = login_form(ctx, StatusCode::BAD_REQUEST, csrf, "", message);
        return Err(Box::new(r));
    }
    Ok(form)
}

/// Whole seconds from `now` to `until`, rounded up and at least 1: a
/// client that waits this long is let in.
fn retry_seconds(until: i64, now: i64) -> i64 {
    ((until - now + 999_999) / 1_000_000).max(1)
}

/// The enabled user the name and password sign in, if any: an unknown
/// name, a disabled user and a wrong password alike give none.
async fn check_password(
    app: &AppState,
    username: &str,
    password: String,
) -> Result<Option<vaxgrid_store::accounts::User>, vaxgrid_store::StoreError> {
    let user = app
        .store
        .user_by_name(username)
        .await?
        .filter(|u| !u.disabled);
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || {
        crate::auth::verify_password(stored.as_deref(), &password)
    })
    .await
    .unwrap_or(false);
    Ok(user.filter(|_| ok))
}

/// A sign-in under way: the page again keeps the form's token and the
/// name typed.
struct SignIn<'a> {
    app: &'a AppState,
    ctx: &'a PageCtx,
    csrf: String,
    username: String,
}

impl SignIn<'_> {
    /// 429: the sign-in page again saying how long to wait, with
    /// Retry-After.
    fn locked(&self, until: i64) -> Response {
        let seconds = retry_seconds(until, self.app.store.now_micros());
        let message = Some(self.ctx.t1("login-locked", "seconds", seconds));
        let status = StatusCode::TOO_MANY_REQUESTS;
        let mut r = login_form(self.ctx, status, self.csrf.clone(), &self.username, message);
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }

    /// Asks the sign-in throttle whether the name may be tried from this
    /// address: the lockout a wrong password would start, or the 429 page
    /// (logged) while a wait holds.
    async fn admit(&self, address: &str) -> Result<Option<Lockout>, Box<Response>> {
        let policy = vaxgrid_core::throttle::POLICY;
        let username = &self.username;
        match self
            .app
            .store
            .login_attempt(username, address, &policy)
            .await
        {
            Ok(LoginAttempt::Wait { until, scope }) => {
                tracing::info!(
                    username = %username,
                    address = %address,
                    scope = scope.as_str(),
                    until,
                    "sign-in refused unchecked: throttled"
                );
                Err(Box::new(self.locked(until)))
            }
            Ok(LoginAttempt::Admitted { lockout }) => Ok(lockout),
            Err(e) => Err(Box::new(error_page(self.ctx, ApiError::Store(e)))),
        }
    }

    /// A wrong password, counted already: a lockout when this failure
    /// starts one (logged), else 401.
    fn refused(&self, lockout: Option<Lockout>) -> Response {
        match lockout {
            Some(l) => {
                tracing::warn!(
                    username = %l.username,
                    address = l.address.as_deref().unwrap_or("*"),
                    failures = l.failures,
                    wait_seconds = (l.blocked_until - l.last_failure) / 1_000_000,
                    "sign-in lockout"
                );
                self.locked(l.blocked_until)
            }
            None => login_form(
                self.ctx,
                StatusCode::UNAUTHORIZED,
                self.csrf.clone(),
                &self.username,
                Some(self.ctx.t("login-failed")),
            ),
        }
    }

    /// Signs the user in: the throttle's count cleared, a new session and
    /// its cookie, the audit entry, and home.
    async fn start_session(
        &self,
        caller: &crate::auth::Caller,
        address: &str,
        user_id: &str,
        secure: bool,
    ) -> Response {
        let (app, ctx, username) = (self.app, self.ctx, self.username.as_str());
        if let Err(e) = app.store.login_succeeded(username, address).await {
            return error_page(ctx, ApiError::Store(e));
        }
        let session = crate::auth::new_secret();
        let session_csrf = crate::auth::new_secret();
        if let Err(e) = app
            .store
            .create_session(user_id, &crate::auth::sha256_hex(&session), &session_csrf)
            .await
        {
            return error_page(ctx, ApiError::Store(e));
        }
        let _ = app
            .store
            .audit(vaxgrid_store::audit::AuditEntry {
                address: caller.address.clone(),
                ..vaxgrid_store::audit::AuditEntry::new(
                    username,
                    "sign_in",
                    "user",
                    username,
                    serde_json::json!({}),
                )
            })
            .await;
        let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
        let cookie = format!(
            "{}={session}; {}; Max-Age={}",
            crate::auth::SESSION_COOKIE,
            cookie_attributes(secure),
            crate::auth::SESSION_ABSOLUTE_MICROS / 1_000_000
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }
}

/// Checks the credentials: a session cookie and a redirect home on success;
/// the same answer for an unknown user and a wrong password; 429 with
/// Retry-After while the sign-in throttle (`vaxgrid_core::throttle`) holds
/// this name from this address back. Refusals are the
/// sign-in page again, with the reason in the reader's language.
#[utoipa::path(
    post,
    path = "/login",
    summary = "Sign in (form: username, password, csrf_token): a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS) and a redirect; 401 for an unknown user or a wrong password alike; 429 with Retry-After while failures hold the name back from this address (5 free per address, 10 per name from addresses that never signed in as it, then a wait doubling from 1 s to 15 min)",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "signed in"),
        (status = 400, description = "the sign-in page again (a malformed form or overlong credentials), or a problem (text the database cannot store)", content((String = "text/html"), (crate::error::Problem = "application/problem+json"))),
        (status = 401, description = "the sign-in page again", content_type = "text/html"),
        (status = 403, description = "the sign-in page again, with a new form token (the form's token is missing or stale)", content_type = "text/html"),
        (status = 429, description = "the sign-in page again, with Retry-After", content_type = "text/html"),
    )
)]
pub async fn login(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = match read_login_form(&ctx, &headers, &body) {
        Ok(form) => form,
        Err(r) => return *r,
    };
    let sign_in = SignIn {
        app: &app,
        ctx: &ctx,
        csrf: form.csrf_token.clone(),
        username: form.username.trim().to_string(),
    };
    let address = caller.address.clone().unwrap_or_else(|| "unknown".into());
    let lockout = match sign_in.admit(&address).await {
        Ok(lockout) => lockout,
        Err(r) => return *r,
    };
    let user = match check_password(&app, &sign_in.username, form.password).await {
        Ok(user) => user,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let secure = crate::auth::is_secure(&headers);
    let Some(user) = user else {
        return sign_in.refused(lockout);
    };
    sign_in
        .start_session(&caller, &address, &user.id, secure)
        .await
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LogoutForm {
    csrf_token: String,
}

/// Ends the session (the form carries the session's CSRF token).
#[utoipa::path(
    post,
    path = "/logout",
    summary = "Sign out (form: csrf_token of the session)",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "signed out"),
        (status = 403, response = crate::error::Problem),
    )
)]
pub async fn logout(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let sent = serde_urlencoded::from_bytes::<LogoutForm>(&body)
        .ok()
        .map(|f| f.csrf_token);
    let (Some(expected), Some(session)) = (
        caller.session_csrf.as_deref(),
        crate::auth::cookie(&headers, crate::auth::SESSION_COOKIE),
    ) else {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    };
    if sent.as_deref() != Some(expected) {
        let error = ApiError::Forbidden {
            message: "the sign-out form's CSRF token is missing or wrong".into(),
        };
        return error_page(&ctx, error);
    }
    if let Err(e) = app
        .store
        .end_session(&crate::auth::sha256_hex(session))
        .await
    {
        return error_page(&ctx, ApiError::Store(e));
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
    let cookie = format!(
        "{}=; {}; Max-Age=0",
        crate::auth::SESSION_COOKIE,
        cookie_attributes(crate::auth::is_secure(&headers))
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// A query value or path segment with what a URL cannot carry as is
/// escaped.
pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_goes_back_only_to_this_site() {
        assert_eq!(local_path(Some("/verify?hc1=x")), "/verify?hc1=x");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/a\nb")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn a_locked_sign_in_waits_whole_seconds_rounded_up() {
        assert_eq!(retry_seconds(5_000_000, 0), 5);
        assert_eq!(retry_seconds(5_000_001, 0), 6);
        assert_eq!(retry_seconds(1_000_000, 999_999), 1);
        // A wait already over still asks for a second.
        assert_eq!(retry_seconds(0, 3_000_000), 1);
    }
}
