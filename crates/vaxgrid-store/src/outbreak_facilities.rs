//! Treatment facilities, beds and teams of the outbreak response, stored
//! (migration 0061): facilities by region and tier with their activation
//! stages, admissions and discharges of cases (occupancy by day), and the
//! rapid-response, ambulance and specialist teams with their assignments.
//! The rules (figures, occupancy, which facility to activate next) are
//! `vaxgrid_core::outbreak::beds`'s.
//!
//! A facility is seen within its area's subtree, like a laboratory: an
//! epidemic responder of a commune sees the commune's facilities, the
//! province's responder all of the province's. Admissions are seen by the
//! admitted person's area.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;
use time::{Date, Duration};
use vaxgrid_core::outbreak::beds::{self, BedFigures, FacilityState, Recommendation, TierLoad};
use vaxgrid_core::outbreak::surge::Tier;

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::{format_date, parse_date, Store};

/// An admission may be entered at most this many days after the fact.
pub use vaxgrid_core::outbreak::beds::MAX_BACKDATE_DAYS;

/// The longest occupancy window one request reads.
pub const MAX_WINDOW_DAYS: i64 = 366;

fn absent(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

fn date_of(s: &str) -> Result<Date, StoreError> {
    parse_date(s)
        .ok_or_else(|| StoreError::invalid("date", format!("stored date '{s}' unreadable")))
}

pub fn tier_parse(s: &str) -> Option<Tier> {
    Tier::ALL.into_iter().find(|t| t.as_str() == s)
}

/// A facility to create.
#[derive(Debug, Clone)]
pub struct NewFacility {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub region: String,
    pub beds: BedFigures,
    /// Active from this day (a facility already open); none: activated later.
    pub activated_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityRecord {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub province_code: String,
    pub region: String,
    pub mild_moderate_beds: i64,
    pub severe_critical_beds: i64,
    pub icu_beds: i64,
    pub activate_at_cases: i64,
    pub activated_on: Option<String>,
    pub area_path: String,
}

impl FacilityRecord {
    pub fn figures(&self) -> BedFigures {
        BedFigures {
            mild_moderate_beds: self.mild_moderate_beds,
            severe_critical_beds: self.severe_critical_beds,
            icu_beds: self.icu_beds,
            activate_at_cases: self.activate_at_cases,
        }
    }

    pub fn beds(&self, tier: Tier) -> i64 {
        beds::beds_of(&self.figures(), tier)
    }

    /// Active on `day` (activated that day or before).
    pub fn active_on(&self, day: Date) -> bool {
        self.activated_on
            .as_deref()
            .and_then(parse_date)
            .is_some_and(|a| a <= day)
    }

    /// Refused naming `facility_code` unless active on `day`.
    fn admits_on(&self, day: Date) -> Result<(), StoreError> {
        if self.active_on(day) {
            return Ok(());
        }
        Err(StoreError::invalid(
            "facility_code",
            match &self.activated_on {
                None => format!("facility {} is not activated yet", self.code),
                Some(d) => format!("facility {} is active from {d}, after {day}", self.code),
            },
        ))
    }

    /// The tier an admission takes (`asked`, else the one of the case's
    /// `severity`) and the facility's beds of it; refused naming `tier`
    /// when there is none or the facility has no beds of it.
    fn admission_tier(
        &self,
        asked: Option<Tier>,
        severity: &str,
    ) -> Result<(Tier, i64), StoreError> {
        let tier = match asked {
            Some(t) => t,
            None => beds::tier_for_severity(severity).ok_or_else(|| {
                StoreError::invalid("tier", format!("no tier for severity {severity}"))
            })?,
        };
        let capacity = self.beds(tier);
        if capacity == 0 {
            return Err(StoreError::invalid(
                "tier",
                format!("facility {} has no {} beds", self.code, tier.as_str()),
            ));
        }
        Ok((tier, capacity))
    }
}

const FACILITY_COLUMNS: &str = "f.code, f.name, f.area_code, f.province_code, f.region, \
     f.mild_moderate_beds, f.severe_critical_beds, f.icu_beds, f.activate_at_cases, f.activated_on, a.path";

fn facility_from_row(r: &sqlx::any::AnyRow) -> Result<FacilityRecord, StoreError> {
    Ok(FacilityRecord {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        area_code: r.try_get("area_code")?,
        province_code: r.try_get("province_code")?,
        region: r.try_get("region")?,
        mild_moderate_beds: r.try_get("mild_moderate_beds")?,
        severe_critical_beds: r.try_get("severe_critical_beds")?,
        icu_beds: r.try_get("icu_beds")?,
        activate_at_cases: r.try_get("activate_at_cases")?,
        activated_on: r.try_get("activated_on")?,
        area_path: r.try_get("path")?,
    })
}

/// An admission to record.
#[derive(Debug, Clone)]
pub struct NewAdmission {
    pub id: String,
    pub facility_code: String,
    pub person_id: String,
    /// None: the tier of the case's severity.
    pub tier: Option<Tier>,
    pub admitted_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionRecord {
    pub id: String,
    pub facility_code: String,
    pub person_id: String,
    pub full_name: String,
    pub tier: String,
    pub admitted_on: String,
    pub discharged_on: Option<String>,
    pub discharge_reason: Option<String>,
}

/// Why a patient left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeReason {
    Recovered,
    Transferred,
    Died,
}

impl DischargeReason {
    pub const ALL: [DischargeReason; 3] = [
        DischargeReason::Recovered,
        DischargeReason::Transferred,
        DischargeReason::Died,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DischargeReason::Recovered => "recovered",
            DischargeReason::Transferred => "transferred",
            DischargeReason::Died => "died",
        }
    }
    pub fn parse(s: &str) -> Option<DischargeReason> {
        DischargeReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Beds and occupancy of one region's tier on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupancyCell {
    pub region: String,
    pub tier: Tier,
    /// Beds of the facilities active that day.
    pub beds: i64,
    pub occupied: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupancyDay {
    pub day: String,
    pub cells: Vec<OccupancyCell>,
}

/// One facility's tier on the last day of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityLoad {
    pub code: String,
    pub name: String,
    pub region: String,
    pub tier: Tier,
    pub beds: i64,
    pub occupied: i64,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy {
    pub from: String,
    pub to: String,
    pub days: Vec<OccupancyDay>,
    /// Each facility's tiers on `to`.
    pub facilities: Vec<FacilityLoad>,
}

/// What to activate in a province now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationAdvice {
    pub province_code: String,
    pub day: String,
    pub cumulative_cases: i64,
    pub activate_at_pct: i64,
    pub recommendations: Vec<Recommendation>,
    pub tiers: Vec<TierLoad>,
}

/// The kinds of team article 003 counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    RapidResponse,
    Ambulance,
    Specialist,
}

impl TeamKind {
    pub const ALL: [TeamKind; 3] = [
        TeamKind::RapidResponse,
        TeamKind::Ambulance,
        TeamKind::Specialist,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TeamKind::RapidResponse => "rapid_response",
            TeamKind::Ambulance => "ambulance",
            TeamKind::Specialist => "specialist",
        }
    }
    pub fn parse(s: &str) -> Option<TeamKind> {
        TeamKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRecord {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub area_code: String,
    pub members: i64,
    pub area_path: String,
}

/// Where a team is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentTarget {
    Facility(String),
    Area(String),
    Case(String),
}

#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub id: String,
    pub team_code: String,
    pub target: AssignmentTarget,
    pub from_on: Date,
    pub to_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub id: String,
    pub team_code: String,
    pub facility_code: Option<String>,
    pub area_code: Option<String>,
    pub case_person_id: Option<String>,
    pub from_on: String,
    pub to_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDetail {
    pub team: TeamRecord,
    pub assignments: Vec<AssignmentRecord>,
}

impl Store {
    async fn area_in(
        &self,
        code: &str,
        field: &'static str,
        scope: &Scope,
    ) -> Result<crate::model::Area, StoreError> {
        let area = self
            .area(code)
            .await
            .map_err(|_| absent("area", field, code))?;
        if !scope.covers_path(&area.path) {
            return Err(absent("area", field, code));
        }
        Ok(area)
    }

    /// Adds a treatment facility at an area in the caller's areas.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_facility(
        &self,
        new: &NewFacility,
        actor: &Actor,
    ) -> Result<FacilityRecord, StoreError> {
        beds::validate(&new.beds).map_err(|e| StoreError::invalid(e.field, e.reason))?;
        if new.activated_on.is_some_and(|d| d > self.today()) {
            return Err(StoreError::invalid(
                "activated_on",
                "a facility cannot be activated on a day to come",
            ));
        }
        let area = self
            .area_in(&new.area_code, "area_code", &actor.scope)
            .await?;
        let province = vaxgrid_core::area::province_of_path(&area.path).to_string();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO treatment_facilities (code, name, area_code, province_code, region, mild_moderate_beds, \
             severe_critical_beds, icu_beds, activate_at_cases, activated_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&new.code)
        .bind(&new.name)
        .bind(&new.area_code)
        .bind(&province)
        .bind(&new.region)
        .bind(new.beds.mild_moderate_beds)
        .bind(new.beds.severe_critical_beds)
        .bind(new.beds.icu_beds)
        .bind(new.beds.activate_at_cases)
        .bind(new.activated_on.map(format_date))
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("facility {} already exists", new.code),
                existing: Some(format!("/api/v1/outbreak/facilities/{}", new.code)),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "treatment_facility",
                &new.code,
                serde_json::json!({"region": new.region,
                    "mild_moderate_beds": new.beds.mild_moderate_beds,
                    "severe_critical_beds": new.beds.severe_critical_beds,
                    "activate_at_cases": new.beds.activate_at_cases}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.facility(&new.code, &Scope::All).await
    }

    /// A facility whose area is in `scope` (else absent, field `code`).
    pub async fn facility(&self, code: &str, scope: &Scope) -> Result<FacilityRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {FACILITY_COLUMNS} FROM treatment_facilities f JOIN areas a ON a.code = f.area_code \
             WHERE f.code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| absent("facility", "facility_code", code))?;
        let f = facility_from_row(&row)?;
        if !scope.covers_path(&f.area_path) {
            return Err(absent("facility", "facility_code", code));
        }
        Ok(f)
    }

    /// Facilities in the caller's areas (of one province when given), by
    /// region, stage and code.
    pub async fn facilities(
        &self,
        scope: &Scope,
        province: Option<&str>,
    ) -> Result<Vec<FacilityRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {FACILITY_COLUMNS} FROM treatment_facilities f JOIN areas a ON a.code = f.area_code \
             WHERE ($1 = '' OR f.province_code = $1) ORDER BY f.region, f.activate_at_cases, f.code"
        ))
        .bind(province.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let f = facility_from_row(r)?;
            if scope.covers_path(&f.area_path) {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Activates a facility from `on`: from then on it admits.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activate_facility(
        &self,
        code: &str,
        on: Date,
        actor: &Actor,
    ) -> Result<FacilityRecord, StoreError> {
        let f = self.facility(code, &actor.scope).await?;
        if on > self.today() {
            return Err(StoreError::invalid(
                "activated_on",
                "a facility cannot be activated on a day to come",
            ));
        }
        if let Some(day) = &f.activated_on {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("facility {code} is active since {day}"),
                existing: None,
            });
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE treatment_facilities SET activated_on = $1 WHERE code = $2 AND activated_on IS NULL",
        )
        .bind(format_date(on))
        .bind(code)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("facility {code} is already active"),
                existing: None,
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "activate",
                "treatment_facility",
                code,
                serde_json::json!({"activated_on": format_date(on)}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.facility(code, &Scope::All).await
    }

    /// Stays of one facility's tier that are still open on or after `from`.
    async fn stays_of(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        facility: &str,
        tier: Tier,
        from: Date,
    ) -> Result<Vec<beds::Stay>, StoreError> {
        let rows = sqlx::query(
            "SELECT admitted_on, discharged_on FROM facility_admissions WHERE facility_code = $1 \
             AND tier = $2 AND (discharged_on IS NULL OR discharged_on > $3)",
        )
        .bind(facility)
        .bind(tier.as_str())
        .bind(format_date(from))
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                let a: String = r.try_get("admitted_on")?;
                let d: Option<String> = r.try_get("discharged_on")?;
                Ok((date_of(&a)?, d.as_deref().map(date_of).transpose()?))
            })
            .collect()
    }

    /// Admits a confirmed case to an active facility's tier with a free
    /// bed. Refused naming the field, nothing written: a facility outside
    /// the caller's areas or not active on the day (`facility_code`), a
    /// person not a confirmed case (`person_id`), a tier the facility has
    /// no beds of, or full on any day since the admission (`tier`, 409), a
    /// person already in a bed (409), a day to come (`admitted_on`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn admit(
        &self,
        new: &NewAdmission,
        actor: &Actor,
    ) -> Result<AdmissionRecord, StoreError> {
        let today = self.today();
        beds::check_admission_day(new.admitted_on, today)
            .map_err(|e| StoreError::invalid(e.field, e.reason))?;
        let f = self.facility(&new.facility_code, &actor.scope).await?;
        f.admits_on(new.admitted_on)?;
        let person = self.person_in(&new.person_id, &actor.scope).await?;
        let mut tx = self.begin_write().await?;
        let (severity, area_path) =
            confirmed_case(&mut tx, &new.person_id, &person.province_code).await?;
        let (tier, capacity) = f.admission_tier(new.tier, &severity)?;
        not_in_a_bed(&mut tx, new, &person.province_code).await?;
        let stays = self
            .stays_of(&mut tx, &f.code, tier, new.admitted_on)
            .await?;
        let busiest = beds::occupancy(&stays, new.admitted_on, today)
            .into_iter()
            .max()
            .unwrap_or(0);
        if busiest >= capacity {
            return Err(StoreError::Conflict {
                field: "tier",
                message: format!(
                    "the {} beds of {} are full ({busiest} of {capacity}); activate the next facility",
                    tier.as_str(),
                    f.code
                ),
                existing: Some("/api/v1/outbreak/activation".into()),
            });
        }
        let at = (person.province_code.as_str(), area_path.as_str());
        insert_admission(&mut tx, new, at, &f.code, tier, (actor, self.now_micros())).await?;
        // The case is treated where it was admitted.
        sqlx::query(
            "UPDATE outbreak_cases SET treated_at = $1 WHERE person_id = $2 AND province_code = $3",
        )
        .bind(&f.name)
        .bind(&new.person_id)
        .bind(&person.province_code)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "admit",
                "facility_admission",
                &new.id,
                serde_json::json!({"facility_code": f.code, "person_id": new.person_id,
                    "tier": tier.as_str(), "admitted_on": format_date(new.admitted_on)}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(AdmissionRecord {
            id: new.id.clone(),
            facility_code: f.code,
            person_id: new.person_id.clone(),
            full_name: person.full_name,
            tier: tier.as_str().to_string(),
            admitted_on: format_date(new.admitted_on),
            discharged_on: None,
            discharge_reason: None,
        })
    }

    async fn admission_row(
        &self,
        id: &str,
        scope: &Scope,
    ) -> Result<(AdmissionRecord, String, String), StoreError> {
        let row = sqlx::query(
            "SELECT m.id, m.facility_code, m.person_id, p.full_name, m.tier, m.admitted_on, m.discharged_on, \
             m.discharge_reason, m.area_path, m.province_code FROM facility_admissions m \
             JOIN persons p ON p.id = m.person_id AND p.province_code = m.province_code WHERE m.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| absent("admission", "id", id))?;
        let rec = admission_from_row(&row)?;
        let path: String = row.try_get("area_path")?;
        if !scope.covers_person(&rec.person_id, &path) {
            return Err(absent("admission", "id", id));
        }
        Ok((rec, path, row.try_get("province_code")?))
    }

    /// Discharges an admitted case. Refused: a discharge before the
    /// admission or on a day to come (`discharged_on`), twice (409).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn discharge(
        &self,
        id: &str,
        on: Date,
        reason: DischargeReason,
        actor: &Actor,
    ) -> Result<AdmissionRecord, StoreError> {
        let (rec, _, province) = self.admission_row(id, &actor.scope).await?;
        if let Some(d) = &rec.discharged_on {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("admission {id} was discharged on {d}"),
                existing: None,
            });
        }
        let admitted = date_of(&rec.admitted_on)?;
        if on < admitted {
            return Err(StoreError::invalid(
                "discharged_on",
                format!("the discharge ({on}) is before the admission ({admitted})"),
            ));
        }
        if on > self.today() {
            return Err(StoreError::invalid(
                "discharged_on",
                "a discharge cannot be recorded for a day to come",
            ));
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE facility_admissions SET discharged_on = $1, discharge_reason = $2 \
             WHERE id = $3 AND province_code = $4 AND discharged_on IS NULL",
        )
        .bind(format_date(on))
        .bind(reason.as_str())
        .bind(id)
        .bind(&province)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("admission {id} is already discharged"),
                existing: None,
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "discharge",
                "facility_admission",
                id,
                serde_json::json!({"discharged_on": format_date(on), "reason": reason.as_str()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(AdmissionRecord {
            discharged_on: Some(format_date(on)),
            discharge_reason: Some(reason.as_str().to_string()),
            ..rec
        })
    }

    /// The patients in a facility's beds on `day` whom the caller may see.
    pub async fn admissions_at(
        &self,
        facility: &str,
        day: Date,
        scope: &Scope,
    ) -> Result<Vec<AdmissionRecord>, StoreError> {
        let d = format_date(day);
        let rows = sqlx::query(
            "SELECT m.id, m.facility_code, m.person_id, p.full_name, m.tier, m.admitted_on, m.discharged_on, \
             m.discharge_reason, m.area_path FROM facility_admissions m \
             JOIN persons p ON p.id = m.person_id AND p.province_code = m.province_code \
             WHERE m.facility_code = $1 AND m.admitted_on <= $2 AND (m.discharged_on IS NULL OR m.discharged_on > $2) \
             ORDER BY m.admitted_on, m.id",
        )
        .bind(facility)
        .bind(&d)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let rec = admission_from_row(r)?;
            let path: String = r.try_get("area_path")?;
            if scope.covers_person(&rec.person_id, &path) {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Beds and occupancy by day, region and tier over `from..=to` for the
    /// facilities in the caller's areas (of one province when given), and
    /// each facility's tiers on `to`. Counts, not persons: every admission
    /// to those facilities counts, wherever the patient lives.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn occupancy(
        &self,
        scope: &Scope,
        province: Option<&str>,
        from: Date,
        to: Date,
    ) -> Result<Occupancy, StoreError> {
        check_window(from, to)?;
        let facilities = self.facilities(scope, province).await?;
        let stays = self.stays_between(from, to).await?;
        let days = beds::days(from, to);
        let tally = BedTally::of(&facilities, stays, &days, (from, to));
        Ok(Occupancy {
            from: format_date(from),
            to: format_date(to),
            days: tally.by_day(&days),
            facilities: tally.loads,
        })
    }

    /// The stays at any facility that overlap `from..=to`, by facility and
    /// tier (an admission of an unknown tier is left out).
    async fn stays_between(
        &self,
        from: Date,
        to: Date,
    ) -> Result<HashMap<(String, Tier), Vec<beds::Stay>>, StoreError> {
        let rows = sqlx::query(
            "SELECT facility_code, tier, admitted_on, discharged_on FROM facility_admissions \
             WHERE admitted_on <= $1 AND (discharged_on IS NULL OR discharged_on > $2)",
        )
        .bind(format_date(to))
        .bind(format_date(from))
        .fetch_all(&self.pool)
        .await?;
        let mut stays: HashMap<(String, Tier), Vec<beds::Stay>> = HashMap::new();
        for r in &rows {
            let tier: String = r.try_get("tier")?;
            let Some(tier) = tier_parse(&tier) else {
                continue;
            };
            let a: String = r.try_get("admitted_on")?;
            let d: Option<String> = r.try_get("discharged_on")?;
            stays
                .entry((r.try_get("facility_code")?, tier))
                .or_default()
                .push((date_of(&a)?, d.as_deref().map(date_of).transpose()?));
        }
        Ok(stays)
    }

    /// Confirmed cases (not reversed) of a province, all time.
    pub async fn cumulative_cases(&self, province: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbreak_cases WHERE province_code = $1 AND status = 'confirmed'",
        )
        .bind(province)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// Which of a province's facilities (in the caller's areas) to activate
    /// on `day`: those whose stage the province's cumulative confirmed
    /// cases reached, then the next of each region's tier whose occupancy
    /// is at or above `beds::ACTIVATE_AT_PCT` % of its active beds.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activation_advice(
        &self,
        province: &str,
        day: Date,
        scope: &Scope,
    ) -> Result<ActivationAdvice, StoreError> {
        let facilities = self.facilities(scope, Some(province)).await?;
        let occ = self.occupancy(scope, Some(province), day, day).await?;
        let mut occupied = BTreeMap::new();
        for c in occ.days.first().map(|d| d.cells.as_slice()).unwrap_or(&[]) {
            occupied.insert((c.region.clone(), c.tier), c.occupied);
        }
        let states: Vec<FacilityState> = facilities
            .iter()
            .map(|f| FacilityState {
                code: f.code.clone(),
                region: f.region.clone(),
                beds: f.figures(),
                active: f.active_on(day),
            })
            .collect();
        let cumulative = self.cumulative_cases(province).await?;
        let (recommendations, tiers) = beds::recommend(&states, cumulative, &occupied);
        Ok(ActivationAdvice {
            province_code: province.to_string(),
            day: format_date(day),
            cumulative_cases: cumulative,
            activate_at_pct: beds::ACTIVATE_AT_PCT,
            recommendations,
            tiers,
        })
    }

    /// Adds a team based at an area in the caller's areas.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_team(
        &self,
        code: &str,
        name: &str,
        kind: TeamKind,
        area_code: &str,
        members: i64,
        actor: &Actor,
    ) -> Result<TeamRecord, StoreError> {
        if !(1..=500).contains(&members) {
            return Err(StoreError::invalid(
                "members",
                "a team has 1 to 500 members",
            ));
        }
        self.area_in(area_code, "area_code", &actor.scope).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO response_teams (code, name, kind, area_code, members, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
        )
        .bind(code)
        .bind(name)
        .bind(kind.as_str())
        .bind(area_code)
        .bind(members)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("team {code} already exists"),
                existing: Some(format!("/api/v1/outbreak/teams/{code}")),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "response_team",
                code,
                serde_json::json!({"kind": kind.as_str(), "area_code": area_code}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.team(code, &Scope::All).await
    }

    /// A team whose area is in `scope` (else absent).
    pub async fn team(&self, code: &str, scope: &Scope) -> Result<TeamRecord, StoreError> {
        let row = sqlx::query(
            "SELECT t.code, t.name, t.kind, t.area_code, t.members, a.path FROM response_teams t \
             JOIN areas a ON a.code = t.area_code WHERE t.code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| absent("team", "team_code", code))?;
        let t = team_from_row(&row)?;
        if !scope.covers_path(&t.area_path) {
            return Err(absent("team", "team_code", code));
        }
        Ok(t)
    }

    /// Teams in the caller's areas, by kind and code.
    pub async fn teams(&self, scope: &Scope) -> Result<Vec<TeamRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.code, t.name, t.kind, t.area_code, t.members, a.path FROM response_teams t \
             JOIN areas a ON a.code = t.area_code ORDER BY t.kind, t.code",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let t = team_from_row(r)?;
            if scope.covers_path(&t.area_path) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// A team with its assignments, latest first.
    pub async fn team_detail(&self, code: &str, scope: &Scope) -> Result<TeamDetail, StoreError> {
        let team = self.team(code, scope).await?;
        let province = vaxgrid_core::area::province_of_path(&team.area_path).to_string();
        let rows = sqlx::query(
            "SELECT id, team_code, facility_code, area_code, case_person_id, from_on, to_on FROM team_assignments \
             WHERE team_code = $1 AND province_code = $2 ORDER BY from_on DESC, id",
        )
        .bind(code)
        .bind(&province)
        .fetch_all(&self.pool)
        .await?;
        let assignments = rows
            .iter()
            .map(assignment_from_row)
            .collect::<Result<_, _>>()?;
        Ok(TeamDetail { team, assignments })
    }

    /// Assigns a team from a day (to a day, or open) to a facility, an
    /// area or a case, each in the caller's areas. Refused naming the
    /// field: a target outside the caller's areas or absent, a person who
    /// is not a confirmed case (`case_person_id`), an end before the start
    /// (`to_on`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assign_team(
        &self,
        new: &NewAssignment,
        actor: &Actor,
    ) -> Result<AssignmentRecord, StoreError> {
        let team = self.team(&new.team_code, &actor.scope).await?;
        if new.to_on.is_some_and(|t| t < new.from_on) {
            return Err(StoreError::invalid(
                "to_on",
                format!("the assignment ends before it starts ({})", new.from_on),
            ));
        }
        let (facility, area, case) = self.assignment_target(&new.target, &actor.scope).await?;
        let rec = AssignmentRecord {
            id: new.id.clone(),
            team_code: team.code,
            facility_code: facility,
            area_code: area,
            case_person_id: case,
            from_on: format_date(new.from_on),
            to_on: new.to_on.map(format_date),
        };
        let province = vaxgrid_core::area::province_of_path(&team.area_path).to_string();
        let mut tx = self.begin_write().await?;
        self.insert_assignment(&mut tx, &rec, &province, actor)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "assign",
                "response_team",
                &rec.team_code,
                serde_json::json!({"assignment": rec.id, "facility_code": rec.facility_code,
                    "area_code": rec.area_code, "case_person_id": rec.case_person_id,
                    "from_on": rec.from_on}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Where an assignment sends the team, checked: (facility, area, case),
    /// one of them set. A target outside `scope` reads as absent; a
    /// person must be a confirmed case.
    async fn assignment_target(
        &self,
        target: &AssignmentTarget,
        scope: &Scope,
    ) -> Result<(Option<String>, Option<String>, Option<String>), StoreError> {
        Ok(match target {
            AssignmentTarget::Facility(code) => {
                self.facility(code, scope).await?;
                (Some(code.clone()), None, None)
            }
            AssignmentTarget::Area(code) => {
                self.area_in(code, "area_code", scope).await?;
                (None, Some(code.clone()), None)
            }
            AssignmentTarget::Case(person) => {
                let p = self
                    .person_in(person, scope)
                    .await
                    .map_err(|_| absent("person", "case_person_id", person))?;
                let confirmed = sqlx::query(
                    "SELECT 1 AS one FROM outbreak_cases WHERE person_id = $1 AND province_code = $2 AND status = 'confirmed'",
                )
                .bind(person)
                .bind(&p.province_code)
                .fetch_optional(&self.pool)
                .await?;
                if confirmed.is_none() {
                    return Err(StoreError::invalid(
                        "case_person_id",
                        format!("{person} is not a confirmed case"),
                    ));
                }
                (None, None, Some(person.clone()))
            }
        })
    }

    /// Inserts an assignment; an id used already is a conflict.
    async fn insert_assignment(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        rec: &AssignmentRecord,
        province: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO team_assignments (province_code, id, team_code, facility_code, area_code, case_person_id, \
             from_on, to_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id, province_code) DO NOTHING",
        )
        .bind(province)
        .bind(&rec.id)
        .bind(&rec.team_code)
        .bind(rec.facility_code.clone())
        .bind(rec.area_code.clone())
        .bind(rec.case_person_id.clone())
        .bind(&rec.from_on)
        .bind(rec.to_on.clone())
        .bind(&actor.name)
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("assignment {} already exists", rec.id),
                existing: None,
            });
        }
        Ok(())
    }
}

