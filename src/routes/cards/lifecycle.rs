//! `POST /api/v1/cards/{id}/suspend`, `/resume`, `/revoke`: an official of the card's issuer,
//! with a coded reason. Revoked is final. The status list changes in the same transaction.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CardView;
use crate::audit::{self, Actor, AuditEvent};
use crate::auth::Official;
use crate::credentials::status_list::ListStatus;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::ApiJson;
use crate::models::application::Viewer;
use crate::models::{account, card, status_list};
use crate::state::AppState;

/// Why a card is suspended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuspendReason {
    /// Facts are being checked.
    UnderInvestigation,
    /// The holder changed employer.
    EmployerChangeReview,
    /// The holder asked.
    HolderRequest,
    /// Explained in the comment.
    Other,
}

/// Why a card is revoked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// Forged or false material.
    FraudulentMaterial,
    /// No longer meets the criteria.
    LossOfEligibility,
    /// Left the area.
    LeftArea,
    /// The holder asked.
    HolderRequest,
    /// Deceased.
    Death,
    /// Replaced by a renewal or upgrade.
    Superseded,
    /// The signing key was compromised.
    KeyCompromise,
    /// Explained in the comment.
    Other,
}

/// A suspension.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// The coded reason.
    pub reason_code: SuspendReason,
    /// Details.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A resumption.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// Why (free text code, e.g. `investigation_closed`).
    #[serde(default)]
    pub reason_code: Option<String>,
    /// Details.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A revocation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The coded reason.
    pub reason_code: RevokeReason,
    /// Details.
    #[serde(default)]
    pub comment: Option<String>,
}

fn code_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Applies one lifecycle change: from one of `from` to `to`, the list entry to `entry`.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per action, each naming every part"
)]
async fn change(
    official: &Official,
    state: &AppState,
    id: Uuid,
    from: &[&str],
    to: &str,
    entry: ListStatus,
    reason: String,
    comment: Option<String>,
    action: &'static str,
) -> Result<HttpResponse, ApiError> {
    let comment: Option<String> =
        comment.map(|c| c.chars().filter(|ch| !ch.is_control()).take(500).collect());
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let found = card::find_visible(&mut conn, id, &Viewer::Official(official.issuer.clone()))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let expired = found.valid_until < state.today() && to != "revoked";
    if !from.contains(&found.status.as_str()) || expired {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            format!("a {} card cannot be {action}", found.status),
        ));
    }
    let index = found
        .status_index
        .ok_or_else(|| ApiError::internal("a card without a status index"))?;
    let updated = conn
        .transaction(async |c| {
            let Some(updated) =
                card::set_status(c, found.id, &found.status, to, &reason, now).await?
            else {
                return Ok(None);
            };
            status_list::set_status(c, &found.issuer, index, entry, now).await?;
            let event = AuditEvent {
                actor: Actor::Account(official.account_id),
                action: match to {
                    "suspended" => "card.suspended",
                    "revoked" => "card.revoked",
                    _ => "card.resumed",
                },
                entity_type: "card",
                entity_id: Some(found.id.to_string()),
                detail: json!({ "from": found.status, "reason_code": reason, "comment": comment }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(Some(updated))
        })
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidTransition, "the card changed meanwhile"))?;
    let name = account::find(&mut conn, updated.holder_id)
        .await?
        .map(|a| a.full_name)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(CardView::new(updated, name, state.today())))
}

/// Suspends an active card.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = SuspendRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The suspended card", body = CardView),
        (status = 404, description = "not_found: no such card of the official's issuer", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition: the card is not active", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/cards/{id}/suspend")]
pub async fn suspend_card(
    official: Official,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<SuspendRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let reason = code_of(&body.reason_code);
    change(
        &official,
        &state,
        *id,
        &["active"],
        "suspended",
        ListStatus::Suspended,
        reason,
        body.comment,
        "suspended",
    )
    .await
}

/// Resumes a suspended card.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = ResumeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The active card again", body = CardView),
        (status = 404, description = "not_found: no such card of the official's issuer", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "not suspended (a revoked card stays revoked)", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/cards/{id}/resume")]
pub async fn resume_card(
    official: Official,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<ResumeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let reason = body
        .reason_code
        .unwrap_or_else(|| "resumed".to_owned())
        .chars()
        .take(64)
        .collect();
    change(
        &official,
        &state,
        *id,
        &["suspended"],
        "active",
        ListStatus::Valid,
        reason,
        body.comment,
        "resumed",
    )
    .await
}

/// Revokes a card; final.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = RevokeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked card", body = CardView),
        (status = 404, description = "not_found: no such card of the official's issuer", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition: the card is revoked already", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/cards/{id}/revoke")]
pub async fn revoke_card(
    official: Official,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let reason = code_of(&body.reason_code);
    change(
        &official,
        &state,
        *id,
        &["active", "suspended"],
        "revoked",
        ListStatus::Revoked,
        reason,
        body.comment,
        "revoked",
    )
    .await
}
