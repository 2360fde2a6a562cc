//! Finding the person (or registering a walk-in), opening the visit, and
//! each step's form: check-in, identity, screening, consent, the dose, the
//! end of observation and adverse events, all recorded through
//! `vaxgrid_store::visits::record_event` as the API records them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use vaxgrid_core::access::Permission;
use vaxgrid_core::dose::{lot_usable, DoseRuleError, LotFacts};
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_core::visit::{observation_ends_at, Outcome, ScreeningQuestion, Step, Visit};
use vaxgrid_store::model::{Lot, Person};
use vaxgrid_store::persons::PersonQuery;
use vaxgrid_store::visits::VisitRow;
use vaxgrid_store::StoreError;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::AppState;

use super::{field, form_fields, may, new_client_id, see_other, site_of_caller, QueueState};
use crate::web::{error_page, render, render_status, PageCtx};

/// Persons shown for a search at the table.
const FOUND_LIMIT: usize = 20;

/// The version of the consent text the table reads out (`table-consent-text`).
pub const CONSENT_TEXT_VERSION: &str = "table-consent-1";

/// A lot as the rules see it (none for an expiry that is not a date).
fn lot_facts(lot: &Lot) -> Option<LotFacts> {
    Some(LotFacts {
        product_code: lot.product_code.clone(),
        expiry: vaxgrid_store::parse_date(&lot.expiry)?,
        status: lot.status,
    })
}

/// The lots of a product usable today (`core::dose::lot_usable`: released,
/// of that product, not expired), from one read of the lots.
fn usable<'a>(lots: &'a [Lot], product: &str) -> impl Iterator<Item = &'a Lot> {
    let today = vaxgrid_store::today();
    let product = product.to_string();
    lots.iter()
        .filter(move |l| lot_facts(l).is_some_and(|facts| lot_usable(&facts, &product, today)))
}

/// The products a visit can be opened for: those with a lot usable today.
async fn products_in_use(app: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let lots = app.store.lots(None).await?;
    Ok(app
        .store
        .products()
        .await?
        .into_iter()
        .filter(|p| usable(&lots, &p.code).next().is_some())
        .map(|p| (p.code, p.name))
        .collect())
}

// ---------------------------------------------------------------- find

/// A person found, with the form that opens their visit (or the link to
/// the visit they have open today).
pub struct FoundRow {
    pub person_id: String,
    pub name: String,
    pub id_number: String,
    pub birth: String,
    pub visit_id: String,
    pub open_visit: Option<String>,
}

#[derive(Template)]
#[template(path = "table/find.html")]
struct FindPage {
    ctx: PageCtx,
    site_code: String,
    site_name: String,
    id_number: String,
    phone: String,
    name: String,
    appointment: String,
    searched: bool,
    name_error: Option<String>,
    rows: Vec<FoundRow>,
    products: Vec<(String, String)>,
    may_register: bool,
}

fn query_fields(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|r| form_fields(r.as_bytes())).unwrap_or_default()
}

