//! The sections of the configuration, one struct per `[section]` of `config/*.toml`, with
//! their defaults and the helpers that read them (the database URLs, the timeouts). Loading,
//! layering and the checks across sections are in the parent module.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest JSON body accepted, in bytes.
    pub json_limit_bytes: usize,
    /// Time a client has to send its request head (actix drops the connection after it).
    pub client_request_timeout_ms: u64,
    /// Time a client has to send a JSON body once its head arrived; a stalled or trickling
    /// body would otherwise hold a worker's task and its memory for as long as the client likes.
    pub body_timeout_ms: u64,
    /// Time a client has to send an evidence upload (up to 10 MiB, from a phone on a slow link).
    pub upload_timeout_ms: u64,
    /// Directory of reference data files, relative to the working directory unless absolute.
    pub reference_dir: PathBuf,
    /// Directory of the default scheme files, loaded into a new database.
    pub schemes_dir: PathBuf,
    /// The public URL of the service, used in credentials (the status list's URI).
    pub public_base_url: String,
    /// Load balancers whose `X-Forwarded-For` is believed (for login throttling per address).
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// PostgreSQL and pool settings.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`; secret because it may carry a password.
    /// Not in `base.toml`: local and test name theirs, production reads `DATABASE_URL`.
    #[serde(default = "no_url")]
    pub url: SecretString,
    /// Most connections this instance holds.
    pub pool_size: usize,
    /// Wait for a pooled connection before answering 503.
    pub acquire_timeout_ms: u64,
    /// Time allowed to open a new connection.
    pub connect_timeout_ms: u64,
    /// `statement_timeout` set on every connection.
    pub statement_timeout_ms: u64,
    /// The owner's connection (`MIGRATION_DATABASE_URL`): migrations run as it, and it grants
    /// the service role its rights. Unset: `url` is used for both.
    #[serde(default)]
    pub migration_url: Option<SecretString>,
    /// The role the migrations grant the service's rights to (read and write on the tables,
    /// only INSERT and SELECT on the audit log), which the service's `url` logs in as.
    #[serde(default = "default_service_role")]
    pub service_role: String,
    /// Local and test only: the service logs in as `service_role` on the owner's server and
    /// database (with the owner's password, if any), and the migrations create that login role
    /// when it is missing, so one superuser URL is enough to run the service as a non-owner.
    #[serde(default)]
    pub service_login_from_owner: bool,
    /// The service's own deadline on a query: when PostgreSQL sends nothing for this long while
    /// a query waits, the query fails (503) and its connection is closed. PostgreSQL enforces
    /// `statement_timeout` only while it runs; a frozen server or a partition is caught here.
    /// Above `statement_timeout_ms` (a healthy server answers by then), below it plus
    /// `acquire_timeout_ms`.
    pub query_timeout_ms: u64,
}

fn no_url() -> SecretString {
    SecretString::from(String::new())
}

fn default_service_role() -> String {
    "talentcard_service".to_owned()
}

impl DatabaseSettings {
    /// The connection URL.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// The migration owner's URL: `migration_url`, else `url`.
    pub fn owner_url(&self) -> &str {
        self.migration_url
            .as_ref()
            .map_or_else(|| self.url(), |u| u.expose_secret())
    }

    /// The URL the service's pool logs in with: `url`, or with `service_login_from_owner` the
    /// owner's URL with `service_role` as the user.
    pub fn service_url(&self) -> Result<String, ConfigError> {
        if !self.service_login_from_owner {
            return Ok(self.url().to_owned());
        }
        let mut url = url::Url::parse(self.owner_url()).map_err(|_| {
            ConfigError::invalid("MIGRATION_DATABASE_URL", "not a valid postgres:// URL")
        })?;
        url.set_username(&self.service_role)
            .map_err(|()| ConfigError::invalid("DATABASE_URL", "the URL needs a host"))?;
        Ok(url.to_string())
    }

    /// The password in the owner's URL, which a login role made from it shares (local only).
    pub fn owner_password(&self) -> Option<String> {
        url::Url::parse(self.owner_url())
            .ok()
            .and_then(|u| u.password().map(str::to_owned))
            .map(|p| percent_decode(&p))
    }

