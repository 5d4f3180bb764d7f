//! Identity documents bound to people: applications keep the document they were submitted
//! with, a document in use is frozen, a document held by another account is answered like any
//! other (and disputed, audited, throttled), and a dispute is resolved by the issuer or an
//! administrator after checking the person.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::applications::resident_id;
use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::users::TestUser;

/// Puts a resident ID `n` (and a phone) as `user`; the raw answer.
async fn put(app: &TestApp, user: &TestUser, n: u32, phone: Option<&str>) -> reqwest::Response {
    let body = json!({ "id_type": "resident_id", "id_number": resident_id(n), "phone": phone });
    app.client
        .put(format!("{}/api/v1/me/profile", app.address))
        .bearer_auth(&user.access)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn masked_of(app: &TestApp, user: &TestUser) -> Value {
    let me: Value = app
        .get_as("/api/v1/me", &user.access)
        .await
        .json()
        .await
        .unwrap();
    me["profile"]["id_number_masked"].clone()
}

async fn official_view(app: &TestApp, official: &TestUser, id: &str) -> Value {
    let response = app
        .get_as(&format!("/api/v1/applications/{id}"), &official.access)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
}

/// The one open dispute of the test's database.
pub async fn open_dispute(app: &TestApp) -> uuid::Uuid {
    let mut conn = app.connect().await;
    let open: Vec<Id> =
        diesel::sql_query("SELECT id FROM document_disputes WHERE resolved_at IS NULL")
            .load(&mut conn)
            .await
            .unwrap();
    assert_eq!(open.len(), 1, "one open dispute");
    open[0].id
}

async fn resolve(app: &TestApp, path: &str, user: &TestUser, body: &Value) -> reqwest::Response {
    app.send("POST", path, &user.access, Some(body)).await
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.connect().await;
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM audit_log WHERE action = $1")
        .bind::<diesel::sql_types::Text, _>(action)
        .get_result(&mut conn)
        .await
        .unwrap();
    count.n
}

#[tokio::test]
async fn officials_see_the_document_the_application_was_submitted_with() {
    let app = spawn_app().await;
    let talent = app.talent("swap@example.cn").await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    app.put_profile(&talent, 101).await;
    let id = app.submitted(&talent, 40).await;
    let withdraw = format!("/api/v1/applications/{id}/withdraw");
    assert_eq!(
        app.send("POST", &withdraw, &talent.access, None)
            .await
            .status()
            .as_u16(),
        200
    );
    // Nothing open any more: the profile may change; the application keeps what it was sent with.
    assert_eq!(put(&app, &talent, 102, None).await.status().as_u16(), 200);
    let view = official_view(&app, &official, &id).await;
    assert_eq!(view["applicant"]["id_number"], resident_id(101));
    assert_eq!(view["applicant"]["document_dispute"], Value::Null);

    // A new application leaves with the new document.
    let second = app.submitted(&talent, 40).await;
    let view = official_view(&app, &official, &second).await;
    assert_eq!(view["applicant"]["id_number"], resident_id(102));
}

#[tokio::test]
async fn a_document_in_use_is_frozen_and_changes_through_the_issuer() {
    let app = spawn_app().await;
    let talent = app.talent("frozen@example.cn").await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    app.put_profile(&talent, 111).await;
    let id = app.draft(&talent, 40).await;
    // A draft uses nothing yet.
    assert_eq!(put(&app, &talent, 112, None).await.status().as_u16(), 200);
    let submit = format!("/api/v1/applications/{id}/submit");
    assert_eq!(
        app.send("POST", &submit, &talent.access, None)
            .await
            .status()
            .as_u16(),
        200
    );

    let locked = problem(put(&app, &talent, 113, None).await, 409, "document_locked").await;
    assert!(
        locked["detail"].as_str().unwrap().contains("issuer"),
        "{locked}"
    );
    assert_eq!(
        masked_of(&app, &talent).await,
        "110***********".to_owned() + &resident_id(112)[14..]
    );
    // The same document with a new phone is no change of document.
    assert_eq!(
        put(&app, &talent, 112, Some("13812345678"))
            .await
            .status()
            .as_u16(),
        200
    );

    let approved = app
        .decide(
            &official,
            &id,
            json!({ "decision": "approve", "tier": "A", "comment": "checked" }),
        )
        .await;
    assert_eq!(approved.status().as_u16(), 200);
    // A live card: still frozen, and the official's view still the submitted document.
    problem(put(&app, &talent, 114, None).await, 409, "document_locked").await;
    let view = official_view(&app, &official, &id).await;
    assert_eq!(view["applicant"]["id_number"], resident_id(112));
}

#[tokio::test]
async fn a_document_held_elsewhere_is_answered_alike_disputed_and_resolved_by_the_issuer() {
    let app = spawn_app().await;
    let owner = app.talent("owner@example.cn").await;
    let squatter = app.talent("squatter@example.cn").await;
    let fresh = app.talent("fresh@example.cn").await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;

    // The squatter registers the owner's number first; the owner's answer is the one anybody
    // storing a number nobody holds gets.
    assert_eq!(put(&app, &squatter, 121, None).await.status().as_u16(), 200);
    let squatter_app = app.submitted(&squatter, 40).await;
    let claimed = put(&app, &owner, 121, None).await;
    assert_eq!(claimed.status().as_u16(), 200);
    let claimed: Value = claimed.json().await.unwrap();
    let unclaimed: Value = put(&app, &fresh, 122, None).await.json().await.unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&claimed), keys(&unclaimed), "the same answer");
    assert_eq!(claimed["id_number_masked"].as_str().unwrap().len(), 18);
    assert_eq!(audit_count(&app, "profile.document_conflict").await, 1);
    let dispute = open_dispute(&app).await;

    // The owner can submit; neither application is approved while the dispute is open, and
    // the official sees it on both.
    let owner_app = app.submitted(&owner, 40).await;
    for id in [&owner_app, &squatter_app] {
        let view = official_view(&app, &xa, id).await;
        assert_eq!(view["applicant"]["document_dispute"], dispute.to_string());
        let refused = app
            .decide(
                &xa,
                id,
                json!({ "decision": "approve", "tier": "A", "comment": "checked" }),
            )
            .await;
        problem(refused, 409, "document_disputed").await;
    }

    // Resolution: only staff, only an issuer concerned, only to a party, with a comment.
    let path = format!("/api/v1/document-disputes/{dispute}/resolution");
    let to_owner =
        json!({ "assign_to": owner.id, "comment": "resident ID card checked at the XA desk" });
    problem(
        resolve(&app, &path, &owner, &to_owner).await,
        403,
        "forbidden",
    )
    .await;
    problem(resolve(&app, &path, &tz, &to_owner).await, 404, "not_found").await;
    let stranger = json!({ "assign_to": fresh.id, "comment": "x" });
    problem(
        resolve(&app, &path, &xa, &stranger).await,
        422,
        "validation_failed",
    )
    .await;
    let silent = json!({ "assign_to": owner.id, "comment": "  " });
    problem(
        resolve(&app, &path, &xa, &silent).await,
        422,
        "validation_failed",
    )
    .await;
    let resolved = resolve(&app, &path, &xa, &to_owner).await;
    assert_eq!(resolved.status().as_u16(), 200);
    let resolved: Value = resolved.json().await.unwrap();
    assert_eq!(resolved["assigned_to"], owner.id.to_string());
    assert_eq!(resolved["released"], squatter.id.to_string());
    problem(
        resolve(&app, &path, &admin, &to_owner).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(audit_count(&app, "document.dispute_resolved").await, 1);

    // The squatter's profile is freed, their application never approved; the owner's is.
    assert_eq!(masked_of(&app, &squatter).await, Value::Null);
    let refused = app
        .decide(
            &xa,
            &squatter_app,
            json!({ "decision": "approve", "tier": "A", "comment": "checked" }),
        )
        .await;
    problem(refused, 409, "document_disputed").await;
    let approved = app
        .decide(
            &xa,
            &owner_app,
            json!({ "decision": "approve", "tier": "A", "comment": "checked" }),
        )
        .await;
    assert_eq!(approved.status().as_u16(), 200);
    let view = official_view(&app, &xa, &owner_app).await;
    assert_eq!(view["applicant"]["document_dispute"], Value::Null);
}

