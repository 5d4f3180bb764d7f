//! Forged and misused tokens: every one is a 401, never a 5xx.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use talentcard::clock::Clock;

use crate::helpers::{TestApp, spawn_app, test_settings};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn key() -> Vec<u8> {
    test_settings()
        .secrets()
        .unwrap()
        .token_signing_key
        .expose_secret()
        .as_bytes()
        .to_vec()
}

/// Valid claims for `user_id` in session `sid`, to be spoiled one way or another.
fn claims(app: &TestApp, sub: &str, sid: &str) -> Value {
    let now = app.clock.now().timestamp();
    json!({
        "sub": sub, "role": "talent", "iss": "talentcard", "aud": "talentcard-api",
        "exp": now + 600, "iat": now, "nbf": now, "jti": "j", "token_use": "access", "sid": sid,
    })
}

fn sign_with(alg: Algorithm, typ: Option<&str>, claims: &Value, key: &[u8]) -> String {
    let mut header = Header::new(alg);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key).unwrap()).unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(Algorithm::HS256, Some("at+jwt"), claims, &key())
}

fn unsigned(alg: &str, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(&json!({ "alg": alg, "typ": "at+jwt" })),
        b64(claims)
    )
}

fn session_of(token: &str) -> (String, String) {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (
        claims["sub"].as_str().unwrap().to_owned(),
        claims["sid"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn forged_and_misused_tokens_are_all_401() {
    let app = spawn_app().await;
    let user = app.talent("victim@example.cn").await;
    let (sub, sid) = session_of(&user.access);
    let good = claims(&app, &sub, &sid);
    assert_eq!(
        app.get_as("/api/v1/me", &sign(&good))
            .await
            .status()
            .as_u16(),
        200,
        "the baseline forgery is valid"
    );

    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        change(&mut c);
        sign(&c)
    };
    let now = app.clock.now().timestamp();
    let mut header_with_jku = Header::new(Algorithm::HS256);
    header_with_jku.typ = Some("at+jwt".into());
    header_with_jku.jku = Some("https://attacker.example/keys".into());
    let jku = jsonwebtoken::encode(
        &header_with_jku,
        &good,
        &EncodingKey::from_secret(&key()).unwrap(),
    )
    .unwrap();
    let mut enrollment = good.clone();
    enrollment["token_use"] = json!("mfa_enrollment");

    let forged: Vec<(&str, String)> = vec![
        ("alg none", unsigned("none", &good)),
        ("alg None", unsigned("None", &good)),
        ("alg NONE", unsigned("NONE", &good)),
        ("alg nOnE", unsigned("nOnE", &good)),
        (
            "HS256 with another key",
            sign_with(
                Algorithm::HS256,
                Some("at+jwt"),
                &good,
                b"another key of sufficient length 1234",
            ),
        ),
        (
            "HS512 with the right key",
            sign_with(Algorithm::HS512, Some("at+jwt"), &good, &key()),
        ),
        (
            "HS384 with the right key",
            sign_with(Algorithm::HS384, Some("at+jwt"), &good, &key()),
        ),
        ("RS256 header, HMAC body", {
            let token = sign(&good);
            let body: Vec<&str> = token.split('.').collect();
            format!(
                "{}.{}.{}",
                b64(&json!({ "alg": "RS256", "typ": "at+jwt" })),
                body[1],
                body[2]
            )
        }),
        (
            "EdDSA header",
            format!(
                "{}.{}.AAAA",
                b64(&json!({ "alg": "EdDSA", "typ": "at+jwt" })),
                b64(&good)
            ),
        ),
        (
            "no typ header",
            sign_with(Algorithm::HS256, None, &good, &key()),
        ),
        (
            "typ JWT",
            sign_with(Algorithm::HS256, Some("JWT"), &good, &key()),
        ),
        ("jku header", jku),
        (
            "expired by leeway + 1 s",
            with(&|c| c["exp"] = json!(now - 6)),
        ),
        (
            // Well past the leeway: the clock runs while the cases are sent (a loaded CI
            // machine took over a second), and the exact boundary is a unit test in
            // auth::tokens.
            "not valid before nbf - leeway",
            with(&|c| c["nbf"] = json!(now + 60)),
        ),
        (
            "exp as a string",
            with(&|c| c["exp"] = json!((now + 600).to_string())),
        ),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        ("wrong iss", with(&|c| c["iss"] = json!("someone-else"))),
        ("wrong aud", with(&|c| c["aud"] = json!("another-api"))),
        (
            "no aud",
            with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        ("MFA enrolment token as access", sign(&enrollment)),
        (
            "role escalated in the claims",
            with(&|c| c["role"] = json!("admin")),
        ),
        (
            "another session id",
            with(&|c| c["sid"] = json!(uuid::Uuid::now_v7())),
        ),
        ("sub not a uuid", with(&|c| c["sub"] = json!("root"))),
        ("refresh token as access", user.refresh.clone().unwrap()),
        ("garbage", "not.a.token".to_owned()),
        ("empty", String::new()),
        ("truncated signature", {
            let token = sign(&good);
            token[..token.len() - 4].to_owned()
        }),
    ];
    assert!(forged.len() >= 20);
    for (name, token) in &forged {
        let response = app.get_as("/api/v1/me", token).await;
        assert_eq!(response.status().as_u16(), 401, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
    }

    let in_query = app
        .get(&format!("/api/v1/me?access_token={}", user.access))
        .await;
    assert_eq!(
        in_query.status().as_u16(),
        401,
        "a token in the query string is ignored"
    );
    let basic = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .header("authorization", format!("Basic {}", user.access))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401, "only the Bearer scheme");
}

#[tokio::test]
async fn a_valid_token_of_the_wrong_role_is_403() {
    let app = spawn_app().await;
    let talent = app.talent("talent@example.cn").await;
    let response = app.get_as("/api/v1/admin/audit", &talent.access).await;
    crate::helpers::problem(response, 403, "forbidden").await;
}
