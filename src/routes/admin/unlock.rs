//! `POST /api/v1/admin/accounts/{id}/unlock`: the staff path out of a sign-in throttle.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::error::ApiError;
use crate::extract::Admin;
use crate::models::{address_rate, throttle};
use crate::routes::auth::known_account;
use crate::routes::auth::throttle::account_keys;
use crate::state::AppState;

/// Clears every sign-in counter of an account: its account-wide ceiling, its failures from
/// every address and its window of sign-ins, so the owner can sign in again at once, after the
/// administrator has checked who is asking. Address counters stay (they belong to whoever is
/// behind the address, not to this account). Audited as `account.unlocked`.
#[utoipa::path(
    tag = "administration",
    params(("id" = Uuid, Path, description = "Account id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Unlocked: the account's sign-in counters are cleared"),
        (status = 404, description = "not_found: no such account"),
    )
)]
#[post("/admin/accounts/{id}/unlock")]
pub async fn unlock_account(
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let mut conn = state.pool.get().await?;
    let account = known_account(&mut conn, id).await?;
    let keys = account_keys(&state.pii, &account.email);
    conn.transaction(async |c| {
        let cleared = throttle::clear(c, &keys.throttles, &keys.pair_prefixes).await?;
        let windows = address_rate::clear(c, &keys.successes).await?;
        let event = AuditEvent {
            actor: Actor::Account(admin.0.account_id),
            action: "account.unlocked",
            entity_type: "account",
            entity_id: Some(id.to_string()),
            detail: json!({ "throttles_cleared": cleared, "windows_cleared": windows }),
        };
        audit::record(c, &event).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
