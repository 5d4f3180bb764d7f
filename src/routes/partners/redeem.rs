//! `POST /api/v1/redemptions`: records that the agency gave the holder a service, within the
//! quota of the card's local tier in the agency's district. The card's row lock serialises
//! concurrent redemptions, so a quota of one is used once; an `Idempotency-Key` replays the
//! first answer and writes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::auth::AgencyClient;
use crate::db::schema::redemptions;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::{ApiJson, idempotency_key};
use crate::models::card;
use crate::models::idempotency::{self, Claim};
use crate::state::AppState;
use crate::verification;

/// A service given.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionRequest {
    /// The card presented.
    pub card_number: String,
    /// The service category given.
    pub service: String,
}

/// The recorded redemption.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Redemption {
    /// UUID v7.
    pub id: Uuid,
    /// The card.
    pub card_number: String,
    /// The service.
    pub service: String,
    /// When.
    pub redeemed_at: DateTime<Utc>,
    /// Uses left in this period (`null`: unlimited).
    pub remaining: Option<i64>,
}

fn not_valid(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::CardNotValid, detail)
}

/// Records a redemption for the calling agency.
#[utoipa::path(
    tag = "partners",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body")),
    request_body = RedemptionRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Redemption),
        (status = 403, description = "the agency does not offer this service", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "quota_exhausted", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "card_not_valid", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/redemptions")]
pub async fn redeem(
    req: HttpRequest,
    client: AgencyClient,
    state: web::Data<AppState>,
    body: ApiJson<RedemptionRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let key = idempotency_key(&req)?;
    if !client.agency.services.contains(&request.service) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "this agency does not offer that service",
        ));
    }
    let principal = format!("agency_client:{}", client.client_id);
    let hash = hex::encode(Sha256::digest(format!(
        "redemption|{}",
        serde_json::to_string(&request).unwrap_or_default()
    )));
    let mut conn = state.pool.get().await?;
    let (status, answer) = conn
        .transaction(async |c| {
            if let Some(key) = &key {
                match idempotency::claim(c, &principal, key, &hash).await? {
                    Claim::New => {}
                    Claim::Replay(status, body) => return Ok((status, body)),
                    Claim::Mismatch => {
                        return Err(ApiError::invalid_field(
                            "Idempotency-Key",
                            "was used with another request",
                        ));
                    }
                }
            }
            let redemption = record(c, &state, &client, &request).await?;
            let body = serde_json::to_value(&redemption).map_err(ApiError::internal)?;
            if let Some(key) = &key {
                idempotency::complete(c, &principal, key, 201, &body).await?;
            }
            Ok::<_, ApiError>((201, body))
        })
        .await?;
    Ok(
        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED))
            .json(answer),
    )
}

async fn record(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    client: &AgencyClient,
    request: &RedemptionRequest,
) -> Result<Redemption, ApiError> {
    let now = state.now();
    let today = state.today();
    let agency = &client.agency;
    let found = card::lock_by_number(conn, request.card_number.trim())
        .await?
        .ok_or_else(|| not_valid("no such card"))?;
    if verification::live_status(&found, today) != "active" {
        return Err(not_valid("the card is not active"));
    }
    let policies = verification::policies(conn, today).await?;
    let issuer_district = verification::issuer_district(conn, &found.issuer).await?;
    let local_tier =
        verification::local_tier_in(&policies, &found, &agency.district, &issuer_district)
            .ok_or_else(|| not_valid("the card is not recognised in this district"))?;
    let rule = policies
        .entitlements
        .iter()
        .find(|r| {
            r.local_tier == local_tier
                && r.district == agency.district
                && r.service == request.service
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::QuotaExhausted,
                "this card has no entitlement to that service here",
            )
        })?;
    let period_key = rule
        .period_key(today, found.valid_from)
        .unwrap_or_else(|| "unlimited".to_owned());
    let used = verification::uses(conn, found.id, &agency.district)
        .await?
        .get(&(request.service.clone(), period_key.clone()))
        .copied()
        .unwrap_or(0);
    if rule.quota.is_some_and(|quota| used >= i64::from(quota)) {
        return Err(ApiError::new(
            ErrorCode::QuotaExhausted,
            "the quota for this period is used up",
        ));
    }
    let id = Uuid::now_v7();
    diesel::insert_into(redemptions::table)
        .values((
            redemptions::id.eq(id),
            redemptions::card_id.eq(found.id),
            redemptions::agency_id.eq(agency.id),
            redemptions::district.eq(&agency.district),
            redemptions::service.eq(&request.service),
            redemptions::period_key.eq(&period_key),
            redemptions::redeemed_at.eq(now),
        ))
        .execute(conn)
        .await?;
    let event = AuditEvent {
        actor: Actor::AgencyClient(client.client_id),
        action: "redemption.recorded",
        entity_type: "card",
        entity_id: Some(found.id.to_string()),
        detail: json!({ "agency": agency.id, "client": client.client_id, "service": request.service, "district": agency.district }),
    };
    audit::record(conn, &event).await?;
    Ok(Redemption {
        id,
        card_number: found.number,
        service: request.service.clone(),
        redeemed_at: now,
        remaining: rule.quota.map(|q| i64::from(q) - used - 1),
    })
}
