//! Reorganisations of the area tree (merge, split, move) as dated events,
//! applied in one transaction (docs/ARCHITECTURE.md, "Area reorganisations").
//!
//! `vaxgrid_core::area_reorg::plan` checks the change and turns it into
//! steps, each re-rooting one subtree's paths (and, for a merge, re-keying
//! the merged area's own rows to the area it joins). Here each step is
//! applied to every table that carries a path, an area code or (for a
//! merge of provinces) a province: the tree, persons, doses, the four
//! counters (summed where a merged area's rows meet the survivor's), sites
//! and their catchments, stores, campaigns and targets, sessions, the
//! outbreak's rows, grants.
//! The counters stay equal to a recount because persons and doses are
//! re-keyed exactly as the counters are.
//!
//! The dose writer and every other writer begin their transactions with
//! the tree lock held shared (PostgreSQL; `Store::begin_write`); a
//! reorganisation holds it exclusively, so no batch reads a path before the
//! change and writes it after. On SQLite, write transactions are
//! serialised anyway (`BEGIN IMMEDIATE`).

use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use vaxgrid_core::area::{ancestor_at, depth_of_path, subtree_upper_bound, AreaLevels};
use vaxgrid_core::area_reorg::{plan, Change, Step, TreeArea};
use vaxgrid_core::coverage::ALL_GROUPS;

use crate::audit::{self, AuditEntry};
use crate::db::Backend;
use crate::error::StoreError;
use crate::model::Page;
use crate::Store;

/// The advisory lock of the area tree (PostgreSQL): shared by writers,
/// exclusive for a reorganisation.
pub(crate) const TREE_LOCK: i64 = 734503;

/// Tables whose rows carry the path of their area (and, except
/// `duplicate_candidates`, the province): re-rooted by range.
const PATH_TABLES: &[(&str, bool)] = &[
    ("persons", true),
    ("coverage_counters", true),
    ("population_counters", true),
    ("population_group_sets", true),
    ("daily_dose_counters", true),
    ("dose_counters", true),
    ("outbreak_cases", true),
    ("outbreak_contacts", true),
    ("outbreak_classes", true),
    ("isolations", true),
    ("isolation_checks", true),
    ("samples", true),
    ("facility_admissions", true),
    ("duplicate_candidates", false),
];

/// Reference columns naming an area: a merged area's become the
/// survivor's. (`area_targets`, `daily_dose_targets`, the counters,
/// persons, doses and grants are handled apart: they are summed, or keyed
/// with the province.)
const AREA_REFERENCES: &[(&str, &str)] = &[
    ("sites", "area_code"),
    ("campaigns", "area_code"),
    ("stores", "area_code"),
    ("laboratories", "area_code"),
    ("treatment_facilities", "area_code"),
    ("response_teams", "area_code"),
    ("vaccination_sessions", "village_code"),
];

/// Tables with a `province_code`: a merge of provinces moves their rows
/// (`isolation_policies`, one row per province, apart).
const PROVINCE_TABLES: &[&str] = &[
    "persons",
    "doses",
    "coverage_counters",
    "population_counters",
    "population_group_sets",
    "daily_dose_counters",
    "dose_counters",
    "certificates",
    "certificate_revocations",
    "person_identifiers",
    "identity_follow_ups",
    "other_vaccinations",
    "stores",
    "stock_movements",
    "stock_on_hand",
    "stock_daily",
    "stock_given_daily",
    "temperature_readings",
    "excursions",
    "open_vials",
    "item_movements",
    "item_on_hand",
    "outbreak_cases",
    "outbreak_contacts",
    "outbreak_classes",
    "isolations",
    "isolation_checks",
    "samples",
    "lab_tests",
    "lab_test_samples",
    "treatment_facilities",
    "facility_admissions",
    "team_assignments",
    "aefi_events",
];