/// `GET /sites/{code}/table/find`: find the person who has come.
#[utoipa::path(
    get,
    path = "/sites/{code}/table/find",
    summary = "Find a person at the vaccination table (HTML): by ID number, phone or name with or without diacritics (the registry's search), each found person with the form that opens their visit (or a link to the visit open today); 404 for a site the caller does not work at",
    params(
        ("code" = String, Path, description = "site code"),
        ("id_number" = Option<String>, Query, description = "ID number"),
        ("phone" = Option<String>, Query, description = "phone"),
        ("name" = Option<String>, Query, description = "name or its start, any word, with or without diacritics"),
        ("appointment" = Option<String>, Query, description = "the appointment the visit is for"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the search again, the error next to the name (a name without letters)", content_type = "text/html"),
        (status = 404, description = "the error page: no such site, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn find_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_fields(raw.as_deref());
    let site = match site_of_caller(&app, &caller, &code).await {
        Ok(s) => s,
        Err(e) => return error_page(&ctx, e),
    };
    let products = match products_in_use(&app).await {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let mut page = FindPage {
        site_code: site.code,
        site_name: site.name,
        id_number: field(&q, "id_number"),
        phone: field(&q, "phone"),
        name: field(&q, "name"),
        appointment: field(&q, "appointment"),
        searched: false,
        name_error: None,
        rows: Vec::new(),
        products,
        may_register: may(&ctx, Permission::WriteRegistry),
        ctx,
    };
    let given = |v: &str| (!v.is_empty()).then(|| v.to_string());
    if page.id_number.is_empty() && page.phone.is_empty() && page.name.is_empty() {
        return render(&page);
    }
    page.searched = true;
    let found = async {
        let actor = caller.actor(&app, Permission::ReadRegistry).await?;
        let query = PersonQuery {
            id_number: given(&page.id_number),
            phone: given(&page.phone),
            name: given(&page.name),
            area: None,
            scope: actor.scope,
            ..Default::default()
        };
        let found = crate::api::persons::find(&app, &query, None, FOUND_LIMIT).await?;
        let visits = app.store.visits_on(&code, app.store.today()).await?;
        Ok::<_, ApiError>((found, visits))
    }
    .await;
    let (found, visits) = match found {
        Ok(f) => f,
        Err(ApiError::BadRequest { field, .. }) if field == "name" => {
            page.name_error = Some(page.ctx.t("table-err-name-letters"));
            return render_status(StatusCode::BAD_REQUEST, &page);
        }
        Err(e) => return error_page(&page.ctx, e),
    };
    for p in found.items {
        let open = visits
            .iter()
            .rev()
            .find(|(v, _)| v.person_id == p.id && v.outcome == "in_progress")
            .map(|(v, _)| format!("/sites/{code}/table/visits/{}", v.id));
        page.rows.push(FoundRow {
            birth: page.ctx.lang.date_text(&p.birth_date),
            person_id: p.id,
            name: p.full_name,
            id_number: p.id_number,
            visit_id: new_client_id(),
            open_visit: open,
        });
    }
    render(&page)
}

/// `POST /sites/{code}/table/visits`: the person has come; their visit opens.
#[utoipa::path(
    post,
    path = "/sites/{code}/table/visits",
    summary = "Open a visit at the vaccination table (form: csrf_token, visit_id — the form's client id, so a second submit opens nothing more —, person_id, product_code, appointment_id?), as POST /api/v1/visits; 303 to the visit's page",
    params(("code" = String, Path, description = "site code")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "the visit's page"),
        (status = 400, description = "the error page: a malformed id", content_type = "text/html"),
        (status = 404, description = "the error page: no such site or person in the caller's reach", content_type = "text/html"),
        (status = 422, description = "the error page: an unknown product or another person's appointment", content_type = "text/html"),
    )
)]
pub async fn open_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = form_fields(&body);
    let opened = async {
        site_of_caller(&app, &caller, &code).await?;
        let visit_id = crate::extract::uuid_field("visit_id", &field(&f, "visit_id"))?;
        let person = crate::extract::uuid_field("person_id", &field(&f, "person_id"))?;
        let appointment = match field(&f, "appointment_id") {
            a if a.is_empty() => None,
            a => Some(crate::extract::uuid_field("appointment_id", &a)?),
        };
        open(
            &app,
            &caller,
            &code,
            &visit_id,
            &person,
            &field(&f, "product_code"),
            appointment.as_deref(),
        )
        .await?;
        Ok::<_, ApiError>(visit_id)
    }
    .await;
    match opened {
        Ok(id) => see_other(format!("/sites/{code}/table/visits/{id}")),
        Err(e) => error_page(&ctx, e),
    }
}

/// Opens a visit with the form's id; the same id again (a second submit)
/// is the visit already opened, when it is this person's at this site.
async fn open(
    app: &AppState,
    caller: &Caller,
    code: &str,
    visit_id: &str,
    person: &str,
    product: &str,
    appointment: Option<&str>,
) -> Result<(), ApiError> {
    let actor = caller.actor(app, Permission::Visit).await?;
    match app
        .store
        .open_visit(visit_id, person, code, product, appointment, &actor)
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict { field: "id", .. }) => {
            let existing = app.store.visit(visit_id).await?;
            if existing.person_id == person && existing.site_code == code {
                Ok(())
            } else {
                Err(ApiError::invalid(
                    "visit_id",
                    "this form's id names another visit",
                ))
            }
        }
        Err(StoreError::NotFound {
            entity: "person",
            key,
            ..
        }) => Err(ApiError::Absent {
            entity: "person",
            key,
        }),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- walk-in

/// What the walk-in form holds (kept as typed when it comes back).
#[derive(Default, Clone)]
pub struct WalkInForm {
    pub person_id: String,
    pub visit_id: String,
    pub id_type: String,
    pub id_number: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub phone: String,
    pub home_area: String,
    pub product_code: String,
}

