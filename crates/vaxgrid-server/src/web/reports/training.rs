//! `GET /reports/training`: the training report of an area and each child
//! (a child's name drills down): staff, class attendance, exam pass rates,
//! certified vaccinators and certificates running out soon.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::training_report::TrainingRow;

use super::super::admin::{given, href};
use super::super::{error_page, render_status, PageCtx};
use super::{area_or_first, crumbs, fields_of, Crumb};
use crate::api::lists::listing;
use crate::api::training_report::DEFAULT_EXPIRING_DAYS;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

pub struct Line {
    pub name: String,
    pub href: String,
    pub staff: String,
    pub attendees: String,
    pub exams: String,
    pub pass_rate: String,
    pub vaccinators: String,
    pub certified: String,
    pub expiring: String,
}

#[derive(Template)]
#[template(path = "reports/training.html")]
struct TrainingPage {
    ctx: PageCtx,
    crumbs: Vec<Crumb>,
    area_code: String,
    days: i64,
    classes: String,
    area: Line,
    children: Vec<Line>,
    csv: String,
}

fn line(lang: Lang, r: &TrainingRow, days: &str) -> Line {
    Line {
        name: r.area_name.clone(),
        href: href(
            "/reports/training",
            &[("area", &r.area_code), ("expiring_within_days", days)],
        ),
        staff: lang.int(r.staff),
        attendees: lang.int(r.attendees),
        exams: format!("{} / {}", lang.int(r.exams_passed), lang.int(r.exams)),
        pass_rate: r
            .pass_rate
            .map_or_else(|| "—".to_string(), |v| format!("{}%", lang.decimal(v, 1))),
        vaccinators: lang.int(r.vaccinators),
        certified: lang.int(r.certified_vaccinators),
        expiring: lang.int(r.expiring),
    }
}

/// `GET /reports/training`
#[utoipa::path(
    get,
    path = "/reports/training",
    summary = "The training report of an area (HTML; ReadReports): staff, those who attended a class, exams passed of taken with the pass rate, vaccinators and those certified today, and certificates ending within expiring_within_days (default 30), for the area and each child (a child drills down). Default area: the caller's first.",
    params(("area" = Option<String>, Query, description = "area code"), ("expiring_within_days" = Option<i64>, Query, description = "0 to 3650 (default 30)")),
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
        let fields = fields_of(raw.as_deref(), &["area", "expiring_within_days"])?;
        let days = match given(&fields, "expiring_within_days") {
            None => DEFAULT_EXPIRING_DAYS,
            Some(d) => d.parse().map_err(|_| {
                ApiError::bad_request("expiring_within_days", "a number of days, 0 to 3650")
            })?,
        };
        let actor = caller.actor(&app, Permission::ReadReports).await?;
        let area = area_or_first(&app, &actor.scope, given(&fields, "area")).await?;
        let report = app
            .store
            .training_report(&area, &actor.scope, days)
            .await
            .map_err(listing)?;
        let crumbs = crumbs(&app, &actor.scope, &area, "/reports/training").await?;
        Ok::<_, ApiError>((report, crumbs))
    };
    let (report, crumbs) = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let days = report.expiring_within_days.to_string();
    let code = report.area.area_code.clone();
    let page = TrainingPage {
        area: line(lang, &report.area, &days),
        children: report
            .children
            .iter()
            .map(|r| line(lang, r, &days))
            .collect(),
        classes: lang.int(report.classes),
        csv: href(
            "/api/v1/reports/training",
            &[
                ("area", &code),
                ("expiring_within_days", &days),
                ("format", "csv"),
            ],
        ),
        days: report.expiring_within_days,
        area_code: code,
        crumbs,
        ctx,
    };
    render_status(StatusCode::OK, &page)
}
