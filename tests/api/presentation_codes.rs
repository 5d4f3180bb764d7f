//! Holder binding's single-use secrets (issue 18, points 2 and 3): holders' dynamic presentation
//! codes (`POST /cards/{id}/presentation-code`), agencies' verification nonces
//! (`POST /verifications/nonce`), the models that consume them once (two instances and two
//! agencies racing), their sweep and their configuration.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use talentcard::clock::Clock;
use talentcard::configuration::{Environment, Settings};
use talentcard::credentials::presentation_code::{PresentationCode, nonce_hash};
use talentcard::models::presentation::{self, CodeUse, NonceUse};
use talentcard::models::sweep;
use talentcard::startup::sweep_policy;
use uuid::Uuid;

use crate::cards::{Issued, issue_card};
use crate::helpers::{TestApp, manifest_dir, problem, second_instance, spawn_app, spawn_app_with};
use crate::users::TestUser;

/// The parties of most tests: an XA official, a card of a holder, an administrator and an agency
/// (its id and an access token).
struct World {
    official: TestUser,
    issued: Issued,
    agency: Uuid,
    agency_token: String,
    admin: TestUser,
}

async fn world(app: &TestApp) -> World {
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(app, &official, 1).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (agency, _, _, agency_token) = app.agency(&admin, "xiongan", &["tourism_pass"]).await;
    World {
        official,
        issued,
        agency,
        agency_token,
        admin,
    }
}

async fn request_code(app: &TestApp, card_id: &str, token: Option<&str>) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/cards/{card_id}/presentation-code"),
        &json!({}),
        token,
    )
    .await
}

/// A fresh code of the holder's card, as the API answers it.
async fn new_code(app: &TestApp, issued: &Issued) -> Value {
    let response = request_code(app, issued.id(), Some(&issued.talent.access)).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

fn parsed(body: &Value) -> PresentationCode {
    PresentationCode::parse(body["code"].as_str().unwrap()).unwrap()
}

async fn request_nonce(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    app.post_json("/api/v1/verifications/nonce", &json!({}), token)
        .await
}

async fn new_nonce(app: &TestApp, token: &str) -> String {
    let response = request_nonce(app, Some(token)).await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    body["nonce"].as_str().unwrap().to_owned()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql).get_result(conn).await.unwrap();
    row.n
}

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    hash: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    owner: Uuid,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
}

async fn stored(conn: &mut AsyncPgConnection, sql: &str) -> Vec<Stored> {
    diesel::sql_query(sql).load(conn).await.unwrap()
}

/// Draws an SVG of `qrcode`'s renderer (one path of `M{x} {y}h{w}v{h}H{x}V{y}` rectangles) into
/// a greyscale image and decodes it with rqrr: the SVG the holder's app shows reads back.
fn read_svg_qr(svg: &str) -> String {
    let size: usize = svg
        .split("width=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let path = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut pixels = vec![255u8; size * size];
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (left, top, width, height) = (numbers[0], numbers[1], numbers[2], numbers[3]);
        for y in top..top + height {
            pixels[y * size + left..y * size + left + width].fill(0);
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| pixels[y * size + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    let (meta, content) = grids[0].decode().unwrap();
    eprintln!(
        "presentation code: {} characters; QR version {} at level M",
        content.len(),
        meta.version.0
    );
    assert!(meta.version.0 <= 4, "version {}", meta.version.0);
    // rqrr numbers the levels 0 = M, 1 = L, 2 = H, 3 = Q (the format bits' order).
    assert_eq!(meta.ecc_level, 0, "level M");
    content
}

#[tokio::test]
async fn a_holder_gets_a_single_use_code_that_is_stored_hashed() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let before = app.clock.now();
    let response = request_code(&app, w.issued.id(), Some(&w.issued.talent.access)).await;
    let after = app.clock.now();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let code = body["code"].as_str().unwrap();
    assert!(code.starts_with("TC1:") && code.len() == 30, "{code}");
    let canonical = PresentationCode::parse(code).unwrap();
    assert_eq!(canonical.as_str(), code, "served in its canonical form");
    let expires_at: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        expires_at >= before + Duration::seconds(60) && expires_at <= after + Duration::seconds(60),
        "expires_at = now + 60 s by default: {expires_at}"
    );
    assert_eq!(read_svg_qr(body["qr_svg"].as_str().unwrap()), code);

    let mut conn = app.connect().await;
    let rows = stored(
        &mut conn,
        "SELECT code_hash AS hash, card_id AS owner, created_at, expires_at FROM presentation_codes",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].hash, canonical.hash(), "only the SHA-256 is stored");
    assert_ne!(rows[0].hash, code);
    assert_eq!(rows[0].owner.to_string(), w.issued.id());
    assert_eq!(
        rows[0].expires_at - rows[0].created_at,
        Duration::seconds(60)
    );
    assert_eq!(rows[0].expires_at, expires_at);

    // Each request makes a new code.
    let second = new_code(&app, &w.issued).await;
    assert_ne!(second["code"], body["code"]);
}

