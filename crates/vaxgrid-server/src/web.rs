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
