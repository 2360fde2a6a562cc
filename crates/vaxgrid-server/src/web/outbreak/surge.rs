//! The surge planner's page: one of the shipped scenarios (article 003's
//! plan for 1,000 / 5,000 / 10,000 cases) as it is, or edited in a form —
//! arrivals, severity mix, lengths of stay, region shares, each
//! facility's beds and stage, the laboratories' capacity, isolation and
//! testing — projected by `surge::project`, the pure function behind
//! `POST /api/v1/outbreak/surge` (its refusals name a field of the
//! scenario, which is the form's field of the same name, so the error
//! shows next to it). Shown: the day each tier of each region runs out,
//! SVG charts of bed need against the open beds and the capacity per tier
//! and region by day, the facilities to activate and when, isolation
//! places and the laboratories' load against their capacity; each chart
//! with a title and description, and the figures as a table.
//!
//! A projection changes nothing, so the form is a GET (bookmarkable, no
//! CSRF token needed).

use std::collections::HashMap;

use askama::Template;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Response;
use vaxgrid_core::access::Permission;
use vaxgrid_core::outbreak::surge::{self, Arrivals, Projection, Scenario, Tier};

use super::super::chart::Plot;
use super::super::supply::holds;
use super::super::{error_page, render_status, PageCtx};
use crate::error::ApiError;
use crate::i18n::Lang;

/// One input of the form: the scenario's field (its JSON path, also the
/// input's name), the id of the input, its label and value as typed.
pub struct Input {
    pub name: String,
    pub id: String,
    pub label: String,
    pub value: String,
}

pub struct FacilityInputs {
    pub name: String,
    pub region: String,
    pub inputs: Vec<Input>,
}

pub struct TierRow {
    pub region: String,
    pub tier: String,
    pub capacity: String,
    pub peak: String,
    pub runs_out: String,
    pub short: bool,
    pub chart: String,
    pub id: String,
}

pub struct ActivationRow {
    pub day: String,
    pub facility: String,
    pub region: String,
    pub reason: String,
}

pub struct DayRow {
    pub day: String,
    pub new_cases: String,
    pub cumulative: String,
    pub beds: Vec<String>,
    pub isolation: String,
    pub lab: String,
    pub confirmatory: String,
}

pub struct Figure {
    pub term: String,
    pub value: String,
    pub short: bool,
}

#[derive(Template)]
#[template(path = "outbreak/surge.html")]
struct SurgePage {
    ctx: PageCtx,
    links: bool,
    base: u32,
    bases: Vec<(u32, String)>,
    name: String,
    source: String,
    growth: bool,
    province_wide: bool,
    general: Vec<Input>,
    growth_inputs: Vec<Input>,
    even_inputs: Vec<Input>,
    severity: Vec<Input>,
    stays: Vec<Input>,
    regions: Vec<Input>,
    isolation: Vec<Input>,
    testing: Vec<Input>,
    facilities: Vec<FacilityInputs>,
    laboratories: Vec<FacilityInputs>,
    errors: HashMap<String, String>,
    general_error: Option<String>,
    facilities_open: bool,
    labs_open: bool,
    figures: Vec<Figure>,
    tiers: Vec<TierRow>,
    lab_chart: String,
    confirm_chart: String,
    activations: Vec<ActivationRow>,
    unit_heads: Vec<String>,
    days: Vec<DayRow>,
}

impl SurgePage {
    fn err(&self, key: &str) -> Option<&String> {
        self.errors.get(key)
    }
}

