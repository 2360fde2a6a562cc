//! The commune rapid-response team's daily check list (a tablet at the
//! door): everyone in the caller's areas at home in isolation today, those
//! still to check first, a page of rows at a time (`Store::team_page`, the
//! API's `team-list`: the database sorts and filters, so a province's list
//! of thousands reads one page), each row with its check form (present,
//! temperature, symptoms, SpO2) that works from the keyboard; missed checks
//! and danger signs as alerts on top. The district's alert list is the same
//! list filtered to the alerts (the API's `alerts`). A check goes through
//! `Store::record_check`, the function behind `POST
//! /api/v1/outbreak/checks`: one set of rules.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::isolation::Check;
use vaxgrid_store::outbreak::{NewCheck, TeamEntry};
use vaxgrid_store::outbreak_team::{TeamCounts, TeamView};
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::StoreError;

use super::super::planner::planning::{field_of, form_pairs, one};
use super::super::supply::holds;
use super::super::{error_page, render_status, see_other, PageCtx};
use super::{alert_text, area_of, class_tag_text, seg, ClassTag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Rows on a page of the team's list (a tablet's scroll, not a province).
pub const ROWS_SHOWN: usize = 100;
/// Alerts on top of the team's list; the rest on the alert list's pages.
pub const ALERTS_ON_TEAM: usize = 50;
/// Alerts on a page of the alert list.
pub const ALERTS_SHOWN: usize = 200;

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
    /// The key of "checked today already" (shown at the row, form or not).
    pub again_key: String,
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
    counts: TeamCounts,
    alerts: Vec<AlertLine>,
    /// The link to the whole alert list, when more than shown here.
    alerts_more: bool,
    /// The cursor of this page (carried by its forms), and the next's.
    after: String,
    next: Option<String>,
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
    total: i64,
    first: bool,
    next: Option<String>,
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

/// The `after` query field (a page's cursor), refusing any other field.
fn after_of(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let fields = super::super::admin::query_fields(raw);
    if let Some(k) = fields.keys().find(|k| *k != "after") {
        return Err(ApiError::bad_request(
            k,
            format!("unknown query field '{k}'"),
        ));
    }
    Ok(super::super::admin::given(&fields, "after"))
}

/// A page of the list in the caller's areas, read once with the counts.
async fn read_page(
    app: &AppState,
    caller: &Caller,
    view: TeamView,
    after: Option<String>,
    limit: usize,
) -> Result<(Vec<TeamEntry>, Option<String>, TeamCounts), ApiError> {
    // The alert list says how many alerts there are; the team's page does
    // not (counting them is two more probes a person).
    let today = app.store.today();
    let actor = caller.actor(app, Permission::ReadOutbreak).await?;
    let page = PageRequest { after, limit };
    let list = app
        .store
        .team_page(&actor.scope, today, view, &page)
        .await
        .map_err(crate::api::lists::listing)?;
    let counts = app
        .store
        .team_counts(&actor.scope, today, view == TeamView::Alerts)
        .await?;
    Ok((list.entries, list.next_cursor, counts))
}

/// `/outbreak/team`, or a later page of it.
fn team_href(after: Option<&str>) -> String {
    match after {
        Some(c) => super::super::admin::href("/outbreak/team", &[("after", c)]),
        None => "/outbreak/team".to_string(),
    }
}

/// What the team's page shows, read in the caller's areas.
struct TeamRead {
    /// The first alerts, shown on top.
    alerts: Vec<TeamEntry>,
    /// Whether there are more alerts than those shown.
    alerts_more: bool,
    entries: Vec<TeamEntry>,
    next: Option<String>,
    counts: TeamCounts,
}

/// Reads the first alerts, then the page of the list after `after` with
/// the day's counts.
async fn read_team(
    app: &AppState,
    caller: &Caller,
    today: time::Date,
    after: Option<String>,
) -> Result<TeamRead, ApiError> {
    let actor = caller.actor(app, Permission::ReadOutbreak).await?;
    let first = PageRequest::first(ALERTS_ON_TEAM);
    let alerts = app
        .store
        .team_page(&actor.scope, today, TeamView::Alerts, &first)
        .await?;
    let (entries, next, counts) = read_page(app, caller, TeamView::List, after, ROWS_SHOWN).await?;
    Ok(TeamRead {
        alerts: alerts.entries,
        alerts_more: alerts.next_cursor.is_some(),
        entries,
        next,
        counts,
    })
}

/// A person's row of the list, with the keys of its check form's fields.
fn team_row(lang: Lang, e: &TeamEntry, names: &HashMap<String, String>) -> Row {
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
        again_key: format!("{}-again", e.person_id),
    }
}

