//! The JSON the training routes answer with (`api::training` and the
//! class lists of `api::lists`), apart from the store's records as
//! `api::types` is for the registry's: each built `From` a record, with the
//! record's field names, so the bodies are what they were (dates
//! `YYYY-MM-DD`).

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::lists::ClassDetail;
use vaxgrid_store::training as store;

/// A training class.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingClass {
    pub id: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    /// User name of the trainer.
    pub trainer: String,
}

impl From<store::TrainingClass> for TrainingClass {
    fn from(c: store::TrainingClass) -> TrainingClass {
        TrainingClass {
            id: c.id,
            topic: c.topic,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            trainer: c.trainer,
        }
    }
}

/// An exam taken in a class.
#[derive(Debug, Serialize, ToSchema)]
pub struct Exam {
    pub id: String,
    pub class_id: String,
    pub username: String,
    pub score: i64,
    pub pass_mark: i64,
    pub passed: bool,
    pub taken_on: String,
}

impl From<store::Exam> for Exam {
    fn from(e: store::Exam) -> Exam {
        Exam {
            id: e.id,
            class_id: e.class_id,
            username: e.username,
            score: e.score,
            pass_mark: e.pass_mark,
            passed: e.passed,
            taken_on: e.taken_on,
        }
    }
}

/// A certificate a passed exam issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Certificate {
    pub id: String,
    pub username: String,
    pub topic: String,
    pub issued_on: String,
    /// The last day it is valid.
    pub expires_on: String,
    pub exam_id: String,
    pub revoked: bool,
}

impl From<store::StaffCertificate> for Certificate {
    fn from(c: store::StaffCertificate) -> Certificate {
        Certificate {
            id: c.id,
            username: c.username,
            topic: c.topic,
            issued_on: c.issued_on,
            expires_on: c.expires_on,
            exam_id: c.exam_id,
            revoked: c.revoked,
        }
    }
}

/// A certificate and whether it is current today.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldCertificate {
    #[serde(flatten)]
    pub certificate: Certificate,
    /// Not revoked, and today is within its days.
    pub current: bool,
}

/// A user's certificates.
#[derive(Debug, Serialize, ToSchema)]
pub struct Certificates {
    pub username: String,
    pub certificates: Vec<HeldCertificate>,
}

/// An exam recorded, and the certificate a pass issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExamRecorded {
    pub exam: Exam,
    /// Null unless the exam was passed.
    pub certificate: Option<Certificate>,
}

/// A class's attendees after one was added.
#[derive(Debug, Serialize, ToSchema)]
pub struct Attendees {
    pub class_id: String,
    pub username: String,
    /// User names.
    pub attendees: Vec<String>,
}

/// A training class with who attended and the exams taken in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassWithExams {
    #[serde(flatten)]
    pub class: TrainingClass,
    pub attendees: Vec<String>,
    pub exams: Vec<Exam>,
}

impl From<ClassDetail> for ClassWithExams {
    fn from(d: ClassDetail) -> ClassWithExams {
        ClassWithExams {
            class: d.class.into(),
            attendees: d.attendees,
            exams: d.exams.into_iter().map(Exam::from).collect(),
        }
    }
}