/// Every column a reorganisation rewrites, by table (for the schema test:
/// a column naming an area, a path or a province that is not listed here
/// would be left behind by a reorganisation).
pub fn handled_columns() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (t, province) in PATH_TABLES {
        out.push((t, "area_path"));
        if *province {
            out.push((t, "province_code"));
        }
    }
    out.extend(AREA_REFERENCES.iter().copied());
    out.extend(PROVINCE_TABLES.iter().map(|t| (*t, "province_code")));
    out.extend([
        ("areas", "path"),
        ("areas", "parent_code"),
        ("persons", "home_area"),
        ("persons", "commune_code"),
        ("doses", "area_code"),
        ("coverage_counters", "area_code"),
        ("population_counters", "area_code"),
        ("population_group_sets", "area_code"),
        ("daily_dose_counters", "area_code"),
        ("dose_counters", "area_code"),
        ("area_targets", "area_code"),
        ("daily_dose_targets", "area_code"),
        ("team_assignments", "area_code"),
        ("aefi_events", "area_code"),
        ("isolation_policies", "province_code"),
        ("stores", "parent_code"),
        ("site_catchments", "area_code"),
    ]);
    out
}

/// A reorganisation as asked.
#[derive(Debug, Clone)]
pub struct NewReorganisation {
    pub effective_on: time::Date,
    pub reason: String,
    pub change: Change,
}

/// A reorganisation as recorded.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reorganisation {
    pub id: String,
    pub kind: String,
    pub effective_on: String,
    /// Microseconds since the epoch.
    pub recorded_at: i64,
    pub actor: String,
    pub reason: String,
    pub change: Change,
    /// The affected areas as they were, with their figures: `{code: {area,
    /// population, at_least_one, completed, doses, doses_by_day}}`, the
    /// days those before `effective_on`.
    pub before: serde_json::Value,
}

/// The same steps applied the same way to a single table family: a
/// subtree's paths re-rooted.
const REROOT: &str = "SET area_path = $1 || substr(area_path, length($2) + 1)";

