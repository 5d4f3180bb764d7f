//! Cards as credentials: round trip through a second Ed25519 implementation, rotation, status
//! lists, lifecycle refusals and caching of the trust material.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use talentcard::clock::Clock;
use talentcard::credentials::{status_list, token};

use crate::helpers::{TestApp, problem, spawn_app};
use crate::users::TestUser;

/// Verifies the JWS with Python's `cryptography` (OpenSSL): a different implementation from the
/// Rust signer.
fn python_verifies(jws: &str, x: &str) -> bool {
    let script = r#"
import sys, base64
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
def b64(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
h, p, s = sys.argv[1].split('.')
try:
    Ed25519PublicKey.from_public_bytes(b64(sys.argv[2])).verify(b64(s), (h + '.' + p).encode())
    print('valid')
except Exception:
    print('invalid')
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(jws)
        .arg(x)
        .output()
        .expect("python3 with cryptography");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim() == "valid"
}

fn fresh(max_age: chrono::Duration) -> talentcard::credentials::offline::Freshness {
    talentcard::credentials::offline::Freshness::strict(max_age)
}

/// A card and its holder.
pub struct Issued {
    pub card: Value,
    pub talent: TestUser,
}

impl Issued {
    pub fn id(&self) -> &str {
        self.card["id"].as_str().unwrap()
    }

    pub fn number(&self) -> &str {
        self.card["number"].as_str().unwrap()
    }
}

/// A fresh XIONGAN card (tier B) issued by the XA `official` to a new talent.
pub async fn issue_card(app: &TestApp, official: &TestUser, n: u32) -> Issued {
    let talent = app.talent(&format!("holder{n}@example.cn")).await;
    app.put_profile(&talent, 100 + n).await;
    let id = app.submitted(&talent, 40).await;
    let decided: Value = app
        .decide(official, &id, json!({ "decision": "approve", "tier": "B" }))
        .await
        .json()
        .await
        .unwrap();
    Issued {
        card: decided["card"].clone(),
        talent,
    }
}

/// The holder's credential with `query` (`""`, or `?disclose=holder_name`).
async fn credential_with(app: &TestApp, issued: &Issued, query: &str) -> String {
    let path = format!("/api/v1/cards/{}/credential{query}", issued.id());
    let body: Value = app
        .get_as(&path, &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["format"], "dc+sd-jwt");
    body["credential"].as_str().unwrap().to_owned()
}

/// The holder's credential as the QR code carries it (no name).
pub async fn credential(app: &TestApp, issued: &Issued) -> String {
    credential_with(app, issued, "").await
}

/// The credential with the holder's name disclosed (`?disclose=holder_name`).
async fn credential_disclosing(app: &TestApp, issued: &Issued) -> String {
    credential_with(app, issued, "?disclose=holder_name").await
}

/// The keys the trust list publishes for `issuer`.
pub async fn published_keys(app: &TestApp, issuer: &str) -> Vec<Value> {
    let list: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let found = list["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == issuer)
        .unwrap();
    found["keys"].as_array().unwrap().clone()
}

/// Every published key as (kid, issuer, x), with what the trust list says it may vouch for.
async fn trust_keys(app: &TestApp) -> Vec<(String, String, String, token::KeyInfo)> {
    let list: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let schemes = list["schemes"].as_array().unwrap().clone();
    let time = |v: &Value| {
        v.as_str()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp())
    };
    list["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            let code = i["code"].as_str().unwrap().to_owned();
            let schemes: Vec<token::SchemeType> = schemes
                .iter()
                .filter(|s| s["issuers"].as_array().unwrap().contains(&json!(code)))
                .map(|s| token::SchemeType {
                    code: s["code"].as_str().unwrap().to_owned(),
                    vct: s["vct"].as_str().unwrap().to_owned(),
                })
                .collect();
            let issuer_url = i["issuer_url"].as_str().unwrap().to_owned();
            i["keys"].as_array().unwrap().iter().map(move |k| {
                let x = k["jwk"]["x"].as_str().unwrap().to_owned();
                let info = token::KeyInfo {
                    issuer: code.clone(),
                    issuer_url: issuer_url.clone(),
                    public_key: URL_SAFE_NO_PAD.decode(&x).unwrap().try_into().unwrap(),
                    schemes: schemes.clone(),
                    retired_at: time(&k["retired_at"]).filter(|_| k["status"] == "retired"),
                    not_after: time(&k["not_after"]),
                };
                (k["kid"].as_str().unwrap().to_owned(), code.clone(), x, info)
            })
        })
        .collect()
}

