//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers too).

use actix_web::{HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbPool;
use crate::error::ApiError;

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

/// Readiness: one real round trip to PostgreSQL; 503 when it does not answer in time, so a
/// load balancer stops sending traffic here until it does.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready: PostgreSQL answered", body = Health),
        (status = 503, description = "service_unavailable: PostgreSQL did not answer in time"),
    )
)]
#[get("/readyz")]
pub async fn readyz(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
