//! Site planning pages: the sites of the caller's areas; a site's
//! functional zones (editable), its sessions and their slots (a form opens
//! a session), and its staff with their vaccination certificate: who is
//! certified and who is not yet. The forms share the API's checks
//! (`api::scheduling::new_session`, `zones_from`, and the store's rules).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::site::ZoneKind;
use vaxgrid_store::lists::SessionFilter;
use vaxgrid_store::paging::PageRequest;
use vaxgrid_store::StoreError;

use super::super::{error_page, render_status, PageCtx};
use super::planning::{already_recorded, field_message, field_of, form_pairs, one};
use crate::api::scheduling::{new_session, zones_from, SessionBody, ZoneBody, ZonesBody};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::web::see_other;
use crate::web::urlencode as urlencoding;
use crate::AppState;

/// Rows of the zone form: the six kinds of zone fit.
const ZONE_ROWS: usize = 6;

struct SiteLine {
    href: String,
    code: String,
    name: String,
    kind: String,
    area: String,
    stations: String,
    capacity: String,
}

#[derive(Template)]
#[template(path = "planner/sites.html")]
struct SitesPage {
    ctx: PageCtx,
    sites: Vec<SiteLine>,
    next: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitesQuery {
    after: Option<String>,
}

fn kind_name(lang: Lang, kind: &str) -> String {
    let key = format!("planner-site-kind-{kind}");
    let t = lang.t(&key);
    if t == key {
        kind.to_string()
    } else {
        t
    }
}

fn zone_name(lang: Lang, kind: &str) -> String {
    let key = format!("planner-zone-{kind}");
    let t = lang.t(&key);
    if t == key {
        kind.to_string()
    } else {
        t
    }
}

/// `GET /planner/sites`: the sites in the caller's areas, by code, a page
/// of 100 at a time.
#[utoipa::path(
    get,
    path = "/planner/sites",
    summary = "Sites of the caller's areas (HTML), by code, 100 a page (after: the cursor of the next page)",
    params(("after" = Option<String>, Query, description = "cursor of the next page")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad cursor", content_type = "text/html"),
        (status = 422, description = "the error page: a cursor that names no site", content_type = "text/html"),
    )
)]
pub async fn sites(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    query: Result<crate::extract::ApiQuery<SitesQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(crate::extract::ApiQuery(q)) => q,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let read = async {
        let actor = caller.actor(&app, Permission::ReadReports).await?;
        let page = PageRequest {
            after: q.after.clone(),
            limit: 100,
        };
        let mut items = Vec::new();
        let mut next = None;
        match &actor.scope {
            vaxgrid_store::scope::Scope::All => {
                let p = app.store.list_sites(None, &page).await?;
                items = p.items;
                next = p.next_cursor;
            }
            scope => {
                // A caller's areas are a few grants: their sites, one
                // list each (the page's cursor walks the first area).
                for (i, root) in app.store.scope_roots(scope).await?.iter().enumerate() {
                    let p = app
                        .store
                        .list_sites(
                            Some(&root.code),
                            if i == 0 {
                                &page
                            } else {
                                &PageRequest {
                                    after: None,
                                    limit: 100,
                                }
                            },
                        )
                        .await?;
                    if i == 0 {
                        next = p.next_cursor;
                    }
                    items.extend(p.items);
                }
            }
        }
        Ok::<_, ApiError>((items, next))
    };
    let (items, next) = match read.await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let sites = items
        .into_iter()
        .map(|s| SiteLine {
            href: format!("/planner/sites/{}", urlencoding(&s.code)),
            kind: kind_name(lang, s.kind.as_str()),
            stations: lang.int(s.stations),
            capacity: lang.int(s.daily_capacity),
            code: s.code,
            name: s.name,
            area: s.area_code,
        })
        .collect();
    render_status(
        StatusCode::OK,
        &SitesPage {
            ctx,
            sites,
            next: next.map(|n| format!("/planner/sites?after={}", urlencoding(&n))),
        },
    )
}

#[derive(Default, Clone)]
pub struct ZoneDraft {
    kind: String,
    name: String,
    places: String,
    error: Option<String>,
}

