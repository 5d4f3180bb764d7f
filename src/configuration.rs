//! Layered configuration: `config/base.toml`, then `config/$TALENTCARD_ENV.toml`, then
//! `TALENTCARD__SECTION__KEY` environment variables, then `DATABASE_URL`.
//!
//! Everything is validated once at start so that a misconfigured instance refuses to run with a
//! message naming the variable to set, instead of failing on the first request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

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
    /// Keys and secrets; never printed.
    #[serde(default)]
    pub secrets: RawSecrets,
    /// The environment these settings were loaded for.
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    /// The directory the files were read from; data files are resolved against its parent.
    #[serde(skip)]
    pub config_dir: PathBuf,
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
    pub url: SecretString,
    /// Most connections this instance holds.
    pub pool_size: usize,
    /// Wait for a pooled connection before answering 503.
    pub acquire_timeout_ms: u64,
    /// Time allowed to open a new connection.
    pub connect_timeout_ms: u64,
    /// `statement_timeout` set on every connection.
    pub statement_timeout_ms: u64,
    /// The service's own deadline on a query: when PostgreSQL sends nothing for this long while
    /// a query waits, the query fails (503) and its connection is closed. PostgreSQL enforces
    /// `statement_timeout` only while it runs; a frozen server or a partition is caught here.
    /// Above `statement_timeout_ms` (a healthy server answers by then), below it plus
    /// `acquire_timeout_ms`.
    pub query_timeout_ms: u64,
}

impl DatabaseSettings {
    /// The connection URL.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
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

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` overrides it.
    pub filter: String,
}

/// Secrets as read; [`Settings::secrets`] validates them into [`Secrets`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawSecrets {
    token_signing_key: Option<SecretString>,
    pii_encryption_key: Option<SecretString>,
    pii_index_key: Option<SecretString>,
    platform_signing_key: Option<SecretString>,
}

/// Validated secrets: keys for access tokens and for personal data at rest.
pub struct Secrets {
    /// HMAC key for access tokens (at least 32 bytes).
    pub token_signing_key: SecretString,
    /// AES-256-GCM key for personal data, decoded from base64 (32 bytes).
    pub pii_encryption_key: secrecy::SecretBox<[u8; 32]>,
    /// HMAC key for the blind index of ID numbers (at least 32 bytes).
    pub pii_index_key: SecretString,
    /// Ed25519 seed of the platform key that signs the published trust list (32 bytes).
    pub platform_signing_key: secrecy::SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

const TOKEN_KEY_VAR: &str = "TALENTCARD__SECRETS__TOKEN_SIGNING_KEY";
const PII_KEY_VAR: &str = "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY";
const INDEX_KEY_VAR: &str = "TALENTCARD__SECRETS__PII_INDEX_KEY";
const PLATFORM_KEY_VAR: &str = "TALENTCARD__SECRETS__PLATFORM_SIGNING_KEY";

fn base64_key(value: &SecretString, variable: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.expose_secret().trim())
        .map_err(|_| ConfigError::invalid(variable, "must be base64"))?;
    bytes
        .try_into()
        .map_err(|_| ConfigError::invalid(variable, "must decode to exactly 32 bytes"))
}

impl RawSecrets {
    fn validate(&self) -> Result<Secrets, ConfigError> {
        let token = required(&self.token_signing_key, TOKEN_KEY_VAR)?;
        let index = required(&self.pii_index_key, INDEX_KEY_VAR)?;
        for (value, var) in [(&token, TOKEN_KEY_VAR), (&index, INDEX_KEY_VAR)] {
            if value.expose_secret().len() < 32 {
                return Err(ConfigError::invalid(var, "must be at least 32 bytes"));
            }
        }
        let key = base64_key(
            &required(&self.pii_encryption_key, PII_KEY_VAR)?,
            PII_KEY_VAR,
        )?;
        let platform = base64_key(
            &required(&self.platform_signing_key, PLATFORM_KEY_VAR)?,
            PLATFORM_KEY_VAR,
        )?;
        Ok(Secrets {
            token_signing_key: token,
            pii_encryption_key: secrecy::SecretBox::new(Box::new(key)),
            pii_index_key: index,
            platform_signing_key: secrecy::SecretBox::new(Box::new(platform)),
        })
    }

    fn values(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            (TOKEN_KEY_VAR, &self.token_signing_key),
            (PII_KEY_VAR, &self.pii_encryption_key),
            (INDEX_KEY_VAR, &self.pii_index_key),
            (PLATFORM_KEY_VAR, &self.platform_signing_key),
        ]
        .into_iter()
        .filter_map(|(var, value)| value.as_ref().map(|v| (var, v.expose_secret())))
    }
}

fn required(value: &Option<SecretString>, variable: &str) -> Result<SecretString, ConfigError> {
    value
        .clone()
        .filter(|v| !v.expose_secret().trim().is_empty())
        .ok_or_else(|| ConfigError::invalid(variable, "is required and not set"))
}

impl Settings {
    /// Loads `TALENTCARD_ENV`'s configuration from `TALENTCARD_CONFIG_DIR` (default `config`).
    pub fn load() -> Result<Self, ConfigError> {
        let dir = std::env::var_os("TALENTCARD_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&dir, Environment::from_env()?)
    }

    /// Loads and validates the configuration of `environment` from `dir`.
    pub fn load_from(dir: &Path, environment: Environment) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("base.toml")))
            .add_source(config::File::from(
                dir.join(format!("{}.toml", environment.as_str())),
            ))
            .add_source(
                config::Environment::with_prefix("TALENTCARD")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.environment = environment;
        settings.config_dir = dir.to_path_buf();
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
        // The counter is an INTEGER column; 0 would refuse every check by number.
        if !(1..=i64::from(i32::MAX)).contains(&self.partners.unknown_numbers_per_hour) {
            return Err(ConfigError::invalid(
                "TALENTCARD__PARTNERS__UNKNOWN_NUMBERS_PER_HOUR",
                "must be between 1 and 2147483647",
            ));
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
        self.secrets.validate()?;
        if self.environment == Environment::Production {
            self.refuse_development_secrets()?;
        }
        Ok(())
    }

    /// Production must not run with the secrets published in `local.toml`.
    fn refuse_development_secrets(&self) -> Result<(), ConfigError> {
        let local = self.config_dir.join("local.toml");
        let Ok(text) = std::fs::read_to_string(&local) else {
            return Ok(());
        };
        #[derive(Deserialize)]
        struct LocalFile {
            #[serde(default)]
            secrets: RawSecrets,
        }
        let local: LocalFile = toml::from_str(&text)
            .map_err(|e| ConfigError::invalid("TALENTCARD_CONFIG_DIR", e.to_string()))?;
        for (var, dev_value) in local.secrets.values() {
            let used = self
                .secrets
                .values()
                .any(|(v, value)| v == var && value == dev_value);
            if used {
                return Err(ConfigError::invalid(
                    var,
                    "holds the development value from local.toml; set a production secret",
                ));
            }
        }
        Ok(())
    }
}
