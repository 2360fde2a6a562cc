//! /api/v1/users, /api/v1/tokens, /api/v1/invitations: the administration
//! of accounts (users and their roles, staff rosters by CSV, machine
//! tokens) and the redemption of an invitation by its holder. New accounts
//! get an invitation, not a password: see `vaxgrid_core::staff`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use vaxgrid_core::access::{Grant, Permission, Role};
use vaxgrid_store::staff::{NewStaff, RosterMode, StaffImported, UserFilter, UserView};

use crate::api::lists::{listing, page_request};
use crate::api::staff_types::{Headcount, Redeemed, Token, User};
use crate::api::types::Page;
use crate::auth::{new_secret, sha256_hex, Caller};
use crate::error::{ApiError, RowProblem};
use crate::extract::{ApiJson, ApiQuery, CsvBody};
use crate::AppState;

/// An invitation as shown once to the administrator who hands it over.
pub fn new_invitation() -> String {
    format!("vxi_{}", new_secret())
}

/// The password hash accounts hold until their invitation is redeemed: an
/// Argon2id hash of a random secret nobody keeps, made once per process,
/// so signing in to such an account costs the usual time and fails.
pub async fn placeholder_hash() -> Result<String, ApiError> {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_try_init(|| async {
        tokio::task::spawn_blocking(|| crate::auth::hash_password(&new_secret()))
            .await
            .map_err(|e| e.to_string())?
    })
    .await
    .cloned()
    .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e)))
}

/// A roster read from CSV: the rows to import, each row's invitation (in
/// the same order), and the rows that could not be read.
pub struct Roster {
    pub rows: Vec<NewStaff>,
    pub invitations: Vec<String>,
    pub errors: Vec<RowProblem>,
}

/// Reads a staff roster (`vaxgrid_interop::csv::staff`:
/// `username,display_name,roles,site,area`), giving each good row its
/// invitation.
pub fn read_roster(bytes: &[u8]) -> Roster {
    let table = vaxgrid_interop::csv::staff::read_roster(bytes);
    let mut roster = Roster {
        rows: Vec::with_capacity(table.rows.len()),
        invitations: Vec::with_capacity(table.rows.len()),
        errors: table.errors.into_iter().map(RowProblem::from).collect(),
    };
    for (row, r) in table.rows {
        let invitation = new_invitation();
        roster.rows.push(NewStaff {
            row,
            id: None,
            username: r.username,
            display_name: r.display_name,
            grants: r.grants,
            invitation_sha256: sha256_hex(&invitation),
        });
        roster.invitations.push(invitation);
    }
    roster
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub username: String,
    /// Shown once; its holder redeems it at POST /api/v1/invitations/redeem
    /// within 14 days by choosing a password.
    pub invitation: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    pub imported: usize,
    pub invitations: Vec<Invitation>,
    /// Rows left out (with skip_invalid).
    pub skipped: Vec<RowProblem>,
}

