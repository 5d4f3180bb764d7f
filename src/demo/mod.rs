//! Demo data for `serve --demo`, read from `config/demo.toml`, so a newcomer can sign in at
//! once: an administrator, officials of three issuers (with enrolled TOTP secrets), talent, a
//! registered employer's account with an application waiting for it, a tier-A holder with a
//! spouse's and a child's dependant card, and a hospital with an API client. Each capability adds its own rows; existing rows are left
//! alone, so restarting with `--demo` is harmless.

mod applications;
mod families;
mod lifecycle;

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::password;
use crate::configuration::Settings;
use crate::crypto::pii::Field;
use crate::crypto::pii::PiiCipher;
use crate::crypto::random::sha256_hex;
use crate::db::DbPool;
use crate::domain::email::Email;
use crate::models::account::{self, NewAccount};
use crate::models::agency::{self, Agency};

#[derive(Debug, Deserialize)]
struct DemoFile {
    accounts: Vec<DemoAccount>,
    #[serde(default)]
    agencies: Vec<DemoAgency>,
    #[serde(default)]
    profiles: Vec<applications::DemoProfile>,
    #[serde(default)]
    applications: Vec<applications::DemoApplication>,
    #[serde(default)]
    employers: Vec<families::DemoEmployer>,
    #[serde(default)]
    dependants: Vec<families::DemoDependant>,
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
    /// `talent`, `official`, `admin` or `employer`.
    pub role: String,
    /// The issuer, for officials.
    pub issuer: Option<String>,
    /// Base32 TOTP secret, for staff.
    pub totp_secret: Option<String>,
}

/// One demo agency and its API client.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoAgency {
    /// Fixed id, so the demo is the same on every machine.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// District code.
    pub district: String,
    /// Service codes.
    pub services: Vec<String>,
    /// The client id for `POST /auth/token`.
    pub client_id: Uuid,
    /// The client secret (public: demo only).
    pub client_secret: String,
}

/// Everything the demo created or found, to print.
#[derive(Debug)]
pub struct DemoLogins {
    /// People.
    pub accounts: Vec<DemoAccount>,
    /// Agencies.
    pub agencies: Vec<DemoAgency>,
}

/// Creates the demo rows that do not exist yet and returns every demo login.
pub async fn load(settings: &Settings, pool: &DbPool) -> anyhow::Result<DemoLogins> {
    let path = settings.config_dir.join("demo.toml");
    let text = tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("could not read {}", path.display()))?;
    let file: DemoFile =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let cipher = PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
    let mut conn = pool.get().await?;
    for demo in &file.accounts {
        load_account(&mut conn, &cipher, demo).await?;
    }
    for demo in &file.agencies {
        load_agency(&mut conn, demo).await?;
    }
    // Before the applications: one of them names a registered employer and waits for it.
    for demo in &file.employers {
        families::load_employer(&mut conn, demo).await?;
    }
    for demo in &file.profiles {
        applications::load_profile(&mut conn, &cipher, demo).await?;
    }
    let calendar = crate::state::load_calendar(&settings.config_dir).await?;
    for demo in &file.applications {
        applications::load_application(&mut conn, &cipher, &calendar, demo).await?;
    }
    for demo in &file.dependants {
        families::load_dependant(&mut conn, &cipher, demo).await?;
    }
    Ok(DemoLogins {
        accounts: file.accounts,
        agencies: file.agencies,
    })
}

async fn load_account(
    conn: &mut AsyncPgConnection,
    cipher: &PiiCipher,
    demo: &DemoAccount,
) -> anyhow::Result<()> {
    let email =
        Email::parse(&demo.email).map_err(|e| anyhow::anyhow!("demo email {}: {e}", demo.email))?;
    if account::find_by_email(conn, &email).await?.is_some() {
        return Ok(());
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
    let created = account::create(conn, new, Actor::System).await?;
    if let Some(encoded) = &demo.totp_secret {
        let secret = totp_rs::Secret::Encoded(encoded.clone())
            .to_bytes()
            .map_err(|e| anyhow::anyhow!("demo totp_secret of {}: {e:?}", demo.email))?;
        let sealed = cipher.seal(
            &hex::encode(secret),
            Field::TotpSecret,
            created.id.as_bytes(),
        )?;
        account::set_pending_mfa(conn, created.id, &sealed, cipher.key_id()).await?;
        // Step 0 (1970) is "no code used yet"; confirmed now.
        account::accept_totp_step(conn, created.id, 0, &sealed, Some(chrono::Utc::now())).await?;
    }
    Ok(())
}

async fn load_agency(conn: &mut AsyncPgConnection, demo: &DemoAgency) -> anyhow::Result<()> {
    if agency::find(conn, demo.id).await?.is_some() {
        return Ok(());
    }
    let new = Agency {
        id: demo.id,
        name: demo.name.clone(),
        district: demo.district.clone(),
        services: demo.services.clone(),
    };
    let hash = sha256_hex(&demo.client_secret);
    conn.transaction(async |c| {
        agency::insert(c, &new).await?;
        agency::insert_client(c, demo.id, demo.client_id, &hash).await
    })
    .await?;
    Ok(())
}

/// Prints the demo logins on standard output.
pub fn print_logins(logins: &DemoLogins) {
    println!("Demo logins (demo data only; never use in production):");
    println!(
        "  {:<12} {:<34} {:<30} totp secret",
        "role", "email", "password"
    );
    for a in &logins.accounts {
        let role = match &a.issuer {
            Some(issuer) => format!("{} {issuer}", a.role),
            None => a.role.clone(),
        };
        let secret = a.totp_secret.as_deref().unwrap_or("-");
        println!("  {role:<12} {:<34} {:<30} {secret}", a.email, a.password);
    }
    println!("  Staff codes: talentcard totp --secret <totp secret>");
    for a in &logins.agencies {
        println!(
            "  agency       {} ({}): client_id {} client_secret {}",
            a.name, a.district, a.client_id, a.client_secret
        );
    }
}
