//! Campaigns and their waves, coverage targets handed down the area tree,
//! progress by wave, and the target survey list (every eligible person of
//! an area with where they stand).
//!
//! How the figures are read, and why:
//!
//! - **Eligible population** comes from the population counters (kept in
//!   the registration transaction), never from a scan of the registry. For
//!   a campaign it is the population of its priority groups, or of everyone
//!   registered when it lists none; for a wave, of the wave's eligible
//!   groups, or everyone when it lists none. It is read from the counters
//!   per *set* of groups (`population_group_sets`), so a person in two of
//!   the groups counts once. The counters carry no age, so the campaign's
//!   minimum age is not applied to them: the registry of a mass campaign
//!   holds the population it targets. The survey list, read from the
//!   registry itself, applies both exactly. (Reached and completed are
//!   still summed per group.)
//! - **Reached and completed** come from the coverage counters, restricted
//!   to the campaign's products (the product of a person's first dose).
//!   Those counters are not kept per date, so they are *cumulative*: a
//!   person vaccinated before the campaign or its wave began counts as
//!   reached. Doses *given during a wave* come from the daily dose counters
//!   (per day, product and dose number), which carry no priority group.
//! - **Targets**: the campaign's area gets `target_for_coverage(eligible,
//!   percent)` each time it is split (so a new split follows registrations
//!   made since); an area below it keeps the part its parent's split gave
//!   it. A split stores every child's part (largest remainder, so the parts
//!   sum to the whole exactly); when a child's part changes, the targets
//!   stored further below it no longer add up and are cleared.
//! - **Daily targets** spread an area's target evenly over every day from
//!   the first wave's start (the campaign's creation day before any wave)
//!   to the target date: mass-vaccination sites work every day.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;
use time::Date;
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::campaign as campaign_rules;
pub use vaxgrid_core::campaign::TargetBasis;
use vaxgrid_core::coverage::{contribution, split_groups, ALL_GROUPS};
use vaxgrid_core::targets::{daily_targets, split_target, target_for_coverage, Share, TargetError};

use crate::audit::{self, AuditEntry};
use crate::db::in_json;
use crate::doses::{dose_from_row, valid_doses, DOSE_COLUMNS};
use crate::error::StoreError;
use crate::model::{Actor, Area, DoseRecord, Page};
use crate::scope::Scope;
use crate::Store;

pub use vaxgrid_core::campaign::{MAX_PRODUCTS, MAX_TARGET_YEARS, MAX_WAVES, WAVE_LATE_DAYS};
/// Default minimum age: the adult population.
pub const ADULT_YEARS: u32 = 18;

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub id: String,
    pub name: String,
    pub disease: String,
    pub area_code: String,
    pub products: Vec<String>,
    /// In priority order.
    pub priority_groups: Vec<String>,
    /// 800 = 80.0%; ignored when `target_people` is given.
    pub target_percent_tenths: u32,
    /// The target as a number of people in the campaign's area, as plans
    /// state it (instead of a percentage).
    pub target_people: Option<u64>,
    /// What the target applies to.
    pub target_basis: TargetBasis,
    pub target_date: Date,
    pub min_age_years: u32,
    /// Entering a campaign already run (an administrator loading history):
    /// why. It lifts the rule that the target date is not past; audited.
    pub history_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub disease: String,
    pub area_code: String,
    pub products: Vec<String>,
    /// In priority order.
    pub priority_groups: Vec<String>,
    /// 80.0 = 80%; None when the target is a number of people.
    pub target_percent: Option<f64>,
    pub target_percent_tenths: u32,
    /// The target as a number of people in the campaign's area.
    pub target_people: Option<i64>,
    /// priority_groups (the population of the campaign's priority groups)
    /// or population (everyone registered).
    pub target_basis: String,
    pub target_date: String,
    pub min_age_years: u32,
    pub created_at: String,
    /// In order.
    pub waves: Vec<Wave>,
    created_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone)]
pub struct NewWave {
    pub id: String,
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub eligible_groups: Vec<String>,
    /// Entering a wave already run: why. It lifts the rule that a wave
    /// starts at most WAVE_LATE_DAYS before its campaign was entered.
    pub history_reason: Option<String>,
}

/// One child's part of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPart {
    pub area_code: String,
    pub name: String,
    pub eligible: i64,
    pub people: i64,
    /// Entered by hand rather than proportional.
    pub fixed: bool,
}

/// The result of splitting an area's target among its children.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// An area's target beside what it has reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub area_code: String,
    pub name: String,
    pub level: String,
    /// None until a split gave the area a part.
    pub target: Option<i64>,
    pub fixed: bool,
    pub eligible: i64,
    /// Cumulative (see the module documentation).
    pub reached: i64,
    pub completed: i64,
    /// People a day the sites serving the area can vaccinate: the daily
    /// capacity of sites whose catchment includes it, or, for a site
    /// without a catchment, whose own area lies under it
    /// (`Store::site_capacity_of`).
    pub site_capacity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDay {
    pub day: String,
    /// The area's target spread over the days (None without a target).
    pub target: Option<i64>,
    /// First doses given that day with the campaign's products.
    pub actual: i64,
    /// Places in the sessions opened that day at sites in the area.
    pub capacity: i64,
    /// The daily capacity of the sites serving the area (the area's
    /// `site_capacity`), beside the sessions' places.
    pub site_capacity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Doses given between the wave's first and last day, all groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveDoses {
    pub dose_1: i64,
    pub dose_2: i64,
    pub later_doses: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Each day of the wave: the area's daily dose target beside the doses
    /// given (all dose numbers, the campaign's products).
    pub days: Vec<WaveDay>,
}

/// Serious adverse events and deaths after a wave's doses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveSafety {
    pub serious_events: i64,
    pub deaths: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveDay {
    pub day: String,
    pub target: Option<i64>,
    pub done: i64,
}

/// A campaign's daily dose target in an area, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyTarget {
    pub campaign_id: String,
    pub area_code: String,
    pub doses_per_day: i64,
    /// The area's eligible population the target was checked against.
    pub eligible: i64,
}

/// Where a person of a survey list stands. Only the first three are derived
/// today; the visit workflow will add the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyStatus {
    NotYet,
    Booked,
    Vaccinated,
    Deferred,
    Refused,
    Contraindicated,
}

impl SurveyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStatus::NotYet => "not_yet",
            SurveyStatus::Booked => "booked",
            SurveyStatus::Vaccinated => "vaccinated",
            SurveyStatus::Deferred => "deferred",
            SurveyStatus::Refused => "refused",
            SurveyStatus::Contraindicated => "contraindicated",
        }
    }
}

/// One line of a target survey list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub person_id: String,
    /// Where the person lives (the list's order and cursor; `home_area`
    /// names the area).
    pub area_path: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub home_area: String,
    pub priority_groups: Vec<String>,
    /// vaccinated: a valid dose of a campaign product; booked: a booked
    /// appointment; else not_yet.
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

/// Persons a round of a survey list of one status walks at most, once the
/// rounds have grown: a status may be rare in an area (not yet, in a
/// vaccinated commune).
const SURVEY_ROUND: usize = 4_000;

/// A line of the survey list as read from `persons`, its status not yet
/// decided.
fn survey_row(r: &sqlx::any::AnyRow) -> Result<SurveyRow, StoreError> {
    Ok(SurveyRow {
        person_id: r.try_get("id")?,
        area_path: r.try_get("area_path")?,
        full_name: r.try_get("full_name")?,
        birth_date: r.try_get("birth_date")?,
        sex: r.try_get("sex")?,
        id_type: r.try_get("id_type")?,
        id_number: r.try_get("id_number")?,
        phone: r.try_get("phone")?,
        home_area: r.try_get("home_area")?,
        priority_groups: split_groups(&r.try_get::<String, _>("priority_groups")?),
        status: SurveyStatus::NotYet,
        valid_doses: 0,
        series_complete: false,
        last_dose_on: None,
        appointment_at: None,
        deferred_until: None,
        reason: None,
    })
}

/// A condition on the person whose id is `person` that every person of
/// `status` meets, read from their own records through indexes (`doses_person`,
/// `doses_corrects`, `appointments_person`, `visits_person`,
/// `persons_merged_into`); the campaign's `products` are parameters
/// `$first…`. It may keep a few of another status (the exact status also
/// counts the records merged into a person): the caller decides those.
fn status_condition(status: SurveyStatus, person: &str, first: usize, products: usize) -> String {
    let products = if products == 0 {
        // No product: nobody is vaccinated.
        "1 = 0".to_string()
    } else {
        format!("d.product_code IN ({})", crate::db::params(first, products))
    };
    let valid_dose = format!(
        "EXISTS (SELECT 1 FROM doses d WHERE d.person_id = {person} AND {products} \
         AND d.kind <> 'entered_in_error' AND NOT EXISTS (SELECT 1 FROM doses x \
         WHERE x.corrects_id = d.id AND x.kind = 'entered_in_error'))"
    );
    let booked = format!(
        "EXISTS (SELECT 1 FROM appointments a WHERE a.person_id = {person} AND a.status = 'booked')"
    );
    let merged = format!("EXISTS (SELECT 1 FROM persons m WHERE m.merged_into = {person})");
    let ended = |outcome: &str| {
        format!(
            "NOT {valid_dose} AND NOT {booked} AND EXISTS (SELECT 1 FROM visits v \
             WHERE v.person_id = {person} AND v.outcome = '{outcome}')"
        )
    };
    match status {
        SurveyStatus::Vaccinated => format!("({valid_dose} OR {merged})"),
        SurveyStatus::Booked => format!("NOT {valid_dose} AND ({booked} OR {merged})"),
        SurveyStatus::NotYet => format!("NOT {valid_dose} AND NOT {booked}"),
        SurveyStatus::Deferred => ended("deferred"),
        SurveyStatus::Refused => ended("refused"),
        SurveyStatus::Contraindicated => ended("contraindicated"),
    }
}

