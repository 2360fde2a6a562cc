//! Records as the store hands them out and the inputs it accepts. Inputs are
//! already checked by the caller for shape; the store checks what needs the
//! database (existence, uniqueness, history).

use serde::Serialize;
use sha2::{Digest, Sha256};
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_core::identity::{IdType, Sex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    pub name: String,
    pub name_en: String,
    pub path: String,
}

impl Area {
    /// 0 at the top of the tree (a province).
    pub fn depth(&self) -> usize {
        vaxgrid_core::area::depth_of_path(&self.path)
    }
}

#[derive(Debug, Clone)]
pub struct NewArea {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    pub name: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    pub birth_date: String,
    pub sex: Sex,
    pub phone: Option<String>,
    pub home_area: String,
    pub commune_code: String,
    pub province_code: String,
    pub occupation: Option<String>,
    pub priority_groups: Vec<String>,
    pub merged_into: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub id: String,
    pub id_type: IdType,
    pub id_number: String,
    pub full_name: String,
    pub birth_date: time::Date,
    pub sex: Sex,
    pub phone: Option<String>,
    pub home_area: String,
    pub occupation: Option<String>,
    pub priority_groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonCreated {
    pub person: Person,
    /// Persons with the same folded name, birth date and commune.
    pub possible_duplicates: Vec<String>,
    /// Every identifier of the person: the national document first.
    pub identifiers: Vec<vaxgrid_core::identity::Identifier>,
    /// Set when the person was registered without any document.
    pub follow_up: Option<FollowUp>,
}

/// An identifier as a caller gives it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierInput {
    pub id_type: vaxgrid_core::identity::IdentifierType,
    pub authority: Option<String>,
    pub value: String,
}

/// Who answers for a child registered without a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Guardian {
    pub name: String,
    pub phone: Option<String>,
    /// mother, father, grandparent, … (free text)
    pub relationship: Option<String>,
}

/// What a registration adds to the person's row: identifiers beyond the
/// national document, and the guardian of a child without one.
#[derive(Debug, Clone, Default)]
pub struct NewIdentity {
    pub identifiers: Vec<IdentifierInput>,
    pub guardian: Option<Guardian>,
}

/// A person registered without any document, kept for identity follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    /// `no_document`
    pub reason: String,
    pub guardian: Option<Guardian>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub product_code: String,
    pub lot_number: String,
    pub expiry: String,
    pub status: LotStatus,
    pub doses: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    CommuneHealthStation,
    Hospital,
    TemporarySite,
    MobileTeam,
}

impl SiteKind {
    pub const ALL: [SiteKind; 4] = [
        SiteKind::CommuneHealthStation,
        SiteKind::Hospital,
        SiteKind::TemporarySite,
        SiteKind::MobileTeam,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::CommuneHealthStation => "commune_health_station",
            SiteKind::Hospital => "hospital",
            SiteKind::TemporarySite => "temporary_site",
            SiteKind::MobileTeam => "mobile_team",
        }
    }
    pub fn parse(s: &str) -> Option<SiteKind> {
        SiteKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub area_code: String,
    pub stations: i64,
    pub daily_capacity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseKind {
    Administered,
    /// A dose given elsewhere and reported here (a card, another registry):
    /// it counts like an administered dose; lot and site may be unknown.
    Historical,
    EnteredInError,
}

impl DoseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DoseKind::Administered => "administered",
            DoseKind::Historical => "historical",
            DoseKind::EnteredInError => "entered_in_error",
        }
    }
    /// Whether a record of this kind is a dose the person received.
    pub fn is_dose(self) -> bool {
        matches!(self, DoseKind::Administered | DoseKind::Historical)
    }

    pub fn parse(s: &str) -> Option<DoseKind> {
        match s {
            "administered" => Some(DoseKind::Administered),
            "historical" => Some(DoseKind::Historical),
            "entered_in_error" => Some(DoseKind::EnteredInError),
            _ => None,
        }
    }
}

