//! Pure hashing rules of the audit chain, shared by the writer and the verifier.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row: there is nothing before it.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields a row's hash covers, in the order they are hashed.
#[derive(Debug, Clone)]
pub struct LinkContent<'a> {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When it happened (microsecond precision, as PostgreSQL keeps it).
    pub occurred_at: DateTime<Utc>,
    /// Who did it.
    pub actor: &'a str,
    /// What was done, e.g. `account.created`.
    pub action: &'a str,
    /// The kind of thing it was done to.
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: Option<&'a str>,
    /// SHA-256 of the canonical detail JSON.
    pub detail_digest: &'a str,
    /// Hash of the row before.
    pub prev_hash: &'a str,
}

/// SHA-256 (hex) of the canonical form of a detail object.
///
/// `serde_json::Value` keeps object keys sorted, so the same detail read back from JSONB
/// serialises to the same text.
pub fn detail_digest(detail: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(detail.to_string().as_bytes()))
}

/// SHA-256 (hex) over the row's canonical content. A JSON array is used as the canonical
/// encoding so that no field can bleed into its neighbour.
pub fn link_hash(link: &LinkContent<'_>) -> String {
    let canonical = serde_json::json!([
        link.seq,
        link.occurred_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
        link.actor,
        link.action,
        link.entity_type,
        link.entity_id,
        link.detail_digest,
        link.prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// HMAC-SHA-256 (hex) of a row's hash under the audit key `key_id`. The hash covers the row's
/// content and the hash before it, so one MAC vouches for the whole chain up to its row; the
/// key id is covered too, so a MAC cannot be passed off as another key's.
pub fn link_mac(key: &[u8], key_id: &str, hash: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"talentcard-audit-v1\0");
    mac.update(key_id.as_bytes());
    mac.update(b"\0");
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn link(actor: &str) -> LinkContent<'_> {
        LinkContent {
            seq: 1,
            occurred_at: Utc
                .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
                .single()
                .unwrap_or_default(),
            actor,
            action: "account.created",
            entity_type: "account",
            entity_id: Some("x"),
            detail_digest: "d",
            prev_hash: GENESIS_HASH,
        }
    }

    #[test]
    fn hash_changes_with_every_field() {
        let base = link_hash(&link("admin"));
        assert_eq!(base, link_hash(&link("admin")), "deterministic");
        assert_ne!(base, link_hash(&link("admin2")));
        let mut moved = link("admin");
        moved.seq = 2;
        assert_ne!(base, link_hash(&moved));
        let mut relinked = link("admin");
        relinked.prev_hash = "ff";
        assert_ne!(base, link_hash(&relinked));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let mut a = link("ab");
        a.action = "c";
        let mut b = link("a");
        b.action = "bc";
        assert_ne!(link_hash(&a), link_hash(&b));
    }

    #[test]
    fn the_mac_depends_on_the_key_its_id_and_the_hash() {
        let base = link_mac(b"key-one", "a1", "abc");
        assert_eq!(base, link_mac(b"key-one", "a1", "abc"), "deterministic");
        assert_ne!(base, link_mac(b"key-two", "a1", "abc"));
        assert_ne!(base, link_mac(b"key-one", "a2", "abc"));
        assert_ne!(base, link_mac(b"key-one", "a1", "abd"));
        assert_ne!(link_mac(b"k", "a1", "1bc"), link_mac(b"k", "a11", "bc"));
    }

    #[test]
    fn detail_digest_ignores_key_order() {
        let one: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":"x"}"#).unwrap_or_default();
        let two: serde_json::Value = serde_json::from_str(r#"{"b":"x","a":1}"#).unwrap_or_default();
        assert_eq!(detail_digest(&one), detail_digest(&two));
    }
}
