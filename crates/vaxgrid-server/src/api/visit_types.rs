//! The JSON the vaccination table's routes answer with (`api::visits`),
//! apart from the store's records as `api::types` is for the registry's:
//! built from a record and what its events make of it, with the field
//! names the API always had.

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use vaxgrid_core::visit::{observation_ends_at, Outcome, Visit as Replayed};
use vaxgrid_store::visits::VisitRow;

/// A visit at the vaccination table: its events, outcome and next step.
#[derive(Debug, Serialize, ToSchema)]
pub struct Visit {
    pub id: String,
    pub person_id: String,
    pub site_code: String,
    pub product_code: String,
    pub appointment_id: Option<String>,
    /// YYYY-MM-DD
    pub day: String,
    /// in_progress, done, deferred, contraindicated, refused, no_show
    pub outcome: String,
    /// The step expected next; null once the visit is over.
    pub next_step: Option<String>,
    /// The events recorded, in order, each as it was recorded.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// Why the visit ended early (and until when a deferral holds); null
    /// otherwise.
    pub outcome_detail: Option<OutcomeDetail>,
    /// RFC 3339 UTC: when the person may leave observation, once dosed.
    pub may_leave_at: Option<String>,
    /// Investigations of serious adverse events of the visit.
    pub investigations: Vec<InvestigationStatus>,
}

/// Why a visit ended early.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeDetail {
    /// YYYY-MM-DD, for a deferral only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub reason: String,
}

/// An investigation of a serious adverse event, and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvestigationStatus {
    pub id: String,
    /// open or assessed
    pub status: String,
    /// The WHO causality category, once assessed.
    pub causality: Option<String>,
}

impl Visit {
    /// A stored visit, what its events make of it, and its investigations
    /// (id, status, causality).
    pub fn new(
        row: VisitRow,
        visit: &Replayed,
        investigations: Vec<(String, String, Option<String>)>,
    ) -> Visit {
        let outcome_detail = match &visit.outcome {
            Outcome::Deferred { until, reason } => Some(OutcomeDetail {
                until: Some(vaxgrid_store::format_date(*until)),
                reason: reason.clone(),
            }),
            Outcome::Contraindicated { reason } | Outcome::Refused { reason } => {
                Some(OutcomeDetail {
                    until: None,
                    reason: reason.clone(),
                })
            }
            _ => None,
        };
        Visit {
            id: row.id,
            person_id: row.person_id,
            site_code: row.site_code,
            product_code: row.product_code,
            appointment_id: row.appointment_id,
            day: row.day,
            outcome: row.outcome,
            next_step: row.next_step,
            events: row.events,
            outcome_detail,
            may_leave_at: observation_ends_at(visit).and_then(|t| t.format(&Rfc3339).ok()),
            investigations: investigations
                .into_iter()
                .map(|(id, status, causality)| InvestigationStatus {
                    id,
                    status,
                    causality,
                })
                .collect(),
        }
    }
}

/// A product's screening questionnaire.
#[derive(Debug, Serialize, ToSchema)]
pub struct Questionnaire {
    pub product_code: String,
    pub version: String,
    /// [{id, text, yes_means: nothing | contraindicate | {defer_days}}]
    #[schema(value_type = Vec<Object>)]
    pub questions: Value,
}

/// A person in observation at a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct InObservation {
    pub visit_id: String,
    pub person_id: String,
    /// RFC 3339 UTC
    pub may_leave_at: String,
    pub may_leave_now: bool,
}

/// Who is in observation at a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObservationBoard {
    pub site_code: String,
    pub in_observation: Vec<InObservation>,
}