/// A window of days to read occupancy over: `from` not after `to`, at
/// most `MAX_WINDOW_DAYS` days.
fn check_window(from: Date, to: Date) -> Result<(), StoreError> {
    if to < from {
        return Err(StoreError::invalid(
            "from",
            format!("from ({from}) is after to ({to})"),
        ));
    }
    if (to - from).whole_days() >= MAX_WINDOW_DAYS {
        return Err(StoreError::invalid(
            "to",
            format!("at most {MAX_WINDOW_DAYS} days at once"),
        ));
    }
    Ok(())
}

/// Beds and occupancy of a window summed by region and tier, day by day,
/// and each facility's tiers on the window's last day.
struct BedTally {
    /// (beds, occupied) per day of the window.
    cells: BTreeMap<(String, Tier), (Vec<i64>, Vec<i64>)>,
    loads: Vec<FacilityLoad>,
}

impl BedTally {
    /// Tallies each facility's tiers over `days` (`from..=to`) from their
    /// `stays`; a tier with no beds and nobody in it is left out. Beds
    /// count on the days the facility is active.
    fn of(
        facilities: &[FacilityRecord],
        mut stays: HashMap<(String, Tier), Vec<beds::Stay>>,
        days: &[Date],
        (from, to): (Date, Date),
    ) -> BedTally {
        let mut cells: BTreeMap<(String, Tier), (Vec<i64>, Vec<i64>)> = BTreeMap::new();
        let mut loads = Vec::new();
        for f in facilities {
            for tier in Tier::ALL {
                let beds_n = f.beds(tier);
                let mine = stays.remove(&(f.code.clone(), tier)).unwrap_or_default();
                let occ = beds::occupancy(&mine, from, to);
                if beds_n == 0 && occ.iter().all(|&o| o == 0) {
                    continue;
                }
                let entry = cells
                    .entry((f.region.clone(), tier))
                    .or_insert_with(|| (vec![0; days.len()], vec![0; days.len()]));
                for (i, d) in days.iter().enumerate() {
                    if f.active_on(*d) {
                        entry.0[i] += beds_n;
                    }
                    entry.1[i] += occ[i];
                }
                loads.push(FacilityLoad {
                    code: f.code.clone(),
                    name: f.name.clone(),
                    region: f.region.clone(),
                    tier,
                    beds: beds_n,
                    occupied: occ.last().copied().unwrap_or(0),
                    active: f.active_on(to),
                });
            }
        }
        BedTally { cells, loads }
    }

