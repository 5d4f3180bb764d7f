//! `POST /api/v1/verifications/nonce`: an agency's challenge for a holder's wallet. The wallet
//! signs it into the key-binding JWT of its presentation, and the verification accepts it once,
//! from this agency, within [`NONCE_TTL_SECS`]: a presentation recorded at one counter cannot
//! be replayed at another, nor later at the same one.
//!
//! Nonces are not audited: issuing one changes nothing anyone holds (a desk asks for one per
//! customer), and the verification that consumes it is recorded with the agency's checks. An
//! agency needs one per verification, so it may take `partners.verifications_per_minute` a
//! minute (all its clients together, on every instance); past it 429, so a leaked client cannot
//! fill the table.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, post, web};
use chrono::TimeDelta;
use serde::Serialize;
use utoipa::ToSchema;

use crate::credentials::presentation_code::{NONCE_TTL_SECS, new_nonce};
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::AgencyClient;
use crate::models::{address_rate, presentation};
use crate::state::AppState;

/// A fresh verification nonce.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationNonce {
    /// 256 random bits, base64url: the `nonce` claim of the holder's KB-JWT. Single use, and
    /// only this agency's verifications accept it.
    pub nonce: String,
    /// Seconds it stays usable (300).
    pub expires_in: i64,
}

/// Issues a single-use nonce bound to the calling agency.
#[utoipa::path(
    tag = "partners",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A fresh nonce for a holder's key-binding JWT, usable once by this agency; never cached", body = VerificationNonce,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 403, description = "forbidden: only agency clients verify", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited: the agency took `partners.verifications_per_minute` nonces this minute; `Retry-After` says when to try again", body = ProblemDetails, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the window ends"))),
    )
)]
#[post("/verifications/nonce")]
pub async fn create_verification_nonce(
    client: AgencyClient,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let key = format!("verification_nonce:{}", client.agency.id);
    let (count, window_end) =
        address_rate::take(&mut conn, &key, TimeDelta::minutes(1), now).await?;
    if i64::from(count) > state.partners.verifications_per_minute {
        let wait = u64::try_from((window_end - now).num_seconds().max(1)).unwrap_or(1);
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many nonces this minute; try again later",
        )
        .with_retry_after(wait));
    }
    let nonce = new_nonce();
    let expires_at = now + TimeDelta::seconds(NONCE_TTL_SECS);
    presentation::insert_nonce(&mut conn, &nonce, client.agency.id, now, expires_at).await?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(VerificationNonce {
            nonce,
            expires_in: NONCE_TTL_SECS,
        }))
}
