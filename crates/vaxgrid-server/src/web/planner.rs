//! The planner's pages: the home page's coverage by province, the coverage
//! dashboard with drill-down (province → district → commune → village) and
//! its server-drawn SVG charts, and campaign planning.
//!
//! Every page reads its figures with one fixed set of queries
//! (`vaxgrid_store::dashboard`), whatever the number of areas it shows.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use vaxgrid_core::access::{Permission, Role};
use vaxgrid_core::area::{depth_of_path, AreaLevels};
use vaxgrid_store::area_groups::AreaGroupCoverage;
use vaxgrid_store::campaigns::Campaign;
use vaxgrid_store::dashboard::{AreaFigures, Dashboard, DayFigures};

use super::{error_page, render, PageCtx};
use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::i18n::{tkey, Lang};
use crate::{r, AppState, RouteDef};

pub mod planning;
pub mod sites;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    use axum::http::Method as M;
    vec![
        r(
            M::GET,
            "/planner",
            Policy::Needs(Permission::ReadReports),
            get(dashboard_top),
        ),
        r(
            M::GET,
            "/planner/areas/{code}",
            Policy::Needs(Permission::ReadReports),
            get(dashboard_area),
        ),
        r(
            M::GET,
            "/planner/campaigns",
            Policy::Needs(Permission::ReadReports),
            get(planning::campaigns),
        ),
        r(
            M::POST,
            "/planner/campaigns",
            Policy::Needs(Permission::ManageSessions),
            axum::routing::post(planning::create_campaign),
        ),
        r(
            M::GET,
            "/planner/campaigns/{id}",
            Policy::Needs(Permission::ReadReports),
            get(planning::campaign),
        ),
        r(
            M::POST,
            "/planner/campaigns/{id}/waves",
            Policy::Needs(Permission::ManageSessions),
            axum::routing::post(planning::add_wave),
        ),
        r(
            M::POST,
            "/planner/campaigns/{id}/targets",
            Policy::Needs(Permission::ManageSessions),
            axum::routing::post(planning::split_targets),
        ),
        r(
            M::GET,
            "/planner/sites",
            Policy::Needs(Permission::ReadReports),
            get(sites::sites),
        ),
        r(
            M::GET,
            "/planner/sites/{code}",
            Policy::Needs(Permission::ReadReports),
            get(sites::site),
        ),
        r(
            M::POST,
            "/planner/sites/{code}/zones",
            Policy::Needs(Permission::ManageSessions),
            axum::routing::post(sites::set_zones),
        ),
        r(
            M::POST,
            "/planner/sites/{code}/sessions",
            Policy::Needs(Permission::ManageSessions),
            axum::routing::post(sites::open_session),
        ),
    ]
}

/// Whether the caller's roles read reports.
fn plans(ctx: &PageCtx) -> bool {
    ctx.roles.iter().any(|r| {
        matches!(
            r,
            Role::Admin | Role::Planner | Role::StatisticsOfficer | Role::EpidemicResponder
        )
    })
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(ctx: &PageCtx) -> Vec<(String, &'static str)> {
    if plans(ctx) {
        vec![
            ("/planner".to_string(), tkey("planner-nav")),
            (
                "/planner/campaigns".to_string(),
                tkey("planner-nav-campaigns"),
            ),
            ("/planner/sites".to_string(), tkey("planner-nav-sites")),
        ]
    } else {
        Vec::new()
    }
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    home,
    dashboard_top,
    dashboard_area,
    planning::campaigns,
    planning::create_campaign,
    planning::campaign,
    planning::add_wave,
    planning::split_targets,
    sites::sites,
    sites::site,
    sites::set_zones,
    sites::open_session
))]
pub struct Pages;

// ---------------------------------------------------------------- charts

