//! The laboratories' queues: the laboratories in the caller's areas with
//! their daily capacity and what waits at each; a laboratory's page with
//! its pending tests in order (pools and singles, re-tests of positive
//! pools marked), the day each will run at the laboratory's daily
//! capacity (`Store::lab_queue`, as `GET …/laboratories/{code}/queue`),
//! the samples in each with their persons, the samples waiting for a test,
//! and a result form on each test. A result goes through
//! `Store::record_result`, the function behind
//! `POST /api/v1/outbreak/tests/{id}/result`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::pooling::Outcome;
use vaxgrid_store::outbreak_views::QueueSample;
use vaxgrid_store::StoreError;

use super::super::planner::planning::{form_pairs, one};
use super::super::supply::holds;
use super::super::{error_page, render_status, see_other, PageCtx};
use super::seg;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Pending tests (and waiting samples) shown on a laboratory's page.
pub const TESTS_SHOWN: usize = 200;

pub struct LabLine {
    pub code: String,
    pub name: String,
    pub href: String,
    pub single: String,
    pub confirmatory: String,
    pub max_pool: String,
}

#[derive(Template)]
#[template(path = "outbreak/labs.html")]
struct LabsPage {
    ctx: PageCtx,
    labs: Vec<LabLine>,
}

/// `GET /outbreak/labs`
#[utoipa::path(
    get,
    path = "/outbreak/labs",
    summary = "The laboratories in the caller's areas (HTML; ReadOutbreak) with their daily capacity (single PCR runs, confirmatory tests, largest pool), each linking to its queue",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let read = async {
        let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
        Ok::<_, ApiError>(app.store.laboratories(&actor.scope).await?)
    };
    let labs = match read.await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let labs = labs
        .into_iter()
        .map(|l| LabLine {
            href: format!("/outbreak/labs/{}", seg(&l.code)),
            single: lang.int(l.single_per_day),
            confirmatory: lang.int(l.confirmatory_per_day),
            max_pool: lang.int(l.max_pool),
            code: l.code,
            name: l.name,
        })
        .collect();
    render_status(StatusCode::OK, &LabsPage { labs, ctx })
}

pub struct SampleLine {
    pub name: String,
    pub href: Option<String>,
    pub collected: String,
}

pub struct TestLine {
    pub n: String,
    pub id: String,
    pub kind: String,
    pub retest: bool,
    pub runs_on: String,
    pub today: bool,
    pub samples: Vec<SampleLine>,
}

#[derive(Template)]
#[template(path = "outbreak/lab.html")]
struct LabPage {
    ctx: PageCtx,
    title: String,
    code: String,
    capacity: String,
    pending: String,
    more: String,
    tests: Vec<TestLine>,
    waiting_count: String,
    waiting: Vec<SampleLine>,
    waiting_more: bool,
    manage: bool,
    error: Option<(String, String)>,
}

fn sample_line(lang: Lang, s: &QueueSample) -> SampleLine {
    SampleLine {
        name: s
            .full_name
            .clone()
            .unwrap_or_else(|| lang.t("outbreak-outside-areas")),
        href: s
            .full_name
            .as_ref()
            .map(|_| format!("/registry/persons/{}", seg(&s.person_id))),
        collected: lang.date_text(&s.collected_on),
    }
}

async fn lab_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    code: &str,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let today = app.store.today();
    let read = async {
        let actor = caller.actor(app, Permission::ReadOutbreak).await?;
        app.store
            .lab_board(code, today, &actor.scope, TESTS_SHOWN)
            .await
            .map_err(ApiError::lookup)
    };
    let b = match read.await {
        Ok(b) => b,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let today_text = vaxgrid_store::format_date(today);
    let tests = b
        .tests
        .iter()
        .enumerate()
        .map(|(i, t)| TestLine {
            n: lang.int(i as i64 + 1),
            id: t.test.test_id.clone(),
            kind: if t.test.size > 1 {
                lang.t1("outbreak-test-pool", "size", t.test.size)
            } else {
                lang.t("outbreak-test-single")
            },
            retest: t.test.retest_of.is_some(),
            today: t.test.runs_on.as_deref() == Some(today_text.as_str()),
            runs_on: t
                .test
                .runs_on
                .as_deref()
                .map_or_else(|| lang.t("outbreak-runs-never"), |d| lang.date_text(d)),
            samples: t.samples.iter().map(|s| sample_line(lang, s)).collect(),
        })
        .collect();
    let l = &b.laboratory;
    let page = LabPage {
        title: lang.t1("outbreak-lab-title", "name", l.name.clone()),
        code: l.code.clone(),
        capacity: lang.ta(
            "outbreak-lab-capacity",
            vec![
                ("single", l.single_per_day.into()),
                ("confirmatory", l.confirmatory_per_day.into()),
                ("pool", l.max_pool.into()),
            ],
        ),
        pending: lang.t1("outbreak-lab-pending", "count", b.pending),
        more: if b.pending > TESTS_SHOWN {
            lang.t1("outbreak-lab-more", "count", b.pending - TESTS_SHOWN)
        } else {
            String::new()
        },
        tests,
        waiting_count: lang.t1("outbreak-lab-waiting-count", "count", b.waiting_count),
        waiting_more: b.waiting_count > b.waiting.len() as i64,
        waiting: b.waiting.iter().map(|s| sample_line(lang, s)).collect(),
        manage: holds(&ctx, Permission::ManageOutbreak),
        error,
        ctx,
    };
    render_status(status, &page)
}

