//! `POST /api/v1/applications/{id}/decision`: approve with a tier (issuing the card in the same
//! transaction), reject with a coded reason, or request a supplement. Racing approvals yield one
//! card: the conditional update lets one through and the card's unique `application_id` backs
//! it up; the others get 409. A holder has one live card per scheme: approving another that does
//! not name it in `replaces_card` is 409, under the holder's row lock. An `Idempotency-Key`
//! replays the first answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

mod dependant;
mod request;

use request::change;
use request::{DecisionKind, DecisionRequest};

use super::{ApplicationView, invalid_transition, visible_application};
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::extract::Official;
use crate::models::application::{self, Application, DecisionChange, Viewer};
use crate::models::card::{self, Card, Issue};
use crate::models::dispute;
use crate::routes::idempotency::Keyed;
use crate::state::AppState;

/// The decided application and, on approval, its card.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionResult {
    /// The application.
    pub application: ApplicationView,
    /// The card issued, on approval.
    pub card: Option<Card>,
}

/// Decides a submitted application of the official's issuer.
#[utoipa::path(
    tag = "applications",
    params(
        ("id" = Uuid, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body"),
    ),
    request_body = DecisionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision, with the card issued when approved", body = DecisionResult),
        (status = 404, description = "not_found: no such application of the official's issuer"),
        (status = 409, description = "invalid_transition: decided already; conflict: the applicant holds another live card of the scheme that the application does not replace (the detail names it); document_disputed: the identity document the application was submitted with is disputed or no longer the applicant's"),
        (status = 422, description = "validation_failed: the decision or its reason is missing or not acceptable"),
    )
)]
#[post("/applications/{id}/decision")]
pub async fn decide_application(
    req: HttpRequest,
    official: Official,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let keyed = Keyed::new(
        &req,
        &Actor::Account(official.account_id),
        &id.to_string(),
        &request,
    )?;
    let now = state.now();
    let viewer = Viewer::Official(official.issuer.clone());
    let mut conn = state.pool.get().await?;
    let found = visible_application(&mut conn, *id, &viewer).await?;
    let tiers: Vec<String> = crate::models::scheme::find(&mut conn, &found.scheme)
        .await?
        .map(|s| s.tiers.into_iter().map(|t| t.code).collect())
        .unwrap_or_default();
    let comment = free_text::COMMENT
        .optional(request.comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let change = change(&request, &found, &tiers, &official, now, &comment)?;
    let answer = conn
        .transaction(async |c| {
            if let Some((status, marker)) = keyed.claim(c).await? {
                return Ok((status, replay(&state, c, &viewer, &marker).await?));
            }
            let result = apply(&state, c, &found, &change, &official, request.decision).await?;
            // The record keeps ids only: the answer quotes facts (personal data), which stay
            // sealed in the application; a replay rebuilds the answer from them.
            let marker = json!({ "application": result.application.id, "card": result.card.as_ref().map(|c| c.id) });
            keyed.complete(c, 200, &marker).await?;
            Ok::<_, ApiError>((200, result))
        })
        .await?;
    let status = StatusCode::from_u16(answer.0).unwrap_or(StatusCode::OK);
    Ok(HttpResponse::build(status).json(answer.1))
}

/// One live card per holder and scheme: a second one must name the card it replaces. Locks the
/// applicant's account row first (see `account::lock_holder`), so two approvals for one holder
/// and scheme at once (at two issuers of TWL, say) queue, and the second sees the first's card
/// and is refused.
async fn one_live_card(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    application: &Application,
) -> Result<(), ApiError> {
    crate::models::account::lock_holder(conn, application.talent_id).await?;
    let live = card::live_of_holder(
        conn,
        application.talent_id,
        Some(&application.scheme),
        state.today(),
    )
    .await?;
    if let Some(other) = live
        .iter()
        .find(|c| Some(c.id) != application.replaces_card)
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "the applicant already holds the live {} card {}; a new card of the scheme must \
                 replace it (replaces_card)",
                other.scheme, other.number
            ),
        ));
    }
    Ok(())
}

