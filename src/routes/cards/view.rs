//! `GET /api/v1/cards` and `GET /api/v1/cards/{id}`: the holder's own, or the issuer's.

use actix_web::{HttpResponse, get, web};
use uuid::Uuid;

use super::CardView;
use crate::auth::AuthUser;
use crate::error::{ApiError, ProblemDetails};
use crate::models::{account, card};
use crate::routes::applications::viewer;
use crate::state::AppState;

/// Lists the caller's cards (talent) or the issuer's (officials), newest first.
#[utoipa::path(
    tag = "cards",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<CardView>),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/cards")]
pub async fn list_cards(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let views: Vec<CardView> = card::list_visible(&mut conn, &viewer, 200)
        .await?
        .into_iter()
        .map(|(found, name)| CardView::new(found, name, today))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Reads a card: its holder or an official of its issuer; anyone else gets 404.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CardView),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/cards/{id}")]
pub async fn get_card(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let mut conn = state.pool.get().await?;
    let found = card::find_visible(&mut conn, *id, &viewer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let name = account::find(&mut conn, found.holder_id)
        .await?
        .map(|a| a.full_name)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(CardView::new(found, name, state.today())))
}
