//! Cards. Approval creates one in the same transaction as the decision; `application_id` is
//! unique, so whatever races, one approved application holds one card.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{accounts, card_serials, cards, scheme_tiers};
use crate::domain::card_number;
use crate::domain::recognition::mask_name;
use crate::models::issuer_key;

/// A stored card.
#[derive(Debug, Clone, Serialize, Queryable, QueryableByName, Selectable, ToSchema)]
#[diesel(table_name = cards)]
pub struct Card {
    /// UUID v7.
    pub id: Uuid,
    /// e.g. `XA-2026-000123-7`.
    pub number: String,
    /// The application approved; `None` for a card issued without one of its own (a
    /// replacement after a loss, the new tier's card after a change report).
    pub application_id: Option<Uuid>,
    /// The holder's account.
    #[serde(skip)]
    pub holder_id: Uuid,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Tier code.
    pub tier: String,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The key that signs its credential.
    #[serde(skip)]
    pub kid: Option<String>,
    /// Its entry in the issuer's status list.
    #[serde(skip)]
    pub status_index: Option<i32>,
    /// The coded reason of the last suspension or revocation.
    pub status_reason: Option<String>,
    /// When the status last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// The holder's bound wallet key (a public JWK; `None`: unbound), signed into credentials
    /// as `cnf.jwk`.
    #[serde(skip)]
    pub holder_jwk: Option<serde_json::Value>,
    /// Its RFC 7638 thumbprint: a presentation must be signed by this key, not one the holder
    /// has since replaced.
    #[serde(skip)]
    pub holder_jkt: Option<String>,
    /// `principal` (the holder's own) or `dependant` (a family member's).
    pub kind: String,
    /// For a dependant card, the principal card it lives and dies with.
    pub principal_card: Option<Uuid>,
    /// For a dependant card, the family member's relation to the holder.
    pub relation: Option<String>,
    /// For a dependant card, the family member's name (the card's name disclosure; the
    /// account that holds the card is the principal's holder).
    #[serde(skip)]
    pub dependant_name: Option<String>,
}

impl Card {
    /// The kind, parsed.
    pub fn card_kind(&self) -> crate::domain::dependants::CardKind {
        crate::domain::dependants::CardKind::parse(&self.kind)
    }

    /// The name the card shows: the family member's on a dependant card, else `holder_name`
    /// (the account's).
    pub fn shown_name(&self, holder_name: String) -> String {
        self.dependant_name.clone().unwrap_or(holder_name)
    }
}

/// What an approval (or a replacement, or a re-tiering) issues.
#[derive(Debug)]
pub struct Issue<'a> {
    /// The application, when the card comes from one.
    pub application_id: Option<Uuid>,
    /// The holder.
    pub holder_id: Uuid,
    /// Scheme code.
    pub scheme: &'a str,
    /// Issuer code.
    pub issuer: &'a str,
    /// Tier code.
    pub tier: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// The first valid day when not today (a renewal starts the day after the card it renews
    /// ends).
    pub valid_from: Option<NaiveDate>,
    /// The last valid day when not the tier's validity from `valid_from` (a replacement keeps
    /// the lost card's).
    pub valid_until: Option<NaiveDate>,
}

/// The validity of a tier in years, if the scheme has it.
pub async fn tier_validity(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    tier: &str,
) -> QueryResult<Option<i32>> {
    scheme_tiers::table
        .find((scheme, tier))
        .select(scheme_tiers::validity_years)
        .first(conn)
        .await
        .optional()
}

/// Tries at a random serial before giving up; each clashes with one chance in billions.
const SERIAL_TRIES: usize = 8;

/// Issues a card: a random serial of the issuer's year with its check digit (retried on the
/// rare clash with an existing number), validity from the tier. Call inside the approval's
/// transaction.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    issue: &Issue<'_>,
    validity_years: i32,
) -> QueryResult<Card> {
    let today = crate::clock::china_date(issue.now);
    let valid_from = issue.valid_from.unwrap_or(today);
    let valid_until = issue
        .valid_until
        .unwrap_or_else(|| valid_until(valid_from, validity_years));
    issue_between(conn, issue, valid_from, valid_until).await
}

