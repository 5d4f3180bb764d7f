//! `POST /api/v1/applications/{id}/endorsement`: the employer named by an application confirms
//! or declines the employment while the application awaits it. Only an account of that employer
//! may answer (another employer's application is 404 to it; other roles are 403); confirming
//! puts the application in the officials' queue with its deadline from now, declining rejects it
//! with `employer_declined`. A conditional update makes two answers at once yield one.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::invalid_transition;
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::application_status::{Action, Status};
use crate::domain::free_text;
use crate::error::ApiError;
use crate::extract::{ApiJson, EmployerUser};
use crate::models::employer::{self, Endorsement};
use crate::routes::employer::EmployerApplication;
use crate::state::AppState;

/// The employer's answer.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndorsementDecision {
    /// The applicant works for the employer as the application says.
    Confirm,
    /// The employer does not vouch for it.
    Decline,
}

/// An endorsement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndorsementRequest {
    /// Confirm or decline.
    pub decision: EndorsementDecision,
    /// The employer's comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Confirms or declines the employment an application names.
#[utoipa::path(
    tag = "employers",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = EndorsementRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application as the employer sees it: `submitted` once confirmed, `rejected` (`employer_declined`) once declined", body = EmployerApplication),
        (status = 403, description = "forbidden: only an employer's account answers"),
        (status = 404, description = "not_found: no application naming the caller's employer"),
        (status = 409, description = "invalid_transition: the application does not await the employer (answered, withdrawn or decided)"),
        (status = 422, description = "validation_failed: the decision or comment is not acceptable"),
    )
)]
#[post("/applications/{id}/endorsement")]
pub async fn endorse_application(
    user: EmployerUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<EndorsementRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let comment = free_text::COMMENT
        .optional(request.comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let now = state.now();
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let found = employer::application_naming(&mut conn, *id, &user.employer.credit_code)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let status = found
        .status()
        .ok_or_else(|| ApiError::internal("unknown status"))?;
    let (action, endorsement) = match request.decision {
        EndorsementDecision::Confirm => (Action::EmployerConfirm, "confirmed"),
        EndorsementDecision::Decline => (Action::EmployerDecline, "declined"),
    };
    let to = status
        .after(action)
        .ok_or_else(|| invalid_transition(status.as_str(), "endorsed"))?;
    let review_due = match to {
        Status::Submitted => {
            let days = crate::models::scheme::find(&mut conn, &found.scheme)
                .await?
                .map_or(10, |s| u32::try_from(s.row.review_days).unwrap_or(10));
            Some(state.calendar.add_working_days(today, days))
        }
        _ => None,
    };
    let change = Endorsement {
        id: found.id,
        endorsement,
        to: to.as_str(),
        by: user.account_id,
        comment: comment.as_deref(),
        review_due,
        now,
    };
    let updated = conn
        .transaction(async |c| {
            let Some(updated) = employer::endorse(c, &change).await? else {
                return Ok(None);
            };
            let event = AuditEvent {
                actor: Actor::Account(user.account_id),
                action: "application.endorsed",
                entity_type: "application",
                entity_id: Some(updated.id.to_string()),
                detail: json!({
                    "employer": user.employer.id,
                    "endorsement": endorsement,
                    "to": to.as_str(),
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(Some(updated))
        })
        .await?
        .ok_or_else(|| invalid_transition("changed meanwhile", "endorsed"))?;
    let name = crate::models::account::find(&mut conn, updated.talent_id)
        .await?
        .map(|a| a.full_name)
        .unwrap_or_default();
    let view = EmployerApplication::build(
        &state,
        &updated.id,
        &updated.scheme,
        &updated.status,
        &updated.facts,
        updated.employer_endorsement.clone(),
        updated.created_at,
        name,
    )?;
    Ok(HttpResponse::Ok().json(view))
}
