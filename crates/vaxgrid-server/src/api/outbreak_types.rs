//! The JSON the outbreak routes answer with (`api::outbreak`,
//! `api::outbreak_facilities`, `api::outbreak_policy`), apart from the store's records as
//! `api::types` is for the campaign's: each built `From` a record, with the
//! record's field names, so the bodies are what they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_core::outbreak::graph::Class;
use vaxgrid_core::outbreak::surge::Tier;
use vaxgrid_store::outbreak::{
    CaseDetail, CaseRecord, CheckRecord, ClassChange as StoreClassChange, ClassedPerson,
    ContactRecord, IsolationRecord, LinkedPerson as StoreLinkedPerson, QueuedTest as StoreQueued,
    Reclassified, ResultOutcome, RingPerson as StoreRingPerson, SampleRecord, TeamEntry,
    TestRecord,
};
use vaxgrid_store::outbreak_facilities::{
    ActivationAdvice, AdmissionRecord, AssignmentRecord, FacilityLoad, FacilityRecord,
    Occupancy as StoreOccupancy, TeamDetail, TeamRecord,
};
use vaxgrid_store::outbreak_policy::ProvincePolicy;
use vaxgrid_store::outbreak_team::TeamCounts;
use vaxgrid_store::reports::CoverageRow;

/// A contact's isolation: where, from when, until when, tests due (dates
/// `YYYY-MM-DD`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Isolation {
    pub id: String,
    pub person_id: String,
    pub area_path: String,
    /// The contact's class when it started (F1, F2, F3).
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

impl From<IsolationRecord> for Isolation {
    fn from(r: IsolationRecord) -> Isolation {
        Isolation {
            id: r.id,
            person_id: r.person_id,
            area_path: r.area_path,
            class: r.class,
            vaccinated: r.vaccinated,
            home_possible: r.home_possible,
            facility_name: r.facility_name,
            start_on: r.start_on,
            facility_from: r.facility_from,
            facility_to: r.facility_to,
            home_from: r.home_from,
            home_to: r.home_to,
            last_day: r.last_day,
            tests_due: r.tests_due,
        }
    }
}

/// A day's check of a person in isolation, and the alerts it raised.
#[derive(Debug, Serialize, ToSchema)]
pub struct IsolationCheck {
    pub isolation_id: String,
    pub person_id: String,
    pub day: String,
    pub present: bool,
    pub temperature_c: Option<f64>,
    pub spo2: Option<i64>,
    pub symptoms: Vec<String>,
    /// missed_check, absent, fever, low_spo2, danger_symptom
    #[schema(value_type = Vec<String>)]
    pub alerts: Vec<vaxgrid_core::outbreak::isolation::Alert>,
}

impl From<CheckRecord> for IsolationCheck {
    fn from(r: CheckRecord) -> IsolationCheck {
        IsolationCheck {
            isolation_id: r.isolation_id,
            person_id: r.person_id,
            day: r.day,
            present: r.present,
            temperature_c: r.temperature_c,
            spo2: r.spo2,
            symptoms: r.symptoms,
            alerts: r.alerts,
        }
    }
}

/// A laboratory and its daily capacity.
#[derive(Debug, Serialize, ToSchema)]
pub struct Laboratory {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub single_per_day: i64,
    pub confirmatory_per_day: i64,
    pub max_pool: i64,
}

impl From<vaxgrid_store::outbreak::Laboratory> for Laboratory {
    fn from(l: vaxgrid_store::outbreak::Laboratory) -> Laboratory {
        Laboratory {
            code: l.code,
            name: l.name,
            area_code: l.area_code,
            single_per_day: l.single_per_day,
            confirmatory_per_day: l.confirmatory_per_day,
            max_pool: l.max_pool,
        }
    }
}

/// A facility for cases and its beds by tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct Facility {
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
}

