//! The resident portal: finding one's record with a one-time code, appointments and the certificate.
//!
//! A resident holds no account. They type the ID number and birth date of
//! their record; a six-digit code goes to the phone on the record through
//! the outbox (the reminders' sender, an SMS gateway), never onto the
//! page; the code signs them in to a resident session of their own record,
//! apart from staff sessions (cookie `vaxgrid_resident`: HttpOnly,
//! SameSite=Strict, short). The answer to a search is the same whether or
//! not the details name a record, and searches and codes are limited per
//! record searched and per address, with `Retry-After`.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rand_core::RngCore;
use vaxgrid_core::access::{Grant, Permission, Role};
use vaxgrid_store::doses::History;
use vaxgrid_store::model::{Actor, DoseKind, DoseRecord, Person};
use vaxgrid_store::portal::{CodeCheck, NewChallenge, CODE_ATTEMPTS, CODE_TTL_MICROS};

use super::see_other;
use super::{error_page, render_status, PageCtx};
use crate::api::certificates::valid_doses;
use crate::auth::{cookie, is_secure, new_secret, sha256_hex, Caller, Policy};
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

/// The resident's session cookie (apart from staff's `vaxgrid_session`).
pub const RESIDENT_COOKIE: &str = "vaxgrid_resident";
/// The double-submit cookie guarding the portal's forms before sign-in.
const CSRF_COOKIE: &str = "vaxgrid_portal_csrf";
/// Which challenge the code form answers.
const CHALLENGE_COOKIE: &str = "vaxgrid_portal_challenge";
/// A resident session unused this long ends…
pub const RESIDENT_IDLE_MICROS: i64 = 15 * 60 * 1_000_000;
/// …and any ends this long after sign-in.
pub const RESIDENT_ABSOLUTE_MICROS: i64 = 60 * 60 * 1_000_000;

/// Searches (codes sent) per record searched, and per address, in a window.
pub const FINDS_PER_RECORD: i64 = 3;
pub const FINDS_PER_ADDRESS: i64 = 20;
pub const FIND_WINDOW_MICROS: i64 = 15 * 60 * 1_000_000;
/// Codes tried per record searched, and per address, in a window (each
/// challenge also takes at most `CODE_ATTEMPTS`).
pub const CODES_PER_RECORD: i64 = 10;
pub const CODES_PER_ADDRESS: i64 = 30;
pub const CODE_WINDOW_MICROS: i64 = 60 * 60 * 1_000_000;

/// The routes of this part (joined into the route table by `web::part_routes`).
/// They are public to the staff's policy: the resident session is checked
/// here, with its own CSRF token on every form.
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    use axum::routing::{get, post};
    vec![
        r(M::GET, "/portal", Policy::Public, get(find_page)),
        r(M::POST, "/portal/find", Policy::Public, post(find)),
        r(M::GET, "/portal/code", Policy::Public, get(code_page)),
        r(M::POST, "/portal/code", Policy::Public, post(code)),
        r(M::GET, "/portal/me", Policy::Public, get(me)),
        r(M::POST, "/portal/logout", Policy::Public, post(logout)),
        r(M::POST, "/portal/hold", Policy::Public, post(hold)),
        r(M::GET, "/portal/confirm", Policy::Public, get(confirm_page)),
        r(M::POST, "/portal/confirm", Policy::Public, post(confirm)),
        r(
            M::POST,
            "/portal/appointments/{id}/cancel",
            Policy::Public,
            post(cancel),
        ),
        r(
            M::GET,
            "/portal/certificate",
            Policy::Public,
            get(certificate_page),
        ),
        r(
            M::GET,
            "/portal/certificate.png",
            Policy::Public,
            get(certificate_png),
        ),
        r(
            M::GET,
            "/portal/certificate/print",
            Policy::Public,
            get(certificate_print),
        ),
    ]
}

/// The menu entries this part shows the caller: (href, Fluent key).
/// Residents (anyone not signed in as staff) find their record here.
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if ctx.user.is_none() {
        vec![("/portal".to_string(), tkey("nav-portal"))]
    } else {
        Vec::new()
    }
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    find_page,
    find,
    code_page,
    code,
    me,
    logout,
    certificate_page,
    certificate_png,
    certificate_print,
    hold,
    confirm_page,
    confirm,
    cancel
))]
pub struct Pages;

fn cookie_attributes(secure: bool) -> &'static str {
    if secure {
        "Path=/portal; HttpOnly; Secure; SameSite=Strict"
    } else {
        "Path=/portal; HttpOnly; SameSite=Strict"
    }
}

fn set_cookie(r: &mut Response, headers: &HeaderMap, name: &str, value: &str, max_age: i64) {
    let text = format!(
        "{name}={value}; {}; Max-Age={max_age}",
        cookie_attributes(is_secure(headers))
    );
    if let Ok(v) = HeaderValue::from_str(&text) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A signed-in resident: their record and their session's CSRF token.
pub struct Resident {
    pub person_id: String,
    pub csrf: String,
    session_sha256: String,
    address: Option<String>,
}

impl Resident {
    /// The resident acting on their own record, with the scope the
    /// resident role gives for `permission` (their record only).
    pub async fn actor(&self, app: &AppState, permission: Permission) -> Result<Actor, ApiError> {
        let grants = [Grant {
            role: Role::Resident,
            scope: self.person_id.clone(),
        }];
        Ok(Actor {
            name: format!("resident {}", self.person_id),
            address: self.address.clone(),
            scope: app.store.scope_for(&grants, permission).await?,
        })
    }
}

/// The resident session of the request, if it is live.
pub async fn resident(
    app: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
) -> Result<Option<Resident>, ApiError> {
    let Some(session) = cookie(headers, RESIDENT_COOKIE).filter(|s| s.len() <= 128) else {
        return Ok(None);
    };
    let hash = sha256_hex(session);
    Ok(app
        .store
        .resident_session(&hash, RESIDENT_IDLE_MICROS, RESIDENT_ABSOLUTE_MICROS)
        .await?
        .map(|(person_id, csrf)| Resident {
            person_id,
            csrf,
            session_sha256: hash,
            address: caller.address.clone(),
        }))
}

/// Reads a form body: NUL and the like are a 400 naming the field.
fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    crate::edge::check_pairs(body, "body")?;
    Ok(serde_urlencoded::from_bytes::<T>(body).ok())
}

