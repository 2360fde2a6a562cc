//! Reports read from the counters (never from the dose table), and the
//! from-scratch recount that checks them.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::coverage::{
    contribution, split_groups, CoverageCounts, CoverageDelta, ALL_GROUPS,
};

use crate::db::json_rows;
use crate::doses::{dose_from_row, valid_doses, DOSE_COLUMNS};
use crate::error::StoreError;
use crate::model::{Area, DoseKind};
use crate::Store;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CoverageFigures {
    pub population: i64,
    pub at_least_one: i64,
    pub completed: i64,
}

/// Persons reached with a product (population is not split by product).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProductFigures {
    pub at_least_one: i64,
    pub completed: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub area_code: String,
    pub name: String,
    pub level: String,
    /// All persons, each counted once.
    pub total: CoverageFigures,
    /// Persons by the product of their first dose.
    pub by_product: BTreeMap<String, ProductFigures>,
    /// Persons by priority group (a person in two groups counts in both).
    pub by_group: BTreeMap<String, CoverageFigures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub area: CoverageRow,
    pub children: Vec<CoverageRow>,
}

/// SQL for the exclusive upper bound of a path column (see `subtree_upper_bound`).
pub(crate) const UPPER: &str = "substr(c.path, 1, length(c.path) - 1) || '0'";

