//! Approving a dependant application: the card is issued under the principal card named, with
//! the principal's tier (a dependant is approved without one), valid from today until the
//! principal card ends, its own number, status index and credential. The principal card must
//! still be active, and the policy's maximum and the one-card-per-person rule hold again under
//! the holder's and the person's locks.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::domain::card_status::CardStatus;
use crate::error::{ApiError, ErrorCode};
use crate::models::application::Application;
use crate::models::card::{self, Card, Issue};
use crate::models::dependant;

fn conflict(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::Conflict, detail.to_owned())
}

/// Issues the dependant card of an approved dependant application, in the approval's
/// transaction.
pub(super) async fn issue_dependant_card(
    conn: &mut AsyncPgConnection,
    decided: &Application,
    at: DateTime<Utc>,
) -> Result<Card, ApiError> {
    let today = crate::clock::china_date(at);
    crate::models::account::lock_holder(conn, decided.talent_id).await?;
    let principal_id = decided
        .principal_card
        .ok_or_else(|| ApiError::internal("a dependant application without its principal"))?;
    let principal = dependant::lock_principal(conn, principal_id)
        .await?
        .filter(|p| p.status == CardStatus::Active.as_str() && p.valid_until > today)
        .ok_or_else(|| conflict("the principal card is no longer active"))?;
    let person = dependant::person(conn, decided.id)
        .await?
        .ok_or_else(|| ApiError::internal("a dependant application without its person"))?;
    dependant::lock_person(conn, &principal.scheme, &person.id_number_index).await?;
    let (_, policy) = dependant::policy_in_force(conn, &principal.scheme, today).await?;
    // Pending requests other than this one are not cards yet: only live cards count here.
    let live_cards = dependant::live_count(conn, principal.id, today)
        .await?
        .saturating_sub(dependant::pending_count(conn, principal.id).await?);
    if live_cards >= policy.max_live {
        return Err(conflict(
            "the principal card carries the most dependants allowed",
        ));
    }
    if dependant::person_live(conn, &principal.scheme, &person.id_number_index, today).await? {
        return Err(conflict("this person already holds a live dependant card"));
    }
    let issue = Issue {
        application_id: Some(decided.id),
        valid_from: None,
        valid_until: None,
        holder_id: principal.holder_id,
        scheme: &principal.scheme,
        issuer: &principal.issuer,
        tier: &principal.tier,
        now: at,
    };
    let issued = card::issue_between(conn, &issue, today, principal.valid_until).await?;
    Ok(dependant::mark_dependant(conn, issued.id, principal.id, &person).await?)
}
