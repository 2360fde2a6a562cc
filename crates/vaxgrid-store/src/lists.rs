//! Lists of the records of campaign operations, each with its filters and
//! seek pagination (see [`crate::paging`]): campaigns, waves, sessions,
//! appointments, training classes, AEFI investigations, sites. Records
//! placed in areas are listed within the caller's scope only.

use sqlx::Row;

use crate::campaigns::{Campaign, Wave};
use crate::error::StoreError;
use crate::model::{Page, Site};
use crate::paging::{cursor, Filter, PageRequest};
use crate::scheduling::{Appointment, Session};
use crate::scope::Scope;
use crate::training::{Exam, TrainingClass};
use crate::Store;

/// Which campaigns to list.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Campaigns over this area or within it.
    pub area: Option<String>,
    pub disease: Option<String>,
    /// Campaigns with a wave running on this day (`YYYY-MM-DD`).
    pub running_on: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub site: Option<String>,
    /// Sessions at sites within this area.
    pub area: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    pub site: Option<String>,
    pub day: Option<String>,
    pub person: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClassFilter {
    pub topic: Option<String>,
    pub trainer: Option<String>,
    /// Classes running on or after this day.
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InvestigationFilter {
    pub site: Option<String>,
    pub area: Option<String>,
    /// open, assessed
    pub status: Option<String>,
}

/// A training class with who attended and the exams taken in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassDetail {
    pub class: TrainingClass,
    pub attendees: Vec<String>,
    pub exams: Vec<Exam>,
}

/// An investigation of a serious adverse event.
#[derive(Debug, Clone, PartialEq)]
pub struct Investigation {
    pub id: String,
    pub visit_id: String,
    pub person_id: String,
    pub site_code: String,
    pub day: String,
    pub opened_at: String,
    pub status: String,
    pub causality: Option<String>,
    /// The adverse event as reported.
    pub report: serde_json::Value,
}

impl Store {
    /// The area path of `code`, or NotFound naming `field`.
    async fn path_of(&self, code: &str, field: &'static str) -> Result<String, StoreError> {
        self.area(code)
            .await
            .map(|a| a.path)
            .map_err(|_| StoreError::NotFound {
                entity: "area",
                field,
                key: code.to_string(),
            })
    }

    /// Campaigns whose area overlaps the scope (over it or within it),
    /// newest id last.
    pub async fn list_campaigns(
        &self,
        filter: &CampaignFilter,
        page: &PageRequest,
        scope: &Scope,
    ) -> Result<Page<Campaign>, StoreError> {
        let mut f = Filter::default();
        if let Some(code) = &filter.area {
            let path = self.path_of(code, "area").await?;
            if !overlap(scope, &path) {
                return Err(StoreError::NotFound {
                    entity: "area",
                    field: "area",
                    key: code.clone(),
                });
            }
            f.subtree("a.path", &path);
        }
        overlap_sql(&mut f, scope, "a.path");
        f.eq_opt("c.disease", filter.disease.as_deref());
        if let Some(day) = &filter.running_on {
            f.raw(&format!(
                "EXISTS (SELECT 1 FROM waves w WHERE w.campaign_id = c.id AND w.starts_on <= ${} AND w.ends_on >= ${})",
                f.binds.len() + 1,
                f.binds.len() + 2
            ));
            f.binds.push(day.clone());
            f.binds.push(day.clone());
        }
        f.after(&["c.id"], page.after.as_deref())?;
        let columns = crate::campaigns::CAMPAIGN_COLUMNS
            .split(", ")
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM campaigns c JOIN areas a ON a.code = c.area_code {} ORDER BY c.id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let mut campaigns = rows
            .iter()
            .map(crate::campaigns::campaign_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if !campaigns.is_empty() {
            let ids: Vec<&str> = campaigns.iter().map(|c| c.id.as_str()).collect();
            let sql = format!(
                "SELECT {} FROM waves WHERE campaign_id IN ({}) ORDER BY campaign_id, ordinal",
                crate::campaigns::WAVE_COLUMNS,
                crate::db::params(1, ids.len())
            );
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                let wave = crate::campaigns::wave_from_row(&row)?;
                if let Some(c) = campaigns.iter_mut().find(|c| c.id == wave.campaign_id) {
                    c.waves.push(wave);
                }
            }
        }
        Ok(Page::from_rows(campaigns, page.limit, |c| cursor(&[&c.id])))
    }

