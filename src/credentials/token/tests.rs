//! The credential's own checks: what verifies, and every way a token is refused.

use super::*;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;

fn key(seed: u8) -> (Vec<u8>, [u8; 32]) {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let der = signing
        .to_pkcs8_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    (der, signing.verifying_key().to_bytes())
}

fn card(now: DateTime<Utc>) -> CardCredential<'static> {
    CardCredential {
        card_number: "XA-2026-000001-7",
        scheme: "XIONGAN",
        tier: "B",
        issuer: "XA",
        valid_from: now.date_naive(),
        valid_until: now.date_naive() + chrono::Duration::days(365),
        status_index: 4242,
        status_uri: "http://localhost/api/v1/status-lists/XA".into(),
        holder_name: "李明",
        salt: "c2FsdHNhbHRzYWx0c2FsdA",
        issued_at: now,
        base_url: BASE,
        holder_jwk: None,
    }
}

const BASE: &str = "https://cards.example";

fn info(issuer: &str, public: [u8; 32], schemes: &[&str]) -> KeyInfo {
    KeyInfo {
        issuer: issuer.into(),
        issuer_url: issuer_url(BASE, issuer),
        public_key: public,
        schemes: schemes
            .iter()
            .map(|s| SchemeType {
                code: (*s).to_owned(),
                vct: vct_url(BASE, s),
            })
            .collect(),
        retired_at: None,
        not_after: None,
    }
}

fn signed(now: DateTime<Utc>) -> (Issued, [u8; 32]) {
    let (der, public) = key(7);
    let issued = issue(&card(now), "XA-1", &der).unwrap_or_else(|e| panic!("{e}"));
    (issued, public)
}

#[test]
fn a_credential_verifies_and_discloses_the_name_only_on_request() {
    let now = Utc::now();
    let (issued, public) = signed(now);
    let lookup = |kid: &str| (kid == "XA-1").then(|| info("XA", public, &["XIONGAN"]));
    let token = issued.presentation(true);
    let verified = verify(&token, lookup, now).map_err(|e| e.to_string());
    let verified = verified.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.claims.card_number, "XA-2026-000001-7");
    assert_eq!(verified.claims.status.status_list.idx, 4242);
    assert_eq!(verified.holder_name.as_deref(), Some("李明"));
    assert!(!issued.jws.contains("李明"));
    let undisclosed = verify(&issued.presentation(false), lookup, now).map(|v| v.holder_name);
    assert_eq!(
        undisclosed,
        Ok(None),
        "without the disclosure the name stays hidden"
    );
    assert_eq!(
        verify(&issued.jws, lookup, now).map(|v| v.holder_name),
        Ok(None)
    );
}

#[test]
fn disclosures_no_digest_references_and_duplicates_are_refused() {
    let now = Utc::now();
    let (issued, public) = signed(now);
    let lookup = |_: &str| Some(info("XA", public, &["XIONGAN"]));
    let stray = URL_SAFE_NO_PAD.encode(r#"["c2FsdA","holder_name","王五"]"#);
    for token in [
        format!("{}~{stray}~", issued.jws),
        format!(
            "{}~{}~{}~",
            issued.jws, issued.disclosure, issued.disclosure
        ),
        format!("{}~{}~{stray}~", issued.jws, issued.disclosure),
        format!("{}~{}", issued.jws, issued.disclosure),
    ] {
        assert_eq!(
            verify(&token, lookup, now).err(),
            Some(CredentialError::Malformed)
        );
    }
}

#[test]
fn tampering_wrong_keys_and_time_are_refused() {
    let now = Utc::now();
    let (issued, public) = signed(now);
    let token = issued.presentation(true);
    let lookup = |kid: &str| (kid == "XA-1").then(|| info("XA", public, &["XIONGAN"]));
    let mut bytes = token.clone().into_bytes();
    let payload_at = bytes.iter().position(|b| *b == b'.').unwrap_or(0) + 5;
    bytes[payload_at] = if bytes[payload_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered = String::from_utf8(bytes).unwrap_or_default();
    assert!(verify(&tampered, lookup, now).is_err());
    assert_eq!(
        verify(&token, |_| None, now).err(),
        Some(CredentialError::UnknownKey)
    );
    let later = now + chrono::Duration::days(400);
    assert_eq!(
        verify(&token, lookup, later).err(),
        Some(CredentialError::OutsideValidity)
    );
}

#[test]
fn a_key_vouches_only_for_its_own_issuers_cards() {
    let now = Utc::now();
    let (der, public) = key(9);
    let (xa, tz_number) = (
        card_number::format("XA", 2026, 1),
        card_number::format("TZ", 2026, 1),
    );
    let typo = format!("{}0", &tz_number[..tz_number.len() - 1]);
    let typo = if card_number::is_valid(&typo) {
        format!("{}1", &tz_number[..tz_number.len() - 1])
    } else {
        typo
    };
    // Each forgery signed by TZ's key names something that is not TZ's.
    let forgeries = [
        (
            "XA",
            xa.as_str(),
            "XIONGAN",
            "http://x/api/v1/status-lists/XA",
        ),
        ("TZ", xa.as_str(), "TWL", "http://x/api/v1/status-lists/TZ"),
        (
            "TZ",
            tz_number.as_str(),
            "XIONGAN",
            "http://x/api/v1/status-lists/TZ",
        ),
        (
            "TZ",
            tz_number.as_str(),
            "TWL",
            "http://x/api/v1/status-lists/XA",
        ),
        (
            "TZ",
            typo.as_str(),
            "TWL",
            "http://x/api/v1/status-lists/TZ",
        ),
    ];
    let tz = |_: &str| Some(info("TZ", public, &["TWL", "TBT"]));
    for (issuer, number, scheme, uri) in forgeries {
        let claims = CardCredential {
            card_number: number,
            scheme,
            issuer,
            status_uri: uri.into(),
            ..card(now)
        };
        let token = issue(&claims, "TZ-1", &der)
            .unwrap_or_else(|e| panic!("{e}"))
            .presentation(false);
        assert_eq!(
            verify(&token, tz, now).err(),
            Some(CredentialError::WrongIssuer),
            "{issuer} {number} {scheme} {uri}"
        );
    }
    let own = CardCredential {
        card_number: &tz_number,
        scheme: "TWL",
        issuer: "TZ",
        status_uri: "http://x/api/v1/status-lists/TZ-1".into(),
        ..card(now)
    };
    let token = issue(&own, "TZ-1", &der).unwrap_or_else(|e| panic!("{e}"));
    assert!(verify(&token.presentation(false), tz, now).is_ok());
}

#[test]
fn urn_identifiers_are_accepted_only_from_cards_issued_before_the_change() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let (der, public) = key(7);
    let lookup = |_: &str| Some(info("XA", public, &["XIONGAN"]));
    let sign = |iat: i64| {
        let now = DateTime::from_timestamp(iat, 0).unwrap_or_default();
        let issued = issue(&card(now), "XA-1", &der).unwrap_or_else(|e| panic!("{e}"));
        let payload = jws::unverified_payload(&issued.jws).unwrap_or_default();
        let mut claims: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
        claims["iss"] = "urn:talentcard:issuer:XA".into();
        claims["vct"] = LEGACY_VCT.into();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("XA-1".into());
        header.typ = Some(TYP.into());
        let jws = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&der));
        (format!("{}~", jws.unwrap_or_default()), now)
    };
    let (old, then) = sign(LEGACY_IDS_BEFORE - 86_400);
    assert!(
        verify(&old, lookup, then).is_ok(),
        "a card of the first release"
    );
    let (new, now) = sign(LEGACY_IDS_BEFORE + 60);
    assert_eq!(LEGACY_IDS_BEFORE, 1_798_761_600, "2027-01-01T00:00:00Z");
    assert_eq!(
        verify(&new, lookup, now).err(),
        Some(CredentialError::WrongIssuer),
        "a card issued after the change carries URLs"
    );
}

