//! Card numbers cannot be walked: serials are random, and an agency whose checks by number keep
//! answering `unknown` is refused further checks by number for the rest of the hour (checks by
//! credential go on), audited once and counted in /metrics.

use chrono::Duration;
use serde_json::{Value, json};
use talentcard::domain::card_number;

use crate::helpers::{problem, spawn_app, spawn_app_with};
use crate::partners::{issue_twl, present, verify};

/// The serial of a card number.
fn serial(number: &str) -> i64 {
    number.split('-').nth(2).unwrap().parse().unwrap()
}

#[tokio::test]
async fn partners_sequential_guesses_no_longer_hit() {
    let app = spawn_app_with(|s| s.partners.unknown_numbers_per_hour = 1000).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, token) = app.agency(&admin, "langfang", &["tourism_pass"]).await;
    let mut numbers = Vec::new();
    for n in 0..3 {
        let (_, number, _) = issue_twl(&app, 40 + n).await;
        let serial_digits = number.split('-').nth(2).unwrap();
        assert_eq!(
            serial_digits.len(),
            13,
            "a random 13-digit serial: {number}"
        );
        assert!(card_number::is_valid(&number));
        numbers.push(number);
    }
    // The three cards, issued one after another, are nowhere near each other.
    let serials: Vec<i64> = numbers.iter().map(|n| serial(n)).collect();
    assert!(
        serials.windows(2).all(|w| (w[0] - w[1]).abs() > 1000),
        "{serials:?}"
    );
    let year = app.clock_year();
    let mut hits = 0;
    let mut guesses = Vec::new();
    for s in &serials {
        for delta in [-3, -2, -1, 1, 2, 3] {
            guesses.push(card_number::format("LF", year, s + delta));
        }
    }
    // What the attacker did before: the first sequential numbers of the year.
    for s in 1..=12 {
        guesses.push(card_number::format("LF", year, s));
    }
    for guess in &guesses {
        let answer: Value = verify(&app, &token, json!({ "card_number": guess }))
            .await
            .json()
            .await
            .unwrap();
        if answer["status"] != "unknown" {
            hits += 1;
        }
        assert!(answer["card"].is_null(), "{answer}");
    }
    assert_eq!(hits, 0, "no guessed neighbour or sequential number exists");
    // The real numbers still verify by number.
    for number in &numbers {
        let answer: Value = verify(&app, &token, json!({ "card_number": number }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["valid"], true, "{answer}");
        assert!(
            answer["presentation_id"].is_null(),
            "a number proves no presentation"
        );
        assert_eq!(answer["holder_bound"], false);
    }
}

#[tokio::test]
async fn partners_numbers_issued_before_still_verify() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, token) = app.agency(&admin, "langfang", &["tourism_pass"]).await;
    let (_, _, card_id) = issue_twl(&app, 50).await;
    // A card numbered the old way (sequential 6-digit serial), as the register holds them.
    let old = card_number::format("LF", 2026, 1);
    assert_eq!(old.split('-').nth(2), Some("000001"));
    let mut conn = app.connect().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE cards SET number = $1 WHERE id = $2::uuid")
        .bind::<diesel::sql_types::Text, _>(&old)
        .bind::<diesel::sql_types::Text, _>(&card_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let answer: Value = verify(&app, &token, json!({ "card_number": old }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (answer["valid"].clone(), answer["card"]["number"].clone()),
        (json!(true), json!(old))
    );
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn partners_an_agency_past_the_unknown_threshold_is_refused_number_checks() {
    let app = spawn_app_with(|s| s.partners.unknown_numbers_per_hour = 3).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (agency_id, client_id, secret, token) =
        app.agency(&admin, "langfang", &["tourism_pass"]).await;
    let (_, _, _, honest) = app.agency(&admin, "langfang", &["tourism_pass"]).await;
    let (holder, number, card_id) = issue_twl(&app, 60).await;
    let year = app.clock_year();
    for s in 1..=3 {
        let guess = card_number::format("LF", year, 7_000_000_000_000 + s);
        let answer: Value = verify(&app, &token, json!({ "card_number": guess }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "unknown");
    }
    // Past the threshold: even a real number is refused, and says nothing.
    let refused = verify(&app, &token, json!({ "card_number": number })).await;
    let wait: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let body = problem(refused, 429, "rate_limited").await;
    assert!(!body.to_string().contains(&number));
    problem(
        verify(
            &app,
            &token,
            json!({ "card_number": card_number::format("LF", year, 424_242) }),
        )
        .await,
        429,
        "rate_limited",
    )
    .await;
    // The card shown still verifies.
    let shown = present(&app, &token, &holder, &card_id).await;
    assert_eq!(shown["valid"], true);
    assert!(shown["presentation_id"].is_string());
    // Another agency is not affected.
    let other: Value = verify(&app, &honest, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["valid"], true);

    // Refused checks are not recorded: three unknown answers, one credential check, the other
    // agency's check.
    let mut conn = app.connect().await;
    use diesel_async::RunQueryDsl;
    let logged: Count =
        diesel::sql_query("SELECT count(*) AS n FROM verifications WHERE agency_id = $1::uuid")
            .bind::<diesel::sql_types::Text, _>(agency_id.to_string())
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(logged.n, 4);

    // One audit row for the window, in the name of the client.
    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=agency.enumeration_suspected",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let rows = audit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["actor"], format!("agency_client:{client_id}"));
    assert_eq!(rows[0]["entity_id"], agency_id.to_string());
    assert_eq!(rows[0]["detail"]["agency"], agency_id.to_string());
    assert_eq!(rows[0]["detail"]["count"], 3);

    let metrics = app.metrics().await;
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains(&agency_id.to_string()))
            .unwrap_or_else(|| panic!("no {name} for the agency:\n{metrics}"))
            .to_owned()
    };
    assert!(line("talentcard_verification_unknown_numbers_total").ends_with(" 3"));
    assert!(line("talentcard_verification_number_checks_refused_total").ends_with(" 2"));

    // The next hour, checks by number answer again; no second audit row for the first hour.
    app.clock.advance(Duration::seconds(wait + 1));
    let token = app
        .client_token(&client_id, &secret)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let again: Value = verify(&app, &token, json!({ "card_number": number }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["valid"], true, "{again}");
    let audited: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'agency.enumeration_suspected'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(audited.n, 1);
}
