//! The JSON the API answers with, apart from the store's records: each type
//! here is built from a record (`From`), so what clients see is decided in
//! the server and described in the OpenAPI document by the same type
//! (`ToSchema`). A store field the API does not show is simply not copied.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::model;

/// One page of a list; pass `next_cursor` as `after` for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absent (null) on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn from<R>(page: model::Page<R>) -> Page<T>
    where
        T: From<R>,
    {
        Page {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Area {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    pub name: String,
    pub name_en: String,
    /// The area's place in the tree, e.g. `/01/001/00001/`.
    pub path: String,
}

impl From<model::Area> for Area {
    fn from(a: model::Area) -> Area {
        Area {
            code: a.code,
            parent_code: a.parent_code,
            level: a.level,
            name: a.name,
            name_en: a.name_en,
            path: a.path,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: String,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    /// YYYY-MM-DD
    pub birth_date: String,
    pub sex: Sex,
    pub phone: Option<String>,
    /// The area the person lives in (any level).
    pub home_area: String,
    pub commune_code: String,
    pub province_code: String,
    pub occupation: Option<String>,
    pub priority_groups: Vec<String>,
    /// The person this record was merged into, if any.
    pub merged_into: Option<String>,
    /// RFC 3339 UTC
    pub created_at: String,
}

impl From<model::Person> for Person {
    fn from(p: model::Person) -> Person {
        Person {
            id: p.id,
            id_type: p.id_type,
            id_number: p.id_number,
            full_name: p.full_name,
            birth_date: p.birth_date,
            sex: p.sex,
            phone: p.phone,
            home_area: p.home_area,
            commune_code: p.commune_code,
            province_code: p.province_code,
            occupation: p.occupation,
            priority_groups: p.priority_groups,
            merged_into: p.merged_into,
            created_at: p.created_at,
        }
    }
}

/// A person with the records that look like the same person (same folded
/// name, birth date and commune).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    pub possible_duplicates: Vec<String>,
    /// Every identifier of the person, the national document first.
    pub identifiers: Vec<PersonIdentifier>,
    /// Present while the person, registered without any document, waits
    /// for identity follow-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_follow_up: Option<IdentityFollowUp>,
}

/// One identifier of a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonIdentifier {
    #[schema(value_type = vaxgrid_core::identity::IdentifierType)]
    pub id_type: vaxgrid_core::identity::IdentifierType,
    /// Who assigned it: a passport's country, the system an MRN comes
    /// from; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub value: String,
}

impl From<vaxgrid_core::identity::Identifier> for PersonIdentifier {
    fn from(i: vaxgrid_core::identity::Identifier) -> PersonIdentifier {
        PersonIdentifier {
            id_type: i.id_type,
            authority: Some(i.authority).filter(|a| !a.is_empty()),
            value: i.value,
        }
    }
}

/// Who answers for a child registered without a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuardianView {
    pub name: String,
    pub phone: Option<String>,
    pub relationship: Option<String>,
}

/// A person registered without any document, waiting for follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityFollowUp {
    /// `no_document`
    pub reason: String,
    pub guardian: Option<GuardianView>,
    /// RFC 3339 UTC
    pub since: String,
}

impl From<model::FollowUp> for IdentityFollowUp {
    fn from(f: model::FollowUp) -> IdentityFollowUp {
        IdentityFollowUp {
            reason: f.reason,
            guardian: f.guardian.map(|g| GuardianView {
                name: g.name,
                phone: g.phone,
                relationship: g.relationship,
            }),
            since: f.created_at,
        }
    }
}

/// The answer to registering a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonCreated {
    pub person: Person,
    /// Persons with the same folded name, birth date and commune.
    pub possible_duplicates: Vec<String>,
    /// Every identifier of the person, the national document first.
    pub identifiers: Vec<PersonIdentifier>,
    /// Present when the person was registered without any document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_follow_up: Option<IdentityFollowUp>,
}

