//! `POST /api/v1/cards/{id}/changes`: the holder reports a change on a live card. The new
//! facts are checked like an application's (422 naming every field), evaluated with the rules
//! in force, and sealed with their trace; the report enters the issuer's queue with a
//! working-day deadline, `late` when reported after `cards.change_report_days`.

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ChangeKind, ChangeView};
use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::eligibility::Facts;
use crate::domain::holder_year::{check_effective_on, is_late};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Talent};
use crate::models::application::Viewer;
use crate::models::card_change::{self, NewCardChange};
use crate::routes::cards::visible_card;
use crate::routes::facts::validate_facts;
use crate::routes::schemes::known_scheme;
use crate::state::AppState;

/// A change report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChangeRequest {
    /// What changed.
    pub kind: ChangeKind,
    /// The day it took effect: not in the future, not more than a year back (it may precede
    /// the card's `valid_from`).
    pub effective_on: NaiveDate,
    /// The holder's facts as they are now.
    pub facts: Facts,
}

/// Reports a change of employer, residence or title on the holder's live card.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    request_body = NewChangeRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The open report with its evaluation", body = ChangeView),
        (status = 403, description = "forbidden: only the holder reports changes"),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 409, description = "invalid_transition: the card is revoked or expired"),
        (status = 422, description = "validation_failed: effective_on in the future or more than a year back, or facts that fail the facts schema (every field named)"),
    )
)]
#[post("/cards/{id}/changes")]
pub async fn report_change(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<NewChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    body.facts = body.facts.trimmed();
    let holder = talent.0.account_id;
    let (now, today) = (state.now(), state.today());
    let mut conn = state.pool.get().await?;
    let card = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    if card.status == "revoked" || card.valid_until < today {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            "changes are reported on a live card, not a revoked or expired one",
        ));
    }
    check_effective_on(body.effective_on, today)
        .map_err(|e| ApiError::invalid_field("effective_on", e.message()))?;
    validate_facts(&mut conn, &body.facts, today, "facts.").await?;
    let scheme = known_scheme(&mut conn, &card.scheme).await?;
    let (evaluation, rules_version) = state
        .rules
        .evaluate_in_force(&mut conn, &scheme, &body.facts, today)
        .await?;
    let change_id = Uuid::now_v7();
    let seal = |text: String, field| {
        state
            .pii
            .seal(&text, field, change_id.as_bytes())
            .map_err(ApiError::internal)
    };
    let facts = seal(
        serde_json::to_string(&body.facts).map_err(ApiError::internal)?,
        Field::ChangeFacts,
    )?;
    let trace = seal(
        serde_json::to_string(&evaluation.trace).map_err(ApiError::internal)?,
        Field::ChangeEvaluationTrace,
    )?;
    let late = is_late(body.effective_on, today, state.cards.change_report_days);
    let review_days = u32::try_from(scheme.row.review_days).unwrap_or(10);
    let new = NewCardChange {
        id: change_id,
        card_id: card.id,
        holder_id: holder,
        issuer: &card.issuer,
        kind: body.kind.as_str(),
        effective_on: body.effective_on,
        reported_at: now,
        late,
        facts: &facts,
        key_id: state.pii.key_id(),
        suggested_tier: evaluation.tier.as_deref(),
        eligible: evaluation.eligible,
        rules_version,
        evaluation_trace: &trace,
        review_due: state.calendar.add_working_days(today, review_days),
        status: "open",
    };
    let stored = conn
        .transaction(async |c| {
            let stored = card_change::insert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(holder),
                action: "card_change.reported",
                entity_type: "card_change",
                entity_id: Some(change_id.to_string()),
                detail: json!({
                    "card": card.number, "kind": new.kind, "late": late,
                    "suggested_tier": new.suggested_tier, "rules_version": rules_version,
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(stored)
        })
        .await?;
    Ok(HttpResponse::Created().json(ChangeView::build(&state, stored)?))
}