#[derive(Template)]
#[template(path = "table/walk_in.html")]
struct WalkInPage {
    ctx: PageCtx,
    site_code: String,
    site_name: String,
    form: WalkInForm,
    id_types: Vec<(&'static str, String)>,
    sexes: Vec<(&'static str, String)>,
    areas: Vec<(String, String)>,
    products: Vec<(String, String)>,
    errors: HashMap<String, String>,
    form_error: Option<String>,
    /// The search that finds the person already registered with this number.
    existing: Option<String>,
}

impl WalkInPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

fn id_type_label(lang: Lang, t: IdType) -> String {
    lang.t(match t {
        IdType::Cccd => tkey("table-id-cccd"),
        IdType::Cmnd => tkey("table-id-cmnd"),
        IdType::CnResident => tkey("table-id-cn-resident"),
        IdType::Passport => tkey("table-id-passport"),
        IdType::None => tkey("table-id-none"),
    })
}

fn sex_label(lang: Lang, s: Sex) -> String {
    lang.t(match s {
        Sex::Male => tkey("table-sex-male"),
        Sex::Female => tkey("table-sex-female"),
        Sex::Other => tkey("table-sex-other"),
    })
}

/// The areas a walk-in may live in, near the site: the site's area when it
/// is a commune or village, and the areas just under it.
async fn home_areas(
    app: &AppState,
    site: &vaxgrid_store::model::Site,
) -> Result<Vec<(String, String)>, ApiError> {
    let levels = app.store.area_levels().await?;
    let area = app.store.area(&site.area_code).await?;
    let mut out = Vec::new();
    if levels.is_local(area.depth()) {
        out.push((area.code.clone(), area.name.clone()));
    }
    let children = app.store.area_children(Some(&area.code), None, 500).await?;
    for c in children.items {
        if levels.is_local(c.depth()) {
            out.push((c.code, format!("{} · {}", c.name, area.name)));
        }
    }
    Ok(out)
}

async fn walk_in_form(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    code: &str,
    form: Option<WalkInForm>,
) -> Result<WalkInPage, (PageCtx, ApiError)> {
    let parts = async {
        let site = site_of_caller(app, caller, code).await?;
        let areas = home_areas(app, &site).await?;
        let products = products_in_use(app).await?;
        Ok::<_, ApiError>((site, areas, products))
    }
    .await;
    let (site, areas, products) = match parts {
        Ok(p) => p,
        Err(e) => return Err((ctx, e)),
    };
    let form = form.unwrap_or_else(|| WalkInForm {
        person_id: new_client_id(),
        visit_id: new_client_id(),
        id_type: "cccd".into(),
        home_area: areas.first().map(|a| a.0.clone()).unwrap_or_default(),
        product_code: products.first().map(|p| p.0.clone()).unwrap_or_default(),
        ..WalkInForm::default()
    });
    let lang = ctx.lang;
    Ok(WalkInPage {
        site_code: site.code,
        site_name: site.name,
        form,
        id_types: IdType::ALL
            .into_iter()
            .map(|t| (t.as_str(), id_type_label(lang, t)))
            .collect(),
        sexes: [Sex::Female, Sex::Male, Sex::Other]
            .into_iter()
            .map(|s| (sex_str(s), sex_label(lang, s)))
            .collect(),
        areas,
        products,
        errors: HashMap::new(),
        form_error: None,
        existing: None,
        ctx,
    })
}

fn sex_str(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::Other => "other",
    }
}

/// `GET /sites/{code}/table/walk-in`: register someone who came without
/// being found in the registry.
#[utoipa::path(
    get,
    path = "/sites/{code}/table/walk-in",
    summary = "Walk-in registration form (HTML): the person's details (the checks of POST /api/v1/persons) and the product, which registers the person and opens their visit; 404 for a site the caller does not work at",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such site, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn walk_in_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Response {
    match walk_in_form(&app, &caller, ctx, &code, None).await {
        Ok(page) => render(&page),
        Err((ctx, e)) => error_page(&ctx, e),
    }
}

/// The field of the walk-in form a refusal is about.
fn walk_in_field(e: &ApiError) -> Option<&'static str> {
    let field = match e {
        ApiError::Invalid(errors) => errors.first().map(|f| f.field.as_str())?,
        ApiError::BadRequest { field, .. } => field.as_str(),
        ApiError::Store(StoreError::Invalid { field, .. }) => field.as_str(),
        ApiError::Store(StoreError::NotFound { field, .. }) => field,
        ApiError::Store(StoreError::Conflict { field, .. }) => field,
        _ => return None,
    };
    [
        "id_type",
        "id_number",
        "full_name",
        "birth_date",
        "sex",
        "phone",
        "home_area",
        "product_code",
    ]
    .into_iter()
    .find(|f| *f == field)
}

fn walk_in_message(lang: Lang, field: &str, e: &ApiError) -> String {
    if matches!(e, ApiError::Store(StoreError::Conflict { .. })) && field == "id_number" {
        return lang.t("table-err-id-number-taken");
    }
    lang.t(match field {
        "id_type" => tkey("table-err-id-type"),
        "id_number" => tkey("table-err-id-number"),
        "full_name" => tkey("table-err-full-name"),
        "birth_date" => tkey("table-err-birth-date"),
        "sex" => tkey("table-err-sex"),
        "phone" => tkey("table-err-phone"),
        "home_area" => tkey("table-err-home-area"),
        _ => tkey("table-err-product"),
    })
}

