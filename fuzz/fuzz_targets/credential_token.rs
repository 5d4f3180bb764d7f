//! Credentials come from anyone holding a phone to a verifier, and offline verifiers also read
//! trust and status lists from files, mirrors or CDNs. Random text almost never gets past a
//! signature check, so most inputs here are signed in the harness by the trusted keys: the
//! fuzzer then reaches the claim, disclosure, trust-list and status-list parsing an attacker
//! can only reach with a key we trust (or a bug we must not have). Checked: nothing panics, a
//! changed signed part never verifies, and what verifies is consistent with what was signed.
//!
//! The keys are fixed, not fresh per run, so a crashing input replays exactly and corpus
//! entries keep their coverage from one run to the next.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use secrecy::{SecretBox, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use talentcard::configuration::Secrets;
use talentcard::credentials::token::{self, CardCredential, TYP, VCT};
use talentcard::credentials::{keys, offline, signed, status_list};
use talentcard::crypto::pii::PiiCipher;

const ISSUER: &str = "XA";
/// In the shape `keys::generate` names keys.
const KID: &str = "XA-20261128-f022f022";
const PLATFORM_KID: &str = "platform-f022f022";
const STATUS_URI: &str = "https://cards.example/api/v1/status-lists/XA";
const HOLDER: &str = "李明";
/// The genuine credential's status index, and one revoked neighbour.
const INDEX: u32 = 4242;
const REVOKED: u32 = 4243;

/// Trust material built once per process.
struct Material {
    issuer_key: SigningKey,
    platform_key: SigningKey,
    platform_x: String,
    /// A credential `token::issue` signed for the fixed card.
    genuine: String,
    trust_list: String,
    status_list: String,
    now: DateTime<Utc>,
}

fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        // The issuer key takes the service's own path: a seed sealed under the PII key and
        // opened into PKCS#8 by `keys::signing_der`.
        let secrets = Secrets {
            token_signing_key: SecretString::from("t".repeat(32)),
            pii_encryption_key: SecretBox::new(Box::new([1; 32])),
            pii_index_key: SecretString::from("i".repeat(32)),
            platform_signing_key: SecretBox::new(Box::new([3; 32])),
        };
        let cipher = PiiCipher::new(&secrets, "fuzz");
        let sealed = cipher
            .seal_bytes(&[2; 32], KID.as_bytes())
            .expect("sealing a seed");
        let der = keys::signing_der(KID, &sealed, &cipher).expect("opening the sealed seed");
        let issuer_key = SigningKey::from_pkcs8_der(&der).expect("PKCS#8 of the issuer key");
        let platform_key = SigningKey::from_bytes(&[3; 32]);
        let platform_x = URL_SAFE_NO_PAD.encode(platform_key.verifying_key().to_bytes());
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .expect("a fixed instant");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a fixed day");
        let card = CardCredential {
            card_number: "XA-2026-000001-3",
            scheme: "XIONGAN",
            tier: "B",
            issuer: ISSUER,
            valid_from: day(2026, 11, 1),
            valid_until: day(2029, 10, 31),
            status_index: INDEX,
            status_uri: STATUS_URI.to_owned(),
            holder_name: HOLDER,
            salt: "c2FsdHNhbHRzYWx0",
            issued_at: now - Duration::days(27),
        };
        let genuine = token::issue(&card, KID, &der).expect("issuing the genuine credential");
        let trust_list = sign(
            &platform_key,
            &header(signed::TRUST_LIST_TYP, PLATFORM_KID),
            &trust_payload(&issuer_key, now - Duration::hours(1)),
        );
        let mut bits = status_list::empty();
        status_list::set(
            &mut bits,
            REVOKED as usize,
            status_list::ListStatus::Revoked,
        );
        let status_list = sign(
            &platform_key,
            &header(signed::STATUS_LIST_TYP, PLATFORM_KID),
            &list_payload(ISSUER, ISSUER, 2, &status_list::encode(&bits), now),
        );
        Material {
            issuer_key,
            platform_key,
            platform_x,
            genuine,
            trust_list,
            status_list,
            now,
        }
    })
}

fn header(typ: &str, kid: &str) -> Vec<u8> {
    json!({ "alg": "EdDSA", "typ": typ, "kid": kid })
        .to_string()
        .into_bytes()
}

