//! The one statement a partner's check costs: the card shown, by its number or id, with only
//! what the answer needs. The agency's client, the credential's key, the issuer's district and
//! the policies in force come from memory (`state::directory`, `state::policies`); the
//! holder's uses are read only when one of the agency's services in its district counts uses
//! (a quota), and the record of the credential only when a credential was shown.
//!
//! The statement is kept cheap to start as well as to run (profiled: starting the executor
//! cost as much as running it): the masked name is on the card row, so no account is joined,
//! and the uses come back as one row per redemption, counted here, rather than aggregated by
//! PostgreSQL, whose aggregate nodes cost more to set up than the few rows they count.
//!
//! Each shape of the statement is its own type, so each connection prepares it once (diesel
//! never caches raw SQL).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Date, Int4, Nullable, Text, Timestamptz, Untyped};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::dependants::CardKind;
use crate::domain::standing::Uses;

/// A card as an agency's check needs it.
#[derive(Debug, QueryableByName)]
pub struct ShownCard {
    /// Its id (the holder's log names it).
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    /// Its number.
    #[diesel(sql_type = Text)]
    pub number: String,
    /// Its scheme.
    #[diesel(sql_type = Text)]
    pub scheme: String,
    /// Its issuer.
    #[diesel(sql_type = Text)]
    pub issuer: String,
    /// Its own tier.
    #[diesel(sql_type = Text)]
    pub tier: String,
    /// The stored status.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Its first valid day (a renewal issued ahead starts after its predecessor ends).
    #[diesel(sql_type = Date)]
    pub valid_from: NaiveDate,
    /// Its last valid day.
    #[diesel(sql_type = Date)]
    pub valid_until: NaiveDate,
    /// Its index in its issuer's status list.
    #[diesel(sql_type = Nullable<Int4>)]
    pub status_index: Option<i32>,
    /// The thumbprint of the holder's bound wallet key.
    #[diesel(sql_type = Nullable<Text>)]
    pub holder_jkt: Option<String>,
    /// The name the card shows, masked: the holder's, or on a dependant card the family
    /// member's (stored on the card, so the check reads no account).
    #[diesel(sql_type = Text)]
    pub name_masked: String,
    /// `principal` or `dependant`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// For a dependant card, the family member's relation to the holder.
    #[diesel(sql_type = Nullable<Text>)]
    pub relation: Option<String>,
    /// The `iat` the credential's key signed for this card, when a credential was shown and
    /// that key signed one.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub signed_iat: Option<DateTime<Utc>>,
    /// The `exp` it signed.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub signed_exp: Option<DateTime<Utc>>,
}

/// One row of the statement: the card, with one of the holder's redemptions in the agency's
/// district when uses were asked for and there is one (a row per redemption).
#[derive(QueryableByName)]
struct Row {
    #[diesel(embed)]
    card: ShownCard,
    #[diesel(sql_type = Nullable<Text>)]
    used_service: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    used_period: Option<String>,
}

impl ShownCard {
    /// The kind, parsed.
    pub fn card_kind(&self) -> CardKind {
        CardKind::parse(&self.kind)
    }
}

/// Which card was shown.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    /// By its number.
    Number(&'a str),
    /// By its id (a dynamic code names it).
    Id(Uuid),
}

/// What to read beside the card.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The holder's uses in this district (`None`: the answer shows no use).
    pub uses_in: Option<&'a str>,
    /// The record of what key `kid` signed for the card (a credential was shown).
    pub signed_by: Option<&'a str>,
}

/// The card shown, with what `wanted` asks for: the holder's uses in the district asked for
/// (none when not asked for).
pub async fn find(
    conn: &mut AsyncPgConnection,
    key: Key<'_>,
    wanted: Wanted<'_>,
) -> QueryResult<Option<(ShownCard, Uses)>> {
    // One type per shape of the statement: (by id, with uses, with the signed record).
    macro_rules! run {
        ($id:literal, $uses:literal, $signed:literal) => {
            Lookup::<$id, $uses, $signed> { key, wanted }
                .load::<Row>(conn)
                .await?
        };
    }
    let by_id = matches!(key, Key::Id(_));
    let rows = match (by_id, wanted.uses_in.is_some(), wanted.signed_by.is_some()) {
        (false, false, false) => run!(false, false, false),
        (false, false, true) => run!(false, false, true),
        (false, true, false) => run!(false, true, false),
        (false, true, true) => run!(false, true, true),
        (true, false, false) => run!(true, false, false),
        (true, false, true) => run!(true, false, true),
        (true, true, false) => run!(true, true, false),
        (true, true, true) => run!(true, true, true),
    };
    Ok(counted(rows, wanted.uses_in))
}

/// The card of the rows, with the redemptions they carry counted as uses in `district`.
fn counted(rows: Vec<Row>, district: Option<&str>) -> Option<(ShownCard, Uses)> {
    let mut uses = Uses::default();
    let mut card = None;
    for row in rows {
        if let (Some(district), Some(service), Some(period)) =
            (district, &row.used_service, &row.used_period)
        {
            uses.add(district, service, period, 1);
        }
        card.get_or_insert(row.card);
    }
    card.map(|card| (card, uses))
}

struct Lookup<'a, const BY_ID: bool, const USES: bool, const SIGNED: bool> {
    key: Key<'a>,
    wanted: Wanted<'a>,
}

impl<const BY_ID: bool, const USES: bool, const SIGNED: bool> QueryFragment<Pg>
    for Lookup<'_, BY_ID, USES, SIGNED>
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT c.id, c.number, c.scheme, c.issuer, c.tier, c.status, c.valid_from, c.valid_until,
                    c.status_index, c.holder_jkt, c.name_masked, c.kind, c.relation, ",
        );
        match self.wanted.signed_by {
            Some(_) if SIGNED => out.push_sql("cc.iat AS signed_iat, cc.exp AS signed_exp, "),
            _ => out.push_sql("NULL::timestamptz AS signed_iat, NULL::timestamptz AS signed_exp, "),
        }
        if USES && self.wanted.uses_in.is_some() {
            out.push_sql("r.service AS used_service, r.period_key AS used_period");
        } else {
            out.push_sql("NULL::text AS used_service, NULL::text AS used_period");
        }
        out.push_sql(" FROM cards c");
        if let Some(district) = &self.wanted.uses_in
            && USES
        {
            out.push_sql(
                " LEFT JOIN redemptions r ON r.holder_id = c.holder_id AND r.scheme = c.scheme
                   AND r.reversed_at IS NULL AND r.district = ",
            );
            out.push_bind_param::<Text, _>(district)?;
        }
        if let Some(kid) = &self.wanted.signed_by
            && SIGNED
        {
            out.push_sql(" LEFT JOIN card_credentials cc ON cc.card_id = c.id AND cc.kid = ");
            out.push_bind_param::<Text, _>(kid)?;
        }
        match &self.key {
            Key::Number(number) => {
                out.push_sql(" WHERE c.number = ");
                out.push_bind_param::<Text, _>(number)
            }
            Key::Id(id) => {
                out.push_sql(" WHERE c.id = ");
                out.push_bind_param::<diesel::sql_types::Uuid, _>(id)
            }
        }
    }
}

impl<const BY_ID: bool, const USES: bool, const SIGNED: bool> QueryId
    for Lookup<'_, BY_ID, USES, SIGNED>
{
    type QueryId = Lookup<'static, BY_ID, USES, SIGNED>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const BY_ID: bool, const USES: bool, const SIGNED: bool> Query
    for Lookup<'_, BY_ID, USES, SIGNED>
{
    type SqlType = Untyped;
}