/// `POST /sites/{code}/table/walk-in`: registers the person (as
/// `POST /api/v1/persons`) and opens their visit.
#[utoipa::path(
    post,
    path = "/sites/{code}/table/walk-in",
    summary = "Register a walk-in and open their visit (form: csrf_token, person_id and visit_id — the form's client ids —, id_type, id_number, full_name, birth_date, sex, phone, home_area, product_code): the checks of POST /api/v1/persons; 303 to the visit's page, or the form again with the error next to its field; a second submit registers and opens nothing more",
    params(("code" = String, Path, description = "site code")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "registered: the visit's page"),
        (status = 400, description = "the form again, the error next to the field", content_type = "text/html"),
        (status = 404, description = "the error page: no such site, or not the caller's", content_type = "text/html"),
        (status = 409, description = "the form again: the ID number is registered (with the search that finds the person)", content_type = "text/html"),
        (status = 422, description = "the form again, the error next to the field", content_type = "text/html"),
    )
)]
pub async fn walk_in_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = form_fields(&body);
    let form = WalkInForm {
        person_id: field(&f, "person_id"),
        visit_id: field(&f, "visit_id"),
        id_type: field(&f, "id_type"),
        id_number: field(&f, "id_number"),
        full_name: field(&f, "full_name"),
        birth_date: field(&f, "birth_date"),
        sex: field(&f, "sex"),
        phone: field(&f, "phone"),
        home_area: field(&f, "home_area"),
        product_code: field(&f, "product_code"),
    };
    let mut page = match walk_in_form(&app, &caller, ctx, &code, Some(form.clone())).await {
        Ok(p) => p,
        Err((ctx, e)) => return error_page(&ctx, e),
    };
    match register_and_open(&app, &caller, &code, &form).await {
        Ok(()) => see_other(format!("/sites/{code}/table/visits/{}", form.visit_id)),
        Err(e) => {
            let status = match &e {
                ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
                ApiError::Invalid(_)
                | ApiError::Store(StoreError::Invalid { .. })
                | ApiError::Store(StoreError::NotFound { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
                ApiError::Store(StoreError::Conflict { .. }) => StatusCode::CONFLICT,
                _ => return error_page(&page.ctx, e),
            };
            match walk_in_field(&e) {
                Some(field) => {
                    let message = walk_in_message(page.ctx.lang, field, &e);
                    page.errors.insert(field.to_string(), message);
                    if matches!(e, ApiError::Store(StoreError::Conflict { .. })) {
                        let q = form_urlencoded::Serializer::new(String::new())
                            .append_pair("id_number", &form.id_number)
                            .finish();
                        page.existing = Some(format!("/sites/{code}/table/find?{q}"));
                    }
                }
                None => page.form_error = Some(page.ctx.t("table-err-form")),
            }
            render_status(status, &page)
        }
    }
}

/// Registers the walk-in (unless this form already did: a second submit)
/// and opens the visit.
async fn register_and_open(
    app: &AppState,
    caller: &Caller,
    code: &str,
    form: &WalkInForm,
) -> Result<(), ApiError> {
    let person_id = crate::extract::uuid_field("person_id", &form.person_id)?;
    let visit_id = crate::extract::uuid_field("visit_id", &form.visit_id)?;
    // The product is checked first, so a refusal registers nobody.
    app.store
        .product(&form.product_code)
        .await
        .map_err(|_| ApiError::invalid("product_code", "no such product"))?;
    let registered = app.store.person(&person_id).await.is_ok();
    if !registered {
        let id_type = IdType::parse(&form.id_type)
            .ok_or_else(|| ApiError::invalid("id_type", "not a document type"))?;
        let sex = match form.sex.as_str() {
            "male" => Sex::Male,
            "female" => Sex::Female,
            "other" => Sex::Other,
            _ => return Err(ApiError::invalid("sex", "sex is female, male or other")),
        };
        let body = crate::api::persons::PersonBody {
            id: Some(person_id.clone()),
            id_type: Some(id_type),
            id_number: Some(form.id_number.clone()),
            identifiers: Vec::new(),
            guardian: None,
            full_name: form.full_name.clone(),
            birth_date: form.birth_date.clone(),
            sex,
            phone: Some(form.phone.clone()),
            home_area: form.home_area.clone(),
            occupation: None,
            priority_groups: Vec::new(),
        };
        crate::api::persons::register(app, caller, body).await?;
    }
    open(
        app,
        caller,
        code,
        &visit_id,
        &person_id,
        &form.product_code,
        None,
    )
    .await
}

// ---------------------------------------------------------------- the visit

/// A visit of this site, with its person, as its events make it.
pub struct Loaded {
    pub row: VisitRow,
    pub person: Person,
    pub visit: Visit,
    pub questions: Vec<ScreeningQuestion>,
    pub questionnaire_version: String,
}

/// The visit named by the path: of this site and in the caller's reach
/// (else the 404 page, whatever the reason).
pub(crate) async fn load_visit(
    app: &AppState,
    caller: &Caller,
    code: &str,
    id: &str,
) -> Result<Loaded, ApiError> {
    site_of_caller(app, caller, code).await?;
    let absent = || ApiError::Absent {
        entity: "visit",
        key: id.to_string(),
    };
    let id = crate::extract::uuid_field("id", id).map_err(|_| absent())?;
    let actor = caller.actor(app, Permission::Visit).await?;
    let row = app
        .store
        .visit_in(&id, &actor.scope)
        .await
        .map_err(|_| absent())?;
    if row.site_code != code {
        return Err(absent());
    }
    let person = app.store.person(&row.person_id).await?;
    let (visit, questions) = app.store.replay_visit(&row).await?;
    let (questionnaire_version, _) = app.store.questionnaire_of(&row.product_code).await?;
    Ok(Loaded {
        row,
        person,
        visit,
        questions,
        questionnaire_version,
    })
}

pub struct StepView {
    pub label: String,
    pub done: bool,
    pub current: bool,
}

pub struct QuestionView {
    pub name: String,
    pub text: String,
    pub yes: bool,
    pub no: bool,
}

pub struct LotView {
    pub number: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "table/visit.html")]
