//! One rule for free text (`domain::free_text`) wherever a client or an administrator types a
//! name, a label or a reason: trimmed, refused (422 naming the field, nothing written) rather
//! than cut or cleaned, no control characters, and in names no bidi override or isolate.

use serde_json::{Value, json};

use crate::cards::issue_card;
use crate::helpers::{problem, spawn_app};
use crate::schemes::doctorate;
use crate::users::PASSWORD;

/// A right-to-left override: `医院\u{202E}gpj.exe` shows as `医院exe.jpg`.
const OVERRIDE: &str = "医院\u{202E}gpj.exe";

/// The field the first error of a 422 names.
async fn refused_field(response: reqwest::Response) -> String {
    let body = problem(response, 422, "validation_failed").await;
    body["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn display_names_refuse_bidi_controls_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    for name in [
        OVERRIDE,
        "李\u{2066}明\u{2069}",
        "李\n明",
        &"名".repeat(201),
    ] {
        let body = json!({ "email": "li@example.cn", "password": PASSWORD, "full_name": name });
        let response = app.post_json("/api/v1/auth/register", &body, None).await;
        assert_eq!(refused_field(response).await, "full_name", "{name:?}");
        let body = json!({ "email": "xa2@example.cn", "password": PASSWORD, "full_name": name, "issuer": "XA" });
        let response = app
            .post_json("/api/v1/admin/officials", &body, Some(&admin.access))
            .await;
        assert_eq!(refused_field(response).await, "full_name", "{name:?}");
    }
    // Nothing was written: both emails are still free, and names are kept trimmed.
    let body = json!({ "email": "li@example.cn", "password": PASSWORD, "full_name": "  李明 " });
    let created = app.post_json("/api/v1/auth/register", &body, None).await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["full_name"], "李明");
    let body = json!({ "email": "xa2@example.cn", "password": PASSWORD, "full_name": "王 芳", "issuer": "XA" });
    let created = app
        .post_json("/api/v1/admin/officials", &body, Some(&admin.access))
        .await;
    assert_eq!(created.status().as_u16(), 201);
}

#[tokio::test]
async fn agency_names_refuse_bidi_controls_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    for name in [OVERRIDE, "医院\u{202B}", "通州\t医院", &"院".repeat(201)] {
        let body = json!({ "name": name, "district": "tongzhou", "services": ["tourism_pass"] });
        let response = app
            .post_json("/api/v1/admin/agencies", &body, Some(&admin.access))
            .await;
        let refused = problem(response, 422, "validation_failed").await;
        assert_eq!(refused["errors"][0]["field"], "name", "{name:?}");
        assert_eq!(
            refused["errors"][0]["message"],
            "must be 1 to 200 printable characters"
        );
    }
    let agencies = app.items("/api/v1/admin/agencies", &admin.access).await;
    assert!(agencies.is_empty(), "nothing written: {agencies:?}");
}

#[tokio::test]
async fn the_employer_name_is_kept_trimmed_and_refuses_bidi_controls() {
    let app = spawn_app().await;
    let talent = app.talent("employee@example.cn").await;
    let with_name = |name: &str| {
        let mut facts = doctorate(40);
        facts["employer"]["name"] = json!(name);
        facts
    };
    let body = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": with_name(OVERRIDE) });
    let response = app
        .send("POST", "/api/v1/applications", &talent.access, Some(&body))
        .await;
    assert_eq!(refused_field(response).await, "facts.employer.name");
    let response = app
        .post_json(
            "/api/v1/schemes/XIONGAN/eligibility",
            &json!({ "facts": with_name(OVERRIDE) }),
            None,
        )
        .await;
    assert_eq!(refused_field(response).await, "facts.employer.name");
    let listed = app.items("/api/v1/applications", &talent.access).await;
    assert!(listed.is_empty(), "nothing written: {listed:?}");

    // Surrounding spaces are trimmed before the facts are sealed.
    let body =
        json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": with_name("  雄安科技有限公司 ") });
    let created = app
        .send("POST", "/api/v1/applications", &talent.access, Some(&body))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["facts"]["employer"]["name"], "雄安科技有限公司");
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/applications/{id}");
    let stored: Value = app
        .get_as(&path, &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        stored["facts"]["employer"]["name"], "雄安科技有限公司",
        "sealed trimmed"
    );

    let body = json!({ "facts": with_name("雄安\u{2067}科技") });
    let response = app.send("PATCH", &path, &talent.access, Some(&body)).await;
    assert_eq!(refused_field(response).await, "facts.employer.name");
    let kept: Value = app
        .get_as(&path, &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["facts"]["employer"]["name"], "雄安科技有限公司",
        "nothing written"
    );
    let body = json!({ "facts": with_name(" 雄安新科技 ") });
    let updated = app.send("PATCH", &path, &talent.access, Some(&body)).await;
    assert_eq!(updated.status().as_u16(), 200);
    let stored: Value = app
        .get_as(&path, &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["facts"]["employer"]["name"], "雄安新科技");
}

