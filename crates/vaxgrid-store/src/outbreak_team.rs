//! The rapid-response team's daily list, read a page at a time: everyone
//! in the caller's areas at home in isolation on a day, and the alert list
//! (the same persons with an alert). A province's list can hold tens of
//! thousands of persons, so the database sorts and filters: one query
//! finds a page's keys (whether each person was checked that day, whether
//! their latest check raised an alert, and whether they have a home day
//! with no check are read from the isolation's row, which each check keeps
//! current; see `at_home`), then the page's isolations with
//! names and their checks are read by id, from which
//! `isolation::missed_checks` names the missed days (the same rules as
//! the database's flags). The counts for a page's heading are one more
//! aggregate. Nothing is read from Rust a person at a time.

use std::collections::HashMap;

use sqlx::Row;
use time::Date;

use crate::db::{in_json, Backend};
use crate::error::StoreError;
use crate::outbreak::{alerts_of, date_of, isolation_from_row, TeamEntry};
use crate::paging::{cursor, decode_cursor, PageRequest};
use crate::scope::Scope;
use crate::{format_date, Store};
use vaxgrid_core::outbreak::isolation::{self, Alert};

/// Which of the day's persons, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamView {
    /// Everyone at home that day: those not yet checked first, then by
    /// area and person.
    List,
    /// Those with an alert: a danger sign in their latest check first,
    /// then a missed check only; then by area and person.
    Alerts,
}

/// One page of the list, and the cursor of the next (none on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamPage {
    pub entries: Vec<TeamEntry>,
    pub next_cursor: Option<String>,
}

/// The whole day's figures, for a page's heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamCounts {
    /// At home in isolation that day.
    pub people: i64,
    /// Checked that day already.
    pub checked: i64,
    /// With an alert (a missed check or a sign in the latest check),
    /// when counted.
    pub alerts: Option<i64>,
}

/// What a read needs to know of each person's checks (a read of a past
/// day probes `isolation_checks` for each flag, so a read asks only for
/// those it sorts, filters or counts by).
#[derive(Clone, Copy)]
struct Flags {
    done: bool,
    alerts: bool,
    /// No check can be later than the day read (today or a day to come:
    /// a check is never recorded for a day to come), so each isolation's
    /// row holds the day's state.
    current: bool,
}

impl Flags {
    fn of(day: Date, today: Date, done: bool, alerts: bool) -> Flags {
        Flags {
            done,
            alerts,
            current: day >= today,
        }
    }
}

/// The condition that a row comes after the cursor `after` (rank, area
/// path, person) in the list's order, its values added to `binds`; any
/// row on the first page.
fn after_key(
    rank: &str,
    after: Option<&str>,
    binds: &mut Vec<String>,
) -> Result<String, StoreError> {
    Ok(match after {
        None => "1 = 1".to_string(),
        Some(c) => {
            let key = decode_cursor(c, 3)?;
            let r: i64 = key[0].parse().map_err(|_| {
                StoreError::invalid(
                    "after",
                    "not a cursor of this list (pass next_cursor as is)",
                )
            })?;
            let (a, p) = (binds.len() + 2, binds.len() + 3);
            binds.push(key[1].clone());
            binds.push(key[2].clone());
            format!(
                "({rank} > {r} OR ({rank} = {r} AND (t.area_path > ${a} \
                 OR (t.area_path = ${a} AND t.person_id > ${p}))))"
            )
        }
    })
}

/// A person's entry on the day's list from their isolation and checks
/// (day, alerts): the days missed at home, the alerts (a missed check,
/// then those of the latest check), whether checked that day and whether
/// a sample is due.
fn team_entry(
    iso: crate::outbreak::IsolationRecord,
    full_name: String,
    mut checks: Vec<(Date, String)>,
    day: Date,
) -> Result<TeamEntry, StoreError> {
    let plan = iso.plan()?;
    checks.sort_by_key(|c| c.0);
    let days: Vec<Date> = checks.iter().map(|c| c.0).collect();
    let missed = isolation::missed_checks(&plan, &days, day);
    let mut alerts = Vec::new();
    if !missed.is_empty() {
        alerts.push(Alert::MissedCheck);
    }
    if let Some((_, a)) = checks.last() {
        alerts.extend(alerts_of(a));
    }
    Ok(TeamEntry {
        checked_today: days.last() == Some(&day),
        sample_due: plan.tests_due.contains(&day),
        missed: missed.into_iter().map(format_date).collect(),
        alerts,
        full_name,
        isolation_id: iso.id,
        person_id: iso.person_id,
        area_path: iso.area_path,
        class: iso.class,
        last_day: iso.last_day,
    })
}