struct VisitPage {
    ctx: PageCtx,
    site_code: String,
    action: String,
    person_name: String,
    person_line: String,
    product: String,
    state: String,
    state_class: &'static str,
    steps: Vec<StepView>,
    /// The step whose form the page shows ("" once the visit has ended).
    next: &'static str,
    outcome: Option<String>,
    ends_ms: i64,
    left: String,
    questions: Vec<QuestionView>,
    lots: Vec<LotView>,
    open_vials: Vec<super::vials::VialView>,
    reports: Vec<String>,
    report_href: Option<String>,
    client_id: String,
    form: HashMap<String, String>,
    errors: HashMap<String, String>,
    form_error: Option<String>,
    may_dose: bool,
}

impl VisitPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn value(&self, field: &str) -> &str {
        self.form.get(field).map_or("", String::as_str)
    }
}

fn step_key(step: Step) -> &'static str {
    match step {
        Step::CheckIn => tkey("table-step-check-in"),
        Step::IdentityCheck => tkey("table-step-identity"),
        Step::Screening => tkey("table-step-screening"),
        Step::Consent => tkey("table-step-consent"),
        Step::Dose => tkey("table-step-dose"),
        Step::Observation => tkey("table-step-observation"),
        Step::Done => tkey("table-step-done"),
    }
}

/// A question's text in the reader's language: the default questionnaire's
/// questions are translated; a product's own are shown as written.
fn question_text(lang: Lang, version: &str, q: &ScreeningQuestion) -> String {
    if version == vaxgrid_core::visit_body::default_questionnaire().0 {
        let key = format!("table-q-{}", q.id.replace('_', "-"));
        let text = lang.t(&key);
        if text != key {
            return text;
        }
    }
    q.text.clone()
}

fn severity_label(lang: Lang, s: vaxgrid_core::visit::Severity) -> String {
    use vaxgrid_core::visit::Severity::*;
    lang.t(match s {
        Mild => tkey("table-severity-mild"),
        Moderate => tkey("table-severity-moderate"),
        Severe => tkey("table-severity-severe"),
    })
}

/// The product's name, or its code when it cannot be read.
async fn product_name(app: &AppState, code: &str) -> String {
    match app.store.product(code).await {
        Ok(p) => p.name,
        Err(_) => code.to_string(),
    }
}

/// The form as sent, without its CSRF token.
fn sent_form(sent: &[(String, String)]) -> HashMap<String, String> {
    sent.iter()
        .filter(|(k, _)| k != "csrf_token")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the form holds when not typed: the person's document and name
/// (`by`), and station 1.
fn fill_form_defaults(form: &mut HashMap<String, String>, p: &Person) {
    form.entry("document".into())
        .or_insert_with(|| format!("{}:{}", p.id_type.as_str(), p.id_number));
    form.entry("by".into())
        .or_insert_with(|| p.full_name.clone());
    form.entry("station".into()).or_insert_with(|| "1".into());
}

/// The form's client id, or a new one for a form shown the first time.
fn client_id_of(form: &HashMap<String, String>) -> String {
    match form.get("client_id") {
        Some(c) if !c.is_empty() => c.clone(),
        _ => new_client_id(),
    }
}

/// The lots and open vials to dose from, when the dose is the next step.
async fn dose_choices(
    app: &AppState,
    lang: Lang,
    code: &str,
    row: &VisitRow,
    chosen: Option<&str>,
) -> Result<(Vec<LotView>, Vec<super::vials::VialView>), ApiError> {
    let lots = lot_views(app, lang, code, &row.product_code, chosen).await?;
    let vials = super::vials::views(app, code, &row.product_code, lang).await;
    Ok((lots, vials))
}

/// The visit page for what the form sent (kept as typed) and what went wrong.
async fn visit_view(
    app: &AppState,
    ctx: PageCtx,
    code: &str,
    loaded: &Loaded,
    sent: &[(String, String)],
) -> Result<VisitPage, (PageCtx, ApiError)> {
    let lang = ctx.lang;
    let row = &loaded.row;
    let visit = &loaded.visit;
    let product = product_name(app, &row.product_code).await;
    let next = visit.next_step();
    let now = app.store.now_micros();
    let ends = observation_ends_at(visit)
        .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
        .unwrap_or(now);
    let mut form = sent_form(sent);
    let questions = question_views(lang, loaded, &form);
    let (lots, open_vials) = if next == Some(Step::Dose) {
        let chosen = form.get("lot_number").map(String::as_str);
        match dose_choices(app, lang, code, row, chosen).await {
            Ok(choices) => choices,
            Err(e) => return Err((ctx, e)),
        }
    } else {
        (Vec::new(), Vec::new())
    };
    let p = &loaded.person;
    fill_form_defaults(&mut form, p);
    let state = QueueState::of_visit(&row.outcome, row.next_step.as_deref());
    let visit_href = format!("/sites/{code}/table/visits/{}", row.id);
    Ok(VisitPage {
        site_code: code.to_string(),
        action: format!("{visit_href}/events"),
        person_name: p.full_name.clone(),
        person_line: format!(
            "{} {} · {}",
            id_type_label(lang, p.id_type),
            p.id_number,
            lang.date_text(&p.birth_date)
        ),
        product,
        state: lang.t(state.key()),
        state_class: state.class(),
        steps: step_views(lang, visit),
        next: next.map_or("", Step::as_str),
        outcome: outcome_text(lang, &visit.outcome),
        ends_ms: ends / 1000,
        left: super::board::time_left(lang, ends, now),
        questions,
        lots,
        open_vials,
        reports: visit.aefi_reports().map(|r| report_line(lang, r)).collect(),
        report_href: visit
            .dose_at()
            .map(|_| format!("{visit_href}/adverse-event")),
        client_id: client_id_of(&form),
        form,
        errors: HashMap::new(),
        form_error: None,
        may_dose: may(&ctx, Permission::RecordDose),
        ctx,
    })
}

/// The steps of a visit before done: which are done and which is next.
fn step_views(lang: Lang, visit: &Visit) -> Vec<StepView> {
    let next = visit.next_step();
    Step::ALL
        .into_iter()
        .filter(|s| *s != Step::Done)
        .map(|s| StepView {
            label: lang.t(step_key(s)),
            done: match &visit.outcome {
                Outcome::Done => true,
                Outcome::InProgress(n) => s < *n,
                _ => visit.events.iter().any(|e| e.step() == Some(s)),
            },
            current: next == Some(s),
        })
        .collect()
}

/// How the visit ended, when it has.
fn outcome_text(lang: Lang, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::InProgress(_) => None,
        Outcome::Done => Some(lang.t("table-outcome-done")),
        Outcome::Deferred { until, reason } => Some(lang.t2(
            "table-outcome-deferred",
            "date",
            lang.date(*until),
            "reason",
            reason.as_str(),
        )),
        Outcome::Contraindicated { reason } => {
            Some(lang.t1("table-outcome-contraindicated", "reason", reason.as_str()))
        }
        Outcome::Refused { reason } => {
            Some(lang.t1("table-outcome-refused", "reason", reason.as_str()))
        }
        Outcome::NoShow => Some(lang.t("table-state-no-show")),
    }
}

