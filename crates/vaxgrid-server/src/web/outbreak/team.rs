//! The commune rapid-response team's daily check list (a tablet at the
//! door): everyone in the caller's areas at home in isolation today, those
//! still to check first, each row with its check form (present,
//! temperature, symptoms, SpO2) that works from the keyboard; missed
//! checks and danger signs as alerts on top. The district's alert list is
//! the same list filtered to the alerts (`Store::team_list`, the API's
//! `team-list` and `alerts`). A check goes through `Store::record_check`,
//! the function behind `POST /api/v1/outbreak/checks`: one set of rules.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::isolation::Check;
use vaxgrid_store::outbreak::{NewCheck, TeamEntry};
use vaxgrid_store::StoreError;

use super::super::planner::planning::{field_of, form_pairs, one};
use super::super::supply::holds;
use super::super::{error_page, render_status, see_other, PageCtx};
use super::{alert_text, area_of, class_tag_text, seg, ClassTag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Rows shown on the team's page (the alerts are all shown).
pub const ROWS_SHOWN: usize = 300;
/// Alerts shown on a page at most.
pub const ALERTS_SHOWN: usize = 1000;

/// The symptoms offered as check boxes (the danger signs last).
pub const SYMPTOMS: [&str; 7] = [
    "cough",
    "sore_throat",
    "loss_of_smell",
    "diarrhoea",
    "difficulty_breathing",
    "chest_pain",
    "confusion",
];

pub struct Symptom {
    pub value: &'static str,
    pub text: String,
}

pub struct Row {
    pub person_id: String,
    pub name: String,
    pub href: String,
    pub area: String,
    pub class: ClassTag,
    pub until: String,
    pub checked: bool,
    pub sample_due: bool,
    pub alerts: Vec<String>,
    pub missed: String,
    /// The keys of the row's form fields (drafts and errors).
    pub temp_key: String,
    pub spo2_key: String,
    pub symptoms_key: String,
    pub person_key: String,
    pub day_key: String,
}

pub struct AlertLine {
    pub person_id: String,
    pub name: String,
    pub href: String,
    pub area: String,
    pub class: ClassTag,
    pub alerts: Vec<String>,
    pub missed: String,
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "outbreak/team.html")]
struct TeamPage {
    ctx: PageCtx,
    today: String,
    rows: Vec<Row>,
    more: usize,
    checked: usize,
    alerts: Vec<AlertLine>,
    manage: bool,
    symptoms: Vec<Symptom>,
    draft: HashMap<String, String>,
    ticked: HashSet<String>,
    errors: HashMap<String, String>,
}

impl TeamPage {
    fn err(&self, key: &str) -> Option<&String> {
        self.errors.get(key)
    }

    fn draft(&self, key: &str) -> &str {
        self.draft.get(key).map_or("", String::as_str)
    }

    /// Whether a check box is ticked: as sent back after a refusal;
    /// `present` is ticked on a fresh form.
    fn ticked(&self, person: &str, value: &str) -> bool {
        if self.draft.contains_key(&format!("{person}-sent")) {
            self.ticked.contains(&format!("{person}-{value}"))
        } else {
            value == "present"
        }
    }
}

#[derive(Template)]
#[template(path = "outbreak/alerts.html")]
struct AlertsPage {
    ctx: PageCtx,
    today: String,
    alerts: Vec<AlertLine>,
    more: usize,
    total: usize,
}

/// The names of the areas the entries live in (their home area).
async fn area_names(app: &AppState, entries: &[TeamEntry]) -> HashMap<String, String> {
    let mut codes: Vec<String> = entries.iter().map(|e| area_of(&e.area_path)).collect();
    codes.sort();
    codes.dedup();
    app.store
        .area_names_by_code(&codes)
        .await
        .unwrap_or_default()
}

fn missed_text(lang: Lang, e: &TeamEntry) -> String {
    if e.missed.is_empty() {
        return String::new();
    }
    let days: Vec<String> = e.missed.iter().map(|d| lang.date_text(d)).collect();
    lang.ta(
        "outbreak-missed-days",
        vec![
            ("count", e.missed.len().into()),
            ("days", days.join(", ").into()),
        ],
    )
}