fn verify(
    token: &str,
    keys: &[(String, String, String, token::KeyInfo)],
    app: &TestApp,
) -> Result<token::Verified, token::CredentialError> {
    let lookup = |kid: &str| {
        keys.iter()
            .find(|(k, _, _, _)| k == kid)
            .map(|(_, _, _, info)| info.clone())
    };
    token::verify(token, lookup, app.clock.now())
}

/// The `kid` in a credential's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token.split('~').next().unwrap())
        .unwrap()
        .kid
        .unwrap()
}

#[tokio::test]
async fn a_credential_verifies_against_the_trust_list_with_a_second_implementation() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 1).await;
    let token = credential(&app, &issued).await;
    let keys = trust_keys(&app).await;
    let verified = verify(&token, &keys, &app).unwrap();
    assert_eq!(
        verified.claims.card_number,
        issued.card["number"].as_str().unwrap()
    );
    assert_eq!(verified.claims.tier, "B");
    assert_eq!(verified.holder_name, None, "no name unless asked for");
    let disclosed = credential_disclosing(&app, &issued).await;
    let named = verify(&disclosed, &keys, &app).unwrap();
    assert_eq!(named.holder_name.as_deref(), Some("测试 Talent"));
    assert!(
        verified
            .claims
            .status
            .status_list
            .uri
            .ends_with("/api/v1/status-lists/XA")
    );

    let jws = token.split('~').next().unwrap();
    let x = &keys
        .iter()
        .find(|(k, _, _, _)| *k == verified.kid)
        .unwrap()
        .2;
    assert!(python_verifies(jws, x), "OpenSSL accepts what we signed");
    let parts: Vec<&str> = jws.split('.').collect();
    let flip = |s: &str, at: usize| {
        let mut bytes = s.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let bad_payload = format!("{}.{}.{}", parts[0], flip(parts[1], 10), parts[2]);
    let bad_signature = format!("{}.{}.{}", parts[0], parts[1], flip(parts[2], 5));
    for tampered in [&bad_payload, &bad_signature] {
        assert!(!python_verifies(tampered, x));
        assert!(verify(&format!("{tampered}~"), &keys, &app).is_err());
    }
    // Nothing personal beyond the disclosable name.
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert!(
        !payload.contains("测试") && !payload.contains("11010519850101"),
        "{payload}"
    );
}