/// The latest birth date of a person at least `years` old on `day`;
/// 29 February birthdays count from 1 March in other years, as in
/// `vaxgrid_core::dose::birthday`.
pub fn born_on_or_before(day: Date, years: u32) -> Date {
    let year = day.year() - years as i32;
    Date::from_calendar_date(year, day.month(), day.day()).unwrap_or_else(|_| {
        Date::from_calendar_date(year, time::Month::February, 28).expect("28 February exists")
    })
}

/// The reason given for entering history, checked (core's rule).
fn history_reason(reason: Option<&str>) -> Result<Option<String>, StoreError> {
    reason
        .map(|r| {
            vaxgrid_core::history::check_reason(r)
                .map_err(|m| StoreError::invalid("history_reason", m))
        })
        .transpose()
}

fn not_found(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

/// Trimmed, inner whitespace collapsed, 1 to `max` characters.
fn text(field: &'static str, value: &str, max: usize) -> Result<String, StoreError> {
    Ok(campaign_rules::clean_text(field, value, max)?)
}

fn groups_ok(field: &'static str, groups: &[String]) -> Result<(), StoreError> {
    Ok(campaign_rules::distinct_groups(field, groups)?)
}

/// Whether `scope` reaches into the subtree at `path` or above it: a
/// district's planner sees the province's campaign (and works on their
/// district's part of it).
fn overlaps(scope: &Scope, path: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Limited { paths, .. } => {
            scope.covers_path(path) || paths.iter().any(|p| p.starts_with(path))
        }
    }
}

/// The counter groups to sum: the listed groups, or everyone.
fn basis(groups: &[String]) -> Vec<String> {
    if groups.is_empty() {
        vec![ALL_GROUPS.to_string()]
    } else {
        groups.to_vec()
    }
}

/// The counter groups a campaign's target is drawn from: its priority
/// groups, or everyone when the planner chose the whole population.
fn basis_of(target_basis: TargetBasis, groups: &[String]) -> Vec<String> {
    match target_basis {
        TargetBasis::Population => basis(&[]),
        TargetBasis::PriorityGroups => basis(groups),
    }
}

fn campaign_basis(c: &Campaign) -> Vec<String> {
    basis_of(TargetBasis::stored(&c.target_basis), &c.priority_groups)
}

/// The target of the campaign's own area: its number of people (at most
/// the eligible population), or its percentage of the eligible population.
fn own_target(c: &Campaign, area: &str, eligible: u64) -> Result<u64, StoreError> {
    match c.target_people {
        Some(people) => {
            let people = u64::try_from(people).unwrap_or(0);
            campaign_rules::within_eligible("target_people", people, eligible, area)?;
            Ok(people)
        }
        None => target_for_coverage(eligible, c.target_percent_tenths)
            .map_err(|_| percent_error(c.target_percent_tenths)),
    }
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

fn percent_error(tenths: u32) -> StoreError {
    StoreError::invalid(
        "target_percent",
        format!(
            "a coverage target of {}.{}% is above 100%",
            tenths / 10,
            tenths % 10
        ),
    )
}

/// Stores an area's target part (people, and whether it was fixed).
const TARGET_UPSERT: &str = "INSERT INTO area_targets (campaign_id, area_code, people, fixed) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (campaign_id, area_code) DO UPDATE SET people = excluded.people, fixed = excluded.fixed";

/// The parts given for children of `parent` (child area, people), by
/// area: each a child, given once, and not beyond what a target holds.
fn given_parts(
    fixed: &[(String, u64)],
    children: &[Area],
    parent: &str,
) -> Result<HashMap<String, u64>, StoreError> {
    let mut given: HashMap<String, u64> = HashMap::new();
    for (i, (code, people)) in fixed.iter().enumerate() {
        if !children.iter().any(|c| &c.code == code) {
            return Err(StoreError::invalid(
                format!("fixed[{i}].area"),
                format!("area '{code}' is not directly under {parent}"),
            ));
        }
        if given.insert(code.clone(), *people).is_some() {
            return Err(StoreError::invalid(
                format!("fixed[{i}].area"),
                format!("area {code} is given twice"),
            ));
        }
        if *people > i64::MAX as u64 {
            return Err(StoreError::invalid(
                format!("fixed[{i}].people"),
                "too many people",
            ));
        }
    }
    Ok(given)
}

/// `total` split among `children` in proportion to their eligible
/// population, keeping the parts `given`.
fn split_parts(
    total: u64,
    children: &[Area],
    given: &HashMap<String, u64>,
    eligible: &dyn Fn(&str) -> i64,
) -> Result<Vec<(String, u64)>, StoreError> {
    let shares: Vec<Share> = children
        .iter()
        .map(|c| Share {
            area_code: c.code.clone(),
            weight: eligible(&c.code) as u64,
            fixed: given.get(&c.code).copied(),
        })
        .collect();
    split_target(total, &shares)
        .map_err(|e| StoreError::invalid(split_error_field(&e, !given.is_empty()), e.to_string()))
}

/// The field a refused split names: the parts given when they are at
/// fault (`any_given`: some were), else the area.
fn split_error_field(e: &TargetError, any_given: bool) -> &'static str {
    match e {
        TargetError::FixedExceedTotal { .. } | TargetError::DuplicateArea(_) => "fixed",
        TargetError::NoWeight { .. } if any_given => "fixed",
        TargetError::NoWeight { .. } => "area",
        other => other.field(),
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// SQL that a stored set of groups (`column`, as `persons.priority_groups`)
/// meets `groups` (the counter groups of [`basis`]: everyone is `*`), and
/// its LIKE patterns, bound from `$first` on.
fn meets_groups(column: &str, groups: &[String], first: usize) -> (String, Vec<String>) {
    if groups.iter().any(|g| g == ALL_GROUPS) {
        return ("1 = 1".to_string(), Vec::new());
    }
    let patterns: Vec<String> = groups
        .iter()
        .map(|g| format!("%,{},%", g.replace('_', "\\_")))
        .collect();
    let any: Vec<String> = (0..patterns.len())
        .map(|i| format!("(',' || {column} || ',') LIKE ${} ESCAPE '\\'", first + i))
        .collect();
    let condition = if any.is_empty() {
        "1 = 0".to_string()
    } else {
        format!("({})", any.join(" OR "))
    };
    (condition, patterns)
}

/// SQL for the exclusive upper bound of the path column of `areas c`.
const UPPER: &str = "substr(c.path, 1, length(c.path) - 1) || '0'";

#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    eligible: i64,
    at_least_one: i64,
    completed: i64,
}

pub(crate) fn campaign_from_row(r: &sqlx::any::AnyRow) -> Result<Campaign, StoreError> {
    let list = |col: &str| -> Result<Vec<String>, StoreError> {
        let raw: String = r.try_get(col)?;
        serde_json::from_str(&raw)
            .map_err(|e| StoreError::invalid(col, format!("stored list is not JSON: {e}")))
    };
    let tenths: i64 = r.try_get("target_percent_tenths")?;
    let created: i64 = r.try_get("created_at")?;
    let people: Option<i64> = r.try_get("target_people")?;
    Ok(Campaign {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        disease: r.try_get("disease")?,
        area_code: r.try_get("area_code")?,
        products: list("products")?,
        priority_groups: list("priority_groups")?,
        target_percent: people.is_none().then_some(tenths as f64 / 10.0),
        target_percent_tenths: u32::try_from(tenths).unwrap_or(0),
        target_people: people,
        target_basis: TargetBasis::stored(&r.try_get::<String, _>("target_basis")?)
            .as_str()
            .to_string(),
        target_date: r.try_get("target_date")?,
        min_age_years: u32::try_from(r.try_get::<i64, _>("min_age_years")?).unwrap_or(0),
        created_at: crate::format_instant(created),
        waves: Vec::new(),
        created_micros: created,
    })
}

pub(crate) fn wave_from_row(r: &sqlx::any::AnyRow) -> Result<Wave, StoreError> {
    let groups: String = r.try_get("eligible_groups")?;
    Ok(Wave {
        id: r.try_get("id")?,
        campaign_id: r.try_get("campaign_id")?,
        ordinal: r.try_get("ordinal")?,
        name: r.try_get("name")?,
        starts_on: r.try_get("starts_on")?,
        ends_on: r.try_get("ends_on")?,
        eligible_groups: serde_json::from_str(&groups).map_err(|e| {
            StoreError::invalid("eligible_groups", format!("stored list is not JSON: {e}"))
        })?,
    })
}

pub(crate) const CAMPAIGN_COLUMNS: &str =
    "id, name, disease, area_code, products, priority_groups, \
    target_percent_tenths, target_date, min_age_years, created_at, target_people, target_basis";
pub(crate) const WAVE_COLUMNS: &str =
    "id, campaign_id, ordinal, name, starts_on, ends_on, eligible_groups";

/// A new campaign's checked fields.
struct CheckedCampaign {
    name: String,
    disease: String,
    area: Area,
    history: Option<String>,
}

/// The day a new wave's dates are checked as of: the campaign's creation
/// day (today when unreadable). History lifts the rule that a wave starts
/// at most `WAVE_LATE_DAYS` before the campaign was entered: it is then
/// checked as if entered then.
fn wave_checked_as_of(created_micros: i64, today: Date, history: bool, starts_on: Date) -> Date {
    let created = created_on(created_micros, today);
    if history {
        created.min(starts_on + time::Duration::days(WAVE_LATE_DAYS))
    } else {
        created
    }
}

/// Adds a wave after the campaign's last; returns its ordinal. Its id
/// used already, or a wave added at the same moment, is a conflict.
async fn insert_wave(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    campaign_id: &str,
    new: &NewWave,
    name: &str,
) -> Result<i64, StoreError> {
    let last: Option<i64> =
        sqlx::query("SELECT MAX(ordinal) AS n FROM waves WHERE campaign_id = $1")
            .bind(campaign_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
    let ordinal = last.unwrap_or(0) + 1;
    let inserted = sqlx::query(&format!(
        "INSERT INTO waves ({WAVE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"
    ))
    .bind(&new.id)
    .bind(campaign_id)
    .bind(ordinal)
    .bind(name)
    .bind(crate::format_date(new.starts_on))
    .bind(crate::format_date(new.ends_on))
    .bind(json_list(&new.eligible_groups))
    .execute(&mut **tx)
    .await;
    let inserted = match inserted {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Conflict {
                field: "id",
                message: "another wave was added to the campaign at the same time; retry".into(),
                existing: None,
            })
        }
        other => other?,
    };
    if inserted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "id",
            message: format!("wave {} already exists", new.id),
            existing: None,
        });
    }
    Ok(ordinal)
}