    /// The name of the database the URL points at.
    pub fn database_name(&self) -> Result<String, ConfigError> {
        let url = self.parsed()?;
        let name = url.path().trim_start_matches('/').to_owned();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                "the database name must be letters, digits and underscores",
            ));
        }
        Ok(name)
    }

    /// The same server with another database, for example `postgres` to create ours.
    pub fn url_for_database(&self, database: &str) -> Result<String, ConfigError> {
        let mut url = self.parsed()?;
        url.set_path(&format!("/{database}"));
        Ok(url.to_string())
    }

    /// The connection timeout, as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The per-query deadline, as a duration.
    pub fn query_timeout(&self) -> Duration {
        Duration::from_millis(self.query_timeout_ms)
    }

    /// The pool wait timeout, as a duration.
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }

    fn parsed(&self) -> Result<url::Url, ConfigError> {
        let url = url::Url::parse(self.url())
            .map_err(|_| ConfigError::invalid("DATABASE_URL", "not a valid postgres:// URL"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                "the scheme must be postgres://",
            ));
        }
        Ok(url)
    }
}

/// Token and session lifetimes.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Access-token lifetime in seconds; at most 900.
    pub access_token_ttl_secs: i64,
    /// A session unused for this long ends (days).
    pub session_idle_days: i64,
    /// A session ends this long after its login, whatever its use (days).
    pub session_absolute_days: i64,
    /// The id recorded with personal data sealed under the current key.
    pub pii_key_id: String,
    /// Accounts one client address may register per hour; 0 turns the limit off.
    pub registrations_per_address_hour: i32,
    /// Failed sign-ins one account may take an hour from addresses it has not signed in from in
    /// the last 30 days (distributed guessing); at least 1.
    pub login_failures_per_account_hour: i32,
    /// Sign-ins with the right password one account may make an hour (each costs an argon2
    /// verification); 0 turns the limit off.
    pub logins_per_account_hour: i32,
    /// Sign-ins with the right password one client address may make a minute; 0: no limit.
    pub logins_per_address_minute: i32,
    /// Refresh-token rotations one client address may ask for a minute; 0: no limit.
    pub refreshes_per_address_minute: i32,
    /// Client-credentials requests one client address may make a minute; 0: no limit.
    pub client_tokens_per_address_minute: i32,
    /// Tokens one agency client may be issued a minute; 0: no limit.
    pub client_tokens_per_client_minute: i32,
    /// The id stored beside each audit row's MAC, naming the audit key that made it; change it
    /// together with the key when rotating, and keep the old key under its old id among the
    /// retired keys.
    #[serde(default = "default_audit_key_id")]
    pub audit_key_id: String,
}

fn default_audit_key_id() -> String {
    "a1".to_owned()
}

/// Housekeeping of every instance.
#[derive(Debug, Clone, Deserialize)]
pub struct MaintenanceSettings {
    /// Seconds between sweeps of old rate windows, idempotency keys and dead sessions
    /// (0: this instance never sweeps; `talentcard sweep` still does).
    pub sweep_interval_secs: u64,
    /// Hours an `Idempotency-Key` answer is kept for replay.
    pub idempotency_retention_hours: i64,
    /// `/readyz` tries the keys on stored data at most this often (seconds; 0: on every call).
    #[serde(default = "default_key_check_secs")]
    pub key_check_secs: u64,
}

fn default_key_check_secs() -> u64 {
    60
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        MaintenanceSettings {
            sweep_interval_secs: 600,
            idempotency_retention_hours: 24,
            key_check_secs: default_key_check_secs(),
        }
    }
}

/// The metrics listener. `/metrics` tells who verifies how often and how the pool fares, so it
/// is served on a bind address of its own (a loopback or an internal network the scraper
/// reaches), never on the public API port.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// The interface to bind; keep it internal.
    pub host: String,
    /// The port (0: any free port, as in the tests).
    pub port: u16,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            host: "127.0.0.1".to_owned(),
            port: 9464,
        }
    }
}

