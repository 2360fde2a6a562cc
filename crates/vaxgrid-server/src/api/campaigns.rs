//! /api/v1/campaigns: campaigns and their waves, coverage targets split down
//! the area tree, progress by wave, and target survey lists (JSON pages or
//! CSV). See `vaxgrid_store::campaigns` for how the figures are read.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_store::campaigns::{
    NewCampaign, NewWave, SurveyRow, SurveyStatus, TargetBasis, ADULT_YEARS,
};
use vaxgrid_store::StoreError;

use crate::api::campaign_types as types;
use crate::api::types::Page;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{date_field, id_or_new, page_limit, uuid_field, ApiJson, ApiQuery};
use crate::i18n::{tkey, Lang};
use crate::AppState;

/// A CSV survey list holds at most this many persons: a village's or a
/// commune's roll, not a province's (page through the JSON for that).
pub const SURVEY_CSV_MAX: usize = 100_000;
const CSV_PAGE: usize = 1_000;

pub const SURVEY_HEADER: [&str; 16] = [
    "person_id",
    "full_name",
    "birth_date",
    "sex",
    "id_type",
    "id_number",
    "phone",
    "home_area",
    "priority_groups",
    "status",
    "valid_doses",
    "series_complete",
    "last_dose_on",
    "appointment_at",
    "deferred_until",
    "reason",
];

/// A missing campaign or wave named in the path is a 404; other missing
/// references (an area, a product in the body) stay a 422 naming the field.
pub(crate) fn in_path(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound {
            entity: "campaign" | "wave",
            ..
        } => ApiError::lookup(e),
        other => ApiError::Store(other),
    }
}

/// 80.0 (percent, at most one decimal) as tenths: 800.
fn percent_tenths(p: f64) -> Result<u32, ApiError> {
    if !p.is_finite() || p < 0.0 {
        return Err(ApiError::invalid(
            "target_percent",
            "the coverage target must be a percentage from 0 to 100.0",
        ));
    }
    if p > 100.0 {
        return Err(ApiError::invalid(
            "target_percent",
            format!("a coverage target of {p}% is above 100%"),
        ));
    }
    let tenths = (p * 10.0).round();
    if (p * 10.0 - tenths).abs() > 1e-6 {
        return Err(ApiError::invalid(
            "target_percent",
            format!("give the percentage with at most one decimal, not {p}"),
        ));
    }
    Ok(tenths as u32)
}

/// A wave id from the path: canonical when it is a UUID; anything else
/// matches no wave (404), as an unknown one does.
fn wave_id(raw: String) -> String {
    uuid::Uuid::parse_str(&raw).map_or(raw, |u| u.hyphenated().to_string())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) disease: String,
    pub(crate) area_code: String,
    pub(crate) products: Vec<String>,
    /// In priority order.
    #[serde(default)]
    pub(crate) priority_groups: Vec<String>,
    /// 80.0 = 80% of the eligible population. Give it or target_people.
    pub(crate) target_percent: Option<f64>,
    /// The target as a number of people in the campaign's area (at most
    /// its eligible population), as plans state it.
    pub(crate) target_people: Option<u64>,
    /// What the target applies to: priority_groups (the population of the
    /// campaign's priority groups; the default when it lists some) or
    /// population (everyone registered; the default when it lists none).
    pub(crate) target_basis: Option<String>,
    pub(crate) target_date: String,
    pub(crate) min_age_years: Option<u32>,
    /// An administrator entering a campaign already run says why.
    pub(crate) history_reason: Option<String>,
}

/// Only an administrator enters history (a past target date, waves long
/// before the campaign was entered).
pub(crate) fn history_allowed(caller: &Caller, reason: &Option<String>) -> Result<(), ApiError> {
    let admin = caller.principal.as_ref().is_some_and(|p| {
        p.grants
            .iter()
            .any(|g| g.role == vaxgrid_core::access::Role::Admin)
    });
    if reason.is_some() && !admin {
        return Err(ApiError::Store(StoreError::Forbidden {
            field: "history_reason",
            message: "only an administrator enters a campaign already run".into(),
        }));
    }
    Ok(())
}