#[derive(Default, Clone)]
pub struct SessionDraft {
    id: String,
    day: String,
    opens: String,
    closes: String,
    stations: String,
    per_station_per_hour: String,
    slot_minutes: String,
    village_code: String,
}

struct SessionLine {
    href: String,
    day: String,
    hours: String,
    stations: String,
    village: String,
    current: bool,
}

struct SlotLine {
    time: String,
    capacity: String,
    booked: String,
    free: String,
}

struct StaffLine {
    name: String,
    username: String,
    roles: String,
    certified: Option<String>,
    failed: bool,
}

#[derive(Template)]
#[template(path = "planner/site.html")]
struct SitePage {
    ctx: PageCtx,
    code: String,
    title: String,
    facts: Vec<(String, String)>,
    can_plan: bool,
    zone_kinds: Vec<(String, String)>,
    zones: Vec<ZoneDraft>,
    zones_error: Option<String>,
    zones_saved: bool,
    sessions: Vec<SessionLine>,
    slots_heading: Option<String>,
    slots: Vec<SlotLine>,
    session: SessionDraft,
    session_errors: HashMap<String, String>,
    staff: Vec<StaffLine>,
    certified: String,
    not_yet: String,
}

impl SitePage {
    fn serr(&self, field: &str) -> Option<&String> {
        self.session_errors.get(field)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteQuery {
    /// A session whose slots are shown.
    session: Option<String>,
    /// Set after the zones were saved.
    saved: Option<String>,
}

#[derive(Default)]
struct SiteRefused {
    zones: Option<(Vec<ZoneDraft>, Option<String>)>,
    session: Option<(SessionDraft, HashMap<String, String>)>,
}

/// The site, if it lies in the caller's areas (else absent: a 404 page).
async fn site_in_scope(
    app: &AppState,
    caller: &Caller,
    code: &str,
    permission: Permission,
) -> Result<(vaxgrid_store::model::Site, vaxgrid_store::model::Actor), ApiError> {
    let actor = caller.actor(app, permission).await?;
    let absent = || ApiError::Absent {
        entity: "site",
        key: code.to_string(),
    };
    let site = app.store.site(code).await.map_err(|_| absent())?;
    let area = app.store.area(&site.area_code).await?;
    if !actor.scope.covers_path(&area.path) {
        return Err(absent());
    }
    Ok((site, actor))
}

/// What a site's page shows, read within the caller's areas.
struct SiteRead {
    site: vaxgrid_store::model::Site,
    /// (kind, name, places) of each zone.
    zones: Vec<(String, String, i64)>,
    /// The site's sessions from today on (30 at most).
    sessions: Vec<vaxgrid_store::scheduling::Session>,
    /// The session asked for, with its slots.
    chosen: Option<(
        vaxgrid_store::scheduling::Session,
        Vec<vaxgrid_store::scheduling::Slot>,
    )>,
    staff: Vec<vaxgrid_store::dashboard::StaffCertification>,
    catchment: vaxgrid_store::site_plans::Catchment,
}

impl SiteRead {
    async fn load(
        app: &AppState,
        caller: &Caller,
        code: &str,
        q: &SiteQuery,
        today: &str,
    ) -> Result<SiteRead, ApiError> {
        let (site, actor) = site_in_scope(app, caller, code, Permission::ReadReports).await?;
        let zones = app.store.site_zones(code).await?;
        let sessions = app
            .store
            .list_sessions(
                &SessionFilter {
                    site: Some(code.to_string()),
                    area: None,
                    from: Some(today.to_string()),
                    to: None,
                },
                &PageRequest {
                    after: None,
                    limit: 30,
                },
                &actor.scope,
            )
            .await?
            .items;
        let chosen = match &q.session {
            Some(id) => {
                let s = sessions
                    .iter()
                    .find(|s| &s.id == id)
                    .cloned()
                    .ok_or_else(|| ApiError::Absent {
                        entity: "session",
                        key: id.clone(),
                    })?;
                let slots = app.store.slots_of(&s.id).await?;
                Some((s, slots))
            }
            None => None,
        };
        let staff = app.store.site_certification(code, today).await?;
        let catchment = app.store.catchment(code, &actor.scope).await?;
        Ok(SiteRead {
            site,
            zones,
            sessions,
            chosen,
            staff,
            catchment,
        })
    }
}

async fn site_page(
    app: &AppState,
    caller: &Caller,
    ctx: PageCtx,
    code: &str,
    q: SiteQuery,
    refused: SiteRefused,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let today = vaxgrid_store::format_date(app.store.today());
    let read = match SiteRead::load(app, caller, code, &q, &today).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, e),
    };
    let (site, chosen) = (&read.site, read.chosen.as_ref());
    let (zone_rows, zones_error) = refused
        .zones
        .unwrap_or_else(|| (zone_drafts(&read.zones), None));
    let (slots_heading, slots) = slot_lines(lang, chosen);
    let (session, session_errors) = refused
        .session
        .unwrap_or_else(|| (new_session_draft(site), HashMap::new()));
    let certified = read
        .staff
        .iter()
        .filter(|s| s.certified_until.is_some())
        .count();
    let staff_view = staff_lines(lang, read.staff);
    let not_yet = staff_view.len() - certified;
    render_status(
        status,
        &SitePage {
            code: site.code.clone(),
            title: site.name.clone(),
            facts: site_facts(lang, site, &read.catchment),
            can_plan: super::planning::may_plan(&ctx),
            zone_kinds: ZoneKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), zone_name(lang, k.as_str())))
                .collect(),
            zones: padded_zones(zone_rows),
            zones_error,
            zones_saved: q.saved.is_some(),
            sessions: session_lines(lang, code, &read.sessions, chosen),
            slots_heading,
            slots,
            session,
            session_errors,
            staff: staff_view,
            certified: lang.t1("planner-certified-count", "count", certified as i64),
            not_yet: lang.t1("planner-not-certified-count", "count", not_yet as i64),
            ctx,
        },
    )
}