/// Adds the children's figures to the parent's own (the parent's rows
/// were read without its children's subtrees).
fn add_children_to_parent(out: &mut HashMap<String, Figures>, parent: &str, children: &[&Area]) {
    let sum = children
        .iter()
        .filter_map(|c| out.get(&c.code).copied())
        .fold(Figures::default(), |a, f| Figures {
            eligible: a.eligible + f.eligible,
            at_least_one: a.at_least_one + f.at_least_one,
            completed: a.completed + f.completed,
        });
    if let Some(p) = out.get_mut(parent) {
        p.eligible += sum.eligible;
        p.at_least_one += sum.at_least_one;
        p.completed += sum.completed;
    }
}

/// The day a campaign was entered (`today` when unreadable).
fn created_on(created_micros: i64, today: Date) -> Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_micros) * 1000)
        .map(|t| t.date())
        .unwrap_or(today)
}

/// A campaign's period for its daily targets: from its first wave's start
/// (the day it was entered before any wave) to its target date.
fn campaign_period(campaign: &Campaign, today: Date) -> (Date, Date) {
    let start = campaign
        .waves
        .iter()
        .filter_map(|w| crate::parse_date(&w.starts_on))
        .min()
        .unwrap_or_else(|| created_on(campaign.created_micros, today));
    let end = crate::parse_date(&campaign.target_date).unwrap_or(start);
    (start, end)
}

/// What a target report's rows are read from, by area code.
struct RowFigures<'a> {
    figures: &'a HashMap<String, Figures>,
    /// The stored target (people, fixed).
    stored: &'a HashMap<String, (i64, bool)>,
    site_capacity: &'a HashMap<String, i64>,
}

impl RowFigures<'_> {
    /// An area's row of the target report.
    fn target_row(&self, a: &Area) -> TargetRow {
        let f = self.figures.get(&a.code).copied().unwrap_or_default();
        let s = self.stored.get(&a.code).copied();
        TargetRow {
            site_capacity: self.site_capacity.get(&a.code).copied().unwrap_or(0),
            area_code: a.code.clone(),
            name: a.name.clone(),
            level: a.level.as_str().to_string(),
            target: s.map(|s| s.0),
            fixed: s.is_some_and(|s| s.1),
            eligible: f.eligible,
            reached: f.at_least_one,
            completed: f.completed,
        }
    }
}

/// The area's target spread evenly over every day from `start` to `end`
/// (none when the area has no target).
fn planned_days(
    row: &TargetRow,
    (start, end): (Date, Date),
) -> Result<BTreeMap<Date, u64>, StoreError> {
    Ok(match row.target {
        Some(t) => daily_targets(u64::try_from(t).unwrap_or(0), start, end, |_| true)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?
            .into_iter()
            .collect(),
        None => BTreeMap::new(),
    })
}

/// Every day from `start` to `end` with its part of the area's target
/// (`planned`), the doses given (`actual`) and the capacity booked.
fn target_days(
    row: &TargetRow,
    (start, end): (Date, Date),
    planned: &BTreeMap<Date, u64>,
    actual: &HashMap<String, i64>,
    capacity: &HashMap<String, i64>,
) -> Vec<TargetDay> {
    let mut days = Vec::new();
    let mut day = Some(start);
    while let Some(d) = day.filter(|d| *d <= end) {
        let key = crate::format_date(d);
        days.push(TargetDay {
            target: row
                .target
                .map(|_| planned.get(&d).copied().map_or(0, to_i64)),
            actual: actual.get(&key).copied().unwrap_or(0),
            capacity: capacity.get(&key).copied().unwrap_or(0),
            site_capacity: row.site_capacity,
            day: key,
        });
        day = d.next_day();
    }
    days
}

/// The wave `wave_id` of a campaign (else NotFound).
fn wave_of<'a>(campaign: &'a Campaign, wave_id: &str) -> Result<&'a Wave, StoreError> {
    campaign
        .waves
        .iter()
        .find(|w| w.id == wave_id)
        .ok_or_else(|| not_found("wave", "wave", wave_id))
}

/// What a wave's progress rows are read from, by area code.
struct ProgressFigures<'a> {
    campaign: &'a Campaign,
    figures: &'a HashMap<String, Figures>,
    /// The stored target (people, fixed).
    stored: &'a HashMap<String, (i64, bool)>,
    daily: &'a HashMap<String, i64>,
}

impl ProgressFigures<'_> {
    /// An area's row of the wave's progress.
    fn progress_row(&self, a: &Area) -> Result<ProgressRow, StoreError> {
        let f = self.figures.get(&a.code).copied().unwrap_or_default();
        let stored_part = self.stored.get(&a.code).map(|s| s.0);
        Ok(ProgressRow {
            area_code: a.code.clone(),
            name: a.name.clone(),
            level: a.level.as_str().to_string(),
            eligible: f.eligible,
            wave_target: wave_target(self.campaign, stored_part, f.eligible)?,
            campaign_target: stored_part,
            daily_target: self.daily.get(&a.code).copied(),
            at_least_one: f.at_least_one,
            completed: f.completed,
        })
    }
}

/// An area's target for a wave. A campaign target in people: the area's
/// part of it (`stored_part`), at most the wave's eligible population; a
/// percentage: of the wave's eligible population.
fn wave_target(
    campaign: &Campaign,
    stored_part: Option<i64>,
    eligible: i64,
) -> Result<i64, StoreError> {
    Ok(match campaign.target_people {
        Some(_) => stored_part.unwrap_or(0).min(eligible.max(0)),
        None => to_i64(
            target_for_coverage(eligible.max(0) as u64, campaign.target_percent_tenths)
                .map_err(|_| percent_error(campaign.target_percent_tenths))?,
        ),
    })
}

/// Every day of a wave with the area's daily target and the doses given
/// (`done`, by day); none when the wave's stored dates are unreadable.
fn wave_days(wave: &Wave, target: Option<i64>, done: &HashMap<String, i64>) -> Vec<WaveDay> {
    let mut days = Vec::new();
    let (first, last) = (
        crate::parse_date(&wave.starts_on),
        crate::parse_date(&wave.ends_on),
    );
    if let (Some(first), Some(last)) = (first, last) {
        let mut day = Some(first);
        while let Some(d) = day.filter(|d| *d <= last) {
            let key = crate::format_date(d);
            days.push(WaveDay {
                target,
                done: done.get(&key).copied().unwrap_or(0),
                day: key,
            });
            day = d.next_day();
        }
    }
    days
}

/// Where the survey list reads on from: before every person of the area
/// on the first page (an id is never empty), else after the last person
/// of the page before (a cursor of another area below this one is taken
/// from the area's start).
fn survey_start(area_path: &str, after: Option<&str>) -> Result<(String, String), StoreError> {
    let start = (area_path.to_string(), String::new());
    Ok(match after {
        Some(c) => {
            let mut k = crate::paging::decode_cursor(c, 2)?;
            let id = k.pop().unwrap_or_default();
            (k.pop().unwrap_or_default(), id).max(start)
        }
        None => start,
    })
}

/// Whom a survey list lists.
struct SurveyFilter<'a> {
    area: &'a Area,
    wave: &'a Wave,
    /// The latest birth date of the campaign's minimum age.
    cutoff: Date,
    scope: &'a Scope,
    status: Option<SurveyStatus>,
}

