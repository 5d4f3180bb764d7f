//! The `talentcard` binary itself, run as an operator would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::{TestDatabase, manifest_dir, test_settings};

fn talentcard(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_talentcard"))
        .args(args)
        .current_dir(manifest_dir())
        .env("TALENTCARD_ENV", "test")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run talentcard");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn admin_create_then_audit_verify_then_tamper() {
    let settings = test_settings();
    let db = TestDatabase::create(&settings).await;

    let created = talentcard(
        &db.url,
        &["admin", "create", "--email", " Ops@Example.CN "],
        "a long enough passphrase\n",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("ops@example.cn"));

    let again = talentcard(
        &db.url,
        &["admin", "create", "--email", "ops@example.cn"],
        "another passphrase!\n",
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    let short = talentcard(
        &db.url,
        &["admin", "create", "--email", "b@example.cn"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("at least 12"));

    let clean = talentcard(&db.url, &["audit", "verify"], "");
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    assert!(
        text(&clean.stdout).contains("audit chain intact"),
        "{}",
        text(&clean.stdout)
    );

    let mut conn = <AsyncPgConnection as AsyncConnection>::establish(&db.url)
        .await
        .unwrap();
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("UPDATE audit_log SET action = 'nothing.happened' WHERE seq = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let broken = talentcard(&db.url, &["audit", "verify"], "");
    assert!(!broken.status.success());
    assert!(
        text(&broken.stderr).contains("seq 1"),
        "{}",
        text(&broken.stderr)
    );
}

/// The administrator's display name follows the rule for names, as over the API: refused, not
/// cleaned, and kept trimmed.
#[tokio::test]
async fn admin_create_holds_the_display_name_to_the_rule_for_names() {
    let settings = test_settings();
    let db = TestDatabase::create(&settings).await;
    let email = "ops@example.cn";
    for name in ["Ops\u{202E}nimdA", "Ops\nTeam", "   ", &"名".repeat(201)] {
        let refused = talentcard(
            &db.url,
            &["admin", "create", "--email", email, "--full-name", name],
            "a long enough passphrase\n",
        );
        assert!(!refused.status.success(), "{name:?}");
        assert!(
            text(&refused.stderr).contains("--full-name must be 1 to 200 printable characters"),
            "{}",
            text(&refused.stderr)
        );
    }
    let created = talentcard(
        &db.url,
        &[
            "admin",
            "create",
            "--email",
            email,
            "--full-name",
            "  Ops Team ",
        ],
        "a long enough passphrase\n",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let mut conn = <AsyncPgConnection as AsyncConnection>::establish(&db.url)
        .await
        .unwrap();
    let email = talentcard::domain::email::Email::parse(email).unwrap();
    let admin = talentcard::models::account::find_by_email(&mut conn, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.full_name, "Ops Team");
}

#[tokio::test]
async fn migrate_creates_a_missing_database() {
    let settings = test_settings();
    let name = format!("talentcard_test_{}", uuid::Uuid::new_v4().simple());
    let url = settings.database.url_for_database(&name).unwrap();
    let maintenance = settings.database.url_for_database("postgres").unwrap();
    let _db = TestDatabase::unborn(url.clone(), name, maintenance);
    let migrated = talentcard(&url, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let again = talentcard(&url, &["migrate"], "");
    assert!(again.status.success(), "a second run has nothing to do");
}

#[test]
fn production_refuses_demo_data_and_development_secrets() {
    let output = Command::new(env!("CARGO_BIN_EXE_talentcard"))
        .args(["serve", "--demo"])
        .current_dir(manifest_dir())
        .env("TALENTCARD_ENV", "production")
        .env(
            "TALENTCARD__SECRETS__TOKEN_SIGNING_KEY",
            "dev-only-token-signing-key-0123456789abcdef0123456789abcdef",
        )
        .env(
            "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY",
            "cHJvZC1waWktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=",
        )
        .env(
            "TALENTCARD__SECRETS__PLATFORM_SIGNING_KEY",
            "cHJvZC1wbGF0Zm9ybS1zaWduaW5nLXNlZWQtMzItYnk=",
        )
        .env(
            "TALENTCARD__SECRETS__PII_INDEX_KEY",
            "a-production-blind-index-key-that-is-long-enough",
        )
        .env(
            "TALENTCARD__SECRETS__AUDIT_HMAC_KEY",
            "a-production-audit-chain-key-that-is-long-enough",
        )
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("TALENTCARD__SECRETS__TOKEN_SIGNING_KEY"),
        "{stderr}"
    );
    assert!(stderr.contains("development value"), "{stderr}");
}

#[tokio::test]
async fn keys_rotate_from_the_command_line() {
    let app = crate::helpers::spawn_app().await;
    let before: serde_json::Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let rotated = talentcard(&app.database.url, &["keys", "rotate", "--issuer", "TZ"], "");
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout).contains("new key TZ-"));
    let after: serde_json::Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let active_of = |list: &serde_json::Value| {
        let tz = list["issuers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "TZ")
            .unwrap()
            .clone();
        tz["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["status"] == "active")
            .unwrap()["kid"]
            .clone()
    };
    assert_ne!(active_of(&after), active_of(&before));
    // The retired key signed no card, so nothing needs it published any more.
    assert!(text(&rotated.stdout).contains(active_of(&before).as_str().unwrap()));
    let unknown = talentcard(&app.database.url, &["keys", "rotate", "--issuer", "ZZ"], "");
    assert!(!unknown.status.success());

    // Any key, active or retired, can be withdrawn from the command line too.
    let retired = active_of(&before).as_str().unwrap().to_owned();
    let args = ["keys", "compromise", "--issuer", "TZ", "--kid", &retired];
    let withdrawn = talentcard(&app.database.url, &args, "");
    assert!(withdrawn.status.success(), "{}", text(&withdrawn.stderr));
    assert!(text(&withdrawn.stdout).contains("(retired) withdrawn"));
    let again = talentcard(&app.database.url, &args, "");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("withdrawn before"));
    let active = active_of(&after).as_str().unwrap().to_owned();
    let args = ["keys", "compromise", "--issuer", "TZ", "--kid", &active];
    let replaced = talentcard(&app.database.url, &args, "");
    assert!(replaced.status.success(), "{}", text(&replaced.stderr));
    let last: serde_json::Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    assert_ne!(active_of(&last).as_str(), Some(active.as_str()));
    assert!(!last.to_string().contains(&active), "withdrawn at once");
}

#[tokio::test]
async fn seeded_cards_verify_by_number_and_by_credential() {
    let app = crate::helpers::spawn_app().await;
    let out = tempfile::tempdir().unwrap();
    let seeded = talentcard(
        &app.database.url,
        &[
            "seed",
            "--cards",
            "300",
            "--out",
            out.path().to_str().unwrap(),
        ],
        "",
    );
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let read = |name: &str| -> Vec<String> {
        std::fs::read_to_string(out.path().join(name))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (numbers, credentials) = (read("card-numbers.txt"), read("credentials.txt"));
    assert_eq!((numbers.len(), credentials.len()), (300, 300));

    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, token) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    for body in [
        serde_json::json!({ "card_number": numbers[17] }),
        serde_json::json!({ "credential": credentials[17] }),
    ] {
        let answer: serde_json::Value = app
            .post_json("/api/v1/verifications", &body, Some(&token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["valid"], true, "{answer}");
        assert_eq!(answer["local_tier"], "B");
        assert_eq!(answer["card"]["number"], numbers[17].as_str());
    }
    let mut conn = app.connect().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cards: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        indexes: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        holders: i64,
    }
    let counts: Counts = diesel::sql_query(
        "SELECT count(*) AS cards, count(DISTINCT status_index) AS indexes, \
         count(DISTINCT holder_id) AS holders FROM cards WHERE number LIKE 'XA-%'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (counts.cards, counts.indexes, counts.holders),
        (300, 300, 300)
    );
}
