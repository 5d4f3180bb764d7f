//! Access denials leave aggregated `access.denied` rows: one per kind, route pattern, method
//! and caller per flush, with the count, never the token or the path's ids; a path no route
//! matches leaves none, and the chain still verifies.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use talentcard::audit::denials::{DenialKey, DenialKind, DenialLog};
use talentcard::audit::{self, Actor, AuditEntry, AuditFilter};

use crate::helpers::{TestApp, audit_keys, spawn_app, spawn_app_with};

const FORGED: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.forged";

/// The `access.denied` rows, oldest first.
async fn denial_rows(app: &TestApp) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        action: Some("access.denied".to_owned()),
        ..AuditFilter::default()
    };
    let mut rows = audit::list(&mut app.connect().await, &filter, None, 100)
        .await
        .unwrap();
    rows.reverse();
    rows
}

async fn assert_chain_verifies(app: &TestApp) {
    let verdict = audit::verify(&mut app.connect().await, &audit_keys())
        .await
        .unwrap();
    assert!(verdict.is_ok(), "{verdict:?}");
}

/// Checks the one row's route, actor, kind and count.
fn assert_row(row: &AuditEntry, entity_id: &str, actor: &str, kind: &str, count: u64) {
    assert_eq!(row.entity_type, "route");
    assert_eq!(row.entity_id.as_deref(), Some(entity_id));
    assert_eq!(row.actor, actor);
    assert_eq!(row.detail["kind"], kind, "{}", row.detail);
    assert_eq!(row.detail["count"], count, "{}", row.detail);
    let first = row.detail["first_seen"].as_str().unwrap_or_default();
    let last = row.detail["last_seen"].as_str().unwrap_or_default();
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert!(parse(first) <= parse(last), "{}", row.detail);
}

#[tokio::test]
async fn a_forged_token_three_times_is_one_row_counting_three_and_unmatched_paths_none() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let response = app.get_as("/api/v1/me", FORGED).await;
        assert_eq!(response.status().as_u16(), 401);
    }
    // Paths no route matches are a scanner's guesses, not denials of a resource.
    let unmatched = app.get_as("/api/v1/no-such-thing", FORGED).await;
    assert_eq!(unmatched.status().as_u16(), 404);
    assert_eq!(app.get("/wp-login.php").await.status().as_u16(), 404);

    assert_eq!(app.flush_denials().await, 1);
    let rows = denial_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_row(&rows[0], "GET /api/v1/me", "anonymous", "unauthorized", 3);
    let stored = serde_json::to_string(&rows[0].detail).unwrap();
    assert!(!stored.contains("forged"), "the token is never stored");

    assert_eq!(app.flush_denials().await, 0, "a flush takes the counts");
    assert_chain_verifies(&app).await;
}

#[tokio::test]
async fn a_talent_on_a_partner_endpoint_is_a_forbidden_row_under_their_account() {
    let app = spawn_app().await;
    let talent = app.talent("zhang@example.cn").await;
    let body = json!({ "card_number": "TWL-2026-000001" });
    for _ in 0..3 {
        let response = app
            .post_json("/api/v1/verifications", &body, Some(&talent.access))
            .await;
        assert_eq!(response.status().as_u16(), 403);
    }
    app.flush_denials().await;
    let rows = denial_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let actor = format!("account:{}", talent.id);
    assert_row(
        &rows[0],
        "POST /api/v1/verifications",
        &actor,
        "forbidden",
        3,
    );
    assert_chain_verifies(&app).await;
}

#[tokio::test]
async fn an_official_reading_another_issuers_application_is_a_not_found_row() {
    let app = spawn_app().await;
    let talent = app.talent("li@example.cn").await;
    app.put_profile(&talent, 7).await;
    let id = app.submitted(&talent, 35).await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let path = format!("/api/v1/applications/{id}");
    assert_eq!(app.get_as(&path, &xa.access).await.status().as_u16(), 200);
    assert_eq!(app.get_as(&path, &tz.access).await.status().as_u16(), 404);

    app.flush_denials().await;
    let rows = denial_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let actor = format!("account:{}", tz.id);
    assert_row(
        &rows[0],
        "GET /api/v1/applications/{id}",
        &actor,
        "not_found",
        1,
    );
    let stored = format!("{:?}", rows[0]);
    assert!(
        !stored.contains(&id),
        "the route pattern, never the id: {stored}"
    );
    assert_chain_verifies(&app).await;
}

#[tokio::test]
async fn the_timer_flushes_without_help() {
    let app = spawn_app_with(|s| s.audit.denial_flush_ms = 100).await;
    assert_eq!(
        app.get_as("/api/v1/me", FORGED).await.status().as_u16(),
        401
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    let rows = loop {
        let rows = denial_rows(&app).await;
        if !rows.is_empty() || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_row(&rows[0], "GET /api/v1/me", "anonymous", "unauthorized", 1);
    assert_chain_verifies(&app).await;
}

#[tokio::test]
async fn a_failed_flush_keeps_the_counts_for_the_next() {
    let app = spawn_app().await;
    let log = DenialLog::default();
    let key = DenialKey::new(
        DenialKind::Forbidden,
        &actix_web::http::Method::DELETE,
        "/api/v1/admin/accounts/{id}".to_owned(),
        Actor::Anonymous,
    );
    let now = chrono::Utc::now();
    log.note(key.clone(), now);
    log.note(key.clone(), now);

    let mut unreachable = app.settings.database.clone();
    unreachable.url = SecretString::from("postgres://postgres@127.0.0.1:1/nowhere".to_owned());
    unreachable.migration_url = None;
    unreachable.connect_timeout_ms = 200;
    unreachable.acquire_timeout_ms = 200;
    let dead_pool = talentcard::db::build_pool(&unreachable).unwrap();
    assert!(log.flush(&dead_pool).await.is_err());
    assert_eq!(log.pending(&key).map(|t| t.count), Some(2), "kept");

    assert_eq!(log.flush(&app.pool).await.unwrap(), 1);
    let rows = denial_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_row(
        &rows[0],
        "DELETE /api/v1/admin/accounts/{id}",
        "anonymous",
        "forbidden",
        2,
    );
    assert_eq!(log.pending(&key), None);
    assert_chain_verifies(&app).await;
}
