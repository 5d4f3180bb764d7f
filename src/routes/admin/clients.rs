//! API clients of an agency: `POST /api/v1/admin/agencies/{id}/clients` (the secret is shown
//! once) and `DELETE /api/v1/admin/agencies/{id}/clients/{client_id}`. Rotating a secret is
//! creating a new client and revoking the old one.

use actix_web::{HttpResponse, delete, post, web};
use diesel_async::AsyncConnection;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::random;
use crate::error::ApiError;
use crate::extract::Admin;
use crate::models::agency;
use crate::state::AppState;

/// A new client's credentials. The secret is not stored and cannot be shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCredentialsIssued {
    /// The client id for `POST /auth/token`.
    pub client_id: Uuid,
    /// The client secret (256 random bits).
    pub client_secret: String,
}

fn event(admin: &Admin, action: &'static str, agency_id: Uuid, client_id: Uuid) -> AuditEvent {
    AuditEvent {
        actor: Actor::Account(admin.0.account_id),
        action,
        entity_type: "agency_client",
        entity_id: Some(client_id.to_string()),
        detail: json!({ "agency": agency_id }),
    }
}

/// Issues a new API client for an agency.
#[utoipa::path(
    tag = "administration",
    params(("id" = Uuid, Path, description = "Agency id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The client's id and secret; the secret is shown this once", body = ClientCredentialsIssued),
        (status = 404, description = "not_found: no such agency"),
    )
)]
#[post("/admin/agencies/{id}/clients")]
pub async fn create_client(
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let agency_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    agency::find(&mut conn, agency_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let client_id = Uuid::now_v7();
    let client_secret = random::token("cs_");
    let hash = random::sha256_hex(&client_secret);
    let audit_event = event(&admin, "agency_client.created", agency_id, client_id);
    conn.transaction(async |c| {
        agency::insert_client(c, agency_id, client_id, &hash).await?;
        audit::record(c, &audit_event).await
    })
    .await?;
    Ok(HttpResponse::Created().json(ClientCredentialsIssued {
        client_id,
        client_secret,
    }))
}

/// Revokes a client; its tokens stop working at once.
#[utoipa::path(
    tag = "administration",
    params(
        ("id" = Uuid, Path, description = "Agency id"),
        ("client_id" = Uuid, Path, description = "Client id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked: the client's tokens stop working"),
        (status = 404, description = "not_found: no such client"),
    )
)]
#[delete("/admin/agencies/{id}/clients/{client_id}")]
pub async fn revoke_client(
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (agency_id, client_id) = path.into_inner();
    let now = state.now();
    let audit_event = event(&admin, "agency_client.revoked", agency_id, client_id);
    let mut conn = state.pool.get().await?;
    let revoked = conn
        .transaction(async |c| {
            let revoked = agency::revoke_client(c, agency_id, client_id, now).await?;
            if revoked {
                audit::record(c, &audit_event).await?;
            }
            Ok::<_, diesel::result::Error>(revoked)
        })
        .await?;
    if !revoked {
        return Err(ApiError::not_found());
    }
    // Refused from the next request on here; the other instances hear of it by notification.
    state.invalidation.changed();
    Ok(HttpResponse::NoContent().finish())
}
