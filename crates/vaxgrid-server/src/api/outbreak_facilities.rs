//! /api/v1/outbreak: treatment facilities and their beds (by region and
//! tier, with activation stages), admissions and discharges of cases,
//! occupancy by day, which facility to activate next, and the
//! rapid-response, ambulance and specialist teams with their assignments
//! (issue 19, item 4). Worked by area like the rest of the outbreak: a
//! facility or team outside the caller's areas is absent; bad input is
//! refused naming the field, nothing written.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::beds::BedFigures;
use vaxgrid_store::outbreak_facilities::{
    tier_parse, AssignmentTarget, DischargeReason, NewAdmission, NewAssignment, NewFacility,
    TeamKind,
};

use super::outbreak_types as types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{date_field, id_or_new, ApiJson, ApiQuery};
use crate::AppState;

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// A code: 1 to 32 letters, digits, `-` or `_`.
fn code(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty()
        || v.len() > 32
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::invalid(
            field,
            format!("'{value}' is not a code (1 to 32 letters, digits, - or _)"),
        ));
    }
    Ok(v.to_string())
}

fn person_id(field: &str, value: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(value.trim())
        .map(|u| u.to_string())
        .map_err(|_| ApiError::invalid(field, format!("'{value}' is not a person id (UUID)")))
}

