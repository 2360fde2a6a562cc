//! The outbreak's entry page: the cases in the caller's areas (newest
//! confirmation first, each linking to its case page and its graph) and
//! the persons with a class, nearest first, filtered by class; links to
//! the team's list, the alerts, the laboratories and the surge planner.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::graph::Class;

use super::super::{error_page, render_status, PageCtx};
use super::{area_of, class_tag, seg, word, ClassTag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

/// Cases shown on the page, newest first.
pub const CASES_SHOWN: i64 = 100;
/// Classed persons shown on the page, nearest first.
pub const PERSONS_SHOWN: i64 = 200;

pub struct CaseLine {
    pub name: String,
    pub href: String,
    pub area: String,
    pub confirmed: String,
    pub severity: String,
    pub status: String,
    pub reversed: bool,
    pub outcome: String,
}

pub struct PersonLine {
    pub name: String,
    pub href: String,
    pub area: String,
    pub class: ClassTag,
}

#[derive(Template)]
#[template(path = "outbreak/list.html")]
struct ListPage {
    ctx: PageCtx,
    cases: Vec<CaseLine>,
    cases_more: bool,
    persons: Vec<PersonLine>,
    persons_more: bool,
    class: String,
    classes: Vec<&'static str>,
}

/// The `class` query field: F0 to F3, or all.
fn class_of(raw: Option<&str>) -> Result<Option<Class>, ApiError> {
    let fields = super::super::admin::query_fields(raw);
    for k in fields.keys() {
        if k != "class" {
            return Err(ApiError::bad_request(
                k,
                format!("unknown query field '{k}'"),
            ));
        }
    }
    match super::super::admin::given(&fields, "class") {
        None => Ok(None),
        Some(c) => Class::ALL
            .into_iter()
            .find(|k| k.as_str() == c)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("class", "class is F0, F1, F2 or F3")),
    }
}

/// `GET /outbreak`
#[utoipa::path(
    get,
    path = "/outbreak",
    summary = "The outbreak's entry page (HTML; ReadOutbreak): the cases in the caller's areas, newest confirmation first (100), each linking to its case page with the contact graph; the persons with a class (F0–F3), nearest first (200), filtered by `class`; links to the team's daily list, the alerts, the laboratories and the surge planner",
    params(("class" = Option<String>, Query, description = "F0, F1, F2 or F3")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad query field", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let class = match class_of(raw.as_deref()) {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, e),
    };
    let read = async {
        let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
        let cases = app.store.cases(&actor.scope, CASES_SHOWN + 1).await?;
        let persons = app
            .store
            .classed_persons(&actor.scope, class, PERSONS_SHOWN + 1)
            .await?;
        Ok::<_, ApiError>((cases, persons))
    };
    let (mut cases, mut persons) = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let cases_more = cases.len() as i64 > CASES_SHOWN;
    cases.truncate(CASES_SHOWN as usize);
    let persons_more = persons.len() as i64 > PERSONS_SHOWN;
    persons.truncate(PERSONS_SHOWN as usize);
    let cases = cases
        .into_iter()
        .map(|c| CaseLine {
            href: format!("/outbreak/cases/{}", seg(&c.person_id)),
            area: area_of(&c.area_path),
            confirmed: lang.date_text(&c.confirmed_on),
            severity: word(lang, "severity", &c.severity),
            reversed: c.status == "reversed",
            status: word(lang, "status", &c.status),
            outcome: word(lang, "outcome", &c.outcome),
            name: c.full_name,
        })
        .collect();
    let persons = persons
        .into_iter()
        .map(|p| PersonLine {
            href: if p.class == Class::F0 {
                format!("/outbreak/cases/{}", seg(&p.person_id))
            } else {
                format!("/registry/persons/{}", seg(&p.person_id))
            },
            area: area_of(&p.area_path),
            class: class_tag(Some(p.class)),
            name: p.full_name,
        })
        .collect();
    render_status(
        StatusCode::OK,
        &ListPage {
            cases,
            cases_more,
            persons,
            persons_more,
            class: class.map(|c| c.as_str().to_string()).unwrap_or_default(),
            classes: Class::ALL.iter().map(|c| c.as_str()).collect(),
            ctx,
        },
    )
}
