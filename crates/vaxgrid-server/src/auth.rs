//! Who is calling and whether they may: bearer tokens for machines, cookie
//! sessions for people in a browser, the policy every route declares, and
//! the scope handlers pass to the store.

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand_core::RngCore;
use sha2::{Digest, Sha256};
use vaxgrid_core::access::{permits, Permission};
use vaxgrid_store::accounts::Principal;
use vaxgrid_store::model::Actor;
use vaxgrid_store::scope::Scope;

use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "vaxgrid_session";
/// A session unused this long ends.
pub const SESSION_IDLE_MICROS: i64 = 30 * 60 * 1_000_000;
/// A session ends this long after sign-in, however busy.
pub const SESSION_ABSOLUTE_MICROS: i64 = 12 * 3600 * 1_000_000;
/// Longer credentials are refused unread (Argon2 of a megabyte is work).
pub const MAX_USERNAME: usize = 64;
pub const MAX_PASSWORD: usize = 256;
const MAX_TOKEN: usize = 128;

/// What a route needs, declared next to it in the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in.
    SignedIn,
    /// A grant carrying this permission.
    Needs(Permission),
}

/// The caller of a request, found by [`identify`].
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub address: Option<String>,
    /// The session's CSRF token when the caller came with a session cookie.
    pub session_csrf: Option<String>,
}

impl Caller {
    pub fn name(&self) -> String {
        self.principal
            .as_ref()
            .map_or_else(|| "anonymous".to_string(), |p| p.user.username.clone())
    }

    /// The caller acting with the scope their grants give for `permission`.
    pub async fn actor(&self, app: &AppState, permission: Permission) -> Result<Actor, ApiError> {
        let scope = match &self.principal {
            Some(p) => app.store.scope_for(&p.grants, permission).await?,
            None => Scope::none(),
        };
        Ok(Actor {
            name: self.name(),
            address: self.address.clone(),
            scope,
        })
    }
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 32 random bytes, base64url: session ids, tokens, CSRF tokens, passwords.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A machine token as shown once to its owner.
pub fn new_token() -> String {
    format!("vxg_{}", new_secret())
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored hash. Without a user (`None`) it
/// checks against a fixed hash, so an unknown user name costs the same
/// time as a wrong password.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default());
    let hash = stored.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored.is_some()
}

fn unauthorized(message: &str) -> Response {
    let mut r = ApiError::Unauthorized {
        message: message.to_string(),
    }
    .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"vaxgrid\""),
    );
    r
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Finds the caller of every request: a bearer token (a bad one is a 401
/// at once) or a session cookie; anonymous otherwise.
pub async fn identify(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let address = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        client_address(c.0.ip(), &forwarded, &app.trusted_proxies).to_string()
    });
    let mut caller = Caller {
        address,
        ..Caller::default()
    };
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let Some(token) = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN)
        else {
            return unauthorized("the Authorization header must be 'Bearer <token>'");
        };
        match app.store.token_principal(&sha256_hex(token)).await {
            Ok(Some(p)) => caller.principal = Some(p),
            Ok(None) => {
                return unauthorized(
                    "the token is not valid (unknown, revoked, or its user disabled)",
                )
            }
            Err(e) => return ApiError::Store(e).into_response(),
        }
    } else if let Some(session) = cookie(req.headers(), SESSION_COOKIE) {
        if session.len() <= MAX_TOKEN {
            match app
                .store
                .session(
                    &sha256_hex(session),
                    SESSION_IDLE_MICROS,
                    SESSION_ABSOLUTE_MICROS,
                )
                .await
            {
                Ok(Some((p, csrf))) => {
                    caller.principal = Some(p);
                    caller.session_csrf = Some(csrf);
                }
                Ok(None) => {}
                Err(e) => return ApiError::Store(e).into_response(),
            }
        }
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// Applies a route's policy: 401 without a caller, 403 without a grant
/// carrying the permission or (for a session) without the CSRF token on a
/// request that changes something.
pub async fn enforce(State(policy): State<Policy>, req: Request, next: Next) -> Response {
    if policy == Policy::Public {
        return next.run(req).await;
    }
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default();
    let Some(principal) = &caller.principal else {
        return unauthorized("sign in, or send 'Authorization: Bearer <token>'");
    };
    if let Policy::Needs(permission) = policy {
        if !principal.grants.iter().any(|g| permits(g.role, permission)) {
            return ApiError::Forbidden {
                message: format!(
                    "{} holds no role that may do this ({permission:?})",
                    principal.user.username
                ),
            }
            .into_response();
        }
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = req;
    if let (true, Some(expected)) = (changes, &caller.session_csrf) {
        let sent = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        if sent != Some(expected.as_str()) {
            match form_csrf(req).await {
                Ok((rebuilt, Some(token))) if token == *expected => req = rebuilt,
                Ok(_) => {
                    return ApiError::Forbidden {
                        message: "a request made with a session must carry its CSRF token (header X-CSRF-Token, or the form field csrf_token)".into(),
                    }
                    .into_response()
                }
                Err(response) => return response,
            }
        }
    }
    next.run(req).await
}

/// The largest HTML form body read for its CSRF field (the pages' forms
/// are small; CSV uploads go to the API with the header).
const FORM_LIMIT: usize = 256 * 1024;

/// Reads the `csrf_token` field of an HTML form (a body of type
/// `application/x-www-form-urlencoded`) and gives the request back whole,
/// so the page's handler reads the same form.
async fn form_csrf(req: Request) -> Result<(Request, Option<String>), Response> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(b) => b,
        Err(_) => return Err(ApiError::PayloadTooLarge { limit: FORM_LIMIT }.into_response()),
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned());
    Ok((
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        token,
    ))
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub fn is_secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The client's address: the connection's peer, unless the peer is a
/// trusted reverse proxy; then the nearest address in `X-Forwarded-For`
/// (read from the right, as each proxy appends the one it saw) that is not
/// itself a trusted proxy. Entries left of it are the client's own word and
/// are ignored; an entry that is not an address stops the walk there.
pub fn client_address(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    for entry in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match entry.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_taken_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // A direct client cannot name another address.
        assert_eq!(
            client_address(ip("203.0.113.9"), "1.2.3.4", &proxies),
            ip("203.0.113.9")
        );
        // Through a proxy: the nearest untrusted entry, not what the client
        // put in front of it.
        assert_eq!(
            client_address(ip("10.0.0.1"), "1.2.3.4, 198.51.100.7", &proxies),
            ip("198.51.100.7")
        );
        // Through two proxies.
        assert_eq!(
            client_address(ip("10.0.0.1"), "198.51.100.7, 10.0.0.2", &proxies),
            ip("198.51.100.7")
        );
        // Nothing forwarded, or garbage: the proxy itself.
        assert_eq!(client_address(ip("10.0.0.1"), "", &proxies), ip("10.0.0.1"));
        assert_eq!(
            client_address(ip("10.0.0.1"), "bogus", &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(client_address(ip("10.0.0.1"), "::1", &[]), ip("10.0.0.1"));
    }

    #[test]
    fn passwords_verify_and_unknown_users_never_do() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(&hash), "correct horse"));
        assert!(!verify_password(Some(&hash), "wrong"));
        assert!(!verify_password(None, "not a password of anyone"));
        assert!(!verify_password(Some("garbage"), "x"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; vaxgrid_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