impl Store {
    /// Records a reorganisation and re-keys everything under it, all or
    /// nothing. Refused naming the field (`change.…`, `effective_on`,
    /// `reason`) with nothing written: an orphan or a cycle, areas of
    /// different levels, a date in the future; a merge of provinces whose
    /// persons share an ID number is a conflict (merge them first).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reorganise(
        &self,
        new: NewReorganisation,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Reorganisation, StoreError> {
        let actor: crate::model::Actor = actor.into();
        let reason = checked_reason(&new, self.today())?;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query(&format!("SELECT pg_advisory_xact_lock({TREE_LOCK})"))
                .execute(&mut *tx)
                .await?;
        }
        let levels = levels_in(&mut tx).await?;
        let tree = tree_in(&mut tx).await?;
        let areas: Vec<TreeArea> = tree.iter().map(|(a, _)| a.clone()).collect();
        let planned = plan(&new.change, &areas, &levels)
            .map_err(|e| StoreError::invalid(format!("change.{}", e.field), e.message))?;
        let effective_on = crate::format_date(new.effective_on);
        let before = snapshot(&mut tx, &new.change, &planned.steps, &tree, &effective_on).await?;
        for a in &planned.new_areas {
            sqlx::query(
                "INSERT INTO areas (code, parent_code, level, name, name_en, path) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&a.code)
            .bind(&a.parent_code)
            .bind(a.level.as_str())
            .bind(&a.name)
            .bind(&a.name_en)
            .bind(&a.path)
            .execute(&mut *tx)
            .await?;
        }
        for step in &planned.steps {
            apply_step(&mut tx, step, &levels).await?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let recorded_at = self.now_micros();
        let change_json = serde_json::to_string(&new.change)
            .map_err(|e| StoreError::invalid("change", e.to_string()))?;
        sqlx::query(
            "INSERT INTO area_reorganisations (id, kind, effective_on, recorded_at, actor, reason, change, before) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(new.change.kind())
        .bind(&effective_on)
        .bind(recorded_at)
        .bind(&actor.name)
        .bind(&reason)
        .bind(&change_json)
        .bind(before.to_string())
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry::by(
            &actor,
            "reorganise",
            "area_reorganisation",
            &id,
            serde_json::json!({
                "effective_on": effective_on,
                "reason": reason,
                "change": new.change,
            }),
        );
        audit::append(&mut tx, self.backend, &[entry]).await?;
        tx.commit().await?;
        self.places.forget_all();
        Ok(Reorganisation {
            id,
            kind: new.change.kind().to_string(),
            effective_on,
            recorded_at,
            actor: actor.name,
            reason,
            change: new.change,
            before,
        })
    }

    /// Reorganisations in the order they were recorded, after the cursor.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reorganisations(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Reorganisation>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, effective_on, recorded_at, actor, reason, change, before \
             FROM area_reorganisations WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                let change: String = r.try_get("change")?;
                let before: String = r.try_get("before")?;
                Ok(Reorganisation {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    effective_on: r.try_get("effective_on")?,
                    recorded_at: r.try_get("recorded_at")?,
                    actor: r.try_get("actor")?,
                    reason: r.try_get("reason")?,
                    change: serde_json::from_str(&change)
                        .map_err(|e| StoreError::invalid("change", e.to_string()))?,
                    before: serde_json::from_str(&before)
                        .map_err(|e| StoreError::invalid("before", e.to_string()))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_rows(items, limit, |r| r.id.clone()))
    }
}

async fn levels_in(tx: &mut Transaction<'static, Any>) -> Result<AreaLevels, StoreError> {
    let levels =
        sqlx::query("SELECT key, name_vi, name_zh, name_en FROM area_levels ORDER BY depth")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                Ok(vaxgrid_core::area::LevelDef {
                    key: r.try_get("key")?,
                    name_vi: r.try_get("name_vi")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
    AreaLevels::new(levels).map_err(|e| StoreError::invalid("levels", e.to_string()))
}

/// The affected areas as they are now, with their subtree's figures.
async fn snapshot(
    tx: &mut Transaction<'static, Any>,
    change: &Change,
    steps: &[Step],
    tree: &[(TreeArea, String)],
    effective_on: &str,
) -> Result<serde_json::Value, StoreError> {
    let mut out = serde_json::Map::new();
    for code in affected_codes(change, steps, tree) {
        let Some((a, name)) = tree.iter().find(|(a, _)| a.code == code) else {
            continue;
        };
        let figures = area_figures(tx, a, name, effective_on).await?;
        out.insert(code, figures);
    }
    Ok(serde_json::Value::Object(out))
}

/// The areas a change touches, each once: those it names, then each
/// step's area and that area's parent.
fn affected_codes(change: &Change, steps: &[Step], tree: &[(TreeArea, String)]) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        if !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    };
    match change {
        Change::Merge { sources, into } => {
            sources.iter().for_each(|s| add(s));
            add(into);
        }
        Change::Split { area, .. } => add(area),
        Change::Move { area, parent_code } => {
            add(area);
            add(parent_code);
        }
    }
    for s in steps {
        add(&s.from_code);
        if let Some((a, _)) = tree.iter().find(|(a, _)| a.code == s.from_code) {
            if let Some(p) = &a.parent_code {
                add(p);
            }
        }
    }
    codes
}

/// An area as it is now with its subtree's figures: population, coverage,
/// doses, and doses by day before `effective_on`.
async fn area_figures(
    tx: &mut Transaction<'static, Any>,
    a: &TreeArea,
    name: &str,
    effective_on: &str,
) -> Result<serde_json::Value, StoreError> {
    let province = vaxgrid_core::area::province_of_path(&a.path).to_string();
    let upper = subtree_upper_bound(&a.path);
    let binds = [
        province.as_str(),
        a.path.as_str(),
        upper.as_str(),
        ALL_GROUPS,
    ];
    let population = sum(
        tx,
        &binds,
        "SELECT CAST(COALESCE(SUM(population), 0) AS BIGINT) FROM population_counters \
         WHERE province_code = $1 AND area_path >= $2 AND area_path < $3 AND priority_group = $4",
    )
    .await?;
    let at_least_one = sum(
        tx,
        &binds,
        "SELECT CAST(COALESCE(SUM(at_least_one), 0) AS BIGINT) FROM coverage_counters \
         WHERE province_code = $1 AND area_path >= $2 AND area_path < $3 AND priority_group = $4",
    )
    .await?;
    let completed = sum(
        tx,
        &binds,
        "SELECT CAST(COALESCE(SUM(completed), 0) AS BIGINT) FROM coverage_counters \
         WHERE province_code = $1 AND area_path >= $2 AND area_path < $3 AND priority_group = $4",
    )
    .await?;
    let doses = sum(
        tx,
        &binds,
        "SELECT CAST(COALESCE(SUM(doses), 0) AS BIGINT) FROM dose_counters \
         WHERE province_code = $1 AND area_path >= $2 AND area_path < $3 AND $4 <> ''",
    )
    .await?;
    let by_day = sqlx::query(
        "SELECT day, CAST(SUM(doses) AS BIGINT) AS n FROM daily_dose_counters \
         WHERE province_code = $1 AND area_path >= $2 AND area_path < $3 AND day < $4 \
         GROUP BY day ORDER BY day",
    )
    .bind(&province)
    .bind(&a.path)
    .bind(&upper)
    .bind(effective_on)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<String, _>("day")?,
            serde_json::json!(r.try_get::<i64, _>("n")?),
        ))
    })
    .collect::<Result<serde_json::Map<_, _>, StoreError>>()?;
    Ok(serde_json::json!({
        "area": {"code": a.code, "parent_code": a.parent_code, "name": name, "path": a.path},
        "population": population,
        "at_least_one": at_least_one,
        "completed": completed,
        "doses": doses,
        "doses_by_day": by_day,
    }))
}