/// A campaign to create from a body: the checks of shape (the API's and
/// the planning page's form alike); the store checks the rest.
pub(crate) fn new_campaign(b: CampaignBody) -> Result<NewCampaign, ApiError> {
    let target_percent_tenths = match (b.target_percent, b.target_people) {
        (Some(p), None) => percent_tenths(p)?,
        (None, Some(_)) => 0,
        (None, None) => {
            return Err(ApiError::invalid(
                "target_percent",
                "give the target as target_percent or as target_people",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "target_people",
                "give the target as target_percent or as target_people, not both",
            ))
        }
    };
    let target_basis = TargetBasis::choose(b.target_basis.as_deref(), &b.priority_groups)
        .map_err(|r| ApiError::invalid(r.field, r.message))?;
    Ok(NewCampaign {
        id: id_or_new("id", b.id.as_deref())?,
        name: b.name,
        disease: b.disease,
        area_code: b.area_code,
        products: b.products,
        priority_groups: b.priority_groups,
        target_percent_tenths,
        target_people: b.target_people,
        target_basis,
        target_date: date_field("target_date", &b.target_date)?,
        min_age_years: b.min_age_years.unwrap_or(ADULT_YEARS),
        history_reason: b.history_reason,
    })
}

/// A wave to add from a body (the API's and the planning page's).
pub(crate) fn new_wave(b: WaveBody) -> Result<NewWave, ApiError> {
    Ok(NewWave {
        id: id_or_new("id", b.id.as_deref())?,
        name: b.name,
        starts_on: date_field("starts_on", &b.starts_on)?,
        ends_on: date_field("ends_on", &b.ends_on)?,
        eligible_groups: b.eligible_groups,
        history_reason: b.history_reason,
    })
}

/// Creates a campaign: 201.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns",
    summary = "Create a campaign over an area in the caller's areas: disease, products, priority groups in order, a target by target_date: target_percent of the eligible population (at most 100.0) or target_people (a number of people, at most the eligible population), the eligible population being that of the priority groups or of everyone as target_basis says, (today to 5 years ahead), min_age_years (default 18).",
    request_body = CampaignBody,
    responses(
        (status = 201, description = "the campaign, with its waves", body = types::Campaign),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<CampaignBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    history_allowed(&caller, &b.history_reason)?;
    let new = new_campaign(b)?;
    let campaign = app.store.create_campaign(&new, &actor).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/campaigns/{}", campaign.id),
        )],
        Json(types::Campaign::from(campaign)),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}",
    summary = "A campaign and its waves (visible when its area and the caller's areas overlap)",
    params(("id" = String, Path, description = "campaign id")),
    responses(
        (status = 200, description = "OK", body = types::Campaign),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadReference).await?;
    let campaign = app
        .store
        .campaign(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Campaign::from(campaign)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveBody {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) starts_on: String,
    pub(crate) ends_on: String,
    /// Empty: everyone of age.
    #[serde(default)]
    pub(crate) eligible_groups: Vec<String>,
    /// An administrator entering a wave already run says why.
    pub(crate) history_reason: Option<String>,
}

