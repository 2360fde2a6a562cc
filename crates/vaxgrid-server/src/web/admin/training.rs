//! Staff training (trainers and administrators): classes (list, create),
//! a class with its attendees and their exams (add an attendee, record
//! an exam — a pass issues the certificate), and who of each site's staff
//! holds a current vaccination certificate and who does not yet. The
//! forms build their requests with the API's functions
//! (`api::training::new_class`, `new_exam`, `username`) and the store
//! keeps the rules (`vaxgrid_core::training`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::training::VACCINATION_TOPIC;
use vaxgrid_store::lists::ClassFilter;
use vaxgrid_store::paging::PageRequest;

use super::super::{error_page, render_status, PageCtx};
use super::{
    already_recorded, client_id, field_of, form_errors, form_pairs, given, href, one, query_fields,
    refusal_status, see_other,
};
use crate::api::training::{new_class, new_exam, ClassBody, ExamBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

const PAGE_SIZE: usize = 50;

/// The pass mark a new exam form offers.
const USUAL_PASS_MARK: &str = "80";

// -------------------------------------------------------------- classes

pub struct ClassLine {
    pub href: String,
    pub topic: String,
    pub dates: String,
    pub trainer: String,
}

#[derive(Default, Clone)]
pub struct ClassDraft {
    pub id: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    pub trainer: String,
}

#[derive(Template)]
#[template(path = "admin/training.html")]
struct ClassesPage {
    ctx: PageCtx,
    rows: Vec<ClassLine>,
    next: Option<String>,
    first: Option<String>,
    draft: ClassDraft,
    errors: HashMap<String, String>,
}

impl ClassesPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn classes_page(
    app: &AppState,
    ctx: PageCtx,
    raw: Option<&str>,
    draft: ClassDraft,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let fields = query_fields(raw);
    let after = given(&fields, "after");
    let page = PageRequest {
        after: after.clone(),
        limit: PAGE_SIZE,
    };
    let listed = match app.store.list_classes(&ClassFilter::default(), &page).await {
        Ok(p) => p,
        Err(vaxgrid_store::StoreError::Invalid { field, message }) => {
            return error_page(&ctx, ApiError::bad_request(field, message))
        }
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let rows = listed
        .items
        .iter()
        .map(|c| ClassLine {
            href: format!("/training/classes/{}", c.id),
            topic: c.topic.clone(),
            dates: lang.t2(
                "training-dates",
                "from",
                lang.date_text(&c.starts_on),
                "to",
                lang.date_text(&c.ends_on),
            ),
            trainer: c.trainer.clone(),
        })
        .collect();
    let next = listed
        .next_cursor
        .map(|c| href("/training", &[("after", &c)]));
    let first = after.map(|_| "/training".to_string());
    render_status(
        status,
        &ClassesPage {
            ctx,
            rows,
            next,
            first,
            draft,
            errors,
        },
    )
}

/// `GET /training`
#[utoipa::path(
    get,
    path = "/training",
    summary = "Training classes (HTML, trainers and administrators): by first day, 50 a page (after: the cursor of the page before), the form to create one, and a link to who is certified per site",
    params(("after" = Option<String>, Query, description = "the cursor of the page before")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: not a cursor of this list", content_type = "text/html"),
    )
)]
pub async fn classes(
    State(app): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let today = vaxgrid_store::format_date(app.store.today());
    let draft = ClassDraft {
        id: client_id(),
        topic: VACCINATION_TOPIC.to_string(),
        starts_on: today.clone(),
        ends_on: today,
        trainer: ctx.user.clone().unwrap_or_default(),
    };
    classes_page(
        &app,
        ctx,
        raw.as_deref(),
        draft,
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /training/classes`
#[utoipa::path(
    post,
    path = "/training/classes",
    summary = "Create a training class from the training page's form (csrf_token, id: the form's client id, topic, starts_on, ends_on, trainer): 303 to the class; the same form sent again finds the class of the first; the form again with the error next to the field otherwise",
    responses(
        (status = 303, description = "created (or already created by this form)"),
        (status = 400, description = "the form again, with the error", content_type = "text/html"),
        (status = 422, description = "the form again, with the error", content_type = "text/html"),
    )
)]
pub async fn create_class(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let draft = ClassDraft {
        id: one(&pairs, "id"),
        topic: one(&pairs, "topic"),
        starts_on: one(&pairs, "starts_on").trim().to_string(),
        ends_on: one(&pairs, "ends_on").trim().to_string(),
        trainer: one(&pairs, "trainer"),
    };
    let made = async {
        let actor = caller.actor(&app, Permission::ManageTraining).await?;
        let new = new_class(ClassBody {
            id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
            topic: draft.topic.clone(),
            starts_on: draft.starts_on.clone(),
            ends_on: draft.ends_on.clone(),
            trainer: draft.trainer.clone(),
        })?;
        let id = new.id.clone();
        match app.store.create_class(&new, &actor).await {
            Ok(c) => Ok(c.id),
            Err(e) => {
                let e = ApiError::Store(e);
                if already_recorded(&e) {
                    Ok(id)
                } else {
                    Err(e)
                }
            }
        }
    };
    match made.await {
        Ok(id) => see_other(format!("/training/classes/{id}")),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "class", &e, &[]);
            let status = refusal_status(&e);
            classes_page(&app, ctx, None, draft, errors, status).await
        }
    }
}

// ------------------------------------------------------------ one class

pub struct AttendeeLine {
    pub username: String,
    pub result: String,
    pub passed: Option<bool>,
}

#[derive(Default, Clone)]
pub struct ExamDraft {
    pub id: String,
    pub username: String,
    pub score: String,
    pub pass_mark: String,
    pub taken_on: String,
}

#[derive(Template)]
#[template(path = "admin/class.html")]
struct ClassPage {
    ctx: PageCtx,
    id: String,
    topic: String,
    dates: String,
    trainer: String,
    attendees: Vec<AttendeeLine>,
    attendee: String,
    exam: ExamDraft,
    errors: HashMap<String, String>,
}

impl ClassPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn class_page(
    app: &AppState,
    ctx: PageCtx,
    id: &str,
    attendee: String,
    exam: ExamDraft,
    errors: HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let detail = match app.store.class_detail(id).await {
        Ok(d) => d,
        Err(e) => return error_page(&ctx, ApiError::lookup(e)),
    };
    let attendees = detail
        .attendees
        .iter()
        .map(|name| {
            // The last exam of theirs in this class decides what it gave them.
            let last = detail.exams.iter().rev().find(|e| &e.username == name);
            AttendeeLine {
                username: name.clone(),
                result: match last {
                    None => lang.t("training-no-exam"),
                    Some(e) => lang.ta(
                        if e.passed {
                            "training-exam-passed"
                        } else {
                            "training-exam-failed"
                        },
                        vec![
                            ("score", e.score.into()),
                            ("mark", e.pass_mark.into()),
                            ("date", lang.date_text(&e.taken_on).into()),
                        ],
                    ),
                },
                passed: last.map(|e| e.passed),
            }
        })
        .collect();
    let c = detail.class;
    render_status(
        status,
        &ClassPage {
            dates: lang.t2(
                "training-dates",
                "from",
                lang.date_text(&c.starts_on),
                "to",
                lang.date_text(&c.ends_on),
            ),
            id: c.id,
            topic: c.topic,
            trainer: c.trainer,
            attendees,
            attendee,
            exam,
            errors,
            ctx,
        },
    )
}

fn fresh_exam() -> ExamDraft {
    ExamDraft {
        id: client_id(),
        pass_mark: USUAL_PASS_MARK.to_string(),
        taken_on: vaxgrid_store::format_date(vaxgrid_store::today()),
        ..ExamDraft::default()
    }
}

/// `GET /training/classes/{id}`
#[utoipa::path(
    get,
    path = "/training/classes/{id}",
    summary = "A training class (HTML, trainers and administrators): its attendees with the result of their last exam in it (a pass issues the certificate of the topic), the form to add an attendee and the form to record an exam; 404 for an unknown class",
    params(("id" = String, Path, description = "class id")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such class", content_type = "text/html"),
    )
)]
pub async fn class(State(app): State<AppState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    class_page(
        &app,
        ctx,
        &id,
        String::new(),
        fresh_exam(),
        HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /training/classes/{id}/attendees`
#[utoipa::path(
    post,
    path = "/training/classes/{id}/attendees",
    summary = "Add an attendee to a class from its page (csrf_token, username): 303 back to the class (one who attends already stays once); the page again with the error next to the field otherwise; 404 for an unknown class",
    params(("id" = String, Path, description = "class id")),
    responses(
        (status = 303, description = "added (or attending already)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such class", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn add_attendee(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let typed = one(&pairs, "username");
    if let Err(e) = app.store.training_class(&id).await {
        return error_page(&ctx, ApiError::lookup(e));
    }
    let added = async {
        let actor = caller.actor(&app, Permission::ManageTraining).await?;
        let name = crate::api::training::username("username", &typed)?;
        app.store.add_attendee(&id, &name, &actor).await?;
        Ok::<_, ApiError>(())
    };
    match added.await {
        Ok(()) => see_other(format!("/training/classes/{id}")),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "attendee", &e, &[("username", "attendee")]);
            let status = refusal_status(&e);
            class_page(&app, ctx, &id, typed, fresh_exam(), errors, status).await
        }
    }
}

/// `POST /training/classes/{id}/exams`
#[utoipa::path(
    post,
    path = "/training/classes/{id}/exams",
    summary = "Record an attendee's exam from the class page (csrf_token, id: the form's client id, username, score, pass_mark, taken_on): a pass issues the certificate of the class topic; 303 back to the class; the same form sent again records nothing more; the page again with the error next to the field otherwise; 404 for an unknown class",
    params(("id" = String, Path, description = "class id")),
    responses(
        (status = 303, description = "recorded (or already recorded by this form)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page: no such class", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn record_exam(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let draft = ExamDraft {
        id: one(&pairs, "id"),
        username: one(&pairs, "username"),
        score: one(&pairs, "score"),
        pass_mark: one(&pairs, "pass_mark"),
        taken_on: one(&pairs, "taken_on").trim().to_string(),
    };
    if let Err(e) = app.store.training_class(&id).await {
        return error_page(&ctx, ApiError::lookup(e));
    }
    let whole = |field: &str, v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(field, "not a whole number"))
    };
    let recorded = async {
        let actor = caller.actor(&app, Permission::ManageTraining).await?;
        let new = new_exam(
            id.clone(),
            ExamBody {
                id: Some(draft.id.clone()).filter(|s| !s.is_empty()),
                username: draft.username.clone(),
                score: whole("score", &draft.score)?,
                pass_mark: whole("pass_mark", &draft.pass_mark)?,
                taken_on: draft.taken_on.clone(),
                valid_days: None,
            },
        )?;
        match app.store.record_exam(&new, &actor).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = ApiError::Store(e);
                if already_recorded(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    };
    match recorded.await {
        Ok(()) => see_other(format!("/training/classes/{id}")),
        Err(e) => {
            if field_of(&e).is_none() {
                return error_page(&ctx, e);
            }
            let errors = form_errors(ctx.lang, "exam", &e, &[]);
            let status = refusal_status(&e);
            class_page(&app, ctx, &id, String::new(), draft, errors, status).await
        }
    }
}

// ---------------------------------------------------- certified by site

pub struct SiteLine {
    pub href: String,
    pub code: String,
    pub name: String,
    pub staff: String,
    pub certified: String,
    pub not_yet: String,
    pub all_certified: bool,
}

#[derive(Template)]
#[template(path = "admin/training_sites.html")]
struct SitesPage {
    ctx: PageCtx,
    day: String,
    rows: Vec<SiteLine>,
    next: Option<String>,
    first: Option<String>,
}

/// `GET /training/sites`
#[utoipa::path(
    get,
    path = "/training/sites",
    summary = "Who is certified per site (HTML, trainers and administrators): sites by code, 50 a page (after: the cursor of the page before), with their staff, how many hold a current vaccination certificate today and how many do not yet; each site links to its list",
    params(("after" = Option<String>, Query, description = "the cursor of the page before")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: not a cursor of this list", content_type = "text/html"),
    )
)]
pub async fn sites(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let lang = ctx.lang;
    let fields = query_fields(raw.as_deref());
    let after = given(&fields, "after");
    let today = app.store.today();
    let page = PageRequest {
        after: after.clone(),
        limit: PAGE_SIZE,
    };
    let listed = match app
        .store
        .certification_by_site(&vaxgrid_store::format_date(today), &page)
        .await
    {
        Ok(p) => p,
        Err(vaxgrid_store::StoreError::Invalid { field, message }) => {
            return error_page(&ctx, ApiError::bad_request(field, message))
        }
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let rows = listed
        .items
        .iter()
        .map(|s| SiteLine {
            href: format!("/training/sites/{}", crate::web::urlencode(&s.site_code)),
            code: s.site_code.clone(),
            name: s.site_name.clone(),
            staff: lang.int(s.staff),
            certified: lang.int(s.certified),
            not_yet: lang.int(s.staff - s.certified),
            all_certified: s.staff == s.certified,
        })
        .collect();
    let next = listed
        .next_cursor
        .map(|c| href("/training/sites", &[("after", &c)]));
    let first = after.map(|_| "/training/sites".to_string());
    render_status(
        StatusCode::OK,
        &SitesPage {
            day: lang.t1("training-on-day", "date", lang.date(today)),
            ctx,
            rows,
            next,
            first,
        },
    )
}

pub struct StaffLine {
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub certified: Option<String>,
    pub failed_exam: bool,
}

#[derive(Template)]
#[template(path = "admin/training_site.html")]
struct SitePage {
    ctx: PageCtx,
    code: String,
    name: String,
    day: String,
    certified: Vec<StaffLine>,
    not_yet: Vec<StaffLine>,
}

/// `GET /training/sites/{code}`
#[utoipa::path(
    get,
    path = "/training/sites/{code}",
    summary = "A site's staff by their vaccination certificate (HTML, trainers and administrators): who is certified (until when) and who is not yet (a failed exam shown), from the same statement as the planner's site page; 404 for an unknown site",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such site", content_type = "text/html"),
    )
)]
pub async fn site(State(app): State<AppState>, ctx: PageCtx, Path(code): Path<String>) -> Response {
    let lang = ctx.lang;
    let site = match app.store.site(&code).await {
        Ok(s) => s,
        Err(e) => return error_page(&ctx, ApiError::lookup(e)),
    };
    let today = app.store.today();
    let staff = match app
        .store
        .site_certification(&code, &vaxgrid_store::format_date(today))
        .await
    {
        Ok(s) => s,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let (certified, not_yet): (Vec<_>, Vec<_>) = staff
        .into_iter()
        .map(|s| StaffLine {
            certified: s
                .certified_until
                .as_ref()
                .map(|d| lang.t1("training-certified-until", "date", lang.date_text(d))),
            roles: s
                .roles
                .split(", ")
                .map(|r| super::users::role_name(lang, r))
                .collect::<Vec<_>>()
                .join(", "),
            username: s.username,
            display_name: s.display_name,
            failed_exam: s.failed_exam,
        })
        .partition(|s| s.certified.is_some());
    render_status(
        StatusCode::OK,
        &SitePage {
            day: lang.t1("training-on-day", "date", lang.date(today)),
            code: site.code,
            name: site.name,
            certified,
            not_yet,
            ctx,
        },
    )
}