/// A field's error shown next to it.
#[derive(Default)]
struct FieldErrors {
    id_number: Option<String>,
    birth_date: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/find.html")]
struct FindPage<'a> {
    ctx: &'a PageCtx,
    csrf: String,
    id_number: String,
    birth_date: String,
    errors: FieldErrors,
    message: Option<String>,
}

/// The find form with a new CSRF token in its cookie.
fn find_form(
    ctx: &PageCtx,
    headers: &HeaderMap,
    status: StatusCode,
    typed: (&str, &str),
    errors: FieldErrors,
    message: Option<String>,
) -> Response {
    let csrf = cookie(headers, CSRF_COOKIE)
        .filter(|c| c.len() == 43)
        .map_or_else(new_secret, str::to_string);
    let mut r = render_status(
        status,
        &FindPage {
            ctx,
            csrf: csrf.clone(),
            id_number: typed.0.to_string(),
            birth_date: typed.1.to_string(),
            errors,
            message,
        },
    );
    set_cookie(&mut r, headers, CSRF_COOKIE, &csrf, 3600);
    r
}

/// `GET /portal`: find my record (ID number and birth date).
#[utoipa::path(
    get,
    path = "/portal",
    summary = "Resident portal (HTML): find my record with my ID number and birth date; a signed-in resident goes to their record",
    responses(
        (status = 200, description = "the find form", content_type = "text/html"),
        (status = 303, description = "signed in already: to /portal/me"),
    )
)]
pub async fn find_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Response {
    match resident(&app, &headers, &caller).await {
        Ok(Some(_)) => see_other("/portal/me"),
        Ok(None) => find_form(
            &ctx,
            &headers,
            StatusCode::OK,
            ("", ""),
            FieldErrors::default(),
            None,
        ),
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FindForm {
    id_number: String,
    birth_date: String,
    csrf_token: String,
}

/// An ID number as stored: spaces dropped, letters in capitals.
fn normalise_id(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A 429 page with `Retry-After`.
fn too_many(mut r: Response, until: i64) -> Response {
    let seconds = ((until - vaxgrid_store::now_micros()) / 1_000_000).max(1);
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn minutes_until(until: i64) -> i64 {
    (((until - vaxgrid_store::now_micros()) / 1_000_000).max(1) + 59) / 60
}

/// Counts a hit on each (key, limit, window); the latest end of a window
/// whose limit is passed, if any.
async fn over_limit(app: &AppState, hits: &[(String, i64, i64)]) -> Result<Option<i64>, ApiError> {
    let now = app.store.now_micros();
    let mut until = None;
    for (key, limit, window) in hits {
        let (count, ends) = app.store.portal_hit(key, *window, now).await?;
        if count > *limit {
            until = Some(until.map_or(ends, |u: i64| u.max(ends)));
        }
    }
    Ok(until)
}

/// A limit on searches or on codes tried: so many per record searched and
/// per address in a window, and what the form says when one is passed.
struct Limit {
    kind: &'static str,
    per_record: i64,
    per_address: i64,
    window: i64,
    /// The message key, given the minutes to wait.
    too_many: &'static str,
}

const FINDS: Limit = Limit {
    kind: "find",
    per_record: FINDS_PER_RECORD,
    per_address: FINDS_PER_ADDRESS,
    window: FIND_WINDOW_MICROS,
    too_many: tkey("portal-too-many-finds"),
};

const CODES: Limit = Limit {
    kind: "code",
    per_record: CODES_PER_RECORD,
    per_address: CODES_PER_ADDRESS,
    window: CODE_WINDOW_MICROS,
    too_many: tkey("portal-too-many-codes"),
};

impl Limit {
    /// The counters a hit counts on (key, limit, window): the record's and
    /// the address's.
    fn hits(&self, record_key: &str, address: &str) -> [(String, i64, i64); 2] {
        let kind = self.kind;
        [
            (
                format!("{kind}:record:{record_key}"),
                self.per_record,
                self.window,
            ),
            (
                format!("{kind}:address:{address}"),
                self.per_address,
                self.window,
            ),
        ]
    }
}

/// Counts the hits; when a limit is passed, the form again (`again`, given
/// the message saying how many minutes to wait) as a 429 with Retry-After.
async fn throttled(
    app: &AppState,
    ctx: &PageCtx,
    limit: &Limit,
    hits: &[(String, i64, i64)],
    again: impl FnOnce(String) -> Response,
) -> Option<Response> {
    match over_limit(app, hits).await {
        Ok(None) => None,
        Ok(Some(until)) => {
            let message = ctx.t1(limit.too_many, "minutes", minutes_until(until));
            Some(too_many(again(message), until))
        }
        Err(e) => Some(error_page(ctx, e)),
    }
}

/// A six-digit code, uniformly drawn.
fn new_code() -> String {
    loop {
        let n = rand_core::OsRng.next_u32();
        // Reject the top slice so every code is equally likely.
        if n < u32::MAX - (u32::MAX % 1_000_000) {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

fn code_hash(challenge: &str, code: &str) -> String {
    sha256_hex(&format!("{challenge}:{code}"))
}

/// Reads the find form and checks its CSRF token: the form again when it
/// cannot be read or its token is stale (text a database cannot store is a
/// 400 problem naming the field).
fn read_find_form(
    ctx: &PageCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<FindForm, Box<Response>> {
    let again = |status, typed, message| {
        let errors = FieldErrors::default();
        Box::new(find_form(
            ctx,
            headers,
            status,
            typed,
            errors,
            Some(message),
        ))
    };
    let f = match form::<FindForm>(body) {
        Err(e) => return Err(Box::new(e.into_response())),
        Ok(None) => {
            let message = ctx.t("portal-bad-form");
            return Err(again(StatusCode::BAD_REQUEST, ("", ""), message));
        }
        Ok(Some(f)) => f,
    };
    if cookie(headers, CSRF_COOKIE) != Some(f.csrf_token.as_str()) {
        let typed = (f.id_number.as_str(), f.birth_date.as_str());
        return Err(again(
            StatusCode::FORBIDDEN,
            typed,
            ctx.t("portal-stale-form"),
        ));
    }
    Ok(f)
}

/// The ID number and birth date as a record holds them, or the fields to
/// correct: an ID number of 1 to 32 letters and digits, a birth date not
/// after `today`.
fn find_details(
    ctx: &PageCtx,
    f: &FindForm,
    today: time::Date,
) -> Result<(String, String), FieldErrors> {
    let id_number = normalise_id(&f.id_number);
    let mut errors = FieldErrors::default();
    if id_number.is_empty()
        || id_number.len() > 32
        || !id_number.chars().all(|c| c.is_ascii_alphanumeric())
    {
        errors.id_number = Some(ctx.t("portal-id-number-invalid"));
    }
    let birth = vaxgrid_store::parse_date(f.birth_date.trim());
    match birth {
        Some(d) if d <= today => {}
        _ => errors.birth_date = Some(ctx.t("portal-birth-date-invalid")),
    }
    if errors.id_number.is_some() || errors.birth_date.is_some() {
        return Err(errors);
    }
    Ok((id_number, f.birth_date.trim().to_string()))
}

/// Starts a challenge for the record searched: a new code, sent to the
/// record's phone when the details name a record that has one, and kept
/// hashed for `CODE_TTL_MICROS`. Answers the challenge's id.
async fn start_challenge(
    app: &AppState,
    ctx: &PageCtx,
    person: Option<&Person>,
    record_key: String,
) -> Result<String, ApiError> {
    let challenge = uuid::Uuid::now_v7().to_string();
    let code = new_code();
    let minutes = CODE_TTL_MICROS / 60_000_000;
    let message = person.and_then(|p| {
        p.phone.clone().map(|phone| {
            let text = ctx.lang.ta(
                "portal-code-sms",
                vec![("code", code.clone().into()), ("minutes", minutes.into())],
            );
            (phone, text)
        })
    });
    let new = NewChallenge {
        id: challenge.clone(),
        person_id: person.map(|p| p.id.clone()),
        record_key,
        code_sha256: code_hash(&challenge, &code),
        language: ctx.lang.code().to_string(),
        expires_at: app.store.now_micros() + CODE_TTL_MICROS,
        message,
    };
    app.store.create_portal_challenge(&new).await?;
    Ok(challenge)
}

/// `POST /portal/find`: sends a one-time code to the phone of the record
/// the details name, if any, and answers the same either way.
#[utoipa::path(
    post,
    path = "/portal/find",
    summary = "Find my record (form: id_number, birth_date, csrf_token): a one-time code goes to the phone on the record through the outbox, and the answer is the same whether or not the details name a record; 429 with Retry-After when searches of this record or from this address are too many",
    request_body(content = FindForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "to the code form"),
        (status = 400, description = "the form again, with the field to correct", content_type = "text/html"),
        (status = 403, description = "the form again: its CSRF token is missing or stale", content_type = "text/html"),
        (status = 429, description = "the form again: too many searches; Retry-After", content_type = "text/html"),
    )
)]
pub async fn find(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = match read_find_form(&ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let typed = (f.id_number.as_str(), f.birth_date.as_str());
    let (id_number, birth_date) = match find_details(&ctx, &f, app.store.today()) {
        Ok(details) => details,
        Err(errors) => {
            return find_form(&ctx, &headers, StatusCode::BAD_REQUEST, typed, errors, None)
        }
    };
    let record_key = sha256_hex(&format!("{id_number}|{birth_date}"));
    let address = caller.address.clone().unwrap_or_default();
    let hits = FINDS.hits(&record_key, &address);
    let again = |message| {
        let errors = FieldErrors::default();
        find_form(&ctx, &headers, StatusCode::OK, typed, errors, Some(message))
    };
    if let Some(refused) = throttled(&app, &ctx, &FINDS, &hits, again).await {
        return refused;
    }
    let person = match app.store.find_resident(&id_number, &birth_date).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let challenge = match start_challenge(&app, &ctx, person.as_ref(), record_key).await {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, e),
    };
    let mut r = see_other("/portal/code");
    set_cookie(
        &mut r,
        &headers,
        CHALLENGE_COOKIE,
        &challenge,
        CODE_TTL_MICROS / 1_000_000,
    );
    r
}

#[derive(Template)]
#[template(path = "portal/code.html")]
struct CodePage<'a> {
    ctx: &'a PageCtx,
    csrf: String,
    minutes: i64,
    error: Option<String>,
    message: Option<String>,
}

fn code_form(
    ctx: &PageCtx,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<String>,
    message: Option<String>,
) -> Response {
    let csrf = cookie(headers, CSRF_COOKIE)
        .filter(|c| c.len() == 43)
        .map_or_else(new_secret, str::to_string);
    let mut r = render_status(
        status,
        &CodePage {
            ctx,
            csrf: csrf.clone(),
            minutes: CODE_TTL_MICROS / 60_000_000,
            error,
            message,
        },
    );
    set_cookie(&mut r, headers, CSRF_COOKIE, &csrf, 3600);
    r
}

/// `GET /portal/code`: type the code that came by SMS.
#[utoipa::path(
    get,
    path = "/portal/code",
    summary = "Resident portal (HTML): type the one-time code sent to the phone on the record",
    responses(
        (status = 200, description = "the code form", content_type = "text/html"),
        (status = 303, description = "no search under way: to /portal"),
    )
)]
pub async fn code_page(ctx: PageCtx, headers: HeaderMap) -> Response {
    if cookie(&headers, CHALLENGE_COOKIE).is_none() {
        return see_other("/portal");
    }
    code_form(&ctx, &headers, StatusCode::OK, None, None)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeForm {
    code: String,
    csrf_token: String,
}

/// Reads the code form and checks its CSRF token: the form again when it
/// cannot be read or its token is stale.
fn read_code_form(
    ctx: &PageCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CodeForm, Box<Response>> {
    let f = match form::<CodeForm>(body) {
        Err(e) => return Err(Box::new(e.into_response())),
        Ok(None) => {
            let message = Some(ctx.t("portal-bad-form"));
            let r = code_form(ctx, headers, StatusCode::BAD_REQUEST, None, message);
            return Err(Box::new(r));
        }
        Ok(Some(f)) => f,
    };
    if cookie(headers, CSRF_COOKIE) != Some(f.csrf_token.as_str()) {
        let message = Some(ctx.t("portal-stale-form"));
        let r = code_form(ctx, headers, StatusCode::FORBIDDEN, None, message);
        return Err(Box::new(r));
    }
    Ok(f)
}

/// The code as typed, white space dropped, when it is six digits.
fn typed_code(text: &str) -> Option<String> {
    let typed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (typed.len() == 6 && typed.chars().all(|c| c.is_ascii_digit())).then_some(typed)
}

/// Tries the code against the challenge: the person whose record it signs
/// in to, or the form again saying why not (wrong, with the tries left;
/// expired; spent).
async fn check_code(
    app: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    challenge: &str,
    typed: &str,
) -> Result<String, Box<Response>> {
    let now = app.store.now_micros();
    let checked = app
        .store
        .check_portal_code(challenge, &code_hash(challenge, typed), now)
        .await;
    let (error, message) = match checked {
        Ok(CodeCheck::Accepted { person_id }) => return Ok(person_id),
        Ok(CodeCheck::Wrong { left }) => (Some(ctx.t1("portal-code-wrong", "left", left)), None),
        Ok(CodeCheck::Expired) => (None, Some(ctx.t("portal-code-expired"))),
        Ok(CodeCheck::Spent) => (
            None,
            Some(ctx.t1("portal-code-spent", "attempts", CODE_ATTEMPTS)),
        ),
        Err(e) => return Err(Box::new(error_page(ctx, ApiError::Store(e)))),
    };
    let r = code_form(ctx, headers, StatusCode::UNAUTHORIZED, error, message);
    Err(Box::new(r))
}

/// Starts the resident's session on their record (audited) and sends them
/// to it; the challenge's cookie is cleared.
async fn start_resident_session(
    app: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    caller: &Caller,
    person_id: &str,
) -> Response {
    let session = new_secret();
    let csrf = new_secret();
    if let Err(e) = app
        .store
        .create_resident_session(&sha256_hex(&session), person_id, &csrf)
        .await
    {
        return error_page(ctx, ApiError::Store(e));
    }
    let _ = app
        .store
        .audit(vaxgrid_store::audit::AuditEntry {
            address: caller.address.clone(),
            ..vaxgrid_store::audit::AuditEntry::new(
                &format!("resident {person_id}"),
                "sign_in",
                "person",
                person_id,
                serde_json::json!({"with": "one-time code"}),
            )
        })
        .await;
    let mut r = see_other("/portal/me");
    set_cookie(
        &mut r,
        headers,
        RESIDENT_COOKIE,
        &session,
        RESIDENT_ABSOLUTE_MICROS / 1_000_000,
    );
    set_cookie(&mut r, headers, CHALLENGE_COOKIE, "", 0);
    r
}

/// `POST /portal/code`: the right code starts a resident session.
#[utoipa::path(
    post,
    path = "/portal/code",
    summary = "Sign in with the one-time code (form: code, csrf_token): a resident session (cookie vaxgrid_resident, HttpOnly, SameSite=Strict) and a redirect to /portal/me; a wrong code says how many tries remain, an expired or spent one asks for a new code; 429 with Retry-After when codes tried for this record or from this address are too many",
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "signed in: to /portal/me"),
        (status = 400, description = "the form again", content_type = "text/html"),
        (status = 401, description = "the form again: wrong, expired or spent code", content_type = "text/html"),
        (status = 403, description = "the form again: its CSRF token is missing or stale", content_type = "text/html"),
        (status = 429, description = "the form again: too many codes tried; Retry-After", content_type = "text/html"),
    )
)]
pub async fn code(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = match read_code_form(&ctx, &headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Some(challenge) = cookie(&headers, CHALLENGE_COOKIE).filter(|c| c.len() <= 64) else {
        let message = Some(ctx.t("portal-code-expired"));
        return code_form(&ctx, &headers, StatusCode::UNAUTHORIZED, None, message);
    };
    let Some(typed) = typed_code(&f.code) else {
        let error = Some(ctx.t("portal-code-format"));
        return code_form(&ctx, &headers, StatusCode::BAD_REQUEST, error, None);
    };
    let address = caller.address.clone().unwrap_or_default();
    let record_key = match app.store.portal_challenge_key(challenge).await {
        Ok(k) => k.unwrap_or_else(|| format!("challenge:{challenge}")),
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let hits = CODES.hits(&record_key, &address);
    let again = |message| code_form(&ctx, &headers, StatusCode::OK, None, Some(message));
    if let Some(refused) = throttled(&app, &ctx, &CODES, &hits, again).await {
        return refused;
    }
    let person_id = match check_code(&app, &ctx, &headers, challenge, &typed).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    start_resident_session(&app, &ctx, &headers, &caller, &person_id).await
}

struct DoseRow {
    date: String,
    number: String,
    product: String,
    site: String,
    lot: String,
    elsewhere: bool,
}

#[derive(Template)]
#[template(path = "portal/me.html")]
struct MePage<'a> {
    ctx: &'a PageCtx,
    csrf: String,
    name: String,
    born: String,
    doses: Vec<DoseRow>,
    status: String,
    /// A dose given here to certify (a dose reported from elsewhere is
    /// certified by whoever gave it).
    has_certificate: bool,
    appointments: Vec<AppointmentRow>,
    free: Vec<FreeSlot>,
    /// The appointment being moved: the free places replace it.
    moving: Option<AppointmentRow>,
}

#[derive(Clone)]
struct AppointmentRow {
    id: String,
    when: String,
    site: String,
}

struct FreeSlot {
    session_id: String,
    starts_at: String,
    label: String,
}

/// `GET /portal/me`: my record and my doses.
#[utoipa::path(
    get,
    path = "/portal/me",
    summary = "Resident portal (HTML): my record, my doses, my appointments and free places to book, or to move one appointment to (move = its id); without a resident session, to /portal",
    params(("move" = Option<String>, Query, description = "the appointment of mine to move: the free places are offered in its stead")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "not signed in: to /portal"),
    )
)]
pub async fn me(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let who = match resident(&app, &headers, &caller).await {
        Ok(Some(who)) => who,
        Ok(None) => return see_other("/portal"),
        Err(e) => return error_page(&ctx, e),
    };
    // Lenient: an unknown parameter or an appointment not theirs is ignored.
    let moving = raw.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "move")
            .map(|(_, v)| v.into_owned())
    });
    match me_page(&app, &ctx, &who, moving.as_deref()).await {
        Ok(page) => render_status(StatusCode::OK, &page),
        Err(e) => error_page(&ctx, e),
    }
}