/// Rebuilds the first answer of a keyed decision from the ids its record kept.
async fn replay(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    marker: &Value,
) -> Result<DecisionResult, ApiError> {
    let id = marker["application"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(ApiError::not_found)?;
    let found = visible_application(conn, id, viewer).await?;
    let card = card::of_application(conn, id).await?;
    let card_id = card.as_ref().map(|c| c.id);
    Ok(DecisionResult {
        application: ApplicationView::build(state, found, card_id)?,
        card,
    })
}

/// Issues the approved application's card (superseding the card it replaces, if any), after
/// the holder's one-live-card check, and audits it.
async fn issue_card(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    decided: &Application,
    tier: &str,
    at: chrono::DateTime<chrono::Utc>,
    official: &Official,
) -> Result<Card, ApiError> {
    // After the conditional update: a racing approval of this same application stops there
    // (invalid_transition) and never queues on the holder's lock.
    one_live_card(state, conn, decided).await?;
    // Under the holder's lock taken above: the document it was submitted with must still be the
    // applicant's, with nobody else's claim on it open.
    if !dispute::document_settled(conn, decided.id, decided.talent_id).await? {
        return Err(ApiError::new(
            ErrorCode::DocumentDisputed,
            "the applicant's identity document is disputed or no longer theirs; resolve the \
             dispute (POST /api/v1/document-disputes/{id}/resolution) first",
        ));
    }
    let validity = card::tier_validity(conn, &decided.scheme, tier)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ValidationFailed, "unknown tier"))?;
    if let Some(old) = decided.replaces_card {
        let replacing = super::renewal::Replacing {
            old,
            tier,
            validity_years: validity,
        };
        let actor = Actor::Account(official.account_id);
        return super::renewal::supersede_replaced(state, conn, decided, &replacing, actor, at)
            .await;
    }
    let issue = Issue {
        application_id: Some(decided.id),
        holder_id: decided.talent_id,
        scheme: &decided.scheme,
        issuer: &decided.issuer,
        tier,
        now: at,
        valid_from: None,
        valid_until: None,
    };
    let card = card::issue(conn, &issue, validity).await?;
    let event = AuditEvent {
        actor: Actor::Account(official.account_id),
        action: "card.issued",
        entity_type: "card",
        entity_id: Some(card.id.to_string()),
        detail: json!({ "number": card.number, "tier": card.tier, "valid_until": card.valid_until }),
    };
    audit::record(conn, &event).await?;
    Ok(card)
}

/// Applies a checked decision in the caller's transaction: the conditional update, the card
/// on approval (superseding the one it replaces), the audit rows.
async fn apply(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    found: &Application,
    change: &DecisionChange<'_>,
    official: &Official,
    kind: DecisionKind,
) -> Result<DecisionResult, ApiError> {
    let current = found
        .status()
        .ok_or_else(|| ApiError::internal("unknown status"))?;
    let (action, _, _, audit_action) = kind.effect();
    if current.after(action).is_none() {
        return Err(invalid_transition(current.as_str(), "decided"));
    }

    let decided = application::decide(conn, found.id, &official.issuer, found.updated_at, change)
        .await?
        .ok_or_else(|| invalid_transition("decided already", "decided again"))?;
    // Only an approval carries a tier (see `change`), except a dependant's, which takes its
    // principal card's.
    let issued = match change.decided_tier {
        _ if decided.is_dependant() && kind == DecisionKind::Approve => {
            let card = dependant::issue_dependant_card(conn, &decided, change.decided_at).await?;
            let event = AuditEvent {
                actor: Actor::Account(official.account_id),
                action: "card.issued",
                entity_type: "card",
                entity_id: Some(card.id.to_string()),
                detail: json!({
                    "number": card.number,
                    "tier": card.tier,
                    "valid_until": card.valid_until,
                    "kind": card.kind,
                    "relation": card.relation,
                }),
            };
            audit::record(conn, &event).await?;
            Some(card)
        }
        Some(tier) => {
            Some(issue_card(state, conn, &decided, tier, change.decided_at, official).await?)
        }
        None => None,
    };
    let event = AuditEvent {
        actor: Actor::Account(official.account_id),
        action: audit_action,
        entity_type: "application",
        entity_id: Some(decided.id.to_string()),
        detail: json!({
            "tier": change.decided_tier,
            "suggested_tier": decided.suggested_tier,
            "reason_code": change.reason_code,
            "card": issued.as_ref().map(|c| c.number.clone()),
        }),
    };
    audit::record(conn, &event).await?;
    let card_id = issued.as_ref().map(|c| c.id);
    Ok(DecisionResult {
        application: ApplicationView::build(state, decided, card_id)?,
        card: issued,
    })
}
