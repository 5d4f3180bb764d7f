//! `GET /api/v1/cards/{id}/credential`: the holder's signed credential.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Talent;
use crate::credentials::{keys, token};
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::models::application::Viewer;
use crate::models::{account, card, issuer_key};
use crate::state::AppState;

/// A credential to present.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    /// `dc+sd-jwt`.
    pub format: &'static str,
    /// `<JWS>~<holder-name disclosure>~`; a verifier checks the JWS against the trust list.
    pub credential: String,
}

/// Signs the holder's card as a credential (a fresh salt and `iat` each time).
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CredentialView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "the card is revoked", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/cards/{id}/credential")]
pub async fn get_credential(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let found = card::find_visible(&mut conn, *id, &Viewer::Talent(talent.0.account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    if found.status == "revoked" {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a revoked card has no credential",
        ));
    }
    let (Some(kid), Some(index)) = (found.kid.clone(), found.status_index) else {
        return Err(ApiError::internal(
            "a card without a signing key or status index",
        ));
    };
    let key = issuer_key::find(&mut conn, &kid)
        .await?
        .ok_or_else(|| ApiError::internal("missing issuer key"))?;
    let holder = account::find(&mut conn, found.holder_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);
    let der =
        keys::signing_der(&kid, &key.private_key_sealed, &state.pii).map_err(ApiError::internal)?;
    let credential = token::CardCredential {
        card_number: &found.number,
        scheme: &found.scheme,
        tier: &found.tier,
        issuer: &found.issuer,
        valid_from: found.valid_from,
        valid_until: found.valid_until,
        status_index: u32::try_from(index).unwrap_or(0),
        status_uri: format!(
            "{}/api/v1/status-lists/{}",
            state.public_base_url, found.issuer
        ),
        holder_name: &holder.full_name,
        now: state.now(),
    };
    let credential = token::issue(&credential, &kid, &der).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(CredentialView {
        format: token::TYP,
        credential,
    }))
}
