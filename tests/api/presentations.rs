//! `POST /verifications` with a presentation (credential + KB-JWT from the holder's wallet) or a
//! dynamic code: `holder_bound: true` once, then `replayed`; every way a presentation can fail
//! to prove the holder is `holder_binding_failed`; a code's card answers its own status; a rule
//! that insists on holder binding redeems with such a presentation; and of 20 concurrent checks
//! of one code or one nonce across two instances, exactly one succeeds.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use talentcard::clock::Clock;
use uuid::Uuid;

use crate::cards::{Issued, credential, issue_card};
use crate::helpers::{TestApp, problem, second_instance, spawn_app, spawn_app_with};
use crate::holder_binding::{Wallet, bind_wallet, key_binding_jwt};
use crate::users::TestUser;

/// An XA card, its holder's wallet bound (or not), and a Xiongan agency.
struct Counter {
    official: TestUser,
    issued: Issued,
    admin: TestUser,
    /// The agency's client id: the `aud` of its presentations.
    client_id: String,
    token: String,
}

async fn counter(app: &TestApp) -> Counter {
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(app, &official, 1).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let services = ["annual_health_check", "tourism_pass"];
    let (_, client_id, _, token) = app.agency(&admin, "xiongan", &services).await;
    Counter {
        official,
        issued,
        admin,
        client_id,
        token,
    }
}

async fn verify(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app
        .post_json("/api/v1/verifications", &body, Some(token))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn code(app: &TestApp, issued: &Issued) -> String {
    let path = format!("/api/v1/cards/{}/presentation-code", issued.id());
    let response = app
        .post_json(&path, &json!({}), Some(&issued.talent.access))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    body["code"].as_str().unwrap().to_owned()
}

async fn agency_nonce(app: &TestApp, token: &str) -> String {
    let response = app
        .post_json("/api/v1/verifications/nonce", &json!({}), Some(token))
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    body["nonce"].as_str().unwrap().to_owned()
}

/// The holder's wallet bound, and the credential (with `cnf`) fetched afterwards.
async fn bound(app: &TestApp, c: &Counter, wallet: &Wallet) -> String {
    bind_wallet(app, &c.issued, wallet).await;
    credential(app, &c.issued).await
}

fn now(app: &TestApp) -> i64 {
    app.clock.now().timestamp()
}

fn refused(answer: &Value, status: &str) {
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(answer["status"], status, "{answer}");
    assert_eq!(answer["holder_bound"], false, "{answer}");
    assert!(answer["presentation_id"].is_null(), "{answer}");
}

async fn holder_log(app: &TestApp, issued: &Issued) -> Value {
    let path = format!("/api/v1/cards/{}/verifications", issued.id());
    app.get_as(&path, &issued.talent.access)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_dynamic_code_proves_the_holder_once() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let code = code(&app, &c.issued).await;
    let first = verify(&app, &c.token, json!({ "presentation_code": code })).await;
    assert_eq!(first["valid"], true, "{first}");
    assert_eq!(first["holder_bound"], true, "{first}");
    assert_eq!(first["card"]["number"], c.issued.number());
    assert!(first["presentation_id"].is_string(), "{first}");

    let again = verify(&app, &c.token, json!({ "presentation_code": code })).await;
    refused(&again, "replayed");
    assert!(again["card"].is_null(), "{again}");

    let log = holder_log(&app, &c.issued).await;
    assert_eq!(log["items"][0]["method"], "presentation_code", "{log}");
    assert_eq!(log["items"][0]["holder_bound"], true, "{log}");
}

#[tokio::test]
async fn a_dynamic_code_shown_late_has_expired() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let code = code(&app, &c.issued).await;
    app.clock.advance(Duration::seconds(61));
    let late = verify(&app, &c.token, json!({ "presentation_code": code })).await;
    refused(&late, "code_expired");
}

