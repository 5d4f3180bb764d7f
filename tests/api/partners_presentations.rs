//! Redemptions need the card shown: a `presentation_id` of the agency's own valid check by
//! credential, at most 10 minutes old. A bare number redeems only where the rule says
//! `presentation: "not_required"`.

use chrono::Duration;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};
use crate::partners::{issue_twl, present, verify};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn redemptions(app: &TestApp) -> i64 {
    let mut conn = app.connect().await;
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM redemptions")
        .get_result(&mut conn)
        .await
        .unwrap();
    count.n
}

async fn redeem(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/redemptions", &body, Some(token))
        .await
}

#[tokio::test]
async fn partners_redemption_needs_the_card_presented() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, number, card_id) = issue_twl(&app, 70).await;
    let services = ["annual_health_check", "medical_green_channel"];
    let (_, client_id, secret, token) = app.agency(&admin, "tongzhou", &services).await;
    let (_, _, _, other) = app.agency(&admin, "tongzhou", &services).await;

    // The attack: a number never shown to the agency.
    let by_number = json!({ "card_number": number, "service": "annual_health_check" });
    problem(
        redeem(&app, &token, by_number).await,
        422,
        "presentation_required",
    )
    .await;
    // An unknown number gets the same answer: a redemption tells nothing of the register.
    let unknown = talentcard::domain::card_number::format("LF", 2026, 5_555_555_555_555);
    problem(
        redeem(
            &app,
            &token,
            json!({ "card_number": unknown, "service": "annual_health_check" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
    // A check by number proves no presentation.
    let checked: Value = verify(&app, &token, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(checked["valid"], true);
    assert!(checked["presentation_id"].is_null());
    assert_eq!(checked["holder_bound"], false);
    assert_eq!(
        checked["entitlements"][0]["presentation"], "required",
        "{checked}"
    );
    // Neither, or both: 422 naming presentation_id, nothing written.
    for body in [
        json!({ "service": "annual_health_check" }),
        json!({ "presentation_id": uuid::Uuid::now_v7(), "card_number": number, "service": "annual_health_check" }),
    ] {
        let refused = problem(redeem(&app, &token, body).await, 422, "validation_failed").await;
        assert_eq!(refused["errors"][0]["field"], "presentation_id");
    }
    // An id that is no presentation at all.
    problem(
        redeem(
            &app,
            &token,
            json!({ "presentation_id": uuid::Uuid::now_v7(), "service": "annual_health_check" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
    assert_eq!(redemptions(&app).await, 0, "nothing written");

    // The card shown: a presentation, good for this agency.
    let shown = present(&app, &token, &holder, &card_id).await;
    assert_eq!(
        (shown["valid"].clone(), shown["holder_bound"].clone()),
        (json!(true), json!(false))
    );
    let presentation = shown["presentation_id"].as_str().unwrap().to_owned();
    // Another agency cannot use it.
    problem(
        redeem(
            &app,
            &other,
            json!({ "presentation_id": presentation, "service": "annual_health_check" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
    let done = redeem(
        &app,
        &token,
        json!({ "presentation_id": presentation, "service": "annual_health_check" }),
    )
    .await;
    assert_eq!(done.status().as_u16(), 201);
    let done: Value = done.json().await.unwrap();
    assert_eq!(
        (done["card_number"].clone(), done["remaining"].clone()),
        (json!(number), json!(0))
    );
    // One visit may give several services.
    let green = redeem(
        &app,
        &token,
        json!({ "presentation_id": presentation, "service": "medical_green_channel" }),
    )
    .await;
    assert_eq!(green.status().as_u16(), 201);

    // Ten minutes later the presentation proves nothing.
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let token = app
        .client_token(&client_id, &secret)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    problem(
        redeem(
            &app,
            &token,
            json!({ "presentation_id": presentation, "service": "medical_green_channel" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
    assert_eq!(redemptions(&app).await, 2);
}

#[tokio::test]
async fn partners_an_invalid_answer_is_no_presentation() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let lf = app
        .staff("lf-suspender@example.cn", "official", Some("LF"))
        .await;
    let (holder, _, card_id) = issue_twl(&app, 71).await;
    let (agency_id, _, _, token) = app
        .agency(&admin, "tongzhou", &["medical_green_channel"])
        .await;
    let suspended = app
        .post_json(
            &format!("/api/v1/cards/{card_id}/suspend"),
            &json!({ "reason_code": "under_investigation" }),
            Some(&lf.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    let shown = present(&app, &token, &holder, &card_id).await;
    assert_eq!(shown["valid"], false);
    assert!(shown["presentation_id"].is_null(), "{shown}");
    // Its record's id (which the agency never saw) is not a presentation either.
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let mut conn = app.connect().await;
    let record: Id = diesel::sql_query(
        "SELECT id::text AS id FROM verifications WHERE agency_id = $1::uuid AND NOT valid",
    )
    .bind::<diesel::sql_types::Text, _>(agency_id.to_string())
    .get_result(&mut conn)
    .await
    .unwrap();
    problem(
        redeem(
            &app,
            &token,
            json!({ "presentation_id": record.id, "service": "medical_green_channel" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
}

#[tokio::test]
async fn partners_a_not_required_rule_allows_redemption_by_number() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, number, _) = issue_twl(&app, 72).await;
    let (_, _, _, token) = app
        .agency(&admin, "tongzhou", &["tourism_pass", "annual_health_check"])
        .await;
    let rules = json!({ "rules": [
        { "local_tier": "A", "district": "tongzhou", "service": "tourism_pass", "quota": 1,
          "period": "year", "presentation": "not_required" },
        { "local_tier": "A", "district": "tongzhou", "service": "annual_health_check", "quota": 1,
          "period": "year" }
    ] });
    let published = app
        .client
        .put(format!("{}/api/v1/admin/entitlements", app.address))
        .bearer_auth(&admin.access)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(published.status().as_u16(), 201);
    let in_force: Value = app.get("/api/v1/entitlements").await.json().await.unwrap();
    let presentations: Vec<&str> = in_force["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["presentation"].as_str().unwrap())
        .collect();
    assert_eq!(presentations, ["not_required", "required"]);
    // A bad value is refused.
    let bad = json!({ "rules": [{ "local_tier": "A", "district": "tongzhou", "service": "tourism_pass",
        "period": "year", "presentation": "sometimes" }] });
    let refused = app
        .client
        .put(format!("{}/api/v1/admin/entitlements", app.address))
        .bearer_auth(&admin.access)
        .json(&bad)
        .send()
        .await
        .unwrap();
    problem(refused, 422, "validation_failed").await;

    let by_number = json!({ "card_number": number, "service": "tourism_pass" });
    let done = redeem(&app, &token, by_number.clone()).await;
    assert_eq!(done.status().as_u16(), 201);
    problem(
        redeem(&app, &token, by_number).await,
        409,
        "quota_exhausted",
    )
    .await;
    // The rule of another service still wants the card shown.
    problem(
        redeem(
            &app,
            &token,
            json!({ "card_number": number, "service": "annual_health_check" }),
        )
        .await,
        422,
        "presentation_required",
    )
    .await;
    // Where numbers are accepted, an unknown one is simply not a valid card.
    let unknown = talentcard::domain::card_number::format("LF", 2026, 5_555_555_555_555);
    problem(
        redeem(
            &app,
            &token,
            json!({ "card_number": unknown, "service": "tourism_pass" }),
        )
        .await,
        422,
        "card_not_valid",
    )
    .await;
    assert_eq!(redemptions(&app).await, 1);
}