    /// The tally as one list of cells per day.
    fn by_day(&self, days: &[Date]) -> Vec<OccupancyDay> {
        days.iter()
            .enumerate()
            .map(|(i, d)| OccupancyDay {
                day: format_date(*d),
                cells: self
                    .cells
                    .iter()
                    .map(|((region, tier), (b, o))| OccupancyCell {
                        region: region.clone(),
                        tier: *tier,
                        beds: b[i],
                        occupied: o[i],
                    })
                    .collect(),
            })
            .collect()
    }
}

fn admission_from_row(r: &sqlx::any::AnyRow) -> Result<AdmissionRecord, StoreError> {
    Ok(AdmissionRecord {
        id: r.try_get("id")?,
        facility_code: r.try_get("facility_code")?,
        person_id: r.try_get("person_id")?,
        full_name: r.try_get("full_name")?,
        tier: r.try_get("tier")?,
        admitted_on: r.try_get("admitted_on")?,
        discharged_on: r.try_get("discharged_on")?,
        discharge_reason: r.try_get("discharge_reason")?,
    })
}

fn team_from_row(r: &sqlx::any::AnyRow) -> Result<TeamRecord, StoreError> {
    Ok(TeamRecord {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        area_code: r.try_get("area_code")?,
        members: r.try_get("members")?,
        area_path: r.try_get("path")?,
    })
}

