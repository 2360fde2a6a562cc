//! Who may do what: roles, where they hold (an area, a site, their own
//! record), and the permissions each role carries. The server asks
//! [`permits`] before a handler runs; the store narrows every query to the
//! places a caller's grants cover.

use serde::{Deserialize, Serialize};

/// Where a role holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// Everywhere (administrator, verifier, trainer).
    Global,
    /// An area and everything under it (province > district > commune > village).
    Area,
    /// A vaccination site.
    Site,
    /// One person's own record.
    Person,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Planner,
    StatisticsOfficer,
    Registrar,
    Screener,
    Vaccinator,
    Observer,
    Trainer,
    EpidemicResponder,
    Verifier,
    Resident,
    /// Keeps the vaccine stores and their cold chain in an area.
    ColdChainOfficer,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Admin,
        Role::Planner,
        Role::StatisticsOfficer,
        Role::Registrar,
        Role::Screener,
        Role::Vaccinator,
        Role::Observer,
        Role::Trainer,
        Role::EpidemicResponder,
        Role::Verifier,
        Role::Resident,
        Role::ColdChainOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::StatisticsOfficer => "statistics_officer",
            Role::Registrar => "registrar",
            Role::Screener => "screener",
            Role::Vaccinator => "vaccinator",
            Role::Observer => "observer",
            Role::Trainer => "trainer",
            Role::EpidemicResponder => "epidemic_responder",
            Role::Verifier => "verifier",
            Role::Resident => "resident",
            Role::ColdChainOfficer => "cold_chain_officer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Admin | Role::Trainer | Role::Verifier => ScopeKind::Global,
            Role::Planner
            | Role::StatisticsOfficer
            | Role::EpidemicResponder
            | Role::ColdChainOfficer => ScopeKind::Area,
            Role::Registrar | Role::Screener | Role::Vaccinator | Role::Observer => ScopeKind::Site,
            Role::Resident => ScopeKind::Person,
        }
    }
}

/// What a request needs. Each route of the server declares one (or none:
/// public).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Reference data every signed-in user reads: areas, products, lots, sites.
    ReadReference,
    /// Change reference data: areas, products, lots, sites.
    ManageReference,
    /// Read persons and their dose histories (in scope).
    ReadRegistry,
    /// Register persons (in scope).
    WriteRegistry,
    /// Merge duplicate records, bulk imports.
    ManageRegistry,
    /// Record a dose at one's own site.
    RecordDose,
    /// Enter a dose in error.
    CorrectDose,
    /// Coverage and other aggregate reports (in scope).
    ReadReports,
    /// Issue a vaccination certificate (in scope, or one's own).
    IssueCertificate,
    /// Take records from other systems (HL7 v2, FHIR) for one's sites.
    Exchange,
    /// Operational metrics of the server.
    ReadMetrics,
    /// Open vaccination sessions (and their slots) at sites in scope.
    ManageSessions,
    /// Book, cancel or mark a no-show (for persons in scope, or oneself).
    Book,
    /// Staff training: classes, attendees, exams, and reading anyone's
    /// certificates.
    ManageTraining,
    /// Work at the vaccination table: check-in, screening, consent,
    /// observation, adverse events (the dose itself needs RecordDose).
    Visit,
    /// Record the causality assessment of a serious adverse event.
    AssessAefi,
    /// Accounts: create users, import staff rosters, grant and revoke
    /// roles, disable users, list users and tokens (administrators only).
    ManageUsers,
    /// See the vaccine stores of an area: stock on hand, movements,
    /// shipments, cold-chain equipment and its temperatures.
    ReadStock,
    /// Move stock at the stores of an area (receipts, shipments, discards,
    /// wastage, counts), create stores and equipment, record temperatures.
    ManageStock,
    /// Quarantine, release or recall a lot, and revoke the certificates of
    /// the doses it gave.
    HoldLots,
    /// Read the outbreak of an area: cases (each read audited), contacts
    /// and their classes, isolations and daily checks, laboratory queues,
    /// the ring-vaccination list.
    ReadOutbreak,
    /// Work an outbreak in an area: confirm and reverse cases, trace
    /// contacts, start isolations, record daily checks, samples and tests.
    ManageOutbreak,
    /// Run the surge planner (scenarios are no one's records).
    PlanSurge,
}

/// Whether `role` carries `permission`. Scope is checked separately: this
/// only says what kind of thing the role may do.
pub fn permits(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Planner => matches!(
            permission,
            ReadReference
                | ReadRegistry
                | WriteRegistry
                | ManageRegistry
                | ReadReports
                | IssueCertificate
                | ManageSessions
                | ReadStock
                | ManageStock
                | PlanSurge
        ),
        Role::StatisticsOfficer => matches!(
            permission,
            ReadReference | ReadRegistry | ReadReports | ReadStock
        ),
        Role::ColdChainOfficer => matches!(
            permission,
            ReadReference | ReadStock | ManageStock | HoldLots
        ),
        Role::Registrar => matches!(
            permission,
            ReadReference
                | ReadRegistry
                | WriteRegistry
                | IssueCertificate
                | Exchange
                | Book
                | Visit
        ),
        Role::Screener | Role::Observer => {
            matches!(permission, ReadReference | ReadRegistry | Visit)
        }
        Role::Vaccinator => matches!(
            permission,
            ReadReference
                | ReadRegistry
                | RecordDose
                | CorrectDose
                | IssueCertificate
                | Exchange
                | Visit
        ),
        Role::EpidemicResponder => {
            matches!(
                permission,
                ReadReference
                    | ReadRegistry
                    | ReadReports
                    | AssessAefi
                    | ReadOutbreak
                    | ManageOutbreak
                    | PlanSurge
            )
        }
        Role::Trainer => matches!(permission, ReadReference | ManageTraining),
        Role::Verifier => matches!(permission, ReadReference),
        Role::Resident => matches!(permission, ReadRegistry | IssueCertificate | Book),
    }
}

