//! Renewals and upgrades: an application naming the card it replaces (`replaces_card`). One of
//! the same tier is a renewal: it may be applied for from `cards.renewal_window_days` before the
//! card's last day until the day after (earlier is 409 `renewal_not_open`), and its card starts
//! the day after the old one ends. One of a higher tier is an upgrade, at any time, from the day
//! it is approved. Both supersede the old card through `models::card_succession`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Actor;
use crate::domain::eligibility::Facts;
use crate::domain::holder_year::{RenewalWindow, is_upgrade, renewal_window, renewed_from};
use crate::error::{ApiError, ErrorCode};
use crate::models::application::{Application, Viewer};
use crate::models::card::{self, Card};
use crate::models::card_succession::{self, NotSuperseded, Succession, Supersession};
use crate::routes::schemes::known_scheme;
use crate::state::AppState;

/// The refusal of a renewal before its window opens.
fn not_open(card: &Card, opens: chrono::NaiveDate) -> ApiError {
    ApiError::new(
        ErrorCode::RenewalNotOpen,
        format!(
            "card {} may be renewed from {opens} (it is valid until {}); an upgrade to a higher \
             tier may be applied for at any time",
            card.number, card.valid_until
        ),
    )
}

/// Checks, when an application is created, that the card it names may be replaced now: an
/// active card of the caller's, of the same scheme and issuer, not renewed already; and, unless
/// the facts suggest a higher tier (an upgrade), that its renewal window is open.
pub(super) async fn check_replaceable(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    holder: Uuid,
    scheme: &str,
    issuer: &str,
    card_id: Uuid,
    facts: &Facts,
) -> Result<(), ApiError> {
    let replaceable = card::find_visible(conn, card_id, &Viewer::Talent(holder))
        .await?
        .filter(|c| c.scheme == scheme && c.issuer == issuer && c.status == "active");
    let Some(old) = replaceable else {
        return Err(ApiError::invalid_field(
            "replaces_card",
            "is not an active card of yours from this scheme and issuer",
        ));
    };
    if card_succession::successor(conn, old.id).await?.is_some() {
        return Err(ApiError::invalid_field(
            "replaces_card",
            "has been renewed or replaced already",
        ));
    }
    let found = known_scheme(conn, scheme).await?;
    let (evaluation, _) = state
        .rules
        .evaluate_in_force(conn, &found, facts, state.today())
        .await?;
    let tiers = found.tier_codes();
    if evaluation
        .tier
        .as_deref()
        .is_some_and(|to| is_upgrade(&tiers, &old.tier, to))
    {
        return Ok(());
    }
    match renewal_window(
        old.valid_until,
        state.cards.renewal_window_days,
        state.today(),
    ) {
        RenewalWindow::Open => Ok(()),
        RenewalWindow::NotOpen(opens) => Err(not_open(&old, opens)),
        RenewalWindow::Closed => Err(ApiError::invalid_field(
            "replaces_card",
            "has ended; apply for a new card without replaces_card",
        )),
    }
}

/// What an approval replaces, and with what.
pub(super) struct Replacing<'a> {
    /// The card named in `replaces_card`.
    pub old: Uuid,
    /// The tier approved.
    pub tier: &'a str,
    /// Its validity in years.
    pub validity_years: i32,
}

/// Issues the approved application's card superseding the one it replaces, in the approval's
/// transaction: the same tier is a renewal (from the day after the old card ends; refused
/// before the window opens), another tier an upgrade from today.
pub(super) async fn supersede_replaced(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    decided: &Application,
    replacing: &Replacing<'_>,
    actor: Actor,
    at: DateTime<Utc>,
) -> Result<Card, ApiError> {
    // Only the official's own issuer's cards, and only cards still in force.
    let previous = card::find_visible(
        conn,
        replacing.old,
        &Viewer::Official(decided.issuer.clone()),
    )
    .await?
    .filter(|c| c.status == "active")
    .ok_or_else(|| {
        ApiError::new(
            ErrorCode::Conflict,
            "the card this application replaces is no longer active at this issuer",
        )
    })?;
    let renewal = previous.tier == replacing.tier;
    let valid_from = if renewal {
        let today = state.today();
        if let RenewalWindow::NotOpen(opens) =
            renewal_window(previous.valid_until, state.cards.renewal_window_days, today)
        {
            return Err(not_open(&previous, opens));
        }
        Some(renewed_from(previous.valid_until))
    } else {
        None
    };
    let supersession = Supersession {
        old: &previous,
        tier: replacing.tier,
        validity_years: replacing.validity_years,
        valid_from,
        valid_until: None,
        application_id: Some(decided.id),
        kind: if renewal {
            Succession::Renewal
        } else {
            Succession::Upgrade
        },
        actor,
        now: at,
        pii: &state.pii,
    };
    card_succession::supersede_card(conn, &supersession)
        .await?
        .map_err(|refused| superseded_refusal(refused, "the replaced card"))
}

/// The 409 of a supersession the old card's state refused.
pub fn superseded_refusal(refused: NotSuperseded, what: &str) -> ApiError {
    match refused {
        NotSuperseded::NotAllowed => ApiError::new(
            ErrorCode::InvalidTransition,
            format!("{what} can no longer be superseded"),
        ),
        NotSuperseded::Changed => ApiError::new(
            ErrorCode::Conflict,
            format!("{what} changed meanwhile or has been replaced already"),
        ),
    }
}