/// An input's id from its field: letters, digits and dashes.
fn input_id(name: &str) -> String {
    let mut id = String::from("s-");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// What a field holds: a decimal, or a whole number of 0 or more (u32),
/// or a whole number (i64, which the rules check themselves).
#[derive(Clone, Copy)]
enum Kind {
    Decimal,
    Count,
    Whole,
}

/// One field of the form: its name, kind and value as shown.
type Field = (String, Kind, String);

/// Every field the form edits, with its kind and the scenario's value.
fn fields(s: &Scenario) -> Vec<Field> {
    let mut out: Vec<Field> = vec![("days".into(), Kind::Count, s.days.to_string())];
    out.extend(arrival_fields(&s.arrivals));
    out.extend(severity_and_stay_fields(s));
    out.extend(listed_fields(s));
    out.extend(isolation_fields(&s.isolation));
    out.extend(testing_fields(&s.testing));
    out
}

/// The arrivals' fields, both ways of arriving filled so that switching
/// between them in the form starts from the scenario's figures.
fn arrival_fields(arrivals: &Arrivals) -> [Field; 5] {
    let (g_initial, g_pct, g_cap, e_total, e_days) = match arrivals {
        Arrivals::Growth {
            initial,
            daily_growth_pct,
            cap_total,
        } => (
            number_text(*initial),
            number_text(*daily_growth_pct),
            cap_total.map(number_text).unwrap_or_default(),
            cap_total.map_or_else(|| "1000".into(), number_text),
            "30".to_string(),
        ),
        Arrivals::Even { total, over_days } => (
            "10".into(),
            "15".into(),
            number_text(*total),
            number_text(*total),
            over_days.to_string(),
        ),
    };
    [
        ("arrivals.growth.initial".into(), Kind::Decimal, g_initial),
        (
            "arrivals.growth.daily_growth_pct".into(),
            Kind::Decimal,
            g_pct,
        ),
        ("arrivals.growth.cap_total".into(), Kind::Decimal, g_cap),
        ("arrivals.even.total".into(), Kind::Decimal, e_total),
        ("arrivals.even.over_days".into(), Kind::Count, e_days),
    ]
}

/// The severity mix and the lengths of stay.
fn severity_and_stay_fields(s: &Scenario) -> Vec<Field> {
    let m = &s.severity;
    let mut out: Vec<Field> = [
        ("mild", m.mild),
        ("moderate", m.moderate),
        ("severe", m.severe),
        ("critical", m.critical),
    ]
    .into_iter()
    .map(|(k, v)| (format!("severity.{k}"), Kind::Decimal, number_text(v)))
    .collect();
    out.push((
        "stay_days.mild_moderate".into(),
        Kind::Count,
        s.stay_days.mild_moderate.to_string(),
    ));
    out.push((
        "stay_days.severe_critical".into(),
        Kind::Count,
        s.stay_days.severe_critical.to_string(),
    ));
    out
}

/// The fields of the scenario's lists: each region's share, each
/// facility's beds and activation, each laboratory's capacity.
fn listed_fields(s: &Scenario) -> Vec<Field> {
    let mut out = Vec::new();
    for (i, r) in s.regions.iter().enumerate() {
        out.push((
            format!("regions[{i}].share_pct"),
            Kind::Decimal,
            number_text(r.share_pct),
        ));
    }
    for (i, f) in s.facilities.iter().enumerate() {
        for (k, v) in [
            ("mild_moderate_beds", f.mild_moderate_beds),
            ("severe_critical_beds", f.severe_critical_beds),
            ("activate_at_cases", f.activate_at_cases),
        ] {
            out.push((format!("facilities[{i}].{k}"), Kind::Whole, v.to_string()));
        }
    }
    for (i, l) in s.laboratories.iter().enumerate() {
        for (k, v) in [
            ("single_per_day", l.single_per_day),
            ("confirmatory_per_day", l.confirmatory_per_day),
        ] {
            out.push((format!("laboratories[{i}].{k}"), Kind::Whole, v.to_string()));
        }
    }
    out
}

/// The isolation of contacts.
fn isolation_fields(iso: &surge::Isolation) -> [Field; 4] {
    [
        (
            "isolation.contacts_per_case".into(),
            Kind::Decimal,
            number_text(iso.contacts_per_case),
        ),
        (
            "isolation.facility_share_pct".into(),
            Kind::Decimal,
            number_text(iso.facility_share_pct),
        ),
        (
            "isolation.facility_days".into(),
            Kind::Count,
            iso.facility_days.to_string(),
        ),
        (
            "isolation.home_days".into(),
            Kind::Count,
            iso.home_days.to_string(),
        ),
    ]
}

/// The testing of the screened.
fn testing_fields(t: &surge::Testing) -> [Field; 3] {
    [
        (
            "testing.screening_per_day".into(),
            Kind::Decimal,
            number_text(t.screening_per_day),
        ),
        (
            "testing.pool_size".into(),
            Kind::Count,
            t.pool_size.to_string(),
        ),
        (
            "testing.prevalence_pct".into(),
            Kind::Decimal,
            number_text(t.prevalence_pct),
        ),
    ]
}

/// The index and the rest of `regions[2].share_pct` after `prefix`.
fn indexed<'a>(name: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('[')?;
    let (i, rest) = rest.split_once(']')?;
    Some((i.parse().ok()?, rest.strip_prefix('.')?))
}

/// Sets one field of the scenario from its value (already parsed).
fn set(s: &mut Scenario, name: &str, v: f64) {
    let count = v as u32;
    let whole = v as i64;
    match name {
        "days" => s.days = count,
        "severity.mild" => s.severity.mild = v,
        "severity.moderate" => s.severity.moderate = v,
        "severity.severe" => s.severity.severe = v,
        "severity.critical" => s.severity.critical = v,
        "stay_days.mild_moderate" => s.stay_days.mild_moderate = count,
        "stay_days.severe_critical" => s.stay_days.severe_critical = count,
        "isolation.contacts_per_case" => s.isolation.contacts_per_case = v,
        "isolation.facility_share_pct" => s.isolation.facility_share_pct = v,
        "isolation.facility_days" => s.isolation.facility_days = count,
        "isolation.home_days" => s.isolation.home_days = count,
        "testing.screening_per_day" => s.testing.screening_per_day = v,
        "testing.pool_size" => s.testing.pool_size = count,
        "testing.prevalence_pct" => s.testing.prevalence_pct = v,
        _ => {
            if let Some((i, "share_pct")) = indexed(name, "regions") {
                if let Some(r) = s.regions.get_mut(i) {
                    r.share_pct = v;
                }
            } else if let Some((i, field)) = indexed(name, "facilities") {
                if let Some(f) = s.facilities.get_mut(i) {
                    match field {
                        "mild_moderate_beds" => f.mild_moderate_beds = whole,
                        "severe_critical_beds" => f.severe_critical_beds = whole,
                        "activate_at_cases" => f.activate_at_cases = whole,
                        _ => {}
                    }
                }
            } else if let Some((i, field)) = indexed(name, "laboratories") {
                if let Some(l) = s.laboratories.get_mut(i) {
                    match field {
                        "single_per_day" => l.single_per_day = whole,
                        "confirmatory_per_day" => l.confirmatory_per_day = whole,
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The message key of a field the rules refused.
fn rule_key(field: &str) -> &'static str {
    let base: String = {
        let mut out = String::new();
        let mut skip = false;
        for c in field.chars() {
            match c {
                '[' => skip = true,
                ']' => skip = false,
                c if !skip => out.push(c),
                _ => {}
            }
        }
        out
    };
    match base.as_str() {
        "days" => "outbreak-err-surge-days",
        "severity" => "outbreak-err-surge-severity-sum",
        "regions" => "outbreak-err-surge-regions-sum",
        "severity.mild"
        | "severity.moderate"
        | "severity.severe"
        | "severity.critical"
        | "regions.share_pct"
        | "isolation.facility_share_pct"
        | "testing.prevalence_pct" => "outbreak-err-surge-share",
        "stay_days.mild_moderate" | "stay_days.severe_critical" => "outbreak-err-surge-stay",
        "arrivals.growth.daily_growth_pct" => "outbreak-err-surge-growth",
        "arrivals.even.over_days" => "outbreak-err-surge-over-days",
        "isolation.facility_days" | "isolation.home_days" => "outbreak-err-surge-isolation-days",
        "testing.pool_size" => "outbreak-err-surge-pool",
        "arrivals.even.total"
        | "arrivals.growth.initial"
        | "arrivals.growth.cap_total"
        | "isolation.contacts_per_case"
        | "testing.screening_per_day"
        | "facilities.mild_moderate_beds"
        | "facilities.severe_critical_beds"
        | "facilities.activate_at_cases"
        | "laboratories.single_per_day"
        | "laboratories.confirmatory_per_day" => "outbreak-err-surge-negative",
        _ => "outbreak-err-surge-other",
    }
}

/// The form as sent: the base scenario, and the fields typed.
struct Sent {
    base: u32,
    edited: bool,
    growth: bool,
    province_wide: Option<bool>,
    values: HashMap<String, String>,
}

fn sent(raw: Option<&str>) -> Result<Sent, ApiError> {
    let mut out = Sent {
        base: 1000,
        edited: false,
        growth: true,
        province_wide: None,
        values: HashMap::new(),
    };
    let mut wide = false;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let k = k.into_owned();
        match k.as_str() {
            "scenario" => {
                out.base = v
                    .parse()
                    .ok()
                    .filter(|n| surge::SHIPPED.contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request("scenario", "scenario is 1000, 5000 or 10000")
                    })?;
            }
            "edited" => out.edited = true,
            "arrivals" => out.growth = v != "even",
            "severe_critical_province_wide" => wide = true,
            _ => {
                out.values.insert(k.clone(), v.into_owned());
            }
        }
    }
    if out.edited {
        out.province_wide = Some(wide);
    }
    Ok(out)
}

/// Parses a typed number of `kind`.
fn parse(text: &str, kind: Kind) -> Result<Option<f64>, &'static str> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t.parse().map_err(|_| "outbreak-err-surge-number")?;
    if !v.is_finite() {
        return Err("outbreak-err-surge-number");
    }
    match kind {
        Kind::Decimal => Ok(Some(v)),
        Kind::Count if v.fract() != 0.0 || v < 0.0 || v > f64::from(u32::MAX) => {
            Err("outbreak-err-surge-count")
        }
        Kind::Whole if v.fract() != 0.0 || v.abs() > 1e15 => Err("outbreak-err-surge-whole"),
        _ => Ok(Some(v)),
    }
}

fn label_of(lang: Lang, s: &Scenario, name: &str) -> String {
    if let Some((i, _)) = indexed(name, "regions") {
        return s.regions.get(i).map(|r| r.name.clone()).unwrap_or_default();
    }
    let field = name.rsplit('.').next().unwrap_or(name);
    let key = if indexed(name, "facilities").is_some() || indexed(name, "laboratories").is_some() {
        format!("outbreak-surge-f-{field}")
    } else {
        format!("outbreak-surge-f-{}", name.replace('.', "-"))
    };
    lang.t(&key)
}

fn day_text(lang: Lang, d: Option<u32>) -> String {
    match d {
        Some(d) => lang.t1("outbreak-surge-day", "day", i64::from(d)),
        None => lang.t("outbreak-surge-never"),
    }
}

fn tier_text(lang: Lang, t: Tier) -> String {
    lang.t(match t {
        Tier::MildModerate => "outbreak-tier-mild_moderate",
        Tier::SevereCritical => "outbreak-tier-severe_critical",
    })
}

fn region_name(lang: Lang, s: &Scenario, code: &str) -> String {
    if code == "*" {
        return lang.t("outbreak-region-all");
    }
    s.regions
        .iter()
        .find(|r| r.code == code)
        .map_or_else(|| code.to_string(), |r| r.name.clone())
}

pub struct Series {
    pub points: String,
    pub css: &'static str,
}

pub struct Marker {
    pub x: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "outbreak/surge_chart.svg")]
struct Chart {
    id: String,
    title: String,
    desc: String,
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    plot_w: f64,
    base: f64,
    series: Vec<Series>,
    capacity_y: String,
    capacity_label: String,
    top_label: String,
    marker: Option<Marker>,
    first: String,
    last: String,
    label_y: f64,
}

/// A chart of a need by day against what is open and the capacity: need
/// as a line, open as a step line (when given), capacity as a dashed
/// line, the day it runs out marked.
#[expect(
    clippy::too_many_arguments,
    reason = "a chart's parts, each named at the call"
)]
fn need_chart(
    lang: Lang,
    id: &str,
    title: String,
    desc: String,
    need: &[f64],
    open: Option<&[f64]>,
    capacity: f64,
    runs_out: Option<u32>,
) -> String {
    let (width, height, left, top, bottom) = (640.0_f64, 220.0_f64, 64.0, 12.0, 26.0);
    let top_value = need
        .iter()
        .copied()
        .chain(open.unwrap_or(&[]).iter().copied())
        .chain([capacity])
        .fold(1.0_f64, f64::max)
        * 1.1;
    let last = need.len().saturating_sub(1).max(1) as f64;
    let plot = Plot {
        left,
        top,
        width: width - left - 10.0,
        height: height - top - bottom,
        x_range: (0.0, last),
        y_range: (0.0, top_value),
    };
    let mut series = vec![Series {
        points: Plot::points(
            need.iter()
                .enumerate()
                .map(|(d, v)| (plot.x(d as f64), plot.y(*v))),
        ),
        css: "need",
    }];
    if let Some(open) = open {
        let mut steps = Vec::new();
        for (d, v) in open.iter().enumerate() {
            if d > 0 {
                steps.push((plot.x(d as f64), plot.y(open[d - 1])));
            }
            steps.push((plot.x(d as f64), plot.y(*v)));
        }
        series.push(Series {
            points: Plot::points(steps),
            css: "open",
        });
    }
    Chart {
        id: id.to_string(),
        title,
        desc,
        width,
        height,
        left,
        top,
        plot_w: plot.width,
        base: plot.base(),
        series,
        capacity_y: format!("{:.1}", plot.y(capacity)),
        capacity_label: lang.int(capacity.round() as i64),
        top_label: lang.int(top_value.round() as i64),
        marker: runs_out.map(|d| Marker {
            x: format!("{:.1}", plot.x(f64::from(d))),
            label: day_text(lang, Some(d)),
        }),
        first: day_text(lang, Some(0)),
        last: day_text(lang, Some(need.len().saturating_sub(1) as u32)),
        label_y: height - 8.0,
    }
    .render()
    .unwrap_or_default()
}