/// The survey list's statement and its values, but for the last three:
/// the key to read on after (area path, id) and the round's size.
struct SurveyQuery {
    sql: String,
    binds: Vec<String>,
}

impl SurveyQuery {
    /// The statement for `filter`; `products` are the campaign's (a
    /// status is read from their doses).
    fn new(filter: &SurveyFilter, products: &[String]) -> SurveyQuery {
        let mut binds: Vec<String> = vec![
            subtree_upper_bound(&filter.area.path),
            crate::format_date(filter.cutoff),
        ];
        let mut conditions = vec![
            "p.merged_into IS NULL".to_string(),
            "p.area_path < $1".to_string(),
            "p.birth_date <= $2".to_string(),
        ];
        if !filter.wave.eligible_groups.is_empty() {
            let mut any = Vec::new();
            for g in &filter.wave.eligible_groups {
                binds.push(format!("%,{},%", g.replace('_', "\\_")));
                any.push(format!(
                    "(',' || p.priority_groups || ',') LIKE ${} ESCAPE '\\'",
                    binds.len()
                ));
            }
            conditions.push(format!("({})", any.join(" OR ")));
        }
        if let Some((condition, values)) = filter.scope.sql("p.area_path", "p.id", binds.len() + 1)
        {
            binds.extend(values);
            conditions.push(condition);
        }
        let kept = match filter.status {
            Some(status) => {
                let first = binds.len() + 1;
                binds.extend(products.iter().cloned());
                format!(
                    "WHERE s.n = ${} OR ({})",
                    binds.len() + 3,
                    status_condition(status, "s.id", first, products.len())
                )
            }
            None => String::new(),
        };
        let n = binds.len();
        // The inner statement walks the index in order for at most `$n+3`
        // persons (its LIMIT keeps PostgreSQL's planner on the ordered
        // index scan, whatever it guesses of the status); the outer one
        // keeps those of the status, and the last person walked (`n`), from
        // whom the next round reads on.
        let sql = format!(
            "SELECT s.* FROM (SELECT p.id, p.area_path, p.full_name, p.birth_date, p.sex, \
             p.id_type, p.id_number, p.phone, p.home_area, p.priority_groups, \
             row_number() OVER (ORDER BY p.area_path, p.id) AS n FROM persons p \
             WHERE (p.area_path, p.id) > (${}, ${}) AND {} ORDER BY p.area_path, p.id LIMIT ${}) s {kept}",
            n + 1,
            n + 2,
            conditions.join(" AND "),
            n + 3
        );
        SurveyQuery { sql, binds }
    }
}

/// A surveyed person's status: vaccinated (a valid dose of the campaign's
/// products), else booked, else how their last visit ended early (a
/// deferral still running), else not yet.
fn survey_status(vaccinated: bool, booked: bool, ending: Option<&str>) -> SurveyStatus {
    if vaccinated {
        SurveyStatus::Vaccinated
    } else if booked {
        SurveyStatus::Booked
    } else {
        match ending {
            Some("contraindicated") => SurveyStatus::Contraindicated,
            Some("refused") => SurveyStatus::Refused,
            Some("deferred") => SurveyStatus::Deferred,
            _ => SurveyStatus::NotYet,
        }
    }
}

/// A campaign with the area it covers and the area a request is about.
struct Resolved {
    campaign: Campaign,
    area: Area,
}

