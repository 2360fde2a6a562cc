//! The JSON the campaign routes answer with (`api::campaigns`), apart from
//! the store's records as `api::types` is for the registry's: each built
//! `From` a record, with the record's field names, so the bodies are what
//! they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::campaigns as store;

/// A campaign and its waves (dates `YYYY-MM-DD`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub disease: String,
    pub area_code: String,
    pub products: Vec<String>,
    /// In priority order.
    pub priority_groups: Vec<String>,
    /// 80.0 = 80%; null when the target is a number of people.
    pub target_percent: Option<f64>,
    /// The target as a number of people in the campaign's area.
    pub target_people: Option<i64>,
    /// priority_groups (the population of the campaign's priority groups)
    /// or population (everyone registered).
    pub target_basis: String,
    pub target_date: String,
    pub min_age_years: u32,
    /// RFC 3339 UTC
    pub created_at: String,
    /// In order.
    pub waves: Vec<Wave>,
}

impl From<store::Campaign> for Campaign {
    fn from(c: store::Campaign) -> Campaign {
        Campaign {
            id: c.id,
            name: c.name,
            disease: c.disease,
            area_code: c.area_code,
            products: c.products,
            priority_groups: c.priority_groups,
            target_percent: c.target_percent,
            target_people: c.target_people,
            target_basis: c.target_basis,
            target_date: c.target_date,
            min_age_years: c.min_age_years,
            created_at: c.created_at,
            waves: c.waves.into_iter().map(Wave::from).collect(),
        }
    }
}

/// A wave of a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct Wave {
    pub id: String,
    pub campaign_id: String,
    /// 1, 2, … in the order waves were added.
    pub ordinal: i64,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    /// Empty: everyone of age.
    pub eligible_groups: Vec<String>,
}

impl From<store::Wave> for Wave {
    fn from(w: store::Wave) -> Wave {
        Wave {
            id: w.id,
            campaign_id: w.campaign_id,
            ordinal: w.ordinal,
            name: w.name,
            starts_on: w.starts_on,
            ends_on: w.ends_on,
            eligible_groups: w.eligible_groups,
        }
    }
}

/// One child's part of a split.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetPart {
    pub area_code: String,
    pub name: String,
    pub eligible: i64,
    pub people: i64,
    /// Entered by hand rather than proportional.
    pub fixed: bool,
}

impl From<store::TargetPart> for TargetPart {
    fn from(p: store::TargetPart) -> TargetPart {
        TargetPart {
            area_code: p.area_code,
            name: p.name,
            eligible: p.eligible,
            people: p.people,
            fixed: p.fixed,
        }
    }
}

/// An area's target split among the areas directly under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetSplit {
    pub campaign_id: String,
    pub area_code: String,
    pub eligible: i64,
    /// The area's target; the parts sum to it exactly.
    pub total: i64,
    pub parts: Vec<TargetPart>,
    /// Targets stored below children whose part changed, now cleared.
    pub cleared_below: u64,
}

impl From<store::TargetSplit> for TargetSplit {
    fn from(s: store::TargetSplit) -> TargetSplit {
        TargetSplit {
            campaign_id: s.campaign_id,
            area_code: s.area_code,
            eligible: s.eligible,
            total: s.total,
            parts: s.parts.into_iter().map(TargetPart::from).collect(),
            cleared_below: s.cleared_below,
        }
    }
}

/// An area's target beside what it has reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetRow {
    pub area_code: String,
    pub name: String,
    pub level: String,
    /// Null until a split gave the area a part.
    pub target: Option<i64>,
    pub fixed: bool,
    pub eligible: i64,
    /// People with at least one dose (cumulative).
    pub reached: i64,
    pub completed: i64,
    /// People a day the sites serving the area can vaccinate.
    pub site_capacity: i64,
}

impl From<store::TargetRow> for TargetRow {
    fn from(r: store::TargetRow) -> TargetRow {
        TargetRow {
            area_code: r.area_code,
            name: r.name,
            level: r.level,
            target: r.target,
            fixed: r.fixed,
            eligible: r.eligible,
            reached: r.reached,
            completed: r.completed,
            site_capacity: r.site_capacity,
        }
    }
}

/// One day of a target report.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetDay {
    pub day: String,
    /// The area's target spread over the days (null without a target).
    pub target: Option<i64>,
    /// First doses given that day with the campaign's products.
    pub actual: i64,
    /// Places in the sessions opened that day at sites in the area.
    pub capacity: i64,
    /// The daily capacity of the sites serving the area.
    pub site_capacity: i64,
}

impl From<store::TargetDay> for TargetDay {
    fn from(d: store::TargetDay) -> TargetDay {
        TargetDay {
            day: d.day,
            target: d.target,
            actual: d.actual,
            capacity: d.capacity,
            site_capacity: d.site_capacity,
        }
    }
}

/// Target vs actual vs capacity of an area and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetReport {
    pub campaign_id: String,
    pub area: TargetRow,
    pub children: Vec<TargetRow>,
    /// Sum of the children's targets (equal to the area's after a split).
    pub children_target: i64,
    pub period_start: String,
    pub period_end: String,
    pub days: Vec<TargetDay>,
}

impl From<store::TargetReport> for TargetReport {
    fn from(r: store::TargetReport) -> TargetReport {
        TargetReport {
            campaign_id: r.campaign_id,
            area: r.area.into(),
            children: r.children.into_iter().map(TargetRow::from).collect(),
            children_target: r.children_target,
            period_start: r.period_start,
            period_end: r.period_end,
            days: r.days.into_iter().map(TargetDay::from).collect(),
        }
    }
}

