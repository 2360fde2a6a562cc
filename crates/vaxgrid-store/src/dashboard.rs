//! The planner's dashboard and the home page, read from the counters with
//! one fixed set of queries per page whatever the number of areas shown:
//! each query groups the counters by *bucket* (an area of the page, matched
//! to the counters by its path range), so a province with 20 districts
//! costs the same statements as one with 2.
//!
//! A bucket whose children are buckets too (the area of a dashboard, a
//! province of the home page) reads only its own rows (persons living in
//! the area itself rather than in a child) and adds its children's figures:
//! each counter row is read once per page, not once per level.
//!
//! Adverse events have no counter: they are counted from the visits of the
//! sites in each bucket (the visits of a site per day are indexed); doses
//! by number, and for the rate per 100,000, come from `dose_counters` (area
//! × product × dose number, all days); doses per day from the daily dose
//! counters, for the chart's days only.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::coverage::ALL_GROUPS;

use crate::error::StoreError;
use crate::model::Area;
use crate::reports::{CoverageFigures, ProductFigures};
use crate::scope::Scope;
use crate::Store;

/// SQL for the exclusive upper bound of the path of `areas c`.
const UPPER: &str = "substr(c.path, 1, length(c.path) - 1) || '0'";

/// One area of a page with its figures.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AreaFigures {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub level: String,
    pub path: String,
    /// All persons, each counted once.
    pub total: CoverageFigures,
    /// Persons by the product of their first dose.
    pub by_product: BTreeMap<String, ProductFigures>,
    /// Persons by priority group (a person in two groups counts in both).
    pub by_group: BTreeMap<String, CoverageFigures>,
    /// Doses given (not entered in error) by dose number, all days.
    pub doses_by_number: BTreeMap<i64, i64>,
    /// Visits at the area's sites with an adverse event reported.
    pub adverse_events: i64,
    /// Of those, the ones with a serious event (an investigation opened).
    pub serious_adverse_events: i64,
}

impl AreaFigures {
    fn of(a: &Area) -> AreaFigures {
        AreaFigures {
            code: a.code.clone(),
            parent_code: a.parent_code.clone(),
            name: a.name.clone(),
            level: a.level.as_str().to_string(),
            path: a.path.clone(),
            total: CoverageFigures::default(),
            by_product: BTreeMap::new(),
            by_group: BTreeMap::new(),
            doses_by_number: BTreeMap::new(),
            adverse_events: 0,
            serious_adverse_events: 0,
        }
    }

    /// Every dose given, whatever its number.
    pub fn doses(&self) -> i64 {
        self.doses_by_number.values().sum()
    }

    /// Adverse events per 100,000 doses (0 without doses).
    pub fn adverse_per_100k(&self) -> f64 {
        let doses = self.doses();
        if doses <= 0 {
            0.0
        } else {
            self.adverse_events as f64 * 100_000.0 / doses as f64
        }
    }

    fn add(&mut self, other: &AreaFigures) {
        self.total.population += other.total.population;
        self.total.at_least_one += other.total.at_least_one;
        self.total.completed += other.total.completed;
        for (k, v) in &other.by_product {
            let p = self.by_product.entry(k.clone()).or_default();
            p.at_least_one += v.at_least_one;
            p.completed += v.completed;
        }
        for (k, v) in &other.by_group {
            let g = self.by_group.entry(k.clone()).or_default();
            g.population += v.population;
            g.at_least_one += v.at_least_one;
            g.completed += v.completed;
        }
        for (k, v) in &other.doses_by_number {
            *self.doses_by_number.entry(*k).or_default() += v;
        }
        self.adverse_events += other.adverse_events;
        self.serious_adverse_events += other.serious_adverse_events;
    }
}

/// A day of the page's area: doses by number and the places opened.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DayFigures {
    pub day: String,
    pub dose_1: i64,
    pub dose_2: i64,
    pub later_doses: i64,
    /// Places in the sessions opened that day at sites in the area.
    pub capacity: i64,
}

impl DayFigures {
    pub fn doses(&self) -> i64 {
        self.dose_1 + self.dose_2 + self.later_doses
    }
}

