//! The one place a card changes status: the row (conditional on the status it was read in),
//! its entry in the issuer's status list and its audit row move together, in the caller's
//! transaction. Officials' suspensions, resumptions and revocations, and the revocation of a
//! card superseded by its renewal or upgrade, all go through [`change_status`], which makes a
//! principal card's live dependant cards follow it (`models::dependant_cascade`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde_json::json;

use crate::audit::{self, Actor, AuditEvent};
use crate::credentials::status_list::ListStatus;
use crate::domain::card_status::{CardAction, CardStatus, ListEntry};
use crate::domain::dependants::CardKind;
use crate::models::card::{self, Card};
use crate::models::dependant_cascade::{Cascade, cascade_to_dependants};

/// One change of a card's status.
#[derive(Debug)]
pub struct StatusChange<'a> {
    /// The card as read.
    pub card: &'a Card,
    /// What is done.
    pub action: CardAction,
    /// The coded reason.
    pub reason: &'a str,
    /// The official's comment.
    pub comment: Option<&'a str>,
    /// Who does it (audited).
    pub actor: Actor,
    /// When.
    pub now: DateTime<Utc>,
    /// The day in Beijing (an expired card may only be revoked).
    pub today: NaiveDate,
    /// More for the audit row (e.g. the card that replaced this one).
    pub detail: Option<serde_json::Value>,
}

/// Why a change was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The transition table does not allow it from the status the card was read in.
    NotAllowed,
    /// The card changed after it was read (a concurrent change won).
    Changed,
}

fn list_status(entry: ListEntry) -> ListStatus {
    match entry {
        ListEntry::Valid => ListStatus::Valid,
        ListEntry::Revoked => ListStatus::Revoked,
        ListEntry::Suspended => ListStatus::Suspended,
    }
}

/// Moves the card, its status-list entry and its audit row together, and its live dependant
/// cards with it when it is a principal card; call inside a transaction. Answers the card as
/// changed, or why nothing was. A dependant card is not resumed while its principal card is not
/// active: no dependant is in force without its principal.
pub async fn change_status(
    conn: &mut AsyncPgConnection,
    change: &StatusChange<'_>,
) -> QueryResult<Result<Card, Refused>> {
    if change.card.card_kind() == CardKind::Dependant
        && change.action == CardAction::Resume
        && !principal_active(conn, change.card, change.today).await?
    {
        return Ok(Err(Refused::NotAllowed));
    }
    let changed = change_one(conn, change).await?;
    if let Ok(card) = &changed {
        cascade_to_dependants(conn, card, Cascade::Follow(change)).await?;
    }
    Ok(changed)
}

/// Whether a dependant card's principal card is active and not expired on `today`.
async fn principal_active(
    conn: &mut AsyncPgConnection,
    dependant: &Card,
    today: NaiveDate,
) -> QueryResult<bool> {
    let Some(principal) = dependant.principal_card else {
        return Ok(false);
    };
    Ok(card::find(conn, principal)
        .await?
        .is_some_and(|p| p.status == CardStatus::Active.as_str() && p.valid_until >= today))
}

/// [`change_status`] for one card only, its dependants left alone: the cascade's own step.
pub(crate) async fn change_one(
    conn: &mut AsyncPgConnection,
    change: &StatusChange<'_>,
) -> QueryResult<Result<Card, Refused>> {
    let current = CardStatus::parse(&change.card.status);
    let expired = change.card.valid_until < change.today;
    let Some((from, to)) =
        current.and_then(|from| Some((from, from.after(change.action, expired)?)))
    else {
        return Ok(Err(Refused::NotAllowed));
    };
    let Some(updated) = card::set_status(
        conn,
        change.card.id,
        from.as_str(),
        to.as_str(),
        change.reason,
        change.now,
    )
    .await?
    else {
        return Ok(Err(Refused::Changed));
    };
    if let Some(index) = updated.status_index {
        crate::models::status_list::set_status(
            conn,
            &updated.issuer,
            index,
            list_status(to.list_entry()),
            change.now,
        )
        .await?;
    }
    let mut detail = json!({
        "from": from.as_str(),
        "reason_code": change.reason,
        "comment": change.comment,
    });
    if let (Some(extra), Some(map)) = (&change.detail, detail.as_object_mut())
        && let Some(extra) = extra.as_object()
    {
        map.extend(extra.clone());
    }
    let event = AuditEvent {
        actor: change.actor.clone(),
        action: change.action.audit_action(),
        entity_type: "card",
        entity_id: Some(updated.id.to_string()),
        detail,
    };
    audit::record(conn, &event).await?;
    Ok(Ok(updated))
}