fn inputs(
    lang: Lang,
    s: &Scenario,
    all: &[(String, Kind, String)],
    values: &HashMap<String, String>,
    pick: impl Fn(&str) -> bool,
) -> Vec<Input> {
    all.iter()
        .filter(|(n, _, _)| pick(n))
        .map(|(n, _, v)| Input {
            id: input_id(n),
            label: label_of(lang, s, n),
            value: values.get(n).cloned().unwrap_or_else(|| v.clone()),
            name: n.clone(),
        })
        .collect()
}

/// `GET /outbreak/surge`
#[utoipa::path(
    get,
    path = "/outbreak/surge",
    summary = "The surge planner (HTML; PlanSurge): a shipped scenario (`scenario` = 1000, 5000 or 10000: article 003's plan), or one edited in the page's form — each field named by its JSON path in the scenario (`days`, `severity.mild`, `regions[0].share_pct`, `facilities[3].mild_moderate_beds`, …; `arrivals` = growth or even; `edited` marks a sent form) — projected by the API's own planner: the day each tier of each region runs out, SVG charts of bed need against open beds and capacity by day, facilities to activate, isolation places and the laboratories' load against their capacity, and the figures as a table. A refused scenario is the form again (422) with the rule next to its field",
    params(
        ("scenario" = Option<u32>, Query, description = "1000, 5000 or 10000 (1000 unless said)"),
        ("edited" = Option<String>, Query, description = "present when the form was sent: the fields below replace the scenario's"),
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: an unknown scenario", content_type = "text/html"),
        (status = 422, description = "the form again with the rule next to the field", content_type = "text/html"),
    )
)]
pub async fn page(ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let form = match sent(raw.as_deref()) {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let Some(base) = surge::shipped(form.base) else {
        return error_page(
            &ctx,
            ApiError::bad_request("scenario", "scenario is 1000, 5000 or 10000"),
        );
    };
    let all = fields(&base);
    let (s, mut errors) = edited(lang, &form, &base, &all);
    let (projection, general_error) = if errors.is_empty() {
        project(lang, &s, &all, &mut errors)
    } else {
        (None, None)
    };
    let status = if projection.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let shown = if form.edited {
        form.values.clone()
    } else {
        HashMap::new()
    };
    let group = |prefix: &str| inputs(lang, &base, &all, &shown, |n| n.starts_with(prefix));
    let mut page = SurgePage {
        links: holds(&ctx, Permission::ReadOutbreak),
        base: form.base,
        bases: surge::SHIPPED
            .iter()
            .map(|n| {
                (
                    *n,
                    lang.t1("outbreak-surge-scenario", "cases", i64::from(*n)),
                )
            })
            .collect(),
        name: base.name.clone(),
        source: base.source.clone(),
        growth: if form.edited {
            form.growth
        } else {
            matches!(base.arrivals, Arrivals::Growth { .. })
        },
        province_wide: s.severe_critical_province_wide,
        general: inputs(lang, &base, &all, &shown, |n| n == "days"),
        growth_inputs: group("arrivals.growth."),
        even_inputs: group("arrivals.even."),
        severity: group("severity."),
        stays: group("stay_days."),
        regions: group("regions["),
        isolation: group("isolation."),
        testing: group("testing."),
        facilities: facility_inputs(lang, &base, &all, &shown),
        laboratories: laboratory_inputs(lang, &base, &all, &shown),
        facilities_open: errors.keys().any(|k| k.starts_with("facilities[")),
        labs_open: errors.keys().any(|k| k.starts_with("laboratories[")),
        errors,
        general_error,
        figures: Vec::new(),
        tiers: Vec::new(),
        lab_chart: String::new(),
        confirm_chart: String::new(),
        activations: Vec::new(),
        unit_heads: Vec::new(),
        days: Vec::new(),
        ctx,
    };
    if let Some(p) = projection {
        fill(lang, &s, &p, &mut page);
    }
    render_status(status, &page)
}

/// The scenario the form describes: the shipped `base` with each field
/// sent in its place, and the fields refused (by name, with the reason).
/// The base alone when the form was not sent.
fn edited(
    lang: Lang,
    form: &Sent,
    base: &Scenario,
    all: &[(String, Kind, String)],
) -> (Scenario, HashMap<String, String>) {
    let mut s = base.clone();
    let mut errors: HashMap<String, String> = HashMap::new();
    if !form.edited {
        return (s, errors);
    }
    for (name, kind, _) in all {
        let Some(text) = form.values.get(name) else {
            continue;
        };
        match parse(text, *kind) {
            Ok(Some(v)) => set(&mut s, name, v),
            Ok(None) if name == "arrivals.growth.cap_total" => {}
            Ok(None) => {
                errors.insert(name.clone(), lang.t("outbreak-err-surge-number"));
            }
            Err(key) => {
                errors.insert(name.clone(), lang.t(key));
            }
        }
    }
    let v = |n: &str, d: f64| {
        form.values
            .get(n)
            .and_then(|t| parse(t, Kind::Decimal).ok().flatten())
            .unwrap_or(d)
    };
    s.arrivals = if form.growth {
        Arrivals::Growth {
            initial: v("arrivals.growth.initial", 0.0),
            daily_growth_pct: v("arrivals.growth.daily_growth_pct", 0.0),
            cap_total: form
                .values
                .get("arrivals.growth.cap_total")
                .and_then(|t| parse(t, Kind::Decimal).ok().flatten()),
        }
    } else {
        Arrivals::Even {
            total: v("arrivals.even.total", 0.0),
            over_days: v("arrivals.even.over_days", 1.0) as u32,
        }
    };
    if let Some(w) = form.province_wide {
        s.severe_critical_province_wide = w;
    }
    (s, errors)
}

/// The projection of scenario `s`; when the planner refuses it, its
/// refusal next to the field at fault (added to `errors`), or for the
/// whole form.
fn project(
    lang: Lang,
    s: &Scenario,
    all: &[(String, Kind, String)],
    errors: &mut HashMap<String, String>,
) -> (Option<Projection>, Option<String>) {
    match surge::project(s) {
        Ok(p) => (Some(p), None),
        Err(e) => {
            let message = refusal_text(lang, s, &e);
            if all.iter().any(|(n, _, _)| *n == e.field)
                || e.field == "severity"
                || e.field == "regions"
            {
                errors.insert(e.field.clone(), message);
                (None, None)
            } else {
                (None, Some(message))
            }
        }
    }
}

/// The planner's refusal of scenario `s` in the reader's language, with
/// the figure at fault where the rule has one.
fn refusal_text(lang: Lang, s: &Scenario, e: &surge::SurgeError) -> String {
    let key = rule_key(&e.field);
    match key {
        "outbreak-err-surge-severity-sum" => {
            let m = &s.severity;
            lang.t1(
                key,
                "sum",
                lang.decimal(m.mild + m.moderate + m.severe + m.critical, 1),
            )
        }
        "outbreak-err-surge-regions-sum" => lang.t1(
            key,
            "sum",
            lang.decimal(s.regions.iter().map(|r| r.share_pct).sum(), 1),
        ),
        "outbreak-err-surge-pool" => lang.t1(
            key,
            "max",
            i64::from(s.laboratories.iter().map(|l| l.max_pool).max().unwrap_or(0)),
        ),
        k => lang.t(k),
    }
}

/// Each facility's fields, under its name and region.
fn facility_inputs(
    lang: Lang,
    base: &Scenario,
    all: &[(String, Kind, String)],
    shown: &HashMap<String, String>,
) -> Vec<FacilityInputs> {
    base.facilities
        .iter()
        .enumerate()
        .map(|(i, f)| FacilityInputs {
            name: f.name.clone(),
            region: region_name(lang, base, &f.region),
            inputs: inputs(lang, base, all, shown, |n| {
                indexed(n, "facilities").is_some_and(|(j, _)| j == i)
            }),
        })
        .collect()
}

/// Each laboratory's fields, under its name.
fn laboratory_inputs(
    lang: Lang,
    base: &Scenario,
    all: &[(String, Kind, String)],
    shown: &HashMap<String, String>,
) -> Vec<FacilityInputs> {
    base.laboratories
        .iter()
        .enumerate()
        .map(|(i, l)| FacilityInputs {
            name: l.name.clone(),
            region: String::new(),
            inputs: inputs(lang, base, all, shown, |n| {
                indexed(n, "laboratories").is_some_and(|(j, _)| j == i)
            }),
        })
        .collect()
}

/// The projection's figures, charts and tables.
fn fill(lang: Lang, s: &Scenario, p: &Projection, page: &mut SurgePage) {
    page.figures = figures(lang, s, p);
    page.tiers = tier_rows(lang, s, p);
    page.lab_chart = lab_chart(lang, p);
    page.confirm_chart = confirm_chart(lang, p);
    page.activations = activation_rows(lang, s, p);
    page.unit_heads = p
        .tiers
        .iter()
        .map(|t| {
            format!(
                "{} · {}",
                tier_text(lang, t.tier),
                region_name(lang, s, &t.region)
            )
        })
        .collect();
    page.days = day_rows(lang, p);
}

/// The projection's headline figures: cases, isolation, laboratories and
/// teams.
fn figures(lang: Lang, s: &Scenario, p: &Projection) -> Vec<Figure> {
    let l = &p.lab;
    let total: f64 = p.days.last().map_or(0.0, |d| d.cumulative_cases);
    let figure = |key: &str, value: String, short: bool| Figure {
        term: lang.t(key),
        value,
        short,
    };
    vec![
        figure(
            "outbreak-surge-cases",
            lang.int(total.round() as i64),
            false,
        ),
        figure(
            "outbreak-surge-iso-facility",
            lang.int(p.peak_isolation_facility.round() as i64),
            false,
        ),
        figure(
            "outbreak-surge-iso-home",
            lang.int(p.peak_isolation_home.round() as i64),
            false,
        ),
        figure(
            "outbreak-surge-labs",
            lang.ta(
                "outbreak-surge-labs-value",
                vec![
                    ("labs", l.laboratories.into()),
                    ("single", (l.single_per_day.round() as i64).into()),
                    ("pooled", (l.pooled_people_per_day.round() as i64).into()),
                    (
                        "confirmatory",
                        (l.confirmatory_per_day.round() as i64).into(),
                    ),
                ],
            ),
            false,
        ),
        figure(
            "outbreak-surge-per-pool",
            lang.decimal(l.tests_per_pool, 3),
            false,
        ),
        figure(
            "outbreak-surge-lab-runs-out",
            day_text(lang, l.runs_out),
            l.runs_out.is_some(),
        ),
        figure(
            "outbreak-surge-confirm-runs-out",
            day_text(lang, l.confirmatory_runs_out),
            l.confirmatory_runs_out.is_some(),
        ),
        figure(
            "outbreak-surge-teams",
            lang.ta(
                "outbreak-surge-teams-value",
                vec![
                    ("rapid", i64::from(s.teams.rapid_response).into()),
                    ("ambulance", i64::from(s.teams.ambulance).into()),
                    ("specialist", i64::from(s.teams.specialist).into()),
                ],
            ),
            false,
        ),
    ]
}

/// Each region's tier: its chart of need against open beds and capacity,
/// its peak and the day it runs out.
fn tier_rows(lang: Lang, s: &Scenario, p: &Projection) -> Vec<TierRow> {
    p.tiers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let series = |f: fn(&surge::Beds) -> f64| -> Vec<f64> {
                p.days
                    .iter()
                    .map(|d| d.beds_of(&t.region, t.tier).map_or(0.0, f))
                    .collect()
            };
            let need = series(|b| b.need);
            let open = series(|b| b.open);
            let region = region_name(lang, s, &t.region);
            let tier = tier_text(lang, t.tier);
            let runs_out = day_text(lang, t.runs_out);
            let title = lang.ta(
                "outbreak-surge-chart-title",
                vec![
                    ("tier", tier.clone().into()),
                    ("region", region.clone().into()),
                ],
            );
            let desc = lang.ta(
                "outbreak-surge-chart-desc",
                vec![
                    ("capacity", (t.capacity.round() as i64).into()),
                    ("peak", (t.peak_need.round() as i64).into()),
                    ("peakday", i64::from(t.peak_day).into()),
                    ("runsout", runs_out.clone().into()),
                ],
            );
            let id = format!("tier-{i}");
            TierRow {
                chart: need_chart(
                    lang,
                    &id,
                    title,
                    desc,
                    &need,
                    Some(&open),
                    t.capacity,
                    t.runs_out,
                ),
                id,
                region,
                tier,
                capacity: lang.int(t.capacity.round() as i64),
                peak: lang.ta(
                    "outbreak-surge-peak",
                    vec![
                        ("need", (t.peak_need.round() as i64).into()),
                        ("day", i64::from(t.peak_day).into()),
                    ],
                ),
                runs_out,
                short: t.runs_out.is_some(),
            }
        })
        .collect()
}

