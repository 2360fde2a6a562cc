//! The JSON the outbreak routes answer with (`api::outbreak`,
//! `api::outbreak_facilities`, `api::outbreak_policy`), apart from the store's records as
//! `api::types` is for the campaign's: each built `From` a record, with the
//! record's field names, so the bodies are what they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::outbreak::{CheckRecord, IsolationRecord, ResultOutcome, TestRecord};
use vaxgrid_store::outbreak_facilities::{
    AdmissionRecord, AssignmentRecord, FacilityRecord, TeamDetail, TeamRecord,
};
use vaxgrid_store::outbreak_policy::ProvincePolicy;

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