#[tokio::test]
async fn an_unknown_code_is_unknown_and_a_malformed_one_is_422() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let made_up = talentcard::credentials::presentation_code::PresentationCode::generate();
    let unknown = verify(
        &app,
        &c.token,
        json!({ "presentation_code": made_up.as_str() }),
    )
    .await;
    refused(&unknown, "unknown");
    let response = app
        .post_json(
            "/api/v1/verifications",
            &json!({ "presentation_code": "TC1:not-a-code" }),
            Some(&c.token),
        )
        .await;
    let body = problem(response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "presentation_code");
    let both = app
        .post_json(
            "/api/v1/verifications",
            &json!({ "presentation_code": made_up.as_str(), "card_number": c.issued.number() }),
            Some(&c.token),
        )
        .await;
    problem(both, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_code_of_a_suspended_card_verifies_as_suspended() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let code = code(&app, &c.issued).await;
    let path = format!("/api/v1/cards/{}/suspend", c.issued.id());
    let suspended = app
        .post_json(
            &path,
            &json!({ "reason_code": "under_investigation" }),
            Some(&c.official.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    let answer = verify(&app, &c.token, json!({ "presentation_code": code })).await;
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(answer["status"], "suspended", "{answer}");
    assert!(answer["presentation_id"].is_null(), "{answer}");
}

#[tokio::test]
async fn a_wallet_presentation_proves_the_holder_and_its_nonce_replays() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    for wallet in [Wallet::p256(7), Wallet::ed25519(9)] {
        let credential = bound(&app, &c, &wallet).await;
        let nonce = agency_nonce(&app, &c.token).await;
        let presentation = key_binding_jwt(&wallet, &credential, &c.client_id, &nonce, now(&app));
        let first = verify(&app, &c.token, json!({ "presentation": presentation })).await;
        assert_eq!(first["valid"], true, "{} {first}", wallet.alg());
        assert_eq!(first["holder_bound"], true, "{first}");
        assert!(first["presentation_id"].is_string(), "{first}");
        let again = verify(&app, &c.token, json!({ "presentation": presentation })).await;
        refused(&again, "replayed");
    }
    let log = holder_log(&app, &c.issued).await;
    assert_eq!(log["items"][1]["method"], "presentation", "{log}");
    assert_eq!(log["items"][1]["holder_bound"], true, "{log}");
    // A bound card shown as a bare credential still verifies, not holder-bound.
    let credential = credential(&app, &c.issued).await;
    let bare = verify(&app, &c.token, json!({ "credential": credential })).await;
    assert_eq!(
        (bare["valid"].clone(), bare["holder_bound"].clone()),
        (json!(true), json!(false))
    );
}

/// A presentation of the bound card that fails one way: `make` gets the wallet, the credential
/// with `cnf`, a fresh nonce of the agency and the agency's client id.
async fn fails_binding(make: impl FnOnce(&Wallet, &str, &str, &str, i64) -> String) {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let wallet = Wallet::ed25519(11);
    let credential = bound(&app, &c, &wallet).await;
    let nonce = agency_nonce(&app, &c.token).await;
    let presentation = make(&wallet, &credential, &nonce, &c.client_id, now(&app));
    let answer = verify(&app, &c.token, json!({ "presentation": presentation })).await;
    refused(&answer, "holder_binding_failed");
}

#[tokio::test]
async fn a_presentation_for_another_agency_fails() {
    fails_binding(|w, cred, nonce, _, iat| {
        key_binding_jwt(w, cred, &Uuid::now_v7().to_string(), nonce, iat)
    })
    .await;
}

#[tokio::test]
async fn a_presentation_with_an_unknown_nonce_fails() {
    fails_binding(|w, cred, _, aud, iat| key_binding_jwt(w, cred, aud, "made-up-nonce", iat)).await;
}

#[tokio::test]
async fn a_stale_presentation_fails() {
    fails_binding(|w, cred, nonce, aud, iat| key_binding_jwt(w, cred, aud, nonce, iat - 301)).await;
}

#[tokio::test]
async fn a_presentation_signed_by_another_key_fails() {
    fails_binding(|_, cred, nonce, aud, iat| {
        key_binding_jwt(&Wallet::ed25519(12), cred, aud, nonce, iat)
    })
    .await;
}

#[tokio::test]
async fn a_presentation_whose_sd_hash_covers_other_disclosures_fails() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let wallet = Wallet::ed25519(18);
    bind_wallet(&app, &c.issued, &wallet).await;
    // Signed over the credential with the name disclosed, then shown without the disclosure.
    let path = format!(
        "/api/v1/cards/{}/credential?disclose=holder_name",
        c.issued.id()
    );
    let disclosed: Value = app
        .get_as(&path, &c.issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    let disclosed = disclosed["credential"].as_str().unwrap();
    let nonce = agency_nonce(&app, &c.token).await;
    let signed = key_binding_jwt(&wallet, disclosed, &c.client_id, &nonce, now(&app));
    let kb = signed.rsplit('~').next().unwrap();
    let jws = disclosed.split('~').next().unwrap();
    let presentation = format!("{jws}~{kb}");
    let answer = verify(&app, &c.token, json!({ "presentation": presentation })).await;
    refused(&answer, "holder_binding_failed");
}

#[tokio::test]
async fn a_presentation_of_an_unbound_card_fails() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let credential = credential(&app, &c.issued).await;
    let nonce = agency_nonce(&app, &c.token).await;
    let wallet = Wallet::ed25519(13);
    let presentation = key_binding_jwt(&wallet, &credential, &c.client_id, &nonce, now(&app));
    let answer = verify(&app, &c.token, json!({ "presentation": presentation })).await;
    refused(&answer, "holder_binding_failed");
}

