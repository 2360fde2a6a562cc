//! The facilities board (`/outbreak/facilities`): a province's treatment
//! beds by region and tier today — open (active facilities), occupied,
//! free, and every bed including the facilities not yet active — the
//! facilities to activate now (`Store::activation_advice`, as `GET
//! /api/v1/outbreak/activation`), each facility's beds and occupancy, and
//! the projection of a shipped scenario over the province's stored
//! facilities (`surge::project` through the same conversion as `POST
//! /api/v1/outbreak/surge?province=`): per tier, an SVG chart of need
//! against open beds by region, and the day each runs out.
//!
//! Read by `ReadOutbreak`; facilities outside the caller's areas are not
//! shown (their beds do not count), as in the API. It changes nothing, so
//! the scenario form is a GET.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::surge::{self, Projection, Tier};
use vaxgrid_store::scope::Scope;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::web::chart::Plot;
use crate::web::{error_page, render_status, PageCtx};
use crate::AppState;

/// The scenario shown unless one is chosen: the one with the article's
/// three regions.
const DEFAULT_SCENARIO: u32 = 10_000;

/// Line colours of the regions, in the order they come (colour-blind safe:
/// Okabe–Ito), with a dash pattern each so they differ without colour.
const PALETTE: [(&str, &str); 6] = [
    ("#0072b2", ""),
    ("#d55e00", "8 3"),
    ("#009e73", "2 3"),
    ("#cc79a7", "10 3 2 3"),
    ("#e69f00", "4 4"),
    ("#56b4e9", "1 2"),
];

pub struct TodayRow {
    pub region: String,
    pub tier: String,
    pub open: String,
    pub occupied: String,
    pub free: String,
    pub all: String,
    pub share: String,
    pub busy: bool,
}

pub struct FacilityRow {
    pub code: String,
    pub name: String,
    pub region: String,
    pub mild: String,
    pub severe: String,
    pub stage: String,
    pub active: String,
    pub is_active: bool,
}

pub struct AdviceRow {
    pub facility: String,
    pub region: String,
    pub reason: String,
}

pub struct OutlookRow {
    pub region: String,
    pub tier: String,
    pub capacity: String,
    pub peak: String,
    pub runs_out: String,
    pub short: bool,
}

pub struct ChartBlock {
    pub id: String,
    pub heading: String,
    pub svg: String,
}

pub struct LegendItem {
    pub colour: &'static str,
    pub dash: &'static str,
    pub text: String,
}

struct Line {
    colour: &'static str,
    dash: &'static str,
    points: String,
    title: String,
}

#[derive(Template)]
#[template(path = "outbreak/facilities_chart.svg")]
struct BedsChart {
    id: String,
    title: String,
    desc: String,
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    plot_w: f64,
    base: f64,
    needs: Vec<Line>,
    opens: Vec<Line>,
    top_label: String,
    first: String,
    last: String,
    label_y: f64,
}

#[derive(Template)]
#[template(path = "outbreak/facilities.html")]
struct FacilitiesPage {
    ctx: PageCtx,
    title: String,
    province: String,
    provinces: Vec<(String, String)>,
    scenarios: Vec<(u32, String)>,
    scenario: u32,
    scenario_name: String,
    cumulative: String,
    today: Vec<TodayRow>,
    advice: Vec<AdviceRow>,
    facilities: Vec<FacilityRow>,
    planned_over_stored: bool,
    plan_note: String,
    outlook: Vec<OutlookRow>,
    charts: Vec<ChartBlock>,
    legend: Vec<LegendItem>,
}

fn tier_text(lang: Lang, tier: Tier) -> String {
    lang.t(match tier {
        Tier::MildModerate => "outbreak-fac-tier-mild_moderate",
        Tier::SevereCritical => "outbreak-fac-tier-severe_critical",
    })
}

