//! The JSON the outbreak routes answer with (`api::outbreak`), apart from the store's records as
//! `api::types` is for the campaign's: each built `From` a record, with the
//! record's field names, so the bodies are what they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::outbreak::{CheckRecord, IsolationRecord};

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

