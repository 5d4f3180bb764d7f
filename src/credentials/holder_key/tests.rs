//! Holder keys and proofs: the RFC thumbprint vectors, every refusal, both algorithms.
#![allow(
    clippy::unwrap_used,
    reason = "a failed step should fail the test loudly"
)]

use super::testing::Wallet;
use super::*;
use serde_json::json;

const AUD: &str = "https://cards.example/issuers/XA";
const NOW: i64 = 1_800_000_000;

fn proof_of(wallet: &Wallet, header: Value, claims: Value) -> String {
    wallet.sign(&header, &claims)
}

fn good_proof(wallet: &Wallet) -> String {
    proof_of(
        wallet,
        json!({ "typ": PROOF_TYP, "alg": wallet.alg(), "jwk": wallet.jwk() }),
        json!({ "aud": AUD, "iat": NOW - 10, "nonce": "n-1" }),
    )
}

#[test]
fn rfc_8037_ed25519_thumbprint() {
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519",
                      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" });
    let parsed = HolderJwk::from_value(&jwk).unwrap();
    assert_eq!(
        parsed.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    assert_eq!(parsed.to_value(), jwk);
}

#[test]
fn rfc_9449_p256_thumbprint() {
    // RFC 9449 (DPoP), section 6.1: the example key and its `jkt`.
    let jwk = json!({ "kty": "EC", "crv": "P-256",
                      "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                      "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA" });
    let parsed = HolderJwk::from_value(&jwk).unwrap();
    assert_eq!(
        parsed.thumbprint(),
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    );
}

#[test]
fn jwks_with_private_members_wrong_types_or_bad_points_are_refused() {
    let ed = Wallet::ed25519(7).jwk();
    let ec = Wallet::p256(9).jwk();
    assert!(HolderJwk::from_value(&ed).is_ok());
    assert!(HolderJwk::from_value(&ec).is_ok());
    for member in PRIVATE_MEMBERS {
        let mut with = ec.clone();
        with[member] = json!("AAAA");
        assert_eq!(
            HolderJwk::from_value(&with),
            Err(JwkError::PrivateKey(member))
        );
    }
    let mut rsa = ed.clone();
    rsa["kty"] = json!("RSA");
    assert_eq!(HolderJwk::from_value(&rsa), Err(JwkError::Unsupported));
    let mut x448 = ed.clone();
    x448["crv"] = json!("Ed448");
    assert_eq!(HolderJwk::from_value(&x448), Err(JwkError::Unsupported));
    let mut p384 = ec.clone();
    p384["crv"] = json!("P-384");
    assert_eq!(HolderJwk::from_value(&p384), Err(JwkError::Unsupported));
    let mut short = ed.clone();
    short["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    assert_eq!(HolderJwk::from_value(&short), Err(JwkError::BadMember("x")));
    let mut padded = ec.clone();
    padded["y"] = json!(format!("{}=", ec["y"].as_str().unwrap()));
    assert_eq!(
        HolderJwk::from_value(&padded),
        Err(JwkError::BadMember("y"))
    );
    let mut missing = ec.clone();
    missing.as_object_mut().unwrap().remove("y");
    assert_eq!(
        HolderJwk::from_value(&missing),
        Err(JwkError::BadMember("y"))
    );
    let mut off_curve = ec.clone();
    off_curve["y"] = json!(URL_SAFE_NO_PAD.encode([5u8; 32]));
    assert_eq!(HolderJwk::from_value(&off_curve), Err(JwkError::NotOnCurve));
    // The Ed25519 identity point: small order, so any "signature" could verify under it
    // with a permissive check.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut weak = ed.clone();
    weak["x"] = json!(URL_SAFE_NO_PAD.encode(identity));
    assert_eq!(HolderJwk::from_value(&weak), Err(JwkError::NotOnCurve));
    assert_eq!(
        HolderJwk::from_value(&json!("jwk")),
        Err(JwkError::NotAnObject)
    );
}

#[test]
fn the_jwk_round_trips_through_serde() {
    let jwk = HolderJwk::from_value(&Wallet::p256(3).jwk()).unwrap();
    let text = serde_json::to_string(&jwk).unwrap();
    assert_eq!(serde_json::from_str::<HolderJwk>(&text).unwrap(), jwk);
    let mut private = Wallet::p256(3).jwk();
    private["d"] = json!("AAAA");
    assert!(serde_json::from_value::<HolderJwk>(private).is_err());
}

#[test]
fn good_proofs_of_both_algorithms_verify() {
    for wallet in [Wallet::p256(1), Wallet::ed25519(2)] {
        let claims = verify_proof(&good_proof(&wallet), AUD, NOW).unwrap();
        assert_eq!(claims.nonce, "n-1");
        assert_eq!(claims.iat, NOW - 10);
        assert_eq!(claims.jwk.to_value(), wallet.jwk());
    }
    // `aud` may be an array containing the issuer.
    let wallet = Wallet::ed25519(2);
    let proof = proof_of(
        &wallet,
        json!({ "typ": PROOF_TYP, "alg": "EdDSA", "jwk": wallet.jwk() }),
        json!({ "aud": ["other", AUD], "iat": NOW, "nonce": "n" }),
    );
    assert!(verify_proof(&proof, AUD, NOW).is_ok());
}

#[test]
fn each_refusal_names_its_problem() {
    let wallet = Wallet::p256(4);
    let header = json!({ "typ": PROOF_TYP, "alg": "ES256", "jwk": wallet.jwk() });
    let claims = json!({ "aud": AUD, "iat": NOW, "nonce": "n" });
    let with = |h: Value, c: Value| verify_proof(&proof_of(&wallet, h, c), AUD, NOW);
    let edit = |v: &Value, k: &str, x: Value| {
        let mut v = v.clone();
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x;
        }
        v
    };

    assert_eq!(
        verify_proof("not a jwt", AUD, NOW),
        Err(ProofError::Malformed)
    );
    assert_eq!(
        with(edit(&header, "typ", json!("JWT")), claims.clone()),
        Err(ProofError::WrongType)
    );
    for alg in ["none", "HS256", "RS256", "ES384", "EdDSA"] {
        assert_eq!(
            with(edit(&header, "alg", json!(alg)), claims.clone()),
            Err(ProofError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    // An unsigned token (`alg: none`, empty signature) is refused for its algorithm.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(edit(&header, "alg", json!("none")).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(
        verify_proof(&unsigned, AUD, NOW),
        Err(ProofError::UnsupportedAlgorithm)
    );
    assert_eq!(
        with(edit(&header, "jwk", Value::Null), claims.clone()),
        Err(ProofError::MissingKey)
    );
    let mut private = wallet.jwk();
    private["d"] = json!("AAAA");
    assert_eq!(
        with(edit(&header, "jwk", private), claims.clone()),
        Err(ProofError::PrivateKey("d"))
    );
    let mut off = wallet.jwk();
    off["y"] = json!(URL_SAFE_NO_PAD.encode([5u8; 32]));
    assert_eq!(
        with(edit(&header, "jwk", off), claims.clone()),
        Err(ProofError::BadKey(JwkError::NotOnCurve))
    );
    // Signed by another key than the one in the header.
    let other = Wallet::p256(5);
    assert_eq!(
        verify_proof(&proof_of(&other, header.clone(), claims.clone()), AUD, NOW),
        Err(ProofError::BadSignature)
    );
    assert_eq!(
        with(
            header.clone(),
            edit(&claims, "aud", json!("https://elsewhere"))
        ),
        Err(ProofError::WrongAudience)
    );
    assert_eq!(
        with(header.clone(), edit(&claims, "aud", Value::Null)),
        Err(ProofError::WrongAudience)
    );
    assert_eq!(
        with(header.clone(), edit(&claims, "iat", json!(NOW - 301))),
        Err(ProofError::Stale)
    );
    assert_eq!(
        with(header.clone(), edit(&claims, "iat", json!(NOW + 301))),
        Err(ProofError::Stale)
    );
    assert_eq!(
        with(header.clone(), edit(&claims, "iat", Value::Null)),
        Err(ProofError::Stale)
    );
    assert!(with(header.clone(), edit(&claims, "iat", json!(NOW + 300))).is_ok());
    assert_eq!(
        with(header.clone(), edit(&claims, "nonce", Value::Null)),
        Err(ProofError::MissingNonce)
    );
    assert_eq!(
        with(header.clone(), edit(&claims, "nonce", json!(""))),
        Err(ProofError::MissingNonce)
    );
    assert_eq!(
        with(edit(&header, "crit", json!(["x"])), claims.clone()),
        Err(ProofError::Malformed)
    );
    // A tampered payload breaks the signature.
    let good = proof_of(&wallet, header.clone(), claims.clone());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(edit(&claims, "nonce", json!("m")).to_string());
    assert_eq!(
        verify_proof(&parts.join("."), AUD, NOW),
        Err(ProofError::BadSignature)
    );
}

#[test]
fn an_ed25519_key_with_es256_is_an_algorithm_mismatch() {
    let wallet = Wallet::ed25519(6);
    let proof = proof_of(
        &wallet,
        json!({ "typ": PROOF_TYP, "alg": "ES256", "jwk": wallet.jwk() }),
        json!({ "aud": AUD, "iat": NOW, "nonce": "n" }),
    );
    assert_eq!(
        verify_proof(&proof, AUD, NOW),
        Err(ProofError::UnsupportedAlgorithm)
    );
}