#[tokio::test]
async fn only_the_holder_gets_a_code_and_refusals_write_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let other = issue_card(&app, &w.official, 2).await;
    let id = w.issued.id();
    let body = problem(
        request_code(&app, id, Some(&other.talent.access)).await,
        404,
        "not_found",
    )
    .await;
    assert!(!body.to_string().contains(id), "{body}");
    let unknown = Uuid::now_v7().to_string();
    problem(
        request_code(&app, &unknown, Some(&w.issued.talent.access)).await,
        404,
        "not_found",
    )
    .await;
    problem(
        request_code(&app, id, Some(&w.official.access)).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        request_code(&app, id, Some(&w.admin.access)).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        request_code(&app, id, Some(&w.agency_token)).await,
        403,
        "forbidden",
    )
    .await;
    problem(request_code(&app, id, None).await, 401, "unauthorized").await;
    problem(
        request_code(&app, "not-a-uuid", Some(&w.issued.talent.access)).await,
        404,
        "not_found",
    )
    .await;
    let mut conn = app.connect().await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM presentation_codes").await,
        0
    );
}

#[tokio::test]
async fn a_suspended_card_still_gets_a_code_that_names_it() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let suspended = app
        .post_json(
            &format!("/api/v1/cards/{}/suspend", w.issued.id()),
            &json!({ "reason_code": "under_investigation" }),
            Some(&w.official.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    // The verification answers the card's own status; the code only points at the card.
    let code = parsed(&new_code(&app, &w.issued).await);
    let mut conn = app.pool.get().await.unwrap();
    let used = presentation::consume_code(&mut conn, &code, w.agency, app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        used,
        CodeUse::Fresh {
            card_id: w.issued.id().parse().unwrap()
        }
    );
}

#[tokio::test]
async fn the_code_lifetime_is_configurable() {
    let app = spawn_app_with(|s| s.cards.presentation_code_ttl_secs = 300).await;
    let w = world(&app).await;
    let before = app.clock.now();
    let body = new_code(&app, &w.issued).await;
    let expires_at: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires_at - before;
    assert!(
        lifetime >= Duration::seconds(300) && lifetime < Duration::seconds(305),
        "{lifetime}"
    );
}

#[tokio::test]
async fn codes_are_limited_per_holder_and_minute() {
    let app = spawn_app().await;
    let w = world(&app).await;
    // Start at the beginning of a minute window so the ten fit in one.
    let now = app.clock.now();
    let into_minute = now.timestamp_millis().rem_euclid(60_000);
    app.clock
        .advance(Duration::milliseconds(60_000 - into_minute + 100));
    for _ in 0..10 {
        new_code(&app, &w.issued).await;
    }
    let refused = request_code(&app, w.issued.id(), Some(&w.issued.talent.access)).await;
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    problem(refused, 429, "rate_limited").await;
    let mut conn = app.connect().await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM presentation_codes").await,
        10,
        "the refused request stored nothing"
    );
    // Another holder is not held back, and the holder may go on next minute.
    let other = issue_card(&app, &w.official, 2).await;
    new_code(&app, &other).await;
    app.clock.advance(Duration::seconds(60));
    new_code(&app, &w.issued).await;
}

