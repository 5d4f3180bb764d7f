//! Demo data for `serve --demo`, read from `config/demo.toml`, so a newcomer can sign in at
//! once. Each capability adds its own rows here; existing rows are left alone.

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::password;
use crate::db::DbPool;
use crate::domain::email::Email;
use crate::models::account::{self, NewAccount};

#[derive(Debug, Deserialize)]
struct DemoFile {
    accounts: Vec<DemoAccount>,
}

/// One demo login.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoAccount {
    /// Email to sign in with.
    pub email: String,
    /// Password to sign in with (public: demo only).
    pub password: String,
    /// Display name.
    pub full_name: String,
    /// `talent`, `official`, `agency` or `admin`.
    pub role: String,
    /// The issuer, for officials.
    pub issuer: Option<String>,
}

/// Creates the demo accounts that do not exist yet and returns every demo login.
pub async fn load(config_dir: &Path, pool: &DbPool) -> anyhow::Result<Vec<DemoAccount>> {
    let path = config_dir.join("demo.toml");
    let text = tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("could not read {}", path.display()))?;
    let file: DemoFile =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let mut conn = pool.get().await?;
    for demo in &file.accounts {
        let email = Email::parse(&demo.email)
            .map_err(|e| anyhow::anyhow!("demo email {}: {e}", demo.email))?;
        if account::find_by_email(&mut conn, &email).await?.is_some() {
            continue;
        }
        let hash = password::hash(SecretString::from(demo.password.clone())).await?;
        let new = NewAccount {
            id: Uuid::now_v7(),
            email: email.as_str(),
            password_hash: &hash,
            full_name: &demo.full_name,
            role: &demo.role,
            issuer: demo.issuer.as_deref(),
        };
        account::create(&mut conn, new, Actor::System).await?;
    }
    Ok(file.accounts)
}

/// Prints the demo logins as a table on standard output.
pub fn print_logins(accounts: &[DemoAccount]) {
    println!("Demo logins (demo data only; never use in production):");
    println!("  {:<10} {:<34} password", "role", "email");
    for a in accounts {
        println!("  {:<10} {:<34} {}", a.role, a.email, a.password);
    }
}
