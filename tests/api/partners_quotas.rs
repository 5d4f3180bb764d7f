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

#[tokio::test]
async fn partners_quota_used_on_the_old_card_stays_used_after_renewal() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let talent = app.talent("renewing@example.cn").await;
    app.put_profile(&talent, 500).await;
    let first = app.submitted(&talent, 40).await;
    let approved: Value = app
        .decide(
            &xa,
            &first,
            json!({ "decision": "approve", "tier": "B", "comment": "checked" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let old_card = approved["card"]["id"].as_str().unwrap().to_owned();
    let (_, _, _, token) = app.agency(&admin, "xiongan", &SERVICES).await;
    for service in SERVICES {
        let done = redeem_presented(&app, &token, &talent, &old_card, service).await;
        assert_eq!(done.status().as_u16(), 201, "{service}");
    }

    let renewal = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": old_card });
    let created: Value = app
        .send(
            "POST",
            "/api/v1/applications",
            &talent.access,
            Some(&renewal),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &talent.access,
        None,
    )
    .await;
    let renewed = app
        .decide(
            &xa,
            id,
            json!({ "decision": "approve", "tier": "B", "comment": "renewal" }),
        )
        .await;
    assert_eq!(renewed.status().as_u16(), 200);
    let renewed: Value = renewed.json().await.unwrap();
    let new_card = renewed["card"]["id"].as_str().unwrap().to_owned();
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
