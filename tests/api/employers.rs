//! Employers (用人单位): registration with a checked credit code, their accounts, the wait in
//! `awaiting_employer`, confirm and decline, what an employer sees, and who may answer.

use serde_json::{Value, json};
use talentcard::domain::credit_code::check_char;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::users::{PASSWORD, TestUser};

/// The credit code every test application names (`schemes::doctorate`).
const NAMED: &str = "91130600MA0D123455";

/// A valid unified social credit code whose serial digits are `n`.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91130600MA0D{:05}", n % 100_000);
    format!("{first17}{}", check_char(&first17).unwrap())
}

/// Registers an employer with `code` and an account for it; (employer id, signed-in account).
pub async fn register(
    app: &TestApp,
    admin: &TestUser,
    code: &str,
    email: &str,
) -> (String, TestUser) {
    let body = json!({ "name": "雄安科技有限公司", "credit_code": code, "district": "xiongan" });
    let created = app
        .post_json("/api/v1/admin/employers", &body, Some(&admin.access))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let body = json!({ "email": email, "password": PASSWORD, "full_name": "人事处" });
    let path = format!("/api/v1/admin/employers/{id}/accounts");
    let account = app.post_json(&path, &body, Some(&admin.access)).await;
    assert_eq!(account.status().as_u16(), 201);
    let account: Value = account.json().await.unwrap();
    assert_eq!(
        (&account["role"], &account["employer"]),
        (&json!("employer"), &json!(id))
    );
    // No second factor for employers.
    let tokens: Value = app.login(email, PASSWORD, None).await.json().await.unwrap();
    let user = TestUser {
        id: account["id"].as_str().unwrap().parse().unwrap(),
        access: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh: tokens["refresh_token"].as_str().map(str::to_owned),
        totp_secret: None,
    };
    (id, user)
}

/// An employer (code number `n`, not the one applications name) with an account.
pub async fn employer_account(
    app: &TestApp,
    admin: &TestUser,
    n: u32,
    email: &str,
) -> (String, TestUser) {
    register(app, admin, &credit_code(n), email).await
}

async fn endorse(app: &TestApp, who: &TestUser, id: &str, decision: &str) -> reqwest::Response {
    let body = json!({ "decision": decision, "comment": "在职" });
    app.post_json(
        &format!("/api/v1/applications/{id}/endorsement"),
        &body,
        Some(&who.access),
    )
    .await
}

async fn application(app: &TestApp, who: &TestUser, id: &str) -> Value {
    app.get_as(&format!("/api/v1/applications/{id}"), &who.access)
        .await
        .json()
        .await
        .unwrap()
}

/// A talent's application naming [`NAMED`], submitted; (talent, id, the submit answer).
async fn submitted_naming(app: &TestApp, n: u32) -> (TestUser, String, Value) {
    let talent = app.talent(&format!("staff{n}@example.cn")).await;
    app.put_profile(&talent, 300 + n).await;
    let id = app.draft(&talent, 40).await;
    let submitted = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await;
    assert_eq!(submitted.status().as_u16(), 200);
    let body = submitted.json().await.unwrap();
    (talent, id, body)
}

