//! `POST /api/v1/cards/{id}/report-loss` and `POST /api/v1/cards/{id}/replacement`: the holder
//! reports a card lost (挂失), which suspends it at once with the reason `reported_lost` (status
//! list too, so a dynamic code or nonce made before answers `suspended`), and then asks for a
//! replacement (补卡): a new card with a new number and status index, the same scheme, tier and
//! last day, superseding the lost one. One replacement per loss: the old card's conditional
//! revocation and the succession's primary key let one of two racing calls through.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CardView, visible_card};
use crate::audit::Actor;
use crate::domain::card_status::{CardAction, REPORTED_LOST};
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Talent};
use crate::models::application::Viewer;
use crate::models::card;
use crate::models::card_status::{Refused, StatusChange, change_status};
use crate::models::card_succession::{Succession, Supersession, supersede_card};
use crate::routes::applications::renewal::superseded_refusal;
use crate::state::AppState;

/// A loss report.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LossReport {
    /// Where and when it was lost, for the issuer.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Reports the holder's card lost: suspended at once with the reason `reported_lost`.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = LossReport,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The card, suspended as reported_lost", body = CardView),
        (status = 403, description = "forbidden: only the holder reports a loss"),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 409, description = "invalid_transition: the card is not active (revoked, expired, or suspended already)"),
        (status = 422, description = "validation_failed: the comment is not acceptable"),
    )
)]
#[post("/cards/{id}/report-loss")]
pub async fn report_loss(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<LossReport>,
) -> Result<HttpResponse, ApiError> {
    let comment = free_text::COMMENT
        .optional(body.0.comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let holder = talent.0.account_id;
    let mut conn = state.pool.get().await?;
    let found = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    let change = StatusChange {
        card: &found,
        action: CardAction::ReportLoss,
        reason: REPORTED_LOST,
        comment: comment.as_deref(),
        actor: Actor::Account(holder),
        now: state.now(),
        today: state.today(),
        detail: None,
    };
    let changed = conn
        .transaction(async |c| change_status(c, &change).await)
        .await?;
    let updated = changed.map_err(|refused| {
        let detail = match refused {
            Refused::NotAllowed if found.valid_until < state.today() => {
                "an expired card cannot be reported lost".to_owned()
            }
            Refused::NotAllowed => format!("a {} card cannot be reported lost", found.status),
            Refused::Changed => "the card changed meanwhile".to_owned(),
        };
        ApiError::new(ErrorCode::InvalidTransition, detail)
    })?;
    let view = super::view_of(&mut conn, updated, state.today()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Issues a replacement for a card reported lost: a new number and credential, the same
/// scheme, tier and last day; the lost card is revoked `superseded`.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "The lost card's id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The replacement card", body = CardView),
        (status = 403, description = "forbidden: only the holder asks for a replacement"),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 409, description = "invalid_transition: the card is not suspended as reported_lost (never reported lost, resumed, or replaced already); conflict: a replacement raced this one and won"),
    )
)]
#[post("/cards/{id}/replacement")]
pub async fn replace_card(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let holder = talent.0.account_id;
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let lost = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    if lost.status != "suspended"
        || lost.status_reason.as_deref() != Some(REPORTED_LOST)
        // A card on its last day is renewed, not replaced: a replacement must last a day.
        || lost.valid_until <= today
    {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            "only a card reported lost (not yet replaced, and valid after today) can be replaced; \
             report the loss first (POST /api/v1/cards/{id}/report-loss)",
        ));
    }
    let validity = card::tier_validity(&mut conn, &lost.scheme, &lost.tier)
        .await?
        .ok_or_else(|| ApiError::internal("a card of an unknown tier"))?;
    let supersession = Supersession {
        old: &lost,
        tier: &lost.tier,
        validity_years: validity,
        valid_from: None,
        valid_until: Some(lost.valid_until),
        application_id: None,
        kind: Succession::Replacement,
        actor: Actor::Account(holder),
        now: state.now(),
        pii: &state.pii,
    };
    let replaced = conn
        .transaction(async |c| {
            supersede_card(c, &supersession)
                .await?
                .map_err(|refused| superseded_refusal(refused, "the lost card"))
        })
        .await?;
    let view = super::view_of(&mut conn, replaced, today).await?;
    Ok(HttpResponse::Created().json(view))
}