/// How the audit log takes what would be too many rows one by one.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    /// Milliseconds between writes of the aggregated access denials (401, 403, 404 on a known
    /// route): one row per (kind, route, method, actor) per interval, so a client hammering a
    /// protected route costs one row a key, not one a request. 0 turns the timer off (the
    /// tests flush by hand); the counts then stay in memory, bounded.
    #[serde(default = "default_denial_flush_ms")]
    pub denial_flush_ms: u64,
}

fn default_denial_flush_ms() -> u64 {
    60_000
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            denial_flush_ms: default_denial_flush_ms(),
        }
    }
}

/// Partner agencies' limits.
#[derive(Debug, Clone, Deserialize)]
pub struct PartnerSettings {
    /// Verifications one agency may make per minute.
    pub verifications_per_minute: i64,
    /// Answers of `unknown` to one agency's checks by number per hour, after which its further
    /// checks by number are refused (429) until the hour ends: guessing numbers shows as many
    /// unknown answers, an honest desk mistypes a few.
    pub unknown_numbers_per_hour: i64,
    /// How long an instance serves its in-memory copy of a status list before checking the
    /// database for a change (milliseconds; 0 checks on every request).
    pub status_list_refresh_ms: u64,
    /// How long the verification log's writer waits, after the first check of a batch, for
    /// more to commit with it (milliseconds; 0: only what is already waiting). A check waits
    /// at most this long more than its statement when the service is idle.
    #[serde(default = "default_log_batch_window_ms")]
    pub log_batch_window_ms: u64,
    /// The most checks committed in one batch (1 to 10,000).
    #[serde(default = "default_log_batch_max_rows")]
    pub log_batch_max_rows: usize,
}

fn default_log_batch_window_ms() -> u64 {
    2
}

fn default_log_batch_max_rows() -> usize {
    256
}

/// Holders' use of their cards.
#[derive(Debug, Clone, Deserialize)]
pub struct CardSettings {
    /// Seconds a dynamic presentation code (`POST /cards/{id}/presentation-code`) stays
    /// usable: long enough to walk to the counter, short enough that a photographed code is
    /// stale before it can be shown elsewhere. 1 to [`CardSettings::MAX_CODE_TTL_SECS`].
    #[serde(default = "default_presentation_code_ttl_secs")]
    pub presentation_code_ttl_secs: i64,
    /// Days before a card's last day from which its renewal may be applied for (the renewed
    /// card starts the day after the old one ends, so applying early costs nothing). 1 to
    /// [`CardSettings::MAX_DAYS`].
    #[serde(default = "default_renewal_window_days")]
    pub renewal_window_days: u32,
    /// Days after a change of employer, residence or title within which the holder must report
    /// it; a later report is flagged `late`. 1 to [`CardSettings::MAX_DAYS`].
    #[serde(default = "default_change_report_days")]
    pub change_report_days: u32,
}

impl CardSettings {
    /// The longest a presentation code may live: the contract's bound (300 s).
    pub const MAX_CODE_TTL_SECS: i64 = 300;
    /// The most days either window may span: a year.
    pub const MAX_DAYS: u32 = 365;
}

fn default_presentation_code_ttl_secs() -> i64 {
    60
}

fn default_renewal_window_days() -> u32 {
    60
}

fn default_change_report_days() -> u32 {
    10
}

impl Default for CardSettings {
    fn default() -> Self {
        CardSettings {
            presentation_code_ttl_secs: default_presentation_code_ttl_secs(),
            renewal_window_days: default_renewal_window_days(),
            change_report_days: default_change_report_days(),
        }
    }
}

/// Limits on what one account may store and try: evidence files and identity documents.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentSettings {
    /// Bytes of evidence one account may hold across all its applications: withdrawing drafts
    /// and starting again must not grow storage without bound.
    pub max_bytes_per_account: i64,
    /// Evidence files one account may hold across all its applications.
    pub max_files_per_account: i64,
    /// Identity-document changes (`PUT /me/profile` with another number) one account may try
    /// an hour, counted whatever their outcome, so trying numbers cannot be scripted.
    pub profile_changes_per_account_hour: i32,
    /// The same, per client address and hour (many accounts behind one script).
    pub profile_changes_per_address_hour: i32,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` overrides it.
    pub filter: String,
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
