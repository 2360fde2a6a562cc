//! The registry: search, a person's record, corrections and duplicate review.
//!
//! Every page reads through the same store calls as the API (the search
//! through `api::persons::find`, the record through `read_person`, which
//! audits the read and answers a person outside the caller's areas as
//! absent: a 404 page here, as the API's 404).

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use axum::Extension;
use vaxgrid_core::access::{permits, Permission, Role};
use vaxgrid_core::identity::{IdType, Sex};
use vaxgrid_store::doses::History;
use vaxgrid_store::model::{Actor, DoseKind, Person};
use vaxgrid_store::persons::PersonQuery;

use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

use super::{error_page, render, PageCtx};

mod duplicates;

/// Persons per page of search results.
const PAGE_SIZE: usize = 20;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use Permission::*;
    vec![
        r(
            Method::GET,
            "/registry",
            Policy::Needs(ReadRegistry),
            get(search_page),
        ),
        r(
            Method::GET,
            "/registry/persons/{id}",
            Policy::Needs(ReadRegistry),
            get(person_page),
        ),
        r(
            Method::GET,
            "/registry/persons/{id}/doses/{dose}/correct",
            Policy::Needs(CorrectDose),
            get(correct_page),
        ),
        r(
            Method::POST,
            "/registry/persons/{id}/doses/{dose}/correct",
            Policy::Needs(CorrectDose),
            axum::routing::post(correct_submit),
        ),
        r(
            Method::GET,
            "/registry/duplicates",
            Policy::Needs(ManageRegistry),
            get(duplicates::list_page),
        ),
        r(
            Method::POST,
            "/registry/duplicates/find",
            Policy::Needs(ManageRegistry),
            axum::routing::post(duplicates::find_submit),
        ),
        r(
            Method::GET,
            "/registry/duplicates/{survivor}/{duplicate}",
            Policy::Needs(ManageRegistry),
            get(duplicates::pair),
        ),
        r(
            Method::POST,
            "/registry/duplicates/{survivor}/{duplicate}/merge",
            Policy::Needs(ManageRegistry),
            axum::routing::post(duplicates::merge_submit),
        ),
        r(
            Method::POST,
            "/registry/duplicates/{survivor}/{duplicate}/dismiss",
            Policy::Needs(ManageRegistry),
            axum::routing::post(duplicates::dismiss_submit),
        ),
    ]
}

/// Whether the caller holds a role that may do `permission` somewhere.
fn may(ctx: &PageCtx, permission: Permission) -> bool {
    ctx.roles.iter().any(|r| permits(*r, permission))
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    let registry_staff = ctx.roles.iter().any(|r| {
        matches!(
            r,
            Role::Admin
                | Role::Planner
                | Role::Registrar
                | Role::StatisticsOfficer
                | Role::Vaccinator
        )
    });
    let mut items = Vec::new();
    if registry_staff {
        items.push(("/registry".to_string(), tkey("registry-nav")));
    }
    if may(ctx, Permission::ManageRegistry) {
        items.push(("/registry/duplicates".to_string(), tkey("registry-dup-nav")));
    }
    items
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    search_page,
    person_page,
    correct_page,
    correct_submit,
    duplicates::list_page,
    duplicates::find_submit,
    duplicates::pair,
    duplicates::merge_submit,
    duplicates::dismiss_submit
))]
pub struct Pages;

/// The fields of a query string, leniently: a page never fails on an
/// unknown or repeated parameter, it ignores it.
fn query_fields(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(raw) = raw {
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
    }
    out
}

/// A text field: trimmed, absent when empty.
fn given(fields: &HashMap<String, String>, name: &str) -> Option<String> {
    fields
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn id_type_label(lang: Lang, t: IdType) -> String {
    lang.t(match t {
        IdType::Cccd => tkey("registry-id-cccd"),
        IdType::Cmnd => tkey("registry-id-cmnd"),
        IdType::CnResident => tkey("registry-id-cn-resident"),
        IdType::Passport => tkey("registry-id-passport"),
        IdType::None => tkey("registry-id-none"),
    })
}

fn sex_label(lang: Lang, s: Sex) -> String {
    lang.t(match s {
        Sex::Male => tkey("registry-sex-male"),
        Sex::Female => tkey("registry-sex-female"),
        Sex::Other => tkey("registry-sex-other"),
    })
}

/// Names of areas by code, read once per code for a page.
struct AreaNames<'a> {
    app: &'a AppState,
    known: HashMap<String, String>,
}

