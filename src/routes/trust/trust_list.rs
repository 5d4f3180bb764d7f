//! `GET /api/v1/trust-list`: every recognised issuer and all its published keys.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{cacheable, issued_at};
use crate::credentials::{keys, signed, token};
use crate::domain::recognition::RecognitionRule;
use crate::error::ApiError;
use crate::models::{issuer_key, policy, reference, scheme};
use crate::state::AppState;

/// Seconds a verifier may cache the trust list, and the window its stamp is rounded to: a
/// list is at most two windows old when it reaches a verifier through a cache, well inside the
/// offline verifier's default 600 s, and a withdrawn key leaves every cache within two minutes.
pub const TTL_SECS: u32 = 60;

/// A published key.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedKey {
    /// Key id, as in credential headers.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: &'static str,
    /// The public key as a JWK (`OKP`, `Ed25519`).
    #[schema(value_type = Object)]
    pub jwk: serde_json::Value,
    /// `active` signs new credentials; `retired` only verifies what it signed while active.
    /// A compromised key is not listed at all.
    pub status: String,
    /// When the key was created.
    pub not_before: DateTime<Utc>,
    /// For retired keys: the latest `exp` of any credential it signed; a credential valid
    /// longer is not its to vouch for.
    pub not_after: Option<DateTime<Utc>>,
    /// For retired keys: when it stopped signing (credentials it signed have `iat` before).
    pub retired_at: Option<DateTime<Utc>>,
}

/// An issuer with its keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedIssuer {
    /// Issuer code.
    pub code: String,
    /// The issuer's identifier: the `iss` of its credentials (SD-JWT VC issuer metadata at
    /// `/.well-known/jwt-vc-issuer/issuers/{code}` under the same origin).
    pub issuer_url: String,
    /// Name.
    pub name: String,
    /// District.
    pub district: String,
    /// Keys.
    pub keys: Vec<TrustedKey>,
}

/// A scheme and the issuers whose keys may vouch for its cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustedScheme {
    /// Scheme code.
    pub code: String,
    /// The `vct` of its credentials (type metadata served there).
    pub vct: String,
    /// Issuer codes.
    pub issuers: Vec<String>,
}

/// The trust list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustList {
    /// When this list was assembled: the start of the current minute, or the latest key change
    /// when that is later (a list made after a withdrawal is always stamped after one made
    /// before it).
    pub issued_at: DateTime<Utc>,
    /// Issuers.
    pub issuers: Vec<TrustedIssuer>,
    /// Which issuers issue which scheme: a key vouches only for cards of its own issuer's
    /// schemes.
    pub schemes: Vec<TrustedScheme>,
    /// The mutual-recognition rules in force, so offline verifiers know the local tier too.
    pub recognitions: Vec<RecognitionRule>,
    /// Where every status list's URI is listed (`GET /api/v1/status-lists`).
    pub status_list_aggregation_uri: String,
}

/// Assembles the trust list from the published keys.
async fn build(state: &AppState) -> Result<TrustList, ApiError> {
    let mut conn = state.pool.get().await?;
    let issuers = reference::list_issuers(&mut conn).await?;
    let keys = issuer_key::published(&mut conn, state.now()).await?;
    let last_change = issuer_key::last_change(&mut conn).await?;
    let schemes = scheme::list(&mut conn)
        .await?
        .into_iter()
        .map(|s| TrustedScheme {
            vct: token::vct_url(&state.public_base_url, &s.row.code),
            code: s.row.code,
            issuers: s.issuers,
        })
        .collect();
    let recognitions = policy::recognitions(&mut conn, state.today())
        .await?
        .map(|p| p.rules)
        .unwrap_or_default();
    let list = TrustList {
        issued_at: issued_at(state.now(), TTL_SECS).max(last_change.unwrap_or_default()),
        issuers: issuers
            .into_iter()
            .map(|issuer| TrustedIssuer {
                keys: keys
                    .iter()
                    .filter(|p| p.key.issuer == issuer.code)
                    .map(|p| TrustedKey {
                        kid: p.key.kid.clone(),
                        alg: "EdDSA",
                        jwk: keys::public_jwk(&p.key.kid, &p.key.public_key),
                        status: p.key.status.clone(),
                        not_before: p.key.created_at,
                        not_after: p.not_after.filter(|_| p.key.status == "retired"),
                        retired_at: p.key.retired_at,
                    })
                    .collect(),
                issuer_url: token::issuer_url(&state.public_base_url, &issuer.code),
                code: issuer.code,
                name: issuer.name,
                district: issuer.district,
            })
            .collect(),
        schemes,
        recognitions,
        status_list_aggregation_uri: format!("{}/api/v1/status-lists", state.public_base_url),
    };
    Ok(list)
}

/// The trust list verifiers check credentials against. Cacheable (ETag).
#[utoipa::path(tag = "trust", responses((status = 200, description = "Every issuer with its keys in force, the schemes and the recognitions", body = TrustList), (status = 304, description = "Not modified")))]
#[get("/trust-list")]
pub async fn get_trust_list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = build(&state).await?;
    let body = serde_json::to_vec(&list).map_err(ApiError::internal)?;
    Ok(cacheable(&req, body, TTL_SECS))
}

/// The same trust list as a compact JWS signed by the platform key (`typ: tl+jwt`), for
/// verifiers that take the list from a CDN or a file: they check it with the platform's public
/// key (`talentcard platform-key` prints it). Cacheable (ETag).
#[utoipa::path(tag = "trust", responses((status = 200, description = "Compact JWS", content_type = "application/jwt"), (status = 304, description = "Not modified")))]
#[get("/trust-list.jws")]
pub async fn get_signed_trust_list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = build(&state).await?;
    let platform = &state.platform_key;
    let jws = signed::sign(&list, signed::TRUST_LIST_TYP, &platform.kid, &platform.der)
        .map_err(ApiError::internal)?;
    Ok(super::as_jwt(cacheable(&req, jws.into_bytes(), TTL_SECS)))
}
