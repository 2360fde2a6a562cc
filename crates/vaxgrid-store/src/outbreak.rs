//! Outbreak response, stored: confirmed cases, contact links, the classes
//! derived from them, isolation with the team's daily checks, laboratories
//! with samples, pools and re-tests, and the vaccination link (a person's
//! doses; the ring-vaccination list). The rules are `vaxgrid_core::outbreak`'s.
//!
//! Classes are never written by hand: every change to the graph (a
//! confirmation, a reversal, new links) runs `reclassify` in the same write
//! transaction, which reads only the persons within three links of where the
//! change happened, their links, and the stored classes just outside them,
//! asks `graph::classify_region`, and writes back the rows whose class
//! changed. Graph writes are serialised (SQLite's write lock; a PostgreSQL
//! advisory lock), so two confirmations cannot each write a stale region.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};
use time::{Date, Duration};
use uuid::Uuid;
use vaxgrid_core::outbreak::confirmation;
use vaxgrid_core::outbreak::graph::{self, check_contact, Class, Contact, PersonFacts, Setting};
use vaxgrid_core::outbreak::isolation::{self, Alert, Check, Policy};
use vaxgrid_core::outbreak::pooling;

use crate::audit::{self, AuditEntry};
use crate::cells::{row_layout, rows_json, Param};
use crate::db::{in_json, json_rows, Backend, Col};
use crate::error::StoreError;
use crate::model::{Actor, NewPerson};
use crate::persons::{insert_placed, place_person, AreaMap, PlacedPerson, RowError};
use crate::scope::Scope;
use crate::{format_date, parse_date, Store};

/// The advisory lock that serialises graph writes on PostgreSQL.
const GRAPH_LOCK: i64 = 734_560;

fn json_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    serde_json::to_string(&v).expect("strings serialise")
}

pub(crate) fn date_of(s: &str) -> Result<Date, StoreError> {
    parse_date(s)
        .ok_or_else(|| StoreError::invalid("date", format!("stored date '{s}' unreadable")))
}

/// How ill a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Mild,
        Severity::Moderate,
        Severity::Severe,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Mild => "mild",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The test that confirmed a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    Pcr,
    RapidAntigen,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Pcr => "pcr",
            TestKind::RapidAntigen => "rapid_antigen",
        }
    }
    pub fn parse(s: &str) -> Option<TestKind> {
        [TestKind::Pcr, TestKind::RapidAntigen]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where a case's illness went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    UnderTreatment,
    Recovered,
    Died,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::UnderTreatment => "under_treatment",
            CaseOutcome::Recovered => "recovered",
            CaseOutcome::Died => "died",
        }
    }
    pub fn parse(s: &str) -> Option<CaseOutcome> {
        [
            CaseOutcome::UnderTreatment,
            CaseOutcome::Recovered,
            CaseOutcome::Died,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A confirmation to record.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub person_id: String,
    pub onset_on: Option<Date>,
    pub confirmed_on: Date,
    pub test_kind: TestKind,
    pub severity: Severity,
    pub treated_at: Option<String>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub person_id: String,
    pub full_name: String,
    pub area_path: String,
    /// confirmed or reversed
    pub status: String,
    pub onset_on: Option<String>,
    pub confirmed_on: String,
    pub test_kind: String,
    pub severity: String,
    pub treated_at: Option<String>,
    pub outcome: String,
    pub recovered_on: Option<String>,
    pub reversed_reason: Option<String>,
}

/// A person whose class a change moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassChange {
    pub person_id: String,
    pub before: Option<Class>,
    pub after: Option<Class>,
}

/// What a graph change did: the persons re-classified, and how many
/// persons the region read held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reclassified {
    pub changes: Vec<ClassChange>,
    pub region: usize,
}

/// The contact end of a new link: a person in the registry (linked), or a
/// person registered on the spot — whose ID number, when already in the
/// registry, links the existing record instead of copying it.
#[derive(Debug, Clone)]
pub enum ContactPerson {
    Existing(String),
    New(NewPerson),
}

#[derive(Debug, Clone)]
pub struct NewContact {
    pub id: String,
    pub source_person_id: String,
    pub contact: ContactPerson,
    pub exposure_on: Date,
    pub setting: Setting,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub id: String,
    pub source_person_id: String,
    pub contact_person_id: String,
    pub exposure_on: String,
    pub setting: String,
    /// Whether the contact was found in the registry (linked) rather than
    /// registered by this request.
    pub linked: bool,
}

/// What `add_contacts` did: the links written with the re-classification,
/// or every bad row (nothing written).
pub type ContactsAdded = Result<(Vec<ContactRecord>, Reclassified), Vec<RowError>>;

/// A person with a class, for lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassedPerson {
    pub person_id: String,
    pub full_name: String,
    pub area_path: String,
    pub class: Class,
    /// The person's latest final laboratory result (negative or positive)
    /// and its day: a negative clears a suspect without touching the class.
    pub last_result: Option<String>,
    pub last_result_on: Option<String>,
}

/// A case with its links and the person's vaccination status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetail {
    pub case: CaseRecord,
    pub class: Option<Class>,
    pub valid_doses: i64,
    pub links: Vec<ContactRecord>,
    /// Every person linked to the case, with their class and doses.
    pub contacts: Vec<LinkedPerson>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedPerson {
    pub person_id: String,
    pub full_name: String,
    pub class: Option<Class>,
    pub valid_doses: i64,
}

/// A contact's isolation to start.
#[derive(Debug, Clone)]
pub struct NewIsolation {
    pub id: String,
    pub person_id: String,
    pub start_on: Date,
    /// The household check's answer: home isolation is possible.
    pub home_possible: bool,
    pub facility_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolationRecord {
    pub id: String,
    pub person_id: String,
    pub area_path: String,
    pub class: String,
    pub vaccinated: bool,
    pub home_possible: bool,
    pub facility_name: Option<String>,
    pub start_on: String,
    pub facility_from: Option<String>,
    pub facility_to: Option<String>,
    pub home_from: Option<String>,
    pub home_to: Option<String>,
    pub last_day: String,
    pub tests_due: Vec<String>,
}

impl IsolationRecord {
    pub(crate) fn plan(&self) -> Result<isolation::Plan, StoreError> {
        let pair =
            |a: &Option<String>, b: &Option<String>| -> Result<Option<(Date, Date)>, StoreError> {
                match (a, b) {
                    (Some(a), Some(b)) => Ok(Some((date_of(a)?, date_of(b)?))),
                    _ => Ok(None),
                }
            };
        Ok(isolation::Plan {
            start: date_of(&self.start_on)?,
            facility: pair(&self.facility_from, &self.facility_to)?,
            home: pair(&self.home_from, &self.home_to)?,
            last_day: date_of(&self.last_day)?,
            tests_due: self
                .tests_due
                .iter()
                .map(|d| date_of(d))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A daily check to record.
#[derive(Debug, Clone)]
pub struct NewCheck {
    pub person_id: String,
    pub day: Date,
    pub check: Check,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    pub isolation_id: String,
    pub person_id: String,
    pub day: String,
    pub present: bool,
    pub temperature_c: Option<f64>,
    pub spo2: Option<i64>,
    pub symptoms: Vec<String>,
    pub alerts: Vec<Alert>,
}

/// One line of the team's list for a day.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamEntry {
    pub isolation_id: String,
    pub person_id: String,
    pub full_name: String,
    pub area_path: String,
    pub class: String,
    pub last_day: String,
    /// Checked today already.
    pub checked_today: bool,
    pub sample_due: bool,
    /// Past days at home with no check.
    pub missed: Vec<String>,
    /// Alerts: a missed check, and those of today's (or else the latest) check.
    pub alerts: Vec<Alert>,
}

/// A laboratory and its daily capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Laboratory {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub single_per_day: i64,
    pub confirmatory_per_day: i64,
    pub max_pool: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    pub id: String,
    pub person_id: String,
    pub lab_code: String,
    pub collected_on: String,
    /// collected, in_test or resulted
    pub state: String,
    pub test_id: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    pub id: String,
    pub lab_code: String,
    pub samples: Vec<String>,
    pub retest_of: Option<String>,
    /// Runs against the confirmatory capacity (a re-test of a positive
    /// pool's member, or a single test made to confirm).
    pub confirmatory: bool,
    pub outcome: Option<String>,
    pub created_on: String,
}

/// What a result did: re-tests made (a positive pool), samples resulted,
/// and the persons a positive single test confirmed as cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultOutcome {
    pub test: TestRecord,
    pub retests: Vec<TestRecord>,
    pub resulted: Vec<String>,
    pub confirmed: Vec<String>,
    /// Persons a final negative result cleared: contacts (with a class)
    /// who are not cases; their last result shows on the contact list.
    pub cleared: Vec<String>,
    /// Cases confirmed by a rapid antigen test whose confirmatory PCR came
    /// back negative: reversed, as a reversal through the API would.
    pub reversed: Vec<String>,
    pub reclassified: usize,
}

/// A pending test in a laboratory's queue, with the day it will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTest {
    pub test_id: String,
    pub size: i64,
    pub retest_of: Option<String>,
    /// Queued against the confirmatory capacity (else the screening runs).
    pub confirmatory: bool,
    pub runs_on: Option<String>,
}

/// A person on the ring-vaccination list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingPerson {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub area_path: String,
    /// area (lives in the outbreak area) or household (a contact's household)
    pub reason: String,
}

struct Facts {
    province_code: String,
    area_path: String,
    full_name: String,
    birth_date: Option<Date>,
}

fn class_of(d: i64) -> Option<Class> {
    u8::try_from(d).ok().and_then(Class::from_distance)
}

fn alerts_json(alerts: &[Alert]) -> String {
    serde_json::to_string(alerts).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn alerts_of(text: &str) -> Vec<Alert> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum A {
        MissedCheck,
        Absent,
        Fever,
        LowSpo2,
        DangerSymptom,
    }
    serde_json::from_str::<Vec<A>>(text)
        .unwrap_or_default()
        .into_iter()
        .map(|a| match a {
            A::MissedCheck => Alert::MissedCheck,
            A::Absent => Alert::Absent,
            A::Fever => Alert::Fever,
            A::LowSpo2 => Alert::LowSpo2,
            A::DangerSymptom => Alert::DangerSymptom,
        })
        .collect()
}

const CASE_COLUMNS: &str =
    "c.person_id, p.full_name, c.area_path, c.status, c.onset_on, c.confirmed_on, \
     c.test_kind, c.severity, c.treated_at, c.outcome, c.recovered_on, c.reversed_reason";

fn case_from_row(r: &sqlx::any::AnyRow) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        person_id: r.try_get("person_id")?,
        full_name: r.try_get("full_name")?,
        area_path: r.try_get("area_path")?,
        status: r.try_get("status")?,
        onset_on: r.try_get("onset_on")?,
        confirmed_on: r.try_get("confirmed_on")?,
        test_kind: r.try_get("test_kind")?,
        severity: r.try_get("severity")?,
        treated_at: r.try_get("treated_at")?,
        outcome: r.try_get("outcome")?,
        recovered_on: r.try_get("recovered_on")?,
        reversed_reason: r.try_get("reversed_reason")?,
    })
}

const ISOLATION_COLUMNS: &str =
    "id, person_id, area_path, class, vaccinated, home_possible, facility_name, \
     start_on, facility_from, facility_to, home_from, home_to, last_day, tests_due";

pub(crate) fn isolation_from_row(r: &sqlx::any::AnyRow) -> Result<IsolationRecord, StoreError> {
    let tests: String = r.try_get("tests_due")?;
    Ok(IsolationRecord {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        area_path: r.try_get("area_path")?,
        class: r.try_get("class")?,
        vaccinated: r.try_get::<i64, _>("vaccinated")? != 0,
        home_possible: r.try_get::<i64, _>("home_possible")? != 0,
        facility_name: r.try_get("facility_name")?,
        start_on: r.try_get("start_on")?,
        facility_from: r.try_get("facility_from")?,
        facility_to: r.try_get("facility_to")?,
        home_from: r.try_get("home_from")?,
        home_to: r.try_get("home_to")?,
        last_day: r.try_get("last_day")?,
        tests_due: serde_json::from_str(&tests).unwrap_or_default(),
    })
}

