//! Holder binding: `POST /api/v1/nonce` (OpenID4VCI's nonce endpoint) and
//! `PUT /api/v1/cards/{id}/holder-key`, where a holder binds their card to a key of their
//! wallet with a proof of possession over that nonce. Credentials fetched afterwards carry the
//! key as `cnf.jwk`, so a verifier can ask for a key-binding JWT (RFC 9901) that a photograph
//! of the QR code cannot produce.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, post, put, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{visible_card, within_holder_limit};
use crate::audit::{self, Actor, AuditEvent};
use crate::credentials::{holder_key, token};
use crate::crypto::random;
use crate::domain::card_status::CardStatus;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Talent};
use crate::models::application::Viewer;
use crate::models::holder_key as store;
use crate::state::AppState;

/// How long a holder nonce may be used, in seconds.
pub const NONCE_TTL_SECS: i64 = 300;

/// A fresh nonce for a proof of possession.
#[derive(Debug, Serialize, ToSchema)]
pub struct NonceView {
    /// 256 random bits, base64url: put it in the proof's `nonce` claim. Single use, for the
    /// account that asked only.
    pub c_nonce: String,
    /// Seconds it stays usable (300).
    pub expires_in: i64,
}

/// A nonce for the proof that binds a card to the caller's wallet key.
///
/// Only its SHA-256 is stored; it is consumed by the one binding that uses it.
#[utoipa::path(
    tag = "cards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A single-use nonce for this account (`Cache-Control: no-store`)", body = NonceView),
        (status = 429, description = "rate_limited: more than 10 nonces this minute; `Retry-After` says when to try again", body = crate::error::ProblemDetails, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the minute ends"))),
    )
)]
#[post("/nonce")]
pub async fn post_nonce(
    talent: Talent,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let nonce = random::token("");
    let now = state.now();
    let expires_at = now + chrono::Duration::seconds(NONCE_TTL_SECS);
    let mut conn = state.pool.get().await?;
    within_holder_limit(&mut conn, "nonce", talent.0.account_id, now).await?;
    store::create_nonce(
        &mut conn,
        &random::sha256_hex(&nonce),
        talent.0.account_id,
        expires_at,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(NonceView {
            c_nonce: nonce,
            expires_in: NONCE_TTL_SECS,
        }))
}

/// A proof of possession of the holder's wallet key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderKeyRequest {
    /// A JWT signed by the wallet key: header `typ: openid4vci-proof+jwt`, `alg` `ES256`
    /// (EC P-256 `jwk`) or `EdDSA` (OKP Ed25519 `jwk`), the public key as `jwk`; claims `aud`
    /// = the card's `iss`, `iat` within 300 s, `nonce` from `POST /api/v1/nonce`.
    pub proof: String,
}

/// The key now bound to the card.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderKeyView {
    /// Its RFC 7638 thumbprint (SHA-256, base64url).
    pub jkt: String,
}

/// Why a card cannot take a key now.
fn unbindable(
    status: &str,
    valid_until: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Option<String> {
    if CardStatus::parse(status) == Some(CardStatus::Revoked) {
        Some("a revoked card cannot be bound to a key".to_owned())
    } else if valid_until < today {
        Some("an expired card cannot be bound to a key".to_owned())
    } else {
        None
    }
}

/// What the transaction refused.
enum Refusal {
    /// The nonce is unknown, used, expired or another account's.
    Nonce,
    /// The card became unbindable (revoked) since it was read.
    State(String),
}

/// Binds the card to the wallet key the proof was signed with (replacing any key bound
/// before); credentials fetched afterwards carry it as `cnf.jwk`.
///
/// The proof's `aud` must be the card's issuer as credentials served now name it,
/// `{public_base_url}/issuers/{code}`: the `urn:` form of the first release is refused, as
/// the credential the wallet fetches after binding never carries it. The nonce is consumed in
/// the transaction that stores the key and writes the audit row `card.holder_key_bound`
/// (`jkt`, `previous_jkt`).
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = HolderKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bound: the key's thumbprint", body = HolderKeyView),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 409, description = "invalid_transition: the card is revoked or expired"),
        (status = 422, description = "validation_failed: the proof is refused (`errors[0].field` = `proof`, the message names the problem: typ, alg, jwk, signature, aud, iat or nonce)"),
    )
)]
#[put("/cards/{id}/holder-key")]
pub async fn put_holder_key(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<HolderKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let holder = talent.0.account_id;
    let (now, today) = (state.now(), state.today());
    let mut conn = state.pool.get().await?;
    let found = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    if let Some(why) = unbindable(&found.status, found.valid_until, today) {
        return Err(ApiError::new(ErrorCode::InvalidTransition, why));
    }
    let aud = token::issuer_url(&state.public_base_url, &found.issuer);
    let proof = holder_key::verify_proof(&body.0.proof, &aud, now.timestamp())
        .map_err(|e| ApiError::invalid_field("proof", e.to_string()))?;
    let jkt = proof.jwk.thumbprint();
    let nonce_hash = random::sha256_hex(&proof.nonce);
    let card_id = found.id;
    let outcome = conn
        .transaction(async |c| {
            let Some(locked) = store::lock_card(c, card_id).await? else {
                return Err(diesel::result::Error::NotFound);
            };
            if let Some(why) = unbindable(&locked.status, locked.valid_until, today) {
                return Ok(Err(Refusal::State(why)));
            }
            if !store::consume_nonce(c, &nonce_hash, holder, now).await? {
                return Ok(Err(Refusal::Nonce));
            }
            store::bind(c, card_id, &proof.jwk, &jkt, now).await?;
            let event = AuditEvent {
                actor: Actor::Account(holder),
                action: "card.holder_key_bound",
                entity_type: "card",
                entity_id: Some(card_id.to_string()),
                detail: json!({ "jkt": jkt, "previous_jkt": locked.jkt }),
            };
            audit::record(c, &event).await?;
            Ok(Ok(()))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::Ok().json(HolderKeyView { jkt })),
        Err(Refusal::Nonce) => Err(ApiError::invalid_field(
            "proof",
            "the proof's nonce is unknown, already used, expired or not this account's; \
             get a fresh one from POST /api/v1/nonce",
        )),
        Err(Refusal::State(why)) => Err(ApiError::new(ErrorCode::InvalidTransition, why)),
    }
}