#[tokio::test]
async fn two_accounts_racing_for_one_new_number_leave_one_holder_and_one_claim() {
    let app = spawn_app().await;
    let first = app.talent("first@example.cn").await;
    let second = app.talent("second@example.cn").await;
    let (a, b) = tokio::join!(put(&app, &first, 131, None), put(&app, &second, 131, None));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        held: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        disputed: i64,
    }
    let mut conn = app.connect().await;
    let counts: Counts = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE disputed_at IS NULL) AS held, \
                count(*) FILTER (WHERE disputed_at IS NOT NULL) AS disputed FROM profiles",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!((counts.held, counts.disputed), (1, 1));
    open_dispute(&app).await;
}

#[tokio::test]
async fn document_changes_are_throttled_per_account_and_address_whatever_the_number() {
    let app = spawn_app_with(|s| {
        s.documents.profile_changes_per_account_hour = 3;
        s.documents.profile_changes_per_address_hour = 5;
    })
    .await;
    let holder = app.talent("holder@example.cn").await;
    let prober = app.talent("prober@example.cn").await;
    let other = app.talent("other@example.cn").await;
    assert_eq!(put(&app, &holder, 140, None).await.status().as_u16(), 200);
    // Two numbers nobody holds and one that is held: all answered alike, and counted alike.
    for n in [141, 140, 142] {
        assert_eq!(
            put(&app, &prober, n, None).await.status().as_u16(),
            200,
            "{n}"
        );
    }
    for n in [140, 143] {
        let refused = put(&app, &prober, n, None).await;
        assert!(refused.headers().contains_key("retry-after"));
        problem(refused, 429, "rate_limited").await;
    }
    // Re-sending the document it has (a phone change) is no change of document.
    assert_eq!(
        put(&app, &prober, 142, Some("13812345678"))
            .await
            .status()
            .as_u16(),
        200
    );
    // Another account behind the same address: the address's allowance (5) is used up by the
    // holder's one, the prober's three counted changes and its two refused ones.
    problem(put(&app, &other, 144, None).await, 429, "rate_limited").await;
    assert_eq!(audit_count(&app, "profile.document_conflict").await, 1);
}
