//! /api/v1/reports/coverage/area-groups: coverage of an area by the region
//! groups of the areas in it (east / centre / west, the border counties)
//! and by bands of distance from the national border, for the planners who
//! weigh their effort by them (allocation weighs by the same attributes).

use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vaxgrid_core::access::Permission;
use vaxgrid_core::area_groups::parse_bounds;
use vaxgrid_store::area_groups::{AreaGroupCoverage, GroupCoverage};

use super::types::CoverageFigures;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaGroupQuery {
    area: String,
    /// Band bounds in km, e.g. `20,50`.
    border_bands: Option<String>,
}

/// A group of areas and their coverage added up.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaGroupFigures {
    /// The region group's name, or the band as `0-20 km` / `50+ km`.
    pub group: String,
    /// The areas that stand for the group (each with its whole subtree; an
    /// area under another of the same group is counted in it).
    pub areas: Vec<String>,
    pub total: CoverageFigures,
}

/// A band of distance from the border.
#[derive(Debug, Serialize, ToSchema)]
pub struct BorderBandFigures {
    pub from_km: u32,
    /// None for the last band.
    pub to_km: Option<u32>,
    #[serde(flatten)]
    pub figures: AreaGroupFigures,
}

/// Coverage of an area by region group and by distance from the border.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaGroupReport {
    pub area_code: String,
    pub name: String,
    /// The whole area.
    pub total: CoverageFigures,
    pub region_groups: Vec<AreaGroupFigures>,
    pub border_bands: Vec<BorderBandFigures>,
    /// The part of the area with no distance from the border given.
    pub without_distance: CoverageFigures,
}

fn figures(group: String, g: GroupCoverage) -> AreaGroupFigures {
    AreaGroupFigures {
        group,
        areas: g.areas,
        total: g.total.into(),
    }
}

impl From<AreaGroupCoverage> for AreaGroupReport {
    fn from(c: AreaGroupCoverage) -> AreaGroupReport {
        AreaGroupReport {
            area_code: c.area.code,
            name: c.area.name,
            total: c.total.into(),
            region_groups: c
                .region_groups
                .into_iter()
                .map(|(g, f)| figures(g, f))
                .collect(),
            border_bands: c
                .border_bands
                .into_iter()
                .map(|b| {
                    let name = match b.to_km {
                        Some(to) => format!("{}-{to} km", b.from_km),
                        None => format!("{}+ km", b.from_km),
                    };
                    BorderBandFigures {
                        from_km: b.from_km,
                        to_km: b.to_km,
                        figures: figures(name, b.coverage),
                    }
                })
                .collect(),
            without_distance: c.without_distance.into(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/coverage/area-groups",
    summary = "Coverage of an area by the region groups of the areas in it and by bands of distance from the border (border_bands=20,50 cuts 0-20, 20-50, 50+ km; none: one band). An area counts with its subtree; one under an area of the same group is counted there.",
    params(
        ("area" = String, Query, description = "area code"),
        ("border_bands" = Option<String>, Query, description = "band bounds in km, increasing, e.g. 20,50"),
    ),
    responses(
        (status = 200, description = "OK", body = AreaGroupReport),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn report(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<AreaGroupQuery>,
) -> Result<Json<AreaGroupReport>, ApiError> {
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let bounds = parse_bounds(q.border_bands.as_deref().unwrap_or(""))
        .map_err(|m| ApiError::invalid("border_bands", m))?;
    Ok(Json(
        app.store
            .coverage_by_area_group(&q.area, &bounds, &actor.scope)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}
