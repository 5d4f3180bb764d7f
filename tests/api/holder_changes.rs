//! Change reports (issue 20): the holder reports a change within ten days, the new facts are
//! evaluated and explained as for an application, the issuer's officials decide from their
//! queue; and the holder's reminders and the officials' list of expiring cards.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use talentcard::clock::Clock;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::holder_lifecycle::{again, card_post, count, holder_with_card};
use crate::users::TestUser;

fn today(app: &TestApp) -> NaiveDate {
    talentcard::clock::china_date(app.clock.now())
}

/// A title change that took effect `days_ago`, with facts that now suggest tier A.
fn title_change(app: &TestApp, days_ago: i64) -> Value {
    let mut facts = crate::schemes::doctorate(40);
    facts["honours"] = json!([{ "kind": "academician_cas", "level": "national" }]);
    json!({
        "kind": "title",
        "effective_on": (today(app) - Duration::days(days_ago)).to_string(),
        "facts": facts,
    })
}

async fn report(app: &TestApp, who: &TestUser, card_id: &str, body: Value) -> reqwest::Response {
    card_post(app, who, card_id, "changes", Some(body)).await
}

async fn decide(
    app: &TestApp,
    who: &TestUser,
    card_id: &str,
    change_id: &str,
    body: Value,
) -> reqwest::Response {
    card_post(
        app,
        who,
        card_id,
        &format!("changes/{change_id}/decision"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_change_report_is_evaluated_explained_flagged_late_and_queued() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 11).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let other = app.talent("other@example.cn").await;
    let id = issued.id().to_owned();

    problem(
        report(&app, &other, &id, title_change(&app, 1)).await,
        404,
        "not_found",
    )
    .await;
    problem(
        report(&app, &official, &id, title_change(&app, 1)).await,
        403,
        "forbidden",
    )
    .await;
    // On time: ten days after it took effect. It may precede the card's valid_from.
    let on_time = report(&app, &issued.talent, &id, title_change(&app, 10)).await;
    assert_eq!(on_time.status().as_u16(), 201);
    let on_time: Value = on_time.json().await.unwrap();
    assert_eq!(
        (on_time["late"].as_bool(), on_time["status"].as_str()),
        (Some(false), Some("open"))
    );
    assert_eq!(on_time["card_id"], id.as_str());
    assert_eq!(on_time["kind"], "title");
    assert_eq!(on_time["evaluation"]["suggested_tier"], "A");
    // The same sentences as an application's evaluation of the same facts.
    let explained: Value = app
        .post_json(
            "/api/v1/schemes/XIONGAN/eligibility",
            &json!({ "facts": on_time["facts"] }),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(on_time["evaluation"]["trace"], explained["trace"]);
    assert!(
        on_time["evaluation"]["trace"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .len()
            > 10
    );
    let late: Value = report(&app, &issued.talent, &id, title_change(&app, 11))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["late"], true);

    // The issuer's queue, oldest first, with deadlines; nobody else's.
    let queue: Vec<Value> = app.items("/api/v1/card-changes", &official.access).await;
    assert_eq!(
        queue.iter().map(|c| c["id"].clone()).collect::<Vec<_>>(),
        vec![on_time["id"].clone(), late["id"].clone()]
    );
    let due: NaiveDate = queue[0]["review_due"].as_str().unwrap().parse().unwrap();
    assert!(due > today(&app));
    assert!(
        app.items("/api/v1/card-changes", &tz.access)
            .await
            .is_empty()
    );
    problem(
        app.get_as("/api/v1/card-changes", &issued.talent.access)
            .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        app.get_as(&format!("/api/v1/cards/{id}/changes"), &tz.access)
            .await,
        404,
        "not_found",
    )
    .await;
    for who in [&issued.talent, &official] {
        let listed: Vec<Value> = app
            .get_as(&format!("/api/v1/cards/{id}/changes"), &who.access)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
    }
    // The facts and the trace are sealed at rest.
    assert_eq!(count(&app, "SELECT count(*) AS n FROM card_changes WHERE position(convert_to('doctorate', 'UTF8') in facts) > 0").await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'card_change.reported'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn bad_change_reports_are_refused_naming_every_field_and_write_nothing() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 12).await;
    let id = issued.id().to_owned();
    let future = title_change(&app, -1);
    let body = problem(
        report(&app, &issued.talent, &id, future).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "effective_on");
    let old = title_change(&app, 366);
    problem(
        report(&app, &issued.talent, &id, old).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        report(&app, &issued.talent, &id, title_change(&app, 365))
            .await
            .status()
            .as_u16(),
        201
    );
    let mut bad = title_change(&app, 1);
    bad["facts"]["employer"]["credit_code"] = json!("91130600MA0D123456");
    bad["facts"]["birth_date"] = json!((today(&app) + Duration::days(3)).to_string());
    let body = problem(
        report(&app, &issued.talent, &id, bad).await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec!["facts.birth_date", "facts.employer.credit_code"]
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM card_changes").await,
        1
    );
    // A revoked card takes no reports.
    card_post(
        &app,
        &official,
        &id,
        "revoke",
        Some(json!({ "reason_code": "left_area" })),
    )
    .await;
    problem(
        report(&app, &issued.talent, &id, title_change(&app, 1)).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM card_changes").await,
        1
    );
}

#[tokio::test]
async fn decisions_keep_retier_suspend_revoke_with_their_refusals() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 13).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let id = issued.id().to_owned();
    let new_report = || async {
        let r: Value = report(&app, &issued.talent, &id, title_change(&app, 2))
            .await
            .json()
            .await
            .unwrap();
        r["id"].as_str().unwrap().to_owned()
    };
    let first = new_report().await;
    problem(
        decide(
            &app,
            &tz,
            &id,
            &first,
            json!({ "decision": "keep", "comment": "fine" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        decide(
            &app,
            &issued.talent,
            &id,
            &first,
            json!({ "decision": "keep", "comment": "fine" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    for (bad, field) in [
        (json!({ "decision": "keep" }), "comment"),
        (json!({ "decision": "retier", "comment": "A now" }), "tier"),
        (
            json!({ "decision": "retier", "tier": "B", "comment": "same" }),
            "tier",
        ),
        (
            json!({ "decision": "retier", "tier": "Z", "comment": "no such" }),
            "tier",
        ),
        (
            json!({ "decision": "suspend", "reason_code": "death", "comment": "x" }),
            "reason_code",
        ),
        (
            json!({ "decision": "revoke", "reason_code": "employer_change_review", "comment": "x" }),
            "reason_code",
        ),
    ] {
        let body = problem(
            decide(&app, &official, &id, &first, bad.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{bad}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM card_changes WHERE status = 'open'"
        )
        .await,
        1
    );

    let kept: Value = decide(
        &app,
        &official,
        &id,
        &first,
        json!({ "decision": "keep", "comment": "no effect" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            kept["status"].as_str(),
            kept["decision"]["decision"].as_str()
        ),
        (Some("decided"), Some("keep"))
    );
    problem(
        decide(
            &app,
            &official,
            &id,
            &first,
            json!({ "decision": "keep", "comment": "again" }),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    let second = new_report().await;
    let suspended: Value = decide(&app, &official, &id, &second, json!({ "decision": "suspend", "reason_code": "employer_change_review", "comment": "checking" })).await.json().await.unwrap();
    assert_eq!(
        suspended["decision"]["reason_code"],
        "employer_change_review"
    );
    let card: Value = app
        .get_as(&format!("/api/v1/cards/{id}"), &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (card["status"].as_str(), card["status_reason"].as_str()),
        (Some("suspended"), Some("employer_change_review"))
    );
    // Suspending a suspended card is refused, and the report stays open.
    let third = new_report().await;
    problem(
        decide(
            &app,
            &official,
            &id,
            &third,
            json!({ "decision": "suspend", "reason_code": "other", "comment": "x" }),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM card_changes WHERE id = '{third}' AND status = 'open'"
            )
        )
        .await,
        1
    );

    // Re-tiering issues the new tier's card and supersedes the old one.
    let retiered: Value = decide(
        &app,
        &official,
        &id,
        &third,
        json!({ "decision": "retier", "tier": "A", "comment": "academician" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let new_id = retiered["decision"]["new_card_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let new: Value = app
        .get_as(&format!("/api/v1/cards/{new_id}"), &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (new["tier"].as_str(), new["status"].as_str()),
        (Some("A"), Some("active"))
    );
    let old: Value = app
        .get_as(&format!("/api/v1/cards/{id}"), &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (old["status"].as_str(), old["status_reason"].as_str()),
        (Some("revoked"), Some("superseded"))
    );

    // Revoking: on the new card.
    let fourth: Value = report(&app, &issued.talent, &new_id, title_change(&app, 1))
        .await
        .json()
        .await
        .unwrap();
    let fourth = fourth["id"].as_str().unwrap();
    let revoked = decide(
        &app,
        &official,
        &new_id,
        fourth,
        json!({ "decision": "revoke", "reason_code": "loss_of_eligibility", "comment": "left" }),
    )
    .await;
    assert_eq!(revoked.status().as_u16(), 200);
    let card: Value = app
        .get_as(&format!("/api/v1/cards/{new_id}"), &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["status"], "revoked");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'card_change.decided'"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn two_decisions_racing_on_one_report_yield_one_and_a_key_replays_it() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 14).await;
    let second_official = app
        .staff("xa-second@example.cn", "official", Some("XA"))
        .await;
    let id = issued.id().to_owned();
    let change: Value = report(&app, &issued.talent, &id, title_change(&app, 2))
        .await
        .json()
        .await
        .unwrap();
    let change = change["id"].as_str().unwrap().to_owned();
    let cards_before = count(&app, "SELECT count(*) AS n FROM cards").await;
    let retier = json!({ "decision": "retier", "tier": "A", "comment": "academician" });
    let (a, b) = futures_util::join!(
        decide(&app, &official, &id, &change, retier.clone()),
        decide(&app, &second_official, &id, &change, retier.clone())
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM cards").await,
        cards_before + 1
    );

    let winner: Value = if a.status().as_u16() == 200 {
        a.json().await.unwrap()
    } else {
        b.json().await.unwrap()
    };
    let new_id = winner["decision"]["new_card_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Idempotency-Key: the same key and body replays the first answer; another body is 422.
    let next: Value = report(&app, &issued.talent, &new_id, title_change(&app, 1))
        .await
        .json()
        .await
        .unwrap();
    let next = next["id"].as_str().unwrap();
    let keyed = |body: Value| {
        app.client
            .post(format!(
                "{}/api/v1/cards/{new_id}/changes/{next}/decision",
                app.address
            ))
            .bearer_auth(&official.access)
            .header("Idempotency-Key", "change-decision-1")
            .json(&body)
            .send()
    };
    let suspend = json!({ "decision": "suspend", "reason_code": "under_investigation", "comment": "checking" });
    let first: Value = keyed(suspend.clone()).await.unwrap().json().await.unwrap();
    let again = keyed(suspend.clone()).await.unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    problem(
        keyed(json!({ "decision": "keep", "comment": "other" }))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM audit_log WHERE action = 'card.suspended' AND entity_id = '{new_id}'")).await,
        1
    );
}

#[tokio::test]
async fn reminders_and_the_officials_list_of_expiring_cards() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 15).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let id = issued.id().to_owned();
    let reminders = |who: &TestUser| {
        let token = who.access.clone();
        let app = &app;
        async move {
            let r = app.get_as("/api/v1/me/reminders", &token).await;
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Vec<Value>>().await.unwrap()
        }
    };
    assert!(reminders(&issued.talent).await.is_empty());
    problem(
        app.get_as("/api/v1/me/reminders", &official.access).await,
        403,
        "forbidden",
    )
    .await;

    // A later application naming another employer: the change is due on the card.
    let mut facts = crate::schemes::doctorate(40);
    facts["employer"] =
        json!({ "name": "通州科技", "credit_code": "91110112MA01ABCDEF", "district": "tongzhou" });
    let body = json!({ "scheme": "TBT", "issuer": "TZ", "facts": facts });
    let created: Value = app
        .send(
            "POST",
            "/api/v1/applications",
            &issued.talent.access,
            Some(&body),
        )
        .await
        .json()
        .await
        .unwrap();
    let other_id = created["id"].as_str().unwrap();
    let submitted = app
        .send(
            "POST",
            &format!("/api/v1/applications/{other_id}/submit"),
            &issued.talent.access,
            None,
        )
        .await;
    assert_eq!(submitted.status().as_u16(), 200);
    let due = reminders(&issued.talent).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        (due[0]["kind"].as_str(), due[0]["card_id"].as_str()),
        (Some("change_report_due"), Some(id.as_str()))
    );
    assert_eq!(
        due[0]["due_on"],
        (today(&app) + Duration::days(10)).to_string()
    );
    let mut employer = title_change(&app, 0);
    employer["kind"] = json!("employer");
    assert_eq!(
        report(&app, &issued.talent, &id, employer)
            .await
            .status()
            .as_u16(),
        201
    );
    assert!(reminders(&issued.talent).await.is_empty());

    // Inside the renewal window, then within 30 days of the end.
    let until: NaiveDate = issued.card["valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expiring = |days: i64, who: &TestUser| {
        let path = format!("/api/v1/cards?expiring_within={days}");
        let app = &app;
        let token = who.access.clone();
        async move { app.items(&path, &token).await }
    };
    assert!(expiring(59, &official).await.is_empty());
    app.clock
        .advance(Duration::days((until - today(&app)).num_days() - 45));
    let holder = again(&app, "holder15@example.cn", &issued.talent).await;
    let official = again(&app, "xa15@example.cn", &official).await;
    let tz = again(&app, "tz@example.cn", &tz).await;
    let kinds: Vec<Value> = reminders(&holder)
        .await
        .iter()
        .map(|r| json!([r["kind"], r["due_on"]]))
        .collect();
    assert_eq!(
        kinds,
        vec![json!([
            "renewal_open",
            (until + Duration::days(1)).to_string()
        ])]
    );
    assert_eq!(
        expiring(45, &official)
            .await
            .iter()
            .map(|c| c["id"].clone())
            .collect::<Vec<_>>(),
        vec![json!(id)]
    );
    assert!(expiring(44, &official).await.is_empty());
    assert!(
        app.items("/api/v1/cards?expiring_within=45", &tz.access)
            .await
            .is_empty()
    );
    problem(
        app.get_as("/api/v1/cards?expiring_within=-1", &official.access)
            .await,
        422,
        "validation_failed",
    )
    .await;
    app.clock.advance(Duration::days(20));
    let holder = again(&app, "holder15@example.cn", &holder).await;
    let kinds: Vec<String> = reminders(&holder)
        .await
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, vec!["renewal_open", "expires_soon"]);
}
