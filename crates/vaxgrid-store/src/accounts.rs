//! Users, their grants, web sessions, machine tokens and failed sign-ins.
//! The store keeps hashes only: password hashes are made by the caller
//! (Argon2id), session ids and tokens are kept as SHA-256.

use sqlx::Row;
use vaxgrid_core::access::{Grant, Role, ScopeKind};

use vaxgrid_core::throttle::{Counter, Decision, Policy, Scope};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
}

/// Who is calling, as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    /// The grants this call acts with (a token may carry fewer than its user).
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub username: String,
    pub name: String,
    pub grants: Vec<String>,
    pub created_at: String,
    pub revoked: bool,
}

pub(crate) fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

/// How long a checked token is believed without asking the database again.
/// Every request carries a token, and at thousands of requests a second the
/// lookup competes with the dose writer for the database. Revoking a
/// token, disabling a user or changing grants through this process clears
/// the cache at once; done from another process (the command line), it
/// takes effect within this time.
pub const TOKEN_CACHE_MICROS: i64 = 1_000_000;

type Cached = std::collections::HashMap<String, (i64, Option<Principal>)>;

#[derive(Debug, Clone, Default)]
pub struct TokenCache(std::sync::Arc<std::sync::Mutex<Cached>>);

impl TokenCache {
    fn get(&self, key: &str) -> Option<Option<Principal>> {
        let now = crate::now_micros();
        let map = self.0.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| now - at < TOKEN_CACHE_MICROS)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, key: &str, principal: Option<Principal>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(key.to_string(), (crate::now_micros(), principal));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, disabled";

fn no_user(username: &str) -> StoreError {
    StoreError::NotFound {
        entity: "user",
        field: "username",
        key: username.to_string(),
    }
}

pub(crate) fn check_username(username: &str) -> Result<(), StoreError> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "username",
            "a user name is 3 to 64 characters: letters, digits, '.', '_', '-', '@'",
        ))
    }
}

