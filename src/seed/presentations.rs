//! `talentcard seed --presentations N --agency-client ID`: single-use material for the
//! benchmarks of holder-bound verification (runs g and h of `bench/run`). Codes and nonces are
//! consumed by their first verification, so a run of a few thousand verifications a second
//! needs one per request, made beforehand:
//!
//! - `presentation-codes.txt`: N dynamic codes, stored hashed in `presentation_codes` for
//!   random active cards (the seeded cards of `--cards`, or any), each verified once with
//!   `holder_bound: true` and that card's own status;
//! - `presentations.txt`: N presentations. One fresh Ed25519 wallet key is bound to up to
//!   [`BOUND_CARDS`] random active cards (as `PUT /cards/{id}/holder-key` binds it), their
//!   credentials are signed with `cnf.jwk` and recorded as served, N nonces are stored hashed for
//!   the agency of the client, and each line is a credential with a KB-JWT over one nonce,
//!   addressed to the client id.
//!
//! Bench only: the rows are written directly, so the API's bounds do not apply. Codes and
//! nonces live [`HORIZON_SECS`] (the API gives at most 300 s), so a run started minutes later
//! still finds them; the KB-JWTs' `iat` is the seed's time and a verification accepts it for
//! 300 s only ([`crate::credentials::key_binding::KB_MAX_AGE_SECS`]), so this runs right before
//! the run that presents them. The agency's client must exist (`serve --demo` loads the demo
//! hospital's), so this runs after the server started. Nothing secret is printed; the
//! wallet's private key is never stored.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Array, Date, Int4, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::configuration::Settings;
use crate::credentials::key_binding::Ed25519Wallet;
use crate::credentials::presentation_code::{PresentationCode, new_nonce, nonce_hash};
use crate::credentials::{keys, status_list, token};
use crate::crypto::pii::PiiCipher;

/// Cards the wallet key is bound to: presentations cycle over them, so a run reads as many
/// distinct cards as the card-number run does within its first seconds, and signing their
/// credentials takes well under a second.
pub const BOUND_CARDS: usize = 10_000;

/// Seconds the seeded codes and nonces stay usable: an hour, for a bench run that starts minutes
/// after the seed (the API's codes and nonces live 300 s at most).
pub const HORIZON_SECS: i64 = 3_600;

/// Rows per INSERT of codes or nonces (two arrays of this many values bound at once).
const CHUNK: usize = 20_000;

/// Codes are spread over at most this many random cards.
const CODE_CARDS: usize = 100_000;

#[derive(QueryableByName)]
struct Agency {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    agency_id: Uuid,
}

