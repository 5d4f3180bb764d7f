//! `POST /api/v1/admin/accounts/{id}/disable`: stops an account at once.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Admin;
use crate::models::account;
use crate::models::session::{self, RevokeReason};
use crate::routes::auth::known_account;
use crate::state::AppState;

/// Disables an account and ends all its sessions; its tokens stop working on the next request.
#[utoipa::path(
    tag = "administration",
    params(("id" = Uuid, Path, description = "Account id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Disabled: the account's sessions are ended"),
        (status = 404, description = "not_found: no such account"),
        (status = 409, description = "an administrator cannot disable themselves"),
    )
)]
#[post("/admin/accounts/{id}/disable")]
pub async fn disable_account(
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if id == admin.0.account_id {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "an administrator cannot disable themselves",
        ));
    }
    let now = state.now();
    let mut conn = state.pool.get().await?;
    known_account(&mut conn, id).await?;
    conn.transaction(async |c| {
        if account::disable(c, id, now).await? {
            let ended = session::revoke_all(c, id, RevokeReason::AccountDisabled, now).await?;
            let event = AuditEvent {
                actor: Actor::Account(admin.0.account_id),
                action: "account.disabled",
                entity_type: "account",
                entity_id: Some(id.to_string()),
                detail: json!({ "sessions_ended": ended }),
            };
            audit::record(c, &event).await?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
