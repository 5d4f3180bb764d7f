//! Cards: the holder's and the issuer's views, the signed credential, the holder's wallet key
//! (the nonce and the binding), single-use presentation codes, and the lifecycle (suspend,
//! resume, revoke) in the hands of the issuer's officials.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::domain::dependants::{CardKind, Relation};
use crate::error::ApiError;
use crate::models::application::Viewer;
use crate::models::card::{self, Card};

/// What one holder may ask for in a minute (presentation codes, wallet nonces): each is a row
/// until it expires, so a script must not fill the table.
pub const ASKS_PER_HOLDER_MINUTE: i32 = 10;

/// Counts one ask of `what` by `holder` in the current minute; 429 with `Retry-After` past
/// [`ASKS_PER_HOLDER_MINUTE`].
async fn within_holder_limit(
    conn: &mut AsyncPgConnection,
    what: &str,
    holder: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let key = format!("{what}:{holder}");
    let minute = chrono::TimeDelta::minutes(1);
    let (count, window_end) = crate::models::address_rate::take(conn, &key, minute, now).await?;
    if count <= ASKS_PER_HOLDER_MINUTE {
        return Ok(());
    }
    let wait = u64::try_from((window_end - now).num_seconds().max(1)).unwrap_or(1);
    Err(ApiError::new(
        crate::error::ErrorCode::RateLimited,
        format!("too many {what} requests this minute; try again later"),
    )
    .with_retry_after(wait))
}

mod changes;
mod credential;
mod dependants;
mod holder;
mod holder_key;
mod lifecycle;
mod loss;
mod presentation_code;
mod reminders;
mod view;

/// The credential query's `disclose` values: the parameter refers to this schema, which
/// [`crate::openapi::ApiDoc`] registers (utoipa does not collect schemas from query
/// parameters, and a dangling reference makes the document invalid).
pub use credential::Disclose;

/// Registers the routes under `/cards`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(view::list_cards)
        .service(view::get_card)
        .service(credential::get_credential)
        .service(credential::get_qr_svg)
        .service(credential::get_qr_png)
        .service(credential::get_card_svg)
        .service(presentation_code::create_presentation_code)
        .service(holder::get_card_entitlements)
        .service(holder::get_verifications)
        .service(holder_key::post_nonce)
        .service(holder_key::put_holder_key)
        .service(lifecycle::suspend_card)
        .service(lifecycle::resume_card)
        .service(lifecycle::revoke_card)
        .service(loss::report_loss)
        .service(loss::replace_card)
        .service(changes::report_change)
        .service(changes::list_changes)
        .service(changes::decide_change)
        .service(changes::change_queue)
        .service(reminders::get_reminders)
        .service(dependants::request_dependant);
}

/// The card `id` if `viewer` may see it (its holder, or an official of its issuer), else 404
/// `not_found`: a card the caller may not see answers exactly as one that does not exist, so
/// card ids cannot be probed.
async fn visible_card(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    viewer: &Viewer,
) -> Result<Card, ApiError> {
    card::find_visible(conn, id, viewer)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The view of `card` with its holder's name (one more read: for answers about one card).
pub async fn view_of(
    conn: &mut AsyncPgConnection,
    card: Card,
    today: NaiveDate,
) -> Result<CardView, ApiError> {
    let name = crate::models::account::find(conn, card.holder_id)
        .await?
        .map(|a| a.full_name)
        .unwrap_or_default();
    Ok(CardView::new(card, name, today))
}

/// The holder as a card shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Holder {
    /// The name on the card.
    pub full_name: String,
}

/// A card.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    /// UUID v7.
    pub id: Uuid,
    /// e.g. `XA-2026-000123-7`.
    pub number: String,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Tier code (a dependant card has its principal card's).
    pub tier: String,
    /// `principal` (the holder's own) or `dependant` (a family member's).
    pub kind: CardKind,
    /// For a dependant card, the principal card it lives and dies with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_card: Option<Uuid>,
    /// For a dependant card, the family member's relation to the holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    /// `active`, `suspended`, `revoked` or `expired` (past `valid_until`).
    pub status: String,
    /// The coded reason of the last suspension or revocation.
    pub status_reason: Option<String>,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// The holder (on a dependant card, the family member).
    pub holder: Holder,
}

impl CardView {
    /// The view of a stored card on `today` (Beijing).
    pub fn new(card: Card, holder_name: String, today: NaiveDate) -> Self {
        let full_name = card.shown_name(holder_name);
        let kind = card.card_kind();
        let status = if card.status != "revoked" && card.valid_until < today {
            "expired".to_owned()
        } else {
            card.status
        };
        CardView {
            kind,
            principal_card: card.principal_card,
            relation: card.relation.as_deref().and_then(Relation::parse),
            id: card.id,
            number: card.number,
            scheme: card.scheme,
            issuer: card.issuer,
            tier: card.tier,
            status,
            status_reason: card.status_reason,
            valid_from: card.valid_from,
            valid_until: card.valid_until,
            holder: Holder { full_name },
        }
    }
}
