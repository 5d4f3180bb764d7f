//! The access matrix: every endpoint that exists × every role, with the expected status.
//! Each later capability adds its endpoints here; `openapi.rs` checks that this table and the
//! served OpenAPI document list the same operations.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The roles, in the order of each row's expectations.
pub const ROLES: [&str; 8] = [
    "anonymous",
    "talent_a",
    "talent_b",
    "official_xa",
    "official_tz",
    "agency",
    "admin",
    "employer",
];

/// One endpoint: method, path template (as documented), and the status each role gets.
pub struct Endpoint {
    pub method: &'static str,
    pub template: &'static str,
    pub expect: [u16; 8],
}

const fn row(method: &'static str, template: &'static str, expect: [u16; 8]) -> Endpoint {
    Endpoint {
        method,
        template,
        expect,
    }
}

const PUBLIC_GET: [u16; 8] = [200; 8];
const PREFLIGHT: [u16; 8] = [204; 8];
const ANY_TOKEN: [u16; 8] = [401, 200, 200, 200, 200, 200, 200, 200];
const ADMIN_ONLY: [u16; 8] = [401, 403, 403, 403, 403, 403, 200, 403];
const ADMIN_CREATES: [u16; 8] = [401, 403, 403, 403, 403, 403, 201, 403];
const ADMIN_204: [u16; 8] = [401, 403, 403, 403, 403, 403, 204, 403];
const ENROLMENT_TOKEN_ONLY: [u16; 8] = [401; 8];
const PEOPLE_204: [u16; 8] = [401, 204, 204, 204, 204, 403, 204, 204];
const TALENT_AND_OFFICIALS: [u16; 8] = [401, 200, 200, 200, 200, 403, 403, 403];
/// Talent A's application, submitted to XA.
const A_AND_XA_SEE: [u16; 8] = [401, 200, 404, 200, 404, 403, 403, 403];
/// The owner's own action on an application in the wrong state.
const OWNER_CONFLICT: [u16; 8] = [401, 409, 404, 403, 403, 403, 403, 403];

