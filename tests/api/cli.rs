//! The `talentcard` binary itself, run as an operator would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::{TestDatabase, manifest_dir, test_settings};

pub fn talentcard(database_url: &str, args: &[&str], stdin: &str) -> Output {
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

pub fn text(bytes: &[u8]) -> String {
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
            "DATABASE_URL",
            "postgres://talentcard_service@127.0.0.1:5432/talentcard",
        )
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
    assert!(stderr.contains("local.toml"), "{stderr}");
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
        // The masked name the seed stores on the card row, as an issued card has it.
        assert_eq!(
            answer["card"]["holder_name_masked"],
            talentcard::domain::recognition::mask_name("种子持卡人 17")
        );
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

/// `seed --presentations` writes the single-use material of the holder-binding benchmarks: each
/// presentation and each code verifies once, valid and holder-bound, for the agency whose
/// client it names, and then answers `replayed`; another agency's check of a presentation fails
/// its binding (the KB-JWT is addressed to the first client, the nonces are its agency's).
#[tokio::test]
async fn seeded_presentations_and_codes_verify_holder_bound_once() {
    let app = crate::helpers::spawn_app().await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let seeded = talentcard(
        &app.database.url,
        &["seed", "--cards", "40", "--out", dir],
        "",
    );
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (agency_id, client_id, _, token) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    let (_, _, _, other_token) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    let args = [
        "seed",
        "--presentations",
        "6",
        "--agency-client",
        &client_id,
        "--out",
        dir,
    ];
    let seeded = talentcard(&app.database.url, &args, "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let read = |name: &str| -> Vec<String> {
        std::fs::read_to_string(out.path().join(name))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (presentations, codes) = (read("presentations.txt"), read("presentation-codes.txt"));
    assert_eq!((presentations.len(), codes.len()), (6, 6));
    let distinct = |v: &[String]| v.iter().collect::<std::collections::HashSet<_>>().len();
    assert_eq!((distinct(&presentations), distinct(&codes)), (6, 6));
    assert!(codes.iter().all(|c| c.starts_with("TC1:")), "{codes:?}");

    let verify = |body: serde_json::Value, token: String| {
        let app = &app;
        async move {
            let response = app
                .post_json("/api/v1/verifications", &body, Some(&token))
                .await;
            assert_eq!(response.status().as_u16(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let wrong_agency = verify(
        serde_json::json!({ "presentation": presentations[5] }),
        other_token.clone(),
    )
    .await;
    assert_eq!(wrong_agency["valid"], false, "{wrong_agency}");
    assert_eq!(wrong_agency["status"], "holder_binding_failed");
    for body in [
        serde_json::json!({ "presentation": presentations[0] }),
        serde_json::json!({ "presentation": presentations[3] }),
        serde_json::json!({ "presentation_code": codes[0] }),
        serde_json::json!({ "presentation_code": codes[4] }),
    ] {
        let first = verify(body.clone(), token.clone()).await;
        assert_eq!(first["valid"], true, "{body}: {first}");
        assert_eq!(first["holder_bound"], true, "{first}");
        assert_eq!(first["local_tier"], "B");
        assert!(first["presentation_id"].is_string(), "{first}");
        let again = verify(body.clone(), token.clone()).await;
        assert_eq!(again["valid"], false, "{again}");
        assert_eq!(again["status"], "replayed", "{again}");
    }

    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        nonces: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        codes: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bound: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        holder_bound: i64,
    }
    let mut conn = app.connect().await;
    let counts: Counts = diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM verification_nonces WHERE agency_id = '{agency_id}') AS nonces,
                (SELECT count(*) FROM presentation_codes) AS codes,
                (SELECT count(DISTINCT holder_jkt) FROM cards WHERE holder_jkt IS NOT NULL) AS bound,
                (SELECT count(*) FROM verifications WHERE holder_bound) AS holder_bound"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (
            counts.nonces,
            counts.codes,
            counts.bound,
            counts.holder_bound
        ),
        (6, 6, 1, 4),
        "one wallet key; four holder-bound checks recorded"
    );
}

/// `seed --presentations` for a client that does not exist fails naming it, and stores and
/// writes nothing.
#[tokio::test]
async fn seeding_presentations_for_an_unknown_client_writes_nothing() {
    let app = crate::helpers::spawn_app().await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let seeded = talentcard(
        &app.database.url,
        &["seed", "--cards", "5", "--out", dir],
        "",
    );
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let unknown = uuid::Uuid::now_v7().to_string();
    let args = [
        "seed",
        "--presentations",
        "3",
        "--agency-client",
        &unknown,
        "--out",
        dir,
    ];
    let refused = talentcard(&app.database.url, &args, "");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains(&format!("no active agency client {unknown}")),
        "{}",
        text(&refused.stderr)
    );
    assert!(!out.path().join("presentations.txt").exists());
    assert!(!out.path().join("presentation-codes.txt").exists());
    #[derive(diesel::QueryableByName)]
    struct Written {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
    }
    let mut conn = app.connect().await;
    let written: Written = diesel::sql_query(
        "SELECT (SELECT count(*) FROM verification_nonces) + (SELECT count(*) FROM presentation_codes)
              + (SELECT count(*) FROM cards WHERE holder_jkt IS NOT NULL) AS rows",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(written.rows, 0);
}

/// `talentcard verify` exits as its help and the README say: 2 when the material cannot be
/// read or is not what it claims (a missing file, a platform key that is not a JWK, one without
/// `x`), never 1, which means "this credential is not valid". No configuration is needed.
#[test]
fn verify_exits_2_when_its_material_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let (key, trust, list) = (
        dir.path().join("platform.jwk"),
        dir.path().join("trust.jws"),
        dir.path().join("xa.jws"),
    );
    let run = |key: &std::path::Path, trust: &std::path::Path, list: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_talentcard"))
            .arg("verify")
            .arg("--platform-key")
            .arg(key)
            .arg("--trust-list")
            .arg(trust)
            .arg("--status-list")
            .arg(list)
            .arg("not.a.credential~")
            .output()
            .expect("run")
    };
    let missing = run(&key, &trust, &list);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
    assert!(
        text(&missing.stderr).contains("could not read")
            && text(&missing.stderr).contains("platform.jwk"),
        "{}",
        text(&missing.stderr)
    );
    assert!(missing.stdout.is_empty(), "no verdict is printed");

    std::fs::write(&key, "not json").unwrap();
    let not_a_jwk = run(&key, &trust, &list);
    assert_eq!(not_a_jwk.status.code(), Some(2));
    assert!(text(&not_a_jwk.stderr).contains("not a JWK"));

    std::fs::write(&key, r#"{"kty":"OKP"}"#).unwrap();
    let no_x = run(&key, &trust, &list);
    assert_eq!(no_x.status.code(), Some(2));
    assert!(text(&no_x.stderr).contains("has no x"));

    // A key that reads, but a trust list and a status list that do not exist.
    std::fs::write(&key, r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#).unwrap();
    for (trust_file, list_file, named) in [(&trust, &list, "trust.jws"), (&key, &list, "xa.jws")] {
        let unread = run(&key, trust_file, list_file);
        assert_eq!(unread.status.code(), Some(2), "{named}");
        assert!(
            text(&unread.stderr).contains(named),
            "{}",
            text(&unread.stderr)
        );
    }
}

/// `talentcard seed` with nothing to load is a usage error: the usage on standard error, exit
/// 2, and no database touched (the URL given points nowhere). So is a count of zero.
#[test]
fn seed_without_anything_to_load_prints_its_usage_and_exits_2() {
    let nowhere = "postgres://postgres@127.0.0.1:1/nothing";
    for (args, says) in [
        (&["seed"][..], "Usage: talentcard seed"),
        (&["seed", "--out", "target/seed"], "Usage: talentcard seed"),
        (
            &["seed", "--cards", "0"],
            "'--cards <CARDS>': must be 1 or more",
        ),
        (&["seed", "--applications", "0"], "must be 1 or more"),
        (&["seed", "--presentations", "0"], "must be 1 or more"),
        (
            &["seed", "--presentations", "3"],
            "--agency-client <AGENCY_CLIENT>",
        ),
    ] {
        let output = talentcard(nowhere, args, "");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stderr).contains(says),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