fn share(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// One bar of a coverage chart: a name and its figures.
pub struct Bar {
    pub name: String,
    pub population: i64,
    pub at_least_one: i64,
    pub completed: i64,
}

impl Bar {
    fn of(name: &str, f: &vaxgrid_store::reports::CoverageFigures) -> Bar {
        Bar {
            name: name.to_string(),
            population: f.population,
            at_least_one: f.at_least_one,
            completed: f.completed,
        }
    }
}

struct CoverageBar {
    name: String,
    y: usize,
    ty: usize,
    w1: String,
    w2: String,
    tx: String,
    label: String,
    title_one: String,
    title_done: String,
}

#[derive(Template)]
#[template(path = "coverage_chart.svg")]
struct CoverageChart {
    aria: String,
    width: usize,
    height: usize,
    label_w: usize,
    bar_h: usize,
    bars: Vec<CoverageBar>,
    legend_y: usize,
    legend: String,
}

/// Horizontal bars: at least one dose (light) and completed (dark), in %
/// of the population; `aria` names the chart.
pub fn coverage_chart(lang: Lang, aria: String, rows: &[Bar]) -> String {
    let bar_h = 22;
    let label_w = 190;
    let width = 640;
    let height = rows.len() * (bar_h + 8) + 30;
    let scale = (width - label_w - 60) as f64 / 100.0;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let y = 10 + i * (bar_h + 8);
            let one = share(row.at_least_one, row.population);
            let done = share(row.completed, row.population);
            CoverageBar {
                name: row.name.clone(),
                y,
                ty: y + 15,
                w1: format!("{:.1}", one * scale),
                w2: format!("{:.1}", done * scale),
                tx: format!("{:.1}", label_w as f64 + one * scale + 4.0),
                label: lang.percent(row.at_least_one, row.population),
                title_one: lang.t1(
                    "chart-coverage-one",
                    "pct",
                    lang.percent(row.at_least_one, row.population),
                ),
                title_done: lang.t1(
                    "chart-coverage-done",
                    "pct",
                    lang.percent(row.completed, row.population),
                ),
            }
        })
        .collect();
    CoverageChart {
        aria,
        width,
        height,
        label_w,
        bar_h,
        bars,
        legend_y: height - 6,
        legend: lang.t("chart-coverage-legend"),
    }
    .render()
    .unwrap_or_default()
}

/// Days shown in the doses-per-day chart: this many calendar days ending
/// at the last day with any figure, so a campaign that ended long ago still
/// shows its shape. The store reads only these days.
const CHART_DAYS: i64 = vaxgrid_store::dashboard::CHART_DAYS;

/// A day of the doses-per-day chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartDay {
    pub day: String,
    pub doses: i64,
    /// The day's share of the area's target (a campaign's).
    pub target: Option<i64>,
    /// Places in the sessions opened that day.
    pub capacity: i64,
}

/// The chart's days: `CHART_DAYS` calendar days up to the last of `days`
/// (date order, days without figures absent), the missing days as 0 so
/// that the time axis has no jumps.
fn chart_days(days: &[ChartDay]) -> Vec<ChartDay> {
    let Some(last) = days.last().and_then(|d| vaxgrid_store::parse_date(&d.day)) else {
        return Vec::new();
    };
    let known: std::collections::HashMap<&str, &ChartDay> =
        days.iter().map(|d| (d.day.as_str(), d)).collect();
    (0..CHART_DAYS)
        .rev()
        .filter_map(|back| last.checked_sub(time::Duration::days(back)))
        .map(|day| {
            let day = vaxgrid_store::format_date(day);
            match known.get(day.as_str()) {
                Some(d) => (*d).clone(),
                None => ChartDay {
                    day,
                    ..ChartDay::default()
                },
            }
        })
        .collect()
}

/// Doses per day as the home page has them (no target, no capacity).
fn dose_days(days: &[(String, i64)]) -> Vec<ChartDay> {
    days.iter()
        .map(|(day, n)| ChartDay {
            day: day.clone(),
            doses: *n,
            ..ChartDay::default()
        })
        .collect()
}

struct DayBar {
    x: String,
    y: String,
    w: String,
    h: String,
    title: String,
}

#[derive(Template)]
#[template(path = "daily_chart.svg")]
struct DailyChart {
    aria: String,
    width: f64,
    height: f64,
    left: f64,
    base: f64,
    peak: String,
    bars: Vec<DayBar>,
    target: Option<String>,
    target_title: String,
    capacity: Option<String>,
    capacity_title: String,
    ends: Option<(String, String)>,
    label_y: f64,
    empty_y: f64,
    empty: String,
}