/// Imports a roster read by [`read_roster`]: all rows or none, unless
/// `skip_invalid`. The invitations are those of the rows created.
pub async fn import_roster(
    store: &vaxgrid_store::Store,
    roster: Roster,
    skip_invalid: bool,
    actor: &vaxgrid_store::model::Actor,
) -> Result<ImportAnswer, ApiError> {
    let count = roster.rows.len() + roster.errors.len();
    let mode = if skip_invalid {
        RosterMode::SkipInvalid
    } else if roster.errors.is_empty() {
        RosterMode::AllOrNothing
    } else {
        // Rows already refused: the others are checked, not written, so
        // the answer lists every bad row at once.
        RosterMode::CheckOnly
    };
    let hash = placeholder_hash().await?;
    let mut tokens: std::collections::HashMap<String, String> = roster
        .rows
        .iter()
        .zip(roster.invitations)
        .map(|(r, t)| (r.username.clone(), t))
        .collect();
    let StaffImported { created, errors } =
        store.import_staff(roster.rows, mode, &hash, actor).await?;
    let mut problems = roster.errors;
    problems.extend(errors.into_iter().map(|e| RowProblem {
        row: e.row,
        field: e.field,
        message: e.message,
    }));
    problems.sort_by_key(|p| p.row);
    if !skip_invalid && !problems.is_empty() {
        return Err(ApiError::Rows {
            count,
            errors: problems,
        });
    }
    let invitations = created
        .into_iter()
        .map(|username| Invitation {
            invitation: tokens.remove(&username).unwrap_or_default(),
            username,
        })
        .collect::<Vec<_>>();
    Ok(ImportAnswer {
        imported: invitations.len(),
        invitations,
        skipped: problems,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    skip_invalid: bool,
}

/// POST /api/v1/users/import (text/csv)
#[utoipa::path(
    post,
    path = "/api/v1/users/import",
    summary = "Import a staff roster (CSV: username,display_name,roles,site,area; roles separated by ';', a bare role holds at the row's site or area). All rows or none (422 with rows[] naming row and field) unless skip_invalid=true. Answers each new user's invitation, shown once.",
    params(("skip_invalid" = Option<bool>, Query, description = "import the good rows, list the others")),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "{imported, invitations: [{username, invitation}], skipped}", body = ImportAnswer),
        (status = 400, response = crate::error::Problem),
        (status = 413, response = crate::error::Problem),
        (status = 415, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn import(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> Result<(StatusCode, Json<ImportAnswer>), ApiError> {
    let actor = caller.actor(&app, Permission::ManageUsers).await?;
    let roster = tokio::task::spawn_blocking(move || read_roster(&bytes))
        .await
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string())))?;
    let answer = import_roster(&app.store, roster, q.skip_invalid, &actor).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    role: Option<String>,
    scope: Option<String>,
    prefix: Option<String>,
    disabled: Option<bool>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/users
#[utoipa::path(
    get,
    path = "/api/v1/users",
    summary = "Users by user name with their roles (administrators)",
    params(("role" = Option<String>, Query, description = "holding this role"), ("scope" = Option<String>, Query, description = "holding a role on this area, site or person"), ("prefix" = Option<String>, Query, description = "user names starting with this"), ("disabled" = Option<bool>, Query, description = "true or false"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}", body = Page<User>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let page = page_request(q.after, q.limit)?;
    let role = q
        .role
        .map(|r| {
            Role::parse(&r)
                .ok_or_else(|| ApiError::bad_request("role", format!("'{r}' is not a role")))
        })
        .transpose()?;
    let filter = UserFilter {
        role,
        scope: q.scope,
        prefix: q.prefix,
        username: None,
        disabled: q.disabled,
    };
    let users = app
        .store
        .list_users(&filter, &page)
        .await
        .map_err(listing)?;
    Ok(Json(Page::from(users)))
}

/// GET /api/v1/users/{username}
#[utoipa::path(
    get,
    path = "/api/v1/users/{username}",
    summary = "A user and their roles",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 200, description = "OK", body = User),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        app.store
            .user_view(&username)
            .await
            .map_err(ApiError::lookup)?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// The account's id, chosen by the client (a UUID) so that the request
    /// sent twice finds the account it made; a new one when absent.
    pub id: Option<String>,
    pub username: String,
    pub display_name: String,
    /// ROLE or ROLE:SCOPE each.
    pub grants: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub user: User,
    pub invitation: String,
}

fn grant_field(text: &str) -> Result<Grant, ApiError> {
    Grant::parse(text).map_err(|e| ApiError::invalid("grants", e.to_string()))
}

/// Creates a user with roles and an invitation: the API's and the
/// administration page's one way (the store checks the rest). A body
/// sent again with the same `id` finds the account of the first: a
/// conflict on `id` (its invitation was shown once, to the first).
pub async fn create_user(
    app: &AppState,
    caller: &Caller,
    b: UserBody,
) -> Result<Created, ApiError> {
    let actor = caller.actor(app, Permission::ManageUsers).await?;
    let id =
        b.id.as_deref()
            .map(|id| crate::extract::uuid_field("id", id))
            .transpose()?;
    let grants = b
        .grants
        .iter()
        .map(|g| grant_field(g))
        .collect::<Result<Vec<_>, _>>()?;
    if grants.is_empty() {
        return Err(ApiError::invalid("grants", "give at least one role"));
    }
    let invitation = new_invitation();
    let row = NewStaff {
        row: 1,
        id: id.clone(),
        username: b.username.clone(),
        display_name: b.display_name,
        grants,
        invitation_sha256: sha256_hex(&invitation),
    };
    let hash = placeholder_hash().await?;
    let imported = app
        .store
        .import_staff(vec![row], RosterMode::AllOrNothing, &hash, &actor)
        .await?;
    if let Some(e) = imported.errors.into_iter().next() {
        let field = if matches!(e.field.as_str(), "site" | "area" | "roles") {
            "grants".to_string()
        } else {
            e.field
        };
        if e.message.contains("is taken") {
            let existing = Some(format!("/api/v1/users/{}", b.username));
            let same = match (&id, app.store.user_by_name(&b.username).await?) {
                (Some(id), Some(user)) => user.id == *id,
                _ => false,
            };
            return Err(ApiError::Store(vaxgrid_store::StoreError::Conflict {
                field: if same { "id" } else { "username" },
                message: if same {
                    format!("user {} was created by this request already", b.username)
                } else {
                    e.message
                },
                existing,
            }));
        }
        return Err(ApiError::invalid(field, e.message));
    }
    let user = app.store.user_view(&b.username).await?.into();
    Ok(Created { user, invitation })
}

