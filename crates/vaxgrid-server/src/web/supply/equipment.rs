//! A fridge's (any cold-chain equipment's) page: its temperature over a
//! period as an SVG chart drawn on the server — the allowed range as a
//! band, the readings as a line, readings out of range marked, each
//! excursion shaded with its description — with a title and description
//! for screen readers and the same readings as a table by hour; and the
//! excursions of the period with the lots each quarantined.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use time::OffsetDateTime;
use vaxgrid_core::access::Permission;
use vaxgrid_store::cold_chain::{StoredExcursion, StoredReading};
use vaxgrid_store::supply::Equipment;

use super::super::chart::Plot;
use super::super::{error_page, render_status, PageCtx};
use super::{excursion_text, seg};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Readings read for one chart at most (a logger every minute for a week
/// is 10,080).
const READINGS_READ: usize = 20_000;
/// The longest period a chart shows, in days.
const LONGEST_DAYS: i64 = 31;
/// Out-of-range readings marked with a dot, at most.
const MARKS: usize = 400;

struct Shade {
    x: String,
    w: String,
    title: String,
}

struct Mark {
    cx: String,
    cy: String,
}

#[derive(Template)]
#[template(path = "supply/temperature_chart.svg")]
struct TemperatureChart {
    title: String,
    desc: String,
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    plot_w: f64,
    base: f64,
    band_y: String,
    band_h: String,
    band_title: String,
    max_y: String,
    min_y: String,
    max_label: String,
    min_label: String,
    top_label: String,
    bottom_label: String,
    shades: Vec<Shade>,
    line: Option<String>,
    marks: Vec<Mark>,
    first: String,
    last: String,
    label_y: f64,
    empty: Option<String>,
}

fn micros(t: OffsetDateTime) -> f64 {
    (t.unix_timestamp_nanos() / 1000) as f64
}

fn celsius(lang: Lang, tenths: i32) -> String {
    format!("{} °C", lang.decimal(f64::from(tenths) / 10.0, 1))
}

/// Whether a reading lies outside the equipment's allowed range.
fn out_of_range(e: &Equipment, tenths: i32) -> bool {
    tenths < e.min_tenths || tenths > e.max_tenths
}

/// The allowed range in words ("2.0–8.0 °C" in the locale).
fn range_text(lang: Lang, e: &Equipment) -> String {
    lang.ta(
        "supply-range",
        vec![
            (
                "min",
                lang.decimal(f64::from(e.min_tenths) / 10.0, 1).into(),
            ),
            (
                "max",
                lang.decimal(f64::from(e.max_tenths) / 10.0, 1).into(),
            ),
        ],
    )
}

/// The chart's vertical span in tenths of a degree: the readings and the
/// allowed range, with one degree of margin either side.
fn value_span(e: &Equipment, readings: &[StoredReading]) -> (i32, i32) {
    let lo = readings
        .iter()
        .map(|r| r.tenths)
        .chain([e.min_tenths])
        .min()
        .unwrap_or(e.min_tenths)
        - 10;
    let hi = readings
        .iter()
        .map(|r| r.tenths)
        .chain([e.max_tenths])
        .max()
        .unwrap_or(e.max_tenths)
        + 10;
    (lo, hi)
}

/// The excursions as shaded spans (at least 2 px wide), an open one
/// running to the end of the period.
fn excursion_shades(
    lang: Lang,
    plot: &Plot,
    until: OffsetDateTime,
    excursions: &[StoredExcursion],
) -> Vec<Shade> {
    excursions
        .iter()
        .map(|x| {
            let start = plot.x(micros(x.excursion.started_at));
            let end = plot.x(micros(x.excursion.ended_at.unwrap_or(until)));
            Shade {
                x: format!("{start:.1}"),
                w: format!("{:.1}", (end - start).max(2.0)),
                title: excursion_text(lang, x),
            }
        })
        .collect()
}

/// A dot on each out-of-range reading, the first [`MARKS`] of them.
fn out_of_range_marks(plot: &Plot, e: &Equipment, readings: &[StoredReading]) -> Vec<Mark> {
    readings
        .iter()
        .filter(|r| out_of_range(e, r.tenths))
        .take(MARKS)
        .map(|r| Mark {
            cx: format!("{:.1}", plot.x(micros(r.at))),
            cy: format!("{:.1}", plot.y(f64::from(r.tenths))),
        })
        .collect()
}

/// The chart's description for screen readers: how many readings, the
/// range, how many outside it, the excursions, the lowest and highest.
fn chart_description(
    lang: Lang,
    e: &Equipment,
    range: &str,
    readings: &[StoredReading],
    excursions: &[StoredExcursion],
) -> String {
    let outside = readings
        .iter()
        .filter(|r| out_of_range(e, r.tenths))
        .count();
    let extreme = |t: Option<i32>| t.map_or_else(|| "—".into(), |t| celsius(lang, t));
    lang.ta(
        "supply-chart-desc",
        vec![
            ("readings", (readings.len() as i64).into()),
            ("range", range.to_owned().into()),
            ("outside", (outside as i64).into()),
            ("excursions", (excursions.len() as i64).into()),
            (
                "lowest",
                extreme(readings.iter().map(|r| r.tenths).min()).into(),
            ),
            (
                "highest",
                extreme(readings.iter().map(|r| r.tenths).max()).into(),
            ),
        ],
    )
}

/// The chart of a period: the allowed range as a band, the readings as a
/// line (out-of-range ones marked), the excursions shaded.
fn temperature_chart(
    lang: Lang,
    e: &Equipment,
    since: OffsetDateTime,
    until: OffsetDateTime,
    readings: &[StoredReading],
    excursions: &[StoredExcursion],
) -> String {
    let (width, height, left, top, bottom) = (640.0_f64, 240.0_f64, 56.0, 10.0, 24.0);
    let (lo, hi) = value_span(e, readings);
    let plot = Plot {
        left,
        top,
        width: width - left - 8.0,
        height: height - top - bottom,
        x_range: (micros(since), micros(until)),
        y_range: (f64::from(lo), f64::from(hi)),
    };
    let (band_top, band_bottom) = (
        plot.y(f64::from(e.max_tenths)),
        plot.y(f64::from(e.min_tenths)),
    );
    let line = (!readings.is_empty()).then(|| {
        Plot::points(
            readings
                .iter()
                .map(|r| (plot.x(micros(r.at)), plot.y(f64::from(r.tenths)))),
        )
    });
    let range = range_text(lang, e);
    TemperatureChart {
        title: lang.ta(
            "supply-chart-title",
            vec![
                ("equipment", e.id.clone().into()),
                ("from", lang.date(since.date()).into()),
                ("to", lang.date(until.date()).into()),
            ],
        ),
        desc: chart_description(lang, e, &range, readings, excursions),
        width,
        height,
        left,
        top,
        plot_w: plot.width,
        base: plot.base(),
        band_y: format!("{band_top:.1}"),
        band_h: format!("{:.1}", (band_bottom - band_top).max(1.0)),
        band_title: lang.t1("supply-chart-band", "range", range),
        max_y: format!("{band_top:.1}"),
        min_y: format!("{band_bottom:.1}"),
        max_label: celsius(lang, e.max_tenths),
        min_label: celsius(lang, e.min_tenths),
        top_label: celsius(lang, hi),
        bottom_label: celsius(lang, lo),
        shades: excursion_shades(lang, &plot, until, excursions),
        line,
        marks: out_of_range_marks(&plot, e, readings),
        first: lang.date(since.date()),
        last: lang.date(until.date()),
        label_y: height - 6.0,
        empty: readings.is_empty().then(|| lang.t("supply-chart-empty")),
    }
    .render()
    .unwrap_or_default()
}

/// A row of the table under the chart: the readings of one hour.
pub struct HourLine {
    pub hour: String,
    pub count: String,
    pub low: String,
    pub high: String,
    pub outside: bool,
}

pub struct ExcursionRow {
    pub started: String,
    pub ended: String,
    pub text: String,
    pub lots: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "supply/equipment.html")]
