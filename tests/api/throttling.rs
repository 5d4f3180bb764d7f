//! Throttling that cannot be turned against the victim (issue 17, point 3): failures counted per
//! (account, address) with an account-wide ceiling that never stops the owner's own addresses,
//! right passwords limited per account and address, the staff unlock path, keyed throttle keys,
//! and the limits of `/auth/refresh` and `/auth/token`.

use chrono::Duration;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use talentcard::auth::totp;
use talentcard::clock::Clock;
use talentcard::configuration::Settings;
use talentcard::crypto::pii::PiiCipher;

use crate::helpers::{TestApp, problem, spawn_app_with, test_settings};
use crate::users::PASSWORD;

/// Requests arrive from 127.0.0.1, a trusted proxy, so `X-Forwarded-For` names the client.
fn behind_proxy(s: &mut Settings) {
    s.application.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

async fn login_from(
    app: &TestApp,
    address: &str,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({ "email": email, "password": password });
    if let Some(code) = code {
        body["totp"] = json!(code);
    }
    app.client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("X-Forwarded-For", address)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_from_another() {
    let app = spawn_app_with(behind_proxy).await;
    let official = app
        .staff("official@example.cn", "official", Some("XA"))
        .await;
    let secret = official.totp_secret.clone().unwrap();
    app.clock.advance(Duration::seconds(30));
    let code = totp::code_at(&secret, app.clock.now());
    // The reported attack: a dozen wrong passwords from one address within a minute, and more.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let wrong = login_from(&app, "203.0.113.66", "official@example.cn", "wrong!!", None);
        statuses.push(wrong.await.status().as_u16());
    }
    assert!(statuses[..6].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    // The attacker's address is locked out of the account, even with the right password.
    let attacker = login_from(
        &app,
        "203.0.113.66",
        "official@example.cn",
        PASSWORD,
        Some(&code),
    );
    problem(attacker.await, 429, "rate_limited").await;
    // The owner, from another address (never used before), with the right password and code.
    let owner = login_from(
        &app,
        "198.51.100.7",
        "official@example.cn",
        PASSWORD,
        Some(&code),
    );
    assert_eq!(owner.await.status().as_u16(), 200);
}

#[tokio::test]
async fn distributed_guessing_fills_the_ceiling_but_the_owners_own_address_passes() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.auth.login_failures_per_account_hour = 5;
    })
    .await;
    app.talent("owner@example.cn").await;
    let home = "198.51.100.20";
    let signed_in = login_from(&app, home, "owner@example.cn", PASSWORD, None).await;
    assert_eq!(signed_in.status().as_u16(), 200);
    // Five addresses, one guess each: none is slowed by its own streak.
    for n in 1..=5 {
        let address = format!("203.0.113.{n}");
        let guess = login_from(&app, &address, "owner@example.cn", "guess!", None);
        assert_eq!(guess.await.status().as_u16(), 401, "guess {n}");
    }
    // The ceiling is full: a sixth address is refused before its password is checked, even the
    // right one (the account cannot tell it from the botnet)...
    let stranger = login_from(&app, "203.0.113.99", "owner@example.cn", PASSWORD, None).await;
    let wait = retry_after(&stranger);
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    problem(stranger, 429, "rate_limited").await;
    // ...but the owner's own address, where the account signed in lately, still gets in.
    let owner = login_from(&app, home, "owner@example.cn", PASSWORD, None).await;
    assert_eq!(owner.status().as_u16(), 200);
    // A known address is known for 30 days: after that it is a stranger too.
    app.clock.advance(Duration::days(31));
    for n in 1..=5 {
        let address = format!("203.0.113.{n}");
        let guess = login_from(&app, &address, "owner@example.cn", "guess!", None);
        assert_eq!(guess.await.status().as_u16(), 401, "guess {n}");
    }
    let stale = login_from(&app, home, "owner@example.cn", PASSWORD, None).await;
    problem(stale, 429, "rate_limited").await;
}

