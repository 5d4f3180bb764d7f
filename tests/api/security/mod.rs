//! The OWASP API Security Top 10 (2023), item by item: the concrete attacks on this service and
//! proof that each is refused. Each table row is one attack case; the tests print how many
//! they ran (`cargo test security -- --nocapture`).
//!
//! | item | attacks | where |
//! |---|---|---|
//! | API1 object-level authorisation | another owner's, another issuer's, another parent's and unknown ids on every id-bearing endpoint, answered exactly like an unknown id | `bola.rs`, the matrix in `access.rs` |
//! | API2 authentication | forged, tampered, expired, wrong-use and `alg: none` tokens; refresh reuse; MFA; throttled logins | `forged_tokens.rs`, `sessions.rs`, `mfa.rs`, `accounts.rs` |
//! | API3 property-level authorisation | mass assignment of role, status, issuer, owner, tier and ids; secrets and personal data absent from answers | `properties.rs` |
//! | API4 resource consumption | page sizes, body and upload sizes, chunked bodies, deep JSON, long strings, slow heads, slow bodies, slow uploads, rate limits | `resources.rs`, `partners.rs` |
//! | API5 function-level authorisation | every endpoint × every role, method overrides, query filters that name another issuer | `access.rs`, `functions.rs` |
//! | API6 sensitive business flows | registrations per address and hour, one card per application under racing approvals, quotas under concurrency, idempotent redemptions | `accounts.rs`, `applications.rs`, `partners.rs`, `state_machine.rs` |
//! | API7 server-side request forgery | nothing fetches a client-supplied URL; `Host` and `X-Forwarded-*` do not steer the URLs we sign | `misconfiguration.rs` |
//! | API8 misconfiguration | `no-store`, `nosniff`, `X-Frame-Options`, no CORS grant to any origin, no `TRACE`, error bodies without SQL, paths, panics or personal data | `misconfiguration.rs` |
//! | API9 inventory | the served document lists exactly the operations the matrix tests; nothing undocumented answers | `openapi.rs`, `misconfiguration.rs` |
//! | API10 unsafe consumption | rules documents and facts from outside are bounded and parsed strictly | `resources.rs`, fuzz targets in `fuzz/` |

mod bola;
mod functions;
mod misconfiguration;
mod properties;
mod resources;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::users::TestUser;

/// A populated service: two talent (A with a submitted XA application and a document, B with a
/// live XA card), officials of XA and TZ, an administrator and two agencies.
pub struct World {
    pub admin: TestUser,
    pub talent_a: TestUser,
    pub talent_b: TestUser,
    pub official_xa: TestUser,
    pub official_tz: TestUser,
    /// Agency 1 (Tongzhou): its id, its client id and a token.
    pub agency: (Uuid, String, String),
    /// Agency 2 (Tongzhou), for cross-agency attacks.
    pub other_agency: (Uuid, String, String),
    /// Talent A's submitted application and its document.
    pub application_a: String,
    pub document_a: String,
    /// Talent B's approved application, its document and its card.
    pub application_b: String,
    pub document_b: String,
    pub card_b: String,
    pub card_number_b: String,
}

impl World {
    pub async fn build(app: &TestApp) -> World {
        let admin = app.staff("admin@example.cn", "admin", None).await;
        let talent_a = app.talent("a@example.cn").await;
        let talent_b = app.talent("b@example.cn").await;
        let official_xa = app.staff("xa@example.cn", "official", Some("XA")).await;
        let official_tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
        let (agency_id, agency_client, _, agency_token) =
            app.agency(&admin, "tongzhou", &["tourism_pass"]).await;
        let (other_id, other_client, _, other_token) =
            app.agency(&admin, "tongzhou", &["tourism_pass"]).await;

        app.put_profile(&talent_a, 700).await;
        let application_a = app.draft(&talent_a, 40).await;
        let document_a = upload(app, &talent_a, &application_a).await;
        submit(app, &talent_a, &application_a).await;

        app.put_profile(&talent_b, 701).await;
        let application_b = app.draft(&talent_b, 40).await;
        let document_b = upload(app, &talent_b, &application_b).await;
        submit(app, &talent_b, &application_b).await;
        let approved: Value = app
            .decide(
                &official_xa,
                &application_b,
                json!({ "decision": "approve", "tier": "B" }),
            )
            .await
            .json()
            .await
            .unwrap();
        World {
            admin,
            talent_a,
            talent_b,
            official_xa,
            official_tz,
            agency: (agency_id, agency_client, agency_token),
            other_agency: (other_id, other_client, other_token),
            application_a,
            document_a,
            application_b,
            document_b,
            card_b: approved["card"]["id"].as_str().unwrap().to_owned(),
            card_number_b: approved["card"]["number"].as_str().unwrap().to_owned(),
        }
    }
}

async fn upload(app: &TestApp, talent: &TestUser, application: &str) -> String {
    let uploaded = app
        .upload(
            talent,
            application,
            "evidence.pdf",
            crate::applications::PDF.to_vec(),
        )
        .await;
    assert_eq!(uploaded.status().as_u16(), 201);
    let uploaded: Value = uploaded.json().await.unwrap();
    uploaded["id"].as_str().unwrap().to_owned()
}

async fn submit(app: &TestApp, talent: &TestUser, application: &str) {
    let path = format!("/api/v1/applications/{application}/submit");
    let submitted = app.send("POST", &path, &talent.access, None).await;
    assert_eq!(submitted.status().as_u16(), 200);
}

/// Rows in the tables an attack could have written to: a refused attack leaves them unchanged.
pub async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.connect().await;
    let mut counts = Vec::new();
    for table in [
        "accounts",
        "applications",
        "application_documents",
        "cards",
        "agencies",
        "agency_clients",
        "audit_log",
        "redemptions",
        "profiles",
        "rule_sets",
        "policy_documents",
        "issuer_keys",
        "idempotency_keys",
    ] {
        let counted: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut conn)
            .await
            .unwrap();
        counts.push((table, counted.n));
    }
    counts
}