fn alert_line(lang: Lang, e: &TeamEntry, names: &HashMap<String, String>) -> AlertLine {
    let code = area_of(&e.area_path);
    AlertLine {
        person_id: e.person_id.clone(),
        name: e.full_name.clone(),
        href: format!("/registry/persons/{}", seg(&e.person_id)),
        area: names.get(&code).cloned().unwrap_or(code),
        class: class_tag_text(&e.class),
        alerts: e.alerts.iter().map(|a| alert_text(lang, *a)).collect(),
        missed: missed_text(lang, e),
        danger: e
            .alerts
            .iter()
            .any(|a| !matches!(a, vaxgrid_core::outbreak::isolation::Alert::MissedCheck)),
    }
}

/// Danger signs first, then missed checks only.
fn sorted_alerts(mut list: Vec<AlertLine>) -> Vec<AlertLine> {
    list.sort_by_key(|a| !a.danger);
    list
}

async fn team_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    draft: HashMap<String, String>,
    ticked: HashSet<String>,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let today = vaxgrid_store::today();
    let read = async {
        let actor = caller.actor(app, Permission::ReadOutbreak).await?;
        Ok::<_, ApiError>(app.store.team_list(&actor.scope, today).await?)
    };
    let entries = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let names = area_names(app, &entries).await;
    let alerts = sorted_alerts(
        entries
            .iter()
            .filter(|e| !e.alerts.is_empty())
            .take(ALERTS_SHOWN)
            .map(|e| alert_line(lang, e, &names))
            .collect(),
    );
    let checked = entries.iter().filter(|e| e.checked_today).count();
    // Those still to check first; a row refused just now stays in view.
    let mut order: Vec<&TeamEntry> = entries.iter().collect();
    order.sort_by_key(|e| e.checked_today);
    let more = order.len().saturating_sub(ROWS_SHOWN);
    let rows = order
        .into_iter()
        .take(ROWS_SHOWN)
        .map(|e| {
            let code = area_of(&e.area_path);
            Row {
                person_id: e.person_id.clone(),
                name: e.full_name.clone(),
                href: format!("/registry/persons/{}", seg(&e.person_id)),
                area: names.get(&code).cloned().unwrap_or(code),
                class: class_tag_text(&e.class),
                until: lang.date_text(&e.last_day),
                checked: e.checked_today,
                sample_due: e.sample_due,
                alerts: e.alerts.iter().map(|a| alert_text(lang, *a)).collect(),
                missed: missed_text(lang, e),
                temp_key: format!("{}-temperature_c", e.person_id),
                spo2_key: format!("{}-spo2", e.person_id),
                symptoms_key: format!("{}-symptoms", e.person_id),
                person_key: format!("{}-person_id", e.person_id),
                day_key: format!("{}-day", e.person_id),
            }
        })
        .collect();
    let manage = holds(&ctx, Permission::ManageOutbreak);
    let page = TeamPage {
        today: lang.date(today),
        rows,
        more,
        checked,
        alerts,
        manage,
        symptoms: SYMPTOMS
            .iter()
            .map(|s| Symptom {
                value: s,
                text: lang.t(&format!("outbreak-symptom-{s}")),
            })
            .collect(),
        draft,
        ticked,
        errors,
        ctx,
    };
    render_status(status, &page)
}