impl<'a> AreaNames<'a> {
    fn new(app: &'a AppState) -> Self {
        AreaNames {
            app,
            known: HashMap::new(),
        }
    }

    async fn name(&mut self, code: &str) -> String {
        if let Some(n) = self.known.get(code) {
            return n.clone();
        }
        let name = match self.app.store.area(code).await {
            Ok(a) => a.name,
            Err(_) => code.to_string(),
        };
        self.known.insert(code.to_string(), name.clone());
        name
    }
}

struct PersonRow {
    pub href: String,
    pub name: String,
    pub id_number: String,
    pub birth: String,
    pub area: String,
}

#[derive(Template)]
#[template(path = "registry/search.html")]
struct SearchPage {
    ctx: PageCtx,
    id_number: String,
    phone: String,
    name: String,
    searched: bool,
    form_error: Option<String>,
    name_error: Option<String>,
    rows: Vec<PersonRow>,
    next: Option<String>,
    first: Option<String>,
}

/// `GET /registry`: find persons by ID number, phone or name (with or
/// without diacritics), a page of results at a time.
#[utoipa::path(
    get,
    path = "/registry",
    summary = "Registry search page (HTML): persons by ID number, phone or name (with or without diacritics) within the caller's areas, a page at a time (after = the last person of the previous page)",
    params(
        ("id_number" = Option<String>, Query, description = "ID number"),
        ("phone" = Option<String>, Query, description = "phone"),
        ("name" = Option<String>, Query, description = "name or its start, any word"),
        ("after" = Option<String>, Query, description = "the last person id of the previous page"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn search_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let fields = query_fields(raw.as_deref());
    let mut page = SearchPage {
        id_number: fields.get("id_number").cloned().unwrap_or_default(),
        phone: fields.get("phone").cloned().unwrap_or_default(),
        name: fields.get("name").cloned().unwrap_or_default(),
        searched: false,
        form_error: None,
        name_error: None,
        rows: Vec::new(),
        next: None,
        first: None,
        ctx,
    };
    let (id_number, phone, name) = (
        given(&fields, "id_number"),
        given(&fields, "phone"),
        given(&fields, "name"),
    );
    if id_number.is_none() && phone.is_none() && name.is_none() {
        return render(&page);
    }
    page.searched = true;
    let actor = match caller.actor(&app, Permission::ReadRegistry).await {
        Ok(a) => a,
        Err(e) => return error_page(&page.ctx, e),
    };
    let after = given(&fields, "after");
    let query = PersonQuery {
        id_number,
        phone,
        name,
        area: None,
        scope: actor.scope,
        ..Default::default()
    };
    let found = match crate::api::persons::find(&app, &query, after.as_deref(), PAGE_SIZE).await {
        Ok(found) => found,
        Err(ApiError::BadRequest { field, .. }) if field == "name" => {
            page.name_error = Some(page.ctx.t("registry-error-name-letters"));
            return render(&page);
        }
        Err(e) => return error_page(&page.ctx, e),
    };
    let mut areas = AreaNames::new(&app);
    for p in found.items {
        page.rows
            .push(person_row(page.ctx.lang, &mut areas, p).await);
    }
    let link = |after: Option<&str>| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for key in ["id_number", "phone", "name"] {
            if let Some(v) = given(&fields, key) {
                q.append_pair(key, &v);
            }
        }
        if let Some(a) = after {
            q.append_pair("after", a);
        }
        format!("/registry?{}", q.finish())
    };
    page.next = found.next_cursor.as_deref().map(|c| link(Some(c)));
    page.first = after.is_some().then(|| link(None));
    if page.rows.is_empty() && after.is_none() {
        page.form_error = Some(page.ctx.t("registry-search-none"));
    }
    render(&page)
}

async fn person_row(lang: Lang, areas: &mut AreaNames<'_>, p: Person) -> PersonRow {
    PersonRow {
        href: format!("/registry/persons/{}", p.id),
        birth: lang.date_text(&p.birth_date),
        area: areas.name(&p.home_area).await,
        name: p.full_name,
        id_number: p.id_number,
    }
}

/// A dose of the record, as the table shows it.
struct DoseRow {
    pub id: String,
    pub date: String,
    pub product: String,
    pub lot: String,
    pub site: String,
    pub number: i64,
    pub historical: bool,
    /// Entered in error: the reason, who said so, and when.
    pub voided: Option<String>,
}

