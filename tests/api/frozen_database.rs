//! A database that stops answering without closing its sockets (frozen, or behind a partition):
//! the service's own per-query deadline answers 503 instead of waiting for TCP to give up, and
//! the connections it gave up on are not reused. The freeze is a pausable TCP proxy of the
//! test's own in front of the shared PostgreSQL, which is never stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{problem, spawn_app_with};

/// Forwards 127.0.0.1:<port> to PostgreSQL on 5432; while `frozen`, bytes read are held back
/// and nothing is forwarded either way, but every socket stays open.
async fn pausable_proxy(frozen: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect("127.0.0.1:5432").await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, frozen.clone()));
            tokio::spawn(pump(server_read, client_write, frozen.clone()));
        }
    });
    port
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_frozen_database_answers_503_within_the_query_deadline_and_recovers() {
    let frozen = Arc::new(AtomicBool::new(false));
    let proxy = pausable_proxy(frozen.clone()).await;
    let app = spawn_app_with(|settings| {
        let direct = settings.database.url().to_owned();
        let through_proxy = direct.replace("127.0.0.1:5432", &format!("127.0.0.1:{proxy}"));
        assert_ne!(
            direct, through_proxy,
            "the test database is on 127.0.0.1:5432"
        );
        settings.database.url = SecretString::from(through_proxy);
        settings.database.statement_timeout_ms = 1000;
        settings.database.acquire_timeout_ms = 1000;
        settings.database.query_timeout_ms = 1500;
    })
    .await;
    // Warm the pool: the requests below find connections already open.
    for _ in 0..4 {
        assert_eq!(app.get("/api/v1/districts").await.status().as_u16(), 200);
    }

    frozen.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let answers = futures_util::future::join_all(
        (0..3).map(|_| async { (app.get("/api/v1/districts").await, started.elapsed()) }),
    );
    // Fail, rather than hang for as long as the freeze lasts, when there is no deadline.
    let answers = tokio::time::timeout(Duration::from_secs(10), answers)
        .await
        .expect("requests to a frozen database must be answered");
    for (response, elapsed) in answers {
        problem(response, 503, "service_unavailable").await;
        // The deadline (1.5 s) or the acquire timeout (1 s), plus slack for a loaded machine;
        // without the deadline this request waits for as long as the freeze lasts.
        assert!(
            elapsed < Duration::from_secs(4),
            "answered after {elapsed:?}"
        );
    }
    let readyz = app.get("/readyz").await;
    assert_eq!(readyz.status().as_u16(), 503);

    frozen.store(false, Ordering::SeqCst);
    // The connections given up on were closed, so no request meets one of them again.
    let thawed = Instant::now();
    for _ in 0..8 {
        assert_eq!(app.get("/api/v1/districts").await.status().as_u16(), 200);
    }
    assert!(
        thawed.elapsed() < Duration::from_secs(3),
        "{:?}",
        thawed.elapsed()
    );
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
}
