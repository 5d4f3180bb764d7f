//! `spawn_app()`: the real application on port 0 over a fresh database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use talentcard::clock::ShiftedClock;
use talentcard::configuration::{Environment, Settings};
use talentcard::db::DbPool;
use talentcard::startup::{Application, prepare_database};
use tokio::sync::OnceCell;

/// A running application and the database it owns.
pub struct TestApp {
    /// The application's clock; tests move it forward instead of sleeping.
    pub clock: Arc<ShiftedClock>,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener.
    pub metrics_address: String,
    /// A client that never follows redirects.
    pub client: reqwest::Client,
    /// The settings the app was built with.
    pub settings: Settings,
    /// The app's own pool, for tests that must look under the API.
    pub pool: DbPool,
    /// The app's access denials not yet written to the audit log.
    pub denials: talentcard::audit::denials::DenialLog,
    /// Dropped last: removes the database.
    pub database: TestDatabase,
}

impl TestApp {
    /// GET a path on the app.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request failed")
    }

    /// The Prometheus text scraped from the metrics listener.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .expect("scrape failed");
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.expect("metrics text")
    }

    /// The year on the application's clock.
    pub fn clock_year(&self) -> i32 {
        use chrono::Datelike;
        use talentcard::clock::Clock;
        self.clock.now().year()
    }

    /// Writes the access denials counted so far into the audit log, as the timer would.
    pub async fn flush_denials(&self) -> usize {
        self.denials.flush(&self.pool).await.expect("flush denials")
    }

    /// A direct connection to the app's database.
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.database.url)
            .await
            .expect("connect")
    }
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test configuration, with paths made absolute.
pub fn test_settings() -> Settings {
    let mut settings =
        Settings::load_from(&manifest_dir().join("config"), Environment::Test).expect("settings");
    settings.application.reference_dir = manifest_dir().join("config/reference");
    settings.application.schemes_dir = manifest_dir().join("config/schemes");
    settings
}

/// The audit keyring of the test configuration, for verifying the chain.
pub fn audit_keys() -> talentcard::audit::AuditKeyring {
    talentcard::audit::AuditKeyring::from_settings(&test_settings()).expect("audit keys")
}

/// Starts the application on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application on a fresh database after `customise` adjusted the settings.
pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    let database = TestDatabase::create(&settings).await;
    settings.database.url = SecretString::from(database.url.clone());
    customise(&mut settings);
    start(settings, database).await
}

/// Starts the application with `settings` as they are (the database may not exist yet).
pub async fn start(settings: Settings, database: TestDatabase) -> TestApp {
    let clock = ShiftedClock::new();
    let application = Application::build_with_clock(&settings, clock.clone())
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = format!("http://127.0.0.1:{}", application.metrics_port());
    let pool = application.pool().clone();
    let denials = application.denials().clone();
    tokio::spawn(application.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        clock,
        address,
        metrics_address,
        client,
        settings,
        pool,
        denials,
        database,
    }
}

/// A second instance of the application on `app`'s database, with its own pool and caches.
pub async fn second_instance(app: &TestApp) -> TestApp {
    start(
        app.settings.clone(),
        TestDatabase::external(app.database.url.clone()),
    )
    .await
}

/// A database that is dropped (with its connections) when this value is.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    name: String,
    /// `None` for a database this value does not own.
    maintenance_url: Option<String>,
}

impl TestDatabase {
    /// Clones the migrated template into a database of its own.
    pub async fn create(settings: &Settings) -> TestDatabase {
        let template = template_database(settings).await;
        let name = format!("talentcard_test_{}", uuid::Uuid::new_v4().simple());
        let maintenance_url = settings.database.url_for_database("postgres").expect("url");
        let mut conn = AsyncPgConnection::establish(&maintenance_url)
            .await
            .expect("connect");
        diesel::sql_query(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut conn)
        .await
        .expect("create test database");
        TestDatabase {
            url: settings.database.url_for_database(&name).expect("url"),
            name,
            maintenance_url: Some(maintenance_url),
        }
    }