fn assignment_from_row(r: &sqlx::any::AnyRow) -> Result<AssignmentRecord, StoreError> {
    Ok(AssignmentRecord {
        id: r.try_get("id")?,
        team_code: r.try_get("team_code")?,
        facility_code: r.try_get("facility_code")?,
        area_code: r.try_get("area_code")?,
        case_person_id: r.try_get("case_person_id")?,
        from_on: r.try_get("from_on")?,
        to_on: r.try_get("to_on")?,
    })
}

/// Days back from `to`: the window `to − (n − 1) ..= to`.
pub fn window_ending(to: Date, n: i64) -> Date {
    to - Duration::days(n.max(1) - 1)
}

/// Inside a write transaction: the admission, at `at` (province, area
/// path); an id already stored is a conflict.
async fn insert_admission(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewAdmission,
    at: (&str, &str),
    facility_code: &str,
    tier: Tier,
    (actor, now): (&Actor, i64),
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "INSERT INTO facility_admissions (province_code, id, facility_code, person_id, area_path, tier, \
         admitted_on, discharged_on, discharge_reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $9) ON CONFLICT (id, province_code) DO NOTHING",
    )
    .bind(at.0)
    .bind(&new.id)
    .bind(facility_code)
    .bind(&new.person_id)
    .bind(at.1)
    .bind(tier.as_str())
    .bind(format_date(new.admitted_on))
    .bind(&actor.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("admission {} already exists", new.id),
            existing: None,
        });
    }
    Ok(())
}

