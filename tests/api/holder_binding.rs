//! Holder binding (issue 18): the nonce endpoint, binding a card to a wallet key with an
//! OpenID4VCI proof (ES256 and EdDSA), `cnf.jwk` in the credentials fetched afterwards, every
//! refusal with nothing written, rebinding audited, expired nonces swept, and the offline
//! verifier's check of a key-binding JWT. [`Wallet`] and [`key_binding_jwt`] sign as a holder's
//! wallet would, for the verification tests too.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use talentcard::clock::Clock;
use talentcard::credentials::holder_key::HolderJwk;
use talentcard::credentials::key_binding;

use crate::cards::{Issued, credential, issue_card};
use crate::helpers::{TestApp, problem, spawn_app};
use crate::users::TestUser;

/// A holder's wallet key of either supported type.
pub enum Wallet {
    /// ES256.
    P256(p256::ecdsa::SigningKey),
    /// EdDSA.
    Ed25519(ed25519_dalek::SigningKey),
}

impl Wallet {
    /// A P-256 key from a fixed scalar.
    pub fn p256(seed: u8) -> Self {
        let mut bytes = [seed; 32];
        bytes[0] = 1;
        Wallet::P256(p256::ecdsa::SigningKey::from_slice(&bytes).unwrap())
    }

    /// An Ed25519 key from a fixed seed.
    pub fn ed25519(seed: u8) -> Self {
        Wallet::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    /// Its JOSE `alg`.
    pub fn alg(&self) -> &'static str {
        match self {
            Wallet::P256(_) => "ES256",
            Wallet::Ed25519(_) => "EdDSA",
        }
    }

