//! The vaccination table: the queue, finding or registering a person, check-in, screening, consent, the dose, and the observation board with adverse events.
//!
//! The pages call the same functions as the API: the registry's search
//! (`api::persons::find`), registration (`api::persons::register`),
//! `open_visit`, the day's figures (`site_day`), and for every event of a
//! visit `vaxgrid_store::visits::record_event`, the one function behind
//! `POST /api/v1/visits/{id}/events` (its rules, its refusals by field, and
//! its client id: a form sent twice records once). A site the caller does
//! not work at is a 404 page, as the API answers.

mod board;
mod vials;
mod visit;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use vaxgrid_core::access::Permission;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

use super::{error_page, render, PageCtx};

pub use board::{board, report_page};
pub use visit::{event_submit, find_page, open_submit, visit_page, walk_in_page, walk_in_submit};

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use crate::auth::Policy::Needs;
    use Permission::{Visit, WriteRegistry};
    vec![
        r(Method::GET, "/sites/{code}/table", Needs(Visit), get(queue)),
        r(
            Method::GET,
            "/sites/{code}/table/find",
            Needs(Visit),
            get(find_page),
        ),
        r(
            Method::GET,
            "/sites/{code}/table/walk-in",
            Needs(WriteRegistry),
            get(walk_in_page),
        ),
        r(
            Method::POST,
            "/sites/{code}/table/walk-in",
            Needs(WriteRegistry),
            post(walk_in_submit),
        ),
        r(
            Method::POST,
            "/sites/{code}/table/visits",
            Needs(Visit),
            post(open_submit),
        ),
        r(
            Method::GET,
            "/sites/{code}/table/visits/{id}",
            Needs(Visit),
            get(visit_page),
        ),
        r(
            Method::POST,
            "/sites/{code}/table/visits/{id}/events",
            Needs(Visit),
            post(event_submit),
        ),
        r(
            Method::GET,
            "/sites/{code}/table/visits/{id}/adverse-event",
            Needs(Visit),
            get(report_page),
        ),
        r(Method::GET, "/sites/{code}/board", Needs(Visit), get(board)),
    ]
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    ctx.site
        .iter()
        .flat_map(|site| {
            [
                (format!("/sites/{site}/table"), tkey("nav-table")),
                (format!("/sites/{site}/board"), tkey("nav-site-board")),
            ]
        })
        .collect()
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    queue,
    visit::find_page,
    visit::walk_in_page,
    visit::walk_in_submit,
    visit::open_submit,
    visit::visit_page,
    visit::event_submit,
    board::report_page,
    board::board
))]
pub struct Pages;

/// A form's fields as sent (urlencoded), in order; a field may repeat.
pub(crate) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of a field, trimmed ("" when absent).
pub(crate) fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// After a form: see the next page.
pub(crate) use super::see_other;

/// Whether the caller holds a role that may do `permission` somewhere.
pub(crate) fn may(ctx: &PageCtx, permission: Permission) -> bool {
    ctx.roles
        .iter()
        .any(|r| vaxgrid_core::access::permits(*r, permission))
}

/// A new client id for a form (the record's id, or the event's client id).
pub(crate) fn new_client_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Where a person of the queue stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    Booked,
    Arrived,
    CheckedIn,
    Screened,
    Consented,
    InObservation,
    Done,
    Deferred,
    Refused,
    NoShow,
    Cancelled,
}

impl QueueState {
    /// From a visit's stored outcome and next step.
    pub fn of_visit(outcome: &str, next_step: Option<&str>) -> QueueState {
        match (outcome, next_step) {
            ("in_progress", Some("check_in")) => QueueState::Arrived,
            ("in_progress", Some("identity_check" | "screening")) => QueueState::CheckedIn,
            ("in_progress", Some("consent")) => QueueState::Screened,
            ("in_progress", Some("dose")) => QueueState::Consented,
            ("in_progress", Some("observation")) => QueueState::InObservation,
            ("done", _) => QueueState::Done,
            ("deferred" | "contraindicated", _) => QueueState::Deferred,
            ("refused", _) => QueueState::Refused,
            ("no_show", _) => QueueState::NoShow,
            _ => QueueState::Arrived,
        }
    }

