//! `GET /reports/aefi`: the AEFI report of an area — events, serious
//! events, deaths and rates per 100,000 doses by child area, wave (with a
//! campaign), product, lot, severity, seriousness and outcome — and, below,
//! the events behind the figure chosen (each figure links the page
//! narrowed to it).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::aefi::AefiOutcome;
use vaxgrid_core::visit::Severity;
use vaxgrid_store::aefi::{AefiFigure, AefiFilter};
use vaxgrid_store::paging::PageRequest;

use super::super::admin::{given, href};
use super::super::{error_page, render_status, PageCtx};
use super::{area_or_first, crumbs, fields_of, Crumb};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Events listed below the figures; the CSV has them all.
pub const EVENTS_SHOWN: usize = 100;

const FIELDS: [&str; 10] = [
    "area", "campaign", "wave", "product", "lot", "severity", "serious", "outcome", "from", "to",
];

pub struct FigureLine {
    pub label: String,
    /// The page narrowed to this figure (for a child area: that area).
    pub href: String,
    pub events: String,
    pub serious: String,
    pub deaths: String,
    pub doses: String,
    pub rate: String,
}

pub struct Part {
    pub id: &'static str,
    pub title_key: &'static str,
    pub lines: Vec<FigureLine>,
}

pub struct EventLine {
    pub name: String,
    pub href: String,
    pub product: String,
    pub lot: String,
    pub dose_on: String,
    pub severity: String,
    pub serious: bool,
    pub outcome: String,
    pub treatment: String,
}

#[derive(Template)]
#[template(path = "reports/aefi.html")]
struct AefiPage {
    ctx: PageCtx,
    crumbs: Vec<Crumb>,
    total: FigureLine,
    parts: Vec<Part>,
    narrowed: bool,
    events: Vec<EventLine>,
    more: bool,
    csv_report: String,
    csv_events: String,
    whole: String,
}

/// The filter of the query, each field checked as the API checks it.
fn filter_of(
    f: &std::collections::HashMap<String, String>,
    area: String,
) -> Result<AefiFilter, ApiError> {
    let severity = given(f, "severity")
        .map(|s| {
            Severity::parse(&s).ok_or_else(|| {
                ApiError::bad_request("severity", "severity is mild, moderate or severe")
            })
        })
        .transpose()?;
    let serious = match given(f, "serious").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::bad_request("serious", "serious is true or false")),
    };
    let outcome = given(f, "outcome")
        .map(|s| {
            AefiOutcome::parse(&s)
                .ok_or_else(|| ApiError::bad_request("outcome", format!("'{s}' is not an outcome")))
        })
        .transpose()?;
    let day = |k: &str| -> Result<Option<String>, ApiError> {
        given(f, k)
            .map(|d| {
                vaxgrid_store::parse_date(&d)
                    .map(vaxgrid_store::format_date)
                    .ok_or_else(|| {
                        ApiError::bad_request(k, format!("'{d}' is not a date (YYYY-MM-DD)"))
                    })
            })
            .transpose()
    };
    Ok(AefiFilter {
        area,
        campaign: given(f, "campaign"),
        wave: given(f, "wave"),
        product: given(f, "product"),
        lot: given(f, "lot"),
        from: day("from")?,
        to: day("to")?,
        severity,
        serious,
        outcome,
    })
}

fn rate(lang: Lang, r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_string(), |v| lang.decimal(v, 1))
}

