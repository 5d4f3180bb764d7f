//! Redemptions: a service an agency gave a holder, counted against the quota of the holder and
//! scheme (not of the card, so renewals and second cards share it), reversible by the agency
//! within 24 hours. Reversed rows stay for the record and count nowhere.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{cards, redemptions, verifications};

/// How long a presentation (a valid check by credential) vouches that the card was shown.
pub const PRESENTATION_TTL: Duration = Duration::minutes(10);

/// How long the agency that redeemed may reverse a redemption.
pub const REVERSAL_WINDOW: Duration = Duration::hours(24);

/// A stored redemption.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = redemptions)]
pub struct Redemption {
    /// UUID v7.
    pub id: Uuid,
    /// The card presented.
    pub card_id: Uuid,
    /// The agency that gave the service.
    pub agency_id: Uuid,
    /// Its district.
    pub district: String,
    /// The service.
    pub service: String,
    /// The quota period counted against.
    pub period_key: String,
    /// When.
    pub redeemed_at: DateTime<Utc>,
    /// When it was reversed.
    pub reversed_at: Option<DateTime<Utc>>,
    /// The coded reason of the reversal.
    pub reversal_reason: Option<String>,
    /// The reversing client's comment.
    pub reversal_comment: Option<String>,
}

/// A redemption to record.
#[derive(Debug)]
pub struct NewRedemption<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// The card presented.
    pub card_id: Uuid,
    /// Its holder: quotas count per holder and scheme.
    pub holder_id: Uuid,
    /// Its scheme.
    pub scheme: &'a str,
    /// The agency.
    pub agency_id: Uuid,
    /// Its district.
    pub district: &'a str,
    /// The service.
    pub service: &'a str,
    /// The quota period.
    pub period_key: &'a str,
    /// The presentation relied on (`None`: by number, where the rule allows it).
    pub presentation_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A card shown to an agency: what a `presentation_id` vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    /// The card.
    pub card_id: Uuid,
    /// Whether the presenter was proved to be the holder (a key-bound presentation or a
    /// dynamic code), which rules with `holder_binding: "required"` insist on.
    pub holder_bound: bool,
}

/// The card a presentation of `agency_id` vouches for: a valid check by credential,
/// presentation or dynamic code made by that agency no longer than [`PRESENTATION_TTL`] before
/// `now`. `None` for an unknown id, another agency's, an older one, a check by number or an
/// invalid answer: all look alike.
pub async fn presented_card(
    conn: &mut AsyncPgConnection,
    presentation_id: Uuid,
    agency_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Presented>> {
    let found = verifications::table
        .find(presentation_id)
        .filter(verifications::agency_id.eq(agency_id))
        .filter(verifications::method.ne("card_number"))
        .filter(verifications::valid.eq(true))
        .filter(verifications::verified_at.gt(now - PRESENTATION_TTL))
        .filter(verifications::verified_at.le(now))
        .select((verifications::card_id, verifications::holder_bound))
        .first::<(Option<Uuid>, bool)>(conn)
        .await
        .optional()?;
    Ok(found.and_then(|(card_id, holder_bound)| {
        Some(Presented {
            card_id: card_id?,
            holder_bound,
        })
    }))
}

/// Records a redemption.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewRedemption<'_>) -> QueryResult<()> {
    diesel::insert_into(redemptions::table)
        .values((
            redemptions::id.eq(new.id),
            redemptions::card_id.eq(new.card_id),
            redemptions::holder_id.eq(new.holder_id),
            redemptions::scheme.eq(new.scheme),
            redemptions::agency_id.eq(new.agency_id),
            redemptions::district.eq(new.district),
            redemptions::service.eq(new.service),
            redemptions::period_key.eq(new.period_key),
            redemptions::presentation_id.eq(new.presentation_id),
            redemptions::redeemed_at.eq(new.at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A redemption of `agency_id` with its card's number, the redemption's row locked until the
/// transaction ends so that two reversals queue and the second sees the first; `None` for an
/// unknown id or another agency's.
pub async fn lock_of_agency(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    agency_id: Uuid,
) -> QueryResult<Option<(Redemption, String)>> {
    let Some(found) = redemptions::table
        .filter(redemptions::id.eq(id))
        .filter(redemptions::agency_id.eq(agency_id))
        .select(Redemption::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let number = cards::table
        .find(found.card_id)
        .select(cards::number)
        .first(conn)
        .await?;
    Ok(Some((found, number)))
}

/// The reversal to record.
#[derive(Debug)]
pub struct Reversal<'a> {
    /// `entered_in_error`, `service_not_given` or `other`.
    pub reason: &'a str,
    /// The client's explanation.
    pub comment: Option<&'a str>,
    /// The reversing agency client.
    pub by: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

/// Marks an unreversed redemption reversed; `None` when it was reversed already.
pub async fn reverse(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    reversal: &Reversal<'_>,
) -> QueryResult<Option<Redemption>> {
    diesel::update(
        redemptions::table
            .find(id)
            .filter(redemptions::reversed_at.is_null()),
    )
    .set((
        redemptions::reversed_at.eq(reversal.at),
        redemptions::reversal_reason.eq(reversal.reason),
        redemptions::reversal_comment.eq(reversal.comment),
        redemptions::reversed_by.eq(reversal.by),
    ))
    .returning(Redemption::as_returning())
    .get_result(conn)
    .await
    .optional()
}
