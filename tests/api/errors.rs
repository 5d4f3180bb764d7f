use std::time::{Duration, Instant};

use crate::helpers::{problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_unknown_route_is_404_problem_json() {
    let app = spawn_app().await;
    let body = problem(app.get("/api/v1/no-such-thing").await, 404, "not_found").await;
    assert_eq!(body["type"], "tag:talentcard,2026:problem:not_found");
    let wrong_method = app
        .client
        .delete(format!("{}/api/v1/districts", app.address))
        .send()
        .await
        .unwrap();
    assert!(wrong_method.status().is_client_error());
    assert_eq!(
        wrong_method.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly_instead_of_hanging() {
    let app = spawn_app_with(|s| {
        s.database.pool_size = 1;
        s.database.acquire_timeout_ms = 300;
    })
    .await;
    let _held = app.pool.get().await.unwrap();
    let started = Instant::now();
    let response = app.get("/api/v1/districts").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(response.headers().contains_key("retry-after"));
    problem(response, 503, "service_unavailable").await;
    drop(_held);
    assert_eq!(
        app.get("/api/v1/districts").await.status().as_u16(),
        200,
        "recovers"
    );
}

#[tokio::test]
async fn error_answers_are_not_cached() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
}