#[tokio::test]
async fn supplement_items_are_labels_checked_one_by_one_whatever_the_decision() {
    let app = spawn_app().await;
    let talent = app.talent("items@example.cn").await;
    app.put_profile(&talent, 7).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let id = app.submitted(&talent, 40).await;
    let too_many: Vec<String> = (0..31).map(|i| format!("item {i}")).collect();
    for (body, field) in [
        (
            json!({ "decision": "request_supplement", "comment": "请补充", "items": ["labour contract", "tab\there"] }),
            "items[1]",
        ),
        (
            json!({ "decision": "request_supplement", "comment": "请补充", "items": ["two\nlines"] }),
            "items[0]",
        ),
        (
            json!({ "decision": "request_supplement", "comment": "请补充", "items": [OVERRIDE] }),
            "items[0]",
        ),
        (
            json!({ "decision": "request_supplement", "comment": "请补充", "items": ["   "] }),
            "items[0]",
        ),
        (
            json!({ "decision": "request_supplement", "comment": "请补充", "items": too_many }),
            "items",
        ),
        (
            json!({ "decision": "approve", "tier": "B", "items": ["a\u{1b}[31m"] }),
            "items[0]",
        ),
    ] {
        let response = app.decide(&official, &id, body.clone()).await;
        assert_eq!(refused_field(response).await, field, "{body}");
    }
    let seen: Value = app
        .get_as(&format!("/api/v1/applications/{id}"), &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "submitted", "nothing written");
    assert_eq!(seen["decision"], Value::Null);

    // Counted after trimming, and kept trimmed.
    let long = format!("  {}  ", "证".repeat(200));
    let body = json!({ "decision": "request_supplement", "comment": "请补充", "items": [" doctoral diploma ", long] });
    let asked: Value = app.decide(&official, &id, body).await.json().await.unwrap();
    assert_eq!(
        asked["application"]["decision"]["items"],
        json!(["doctoral diploma", "证".repeat(200)])
    );
}

#[tokio::test]
async fn a_resumption_reason_is_refused_rather_than_cut() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 31).await;
    let card = format!("/api/v1/cards/{}", issued.id());
    let suspend = json!({ "reason_code": "under_investigation" });
    let response = app
        .post_json(&format!("{card}/suspend"), &suspend, Some(&official.access))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let resume = format!("{card}/resume");
    for reason in [&"x".repeat(65), "clo\nsed", "closed\u{202E}", "a\u{7}b"] {
        let body = json!({ "reason_code": reason });
        let response = app.post_json(&resume, &body, Some(&official.access)).await;
        assert_eq!(refused_field(response).await, "reason_code", "{reason:?}");
    }
    let seen: Value = app
        .get_as(&card, &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "suspended", "nothing written");

    let body = json!({ "reason_code": format!("  {}  ", "y".repeat(64)) });
    let resumed: Value = app
        .post_json(&resume, &body, Some(&official.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["status_reason"], "y".repeat(64), "trimmed, whole");

    // A blank reason is no reason: `resumed`, as when none is given.
    let response = app
        .post_json(&format!("{card}/suspend"), &suspend, Some(&official.access))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let resumed: Value = app
        .post_json(
            &resume,
            &json!({ "reason_code": "  " }),
            Some(&official.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["status_reason"], "resumed");
}

#[tokio::test]
async fn rule_names_and_descriptions_are_checked_when_published() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let default: Value =
        serde_json::from_str(include_str!("../../config/schemes/xiongan.rules.json")).unwrap();
    let publish = |rules: Value| {
        app.client
            .put(format!(
                "{}/api/v1/admin/schemes/XIONGAN/rules",
                app.address
            ))
            .bearer_auth(&admin.access)
            .json(&json!({ "rules": rules }))
            .send()
    };
    let mut bad = default.clone();
    bad["requirements"][0]["name"] = json!("employer\u{202E}_in_area");
    bad["tiers"][0]["rules"][0]["description"] = json!("\u{1b}[31mAcademician");
    bad["tiers"][1]["rules"][0]["description"] = json!("说".repeat(2001));
    let refused = problem(publish(bad).await.unwrap(), 422, "validation_failed").await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "rules.requirements[0].name",
            "rules.tiers[0].rules[0].description",
            "rules.tiers[1].rules[0].description",
        ]
    );
    let scheme: Value = app
        .get("/api/v1/schemes/XIONGAN")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scheme["rules_version"], 1, "nothing was published");

    // Trimmed where they are shown: the evaluation's trace.
    let mut spaced = default;
    spaced["requirements"][0]["name"] = json!("  employer_in_area ");
    spaced["requirements"][0]["description"] = json!(" Your employer is in Xiong'an\n ");
    let published = publish(spaced).await.unwrap();
    assert_eq!(published.status().as_u16(), 201);
    let evaluated: Value = app
        .post_json(
            "/api/v1/schemes/XIONGAN/eligibility",
            &json!({ "facts": doctorate(40) }),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(evaluated["rules_version"], 2);
    assert_eq!(evaluated["trace"][0]["rule"], "employer_in_area");
    let reason = evaluated["trace"][0]["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("Your employer is in Xiong'an: "),
        "{reason}"
    );
}
