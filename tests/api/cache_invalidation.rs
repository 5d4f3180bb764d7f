//! Shared data served from memory (agency clients, issuer keys, the policies in force) is
//! dropped on every instance when it changes: at once on the instance that changed it, within
//! a second on another, by PostgreSQL notification; and while an instance's listener is lost,
//! nothing stale is served once it is back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cards::kid_of;
use crate::helpers::{TestApp, second_instance, spawn_app};
use crate::partners::{credential, issue_twl, verify};

/// The longest another instance may go on answering from a stale copy.
const WITHIN: Duration = Duration::from_secs(1);

/// Waits (up to 10 s) until `app` serves shared data from memory: its listener is up.
async fn listening(app: &TestApp) {
    let started = Instant::now();
    while !app.metrics().await.contains("talentcard_cache_listening 1") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the cache listener did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two instances on one database, both listening.
async fn two_instances() -> (TestApp, TestApp) {
    let first = spawn_app().await;
    let second = second_instance(&first).await;
    listening(&first).await;
    listening(&second).await;
    (first, second)
}

/// Sets `twin`'s clock to `app`'s (setting up moves the first instance's clock: tokens it
/// issued would otherwise lie in the twin's future).
fn same_time(app: &TestApp, twin: &TestApp) {
    use talentcard::clock::Clock;
    twin.clock.advance(app.clock.now() - twin.clock.now());
}

/// How long until `answer` on `app` satisfies `done`, polled every 10 ms; fails past `WITHIN`.
async fn seen_within(
    app: &TestApp,
    token: &str,
    body: &Value,
    done: impl Fn(u16, &Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let response = verify(app, token, body.clone()).await;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if done(status, &answer) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < WITHIN,
            "still answered {status} {answer} after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_revoked_client_is_refused_here_at_once_and_on_another_instance_within_a_second() {
    let (here, there) = two_instances().await;
    let admin = here.staff("root@example.cn", "admin", None).await;
    let (agency, client, _, token) = here.agency(&admin, "tongzhou", &["tourism_pass"]).await;
    let body = json!({ "card_number": talentcard::domain::card_number::format("TZ", 2026, 1) });
    same_time(&here, &there);
    for app in [&here, &there] {
        assert_eq!(verify(app, &token, body.clone()).await.status(), 200);
    }

    let revoked = here
        .client
        .delete(format!(
            "{}/api/v1/admin/agencies/{agency}/clients/{client}",
            here.address
        ))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        verify(&here, &token, body.clone()).await.status(),
        401,
        "the instance that revoked it refuses the very next request"
    );
    let took = seen_within(&there, &token, &body, |status, _| status == 401).await;
    println!("another instance refused the revoked client after {took:?}");
}

#[tokio::test]
async fn a_compromised_key_is_refused_here_at_once_and_on_another_instance_within_a_second() {
    let (here, there) = two_instances().await;
    let admin = here.staff("root@example.cn", "admin", None).await;
    let (holder, _, card_id) = issue_twl(&here, 1).await;
    let (_, _, _, token) = here.agency(&admin, "langfang", &["tourism_pass"]).await;
    let shown = credential(&here, &holder, &card_id).await;
    let body = json!({ "credential": shown });
    same_time(&here, &there);
    for app in [&here, &there] {
        let answer: Value = verify(app, &token, body.clone())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "active", "{answer}");
    }

    let kid = kid_of(&shown);
    let withdrawn = here
        .post_json(
            &format!("/api/v1/admin/issuers/LF/keys/{kid}/compromise"),
            &json!({ "comment": "leaked" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    let answer: Value = verify(&here, &token, body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "untrusted", "at once here: {answer}");
    let took = seen_within(&there, &token, &body, |_, answer| {
        answer["status"] == "untrusted"
    })
    .await;
    println!("another instance refused the compromised key after {took:?}");
}

#[tokio::test]
async fn a_new_rules_version_is_applied_here_at_once_and_on_another_instance_within_a_second() {
    let (here, there) = two_instances().await;
    let admin = here.staff("root@example.cn", "admin", None).await;
    let (_, number, _) = issue_twl(&here, 2).await;
    let (_, _, _, tangshan) = here
        .agency(&admin, "tangshan", &["annual_health_check"])
        .await;
    let body = json!({ "card_number": number });
    same_time(&here, &there);
    for app in [&here, &there] {
        let answer: Value = verify(app, &tangshan, body.clone())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["local_tier"], Value::Null, "not recognised yet");
    }

    let mut rules: Value = here.get("/api/v1/recognitions").await.json().await.unwrap();
    rules["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "scheme": "TWL", "tier": "A", "district": "tangshan", "local_tier": "B" }));
    let published = here
        .client
        .put(format!("{}/api/v1/admin/recognitions", here.address))
        .bearer_auth(&admin.access)
        .json(&json!({ "rules": rules["rules"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 201);
    let answer: Value = verify(&here, &tangshan, body.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["local_tier"], "B", "at once here: {answer}");
    let took = seen_within(&there, &tangshan, &body, |_, answer| {
        answer["local_tier"] == "B"
    })
    .await;
    println!("another instance applied the new rules after {took:?}");
}

/// A change that notifies nobody (an operator disabled the triggers) is served stale, which
/// shows the copy in memory is what answers; once the listener is lost and back, the instance
/// drops everything it held, so whatever was missed meanwhile is not served either.
#[tokio::test]
async fn a_lost_listener_drops_every_copy_when_it_is_back() {
    let app = spawn_app().await;
    listening(&app).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, client, _, token) = app.agency(&admin, "tongzhou", &["tourism_pass"]).await;
    let body = json!({ "card_number": talentcard::domain::card_number::format("TZ", 2026, 1) });
    assert_eq!(verify(&app, &token, body.clone()).await.status(), 200);

    let mut conn = app.connect().await;
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    conn.batch_execute(&format!(
        "SET session_replication_role = replica;
         UPDATE agency_clients SET revoked_at = now() WHERE id = '{client}';
         SET session_replication_role = origin;"
    ))
    .await
    .unwrap();
    assert_eq!(
        verify(&app, &token, body.clone()).await.status(),
        200,
        "without a notification the copy in memory still answers"
    );

    let terminated: Vec<Terminated> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
          WHERE application_name = 'talentcard-cache-listener' AND datname = current_database()",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(terminated.len(), 1, "one listener");
    let started = Instant::now();
    loop {
        if verify(&app, &token, body.clone()).await.status() == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a lost listener must not leave stale copies in use"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    listening(&app).await;
    assert_eq!(verify(&app, &token, body).await.status(), 401);
}

#[derive(diesel::QueryableByName)]
struct Terminated {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    #[allow(dead_code)]
    done: bool,
}