    /// Its public JWK.
    pub fn jwk(&self) -> Value {
        match self {
            Wallet::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                json!({ "kty": "EC", "crv": "P-256",
                        "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
                        "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]) })
            }
            Wallet::Ed25519(key) => json!({ "kty": "OKP", "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()) }),
        }
    }

    /// Signs a compact JWS of `header` and `claims`.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match self {
            Wallet::P256(key) => {
                use p256::ecdsa::signature::Signer;
                let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
            Wallet::Ed25519(key) => {
                use ed25519_dalek::Signer;
                key.sign(input.as_bytes()).to_bytes().to_vec()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// An OpenID4VCI proof with these claims.
    pub fn proof(&self, claims: &Value) -> String {
        let header = json!({ "typ": "openid4vci-proof+jwt", "alg": self.alg(), "jwk": self.jwk() });
        self.sign(&header, claims)
    }
}

/// `credential` (an SD-JWT ending in `~`) presented with a KB-JWT of `wallet` for `aud` over
/// `nonce`, signed at `iat`.
pub fn key_binding_jwt(
    wallet: &Wallet,
    credential: &str,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> String {
    let claims = json!({ "iat": iat, "aud": aud, "nonce": nonce,
                         "sd_hash": key_binding::sd_hash(credential) });
    let kb = wallet.sign(&json!({ "typ": "kb+jwt", "alg": wallet.alg() }), &claims);
    format!("{credential}{kb}")
}

/// The `iss` of the app's XA credentials: the `aud` a proof for an XA card must carry.
pub fn xa_issuer(app: &TestApp) -> String {
    talentcard::credentials::token::issuer_url(&app.settings.application.public_base_url, "XA")
}

/// A fresh nonce for `talent`.
pub async fn nonce(app: &TestApp, talent: &TestUser) -> String {
    let response = app
        .post_json("/api/v1/nonce", &json!({}), Some(&talent.access))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["c_nonce"].as_str().unwrap().to_owned()
}

/// `PUT /cards/{id}/holder-key` with `proof`.
pub async fn bind(app: &TestApp, talent: &TestUser, card: &str, proof: &str) -> reqwest::Response {
    let body = json!({ "proof": proof });
    app.send(
        "PUT",
        &format!("/api/v1/cards/{card}/holder-key"),
        &talent.access,
        Some(&body),
    )
    .await
}

/// Binds `wallet` to the card with a fresh nonce; returns the answered `jkt`.
pub async fn bind_wallet(app: &TestApp, issued: &Issued, wallet: &Wallet) -> String {
    let nonce = nonce(app, &issued.talent).await;
    let claims =
        json!({ "aud": xa_issuer(app), "iat": app.clock.now().timestamp(), "nonce": nonce });
    let response = bind(app, &issued.talent, issued.id(), &wallet.proof(&claims)).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    body["jkt"].as_str().unwrap().to_owned()
}

fn claims_of(credential: &str) -> Value {
    let jws = credential.split('~').next().unwrap();
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn bound_jkt(conn: &mut AsyncPgConnection, card: &str) -> Option<String> {
    let row: Row = diesel::sql_query("SELECT holder_jkt AS text FROM cards WHERE id = $1::uuid")
        .bind::<Text, _>(card)
        .get_result(conn)
        .await
        .unwrap();
    row.text
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql).get_result(conn).await.unwrap();
    row.n
}

/// A card of a new holder and the XA official who issued it.
async fn card(app: &TestApp, n: u32) -> Issued {
    let official = app
        .staff(&format!("xa{n}@example.cn"), "official", Some("XA"))
        .await;
    issue_card(app, &official, n).await
}

#[tokio::test]
async fn a_talent_gets_at_most_ten_nonces_a_minute() {
    let app = spawn_app().await;
    let talent = app.talent("nonces@example.cn").await;
    for _ in 0..10 {
        nonce(&app, &talent).await;
    }
    let refused = app
        .post_json("/api/v1/nonce", &json!({}), Some(&talent.access))
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    problem(refused, 429, "rate_limited").await;
    let mut conn = app.connect().await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM holder_nonces").await,
        10
    );
    app.clock.advance(Duration::minutes(1));
    nonce(&app, &talent).await;
}

#[tokio::test]
async fn the_nonce_endpoint_gives_talent_a_single_use_nonce_stored_hashed() {
    let app = spawn_app().await;
    let talent = app.talent("wallet@example.cn").await;
    let response = app
        .post_json("/api/v1/nonce", &json!({}), Some(&talent.access))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let nonce = body["c_nonce"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(nonce).unwrap().len(), 32, "256 bits");
    assert_eq!(body["expires_in"], 300);
    assert_ne!(
        nonce,
        self::nonce(&app, &talent).await,
        "a new one each time"
    );
    let mut conn = app.connect().await;
    let hash = talentcard::crypto::random::sha256_hex(nonce);
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM holder_nonces WHERE nonce_hash = '{hash}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM holder_nonces WHERE nonce_hash = '{nonce}'")
        )
        .await,
        0,
        "never the nonce itself"
    );
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let refused = app
        .post_json("/api/v1/nonce", &json!({}), Some(&official.access))
        .await;
    problem(refused, 403, "forbidden").await;
    let anonymous = app.post_json("/api/v1/nonce", &json!({}), None).await;
    problem(anonymous, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_bound_key_of_either_algorithm_appears_as_cnf_with_the_answered_thumbprint() {
    let app = spawn_app().await;
    for (n, wallet) in [(1, Wallet::p256(21)), (2, Wallet::ed25519(22))] {
        let issued = card(&app, n).await;
        let before = credential(&app, &issued).await;
        assert!(claims_of(&before).get("cnf").is_none(), "unbound: no cnf");
        let jkt = bind_wallet(&app, &issued, &wallet).await;
        let after = credential(&app, &issued).await;
        let cnf = &claims_of(&after)["cnf"]["jwk"];
        assert_eq!(*cnf, wallet.jwk(), "{}", wallet.alg());
        let jwk = HolderJwk::from_value(cnf).unwrap();
        assert_eq!(jwk.thumbprint(), jkt);
        let mut conn = app.connect().await;
        assert_eq!(
            bound_jkt(&mut conn, issued.id()).await.as_deref(),
            Some(jkt.as_str())
        );
        // The wallet can now present it with key binding.
        let now = app.clock.now().timestamp();
        let presented = key_binding_jwt(&wallet, &after, "agency-1", "v-nonce", now);
        let claims = key_binding::verify_key_binding(&presented, &jwk, "agency-1", now).unwrap();
        assert_eq!(claims.nonce, "v-nonce");
    }
}

/// Binding with `claims` (and `header` edits to the proof) is refused with 422 on `proof`
/// naming `expect`, and nothing is written.
async fn refused(app: &TestApp, issued: &Issued, proof: &str, expect: &str) {
    let response = bind(app, &issued.talent, issued.id(), proof).await;
    let body = problem(response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "proof", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(expect), "{message} should name {expect}");
    let mut conn = app.connect().await;
    assert_eq!(
        bound_jkt(&mut conn, issued.id()).await,
        None,
        "no key stored"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'card.holder_key_bound'"
        )
        .await,
        0,
        "nothing audited"
    );
}

async fn refusal_case(
    n: u32,
    make: impl AsyncFnOnce(&TestApp, &Issued, &Wallet) -> String,
    expect: &str,
) {
    let app = spawn_app().await;
    let issued = card(&app, n).await;
    let wallet = Wallet::p256(30 + n as u8);
    let proof = make(&app, &issued, &wallet).await;
    refused(&app, &issued, &proof, expect).await;
}

fn good_claims(app: &TestApp, nonce: &str) -> Value {
    json!({ "aud": xa_issuer(app), "iat": app.clock.now().timestamp(), "nonce": nonce })
}

#[tokio::test]
async fn a_proof_for_another_audience_is_refused() {
    refusal_case(
        1,
        async |app, issued, wallet| {
            let mut claims = good_claims(app, &nonce(app, &issued.talent).await);
            claims["aud"] = json!(talentcard::credentials::token::issuer_url(
                &app.settings.application.public_base_url,
                "TZ"
            ));
            wallet.proof(&claims)
        },
        "aud",
    )
    .await;
}

#[tokio::test]
async fn a_proof_to_the_legacy_urn_issuer_is_refused() {
    refusal_case(
        2,
        async |app, issued, wallet| {
            let mut claims = good_claims(app, &nonce(app, &issued.talent).await);
            claims["aud"] = json!("urn:talentcard:issuer:XA");
            wallet.proof(&claims)
        },
        "aud",
    )
    .await;
}

#[tokio::test]
async fn a_stale_proof_is_refused() {
    refusal_case(
        3,
        async |app, issued, wallet| {
            let mut claims = good_claims(app, &nonce(app, &issued.talent).await);
            claims["iat"] = json!(app.clock.now().timestamp() - 301);
            wallet.proof(&claims)
        },
        "iat",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_nonce_is_refused() {
    refusal_case(
        4,
        async |app, _, wallet| {
            wallet.proof(&good_claims(app, &talentcard::crypto::random::token("")))
        },
        "nonce",
    )
    .await;
}

#[tokio::test]
async fn another_accounts_nonce_is_refused() {
    refusal_case(
        5,
        async |app, _, wallet| {
            let other = app.talent("other@example.cn").await;
            wallet.proof(&good_claims(app, &nonce(app, &other).await))
        },
        "nonce",
    )
    .await;
}

#[tokio::test]
async fn an_expired_nonce_is_refused() {
    refusal_case(
        6,
        async |app, issued, wallet| {
            let nonce = nonce(app, &issued.talent).await;
            app.clock.advance(Duration::seconds(301));
            wallet.proof(&good_claims(app, &nonce))
        },
        "nonce",
    )
    .await;
}

#[tokio::test]
async fn a_private_key_in_the_jwk_is_refused() {
    refusal_case(
        7,
        async |app, issued, wallet| {
            let mut jwk = wallet.jwk();
            jwk["d"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
            let header = json!({ "typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jwk });
            wallet.sign(
                &header,
                &good_claims(app, &nonce(app, &issued.talent).await),
            )
        },
        "private key",
    )
    .await;
}

#[tokio::test]
async fn unsupported_algorithms_are_refused() {
    let app = spawn_app().await;
    let issued = card(&app, 8).await;
    let wallet = Wallet::p256(38);
    let claims = good_claims(&app, &nonce(&app, &issued.talent).await);
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    // `alg: none`, unsigned.
    let header = json!({ "typ": "openid4vci-proof+jwt", "alg": "none", "jwk": wallet.jwk() });
    let none = format!("{}.{}.", b64(&header), b64(&claims));
    refused(&app, &issued, &none, "alg").await;
    // HS256 "signed" with the public key's bytes as the secret (the classic confusion).
    let header = json!({ "typ": "openid4vci-proof+jwt", "alg": "HS256", "jwk": wallet.jwk() });
    let hs = {
        use hmac::Mac;
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(
            wallet.jwk()["x"].as_str().unwrap().as_bytes(),
        )
        .unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    };
    refused(&app, &issued, &hs, "alg").await;
    // EdDSA named over a P-256 key.
    let header = json!({ "typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": wallet.jwk() });
    refused(&app, &issued, &wallet.sign(&header, &claims), "alg").await;
    // The nonce was never consumed by the refusals: the right proof over it binds.
    let response = bind(&app, &issued.talent, issued.id(), &wallet.proof(&claims)).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_nonce_binds_once() {
    let app = spawn_app().await;
    let issued = card(&app, 9).await;
    let wallet = Wallet::ed25519(39);
    let proof = wallet.proof(&good_claims(&app, &nonce(&app, &issued.talent).await));
    assert_eq!(
        bind(&app, &issued.talent, issued.id(), &proof)
            .await
            .status()
            .as_u16(),
        200
    );
    let again = bind(&app, &issued.talent, issued.id(), &proof).await;
    let body = problem(again, 422, "validation_failed").await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nonce"),
        "{body}"
    );
    let mut conn = app.connect().await;
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'card.holder_key_bound'"
        )
        .await,
        1,
        "the replay wrote nothing"
    );
}

#[tokio::test]
async fn racing_bindings_over_one_nonce_yield_one_success() {
    let app = spawn_app().await;
    let issued = card(&app, 10).await;
    let nonce = nonce(&app, &issued.talent).await;
    let (a, b) = (Wallet::p256(40), Wallet::ed25519(41));
    let (pa, pb) = (
        a.proof(&good_claims(&app, &nonce)),
        b.proof(&good_claims(&app, &nonce)),
    );
    let (ra, rb) = tokio::join!(
        bind(&app, &issued.talent, issued.id(), &pa),
        bind(&app, &issued.talent, issued.id(), &pb)
    );
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 422]);
}

#[tokio::test]
async fn another_holders_card_is_not_found_and_staff_are_forbidden() {
    let app = spawn_app().await;
    let issued = card(&app, 11).await;
    let stranger = app.talent("stranger@example.cn").await;
    let wallet = Wallet::p256(42);
    let proof = wallet.proof(&good_claims(&app, &nonce(&app, &stranger).await));
    problem(
        bind(&app, &stranger, issued.id(), &proof).await,
        404,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    problem(
        bind(&app, &stranger, &unknown, &proof).await,
        404,
        "not_found",
    )
    .await;
    let official = app
        .staff("xa-other@example.cn", "official", Some("XA"))
        .await;
    problem(
        bind(&app, &official, issued.id(), &proof).await,
        403,
        "forbidden",
    )
    .await;
    let mut conn = app.connect().await;
    assert_eq!(bound_jkt(&mut conn, issued.id()).await, None);
}

#[tokio::test]
async fn a_revoked_card_takes_no_key() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 12).await;
    let revoked = app
        .post_json(
            &format!("/api/v1/cards/{}/revoke", issued.id()),
            &json!({ "reason_code": "holder_request" }),
            Some(&official.access),
        )
        .await;
    assert_eq!(revoked.status().as_u16(), 200);
    let wallet = Wallet::p256(43);
    let proof = wallet.proof(&good_claims(&app, &nonce(&app, &issued.talent).await));
    problem(
        bind(&app, &issued.talent, issued.id(), &proof).await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn rebinding_replaces_the_key_and_is_audited() {
    let app = spawn_app().await;
    let issued = card(&app, 13).await;
    let (first, second) = (Wallet::p256(44), Wallet::ed25519(45));
    let jkt1 = bind_wallet(&app, &issued, &first).await;
    let jkt2 = bind_wallet(&app, &issued, &second).await;
    assert_ne!(jkt1, jkt2);
    assert_eq!(
        claims_of(&credential(&app, &issued).await)["cnf"]["jwk"],
        second.jwk()
    );
    let mut conn = app.connect().await;
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT detail::text AS text FROM audit_log WHERE action = 'card.holder_key_bound' \
         AND entity_type = 'card' AND entity_id = $1 ORDER BY seq",
    )
    .bind::<Text, _>(issued.id())
    .load(&mut conn)
    .await
    .unwrap();
    let details: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str(r.text.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(
        details,
        vec![
            json!({ "jkt": jkt1, "previous_jkt": null }),
            json!({ "jkt": jkt2, "previous_jkt": jkt1 }),
        ]
    );
}

#[tokio::test]
async fn expired_holder_nonces_are_swept() {
    use talentcard::models::sweep;
    let app = spawn_app().await;
    let talent = app.talent("sweep@example.cn").await;
    for _ in 0..3 {
        nonce(&app, &talent).await;
    }
    app.clock.advance(Duration::seconds(301));
    let live = nonce(&app, &talent).await;
    let mut conn = app.connect().await;
    let policy = talentcard::startup::sweep_policy(&app.settings, app.clock.now());
    let report = sweep::run(&mut conn, policy).await.unwrap().unwrap();
    assert_eq!(report.holder_nonces, 3);
    let hash = talentcard::crypto::random::sha256_hex(&live);
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM holder_nonces").await,
        1
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM holder_nonces WHERE nonce_hash = '{hash}'")
        )
        .await,
        1,
        "the live nonce stays"
    );
}

#[tokio::test]
async fn the_offline_verifier_checks_the_key_binding_jwt() {
    use talentcard::credentials::offline;
    let app = spawn_app().await;
    let issued = card(&app, 14).await;
    let wallet = Wallet::p256(46);
    bind_wallet(&app, &issued, &wallet).await;
    let credential = credential(&app, &issued).await;
    let platform = talentcard::credentials::platform_key::PlatformKey::from_settings(
        &crate::helpers::test_settings(),
    )
    .unwrap();
    let trust = app
        .get("/api/v1/trust-list.jws")
        .await
        .text()
        .await
        .unwrap();
    let status = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let presented = key_binding_jwt(&wallet, &credential, "agency-7", "n-7", now.timestamp());
    let challenge = offline::Challenge {
        audience: "agency-7",
        nonce: "n-7",
    };
    let freshness = offline::Freshness::strict(Duration::days(1));
    let check = |input: &str, challenge| {
        offline::verify_presentation(
            &platform.x,
            &trust,
            &[&status],
            input,
            challenge,
            now,
            freshness,
        )
        .unwrap()
    };
    let good = check(&presented, challenge);
    assert!(good.valid && good.holder_bound, "{good:?}");
    for (input, challenge, why) in [
        (
            presented.as_str(),
            offline::Challenge {
                audience: "agency-8",
                nonce: "n-7",
            },
            "audience",
        ),
        (
            presented.as_str(),
            offline::Challenge {
                audience: "agency-7",
                nonce: "n-8",
            },
            "nonce",
        ),
        (credential.as_str(), challenge, "no KB-JWT"),
    ] {
        let verdict = check(input, challenge);
        assert_eq!(
            (verdict.valid, verdict.holder_bound, verdict.status.as_str()),
            (false, false, "holder_binding_failed"),
            "{why}"
        );
    }
    let stale = key_binding_jwt(
        &wallet,
        &credential,
        "agency-7",
        "n-7",
        now.timestamp() - 301,
    );
    assert_eq!(check(&stale, challenge).status, "holder_binding_failed");
    let thief = key_binding_jwt(
        &Wallet::p256(47),
        &credential,
        "agency-7",
        "n-7",
        now.timestamp(),
    );
    assert_eq!(check(&thief, challenge).status, "holder_binding_failed");
    // Without a challenge the bare credential verifies as before, not holder-bound.
    let bare =
        offline::verify(&platform.x, &trust, &[&status], &credential, now, freshness).unwrap();
    assert!(bare.valid && !bare.holder_bound);

    // The same through the command line: 0 for the bound presentation, 1 otherwise.
    let dir = tempfile::tempdir().unwrap();
    let (key_file, trust_file, status_file) = (
        dir.path().join("platform.jwk"),
        dir.path().join("trust.jws"),
        dir.path().join("xa.jws"),
    );
    std::fs::write(&key_file, platform.jwk().to_string()).unwrap();
    std::fs::write(&trust_file, &trust).unwrap();
    std::fs::write(&status_file, &status).unwrap();
    let run = |input: &str, nonce: &str| {
        Command::new(env!("CARGO_BIN_EXE_talentcard"))
            .args(["verify", "--platform-key"])
            .arg(&key_file)
            .arg("--trust-list")
            .arg(&trust_file)
            .arg("--status-list")
            .arg(&status_file)
            .args([
                "--grace-secs",
                "86400",
                "--audience",
                "agency-7",
                "--nonce",
                nonce,
            ])
            .arg(input)
            .output()
            .unwrap()
    };
    let fresh = key_binding_jwt(
        &wallet,
        &credential,
        "agency-7",
        "n-9",
        chrono::Utc::now().timestamp(),
    );
    let ok = run(&fresh, "n-9");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let printed: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(printed["holder_bound"], true);
    let wrong = run(&fresh, "n-10");
    assert_eq!(wrong.status.code(), Some(1), "another nonce: not valid");
    let printed: Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert_eq!(printed["status"], "holder_binding_failed");
    assert_eq!(
        run(&credential, "n-9").status.code(),
        Some(1),
        "a bare credential is not a presentation"
    );
    // --audience without --nonce is a usage error.
    let usage = Command::new(env!("CARGO_BIN_EXE_talentcard"))
        .args([
            "verify",
            "--platform-key",
            "k",
            "--trust-list",
            "t",
            "--status-list",
            "s",
            "--audience",
            "a",
            "c",
        ])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