#[derive(QueryableByName)]
struct CardId {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// A card to bind, with what its credential says and the times on record for it.
#[derive(QueryableByName)]
struct BoundCard {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    number: String,
    #[diesel(sql_type = Text)]
    scheme: String,
    #[diesel(sql_type = Text)]
    tier: String,
    #[diesel(sql_type = Date)]
    valid_from: NaiveDate,
    #[diesel(sql_type = Date)]
    valid_until: NaiveDate,
    #[diesel(sql_type = Int4)]
    status_index: i32,
    #[diesel(sql_type = Text)]
    full_name: String,
    #[diesel(sql_type = Timestamptz)]
    iat: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    exp: DateTime<Utc>,
}

/// Writes `count` dynamic codes and `count` presentations for the agency of `client_id` to
/// `out_dir` (`presentation-codes.txt`, `presentations.txt`, one per line), after storing the
/// codes, the nonces and the wallet key's binding; fails, writing no file, when the client is
/// unknown or revoked or no active XA card exists.
pub async fn presentations(
    settings: &Settings,
    count: usize,
    client_id: Uuid,
    out_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(settings.database.owner_url()).await?;
    let cipher = PiiCipher::new(&settings.secrets()?, &settings.auth.pii_key_id);
    let base_url = settings
        .application
        .public_base_url
        .trim_end_matches('/')
        .to_owned();
    let now = Utc::now();
    let expires_at = now + chrono::Duration::seconds(HORIZON_SECS);
    let agency: Option<Agency> = diesel::sql_query(
        "SELECT agency_id FROM agency_clients WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(client_id)
    .get_result(&mut conn)
    .await
    .optional()?;
    let agency_id = agency
        .with_context(|| {
            format!("no active agency client {client_id} (start `serve --demo` for the demo one)")
        })?
        .agency_id;
    let key = crate::models::issuer_key::active(&mut conn, "XA")
        .await?
        .context("no XA key: seed cards first")?;
    let der = keys::signing_der(&key.kid, &key.private_key_sealed, &cipher)?;
    let started = std::time::Instant::now();

    // Codes for random active cards: `ORDER BY random()` over a million rows takes about a
    // second, once.
    let code_cards: Vec<CardId> = diesel::sql_query(
        "SELECT id FROM cards WHERE status = 'active' ORDER BY random() LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(i64::try_from(count.min(CODE_CARDS))?)
    .load(&mut conn)
    .await?;
    anyhow::ensure!(!code_cards.is_empty(), "no active card: seed cards first");
    let codes: Vec<PresentationCode> = (0..count).map(|_| PresentationCode::generate()).collect();
    let wallet = Ed25519Wallet::generate();
    let jwk = wallet.jwk();
    let nonces: Vec<String> = (0..count).map(|_| new_nonce()).collect();

    let bound = conn
        .transaction(async |c| {
            for (i, chunk) in codes.chunks(CHUNK).enumerate() {
                let hashes: Vec<String> = chunk.iter().map(PresentationCode::hash).collect();
                let cards: Vec<Uuid> = (0..chunk.len())
                    .map(|j| code_cards[(i * CHUNK + j) % code_cards.len()].id)
                    .collect();
                diesel::sql_query(
                    "INSERT INTO presentation_codes (code_hash, card_id, created_at, expires_at)
                     SELECT h, c, $3, $4 FROM unnest($1::text[], $2::uuid[]) AS u (h, c)",
                )
                .bind::<Array<Text>, _>(&hashes)
                .bind::<Array<diesel::sql_types::Uuid>, _>(&cards)
                .bind::<Timestamptz, _>(now)
                .bind::<Timestamptz, _>(expires_at)
                .execute(c)
                .await?;
            }
            for chunk in nonces.chunks(CHUNK) {
                let hashes: Vec<String> = chunk.iter().map(|n| nonce_hash(n)).collect();
                diesel::sql_query(
                    "INSERT INTO verification_nonces (nonce_hash, agency_id, created_at, expires_at)
                     SELECT h, $2, $3, $4 FROM unnest($1::text[]) AS u (h)",
                )
                .bind::<Array<Text>, _>(&hashes)
                .bind::<diesel::sql_types::Uuid, _>(agency_id)
                .bind::<Timestamptz, _>(now)
                .bind::<Timestamptz, _>(expires_at)
                .execute(c)
                .await?;
            }
            // The wallet key, bound as `holder_key::bind` binds it, then each card's credential
            // recorded as served by the active key (unless it was), as the credential route
            // does: the verifier accepts a credential only with the times on record.
            let bound: Vec<BoundCard> = diesel::sql_query(
                "WITH chosen AS (
                     UPDATE cards SET holder_jwk = $1, holder_jkt = $2, holder_key_bound_at = $3
                      WHERE id IN (SELECT id FROM cards
                                    WHERE status = 'active' AND issuer = 'XA'
                                      AND status_index IS NOT NULL
                                    ORDER BY random() LIMIT $4)
                     RETURNING id, number, scheme, tier, valid_from, valid_until, status_index,
                               holder_id, issued_at
                 ), recorded AS (
                     INSERT INTO card_credentials (card_id, kid, iat, exp, first_served_at)
                     SELECT id, $5, date_trunc('second', issued_at),
                            (valid_until + 1)::timestamp AT TIME ZONE 'Asia/Shanghai', $3
                       FROM chosen
                     ON CONFLICT (card_id, kid) DO UPDATE SET kid = excluded.kid
                     RETURNING card_id, iat, exp
                 )
                 SELECT ch.id, ch.number, ch.scheme, ch.tier, ch.valid_from, ch.valid_until,
                        ch.status_index, a.full_name, r.iat, r.exp
                   FROM chosen ch
                   JOIN recorded r ON r.card_id = ch.id
                   JOIN accounts a ON a.id = ch.holder_id
                  ORDER BY ch.number",
            )
            .bind::<diesel::sql_types::Jsonb, _>(jwk.to_value())
            .bind::<Text, _>(jwk.thumbprint())
            .bind::<Timestamptz, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(i64::try_from(count.min(BOUND_CARDS))?)
            .bind::<Text, _>(&key.kid)
            .load(c)
            .await?;
            let event = AuditEvent {
                actor: Actor::Cli,
                action: "seed.presentations",
                entity_type: "card",
                entity_id: None,
                detail: json!({
                    "codes": count, "nonces": count, "bound_cards": bound.len(),
                    "agency_id": agency_id, "jkt": jwk.thumbprint(),
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, anyhow::Error>(bound)
        })
        .await?;
    anyhow::ensure!(
        !bound.is_empty(),
        "no active XA card to bind: seed cards first"
    );
    eprintln!(
        "stored {count} codes, {count} nonces and a wallet key bound to {} cards in {:.1} s",
        bound.len(),
        started.elapsed().as_secs_f64()
    );

    // Signing: the credentials (one per bound card), then one KB-JWT per nonce, about 20 µs
    // each on one core; off the async threads.
    let audience = client_id.to_string();
    let out_dir = out_dir.to_owned();
    let kid = key.kid.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let credentials = bound
            .iter()
            .map(|card| credential(card, &cipher, &base_url, &kid, &der, &wallet))
            .collect::<anyhow::Result<Vec<String>>>()?;
        let iat = Utc::now().timestamp();
        let mut presentations = String::with_capacity(count * 1_200);
        for (i, nonce) in nonces.iter().enumerate() {
            presentations.push_str(&wallet.present(
                &credentials[i % credentials.len()],
                &audience,
                nonce,
                iat,
            ));
            presentations.push('\n');
        }
        let codes: String = codes.iter().map(|c| format!("{}\n", c.as_str())).collect();
        std::fs::create_dir_all(&out_dir)?;
        std::fs::write(out_dir.join("presentation-codes.txt"), codes)?;
        std::fs::write(out_dir.join("presentations.txt"), presentations)?;
        Ok(())
    })
    .await??;
    eprintln!(
        "wrote {count} presentations and {count} codes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The credential of a bound card as `GET /cards/{id}/credential` serves it (without the name
/// disclosure), with `cnf.jwk`: the times on record, so the verifier finds it on record.
fn credential(
    card: &BoundCard,
    cipher: &PiiCipher,
    base_url: &str,
    kid: &str,
    der: &[u8],
    wallet: &Ed25519Wallet,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        card.exp == token::expiry(card.valid_until),
        "card {} has a credential on record with another expiry",
        card.number
    );
    let (list_no, entry) = status_list::locate(u32::try_from(card.status_index)?);
    let salt = token::disclosure_salt(cipher, card.id);
    let jwk = wallet.jwk();
    let claims = token::CardCredential {
        card_number: &card.number,
        scheme: &card.scheme,
        tier: &card.tier,
        issuer: "XA",
        valid_from: card.valid_from,
        valid_until: card.valid_until,
        status_index: entry,
        status_uri: status_list::uri(base_url, "XA", list_no),
        holder_name: &card.full_name,
        salt: &salt,
        issued_at: card.iat,
        base_url,
        holder_jwk: Some(&jwk),
    };
    Ok(token::issue(&claims, kid, der)?.presentation(false))
}
