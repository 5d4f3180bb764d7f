//! Creating the database and running the embedded migrations.
//!
//! diesel's migration harness is synchronous, so it runs on the blocking pool through
//! `AsyncConnectionWrapper`; an advisory lock keeps two instances starting together from running
//! the same migration twice. Both run as the migration owner (`MIGRATION_DATABASE_URL`, else
//! `DATABASE_URL`), which then grants the service role its rights ([`super::roles`]).

use anyhow::Context;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::configuration::DatabaseSettings;

/// Every migration under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// An arbitrary constant naming the "migrations are running" advisory lock.
const MIGRATION_LOCK: i64 = 0x7461_6c65_6e74;

/// Creates the configured database when it does not exist yet.
pub async fn ensure_database(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let name = settings.database_name()?;
    let mut maintenance = url::Url::parse(settings.owner_url())?;
    maintenance.set_path("/postgres");
    let maintenance = maintenance.to_string();
    let mut conn = AsyncPgConnection::establish(&maintenance)
        .await
        .context("could not connect to PostgreSQL (is it running? is DATABASE_URL right?)")?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(&name)
            .get_result(&mut conn)
            .await?;
    if found.exists {
        return Ok(());
    }
    // The name was checked to be [A-Za-z0-9_]+ by the configuration, so quoting is enough.
    match diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
    {
        Ok(_) => {
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        // Another instance created it between our check and our CREATE.
        Err(e) if e.to_string().contains("already exists") => Ok(()),
        Err(e) => Err(e).context("could not create the database"),
    }
}

/// Runs every pending migration and returns how many ran.
pub async fn run_migrations(url: &str) -> anyhow::Result<usize> {
    with_migration_lock(url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.len())
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))
    })
    .await
}

/// Runs every pending migration as the owner, then grants the service role its rights (creating
/// the login role first when `service_login_from_owner` is set), all under the migration lock.
/// Returns how many migrations ran.
pub async fn migrate_and_grant(settings: &DatabaseSettings) -> anyhow::Result<usize> {
    let role = settings.service_role.clone();
    let create = settings
        .service_login_from_owner
        .then(|| settings.owner_password());
    with_migration_lock(settings.owner_url(), move |conn| {
        let ran = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|done| done.len())
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        if let Some(password) = create {
            super::roles::create_login_role(conn, &role, password.as_deref())
                .context("could not create the service role")?;
        }
        if !super::roles::role_exists(conn, &role)? {
            anyhow::bail!(
                "the service role `{role}` does not exist: create it (README, \"Database roles\") \
                 or set TALENTCARD__DATABASE__SERVICE_ROLE"
            );
        }
        super::roles::grant_service_rights(conn, &role)
            .context("could not grant the service role its rights")?;
        Ok(ran)
    })
    .await
}

/// Reverts every migration (used by the test that proves each `down.sql` works).
pub async fn revert_all_migrations(url: &str) -> anyhow::Result<usize> {
    with_migration_lock(url, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.len())
            .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
    })
    .await
}

type SyncPg = AsyncConnectionWrapper<AsyncPgConnection>;

async fn with_migration_lock<T, F>(url: &str, work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncPg) -> anyhow::Result<T> + Send + 'static,
{
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = <SyncPg as Connection>::establish(&url)
            .context("could not connect to run migrations")?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
        let result = work(&mut conn);
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
        result
    })
    .await
    .context("the migration task panicked")?
}