fn absent(entity: &'static str, field: &'static str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        field,
        key: key.to_string(),
    }
}

/// The contact end of each row of `add_contacts`, resolved to a person
/// id: existing, found by ID number, or to be registered.
struct ContactEnds {
    /// Per row: (person id, linked rather than registered here); an empty
    /// id when the person to register was refused.
    resolved: Vec<(String, bool)>,
    to_register: Vec<PlacedPerson>,
    errors: Vec<RowError>,
}

fn row_error(row: usize, field: &str, message: String) -> RowError {
    RowError {
        row,
        field: field.to_string(),
        message,
    }
}

/// Resolves every contact end to a person id: the one named, the record
/// an ID number already registered (here or in an earlier row), or a
/// person to register, placed and checked against the caller's areas.
async fn resolve_contacts(
    tx: &mut Transaction<'static, Any>,
    rows: &[NewContact],
    areas: &AreaMap,
    today: Date,
    actor: &Actor,
) -> Result<ContactEnds, StoreError> {
    let mut ends = ContactEnds {
        resolved: Vec::new(),
        to_register: Vec::new(),
        errors: Vec::new(),
    };
    let mut numbers_seen: HashMap<(String, String), String> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let row = i + 1;
        let p = match &r.contact {
            ContactPerson::Existing(id) => {
                ends.resolved.push((id.clone(), true));
                continue;
            }
            ContactPerson::New(p) => p,
        };
        let key = (p.id_type.as_str().to_string(), p.id_number.clone());
        if let Some(id) = numbers_seen.get(&key) {
            ends.resolved.push((id.clone(), false));
            continue;
        }
        if let Some(id) = registered_id(tx, p).await? {
            numbers_seen.insert(key, id.clone());
            ends.resolved.push((id, true));
            continue;
        }
        match place_person(p.clone(), areas, today) {
            Ok(placed) => {
                if !actor.scope.covers_path(&placed.area_path) {
                    ends.errors.push(row_error(
                        row,
                        "home_area",
                        format!("area '{}' does not exist", p.home_area),
                    ));
                }
                numbers_seen.insert(key, placed.new.id.clone());
                ends.resolved.push((placed.new.id.clone(), false));
                ends.to_register.push(placed);
            }
            Err((field, message)) => {
                ends.errors.push(row_error(row, &field, message));
                ends.resolved.push((String::new(), false));
            }
        }
    }
    Ok(ends)
}

/// The registered person (not merged away) with the ID number of `p`.
async fn registered_id(
    tx: &mut Transaction<'static, Any>,
    p: &NewPerson,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query(
        "SELECT id FROM persons WHERE id_number = $1 AND id_type = $2 AND merged_into IS NULL LIMIT 1",
    )
    .bind(&p.id_number)
    .bind(p.id_type.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

/// The facts of every person the rows name: the stored ones, and those
/// to register as they will be.
async fn facts_of_ends(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[NewContact],
    ends: &ContactEnds,
) -> Result<HashMap<String, Facts>, StoreError> {
    let mut wanted: Vec<String> = rows
        .iter()
        .map(|r| r.source_person_id.clone())
        .chain(ends.resolved.iter().map(|r| r.0.clone()))
        .filter(|s| !s.is_empty())
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut facts = facts_of(tx, backend, &wanted).await?;
    for placed in &ends.to_register {
        facts.insert(
            placed.new.id.clone(),
            Facts {
                province_code: placed.province_code.clone(),
                area_path: placed.area_path.clone(),
                full_name: placed.new.full_name.clone(),
                birth_date: Some(placed.new.birth_date),
            },
        );
    }
    Ok(facts)
}

/// The day each source of the rows that is a confirmed case recovered,
/// when they have.
async fn recovered_sources(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[NewContact],
) -> Result<HashMap<String, Date>, StoreError> {
    let sources: Vec<&String> = rows.iter().map(|r| &r.source_person_id).collect();
    let q = sqlx::query(&format!(
        "SELECT person_id, recovered_on FROM outbreak_cases WHERE status = 'confirmed' \
         AND recovered_on IS NOT NULL AND {}",
        in_json(backend, "person_id", 1)
    ))
    .bind(json_list(sources))
    .fetch_all(&mut **tx)
    .await?;
    let mut m = HashMap::new();
    for r in &q {
        let d: String = r.try_get("recovered_on")?;
        if let Some(d) = parse_date(&d) {
            m.insert(r.try_get("person_id")?, d);
        }
    }
    Ok(m)
}

/// A link to write, with the contact's province and area path.
type LinkToWrite = (ContactRecord, String, String);

/// The links of the rows whose ends were resolved, each checked: both
/// persons exist and are the caller's to see (a contact registered here
/// is), and the link keeps the graph's rules. A bad row adds its error.
fn checked_links(
    rows: &[NewContact],
    resolved: &[(String, bool)],
    facts: &HashMap<String, Facts>,
    recovered: &HashMap<String, Date>,
    actor: &Actor,
    today: Date,
    errors: &mut Vec<RowError>,
) -> Vec<LinkToWrite> {
    let mut records = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (contact_id, linked) = &resolved[i];
        if contact_id.is_empty() {
            continue;
        }
        match checked_link(r, contact_id, *linked, facts, recovered, actor, today) {
            Ok(link) => records.push(link),
            Err((field, message)) => errors.push(row_error(i + 1, field, message)),
        }
    }
    records
}

/// One row's link, checked (see `checked_links`); else the field at
/// fault and why.
fn checked_link(
    r: &NewContact,
    contact_id: &str,
    linked: bool,
    facts: &HashMap<String, Facts>,
    recovered: &HashMap<String, Date>,
    actor: &Actor,
    today: Date,
) -> Result<LinkToWrite, (&'static str, String)> {
    let source = facts
        .get(&r.source_person_id)
        .filter(|f| actor.scope.covers_person(&r.source_person_id, &f.area_path))
        .ok_or_else(|| {
            (
                "source_person_id",
                format!("person '{}' does not exist", r.source_person_id),
            )
        })?;
    let contact = facts
        .get(contact_id)
        .filter(|f| !linked || actor.scope.covers_person(contact_id, &f.area_path))
        .ok_or_else(|| {
            (
                "contact_person_id",
                format!("person '{contact_id}' does not exist"),
            )
        })?;
    let (Ok(s), Ok(t)) = (
        Uuid::parse_str(&r.source_person_id),
        Uuid::parse_str(contact_id),
    ) else {
        return Err(("contact_person_id", "not a UUID".into()));
    };
    let link = Contact {
        source: s,
        contact: t,
        exposure: r.exposure_on,
        setting: r.setting,
    };
    let sf = PersonFacts {
        birth_date: source.birth_date,
        recovered_on: recovered.get(&r.source_person_id).copied(),
    };
    let cf = PersonFacts {
        birth_date: contact.birth_date,
        recovered_on: None,
    };
    check_contact(&link, &sf, &cf, today).map_err(|e| (e.field(), e.to_string()))?;
    Ok((
        ContactRecord {
            id: r.id.clone(),
            source_person_id: r.source_person_id.clone(),
            contact_person_id: contact_id.to_string(),
            exposure_on: format_date(r.exposure_on),
            setting: r.setting.as_str().to_string(),
            linked,
        },
        contact.province_code.clone(),
        contact.area_path.clone(),
    ))
}

/// Registers the contacts placed for registration, counted in their
/// areas' population.
async fn register_contacts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    (to_register, now): (&[PlacedPerson], i64),
) -> Result<(), StoreError> {
    if to_register.is_empty() {
        return Ok(());
    }
    insert_placed(tx, backend, to_register, now).await?;
    crate::persons::bump_population(
        tx,
        backend,
        to_register.iter().map(|p| {
            (
                p.province_code.as_str(),
                p.new.home_area.as_str(),
                p.area_path.as_str(),
                p.new.priority_groups.as_slice(),
            )
        }),
        1,
    )
    .await
}

/// Writes the links (an id already stored is a conflict); returns their
/// audit entries.
async fn insert_links(
    tx: &mut Transaction<'static, Any>,
    records: &[LinkToWrite],
    (actor, now): (&Actor, i64),
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut entries = Vec::new();
    for (c, province, path) in records {
        let done = sqlx::query(
            "INSERT INTO outbreak_contacts (province_code, id, source_person_id, contact_person_id, \
             area_path, exposure_on, setting, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id, province_code) DO NOTHING",
        )
        .bind(province)
        .bind(&c.id)
        .bind(&c.source_person_id)
        .bind(&c.contact_person_id)
        .bind(path)
        .bind(&c.exposure_on)
        .bind(&c.setting)
        .bind(&actor.name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("contact link {} already exists", c.id),
                existing: None,
            });
        }
        entries.push(AuditEntry::by(
            actor,
            "link",
            "outbreak_contact",
            &c.id,
            serde_json::json!({"source": c.source_person_id, "contact": c.contact_person_id,
                "setting": c.setting, "registered": !c.linked}),
        ));
    }
    Ok(entries)
}

async fn lock_graph(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_xact_lock({GRAPH_LOCK})"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The persons of `ids` (province, area path, name, birth date), by id.
async fn facts_of(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[String],
) -> Result<HashMap<String, Facts>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT id, province_code, area_path, full_name, birth_date FROM persons WHERE {}",
        in_json(backend, "id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(&mut **tx)
    .await?;
    let mut out = HashMap::new();
    for r in &rows {
        let born: String = r.try_get("birth_date")?;
        out.insert(
            r.try_get::<String, _>("id")?,
            Facts {
                province_code: r.try_get("province_code")?,
                area_path: r.try_get("area_path")?,
                full_name: r.try_get("full_name")?,
                birth_date: parse_date(&born),
            },
        );
    }
    Ok(out)
}

/// Links with an end among `ids`: (id, source, contact).
async fn links_touching(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT id, source_person_id, contact_person_id FROM outbreak_contacts WHERE {} \
         UNION ALL SELECT id, source_person_id, contact_person_id FROM outbreak_contacts WHERE {}",
        in_json(backend, "source_person_id", 1),
        in_json(backend, "contact_person_id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("source_person_id")?,
                r.try_get("contact_person_id")?,
            ))
        })
        .collect()
}

/// The persons within `DEEPEST` links of `points` and every link those
/// members take part in (some reach one step outside the region).
struct Region {
    members: HashSet<String>,
    links: Vec<(String, String)>,
}

/// Walks the graph out from `points`, one level of links per query.
async fn gather_region(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    points: &[String],
) -> Result<Region, StoreError> {
    let mut members: HashSet<String> = points.iter().cloned().collect();
    let mut frontier: Vec<String> = members.iter().cloned().collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for level in 0..=graph::DEEPEST {
        let found = links_touching(tx, backend, &frontier).await?;
        let mut next = Vec::new();
        for (id, a, b) in found {
            if !seen.insert(id) {
                continue;
            }
            if level < graph::DEEPEST {
                for x in [&a, &b] {
                    if members.insert(x.clone()) {
                        next.push(x.clone());
                    }
                }
            }
            links.push((a, b));
        }
        frontier = next;
        if frontier.is_empty() && level < graph::DEEPEST {
            // Every further level is empty too, but the members' own
            // links are all read: nothing lies outside.
            break;
        }
    }
    Ok(Region { members, links })
}

