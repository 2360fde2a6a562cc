//! The area tree.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use vaxgrid_core::area::{depth_of_path, place_area, AreaLevel, AreaLevels, LevelDef};

use crate::audit::{self, AuditEntry};
use crate::db::value_rows;
use crate::error::StoreError;
use crate::model::{Area, NewArea, Page};
use crate::Store;

pub(crate) const COLUMNS: &str = "code, parent_code, level, name, name_en, path";

pub(crate) fn area_from_row(row: &AnyRow) -> Result<Area, StoreError> {
    let level: String = row.try_get("level")?;
    Ok(Area {
        code: row.try_get("code")?,
        parent_code: row.try_get("parent_code")?,
        level: AreaLevel::from(level),
        name: row.try_get("name")?,
        name_en: row.try_get("name_en")?,
        path: row.try_get("path")?,
    })
}

impl Store {
    /// The deployment's levels, top first. Read each time (a few rows):
    /// every server of a deployment sees a change at once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn area_levels(&self) -> Result<AreaLevels, StoreError> {
        let rows =
            sqlx::query("SELECT key, name_vi, name_zh, name_en FROM area_levels ORDER BY depth")
                .fetch_all(&self.pool)
                .await?;
        let levels = rows
            .iter()
            .map(|r| {
                Ok(LevelDef {
                    key: r.try_get("key")?,
                    name_vi: r.try_get("name_vi")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        AreaLevels::new(levels).map_err(|e| StoreError::invalid("levels", e.to_string()))
    }

    /// Configures the levels. Areas already made must fit: none deeper
    /// than the new tree; each keeps its depth and takes the new level
    /// of that depth (a tree losing a level in a reform is reorganised
    /// first: its areas moved up, see `reorganise`). Audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_area_levels(
        &self,
        levels: AreaLevels,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<AreaLevels, StoreError> {
        let actor: crate::model::Actor = actor.into();
        let mut tx = self.begin_write().await?;
        let deepest = sqlx::query("SELECT path FROM areas")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("path").map(|p| depth_of_path(&p)))
            .try_fold(None::<usize>, |m, d| {
                d.map(|d| Some(m.map_or(d, |m: usize| m.max(d))))
            })?;
        if let Some(d) = deepest {
            if d >= levels.len() {
                return Err(StoreError::invalid(
                    "levels",
                    format!(
                        "the tree already has areas {} levels deep; give at least {} levels or reorganise those areas first",
                        d + 1,
                        d + 1
                    ),
                ));
            }
        }
        let old: Vec<String> = sqlx::query("SELECT key FROM area_levels ORDER BY depth")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("key"))
            .collect::<Result<_, _>>()?;
        // Keys may trade depths (old "commune" becomes new "district"), so
        // every area is first marked, then given its depth's new key.
        sqlx::query("UPDATE areas SET level = '~' || level")
            .execute(&mut *tx)
            .await?;
        for (depth, key) in old.iter().enumerate() {
            let Some(new) = levels.at(depth) else {
                continue;
            };
            sqlx::query("UPDATE areas SET level = $1 WHERE level = $2")
                .bind(&new.key)
                .bind(format!("~{key}"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM area_levels")
            .execute(&mut *tx)
            .await?;
        for (depth, l) in levels.all().iter().enumerate() {
            sqlx::query(
                "INSERT INTO area_levels (depth, key, name_vi, name_zh, name_en) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(depth as i64)
            .bind(&l.key)
            .bind(&l.name_vi)
            .bind(&l.name_zh)
            .bind(&l.name_en)
            .execute(&mut *tx)
            .await?;
        }
        let entry = AuditEntry::by(
            &actor,
            "configure",
            "area_levels",
            "",
            serde_json::json!({"before": old, "levels": levels.all()}),
        );
        audit::append(&mut tx, self.backend, &[entry]).await?;
        tx.commit().await?;
        Ok(levels)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn area(&self, code: &str) -> Result<Area, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM areas WHERE code = $1"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "area",
                field: "area",
                key: code.to_string(),
            })?;
        area_from_row(&row)
    }

    /// Children of `parent` (the provinces when `None`), ordered by code,
    /// after the cursor `after`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn area_children(
        &self,
        parent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Area>, StoreError> {
        if let Some(p) = parent {
            self.area(p).await?;
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM areas WHERE (parent_code = $1 OR ($1 IS NULL AND parent_code IS NULL)) \
             AND code > $2 ORDER BY code LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(parent)
            .bind(after.unwrap_or(""))
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let areas = rows
            .iter()
            .map(area_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(areas, limit, |a| a.code.clone()))
    }

    /// All areas in path order (parents before children).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_areas(&self) -> Result<Vec<Area>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM areas ORDER BY path"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(area_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_area(
        &self,
        new: NewArea,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Area, StoreError> {
        let created = self.create_areas(vec![new], actor).await?;
        Ok(created.into_iter().next().expect("one area in, one out"))
    }

    /// Creates areas in one transaction, all or nothing. Parents may be
    /// earlier rows of the same call. Errors name the 1-based row.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_areas(
        &self,
        news: Vec<NewArea>,
        actor: impl Into<crate::model::Actor>,
    ) -> Result<Vec<Area>, StoreError> {
        let actor: crate::model::Actor = actor.into();
        let levels = self.area_levels().await?;
        let mut known: HashMap<String, Area> = self
            .all_areas()
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();
        let mut placed = Vec::with_capacity(news.len());
        let many = news.len() > 1;
        for (i, new) in news.into_iter().enumerate() {
            let area = place_new_area(new, many.then_some(i + 1), &known, &levels)?;
            known.insert(area.code.clone(), area.clone());
            placed.push(area);
        }
        let mut tx = self.begin_write().await?;
        for chunk in placed.chunks(500) {
            let sql = format!(
                "INSERT INTO areas ({COLUMNS}) VALUES {}",
                value_rows(chunk.len(), 6)
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q
                    .bind(&a.code)
                    .bind(&a.parent_code)
                    .bind(a.level.as_str())
                    .bind(&a.name)
                    .bind(&a.name_en)
                    .bind(&a.path);
            }
            q.execute(&mut *tx).await?;
        }
        let entries: Vec<_> = placed
            .iter()
            .map(|a| {
                AuditEntry::by(
                    &actor,
                    "create",
                    "area",
                    &a.code,
                    serde_json::json!({"path": a.path}),
                )
            })
            .collect();
        audit::append(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(placed)
    }
}

/// Checks a new area against the `known` ones (its code free, its parent
/// known) and places it in the tree. `row` is its 1-based row when several
/// are created at once, named in the errors.
fn place_new_area(
    new: NewArea,
    row: Option<usize>,
    known: &HashMap<String, Area>,
    levels: &AreaLevels,
) -> Result<Area, StoreError> {
    let at = |field: &str| match row {
        Some(r) => format!("row {r}: {field}"),
        None => field.to_string(),
    };
    if known.contains_key(&new.code) {
        return Err(StoreError::Conflict {
            field: "code",
            message: format!(
                "{}area {} already exists",
                row.map_or(String::new(), |r| format!("row {r}: ")),
                new.code
            ),
            existing: Some(format!("/api/v1/areas/{}", new.code)),
        });
    }
    let parent = match &new.parent_code {
        Some(p) => Some(known.get(p).ok_or_else(|| {
            StoreError::invalid(
                at("parent_code"),
                format!("parent area '{p}' does not exist"),
            )
        })?),
        None => None,
    };
    let path = place_area(
        &new.code,
        &new.name,
        &new.level,
        parent.map(|p| p.path.as_str()),
        levels,
    )
    .map_err(|e| {
        let field = match e {
            vaxgrid_core::area::AreaError::BadCode => "code",
            vaxgrid_core::area::AreaError::EmptyName => "name",
            vaxgrid_core::area::AreaError::UnknownLevel(..) => "level",
            _ => "parent_code",
        };
        StoreError::invalid(at(field), e.to_string())
    })?;
    Ok(Area {
        code: new.code,
        parent_code: new.parent_code,
        level: new.level,
        name: new.name.trim().to_string(),
        name_en: new.name_en.trim().to_string(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_area(code: &str, parent: Option<&str>) -> NewArea {
        NewArea {
            code: code.into(),
            parent_code: parent.map(str::to_string),
            level: "province".into(),
            name: " Hà Nội ".into(),
            name_en: "Ha Noi".into(),
        }
    }

    #[test]
    fn errors_name_the_row_only_when_several_areas_are_created() {
        let levels = AreaLevels::default();
        let hn = place_new_area(new_area("01", None), None, &HashMap::new(), &levels).unwrap();
        assert_eq!(hn.name, "Hà Nội");
        let known = HashMap::from([("01".to_string(), hn)]);
        let again = place_new_area(new_area("01", None), Some(3), &known, &levels).unwrap_err();
        assert_eq!(again.to_string(), "row 3: area 01 already exists");
        let again = place_new_area(new_area("01", None), None, &known, &levels).unwrap_err();
        assert_eq!(again.to_string(), "area 01 already exists");
        let orphan =
            place_new_area(new_area("02", Some("99")), Some(2), &known, &levels).unwrap_err();
        assert_eq!(
            orphan.to_string(),
            "row 2: parent_code: parent area '99' does not exist"
        );
    }
}