/// Every operation the service serves. Logout comes last: it ends the callers' sessions.
pub const ENDPOINTS: &[Endpoint] = &[
    row("get", "/healthz", PUBLIC_GET),
    row("get", "/readyz", PUBLIC_GET),
    row("get", "/api/v1/districts", PUBLIC_GET),
    row("get", "/api/v1/issuers", PUBLIC_GET),
    row("get", "/api/v1/services", PUBLIC_GET),
    row("get", "/api/v1/schemes", PUBLIC_GET),
    row("get", "/api/v1/schemes/{code}", PUBLIC_GET),
    row("get", "/api/v1/schemes/{code}/rules/{version}", PUBLIC_GET),
    row("post", "/api/v1/schemes/{code}/eligibility", [200; 8]),
    row("post", "/api/v1/auth/register", [201; 8]),
    row("post", "/api/v1/auth/login", [401; 8]),
    row("post", "/api/v1/auth/refresh", [401; 8]),
    row("post", "/api/v1/auth/token", [401; 8]),
    row("post", "/api/v1/auth/mfa/enroll", ENROLMENT_TOKEN_ONLY),
    row("post", "/api/v1/auth/mfa/confirm", ENROLMENT_TOKEN_ONLY),
    row("get", "/api/v1/me", ANY_TOKEN),
    // Talent A's document is in an open application, talent B's on a live card: frozen.
    row(
        "put",
        "/api/v1/me/profile",
        [401, 409, 409, 403, 403, 403, 403, 403],
    ),
    // A claim on talent A's document (A applied to XA): XA's official resolves it, TZ's is not
    // concerned, and the administrator comes after it is resolved.
    row(
        "post",
        "/api/v1/document-disputes/{id}/resolution",
        [401, 403, 403, 200, 404, 403, 409, 403],
    ),
    row("get", "/api/v1/admin/audit", ADMIN_ONLY),
    row("get", "/api/v1/admin/agencies", ADMIN_ONLY),
    row("post", "/api/v1/admin/agencies", ADMIN_CREATES),
    row("post", "/api/v1/admin/officials", ADMIN_CREATES),
    row("post", "/api/v1/admin/agencies/{id}/clients", ADMIN_CREATES),
    row(
        "delete",
        "/api/v1/admin/agencies/{id}/clients/{client_id}",
        ADMIN_204,
    ),
    row("post", "/api/v1/admin/accounts/{id}/unlock", ADMIN_204),
    row("post", "/api/v1/admin/accounts/{id}/disable", ADMIN_204),
    row("put", "/api/v1/admin/schemes/{code}/rules", ADMIN_CREATES),
    row("get", "/api/v1/applications", TALENT_AND_OFFICIALS),
    row(
        "post",
        "/api/v1/applications",
        [401, 201, 201, 403, 403, 403, 403, 403],
    ),
    row("get", "/api/v1/applications/{id}", A_AND_XA_SEE),
    row("patch", "/api/v1/applications/{id}", OWNER_CONFLICT),
    row("post", "/api/v1/applications/{id}/submit", OWNER_CONFLICT),
    row("get", "/api/v1/applications/{id}/documents", A_AND_XA_SEE),
    row(
        "get",
        "/api/v1/applications/{id}/documents/{doc_id}",
        A_AND_XA_SEE,
    ),
    row(
        "post",
        "/api/v1/applications/{id}/decision",
        [401, 403, 403, 200, 404, 403, 403, 403],
    ),
    // After the supplement request above, the owner may add evidence.
    row(
        "post",
        "/api/v1/applications/{id}/documents",
        [401, 201, 404, 403, 403, 403, 403, 403],
    ),
    row("get", "/api/v1/recognitions", PUBLIC_GET),
    row("get", "/api/v1/entitlements", PUBLIC_GET),
    // An unknown (well-formed) card: the agency gets an answer, everyone else a refusal.
    row(
        "post",
        "/api/v1/verifications",
        [401, 403, 403, 403, 403, 200, 403, 403],
    ),
    row(
        "post",
        "/api/v1/verifications/nonce",
        [401, 403, 403, 403, 403, 201, 403, 403],
    ),
    row(
        "post",
        "/api/v1/redemptions",
        [401, 403, 403, 403, 403, 422, 403, 403],
    ),
    // A redemption that does not exist (or is another agency's): 404 to the agency.
    row(
        "post",
        "/api/v1/redemptions/{id}/reversal",
        [401, 403, 403, 403, 403, 404, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/entitlements",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/verifications",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row("get", "/api/v1/trust-list", PUBLIC_GET),
    row("get", "/api/v1/trust-list.jws", PUBLIC_GET),
    row("get", "/api/v1/trust-list/jwks", PUBLIC_GET),
    row("get", "/api/v1/status-lists", PUBLIC_GET),
    row("get", "/api/v1/status-lists/{list}", PUBLIC_GET),
    row("get", "/api/v1/status-lists/{list}.jws", PUBLIC_GET),
    row(
        "get",
        "/.well-known/jwt-vc-issuer/issuers/{code}",
        PUBLIC_GET,
    ),
    row("get", "/vct/{scheme}", PUBLIC_GET),
    // CORS preflights on public trust material.
    row("options", "/api/v1/trust-list", PREFLIGHT),
    row("options", "/api/v1/trust-list.jws", PREFLIGHT),
    row("options", "/api/v1/trust-list/jwks", PREFLIGHT),
    row("options", "/api/v1/status-lists", PREFLIGHT),
    row("options", "/api/v1/status-lists/{list}", PREFLIGHT),
    row("options", "/api/v1/status-lists/{list}.jws", PREFLIGHT),
    row(
        "options",
        "/.well-known/jwt-vc-issuer/issuers/{code}",
        PREFLIGHT,
    ),
    row("options", "/vct/{scheme}", PREFLIGHT),
    row("get", "/api/v1/cards", TALENT_AND_OFFICIALS),
    // The card rows use talent B's card.
    row(
        "get",
        "/api/v1/cards/{id}",
        [401, 404, 200, 200, 404, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/credential",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/qr.svg",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/qr.png",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/card.svg",
        [401, 404, 200, 403, 403, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/nonce",
        [401, 200, 200, 403, 403, 403, 403, 403],
    ),
    // A proof that is not a JWT: the holder gets 422 for it, another talent 404 for the card.
    row(
        "put",
        "/api/v1/cards/{id}/holder-key",
        [401, 404, 422, 403, 403, 403, 403, 403],
    ),
    // Only the holder (talent B) gets a code, whatever the card's status.
    row(
        "post",
        "/api/v1/cards/{id}/presentation-code",
        [401, 404, 201, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/me/reminders",
        [401, 200, 200, 403, 403, 403, 403, 403],
    ),
    // Change reports on talent B's live card: the holder reports, XA's officials see and
    // decide (the fixture's open report), TZ's do not see the card.
    row(
        "post",
        "/api/v1/cards/{id}/changes",
        [401, 404, 201, 403, 403, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/cards/{id}/changes",
        [401, 404, 200, 200, 404, 403, 403, 403],
    ),
    row(
        "get",
        "/api/v1/card-changes",
        [401, 403, 403, 200, 200, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/cards/{id}/changes/{change_id}/decision",
        [401, 403, 403, 200, 404, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/cards/{id}/suspend",
        [401, 403, 403, 200, 404, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/cards/{id}/resume",
        [401, 403, 403, 200, 404, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/cards/{id}/revoke",
        [401, 403, 403, 200, 404, 403, 403, 403],
    ),
    // Only the holder reports a loss or asks for a replacement; the card is revoked by the row
    // above, so the holder's call is refused by the state machine (the holder's own success
    // is tested in holder_lifecycle.rs).
    row(
        "post",
        "/api/v1/cards/{id}/report-loss",
        [401, 404, 409, 403, 403, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/cards/{id}/replacement",
        [401, 404, 409, 403, 403, 403, 403, 403],
    ),
    row(
        "post",
        "/api/v1/admin/issuers/{code}/keys/rotate",
        [401, 403, 403, 403, 403, 403, 200, 403],
    ),
    row("get", "/api/v1/admin/issuers/{code}/keys", ADMIN_ONLY),
    // Withdraws XA's first key, retired by the rotation above.
    row(
        "post",
        "/api/v1/admin/issuers/{code}/keys/{kid}/compromise",
        ADMIN_ONLY,
    ),
    // Families and employers. Talent B's card is tier B (and revoked above): B gets 422.
    row(
        "post",
        "/api/v1/cards/{id}/dependants",
        [401, 404, 422, 403, 403, 403, 403, 403],
    ),
    row("post", "/api/v1/admin/employers", ADMIN_CREATES),
    row(
        "put",
        "/api/v1/admin/schemes/{code}/dependant-policy",
        ADMIN_CREATES,
    ),
    row(
        "post",
        "/api/v1/admin/employers/{id}/accounts",
        ADMIN_CREATES,
    ),
    row(
        "get",
        "/api/v1/employer/applications",
        [401, 403, 403, 403, 403, 403, 403, 200],
    ),
    // Talent A's application does not name the employer: 404 to it, 403 to everyone else.
    row(
        "post",
        "/api/v1/applications/{id}/endorsement",
        [401, 403, 403, 403, 403, 403, 403, 404],
    ),
    // Withdraws a second, draft application of talent A.
    row(
        "post",
        "/api/v1/applications/{id}/withdraw",
        [401, 200, 404, 403, 403, 403, 403, 403],
    ),
    // New policy versions last: they change what the rows above relied on.
    row("put", "/api/v1/admin/recognitions", ADMIN_CREATES),
    row("put", "/api/v1/admin/entitlements", ADMIN_CREATES),
    row("post", "/api/v1/auth/logout", PEOPLE_204),
];

/// Ids the templates are filled with.
struct Fixtures {
    agency: String,
    client: String,
    victim: String,
    application: String,
    document: String,
    draft: String,
    card: String,
    /// An open change report on `card`.
    change: String,
    /// XA's first key (retired by the rotation row before the compromise row withdraws it).
    kid: String,
    /// A claim on talent A's document, and talent A's id (who keeps it).
    dispute: String,
    holder: String,
    /// A registered employer (not the one talent A's application names).
    employer: String,
}

fn path(template: &str, f: &Fixtures) -> String {
    let application = if template.ends_with("/withdraw") {
        &f.draft
    } else {
        &f.application
    };
    let code = if template.contains("/issuers/") {
        "XA"
    } else {
        "XIONGAN"
    };
    template
        .replace(
            "document-disputes/{id}",
            &format!("document-disputes/{}", f.dispute),
        )
        .replace("cards/{id}", &format!("cards/{}", f.card))
        .replace("{change_id}", &f.change)
        .replace("{issuer}", "XA")
        .replace("{list}", "XA")
        .replace("applications/{id}", &format!("applications/{application}"))
        .replace("{doc_id}", &f.document)
        .replace(
            "{id}/clients/{client_id}",
            &format!("{}/clients/{}", f.agency, f.client),
        )
        .replace("agencies/{id}", &format!("agencies/{}", f.agency))
        .replace("employers/{id}", &format!("employers/{}", f.employer))
        .replace("accounts/{id}", &format!("accounts/{}", f.victim))
        .replace(
            "redemptions/{id}",
            "redemptions/01936c2e-0000-7000-8000-00000000dead",
        )
        .replace("{code}", code)
        .replace("{version}", "1")
        .replace("{kid}", &f.kid)
        .replace("{scheme}", "XIONGAN")
}

/// A change of title that took effect today.
fn change_report() -> Value {
    let today = talentcard::clock::china_date(chrono::Utc::now());
    json!({ "kind": "title", "effective_on": today.to_string(), "facts": crate::schemes::doctorate(40) })
}

/// A valid body for `template`, unique to `role` where uniqueness matters.
fn body(template: &str, role: usize, tokens: &[Option<String>]) -> Option<Value> {
    let unique = format!(
        "{}-{}",
        ROLES[role].replace('_', "-"),
        uuid::Uuid::now_v7().simple()
    );
    Some(match template {
        "/api/v1/auth/register" => {
            json!({ "email": format!("{unique}@example.cn"), "password": crate::users::PASSWORD, "full_name": "x" })
        }
        "/api/v1/auth/login" => {
            json!({ "email": format!("{unique}@example.cn"), "password": "not the password" })
        }
        "/api/v1/auth/refresh" => json!({ "refresh_token": "rt_bogus" }),
        "/api/v1/admin/issuers/{code}/keys/{kid}/compromise" => json!({ "comment": "leaked" }),
        "/api/v1/auth/mfa/confirm" => json!({ "totp": "123456" }),
        "/api/v1/me/profile" => {
            json!({ "id_type": "passport", "id_number": format!("P{role}0000{role}") })
        }
        "/api/v1/admin/agencies" => {
            json!({ "name": "医院", "district": "tongzhou", "services": ["tourism_pass"] })
        }
        "/api/v1/admin/officials" => {
            json!({ "email": format!("{unique}@example.cn"), "password": crate::users::PASSWORD, "full_name": "x", "issuer": "TZ" })
        }
        "/api/v1/schemes/{code}/eligibility" => json!({ "facts": crate::schemes::doctorate(40) }),
        "/api/v1/admin/schemes/{code}/rules" => json!({
            "rules": serde_json::from_str::<Value>(include_str!("../../config/schemes/xiongan.rules.json")).unwrap()
        }),
        "/api/v1/applications" => {
            json!({ "scheme": "TWL", "issuer": "TZ", "facts": crate::schemes::doctorate(40) })
        }
        "/api/v1/applications/{id}" => json!({ "facts": crate::schemes::doctorate(41) }),
        "/api/v1/applications/{id}/decision" => {
            json!({ "decision": "request_supplement", "comment": "more please" })
        }
        "/api/v1/verifications" => {
            json!({ "card_number": talentcard::domain::card_number::format("TZ", 2026, 424_242) })
        }
        "/api/v1/redemptions" => {
            json!({ "card_number": talentcard::domain::card_number::format("TZ", 2026, 424_242), "service": "tourism_pass" })
        }
        "/api/v1/redemptions/{id}/reversal" => json!({ "reason_code": "entered_in_error" }),
        "/api/v1/cards/{id}/holder-key" => json!({ "proof": "not-a-proof" }),
        "/api/v1/cards/{id}/suspend" => json!({ "reason_code": "under_investigation" }),
        "/api/v1/cards/{id}/resume" => json!({}),
        "/api/v1/cards/{id}/revoke" => json!({ "reason_code": "holder_request" }),
        "/api/v1/cards/{id}/report-loss" => json!({}),
        "/api/v1/cards/{id}/changes" => change_report(),
        "/api/v1/cards/{id}/changes/{change_id}/decision" => {
            json!({ "decision": "keep", "comment": "no effect on the tier" })
        }
        "/api/v1/admin/recognitions" => {
            json!({ "rules": [{ "scheme": "XIONGAN", "tier": "A", "district": "tongzhou", "local_tier": "A" }] })
        }
        "/api/v1/admin/entitlements" => {
            json!({ "rules": [{ "local_tier": "A", "district": "tongzhou", "service": "tourism_pass", "period": "unlimited" }] })
        }
        "/api/v1/cards/{id}/dependants" => crate::families::dependant_body(
            "家人",
            "spouse",
            700 + u32::try_from(role).unwrap(),
            "1990-01-01",
        ),
        "/api/v1/admin/employers" => {
            json!({ "name": "另一家公司", "credit_code": crate::employers::credit_code(2), "district": "xiongan" })
        }
        "/api/v1/admin/employers/{id}/accounts" => {
            json!({ "email": format!("{unique}@example.cn"), "password": crate::users::PASSWORD, "full_name": "x" })
        }
        "/api/v1/applications/{id}/endorsement" => json!({ "decision": "confirm" }),
        "/api/v1/admin/schemes/{code}/dependant-policy" => json!({
            "policy": { "tiers": ["A"], "relations": ["spouse", "child", "parent"], "child_age_below": 18, "max_live": 6 }
        }),
        "/api/v1/auth/logout" => {
            json!({ "refresh_token": tokens.get(role).cloned().flatten().unwrap_or_default() })
        }
        _ => return None,
    })
}

async fn call(
    app: &TestApp,
    endpoint: &Endpoint,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> u16 {
    let method = reqwest::Method::from_bytes(endpoint.method.to_uppercase().as_bytes()).unwrap();
    let mut request = app.client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if endpoint.template == "/api/v1/applications/{id}/documents" && endpoint.method == "post" {
        let part = reqwest::multipart::Part::bytes(crate::applications::PDF.to_vec())
            .file_name("evidence.pdf");
        request = request.multipart(reqwest::multipart::Form::new().part("file", part));
    } else if endpoint.template == "/api/v1/auth/token" {
        request = request.form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "x"),
            ("client_secret", "y"),
        ]);
    } else if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_endpoint_for_every_role() {
    let app = spawn_app().await;
    let admin = app.staff("admin@example.cn", "admin", None).await;
    let talent_a = app.talent("a@example.cn").await;
    let talent_b = app.talent("b@example.cn").await;
    let official_xa = app.staff("xa@example.cn", "official", Some("XA")).await;
    let official_tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let (agency, _, _, agency_token) = app.agency(&admin, "tongzhou", &["tourism_pass"]).await;
    // A second client of the agency, for the revocation row to revoke.
    let clients = format!("/api/v1/admin/agencies/{agency}/clients");
    let spare: Value = app
        .post_json(&clients, &json!({}), Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    let client = spare["client_id"].as_str().unwrap().to_owned();
    let victim = app.talent("victim@example.cn").await;
    app.put_profile(&talent_a, 900).await;
    let application = app.draft(&talent_a, 40).await;
    let uploaded: Value = app
        .upload(
            &talent_a,
            &application,
            "d.pdf",
            crate::applications::PDF.to_vec(),
        )
        .await
        .json()
        .await
        .unwrap();
    let document = uploaded["id"].as_str().unwrap().to_owned();
    let submitted = app
        .send(
            "POST",
            &format!("/api/v1/applications/{application}/submit"),
            &talent_a.access,
            None,
        )
        .await;
    assert_eq!(submitted.status().as_u16(), 200);
    // A card of talent B's, approved by XA, for the card rows.
    app.put_profile(&talent_b, 901).await;
    let b_application = app.submitted(&talent_b, 40).await;
    let approved: Value = app
        .decide(
            &official_xa,
            &b_application,
            json!({ "decision": "approve", "tier": "B" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let card = approved["card"]["id"].as_str().unwrap().to_owned();
    let change: Value = app
        .send(
            "POST",
            &format!("/api/v1/cards/{card}/changes"),
            &talent_b.access,
            Some(&change_report()),
        )
        .await
        .json()
        .await
        .unwrap();
    let tbt = json!({ "scheme": "TBT", "issuer": "TZ", "facts": crate::schemes::doctorate(40) });
    let draft: Value = app
        .send("POST", "/api/v1/applications", &talent_a.access, Some(&tbt))
        .await
        .json()
        .await
        .unwrap();
    let keys: Value = app
        .get_as("/api/v1/admin/issuers/XA/keys", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let kid = keys[0]["kid"].as_str().unwrap().to_owned();
    let squatter = app.talent("squatter@example.cn").await;
    app.put_profile(&squatter, 900).await;
    let dispute = crate::identity::open_dispute(&app).await.to_string();
    let (employer, employer_user) =
        crate::employers::employer_account(&app, &admin, 1, "hr@example.cn").await;
    let fixtures = Fixtures {
        employer,
        kid,
        agency: agency.to_string(),
        client,
        victim: victim.id.to_string(),
        application,
        document,
        draft: draft["id"].as_str().unwrap().to_owned(),
        card,
        change: change["id"].as_str().unwrap().to_owned(),
        dispute,
        holder: talent_a.id.to_string(),
    };
    let people = [
        None,
        Some(&talent_a),
        Some(&talent_b),
        Some(&official_xa),
        Some(&official_tz),
        None,
        Some(&admin),
        Some(&employer_user),
    ];
    let tokens: Vec<Option<String>> = people.iter().map(|p| p.map(|u| u.access.clone())).collect();
    let tokens: Vec<Option<String>> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            if ROLES[i] == "agency" {
                Some(agency_token.clone())
            } else {
                t
            }
        })
        .collect();
    let refresh: Vec<Option<String>> = people
        .iter()
        .map(|p| p.and_then(|u| u.refresh.clone()))
        .collect();

    let mut mismatches = Vec::new();
    for endpoint in ENDPOINTS {
        let url = format!("{}{}", app.address, path(endpoint.template, &fixtures));
        for (role, expected) in endpoint.expect.iter().enumerate() {
            let body = if endpoint.template.starts_with("/api/v1/document-disputes/") {
                Some(
                    json!({ "assign_to": fixtures.holder, "comment": "passport seen at the desk" }),
                )
            } else {
                body(endpoint.template, role, &refresh)
            };
            let status = call(&app, endpoint, &url, tokens[role].as_deref(), body).await;
            if status != *expected {
                mismatches.push(format!(
                    "{} {} as {}: {status}, expected {expected}",
                    endpoint.method, endpoint.template, ROLES[role]
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
