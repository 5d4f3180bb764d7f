//! Trust that holds when a key leaks: a key vouches only for its own issuer's cards and only for
//! what it signed, any key can be withdrawn at once, credentials in holders' hands keep their
//! keys published through rotations, and offline material is ordered by an exact stamp. Each
//! test replays an attack that succeeded before these rules, online and offline.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use talentcard::clock::Clock;
use talentcard::credentials::offline::{self, Freshness, MaterialError};
use talentcard::credentials::{keys, signed, token};
use talentcard::crypto::pii::PiiCipher;
use talentcard::db::schema::issuer_keys;

use crate::cards::{credential, issue_card as xa_card, published_keys};
use crate::helpers::{TestApp, problem, spawn_app};
use crate::users::TestUser;

/// An application with an XA official, an administrator and an agency in Xiong'an.
struct Scene {
    app: TestApp,
    official: TestUser,
    admin: TestUser,
    /// The agency's access token.
    agency: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let (_, _, _, agency) = app
        .agency(&admin, "xiongan", &["annual_health_check"])
        .await;
    Scene {
        app,
        official,
        admin,
        agency,
    }
}

/// The kid of the issuer's active key.
pub async fn active_kid(app: &TestApp, issuer: &str) -> String {
    let mut conn = app.connect().await;
    issuer_keys::table
        .filter(issuer_keys::issuer.eq(issuer))
        .filter(issuer_keys::status.eq("active"))
        .select(issuer_keys::kid)
        .first(&mut conn)
        .await
        .unwrap()
}

/// The private key of `kid`, as an attacker who stole it would hold it.
pub async fn stolen_der(app: &TestApp, kid: &str) -> Vec<u8> {
    let mut conn = app.connect().await;
    let sealed: Vec<u8> = issuer_keys::table
        .find(kid)
        .select(issuer_keys::private_key_sealed)
        .first(&mut conn)
        .await
        .unwrap();
    let cipher = PiiCipher::new(
        &app.settings.secrets().unwrap(),
        &app.settings.auth.pii_key_id,
    );
    keys::signing_der(kid, &sealed, &cipher).unwrap()
}

/// What a forger puts in a credential.
struct Forgery<'a> {
    number: &'a str,
    scheme: &'a str,
    issuer: &'a str,
    list: &'a str,
    index: u32,
    issued_at: chrono::DateTime<chrono::Utc>,
    valid_until: chrono::NaiveDate,
}

fn forge(app: &TestApp, kid: &str, der: &[u8], f: &Forgery<'_>) -> String {
    let card = token::CardCredential {
        card_number: f.number,
        scheme: f.scheme,
        tier: "A",
        issuer: f.issuer,
        valid_from: f.issued_at.date_naive(),
        valid_until: f.valid_until,
        status_index: f.index,
        status_uri: format!("{}/api/v1/status-lists/{}", app.address, f.list),
        holder_name: "冒名者",
        salt: "c2FsdHNhbHRzYWx0c2FsdA",
        issued_at: f.issued_at,
        base_url: &app.settings.application.public_base_url,
        holder_jwk: None,
    };
    token::issue(&card, kid, der).unwrap().presentation(false)
}