impl Store {
    /// Creates a campaign over an area in the actor's scope.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_campaign(
        &self,
        new: &NewCampaign,
        actor: &Actor,
    ) -> Result<Campaign, StoreError> {
        let checked = self.check_new_campaign(new, actor).await?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO campaigns ({CAMPAIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO NOTHING"
        ))
        .bind(&new.id)
        .bind(&checked.name)
        .bind(&checked.disease)
        .bind(&checked.area.code)
        .bind(json_list(&new.products))
        .bind(json_list(&new.priority_groups))
        .bind(i64::from(new.target_percent_tenths))
        .bind(crate::format_date(new.target_date))
        .bind(i64::from(new.min_age_years))
        .bind(self.now_micros())
        .bind(new.target_people.map(to_i64))
        .bind(new.target_basis.as_str())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("campaign {} already exists", new.id),
                existing: Some(format!("/api/v1/campaigns/{}", new.id)),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "campaign",
                &new.id,
                serde_json::json!({"area_code": checked.area.code, "disease": checked.disease,
                    "products": new.products, "target_percent_tenths": new.target_percent_tenths,
                    "target_people": new.target_people, "target_basis": new.target_basis.as_str(),
                    "target_date": crate::format_date(new.target_date), "history_reason": checked.history}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(self.load_campaign(&new.id).await?.0)
    }

    /// Checks a campaign to create, field by field in the form's order:
    /// texts, an area in the actor's scope, known products, groups, the
    /// target (percentage, date, minimum age, basis, people within the
    /// eligible population) and a history reason.
    async fn check_new_campaign(
        &self,
        new: &NewCampaign,
        actor: &Actor,
    ) -> Result<CheckedCampaign, StoreError> {
        let name = text("name", &new.name, 200)?;
        let disease = text("disease", &new.disease, 100)?;
        let area = self
            .area(&new.area_code)
            .await
            .map_err(|_| not_found("area", "area_code", &new.area_code))?;
        if !actor.scope.covers_path(&area.path) {
            return Err(not_found("area", "area_code", &new.area_code));
        }
        campaign_rules::distinct_products(&new.products)?;
        for p in &new.products {
            self.product(p)
                .await
                .map_err(|_| not_found("product", "products", p))?;
        }
        groups_ok("priority_groups", &new.priority_groups)?;
        if target_for_coverage(0, new.target_percent_tenths).is_err() {
            return Err(percent_error(new.target_percent_tenths));
        }
        let history = history_reason(new.history_reason.as_deref())?;
        // History lifts the rule that the target date is not past (the
        // bound ahead still holds): it is checked as of that date.
        let today = self.today();
        let as_of = if history.is_some() {
            today.min(new.target_date)
        } else {
            today
        };
        campaign_rules::check_target_date(new.target_date, as_of)?;
        campaign_rules::check_min_age(new.min_age_years)?;
        if new.target_basis == TargetBasis::PriorityGroups && new.priority_groups.is_empty() {
            return Err(StoreError::invalid(
                "target_basis",
                "the campaign lists no priority groups; its target applies to the population",
            ));
        }
        if let Some(people) = new.target_people {
            let groups = basis_of(new.target_basis, &new.priority_groups);
            let eligible = self.eligible_in(&area, &groups, &new.products).await?;
            campaign_rules::within_eligible("target_people", people, eligible as u64, &area.code)?;
        }
        Ok(CheckedCampaign {
            name,
            disease,
            area,
            history,
        })
    }

    /// The campaign and its area, whoever asks.
    async fn load_campaign(&self, id: &str) -> Result<(Campaign, Area), StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("campaign", "id", id))?;
        let mut campaign = campaign_from_row(&row)?;
        let waves = sqlx::query(&format!(
            "SELECT {WAVE_COLUMNS} FROM waves WHERE campaign_id = $1 ORDER BY ordinal"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        campaign.waves = waves.iter().map(wave_from_row).collect::<Result<_, _>>()?;
        let area = self.area(&campaign.area_code).await?;
        Ok((campaign, area))
    }

    /// The campaign, if its area and `scope` overlap (else NotFound).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn campaign(&self, id: &str, scope: &Scope) -> Result<Campaign, StoreError> {
        let (campaign, area) = self.load_campaign(id).await?;
        if !overlaps(scope, &area.path) {
            return Err(not_found("campaign", "id", id));
        }
        Ok(campaign)
    }

    /// The campaign `scope` sees and the area a read is about (the
    /// campaign's own by default), which must lie in the campaign's area
    /// and in `scope` (else NotFound, as if absent).
    async fn resolve(
        &self,
        campaign_id: &str,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<Resolved, StoreError> {
        let (campaign, campaign_area) = self.load_campaign(campaign_id).await?;
        if !overlaps(scope, &campaign_area.path) {
            return Err(not_found("campaign", "id", campaign_id));
        }
        let code = area.unwrap_or(&campaign.area_code);
        let area = self
            .area(code)
            .await
            .map_err(|_| not_found("area", "area", code))?;
        if !scope.covers_path(&area.path) {
            return Err(not_found("area", "area", code));
        }
        if !area.path.starts_with(&campaign_area.path) {
            return Err(StoreError::invalid(
                "area",
                format!(
                    "area {} is not within the campaign's area {}",
                    area.code, campaign_area.code
                ),
            ));
        }
        Ok(Resolved { campaign, area })
    }

    /// Adds a wave to a campaign whose area the actor manages.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_wave(
        &self,
        campaign_id: &str,
        new: &NewWave,
        actor: &Actor,
    ) -> Result<Wave, StoreError> {
        let campaign = self.campaign_planned_by(campaign_id, actor).await?;
        let history = history_reason(new.history_reason.as_deref())?;
        let created = wave_checked_as_of(
            campaign.created_micros,
            self.today(),
            history.is_some(),
            new.starts_on,
        );
        let name = campaign_rules::check_wave(
            &campaign_rules::WaveDraft {
                name: &new.name,
                starts_on: new.starts_on,
                ends_on: new.ends_on,
                eligible_groups: &new.eligible_groups,
            },
            &campaign_rules::CampaignFacts {
                created_on: created,
                target_date: crate::parse_date(&campaign.target_date).unwrap_or(Date::MAX),
                priority_groups: &campaign.priority_groups,
                waves: campaign.waves.len(),
            },
        )?;
        let mut tx = self.begin_write().await?;
        let ordinal = insert_wave(&mut tx, campaign_id, new, &name).await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "wave",
                &new.id,
                serde_json::json!({"campaign_id": campaign_id, "ordinal": ordinal,
                    "starts_on": crate::format_date(new.starts_on), "ends_on": crate::format_date(new.ends_on),
                    "eligible_groups": new.eligible_groups, "history_reason": history}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Wave {
            id: new.id.clone(),
            campaign_id: campaign_id.to_string(),
            ordinal,
            name,
            starts_on: crate::format_date(new.starts_on),
            ends_on: crate::format_date(new.ends_on),
            eligible_groups: new.eligible_groups.clone(),
        })
    }

    /// The campaign, if the actor plans for its whole area: absent when
    /// their areas do not meet it, forbidden when they cover only part.
    async fn campaign_planned_by(
        &self,
        campaign_id: &str,
        actor: &Actor,
    ) -> Result<Campaign, StoreError> {
        let (campaign, area) = self.load_campaign(campaign_id).await?;
        if !overlaps(&actor.scope, &area.path) {
            return Err(not_found("campaign", "id", campaign_id));
        }
        if !actor.scope.covers_path(&area.path) {
            return Err(StoreError::Forbidden {
                field: "id",
                message: format!(
                    "the campaign covers area {}, beyond the areas you plan for",
                    area.code
                ),
            });
        }
        Ok(campaign)
    }

    /// Population, reached and completed in each of `areas` (their whole
    /// subtrees), for the counter `groups` and the campaign `products`.
    /// `areas` is a parent followed by all its children: the children are
    /// read over their subtrees, the parent reads only its own rows (persons
    /// living in it rather than in a child) and adds its children's, so
    /// every counter row is read once.
    async fn figures(
        &self,
        areas: &[&Area],
        groups: &[String],
        products: &[String],
    ) -> Result<HashMap<String, Figures>, StoreError> {
        let Some((parent, children)) = areas.split_first() else {
            return Ok(HashMap::new());
        };
        let codes: Vec<String> = children.iter().map(|a| a.code.clone()).collect();
        let mut out: HashMap<String, Figures> = areas
            .iter()
            .map(|a| (a.code.clone(), Figures::default()))
            .collect();
        self.add_population(&mut out, &parent.code, &codes, groups)
            .await?;
        self.add_coverage(&mut out, &parent.code, &codes, groups, products)
            .await?;
        add_children_to_parent(&mut out, &parent.code, children);
        Ok(out)
    }

    /// Adds the eligible population to `out`: the children (`codes`) over
    /// their ranges, then the parent's own rows. Each person once: the sets
    /// of groups that meet `groups`.
    async fn add_population(
        &self,
        out: &mut HashMap<String, Figures>,
        parent: &str,
        codes: &[String],
        groups: &[String],
    ) -> Result<(), StoreError> {
        let (meets, patterns) = meets_groups("k.group_set", groups, 3);
        let population = format!(
            "SELECT c.code AS bucket, CAST(SUM(k.population) AS BIGINT) AS n FROM areas c \
             JOIN population_group_sets k ON k.area_path >= c.path AND k.area_path < {UPPER} \
             WHERE {} AND {meets} GROUP BY c.code \
             UNION ALL SELECT c.code AS bucket, CAST(SUM(k.population) AS BIGINT) AS n FROM areas c \
             JOIN population_group_sets k ON k.area_path = c.path \
             WHERE c.code = $2 AND {meets} GROUP BY c.code",
            in_json(self.backend, "c.code", 1),
        );
        let mut query = sqlx::query(&population).bind(json_list(codes)).bind(parent);
        for p in patterns {
            query = query.bind(p);
        }
        for r in query.fetch_all(&self.pool).await? {
            let bucket: String = r.try_get("bucket")?;
            if let Some(f) = out.get_mut(&bucket) {
                f.eligible += r.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
            }
        }
        Ok(())
    }

    /// Adds the persons reached and completed with the campaign's
    /// `products` to `out`, children then the parent's own rows.
    async fn add_coverage(
        &self,
        out: &mut HashMap<String, Figures>,
        parent: &str,
        codes: &[String],
        groups: &[String],
        products: &[String],
    ) -> Result<(), StoreError> {
        let coverage = format!(
            "SELECT c.code AS bucket, CAST(SUM(k.at_least_one) AS BIGINT) AS a, \
             CAST(SUM(k.completed) AS BIGINT) AS b FROM areas c \
             JOIN coverage_counters k ON k.area_path >= c.path AND k.area_path < {UPPER} \
             WHERE {} AND {} AND {} GROUP BY c.code \
             UNION ALL SELECT c.code AS bucket, CAST(SUM(k.at_least_one) AS BIGINT) AS a, \
             CAST(SUM(k.completed) AS BIGINT) AS b FROM areas c \
             JOIN coverage_counters k ON k.area_path = c.path \
             WHERE c.code = $4 AND {} AND {} GROUP BY c.code",
            in_json(self.backend, "c.code", 1),
            in_json(self.backend, "k.priority_group", 2),
            in_json(self.backend, "k.product_code", 3),
            in_json(self.backend, "k.priority_group", 2),
            in_json(self.backend, "k.product_code", 3)
        );
        for r in sqlx::query(&coverage)
            .bind(json_list(codes))
            .bind(json_list(groups))
            .bind(json_list(products))
            .bind(parent)
            .fetch_all(&self.pool)
            .await?
        {
            let bucket: String = r.try_get("bucket")?;
            if let Some(f) = out.get_mut(&bucket) {
                f.at_least_one += r.try_get::<Option<i64>, _>("a")?.unwrap_or(0);
                f.completed += r.try_get::<Option<i64>, _>("b")?.unwrap_or(0);
            }
        }
        Ok(())
    }

    /// The eligible population of an area's whole subtree.
    async fn eligible_in(
        &self,
        area: &Area,
        groups: &[String],
        products: &[String],
    ) -> Result<i64, StoreError> {
        let children = self
            .area_children(Some(&area.code), None, 100_000)
            .await?
            .items;
        let all: Vec<&Area> = std::iter::once(area).chain(children.iter()).collect();
        let figures = self.figures(&all, groups, products).await?;
        Ok(figures.get(&area.code).map_or(0, |f| f.eligible.max(0)))
    }

    /// Stored targets of `codes`: people and whether fixed by hand.
    async fn stored_targets<'e, E>(
        &self,
        executor: E,
        campaign_id: &str,
        codes: &[String],
    ) -> Result<HashMap<String, (i64, bool)>, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let rows = sqlx::query(&format!(
            "SELECT area_code, people, fixed FROM area_targets WHERE campaign_id = $1 AND {}",
            in_json(self.backend, "area_code", 2)
        ))
        .bind(campaign_id)
        .bind(json_list(codes))
        .fetch_all(executor)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("area_code")?,
                    (
                        r.try_get::<i64, _>("people")?,
                        r.try_get::<i64, _>("fixed")? != 0,
                    ),
                ))
            })
            .collect()
    }

    /// Splits an area's target among its children in proportion to their
    /// eligible population, keeping the parts given in `fixed` (child area,
    /// people), and stores the parts. The campaign's own area gets its
    /// coverage percentage of its eligible population; an area below it
    /// the part stored for it (or, before its parent was split, its own
    /// percentage).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decompose_targets(
        &self,
        campaign_id: &str,
        parent_area: &str,
        fixed: Vec<(String, u64)>,
        actor: &Actor,
    ) -> Result<TargetSplit, StoreError> {
        let (campaign, campaign_area) = self.load_campaign(campaign_id).await?;
        if !overlaps(&actor.scope, &campaign_area.path) {
            return Err(not_found("campaign", "id", campaign_id));
        }
        let parent = self
            .split_parent(parent_area, &campaign_area, actor)
            .await?;
        let children = self
            .area_children(Some(&parent.code), None, 100_000)
            .await?
            .items;
        if children.is_empty() {
            return Err(StoreError::invalid(
                "area",
                format!(
                    "area {} has no areas under it to split its target to",
                    parent.code
                ),
            ));
        }
        let given = given_parts(&fixed, &children, &parent.code)?;
        let groups = campaign_basis(&campaign);
        let all: Vec<&Area> = std::iter::once(&parent).chain(children.iter()).collect();
        let figures = self.figures(&all, &groups, &campaign.products).await?;
        let eligible = |code: &str| figures.get(code).map_or(0, |f| f.eligible.max(0));
        let own_target = || own_target(&campaign, &parent.code, eligible(&parent.code) as u64);
        let mut tx = self.begin_write().await?;
        let stored_parent = self
            .stored_targets(&mut *tx, campaign_id, std::slice::from_ref(&parent.code))
            .await?
            .remove(&parent.code);
        let is_root = parent.code == campaign.area_code;
        let total = match stored_parent {
            Some((people, _)) if !is_root => u64::try_from(people).unwrap_or(0),
            _ => own_target()?,
        };
        let parts = split_parts(total, &children, &given, &eligible)?;
        if is_root || stored_parent.is_none() {
            sqlx::query(TARGET_UPSERT)
                .bind(campaign_id)
                .bind(&parent.code)
                .bind(to_i64(total))
                .bind(0i64)
                .execute(&mut *tx)
                .await?;
        }
        let (out, cleared_below) = self
            .store_parts(&mut tx, campaign_id, &children, &parts, &given, &eligible)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "split",
                "campaign_target",
                campaign_id,
                serde_json::json!({"area_code": parent.code, "total": total,
                    "parts": out.iter().map(|p| serde_json::json!([p.area_code, p.people, p.fixed])).collect::<Vec<_>>(),
                    "cleared_below": cleared_below}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(TargetSplit {
            campaign_id: campaign_id.to_string(),
            area_code: parent.code.clone(),
            eligible: eligible(&parent.code),
            total: to_i64(total),
            parts: out,
            cleared_below,
        })
    }

    /// The area whose target is split: in the caller's areas and within
    /// the campaign's.
    async fn split_parent(
        &self,
        parent_area: &str,
        campaign_area: &Area,
        actor: &Actor,
    ) -> Result<Area, StoreError> {
        let parent = self
            .area(parent_area)
            .await
            .map_err(|_| not_found("area", "area", parent_area))?;
        if !actor.scope.covers_path(&parent.path) {
            return Err(not_found("area", "area", parent_area));
        }
        if !parent.path.starts_with(&campaign_area.path) {
            return Err(StoreError::invalid(
                "area",
                format!(
                    "area {} is not within the campaign's area {}",
                    parent.code, campaign_area.code
                ),
            ));
        }
        Ok(parent)
    }

    /// Inside a write transaction: each child's part stored (fixed or
    /// not); a child whose part changed loses the targets split below it.
    /// The parts as answered, and how many targets below were cleared.
    async fn store_parts(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        campaign_id: &str,
        children: &[Area],
        parts: &[(String, u64)],
        given: &HashMap<String, u64>,
        eligible: &(dyn Fn(&str) -> i64 + Sync),
    ) -> Result<(Vec<TargetPart>, u64), StoreError> {
        let codes: Vec<String> = children.iter().map(|c| c.code.clone()).collect();
        let before = self.stored_targets(&mut **tx, campaign_id, &codes).await?;
        let mut cleared_below = 0;
        let mut out = Vec::with_capacity(children.len());
        for (child, (_, people)) in children.iter().zip(parts) {
            let people = to_i64(*people);
            let is_fixed = given.contains_key(&child.code);
            if before.get(&child.code).map(|b| b.0) != Some(people) {
                cleared_below += sqlx::query(
                    "DELETE FROM area_targets WHERE campaign_id = $1 AND area_code IN \
                     (SELECT code FROM areas WHERE path > $2 AND path < $3)",
                )
                .bind(campaign_id)
                .bind(&child.path)
                .bind(subtree_upper_bound(&child.path))
                .execute(&mut **tx)
                .await?
                .rows_affected();
            }
            sqlx::query(TARGET_UPSERT)
                .bind(campaign_id)
                .bind(&child.code)
                .bind(people)
                .bind(i64::from(is_fixed))
                .execute(&mut **tx)
                .await?;
            out.push(TargetPart {
                area_code: child.code.clone(),
                name: child.name.clone(),
                eligible: eligible(&child.code),
                people,
                fixed: is_fixed,
            });
        }
        Ok((out, cleared_below))
    }

    /// An area's target and its children's, beside what they reached, and
    /// per day: target, first doses given and session capacity.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn targets(
        &self,
        campaign_id: &str,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<TargetReport, StoreError> {
        self.targets_of(campaign_id, area, scope, true).await
    }

    /// The same report without reading what happened each day: every day's
    /// `actual` and `capacity` are 0. For pages that show the targets only
    /// (the campaign's tree, the dashboard's daily target line), so that
    /// they do not read six months of daily counters they would not show.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn targets_planned(
        &self,
        campaign_id: &str,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<TargetReport, StoreError> {
        self.targets_of(campaign_id, area, scope, false).await
    }

    /// The target report of a campaign's area (or of an area within it):
    /// each row's figures and target, and the days from the campaign's
    /// start to its target date, with doses and capacity when `with_days`.
    async fn targets_of(
        &self,
        campaign_id: &str,
        area: Option<&str>,
        scope: &Scope,
        with_days: bool,
    ) -> Result<TargetReport, StoreError> {
        let Resolved { campaign, area } = self.resolve(campaign_id, area, scope).await?;
        let children = self
            .area_children(Some(&area.code), None, 100_000)
            .await?
            .items;
        let all: Vec<&Area> = std::iter::once(&area).chain(children.iter()).collect();
        let figures = self
            .figures(&all, &campaign_basis(&campaign), &campaign.products)
            .await?;
        let codes: Vec<String> = all.iter().map(|a| a.code.clone()).collect();
        let stored = self.stored_targets(&self.pool, campaign_id, &codes).await?;
        let paths: Vec<(&str, &str)> = all
            .iter()
            .map(|a| (a.code.as_str(), a.path.as_str()))
            .collect();
        let site_capacity = self.site_capacity_of(&paths).await?;
        let read = RowFigures {
            figures: &figures,
            stored: &stored,
            site_capacity: &site_capacity,
        };
        let area_row = read.target_row(&area);
        let children: Vec<TargetRow> = children.iter().map(|a| read.target_row(a)).collect();
        let children_target = children.iter().filter_map(|c| c.target).sum();
        let (start, end) = campaign_period(&campaign, self.today());
        let (from, to) = (crate::format_date(start), crate::format_date(end));
        let mut days = Vec::new();
        if start <= end {
            let planned = planned_days(&area_row, (start, end))?;
            let (actual, capacity) = if with_days {
                (
                    self.doses_by_day(&area.path, (&from, &to), &campaign.products, true)
                        .await?,
                    self.capacity_by_day(&area.path, &from, &to).await?,
                )
            } else {
                (HashMap::new(), HashMap::new())
            };
            days = target_days(&area_row, (start, end), &planned, &actual, &capacity);
        }
        Ok(TargetReport {
            campaign_id: campaign_id.to_string(),
            area: area_row,
            children,
            children_target,
            period_start: from,
            period_end: to,
            days,
        })
    }

    /// Doses per day in a subtree with the given products: first doses only
    /// (the campaign's daily progress against its target of people) or
    /// every dose number (a wave's work against its daily dose target).
    async fn doses_by_day(
        &self,
        path: &str,
        (from, to): (&str, &str),
        products: &[String],
        first_doses_only: bool,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let sql = format!(
            "SELECT day, CAST(SUM(doses) AS BIGINT) AS n FROM daily_dose_counters \
             WHERE area_path >= $1 AND area_path < $2 AND day >= $3 AND day <= $4{} \
             AND {} GROUP BY day",
            if first_doses_only {
                " AND dose_number = 1"
            } else {
                ""
            },
            in_json(self.backend, "product_code", 5)
        );
        let rows = sqlx::query(&sql)
            .bind(path)
            .bind(subtree_upper_bound(path))
            .bind(from)
            .bind(to)
            .bind(json_list(products))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("day")?,
                    r.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
                ))
            })
            .collect()
    }

    /// Daily dose targets of `codes` in a campaign.
    async fn daily_targets_of(
        &self,
        campaign_id: &str,
        codes: &[String],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT area_code, doses_per_day FROM daily_dose_targets WHERE campaign_id = $1 AND {}",
            in_json(self.backend, "area_code", 2)
        ))
        .bind(campaign_id)
        .bind(json_list(codes))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("area_code")?, r.try_get("doses_per_day")?)))
            .collect()
    }

    /// Sets the doses a day an area in the campaign's area (and in the
    /// actor's) is to give: at least one, at most its eligible population.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_daily_target(
        &self,
        campaign_id: &str,
        area_code: &str,
        doses_per_day: u64,
        actor: &Actor,
    ) -> Result<DailyTarget, StoreError> {
        let Resolved { campaign, area } = self
            .resolve(campaign_id, Some(area_code), &actor.scope)
            .await?;
        if doses_per_day == 0 {
            return Err(StoreError::invalid(
                "doses_per_day",
                "a daily dose target is at least one dose",
            ));
        }
        let eligible = self
            .eligible_in(&area, &campaign_basis(&campaign), &campaign.products)
            .await?;
        campaign_rules::within_eligible(
            "doses_per_day",
            doses_per_day,
            eligible as u64,
            &area.code,
        )?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO daily_dose_targets (campaign_id, area_code, doses_per_day, set_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (campaign_id, area_code) DO UPDATE SET \
             doses_per_day = excluded.doses_per_day, set_at = excluded.set_at",
        )
        .bind(campaign_id)
        .bind(&area.code)
        .bind(to_i64(doses_per_day))
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "set",
                "daily_dose_target",
                campaign_id,
                serde_json::json!({"area_code": area.code, "doses_per_day": doses_per_day}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(DailyTarget {
            campaign_id: campaign_id.to_string(),
            area_code: area.code,
            doses_per_day: to_i64(doses_per_day),
            eligible,
        })
    }

    /// Places per day in the sessions of sites in a subtree.
    async fn capacity_by_day(
        &self,
        path: &str,
        from: &str,
        to: &str,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT x.day AS day, CAST(SUM(s.capacity) AS BIGINT) AS n FROM slots s \
             JOIN vaccination_sessions x ON x.id = s.session_id \
             JOIN sites t ON t.code = x.site_code JOIN areas a ON a.code = t.area_code \
             WHERE a.path >= $1 AND a.path < $2 AND x.day >= $3 AND x.day <= $4 GROUP BY x.day",
        )
        .bind(path)
        .bind(subtree_upper_bound(path))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("day")?,
                    r.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
                ))
            })
            .collect()
    }

    /// Progress of a wave in an area and each of its children.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn wave_progress(
        &self,
        campaign_id: &str,
        wave_id: &str,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<WaveProgress, StoreError> {
        let Resolved { campaign, area } = self.resolve(campaign_id, area, scope).await?;
        let wave = wave_of(&campaign, wave_id)?;
        let children = self
            .area_children(Some(&area.code), None, 100_000)
            .await?
            .items;
        let all: Vec<&Area> = std::iter::once(&area).chain(children.iter()).collect();
        let figures = self
            .figures(&all, &basis(&wave.eligible_groups), &campaign.products)
            .await?;
        let codes: Vec<String> = all.iter().map(|a| a.code.clone()).collect();
        let stored = self.stored_targets(&self.pool, campaign_id, &codes).await?;
        let daily = self.daily_targets_of(campaign_id, &codes).await?;
        let read = ProgressFigures {
            campaign: &campaign,
            figures: &figures,
            stored: &stored,
            daily: &daily,
        };
        let area_row = read.progress_row(&area)?;
        let children = children
            .iter()
            .map(|a| read.progress_row(a))
            .collect::<Result<Vec<_>, _>>()?;
        let in_wave = self.doses_in_wave(&area, wave, &campaign.products).await?;
        let (serious_events, deaths) = self
            .aefi_serious_in(&area, &wave.starts_on, &wave.ends_on, &campaign.products)
            .await?;
        let done = self
            .doses_by_day(
                &area.path,
                (&wave.starts_on, &wave.ends_on),
                &campaign.products,
                false,
            )
            .await?;
        let days = wave_days(wave, area_row.daily_target, &done);
        Ok(WaveProgress {
            campaign_id: campaign_id.to_string(),
            wave_id: wave.id.clone(),
            starts_on: wave.starts_on.clone(),
            ends_on: wave.ends_on.clone(),
            eligible_groups: wave.eligible_groups.clone(),
            area: area_row,
            children,
            in_wave,
            safety: WaveSafety {
                serious_events,
                deaths,
            },
            days,
        })
    }

    /// The doses given during a wave in an area's subtree with the
    /// campaign's products, by dose number.
    async fn doses_in_wave(
        &self,
        area: &Area,
        wave: &Wave,
        products: &[String],
    ) -> Result<WaveDoses, StoreError> {
        let sql = format!(
            "SELECT dose_number, CAST(SUM(doses) AS BIGINT) AS n FROM daily_dose_counters \
             WHERE area_path >= $1 AND area_path < $2 AND day >= $3 AND day <= $4 AND {} \
             GROUP BY dose_number",
            in_json(self.backend, "product_code", 5)
        );
        let mut in_wave = WaveDoses::default();
        for r in sqlx::query(&sql)
            .bind(&area.path)
            .bind(subtree_upper_bound(&area.path))
            .bind(&wave.starts_on)
            .bind(&wave.ends_on)
            .bind(json_list(products))
            .fetch_all(&self.pool)
            .await?
        {
            let number: i64 = r.try_get("dose_number")?;
            let n = r.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
            match number {
                1 => in_wave.dose_1 += n,
                2 => in_wave.dose_2 += n,
                _ => in_wave.later_doses += n,
            }
            in_wave.total += n;
        }
        Ok(in_wave)
    }

    /// The target survey list of a wave in an area: every person living
    /// under the area (not merged away) in one of the wave's eligible
    /// groups (any person when it lists none) and at least the campaign's
    /// minimum age on the wave's first day, village by village (by area
    /// path, then id) after the cursor `after`, with their status. Each
    /// page read is audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn survey_list(
        &self,
        campaign_id: &str,
        wave_id: &str,
        area: Option<&str>,
        after: Option<&str>,
        limit: usize,
        actor: &Actor,
    ) -> Result<Page<SurveyRow>, StoreError> {
        self.survey_list_of(campaign_id, wave_id, area, None, after, limit, actor)
            .await
    }

    /// [`Store::survey_list`] keeping the persons of one status (`None`:
    /// everyone): a page holds `limit` of them (fewer only on the last
    /// page), however many of another status lie between.
    ///
    /// The statement walks the index `persons_area_path (area_path, id)` in
    /// its order from the cursor, so it stops after the page instead of
    /// reading and sorting the whole area (at 10 million persons, 4.2 s a
    /// page of a commune of 131,549). SQLite: `SEARCH p USING INDEX
    /// persons_area_path ((area_path,id)>(?,?) AND area_path<?)`, no temp
    /// B-tree; PostgreSQL: `Limit -> WindowAgg -> Index Scan using
    /// persons_area_path`, no Sort. A status is kept in the statement from
    /// the person's own records ([`status_condition`], never leaving out
    /// someone of that status), over rounds of persons walked growing to
    /// [`SURVEY_ROUND`]; the exact status, which also counts the records
    /// merged into the person, is decided here and the rows of another
    /// status dropped, reading on until the page is full.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn survey_list_of(
        &self,
        campaign_id: &str,
        wave_id: &str,
        area: Option<&str>,
        status: Option<SurveyStatus>,
        after: Option<&str>,
        limit: usize,
        actor: &Actor,
    ) -> Result<Page<SurveyRow>, StoreError> {
        let Resolved { campaign, area } = self.resolve(campaign_id, area, &actor.scope).await?;
        let wave = wave_of(&campaign, wave_id)?;
        let starts = crate::parse_date(&wave.starts_on)
            .ok_or_else(|| StoreError::invalid("starts_on", "stored wave start is not a date"))?;
        let cutoff = born_on_or_before(starts, campaign.min_age_years);
        let key = survey_start(&area.path, after)?;
        let query = SurveyQuery::new(
            &SurveyFilter {
                area: &area,
                wave,
                cutoff,
                scope: &actor.scope,
                status,
            },
            &campaign.products,
        );
        let people = self
            .walk_survey(&query, key, status, limit, &campaign.products)
            .await?;
        let page = Page::from_rows(people, limit, |p| {
            crate::paging::cursor(&[&p.area_path, &p.person_id])
        });
        self.audit(AuditEntry::by(
            actor,
            "read",
            "survey_list",
            wave_id,
            serde_json::json!({"campaign_id": campaign_id, "area": area.code,
                "after": after, "status": status.map(SurveyStatus::as_str),
                "persons": page.items.len()}),
        ))
        .await?;
        Ok(page)
    }

    /// Walks the survey list from `key` in rounds until a page of `limit`
    /// persons of `status` (and one more, to tell a next page) is read, or
    /// the area ends; each round's persons get their exact status.
    async fn walk_survey(
        &self,
        query: &SurveyQuery,
        mut key: (String, String),
        status: Option<SurveyStatus>,
        limit: usize,
        products: &[String],
    ) -> Result<Vec<SurveyRow>, StoreError> {
        let mut people: Vec<SurveyRow> = Vec::new();
        let mut round = 0;
        loop {
            // A round walks as many persons as the page still wants, then,
            // a status being rarer, four times the round before, up to
            // SURVEY_ROUND (each person returned has their records read).
            let want = limit + 1 - people.len();
            round = match status {
                Some(_) if round > 0 => (round * 4).clamp(want, SURVEY_ROUND.max(want)),
                _ => want,
            };
            let mut q = sqlx::query(&query.sql);
            for b in &query.binds {
                q = q.bind(b.clone());
            }
            let rows = q
                .bind(key.0.clone())
                .bind(key.1.clone())
                .bind(round as i64)
                .fetch_all(&self.pool)
                .await?;
            let mut full = false;
            let mut part = Vec::with_capacity(rows.len());
            for r in &rows {
                full |= r.try_get::<i64, _>("n")? == round as i64;
                part.push(survey_row(r)?);
            }
            part.sort_by(|a, b| (&a.area_path, &a.person_id).cmp(&(&b.area_path, &b.person_id)));
            self.fill_statuses(&mut part, products).await?;
            if let Some(last) = part.last() {
                key = (last.area_path.clone(), last.person_id.clone());
            }
            people.extend(
                part.into_iter()
                    .filter(|r| status.is_none_or(|s| r.status == s)),
            );
            if !full || people.len() > limit {
                break;
            }
        }
        Ok(people)
    }

    /// Sets status, doses and appointment of each row: doses of the person
    /// and of the records merged into them; campaign products only.
    async fn fill_statuses(
        &self,
        rows: &mut [SurveyRow],
        products: &[String],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
        let root_of = self.merge_roots(&ids).await?;
        let everyone: Vec<String> = root_of.keys().cloned().collect();
        let records = self.doses_by_root(&everyone, &root_of).await?;
        let mut booked = self.first_bookings(&everyone, &root_of).await?;
        let catalog = self.product_map().await?;
        let endings = self.latest_endings(&everyone).await?;
        let today = crate::format_date(self.today());
        for row in rows.iter_mut() {
            let valid: Vec<_> = records
                .get(&row.person_id)
                .map(|r| valid_doses(r))
                .unwrap_or_default()
                .into_iter()
                .filter(|d| products.contains(&d.product_code))
                .collect();
            row.valid_doses = valid.len() as i64;
            row.series_complete =
                contribution(&valid, |c| catalog.get(c)).is_some_and(|c| c.completed);
            row.last_dose_on = valid.last().map(|d| crate::format_date(d.date));
            row.appointment_at = booked.remove(&row.person_id);
            // The last early ending of a visit, unless a deferral has run out.
            let ending = endings.get(&row.person_id).filter(|(outcome, _, until)| {
                outcome != "deferred" || until.as_deref().is_some_and(|u| u >= today.as_str())
            });
            row.status = survey_status(
                !valid.is_empty(),
                row.appointment_at.is_some(),
                ending.map(|(o, _, _)| o.as_str()),
            );
            if let Some((_, reason, until)) = ending {
                row.reason = reason.clone();
                row.deferred_until = until.clone();
            }
        }
        Ok(())
    }

    /// Each of `ids` and every record merged into one of them, mapped to
    /// the person of `ids` it belongs to.
    async fn merge_roots(&self, ids: &[String]) -> Result<HashMap<String, String>, StoreError> {
        let mut root_of: HashMap<String, String> =
            ids.iter().map(|id| (id.clone(), id.clone())).collect();
        for r in sqlx::query(&format!(
            "SELECT id, merged_into FROM persons WHERE {}",
            in_json(self.backend, "merged_into", 1)
        ))
        .bind(json_list(ids))
        .fetch_all(&self.pool)
        .await?
        {
            root_of.insert(r.try_get("id")?, r.try_get("merged_into")?);
        }
        Ok(root_of)
    }

    /// The dose records of `everyone`, gathered under the person each
    /// record belongs to (`root_of`).
    async fn doses_by_root(
        &self,
        everyone: &[String],
        root_of: &HashMap<String, String>,
    ) -> Result<HashMap<String, Vec<DoseRecord>>, StoreError> {
        let mut records: HashMap<String, Vec<DoseRecord>> = HashMap::new();
        for r in sqlx::query(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE {}",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(json_list(everyone))
        .fetch_all(&self.pool)
        .await?
        {
            let d = dose_from_row(&r)?;
            if let Some(root) = root_of.get(&d.person_id) {
                records.entry(root.clone()).or_default().push(d);
            }
        }
        Ok(records)
    }

    /// The first booked appointment of each person, over their merged
    /// records too (`root_of`).
    async fn first_bookings(
        &self,
        everyone: &[String],
        root_of: &HashMap<String, String>,
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut booked: HashMap<String, String> = HashMap::new();
        for r in sqlx::query(&format!(
            "SELECT person_id, MIN(starts_at) AS at FROM appointments WHERE status = 'booked' AND {} \
             GROUP BY person_id",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(json_list(everyone))
        .fetch_all(&self.pool)
        .await?
        {
            let person: String = r.try_get("person_id")?;
            let at: String = r.try_get("at")?;
            if let Some(root) = root_of.get(&person) {
                let e = booked.entry(root.clone()).or_insert(at.clone());
                if at < *e {
                    *e = at;
                }
            }
        }
        Ok(booked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use vaxgrid_core::dose::birthday;

    #[test]
    fn the_age_cutoff_agrees_with_birthdays() {
        let mut day = date!(2023 - 02 - 20);
        while day <= date!(2024 - 03 - 05) {
            let cutoff = born_on_or_before(day, 18);
            let mut born = date!(2005 - 02 - 20);
            while born <= date!(2006 - 03 - 05) {
                assert_eq!(
                    birthday(born, 18) <= day,
                    born <= cutoff,
                    "born {born}, on {day}, cutoff {cutoff}"
                );
                born = born.next_day().unwrap();
            }
            day = day.next_day().unwrap();
        }
        assert_eq!(
            born_on_or_before(date!(2024 - 02 - 29), 18),
            date!(2006 - 02 - 28)
        );
        assert_eq!(
            born_on_or_before(date!(2024 - 02 - 29), 20),
            date!(2004 - 02 - 29)
        );
    }

    #[test]
    fn a_district_sees_the_campaign_of_its_province_only() {
        let district = Scope::Limited {
            paths: vec!["/22/193/".into()],
            sites: vec![],
            persons: vec![],
        };
        assert!(overlaps(&district, "/22/"));
        assert!(overlaps(&district, "/22/193/06658/"));
        assert!(!overlaps(&district, "/22/194/"));
        assert!(!overlaps(&district, "/2/"));
        assert!(!overlaps(&Scope::none(), "/22/"));
        assert_eq!(basis(&[]), vec![ALL_GROUPS.to_string()]);
    }

    #[test]
    fn a_wave_entered_as_history_is_checked_as_if_entered_when_it_began() {
        let today = date!(2026 - 12 - 07);
        let entered = date!(2026 - 06 - 01)
            .midnight()
            .assume_utc()
            .unix_timestamp()
            * 1_000_000;
        let starts = date!(2026 - 01 - 10);
        assert_eq!(
            wave_checked_as_of(entered, today, false, starts),
            date!(2026 - 06 - 01)
        );
        assert_eq!(
            wave_checked_as_of(entered, today, true, starts),
            starts + time::Duration::days(WAVE_LATE_DAYS)
        );
        assert_eq!(
            wave_checked_as_of(i64::MAX, today, false, starts),
            today,
            "an unreadable creation time counts as today"
        );
    }

    fn row(target: Option<i64>) -> TargetRow {
        TargetRow {
            area_code: "22".into(),
            name: "Quang Ninh".into(),
            level: "province".into(),
            target,
            fixed: false,
            eligible: 100,
            reached: 0,
            completed: 0,
            site_capacity: 7,
        }
    }

    #[test]
    fn a_target_is_spread_over_every_day_of_the_period() {
        let period = (date!(2026 - 12 - 01), date!(2026 - 12 - 03));
        let with = row(Some(10));
        let planned = planned_days(&with, period).unwrap();
        assert_eq!(planned.values().sum::<u64>(), 10);
        let actual = HashMap::from([("2026-12-02".to_string(), 4)]);
        let days = target_days(&with, period, &planned, &actual, &HashMap::new());
        assert_eq!(days.len(), 3);
        assert_eq!(days[1].day, "2026-12-02");
        assert_eq!(days[1].actual, 4);
        assert_eq!(days[0].site_capacity, 7);
        assert_eq!(days.iter().filter_map(|d| d.target).sum::<i64>(), 10);
        let without = row(None);
        let planned = planned_days(&without, period).unwrap();
        let days = target_days(&without, period, &planned, &HashMap::new(), &HashMap::new());
        assert!(days.iter().all(|d| d.target.is_none()));
    }

    #[test]
    fn a_surveyed_person_is_vaccinated_then_booked_then_as_their_visit_ended() {
        use SurveyStatus::*;
        assert_eq!(survey_status(true, true, Some("refused")), Vaccinated);
        assert_eq!(survey_status(false, true, Some("refused")), Booked);
        assert_eq!(survey_status(false, false, Some("refused")), Refused);
        assert_eq!(survey_status(false, false, Some("deferred")), Deferred);
        assert_eq!(
            survey_status(false, false, Some("contraindicated")),
            Contraindicated
        );
        assert_eq!(survey_status(false, false, None), NotYet);
    }

    #[test]
    fn the_survey_reads_on_after_the_cursor_but_never_before_the_area() {
        let first = survey_start("/22/193/", None).unwrap();
        assert_eq!(first, ("/22/193/".to_string(), String::new()));
        let within = crate::paging::cursor(&["/22/193/06658/", "p9"]);
        assert_eq!(
            survey_start("/22/193/", Some(&within)).unwrap(),
            ("/22/193/06658/".to_string(), "p9".to_string())
        );
        let before = crate::paging::cursor(&["/22/100/", "p1"]);
        assert_eq!(survey_start("/22/193/", Some(&before)).unwrap(), first);
    }

    #[test]
    fn a_wave_days_carry_the_daily_target_and_the_doses_given() {
        let wave = Wave {
            id: "w1".into(),
            campaign_id: "c1".into(),
            ordinal: 1,
            name: "First".into(),
            starts_on: "2026-12-01".into(),
            ends_on: "2026-12-02".into(),
            eligible_groups: vec![],
        };
        let done = HashMap::from([("2026-12-02".to_string(), 30)]);
        let days = wave_days(&wave, Some(25), &done);
        let seen: Vec<(&str, Option<i64>, i64)> = days
            .iter()
            .map(|d| (d.day.as_str(), d.target, d.done))
            .collect();
        assert_eq!(
            seen,
            vec![("2026-12-01", Some(25), 0), ("2026-12-02", Some(25), 30)]
        );
        let unreadable = Wave {
            ends_on: "soon".into(),
            ..wave
        };
        assert!(wave_days(&unreadable, None, &done).is_empty());
    }
}
