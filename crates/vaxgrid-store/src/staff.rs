//! Staff at scale: users and their roles listed and paged, machine tokens
//! listed, a staff roster imported in one transaction (tens of thousands
//! of rows, each checked and refused by row and field), the invitations
//! new accounts get instead of passwords (see `vaxgrid_core::staff` for
//! why), and the headcount of staff per site by role.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;
use vaxgrid_core::access::{Grant, Role, ScopeKind};

use crate::accounts::TokenInfo;
use crate::audit::{self, AuditEntry};
use crate::db::existing_keys;
use crate::error::StoreError;
use crate::model::{Actor, Page};
use crate::paging::{cursor, Filter, PageRequest};
use crate::scope::Scope;
use crate::Store;

/// Rows per INSERT statement of an import (3 to 6 parameters a row, well
/// under both backends' limits).
const BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub grants: Vec<String>,
    pub created_at: String,
    /// Whether the account still waits for its invitation to be redeemed.
    pub invited: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// An area code, site code or person id a grant names.
    pub scope: Option<String>,
    /// User names starting with this.
    pub prefix: Option<String>,
    /// Exactly this user name.
    pub username: Option<String>,
    pub disabled: Option<bool>,
}

/// One row of a staff roster, its grants read and its invitation made.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// The row number in the file (1 = the first row after the header).
    pub row: usize,
    /// The account's id when the client chose it (a form's client id, so
    /// that the form sent twice finds its account); a new one otherwise.
    pub id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// SHA-256 (hex) of the invitation the holder redeems.
    pub invitation_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct StaffImported {
    /// The user names created, in file order.
    pub created: Vec<String>,
    /// The rows refused (when skipping them; else nothing was written).
    pub errors: Vec<StaffRowError>,
}

/// What to do with a roster's good rows when some are bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterMode {
    /// Write all rows or none.
    AllOrNothing,
    /// Write the good rows, list the bad ones.
    SkipInvalid,
    /// Write nothing; list the bad rows (the caller found others bad
    /// before the rows reached the store).
    CheckOnly,
}

/// Staff at one site by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteHeadcount {
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

fn row_error(row: usize, field: &str, message: impl Into<String>) -> StaffRowError {
    StaffRowError {
        row,
        field: field.to_string(),
        message: message.into(),
    }
}

impl Store {
    /// Users by user name, with their grants.
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserView>, StoreError> {
        let f = user_filter(filter, page)?;
        let sql = format!(
            "SELECT u.id, u.username, u.display_name, u.disabled, u.created_at, \
             EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = u.id AND i.used_at IS NULL) AS invited \
             FROM users u {} ORDER BY u.username LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let mut users = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push(r.try_get::<String, _>("id")?);
            users.push(UserView {
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                disabled: r.try_get::<i64, _>("disabled")? != 0,
                grants: Vec::new(),
                created_at: crate::format_instant(r.try_get("created_at")?),
                invited: invited(r)?,
            });
        }
        self.attach_grants(&ids, &mut users).await?;
        Ok(Page::from_rows(users, page.limit, |u| {
            cursor(&[&u.username])
        }))
    }

    /// Fills each user's grants (`role` or `role:scope`, by role and scope);
    /// `ids[i]` is the id of `users[i]`.
    async fn attach_grants(
        &self,
        ids: &[String],
        users: &mut [UserView],
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT user_id, role, scope FROM grants WHERE user_id IN ({}) ORDER BY role, scope",
            crate::db::params(1, ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(id.as_str());
        }
        let index: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        for r in q.fetch_all(&self.pool).await? {
            let user: String = r.try_get("user_id")?;
            let role: String = r.try_get("role")?;
            let scope: String = r.try_get("scope")?;
            if let Some(&i) = index.get(user.as_str()) {
                users[i].grants.push(if scope.is_empty() {
                    role
                } else {
                    format!("{role}:{scope}")
                });
            }
        }
        Ok(())
    }