/// Inside a write transaction: the severity and area path of the
/// person's case, when it is confirmed (else refused naming
/// `person_id`).
async fn confirmed_case(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    person_id: &str,
    province: &str,
) -> Result<(String, String), StoreError> {
    let case = sqlx::query(
        "SELECT status, severity, confirmed_on, area_path FROM outbreak_cases WHERE person_id = $1 AND province_code = $2",
    )
    .bind(person_id)
    .bind(province)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(case) = case else {
        return Err(StoreError::invalid(
            "person_id",
            format!("{person_id} is not a confirmed case"),
        ));
    };
    let status: String = case.try_get("status")?;
    if status != "confirmed" {
        return Err(StoreError::invalid(
            "person_id",
            format!("{person_id} is not a confirmed case ({status})"),
        ));
    }
    Ok((case.try_get("severity")?, case.try_get("area_path")?))
}

/// Inside a write transaction: refused (409) when the person is in a bed
/// on the day of the new admission.
async fn not_in_a_bed(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewAdmission,
    province: &str,
) -> Result<(), StoreError> {
    let open = sqlx::query(
        "SELECT id, facility_code FROM facility_admissions WHERE person_id = $1 AND province_code = $2 \
         AND (discharged_on IS NULL OR discharged_on > $3)",
    )
    .bind(&new.person_id)
    .bind(province)
    .bind(format_date(new.admitted_on))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = open {
        let id: String = r.try_get("id")?;
        let at: String = r.try_get("facility_code")?;
        return Err(StoreError::Conflict {
            field: "person_id",
            message: format!(
                "{} is in a bed at {at} then (admission {id})",
                new.person_id
            ),
            existing: Some(format!("/api/v1/outbreak/admissions/{id}")),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn facility(code: &str, severe_beds: i64, activated_on: Option<&str>) -> FacilityRecord {
        FacilityRecord {
            code: code.into(),
            name: format!("Facility {code}"),
            area_code: "22".into(),
            province_code: "22".into(),
            region: "north".into(),
            mild_moderate_beds: 0,
            severe_critical_beds: severe_beds,
            icu_beds: 0,
            activate_at_cases: 0,
            activated_on: activated_on.map(str::to_string),
            area_path: "/22/".into(),
        }
    }

    #[test]
    fn a_window_runs_forward_and_is_at_most_a_year() {
        let day = date!(2026 - 12 - 07);
        assert!(check_window(day, day).is_ok());
        let back = check_window(day, date!(2026 - 12 - 06)).unwrap_err();
        assert!(matches!(back, StoreError::Invalid { ref field, .. } if field == "from"));
        let long = check_window(day, day + Duration::days(MAX_WINDOW_DAYS)).unwrap_err();
        assert!(matches!(long, StoreError::Invalid { ref field, .. } if field == "to"));
    }

    #[test]
    fn beds_count_from_activation_and_stays_in_their_region_s_tier() {
        let (from, to) = (date!(2026 - 12 - 01), date!(2026 - 12 - 02));
        let days = beds::days(from, to);
        let facilities = [facility("A", 4, Some("2026-12-02")), facility("B", 0, None)];
        let stays = HashMap::from([(("A".to_string(), Tier::SevereCritical), vec![(from, None)])]);
        let tally = BedTally::of(&facilities, stays, &days, (from, to));
        assert_eq!(tally.loads.len(), 1, "B has no beds and nobody in them");
        assert_eq!(tally.loads[0].occupied, 1);
        assert!(tally.loads[0].active);
        let by_day = tally.by_day(&days);
        let icu: Vec<(i64, i64)> = by_day
            .iter()
            .map(|d| {
                let c = d
                    .cells
                    .iter()
                    .find(|c| c.tier == Tier::SevereCritical)
                    .unwrap();
                (c.beds, c.occupied)
            })
            .collect();
        assert_eq!(icu, vec![(0, 1), (4, 1)]);
    }
}
