//! `serve --demo`: the demo data loads twice without harm and every printed login works.

use serde_json::Value;
use talentcard::auth::totp;
use talentcard::clock::Clock;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_demo_login_works() {
    let app = spawn_app().await;
    let first = talentcard::demo::load(&app.settings, &app.pool)
        .await
        .unwrap();
    let again = talentcard::demo::load(&app.settings, &app.pool)
        .await
        .unwrap();
    assert_eq!(
        first.accounts.len(),
        again.accounts.len(),
        "loading twice is harmless"
    );
    assert!(first.accounts.iter().any(|a| a.role == "official"));

    for account in &first.accounts {
        let code = account.totp_secret.as_ref().map(|encoded| {
            let secret = totp_rs::Secret::Encoded(encoded.clone())
                .to_bytes()
                .unwrap();
            totp::code_at(&secret, app.clock.now())
        });
        let response = app
            .login(&account.email, &account.password, code.as_deref())
            .await;
        assert_eq!(response.status().as_u16(), 200, "{}", account.email);
        let tokens: Value = response.json().await.unwrap();
        let me: Value = app
            .get_as("/api/v1/me", tokens["access_token"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], account.role.as_str());
    }
    let xa = first
        .accounts
        .iter()
        .find(|a| a.issuer.as_deref() == Some("XA"))
        .unwrap();
    let secret = totp_rs::Secret::Encoded(xa.totp_secret.clone().unwrap())
        .to_bytes()
        .unwrap();
    app.clock.advance(chrono::Duration::seconds(30));
    let code = totp::code_at(&secret, app.clock.now());
    let tokens: Value = app
        .login(&xa.email, &xa.password, Some(&code))
        .await
        .json()
        .await
        .unwrap();
    let queue: Value = app
        .get_as(
            "/api/v1/applications?status=submitted",
            tokens["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the demo leaves one application in XA's queue"
    );
    assert_eq!(items[0]["suggested_tier"], "B");
    let zhang = first
        .accounts
        .iter()
        .find(|a| a.email.starts_with("zhang.wei"))
        .unwrap();
    let tokens: Value = app
        .login(&zhang.email, &zhang.password, None)
        .await
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let cards: Vec<Value> = app.items("/api/v1/cards", access).await;
    assert_eq!(cards.len(), 1, "the demo holder has a card");
    let credential = app
        .get_as(
            &format!(
                "/api/v1/cards/{}/credential",
                cards[0]["id"].as_str().unwrap()
            ),
            access,
        )
        .await;
    assert_eq!(credential.status().as_u16(), 200);
    let credential: Value = credential.json().await.unwrap();
    for agency in &first.agencies {
        let token = app
            .client_token(&agency.client_id.to_string(), &agency.client_secret)
            .await;
        assert_eq!(token.status().as_u16(), 200, "{}", agency.name);
    }
    // The README's walkthrough: the Tongzhou hospital scans Zhang Wei's card, then records his
    // yearly health check with the presentation it got.
    let hospital = first
        .agencies
        .iter()
        .find(|a| a.district == "tongzhou")
        .unwrap();
    let token: Value = app
        .client_token(&hospital.client_id.to_string(), &hospital.client_secret)
        .await
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let shown: Value = app
        .post_json(
            "/api/v1/verifications",
            &serde_json::json!({ "credential": credential["credential"] }),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (shown["valid"].as_bool(), shown["local_tier"].as_str()),
        (Some(true), Some("B"))
    );
    let redeemed = app
        .post_json(
            "/api/v1/redemptions",
            &serde_json::json!({ "presentation_id": shown["presentation_id"], "service": "annual_health_check" }),
            Some(token),
        )
        .await;
    assert_eq!(redeemed.status().as_u16(), 201);
}

#[tokio::test]
async fn the_demo_shows_a_card_in_its_renewal_window_and_an_open_change_report() {
    let app = spawn_app().await;
    let logins = talentcard::demo::load(&app.settings, &app.pool)
        .await
        .unwrap();
    let login = |email: &str| {
        let account = logins.accounts.iter().find(|a| a.email == email).unwrap();
        let code = account.totp_secret.as_ref().map(|encoded| {
            let secret = totp_rs::Secret::Encoded(encoded.clone())
                .to_bytes()
                .unwrap();
            totp::code_at(&secret, app.clock.now())
        });
        let (email, password) = (account.email.clone(), account.password.clone());
        let app = &app;
        async move {
            let tokens: Value = app
                .login(&email, &password, code.as_deref())
                .await
                .json()
                .await
                .unwrap();
            tokens["access_token"].as_str().unwrap().to_owned()
        }
    };
    let zhao = login("zhao.lei@demo.talentcard.cn").await;
    let reminders: Vec<Value> = app
        .get_as("/api/v1/me/reminders", &zhao)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = reminders
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["renewal_open"]);
    let xa = login("official.xa@demo.talentcard.cn").await;
    let queue = app.items("/api/v1/card-changes", &xa).await;
    assert_eq!(queue.len(), 1, "one open change report");
    assert_eq!(queue[0]["kind"], "employer");
    let expiring = app.items("/api/v1/cards?expiring_within=60", &xa).await;
    assert_eq!(expiring.len(), 1);
}

#[tokio::test]
async fn the_demo_has_a_family_and_an_employer_with_an_application_waiting() {
    let app = spawn_app().await;
    talentcard::demo::load(&app.settings, &app.pool)
        .await
        .unwrap();
    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let tokens: Value = app.login(email, password, None).await.json().await.unwrap();
            tokens["access_token"].as_str().unwrap().to_owned()
        }
    };
    let hr = login("hr@demo.talentcard.cn", "demo-employer-hr-2026").await;
    let waiting = app.items("/api/v1/employer/applications", &hr).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["status"], "awaiting_employer");
    assert_eq!(waiting[0]["applicant_name"], "孙悦");
    let chen = login("chen.jing@demo.talentcard.cn", "demo-talent-chen-jing-2026").await;
    let cards = app.items("/api/v1/cards", &chen).await;
    let principal = cards.iter().find(|c| c["kind"] == "principal").unwrap();
    assert_eq!(principal["tier"], "A");
    let mut relations: Vec<&str> = cards
        .iter()
        .filter(|c| c["kind"] == "dependant" && c["principal_card"] == principal["id"])
        .map(|c| c["relation"].as_str().unwrap())
        .collect();
    relations.sort_unstable();
    assert_eq!(relations, ["child", "spouse"]);
}