#[tokio::test]
async fn a_presentation_with_another_agencys_nonce_fails() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let wallet = Wallet::ed25519(14);
    let credential = bound(&app, &c, &wallet).await;
    let (_, _, _, other) = app.agency(&c.admin, "xiongan", &["tourism_pass"]).await;
    let theirs = agency_nonce(&app, &other).await;
    let presentation = key_binding_jwt(&wallet, &credential, &c.client_id, &theirs, now(&app));
    let answer = verify(&app, &c.token, json!({ "presentation": presentation })).await;
    refused(&answer, "holder_binding_failed");
}

#[tokio::test]
async fn a_credential_of_a_replaced_key_no_longer_proves_the_holder() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let lost = Wallet::p256(15);
    let old_credential = bound(&app, &c, &lost).await;
    bound(&app, &c, &Wallet::p256(16)).await;
    let nonce = agency_nonce(&app, &c.token).await;
    let presentation = key_binding_jwt(&lost, &old_credential, &c.client_id, &nonce, now(&app));
    let answer = verify(&app, &c.token, json!({ "presentation": presentation })).await;
    refused(&answer, "holder_binding_failed");
}

#[tokio::test]
async fn a_presentation_without_a_key_binding_jwt_is_422() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let credential = credential(&app, &c.issued).await;
    let response = app
        .post_json(
            "/api/v1/verifications",
            &json!({ "presentation": credential }),
            Some(&c.token),
        )
        .await;
    let body = problem(response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "presentation");
}

#[tokio::test]
async fn a_rule_that_insists_redeems_with_a_code_and_refuses_a_photo() {
    let app = spawn_app().await;
    let c = counter(&app).await;
    let rules = json!({ "rules": [
        { "local_tier": "B", "district": "xiongan", "service": "annual_health_check", "quota": 1,
          "period": "year", "holder_binding": "required" }
    ] });
    app.publish_entitlements(&c.admin, &rules).await;
    let redeem = |presentation: Value| {
        let body = json!({ "presentation_id": presentation, "service": "annual_health_check" });
        let app = &app;
        let token = c.token.clone();
        async move {
            app.post_json("/api/v1/redemptions", &body, Some(&token))
                .await
        }
    };
    let photo = credential(&app, &c.issued).await;
    let shown = verify(&app, &c.token, json!({ "credential": photo })).await;
    problem(
        redeem(shown["presentation_id"].clone()).await,
        422,
        "holder_binding_required",
    )
    .await;
    let code = code(&app, &c.issued).await;
    let proved = verify(&app, &c.token, json!({ "presentation_code": code })).await;
    assert_eq!(proved["entitlements"][0]["holder_binding"], "required");
    let done = redeem(proved["presentation_id"].clone()).await;
    assert_eq!(done.status().as_u16(), 201);
}

