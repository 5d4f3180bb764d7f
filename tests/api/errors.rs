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

/// Every client mistake our own code answers is problem+json: a body that is not JSON (400),
/// a query that does not parse (422), a path segment that does not parse (404), a multipart
/// body that is not one.
#[tokio::test]
async fn malformed_bodies_queries_and_paths_are_problem_json() {
    let app = spawn_app().await;
    let bad_json = app
        .client
        .post(format!("{}/api/v1/auth/register", app.address))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    problem(bad_json, 400, "malformed_request").await;

    let talent = app.talent("wang@example.cn").await;
    let bad_query = app.get_as("/api/v1/cards?limit=many", &talent.access).await;
    problem(bad_query, 422, "validation_failed").await;

    let bad_path = app
        .get_as("/api/v1/applications/not-a-uuid", &talent.access)
        .await;
    problem(bad_path, 404, "not_found").await;

    app.put_profile(&talent, 11).await;
    let id = app.draft(&talent, 35).await;
    let broken_multipart = app
        .client
        .post(format!(
            "{}/api/v1/applications/{id}/documents",
            app.address
        ))
        .bearer_auth(&talent.access)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nthis is not a part")
        .send()
        .await
        .unwrap();
    assert!(broken_multipart.status().is_client_error());
    assert_eq!(
        broken_multipart.headers()["content-type"],
        "application/problem+json"
    );
}

/// Sends raw bytes and returns what the server answered before closing.
async fn raw_exchange(app: &crate::helpers::TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
    // The server closes the connection after a parse error; a reset is as good as a close.
    let _ = read.await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A request actix-http cannot parse gets its 400 (or 431 for a huge head) and is counted in
/// `talentcard_http_malformed_requests_total`, not logged at ERROR.
#[tokio::test]
async fn malformed_requests_are_refused_and_counted() {
    // The integration tests install no subscriber; the service's own must be there to count.
    talentcard::telemetry::init(&talentcard::configuration::LogSettings {
        format: "pretty".to_owned(),
        filter: "off".to_owned(),
    });
    let app = spawn_app().await;
    let before = talentcard::metrics::malformed_requests();

    let answer = raw_exchange(
        &app,
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // More headers than actix-http parses (96) is a head too large: 431.
    let many: String = (0..100).map(|n| format!("X-H{n}: 1\r\n")).collect();
    let huge = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let answer = raw_exchange(&app, huge.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // The dispatcher logs the error as it closes the connection, just after answering.
    let deadline = Instant::now() + Duration::from_secs(3);
    while talentcard::metrics::malformed_requests() < before + 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(talentcard::metrics::malformed_requests() >= before + 2);
    let rendered = talentcard::metrics::render_malformed_requests().unwrap();
    let value: u64 = rendered
        .lines()
        .find_map(|l| l.strip_prefix("talentcard_http_malformed_requests_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{rendered}"));
    assert!(value >= before + 2, "{rendered}");
}
