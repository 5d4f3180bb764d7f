//! The prepared [`Verifier`] against [`verify`] and [`verify_presentation`], the reference:
//! the same verdicts and the same refusals of the material, case by case (valid, tampered,
//! another issuer's key, revoked, suspended, expired, stale, ambiguous, retired keys,
//! key-binding) and over random damage to a token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step should fail the test loudly"
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use super::*;
use crate::credentials::key_binding::Ed25519Wallet;
use crate::credentials::{signed, status_list, status_token, token};
use crate::domain::card_number;

const BASE: &str = "https://cards.example";

/// A platform, two issuers (XA, TZ) with one key each, and the time everything is made at.
struct World {
    platform: SigningKey,
    xa: SigningKey,
    tz: SigningKey,
    now: DateTime<Utc>,
}

fn der(key: &SigningKey) -> Vec<u8> {
    key.to_pkcs8_der().unwrap().as_bytes().to_vec()
}

fn x(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes())
}

impl World {
    fn new() -> Self {
        World {
            platform: SigningKey::from_bytes(&[1; 32]),
            xa: SigningKey::from_bytes(&[2; 32]),
            tz: SigningKey::from_bytes(&[3; 32]),
            now: DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap(),
        }
    }

    fn platform_x(&self) -> String {
        x(&self.platform)
    }

    /// The trust list as JSON, for a test to edit before [`World::sign_trust`].
    fn trust_json(&self) -> Value {
        let issuer = |code: &str, key: &SigningKey| {
            json!({ "code": code, "issuer_url": token::issuer_url(BASE, code), "keys": [
                { "kid": format!("{code}-1"), "status": "active",
                  "jwk": { "kty": "OKP", "crv": "Ed25519", "x": x(key) } } ] })
        };
        json!({ "issued_at": self.now, "issuers": [issuer("XA", &self.xa), issuer("TZ", &self.tz)],
                "schemes": [
                    { "code": "XIONGAN", "vct": token::vct_url(BASE, "XIONGAN"), "issuers": ["XA"] },
                    { "code": "TWL", "vct": token::vct_url(BASE, "TWL"), "issuers": ["TZ"] } ] })
    }

    fn sign_trust(&self, trust: &Value) -> String {
        signed::sign(
            trust,
            signed::TRUST_LIST_TYP,
            "platform",
            &der(&self.platform),
        )
        .unwrap()
    }

    fn trust(&self) -> String {
        self.sign_trust(&self.trust_json())
    }

    /// XA's first list, platform-signed, with `entries` set.
    fn list(
        &self,
        issued_at: DateTime<Utc>,
        entries: &[(usize, status_list::ListStatus)],
    ) -> String {
        let mut bits = status_list::empty();
        for (index, status) in entries {
            status_list::set(&mut bits, *index, *status);
        }
        let list = json!({ "issuer": "XA", "list": "XA", "bits": 2,
                           "lst": status_list::encode(&bits), "issued_at": issued_at });
        signed::sign(
            &list,
            signed::STATUS_LIST_TYP,
            "platform",
            &der(&self.platform),
        )
        .unwrap()
    }

    /// XA's first list as a Status List Token signed by `key` named `kid`.
    fn list_token(
        &self,
        issued_at: DateTime<Utc>,
        revoked: Option<usize>,
        key: &SigningKey,
        kid: &str,
    ) -> String {
        let mut bits = status_list::empty();
        if let Some(index) = revoked {
            status_list::set(&mut bits, index, status_list::ListStatus::Revoked);
        }
        let claims =
            status_token::claims(BASE, "XA", 0, status_list::encode(&bits), issued_at, 300);
        status_token::sign(&claims, kid, &der(key)).unwrap()
    }

