//! Dependant cards (附属卡): requests and their refusals, approval into a card of kind
//! `dependant`, its credential, and the cascade of every change of the principal card (status
//! lists and audit included); renewals and upgrades carry dependants over.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use talentcard::db::schema::{applications, audit_log, cards, dependant_people};
use uuid::Uuid;

use crate::applications::resident_id;
use crate::cards::list_entry;
use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::users::TestUser;

/// A tier-A XIONGAN card issued by the XA `official` to a new talent; (holder, card).
pub async fn a_tier_card(
    app: &TestApp,
    official: &TestUser,
    n: u32,
    tier: &str,
) -> (TestUser, Value) {
    let talent = app.talent(&format!("family{n}@example.cn")).await;
    app.put_profile(&talent, 100 + n).await;
    let id = app.submitted(&talent, 40).await;
    let decided = app
        .decide(
            official,
            &id,
            json!({ "decision": "approve", "tier": tier, "comment": "as evidenced" }),
        )
        .await;
    assert_eq!(decided.status().as_u16(), 200);
    let decided: Value = decided.json().await.unwrap();
    (talent, decided["card"].clone())
}

/// A born-on date `years` before the app's today (plus or minus `days`).
fn born(app: &TestApp, years: u32, days: i64) -> String {
    use talentcard::clock::Clock;
    let today = talentcard::clock::china_date(app.clock.now());
    let date = today
        .checked_sub_months(chrono::Months::new(years * 12))
        .unwrap()
        + chrono::Duration::days(days);
    date.to_string()
}

pub fn dependant_body(name: &str, relation: &str, id_n: u32, birth: &str) -> Value {
    json!({
        "full_name": name, "relation": relation, "id_type": "resident_id",
        "id_number": resident_id(id_n), "birth_date": birth
    })
}

/// Asks for a dependant on `card`.
pub async fn ask(app: &TestApp, holder: &TestUser, card: &str, body: &Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/cards/{card}/dependants"),
        body,
        Some(&holder.access),
    )
    .await
}

