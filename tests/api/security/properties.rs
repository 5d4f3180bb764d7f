//! API3, broken object-property-level authorisation: no body can set a property its sender may
//! not set (mass assignment of role, status, issuer, owner, tier, ids), and no answer carries a
//! property its reader may not see (secrets, hashes, unmasked personal data).

use serde_json::{Value, json};

use super::{World, row_counts};
use crate::helpers::{TestApp, problem, spawn_app};

/// A valid body for an endpoint, to which each attack adds one property.
struct Target {
    method: &'static str,
    path: String,
    token: Option<String>,
    body: Value,
    /// The properties an attacker would like to set here.
    smuggled: &'static [(&'static str, &'static str)],
}

/// Properties that only the server decides.
const OWNERSHIP: &[(&str, &str)] = &[
    ("role", "\"admin\""),
    ("status", "\"approved\""),
    ("issuer_code", "\"XA\""),
    ("account_id", "\"01936c2e-0000-7000-8000-000000000001\""),
    ("owner_id", "\"01936c2e-0000-7000-8000-000000000001\""),
    ("id", "\"01936c2e-0000-7000-8000-000000000002\""),
    ("created_at", "\"2020-01-01T00:00:00Z\""),
];
const WITH_TIER: &[(&str, &str)] = &[
    ("role", "\"admin\""),
    ("status", "\"approved\""),
    ("tier", "\"A\""),
    ("card_id", "\"01936c2e-0000-7000-8000-000000000003\""),
    ("account_id", "\"01936c2e-0000-7000-8000-000000000001\""),
    ("evaluation", "{\"tier\":\"A\"}"),
];
const AGENCY_SIDE: &[(&str, &str)] = &[
    ("agency_id", "\"01936c2e-0000-7000-8000-000000000004\""),
    ("district", "\"xiongan\""),
    ("quota", "1000"),
    ("remaining", "1000"),
    ("status", "\"active\""),
];

