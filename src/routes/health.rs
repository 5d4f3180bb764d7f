//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers too).

use actix_web::{HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when answered with 200.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: answers while the process runs, whatever the database does.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: one real round trip to PostgreSQL, and (at most every
/// `maintenance.key_check_secs`) the configured keys tried on stored data; 503 when PostgreSQL
/// does not answer in time or a key does not fit, so a load balancer stops sending traffic here.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready: PostgreSQL answered", body = Health),
        (status = 503, description = "service_unavailable: PostgreSQL did not answer in time, or a configured key does not open the stored data (the log names it)"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    let keyring = crate::audit::keys::installed();
    let verdict = state
        .key_health
        .verdict(&mut conn, &state.pii, keyring.as_deref())
        .await?;
    if let Some(mismatch) = verdict {
        tracing::error!(%mismatch, "not ready: a configured key does not fit the stored data");
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "a configured key does not open the stored data; the service's log names it",
        ));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
