//! Credentials come from anyone holding a phone to a verifier, and offline verifiers also read
//! trust and status lists from files, mirrors or CDNs. Random text almost never gets past a
//! signature check, so most inputs here are signed in the harness by the trusted keys: the
//! fuzzer then reaches the claim, disclosure, trust-list and status-list parsing an attacker
//! can only reach with a key we trust (or a bug we must not have).
//!
//! Checked besides "no panic", for every credential `token::verify` accepts, whatever it was
//! made of and whatever the key's trust-anchor entry says (issuer, its URL, schemes and their
//! `vct`, public key, retirement bounds, all fuzzed): every mention of an issuer (`issuer`,
//! `iss`, the card number's prefix, the status list's name, the scheme and its `vct`) agrees
//! with the key's issuer, the `urn:` forms only on cards issued before they were replaced, and
//! the card number is valid; nothing verifies under a key the harness holds no private half of
//! (a small-order key with the forgery the permissive Ed25519 check accepts is a seed); a
//! retired key's credential has `iat <= retired_at` and `exp <= not_after`; every disclosure
//! presented is referenced by a digest, once, and the name returned is the one disclosed; any
//! other JSON reader sees the same claims in the payload; a changed signed part never verifies.
//! Offline: the verdict does not depend on the order of the status lists, two different copies
//! of the credential's list under one stamp are `Ambiguous`, and no grace means `grace_used`
//! is never set.
//!
//! The keys are fixed, not fresh per run, so a crashing input replays exactly and corpus
//! entries keep their coverage from one run to the next.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use secrecy::{SecretBox, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use talentcard::configuration::Secrets;
use talentcard::credentials::offline::{self, Freshness, MaterialError, Verdict};
use talentcard::credentials::token::{
    self, CardCredential, Issued, KeyInfo, LEGACY_IDS_BEFORE, LEGACY_VCT, SchemeType, TYP, Verified,
};
use talentcard::credentials::{keys, signed, status_list};
use talentcard::crypto::pii::PiiCipher;
use talentcard::domain::card_number;

const ISSUER: &str = "XA";
/// Another issuer, whose cards the `XA` key must never vouch for.
const OTHER: &str = "TZ";
/// The scheme `XA` issues, and one only `TZ` does.
const SCHEME: &str = "XIONGAN";
const OTHER_SCHEME: &str = "TWL";
/// In the shape `keys::generate` names keys.
const KID: &str = "XA-20261128-f022f022";
const PLATFORM_KID: &str = "platform-f022f022";
const BASE_URL: &str = "https://cards.example";
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
    /// What `token::issue` signed for the fixed card.
    genuine: Issued,
    /// The trust anchor's entry for `KID` (active, `XA`, `XIONGAN`).
    key: KeyInfo,
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
        let number = card_number::format(ISSUER, 2026, 1);
        let card = CardCredential {
            card_number: &number,
            scheme: SCHEME,
            tier: "B",
            issuer: ISSUER,
            valid_from: day(2026, 11, 1),
            valid_until: day(2029, 10, 31),
            status_index: INDEX,
            status_uri: STATUS_URI.to_owned(),
            holder_name: HOLDER,
            salt: "c2FsdHNhbHRzYWx0c2FsdA",
            issued_at: now - Duration::days(27),
            base_url: BASE_URL,
        };
        let genuine = token::issue(&card, KID, &der).expect("issuing the genuine credential");
        let key = KeyInfo {
            issuer: ISSUER.to_owned(),
            issuer_url: token::issuer_url(BASE_URL, ISSUER),
            public_key: issuer_key.verifying_key().to_bytes(),
            schemes: vec![scheme_type(SCHEME, None)],
            retired_at: None,
            not_after: None,
        };
        let trust_list = sign(
            &platform_key,
            &header(signed::TRUST_LIST_TYP, PLATFORM_KID),
            &trust_payload(&issuer_key, now - Duration::minutes(5)),
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
        let m = Material {
            issuer_key,
            platform_key,
            platform_x,
            genuine,
            key,
            trust_list,
            status_list,
            now,
        };
        // The harness is worth nothing if the genuine material does not pass: check it once.
        for disclose in [true, false] {
            let token = m.genuine.presentation(disclose);
            let verified = token::verify(&token, |kid| (kid == KID).then(|| m.key.clone()), now)
                .expect("the genuine credential verifies");
            check_accepted(&token, &m.key, now, &verified, &m.issuer_key);
            let verdict = offline::verify(
                &m.platform_x,
                &m.trust_list,
                &[&m.status_list],
                &token,
                now,
                Freshness::default(),
            )
            .expect("the genuine material is accepted offline");
            assert!(verdict.valid && !verdict.grace_used, "{verdict:?}");
        }
        m
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
        "issuers": [{
            "code": ISSUER,
            "issuer_url": token::issuer_url(BASE_URL, ISSUER),
            "keys": [{ "kid": KID, "jwk": { "x": x }, "status": "active" }],
        }],
        "schemes": [{ "code": SCHEME, "vct": token::vct_url(BASE_URL, SCHEME), "issuers": [ISSUER] }],
    })
    .to_string()
    .into_bytes()
}

