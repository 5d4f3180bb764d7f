//! Partner verification: recognition across districts, minimal disclosure, quotas under
//! concurrency, idempotent redemptions, refusals and the holder's log.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::users::TestUser;

/// A TWL card issued by LF (tier A); returns the card number.
pub async fn twl_card(app: &TestApp, n: u32) -> (TestUser, String) {
    let (talent, number, _) = issue_twl(app, n).await;
    (talent, number)
}

/// A TWL card issued by LF (tier A) to a new talent; returns the holder, number and card id.
pub async fn issue_twl(app: &TestApp, n: u32) -> (TestUser, String, String) {
    let lf = app
        .staff(&format!("lf{n}@example.cn"), "official", Some("LF"))
        .await;
    let talent = app.talent(&format!("twl{n}@example.cn")).await;
    app.put_profile(&talent, 300 + n).await;
    let mut facts = crate::schemes::doctorate(40);
    facts["employer"]["district"] = json!("langfang");
    let body = json!({ "scheme": "TWL", "issuer": "LF", "facts": facts });
    let created: Value = app
        .send("POST", "/api/v1/applications", &talent.access, Some(&body))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &talent.access,
        None,
    )
    .await;
    let decided: Value = app
        .decide(&lf, &id, json!({ "decision": "approve", "tier": "A", "comment": "provincial programme verified" }))
        .await
        .json()
        .await
        .unwrap();
    (
        talent,
        decided["card"]["number"].as_str().unwrap().to_owned(),
        decided["card"]["id"].as_str().unwrap().to_owned(),
    )
}

/// The card's credential, as its holder downloads it.
pub async fn credential(app: &TestApp, holder: &TestUser, card_id: &str) -> String {
    let body: Value = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/credential"),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    body["credential"].as_str().unwrap().to_owned()
}

/// The agency scans the holder's QR code: the verification answer by credential.
pub async fn present(app: &TestApp, token: &str, holder: &TestUser, card_id: &str) -> Value {
    let credential = credential(app, holder, card_id).await;
    let answer = verify(app, token, json!({ "credential": credential })).await;
    assert_eq!(answer.status().as_u16(), 200);
    answer.json().await.unwrap()
}

/// Redeems `service` with a fresh presentation of the card.
pub async fn redeem_presented(
    app: &TestApp,
    token: &str,
    holder: &TestUser,
    card_id: &str,
    service: &str,
) -> reqwest::Response {
    let shown = present(app, token, holder, card_id).await;
    let body = json!({ "presentation_id": shown["presentation_id"], "service": service });
    app.post_json("/api/v1/redemptions", &body, Some(token))
        .await
}

pub async fn verify(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/verifications", &body, Some(token))
        .await
}