#[tokio::test]
async fn an_administrator_unlocks_an_account_audited_and_nobody_else_can() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.auth.login_failures_per_account_hour = 8;
    })
    .await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let talent = app.talent("victim@example.cn").await;
    // Six from one address lock that address out of the account; two more fill the ceiling.
    for _ in 0..6 {
        let guess = login_from(&app, "203.0.113.1", "victim@example.cn", "guess!", None);
        assert_eq!(guess.await.status().as_u16(), 401);
    }
    for n in 2..=3 {
        let address = format!("203.0.113.{n}");
        let guess = login_from(&app, &address, "victim@example.cn", "guess!", None);
        assert_eq!(guess.await.status().as_u16(), 401);
    }
    let locked = login_from(&app, "203.0.113.1", "victim@example.cn", PASSWORD, None).await;
    problem(locked, 429, "rate_limited").await;
    let refused = login_from(&app, "192.0.2.1", "victim@example.cn", PASSWORD, None).await;
    problem(refused, 429, "rate_limited").await;

    let path = format!("/api/v1/admin/accounts/{}/unlock", talent.id);
    for (who, token, status) in [
        ("the talent", &talent.access, 403),
        ("an official", &official.access, 403),
    ] {
        let response = app.post_json(&path, &json!({}), Some(token)).await;
        assert_eq!(response.status().as_u16(), status, "{who}");
    }
    let anonymous = app.post_json(&path, &json!({}), None).await;
    assert_eq!(anonymous.status().as_u16(), 401);
    let unknown = format!("/api/v1/admin/accounts/{}/unlock", uuid::Uuid::now_v7());
    let unknown = app
        .post_json(&unknown, &json!({}), Some(&admin.access))
        .await;
    problem(unknown, 404, "not_found").await;
    let still = login_from(&app, "192.0.2.1", "victim@example.cn", PASSWORD, None).await;
    assert_eq!(still.status().as_u16(), 429, "refusals changed nothing");

    let unlocked = app.post_json(&path, &json!({}), Some(&admin.access)).await;
    assert_eq!(unlocked.status().as_u16(), 204);
    let back = login_from(&app, "192.0.2.1", "victim@example.cn", PASSWORD, None).await;
    assert_eq!(back.status().as_u16(), 200, "the ceiling was cleared");
    let attacker = login_from(&app, "203.0.113.1", "victim@example.cn", PASSWORD, None).await;
    assert_eq!(
        attacker.status().as_u16(),
        200,
        "so was every address's streak"
    );

    let page: Value = app
        .get_as("/api/v1/admin/audit?action=account.unlocked", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["entity_id"], talent.id.to_string());
    assert_eq!(items[0]["actor"], format!("account:{}", admin.id));
    assert!(items[0]["detail"]["throttles_cleared"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn right_passwords_are_limited_per_account_and_per_address() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.auth.logins_per_account_hour = 3;
        s.auth.logins_per_address_minute = 5;
    })
    .await;
    for email in [
        "storm@example.cn",
        "neighbour@example.cn",
        "other@example.cn",
    ] {
        app.talent(email).await;
    }
    app.clock.advance(Duration::hours(1));
    let storm = |email: &'static str| login_from(&app, "203.0.113.5", email, PASSWORD, None);
    for n in 0..3 {
        assert_eq!(
            storm("storm@example.cn").await.status().as_u16(),
            200,
            "{n}"
        );
    }
    let fourth = storm("storm@example.cn").await;
    let wait = retry_after(&fourth);
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    problem(fourth, 429, "rate_limited").await;
    // The same account from elsewhere is limited too: the limit is the account's.
    let elsewhere = login_from(&app, "198.51.100.5", "storm@example.cn", PASSWORD, None).await;
    problem(elsewhere, 429, "rate_limited").await;
    // The address has two sign-ins left this minute, whoever they are for.
    for n in 0..2 {
        assert_eq!(
            storm("neighbour@example.cn").await.status().as_u16(),
            200,
            "{n}"
        );
    }
    let full = storm("other@example.cn").await;
    let wait = retry_after(&full);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(full, 429, "rate_limited").await;
    // Other addresses and other accounts are untouched; the next minute the address may again.
    let other = login_from(&app, "198.51.100.6", "other@example.cn", PASSWORD, None).await;
    assert_eq!(other.status().as_u16(), 200);
    app.clock.advance(Duration::minutes(1));
    assert_eq!(storm("other@example.cn").await.status().as_u16(), 200);
    // Refusals are not failures: the account is not locked by them.
    app.clock.advance(Duration::hours(1));
    assert_eq!(storm("storm@example.cn").await.status().as_u16(), 200);
}

