//! The holder's view of where the card counts: `GET /api/v1/cards/{id}/entitlements` (every
//! district that recognises it, with quota used and left) and `GET /api/v1/cards/{id}/verifications`
//! (who checked the card, where, when, and the result).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Talent;
use crate::db::schema::{agencies, verifications};
use crate::error::ApiError;
use crate::models::application::Viewer;
use crate::models::card;
use crate::routes::pagination::{Page, PageQuery, encode_cursor};
use crate::state::AppState;
use crate::verification::{self, EntitlementUse};

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
    let found = card::find_visible(&mut conn, *id, &Viewer::Talent(talent.0.account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    if verification::live_status(&found, today) != "active" {
        return Ok(HttpResponse::Ok().json(Vec::<DistrictEntitlements>::new()));
    }
    let policies = verification::policies(&mut conn, today).await?;
    let issuer_district = verification::issuer_district(&mut conn, &found.issuer).await?;
    let mut districts: Vec<String> = policies
        .entitlements
        .iter()
        .map(|r| r.district.clone())
        .collect();
    districts.sort();
    districts.dedup();
    let mut out = Vec::new();
    for district in districts {
        if let Some(local_tier) =
            verification::local_tier_in(&policies, &found, &district, &issuer_district)
        {
            let entitlements = verification::entitlements(
                &mut conn,
                &policies,
                &found,
                &local_tier,
                &district,
                None,
                today,
            )
            .await?;
            out.push(DistrictEntitlements {
                district,
                local_tier,
                entitlements,
            });
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// One check of the card by a partner agency.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct VerificationRecord {
    /// The row's id: only the page cursor needs it.
    #[serde(skip)]
    pub id: Uuid,
    /// When.
    pub verified_at: DateTime<Utc>,
    /// The agency's name.
    pub agency: String,
    /// Its district.
    pub district: String,
    /// `card_number` or `credential`.
    pub method: String,
    /// Whether the card was valid.
    pub valid: bool,
    /// The status seen.
    pub status: String,
    /// The local tier it counted as.
    pub local_tier: Option<String>,
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
    let found = card::find_visible(&mut conn, *id, &Viewer::Talent(talent.0.account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let query = verifications::table
        .inner_join(agencies::table)
        .filter(verifications::card_id.eq(found.id))
        .into_boxed();
    let query = match after {
        Some((at, id)) => query.filter(
            verifications::verified_at
                .lt(at)
                .or(verifications::verified_at
                    .eq(at)
                    .and(verifications::id.lt(id))),
        ),
        None => query,
    };
    let records: Vec<VerificationRecord> = query
        .order((verifications::verified_at.desc(), verifications::id.desc()))
        .limit(limit + 1)
        .select((
            verifications::id,
            verifications::verified_at,
            agencies::name,
            verifications::district,
            verifications::method,
            verifications::valid,
            verifications::status,
            verifications::local_tier,
        ))
        .load(&mut conn)
        .await?;
    let page = Page::from_rows(records, limit, |r| encode_cursor(r.verified_at, r.id));
    Ok(HttpResponse::Ok().json(page))
}