/// `GET /outbreak/labs/{code}`
#[utoipa::path(
    get,
    path = "/outbreak/labs/{code}",
    summary = "A laboratory's queue (HTML; ReadOutbreak on its area): its daily capacity; the pending tests in order (200 at most), pools and singles with re-tests of positive pools marked, each with the day it will run at the laboratory's daily capacity and its samples' persons; the samples waiting for a test; for ManageOutbreak a negative / positive result form on each test. 404 outside the caller's areas",
    params(("code" = String, Path, description = "laboratory code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such laboratory in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Response {
    lab_page(&app, &caller, ctx, &code, None, StatusCode::OK).await
}

/// `POST /outbreak/labs/{code}/results`
#[utoipa::path(
    post,
    path = "/outbreak/labs/{code}/results",
    summary = "Record a test's result from a laboratory's queue (form: csrf_token, test_id, outcome = negative | positive) through the store function behind POST /api/v1/outbreak/tests/{id}/result (a positive pool makes a re-test of each member; a positive single test confirms its person): 303 back to the queue; the same result sent again: 303 (recorded once); refused: the queue again with the reason at the test",
    params(("code" = String, Path, description = "laboratory code")),
    responses(
        (status = 303, description = "recorded (or already recorded)"),
        (status = 400, description = "the error page: a form that cannot be read", content_type = "text/html"),
        (status = 404, description = "the error page: no such laboratory or test in the caller's areas", content_type = "text/html"),
        (status = 422, description = "the queue again, with the reason at the test", content_type = "text/html"),
    )
)]
pub async fn record(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let test = one(&pairs, "test_id").trim().to_string();
    let outcome = match one(&pairs, "outcome").as_str() {
        "negative" => Some(Outcome::Negative),
        "positive" => Some(Outcome::Positive),
        _ => None,
    };
    let recorded = async {
        let actor = caller.actor(&app, Permission::ManageOutbreak).await?;
        // The laboratory must be the caller's, and the test its own.
        app.store
            .laboratory(&code, &actor.scope)
            .await
            .map_err(ApiError::lookup)?;
        let Some(outcome) = outcome else {
            return Ok(Err("outcome"));
        };
        let queue = app
            .store
            .lab_queue(&code, app.store.today(), &actor.scope)
            .await?;
        if !queue.iter().any(|t| t.test_id == test) {
            // Not pending here: resulted already (a second submit), or
            // not this laboratory's.
            return Ok(Err("test_id"));
        }
        match app
            .store
            .record_result(&test, outcome, app.store.today(), &actor)
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(StoreError::Conflict {
                field: "test_id", ..
            }) => Ok(Ok(())),
            Err(e) => Err(ApiError::lookup(e)),
        }
    };
    let back = format!("/outbreak/labs/{}", seg(&code));
    let mut recorded = recorded.await;
    // Not waiting here because it has its result: the form was sent twice.
    if matches!(recorded, Ok(Err("test_id"))) && already_resulted(&app, &test).await {
        recorded = Ok(Ok(()));
    }
    match recorded {
        Ok(Ok(())) => see_other(back),
        Ok(Err(field)) => {
            let message = ctx.t(&format!("outbreak-err-result-{field}"));
            lab_page(
                &app,
                &caller,
                ctx,
                &code,
                Some((test, message)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&ctx, e),
    }
}

/// Whether the test has its result already (the form was sent twice).
async fn already_resulted(app: &AppState, test: &str) -> bool {
    app.store.test_outcome(test).await.ok().flatten().is_some()
}