fn line(lang: Lang, f: &AefiFigure, label: String, base: &[(&str, String)]) -> FigureLine {
    let mut pairs: Vec<(&str, String)> = base.to_vec();
    for (k, v) in &f.filter {
        match pairs.iter_mut().find(|(p, _)| p == k) {
            Some(p) => p.1 = v.clone(),
            None => pairs.push((k.as_str(), v.clone())),
        }
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    FigureLine {
        label,
        href: href("/reports/aefi", &pairs),
        events: lang.int(f.events),
        serious: lang.int(f.serious),
        deaths: lang.int(f.deaths),
        doses: lang.int(f.doses),
        rate: rate(lang, f.rate_per_100k),
    }
}

/// A stored word (severity, outcome) in the reader's language.
fn word(lang: Lang, kind: &str, value: &str) -> String {
    let key = format!("reports-{kind}-{value}");
    let t = lang.t(&key);
    if t == key {
        value.to_string()
    } else {
        t
    }
}

/// `GET /reports/aefi`
#[utoipa::path(
    get,
    path = "/reports/aefi",
    summary = "The AEFI report of an area (HTML; ReadReports): events, serious events, deaths and rates per 100,000 doses in total and by child area, product, lot, severity, seriousness and outcome, each figure a link to the page narrowed to it; below, the events behind the figure (100, the CSV of the API has all). Default area: the caller's first.",
    params(("area" = Option<String>, Query, description = "area code"), ("product" = Option<String>, Query, description = "product code"), ("lot" = Option<String>, Query, description = "lot number"), ("severity" = Option<String>, Query, description = "mild, moderate or severe"), ("serious" = Option<String>, Query, description = "true or false"), ("outcome" = Option<String>, Query, description = "an outcome"), ("campaign" = Option<String>, Query, description = "campaign id: its products and its waves"), ("wave" = Option<String>, Query, description = "wave id (with campaign): its days"), ("from" = Option<String>, Query, description = "doses from (YYYY-MM-DD)"), ("to" = Option<String>, Query, description = "doses to (YYYY-MM-DD)")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad query field", content_type = "text/html"),
        (status = 404, description = "the error page: an area outside the caller's", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = ctx.lang;
    let read = async {
        let fields = fields_of(raw.as_deref(), &FIELDS)?;
        let actor = caller.actor(&app, Permission::ReadReports).await?;
        let area = area_or_first(&app, &actor.scope, given(&fields, "area")).await?;
        let filter = filter_of(&fields, area)?;
        let report = app
            .store
            .aefi_report(&filter, &actor.scope)
            .await
            .map_err(super::super::super::api::lists::listing)?;
        let events = app
            .store
            .aefi_events(&filter, &PageRequest::first(EVENTS_SHOWN), &actor)
            .await?;
        let crumbs = crumbs(&app, &actor.scope, &report.area_code, "/reports/aefi").await?;
        Ok::<_, ApiError>((fields, report, events, crumbs))
    };
    let (fields, report, events, crumbs) = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    // The query as asked, for the links that narrow it further.
    let base: Vec<(&str, String)> = FIELDS
        .iter()
        .filter_map(|k| given(&fields, k).map(|v| (*k, v)))
        .filter(|(k, _)| *k != "area")
        .chain(std::iter::once(("area", report.area_code.clone())))
        .collect();
    let same = |f: &AefiFigure| f.label.clone();
    let parts = vec![
        Part {
            id: "by-area",
            title_key: "reports-aefi-by-area",
            lines: report
                .by_area
                .iter()
                .map(|f| line(lang, f, same(f), &base))
                .collect(),
        },
        Part {
            id: "by-wave",
            title_key: "reports-aefi-by-wave",
            lines: report
                .by_wave
                .iter()
                .map(|f| line(lang, f, same(f), &base))
                .collect(),
        },
        Part {
            id: "by-product",
            title_key: "reports-aefi-by-product",
            lines: report
                .by_product
                .iter()
                .map(|f| line(lang, f, same(f), &base))
                .collect(),
        },
        Part {
            id: "by-lot",
            title_key: "reports-aefi-by-lot",
            lines: report
                .by_lot
                .iter()
                .map(|f| line(lang, f, f.key.clone(), &base))
                .collect(),
        },
        Part {
            id: "by-severity",
            title_key: "reports-aefi-by-severity",
            lines: report
                .by_severity
                .iter()
                .map(|f| line(lang, f, word(lang, "severity", &f.key), &base))
                .collect(),
        },
        Part {
            id: "by-seriousness",
            title_key: "reports-aefi-by-seriousness",
            lines: report
                .by_seriousness
                .iter()
                .map(|f| line(lang, f, word(lang, "seriousness", &f.key), &base))
                .collect(),
        },
        Part {
            id: "by-outcome",
            title_key: "reports-aefi-by-outcome",
            lines: report
                .by_outcome
                .iter()
                .map(|f| line(lang, f, word(lang, "outcome", &f.key), &base))
                .collect(),
        },
    ];
    let pairs: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut csv = pairs.clone();
    csv.push(("format", "csv"));
    let page = AefiPage {
        total: line(lang, &report.total, report.area_name.clone(), &base),
        parts,
        narrowed: base.len() > 1,
        more: events.next_cursor.is_some(),
        events: events
            .items
            .into_iter()
            .map(|e| EventLine {
                href: format!(
                    "/registry/persons/{}",
                    super::super::urlencode(&e.person_id)
                ),
                name: e.full_name,
                product: e.product_code,
                lot: e.lot_number,
                dose_on: lang.date_text(&e.dose_on),
                severity: word(lang, "severity", &e.severity),
                serious: e.serious,
                outcome: word(lang, "outcome", &e.outcome),
                treatment: e.treatment.unwrap_or_default(),
            })
            .collect(),
        csv_report: href("/api/v1/reports/aefi", &csv),
        csv_events: href("/api/v1/reports/aefi/events", &csv),
        whole: href("/reports/aefi", &[("area", &report.area_code)]),
        crumbs,
        ctx,
    };
    render_status(StatusCode::OK, &page)
}
