//! One live card per holder and scheme: a second must name the card it replaces, the official
//! deciding sees the applicant's live cards, and two approvals at once yield one card.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn a_second_live_card_of_a_scheme_is_refused_and_shown_to_the_official() {
    let app = spawn_app().await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let talent = app.talent("twice@example.cn").await;
    app.put_profile(&talent, 600).await;
    let first = app.submitted(&talent, 40).await;
    let approved: Value = app
        .decide(
            &xa,
            &first,
            json!({ "decision": "approve", "tier": "B", "comment": "ok" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let number = approved["card"]["number"].as_str().unwrap().to_owned();
    let card_id = approved["card"]["id"].as_str().unwrap().to_owned();

    // A new application of the same scheme that does not replace the card.
    let second = app.submitted(&talent, 40).await;
    let view: Value = app
        .get_as(&format!("/api/v1/applications/{second}"), &xa.access)
        .await
        .json()
        .await
        .unwrap();
    let cards = view["applicant_cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{view}");
    assert_eq!(cards[0]["id"], card_id.as_str());
    assert_eq!(cards[0]["number"], number.as_str());
    assert_eq!(cards[0]["scheme"], "XIONGAN");
    assert_eq!(cards[0]["issuer"], "XA");
    assert_eq!(cards[0]["tier"], "B");
    assert_eq!(cards[0]["status"], "active");
    assert!(cards[0]["valid_until"].is_string());
    // The talent's own view does not carry it (they see their cards at /cards).
    let own: Value = app
        .get_as(&format!("/api/v1/applications/{second}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(own.get("applicant_cards").is_none(), "{own}");

    let refused = problem(
        app.decide(
            &xa,
            &second,
            json!({ "decision": "approve", "tier": "B", "comment": "ok" }),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains(&number),
        "the detail names the live card: {refused}"
    );
    // Nothing was written: still one card, the application still submitted.
    assert_eq!(app.items("/api/v1/cards", &talent.access).await.len(), 1);
    let still: Value = app
        .get_as(&format!("/api/v1/applications/{second}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "submitted");
    // A suspended card is still live.
    let suspended = app
        .post_json(
            &format!("/api/v1/cards/{card_id}/suspend"),
            &json!({ "reason_code": "under_investigation" }),
            Some(&xa.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    problem(
        app.decide(
            &xa,
            &second,
            json!({ "decision": "approve", "tier": "B", "comment": "ok" }),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    // Once it is revoked, a new card may be issued.
    app.post_json(
        &format!("/api/v1/cards/{card_id}/revoke"),
        &json!({ "reason_code": "holder_request" }),
        Some(&xa.access),
    )
    .await;
    let view: Value = app
        .get_as(&format!("/api/v1/applications/{second}"), &xa.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["applicant_cards"], json!([]));
    let issued = app
        .decide(
            &xa,
            &second,
            json!({ "decision": "approve", "tier": "B", "comment": "ok" }),
        )
        .await;
    assert_eq!(issued.status().as_u16(), 200);
}

#[tokio::test]
async fn two_approvals_for_one_holder_and_scheme_at_once_yield_one_card() {
    let app = spawn_app().await;
    let lf = app.staff("lf@example.cn", "official", Some("LF")).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let talent = app.talent("two-issuers@example.cn").await;
    app.put_profile(&talent, 601).await;
    // The API keeps one open application per holder and scheme (a unique index); the lock must
    // hold on its own, so this test lifts that index to put two TWL applications, at LF and at
    // TZ, in the two officials' queues at once.
    let mut conn = app.connect().await;
    diesel::sql_query("DROP INDEX applications_one_open_idx")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for issuer in ["LF", "TZ"] {
        let mut facts = crate::schemes::doctorate(40);
        facts["employer"]["district"] = json!("langfang");
        let body = json!({ "scheme": "TWL", "issuer": issuer, "facts": facts });
        let created: Value = app
            .send("POST", "/api/v1/applications", &talent.access, Some(&body))
            .await
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let submitted = app
            .send(
                "POST",
                &format!("/api/v1/applications/{id}/submit"),
                &talent.access,
                None,
            )
            .await;
        assert_eq!(submitted.status().as_u16(), 200);
        ids.push(id);
    }
    let approve = json!({ "decision": "approve", "tier": "A", "comment": "verified" });
    let (a, b) = tokio::join!(
        app.decide(&lf, &ids[0], approve.clone()),
        app.decide(&tz, &ids[1], approve.clone())
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let cards: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM cards WHERE scheme = 'TWL' AND status = 'active'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(cards.n, 1, "one card");
}