/// POST /api/v1/users: a user with roles and an invitation (shown once).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    summary = "Create a user with roles; answers the user and an invitation (shown once) its holder redeems within 14 days by choosing a password. With an id (UUID) chosen by the client, the same request sent again is a 409 on id",
    request_body = UserBody,
    responses(
        (status = 201, description = "{user, invitation}", body = Created),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<UserBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_user(&app, &caller, b).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    grant: String,
}

/// POST /api/v1/users/{username}/grants
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/grants",
    summary = "Give a user a role (ROLE or ROLE:SCOPE)",
    params(("username" = String, Path, description = "user name")),
    request_body = GrantBody,
    responses(
        (status = 200, description = "the user", body = User),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn grant(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    ApiJson(b): ApiJson<GrantBody>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        grant_role(&app, &caller, &username, &b.grant).await?.into(),
    ))
}

/// Gives `username` the role `grant` (ROLE or ROLE:SCOPE): the API's and
/// the user page's one way.
pub async fn grant_role(
    app: &AppState,
    caller: &Caller,
    username: &str,
    grant: &str,
) -> Result<UserView, ApiError> {
    let g = Grant::parse(grant).map_err(|e| ApiError::invalid("grant", e.to_string()))?;
    app.store
        .user_view(username)
        .await
        .map_err(ApiError::lookup)?;
    app.store
        .set_grant(username, &g, true, &caller.name())
        .await?;
    Ok(app.store.user_view(username).await?)
}

/// DELETE /api/v1/users/{username}/grants/{grant}
#[utoipa::path(
    delete,
    path = "/api/v1/users/{username}/grants/{grant}",
    summary = "Take a role back (not one's own role that manages users)",
    params(("username" = String, Path, description = "user name"), ("grant" = String, Path, description = "ROLE or ROLE:SCOPE")),
    responses(
        (status = 200, description = "the user", body = User),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn revoke(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((username, grant)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let g = Grant::parse(&grant).map_err(|e| ApiError::bad_request("grant", e.to_string()))?;
    Ok(Json(
        revoke_role(&app, &caller, &username, &g).await?.into(),
    ))
}

/// Takes the role `g` back from `username`: the API's and the user
/// page's one way. Not one's own role that manages users.
pub async fn revoke_role(
    app: &AppState,
    caller: &Caller,
    username: &str,
    g: &Grant,
) -> Result<UserView, ApiError> {
    let user = app
        .store
        .user_view(username)
        .await
        .map_err(ApiError::lookup)?;
    if !user.grants.contains(&g.to_string()) {
        return Err(ApiError::NotFound {
            what: format!("the grant {g} of user '{username}'"),
        });
    }
    // As with disabling: a user manager cannot take away their own power to
    // manage users (nobody might be left to give it back).
    if vaxgrid_core::access::permits(g.role, Permission::ManageUsers)
        && caller
            .principal
            .as_ref()
            .is_some_and(|p| p.user.username == username)
    {
        return Err(ApiError::invalid(
            "grant",
            "you cannot take back your own role that manages users",
        ));
    }
    app.store
        .set_grant(username, g, false, &caller.name())
        .await?;
    Ok(app.store.user_view(username).await?)
}

/// Disables or enables `username`: the API's and the user page's one
/// way. Not one's own account.
pub async fn set_disabled(
    app: &AppState,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> Result<UserView, ApiError> {
    app.store
        .user_view(username)
        .await
        .map_err(ApiError::lookup)?;
    if disabled
        && caller
            .principal
            .as_ref()
            .is_some_and(|p| p.user.username == username)
    {
        return Err(ApiError::invalid(
            "username",
            "you cannot disable your own account",
        ));
    }
    app.store
        .set_disabled(username, disabled, &caller.name())
        .await?;
    Ok(app.store.user_view(username).await?)
}

/// POST /api/v1/users/{username}/disable
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/disable",
    summary = "Disable a user: their sessions and tokens stop working at once",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 200, description = "the user", body = User),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn disable(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        set_disabled(&app, &caller, &username, true).await?.into(),
    ))
}

