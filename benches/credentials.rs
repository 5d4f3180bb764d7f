//! Credential sign and offline-verify rates on one core: `cargo bench --bench credentials`.
//! `verify_offline` loads the material for every credential (the one-shot `offline::verify`);
//! `verify_offline_prepared` is the `offline::Verifier` a partner keeps in memory, to compare
//! with `verify_signature_only`, the raw strict Ed25519 check over the same signing input.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark"
)]

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use talentcard::credentials::{offline, signed, status_list, token};

fn bench(c: &mut Criterion) {
    let signing = SigningKey::from_bytes(&[42; 32]);
    let der = signing.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    let now = Utc::now();
    let number = talentcard::domain::card_number::format("XA", 2026, 123);
    let card = token::CardCredential {
        card_number: &number,
        scheme: "XIONGAN",
        tier: "B",
        issuer: "XA",
        valid_from: now.date_naive(),
        valid_until: now.date_naive() + Duration::days(1095),
        status_index: 77_777,
        status_uri: "https://talentcard.example/api/v1/status-lists/XA".into(),
        holder_name: "李明",
        salt: "c2FsdHNhbHRzYWx0c2FsdA",
        issued_at: now,
        base_url: "https://talentcard.example",
        holder_jwk: None,
    };
    let credential = token::issue(&card, "XA-1", &der)
        .unwrap()
        .presentation(true);
    let platform = SigningKey::from_bytes(&[7; 32]);
    let platform_der = platform.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let platform_x = URL_SAFE_NO_PAD.encode(platform.verifying_key().to_bytes());
    let trust = serde_json::json!({ "issued_at": now, "issuers": [
        { "code": "XA", "issuer_url": "https://talentcard.example/issuers/XA", "keys": [ { "kid": "XA-1", "status": "active", "jwk": { "kty": "OKP", "crv": "Ed25519", "x": x } } ] }
    ], "schemes": [ { "code": "XIONGAN", "vct": "https://talentcard.example/vct/XIONGAN", "issuers": ["XA"] } ] });
    let trust = signed::sign(&trust, signed::TRUST_LIST_TYP, "platform", &platform_der).unwrap();
    let status = serde_json::json!({ "issuer": "XA", "list": "XA", "bits": 2, "lst": status_list::encode(&status_list::empty()), "issued_at": now });
    let status = signed::sign(&status, signed::STATUS_LIST_TYP, "platform", &platform_der).unwrap();
    let mut group = c.benchmark_group("credential");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign", |b| {
        b.iter(|| token::issue(black_box(&card), "XA-1", &der))
    });
    group.bench_function("verify_offline", |b| {
        b.iter(|| {
            offline::verify(
                &platform_x,
                black_box(&trust),
                &[&status],
                black_box(&credential),
                now,
                offline::Freshness::default(),
            )
        })
    });
    // A benchmark of the refusal path would measure nothing: the verdict must be valid.
    let verdict = offline::verify(
        &platform_x,
        &trust,
        &[&status],
        &credential,
        now,
        offline::Freshness::default(),
    );
    assert!(verdict.unwrap().valid);
    let public: [u8; 32] = signing.verifying_key().to_bytes();
    // The credential check alone (`token::verify`: parsing, the key decompressed per call,
    // the claim checks), without the material.
    group.bench_function("verify_token", |b| {
        b.iter(|| {
            token::verify(
                black_box(&credential),
                |_| {
                    Some(token::KeyInfo {
                        issuer: "XA".to_owned(),
                        issuer_url: "https://talentcard.example/issuers/XA".to_owned(),
                        public_key: public,
                        schemes: vec![token::SchemeType {
                            code: "XIONGAN".to_owned(),
                            vct: "https://talentcard.example/vct/XIONGAN".to_owned(),
                        }],
                        retired_at: None,
                        not_after: None,
                    })
                },
                now,
            )
        })
    });
    // The prepared verifier: material loaded once, then the full offline verdict.
    let verifier = offline::Verifier::new(
        &platform_x,
        &trust,
        &[&status],
        offline::Freshness::default(),
    )
    .unwrap();
    assert_eq!(
        verifier.verify(&credential, now).unwrap(),
        offline::verify(
            &platform_x,
            &trust,
            &[&status],
            &credential,
            now,
            offline::Freshness::default()
        )
        .unwrap()
    );
    group.bench_function("verify_offline_prepared", |b| {
        b.iter(|| verifier.verify(black_box(&credential), now))
    });
    // Raw Ed25519 over the same signing input, with the key decompressed and the signature
    // decoded beforehand: the ceiling of any verifier. Strict, as every verifier here is; the
    // permissive check beside it shows what strictness costs.
    let jws = credential.split('~').next().unwrap();
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    let signature = ed25519_dalek::Signature::from_bytes(&signature);
    let key = signing.verifying_key();
    key.verify_strict(input.as_bytes(), &signature).unwrap();
    group.bench_function("verify_signature_only", |b| {
        b.iter(|| key.verify_strict(black_box(input.as_bytes()), black_box(&signature)))
    });
    group.bench_function("verify_signature_only_permissive", |b| {
        b.iter(|| {
            ed25519_dalek::Verifier::verify(
                &key,
                black_box(input.as_bytes()),
                black_box(&signature),
            )
        })
    });
    group.finish();
}

/// Status lists: what an instance does when a list changed (set an entry, zlib at the best
/// level) and what an offline verifier does with each copy (inflate, read an entry).
fn status_lists(c: &mut Criterion) {
    let mut bits = status_list::empty();
    // About one card in fifty suspended or revoked, scattered.
    for i in (0..status_list::ENTRIES).step_by(50) {
        let status = if i % 100 == 0 {
            status_list::ListStatus::Revoked
        } else {
            status_list::ListStatus::Suspended
        };
        status_list::set(&mut bits, (i * 40_503) % status_list::ENTRIES, status);
    }
    let lst = status_list::encode(&bits);
    let mut group = c.benchmark_group("status_list");
    group.throughput(Throughput::Elements(1));
    group.bench_function("set_entry", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 40_503) % status_list::ENTRIES;
            status_list::set(black_box(&mut bits), i, status_list::ListStatus::Suspended)
        })
    });
    group.bench_function("encode_131072_entries", |b| {
        b.iter(|| status_list::encode(black_box(&bits)))
    });
    group.bench_function("decode_131072_entries", |b| {
        b.iter(|| status_list::decode(black_box(&lst)))
    });
    group.finish();
}

criterion_group!(benches, bench, status_lists);
criterion_main!(benches);