/// Issues a card valid from `valid_from` to `valid_until` (a dependant card ends with its
/// principal card, whatever its own tier's validity); otherwise as [`issue`].
pub async fn issue_between(
    conn: &mut AsyncPgConnection,
    issue: &Issue<'_>,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
) -> QueryResult<Card> {
    // The number carries the year of issue, whatever day the card starts.
    let year = crate::clock::china_date(issue.now).year();
    // The serial is random now, so this row no longer numbers cards: it counts the cards of the
    // issuer's year, and its row lock is what serialises issuance per issuer. `free_index` below
    // relies on that: two approvals of one issuer must not pick the same free status index
    // between its read and their inserts. Keep this bump before `free_index`.
    diesel::insert_into(card_serials::table)
        .values((
            card_serials::issuer.eq(issue.issuer),
            card_serials::year.eq(year),
            card_serials::last.eq(1_i64),
        ))
        .on_conflict((card_serials::issuer, card_serials::year))
        .do_update()
        .set(card_serials::last.eq(card_serials::last + 1))
        .execute(conn)
        .await?;
    let kid = issuer_key::active(conn, issue.issuer).await?.map(|k| k.kid);
    // What a check answers about the person, stored with the card (`shown_card`); a dependant
    // card gets the family member's when it is marked (`dependant::mark_dependant`).
    let holder_name: String = accounts::table
        .find(issue.holder_id)
        .select(accounts::full_name)
        .first(conn)
        .await?;
    let name_masked = mask_name(&holder_name);
    let status_index =
        crate::models::status_list::free_index(conn, issue.issuer, issue.now).await?;
    let id = Uuid::now_v7();
    for _ in 0..SERIAL_TRIES {
        let number = card_number::format(issue.issuer, year, crate::crypto::random::card_serial());
        // ON CONFLICT on the number only: a clash is skipped (no failed statement, so the
        // approval's transaction stays usable) and another serial drawn; any other unique
        // violation (a second card for the application) still fails the approval.
        let inserted = diesel::insert_into(cards::table)
            .values((
                cards::id.eq(id),
                cards::number.eq(&number),
                cards::application_id.eq(issue.application_id),
                cards::holder_id.eq(issue.holder_id),
                cards::scheme.eq(issue.scheme),
                cards::issuer.eq(issue.issuer),
                cards::tier.eq(issue.tier),
                cards::status.eq("active"),
                cards::valid_from.eq(valid_from),
                cards::valid_until.eq(valid_until),
                cards::issued_at.eq(issue.now),
                cards::kid.eq(&kid),
                cards::status_index.eq(status_index),
                cards::name_masked.eq(&name_masked),
            ))
            .on_conflict(cards::number)
            .do_nothing()
            .returning(Card::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if let Some(card) = inserted {
            return Ok(card);
        }
    }
    Err(diesel::result::Error::QueryBuilderError(
        "no free card number after several random serials".into(),
    ))
}

/// The last valid day of a card valid `years` from `from`: the day before the anniversary
/// (a card from 29 February runs to 28 February, not the 27th).
pub fn valid_until(from: NaiveDate, years: i32) -> NaiveDate {
    let months = u32::try_from(years.clamp(1, 10) * 12).unwrap_or(12);
    let Some(anniversary) = from.checked_add_months(Months::new(months)) else {
        return from;
    };
    // chrono clamps 29 February to the 28th in common years; the anniversary is then 1 March.
    let anniversary = if from.day() == 29 && anniversary.day() == 28 {
        anniversary.succ_opt().unwrap_or(anniversary)
    } else {
        anniversary
    };
    anniversary.pred_opt().unwrap_or(from)
}

/// A card by id, whoever holds it (callers decide who may see it).
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Card>> {
    cards::table
        .find(id)
        .select(Card::as_select())
        .first(conn)
        .await
        .optional()
}

/// The holder's live cards (active or suspended, valid on `today`), of `scheme` when given,
/// newest first: what stands in the way of another card of the same scheme, and what the
/// official deciding an application sees.
pub async fn live_of_holder(
    conn: &mut AsyncPgConnection,
    holder_id: Uuid,
    scheme: Option<&str>,
    today: NaiveDate,
) -> QueryResult<Vec<Card>> {
    // The holder's own cards: the dependant cards they hold for their family do not count.
    let query = cards::table
        .filter(cards::holder_id.eq(holder_id))
        .filter(cards::kind.eq("principal"))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .filter(cards::valid_until.ge(today))
        .into_boxed();
    let query = match scheme {
        Some(scheme) => query.filter(cards::scheme.eq(scheme.to_owned())),
        None => query,
    };
    query
        .order((cards::issued_at.desc(), cards::id.desc()))
        .select(Card::as_select())
        .load(conn)
        .await
}

/// A card by its number (what agencies present).
pub async fn find_by_number(
    conn: &mut AsyncPgConnection,
    number: &str,
) -> QueryResult<Option<Card>> {
    cards::table
        .filter(cards::number.eq(number))
        .select(Card::as_select())
        .first(conn)
        .await
        .optional()
}

/// A card visible to `viewer`: its holder, or an official of its issuer.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    viewer: &crate::models::application::Viewer,
) -> QueryResult<Option<Card>> {
    use crate::models::application::Viewer;
    let query = cards::table.filter(cards::id.eq(id)).into_boxed();
    let query = match viewer {
        Viewer::Talent(holder) => query.filter(cards::holder_id.eq(*holder)),
        Viewer::Official(issuer) => query.filter(cards::issuer.eq(issuer.clone())),
    };
    query.select(Card::as_select()).first(conn).await.optional()
}

