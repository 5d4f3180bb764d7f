//! `POST /api/v1/auth/logout`: ends the session.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::AuthUser;
use crate::models::session::{self, RevokeReason};
use crate::state::AppState;

/// The refresh token of the session to end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The opaque token.
    pub refresh_token: String,
}

/// Ends the caller's session and the one the refresh token belongs to (if it is the caller's):
/// their access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "accounts",
    request_body = LogoutRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out: the session's tokens stop working"),
        (status = 401, description = "unauthorized: no valid access token"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    user: AuthUser,
    state: web::Data<AppState>,
    body: ApiJson<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let other =
        session::session_of_token(&mut conn, &body.0.refresh_token, user.account_id).await?;
    conn.transaction(async |c| {
        for session_id in std::iter::once(user.session_id).chain(other) {
            if session::revoke(c, session_id, RevokeReason::Logout, now).await? > 0 {
                let event = AuditEvent {
                    actor: Actor::Account(user.account_id),
                    action: "session.logged_out",
                    entity_type: "account",
                    entity_id: Some(user.account_id.to_string()),
                    detail: json!({ "session": session_id }),
                };
                audit::record(c, &event).await?;
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
