//! The service logs in as a role that does not own the tables: it cannot delete, change or
//! truncate audit rows, nor switch off the append-only trigger, whatever SQL it is made to run.
//! Migrations run as the owner, which grants those rights.

use diesel_async::RunQueryDsl;
use talentcard::audit::{self, Actor, AuditEvent};
use talentcard::configuration::Environment;
use talentcard::startup::Application;

use crate::helpers::{TestDatabase, spawn_app, test_settings};

async fn refused(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| format!("{sql}: was allowed"))
}

#[tokio::test]
async fn the_services_login_cannot_rewrite_or_unprotect_the_audit_log() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().await.unwrap();
    let login = talentcard::db::roles::service_login(&mut conn)
        .await
        .unwrap();
    assert!(!login.superuser && !login.owns_audit_log, "{login:?}");

    for sql in [
        "DELETE FROM audit_log",
        "UPDATE audit_log SET actor = 'mallory'",
        "TRUNCATE audit_log",
        "DELETE FROM audit_chain_head",
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (FALSE, 0, '')",
        "DELETE FROM __diesel_schema_migrations",
    ] {
        let error = refused(&mut conn, sql).await;
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    for sql in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_no_update ON audit_log",
        "DROP TABLE audit_log",
    ] {
        let error = refused(&mut conn, sql).await;
        assert!(error.contains("must be owner"), "{sql}: {error}");
    }
    let error = refused(&mut conn, "SET session_replication_role = replica").await;
    assert!(error.contains("permission denied"), "{error}");

    // What it must do still works: append to the chain, read it, and its ordinary tables.
    let event = AuditEvent {
        actor: Actor::System,
        action: "test.recorded",
        entity_type: "test",
        entity_id: None,
        detail: serde_json::json!({}),
    };
    use diesel_async::AsyncConnection;
    conn.transaction(async |c| audit::record(c, &event).await)
        .await
        .unwrap();
    diesel::sql_query("DELETE FROM idempotency_keys WHERE FALSE")
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Production does not start when its service login could rewrite the audit log.
#[tokio::test]
async fn production_refuses_a_service_login_that_owns_the_tables() {
    let mut settings = test_settings();
    let database = TestDatabase::create(&settings).await;
    settings.database.url = database.url.clone().into();
    settings.database.service_login_from_owner = false;
    settings.environment = Environment::Production;
    let error = Application::build(&settings)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("DATABASE_URL") && error.contains("audit"),
        "{error}"
    );

    // The same database with the service logging in as the service role starts.
    settings.database.service_login_from_owner = true;
    settings.environment = Environment::Test;
    assert!(Application::build(&settings).await.is_ok());
}

/// An owner who names a service role that does not exist is told how to create it.
#[tokio::test]
async fn a_missing_service_role_is_named() {
    let mut settings = test_settings();
    let database = TestDatabase::create(&settings).await;
    settings.database.url = database.url.clone().into();
    settings.database.service_login_from_owner = false;
    settings.database.service_role = "talentcard_no_such_role".to_owned();
    let error = Application::build(&settings)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("talentcard_no_such_role") && error.contains("Database roles"),
        "{error}"
    );
}