impl Region {
    /// The persons at the far end of a member's link who are not members
    /// themselves, each once.
    fn outside(&self) -> Vec<String> {
        self.links
            .iter()
            .flat_map(|(a, b)| [a, b])
            .filter(|x| !self.members.contains(*x))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The classes stored for `ids` (a person with none is left out).
async fn stored_classes(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: Vec<&String>,
) -> Result<HashMap<String, Class>, StoreError> {
    let mut stored: HashMap<String, Class> = HashMap::new();
    let rows = sqlx::query(&format!(
        "SELECT person_id, distance FROM outbreak_classes WHERE {}",
        in_json(backend, "person_id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(&mut **tx)
    .await?;
    for r in &rows {
        if let Some(c) = class_of(r.try_get("distance")?) {
            stored.insert(r.try_get("person_id")?, c);
        }
    }
    Ok(stored)
}

/// Which of `ids` are confirmed cases now.
async fn confirmed_among(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[String],
) -> Result<HashSet<String>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT person_id FROM outbreak_cases WHERE status = 'confirmed' AND {}",
        in_json(backend, "person_id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>("person_id"))
        .collect::<Result<_, _>>()?)
}

/// The persons whose fresh class differs from the stored one, by id.
fn class_changes(
    fresh: HashMap<String, Option<Class>>,
    stored: &HashMap<String, Class>,
) -> Vec<ClassChange> {
    let mut changes: Vec<ClassChange> = fresh
        .into_iter()
        .filter_map(|(p, after)| {
            let before = stored.get(&p).copied();
            (before != after).then_some(ClassChange {
                person_id: p,
                before,
                after,
            })
        })
        .collect();
    changes.sort_by(|a, b| a.person_id.cmp(&b.person_id));
    changes
}

/// Re-classifies the region within `DEEPEST` links of `points` after a
/// change to the graph, inside the change's transaction; writes back the
/// classes that changed.
async fn reclassify(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    points: &[String],
) -> Result<Reclassified, StoreError> {
    let region = gather_region(tx, backend, points).await?;
    let outside = region.outside();
    let member_list: Vec<String> = region.members.iter().cloned().collect();
    let everyone: Vec<&String> = member_list.iter().chain(&outside).collect();
    let stored = stored_classes(tx, backend, everyone).await?;
    let cases = confirmed_among(tx, backend, &member_list).await?;
    let outside_classes: HashMap<String, Class> = outside
        .iter()
        .filter_map(|o| stored.get(o).map(|c| (o.clone(), *c)))
        .collect();
    let fresh = graph::classify_region(&region.members, &region.links, &cases, &outside_classes);
    let changes = class_changes(fresh, &stored);
    write_classes(tx, backend, &changes).await?;
    Ok(Reclassified {
        changes,
        region: region.members.len(),
    })
}

async fn write_classes(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    changes: &[ClassChange],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = changes.iter().map(|c| c.person_id.clone()).collect();
    let facts = facts_of(tx, backend, &ids).await?;
    let mut upserts = Vec::new();
    let mut removals: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in changes {
        let Some(f) = facts.get(&c.person_id) else {
            continue;
        };
        match c.after {
            Some(class) => upserts.push(serde_json::json!([
                f.province_code,
                c.person_id,
                f.area_path,
                class.distance().to_string()
            ])),
            None => removals
                .entry(f.province_code.as_str())
                .or_default()
                .push(c.person_id.as_str()),
        }
    }
    if !upserts.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO outbreak_classes (province_code, person_id, area_path, distance) {} \
             ON CONFLICT (person_id, province_code) DO UPDATE SET distance = excluded.distance",
            json_rows(backend, 1, &[Col::Text, Col::Text, Col::Text, Col::Int])
        ))
        .bind(serde_json::Value::Array(upserts).to_string())
        .execute(&mut **tx)
        .await?;
    }
    for (province, people) in removals {
        sqlx::query(&format!(
            "DELETE FROM outbreak_classes WHERE province_code = $1 AND {}",
            in_json(backend, "person_id", 2)
        ))
        .bind(province)
        .bind(json_list(people))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Valid doses (administered, not entered in error) per person of `ids`.
async fn doses_of(
    pool: &sqlx::AnyPool,
    backend: Backend,
    ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT d.person_id, CAST(COUNT(*) AS BIGINT) AS n FROM doses d WHERE {} AND d.kind = 'administered' \
         AND NOT EXISTS (SELECT 1 FROM doses c WHERE c.corrects_id = d.id AND c.province_code = d.province_code) \
         GROUP BY d.person_id",
        in_json(backend, "d.person_id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("person_id")?, r.try_get("n")?)))
        .collect()
}

/// Refuses to confirm a person who is a confirmed case already (409,
/// pointing at the case); a reversed case may be confirmed again.
async fn refuse_confirmed_again(
    tx: &mut Transaction<'static, Any>,
    new: &NewCase,
    province_code: &str,
) -> Result<(), StoreError> {
    let existing: Option<String> = sqlx::query(
        "SELECT status FROM outbreak_cases WHERE person_id = $1 AND province_code = $2",
    )
    .bind(&new.person_id)
    .bind(province_code)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("status"))
    .transpose()?;
    if existing.as_deref() == Some("confirmed") {
        return Err(StoreError::Conflict {
            field: "person_id",
            message: format!("{} is already a confirmed case", new.person_id),
            existing: Some(format!("/api/v1/outbreak/cases/{}", new.person_id)),
        });
    }
    Ok(())
}

/// Refuses an isolation whose days overlap one of the person's (409,
/// naming the isolation in the way).
async fn refuse_overlapping_isolation(
    tx: &mut Transaction<'static, Any>,
    new: &NewIsolation,
    province_code: &str,
    plan: &isolation::Plan,
) -> Result<(), StoreError> {
    let overlapping = sqlx::query(
        "SELECT id FROM isolations WHERE person_id = $1 AND province_code = $2 AND last_day >= $3 AND start_on <= $4",
    )
    .bind(&new.person_id)
    .bind(province_code)
    .bind(format_date(plan.start))
    .bind(format_date(plan.last_day))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = overlapping {
        let id: String = r.try_get("id")?;
        return Err(StoreError::Conflict {
            field: "person_id",
            message: format!("{} is already in isolation then ({id})", new.person_id),
            existing: None,
        });
    }
    Ok(())
}

/// The isolation to store for `new` as `plan` lays it out; a facility is
/// named only when the plan has days at one.
fn isolation_record(
    new: &NewIsolation,
    area_path: String,
    class: Option<Class>,
    vaccinated: bool,
    plan: &isolation::Plan,
) -> IsolationRecord {
    IsolationRecord {
        id: new.id.clone(),
        person_id: new.person_id.clone(),
        area_path,
        class: class.map_or("", Class::as_str).to_string(),
        vaccinated,
        home_possible: new.home_possible,
        facility_name: if plan.facility.is_some() {
            new.facility_name.clone()
        } else {
            None
        },
        start_on: format_date(plan.start),
        facility_from: plan.facility.map(|f| format_date(f.0)),
        facility_to: plan.facility.map(|f| format_date(f.1)),
        home_from: plan.home.map(|f| format_date(f.0)),
        home_to: plan.home.map(|f| format_date(f.1)),
        last_day: format_date(plan.last_day),
        tests_due: plan.tests_due.iter().map(|d| format_date(*d)).collect(),
    }
}

/// The person's isolation covering `day` (the latest to start), or a
/// refusal naming `person_id`.
async fn isolation_on(
    tx: &mut Transaction<'static, Any>,
    person_id: &str,
    province_code: &str,
    day: &str,
) -> Result<IsolationRecord, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ISOLATION_COLUMNS} FROM isolations WHERE person_id = $1 AND province_code = $2 \
         AND start_on <= $3 AND last_day >= $3 ORDER BY start_on DESC LIMIT 1"
    ))
    .bind(person_id)
    .bind(province_code)
    .bind(day)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::invalid(
            "person_id",
            format!("{person_id} is not in isolation on {day}"),
        ));
    };
    isolation_from_row(&row)
}

