//! Server-rendered pages. The home page shows the coverage of each province
//! and its districts with an SVG bar chart drawn on the server, so it works
//! offline and in tests.

use std::fmt::Write;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use vaxgrid_store::reports::CoverageRow;

use crate::error::ApiError;
use crate::AppState;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Horizontal bars: at least one dose (light) and completed (dark), in % of population.
pub fn coverage_chart(rows: &[CoverageRow]) -> String {
    let bar_h = 22;
    let label_w = 190;
    let width = 640;
    let height = rows.len() * (bar_h + 8) + 30;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="coverage by area" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    let scale = (width - label_w - 60) as f64 / 100.0;
    for (i, row) in rows.iter().enumerate() {
        let y = 10 + i * (bar_h + 8);
        let one = percent(row.total.at_least_one, row.total.population);
        let done = percent(row.total.completed, row.total.population);
        let _ = write!(
            svg,
            r##"<text x="0" y="{ty}">{name}</text><rect x="{label_w}" y="{y}" width="{w1:.1}" height="{bar_h}" fill="#9ecae1"><title>≥1 dose {one:.1}%</title></rect><rect x="{label_w}" y="{y}" width="{w2:.1}" height="{bar_h}" fill="#3182bd"><title>completed {done:.1}%</title></rect><text x="{tx:.1}" y="{ty}">{one:.0}%</text>"##,
            ty = y + 15,
            name = escape(&row.name),
            w1 = one * scale,
            w2 = done * scale,
            tx = label_w as f64 + one * scale + 4.0,
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{label_w}" y="{ly}" fill="#555">light: ≥1 dose · dark: series completed (% of residents)</text></svg>"##,
        ly = height - 6
    );
    svg
}

/// Days shown in the doses-per-day chart: this many calendar days ending
/// at the last day with any dose, so a campaign that ended long ago still
/// shows its shape.
const CHART_DAYS: i64 = 120;

/// The chart's days: `CHART_DAYS` calendar days up to the last day of
/// `days` (date order, days without doses absent), days without doses as 0
/// so that the time axis has no jumps.
fn chart_days(days: &[(String, i64)]) -> Vec<(String, i64)> {
    let Some(last) = days.last().and_then(|(d, _)| vaxgrid_store::parse_date(d)) else {
        return Vec::new();
    };
    let counts: std::collections::HashMap<&str, i64> =
        days.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    (0..CHART_DAYS)
        .rev()
        .filter_map(|back| last.checked_sub(time::Duration::days(back)))
        .map(|day| {
            let day = vaxgrid_store::format_date(day);
            let n = counts.get(day.as_str()).copied().unwrap_or(0);
            (day, n)
        })
        .collect()
}

/// Vertical bars: doses recorded per day (`days` in date order), with the
/// peak day's count on the axis and each bar's date and count as a tooltip.
pub fn daily_chart(days: &[(String, i64)]) -> String {
    let (width, height, left, bottom) = (640.0_f64, 180.0_f64, 48.0, 22.0);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="doses per day" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    let peak = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let plot_h = height - bottom - 10.0;
    let step = (width - left) / days.len().max(1) as f64;
    for (i, (day, n)) in days.iter().enumerate() {
        let h = plot_h * (*n).max(0) as f64 / peak as f64;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#3182bd"><title>{day}: {n} {unit}</title></rect>"##,
            x = left + i as f64 * step,
            y = 10.0 + plot_h - h,
            w = (step - 1.0).max(0.5),
            day = escape(day),
            unit = if *n == 1 { "dose" } else { "doses" },
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#555"/><text x="0" y="20">{peak}</text><text x="0" y="{base}">0</text>"##,
        base = 10.0 + plot_h,
    );
    if let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) {
        let _ = write!(
            svg,
            r##"<text x="{left}" y="{ly}">{first}</text><text x="{width}" y="{ly}" text-anchor="end">{last}</text>"##,
            ly = height - 4.0,
            first = escape(first),
            last = escape(last),
        );
    } else {
        let _ = write!(
            svg,
            r##"<text x="{left}" y="{ly}" fill="#555">no doses recorded yet</text>"##,
            ly = height / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

pub async fn home(State(app): State<AppState>) -> Result<Response, ApiError> {
    let provinces = app.store.area_children(None, None, 100).await?.items;
    let mut body = String::new();
    for p in &provinces {
        let report = app.store.coverage(&p.code).await?;
        let days = app
            .store
            .daily_doses(&p.code, "0000-01-01", "9999-12-31")
            .await?;
        let t = &report.area.total;
        let _ = write!(
            body,
            "<section><h2>{name}</h2><p>{pop} residents · {one} with ≥1 dose ({p1:.1}%) · {done} completed ({p2:.1}%)</p>{chart}\
             <h3>Doses per day</h3>{daily}\
             <p><a href=\"/api/v1/reports/coverage?area={code}\">coverage JSON</a></p></section>",
            name = escape(&p.name),
            pop = t.population,
            one = t.at_least_one,
            done = t.completed,
            p1 = percent(t.at_least_one, t.population),
            p2 = percent(t.completed, t.population),
            chart = coverage_chart(&report.children),
            daily = daily_chart(&chart_days(&days)),
            code = escape(&p.code),
        );
    }
    if provinces.is_empty() {
        body.push_str("<p>No areas yet. Import an area tree (POST /api/v1/areas/import) or run <code>vaxgrid demo</code>.</p>");
    }
    Ok(page(
        "vaxgrid",
        &format!(
            "<p>Mass-vaccination campaign coverage. <a href=\"/login\">Sign in</a> · <a href=\"/verify\">Verify a certificate</a> · API: <a href=\"/api/v1/openapi.json\">OpenAPI</a>.</p>{body}"
        ),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    hc1: Option<String>,
}

/// Wraps a page body in the common head and styles.
fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}\
         textarea{{width:100%}} .valid{{color:#1a7f37}} .invalid{{color:#b42318}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    ))
    .into_response()
}

/// What a verifier sees: valid with the holder and the dose, or the reason.
fn verdict_html(v: &serde_json::Value) -> String {
    let s = |p: &str| escape(v.pointer(p).and_then(|x| x.as_str()).unwrap_or(""));
    if v["valid"] == true {
        let dose = v.pointer("/dcc/v/0");
        let n = |k: &str| dose.and_then(|d| d[k].as_i64()).unwrap_or(0);
        format!(
            "<section id=\"verdict\" class=\"valid\"><h2>Valid {kind} certificate</h2>\
             <p><b>{family}, {given}</b> · born {dob}</p>\
             <p>Dose {dn} of {sd} on {dt} · product {mp} · issued by {issuer} ({country}) · expires {exp}</p></section>",
            kind = s("/type"),
            family = s("/dcc/nam/fn"),
            given = s("/dcc/nam/gn"),
            dob = s("/dcc/dob"),
            dn = n("dn"),
            sd = n("sd"),
            dt = s("/dcc/v/0/dt"),
            mp = s("/dcc/v/0/mp"),
            issuer = s("/dcc/v/0/is"),
            country = s("/issuer"),
            exp = s("/expires_at"),
        )
    } else {
        format!(
            "<section id=\"verdict\" class=\"invalid\"><h2>Not valid</h2><p>{layer}: {reason}</p></section>",
            layer = s("/layer"),
            reason = s("/reason"),
        )
    }
}

/// Paste an `HC1:` text or pick a QR picture; the answer names the failing layer.
pub async fn verify_page(
    State(app): State<AppState>,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<VerifyQuery>,
) -> Response {
    let verdict = match q.hc1.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(text) => match crate::api::certificates::verify_text(&app, text).await {
            Ok(v) => verdict_html(&v),
            Err(e) => format!(
                "<section id=\"verdict\" class=\"invalid\"><h2>Cannot verify</h2><p>{}</p></section>",
                escape(&e.status_and_detail().1)
            ),
        },
    };
    let body = format!(
        "<form method=\"get\" action=\"/verify\"><label for=\"hc1\">Certificate text (HC1:…)</label>\
         <textarea id=\"hc1\" name=\"hc1\" rows=\"5\" maxlength=\"8192\">{text}</textarea>\
         <button type=\"submit\">Verify</button></form>\
         <p><label for=\"qr\">…or a QR picture (PNG)</label> <input id=\"qr\" type=\"file\" accept=\"image/png\"></p>\
         <div id=\"result\">{verdict}</div>\
         <script>\
         document.getElementById('qr').addEventListener('change', async (e) => {{\
           const file = e.target.files[0]; if (!file) return;\
           const r = await fetch('/api/v1/dcc/verify-image', {{method: 'POST', headers: {{'Content-Type': 'image/png'}}, body: file}});\
           const v = await r.json();\
           const out = document.getElementById('result');\
           out.textContent = v.valid === true ? 'Valid ' + v.type + ' certificate: ' + v.dcc.nam.fn + ', ' + v.dcc.nam.gn\
             : 'Not valid: ' + (v.layer || v.title || '') + ' ' + (v.reason || v.detail || '');\
         }});\
         </script>",
        text = escape(q.hc1.as_deref().unwrap_or("")),
    );
    page("Verify a certificate", &body)
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

fn login_form(csrf: &str, message: &str) -> String {
    format!(
        "{message}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <p><label for=\"username\">User name</label> <input id=\"username\" name=\"username\" autocomplete=\"username\" maxlength=\"64\" required></p>\
         <p><label for=\"password\">Password</label> <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" maxlength=\"256\" required></p>\
         <button type=\"submit\">Sign in</button></form>",
        csrf = escape(csrf)
    )
}

/// The sign-in page; sets the form's CSRF cookie.
pub async fn login_page(headers: axum::http::HeaderMap) -> Response {
    let csrf = crate::auth::new_secret();
    let mut r = page("Sign in", &login_form(&csrf, ""));
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; {}",
        cookie_attributes(crate::auth::is_secure(&headers))
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    r
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
}

fn status_page(status: axum::http::StatusCode, title: &str, body: &str) -> Response {
    let mut r = page(title, body);
    *r.status_mut() = status;
    r
}

/// Checks the credentials: a session cookie and a redirect home on success;
/// the same answer for an unknown user and a wrong password; 429 with
/// Retry-After once a user name has failed too often.
pub async fn login(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::{header, HeaderValue, StatusCode};
    if let Err(e) = crate::edge::check_pairs(&body, "body") {
        return e.into_response();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return crate::error::ApiError::bad_request(
            "body",
            "send the form fields username, password and csrf_token",
        )
        .into_response();
    };
    if form.username.len() > crate::auth::MAX_USERNAME
        || form.password.len() > crate::auth::MAX_PASSWORD
    {
        return crate::error::ApiError::bad_request(
            "username",
            "user names are at most 64 bytes and passwords at most 256",
        )
        .into_response();
    }
    let expected = crate::auth::cookie(&headers, LOGIN_CSRF_COOKIE);
    if expected.is_none() || expected != Some(form.csrf_token.as_str()) {
        return crate::error::ApiError::Forbidden {
            message: "the sign-in form's CSRF token is missing or stale: reload the page".into(),
        }
        .into_response();
    }
    let username = form.username.trim().to_string();
    match app.store.login_locked_until(&username).await {
        Ok(Some(until)) => return crate::auth::locked(until),
        Ok(None) => {}
        Err(e) => return crate::error::ApiError::Store(e).into_response(),
    }
    let user = match app.store.user_by_name(&username).await {
        Ok(u) => u.filter(|u| !u.disabled),
        Err(e) => return crate::error::ApiError::Store(e).into_response(),
    };
    let password = form.password;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    // Argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || {
        crate::auth::verify_password(stored.as_deref(), &password)
    })
    .await
    .unwrap_or(false);
    let secure = crate::auth::is_secure(&headers);
    let Some(user) = user.filter(|_| ok) else {
        return match app
            .store
            .login_failed(
                &username,
                crate::auth::LOGIN_ATTEMPTS,
                crate::auth::LOCKOUT_MICROS,
            )
            .await
        {
            Ok(Some(until)) => crate::auth::locked(until),
            Ok(None) => {
                let csrf = form.csrf_token;
                status_page(
                    StatusCode::UNAUTHORIZED,
                    "Sign in",
                    &login_form(
                        &csrf,
                        "<p class=\"invalid\">Unknown user name or wrong password.</p>",
                    ),
                )
            }
            Err(e) => crate::error::ApiError::Store(e).into_response(),
        };
    };
    if let Err(e) = app.store.login_succeeded(&username).await {
        return crate::error::ApiError::Store(e).into_response();
    }
    let session = crate::auth::new_secret();
    let csrf = crate::auth::new_secret();
    if let Err(e) = app
        .store
        .create_session(&user.id, &crate::auth::sha256_hex(&session), &csrf)
        .await
    {
        return crate::error::ApiError::Store(e).into_response();
    }
    let _ = app
        .store
        .audit(vaxgrid_store::audit::AuditEntry {
            address: caller.address.clone(),
            ..vaxgrid_store::audit::AuditEntry::new(
                &username,
                "sign_in",
                "user",
                &username,
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogoutForm {
    csrf_token: String,
}

/// Ends the session (the form carries the session's CSRF token).
pub async fn logout(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::http::{header, HeaderValue, StatusCode};
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
        return crate::error::ApiError::Forbidden {
            message: "the sign-out form's CSRF token is missing or wrong".into(),
        }
        .into_response();
    }
    if let Err(e) = app
        .store
        .end_session(&crate::auth::sha256_hex(session))
        .await
    {
        return crate::error::ApiError::Store(e).into_response();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_chart_scales_bars_to_the_peak_day() {
        let days = vec![
            ("2021-07-01".to_string(), 50),
            ("2021-07-02".to_string(), 100),
            ("2021-07-03".to_string(), 0),
        ];
        let svg = daily_chart(&days);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>2021-07-02: 100 doses</title>"));
        // The peak day is full height (148 px), half of it half as tall.
        assert!(svg.contains(r#"height="148.0" fill"#), "{svg}");
        assert!(svg.contains(r#"height="74.0" fill"#), "{svg}");
        assert!(svg.contains(r#"height="0.0" fill"#), "{svg}");
        assert!(svg.contains(">2021-07-01</text>") && svg.contains(">2021-07-03</text>"));
        let filled = chart_days(&[("2021-07-01".into(), 5), ("2021-07-04".into(), 7)]);
        assert_eq!(filled.len(), 120);
        assert_eq!(filled[116], ("2021-07-01".to_string(), 5));
        assert_eq!(filled[117], ("2021-07-02".to_string(), 0));
        assert_eq!(filled[118], ("2021-07-03".to_string(), 0));
        assert_eq!(filled[119], ("2021-07-04".to_string(), 7));
        assert_eq!(filled[0].0, "2021-03-07");
        assert!(chart_days(&[]).is_empty());
        let empty = daily_chart(&[]);
        assert!(empty.contains("no doses recorded yet") && !empty.contains("<rect"));
    }
}