/// Vertical bars: doses per day (`days` in date order), with the peak on
/// the axis and each bar's date and count as a tooltip; the daily target
/// (dashed) and the session capacity (a line) over them where known.
pub fn daily_chart(lang: Lang, days: &[ChartDay]) -> String {
    let (width, height, left, bottom) = (640.0_f64, 180.0_f64, 48.0, 22.0);
    let peak = days
        .iter()
        .map(|d| d.doses.max(d.capacity).max(d.target.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_h = height - bottom - 10.0;
    let step = (width - left) / days.len().max(1) as f64;
    let plot = super::chart::Plot {
        left,
        top: 10.0,
        width: width - left,
        height: plot_h,
        x_range: (0.0, days.len().max(1) as f64),
        y_range: (0.0, peak as f64),
    };
    let y_of = |n: i64| plot.y(n.max(0) as f64);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = plot_h * d.doses.max(0) as f64 / peak as f64;
            DayBar {
                x: format!("{:.1}", left + i as f64 * step),
                y: format!("{:.1}", 10.0 + plot_h - h),
                w: format!("{:.1}", (step - 1.0).max(0.5)),
                h: format!("{h:.1}"),
                title: lang.ta(
                    "chart-daily-bar",
                    vec![
                        ("day", lang.date_text(&d.day).into()),
                        ("count", d.doses.into()),
                    ],
                ),
            }
        })
        .collect();
    // A step line: each day's value across the day's width.
    let steps = |value: &dyn Fn(&ChartDay) -> i64| {
        super::chart::Plot::points(days.iter().enumerate().flat_map(|(i, d)| {
            let y = y_of(value(d));
            [(plot.x(i as f64), y), (plot.x((i + 1) as f64), y)]
        }))
    };
    let target = days
        .iter()
        .any(|d| d.target.is_some())
        .then(|| steps(&|d| d.target.unwrap_or(0)));
    let capacity = days
        .iter()
        .any(|d| d.capacity > 0)
        .then(|| steps(&|d| d.capacity));
    let ends = match (days.first(), days.last()) {
        (Some(first), Some(last)) => Some((lang.date_text(&first.day), lang.date_text(&last.day))),
        _ => None,
    };
    DailyChart {
        aria: lang.t("chart-daily-aria"),
        width,
        height,
        left,
        base: plot.base(),
        peak: lang.int(peak),
        bars,
        target,
        target_title: lang.t("planner-legend-target"),
        capacity,
        capacity_title: lang.t("planner-legend-capacity"),
        ends,
        label_y: height - 4.0,
        empty_y: height / 2.0,
        empty: lang.t("chart-daily-empty"),
    }
    .render()
    .unwrap_or_default()
}

struct RateBar {
    name: String,
    y: usize,
    ty: usize,
    w: String,
    tx: String,
    label: String,
    title: String,
}

#[derive(Template)]
#[template(path = "planner/rate_chart.svg")]
struct RateChart {
    aria: String,
    width: usize,
    height: usize,
    label_w: usize,
    bar_h: usize,
    bars: Vec<RateBar>,
    legend_y: usize,
    legend: String,
}

/// Horizontal bars: adverse events per 100,000 doses of each area, scaled
/// to the highest rate.
pub fn rate_chart(lang: Lang, rows: &[AreaFigures]) -> String {
    let bar_h = 22;
    let label_w = 190;
    let width = 640;
    let height = rows.len() * (bar_h + 8) + 30;
    let top = rows
        .iter()
        .map(AreaFigures::adverse_per_100k)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let scale = (width - label_w - 80) as f64 / top;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let y = 10 + i * (bar_h + 8);
            let rate = row.adverse_per_100k();
            RateBar {
                name: row.name.clone(),
                y,
                ty: y + 15,
                w: format!("{:.1}", rate * scale),
                tx: format!("{:.1}", label_w as f64 + rate * scale + 4.0),
                label: lang.decimal(rate, 1),
                title: lang.ta(
                    "planner-rate-bar",
                    vec![
                        ("events", row.adverse_events.into()),
                        ("doses", row.doses().into()),
                    ],
                ),
            }
        })
        .collect();
    RateChart {
        aria: lang.t("planner-rate-aria"),
        width,
        height,
        label_w,
        bar_h,
        bars,
        legend_y: height - 6,
        legend: lang.t("planner-rate-legend"),
    }
    .render()
    .unwrap_or_default()
}

// ------------------------------------------------------------- home page

struct ProvinceView {
    code: String,
    name: String,
    summary: String,
    coverage_svg: String,
    daily_svg: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    provinces: Vec<ProvinceView>,
}

/// The coverage summary line of an area.
fn summary(lang: Lang, t: &vaxgrid_store::reports::CoverageFigures) -> String {
    lang.ta(
        "home-summary",
        vec![
            ("population", t.population.into()),
            ("one", t.at_least_one.into()),
            ("one_pct", lang.percent(t.at_least_one, t.population).into()),
            ("done", t.completed.into()),
            ("done_pct", lang.percent(t.completed, t.population).into()),
        ],
    )
}

/// The home page: each province's coverage, its districts' as bars, and
/// its doses per day, read in one set of queries for all provinces.
#[utoipa::path(
    get,
    path = "/",
    summary = "Home page: coverage by province and district (HTML, SVG charts)",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
    )
)]
pub async fn home(State(app): State<AppState>, ctx: PageCtx) -> Response {
    let lang = ctx.lang;
    match app.store.provinces_overview().await {
        Ok(overview) => {
            let provinces = overview
                .into_iter()
                .map(|p| {
                    let bars: Vec<Bar> = p
                        .districts
                        .iter()
                        .map(|d| Bar::of(&d.name, &d.total))
                        .collect();
                    ProvinceView {
                        summary: summary(lang, &p.province.total),
                        coverage_svg: coverage_chart(lang, lang.t("chart-coverage-aria"), &bars),
                        daily_svg: daily_chart(lang, &chart_days(&dose_days(&p.days))),
                        code: p.province.code,
                        name: p.province.name,
                    }
                })
                .collect();
            render(&HomePage { ctx, provinces })
        }
        Err(e) => error_page(&ctx, ApiError::Store(e)),
    }
}

