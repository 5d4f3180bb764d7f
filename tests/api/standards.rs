//! What a standard verifier relies on: credentials whose `iss` and `vct` resolve to issuer and
//! type metadata, a JWK Set, Status List Tokens signed by the issuer at the credential's status
//! `uri`, the aggregation of every list, and offline verification with those tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use talentcard::clock::Clock;
use talentcard::credentials::offline::{self, Freshness, MaterialError};
use talentcard::credentials::{jws, status_list, status_token};

use crate::cards::{credential, issue_card};
use crate::helpers::{TestApp, problem, spawn_app};

fn claims_of(credential: &str) -> Value {
    let jws = credential.split('~').next().unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(jws.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// The credential's status `uri` and its path on the service.
fn status_uri(credential: &str) -> (String, String) {
    let uri = claims_of(credential)["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/{}", uri.split_once("/api/v1/").unwrap().1);
    (uri, path)
}

/// The Status List Token at `path`, as a standard verifier asks for it.
async fn token_at(app: &TestApp, path: &str) -> reqwest::Response {
    // A list takes at most one stamp a second: a change shows from the next second.
    app.clock.advance(chrono::Duration::seconds(1));
    app.client
        .get(format!("{}{path}", app.address))
        .header("Accept", "application/statuslist+jwt")
        .send()
        .await
        .unwrap()
}

/// The raw public key of `kid` in the JWK Set.
async fn jwks_key(app: &TestApp, kid: &str) -> Option<[u8; 32]> {
    let set: Value = app
        .get("/api/v1/trust-list/jwks")
        .await
        .json()
        .await
        .unwrap();
    let key = set["keys"].as_array()?.iter().find(|k| k["kid"] == kid)?;
    URL_SAFE_NO_PAD
        .decode(key["x"].as_str()?)
        .ok()?
        .try_into()
        .ok()
}

/// Opens a Status List Token with the key the JWK Set publishes for its `kid`.
async fn open_token(app: &TestApp, token: &str) -> status_token::Opened {
    let kid = jws::header(token).unwrap().kid.unwrap();
    let key = jwks_key(app, &kid)
        .await
        .expect("the token's kid is in the JWK Set");
    let issuer = kid.split('-').next().unwrap().to_owned();
    status_token::open(token, |k| (k == kid).then(|| (issuer.clone(), key))).unwrap()
}

#[tokio::test]
async fn credentials_name_resolvable_issuers_and_types() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = issue_card(&app, &official, 1).await;
    let claims = claims_of(&credential(&app, &held).await);
    let base = app
        .settings
        .application
        .public_base_url
        .trim_end_matches('/');
    assert_eq!(claims["iss"], format!("{base}/issuers/XA"));
    assert_eq!(claims["vct"], format!("{base}/vct/XIONGAN"));

    // Issuer metadata where SD-JWT VC puts it: the well-known prefix, then the iss path.
    let metadata = app.get("/.well-known/jwt-vc-issuer/issuers/XA").await;
    assert_eq!(metadata.status().as_u16(), 200);
    let metadata: Value = metadata.json().await.unwrap();
    assert_eq!(metadata["issuer"], claims["iss"]);
    let keys = metadata["jwks"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for field in ["kty", "crv", "x", "kid", "alg", "use"] {
        assert!(keys[0][field].is_string(), "{field}: {}", keys[0]);
    }
    assert!(keys[0]["kid"].as_str().unwrap().starts_with("XA-"));
    problem(
        app.get("/.well-known/jwt-vc-issuer/issuers/ZZ").await,
        404,
        "not_found",
    )
    .await;

    // Type metadata at the vct, in Chinese and English.
    let vct: Value = app.get("/vct/XIONGAN").await.json().await.unwrap();
    assert_eq!(vct["vct"], claims["vct"]);
    let langs: Vec<&str> = vct["display"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["lang"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["zh-CN", "en"]);
    let name = vct["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == json!(["holder_name"]))
        .unwrap();
    assert_eq!(name["sd"], "always");
    problem(app.get("/vct/NOPE").await, 404, "not_found").await;

    // The JWK Set holds every issuer's key in force, and nothing withdrawn.
    let set: Value = app
        .get("/api/v1/trust-list/jwks")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    let issuers: Value = app.get("/api/v1/issuers").await.json().await.unwrap();
    assert_eq!(kids.len(), issuers.as_array().unwrap().len());
    let admin = app.staff("root@example.cn", "admin", None).await;
    let xa = keys[0]["kid"].as_str().unwrap();
    let path = format!("/api/v1/admin/issuers/XA/keys/{xa}/compromise");
    app.post_json(&path, &json!({}), Some(&admin.access)).await;
    assert_eq!(jwks_key(&app, xa).await, None, "withdrawn at once");
}

#[tokio::test]
async fn the_status_uri_answers_a_status_list_token_signed_by_the_issuer() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let held = issue_card(&app, &official, 2).await;
    let claims = claims_of(&credential(&app, &held).await);
    let uri = claims["status"]["status_list"]["uri"].as_str().unwrap();
    let index = claims["status"]["status_list"]["idx"].as_u64().unwrap() as usize;
    let path = uri
        .split_once("/api/v1/")
        .map(|(_, p)| format!("/api/v1/{p}"))
        .unwrap();

    let answer = token_at(&app, &path).await;
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "application/statuslist+jwt"
    );
    assert_eq!(answer.headers()["vary"], "Accept");
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    let token = answer.text().await.unwrap();
    let header = jws::header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("statuslist+jwt"));
    let xa_kid = header.kid.clone().unwrap();
    assert!(
        xa_kid.starts_with("XA-"),
        "signed by the issuer, not the platform"
    );
    let opened = open_token(&app, &token).await;
    assert_eq!(
        opened.claims.sub, uri,
        "sub is exactly the credential's uri"
    );
    assert_eq!(opened.claims.status_list.bits, 2);
    assert_eq!(opened.claims.ttl, 300);
    assert_eq!(
        opened.claims.exp,
        opened.issued_at.timestamp() + status_token::LIFETIME_SECS
    );
    let json: Value = app.get(&path).await.json().await.unwrap();
    let stamp = chrono::DateTime::parse_from_rfc3339(json["issued_at"].as_str().unwrap());
    assert_eq!(stamp.unwrap(), opened.issued_at, "one stamp, two forms");
    assert_eq!(json["lst"], json!(opened.claims.status_list.lst));

    // A suspension shows in the next token, under a later iat.
    let suspend = format!("/api/v1/cards/{}/suspend", held.id());
    let body = json!({ "reason_code": "under_investigation" });
    app.post_json(&suspend, &body, Some(&official.access)).await;
    let after = open_token(&app, &token_at(&app, &path).await.text().await.unwrap()).await;
    assert!(after.issued_at > opened.issued_at);
    let bits = status_list::decode(&after.claims.status_list.lst).unwrap();
    assert_eq!(status_list::get(&bits, index), 2, "suspended");

    // After a rotation the same list is signed by the new key.
    let rotated: Value = app
        .post_json(
            "/api/v1/admin/issuers/XA/keys/rotate",
            &json!({}),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = token_at(&app, &path).await.text().await.unwrap();
    assert_eq!(
        jws::header(&token).unwrap().kid,
        rotated["kid"].as_str().map(str::to_owned)
    );
    assert_ne!(Some(xa_kid), rotated["kid"].as_str().map(str::to_owned));

    // The aggregation lists every list's URI.
    let aggregation: Value = app.get("/api/v1/status-lists").await.json().await.unwrap();
    let uris = aggregation["status_lists"].as_array().unwrap();
    assert!(uris.contains(&json!(uri)), "{aggregation}");
    let trust: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    assert!(
        trust["status_list_aggregation_uri"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/status-lists")
    );
    problem(
        token_at(&app, "/api/v1/status-lists/ZZ").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn offline_verification_takes_status_list_tokens_bound_to_the_uri() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = issue_card(&app, &official, 3).await;
    let credential = credential(&app, &held).await;
    let (_, path) = status_uri(&credential);
    let (platform, trust) = crate::trust::pinned(&app).await;
    let valid = token_at(&app, &path).await.text().await.unwrap();
    let suspend = format!("/api/v1/cards/{}/suspend", held.id());
    let body = json!({ "reason_code": "under_investigation" });
    app.post_json(&suspend, &body, Some(&official.access)).await;
    let suspended = token_at(&app, &path).await.text().await.unwrap();
    let now = app.clock.now();
    let check = |lists: &[&str], at| {
        offline::verify(
            &platform.x,
            &trust,
            lists,
            &credential,
            at,
            Freshness::default(),
        )
    };
    assert!(check(&[&valid], now).unwrap().valid);
    for order in [[&valid, &suspended], [&suspended, &valid]] {
        let lists: Vec<&str> = order.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            check(&lists, now).unwrap().status,
            "suspended",
            "the newest iat wins"
        );
    }
    // Another issuer's token does not speak for this credential's list.
    let tz = token_at(&app, "/api/v1/status-lists/TZ")
        .await
        .text()
        .await
        .unwrap();
    assert!(matches!(
        check(&[&tz], now),
        Err(MaterialError::MissingStatusList(_))
    ));
    // An expired copy beside a fresh one is passed over, whatever the order.
    let later = now + chrono::Duration::seconds(status_token::LIFETIME_SECS - 5);
    app.clock
        .advance(chrono::Duration::seconds(status_token::LIFETIME_SECS - 5));
    let fresh = token_at(&app, &path).await.text().await.unwrap();
    let graced = Freshness {
        grace: chrono::Duration::hours(1),
        ..Freshness::default()
    };
    let at = later + chrono::Duration::seconds(10);
    for order in [[&valid, &fresh], [&fresh, &valid]] {
        let lists: Vec<&str> = order.iter().map(|s| s.as_str()).collect();
        let verdict = offline::verify(&platform.x, &trust, &lists, &credential, at, graced);
        assert_eq!(
            verdict.unwrap().status,
            "suspended",
            "the fresh copy is used"
        );
    }
    // A token past its exp is refused, even by a verifier that accepts older material.
    let later = now + chrono::Duration::seconds(status_token::LIFETIME_SECS + 1);
    let graced = Freshness {
        grace: chrono::Duration::hours(1),
        ..Freshness::default()
    };
    assert_eq!(
        offline::verify(
            &platform.x,
            &trust,
            &[&suspended],
            &credential,
            later,
            graced
        ),
        Err(MaterialError::Stale("the status list"))
    );
}

#[tokio::test]
async fn the_offline_cli_says_in_one_line_why_a_card_is_not_valid() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let held = issue_card(&app, &official, 4).await;
    let credential = credential(&app, &held).await;
    let platform = talentcard::credentials::platform_key::PlatformKey::from_settings(
        &crate::helpers::test_settings(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let key = file("platform.jwk", &platform.jwk().to_string());
    let trust = file(
        "trust.jws",
        &app.get("/api/v1/trust-list.jws")
            .await
            .text()
            .await
            .unwrap(),
    );
    let xa = file(
        "xa.jwt",
        &token_at(&app, "/api/v1/status-lists/XA")
            .await
            .text()
            .await
            .unwrap(),
    );
    let tz = file(
        "tz.jwt",
        &token_at(&app, "/api/v1/status-lists/TZ")
            .await
            .text()
            .await
            .unwrap(),
    );
    let run = |list: &std::path::Path, credential: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_talentcard"))
            .arg("verify")
            .arg("--platform-key")
            .arg(&key)
            .arg("--trust-list")
            .arg(&trust)
            .arg("--status-list")
            .arg(list)
            .arg(credential)
            .output()
            .unwrap()
    };
    let valid = run(&xa, &credential);
    assert_eq!(
        valid.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&valid.stderr)
    );
    // One character of the signature changed.
    let mut tampered = credential.clone().into_bytes();
    let at = tampered.iter().rposition(|b| *b == b'.').unwrap() + 8;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (list, credential, why) in [
        (&xa, tampered.as_str(), "signature"),
        (&tz, credential.as_str(), "no status list XA"),
    ] {
        let output = run(list, credential);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(1), "{why}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("not valid: ") && stderr.contains(why),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn offline_a_retired_key_speaks_only_for_lists_it_signed_while_active() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let held = issue_card(&app, &official, 5).await;
    let credential = credential(&app, &held).await;
    let (_, path) = status_uri(&credential);
    let old = crate::trust::active_kid(&app, "XA").await;
    let der = crate::trust::stolen_der(&app, &old).await;
    app.post_json(
        "/api/v1/admin/issuers/XA/keys/rotate",
        &json!({}),
        Some(&admin.access),
    )
    .await;
    let suspend = format!("/api/v1/cards/{}/suspend", held.id());
    let body = json!({ "reason_code": "under_investigation" });
    app.post_json(&suspend, &body, Some(&official.access)).await;
    let genuine = token_at(&app, &path).await.text().await.unwrap();
    // The retired key, stolen, forges a newer all-valid list after its retirement.
    let now = app.clock.now();
    let lst = status_list::encode(&status_list::empty());
    let claims = status_token::claims(
        app.settings
            .application
            .public_base_url
            .trim_end_matches('/'),
        "XA",
        0,
        lst,
        now + chrono::Duration::seconds(2),
        300,
    );
    let forged = status_token::sign(&claims, &old, &der).unwrap();
    let (platform, trust) = crate::trust::pinned(&app).await;
    assert!(trust.len() > 10);
    let check = |lists: &[&str]| {
        offline::verify(
            &platform.x,
            &trust,
            lists,
            &credential,
            now,
            Freshness::default(),
        )
    };
    assert!(matches!(
        check(&[&forged]),
        Err(MaterialError::MissingStatusList(_))
    ));
    assert_eq!(check(&[&forged, &genuine]).unwrap().status, "suspended");
}