/// Adds a wave: 201.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{id}/waves",
    summary = "Add a wave: dates (ends_on not before starts_on nor after the target date) and eligible groups (among the campaign's priority groups; none: everyone of age)",
    params(("id" = String, Path, description = "campaign id")),
    request_body = WaveBody,
    responses(
        (status = 201, description = "the wave", body = types::Wave),
        (status = 400, response = crate::error::Problem),
        (status = 403, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn add_wave(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WaveBody>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    history_allowed(&caller, &b.history_reason)?;
    let new = new_wave(b)?;
    let wave = app
        .store
        .add_wave(&id, &new, &actor)
        .await
        .map_err(in_path)?;
    Ok((StatusCode::CREATED, Json(types::Wave::from(wave))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedPart {
    area: String,
    people: u64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// The area whose target is split among the areas directly under it.
    area: String,
    /// Parts entered by hand; the rest is split by eligible population.
    #[serde(default)]
    fixed: Vec<FixedPart>,
}

/// Splits an area's target among its children: 200 with the parts.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{id}/targets",
    summary = "Split an area's target among the areas directly under it in proportion to their eligible population (largest remainder: the parts sum to the whole exactly), keeping parts entered by hand. The campaign's area gets target_percent of its eligible population; a lower area the part its parent's split gave it. Targets below a child whose part changed are cleared.",
    params(("id" = String, Path, description = "campaign id")),
    request_body = SplitBody,
    responses(
        (status = 200, description = "{campaign_id, area_code, eligible, total, parts[{area_code, name, eligible, people, fixed}], cleared_below}", body = types::TargetSplit),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn split(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SplitBody>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    let fixed = b.fixed.into_iter().map(|f| (f.area, f.people)).collect();
    let split = app
        .store
        .decompose_targets(&id, &b.area, fixed, &actor)
        .await
        .map_err(in_path)?;
    Ok(Json(types::TargetSplit::from(split)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyTargetBody {
    /// An area in the campaign's area and in the caller's areas.
    area: String,
    /// Doses a day the area is to give: at least 1, at most its eligible
    /// population.
    doses_per_day: u64,
}

/// Sets an area's daily dose target: 200 with it.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{id}/daily-targets",
    summary = "Set the doses a day an area is to give in the campaign (at least 1, at most the area's eligible population); wave progress shows it beside the doses given each day",
    params(("id" = String, Path, description = "campaign id")),
    request_body = DailyTargetBody,
    responses(
        (status = 200, description = "{campaign_id, area_code, doses_per_day, eligible}", body = types::DailyTarget),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn daily_target(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DailyTargetBody>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ManageSessions).await?;
    let target = app
        .store
        .set_daily_target(&id, &b.area, b.doses_per_day, &actor)
        .await
        .map_err(in_path)?;
    Ok(Json(types::DailyTarget::from(target)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaQuery {
    /// The campaign's own area when absent.
    area: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/targets",
    summary = "Target vs actual vs capacity: the area's and its children's targets, eligible population, people reached and completed (cumulative), site_capacity (the daily capacity of the sites serving each: those whose catchment includes it, or without a catchment those in it), and per day from the first wave's start to the target date: daily target, first doses given, session capacity, site capacity",
    params(("id" = String, Path, description = "campaign id"), ("area" = Option<String>, Query, description = "area code (default: the campaign's area); must lie in the campaign's area and in the caller's areas")),
    responses(
        (status = 200, description = "{campaign_id, area, children[], children_target, period_start, period_end, days[{day, target, actual, capacity, site_capacity}]}", body = types::TargetReport),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn targets(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AreaQuery>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let report = app
        .store
        .targets(&id, q.area.as_deref(), &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::TargetReport::from(report)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/waves/{wave}/progress",
    summary = "Progress of a wave in an area and its children: eligible population of the wave's groups, targets, people with at least one dose and with a completed series (cumulative, from the coverage counters), and doses 1, 2 and later given between the wave's dates",
    params(("id" = String, Path, description = "campaign id"), ("wave" = String, Path, description = "wave id"), ("area" = Option<String>, Query, description = "area code (default: the campaign's area); must lie in the campaign's area and in the caller's areas")),
    responses(
        (status = 200, description = "{campaign_id, wave_id, starts_on, ends_on, eligible_groups, area, children[], in_wave{dose_1, dose_2, later_doses, total}, safety{serious_events, deaths}, days[{day, target, done}]}", body = types::WaveProgress),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn progress(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, wave)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<AreaQuery>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let progress = app
        .store
        .wave_progress(&id, &wave_id(wave), q.area.as_deref(), &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::WaveProgress::from(progress)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuery {
    area: Option<String>,
    /// json (default), csv, or html (a page to print for the village team).
    format: Option<String>,
    after: Option<String>,
    /// JSON page size; a CSV holds the whole list from `after` on.
    limit: Option<u32>,
    /// csv and html only: keep the persons of one status (not_yet,
    /// booked, vaccinated, deferred, refused, contraindicated; all: everyone).
    status: Option<String>,
    /// html only: the number printed beside the part's first person (the
    /// link to the next part carries it, so numbering runs on).
    first: Option<u32>,
}

/// The status a whole list keeps (`None`: everyone).
fn status_filter(raw: Option<&str>) -> Result<Option<SurveyStatus>, ApiError> {
    const ALL: [SurveyStatus; 6] = [
        SurveyStatus::NotYet,
        SurveyStatus::Booked,
        SurveyStatus::Vaccinated,
        SurveyStatus::Deferred,
        SurveyStatus::Refused,
        SurveyStatus::Contraindicated,
    ];
    match raw {
        None | Some("all") => Ok(None),
        Some(s) => ALL.into_iter().find(|x| x.as_str() == s).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "status",
                format!("status is one of all, not_yet, booked, vaccinated, deferred, refused, contraindicated, not '{s}'"),
            )
        }),
    }
}

/// How a survey list is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SurveyFormat {
    /// A page of the list.
    Json,
    /// The whole list as one file.
    Csv,
    /// A part of the list to print.
    Html,
}

fn survey_format(raw: Option<&str>) -> Result<SurveyFormat, ApiError> {
    match raw {
        None | Some("json") => Ok(SurveyFormat::Json),
        Some("csv") => Ok(SurveyFormat::Csv),
        Some("html") => Ok(SurveyFormat::Html),
        Some(other) => Err(ApiError::bad_request(
            "format",
            format!("format must be json, csv or html, not '{other}'"),
        )),
    }
}

/// The status a list keeps: only a whole list (CSV, print) is filtered; a
/// JSON page has every status.
fn kept_status(raw: Option<&str>, format: SurveyFormat) -> Result<Option<SurveyStatus>, ApiError> {
    let keep = status_filter(raw)?;
    if keep.is_some() && format == SurveyFormat::Json {
        return Err(ApiError::bad_request(
            "status",
            "status filters the whole list (format=csv or html); a JSON page has every status",
        ));
    }
    Ok(keep)
}

/// The target survey list: a JSON page, or the whole list as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/waves/{wave}/survey",
    summary = "Target survey list: every person living in the area, in the wave's eligible groups (any when it lists none) and of the campaign's minimum age on the wave's first day, with status not_yet, booked or vaccinated (deferred, refused, contraindicated: from the visit workflow). JSON pages village by village (by area path, then person id), or the whole list as CSV (at most 100,000 persons); statuses: not_yet, booked, vaccinated, deferred (until a date), refused, contraindicated (from the vaccination table)",
    params(("id" = String, Path, description = "campaign id"), ("wave" = String, Path, description = "wave id"), ("area" = Option<String>, Query, description = "area code (default: the campaign's area); must lie in the campaign's area and in the caller's areas"), ("format" = Option<String>, Query, description = "json (paginated), csv (the whole list) or html (a page to print, 500 persons a part with a link to the next; for a district or province, its communes each linking its own list)"), ("after" = Option<String>, Query, description = "cursor: next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "page size 1..500 (default 50); JSON only"), ("status" = Option<String>, Query, description = "csv and html only: the persons of one status (not_yet, booked, vaccinated, deferred, refused, contraindicated), or all (default)"), ("first" = Option<i64>, Query, description = "html only: the number of the part's first person, 1..=100000 (default 1); the link to the next part carries it")),
    responses(
        (status = 200, description = "{items[{person_id, full_name, birth_date, sex, id_type, id_number, phone, home_area, priority_groups, status, valid_doses, series_complete, last_dose_on, appointment_at}], next_cursor}, or text/csv with those columns", content((Page<types::SurveyRow> = "application/json"), (String = "text/csv"), (String = "text/html"))),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn survey(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
    Path((id, wave)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<SurveyQuery>,
) -> Result<Response, ApiError> {
    let id = uuid_field("id", &id)?;
    let wave = wave_id(wave);
    let actor = caller.actor(&app, Permission::ReadRegistry).await?;
    let limit = page_limit(q.limit)?;
    let format = survey_format(q.format.as_deref())?;
    let keep = kept_status(q.status.as_deref(), format)?;
    let area = q.area.as_deref();
    match format {
        SurveyFormat::Html => {
            let lang = Lang::of_request(&headers);
            printable_part(&app, &actor, &id, &wave, area, &q, keep, lang).await
        }
        SurveyFormat::Json => {
            let page = app
                .store
                .survey_list(&id, &wave, area, q.after.as_deref(), limit, &actor)
                .await
                .map_err(survey_error)?;
            Ok(Json(Page::<types::SurveyRow>::from(page)).into_response())
        }
        SurveyFormat::Csv => {
            let body = survey_csv(&app, &actor, &id, &wave, &q, keep).await?;
            Ok(csv_attachment(area, body))
        }
    }
}

/// The whole list from `after` on as CSV, the persons of one status or
/// everyone; longer than [`SURVEY_CSV_MAX`] is refused.
async fn survey_csv(
    app: &AppState,
    actor: &vaxgrid_store::model::Actor,
    id: &str,
    wave: &str,
    q: &SurveyQuery,
    keep: Option<SurveyStatus>,
) -> Result<Vec<u8>, ApiError> {
    let kept = |row: &SurveyRow| keep.is_none_or(|k| row.status == k);
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = |e: csv::Error| ApiError::Store(StoreError::Unavailable(e.to_string()));
    out.write_record(SURVEY_HEADER).map_err(written)?;
    let mut after = q.after.clone();
    let mut count = 0;
    loop {
        let page = app
            .store
            .survey_list(
                id,
                wave,
                q.area.as_deref(),
                after.as_deref(),
                CSV_PAGE,
                actor,
            )
            .await
            .map_err(survey_error)?;
        count += page.items.len();
        if count > SURVEY_CSV_MAX {
            return Err(too_long());
        }
        for row in page.items.iter().filter(|r| kept(r)) {
            out.write_record(csv_row(row)).map_err(written)?;
        }
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.into_inner()
        .map_err(|e| ApiError::Store(StoreError::Unavailable(e.to_string())))
}

/// The file's name: the area's code (letters and digits only), or
/// `campaign` for the campaign's whole area.
fn csv_file_name(area: Option<&str>) -> String {
    format!(
        "survey-{}.csv",
        area.unwrap_or("campaign")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    )
}

/// The list as a CSV file to save.
fn csv_attachment(area: Option<&str>, body: Vec<u8>) -> Response {
    let file = format!("attachment; filename=\"{}\"", csv_file_name(area));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response()
}

/// A cursor that does not read is a malformed request (400 naming
/// `after`), as in every list; the rest as any lookup.
fn survey_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid { field, message } if field == "after" => {
            ApiError::bad_request(field, message)
        }
        other => ApiError::lookup(other),
    }
}

/// A list too long for one file or printed page.
fn too_long() -> ApiError {
    ApiError::invalid(
        "area",
        format!(
            "the list has more than {SURVEY_CSV_MAX} persons: ask for a smaller area (a commune or village), or page through format=json"
        ),
    )
}

/// Text a spreadsheet would run as a formula gets a leading apostrophe.
fn spreadsheet_safe(text: &str) -> String {
    vaxgrid_core::spreadsheet::safe_cell(text).into_owned()
}

fn csv_row(r: &SurveyRow) -> [String; 16] {
    [
        r.person_id.clone(),
        spreadsheet_safe(&r.full_name),
        r.birth_date.clone(),
        r.sex.clone(),
        r.id_type.clone(),
        r.id_number.clone(),
        r.phone.clone().unwrap_or_default(),
        r.home_area.clone(),
        r.priority_groups.join(","),
        r.status.as_str().to_string(),
        r.valid_doses.to_string(),
        r.series_complete.to_string(),
        r.last_dose_on.clone().unwrap_or_default(),
        r.appointment_at.clone().unwrap_or_default(),
        r.deferred_until.clone().unwrap_or_default(),
        spreadsheet_safe(r.reason.as_deref().unwrap_or("")),
    ]
}

struct PrintRow {
    name: String,
    born: String,
    id: String,
    phone: String,
    status: String,
    detail: String,
}

#[derive(askama::Template)]
#[template(path = "survey_print.html")]
struct SurveyPrint {
    lang: Lang,
    heading: String,
    /// Which persons of the list this part holds.
    range: String,
    /// The number of the part's first person.
    first: usize,
    rows: Vec<PrintRow>,
    /// The next part, when the list goes on; else the list ends here.
    next_href: Option<String>,
}

/// Persons printed on one part of a printable list: a few sheets, quick
/// to serve whatever the area (a district's list runs to tens of thousands).
const PRINT_PART: usize = 500;

/// One part of the survey list as a page to print. Never a silent first
/// page: the part says which persons it holds and either links the next
/// part or says the list ends here.
#[allow(clippy::too_many_arguments)]
async fn printable_part(
    app: &AppState,
    actor: &vaxgrid_store::model::Actor,
    id: &str,
    wave: &str,
    area: Option<&str>,
    q: &SurveyQuery,
    keep: Option<SurveyStatus>,
    lang: Lang,
) -> Result<Response, ApiError> {
    let first = match q.first {
        None => 1,
        Some(n @ 1..=100_000) => n as usize,
        Some(n) => {
            return Err(ApiError::bad_request(
                "first",
                format!("first is the number of the part's first person, 1 to 100000, not {n}"),
            ))
        }
    };
    // The caller may read the list (campaign, wave, area and scope checked
    // as for every part); an area above the commune prints commune by
    // commune, as the teams who carry the sheets work.
    app.store
        .survey_list(id, wave, area, None, 1, actor)
        .await
        .map_err(ApiError::lookup)?;
    let code = match area {
        Some(code) => code.to_string(),
        None => {
            app.store
                .campaign(id, &actor.scope)
                .await
                .map_err(ApiError::lookup)?
                .area_code
        }
    };
    let place = app.store.area(&code).await.map_err(ApiError::lookup)?;
    let local = app.store.area_levels().await?.local_depth();
    if place.depth() < local {
        return communes_to_print(app, id, wave, place, local, q, lang).await;
    }
    // The store keeps the status in its statement and reads on until the
    // part is full, village by village.
    let page = app
        .store
        .survey_list_of(id, wave, area, keep, q.after.as_deref(), PRINT_PART, actor)
        .await
        .map_err(survey_error)?;
    let (rows, next) = (page.items, page.next_cursor);
    let next_href = next.map(|cursor| {
        let mut href = format!(
            "/api/v1/campaigns/{id}/waves/{wave}/survey?format=html&after={cursor}&first={}",
            first + rows.len()
        );
        if let Some(area) = area {
            href.push_str(&format!("&area={}", crate::web::urlencode(area)));
        }
        if let Some(status) = &q.status {
            href.push_str(&format!("&status={}", crate::web::urlencode(status)));
        }
        href
    });
    Ok(printable(lang, &place.name, first, &rows, next_href))
}

#[derive(askama::Template)]
#[template(path = "survey_communes.html")]
struct SurveyCommunes {
    lang: Lang,
    heading: String,
    groups: Vec<CommuneGroup>,
}

/// The communes of one district, each linking its printable list.
struct CommuneGroup {
    name: String,
    communes: Vec<(String, String)>,
}

/// The printable list of a district or a province: the communes under it,
/// each linking its own list (a province's 100,000 names are no sheet to
/// print at once, and a team works one commune).
async fn communes_to_print(
    app: &AppState,
    id: &str,
    wave: &str,
    place: vaxgrid_store::model::Area,
    local: usize,
    q: &SurveyQuery,
    lang: Lang,
) -> Result<Response, ApiError> {
    // The areas just above the communes (districts; the province itself
    // in a tree without districts), each a group of communes.
    let mut districts = vec![place.clone()];
    while districts.first().is_some_and(|d| d.depth() + 1 < local) {
        let mut below = Vec::new();
        for d in &districts {
            below.extend(all_children(app, &d.code).await?);
        }
        districts = below;
    }
    let mut groups = Vec::with_capacity(districts.len());
    for district in districts {
        let communes = all_children(app, &district.code)
            .await?
            .into_iter()
            .map(|c| {
                let mut href = format!(
                    "/api/v1/campaigns/{id}/waves/{wave}/survey?format=html&area={}",
                    crate::web::urlencode(&c.code)
                );
                if let Some(status) = &q.status {
                    href.push_str(&format!("&status={}", crate::web::urlencode(status)));
                }
                (c.name, href)
            })
            .collect();
        groups.push(CommuneGroup {
            name: district.name,
            communes,
        });
    }
    Ok(crate::web::render(&SurveyCommunes {
        lang,
        heading: lang.t1("survey-title", "area", place.name.as_str()),
        groups,
    }))
}

/// Every child of an area, in code order.
async fn all_children(
    app: &AppState,
    code: &str,
) -> Result<Vec<vaxgrid_store::model::Area>, ApiError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .store
            .area_children(Some(code), after.as_deref(), 500)
            .await
            .map_err(ApiError::lookup)?;
        out.extend(page.items);
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The survey list as a page to print: one line a person, a box to tick,
/// in the reader's language.
fn printable(
    lang: Lang,
    area: &str,
    first: usize,
    rows: &[SurveyRow],
    next_href: Option<String>,
) -> Response {
    let status_key = |s: SurveyStatus| match s {
        SurveyStatus::NotYet => tkey("survey-status-not_yet"),
        SurveyStatus::Booked => tkey("survey-status-booked"),
        SurveyStatus::Vaccinated => tkey("survey-status-vaccinated"),
        SurveyStatus::Deferred => tkey("survey-status-deferred"),
        SurveyStatus::Refused => tkey("survey-status-refused"),
        SurveyStatus::Contraindicated => tkey("survey-status-contraindicated"),
    };
    let rows = rows
        .iter()
        .map(|r| PrintRow {
            name: r.full_name.clone(),
            born: lang.date_text(&r.birth_date),
            id: r.id_number.clone(),
            phone: r.phone.clone().unwrap_or_default(),
            status: lang.t(status_key(r.status)),
            detail: match (&r.deferred_until, &r.appointment_at, &r.reason) {
                (Some(d), _, _) | (None, Some(d), _) => lang.date_text(d),
                (None, None, Some(reason)) => reason.clone(),
                _ => String::new(),
            },
        })
        .collect::<Vec<_>>();
    crate::web::render(&SurveyPrint {
        lang,
        heading: lang.t1("survey-title", "area", area),
        range: match (rows.len(), first) {
            (0, 1) => lang.t("survey-none"),
            (0, _) => lang.t1("survey-none-after", "count", first - 1),
            (n, _) => lang.t2("survey-range", "first", first, "last", first + n - 1),
        },
        first,
        rows,
        next_href,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_survey_is_a_json_page_unless_asked_otherwise() {
        assert_eq!(survey_format(None).unwrap(), SurveyFormat::Json);
        assert_eq!(survey_format(Some("csv")).unwrap(), SurveyFormat::Csv);
        assert_eq!(survey_format(Some("html")).unwrap(), SurveyFormat::Html);
        let (field, message) = survey_format(Some("pdf")).unwrap_err().field_and_message();
        assert_eq!(field, "format");
        assert_eq!(message, "format must be json, csv or html, not 'pdf'");
    }

    #[test]
    fn only_a_whole_list_keeps_one_status() {
        assert_eq!(
            kept_status(Some("booked"), SurveyFormat::Csv).unwrap(),
            Some(SurveyStatus::Booked)
        );
        assert_eq!(kept_status(Some("all"), SurveyFormat::Json).unwrap(), None);
        let refused = kept_status(Some("refused"), SurveyFormat::Json).unwrap_err();
        assert_eq!(refused.field_and_message().0, "status");
        let unknown = kept_status(Some("gone"), SurveyFormat::Html).unwrap_err();
        assert_eq!(unknown.field_and_message().0, "status");
    }

    #[test]
    fn the_file_is_named_after_the_area() {
        assert_eq!(csv_file_name(Some("22.01/x")), "survey-2201x.csv");
        assert_eq!(csv_file_name(None), "survey-campaign.csv");
    }
}