fn targets(w: &World) -> Vec<Target> {
    let t = |u: &crate::users::TestUser| Some(u.access.clone());
    let app_a = &w.application_a;
    let card = &w.card_b;
    let number = &w.card_number_b;
    vec![
        Target {
            method: "POST",
            path: "/api/v1/auth/register".into(),
            token: None,
            body: json!({ "email": "new@example.cn", "password": crate::users::PASSWORD, "full_name": "x" }),
            smuggled: &[
                ("role", "\"admin\""),
                ("issuer", "\"XA\""),
                ("status", "\"active\""),
                ("disabled", "false"),
                ("mfa_enabled", "true"),
                ("id", "\"01936c2e-0000-7000-8000-000000000002\""),
            ],
        },
        Target {
            method: "POST",
            path: "/api/v1/auth/login".into(),
            token: None,
            body: json!({ "email": "a@example.cn", "password": crate::users::PASSWORD }),
            smuggled: &[("role", "\"admin\""), ("mfa", "false")],
        },
        Target {
            method: "PUT",
            path: "/api/v1/me/profile".into(),
            token: t(&w.talent_a),
            body: json!({ "id_type": "passport", "id_number": "E12345678" }),
            smuggled: OWNERSHIP,
        },
        Target {
            method: "POST",
            path: "/api/v1/applications".into(),
            token: t(&w.talent_a),
            body: json!({ "scheme": "TBT", "issuer": "TZ", "facts": crate::schemes::doctorate(40) }),
            smuggled: WITH_TIER,
        },
        Target {
            method: "PATCH",
            path: format!("/api/v1/applications/{}", w.application_b),
            token: t(&w.talent_b),
            body: json!({ "facts": crate::schemes::doctorate(41) }),
            smuggled: &[
                ("status", "\"draft\""),
                ("issuer", "\"TZ\""),
                ("scheme", "\"TBT\""),
                ("tier", "\"A\""),
                ("account_id", "\"01936c2e-0000-7000-8000-000000000001\""),
            ],
        },
        Target {
            method: "POST",
            path: format!("/api/v1/applications/{app_a}/decision"),
            token: t(&w.official_xa),
            body: json!({ "decision": "request_supplement", "comment": "more please" }),
            smuggled: &[
                ("issuer", "\"TZ\""),
                ("status", "\"approved\""),
                ("card_number", "\"XA-2026-000001\""),
                ("valid_until", "\"2099-01-01\""),
                ("decided_by", "\"01936c2e-0000-7000-8000-000000000001\""),
            ],
        },
        Target {
            method: "POST",
            path: format!("/api/v1/cards/{card}/suspend"),
            token: t(&w.official_xa),
            body: json!({ "reason_code": "under_investigation" }),
            smuggled: &[
                ("status", "\"active\""),
                ("issuer", "\"TZ\""),
                ("tier", "\"A\""),
            ],
        },
        Target {
            method: "POST",
            path: format!("/api/v1/cards/{card}/revoke"),
            token: t(&w.official_xa),
            body: json!({ "reason_code": "holder_request" }),
            smuggled: &[("status", "\"active\""), ("final", "false")],
        },
        Target {
            method: "POST",
            path: "/api/v1/admin/officials".into(),
            token: t(&w.admin),
            body: json!({ "email": "o@example.cn", "password": crate::users::PASSWORD, "full_name": "x", "issuer": "TZ" }),
            smuggled: &[
                ("role", "\"admin\""),
                ("mfa_enabled", "true"),
                ("totp_secret", "\"AAAA\""),
            ],
        },
        Target {
            method: "POST",
            path: "/api/v1/admin/agencies".into(),
            token: t(&w.admin),
            body: json!({ "name": "医院", "district": "tongzhou", "services": ["tourism_pass"] }),
            smuggled: &[
                ("id", "\"01936c2e-0000-7000-8000-000000000002\""),
                ("client_secret", "\"cs_mine\""),
                ("status", "\"active\""),
            ],
        },
        Target {
            method: "POST",
            path: "/api/v1/verifications".into(),
            token: Some(w.agency.2.clone()),
            body: json!({ "card_number": number }),
            smuggled: AGENCY_SIDE,
        },
        Target {
            method: "POST",
            path: "/api/v1/redemptions".into(),
            token: Some(w.agency.2.clone()),
            body: json!({ "card_number": number, "service": "tourism_pass" }),
            smuggled: AGENCY_SIDE,
        },
        Target {
            method: "POST",
            path: "/api/v1/schemes/XIONGAN/eligibility".into(),
            token: None,
            body: json!({ "facts": crate::schemes::doctorate(40) }),
            smuggled: &[("tier", "\"A\""), ("eligible", "true")],
        },
    ]
}

async fn call(app: &TestApp, target: &Target, body: &Value) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(target.method.as_bytes()).unwrap();
    let mut request = app
        .client
        .request(method, format!("{}{}", app.address, target.path))
        .json(body);
    if let Some(token) = &target.token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn no_body_sets_a_property_the_server_decides() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let before = row_counts(&app).await;
    let mut cases = 0;
    for target in targets(&world) {
        for (property, value) in target.smuggled {
            let mut body = target.body.clone();
            body[*property] = serde_json::from_str(value).unwrap();
            let response = call(&app, &target, &body).await;
            let what = format!("{} {} with {property}", target.method, target.path);
            assert_eq!(response.status().as_u16(), 422, "{what}");
            let problem = problem(response, 422, "validation_failed").await;
            // The answer names the object and says "unknown field", never the client's key
            // (which may be personal data, an ID number sent as a key).
            assert_eq!(problem["errors"][0]["field"], "body", "{what}");
            let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.starts_with("unknown field"), "{what}: {message}");
            assert!(
                !message.contains(&format!("`{property}`")),
                "{what}: {message}"
            );
            cases += 1;
        }
    }
    assert_eq!(
        row_counts(&app).await,
        before,
        "a refused body wrote something"
    );
    eprintln!("API3: {cases} mass-assignment cases refused");
}

