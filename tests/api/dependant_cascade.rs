//! A property test of the dependant cascade: after any sequence of changes to a principal card
//! (suspend, resume, revoke, a renewal superseding it) and to its dependant cards (added,
//! suspended, resumed, revoked on their own), no dependant card is in force without its
//! principal: an active dependant has an active principal, a suspended one a live principal,
//! and every dependant of a revoked principal is revoked. The status list agrees with every
//! card's stored status.
//!
//! Each case runs on a freshly spawned application. `PROPTEST_CASES` sets the number of cases
//! (default 6).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{Value, json};
use talentcard::db::schema::cards;
use uuid::Uuid;

use crate::cards::list_entry;
use crate::families::{a_tier_card, dependant_body};
use crate::helpers::{TestApp, spawn_app};
use crate::users::TestUser;

/// One change.
#[derive(Debug, Clone)]
enum Op {
    /// The official suspends, resumes or revokes the current principal card.
    Principal(&'static str),
    /// The official suspends, resumes or revokes the dependant card picked.
    Dependant(usize, &'static str),
    /// The holder adds a dependant and the official approves it.
    Add,
    /// The holder renews the principal card and the official approves the renewal.
    Renew,
}

fn op() -> impl Strategy<Value = Op> {
    let action = prop::sample::select(&["suspend", "resume", "revoke"][..]);
    prop_oneof![
        4 => action.clone().prop_map(Op::Principal),
        3 => (0..4usize, action).prop_map(|(i, a)| Op::Dependant(i, a)),
        3 => Just(Op::Add),
        1 => Just(Op::Renew),
    ]
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    Config {
        cases,
        max_shrink_iters: 16,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_dependant_is_in_force_without_its_principal(ops in prop::collection::vec(op(), 4..=14)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(run(ops));
        drop(runtime);
        if let Err(message) = outcome {
            return Err(TestCaseError::fail(message));
        }
    }
}

fn body(action: &str) -> Value {
    match action {
        "suspend" => json!({ "reason_code": "under_investigation" }),
        "revoke" => json!({ "reason_code": "holder_request" }),
        _ => json!({}),
    }
}

struct World {
    holder: TestUser,
    official: TestUser,
    principal: String,
    dependants: Vec<String>,
    added: u32,
}

async fn apply(app: &TestApp, world: &mut World, op: &Op) -> Result<(), String> {
    let expect_2xx_or_4xx = |status: u16| {
        if (200..500).contains(&status) {
            Ok(())
        } else {
            Err(format!("{op:?}: {status}"))
        }
    };
    match op {
        Op::Principal(action) => {
            let path = format!("/api/v1/cards/{}/{action}", world.principal);
            let r = app
                .post_json(&path, &body(action), Some(&world.official.access))
                .await;
            expect_2xx_or_4xx(r.status().as_u16())
        }
        Op::Dependant(i, action) => {
            let Some(card) = world.dependants.get(*i % world.dependants.len().max(1)) else {
                return Ok(());
            };
            let path = format!("/api/v1/cards/{card}/{action}");
            let r = app
                .post_json(&path, &body(action), Some(&world.official.access))
                .await;
            expect_2xx_or_4xx(r.status().as_u16())
        }
        Op::Add => {
            world.added += 1;
            let person = dependant_body("家人", "parent", 800 + world.added, "1960-01-01");
            let path = format!("/api/v1/cards/{}/dependants", world.principal);
            let asked = app
                .post_json(&path, &person, Some(&world.holder.access))
                .await;
            if asked.status().as_u16() != 201 {
                return expect_2xx_or_4xx(asked.status().as_u16());
            }
            let asked: Value = asked.json().await.map_err(|e| e.to_string())?;
            let decided = app
                .decide(
                    &world.official,
                    asked["id"].as_str().unwrap_or_default(),
                    json!({ "decision": "approve" }),
                )
                .await;
            let status = decided.status().as_u16();
            if status == 200 {
                let decided: Value = decided.json().await.map_err(|e| e.to_string())?;
                world.dependants.push(
                    decided["card"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
                return Ok(());
            }
            expect_2xx_or_4xx(status)
        }
        Op::Renew => {
            let renewal = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": world.principal });
            let created = app
                .send(
                    "POST",
                    "/api/v1/applications",
                    &world.holder.access,
                    Some(&renewal),
                )
                .await;
            if created.status().as_u16() != 201 {
                return expect_2xx_or_4xx(created.status().as_u16());
            }
            let created: Value = created.json().await.map_err(|e| e.to_string())?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            app.send(
                "POST",
                &format!("/api/v1/applications/{id}/submit"),
                &world.holder.access,
                None,
            )
            .await;
            let decided = app
                .decide(
                    &world.official,
                    &id,
                    json!({ "decision": "approve", "tier": "A", "comment": "renewed" }),
                )
                .await;
            let status = decided.status().as_u16();
            if status == 200 {
                let decided: Value = decided.json().await.map_err(|e| e.to_string())?;
                world.principal = decided["card"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                // The carried-over dependants are the ones to act on from now.
                let cards = app.items("/api/v1/cards", &world.holder.access).await;
                world.dependants = cards
                    .iter()
                    .filter(|c| c["principal_card"] == json!(world.principal))
                    .filter_map(|c| c["id"].as_str().map(str::to_owned))
                    .collect();
                return Ok(());
            }
            // Withdraw what could not be approved, so a later renewal can be made.
            app.send(
                "POST",
                &format!("/api/v1/applications/{id}/withdraw"),
                &world.holder.access,
                None,
            )
            .await;
            expect_2xx_or_4xx(status)
        }
    }
}

type Row = (Uuid, String, String, Option<Uuid>, Option<i32>);

async fn check(app: &TestApp) -> Result<(), String> {
    let mut conn = app.connect().await;
    let rows: Vec<Row> = cards::table
        .select((
            cards::id,
            cards::kind,
            cards::status,
            cards::principal_card,
            cards::status_index,
        ))
        .load(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let status_of = |id: Uuid| rows.iter().find(|r| r.0 == id).map(|r| r.2.as_str());
    for (id, kind, status, principal, index) in &rows {
        if kind == "dependant" {
            let principal = principal.ok_or("a dependant without its principal")?;
            let principal_status = status_of(principal).ok_or("a dangling principal")?;
            let fine = match status.as_str() {
                "active" => principal_status == "active",
                "suspended" => principal_status != "revoked",
                _ => true,
            };
            if !fine {
                return Err(format!(
                    "dependant {id} is {status} under a {principal_status} principal"
                ));
            }
        }
        let expected = match status.as_str() {
            "active" => 0,
            "revoked" => 1,
            _ => 2,
        };
        let index = usize::try_from(index.ok_or("no status index")?).map_err(|e| e.to_string())?;
        let entry = list_entry(app, index).await;
        if entry != expected {
            return Err(format!(
                "card {id} is {status} but its list entry is {entry}"
            ));
        }
    }
    Ok(())
}

async fn run(ops: Vec<Op>) -> Result<(), String> {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 1, "A").await;
    let mut world = World {
        holder,
        official,
        principal: principal["id"].as_str().unwrap_or_default().to_owned(),
        dependants: Vec::new(),
        added: 0,
    };
    for op in &ops {
        apply(&app, &mut world, op).await?;
    }
    check(&app).await.map_err(|e| format!("{e} after {ops:?}"))
}
