//! `GET /api/v1/cards` and `GET /api/v1/cards/{id}`: the holder's own, or the issuer's.

use actix_web::{HttpResponse, get, web};
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{CardView, visible_card};
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::models::{account, card};
use crate::routes::applications::viewer;
use crate::routes::pagination::{Page, PageQuery, encode_cursor};
use crate::state::AppState;

/// The longest look ahead of `expiring_within`, in days (ten years: the longest validity).
const MAX_EXPIRING_WITHIN: u64 = 3660;

/// Filters of the card list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CardFilter {
    /// Only live cards (active or suspended) whose last day is within this many days from
    /// today (0: today), soonest first: an issuer's officials plan renewals with it. 0 to 3660.
    pub expiring_within: Option<i64>,
}

impl CardFilter {
    /// The last day of the look ahead, if asked for.
    fn until(&self, today: NaiveDate) -> Result<Option<NaiveDate>, ApiError> {
        let Some(days) = self.expiring_within else {
            return Ok(None);
        };
        u64::try_from(days)
            .ok()
            .filter(|d| *d <= MAX_EXPIRING_WITHIN)
            .and_then(|d| today.checked_add_days(Days::new(d)))
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_field("expiring_within", "must be between 0 and 3660 days")
            })
    }
}

/// Lists the caller's cards (talent) or the issuer's (officials), newest first, a page at a
/// time: an issuer holds hundreds of thousands. With `expiring_within`, only the live cards
/// ending within that many days, soonest first.
#[utoipa::path(
    tag = "cards",
    params(PageQuery, CardFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of cards, newest first", body = Page<CardView>),
        (status = 403, description = "forbidden: agencies and administrators do not list cards"),
        (status = 422, description = "validation_failed: a filter, the page size or the cursor is not acceptable"),
    )
)]
#[get("/cards")]
pub async fn list_cards(
    user: AuthUser,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<CardFilter>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let limit = page.limit()?;
    let after = page.after()?;
    let today = state.today();
    let until = filter.until(today)?;
    let mut conn = state.pool.get().await?;
    let rows = match until {
        None => card::list_visible(&mut conn, &viewer, after, limit + 1).await?,
        Some(until) => {
            let after = after.map(|(at, id)| (at.date_naive(), id));
            card::expiring_visible(&mut conn, &viewer, (today, until), after, limit + 1).await?
        }
    };
    let rows = Page::from_rows(rows, limit, |(found, _)| match until {
        None => encode_cursor(found.issued_at, found.id),
        Some(_) => encode_cursor(
            found.valid_until.and_time(chrono::NaiveTime::MIN).and_utc(),
            found.id,
        ),
    });
    let page = Page {
        items: rows
            .items
            .into_iter()
            .map(|(found, name)| CardView::new(found, name, today))
            .collect::<Vec<CardView>>(),
        next_cursor: rows.next_cursor,
    };
    Ok(HttpResponse::Ok().json(page))
}

/// Reads a card: its holder or an official of its issuer; anyone else gets 404.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The card", body = CardView),
        (status = 404, description = "not_found: no such card the caller may see"),
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
    let found = visible_card(&mut conn, *id, &viewer).await?;
    let name = account::find(&mut conn, found.holder_id)
        .await?
        .map(|a| a.full_name)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(CardView::new(found, name, state.today())))
}