    /// A database name that does not exist yet, dropped afterwards if it was created.
    pub fn unborn(url: String, name: String, maintenance_url: String) -> TestDatabase {
        TestDatabase {
            url,
            name,
            maintenance_url: Some(maintenance_url),
        }
    }

    /// A database on a server the test owns and removes itself; nothing to drop.
    pub fn external(url: String) -> TestDatabase {
        TestDatabase {
            url,
            name: String::new(),
            maintenance_url: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(url) = self.maintenance_url.clone() else {
            return;
        };
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a thread with its own runtime may block.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Arbitrary key of the advisory lock that serialises template creation across test processes.
const TEMPLATE_LOCK: i64 = 0x7470_6c74_6c63;

/// The name of a database holding every migration and the reference data, made once per
/// checkout and content of `migrations/` and `config/reference/`, and shared by every test
/// process of that checkout. Two checkouts on one machine (two worktrees) each keep their own.
async fn template_database(settings: &Settings) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("{}{}", template_prefix(), &content_hash()[..16]);
            create_template(settings, &name)
                .await
                .expect("template database");
            name
        })
        .await
        .clone()
}

async fn create_template(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let maintenance = settings.database.url_for_database("postgres")?;
    let mut conn = AsyncPgConnection::establish(&maintenance).await?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await?;
    let result = create_template_locked(settings, &mut conn, name).await;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await?;
    result
}

#[derive(diesel::QueryableByName)]
struct Database {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    datistemplate: bool,
}

async fn create_template_locked(
    settings: &Settings,
    conn: &mut AsyncPgConnection,
    name: &str,
) -> anyhow::Result<()> {
    let existing: Vec<Database> = diesel::sql_query(
        "SELECT datname::text AS datname, datistemplate FROM pg_database \
         WHERE starts_with(datname::text, $1)",
    )
    .bind::<diesel::sql_types::Text, _>(template_prefix())
    .load(conn)
    .await?;
    if existing
        .iter()
        .any(|d| d.datname == name && d.datistemplate)
    {
        return Ok(());
    }
    // This checkout's templates of older migrations, and a half-made one of ours, are dropped.
    for stale in &existing {
        diesel::sql_query(format!(
            "ALTER DATABASE \"{}\" IS_TEMPLATE false",
            stale.datname
        ))
        .execute(conn)
        .await?;
        diesel::sql_query(format!("DROP DATABASE \"{}\" WITH (FORCE)", stale.datname))
            .execute(conn)
            .await?;
    }
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(conn)
        .await?;
    let mut template_settings = settings.clone();
    template_settings.database.url = SecretString::from(settings.database.url_for_database(name)?);
    prepare_database(&template_settings).await?;
    diesel::sql_query(format!("ALTER DATABASE \"{name}\" IS_TEMPLATE true"))
        .execute(conn)
        .await?;
    Ok(())
}

/// `talentcard_template_` and a digest of this checkout's path: the templates of this checkout.
fn template_prefix() -> String {
    let checkout = Sha256::digest(manifest_dir().to_string_lossy().as_bytes());
    format!("talentcard_template_{}_", &hex::encode(checkout)[..8])
}

fn content_hash() -> String {
    let mut hasher = Sha256::new();
    for dir in ["migrations", "config/reference", "config/schemes"] {
        hash_dir(&manifest_dir().join(dir), &mut hasher);
    }
    for file in ["config/recognitions.toml", "config/entitlements.toml"] {
        hasher.update(std::fs::read(manifest_dir().join(file)).expect("read file"));
    }
    hex::encode(hasher.finalize())
}

fn hash_dir(dir: &Path, hasher: &mut Sha256) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            hasher.update(std::fs::read(&path).expect("read file"));
        }
    }
}

/// Reads a problem+json answer, checking its media type and that `code` matches `status`.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}