impl Store {
    /// Checks that a grant's scope names something that exists.
    async fn check_grant(&self, g: &Grant) -> Result<(), StoreError> {
        let missing = |entity, key: &str| StoreError::NotFound {
            entity,
            field: "scope",
            key: key.to_string(),
        };
        match g.role.scope_kind() {
            ScopeKind::Global => Ok(()),
            ScopeKind::Area => self
                .area(&g.scope)
                .await
                .map(|_| ())
                .map_err(|_| missing("area", &g.scope)),
            ScopeKind::Site => self
                .site(&g.scope)
                .await
                .map(|_| ())
                .map_err(|_| missing("site", &g.scope)),
            ScopeKind::Person => self
                .person(&g.scope)
                .await
                .map(|_| ())
                .map_err(|_| missing("person", &g.scope)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        grants: &[Grant],
        actor: &str,
    ) -> Result<User, StoreError> {
        check_username(username)?;
        for g in grants {
            self.check_grant(g).await?;
        }
        if self.user_by_name(username).await?.is_some() {
            return Err(StoreError::Conflict {
                field: "username",
                message: format!("the user name {username} is taken"),
                existing: None,
            });
        }
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(&id)
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        for g in grants {
            sqlx::query("INSERT INTO grants (user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(&id)
                .bind(g.role.as_str())
                .bind(&g.scope)
                .execute(&mut *tx)
                .await?;
        }
        let grants: Vec<String> = grants.iter().map(Grant::to_string).collect();
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(
                actor,
                "create",
                "user",
                username,
                serde_json::json!({"grants": grants}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn users(&self) -> Result<Vec<(User, Vec<Grant>)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let u = user_from_row(r)?;
            let g = self.grants_of(&u.id).await?;
            out.push((u, g));
        }
        Ok(out)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grants_of(&self, user_id: &str) -> Result<Vec<Grant>, StoreError> {
        let rows =
            sqlx::query("SELECT role, scope FROM grants WHERE user_id = $1 ORDER BY role, scope")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .filter_map(|r| {
                let role: String = r.try_get("role").ok()?;
                let scope: String = r.try_get("scope").ok()?;
                Some(Role::parse(&role).map(|role| Grant { role, scope }))
            })
            .flatten()
            .map(Ok)
            .collect()
    }

    /// Changes a user's account in one audited transaction.
    async fn change_user(
        &self,
        username: &str,
        sql: &str,
        value: Option<&str>,
        action: &str,
        actor: &str,
        details: serde_json::Value,
    ) -> Result<User, StoreError> {
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))?;
        let mut tx = self.begin_write().await?;
        let mut q = sqlx::query(sql).bind(&user.id);
        if let Some(v) = value {
            q = q.bind(v);
        }
        q.execute(&mut *tx).await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(actor, action, "user", username, details)],
        )
        .await?;
        tx.commit().await?;
        self.user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))
    }

    /// Sets a new password hash; the user's sessions end.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.change_user(
            username,
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            Some(password_hash),
            "set_password",
            actor,
            serde_json::json!({}),
        )
        .await?;
        self.end_sessions(username).await
    }

    /// Disables (or enables) a user; a disabled user's sessions and tokens stop working at once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<(), StoreError> {
        let sql = if disabled {
            "UPDATE users SET disabled = 1 WHERE id = $1"
        } else {
            "UPDATE users SET disabled = 0 WHERE id = $1"
        };
        self.change_user(
            username,
            sql,
            None,
            if disabled { "disable" } else { "enable" },
            actor,
            serde_json::json!({}),
        )
        .await?;
        self.end_sessions(username).await
    }

    async fn end_sessions(&self, username: &str) -> Result<(), StoreError> {
        self.tokens.clear();
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds (`give`) or removes a grant, audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_grant(
        &self,
        username: &str,
        g: &Grant,
        give: bool,
        actor: &str,
    ) -> Result<(), StoreError> {
        if give {
            self.check_grant(g).await?;
        }
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))?;
        let mut tx = self.begin_write().await?;
        let sql = if give {
            "INSERT INTO grants (user_id, role, scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM grants WHERE user_id = $1 AND role = $2 AND scope = $3"
        };
        sqlx::query(sql)
            .bind(&user.id)
            .bind(g.role.as_str())
            .bind(&g.scope)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(
                actor,
                if give { "grant" } else { "revoke" },
                "user",
                username,
                serde_json::json!({"grant": g.to_string()}),
            )],
        )
        .await?;
        tx.commit().await?;
        self.tokens.clear();
        Ok(())
    }

    /// Starts a web session (its id kept as SHA-256).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_session(
        &self,
        user_id: &str,
        id_sha256: &str,
        csrf: &str,
    ) -> Result<(), StoreError> {
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sessions (id_sha256, user_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)")
            .bind(id_sha256)
            .bind(user_id)
            .bind(csrf)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session's user and CSRF token, if it exists, has been used within
    /// `idle_micros` and began within `absolute_micros`; using it renews the
    /// idle clock. An expired session is removed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session(
        &self,
        id_sha256: &str,
        idle_micros: i64,
        absolute_micros: i64,
    ) -> Result<Option<(Principal, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, csrf, created_at, last_seen FROM sessions WHERE id_sha256 = $1",
        )
        .bind(id_sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = self.now_micros();
        let created: i64 = row.try_get("created_at")?;
        let last_seen: i64 = row.try_get("last_seen")?;
        let user_id: String = row.try_get("user_id")?;
        let csrf: String = row.try_get("csrf")?;
        let mut tx = self.begin_write().await?;
        if now - last_seen > idle_micros || now - created > absolute_micros {
            sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
                .bind(id_sha256)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(None);
        }
        // Renew at most once a minute: a busy page does not write on every request.
        if now - last_seen > 60_000_000 {
            sqlx::query("UPDATE sessions SET last_seen = $2 WHERE id_sha256 = $1")
                .bind(id_sha256)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(self.principal(&user_id, None).await?.map(|p| (p, csrf)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_session(&self, id_sha256: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The enabled user with this id and the grants a call acts with
    /// (`only`, when a token narrows them, else all the user's grants).
    async fn principal(
        &self,
        user_id: &str,
        only: Option<Vec<Grant>>,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(user) = row.as_ref().map(user_from_row).transpose()? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let held = self.grants_of(&user.id).await?;
        // A token acts with the grants it was made with that its user still holds.
        let grants = match only {
            Some(only) => only.into_iter().filter(|g| held.contains(g)).collect(),
            None => held,
        };
        Ok(Some(Principal { user, grants }))
    }

    /// Records a machine token (its SHA-256) for a user, acting with
    /// `grants` (all the user's when empty). Returns the token's id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_token(
        &self,
        username: &str,
        name: &str,
        grants: &[Grant],
        token_sha256: &str,
        actor: &str,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.create_token_as(&id, username, name, grants, token_sha256, actor)
            .await
    }

    /// [`Store::create_token`] under an id the client chose, so that a
    /// request sent twice records one token: the second finds the id taken
    /// (a conflict on `id`). A token's name is 1 to 100 characters.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_token_as(
        &self,
        id: &str,
        username: &str,
        name: &str,
        grants: &[Grant],
        token_sha256: &str,
        actor: &str,
    ) -> Result<String, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid(
                "name",
                "a token's name is 1 to 100 characters",
            ));
        }
        let user = self
            .user_by_name(username)
            .await?
            .ok_or_else(|| no_user(username))?;
        let held = self.grants_of(&user.id).await?;
        if let Some(g) = grants.iter().find(|g| !held.contains(g)) {
            return Err(StoreError::invalid(
                "grants",
                format!("{username} does not hold {g}: a token acts with its user's grants only"),
            ));
        }
        let names: Vec<String> = grants.iter().map(Grant::to_string).collect();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO api_tokens (id, token_sha256, user_id, name, grants, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(token_sha256)
        .bind(&user.id)
        .bind(name)
        .bind(serde_json::to_string(&names).unwrap_or_default())
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!("token {id} exists"),
                existing: Some(format!("/api/v1/tokens/{id}")),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(
                actor,
                "create",
                "token",
                id,
                serde_json::json!({"user": username, "name": name, "grants": names}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(id.to_string())
    }

    /// Who a token acts for, unless it was revoked or its user disabled.
    /// One query (token, user and grants joined): it runs on every request.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn token_principal(
        &self,
        token_sha256: &str,
    ) -> Result<Option<Principal>, StoreError> {
        if let Some(known) = self.tokens.get(token_sha256) {
            return Ok(known);
        }
        let principal = self.token_principal_uncached(token_sha256).await?;
        self.tokens.put(token_sha256, principal.clone());
        Ok(principal)
    }

    async fn token_principal_uncached(
        &self,
        token_sha256: &str,
    ) -> Result<Option<Principal>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.password_hash, u.disabled, \
                    t.grants AS token_grants, g.role, g.scope \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             LEFT JOIN grants g ON g.user_id = u.id \
             WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_sha256)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let user = user_from_row(first)?;
        if user.disabled {
            return Ok(None);
        }
        let mut held = Vec::new();
        for r in &rows {
            let role: Option<String> = r.try_get("role")?;
            let scope: Option<String> = r.try_get("scope")?;
            if let (Some(role), Some(scope)) = (role.as_deref().and_then(Role::parse), scope) {
                held.push(Grant { role, scope });
            }
        }
        let names: Vec<String> =
            serde_json::from_str(&first.try_get::<String, _>("token_grants")?).unwrap_or_default();
        let only: Vec<Grant> = names.iter().filter_map(|n| Grant::parse(n).ok()).collect();
        // A token acts with the grants it was made with that its user still holds.
        let grants = if only.is_empty() {
            held
        } else {
            only.into_iter().filter(|g| held.contains(g)).collect()
        };
        Ok(Some(Principal { user, grants }))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(self.now_micros())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "token",
                field: "id",
                key: id.to_string(),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::new(
                actor,
                "revoke",
                "token",
                id,
                serde_json::json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        // After the commit: a request in between must not cache it again.
        self.tokens.clear();
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, u.username, t.name, t.grants, t.created_at, t.revoked_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
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
            .collect()
    }

    /// Counts a sign-in attempt for `username` from `address` under the
    /// throttling rule (`vaxgrid_core::throttle`), before its password is
    /// checked: either it must wait, or it is counted as a failure at once
    /// (so parallel guesses cannot slip past the counters) and
    /// [`Store::login_succeeded`] clears the counters if the password was
    /// right. One write transaction; rows are locked pair first, then name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn login_attempt(
        &self,
        username: &str,
        address: &str,
        policy: &Policy,
    ) -> Result<LoginAttempt, StoreError> {
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        // Forget counters idle past the rule's window (a bounded table).
        sqlx::query("DELETE FROM login_throttle WHERE last_failure < $1")
            .bind(now - policy.forget_micros)
            .execute(&mut *tx)
            .await?;
        let known = sqlx::query(
            "SELECT 1 AS one FROM login_known_addresses WHERE username = $1 AND address = $2",
        )
        .bind(username)
        .bind(address)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let pair = throttle_row(&mut tx, username, address).await?;
        let name = if known {
            Counter::default()
        } else {
            throttle_row(&mut tx, username, NAME_WIDE).await?
        };
        if let Decision::Wait { until, scope } = policy.decide(pair, name, known, now) {
            tx.commit().await?;
            return Ok(LoginAttempt::Wait { until, scope });
        }
        let pair = policy.failed(pair, now);
        let pair_until = policy.blocked_until(pair, policy.pair_free, now);
        set_throttle_row(&mut tx, username, address, pair, pair_until).await?;
        let mut lockout = (pair_until > now).then_some(Lockout {
            username: username.to_string(),
            address: Some(address.to_string()),
            failures: pair.failures,
            last_failure: now,
            blocked_until: pair_until,
        });
        if !known {
            let name = policy.failed(name, now);
            let name_until = policy.blocked_until(name, policy.name_free, now);
            set_throttle_row(&mut tx, username, NAME_WIDE, name, name_until).await?;
            if name_until > now && name_until > pair_until {
                lockout = Some(Lockout {
                    username: username.to_string(),
                    address: None,
                    failures: name.failures,
                    last_failure: now,
                    blocked_until: name_until,
                });
            }
        }
        tx.commit().await?;
        Ok(LoginAttempt::Admitted { lockout })
    }

    /// A sign-in succeeded: clears the name's counters (its own address's
    /// and the name-wide one) and remembers the address as one that signs
    /// in as this name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn login_succeeded(&self, username: &str, address: &str) -> Result<(), StoreError> {
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_throttle WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_throttle WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(NAME_WIDE)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO login_known_addresses (username, address, last_success) VALUES ($1, $2, $3) \
             ON CONFLICT (username, address) DO UPDATE SET last_success = excluded.last_success",
        )
        .bind(username)
        .bind(address)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sign-in lockouts of the last day (counters that reached a wait and
    /// were not cleared by a success since), the latest failure first, at
    /// most 500. `address` is absent for a name-wide lockout (which holds
    /// back every address that never signed in as the name).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lockouts(&self) -> Result<Vec<Lockout>, StoreError> {
        let since = self.now_micros() - vaxgrid_core::throttle::POLICY.forget_micros;
        let rows = sqlx::query(
            "SELECT username, address, failures, last_failure, blocked_until FROM login_throttle \
             WHERE blocked_until > 0 AND last_failure >= $1 \
             ORDER BY last_failure DESC, username, address LIMIT 500",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let address: String = r.try_get("address")?;
                Ok(Lockout {
                    username: r.try_get("username")?,
                    address: (address != NAME_WIDE).then_some(address),
                    failures: r.try_get("failures")?,
                    last_failure: r.try_get("last_failure")?,
                    blocked_until: r.try_get("blocked_until")?,
                })
            })
            .collect()
    }

    /// Clears a sign-in lockout: the counter of `username` from `address`
    /// (`None`: the name-wide counter) is forgotten, so the next attempt
    /// is let through and counted afresh. Audited; `NotFound` when there
    /// is no such counter.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clear_lockout(
        &self,
        username: &str,
        address: Option<&str>,
        actor: &crate::model::Actor,
    ) -> Result<(), StoreError> {
        let address = address.unwrap_or(NAME_WIDE);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM login_throttle WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "lockout",
                field: "username",
                key: format!("{username} from {address}"),
            });
        }
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "clear_lockout",
                "user",
                username,
                serde_json::json!({ "address": address }),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends an audit entry for something a caller did or read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit::append(&mut tx, self.backend, &[entry]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The address of a user name's name-wide throttle row.
const NAME_WIDE: &str = "*";

/// A counter of failed sign-ins that reached a wait.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lockout {
    pub username: String,
    /// The source address; absent for the name-wide counter.
    pub address: Option<String>,
    /// Failed sign-ins counted.
    pub failures: i64,
    /// The last failure (Unix micros).
    pub last_failure: i64,
    /// When the wait ends (Unix micros); in the past once it is over.
    pub blocked_until: i64,
}