/// A compact EdDSA JWS over exactly these header and payload bytes (valid JSON or not).
fn sign(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn trust_payload(issuer_key: &SigningKey, issued_at: DateTime<Utc>) -> Vec<u8> {
    let x = URL_SAFE_NO_PAD.encode(issuer_key.verifying_key().to_bytes());
    json!({
        "issued_at": issued_at,
        "issuers": [{ "code": ISSUER, "keys": [{ "kid": KID, "jwk": { "x": x }, "status": "active" }] }],
    })
    .to_string()
    .into_bytes()
}

fn list_payload(issuer: &str, list: &str, bits: u8, lst: &str, at: DateTime<Utc>) -> Vec<u8> {
    json!({ "issuer": issuer, "list": list, "bits": bits, "lst": lst, "issued_at": at })
        .to_string()
        .into_bytes()
}

/// The `_sd` digest of a disclosure, as `token::issue` lists it.
fn digest(disclosure: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure.as_bytes()))
}

/// A JOSE header: mostly what we issue, with the fuzzer choosing where it differs.
#[derive(Arbitrary, Debug)]
struct Header<'a> {
    alg: Option<&'a str>,
    typ: Option<Option<&'a str>>,
    kid: Option<Option<&'a str>>,
    /// e.g. `jku`, `jwk`, `x5u` (which we must refuse) or anything else.
    extra: Option<(&'a str, &'a str)>,
}

impl Header<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut header = json!({ "alg": self.alg.unwrap_or("EdDSA") });
        let fields = [("typ", self.typ, TYP), ("kid", self.kid, KID)];
        for (name, choice, ours) in fields {
            match choice {
                None => header[name] = json!(ours),
                Some(Some(value)) => header[name] = json!(value),
                Some(None) => {}
            }
        }
        if let Some((name, value)) = self.extra {
            header[name] = json!(value);
        }
        header.to_string().into_bytes()
    }
}

/// Card claims: valid by default, each field replaceable by the fuzzer.
#[derive(Arbitrary, Debug)]
struct Claims<'a> {
    iss: Option<&'a str>,
    iat: i64,
    nbf: Option<i64>,
    exp: Option<i64>,
    vct: Option<&'a str>,
    card_number: &'a str,
    scheme: &'a str,
    tier: &'a str,
    issuer: Option<&'a str>,
    idx: u32,
    uri: Option<&'a str>,
    sd: Vec<&'a str>,
    sd_alg: Option<&'a str>,
    /// A field to drop, by index in the serialised object.
    drop: Option<u8>,
    extra: Option<(&'a str, &'a str)>,
    /// The holder-name disclosure: (salt, claim name, value), its digest listed in `_sd`.
    disclosure: Option<(&'a str, Option<&'a str>, &'a str)>,
    /// Raw disclosures appended after `~`, listed in `_sd` when the flag is set.
    more: Vec<(&'a [u8], bool)>,
}

impl Claims<'_> {
    /// The payload bytes and the disclosures to append.
    fn build(&self, now: DateTime<Utc>) -> (Vec<u8>, Vec<String>) {
        let mut disclosures = Vec::new();
        let mut sd: Vec<String> = self.sd.iter().map(|s| (*s).to_owned()).collect();
        if let Some((salt, name, value)) = self.disclosure {
            let text = json!([salt, name.unwrap_or("holder_name"), value]).to_string();
            let encoded = URL_SAFE_NO_PAD.encode(text);
            sd.push(digest(&encoded));
            disclosures.push(encoded);
        }
        for (raw, listed) in &self.more {
            let encoded = URL_SAFE_NO_PAD.encode(raw);
            if *listed {
                sd.push(digest(&encoded));
            }
            disclosures.push(encoded);
        }
        let issuer = self.issuer.unwrap_or(ISSUER);
        let mut claims = json!({
            "iss": self.iss.map_or_else(|| format!("urn:talentcard:issuer:{issuer}"), str::to_owned),
            "iat": self.iat,
            "nbf": self.nbf.unwrap_or(now.timestamp() - 3600),
            "exp": self.exp.unwrap_or(now.timestamp() + 3600),
            "vct": self.vct.unwrap_or(VCT),
            "card_number": self.card_number,
            "scheme": self.scheme,
            "tier": self.tier,
            "issuer": issuer,
            "status": { "status_list": { "idx": self.idx, "uri": self.uri.unwrap_or(STATUS_URI) } },
            "_sd": sd,
            "_sd_alg": self.sd_alg.unwrap_or("sha-256"),
        });
        if let Some(object) = claims.as_object_mut() {
            if let Some(drop) = self.drop {
                let key = object.keys().nth(usize::from(drop)).cloned();
                key.map(|k| object.remove(&k));
            }
            if let Some((name, value)) = self.extra {
                object.insert(name.to_owned(), json!(value));
            }
        }
        (claims.to_string().into_bytes(), disclosures)
    }
}

