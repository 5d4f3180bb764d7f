//! Layered configuration: `config/base.toml`, then `config/$TALENTCARD_ENV.toml`, then
//! `TALENTCARD__SECTION__KEY` environment variables, then `DATABASE_URL`.
//!
//! Everything is validated once at start so that a misconfigured instance refuses to run with a
//! message naming the variable to set, instead of failing on the first request.

mod secrets;
mod sections;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use secrets::{RawSecrets, Secrets};
pub use sections::{
    ApplicationSettings, AuditSettings, AuthSettings, CardSettings, DatabaseSettings,
    DocumentSettings, LogSettings, MaintenanceSettings, MetricsSettings, PartnerSettings,
};

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
        if !(1..=10_000).contains(&self.partners.log_batch_max_rows) {
            return Err(ConfigError::invalid(
                "TALENTCARD__PARTNERS__LOG_BATCH_MAX_ROWS",
                "must be between 1 and 10000",
            ));
        }
        if self.partners.log_batch_window_ms > 1_000 {
            return Err(ConfigError::invalid(
                "TALENTCARD__PARTNERS__LOG_BATCH_WINDOW_MS",
                "must be at most 1000 (every check waits for its batch)",
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
                self.cards.renewal_window_days,
                "TALENTCARD__CARDS__RENEWAL_WINDOW_DAYS",
            ),
            (
                self.cards.change_report_days,
                "TALENTCARD__CARDS__CHANGE_REPORT_DAYS",
            ),
        ] {
            if !(1..=CardSettings::MAX_DAYS).contains(&value) {
                return Err(ConfigError::invalid(var, "must be between 1 and 365 days"));
            }
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
