//! The observation board (everyone in observation at the site, each with
//! the time left before they may leave, the end of observation and the
//! adverse-event report a tap away) and the adverse-event form.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::aefi::AefiOutcome;
use vaxgrid_core::visit::Severity;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::AppState;

use super::visit::{load_visit, Loaded};
use super::{new_client_id, site_of_caller, today_figures};
use crate::web::{error_page, render, PageCtx};

/// One person in observation.
pub struct BoardRow {
    pub visit_href: String,
    pub report_href: String,
    pub events_action: String,
    pub client_id: String,
    pub name: String,
    pub ends_ms: i64,
    pub left: String,
    pub may_leave: bool,
}

#[derive(Template)]
#[template(path = "table/board.html")]
struct BoardPage {
    ctx: PageCtx,
    site_code: String,
    site_name: String,
    today_heading: String,
    figures: Vec<(String, String)>,
    rows: Vec<BoardRow>,
}

/// The time left before `ends` (Unix micros), as the board shows it when
/// the page is made (the script counts it down from there).
pub(crate) fn time_left(lang: Lang, ends: i64, now: i64) -> String {
    if ends <= now {
        lang.t("board-may-leave-now")
    } else {
        let minutes = (ends - now + 59_999_999) / 60_000_000;
        lang.t1("board-minutes-left", "minutes", minutes)
    }
}

/// Everyone in observation at the site today (one read: the day's visits
/// with their persons), soonest to leave first.
async fn board_rows(app: &AppState, lang: Lang, code: &str) -> Result<Vec<BoardRow>, ApiError> {
    let now = app.store.now_micros();
    let mut visits: Vec<_> = app
        .store
        .visits_on(code, app.store.today())
        .await?
        .into_iter()
        .filter(|(v, _)| v.next_step.as_deref() == Some("observation"))
        .collect();
    visits.sort_by_key(|(v, _)| v.observation_ends_micros.unwrap_or(now));
    Ok(visits
        .into_iter()
        .map(|(v, p)| {
            let ends = v.observation_ends_micros.unwrap_or(now);
            let visit_href = format!("/sites/{code}/table/visits/{}", v.id);
            BoardRow {
                report_href: format!("{visit_href}/adverse-event?back=board"),
                events_action: format!("{visit_href}/events"),
                visit_href,
                client_id: new_client_id(),
                name: p.full_name,
                ends_ms: ends / 1000,
                left: time_left(lang, ends, now),
                may_leave: ends <= now,
            }
        })
        .collect())
}

/// `GET /sites/{code}/board`: the site's day at a glance and its
/// observation board.
#[utoipa::path(
    get,
    path = "/sites/{code}/board",
    summary = "Observation board page (HTML): the site's figures for today and everyone in observation with the time left before they may leave (a script counts down and refreshes the board), each row with the adverse-event report and, once the time is up, the end of observation; 404 for a site the caller does not work at",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such site, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn board(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Response {
    let page = async {
        let site = site_of_caller(&app, &caller, &code).await?;
        let (today_heading, figures) = today_figures(&app, ctx.lang, &code).await?;
        let rows = board_rows(&app, ctx.lang, &code).await?;
        Ok::<_, ApiError>((site, today_heading, figures, rows))
    }
    .await;
    match page {
        Ok((site, today_heading, figures, rows)) => render(&BoardPage {
            ctx,
            site_code: site.code,
            site_name: site.name,
            today_heading,
            figures,
            rows,
        }),
        Err(e) => error_page(&ctx, e),
    }
}

/// The symptoms the form offers (stored by these codes).
pub const SYMPTOMS: [&str; 9] = [
    "injection_site_reaction",
    "fever",
    "headache",
    "dizziness",
    "syncope",
    "rash",
    "vomiting",
    "difficulty_breathing",
    "anaphylaxis",
];

fn symptom_key(code: &str) -> &'static str {
    match code {
        "injection_site_reaction" => tkey("table-symptom-injection-site"),
        "fever" => tkey("table-symptom-fever"),
        "headache" => tkey("table-symptom-headache"),
        "dizziness" => tkey("table-symptom-dizziness"),
        "syncope" => tkey("table-symptom-syncope"),
        "rash" => tkey("table-symptom-rash"),
        "vomiting" => tkey("table-symptom-vomiting"),
        "difficulty_breathing" => tkey("table-symptom-breathing"),
        _ => tkey("table-symptom-anaphylaxis"),
    }
}

fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Mild => tkey("table-severity-mild"),
        Severity::Moderate => tkey("table-severity-moderate"),
        Severity::Severe => tkey("table-severity-severe"),
    }
}

pub struct Choice {
    pub code: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "table/adverse.html")]
pub(crate) struct ReportPage {
    pub ctx: PageCtx,
    pub person_name: String,
    pub visit_href: String,
    pub back_href: String,
    pub back: String,
    pub action: String,
    pub client_id: String,
    pub severities: Vec<Choice>,
    pub serious: bool,
    pub symptoms: Vec<Choice>,
    pub other: String,
    /// How it ended so far (unknown preselected) and the treatment given.
    pub outcomes: Vec<Choice>,
    pub treatment: String,
    pub errors: HashMap<String, String>,
    pub form_error: Option<String>,
}

impl ReportPage {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The report form as typed (or, the first time, preselected: mild, not
/// serious). Each symptom is a button that sends the report, so a
/// reaction is reported in two taps from the board: the row's "adverse
/// event", then what happened; a serious one takes one tap more.
pub(crate) fn report_form(
    ctx: PageCtx,
    loaded: &Loaded,
    code: &str,
    fields: &[(String, String)],
    back: &str,
) -> ReportPage {
    let severity = match super::field(fields, "severity") {
        s if s.is_empty() => "mild".to_string(),
        s => s,
    };
    let visit_href = format!("/sites/{code}/table/visits/{}", loaded.row.id);
    let client_id = match super::field(fields, "client_id") {
        c if c.is_empty() => new_client_id(),
        c => c,
    };
    ReportPage {
        person_name: loaded.person.full_name.clone(),
        back_href: if back == "board" {
            format!("/sites/{code}/board")
        } else {
            visit_href.clone()
        },
        back: back.to_string(),
        action: format!("{visit_href}/events"),
        visit_href,
        client_id,
        severities: Severity::ALL
            .into_iter()
            .map(|s| Choice {
                code: s.as_str(),
                label: ctx.t(severity_key(s)),
                checked: s.as_str() == severity,
            })
            .collect(),
        serious: super::field(fields, "serious") == "true",
        symptoms: SYMPTOMS
            .into_iter()
            .map(|code| Choice {
                code,
                label: ctx.t(symptom_key(code)),
                checked: false,
            })
            .collect(),
        other: super::field(fields, "other_symptom"),
        outcomes: {
            let chosen = super::field(fields, "outcome");
            AefiOutcome::ALL
                .into_iter()
                .map(|o| Choice {
                    code: o.as_str(),
                    label: ctx.t(&format!("table-aefi-outcome-{}", o.as_str())),
                    checked: o.as_str() == chosen
                        || (chosen.is_empty() && o == AefiOutcome::Unknown),
                })
                .collect()
        },
        treatment: super::field(fields, "treatment"),
        errors: HashMap::new(),
        form_error: None,
        ctx,
    }
}

/// `GET /sites/{code}/table/visits/{id}/adverse-event`: the report form,
/// the first of the two taps from the board.
#[utoipa::path(
    get,
    path = "/sites/{code}/table/visits/{id}/adverse-event",
    summary = "Adverse-event report form (HTML) of a visit: severity (mild preselected), serious or not (not preselected; serious — death, danger to life, hospital stay, disability — opens an investigation), the outcome so far (unknown preselected; a death or a hospital stay must be serious) and the treatment given, and what happened, each symptom a button that sends the report to the visit's events form (or another symptom typed); 404 for a visit not of this site or outside the caller's areas",
    params(("code" = String, Path, description = "site code"), ("id" = String, Path, description = "visit UUID"), ("back" = Option<String>, Query, description = "board: go back to the observation board afterwards")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn report_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((code, id)): Path<(String, String)>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let loaded = match load_visit(&app, &caller, &code, &id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let back = raw
        .as_deref()
        .filter(|q| q.split('&').any(|p| p == "back=board"))
        .map_or("visit", |_| "board");
    let mut page = report_form(ctx, &loaded, &code, &[], back);
    if loaded.visit.dose_at().is_none() {
        page.form_error = Some(page.ctx.t("table-err-report-before-dose"));
    }
    render(&page)
}