/// The site's kind, area, stations and capacity, and the communes or
/// villages it serves when a catchment is set.
fn site_facts(
    lang: Lang,
    site: &vaxgrid_store::model::Site,
    catchment: &vaxgrid_store::site_plans::Catchment,
) -> Vec<(String, String)> {
    let mut facts = vec![
        (
            lang.t("planner-site-kind"),
            kind_name(lang, site.kind.as_str()),
        ),
        (lang.t("planner-f-area"), site.area_code.clone()),
        (lang.t("planner-site-stations"), lang.int(site.stations)),
        (
            lang.t("planner-site-capacity"),
            lang.int(site.daily_capacity),
        ),
    ];
    if !catchment.areas.is_empty() {
        let served: Vec<String> = catchment
            .areas
            .iter()
            .map(|a| format!("{} ({})", a.name, a.code))
            .collect();
        facts.push((lang.t("planner-site-catchment"), served.join(", ")));
    }
    facts
}

/// The zones form's rows for the stored zones.
fn zone_drafts(zones: &[(String, String, i64)]) -> Vec<ZoneDraft> {
    zones
        .iter()
        .map(|(kind, name, places)| ZoneDraft {
            kind: kind.clone(),
            name: name.clone(),
            places: places.to_string(),
            error: None,
        })
        .collect()
}

/// The zones form's rows, with empty rows up to `ZONE_ROWS`.
fn padded_zones(mut rows: Vec<ZoneDraft>) -> Vec<ZoneDraft> {
    while rows.len() < ZONE_ROWS {
        rows.push(ZoneDraft::default());
    }
    rows
}

/// The site's sessions, each linking to its slots; the chosen one marked.
fn session_lines(
    lang: Lang,
    code: &str,
    sessions: &[vaxgrid_store::scheduling::Session],
    chosen: Option<&(
        vaxgrid_store::scheduling::Session,
        Vec<vaxgrid_store::scheduling::Slot>,
    )>,
) -> Vec<SessionLine> {
    sessions
        .iter()
        .map(|s| SessionLine {
            href: format!(
                "/planner/sites/{}?session={}",
                urlencoding(code),
                urlencoding(&s.id)
            ),
            day: lang.date_text(&s.day),
            hours: format!("{}–{}", s.opens, s.closes),
            stations: lang.int(s.stations),
            village: s.village_code.clone().unwrap_or_default(),
            current: chosen.is_some_and(|(c, _)| c.id == s.id),
        })
        .collect()
}