/// An area and the areas directly under it (the provinces and the whole
/// registry when no area is asked for), with doses and capacity per day.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The area asked for: its figures are its whole subtree's.
    pub area: AreaFigures,
    /// The areas above it, from the province down (links of a drill-down).
    pub ancestors: Vec<(String, String)>,
    pub children: Vec<AreaFigures>,
    /// Days with doses or places, in date order.
    pub days: Vec<DayFigures>,
}

/// A province of the home page: its figures, its districts' and its
/// doses per day.
#[derive(Debug, Clone, Serialize)]
pub struct ProvinceOverview {
    pub province: AreaFigures,
    pub districts: Vec<AreaFigures>,
    pub days: Vec<(String, i64)>,
}

/// Which areas a query groups by, as an SQL condition on `areas c`.
enum Buckets<'a> {
    /// The area and its children.
    AreaAndChildren(&'a str),
    /// These areas (a JSON list of codes).
    Codes(String),
    /// The provinces and their districts.
    ProvincesAndDistricts,
}

/// The SQL conditions of a set of buckets.
struct BucketSql<'a> {
    /// Every bucket (`areas c`).
    all: String,
    /// The buckets whose figures are read over their whole subtree.
    subtree: String,
    /// The buckets that read their own rows only, their children being
    /// buckets of `subtree` whose figures are added to theirs.
    own: Option<String>,
    /// The one text parameter (`$1`) of the conditions, if any.
    param: Option<&'a str>,
}

impl Buckets<'_> {
    fn sql(&self, backend: crate::Backend) -> BucketSql<'_> {
        match self {
            Buckets::AreaAndChildren(code) => BucketSql {
                all: "(c.code = $1 OR c.parent_code = $1)".into(),
                subtree: "c.parent_code = $1".into(),
                own: Some("c.code = $1".into()),
                param: Some(code),
            },
            Buckets::Codes(json) => {
                let cond = crate::db::in_json(backend, "c.code", 1);
                BucketSql {
                    all: cond.clone(),
                    subtree: cond,
                    own: None,
                    param: Some(json),
                }
            }
            Buckets::ProvincesAndDistricts => BucketSql {
                all: "(c.parent_code IS NULL OR c.parent_code IN (SELECT code FROM areas WHERE parent_code IS NULL))".into(),
                subtree: "c.parent_code IN (SELECT code FROM areas WHERE parent_code IS NULL)".into(),
                own: Some("c.parent_code IS NULL".into()),
                param: None,
            },
        }
    }
}

/// A statement over the buckets: `template` with `{join}` (how the rows of
/// table `k` belong to bucket `c`) and `{cond}` (which buckets), for the
/// subtree buckets and, joined by UNION ALL, for the own-rows buckets.
fn bucket_statement(template: &str, b: &BucketSql<'_>, path_col: &str) -> String {
    let subtree = template
        .replace(
            "{join}",
            &format!("{path_col} >= c.path AND {path_col} < {UPPER}"),
        )
        .replace("{cond}", &b.subtree);
    match &b.own {
        Some(own) => format!(
            "{subtree} UNION ALL {}",
            template
                .replace("{join}", &format!("{path_col} = c.path"))
                .replace("{cond}", own)
        ),
        None => subtree,
    }
}

/// Days shown by the doses-per-day charts: this many calendar days ending at
/// the last day with any figure (the pages' `CHART_DAYS`).
pub const CHART_DAYS: i64 = 120;

/// The first day of the chart that ends on `last` (a date `YYYY-MM-DD`).
fn window_start(last: &str) -> String {
    crate::parse_date(last)
        .and_then(|d| d.checked_sub(time::Duration::days(CHART_DAYS - 1)))
        .map(crate::format_date)
        .unwrap_or_default()
}