/// The credential an offline verifier is handed.
#[derive(Arbitrary, Debug)]
enum Credential<'a> {
    Genuine,
    Signed(Claims<'a>),
    Raw(&'a str),
}

/// The trust list an offline verifier loaded.
#[derive(Arbitrary, Debug)]
enum Trust<'a> {
    Genuine,
    Fields {
        issued_shift: i32,
        code: Option<&'a str>,
        kid: Option<&'a str>,
        x: Option<&'a str>,
        status: Option<&'a str>,
        retired_shift: Option<i32>,
    },
    /// Any payload, signed by the platform.
    Signed(&'a [u8]),
    /// Any text, unsigned.
    Raw(&'a str),
}

/// A status list an offline verifier loaded.
#[derive(Arbitrary, Debug)]
enum List<'a> {
    Genuine,
    Fields {
        issuer: Option<&'a str>,
        list: Option<&'a str>,
        bits: Option<u8>,
        edits: Vec<(u32, u8)>,
        lst: Option<&'a str>,
        issued_shift: i32,
    },
    Signed(&'a [u8]),
    Raw(&'a str),
}

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// A credential as a verifier receives it. First, and with the text last, so a seed is
    /// eight zero bytes followed by a token as is.
    Raw { now_shift: i32, token: &'a str },
    /// Any header and payload bytes, signed by the trusted issuer key.
    Signed {
        header: Header<'a>,
        payload: &'a [u8],
        disclosures: Vec<&'a str>,
    },
    /// Structured claims signed by the trusted issuer key.
    Claims {
        header: Header<'a>,
        claims: Claims<'a>,
        now_shift: i32,
    },
    /// The genuine credential with bytes changed, cut or inserted.
    Mutated {
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
        insert: Option<(u16, &'a str)>,
    },
    /// Offline verification against fuzzed trust and status lists.
    Offline {
        trust: Trust<'a>,
        lists: Vec<List<'a>>,
        credential: Credential<'a>,
        max_age_hours: u16,
        now_shift: i32,
    },
    /// The status list codec and list names, which the service and verifiers parse too.
    StatusList {
        lst: &'a str,
        list_id: &'a str,
        index: u32,
    },
}

fn lookup(kid: &str) -> Option<(String, [u8; 32])> {
    (kid == KID).then(|| {
        (
            ISSUER.to_owned(),
            material().issuer_key.verifying_key().to_bytes(),
        )
    })
}

fn shifted(now: DateTime<Utc>, seconds: i32) -> DateTime<Utc> {
    now + Duration::seconds(i64::from(seconds))
}

fn verify(token: &str, now: DateTime<Utc>) {
    if let Ok(verified) = token::verify(token, lookup, now) {
        assert_eq!(verified.kid, KID);
        assert_eq!(verified.claims.issuer, ISSUER);
        assert!(verified.claims.nbf <= now.timestamp() && now.timestamp() < verified.claims.exp);
    }
}

fn trust_list(trust: &Trust<'_>, m: &Material) -> String {
    let header = header(signed::TRUST_LIST_TYP, PLATFORM_KID);
    match trust {
        Trust::Genuine => m.trust_list.clone(),
        Trust::Fields {
            issued_shift,
            code,
            kid,
            x,
            status,
            retired_shift,
        } => {
            let genuine_x = URL_SAFE_NO_PAD.encode(m.issuer_key.verifying_key().to_bytes());
            let mut key = json!({
                "kid": kid.unwrap_or(KID),
                "jwk": { "x": x.map_or(genuine_x, str::to_owned) },
                "status": status.unwrap_or("active"),
            });
            if let Some(shift) = retired_shift {
                key["retired_at"] = json!(shifted(m.now, *shift));
            }
            let payload = json!({
                "issued_at": shifted(m.now, *issued_shift),
                "issuers": [{ "code": code.unwrap_or(ISSUER), "keys": [key] }],
            });
            sign(&m.platform_key, &header, payload.to_string().as_bytes())
        }
        Trust::Signed(payload) => sign(&m.platform_key, &header, payload),
        Trust::Raw(text) => (*text).to_owned(),
    }
}

fn list(list: &List<'_>, m: &Material) -> String {
    let header = header(signed::STATUS_LIST_TYP, PLATFORM_KID);
    match list {
        List::Genuine => m.status_list.clone(),
        List::Fields {
            issuer,
            list,
            bits,
            edits,
            lst,
            issued_shift,
        } => {
            let lst = lst.map_or_else(
                || {
                    let mut entries = status_list::empty();
                    for (index, status) in edits.iter().take(64) {
                        let status = match status % 3 {
                            0 => status_list::ListStatus::Valid,
                            1 => status_list::ListStatus::Revoked,
                            _ => status_list::ListStatus::Suspended,
                        };
                        status_list::set(&mut entries, *index as usize, status);
                    }
                    status_list::encode(&entries)
                },
                str::to_owned,
            );
            let payload = list_payload(
                issuer.unwrap_or(ISSUER),
                list.unwrap_or(ISSUER),
                bits.unwrap_or(2),
                &lst,
                shifted(m.now, *issued_shift),
            );
            sign(&m.platform_key, &header, &payload)
        }
        List::Signed(payload) => sign(&m.platform_key, &header, payload),
        List::Raw(text) => (*text).to_owned(),
    }
}

fn credential(choice: &Credential<'_>, m: &Material) -> String {
    match choice {
        Credential::Genuine => m.genuine.clone(),
        Credential::Signed(claims) => {
            let (payload, disclosures) = claims.build(m.now);
            let jws = sign(&m.issuer_key, &header(TYP, KID), &payload);
            format!("{jws}~{}~", disclosures.join("~"))
        }
        Credential::Raw(text) => (*text).to_owned(),
    }
}

fuzz_target!(|input: Input<'_>| {
    let m = material();
    match input {
        Input::Raw { token, now_shift } => verify(token, shifted(m.now, now_shift)),
        Input::Signed {
            header,
            payload,
            disclosures,
        } => {
            let jws = sign(&m.issuer_key, &header.bytes(), payload);
            verify(&format!("{jws}~{}", disclosures.join("~")), m.now);
        }
        Input::Claims {
            header,
            claims,
            now_shift,
        } => {
            let (payload, disclosures) = claims.build(m.now);
            let jws = sign(&m.issuer_key, &header.bytes(), &payload);
            verify(
                &format!("{jws}~{}~", disclosures.join("~")),
                shifted(m.now, now_shift),
            );
        }
        Input::Mutated { edits, cut, insert } => {
            let mut bytes = m.genuine.clone().into_bytes();
            for (at, byte) in edits.iter().take(8) {
                let at = usize::from(*at) % bytes.len();
                bytes[at] = *byte;
            }
            if let Some(cut) = cut {
                bytes.truncate(usize::from(cut) % (bytes.len() + 1));
            }
            if let Some((at, text)) = insert {
                let at = usize::from(at) % (bytes.len() + 1);
                bytes.splice(at..at, text.bytes());
            }
            let Ok(token) = String::from_utf8(bytes) else {
                return;
            };
            if let Ok(verified) = token::verify(&token, lookup, m.now) {
                // Ed25519 signatures and strict base64 leave no slack: whatever verifies must
                // carry the genuine signed part unchanged.
                let genuine_jws = m.genuine.split('~').next();
                assert_eq!(token.trim().split('~').next(), genuine_jws, "{token}");
                if let Some(name) = verified.holder_name {
                    assert_eq!(name, HOLDER);
                }
            }
        }
        Input::Offline {
            trust,
            lists,
            credential: choice,
            max_age_hours,
            now_shift,
        } => {
            let trust = trust_list(&trust, m);
            let lists: Vec<String> = lists.iter().take(4).map(|l| list(l, m)).collect();
            let lists: Vec<&str> = lists.iter().map(String::as_str).collect();
            let credential = credential(&choice, m);
            let now = shifted(m.now, now_shift);
            let max_age = Duration::hours(i64::from(max_age_hours));
            let verdict = offline::verify(&m.platform_x, &trust, &lists, &credential, now, max_age);
            if let Ok(verdict) = verdict {
                assert_eq!(verdict.valid, verdict.status == "valid");
                if verdict.valid {
                    assert!(verdict.card_number.is_some() && verdict.issuer.is_some());
                }
            }
        }
        Input::StatusList {
            lst,
            list_id,
            index,
        } => {
            if let Ok(bits) = status_list::decode(lst) {
                assert_eq!(bits.len(), status_list::BYTES);
                assert_eq!(
                    status_list::decode(&status_list::encode(&bits)),
                    Ok(bits.clone())
                );
                assert!(status_list::get(&bits, index as usize) <= 3);
            }
            if let Some((issuer, number)) = status_list::parse_list_id(list_id) {
                assert_eq!(status_list::list_id(issuer, number), list_id);
            }
            // The signed-material opener sees the same untrusted text in offline verifiers.
            let _ = signed::open(lst, signed::STATUS_LIST_TYP, &m.platform_x);
        }
    }
});
