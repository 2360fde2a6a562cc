//! The data-quality report of an area: persons (merged records aside) per
//! check of `vaxgrid_core::data_quality` — likely duplicates, missing
//! phone, missing ID, implausible dates, no home village — for the area and
//! each child, and the persons behind each count in pages. Every check is
//! one SQL condition on `persons p`, so counts and lists cannot disagree.

use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::data_quality::{earliest_birth, Check};

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::model::{Actor, Area, Page};
use crate::paging::PageRequest;
use crate::scope::Scope;
use crate::Store;

/// Persons per check in one area (the report's area or a child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityRow {
    pub area_code: String,
    pub area_name: String,
    /// Persons living there (merged records aside).
    pub persons: i64,
    pub likely_duplicate: i64,
    pub missing_phone: i64,
    pub missing_id: i64,
    pub implausible_dates: i64,
    pub no_home_village: i64,
}

impl QualityRow {
    pub fn count(&self, check: Check) -> i64 {
        match check {
            Check::LikelyDuplicate => self.likely_duplicate,
            Check::MissingPhone => self.missing_phone,
            Check::MissingId => self.missing_id,
            Check::ImplausibleDates => self.implausible_dates,
            Check::NoHomeVillage => self.no_home_village,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityReport {
    /// The checks as of this day (birth and dose dates after it are
    /// implausible).
    pub as_of: String,
    pub area: QualityRow,
    pub children: Vec<QualityRow>,
}

/// A person behind a count, with every check they fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityPerson {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub home_area: String,
    pub problems: Vec<&'static str>,
}

/// The SQL condition of a check on `persons p`; `$today` and `$earliest`
/// are the bind numbers of today and the earliest plausible birth date.
fn condition(check: Check, today: usize, earliest: usize) -> String {
    match check {
        Check::LikelyDuplicate => "(EXISTS (SELECT 1 FROM persons q WHERE q.province_code = p.province_code \
             AND q.folded_name = p.folded_name AND q.birth_date = p.birth_date \
             AND q.commune_code = p.commune_code AND q.id <> p.id AND q.merged_into IS NULL \
             AND NOT EXISTS (SELECT 1 FROM duplicate_candidates x WHERE x.decision IS NOT NULL \
              AND ((x.person_a = p.id AND x.person_b = q.id) OR (x.person_a = q.id AND x.person_b = p.id)))) \
             OR EXISTS (SELECT 1 FROM duplicate_candidates y WHERE y.person_a = p.id AND y.decision IS NULL) \
             OR EXISTS (SELECT 1 FROM duplicate_candidates z WHERE z.person_b = p.id AND z.decision IS NULL))"
            .to_string(),
        Check::MissingPhone => "(p.phone IS NULL OR p.phone = '')".to_string(),
        Check::MissingId => "(p.id_type = 'none' AND NOT EXISTS (SELECT 1 FROM person_identifiers i \
             WHERE i.person_id = p.id AND i.province_code = p.province_code))"
            .to_string(),
        Check::ImplausibleDates => format!(
            "(p.birth_date > ${today} OR p.birth_date < ${earliest} OR EXISTS (SELECT 1 FROM doses d \
             WHERE d.person_id = p.id AND d.province_code = p.province_code \
             AND d.kind <> 'entered_in_error' AND d.administered_on <> '' \
             AND (d.administered_on < p.birth_date OR d.administered_on > ${today})))"
        ),
        Check::NoHomeVillage => {
            "EXISTS (SELECT 1 FROM areas c WHERE c.parent_code = p.home_area)".to_string()
        }
    }
}

/// `<check> AS <name>` (1 or 0, a BIGINT on both backends) for every check.
fn flags(today: usize, earliest: usize) -> String {
    Check::ALL
        .iter()
        .map(|c| {
            format!(
                "CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS {}",
                condition(*c, today, earliest),
                c.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn dates(today: time::Date) -> (String, String) {
    (
        crate::format_date(today),
        crate::format_date(earliest_birth(today)),
    )
}

impl Store {
    /// The area asked for, if the caller's areas hold it whole; otherwise
    /// NotFound, as for an area that does not exist.
    async fn quality_area(&self, code: &str, scope: &Scope) -> Result<Area, StoreError> {
        let not_found = || StoreError::NotFound {
            entity: "area",
            field: "area",
            key: code.to_string(),
        };
        let area = self.area(code).await.map_err(|e| match e {
            StoreError::NotFound { .. } => not_found(),
            other => other,
        })?;
        if !scope.covers_path(&area.path) {
            return Err(not_found());
        }
        Ok(area)
    }

    /// Persons per check in `area` and each of its children.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn data_quality(
        &self,
        area: &str,
        scope: &Scope,
    ) -> Result<QualityReport, StoreError> {
        let area = self.quality_area(area, scope).await?;
        let (today, earliest) = dates(self.today());
        let sums = Check::ALL
            .iter()
            .map(|c| format!("CAST(SUM(f.{0}) AS BIGINT) AS {0}", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT f.child AS child, COUNT(*) AS persons, {sums} FROM (SELECT \
             (SELECT c.code FROM areas c WHERE c.parent_code = $3 AND p.area_path >= c.path \
              AND p.area_path < substr(c.path, 1, length(c.path) - 1) || '0') AS child, {} \
             FROM persons p WHERE p.area_path >= $1 AND p.area_path < $2 AND p.merged_into IS NULL) f \
             GROUP BY f.child",
            flags(4, 5)
        );
        let rows = sqlx::query(&sql)
            .bind(&area.path)
            .bind(subtree_upper_bound(&area.path))
            .bind(&area.code)
            .bind(&today)
            .bind(&earliest)
            .fetch_all(&self.pool)
            .await?;
        let children = self
            .area_children(Some(&area.code), None, 100_000)
            .await?
            .items;
        let mut total = empty_row(&area);
        let mut by_child: Vec<QualityRow> = children.iter().map(empty_row).collect();
        for r in rows {
            let child: Option<String> = r.try_get("child")?;
            let add = |row: &mut QualityRow| -> Result<(), StoreError> {
                let n = |k: &str| -> Result<i64, StoreError> {
                    Ok(r.try_get::<Option<i64>, _>(k)?.unwrap_or(0))
                };
                row.persons += n("persons")?;
                row.likely_duplicate += n("likely_duplicate")?;
                row.missing_phone += n("missing_phone")?;
                row.missing_id += n("missing_id")?;
                row.implausible_dates += n("implausible_dates")?;
                row.no_home_village += n("no_home_village")?;
                Ok(())
            };
            add(&mut total)?;
            if let Some(row) = by_child
                .iter_mut()
                .find(|x| Some(&x.area_code) == child.as_ref())
            {
                add(row)?;
            }
        }
        Ok(QualityReport {
            as_of: today,
            area: total,
            children: by_child,
        })
    }

    /// The persons of `area` failing `check` (any check when None), by id.
    /// The read is audited: it lists persons.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn data_quality_persons(
        &self,
        area: &str,
        check: Option<Check>,
        page: &PageRequest,
        actor: &Actor,
    ) -> Result<Page<QualityPerson>, StoreError> {
        let area = self.quality_area(area, &actor.scope).await?;
        let (today, earliest) = dates(self.today());
        let mut binds = vec![
            area.path.clone(),
            subtree_upper_bound(&area.path),
            today,
            earliest,
        ];
        let wanted = match check {
            Some(c) => condition(c, 3, 4),
            None => format!(
                "({})",
                Check::ALL
                    .iter()
                    .map(|c| condition(*c, 3, 4))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
        };
        let mut conditions = vec![
            "p.area_path >= $1 AND p.area_path < $2 AND p.merged_into IS NULL".to_string(),
            wanted,
        ];
        if let Some(after) = &page.after {
            binds.push(crate::paging::decode_cursor(after, 1)?.remove(0));
            conditions.push(format!("p.id > ${}", binds.len()));
        }
        let sql = format!(
            "SELECT p.id, p.full_name, p.birth_date, p.sex, p.id_type, p.id_number, p.phone, \
             p.home_area, {} FROM persons p WHERE {} ORDER BY p.id LIMIT {}",
            flags(3, 4),
            conditions.join(" AND "),
            page.limit + 1
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(quality_person)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let page = Page::from_rows(rows, page.limit, |p| crate::paging::cursor(&[&p.person_id]));
        self.audit(AuditEntry::by(
            actor,
            "read",
            "data_quality",
            &area.code,
            serde_json::json!({"area": area.code, "check": check.map(Check::as_str),
                "persons": page.items.len()}),
        ))
        .await?;
        Ok(page)
    }
}

fn empty_row(area: &Area) -> QualityRow {
    QualityRow {
        area_code: area.code.clone(),
        area_name: area.name.clone(),
        persons: 0,
        likely_duplicate: 0,
        missing_phone: 0,
        missing_id: 0,
        implausible_dates: 0,
        no_home_village: 0,
    }
}

fn quality_person(r: &sqlx::any::AnyRow) -> Result<QualityPerson, StoreError> {
    let mut problems = Vec::new();
    for c in Check::ALL {
        if r.try_get::<i64, _>(c.as_str())? != 0 {
            problems.push(c.as_str());
        }
    }
    Ok(QualityPerson {
        person_id: r.try_get("id")?,
        full_name: r.try_get("full_name")?,
        birth_date: r.try_get("birth_date")?,
        sex: r.try_get("sex")?,
        id_type: r.try_get("id_type")?,
        id_number: r.try_get("id_number")?,
        phone: r.try_get("phone")?,
        home_area: r.try_get("home_area")?,
        problems,
    })
}