async fn me_page<'a>(
    app: &AppState,
    ctx: &'a PageCtx,
    who: &Resident,
    moving: Option<&str>,
) -> Result<MePage<'a>, ApiError> {
    let actor = who.actor(app, Permission::ReadRegistry).await?;
    let person = app
        .store
        .read_person(&who.person_id, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let history = app.store.history(&who.person_id).await?;
    let lang = ctx.lang;
    let valid = valid_doses(&history.records);
    let doses = dose_rows(app, lang, &valid).await?;
    let status = series_status(ctx, &history, doses.is_empty());
    let has_certificate =
        app.dcc.is_some() && valid.last().is_some_and(|d| d.kind != DoseKind::Historical);
    let appointments = booked_appointments(app, lang, &who.person_id).await?;
    let free = free_places(app, lang, valid.last().copied()).await?;
    let moving = moving.and_then(|id| appointments.iter().find(|a| a.id == id).cloned());
    Ok(MePage {
        moving,
        appointments,
        free,
        has_certificate,
        ctx,
        csrf: who.csrf.clone(),
        name: person.full_name,
        born: ctx.t1("portal-born", "date", lang.date_text(&person.birth_date)),
        doses,
        status,
    })
}

/// The valid doses as the page lists them, numbered: the product's and
/// the site's names (their codes when unknown).
async fn dose_rows(
    app: &AppState,
    lang: Lang,
    valid: &[&DoseRecord],
) -> Result<Vec<DoseRow>, ApiError> {
    let products = app.store.product_map().await?;
    let mut doses = Vec::with_capacity(valid.len());
    for (i, d) in valid.iter().enumerate() {
        let site = if d.site_code.is_empty() {
            String::new()
        } else {
            match app.store.site(&d.site_code).await {
                Ok(s) => s.name,
                Err(_) => d.site_code.clone(),
            }
        };
        doses.push(DoseRow {
            date: lang.date_text(&d.administered_on),
            number: lang.int(i as i64 + 1),
            product: products
                .get(&d.product_code)
                .map_or_else(|| d.product_code.clone(), |p| p.name.clone()),
            site,
            lot: d.lot_number.clone(),
            elsewhere: d.kind == DoseKind::Historical,
        });
    }
    Ok(doses)
}

