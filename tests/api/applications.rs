//! Applications through the HTTP API: the whole flow, every illegal transition, racing
//! approvals, access, evidence, idempotency and the queue.

use chrono::Duration;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use talentcard::domain::card_number;
use talentcard::domain::id_document::resident_id_check_char;

use crate::helpers::{TestApp, problem};
use crate::schemes::doctorate;
use crate::users::TestUser;

/// A valid resident ID whose sequence digits are `n`.
pub fn resident_id(n: u32) -> String {
    let first17 = format!("11010519850101{:03}", n % 1000);
    let check = resident_id_check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// A minimal PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

impl TestApp {
    pub async fn put_profile(&self, user: &TestUser, n: u32) {
        let body = json!({ "id_type": "resident_id", "id_number": resident_id(n) });
        let response = self
            .client
            .put(format!("{}/api/v1/me/profile", self.address))
            .bearer_auth(&user.access)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// A draft XIONGAN application of `talent` for a doctorate of `age`; returns its id.
    pub async fn draft(&self, talent: &TestUser, age: i32) -> String {
        let body = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": doctorate(age) });
        let response = self
            .send("POST", "/api/v1/applications", &talent.access, Some(&body))
            .await;
        assert_eq!(response.status().as_u16(), 201);
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn submitted(&self, talent: &TestUser, age: i32) -> String {
        let id = self.draft(talent, age).await;
        let response = self
            .send(
                "POST",
                &format!("/api/v1/applications/{id}/submit"),
                &talent.access,
                None,
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        id
    }

    pub async fn upload(
        &self,
        talent: &TestUser,
        id: &str,
        name: &str,
        content: Vec<u8>,
    ) -> reqwest::Response {
        let form = Form::new().part("file", Part::bytes(content).file_name(name.to_owned()));
        self.client
            .post(format!(
                "{}/api/v1/applications/{id}/documents",
                self.address
            ))
            .bearer_auth(&talent.access)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn decide(&self, official: &TestUser, id: &str, body: Value) -> reqwest::Response {
        self.send(
            "POST",
            &format!("/api/v1/applications/{id}/decision"),
            &official.access,
            Some(&body),
        )
        .await
    }
}

async fn status_of(app: &TestApp, user: &TestUser, id: &str) -> String {
    let body: Value = app
        .get_as(&format!("/api/v1/applications/{id}"), &user.access)
        .await
        .json()
        .await
        .unwrap();
    body["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_whole_flow_from_draft_to_card() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("li@example.cn").await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let id = app.draft(&talent, 40).await;

    let patched = app
        .send(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            &talent.access,
            Some(&json!({ "facts": doctorate(41) })),
        )
        .await;
    assert_eq!(patched.status().as_u16(), 200);
    let uploaded = app.upload(&talent, &id, "degree.pdf", PDF.to_vec()).await;
    assert_eq!(uploaded.status().as_u16(), 201);
    let document: Value = uploaded.json().await.unwrap();
    assert_eq!(document["content_type"], "application/pdf");
    assert_eq!(document["sha256"].as_str().unwrap().len(), 64);

    let no_profile = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await;
    assert_eq!(
        problem(no_profile, 422, "validation_failed").await["errors"][0]["field"],
        "profile"
    );
    app.put_profile(&talent, 1).await;
    let submitted: Value = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["evaluation"]["suggested_tier"], "B");
    assert_eq!(submitted["evaluation"]["rules_version"], 1);
    assert!(
        submitted["evaluation"]["trace"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["rule"] == "doctorate_up_to_45" && t["matched"] == true)
    );
    assert!(submitted["review_due"].is_string());

    let queue: Value = app
        .get_as("/api/v1/applications?status=submitted", &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["id"], id.as_str());
    assert_eq!(queue["items"][0]["overdue"], false);
    let read: Value = app
        .get_as(&format!("/api/v1/applications/{id}"), &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["applicant"]["id_number"],
        resident_id(1),
        "officials see the unmasked ID"
    );
    let own: Value = app
        .get_as(&format!("/api/v1/applications/{id}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(own.get("applicant").is_none());

    let supplement = json!({ "decision": "request_supplement", "comment": "请补充", "items": ["doctoral diploma", "labour contract"] });
    let asked: Value = app
        .decide(&official, &id, supplement)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked["application"]["status"], "supplement_requested");
    assert_eq!(
        asked["application"]["decision"]["items"],
        json!(["doctoral diploma", "labour contract"])
    );
    assert_eq!(
        app.upload(
            &talent,
            &id,
            "contract.png",
            b"\x89PNG\r\n\x1a\nrest".to_vec()
        )
        .await
        .status()
        .as_u16(),
        201
    );
    let resubmitted = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await;
    assert_eq!(resubmitted.status().as_u16(), 200);

    let approved = app
        .decide(
            &official,
            &id,
            json!({ "decision": "approve", "tier": "B" }),
        )
        .await;
    assert_eq!(approved.status().as_u16(), 200);
    let approved: Value = approved.json().await.unwrap();
    let card = &approved["card"];
    assert_eq!(card["status"], "active");
    assert_eq!(card["tier"], "B");
    let number = card["number"].as_str().unwrap();
    // Issuer, year, a random 13-digit serial (never the first of a sequence), check digit.
    let parts: Vec<&str> = number.split('-').collect();
    assert_eq!(
        (parts[0], parts[1]),
        ("XA", app.clock_year().to_string().as_str()),
        "{number}"
    );
    assert_eq!(parts[2].len(), 13, "{number}");
    assert!(
        parts[2].parse::<i64>().unwrap() >= 1_000_000_000_000,
        "{number}"
    );
    assert!(card_number::is_valid(number));
    let from = chrono::NaiveDate::parse_from_str(card["valid_from"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    let until =
        chrono::NaiveDate::parse_from_str(card["valid_until"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert_eq!(
        until,
        from.checked_add_months(chrono::Months::new(36))
            .unwrap()
            .pred_opt()
            .unwrap(),
        "B is valid 3 years"
    );
    let own: Value = app
        .get_as(&format!("/api/v1/applications/{id}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["status"], "approved");
    assert_eq!(own["card_id"], card["id"]);
    assert_eq!(own["decision"]["tier"], "B");

    let admin = app.staff("root@example.cn", "admin", None).await;
    let audit: Value = app
        .get_as(
            &format!("/api/v1/admin/audit?entity_id={id}&limit=50"),
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "application.created",
        "application.updated",
        "document.uploaded",
        "application.submitted",
        "application.personal_data_viewed",
        "application.supplement_requested",
        "application.approved",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(
        !audit.to_string().contains(&resident_id(1)),
        "the audit log never holds the ID number"
    );
}

#[tokio::test]
async fn every_illegal_transition_is_409_and_changes_nothing() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("li@example.cn").await;
    app.put_profile(&talent, 2).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let approve = json!({ "decision": "approve", "tier": "B" });
    let reject = json!({ "decision": "reject", "reason_code": "not_eligible", "comment": "no" });
    let supplement = json!({ "decision": "request_supplement", "comment": "more" });

    // Approved: nothing more.
    let id = app.submitted(&talent, 40).await;
    assert_eq!(
        app.decide(&official, &id, approve.clone())
            .await
            .status()
            .as_u16(),
        200
    );
    for body in [&approve, &reject, &supplement] {
        problem(
            app.decide(&official, &id, body.clone()).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    for action in ["submit", "withdraw"] {
        problem(
            app.send(
                "POST",
                &format!("/api/v1/applications/{id}/{action}"),
                &talent.access,
                None,
            )
            .await,
            409,
            "invalid_transition",
        )
        .await;
    }
    let patch = app
        .send(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            &talent.access,
            Some(&json!({ "facts": doctorate(40) })),
        )
        .await;
    problem(patch, 409, "invalid_transition").await;
    problem(
        app.upload(&talent, &id, "x.pdf", PDF.to_vec()).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(status_of(&app, &talent, &id).await, "approved");

    // Submitted: facts frozen, no second submission.
    let id = app.submitted(&talent, 40).await;
    problem(
        app.send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    let patch = app
        .send(
            "PATCH",
            &format!("/api/v1/applications/{id}"),
            &talent.access,
            Some(&json!({ "facts": doctorate(30) })),
        )
        .await;
    problem(patch, 409, "invalid_transition").await;
    // Rejected: final.
    assert_eq!(
        app.decide(&official, &id, reject.clone())
            .await
            .status()
            .as_u16(),
        200
    );
    problem(
        app.send(
            "POST",
            &format!("/api/v1/applications/{id}/withdraw"),
            &talent.access,
            None,
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    problem(
        app.decide(&official, &id, approve.clone()).await,
        409,
        "invalid_transition",
    )
    .await;

    // Supplement requested: not decidable until resubmitted. Withdrawn: final.
    let id = app.submitted(&talent, 40).await;
    assert_eq!(
        app.decide(&official, &id, supplement.clone())
            .await
            .status()
            .as_u16(),
        200
    );
    problem(
        app.decide(&official, &id, approve.clone()).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        app.send(
            "POST",
            &format!("/api/v1/applications/{id}/withdraw"),
            &talent.access,
            None
        )
        .await
        .status()
        .as_u16(),
        200
    );
    problem(
        app.send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &talent.access,
            None,
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    problem(
        app.decide(&official, &id, approve).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(status_of(&app, &talent, &id).await, "withdrawn");

    // A draft is invisible to officials (404) and the talent's own to withdraw.
    let id = app.draft(&talent, 40).await;
    problem(
        app.decide(
            &official,
            &id,
            json!({ "decision": "approve", "tier": "B" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn twenty_racing_approvals_yield_one_card_twenty_times_over() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("race@example.cn").await;
    app.put_profile(&talent, 3).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    for round in 0..20 {
        let id = app.submitted(&talent, 40).await;
        let approvals = (0..20).map(|_| {
            app.decide(
                &official,
                &id,
                json!({ "decision": "approve", "tier": "B" }),
            )
        });
        let answers = futures_util::future::join_all(approvals).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            19,
            "round {round}: {statuses:?}"
        );
        // One live card per holder and scheme: the card is revoked before the next round.
        let mut card = None;
        for answer in answers {
            if answer.status().as_u16() == 200 {
                let body: Value = answer.json().await.unwrap();
                card = body["card"]["id"].as_str().map(str::to_owned);
            }
        }
        let revoked = app
            .post_json(
                &format!("/api/v1/cards/{}/revoke", card.unwrap()),
                &json!({ "reason_code": "holder_request" }),
                Some(&official.access),
            )
            .await;
        assert_eq!(revoked.status().as_u16(), 200);
    }
    let mut conn = app.connect().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cards: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        applications: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS cards, count(DISTINCT application_id) AS applications FROM cards",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!((count.cards, count.applications), (20, 20));
}

#[tokio::test]
async fn nobody_else_sees_or_decides() {
    let app = crate::helpers::spawn_app().await;
    let a = app.talent("a@example.cn").await;
    let b = app.talent("b@example.cn").await;
    app.put_profile(&a, 4).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, agency) = app.agency(&admin, "xiongan", &["tourism_pass"]).await;
    let id = app.draft(&a, 40).await;
    let uploaded: Value = app
        .upload(&a, &id, "d.pdf", PDF.to_vec())
        .await
        .json()
        .await
        .unwrap();
    let doc = uploaded["id"].as_str().unwrap().to_owned();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &a.access,
        None,
    )
    .await;

    for (method, path) in [
        ("GET", format!("/api/v1/applications/{id}")),
        ("GET", format!("/api/v1/applications/{id}/documents")),
        ("GET", format!("/api/v1/applications/{id}/documents/{doc}")),
        ("POST", format!("/api/v1/applications/{id}/withdraw")),
        ("POST", format!("/api/v1/applications/{id}/submit")),
    ] {
        problem(
            app.send(method, &path, &b.access, None).await,
            404,
            "not_found",
        )
        .await;
    }
    problem(
        app.upload(&b, &id, "x.pdf", PDF.to_vec()).await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.get_as(&format!("/api/v1/applications/{id}"), &tz.access)
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.decide(&tz, &id, json!({ "decision": "approve", "tier": "B" }))
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.decide(&a, &id, json!({ "decision": "approve", "tier": "B" }))
            .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get_as("/api/v1/applications", &agency).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get_as(&format!("/api/v1/applications/{id}"), &agency)
            .await,
        403,
        "forbidden",
    )
    .await;
    let b_list: Value = app
        .get_as("/api/v1/applications", &b.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_list["items"].as_array().unwrap().len(), 0);
    let tz_list: Value = app
        .get_as("/api/v1/applications", &tz.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        tz_list["items"].as_array().unwrap().len(),
        0,
        "another issuer's queue"
    );
}

#[tokio::test]
async fn uploads_are_capped_sniffed_and_returned_intact() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("up@example.cn").await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    app.put_profile(&talent, 5).await;
    let id = app.draft(&talent, 40).await;

    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    problem(
        app.upload(&talent, &id, "big.pdf", big).await,
        413,
        "payload_too_large",
    )
    .await;
    let mut exact = b"%PDF-1.4\n".to_vec();
    exact.resize(10 * 1024 * 1024, b'x');
    assert_eq!(
        app.upload(&talent, &id, "exact.pdf", exact)
            .await
            .status()
            .as_u16(),
        201,
        "10 MiB exactly is fine"
    );
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    problem(
        app.upload(&talent, &id, "thesis.pdf", exe).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    problem(
        app.upload(&talent, &id, "photo.jpg", elf).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let html = b"<html><script>alert(1)</script>".to_vec();
    problem(
        app.upload(&talent, &id, "x.png", html).await,
        415,
        "unsupported_media_type",
    )
    .await;

    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"JFIF rest of image"].concat();
    let stored: Value = app
        .upload(&talent, &id, "../../etc/passwd.jpg", jpeg.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["filename"], "passwd.jpg", "paths are stripped");
    assert_eq!(stored["content_type"], "image/jpeg");
    let doc = stored["id"].as_str().unwrap();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &talent.access,
        None,
    )
    .await;
    for user in [&talent, &official] {
        let download = app
            .get_as(
                &format!("/api/v1/applications/{id}/documents/{doc}"),
                &user.access,
            )
            .await;
        assert_eq!(download.status().as_u16(), 200);
        assert_eq!(download.headers()["content-type"], "image/jpeg");
        assert!(
            download.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert_eq!(download.bytes().await.unwrap().to_vec(), jpeg);
    }
    let listed: Value = app
        .get_as(
            &format!("/api/v1/applications/{id}/documents"),
            &official.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn decisions_need_their_fields_and_keys_replay() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("key@example.cn").await;
    app.put_profile(&talent, 6).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let id = app.submitted(&talent, 40).await;
    for (body, field) in [
        (json!({ "decision": "approve" }), "tier"),
        (json!({ "decision": "approve", "tier": "Z" }), "tier"),
        (json!({ "decision": "approve", "tier": "A" }), "comment"),
        (
            json!({ "decision": "reject", "comment": "x" }),
            "reason_code",
        ),
        (
            json!({ "decision": "reject", "reason_code": "duplicate" }),
            "comment",
        ),
        (json!({ "decision": "request_supplement" }), "comment"),
        (
            // An unknown field is named by its object ("unknown field"), never echoed.
            json!({ "decision": "approve", "tier": "B", "status": "approved" }),
            "body",
        ),
        (
            json!({ "decision": "reject", "reason_code": "bribery", "comment": "x" }),
            "reason_code",
        ),
    ] {
        let body = problem(
            app.decide(&official, &id, body).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    let keyed = |body: Value, key: &str| {
        app.client
            .post(format!("{}/api/v1/applications/{id}/decision", app.address))
            .bearer_auth(&official.access)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let upgrade =
        json!({ "decision": "approve", "tier": "A", "comment": "national award verified" });
    let first: Value = keyed(upgrade.clone(), "k-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again = keyed(upgrade.clone(), "k-1").await.unwrap();
    assert_eq!(
        again.status().as_u16(),
        200,
        "the same key and body replay the first answer"
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["card"]["number"], first["card"]["number"]);
    assert_eq!(again["application"]["status"], "approved");
    let other = keyed(json!({ "decision": "approve", "tier": "B" }), "k-1")
        .await
        .unwrap();
    problem(other, 422, "validation_failed").await;
    let fresh_key = keyed(upgrade, "k-2").await.unwrap();
    problem(fresh_key, 409, "invalid_transition").await;
}

#[tokio::test]
async fn one_open_application_per_scheme_and_issuers_of_the_scheme_only() {
    let app = crate::helpers::spawn_app().await;
    let talent = app.talent("once@example.cn").await;
    app.draft(&talent, 40).await;
    let again = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": doctorate(40) });
    problem(
        app.send("POST", "/api/v1/applications", &talent.access, Some(&again))
            .await,
        409,
        "conflict",
    )
    .await;
    let wrong_issuer = json!({ "scheme": "XIONGAN", "issuer": "TZ", "facts": doctorate(40) });
    let body = problem(
        app.send(
            "POST",
            "/api/v1/applications",
            &talent.access,
            Some(&wrong_issuer),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "issuer");
    let owner =
        json!({ "scheme": "TWL", "issuer": "TZ", "facts": doctorate(40), "status": "approved" });
    problem(
        app.send("POST", "/api/v1/applications", &talent.access, Some(&owner))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_queue_filters_pages_and_flags_overdue_work() {
    let app = crate::helpers::spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let talent = app.talent(&format!("q{n}@example.cn")).await;
        app.put_profile(&talent, 10 + n).await;
        ids.push(app.submitted(&talent, if n == 0 { 60 } else { 40 }).await);
    }
    let first: Value = app
        .get_as("/api/v1/applications?limit=2", &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_as(
            &format!("/api/v1/applications?limit=2&cursor={cursor}"),
            &official.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ids, "oldest first, each once");
    assert!(second["next_cursor"].is_null());
    let b_only: Value = app
        .get_as("/api/v1/applications?suggested_tier=B", &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        b_only["items"].as_array().unwrap().len(),
        2,
        "the 60-year-old gets no B suggestion"
    );
    let overdue: Value = app
        .get_as("/api/v1/applications?overdue=true", &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);
    app.clock.advance(Duration::days(30));
    // A month later the official signs in again.
    let official = app
        .staff_login(
            "xa@example.cn",
            &official.totp_secret.clone().unwrap(),
            official.id,
        )
        .await;
    let overdue: Value = app
        .get_as("/api/v1/applications?overdue=true", &official.access)
        .await
        .json()
        .await
        .unwrap();
    seen = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), 3);
    assert!(overdue["items"][0]["overdue"].as_bool().unwrap());
    problem(
        app.get_as("/api/v1/applications?limit=500", &official.access)
            .await,
        422,
        "validation_failed",
    )
    .await;
    problem(
        app.get_as("/api/v1/applications?cursor=garbage", &official.access)
            .await,
        422,
        "validation_failed",
    )
    .await;
}
