//! `POST /api/v1/redemptions/{id}/reversal`: the agency that recorded a redemption takes it
//! back (entered in error, service not given) within 24 hours; the quota is restored, since
//! reversed redemptions count nowhere. Any client of that agency may; another agency gets 404.
//! The redemption's row lock makes two reversals at once one 200 and one 409.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::error::{ApiError, ErrorCode};
use crate::extract::AgencyClient;
use crate::extract::ApiJson;
use crate::models::redemption::{self, REVERSAL_WINDOW, Reversal};

/// Why a redemption is taken back.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReversalReason {
    /// Recorded by mistake (wrong service, wrong card, twice).
    EnteredInError,
    /// Recorded, but the service was not given after all.
    ServiceNotGiven,
    /// Something else (explained in the comment).
    Other,
}

impl ReversalReason {
    fn as_str(self) -> &'static str {
        match self {
            ReversalReason::EnteredInError => "entered_in_error",
            ReversalReason::ServiceNotGiven => "service_not_given",
            ReversalReason::Other => "other",
        }
    }
}

/// A reversal: a coded reason, and a comment (required for `other`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    /// The coded reason.
    pub reason_code: ReversalReason,
    /// Up to 2,000 printable characters (newlines allowed).
    #[serde(default)]
    pub comment: Option<String>,
}

/// A reversed redemption.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReversedRedemption {
    /// UUID v7.
    pub id: Uuid,
    /// The card.
    pub card_number: String,
    /// The service.
    pub service: String,
    /// When it was recorded.
    pub redeemed_at: DateTime<Utc>,
    /// When it was reversed.
    pub reversed_at: Option<DateTime<Utc>>,
    /// `entered_in_error`, `service_not_given` or `other`.
    pub reversal_reason: Option<String>,
    /// The comment given.
    pub reversal_comment: Option<String>,
}

fn comment(request: &ReversalRequest) -> Result<Option<String>, ApiError> {
    let text = crate::domain::free_text::COMMENT
        .optional(request.comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    if text.is_none() && request.reason_code == ReversalReason::Other {
        return Err(ApiError::invalid_field(
            "comment",
            "is required when the reason is other",
        ));
    }
    Ok(text)
}

/// Reverses one of the agency's redemptions within 24 hours.
#[utoipa::path(
    tag = "partners",
    params(("id" = Uuid, Path, description = "Redemption id")),
    request_body = ReversalRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reversed redemption; its quota is given back", body = ReversedRedemption),
        (status = 404, description = "no such redemption of this agency"),
        (status = 409, description = "conflict: reversed already, or more than 24 hours after it was recorded"),
    )
)]
#[post("/redemptions/{id}/reversal")]
pub async fn reverse_redemption(
    client: AgencyClient,
    state: web::Data<crate::state::AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<ReversalRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let comment = comment(&request)?;
    let now = state.now();
    let id = *id;
    let mut conn = state.pool.get().await?;
    let answer = conn
        .transaction(async |c| {
            let (found, number) = redemption::lock_of_agency(c, id, client.agency.id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            if found.reversed_at.is_some() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "this redemption is reversed already",
                ));
            }
            if now - found.redeemed_at > REVERSAL_WINDOW {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "a redemption can be reversed only within 24 hours of being recorded",
                ));
            }
            let reversal = Reversal {
                reason: request.reason_code.as_str(),
                comment: comment.as_deref(),
                by: client.client_id,
                at: now,
            };
            let reversed = redemption::reverse(c, id, &reversal)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "reversed meanwhile"))?;
            let event = AuditEvent {
                actor: Actor::AgencyClient(client.client_id),
                action: "redemption.reversed",
                entity_type: "redemption",
                entity_id: Some(id.to_string()),
                detail: json!({
                    "agency": client.agency.id,
                    "card": reversed.card_id,
                    "service": reversed.service,
                    "district": reversed.district,
                    "period_key": reversed.period_key,
                    "reason_code": reversal.reason,
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(ReversedRedemption {
                id,
                card_number: number,
                service: reversed.service,
                redeemed_at: reversed.redeemed_at,
                reversed_at: reversed.reversed_at,
                reversal_reason: reversed.reversal_reason,
                reversal_comment: reversed.reversal_comment,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