struct EquipmentPage {
    ctx: PageCtx,
    title: String,
    kind: String,
    range: String,
    working: bool,
    store: String,
    store_href: String,
    here: String,
    from: String,
    to: String,
    chart_svg: String,
    hours: Vec<HourLine>,
    excursions: Vec<ExcursionRow>,
}

/// What the page shows, read in the caller's scope.
struct EquipmentRead {
    equipment: Equipment,
    readings: Vec<StoredReading>,
    excursions: Vec<StoredExcursion>,
    store: vaxgrid_store::supply::StockStore,
}

/// Reads the equipment, its readings and excursions of the period and its
/// store; ReadStock on the store's area, 404 outside the caller's areas.
async fn read_equipment(
    app: &AppState,
    caller: &Caller,
    id: &str,
    since: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<EquipmentRead, ApiError> {
    let actor = caller.actor(app, Permission::ReadStock).await?;
    let equipment = app
        .store
        .equipment(id, &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    let readings = app
        .store
        .readings_of(id, since, until, READINGS_READ, &actor.scope)
        .await?;
    let excursions = app
        .store
        .excursions_of(id, since, until, &actor.scope)
        .await?;
    let store = app
        .store
        .stock_store(&equipment.store_code, &actor.scope)
        .await?;
    Ok(EquipmentRead {
        equipment,
        readings,
        excursions,
        store,
    })
}

/// The readings of one hour: how many, the lowest, the highest and
/// whether any lay outside the allowed range.
#[derive(Debug, PartialEq)]
struct HourFigures {
    count: usize,
    low: i32,
    high: i32,
    outside: bool,
}

/// The readings grouped by UTC hour (hours since the epoch), in order.
fn readings_by_hour(e: &Equipment, readings: &[StoredReading]) -> BTreeMap<i64, HourFigures> {
    let mut by_hour: BTreeMap<i64, HourFigures> = BTreeMap::new();
    for r in readings {
        let hour = r.at.unix_timestamp().div_euclid(3600);
        let x = by_hour.entry(hour).or_insert(HourFigures {
            count: 0,
            low: r.tenths,
            high: r.tenths,
            outside: false,
        });
        x.count += 1;
        x.low = x.low.min(r.tenths);
        x.high = x.high.max(r.tenths);
        x.outside |= out_of_range(e, r.tenths);
    }
    by_hour
}

/// The table under the chart: one line per hour with readings.
fn hour_lines(lang: Lang, e: &Equipment, readings: &[StoredReading]) -> Vec<HourLine> {
    readings_by_hour(e, readings)
        .into_iter()
        .map(|(h, f)| HourLine {
            hour: super::super::admin::instant(lang, h * 3600 * 1_000_000),
            count: lang.int(f.count as i64),
            low: celsius(lang, f.low),
            high: celsius(lang, f.high),
            outside: f.outside,
        })
        .collect()
}

/// The excursions of the period, each with links to the lots it
/// quarantined (a lot is named "product/number").
fn excursion_rows(lang: Lang, excursions: &[StoredExcursion]) -> Vec<ExcursionRow> {
    let at = |t: OffsetDateTime| {
        super::super::admin::instant(
            lang,
            i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(0),
        )
    };
    excursions
        .iter()
        .map(|x| ExcursionRow {
            started: at(x.excursion.started_at),
            ended: x
                .excursion
                .ended_at
                .map_or_else(|| lang.t("supply-excursion-open"), at),
            text: excursion_text(lang, x),
            lots: x
                .lots
                .iter()
                .map(|l| {
                    let (p, n) = l.split_once('/').unwrap_or(("", l));
                    (l.clone(), format!("/supply/lots/{}/{}", seg(p), seg(n)))
                })
                .collect(),
        })
        .collect()
}

/// The period of the page: `from` and `to` (YYYY-MM-DD, UTC days, both
/// included), the last 7 days to `today` unless said; at most 31 days.
fn period(raw: Option<&str>, today: time::Date) -> Result<(time::Date, time::Date), ApiError> {
    let fields = super::super::admin::query_fields(raw);
    for k in fields.keys() {
        if k != "from" && k != "to" {
            return Err(ApiError::bad_request(
                k,
                format!("unknown query field '{k}'"),
            ));
        }
    }
    let day = |k: &str| -> Result<Option<time::Date>, ApiError> {
        match super::super::admin::given(&fields, k) {
            None => Ok(None),
            Some(v) => vaxgrid_store::parse_date(&v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(k, format!("{k} is a date YYYY-MM-DD"))),
        }
    };
    let to = day("to")?.unwrap_or(today);
    let from = day("from")?.unwrap_or(to - time::Duration::days(6));
    if from > to {
        return Err(ApiError::bad_request("from", "from is after to"));
    }
    if (to - from).whole_days() >= LONGEST_DAYS {
        return Err(ApiError::bad_request(
            "from",
            format!("a chart shows at most {LONGEST_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// `GET /supply/equipment/{id}`
#[utoipa::path(
    get,
    path = "/supply/equipment/{id}",
    summary = "A piece of cold-chain equipment's temperature (HTML; ReadStock on its store's area): an SVG chart of the readings from `from` to `to` (UTC days, the last 7 unless said, at most 31) with the allowed range as a band, readings out of range marked and excursions shaded, a title and description, the readings by hour as a table, and the excursions with the lots they quarantined. 404 outside the caller's areas",
    params(
        ("id" = String, Path, description = "equipment id"),
        ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "last day, YYYY-MM-DD")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the error page: a bad period", content_type = "text/html"),
        (status = 404, description = "the error page: no such equipment in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = ctx.lang;
    let (from, to) = match period(raw.as_deref(), app.store.today()) {
        Ok(p) => p,
        Err(e) => return error_page(&ctx, e),
    };
    let since = from.midnight().assume_utc();
    let until = (to + time::Duration::days(1)).midnight().assume_utc() - time::Duration::SECOND;
    let EquipmentRead {
        equipment: e,
        readings,
        excursions,
        store,
    } = match read_equipment(&app, &caller, &id, since, until).await {
        Ok(x) => x,
        Err(err) => return error_page(&ctx, err),
    };
    render_status(
        StatusCode::OK,
        &EquipmentPage {
            title: lang.t1("supply-equipment-title", "id", e.id.clone()),
            kind: lang.t(&format!("supply-equipment-{}", e.kind.as_str())),
            range: range_text(lang, &e),
            working: e.working,
            store: store.name.clone(),
            store_href: format!("/supply/stores/{}", seg(&store.code)),
            here: format!("/supply/equipment/{}", seg(&e.id)),
            from: vaxgrid_store::format_date(from),
            to: vaxgrid_store::format_date(to),
            chart_svg: temperature_chart(lang, &e, since, until, &readings, &excursions),
            hours: hour_lines(lang, &e, &readings),
            excursions: excursion_rows(lang, &excursions),
            ctx,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxgrid_store::supply::EquipmentKind;

    fn fridge() -> Equipment {
        Equipment {
            id: "F1".into(),
            store_code: "S1".into(),
            kind: EquipmentKind::Refrigerator,
            min_tenths: 20,
            max_tenths: 80,
            capacity_doses: None,
            working: true,
        }
    }

    /// A reading `minutes` after 2026-03-01 10:00 UTC.
    fn reading(minutes: i64, tenths: i32) -> StoredReading {
        let at = OffsetDateTime::from_unix_timestamp(1_772_359_200 + minutes * 60).unwrap();
        StoredReading { at, tenths }
    }

    #[test]
    fn the_span_covers_the_range_and_the_readings_with_a_degree_of_margin() {
        assert_eq!(value_span(&fridge(), &[]), (10, 90));
        let readings = [reading(0, -35), reading(5, 120)];
        assert_eq!(value_span(&fridge(), &readings), (-45, 130));
    }

    #[test]
    fn readings_are_grouped_by_hour_with_their_extremes_and_excursions() {
        let readings = [reading(0, 50), reading(59, 85), reading(60, 40)];
        let hours: Vec<_> = readings_by_hour(&fridge(), &readings)
            .into_values()
            .collect();
        assert_eq!(
            hours,
            [
                HourFigures {
                    count: 2,
                    low: 50,
                    high: 85,
                    outside: true
                },
                HourFigures {
                    count: 1,
                    low: 40,
                    high: 40,
                    outside: false
                },
            ]
        );
    }
}