fn tier_field(value: &str) -> Result<vaxgrid_core::outbreak::surge::Tier, ApiError> {
    tier_parse(value.trim()).ok_or_else(|| {
        ApiError::invalid(
            "tier",
            format!("'{value}' is not mild_moderate or severe_critical"),
        )
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FacilitiesQuery {
    /// Only this province's facilities (a province code).
    province: Option<String>,
}

/// Facilities in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/facilities",
    summary = "Treatment facilities in the caller's areas (of one province when given), by region and activation stage: beds per tier (mild_moderate; severe_critical including icu_beds), activate_at_cases, activated_on (null until activated): {facilities[]}",
    params(FacilitiesQuery),
    responses((status = 200, description = "{facilities[]}", body = types::Facilities))
)]
pub async fn list_facilities(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<FacilitiesQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let list = app
        .store
        .facilities(&actor.scope, q.province.as_deref().map(str::trim))
        .await?;
    let facilities = list.into_iter().map(types::Facility::from).collect();
    Ok(Json(types::Facilities { facilities }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityBody {
    code: String,
    name: String,
    /// Where it is (an area in the caller's areas); its province is the area's.
    area_code: String,
    /// The province's region it serves (e.g. east, centre, west).
    region: String,
    mild_moderate_beds: i64,
    /// Severe and critical beds, the intensive-care beds among them.
    severe_critical_beds: i64,
    #[serde(default)]
    icu_beds: i64,
    /// Opens when the province's confirmed cases reach this (0: from the start).
    #[serde(default)]
    activate_at_cases: i64,
    /// Already active from this day (YYYY-MM-DD); absent: activated later.
    activated_on: Option<String>,
}

/// Adds a treatment facility.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/facilities",
    summary = "Add a treatment facility at an area in the caller's areas: region, beds per tier (icu_beds within severe_critical_beds), the stage (cumulative confirmed cases of the province) at which it opens, and activated_on when already open. Refused naming the field: a negative capacity or stage, more ICU than severe-critical beds, no beds at all, an area outside the caller's areas (422); a code taken (409).",
    request_body = FacilityBody,
    responses(
        (status = 201, description = "the facility", body = types::Facility),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_facility(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<FacilityBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let new = NewFacility {
        code: code("code", &b.code)?,
        name: text("name", &b.name, 200)?,
        area_code: text("area_code", &b.area_code, 64)?,
        region: code("region", &b.region)?,
        beds: BedFigures {
            mild_moderate_beds: b.mild_moderate_beds,
            severe_critical_beds: b.severe_critical_beds,
            icu_beds: b.icu_beds,
            activate_at_cases: b.activate_at_cases,
        },
        activated_on: b
            .activated_on
            .as_deref()
            .map(|d| date_field("activated_on", d))
            .transpose()?,
    };
    let f = app.store.create_facility(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::Facility::from(f))).into_response())
}

/// One facility with today's patients.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/facilities/{code}",
    summary = "A facility with its beds and today's occupancy per tier, and the patients in its beds today whom the caller may see: {facility, tiers[], patients[]}. A facility outside the caller's areas answers 404.",
    params(("code" = String, Path, description = "facility code")),
    responses(
        (status = 200, description = "{facility, tiers[], patients[]}", body = types::FacilityView),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_facility(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(fcode): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let f = app
        .store
        .facility(&fcode, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let today = app.store.today();
    let occ = app
        .store
        .occupancy(
            &vaxgrid_store::scope::Scope::All,
            Some(&f.province_code),
            today,
            today,
        )
        .await?;
    let tiers = occ
        .facilities
        .into_iter()
        .filter(|l| l.code == f.code)
        .map(types::FacilityTier::from)
        .collect();
    let patients = app
        .store
        .admissions_at(&f.code, today, &actor.scope)
        .await?;
    Ok(Json(types::FacilityView {
        facility: f.into(),
        tiers,
        patients: patients.into_iter().map(types::Admission::from).collect(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateBody {
    /// The day it opens (today unless said).
    activated_on: Option<String>,
}

/// Activates a facility.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/facilities/{code}/activate",
    summary = "Activate a facility from a day (today unless said): from then on it admits, and its beds count as open. Refused: a day to come (422), already active (409).",
    params(("code" = String, Path, description = "facility code")),
    request_body = ActivateBody,
    responses(
        (status = 200, description = "the facility", body = types::Facility),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn activate_facility(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(fcode): Path<String>,
    ApiJson(b): ApiJson<ActivateBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let on = match b.activated_on.as_deref() {
        Some(d) => date_field("activated_on", d)?,
        None => app.store.today(),
    };
    let f = app
        .store
        .activate_facility(&fcode, on, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Facility::from(f)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionBody {
    /// The admission's id (a UUID; made when absent).
    id: Option<String>,
    facility_code: String,
    /// A confirmed case in the caller's areas.
    person_id: String,
    /// mild_moderate or severe_critical (absent: by the case's severity).
    tier: Option<String>,
    /// Today unless said.
    admitted_on: Option<String>,
}

/// Admits a case to a facility.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/admissions",
    summary = "Admit a confirmed case to a facility's tier (by the case's severity unless given); the case is then treated there. Refused naming the field, nothing written: a facility not activated on the day or outside the caller's areas (facility_code), a person who is not a confirmed case (person_id), a tier the facility has no beds of, or an admission day to come (422); a tier full on any day since the admission (tier), a person already in a bed (person_id) (409).",
    request_body = AdmissionBody,
    responses(
        (status = 201, description = "the admission", body = types::Admission),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn admit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<AdmissionBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let new = NewAdmission {
        id: id_or_new("id", b.id.as_deref())?,
        facility_code: code("facility_code", &b.facility_code)?,
        person_id: person_id("person_id", &b.person_id)?,
        tier: b.tier.as_deref().map(tier_field).transpose()?,
        admitted_on: match b.admitted_on.as_deref() {
            Some(d) => date_field("admitted_on", d)?,
            None => app.store.today(),
        },
    };
    let rec = app.store.admit(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::Admission::from(rec))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DischargeBody {
    /// Today unless said.
    discharged_on: Option<String>,
    /// recovered, transferred or died
    reason: String,
}

/// Discharges an admitted case.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/admissions/{id}/discharge",
    summary = "Discharge an admitted case (recovered, transferred or died); the bed is free from that day. Refused: a discharge before the admission or on a day to come (discharged_on, 422), a discharge given twice (409).",
    params(("id" = String, Path, description = "admission id")),
    request_body = DischargeBody,
    responses(
        (status = 200, description = "the admission", body = types::Admission),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn discharge(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DischargeBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let reason = DischargeReason::parse(b.reason.trim()).ok_or_else(|| {
        ApiError::invalid(
            "reason",
            format!("'{}' is not recovered, transferred or died", b.reason),
        )
    })?;
    let on = match b.discharged_on.as_deref() {
        Some(d) => date_field("discharged_on", d)?,
        None => app.store.today(),
    };
    let rec = app
        .store
        .discharge(&id, on, reason, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::Admission::from(rec)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OccupancyQuery {
    /// First day (default: 13 days before `to`).
    from: Option<String>,
    /// Last day (default today).
    to: Option<String>,
    /// Only this province's facilities.
    province: Option<String>,
}

/// Occupancy by day, region and tier.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/occupancy",
    summary = "Beds and occupancy by day, region and tier over from..to (at most 366 days) for the facilities in the caller's areas: beds of the facilities active that day, beds occupied (admitted that day or before, not yet discharged); and each facility's tiers on the last day: {from, to, days[{day, cells[{region, tier, beds, occupied}]}], facilities[]}. Refused: from after to, or a window too long (422).",
    params(OccupancyQuery),
    responses(
        (status = 200, description = "{from, to, days[], facilities[]}", body = types::Occupancy),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn occupancy(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<OccupancyQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let to = match q.to.as_deref() {
        Some(d) => date_field("to", d)?,
        None => app.store.today(),
    };
    let from = match q.from.as_deref() {
        Some(d) => date_field("from", d)?,
        None => vaxgrid_store::outbreak_facilities::window_ending(to, 14),
    };
    let occ = app
        .store
        .occupancy(&actor.scope, q.province.as_deref().map(str::trim), from, to)
        .await?;
    Ok(Json(types::Occupancy::from(occ)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivationQuery {
    /// The province (a province code in the caller's areas).
    province: String,
}

/// Which facility to activate next.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/activation",
    summary = "Which of a province's facilities to activate today: those whose stage (activate_at_cases) the province's cumulative confirmed cases reached, then for each region and tier occupied at 90 % or more of its active beds, the region's next closed facility with beds of that tier, in stage order: {province_code, day, cumulative_cases, activate_at_pct, recommendations[{facility, region, reason, activate_at_cases}], tiers[{region, tier, open_beds, occupied, all_beds}]}. A province outside the caller's areas answers 404.",
    params(ActivationQuery),
    responses(
        (status = 200, description = "{province_code, day, cumulative_cases, activate_at_pct, recommendations[], tiers[]}", body = types::Activation),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn activation(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ActivationQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let province = province_in(&app, &q.province, &actor.scope).await?;
    let advice = app
        .store
        .activation_advice(&province, app.store.today(), &actor.scope)
        .await?;
    Ok(Json(types::Activation::from(advice)).into_response())
}

/// A province code whose area the caller's scope reaches (the province
/// itself or any area under it); else absent.
pub async fn province_in(
    app: &AppState,
    code: &str,
    scope: &vaxgrid_store::scope::Scope,
) -> Result<String, ApiError> {
    let code = code.trim();
    let absent = || ApiError::Absent {
        entity: "area",
        key: code.to_string(),
    };
    let area = app.store.area(code).await.map_err(|_| absent())?;
    if area.parent_code.is_some() {
        return Err(absent());
    }
    let reaches = match scope {
        vaxgrid_store::scope::Scope::All => true,
        vaxgrid_store::scope::Scope::Limited { paths, .. } => paths
            .iter()
            .any(|p| vaxgrid_core::area::province_of_path(p) == area.code),
    };
    if !reaches {
        return Err(absent());
    }
    Ok(area.code)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    code: String,
    name: String,
    /// rapid_response, ambulance or specialist
    kind: String,
    /// Where the team is based (an area in the caller's areas).
    area_code: String,
    /// People in the team (1–500).
    members: i64,
}

/// Adds a team.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/teams",
    summary = "Add a rapid-response, ambulance or specialist team based at an area in the caller's areas. Refused naming the field: an unknown kind, members outside 1–500, an area outside the caller's areas (422); a code taken (409).",
    request_body = TeamBody,
    responses(
        (status = 201, description = "the team", body = types::Team),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_team(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<TeamBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    let kind = TeamKind::parse(b.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!(
                "'{}' is not rapid_response, ambulance or specialist",
                b.kind
            ),
        )
    })?;
    let t = app
        .store
        .create_team(
            &code("code", &b.code)?,
            &text("name", &b.name, 200)?,
            kind,
            &text("area_code", &b.area_code, 64)?,
            b.members,
            &actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(types::Team::from(t))).into_response())
}

/// Teams in the caller's areas.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/teams",
    summary = "Rapid-response, ambulance and specialist teams in the caller's areas, with the count of each kind: {teams[], counts{rapid_response, ambulance, specialist}}",
    responses((status = 200, description = "{teams[], counts}", body = types::Teams))
)]
pub async fn list_teams(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let teams = app.store.teams(&actor.scope).await?;
    let count = |k: TeamKind| teams.iter().filter(|t| t.kind == k.as_str()).count();
    let counts = types::TeamKinds {
        rapid_response: count(TeamKind::RapidResponse),
        ambulance: count(TeamKind::Ambulance),
        specialist: count(TeamKind::Specialist),
    };
    let teams = teams.into_iter().map(types::Team::from).collect();
    Ok(Json(types::Teams { teams, counts }).into_response())
}

/// One team with its assignments.
#[utoipa::path(
    get,
    path = "/api/v1/outbreak/teams/{code}",
    summary = "A team with its assignments (to a facility, an area or a case), latest first: {team, assignments[]}. A team outside the caller's areas answers 404.",
    params(("code" = String, Path, description = "team code")),
    responses(
        (status = 200, description = "{team, assignments[]}", body = types::TeamWithAssignments),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get_team(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tcode): Path<String>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
    let t = app
        .store
        .team_detail(&tcode, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(types::TeamWithAssignments::from(t)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    id: Option<String>,
    /// Exactly one of facility_code, area_code and case_person_id.
    facility_code: Option<String>,
    area_code: Option<String>,
    case_person_id: Option<String>,
    /// Today unless said.
    from_on: Option<String>,
    to_on: Option<String>,
}

/// Assigns a team.
#[utoipa::path(
    post,
    path = "/api/v1/outbreak/teams/{code}/assignments",
    summary = "Assign a team from a day (to a day, or open) to a facility, an area or a case, each in the caller's areas. Refused naming the field: none or several targets (facility_code), a target absent or outside the caller's areas, a person who is not a confirmed case (case_person_id), an end before the start (to_on) (422); an id taken (409).",
    params(("code" = String, Path, description = "team code")),
    request_body = AssignmentBody,
    responses(
        (status = 201, description = "the assignment", body = types::Assignment),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn assign_team(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tcode): Path<String>,
    ApiJson(b): ApiJson<AssignmentBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
    app.store
        .team(&tcode, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let target = match (&b.facility_code, &b.area_code, &b.case_person_id) {
        (Some(f), None, None) => AssignmentTarget::Facility(code("facility_code", f)?),
        (None, Some(a), None) => AssignmentTarget::Area(text("area_code", a, 64)?),
        (None, None, Some(p)) => AssignmentTarget::Case(person_id("case_person_id", p)?),
        _ => {
            return Err(ApiError::invalid(
                "facility_code",
                "give exactly one of facility_code, area_code and case_person_id",
            ))
        }
    };
    let new = NewAssignment {
        id: id_or_new("id", b.id.as_deref())?,
        team_code: tcode,
        target,
        from_on: match b.from_on.as_deref() {
            Some(d) => date_field("from_on", d)?,
            None => app.store.today(),
        },
        to_on: b
            .to_on
            .as_deref()
            .map(|d| date_field("to_on", d))
            .transpose()?,
    };
    let rec = app.store.assign_team(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::Assignment::from(rec))).into_response())
}

/// A scenario planned over a province's stored facilities instead of its
/// own: an active facility is open from day 0, another opens at its stage
/// (or when its region's need calls for it). Refused naming `province`: no
/// stored facility, or a facility whose region the scenario does not have.
pub async fn with_stored_facilities(
    app: &AppState,
    mut scenario: vaxgrid_core::outbreak::surge::Scenario,
    province: &str,
    scope: &vaxgrid_store::scope::Scope,
) -> Result<vaxgrid_core::outbreak::surge::Scenario, ApiError> {
    let province = province_in(app, province, scope).await?;
    let today = app.store.today();
    let stored = app.store.facilities(scope, Some(&province)).await?;
    if stored.is_empty() {
        return Err(ApiError::invalid(
            "province",
            format!("province {province} has no treatment facility in your areas"),
        ));
    }
    let mut facilities = Vec::with_capacity(stored.len());
    for f in &stored {
        if !scenario.regions.iter().any(|r| r.code == f.region) {
            let known: Vec<&str> = scenario.regions.iter().map(|r| r.code.as_str()).collect();
            return Err(ApiError::invalid(
                "province",
                format!(
                    "facility {} serves region '{}', which the scenario does not have ({})",
                    f.code,
                    f.region,
                    known.join(", ")
                ),
            ));
        }
        facilities.push(vaxgrid_core::outbreak::surge::Facility {
            name: f.name.clone(),
            region: f.region.clone(),
            mild_moderate_beds: f.mild_moderate_beds,
            severe_critical_beds: f.severe_critical_beds,
            activate_at_cases: if f.active_on(today) {
                0
            } else {
                f.activate_at_cases
            },
            source: format!("stored facility {}", f.code),
        });
    }
    scenario.facilities = facilities;
    Ok(scenario)
}
