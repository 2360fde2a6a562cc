//! The JSON the account routes answer with (`api::staff`), apart from the
//! store's records as `api::types` is for the registry's: each built
//! `From` a record, with the record's field names, so the bodies are what
//! they were.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use vaxgrid_store::accounts::TokenInfo;
use vaxgrid_store::staff::{SiteHeadcount, UserView};

/// A user and their roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    /// ROLE or ROLE:SCOPE each.
    pub grants: Vec<String>,
    /// RFC 3339 UTC
    pub created_at: String,
    /// Whether the account still waits for its invitation to be redeemed.
    pub invited: bool,
}

impl From<UserView> for User {
    fn from(u: UserView) -> User {
        User {
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
            grants: u.grants,
            created_at: u.created_at,
            invited: u.invited,
        }
    }
}

/// A machine token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub username: String,
    pub name: String,
    /// The roles it is narrowed to; none: all the user holds.
    pub grants: Vec<String>,
    /// RFC 3339 UTC
    pub created_at: String,
    pub revoked: bool,
}

impl From<TokenInfo> for Token {
    fn from(t: TokenInfo) -> Token {
        Token {
            id: t.id,
            username: t.username,
            name: t.name,
            grants: t.grants,
            created_at: t.created_at,
            revoked: t.revoked,
        }
    }
}

/// Enabled staff at one site by role.
#[derive(Debug, Serialize, ToSchema)]
pub struct Headcount {
    pub site_code: String,
    pub site_name: String,
    pub area_code: String,
    /// Role → enabled users holding it at the site.
    pub roles: BTreeMap<String, i64>,
    /// Screeners, vaccinators and observers.
    pub vaccination_staff: i64,
    /// Registrars (and other roles held at the site).
    pub support_staff: i64,
    /// Distinct people (one holding two roles counts once).
    pub people: i64,
}

impl From<SiteHeadcount> for Headcount {
    fn from(h: SiteHeadcount) -> Headcount {
        Headcount {
            site_code: h.site_code,
            site_name: h.site_name,
            area_code: h.area_code,
            roles: h.roles,
            vaccination_staff: h.vaccination_staff,
            support_staff: h.support_staff,
            people: h.people,
        }
    }
}

/// An invitation redeemed: the account it opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redeemed {
    pub username: String,
}
