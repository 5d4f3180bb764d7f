//! `POST /api/v1/cards/{id}/suspend`, `/resume`, `/revoke`: an official of the card's issuer,
//! with a coded reason. Revoked is final. The card status machine (`domain::card_status`)
//! decides, and `models::card_status::change_status` moves the row, the status list and the
//! audit together.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CardView, visible_card};
use crate::audit::Actor;
use crate::domain::card_status::CardAction;
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::extract::Official;
use crate::models::account;
use crate::models::application::Viewer;
use crate::models::card_status::{Refused, StatusChange, change_status};
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
    /// Why: a short free code, e.g. `investigation_closed` (at most 64 printable characters;
    /// `resumed` when absent).
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

/// Applies one lifecycle change through the card status machine (`models::card_status`).
async fn change(
    official: &Official,
    state: &AppState,
    id: Uuid,
    action: CardAction,
    reason: String,
    comment: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let comment = free_text::COMMENT
        .optional(comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let mut conn = state.pool.get().await?;
    let found = visible_card(&mut conn, id, &Viewer::Official(official.issuer.clone())).await?;
    let change = StatusChange {
        card: &found,
        action,
        reason: &reason,
        comment: comment.as_deref(),
        actor: Actor::Account(official.account_id),
        now: state.now(),
        today: state.today(),
        detail: None,
    };
    let changed = conn
        .transaction(async |c| change_status(c, &change).await)
        .await?;
    let updated = changed.map_err(|refused| {
        let detail = match refused {
            Refused::NotAllowed => format!("a {} card cannot be {}", found.status, action.done()),
            Refused::Changed => "the card changed meanwhile".to_owned(),
        };
        ApiError::new(ErrorCode::InvalidTransition, detail)
    })?;
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
        (status = 404, description = "not_found: no such card of the official's issuer"),
        (status = 409, description = "invalid_transition: the card is not active"),
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
        CardAction::Suspend,
        reason,
        body.comment,
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
        (status = 404, description = "not_found: no such card of the official's issuer"),
        (status = 409, description = "not suspended (a revoked card stays revoked)"),
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
    let reason = free_text::REASON_CODE
        .optional(body.reason_code.as_deref())
        .map_err(|e| ApiError::invalid_field("reason_code", e.to_string()))?
        .unwrap_or_else(|| "resumed".to_owned());
    change(
        &official,
        &state,
        *id,
        CardAction::Resume,
        reason,
        body.comment,
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
        (status = 404, description = "not_found: no such card of the official's issuer"),
        (status = 409, description = "invalid_transition: the card is revoked already"),
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
        CardAction::Revoke,
        reason,
        body.comment,
    )
    .await
}
