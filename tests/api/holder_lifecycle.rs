//! The holder's year (issue 20): a loss report that disables the card at once, one replacement
//! per loss (also when two race), renewal inside its window without a gap, and the refusals.

use chrono::{Duration, NaiveDate};
use diesel::sql_types::{BigInt, Integer, Nullable};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use talentcard::clock::Clock;

use crate::cards::{Issued, issue_card, list_entry};
use crate::helpers::{TestApp, problem, spawn_app};
use crate::users::TestUser;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts rows with one SQL statement answering `n`.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.connect().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[derive(diesel::QueryableByName)]
struct Index {
    #[diesel(sql_type = Nullable<Integer>)]
    status_index: Option<i32>,
}

/// The card's entry in its issuer's status list.
async fn index_of(app: &TestApp, card_id: &str) -> usize {
    let mut conn = app.connect().await;
    let row: Index = diesel::sql_query(format!(
        "SELECT status_index FROM cards WHERE id = '{card_id}'"
    ))
    .get_result(&mut conn)
    .await
    .unwrap();
    usize::try_from(row.status_index.unwrap()).unwrap()
}

/// POSTs to `/cards/{id}/{action}` as `who`.
pub async fn card_post(
    app: &TestApp,
    who: &TestUser,
    card_id: &str,
    action: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send(
        "POST",
        &format!("/api/v1/cards/{card_id}/{action}"),
        &who.access,
        body.as_ref(),
    )
    .await
}

async fn card_of(app: &TestApp, who: &TestUser, card_id: &str) -> Value {
    app.get_as(&format!("/api/v1/cards/{card_id}"), &who.access)
        .await
        .json()
        .await
        .unwrap()
}

