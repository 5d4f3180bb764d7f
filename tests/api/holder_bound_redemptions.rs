//! Entitlement rules that insist on holder binding: a redemption under `holder_binding:
//! "required"` needs the `presentation_id` of a holder-bound check (a wallet-signed presentation
//! or a dynamic code); a check by credential, which a photo of the QR code passes, is refused
//! with 422 `holder_binding_required` and nothing is written.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};
use crate::partners::{issue_twl, present};
use crate::users::TestUser;

/// Publishes the Tongzhou rules: the health check insists on holder binding, the tourism pass
/// does not.
pub async fn publish_binding_rules(app: &TestApp, admin: &TestUser) {
    let rules = json!({ "rules": [
        { "local_tier": "A", "district": "tongzhou", "service": "annual_health_check", "quota": 1,
          "period": "year", "holder_binding": "required" },
        { "local_tier": "A", "district": "tongzhou", "service": "tourism_pass", "quota": 5,
          "period": "year" }
    ] });
    app.publish_entitlements(admin, &rules).await;
}

async fn redeem(
    app: &TestApp,
    token: &str,
    presentation: &Value,
    service: &str,
) -> reqwest::Response {
    let body = json!({ "presentation_id": presentation, "service": service });
    app.post_json("/api/v1/redemptions", &body, Some(token))
        .await
}

#[tokio::test]
async fn a_required_rule_refuses_a_presentation_that_is_not_holder_bound() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, _, card_id) = issue_twl(&app, 81).await;
    let services = ["annual_health_check", "tourism_pass"];
    let (_, _, _, token) = app.agency(&admin, "tongzhou", &services).await;
    publish_binding_rules(&app, &admin).await;

    let in_force: Value = app.get("/api/v1/entitlements").await.json().await.unwrap();
    let bindings: Vec<&str> = in_force["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["holder_binding"].as_str().unwrap())
        .collect();
    assert_eq!(bindings, ["required", "optional"]);

    // A photo of the QR code: a valid check by credential, not holder-bound.
    let shown = present(&app, &token, &holder, &card_id).await;
    assert_eq!(shown["holder_bound"], false);
    let by_service: Vec<(&str, &str)> = shown["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["service"].as_str().unwrap(),
                e["holder_binding"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        by_service.contains(&("annual_health_check", "required")),
        "{shown}"
    );
    let presentation = &shown["presentation_id"];
    problem(
        redeem(&app, &token, presentation, "annual_health_check").await,
        422,
        "holder_binding_required",
    )
    .await;
    let entitlements: Value = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/entitlements"),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        entitlements.to_string().contains("\"used\":0"),
        "nothing was used: {entitlements}"
    );
    // The same presentation redeems where the rule does not insist.
    let done = redeem(&app, &token, presentation, "tourism_pass").await;
    assert_eq!(done.status().as_u16(), 201);

    // The holder's log says the check was not holder-bound.
    let log: Value = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/verifications"),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"][0]["method"], "credential", "{log}");
    assert_eq!(log["items"][0]["holder_bound"], false, "{log}");
}

#[tokio::test]
async fn a_bad_holder_binding_value_is_refused() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let bad = json!({ "rules": [{ "local_tier": "A", "district": "tongzhou",
        "service": "tourism_pass", "period": "year", "holder_binding": "preferred" }] });
    let refused = app
        .client
        .put(format!("{}/api/v1/admin/entitlements", app.address))
        .bearer_auth(&admin.access)
        .json(&bad)
        .send()
        .await
        .unwrap();
    problem(refused, 422, "validation_failed").await;
}