/// The chosen session's heading and slots (none without a choice).
fn slot_lines(
    lang: Lang,
    chosen: Option<&(
        vaxgrid_store::scheduling::Session,
        Vec<vaxgrid_store::scheduling::Slot>,
    )>,
) -> (Option<String>, Vec<SlotLine>) {
    match chosen {
        Some((s, slots)) => (
            Some(lang.t2(
                "planner-slots-of",
                "day",
                lang.date_text(&s.day),
                "hours",
                format!("{}–{}", s.opens, s.closes),
            )),
            slots
                .iter()
                .map(|x| SlotLine {
                    time: x.starts_at.get(11..16).unwrap_or(&x.starts_at).to_string(),
                    capacity: lang.int(x.capacity),
                    booked: lang.int(x.booked),
                    free: lang.int(x.capacity - x.booked),
                })
                .collect(),
        ),
        None => (None, Vec::new()),
    }
}

/// The new-session form as it starts: tomorrow, 07:30 to 11:30, every
/// station of the site.
fn new_session_draft(site: &vaxgrid_store::model::Site) -> SessionDraft {
    SessionDraft {
        id: uuid::Uuid::now_v7().to_string(),
        day: vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(1)),
        opens: "07:30".into(),
        closes: "11:30".into(),
        stations: site.stations.to_string(),
        per_station_per_hour: "20".into(),
        slot_minutes: "30".into(),
        village_code: String::new(),
    }
}

/// The site's staff, with their certification.
fn staff_lines(
    lang: Lang,
    staff: Vec<vaxgrid_store::dashboard::StaffCertification>,
) -> Vec<StaffLine> {
    staff
        .into_iter()
        .map(|s| StaffLine {
            certified: s
                .certified_until
                .map(|d| lang.t1("planner-cert-until", "date", lang.date_text(&d))),
            name: s.display_name,
            username: s.username,
            roles: s.roles,
            failed: s.failed_exam,
        })
        .collect()
}

