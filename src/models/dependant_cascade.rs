//! Dependant cards live and die with their principal card. [`cascade_to_dependants`] is the one
//! place that makes them follow, in the caller's transaction: a suspension, resumption or
//! revocation of the principal does the same to its live dependant cards (status list and audit
//! included, through the card state machine); a principal superseded by a renewal, an upgrade
//! or a replacement has each live dependant card revoked `superseded` and a new one issued
//! under its successor (same person and relation, new number and status index).
//!
//! `models::card_status::change_status` calls it for every principal card it moves, so no path
//! can leave a dependant live under a dead principal. A path that supersedes a principal calls
//! it with [`Cascade::Supersede`] *before* revoking the old card, so the dependants are carried
//! over rather than merely revoked.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::{Field, PiiCipher};
use crate::domain::card_status::CardAction;
use crate::domain::dependants::CardKind;
use crate::models::card::{self, Card, Issue};
use crate::models::card_status::{StatusChange, change_one};
use crate::models::dependant::{self, CarriedApplication};

/// What happened to the principal card.
#[derive(Debug)]
pub enum Cascade<'a> {
    /// It was suspended, resumed or revoked by `change` (the change as applied to the
    /// principal; its `card` is the principal as it was read before).
    Follow(&'a StatusChange<'a>),
    /// It is about to be superseded by `successor`.
    Supersede {
        /// The card that replaces the principal.
        successor: &'a Card,
        /// Reseals each dependant's ID number for its new application.
        pii: &'a PiiCipher,
        /// Who supersedes it (audited).
        actor: Actor,
        /// When.
        now: DateTime<Utc>,
    },
}

/// Makes the live dependant cards of `principal` follow it; answers the dependant cards
/// changed or issued. A dependant card has no dependants, so this never goes deeper.
pub async fn cascade_to_dependants(
    conn: &mut AsyncPgConnection,
    principal: &Card,
    cascade: Cascade<'_>,
) -> QueryResult<Vec<Card>> {
    if principal.card_kind() == CardKind::Dependant {
        return Ok(Vec::new());
    }
    let live = dependant::live_cards_of(conn, principal.id).await?;
    let mut out = Vec::with_capacity(live.len());
    for card in &live {
        let changed = match &cascade {
            Cascade::Follow(change) => follow(conn, principal, card, change)
                .await?
                .into_iter()
                .collect(),
            Cascade::Supersede {
                successor,
                pii,
                actor,
                now,
            } => carry_over(conn, card, successor, pii, actor, *now).await?,
        };
        out.extend(changed);
    }
    Ok(out)
}

/// One dependant follows the principal's change. A resumption resumes only the dependants the
/// principal's suspension suspended (at that same instant), not one an official suspended on
/// its own; a change the table refuses for this dependant (an expired one suspended) is skipped.
async fn follow(
    conn: &mut AsyncPgConnection,
    principal: &Card,
    card: &Card,
    change: &StatusChange<'_>,
) -> QueryResult<Option<Card>> {
    if change.action == CardAction::Resume
        && (card.status != "suspended" || card.status_changed_at != change.card.status_changed_at)
    {
        return Ok(None);
    }
    let follow = StatusChange {
        card,
        action: change.action,
        reason: change.reason,
        comment: change.comment,
        actor: change.actor.clone(),
        now: change.now,
        today: change.today,
        detail: Some(json!({ "principal_card": principal.number, "cascade": true })),
    };
    Ok(change_one(conn, &follow).await?.ok())
}

/// One dependant carried over to the successor: a new approved application and card under it
/// (the person's ID resealed for the new application), then the old card revoked `superseded`.
/// Not carried when the successor's tier may not carry dependants or has ended: then only revoked.
async fn carry_over(
    conn: &mut AsyncPgConnection,
    card: &Card,
    successor: &Card,
    pii: &PiiCipher,
    actor: &Actor,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Card>> {
    let today = crate::clock::china_date(now);
    let (_, policy) = dependant::policy_in_force(conn, &successor.scheme, today).await?;
    let person = match card.application_id {
        Some(application) => dependant::person(conn, application).await?,
        None => None,
    };
    let valid_from = successor.valid_from.max(today);
    let carried = match person {
        Some(person)
            if policy.tiers.contains(&successor.tier) && successor.valid_until > valid_from =>
        {
            Some(issue_carried(conn, card, &person, successor, pii, actor, now).await?)
        }
        _ => None,
    };
    let revoke = StatusChange {
        card,
        action: CardAction::Revoke,
        reason: "superseded",
        comment: None,
        actor: actor.clone(),
        now,
        today,
        detail: Some(json!({
            "principal_card": successor.number,
            "cascade": true,
            "replaced_by": carried.as_ref().map(|c| c.number.clone()),
        })),
    };
    // A renewal issued ahead leaves the principal in force until its last day; its dependants
    // stay in force with it (they end no later), and their successors start with the renewal.
    let mut out: Vec<Card> = if successor.valid_from > today {
        Vec::new()
    } else {
        change_one(conn, &revoke).await?.ok().into_iter().collect()
    };
    out.extend(carried);
    Ok(out)
}

/// Issues the carried-over dependant card under `successor`, audited.
async fn issue_carried(
    conn: &mut AsyncPgConnection,
    old: &Card,
    person: &dependant::Person,
    successor: &Card,
    pii: &PiiCipher,
    actor: &Actor,
    now: DateTime<Utc>,
) -> QueryResult<Card> {
    let sealing = |e| diesel::result::Error::SerializationError(Box::new(e));
    let id = Uuid::now_v7();
    let facts = pii
        .seal("null", Field::Facts, id.as_bytes())
        .map_err(sealing)?;
    let number = pii
        .open(
            &person.id_number_ciphertext,
            Field::DependantIdNumber,
            person.application_id.as_bytes(),
        )
        .map_err(sealing)?;
    let resealed = pii
        .seal(&number, Field::DependantIdNumber, id.as_bytes())
        .map_err(sealing)?;
    let decided_by = match actor {
        Actor::Account(account) => Some(*account),
        _ => None,
    };
    let application = CarriedApplication {
        id,
        principal: successor,
        facts: &facts,
        key_id: pii.key_id(),
        decided_by,
        now,
    };
    dependant::insert_carried_application(conn, &application).await?;
    let carried_person = dependant::Person {
        application_id: id,
        id_number_ciphertext: resealed,
        id_number_key_id: pii.key_id().to_owned(),
        ..person.clone()
    };
    dependant::insert_person(conn, &carried_person).await?;
    let issue = Issue {
        application_id: Some(id),
        holder_id: successor.holder_id,
        scheme: &successor.scheme,
        issuer: &successor.issuer,
        tier: &successor.tier,
        now,
        valid_from: None,
        valid_until: None,
    };
    let valid_from = successor.valid_from.max(crate::clock::china_date(now));
    let issued = card::issue_between(conn, &issue, valid_from, successor.valid_until).await?;
    let issued = dependant::mark_dependant(conn, issued.id, successor.id, &carried_person).await?;
    let event = AuditEvent {
        actor: actor.clone(),
        action: "card.issued",
        entity_type: "card",
        entity_id: Some(issued.id.to_string()),
        detail: json!({
            "number": issued.number,
            "kind": "dependant",
            "relation": issued.relation,
            "principal_card": successor.number,
            "carried_over_from": old.number,
            "valid_until": issued.valid_until,
        }),
    };
    audit::record(conn, &event).await?;
    Ok(issued)
}