impl From<FacilityRecord> for Facility {
    fn from(f: FacilityRecord) -> Facility {
        Facility {
            code: f.code,
            name: f.name,
            area_code: f.area_code,
            province_code: f.province_code,
            region: f.region,
            mild_moderate_beds: f.mild_moderate_beds,
            severe_critical_beds: f.severe_critical_beds,
            icu_beds: f.icu_beds,
            activate_at_cases: f.activate_at_cases,
            activated_on: f.activated_on,
        }
    }
}

/// A patient's stay at a facility.
#[derive(Debug, Serialize, ToSchema)]
pub struct Admission {
    pub id: String,
    pub facility_code: String,
    pub person_id: String,
    pub full_name: String,
    pub tier: String,
    pub admitted_on: String,
    pub discharged_on: Option<String>,
    pub discharge_reason: Option<String>,
}

impl From<AdmissionRecord> for Admission {
    fn from(a: AdmissionRecord) -> Admission {
        Admission {
            id: a.id,
            facility_code: a.facility_code,
            person_id: a.person_id,
            full_name: a.full_name,
            tier: a.tier,
            admitted_on: a.admitted_on,
            discharged_on: a.discharged_on,
            discharge_reason: a.discharge_reason,
        }
    }
}

/// A response team.
#[derive(Debug, Serialize, ToSchema)]
pub struct Team {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub area_code: String,
    pub members: i64,
}

impl From<TeamRecord> for Team {
    fn from(t: TeamRecord) -> Team {
        Team {
            code: t.code,
            name: t.name,
            kind: t.kind,
            area_code: t.area_code,
            members: t.members,
        }
    }
}

/// A team sent to a facility, an area or a case, from a day (to a day).
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    pub id: String,
    pub team_code: String,
    pub facility_code: Option<String>,
    pub area_code: Option<String>,
    pub case_person_id: Option<String>,
    pub from_on: String,
    pub to_on: Option<String>,
}

impl From<AssignmentRecord> for Assignment {
    fn from(a: AssignmentRecord) -> Assignment {
        Assignment {
            id: a.id,
            team_code: a.team_code,
            facility_code: a.facility_code,
            area_code: a.area_code,
            case_person_id: a.case_person_id,
            from_on: a.from_on,
            to_on: a.to_on,
        }
    }
}

/// A team and its assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamWithAssignments {
    pub team: Team,
    pub assignments: Vec<Assignment>,
}

impl From<TeamDetail> for TeamWithAssignments {
    fn from(d: TeamDetail) -> TeamWithAssignments {
        TeamWithAssignments {
            team: d.team.into(),
            assignments: d.assignments.into_iter().map(Assignment::from).collect(),
        }
    }
}

/// A province's isolation rule, and whether the province set it (else the
/// default applies).
#[derive(Debug, Serialize, ToSchema)]
pub struct IsolationPolicy {
    pub province_code: String,
    pub stored: bool,
    /// {f1, f2, f3}, each [unvaccinated, fully vaccinated] of
    /// {facility_days, home_days, test_days}
    #[schema(value_type = Object)]
    pub policy: vaxgrid_core::outbreak::isolation::Policy,
    pub updated_by: Option<String>,
}

impl From<ProvincePolicy> for IsolationPolicy {
    fn from(p: ProvincePolicy) -> IsolationPolicy {
        IsolationPolicy {
            province_code: p.province_code,
            stored: p.stored,
            policy: p.policy,
            updated_by: p.updated_by,
        }
    }
}

/// A laboratory test of one sample or a pool of samples.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabTest {
    pub id: String,
    pub lab_code: String,
    /// The sample ids tested.
    pub samples: Vec<String>,
    pub retest_of: Option<String>,
    /// Runs against the confirmatory capacity (a re-test of a positive
    /// pool's member, or a single test made to confirm).
    pub confirmatory: bool,
    /// negative or positive, once resulted
    pub outcome: Option<String>,
    pub created_on: String,
}

impl From<TestRecord> for LabTest {
    fn from(t: TestRecord) -> LabTest {
        LabTest {
            id: t.id,
            lab_code: t.lab_code,
            samples: t.samples,
            retest_of: t.retest_of,
            confirmatory: t.confirmatory,
            outcome: t.outcome,
            created_on: t.created_on,
        }
    }
}

