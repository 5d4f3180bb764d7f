//! Quotas belong to the holder and scheme: what was used on a card stays used on the card that
//! renews or upgrades it (lifetime, yearly and multi-year quotas alike).

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};
use crate::partners::{present, redeem_presented};

const SERVICES: [&str; 3] = ["annual_health_check", "children_schooling", "recuperation"];

fn uses(entitlements: &Value) -> Vec<(String, i64, i64)> {
    let mut out: Vec<(String, i64, i64)> = entitlements
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| SERVICES.contains(&e["service"].as_str().unwrap()))
        .map(|e| {
            (
                e["service"].as_str().unwrap().to_owned(),
                e["used"].as_i64().unwrap(),
                e["remaining"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A talent's approved XIONGAN card of tier B: the talent and the approval's `card` object.
async fn approved_b_card(
    app: &crate::helpers::TestApp,
    xa: &crate::users::TestUser,
    email: &str,
    (profile, age): (u32, i32),
) -> (crate::users::TestUser, Value) {
    let talent = app.talent(email).await;
    app.put_profile(&talent, profile).await;
    let application = app.submitted(&talent, age).await;
    let approved: Value = app
        .decide(
            xa,
            &application,
            json!({ "decision": "approve", "tier": "B", "comment": "checked" }),
        )
        .await
        .json()
        .await
        .unwrap();
    (talent, approved["card"].clone())
}

#[tokio::test]
async fn partners_quota_used_on_the_old_card_stays_used_after_a_replacement() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (talent, card) = approved_b_card(&app, &xa, "renewing@example.cn", (500, 40)).await;
    let old_card = card["id"].as_str().unwrap().to_owned();
    let (_, _, _, token) = app.agency(&admin, "xiongan", &SERVICES).await;
    for service in SERVICES {
        let done = redeem_presented(&app, &token, &talent, &old_card, service).await;
        assert_eq!(done.status().as_u16(), 201, "{service}");
    }

    // A renewal's card starts only when the old one ends (a new quota year); a replacement
    // after a loss is the card that takes over at once, under a new number.
    let lost = app
        .send(
            "POST",
            &format!("/api/v1/cards/{old_card}/report-loss"),
            &talent.access,
            Some(&json!({})),
        )
        .await;
    assert_eq!(lost.status().as_u16(), 200);
    let renewed = app
        .send(
            "POST",
            &format!("/api/v1/cards/{old_card}/replacement"),
            &talent.access,
            None,
        )
        .await;
    assert_eq!(renewed.status().as_u16(), 201);
    let renewed: Value = renewed.json().await.unwrap();
    let new_card = renewed["id"].as_str().unwrap().to_owned();
    assert_ne!(new_card, old_card);

    // The agency sees the holder's use on the new card, and the quota refuses a second time.
    let shown = present(&app, &token, &talent, &new_card).await;
    assert_eq!(shown["valid"], true);
    let expected: Vec<(String, i64, i64)> = {
        let mut e: Vec<_> = SERVICES.iter().map(|s| ((*s).to_owned(), 1, 0)).collect();
        e.sort();
        e
    };
    assert_eq!(uses(&shown["entitlements"]), expected);
    for service in SERVICES {
        problem(
            redeem_presented(&app, &token, &talent, &new_card, service).await,
            409,
            "quota_exhausted",
        )
        .await;
    }
    // So does the holder.
    let places: Vec<Value> = app
        .get_as(
            &format!("/api/v1/cards/{new_card}/entitlements"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let xiongan = places.iter().find(|p| p["district"] == "xiongan").unwrap();
    assert_eq!(uses(&xiongan["entitlements"]), expected);
}

#[tokio::test]
async fn partners_two_agencies_racing_on_a_quota_of_one_use_it_once() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, _, card_id) = crate::partners::issue_twl(&app, 90).await;
    let (_, _, _, first) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    let (_, _, _, second) = app.agency(&admin, "wuqing", &["annual_health_check"]).await;
    // Tongzhou and Wuqing count separately (quotas are per district); two Tongzhou agencies
    // share one.
    let (_, _, _, third) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    let mut bodies = Vec::new();
    for token in [&first, &third, &second] {
        let shown = present(&app, token, &holder, &card_id).await;
        bodies.push((
            token.to_owned(),
            json!({ "presentation_id": shown["presentation_id"], "service": "annual_health_check" }),
        ));
    }
    let attempts = (0..12).map(|i| {
        let (token, body) = &bodies[i % 3];
        app.post_json("/api/v1/redemptions", body, Some(token))
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "one in Tongzhou (whichever agency), one in Wuqing: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 10);
}

#[tokio::test]
async fn partners_two_cards_of_one_holder_share_a_quota_even_when_redeemed_at_once() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let talent = app.talent("two-cards@example.cn").await;
    app.put_profile(&talent, 510).await;
    // Two live XIONGAN cards of one holder, as the register may hold from before the
    // one-live-card rule: the first is set aside while the second is approved.
    let mut cards = Vec::new();
    let mut conn = app.connect().await;
    for _ in 0..2 {
        let id = app.submitted(&talent, 40).await;
        let approved: Value = app
            .decide(
                &xa,
                &id,
                json!({ "decision": "approve", "tier": "B", "comment": "ok" }),
            )
            .await
            .json()
            .await
            .unwrap();
        cards.push(approved["card"]["id"].as_str().unwrap().to_owned());
        diesel::sql_query("UPDATE cards SET status = 'revoked' WHERE holder_id = (SELECT holder_id FROM cards WHERE id = $1::uuid)")
            .bind::<diesel::sql_types::Text, _>(&cards[cards.len() - 1])
            .execute(&mut conn)
            .await
            .unwrap();
    }
    diesel::sql_query("UPDATE cards SET status = 'active' WHERE id IN ($1::uuid, $2::uuid)")
        .bind::<diesel::sql_types::Text, _>(&cards[0])
        .bind::<diesel::sql_types::Text, _>(&cards[1])
        .execute(&mut conn)
        .await
        .unwrap();
    let (_, _, _, first) = app
        .agency(&admin, "xiongan", &["annual_health_check"])
        .await;
    let (_, _, _, second) = app
        .agency(&admin, "xiongan", &["annual_health_check"])
        .await;
    let one = present(&app, &first, &talent, &cards[0]).await;
    let other = present(&app, &second, &talent, &cards[1]).await;
    let bodies = [
        json!({ "presentation_id": one["presentation_id"], "service": "annual_health_check" }),
        json!({ "presentation_id": other["presentation_id"], "service": "annual_health_check" }),
    ];
    let tokens = [&first, &second];
    let attempts =
        (0..10).map(|i| app.post_json("/api/v1/redemptions", &bodies[i % 2], Some(tokens[i % 2])));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
}

/// A check reads the holder's uses as one row per redemption and counts them itself: two uses
/// of one service in one period count two, whether the card is shown by number or by
/// credential, and a use of another service does not count for it.
#[tokio::test]
async fn partners_a_check_counts_every_use_of_a_service_in_its_period() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (talent, approved) = approved_b_card(&app, &xa, "tourist@example.cn", (510, 41)).await;
    let card = approved["id"].as_str().unwrap().to_owned();
    let number = approved["number"].as_str().unwrap().to_owned();
    let (_, _, _, token) = app
        .agency(&admin, "xiongan", &["tourism_pass", "annual_health_check"])
        .await;
    for service in ["tourism_pass", "tourism_pass", "annual_health_check"] {
        let done = redeem_presented(&app, &token, &talent, &card, service).await;
        assert_eq!(done.status().as_u16(), 201, "{service}");
    }
    let used = |answer: &Value, service: &str| {
        let entitlement = answer["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["service"] == service)
            .unwrap_or_else(|| panic!("no {service} in {answer}"))
            .clone();
        (
            entitlement["used"].as_i64().unwrap(),
            entitlement["remaining"].as_i64().unwrap(),
        )
    };
    let by_credential = present(&app, &token, &talent, &card).await;
    let by_number: Value = crate::partners::verify(&app, &token, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    for answer in [&by_credential, &by_number] {
        assert_eq!(answer["valid"], true, "{answer}");
        assert_eq!(used(answer, "tourism_pass"), (2, 10));
        assert_eq!(used(answer, "annual_health_check"), (1, 0));
    }
}
