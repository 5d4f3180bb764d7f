//! `POST /api/v1/document-disputes/{id}/resolution`: an administrator, or an official of an
//! issuer concerned (one of the two accounts applied to it or holds one of its cards), assigns a
//! disputed identity document to one account after checking the person, and frees the other.
//!
//! The loser's profile is deleted (they store their own document again); the winner's becomes
//! the document's one undisputed holder; their applications' copies stay as submitted, so an
//! application of the loser's with that document is never approved. Audited with the comment.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, AuthUser};
use crate::models::account::Role;
use crate::models::{dispute, profile};
use crate::state::AppState;

/// Registers the dispute routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(resolve_dispute);
}

/// Who keeps the document, and what was checked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The account that keeps the document: the holder or the claimant of the dispute.
    pub assign_to: Uuid,
    /// How the person was checked (at most 2,000 characters); kept in the audit log.
    pub comment: String,
}

/// A resolved dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resolved {
    /// The dispute.
    pub id: Uuid,
    /// The account that holds the document now.
    pub assigned_to: Uuid,
    /// The account whose profile was freed (deleted when it held this document).
    pub released: Uuid,
    /// When.
    pub resolved_at: DateTime<Utc>,
}

/// Assigns a disputed document to one of its two accounts and frees the other.
#[utoipa::path(
    tag = "administration",
    params(("id" = Uuid, Path, description = "Dispute id (an official sees it on the application as `applicant.document_dispute`; administrators in the audit log's `profile.document_conflict` rows)")),
    request_body = Resolution,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resolved", body = Resolved),
        (status = 403, description = "forbidden: only administrators and officials resolve disputes"),
        (status = 404, description = "not_found: no such dispute, or none concerning the official's issuer"),
        (status = 409, description = "invalid_transition: the dispute was resolved or withdrawn already; conflict: a third account holds the document now"),
        (status = 422, description = "validation_failed: assign_to is not an account of the dispute, or the comment is missing or not acceptable"),
    )
)]
#[post("/document-disputes/{id}/resolution")]
pub async fn resolve_dispute(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<Resolution>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.0;
    let issuer = match (user.role, &user.issuer) {
        (Role::Admin, _) => None,
        (Role::Official, Some(issuer)) => Some(issuer.clone()),
        _ => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "only administrators and officials resolve disputes",
            ));
        }
    };
    let comment = free_text::COMMENT
        .required(&body.comment)
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let found = dispute::find(&mut conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if let Some(issuer) = &issuer {
        let concerned =
            dispute::concerns_issuer(&mut conn, found.holder_id, found.claimant_id, issuer).await?;
        if !concerned {
            return Err(ApiError::not_found());
        }
    }
    let released = if body.assign_to == found.holder_id {
        found.claimant_id
    } else if body.assign_to == found.claimant_id {
        found.holder_id
    } else {
        return Err(ApiError::invalid_field(
            "assign_to",
            "must be the holder or the claimant of the dispute",
        ));
    };
    let resolved = conn
        .transaction(async |c| {
            let open = dispute::lock_open(c, id).await?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidTransition,
                    "this dispute was resolved or withdrawn already",
                )
            })?;
            profile::lock_document(c, &open.id_number_index).await?;
            let freed = profile::release(c, released, &open.id_number_index).await?;
            profile::settle(c, body.assign_to, &open.id_number_index).await?;
            dispute::resolve(c, id, body.assign_to, user.account_id, now).await?;
            let event = AuditEvent {
                actor: Actor::Account(user.account_id),
                action: "document.dispute_resolved",
                entity_type: "document_dispute",
                entity_id: Some(id.to_string()),
                detail: json!({
                    "assigned_to": body.assign_to,
                    "released": released,
                    "profile_deleted": freed > 0,
                    "comment": comment,
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(Resolved {
                id,
                assigned_to: body.assign_to,
                released,
                resolved_at: now,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(resolved))
}