/// What a test's result did: re-tests made (a positive pool), samples
/// resulted, persons confirmed as cases, cleared or reversed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub test: LabTest,
    pub retests: Vec<LabTest>,
    pub resulted: Vec<String>,
    pub confirmed: Vec<String>,
    pub cleared: Vec<String>,
    pub reversed: Vec<String>,
    pub reclassified: usize,
}

impl From<ResultOutcome> for TestResult {
    fn from(r: ResultOutcome) -> TestResult {
        TestResult {
            test: r.test.into(),
            retests: r.retests.into_iter().map(LabTest::from).collect(),
            resulted: r.resulted,
            confirmed: r.confirmed,
            cleared: r.cleared,
            reversed: r.reversed,
            reclassified: r.reclassified,
        }
    }
}

/// A confirmed (or reversed) case (dates `YYYY-MM-DD`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    pub person_id: String,
    pub full_name: String,
    pub area_path: String,
    /// confirmed or reversed
    pub status: String,
    pub onset_on: Option<String>,
    pub confirmed_on: String,
    /// pcr or rapid_antigen
    pub test_kind: String,
    /// mild, moderate, severe or critical
    pub severity: String,
    pub treated_at: Option<String>,
    /// under_treatment, recovered or died
    pub outcome: String,
    pub recovered_on: Option<String>,
    pub reversed_reason: Option<String>,
}

impl From<CaseRecord> for Case {
    fn from(c: CaseRecord) -> Case {
        Case {
            person_id: c.person_id,
            full_name: c.full_name,
            area_path: c.area_path,
            status: c.status,
            onset_on: c.onset_on,
            confirmed_on: c.confirmed_on,
            test_kind: c.test_kind,
            severity: c.severity,
            treated_at: c.treated_at,
            outcome: c.outcome,
            recovered_on: c.recovered_on,
            reversed_reason: c.reversed_reason,
        }
    }
}

/// The cases in the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cases {
    pub cases: Vec<Case>,
}

/// A person whose class a change moved (null: no class).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassChange {
    pub person_id: String,
    pub before: Option<Class>,
    pub after: Option<Class>,
}

impl From<StoreClassChange> for ClassChange {
    fn from(c: StoreClassChange) -> ClassChange {
        ClassChange {
            person_id: c.person_id,
            before: c.before,
            after: c.after,
        }
    }
}

fn changes(re: Vec<StoreClassChange>) -> Vec<ClassChange> {
    re.into_iter().map(ClassChange::from).collect()
}

/// A case confirmed or reversed, and everyone it re-classified.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseChanged {
    pub case: Case,
    pub reclassified: Vec<ClassChange>,
    /// How many persons the region read held.
    pub region: usize,
}

impl From<(CaseRecord, Reclassified)> for CaseChanged {
    fn from((case, re): (CaseRecord, Reclassified)) -> CaseChanged {
        CaseChanged {
            case: case.into(),
            reclassified: changes(re.changes),
            region: re.region,
        }
    }
}

/// A link traced from a source person to a contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub source_person_id: String,
    pub contact_person_id: String,
    pub exposure_on: String,
    /// household, work, school, transport, healthcare or other
    pub setting: String,
    /// Whether the contact was found in the registry (linked) rather than
    /// registered by the request.
    pub linked: bool,
}

impl From<ContactRecord> for Contact {
    fn from(c: ContactRecord) -> Contact {
        Contact {
            id: c.id,
            source_person_id: c.source_person_id,
            contact_person_id: c.contact_person_id,
            exposure_on: c.exposure_on,
            setting: c.setting,
            linked: c.linked,
        }
    }
}

/// A person linked to a case, with their class and doses.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedPerson {
    pub person_id: String,
    pub full_name: String,
    pub class: Option<Class>,
    pub valid_doses: i64,
}

