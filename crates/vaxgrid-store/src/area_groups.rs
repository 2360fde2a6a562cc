//! Coverage by area group: the region groups areas carry and bands of
//! distance from the border (issue 16), read from the same counters as the
//! coverage report. Which areas stand for a group is core's rule
//! (`vaxgrid_core::area_groups`); this reads the tagged areas and the
//! figures of each.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::area_groups::{border_bands, region_groups, TaggedArea};
use vaxgrid_core::coverage::ALL_GROUPS;

use crate::db::in_json;
use crate::error::StoreError;
use crate::model::Area;
use crate::reports::{CoverageFigures, UPPER};
use crate::scope::Scope;
use crate::Store;

/// A group's areas and their figures added up (each person once: the
/// areas do not overlap).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupCoverage {
    pub areas: Vec<String>,
    pub total: CoverageFigures,
}

/// A band of distance from the border with its coverage.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BandCoverage {
    pub from_km: u32,
    pub to_km: Option<u32>,
    #[serde(flatten)]
    pub coverage: GroupCoverage,
}

/// Coverage of an area's subtree by region group and by border band.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AreaGroupCoverage {
    pub area: Area,
    /// The whole area, for the groups' shares.
    pub total: CoverageFigures,
    pub region_groups: Vec<(String, GroupCoverage)>,
    pub border_bands: Vec<BandCoverage>,
    /// Population of the area in no band: areas with no distance given.
    pub without_distance: CoverageFigures,
}

impl Store {
    /// Coverage of `area_code`'s subtree by the region groups of the areas
    /// in it and by bands of distance from the border cut at `bounds` km.
    /// An area outside the caller's is absent, as in the coverage report.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn coverage_by_area_group(
        &self,
        area_code: &str,
        bounds: &[u32],
        scope: &Scope,
    ) -> Result<AreaGroupCoverage, StoreError> {
        let area = self.area(area_code).await?;
        if !scope.covers_path(&area.path) {
            return Err(StoreError::NotFound {
                entity: "area",
                field: "area",
                key: area_code.to_string(),
            });
        }
        let tagged = self.tagged_areas(&area.path).await?;
        let groups = region_groups(&tagged);
        let bands = border_bands(&tagged, bounds);
        let mut codes: Vec<String> = vec![area.code.clone()];
        codes.extend(groups.values().flatten().cloned());
        codes.extend(bands.iter().flat_map(|b| b.areas.iter().cloned()));
        codes.sort();
        codes.dedup();
        let figures = self.subtree_figures(&codes).await?;
        let sum = |members: &[String]| {
            let mut total = CoverageFigures::default();
            for f in members.iter().filter_map(|c| figures.get(c)) {
                total.population += f.population;
                total.at_least_one += f.at_least_one;
                total.completed += f.completed;
            }
            total
        };
        let total = sum(std::slice::from_ref(&area.code));
        let border_bands: Vec<BandCoverage> = bands
            .into_iter()
            .map(|b| BandCoverage {
                from_km: b.from_km,
                to_km: b.to_km,
                coverage: GroupCoverage {
                    total: sum(&b.areas),
                    areas: b.areas,
                },
            })
            .collect();
        let mut without_distance = total.clone();
        for b in &border_bands {
            without_distance.population -= b.coverage.total.population;
            without_distance.at_least_one -= b.coverage.total.at_least_one;
            without_distance.completed -= b.coverage.total.completed;
        }
        Ok(AreaGroupCoverage {
            region_groups: groups
                .into_iter()
                .map(|(g, areas)| {
                    let total = sum(&areas);
                    (g, GroupCoverage { areas, total })
                })
                .collect(),
            border_bands,
            without_distance,
            total,
            area,
        })
    }

    /// The areas at or under `path` that carry a region group or a border
    /// distance.
    async fn tagged_areas(&self, path: &str) -> Result<Vec<TaggedArea>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, path, region_group, border_km FROM areas \
             WHERE path >= $1 AND path < $2 AND (region_group IS NOT NULL OR border_km IS NOT NULL)",
        )
        .bind(path)
        .bind(subtree_upper_bound(path))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TaggedArea {
                    code: r.try_get("code")?,
                    path: r.try_get("path")?,
                    region_group: r.try_get("region_group")?,
                    border_km: r
                        .try_get::<Option<i64>, _>("border_km")?
                        .and_then(|k| u32::try_from(k).ok()),
                })
            })
            .collect()
    }

    /// Population, persons with a first dose and persons with a completed
    /// series in the subtree of each of `codes` (all priority groups).
    async fn subtree_figures(
        &self,
        codes: &[String],
    ) -> Result<HashMap<String, CoverageFigures>, StoreError> {
        let list = serde_json::to_string(codes).expect("strings serialise");
        let mut figures: HashMap<String, CoverageFigures> = HashMap::new();
        let reached = format!(
            "SELECT c.code, CAST(SUM(k.at_least_one) AS BIGINT) AS a, CAST(SUM(k.completed) AS BIGINT) AS b \
             FROM areas c JOIN coverage_counters k ON k.area_path >= c.path AND k.area_path < {UPPER} \
             WHERE {} AND k.priority_group = $2 GROUP BY c.code",
            in_json(self.backend, "c.code", 1)
        );
        for r in sqlx::query(&reached)
            .bind(&list)
            .bind(ALL_GROUPS)
            .fetch_all(&self.pool)
            .await?
        {
            let f = figures.entry(r.try_get("code")?).or_default();
            f.at_least_one = r.try_get::<Option<i64>, _>("a")?.unwrap_or(0);
            f.completed = r.try_get::<Option<i64>, _>("b")?.unwrap_or(0);
        }
        let population = format!(
            "SELECT c.code, CAST(SUM(k.population) AS BIGINT) AS n \
             FROM areas c JOIN population_counters k ON k.area_path >= c.path AND k.area_path < {UPPER} \
             WHERE {} AND k.priority_group = $2 GROUP BY c.code",
            in_json(self.backend, "c.code", 1)
        );
        for r in sqlx::query(&population)
            .bind(&list)
            .bind(ALL_GROUPS)
            .fetch_all(&self.pool)
            .await?
        {
            figures.entry(r.try_get("code")?).or_default().population =
                r.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        }
        Ok(figures)
    }
}
