//! `GET /reports/aefi`: the AEFI report of an area — events, serious
//! events, deaths and rates per 100,000 doses by child area, wave (with a
//! campaign), product, lot, severity, seriousness and outcome — and, below,
//! the events behind the figure chosen (each figure links the page
//! narrowed to it).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::aefi::AefiOutcome;
use vaxgrid_core::visit::Severity;
use vaxgrid_store::aefi::{AefiEventRow, AefiFigure, AefiFilter, AefiReportOf};
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

/// What the page shows, read in the caller's scope.
struct AefiRead {
    fields: HashMap<String, String>,
    report: AefiReportOf,
    events: vaxgrid_store::model::Page<AefiEventRow>,
    crumbs: Vec<Crumb>,
}

/// Checks the query, then reads the report, the first events behind it and
/// the path down to its area (ReadReports; 404 outside the caller's areas).
async fn read_report(
    app: &AppState,
    caller: &Caller,
    raw: Option<&str>,
) -> Result<AefiRead, ApiError> {
    let fields = fields_of(raw, &FIELDS)?;
    let actor = caller.actor(app, Permission::ReadReports).await?;
    let area = area_or_first(app, &actor.scope, given(&fields, "area")).await?;
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
    let crumbs = crumbs(app, &actor.scope, &report.area_code, "/reports/aefi").await?;
    Ok(AefiRead {
        fields,
        report,
        events,
        crumbs,
    })
}

/// The query as asked, for the links that narrow it further: its fields in
/// the order of [`FIELDS`], the area shown last.
fn base_query(fields: &HashMap<String, String>, area_code: &str) -> Vec<(&'static str, String)> {
    FIELDS
        .iter()
        .filter_map(|k| given(fields, k).map(|v| (*k, v)))
        .filter(|(k, _)| *k != "area")
        .chain(std::iter::once(("area", area_code.to_string())))
        .collect()
}

/// One table of figures, each line labelled by `label`.
fn part(
    lang: Lang,
    (id, title_key): (&'static str, &'static str),
    figures: &[AefiFigure],
    base: &[(&str, String)],
    label: impl Fn(&AefiFigure) -> String,
) -> Part {
    Part {
        id,
        title_key,
        lines: figures
            .iter()
            .map(|f| line(lang, f, label(f), base))
            .collect(),
    }
}

/// The tables of figures: by child area, wave, product, lot, severity,
/// seriousness and outcome (stored words in the reader's language).
fn parts(lang: Lang, report: &AefiReportOf, base: &[(&str, String)]) -> Vec<Part> {
    let same = |f: &AefiFigure| f.label.clone();
    let key = |f: &AefiFigure| f.key.clone();
    let words = |kind: &'static str| move |f: &AefiFigure| word(lang, kind, &f.key);
    vec![
        part(
            lang,
            ("by-area", "reports-aefi-by-area"),
            &report.by_area,
            base,
            same,
        ),
        part(
            lang,
            ("by-wave", "reports-aefi-by-wave"),
            &report.by_wave,
            base,
            same,
        ),
        part(
            lang,
            ("by-product", "reports-aefi-by-product"),
            &report.by_product,
            base,
            same,
        ),
        part(
            lang,
            ("by-lot", "reports-aefi-by-lot"),
            &report.by_lot,
            base,
            key,
        ),
        part(
            lang,
            ("by-severity", "reports-aefi-by-severity"),
            &report.by_severity,
            base,
            words("severity"),
        ),
        part(
            lang,
            ("by-seriousness", "reports-aefi-by-seriousness"),
            &report.by_seriousness,
            base,
            words("seriousness"),
        ),
        part(
            lang,
            ("by-outcome", "reports-aefi-by-outcome"),
            &report.by_outcome,
            base,
            words("outcome"),
        ),
    ]
}

/// The events listed below the figures, each linking its person.
fn event_lines(lang: Lang, events: Vec<AefiEventRow>) -> Vec<EventLine> {
    events
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
        .collect()
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
    let AefiRead {
        fields,
        report,
        events,
        crumbs,
    } = match read_report(&app, &caller, raw.as_deref()).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let base = base_query(&fields, &report.area_code);
    let pairs: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut csv = pairs.clone();
    csv.push(("format", "csv"));
    let page = AefiPage {
        total: line(lang, &report.total, report.area_name.clone(), &base),
        parts: parts(lang, &report, &base),
        narrowed: base.len() > 1,
        more: events.next_cursor.is_some(),
        events: event_lines(lang, events.items),
        csv_report: href("/api/v1/reports/aefi", &csv),
        csv_events: href("/api/v1/reports/aefi/events", &csv),
        whole: href("/reports/aefi", &[("area", &report.area_code)]),
        crumbs,
        ctx,
    };
    render_status(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_links_keep_the_query_in_order_with_the_area_shown_last() {
        let fields: HashMap<String, String> = [("lot", "L-7"), ("area", "01"), ("product", "MR")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            base_query(&fields, "01-02"),
            [
                ("product", "MR".to_string()),
                ("lot", "L-7".to_string()),
                ("area", "01-02".to_string()),
            ]
        );
        assert_eq!(
            base_query(&HashMap::new(), "01"),
            [("area", "01".to_string())]
        );
    }
}