/// The persons at home on `$1` in the scope, with flags: `done` (checked
/// on `$1`), `danger` (the latest check up to `$1` raised an alert) and
/// `missed` (fewer checks at home before `$1` than days at home before it;
/// at home on `$1` means every earlier home day is before its end, so the
/// days are `$1 − home_from`). Today the flags come from the isolation's
/// own row, which every check keeps current (`last_check_day`,
/// `home_checks`, `last_danger`, migration 0066): one scan of
/// `isolations`, with no subquery. (PostgreSQL prices each per-row
/// subquery as if it ran, and past 100,000 its JIT compiles the query
/// for 50–100 ms, more than the scan itself.) For a past day the row
/// still answers for isolations with no check after that day; the others
/// are probes of `isolation_checks`' key, asked only when the view sorts
/// or filters by them. `last_day`/`start_on` repeat the home bounds so
/// that `isolations_area (area_path, last_day)` filters finished
/// isolations in the index.
fn at_home(backend: Backend, scope_cond: &str, flags: Flags) -> String {
    let of_this = "c.isolation_id = i.id AND c.province_code = i.province_code";
    let days_at_home = match backend {
        Backend::Sqlite => "CAST(julianday($1) - julianday(i.home_from) AS INTEGER)",
        Backend::Postgres => "(CAST($1 AS DATE) - CAST(i.home_from AS DATE))",
    };
    let checked_that_day = "CASE WHEN i.last_check_day = $1 THEN 1 ELSE 0 END";
    let state_missed =
        format!("CASE WHEN i.home_checks - {checked_that_day} < {days_at_home} THEN 1 ELSE 0 END");
    // The row's state is the state on `$1`: no check after it.
    let current = "(i.last_check_day IS NULL OR i.last_check_day <= $1)";
    let mut cols = String::new();
    if flags.done {
        cols.push_str(&if flags.current {
            format!(", {checked_that_day} AS done")
        } else {
            format!(
                ", CASE WHEN {current} THEN {checked_that_day} \
                 WHEN EXISTS (SELECT 1 FROM isolation_checks c WHERE {of_this} AND c.day = $1) \
                 THEN 1 ELSE 0 END AS done"
            )
        });
    }
    if flags.alerts {
        cols.push_str(&if flags.current {
            format!(", i.last_danger AS danger, {state_missed} AS missed")
        } else {
            format!(
                ", CASE WHEN {current} THEN i.last_danger \
                 WHEN COALESCE((SELECT c.alerts FROM isolation_checks c WHERE {of_this} \
                 AND c.day <= $1 ORDER BY c.day DESC LIMIT 1), '[]') <> '[]' THEN 1 ELSE 0 END AS danger, \
                 CASE WHEN {current} THEN {state_missed} \
                 WHEN (SELECT COUNT(*) FROM isolation_checks c WHERE {of_this} \
                 AND c.day >= i.home_from AND c.day < $1) < {days_at_home} THEN 1 ELSE 0 END AS missed"
            )
        });
    }
    format!(
        "SELECT i.id, i.area_path, i.person_id{cols} FROM isolations i \
         WHERE i.last_day >= $1 AND i.start_on <= $1 AND i.home_from <= $1 AND i.home_to >= $1 \
         AND {scope_cond}"
    )
}

