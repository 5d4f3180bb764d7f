//! Layered configuration: `config/base.toml`, then `config/$TALENTCARD_ENV.toml`, then
//! `TALENTCARD__SECTION__KEY` environment variables, then `DATABASE_URL`.
//!
//! Everything is validated once at start so that a misconfigured instance refuses to run with a
//! message naming the variable to set, instead of failing on the first request.

mod secrets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use secrets::{RawSecrets, Secrets};

/// Where the service runs; chooses the second configuration file and the safety checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine: `config/local.toml`, development secrets allowed.
    Local,
    /// The test suite: `config/test.toml`.
    Test,
    /// Production: development secrets and demo data are refused.
    Production,
}

impl Environment {
    /// The name used in `TALENTCARD_ENV` and in the file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }

    /// Reads `TALENTCARD_ENV`, defaulting to `local`.
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("TALENTCARD_ENV") {
            Err(_) => Ok(Environment::Local),
            Ok(value) => value.parse(),
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Environment::Local),
            "test" => Ok(Environment::Test),
            "production" => Ok(Environment::Production),
            other => Err(ConfigError::invalid(
                "TALENTCARD_ENV",
                format!("`{other}` is not one of local, test, production"),
            )),
        }
    }
}

/// Why the configuration was refused; the message names the variable to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read or a value had the wrong type.
    #[error("configuration could not be loaded: {0}")]
    Load(#[from] config::ConfigError),
    /// A value is missing or out of range.
    #[error("{variable}: {problem}")]
    Invalid {
        /// The environment variable that sets the value.
        variable: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl ConfigError {
    fn invalid(variable: &str, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            variable: variable.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// HTTP server settings.
    pub application: ApplicationSettings,
    /// PostgreSQL and pool settings.
    pub database: DatabaseSettings,
    /// Logging settings.
    pub log: LogSettings,
    /// Token and session lifetimes.
    pub auth: AuthSettings,
    /// Partner agencies' limits.
    pub partners: PartnerSettings,
    /// What holders may do with their cards: dynamic presentation codes.
    #[serde(default)]
    pub cards: CardSettings,
    /// The periodic sweep.
    #[serde(default)]
    pub maintenance: MaintenanceSettings,
    /// Where Prometheus scrapes `/metrics`: an address of its own, not the API's.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// The audit log's own housekeeping (aggregated access denials).
    #[serde(default)]
    pub audit: AuditSettings,

    /// Limits on identity documents and evidence.
    pub documents: DocumentSettings,
    /// Keys and secrets; never printed.
    #[serde(default)]
    pub secrets: RawSecrets,
    /// The environment these settings were loaded for.
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    /// The directory the files were read from; data files are resolved against its parent.
    #[serde(skip)]
    pub config_dir: PathBuf,
    /// Whether `DATABASE_URL` (or `TALENTCARD__DATABASE__URL`) was set in the environment:
    /// production never falls back to a file's database.
    #[serde(skip)]
    database_url_from_environment: bool,
}

fn default_environment() -> Environment {
    Environment::Local
}

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
}

/// Holders' use of their cards.
#[derive(Debug, Clone, Deserialize)]
pub struct CardSettings {
    /// Seconds a dynamic presentation code (`POST /cards/{id}/presentation-code`) stays
    /// usable: long enough to walk to the counter, short enough that a photographed code is
    /// stale before it can be shown elsewhere. 1 to [`CardSettings::MAX_CODE_TTL_SECS`].
    #[serde(default = "default_presentation_code_ttl_secs")]
    pub presentation_code_ttl_secs: i64,
}

impl CardSettings {
    /// The longest a presentation code may live: the contract's bound (300 s).
    pub const MAX_CODE_TTL_SECS: i64 = 300;
}

fn default_presentation_code_ttl_secs() -> i64 {
    60
}

impl Default for CardSettings {
    fn default() -> Self {
        CardSettings {
            presentation_code_ttl_secs: default_presentation_code_ttl_secs(),
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

/// A key id as stored beside what the key protects: short, printable, unambiguous.
fn is_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Settings {
    /// Loads `TALENTCARD_ENV`'s configuration from `TALENTCARD_CONFIG_DIR` (default `config`).
    pub fn load() -> Result<Self, ConfigError> {
        let dir = std::env::var_os("TALENTCARD_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&dir, Environment::from_env()?)
    }

    /// Loads and validates the configuration of `environment` from `dir`, with the process's
    /// environment variables.
    pub fn load_from(dir: &Path, environment: Environment) -> Result<Self, ConfigError> {
        Self::load_with(dir, environment, std::env::vars())
    }

    /// [`Settings::load_from`] with the environment variables given, not read from the process
    /// (tests load production settings side by side without touching the process's variables).
    pub fn load_with(
        dir: &Path,
        environment: Environment,
        variables: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let variables: HashMap<String, String> = variables.into_iter().collect();
        let ours: config::Map<String, String> = variables
            .iter()
            .filter(|(name, _)| name.starts_with("TALENTCARD__"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let set = |name: &str| variables.get(name).filter(|v| !v.trim().is_empty());
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("base.toml")))
            .add_source(config::File::from(
                dir.join(format!("{}.toml", environment.as_str())),
            ))
            .add_source(
                config::Environment::with_prefix("TALENTCARD")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(ours)),
            );
        if let Some(url) = set("DATABASE_URL") {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        if let Some(url) = set("MIGRATION_DATABASE_URL") {
            builder = builder.set_override("database.migration_url", url.as_str())?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.environment = environment;
        settings.config_dir = dir.to_path_buf();
        settings.database_url_from_environment =
            set("DATABASE_URL").is_some() || set("TALENTCARD__DATABASE__URL").is_some();
        settings.validate()?;
        Ok(settings)
    }

    /// The validated secrets.
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        self.secrets.validate()
    }

    /// The reference data directory, resolved against the working directory.
    pub fn reference_dir(&self) -> PathBuf {
        self.application.reference_dir.clone()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.database.url().trim().is_empty() {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                "is required and not set (postgres://user:password@host:port/database)",
            ));
        }
        self.database.database_name()?;
        if !(1..=512).contains(&self.database.pool_size) {
            return Err(ConfigError::invalid(
                "TALENTCARD__DATABASE__POOL_SIZE",
                "must be between 1 and 512",
            ));
        }
        for (value, var) in [
            (self.database.acquire_timeout_ms, "ACQUIRE_TIMEOUT_MS"),
            (self.database.connect_timeout_ms, "CONNECT_TIMEOUT_MS"),
            (self.database.statement_timeout_ms, "STATEMENT_TIMEOUT_MS"),
        ] {
            if value == 0 {
                let var = format!("TALENTCARD__DATABASE__{var}");
                return Err(ConfigError::invalid(&var, "must be above 0"));
            }
        }
        let database = &self.database;
        if database.query_timeout_ms <= database.statement_timeout_ms
            || database.query_timeout_ms
                >= database
                    .statement_timeout_ms
                    .saturating_add(database.acquire_timeout_ms)
        {
            return Err(ConfigError::invalid(
                "TALENTCARD__DATABASE__QUERY_TIMEOUT_MS",
                "must be above STATEMENT_TIMEOUT_MS and below STATEMENT_TIMEOUT_MS + ACQUIRE_TIMEOUT_MS",
            ));
        }
        if !(60..=900).contains(&self.auth.access_token_ttl_secs) {
            return Err(ConfigError::invalid(
                "TALENTCARD__AUTH__ACCESS_TOKEN_TTL_SECS",
                "must be between 60 and 900 seconds",
            ));
        }
        if self.auth.session_idle_days < 1
            || self.auth.session_absolute_days < self.auth.session_idle_days
        {
            return Err(ConfigError::invalid(
                "TALENTCARD__AUTH__SESSION_ABSOLUTE_DAYS",
                "sessions need an idle limit of at least a day and an absolute limit no shorter",
            ));
        }
        self.validate_auth_limits()?;
        if self.maintenance.idempotency_retention_hours < 1 {
            return Err(ConfigError::invalid(
                "TALENTCARD__MAINTENANCE__IDEMPOTENCY_RETENTION_HOURS",
                "must be at least 1",
            ));
        }
        // The counter is an INTEGER column; 0 would refuse every check by number.
        if !(1..=i64::from(i32::MAX)).contains(&self.partners.unknown_numbers_per_hour) {
            return Err(ConfigError::invalid(
                "TALENTCARD__PARTNERS__UNKNOWN_NUMBERS_PER_HOUR",
                "must be between 1 and 2147483647",
            ));
        }
        if !(1..=CardSettings::MAX_CODE_TTL_SECS).contains(&self.cards.presentation_code_ttl_secs) {
            return Err(ConfigError::invalid(
                "TALENTCARD__CARDS__PRESENTATION_CODE_TTL_SECS",
                "must be between 1 and 300 seconds",
            ));
        }
        for (value, var) in [
            (
                self.documents.max_bytes_per_account,
                "MAX_BYTES_PER_ACCOUNT",
            ),
            (
                self.documents.max_files_per_account,
                "MAX_FILES_PER_ACCOUNT",
            ),
            (
                i64::from(self.documents.profile_changes_per_account_hour),
                "PROFILE_CHANGES_PER_ACCOUNT_HOUR",
            ),
            (
                i64::from(self.documents.profile_changes_per_address_hour),
                "PROFILE_CHANGES_PER_ADDRESS_HOUR",
            ),
        ] {
            if value < 1 {
                let var = format!("TALENTCARD__DOCUMENTS__{var}");
                return Err(ConfigError::invalid(&var, "must be at least 1"));
            }
        }
        // Credentials' `iss`, `vct` and status `uri` are built on it, and SD-JWT VC verifiers
        // look for issuer metadata at the origin's root: an origin, nothing more.
        let origin = url::Url::parse(&self.application.public_base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .filter(|u| {
                matches!(u.path(), "" | "/") && u.query().is_none() && u.fragment().is_none()
            })
            .filter(|u| u.username().is_empty() && u.password().is_none());
        if origin.is_none() {
            return Err(ConfigError::invalid(
                "TALENTCARD__APPLICATION__PUBLIC_BASE_URL",
                "must be an http(s) origin with no path, e.g. https://cards.example.cn",
            ));
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return Err(ConfigError::invalid(
                "TALENTCARD__LOG__FORMAT",
                "must be `pretty` or `json`",
            ));
        }
        let role = &self.database.service_role;
        let role_ok = role.len() <= 63
            && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !role_ok {
            return Err(ConfigError::invalid(
                "TALENTCARD__DATABASE__SERVICE_ROLE",
                "must be a lower-case SQL name (letters, digits, _; at most 63)",
            ));
        }
        if self.database.migration_url.is_some() {
            url::Url::parse(self.database.owner_url())
                .ok()
                .filter(|u| matches!(u.scheme(), "postgres" | "postgresql"))
                .ok_or_else(|| {
                    ConfigError::invalid("MIGRATION_DATABASE_URL", "not a valid postgres:// URL")
                })?;
        }
        self.database.service_url()?;
        if !is_key_id(&self.auth.audit_key_id) {
            return Err(ConfigError::invalid(
                "TALENTCARD__AUTH__AUDIT_KEY_ID",
                "must be 1 to 32 letters, digits, - or _",
            ));
        }
        self.secrets.validate()?;
        self.secrets.refuse_shared_keys()?;
        if self.environment == Environment::Production {
            self.secrets.refuse_known_or_weak_keys(&self.config_dir)?;
            if !self.database_url_from_environment {
                return Err(ConfigError::invalid(
                    "DATABASE_URL",
                    "is required in production and must come from the environment (the service \
                     never falls back to a file's database)",
                ));
            }
        }
        // After the secrets: a copy of local.toml is refused for its secrets first.
        if self.database.service_login_from_owner && self.environment == Environment::Production {
            return Err(ConfigError::invalid(
                "TALENTCARD__DATABASE__SERVICE_LOGIN_FROM_OWNER",
                "is for local and test use; in production set DATABASE_URL to the service role's \
                 login and MIGRATION_DATABASE_URL to the owner's",
            ));
        }
        Ok(())
    }

    /// Sign-in and token limits: none negative, and the account ceiling at least 1 (0 would
    /// refuse every unknown address at once).
    fn validate_auth_limits(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.login_failures_per_account_hour < 1 {
            return Err(ConfigError::invalid(
                "TALENTCARD__AUTH__LOGIN_FAILURES_PER_ACCOUNT_HOUR",
                "must be at least 1",
            ));
        }
        for (value, var) in [
            (auth.logins_per_account_hour, "LOGINS_PER_ACCOUNT_HOUR"),
            (auth.logins_per_address_minute, "LOGINS_PER_ADDRESS_MINUTE"),
            (
                auth.refreshes_per_address_minute,
                "REFRESHES_PER_ADDRESS_MINUTE",
            ),
            (
                auth.client_tokens_per_address_minute,
                "CLIENT_TOKENS_PER_ADDRESS_MINUTE",
            ),
            (
                auth.client_tokens_per_client_minute,
                "CLIENT_TOKENS_PER_CLIENT_MINUTE",
            ),
        ] {
            if value < 0 {
                let var = format!("TALENTCARD__AUTH__{var}");
                return Err(ConfigError::invalid(&var, "must be 0 (no limit) or more"));
            }
        }
        Ok(())
    }
}
