//! A provincial plan's sites and sessions in bulk: thousands of sites (with
//! their stations and daily capacity) and of sessions, each imported in one
//! transaction, all rows or none. Every row is checked as the single create
//! checks it (`create_site`, `open_session`), and against the other rows of
//! the file (a code or an id given twice, sessions of one site overlapping);
//! the errors name the row and the field.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use vaxgrid_core::area::{depth_of_path, AreaLevels};
use vaxgrid_core::schedule::{overlaps, plan_slots};

use crate::audit::{self, AuditEntry};
use crate::db::{existing_keys, json_rows, params, Backend, Col};
use crate::error::StoreError;
use crate::model::{Actor, Site};
use crate::persons::RowError;
use crate::scheduling::NewSession;
use crate::Store;

/// Keys per `IN (…)` lookup.
const LOOKUP: usize = 500;
/// Rows per JSON insert (one parameter each).
const INSERT: usize = 5_000;

/// What a bulk import did: the rows written, or the rows refused (then
/// nothing was written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanImported {
    /// Sites or sessions created.
    pub imported: usize,
    /// Slots created (sessions only).
    pub slots: Option<usize>,
    pub errors: Vec<RowError>,
}

/// Whether to write the rows when they are all good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    /// All rows or none.
    AllOrNothing,
    /// Write nothing; list the bad rows (the caller found others bad
    /// before the rows reached the store, and the answer lists them all).
    CheckOnly,
}

fn row_error(row: usize, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        field: field.to_string(),
        message: message.into(),
    }
}

/// The paths of those of `codes` that are areas.
async fn area_paths(
    tx: &mut Transaction<'static, Any>,
    codes: &HashSet<&str>,
) -> Result<HashMap<String, String>, StoreError> {
    paths_by_code(tx, "SELECT code, path FROM areas WHERE code", codes).await
}

/// The sites among `codes` with the path of their area.
async fn site_paths(
    tx: &mut Transaction<'static, Any>,
    codes: &HashSet<&str>,
) -> Result<HashMap<String, String>, StoreError> {
    paths_by_code(
        tx,
        "SELECT s.code, a.path FROM sites s JOIN areas a ON a.code = s.area_code WHERE s.code",
        codes,
    )
    .await
}

