//! Reading the audit log, newest first, filtered.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::audit_log;

/// One audit row as shown to administrators.
#[derive(Debug, Serialize, Queryable, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (`account:<id>`, `cli`, `system`, `anonymous`).
    pub actor: String,
    /// What, e.g. `login.failed`.
    pub action: String,
    /// The kind of thing.
    pub entity_type: String,
    /// Which one.
    pub entity_id: Option<String>,
    /// What changed (never secrets or ID numbers).
    pub detail: serde_json::Value,
}

/// Filters on the audit log; all optional.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Exact action.
    pub action: Option<String>,
    /// Exact actor.
    pub actor: Option<String>,
    /// Exact entity type.
    pub entity_type: Option<String>,
    /// Exact entity id.
    pub entity_id: Option<String>,
}

/// Up to `limit` rows older than `before` (a seq), newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .select((
            audit_log::seq,
            audit_log::occurred_at,
            audit_log::actor,
            audit_log::action,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::detail,
        ))
        .order(audit_log::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::seq.lt(before));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::actor.eq(actor));
    }
    if let Some(entity_type) = &filter.entity_type {
        query = query.filter(audit_log::entity_type.eq(entity_type));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(entity_id));
    }
    query.load(conn).await
}
