//! Loading what a card's standing needs (`domain::standing`) in one round trip: the card, its
//! holder's name, its issuer's district, the rule versions in force and the holder's uses.
//!
//! Two readers, one statement shape: a redemption (by the card id a presentation names, under
//! the holder's lock) and the holder's own view (every district). A partner's check reads less
//! (`models::shown_card`). Each variant has its own static query id, so each connection prepares it once
//! (diesel never caches raw SQL; on the verification path parsing cost as much as running).

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Date, Text, Untyped};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::card_status::CardStatus;
use crate::domain::dependants::Relation;
use crate::domain::standing::{CardFacts, Uses};
use crate::models::card::Card;

/// A card with everything its standing needs.
#[derive(Debug, QueryableByName)]
pub struct Found {
    /// The card.
    #[diesel(embed)]
    pub card: Card,
    /// The holder's full name (only ever answered masked).
    #[diesel(sql_type = Text)]
    pub holder_name: String,
    /// The district of the card's issuer.
    #[diesel(sql_type = Text)]
    pub issuer_district: String,
    /// The recognition version in force (`None`: none published).
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    pub recognitions_version: Option<i32>,
    /// The entitlement version in force.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    pub entitlements_version: Option<i32>,
    /// The holder's uses under the card's scheme (quotas are the holder's, across renewals),
    /// reversed ones left out: `{"district service period_key": count}`.
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    uses: serde_json::Value,
}

impl Found {
    /// The card's facts, or `None` when its stored status is not one the machine knows (a
    /// constraint in the database makes that impossible; the caller answers 500).
    pub fn facts(&self) -> Option<CardFacts<'_>> {
        Some(CardFacts {
            status: CardStatus::parse(&self.card.status)?,
            valid_from: self.card.valid_from,
            valid_until: self.card.valid_until,
            scheme: &self.card.scheme,
            tier: &self.card.tier,
            issuer_district: &self.issuer_district,
            kind: self.card.card_kind(),
            relation: self.card.relation.as_deref().and_then(Relation::parse),
        })
    }

    /// The rule versions in force, for the policy cache.
    pub fn versions(&self) -> (Option<i32>, Option<i32>) {
        (self.recognitions_version, self.entitlements_version)
    }

    /// The holder's uses as the standing counts them.
    pub fn uses(&self) -> Uses {
        parse_uses(&self.uses)
    }
}

/// Uses as the statements return them, `{"district service period_key": count}`, as the
/// standing counts them.
fn parse_uses(counted: &serde_json::Value) -> Uses {
    let mut uses = Uses::default();
    for (key, n) in counted.as_object().into_iter().flatten() {
        let mut parts = key.splitn(3, ' ');
        if let (Some(district), Some(service), Some(period), Some(n)) =
            (parts.next(), parts.next(), parts.next(), n.as_i64())
        {
            uses.add(district, service, period, n);
        }
    }
    uses
}

/// The card `id`, with its holder's uses in `district` (a redemption).
pub async fn by_id(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    district: &str,
    today: NaiveDate,
) -> QueryResult<Option<Found>> {
    let key = ById { id, district };
    Lookup { key, today }.get_result(conn).await.optional()
}

/// The card `id` when `holder` holds it, with the holder's uses in every district.
pub async fn holders(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    holder: Uuid,
    today: NaiveDate,
) -> QueryResult<Option<Found>> {
    let key = HoldersCard { id, holder };
    Lookup { key, today }.get_result(conn).await.optional()
}

const HEAD: [&str; 3] = [
    "SELECT c.*, a.full_name AS holder_name, i.district AS issuer_district,
        (SELECT version FROM policy_documents
          WHERE kind = 'recognitions' AND effective_from <= ",
    " ORDER BY effective_from DESC, version DESC LIMIT 1) AS recognitions_version,
        (SELECT version FROM policy_documents
          WHERE kind = 'entitlements' AND effective_from <= ",
    " ORDER BY effective_from DESC, version DESC LIMIT 1) AS entitlements_version,
        (SELECT coalesce(jsonb_object_agg(u.district || ' ' || u.service || ' ' || u.period_key,
                                          u.n), '{}')
           FROM (SELECT district, service, period_key, count(*) AS n FROM redemptions
                  WHERE holder_id = c.holder_id AND scheme = c.scheme AND reversed_at IS NULL",
];
const TAIL: &str = " GROUP BY district, service, period_key) u) AS uses
     FROM cards c
     JOIN accounts a ON a.id = c.holder_id
     JOIN issuers i ON i.code = c.issuer
    WHERE ";

/// Which card, and whose uses where: the parts of the statement that differ.
trait Key {
    /// A distinct `'static` type per variant: the statement's cache key.
    type Static: 'static;
    /// Narrows the uses (`AND district = …`), or not.
    fn walk_uses<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
    /// Picks the card.
    fn walk_card<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct ById<'a> {
    id: Uuid,
    district: &'a str,
}

struct HoldersCard {
    id: Uuid,
    holder: Uuid,
}

fn walk_district<'b>(district: &'b &str, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
    out.push_sql(" AND district = ");
    out.push_bind_param::<Text, _>(district)
}

impl Key for ById<'_> {
    type Static = ById<'static>;
    fn walk_uses<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk_district(&self.district, out)
    }
    fn walk_card<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("c.id = ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.id)
    }
}

impl Key for HoldersCard {
    type Static = HoldersCard;
    fn walk_uses<'b>(&'b self, _out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        Ok(())
    }
    fn walk_card<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("c.id = ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.id)?;
        out.push_sql(" AND c.holder_id = ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.holder)
    }
}

/// The statement: the rule versions in force on `today`, then the key's parts.
struct Lookup<K> {
    key: K,
    today: NaiveDate,
}

impl<K: Key> QueryFragment<Pg> for Lookup<K> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(HEAD[0]);
        out.push_bind_param::<Date, _>(&self.today)?;
        out.push_sql(HEAD[1]);
        out.push_bind_param::<Date, _>(&self.today)?;
        out.push_sql(HEAD[2]);
        self.key.walk_uses(&mut out)?;
        out.push_sql(TAIL);
        self.key.walk_card(&mut out)
    }
}

impl<K: Key> QueryId for Lookup<K> {
    type QueryId = K::Static;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<K: Key> Query for Lookup<K> {
    type SqlType = Untyped;
}