// -------------------------------------------------------------- dashboard

/// A link of the drill-down trail.
struct Crumb {
    name: String,
    href: Option<String>,
}

/// A figure of a table: its text and the list behind it, when there is one.
struct Fig {
    text: String,
    href: Option<String>,
}

struct AreaLine {
    code: String,
    name: String,
    /// The area's own dashboard (none for a village: nothing below).
    href: Option<String>,
    population: Fig,
    one: Fig,
    one_pct: String,
    done: Fig,
    done_pct: String,
    not_yet: Fig,
    dose_1: Fig,
    dose_2: Fig,
    later: Fig,
    adverse: Fig,
    rate: String,
}

struct GroupLine {
    name: String,
    population: String,
    one: String,
    one_pct: String,
    done: String,
    done_pct: String,
}

struct CampaignChoice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "planner/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    title: String,
    crumbs: Vec<Crumb>,
    /// The form's action: this page.
    here: String,
    campaigns: Vec<CampaignChoice>,
    wave_note: Option<String>,
    figures: Vec<(String, Fig)>,
    children_heading: String,
    lines: Vec<AreaLine>,
    total: AreaLine,
    coverage_svg: String,
    groups: Vec<GroupLine>,
    groups_svg: String,
    /// By region group and by distance from the border.
    area_groups: Vec<GroupLine>,
    daily_svg: String,
    has_target: bool,
    has_capacity: bool,
    rate_svg: String,
    /// The list of the not yet vaccinated of the page's area.
    survey_href: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// The campaign whose target and lists the page shows (default: the
    /// newest over the area).
    campaign: Option<String>,
}

/// The name of a priority group in the reader's language (the code when
/// the files do not name it).
fn group_name(lang: Lang, code: &str) -> String {
    let key = format!("planner-group-{code}");
    let name = lang.t(&key);
    if name == key {
        code.to_string()
    } else {
        name
    }
}

/// What the areas under `area` are called, as the deployment's levels
/// name them in the page's language ("My areas" above the provinces).
fn children_heading(ctx: &PageCtx, area: &AreaFigures, levels: &AreaLevels) -> String {
    if area.code.is_empty() {
        return ctx.t(tkey("planner-level-top"));
    }
    match levels.at(depth_of_path(&area.path) + 1) {
        Some(below) => below.name(ctx.lang.code()).to_string(),
        None => ctx.t(tkey("planner-level-none")),
    }
}

/// What the lists of the page belong to: a campaign and its wave (the one
/// running today, else the last begun, else the first).
struct ListBasis {
    campaign_id: String,
    wave_id: String,
}

impl ListBasis {
    fn survey(&self, area: &str, status: &str) -> String {
        format!(
            "/api/v1/campaigns/{}/waves/{}/survey?area={}&format=html&status={status}",
            self.campaign_id,
            self.wave_id,
            crate::web::urlencode(area)
        )
    }
}

fn pick_wave(c: &Campaign) -> Option<&vaxgrid_store::campaigns::Wave> {
    let today = vaxgrid_store::format_date(vaxgrid_store::today());
    c.waves
        .iter()
        .find(|w| w.starts_on <= today && today <= w.ends_on)
        .or_else(|| c.waves.iter().rev().find(|w| w.starts_on <= today))
        .or_else(|| c.waves.first())
}

