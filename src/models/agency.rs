//! Partner agencies and their API clients.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{agencies, agency_clients};

/// A partner agency: where it is and which services it offers.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, Insertable, ToSchema)]
#[diesel(table_name = agencies)]
pub struct Agency {
    /// UUID v7.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// District code.
    pub district: String,
    /// Service category codes it offers.
    pub services: Vec<String>,
}

/// Creates an agency.
pub async fn insert(conn: &mut AsyncPgConnection, agency: &Agency) -> QueryResult<Agency> {
    diesel::insert_into(agencies::table)
        .values(agency)
        .returning(Agency::as_returning())
        .get_result(conn)
        .await
}

/// An agency by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Agency>> {
    agencies::table
        .find(id)
        .select(Agency::as_select())
        .first(conn)
        .await
        .optional()
}

/// All agencies, newest last.
pub async fn list(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Agency>> {
    let query = agencies::table.into_boxed();
    let query = match after {
        Some(id) => query.filter(agencies::id.gt(id)),
        None => query,
    };
    query
        .select(Agency::as_select())
        .order(agencies::id.asc())
        .limit(limit)
        .load(conn)
        .await
}

/// Adds an API client with the hash of its secret.
pub async fn insert_client(
    conn: &mut AsyncPgConnection,
    agency_id: Uuid,
    client_id: Uuid,
    secret_hash: &str,
) -> QueryResult<()> {
    diesel::insert_into(agency_clients::table)
        .values((
            agency_clients::id.eq(client_id),
            agency_clients::agency_id.eq(agency_id),
            agency_clients::secret_hash.eq(secret_hash),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Revokes a client of an agency; returns whether one was live.
pub async fn revoke_client(
    conn: &mut AsyncPgConnection,
    agency_id: Uuid,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        agency_clients::table
            .find(client_id)
            .filter(agency_clients::agency_id.eq(agency_id))
            .filter(agency_clients::revoked_at.is_null()),
    )
    .set(agency_clients::revoked_at.eq(now))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// A live client with its agency and the hash of its secret.
pub async fn live_client(
    conn: &mut AsyncPgConnection,
    client_id: Uuid,
) -> QueryResult<Option<(Agency, String)>> {
    agency_clients::table
        .inner_join(agencies::table)
        .filter(agency_clients::id.eq(client_id))
        .filter(agency_clients::revoked_at.is_null())
        .select((Agency::as_select(), agency_clients::secret_hash))
        .first(conn)
        .await
        .optional()
}

/// Every live client with its agency: what `state::directory` keeps in memory.
pub async fn live_clients(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(Uuid, Agency)>> {
    agency_clients::table
        .inner_join(agencies::table)
        .filter(agency_clients::revoked_at.is_null())
        .select((agency_clients::id, Agency::as_select()))
        .load(conn)
        .await
}
