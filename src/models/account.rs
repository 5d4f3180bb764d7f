//! Accounts of every role.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::db::schema::accounts;
use crate::domain::email::Email;

/// What an account may do; stored as text, checked by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A person applying for and holding cards.
    Talent,
    /// A reviewer of one issuing authority.
    Official,
    /// A partner agency's system.
    Agency,
    /// A platform administrator.
    Admin,
}

impl Role {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Talent => "talent",
            Role::Official => "official",
            Role::Agency => "agency",
            Role::Admin => "admin",
        }
    }
}

/// A stored account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    /// UUID v7.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Display name.
    pub full_name: String,
    /// Role name.
    pub role: String,
    /// The issuer, for officials.
    pub issuer: Option<String>,
    /// Set when an administrator disabled the account.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// An account to create; the password is already hashed.
#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// Normalised email.
    pub email: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Display name.
    pub full_name: &'a str,
    /// Role name.
    pub role: &'a str,
    /// The issuer, for officials.
    pub issuer: Option<&'a str>,
}

/// Finds an account by its normalised email.
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &Email,
) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email.as_str()))
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Creates an account and records `account.created` in the same transaction. A taken email is
/// a `UniqueViolation`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    new: NewAccount<'_>,
    actor: Actor,
) -> QueryResult<Account> {
    conn.transaction(async |conn| {
        let account: Account = diesel::insert_into(accounts::table)
            .values(&new)
            .returning(Account::as_returning())
            .get_result(conn)
            .await?;
        let event = AuditEvent {
            actor,
            action: "account.created",
            entity_type: "account",
            entity_id: Some(account.id.to_string()),
            detail: serde_json::json!({ "role": account.role, "issuer": account.issuer }),
        };
        audit::record(conn, &event).await?;
        Ok(account)
    })
    .await
}
