//! `GET /api/v1/districts`: the districts where cards are issued or used.

use actix_web::{HttpResponse, get, web};

use super::cacheable_json;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::models::reference::{self, District};

/// Lists the districts where cards are issued or used.
#[utoipa::path(
    tag = "reference",
    responses(
        (status = 200, description = "Every district", body = Vec<District>),
        (status = 503, description = "service_unavailable: the database is unavailable; try again"),
    )
)]
#[get("/districts")]
pub async fn list_districts(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.get().await?;
    let rows = reference::list_districts(&mut conn).await?;
    Ok(cacheable_json(&rows))
}
