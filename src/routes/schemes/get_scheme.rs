//! `GET /api/v1/schemes` and `GET /api/v1/schemes/{code}`.

use actix_web::{HttpResponse, get, web};

use super::{SchemeView, known_scheme};
use crate::error::ApiError;
use crate::models::scheme;
use crate::state::AppState;

/// Lists every scheme with its tiers and the rules in force today.
#[utoipa::path(
    tag = "schemes",
    responses((status = 200, description = "Every scheme with its tiers and the rules in force today", body = Vec<SchemeView>))
)]
#[get("/schemes")]
pub async fn list_schemes(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let mut views = Vec::new();
    for found in scheme::list(&mut conn).await? {
        let rules = scheme::rules_in_force(&mut conn, &found.row.code, today).await?;
        views.push(SchemeView::new(found, rules));
    }
    Ok(HttpResponse::Ok().json(views))
}

/// One scheme with its tiers and the rules in force today.
#[utoipa::path(
    tag = "schemes",
    params(("code" = String, Path, description = "Scheme code, e.g. XIONGAN")),
    responses(
        (status = 200, description = "The scheme with its tiers and the rules in force today", body = SchemeView),
        (status = 404, description = "not_found: no such scheme"),
    )
)]
#[get("/schemes/{code}")]
pub async fn get_scheme(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let found = known_scheme(&mut conn, &code).await?;
    let rules = scheme::rules_in_force(&mut conn, &code, today).await?;
    Ok(HttpResponse::Ok().json(SchemeView::new(found, rules)))
}