/// `GET /outbreak/team`
#[utoipa::path(
    get,
    path = "/outbreak/team",
    summary = "The rapid-response team's daily check list (HTML; ReadOutbreak): everyone in the caller's areas at home in isolation today (those still to check first, 300 at most), with class, last day, a sample due, past days with no check and alerts; the alerts (danger signs first, then missed checks) on top; for ManageOutbreak each row's check form (present, temperature, SpO2, symptoms)",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    team_page(
        &app,
        &caller,
        ctx,
        HashMap::new(),
        HashSet::new(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /outbreak/alerts`
#[utoipa::path(
    get,
    path = "/outbreak/alerts",
    summary = "The alert list (HTML; ReadOutbreak): the persons in the caller's areas at home in isolation today with an alert — absent, fever, low SpO2, a danger symptom (first), or a missed check — each with their home area; a district's responder sees its communes'",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn alerts(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let today = vaxgrid_store::today();
    let read = async {
        let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
        Ok::<_, ApiError>(app.store.team_list(&actor.scope, today).await?)
    };
    let entries: Vec<TeamEntry> = match read.await {
        Ok(x) => x.into_iter().filter(|e| !e.alerts.is_empty()).collect(),
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let names = area_names(&app, &entries).await;
    let total = entries.len();
    let alerts = sorted_alerts(
        entries
            .iter()
            .take(ALERTS_SHOWN)
            .map(|e| alert_line(lang, e, &names))
            .collect(),
    );
    render_status(
        StatusCode::OK,
        &AlertsPage {
            today: lang.date(today),
            more: total.saturating_sub(ALERTS_SHOWN),
            total,
            alerts,
            ctx,
        },
    )
}

/// A decimal typed in a form (a decimal comma accepted); what is not a
/// number is refused at the field.
fn decimal(text: &str) -> Result<Option<f64>, ()> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>().map(Some).map_err(|_| ())
}

/// The message next to a field of the check form.
fn check_message(lang: Lang, field: &str) -> String {
    let key = format!("outbreak-err-check-{field}");
    let text = lang.t(&key);
    if text == key {
        lang.t("outbreak-err-other")
    } else {
        text
    }
}

/// `POST /outbreak/team/checks`
#[utoipa::path(
    post,
    path = "/outbreak/team/checks",
    summary = "Record today's check of a person from the team's list (form: csrf_token, person_id, present, temperature_c (a decimal comma accepted), spo2, symptoms (repeated)) through the store function behind POST /api/v1/outbreak/checks: 303 back to the list at the person's row; the same check sent again: 303 (recorded once); refused: the list again with the error next to the field and what was typed",
    responses(
        (status = 303, description = "recorded (or already recorded today)"),
        (status = 400, description = "the error page: a form that cannot be read", content_type = "text/html"),
        (status = 404, description = "the error page: no such person in the caller's areas", content_type = "text/html"),
        (status = 422, description = "the list again, with the error next to the field", content_type = "text/html"),
    )
)]
pub async fn record(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let person = one(&pairs, "person_id").trim().to_string();
    if uuid::Uuid::parse_str(&person).is_err() {
        return error_page(
            &ctx,
            ApiError::bad_request("person_id", "person_id is a person's id"),
        );
    }
    let mut draft: HashMap<String, String> = ["temperature_c", "spo2"]
        .iter()
        .map(|f| (format!("{person}-{f}"), one(&pairs, f)))
        .collect();
    draft.insert(format!("{person}-sent"), "1".into());
    let present = pairs.iter().any(|(k, _)| k == "present");
    let symptoms: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "symptoms" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let mut ticked: HashSet<String> = symptoms.iter().map(|s| format!("{person}-{s}")).collect();
    if present {
        ticked.insert(format!("{person}-present"));
    }
    let lang = ctx.lang;
    let refuse =
        |field: &str| HashMap::from([(format!("{person}-{field}"), check_message(lang, field))]);
    let temperature = decimal(&one(&pairs, "temperature_c"));
    let spo2 = one(&pairs, "spo2");
    let spo2 = if spo2.trim().is_empty() {
        Ok(None)
    } else {
        spo2.trim().parse::<u8>().map(Some).map_err(|_| ())
    };
    let (temperature, spo2) = match (temperature, spo2) {
        (Ok(t), Ok(s)) => (t, s),
        (Err(()), _) => {
            let errors = refuse("temperature_c");
            return team_page(
                &app,
                &caller,
                ctx,
                draft,
                ticked,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        (_, Err(())) => {
            let errors = refuse("spo2");
            return team_page(
                &app,
                &caller,
                ctx,
                draft,
                ticked,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if symptoms.iter().any(|s| s.chars().count() > 64) {
        let errors = refuse("symptoms");
        return team_page(
            &app,
            &caller,
            ctx,
            draft,
            ticked,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let new = NewCheck {
        person_id: person.clone(),
        day: vaxgrid_store::today(),
        check: Check {
            present,
            temperature_c: temperature,
            symptoms,
            spo2,
        },
    };
    let recorded = async {
        let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
        app.store
            .record_check(&new, &actor)
            .await
            .map_err(ApiError::lookup)
    };
    let back = format!("/outbreak/team#p-{person}");
    match recorded.await {
        Ok(_) => see_other(back),
        // Checked today already: the form was sent twice.
        Err(ApiError::Store(StoreError::Conflict { field: "day", .. })) => see_other(back),
        Err(e @ ApiError::Absent { .. }) => error_page(&ctx, e),
        Err(e) => match field_of(&e) {
            Some(field) => {
                let errors = refuse(&field);
                team_page(
                    &app,
                    &caller,
                    ctx,
                    draft,
                    ticked,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => error_page(&ctx, e),
        },
    }
}