#[tokio::test]
async fn a_code_verifies_once_then_replays_and_an_unused_one_expires() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (_, _, _, second_agency_token) = app.agency(&w.admin, "tongzhou", &["tourism_pass"]).await;
    let second_agency = agency_of(&app, &second_agency_token).await;
    let card_id: Uuid = w.issued.id().parse().unwrap();
    let mut conn = app.pool.get().await.unwrap();

    let shown = parsed(&new_code(&app, &w.issued).await);
    let now = app.clock.now();
    let first = presentation::consume_code(&mut conn, &shown, w.agency, now).await;
    assert_eq!(first.unwrap(), CodeUse::Fresh { card_id });
    for agency in [w.agency, second_agency] {
        let again = presentation::consume_code(&mut conn, &shown, agency, app.clock.now()).await;
        assert_eq!(again.unwrap(), CodeUse::Replayed { card_id }, "any agency");
    }
    // The lower-cased text is the same code.
    let lower = PresentationCode::parse(&shown.as_str().to_ascii_lowercase()).unwrap();
    let again = presentation::consume_code(&mut conn, &lower, w.agency, now).await;
    assert_eq!(again.unwrap(), CodeUse::Replayed { card_id });
    let mut raw = app.connect().await;
    let used_by: Vec<Stored> = stored(
        &mut raw,
        "SELECT code_hash AS hash, used_by_agency AS owner, created_at, used_at AS expires_at \
         FROM presentation_codes WHERE used_at IS NOT NULL",
    )
    .await;
    assert_eq!(used_by.len(), 1);
    assert_eq!(used_by[0].owner, w.agency, "the first agency used it");

    // An unused code: fine up to its expiry, expired from then on.
    let late = parsed(&new_code(&app, &w.issued).await);
    app.clock.advance(Duration::seconds(61));
    let expired = presentation::consume_code(&mut conn, &late, w.agency, app.clock.now()).await;
    assert_eq!(expired.unwrap(), CodeUse::Expired { card_id });
    let still = presentation::consume_code(&mut conn, &late, w.agency, app.clock.now()).await;
    assert_eq!(still.unwrap(), CodeUse::Expired { card_id }, "not consumed");
    // A used code stays replayed after its expiry.
    let replayed = presentation::consume_code(&mut conn, &shown, w.agency, app.clock.now()).await;
    assert_eq!(replayed.unwrap(), CodeUse::Replayed { card_id });

    // A code just before its expiry is fresh.
    let edge = parsed(&new_code(&app, &w.issued).await);
    let at = app.clock.now() + Duration::seconds(55);
    let fresh = presentation::consume_code(&mut conn, &edge, w.agency, at).await;
    assert_eq!(fresh.unwrap(), CodeUse::Fresh { card_id });

    // Never issued: unknown.
    let never = PresentationCode::generate();
    let unknown = presentation::consume_code(&mut conn, &never, w.agency, app.clock.now()).await;
    assert_eq!(unknown.unwrap(), CodeUse::Unknown);
}

/// The agency id behind an agency access token.
async fn agency_of(app: &TestApp, token: &str) -> Uuid {
    let nonce = new_nonce(app, token).await;
    let mut conn = app.connect().await;
    let rows = stored(
        &mut conn,
        &format!(
            "SELECT nonce_hash AS hash, agency_id AS owner, created_at, expires_at \
             FROM verification_nonces WHERE nonce_hash = '{}'",
            nonce_hash(&nonce)
        ),
    )
    .await;
    rows[0].owner
}

#[tokio::test]
async fn an_agency_gets_a_nonce_bound_to_it_and_stored_hashed() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let before = app.clock.now();
    let response = request_nonce(&app, Some(&w.agency_token)).await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    let nonce = body["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 43, "256 bits, base64url: {nonce}");
    assert!(
        nonce
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    let mut conn = app.connect().await;
    let rows = stored(
        &mut conn,
        "SELECT nonce_hash AS hash, agency_id AS owner, created_at, expires_at \
         FROM verification_nonces",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].hash, nonce_hash(nonce));
    assert_eq!(rows[0].owner, w.agency);
    assert!(rows[0].created_at >= before);
    assert_eq!(
        rows[0].expires_at - rows[0].created_at,
        Duration::seconds(300)
    );
    assert_ne!(new_nonce(&app, &w.agency_token).await, nonce);

    // Nobody but an agency client gets one, and refusals store nothing.
    for token in [
        Some(w.issued.talent.access.as_str()),
        Some(w.official.access.as_str()),
        Some(w.admin.access.as_str()),
    ] {
        problem(request_nonce(&app, token).await, 403, "forbidden").await;
    }
    problem(request_nonce(&app, None).await, 401, "unauthorized").await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM verification_nonces").await,
        2
    );
}

#[tokio::test]
async fn nonces_are_limited_per_agency_and_minute() {
    let app = spawn_app_with(|s| s.partners.verifications_per_minute = 3).await;
    let w = world(&app).await;
    let now = app.clock.now();
    let into_minute = now.timestamp_millis().rem_euclid(60_000);
    app.clock
        .advance(Duration::milliseconds(60_000 - into_minute + 100));
    for _ in 0..3 {
        new_nonce(&app, &w.agency_token).await;
    }
    let refused = request_nonce(&app, Some(&w.agency_token)).await;
    assert!(refused.headers().contains_key("retry-after"));
    problem(refused, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(60));
    new_nonce(&app, &w.agency_token).await;
}