#[tokio::test]
async fn employers_are_registered_with_a_checked_credit_code_once() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let mut wrong = credit_code(7);
    wrong.replace_range(17.., if wrong.ends_with('0') { "1" } else { "0" });
    let bad = json!({ "name": "某公司", "credit_code": wrong, "district": "xiongan" });
    let refused = problem(
        app.post_json("/api/v1/admin/employers", &bad, Some(&admin.access))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "credit_code");
    let nowhere =
        json!({ "name": "某公司", "credit_code": credit_code(7), "district": "atlantis" });
    problem(
        app.post_json("/api/v1/admin/employers", &nowhere, Some(&admin.access))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let (id, hr) = employer_account(&app, &admin, 7, "hr7@example.cn").await;
    let again = json!({ "name": "重名", "credit_code": credit_code(7), "district": "xiongan" });
    problem(
        app.post_json("/api/v1/admin/employers", &again, Some(&admin.access))
            .await,
        409,
        "conflict",
    )
    .await;
    let me: Value = app
        .get_as("/api/v1/me", &hr.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "employer");
    // An account for an employer that does not exist is 404, a taken email 409.
    let body = json!({ "email": "hr8@example.cn", "password": PASSWORD, "full_name": "x" });
    let missing = "/api/v1/admin/employers/01936c2e-0000-7000-8000-00000000dead/accounts";
    problem(
        app.post_json(missing, &body, Some(&admin.access)).await,
        404,
        "not_found",
    )
    .await;
    let taken = json!({ "email": "hr7@example.cn", "password": PASSWORD, "full_name": "x" });
    let path = format!("/api/v1/admin/employers/{id}/accounts");
    problem(
        app.post_json(&path, &taken, Some(&admin.access)).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn an_application_naming_a_registered_employer_waits_for_it_and_the_employer_sees_only_what_it_must()
 {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (_, hr) = register(&app, &admin, NAMED, "hr@example.cn").await;
    let (_, other_hr) = employer_account(&app, &admin, 9, "other@example.cn").await;
    let (talent, id, submitted) = submitted_naming(&app, 1).await;
    assert_eq!(
        (&submitted["status"], &submitted["employer_endorsement"]),
        (&json!("awaiting_employer"), &json!("pending"))
    );
    // Not in the officials' queue yet.
    assert!(
        app.items("/api/v1/applications", &official.access)
            .await
            .is_empty()
    );
    problem(
        app.get_as(&format!("/api/v1/applications/{id}"), &official.access)
            .await,
        404,
        "not_found",
    )
    .await;

    // The employer lists it with the applicant's name, scheme, status and employer facts only.
    let listed = app.items("/api/v1/employer/applications", &hr.access).await;
    assert_eq!(listed.len(), 1);
    let mut keys: Vec<&str> = listed[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "applicant_name",
            "created_at",
            "employer",
            "employer_endorsement",
            "id",
            "scheme",
            "status"
        ]
    );
    assert_eq!(listed[0]["employer"]["credit_code"], NAMED);
    assert_eq!(listed[0]["applicant_name"], "测试 Talent");
    assert!(
        app.items("/api/v1/employer/applications", &other_hr.access)
            .await
            .is_empty()
    );

    // Only that employer answers: others are refused and nothing changes.
    problem(
        endorse(&app, &other_hr, &id, "confirm").await,
        404,
        "not_found",
    )
    .await;
    problem(
        endorse(&app, &talent, &id, "confirm").await,
        403,
        "forbidden",
    )
    .await;
    problem(
        endorse(&app, &official, &id, "confirm").await,
        403,
        "forbidden",
    )
    .await;
    problem(
        endorse(&app, &admin, &id, "confirm").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        application(&app, &talent, &id).await["status"],
        "awaiting_employer"
    );
    // The applicant may not edit it meanwhile.
    let edit = app
        .send(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            &talent.access,
            Some(&json!({ "facts": crate::schemes::doctorate(41) })),
        )
        .await;
    problem(edit, 409, "invalid_transition").await;

    let confirmed = endorse(&app, &hr, &id, "confirm").await;
    assert_eq!(confirmed.status().as_u16(), 200);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(
        (&confirmed["status"], &confirmed["employer_endorsement"]),
        (&json!("submitted"), &json!("confirmed"))
    );
    let queue = app.items("/api/v1/applications", &official.access).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["employer_endorsement"], "confirmed");
    let seen = application(&app, &official, &id).await;
    assert_eq!(seen["employer_endorsement"], "confirmed");
    assert!(seen["review_due"].is_string());
    problem(
        endorse(&app, &hr, &id, "decline").await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn a_declined_endorsement_rejects_and_an_unregistered_employer_means_no_wait() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    // Not registered yet: straight to the officials, endorsement unavailable.
    let (_, early, body) = submitted_naming(&app, 2).await;
    let early = early.as_str();
    assert_eq!(
        (&body["status"], &body["employer_endorsement"]),
        (&json!("submitted"), &json!("unavailable"))
    );
    let (_, hr) = register(&app, &admin, NAMED, "hr@example.cn").await;
    let (talent, id, _) = submitted_naming(&app, 3).await;
    let declined = endorse(&app, &hr, &id, "decline").await;
    assert_eq!(declined.status().as_u16(), 200);
    let seen = application(&app, &talent, &id).await;
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["decision"]["reason_code"], "employer_declined");
    assert_eq!(seen["employer_endorsement"], "declined");
    // The officials only ever saw the first one.
    let queue = app.items("/api/v1/applications", &official.access).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], json!(early));
}

#[tokio::test]
async fn two_answers_at_once_yield_one() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, hr) = register(&app, &admin, NAMED, "hr@example.cn").await;
    let (talent, id, _) = submitted_naming(&app, 4).await;
    let (a, b) = tokio::join!(
        endorse(&app, &hr, &id, "confirm"),
        endorse(&app, &hr, &id, "decline")
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let status = application(&app, &talent, &id).await["status"].clone();
    assert!(status == "submitted" || status == "rejected");
}
