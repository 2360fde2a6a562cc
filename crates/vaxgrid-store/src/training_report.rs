//! The training report of an area: its staff (users holding a role on a
//! site or an area of it), how many attended a class, exams taken and
//! passed, vaccinators and those with a current vaccination certificate,
//! and certificates running out within N days — for the area and each
//! child. A user is counted once per area whatever their roles there.

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::training::VACCINATION_TOPIC;

use crate::error::StoreError;
use crate::model::Area;
use crate::scope::Scope;
use crate::Store;

/// The longest look-ahead for expiring certificates, in days.
pub const MAX_EXPIRING_DAYS: i64 = 3650;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingRow {
    pub area_code: String,
    pub area_name: String,
    pub staff: i64,
    /// Staff who attended at least one class.
    pub attendees: i64,
    pub exams: i64,
    pub exams_passed: i64,
    /// Passed exams per 100 taken, to one decimal (None without exams).
    pub pass_rate: Option<f64>,
    pub vaccinators: i64,
    /// Vaccinators with a current vaccination certificate today.
    pub certified_vaccinators: i64,
    /// Staff whose current vaccination certificate ends within the days
    /// asked for.
    pub expiring: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingReport {
    pub as_of: String,
    pub expiring_within_days: i64,
    /// Classes attended by the area's staff.
    pub classes: i64,
    pub area: TrainingRow,
    pub children: Vec<TrainingRow>,
}

/// One staff member's facts, from one statement.
struct Member {
    username: String,
    vaccinator: bool,
    path: String,
    attended: bool,
    exams: i64,
    passed: i64,
    /// Last day of their current vaccination certificate.
    until: Option<String>,
}

impl Store {
    /// The training report of `area` (whole in `scope`, else NotFound as
    /// for a missing area) on `today`, certificates ending within `days`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn training_report(
        &self,
        area: &str,
        scope: &Scope,
        days: i64,
    ) -> Result<TrainingReport, StoreError> {
        if !(0..=MAX_EXPIRING_DAYS).contains(&days) {
            return Err(StoreError::invalid(
                "expiring_within_days",
                format!("expiring_within_days is 0 to {MAX_EXPIRING_DAYS}"),
            ));
        }
        let not_found = || StoreError::NotFound {
            entity: "area",
            field: "area",
            key: area.to_string(),
        };
        let area = self.area(area).await.map_err(|e| match e {
            StoreError::NotFound { .. } => not_found(),
            other => other,
        })?;
        if !scope.covers_path(&area.path) {
            return Err(not_found());
        }
        let today = self.today();
        let until = crate::format_date(today + time::Duration::days(days));
        let today = crate::format_date(today);
        let members = self.members(&area, &today).await?;
        let classes = self.classes_of(&area).await?;
        let children = self
            .area_children(Some(&area.code), None, 100_000)
            .await?
            .items;
        let total = tally(&area, members.iter(), &until);
        let children = children
            .iter()
            .map(|c| {
                let hi = subtree_upper_bound(&c.path);
                let inside = members
                    .iter()
                    .filter(|m| m.path.as_str() >= c.path.as_str() && m.path < hi);
                tally(c, inside, &until)
            })
            .collect();
        Ok(TrainingReport {
            as_of: today,
            expiring_within_days: days,
            classes,
            area: total,
            children,
        })
    }

    /// Every (user, role) granted on a site or an area of the subtree,
    /// with the user's training facts.
    async fn members(&self, area: &Area, today: &str) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT x.username AS username, x.role AS role, x.path AS path, \
             (SELECT COUNT(*) FROM training_attendees t WHERE t.username = x.username) AS attended, \
             (SELECT COUNT(*) FROM training_exams e WHERE e.username = x.username) AS exams, \
             (SELECT COUNT(*) FROM training_exams e WHERE e.username = x.username AND e.passed = 1) AS passed, \
             (SELECT MAX(c.expires_on) FROM staff_certificates c WHERE c.username = x.username \
              AND LOWER(c.topic) = $3 AND c.revoked = 0 AND c.issued_on <= $4 AND c.expires_on >= $4) AS until \
             FROM (SELECT u.username AS username, g.role AS role, COALESCE(sa.path, a.path) AS path \
              FROM grants g JOIN users u ON u.id = g.user_id \
              LEFT JOIN sites s ON s.code = g.scope LEFT JOIN areas sa ON sa.code = s.area_code \
              LEFT JOIN areas a ON a.code = g.scope WHERE u.disabled = 0) x \
             WHERE x.path >= $1 AND x.path < $2",
        )
        .bind(&area.path)
        .bind(subtree_upper_bound(&area.path))
        .bind(VACCINATION_TOPIC)
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    username: r.try_get("username")?,
                    vaccinator: r.try_get::<String, _>("role")? == "vaccinator",
                    path: r.try_get("path")?,
                    attended: r.try_get::<i64, _>("attended")? > 0,
                    exams: r.try_get("exams")?,
                    passed: r.try_get("passed")?,
                    until: r.try_get("until")?,
                })
            })
            .collect()
    }

    /// Classes with an attendee among the subtree's staff.
    async fn classes_of(&self, area: &Area) -> Result<i64, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(DISTINCT t.class_id) AS n FROM training_attendees t WHERE t.username IN \
             (SELECT u.username FROM grants g JOIN users u ON u.id = g.user_id \
              LEFT JOIN sites s ON s.code = g.scope LEFT JOIN areas sa ON sa.code = s.area_code \
              LEFT JOIN areas a ON a.code = g.scope \
              WHERE u.disabled = 0 AND COALESCE(sa.path, a.path) >= $1 AND COALESCE(sa.path, a.path) < $2)",
        )
        .bind(&area.path)
        .bind(subtree_upper_bound(&area.path))
        .fetch_one(&self.pool)
        .await?;
        Ok(r.try_get("n")?)
    }
}

/// The figures of one area from its members (a user once, however many
/// roles; a vaccinator if any grant there is one).
fn tally<'a>(area: &Area, members: impl Iterator<Item = &'a Member>, until: &str) -> TrainingRow {
    let mut users: HashMap<&str, (&Member, bool)> = HashMap::new();
    for m in members {
        let e = users.entry(&m.username).or_insert((m, false));
        e.1 |= m.vaccinator;
    }
    let mut row = TrainingRow {
        area_code: area.code.clone(),
        area_name: area.name.clone(),
        ..TrainingRow::default()
    };
    let names: BTreeSet<&str> = users.keys().copied().collect();
    for name in names {
        let (m, vaccinator) = users[name];
        row.staff += 1;
        row.attendees += i64::from(m.attended);
        row.exams += m.exams;
        row.exams_passed += m.passed;
        row.vaccinators += i64::from(vaccinator);
        row.certified_vaccinators += i64::from(vaccinator && m.until.is_some());
        row.expiring += i64::from(m.until.as_deref().is_some_and(|u| u <= until));
    }
    row.pass_rate = (row.exams > 0)
        .then(|| (row.exams_passed as f64 * 1000.0 / row.exams as f64).round() / 10.0);
    row
}
