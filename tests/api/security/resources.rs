//! API4, unrestricted resource consumption (and API10, what we accept from outside): every
//! list is paged with a bounded page, every body is bounded in size and in time, nesting and
//! string lengths are bounded, and a stalled client is dropped while others are served.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{World, row_counts};
use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_list_refuses_a_page_larger_than_200_or_smaller_than_1() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let lists = [
        ("/api/v1/applications", &world.official_xa.access),
        ("/api/v1/applications", &world.talent_a.access),
        ("/api/v1/cards", &world.talent_b.access),
        ("/api/v1/cards", &world.official_xa.access),
        (
            &*format!("/api/v1/cards/{}/verifications", world.card_b),
            &world.talent_b.access,
        ),
        ("/api/v1/admin/audit", &world.admin.access),
        ("/api/v1/admin/agencies", &world.admin.access),
    ];
    let mut cases = 0;
    for (path, token) in lists {
        for limit in [
            "0",
            "-1",
            "201",
            "1000000",
            "99999999999999999999",
            "abc",
            "1e3",
        ] {
            let response = app.get_as(&format!("{path}?limit={limit}"), token).await;
            let status = response.status().as_u16();
            assert!(
                matches!(status, 400 | 422),
                "{path}?limit={limit} answered {status}"
            );
            cases += 1;
        }
        // The largest page is served, and no list answers more than 200 items.
        let page: Value = app
            .get_as(&format!("{path}?limit=200"), token)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            page["items"]
                .as_array()
                .is_some_and(|items| items.len() <= 200),
            "{path}"
        );
        // A forged cursor is a client error, not a 500.
        for cursor in ["garbage", "eyJ4IjoxfQ", "%00", &"A".repeat(5000)] {
            let response = app.get_as(&format!("{path}?cursor={cursor}"), token).await;
            let status = response.status().as_u16();
            assert!(
                matches!(status, 400 | 422),
                "{path}?cursor={cursor}: {status}"
            );
            cases += 1;
        }
    }
    eprintln!("API4: {cases} page-size and cursor cases refused");
}