/// Where the series stands: complete, the next dose's day, or no dose yet
/// (nothing to say otherwise).
fn series_status(ctx: &PageCtx, history: &History, no_doses: bool) -> String {
    if history.series_complete {
        ctx.t("portal-series-complete")
    } else if let Some(due) = &history.next_dose_due {
        ctx.t1("portal-next-due", "date", ctx.lang.date_text(due))
    } else if no_doses {
        ctx.t("portal-no-doses")
    } else {
        String::new()
    }
}

/// The resident's appointments still booked.
async fn booked_appointments(
    app: &AppState,
    lang: Lang,
    person_id: &str,
) -> Result<Vec<AppointmentRow>, ApiError> {
    let mut appointments = Vec::new();
    for a in app.store.appointments_of(person_id).await? {
        if a.appointment.status == "booked" {
            appointments.push(AppointmentRow {
                id: a.appointment.id.clone(),
                when: lang.date_text(&a.appointment.starts_at),
                site: a.site_name.clone(),
            });
        }
    }
    Ok(appointments)
}

/// Free places to book from today at the site of the last dose (none
/// without one given at a site).
async fn free_places(
    app: &AppState,
    lang: Lang,
    last: Option<&DoseRecord>,
) -> Result<Vec<FreeSlot>, ApiError> {
    let mut free = Vec::new();
    if let Some(last) = last.filter(|d| !d.site_code.is_empty()) {
        let from = vaxgrid_store::format_date(app.store.today());
        let site = app
            .store
            .site(&last.site_code)
            .await
            .map(|s| s.name)
            .unwrap_or_default();
        for slot in app
            .store
            .free_slots_at_site(&last.site_code, &from, 6)
            .await?
        {
            free.push(FreeSlot {
                label: format!("{} · {site}", lang.date_text(&slot.starts_at)),
                session_id: slot.session_id,
                starts_at: slot.starts_at,
            });
        }
    }
    Ok(free)
}