#[tokio::test]
async fn recognition_across_districts_with_minimal_disclosure() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (talent, number) = twl_card(&app, 1).await;
    for (district, expected) in [
        ("tongzhou", json!("A")),
        ("wuqing", json!("A")),
        ("langfang", json!("A")),
        ("tangshan", Value::Null),
    ] {
        let (_, _, _, token) = app
            .agency(
                &admin,
                district,
                &["annual_health_check", "medical_green_channel"],
            )
            .await;
        let response = verify(&app, &token, json!({ "card_number": number })).await;
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["valid"], true, "{district}");
        assert_eq!(answer["local_tier"], expected, "{district}");
        assert_eq!(
            answer["card"]["holder_name_masked"], "测*******t",
            "{district}"
        );
        let services: Vec<&str> = answer["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["service"].as_str().unwrap())
            .collect();
        if expected.is_null() {
            assert!(services.is_empty());
        } else {
            assert_eq!(
                services.len(),
                2,
                "only the agency's own services: {services:?}"
            );
        }
        for secret in [
            "测试 Talent",
            "11010519850101",
            "300000",
            "40000",
            "doctorate",
            "雄安科技",
            "91130600MA0D123455",
        ] {
            assert!(
                !text.contains(secret),
                "{district} answer leaks {secret}: {text}"
            );
        }
    }
    // A XIONGAN B card counts as B in Wuqing.
    let xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    // The holder's document stays the one the TWL card was issued on: a live card freezes it.
    let id = app.submitted(&talent, 40).await;
    let xiongan: Value = app
        .decide(&xa, &id, json!({ "decision": "approve", "tier": "B" }))
        .await
        .json()
        .await
        .unwrap();
    let (_, _, _, wuqing) = app.agency(&admin, "wuqing", &["tourism_pass"]).await;
    let answer: Value = verify(
        &app,
        &wuqing,
        json!({ "card_number": xiongan["card"]["number"] }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(answer["local_tier"], "B");
    // By credential too.
    let card_id = xiongan["card"]["id"].as_str().unwrap();
    let credential: Value = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/credential"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let by_credential: Value = verify(
        &app,
        &wuqing,
        json!({ "credential": credential["credential"] }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            by_credential["valid"].clone(),
            by_credential["local_tier"].clone()
        ),
        (json!(true), json!("B"))
    );

    // The holder sees who checked, and where the card counts.
    let log: Value = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/verifications"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let log = log["items"].as_array().unwrap().clone();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["district"], "wuqing");
    // A page at a time, newest first, the cursor leading to the rest.
    let path = format!("/api/v1/cards/{card_id}/verifications?limit=1");
    let first: Value = app
        .get_as(&path, &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["items"][0]["district"], "wuqing");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_as(&format!("{path}&cursor={cursor}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0], log[1]);
    assert!(second["next_cursor"].is_null());
    let places: Vec<Value> = app
        .get_as(
            &format!("/api/v1/cards/{card_id}/entitlements"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let districts: Vec<&str> = places
        .iter()
        .map(|p| p["district"].as_str().unwrap())
        .collect();
    assert_eq!(
        districts,
        [
            "baodi", "langfang", "tangshan", "tongzhou", "wuqing", "xiongan"
        ]
    );
}

#[tokio::test]
async fn unknown_malformed_and_invalid_cards() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let lf = app.staff("lf0@example.cn", "official", Some("LF")).await;
    let (_, client_id, secret, token) = app
        .agency(&admin, "langfang", &["annual_health_check"])
        .await;
    let unknown: Value = verify(
        &app,
        &token,
        json!({ "card_number": talentcard::domain::card_number::format("LF", 2026, 999_999) }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            unknown["valid"].clone(),
            unknown["status"].clone(),
            unknown["card"].clone()
        ),
        (json!(false), json!("unknown"), Value::Null)
    );
    problem(
        verify(&app, &token, json!({ "card_number": "LF-2026-000001-0" })).await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        verify(&app, &token, json!({ "credential": "garbage" })).await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        verify(&app, &token, json!({})).await,
        422,
        "validation_failed",
    )
    .await;

    let (holder, number, id) = issue_twl(&app, 2).await;
    let id = id.as_str();
    // Shown while active; suspended before the service is recorded.
    let shown = present(&app, &token, &holder, id).await;
    let suspend = format!("/api/v1/cards/{id}/suspend");
    app.post_json(
        &suspend,
        &json!({ "reason_code": "under_investigation" }),
        Some(&lf.access),
    )
    .await;
    let suspended: Value = verify(&app, &token, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (suspended["valid"].clone(), suspended["status"].clone()),
        (json!(false), json!("suspended"))
    );
    let redeem =
        json!({ "presentation_id": shown["presentation_id"], "service": "annual_health_check" });
    problem(
        app.post_json("/api/v1/redemptions", &redeem, Some(&token))
            .await,
        422,
        "card_not_valid",
    )
    .await;
    app.post_json(
        &format!("/api/v1/cards/{id}/resume"),
        &json!({}),
        Some(&lf.access),
    )
    .await;
    let later_years = Duration::days(6 * 366);
    app.clock.advance(later_years);
    let token = app
        .client_token(&client_id, &secret)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired: Value = verify(&app, &token, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (expired["valid"].clone(), expired["status"].clone()),
        (json!(false), json!("expired"))
    );
    // A second card, revoked: not valid, whatever else.
    let (_, revoked_number) = twl_card(&app, 5).await;
    let lf = app
        .staff("lf-revoker@example.cn", "official", Some("LF"))
        .await;
    let cards: Value = app
        .get_as("/api/v1/cards", &lf.access)
        .await
        .json()
        .await
        .unwrap();
    let revoked_id = cards["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == revoked_number.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/cards/{revoked_id}/revoke");
    let done = app
        .post_json(
            &path,
            &json!({ "reason_code": "fraudulent_material" }),
            Some(&lf.access),
        )
        .await;
    assert_eq!(done.status().as_u16(), 200);
    let revoked: Value = verify(&app, &token, json!({ "card_number": revoked_number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (revoked["valid"].clone(), revoked["status"].clone()),
        (json!(false), json!("revoked"))
    );
}

#[tokio::test]
async fn a_quota_of_one_is_used_once_under_concurrency_and_keys_replay() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, number, card_id) = issue_twl(&app, 3).await;
    let (_, client_id, _, token) = app
        .agency(
            &admin,
            "tongzhou",
            &["annual_health_check", "medical_green_channel"],
        )
        .await;
    // One presentation, twenty redemptions at once.
    let shown = present(&app, &token, &holder, &card_id).await;
    let presentation = shown["presentation_id"].clone();
    let body = json!({ "presentation_id": presentation, "service": "annual_health_check" });
    let attempts = (0..20).map(|_| app.post_json("/api/v1/redemptions", &body, Some(&token)));
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
        19,
        "{statuses:?}"
    );
    // The one redemption is audited once, in the name of the client that made it.
    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=redemption.recorded",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = audit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["actor"], format!("agency_client:{client_id}"));

    let keyed = |key: &str, body: &Value| {
        app.client
            .post(format!("{}/api/v1/redemptions", app.address))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    let unlimited = json!({ "presentation_id": presentation, "service": "medical_green_channel" });
    let first = keyed("visit-1", &unlimited).await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    assert!(first["remaining"].is_null(), "unlimited");
    assert_eq!(first["card_number"], number.as_str());
    let again = keyed("visit-1", &unlimited).await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(
        again.json::<Value>().await.unwrap()["id"],
        first["id"],
        "the first answer, nothing new written"
    );
    problem(
        keyed("visit-1", &body).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let mut conn = app.connect().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM redemptions")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(count.n, 2, "one health check and one green-channel visit");

    let not_offered = json!({ "presentation_id": presentation, "service": "talent_housing" });
    problem(
        app.post_json("/api/v1/redemptions", &not_offered, Some(&token))
            .await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn each_agency_is_rate_limited() {
    let app = spawn_app_with(|s| s.partners.verifications_per_minute = 3).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, token) = app.agency(&admin, "tongzhou", &["tourism_pass"]).await;
    let body = json!({ "card_number": talentcard::domain::card_number::format("TZ", 2026, 1) });
    for _ in 0..3 {
        assert_eq!(
            verify(&app, &token, body.clone()).await.status().as_u16(),
            200
        );
    }
    let limited = verify(&app, &token, body.clone()).await;
    assert!(limited.headers().contains_key("retry-after"));
    problem(limited, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        verify(&app, &token, body).await.status().as_u16(),
        200,
        "a new minute"
    );
}

#[tokio::test]
async fn administrators_publish_new_recognition_and_entitlement_versions() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, number) = twl_card(&app, 4).await;
    let (_, _, _, tangshan) = app
        .agency(&admin, "tangshan", &["annual_health_check"])
        .await;
    let before: Value = verify(&app, &tangshan, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["local_tier"], Value::Null);

    let put = |path: &str, body: Value| {
        app.client
            .put(format!("{}{path}", app.address))
            .bearer_auth(&admin.access)
            .json(&body)
            .send()
    };
    let mut current: Value = app.get("/api/v1/recognitions").await.json().await.unwrap();
    current["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "scheme": "TWL", "tier": "A", "district": "tangshan", "local_tier": "B" }));
    let published = put(
        "/api/v1/admin/recognitions",
        json!({ "rules": current["rules"] }),
    )
    .await
    .unwrap();
    assert_eq!(published.status().as_u16(), 201);
    assert_eq!(published.json::<Value>().await.unwrap()["version"], 2);
    let after: Value = verify(&app, &tangshan, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["local_tier"], "B",
        "recognised in Tangshan as B from now on"
    );
    let trust: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    assert!(
        trust["recognitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["district"] == "tangshan" && r["scheme"] == "TWL")
    );

    let bad = json!({ "rules": [
        { "scheme": "TWL", "tier": "Z", "district": "tangshan", "local_tier": "B" },
        { "scheme": "TWL", "tier": "A", "district": "atlantis", "local_tier": "B" }
    ] });
    let refused = problem(
        put("/api/v1/admin/recognitions", bad).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["rules[0].tier", "rules[1].district"]);
    let bad = json!({ "rules": [{ "local_tier": "A", "district": "tangshan", "service": "free_lunch", "period": "year" }] });
    let refused = problem(
        put("/api/v1/admin/entitlements", bad).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "rules[0].service");
    let good = json!({ "rules": [{ "local_tier": "B", "district": "tangshan", "service": "annual_health_check", "quota": 2, "period": "year" }] });
    assert_eq!(
        put("/api/v1/admin/entitlements", good)
            .await
            .unwrap()
            .status()
            .as_u16(),
        201
    );
    let answer: Value = verify(&app, &tangshan, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["entitlements"][0]["quota"], 2);
}