impl From<StoreLinkedPerson> for LinkedPerson {
    fn from(p: StoreLinkedPerson) -> LinkedPerson {
        LinkedPerson {
            person_id: p.person_id,
            full_name: p.full_name,
            class: p.class,
            valid_doses: p.valid_doses,
        }
    }
}

/// A case with its links and the person's vaccination status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub case: Case,
    pub class: Option<Class>,
    pub valid_doses: i64,
    pub links: Vec<Contact>,
    /// Every person linked to the case, with their class and doses.
    pub contacts: Vec<LinkedPerson>,
}

impl From<CaseDetail> for CaseView {
    fn from(d: CaseDetail) -> CaseView {
        CaseView {
            case: d.case.into(),
            class: d.class,
            valid_doses: d.valid_doses,
            links: d.links.into_iter().map(Contact::from).collect(),
            contacts: d.contacts.into_iter().map(LinkedPerson::from).collect(),
        }
    }
}

/// A person with a class.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassedContact {
    pub person_id: String,
    pub full_name: String,
    pub area_path: String,
    pub class: Class,
    /// The latest final laboratory result (negative or positive).
    pub last_result: Option<String>,
    pub last_result_on: Option<String>,
}

impl From<ClassedPerson> for ClassedContact {
    fn from(p: ClassedPerson) -> ClassedContact {
        ClassedContact {
            person_id: p.person_id,
            full_name: p.full_name,
            area_path: p.area_path,
            class: p.class,
            last_result: p.last_result,
            last_result_on: p.last_result_on,
        }
    }
}

/// The persons with a class in the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassedContacts {
    pub persons: Vec<ClassedContact>,
}

/// A contact traced, and everyone it re-classified.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactAdded {
    pub contact: Option<Contact>,
    pub reclassified: Vec<ClassChange>,
    /// How many persons the region read held.
    pub region: usize,
}

impl From<(Vec<ContactRecord>, Reclassified)> for ContactAdded {
    fn from((mut records, re): (Vec<ContactRecord>, Reclassified)) -> ContactAdded {
        ContactAdded {
            contact: records.pop().map(Contact::from),
            reclassified: changes(re.changes),
            region: re.region,
        }
    }
}

/// What an import of traced contacts did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactsImported {
    pub imported: usize,
    /// Contacts found in the registry.
    pub linked: usize,
    /// Contacts registered by the import.
    pub registered: usize,
    /// Persons whose class changed.
    pub reclassified: usize,
}

/// The laboratories in the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct Laboratories {
    pub laboratories: Vec<Laboratory>,
}

/// A sample taken from a person and sent to a laboratory.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sample {
    pub id: String,
    pub person_id: String,
    pub lab_code: String,
    pub collected_on: String,
    /// collected, in_test or resulted
    pub state: String,
    pub test_id: Option<String>,
    /// negative or positive, once resulted
    pub outcome: Option<String>,
}

impl From<SampleRecord> for Sample {
    fn from(r: SampleRecord) -> Sample {
        Sample {
            id: r.id,
            person_id: r.person_id,
            lab_code: r.lab_code,
            collected_on: r.collected_on,
            state: r.state,
            test_id: r.test_id,
            outcome: r.outcome,
        }
    }
}

/// Samples recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Samples {
    pub samples: Vec<Sample>,
}

/// A pending test in a laboratory's queue, with the day it will run.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedTest {
    pub test_id: String,
    /// Samples in the test.
    pub size: i64,
    pub retest_of: Option<String>,
    /// Queued against the confirmatory capacity (else the screening runs).
    pub confirmatory: bool,
    pub runs_on: Option<String>,
}

impl From<StoreQueued> for QueuedTest {
    fn from(q: StoreQueued) -> QueuedTest {
        QueuedTest {
            test_id: q.test_id,
            size: q.size,
            retest_of: q.retest_of,
            confirmatory: q.confirmatory,
            runs_on: q.runs_on,
        }
    }
}

