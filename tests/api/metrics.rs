//! Prometheus metrics, on a listener of their own.

use crate::helpers::spawn_app;

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.get("/api/v1/districts").await;
    }
    let text = app.metrics().await;
    let districts = text
        .lines()
        .find(|l| {
            l.starts_with("talentcard_http_requests_total") && l.contains("/api/v1/districts")
        })
        .unwrap_or_else(|| panic!("no request counter for the route:\n{text}"));
    assert!(districts.ends_with(" 3"), "{districts}");
    assert!(text.contains("talentcard_http_requests_duration_seconds_bucket"));
    assert!(
        text.contains("talentcard_db_pool_max_connections 4"),
        "{text}"
    );
    assert!(text.contains("talentcard_db_pool_connections"));
}

#[tokio::test]
async fn metrics_are_not_served_on_the_api_port() {
    let app = spawn_app().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 404);
    assert_ne!(app.address, app.metrics_address);
    assert!(
        app.metrics()
            .await
            .contains("talentcard_db_pool_connections")
    );
}