/// The symptoms the check form offers, in the reader's language.
fn symptom_choices(lang: Lang) -> Vec<Symptom> {
    SYMPTOMS
        .iter()
        .map(|s| Symptom {
            value: s,
            text: lang.t(&format!("outbreak-symptom-{s}")),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn team_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    after: Option<String>,
    draft: HashMap<String, String>,
    ticked: HashSet<String>,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let today = app.store.today();
    let read = match read_team(app, caller, today, after.clone()).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let mut all: Vec<TeamEntry> = read.alerts.clone();
    all.extend(read.entries.iter().cloned());
    let names = area_names(app, &all).await;
    let page = TeamPage {
        today: lang.date(today),
        rows: read
            .entries
            .iter()
            .map(|e| team_row(lang, e, &names))
            .collect(),
        counts: read.counts,
        alerts: read
            .alerts
            .iter()
            .map(|e| alert_line(lang, e, &names))
            .collect(),
        alerts_more: read.alerts_more,
        after: after.unwrap_or_default(),
        next: read.next.map(|c| team_href(Some(&c))),
        manage: holds(&ctx, Permission::ManageOutbreak),
        symptoms: symptom_choices(lang),
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
    summary = "The rapid-response team's daily check list (HTML; ReadOutbreak): everyone in the caller's areas at home in isolation today, those still to check first, 100 a page (`after`: the next page's cursor, linked from the page), with class, last day, a sample due, past days with no check and alerts; the day's counts; the first 50 alerts (danger signs first, then missed checks) on top, linking the alert list; for ManageOutbreak each row's check form (present, temperature, SpO2, symptoms)",
    params(("after" = Option<String>, Query, description = "the cursor of the page (from the page's next-page link)")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: an unknown query field or a cursor that is not this list's", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let after = match after_of(raw.as_deref()) {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, e),
    };
    team_page(
        &app,
        &caller,
        ctx,
        after,
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
    summary = "The alert list (HTML; ReadOutbreak): the persons in the caller's areas at home in isolation today with an alert — absent, fever, low SpO2, a danger symptom (first), or a missed check — each with their home area, 200 a page (`after`: the next page's cursor, linked from the page); a district's responder sees its communes'",
    params(("after" = Option<String>, Query, description = "the cursor of the page (from the page's next-page link)")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: an unknown query field or a cursor that is not this list's", content_type = "text/html"),
    )
)]
pub async fn alerts(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let today = app.store.today();
    let read = async {
        let after = after_of(raw.as_deref())?;
        let first = after.is_none();
        let (entries, next, counts) =
            read_page(&app, &caller, TeamView::Alerts, after, ALERTS_SHOWN).await?;
        Ok::<_, ApiError>((entries, next, counts, first))
    };
    let (entries, next, counts, first) = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let names = area_names(&app, &entries).await;
    let alerts = entries
        .iter()
        .map(|e| alert_line(lang, e, &names))
        .collect();
    render_status(
        StatusCode::OK,
        &AlertsPage {
            today: lang.date(today),
            total: counts.alerts.unwrap_or_default(),
            first,
            next: next.map(|c| super::super::admin::href("/outbreak/alerts", &[("after", &c)])),
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

/// The person a check is for, from the form: a person's id or a 400.
fn check_person(pairs: &[(String, String)]) -> Result<String, ApiError> {
    let person = one(pairs, "person_id").trim().to_string();
    if uuid::Uuid::parse_str(&person).is_err() {
        return Err(ApiError::bad_request(
            "person_id",
            "person_id is a person's id",
        ));
    }
    Ok(person)
}

/// A check as typed in a row's form; numbers that cannot be read are
/// kept as such, to be refused at their field.
struct CheckForm {
    present: bool,
    symptoms: Vec<String>,
    temperature: Result<Option<f64>, ()>,
    spo2: Result<Option<u8>, ()>,
}

impl CheckForm {
    fn of(pairs: &[(String, String)]) -> CheckForm {
        let spo2 = one(pairs, "spo2");
        CheckForm {
            present: pairs.iter().any(|(k, _)| k == "present"),
            symptoms: pairs
                .iter()
                .filter(|(k, v)| k == "symptoms" && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_string())
                .collect(),
            temperature: decimal(&one(pairs, "temperature_c")),
            spo2: if spo2.trim().is_empty() {
                Ok(None)
            } else {
                spo2.trim().parse::<u8>().map(Some).map_err(|_| ())
            },
        }
    }

    /// The first field that cannot be read: the temperature, SpO2, or a
    /// symptom longer than 64 characters.
    fn unreadable(&self) -> Option<&'static str> {
        match (&self.temperature, &self.spo2) {
            (Err(()), _) => Some("temperature_c"),
            (_, Err(())) => Some("spo2"),
            _ if self.symptoms.iter().any(|s| s.chars().count() > 64) => Some("symptoms"),
            _ => None,
        }
    }

    /// What the row shows again when the check is refused: the numbers as
    /// typed, the boxes ticked, and that the row's form was sent.
    fn typed(
        &self,
        person: &str,
        pairs: &[(String, String)],
    ) -> (HashMap<String, String>, HashSet<String>) {
        let mut draft: HashMap<String, String> = ["temperature_c", "spo2"]
            .iter()
            .map(|f| (format!("{person}-{f}"), one(pairs, f)))
            .collect();
        draft.insert(format!("{person}-sent"), "1".into());
        let mut ticked: HashSet<String> = self
            .symptoms
            .iter()
            .map(|s| format!("{person}-{s}"))
            .collect();
        if self.present {
            ticked.insert(format!("{person}-present"));
        }
        (draft, ticked)
    }

    /// The check to record (once every field could be read).
    fn into_check(self) -> Check {
        Check {
            present: self.present,
            temperature_c: self.temperature.ok().flatten(),
            symptoms: self.symptoms,
            spo2: self.spo2.ok().flatten(),
        }
    }
}

/// Where a refused check is told: at the row (the field and the status),
/// or on the error page (`Err`). Checked today already (the form sent
/// twice, or from a page read before someone else's check): the first
/// check stands, and the team is told so at the row.
fn row_refusal(e: ApiError) -> Result<(String, StatusCode), ApiError> {
    match e {
        ApiError::Store(StoreError::Conflict { field: "day", .. }) => {
            Ok(("again".to_string(), StatusCode::CONFLICT))
        }
        e @ ApiError::Absent { .. } => Err(e),
        e => match field_of(&e) {
            Some(field) => Ok((field, StatusCode::UNPROCESSABLE_ENTITY)),
            None => Err(e),
        },
    }
}

/// Records the check as the API does (ManageOutbreak).
async fn save_check(app: &AppState, caller: &Caller, new: &NewCheck) -> Result<(), ApiError> {
    let actor = caller.actor(app, Permission::ManageOutbreak).await?;
    app.store
        .record_check(new, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(())
}

/// `POST /outbreak/team/checks`
#[utoipa::path(
    post,
    path = "/outbreak/team/checks",
    summary = "Record today's check of a person from the team's list (form: csrf_token, person_id, present, temperature_c (a decimal comma accepted), spo2, symptoms (repeated), after (the list page's cursor)) through the store function behind POST /api/v1/outbreak/checks: 303 back to the list's page at the person's row; a person checked today already: 409, the list again saying at the row that the first check stands and this one was not recorded; refused: the list again with the error next to the field and what was typed",
    responses(
        (status = 303, description = "recorded"),
        (status = 409, description = "checked today already: the list again, the first check kept and said at the row", content_type = "text/html"),
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
    let person = match check_person(&pairs) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let form = CheckForm::of(&pairs);
    let (draft, ticked) = form.typed(&person, &pairs);
    // The page the form was on (its cursor), to come back to.
    let after = Some(one(&pairs, "after").trim().to_string()).filter(|a| !a.is_empty());
    let refused = match form.unreadable() {
        Some(field) => (field.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        None => {
            let new = NewCheck {
                person_id: person.clone(),
                day: app.store.today(),
                check: form.into_check(),
            };
            match save_check(&app, &caller, &new).await {
                Ok(()) => return see_other(format!("{}#p-{person}", team_href(after.as_deref()))),
                Err(e) => match row_refusal(e) {
                    Ok(refused) => refused,
                    Err(e) => return error_page(&ctx, e),
                },
            }
        }
    };
    let (field, status) = refused;
    let errors = HashMap::from([(format!("{person}-{field}"), check_message(ctx.lang, &field))]);
    team_page(&app, &caller, ctx, after, draft, ticked, errors, status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_first_field_that_cannot_be_read_is_the_one_refused() {
        let unreadable = |f: &[(&str, &str)]| CheckForm::of(&pairs(f)).unreadable();
        assert_eq!(
            unreadable(&[("temperature_c", "37,8"), ("spo2", "97")]),
            None
        );
        assert_eq!(
            unreadable(&[("temperature_c", "hot"), ("spo2", "x")]),
            Some("temperature_c")
        );
        assert_eq!(unreadable(&[("spo2", "300")]), Some("spo2"));
        let long = "a".repeat(65);
        assert_eq!(unreadable(&[("symptoms", &long)]), Some("symptoms"));
    }

    #[test]
    fn a_refused_check_shows_what_was_typed_at_its_row() {
        let form = pairs(&[
            ("present", "on"),
            ("temperature_c", "38,5"),
            ("symptoms", " cough "),
            ("symptoms", ""),
        ]);
        let check = CheckForm::of(&form);
        let (draft, ticked) = check.typed("p1", &form);
        assert_eq!(draft["p1-temperature_c"], "38,5");
        assert_eq!(draft["p1-sent"], "1");
        let mut ticked: Vec<_> = ticked.into_iter().collect();
        ticked.sort();
        assert_eq!(ticked, ["p1-cough", "p1-present"]);
        let check = check.into_check();
        assert_eq!(check.temperature_c, Some(38.5));
        assert_eq!(check.symptoms, ["cough"]);
    }

    #[test]
    fn a_second_check_of_the_day_is_told_at_the_row() {
        let again = ApiError::Store(StoreError::Conflict {
            field: "day",
            message: "checked today already".into(),
            existing: None,
        });
        assert_eq!(
            row_refusal(again).unwrap(),
            ("again".to_string(), StatusCode::CONFLICT)
        );
        let absent = ApiError::Absent {
            entity: "person",
            key: "p1".into(),
        };
        assert!(row_refusal(absent).is_err());
    }
}
