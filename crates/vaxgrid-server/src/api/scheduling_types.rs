//! The JSON the session, appointment and zone routes answer with
//! (`api::scheduling`), apart from the store's records as `api::types` is
//! for the registry's: each built `From` a record, with the record's field
//! names, so the bodies are what they were.

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::scheduling as store;

/// A vaccination session: a site's day (times `HH:MM`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub site_code: String,
    /// YYYY-MM-DD
    pub day: String,
    pub opens: String,
    pub closes: String,
    pub stations: i64,
    pub per_station_per_hour: i64,
    pub slot_minutes: i64,
    /// The village a mobile team's session serves.
    pub village_code: Option<String>,
}

impl From<store::Session> for Session {
    fn from(s: store::Session) -> Session {
        Session {
            id: s.id,
            site_code: s.site_code,
            day: s.day,
            opens: s.opens,
            closes: s.closes,
            stations: s.stations,
            per_station_per_hour: s.per_station_per_hour,
            slot_minutes: s.slot_minutes,
            village_code: s.village_code,
        }
    }
}

/// A time slot of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Slot {
    pub session_id: String,
    /// `YYYY-MM-DDTHH:MM`, local time of the site.
    pub starts_at: String,
    pub capacity: i64,
    pub booked: i64,
}

impl From<store::Slot> for Slot {
    fn from(s: store::Slot) -> Slot {
        Slot {
            session_id: s.session_id,
            starts_at: s.starts_at,
            capacity: s.capacity,
            booked: s.booked,
        }
    }
}

/// Slots as the API lists them.
pub fn slots(list: Vec<store::Slot>) -> Vec<Slot> {
    list.into_iter().map(Slot::from).collect()
}

/// A session and its slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionWithSlots {
    pub session: Session,
    pub slots: Vec<Slot>,
}

impl From<(store::Session, Vec<store::Slot>)> for SessionWithSlots {
    fn from((session, list): (store::Session, Vec<store::Slot>)) -> SessionWithSlots {
        SessionWithSlots {
            session: session.into(),
            slots: slots(list),
        }
    }
}

/// A booking of a slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct Appointment {
    pub id: String,
    pub person_id: String,
    pub session_id: String,
    /// `YYYY-MM-DDTHH:MM`
    pub starts_at: String,
    /// booked, cancelled, no_show
    pub status: String,
    pub booked_by: String,
}

impl From<store::Appointment> for Appointment {
    fn from(a: store::Appointment) -> Appointment {
        Appointment {
            id: a.id,
            person_id: a.person_id,
            session_id: a.session_id,
            starts_at: a.starts_at,
            status: a.status,
            booked_by: a.booked_by,
        }
    }
}

/// The next dose a person is due, with free slots from that day; when none
/// is due, `due` is null and `reason` says why.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextDose {
    pub person_id: String,
    /// YYYY-MM-DD; null when no dose is due here.
    pub due: Option<String>,
    /// Why no dose is due (only when `due` is null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The product of the last dose (only when a dose is due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    /// The site of the last dose (only when a dose is due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_code: Option<String>,
    /// Free slots at that site from the due day (only when a dose is due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<Vec<Slot>>,
}

/// A functional zone of a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct Zone {
    /// temperature_check, registration, screening, vaccination,
    /// observation or treatment
    pub kind: String,
    pub name: String,
    pub places: i64,
}

/// A site's functional zones, in the order people pass them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteZones {
    pub site_code: String,
    pub zones: Vec<Zone>,
}

impl SiteZones {
    /// From the store's (kind, name, places) rows.
    pub fn new(site_code: String, zones: Vec<(String, String, i64)>) -> SiteZones {
        SiteZones {
            site_code,
            zones: zones
                .into_iter()
                .map(|(kind, name, places)| Zone { kind, name, places })
                .collect(),
        }
    }
}