    /// The waves of a campaign the scope sees, in order; `running_on`
    /// keeps those running that day.
    pub async fn list_waves(
        &self,
        campaign_id: &str,
        running_on: Option<&str>,
        page: &PageRequest,
        scope: &Scope,
    ) -> Result<Page<Wave>, StoreError> {
        let campaign = self.campaign(campaign_id, scope).await?;
        let after: Option<i64> = match &page.after {
            Some(c) => Some(
                crate::paging::decode_cursor(c, 1)?[0]
                    .parse()
                    .map_err(|_| StoreError::invalid("after", "not a cursor of this list"))?,
            ),
            None => None,
        };
        let waves: Vec<Wave> = campaign
            .waves
            .into_iter()
            .filter(|w| after.is_none_or(|a| w.ordinal > a))
            .filter(|w| {
                running_on.is_none_or(|d| w.starts_on.as_str() <= d && d <= w.ends_on.as_str())
            })
            .take(page.limit + 1)
            .collect();
        Ok(Page::from_rows(waves, page.limit, |w| {
            cursor(&[&w.ordinal.to_string()])
        }))
    }

    /// Sessions at sites within the scope, by day, then id.
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        page: &PageRequest,
        scope: &Scope,
    ) -> Result<Page<Session>, StoreError> {
        let mut f = Filter::default();
        if let Some(code) = &filter.area {
            let path = self.path_of(code, "area").await?;
            f.subtree("a.path", &path);
        }
        f.scope(scope, "a.path", "NULL");
        f.eq_opt("v.site_code", filter.site.as_deref());
        if let Some(d) = &filter.from {
            f.cmp("v.day", ">=", d.as_str());
        }
        if let Some(d) = &filter.to {
            f.cmp("v.day", "<=", d.as_str());
        }
        f.after(&["v.day", "v.id"], page.after.as_deref())?;
        let columns = crate::scheduling::SESSION_COLUMNS
            .split(", ")
            .map(|c| format!("v.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM vaccination_sessions v JOIN sites s ON s.code = v.site_code \
             JOIN areas a ON a.code = s.area_code {} ORDER BY v.day, v.id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let sessions = rows
            .iter()
            .map(crate::scheduling::session_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(sessions, page.limit, |s| {
            cursor(&[&s.day, &s.id])
        }))
    }

    /// Appointments at sites within the scope (per site and day, or per
    /// person), by time, then id.
    pub async fn list_appointments(
        &self,
        filter: &AppointmentFilter,
        page: &PageRequest,
        scope: &Scope,
    ) -> Result<Page<Appointment>, StoreError> {
        let mut f = Filter::default();
        f.scope(scope, "a.path", "p.person_id");
        f.eq_opt("v.site_code", filter.site.as_deref());
        f.eq_opt("v.day", filter.day.as_deref());
        f.eq_opt("p.person_id", filter.person.as_deref());
        f.eq_opt("p.status", filter.status.as_deref());
        f.after(&["p.starts_at", "p.id"], page.after.as_deref())?;
        let sql = format!(
            "SELECT p.id, p.person_id, p.session_id, p.starts_at, p.status, p.booked_by \
             FROM appointments p JOIN vaccination_sessions v ON v.id = p.session_id \
             JOIN sites s ON s.code = v.site_code JOIN areas a ON a.code = s.area_code {} \
             ORDER BY p.starts_at, p.id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(crate::scheduling::appointment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, page.limit, |a| {
            cursor(&[&a.starts_at, &a.id])
        }))
    }

    /// Training classes by first day, then id.
    pub async fn list_classes(
        &self,
        filter: &ClassFilter,
        page: &PageRequest,
    ) -> Result<Page<TrainingClass>, StoreError> {
        let mut f = Filter::default();
        f.eq_opt("topic", filter.topic.as_deref());
        f.eq_opt("trainer", filter.trainer.as_deref());
        if let Some(d) = &filter.from {
            f.cmp("ends_on", ">=", d.as_str());
        }
        if let Some(d) = &filter.to {
            f.cmp("starts_on", "<=", d.as_str());
        }
        f.after(&["starts_on", "id"], page.after.as_deref())?;
        let sql = format!(
            "SELECT id, topic, starts_on, ends_on, trainer FROM training_classes {} \
             ORDER BY starts_on, id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(crate::training::class_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, page.limit, |c| {
            cursor(&[&c.starts_on, &c.id])
        }))
    }

    /// A class with its attendees and exams.
    pub async fn class_detail(&self, id: &str) -> Result<ClassDetail, StoreError> {
        let class = self.training_class(id).await?;
        let attendees = self.attendees_of(id).await?;
        let rows = sqlx::query(
            "SELECT id, class_id, username, score, pass_mark, passed, taken_on FROM training_exams \
             WHERE class_id = $1 ORDER BY taken_on, username, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let exams = rows
            .iter()
            .map(crate::training::exam_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClassDetail {
            class,
            attendees,
            exams,
        })
    }

    /// Investigations of serious adverse events at sites within the scope,
    /// oldest first.
    pub async fn list_investigations(
        &self,
        filter: &InvestigationFilter,
        page: &PageRequest,
        scope: &Scope,
    ) -> Result<Page<Investigation>, StoreError> {
        let mut f = Filter::default();
        if let Some(code) = &filter.area {
            let path = self.path_of(code, "area").await?;
            f.subtree("a.path", &path);
        }
        f.scope(scope, "a.path", "i.person_id");
        f.eq_opt("v.site_code", filter.site.as_deref());
        f.eq_opt("i.status", filter.status.as_deref());
        f.after(&["i.id"], page.after.as_deref())?;
        let sql = format!(
            "SELECT i.id, i.visit_id, i.person_id, v.site_code, v.day, i.opened_at, i.status, \
             i.causality, i.report FROM aefi_investigations i JOIN visits v ON v.id = i.visit_id \
             JOIN sites s ON s.code = v.site_code JOIN areas a ON a.code = s.area_code {} \
             ORDER BY i.id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| {
                let report: String = r.try_get("report")?;
                Ok(Investigation {
                    id: r.try_get("id")?,
                    visit_id: r.try_get("visit_id")?,
                    person_id: r.try_get("person_id")?,
                    site_code: r.try_get("site_code")?,
                    day: r.try_get("day")?,
                    opened_at: crate::format_instant(r.try_get("opened_at")?),
                    status: r.try_get("status")?,
                    causality: r.try_get("causality")?,
                    report: serde_json::from_str(&report)
                        .unwrap_or(serde_json::Value::String(report)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_rows(items, page.limit, |i| cursor(&[&i.id])))
    }

    /// Sites within `area` (all when `None`), by code: the pages a CSV
    /// export walks through to the end.
    pub async fn list_sites(
        &self,
        area: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Site>, StoreError> {
        let mut f = Filter::default();
        if let Some(code) = area {
            let path = self.path_of(code, "area").await?;
            f.subtree("a.path", &path);
        }
        f.after(&["s.code"], page.after.as_deref())?;
        let sql = format!(
            "SELECT s.code, s.name, s.kind, s.area_code, s.stations, s.daily_capacity FROM sites s \
             JOIN areas a ON a.code = s.area_code {} ORDER BY s.code LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(crate::catalog::site_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, page.limit, |s| cursor(&[&s.code])))
    }
}

/// Whether an area at `path` overlaps the scope: within it, or above a
/// part of it (a province campaign is seen by its district planners).
fn overlap(scope: &Scope, path: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Limited { paths, .. } => {
            scope.covers_path(path) || paths.iter().any(|p| p.starts_with(path))
        }
    }
}

/// The SQL form of [`overlap`] on `path_column`.
fn overlap_sql(f: &mut Filter, scope: &Scope, path_column: &str) {
    let Scope::Limited { paths, .. } = scope else {
        return;
    };
    let mut ancestors: Vec<String> = Vec::new();
    for p in paths {
        // "/22/193/" → "/22/", "/22/193/"
        let mut at = 0;
        while let Some(i) = p[at + 1..].find('/') {
            at += i + 1;
            ancestors.push(p[..=at].to_string());
        }
    }
    let mut alternatives = Vec::new();
    let mut scoped = Filter::default();
    // Scope::sql numbers from the filter's next parameter.
    let start = f.binds.len() + 1;
    if let Some((sql, binds)) = scope.sql(path_column, "NULL", start) {
        alternatives.push(sql);
        scoped.binds.extend(binds);
    }
    for a in &ancestors {
        alternatives.push(format!("{path_column} = ${}", start + scoped.binds.len()));
        scoped.binds.push(a.clone());
    }
    f.raw(&format!("({})", alternatives.join(" OR ")));
    f.binds.extend(scoped.binds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_sees_the_province_campaign_and_its_own() {
        let s = Scope::Limited {
            paths: vec!["/22/193/".into()],
            sites: vec![],
            persons: vec![],
        };
        assert!(overlap(&s, "/22/"));
        assert!(overlap(&s, "/22/193/06658/"));
        assert!(!overlap(&s, "/22/194/"));
        let mut f = Filter::default();
        overlap_sql(&mut f, &s, "a.path");
        assert_eq!(
            f.sql(),
            "WHERE (((a.path >= $1 AND a.path < $2)) OR a.path = $3 OR a.path = $4)"
        );
        assert_eq!(f.binds[2..], ["/22/".to_string(), "/22/193/".to_string()]);
    }
}
