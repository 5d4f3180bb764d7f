//! API7 server-side request forgery, API8 security misconfiguration and API9 inventory: the
//! headers every answer carries, no cross-origin grant, no debugging surface, error bodies that
//! tell the client what to fix and nothing about our insides, and URLs we sign that no request
//! header can steer.

use serde_json::{Value, json};

use super::World;
use crate::helpers::{TestApp, spawn_app};

/// Answers of every kind: JSON, problem+json for each error class, SVG, PNG, JWS, documents,
/// HTML.
async fn sample(app: &TestApp, w: &World) -> Vec<(String, Option<String>, reqwest::Response)> {
    let a = w.talent_a.access.clone();
    let b = w.talent_b.access.clone();
    let card = &w.card_b;
    let mut requests: Vec<(&str, String, Option<String>, Option<Value>)> = vec![
        ("GET", "/healthz".into(), None, None),
        ("GET", "/api/v1/districts".into(), None, None),
        ("GET", "/api/v1/trust-list".into(), None, None),
        ("GET", "/api/v1/trust-list.jws".into(), None, None),
        ("GET", "/api/v1/status-lists/XA".into(), None, None),
        ("GET", "/openapi.json".into(), None, None),
        ("GET", "/docs/".into(), None, None),
        ("GET", "/docs".into(), None, None),
        ("GET", "/api/v1/me".into(), Some(a.clone()), None),
        ("GET", "/api/v1/me".into(), None, None),
        ("GET", "/api/v1/admin/audit".into(), Some(a.clone()), None),
        ("GET", "/api/v1/nothing-here".into(), Some(a.clone()), None),
        ("DELETE", "/api/v1/me".into(), Some(a.clone()), None),
        (
            "POST",
            "/api/v1/applications".into(),
            Some(a.clone()),
            Some(json!({ "scheme": 1 })),
        ),
        (
            "GET",
            format!("/api/v1/cards/{card}"),
            Some(b.clone()),
            None,
        ),
        (
            "GET",
            format!("/api/v1/cards/{card}/credential"),
            Some(b.clone()),
            None,
        ),
        (
            "GET",
            format!("/api/v1/cards/{card}/qr.svg"),
            Some(b.clone()),
            None,
        ),
        (
            "GET",
            format!("/api/v1/cards/{card}/qr.png"),
            Some(b.clone()),
            None,
        ),
        (
            "GET",
            format!("/api/v1/cards/{card}/card.svg"),
            Some(b.clone()),
            None,
        ),
        (
            "GET",
            format!(
                "/api/v1/applications/{}/documents/{}",
                w.application_b, w.document_b
            ),
            Some(b.clone()),
            None,
        ),
        (
            "POST",
            "/api/v1/verifications".into(),
            Some(w.agency.2.clone()),
            Some(json!({ "card_number": w.card_number_b })),
        ),
    ];
    let mut answers = Vec::new();
    for (method, path, token, body) in requests.drain(..) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .header("Origin", "https://evil.example");
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answers.push((
            format!("{method} {path}"),
            token,
            request.send().await.unwrap(),
        ));
    }
    answers
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_grants_no_origin() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let answers = sample(&app, &world).await;
    let count = answers.len();
    for (what, token, response) in answers {
        let headers = response.headers();
        assert_eq!(
            headers
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            headers.get("x-frame-options").map(|v| v.to_str().unwrap()),
            Some("DENY"),
            "{what}"
        );
        // Public trust material is readable from any origin (never with credentials);
        // nothing else grants an origin.
        let path = what.split(' ').nth(1).unwrap_or_default();
        let expected_origin =
            talentcard::cors::is_public_trust_material(path.split('?').next().unwrap_or(path))
                .then_some("*");
        assert_eq!(
            headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            expected_origin,
            "{what}"
        );
        assert!(
            headers.get("access-control-allow-credentials").is_none(),
            "{what}"
        );
        if let Some(server) = headers.get("server") {
            assert!(
                !server.to_str().unwrap().chars().any(|c| c.is_ascii_digit()),
                "{what} names a version"
            );
        }
        // An answer to an authenticated request is never stored by a cache, unless it is
        // public data anyone may fetch without a token.
        let public = what.contains("/trust-list")
            || what.contains("/status-lists/")
            || what.contains("/districts")
            || what.contains("/openapi.json")
            || what.contains("/docs/")
            || what.contains("/healthz");
        if token.is_some() || !public {
            assert_eq!(
                headers.get("cache-control").map(|v| v.to_str().unwrap()),
                Some("no-store"),
                "{what}"
            );
        }
    }
    // A preflight from any origin gets no grant.
    for path in ["/api/v1/me", "/api/v1/verifications", "/api/v1/auth/login"] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .await
            .unwrap();
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
        assert!(
            response.status().is_client_error(),
            "OPTIONS {path}: {}",
            response.status()
        );
    }
    // A preflight on public trust material is granted for GET from any origin.
    for path in [
        "/api/v1/trust-list",
        "/api/v1/status-lists/XA",
        "/.well-known/jwt-vc-issuer/issuers/XA",
    ] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
            .header("Origin", "https://verifier.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 204, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(
            header("access-control-allow-methods").as_deref(),
            Some("GET")
        );
        assert!(header("access-control-allow-credentials").is_none());
    }
    // TRACE does not echo the request (and with it the Authorization header).
    let traced = app
        .client
        .request(reqwest::Method::TRACE, format!("{}/api/v1/me", app.address))
        .bearer_auth(&world.talent_a.access)
        .send()
        .await
        .unwrap();
    assert!(matches!(traced.status().as_u16(), 404 | 405));
    assert!(
        !traced
            .text()
            .await
            .unwrap()
            .contains(&world.talent_a.access)
    );
    eprintln!(
        "API8: {} answers checked for headers, 3 preflights, 1 TRACE",
        count
    );
}