/// One row of the append-only dose log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoseRecord {
    pub id: String,
    pub person_id: String,
    pub kind: DoseKind,
    pub corrects_id: Option<String>,
    pub product_code: String,
    pub lot_number: String,
    pub site_code: String,
    pub dose_number: i64,
    pub administered_on: String,
    pub vaccinator: Option<String>,
    pub override_reason: Option<String>,
    pub reason: Option<String>,
    pub author: Option<String>,
    pub area_code: String,
    pub recorded_at: String,
    #[serde(skip)]
    pub province_code: String,
    #[serde(skip)]
    pub recorded_at_micros: i64,
    #[serde(skip)]
    pub body_hash: String,
    /// The store whose stock the dose was taken from, if one tracked it:
    /// the dose is that store's ledger line for it.
    #[serde(skip)]
    pub stock_store: Option<String>,
}

/// Who asks for a write, from which address, and what their grants let
/// them touch. The store checks the scope and writes the audit entry.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub address: Option<String>,
    pub scope: crate::scope::Scope,
}

/// A name alone is the system acting under that name.
impl From<&str> for Actor {
    fn from(name: &str) -> Actor {
        Actor::system(name)
    }
}

impl From<&Actor> for Actor {
    fn from(actor: &Actor) -> Actor {
        actor.clone()
    }
}

impl Actor {
    /// The system itself (command line, imports, the demo): everything.
    pub fn system(name: &str) -> Actor {
        Actor {
            name: name.to_string(),
            address: None,
            scope: crate::scope::Scope::All,
        }
    }
}

/// A dose to record. `id` is chosen by the client so that a retry is a no-op.
#[derive(Debug, Clone)]
pub struct DoseRequest {
    pub id: String,
    pub person_id: String,
    pub product_code: String,
    pub lot_number: String,
    pub site_code: String,
    pub administered_on: time::Date,
    pub dose_number: Option<u32>,
    pub vaccinator: Option<String>,
    pub override_reason: Option<String>,
    /// Reported from another source rather than given here: lot and site
    /// may be empty (unknown) and are not checked.
    pub historical: bool,
    /// The user whose current vaccination certificate this dose needs (a
    /// caller who records only as a vaccinator); checked by the writer for
    /// the whole batch with one read. Not part of the body: the same dose
    /// sent again is the same record.
    pub requires_certificate: Option<String>,
    pub by: Actor,
}

/// Marks an earlier dose as entered in error; itself a new record.
#[derive(Debug, Clone)]
pub struct CorrectionRequest {
    pub id: String,
    pub target_id: String,
    pub reason: String,
    pub author: String,
    pub by: Actor,
}

/// Folds `duplicate_id` into `survivor_id`: the duplicate's dose history
/// counts for the survivor from now on.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub survivor_id: String,
    pub duplicate_id: String,
    pub reason: String,
    pub by: Actor,
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows.
    pub fn from_rows(mut rows: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> String) -> Page<T> {
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// Hash of the parts of a request that define it; a retry with the same id
/// must carry the same parts.
pub(crate) fn body_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

impl DoseRequest {
    pub(crate) fn body_hash(&self) -> String {
        body_hash(&[
            if self.historical {
                "historical"
            } else {
                "dose"
            },
            &self.person_id,
            &self.product_code,
            &self.lot_number,
            &self.site_code,
            &crate::format_date(self.administered_on),
            &self.dose_number.map(|n| n.to_string()).unwrap_or_default(),
            self.vaccinator.as_deref().unwrap_or(""),
            self.override_reason.as_deref().unwrap_or(""),
        ])
    }
}

impl CorrectionRequest {
    pub(crate) fn body_hash(&self) -> String {
        body_hash(&[
            "entered_in_error",
            &self.target_id,
            &self.reason,
            &self.author,
        ])
    }
}
