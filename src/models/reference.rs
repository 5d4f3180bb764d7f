//! Regions, districts, issuers and service categories: the reference data every rule, agency
//! and account names by code. Handlers ask here whether a code exists rather than querying the
//! tables themselves.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{districts, issuers, regions, scheme_tiers, schemes, service_categories};

/// One of Beijing (`BJ`), Tianjin (`TJ`), Hebei (`HE`).
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, Insertable, ToSchema)]
#[diesel(table_name = regions)]
pub struct Region {
    /// `BJ`, `TJ` or `HE`.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
}

/// A district where cards are issued or used.
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, Insertable, ToSchema)]
#[diesel(table_name = districts)]
pub struct District {
    /// Lower-case code, e.g. `tongzhou`.
    #[schema(example = "tongzhou")]
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// The region the district belongs to.
    #[schema(example = "BJ")]
    pub region: String,
}

/// An issuing authority.
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, Insertable, ToSchema)]
#[diesel(table_name = issuers)]
pub struct Issuer {
    /// Upper-case code, e.g. `XA`.
    #[schema(example = "XA")]
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// The district the authority sits in.
    #[schema(example = "xiongan")]
    pub district: String,
}

/// A category of service partner agencies offer to card holders.
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = service_categories)]
pub struct ServiceCategory {
    /// Snake-case code, e.g. `annual_health_check`.
    #[schema(example = "annual_health_check")]
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
}

/// All districts, by region then code.
pub async fn list_districts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<District>> {
    districts::table
        .select(District::as_select())
        .order((districts::region.asc(), districts::code.asc()))
        .load(conn)
        .await
}

/// All issuers, by code.
pub async fn list_issuers(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Issuer>> {
    issuers::table
        .select(Issuer::as_select())
        .order(issuers::code.asc())
        .load(conn)
        .await
}

/// The issuer `code`, if there is one. A code with a NUL in it names none: PostgreSQL text
/// cannot hold one and would refuse the query (a 422 to the client), where an unknown code is
/// simply not there.
pub async fn find_issuer(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Issuer>> {
    if code.contains('\0') {
        return Ok(None);
    }
    issuers::table
        .find(code)
        .select(Issuer::as_select())
        .first(conn)
        .await
        .optional()
}

/// The service catalogue in display order.
pub async fn list_services(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ServiceCategory>> {
    service_categories::table
        .select(ServiceCategory::as_select())
        .order(service_categories::position.asc())
        .load(conn)
        .await
}

/// Whether `code` names a district: an agency sits in one that exists.
pub async fn district_exists(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(districts::table.find(code)))
        .get_result(conn)
        .await
}

/// Whether `code` names an issuer: an official is bound to one that exists.
pub async fn issuer_exists(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(issuers::table.find(code)))
        .get_result(conn)
        .await
}

/// Every district code, for checking many rules against one read.
pub async fn district_codes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    districts::table.select(districts::code).load(conn).await
}

/// Every service category code, for checking many rules against one read.
pub async fn service_codes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    service_categories::table
        .select(service_categories::code)
        .load(conn)
        .await
}

/// The codes among `codes` that name a service category; fewer than given means some are
/// unknown.
pub async fn known_services(
    conn: &mut AsyncPgConnection,
    codes: &BTreeSet<String>,
) -> QueryResult<Vec<String>> {
    service_categories::table
        .filter(service_categories::code.eq_any(codes))
        .select(service_categories::code)
        .load(conn)
        .await
}

/// The names a card face prints for a card's scheme, tier and issuer, each in Chinese and
/// English: what a person reads in place of the codes the card row holds.
#[derive(Debug, Clone)]
pub struct CardNames {
    /// The scheme's Chinese and English names, e.g. 雄才卡, Xiong'an Talent Card.
    pub scheme: (String, String),
    /// The tier's names, e.g. B类 雄才卡, Tier B.
    pub tier: (String, String),
    /// The issuing authority's names.
    pub issuer: (String, String),
    /// The names of the issuer's district, e.g. 雄安新区, Xiong'an.
    pub district: (String, String),
}

/// The names of `scheme`'s `tier` and of `issuer` with its district, or `None` when a code
/// names nothing (a card row always names existing ones: its foreign keys say so).
pub async fn card_names(
    conn: &mut AsyncPgConnection,
    scheme: &str,
    tier: &str,
    issuer: &str,
) -> QueryResult<Option<CardNames>> {
    let scheme_and_tier: Option<(String, String, String, String)> = scheme_tiers::table
        .inner_join(schemes::table)
        .filter(scheme_tiers::scheme.eq(scheme))
        .filter(scheme_tiers::code.eq(tier))
        .select((
            schemes::name,
            schemes::name_en,
            scheme_tiers::name,
            scheme_tiers::name_en,
        ))
        .first(conn)
        .await
        .optional()?;
    let issuer_and_district: Option<(String, String, String, String)> = issuers::table
        .inner_join(districts::table)
        .filter(issuers::code.eq(issuer))
        .select((
            issuers::name,
            issuers::name_en,
            districts::name,
            districts::name_en,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(scheme_and_tier.zip(issuer_and_district).map(
        |(
            (scheme_zh, scheme_en, tier_zh, tier_en),
            (issuer_zh, issuer_en, district_zh, district_en),
        )| {
            CardNames {
                scheme: (scheme_zh, scheme_en),
                tier: (tier_zh, tier_en),
                issuer: (issuer_zh, issuer_en),
                district: (district_zh, district_en),
            }
        },
    ))
}