/// The doses of a history (entered-in-error records are not rows of their
/// own: they mark the dose they void).
fn dose_rows(lang: Lang, records: &[vaxgrid_store::model::DoseRecord]) -> Vec<DoseRow> {
    let voids: HashMap<&str, &vaxgrid_store::model::DoseRecord> = records
        .iter()
        .filter(|r| r.kind == DoseKind::EnteredInError)
        .filter_map(|r| r.corrects_id.as_deref().map(|c| (c, r)))
        .collect();
    let mut rows: Vec<DoseRow> = records
        .iter()
        .filter(|r| r.kind.is_dose())
        .map(|r| DoseRow {
            id: r.id.clone(),
            date: lang.date_text(&r.administered_on),
            product: r.product_code.clone(),
            lot: r.lot_number.clone(),
            site: r.site_code.clone(),
            number: r.dose_number,
            historical: r.kind == DoseKind::Historical,
            voided: voids.get(r.id.as_str()).map(|v| {
                lang.ta(
                    "registry-dose-voided",
                    vec![
                        ("reason", v.reason.clone().unwrap_or_default().into()),
                        ("author", v.author.clone().unwrap_or_default().into()),
                        ("date", lang.date_text(&v.recorded_at).into()),
                    ],
                )
            }),
        })
        .collect();
    let order: HashMap<&str, (String, String)> = records
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                (r.administered_on.clone(), r.recorded_at.clone()),
            )
        })
        .collect();
    rows.sort_by(|a, b| order.get(a.id.as_str()).cmp(&order.get(b.id.as_str())));
    rows
}

struct CertificateRow {
    uvci: String,
    issued: String,
    revoked: bool,
}

struct AppointmentRow {
    when: String,
    site: String,
    status: String,
}

#[derive(Template)]
#[template(path = "registry/person.html")]
struct PersonPage {
    ctx: PageCtx,
    v: PersonView,
}

struct PersonView {
    p: Person,
    id_type: String,
    sex: String,
    birth: String,
    area: String,
    groups: String,
    merged_into: Option<String>,
    doses: Vec<DoseRow>,
    summary: String,
    next_due: Option<String>,
    certificates: Vec<CertificateRow>,
    appointments: Vec<AppointmentRow>,
    duplicates: Vec<PersonRow>,
    may_correct: bool,
}

