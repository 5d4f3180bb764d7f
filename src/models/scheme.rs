//! Schemes, their issuers and tiers, and their versioned rule documents.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{rule_sets, scheme_issuers, scheme_tiers, schemes};

/// A scheme row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schemes)]
pub struct SchemeRow {
    /// e.g. `XIONGAN`.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Working days officials have to decide.
    pub review_days: i32,
}

/// A tier of a scheme.
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = scheme_tiers)]
pub struct Tier {
    /// e.g. `A`.
    #[schema(example = "A")]
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// 1 is the highest.
    pub rank: i32,
    /// How long a card of this tier is valid.
    pub validity_years: i32,
}

/// A stored rule document.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rule_sets)]
pub struct RuleSetRow {
    /// The scheme.
    pub scheme: String,
    /// 1, 2, 3… per scheme.
    pub version: i32,
    /// First day it applies.
    pub effective_from: NaiveDate,
    /// The rules, as published.
    pub document: serde_json::Value,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Who published it (`system` for the shipped defaults).
    pub published_by: String,
}

/// A scheme with its issuers and tiers (highest first).
#[derive(Debug, Clone)]
pub struct Scheme {
    /// The row.
    pub row: SchemeRow,
    /// Issuer codes.
    pub issuers: Vec<String>,
    /// Tiers, highest first.
    pub tiers: Vec<Tier>,
}

impl Scheme {
    /// Tier codes, highest first.
    pub fn tier_codes(&self) -> Vec<&str> {
        self.tiers.iter().map(|t| t.code.as_str()).collect()
    }
}

/// All schemes by code.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Scheme>> {
    let rows: Vec<SchemeRow> = schemes::table
        .select(SchemeRow::as_select())
        .order(schemes::code.asc())
        .load(conn)
        .await?;
    let issuers: Vec<(String, String)> = scheme_issuers::table
        .select((scheme_issuers::scheme, scheme_issuers::issuer))
        .order((scheme_issuers::scheme.asc(), scheme_issuers::issuer.asc()))
        .load(conn)
        .await?;
    let tiers: Vec<(String, Tier)> = scheme_tiers::table
        .select((scheme_tiers::scheme, Tier::as_select()))
        .order((scheme_tiers::scheme.asc(), scheme_tiers::rank.asc()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Scheme {
            issuers: issuers
                .iter()
                .filter(|(s, _)| *s == row.code)
                .map(|(_, i)| i.clone())
                .collect(),
            tiers: tiers
                .iter()
                .filter(|(s, _)| *s == row.code)
                .map(|(_, t)| t.clone())
                .collect(),
            row,
        })
        .collect())
}

/// One scheme by code.
pub async fn find(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<Scheme>> {
    let Some(row) = schemes::table
        .find(code)
        .select(SchemeRow::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let issuers = scheme_issuers::table
        .filter(scheme_issuers::scheme.eq(code))
        .select(scheme_issuers::issuer)
        .order(scheme_issuers::issuer.asc())
        .load(conn)
        .await?;
    let tiers = scheme_tiers::table
        .filter(scheme_tiers::scheme.eq(code))
        .select(Tier::as_select())
        .order(scheme_tiers::rank.asc())
        .load(conn)
        .await?;
    Ok(Some(Scheme {
        row,
        issuers,
        tiers,
    }))
}

/// Every (scheme, tier code) pair, for checking many recognition rules against one read.
pub async fn tier_pairs(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    scheme_tiers::table
        .select((scheme_tiers::scheme, scheme_tiers::code))
        .load(conn)
        .await
}

/// The rule set in force on `on`: the latest version effective by then.
pub async fn rules_in_force(
    conn: &mut AsyncPgConnection,
    code: &str,
    on: NaiveDate,
) -> QueryResult<Option<RuleSetRow>> {
    rule_sets::table
        .filter(rule_sets::scheme.eq(code))
        .filter(rule_sets::effective_from.le(on))
        .order((rule_sets::effective_from.desc(), rule_sets::version.desc()))
        .select(RuleSetRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// One version of a scheme's rules.
pub async fn rules_version(
    conn: &mut AsyncPgConnection,
    code: &str,
    version: i32,
) -> QueryResult<Option<RuleSetRow>> {
    rule_sets::table
        .find((code, version))
        .select(RuleSetRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every version of a scheme's rules, newest first, without their documents' bodies.
pub async fn rules_history(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> QueryResult<Vec<(i32, NaiveDate, DateTime<Utc>)>> {
    rule_sets::table
        .filter(rule_sets::scheme.eq(code))
        .order(rule_sets::version.desc())
        .select((
            rule_sets::version,
            rule_sets::effective_from,
            rule_sets::published_at,
        ))
        .load(conn)
        .await
}

/// Publishes the next version of a scheme's rules (under a lock on the scheme row, so two
/// publications never take the same number) and returns its version.
pub async fn publish_rules(
    conn: &mut AsyncPgConnection,
    code: &str,
    effective_from: NaiveDate,
    document: &serde_json::Value,
    published_by: &str,
) -> QueryResult<i32> {
    conn.transaction(async |c| {
        schemes::table
            .find(code)
            .select(schemes::code)
            .for_update()
            .first::<String>(c)
            .await?;
        let latest: Option<i32> = rule_sets::table
            .filter(rule_sets::scheme.eq(code))
            .select(diesel::dsl::max(rule_sets::version))
            .first(c)
            .await?;
        let version = latest.unwrap_or(0) + 1;
        diesel::insert_into(rule_sets::table)
            .values((
                rule_sets::scheme.eq(code),
                rule_sets::version.eq(version),
                rule_sets::effective_from.eq(effective_from),
                rule_sets::document.eq(document),
                rule_sets::published_by.eq(published_by),
            ))
            .execute(c)
            .await?;
        Ok(version)
    })
    .await
}

/// Creates a scheme with its issuers and tiers (tiers given highest first).
pub async fn insert(conn: &mut AsyncPgConnection, scheme: &Scheme) -> QueryResult<()> {
    diesel::insert_into(schemes::table)
        .values(&scheme.row)
        .execute(conn)
        .await?;
    for issuer in &scheme.issuers {
        diesel::insert_into(scheme_issuers::table)
            .values((
                scheme_issuers::scheme.eq(&scheme.row.code),
                scheme_issuers::issuer.eq(issuer),
            ))
            .execute(conn)
            .await?;
    }
    for tier in &scheme.tiers {
        diesel::insert_into(scheme_tiers::table)
            .values((
                scheme_tiers::scheme.eq(&scheme.row.code),
                scheme_tiers::code.eq(&tier.code),
                scheme_tiers::name.eq(&tier.name),
                scheme_tiers::name_en.eq(&tier.name_en),
                scheme_tiers::rank.eq(tier.rank),
                scheme_tiers::validity_years.eq(tier.validity_years),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}