async fn online(app: &TestApp, agency: &str, credential: &str) -> Value {
    let response = app
        .post_json(
            "/api/v1/verifications",
            &json!({ "credential": credential }),
            Some(agency),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

fn assert_untrusted_online(answer: &Value, what: &str) {
    assert_eq!(
        (&answer["valid"], &answer["status"], &answer["card"]),
        (&json!(false), &json!("untrusted"), &Value::Null),
        "{what}: {answer}"
    );
}

/// The platform key a partner pins and the signed trust list it downloads.
pub async fn pinned(app: &TestApp) -> (talentcard::credentials::platform_key::PlatformKey, String) {
    let platform = talentcard::credentials::platform_key::PlatformKey::from_settings(
        &crate::helpers::test_settings(),
    )
    .unwrap();
    let trust = app
        .get("/api/v1/trust-list.jws")
        .await
        .text()
        .await
        .unwrap();
    (platform, trust)
}

/// Offline verification against what the service publishes now, with the default freshness.
async fn offline(app: &TestApp, credential: &str) -> Result<offline::Verdict, MaterialError> {
    let (platform, trust) = pinned(app).await;
    let mut lists = Vec::new();
    for list in ["XA", "TZ"] {
        let path = format!("/api/v1/status-lists/{list}.jws");
        lists.push(app.get(&path).await.text().await.unwrap());
    }
    let lists: Vec<&str> = lists.iter().map(String::as_str).collect();
    offline::verify(
        &platform.x,
        &trust,
        &lists,
        credential,
        app.clock.now(),
        Freshness::default(),
    )
}

async fn assert_untrusted_offline(app: &TestApp, credential: &str, what: &str) {
    let verdict = offline(app, credential).await.unwrap();
    assert_eq!(
        (verdict.valid, verdict.status.as_str(), verdict.card_number),
        (false, "untrusted", None),
        "{what}"
    );
}

fn claims_of(credential: &str) -> Value {
    use base64::Engine;
    let jws = credential.split('~').next().unwrap();
    let payload = jws.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn one_issuers_key_vouches_for_no_other_issuers_card() {
    let Scene {
        app,
        official,
        agency,
        ..
    } = scene().await;
    let held = xa_card(&app, &official, 1).await;
    let genuine = credential(&app, &held).await;
    let claims = claims_of(&genuine);
    let index = u32::try_from(claims["status"]["status_list"]["idx"].as_u64().unwrap()).unwrap();
    assert_eq!(online(&app, &agency, &genuine).await["valid"], true);
    assert!(offline(&app, &genuine).await.unwrap().valid);

    let tz = active_kid(&app, "TZ").await;
    let der = stolen_der(&app, &tz).await;
    let now = app.clock.now();
    let until = now.date_naive() + chrono::Duration::days(5 * 365);
    // The attack as reported: TZ's key, the XA card's number, XIONGAN, tier A, TZ's list.
    let attacks = [
        ("XA", "XIONGAN", "TZ", "claims XA, status list of TZ"),
        ("XA", "XIONGAN", "XA", "everything says XA but the key"),
        (
            "TZ",
            "XIONGAN",
            "TZ",
            "claims TZ for an XA number and scheme",
        ),
        ("TZ", "TBT", "TZ", "a TZ scheme for an XA number"),
    ];
    for (issuer, scheme, list, what) in attacks {
        let forged = forge(
            &app,
            &tz,
            &der,
            &Forgery {
                number: held.number(),
                scheme,
                issuer,
                list,
                index,
                issued_at: now,
                valid_until: until,
            },
        );
        assert_untrusted_online(&online(&app, &agency, &forged).await, what);
        assert_untrusted_offline(&app, &forged, what).await;
    }
}

#[tokio::test]
async fn a_leaked_retired_key_vouches_only_for_what_it_signed_and_can_be_withdrawn() {
    let Scene {
        app,
        official,
        admin,
        agency,
    } = scene().await;
    let first = xa_card(&app, &official, 2).await;
    let leaked = active_kid(&app, "XA").await;
    let under_leaked = credential(&app, &first).await;
    let der = stolen_der(&app, &leaked).await;
    for _ in 0..2 {
        let rotate = "/api/v1/admin/issuers/XA/keys/rotate";
        let response = app.post_json(rotate, &json!({}), Some(&admin.access)).await;
        assert_eq!(response.status().as_u16(), 200);
    }
    let second = xa_card(&app, &official, 3).await;
    let genuine_second = credential(&app, &second).await;
    let claims = claims_of(&genuine_second);
    let list = claims["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let index = u32::try_from(claims["status"]["status_list"]["idx"].as_u64().unwrap()).unwrap();
    let now = app.clock.now();
    let far = now.date_naive() + chrono::Duration::days(5 * 365);
    let forgery = |issued_at, valid_until| Forgery {
        number: second.number(),
        scheme: "XIONGAN",
        issuer: "XA",
        list: &list,
        index,
        issued_at,
        valid_until,
    };
    // Dated now (after retirement), five more years: refused online and offline.
    let fresh = forge(&app, &leaked, &der, &forgery(now, far));
    assert_untrusted_online(&online(&app, &agency, &fresh).await, "iat after retirement");
    assert_untrusted_offline(&app, &fresh, "iat after retirement").await;
    // Back-dated into the key's active life, still five more years: beyond anything it signed.
    let old = now - chrono::Duration::minutes(5);
    let backdated = forge(&app, &leaked, &der, &forgery(old, far));
    assert_untrusted_online(&online(&app, &agency, &backdated).await, "back-dated");
    assert_untrusted_offline(&app, &backdated, "exp beyond not_after").await;
    // Within every bound offline can check, but for a card the key never signed: online knows.
    let until = first.card["valid_until"].as_str().unwrap().parse().unwrap();
    let bounded = forge(&app, &leaked, &der, &forgery(old, until));
    assert_untrusted_online(&online(&app, &agency, &bounded).await, "not on record");
    // The genuine credential it signed still verifies, online and offline.
    assert_eq!(online(&app, &agency, &under_leaked).await["valid"], true);
    assert!(offline(&app, &under_leaked).await.unwrap().valid);

    // Withdraw the retired key: refused at once, online and offline, even what it truly signed.
    let before: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let path = format!("/api/v1/admin/issuers/XA/keys/{leaked}/compromise");
    let withdrawn = app
        .post_json(
            &path,
            &json!({ "comment": "found on a USB stick" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(withdrawn.status().as_u16(), 200);
    let withdrawn: Value = withdrawn.json().await.unwrap();
    assert_eq!(
        (
            &withdrawn["was"],
            &withdrawn["status"],
            &withdrawn["replaced_by"]
        ),
        (&json!("retired"), &json!("compromised"), &Value::Null)
    );
    let trust: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    assert!(
        !trust.to_string().contains(&leaked),
        "withdrawn from the trust list"
    );
    let stamp = |list: &Value| {
        chrono::DateTime::parse_from_rfc3339(list["issued_at"].as_str().unwrap()).unwrap()
    };
    assert!(
        stamp(&trust) > stamp(&before),
        "a list made after a withdrawal is stamped after one made before it"
    );
    assert_untrusted_online(&online(&app, &agency, &under_leaked).await, "withdrawn");
    assert_untrusted_offline(&app, &under_leaked, "withdrawn").await;
    assert_untrusted_online(&online(&app, &agency, &bounded).await, "withdrawn");
    assert_untrusted_offline(&app, &bounded, "withdrawn").await;
    // The holder fetches the credential again: signed by the active key, valid everywhere.
    let renewed = credential(&app, &first).await;
    assert_ne!(renewed, under_leaked);
    assert_eq!(online(&app, &agency, &renewed).await["valid"], true);
    assert!(offline(&app, &renewed).await.unwrap().valid);

    // Refusals: twice, unknown key, another issuer's path, not an administrator.
    problem(
        app.post_json(&path, &json!({}), Some(&admin.access)).await,
        409,
        "conflict",
    )
    .await;
    let unknown = "/api/v1/admin/issuers/XA/keys/XA-20260101-00000000/compromise";
    problem(
        app.post_json(unknown, &json!({}), Some(&admin.access))
            .await,
        404,
        "not_found",
    )
    .await;
    let active = active_kid(&app, "XA").await;
    let elsewhere = format!("/api/v1/admin/issuers/TZ/keys/{active}/compromise");
    problem(
        app.post_json(&elsewhere, &json!({}), Some(&admin.access))
            .await,
        404,
        "not_found",
    )
    .await;
    let own = format!("/api/v1/admin/issuers/XA/keys/{active}/compromise");
    problem(
        app.post_json(&own, &json!({}), Some(&official.access))
            .await,
        403,
        "forbidden",
    )
    .await;

    // The active key: withdrawn and replaced in one step.
    let replaced: Value = app
        .post_json(&own, &json!({}), Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["was"], "active");
    let new = replaced["replaced_by"].as_str().unwrap();
    assert_eq!(active_kid(&app, "XA").await, new);
    assert_untrusted_online(&online(&app, &agency, &renewed).await, "active withdrawn");
    let history: Vec<Value> = app
        .get_as("/api/v1/admin/issuers/XA/keys", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = history
        .iter()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["active", "compromised", "retired", "compromised"],
        "newest first: the replacement, the withdrawn active key, a retired one, the leaked one"
    );
    let audit: Value = app
        .get_as(
            "/api/v1/admin/audit?action=issuer.key_compromised",
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{audit}");
    assert!(
        items
            .iter()
            .any(|i| i["detail"]["comment"] == "found on a USB stick"
                && i["detail"]["was"] == "retired"),
        "the reason is kept: {audit}"
    );
}

#[tokio::test]
async fn credentials_fetched_under_every_key_keep_verifying_through_rotations() {
    let Scene {
        app,
        official,
        admin,
        agency,
    } = scene().await;
    let held = xa_card(&app, &official, 4).await;
    let mut fetched = Vec::new();
    for _ in 0..2 {
        fetched.push(credential(&app, &held).await);
        let rotate = "/api/v1/admin/issuers/XA/keys/rotate";
        let response = app.post_json(rotate, &json!({}), Some(&admin.access)).await;
        assert_eq!(response.status().as_u16(), 200);
    }
    fetched.push(credential(&app, &held).await);
    let kids: std::collections::BTreeSet<String> = fetched
        .iter()
        .map(|c| {
            talentcard::credentials::jws::header(c.split('~').next().unwrap())
                .unwrap()
                .kid
                .unwrap()
        })
        .collect();
    assert_eq!(kids.len(), 3, "three keys signed in turn");
    for credential in &fetched {
        assert_eq!(online(&app, &agency, credential).await["valid"], true);
        let verdict = offline(&app, credential).await.unwrap();
        assert!(verdict.valid, "offline after two rotations: {verdict:?}");
    }
    // The same key always gives the same credential.
    assert_eq!(credential(&app, &held).await, fetched[2]);
    // A retired key is published with the bound of what it signed.
    let xa = published_keys(&app, "XA").await;
    let retired: Vec<&Value> = xa.iter().filter(|k| k["status"] == "retired").collect();
    assert_eq!(retired.len(), 2);
    let exp = claims_of(&fetched[0])["exp"].as_i64().unwrap();
    for key in retired {
        let not_after = chrono::DateTime::parse_from_rfc3339(key["not_after"].as_str().unwrap());
        assert_eq!(not_after.unwrap().timestamp(), exp);
    }
    let trust: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let schemes = trust["schemes"].as_array().unwrap();
    let xiongan = schemes.iter().find(|s| s["code"] == "XIONGAN").unwrap();
    assert_eq!(xiongan["issuers"], json!(["XA"]));
}

/// XA's first status list, signed and plain.
async fn xa_list(app: &TestApp) -> (String, Value) {
    // A list takes at most one stamp a second: a change shows from the next second.
    app.clock.advance(chrono::Duration::seconds(1));
    let jws = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let view: Value = app
        .get("/api/v1/status-lists/XA")
        .await
        .json()
        .await
        .unwrap();
    (jws, view)
}

#[tokio::test]
async fn offline_status_lists_are_ordered_by_an_exact_stamp_and_ambiguity_is_refused() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = xa_card(&app, &official, 5).await;
    let token = credential(&app, &held).await;
    let (platform, trust) = pinned(&app).await;
    let (valid, valid_view) = xa_list(&app).await;
    let suspend = format!("/api/v1/cards/{}/suspend", held.id());
    let body = json!({ "reason_code": "under_investigation" });
    app.post_json(&suspend, &body, Some(&official.access)).await;
    let (suspended, suspended_view) = xa_list(&app).await;
    let resume = format!("/api/v1/cards/{}/resume", held.id());
    app.post_json(&resume, &json!({}), Some(&official.access))
        .await;
    let (_, resumed_view) = xa_list(&app).await;
    let stamp =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v["issued_at"].as_str().unwrap()).unwrap();
    assert!(
        stamp(&valid_view) < stamp(&suspended_view),
        "a change takes a later stamp"
    );
    assert!(
        stamp(&suspended_view) < stamp(&resumed_view),
        "even within one second"
    );

    let now = app.clock.now();
    let verdict = |lists: &[&str]| {
        offline::verify(
            &platform.x,
            &trust,
            lists,
            &token,
            now,
            Freshness::default(),
        )
    };
    // The newer list wins whatever the order the lists are given in.
    for order in [[&valid, &suspended], [&suspended, &valid]] {
        let lists: Vec<&str> = order.iter().map(|s| s.as_str()).collect();
        assert_eq!(verdict(&lists).unwrap().status, "suspended");
    }
    // Two different lists under one stamp: which is newer cannot be told.
    let mut twin = valid_view.clone();
    twin["lst"] = suspended_view["lst"].clone();
    let twin = signed::sign(&twin, signed::STATUS_LIST_TYP, &platform.kid, &platform.der).unwrap();
    assert_eq!(
        verdict(&[&valid, &twin]),
        Err(MaterialError::Ambiguous("XA".into()))
    );
    // Identical copies are not ambiguous.
    assert!(verdict(&[&valid, &valid]).unwrap().valid);
}

#[tokio::test]
async fn offline_material_is_fresh_by_default_and_older_only_with_an_explicit_grace() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = xa_card(&app, &official, 6).await;
    let token = credential(&app, &held).await;
    let (platform, trust) = pinned(&app).await;
    let lists = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let later = app.clock.now() + chrono::Duration::seconds(offline::DEFAULT_MAX_AGE_SECS + 400);
    let check =
        |freshness| offline::verify(&platform.x, &trust, &[&lists], &token, later, freshness);
    assert_eq!(
        check(Freshness::default()),
        Err(MaterialError::Stale("the trust list"))
    );
    let graced = check(Freshness {
        grace: chrono::Duration::hours(1),
        ..Freshness::default()
    })
    .unwrap();
    assert!(graced.valid && graced.grace_used, "{graced:?}");
    let now = app.clock.now();
    let fresh = offline::verify(
        &platform.x,
        &trust,
        &[&lists],
        &token,
        now,
        Freshness::default(),
    );
    assert!(!fresh.unwrap().grace_used);
}

#[tokio::test]
async fn the_qr_code_and_the_default_download_carry_no_name() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = xa_card(&app, &official, 7).await;
    let plain = credential(&app, &held).await;
    assert!(
        plain.ends_with('~') && plain.matches('~').count() == 1,
        "{plain}"
    );
    let path = format!(
        "/api/v1/cards/{}/credential?disclose=holder_name",
        held.id()
    );
    let named: Value = app
        .get_as(&path, &held.talent.access)
        .await
        .json()
        .await
        .unwrap();
    let named = named["credential"].as_str().unwrap();
    assert!(named.starts_with(plain.trim_end_matches('~')) && named.matches('~').count() == 2);
    let svg = app
        .get_as(
            &format!("/api/v1/cards/{}/qr.svg", held.id()),
            &held.talent.access,
        )
        .await
        .text()
        .await
        .unwrap();
    let code =
        talentcard::credentials::qr::svg(&talentcard::credentials::qr::encode(&plain).unwrap());
    assert_eq!(svg, code, "the QR code is the name-less credential");
    let bad = format!("/api/v1/cards/{}/credential?disclose=id_number", held.id());
    let refused = app.get_as(&bad, &held.talent.access).await;
    assert!(refused.status().is_client_error());
}