/// `GET /planner/sites/{code}`: a site's zones, sessions (and a session's
/// slots), the forms to change them, and who of its staff is certified.
#[utoipa::path(
    get,
    path = "/planner/sites/{code}",
    summary = "A site's planning page (HTML): its functional zones, its sessions from today (a session's slots with places booked and free), the forms to set zones and open a session, and its staff with their vaccination certificate (who is certified, who is not yet); 404 for a site outside the caller's areas",
    params(
        ("code" = String, Path, description = "site code"),
        ("session" = Option<String>, Query, description = "a session whose slots are shown"),
        ("saved" = Option<String>, Query, description = "set after the zones were saved"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page", content_type = "text/html"),
        (status = 404, description = "the error page: no such site or session, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn site(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    query: Result<crate::extract::ApiQuery<SiteQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(crate::extract::ApiQuery(q)) => q,
        Err(e) => return error_page(&ctx, e),
    };
    site_page(
        &app,
        &caller,
        ctx,
        &code,
        q,
        SiteRefused::default(),
        StatusCode::OK,
    )
    .await
}

fn no_query() -> SiteQuery {
    SiteQuery {
        session: None,
        saved: None,
    }
}

/// The zone rows of the form as typed.
fn zone_rows(pairs: &[(String, String)]) -> Vec<ZoneDraft> {
    (0..ZONE_ROWS)
        .map(|i| ZoneDraft {
            kind: one(pairs, &format!("kind.{i}")),
            name: one(pairs, &format!("name.{i}")),
            places: one(pairs, &format!("places.{i}")),
            error: None,
        })
        .collect()
}

/// The rows filled in (any of kind, name or places), by their place in
/// the form.
fn filled_rows(rows: &[ZoneDraft]) -> Vec<usize> {
    (0..rows.len())
        .filter(|i| {
            let r = &rows[*i];
            !(r.kind.is_empty() && r.name.trim().is_empty() && r.places.trim().is_empty())
        })
        .collect()
}

/// The API's zones from the filled rows; the n-th filled row is
/// `zones[n]`, its places a whole number.
fn zone_bodies(rows: &[ZoneDraft], filled: &[usize]) -> Result<Vec<ZoneBody>, ApiError> {
    let mut zones = Vec::new();
    for (n, i) in filled.iter().enumerate() {
        let r = &rows[*i];
        let places: i64 =
            r.places.trim().parse().map_err(|_| {
                ApiError::invalid(format!("zones[{n}].places"), "not a whole number")
            })?;
        zones.push(ZoneBody {
            kind: r.kind.clone(),
            name: r.name.clone(),
            places,
        });
    }
    Ok(zones)
}

/// The form's row a refused field (`zones[n].x`, the n-th filled row)
/// stands for; none for a field about the zones as a whole.
fn refused_row(field: &str, filled: &[usize]) -> Option<usize> {
    field
        .strip_prefix("zones[")
        .and_then(|f| f.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| filled.get(n).copied())
}

/// Checks the filled rows as the API does and replaces the site's zones
/// (ManageSessions on the site's area).
async fn save_zones(
    app: &AppState,
    caller: &Caller,
    code: &str,
    rows: &[ZoneDraft],
    filled: &[usize],
) -> Result<(), ApiError> {
    let (_, actor) = site_in_scope(app, caller, code, Permission::ManageSessions).await?;
    let zones = zones_from(ZonesBody {
        zones: zone_bodies(rows, filled)?,
    })?;
    app.store
        .set_site_zones(code, &zones, &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(())
}

/// `POST /planner/sites/{code}/zones`: replaces the site's zones.
#[utoipa::path(
    post,
    path = "/planner/sites/{code}/zones",
    summary = "Set a site's functional zones from its page's form (csrf_token; kind.N, name.N, places.N for the rows, in the order people pass them; empty rows ignored): 303 back to the site; the page again with the error otherwise",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 303, description = "saved"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn set_zones(
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
    let mut rows = zone_rows(&pairs);
    let filled = filled_rows(&rows);
    match save_zones(&app, &caller, &code, &rows, &filled).await {
        Ok(()) => see_other(format!("/planner/sites/{}?saved=1", urlencoding(&code))),
        Err(e @ ApiError::Absent { .. }) => error_page(&ctx, e),
        Err(e) if field_of(&e).is_some() => {
            let field = field_of(&e).unwrap_or_default();
            let message = field_message(ctx.lang, "zones", &field);
            let top = match refused_row(&field, &filled) {
                Some(i) => {
                    rows[i].error = Some(message);
                    None
                }
                None => Some(message),
            };
            let refused = SiteRefused {
                zones: Some((rows, top)),
                session: None,
            };
            site_page(
                &app,
                &caller,
                ctx,
                &code,
                no_query(),
                refused,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&ctx, e),
    }
}

impl SessionDraft {
    fn of(pairs: &[(String, String)]) -> SessionDraft {
        SessionDraft {
            id: one(pairs, "id"),
            day: one(pairs, "day"),
            opens: one(pairs, "opens"),
            closes: one(pairs, "closes"),
            stations: one(pairs, "stations"),
            per_station_per_hour: one(pairs, "per_station_per_hour"),
            slot_minutes: one(pairs, "slot_minutes"),
            village_code: one(pairs, "village_code"),
        }
    }

    /// The API's body for a session at the site `code`; the counts must
    /// be whole numbers.
    fn body(&self, code: &str) -> Result<SessionBody, ApiError> {
        let number = |field: &str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::invalid(field, "not a whole number"))
        };
        Ok(SessionBody {
            id: Some(self.id.clone()).filter(|s| !s.is_empty()),
            site_code: code.to_string(),
            day: self.day.trim().to_string(),
            opens: self.opens.trim().to_string(),
            closes: self.closes.trim().to_string(),
            stations: number("stations", &self.stations)?,
            per_station_per_hour: number("per_station_per_hour", &self.per_station_per_hour)?,
            slot_minutes: number("slot_minutes", &self.slot_minutes)?,
            village_code: Some(self.village_code.trim().to_string()).filter(|v| !v.is_empty()),
        })
    }
}

/// Opens the session of the form (ManageSessions on the site's area),
/// once: the same form sent again finds its session open already. The
/// session's id.
async fn open_once(
    app: &AppState,
    caller: &Caller,
    code: &str,
    draft: &SessionDraft,
) -> Result<String, ApiError> {
    let (_, actor) = site_in_scope(app, caller, code, Permission::ManageSessions).await?;
    let new = new_session(draft.body(code)?)?;
    let id = new.id.clone();
    if let Ok(open) = app.store.vaccination_session(&id).await {
        if open.site_code == code {
            return Ok(id);
        }
    }
    match app.store.open_session(&new, &actor).await {
        Ok((s, _)) => Ok(s.id),
        Err(e) => {
            let e = ApiError::Store(e);
            if already_recorded(&e) {
                Ok(id)
            } else {
                Err(e)
            }
        }
    }
}

/// A refused session's status (409 for an overlap, 400 for a bad request,
/// else 422) and its message next to the form's field.
fn session_refusal(lang: Lang, e: &ApiError) -> (StatusCode, HashMap<String, String>) {
    let status = match e {
        ApiError::Store(StoreError::Conflict { .. }) => StatusCode::CONFLICT,
        ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let field = field_of(e).unwrap_or_default();
    let base = field.split(['[', '.']).next().unwrap_or(&field).to_string();
    let errors = HashMap::from([(base, field_message(lang, "session", &field))]);
    (status, errors)
}

/// `POST /planner/sites/{code}/sessions`: opens a session (the API's checks).
#[utoipa::path(
    post,
    path = "/planner/sites/{code}/sessions",
    summary = "Open a session at a site from its page's form (csrf_token, id: the form's client id, day, opens, closes, stations, per_station_per_hour, slot_minutes, village_code): 303 to the site showing the session's slots; the page again with the error next to the field otherwise; a second submit of the same form opens nothing more",
    params(("code" = String, Path, description = "site code")),
    responses(
        (status = 303, description = "opened (or already opened by this form)"),
        (status = 400, description = "the page again, with the error", content_type = "text/html"),
        (status = 404, description = "the error page", content_type = "text/html"),
        (status = 409, description = "the page again: the session overlaps another", content_type = "text/html"),
        (status = 422, description = "the page again, with the error", content_type = "text/html"),
    )
)]
pub async fn open_session(
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
    let draft = SessionDraft::of(&pairs);
    match open_once(&app, &caller, &code, &draft).await {
        Ok(id) => see_other(format!(
            "/planner/sites/{}?session={}",
            urlencoding(&code),
            urlencoding(&id)
        )),
        Err(e @ ApiError::Absent { .. }) => error_page(&ctx, e),
        Err(e) if field_of(&e).is_some() => {
            let (status, errors) = session_refusal(ctx.lang, &e);
            let refused = SiteRefused {
                zones: None,
                session: Some((draft, errors)),
            };
            site_page(&app, &caller, ctx, &code, no_query(), refused, status).await
        }
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, name: &str, places: &str) -> ZoneDraft {
        ZoneDraft {
            kind: kind.into(),
            name: name.into(),
            places: places.into(),
            error: None,
        }
    }

    #[test]
    fn a_refused_zone_is_shown_at_the_row_it_was_typed_in() {
        let rows = [
            row("", " ", ""),
            row("registration", "Desk", "4"),
            row("", "", ""),
            row("vaccination", "Room 1", "many"),
        ];
        let filled = filled_rows(&rows);
        assert_eq!(filled, [1, 3]);
        let Err(e) = zone_bodies(&rows, &filled) else {
            panic!("places that are not a number are refused")
        };
        let field = field_of(&e).unwrap();
        assert_eq!(field, "zones[1].places");
        assert_eq!(refused_row(&field, &filled), Some(3));
        assert_eq!(refused_row("zones", &filled), None);
        assert_eq!(refused_row("zones[7].kind", &filled), None);
    }

    #[test]
    fn a_sessions_counts_must_be_whole_numbers() {
        let draft = SessionDraft {
            day: " 2026-03-02 ".into(),
            stations: "2".into(),
            per_station_per_hour: "12".into(),
            slot_minutes: "x".into(),
            ..SessionDraft::default()
        };
        let Err(e) = draft.body("S1") else {
            panic!("a slot length that is not a number is refused")
        };
        assert_eq!(field_of(&e).as_deref(), Some("slot_minutes"));
        let draft = SessionDraft {
            slot_minutes: " 15 ".into(),
            ..draft
        };
        let Ok(b) = draft.body("S1") else {
            panic!("whole numbers are read")
        };
        assert_eq!(
            (b.day.as_str(), b.slot_minutes, b.id),
            ("2026-03-02", 15, None)
        );
    }
}
