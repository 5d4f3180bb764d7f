use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use talentcard::audit::{self, Actor, AuditEvent};

use crate::helpers::{TestApp, audit_keys, spawn_app};

fn event(n: usize) -> AuditEvent {
    AuditEvent {
        actor: Actor::System,
        action: "test.recorded",
        entity_type: "test",
        entity_id: Some(n.to_string()),
        detail: serde_json::json!({ "n": n }),
    }
}

async fn write(conn: &mut AsyncPgConnection, count: usize) {
    for n in 1..=count {
        conn.transaction(async |c| audit::record(c, &event(n)).await)
            .await
            .unwrap();
    }
}

/// Runs SQL with triggers off, as a superuser tampering with the table would.
async fn tamper(app: &TestApp, statements: &[&str]) {
    let mut conn = app.connect().await;
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    for sql in statements {
        diesel::sql_query(*sql).execute(&mut conn).await.unwrap();
    }
}

/// Rows already in a fresh database (the default schemes are audited when loaded).
async fn baseline(conn: &mut AsyncPgConnection) -> u64 {
    audit::verify(conn, &audit_keys())
        .await
        .unwrap()
        .unwrap()
        .rows
}

async fn broken_at(app: &TestApp) -> Option<i64> {
    let mut conn = app.connect().await;
    audit::verify(&mut conn, &audit_keys())
        .await
        .unwrap()
        .err()
        .map(|b| b.seq)
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let before = baseline(&mut conn).await;
    write(&mut conn, 5).await;
    let report = audit::verify(&mut conn, &audit_keys())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.rows, before + 5);
}

#[tokio::test]
async fn the_database_refuses_update_delete_and_truncate() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    write(&mut conn, 2).await;
    for sql in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
    ] {
        let refused = diesel::sql_query(sql).execute(&mut conn).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    assert!(broken_at(&app).await.is_none());
}

#[tokio::test]
async fn a_modified_row_is_named() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 4).await;
    tamper(
        &app,
        &["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"],
    )
    .await;
    assert_eq!(broken_at(&app).await, Some(3));
}

#[tokio::test]
async fn a_modified_detail_is_named() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 4).await;
    tamper(
        &app,
        &[r#"UPDATE audit_log SET detail = '{"n": 99}' WHERE seq = 2"#],
    )
    .await;
    assert_eq!(broken_at(&app).await, Some(2));
}

#[tokio::test]
async fn a_deleted_row_is_named() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 4).await;
    tamper(&app, &["DELETE FROM audit_log WHERE seq = 2"]).await;
    assert_eq!(broken_at(&app).await, Some(2));
}

#[tokio::test]
async fn a_deleted_tail_is_noticed_through_the_head() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 4).await;
    tamper(&app, &["DELETE FROM audit_log WHERE seq = 4"]).await;
    assert_eq!(broken_at(&app).await, Some(4));
}

#[tokio::test]
async fn reordered_rows_are_named() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 4).await;
    tamper(
        &app,
        &[
            "UPDATE audit_log SET seq = 1000 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 1000",
        ],
    )
    .await;
    assert_eq!(broken_at(&app).await, Some(2));
}

#[tokio::test]
async fn a_rehashed_row_still_breaks_the_next_link() {
    let app = spawn_app().await;
    write(&mut app.connect().await, 3).await;
    // A forger who recomputes row 2's own hash cannot fix row 3's prev_hash without
    // rewriting everything after it.
    tamper(
        &app,
        &["UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 2"],
    )
    .await;
    assert_eq!(broken_at(&app).await, Some(2));
}

#[tokio::test]
async fn a_thousand_concurrent_writers_never_fork_the_chain() {
    let app = spawn_app().await;
    let before = baseline(&mut app.connect().await).await as i64;
    let pool = talentcard::db::build_pool(&{
        let mut db = app.settings.database.clone();
        db.pool_size = 16;
        db.acquire_timeout_ms = 30_000;
        db
    })
    .unwrap();
    let writers: Vec<_> = (1..=1000)
        .map(|n| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut conn = pool.get().await.unwrap();
                conn.transaction(async |c| audit::record(c, &event(n)).await)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for writer in writers {
        seqs.push(writer.await.unwrap());
    }
    seqs.sort_unstable();
    let expected: Vec<i64> = (before + 1..=before + 1000).collect();
    assert!(
        seqs == expected,
        "each writer got its own link, without gaps"
    );
    let report = audit::verify(&mut app.connect().await, &audit_keys())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.rows, before as u64 + 1000);
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_audit_row() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let before = baseline(&mut conn).await;
    let result: Result<(), diesel::result::Error> = conn
        .transaction(async |c| {
            audit::record(c, &event(1)).await?;
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert!(result.is_err());
    let report = audit::verify(&mut conn, &audit_keys())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.rows, before);
}