/// The laboratories' tests by day against their capacity.
fn lab_chart(lang: Lang, p: &Projection) -> String {
    let l = &p.lab;
    let lab_need: Vec<f64> = p.days.iter().map(|d| d.lab_tests).collect();
    need_chart(
        lang,
        "lab",
        lang.t("outbreak-surge-lab-chart"),
        lang.ta(
            "outbreak-surge-lab-desc",
            vec![
                ("capacity", (l.single_per_day.round() as i64).into()),
                ("peak", (l.peak_tests.round() as i64).into()),
                ("runsout", day_text(lang, l.runs_out).into()),
            ],
        ),
        &lab_need,
        None,
        l.single_per_day,
        l.runs_out,
    )
}

/// The confirmatory tests by day against their capacity.
fn confirm_chart(lang: Lang, p: &Projection) -> String {
    let l = &p.lab;
    let confirm: Vec<f64> = p.days.iter().map(|d| d.confirmatory).collect();
    need_chart(
        lang,
        "confirm",
        lang.t("outbreak-surge-confirm-chart"),
        lang.ta(
            "outbreak-surge-confirm-desc",
            vec![
                ("capacity", (l.confirmatory_per_day.round() as i64).into()),
                (
                    "peak",
                    (confirm.iter().copied().fold(0.0, f64::max).round() as i64).into(),
                ),
                ("runsout", day_text(lang, l.confirmatory_runs_out).into()),
            ],
        ),
        &confirm,
        None,
        l.confirmatory_per_day,
        l.confirmatory_runs_out,
    )
}

