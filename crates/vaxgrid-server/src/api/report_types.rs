//! The JSON the data-quality and training reports answer with
//! (`api::data_quality`, `api::training_report`), apart from the store's
//! records as `api::types` is for the registry's: each built `From` a
//! record, with the record's field names, so the bodies are what they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::data_quality::{QualityPerson, QualityReport, QualityRow};
use vaxgrid_store::training_report::{TrainingReport, TrainingRow};

/// Persons per data-quality check in one area.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualityArea {
    pub area_code: String,
    pub area_name: String,
    /// Persons living there (merged records aside).
    pub persons: i64,
    pub likely_duplicate: i64,
    pub missing_phone: i64,
    pub missing_id: i64,
    pub implausible_dates: i64,
    pub no_home_village: i64,
}

impl From<QualityRow> for QualityArea {
    fn from(r: QualityRow) -> QualityArea {
        QualityArea {
            area_code: r.area_code,
            area_name: r.area_name,
            persons: r.persons,
            likely_duplicate: r.likely_duplicate,
            missing_phone: r.missing_phone,
            missing_id: r.missing_id,
            implausible_dates: r.implausible_dates,
            no_home_village: r.no_home_village,
        }
    }
}

/// The data-quality report of an area and each area under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataQuality {
    /// The checks as of this day (YYYY-MM-DD).
    pub as_of: String,
    pub area: QualityArea,
    pub children: Vec<QualityArea>,
}

impl From<QualityReport> for DataQuality {
    fn from(r: QualityReport) -> DataQuality {
        DataQuality {
            as_of: r.as_of,
            area: r.area.into(),
            children: r.children.into_iter().map(QualityArea::from).collect(),
        }
    }
}

/// A person behind a data-quality count, with every check they fail.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualityFinding {
    pub person_id: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub home_area: String,
    /// likely_duplicate, missing_phone, missing_id, implausible_dates,
    /// no_home_village
    pub problems: Vec<&'static str>,
}

impl From<QualityPerson> for QualityFinding {
    fn from(p: QualityPerson) -> QualityFinding {
        QualityFinding {
            person_id: p.person_id,
            full_name: p.full_name,
            birth_date: p.birth_date,
            sex: p.sex,
            id_type: p.id_type,
            id_number: p.id_number,
            phone: p.phone,
            home_area: p.home_area,
            problems: p.problems,
        }
    }
}

/// Training figures of one area.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingArea {
    pub area_code: String,
    pub area_name: String,
    pub staff: i64,
    /// Staff who attended at least one class.
    pub attendees: i64,
    pub exams: i64,
    pub exams_passed: i64,
    /// Passed exams per 100 taken, to one decimal (null without exams).
    pub pass_rate: Option<f64>,
    pub vaccinators: i64,
    /// Vaccinators with a current vaccination certificate today.
    pub certified_vaccinators: i64,
    /// Staff whose current vaccination certificate ends within the days
    /// asked for.
    pub expiring: i64,
}

impl From<TrainingRow> for TrainingArea {
    fn from(r: TrainingRow) -> TrainingArea {
        TrainingArea {
            area_code: r.area_code,
            area_name: r.area_name,
            staff: r.staff,
            attendees: r.attendees,
            exams: r.exams,
            exams_passed: r.exams_passed,
            pass_rate: r.pass_rate,
            vaccinators: r.vaccinators,
            certified_vaccinators: r.certified_vaccinators,
            expiring: r.expiring,
        }
    }
}

/// The training report of an area and each area under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Training {
    /// YYYY-MM-DD
    pub as_of: String,
    pub expiring_within_days: i64,
    /// Classes attended by the area's staff.
    pub classes: i64,
    pub area: TrainingArea,
    pub children: Vec<TrainingArea>,
}

impl From<TrainingReport> for Training {
    fn from(r: TrainingReport) -> Training {
        Training {
            as_of: r.as_of,
            expiring_within_days: r.expiring_within_days,
            classes: r.classes,
            area: r.area.into(),
            children: r.children.into_iter().map(TrainingArea::from).collect(),
        }
    }
}