/// Cards visible to `viewer` with their holders' names, newest first.
pub async fn list_visible(
    conn: &mut AsyncPgConnection,
    viewer: &crate::models::application::Viewer,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Card, String)>> {
    use crate::db::schema::accounts;
    use crate::models::application::Viewer;
    // One query with the holders' names, not one more per card.
    let query = cards::table
        .inner_join(accounts::table.on(accounts::id.eq(cards::holder_id)))
        .into_boxed();
    let query = match viewer {
        Viewer::Talent(holder) => query.filter(cards::holder_id.eq(*holder)),
        Viewer::Official(issuer) => query.filter(cards::issuer.eq(issuer.clone())),
    };
    // Newest first; the cursor is the (issued_at, id) of the previous page's last card.
    let query = match after {
        Some((at, id)) => query.filter(
            cards::issued_at
                .lt(at)
                .or(cards::issued_at.eq(at).and(cards::id.lt(id))),
        ),
        None => query,
    };
    query
        .order((cards::issued_at.desc(), cards::id.desc()))
        .limit(limit)
        .select((Card::as_select(), accounts::full_name))
        .load(conn)
        .await
}

/// Live cards (active or suspended) visible to `viewer` whose last day falls within
/// `between` (inclusive), soonest first, after the cursor `(valid_until, id)`: what an
/// issuer's officials plan renewals with.
pub async fn expiring_visible(
    conn: &mut AsyncPgConnection,
    viewer: &crate::models::application::Viewer,
    between: (NaiveDate, NaiveDate),
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<(Card, String)>> {
    use crate::db::schema::accounts;
    use crate::models::application::Viewer;
    let query = cards::table
        .inner_join(accounts::table.on(accounts::id.eq(cards::holder_id)))
        .filter(cards::status.eq_any(["active", "suspended"]))
        .filter(cards::valid_until.between(between.0, between.1))
        .into_boxed();
    let query = match viewer {
        Viewer::Talent(holder) => query.filter(cards::holder_id.eq(*holder)),
        Viewer::Official(issuer) => query.filter(cards::issuer.eq(issuer.clone())),
    };
    let query = match after {
        Some((day, id)) => query.filter(
            cards::valid_until
                .gt(day)
                .or(cards::valid_until.eq(day).and(cards::id.gt(id))),
        ),
        None => query,
    };
    query
        .order((cards::valid_until.asc(), cards::id.asc()))
        .limit(limit)
        .select((Card::as_select(), accounts::full_name))
        .load(conn)
        .await
}

/// Moves a card from `from` to `to` with a coded reason; `None` when it was not in `from`.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    from: &str,
    to: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Card>> {
    diesel::update(cards::table.find(id).filter(cards::status.eq(from)))
        .set((
            cards::status.eq(to),
            cards::status_reason.eq(reason),
            cards::status_changed_at.eq(now),
        ))
        .returning(Card::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The card issued for an application, if any.
pub async fn of_application(
    conn: &mut AsyncPgConnection,
    application_id: Uuid,
) -> QueryResult<Option<Card>> {
    cards::table
        .filter(cards::application_id.eq(application_id))
        .select(Card::as_select())
        .first(conn)
        .await
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_ends_the_day_before_the_anniversary() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(valid_until(d(2026, 11, 28), 3), d(2029, 11, 27));
        assert_eq!(valid_until(d(2028, 2, 29), 3), d(2031, 2, 28));
        assert_eq!(valid_until(d(2028, 2, 29), 4), d(2032, 2, 28));
        assert_eq!(valid_until(d(2026, 1, 1), 5), d(2030, 12, 31));
    }
}