/// The one figure `sql` answers for its four text parameters.
async fn sum(
    tx: &mut Transaction<'static, Any>,
    binds: &[&str; 4],
    sql: &str,
) -> Result<i64, StoreError> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    Ok(q.fetch_one(&mut **tx).await?.try_get(0)?)
}

/// Runs `sql` with text parameters `binds`.
async fn exec(
    tx: &mut Transaction<'static, Any>,
    sql: &str,
    binds: &[&str],
) -> Result<u64, StoreError> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

/// Applies one step (see the module's comment).
async fn apply_step(
    tx: &mut Transaction<'static, Any>,
    step: &Step,
    levels: &AreaLevels,
) -> Result<(), StoreError> {
    let old = step.old_path.as_str();
    let new = step.new_path.as_str();
    let upper = subtree_upper_bound(old);
    let province = step.old_province().to_string();
    let new_province = step.new_province().to_string();
    let depth = depth_of_path(old);
    let from = step.from_code.as_str();
    // Stores at the root, to hang under the nearest store above once moved.
    let root_stores: Vec<String> =
        sqlx::query("SELECT code FROM stores WHERE area_code = $1 AND site_code IS NULL")
            .bind(from)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("code"))
            .collect::<Result<_, _>>()?;
    move_subtree(tx, step, &upper).await?;
    // Every row carrying a path of the subtree.
    for (table, with_province) in PATH_TABLES {
        if *with_province {
            let sql = format!(
                "UPDATE {table} {REROOT} WHERE province_code = $4 AND area_path >= $2 AND area_path < $3"
            );
            exec(tx, &sql, &[new, old, &upper, &province]).await?;
        } else {
            let sql = format!("UPDATE {table} {REROOT} WHERE area_path >= $2 AND area_path < $3");
            exec(tx, &sql, &[new, old, &upper]).await?;
        }
    }
    if let Some(into) = &step.merged_into {
        merge_area(tx, step, into, depth == levels.local_depth()).await?;
    }
    if depth > levels.local_depth() {
        // A village moved to (or merged into one of) another commune: its
        // persons' commune follows.
        let commune = ancestor_at(new, levels.local_depth()).unwrap_or_default();
        let sql = "UPDATE persons SET commune_code = $1 WHERE province_code = $2 AND area_path >= $3 AND area_path < $4";
        exec(
            tx,
            sql,
            &[commune, &new_province, new, &subtree_upper_bound(new)],
        )
        .await?;
    }
    rehang_stores(tx, new, &root_stores).await
}

/// The tree: the subtree's paths (the merged area's children only, when
/// it is merged) re-rooted under the new path, and its parent changed.
async fn move_subtree(
    tx: &mut Transaction<'static, Any>,
    step: &Step,
    upper: &str,
) -> Result<(), StoreError> {
    let (old, new, from) = (
        step.old_path.as_str(),
        step.new_path.as_str(),
        step.from_code.as_str(),
    );
    match &step.merged_into {
        Some(into) => {
            exec(
                tx,
                "UPDATE areas SET path = $1 || substr(path, length($2) + 1) WHERE path > $2 AND path < $3",
                &[new, old, upper],
            )
            .await?;
            exec(
                tx,
                "UPDATE areas SET parent_code = $1 WHERE parent_code = $2",
                &[into, from],
            )
            .await?;
        }
        None => {
            exec(
                tx,
                "UPDATE areas SET path = $1 || substr(path, length($2) + 1) WHERE path >= $2 AND path < $3",
                &[new, old, upper],
            )
            .await?;
            exec(
                tx,
                "UPDATE areas SET parent_code = $1 WHERE code = $2",
                &[step.new_parent.as_deref().unwrap_or_default(), from],
            )
            .await?;
        }
    }
    Ok(())
}