/// Signs `who` in again once the clock has moved past their tokens' lifetime (staff with the
/// second factor).
pub async fn again(app: &TestApp, email: &str, who: &TestUser) -> TestUser {
    if let Some(secret) = &who.totp_secret {
        return app.staff_login(email, secret, who.id).await;
    }
    let tokens: Value = app
        .login(email, crate::users::PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    TestUser {
        id: who.id,
        access: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh: tokens["refresh_token"].as_str().map(str::to_owned),
        totp_secret: None,
    }
}

/// An XA official and a B card of a new holder.
pub async fn holder_with_card(app: &TestApp, n: u32) -> (TestUser, Issued) {
    let official = app
        .staff(&format!("xa{n}@example.cn"), "official", Some("XA"))
        .await;
    let issued = issue_card(app, &official, n).await;
    (official, issued)
}

#[tokio::test]
async fn a_loss_report_suspends_at_once_and_a_code_made_before_answers_suspended() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (official, issued) = holder_with_card(&app, 1).await;
    let other = app.talent("other@example.cn").await;
    let id = issued.id().to_owned();
    let index = index_of(&app, &id).await;
    let code: Value = card_post(
        &app,
        &issued.talent,
        &id,
        "presentation-code",
        Some(json!({})),
    )
    .await
    .json()
    .await
    .unwrap();
    let (_, _, _, agency) = app.agency(&admin, "xiongan", &["tourism_pass"]).await;

    // Nobody else reports it: another talent does not see it, staff may not.
    for (who, status, code) in [
        (&other, 404, "not_found"),
        (&official, 403, "forbidden"),
        (&admin, 403, "forbidden"),
    ] {
        problem(
            card_post(&app, who, &id, "report-loss", Some(json!({}))).await,
            status,
            code,
        )
        .await;
    }
    // A comment that is not acceptable writes nothing.
    problem(
        card_post(
            &app,
            &issued.talent,
            &id,
            "report-loss",
            Some(json!({ "comment": "x".repeat(5000) })),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(card_of(&app, &issued.talent, &id).await["status"], "active");

    let lost = card_post(
        &app,
        &issued.talent,
        &id,
        "report-loss",
        Some(json!({ "comment": "lost on the metro" })),
    )
    .await;
    assert_eq!(lost.status().as_u16(), 200);
    let lost: Value = lost.json().await.unwrap();
    assert_eq!(
        (lost["status"].as_str(), lost["status_reason"].as_str()),
        (Some("suspended"), Some("reported_lost"))
    );
    assert_eq!(
        list_entry(&app, index).await,
        2,
        "the status list says suspended at once"
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM audit_log WHERE action = 'card.reported_lost' AND entity_id = '{id}'")).await,
        1
    );
    let shown: Value =
        crate::partners::verify(&app, &agency, json!({ "presentation_code": code["code"] }))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        (shown["valid"].as_bool(), shown["status"].as_str()),
        (Some(false), Some("suspended"))
    );
    // A second report changes nothing.
    problem(
        card_post(&app, &issued.talent, &id, "report-loss", Some(json!({}))).await,
        409,
        "invalid_transition",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_or_expired_card_cannot_be_reported_lost() {
    let app = spawn_app().await;
    let (official, revoked) = holder_with_card(&app, 2).await;
    let done = card_post(
        &app,
        &official,
        revoked.id(),
        "revoke",
        Some(json!({ "reason_code": "death" })),
    )
    .await;
    assert_eq!(done.status().as_u16(), 200);
    problem(
        card_post(
            &app,
            &revoked.talent,
            revoked.id(),
            "report-loss",
            Some(json!({})),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    let (_, expiring) = holder_with_card(&app, 3).await;
    let until: NaiveDate = expiring.card["valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let today = talentcard::clock::china_date(app.clock.now());
    app.clock
        .advance(Duration::days((until - today).num_days() + 1));
    let expiring = Issued {
        talent: again(&app, "holder3@example.cn", &expiring.talent).await,
        card: expiring.card,
    };
    problem(
        card_post(
            &app,
            &expiring.talent,
            expiring.id(),
            "report-loss",
            Some(json!({})),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        card_of(&app, &expiring.talent, expiring.id()).await["status"],
        "expired"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'card.reported_lost'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_replacement_keeps_tier_and_end_date_under_a_new_number_and_supersedes_the_lost_card() {
    let app = spawn_app().await;
    let (official, issued) = holder_with_card(&app, 4).await;
    let other = app.talent("other@example.cn").await;
    let id = issued.id().to_owned();
    let cards_before = count(&app, "SELECT count(*) AS n FROM cards").await;
    // Without a loss report: refused, nothing written.
    problem(
        card_post(&app, &issued.talent, &id, "replacement", None).await,
        409,
        "invalid_transition",
    )
    .await;
    // Suspended by the issuer is not reported lost either.
    card_post(
        &app,
        &official,
        &id,
        "suspend",
        Some(json!({ "reason_code": "under_investigation" })),
    )
    .await;
    problem(
        card_post(&app, &issued.talent, &id, "replacement", None).await,
        409,
        "invalid_transition",
    )
    .await;
    card_post(&app, &official, &id, "resume", Some(json!({}))).await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM cards").await,
        cards_before
    );

    card_post(&app, &issued.talent, &id, "report-loss", Some(json!({}))).await;
    problem(
        card_post(&app, &other, &id, "replacement", None).await,
        404,
        "not_found",
    )
    .await;
    problem(
        card_post(&app, &official, &id, "replacement", None).await,
        403,
        "forbidden",
    )
    .await;
    let new = card_post(&app, &issued.talent, &id, "replacement", None).await;
    assert_eq!(new.status().as_u16(), 201);
    let new: Value = new.json().await.unwrap();
    assert_ne!(new["id"], issued.card["id"]);
    assert_ne!(new["number"], issued.card["number"]);
    for field in ["scheme", "issuer", "tier", "valid_until"] {
        assert_eq!(new[field], issued.card[field], "{field}");
    }
    assert_eq!(new["status"], "active");
    let new_id = new["id"].as_str().unwrap();
    assert_ne!(index_of(&app, new_id).await, index_of(&app, &id).await);
    let old = card_of(&app, &issued.talent, &id).await;
    assert_eq!(
        (old["status"].as_str(), old["status_reason"].as_str()),
        (Some("revoked"), Some("superseded"))
    );
    assert_eq!(list_entry(&app, index_of(&app, &id).await).await, 1);
    assert_eq!(list_entry(&app, index_of(&app, new_id).await).await, 0);
    // The holder fetches the new card's credential.
    let credential = app
        .get_as(
            &format!("/api/v1/cards/{new_id}/credential"),
            &issued.talent.access,
        )
        .await;
    assert_eq!(credential.status().as_u16(), 200);
    // One replacement per loss.
    problem(
        card_post(&app, &issued.talent, &id, "replacement", None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM cards").await,
        cards_before + 1
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) AS n FROM card_successions WHERE old_card_id = '{id}' AND kind = 'replacement'")).await,
        1
    );
}

#[tokio::test]
async fn two_replacements_racing_yield_one_card() {
    let app = spawn_app().await;
    let (_, issued) = holder_with_card(&app, 5).await;
    let id = issued.id().to_owned();
    card_post(&app, &issued.talent, &id, "report-loss", Some(json!({}))).await;
    let cards_before = count(&app, "SELECT count(*) AS n FROM cards").await;
    let calls = (0..4).map(|_| card_post(&app, &issued.talent, &id, "replacement", None));
    let answers = futures_util::future::join_all(calls).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409, 409]);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM cards").await,
        cards_before + 1
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM audit_log WHERE action = 'card.issued' AND detail->>'succession' = 'replacement'").await,
        1
    );
}

/// Creates and submits a renewal of `card` (same facts, so the same tier is suggested).
async fn apply_to_renew(app: &TestApp, holder: &TestUser, card_id: &str) -> reqwest::Response {
    let body = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": card_id });
    app.send("POST", "/api/v1/applications", &holder.access, Some(&body))
        .await
}

#[tokio::test]
async fn a_renewal_opens_60_days_before_the_end_and_starts_the_day_after() {
    let app = spawn_app().await;
    let (official, mut issued) = holder_with_card(&app, 6).await;
    let until: NaiveDate = issued.card["valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let today = talentcard::clock::china_date(app.clock.now());
    let applications = count(&app, "SELECT count(*) AS n FROM applications").await;

    // 61 days before the end: not open yet, nothing written.
    app.clock
        .advance(Duration::days((until - today).num_days() - 61));
    issued.talent = again(&app, "holder6@example.cn", &issued.talent).await;
    let early = problem(
        apply_to_renew(&app, &issued.talent, issued.id()).await,
        409,
        "renewal_not_open",
    )
    .await;
    assert!(
        early["detail"]
            .as_str()
            .unwrap()
            .contains(&(until - Duration::days(60)).to_string())
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM applications").await,
        applications
    );

    // 60 days before: open.
    app.clock.advance(Duration::days(1));
    issued.talent = again(&app, "holder6@example.cn", &issued.talent).await;
    let official = again(&app, "xa6@example.cn", &official).await;
    let created = apply_to_renew(&app, &issued.talent, issued.id()).await;
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &issued.talent.access,
        None,
    )
    .await;
    let decided: Value = app
        .decide(
            &official,
            &id,
            json!({ "decision": "approve", "tier": "B" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let renewed = &decided["card"];
    let starts: NaiveDate = renewed["valid_from"].as_str().unwrap().parse().unwrap();
    assert_eq!(starts, until + Duration::days(1), "no gap, no overlap");
    // The old card stays in force to its last day; the new one is not valid before its first.
    assert_eq!(
        card_of(&app, &issued.talent, issued.id()).await["status"],
        "active"
    );
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, client_id, secret, _) = app.agency(&admin, "xiongan", &["tourism_pass"]).await;
    let check = |number: &str| {
        let number = number.to_owned();
        let app = &app;
        let (client_id, secret) = (client_id.clone(), secret.clone());
        async move {
            // A fresh token each time: the clock moves by days in between.
            let token: Value = app
                .client_token(&client_id, &secret)
                .await
                .json()
                .await
                .unwrap();
            let agency = token["access_token"].as_str().unwrap().to_owned();
            let answer: Value =
                crate::partners::verify(app, &agency, json!({ "card_number": number }))
                    .await
                    .json()
                    .await
                    .unwrap();
            answer["status"].as_str().unwrap().to_owned()
        }
    };
    let new_number = renewed["number"].as_str().unwrap();
    assert_eq!(
        (check(issued.number()).await, check(new_number).await),
        ("active".into(), "not_yet_valid".into())
    );
    app.clock.advance(Duration::days(61));
    assert_eq!(
        (check(issued.number()).await, check(new_number).await),
        ("expired".into(), "active".into())
    );
    issued.talent = again(&app, "holder6@example.cn", &issued.talent).await;
    // One renewal per card.
    let again = problem(
        apply_to_renew(&app, &issued.talent, issued.id()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(again["errors"][0]["field"], "replaces_card");
}

fn settings_with(
    variable: &str,
    value: Option<&str>,
) -> Result<talentcard::configuration::Settings, String> {
    let mut variables: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| !name.starts_with("TALENTCARD__"))
        .collect();
    if let Some(value) = value {
        variables.push((variable.to_owned(), value.to_owned()));
    }
    talentcard::configuration::Settings::load_with(
        &crate::helpers::manifest_dir().join("config"),
        talentcard::configuration::Environment::Test,
        variables,
    )
    .map_err(|e| e.to_string())
}

#[test]
fn the_renewal_window_and_the_change_report_days_default_to_60_and_10_and_are_checked() {
    let defaults = settings_with("", None).unwrap().cards;
    assert_eq!(
        (defaults.renewal_window_days, defaults.change_report_days),
        (60, 10)
    );
    for variable in [
        "TALENTCARD__CARDS__RENEWAL_WINDOW_DAYS",
        "TALENTCARD__CARDS__CHANGE_REPORT_DAYS",
    ] {
        for good in ["1", "365"] {
            let cards = settings_with(variable, Some(good)).unwrap().cards;
            let value = if variable.contains("RENEWAL") {
                cards.renewal_window_days
            } else {
                cards.change_report_days
            };
            assert_eq!(value.to_string(), good);
        }
        for bad in ["0", "366"] {
            let error = settings_with(variable, Some(bad)).err().unwrap_or_default();
            assert!(error.contains(variable), "{variable}={bad}: {error}");
        }
    }
}