/// Keeps the isolation's latest check, for the team's list (an earlier
/// day recorded late counts at home but leaves the latest as is).
async fn note_latest_check(
    tx: &mut Transaction<'static, Any>,
    rec: &CheckRecord,
    province_code: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE isolations SET \
         home_checks = home_checks + CASE WHEN home_from IS NOT NULL AND home_from <= $3 \
         THEN 1 ELSE 0 END, \
         last_danger = CASE WHEN last_check_day IS NULL OR last_check_day < $3 THEN $4 \
         ELSE last_danger END, \
         last_check_day = CASE WHEN last_check_day IS NULL OR last_check_day < $3 THEN $3 \
         ELSE last_check_day END \
         WHERE id = $1 AND province_code = $2",
    )
    .bind(&rec.isolation_id)
    .bind(province_code)
    .bind(&rec.day)
    .bind(i64::from(!rec.alerts.is_empty()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a confirmed case (or confirms again a reversed one) and
    /// re-classifies everyone within three links, in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_case(
        &self,
        new: &NewCase,
        actor: &Actor,
    ) -> Result<(CaseRecord, Reclassified), StoreError> {
        self.person_in(&new.person_id, &actor.scope).await?;
        let mut tx = self.begin_write().await?;
        lock_graph(&mut tx, self.backend).await?;
        let mut tx_reclassified = self.confirm_in(&mut tx, new, actor).await?;
        let case = self.case_in(&mut tx, &new.person_id).await?;
        tx_reclassified
            .changes
            .sort_by(|a, b| a.person_id.cmp(&b.person_id));
        tx.commit().await?;
        Ok((case, tx_reclassified))
    }

    /// Confirms `new` inside `tx`: checks its dates against the person,
    /// refuses a case confirmed already, writes the case, re-classifies
    /// around it and audits.
    async fn confirm_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        new: &NewCase,
        actor: &Actor,
    ) -> Result<Reclassified, StoreError> {
        let facts = facts_of(tx, self.backend, std::slice::from_ref(&new.person_id)).await?;
        let f = facts
            .get(&new.person_id)
            .ok_or_else(|| absent("person", "person_id", &new.person_id))?;
        confirmation::check_dates(new.confirmed_on, new.onset_on, f.birth_date, self.today())
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        refuse_confirmed_again(tx, new, &f.province_code).await?;
        self.write_confirmed_case(tx, new, f).await?;
        let re = reclassify(tx, self.backend, std::slice::from_ref(&new.person_id)).await?;
        audit::append(
            tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "confirm",
                "outbreak_case",
                &new.person_id,
                serde_json::json!({"confirmed_on": format_date(new.confirmed_on),
                    "test_kind": new.test_kind.as_str(), "reclassified": re.changes.len()}),
            )],
        )
        .await?;
        Ok(re)
    }

    /// Writes `new` as a confirmed case, over a reversed one if any.
    async fn write_confirmed_case(
        &self,
        tx: &mut Transaction<'static, Any>,
        new: &NewCase,
        f: &Facts,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbreak_cases (province_code, person_id, area_path, status, onset_on, confirmed_on, \
             test_kind, severity, treated_at, outcome, recovered_on, reversed_reason, recorded_at) \
             VALUES ($1, $2, $3, 'confirmed', $4, $5, $6, $7, $8, 'under_treatment', NULL, NULL, $9) \
             ON CONFLICT (person_id, province_code) DO UPDATE SET status = 'confirmed', onset_on = excluded.onset_on, \
             confirmed_on = excluded.confirmed_on, test_kind = excluded.test_kind, severity = excluded.severity, \
             treated_at = excluded.treated_at, outcome = excluded.outcome, recovered_on = NULL, \
             reversed_reason = NULL, recorded_at = excluded.recorded_at",
        )
        .bind(&f.province_code)
        .bind(&new.person_id)
        .bind(&f.area_path)
        .bind(new.onset_on.map(format_date))
        .bind(format_date(new.confirmed_on))
        .bind(new.test_kind.as_str())
        .bind(new.severity.as_str())
        .bind(new.treated_at.clone())
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn case_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        person_id: &str,
    ) -> Result<CaseRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM outbreak_cases c JOIN persons p ON p.id = c.person_id \
             AND p.province_code = c.province_code WHERE c.person_id = $1"
        ))
        .bind(person_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| absent("case", "person_id", person_id))?;
        case_from_row(&row)
    }

    /// A case whose test is reversed is no case: its row keeps the reason,
    /// and everyone within three links is classified again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reverse_case(
        &self,
        person_id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<(CaseRecord, Reclassified), StoreError> {
        let mut tx = self.begin_write().await?;
        lock_graph(&mut tx, self.backend).await?;
        let case = self.case_in(&mut tx, person_id).await?;
        if !actor.scope.covers_person(person_id, &case.area_path) {
            return Err(absent("case", "person_id", person_id));
        }
        if case.status != "confirmed" {
            return Err(StoreError::Conflict {
                field: "person_id",
                message: format!("{person_id} is not a confirmed case"),
                existing: None,
            });
        }
        let re = self.reverse_in(&mut tx, person_id, reason, actor).await?;
        let case = self.case_in(&mut tx, person_id).await?;
        tx.commit().await?;
        Ok((case, re))
    }

    /// Reverses a confirmed case inside a graph write (the graph lock
    /// held): the status and reason, the re-classification, the audit.
    async fn reverse_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        person_id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<Reclassified, StoreError> {
        sqlx::query(
            "UPDATE outbreak_cases SET status = 'reversed', reversed_reason = $1 \
             WHERE person_id = $2 AND province_code = (SELECT province_code FROM persons WHERE id = $2)",
        )
        .bind(reason)
        .bind(person_id)
        .execute(&mut **tx)
        .await?;
        let re = reclassify(tx, self.backend, &[person_id.to_string()]).await?;
        audit::append(
            tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "reverse",
                "outbreak_case",
                person_id,
                serde_json::json!({"reason": reason, "reclassified": re.changes.len()}),
            )],
        )
        .await?;
        Ok(re)
    }

    /// Records a case's outcome (recovered with its day, died, or back
    /// under treatment), severity and place of treatment.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_case(
        &self,
        person_id: &str,
        outcome: CaseOutcome,
        recovered_on: Option<Date>,
        severity: Option<Severity>,
        treated_at: Option<String>,
        actor: &Actor,
    ) -> Result<CaseRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let case = self.case_in(&mut tx, person_id).await?;
        if !actor.scope.covers_person(person_id, &case.area_path) {
            return Err(absent("case", "person_id", person_id));
        }
        if case.status != "confirmed" {
            return Err(StoreError::Conflict {
                field: "person_id",
                message: format!("{person_id} is not a confirmed case"),
                existing: None,
            });
        }
        let recovered = match (outcome, recovered_on) {
            (CaseOutcome::Recovered, None) => {
                return Err(StoreError::invalid(
                    "recovered_on",
                    "a recovery needs its day",
                ))
            }
            (CaseOutcome::Recovered, Some(d)) => {
                let confirmed = date_of(&case.confirmed_on)?;
                if d < confirmed {
                    return Err(StoreError::invalid(
                        "recovered_on",
                        format!("recovery ({d}) cannot be before confirmation ({confirmed})"),
                    ));
                }
                if d > self.today() {
                    return Err(StoreError::invalid(
                        "recovered_on",
                        "the recovery is after today",
                    ));
                }
                Some(format_date(d))
            }
            (_, Some(_)) => {
                return Err(StoreError::invalid(
                    "recovered_on",
                    "only a recovered case has a recovery day",
                ))
            }
            (_, None) => None,
        };
        sqlx::query(
            "UPDATE outbreak_cases SET outcome = $1, recovered_on = $2, severity = COALESCE($3, severity), \
             treated_at = COALESCE($4, treated_at) \
             WHERE person_id = $5 AND province_code = (SELECT province_code FROM persons WHERE id = $5)",
        )
        .bind(outcome.as_str())
        .bind(recovered)
        .bind(severity.map(Severity::as_str))
        .bind(treated_at)
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "update",
                "outbreak_case",
                person_id,
                serde_json::json!({"outcome": outcome.as_str()}),
            )],
        )
        .await?;
        let case = self.case_in(&mut tx, person_id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// A case with its links, the classes and doses of the persons linked
    /// to it; the read is audited. Outside the caller's areas: absent.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn read_case(
        &self,
        person_id: &str,
        actor: &Actor,
    ) -> Result<CaseDetail, StoreError> {
        let mut tx = self.pool.begin().await?;
        let case = self.case_in(&mut tx, person_id).await?;
        if !actor.scope.covers_person(person_id, &case.area_path) {
            return Err(absent("case", "person_id", person_id));
        }
        let links = links_touching(&mut tx, self.backend, &[person_id.to_string()]).await?;
        let mut others: Vec<String> = links
            .iter()
            .map(|(_, a, b)| if a == person_id { b.clone() } else { a.clone() })
            .collect();
        others.sort();
        others.dedup();
        let facts = facts_of(&mut tx, self.backend, &others).await?;
        let mut ids = others.clone();
        ids.push(person_id.to_string());
        let classes = classes_of(&mut tx, self.backend, &ids).await?;
        let link_rows = self.link_records(&mut tx, &links).await?;
        tx.commit().await?;
        let doses = doses_of(&self.pool, self.backend, &ids).await?;
        let contacts = others
            .iter()
            .filter_map(|o| {
                // Persons outside the caller's areas are left out.
                let f = facts.get(o)?;
                actor
                    .scope
                    .covers_person(o, &f.area_path)
                    .then(|| LinkedPerson {
                        person_id: o.clone(),
                        full_name: f.full_name.clone(),
                        class: classes.get(o).copied(),
                        valid_doses: doses.get(o).copied().unwrap_or(0),
                    })
            })
            .collect();
        self.audit(AuditEntry::by(
            actor,
            "read",
            "outbreak_case",
            person_id,
            serde_json::json!({}),
        ))
        .await?;
        Ok(CaseDetail {
            class: classes.get(person_id).copied(),
            valid_doses: doses.get(person_id).copied().unwrap_or(0),
            case,
            links: link_rows,
            contacts,
        })
    }

    async fn link_records(
        &self,
        tx: &mut Transaction<'static, Any>,
        links: &[(String, String, String)],
    ) -> Result<Vec<ContactRecord>, StoreError> {
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&String> = links.iter().map(|l| &l.0).collect();
        let rows = sqlx::query(&format!(
            "SELECT id, source_person_id, contact_person_id, exposure_on, setting FROM outbreak_contacts \
             WHERE {} ORDER BY exposure_on, id",
            in_json(self.backend, "id", 1)
        ))
        .bind(json_list(ids))
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContactRecord {
                    id: r.try_get("id")?,
                    source_person_id: r.try_get("source_person_id")?,
                    contact_person_id: r.try_get("contact_person_id")?,
                    exposure_on: r.try_get("exposure_on")?,
                    setting: r.try_get("setting")?,
                    linked: true,
                })
            })
            .collect()
    }

    /// Cases in the caller's areas, newest confirmation first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cases(&self, scope: &Scope, limit: i64) -> Result<Vec<CaseRecord>, StoreError> {
        let (cond, binds) = scope
            .sql("c.area_path", "c.person_id", 2)
            .unwrap_or_else(|| ("1 = 1".into(), Vec::new()));
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM outbreak_cases c JOIN persons p ON p.id = c.person_id \
             AND p.province_code = c.province_code WHERE {cond} ORDER BY c.confirmed_on DESC, c.person_id LIMIT $1"
        );
        let mut q = sqlx::query(&sql).bind(limit);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Persons with a class in the caller's areas (F0 to F3, or one class).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn classed_persons(
        &self,
        scope: &Scope,
        class: Option<Class>,
        limit: i64,
    ) -> Result<Vec<ClassedPerson>, StoreError> {
        let (cond, binds) = scope
            .sql("k.area_path", "k.person_id", 4)
            .unwrap_or_else(|| ("1 = 1".into(), Vec::new()));
        let (lo, hi) = class.map_or((0, 3), |c| {
            (i64::from(c.distance()), i64::from(c.distance()))
        });
        let sql = format!(
            "SELECT k.person_id, p.full_name, k.area_path, k.distance FROM outbreak_classes k \
             JOIN persons p ON p.id = k.person_id AND p.province_code = k.province_code \
             WHERE k.distance >= $1 AND k.distance <= $2 AND {cond} ORDER BY k.distance, k.person_id LIMIT $3"
        );
        let mut q = sqlx::query(&sql).bind(lo).bind(hi).bind(limit);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("person_id"))
            .collect::<Result<_, _>>()?;
        let results = self.last_results(&ids).await?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(class) = class_of(r.try_get("distance")?) {
                let person_id: String = r.try_get("person_id")?;
                let last = results.get(&person_id).cloned();
                out.push(ClassedPerson {
                    full_name: r.try_get("full_name")?,
                    area_path: r.try_get("area_path")?,
                    class,
                    last_result: last.as_ref().map(|l| l.0.clone()),
                    last_result_on: last.map(|l| l.1),
                    person_id,
                });
            }
        }
        Ok(out)
    }

    /// The latest final result (outcome, day) of each person of `ids`
    /// that has one; on one day a positive wins.
    pub async fn last_results(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (String, String)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT s.person_id, s.outcome, t.resulted_on FROM samples s JOIN lab_tests t ON t.id = s.test_id \
             WHERE s.state = 'resulted' AND t.resulted_on IS NOT NULL AND {}",
            in_json(self.backend, "s.person_id", 1)
        ))
        .bind(json_list(ids))
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, (String, String)> = HashMap::new();
        for r in &rows {
            let person: String = r.try_get("person_id")?;
            let outcome: Option<String> = r.try_get("outcome")?;
            let on: String = r.try_get("resulted_on")?;
            let Some(outcome) = outcome else { continue };
            let newer = out.get(&person).is_none_or(|(o, d)| {
                (on.as_str(), outcome == "positive") > (d.as_str(), o == "positive")
            });
            if newer {
                out.insert(person, (outcome, on));
            }
        }
        Ok(out)
    }

    /// Every stored class (person id → class): what tests compare with
    /// the graph's distances computed from scratch.
    pub async fn all_classes(&self) -> Result<HashMap<String, Class>, StoreError> {
        let rows = sqlx::query("SELECT person_id, distance FROM outbreak_classes")
            .fetch_all(&self.pool)
            .await?;
        let mut out = HashMap::new();
        for r in &rows {
            if let Some(c) = class_of(r.try_get("distance")?) {
                out.insert(r.try_get("person_id")?, c);
            }
        }
        Ok(out)
    }

    /// Adds contact links, all or nothing. Each row is checked first (the
    /// persons exist and are in the caller's areas, or are registered here;
    /// an ID number already registered links that record; the link's own
    /// rules: not to oneself, not before either's birth, not after the
    /// source's recovery or today); any bad row refuses them all, every bad
    /// row named. Then the links are written and the region within three
    /// links of their ends re-classified, in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_contacts(
        &self,
        rows: &[NewContact],
        actor: &Actor,
    ) -> Result<ContactsAdded, StoreError> {
        let areas = self.area_map().await?;
        let today = self.today();
        let mut tx = self.begin_write().await?;
        lock_graph(&mut tx, self.backend).await?;
        let ends = resolve_contacts(&mut tx, rows, &areas, today, actor).await?;
        let facts = facts_of_ends(&mut tx, self.backend, rows, &ends).await?;
        let recovered = recovered_sources(&mut tx, self.backend, rows).await?;
        let mut errors = ends.errors;
        let records = checked_links(
            rows,
            &ends.resolved,
            &facts,
            &recovered,
            actor,
            today,
            &mut errors,
        );
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Ok(Err(errors));
        }
        let to_register = ends.to_register;
        let now = self.now_micros();
        register_contacts(&mut tx, self.backend, (&to_register, now)).await?;
        let mut entries = insert_links(&mut tx, &records, (actor, now)).await?;
        for p in &to_register {
            entries.push(AuditEntry::by(
                actor,
                "create",
                "person",
                &p.new.id,
                serde_json::json!({"home_area": p.new.home_area, "as": "contact"}),
            ));
        }
        let mut points: Vec<String> = records
            .iter()
            .flat_map(|(c, _, _)| [c.source_person_id.clone(), c.contact_person_id.clone()])
            .collect();
        points.sort();
        points.dedup();
        let re = reclassify(&mut tx, self.backend, &points).await?;
        audit::append(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(Ok((records.into_iter().map(|r| r.0).collect(), re)))
    }

    /// Starts a contact's isolation, planned by `policy` from their class
    /// now and whether they are fully vaccinated (two valid doses or more).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn start_isolation(
        &self,
        new: &NewIsolation,
        policy: &Policy,
        actor: &Actor,
    ) -> Result<IsolationRecord, StoreError> {
        let person = self.person_in(&new.person_id, &actor.scope).await?;
        let doses = doses_of(
            &self.pool,
            self.backend,
            std::slice::from_ref(&new.person_id),
        )
        .await?;
        let vaccinated = doses.get(&new.person_id).copied().unwrap_or(0) >= 2;
        let mut tx = self.begin_write().await?;
        let classes =
            classes_of(&mut tx, self.backend, std::slice::from_ref(&new.person_id)).await?;
        let class = classes.get(&new.person_id).copied();
        let plan = isolation::plan(policy, class, vaccinated, new.home_possible, new.start_on)
            .map_err(|e| StoreError::invalid(e.field_for_start(), e.to_string()))?;
        if plan.facility.is_some() && new.facility_name.is_none() {
            return Err(StoreError::invalid(
                "facility_name",
                "this isolation starts at a facility: name it",
            ));
        }
        refuse_overlapping_isolation(&mut tx, new, &person.province_code, &plan).await?;
        let path: String = facts_of(&mut tx, self.backend, std::slice::from_ref(&new.person_id))
            .await?
            .remove(&new.person_id)
            .map(|f| f.area_path)
            .unwrap_or_default();
        let rec = isolation_record(new, path, class, vaccinated, &plan);
        self.insert_isolation(&mut tx, &rec, &person.province_code, actor)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "isolate",
                "isolation",
                &rec.id,
                serde_json::json!({"person_id": rec.person_id, "class": rec.class,
                    "start_on": rec.start_on, "last_day": rec.last_day}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Inserts a planned isolation; an id used already is a conflict.
    async fn insert_isolation(
        &self,
        tx: &mut Transaction<'static, Any>,
        rec: &IsolationRecord,
        province_code: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO isolations ({ISOLATION_COLUMNS}, province_code, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (id, province_code) DO NOTHING"
        ))
        .bind(&rec.id)
        .bind(&rec.person_id)
        .bind(&rec.area_path)
        .bind(&rec.class)
        .bind(i64::from(rec.vaccinated))
        .bind(i64::from(rec.home_possible))
        .bind(rec.facility_name.clone())
        .bind(&rec.start_on)
        .bind(rec.facility_from.clone())
        .bind(rec.facility_to.clone())
        .bind(rec.home_from.clone())
        .bind(rec.home_to.clone())
        .bind(&rec.last_day)
        .bind(serde_json::to_string(&rec.tests_due).unwrap_or_else(|_| "[]".into()))
        .bind(province_code)
        .bind(&actor.name)
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("isolation {} already exists", rec.id),
                existing: None,
            });
        }
        Ok(())
    }

    /// The isolations of a person in the caller's areas.
    pub async fn isolations_of(
        &self,
        person_id: &str,
        scope: &Scope,
    ) -> Result<Vec<IsolationRecord>, StoreError> {
        self.person_in(person_id, scope).await?;
        let rows = sqlx::query(&format!(
            "SELECT {ISOLATION_COLUMNS} FROM isolations WHERE person_id = $1 ORDER BY start_on"
        ))
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(isolation_from_row).collect()
    }

    /// Records the team's check of an isolated person for a day; its
    /// alerts are the rules'. A person not isolated that day is refused
    /// (field `person_id`), and a second check of the same day (409).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_check(
        &self,
        new: &NewCheck,
        actor: &Actor,
    ) -> Result<CheckRecord, StoreError> {
        let person = self.person_in(&new.person_id, &actor.scope).await?;
        if new.day > self.today() {
            return Err(StoreError::invalid(
                "day",
                "a check cannot be recorded for a day to come",
            ));
        }
        let day = format_date(new.day);
        let mut tx = self.begin_write().await?;
        let iso = isolation_on(&mut tx, &new.person_id, &person.province_code, &day).await?;
        let alerts = isolation::assess(&iso.plan()?, &new.person_id, new.day, &new.check)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
        let rec = CheckRecord {
            isolation_id: iso.id,
            person_id: new.person_id.clone(),
            day,
            present: new.check.present,
            temperature_c: new.check.temperature_c,
            spo2: new.check.spo2.map(i64::from),
            symptoms: new.check.symptoms.clone(),
            alerts,
        };
        self.insert_check(&mut tx, &rec, &person.province_code, &iso.area_path, actor)
            .await?;
        note_latest_check(&mut tx, &rec, &person.province_code).await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "check",
                "isolation",
                &rec.isolation_id,
                serde_json::json!({"day": rec.day, "alerts": rec.alerts}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Inserts a day's check; a second check of the day is a conflict.
    async fn insert_check(
        &self,
        tx: &mut Transaction<'static, Any>,
        rec: &CheckRecord,
        province_code: &str,
        area_path: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let tenths = rec.temperature_c.map(|t| (t * 10.0).round() as i64);
        let done = sqlx::query(
            "INSERT INTO isolation_checks (province_code, isolation_id, day, person_id, area_path, present, \
             temperature_tenths, spo2, symptoms, alerts, checked_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (isolation_id, day, province_code) DO NOTHING",
        )
        .bind(province_code)
        .bind(&rec.isolation_id)
        .bind(&rec.day)
        .bind(&rec.person_id)
        .bind(area_path)
        .bind(i64::from(rec.present))
        .bind(tenths)
        .bind(rec.spo2)
        .bind(json_list(&rec.symptoms))
        .bind(alerts_json(&rec.alerts))
        .bind(&actor.name)
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "day",
                message: format!("{} was already checked on {}", rec.person_id, rec.day),
                existing: None,
            });
        }
        Ok(())
    }

    /// Adds a laboratory (reference data: a province has a handful).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_laboratory(
        &self,
        lab: &Laboratory,
        actor: &Actor,
    ) -> Result<Laboratory, StoreError> {
        for (field, v) in [
            ("single_per_day", lab.single_per_day),
            ("confirmatory_per_day", lab.confirmatory_per_day),
        ] {
            if v < 0 {
                return Err(StoreError::invalid(
                    field,
                    format!("{field} cannot be negative ({v})"),
                ));
            }
        }
        if !(1..=100).contains(&lab.max_pool) {
            return Err(StoreError::invalid("max_pool", "max_pool is 1 to 100"));
        }
        let area = self
            .area(&lab.area_code)
            .await
            .map_err(|_| absent("area", "area_code", &lab.area_code))?;
        if !actor.scope.covers_path(&area.path) {
            return Err(absent("area", "area_code", &lab.area_code));
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO laboratories (code, name, area_code, single_per_day, confirmatory_per_day, max_pool, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&lab.code)
        .bind(&lab.name)
        .bind(&lab.area_code)
        .bind(lab.single_per_day)
        .bind(lab.confirmatory_per_day)
        .bind(lab.max_pool)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "code",
                message: format!("laboratory {} already exists", lab.code),
                existing: Some(format!("/api/v1/outbreak/laboratories/{}", lab.code)),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "create",
                "laboratory",
                &lab.code,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(lab.clone())
    }

    /// A laboratory whose area is in `scope` (else absent).
    pub async fn laboratory(&self, code: &str, scope: &Scope) -> Result<Laboratory, StoreError> {
        let row = sqlx::query(
            "SELECT l.code, l.name, l.area_code, l.single_per_day, l.confirmatory_per_day, l.max_pool, a.path \
             FROM laboratories l JOIN areas a ON a.code = l.area_code WHERE l.code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| absent("laboratory", "lab_code", code))?;
        let path: String = row.try_get("path")?;
        if !scope.covers_path(&path) {
            return Err(absent("laboratory", "lab_code", code));
        }
        Ok(Laboratory {
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            area_code: row.try_get("area_code")?,
            single_per_day: row.try_get("single_per_day")?,
            confirmatory_per_day: row.try_get("confirmatory_per_day")?,
            max_pool: row.try_get("max_pool")?,
        })
    }

    /// Laboratories in the caller's areas.
    pub async fn laboratories(&self, scope: &Scope) -> Result<Vec<Laboratory>, StoreError> {
        let rows = sqlx::query("SELECT code FROM laboratories ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let code: String = r.try_get("code")?;
            if let Ok(l) = self.laboratory(&code, scope).await {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// Records samples taken from persons (in the caller's areas) for a
    /// laboratory; all or nothing.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn collect_samples(
        &self,
        lab_code: &str,
        samples: &[(String, String)],
        collected_on: Date,
        actor: &Actor,
    ) -> Result<Vec<SampleRecord>, StoreError> {
        self.laboratory(lab_code, &Scope::All).await?;
        if collected_on > self.today() {
            return Err(StoreError::invalid(
                "collected_on",
                "a sample cannot be collected in the future",
            ));
        }
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = samples.iter().map(|s| s.1.clone()).collect();
        let facts = facts_of(&mut tx, self.backend, &ids).await?;
        let mut out = Vec::new();
        let now = self.now_micros();
        for (sample_id, person_id) in samples {
            let f = facts
                .get(person_id)
                .filter(|f| actor.scope.covers_person(person_id, &f.area_path))
                .ok_or_else(|| absent("person", "person_id", person_id))?;
            let done = sqlx::query(
                "INSERT INTO samples (province_code, id, person_id, area_path, lab_code, collected_on, state, \
                 test_id, outcome, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, 'collected', NULL, NULL, $7) \
                 ON CONFLICT (id, province_code) DO NOTHING",
            )
            .bind(&f.province_code)
            .bind(sample_id)
            .bind(person_id)
            .bind(&f.area_path)
            .bind(lab_code)
            .bind(format_date(collected_on))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict {
                    field: "id",
                    message: format!("sample {sample_id} already exists"),
                    existing: None,
                });
            }
            out.push(SampleRecord {
                id: sample_id.clone(),
                person_id: person_id.clone(),
                lab_code: lab_code.to_string(),
                collected_on: format_date(collected_on),
                state: "collected".into(),
                test_id: None,
                outcome: None,
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "collect",
                "laboratory",
                lab_code,
                serde_json::json!({"samples": ids.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The samples of a laboratory (all states), oldest first.
    pub async fn samples_of(&self, lab_code: &str) -> Result<Vec<SampleRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, person_id, lab_code, collected_on, state, test_id, outcome FROM samples \
             WHERE lab_code = $1 ORDER BY recorded_at, id",
        )
        .bind(lab_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SampleRecord {
                    id: r.try_get("id")?,
                    person_id: r.try_get("person_id")?,
                    lab_code: r.try_get("lab_code")?,
                    collected_on: r.try_get("collected_on")?,
                    state: r.try_get("state")?,
                    test_id: r.try_get("test_id")?,
                    outcome: r.try_get("outcome")?,
                })
            })
            .collect()
    }

    async fn lab_province(
        &self,
        tx: &mut Transaction<'static, Any>,
        lab_code: &str,
    ) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT a.path FROM laboratories l JOIN areas a ON a.code = l.area_code WHERE l.code = $1")
            .bind(lab_code)
            .fetch_one(&mut **tx)
            .await?;
        let path: String = row.try_get("path")?;
        Ok(vaxgrid_core::area::province_of_path(&path).to_string())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "a test's columns, each named at the call"
    )]
    async fn new_test(
        &self,
        tx: &mut Transaction<'static, Any>,
        lab_code: &str,
        province: &str,
        samples: &[(String, String)],
        retest_of: Option<&str>,
        confirmatory: bool,
        day: &str,
    ) -> Result<TestRecord, StoreError> {
        let id = Uuid::now_v7().to_string();
        let seq: i64 = sqlx::query("SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) AS n FROM lab_tests WHERE lab_code = $1")
            .bind(lab_code)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        sqlx::query(
            "INSERT INTO lab_tests (province_code, id, lab_code, seq, size, retest_of, outcome, created_on, \
             resulted_on, recorded_at, confirmatory) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, NULL, $8, $9)",
        )
        .bind(province)
        .bind(&id)
        .bind(lab_code)
        .bind(seq)
        .bind(samples.len() as i64)
        .bind(retest_of)
        .bind(day)
        .bind(self.now_micros())
        .bind(i64::from(confirmatory))
        .execute(&mut **tx)
        .await?;
        for (s, _) in samples {
            sqlx::query("INSERT INTO lab_test_samples (province_code, test_id, sample_id) VALUES ($1, $2, $3)")
                .bind(province)
                .bind(&id)
                .bind(s)
                .execute(&mut **tx)
                .await?;
        }
        for (sample_province, ids) in by_province(samples) {
            sqlx::query(&format!(
                "UPDATE samples SET state = 'in_test', test_id = $1 WHERE province_code = $2 AND {}",
                in_json(self.backend, "id", 3)
            ))
            .bind(&id)
            .bind(sample_province)
            .bind(json_list(ids))
            .execute(&mut **tx)
            .await?;
        }
        Ok(TestRecord {
            id,
            lab_code: lab_code.to_string(),
            samples: samples.iter().map(|s| s.0.clone()).collect(),
            retest_of: retest_of.map(str::to_string),
            confirmatory,
            outcome: None,
            created_on: day.to_string(),
        })
    }

    /// Puts waiting samples of a laboratory into one test: a pool when
    /// more than one (at most the laboratory's `max_pool`), a single test
    /// when one. The rules are `pooling::Lab::assign`'s; nothing is written
    /// on a refusal.
    pub async fn make_test(
        &self,
        lab_code: &str,
        samples: &[String],
        day: Date,
        actor: &Actor,
    ) -> Result<TestRecord, StoreError> {
        self.make_test_as(lab_code, samples, false, day, actor)
            .await
    }

    /// `make_test`, saying whether a single test is confirmatory (it then
    /// waits for the laboratory's confirmatory capacity); a pool never is
    /// (`confirmatory`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn make_test_as(
        &self,
        lab_code: &str,
        samples: &[String],
        confirmatory: bool,
        day: Date,
        actor: &Actor,
    ) -> Result<TestRecord, StoreError> {
        if confirmatory && samples.len() > 1 {
            return Err(StoreError::invalid(
                "confirmatory",
                "a confirmatory test is of one sample, not a pool",
            ));
        }
        let lab = self.laboratory(lab_code, &actor.scope).await?;
        let max = u32::try_from(lab.max_pool).unwrap_or(1);
        if samples.is_empty() || samples.len() > max as usize {
            let e = pooling::PoolingError::PoolSize {
                size: samples.len(),
                max,
            };
            return Err(StoreError::invalid(e.field(), e.to_string()));
        }
        let mut tx = self.begin_write().await?;
        let states = sample_states(&mut tx, self.backend, samples).await?;
        check_samples_waiting(samples, &states, lab_code)?;
        let province = self.lab_province(&mut tx, lab_code).await?;
        let members: Vec<(String, String)> = samples
            .iter()
            .map(|s| (s.clone(), states[s].province_code.clone()))
            .collect();
        let test = self
            .new_test(
                &mut tx,
                lab_code,
                &province,
                &members,
                None,
                confirmatory,
                &format_date(day),
            )
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "test",
                "lab_test",
                &test.id,
                serde_json::json!({"size": samples.len(), "confirmatory": confirmatory}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(test)
    }

    /// Records a test's result: a negative test clears its samples; a
    /// positive pool makes a single re-test of each member; a positive
    /// single test is final and confirms its person as a case (PCR), with
    /// the re-classification in the same transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_result(
        &self,
        test_id: &str,
        outcome: pooling::Outcome,
        day: Date,
        actor: &Actor,
    ) -> Result<ResultOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        lock_graph(&mut tx, self.backend).await?;
        let pending = self.pending_test(&mut tx, test_id, actor).await?;
        let members = test_members(&mut tx, test_id, &pending.province).await?;
        let member_ids: Vec<String> = members.iter().map(|m| m.0.clone()).collect();
        let outcome_str = outcome_name(outcome);
        let dstr = format_date(day);
        sqlx::query("UPDATE lab_tests SET outcome = $1, resulted_on = $2 WHERE id = $3 AND province_code = $4")
            .bind(outcome_str)
            .bind(&dstr)
            .bind(test_id)
            .bind(&pending.province)
            .execute(&mut *tx)
            .await?;
        let mut retests = Vec::new();
        let mut resulted = Vec::new();
        let mut settled = Settled::default();
        if members.len() > 1 && outcome == pooling::Outcome::Positive {
            retests = self.retest_each(&mut tx, &pending, &members, &dstr).await?;
        } else {
            self.result_samples(&mut tx, &members, outcome_str, test_id)
                .await?;
            resulted = member_ids.clone();
            settled = if outcome == pooling::Outcome::Positive {
                self.confirm_positives(&mut tx, &member_ids, day, actor)
                    .await?
            } else {
                self.settle_negatives(&mut tx, &member_ids, pending.confirmatory, test_id, actor)
                    .await?
            };
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "result",
                "lab_test",
                test_id,
                serde_json::json!({"outcome": outcome_str, "retests": retests.len(),
                    "reversed": settled.reversed.len(), "cleared": settled.cleared.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(ResultOutcome {
            test: TestRecord {
                id: pending.id,
                lab_code: pending.lab_code,
                samples: member_ids,
                retest_of: pending.retest_of,
                confirmatory: pending.confirmatory,
                outcome: Some(outcome_str.to_string()),
                created_on: pending.created_on,
            },
            retests,
            resulted,
            confirmed: settled.confirmed,
            cleared: settled.cleared,
            reversed: settled.reversed,
            reclassified: settled.reclassified,
        })
    }

    /// The test `test_id` awaiting its result, at a laboratory in the
    /// caller's areas (another's reads as absent); a test with its result
    /// already is a conflict.
    async fn pending_test(
        &self,
        tx: &mut Transaction<'static, Any>,
        test_id: &str,
        actor: &Actor,
    ) -> Result<PendingTest, StoreError> {
        let row = sqlx::query("SELECT id, lab_code, retest_of, outcome, created_on, province_code, confirmatory FROM lab_tests WHERE id = $1")
            .bind(test_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| absent("test", "test_id", test_id))?;
        let lab_code: String = row.try_get("lab_code")?;
        self.laboratory(&lab_code, &actor.scope)
            .await
            .map_err(|_| absent("test", "test_id", test_id))?;
        let province: String = row.try_get("province_code")?;
        if row.try_get::<Option<String>, _>("outcome")?.is_some() {
            return Err(StoreError::Conflict {
                field: "test_id",
                message: format!("test {test_id} already has its result"),
                existing: None,
            });
        }
        Ok(PendingTest {
            id: test_id.to_string(),
            lab_code,
            province,
            retest_of: row.try_get("retest_of")?,
            confirmatory: row.try_get::<i64, _>("confirmatory")? != 0,
            created_on: row.try_get("created_on")?,
        })
    }

    /// A positive pool: a confirmatory single re-test of each member.
    async fn retest_each(
        &self,
        tx: &mut Transaction<'static, Any>,
        pool: &PendingTest,
        members: &[(String, String)],
        day: &str,
    ) -> Result<Vec<TestRecord>, StoreError> {
        let mut retests = Vec::new();
        for s in members {
            retests.push(
                self.new_test(
                    tx,
                    &pool.lab_code,
                    &pool.province,
                    std::slice::from_ref(s),
                    Some(&pool.id),
                    true,
                    day,
                )
                .await?,
            );
        }
        Ok(retests)
    }

    /// A final result: the test's samples are resulted with `outcome`.
    async fn result_samples(
        &self,
        tx: &mut Transaction<'static, Any>,
        members: &[(String, String)],
        outcome: &str,
        test_id: &str,
    ) -> Result<(), StoreError> {
        for (sample_province, ids) in by_province(members) {
            sqlx::query(&format!(
                "UPDATE samples SET state = 'resulted', outcome = $1, test_id = $2 WHERE province_code = $3 AND {}",
                in_json(self.backend, "id", 4)
            ))
            .bind(outcome)
            .bind(test_id)
            .bind(sample_province)
            .bind(json_list(ids))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// A final positive: each person of the samples not yet a case is
    /// confirmed (PCR), with the re-classification.
    async fn confirm_positives(
        &self,
        tx: &mut Transaction<'static, Any>,
        member_ids: &[String],
        day: Date,
        actor: &Actor,
    ) -> Result<Settled, StoreError> {
        let mut settled = Settled::default();
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT person_id FROM samples WHERE {}",
            in_json(self.backend, "id", 1)
        ))
        .bind(json_list(member_ids))
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            let person: String = r.try_get("person_id")?;
            let already = sqlx::query(
                "SELECT status FROM outbreak_cases WHERE person_id = $1 AND status = 'confirmed'",
            )
            .bind(&person)
            .fetch_optional(&mut **tx)
            .await?;
            if already.is_some() {
                continue;
            }
            let re = self
                .confirm_in(
                    tx,
                    &NewCase {
                        person_id: person.clone(),
                        onset_on: None,
                        confirmed_on: day,
                        test_kind: TestKind::Pcr,
                        severity: Severity::Mild,
                        treated_at: None,
                    },
                    actor,
                )
                .await?;
            settled.reclassified += re.changes.len();
            settled.confirmed.push(person);
        }
        Ok(settled)
    }

    /// A final negative: a case confirmed by a rapid antigen test whose
    /// confirmatory PCR is negative is reversed (as the reverse route
    /// would); a contact who is not a case is cleared (their last result
    /// shows on the lists; the class stays the graph's). A PCR-confirmed
    /// case is not undone by a later negative.
    async fn settle_negatives(
        &self,
        tx: &mut Transaction<'static, Any>,
        member_ids: &[String],
        confirmatory: bool,
        test_id: &str,
        actor: &Actor,
    ) -> Result<Settled, StoreError> {
        let mut settled = Settled::default();
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT s.person_id, c.status, c.test_kind, k.distance FROM samples s \
             LEFT JOIN outbreak_cases c ON c.person_id = s.person_id AND c.province_code = s.province_code \
             LEFT JOIN outbreak_classes k ON k.person_id = s.person_id AND k.province_code = s.province_code \
             WHERE {}",
            in_json(self.backend, "s.id", 1)
        ))
        .bind(json_list(member_ids))
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            let person: String = r.try_get("person_id")?;
            let status: Option<String> = r.try_get("status")?;
            let kind: Option<String> = r.try_get("test_kind")?;
            let distance: Option<i64> = r.try_get("distance")?;
            if status.as_deref() == Some("confirmed") {
                if confirmatory && kind.as_deref() == Some(TestKind::RapidAntigen.as_str()) {
                    let re = self
                        .reverse_in(
                            tx,
                            &person,
                            &format!("confirmatory PCR negative (test {test_id})"),
                            actor,
                        )
                        .await?;
                    settled.reclassified += re.changes.len();
                    settled.reversed.push(person);
                }
            } else if distance.is_some() {
                settled.cleared.push(person);
            }
        }
        Ok(settled)
    }

    /// A laboratory's pending tests in the order they were made, each with
    /// the day it will run at the laboratory's daily capacity (counting the
    /// runs already resulted today).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lab_queue(
        &self,
        lab_code: &str,
        today: Date,
        scope: &Scope,
    ) -> Result<Vec<QueuedTest>, StoreError> {
        let lab = self.laboratory(lab_code, scope).await?;
        let rows = sqlx::query(
            "SELECT id, size, retest_of, confirmatory FROM lab_tests WHERE lab_code = $1 AND outcome IS NULL ORDER BY seq",
        )
        .bind(lab_code)
        .fetch_all(&self.pool)
        .await?;
        let done = sqlx::query(
            "SELECT confirmatory, CAST(COUNT(*) AS BIGINT) AS n FROM lab_tests WHERE lab_code = $1 AND resulted_on = $2 \
             GROUP BY confirmatory",
        )
        .bind(lab_code)
        .bind(format_date(today))
        .fetch_all(&self.pool)
        .await?;
        let mut done_today = [0i64; 2];
        for r in &done {
            let k = usize::from(r.try_get::<i64, _>("confirmatory")? != 0);
            done_today[k] += r.try_get::<i64, _>("n")?;
        }
        // Two queues in one order: screening runs (pools and single tests)
        // at the laboratory's single capacity, confirmatory tests (a
        // positive pool's re-tests, tests made to confirm) at its
        // confirmatory capacity.
        let kinds: Vec<bool> = rows
            .iter()
            .map(|r| Ok(r.try_get::<i64, _>("confirmatory")? != 0))
            .collect::<Result<_, StoreError>>()?;
        let per_day = [lab.single_per_day, lab.confirmatory_per_day];
        let days: Vec<Option<Vec<Date>>> = (0..2)
            .map(|k| {
                pooling::queue_days(
                    kinds.iter().filter(|&&c| usize::from(c) == k).count(),
                    u32::try_from(per_day[k]).unwrap_or(u32::MAX),
                    u32::try_from(done_today[k]).unwrap_or(u32::MAX),
                    today,
                )
            })
            .collect();
        let mut next = [0usize; 2];
        rows.iter()
            .zip(&kinds)
            .map(|(r, &confirmatory)| {
                let k = usize::from(confirmatory);
                let runs_on = days[k].as_ref().map(|d| format_date(d[next[k]]));
                next[k] += 1;
                Ok(QueuedTest {
                    test_id: r.try_get("id")?,
                    size: r.try_get("size")?,
                    retest_of: r.try_get("retest_of")?,
                    confirmatory,
                    runs_on,
                })
            })
            .collect()
    }

    /// The bookkeeping of a laboratory's samples holds: each sample is
    /// waiting in no pending test, in exactly the one pending test its row
    /// names, or resulted by a resulted test that names it. Returns the
    /// first broken sample, described.
    pub async fn check_samples(&self, lab_code: &str) -> Result<Option<String>, StoreError> {
        let samples = self.samples_of(lab_code).await?;
        let rows = sqlx::query(
            "SELECT t.id, t.outcome, s.sample_id FROM lab_tests t JOIN lab_test_samples s \
             ON s.test_id = t.id AND s.province_code = t.province_code WHERE t.lab_code = $1",
        )
        .bind(lab_code)
        .fetch_all(&self.pool)
        .await?;
        let mut pending: HashMap<String, Vec<String>> = HashMap::new();
        let mut finished: HashMap<(String, String), String> = HashMap::new();
        for r in &rows {
            let test: String = r.try_get("id")?;
            let sample: String = r.try_get("sample_id")?;
            match r.try_get::<Option<String>, _>("outcome")? {
                None => pending.entry(sample).or_default().push(test),
                Some(o) => {
                    finished.insert((sample, test), o);
                }
            }
        }
        for s in &samples {
            let naming = pending.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            let ok = match s.state.as_str() {
                "collected" => naming.is_empty(),
                "in_test" => naming.len() == 1 && Some(&naming[0]) == s.test_id.as_ref(),
                "resulted" => {
                    naming.is_empty()
                        && s.test_id.as_ref().is_some_and(|t| {
                            finished.get(&(s.id.clone(), t.clone())) == s.outcome.as_ref()
                        })
                }
                _ => false,
            };
            if !ok {
                return Ok(Some(format!(
                    "sample {} is {} (test {:?}) but pending tests name it {naming:?}",
                    s.id, s.state, s.test_id
                )));
            }
        }
        Ok(None)
    }

    /// The ring-vaccination list: persons living under `area_path` (an
    /// outbreak area in the caller's scope) and the household contacts of
    /// everyone with a class, who have no valid dose and are at least
    /// `min_age` years old on `today`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ring_list(
        &self,
        area_path: &str,
        min_age: u32,
        today: Date,
        scope: &Scope,
        limit: i64,
    ) -> Result<Vec<RingPerson>, StoreError> {
        let born_by = today
            .replace_year(today.year() - i32::try_from(min_age).unwrap_or(0))
            .unwrap_or(today - Duration::days(365 * i64::from(min_age)));
        let upper = vaxgrid_core::area::subtree_upper_bound(area_path);
        let unvaccinated = "NOT EXISTS (SELECT 1 FROM doses d WHERE d.person_id = p.id AND d.province_code = p.province_code \
             AND d.kind = 'administered' AND NOT EXISTS (SELECT 1 FROM doses c WHERE c.corrects_id = d.id \
             AND c.province_code = d.province_code))";
        let rows = sqlx::query(&format!(
            "SELECT p.id, p.full_name, p.birth_date, p.area_path, 'area' AS reason FROM persons p \
             WHERE p.area_path >= $1 AND p.area_path < $2 AND p.merged_into IS NULL AND p.birth_date <= $3 AND {unvaccinated} \
             UNION \
             SELECT p.id, p.full_name, p.birth_date, p.area_path, 'household' AS reason FROM outbreak_contacts h \
             JOIN outbreak_classes k ON k.person_id = h.source_person_id OR k.person_id = h.contact_person_id \
             JOIN persons p ON (p.id = h.source_person_id OR p.id = h.contact_person_id) \
             WHERE h.setting = 'household' AND p.merged_into IS NULL AND p.birth_date <= $3 \
             AND k.area_path >= $1 AND k.area_path < $2 AND {unvaccinated} \
             ORDER BY 4, 1, 5 LIMIT $4"
        ))
        .bind(area_path)
        .bind(&upper)
        .bind(format_date(born_by))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let path: String = r.try_get("area_path")?;
            if !scope.covers_person(&id, &path) || !seen.insert(id.clone()) {
                continue;
            }
            out.push(RingPerson {
                person_id: id,
                full_name: r.try_get("full_name")?,
                birth_date: r.try_get("birth_date")?,
                area_path: path,
                reason: r.try_get("reason")?,
            });
        }
        Ok(out)
    }

    /// Loads a whole outbreak at once — links, confirmed cases and the
    /// classes computed from scratch (`ContactGraph::classify_all`) — for
    /// the benchmark and the demo: one transaction, rows in JSON batches.
    /// The persons must be registered already.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_outbreak(
        &self,
        links: &[Contact],
        cases: &[(Uuid, Date)],
        actor: &Actor,
    ) -> Result<usize, StoreError> {
        let (g, ids) = loaded_graph(links, cases, self.today())?;
        let mut tx = self.begin_write().await?;
        let mut facts = HashMap::new();
        for chunk in ids.chunks(5000) {
            facts.extend(facts_of(&mut tx, self.backend, chunk).await?);
        }
        let now = self.now_micros();
        self.load_links(&mut tx, links, &facts, now, actor).await?;
        self.load_cases(&mut tx, &g, cases, &facts, now).await?;
        let changes: Vec<ClassChange> = g
            .classes()
            .map(|(p, c)| ClassChange {
                person_id: p.to_string(),
                before: None,
                after: Some(c),
            })
            .collect();
        for chunk in changes.chunks(5000) {
            write_classes(&mut tx, self.backend, chunk).await?;
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "load",
                "outbreak",
                "*",
                serde_json::json!({"links": links.len(), "cases": cases.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(links.len())
    }

    /// Writes the loaded links in batches of 5,000, each in its contact's
    /// province.
    async fn load_links(
        &self,
        tx: &mut Transaction<'static, Any>,
        links: &[Contact],
        facts: &HashMap<String, Facts>,
        now: i64,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let link_sql = format!(
            "INSERT INTO outbreak_contacts ({}) {}",
            LinkRow::COLUMNS,
            json_rows(self.backend, 1, &LinkRow::TYPES)
        );
        for chunk in links.chunks(5000) {
            let mut rows = Vec::with_capacity(chunk.len());
            for c in chunk {
                let contact = c.contact.to_string();
                let f = facts
                    .get(&contact)
                    .ok_or_else(|| absent("person", "contact_person_id", &contact))?;
                rows.push(LoadedLink {
                    province: &f.province_code,
                    id: Uuid::now_v7().to_string(),
                    source: c.source.to_string(),
                    contact,
                    area_path: &f.area_path,
                    exposure: format_date(c.exposure),
                    setting: c.setting.as_str(),
                    recorded_by: &actor.name,
                    recorded_at: now,
                });
            }
            let values: Vec<_> = rows.iter().map(LinkRow::values).collect();
            sqlx::query(&link_sql)
                .bind(rows_json(&values))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Writes the loaded cases the graph kept (each person once) in one
    /// batch, confirmed by PCR, mild, under treatment.
    async fn load_cases(
        &self,
        tx: &mut Transaction<'static, Any>,
        g: &graph::ContactGraph,
        cases: &[(Uuid, Date)],
        facts: &HashMap<String, Facts>,
        now: i64,
    ) -> Result<(), StoreError> {
        let case_sql = format!(
            "INSERT INTO outbreak_cases ({}) {}",
            CaseRow::COLUMNS,
            json_rows(self.backend, 1, &CaseRow::TYPES)
        );
        let mut loaded = Vec::new();
        let mut seen_cases = HashSet::new();
        for (p, d) in cases {
            if g.case_state(*p).is_none() || !seen_cases.insert(*p) {
                continue;
            }
            let id = p.to_string();
            let f = facts
                .get(&id)
                .ok_or_else(|| absent("person", "person_id", &id))?;
            loaded.push(LoadedCase {
                province: &f.province_code,
                person_id: id,
                area_path: &f.area_path,
                confirmed_on: format_date(*d),
                recorded_at: now,
            });
        }
        let rows: Vec<_> = loaded.iter().map(CaseRow::values).collect();
        if !rows.is_empty() {
            sqlx::query(&case_sql)
                .bind(rows_json(&rows))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Loads home isolations and their past checks at once, in one
    /// transaction (the benchmark's and the demo's seeding; the API starts
    /// isolations one by one with `start_isolation`). Each person's class
    /// is read from the stored classes; persons without one are skipped.
    /// Returns how many isolations were written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_isolations(
        &self,
        rows: &[(String, Date, Vec<Date>)],
        policy: &Policy,
        actor: &Actor,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let mut facts = HashMap::new();
        let mut classes = HashMap::new();
        for chunk in ids.chunks(5000) {
            facts.extend(facts_of(&mut tx, self.backend, chunk).await?);
            classes.extend(classes_of(&mut tx, self.backend, chunk).await?);
        }
        let now = self.now_micros();
        let mut written = 0;
        for (person, start, checked) in rows {
            let (Some(f), Some(class)) = (facts.get(person), classes.get(person).copied()) else {
                continue;
            };
            let Ok(plan) = isolation::plan(policy, Some(class), false, true, *start) else {
                continue;
            };
            let loaded = LoadedIsolation {
                id: Uuid::now_v7().to_string(),
                person,
                facts: f,
                class,
                checked: checks_within(&plan, checked),
                plan,
            };
            self.write_loaded_isolation(&mut tx, &loaded, actor, now)
                .await?;
            written += 1;
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "load",
                "isolation",
                "*",
                serde_json::json!({"isolations": written}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Writes a loaded isolation with the latest check's state, as
    /// `record_check` keeps it (the loaded checks raise no alert), then
    /// each of its checks.
    async fn write_loaded_isolation(
        &self,
        tx: &mut Transaction<'static, Any>,
        iso: &LoadedIsolation<'_>,
        actor: &Actor,
        now: i64,
    ) -> Result<(), StoreError> {
        let (f, plan) = (iso.facts, &iso.plan);
        sqlx::query(&format!(
            "INSERT INTO isolations ({ISOLATION_COLUMNS}, province_code, recorded_by, recorded_at, \
             last_check_day, home_checks, last_danger) \
             VALUES ($1, $2, $3, $4, 0, 1, NULL, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0)"
        ))
        .bind(&iso.id)
        .bind(iso.person)
        .bind(&f.area_path)
        .bind(iso.class.as_str())
        .bind(format_date(plan.start))
        .bind(plan.facility.map(|x| format_date(x.0)))
        .bind(plan.facility.map(|x| format_date(x.1)))
        .bind(plan.home.map(|x| format_date(x.0)))
        .bind(plan.home.map(|x| format_date(x.1)))
        .bind(format_date(plan.last_day))
        .bind(json_list(plan.tests_due.iter().map(|d| format_date(*d))))
        .bind(&f.province_code)
        .bind(&actor.name)
        .bind(now)
        .bind(iso.checked.iter().max().map(|d| format_date(*d)))
        .bind(home_checks(plan, &iso.checked) as i64)
        .execute(&mut **tx)
        .await?;
        for day in &iso.checked {
            sqlx::query(
                "INSERT INTO isolation_checks (province_code, isolation_id, day, person_id, area_path, present, \
                 temperature_tenths, spo2, symptoms, alerts, checked_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, 1, 368, 98, '[]', '[]', $6, $7)",
            )
            .bind(&f.province_code)
            .bind(&iso.id)
            .bind(format_date(*day))
            .bind(iso.person)
            .bind(&f.area_path)
            .bind(&actor.name)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Valid doses of each person (for the vaccination link).
    pub async fn valid_doses(&self, ids: &[String]) -> Result<HashMap<String, i64>, StoreError> {
        doses_of(&self.pool, self.backend, ids).await
    }
}

/// The contact graph of a loaded outbreak, every class computed, with
/// the ids of everyone in it, sorted. A link the rules refuse refuses the
/// load; a confirmation the graph refuses is skipped.
fn loaded_graph(
    links: &[Contact],
    cases: &[(Uuid, Date)],
    today: Date,
) -> Result<(graph::ContactGraph, Vec<String>), StoreError> {
    let mut g = graph::ContactGraph::new();
    for c in links {
        g.add_person(c.source, None);
        g.add_person(c.contact, None);
    }
    for (p, _) in cases {
        g.add_person(*p, None);
    }
    for c in links {
        g.add_contact(c.clone(), today)
            .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
    }
    for (p, d) in cases {
        let _ = g.confirm(*p, *d);
    }
    let mut ids: Vec<String> = g
        .classify_all()
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    ids.sort();
    Ok((g, ids))
}

/// An isolation of the seeding, planned, with its checks.
struct LoadedIsolation<'a> {
    id: String,
    person: &'a str,
    facts: &'a Facts,
    class: Class,
    plan: isolation::Plan,
    /// The days checked, within the isolation.
    checked: Vec<Date>,
}

/// The days of `checked` that fall within the isolation `plan` lays out.
fn checks_within(plan: &isolation::Plan, checked: &[Date]) -> Vec<Date> {
    checked
        .iter()
        .copied()
        .filter(|d| plan.covers(*d))
        .collect()
}

/// How many of `checked` were at home (none when the plan has no days at
/// home).
fn home_checks(plan: &isolation::Plan, checked: &[Date]) -> usize {
    plan.home.map_or(0, |(from, _)| {
        checked.iter().filter(|d| **d >= from).count()
    })
}

/// A test awaiting its result, as stored.
struct PendingTest {
    id: String,
    lab_code: String,
    province: String,
    retest_of: Option<String>,
    confirmatory: bool,
    created_on: String,
}

/// A result's name as stored.
fn outcome_name(outcome: pooling::Outcome) -> &'static str {
    match outcome {
        pooling::Outcome::Negative => "negative",
        pooling::Outcome::Positive => "positive",
    }
}

/// Where a sample is: its state, laboratory and province.
struct SampleState {
    state: String,
    lab_code: String,
    province_code: String,
}

/// The stored state of each of `samples` that exists, by id.
async fn sample_states(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    samples: &[String],
) -> Result<HashMap<String, SampleState>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT id, state, lab_code, province_code FROM samples WHERE {}",
        in_json(backend, "id", 1)
    ))
    .bind(json_list(samples))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                SampleState {
                    state: r.try_get("state")?,
                    lab_code: r.try_get("lab_code")?,
                    province_code: r.try_get("province_code")?,
                },
            ))
        })
        .collect()
}

/// Every sample of a new test is named once, exists at `lab_code` and
/// waits there (collected, in no test yet); the first fault is named.
fn check_samples_waiting(
    samples: &[String],
    states: &HashMap<String, SampleState>,
    lab_code: &str,
) -> Result<(), StoreError> {
    for (i, s) in samples.iter().enumerate() {
        if samples[..i].contains(s) {
            return Err(StoreError::invalid(
                "samples",
                format!("sample {s} is named twice"),
            ));
        }
        match states.get(s) {
            Some(st) if st.lab_code == lab_code => {
                if st.state != "collected" {
                    return Err(StoreError::invalid(
                        "samples",
                        format!("sample {s} is already in a test or resulted"),
                    ));
                }
            }
            _ => {
                return Err(StoreError::invalid(
                    "samples",
                    format!("sample {s} does not exist at {lab_code}"),
                ))
            }
        }
    }
    Ok(())
}

/// What a final result did to the persons of its samples.
#[derive(Default)]
struct Settled {
    confirmed: Vec<String>,
    cleared: Vec<String>,
    reversed: Vec<String>,
    /// Persons re-classified by the confirmations and reversals.
    reclassified: usize,
}

/// The samples of a test (sample id, province), by id.
async fn test_members(
    tx: &mut Transaction<'static, Any>,
    test_id: &str,
    province: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query(
        "SELECT m.sample_id, s.province_code FROM lab_test_samples m JOIN samples s ON s.id = m.sample_id \
         WHERE m.test_id = $1 AND m.province_code = $2 ORDER BY m.sample_id",
    )
    .bind(test_id)
    .bind(province)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("sample_id")?, r.try_get("province_code")?)))
    .collect()
}