/// A region's name: the language's for the regions of article 003 (east,
/// centre, west, the province as one), else the scenario's up to its
/// list of districts, else its code.
fn region_text(lang: Lang, code: &str, names: &HashMap<String, String>) -> String {
    let key = if code == "*" {
        "outbreak-fac-region-all".to_string()
    } else {
        format!("outbreak-fac-region-{code}")
    };
    let text = lang.t(&key);
    if text != key {
        return text;
    }
    names
        .get(code)
        .map(|n| n.split(" (").next().unwrap_or(n).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The query: `province` (a province code) and `scenario` (1000, 5000 or
/// 10000); nothing else.
fn query(raw: Option<&str>) -> Result<(Option<String>, u32), ApiError> {
    let fields = crate::web::admin::query_fields(raw);
    for k in fields.keys() {
        if k != "province" && k != "scenario" {
            return Err(ApiError::bad_request(
                k,
                format!("unknown query field '{k}'"),
            ));
        }
    }
    let scenario = match crate::web::admin::given(&fields, "scenario") {
        None => DEFAULT_SCENARIO,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| surge::SHIPPED.contains(n))
            .ok_or_else(|| ApiError::bad_request("scenario", "scenario is 1000, 5000 or 10000"))?,
    };
    Ok((crate::web::admin::given(&fields, "province"), scenario))
}

/// The provinces the caller works in (code, name), in code order.
async fn provinces_of(app: &AppState, scope: &Scope) -> Result<Vec<(String, String)>, ApiError> {
    let roots = app.store.area_children(None, None, 100).await?.items;
    Ok(roots
        .into_iter()
        .filter(|a| match scope {
            Scope::All => true,
            Scope::Limited { paths, .. } => paths
                .iter()
                .any(|p| vaxgrid_core::area::province_of_path(p) == a.code),
        })
        .map(|a| (a.code, a.name))
        .collect())
}

/// A region's line colour and dash: its place among the projection's
/// regions; the province as one (`*`) is dark grey.
fn style_of(region: &str, regions: &[String]) -> (&'static str, &'static str) {
    if region == "*" {
        return ("#3a424c", "");
    }
    let i = regions
        .iter()
        .filter(|r| r.as_str() != "*")
        .position(|r| r == region)
        .unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// What one tier's chart is drawn from.
struct TierChart<'a> {
    lang: Lang,
    tier: Tier,
    projection: &'a Projection,
    all_regions: &'a [String],
    names: &'a HashMap<String, String>,
}

impl<'a> TierChart<'a> {
    /// The regions the projection has beds of this tier for.
    fn regions(&self) -> Vec<&'a String> {
        self.all_regions
            .iter()
            .filter(|r| {
                self.projection
                    .tiers
                    .iter()
                    .any(|o| o.tier == self.tier && &&o.region == r)
            })
            .collect()
    }

    /// The most beds needed or open on any day, 1 at least.
    fn peak(&self) -> f64 {
        self.projection
            .days
            .iter()
            .flat_map(|d| d.beds.iter().filter(|b| b.tier == self.tier))
            .map(|b| b.need.max(b.open))
            .fold(1.0_f64, f64::max)
    }

    /// Each region's need line (thick, its own colour and dash) and open
    /// beds line (thin, dotted, the same colour); regions without a day of
    /// beds are left out.
    fn lines(&self, plot: &Plot) -> (Vec<Line>, Vec<Line>) {
        let (lang, tier) = (self.lang, self.tier);
        let mut needs = Vec::new();
        let mut opens = Vec::new();
        for region in self.regions() {
            let (colour, dash) = style_of(region, self.all_regions);
            let series = |f: fn(&surge::Beds) -> f64| -> Vec<(f64, f64)> {
                self.projection
                    .days
                    .iter()
                    .filter_map(|d| {
                        d.beds_of(region, tier)
                            .map(|b| (plot.x(f64::from(d.day)), plot.y(f(b))))
                    })
                    .collect()
            };
            let need = series(|b| b.need);
            if need.is_empty() {
                continue;
            }
            let name = region_text(lang, region, self.names);
            needs.push(Line {
                colour,
                dash,
                points: Plot::points(need),
                title: lang.t1("outbreak-fac-line-need", "region", name.clone()),
            });
            opens.push(Line {
                colour,
                dash: "1 3",
                points: Plot::points(series(|b| b.open)),
                title: lang.t1("outbreak-fac-line-open", "region", name),
            });
        }
        (needs, opens)
    }
}

/// One chart per tier: each region's need (thick, its own colour and dash)
/// and open beds (thin, dotted, the same colour) by day of the projection.
fn chart(
    lang: Lang,
    id: &str,
    tier: Tier,
    projection: &Projection,
    all_regions: &[String],
    names: &HashMap<String, String>,
    start: time::Date,
) -> String {
    let drawn = TierChart {
        lang,
        tier,
        projection,
        all_regions,
        names,
    };
    let (width, height, left, top, bottom) = (640.0_f64, 220.0_f64, 56.0, 10.0, 24.0);
    let days = projection.days.len().max(1);
    let peak = drawn.peak();
    let plot = Plot {
        left,
        top,
        width: width - left - 8.0,
        height: height - top - bottom,
        x_range: (0.0, (days - 1).max(1) as f64),
        y_range: (0.0, peak * 1.05),
    };
    let (needs, opens) = drawn.lines(&plot);
    let last_day = start + time::Duration::days(days as i64 - 1);
    BedsChart {
        id: id.to_string(),
        title: lang.t1("outbreak-fac-chart-title", "tier", tier_text(lang, tier)),
        desc: lang.ta(
            "outbreak-fac-chart-desc",
            vec![
                ("days", (days as i64).into()),
                ("from", lang.date(start).into()),
                ("to", lang.date(last_day).into()),
                ("peak", lang.int(peak.round() as i64).into()),
            ],
        ),
        width,
        height,
        left,
        top,
        plot_w: plot.width,
        base: plot.base(),
        needs,
        opens,
        top_label: lang.int((peak * 1.05).round() as i64),
        first: lang.date(start),
        last: lang.date(last_day),
        label_y: height - 6.0,
    }
    .render()
    .unwrap_or_default()
}

/// `GET /outbreak/facilities`
#[utoipa::path(
    get,
    path = "/outbreak/facilities",
    summary = "The facilities board (HTML; ReadOutbreak): a province's treatment beds by region and tier today (open, occupied, free, all beds including facilities not yet active), the facilities to activate now, each facility's beds and stage, and the projection of a shipped scenario over the province's stored facilities — the day each region's tier runs out, and an SVG chart per tier of need against open beds by region. Only facilities in the caller's areas count. 404 for a province outside them",
    params(
        ("province" = Option<String>, Query, description = "a province code (the caller's first province unless said)"),
        ("scenario" = Option<u32>, Query, description = "the shipped scenario: 1000, 5000 or 10000 cases (10000 unless said)")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad query", content_type = "text/html"),
        (status = 404, description = "the error page: no such province in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = ctx.lang;
    let (asked, scenario_n) = match query(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return error_page(&ctx, e),
    };
    let board = match Board::load(&app, &caller, asked, scenario_n).await {
        Ok(b) => b,
        Err(e) => return error_page(&ctx, e),
    };
    let (advice, projection, names, today) =
        (&board.advice, &board.projection, &board.names, board.today);
    let regions = regions_of(projection);
    let page = FacilitiesPage {
        title: lang.t("outbreak-fac-title"),
        scenarios: surge::SHIPPED
            .iter()
            .map(|&n| {
                (
                    n,
                    lang.t1("outbreak-fac-scenario", "cases", lang.int(i64::from(n))),
                )
            })
            .collect(),
        scenario: scenario_n,
        scenario_name: lang.t1(
            "outbreak-fac-scenario-name",
            "cases",
            lang.int(i64::from(scenario_n)),
        ),
        cumulative: lang.int(advice.cumulative_cases),
        today: today_rows(lang, advice, names),
        advice: advice_rows(lang, advice, &board.stored, names),
        facilities: facility_rows(lang, &board.stored, names, today),
        planned_over_stored: board.over_stored,
        plan_note: board.note,
        outlook: outlook_rows(lang, projection, names, today),
        charts: charts(lang, projection, &regions, names, today),
        legend: legend(lang, &regions, names),
        province: board.province,
        provinces: board.provinces,
        ctx,
    };
    render_status(StatusCode::OK, &page)
}

/// What the board shows, read for the caller.
struct Board {
    /// The provinces the caller works in, and the one shown.
    provinces: Vec<(String, String)>,
    province: String,
    advice: vaxgrid_store::outbreak_facilities::ActivationAdvice,
    stored: Vec<vaxgrid_store::outbreak_facilities::FacilityRecord>,
    projection: Projection,
    /// Whether the projection is over the stored facilities (else over
    /// the scenario's own beds, with the `note` why).
    over_stored: bool,
    note: String,
    /// The scenario's region names, by code.
    names: HashMap<String, String>,
    today: time::Date,
}

impl Board {
    async fn load(
        app: &AppState,
        caller: &Caller,
        asked: Option<String>,
        scenario_n: u32,
    ) -> Result<Board, ApiError> {
        let actor = caller.actor(app, Permission::ReadOutbreak).await?;
        let provinces = provinces_of(app, &actor.scope).await?;
        let province = match asked {
            Some(p) => crate::api::outbreak_facilities::province_in(app, &p, &actor.scope).await?,
            None => provinces
                .first()
                .map(|p| p.0.clone())
                .ok_or(ApiError::Absent {
                    entity: "area",
                    key: String::new(),
                })?,
        };
        let today = app.store.today();
        let advice = app
            .store
            .activation_advice(&province, today, &actor.scope)
            .await?;
        let stored = app.store.facilities(&actor.scope, Some(&province)).await?;
        let shipped = surge::shipped(scenario_n).expect("a shipped scenario");
        let names: HashMap<String, String> = shipped
            .regions
            .iter()
            .map(|r| (r.code.clone(), r.name.clone()))
            .collect();
        let (projection, over_stored, note) =
            projection_over_stored(app, shipped, &province, &actor.scope).await?;
        Ok(Board {
            provinces,
            province,
            advice,
            stored,
            projection,
            over_stored,
            note,
            names,
            today,
        })
    }
}

/// The shipped scenario projected over the province's stored facilities;
/// where they cannot stand in for the scenario's beds, over its own beds,
/// with the reason. (projection, over the stored facilities, reason).
async fn projection_over_stored(
    app: &AppState,
    shipped: surge::Scenario,
    province: &str,
    scope: &Scope,
) -> Result<(Projection, bool, String), ApiError> {
    let (projection, over_stored, note) =
        match crate::api::outbreak_facilities::with_stored_facilities(
            app,
            shipped.clone(),
            province,
            scope,
        )
        .await
        {
            Ok(s) => (surge::project(&s), true, String::new()),
            Err(ApiError::Invalid(errors)) => (
                surge::project(&shipped),
                false,
                errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ),
            Err(e) => return Err(e),
        };
    let projection = projection.map_err(|e| ApiError::invalid(e.field, e.reason))?;
    Ok((projection, over_stored, note))
}

/// Today's beds by region and tier, where there are any.
fn today_rows(
    lang: Lang,
    advice: &vaxgrid_store::outbreak_facilities::ActivationAdvice,
    names: &HashMap<String, String>,
) -> Vec<TodayRow> {
    advice
        .tiers
        .iter()
        .filter(|t| t.all_beds > 0 || t.occupied > 0)
        .map(|t| TodayRow {
            region: region_text(lang, &t.region, names),
            tier: tier_text(lang, t.tier),
            open: lang.int(t.open_beds),
            occupied: lang.int(t.occupied),
            free: lang.int((t.open_beds - t.occupied).max(0)),
            all: lang.int(t.all_beds),
            share: if t.open_beds > 0 {
                lang.percent(t.occupied, t.open_beds)
            } else {
                "—".into()
            },
            busy: t.occupied * 100 >= t.open_beds * vaxgrid_core::outbreak::beds::ACTIVATE_AT_PCT
                && t.occupied > 0,
        })
        .collect()
}

/// The facilities to activate now, and why.
fn advice_rows(
    lang: Lang,
    advice: &vaxgrid_store::outbreak_facilities::ActivationAdvice,
    stored: &[vaxgrid_store::outbreak_facilities::FacilityRecord],
    names: &HashMap<String, String>,
) -> Vec<AdviceRow> {
    let by_code: HashMap<&str, &vaxgrid_store::outbreak_facilities::FacilityRecord> =
        stored.iter().map(|f| (f.code.as_str(), f)).collect();
    advice
        .recommendations
        .iter()
        .map(|r| AdviceRow {
            facility: by_code.get(r.facility.as_str()).map_or_else(
                || r.facility.clone(),
                |f| format!("{} ({})", f.name, f.code),
            ),
            region: region_text(lang, &r.region, names),
            reason: if r.reason == "stage" {
                lang.t1(
                    "outbreak-fac-reason-stage",
                    "cases",
                    lang.int(r.activate_at_cases),
                )
            } else {
                let tier = if r.reason == Tier::MildModerate.as_str() {
                    Tier::MildModerate
                } else {
                    Tier::SevereCritical
                };
                lang.t1("outbreak-fac-reason-full", "tier", tier_text(lang, tier))
            },
        })
        .collect()
}

/// Each stored facility's beds, stage and whether it is active today.
fn facility_rows(
    lang: Lang,
    stored: &[vaxgrid_store::outbreak_facilities::FacilityRecord],
    names: &HashMap<String, String>,
    today: time::Date,
) -> Vec<FacilityRow> {
    stored
        .iter()
        .map(|f| FacilityRow {
            code: f.code.clone(),
            name: f.name.clone(),
            region: region_text(lang, &f.region, names),
            mild: lang.int(f.mild_moderate_beds),
            severe: if f.icu_beds > 0 {
                lang.t2(
                    "outbreak-fac-severe-icu",
                    "beds",
                    lang.int(f.severe_critical_beds),
                    "icu",
                    lang.int(f.icu_beds),
                )
            } else {
                lang.int(f.severe_critical_beds)
            },
            stage: lang.int(f.activate_at_cases),
            active: match &f.activated_on {
                Some(d) if f.active_on(today) => {
                    lang.t1("outbreak-fac-active-since", "day", lang.date_text(d))
                }
                _ => lang.t("outbreak-fac-not-active"),
            },
            is_active: f.active_on(today),
        })
        .collect()
}

/// Each region's tier in the projection: its beds, peak need and the day
/// it runs out.
fn outlook_rows(
    lang: Lang,
    projection: &Projection,
    names: &HashMap<String, String>,
    today: time::Date,
) -> Vec<OutlookRow> {
    projection
        .tiers
        .iter()
        .map(|o| OutlookRow {
            region: region_text(lang, &o.region, names),
            tier: tier_text(lang, o.tier),
            capacity: lang.int(o.capacity.round() as i64),
            peak: lang.ta(
                "outbreak-fac-peak",
                vec![
                    ("need", lang.int(o.peak_need.round() as i64).into()),
                    (
                        "day",
                        lang.date(today + time::Duration::days(i64::from(o.peak_day)))
                            .into(),
                    ),
                ],
            ),
            runs_out: o.runs_out.map_or_else(
                || lang.t("outbreak-fac-never"),
                |d| lang.date(today + time::Duration::days(i64::from(d))),
            ),
            short: o.runs_out.is_some(),
        })
        .collect()
}

/// Every region of the projection in order of appearance: each keeps its
/// colour and dash in every chart and in the legend.
fn regions_of(projection: &Projection) -> Vec<String> {
    let mut regions: Vec<String> = Vec::new();
    for o in &projection.tiers {
        if !regions.contains(&o.region) {
            regions.push(o.region.clone());
        }
    }
    regions
}

/// A chart per tier.
fn charts(
    lang: Lang,
    projection: &Projection,
    regions: &[String],
    names: &HashMap<String, String>,
    today: time::Date,
) -> Vec<ChartBlock> {
    Tier::ALL
        .into_iter()
        .map(|tier| {
            let id = format!("beds-{}", tier.as_str().replace('_', "-"));
            ChartBlock {
                heading: tier_text(lang, tier),
                svg: chart(lang, &id, tier, projection, regions, names, today),
                id,
            }
        })
        .collect()
}

/// The charts' legend: each region's need line, then the open beds'.
fn legend(lang: Lang, regions: &[String], names: &HashMap<String, String>) -> Vec<LegendItem> {
    let mut legend: Vec<LegendItem> = regions
        .iter()
        .map(|r| {
            let (colour, dash) = style_of(r, regions);
            LegendItem {
                colour,
                dash,
                text: lang.t1(
                    "outbreak-fac-line-need",
                    "region",
                    region_text(lang, r, names),
                ),
            }
        })
        .collect();
    legend.push(LegendItem {
        colour: "#3a424c",
        dash: "1 3",
        text: lang.t("outbreak-fac-legend-open"),
    });
    legend
}