/// The resident's sign-out form (its own schema name: the staff's
/// `/logout` has a `LogoutForm` too, and the document keeps one per name).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = PortalLogoutForm)]
#[serde(deny_unknown_fields)]
struct LogoutForm {
    csrf_token: String,
}

/// `POST /portal/logout`: ends the resident session.
#[utoipa::path(
    post,
    path = "/portal/logout",
    summary = "End the resident session (form: csrf_token of the resident session)",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "signed out: to /portal"),
        (status = 400, response = crate::error::Problem),
        (status = 403, description = "the error page: the CSRF token is missing or wrong", content_type = "text/html"),
    )
)]
pub async fn logout(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let sent = match form::<LogoutForm>(&body) {
        Err(e) => return e.into_response(),
        Ok(f) => f.map(|f| f.csrf_token),
    };
    let who = match resident(&app, &headers, &caller).await {
        Ok(Some(who)) => who,
        Ok(None) => return see_other("/portal"),
        Err(e) => return error_page(&ctx, e),
    };
    if sent.as_deref() != Some(who.csrf.as_str()) {
        return error_page(
            &ctx,
            ApiError::Forbidden {
                message: "the form's CSRF token is missing or wrong".into(),
            },
        );
    }
    if let Err(e) = app.store.end_resident_session(&who.session_sha256).await {
        return error_page(&ctx, ApiError::Store(e));
    }
    let mut r = see_other("/portal");
    set_cookie(&mut r, &headers, RESIDENT_COOKIE, "", 0);
    r
}

