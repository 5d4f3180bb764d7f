//! Superseding a card: the one place a card is taken over by a new one, whatever the reason (a
//! renewal, an upgrade, a replacement after a loss, the new tier after a change report). The new
//! card is issued, the succession recorded (one successor per card: the table's primary key on
//! the old card makes a second replacement of one loss fail, whatever races) and the old card
//! revoked `superseded` through the card state machine, all in the caller's transaction.
//!
//! A principal's dependant cards follow it here (`models::dependant_cascade`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::PiiCipher;
use crate::db::schema::card_successions;
use crate::domain::card_status::CardAction;
use crate::models::card::{self, Card, Issue};
use crate::models::card_status::{Refused, StatusChange, change_status};
use crate::models::dependant_cascade::{Cascade, cascade_to_dependants};

/// Why a card is superseded; stored with the succession and audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Succession {
    /// The same tier again, from the day after the old card ends.
    Renewal,
    /// Another tier through a new application.
    Upgrade,
    /// A new number after a loss report, same tier and end date.
    Replacement,
    /// Another tier after a change report.
    Retier,
}

impl Succession {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Succession::Renewal => "renewal",
            Succession::Upgrade => "upgrade",
            Succession::Replacement => "replacement",
            Succession::Retier => "retier",
        }
    }
}

/// One supersession: the card taken over and the card that takes over.
#[derive(Debug)]
pub struct Supersession<'a> {
    /// The card taken over, as read (its status decides whether the change is allowed).
    pub old: &'a Card,
    /// The tier of the new card.
    pub tier: &'a str,
    /// Its validity in years (used unless `valid_until` is given).
    pub validity_years: i32,
    /// The first valid day of the new card when not today.
    pub valid_from: Option<NaiveDate>,
    /// The last valid day of the new card when not its tier's validity.
    pub valid_until: Option<NaiveDate>,
    /// The application that asked for it, if one did.
    pub application_id: Option<uuid::Uuid>,
    /// Why.
    pub kind: Succession,
    /// Who (audited).
    pub actor: Actor,
    /// When.
    pub now: DateTime<Utc>,
    /// Reseals the dependants' ID numbers for the applications of their carried-over cards.
    pub pii: &'a PiiCipher,
}

/// Why a supersession was refused; nothing was written (the caller rolls back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSuperseded {
    /// The old card's status does not allow it (the state machine refused the revocation).
    NotAllowed,
    /// The old card changed after it was read, or another card took over from it first.
    Changed,
}

/// Issues the new card and revokes the old one `superseded`, with the succession recorded and
/// both audited. A renewal issued before the old card ends leaves it in force until its last
/// day (the new one starts the day after, so there is neither a gap nor an overlap); every
/// other succession revokes the old card now. Call inside a transaction; on `Err` roll back.
pub async fn supersede_card(
    conn: &mut AsyncPgConnection,
    s: &Supersession<'_>,
) -> QueryResult<Result<Card, NotSuperseded>> {
    let issue = Issue {
        application_id: s.application_id,
        holder_id: s.old.holder_id,
        scheme: &s.old.scheme,
        issuer: &s.old.issuer,
        tier: s.tier,
        now: s.now,
        valid_from: s.valid_from,
        valid_until: s.valid_until,
    };
    let new = card::issue(conn, &issue, s.validity_years).await?;
    if !record(conn, s, &new).await? {
        return Ok(Err(NotSuperseded::Changed));
    }
    audit::record(
        conn,
        &AuditEvent {
            actor: s.actor.clone(),
            action: "card.issued",
            entity_type: "card",
            entity_id: Some(new.id.to_string()),
            detail: json!({
                "number": new.number, "tier": new.tier, "valid_from": new.valid_from,
                "valid_until": new.valid_until, "supersedes": s.old.number,
                "succession": s.kind.as_str(),
            }),
        },
    )
    .await?;
    // The principal's live dependant cards move to the new card in this transaction (revoked
    // `superseded` now, unless the new card starts later: then they end with the old one).
    let carry = Cascade::Supersede {
        successor: &new,
        pii: s.pii,
        actor: s.actor.clone(),
        now: s.now,
    };
    cascade_to_dependants(conn, s.old, carry).await?;
    let today = crate::clock::china_date(s.now);
    if new.valid_from > today {
        // A renewal ahead of time: the old card ends on its own the day before this one starts.
        return Ok(Ok(new));
    }
    let change = StatusChange {
        card: s.old,
        action: CardAction::Revoke,
        reason: "superseded",
        comment: None,
        actor: s.actor.clone(),
        now: s.now,
        today,
        detail: Some(json!({ "replaced_by": new.number, "succession": s.kind.as_str() })),
    };
    Ok(match change_status(conn, &change).await? {
        Ok(_) => Ok(new),
        Err(Refused::NotAllowed) => Err(NotSuperseded::NotAllowed),
        Err(Refused::Changed) => Err(NotSuperseded::Changed),
    })
}

/// Stores the succession; `false` when the old card has a successor already (a racing
/// replacement committed first, or one waiting on our row lock is refused after).
async fn record(
    conn: &mut AsyncPgConnection,
    s: &Supersession<'_>,
    new: &Card,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(card_successions::table)
        .values((
            card_successions::old_card_id.eq(s.old.id),
            card_successions::new_card_id.eq(new.id),
            card_successions::kind.eq(s.kind.as_str()),
            card_successions::created_at.eq(s.now),
        ))
        .on_conflict(card_successions::old_card_id)
        .do_nothing()
        .execute(conn)
        .await;
    match inserted {
        Ok(n) => Ok(n == 1),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The card that took over from `old`, if any.
pub async fn successor(
    conn: &mut AsyncPgConnection,
    old: uuid::Uuid,
) -> QueryResult<Option<uuid::Uuid>> {
    card_successions::table
        .find(old)
        .select(card_successions::new_card_id)
        .first(conn)
        .await
        .optional()
}