/// `select` (code and path columns, ending at the code it filters on) for
/// `codes`, in chunks of [`LOOKUP`] parameters.
async fn paths_by_code(
    tx: &mut Transaction<'static, Any>,
    select: &str,
    codes: &HashSet<&str>,
) -> Result<HashMap<String, String>, StoreError> {
    let codes: Vec<&str> = codes.iter().copied().collect();
    let mut found = HashMap::new();
    for chunk in codes.chunks(LOOKUP) {
        let sql = format!("{select} IN ({})", params(1, chunk.len()));
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(*c);
        }
        for r in q.fetch_all(&mut **tx).await? {
            found.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    Ok(found)
}

/// A session's opening hours that day and what to call it in an error.
type Opening = (time::Time, time::Time, String);

fn hhmm(t: time::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

impl Store {
    /// Imports sites (1-based file rows with their site) in one
    /// transaction. A row is refused naming its field: the site's own
    /// fields as `create_site` checks them, a code already taken or given
    /// on an earlier row, an area that does not exist or lies outside the
    /// caller's areas (worded alike). Any bad row: nothing is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_sites(
        &self,
        rows: &[(usize, Site)],
        mode: PlanMode,
        actor: &Actor,
    ) -> Result<PlanImported, StoreError> {
        let mut errors = check_site_rows(rows);
        let mut tx = self.begin_write().await?;
        let codes: HashSet<&str> = rows.iter().map(|(_, s)| s.code.as_str()).collect();
        let taken = existing_keys(&mut tx, "sites", "code", &codes, LOOKUP).await?;
        let areas: HashSet<&str> = rows.iter().map(|(_, s)| s.area_code.as_str()).collect();
        let paths = area_paths(&mut tx, &areas).await?;
        errors.extend(check_site_references(rows, &taken, &paths, actor));
        errors.sort_by_key(|e| e.row);
        if !errors.is_empty() || mode == PlanMode::CheckOnly {
            tx.rollback().await?;
            return Ok(PlanImported {
                errors,
                ..PlanImported::default()
            });
        }
        if insert_sites(&mut tx, self.backend, rows).await? != rows.len() {
            // Another writer took a code between the check and the insert.
            tx.rollback().await?;
            return Err(StoreError::Conflict {
                field: "code",
                message: "a site of the file was created meanwhile; nothing was imported"
                    .to_string(),
                existing: None,
            });
        }
        let entries: Vec<AuditEntry> = rows
            .iter()
            .map(|(_, s)| {
                AuditEntry::by(
                    actor,
                    "create",
                    "site",
                    &s.code,
                    serde_json::to_value(s).unwrap_or_default(),
                )
            })
            .collect();
        audit::append(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(PlanImported {
            imported: rows.len(),
            slots: None,
            errors: Vec::new(),
        })
    }

    /// Imports sessions (1-based file rows with their session) and their
    /// slots in one transaction. A row is refused naming its field as
    /// `open_session` refuses it: a site outside the caller's areas (or
    /// none), a village that is not a leaf of the tree, a day in the past,
    /// closing before opening, no capacity, a session overlapping another
    /// of its site that day (stored or on an earlier row), and an id taken
    /// or given twice. Any bad row: nothing is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_sessions(
        &self,
        rows: &[(usize, NewSession)],
        mode: PlanMode,
        actor: &Actor,
    ) -> Result<PlanImported, StoreError> {
        let levels = self.area_levels().await?;
        let (planned, mut errors) = plan_sessions(rows, self.today());
        let mut tx = self.begin_write().await?;
        let stored = StoredForSessions::read(&mut tx, rows).await?;
        for (row, new) in rows {
            errors.extend(stored.refusals(*row, new, &levels, actor));
        }
        errors.extend(overlapping_sessions(rows, stored.days));
        errors.sort_by_key(|e| e.row);
        if !errors.is_empty() || mode == PlanMode::CheckOnly {
            tx.rollback().await?;
            return Ok(PlanImported {
                errors,
                ..PlanImported::default()
            });
        }
        let written = insert_sessions(&mut tx, self.backend, rows, self.now_micros()).await?;
        if written != rows.len() {
            tx.rollback().await?;
            return Err(StoreError::Conflict {
                field: "id",
                message: "a session of the file was created meanwhile; nothing was imported"
                    .to_string(),
                existing: None,
            });
        }
        let slots = insert_slots(&mut tx, self.backend, rows, &planned).await?;
        let entries: Vec<AuditEntry> = rows
            .iter()
            .zip(&planned)
            .map(|((_, n), s)| {
                AuditEntry::by(
                    actor,
                    "create",
                    "session",
                    &n.id,
                    serde_json::json!({"site_code": n.site_code, "day": crate::format_date(n.plan.day), "slots": s.len(), "import": true}),
                )
            })
            .collect();
        audit::append(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(PlanImported {
            imported: rows.len(),
            slots: Some(slots),
            errors: Vec::new(),
        })
    }
}

/// The slots of each row's session (none where its plan is refused), and
/// the refusals that need no database: the plan's own rules and an id
/// given twice.
fn plan_sessions(
    rows: &[(usize, NewSession)],
    today: time::Date,
) -> (Vec<Vec<(time::Time, u32)>>, Vec<RowError>) {
    let mut errors = Vec::new();
    let mut planned = Vec::with_capacity(rows.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (row, new) in rows {
        match plan_slots(&new.plan, today) {
            Ok(slots) => planned.push(slots),
            Err(e) => {
                errors.push(row_error(*row, e.field(), e.to_string()));
                planned.push(Vec::new());
            }
        }
        if let Some(first) = seen.insert(new.id.as_str(), *row) {
            errors.push(row_error(
                *row,
                "id",
                format!("session {} is also on row {first}", new.id),
            ));
        }
    }
    (planned, errors)
}

/// What the rows of a sessions file are checked against in the database.
struct StoredForSessions {
    /// Ids already taken.
    taken: HashSet<String>,
    /// The path of each site's area, by site code.
    sites: HashMap<String, String>,
    /// The path of each village named, by code.
    villages: HashMap<String, String>,
    /// The sessions already open at the file's sites from the file's
    /// first day on, by site and day.
    days: HashMap<(String, String), Vec<Opening>>,
}

impl StoredForSessions {
    async fn read(
        tx: &mut Transaction<'static, Any>,
        rows: &[(usize, NewSession)],
    ) -> Result<StoredForSessions, StoreError> {
        let ids: HashSet<&str> = rows.iter().map(|(_, n)| n.id.as_str()).collect();
        let taken = existing_keys(tx, "vaccination_sessions", "id", &ids, LOOKUP).await?;
        let codes: HashSet<&str> = rows.iter().map(|(_, n)| n.site_code.as_str()).collect();
        let sites = site_paths(tx, &codes).await?;
        let villages: HashSet<&str> = rows
            .iter()
            .filter_map(|(_, n)| n.village_code.as_deref())
            .collect();
        let villages = area_paths(tx, &villages).await?;
        let first_day = rows
            .iter()
            .map(|(_, n)| n.plan.day)
            .min()
            .map(crate::format_date);
        let days = match &first_day {
            Some(first_day) => openings_from(tx, &codes, first_day).await?,
            None => HashMap::new(),
        };
        Ok(StoredForSessions {
            taken,
            sites,
            villages,
            days,
        })
    }

    /// A row's refusals against the stored ids, sites and villages.
    fn refusals(
        &self,
        row: usize,
        new: &NewSession,
        levels: &AreaLevels,
        actor: &Actor,
    ) -> Vec<RowError> {
        let mut errors = Vec::new();
        if self.taken.contains(&new.id) {
            errors.push(row_error(
                row,
                "id",
                format!("session {} already exists", new.id),
            ));
        }
        let in_scope = self
            .sites
            .get(&new.site_code)
            .is_some_and(|p| actor.scope.covers_path(p));
        if !in_scope {
            errors.push(row_error(
                row,
                "site_code",
                format!("no site {} in your areas", new.site_code),
            ));
        }
        if let Some(v) = &new.village_code {
            match self.villages.get(v) {
                None => errors.push(row_error(
                    row,
                    "village_code",
                    format!("area '{v}' does not exist"),
                )),
                Some(p) if depth_of_path(p) != levels.leaf_depth() => errors.push(row_error(
                    row,
                    "village_code",
                    format!(
                        "{v} is not one of the {}",
                        levels
                            .at(levels.leaf_depth())
                            .map_or("", |l| l.name_en.as_str())
                    ),
                )),
                Some(_) => {}
            }
        }
        errors
    }
}

/// The sessions open at the sites of `codes` on `first_day` or later,
/// by site and day.
async fn openings_from(
    tx: &mut Transaction<'static, Any>,
    codes: &HashSet<&str>,
    first_day: &str,
) -> Result<HashMap<(String, String), Vec<Opening>>, StoreError> {
    let parse =
        |t: &str| time::Time::parse(t, time::macros::format_description!("[hour]:[minute]"));
    let mut days: HashMap<(String, String), Vec<Opening>> = HashMap::new();
    let codes: Vec<&str> = codes.iter().copied().collect();
    for chunk in codes.chunks(LOOKUP) {
        let sql = format!(
            "SELECT id, site_code, day, opens, closes FROM vaccination_sessions WHERE day >= $1 AND site_code IN ({})",
            params(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(first_day);
        for c in chunk {
            q = q.bind(*c);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let (opens, closes): (String, String) = (r.try_get("opens")?, r.try_get("closes")?);
            if let (Ok(o), Ok(c)) = (parse(&opens), parse(&closes)) {
                let id: String = r.try_get("id")?;
                days.entry((r.try_get("site_code")?, r.try_get("day")?))
                    .or_default()
                    .push((o, c, format!("session {id}")));
            }
        }
    }
    Ok(days)
}

/// The rows whose session overlaps another of its site that day: one
/// stored (`days`) or on an earlier row.
fn overlapping_sessions(
    rows: &[(usize, NewSession)],
    mut days: HashMap<(String, String), Vec<Opening>>,
) -> Vec<RowError> {
    let mut errors = Vec::new();
    for (row, new) in rows {
        let span = (new.plan.opens, new.plan.closes);
        if span.0 >= span.1 {
            // Refused already (closes before opening): it holds no time.
            continue;
        }
        let key = (new.site_code.clone(), crate::format_date(new.plan.day));
        let same_day = days.entry(key).or_default();
        if let Some((o, c, what)) = same_day.iter().find(|(o, c, _)| overlaps(span, (*o, *c))) {
            errors.push(row_error(
                *row,
                "opens",
                format!(
                    "the session overlaps {what} of this site ({}–{})",
                    hhmm(*o),
                    hhmm(*c)
                ),
            ));
        } else {
            same_day.push((span.0, span.1, format!("the session of row {row}")));
        }
    }
    errors
}

/// Inserts the rows' sessions (an id taken meanwhile is skipped); how
/// many were written.
async fn insert_sessions(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(usize, NewSession)],
    now: i64,
) -> Result<usize, StoreError> {
    let session_sql = format!(
        "INSERT INTO vaccination_sessions (id, site_code, day, opens, closes, stations, per_station_per_hour, slot_minutes, village_code, created_at) {} ON CONFLICT (id) DO NOTHING",
        json_rows(
            backend,
            1,
            &[
                Col::Text,
                Col::Text,
                Col::Text,
                Col::Text,
                Col::Text,
                Col::Int,
                Col::Int,
                Col::Int,
                Col::Text,
                Col::Int
            ]
        )
    );
    let mut written = 0;
    for chunk in rows.chunks(INSERT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|(_, n)| {
                serde_json::json!([
                    n.id,
                    n.site_code,
                    crate::format_date(n.plan.day),
                    hhmm(n.plan.opens),
                    hhmm(n.plan.closes),
                    n.plan.stations,
                    n.plan.per_station_per_hour,
                    n.plan.slot_minutes,
                    n.village_code,
                    now
                ])
            })
            .collect();
        written += sqlx::query(&session_sql)
            .bind(serde_json::Value::Array(json).to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected() as usize;
    }
    Ok(written)
}

/// Inserts the slots planned for each row's session; how many.
async fn insert_slots(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(usize, NewSession)],
    planned: &[Vec<(time::Time, u32)>],
) -> Result<usize, StoreError> {
    let slots: Vec<serde_json::Value> = rows
        .iter()
        .zip(planned)
        .flat_map(|((_, n), slots)| {
            let day = crate::format_date(n.plan.day);
            slots.iter().map(move |(t, cap)| {
                serde_json::json!([n.id, format!("{day}T{}", hhmm(*t)), cap, 0])
            })
        })
        .collect();
    let slot_sql = format!(
        "INSERT INTO slots (session_id, starts_at, capacity, booked) {}",
        json_rows(backend, 1, &[Col::Text, Col::Text, Col::Int, Col::Int])
    );
    for chunk in slots.chunks(INSERT * 4) {
        sqlx::query(&slot_sql)
            .bind(serde_json::Value::Array(chunk.to_vec()).to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(slots.len())
}

/// One area a site serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatchmentArea {
    pub code: String,
    pub name: String,
    pub level: String,
}

/// The areas a site serves (empty: the subtree of its own area).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catchment {
    pub site_code: String,
    pub areas: Vec<CatchmentArea>,
}

impl Store {
    /// A site's catchment, by area code. The site must be in `scope`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn catchment(
        &self,
        site_code: &str,
        scope: &crate::scope::Scope,
    ) -> Result<Catchment, StoreError> {
        self.site_in(site_code, scope).await?;
        let rows = sqlx::query(
            "SELECT a.code, a.name, a.level FROM site_catchments c JOIN areas a ON a.code = c.area_code \
             WHERE c.site_code = $1 ORDER BY a.code",
        )
        .bind(site_code)
        .fetch_all(&self.pool)
        .await?;
        let areas = rows
            .iter()
            .map(|r| {
                Ok(CatchmentArea {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    level: r.try_get("level")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Catchment {
            site_code: site_code.to_string(),
            areas,
        })
    }

    /// The site and the path of its area, when the site is in `scope`
    /// (else absent, as for a site that does not exist).
    async fn site_in(
        &self,
        site_code: &str,
        scope: &crate::scope::Scope,
    ) -> Result<(Site, String), StoreError> {
        let absent = || StoreError::NotFound {
            entity: "site",
            field: "site_code",
            key: site_code.to_string(),
        };
        let site = self.site(site_code).await.map_err(|_| absent())?;
        let path = self.area(&site.area_code).await?.path;
        if !scope.covers_path(&path) {
            return Err(absent());
        }
        Ok((site, path))
    }

    /// Replaces a site's catchment with `areas` (an empty list: the site
    /// serves its own area's subtree again). Refused naming the field
    /// (`areas[i]`), with nothing written: an area that does not exist,
    /// one above the local level (a district, a province), one outside
    /// the site's province, more than `MAX_CATCHMENT` areas. A code given
    /// twice counts once. Audited with the catchment before and after.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_catchment(
        &self,
        site_code: &str,
        areas: &[String],
        actor: &Actor,
    ) -> Result<Catchment, StoreError> {
        use vaxgrid_core::site::{check_catchment_area, MAX_CATCHMENT};
        let (_, site_path) = self.site_in(site_code, &actor.scope).await?;
        if areas.len() > MAX_CATCHMENT {
            return Err(StoreError::invalid(
                "areas",
                format!("a catchment names at most {MAX_CATCHMENT} areas"),
            ));
        }
        let levels = self.area_levels().await?;
        let mut tx = self.begin_write().await?;
        let wanted: HashSet<&str> = areas.iter().map(String::as_str).collect();
        let paths = area_paths(&mut tx, &wanted).await?;
        let mut codes: Vec<&str> = Vec::new();
        for (i, code) in areas.iter().enumerate() {
            let field = format!("areas[{i}]");
            let Some(path) = paths.get(code) else {
                return Err(StoreError::invalid(
                    field,
                    format!("area '{code}' does not exist"),
                ));
            };
            check_catchment_area(&site_path, code, path, &levels)
                .map_err(|e| StoreError::invalid(field, e.to_string()))?;
            if !codes.contains(&code.as_str()) {
                codes.push(code.as_str());
            }
        }
        codes.sort_unstable();
        let before: Vec<String> = sqlx::query(
            "SELECT area_code FROM site_catchments WHERE site_code = $1 ORDER BY area_code",
        )
        .bind(site_code)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("area_code"))
        .collect::<Result<_, _>>()?;
        sqlx::query("DELETE FROM site_catchments WHERE site_code = $1")
            .bind(site_code)
            .execute(&mut *tx)
            .await?;
        if !codes.is_empty() {
            let json: Vec<serde_json::Value> = codes
                .iter()
                .map(|c| serde_json::json!([site_code, c]))
                .collect();
            sqlx::query(&format!(
                "INSERT INTO site_catchments (site_code, area_code) {}",
                json_rows(self.backend, 1, &[Col::Text, Col::Text])
            ))
            .bind(serde_json::Value::Array(json).to_string())
            .execute(&mut *tx)
            .await?;
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set_catchment",
                "site",
                site_code,
                serde_json::json!({"before": before, "areas": codes}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.catchment(site_code, &crate::scope::Scope::All).await
    }

    /// The daily capacity of the sites serving each of `areas` (code,
    /// path), by code: a site with a catchment serves the areas it names
    /// (and those containing or inside them), one without serves its own
    /// area's subtree (`vaxgrid_core::site::serves`). A site serving
    /// several areas counts in full in each: the places it offers each of
    /// them, not a share; in an area containing several it counts once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn site_capacity_of(
        &self,
        areas: &[(&str, &str)],
    ) -> Result<HashMap<String, i64>, StoreError> {
        use vaxgrid_core::area::{province_of_path, subtree_upper_bound};
        let mut out = HashMap::new();
        let provinces: HashSet<&str> = areas.iter().map(|(_, p)| province_of_path(p)).collect();
        for province in provinces {
            let root = format!("/{province}/");
            let upper = subtree_upper_bound(&root);
            // The province's sites (a catchment lies in its site's province).
            let sites = sqlx::query(
                "SELECT s.code, s.daily_capacity, a.path FROM sites s JOIN areas a ON a.code = s.area_code \
                 WHERE a.path >= $1 AND a.path < $2",
            )
            .bind(&root)
            .bind(&upper)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("code")?,
                    r.try_get::<i64, _>("daily_capacity")?,
                    r.try_get::<String, _>("path")?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
            let mut catchments: HashMap<String, Vec<String>> = HashMap::new();
            for r in sqlx::query(
                "SELECT c.site_code, ca.path FROM site_catchments c JOIN areas ca ON ca.code = c.area_code \
                 JOIN sites s ON s.code = c.site_code JOIN areas a ON a.code = s.area_code \
                 WHERE a.path >= $1 AND a.path < $2",
            )
            .bind(&root)
            .bind(&upper)
            .fetch_all(&self.pool)
            .await?
            {
                catchments
                    .entry(r.try_get("site_code")?)
                    .or_default()
                    .push(r.try_get("path")?);
            }
            let none = Vec::new();
            for (code, path) in areas
                .iter()
                .filter(|(_, p)| province_of_path(p) == province)
            {
                let mut total = 0i64;
                for (site, capacity, site_path) in &sites {
                    let catchment = catchments.get(site).unwrap_or(&none);
                    if vaxgrid_core::site::serves(site_path, catchment, path) {
                        total += capacity;
                    }
                }
                out.insert(code.to_string(), total);
            }
        }
        Ok(out)
    }
}

/// Checks each site row on its own (as `create_site` does) and against
/// the earlier rows (a code given twice).
fn check_site_rows(rows: &[(usize, Site)]) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (row, site) in rows {
        if let Err((field, message)) = crate::catalog::check_site(site) {
            errors.push(row_error(*row, field, message));
        }
        if let Some(first) = seen.insert(site.code.as_str(), *row) {
            errors.push(row_error(
                *row,
                "code",
                format!("site {} is also on row {first}", site.code),
            ));
        }
    }
    errors
}

/// Refuses the site rows whose code is `taken` or whose area is not among
/// `paths` (area code → path) within the caller's areas, worded alike.
fn check_site_references(
    rows: &[(usize, Site)],
    taken: &HashSet<String>,
    paths: &HashMap<String, String>,
    actor: &Actor,
) -> Vec<RowError> {
    let mut errors = Vec::new();
    for (row, site) in rows {
        if taken.contains(&site.code) {
            errors.push(row_error(
                *row,
                "code",
                format!("site {} already exists", site.code),
            ));
        }
        let in_scope = paths
            .get(&site.area_code)
            .is_some_and(|p| actor.scope.covers_path(p));
        if !in_scope {
            errors.push(row_error(
                *row,
                "area_code",
                format!("no area {} in your areas", site.area_code),
            ));
        }
    }
    errors
}

/// Writes the sites, `INSERT` rows a statement, a code taken meanwhile
/// passed over: the number written.
async fn insert_sites(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(usize, Site)],
) -> Result<usize, StoreError> {
    let sql = format!(
        "INSERT INTO sites (code, name, kind, area_code, stations, daily_capacity) {} ON CONFLICT (code) DO NOTHING",
        json_rows(
            backend,
            1,
            &[Col::Text, Col::Text, Col::Text, Col::Text, Col::Int, Col::Int]
        )
    );
    let mut written = 0;
    for chunk in rows.chunks(INSERT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|(_, s)| {
                serde_json::json!([
                    s.code,
                    s.name.trim(),
                    s.kind.as_str(),
                    s.area_code,
                    s.stations,
                    s.daily_capacity
                ])
            })
            .collect();
        written += sqlx::query(&sql)
            .bind(serde_json::Value::Array(json).to_string())
            .execute(&mut **tx)
            .await?
            .rows_affected() as usize;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SiteKind;

    fn site(code: &str, area_code: &str) -> Site {
        Site {
            code: code.into(),
            name: "Trạm Y tế".into(),
            kind: SiteKind::CommuneHealthStation,
            area_code: area_code.into(),
            stations: 2,
            daily_capacity: 200,
        }
    }

    #[test]
    fn a_site_code_given_twice_is_refused_on_its_later_row() {
        let rows = [
            (1, site("S1", "A1")),
            (2, site("S2", "A1")),
            (3, site("S1", "A1")),
        ];
        assert_eq!(
            check_site_rows(&rows),
            vec![row_error(3, "code", "site S1 is also on row 1")]
        );
    }

    #[test]
    fn a_taken_code_and_an_unknown_area_are_refused_by_field() {
        let rows = [(1, site("S1", "A1")), (2, site("S2", "A9"))];
        let taken = HashSet::from(["S1".to_string()]);
        let paths = HashMap::from([("A1".to_string(), "/A1/".to_string())]);
        let errors = check_site_references(&rows, &taken, &paths, &Actor::system("admin"));
        assert_eq!(
            errors,
            vec![
                row_error(1, "code", "site S1 already exists"),
                row_error(2, "area_code", "no area A9 in your areas"),
            ]
        );
    }
}