    fn card(&self) -> token::CardCredential<'static> {
        token::CardCredential {
            card_number: "XA-2026-000001-7",
            scheme: "XIONGAN",
            tier: "B",
            issuer: "XA",
            valid_from: self.now.date_naive(),
            valid_until: self.now.date_naive() + Duration::days(365),
            status_index: 4242,
            status_uri: status_list::uri(BASE, "XA", 0),
            holder_name: "李明",
            salt: "c2FsdHNhbHRzYWx0c2FsdA",
            issued_at: self.now,
            base_url: BASE,
            holder_jwk: None,
        }
    }

    fn issue(
        &self,
        card: &token::CardCredential<'_>,
        key: &SigningKey,
        kid: &str,
    ) -> token::Issued {
        token::issue(card, kid, &der(key)).unwrap()
    }

    fn credential(&self) -> String {
        self.issue(&self.card(), &self.xa, "XA-1")
            .presentation(true)
    }

    /// A JWS over exactly these header and claims bytes, signed by XA's key.
    fn sign_raw(&self, header: &str, claims: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = self.xa.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Both verifiers over the same material; asserts they agree and answers the reference's.
fn both(
    platform_x: &str,
    trust: &str,
    lists: &[&str],
    credential: &str,
    now: DateTime<Utc>,
    freshness: Freshness,
) -> Result<Verdict, MaterialError> {
    let reference = verify(platform_x, trust, lists, credential, now, freshness);
    let prepared = Verifier::new(platform_x, trust, lists, freshness)
        .and_then(|verifier| verifier.verify(credential, now));
    assert_eq!(prepared, reference, "{credential}");
    reference
}

/// [`both`] with the world's trust list, one fresh list and the default freshness.
fn agree(world: &World, credential: &str, at: DateTime<Utc>) -> Result<Verdict, MaterialError> {
    let list = world.list(world.now, &[(4242, status_list::ListStatus::Valid)]);
    both(
        &world.platform_x(),
        &world.trust(),
        &[&list],
        credential,
        at,
        Freshness::default(),
    )
}

#[test]
fn a_valid_credential_gets_the_same_verdict_with_and_without_the_name() {
    let world = World::new();
    let issued = world.issue(&world.card(), &world.xa, "XA-1");
    let named = agree(&world, &issued.presentation(true), world.now).unwrap();
    assert!(named.valid, "{named:?}");
    assert_eq!(named.holder_name.as_deref(), Some("李明"));
    assert_eq!(named.card_number.as_deref(), Some("XA-2026-000001-7"));
    let bare = agree(&world, &issued.presentation(false), world.now).unwrap();
    assert_eq!((bare.valid, bare.holder_name), (true, None));
    assert!(agree(&world, &issued.jws, world.now).unwrap().valid);
}

#[test]
fn revoked_and_suspended_cards_get_the_same_verdict() {
    let world = World::new();
    let credential = world.credential();
    for (status, word) in [
        (status_list::ListStatus::Revoked, "revoked"),
        (status_list::ListStatus::Suspended, "suspended"),
    ] {
        let list = world.list(world.now, &[(4242, status)]);
        let verdict = both(
            &world.platform_x(),
            &world.trust(),
            &[&list],
            &credential,
            world.now,
            Freshness::default(),
        );
        let verdict = verdict.unwrap();
        assert_eq!((verdict.valid, verdict.status.as_str()), (false, word));
        assert_eq!(
            verdict.reason,
            Some(format!("the issuer's status list says {word}"))
        );
    }
}

/// The world's trust list and one XA list (valid everywhere), both stamped `at`.
fn material_at(world: &World, at: DateTime<Utc>) -> (String, String) {
    let mut trust = world.trust_json();
    trust["issued_at"] = json!(at);
    (world.sign_trust(&trust), world.list(at, &[]))
}

#[test]
fn expired_and_not_yet_valid_credentials_get_the_same_verdict() {
    let world = World::new();
    let credential = world.credential();
    for (at, word) in [
        (world.now + Duration::days(400), "expired"),
        (world.now - Duration::days(2), "not_yet_valid"),
    ] {
        let (trust, list) = material_at(&world, at);
        let verdict = both(
            &world.platform_x(),
            &trust,
            &[&list],
            &credential,
            at,
            Freshness::default(),
        );
        assert_eq!(verdict.unwrap().status, word);
    }
}

#[test]
fn tampered_tokens_get_the_same_verdict() {
    let world = World::new();
    let credential = world.credential();
    let flip = |at: usize| {
        let mut bytes = credential.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let dots: Vec<usize> = credential.match_indices('.').map(|(i, _)| i).collect();
    for at in [
        3,
        dots[0] + 5,
        dots[1] - 3,
        dots[1] + 4,
        credential.len() - 3,
    ] {
        let verdict = agree(&world, &flip(at), world.now).unwrap();
        assert_eq!(
            (verdict.valid, verdict.status.as_str()),
            (false, "untrusted"),
            "{at}"
        );
    }
    let jws = credential.split('~').next().unwrap();
    let stray = URL_SAFE_NO_PAD.encode(r#"["c2FsdA","holder_name","王五"]"#);
    let disclosure = credential.split('~').nth(1).unwrap();
    for broken in [
        String::new(),
        "~".into(),
        format!("{jws}~{stray}~"),
        format!("{jws}~{disclosure}~{disclosure}~"),
        format!("{jws}~{disclosure}"),
        format!("{jws}~~"),
        format!("{jws}.x~"),
        format!(" {credential} "),
        jws.replacen('.', "..", 1),
    ] {
        agree(&world, &broken, world.now).unwrap();
    }
}

#[test]
fn another_issuers_key_and_unknown_keys_get_the_same_verdict() {
    let world = World::new();
    // TZ's key signing an XA card, under TZ's kid and under XA's.
    for (key, kid) in [
        (&world.tz, "TZ-1"),
        (&world.tz, "XA-1"),
        (&world.xa, "XA-9"),
    ] {
        let credential = world.issue(&world.card(), key, kid).presentation(false);
        let verdict = agree(&world, &credential, world.now).unwrap();
        assert_eq!(verdict.status, "untrusted", "{kid}");
    }
    // Each forgery signed by TZ's key names something that is not TZ's.
    let tz_number = card_number::format("TZ", 2026, 1);
    let forgeries = [
        ("TZ", "XA-2026-000001-7", "TWL", "TZ"),
        ("TZ", tz_number.as_str(), "XIONGAN", "TZ"),
        ("TZ", tz_number.as_str(), "TWL", "XA"),
        ("TZ", tz_number.as_str(), "TWL", "TZ"),
    ];
    for (issuer, number, scheme, list) in forgeries {
        let card = token::CardCredential {
            card_number: number,
            issuer,
            scheme,
            status_uri: status_list::uri(BASE, list, 0),
            ..world.card()
        };
        let credential = world.issue(&card, &world.tz, "TZ-1").presentation(false);
        let _ = agree(&world, &credential, world.now);
    }
}

#[test]
fn stale_future_missing_and_graced_material_gets_the_same_answer() {
    let world = World::new();
    let credential = world.credential();
    let x = world.platform_x();
    let trust = world.trust();
    let old = world.now - Duration::seconds(DEFAULT_MAX_AGE_SECS + 60);
    let stale_list = world.list(old, &[]);
    let (stale_trust, _) = material_at(&world, old);
    let future = world.list(world.now + Duration::minutes(10), &[]);
    let fresh = world.list(world.now, &[]);
    let graced = Freshness {
        grace: Duration::hours(1),
        ..Freshness::default()
    };
    let strict = Freshness::default();
    let cases: [Case<'_>; 7] = [
        (
            &trust,
            &[&stale_list],
            strict,
            Err(MaterialError::Stale("the status list")),
        ),
        (
            &stale_trust,
            &[&fresh],
            strict,
            Err(MaterialError::Stale("the trust list")),
        ),
        (&trust, &[&stale_list], graced, Ok(true)),
        (&stale_trust, &[&fresh], graced, Ok(true)),
        (
            &trust,
            &[&future],
            strict,
            Err(MaterialError::FromTheFuture("the status list")),
        ),
        (
            &trust,
            &[],
            strict,
            Err(MaterialError::MissingStatusList("XA".into())),
        ),
        (&trust, &[&fresh, &stale_list], strict, Ok(false)),
    ];
    for (trust, lists, freshness, expected) in cases {
        let answer = both(&x, trust, lists, &credential, world.now, freshness);
        assert_eq!(answer.map(|v| v.grace_used), expected);
    }
    // An unsigned trust list, and one under another platform key.
    let plain = URL_SAFE_NO_PAD.encode(world.trust_json().to_string());
    assert_eq!(
        both(&x, &plain, &[&fresh], &credential, world.now, strict),
        Err(MaterialError::Unsigned("the trust list"))
    );
    let other = x_of_seed(9);
    assert!(both(&other, &trust, &[&fresh], &credential, world.now, strict).is_err());
}

/// A trust list, status lists, the freshness asked for, and the answer (`grace_used`).
type Case<'a> = (
    &'a str,
    &'a [&'a str],
    Freshness,
    Result<bool, MaterialError>,
);

fn x_of_seed(seed: u8) -> String {
    x(&SigningKey::from_bytes(&[seed; 32]))
}

#[test]
fn the_newest_copy_wins_and_two_copies_under_one_stamp_are_ambiguous() {
    let world = World::new();
    let credential = world.credential();
    let earlier = world.now - Duration::seconds(30);
    let valid = world.list(earlier, &[]);
    let revoked = world.list(world.now, &[(4242, status_list::ListStatus::Revoked)]);
    let suspended = world.list(world.now, &[(4242, status_list::ListStatus::Suspended)]);
    let token = world.list_token(world.now, Some(4242), &world.xa, "XA-1");
    let old_token = world.list_token(earlier, None, &world.xa, "XA-1");
    let tz_token = world.list_token(world.now, None, &world.tz, "TZ-1");
    let (x, trust) = (world.platform_x(), world.trust());
    let check = |lists: &[&str]| {
        both(
            &x,
            &trust,
            lists,
            &credential,
            world.now,
            Freshness::default(),
        )
        .map(|v| v.status)
    };
    assert_eq!(check(&[&valid, &revoked]), Ok("revoked".into()));
    assert_eq!(check(&[&revoked, &valid]), Ok("revoked".into()));
    assert_eq!(check(&[&revoked, &token, &valid]), Ok("revoked".into()));
    assert_eq!(check(&[&old_token, &valid]), Ok("valid".into()));
    assert_eq!(check(&[&token]), Ok("revoked".into()));
    assert_eq!(
        check(&[&revoked, &suspended]),
        Err(MaterialError::Ambiguous("XA".into()))
    );
    assert_eq!(
        check(&[&suspended, &token]),
        Err(MaterialError::Ambiguous("XA".into()))
    );
    assert_eq!(
        check(&[&tz_token]),
        Err(MaterialError::MissingStatusList("XA".into()))
    );
    // A token past its `exp` is passed over; with nothing else the list is stale.
    let later = world.now + Duration::seconds(status_token::LIFETIME_SECS + 1);
    let graced = Freshness {
        grace: Duration::hours(1),
        ..Freshness::default()
    };
    let (later_trust, _) = material_at(&world, later);
    for lists in [&[token.as_str()][..], &[token.as_str(), valid.as_str()][..]] {
        let answer = both(&x, &later_trust, lists, &credential, later, graced);
        let expected = if lists.len() == 1 {
            Err(MaterialError::Stale("the status list"))
        } else {
            Ok("valid".into())
        };
        assert_eq!(answer.map(|v| v.status), expected);
    }
}

#[test]
fn retired_keys_vouch_within_their_bounds_alike() {
    let world = World::new();
    let credential = world.credential();
    let exp = token::expiry(world.card().valid_until);
    let token = world.list_token(world.now, None, &world.xa, "XA-1");
    let list = world.list(world.now, &[]);
    for (status, retired_at, not_after) in [
        ("retired", Some(world.now), Some(exp)),
        ("retired", Some(world.now - Duration::seconds(1)), Some(exp)),
        ("retired", Some(world.now), Some(exp - Duration::seconds(1))),
        ("retired", None, Some(exp)),
        ("compromised", None, None),
    ] {
        let mut trust = world.trust_json();
        let key = &mut trust["issuers"][0]["keys"][0];
        key["status"] = json!(status);
        key["retired_at"] = json!(retired_at);
        key["not_after"] = json!(not_after);
        let trust = world.sign_trust(&trust);
        for lists in [&[list.as_str()][..], &[token.as_str()][..]] {
            let _ = both(
                &world.platform_x(),
                &trust,
                lists,
                &credential,
                world.now,
                Freshness::default(),
            );
        }
    }
}

#[test]
fn malformed_lists_and_out_of_range_indexes_get_the_same_answer() {
    let world = World::new();
    let (x, trust) = (world.platform_x(), world.trust());
    let sign = |list: Value| {
        signed::sign(
            &list,
            signed::STATUS_LIST_TYP,
            "platform",
            &der(&world.platform),
        )
        .unwrap()
    };
    let short = sign(json!({ "issuer": "XA", "list": "XA", "bits": 2,
        "lst": status_list::encode(&[0; 16]), "issued_at": world.now }));
    let one_bit = sign(json!({ "issuer": "XA", "list": "XA", "bits": 1,
        "lst": status_list::encode(&status_list::empty()), "issued_at": world.now }));
    let not_a_list = sign(json!({ "issuer": "XA" }));
    let credential = world.credential();
    for list in [&short, &one_bit, &not_a_list] {
        let _ = both(
            &x,
            &trust,
            &[list],
            &credential,
            world.now,
            Freshness::default(),
        );
    }
    let outside = token::CardCredential {
        status_index: u32::try_from(status_list::ENTRIES).unwrap(),
        ..world.card()
    };
    let credential = world.issue(&outside, &world.xa, "XA-1").presentation(false);
    assert_eq!(
        agree(&world, &credential, world.now).unwrap().status,
        "untrusted"
    );
}

/// The claims of a credential the world issues, as JSON to edit and sign again.
fn claims_json(world: &World) -> Value {
    let jws = world.issue(&world.card(), &world.xa, "XA-1").jws;
    let payload = URL_SAFE_NO_PAD
        .decode(jws.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn signed_oddities_in_headers_and_claims_get_the_same_verdict() {
    let world = World::new();
    let header = r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-1"}"#;
    let claims = claims_json(&world);
    let text = claims.to_string();
    let mut variants: Vec<(String, String)> = [
        r#"{"alg":"Ed25519","typ":"dc+sd-jwt","kid":"XA-1"}"#,
        r#"{"alg":"none","typ":"dc+sd-jwt","kid":"XA-1"}"#,
        r#"{"alg":"EdDSA","typ":"JWT","kid":"XA-1"}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt"}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":1}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-1","jwk":{}}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-1","crit":["b64"]}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-9","kid":"XA-1"}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA\u002d1"}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-1","x":[1,{"a":null}],"y":1e400}"#,
        r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":"XA-1"} x"#,
        r#"["EdDSA"]"#,
    ]
    .iter()
    .map(|h| ((*h).to_owned(), text.clone()))
    .collect();
    let edits: [(&str, Value); 14] = [
        ("iss", json!("urn:talentcard:issuer:XA")),
        ("vct", json!(token::LEGACY_VCT)),
        ("iss", json!(token::issuer_url(BASE, "TZ"))),
        ("card_number", json!("XA-2026-000001-8")),
        ("card_number", json!("XA\u{2d}2026-000001-7")),
        ("issuer", json!("TZ")),
        ("scheme", json!("TWL")),
        ("_sd_alg", json!("sha-512")),
        ("_sd", json!([claims["_sd"][0], claims["_sd"][0]])),
        ("iat", json!(token::LEGACY_IDS_BEFORE - 10)),
        ("iat", json!("1")),
        ("exp", json!(1.5)),
        ("extra", json!({ "deep": [1, 2, 3] })),
        (
            "cnf",
            json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": x(&world.tz) } }),
        ),
    ];
    for (name, value) in edits {
        let mut edited = claims.clone();
        edited[name] = value;
        variants.push((header.to_owned(), edited.to_string()));
    }
    let mut legacy = claims.clone();
    legacy["iss"] = json!("urn:talentcard:issuer:XA");
    legacy["vct"] = json!(token::LEGACY_VCT);
    legacy["iat"] = json!(token::LEGACY_IDS_BEFORE - 10);
    variants.push((header.to_owned(), legacy.to_string()));
    // The same `urn:` forms on a card issued after the change: refused.
    for member in ["iss", "vct"] {
        let mut late = claims.clone();
        late[member] = legacy[member].clone();
        late["iat"] = json!(token::LEGACY_IDS_BEFORE + 10);
        variants.push((header.to_owned(), late.to_string()));
    }
    // Escapes the borrowed reading must copy, a member missing, and a duplicated one.
    variants.push((
        header.to_owned(),
        text.replace("\"tier\":\"B\"", "\"tier\":\"\\u0042\""),
    ));
    variants.push((header.to_owned(), text.replace("\"tier\":\"B\",", "")));
    variants.push((
        header.to_owned(),
        text.replace("\"tier\":\"B\"", "\"tier\":\"B\",\"tier\":\"B\""),
    ));
    let disclosure = world.issue(&world.card(), &world.xa, "XA-1").disclosure;
    let mut words = std::collections::BTreeSet::new();
    for (header, claims) in variants {
        let jws = world.sign_raw(&header, &claims);
        for credential in [jws.clone(), format!("{jws}~{disclosure}~")] {
            let verdict = agree(&world, &credential, world.now).unwrap();
            words.insert((verdict.valid, verdict.reason));
        }
    }
    // Accepted oddities, and refusals for several reasons, all alike.
    assert!(words.len() >= 3, "{words:?}");
    assert!(words.iter().any(|(valid, _)| *valid));
}

#[test]
fn presentations_get_the_same_verdict() {
    let world = World::new();
    let wallet = Ed25519Wallet::from_seed([5; 32]);
    let jwk = wallet.jwk();
    let bound = token::CardCredential {
        holder_jwk: Some(&jwk),
        ..world.card()
    };
    let sd_jwt = world.issue(&bound, &world.xa, "XA-1").presentation(true);
    let unbound = world.credential();
    let at = world.now.timestamp();
    let (x, trust) = (world.platform_x(), world.trust());
    let list = world.list(world.now, &[]);
    let challenge = Challenge {
        audience: "agency",
        nonce: "n-1",
    };
    let presentations = [
        wallet.present(&sd_jwt, "agency", "n-1", at),
        wallet.present(&sd_jwt, "agency", "n-2", at),
        wallet.present(&sd_jwt, "other", "n-1", at),
        wallet.present(&sd_jwt, "agency", "n-1", at - 3_600),
        Ed25519Wallet::from_seed([6; 32]).present(&sd_jwt, "agency", "n-1", at),
        wallet.present(&unbound, "agency", "n-1", at),
        sd_jwt.clone(),
        format!("{sd_jwt}x.y.z"),
    ];
    let mut bound_ones = 0;
    for presentation in &presentations {
        let reference = verify_presentation(
            &x,
            &trust,
            &[&list],
            presentation,
            challenge,
            world.now,
            Freshness::default(),
        );
        let verifier = Verifier::new(&x, &trust, &[&list], Freshness::default()).unwrap();
        let prepared = verifier.verify_presentation(presentation, challenge, world.now);
        assert_eq!(prepared, reference, "{presentation}");
        bound_ones += usize::from(reference.unwrap().holder_bound);
    }
    assert_eq!(bound_ones, 1, "only the first is holder-bound");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Any damage to a token (a character replaced, a piece cut out) gets the same answer.
    #[test]
    fn damaged_tokens_get_the_same_verdict(at in 0usize..1_000, by in 0u8..128, cut in 0usize..8) {
        let world = World::new();
        let credential = world.credential();
        let at = at % credential.len();
        let mut bytes = credential.clone().into_bytes();
        bytes[at] = by.max(b' ');
        let end = (at + cut).min(bytes.len());
        bytes.drain(at..end);
        let damaged = String::from_utf8(bytes).unwrap();
        let _ = agree(&world, &damaged, world.now);
    }
}