/// How long a chosen place is held while the resident confirms.
pub const HOLD_MICROS: i64 = 5 * 60 * 1_000_000;

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct HoldForm {
    session_id: String,
    starts_at: String,
    csrf_token: String,
    /// My booked appointment this place would replace (a move).
    #[serde(default)]
    replaces: Option<String>,
}

impl ResidentPost for HoldForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Checks the resident session and its CSRF token on a form.
/// A form posted in the resident session, with its `csrf_token`.
trait ResidentPost: serde::de::DeserializeOwned {
    fn csrf_token(&self) -> &str;
}

/// Reads a resident's form and checks their session and its CSRF token:
/// the prelude every booking form shares. `fields` names the form's
/// fields for the error a body that is not the form gets.
async fn resident_post<F: ResidentPost>(
    app: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    caller: &Caller,
    body: &[u8],
    fields: &str,
) -> Result<(F, Resident), Response> {
    let f = match form::<F>(body) {
        Err(e) => return Err(e.into_response()),
        Ok(None) => return Err(error_page(ctx, ApiError::bad_request("body", fields))),
        Ok(Some(f)) => f,
    };
    let who = resident_form(app, ctx, headers, caller, f.csrf_token()).await?;
    Ok((f, who))
}

async fn resident_form(
    app: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    caller: &Caller,
    sent: &str,
) -> Result<Resident, Response> {
    let who = signed_in(app, ctx, headers, caller).await?;
    if sent != who.csrf {
        return Err(error_page(
            ctx,
            ApiError::Forbidden {
                message: "the form's CSRF token is missing or wrong".into(),
            },
        ));
    }
    Ok(who)
}

fn full(ctx: &PageCtx, starts_at: &str) -> Response {
    error_page(
        ctx,
        ApiError::SlotFull {
            starts_at: starts_at.to_string(),
            alternatives: serde_json::json!([]),
        },
    )
}