#[tokio::test]
async fn a_nonce_is_used_once_by_its_own_agency_within_300_seconds() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (_, _, _, other_token) = app.agency(&w.admin, "tongzhou", &["tourism_pass"]).await;
    let other = agency_of(&app, &other_token).await;
    let mut conn = app.pool.get().await.unwrap();
    let now = app.clock.now();

    let nonce = new_nonce(&app, &w.agency_token).await;
    // Another agency's nonce is unknown to it, and stays usable by its own agency.
    let foreign = presentation::consume_nonce(&mut conn, &nonce, other, now).await;
    assert_eq!(foreign.unwrap(), NonceUse::Unknown);
    let first = presentation::consume_nonce(&mut conn, &nonce, w.agency, now).await;
    assert_eq!(first.unwrap(), NonceUse::Fresh);
    let again = presentation::consume_nonce(&mut conn, &nonce, w.agency, now).await;
    assert_eq!(again.unwrap(), NonceUse::Replayed);
    let foreign = presentation::consume_nonce(&mut conn, &nonce, other, now).await;
    assert_eq!(foreign.unwrap(), NonceUse::Unknown, "used, but not theirs");

    // Unused past 300 s: unknown.
    let stale = new_nonce(&app, &w.agency_token).await;
    let at = app.clock.now() + Duration::seconds(301);
    let expired = presentation::consume_nonce(&mut conn, &stale, w.agency, at).await;
    assert_eq!(expired.unwrap(), NonceUse::Unknown);
    let edge = presentation::consume_nonce(
        &mut conn,
        &stale,
        w.agency,
        app.clock.now() + Duration::seconds(295),
    )
    .await;
    assert_eq!(edge.unwrap(), NonceUse::Fresh, "just inside 300 s");

    for never in ["", "not-a-nonce", &talentcard::crypto::random::token("")] {
        let unknown = presentation::consume_nonce(&mut conn, never, w.agency, now).await;
        assert_eq!(unknown.unwrap(), NonceUse::Unknown, "{never:?}");
    }
}

