//! What every handler shares, and the one home of the instance's caches: the pool, the clock,
//! keys, parsed rules and policies, published status lists. Built once at start; nothing here
//! is state another instance would need (that lives in PostgreSQL), and every cache says how
//! a change made elsewhere reaches it.
//!
//! Below the routes and above `models` and `credentials`: a cache may query and sign, but
//! answers with `QueryResult` or its own small error, never `ApiError`.

pub mod directory;
pub mod invalidation;
pub mod key_check;
pub mod policies;
pub mod rules;
pub mod status_lists;
pub mod verification_log;

use std::sync::Arc;

use secrecy::SecretString;

use crate::auth::password;
use crate::auth::policy::PasswordPolicy;
use crate::auth::tokens::TokenKeys;
use crate::clock::SharedClock;
use crate::configuration::{AuthSettings, Settings};
use crate::credentials::platform_key::PlatformKey;
use crate::crypto::pii::PiiCipher;
use crate::crypto::random;
use crate::db::DbPool;
use crate::domain::working_days::Calendar;
use crate::models::session::SessionLimits;
use directory::DirectoryCache;
use invalidation::Invalidation;
use policies::PolicyCache;
use rules::RuleCache;
use status_lists::StatusListCache;
use verification_log::{BatchMetrics, Batching, VerificationLog};

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
    /// Partner agencies' limits.
    pub partners: crate::configuration::PartnerSettings,
    /// Counters of unknown numbers and refused checks per agency (served at `/metrics`).
    pub partner_metrics: crate::metrics::PartnerMetrics,
    /// Working days, for review deadlines.
    pub calendar: Calendar,
    /// Parsed eligibility rules, by scheme and version.
    pub rules: RuleCache,
    /// The recognition and entitlement rules of the versions last in force.
    pub policies: PolicyCache,
    /// When the copies of shared data below (and the policies) must be dropped: moved by
    /// PostgreSQL notifications (`invalidation::listen`, started with the server) and by this
    /// instance's own changes.
    pub invalidation: Arc<Invalidation>,
    /// Agency clients, issuer keys and issuer districts in memory.
    pub directory: DirectoryCache,
    /// The holder's log of verifications, group-committed.
    pub verification_log: VerificationLog,
    /// Published status lists, encoded and signed, checked against the database.
    pub status_lists: StatusListCache,
    /// The platform key that signs the published trust list.
    pub platform_key: PlatformKey,
    /// The service's public URL (credentials point verifiers at it).
    pub public_base_url: String,
    /// What holders may do with their cards (presentation codes' lifetime).
    pub cards: crate::configuration::CardSettings,
    /// Evidence quotas and identity-document throttles.
    pub documents: crate::configuration::DocumentSettings,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether the configured keys open the stored data, rechecked for `/readyz`.
    pub key_health: key_check::KeyHealth,
    /// Access denials counted since the last flush into the audit log.
    pub denials: crate::audit::denials::DenialLog,
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
        let partner_metrics = crate::metrics::PartnerMetrics::new()?;
        Ok(AppState {
            verification_log: VerificationLog::start(
                pool.clone(),
                clock.clone(),
                crate::models::verification::Limits {
                    per_minute: settings.partners.verifications_per_minute,
                    unknown_per_hour: settings.partners.unknown_numbers_per_hour,
                },
                Batching {
                    window: std::time::Duration::from_millis(settings.partners.log_batch_window_ms),
                    max_rows: settings.partners.log_batch_max_rows,
                },
                BatchMetrics {
                    rows: partner_metrics.log_batch_rows.clone(),
                    seconds: partner_metrics.log_batch_seconds.clone(),
                },
            ),
            pool,
            clock,
            tokens: TokenKeys::new(&secrets.token_signing_key, auth.access_token_ttl_secs)?,
            pii: PiiCipher::new(&secrets, &auth.pii_key_id),
            passwords: Arc::new(PasswordPolicy::load(&settings.config_dir).await?),
            auth,
            rules: RuleCache::default(),
            policies: PolicyCache::default(),
            invalidation: Arc::default(),
            directory: DirectoryCache::default(),
            status_lists: StatusListCache::new(std::time::Duration::from_millis(
                settings.partners.status_list_refresh_ms,
            )),
            partners: settings.partners.clone(),
            partner_metrics,
            calendar: load_calendar(&settings.config_dir).await?,
            platform_key: PlatformKey::new(&secrets)?,
            public_base_url: settings
                .application
                .public_base_url
                .trim_end_matches('/')
                .to_owned(),
            cards: settings.cards.clone(),
            documents: settings.documents.clone(),
            trusted_proxies: settings.application.trusted_proxies.clone(),
            key_health: key_check::KeyHealth::new(std::time::Duration::from_secs(
                settings.maintenance.key_check_secs,
            )),
            denials: crate::audit::denials::DenialLog::default(),
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

    /// Today's date in Beijing.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::china_date(self.now())
    }
}

/// Reads `holidays.toml`: a table per year with `holidays` and `makeup_workdays` dates.
pub async fn load_calendar(config_dir: &std::path::Path) -> anyhow::Result<Calendar> {
    #[derive(serde::Deserialize)]
    struct Year {
        holidays: Vec<chrono::NaiveDate>,
        makeup_workdays: Vec<chrono::NaiveDate>,
    }
    let path = config_dir.join("holidays.toml");
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| anyhow::anyhow!("could not read {}: {e}", path.display()))?;
    let years: std::collections::BTreeMap<String, Year> = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
    let holidays = years.values().flat_map(|y| y.holidays.clone());
    let makeup = years.values().flat_map(|y| y.makeup_workdays.clone());
    Ok(Calendar::new(holidays, makeup))
}