    /// One user as the administration lists them.
    pub async fn user_view(&self, username: &str) -> Result<UserView, StoreError> {
        let filter = UserFilter {
            username: Some(username.to_string()),
            ..UserFilter::default()
        };
        self.list_users(&filter, &PageRequest::first(1))
            .await?
            .items
            .into_iter()
            .find(|u| u.username == username)
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                field: "username",
                key: username.to_string(),
            })
    }

    /// Machine tokens by id (their secrets are never stored).
    pub async fn list_tokens(
        &self,
        username: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<TokenInfo>, StoreError> {
        let mut f = Filter::default();
        f.eq_opt("u.username", username);
        f.after(&["t.id"], page.after.as_deref())?;
        let sql = format!(
            "SELECT t.id, u.username, t.name, t.grants, t.created_at, t.revoked_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id {} ORDER BY t.id LIMIT {}",
            f.sql(),
            page.limit + 1
        );
        let rows = f.query(&sql).fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    name: r.try_get("name")?,
                    grants: serde_json::from_str(&r.try_get::<String, _>("grants")?)
                        .unwrap_or_default(),
                    created_at: crate::format_instant(r.try_get("created_at")?),
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_rows(items, page.limit, |t| cursor(&[&t.id])))
    }

    /// Imports a staff roster in one transaction. Every row is checked
    /// (user name, display name, each grant's area, site or person, user
    /// names taken or repeated in the file); `mode` says what a bad row
    /// does to the others. Accounts
    /// get `placeholder_hash` as their password hash (an Argon2id hash of
    /// a secret nobody kept, so signing in costs the same time and fails)
    /// until their invitation is redeemed.
    pub async fn import_staff(
        &self,
        rows: Vec<NewStaff>,
        mode: RosterMode,
        placeholder_hash: &str,
        actor: &Actor,
    ) -> Result<StaffImported, StoreError> {
        let (mut errors, places) = check_roster_rows(&rows);
        let known = self.known_roster_keys(&rows, &places).await?;
        errors.extend(check_roster_references(&rows, &known));
        errors.sort_by_key(|e| e.row);
        if mode == RosterMode::CheckOnly || (!errors.is_empty() && mode == RosterMode::AllOrNothing)
        {
            return Ok(StaffImported {
                created: Vec::new(),
                errors,
            });
        }
        let bad: HashSet<usize> = errors.iter().map(|e| e.row).collect();
        let good: Vec<&NewStaff> = rows.iter().filter(|r| !bad.contains(&r.row)).collect();
        let now = self.now_micros();
        let ids: Vec<String> = good
            .iter()
            .map(|r| {
                r.id.clone()
                    .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
            })
            .collect();
        let mut tx = self.begin_write().await?;
        insert_accounts(&mut tx, &good, &ids, placeholder_hash, now).await?;
        let grants: Vec<(&str, &Grant)> = good
            .iter()
            .zip(&ids)
            .flat_map(|(r, id)| r.grants.iter().map(move |g| (id.as_str(), g)))
            .collect();
        insert_grants(&mut tx, &grants).await?;
        let created: Vec<String> = good.iter().map(|r| r.username.clone()).collect();
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "import",
                "users",
                "staff",
                serde_json::json!({
                    "created": created.len(),
                    "grants": grants.len(),
                    "refused_rows": errors.iter().map(|e| e.row).collect::<HashSet<_>>().len(),
                    "first": created.first(),
                    "last": created.last(),
                }),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(StaffImported { created, errors })
    }

    /// Which of the roster's user names are taken and which of the places
    /// its grants name exist, read on one pooled connection.
    async fn known_roster_keys(
        &self,
        rows: &[NewStaff],
        places: &RosterPlaces<'_>,
    ) -> Result<KnownKeys, StoreError> {
        let names: HashSet<&str> = rows.iter().map(|r| r.username.as_str()).collect();
        let mut conn = self.pool.acquire().await?;
        Ok(KnownKeys {
            taken: existing_keys(&mut conn, "users", "username", &names, BATCH).await?,
            areas: existing_keys(&mut conn, "areas", "code", &places.areas, BATCH).await?,
            sites: existing_keys(&mut conn, "sites", "code", &places.sites, BATCH).await?,
            persons: existing_keys(&mut conn, "persons", "id", &places.persons, BATCH).await?,
        })
    }

    /// Gives an existing account a new invitation (its old ones lapse).
    pub async fn invite(
        &self,
        username: &str,
        invitation_sha256: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                field: "username",
                key: username.to_string(),
            })?;
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE invitations SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
            .bind(&user.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO invitations (token_sha256, user_id, created_at, used_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(invitation_sha256)
        .bind(&user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "invite",
                "user",
                username,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redeems an invitation: the account gets `password_hash` (of the
    /// password its holder chose) and the invitation is used up. Returns
    /// the user name. An unknown, used or expired invitation, or one of a
    /// disabled account, is refused alike.
    pub async fn redeem_invitation(
        &self,
        invitation_sha256: &str,
        password_hash: &str,
    ) -> Result<String, StoreError> {
        let refused =
            || StoreError::invalid("token", "this invitation is unknown, used or expired");
        let row = sqlx::query(
            "SELECT i.user_id, i.created_at, i.used_at, u.username, u.disabled FROM invitations i \
             JOIN users u ON u.id = i.user_id WHERE i.token_sha256 = $1",
        )
        .bind(invitation_sha256)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(refused)?;
        let now = self.now_micros();
        let used: Option<i64> = row.try_get("used_at")?;
        let disabled: i64 = row.try_get("disabled")?;
        if used.is_some()
            || disabled != 0
            || !vaxgrid_core::staff::invitation_open(row.try_get("created_at")?, now)
        {
            return Err(refused());
        }
        let user_id: String = row.try_get("user_id")?;
        let username: String = row.try_get("username")?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE invitations SET used_at = $2 WHERE token_sha256 = $1 AND used_at IS NULL",
        )
        .bind(invitation_sha256)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(refused());
        }
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(&user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(
                &username,
                "redeem_invitation",
                "user",
                &username,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(username)
    }

    /// Enabled staff per site by role, for sites within `area` (all when
    /// `None`) and the scope, by site code.
    pub async fn staff_headcount(
        &self,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<Vec<SiteHeadcount>, StoreError> {
        let f = self.headcount_filter(area, scope).await?;
        let sql = format!(
            "SELECT s.code, s.name, s.area_code, g.role, COUNT(*) AS n {HEADCOUNT_FROM} {} \
             GROUP BY s.code, s.name, s.area_code, g.role ORDER BY s.code, g.role",
            f.sql()
        );
        let mut out = role_counts_by_site(&f.query(&sql).fetch_all(&self.pool).await?)?;
        let sql = format!(
            "SELECT s.code, COUNT(DISTINCT g.user_id) AS n {HEADCOUNT_FROM} {} GROUP BY s.code",
            f.sql()
        );
        let people: HashMap<String, i64> = f
            .query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("n")?)))
            .collect::<Result<_, StoreError>>()?;
        for s in &mut out {
            s.people = people.get(&s.site_code).copied().unwrap_or(0);
        }
        Ok(out)
    }

    /// The headcount's WHERE clause: enabled users' site grants, at sites
    /// within `area` (404 when it is unknown or outside the scope) and the
    /// scope.
    async fn headcount_filter(
        &self,
        area: Option<&str>,
        scope: &Scope,
    ) -> Result<Filter, StoreError> {
        let mut f = Filter::default();
        if let Some(code) = area {
            let a = self.area(code).await.map_err(|_| StoreError::NotFound {
                entity: "area",
                field: "area",
                key: code.to_string(),
            })?;
            if !scope.covers_path(&a.path) {
                return Err(StoreError::NotFound {
                    entity: "area",
                    field: "area",
                    key: code.to_string(),
                });
            }
            f.subtree("a.path", &a.path);
        }
        f.scope(scope, "a.path", "NULL");
        f.raw("u.disabled = 0");
        f.raw(&site_roles_clause());
        Ok(f)
    }
}

/// `EXISTS (…)` reads as an integer on SQLite and a boolean on PostgreSQL.
fn invited(r: &sqlx::any::AnyRow) -> Result<bool, StoreError> {
    Ok(match r.try_get::<bool, _>("invited") {
        Ok(b) => b,
        Err(_) => r.try_get::<i64, _>("invited")? != 0,
    })
}

/// `($1, $2, 0, $3), …`: parameters for the empty templates, the others
/// written as given.
fn values(rows: usize, template: &[&str]) -> String {
    let mut n = 0;
    (0..rows)
        .map(|_| {
            let cells: Vec<String> = template
                .iter()
                .map(|t| {
                    if t.is_empty() {
                        n += 1;
                        format!("${n}")
                    } else {
                        t.to_string()
                    }
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The places a roster's grants name, by kind.
#[derive(Debug, Default)]
struct RosterPlaces<'a> {
    areas: HashSet<&'a str>,
    sites: HashSet<&'a str>,
    persons: HashSet<&'a str>,
}

/// What the database holds of a roster's user names and places.
#[derive(Debug, Default)]
struct KnownKeys {
    taken: HashSet<String>,
    areas: HashSet<String>,
    sites: HashSet<String>,
    persons: HashSet<String>,
}

/// Checks each row on its own (user name, display name, a user name
/// repeated in the file) and gathers the places its grants name.
fn check_roster_rows(rows: &[NewStaff]) -> (Vec<StaffRowError>, RosterPlaces<'_>) {
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut places = RosterPlaces::default();
    for r in rows {
        if let Err(e) = crate::accounts::check_username(&r.username) {
            errors.push(row_error(
                r.row,
                "username",
                e.to_string().replace("username: ", ""),
            ));
        } else if let Some(first) = seen.insert(r.username.as_str(), r.row) {
            errors.push(row_error(
                r.row,
                "username",
                format!("{} is also on row {first}", r.username),
            ));
        }
        if let Err(m) = vaxgrid_core::staff::check_display_name(&r.display_name) {
            errors.push(row_error(r.row, "display_name", m));
        }
        for g in &r.grants {
            match g.role.scope_kind() {
                ScopeKind::Area => places.areas.insert(g.scope.as_str()),
                ScopeKind::Site => places.sites.insert(g.scope.as_str()),
                ScopeKind::Person => places.persons.insert(g.scope.as_str()),
                ScopeKind::Global => false,
            };
        }
    }
    (errors, places)
}

/// Refuses the rows whose user name is taken or whose grants name a place
/// that does not exist.
fn check_roster_references(rows: &[NewStaff], known: &KnownKeys) -> Vec<StaffRowError> {
    let mut errors = Vec::new();
    for r in rows {
        if known.taken.contains(&r.username) {
            errors.push(row_error(
                r.row,
                "username",
                format!("the user name {} is taken", r.username),
            ));
        }
        for g in &r.grants {
            let (found, what) = match g.role.scope_kind() {
                ScopeKind::Area => (known.areas.contains(&g.scope), "area"),
                ScopeKind::Site => (known.sites.contains(&g.scope), "site"),
                ScopeKind::Person => (known.persons.contains(&g.scope), "person"),
                ScopeKind::Global => (true, ""),
            };
            if !found {
                // The roster's column that named the place.
                let field = if what == "person" { "roles" } else { what };
                errors.push(row_error(
                    r.row,
                    field,
                    format!("{g}: {what} '{}' does not exist", g.scope),
                ));
            }
        }
    }
    errors
}

/// Writes the accounts and their invitations, `BATCH` rows a statement,
/// each chunk's users before its invitations.
async fn insert_accounts(
    conn: &mut sqlx::AnyConnection,
    good: &[&NewStaff],
    ids: &[String],
    placeholder_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    for (chunk, ids) in good.chunks(BATCH).zip(ids.chunks(BATCH)) {
        let sql = format!(
            "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at) VALUES {}",
            values(chunk.len(), &["", "", "", "", "0", ""])
        );
        let mut q = sqlx::query(&sql);
        for (r, id) in chunk.iter().zip(ids) {
            q = q
                .bind(id.as_str())
                .bind(r.username.as_str())
                .bind(r.display_name.as_str())
                .bind(placeholder_hash)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
        let sql = format!(
            "INSERT INTO invitations (token_sha256, user_id, created_at, used_at) VALUES {}",
            values(chunk.len(), &["", "", "", "NULL"])
        );
        let mut q = sqlx::query(&sql);
        for (r, id) in chunk.iter().zip(ids) {
            q = q
                .bind(r.invitation_sha256.as_str())
                .bind(id.as_str())
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the grants (account id, grant), `BATCH` rows a statement.
async fn insert_grants(
    conn: &mut sqlx::AnyConnection,
    grants: &[(&str, &Grant)],
) -> Result<(), StoreError> {
    for chunk in grants.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO grants (user_id, role, scope) VALUES {}",
            crate::db::value_rows(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, g) in chunk {
            q = q.bind(*id).bind(g.role.as_str()).bind(g.scope.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The WHERE clause and page cursor of a users' list: name prefix or
/// exact name, disabled or not, and a grant of the role and/or scope.
fn user_filter(filter: &UserFilter, page: &PageRequest) -> Result<Filter, StoreError> {
    let mut f = Filter::default();
    if let Some(p) = &filter.prefix {
        // substr, not LIKE: the same on both backends, no wildcards.
        f.cmp(
            &format!("substr(u.username, 1, {})", p.chars().count()),
            "=",
            p.as_str(),
        );
    }
    f.eq_opt("u.username", filter.username.as_deref());
    if let Some(d) = filter.disabled {
        f.raw(if d {
            "u.disabled = 1"
        } else {
            "u.disabled = 0"
        });
    }
    if filter.role.is_some() || filter.scope.is_some() {
        let mut inner = String::from("SELECT 1 FROM grants g WHERE g.user_id = u.id");
        if let Some(r) = filter.role {
            inner.push_str(&format!(" AND g.role = ${}", f.binds.len() + 1));
            f.binds.push(r.as_str().to_string());
        }
        if let Some(s) = &filter.scope {
            inner.push_str(&format!(" AND g.scope = ${}", f.binds.len() + 1));
            f.binds.push(s.clone());
        }
        f.raw(&format!("EXISTS ({inner})"));
    }
    f.after(&["u.username"], page.after.as_deref())?;
    Ok(f)
}

/// The grants, users, sites and areas a headcount counts over.
const HEADCOUNT_FROM: &str =
    "FROM grants g JOIN users u ON u.id = g.user_id JOIN sites s ON s.code = g.scope \
     JOIN areas a ON a.code = s.area_code";

/// `g.role IN ('registrar', …)`: the roles held at a site.
fn site_roles_clause() -> String {
    let site_roles: Vec<&str> = Role::ALL
        .iter()
        .filter(|r| r.scope_kind() == ScopeKind::Site)
        .map(|r| r.as_str())
        .collect();
    format!(
        "g.role IN ({})",
        site_roles
            .iter()
            .map(|r| format!("'{r}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Folds (site, role, count) rows, ordered by site, into one headcount a
/// site, each role counted as vaccination or support staff.
fn role_counts_by_site(rows: &[sqlx::any::AnyRow]) -> Result<Vec<SiteHeadcount>, StoreError> {
    let mut out: Vec<SiteHeadcount> = Vec::new();
    for r in rows {
        let code: String = r.try_get("code")?;
        if out.last().is_none_or(|s| s.site_code != code) {
            out.push(SiteHeadcount {
                site_code: code,
                site_name: r.try_get("name")?,
                area_code: r.try_get("area_code")?,
                roles: BTreeMap::new(),
                vaccination_staff: 0,
                support_staff: 0,
                people: 0,
            });
        }
        let site = out.last_mut().expect("pushed above");
        let role: String = r.try_get("role")?;
        let n: i64 = r.try_get("n")?;
        if Role::parse(&role).is_some_and(vaxgrid_core::staff::is_vaccination_staff) {
            site.vaccination_staff += n;
        } else {
            site.support_staff += n;
        }
        site.roles.insert(role, n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_templates_number_only_the_blanks() {
        assert_eq!(super::values(2, &["", "0", ""]), "($1, 0, $2), ($3, 0, $4)");
    }

    fn staff(row: usize, username: &str, grants: &[(Role, &str)]) -> NewStaff {
        NewStaff {
            row,
            id: None,
            username: username.to_string(),
            display_name: "Nguyễn Văn A".to_string(),
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: scope.to_string(),
                })
                .collect(),
            invitation_sha256: String::new(),
        }
    }

    #[test]
    fn the_headcount_counts_the_roles_held_at_a_site() {
        assert_eq!(
            site_roles_clause(),
            "g.role IN ('registrar', 'screener', 'vaccinator', 'observer')"
        );
    }

    #[test]
    fn a_repeated_user_name_is_refused_on_its_second_row() {
        let rows = [
            staff(1, "lan", &[(Role::Vaccinator, "S1")]),
            staff(2, "lan", &[(Role::Planner, "A1"), (Role::Resident, "p1")]),
        ];
        let (errors, places) = check_roster_rows(&rows);
        assert_eq!(
            errors,
            vec![row_error(2, "username", "lan is also on row 1")]
        );
        assert!(places.sites.contains("S1"));
        assert!(places.areas.contains("A1"));
        assert!(places.persons.contains("p1"));
    }

    #[test]
    fn a_taken_name_and_an_unknown_place_are_refused_by_field() {
        let rows = [staff(
            3,
            "lan",
            &[(Role::Resident, "p9"), (Role::Admin, "")],
        )];
        let known = KnownKeys {
            taken: HashSet::from(["lan".to_string()]),
            ..KnownKeys::default()
        };
        let errors = check_roster_references(&rows, &known);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "roles"]);
        assert!(errors[1].message.ends_with("person 'p9' does not exist"));
    }
}