/// POST /api/v1/users/{username}/enable
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/enable",
    summary = "Enable a disabled user",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 200, description = "the user", body = User),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn enable(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        set_disabled(&app, &caller, &username, false).await?.into(),
    ))
}

/// POST /api/v1/users/{username}/invitation: a new invitation (the
/// earlier ones lapse), e.g. for one lost before it was redeemed.
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/invitation",
    summary = "A new invitation for a user (earlier ones lapse), shown once",
    params(("username" = String, Path, description = "user name")),
    responses(
        (status = 201, description = "{username, invitation}", body = Invitation),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn reinvite(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(invite_again(&app, &caller, &username).await?),
    ))
}

/// A new invitation for `username` (earlier ones lapse): the API's and
/// the user page's one way.
pub async fn invite_again(
    app: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<Invitation, ApiError> {
    let actor = caller.actor(app, Permission::ManageUsers).await?;
    app.store
        .user_view(username)
        .await
        .map_err(ApiError::lookup)?;
    let invitation = new_invitation();
    app.store
        .invite(username, &sha256_hex(&invitation), &actor)
        .await?;
    Ok(Invitation {
        username: username.to_string(),
        invitation,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    token: String,
    password: String,
}

/// POST /api/v1/invitations/redeem: the holder chooses their password.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/redeem",
    summary = "Redeem an invitation by choosing a password (12 to 256 characters); once, within 14 days",
    request_body = RedeemBody,
    responses(
        (status = 200, description = "{username}", body = Redeemed),
        (status = 400, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn redeem(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<RedeemBody>,
) -> Result<Json<Redeemed>, ApiError> {
    vaxgrid_core::staff::check_new_password(&b.password)
        .map_err(|m| ApiError::invalid("password", m))?;
    let password = b.password;
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e.to_string())))?
        .map_err(|e| ApiError::Store(vaxgrid_store::StoreError::Unavailable(e)))?;
    let username = app
        .store
        .redeem_invitation(&sha256_hex(&b.token), &hash)
        .await?;
    Ok(Json(Redeemed { username }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    username: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

/// GET /api/v1/tokens
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    summary = "Machine tokens by id (never their secrets)",
    params(("username" = Option<String>, Query, description = "of this user"), ("after" = Option<String>, Query, description = "next_cursor of the page before (opaque)"), ("limit" = Option<i64>, Query, description = "rows per page, 1–500")),
    responses(
        (status = 200, description = "{items, next_cursor}", body = Page<Token>),
        (status = 400, response = crate::error::Problem),
    )
)]
pub async fn tokens(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> Result<Json<Page<Token>>, ApiError> {
    let page = page_request(q.after, q.limit)?;
    let tokens = app
        .store
        .list_tokens(q.username.as_deref(), &page)
        .await
        .map_err(listing)?;
    Ok(Json(Page::from(tokens)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The token's id, chosen by the client (a UUID) so that the request
    /// sent twice records one token; a new one when absent.
    pub id: Option<String>,
    /// Whose token it is: it acts for this user.
    pub username: String,
    /// What it is for (1 to 100 characters), e.g. the machine that holds it.
    pub name: String,
    /// Narrows the token to some of the user's roles (ROLE or ROLE:SCOPE);
    /// none: all the user holds, as they change.
    #[serde(default)]
    pub grants: Vec<String>,
}

/// A token just made: its secret is shown here once and never again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: String,
    pub username: String,
    pub name: String,
    pub grants: Vec<String>,
    /// The secret (`Authorization: Bearer …`); only its SHA-256 is kept.
    pub token: String,
}

/// Makes a machine token: the API's and the tokens page's one way (the
/// store checks the user, the name and that the grants are the user's).
pub async fn create_token(
    app: &AppState,
    caller: &Caller,
    b: TokenBody,
) -> Result<NewToken, ApiError> {
    caller.actor(app, Permission::ManageUsers).await?;
    let id = crate::extract::id_or_new("id", b.id.as_deref())?;
    let grants = b
        .grants
        .iter()
        .filter(|g| !g.trim().is_empty())
        .map(|g| Grant::parse(g.trim()).map_err(|e| ApiError::invalid("grants", e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let username = b.username.trim().to_string();
    if app.store.user_by_name(&username).await?.is_none() {
        return Err(ApiError::invalid(
            "username",
            format!("no user is named '{username}'"),
        ));
    }
    let token = crate::auth::new_token();
    let id = app
        .store
        .create_token_as(
            &id,
            &username,
            &b.name,
            &grants,
            &sha256_hex(&token),
            &caller.name(),
        )
        .await?;
    Ok(NewToken {
        id,
        username,
        name: b.name.trim().to_string(),
        grants: grants.iter().map(ToString::to_string).collect(),
        token,
    })
}

/// POST /api/v1/tokens
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    summary = "Make a machine token for a user, acting with all the user's roles or those named (which the user must hold); answers the secret once (only its SHA-256 is kept). With an id (UUID) chosen by the client, the same request sent again is a 409 on id",
    request_body = TokenBody,
    responses(
        (status = 201, description = "{id, username, name, grants, token}", body = NewToken),
        (status = 400, response = crate::error::Problem),
        (status = 409, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn make_token(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_token(&app, &caller, b).await?),
    ))
}

/// DELETE /api/v1/tokens/{id}
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    summary = "Revoke a machine token: it stops working at once",
    params(("id" = String, Path, description = "token id")),
    responses(
        (status = 204, description = "revoked"),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn revoke_token(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.store
        .revoke_token(&id, &caller.name())
        .await
        .map_err(ApiError::lookup)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutBody {
    pub username: String,
    /// The address held back; absent for the name-wide counter.
    pub address: Option<String>,
}

/// POST /api/v1/admin/lockouts/clear
#[utoipa::path(
    post,
    path = "/api/v1/admin/lockouts/clear",
    summary = "Clear a sign-in lockout (the counter of a user name from an address, or the name-wide one without address): the next attempt is let through and counted afresh",
    request_body = LockoutBody,
    responses(
        (status = 204, description = "cleared"),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
        (status = 422, response = crate::error::Problem),
    )
)]
pub async fn clear_lockout(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(b): ApiJson<LockoutBody>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor(&app, Permission::ManageUsers).await?;
    app.store
        .clear_lockout(&b.username, b.address.as_deref(), &actor)
        .await
        .map_err(ApiError::lookup)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A sign-in lockout: failed sign-ins that reached a wait (see
/// `vaxgrid_core::throttle`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockoutView {
    pub username: String,
    /// The source address held back; absent (null) for the name-wide
    /// counter, which holds back every address that never signed in as
    /// this name.
    pub address: Option<String>,
    /// Failed sign-ins counted.
    pub failures: i64,
    /// The last failure (RFC 3339).
    pub last_failure: String,
    /// When the wait ends (RFC 3339).
    pub blocked_until: String,
    /// Whether the wait is still running.
    pub active: bool,
}

/// GET /api/v1/admin/lockouts
#[utoipa::path(
    get,
    path = "/api/v1/admin/lockouts",
    summary = "Sign-in lockouts of the last day, the latest first (at most 500); a success clears a name's",
    responses(
        (status = 200, description = "OK", body = Vec<LockoutView>),
    )
)]
pub async fn lockouts(State(app): State<AppState>) -> Result<Json<Vec<LockoutView>>, ApiError> {
    let now = app.store.now_micros();
    Ok(Json(
        app.store
            .lockouts()
            .await?
            .into_iter()
            .map(|l| LockoutView {
                active: l.blocked_until > now,
                username: l.username,
                address: l.address,
                failures: l.failures,
                last_failure: vaxgrid_store::format_instant(l.last_failure),
                blocked_until: vaxgrid_store::format_instant(l.blocked_until),
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadcountQuery {
    area: Option<String>,
}

/// GET /api/v1/reports/staff: enabled staff per site by role.
#[utoipa::path(
    get,
    path = "/api/v1/reports/staff",
    summary = "Enabled staff per site by role (vaccination staff: screeners, vaccinators, observers; support staff: registrars), for sites within area and the caller's areas",
    params(("area" = Option<String>, Query, description = "sites within this area")),
    responses(
        (status = 200, description = "[{site_code, site_name, area_code, roles, vaccination_staff, support_staff, people}]", body = Vec<Headcount>),
        (status = 400, response = crate::error::Problem),
        (status = 404, response = crate::error::Problem),
    )
)]
pub async fn headcount(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<HeadcountQuery>,
) -> Result<Json<Vec<Headcount>>, ApiError> {
    let actor = caller.actor(&app, Permission::ReadReports).await?;
    let sites = app
        .store
        .staff_headcount(q.area.as_deref(), &actor.scope)
        .await
        .map_err(ApiError::lookup)?;
    Ok(Json(sites.into_iter().map(Headcount::from).collect()))
}
