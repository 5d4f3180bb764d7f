//! `GET /api/v1/cards/{id}/changes` (the holder, or an official of the card's issuer) and
//! `GET /api/v1/card-changes` (the issuer's queue, oldest first, with deadlines).

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::ChangeView;
use crate::error::ApiError;
use crate::extract::{AuthUser, Official};
use crate::models::card_change;
use crate::routes::applications::viewer;
use crate::routes::cards::visible_card;
use crate::routes::pagination::{Page, PageQuery, encode_cursor};
use crate::state::AppState;

/// The change reports on a card, oldest first.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The card's change reports, oldest first", body = Vec<ChangeView>),
        (status = 403, description = "forbidden: agencies and administrators do not see change reports"),
        (status = 404, description = "not_found: no such card the caller may see"),
    )
)]
#[get("/cards/{id}/changes")]
pub async fn list_changes(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let mut conn = state.pool.get().await?;
    let card = visible_card(&mut conn, *id, &viewer).await?;
    let out = card_change::of_card(&mut conn, card.id)
        .await?
        .into_iter()
        .map(|c| ChangeView::build(&state, c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(out))
}

/// Which reports the queue shows.
#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueFilter {
    /// `open` (the default) or `decided`.
    #[param(inline)]
    pub status: Option<QueueStatus>,
}

/// A queue filter value.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    /// Waiting for a decision.
    Open,
    /// Decided.
    Decided,
}

/// The official's queue of change reports on the issuer's cards, oldest first.
#[utoipa::path(
    tag = "cards",
    params(QueueFilter, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the issuer's change reports, oldest first, each with its review deadline", body = Page<ChangeView>),
        (status = 403, description = "forbidden: officials only"),
        (status = 422, description = "validation_failed: a filter, the page size or the cursor is not acceptable"),
    )
)]
#[get("/card-changes")]
pub async fn change_queue(
    official: Official,
    state: web::Data<AppState>,
    filter: web::Query<QueueFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let status = match filter.status.unwrap_or(QueueStatus::Open) {
        QueueStatus::Open => "open",
        QueueStatus::Decided => "decided",
    };
    let mut conn = state.pool.get().await?;
    let rows =
        card_change::queue(&mut conn, &official.issuer, Some(status), after, limit + 1).await?;
    let rows = Page::from_rows(rows, limit, |c| encode_cursor(c.reported_at, c.id));
    let page = Page {
        items: rows
            .items
            .into_iter()
            .map(|c| ChangeView::build(&state, c))
            .collect::<Result<Vec<_>, _>>()?,
        next_cursor: rows.next_cursor,
    };
    Ok(HttpResponse::Ok().json(page))
}
