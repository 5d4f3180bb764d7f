//! `POST /api/v1/applications/{id}/withdraw`. A withdrawn draft's evidence is deleted with it.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::{ApplicationView, invalid_transition, own_application};
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::application_status::{Action, Status};
use crate::error::ApiError;
use crate::extract::Talent;
use crate::models::{application, document};
use crate::state::AppState;

/// Withdraws an open application.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The withdrawn application", body = ApplicationView),
        (status = 404, description = "not_found: no such application of the caller's"),
        (status = 409, description = "invalid_transition: the application was decided or withdrawn already"),
    )
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw_application(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let owner = talent.0.account_id;
    let mut conn = state.pool.get().await?;
    let (found, status) =
        own_application(&mut conn, *id, owner, Action::Withdraw, "withdrawn").await?;
    let next = status.after(Action::Withdraw).unwrap_or(status);
    let withdrawn = conn
        .transaction(async |c| {
            let Some(updated) = application::set_status(c, found.id, status, next, now).await?
            else {
                return Ok(None);
            };
            // A draft's evidence was never reviewed and the draft can never be submitted now:
            // deleted at once, so withdrawing and starting again cannot pile up files. A
            // submitted application's evidence stays (officials have seen it) and counts
            // against the account's quota.
            let deleted = if status == Status::Draft {
                document::delete_of_application(c, found.id).await?
            } else {
                0
            };
            let event = AuditEvent {
                actor: Actor::Account(owner),
                action: "application.withdrawn",
                entity_type: "application",
                entity_id: Some(found.id.to_string()),
                detail: json!({ "from": status.as_str(), "documents_deleted": deleted }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(Some(updated))
        })
        .await?
        .ok_or_else(|| invalid_transition("decided meanwhile", "withdrawn"))?;
    Ok(HttpResponse::Ok().json(ApplicationView::build(&state, withdrawn, None)?))
}