/// An area's progress in a wave.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressRow {
    pub area_code: String,
    pub name: String,
    pub level: String,
    /// Population of the wave's eligible groups (everyone if none).
    pub eligible: i64,
    /// The campaign's coverage percentage of `eligible`.
    pub wave_target: i64,
    /// The area's stored part of the campaign target.
    pub campaign_target: Option<i64>,
    /// Doses a day the area is to give (POST …/daily-targets).
    pub daily_target: Option<i64>,
    /// People with at least one dose (cumulative).
    pub at_least_one: i64,
    /// People with a completed primary series (cumulative).
    pub completed: i64,
}

impl From<store::ProgressRow> for ProgressRow {
    fn from(r: store::ProgressRow) -> ProgressRow {
        ProgressRow {
            area_code: r.area_code,
            name: r.name,
            level: r.level,
            eligible: r.eligible,
            wave_target: r.wave_target,
            campaign_target: r.campaign_target,
            daily_target: r.daily_target,
            at_least_one: r.at_least_one,
            completed: r.completed,
        }
    }
}

/// Doses given between the wave's first and last day, all groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveDoses {
    pub dose_1: i64,
    pub dose_2: i64,
    pub later_doses: i64,
    pub total: i64,
}

/// Serious adverse events and deaths after a wave's doses.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveSafety {
    pub serious_events: i64,
    pub deaths: i64,
}

/// A day of a wave: the area's daily dose target beside the doses given.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveDay {
    pub day: String,
    pub target: Option<i64>,
    pub done: i64,
}

/// Progress of a wave in an area and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveProgress {
    pub campaign_id: String,
    pub wave_id: String,
    pub starts_on: String,
    pub ends_on: String,
    pub eligible_groups: Vec<String>,
    pub area: ProgressRow,
    pub children: Vec<ProgressRow>,
    pub in_wave: WaveDoses,
    /// Serious adverse events and deaths following the wave's doses in the
    /// area (by the dose's day and the campaign's products).
    pub safety: WaveSafety,
    /// Each day of the wave (all dose numbers, the campaign's products).
    pub days: Vec<WaveDay>,
}

impl From<store::WaveProgress> for WaveProgress {
    fn from(p: store::WaveProgress) -> WaveProgress {
        WaveProgress {
            campaign_id: p.campaign_id,
            wave_id: p.wave_id,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            eligible_groups: p.eligible_groups,
            area: p.area.into(),
            children: p.children.into_iter().map(ProgressRow::from).collect(),
            in_wave: WaveDoses {
                dose_1: p.in_wave.dose_1,
                dose_2: p.in_wave.dose_2,
                later_doses: p.in_wave.later_doses,
                total: p.in_wave.total,
            },
            safety: WaveSafety {
                serious_events: p.safety.serious_events,
                deaths: p.safety.deaths,
            },
            days: p
                .days
                .into_iter()
                .map(|d| WaveDay {
                    day: d.day,
                    target: d.target,
                    done: d.done,
                })
                .collect(),
        }
    }
}

/// A campaign's daily dose target in an area, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyTarget {
    pub campaign_id: String,
    pub area_code: String,
    pub doses_per_day: i64,
    /// The area's eligible population the target was checked against.
    pub eligible: i64,
}

impl From<store::DailyTarget> for DailyTarget {
    fn from(t: store::DailyTarget) -> DailyTarget {
        DailyTarget {
            campaign_id: t.campaign_id,
            area_code: t.area_code,
            doses_per_day: t.doses_per_day,
            eligible: t.eligible,
        }
    }
}

/// Where a person of a survey list stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStatus {
    NotYet,
    Booked,
    Vaccinated,
    Deferred,
    Refused,
    Contraindicated,
}

impl From<store::SurveyStatus> for SurveyStatus {
    fn from(s: store::SurveyStatus) -> SurveyStatus {
        match s {
            store::SurveyStatus::NotYet => SurveyStatus::NotYet,
            store::SurveyStatus::Booked => SurveyStatus::Booked,
            store::SurveyStatus::Vaccinated => SurveyStatus::Vaccinated,
            store::SurveyStatus::Deferred => SurveyStatus::Deferred,
            store::SurveyStatus::Refused => SurveyStatus::Refused,
            store::SurveyStatus::Contraindicated => SurveyStatus::Contraindicated,
        }
    }
}

/// One line of a target survey list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyRow {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub home_area: String,
    pub priority_groups: Vec<String>,
    pub status: SurveyStatus,
    /// Valid doses of the campaign's products.
    pub valid_doses: i64,
    pub series_complete: bool,
    pub last_dose_on: Option<String>,
    /// The earliest booked appointment.
    pub appointment_at: Option<String>,
    /// Until when the person is deferred (status deferred).
    pub deferred_until: Option<String>,
    /// Why the last visit ended early (deferred, refused, contraindicated).
    pub reason: Option<String>,
}

impl From<store::SurveyRow> for SurveyRow {
    fn from(r: store::SurveyRow) -> SurveyRow {
        SurveyRow {
            person_id: r.person_id,
            full_name: r.full_name,
            birth_date: r.birth_date,
            sex: r.sex,
            id_type: r.id_type,
            id_number: r.id_number,
            phone: r.phone,
            home_area: r.home_area,
            priority_groups: r.priority_groups,
            status: r.status.into(),
            valid_doses: r.valid_doses,
            series_complete: r.series_complete,
            last_dose_on: r.last_dose_on,
            appointment_at: r.appointment_at,
            deferred_until: r.deferred_until,
            reason: r.reason,
        }
    }
}