/// The facilities to activate, by day, and why.
fn activation_rows(lang: Lang, s: &Scenario, p: &Projection) -> Vec<ActivationRow> {
    p.activations
        .iter()
        .map(|a| ActivationRow {
            day: day_text(lang, Some(a.day)),
            facility: a.facility.clone(),
            region: region_name(lang, s, &a.region),
            reason: match a.reason.as_str() {
                "stage" => lang.t("outbreak-surge-reason-stage"),
                "mild_moderate" => tier_text(lang, Tier::MildModerate),
                "severe_critical" => tier_text(lang, Tier::SevereCritical),
                other => other.to_string(),
            },
        })
        .collect()
}

/// The figures as a table, a row a day: cases, each tier's need against
/// open beds, isolation, and the laboratories' load against capacity.
fn day_rows(lang: Lang, p: &Projection) -> Vec<DayRow> {
    let l = &p.lab;
    p.days
        .iter()
        .map(|d| DayRow {
            day: lang.int(i64::from(d.day)),
            new_cases: lang.int(d.new_cases.round() as i64),
            cumulative: lang.int(d.cumulative_cases.round() as i64),
            beds: p
                .tiers
                .iter()
                .map(|t| {
                    d.beds_of(&t.region, t.tier).map_or_else(String::new, |b| {
                        format!(
                            "{} / {}",
                            lang.int(b.need.round() as i64),
                            lang.int(b.open.round() as i64)
                        )
                    })
                })
                .collect(),
            isolation: format!(
                "{} / {}",
                lang.int(d.isolation_facility.round() as i64),
                lang.int(d.isolation_home.round() as i64)
            ),
            lab: format!(
                "{} / {}",
                lang.int(d.lab_tests.round() as i64),
                lang.int(l.single_per_day.round() as i64)
            ),
            confirmatory: format!(
                "{} / {}",
                lang.int(d.confirmatory.round() as i64),
                lang.int(l.confirmatory_per_day.round() as i64)
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_field_is_edited_and_named_as_the_rules_name_it() {
        for n in surge::SHIPPED {
            let s = surge::shipped(n).unwrap();
            for (name, kind, value) in fields(&s) {
                let mut t = s.clone();
                if name == "arrivals.growth.cap_total" || name.starts_with("arrivals.") {
                    continue;
                }
                let v = parse(&value, kind).unwrap().unwrap();
                set(&mut t, &name, v);
                assert_eq!(t, s, "{name} round-trips");
                set(&mut t, &name, -1.0);
                if matches!(kind, Kind::Decimal | Kind::Whole) {
                    assert_ne!(t, s, "{name} is set");
                }
            }
        }
        assert_eq!(input_id("regions[2].share_pct"), "s-regions-2-share_pct");
        assert_eq!(rule_key("regions[2].share_pct"), "outbreak-err-surge-share");
        assert_eq!(
            rule_key("facilities[0].activate_at_cases"),
            "outbreak-err-surge-negative"
        );
        assert_eq!(parse("37,5", Kind::Decimal), Ok(Some(37.5)));
        assert_eq!(parse("2.5", Kind::Count), Err("outbreak-err-surge-count"));
        assert_eq!(parse("x", Kind::Whole), Err("outbreak-err-surge-number"));
    }

    #[test]
    fn either_way_of_arriving_fills_the_other_ways_fields_to_start_from() {
        let values = |a: &Arrivals| arrival_fields(a).map(|(_, _, v)| v);
        assert_eq!(
            values(&Arrivals::Even {
                total: 500.0,
                over_days: 20
            }),
            ["10", "15", "500", "500", "20"]
        );
        assert_eq!(
            values(&Arrivals::Growth {
                initial: 2.5,
                daily_growth_pct: 12.0,
                cap_total: None
            }),
            ["2.5", "12", "", "1000", "30"]
        );
    }
}