/// `POST /portal/hold`: holds the chosen place while the resident confirms.
#[utoipa::path(
    post,
    path = "/portal/hold",
    summary = "Hold a place of a slot for 5 minutes while I confirm (form: session_id, starts_at, csrf_token of the resident session, and replaces: my appointment this place would replace); a full slot, holds counted, is a 409 page",
    request_body(content = HoldForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "held: to the confirmation page"),
        (status = 400, response = crate::error::Problem),
        (status = 403, description = "the error page: CSRF token missing or wrong", content_type = "text/html"),
        (status = 404, description = "the error page: no such slot", content_type = "text/html"),
        (status = 409, description = "the error page: the slot is full", content_type = "text/html"),
        (status = 422, description = "the error page: the slot has passed", content_type = "text/html"),
    )
)]
pub async fn hold(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (f, who) = match resident_post::<HoldForm>(
        &app,
        &ctx,
        &headers,
        &caller,
        &body,
        "session_id, starts_at, csrf_token",
    )
    .await
    {
        Ok(read) => read,
        Err(r) => return r,
    };
    let result = async {
        let actor = who.actor(&app, Permission::Book).await?;
        let session = crate::extract::uuid_field("session_id", &f.session_id)?;
        app.store
            .hold_place(
                &who.person_id,
                &session,
                f.starts_at.trim(),
                HOLD_MICROS,
                &actor,
            )
            .await
            .map_err(ApiError::lookup)
    }
    .await;
    match result {
        Ok(vaxgrid_store::scheduling::HoldOutcome::Held(h)) => {
            let mut to = form_urlencoded::Serializer::new(String::new());
            to.append_pair("hold", &h.id);
            if let Some(old) = f.replaces.as_deref().filter(|r| !r.is_empty()) {
                to.append_pair("replaces", old);
            }
            see_other(format!("/portal/confirm?{}", to.finish()))
        }
        Ok(vaxgrid_store::scheduling::HoldOutcome::Full) => full(&ctx, &f.starts_at),
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmQuery {
    hold: String,
    #[serde(default)]
    replaces: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/confirm.html")]
struct ConfirmPage<'a> {
    ctx: &'a PageCtx,
    csrf: String,
    hold: String,
    appointment_id: String,
    session_id: String,
    starts_at: String,
    when: String,
    held_for: String,
    /// The appointment of mine the place replaces: (its id, when).
    replaces: Option<(String, String)>,
}

/// `GET /portal/confirm?hold=…`: the held place, to confirm.
#[utoipa::path(
    get,
    path = "/portal/confirm",
    summary = "Resident portal (HTML): the place held for me and how long it stays held, to confirm; an expired hold sends back to /portal/me",
    params(
        ("hold" = String, Query, description = "the hold's id"),
        ("replaces" = Option<String>, Query, description = "my booked appointment the place would replace (a move)"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "not signed in, or the hold expired"),
    )
)]
pub async fn confirm_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<ConfirmQuery>,
) -> Response {
    let who = match signed_in(&app, &ctx, &headers, &caller).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let held = match app.store.live_hold(&q.hold, &who.person_id).await {
        Ok(Some(h)) => h,
        Ok(None) => return see_other("/portal/me"),
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let left = ((held.expires_at_micros - app.store.now_micros()) / 60_000_000).max(1);
    let mut replaces = None;
    if let Some(old) = q.replaces.as_deref() {
        let mine = match app.store.appointments_of(&who.person_id).await {
            Ok(mine) => mine,
            Err(e) => return error_page(&ctx, ApiError::Store(e)),
        };
        replaces = mine
            .into_iter()
            .find(|a| a.appointment.id == old && a.appointment.status == "booked")
            .map(|a| {
                let when = format!(
                    "{} · {}",
                    ctx.lang.date_text(&a.appointment.starts_at),
                    a.site_name
                );
                (a.appointment.id, when)
            });
    }
    render_status(
        StatusCode::OK,
        &ConfirmPage {
            ctx: &ctx,
            csrf: who.csrf.clone(),
            hold: held.id.clone(),
            appointment_id: uuid::Uuid::now_v7().to_string(),
            session_id: held.session_id.clone(),
            starts_at: held.starts_at.clone(),
            when: ctx.lang.date_text(&held.starts_at),
            held_for: ctx.t1("portal-held-for", "minutes", left),
            replaces,
        },
    )
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmForm {
    hold: String,
    /// The client's id of the appointment: a double submit books once.
    id: String,
    session_id: String,
    starts_at: String,
    csrf_token: String,
    /// My booked appointment the new one replaces (a move): the new place
    /// is taken and the old one freed in one transaction.
    #[serde(default)]
    replaces: Option<String>,
}

impl ResidentPost for ConfirmForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /portal/confirm`: books the held place (the booking writer, as the API).
#[utoipa::path(
    post,
    path = "/portal/confirm",
    summary = "Book the held place (form: hold, id, session_id, starts_at, csrf_token, and replaces: my appointment it replaces, a move as POST /api/v1/appointments/{id}/reschedule): through the booking writer as POST /api/v1/appointments; the same id twice books once; an expired hold books only if a place is still free (409 page otherwise)",
    request_body(content = ConfirmForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "booked: to /portal/me"),
        (status = 400, response = crate::error::Problem),
        (status = 403, description = "the error page: CSRF token missing or wrong", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 409, description = "the error page: the slot is full", content_type = "text/html"),
        (status = 422, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (f, who) = match resident_post::<ConfirmForm>(
        &app,
        &ctx,
        &headers,
        &caller,
        &body,
        "hold, id, session_id, starts_at, csrf_token",
    )
    .await
    {
        Ok(read) => read,
        Err(r) => return r,
    };
    let result = async {
        let by = who.actor(&app, Permission::Book).await?;
        let request = vaxgrid_store::scheduling::BookRequest {
            id: crate::extract::uuid_field("id", &f.id)?,
            person_id: who.person_id.clone(),
            session_id: crate::extract::uuid_field("session_id", &f.session_id)?,
            starts_at: f.starts_at.trim().to_string(),
            by,
            replaces: match f.replaces.as_deref().filter(|r| !r.is_empty()) {
                Some(old) => Some(crate::extract::uuid_field("replaces", old)?),
                None => None,
            },
            hold: Some(f.hold.clone()),
        };
        app.bookings.submit(request).await.map_err(ApiError::lookup)
    }
    .await;
    match result {
        Ok(vaxgrid_store::scheduling::BookOutcome::Full) => full(&ctx, &f.starts_at),
        Ok(_) => see_other("/portal/me"),
        Err(e) => error_page(&ctx, e),
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelForm {
    csrf_token: String,
}

impl ResidentPost for CancelForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /portal/appointments/{id}/cancel`: cancels my appointment.
#[utoipa::path(
    post,
    path = "/portal/appointments/{id}/cancel",
    summary = "Cancel my booked appointment (form: csrf_token): its place is freed, as POST /api/v1/appointments/{id}/cancel",
    params(("id" = String, Path)),
    request_body(content = CancelForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "cancelled: to /portal/me"),
        (status = 400, response = crate::error::Problem),
        (status = 403, description = "the error page: CSRF token missing or wrong", content_type = "text/html"),
        (status = 404, description = "the error page: not my appointment", content_type = "text/html"),
        (status = 409, description = "the error page: not booked", content_type = "text/html"),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (_form, who) =
        match resident_post::<CancelForm>(&app, &ctx, &headers, &caller, &body, "csrf_token").await
        {
            Ok(read) => read,
            Err(r) => return r,
        };
    let result = async {
        let id = crate::extract::uuid_field("id", &id)?;
        let actor = who.actor(&app, Permission::Book).await?;
        app.store
            .end_appointment(&id, "cancelled", &actor)
            .await
            .map_err(ApiError::lookup)
    }
    .await;
    match result {
        Ok(_) => see_other("/portal/me"),
        Err(e) => error_page(&ctx, e),
    }
}

/// What the certificate pages show: the holder, the dose, the QR code.
struct CertificateView {
    name: String,
    born: String,
    dose: String,
    uvci: String,
    qr_data_uri: String,
}

async fn certificate_view(
    app: &AppState,
    ctx: &PageCtx,
    who: &Resident,
) -> Result<(CertificateView, Vec<u8>), ApiError> {
    let actor = who.actor(app, Permission::IssueCertificate).await?;
    let issued = crate::api::certificates::issue_certificate(app, &who.person_id, &actor).await?;
    let png = vaxgrid_interop::qr::to_png(&issued.hc1, 6)
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string())))?;
    use base64::Engine;
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let p = &issued.payload;
    let s = |ptr: &str| {
        p.pointer(ptr)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let n = |ptr: &str| {
        p.pointer(ptr)
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    };
    let lang = ctx.lang;
    let view = CertificateView {
        name: format!("{} {}", s("/nam/fn"), s("/nam/gn"))
            .trim()
            .to_string(),
        born: ctx.t1("portal-born", "date", lang.date_text(&s("/dob"))),
        dose: lang.ta(
            "portal-certificate-dose",
            vec![
                ("dn", n("/v/0/dn").into()),
                ("sd", n("/v/0/sd").into()),
                ("date", lang.date_text(&s("/v/0/dt")).into()),
                ("product", issued.product_name.clone().into()),
            ],
        ),
        uvci: issued.uvci,
        qr_data_uri: uri,
    };
    Ok((view, png))
}