/// `GET /registry/persons/{id}`: a person's record.
#[utoipa::path(
    get,
    path = "/registry/persons/{id}",
    summary = "A person's record page (HTML): details, doses (with corrections), appointments, certificates, possible duplicates; 404 page for a person outside the caller's areas",
    params(("id" = String, Path, description = "person UUID")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such person in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn person_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Response {
    match person_parts(&app, &caller, &ctx, &id).await {
        Ok(v) => render(&PersonPage { ctx, v }),
        Err(e) => error_page(&ctx, e),
    }
}

/// A person id from a path: not a UUID is the same 404 as an absent one.
fn person_id(id: &str) -> Result<String, ApiError> {
    crate::extract::uuid_field("id", id).map_err(|_| ApiError::Absent {
        entity: "person",
        key: id.to_string(),
    })
}

/// The person's certificates, newest first.
async fn certificate_rows(
    app: &AppState,
    lang: Lang,
    person_id: &str,
) -> Result<Vec<CertificateRow>, ApiError> {
    Ok(app
        .store
        .person_certificates(person_id)
        .await?
        .into_iter()
        .rev()
        .map(|c| CertificateRow {
            uvci: c.uvci,
            issued: lang.date_text(&vaxgrid_store::format_instant(c.issued_at_micros)),
            revoked: c.revoked,
        })
        .collect())
}

/// The person's appointments with their status in words.
async fn appointment_rows(
    app: &AppState,
    lang: Lang,
    id: &str,
) -> Result<Vec<AppointmentRow>, ApiError> {
    Ok(app
        .store
        .appointments_of(id)
        .await?
        .into_iter()
        .map(|a| AppointmentRow {
            when: lang.date_text(&a.appointment.starts_at),
            site: a.site_name,
            status: lang.t(match a.appointment.status.as_str() {
                "booked" => tkey("registry-appt-booked"),
                "cancelled" => tkey("registry-appt-cancelled"),
                "no_show" => tkey("registry-appt-no-show"),
                "rescheduled" => tkey("registry-appt-rescheduled"),
                _ => tkey("registry-appt-other"),
            }),
        })
        .collect())
}

/// The possible duplicates of a record not merged away, those in the
/// caller's areas only.
async fn duplicate_rows(
    app: &AppState,
    lang: Lang,
    areas: &mut AreaNames<'_>,
    p: &Person,
    actor: &Actor,
) -> Result<Vec<PersonRow>, ApiError> {
    let mut duplicates = Vec::new();
    if p.merged_into.is_none() {
        for other in app.store.possible_duplicates(p).await? {
            if let Ok(o) = app.store.person_in(&other, &actor.scope).await {
                duplicates.push(person_row(lang, areas, o).await);
            }
        }
    }
    Ok(duplicates)
}

/// The valid doses counted, and whether they complete the series.
fn dose_summary(lang: Lang, history: &History) -> String {
    let key = if history.series_complete {
        tkey("registry-summary-complete")
    } else {
        tkey("registry-summary-doses")
    };
    lang.t1(key, "count", history.valid_doses as i64)
}

/// Priority groups once each, in order.
fn group_list(groups: &[String]) -> String {
    let groups: HashSet<&str> = groups.iter().map(String::as_str).collect();
    let mut groups: Vec<&str> = groups.into_iter().collect();
    groups.sort_unstable();
    groups.join(", ")
}

/// Reads a person's record with its history, certificates, appointments
/// and possible duplicates (ReadRegistry; 404 outside the caller's areas).
async fn person_parts(
    app: &AppState,
    caller: &Caller,
    ctx: &PageCtx,
    id: &str,
) -> Result<PersonView, ApiError> {
    let id = person_id(id)?;
    let actor = caller.actor(app, Permission::ReadRegistry).await?;
    let p = app
        .store
        .read_person(&id, &actor)
        .await
        .map_err(ApiError::lookup)?;
    let lang = ctx.lang;
    let history = app.store.history(&id).await.map_err(ApiError::lookup)?;
    let certificates = certificate_rows(app, lang, &history.person_id).await?;
    let appointments = appointment_rows(app, lang, &id).await?;
    let mut areas = AreaNames::new(app);
    let duplicates = duplicate_rows(app, lang, &mut areas, &p, &actor).await?;
    Ok(PersonView {
        id_type: id_type_label(lang, p.id_type),
        sex: sex_label(lang, p.sex),
        birth: lang.date_text(&p.birth_date),
        area: areas.name(&p.home_area).await,
        groups: group_list(&p.priority_groups),
        merged_into: p
            .merged_into
            .as_ref()
            .map(|m| format!("/registry/persons/{m}")),
        doses: dose_rows(lang, &history.records),
        summary: dose_summary(lang, &history),
        next_due: history.next_dose_due.as_deref().map(|d| lang.date_text(d)),
        certificates,
        appointments,
        duplicates,
        may_correct: may(ctx, Permission::CorrectDose),
        p,
    })
}

/// What the correction form holds (kept as typed when it comes back).
#[derive(Default, Clone)]
struct CorrectionForm {
    correction_id: String,
    dose_id: String,
    reason: String,
    product_code: String,
    lot_number: String,
    site_code: String,
    administered_on: String,
    reissue: bool,
}

#[derive(Template)]
#[template(path = "registry/correct.html")]
struct CorrectPage {
    ctx: PageCtx,
    person_name: String,
    person_href: String,
    action: String,
    dose: DoseRow,
    form: CorrectionForm,
    errors: HashMap<String, String>,
    form_error: Option<String>,
}

impl CorrectPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The dose to correct: in the caller's areas, of this person (or of a
/// record merged into them), not already entered in error (unless
/// `voided_too`: the form coming back after its correction was recorded
/// and the replacement refused, to be sent again with the same ids).
async fn dose_to_correct(
    app: &AppState,
    caller: &Caller,
    ctx: &PageCtx,
    id: &str,
    dose: &str,
    voided_too: bool,
) -> Result<(Person, DoseRow), ApiError> {
    let id = person_id(id)?;
    let absent = || ApiError::Absent {
        entity: "dose",
        key: dose.to_string(),
    };
    let dose = crate::extract::uuid_field("dose", dose).map_err(|_| absent())?;
    let actor = caller.actor(app, Permission::CorrectDose).await?;
    let person = app
        .store
        .person_in(&id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let history = app.store.history(&id).await.map_err(ApiError::lookup)?;
    let row = dose_rows(ctx.lang, &history.records)
        .into_iter()
        .find(|r| r.id == dose && (voided_too || r.voided.is_none()))
        .ok_or_else(absent)?;
    Ok((person, row))
}

/// `GET /registry/persons/{id}/doses/{dose}/correct`: the correction form.
#[utoipa::path(
    get,
    path = "/registry/persons/{id}/doses/{dose}/correct",
    summary = "Correct-a-dose form (HTML): mark the dose entered in error with a reason, optionally record the replacement dose and re-issue the certificate; 404 page for a dose outside the caller's areas",
    params(("id" = String, Path, description = "person UUID"), ("dose" = String, Path, description = "dose UUID")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn correct_page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((id, dose)): Path<(String, String)>,
) -> Response {
    let (person, row) = match dose_to_correct(&app, &caller, &ctx, &id, &dose, false).await {
        Ok(found) => found,
        Err(e) => return error_page(&ctx, e),
    };
    let form = CorrectionForm {
        correction_id: uuid::Uuid::now_v7().to_string(),
        dose_id: uuid::Uuid::now_v7().to_string(),
        product_code: row.product.clone(),
        site_code: row.site.clone(),
        reissue: true,
        ..Default::default()
    };
    render(&CorrectPage {
        action: format!("/registry/persons/{}/doses/{}/correct", person.id, row.id),
        person_href: format!("/registry/persons/{}", person.id),
        person_name: person.full_name,
        dose: row,
        form,
        errors: HashMap::new(),
        form_error: None,
        ctx,
    })
}

/// The field a refusal is about, as the form names it.
fn field_of(e: &ApiError) -> Option<String> {
    use vaxgrid_store::StoreError as S;
    let field = match e {
        ApiError::Invalid(errors) => errors.first().map(|f| f.field.clone())?,
        ApiError::BadRequest { field, .. } => field.clone(),
        ApiError::Store(S::DoseRule(r)) => r.field().to_string(),
        ApiError::Store(S::Invalid { field, .. }) => field.clone(),
        ApiError::Store(S::NotFound { field, .. }) => field.to_string(),
        ApiError::Store(S::Conflict { field, .. }) => field.to_string(),
        _ => return None,
    };
    Some(match field.as_str() {
        "lot" | "lot_number" => "lot_number".to_string(),
        "product_code" | "product" => "product_code".to_string(),
        "site_code" | "site" => "site_code".to_string(),
        "administered_on" | "dose_number" | "override_reason" => "administered_on".to_string(),
        "reason" | "author" => "reason".to_string(),
        _ => return None,
    })
}

/// The sentence shown next to a field, in the reader's language.
fn field_message(lang: Lang, field: &str, e: &ApiError) -> String {
    use vaxgrid_core::dose::DoseRuleError as R;
    if let ApiError::Store(vaxgrid_store::StoreError::DoseRule(rule)) = e {
        return lang.t(match rule {
            R::LotProductMismatch { .. } => tkey("registry-error-lot-product"),
            R::LotExpired { .. } => tkey("registry-error-lot-expired"),
            R::LotNotReleased { .. } => tkey("registry-error-lot-released"),
            R::DateInFuture { .. } => tkey("registry-error-date-future"),
            R::DateBeforeBirth { .. } => tkey("registry-error-date-birth"),
            R::IntervalTooShort { .. } => tkey("registry-error-interval"),
            R::TooYoung { .. } => tkey("registry-error-too-young"),
            _ => tkey("registry-error-date"),
        });
    }
    lang.t(match field {
        "reason" => tkey("registry-error-reason"),
        "product_code" => tkey("registry-error-product"),
        "lot_number" => tkey("registry-error-lot"),
        "site_code" => tkey("registry-error-site"),
        _ => tkey("registry-error-date"),
    })
}

/// `POST …/correct`: the dose is entered in error (a new record through
/// the dose writer, as `POST /api/v1/doses/{id}/entered-in-error`), the
/// replacement dose recorded (as `POST /api/v1/doses`), the certificate
/// re-issued (as `POST /api/v1/persons/{id}/certificate`). The form's
/// client ids make a second submit record nothing more.
#[utoipa::path(
    post,
    path = "/registry/persons/{id}/doses/{dose}/correct",
    summary = "Correct a dose (form: csrf_token, correction_id, dose_id, reason, product_code, lot_number, site_code, administered_on, reissue): entered in error, the replacement dose, the certificate re-issued; the form again with errors next to the fields, or 303 to the record",
    params(("id" = String, Path, description = "person UUID"), ("dose" = String, Path, description = "dose UUID")),
    responses(
        (status = 303, description = "corrected: to the person's record"),
        (status = 422, description = "the form again, errors next to the fields", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
    )
)]
pub async fn correct_submit(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path((id, dose)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields: HashMap<String, String> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let text = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let form = CorrectionForm {
        correction_id: text("correction_id"),
        dose_id: text("dose_id"),
        reason: text("reason"),
        product_code: text("product_code"),
        lot_number: text("lot_number"),
        site_code: text("site_code"),
        administered_on: text("administered_on"),
        reissue: fields.contains_key("reissue"),
    };
    // A dose already entered in error by this same form (a double
    // submit) is still found through its person's record.
    let person = match person_id(&id) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let record = format!("/registry/persons/{person}");
    let outcome = correct(&app, &caller, &person, &dose, &form).await;
    match outcome {
        Ok(()) => (
            axum::http::StatusCode::SEE_OTHER,
            [(axum::http::header::LOCATION, record)],
        )
            .into_response(),
        Err(e) => {
            let Some(field) = field_of(&e) else {
                return error_page(&ctx, e);
            };
            let (p, row) = match dose_to_correct(&app, &caller, &ctx, &person, &dose, true).await {
                Ok(found) => found,
                Err(e2) => return error_page(&ctx, e2),
            };
            let mut errors = HashMap::new();
            errors.insert(field.clone(), field_message(ctx.lang, &field, &e));
            let page = CorrectPage {
                action: format!("/registry/persons/{}/doses/{}/correct", p.id, row.id),
                person_href: record,
                person_name: p.full_name,
                dose: row,
                form,
                errors,
                form_error: Some(ctx.t("registry-form-has-errors")),
                ctx,
            };
            super::render_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

use axum::response::IntoResponse;

async fn correct(
    app: &AppState,
    caller: &Caller,
    person: &str,
    dose: &str,
    form: &CorrectionForm,
) -> Result<(), ApiError> {
    use vaxgrid_store::doses::WriteCommand;
    let by = caller.actor(app, Permission::CorrectDose).await?;
    let correction = crate::api::doses::correction_request(
        dose,
        crate::api::doses::CorrectionBody {
            id: form.correction_id.clone(),
            reason: form.reason.clone(),
            author: caller.name(),
        },
        by,
    )?;
    let replacement = !(form.lot_number.is_empty() && form.administered_on.is_empty());
    let dose_request = if replacement {
        let by = caller.actor(app, Permission::RecordDose).await?;
        let mut request = crate::api::doses::dose_request(
            crate::api::doses::DoseBody {
                id: form.dose_id.clone(),
                person_id: person.to_string(),
                product_code: form.product_code.clone(),
                lot_number: Some(form.lot_number.clone()),
                site_code: Some(form.site_code.clone()),
                administered_on: form.administered_on.clone(),
                dose_number: None,
                vaccinator: None,
                override_reason: None,
                historical: false,
            },
            by,
        )?;
        crate::api::training::sign_dose(&mut request, caller)?;
        Some(request)
    } else {
        None
    };
    // The dose must be this person's, in the caller's areas; a second
    // submit of the same form finds it already voided by this correction.
    let target = app
        .store
        .dose_in(&correction.target_id, &correction.by.scope)
        .await
        .map_err(ApiError::lookup)?;
    let history = app.store.history(person).await.map_err(ApiError::lookup)?;
    if history.person_id
        != app
            .store
            .person(&target.person_id)
            .await
            .map(|p| p.merged_into.unwrap_or(p.id))?
    {
        return Err(ApiError::Absent {
            entity: "dose",
            key: dose.to_string(),
        });
    }
    app.writer
        .submit(WriteCommand::EnteredInError(correction))
        .await?;
    if let Some(request) = dose_request {
        app.writer.submit(WriteCommand::Dose(request)).await?;
    }
    if form.reissue && app.dcc.is_some() {
        let actor = caller.actor(app, Permission::IssueCertificate).await?;
        match crate::api::certificates::issue_certificate(app, person, &actor).await {
            Ok(_) => {}
            // No valid dose left to certify: the record says so.
            Err(ApiError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::group_list;

    #[test]
    fn priority_groups_are_listed_once_each_in_order() {
        let groups = ["elderly", "health_worker", "elderly"].map(String::from);
        assert_eq!(group_list(&groups), "elderly, health_worker");
        assert_eq!(group_list(&[]), "");
    }
}
