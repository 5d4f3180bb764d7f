//! The audit chain is keyed outside the database: a writer with full access to the database
//! but without the audit key cannot delete a row and re-chain the rest unnoticed.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use talentcard::audit::chain::{GENESIS_HASH, LinkContent, link_hash};
use talentcard::audit::{self, Actor, AuditEvent, AuditKeyring};

use crate::helpers::{TestApp, audit_keys, manifest_dir, spawn_app};

#[derive(diesel::QueryableByName)]
struct Link {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    entity_id: Option<String>,
    #[diesel(sql_type = Text)]
    detail_digest: String,
}

/// A superuser's connection with the append-only triggers off, as the attacker had.
async fn attacker(app: &TestApp) -> AsyncPgConnection {
    let mut conn = app.connect().await;
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Recomputes every row's plain SHA-256 link from the genesis and points the head at the last:
/// what the old verifier checked, done by someone who does not hold the audit key.
async fn rechain(conn: &mut AsyncPgConnection) {
    let links: Vec<Link> = diesel::sql_query(
        "SELECT seq, occurred_at, actor, action, entity_type, entity_id, detail_digest \
         FROM audit_log ORDER BY seq",
    )
    .load(conn)
    .await
    .unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    for link in &links {
        let hash = link_hash(&LinkContent {
            seq: link.seq,
            occurred_at: link.occurred_at,
            actor: &link.actor,
            action: &link.action,
            entity_type: &link.entity_type,
            entity_id: link.entity_id.as_deref(),
            detail_digest: &link.detail_digest,
            prev_hash: &prev,
        });
        diesel::sql_query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind::<Text, _>(&prev)
            .bind::<Text, _>(&hash)
            .bind::<BigInt, _>(link.seq)
            .execute(conn)
            .await
            .unwrap();
        prev = hash;
    }
    diesel::sql_query("UPDATE audit_chain_head SET last_seq = $1, last_hash = $2")
        .bind::<BigInt, _>(links.last().map_or(0, |l| l.seq))
        .bind::<Text, _>(&prev)
        .execute(conn)
        .await
        .unwrap();
}

/// Deletes row `seq`, moves the rows after it down by one and re-chains everything.
async fn delete_and_rechain(conn: &mut AsyncPgConnection, seq: i64) {
    for sql in [
        format!("DELETE FROM audit_log WHERE seq = {seq}"),
        format!("UPDATE audit_log SET seq = seq + 1000000 WHERE seq > {seq}"),
        "UPDATE audit_log SET seq = seq - 1000001 WHERE seq > 1000000".to_owned(),
    ] {
        diesel::sql_query(sql).execute(conn).await.unwrap();
    }
    rechain(conn).await;
}

/// An official's read of an unmasked ID, as the application view records it.
fn personal_data_read() -> AuditEvent {
    AuditEvent {
        actor: Actor::Account(uuid::Uuid::now_v7()),
        action: "application.personal_data_viewed",
        entity_type: "application",
        entity_id: Some(uuid::Uuid::now_v7().to_string()),
        detail: serde_json::json!({ "talent": uuid::Uuid::now_v7() }),
    }
}

fn other(n: usize) -> AuditEvent {
    AuditEvent {
        actor: Actor::System,
        action: "test.recorded",
        entity_type: "test",
        entity_id: Some(n.to_string()),
        detail: serde_json::json!({ "n": n }),
    }
}

async fn record(conn: &mut AsyncPgConnection, event: &AuditEvent) -> i64 {
    conn.transaction(async |c| audit::record(c, event).await)
        .await
        .unwrap()
}

async fn verify(app: &TestApp) -> Result<audit::VerifyReport, audit::ChainBreak> {
    audit::verify(&mut app.connect().await, &audit_keys())
        .await
        .unwrap()
}

fn cli_verify(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_talentcard"))
        .args(["audit", "verify"])
        .current_dir(manifest_dir())
        .env("TALENTCARD_ENV", "test")
        .env("DATABASE_URL", &app.database.url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run talentcard")
}

#[tokio::test]
async fn a_deleted_read_of_an_unmasked_id_is_found_after_a_sha256_rechain() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    record(&mut conn, &other(1)).await;
    let read = record(&mut conn, &personal_data_read()).await;
    record(&mut conn, &other(2)).await;
    record(&mut conn, &other(3)).await;
    assert!(verify(&app).await.is_ok(), "intact before the attack");

    delete_and_rechain(&mut attacker(&app).await, read).await;

    let broken = verify(&app)
        .await
        .expect_err("the re-chained log must not verify");
    assert_eq!(
        broken.seq, read,
        "the first re-chained row is named: {broken}"
    );
    assert!(broken.reason.contains("MAC"), "{broken}");
    let cli = cli_verify(&app);
    assert_eq!(cli.status.code(), Some(1), "audit verify exits 1");
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(stderr.contains(&format!("seq {read}")), "{stderr}");
}

#[tokio::test]
async fn stripping_every_mac_and_rechaining_does_not_pass_as_an_old_log() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let read = record(&mut conn, &personal_data_read()).await;
    record(&mut conn, &other(1)).await;
    let mut attacker = attacker(&app).await;
    diesel::sql_query("UPDATE audit_log SET key_id = NULL, mac = NULL")
        .execute(&mut attacker)
        .await
        .unwrap();
    delete_and_rechain(&mut attacker, read).await;
    let broken = verify(&app)
        .await
        .expect_err("a log without MACs must not verify");
    assert!(broken.reason.contains("MAC"), "{broken}");
}