/// A merged area's own rows become the survivor's (`into`), then the
/// area is retired; `local`: the merged area is at the local depth (its
/// persons' commune is the area itself).
async fn merge_area(
    tx: &mut Transaction<'static, Any>,
    step: &Step,
    into: &str,
    local: bool,
) -> Result<(), StoreError> {
    let new = step.new_path.as_str();
    let province = step.old_province().to_string();
    let new_province = step.new_province().to_string();
    let from = step.from_code.as_str();
    exec(
        tx,
        "UPDATE persons SET home_area = $1 WHERE province_code = $2 AND area_path = $3 AND home_area = $4",
        &[into, &province, new, from],
    )
    .await?;
    if local {
        exec(
            tx,
            "UPDATE persons SET commune_code = $1 WHERE province_code = $2 AND area_path >= $3 AND area_path < $4 AND commune_code = $5",
            &[into, &province, new, &subtree_upper_bound(new), from],
        )
        .await?;
    }
    exec(
        tx,
        "UPDATE doses SET area_code = $1 WHERE province_code = $2 AND area_code = $3 AND person_id IN (\
         SELECT id FROM persons WHERE province_code = $2 AND area_path = $4 \
         UNION SELECT id FROM persons WHERE province_code = $2 AND merged_into IN \
         (SELECT id FROM persons WHERE province_code = $2 AND area_path = $4))",
        &[into, &province, from, new],
    )
    .await?;
    merge_counters(tx, &province, from, into, new).await?;
    for (table, column) in AREA_REFERENCES {
        let sql = format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2");
        exec(tx, &sql, &[into, from]).await?;
    }
    exec(
        tx,
        "UPDATE team_assignments SET area_code = $1 WHERE province_code = $2 AND area_code = $3",
        &[into, &province, from],
    )
    .await?;
    // An adverse event counts where its dose was given from: the merged
    // area's events are the survivor's.
    exec(
        tx,
        "UPDATE aefi_events SET area_code = $1 WHERE province_code = $2 AND area_code = $3",
        &[into, &province, from],
    )
    .await?;
    merge_targets(tx, from, into).await?;
    move_grants(tx, from, into).await?;
    if new_province != province {
        merge_provinces(tx, &province, &new_province).await?;
    }
    sqlx::query("DELETE FROM areas WHERE code = $1")
        .bind(from)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            StoreError::invalid(
                "change.sources",
                format!("area '{from}' is still referenced after the merge, so it cannot be retired: {e}"),
            )
        })?;
    Ok(())
}

/// The merged area's campaign targets, daily dose targets and site
/// catchments become the survivor's.
async fn merge_targets(
    tx: &mut Transaction<'static, Any>,
    from: &str,
    into: &str,
) -> Result<(), StoreError> {
    exec(
        tx,
        "INSERT INTO area_targets (campaign_id, area_code, people, fixed) \
         SELECT campaign_id, $1, people, fixed FROM area_targets WHERE area_code = $2 \
         ON CONFLICT (campaign_id, area_code) DO UPDATE SET people = area_targets.people + excluded.people, \
         fixed = CASE WHEN excluded.fixed > area_targets.fixed THEN excluded.fixed ELSE area_targets.fixed END",
        &[into, from],
    )
    .await?;
    exec(tx, "DELETE FROM area_targets WHERE area_code = $1", &[from]).await?;
    // Daily dose targets add up: the merged area's doses a day are the
    // survivor's to give too.
    exec(
        tx,
        "INSERT INTO daily_dose_targets (campaign_id, area_code, doses_per_day, set_at) \
         SELECT campaign_id, $1, doses_per_day, set_at FROM daily_dose_targets WHERE area_code = $2 \
         ON CONFLICT (campaign_id, area_code) DO UPDATE SET \
         doses_per_day = daily_dose_targets.doses_per_day + excluded.doses_per_day",
        &[into, from],
    )
    .await?;
    exec(
        tx,
        "DELETE FROM daily_dose_targets WHERE area_code = $1",
        &[from],
    )
    .await?;
    // A site serving the merged area serves the survivor (once, when it
    // served both).
    exec(
        tx,
        "INSERT INTO site_catchments (site_code, area_code) \
         SELECT site_code, $1 FROM site_catchments WHERE area_code = $2 \
         ON CONFLICT (site_code, area_code) DO NOTHING",
        &[into, from],
    )
    .await?;
    exec(
        tx,
        "DELETE FROM site_catchments WHERE area_code = $1",
        &[from],
    )
    .await?;
    Ok(())
}