    /// From an appointment without a visit today.
    pub fn of_appointment(status: &str) -> QueueState {
        match status {
            "cancelled" => QueueState::Cancelled,
            "no_show" => QueueState::NoShow,
            _ => QueueState::Booked,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            QueueState::Booked => tkey("table-state-booked"),
            QueueState::Arrived => tkey("table-state-arrived"),
            QueueState::CheckedIn => tkey("table-state-checked-in"),
            QueueState::Screened => tkey("table-state-screened"),
            QueueState::Consented => tkey("table-state-consented"),
            QueueState::InObservation => tkey("table-state-in-observation"),
            QueueState::Done => tkey("table-state-done"),
            QueueState::Deferred => tkey("table-state-deferred"),
            QueueState::Refused => tkey("table-state-refused"),
            QueueState::NoShow => tkey("table-state-no-show"),
            QueueState::Cancelled => tkey("table-state-cancelled"),
        }
    }

    /// The CSS class of the state's badge.
    pub fn class(self) -> &'static str {
        match self {
            QueueState::Booked | QueueState::Arrived => "st-wait",
            QueueState::CheckedIn | QueueState::Screened | QueueState::Consented => "st-busy",
            QueueState::InObservation => "st-obs",
            QueueState::Done => "st-done",
            QueueState::Deferred
            | QueueState::Refused
            | QueueState::NoShow
            | QueueState::Cancelled => "st-off",
        }
    }
}

/// One row of the queue.
pub struct QueueRow {
    /// The person's visit today, or the search that opens one.
    pub href: String,
    pub time: String,
    pub name: String,
    pub id_number: String,
    pub birth_date: String,
    pub walk_in: bool,
    pub state: String,
    pub state_class: &'static str,
}

#[derive(Template)]
#[template(path = "table/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    site_code: String,
    site_name: String,
    today_heading: String,
    figures: Vec<(String, String)>,
    rows: Vec<QueueRow>,
    waiting: usize,
    may_register: bool,
}