/// 20 consumers (10 per instance, alternating two agencies) each hold a pooled connection and
/// start together; returns their answers.
async fn race<T, F>(pools: [&talentcard::db::DbPool; 2], consume: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(talentcard::db::DbConn, usize) -> futures_util::future::BoxFuture<'static, T>
        + Send
        + Sync
        + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let consume = Arc::new(consume);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let pool = pools[i % 2].clone();
        let barrier = barrier.clone();
        let consume = consume.clone();
        tasks.push(tokio::spawn(async move {
            let conn = pool.get().await.unwrap();
            barrier.wait().await;
            consume(conn, i).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_consumers_on_two_instances_use_a_code_and_a_nonce_once() {
    let app = spawn_app_with(|s| s.database.pool_size = 10).await;
    let twin = second_instance(&app).await;
    let w = world(&app).await;
    let (_, _, _, other_token) = app.agency(&w.admin, "tongzhou", &["tourism_pass"]).await;
    let agencies = [w.agency, agency_of(&app, &other_token).await];
    let card_id: Uuid = w.issued.id().parse().unwrap();
    let now = app.clock.now();

    for round in 0..3 {
        let code = parsed(&new_code(&app, &w.issued).await);
        let answers = race([&app.pool, &twin.pool], move |mut conn, i| {
            let code = code.clone();
            Box::pin(async move {
                presentation::consume_code(&mut conn, &code, agencies[i % 2], now)
                    .await
                    .unwrap()
            })
        })
        .await;
        let fresh = answers
            .iter()
            .filter(|a| matches!(a, CodeUse::Fresh { .. }))
            .count();
        assert_eq!(fresh, 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, CodeUse::Fresh { card_id: c } | CodeUse::Replayed { card_id: c } if *c == card_id)),
            "{answers:?}"
        );

        // One agency's nonce: its consumers race (the other agency's get unknown).
        let nonce = new_nonce(&app, &w.agency_token).await;
        let answers = race([&app.pool, &twin.pool], move |mut conn, i| {
            let nonce = nonce.clone();
            Box::pin(async move {
                let agency = if i % 4 < 3 { agencies[0] } else { agencies[1] };
                presentation::consume_nonce(&mut conn, &nonce, agency, now)
                    .await
                    .unwrap()
            })
        })
        .await;
        let fresh = answers.iter().filter(|a| **a == NonceUse::Fresh).count();
        assert_eq!(fresh, 1, "round {round}: {answers:?}");
        for (i, answer) in answers.iter().enumerate() {
            if i % 4 == 3 {
                assert_eq!(*answer, NonceUse::Unknown, "another agency's nonce");
            } else {
                assert_ne!(*answer, NonceUse::Unknown, "{answers:?}");
            }
        }
    }
}

#[tokio::test]
async fn the_sweep_deletes_codes_and_nonces_an_hour_past_expiry() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let card_id: Uuid = w.issued.id().parse().unwrap();
    let now = app.clock.now();
    let mut conn = app.pool.get().await.unwrap();
    let code_made = async |conn: &mut AsyncPgConnection, minutes_ago: i64| {
        let code = PresentationCode::generate();
        let at = now - Duration::minutes(minutes_ago);
        presentation::insert_code(conn, card_id, &code, at, at + Duration::seconds(60))
            .await
            .unwrap();
        code
    };
    let nonce_made = async |conn: &mut AsyncPgConnection, minutes_ago: i64| {
        let nonce = talentcard::credentials::presentation_code::new_nonce();
        let at = now - Duration::minutes(minutes_ago);
        presentation::insert_nonce(conn, &nonce, w.agency, at, at + Duration::seconds(300))
            .await
            .unwrap();
        nonce
    };
    // Expired more than an hour ago (one of them used), expired less than an hour ago, live.
    let old_code = code_made(&mut conn, 62).await;
    let used_code = code_made(&mut conn, 70).await;
    let before = now - Duration::minutes(70);
    let used = presentation::consume_code(&mut conn, &used_code, w.agency, before).await;
    assert_eq!(used.unwrap(), CodeUse::Fresh { card_id });
    let recent_code = code_made(&mut conn, 50).await;
    let live_code = code_made(&mut conn, 0).await;
    let old_nonce = nonce_made(&mut conn, 66).await;
    let recent_nonce = nonce_made(&mut conn, 30).await;
    let live_nonce = nonce_made(&mut conn, 0).await;

    let mut sweeper = app.connect().await;
    let report = sweep::run(&mut sweeper, sweep_policy(&app.settings, now))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.presentation_codes, 2);
    assert_eq!(report.verification_nonces, 1);
    for (code, expected) in [
        (&old_code, CodeUse::Unknown),
        (&used_code, CodeUse::Unknown),
        (&recent_code, CodeUse::Expired { card_id }),
        (&live_code, CodeUse::Fresh { card_id }),
    ] {
        let found = presentation::consume_code(&mut conn, code, w.agency, now).await;
        assert_eq!(found.unwrap(), expected);
    }
    let left = format!(
        "SELECT count(*) AS n FROM verification_nonces WHERE nonce_hash IN ('{}', '{}')",
        nonce_hash(&recent_nonce),
        nonce_hash(&live_nonce)
    );
    assert_eq!(count(&mut sweeper, &left).await, 2);
    assert_eq!(
        count(
            &mut sweeper,
            "SELECT count(*) AS n FROM verification_nonces"
        )
        .await,
        2
    );
    let gone = presentation::consume_nonce(&mut conn, &old_nonce, w.agency, now).await;
    assert_eq!(gone.unwrap(), NonceUse::Unknown);
    let again = sweep::run(&mut sweeper, sweep_policy(&app.settings, now)).await;
    assert_eq!(again.unwrap().unwrap(), sweep::SweepReport::default());
}

fn settings_with(ttl: Option<&str>) -> Result<Settings, String> {
    let mut variables: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| !name.starts_with("TALENTCARD__"))
        .collect();
    if let Some(ttl) = ttl {
        variables.push((
            "TALENTCARD__CARDS__PRESENTATION_CODE_TTL_SECS".to_owned(),
            ttl.to_owned(),
        ));
    }
    Settings::load_with(&manifest_dir().join("config"), Environment::Test, variables)
        .map_err(|e| e.to_string())
}

#[test]
fn the_code_lifetime_defaults_to_60_and_is_refused_outside_1_to_300() {
    assert_eq!(
        settings_with(None)
            .unwrap()
            .cards
            .presentation_code_ttl_secs,
        60
    );
    for good in ["1", "300"] {
        let settings = settings_with(Some(good)).unwrap();
        assert_eq!(settings.cards.presentation_code_ttl_secs.to_string(), good);
    }
    for bad in ["0", "301", "-5"] {
        let error = settings_with(Some(bad)).err().unwrap_or_default();
        assert!(
            error.contains("TALENTCARD__CARDS__PRESENTATION_CODE_TTL_SECS"),
            "{bad}: {error}"
        );
    }
}
