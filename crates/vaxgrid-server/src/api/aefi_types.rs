//! The JSON the adverse-event routes answer with (`api::aefi` and the
//! investigations list of `api::lists`), apart from the store's records as
//! `api::types` is for the registry's: each built `From` a record, with the
//! record's field names, so the bodies are what they were.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::aefi::{AefiEventRow, AefiFigure, AefiReportOf};

/// One figure of the report: events, serious ones and deaths beside the
/// doses of the same slice.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figure {
    pub key: String,
    pub label: String,
    pub events: i64,
    pub serious: i64,
    pub deaths: i64,
    pub doses: i64,
    /// Events per 100,000 doses; null where the slice has no dose count.
    pub rate_per_100k: Option<f64>,
    /// The filters that narrow the report to this figure (query keys and
    /// values), for the list behind it.
    pub filter: BTreeMap<String, String>,
}

impl From<AefiFigure> for Figure {
    fn from(f: AefiFigure) -> Figure {
        Figure {
            key: f.key,
            label: f.label,
            events: f.events,
            serious: f.serious,
            deaths: f.deaths,
            doses: f.doses,
            rate_per_100k: f.rate_per_100k,
            filter: f.filter,
        }
    }
}

fn figures(list: Vec<AefiFigure>) -> Vec<Figure> {
    list.into_iter().map(Figure::from).collect()
}

/// Adverse events following immunization of an area, counted by each
/// dimension.
#[derive(Debug, Serialize, ToSchema)]
pub struct AefiReport {
    pub area_code: String,
    pub area_name: String,
    pub total: Figure,
    pub by_product: Vec<Figure>,
    pub by_lot: Vec<Figure>,
    pub by_area: Vec<Figure>,
    /// Each wave of the campaign asked for (empty without one).
    pub by_wave: Vec<Figure>,
    pub by_severity: Vec<Figure>,
    pub by_seriousness: Vec<Figure>,
    pub by_outcome: Vec<Figure>,
}

impl From<AefiReportOf> for AefiReport {
    fn from(r: AefiReportOf) -> AefiReport {
        AefiReport {
            area_code: r.area_code,
            area_name: r.area_name,
            total: r.total.into(),
            by_product: figures(r.by_product),
            by_lot: figures(r.by_lot),
            by_area: figures(r.by_area),
            by_wave: figures(r.by_wave),
            by_severity: figures(r.by_severity),
            by_seriousness: figures(r.by_seriousness),
            by_outcome: figures(r.by_outcome),
        }
    }
}

/// One event of the list behind a figure.
#[derive(Debug, Serialize, ToSchema)]
pub struct AefiEvent {
    pub id: String,
    pub visit_id: String,
    pub person_id: String,
    pub full_name: String,
    pub product_code: String,
    pub lot_number: String,
    pub site_code: String,
    pub area_code: String,
    /// YYYY-MM-DD
    pub dose_on: String,
    pub onset: String,
    /// mild, moderate or severe
    pub severity: String,
    pub serious: bool,
    pub outcome: String,
    pub treatment: Option<String>,
    pub symptoms: Vec<String>,
    /// The investigation a serious event opened.
    pub investigation_id: Option<String>,
}

impl From<AefiEventRow> for AefiEvent {
    fn from(e: AefiEventRow) -> AefiEvent {
        AefiEvent {
            id: e.id,
            visit_id: e.visit_id,
            person_id: e.person_id,
            full_name: e.full_name,
            product_code: e.product_code,
            lot_number: e.lot_number,
            site_code: e.site_code,
            area_code: e.area_code,
            dose_on: e.dose_on,
            onset: e.onset,
            severity: e.severity,
            serious: e.serious,
            outcome: e.outcome,
            treatment: e.treatment,
            symptoms: e.symptoms,
            investigation_id: e.investigation_id,
        }
    }
}

/// An investigation of a serious adverse event.
#[derive(Debug, Serialize, ToSchema)]
pub struct Investigation {
    pub id: String,
    pub visit_id: String,
    pub person_id: String,
    pub site_code: String,
    /// YYYY-MM-DD
    pub day: String,
    /// RFC 3339 UTC
    pub opened_at: String,
    /// open or assessed
    pub status: String,
    /// The WHO causality category, once assessed.
    pub causality: Option<String>,
    /// The adverse event as reported.
    pub report: serde_json::Value,
}

impl From<vaxgrid_store::lists::Investigation> for Investigation {
    fn from(i: vaxgrid_store::lists::Investigation) -> Investigation {
        Investigation {
            id: i.id,
            visit_id: i.visit_id,
            person_id: i.person_id,
            site_code: i.site_code,
            day: i.day,
            opened_at: i.opened_at,
            status: i.status,
            causality: i.causality,
            report: i.report,
        }
    }
}
