//! Reversal of a redemption: by the agency that recorded it (any of its clients), within 24
//! hours, once; the quota is restored everywhere use is counted.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};
use crate::partners::{issue_twl, present, redeem_presented};

async fn reverse(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/redemptions/{id}/reversal"),
        &body,
        Some(token),
    )
    .await
}

/// A second client of `agency`, with a token.
async fn second_client(
    app: &TestApp,
    admin: &crate::users::TestUser,
    agency: uuid::Uuid,
) -> String {
    let client: Value = app
        .post_json(
            &format!("/api/v1/admin/agencies/{agency}/clients"),
            &json!({}),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let token: Value = app
        .client_token(
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

fn health_check(entitlements: &Value) -> Value {
    entitlements
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["service"] == "annual_health_check")
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn partners_reversal_restores_the_quota_once_within_a_day() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, _, card_id) = issue_twl(&app, 80).await;
    let services = ["annual_health_check", "medical_green_channel"];
    let (agency, client_id, secret, token) = app.agency(&admin, "tongzhou", &services).await;
    let colleague = second_client(&app, &admin, agency).await;
    let (_, _, _, stranger) = app.agency(&admin, "tongzhou", &services).await;

    let first = redeem_presented(&app, &token, &holder, &card_id, "annual_health_check").await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    problem(
        redeem_presented(&app, &token, &holder, &card_id, "annual_health_check").await,
        409,
        "quota_exhausted",
    )
    .await;

    // Another agency: as if it did not exist. Bad input: 422, nothing changes.
    let entered = json!({ "reason_code": "entered_in_error", "comment": "wrong patient" });
    problem(
        reverse(&app, &stranger, &id, entered.clone()).await,
        404,
        "not_found",
    )
    .await;
    problem(
        reverse(&app, &token, &id, json!({ "reason_code": "oops" })).await,
        422,
        "validation_failed",
    )
    .await;
    let refused = problem(
        reverse(&app, &token, &id, json!({ "reason_code": "other" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "comment");
    problem(
        reverse(&app, &holder.access, &id, entered.clone()).await,
        403,
        "forbidden",
    )
    .await;

    // Any client of the agency that redeemed.
    let reversed = reverse(&app, &colleague, &id, entered.clone()).await;
    assert_eq!(reversed.status().as_u16(), 200);
    let reversed: Value = reversed.json().await.unwrap();
    assert_eq!(reversed["id"], id.as_str());
    assert_eq!(reversed["reversal_reason"], "entered_in_error");
    assert_eq!(reversed["reversal_comment"], "wrong patient");
    assert!(reversed["reversed_at"].is_string());
    assert_eq!(reversed["card_number"], first["card_number"]);
    problem(
        reverse(&app, &token, &id, entered.clone()).await,
        409,
        "conflict",
    )
    .await;

    // The quota is back: in the agency's answer, in the holder's view, for a redemption.
    let shown = present(&app, &token, &holder, &card_id).await;
    let use_now = health_check(&shown["entitlements"]);
    assert_eq!(
        (use_now["used"].clone(), use_now["remaining"].clone()),
        (json!(0), json!(1))
    );
    let places: Vec<Value> = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/entitlements"),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let tongzhou = places.iter().find(|p| p["district"] == "tongzhou").unwrap();
    assert_eq!(health_check(&tongzhou["entitlements"])["used"], 0);
    let again = redeem_presented(&app, &token, &holder, &card_id, "annual_health_check").await;
    assert_eq!(again.status().as_u16(), 201);
    let again: Value = again.json().await.unwrap();

    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=redemption.reversed",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = audit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["entity_id"], id.as_str());
    assert_eq!(rows[0]["detail"]["reason_code"], "entered_in_error");

    // A day later it is too late.
    app.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    let token = app
        .client_token(&client_id, &secret)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let late = problem(
        reverse(
            &app,
            &token,
            again["id"].as_str().unwrap(),
            json!({ "reason_code": "service_not_given" }),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    assert!(
        late["detail"].as_str().unwrap().contains("24 hours"),
        "{late}"
    );
}

#[tokio::test]
async fn partners_two_reversals_at_once_one_wins() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, _, card_id) = issue_twl(&app, 81).await;
    let (_, _, _, token) = app
        .agency(&admin, "tongzhou", &["annual_health_check"])
        .await;
    let done: Value = redeem_presented(&app, &token, &holder, &card_id, "annual_health_check")
        .await
        .json()
        .await
        .unwrap();
    let id = done["id"].as_str().unwrap();
    let body = json!({ "reason_code": "service_not_given" });
    let attempts = (0..6).map(|_| reverse(&app, &token, id, body.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=redemption.reversed",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
}