#[tokio::test]
async fn rotation_keeps_old_cards_verifiable_and_signs_new_ones_with_the_new_key() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let before = issue_card(&app, &official, 2).await;
    let old_token = credential(&app, &before).await;
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
    assert_eq!(rotated["retired"].as_str().unwrap(), kid_of(&old_token));
    let after = issue_card(&app, &official, 3).await;
    let new_token = credential(&app, &after).await;
    assert_eq!(kid_of(&new_token), rotated["kid"].as_str().unwrap());
    let keys = trust_keys(&app).await;
    assert!(
        verify(&old_token, &keys, &app).is_ok(),
        "the retired key stays published"
    );
    assert!(verify(&new_token, &keys, &app).is_ok());
    assert!(
        verify(&credential(&app, &before).await, &keys, &app).is_ok(),
        "an old card keeps its key"
    );
    let xa = published_keys(&app, "XA").await;
    let statuses: Vec<&str> = xa.iter().map(|k| k["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["retired", "active"]);
    problem(
        app.post_json(
            "/api/v1/admin/issuers/NOPE/keys/rotate",
            &json!({}),
            Some(&admin.access),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

pub async fn list_entry(app: &TestApp, index: usize) -> u8 {
    // A list takes at most one stamp a second: a change shows from the next second.
    app.clock.advance(chrono::Duration::seconds(1));
    let list: Value = app
        .get("/api/v1/status-lists/XA")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["bits"], 2);
    let bits = status_list::decode(list["lst"].as_str().unwrap()).unwrap();
    assert_eq!(bits.len(), status_list::BYTES);
    status_list::get(&bits, index)
}

#[tokio::test]
async fn the_lifecycle_shows_in_the_status_list_and_revoked_is_final() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let issued = issue_card(&app, &official, 4).await;
    let id = issued.card["id"].as_str().unwrap().to_owned();
    let token = credential(&app, &issued).await;
    let index = verify(&token, &trust_keys(&app).await, &app)
        .unwrap()
        .claims
        .status
        .status_list
        .idx as usize;
    assert_eq!(list_entry(&app, index).await, 0);

    let app = &app;
    let act = |who: &TestUser, action: &str, body: Value| {
        let path = format!("/api/v1/cards/{id}/{action}");
        let token = who.access.clone();
        async move { app.post_json(&path, &body, Some(&token)).await }
    };
    problem(
        act(
            &tz,
            "suspend",
            json!({ "reason_code": "under_investigation" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    problem(
        act(
            &issued.talent,
            "suspend",
            json!({ "reason_code": "under_investigation" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let suspended: Value = act(
        &official,
        "suspend",
        json!({ "reason_code": "under_investigation" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(list_entry(app, index).await, 2);
    problem(
        act(&official, "suspend", json!({ "reason_code": "other" })).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        act(&official, "resume", json!({})).await.status().as_u16(),
        200
    );
    assert_eq!(list_entry(app, index).await, 0);
    let revoked: Value = act(
        &official,
        "revoke",
        json!({ "reason_code": "loss_of_eligibility", "comment": "left employer" }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["status_reason"], "loss_of_eligibility");
    assert_eq!(list_entry(app, index).await, 1);
    for action in ["resume", "suspend", "revoke"] {
        problem(
            act(&official, action, json!({ "reason_code": "other" })).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    problem(
        act(&official, "revoke", json!({ "reason_code": "bored" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(list_entry(app, index).await, 1);
    let path = format!("/api/v1/cards/{id}/credential");
    problem(
        app.get_as(&path, &issued.talent.access).await,
        409,
        "conflict",
    )
    .await;
    let holder_view: Value = app
        .get_as(&format!("/api/v1/cards/{id}"), &issued.talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(holder_view["status"], "revoked");
    assert_eq!(holder_view["holder"]["full_name"], "测试 Talent");
}

#[tokio::test]
async fn cards_are_private_and_trust_material_is_cacheable() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let tz = app.staff("tz@example.cn", "official", Some("TZ")).await;
    let issued = issue_card(&app, &official, 5).await;
    let stranger = app.talent("stranger@example.cn").await;
    let id = issued.card["id"].as_str().unwrap();
    for user in [&stranger, &tz] {
        problem(
            app.get_as(&format!("/api/v1/cards/{id}"), &user.access)
                .await,
            404,
            "not_found",
        )
        .await;
    }
    problem(
        app.get_as(&format!("/api/v1/cards/{id}/credential"), &stranger.access)
            .await,
        404,
        "not_found",
    )
    .await;
    let own: Vec<Value> = app.items("/api/v1/cards", &issued.talent.access).await;
    assert_eq!(own.len(), 1);
    let theirs: Vec<Value> = app.items("/api/v1/cards", &tz.access).await;
    assert!(theirs.is_empty());
    assert_eq!(
        app.get_as(&format!("/api/v1/cards/{id}"), &official.access)
            .await
            .status()
            .as_u16(),
        200
    );

    for path in ["/api/v1/trust-list", "/api/v1/status-lists/XA"] {
        let first = app.get(path).await;
        assert_eq!(first.status().as_u16(), 200);
        assert!(
            first.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = app
            .client
            .get(format!("{}{path}", app.address))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }
    problem(app.get("/api/v1/status-lists/NOPE").await, 404, "not_found").await;
}

/// Decodes a greyscale PNG QR code with rqrr.
fn read_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn the_qr_code_reads_back_exactly_as_the_credential() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 6).await;
    let token = credential(&app, &issued).await;
    assert_eq!(
        token,
        credential(&app, &issued).await,
        "the same card always yields the same credential"
    );
    let id = issued.card["id"].as_str().unwrap();
    let png = app
        .get_as(&format!("/api/v1/cards/{id}/qr.png"), &issued.talent.access)
        .await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(read_qr(&png.bytes().await.unwrap()), token);
    let code = talentcard::credentials::qr::encode(&token).unwrap();
    eprintln!(
        "credential: {} bytes; QR version {} at error-correction level M ({} modules a side)",
        token.len(),
        talentcard::credentials::qr::version(&code),
        code.width()
    );
    let svg = app
        .get_as(&format!("/api/v1/cards/{id}/qr.svg"), &issued.talent.access)
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<?xml"));
    let face = app
        .get_as(
            &format!("/api/v1/cards/{id}/card.svg"),
            &issued.talent.access,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        face.contains(issued.card["number"].as_str().unwrap()) && face.contains("测试 Talent"),
        "{face}"
    );
    // Names where a person expects them, in Chinese and English, as the reference tables hold
    // them (config/reference/*.toml and config/schemes/), not the codes XIONGAN, XA, xiongan.
    for name in [
        "雄才卡",
        "Xiong'an Talent Card",
        "雄安新区人才服务中心",
        "Xiong'an Talent Service Centre",
        "雄安新区",
        ">Xiong'an<",
        "Tier ",
        "类 雄才卡",
    ] {
        assert!(face.contains(name), "{name} missing from {face}");
    }
    for code in [">XIONGAN<", "Issued by XA<", ">xiongan<"] {
        assert!(!face.contains(code), "{code} on the face: {face}");
    }
    assert!(
        face.contains("font-family=\"'Noto Sans CJK SC', 'Source Han Sans SC'"),
        "a CJK font fallback is declared: {face}"
    );
}

#[tokio::test]
async fn the_offline_verifier_checks_signatures_status_and_the_age_of_its_material() {
    use talentcard::credentials::{offline, signed};
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 7).await;
    let token = credential(&app, &issued).await;
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
    app.clock.advance(chrono::Duration::seconds(1));
    let status = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let now = app.clock.now();
    let day = chrono::Duration::days(1);
    let verdict =
        offline::verify(&platform.x, &trust, &[&status], &token, now, fresh(day)).unwrap();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(
        verdict.card_number.as_deref(),
        issued.card["number"].as_str()
    );
    assert_eq!(verdict.holder_name, None);
    let disclosed = credential_disclosing(&app, &issued).await;
    let named = offline::verify(&platform.x, &trust, &[&status], &disclosed, now, fresh(day));
    assert_eq!(named.unwrap().holder_name.as_deref(), Some("测试 Talent"));

    let stale = offline::verify(
        &platform.x,
        &trust,
        &[&status],
        &token,
        now + chrono::Duration::days(2),
        fresh(day),
    );
    assert_eq!(stale, Err(offline::MaterialError::Stale("the trust list")));
    let forged = token.replacen('.', ".x", 1);
    assert_eq!(
        offline::verify(&platform.x, &trust, &[&status], &forged, now, fresh(day))
            .unwrap()
            .status,
        "untrusted"
    );
    assert!(matches!(
        offline::verify(&platform.x, &trust, &[], &token, now, fresh(day)),
        Err(offline::MaterialError::MissingStatusList(_))
    ));
    // Unsigned or otherwise-signed material is not believed.
    let plain = app.get("/api/v1/trust-list").await.text().await.unwrap();
    assert_eq!(
        offline::verify(&platform.x, &plain, &[&status], &token, now, fresh(day)),
        Err(offline::MaterialError::Unsigned("the trust list"))
    );
    let other = talentcard::credentials::platform_key::PlatformKey::from_settings(&{
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        talentcard::configuration::Settings::load_from(
            &dir,
            talentcard::configuration::Environment::Local,
        )
        .unwrap()
    })
    .unwrap();
    assert!(offline::verify(&other.x, &trust, &[&status], &token, now, fresh(day)).is_err());
    // A signed list dated tomorrow, or with a truncated lst, is refused.
    let mut future: Value = app
        .get("/api/v1/status-lists/XA")
        .await
        .json()
        .await
        .unwrap();
    future["issued_at"] = json!(now + day);
    let future = signed::sign(
        &future,
        signed::STATUS_LIST_TYP,
        &platform.kid,
        &platform.der,
    )
    .unwrap();
    assert_eq!(
        offline::verify(&platform.x, &trust, &[&future], &token, now, fresh(day)),
        Err(offline::MaterialError::FromTheFuture("the status list"))
    );
    let mut short: Value = app
        .get("/api/v1/status-lists/XA")
        .await
        .json()
        .await
        .unwrap();
    short["lst"] = json!(status_list::encode(&[]));
    let short = signed::sign(
        &short,
        signed::STATUS_LIST_TYP,
        &platform.kid,
        &platform.der,
    )
    .unwrap();
    assert_eq!(
        offline::verify(&platform.x, &trust, &[&short], &token, now, fresh(day)),
        Err(offline::MaterialError::Malformed("the status list"))
    );

    let id = issued.card["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/cards/{id}/suspend"),
        &json!({ "reason_code": "under_investigation" }),
        Some(&official.access),
    )
    .await;
    app.clock.advance(chrono::Duration::seconds(1));
    let status = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let suspended =
        offline::verify(&platform.x, &trust, &[&status], &token, now, fresh(day)).unwrap();
    assert_eq!(
        (suspended.valid, suspended.status.as_str()),
        (false, "suspended")
    );
    // The prepared verifier says the same of the service's own material.
    let verifier = offline::Verifier::new(&platform.x, &trust, &[&status], fresh(day)).unwrap();
    assert_eq!(verifier.verify(&token, now), Ok(suspended));

    // The same through the command line, as a partner would run it.
    let dir = tempfile::tempdir().unwrap();
    let (key_file, trust_file, status_file) = (
        dir.path().join("platform.jwk"),
        dir.path().join("trust.jws"),
        dir.path().join("xa.jws"),
    );
    std::fs::write(&key_file, platform.jwk().to_string()).unwrap();
    std::fs::write(&trust_file, &trust).unwrap();
    std::fs::write(&status_file, &status).unwrap();
    let run = |credential: &str| {
        Command::new(env!("CARGO_BIN_EXE_talentcard"))
            .arg("verify")
            .arg("--platform-key")
            .arg(&key_file)
            .arg("--trust-list")
            .arg(&trust_file)
            .arg("--status-list")
            .arg(&status_file)
            .arg(credential)
            .output()
            .unwrap()
    };
    let output = run(&token);
    assert_eq!(output.status.code(), Some(1), "suspended: not valid");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["status"], "suspended");
    app.post_json(
        &format!("/api/v1/cards/{id}/resume"),
        &json!({}),
        Some(&official.access),
    )
    .await;
    app.clock.advance(chrono::Duration::seconds(1));
    std::fs::write(
        &status_file,
        app.get("/api/v1/status-lists/XA.jws")
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        run(&token).status.code(),
        Some(0),
        "valid again after resumption"
    );
    // Several credentials against the material loaded once: one compact verdict a line, in
    // order; exit 1 as soon as one is not valid, naming which.
    let several = |credentials: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_talentcard"))
            .arg("verify")
            .arg("--platform-key")
            .arg(&key_file)
            .arg("--trust-list")
            .arg(&trust_file)
            .arg("--status-list")
            .arg(&status_file)
            .args(credentials)
            .output()
            .unwrap()
    };
    let both = several(&[&token, &token]);
    assert_eq!(both.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&both.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|v| v["valid"] == true));
    let mixed = several(&[&token, "not.a.credential~"]);
    assert_eq!(mixed.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&mixed.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        (lines[0]["valid"].clone(), lines[1]["status"].clone()),
        (json!(true), json!("untrusted"))
    );
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("(credential 2)"));
    std::fs::write(&trust_file, &plain).unwrap();
    assert_eq!(
        run(&token).status.code(),
        Some(2),
        "an unsigned trust list is refused"
    );
}

#[tokio::test]
async fn a_compromised_key_leaves_the_trust_list_at_once() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let issued = issue_card(&app, &official, 8).await;
    let before = credential(&app, &issued).await;
    let rotated: Value = app
        .post_json(
            "/api/v1/admin/issuers/XA/keys/rotate?compromised=true",
            &json!({}),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let keys = trust_keys(&app).await;
    assert!(
        keys.iter().all(|(kid, _, _, _)| *kid != kid_of(&before)),
        "withdrawn at once"
    );
    assert!(
        verify(&before, &keys, &app).is_err(),
        "credentials under the compromised key stop verifying"
    );
    let after = credential(&app, &issued).await;
    assert_eq!(
        kid_of(&after),
        rotated["kid"].as_str().unwrap(),
        "the holder gets one under the new key"
    );
    assert!(verify(&after, &keys, &app).is_ok());
}

#[tokio::test]
async fn an_upgrade_supersedes_the_card_it_replaces() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let talent = app.talent("upgrade@example.cn").await;
    app.put_profile(&talent, 200).await;
    let first = app.submitted(&talent, 40).await;
    let approved: Value = app
        .decide(
            &official,
            &first,
            json!({ "decision": "approve", "tier": "C", "comment": "evidence for B pending" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let old_card = approved["card"]["id"].as_str().unwrap().to_owned();
    let other = app.talent("other@example.cn").await;
    let stolen = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": old_card });
    let refused = problem(
        app.send("POST", "/api/v1/applications", &other.access, Some(&stolen))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "replaces_card");

    let upgrade = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": old_card });
    let created: Value = app
        .send(
            "POST",
            "/api/v1/applications",
            &talent.access,
            Some(&upgrade),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["replaces_card"], old_card.as_str());
    let id = created["id"].as_str().unwrap();
    app.send(
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        &talent.access,
        None,
    )
    .await;
    let decided: Value = app
        .decide(&official, id, json!({ "decision": "approve", "tier": "B" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["card"]["tier"], "B");
    let old: Value = app
        .get_as(&format!("/api/v1/cards/{old_card}"), &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (old["status"].as_str(), old["status_reason"].as_str()),
        (Some("revoked"), Some("superseded"))
    );
    let cards: Vec<Value> = app.items("/api/v1/cards", &talent.access).await;
    assert_eq!(cards.len(), 2);
    // A page at a time, newest first: the upgrade, then the card it replaced.
    let first: Value = app
        .get_as("/api/v1/cards?limit=1", &talent.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0], cards[0]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_as(
            &format!("/api/v1/cards?limit=1&cursor={cursor}"),
            &talent.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0], cards[1]);
    assert!(second["next_cursor"].is_null());
    let again = json!({ "scheme": "XIONGAN", "issuer": "XA", "facts": crate::schemes::doctorate(40), "replaces_card": old_card });
    problem(
        app.send("POST", "/api/v1/applications", &talent.access, Some(&again))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_signed_trust_list_verifies_with_the_platform_key() {
    let app = spawn_app().await;
    let jws = app.get("/api/v1/trust-list.jws").await;
    assert_eq!(jws.headers()["content-type"], "application/jwt");
    let jws = jws.text().await.unwrap();
    let key = talentcard::credentials::platform_key::PlatformKey::from_settings(
        &crate::helpers::test_settings(),
    )
    .unwrap();
    assert!(
        python_verifies(&jws, &key.x),
        "OpenSSL verifies the platform's signature"
    );
    let header = jsonwebtoken::decode_header(&jws).unwrap();
    assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
    assert_eq!(header.typ.as_deref(), Some("tl+jwt"));
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jws.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let mut plain: Value = app.get("/api/v1/trust-list").await.json().await.unwrap();
    let mut payload = payload;
    // The two requests may straddle the five-minute window the issue time is rounded to.
    for list in [&mut payload, &mut plain] {
        list.as_object_mut().unwrap().remove("issued_at");
    }
    assert_eq!(payload, plain, "the same list, signed");
    let other = talentcard::credentials::platform_key::PlatformKey::from_settings(&{
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        talentcard::configuration::Settings::load_from(
            &dir,
            talentcard::configuration::Environment::Local,
        )
        .unwrap()
    })
    .unwrap();
    assert!(
        !python_verifies(&jws, &other.x),
        "another platform key does not verify it"
    );
}

#[tokio::test]
async fn a_card_in_an_issuers_second_list_is_named_and_checked_there() {
    use diesel_async::RunQueryDsl;
    use talentcard::credentials::offline;
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 9).await;
    let id = issued.card["id"].as_str().unwrap();
    // As if XA had issued more than one list's worth: the card sits at entry 5 of list 1.
    let mut conn = app.connect().await;
    diesel::sql_query(
        "INSERT INTO status_lists (issuer, list_no, bits, updated_at) \
         SELECT issuer, 1, bits, now() FROM status_lists WHERE issuer = 'XA' AND list_no = 0",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let index = status_list::ENTRIES + 5;
    diesel::sql_query(format!(
        "UPDATE cards SET status_index = {index} WHERE id = '{id}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let token = credential(&app, &issued).await;
    let verified = verify(&token, &trust_keys(&app).await, &app).unwrap();
    let claim = &verified.claims.status.status_list;
    assert!(
        claim.uri.ends_with("/api/v1/status-lists/XA-1"),
        "{}",
        claim.uri
    );
    assert_eq!(claim.idx, 5);

    app.post_json(
        &format!("/api/v1/cards/{id}/suspend"),
        &json!({ "reason_code": "under_investigation" }),
        Some(&official.access),
    )
    .await;
    let second: Value = app
        .get("/api/v1/status-lists/XA-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (second["issuer"].as_str(), second["list"].as_str()),
        (Some("XA"), Some("XA-1"))
    );
    let bits = status_list::decode(second["lst"].as_str().unwrap()).unwrap();
    assert_eq!(status_list::get(&bits, 5), 2, "suspended in list 1");
    assert_eq!(list_entry(&app, 5).await, 0, "list 0 is untouched");

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
    let first = app
        .get("/api/v1/status-lists/XA.jws")
        .await
        .text()
        .await
        .unwrap();
    let second = app
        .get("/api/v1/status-lists/XA-1.jws")
        .await
        .text()
        .await
        .unwrap();
    let (now, day) = (app.clock.now(), chrono::Duration::days(1));
    let verdict = offline::verify(
        &platform.x,
        &trust,
        &[&first, &second],
        &token,
        now,
        fresh(day),
    )
    .unwrap();
    assert_eq!(
        (verdict.valid, verdict.status.as_str()),
        (false, "suspended")
    );
    assert_eq!(
        offline::verify(&platform.x, &trust, &[&first], &token, now, fresh(day)),
        Err(offline::MaterialError::MissingStatusList("XA-1".into())),
        "list 0 says nothing about a card in list 1"
    );
    for missing in ["XA-2", "XA-01", "XA-0", "xa", "XA-1-1"] {
        problem(
            app.get(&format!("/api/v1/status-lists/{missing}")).await,
            404,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn an_instance_serves_its_copy_of_a_status_list_until_the_refresh_interval_passes() {
    let app = crate::helpers::spawn_app_with(|s| s.partners.status_list_refresh_ms = 1_500).await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let issued = issue_card(&app, &official, 11).await;
    let index = {
        let token = credential(&app, &issued).await;
        let verified = verify(&token, &trust_keys(&app).await, &app).unwrap();
        usize::try_from(verified.claims.status.status_list.idx).unwrap()
    };
    assert_eq!(list_entry(&app, index).await, 0);
    let id = issued.card["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/cards/{id}/suspend"),
        &json!({ "reason_code": "under_investigation" }),
        Some(&official.access),
    )
    .await;
    assert_eq!(list_entry(&app, index).await, 0, "the copy in memory");
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert_eq!(
        list_entry(&app, index).await,
        2,
        "checked again after the interval"
    );
}

#[tokio::test]
async fn an_issuer_whose_list_is_full_opens_the_next_one() {
    use diesel_async::RunQueryDsl;
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    // Every entry of XA's first list taken, by rows that hold nothing but an index (the
    // foreign keys are skipped for them on this connection).
    let mut conn = app.connect().await;
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO cards (id, number, application_id, holder_id, scheme, issuer, tier, \
         status, valid_from, valid_until, issued_at, status_index, name_masked) \
         SELECT gen_random_uuid(), 'FILL-' || g, gen_random_uuid(), gen_random_uuid(), \
         'XIONGAN', 'XA', 'B', 'active', current_date, current_date + 1, now(), g, '*' \
         FROM generate_series(0, {}) g",
        status_list::ENTRIES - 1
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    problem(app.get("/api/v1/status-lists/XA-1").await, 404, "not_found").await;

    let issued = issue_card(&app, &official, 13).await;
    let token = credential(&app, &issued).await;
    let verified = verify(&token, &trust_keys(&app).await, &app).unwrap();
    assert!(
        verified
            .claims
            .status
            .status_list
            .uri
            .ends_with("/api/v1/status-lists/XA-1"),
        "{}",
        verified.claims.status.status_list.uri
    );
    let second: Value = app
        .get("/api/v1/status-lists/XA-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["list"], "XA-1");
}

/// One rule for an official's comment everywhere: trimmed, at most 2,000 printable characters
/// (newlines allowed), refused (422, nothing written) rather than cut or cleaned.
#[tokio::test]
async fn comments_follow_one_rule_and_are_never_cut() {
    let app = spawn_app().await;
    let official = app.staff("xa@example.cn", "official", Some("XA")).await;
    let admin = app.staff("root@example.cn", "admin", None).await;
    let issued = issue_card(&app, &official, 21).await;
    let suspend = format!("/api/v1/cards/{}/suspend", issued.id());
    let kid = crate::trust::active_kid(&app, "TZ").await;
    let compromise = format!("/api/v1/admin/issuers/TZ/keys/{kid}/compromise");
    for bad in ["a\u{1b}[31mred", "tab\there", &"字".repeat(2001)] {
        let body = json!({ "reason_code": "under_investigation", "comment": bad });
        let refused = problem(
            app.post_json(&suspend, &body, Some(&official.access)).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], "comment");
        let body = json!({ "comment": bad });
        problem(
            app.post_json(&compromise, &body, Some(&admin.access)).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let card: Value = app
        .get_as(&format!("/api/v1/cards/{}", issued.id()), &official.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["status"], "active", "nothing written");
    assert_eq!(crate::trust::active_kid(&app, "TZ").await, kid);
    // A long comment with a newline is kept whole.
    let long = format!("{}\n{}", "证".repeat(600), "明".repeat(600));
    let body = json!({ "reason_code": "under_investigation", "comment": long });
    let response = app.post_json(&suspend, &body, Some(&official.access)).await;
    assert_eq!(response.status().as_u16(), 200);
    let audit: Value = app
        .get_as(
            &format!(
                "/api/v1/admin/audit?action=card.suspended&entity_id={}",
                issued.id()
            ),
            &admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["detail"]["comment"], json!(long));
}

/// A credential verified against the trust list (for other modules' tests).
pub async fn verify_credential(app: &TestApp, credential: &str) -> token::Verified {
    let keys = trust_keys(app).await;
    verify(credential, &keys, app).unwrap()
}