impl Store {
    /// The coverage report of an area `scope` covers whole (else NotFound:
    /// a district's planner sees no province totals and no other district).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn coverage_in(
        &self,
        area_code: &str,
        scope: &crate::scope::Scope,
    ) -> Result<CoverageReport, StoreError> {
        let area = self.area(area_code).await?;
        if !scope.covers_path(&area.path) {
            return Err(StoreError::NotFound {
                entity: "area",
                field: "area",
                key: area_code.to_string(),
            });
        }
        self.coverage(area_code).await
    }

    /// Coverage of an area and of each of its children.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn coverage(&self, area_code: &str) -> Result<CoverageReport, StoreError> {
        let area = self.area(area_code).await?;
        let children = self
            .area_children(Some(area_code), None, 10_000)
            .await?
            .items;
        let mut rows: BTreeMap<String, CoverageRow> = std::iter::once(&area)
            .chain(children.iter())
            .map(|a| (a.code.clone(), CoverageRow::empty(a)))
            .collect();
        let upper = subtree_upper_bound(&area.path);
        self.add_coverage_counts(&mut rows, &area, &upper).await?;
        self.add_population_counts(&mut rows, &area, &upper).await?;
        let area_row = rows.remove(&area.code).expect("inserted above");
        let children = children
            .iter()
            .filter_map(|c| rows.remove(&c.code))
            .collect();
        Ok(CoverageReport {
            area: area_row,
            children,
        })
    }

    /// Adds the persons reached and completed to the rows of `area` and
    /// of its children: in all and by product (the counters' rows of every
    /// group), and by priority group. One query for the children (grouped
    /// by child through the path range) and one for the area itself.
    async fn add_coverage_counts(
        &self,
        rows: &mut BTreeMap<String, CoverageRow>,
        area: &Area,
        upper: &str,
    ) -> Result<(), StoreError> {
        let per_child = format!(
            "SELECT c.code AS bucket, k.product_code, k.priority_group, CAST(SUM(k.at_least_one) AS BIGINT) AS a, \
             CAST(SUM(k.completed) AS BIGINT) AS b FROM areas c JOIN coverage_counters k \
             ON k.area_path >= c.path AND k.area_path < {UPPER} WHERE c.parent_code = $1 \
             GROUP BY c.code, k.product_code, k.priority_group"
        );
        let own = "SELECT $1 AS bucket, product_code, priority_group, CAST(SUM(at_least_one) AS BIGINT) AS a, \
             CAST(SUM(completed) AS BIGINT) AS b FROM coverage_counters WHERE area_path >= $2 AND area_path < $3 \
             GROUP BY product_code, priority_group";
        let mut found = sqlx::query(&per_child)
            .bind(&area.code)
            .fetch_all(&self.pool)
            .await?;
        found.extend(
            sqlx::query(own)
                .bind(&area.code)
                .bind(&area.path)
                .bind(upper)
                .fetch_all(&self.pool)
                .await?,
        );
        for r in &found {
            let bucket: String = r.try_get("bucket")?;
            let product: String = r.try_get("product_code")?;
            let group: String = r.try_get("priority_group")?;
            let (a, b): (i64, i64) = (r.try_get("a")?, r.try_get("b")?);
            if let Some(row) = rows.get_mut(&bucket) {
                row.add_coverage(product, group, a, b);
            }
        }
        Ok(())
    }

    /// Adds the population to the rows of `area` and of its children, in
    /// all and by priority group (children grouped through the path range,
    /// then the area itself).
    async fn add_population_counts(
        &self,
        rows: &mut BTreeMap<String, CoverageRow>,
        area: &Area,
        upper: &str,
    ) -> Result<(), StoreError> {
        let pop_child = format!(
            "SELECT c.code AS bucket, k.priority_group, CAST(SUM(k.population) AS BIGINT) AS n FROM areas c \
             JOIN population_counters k ON k.area_path >= c.path AND k.area_path < {UPPER} \
             WHERE c.parent_code = $1 GROUP BY c.code, k.priority_group"
        );
        let pop_own = "SELECT $1 AS bucket, priority_group, CAST(SUM(population) AS BIGINT) AS n FROM population_counters \
             WHERE area_path >= $2 AND area_path < $3 GROUP BY priority_group";
        let mut pops = sqlx::query(&pop_child)
            .bind(&area.code)
            .fetch_all(&self.pool)
            .await?;
        pops.extend(
            sqlx::query(pop_own)
                .bind(&area.code)
                .bind(&area.path)
                .bind(upper)
                .fetch_all(&self.pool)
                .await?,
        );
        for r in &pops {
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

    /// Doses per day in an area subtree (from the daily counters).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn daily_doses(
        &self,
        area_code: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let area = self.area(area_code).await?;
        let rows = sqlx::query(
            "SELECT day, CAST(SUM(doses) AS BIGINT) AS n FROM daily_dose_counters \
             WHERE area_path >= $1 AND area_path < $2 AND day >= $3 AND day <= $4 GROUP BY day ORDER BY day",
        )
        .bind(&area.path)
        .bind(subtree_upper_bound(&area.path))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("day")?, r.try_get::<i64, _>("n")?)))
            .collect()
    }

    /// Recomputes every counter from persons and doses, a chunk of persons
    /// at a time so that memory stays bounded whatever the registry's size
    /// (reading every row at once took ~2.7 GB per million persons with two
    /// doses each). A chunk is [`RECOUNT_CHUNK`] persons that are not
    /// merged into another, by id, with the persons merged into them
    /// (merges are few: those rows are read once) and all their doses, so
    /// each person's history is tallied whole, as [`Store::tally`] needs.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn recount(&self) -> Result<Counters, StoreError> {
        self.recount_by(RECOUNT_CHUNK).await
    }

    /// [`Store::recount`] in chunks of `chunk` persons (a test can make a
    /// chunk boundary fall between a person and those merged into them).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn recount_by(&self, chunk: i64) -> Result<Counters, StoreError> {
        const PERSON: &str =
            "SELECT id, province_code, home_area, area_path, priority_groups, merged_into FROM persons";
        let mut merged: HashMap<String, Vec<CountedPerson>> = HashMap::new();
        for r in sqlx::query(&format!("{PERSON} WHERE merged_into IS NOT NULL"))
            .fetch_all(&self.pool)
            .await?
        {
            let p = counted_person(&r)?;
            let root = p.merged_into.clone().unwrap_or_default();
            merged.entry(root).or_default().push(p);
        }
        let roots_sql =
            format!("{PERSON} WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2");
        let doses_sql = format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE {}",
            crate::db::in_json(self.backend, "person_id", 1)
        );
        let mut counters = Counters::default();
        let mut after = String::new();
        loop {
            let roots = sqlx::query(&roots_sql)
                .bind(&after)
                .bind(chunk.max(1))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(counted_person)
                .collect::<Result<Vec<_>, StoreError>>()?;
            let Some(last) = roots.last() else { break };
            after = last.id.clone();
            let mut people = Vec::with_capacity(roots.len());
            for root in roots {
                people.extend(merged.remove(&root.id).unwrap_or_default());
                people.push(root);
            }
            let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
            let doses = sqlx::query(&doses_sql)
                .bind(serde_json::to_string(&ids).expect("strings serialise"))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(dose_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            counters.absorb(self.tally(people, doses).await?);
        }
        Ok(counters)
    }

    /// The counters of these persons and doses, as `recount` would find
    /// them had they been read from the store; the products and the area
    /// tree come from the store. A bulk load that holds its rows in memory
    /// (the demo) counts them here instead of reading them back.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tally(
        &self,
        people: Vec<CountedPerson>,
        doses: Vec<crate::model::DoseRecord>,
    ) -> Result<Counters, StoreError> {
        let products = self.product_map().await?;
        // Doses keep the area of the person when recorded, which need not be
        // the home of a surviving person (merges), so take paths from the tree.
        let area_meta: HashMap<String, (String, String)> = self
            .all_areas()
            .await?
            .into_iter()
            .map(|a| {
                (
                    a.code,
                    (
                        vaxgrid_core::area::province_of_path(&a.path).to_string(),
                        a.path,
                    ),
                )
            })
            .collect();
        Ok(tally(people, doses, &products, &area_meta))
    }

    /// The counters as stored (zero rows left out).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stored_counters(&self) -> Result<Counters, StoreError> {
        let mut c = Counters::default();
        for r in sqlx::query("SELECT province_code, area_code, area_path, product_code, priority_group, at_least_one, completed FROM coverage_counters")
            .fetch_all(&self.pool)
            .await?
        {
            let v = CoverageCounts {
                at_least_one: r.try_get("at_least_one")?,
                completed: r.try_get("completed")?,
            };
            if v != CoverageCounts::default() {
                c.coverage.insert(
                    (r.try_get("province_code")?, r.try_get("area_code")?, r.try_get("area_path")?, r.try_get("product_code")?, r.try_get("priority_group")?),
                    v,
                );
            }
        }
        for r in sqlx::query("SELECT province_code, area_code, area_path, priority_group, population FROM population_counters")
            .fetch_all(&self.pool)
            .await?
        {
            let n: i64 = r.try_get("population")?;
            if n != 0 {
                c.population.insert((r.try_get("province_code")?, r.try_get("area_code")?, r.try_get("area_path")?, r.try_get("priority_group")?), n);
            }
        }
        for r in sqlx::query("SELECT province_code, area_code, area_path, group_set, population FROM population_group_sets")
            .fetch_all(&self.pool)
            .await?
        {
            let n: i64 = r.try_get("population")?;
            if n != 0 {
                c.population_sets.insert((r.try_get("province_code")?, r.try_get("area_code")?, r.try_get("area_path")?, r.try_get("group_set")?), n);
            }
        }
        for r in sqlx::query("SELECT province_code, area_code, area_path, product_code, dose_number, doses FROM dose_counters")
            .fetch_all(&self.pool)
            .await?
        {
            let n: i64 = r.try_get("doses")?;
            if n != 0 {
                c.doses.insert(
                    (r.try_get("province_code")?, r.try_get("area_code")?, r.try_get("area_path")?, r.try_get("product_code")?, r.try_get("dose_number")?),
                    n,
                );
            }
        }
        for r in sqlx::query("SELECT province_code, area_code, area_path, product_code, dose_number, day, doses FROM daily_dose_counters")
            .fetch_all(&self.pool)
            .await?
        {
            let n: i64 = r.try_get("doses")?;
            if n != 0 {
                c.daily.insert(
                    (r.try_get("province_code")?, r.try_get("area_code")?, r.try_get("area_path")?, r.try_get("product_code")?, r.try_get("dose_number")?, r.try_get("day")?),
                    n,
                );
            }
        }
        Ok(c)
    }

    /// Differences between stored counters and a recount; empty when they agree.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_counters(&self) -> Result<Vec<String>, StoreError> {
        let stored = self.stored_counters().await?;
        let fresh = self.recount().await?;
        Ok(stored.differences(&fresh))
    }

    /// Replaces every counter by a recount (after bulk loads).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rebuild_counters(&self) -> Result<(), StoreError> {
        let fresh = self.recount().await?;
        self.replace_counters(&fresh).await
    }

    /// Replaces every counter by `fresh`, in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_counters(&self, fresh: &Counters) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for t in [
            "coverage_counters",
            "population_counters",
            "population_group_sets",
            "daily_dose_counters",
            "dose_counters",
        ] {
            sqlx::query(&format!("DELETE FROM {t}"))
                .execute(&mut *tx)
                .await?;
        }
        for (table, types, rows) in fresh.tables() {
            let sql = format!("INSERT INTO {table} {}", json_rows(self.backend, 1, types));
            for chunk in rows.chunks(5000) {
                sqlx::query(&sql)
                    .bind(serde_json::Value::Array(chunk.to_vec()).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

impl CoverageRow {
    /// An area's row with every figure at zero.
    fn empty(a: &Area) -> CoverageRow {
        CoverageRow {
            area_code: a.code.clone(),
            name: a.name.clone(),
            level: a.level.as_str().to_string(),
            total: CoverageFigures::default(),
            by_product: BTreeMap::new(),
            by_group: BTreeMap::new(),
        }
    }

    /// Adds a coverage counter's persons reached (`a`) and completed (`b`):
    /// the row of every group counts in the total and by product, another
    /// in its group.
    fn add_coverage(&mut self, product: String, group: String, a: i64, b: i64) {
        if group == ALL_GROUPS {
            self.total.at_least_one += a;
            self.total.completed += b;
            let p = self.by_product.entry(product).or_default();
            p.at_least_one += a;
            p.completed += b;
        } else {
            let g = self.by_group.entry(group).or_default();
            g.at_least_one += a;
            g.completed += b;
        }
    }
}

/// A counter table to write: its name and columns, their types, and the
/// rows as JSON arrays.
type CounterTable = (
    &'static str,
    &'static [crate::db::Col],
    Vec<serde_json::Value>,
);

/// All counters keyed as stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counters {
    pub coverage: BTreeMap<(String, String, String, String, String), CoverageCounts>,
    pub population: BTreeMap<(String, String, String, String), i64>,
    /// Persons by (province, area, area path, set of groups): each once.
    pub population_sets: BTreeMap<(String, String, String, String), i64>,
    pub daily: BTreeMap<(String, String, String, String, i64, String), i64>,
    /// Doses by (province, area, area path, product, dose number), all days.
    pub doses: BTreeMap<(String, String, String, String, i64), i64>,
}

impl Counters {
    /// Every counter as rows of its table, in the order they are written.
    fn tables(&self) -> [CounterTable; 5] {
        use crate::db::Col::{Int, Text};
        let coverage = self
            .coverage
            .iter()
            .map(|((p, a, path, prod, g), v)| {
                serde_json::json!([p, a, path, prod, g, v.at_least_one, v.completed])
            })
            .collect();
        let population = self
            .population
            .iter()
            .map(|((p, a, path, g), n)| serde_json::json!([p, a, path, g, n]))
            .collect();
        let population_sets = self
            .population_sets
            .iter()
            .map(|((p, a, path, set), n)| serde_json::json!([p, a, path, set, n]))
            .collect();
        let daily = self
            .daily
            .iter()
            .map(|((p, a, path, prod, num, day), n)| {
                serde_json::json!([p, a, path, prod, num, day, n])
            })
            .collect();
        let totals = self
            .doses
            .iter()
            .map(|((p, a, path, prod, num), n)| serde_json::json!([p, a, path, prod, num, n]))
            .collect();
        [
            (
                "coverage_counters (province_code, area_code, area_path, product_code, priority_group, at_least_one, completed)",
                &[Text, Text, Text, Text, Text, Int, Int],
                coverage,
            ),
            (
                "population_counters (province_code, area_code, area_path, priority_group, population)",
                &[Text, Text, Text, Text, Int],
                population,
            ),
            (
                "population_group_sets (province_code, area_code, area_path, group_set, population)",
                &[Text, Text, Text, Text, Int],
                population_sets,
            ),
            (
                "daily_dose_counters (province_code, area_code, area_path, product_code, dose_number, day, doses)",
                &[Text, Text, Text, Text, Int, Text, Int],
                daily,
            ),
            (
                "dose_counters (province_code, area_code, area_path, product_code, dose_number, doses)",
                &[Text, Text, Text, Text, Int, Int],
                totals,
            ),
        ]
    }

    /// Counts a surviving person in the population of their home area,
    /// in each of their groups and in everyone, and in their set of groups.
    fn count_person(&mut self, p: &CountedPerson) {
        for g in p.groups.iter().map(String::as_str).chain([ALL_GROUPS]) {
            *self
                .population
                .entry((
                    p.province_code.clone(),
                    p.home_area.clone(),
                    p.area_path.clone(),
                    g.to_string(),
                ))
                .or_default() += 1;
        }
        *self
            .population_sets
            .entry((
                p.province_code.clone(),
                p.home_area.clone(),
                p.area_path.clone(),
                crate::persons::group_set_key(&p.groups),
            ))
            .or_default() += 1;
    }

    /// Counts a person's doses (not entered in error, and not voided by a
    /// record that was) per day and all days together, at the area where
    /// each was given (its path from `area_meta`).
    fn count_doses(
        &mut self,
        records: &[crate::model::DoseRecord],
        area_meta: &HashMap<String, (String, String)>,
    ) {
        let voided: std::collections::HashSet<&str> = records
            .iter()
            .filter(|r| r.kind == DoseKind::EnteredInError)
            .filter_map(|r| r.corrects_id.as_deref())
            .collect();
        for rec in records
            .iter()
            .filter(|r| r.kind.is_dose() && !voided.contains(r.id.as_str()))
        {
            let path = area_meta
                .get(&rec.area_code)
                .map(|m| m.1.clone())
                .unwrap_or_default();
            *self
                .doses
                .entry((
                    rec.province_code.clone(),
                    rec.area_code.clone(),
                    path.clone(),
                    rec.product_code.clone(),
                    rec.dose_number,
                ))
                .or_default() += 1;
            *self
                .daily
                .entry((
                    rec.province_code.clone(),
                    rec.area_code.clone(),
                    path,
                    rec.product_code.clone(),
                    rec.dose_number,
                    rec.administered_on.clone(),
                ))
                .or_default() += 1;
        }
    }

    /// Adds the tally of other persons (with their own doses) to these, so
    /// a bulk load can count chunk by chunk instead of holding every row.
    pub fn absorb(&mut self, other: Counters) {
        for (k, v) in other.coverage {
            let c = self.coverage.entry(k).or_default();
            c.at_least_one += v.at_least_one;
            c.completed += v.completed;
        }
        for (k, v) in other.population {
            *self.population.entry(k).or_default() += v;
        }
        for (k, v) in other.population_sets {
            *self.population_sets.entry(k).or_default() += v;
        }
        for (k, v) in other.daily {
            *self.daily.entry(k).or_default() += v;
        }
        for (k, v) in other.doses {
            *self.doses.entry(k).or_default() += v;
        }
    }

    /// Human-readable differences, at most 50.
    pub fn differences(&self, other: &Counters) -> Vec<String> {
        let mut out = Vec::new();
        diff_maps("coverage", &self.coverage, &other.coverage, &mut out);
        diff_maps("population", &self.population, &other.population, &mut out);
        diff_maps(
            "population by group set",
            &self.population_sets,
            &other.population_sets,
            &mut out,
        );
        diff_maps("daily", &self.daily, &other.daily, &mut out);
        diff_maps("doses", &self.doses, &other.doses, &mut out);
        out.truncate(50);
        out
    }
}

pub(crate) fn diff_maps<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    name: &str,
    stored: &BTreeMap<K, V>,
    fresh: &BTreeMap<K, V>,
    out: &mut Vec<String>,
) {
    for (k, v) in stored {
        match fresh.get(k) {
            Some(f) if f == v => {}
            Some(f) => out.push(format!("{name} {k:?}: stored {v:?}, recount {f:?}")),
            None => out.push(format!("{name} {k:?}: stored {v:?}, recount nothing")),
        }
    }
    for (k, f) in fresh {
        if !stored.contains_key(k) {
            out.push(format!("{name} {k:?}: stored nothing, recount {f:?}"));
        }
    }
}

/// A person as the counters see them.
#[derive(Debug, Clone)]
pub struct CountedPerson {
    pub id: String,
    pub merged_into: Option<String>,
    pub province_code: String,
    pub home_area: String,
    pub area_path: String,
    pub groups: Vec<String>,
}

/// Persons per chunk of [`Store::recount`].
const RECOUNT_CHUNK: i64 = 50_000;

/// A person as the recount reads it.
fn counted_person(r: &sqlx::any::AnyRow) -> Result<CountedPerson, StoreError> {
    Ok(CountedPerson {
        id: r.try_get("id")?,
        merged_into: r.try_get("merged_into")?,
        province_code: r.try_get("province_code")?,
        home_area: r.try_get("home_area")?,
        area_path: r.try_get("area_path")?,
        groups: split_groups(&r.try_get::<String, _>("priority_groups")?),
    })
}

/// Every counter from persons and doses: population by home area and
/// group, coverage from each surviving person's valid doses (with those of
/// the persons merged into them), doses per day where not entered in error,
/// and the same doses all days together.
fn tally(
    people: Vec<CountedPerson>,
    doses: Vec<crate::model::DoseRecord>,
    products: &HashMap<String, vaxgrid_core::product::Product>,
    area_meta: &HashMap<String, (String, String)>,
) -> Counters {
    let mut roots: HashMap<String, CountedPerson> = HashMap::new();
    let mut root_of: HashMap<String, String> = HashMap::new();
    let mut counters = Counters::default();
    for p in people {
        root_of.insert(p.id.clone(), p.merged_into.clone().unwrap_or(p.id.clone()));
        if p.merged_into.is_none() {
            counters.count_person(&p);
            roots.insert(p.id.clone(), p);
        }
    }
    let mut by_root: HashMap<String, Vec<crate::model::DoseRecord>> = HashMap::new();
    for rec in doses {
        if let Some(root) = root_of.get(&rec.person_id) {
            by_root.entry(root.clone()).or_default().push(rec);
        }
    }
    let mut delta = CoverageDelta::default();
    for (root, records) in &by_root {
        let Some(p) = roots.get(root) else { continue };
        if let Some(c) = contribution(&valid_doses(records), |code| products.get(code)) {
            delta.add(&p.home_area, &p.groups, &c, 1);
        }
        counters.count_doses(records, area_meta);
    }
    for (key, v) in delta.nonzero() {
        let (province, path) = &area_meta[&key.area_code];
        counters.coverage.insert(
            (
                province.clone(),
                key.area_code.clone(),
                path.clone(),
                key.product_code.clone(),
                key.priority_group.clone(),
            ),
            *v,
        );
    }
    counters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_of_every_group_counts_in_the_total_and_by_product() {
        let mut row = CoverageRow {
            area_code: "22".into(),
            name: "Quang Ninh".into(),
            level: "province".into(),
            total: CoverageFigures::default(),
            by_product: BTreeMap::new(),
            by_group: BTreeMap::new(),
        };
        row.add_coverage("P1".into(), ALL_GROUPS.into(), 5, 2);
        row.add_coverage("P2".into(), ALL_GROUPS.into(), 1, 1);
        row.add_coverage("P1".into(), "health_worker".into(), 3, 1);
        assert_eq!(row.total.at_least_one, 6);
        assert_eq!(row.total.completed, 3);
        assert_eq!(row.by_product["P1"].at_least_one, 5);
        assert_eq!(row.by_product["P2"].completed, 1);
        assert_eq!(row.by_group["health_worker"].at_least_one, 3);
        assert!(!row.by_group.contains_key(ALL_GROUPS));
    }

    #[test]
    fn a_person_counts_in_each_group_in_everyone_and_in_their_set_once() {
        let mut c = Counters::default();
        c.count_person(&CountedPerson {
            id: "p1".into(),
            merged_into: None,
            province_code: "22".into(),
            home_area: "06658".into(),
            area_path: "/22/193/06658/".into(),
            groups: vec!["elderly".into(), "health_worker".into()],
        });
        let groups: Vec<&str> = c.population.keys().map(|k| k.3.as_str()).collect();
        assert_eq!(groups, vec![ALL_GROUPS, "elderly", "health_worker"]);
        assert!(c.population.values().all(|n| *n == 1));
        assert_eq!(c.population_sets.len(), 1);
        assert_eq!(c.population_sets.values().sum::<i64>(), 1);
    }
}