#[tokio::test]
async fn the_wrong_key_or_a_forged_mac_is_refused_and_a_retired_key_still_verifies() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    let seq = record(&mut conn, &other(1)).await;
    let stranger = AuditKeyring::new(
        "a1",
        "another-audit-key-that-is-long-enough-0123456789".into(),
        vec![],
    );
    let refused = audit::verify(&mut conn, &stranger).await.unwrap();
    assert!(
        refused.is_err(),
        "a different key does not vouch for the log"
    );
    let rotated = AuditKeyring::new(
        "a2",
        "the-next-audit-key-that-is-long-enough-0123456789".into(),
        vec![(
            "a1".to_owned(),
            "test-only-audit-chain-hmac-key-0123456789abcdef012345678".into(),
        )],
    );
    let report = audit::verify(&mut conn, &rotated).await.unwrap().unwrap();
    assert!(report.rows >= 1, "rows of a retired key still verify");
    let without_old = AuditKeyring::new(
        "a2",
        "the-next-audit-key-that-is-long-enough-0123456789".into(),
        vec![],
    );
    let missing = audit::verify(&mut conn, &without_old).await.unwrap();
    let reason = missing.err().map(|b| b.reason).unwrap_or_default();
    assert!(reason.contains("AUDIT_RETIRED_KEYS"), "{reason}");

    diesel::sql_query(format!(
        "UPDATE audit_log SET mac = repeat('0', 64) WHERE seq = {seq}"
    ))
    .execute(&mut attacker(&app).await)
    .await
    .unwrap();
    assert_eq!(verify(&app).await.err().map(|b| b.seq), Some(seq));
}

/// A database as it was before the chain was keyed: the service's start-up anchors the old rows
/// with one keyed `audit.keyed` row, and from then on they cannot be re-chained either.
#[tokio::test]
async fn rows_from_before_the_key_are_anchored_by_the_first_keyed_row() {
    let app = spawn_app().await;
    let mut conn = app.connect().await;
    record(&mut conn, &other(1)).await;
    record(&mut conn, &other(2)).await;
    let mut attacker = attacker(&app).await;
    diesel::sql_query("UPDATE audit_log SET key_id = NULL, mac = NULL")
        .execute(&mut attacker)
        .await
        .unwrap();
    let legacy = verify(&app)
        .await
        .expect_err("nothing anchors the old rows yet");
    assert!(legacy.reason.contains("never keyed"), "{legacy}");

    let anchor = audit::anchor(&mut conn)
        .await
        .unwrap()
        .expect("an anchor row");
    let report = verify(&app).await.unwrap();
    assert_eq!(report.unkeyed_rows, (anchor - 1) as u64);
    assert_eq!(
        audit::anchor(&mut conn).await.unwrap(),
        None,
        "anchored once"
    );

    // An old row rewritten and the old rows re-chained: the anchor's MAC covers their hash.
    diesel::sql_query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
        .execute(&mut attacker)
        .await
        .unwrap();
    rechain(&mut attacker).await;
    assert_eq!(verify(&app).await.err().map(|b| b.seq), Some(anchor));
}