#[tokio::test]
async fn bodies_are_bounded_in_size_nesting_and_length_and_nothing_is_written() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let before = row_counts(&app).await;
    let url = format!("{}/api/v1/applications", app.address);
    let token = &world.talent_a.access;
    let mut cases = 0;

    // Over 64 KiB, declared.
    let big = json!({ "scheme": "TBT", "issuer": "TZ", "facts": { "pad": "x".repeat(70_000) } });
    let response = app
        .send("POST", "/api/v1/applications", token, Some(&big))
        .await;
    problem(response, 413, "payload_too_large").await;
    cases += 1;

    // Over 64 KiB, chunked (no Content-Length): refused while it is read.
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..100 {
        let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
        // The server may answer and close before the rest is sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    cases += 1;

    // Deep nesting, in a body small enough to be read: a parse error, not a stack overflow.
    for depth in [200, 10_000, 30_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let response = app
            .client
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(nested)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(matches!(status, 400 | 413 | 422), "depth {depth}: {status}");
        cases += 1;
    }
    let nested_facts = format!(
        "{{\"scheme\":\"TBT\",\"issuer\":\"TZ\",\"facts\":{}1{}}}",
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let response = app
        .client
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(nested_facts)
        .send()
        .await
        .unwrap();
    assert!(matches!(response.status().as_u16(), 400 | 422));
    cases += 1;

    // Long strings where short ones belong: refused by validation, never by the database.
    let long = "长".repeat(20_000);
    let decision = format!("/api/v1/applications/{}/decision", world.application_a);
    let long_cases: Vec<(&str, &str, Option<&str>, Value)> = vec![
        (
            "POST",
            "/api/v1/auth/register",
            None,
            json!({ "email": "l@example.cn", "password": crate::users::PASSWORD, "full_name": long }),
        ),
        (
            "POST",
            "/api/v1/auth/register",
            None,
            json!({ "email": format!("{}@example.cn", "l".repeat(5000)), "password": crate::users::PASSWORD, "full_name": "x" }),
        ),
        (
            "POST",
            "/api/v1/auth/register",
            None,
            json!({ "email": "l2@example.cn", "password": "p".repeat(20_000), "full_name": "x" }),
        ),
        (
            "POST",
            "/api/v1/auth/login",
            None,
            json!({ "email": "a@example.cn", "password": "p".repeat(20_000) }),
        ),
        (
            "PUT",
            "/api/v1/me/profile",
            Some(token),
            json!({ "id_type": "passport", "id_number": "9".repeat(20_000) }),
        ),
        (
            "POST",
            "/api/v1/applications",
            Some(token),
            json!({ "scheme": long, "issuer": "TZ", "facts": crate::schemes::doctorate(40) }),
        ),
        (
            "POST",
            &decision,
            Some(&world.official_xa.access),
            json!({ "decision": "request_supplement", "comment": long }),
        ),
        (
            "POST",
            "/api/v1/verifications",
            Some(&world.agency.2),
            json!({ "card_number": long }),
        ),
        (
            "POST",
            "/api/v1/verifications",
            Some(&world.agency.2),
            json!({ "credential": "a.".repeat(10_000) }),
        ),
        (
            "POST",
            "/api/v1/admin/agencies",
            Some(&world.admin.access),
            json!({ "name": long, "district": "tongzhou", "services": ["tourism_pass"] }),
        ),
    ];
    for (method, path, token, body) in &long_cases {
        let response = app
            .send(method, path, token.unwrap_or(""), Some(body))
            .await;
        let status = response.status().as_u16();
        assert!(
            matches!(status, 400 | 401 | 413 | 422),
            "{method} {path} with a long string: {status}"
        );
        cases += 1;
    }
    assert_eq!(
        row_counts(&app).await,
        before,
        "a refused body wrote something"
    );
    eprintln!("API4: {cases} oversized, nested and long bodies refused");
}

/// Sends a request head with a `Content-Length` and then only part of the body.
async fn stall_body(app: &TestApp, head: &str, part: &[u8]) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(part).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_stalled_body_or_upload_is_408_and_others_are_served_meanwhile() {
    let app = spawn_app_with(|s| {
        s.application.body_timeout_ms = 500;
        s.application.upload_timeout_ms = 1000;
    })
    .await;
    let world = World::build(&app).await;
    let before = row_counts(&app).await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let token = &world.talent_a.access;

    let json_head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    let upload_head = format!(
        "POST /api/v1/applications/{}/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 100000\r\n\r\n",
        world.application_b, world.talent_b.access
    );
    let upload_part = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4";
    let stalled = tokio::join!(
        stall_body(&app, &json_head, b"{\"scheme\":"),
        stall_body(&app, &upload_head, upload_part),
        async {
            // Meanwhile, a normal request is answered at once.
            let started = Instant::now();
            let response = app.get_as("/api/v1/me", token).await;
            assert_eq!(response.status().as_u16(), 200);
            started.elapsed()
        }
    );
    let ((json_answer, json_took), (upload_answer, upload_took), served_in) = stalled;
    assert!(json_answer.starts_with("HTTP/1.1 408"), "{json_answer}");
    assert!(json_answer.contains("request_timeout"), "{json_answer}");
    assert!(json_took < Duration::from_secs(5), "{json_took:?}");
    // The upload was given new evidence only after its application's checks: B's application
    // is approved, so it is refused as a transition (409) before any body is read; a stalled
    // upload to an open application is the case below.
    assert!(
        upload_answer.starts_with("HTTP/1.1 408") || upload_answer.starts_with("HTTP/1.1 409"),
        "{upload_answer}"
    );
    assert!(upload_took < Duration::from_secs(5), "{upload_took:?}");
    assert!(served_in < Duration::from_secs(1), "{served_in:?}");

    // An upload to a draft that stalls halfway is dropped after the upload deadline.
    let draft = app.draft(&world.talent_b, 40).await;
    let upload_head = format!(
        "POST /api/v1/applications/{draft}/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 100000\r\n\r\n",
        world.talent_b.access
    );
    let before_upload = row_counts(&app).await;
    let (answer, took) = stall_body(&app, &upload_head, upload_part).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(
        row_counts(&app).await,
        before_upload,
        "a stalled upload wrote something"
    );
    assert_eq!(before.len(), before_upload.len());
    eprintln!("API4: 3 slow-body cases dropped");
}

#[tokio::test]
async fn a_slow_request_head_is_dropped_and_others_are_served_meanwhile() {
    let app = spawn_app_with(|s| s.application.client_request_timeout_ms = 500).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    let response = app.get("/api/v1/districts").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // Each stalled head is answered with 408 or closed, within a few timeouts.
    for mut stream in slow {
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "a stalled head was kept open");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    eprintln!("API4: 50 slow-head connections dropped");
}
