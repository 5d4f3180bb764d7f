//! `POST /api/v1/cards/{id}/presentation-code`: a holder without a wallet proves at the counter
//! that they hold the card now. The code is single use and short-lived
//! (`cards.presentation_code_ttl_secs`, 60 s by default), so a photo of a static QR code, or of
//! this one after it was scanned, is not enough where an entitlement asks for holder binding.
//!
//! Any card of the holder's gets a code, whatever its status: the verification answers the
//! card's own status (a suspended or revoked card's code verifies as suspended or revoked), so
//! refusing here would hide nothing and only make the app's screen differ from the counter's.
//!
//! Codes are not audited: creating one changes nothing about the card (it is a short-lived
//! secret, like an access token), a holder may make one a minute, and the check that uses it is
//! recorded in the card's verification log the holder reads. Each holder may create
//! [`super::ASKS_PER_HOLDER_MINUTE`] a minute, so a script cannot fill the table.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{visible_card, within_holder_limit};
use crate::credentials::presentation_code::PresentationCode;
use crate::error::{ApiError, ProblemDetails};
use crate::extract::Talent;
use crate::models::application::Viewer;
use crate::models::presentation;
use crate::state::AppState;

/// A fresh presentation code.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresentationCodeView {
    /// `TC1:` and 26 Crockford base32 characters (130 random bits); an agency verifies it once
    /// with `POST /verifications {presentation_code}`.
    pub code: String,
    /// When it stops verifying (`status: "code_expired"` after).
    pub expires_at: DateTime<Utc>,
    /// The code as a QR code (SVG, level M, version 2) for the agency's scanner.
    pub qr_svg: String,
}

/// Creates a single-use presentation code for the caller's card.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A fresh single-use code, its expiry and its QR code; never cached", body = PresentationCodeView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 403, description = "forbidden: only talent hold cards", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "not_found: no such card of the caller's", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited: the holder created too many codes this minute; `Retry-After` says when to try again", body = ProblemDetails, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the window ends"))),
    )
)]
#[post("/cards/{id}/presentation-code")]
pub async fn create_presentation_code(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let holder = talent.0.account_id;
    // PostgreSQL keeps microseconds: the answer names the instant stored.
    let now = state.now().trunc_subsecs(6);
    let mut conn = state.pool.get().await?;
    let card = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    within_holder_limit(&mut conn, "presentation_code", holder, now).await?;
    let code = PresentationCode::generate();
    let expires_at = now + TimeDelta::seconds(state.cards.presentation_code_ttl_secs);
    presentation::insert_code(&mut conn, card.id, &code, now, expires_at).await?;
    drop(conn);
    let qr_svg = code.qr_svg().map_err(ApiError::internal)?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(PresentationCodeView {
            code: code.as_str().to_owned(),
            expires_at,
            qr_svg,
        }))
}