/// A laboratory and its pending tests in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabQueue {
    pub laboratory: Laboratory,
    pub queue: Vec<QueuedTest>,
}

/// A person's isolations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Isolations {
    pub isolations: Vec<Isolation>,
}

/// A day's figures of the team's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamFigures {
    /// At home in isolation that day.
    pub people: i64,
    /// Checked that day already.
    pub checked: i64,
    /// With an alert, on the alert list only (null on the team's list).
    pub alerts: Option<i64>,
}

impl From<TeamCounts> for TeamFigures {
    fn from(c: TeamCounts) -> TeamFigures {
        TeamFigures {
            people: c.people,
            checked: c.checked,
            alerts: c.alerts,
        }
    }
}

/// One person of the team's list for a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamListEntry {
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
    /// missed_check, absent, fever, low_spo2, danger_symptom
    #[schema(value_type = Vec<String>)]
    pub alerts: Vec<vaxgrid_core::outbreak::isolation::Alert>,
}

impl From<TeamEntry> for TeamListEntry {
    fn from(e: TeamEntry) -> TeamListEntry {
        TeamListEntry {
            isolation_id: e.isolation_id,
            person_id: e.person_id,
            full_name: e.full_name,
            area_path: e.area_path,
            class: e.class,
            last_day: e.last_day,
            checked_today: e.checked_today,
            sample_due: e.sample_due,
            missed: e.missed,
            alerts: e.alerts,
        }
    }
}

/// A page of the team's list (or of the alerts) for a day, with the day's
/// figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    pub day: String,
    pub counts: TeamFigures,
    pub entries: Vec<TeamListEntry>,
    /// Null on the last page.
    pub next_cursor: Option<String>,
}

/// A person on the ring-vaccination list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RingPerson {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub area_path: String,
    /// area (lives in the outbreak area) or household (a contact's household)
    pub reason: String,
}

impl From<StoreRingPerson> for RingPerson {
    fn from(p: StoreRingPerson) -> RingPerson {
        RingPerson {
            person_id: p.person_id,
            full_name: p.full_name,
            birth_date: p.birth_date,
            area_path: p.area_path,
            reason: p.reason,
        }
    }
}

/// An area's vaccination coverage from the registry's counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCoverage {
    pub area_code: String,
    pub name: String,
    pub population: i64,
    pub at_least_one: i64,
    pub completed: i64,
    pub unvaccinated: i64,
    /// Null for an empty area.
    pub at_least_one_pct: Option<f64>,
    pub completed_pct: Option<f64>,
}

impl From<&CoverageRow> for AreaCoverage {
    fn from(r: &CoverageRow) -> AreaCoverage {
        let pct = |n: i64| {
            (r.total.population > 0)
                .then(|| (n as f64 * 1000.0 / r.total.population as f64).round() / 10.0)
        };
        AreaCoverage {
            area_code: r.area_code.clone(),
            name: r.name.clone(),
            population: r.total.population,
            at_least_one: r.total.at_least_one,
            completed: r.total.completed,
            unvaccinated: (r.total.population - r.total.at_least_one).max(0),
            at_least_one_pct: pct(r.total.at_least_one),
            completed_pct: pct(r.total.completed),
        }
    }
}

/// The outbreak area's coverage and each area's under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RingCoverage {
    #[serde(flatten)]
    pub area: AreaCoverage,
    pub children: Vec<AreaCoverage>,
}

/// The ring-vaccination list of an outbreak area, beside its coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ring {
    pub area: String,
    pub coverage: RingCoverage,
    pub persons: Vec<RingPerson>,
}

/// The facilities in the caller's areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct Facilities {
    pub facilities: Vec<Facility>,
}

/// A tier of beds.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BedTier {
    MildModerate,
    SevereCritical,
}

impl From<Tier> for BedTier {
    fn from(t: Tier) -> BedTier {
        match t {
            Tier::MildModerate => BedTier::MildModerate,
            Tier::SevereCritical => BedTier::SevereCritical,
        }
    }
}

