//! The holder's view of where the card counts: `GET /api/v1/cards/{id}/entitlements` (every
//! district that recognises it, with quota used and left) and `GET /api/v1/cards/{id}/verifications`
//! (who checked the card, where, when, and the result).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::visible_card;
use crate::domain::standing::{EntitlementUse, standing_everywhere};
use crate::error::ApiError;
use crate::extract::Talent;
use crate::models::application::Viewer;
use crate::models::standing;
use crate::models::verification::{self as verification_log, VerificationRecord};
use crate::routes::pagination::{Page, PageQuery, encode_cursor};
use crate::state::AppState;

/// What the card counts for in one district.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictEntitlements {
    /// District code.
    pub district: String,
    /// The tier the card counts as there.
    pub local_tier: String,
    /// Entitlements with use.
    pub entitlements: Vec<EntitlementUse>,
}

/// Every district that recognises the holder's card, with the entitlements there.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each district that recognises the card, with its entitlements and quota used and left (empty when the card is not active)", body = Vec<DistrictEntitlements>),
        (status = 404, description = "not_found: no such card of the caller's"),
    )
)]
#[get("/cards/{id}/entitlements")]
pub async fn get_card_entitlements(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let found = standing::holders(&mut conn, *id, talent.0.account_id, today)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let facts = found
        .facts()
        .ok_or_else(|| ApiError::internal("a card's stored status is not a card status"))?;
    let policies = state
        .policies
        .get(&mut conn, today, found.versions())
        .await?;
    let everywhere = standing_everywhere(&policies, &facts, &found.uses(), today);
    let out: Vec<DistrictEntitlements> = everywhere
        .into_iter()
        .filter_map(|(district, standing)| {
            Some(DistrictEntitlements {
                district,
                local_tier: standing.local_tier?,
                entitlements: standing.entitlements,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Who verified the holder's card, newest first, a page at a time (a card shown at a metro
/// gate daily gathers hundreds a year).
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the card's verifications, newest first", body = Page<VerificationRecord>),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 422, description = "validation_failed: the page size or cursor is not acceptable"),
    )
)]
#[get("/cards/{id}/verifications")]
pub async fn get_verifications(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let mut conn = state.pool.get().await?;
    let found = visible_card(&mut conn, *id, &Viewer::Talent(talent.0.account_id)).await?;
    let records = verification_log::of_card(&mut conn, found.id, after, limit + 1).await?;
    let page = Page::from_rows(records, limit, |r| encode_cursor(r.verified_at, r.id));
    Ok(HttpResponse::Ok().json(page))
}