#[derive(Template)]
#[template(path = "portal/certificate.html")]
struct CertificatePage<'a> {
    ctx: &'a PageCtx,
    c: CertificateView,
}

#[derive(Template)]
#[template(path = "portal/certificate_print.html")]
struct CertificatePrint<'a> {
    ctx: &'a PageCtx,
    c: CertificateView,
}

/// The signed-in resident, or the way back to the find form.
async fn signed_in(
    app: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    caller: &Caller,
) -> Result<Resident, Response> {
    match resident(app, headers, caller).await {
        Ok(Some(who)) => Ok(who),
        Ok(None) => Err(see_other("/portal")),
        Err(e) => Err(error_page(ctx, e)),
    }
}

/// `GET /portal/certificate`: my certificate as a QR code.
#[utoipa::path(
    get,
    path = "/portal/certificate",
    summary = "Resident portal (HTML): my EU Digital COVID Certificate as a QR code, with links to download it as PNG and to print it; without a resident session, to /portal",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "not signed in: to /portal"),
        (status = 422, description = "the error page: no dose to certify", content_type = "text/html"),
        (status = 503, description = "the error page: certificates are not configured", content_type = "text/html"),
    )
)]
pub async fn certificate_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Response {
    let who = match signed_in(&app, &ctx, &headers, &caller).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match certificate_view(&app, &ctx, &who).await {
        Ok((c, _)) => render_status(StatusCode::OK, &CertificatePage { ctx: &ctx, c }),
        Err(e) => error_page(&ctx, e),
    }
}

/// `GET /portal/certificate.png`: my certificate's QR code, to save.
#[utoipa::path(
    get,
    path = "/portal/certificate.png",
    summary = "Resident portal: my certificate's QR code as a PNG file (attachment); without a resident session, to /portal",
    responses(
        (status = 200, description = "the QR code", content_type = "image/png"),
        (status = 303, description = "not signed in: to /portal"),
        (status = 422, description = "the error page: no dose to certify", content_type = "text/html"),
        (status = 503, description = "the error page: certificates are not configured", content_type = "text/html"),
    )
)]
pub async fn certificate_png(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Response {
    let who = match signed_in(&app, &ctx, &headers, &caller).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match certificate_view(&app, &ctx, &who).await {
        Ok((c, png)) => (
            [
                (header::CONTENT_TYPE, "image/png".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"certificate-{}.png\"",
                        c.uvci.replace([':', '/', '#'], "-")
                    ),
                ),
            ],
            png,
        )
            .into_response(),
        Err(e) => error_page(&ctx, e),
    }
}

/// `GET /portal/certificate/print`: a page to print, with the QR code.
#[utoipa::path(
    get,
    path = "/portal/certificate/print",
    summary = "Resident portal (HTML): my certificate on a printable page (holder, dose, QR code); without a resident session, to /portal",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "not signed in: to /portal"),
        (status = 422, description = "the error page: no dose to certify", content_type = "text/html"),
        (status = 503, description = "the error page: certificates are not configured", content_type = "text/html"),
    )
)]
pub async fn certificate_print(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Response {
    let who = match signed_in(&app, &ctx, &headers, &caller).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    match certificate_view(&app, &ctx, &who).await {
        Ok((c, _)) => render_status(StatusCode::OK, &CertificatePrint { ctx: &ctx, c }),
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_id_numbers_are_normalised() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|c| c.is_ascii_digit()));
        }
        assert_eq!(normalise_id(" 0220 8000 0001 "), "022080000001");
        assert_eq!(normalise_id("b1234567"), "B1234567");
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"));
    }

    #[test]
    fn a_code_is_read_without_its_spaces() {
        assert_eq!(typed_code(" 123 456 "), Some("123456".into()));
        assert_eq!(typed_code("12345"), None);
        assert_eq!(typed_code("1234567"), None);
        assert_eq!(typed_code("12a456"), None);
        assert_eq!(typed_code("١٢٣٤٥٦"), None);
    }

    #[test]
    fn searches_and_codes_count_per_record_and_per_address() {
        assert_eq!(
            FINDS.hits("k", "10.0.0.1"),
            [
                (
                    "find:record:k".to_string(),
                    FINDS_PER_RECORD,
                    FIND_WINDOW_MICROS
                ),
                (
                    "find:address:10.0.0.1".to_string(),
                    FINDS_PER_ADDRESS,
                    FIND_WINDOW_MICROS
                ),
            ]
        );
        assert_eq!(
            CODES.hits("k", ""),
            [
                (
                    "code:record:k".to_string(),
                    CODES_PER_RECORD,
                    CODE_WINDOW_MICROS
                ),
                (
                    "code:address:".to_string(),
                    CODES_PER_ADDRESS,
                    CODE_WINDOW_MICROS
                ),
            ]
        );
    }
}