/// The screening questions, with the answers the form sent.
fn question_views(
    lang: Lang,
    loaded: &Loaded,
    form: &HashMap<String, String>,
) -> Vec<QuestionView> {
    let answer = |name: &str| form.get(name).map(String::as_str);
    loaded
        .questions
        .iter()
        .map(|q| {
            let name = format!("q-{}", q.id);
            QuestionView {
                text: question_text(lang, &loaded.questionnaire_version, q),
                yes: answer(&name) == Some("yes"),
                no: answer(&name) == Some("no"),
                name,
            }
        })
        .collect()
}

/// The product's usable lots to give from, the one closest to expiry
/// first (used before it expires) and selected unless the form chose
/// one. At a site with its own store, only the lots in stock there, with
/// the doses on hand; a site without one does not track its stock.
async fn lot_views(
    app: &AppState,
    lang: Lang,
    code: &str,
    product_code: &str,
    chosen: Option<&str>,
) -> Result<Vec<LotView>, ApiError> {
    let lots = app.store.lots(Some(product_code)).await?;
    let stock = app.store.site_stock(code).await?;
    let on_hand = |l: &Lot| {
        stock.as_ref().map(|s| {
            s.get(&(l.product_code.clone(), l.lot_number.clone()))
                .copied()
                .unwrap_or(0)
        })
    };
    let mut list: Vec<LotView> = usable(&lots, product_code)
        .filter(|l| on_hand(l) != Some(0))
        .map(|l| LotView {
            number: l.lot_number.clone(),
            label: match on_hand(l) {
                Some(n) => lang.ta(
                    "table-lot-label-stock",
                    vec![
                        ("lot", l.lot_number.as_str().into()),
                        ("expiry", lang.date_text(&l.expiry).into()),
                        ("doses", crate::i18n::Arg::Number(n as f64)),
                    ],
                ),
                None => lang.t2(
                    "table-lot-label",
                    "lot",
                    l.lot_number.as_str(),
                    "expiry",
                    lang.date_text(&l.expiry),
                ),
            },
            selected: chosen == Some(l.lot_number.as_str()),
        })
        .collect();
    list.sort_by_key(|l| {
        lots.iter()
            .find(|x| x.lot_number == l.number)
            .map(|x| x.expiry.clone())
    });
    if chosen.is_none() {
        if let Some(first) = list.first_mut() {
            first.selected = true;
        }
    }
    Ok(list)
}

/// An adverse event reported at the visit: its severity, whether
/// serious, and its symptoms.
fn report_line(lang: Lang, r: &vaxgrid_core::visit::AefiReport) -> String {
    let mut line = severity_label(lang, r.severity);
    if r.serious {
        line = format!("{line} · {}", lang.t("table-report-serious"));
    }
    if !r.symptoms.is_empty() {
        let names: Vec<String> = r
            .symptoms
            .iter()
            .map(|s| match super::board::SYMPTOMS.contains(&s.as_str()) {
                true => lang.t(&format!("table-symptom-{}", symptom_suffix(s))),
                false => s.clone(),
            })
            .collect();
        line = format!("{line} · {}", names.join(", "));
    }
    line
}

