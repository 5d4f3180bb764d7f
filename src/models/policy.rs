//! Recognition and entitlement rules as immutable, effective-dated versions.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::de::DeserializeOwned;

use crate::db::schema::policy_documents;
use crate::domain::recognition::{EntitlementRule, RecognitionRule};

/// Which kind of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Mutual recognition.
    Recognitions,
    /// Entitlements.
    Entitlements,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Recognitions => "recognitions",
            Kind::Entitlements => "entitlements",
        }
    }
}

/// A version of rules in force.
#[derive(Debug, Clone)]
pub struct InForce<T> {
    /// The version.
    pub version: i32,
    /// Since when.
    pub effective_from: NaiveDate,
    /// The rules.
    pub rules: Vec<T>,
}

#[derive(serde::Deserialize)]
struct Document<T> {
    rules: Vec<T>,
}

async fn in_force<T: DeserializeOwned>(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    on: NaiveDate,
) -> QueryResult<Option<InForce<T>>> {
    let row: Option<(i32, NaiveDate, serde_json::Value)> = policy_documents::table
        .filter(policy_documents::kind.eq(kind.as_str()))
        .filter(policy_documents::effective_from.le(on))
        .order((
            policy_documents::effective_from.desc(),
            policy_documents::version.desc(),
        ))
        .select((
            policy_documents::version,
            policy_documents::effective_from,
            policy_documents::document,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.and_then(|(version, effective_from, document)| {
        let document: Document<T> = serde_json::from_value(document).ok()?;
        Some(InForce {
            version,
            effective_from,
            rules: document.rules,
        })
    }))
}

/// The recognition rules in force on `on`.
pub async fn recognitions(
    conn: &mut AsyncPgConnection,
    on: NaiveDate,
) -> QueryResult<Option<InForce<RecognitionRule>>> {
    in_force(conn, Kind::Recognitions, on).await
}

/// The entitlement rules in force on `on`.
pub async fn entitlements(
    conn: &mut AsyncPgConnection,
    on: NaiveDate,
) -> QueryResult<Option<InForce<EntitlementRule>>> {
    in_force(conn, Kind::Entitlements, on).await
}

/// Whether any version of `kind` exists.
pub async fn exists(conn: &mut AsyncPgConnection, kind: Kind) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        policy_documents::table.filter(policy_documents::kind.eq(kind.as_str())),
    ))
    .get_result(conn)
    .await
}

/// Publishes the next version of `kind` and returns its number.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    effective_from: NaiveDate,
    document: &serde_json::Value,
    published_by: &str,
) -> QueryResult<i32> {
    conn.transaction(async |c| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('policy_documents'))")
            .execute(c)
            .await?;
        let latest: Option<i32> = policy_documents::table
            .filter(policy_documents::kind.eq(kind.as_str()))
            .select(diesel::dsl::max(policy_documents::version))
            .first(c)
            .await?;
        let version = latest.unwrap_or(0) + 1;
        diesel::insert_into(policy_documents::table)
            .values((
                policy_documents::kind.eq(kind.as_str()),
                policy_documents::version.eq(version),
                policy_documents::effective_from.eq(effective_from),
                policy_documents::document.eq(document),
                policy_documents::published_by.eq(published_by),
            ))
            .execute(c)
            .await?;
        Ok(version)
    })
    .await
}

/// The versions in force on `on`, `(recognitions, entitlements)`, in one statement: what the
/// policy cache compares its copy against when no other query brings them along.
pub async fn versions_in_force(
    conn: &mut AsyncPgConnection,
    on: NaiveDate,
) -> QueryResult<(Option<i32>, Option<i32>)> {
    let newest = |kind: Kind| {
        policy_documents::table
            .filter(policy_documents::kind.eq(kind.as_str()))
            .filter(policy_documents::effective_from.le(on))
            .order((
                policy_documents::effective_from.desc(),
                policy_documents::version.desc(),
            ))
            .select(policy_documents::version)
            .limit(1)
            .single_value()
    };
    diesel::select((newest(Kind::Recognitions), newest(Kind::Entitlements)))
        .get_result(conn)
        .await
}
