//! The sweep of old rows (issue 17, point 8): rate windows, login throttles, idempotency keys and
//! sessions; what is old goes in batches, what is live stays; one instance at a time; run by the
//! server every `maintenance.sweep_interval_secs` and once by `talentcard sweep`.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use talentcard::clock::Clock;
use talentcard::models::sweep::{self, SweepReport};
use talentcard::startup::sweep_policy;
use uuid::Uuid;

use crate::cli::{talentcard, text};
use crate::helpers::{TestApp, TestDatabase, spawn_app, spawn_app_with, test_settings};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql).get_result(conn).await.unwrap();
    row.n
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str, at: DateTime<Utc>) {
    diesel::sql_query(sql)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await
        .unwrap();
}

async fn throttle(
    conn: &mut AsyncPgConnection,
    key: &str,
    hour: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    last_success: Option<DateTime<Utc>>,
) {
    diesel::sql_query(
        "INSERT INTO login_throttles (key, failures, hour_started, hour_failures, locked_until, \
         last_success_at) VALUES ($1, 3, $2, 3, $3, $4)",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(hour)
    .bind::<Nullable<Timestamptz>, _>(locked_until)
    .bind::<Nullable<Timestamptz>, _>(last_success)
    .execute(conn)
    .await
    .unwrap();
}

async fn session(
    conn: &mut AsyncPgConnection,
    account: Uuid,
    last_used: DateTime<Utc>,
    expires: DateTime<Utc>,
    revoked: Option<DateTime<Utc>>,
) {
    let id = Uuid::now_v7();
    diesel::sql_query(
        "INSERT INTO sessions (id, account_id, created_at, last_used_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Uuid, _>(account)
    .bind::<Timestamptz, _>(last_used)
    .bind::<Timestamptz, _>(expires)
    .bind::<Nullable<Timestamptz>, _>(revoked)
    .execute(&mut *conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ($1, $2, $3)",
    )
    .bind::<Text, _>(id.to_string())
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<Timestamptz, _>(last_used)
    .execute(conn)
    .await
    .unwrap();
}

/// Old and live rows of every swept table, as of the app's clock.
async fn old_and_live_rows(app: &TestApp, conn: &mut AsyncPgConnection, holder: Uuid) {
    let now = app.clock.now();
    // Rate windows: 2,500 ended long ago (more than two batches), one current.
    exec(
        conn,
        "INSERT INTO address_rate_windows (key, window_start, count) \
         SELECT 'register:old' || g, $1, 1 FROM generate_series(1, 2500) g",
        now - Duration::hours(3),
    )
    .await;
    exec(
        conn,
        "INSERT INTO address_rate_windows VALUES ('register:live', $1, 1)",
        now,
    )
    .await;
    exec(
        conn,
        "INSERT INTO agencies (id, name, district, services, created_at) \
         VALUES ('01936c2e-0000-7000-8000-00000000a9e1', 'x', 'tongzhou', '{}', $1)",
        now,
    )
    .await;
    for (table, age) in [("agency_rate_windows", 2), ("agency_unknown_windows", 3)] {
        let shard = if table == "agency_rate_windows" {
            ", shard"
        } else {
            ""
        };
        let zero = if table == "agency_rate_windows" {
            ", 0"
        } else {
            ""
        };
        for at in [now - Duration::hours(age), now] {
            exec(
                conn,
                &format!(
                    "INSERT INTO {table} (agency_id, window_start, count{shard}) \
                     VALUES ('01936c2e-0000-7000-8000-00000000a9e1', $1, 1{zero})"
                ),
                at,
            )
            .await;
        }
    }
    let two_days_ago = now - Duration::days(2);
    throttle(conn, "pair:quiet", two_days_ago, None, None).await;
    throttle(conn, "pair:live", now, None, None).await;
    let until = Some(now + Duration::minutes(5));
    throttle(conn, "pair:locked", two_days_ago, until, None).await;
    let known = Some(now - Duration::days(10));
    throttle(conn, "pair:known", two_days_ago, None, known).await;
    let stale = Some(now - Duration::days(31));
    throttle(conn, "pair:stale", two_days_ago, None, stale).await;
    for (key, age) in [("old", 25), ("live", 1)] {
        exec(
            conn,
            &format!(
                "INSERT INTO idempotency_keys (principal, key, request_hash, status, body, \
                 created_at) VALUES ('account:x', '{key}', 'h', 200, 'null', $1)"
            ),
            now - Duration::hours(age),
        )
        .await;
    }
    // Sessions of the holder, beside the live one of their login: dead for more than a day
    // (expired, revoked, idle past seven days) and one revoked an hour ago, kept for now.
    let month = Duration::days(30);
    session(conn, holder, two_days_ago, two_days_ago, None).await;
    session(
        conn,
        holder,
        now - Duration::days(3),
        now + month,
        Some(two_days_ago),
    )
    .await;
    session(conn, holder, now - Duration::days(9), now + month, None).await;
    let recent = Some(now - Duration::hours(1));
    session(conn, holder, now - Duration::hours(2), now + month, recent).await;
}

#[tokio::test]
async fn a_sweep_deletes_what_is_old_and_keeps_what_is_live() {
    let app = spawn_app().await;
    let holder = app.talent("holder@example.cn").await;
    let mut conn = app.connect().await;
    old_and_live_rows(&app, &mut conn, holder.id).await;
    let policy = sweep_policy(&app.settings, app.clock.now());
    let report = sweep::run(&mut conn, policy).await.unwrap().unwrap();
    assert_eq!(
        report,
        SweepReport {
            address_rate_windows: 2500,
            agency_rate_windows: 1,
            agency_unknown_windows: 1,
            login_throttles: 2,
            idempotency_keys: 1,
            sessions: 3,
            holder_nonces: 0,
            presentation_codes: 0,
            verification_nonces: 0,
        }
    );
    let left = |table: &str| format!("SELECT count(*) AS n FROM {table}");
    assert_eq!(
        count(
            &mut conn,
            &left("address_rate_windows WHERE key = 'register:live'")
        )
        .await,
        1
    );
    assert_eq!(count(&mut conn, &left("agency_rate_windows")).await, 1);
    assert_eq!(count(&mut conn, &left("agency_unknown_windows")).await, 1);
    assert_eq!(
        count(
            &mut conn,
            &left("login_throttles WHERE key IN ('pair:live', 'pair:locked', 'pair:known')")
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &mut conn,
            &left("login_throttles WHERE key IN ('pair:quiet', 'pair:stale')")
        )
        .await,
        0
    );
    assert_eq!(
        count(&mut conn, &left("idempotency_keys WHERE key = 'live'")).await,
        1
    );
    assert_eq!(count(&mut conn, &left("idempotency_keys")).await, 1);
    assert_eq!(count(&mut conn, &left("sessions")).await, 2);
    assert_eq!(
        count(
            &mut conn,
            &left("refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions)")
        )
        .await,
        0,
        "refresh tokens go with their session"
    );
    // The live session still works, and a second sweep finds nothing.
    assert_eq!(
        app.get_as("/api/v1/me", &holder.access)
            .await
            .status()
            .as_u16(),
        200
    );
    let again = sweep::run(&mut conn, policy).await.unwrap().unwrap();
    assert_eq!(again, SweepReport::default());
}

#[tokio::test]
async fn one_instance_sweeps_at_a_time() {
    let app = spawn_app().await;
    let mut holder = app.connect().await;
    let mut sweeper = app.connect().await;
    let now = app.clock.now();
    exec(
        &mut sweeper,
        "INSERT INTO address_rate_windows VALUES ('register:old', $1, 1)",
        now - Duration::hours(3),
    )
    .await;
    let policy = sweep_policy(&app.settings, now);
    let skipped = holder
        .transaction(async |c| {
            diesel::sql_query(format!(
                "SELECT pg_advisory_xact_lock({})",
                sweep::SWEEP_LOCK
            ))
            .execute(c)
            .await?;
            sweep::run(&mut sweeper, policy).await
        })
        .await
        .unwrap();
    assert_eq!(skipped, None, "another instance holds the sweep");
    let left = "SELECT count(*) AS n FROM address_rate_windows";
    assert_eq!(count(&mut sweeper, left).await, 1);
    assert!(sweep::run(&mut sweeper, policy).await.unwrap().is_some());
    assert_eq!(count(&mut sweeper, left).await, 0);
}

#[tokio::test]
async fn the_server_sweeps_periodically() {
    let app = spawn_app_with(|s| s.maintenance.sweep_interval_secs = 1).await;
    let mut conn = app.connect().await;
    let now = app.clock.now();
    exec(
        &mut conn,
        "INSERT INTO address_rate_windows VALUES ('register:old', $1, 1)",
        now - Duration::hours(3),
    )
    .await;
    exec(
        &mut conn,
        "INSERT INTO address_rate_windows VALUES ('register:live', $1, 1)",
        now,
    )
    .await;
    let left = "SELECT count(*) AS n FROM address_rate_windows";
    for _ in 0..50 {
        if count(&mut conn, left).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&mut conn, left).await,
        1,
        "the old window is gone, the live one stays"
    );
}

#[tokio::test]
async fn talentcard_sweep_runs_it_once() {
    let settings = test_settings();
    let db = TestDatabase::create(&settings).await;
    let mut conn = <AsyncPgConnection as AsyncConnection>::establish(&db.url)
        .await
        .unwrap();
    exec(
        &mut conn,
        "INSERT INTO address_rate_windows VALUES ('register:old', $1, 1)",
        Utc::now() - Duration::hours(3),
    )
    .await;
    let swept = talentcard(&db.url, &["sweep"], "");
    assert!(swept.status.success(), "{}", text(&swept.stderr));
    assert!(
        text(&swept.stdout).contains("\"address_rate_windows\":1"),
        "{}",
        text(&swept.stdout)
    );
    let left = "SELECT count(*) AS n FROM address_rate_windows";
    assert_eq!(count(&mut conn, left).await, 0);
}
