//! Partner agencies and the client-credentials grant.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn an_agency_client_gets_a_token_and_sees_its_agency() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (agency_id, client_id, secret, token) = app
        .agency(
            &admin,
            "tongzhou",
            &["medical_green_channel", "annual_health_check"],
        )
        .await;
    let me: Value = app.get_as("/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["role"], "agency");
    assert_eq!(me["agency"]["id"], agency_id.to_string());
    assert_eq!(me["agency"]["district"], "tongzhou");
    assert_eq!(
        me["agency"]["services"],
        json!(["annual_health_check", "medical_green_channel"])
    );

    let basic = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status().as_u16(),
        200,
        "HTTP Basic client authentication"
    );
    assert_eq!(basic.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_grant_answers_rfc_6749_errors() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, client_id, _secret, _) = app.agency(&admin, "langfang", &["tourism_pass"]).await;

    let wrong = app.client_token(&client_id, "cs_wrong").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_client" })
    );
    let unknown = app
        .client_token(&uuid::Uuid::now_v7().to_string(), "cs_wrong")
        .await;
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_client" })
    );

    let grant = app
        .client
        .post(format!("{}/api/v1/auth/token", app.address))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &client_id),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status().as_u16(), 400);
    assert_eq!(
        grant.json::<Value>().await.unwrap(),
        json!({ "error": "unsupported_grant_type" })
    );

    let json_body = app
        .post_json(
            "/api/v1/auth/token",
            &json!({ "grant_type": "client_credentials" }),
            None,
        )
        .await;
    assert_eq!(json_body.status().as_u16(), 400);
    assert_eq!(
        json_body.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_request" })
    );
}

#[tokio::test]
async fn a_revoked_client_stops_at_once() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (agency_id, client_id, secret, token) =
        app.agency(&admin, "wuqing", &["tourism_pass"]).await;
    let path = format!("/api/v1/admin/agencies/{agency_id}/clients/{client_id}");
    let revoked = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(
        app.get_as("/api/v1/me", &token).await.status().as_u16(),
        401
    );
    assert_eq!(
        app.client_token(&client_id, &secret)
            .await
            .status()
            .as_u16(),
        401
    );
    let again = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 404);
}

#[tokio::test]
async fn agencies_need_a_known_district_and_known_services() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    for (body, field) in [
        (
            json!({ "name": "x", "district": "atlantis", "services": ["tourism_pass"] }),
            "district",
        ),
        (
            json!({ "name": "x", "district": "tongzhou", "services": ["free_lunch"] }),
            "services",
        ),
        (
            json!({ "name": "x", "district": "tongzhou", "services": [] }),
            "services",
        ),
        (
            json!({ "name": "", "district": "tongzhou", "services": ["tourism_pass"] }),
            "name",
        ),
    ] {
        let response = app
            .post_json("/api/v1/admin/agencies", &body, Some(&admin.access))
            .await;
        let body = problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    let missing = format!("/api/v1/admin/agencies/{}/clients", uuid::Uuid::now_v7());
    problem(
        app.post_json(&missing, &json!({}), Some(&admin.access))
            .await,
        404,
        "not_found",
    )
    .await;
}
