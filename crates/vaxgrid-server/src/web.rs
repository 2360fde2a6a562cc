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

pub async fn home(State(app): State<AppState>) -> Result<Response, ApiError> {
    let provinces = app.store.area_children(None, None, 100).await?.items;
    let mut body = String::new();
    for p in &provinces {
        let report = app.store.coverage(&p.code).await?;
        let t = &report.area.total;
        let _ = write!(
            body,
            "<section><h2>{name}</h2><p>{pop} residents · {one} with ≥1 dose ({p1:.1}%) · {done} completed ({p2:.1}%)</p>{chart}\
             <p><a href=\"/api/v1/reports/coverage?area={code}\">coverage JSON</a></p></section>",
            name = escape(&p.name),
            pop = t.population,
            one = t.at_least_one,
            done = t.completed,
            p1 = percent(t.at_least_one, t.population),
            p2 = percent(t.completed, t.population),
            chart = coverage_chart(&report.children),
            code = escape(&p.code),
        );
    }
    if provinces.is_empty() {
        body.push_str("<p>No areas yet. Import an area tree (POST /api/v1/areas/import) or run <code>vaxgrid demo</code>.</p>");
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>vaxgrid</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}</style></head>\
         <body><h1>vaxgrid</h1><p>Mass-vaccination campaign coverage. API: <a href=\"/api/v1/openapi.json\">OpenAPI</a>.</p>{body}</body></html>"
    );
    Ok(Html(page).into_response())
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
