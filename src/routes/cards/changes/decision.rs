//! `POST /api/v1/cards/{id}/changes/{change_id}/decision`: an official of the card's issuer
//! decides an open change report: `keep` the card, `retier` it (the new tier's card supersedes
//! it), `suspend` or `revoke` it with a coded reason. The report's conditional update and the
//! card's change are one transaction, so two decisions on one report yield one (the other 409),
//! and an `Idempotency-Key` replays the first answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ChangeView;
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::card_status::CardAction;
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::{ApiJson, Official};
use crate::models::application::Viewer;
use crate::models::card::{self, Card};
use crate::models::card_change::{self, CardChange, ChangeDecision};
use crate::models::card_status::{Refused, StatusChange, change_status};
use crate::models::card_succession::{Succession, Supersession, supersede_card};
use crate::routes::applications::renewal::superseded_refusal;
use crate::routes::cards::visible_card;
use crate::routes::idempotency::Keyed;
use crate::state::AppState;

/// What the issuer decides on a change report.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDecisionKind {
    /// The card stays as it is.
    Keep,
    /// The new tier's card supersedes this one (`tier` required).
    Retier,
    /// The card is suspended (`reason_code` a suspension reason).
    Suspend,
    /// The card is revoked (`reason_code` a revocation reason).
    Revoke,
}

/// The coded reason of a suspension or revocation on a change report: the card lifecycle's
/// suspension reasons and revocation reasons (each decision accepts only its own).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// Suspension: facts are being checked.
    UnderInvestigation,
    /// Suspension: the new employer is being reviewed.
    EmployerChangeReview,
    /// Suspension or revocation: the holder asked.
    HolderRequest,
    /// Revocation: forged or false material.
    FraudulentMaterial,
    /// Revocation: the criteria are no longer met.
    LossOfEligibility,
    /// Revocation: the holder left the area.
    LeftArea,
    /// Revocation: deceased.
    Death,
    /// Either: explained in the comment.
    Other,
}

impl ChangeReason {
    /// The stored code.
    fn as_str(self) -> &'static str {
        match self {
            ChangeReason::UnderInvestigation => "under_investigation",
            ChangeReason::EmployerChangeReview => "employer_change_review",
            ChangeReason::HolderRequest => "holder_request",
            ChangeReason::FraudulentMaterial => "fraudulent_material",
            ChangeReason::LossOfEligibility => "loss_of_eligibility",
            ChangeReason::LeftArea => "left_area",
            ChangeReason::Death => "death",
            ChangeReason::Other => "other",
        }
    }

    /// Whether the reason fits a suspension (`true`) or a revocation (`false`).
    fn fits(self, suspend: bool) -> bool {
        use ChangeReason::*;
        match self {
            UnderInvestigation | EmployerChangeReview => suspend,
            FraudulentMaterial | LossOfEligibility | LeftArea | Death => !suspend,
            HolderRequest | Other => true,
        }
    }
}

/// A decision on a change report; `comment` is always required.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeDecisionRequest {
    /// The decision.
    pub decision: ChangeDecisionKind,
    /// The new tier, for `retier`.
    #[serde(default)]
    pub tier: Option<String>,
    /// The coded reason, for `suspend` and `revoke`.
    #[serde(default)]
    pub reason_code: Option<ChangeReason>,
    /// The official's comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Checks the request against the card; answers the comment, or every field at fault.