/// One tier of a facility on a day: its beds and those occupied.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityTier {
    pub code: String,
    pub name: String,
    pub region: String,
    pub tier: BedTier,
    pub beds: i64,
    pub occupied: i64,
    /// Activated by that day.
    pub active: bool,
}

impl From<FacilityLoad> for FacilityTier {
    fn from(l: FacilityLoad) -> FacilityTier {
        FacilityTier {
            code: l.code,
            name: l.name,
            region: l.region,
            tier: l.tier.into(),
            beds: l.beds,
            occupied: l.occupied,
            active: l.active,
        }
    }
}

/// A facility with today's occupancy per tier and the patients in its beds.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityView {
    pub facility: Facility,
    pub tiers: Vec<FacilityTier>,
    pub patients: Vec<Admission>,
}

/// Beds and occupied beds of a region's tier on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccupancyCell {
    pub region: String,
    pub tier: BedTier,
    pub beds: i64,
    pub occupied: i64,
}

/// A day's occupancy by region and tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccupancyDay {
    pub day: String,
    pub cells: Vec<OccupancyCell>,
}

/// Beds and occupancy by day, region and tier, and each facility's tiers
/// on the last day.
#[derive(Debug, Serialize, ToSchema)]
pub struct Occupancy {
    pub from: String,
    pub to: String,
    pub days: Vec<OccupancyDay>,
    pub facilities: Vec<FacilityTier>,
}

impl From<StoreOccupancy> for Occupancy {
    fn from(o: StoreOccupancy) -> Occupancy {
        Occupancy {
            from: o.from,
            to: o.to,
            days: o
                .days
                .into_iter()
                .map(|d| OccupancyDay {
                    day: d.day,
                    cells: d
                        .cells
                        .into_iter()
                        .map(|c| OccupancyCell {
                            region: c.region,
                            tier: c.tier.into(),
                            beds: c.beds,
                            occupied: c.occupied,
                        })
                        .collect(),
                })
                .collect(),
            facilities: o.facilities.into_iter().map(FacilityTier::from).collect(),
        }
    }
}

/// A facility to activate, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recommendation {
    pub facility: String,
    pub region: String,
    /// `stage` (the province's cumulative cases reached its threshold) or
    /// the tier whose occupancy calls for it.
    pub reason: String,
    pub activate_at_cases: i64,
}

/// A region's tier today: beds of its active facilities, occupied.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierLoad {
    pub region: String,
    pub tier: BedTier,
    pub open_beds: i64,
    pub occupied: i64,
    /// Beds of every facility of the region, open or not.
    pub all_beds: i64,
}

/// Which of a province's facilities to activate today.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activation {
    pub province_code: String,
    pub day: String,
    pub cumulative_cases: i64,
    pub activate_at_pct: i64,
    pub recommendations: Vec<Recommendation>,
    pub tiers: Vec<TierLoad>,
}

impl From<ActivationAdvice> for Activation {
    fn from(a: ActivationAdvice) -> Activation {
        Activation {
            province_code: a.province_code,
            day: a.day,
            cumulative_cases: a.cumulative_cases,
            activate_at_pct: a.activate_at_pct,
            recommendations: a
                .recommendations
                .into_iter()
                .map(|r| Recommendation {
                    facility: r.facility,
                    region: r.region,
                    reason: r.reason,
                    activate_at_cases: r.activate_at_cases,
                })
                .collect(),
            tiers: a
                .tiers
                .into_iter()
                .map(|t| TierLoad {
                    region: t.region,
                    tier: t.tier.into(),
                    open_beds: t.open_beds,
                    occupied: t.occupied,
                    all_beds: t.all_beds,
                })
                .collect(),
        }
    }
}

/// How many teams of each kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamKinds {
    pub rapid_response: usize,
    pub ambulance: usize,
    pub specialist: usize,
}

/// The teams in the caller's areas, with the count of each kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct Teams {
    pub teams: Vec<Team>,
    pub counts: TeamKinds,
}