/// `GET /planner`: the dashboard of the caller's areas (every province for
/// those who see everything); a caller with one area goes straight to it.
#[utoipa::path(
    get,
    path = "/planner",
    summary = "Planner dashboard (HTML): coverage of the caller's areas with drill-down, by priority group and by dose, doses per day against capacity, adverse events per 100,000 doses; a caller holding one area is sent to that area's dashboard",
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 303, description = "the dashboard of the caller's one area"),
    )
)]
pub async fn dashboard_top(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
) -> Response {
    let actor = match caller.actor(&app, Permission::ReadReports).await {
        Ok(a) => a,
        Err(e) => return error_page(&ctx, e),
    };
    if let vaxgrid_store::scope::Scope::Limited { .. } = actor.scope {
        match app.store.scope_roots(&actor.scope).await {
            Ok(roots) if roots.len() == 1 => {
                let to = format!("/planner/areas/{}", crate::web::urlencode(&roots[0].code));
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
            Ok(_) => {}
            Err(e) => return error_page(&ctx, ApiError::Store(e)),
        }
    }
    let name = ctx.t("planner-all-areas");
    let levels = match app.store.area_levels().await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    match app.store.dashboard_top(&actor.scope, &name).await {
        Ok(d) => dashboard_page(ctx, d, Vec::new(), None, None, &levels, Vec::new()),
        Err(e) => error_page(&ctx, ApiError::Store(e)),
    }
}

/// `GET /planner/areas/{code}`: an area's dashboard; an area outside the
/// caller's areas is the 404 page.
#[utoipa::path(
    get,
    path = "/planner/areas/{code}",
    summary = "Planner dashboard of an area (HTML): its coverage and that of each area under it (table and bars, each linking to its own dashboard and to the survey lists behind the figures), by priority group and by dose, doses per day against the campaign's daily target and the session capacity, adverse events per 100,000 doses; 404 for an area outside the caller's areas",
    params(
        ("code" = String, Path, description = "area code"),
        ("campaign" = Option<String>, Query, description = "campaign id (default: the newest over the area)"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad query", content_type = "text/html"),
        (status = 404, description = "the error page: no such area, or not the caller's", content_type = "text/html"),
    )
)]
pub async fn dashboard_area(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(code): Path<String>,
    query: Result<crate::extract::ApiQuery<DashboardQuery>, ApiError>,
) -> Response {
    let q = match query {
        Ok(crate::extract::ApiQuery(q)) => q,
        Err(e) => return error_page(&ctx, e),
    };
    let levels = match app.store.area_levels().await {
        Ok(l) => l,
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    match area_page(&app, &caller, &ctx, &code, q.campaign.as_deref()).await {
        Ok((d, campaigns, basis, targets, groups)) => {
            let area_groups = area_group_lines(ctx.lang, &groups);
            dashboard_page(ctx, d, campaigns, basis, targets, &levels, area_groups)
        }
        Err(e) => error_page(&ctx, e),
    }
}

type AreaParts = (
    Dashboard,
    Vec<(Campaign, bool)>,
    Option<ListBasis>,
    Option<vaxgrid_store::campaigns::TargetReport>,
    AreaGroupCoverage,
);

/// Where the dashboard cuts the distance from the border (km): the border
/// communes first (Guangxi's 0–20 km), then a second ring.
const BORDER_BANDS: [u32; 2] = [20, 50];

/// The rows of the "by region and distance from the border" table: each
/// region group, each band holding an area, and the rest with no distance
/// given (none when the area has neither groups nor distances).
fn area_group_lines(lang: Lang, c: &AreaGroupCoverage) -> Vec<GroupLine> {
    let row = |name: String, f: &vaxgrid_store::reports::CoverageFigures| GroupLine {
        name,
        population: lang.int(f.population),
        one: lang.int(f.at_least_one),
        one_pct: lang.percent(f.at_least_one, f.population),
        done: lang.int(f.completed),
        done_pct: lang.percent(f.completed, f.population),
    };
    let mut lines: Vec<GroupLine> = c
        .region_groups
        .iter()
        .map(|(g, f)| row(g.clone(), &f.total))
        .collect();
    let bands: Vec<GroupLine> = c
        .border_bands
        .iter()
        .filter(|b| !b.coverage.areas.is_empty())
        .map(|b| {
            let name = match b.to_km {
                Some(to) => lang.ta(
                    "planner-border-band",
                    vec![
                        ("from", i64::from(b.from_km).into()),
                        ("to", i64::from(to).into()),
                    ],
                ),
                None => lang.ta(
                    "planner-border-band-beyond",
                    vec![("from", i64::from(b.from_km).into())],
                ),
            };
            row(name, &b.coverage.total)
        })
        .collect();
    if !bands.is_empty() {
        lines.extend(bands);
        lines.push(row(lang.t("planner-border-none"), &c.without_distance));
    }
    lines
}

async fn area_page(
    app: &AppState,
    caller: &Caller,
    _ctx: &PageCtx,
    code: &str,
    campaign: Option<&str>,
) -> Result<AreaParts, ApiError> {
    let actor = caller.actor(app, Permission::ReadReports).await?;
    let d = app
        .store
        .dashboard(code, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let campaigns = app.store.campaigns_over(&d.area.path).await?;
    let chosen = match campaign {
        Some(id) => {
            Some(
                campaigns
                    .iter()
                    .find(|c| c.id == id)
                    .ok_or_else(|| ApiError::NotFound {
                        what: format!("campaign '{id}'"),
                    })?,
            )
        }
        None => campaigns.first(),
    };
    let basis = chosen.and_then(|c| {
        pick_wave(c).map(|w| ListBasis {
            campaign_id: c.id.clone(),
            wave_id: w.id.clone(),
        })
    });
    let targets = match chosen {
        Some(c) => Some(
            app.store
                .targets_planned(&c.id, Some(code), &actor.scope)
                .await
                .map_err(ApiError::lookup)?,
        ),
        None => None,
    };
    let chosen_id = chosen.map(|c| c.id.clone());
    let campaigns = campaigns
        .into_iter()
        .map(|c| {
            let selected = Some(&c.id) == chosen_id.as_ref();
            (c, selected)
        })
        .collect();
    let groups = app
        .store
        .coverage_by_area_group(code, &BORDER_BANDS, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok((d, campaigns, basis, targets, groups))
}

fn dashboard_page(
    ctx: PageCtx,
    d: Dashboard,
    campaigns: Vec<(Campaign, bool)>,
    basis: Option<ListBasis>,
    targets: Option<vaxgrid_store::campaigns::TargetReport>,
    levels: &AreaLevels,
    area_groups: Vec<GroupLine>,
) -> Response {
    let lang = ctx.lang;
    let top = d.area.code.is_empty();
    let lines: Vec<AreaLine> = d
        .children
        .iter()
        .map(|c| area_line(lang, levels, basis.as_ref(), c, true))
        .collect();
    let total = area_line(lang, levels, basis.as_ref(), &d.area, false);
    let title = if top {
        ctx.t("planner-title")
    } else {
        ctx.t1("planner-title-area", "area", d.area.name.clone())
    };
    let bars: Vec<Bar> = d
        .children
        .iter()
        .map(|c| Bar::of(&c.name, &c.total))
        .collect();
    let coverage_svg = if bars.is_empty() {
        String::new()
    } else {
        coverage_chart(lang, ctx.t("chart-coverage-aria"), &bars)
    };
    let days = merge_days(&d.days, targets.as_ref());
    let has_target = days.iter().any(|d| d.target.is_some());
    let has_capacity = days.iter().any(|d| d.capacity > 0);
    let daily_svg = daily_chart(lang, &chart_days(&days));
    let rate_svg = if d.children.is_empty() {
        String::new()
    } else {
        rate_chart(lang, &d.children)
    };
    let survey_href = match &basis {
        Some(b) if !top => Some(b.survey(&d.area.code, "not_yet")),
        _ => None,
    };
    let page = DashboardPage {
        title,
        crumbs: crumbs(&ctx, &d),
        here: ctx.path.split('?').next().unwrap_or("/planner").to_string(),
        campaigns: campaigns
            .iter()
            .map(|(c, selected)| CampaignChoice {
                id: c.id.clone(),
                name: c.name.clone(),
                selected: *selected,
            })
            .collect(),
        wave_note: wave_note(lang, basis.as_ref(), &campaigns),
        figures: headline_figures(&ctx, &d, &total),
        children_heading: children_heading(&ctx, &d.area, levels),
        lines,
        total,
        coverage_svg,
        groups: group_lines(lang, &d.area),
        groups_svg: groups_chart(&ctx, &d.area),
        area_groups,
        daily_svg,
        has_target,
        has_capacity,
        rate_svg,
        survey_href,
        ctx,
    };
    render(&page)
}

/// An area's row of the dashboard: its coverage figures, each linked to
/// the survey list of those it counts (when a wave is chosen), and its
/// adverse events to their investigations; `drill` links the area's own
/// dashboard above the leaves.
fn area_line(
    lang: Lang,
    levels: &AreaLevels,
    basis: Option<&ListBasis>,
    a: &AreaFigures,
    drill: bool,
) -> AreaLine {
    let t = &a.total;
    let n = |k: i64| a.doses_by_number.get(&k).copied().unwrap_or(0);
    let later: i64 = a
        .doses_by_number
        .iter()
        .filter(|(k, _)| **k > 2)
        .map(|(_, v)| *v)
        .sum();
    let code = a.code.as_str();
    let listed = !code.is_empty();
    let link = |status: &str| {
        if listed {
            basis.map(|b| b.survey(code, status))
        } else {
            None
        }
    };
    let vaccinated = link("vaccinated");
    let fig = |value: i64, href: Option<String>| Fig {
        text: lang.int(value),
        href,
    };
    AreaLine {
        code: a.code.clone(),
        name: a.name.clone(),
        href: (drill && depth_of_path(&a.path) < levels.leaf_depth())
            .then(|| format!("/planner/areas/{}", crate::web::urlencode(code))),
        population: fig(t.population, link("all")),
        one: fig(t.at_least_one, vaccinated.clone()),
        one_pct: lang.percent(t.at_least_one, t.population),
        done: fig(t.completed, vaccinated.clone()),
        done_pct: lang.percent(t.completed, t.population),
        not_yet: fig((t.population - t.at_least_one).max(0), link("not_yet")),
        dose_1: fig(n(1), vaccinated.clone()),
        dose_2: fig(n(2), vaccinated.clone()),
        later: fig(later, vaccinated),
        adverse: fig(
            a.adverse_events,
            (listed && a.serious_adverse_events > 0).then(|| {
                format!(
                    "/api/v1/investigations?area={}",
                    crate::web::urlencode(code)
                )
            }),
        ),
        rate: lang.decimal(a.adverse_per_100k(), 1),
    }
}

/// All areas, then the area's ancestors, then the area itself (unlinked).
fn crumbs(ctx: &PageCtx, d: &Dashboard) -> Vec<Crumb> {
    let top = d.area.code.is_empty();
    let mut crumbs: Vec<Crumb> = vec![Crumb {
        name: ctx.t("planner-all-areas"),
        href: (!top).then(|| "/planner".to_string()),
    }];
    crumbs.extend(d.ancestors.iter().map(|(code, name)| Crumb {
        name: name.clone(),
        href: Some(format!("/planner/areas/{}", crate::web::urlencode(code))),
    }));
    if !top {
        crumbs.push(Crumb {
            name: d.area.name.clone(),
            href: None,
        });
    }
    crumbs
}

/// The area's headline figures, linked as its row's.
fn headline_figures(ctx: &PageCtx, d: &Dashboard, total: &AreaLine) -> Vec<(String, Fig)> {
    let linked = |text: &str, href: &Option<String>| Fig {
        text: text.to_string(),
        href: href.clone(),
    };
    vec![
        (
            ctx.t("planner-fig-population"),
            total_fig(&total.population),
        ),
        (
            ctx.t("planner-fig-one"),
            linked(&total.one_pct, &total.one.href),
        ),
        (
            ctx.t("planner-fig-done"),
            linked(&total.done_pct, &total.done.href),
        ),
        (ctx.t("planner-fig-not-yet"), total_fig(&total.not_yet)),
        (
            ctx.t("planner-fig-doses"),
            linked(&ctx.lang.int(d.area.doses()), &total.dose_1.href),
        ),
        (
            ctx.t("planner-fig-ae-rate"),
            linked(&total.rate, &total.adverse.href),
        ),
    ]
}

/// The area's coverage by priority group.
fn group_lines(lang: Lang, area: &AreaFigures) -> Vec<GroupLine> {
    area.by_group
        .iter()
        .map(|(code, f)| GroupLine {
            name: group_name(lang, code),
            population: lang.int(f.population),
            one: lang.int(f.at_least_one),
            one_pct: lang.percent(f.at_least_one, f.population),
            done: lang.int(f.completed),
            done_pct: lang.percent(f.completed, f.population),
        })
        .collect()
}

/// The chart of the area's coverage by priority group (none without
/// groups).
fn groups_chart(ctx: &PageCtx, area: &AreaFigures) -> String {
    let lang = ctx.lang;
    let group_bars: Vec<Bar> = area
        .by_group
        .iter()
        .map(|(code, f)| Bar::of(&group_name(lang, code), f))
        .collect();
    if group_bars.is_empty() {
        String::new()
    } else {
        coverage_chart(lang, ctx.t("planner-groups-aria"), &group_bars)
    }
}

/// The dates of the wave the survey lists are of.
fn wave_note(
    lang: Lang,
    basis: Option<&ListBasis>,
    campaigns: &[(Campaign, bool)],
) -> Option<String> {
    let b = basis?;
    campaigns
        .iter()
        .find(|(c, _)| c.id == b.campaign_id)
        .and_then(|(c, _)| c.waves.iter().find(|w| w.id == b.wave_id))
        .map(|w| {
            lang.ta(
                "planner-wave-note",
                vec![
                    ("wave", w.name.clone().into()),
                    ("from", lang.date_text(&w.starts_on).into()),
                    ("to", lang.date_text(&w.ends_on).into()),
                ],
            )
        })
}

fn total_fig(f: &Fig) -> Fig {
    Fig {
        text: f.text.clone(),
        href: f.href.clone(),
    }
}

/// The area's days with the campaign's daily target where it has one.
fn merge_days(
    days: &[DayFigures],
    targets: Option<&vaxgrid_store::campaigns::TargetReport>,
) -> Vec<ChartDay> {
    let mut out: std::collections::BTreeMap<String, ChartDay> = days
        .iter()
        .map(|d| {
            (
                d.day.clone(),
                ChartDay {
                    day: d.day.clone(),
                    doses: d.doses(),
                    target: None,
                    capacity: d.capacity,
                },
            )
        })
        .collect();
    if let Some(report) = targets {
        // Up to the last day with doses or places, or today: a target
        // stretching a year ahead would squeeze the days that happened.
        let today = vaxgrid_store::format_date(vaxgrid_store::today());
        let until = out
            .keys()
            .next_back()
            .cloned()
            .unwrap_or_default()
            .max(today);
        for t in report.days.iter().filter(|t| t.day <= until) {
            if let Some(target) = t.target {
                out.entry(t.day.clone())
                    .or_insert_with(|| ChartDay {
                        day: t.day.clone(),
                        ..ChartDay::default()
                    })
                    .target = Some(target);
            }
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &[(&str, i64)]) -> Vec<ChartDay> {
        dose_days(
            &list
                .iter()
                .map(|(d, n)| (d.to_string(), *n))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn daily_chart_scales_bars_to_the_peak_day() {
        let days3 = days(&[("2021-07-01", 50), ("2021-07-02", 1000), ("2021-07-03", 0)]);
        let svg = daily_chart(Lang::En, &days3);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(
            svg.contains("<title>2 Jul 2021: 1,000 doses</title>"),
            "{svg}"
        );
        assert!(svg.contains("<title>1 Jul 2021: 50 doses</title>"), "{svg}");
        // The peak day is full height (148 px), a twentieth of it 7.4.
        assert!(svg.contains(r#"height="148.0" fill"#), "{svg}");
        assert!(svg.contains(r#"height="7.4" fill"#), "{svg}");
        assert!(svg.contains(r#"height="0.0" fill"#), "{svg}");
        assert!(svg.contains(">1 Jul 2021</text>") && svg.contains(">3 Jul 2021</text>"));
        assert!(!svg.contains("<polyline"), "no target, no capacity: {svg}");
        let vi = daily_chart(Lang::Vi, &days3);
        assert!(vi.contains("<title>02/07/2021: 1.000 mũi</title>"), "{vi}");
        let zh = daily_chart(Lang::Zh, &days3);
        assert!(zh.contains("<title>2021年7月2日：1,000 剂</title>"), "{zh}");
        let filled = chart_days(&days(&[("2021-07-01", 5), ("2021-07-04", 7)]));
        assert_eq!(filled.len(), 120);
        assert_eq!(
            (filled[116].day.as_str(), filled[116].doses),
            ("2021-07-01", 5)
        );
        assert_eq!(
            (filled[117].day.as_str(), filled[117].doses),
            ("2021-07-02", 0)
        );
        assert_eq!(
            (filled[119].day.as_str(), filled[119].doses),
            ("2021-07-04", 7)
        );
        assert_eq!(filled[0].day, "2021-03-07");
        assert!(chart_days(&[]).is_empty());
        let empty = daily_chart(Lang::En, &[]);
        assert!(empty.contains("No doses recorded yet") && !empty.contains("<rect"));
    }

    #[test]
    fn daily_chart_draws_the_target_and_the_capacity_on_the_same_scale() {
        let list = vec![
            ChartDay {
                day: "2021-07-01".into(),
                doses: 100,
                target: Some(150),
                capacity: 200,
            },
            ChartDay {
                day: "2021-07-02".into(),
                doses: 50,
                target: Some(150),
                capacity: 0,
            },
        ];
        let svg = daily_chart(Lang::En, &list);
        // The capacity of 200 is the peak: full height, at y = 10.
        assert!(svg.contains(">200</text>"), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        // 100 doses are half the plot (74 px).
        assert!(svg.contains(r#"height="74.0" fill"#), "{svg}");
        // The target of 150 at three quarters: y = 10 + 148 - 111 = 47.
        assert!(svg.contains("48.0,47.0 344.0,47.0"), "{svg}");
        assert!(svg.contains("<title>Daily target</title>"), "{svg}");
    }

    #[test]
    fn chart_labels_are_escaped() {
        let bar = Bar {
            name: "<script>alert(1)</script>".into(),
            population: 10,
            at_least_one: 5,
            completed: 1,
        };
        let svg = coverage_chart(Lang::Vi, "x".into(), &[bar]);
        assert!(
            svg.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || svg.contains("&lt;script&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("50,0%"), "{svg}");
    }

    #[test]
    fn the_rate_chart_counts_per_hundred_thousand_doses() {
        let mut a = vaxgrid_store::dashboard::sum_of("A", "Khu <1>", &[]);
        a.doses_by_number.insert(1, 40_000);
        a.adverse_events = 6;
        let svg = rate_chart(Lang::En, &[a]);
        assert!(svg.contains(">15.0</text>"), "{svg}");
        assert!(
            svg.contains("Khu &#60;1&#62;") || svg.contains("Khu &lt;1&gt;"),
            "{svg}"
        );
    }
}