impl Store {
    /// The dashboard of an area the scope covers whole (else NotFound, as
    /// for the coverage report), or, with no area, of everything (only for
    /// a scope that covers everything: others start at their areas).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dashboard(&self, area_code: &str, scope: &Scope) -> Result<Dashboard, StoreError> {
        let missing = || StoreError::NotFound {
            entity: "area",
            field: "area",
            key: area_code.to_string(),
        };
        let area = self.area(area_code).await.map_err(|_| missing())?;
        if !scope.covers_path(&area.path) {
            return Err(missing());
        }
        let areas = self
            .bucket_areas(&Buckets::AreaAndChildren(area_code))
            .await?;
        let mut figures = self
            .bucket_figures(&Buckets::AreaAndChildren(area_code), &areas)
            .await?;
        let own = figures
            .remove(&area.code)
            .unwrap_or_else(|| AreaFigures::of(&area));
        let children = areas
            .iter()
            .filter(|a| a.code != area.code)
            .map(|a| {
                figures
                    .remove(&a.code)
                    .unwrap_or_else(|| AreaFigures::of(a))
            })
            .collect();
        let ancestor_codes: Vec<String> = area
            .path
            .trim_matches('/')
            .split('/')
            .filter(|c| !c.is_empty() && *c != area.code)
            .map(str::to_string)
            .collect();
        let ancestors = self.area_names(&ancestor_codes).await?;
        let days = self.days_of(Some(&area)).await?;
        Ok(Dashboard {
            area: own,
            ancestors,
            children,
            days,
        })
    }

    /// The dashboard of the areas a scope starts at (see `scope_roots`):
    /// their sum as the area (named `name`), each of them as a child.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dashboard_top(&self, scope: &Scope, name: &str) -> Result<Dashboard, StoreError> {
        let roots = self.scope_roots(scope).await?;
        let codes: Vec<String> = roots.iter().map(|a| a.code.clone()).collect();
        let buckets = Buckets::Codes(serde_json::to_string(&codes).expect("strings serialise"));
        let mut figures = self.bucket_figures(&buckets, &roots).await?;
        let children: Vec<AreaFigures> = roots
            .iter()
            .map(|a| {
                figures
                    .remove(&a.code)
                    .unwrap_or_else(|| AreaFigures::of(a))
            })
            .collect();
        let days = match scope {
            Scope::All => self.days_of(None).await?,
            Scope::Limited { .. } => {
                let mut all: BTreeMap<String, DayFigures> = BTreeMap::new();
                for a in &roots {
                    for d in self.days_of(Some(a)).await? {
                        let e = all.entry(d.day.clone()).or_insert_with(|| DayFigures {
                            day: d.day.clone(),
                            ..DayFigures::default()
                        });
                        e.dose_1 += d.dose_1;
                        e.dose_2 += d.dose_2;
                        e.later_doses += d.later_doses;
                        e.capacity += d.capacity;
                    }
                }
                all.into_values().collect()
            }
        };
        Ok(Dashboard {
            area: sum_of("", name, &children),
            ancestors: Vec::new(),
            children,
            days,
        })
    }

    /// The areas a scope starts at: the provinces for everything, else the
    /// areas of the caller's grants, in path order.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn scope_roots(&self, scope: &Scope) -> Result<Vec<Area>, StoreError> {
        match scope {
            Scope::All => Ok(self.area_children(None, None, 10_000).await?.items),
            Scope::Limited { paths, .. } => {
                let mut paths = paths.clone();
                paths.sort();
                // A grant inside another grant's area adds nothing.
                let mut roots: Vec<String> = Vec::new();
                for p in paths {
                    if !roots.iter().any(|r| p.starts_with(r.as_str())) {
                        roots.push(p);
                    }
                }
                let codes: Vec<String> = roots
                    .iter()
                    .filter_map(|p| p.trim_matches('/').rsplit('/').next())
                    .map(str::to_string)
                    .collect();
                let mut out = Vec::new();
                if codes.is_empty() {
                    return Ok(out);
                }
                let sql = format!(
                    "SELECT {} FROM areas WHERE {} ORDER BY path",
                    crate::areas::COLUMNS,
                    crate::db::in_json(self.backend, "code", 1)
                );
                for r in sqlx::query(&sql)
                    .bind(serde_json::to_string(&codes).expect("strings serialise"))
                    .fetch_all(&self.pool)
                    .await?
                {
                    out.push(crate::areas::area_from_row(&r)?);
                }
                Ok(out)
            }
        }
    }

    /// The home page: every province with its districts and its doses per
    /// day, in one set of queries.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn provinces_overview(&self) -> Result<Vec<ProvinceOverview>, StoreError> {
        let areas = self.bucket_areas(&Buckets::ProvincesAndDistricts).await?;
        let mut figures = self
            .bucket_figures(&Buckets::ProvincesAndDistricts, &areas)
            .await?;
        // Each province's chart: its last day with doses, then the days of
        // its window, both from the (province_code, day, doses) index: a
        // province's subtree is exactly its province_code.
        let last = "SELECT c.code AS bucket, \
             (SELECT MAX(k.day) FROM daily_dose_counters k WHERE k.province_code = c.code) AS day \
             FROM areas c WHERE c.parent_code IS NULL";
        let mut windows: Vec<(String, String)> = Vec::new();
        for r in sqlx::query(last).fetch_all(&self.pool).await? {
            if let Some(day) = r.try_get::<Option<String>, _>("day")? {
                windows.push((r.try_get("bucket")?, window_start(&day)));
            }
        }
        let mut days: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        if !windows.is_empty() {
            use crate::db::Col::Text;
            let sql = format!(
                "WITH w (code, from_day) AS ({}) \
                 SELECT c.code AS bucket, k.day AS day, CAST(SUM(k.doses) AS BIGINT) AS n \
                 FROM w JOIN areas c ON c.code = w.code \
                 JOIN daily_dose_counters k ON k.province_code = c.code \
                 AND k.day >= w.from_day \
                 GROUP BY c.code, k.day ORDER BY c.code, k.day",
                crate::db::json_rows(self.backend, 1, &[Text, Text])
            );
            for r in sqlx::query(&sql)
                .bind(serde_json::to_string(&windows).expect("strings serialise"))
                .fetch_all(&self.pool)
                .await?
            {
                days.entry(r.try_get("bucket")?)
                    .or_default()
                    .push((r.try_get("day")?, r.try_get("n")?));
            }
        }
        let mut out = Vec::new();
        for p in areas.iter().filter(|a| a.parent_code.is_none()) {
            let districts = areas
                .iter()
                .filter(|a| a.parent_code.as_deref() == Some(p.code.as_str()))
                .map(|a| {
                    figures
                        .remove(&a.code)
                        .unwrap_or_else(|| AreaFigures::of(a))
                })
                .collect();
            out.push(ProvinceOverview {
                province: figures
                    .remove(&p.code)
                    .unwrap_or_else(|| AreaFigures::of(p)),
                districts,
                days: days.remove(&p.code).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// (code, name) of these areas, in path order.
    async fn area_names(&self, codes: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT code, name FROM areas WHERE {} ORDER BY path",
            crate::db::in_json(self.backend, "code", 1)
        );
        sqlx::query(&sql)
            .bind(serde_json::to_string(codes).expect("strings serialise"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }

    /// The areas of the buckets, in path order.
    async fn bucket_areas(&self, buckets: &Buckets<'_>) -> Result<Vec<Area>, StoreError> {
        let b = buckets.sql(self.backend);
        let (cond, param) = (b.all, b.param);
        let sql = format!(
            "SELECT {} FROM areas c WHERE {cond} ORDER BY c.path",
            crate::areas::COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql);
        if let Some(p) = param {
            q = q.bind(p.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(crate::areas::area_from_row)
            .collect()
    }

    /// Coverage, population, doses by number and adverse events of every
    /// bucket: four statements, whatever the number of buckets. A bucket of
    /// `own` reads its own rows and takes its children's figures.
    async fn bucket_figures(
        &self,
        buckets: &Buckets<'_>,
        areas: &[Area],
    ) -> Result<HashMap<String, AreaFigures>, StoreError> {
        let mut rows: HashMap<String, AreaFigures> = areas
            .iter()
            .map(|a| (a.code.clone(), AreaFigures::of(a)))
            .collect();
        let b = buckets.sql(self.backend);
        self.add_bucket_coverage(&b, &mut rows).await?;
        self.add_bucket_population(&b, &mut rows).await?;
        self.add_doses_by_number(&b, &mut rows).await?;
        self.add_adverse_events(&b, &mut rows).await?;
        if b.own.is_some() {
            add_children_to_parents(areas, &mut rows);
        }
        Ok(rows)
    }

    /// The rows of a bucket statement (see `bucket_statement`), the
    /// buckets' parameter bound.
    async fn bucket_rows(
        &self,
        template: &str,
        b: &BucketSql<'_>,
        path_col: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        let sql = bucket_statement(template, b, path_col);
        let mut q = sqlx::query(&sql);
        if let Some(p) = b.param {
            q = q.bind(p.to_string());
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// Adds each bucket's coverage: in total and by product (the all-groups
    /// rows), and by priority group.
    async fn add_bucket_coverage(
        &self,
        b: &BucketSql<'_>,
        rows: &mut HashMap<String, AreaFigures>,
    ) -> Result<(), StoreError> {
        for r in self
            .bucket_rows(
                "SELECT c.code AS bucket, k.product_code AS product_code, k.priority_group AS priority_group, \
                 CAST(SUM(k.at_least_one) AS BIGINT) AS a, CAST(SUM(k.completed) AS BIGINT) AS b \
                 FROM areas c JOIN coverage_counters k ON {join} \
                 WHERE {cond} GROUP BY c.code, k.product_code, k.priority_group",
                b,
                "k.area_path",
            )
            .await?
        {
            let bucket: String = r.try_get("bucket")?;
            let product: String = r.try_get("product_code")?;
            let group: String = r.try_get("priority_group")?;
            let (a, b): (i64, i64) = (r.try_get("a")?, r.try_get("b")?);
            let Some(row) = rows.get_mut(&bucket) else {
                continue;
            };
            if group == ALL_GROUPS {
                row.total.at_least_one += a;
                row.total.completed += b;
                let p = row.by_product.entry(product).or_default();
                p.at_least_one += a;
                p.completed += b;
            } else {
                let g = row.by_group.entry(group).or_default();
                g.at_least_one += a;
                g.completed += b;
            }
        }
        Ok(())
    }

    /// Adds each bucket's population, in total and by priority group.
    async fn add_bucket_population(
        &self,
        b: &BucketSql<'_>,
        rows: &mut HashMap<String, AreaFigures>,
    ) -> Result<(), StoreError> {
        for r in self
            .bucket_rows(
                "SELECT c.code AS bucket, k.priority_group AS priority_group, CAST(SUM(k.population) AS BIGINT) AS n \
                 FROM areas c JOIN population_counters k ON {join} \
                 WHERE {cond} GROUP BY c.code, k.priority_group",
                b,
                "k.area_path",
            )
            .await?
        {
            let bucket: String = r.try_get("bucket")?;
            let group: String = r.try_get("priority_group")?;
            let n: i64 = r.try_get("n")?;
            let Some(row) = rows.get_mut(&bucket) else {
                continue;
            };
            if group == ALL_GROUPS {
                row.total.population += n;
            } else {
                row.by_group.entry(group).or_default().population += n;
            }
        }
        Ok(())
    }

    /// Adds each bucket's doses by dose number.
    async fn add_doses_by_number(
        &self,
        b: &BucketSql<'_>,
        rows: &mut HashMap<String, AreaFigures>,
    ) -> Result<(), StoreError> {
        for r in self
            .bucket_rows(
                "SELECT c.code AS bucket, k.dose_number AS dose_number, CAST(SUM(k.doses) AS BIGINT) AS n \
                 FROM areas c JOIN dose_counters k ON {join} \
                 WHERE {cond} GROUP BY c.code, k.dose_number",
                b,
                "k.area_path",
            )
            .await?
        {
            let bucket: String = r.try_get("bucket")?;
            if let Some(row) = rows.get_mut(&bucket) {
                *row.doses_by_number
                    .entry(r.try_get("dose_number")?)
                    .or_default() += r.try_get::<i64, _>("n")?;
            }
        }
        Ok(())
    }

    /// Adds each bucket's adverse events, and the serious ones (those
    /// under investigation), from the visits at its sites.
    async fn add_adverse_events(
        &self,
        b: &BucketSql<'_>,
        rows: &mut HashMap<String, AreaFigures>,
    ) -> Result<(), StoreError> {
        for r in self
            .bucket_rows(
                "SELECT c.code AS bucket, COUNT(*) AS n, \
                 CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM aefi_investigations i WHERE i.visit_id = v.id) \
                 THEN 1 ELSE 0 END) AS BIGINT) AS serious \
                 FROM areas c JOIN areas a ON {join} \
                 JOIN sites t ON t.area_code = a.code JOIN visits v ON v.site_code = t.code \
                 WHERE {cond} AND v.events LIKE '%\"kind\":\"adverse_event\"%' GROUP BY c.code",
                b,
                "a.path",
            )
            .await?
        {
            let bucket: String = r.try_get("bucket")?;
            if let Some(row) = rows.get_mut(&bucket) {
                row.adverse_events += r.try_get::<i64, _>("n")?;
                row.serious_adverse_events += r.try_get::<Option<i64>, _>("serious")?.unwrap_or(0);
            }
        }
        Ok(())
    }

    /// Doses by day and number, and places opened per day, in a subtree
    /// (everything with `None`): the `CHART_DAYS` days ending at the last
    /// day with doses or places, the days the chart shows.
    async fn days_of(&self, area: Option<&Area>) -> Result<Vec<DayFigures>, StoreError> {
        let (lo, hi) = match area {
            Some(a) => (a.path.clone(), subtree_upper_bound(&a.path)),
            None => (String::new(), "\u{10FFFF}".to_string()),
        };
        // A province's subtree is exactly its province_code: the daily
        // counters' (province_code, day, doses) index answers both queries
        // from the index alone, where the path range would read every row
        // of the province (a whole campaign's days) to keep the window.
        let (rows_of, keys) = match area {
            Some(a) if a.parent_code.is_none() => ("province_code = $1", vec![a.code.clone()]),
            _ => (
                "area_path >= $1 AND area_path < $2",
                vec![lo.clone(), hi.clone()],
            ),
        };
        let day_param = keys.len() + 1;
        let last_sql = format!("SELECT MAX(day) FROM daily_dose_counters WHERE {rows_of}");
        let mut last = sqlx::query_scalar(&last_sql);
        for k in &keys {
            last = last.bind(k);
        }
        let last_dose: Option<String> = last.fetch_one(&self.pool).await?;
        let last_session: Option<String> = sqlx::query_scalar(
            "SELECT MAX(x.day) FROM vaccination_sessions x \
             JOIN sites t ON t.code = x.site_code JOIN areas a ON a.code = t.area_code \
             WHERE a.path >= $1 AND a.path < $2",
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_one(&self.pool)
        .await?;
        let Some(last) = last_dose.max(last_session) else {
            return Ok(Vec::new());
        };
        let from = window_start(&last);
        let mut days: BTreeMap<String, DayFigures> = BTreeMap::new();
        let window_sql = format!(
            "SELECT day, dose_number, CAST(SUM(doses) AS BIGINT) AS n FROM daily_dose_counters \
             WHERE {rows_of} AND day >= ${day_param} GROUP BY day, dose_number"
        );
        let mut window = sqlx::query(&window_sql);
        for k in &keys {
            window = window.bind(k);
        }
        for r in window.bind(&from).fetch_all(&self.pool).await? {
            let day: String = r.try_get("day")?;
            let number: i64 = r.try_get("dose_number")?;
            let n: i64 = r.try_get("n")?;
            let d = days.entry(day.clone()).or_insert_with(|| DayFigures {
                day,
                ..DayFigures::default()
            });
            match number {
                1 => d.dose_1 += n,
                2 => d.dose_2 += n,
                _ => d.later_doses += n,
            }
        }
        for r in sqlx::query(
            "SELECT x.day AS day, CAST(SUM(s.capacity) AS BIGINT) AS n FROM slots s \
             JOIN vaccination_sessions x ON x.id = s.session_id \
             JOIN sites t ON t.code = x.site_code JOIN areas a ON a.code = t.area_code \
             WHERE a.path >= $1 AND a.path < $2 AND x.day >= $3 GROUP BY x.day",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(&from)
        .fetch_all(&self.pool)
        .await?
        {
            let day: String = r.try_get("day")?;
            let d = days.entry(day.clone()).or_insert_with(|| DayFigures {
                day,
                ..DayFigures::default()
            });
            d.capacity += r.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        }
        Ok(days.into_values().collect())
    }
}

/// The sum of areas' figures (the whole of what a caller sees).
pub fn sum_of(code: &str, name: &str, parts: &[AreaFigures]) -> AreaFigures {
    let mut total = AreaFigures {
        code: code.to_string(),
        parent_code: None,
        name: name.to_string(),
        level: String::new(),
        path: String::new(),
        total: CoverageFigures::default(),
        by_product: BTreeMap::new(),
        by_group: BTreeMap::new(),
        doses_by_number: BTreeMap::new(),
        adverse_events: 0,
        serious_adverse_events: 0,
    };
    for p in parts {
        total.add(p);
    }
    total
}

impl Store {
    /// The campaigns over an area (its own and those of the areas above
    /// it), newest first, with their waves: the campaigns whose lists and
    /// targets a dashboard of that area links to.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaigns_over(
        &self,
        area_path: &str,
    ) -> Result<Vec<crate::campaigns::Campaign>, StoreError> {
        let codes: Vec<String> = area_path
            .trim_matches('/')
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let list = serde_json::to_string(&codes).expect("strings serialise");
        let sql = format!(
            "SELECT {} FROM campaigns WHERE {} ORDER BY id DESC LIMIT 50",
            crate::campaigns::CAMPAIGN_COLUMNS,
            crate::db::in_json(self.backend, "area_code", 1)
        );
        let mut campaigns = sqlx::query(&sql)
            .bind(&list)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(crate::campaigns::campaign_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if campaigns.is_empty() {
            return Ok(campaigns);
        }
        let ids: Vec<String> = campaigns.iter().map(|c| c.id.clone()).collect();
        let sql = format!(
            "SELECT {} FROM waves WHERE {} ORDER BY campaign_id, ordinal",
            crate::campaigns::WAVE_COLUMNS,
            crate::db::in_json(self.backend, "campaign_id", 1)
        );
        for r in sqlx::query(&sql)
            .bind(serde_json::to_string(&ids).expect("strings serialise"))
            .fetch_all(&self.pool)
            .await?
        {
            let wave = crate::campaigns::wave_from_row(&r)?;
            if let Some(c) = campaigns.iter_mut().find(|c| c.id == wave.campaign_id) {
                c.waves.push(wave);
            }
        }
        Ok(campaigns)
    }
}

/// A member of a site's staff and where their vaccination certificate
/// stands on a day.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StaffCertification {
    pub username: String,
    pub display_name: String,
    /// The roles they hold at the site, comma-separated.
    pub roles: String,
    /// The last day of their current vaccination certificate, if any.
    pub certified_until: Option<String>,
    /// A vaccination exam taken and failed, with no certificate since.
    pub failed_exam: bool,
}

impl Store {
    /// The staff of a site (enabled users holding a role there) with their
    /// current vaccination certificate on `day`: who may vaccinate and who
    /// is not yet certified. One statement.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site_certification(
        &self,
        site_code: &str,
        day: &str,
    ) -> Result<Vec<StaffCertification>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.username AS username, u.display_name AS display_name, g.role AS role, \
             (SELECT MAX(c.expires_on) FROM staff_certificates c WHERE c.username = u.username \
              AND LOWER(c.topic) = $3 AND c.revoked = 0 AND c.issued_on <= $2 AND c.expires_on >= $2) AS until, \
             (SELECT COUNT(*) FROM training_exams e JOIN training_classes k ON k.id = e.class_id \
              WHERE e.username = u.username AND LOWER(k.topic) = $3 AND e.passed = 0) AS failed \
             FROM grants g JOIN users u ON u.id = g.user_id \
             WHERE g.scope = $1 AND u.disabled = 0 ORDER BY u.username, g.role",
        )
        .bind(site_code)
        .bind(day)
        .bind(vaxgrid_core::training::VACCINATION_TOPIC)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<StaffCertification> = Vec::new();
        for r in &rows {
            let username: String = r.try_get("username")?;
            let role: String = r.try_get("role")?;
            if let Some(last) = out.last_mut().filter(|s| s.username == username) {
                last.roles.push_str(", ");
                last.roles.push_str(&role);
                continue;
            }
            let until: Option<String> = r.try_get("until")?;
            out.push(StaffCertification {
                username,
                display_name: r.try_get("display_name")?,
                roles: role,
                failed_exam: until.is_none() && r.try_get::<i64, _>("failed")? > 0,
                certified_until: until,
            });
        }
        Ok(out)
    }
}

/// The own-rows buckets are the parents of the others: adds each child's
/// figures (read over its subtree) to its parent's.
fn add_children_to_parents(areas: &[Area], rows: &mut HashMap<String, AreaFigures>) {
    let children: Vec<AreaFigures> = areas
        .iter()
        .filter(|a| {
            a.parent_code
                .as_ref()
                .is_some_and(|p| areas.iter().any(|o| &o.code == p))
        })
        .filter_map(|a| rows.get(&a.code).cloned())
        .collect();
    for child in &children {
        if let Some(parent) = child.parent_code.as_ref().and_then(|p| rows.get_mut(p)) {
            parent.add(child);
        }
    }
}