impl From<model::PersonCreated> for PersonCreated {
    fn from(c: model::PersonCreated) -> PersonCreated {
        PersonCreated {
            person: c.person.into(),
            possible_duplicates: c.possible_duplicates,
            identifiers: c.identifiers.into_iter().map(Into::into).collect(),
            identity_follow_up: c.follow_up.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lot {
    pub product_code: String,
    pub lot_number: String,
    /// YYYY-MM-DD
    pub expiry: String,
    pub status: LotStatus,
    pub doses: i64,
}

impl From<model::Lot> for Lot {
    fn from(l: model::Lot) -> Lot {
        Lot {
            product_code: l.product_code,
            lot_number: l.lot_number,
            expiry: l.expiry,
            status: l.status,
            doses: l.doses,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    CommuneHealthStation,
    Hospital,
    TemporarySite,
    MobileTeam,
}

impl From<model::SiteKind> for SiteKind {
    fn from(k: model::SiteKind) -> SiteKind {
        match k {
            model::SiteKind::CommuneHealthStation => SiteKind::CommuneHealthStation,
            model::SiteKind::Hospital => SiteKind::Hospital,
            model::SiteKind::TemporarySite => SiteKind::TemporarySite,
            model::SiteKind::MobileTeam => SiteKind::MobileTeam,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Site {
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub area_code: String,
    pub stations: i64,
    pub daily_capacity: i64,
}

impl From<model::Site> for Site {
    fn from(s: model::Site) -> Site {
        Site {
            code: s.code,
            name: s.name,
            kind: s.kind.into(),
            area_code: s.area_code,
            stations: s.stations,
            daily_capacity: s.daily_capacity,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DoseKind {
    Administered,
    /// Given elsewhere and reported here.
    Historical,
    EnteredInError,
}

impl From<model::DoseKind> for DoseKind {
    fn from(k: model::DoseKind) -> DoseKind {
        match k {
            model::DoseKind::Administered => DoseKind::Administered,
            model::DoseKind::Historical => DoseKind::Historical,
            model::DoseKind::EnteredInError => DoseKind::EnteredInError,
        }
    }
}

/// One record of the append-only dose log.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dose {
    pub id: String,
    pub person_id: String,
    pub kind: DoseKind,
    /// The record an entered-in-error record corrects.
    pub corrects_id: Option<String>,
    pub product_code: String,
    /// Empty for a historical dose whose lot is unknown.
    pub lot_number: String,
    /// Empty for a historical dose whose site is unknown.
    pub site_code: String,
    pub dose_number: i64,
    /// YYYY-MM-DD
    pub administered_on: String,
    pub vaccinator: Option<String>,
    pub override_reason: Option<String>,
    pub reason: Option<String>,
    pub author: Option<String>,
    pub area_code: String,
    /// RFC 3339 UTC
    pub recorded_at: String,
}

impl From<model::DoseRecord> for Dose {
    fn from(d: model::DoseRecord) -> Dose {
        Dose {
            id: d.id,
            person_id: d.person_id,
            kind: d.kind.into(),
            corrects_id: d.corrects_id,
            product_code: d.product_code,
            lot_number: d.lot_number,
            site_code: d.site_code,
            dose_number: d.dose_number,
            administered_on: d.administered_on,
            vaccinator: d.vaccinator,
            override_reason: d.override_reason,
            reason: d.reason,
            author: d.author,
            area_code: d.area_code,
            recorded_at: d.recorded_at,
        }
    }
}

/// A person's dose history with what it means.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub person_id: String,
    /// Every record, including entered-in-error ones and those of persons
    /// merged into this one, in recording order.
    pub records: Vec<Dose>,
    pub valid_doses: usize,
    pub series_complete: bool,
    /// YYYY-MM-DD, absent when no dose is due.
    pub next_dose_due: Option<String>,
}

impl From<vaxgrid_store::doses::History> for History {
    fn from(h: vaxgrid_store::doses::History) -> History {
        History {
            person_id: h.person_id,
            records: h.records.into_iter().map(Dose::from).collect(),
            valid_doses: h.valid_doses,
            series_complete: h.series_complete,
            next_dose_due: h.next_dose_due,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageFigures {
    pub population: i64,
    pub at_least_one: i64,
    pub completed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductFigures {
    pub at_least_one: i64,
    pub completed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageRow {
    pub area_code: String,
    pub name: String,
    pub level: String,
    /// All persons, each counted once.
    pub total: CoverageFigures,
    /// Persons by the product of their first dose.
    pub by_product: BTreeMap<String, ProductFigures>,
    /// Persons by priority group (a person in two groups counts in both).
    pub by_group: BTreeMap<String, CoverageFigures>,
}

/// Coverage of an area and of each area directly under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageReport {
    pub area: CoverageRow,
    pub children: Vec<CoverageRow>,
}

impl From<vaxgrid_store::reports::CoverageFigures> for CoverageFigures {
    fn from(f: vaxgrid_store::reports::CoverageFigures) -> CoverageFigures {
        CoverageFigures {
            population: f.population,
            at_least_one: f.at_least_one,
            completed: f.completed,
        }
    }
}

impl From<vaxgrid_store::reports::CoverageRow> for CoverageRow {
    fn from(r: vaxgrid_store::reports::CoverageRow) -> CoverageRow {
        CoverageRow {
            area_code: r.area_code,
            name: r.name,
            level: r.level,
            total: r.total.into(),
            by_product: r
                .by_product
                .into_iter()
                .map(|(k, f)| {
                    (
                        k,
                        ProductFigures {
                            at_least_one: f.at_least_one,
                            completed: f.completed,
                        },
                    )
                })
                .collect(),
            by_group: r.by_group.into_iter().map(|(k, f)| (k, f.into())).collect(),
        }
    }
}

impl From<vaxgrid_store::reports::CoverageReport> for CoverageReport {
    fn from(r: vaxgrid_store::reports::CoverageReport) -> CoverageReport {
        CoverageReport {
            area: r.area.into(),
            children: r.children.into_iter().map(CoverageRow::from).collect(),
        }
    }
}

/// A site's day at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDay {
    pub site_code: String,
    /// YYYY-MM-DD
    pub day: String,
    pub booked: i64,
    pub checked_in: i64,
    pub vaccinated: i64,
    pub in_observation: i64,
    /// Serious adverse events (each opened an investigation).
    pub serious_adverse_events: i64,
    pub deferred_or_refused: i64,
}

impl From<vaxgrid_store::visits::SiteDay> for SiteDay {
    fn from(d: vaxgrid_store::visits::SiteDay) -> SiteDay {
        SiteDay {
            site_code: d.site_code,
            day: d.day,
            booked: d.booked,
            checked_in: d.checked_in,
            vaccinated: d.vaccinated,
            in_observation: d.in_observation,
            serious_adverse_events: d.serious_adverse_events,
            deferred_or_refused: d.deferred_or_refused,
        }
    }
}

/// One message of a person's outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reminder {
    pub id: String,
    pub person_id: String,
    /// due_dose, missed_appointment
    pub kind: String,
    /// The dose id (due_dose) or appointment id (missed_appointment).
    pub subject: String,
    /// vi, zh, en
    pub language: String,
    pub phone: Option<String>,
    pub message: String,
    /// pending, sent, failed
    pub status: String,
    pub attempts: i64,
    /// RFC 3339 UTC
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    /// RFC 3339 UTC
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<vaxgrid_store::reminders::Reminder> for Reminder {
    fn from(r: vaxgrid_store::reminders::Reminder) -> Reminder {
        Reminder {
            id: r.id,
            person_id: r.person_id,
            kind: r.kind,
            subject: r.subject,
            language: r.language,
            phone: r.phone,
            message: r.message,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

/// A person's outbox, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonReminders {
    pub person_id: String,
    pub items: Vec<Reminder>,
}

/// What an import of sites or sessions created.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanImported {
    /// Sites or sessions created.
    pub imported: usize,
    /// Slots created (sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<usize>,
}

impl From<vaxgrid_store::site_plans::PlanImported> for PlanImported {
    fn from(p: vaxgrid_store::site_plans::PlanImported) -> PlanImported {
        PlanImported {
            imported: p.imported,
            slots: p.slots,
        }
    }
}

/// One area a site serves.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatchmentArea {
    pub code: String,
    pub name: String,
    pub level: String,
}

/// The areas a site serves (empty: the subtree of its own area).
#[derive(Debug, Serialize, ToSchema)]
pub struct Catchment {
    pub site_code: String,
    pub areas: Vec<CatchmentArea>,
}

impl From<vaxgrid_store::site_plans::Catchment> for Catchment {
    fn from(c: vaxgrid_store::site_plans::Catchment) -> Catchment {
        Catchment {
            site_code: c.site_code,
            areas: c
                .areas
                .into_iter()
                .map(|a| CatchmentArea {
                    code: a.code,
                    name: a.name,
                    level: a.level,
                })
                .collect(),
        }
    }
}

/// What a CSV import created: all rows, or none.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// A duplicate merged into its survivor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Merged {
    pub survivor_id: String,
    pub duplicate_id: String,
    /// The merge had been made before (nothing written).
    pub already_merged: bool,
}

/// What an import of doses did, row by row.
#[derive(Debug, Serialize, ToSchema)]
pub struct DosesImported {
    /// Rows committed now.
    pub created: usize,
    /// Rows whose record was already there (same id, same content).
    pub existing: usize,
    /// Rows refused; nothing of them was written.
    pub refused: usize,
    pub errors: Vec<crate::error::RowProblem>,
}

/// An area's distance from the national border and its region group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaBorder {
    pub area_code: String,
    /// km from the border; null when not set.
    pub border_km: Option<u32>,
    pub region_group: Option<String>,
}

impl From<vaxgrid_store::allocation::AreaBorder> for AreaBorder {
    fn from(b: vaxgrid_store::allocation::AreaBorder) -> AreaBorder {
        AreaBorder {
            area_code: b.area_code,
            border_km: b.border_km,
            region_group: b.region_group,
        }
    }
}