/// 20 checks at once, 10 to each of two instances; the answers' statuses.
async fn race(apps: [&TestApp; 2], token: &str, body: Value) -> Vec<String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = apps[i % 2].client.clone();
        let url = format!("{}/api/v1/verifications", apps[i % 2].address);
        let (token, body, barrier) = (token.to_owned(), body.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let answer: Value = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["status"]
                .as_str()
                .map_or_else(|| answer.to_string(), str::to_owned)
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_checks_of_one_code_or_nonce_on_two_instances_succeed_once() {
    let app = spawn_app_with(|s| s.database.pool_size = 10).await;
    let twin = second_instance(&app).await;
    let c = counter(&app).await;
    // Issuing the card moved the first instance's clock; the twin keeps the same time.
    twin.clock.advance(app.clock.now() - twin.clock.now());
    let mut expected = vec!["active".to_owned()];
    expected.extend(std::iter::repeat_n("replayed".to_owned(), 19));

    let code = code(&app, &c.issued).await;
    let statuses = race(
        [&app, &twin],
        &c.token,
        json!({ "presentation_code": code }),
    )
    .await;
    assert_eq!(statuses, expected);

    let wallet = Wallet::ed25519(17);
    let credential = bound(&app, &c, &wallet).await;
    let nonce = agency_nonce(&app, &c.token).await;
    let presentation = key_binding_jwt(&wallet, &credential, &c.client_id, &nonce, now(&app));
    let statuses = race(
        [&app, &twin],
        &c.token,
        json!({ "presentation": presentation }),
    )
    .await;
    assert_eq!(statuses, expected);
}

/// The QR codes a counter scans, at level M as `credentials::qr` makes them: a dynamic code must
/// fit version 4 (read from a phone screen at arm's length); a wallet's presentation carries the
/// credential, its `cnf` key and a KB-JWT, and is printed by the test for the record.
#[tokio::test]
async fn a_code_fits_qr_version_4_and_a_presentation_fits_a_phone_screen() {
    use talentcard::credentials::qr;
    let app = spawn_app().await;
    let c = counter(&app).await;
    let code = code(&app, &c.issued).await;
    let code_version = qr::version(&qr::encode(&code).unwrap());
    assert!(
        code_version <= 4,
        "a dynamic code needs QR version {code_version}"
    );
    let bare = credential(&app, &c.issued).await;
    let bare_version = qr::version(&qr::encode(&bare).unwrap());
    for wallet in [Wallet::ed25519(19), Wallet::p256(20)] {
        let credential = bound(&app, &c, &wallet).await;
        let nonce = agency_nonce(&app, &c.token).await;
        let presentation = key_binding_jwt(&wallet, &credential, &c.client_id, &nonce, now(&app));
        let version = qr::version(&qr::encode(&presentation).unwrap());
        println!(
            "QR at level M: code {} chars v{code_version}; credential {} bytes v{bare_version}; \
             {} presentation {} bytes v{version}",
            code.len(),
            bare.len(),
            wallet.alg(),
            presentation.len()
        );
        // Measured v28 (EdDSA) and v29 (ES256), 129 and 133 modules: dense but still shown on
        // one phone screen; a guard against the presentation growing unnoticed.
        assert!(
            version <= 30,
            "{} presentation needs QR version {version}",
            wallet.alg()
        );
    }
}
