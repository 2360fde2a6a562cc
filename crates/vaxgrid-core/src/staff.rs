//! Staff accounts at scale: the rules of a staff roster row (its roles
//! and where they hold, display names), of the invitation a new account gets instead of
//! a password, and of the password its holder then chooses; and which
//! roles count as vaccination staff in a site's headcount.
//!
//! Why invitations: a roster of 65,000 staff would cost 65,000 Argon2id
//! hashes (about 40 ms each on one core at OWASP's parameters: some 20
//! minutes on two cores) for passwords nobody chose and that must be sent
//! out and changed anyway. Instead each new account gets a random
//! 128-bit invitation (stored as SHA-256: a secret of that entropy needs
//! no slow hash) that its holder redeems once, within [`INVITATION_DAYS`],
//! by choosing their own password, which is then hashed with Argon2id at
//! full cost. Until then the account has no password that anyone knows.

use crate::access::{Grant, GrantError, Role, ScopeKind};

/// How long an invitation can be redeemed.
pub const INVITATION_DAYS: i64 = 14;
/// Bounds of a display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 200;
/// Bounds of a chosen password, in characters.
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 256;

/// The grants of a roster row: `roles` lists roles separated by `;`, `|`
/// or spaces; a bare role takes its place from the row's `site` column
/// (site roles) or `area` column (area roles); `ROLE:SCOPE` names its own.
/// At least one role is needed, each once. An error names the column.
pub fn roster_grants(
    roles: &str,
    site: &str,
    area: &str,
) -> Result<Vec<Grant>, (&'static str, String)> {
    let mut grants: Vec<Grant> = Vec::new();
    for item in roles
        .split([';', '|', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let g = if item.contains(':') {
            Grant::parse(item).map_err(|e| ("roles", e.to_string()))?
        } else {
            let role = Role::parse(item)
                .ok_or_else(|| ("roles", GrantError::UnknownRole(item.into()).to_string()))?;
            let scope = match role.scope_kind() {
                ScopeKind::Global => "",
                ScopeKind::Area if area.trim().is_empty() => {
                    return Err((
                        "area",
                        format!("the role {item} holds on an area: fill in area"),
                    ))
                }
                ScopeKind::Area => area.trim(),
                ScopeKind::Site if site.trim().is_empty() => {
                    return Err((
                        "site",
                        format!("the role {item} holds at a site: fill in site"),
                    ))
                }
                ScopeKind::Site => site.trim(),
                ScopeKind::Person => {
                    return Err((
                        "roles",
                        "a resident's role is not given to staff".to_string(),
                    ))
                }
            };
            Grant {
                role,
                scope: scope.to_string(),
            }
        };
        if !grants.contains(&g) {
            grants.push(g);
        }
    }
    if grants.is_empty() {
        return Err(("roles", "give at least one role".to_string()));
    }
    Ok(grants)
}

/// A display name: not blank, at most [`MAX_DISPLAY_NAME`] characters, no
/// control characters.
pub fn check_display_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() {
        return Err("a display name is needed");
    }
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err("a display name has at most 200 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("a display name has no control characters");
    }
    Ok(())
}

/// A password chosen when redeeming an invitation.
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err("a password has at least 12 characters");
    }
    if n > MAX_PASSWORD {
        return Err("a password has at most 256 characters");
    }
    Ok(())
}

/// Whether an invitation created at `created_micros` can still be
/// redeemed at `now_micros`.
pub fn invitation_open(created_micros: i64, now_micros: i64) -> bool {
    now_micros >= created_micros
        && now_micros - created_micros < INVITATION_DAYS * 24 * 3600 * 1_000_000
}

/// Whether a role is vaccination staff (at the table: screening, the
/// dose, observation) rather than support staff (registration, planning,
/// training, statistics) in a site's headcount.
pub fn is_vaccination_staff(role: Role) -> bool {
    matches!(role, Role::Screener | Role::Vaccinator | Role::Observer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_roles_take_their_place_from_the_row() {
        let g = roster_grants(" vaccinator; registrar |vaccinator planner:193", "S1", "").unwrap();
        let text: Vec<String> = g.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["vaccinator:S1", "registrar:S1", "planner:193"]);
        let g = roster_grants("planner trainer", "", "194").unwrap();
        let text: Vec<String> = g.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["planner:194", "trainer"]);
        assert_eq!(roster_grants("", "S1", "").unwrap_err().0, "roles");
        assert_eq!(roster_grants(" ; ", "S1", "").unwrap_err().0, "roles");
        assert_eq!(roster_grants("nurse", "S1", "").unwrap_err().0, "roles");
        assert_eq!(roster_grants("vaccinator", "", "22").unwrap_err().0, "site");
        assert_eq!(roster_grants("planner", "S1", " ").unwrap_err().0, "area");
        assert_eq!(
            roster_grants("resident", "S1", "22").unwrap_err().0,
            "roles"
        );
        assert_eq!(roster_grants("admin:22", "", "").unwrap_err().0, "roles");
    }

    #[test]
    fn display_names_and_passwords() {
        assert!(check_display_name("Nguyễn Thị Lan").is_ok());
        assert!(check_display_name("  ").is_err());
        assert!(check_display_name(&"ẫ".repeat(200)).is_ok());
        assert!(check_display_name(&"ẫ".repeat(201)).is_err());
        assert!(check_display_name("a\u{0}b").is_err());
        assert!(check_new_password("correct horse").is_ok());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn invitations_expire_after_fourteen_days() {
        let day = 24 * 3600 * 1_000_000;
        assert!(invitation_open(0, 0));
        assert!(invitation_open(0, 14 * day - 1));
        assert!(!invitation_open(0, 14 * day));
        assert!(!invitation_open(10, 5), "not before it was made");
    }

    #[test]
    fn table_staff_and_support_staff() {
        assert!(is_vaccination_staff(Role::Vaccinator));
        assert!(is_vaccination_staff(Role::Screener));
        assert!(!is_vaccination_staff(Role::Registrar));
        assert!(!is_vaccination_staff(Role::Planner));
    }
}
