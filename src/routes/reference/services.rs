//! `GET /api/v1/services`: the service-category catalogue, in display order.

use actix_web::{HttpResponse, get, web};

use super::cacheable_json;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::models::reference::{self, ServiceCategory};

/// Lists the service-category catalogue, in display order.
#[utoipa::path(
    tag = "reference",
    responses(
        (status = 200, description = "The service categories, in display order", body = Vec<ServiceCategory>),
        (status = 503, description = "service_unavailable: the database is unavailable; try again"),
    )
)]
#[get("/services")]
pub async fn list_services(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.get().await?;
    let rows = reference::list_services(&mut conn).await?;
    Ok(cacheable_json(&rows))
}