/// The Fluent key suffix of a symptom code.
fn symptom_suffix(code: &str) -> &'static str {
    match code {
        "injection_site_reaction" => "injection-site",
        "fever" => "fever",
        "headache" => "headache",
        "dizziness" => "dizziness",
        "syncope" => "syncope",
        "rash" => "rash",
        "vomiting" => "vomiting",
        "difficulty_breathing" => "breathing",
        _ => "anaphylaxis",
    }
}

/// `GET /sites/{code}/table/visits/{id}`: the visit and the form of its next step.
#[utoipa::path(
    get,
    path = "/sites/{code}/table/visits/{id}",
    summary = "A visit at the vaccination table (HTML): the person, the steps done, and the form of the next one — check-in with temperature, identity document, the product's screening questionnaire, consent (or refusal), the dose with a lot usable at the site today, the observation's countdown and its end — and the adverse events reported; 404 for a visit not of this site or outside the caller's areas",
    params(("code" = String, Path, description = "site code"), ("id" = String, Path, description = "visit UUID")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn visit_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((code, id)): Path<(String, String)>,
) -> Response {
    let loaded = match load_visit(&app, &caller, &code, &id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    match visit_view(&app, ctx, &code, &loaded, &[]).await {
        Ok(page) => render(&page),
        Err((ctx, e)) => error_page(&ctx, e),
    }
}

/// The event body a step's form stands for, as the API takes it.
fn event_body(f: &[(String, String)], loaded: &Loaded) -> Value {
    let kind = field(f, "kind");
    let text = |name: &str| Value::String(field(f, name));
    let mut body = match kind.as_str() {
        "check_in" => {
            // A decimal comma is how Vietnamese write 36,6.
            let typed = field(f, "temperature_c").replace(',', ".");
            let temperature = typed
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::String(typed), Value::Number);
            json!({"kind": "check_in", "temperature_c": temperature})
        }
        "identity_check" => json!({"kind": "identity_check", "document": text("document")}),
        "screening" => {
            let answers: Vec<Value> = loaded
                .questions
                .iter()
                .filter_map(|q| match field(f, &format!("q-{}", q.id)).as_str() {
                    "yes" => Some(json!({"question_id": q.id, "yes": true})),
                    "no" => Some(json!({"question_id": q.id, "yes": false})),
                    _ => None,
                })
                .collect();
            json!({"kind": "screening", "questionnaire_version": loaded.questionnaire_version, "answers": answers})
        }
        "consent" => json!({"kind": "consent", "by": text("by"),
                            "consent_text_version": CONSENT_TEXT_VERSION,
                            "for_person_id": loaded.row.person_id}),
        "refuse" => {
            let reason = match field(f, "reason") {
                r if r.is_empty() => "declined at the vaccination table".to_string(),
                r => r,
            };
            json!({"kind": "end", "ending": "refused", "reason": reason})
        }
        "dose" => {
            json!({"kind": "dose", "lot_number": text("lot_number"), "station": text("station")})
        }
        "observation_end" => json!({"kind": "observation_end"}),
        "adverse_event" => {
            let mut symptoms: Vec<Value> = f
                .iter()
                .filter(|(k, v)| k == "symptoms" && super::board::SYMPTOMS.contains(&v.as_str()))
                .map(|(_, v)| Value::String(v.clone()))
                .collect();
            let other = field(f, "other_symptom");
            if !other.is_empty() {
                symptoms.push(Value::String(other));
            }
            let mut body = json!({"kind": "adverse_event", "severity": text("severity"),
                   "serious": field(f, "serious") == "true", "symptoms": symptoms});
            // Left as chosen: an unknown outcome or no treatment is the
            // API's default, and a bad one is refused there by field.
            for key in ["outcome", "treatment"] {
                let v = field(f, key);
                if !v.is_empty() {
                    body[key] = Value::String(v);
                }
            }
            body
        }
        other => json!({"kind": other}),
    };
    let client_id = field(f, "client_id");
    if !client_id.is_empty() {
        body["client_id"] = Value::String(client_id);
    }
    body
}