/// Sample ids grouped by their province.
fn by_province(samples: &[(String, String)]) -> HashMap<&str, Vec<&str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, province) in samples {
        out.entry(province.as_str()).or_default().push(id.as_str());
    }
    out
}

/// Stored classes of `ids`.
async fn classes_of(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[String],
) -> Result<HashMap<String, Class>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT person_id, distance FROM outbreak_classes WHERE {}",
        in_json(backend, "person_id", 1)
    ))
    .bind(json_list(ids))
    .fetch_all(&mut **tx)
    .await?;
    let mut out = HashMap::new();
    for r in &rows {
        if let Some(c) = class_of(r.try_get("distance")?) {
            out.insert(r.try_get("person_id")?, c);
        }
    }
    Ok(out)
}

/// The request field an isolation planning error is about.
trait StartField {
    fn field_for_start(&self) -> &'static str;
}

impl StartField for isolation::IsolationError {
    fn field_for_start(&self) -> &'static str {
        match self {
            isolation::IsolationError::CaseNotContact | isolation::IsolationError::NoClass => {
                "person_id"
            }
            other => other.field(),
        }
    }
}

/// A contact link as the outbreak loader writes it (`vaxgrid outbreak
/// load`).
struct LoadedLink<'a> {
    province: &'a str,
    id: String,
    source: String,
    contact: String,
    area_path: &'a str,
    exposure: String,
    setting: &'a str,
    recorded_by: &'a str,
    recorded_at: i64,
}