/// Asks for and approves a dependant; the dependant card.
pub async fn dependant_card(
    app: &TestApp,
    official: &TestUser,
    holder: &TestUser,
    card: &str,
    body: &Value,
) -> Value {
    let asked = ask(app, holder, card, body).await;
    assert_eq!(asked.status().as_u16(), 201);
    let asked: Value = asked.json().await.unwrap();
    let decided = app
        .decide(
            official,
            asked["id"].as_str().unwrap(),
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(decided.status().as_u16(), 200);
    decided.json::<Value>().await.unwrap()["card"].clone()
}

async fn dependant_applications(app: &TestApp) -> i64 {
    let mut conn = app.connect().await;
    applications::table
        .filter(applications::kind.eq("dependant"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

async fn status_index(app: &TestApp, card: &Value) -> usize {
    let id: Uuid = card["id"].as_str().unwrap().parse().unwrap();
    let mut conn = app.connect().await;
    let index: Option<i32> = cards::table
        .find(id)
        .select(cards::status_index)
        .first(&mut conn)
        .await
        .unwrap();
    usize::try_from(index.unwrap()).unwrap()
}

async fn card_status(app: &TestApp, holder: &TestUser, card: &Value) -> (String, Option<String>) {
    let body: Value = app
        .get_as(
            &format!("/api/v1/cards/{}", card["id"].as_str().unwrap()),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    (
        body["status"].as_str().unwrap().to_owned(),
        body["status_reason"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn a_tier_a_holder_adds_a_spouse_and_a_child_who_get_cards_of_their_own() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 1, "A").await;
    let principal_id = principal["id"].as_str().unwrap();
    let spouse = dependant_body("王丽", "spouse", 501, &born(&app, 38, 0));
    let asked = ask(&app, &holder, principal_id, &spouse).await;
    assert_eq!(asked.status().as_u16(), 201);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(
        (&asked["kind"], &asked["status"], &asked["principal_card"]),
        (
            &json!("dependant"),
            &json!("submitted"),
            &json!(principal_id)
        )
    );
    let masked = asked["dependant"]["id_number_masked"].as_str().unwrap();
    assert!(masked.contains('*') && masked != resident_id(501));
    assert!(
        asked["dependant"].get("id_number").is_none(),
        "masked for the holder"
    );

    // In the issuer's queue, filterable by kind; the official sees the full number.
    let queue = app
        .items("/api/v1/applications?kind=dependant", &official.access)
        .await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], asked["id"]);
    let principals = app
        .items("/api/v1/applications?kind=principal", &official.access)
        .await;
    assert!(principals.iter().all(|a| a["kind"] == "principal"));
    let seen: Value = app
        .get_as(
            &format!("/api/v1/applications/{}", asked["id"].as_str().unwrap()),
            &official.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["dependant"]["id_number"], resident_id(501));

    // Approved without a tier: a tier is refused.
    let id = asked["id"].as_str().unwrap();
    let with_tier = app
        .decide(&official, id, json!({ "decision": "approve", "tier": "A" }))
        .await;
    problem(with_tier, 422, "validation_failed").await;
    let decided = app
        .decide(&official, id, json!({ "decision": "approve" }))
        .await;
    assert_eq!(decided.status().as_u16(), 200);
    let card = decided.json::<Value>().await.unwrap()["card"].clone();
    assert_eq!(card["kind"], "dependant");
    assert_eq!(card["principal_card"], principal_id);
    assert_eq!(card["relation"], "spouse");
    assert_ne!(card["number"], principal["number"]);
    assert!(card["valid_until"].as_str().unwrap() <= principal["valid_until"].as_str().unwrap());
    assert_ne!(
        status_index(&app, &card).await,
        status_index(&app, &principal).await
    );

    let child = dependant_body("王小明", "child", 502, &born(&app, 18, 1));
    let child_card = dependant_card(&app, &official, &holder, principal_id, &child).await;
    assert_eq!(child_card["relation"], "child");

    // The holder holds both, each under the family member's name.
    let cards = app.items("/api/v1/cards", &holder.access).await;
    assert_eq!(cards.len(), 3);
    let view: Value = app
        .get_as(
            &format!("/api/v1/cards/{}", card["id"].as_str().unwrap()),
            &holder.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&view["kind"], &view["relation"]),
        (&json!("dependant"), &json!("spouse"))
    );
    assert_eq!(view["holder"]["full_name"], "王丽");
    let own: Value = app
        .get_as(&format!("/api/v1/cards/{principal_id}"), &holder.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["kind"], "principal");
    assert!(own.get("relation").is_none());

    // The ID is sealed: neither the number nor its digits are stored in clear.
    let mut conn = app.connect().await;
    let stored: Vec<(Vec<u8>, String)> = dependant_people::table
        .select((
            dependant_people::id_number_ciphertext,
            dependant_people::id_number_index,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (sealed, index) in stored {
        let number = resident_id(501);
        assert!(!sealed.windows(number.len()).any(|w| w == number.as_bytes()));
        assert!(!index.contains(&number[..14]));
    }
}

#[tokio::test]
async fn the_dependant_credential_says_kind_and_relation_and_discloses_the_family_members_name() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 2, "A").await;
    let spouse = dependant_body("李娜", "spouse", 511, &born(&app, 35, 0));
    let card = dependant_card(
        &app,
        &official,
        &holder,
        principal["id"].as_str().unwrap(),
        &spouse,
    )
    .await;
    let path = format!(
        "/api/v1/cards/{}/credential?disclose=holder_name",
        card["id"].as_str().unwrap()
    );
    let body: Value = app
        .get_as(&path, &holder.access)
        .await
        .json()
        .await
        .unwrap();
    let credential = body["credential"].as_str().unwrap();
    let verified = crate::cards::verify_credential(&app, credential).await;
    assert_eq!(verified.claims.kind.as_deref(), Some("dependant"));
    assert_eq!(verified.claims.relation.as_deref(), Some("spouse"));
    assert_eq!(verified.holder_name.as_deref(), Some("李娜"));
    assert_eq!(
        verified.claims.card_number,
        card["number"].as_str().unwrap()
    );
    // The principal's credential is as it always was: no kind, no relation.
    let path = format!(
        "/api/v1/cards/{}/credential",
        principal["id"].as_str().unwrap()
    );
    let body: Value = app
        .get_as(&path, &holder.access)
        .await
        .json()
        .await
        .unwrap();
    let own = crate::cards::verify_credential(&app, body["credential"].as_str().unwrap()).await;
    assert_eq!((own.claims.kind, own.claims.relation), (None, None));
}

#[tokio::test]
async fn requests_the_scheme_does_not_allow_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (b_holder, b_card) = a_tier_card(&app, &official, 3, "B").await;
    let (holder, principal) = a_tier_card(&app, &official, 4, "A").await;
    let card = principal["id"].as_str().unwrap();
    let adult = born(&app, 40, 0);

    let refused = |response, field: &'static str| async move {
        let body = problem(response, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    };
    // A tier the scheme does not allow.
    let spouse = dependant_body("赵敏", "spouse", 521, &adult);
    refused(
        ask(&app, &b_holder, b_card["id"].as_str().unwrap(), &spouse).await,
        "card",
    )
    .await;
    // A child of 18 on the day of the request.
    let grown = dependant_body("王大明", "child", 522, &born(&app, 18, 0));
    refused(ask(&app, &holder, card, &grown).await, "birth_date").await;
    // The holder's own ID (their profile's number is resident_id(104)).
    let own = dependant_body("自己", "parent", 104, &adult);
    refused(ask(&app, &holder, card, &own).await, "id_number").await;
    // An unknown relation and a bad ID number.
    let cousin = json!({ "full_name": "表哥", "relation": "cousin", "id_type": "resident_id", "id_number": resident_id(523), "birth_date": adult });
    problem(
        ask(&app, &holder, card, &cousin).await,
        422,
        "validation_failed",
    )
    .await;
    let mut bad = dependant_body("错号", "parent", 524, &adult);
    bad["id_number"] = json!("110105198501015240");
    refused(ask(&app, &holder, card, &bad).await, "id_number").await;
    // Someone else's card is not found; an official may not ask.
    let stranger = app.talent("stranger@example.cn").await;
    problem(ask(&app, &stranger, card, &spouse).await, 404, "not_found").await;
    problem(ask(&app, &official, card, &spouse).await, 403, "forbidden").await;
    assert_eq!(dependant_applications(&app).await, 0, "nothing written");

    // Six are allowed (pending requests count); the seventh is refused.
    for n in 0..6 {
        let parent = dependant_body("家人", "parent", 530 + n, &adult);
        assert_eq!(
            ask(&app, &holder, card, &parent).await.status().as_u16(),
            201
        );
    }
    let seventh = dependant_body("第七", "parent", 540, &adult);
    refused(ask(&app, &holder, card, &seventh).await, "card").await;
    assert_eq!(dependant_applications(&app).await, 6);

    // A person is a live dependant of one card per scheme.
    let (other, other_card) = a_tier_card(&app, &official, 5, "A").await;
    let taken = dependant_body("家人", "parent", 530, &adult);
    problem(
        ask(&app, &other, other_card["id"].as_str().unwrap(), &taken).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(dependant_applications(&app).await, 6);
    // A dependant card cannot carry dependants.
    let queue = app
        .items("/api/v1/applications?kind=dependant", &official.access)
        .await;
    let decided: Value = app
        .decide(
            &official,
            queue[0]["id"].as_str().unwrap(),
            json!({ "decision": "approve" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let dependant = decided["card"]["id"].as_str().unwrap().to_owned();
    let nested = dependant_body("孙子", "child", 550, &born(&app, 2, 0));
    refused(ask(&app, &holder, &dependant, &nested).await, "card").await;
    assert_eq!(dependant_applications(&app).await, 6);
}

async fn audited(app: &TestApp, card: &Value, action: &str) -> i64 {
    let mut conn = app.connect().await;
    audit_log::table
        .filter(audit_log::entity_type.eq("card"))
        .filter(audit_log::entity_id.eq(card["id"].as_str().unwrap()))
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn suspending_resuming_and_revoking_the_principal_moves_its_dependants_and_their_list_entries()
 {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 6, "A").await;
    let pid = principal["id"].as_str().unwrap();
    let spouse = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("周芳", "spouse", 561, &born(&app, 30, 0)),
    )
    .await;
    let parent = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("周父", "parent", 562, &born(&app, 70, 0)),
    )
    .await;
    let (si, pi) = (
        status_index(&app, &spouse).await,
        status_index(&app, &parent).await,
    );
    let act = |card: &str, action: &str, body: Value| {
        let path = format!("/api/v1/cards/{card}/{action}");
        let token = official.access.clone();
        let app = &app;
        async move { app.post_json(&path, &body, Some(&token)).await }
    };

    // The parent's card is suspended on its own first.
    let own = act(
        parent["id"].as_str().unwrap(),
        "suspend",
        json!({ "reason_code": "holder_request" }),
    )
    .await;
    assert_eq!(own.status().as_u16(), 200);
    let suspended = act(
        pid,
        "suspend",
        json!({ "reason_code": "under_investigation" }),
    )
    .await;
    assert_eq!(suspended.status().as_u16(), 200);
    assert_eq!(
        card_status(&app, &holder, &spouse).await,
        ("suspended".into(), Some("under_investigation".into()))
    );
    assert_eq!(list_entry(&app, si).await, 2);
    assert_eq!(audited(&app, &spouse, "card.suspended").await, 1);
    // A dependant is not resumed while its principal is suspended.
    let early = act(spouse["id"].as_str().unwrap(), "resume", json!({})).await;
    problem(early, 409, "invalid_transition").await;

    // Resuming the principal resumes what its suspension suspended, not the parent's own.
    let resumed = act(pid, "resume", json!({})).await;
    assert_eq!(resumed.status().as_u16(), 200);
    assert_eq!(card_status(&app, &holder, &spouse).await.0, "active");
    assert_eq!(list_entry(&app, si).await, 0);
    assert_eq!(audited(&app, &spouse, "card.resumed").await, 1);
    assert_eq!(
        card_status(&app, &holder, &parent).await,
        ("suspended".into(), Some("holder_request".into()))
    );
    assert_eq!(list_entry(&app, pi).await, 2);

    // Revoking the principal revokes every live dependant, suspended or not.
    let revoked = act(pid, "revoke", json!({ "reason_code": "left_area" })).await;
    assert_eq!(revoked.status().as_u16(), 200);
    for card in [&spouse, &parent] {
        assert_eq!(
            card_status(&app, &holder, card).await,
            ("revoked".into(), Some("left_area".into()))
        );
        assert_eq!(audited(&app, card, "card.revoked").await, 1);
    }
    assert_eq!(list_entry(&app, si).await, 1);
    assert_eq!(list_entry(&app, pi).await, 1);
    // And the holder may not add to a revoked card.
    let late = ask(
        &app,
        &holder,
        pid,
        &dependant_body("迟到", "spouse", 563, &born(&app, 30, 0)),
    )
    .await;
    problem(late, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_replacement_supersedes_the_dependants_and_carries_them_over_to_the_new_card() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 7, "A").await;
    let pid = principal["id"].as_str().unwrap();
    let child = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("陈小", "child", 571, &born(&app, 5, 0)),
    )
    .await;
    let old_index = status_index(&app, &child).await;

    // The principal card is lost and replaced: the old card is superseded at once.
    let lost = app
        .post_json(
            &format!("/api/v1/cards/{pid}/report-loss"),
            &json!({}),
            Some(&holder.access),
        )
        .await;
    assert_eq!(lost.status().as_u16(), 200);
    let replaced = app
        .post_json(
            &format!("/api/v1/cards/{pid}/replacement"),
            &json!({}),
            Some(&holder.access),
        )
        .await;
    assert_eq!(replaced.status().as_u16(), 201);
    let new_principal: Value = replaced.json().await.unwrap();

    assert_eq!(
        card_status(&app, &holder, &child).await,
        ("revoked".into(), Some("superseded".into()))
    );
    assert_eq!(list_entry(&app, old_index).await, 1);
    let cards = app.items("/api/v1/cards", &holder.access).await;
    let carried: Vec<&Value> = cards
        .iter()
        .filter(|c| c["kind"] == "dependant" && c["principal_card"] == new_principal["id"])
        .collect();
    assert_eq!(carried.len(), 1, "{cards:?}");
    let carried = carried[0];
    assert_eq!(
        (&carried["relation"], &carried["status"]),
        (&json!("child"), &json!("active"))
    );
    assert_eq!(carried["holder"]["full_name"], "陈小");
    assert_ne!(carried["number"], child["number"]);
    assert!(
        carried["valid_until"].as_str().unwrap() <= new_principal["valid_until"].as_str().unwrap()
    );
    let carried_index = status_index(&app, carried).await;
    assert_ne!(carried_index, old_index);
    assert_eq!(list_entry(&app, carried_index).await, 0);
    assert_eq!(audited(&app, carried, "card.issued").await, 1);
    assert_eq!(audited(&app, &child, "card.revoked").await, 1);
    // The carried card follows its new principal.
    let path = format!(
        "/api/v1/cards/{}/suspend",
        new_principal["id"].as_str().unwrap()
    );
    let suspended = app
        .post_json(
            &path,
            &json!({ "reason_code": "under_investigation" }),
            Some(&official.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    assert_eq!(card_status(&app, &holder, carried).await.0, "suspended");
}

#[tokio::test]
async fn a_published_dependant_policy_version_decides_later_requests() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (holder, card) = a_tier_card(&app, &official, 8, "B").await;
    let id = card["id"].as_str().unwrap();
    let spouse = dependant_body("吴敏", "spouse", 581, &born(&app, 30, 0));
    let parent = dependant_body("吴父", "parent", 582, &born(&app, 70, 0));
    problem(
        ask(&app, &holder, id, &spouse).await,
        422,
        "validation_failed",
    )
    .await;
    let put = |body: Value| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            app.client
                .put(format!(
                    "{}/api/v1/admin/schemes/XIONGAN/dependant-policy",
                    app.address
                ))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let unknown = json!({ "policy": { "tiers": ["Z"], "relations": ["spouse"], "child_age_below": 18, "max_live": 1 } });
    problem(put(unknown).await, 422, "validation_failed").await;
    // Tiers A and B, spouses only, one each.
    let policy = json!({ "policy": { "tiers": ["A", "B"], "relations": ["spouse"], "child_age_below": 18, "max_live": 1 } });
    let published = put(policy).await;
    assert_eq!(published.status().as_u16(), 201);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"], 1);
    let refused = problem(
        ask(&app, &holder, id, &parent).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "relation");
    assert_eq!(ask(&app, &holder, id, &spouse).await.status().as_u16(), 201);
    let second = dependant_body("吴二", "spouse", 583, &born(&app, 30, 0));
    problem(
        ask(&app, &holder, id, &second).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn verified(app: &TestApp, agency: &str, number: &Value) -> Value {
    let body = json!({ "card_number": number });
    let answer = app
        .post_json("/api/v1/verifications", &body, Some(agency))
        .await;
    assert_eq!(answer.status().as_u16(), 200);
    answer.json().await.unwrap()
}

fn services(answer: &Value) -> Vec<String> {
    let mut out: Vec<String> = answer["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["service"].as_str().unwrap().to_owned())
        .collect();
    out.sort_unstable();
    out
}

#[tokio::test]
async fn verification_answers_say_kind_and_relation_and_dependants_get_family_services() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let offered = [
        "medical_green_channel",
        "children_schooling",
        "annual_health_check",
    ];
    let (_, _, _, xiongan) = app.agency(&admin, "xiongan", &offered).await;
    let (holder, principal) = a_tier_card(&app, &official, 9, "A").await;
    let pid = principal["id"].as_str().unwrap();
    let spouse = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("郑红", "spouse", 591, &born(&app, 33, 0)),
    )
    .await;
    let child = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("郑小", "child", 592, &born(&app, 8, 0)),
    )
    .await;

    let own = verified(&app, &xiongan, &principal["number"]).await;
    assert_eq!(own["card"]["kind"], "principal");
    assert!(own["card"].get("relation").is_none());
    // The principal's own rules (a health check; schooling once, for the talent's children).
    assert!(services(&own).contains(&"annual_health_check".to_owned()));
    let schooling = |answer: &Value| {
        answer["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["service"] == "children_schooling")
            .map(|e| e["quota"].clone())
    };
    assert_eq!(schooling(&own), Some(json!(1)));

    let answer = verified(&app, &xiongan, &spouse["number"]).await;
    assert_eq!(answer["valid"], true);
    assert_eq!(
        (&answer["card"]["kind"], &answer["card"]["relation"]),
        (&json!("dependant"), &json!("spouse"))
    );
    assert_eq!(answer["card"]["holder_name_masked"], "郑*");
    assert_eq!(services(&answer), ["medical_green_channel"]);
    let answer = verified(&app, &xiongan, &child["number"]).await;
    assert_eq!(answer["card"]["relation"], "child");
    assert_eq!(
        services(&answer),
        ["children_schooling", "medical_green_channel"]
    );

    // Where the principal is not recognised, neither is the dependant; when it is suspended,
    // the dependant is too.
    let path = format!("/api/v1/cards/{pid}/suspend");
    let suspended = app
        .post_json(
            &path,
            &json!({ "reason_code": "under_investigation" }),
            Some(&official.access),
        )
        .await;
    assert_eq!(suspended.status().as_u16(), 200);
    let answer = verified(&app, &xiongan, &child["number"]).await;
    assert_eq!(
        (&answer["valid"], &answer["status"]),
        (&json!(false), &json!("suspended"))
    );
}

#[tokio::test]
async fn a_renewal_issued_ahead_keeps_the_dependants_and_gives_them_successors_from_its_first_day()
{
    let app = spawn_app_with(|s| s.cards.renewal_window_days = 3660).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let (holder, principal) = a_tier_card(&app, &official, 9, "A").await;
    let pid = principal["id"].as_str().unwrap();
    let spouse = dependant_card(
        &app,
        &official,
        &holder,
        pid,
        &dependant_body("周敏", "spouse", 591, &born(&app, 35, 0)),
    )
    .await;
    let renewal = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": pid });
    let created: Value = app
        .send(
            "POST",
            "/api/v1/applications",
            &holder.access,
            Some(&renewal),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let submitted = app
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/submit"),
            &holder.access,
            None,
        )
        .await;
    assert_eq!(submitted.status().as_u16(), 200);
    let decided = app
        .decide(
            &official,
            id,
            json!({ "decision": "approve", "tier": "A", "comment": "renewed" }),
        )
        .await;
    assert_eq!(decided.status().as_u16(), 200);
    let renewed = decided.json::<Value>().await.unwrap()["card"].clone();
    assert!(renewed["valid_from"].as_str().unwrap() > principal["valid_until"].as_str().unwrap());

    assert_eq!(
        card_status(&app, &holder, &spouse).await,
        ("active".into(), None),
        "the dependant stays in force with the principal it follows"
    );
    let cards = app.items("/api/v1/cards", &holder.access).await;
    let successors: Vec<&Value> = cards
        .iter()
        .filter(|c| c["kind"] == "dependant" && c["principal_card"] == renewed["id"])
        .collect();
    assert_eq!(successors.len(), 1, "{cards:?}");
    assert_eq!(successors[0]["relation"], "spouse");
    assert_eq!(successors[0]["valid_from"], renewed["valid_from"]);
    assert_eq!(successors[0]["valid_until"], renewed["valid_until"]);
}