/// Keys that must never appear in any answer, whoever reads it.
const SECRET_KEYS: &[&str] = &[
    "password",
    "password_hash",
    "totp_secret",
    "mfa_secret",
    "secret_hash",
    "blind_index",
    "id_number_sealed",
    "sealed",
    "private_key",
    "signing_key",
    "d",
];

fn keys(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                found.push(key.clone());
                keys(inner, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn no_answer_carries_secrets_and_only_officials_see_an_id_number() {
    let app = spawn_app().await;
    let world = World::build(&app).await;
    let resident_b = crate::applications::resident_id(701);
    let (a, b) = (&world.talent_a.access, &world.talent_b.access);
    let agency = &world.agency.2;
    let admin = &world.admin.access;
    // The agency scans B's card first: redemptions need the card shown.
    let shown = crate::partners::present(&app, agency, &world.talent_b, &world.card_b).await;
    let reads: Vec<(&str, String, &str, Option<Value>)> = vec![
        ("GET", "/api/v1/me".into(), b, None),
        ("GET", "/api/v1/applications".into(), b, None),
        (
            "GET",
            format!("/api/v1/applications/{}", world.application_b),
            b,
            None,
        ),
        ("GET", "/api/v1/cards".into(), b, None),
        ("GET", format!("/api/v1/cards/{}", world.card_b), b, None),
        (
            "GET",
            format!("/api/v1/cards/{}/entitlements", world.card_b),
            b,
            None,
        ),
        (
            "GET",
            format!("/api/v1/cards/{}/verifications", world.card_b),
            b,
            None,
        ),
        ("GET", "/api/v1/me".into(), a, None),
        ("GET", "/api/v1/admin/agencies".into(), admin, None),
        ("GET", "/api/v1/admin/audit?limit=200".into(), admin, None),
        ("GET", "/api/v1/trust-list".into(), a, None),
        (
            "POST",
            "/api/v1/verifications".into(),
            agency,
            Some(json!({ "card_number": world.card_number_b })),
        ),
        (
            "POST",
            "/api/v1/redemptions".into(),
            agency,
            Some(json!({ "presentation_id": shown["presentation_id"], "service": "tourism_pass" })),
        ),
    ];
    for (method, path, token, body) in &reads {
        let response = app.send(method, path, token, body.as_ref()).await;
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
        let text = response.text().await.unwrap();
        assert!(
            !text.contains(&resident_b),
            "{path} shows B's ID number to a non-official"
        );
        assert!(
            !text.contains(crate::users::PASSWORD),
            "{path} echoes a password"
        );
        assert!(!text.contains("$argon2"), "{path} shows a password hash");
        let mut found = Vec::new();
        keys(&serde_json::from_str(&text).unwrap(), &mut found);
        for secret in SECRET_KEYS {
            assert!(
                !found.iter().any(|k| k == secret),
                "{path} has the key {secret}"
            );
        }
    }
    // The agency learns validity, tier and entitlements: not the holder's ID, birth date or
    // full name.
    let verified: Value = app
        .send(
            "POST",
            "/api/v1/verifications",
            agency,
            Some(&json!({ "card_number": world.card_number_b })),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut found = Vec::new();
    keys(&verified, &mut found);
    for personal in [
        "id_number",
        "birth_date",
        "full_name",
        "email",
        "account_id",
        "facts",
    ] {
        assert!(
            !found.iter().any(|k| k == personal),
            "verification shows {personal}"
        );
    }
    // The reviewing official does see it (and that read is audited elsewhere).
    let official = app
        .get_as(
            &format!("/api/v1/applications/{}", world.application_b),
            &world.official_xa.access,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        official.contains(&resident_b),
        "the official sees the ID number in full"
    );
    eprintln!(
        "API3: {} answers scanned for secrets and personal data",
        reads.len() + 2
    );
}
