//! API5, broken function-level authorisation, beyond the every-endpoint × every-role matrix of
//! `access.rs`: spellings of a path that might slip past a prefix check, headers some proxies
//! honour to rewrite the method or the URL, and filters that name what the caller may not see.

use serde_json::Value;

use super::World;
use crate::helpers::spawn_app;

#[tokio::test]
async fn no_spelling_of_an_admin_path_lets_another_role_in() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let spellings = [
        "/api/v1/admin/audit",
        "/api/v1/admin/audit/",
        "/api/v1/admin//audit",
        "/api/v1//admin/audit",
        "/api/v1/ADMIN/audit",
        "/api/v1/Admin/Audit",
        "/api/v1/./admin/audit",
        "/api/v1/me/../admin/audit",
        "/api/v1/me/%2e%2e/admin/audit",
        "/api/v1/admin/audit%2f",
        "/api/v1/admin/audit;.css",
        "/api/v1/admin/audit?role=admin",
        "/api/v1/admin/agencies",
        "/api/v1/admin/agencies/",
        "/api/v1/admin/agencies%20",
    ];
    let callers = [
        ("talent", &world.talent_a.access),
        ("official", &world.official_xa.access),
        ("agency", &world.agency.2),
    ];
    let mut cases = 0;
    for (role, token) in callers {
        for path in spellings {
            let response = app.get_as(path, token).await;
            let status = response.status().as_u16();
            assert!(matches!(status, 403 | 404), "{role} GET {path}: {status}");
            cases += 1;
        }
    }
    eprintln!("API5: {cases} path spellings refused");
}

#[tokio::test]
async fn method_and_url_override_headers_are_ignored() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut cases = 0;
    for (header, value) in [
        ("X-HTTP-Method-Override", "POST"),
        ("X-HTTP-Method", "POST"),
        ("X-Method-Override", "POST"),
        ("X-Original-URL", "/api/v1/admin/audit"),
        ("X-Rewrite-URL", "/api/v1/admin/audit"),
        ("X-Forwarded-Prefix", "/api/v1/admin"),
    ] {
        // A talent asks for their own account with the header: they get their account, never
        // the audit log, and a GET never becomes a state change.
        let response = app
            .client
            .get(format!("{}/api/v1/me", app.address))
            .bearer_auth(&world.talent_a.access)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{header}");
        let me: Value = response.json().await.unwrap();
        assert_eq!(me["id"], world.talent_a.id.to_string(), "{header}");
        // And an admin-only write stays refused whatever the header claims.
        let response = app
            .client
            .post(format!("{}/api/v1/admin/agencies", app.address))
            .bearer_auth(&world.talent_a.access)
            .header(header, value)
            .json(&serde_json::json!({ "name": "x", "district": "tongzhou", "services": [] }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{header}");
        cases += 2;
    }
    eprintln!("API5: {cases} override-header cases ignored");
}

#[tokio::test]
async fn an_officials_queue_shows_their_issuer_only_whatever_the_filter() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let mut cases = 0;
    for query in [
        "",
        "?issuer=XA",
        "?issuer=TZ",
        "?scheme=XIONGAN",
        "?status=submitted",
        "?issuer_code=XA&account_id=x",
    ] {
        let response = app
            .get_as(
                &format!("/api/v1/applications{query}"),
                &world.official_tz.access,
            )
            .await;
        let status = response.status().as_u16();
        if status == 200 {
            let page: Value = response.json().await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(
                items.iter().all(|item| item["issuer"] == "TZ"),
                "TZ's queue{query} shows another issuer's work: {page}"
            );
        } else {
            assert!(matches!(status, 400 | 422), "{query}: {status}");
        }
        // Talent see only their own, whatever they ask for.
        let response = app
            .get_as(
                &format!("/api/v1/applications{query}"),
                &world.talent_a.access,
            )
            .await;
        if response.status().as_u16() == 200 {
            let page: Value = response.json().await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(
                items
                    .iter()
                    .all(|item| item["id"] == world.application_a.as_str()),
                "talent A's list{query} shows another's application: {page}"
            );
        }
        cases += 2;
    }
    eprintln!("API5: {cases} queue filter cases confined");
}
