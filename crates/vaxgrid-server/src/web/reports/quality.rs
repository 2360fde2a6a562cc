//! `GET /reports/data-quality`: persons of an area per data-quality check,
//! for the area and each child (a child's name drills down, a count lists
//! its persons), and below, the persons behind the count chosen, 100 a
//! page, each with every problem they have and a link to their record.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::data_quality::Check;
use vaxgrid_store::data_quality::{QualityPerson, QualityReport, QualityRow};
use vaxgrid_store::model::Page;
use vaxgrid_store::paging::PageRequest;

use super::super::admin::{given, href};
use super::super::{error_page, render_status, PageCtx};
use super::{area_or_first, crumbs, fields_of, Crumb};
use crate::api::lists::listing;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Persons listed a page.
pub const PERSONS_SHOWN: usize = 100;

pub struct Count {
    pub text: String,
    pub href: String,
}

pub struct RowLine {
    pub name: String,
    pub href: String,
    pub persons: String,
    pub counts: Vec<Count>,
}

pub struct PersonLine {
    pub name: String,
    pub href: String,
    pub birth: String,
    pub phone: String,
    pub home_area: String,
    pub problems: String,
}

#[derive(Template)]
#[template(path = "reports/quality.html")]
struct QualityPage {
    ctx: PageCtx,
    crumbs: Vec<Crumb>,
    checks: Vec<String>,
    area: RowLine,
    children: Vec<RowLine>,
    listed: String,
    persons: Vec<PersonLine>,
    next: Option<String>,
    csv_report: String,
    csv_persons: String,
}

fn check_name(lang: Lang, c: &str) -> String {
    lang.t(&format!("reports-check-{c}"))
}

fn row_line(lang: Lang, r: &QualityRow) -> RowLine {
    let page = |pairs: &[(&str, &str)]| href("/reports/data-quality", pairs);
    RowLine {
        name: r.area_name.clone(),
        href: page(&[("area", &r.area_code)]),
        persons: lang.int(r.persons),
        counts: Check::ALL
            .iter()
            .map(|c| Count {
                text: lang.int(r.count(*c)),
                href: page(&[("area", &r.area_code), ("check", c.as_str())]),
            })
            .collect(),
    }
}

/// What the page shows, read in the caller's scope.
struct QualityRead {
    check: Option<Check>,
    report: QualityReport,
    persons: Page<QualityPerson>,
    crumbs: Vec<Crumb>,
}

/// The `check` query field, if given.
fn check_of(fields: &HashMap<String, String>) -> Result<Option<Check>, ApiError> {
    given(fields, "check")
        .map(|c| {
            Check::parse(&c).ok_or_else(|| {
                ApiError::bad_request("check", format!("check is one of {}", Check::names()))
            })
        })
        .transpose()
}

/// Checks the query, then reads the report of the area, a page of the
/// persons behind the count chosen and the path down to the area
/// (ReadReports; 404 outside the caller's areas).
async fn read_quality(
    app: &AppState,
    caller: &Caller,
    raw: Option<&str>,
) -> Result<QualityRead, ApiError> {
    let fields = fields_of(raw, &["area", "check", "after"])?;
    let check = check_of(&fields)?;
    let actor = caller.actor(app, Permission::ReadReports).await?;
    let area = area_or_first(app, &actor.scope, given(&fields, "area")).await?;
    let report = app
        .store
        .data_quality(&area, &actor.scope)
        .await
        .map_err(listing)?;
    let page = PageRequest {
        after: given(&fields, "after"),
        limit: PERSONS_SHOWN,
    };
    let persons = app
        .store
        .data_quality_persons(&area, check, &page, &actor)
        .await
        .map_err(listing)?;
    let crumbs = crumbs(app, &actor.scope, &area, "/reports/data-quality").await?;
    Ok(QualityRead {
        check,
        report,
        persons,
        crumbs,
    })
}

/// The persons listed, each with every problem they have and a link to
/// their record.
fn person_lines(lang: Lang, persons: Vec<QualityPerson>) -> Vec<PersonLine> {
    persons
        .into_iter()
        .map(|p| PersonLine {
            href: format!(
                "/registry/persons/{}",
                super::super::urlencode(&p.person_id)
            ),
            name: p.full_name,
            birth: lang.date_text(&p.birth_date),
            phone: p.phone.unwrap_or_default(),
            home_area: p.home_area,
            problems: p
                .problems
                .iter()
                .map(|c| check_name(lang, c))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// `GET /reports/data-quality`
#[utoipa::path(
    get,
    path = "/reports/data-quality",
    summary = "The data-quality report of an area (HTML; ReadReports): persons with a likely duplicate, missing phone, missing ID, implausible dates or no home village, for the area and each child (a child drills down, a count lists its persons); below, the persons behind the count chosen (`check`, any by default), 100 a page. Default area: the caller's first.",
    params(("area" = Option<String>, Query, description = "area code"), ("check" = Option<String>, Query, description = "likely_duplicate, missing_phone, missing_id, implausible_dates or no_home_village"), ("after" = Option<String>, Query, description = "cursor of the next page of persons")),
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
    let QualityRead {
        check,
        report,
        persons,
        crumbs,
    } = match read_quality(&app, &caller, raw.as_deref()).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let code = report.area.area_code.clone();
    let check_str = check.map(Check::as_str).unwrap_or("");
    let page = QualityPage {
        checks: Check::ALL
            .iter()
            .map(|c| check_name(lang, c.as_str()))
            .collect(),
        area: row_line(lang, &report.area),
        children: report.children.iter().map(|r| row_line(lang, r)).collect(),
        listed: match check {
            Some(c) => check_name(lang, c.as_str()),
            None => lang.t("reports-check-any"),
        },
        next: persons.next_cursor.as_ref().map(|c| {
            href(
                "/reports/data-quality",
                &[("area", &code), ("check", check_str), ("after", c)],
            )
        }),
        persons: person_lines(lang, persons.items),
        csv_report: href(
            "/api/v1/reports/data-quality",
            &[("area", &code), ("format", "csv")],
        ),
        csv_persons: href(
            "/api/v1/reports/data-quality/persons",
            &[("area", &code), ("check", check_str), ("format", "csv")],
        ),
        crumbs,
        ctx,
    };
    render_status(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_is_read_by_its_name_and_an_unknown_one_is_refused() {
        let fields = |v: &str| HashMap::from([("check".to_string(), v.to_string())]);
        assert_eq!(
            check_of(&fields("missing_phone")).unwrap(),
            Some(Check::MissingPhone)
        );
        assert_eq!(check_of(&fields(" ")).unwrap(), None);
        assert_eq!(check_of(&HashMap::new()).unwrap(), None);
        assert!(check_of(&fields("everything")).is_err());
    }
}