fn check(request: &ChangeDecisionRequest, card: &Card, tiers: &[&str]) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let mut fault = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let comment = match free_text::COMMENT.optional(request.comment.as_deref()) {
        Ok(Some(comment)) => Some(comment),
        Ok(None) => {
            fault("comment", "is required");
            None
        }
        Err(e) => {
            fault("comment", &e.to_string());
            None
        }
    };
    match request.decision {
        ChangeDecisionKind::Retier => match request.tier.as_deref() {
            None => fault("tier", "is required for this decision"),
            Some(t) if !tiers.contains(&t) => fault("tier", "is not a tier of the card's scheme"),
            Some(t) if t == card.tier => fault("tier", "is the card's tier already; keep it"),
            Some(_) => {}
        },
        ChangeDecisionKind::Suspend | ChangeDecisionKind::Revoke => {
            let suspend = request.decision == ChangeDecisionKind::Suspend;
            match request.reason_code {
                None => fault("reason_code", "is required for this decision"),
                Some(r) if !r.fits(suspend) => fault("reason_code", "does not fit this decision"),
                Some(_) => {}
            }
        }
        ChangeDecisionKind::Keep => {}
    }
    match comment {
        Some(comment) if errors.is_empty() => Ok(comment),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Decides an open change report on a card of the official's issuer.
#[utoipa::path(
    tag = "cards",
    params(
        ("id" = Uuid, Path, description = "Card id"),
        ("change_id" = Uuid, Path, description = "Change report id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body"),
    ),
    request_body = ChangeDecisionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decided report (a retier names the new card)", body = ChangeView),
        (status = 403, description = "forbidden: officials only"),
        (status = 404, description = "not_found: no such report on a card of the official's issuer"),
        (status = 409, description = "invalid_transition: decided already, or the card's status does not allow the decision (a revoked card cannot be suspended or re-tiered)"),
        (status = 422, description = "validation_failed: a missing or unfit tier, reason or comment"),
    )
)]
#[post("/cards/{id}/changes/{change_id}/decision")]
pub async fn decide_change(
    req: HttpRequest,
    official: Official,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    body: ApiJson<ChangeDecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (card_id, change_id) = path.into_inner();
    let request = body.0;
    let actor = Actor::Account(official.account_id);
    let keyed = Keyed::new(&req, &actor, &format!("card_change:{change_id}"), &request)?;
    let viewer = Viewer::Official(official.issuer.clone());
    let mut conn = state.pool.get().await?;
    let card = visible_card(&mut conn, card_id, &viewer).await?;
    let found = card_change::find_visible(&mut conn, card_id, change_id, &viewer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let scheme = crate::routes::schemes::known_scheme(&mut conn, &card.scheme).await?;
    let comment = check(&request, &card, &scheme.tier_codes())?;
    let (status, decided) = conn
        .transaction(async |c| {
            if let Some((status, _)) = keyed.claim(c).await? {
                let again = card_change::find_visible(c, card_id, change_id, &viewer)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                return Ok((status, again));
            }
            let decided = apply(&state, c, &card, &found, &request, &comment, &official).await?;
            keyed
                .complete(c, 200, &json!({ "change": decided.id }))
                .await?;
            Ok::<_, ApiError>((200, decided))
        })
        .await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok(HttpResponse::build(status).json(ChangeView::build(&state, decided)?))
}

/// The conditional decision, the card's change and the audit row, in the caller's transaction.
async fn apply(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    card: &Card,
    found: &CardChange,
    request: &ChangeDecisionRequest,
    comment: &str,
    official: &Official,
) -> Result<CardChange, ApiError> {
    let actor = Actor::Account(official.account_id);
    let now = state.now();
    let decision = match request.decision {
        ChangeDecisionKind::Keep => "keep",
        ChangeDecisionKind::Retier => "retier",
        ChangeDecisionKind::Suspend => "suspend",
        ChangeDecisionKind::Revoke => "revoke",
    };
    let d = ChangeDecision {
        decision,
        tier: request.tier.as_deref().filter(|_| decision == "retier"),
        reason_code: request
            .reason_code
            .filter(|_| matches!(decision, "suspend" | "revoke"))
            .map(ChangeReason::as_str),
        comment: Some(comment),
        decided_by: official.account_id,
        decided_at: now,
    };
    let mut decided = card_change::decide(conn, found.id, &official.issuer, &d)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidTransition,
                "the change report is decided already",
            )
        })?;
    let new_card = match request.decision {
        ChangeDecisionKind::Keep => None,
        ChangeDecisionKind::Suspend | ChangeDecisionKind::Revoke => {
            let action = if decision == "suspend" {
                CardAction::Suspend
            } else {
                CardAction::Revoke
            };
            let change = StatusChange {
                card,
                action,
                reason: d.reason_code.unwrap_or("other"),
                comment: Some(comment),
                actor: actor.clone(),
                now,
                today: state.today(),
                detail: Some(json!({ "card_change": found.id })),
            };
            change_status(conn, &change).await?.map_err(|refused| {
                let detail = match refused {
                    Refused::NotAllowed => {
                        format!("a {} card cannot be {}", card.status, action.done())
                    }
                    Refused::Changed => "the card changed meanwhile".to_owned(),
                };
                ApiError::new(ErrorCode::InvalidTransition, detail)
            })?;
            None
        }
        ChangeDecisionKind::Retier => Some(retier(state, conn, card, &d, actor.clone()).await?),
    };
    if let Some(new) = &new_card {
        card_change::set_new_card(conn, found.id, new.id).await?;
        decided.new_card_id = Some(new.id);
    }
    let event = AuditEvent {
        actor,
        action: "card_change.decided",
        entity_type: "card_change",
        entity_id: Some(found.id.to_string()),
        detail: json!({
            "card": card.number, "decision": decision, "tier": d.tier,
            "reason_code": d.reason_code, "new_card": new_card.as_ref().map(|c| c.number.clone()),
        }),
    };
    audit::record(conn, &event).await?;
    Ok(decided)
}

/// Issues the new tier's card superseding `card`, from today for the tier's validity.
async fn retier(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    card: &Card,
    d: &ChangeDecision<'_>,
    actor: Actor,
) -> Result<Card, ApiError> {
    if card.valid_until < state.today() {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            "an expired card cannot be re-tiered",
        ));
    }
    let tier = d.tier.unwrap_or(&card.tier);
    let validity = card::tier_validity(conn, &card.scheme, tier)
        .await?
        .ok_or_else(|| ApiError::invalid_field("tier", "is not a tier of the card's scheme"))?;
    let supersession = Supersession {
        old: card,
        tier,
        validity_years: validity,
        valid_from: None,
        valid_until: None,
        application_id: None,
        kind: Succession::Retier,
        actor,
        now: d.decided_at,
        pii: &state.pii,
    };
    supersede_card(conn, &supersession)
        .await?
        .map_err(|refused| superseded_refusal(refused, "the card"))
}