/// What an error body must never hold: SQL, database and driver names, source paths, panics.
const LEAKS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE ",
    "DELETE FROM",
    "duplicate key",
    "constraint",
    "violates",
    "relation \"",
    "diesel",
    "postgres",
    "tokio",
    "actix",
    "serde",
    "/src/",
    ".rs:",
    "/root/",
    "/home/",
    "panicked",
    "backtrace",
    "thread '",
    "RUST_",
    "Traceback",
    "unwrap",
];

#[tokio::test]
async fn error_bodies_carry_no_sql_paths_panics_or_personal_data() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let a = &world.talent_a.access;
    let secret_id = "110105198501010019";
    let errors: Vec<(&str, String, Option<&str>, Value)> = vec![
        // A taken email: the answer does not repeat it.
        (
            "POST",
            "/api/v1/auth/register".into(),
            None,
            json!({ "email": "a@example.cn", "password": crate::users::PASSWORD, "full_name": "x" }),
        ),
        // Wrong types carrying personal data: the answer names the field, not the value.
        (
            "PUT",
            "/api/v1/me/profile".into(),
            Some(a),
            json!({ "id_type": "resident_id", "id_number": 110_105_198_501_010_019_u64 }),
        ),
        (
            "PUT",
            "/api/v1/me/profile".into(),
            Some(a),
            json!({ "id_type": secret_id, "id_number": "x" }),
        ),
        (
            "PUT",
            "/api/v1/me/profile".into(),
            Some(a),
            json!({ "id_type": "resident_id", "id_number": secret_id }),
        ),
        (
            "POST",
            "/api/v1/auth/login".into(),
            None,
            json!({ "email": "a@example.cn", "password": ["secret-in-an-array"] }),
        ),
        (
            "POST",
            "/api/v1/applications".into(),
            Some(a),
            json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": { "birth_date": secret_id } }),
        ),
        // Values that reach the database only if validation failed to stop them.
        (
            "POST",
            "/api/v1/applications".into(),
            Some(a),
            json!({ "scheme": "NOPE'; DROP TABLE cards;--", "issuer": "XA", "facts": {} }),
        ),
        (
            "POST",
            "/api/v1/verifications".into(),
            Some(&world.agency.2),
            json!({ "card_number": "XA-2026-' OR 1=1--" }),
        ),
        (
            "POST",
            "/api/v1/verifications".into(),
            Some(&world.agency.2),
            json!({ "credential": "eyJhbGciOiJub25lIn0.e30." }),
        ),
    ];
    let mut cases = 0;
    for (method, path, token, body) in &errors {
        let response = app
            .send(method, path, token.unwrap_or(""), Some(body))
            .await;
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "application/problem+json", "{path}");
        let text = response.text().await.unwrap();
        for leak in LEAKS {
            assert!(
                !text.contains(leak),
                "{method} {path} leaks {leak:?}: {text}"
            );
        }
        assert!(
            !text.contains(secret_id),
            "{method} {path} repeats personal data: {text}"
        );
        assert!(
            !text.contains("secret-in-an-array"),
            "{path} repeats a password: {text}"
        );
        assert!(
            !text.contains("a@example.cn"),
            "{path} repeats an email: {text}"
        );
        cases += 1;
    }
    // Raw bytes that are not UTF-8 or not JSON.
    for raw in [
        &b"\xff\xfe{\"a\":1}"[..],
        b"{\"email\": \"\xc3\x28\"}",
        b"\0\0\0",
        b"{\"a\":1}{\"b\":2}",
    ] {
        let response = app
            .client
            .post(format!("{}/api/v1/auth/login", app.address))
            .header("content-type", "application/json")
            .body(raw.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(matches!(status, 400 | 422), "raw body: {status}");
        let text = response.text().await.unwrap();
        for leak in LEAKS {
            assert!(!text.contains(leak), "raw body leaks {leak:?}: {text}");
        }
        cases += 1;
    }
    eprintln!("API8: {cases} error bodies checked for leaks");
}

#[tokio::test]
async fn request_headers_do_not_steer_the_urls_we_sign() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let path = format!("{}/api/v1/cards/{}/credential", app.address, world.card_b);
    let response = app
        .client
        .get(&path)
        .bearer_auth(&world.talent_b.access)
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "gopher")
        .header("Forwarded", "host=evil.example;proto=http")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("evil.example"),
        "a request header steered a signed URL"
    );
    // The QR code encodes the same credential; the card image names no host either.
    for suffix in ["qr.svg", "card.svg"] {
        let text = app
            .client
            .get(format!(
                "{}/api/v1/cards/{}/{suffix}",
                app.address, world.card_b
            ))
            .bearer_auth(&world.talent_b.access)
            .header("X-Forwarded-Host", "evil.example")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("evil.example"), "{suffix}");
    }
}

#[tokio::test]
async fn nothing_undocumented_answers() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut cases = 0;
    for path in [
        "/.env",
        "/.git/config",
        "/debug",
        "/debug/pprof",
        "/actuator",
        "/actuator/health",
        "/admin",
        "/api",
        "/api/v1",
        "/api/v2/me",
        "/api/v0/me",
        "/console",
        "/server-status",
        "/swagger-ui.html",
        "/graphql",
        "/api/v1/admin",
        "/api/v1/internal",
        "/config/base.toml",
        "/Cargo.toml",
        "/../Cargo.toml",
    ] {
        for token in [None, Some(&world.admin.access)] {
            let mut request = app.client.get(format!("{}{path}", app.address));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, 404, "{path} answers {status}");
            cases += 1;
        }
    }
    eprintln!("API9: {cases} undocumented paths refused");
}
