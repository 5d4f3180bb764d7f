//! Regions, districts, issuers and service categories: the reference data every rule, agency
//! and account names by code. Handlers ask here whether a code exists rather than querying the
//! tables themselves.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{districts, issuers, regions, service_categories};

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
