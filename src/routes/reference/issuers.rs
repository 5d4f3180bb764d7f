//! `GET /api/v1/issuers`: the issuing authorities.

use actix_web::{HttpResponse, get, web};

use super::cacheable_json;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::models::reference::{self, Issuer};

/// Lists the issuing authorities.
#[utoipa::path(
    tag = "reference",
    responses(
        (status = 200, description = "Every issuing authority", body = Vec<Issuer>),
        (status = 503, description = "service_unavailable: the database is unavailable; try again"),
    )
)]
#[get("/issuers")]
pub async fn list_issuers(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.get().await?;
    let rows = reference::list_issuers(&mut conn).await?;
    Ok(cacheable_json(&rows))
}
