//! Staff second factor: enrolment, single-use codes, wrong-code limits.

use chrono::Duration;
use serde_json::{Value, json};
use talentcard::auth::totp;
use talentcard::clock::Clock;

use crate::helpers::{problem, spawn_app};
use crate::users::PASSWORD;

#[tokio::test]
async fn an_official_enrols_then_signs_in_with_single_use_codes() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let body = json!({ "email": "reviewer@lf.example.cn", "password": PASSWORD, "full_name": "审核员", "issuer": "LF" });
    let created = app
        .post_json("/api/v1/admin/officials", &body, Some(&admin.access))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["role"], "official");
    assert_eq!(created["issuer"], "LF");

    // First login: only an enrolment token.
    let first: Value = app
        .login("reviewer@lf.example.cn", PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["mfa_enrollment_required"], true);
    assert!(first.get("refresh_token").is_none());
    let enrolment = first["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_as("/api/v1/me", enrolment).await.status().as_u16(),
        401,
        "good for enrolment only"
    );

    let enrolled = app
        .post_json("/api/v1/auth/mfa/enroll", &json!({}), Some(enrolment))
        .await;
    assert_eq!(enrolled.status().as_u16(), 200);
    let enrolled: Value = enrolled.json().await.unwrap();
    assert!(
        enrolled["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let secret = base32_decode(enrolled["secret"].as_str().unwrap());

    let wrong = app
        .post_json(
            "/api/v1/auth/mfa/confirm",
            &json!({ "totp": "000000" }),
            Some(enrolment),
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 401);
    let code = totp::code_at(&secret, app.clock.now());
    let confirmed = app
        .post_json(
            "/api/v1/auth/mfa/confirm",
            &json!({ "totp": code }),
            Some(enrolment),
        )
        .await;
    assert_eq!(confirmed.status().as_u16(), 204);
    let again = app
        .post_json("/api/v1/auth/mfa/enroll", &json!({}), Some(enrolment))
        .await;
    problem(again, 409, "conflict").await;

    problem(
        app.login("reviewer@lf.example.cn", PASSWORD, None).await,
        401,
        "mfa_required",
    )
    .await;
    let replayed = app
        .login("reviewer@lf.example.cn", PASSWORD, Some(&code))
        .await;
    assert_eq!(
        replayed.status().as_u16(),
        401,
        "the confirmation code was used once already"
    );

    app.clock.advance(Duration::seconds(30));
    let code = totp::code_at(&secret, app.clock.now());
    let signed_in = app
        .login("reviewer@lf.example.cn", PASSWORD, Some(&code))
        .await;
    assert_eq!(signed_in.status().as_u16(), 200);
    let tokens: Value = signed_in.json().await.unwrap();
    let me: Value = app
        .get_as("/api/v1/me", tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["issuer"], "LF");
    assert_eq!(me["mfa_enabled"], true);
    let replayed = app
        .login("reviewer@lf.example.cn", PASSWORD, Some(&code))
        .await;
    assert_eq!(replayed.status().as_u16(), 401, "a code is accepted once");
}

#[tokio::test]
async fn at_most_five_wrong_codes_a_step() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let secret = admin.totp_secret.clone().unwrap();
    app.clock.advance(Duration::seconds(30));
    for _ in 0..5 {
        let response = app.login("root@example.cn", PASSWORD, Some("000000")).await;
        assert_eq!(response.status().as_u16(), 401);
    }
    let right = totp::code_at(&secret, app.clock.now());
    let blocked = app.login("root@example.cn", PASSWORD, Some(&right)).await;
    assert_eq!(
        blocked.status().as_u16(),
        429,
        "even the right code waits for the next step"
    );
    // The wrong codes also count as login failures, so the account is briefly locked as well.
    app.clock.advance(Duration::seconds(60));
    let right = totp::code_at(&secret, app.clock.now());
    assert_eq!(
        app.login("root@example.cn", PASSWORD, Some(&right))
            .await
            .status()
            .as_u16(),
        200
    );
}

fn base32_decode(text: &str) -> Vec<u8> {
    totp_rs::Secret::Encoded(text.to_owned())
        .to_bytes()
        .unwrap()
}

#[tokio::test]
async fn parallel_code_guesses_cannot_outrun_the_step_cap() {
    let app = spawn_app().await;
    app.staff("guessed@example.cn", "admin", None).await;
    app.clock.advance(Duration::seconds(30));
    let guesses = (0..12).map(|i| {
        app.login(
            "guessed@example.cn",
            PASSWORD,
            Some(if i % 2 == 0 { "111111" } else { "222222" }),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    assert!(evaluated <= 6, "{statuses:?}");
}