/// One role held somewhere: `scope` is an area code, a site code, a person
/// id, or empty for global roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("'{0}' is not a role; the roles are admin, planner, statistics_officer, registrar, screener, vaccinator, observer, trainer, epidemic_responder, verifier, resident, cold_chain_officer")]
    UnknownRole(String),
    #[error("the role {0} holds on an area: give an area code")]
    NeedsArea(&'static str),
    #[error("the role {0} holds at a site: give a site code")]
    NeedsSite(&'static str),
    #[error("the role {0} holds for one person: give the person's id")]
    NeedsPerson(&'static str),
    #[error("the role {0} holds everywhere: give no scope")]
    NoScope(&'static str),
}

impl Grant {
    /// Reads `role` or `role:scope` (e.g. `planner:193`, `vaccinator:S1`).
    pub fn parse(text: &str) -> Result<Grant, GrantError> {
        let (role, scope) = text.split_once(':').unwrap_or((text, ""));
        let role = Role::parse(role.trim()).ok_or_else(|| GrantError::UnknownRole(role.into()))?;
        Grant::new(role, scope.trim())
    }

    pub fn new(role: Role, scope: &str) -> Result<Grant, GrantError> {
        let name = role.as_str();
        match (role.scope_kind(), scope.is_empty()) {
            (ScopeKind::Global, false) => Err(GrantError::NoScope(name)),
            (ScopeKind::Area, true) => Err(GrantError::NeedsArea(name)),
            (ScopeKind::Site, true) => Err(GrantError::NeedsSite(name)),
            (ScopeKind::Person, true) => Err(GrantError::NeedsPerson(name)),
            _ => Ok(Grant {
                role,
                scope: scope.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scope.is_empty() {
            f.write_str(self.role.as_str())
        } else {
            write!(f, "{}:{}", self.role.as_str(), self.scope)
        }
    }
}

/// The grants among `grants` that carry `permission`.
pub fn grants_for(grants: &[Grant], permission: Permission) -> impl Iterator<Item = &Grant> {
    grants.iter().filter(move |g| permits(g.role, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_read_and_check_their_scope() {
        assert_eq!(
            Grant::parse("planner:193").unwrap(),
            Grant {
                role: Role::Planner,
                scope: "193".into()
            }
        );
        assert_eq!(Grant::parse("admin").unwrap().to_string(), "admin");
        assert_eq!(
            Grant::parse("planner"),
            Err(GrantError::NeedsArea("planner"))
        );
        assert_eq!(
            Grant::parse("vaccinator"),
            Err(GrantError::NeedsSite("vaccinator"))
        );
        assert_eq!(Grant::parse("admin:22"), Err(GrantError::NoScope("admin")));
        assert!(matches!(
            Grant::parse("nurse:S1"),
            Err(GrantError::UnknownRole(_))
        ));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn read_only_roles_never_write() {
        for role in [
            Role::StatisticsOfficer,
            Role::Screener,
            Role::Observer,
            Role::Verifier,
            Role::Trainer,
        ] {
            for p in [
                Permission::WriteRegistry,
                Permission::ManageRegistry,
                Permission::RecordDose,
                Permission::CorrectDose,
                Permission::ManageReference,
                Permission::Exchange,
            ] {
                assert!(!permits(role, p), "{role:?} must not {p:?}");
            }
        }
        assert!(permits(Role::Vaccinator, Permission::RecordDose));
        assert!(!permits(Role::Registrar, Permission::RecordDose));
        assert!(!permits(Role::Resident, Permission::ReadReports));
        assert!(Role::ALL
            .iter()
            .all(|r| permits(Role::Admin, Permission::ReadMetrics) || *r != Role::Admin));
    }

    #[test]
    fn only_admins_and_trainers_manage_training() {
        for role in Role::ALL {
            assert_eq!(
                permits(role, Permission::ManageTraining),
                matches!(role, Role::Admin | Role::Trainer),
                "{role:?}"
            );
        }
        // A trainer writes nothing else.
        assert!(!permits(Role::Trainer, Permission::RecordDose));
        assert!(!permits(Role::Trainer, Permission::ReadRegistry));
    }

    #[test]
    fn an_outbreak_is_worked_by_epidemic_responders_on_their_area() {
        for role in Role::ALL {
            for p in [Permission::ReadOutbreak, Permission::ManageOutbreak] {
                assert_eq!(
                    permits(role, p),
                    matches!(role, Role::Admin | Role::EpidemicResponder),
                    "{role:?} {p:?}"
                );
            }
        }
        assert_eq!(Role::EpidemicResponder.scope_kind(), ScopeKind::Area);
        assert!(permits(Role::Planner, Permission::PlanSurge));
    }

    #[test]
    fn stock_is_kept_by_area_roles_only() {
        for role in Role::ALL {
            for p in [
                Permission::ReadStock,
                Permission::ManageStock,
                Permission::HoldLots,
            ] {
                if permits(role, p) {
                    assert!(
                        matches!(role.scope_kind(), ScopeKind::Area | ScopeKind::Global),
                        "{role:?} holds at a site or a person yet may {p:?}"
                    );
                }
            }
        }
        assert!(permits(Role::ColdChainOfficer, Permission::HoldLots));
        assert!(!permits(Role::Planner, Permission::HoldLots));
        assert!(!permits(Role::StatisticsOfficer, Permission::ManageStock));
        assert!(!permits(Role::ColdChainOfficer, Permission::ReadRegistry));
    }
}
