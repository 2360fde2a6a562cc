//! The outbreak pages (`/outbreak…`, texts in `locales/*/outbreak.ftl`):
//! cases and classed persons as the entry page (`list`), the commune
//! team's daily check list and the district's alert list (`team`), a case
//! with its contact graph drawn as SVG (`case`), the laboratories' queues
//! (`lab`), the surge planner (`surge`) and the facilities board
//! (`facilities`).
//!
//! Read by the roles holding `ReadOutbreak` on the area (epidemic
//! responders, administrators); the surge planner by `PlanSurge` (also
//! planners). A case, person or laboratory outside the caller's areas is
//! the 404 page, as in the API. Every change goes through the store
//! function behind the API's route (`record_check`, `record_result`), so
//! the rules are one; reading a case is audited by `read_case`, as the
//! API's read is.

use axum::routing::{get, post};
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::graph::Class;
use vaxgrid_core::outbreak::isolation::Alert;

use super::PageCtx;
use crate::auth::Policy;
use crate::i18n::{tkey, Lang};
use crate::{r, RouteDef};

pub mod case;
pub mod facilities;
pub mod lab;
pub mod list;
pub mod surge;
pub mod team;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    let read = Policy::Needs(Permission::ReadOutbreak);
    let manage = Policy::Needs(Permission::ManageOutbreak);
    let plan = Policy::Needs(Permission::PlanSurge);
    vec![
        r(M::GET, "/outbreak", read, get(list::page)),
        r(M::GET, "/outbreak/team", read, get(team::page)),
        r(M::POST, "/outbreak/team/checks", manage, post(team::record)),
        r(M::GET, "/outbreak/alerts", read, get(team::alerts)),
        r(M::GET, "/outbreak/cases/{id}", read, get(case::page)),
        r(M::GET, "/outbreak/labs", read, get(lab::list)),
        r(M::GET, "/outbreak/labs/{code}", read, get(lab::page)),
        r(
            M::POST,
            "/outbreak/labs/{code}/results",
            manage,
            post(lab::record),
        ),
        r(M::GET, "/outbreak/surge", plan, get(surge::page)),
        r(M::GET, "/outbreak/facilities", read, get(facilities::page)),
    ]
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if super::supply::holds(ctx, Permission::ReadOutbreak) {
        vec![("/outbreak".to_string(), tkey("outbreak-nav"))]
    } else if super::supply::holds(ctx, Permission::PlanSurge) {
        vec![("/outbreak/surge".to_string(), tkey("outbreak-nav-surge"))]
    } else {
        Vec::new()
    }
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list::page,
    team::page,
    team::record,
    team::alerts,
    case::page,
    lab::list,
    lab::page,
    lab::record,
    surge::page,
    facilities::page
))]
pub struct Pages;

// ------------------------------------------------------------ shared

/// A class as the pages show it: its name (F0–F3, the same in every
/// language) and the CSS class that colours it.
pub struct ClassTag {
    pub text: String,
    pub css: &'static str,
}

pub fn class_tag(class: Option<Class>) -> ClassTag {
    match class {
        Some(c) => ClassTag {
            text: c.as_str().to_string(),
            css: match c {
                Class::F0 => "f0",
                Class::F1 => "f1",
                Class::F2 => "f2",
                Class::F3 => "f3",
            },
        },
        None => ClassTag {
            text: "—".into(),
            css: "none",
        },
    }
}

/// A stored class text ("F1") as its tag.
pub fn class_tag_text(class: &str) -> ClassTag {
    class_tag(Class::ALL.into_iter().find(|c| c.as_str() == class))
}

/// A person's vaccination status from their valid doses.
pub fn vaccination_text(lang: Lang, valid_doses: i64) -> String {
    match valid_doses {
        0 => lang.t("outbreak-vax-none"),
        1 => lang.t("outbreak-vax-one"),
        n => lang.t1("outbreak-vax-full", "doses", n),
    }
}

/// An alert in the reader's language.
pub fn alert_text(lang: Lang, alert: Alert) -> String {
    lang.t(match alert {
        Alert::MissedCheck => "outbreak-alert-missed_check",
        Alert::Absent => "outbreak-alert-absent",
        Alert::Fever => "outbreak-alert-fever",
        Alert::LowSpo2 => "outbreak-alert-low_spo2",
        Alert::DangerSymptom => "outbreak-alert-danger_symptom",
    })
}

/// A stored word (severity, setting, outcome, status) in the reader's
/// language: `outbreak-<kind>-<word>`, or the word itself.
pub fn word(lang: Lang, kind: &str, value: &str) -> String {
    let key = format!("outbreak-{kind}-{value}");
    let text = lang.t(&key);
    if text == key {
        value.to_string()
    } else {
        text
    }
}

/// The path segment of a code or id.
pub fn seg(s: &str) -> String {
    super::urlencode(s)
}

/// The last part of an area path (its own code).
pub fn area_of(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}
