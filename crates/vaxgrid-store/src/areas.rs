//! The area tree.

use sqlx::any::AnyRow;
use sqlx::Row;
use vaxgrid_core::area::{place_area, AreaLevel};

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
        level: AreaLevel::parse(&level).ok_or_else(|| {
            StoreError::invalid("level", format!("stored level '{level}' is unknown"))
        })?,
        name: row.try_get("name")?,
        name_en: row.try_get("name_en")?,
        path: row.try_get("path")?,
    })
}

impl Store {
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
        let mut known: std::collections::HashMap<String, Area> = self
            .all_areas()
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();
        let mut placed = Vec::with_capacity(news.len());
        let many = news.len() > 1;
        for (i, new) in news.into_iter().enumerate() {
            let at = |field: &str| {
                if many {
                    format!("row {}: {field}", i + 1)
                } else {
                    field.to_string()
                }
            };
            if known.contains_key(&new.code) {
                return Err(StoreError::Conflict {
                    field: "code",
                    message: format!(
                        "{}area {} already exists",
                        if many {
                            format!("row {}: ", i + 1)
                        } else {
                            String::new()
                        },
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
                new.level,
                parent.map(|p| (p.level, p.path.as_str())),
            )
            .map_err(|e| {
                let field = match e {
                    vaxgrid_core::area::AreaError::BadCode => "code",
                    vaxgrid_core::area::AreaError::EmptyName => "name",
                    _ => "parent_code",
                };
                StoreError::invalid(at(field), e.to_string())
            })?;
            let area = Area {
                code: new.code,
                parent_code: new.parent_code,
                level: new.level,
                name: new.name.trim().to_string(),
                name_en: new.name_en.trim().to_string(),
                path,
            };
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