#[test]
fn a_retired_key_vouches_only_for_what_it_signed_while_active() {
    let now = Utc::now();
    let (issued, public) = signed(now);
    let token = issued.presentation(false);
    let retired = |retired_at: i64, not_after: i64| {
        move |_: &str| {
            Some(KeyInfo {
                retired_at: Some(retired_at),
                not_after: Some(not_after),
                ..info("XA", public, &["XIONGAN"])
            })
        }
    };
    let exp = expiry(card(now).valid_until).timestamp();
    let iat = now.timestamp();
    assert!(verify(&token, retired(iat, exp), now).is_ok());
    assert_eq!(
        verify(&token, retired(iat - 1, exp), now).err(),
        Some(CredentialError::OutsideKeyValidity),
        "signed after retirement"
    );
    assert_eq!(
        verify(&token, retired(iat, exp - 1), now).err(),
        Some(CredentialError::OutsideKeyValidity),
        "valid beyond anything the key signed"
    );
}

#[test]
fn a_bound_key_is_signed_in_as_cnf_and_the_sd_jwt_of_a_presentation_verifies() {
    use crate::credentials::holder_key::{HolderJwk, testing::Wallet};
    use crate::credentials::key_binding::{sd_hash, split_presentation, verify_key_binding};
    let now = Utc::now();
    let (der, public) = key(7);
    let xa = |_: &str| Some(info("XA", public, &["XIONGAN"]));
    // Unbound: no `cnf` member at all.
    let (unbound, _) = signed(now);
    let payload = jws::unverified_payload(&unbound.jws).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    assert!(claims.get("cnf").is_none(), "{claims}");
    assert_eq!(
        verify(&unbound.presentation(false), xa, now).map(|v| v.claims.cnf),
        Ok(None)
    );

    let wallet = Wallet::p256(11);
    let jwk = HolderJwk::from_value(&wallet.jwk()).unwrap_or_else(|e| panic!("{e}"));
    let bound = issue(
        &CardCredential {
            holder_jwk: Some(&jwk),
            ..card(now)
        },
        "XA-1",
        &der,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let payload = jws::unverified_payload(&bound.jws).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    assert_eq!(claims["cnf"]["jwk"], wallet.jwk());
    for disclose in [false, true] {
        let sd_jwt = bound.presentation(disclose);
        let kb = wallet.sign(
            &serde_json::json!({ "typ": "kb+jwt", "alg": "ES256" }),
            &serde_json::json!({ "iat": now.timestamp(), "aud": "agency", "nonce": "n",
                                 "sd_hash": sd_hash(&sd_jwt) }),
        );
        let presentation = format!("{sd_jwt}{kb}");
        // The whole presentation is not a bare credential...
        assert_eq!(
            verify(&presentation, xa, now).err(),
            Some(CredentialError::Malformed)
        );
        // ...its SD-JWT part is, and its `cnf` checks the KB-JWT.
        let (part, _) = split_presentation(&presentation).unwrap_or_default();
        assert_eq!(part, sd_jwt);
        let verified = verify(part, xa, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.holder_name.is_some(), disclose);
        let cnf = verified.claims.cnf.unwrap_or_else(|| panic!("no cnf"));
        assert_eq!(cnf.jwk, jwk);
        assert!(verify_key_binding(&presentation, &cnf.jwk, "agency", now.timestamp()).is_ok());
    }
}