/// Where a refusal of an event shows: the form's field, or above the form;
/// and its message in the reader's language.
fn event_refusal(lang: Lang, e: &StoreError) -> (Option<&'static str>, String) {
    use DoseRuleError as R;
    if let StoreError::DoseRule(rule) = e {
        return match rule {
            R::LotProductMismatch { .. } => (Some("lot_number"), lang.t("table-err-lot-product")),
            R::LotExpired { .. } => (Some("lot_number"), lang.t("table-err-lot-expired")),
            R::LotNotReleased { .. } => (Some("lot_number"), lang.t("table-err-lot-released")),
            R::IntervalTooShort { .. } => (None, lang.t("table-err-interval")),
            R::TooYoung { .. } => (None, lang.t("table-err-too-young")),
            _ => (None, lang.t("table-err-dose-rule")),
        };
    }
    let field = match e {
        StoreError::Invalid { field, .. } => field.as_str(),
        StoreError::NotFound { field, .. } => field,
        StoreError::Conflict { .. } => return (None, lang.t("table-err-changed")),
        StoreError::Forbidden { .. } => return (None, lang.t("table-err-vaccinator")),
        _ => return (None, lang.t("table-err-form")),
    };
    let at = |f: &'static str, key: &'static str| (Some(f), lang.t(key));
    match field {
        "temperature_c" => at("temperature_c", tkey("table-err-temperature")),
        "document" => at("document", tkey("table-err-document")),
        f if f == "answers" || f.starts_with("answers[") => {
            at("answers", tkey("table-err-answers"))
        }
        "by" => at("by", tkey("table-err-by")),
        "lot" | "lot_number" => at("lot_number", tkey("table-err-lot")),
        "station" => at("station", tkey("table-err-station")),
        "severity" => at("severity", tkey("table-err-severity")),
        "symptoms" => at("symptoms", tkey("table-err-symptoms")),
        "outcome" => at("outcome", tkey("table-err-aefi-outcome")),
        "treatment" => at("treatment", tkey("table-err-treatment")),
        "serious" => at("serious", tkey("table-err-serious")),
        "vaccinator" => (None, lang.t("table-err-vaccinator")),
        "step" => (None, lang.t("table-err-step")),
        "at" => (None, lang.t("table-err-not-yet")),
        "onset" => (None, lang.t("table-err-onset")),
        "reason" => at("reason", tkey("table-err-reason")),
        _ => (None, lang.t("table-err-form")),
    }
}

/// `POST /sites/{code}/table/visits/{id}/events`: a step's form.
#[utoipa::path(
    post,
    path = "/sites/{code}/table/visits/{id}/events",
    summary = "Record a step of a visit from its form (form: csrf_token, client_id, kind = check_in {temperature_c} | identity_check {document} | screening {q-<question id> = yes|no} | consent {by} | refuse {reason?} | dose {lot_number, station} | observation_end | adverse_event {severity, serious, outcome?, treatment?, symptoms (the button pressed), other_symptom?}; back = board to return to the observation board) through the API's event function: the same rules, and the client id makes a second submit record nothing more; 303 to the visit (or the board), or the form again with the error next to its field",
    params(("code" = String, Path, description = "site code"), ("id" = String, Path, description = "visit UUID")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "recorded: the visit's page, or the board"),
        (status = 400, description = "the form again with the error", content_type = "text/html"),
        (status = 403, description = "the form again: the caller may not give doses (or their certificate is not current)", content_type = "text/html"),
        (status = 404, description = "the error page: a visit not of this site or outside the caller's areas", content_type = "text/html"),
        (status = 409, description = "the form again: the visit changed meanwhile", content_type = "text/html"),
        (status = 422, description = "the form again, the error next to its field (a step out of order above the form)", content_type = "text/html"),
        (status = 503, description = "the error page: the dose writer is busy; send again", content_type = "text/html"),
    )
)]
pub async fn event_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((code, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let loaded = match load_visit(&app, &caller, &code, &id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let f = form_fields(&body);
    let back = if field(&f, "back") == "board" {
        format!("/sites/{code}/board")
    } else {
        format!("/sites/{code}/table/visits/{}", loaded.row.id)
    };
    let event = event_body(&f, &loaded);
    let recorded = async {
        let by = crate::api::visits::event_by(&app, &caller).await?;
        vaxgrid_store::visits::record_event(&app.store, &app.writer, &loaded.row.id, event, &by)
            .await
            .map_err(ApiError::Store)
    }
    .await;
    let e = match recorded {
        Ok(_) => return see_other(&back),
        Err(ApiError::Store(e)) => e,
        Err(other) => return error_page(&ctx, other),
    };
    if e.is_unavailable() || matches!(e, StoreError::Busy | StoreError::WriterStopped) {
        return error_page(&ctx, ApiError::Store(e));
    }
    let lang = ctx.lang;
    let (at, message) = event_refusal(lang, &e);
    let status = match &e {
        StoreError::Forbidden { .. } => StatusCode::FORBIDDEN,
        StoreError::Conflict { .. } => StatusCode::CONFLICT,
        StoreError::Invalid { .. } | StoreError::NotFound { .. } | StoreError::DoseRule(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => return error_page(&ctx, ApiError::Store(e)),
    };
    if field(&f, "kind") == "adverse_event" {
        let back = if field(&f, "back") == "board" {
            "board"
        } else {
            "visit"
        };
        let mut page = super::board::report_form(ctx, &loaded, &code, &f, back);
        match at {
            Some(field) => {
                page.errors.insert(field.to_string(), message);
            }
            None => page.form_error = Some(message),
        }
        return render_status(status, &page);
    }
    // The form again, on the visit as it stands now.
    let loaded = match load_visit(&app, &caller, &code, &id).await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, e),
    };
    let mut page = match visit_view(&app, ctx, &code, &loaded, &f).await {
        Ok(p) => p,
        Err((ctx, e)) => return error_page(&ctx, e),
    };
    match at {
        Some(field) => {
            page.errors.insert(field.to_string(), message);
        }
        None => page.form_error = Some(message),
    }
    render_status(status, &page)
}
