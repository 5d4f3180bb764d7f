//! Refresh rotation, reuse detection, logout, disabling, idle and absolute limits.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::users::TestUser;

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        &json!({ "refresh_token": token }),
        None,
    )
    .await
}

async fn me_status(app: &TestApp, access: &str) -> u16 {
    app.get_as("/api/v1/me", access).await.status().as_u16()
}

async fn rotate(app: &TestApp, user: &TestUser) -> (String, String) {
    let response = refresh(app, user.refresh.as_deref().unwrap()).await;
    assert_eq!(response.status().as_u16(), 200);
    let pair: Value = response.json().await.unwrap();
    (
        pair["access_token"].as_str().unwrap().to_owned(),
        pair["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.talent("rotate@example.cn").await;
    let (access, newest) = rotate(&app, &user).await;
    assert_eq!(me_status(&app, &access).await, 200);

    let reused = refresh(&app, user.refresh.as_deref().unwrap()).await;
    assert_eq!(reused.status().as_u16(), 401);
    assert_eq!(
        refresh(&app, &newest).await.status().as_u16(),
        401,
        "the newest token died too"
    );
    assert_eq!(
        me_status(&app, &access).await,
        401,
        "and so did the session's access tokens"
    );
}

#[tokio::test]
async fn twenty_parallel_refreshes_of_one_token_yield_at_most_one_pair() {
    let app = spawn_app().await;
    let user = app.talent("race@example.cn").await;
    let token = user.refresh.clone().unwrap();
    let attempts = (0..20).map(|_| refresh(&app, &token));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let won = statuses.iter().filter(|s| **s == 200).count();
    assert!(won <= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_ends_access_and_refresh_tokens_at_once() {
    let app = spawn_app().await;
    let user = app.talent("bye@example.cn").await;
    let body = json!({ "refresh_token": user.refresh });
    let response = app
        .post_json("/api/v1/auth/logout", &body, Some(&user.access))
        .await;
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(me_status(&app, &user.access).await, 401);
    assert_eq!(
        refresh(&app, user.refresh.as_deref().unwrap())
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_at_once() {
    let app = spawn_app().await;
    let admin = app.staff("admin@example.cn", "admin", None).await;
    let user = app.talent("disabled@example.cn").await;
    assert_eq!(me_status(&app, &user.access).await, 200);
    let path = format!("/api/v1/admin/accounts/{}/disable", user.id);
    assert_eq!(
        app.post_json(&path, &json!({}), Some(&admin.access))
            .await
            .status()
            .as_u16(),
        204
    );
    assert_eq!(me_status(&app, &user.access).await, 401);
    assert_eq!(
        refresh(&app, user.refresh.as_deref().unwrap())
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.login("disabled@example.cn", crate::users::PASSWORD, None)
            .await
            .status()
            .as_u16(),
        401
    );
    let own = format!("/api/v1/admin/accounts/{}/disable", admin.id);
    assert_eq!(
        app.post_json(&own, &json!({}), Some(&admin.access))
            .await
            .status()
            .as_u16(),
        409
    );
}

#[tokio::test]
async fn access_tokens_expire_after_fifteen_minutes() {
    let app = spawn_app().await;
    let user = app.talent("expiry@example.cn").await;
    app.clock.advance(Duration::seconds(900 + 5));
    assert_eq!(
        me_status(&app, &user.access).await,
        200,
        "within the leeway"
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(me_status(&app, &user.access).await, 401, "leeway + 1 s");
}

#[tokio::test]
async fn an_idle_session_ends_after_seven_days() {
    let app = spawn_app().await;
    let user = app.talent("idle@example.cn").await;
    app.clock.advance(Duration::days(7) + Duration::seconds(1));
    assert_eq!(
        refresh(&app, user.refresh.as_deref().unwrap())
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn a_busy_session_still_ends_thirty_days_after_login() {
    let app = spawn_app().await;
    let mut user = app.talent("absolute@example.cn").await;
    for _ in 0..4 {
        app.clock.advance(Duration::days(6));
        let (access, refresh_token) = rotate(&app, &user).await;
        user.access = access;
        user.refresh = Some(refresh_token);
    }
    app.clock.advance(Duration::days(6) + Duration::seconds(1));
    assert_eq!(
        refresh(&app, user.refresh.as_deref().unwrap())
            .await
            .status()
            .as_u16(),
        401
    );
}