/// The root's own stores hang under the nearest store above its new place
/// (`new`).
async fn rehang_stores(
    tx: &mut Transaction<'static, Any>,
    new: &str,
    root_stores: &[String],
) -> Result<(), StoreError> {
    let mut ancestors: Vec<&str> = new.split('/').filter(|s| !s.is_empty()).collect();
    ancestors.pop();
    if root_stores.is_empty() || ancestors.is_empty() {
        return Ok(());
    }
    let mut parent: Option<String> = None;
    for code in ancestors.iter().rev() {
        parent = sqlx::query(
            "SELECT code FROM stores WHERE area_code = $1 AND site_code IS NULL ORDER BY code LIMIT 1",
        )
        .bind(*code)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("code"))
        .transpose()?;
        if parent.is_some() {
            break;
        }
    }
    for store in root_stores {
        sqlx::query("UPDATE stores SET parent_code = $1 WHERE code = $2")
            .bind(&parent)
            .bind(store)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The counter rows of `from` added to those of `into` (path `into_path`),
/// then removed.
async fn merge_counters(
    tx: &mut Transaction<'static, Any>,
    province: &str,
    from: &str,
    into: &str,
    into_path: &str,
) -> Result<(), StoreError> {
    let statements = [
        "INSERT INTO coverage_counters (province_code, area_code, area_path, product_code, priority_group, at_least_one, completed) \
         SELECT province_code, $1, $2, product_code, priority_group, at_least_one, completed FROM coverage_counters \
         WHERE province_code = $3 AND area_code = $4 \
         ON CONFLICT (province_code, area_code, product_code, priority_group) DO UPDATE SET \
         at_least_one = coverage_counters.at_least_one + excluded.at_least_one, \
         completed = coverage_counters.completed + excluded.completed",
        "DELETE FROM coverage_counters WHERE province_code = $3 AND area_code = $4 AND $1 <> $2",
        "INSERT INTO population_counters (province_code, area_code, area_path, priority_group, population) \
         SELECT province_code, $1, $2, priority_group, population FROM population_counters \
         WHERE province_code = $3 AND area_code = $4 \
         ON CONFLICT (province_code, area_code, priority_group) DO UPDATE SET \
         population = population_counters.population + excluded.population",
        "DELETE FROM population_counters WHERE province_code = $3 AND area_code = $4 AND $1 <> $2",
        "INSERT INTO population_group_sets (province_code, area_code, area_path, group_set, population) \
         SELECT province_code, $1, $2, group_set, population FROM population_group_sets \
         WHERE province_code = $3 AND area_code = $4 \
         ON CONFLICT (province_code, area_code, group_set) DO UPDATE SET \
         population = population_group_sets.population + excluded.population",
        "DELETE FROM population_group_sets WHERE province_code = $3 AND area_code = $4 AND $1 <> $2",
        "INSERT INTO daily_dose_counters (province_code, area_code, area_path, product_code, dose_number, day, doses) \
         SELECT province_code, $1, $2, product_code, dose_number, day, doses FROM daily_dose_counters \
         WHERE province_code = $3 AND area_code = $4 \
         ON CONFLICT (province_code, area_code, product_code, dose_number, day) DO UPDATE SET \
         doses = daily_dose_counters.doses + excluded.doses",
        "DELETE FROM daily_dose_counters WHERE province_code = $3 AND area_code = $4 AND $1 <> $2",
        "INSERT INTO dose_counters (province_code, area_code, area_path, product_code, dose_number, doses) \
         SELECT province_code, $1, $2, product_code, dose_number, doses FROM dose_counters \
         WHERE province_code = $3 AND area_code = $4 \
         ON CONFLICT (province_code, area_code, product_code, dose_number) DO UPDATE SET \
         doses = dose_counters.doses + excluded.doses",
        "DELETE FROM dose_counters WHERE province_code = $3 AND area_code = $4 AND $1 <> $2",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(into)
            .bind(into_path)
            .bind(province)
            .bind(from)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Area grants held at `from` are held at `into` (its staff now work
/// there); a grant already held there is kept once.
async fn move_grants(
    tx: &mut Transaction<'static, Any>,
    from: &str,
    into: &str,
) -> Result<(), StoreError> {
    let held = sqlx::query("SELECT user_id, role FROM grants WHERE scope = $1")
        .bind(from)
        .fetch_all(&mut **tx)
        .await?;
    for r in &held {
        let user: String = r.try_get("user_id")?;
        let role: String = r.try_get("role")?;
        let area_role = vaxgrid_core::access::Role::parse(&role)
            .is_some_and(|r| r.scope_kind() == vaxgrid_core::access::ScopeKind::Area);
        if !area_role {
            continue;
        }
        sqlx::query(
            "INSERT INTO grants (user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT (user_id, role, scope) DO NOTHING",
        )
        .bind(&user)
        .bind(&role)
        .bind(into)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM grants WHERE user_id = $1 AND role = $2 AND scope = $3")
            .bind(&user)
            .bind(&role)
            .bind(from)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Every row of province `from` becomes province `into`'s. Two persons (or
/// identifiers) holding one document number cannot share a province: the
/// merge is refused, naming them, with nothing written.
async fn merge_provinces(
    tx: &mut Transaction<'static, Any>,
    from: &str,
    into: &str,
) -> Result<(), StoreError> {
    let clash = sqlx::query(
        "SELECT a.id AS a, b.id AS b FROM persons a JOIN persons b \
         ON a.id_number = b.id_number AND a.id_type = b.id_type \
         WHERE a.province_code = $1 AND b.province_code = $2 AND a.id_type <> 'none' LIMIT 1",
    )
    .bind(from)
    .bind(into)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = clash {
        let (a, b): (String, String) = (r.try_get("a")?, r.try_get("b")?);
        return Err(StoreError::Conflict {
            field: "change.sources",
            message: format!(
                "persons {a} and {b} hold the same ID document in the two provinces; merge the duplicates first"
            ),
            existing: Some(format!("/api/v1/persons/{b}")),
        });
    }
    sqlx::query(
        "DELETE FROM isolation_policies WHERE province_code = $1 \
         AND EXISTS (SELECT 1 FROM isolation_policies p WHERE p.province_code = $2)",
    )
    .bind(from)
    .bind(into)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE isolation_policies SET province_code = $1 WHERE province_code = $2")
        .bind(into)
        .bind(from)
        .execute(&mut **tx)
        .await?;
    for table in PROVINCE_TABLES {
        sqlx::query(&format!(
            "UPDATE {table} SET province_code = $1 WHERE province_code = $2"
        ))
        .bind(into)
        .bind(from)
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::Conflict {
            field: "change.sources",
            message: format!("rows of {table} of the two provinces collide: {e}"),
            existing: None,
        })?;
    }
    Ok(())
}

/// A reorganisation is recorded on or after the day it takes effect, and
/// says why: its reason, trimmed.
fn checked_reason(new: &NewReorganisation, today: time::Date) -> Result<String, StoreError> {
    if new.effective_on > today {
        return Err(StoreError::invalid(
            "effective_on",
            "a reorganisation is recorded on or after the day it takes effect",
        ));
    }
    let reason = new.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(StoreError::invalid(
            "reason",
            "say why (the decree or decision), 1 to 500 characters",
        ));
    }
    Ok(reason)
}

/// Every area with its name, in path order.
async fn tree_in(
    tx: &mut Transaction<'static, Any>,
) -> Result<Vec<(TreeArea, String)>, StoreError> {
    sqlx::query("SELECT code, parent_code, path, name FROM areas ORDER BY path")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                TreeArea {
                    code: r.try_get("code")?,
                    parent_code: r.try_get("parent_code")?,
                    path: r.try_get("path")?,
                },
                r.try_get("name")?,
            ))
        })
        .collect()
}