/// The site's staff only: any other site reads as absent, as in the API.
pub(crate) async fn site_of_caller(
    app: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<vaxgrid_store::model::Site, ApiError> {
    let actor = caller.actor(app, Permission::Visit).await?;
    if !actor.scope.covers_site(code) {
        return Err(ApiError::NotFound {
            what: format!("site '{code}'"),
        });
    }
    app.store.site(code).await.map_err(ApiError::lookup)
}

/// The site's figures for today, as the board and the API show them.
pub(crate) async fn today_figures(
    app: &AppState,
    lang: Lang,
    code: &str,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let today = app.store.today();
    let day = app
        .store
        .site_day(code, today)
        .await
        .map_err(ApiError::lookup)?;
    let figures = [
        (tkey("fig-booked"), day.booked),
        (tkey("fig-checked-in"), day.checked_in),
        (tkey("fig-vaccinated"), day.vaccinated),
        (tkey("fig-in-observation"), day.in_observation),
        (tkey("fig-serious-ae"), day.serious_adverse_events),
        (tkey("fig-deferred-refused"), day.deferred_or_refused),
    ]
    .into_iter()
    .map(|(key, n)| (lang.t(key), lang.int(n)))
    .collect();
    Ok((lang.t1("board-today", "date", lang.date(today)), figures))
}

/// Today's queue: the appointments of the day (each with the state of its
/// visit, if the person came) and the walk-ins, in the order of the day.
pub(crate) async fn queue_rows(
    app: &AppState,
    lang: Lang,
    code: &str,
) -> Result<Vec<QueueRow>, ApiError> {
    let today = app.store.today();
    let appointments = app.store.appointments_on(code, today).await?;
    let visits = app.store.visits_on(code, today).await?;
    let mut rows = Vec::new();
    let row = |href: String,
               time: String,
               p: &vaxgrid_store::visits::QueuePerson,
               walk_in,
               state: QueueState| {
        QueueRow {
            href,
            time,
            name: p.full_name.clone(),
            id_number: p.id_number.clone(),
            birth_date: lang.date_text(&p.birth_date),
            walk_in,
            state: lang.t(state.key()),
            state_class: state.class(),
        }
    };
    for (a, person) in &appointments {
        // The latest visit opened for this appointment, if the person came.
        let visit = visits
            .iter()
            .rev()
            .find(|(v, _)| v.appointment_id.as_deref() == Some(a.id.as_str()));
        let state = match visit {
            Some((v, _)) => QueueState::of_visit(&v.outcome, v.next_step.as_deref()),
            None => QueueState::of_appointment(&a.status),
        };
        let time = a.starts_at.get(11..16).unwrap_or("").to_string();
        let href = match visit {
            Some((v, _)) => format!("/sites/{code}/table/visits/{}", v.id),
            None => {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("id_number", &person.id_number)
                    .append_pair("appointment", &a.id)
                    .finish();
                format!("/sites/{code}/table/find?{q}")
            }
        };
        rows.push(row(href, time, person, false, state));
    }
    for (v, person) in visits.iter().filter(|(v, _)| {
        v.appointment_id
            .as_deref()
            .is_none_or(|id| !appointments.iter().any(|(a, _)| a.id == id))
    }) {
        let state = QueueState::of_visit(&v.outcome, v.next_step.as_deref());
        let href = format!("/sites/{code}/table/visits/{}", v.id);
        rows.push(row(href, String::new(), person, true, state));
    }
    Ok(rows)
}

/// `GET /sites/{code}/table`: the vaccination table of a site today.
#[utoipa::path(
    get,
    path = "/sites/{code}/table",
    summary = "Vaccination table page (HTML): the site's figures for today, the search for a person and the walk-in form's link, and today's queue (appointments and walk-ins, each with where they stand: booked, checked in, screened, consented, in observation, done, deferred, each leading to the visit); 404 for a site the caller does not work at",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such site, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn queue(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Response {
    let page = async {
        let site = site_of_caller(&app, &caller, &code).await?;
        let (today_heading, figures) = today_figures(&app, ctx.lang, &code).await?;
        let rows = queue_rows(&app, ctx.lang, &code).await?;
        Ok::<_, ApiError>((site, today_heading, figures, rows))
    }
    .await;
    match page {
        Ok((site, today_heading, figures, rows)) => {
            let waiting = rows
                .iter()
                .filter(|r| matches!(r.state_class, "st-wait" | "st-busy"))
                .count();
            render(&QueuePage {
                may_register: may(&ctx, Permission::WriteRegistry),
                ctx,
                site_code: site.code,
                site_name: site.name,
                today_heading,
                figures,
                rows,
                waiting,
            })
        }
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_reads_as_where_the_person_stands() {
        use QueueState::*;
        for (outcome, next, state) in [
            ("in_progress", Some("check_in"), Arrived),
            ("in_progress", Some("identity_check"), CheckedIn),
            ("in_progress", Some("screening"), CheckedIn),
            ("in_progress", Some("consent"), Screened),
            ("in_progress", Some("dose"), Consented),
            ("in_progress", Some("observation"), InObservation),
            ("done", None, Done),
            ("deferred", None, Deferred),
            ("contraindicated", None, Deferred),
            ("refused", None, Refused),
            ("no_show", None, NoShow),
        ] {
            assert_eq!(
                QueueState::of_visit(outcome, next),
                state,
                "{outcome} {next:?}"
            );
        }
        assert_eq!(QueueState::of_appointment("booked"), Booked);
        assert_eq!(QueueState::of_appointment("cancelled"), Cancelled);
    }
}