row_layout!(LinkRow for LoadedLink<'_>, |l| {
    province_code: Text = l.province,
    id: Text = &l.id,
    source_person_id: Text = &l.source,
    contact_person_id: Text = &l.contact,
    area_path: Text = l.area_path,
    exposure_on: Text = &l.exposure,
    setting: Text = l.setting,
    recorded_by: Text = l.recorded_by,
    recorded_at: Int = l.recorded_at,
});

/// A case as the outbreak loader writes it: confirmed by PCR, mild, under
/// treatment.
struct LoadedCase<'a> {
    province: &'a str,
    person_id: String,
    area_path: &'a str,
    confirmed_on: String,
    recorded_at: i64,
}

row_layout!(CaseRow for LoadedCase<'_>, |c| {
    province_code: Text = c.province,
    person_id: Text = &c.person_id,
    area_path: Text = c.area_path,
    status: Text = "confirmed",
    onset_on: Text = Param::Null,
    confirmed_on: Text = &c.confirmed_on,
    test_kind: Text = "pcr",
    severity: Text = "mild",
    treated_at: Text = Param::Null,
    outcome: Text = "under_treatment",
    recovered_on: Text = Param::Null,
    reversed_reason: Text = Param::Null,
    recorded_at: Int = c.recorded_at,
});

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_region_s_outside_is_the_far_ends_of_its_links_once() {
        let region = Region {
            members: ["a", "b"].iter().map(|s| s.to_string()).collect(),
            links: vec![
                ("a".into(), "b".into()),
                ("b".into(), "x".into()),
                ("y".into(), "a".into()),
                ("x".into(), "a".into()),
            ],
        };
        let mut outside = region.outside();
        outside.sort();
        assert_eq!(outside, ids(&["x", "y"]));
    }

    #[test]
    fn only_the_classes_that_changed_are_written_in_id_order() {
        let stored = HashMap::from([
            ("b".to_string(), Class::F1),
            ("c".to_string(), Class::F2),
            ("d".to_string(), Class::F0),
        ]);
        let fresh = HashMap::from([
            ("a".to_string(), Some(Class::F3)),
            ("b".to_string(), Some(Class::F1)),
            ("c".to_string(), Some(Class::F1)),
            ("d".to_string(), None),
        ]);
        let changes = class_changes(fresh, &stored);
        let seen: Vec<(&str, Option<Class>, Option<Class>)> = changes
            .iter()
            .map(|c| (c.person_id.as_str(), c.before, c.after))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("a", None, Some(Class::F3)),
                ("c", Some(Class::F2), Some(Class::F1)),
                ("d", Some(Class::F0), None),
            ]
        );
    }

    fn waiting(state: &str, lab: &str) -> SampleState {
        SampleState {
            state: state.into(),
            lab_code: lab.into(),
            province_code: "01".into(),
        }
    }

    fn refusal(r: Result<(), StoreError>) -> String {
        match r {
            Err(StoreError::Invalid { field, message }) => format!("{field}: {message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_test_takes_only_samples_waiting_at_its_laboratory() {
        let states = HashMap::from([
            ("s1".to_string(), waiting("collected", "L1")),
            ("s2".to_string(), waiting("in_test", "L1")),
            ("s3".to_string(), waiting("collected", "L2")),
        ]);
        assert!(check_samples_waiting(&ids(&["s1"]), &states, "L1").is_ok());
        assert_eq!(
            refusal(check_samples_waiting(&ids(&["s1", "s1"]), &states, "L1")),
            "samples: sample s1 is named twice"
        );
        assert_eq!(
            refusal(check_samples_waiting(&ids(&["s1", "s2"]), &states, "L1")),
            "samples: sample s2 is already in a test or resulted"
        );
        assert_eq!(
            refusal(check_samples_waiting(&ids(&["s3"]), &states, "L1")),
            "samples: sample s3 does not exist at L1"
        );
        assert_eq!(
            refusal(check_samples_waiting(&ids(&["s9"]), &states, "L1")),
            "samples: sample s9 does not exist at L1"
        );
    }

    #[test]
    fn loaded_checks_keep_the_isolation_s_days_and_count_those_at_home() {
        let plan = isolation::Plan {
            start: date!(2026 - 12 - 01),
            facility: Some((date!(2026 - 12 - 01), date!(2026 - 12 - 03))),
            home: Some((date!(2026 - 12 - 04), date!(2026 - 12 - 06))),
            last_day: date!(2026 - 12 - 06),
            tests_due: vec![],
        };
        let checked = [
            date!(2026 - 11 - 30),
            date!(2026 - 12 - 02),
            date!(2026 - 12 - 04),
            date!(2026 - 12 - 06),
            date!(2026 - 12 - 07),
        ];
        let within = checks_within(&plan, &checked);
        assert_eq!(
            within,
            vec![
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 04),
                date!(2026 - 12 - 06)
            ]
        );
        assert_eq!(home_checks(&plan, &within), 2);
        let at_facility = isolation::Plan { home: None, ..plan };
        assert_eq!(home_checks(&at_facility, &within), 0);
    }

    #[test]
    fn an_isolation_names_its_facility_only_when_it_has_days_there() {
        let new = NewIsolation {
            id: "i1".into(),
            person_id: "p1".into(),
            start_on: date!(2026 - 12 - 01),
            home_possible: true,
            facility_name: Some("Camp A".into()),
        };
        let home_only = isolation::Plan {
            start: date!(2026 - 12 - 01),
            facility: None,
            home: Some((date!(2026 - 12 - 01), date!(2026 - 12 - 07))),
            last_day: date!(2026 - 12 - 07),
            tests_due: vec![date!(2026 - 12 - 01)],
        };
        let rec = isolation_record(&new, "01/02".into(), Some(Class::F2), true, &home_only);
        assert_eq!(rec.facility_name, None);
        assert_eq!(rec.class, "F2");
        assert_eq!(rec.home_from.as_deref(), Some("2026-12-01"));
        assert_eq!(rec.tests_due, vec!["2026-12-01".to_string()]);
        let first_at_facility = isolation::Plan {
            facility: Some((date!(2026 - 12 - 01), date!(2026 - 12 - 03))),
            ..home_only
        };
        let rec = isolation_record(&new, "01/02".into(), None, false, &first_at_facility);
        assert_eq!(rec.facility_name.as_deref(), Some("Camp A"));
        assert_eq!(rec.class, "");
    }
}