#[tokio::test]
async fn throttle_keys_are_keyed_hashes_not_plain_digests_of_the_email() {
    let app = spawn_app_with(behind_proxy).await;
    let email = "hidden@example.cn";
    login_from(&app, "203.0.113.7", email, "guess!", None).await;
    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
    }
    let mut conn = app.connect().await;
    let keys: Vec<Key> = diesel::sql_query("SELECT key FROM login_throttles")
        .load(&mut conn)
        .await
        .unwrap();
    let keys: Vec<String> = keys.into_iter().map(|k| k.key).collect();
    let plain = talentcard::crypto::random::sha256_hex(email);
    assert!(keys.iter().all(|k| !k.contains(&plain)), "{keys:?}");
    let settings = test_settings();
    let cipher = PiiCipher::new(&settings.secrets().unwrap(), &settings.auth.pii_key_id);
    let keyed = cipher.blind_index("login_throttle", email);
    assert!(keys.contains(&format!("account:{keyed}")), "{keys:?}");
    assert!(
        keys.contains(&format!("pair:{keyed}:203.0.113.7")),
        "{keys:?}"
    );
}

async fn refresh_from(app: &TestApp, address: &str, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/refresh", app.address))
        .header("X-Forwarded-For", address)
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refreshes_are_limited_per_address() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.auth.refreshes_per_address_minute = 3;
    })
    .await;
    let user = app.talent("refresher@example.cn").await;
    for _ in 0..3 {
        let bogus = refresh_from(&app, "203.0.113.9", "rt_bogus").await;
        assert_eq!(bogus.status().as_u16(), 401);
    }
    let refused = refresh_from(&app, "203.0.113.9", user.refresh.as_deref().unwrap()).await;
    let wait = retry_after(&refused);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(refused, 429, "rate_limited").await;
    // The refused request spent nothing: the token still rotates from another address.
    let rotated = refresh_from(&app, "198.51.100.9", user.refresh.as_deref().unwrap()).await;
    assert_eq!(rotated.status().as_u16(), 200);
    app.clock.advance(Duration::minutes(1));
    let again = refresh_from(&app, "203.0.113.9", "rt_bogus").await;
    assert_eq!(
        again.status().as_u16(),
        401,
        "a new minute, a new allowance"
    );
}

async fn token_from(app: &TestApp, address: &str, id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/auth/token", app.address))
        .header("X-Forwarded-For", address)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_tokens_are_limited_per_address_and_per_client() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.auth.client_tokens_per_address_minute = 4;
        s.auth.client_tokens_per_client_minute = 2;
    })
    .await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    // The helper takes the client's first token (from 127.0.0.1) in this minute.
    let (_, id, secret, _) = app.agency(&admin, "tongzhou", &["tourism_pass"]).await;
    // Wrong secrets, from anywhere, never use up the client's own allowance.
    for n in 1..=5 {
        let wrong = token_from(&app, &format!("203.0.113.{n}"), &id, "cs_wrong").await;
        assert_eq!(wrong.status().as_u16(), 401);
    }
    let second = token_from(&app, "198.51.100.1", &id, &secret).await;
    assert_eq!(second.status().as_u16(), 200);
    let third = token_from(&app, "198.51.100.2", &id, &secret).await;
    let wait = retry_after(&third);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(third, 429, "rate_limited").await;
    // One address: four requests a minute, whatever they are.
    app.clock.advance(Duration::minutes(1));
    for _ in 0..4 {
        let wrong = token_from(&app, "203.0.113.50", &id, "cs_wrong").await;
        assert_eq!(wrong.status().as_u16(), 401);
    }
    let refused = token_from(&app, "203.0.113.50", &id, &secret).await;
    problem(refused, 429, "rate_limited").await;
    let elsewhere = token_from(&app, "198.51.100.3", &id, &secret).await;
    assert_eq!(elsewhere.status().as_u16(), 200);
}
