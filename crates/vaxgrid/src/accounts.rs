//! `vaxgrid user …` and `vaxgrid token …`: accounts on the command line,
//! the first administrator, and the demo's users.

use anyhow::{Context, Result};
use clap::Subcommand;
use vaxgrid_core::access::Grant;
use vaxgrid_server::auth::{hash_password, new_secret, new_token, sha256_hex};
use vaxgrid_store::Store;

use crate::DbArgs;

#[derive(Subcommand)]
pub enum UserWhat {
    /// Create a user; prints a generated password once.
    Add {
        username: String,
        /// Roles as ROLE or ROLE:SCOPE (area code, site code or person id), e.g. planner:193.
        #[arg(long = "grant")]
        grants: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new generated password (printed once); the user's sessions end.
    Passwd {
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable a user: their sessions and tokens stop working at once.
    Disable {
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled user again.
    Enable {
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Give a user a role: ROLE or ROLE:SCOPE.
    Grant {
        username: String,
        grant: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Take a role back.
    Revoke {
        username: String,
        grant: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Users and their roles.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum TokenWhat {
    /// Create a machine token for a user; printed once, stored hashed.
    Create {
        username: String,
        #[arg(long, default_value = "machine")]
        name: String,
        /// Narrow the token to some of the user's roles (ROLE or ROLE:SCOPE).
        #[arg(long = "grant")]
        grants: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id: it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Tokens (ids, owners, roles; never the secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

fn grants(texts: &[String]) -> Result<Vec<Grant>> {
    texts
        .iter()
        .map(|t| Grant::parse(t).with_context(|| format!("--grant {t}")))
        .collect()
}

/// A password people can type: 24 characters of a random secret.
pub fn generated_password() -> String {
    new_secret().chars().take(24).collect()
}

pub(crate) fn hash(password: &str) -> Result<String> {
    hash_password(password).map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

pub async fn user(what: UserWhat) -> Result<()> {
    match what {
        UserWhat::Add {
            username,
            grants: texts,
            name,
            db,
        } => {
            let store = Store::open(&db.database_url).await?;
            let password = generated_password();
            let display = name.unwrap_or_else(|| username.clone());
            store
                .create_user(
                    &username,
                    &display,
                    &hash(&password)?,
                    &grants(&texts)?,
                    "cli",
                )
                .await?;
            println!("created {username}; password (shown once): {password}");
        }
        UserWhat::Passwd { username, db } => {
            let store = Store::open(&db.database_url).await?;
            let password = generated_password();
            store
                .set_password(&username, &hash(&password)?, "cli")
                .await?;
            println!("new password for {username} (shown once): {password}");
        }
        UserWhat::Disable { username, db } => {
            let store = Store::open(&db.database_url).await?;
            store.set_disabled(&username, true, "cli").await?;
            println!("{username} disabled");
        }
        UserWhat::Enable { username, db } => {
            let store = Store::open(&db.database_url).await?;
            store.set_disabled(&username, false, "cli").await?;
            println!("{username} enabled");
        }
        UserWhat::Grant {
            username,
            grant,
            db,
        } => {
            let store = Store::open(&db.database_url).await?;
            let g = Grant::parse(&grant)?;
            store.set_grant(&username, &g, true, "cli").await?;
            println!("{username} now holds {g}");
        }
        UserWhat::Revoke {
            username,
            grant,
            db,
        } => {
            let store = Store::open(&db.database_url).await?;
            let g = Grant::parse(&grant)?;
            store.set_grant(&username, &g, false, "cli").await?;
            println!("{username} no longer holds {g}");
        }
        UserWhat::List { db } => {
            let store = Store::open(&db.database_url).await?;
            for (u, g) in store.users().await? {
                let roles: Vec<String> = g.iter().map(ToString::to_string).collect();
                println!(
                    "{}\t{}\t{}",
                    u.username,
                    if u.disabled { "disabled" } else { "enabled" },
                    roles.join(" ")
                );
            }
        }
    }
    Ok(())
}

pub async fn token(what: TokenWhat) -> Result<()> {
    match what {
        TokenWhat::Create {
            username,
            name,
            grants: texts,
            db,
        } => {
            let store = Store::open(&db.database_url).await?;
            let (id, token) = create_token(&store, &username, &name, &grants(&texts)?).await?;
            println!("token {id} for {username} (shown once): {token}");
        }
        TokenWhat::Revoke { id, db } => {
            let store = Store::open(&db.database_url).await?;
            store.revoke_token(&id, "cli").await?;
            println!("token {id} revoked");
        }
        TokenWhat::List { db } => {
            let store = Store::open(&db.database_url).await?;
            for t in store.tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.username,
                    t.name,
                    if t.revoked { "revoked" } else { "active" },
                    t.grants.join(" ")
                );
            }
        }
    }
    Ok(())
}

/// Creates a token and returns its id and secret.
pub async fn create_token(
    store: &Store,
    username: &str,
    name: &str,
    grants: &[Grant],
) -> Result<(String, String)> {
    let token = new_token();
    let id = store
        .create_token(username, name, grants, &sha256_hex(&token), "cli")
        .await?;
    Ok((id, token))
}

/// On a registry without users, creates the administrator `admin` and
/// prints its generated password once (on standard error, so scripts
/// reading the listening line are not disturbed).
pub async fn ensure_first_admin(store: &Store) -> Result<()> {
    if !store.users().await?.is_empty() {
        return Ok(());
    }
    let password = generated_password();
    let admin = Grant::parse("admin")?;
    store
        .create_user(
            "admin",
            "Administrator",
            &hash(&password)?,
            &[admin],
            "first start",
        )
        .await?;
    eprintln!("created the administrator 'admin'; password (shown once): {password}");
    Ok(())
}

/// The demo's users, one per role, with the documented password
/// `demo-<user name>` (see README.md). Only for the demo registry.
pub async fn seed_demo_users(
    store: &Store,
    site: &str,
    district: &str,
    province: &str,
) -> Result<()> {
    let resident = store
        .person_ids(None, 1)
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    let users: Vec<(&str, String)> = vec![
        ("planner", format!("planner:{district}")),
        ("statistics", format!("statistics_officer:{province}")),
        ("registrar", format!("registrar:{site}")),
        ("screener", format!("screener:{site}")),
        ("vaccinator", format!("vaccinator:{site}")),
        ("observer", format!("observer:{site}")),
        ("trainer", "trainer".into()),
        ("responder", format!("epidemic_responder:{province}")),
        ("coldchain", format!("cold_chain_officer:{district}")),
        ("verifier", "verifier".into()),
        ("resident", format!("resident:{resident}")),
    ];
    for (name, grant) in users {
        if name == "resident" && resident.is_empty() {
            continue;
        }
        let g = Grant::parse(&grant)?;
        store
            .create_user(name, name, &hash(&format!("demo-{name}"))?, &[g], "demo")
            .await?;
    }
    // Only a certified vaccinator may give doses: the demo's passed its exam
    // at a class the trainer gave.
    let demo = vaxgrid_store::model::Actor::system("demo");
    let today = vaxgrid_store::today();
    let class = vaxgrid_store::training::NewClass {
        id: uuid::Uuid::now_v7().to_string(),
        topic: vaxgrid_core::training::VACCINATION_TOPIC.to_string(),
        starts_on: today,
        ends_on: today,
        trainer: "trainer".into(),
    };
    store.create_class(&class, &demo).await?;
    store.add_attendee(&class.id, "vaccinator", &demo).await?;
    store
        .record_exam(
            &vaxgrid_store::training::NewExam {
                id: uuid::Uuid::now_v7().to_string(),
                class_id: class.id.clone(),
                username: "vaccinator".into(),
                score: 92,
                pass_mark: 80,
                taken_on: today,
                valid_days: 365,
            },
            &demo,
        )
        .await?;
    Ok(())
}