impl Store {
    /// A page of the team's list (or of the alert list) on `day` in the
    /// caller's areas, `page.limit` entries after `page.after`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_page(
        &self,
        scope: &Scope,
        day: Date,
        view: TeamView,
        page: &PageRequest,
    ) -> Result<TeamPage, StoreError> {
        self.team_read(scope, day, view, page.after.as_deref(), Some(page.limit))
            .await
    }

    /// The page's keys sorted and cut by the database, then the page's
    /// persons and checks read by id.
    async fn team_read(
        &self,
        scope: &Scope,
        day: Date,
        view: TeamView,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<TeamPage, StoreError> {
        let (ids, next_cursor) = self.team_keys(scope, day, view, after, limit).await?;
        let mut found = self.isolations_by_id(&ids).await?;
        let mut checks = self.checks_of(&ids, day).await?;
        let mut entries = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some((iso, full_name)) = found.remove(id) else {
                continue;
            };
            let mine = checks.remove(&iso.id).unwrap_or_default();
            entries.push(team_entry(iso, full_name, mine, day)?);
        }
        Ok(TeamPage {
            entries,
            next_cursor,
        })
    }

    /// The isolation ids of a page of the list in its order, and the
    /// cursor of the next page (none on the last, or when not cut).
    async fn team_keys(
        &self,
        scope: &Scope,
        day: Date,
        view: TeamView,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let (scope_cond, mut binds) = scope
            .sql("i.area_path", "i.person_id", 2)
            .unwrap_or_else(|| ("1 = 1".into(), Vec::new()));
        // The sort key's first part: not yet checked (0) before checked
        // (1); or a danger sign (0) before a missed check only (1).
        let (rank, only, flags) = match view {
            TeamView::List => ("t.done", "1 = 1", Flags::of(day, self.today(), true, false)),
            TeamView::Alerts => (
                "1 - t.danger",
                "(t.danger = 1 OR t.missed = 1)",
                Flags::of(day, self.today(), false, true),
            ),
        };
        let after = after_key(rank, after, &mut binds)?;
        let cut = limit.map_or(String::new(), |n| format!(" LIMIT {}", n + 1));
        let sql = format!(
            "SELECT t.id, t.area_path, t.person_id, {rank} AS sort_rank FROM ({}) t \
             WHERE {only} AND {after} ORDER BY {rank}, t.area_path, t.person_id{cut}",
            at_home(self.backend, &scope_cond, flags),
        );
        let mut q = sqlx::query(&sql).bind(format_date(day));
        for b in &binds {
            q = q.bind(b);
        }
        let mut keys = q.fetch_all(&self.pool).await?;
        let next_cursor = match limit {
            Some(n) if keys.len() > n => {
                keys.truncate(n);
                let last = keys.last().expect("a full page has a last row");
                let rank: i64 = last.try_get("sort_rank")?;
                let area: String = last.try_get("area_path")?;
                let person: String = last.try_get("person_id")?;
                Some(cursor(&[&rank.to_string(), &area, &person]))
            }
            _ => None,
        };
        let ids: Vec<String> = keys
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        Ok((ids, next_cursor))
    }

    /// The isolations `ids` with their person's name, by id.
    async fn isolations_by_id(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (crate::outbreak::IsolationRecord, String)>, StoreError> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT i.id, i.person_id, i.area_path, i.class, i.vaccinated, i.home_possible, \
             i.facility_name, i.start_on, i.facility_from, i.facility_to, i.home_from, i.home_to, \
             i.last_day, i.tests_due, p.full_name FROM isolations i \
             JOIN persons p ON p.id = i.person_id AND p.province_code = i.province_code WHERE {}",
            in_json(self.backend, "i.id", 1)
        );
        let rows = sqlx::query(&sql)
            .bind(serde_json::to_string(ids).expect("strings serialise"))
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let iso = isolation_from_row(r)?;
            out.insert(iso.id.clone(), (iso, r.try_get("full_name")?));
        }
        Ok(out)
    }

    /// How many persons are on the day's list and checked, and (when
    /// `with_alerts`) with an alert.
    pub async fn team_counts(
        &self,
        scope: &Scope,
        day: Date,
        with_alerts: bool,
    ) -> Result<TeamCounts, StoreError> {
        let (scope_cond, binds) = scope
            .sql("i.area_path", "i.person_id", 2)
            .unwrap_or_else(|| ("1 = 1".into(), Vec::new()));
        let flags = Flags::of(day, self.today(), true, with_alerts);
        let alerts = if with_alerts {
            "CAST(COALESCE(SUM(CASE WHEN t.danger = 1 OR t.missed = 1 THEN 1 ELSE 0 END), 0) AS BIGINT)"
        } else {
            "CAST(-1 AS BIGINT)"
        };
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS people, \
             CAST(COALESCE(SUM(t.done), 0) AS BIGINT) AS checked, {alerts} AS alerts FROM ({}) t",
            at_home(self.backend, &scope_cond, flags)
        );
        let mut q = sqlx::query(&sql).bind(format_date(day));
        for b in &binds {
            q = q.bind(b);
        }
        let r = q.fetch_one(&self.pool).await?;
        let alerts: i64 = r.try_get("alerts")?;
        Ok(TeamCounts {
            people: r.try_get("people")?,
            checked: r.try_get("checked")?,
            alerts: (alerts >= 0).then_some(alerts),
        })
    }

    /// The whole list on `day` (one sorted read), by area and person.
    pub async fn team_list(&self, scope: &Scope, day: Date) -> Result<Vec<TeamEntry>, StoreError> {
        let mut out = self
            .team_read(scope, day, TeamView::List, None, None)
            .await?
            .entries;
        out.sort_by(|a, b| (&a.area_path, &a.person_id).cmp(&(&b.area_path, &b.person_id)));
        Ok(out)
    }

    /// The checks up to `day` of the isolations `ids` (day, alerts JSON).
    async fn checks_of(
        &self,
        ids: &[String],
        day: Date,
    ) -> Result<HashMap<String, Vec<(Date, String)>>, StoreError> {
        let mut out: HashMap<String, Vec<(Date, String)>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT isolation_id, day, alerts FROM isolation_checks WHERE {} AND day <= $2",
            in_json(self.backend, "isolation_id", 1)
        );
        let rows = sqlx::query(&sql)
            .bind(serde_json::to_string(ids).expect("strings serialise"))
            .bind(format_date(day))
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let d: String = r.try_get("day")?;
            out.entry(r.try_get("isolation_id")?)
                .or_default()
                .push((date_of(&d)?, r.try_get("alerts")?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbreak::IsolationRecord;
    use time::macros::date;

    fn at_home() -> IsolationRecord {
        IsolationRecord {
            id: "i1".into(),
            person_id: "p1".into(),
            area_path: "/22/193/06658/".into(),
            class: "F2".into(),
            vaccinated: false,
            home_possible: true,
            facility_name: None,
            start_on: "2026-12-01".into(),
            facility_from: None,
            facility_to: None,
            home_from: Some("2026-12-01".into()),
            home_to: Some("2026-12-07".into()),
            last_day: "2026-12-07".into(),
            tests_due: vec!["2026-12-04".into()],
        }
    }

    #[test]
    fn an_entry_names_the_missed_days_before_the_latest_check_s_alerts() {
        let checks = vec![
            (date!(2026 - 12 - 03), r#"["fever"]"#.to_string()),
            (date!(2026 - 12 - 01), "[]".to_string()),
        ];
        let e = team_entry(
            at_home(),
            "Tran Thi B".into(),
            checks,
            date!(2026 - 12 - 04),
        )
        .unwrap();
        assert_eq!(e.missed, vec!["2026-12-02".to_string()]);
        assert_eq!(e.alerts, vec![Alert::MissedCheck, Alert::Fever]);
        assert!(!e.checked_today);
        assert!(e.sample_due);
        assert_eq!(e.full_name, "Tran Thi B");
    }

    #[test]
    fn an_entry_checked_today_with_no_day_missed_has_no_alert() {
        let checks = vec![
            (date!(2026 - 12 - 01), "[]".to_string()),
            (date!(2026 - 12 - 02), "[]".to_string()),
        ];
        let e = team_entry(
            at_home(),
            "Tran Thi B".into(),
            checks,
            date!(2026 - 12 - 02),
        )
        .unwrap();
        assert!(e.missed.is_empty());
        assert!(e.alerts.is_empty());
        assert!(e.checked_today);
        assert!(!e.sample_due);
    }

    #[test]
    fn a_page_reads_on_after_its_cursor_s_rank_area_and_person() {
        let mut binds = vec!["scope".to_string()];
        assert_eq!(after_key("t.done", None, &mut binds).unwrap(), "1 = 1");
        let c = cursor(&["1", "/22/", "p7"]);
        let cond = after_key("t.done", Some(&c), &mut binds).unwrap();
        assert_eq!(binds, vec!["scope", "/22/", "p7"]);
        assert!(cond.starts_with("(t.done > 1 OR (t.done = 1 AND (t.area_path > $3"));
        assert!(cond.contains("t.person_id > $4"));
        let bad = cursor(&["x", "/22/", "p7"]);
        assert!(matches!(
            after_key("t.done", Some(&bad), &mut binds),
            Err(StoreError::Invalid { field, .. }) if field == "after"
        ));
    }
}
