//! Change reports: a holder's report of a new employer, residence or title on a card, with the
//! new facts and their evaluation sealed like an application's, and the issuer's decision. A
//! decision is a conditional update on `status = 'open'`, so two officials deciding one report
//! at once yield one decision.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::card_changes;
use crate::models::application::Viewer;

/// A stored change report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = card_changes)]
pub struct CardChange {
    /// UUID v7.
    pub id: Uuid,
    /// The card reported on.
    pub card_id: Uuid,
    /// Its holder.
    pub holder_id: Uuid,
    /// Its issuer.
    pub issuer: String,
    /// `employer`, `residence`, `title` or `other`.
    pub kind: String,
    /// When the change took effect.
    pub effective_on: NaiveDate,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// Reported after `cards.change_report_days`.
    pub late: bool,
    /// The new facts, sealed (bound to the report id).
    pub facts: Vec<u8>,
    /// The key that sealed them.
    pub key_id: String,
    /// The tier the rules in force suggest for the new facts.
    pub suggested_tier: Option<String>,
    /// Whether the new facts are eligible at all.
    pub eligible: bool,
    /// The rules version used.
    pub rules_version: i32,
    /// The trace, sealed (it quotes the facts).
    pub evaluation_trace: Vec<u8>,
    /// The review deadline (working days from the report).
    pub review_due: NaiveDate,
    /// `open` or `decided`.
    pub status: String,
    /// `keep`, `retier`, `suspend` or `revoke`.
    pub decision: Option<String>,
    /// The tier of a `retier`.
    pub decided_tier: Option<String>,
    /// The coded reason of a suspension or revocation.
    pub reason_code: Option<String>,
    /// The official's comment.
    pub decision_comment: Option<String>,
    /// Who decided.
    pub decided_by: Option<Uuid>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The card a `retier` issued.
    pub new_card_id: Option<Uuid>,
}

/// A new report.
#[derive(Debug, Insertable)]
#[diesel(table_name = card_changes)]
pub struct NewCardChange<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The card.
    pub card_id: Uuid,
    /// Its holder.
    pub holder_id: Uuid,
    /// Its issuer.
    pub issuer: &'a str,
    /// What changed.
    pub kind: &'a str,
    /// When.
    pub effective_on: NaiveDate,
    /// Now.
    pub reported_at: DateTime<Utc>,
    /// Late or not.
    pub late: bool,
    /// Sealed facts.
    pub facts: &'a [u8],
    /// Their key.
    pub key_id: &'a str,
    /// Suggested tier.
    pub suggested_tier: Option<&'a str>,
    /// Eligible at all.
    pub eligible: bool,
    /// Rules version.
    pub rules_version: i32,
    /// Sealed trace.
    pub evaluation_trace: &'a [u8],
    /// Deadline.
    pub review_due: NaiveDate,
    /// `open`.
    pub status: &'a str,
}

/// A decision on an open report.
#[derive(Debug)]
pub struct ChangeDecision<'a> {
    /// `keep`, `retier`, `suspend` or `revoke`.
    pub decision: &'a str,
    /// The new tier of a `retier`.
    pub tier: Option<&'a str>,
    /// The coded reason.
    pub reason_code: Option<&'a str>,
    /// The comment.
    pub comment: Option<&'a str>,
    /// Who.
    pub decided_by: Uuid,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Stores a report.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewCardChange<'_>,
) -> QueryResult<CardChange> {
    diesel::insert_into(card_changes::table)
        .values(new)
        .returning(CardChange::as_returning())
        .get_result(conn)
        .await
}

/// Decides the report if it is still open and of `issuer`; `None` when it is not (decided by
/// someone else first).
pub async fn decide(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    issuer: &str,
    d: &ChangeDecision<'_>,
) -> QueryResult<Option<CardChange>> {
    diesel::update(
        card_changes::table
            .find(id)
            .filter(card_changes::issuer.eq(issuer))
            .filter(card_changes::status.eq("open")),
    )
    .set((
        card_changes::status.eq("decided"),
        card_changes::decision.eq(d.decision),
        card_changes::decided_tier.eq(d.tier),
        card_changes::reason_code.eq(d.reason_code),
        card_changes::decision_comment.eq(d.comment),
        card_changes::decided_by.eq(d.decided_by),
        card_changes::decided_at.eq(d.decided_at),
    ))
    .returning(CardChange::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Records the card a `retier` issued.
pub async fn set_new_card(conn: &mut AsyncPgConnection, id: Uuid, card: Uuid) -> QueryResult<()> {
    diesel::update(card_changes::table.find(id))
        .set(card_changes::new_card_id.eq(card))
        .execute(conn)
        .await
        .map(|_| ())
}

/// One report on `card_id` visible to `viewer` (its holder, or an official of its issuer).
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
    id: Uuid,
    viewer: &Viewer,
) -> QueryResult<Option<CardChange>> {
    let query = card_changes::table
        .filter(card_changes::id.eq(id))
        .filter(card_changes::card_id.eq(card_id))
        .into_boxed();
    let query = match viewer {
        Viewer::Talent(holder) => query.filter(card_changes::holder_id.eq(*holder)),
        Viewer::Official(issuer) => query.filter(card_changes::issuer.eq(issuer.clone())),
    };
    query
        .select(CardChange::as_select())
        .first(conn)
        .await
        .optional()
}

/// The reports on one card, oldest first (the caller checked it may see the card).
pub async fn of_card(conn: &mut AsyncPgConnection, card_id: Uuid) -> QueryResult<Vec<CardChange>> {
    card_changes::table
        .filter(card_changes::card_id.eq(card_id))
        .order((card_changes::reported_at.asc(), card_changes::id.asc()))
        .limit(200)
        .select(CardChange::as_select())
        .load(conn)
        .await
}

/// An issuer's reports (open ones when `status` says so), oldest first, a page after the
/// cursor `(reported_at, id)`.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<CardChange>> {
    let query = card_changes::table
        .filter(card_changes::issuer.eq(issuer.to_owned()))
        .into_boxed();
    let query = match status {
        Some(status) => query.filter(card_changes::status.eq(status.to_owned())),
        None => query,
    };
    let query = match after {
        Some((at, id)) => query.filter(
            card_changes::reported_at
                .gt(at)
                .or(card_changes::reported_at
                    .eq(at)
                    .and(card_changes::id.gt(id))),
        ),
        None => query,
    };
    query
        .order((card_changes::reported_at.asc(), card_changes::id.asc()))
        .limit(limit)
        .select(CardChange::as_select())
        .load(conn)
        .await
}
