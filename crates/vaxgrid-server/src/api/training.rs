//! /api/v1/training and /api/v1/staff: training classes, their attendees
//! and exams, the certificates a passed exam issues, and the rule that a
//! vaccinator records doses only while certified ([`certificate_needed`];
//! the dose writer checks the certificate).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vaxgrid_core::access::{grants_for, permits, Permission, Role};
use vaxgrid_core::training::DEFAULT_VALID_DAYS;
use vaxgrid_store::training::{NewClass, NewExam};

use crate::api::training_types as types;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{date_field, id_or_new, uuid_field, ApiJson};
use crate::AppState;

/// A user name field of a training request, trimmed (1 to the longest
/// user name).
pub fn username(field: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > crate::auth::MAX_USERNAME {
        return Err(ApiError::invalid(
            field,
            format!(
                "{field} must be 1 to {} characters",
                crate::auth::MAX_USERNAME
            ),
        ));
    }
    Ok(v.to_string())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassBody {
    pub id: Option<String>,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    /// User name of the trainer.
    pub trainer: String,
}

/// The class a request asks for, its shape checked (the store checks the
/// rest): the API's and the training page's one way.
pub fn new_class(b: ClassBody) -> Result<NewClass, ApiError> {
    Ok(NewClass {
        id: id_or_new("id", b.id.as_deref())?,
        topic: b.topic,
        starts_on: date_field("starts_on", &b.starts_on)?,
        ends_on: date_field("ends_on", &b.ends_on)?,
        trainer: username("trainer", &b.trainer)?,
    })
}

/// Creates a training class: 201 with the class.
#[utoipa::path(
    post,
    path = "/api/v1/training/classes",
    summary = "Create a training class: a topic (\"vaccination\" certifies vaccinators), first and last day, and its trainer (a user name). Refused: a class ending before it starts, an unknown trainer.",
    request_body = ClassBody,
    responses(
        (status = 201, description = "{id, topic, starts_on, ends_on, trainer}", body = types::TrainingClass),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create_class(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<ClassBody>,
) -> Result<Response, ApiError> {
    let actor = caller.actor(&app, Permission::ManageTraining).await?;
    let new = new_class(b)?;
    let class = app.store.create_class(&new, &actor).await?;
    Ok((StatusCode::CREATED, Json(types::TrainingClass::from(class))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendeeBody {
    username: String,
}

/// Adds an attendee to a class: 201, or 200 when they attended already;
/// both with the class's attendees.
#[utoipa::path(
    post,
    path = "/api/v1/training/classes/{id}/attendees",
    summary = "Add a user to a class (201; 200 if they attended already)",
    params(("id" = String, Path)),
    request_body = AttendeeBody,
    responses(
        (status = 200, description = "{class_id, username, attendees[]}", body = types::Attendees),
        (status = 201, description = "{class_id, username, attendees[]}", body = types::Attendees),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn add_attendee(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(class_id): Path<String>,
    ApiJson(b): ApiJson<AttendeeBody>,
) -> Result<Response, ApiError> {
    let class_id = uuid_field("class_id", &class_id)?;
    let actor = caller.actor(&app, Permission::ManageTraining).await?;
    app.store
        .training_class(&class_id)
        .await
        .map_err(ApiError::lookup)?;
    let user = username("username", &b.username)?;
    let added = app.store.add_attendee(&class_id, &user, &actor).await?;
    let attendees = app.store.attendees_of(&class_id).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(types::Attendees {
            class_id,
            username: user,
            attendees,
        }),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExamBody {
    pub id: Option<String>,
    pub username: String,
    pub score: i64,
    pub pass_mark: i64,
    pub taken_on: String,
    /// How long the certificate of a pass is valid, in days (365 unless said).
    pub valid_days: Option<i64>,
}

/// The exam a request records, its shape checked (the store checks the
/// rules: score, pass mark, attendance, dates): the API's and the class
/// page's one way.
pub fn new_exam(class_id: String, b: ExamBody) -> Result<NewExam, ApiError> {
    Ok(NewExam {
        id: id_or_new("id", b.id.as_deref())?,
        class_id,
        username: username("username", &b.username)?,
        score: b.score,
        pass_mark: b.pass_mark,
        taken_on: date_field("taken_on", &b.taken_on)?,
        valid_days: b.valid_days.unwrap_or(i64::from(DEFAULT_VALID_DAYS)),
    })
}

/// Records an exam of an attendee: 201 with the exam and, for a pass, the
/// certificate it issues (`null` otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/training/classes/{id}/exams",
    summary = "Record an attendee's exam. A score reaching the pass mark issues a certificate of the class topic, valid valid_days days (365 unless said) from the exam day. Refused: a score outside 0-100, a pass mark outside 1-100, a user who does not attend the class, an exam before the class starts or in the future.",
    params(("id" = String, Path)),
    request_body = ExamBody,
    responses(
        (status = 201, description = "{exam, certificate (null unless passed)}", body = types::ExamRecorded),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn record_exam(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(class_id): Path<String>,
    ApiJson(b): ApiJson<ExamBody>,
) -> Result<Response, ApiError> {
    let class_id = uuid_field("class_id", &class_id)?;
    let actor = caller.actor(&app, Permission::ManageTraining).await?;
    app.store
        .training_class(&class_id)
        .await
        .map_err(ApiError::lookup)?;
    let new = new_exam(class_id, b)?;
    let (exam, certificate) = app.store.record_exam(&new, &actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(types::ExamRecorded {
            exam: exam.into(),
            certificate: certificate.map(types::Certificate::from),
        }),
    )
        .into_response())
}

/// A user's certificates, each saying whether it is current today. A user
/// reads their own; a trainer or an administrator anyone's; to others the
/// user does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/staff/{username}/certificates",
    summary = "A user's training certificates, each with whether it is current today. A user reads their own; trainers and administrators anyone's.",
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "{username, certificates[]}", body = types::Certificates),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn certificates(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        what: format!("certificates of user '{name}'"),
    };
    let Some(principal) = &caller.principal else {
        return Err(not_found());
    };
    let own = principal.user.username == name;
    let manages = principal
        .grants
        .iter()
        .any(|g| permits(g.role, Permission::ManageTraining));
    if !(own || manages) || name.chars().count() > crate::auth::MAX_USERNAME {
        return Err(not_found());
    }
    if app.store.user_by_name(&name).await?.is_none() {
        return Err(not_found());
    }
    let today = app.store.today();
    let certificates = app
        .store
        .certificates_of(&name)
        .await?
        .into_iter()
        .map(|c| types::HeldCertificate {
            current: c.is_current_on(today),
            certificate: c.into(),
        })
        .collect();
    Ok(Json(types::Certificates {
        username: name,
        certificates,
    })
    .into_response())
}

/// Signs a dose the caller records: a vaccinator's own dose names them and
/// needs their certificate on its day; a historical one keeps the name it
/// came with and needs none (core's `sign_dose`). Other callers' doses are
/// left as sent.
pub fn sign_dose(
    request: &mut vaxgrid_store::model::DoseRequest,
    caller: &Caller,
) -> Result<(), ApiError> {
    let Some(user) = certificate_needed(caller) else {
        return Ok(());
    };
    let signed =
        vaxgrid_core::training::sign_dose(&user, request.vaccinator.as_deref(), request.historical)
            .map_err(|message| ApiError::invalid("vaccinator", message))?;
    request.vaccinator = signed.vaccinator;
    request.requires_certificate = signed.certificate_of;
    Ok(())
}

/// The user whose current vaccination certificate the caller's doses need:
/// a caller who may record doses only as a vaccinator (other roles that
/// record — administrators, machines exchanging records — answer for
/// their own staff).
pub fn certificate_needed(caller: &Caller) -> Option<String> {
    let principal = caller.principal.as_ref()?;
    let mut recording = grants_for(&principal.grants, Permission::RecordDose).peekable();
    recording.peek()?;
    recording
        .all(|g| g.role == Role::Vaccinator)
        .then(|| principal.user.username.clone())
}
