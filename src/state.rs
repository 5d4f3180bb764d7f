//! What every handler shares: the pool, the clock, keys and policies. Built once at start;
//! nothing here is state another instance would need (that lives in PostgreSQL).

use std::sync::Arc;

use secrecy::SecretString;

use crate::auth::password;
use crate::auth::policy::PasswordPolicy;
use crate::auth::tokens::TokenKeys;
use crate::clock::SharedClock;
use crate::configuration::{AuthSettings, Settings};
use crate::crypto::pii::PiiCipher;
use crate::crypto::random;
use crate::db::DbPool;
use crate::eligibility::RuleCache;
use crate::models::session::SessionLimits;

/// Shared application state, handed to handlers as `web::Data<AppState>`.
pub struct AppState {
    /// The connection pool.
    pub pool: DbPool,
    /// The time.
    pub clock: SharedClock,
    /// Access-token keys.
    pub tokens: TokenKeys,
    /// Personal-data encryption.
    pub pii: PiiCipher,
    /// Password rules.
    pub passwords: Arc<PasswordPolicy>,
    /// Session lifetimes and the like.
    pub auth: AuthSettings,
    /// Parsed eligibility rules, by scheme and version.
    pub rules: RuleCache,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// An argon2id hash of a random password, verified against for unknown emails so that
    /// they cost the same time as known ones.
    pub dummy_hash: String,
}

impl AppState {
    /// Builds the state from validated settings.
    pub async fn build(
        settings: &Settings,
        pool: DbPool,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let secrets = settings.secrets()?;
        let auth = settings.auth.clone();
        Ok(AppState {
            pool,
            clock,
            tokens: TokenKeys::new(&secrets.token_signing_key, auth.access_token_ttl_secs)?,
            pii: PiiCipher::new(&secrets, &auth.pii_key_id),
            passwords: Arc::new(PasswordPolicy::load(&settings.config_dir).await?),
            auth,
            rules: RuleCache::default(),
            trusted_proxies: settings.application.trusted_proxies.clone(),
            dummy_hash: password::hash(SecretString::from(random::token(""))).await?,
        })
    }

    /// The idle and absolute session limits.
    pub fn session_limits(&self) -> SessionLimits {
        SessionLimits {
            idle: chrono::Duration::days(self.auth.session_idle_days),
            absolute: chrono::Duration::days(self.auth.session_absolute_days),
        }
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