fn list_payload(issuer: &str, list: &str, bits: u8, lst: &str, at: DateTime<Utc>) -> Vec<u8> {
    json!({ "issuer": issuer, "list": list, "bits": bits, "lst": lst, "issued_at": at })
        .to_string()
        .into_bytes()
}

/// A scheme with its `vct`: the service's URL for it unless the fuzzer chose another.
fn scheme_type(code: &str, vct: Option<&str>) -> SchemeType {
    SchemeType {
        code: code.to_owned(),
        vct: vct.map_or_else(|| token::vct_url(BASE_URL, code), str::to_owned),
    }
}

/// The `iss` of the first release's credentials.
fn legacy_iss(issuer: &str) -> String {
    format!("urn:talentcard:issuer:{issuer}")
}

/// The `_sd` digest of a disclosure, as `token::issue` lists it.
fn digest(disclosure: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure.as_bytes()))
}

fn shifted(now: DateTime<Utc>, seconds: i32) -> DateTime<Utc> {
    now + Duration::seconds(i64::from(seconds))
}

/// `now` moved by `shift` seconds as a Unix time, or `default` seconds when not chosen.
fn unix(now: DateTime<Utc>, shift: Option<i64>, default: i64) -> i64 {
    now.timestamp().saturating_add(shift.unwrap_or(default))
}

/// A list of entries, from the fuzzer's (index, status) edits.
fn entries(edits: &[(u32, u8)]) -> String {
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
}

/// An issuer code: ours, another real one, or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Code<'a> {
    Ours,
    Other,
    Text(&'a str),
}

impl<'a> Code<'a> {
    fn get(self) -> &'a str {
        match self {
            Code::Ours => ISSUER,
            Code::Other => OTHER,
            Code::Text(text) => text,
        }
    }
}

/// A scheme code: ours, another issuer's, or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Scheme<'a> {
    Ours,
    Other,
    Text(&'a str),
}

impl<'a> Scheme<'a> {
    fn get(self) -> &'a str {
        match self {
            Scheme::Ours => SCHEME,
            Scheme::Other => OTHER_SCHEME,
            Scheme::Text(text) => text,
        }
    }
}

/// What the trust anchor says of `KID`: by default the genuine entry (active, `XA`, `XIONGAN`).
#[derive(Arbitrary, Debug)]
struct Key<'a> {
    issuer: Code<'a>,
    /// The issuer's `iss`; none chosen means the service's URL for it.
    issuer_url: Option<&'a str>,
    /// The issuer's schemes, each with its `vct` (the service's URL unless chosen); none
    /// chosen means `XIONGAN` alone.
    schemes: Vec<(Scheme<'a>, Option<&'a str>)>,
    /// Seconds from now, for a retired key.
    retired_at: Option<i64>,
    not_after: Option<i64>,
    /// Another public key in the entry (e.g. a small-order point): nothing the harness holds
    /// the private half of, so nothing may verify under it.
    public_key: Option<[u8; 32]>,
}