/// What [`Store::login_attempt`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Not checked: try again at `until` (Unix micros).
    Wait { until: i64, scope: Scope },
    /// Check the password. Counted as a failure already; `lockout` is the
    /// wait that failure starts, if the password turns out wrong.
    Admitted { lockout: Option<Lockout> },
}

async fn throttle_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    username: &str,
    address: &str,
) -> Result<Counter, StoreError> {
    // Takes the row's lock (PostgreSQL) before reading it, so that two
    // attempts at once count one after the other.
    sqlx::query(
        "INSERT INTO login_throttle (username, address, failures, last_failure, blocked_until) \
         VALUES ($1, $2, 0, 0, 0) \
         ON CONFLICT (username, address) DO UPDATE SET failures = login_throttle.failures",
    )
    .bind(username)
    .bind(address)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "SELECT failures, last_failure FROM login_throttle WHERE username = $1 AND address = $2",
    )
    .bind(username)
    .bind(address)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Counter {
        failures: row.try_get("failures")?,
        last_failure: row.try_get("last_failure")?,
    })
}

async fn set_throttle_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    username: &str,
    address: &str,
    counter: Counter,
    blocked_until: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE login_throttle SET failures = $3, last_failure = $4, blocked_until = $5 \
         WHERE username = $1 AND address = $2",
    )
    .bind(username)
    .bind(address)
    .bind(counter.failures)
    .bind(counter.last_failure)
    .bind(blocked_until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