impl Key<'_> {
    fn info(&self, m: &Material) -> KeyInfo {
        let schemes = if self.schemes.is_empty() {
            vec![scheme_type(SCHEME, None)]
        } else {
            let schemes = self.schemes.iter();
            schemes.map(|(s, vct)| scheme_type(s.get(), *vct)).collect()
        };
        let issuer = self.issuer.get();
        KeyInfo {
            issuer: issuer.to_owned(),
            issuer_url: self
                .issuer_url
                .map_or_else(|| token::issuer_url(BASE_URL, issuer), str::to_owned),
            public_key: self
                .public_key
                .unwrap_or_else(|| m.issuer_key.verifying_key().to_bytes()),
            schemes,
            retired_at: self.retired_at.map(|s| unix(m.now, Some(s), 0)),
            not_after: self.not_after.map(|s| unix(m.now, Some(s), 0)),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Alg<'a> {
    EdDsa,
    /// The fully specified name (RFC 9864), also accepted.
    Ed25519,
    Text(&'a str),
}

/// A JOSE header: mostly what we issue, with the fuzzer choosing where it differs.
#[derive(Arbitrary, Debug)]
struct Header<'a> {
    alg: Alg<'a>,
    typ: Option<Option<&'a str>>,
    kid: Option<Option<&'a str>>,
    /// e.g. `jku`, `jwk`, `x5u`, `crit` (which we must refuse) or anything else.
    extra: Option<(&'a str, &'a str)>,
}

impl Header<'_> {
    fn bytes(&self) -> Vec<u8> {
        let alg = match self.alg {
            Alg::EdDsa => "EdDSA",
            Alg::Ed25519 => "Ed25519",
            Alg::Text(text) => text,
        };
        let mut header = json!({ "alg": alg });
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

/// A card number: the genuine one, one `format` prints for fuzzed parts, the genuine one with
/// a byte changed, or any text.
#[derive(Arbitrary, Debug)]
enum Number<'a> {
    Ours,
    Formatted {
        issuer: Code<'a>,
        year: i32,
        serial: i64,
    },
    Typo {
        at: u8,
        byte: u8,
    },
    Text(&'a str),
}

impl Number<'_> {
    fn get(&self) -> String {
        let ours = card_number::format(ISSUER, 2026, 1);
        match self {
            Number::Ours => ours,
            Number::Formatted {
                issuer,
                year,
                serial,
            } => card_number::format(issuer.get(), *year, *serial),
            Number::Typo { at, byte } => {
                let mut bytes = ours.into_bytes();
                let at = usize::from(*at) % bytes.len();
                bytes[at] = *byte;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Number::Text(text) => (*text).to_owned(),
        }
    }
}

/// The status list a credential names: ours, any issuer's list `n`, or any text.
#[derive(Arbitrary, Debug)]
enum Uri<'a> {
    Ours,
    List { issuer: Code<'a>, number: u32 },
    Text(&'a str),
}

impl Uri<'_> {
    fn get(&self) -> String {
        match self {
            Uri::Ours => STATUS_URI.to_owned(),
            Uri::List { issuer, number } => status_list::uri(BASE_URL, issuer.get(), *number),
            Uri::Text(text) => (*text).to_owned(),
        }
    }
}

/// Card claims: valid by default, each field replaceable by the fuzzer.
/// `iss` or `vct`: the service's URL (for the claimed issuer or scheme), the first release's
/// `urn:` form, or any text.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Id<'a> {
    Url,
    Legacy,
    Text(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Claims<'a> {
    iss: Id<'a>,
    /// Times as seconds from now (by default a day ago, an hour ago, in an hour).
    iat: Option<i64>,
    nbf: Option<i64>,
    exp: Option<i64>,
    vct: Id<'a>,
    card_number: Number<'a>,
    scheme: Scheme<'a>,
    tier: &'a str,
    issuer: Option<Code<'a>>,
    idx: u32,
    uri: Uri<'a>,
    sd: Vec<&'a str>,
    sd_alg: Option<&'a str>,
    /// A field to drop, by index in the serialised object.
    drop: Option<u8>,
    extra: Option<(&'a str, &'a str)>,
    /// The holder-name disclosure: (salt, claim name, value), its digest listed in `_sd`.
    disclosure: Option<(&'a str, Option<&'a str>, &'a str)>,
    /// Raw disclosures appended after `~`, listed in `_sd` when the flag is set.
    more: Vec<(&'a [u8], bool)>,
    /// Presents one of the disclosures again.
    repeat: Option<u8>,
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
        if let Some(repeat) = self.repeat
            && !disclosures.is_empty()
        {
            let again = disclosures[usize::from(repeat) % disclosures.len()].clone();
            disclosures.push(again);
        }
        let issuer = self.issuer.map_or(ISSUER, Code::get);
        let scheme = self.scheme.get();
        let iss = match self.iss {
            Id::Url => token::issuer_url(BASE_URL, issuer),
            Id::Legacy => legacy_iss(issuer),
            Id::Text(text) => text.to_owned(),
        };
        let vct = match self.vct {
            Id::Url => token::vct_url(BASE_URL, scheme),
            Id::Legacy => LEGACY_VCT.to_owned(),
            Id::Text(text) => text.to_owned(),
        };
        let mut claims = json!({
            "iss": iss,
            "iat": unix(now, self.iat, -86_400),
            "nbf": unix(now, self.nbf, -3600),
            "exp": unix(now, self.exp, 3600),
            "vct": vct,
            "card_number": self.card_number.get(),
            "scheme": scheme,
            "tier": self.tier,
            "issuer": issuer,
            "status": { "status_list": { "idx": self.idx, "uri": self.uri.get() } },
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

    /// The SD-JWT, signed by the issuer key under `header`.
    fn token(&self, header: &[u8], m: &Material) -> String {
        let (payload, disclosures) = self.build(m.now);
        let jws = sign(&m.issuer_key, header, &payload);
        disclosures
            .iter()
            .fold(format!("{jws}~"), |token, d| format!("{token}{d}~"))
    }
}

/// The credential an offline verifier is handed.
#[derive(Arbitrary, Debug)]
enum Credential<'a> {
    /// With the name disclosed or not.
    Genuine(bool),
    Signed(Box<Claims<'a>>),
    Raw(&'a str),
}

/// The key status in a trust list.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum KeyStatus<'a> {
    Active,
    Retired,
    Text(&'a str),
}

/// A scheme in a trust list: its code, its `vct` (the service's URL unless chosen), its issuers.
type TrustedScheme<'a> = (Scheme<'a>, Option<&'a str>, Vec<Code<'a>>);

/// The trust list an offline verifier loaded.
#[derive(Arbitrary, Debug)]
enum Trust<'a> {
    Genuine,
    Fields {
        issued_shift: i32,
        code: Code<'a>,
        /// The issuer's `iss`; none chosen means the service's URL for it.
        issuer_url: Option<&'a str>,
        kid: Option<&'a str>,
        x: Option<&'a str>,
        status: KeyStatus<'a>,
        retired_shift: Option<i32>,
        not_after_shift: Option<i32>,
        /// Each scheme with its `vct` (the service's URL unless chosen) and issuers; none
        /// chosen means `XIONGAN` of `XA`.
        schemes: Option<Vec<TrustedScheme<'a>>>,
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

/// A copy of the credential's own status list stamped exactly like its newest copy (or, when
/// there is none, two copies under one stamp), differing from it.
#[derive(Arbitrary, Debug)]
struct Clash {
    edits: Vec<(u32, u8)>,
    /// The stamp when the list has no copy yet, in seconds from now.
    issued_shift: i32,
}

/// An offline verification: the material, the credential, the verifier's settings.
#[derive(Arbitrary, Debug)]
struct Offline<'a> {
    trust: Trust<'a>,
    lists: Vec<List<'a>>,
    credential: Credential<'a>,
    /// Seconds; none chosen means the default.
    max_age: Option<i32>,
    grace: i32,
    now_shift: i32,
    /// Seeds the order the lists are handed over in the second run.
    shuffle: u64,
    clash: Option<Clash>,
}

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// A credential as a verifier receives it, checked with the genuine key entry. First, and
    /// with the text last, so a seed is eight zero bytes followed by a token as is.
    Raw { now_shift: i32, token: &'a str },
    /// Any header and payload bytes, signed by the trusted issuer key.
    Signed {
        key: Key<'a>,
        header: Header<'a>,
        payload: &'a [u8],
        disclosures: Vec<&'a str>,
    },
    /// Structured claims signed by the trusted issuer key.
    Claims {
        key: Key<'a>,
        header: Header<'a>,
        claims: Box<Claims<'a>>,
        /// Signature bytes in place of the issuer key's (e.g. the all-identity forgery that
        /// the permissive Ed25519 check accepts under a small-order key).
        forged: Option<[u8; 64]>,
        now_shift: i32,
    },
    /// The genuine credential with bytes changed, cut or inserted.
    Mutated {
        disclose: bool,
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
        insert: Option<(u16, &'a str)>,
    },
    /// Offline verification against fuzzed trust and status lists.
    Offline(Offline<'a>),
    /// The status list codec and list names, which the service and verifiers parse too.
    StatusList {
        lst: &'a str,
        list_id: &'a str,
        index: u32,
    },
}

/// A disclosure's value when it is a well-formed `holder_name` disclosure.
fn named(disclosure: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(disclosure).ok()?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Array(items) => match items.as_slice() {
            [Value::String(_), Value::String(claim), value] if claim == "holder_name" => {
                Some(value.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// What must hold of every credential `token::verify` accepted under `key` at `now`, when only
/// `issuer_key` signed anything.
fn check_accepted(
    token: &str,
    key: &KeyInfo,
    now: DateTime<Utc>,
    verified: &Verified,
    issuer_key: &SigningKey,
) {
    let claims = &verified.claims;
    let show = || format!("{token}\n{claims:?}\n{key:?}");
    assert_eq!(verified.kid, KID, "{}", show());
    // Only the issuer key signs here: anything verifying under another key is a forgery.
    let genuine = issuer_key.verifying_key().to_bytes();
    assert_eq!(key.public_key, genuine, "a forgery verified: {}", show());
    // Every mention of an issuer is the key's issuer, and the card number is a valid one.
    assert_eq!(claims.issuer, key.issuer, "{}", show());
    // `iss` is the issuer's URL, or its `urn:` form on a card issued before URLs came in.
    let legacy = claims.iat < LEGACY_IDS_BEFORE;
    let iss = claims.iss == key.issuer_url || (legacy && claims.iss == legacy_iss(&key.issuer));
    assert!(iss, "{}", show());
    assert!(card_number::is_valid(&claims.card_number), "{}", show());
    assert_eq!(
        claims.card_number.split('-').next(),
        Some(key.issuer.as_str()),
        "{}",
        show()
    );
    let list = claims.status.status_list.uri.rsplit('/').next();
    let list_issuer = list.and_then(status_list::parse_list_id).map(|(i, _)| i);
    assert_eq!(list_issuer, Some(key.issuer.as_str()), "{}", show());
    // The scheme is one the issuer issues, and `vct` is its type (or the first release's).
    let scheme = |s: &SchemeType| {
        s.code == claims.scheme && (claims.vct == s.vct || (legacy && claims.vct == LEGACY_VCT))
    };
    assert!(key.schemes.iter().any(scheme), "{}", show());
    // A retired key vouches only for what it signed while active, and no longer than that.
    if let Some(retired_at) = key.retired_at {
        assert!(claims.iat <= retired_at, "{}", show());
    }
    if let Some(not_after) = key.not_after {
        assert!(claims.exp <= not_after, "{}", show());
    }
    assert!(
        claims.nbf <= now.timestamp() && now.timestamp() < claims.exp,
        "{}",
        show()
    );
    // Any other JSON reader (last duplicate wins) sees the claims that were checked.
    let jws = token.trim().split('~').next().unwrap_or_default();
    let payload: Value = jws
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("an accepted payload is JSON: {}", show()));
    let text = |name: &str| payload[name].as_str();
    assert_eq!(text("iss"), Some(claims.iss.as_str()), "{}", show());
    assert_eq!(text("issuer"), Some(claims.issuer.as_str()), "{}", show());
    assert_eq!(
        text("card_number"),
        Some(claims.card_number.as_str()),
        "{}",
        show()
    );
    assert_eq!(text("scheme"), Some(claims.scheme.as_str()), "{}", show());
    assert_eq!(text("vct"), Some(claims.vct.as_str()), "{}", show());
    let list = &payload["status"]["status_list"];
    assert_eq!(
        list["uri"].as_str(),
        Some(claims.status.status_list.uri.as_str()),
        "{}",
        show()
    );
    assert_eq!(
        list["idx"].as_u64(),
        Some(u64::from(claims.status.status_list.idx)),
        "{}",
        show()
    );
    for (name, checked) in [
        ("iat", claims.iat),
        ("nbf", claims.nbf),
        ("exp", claims.exp),
    ] {
        assert_eq!(payload[name].as_i64(), Some(checked), "{}", show());
    }
    // Every disclosure presented is referenced by a digest, and only once; the digests are
    // distinct; the name is what the (last) name disclosure says.
    let parts: Vec<&str> = token.trim().split('~').collect();
    let disclosures = parts
        .get(1..parts.len().saturating_sub(1))
        .unwrap_or_default();
    let digests: HashSet<&String> = claims.sd.iter().collect();
    assert_eq!(digests.len(), claims.sd.len(), "{}", show());
    let mut presented = HashSet::new();
    for disclosure in disclosures {
        let hash = digest(disclosure);
        assert!(claims.sd.contains(&hash), "{}", show());
        assert!(presented.insert(hash), "{}", show());
    }
    let name = disclosures
        .iter()
        .filter_map(|d| named(d))
        .next_back()
        .and_then(|v| v.as_str().map(str::to_owned));
    assert_eq!(verified.holder_name, name, "{}", show());
}

/// Verifies `token` with `key` as the entry for `KID`, checking whatever is accepted.
fn verify(token: &str, key: &KeyInfo, now: DateTime<Utc>) -> Option<Verified> {
    let verified = token::verify(token, |kid| (kid == KID).then(|| key.clone()), now).ok()?;
    check_accepted(token, key, now, &verified, &material().issuer_key);
    Some(verified)
}

fn trust_list(trust: &Trust<'_>, m: &Material) -> String {
    let header = header(signed::TRUST_LIST_TYP, PLATFORM_KID);
    match trust {
        Trust::Genuine => m.trust_list.clone(),
        Trust::Fields {
            issued_shift,
            code,
            issuer_url,
            kid,
            x,
            status,
            retired_shift,
            not_after_shift,
            schemes,
        } => {
            let genuine_x = URL_SAFE_NO_PAD.encode(m.issuer_key.verifying_key().to_bytes());
            let status = match status {
                KeyStatus::Active => "active",
                KeyStatus::Retired => "retired",
                KeyStatus::Text(text) => text,
            };
            let mut key = json!({
                "kid": kid.unwrap_or(KID),
                "jwk": { "x": x.map_or(genuine_x, str::to_owned) },
                "status": status,
            });
            if let Some(shift) = retired_shift {
                key["retired_at"] = json!(shifted(m.now, *shift));
            }
            if let Some(shift) = not_after_shift {
                key["not_after"] = json!(shifted(m.now, *shift));
            }
            let schemes: Vec<Value> = match schemes {
                None => vec![json!({
                    "code": SCHEME,
                    "vct": token::vct_url(BASE_URL, SCHEME),
                    "issuers": [ISSUER],
                })],
                Some(schemes) => schemes
                    .iter()
                    .map(|(scheme, vct, issuers)| {
                        let SchemeType { code, vct } = scheme_type(scheme.get(), *vct);
                        let issuers: Vec<&str> = issuers.iter().map(|c| c.get()).collect();
                        json!({ "code": code, "vct": vct, "issuers": issuers })
                    })
                    .collect(),
            };
            let issuer_url =
                issuer_url.map_or_else(|| token::issuer_url(BASE_URL, code.get()), str::to_owned);
            let payload = json!({
                "issued_at": shifted(m.now, *issued_shift),
                "issuers": [{ "code": code.get(), "issuer_url": issuer_url, "keys": [key] }],
                "schemes": schemes,
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
            let lst = lst.map_or_else(|| entries(edits), str::to_owned);
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
        Credential::Genuine(disclose) => m.genuine.presentation(*disclose),
        Credential::Signed(claims) => claims.token(&header(TYP, KID), m),
        Credential::Raw(text) => (*text).to_owned(),
    }
}

/// A status list as `offline::verify` reads one (the same fields and types, so the same JSON
/// parses, or not, the same way).
#[derive(Deserialize)]
struct ListCopy {
    issuer: String,
    list: String,
    bits: u8,
    lst: String,
    issued_at: DateTime<Utc>,
}

/// The list a signed status-list JWS holds, if the platform signed one.
fn opened(jws: &str, m: &Material) -> Option<ListCopy> {
    let value = signed::open(jws, signed::STATUS_LIST_TYP, &m.platform_x).ok()?;
    serde_json::from_value(value).ok()
}

/// The (issuer, list name) a credential's payload names, read without verifying it.
fn names_list(credential: &str) -> Option<(String, String)> {
    let jws = credential.trim().split('~').next()?;
    let payload = URL_SAFE_NO_PAD.decode(jws.split('.').nth(1)?).ok()?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    let issuer = claims["issuer"].as_str()?;
    let uri = claims["status"]["status_list"]["uri"].as_str()?;
    Some((issuer.to_owned(), uri.rsplit('/').next()?.to_owned()))
}

/// `items` in an order drawn from `seed` (a Fisher-Yates shuffle on SplitMix64).
fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut items = items.to_vec();
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = usize::try_from(next() % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
    items
}

/// Copies of the list `credential` names that clash with its newest copy among `lists`: one
/// under the newest stamp with other contents, or, when there is no copy, two differing ones
/// under one stamp. `None` when the credential names no list or the copies would not parse.
fn clashing(
    clash: &Clash,
    credential: &str,
    lists: &[String],
    m: &Material,
) -> Option<Vec<String>> {
    let (issuer, wanted) = names_list(credential)?;
    let newest = lists
        .iter()
        .filter_map(|jws| opened(jws, m))
        .filter(|l| l.issuer == issuer && l.list == wanted)
        .max_by_key(|l| l.issued_at);
    let lst = entries(&clash.edits);
    let header = header(signed::STATUS_LIST_TYP, PLATFORM_KID);
    let copy = |bits: u8, lst: &str, at: DateTime<Utc>| {
        sign(
            &m.platform_key,
            &header,
            &list_payload(&issuer, &wanted, bits, lst, at),
        )
    };
    let copies = match &newest {
        Some(newest) => {
            // Other contents than the newest copy's: other entries, or else other `bits`.
            let bits = if lst == newest.lst {
                newest.bits.wrapping_add(1)
            } else {
                newest.bits
            };
            vec![copy(bits, &lst, newest.issued_at)]
        }
        None => {
            let at = shifted(m.now, clash.issued_shift);
            vec![copy(2, &lst, at), copy(3, &lst, at)]
        }
    };
    // The stamp must read back as the same instant (it always should; skip if not).
    let stamp = newest.as_ref().map(|n| n.issued_at);
    let parsed: Vec<ListCopy> = copies.iter().filter_map(|c| opened(c, m)).collect();
    let faithful = parsed.len() == copies.len()
        && parsed
            .iter()
            .all(|p| stamp.is_none_or(|s| p.issued_at == s) && p.issued_at == parsed[0].issued_at);
    faithful.then_some(copies)
}

/// Whether offline verification got past the trust list and the credential to its status list.
fn reached_status_list(result: &Result<Verdict, MaterialError>) -> bool {
    match result {
        Ok(verdict) => verdict.card_number.is_some(),
        Err(
            MaterialError::Unsigned("the trust list")
            | MaterialError::Malformed("the trust list")
            | MaterialError::Stale("the trust list")
            | MaterialError::FromTheFuture("the trust list"),
        ) => false,
        Err(_) => true,
    }
}

fn verify_offline(case: &Offline<'_>, m: &Material) {
    let Offline {
        trust,
        lists,
        credential: choice,
        max_age,
        grace,
        now_shift,
        shuffle,
        clash,
    } = case;
    let freshness = Freshness {
        max_age: max_age.map_or(Freshness::default().max_age, |s| {
            Duration::seconds(i64::from(s))
        }),
        grace: Duration::seconds(i64::from(*grace)),
    };
    let now = shifted(m.now, *now_shift);
    let trust_jws = trust_list(trust, m);
    let lists: Vec<String> = lists.iter().take(4).map(|l| list(l, m)).collect();
    let credential = credential(choice, m);
    let run = |lists: &[String]| {
        let lists: Vec<&str> = lists.iter().map(String::as_str).collect();
        offline::verify(
            &m.platform_x,
            &trust_jws,
            &lists,
            &credential,
            now,
            freshness,
        )
    };
    let result = run(&lists);
    if let Ok(verdict) = &result {
        assert_eq!(verdict.valid, verdict.status == "valid", "{verdict:?}");
        if verdict.valid {
            assert!(verdict.card_number.is_some() && verdict.issuer.is_some());
        }
        if let (Some(number), Some(issuer)) = (&verdict.card_number, &verdict.issuer) {
            assert!(card_number::is_valid(number), "{verdict:?}");
            assert_eq!(number.split('-').next(), Some(issuer.as_str()));
            let listed = match trust {
                Trust::Genuine => Some(ISSUER),
                Trust::Fields { code, .. } => Some(code.get()),
                _ => None,
            };
            if let Some(listed) = listed {
                assert_eq!(issuer, listed, "{verdict:?}");
            }
        }
        if freshness.grace <= Duration::zero() {
            assert!(!verdict.grace_used, "{verdict:?}");
        }
    }
    // The newest copy wins whatever the order the lists come in.
    if lists.len() > 1 {
        let reordered = run(&shuffled(&lists, *shuffle));
        assert_eq!(
            result, reordered,
            "the order of the status lists changed the verdict"
        );
    }
    // Two different copies of the credential's list under one (its newest) stamp.
    if let Some(copies) = clash
        .as_ref()
        .and_then(|c| clashing(c, &credential, &lists, m))
    {
        let wanted = names_list(&credential).map(|(_, list)| list);
        let mut all = lists.clone();
        all.extend(copies);
        let clashed = run(&shuffled(&all, shuffle.rotate_left(17)));
        let ambiguous = wanted.map(MaterialError::Ambiguous);
        if reached_status_list(&result) {
            assert_eq!(clashed.as_ref().err(), ambiguous.as_ref(), "{result:?}");
        } else if clashed.as_ref().err() != ambiguous.as_ref() {
            // Refused before its lists were read: the lists change nothing.
            assert_eq!(clashed, result);
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    let m = material();
    match input {
        Input::Raw { token, now_shift } => {
            verify(token, &m.key, shifted(m.now, now_shift));
        }
        Input::Signed {
            key,
            header,
            payload,
            disclosures,
        } => {
            let jws = sign(&m.issuer_key, &header.bytes(), payload);
            verify(
                &format!("{jws}~{}", disclosures.join("~")),
                &key.info(m),
                m.now,
            );
        }
        Input::Claims {
            key,
            header,
            claims,
            forged,
            now_shift,
        } => {
            let mut token = claims.token(&header.bytes(), m);
            if let Some(forged) = forged
                && let Some((input, rest)) = token.rsplit_once('.')
            {
                let disclosures = rest.split_once('~').map_or("", |(_, d)| d);
                let signature = URL_SAFE_NO_PAD.encode(forged);
                token = format!("{input}.{signature}~{disclosures}");
            }
            verify(&token, &key.info(m), shifted(m.now, now_shift));
        }
        Input::Mutated {
            disclose,
            edits,
            cut,
            insert,
        } => {
            let genuine = m.genuine.presentation(disclose);
            let mut bytes = genuine.clone().into_bytes();
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
            if let Some(verified) = verify(&token, &m.key, m.now) {
                // Strict Ed25519 and strict base64 leave no slack: whatever verifies must carry
                // the genuine signed part unchanged.
                assert_eq!(token.trim().split('~').next(), Some(m.genuine.jws.as_str()));
                if let Some(name) = verified.holder_name {
                    assert_eq!(name, HOLDER);
                }
            }
        }
        Input::Offline(case) => verify_offline(&case, m),
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
